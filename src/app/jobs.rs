//! The one helper for work off the UI thread: file dialogs, reading and
//! writing files, loading a dataset, the frozen-vs-learning experiment, the
//! confusion matrix, the finite-difference check. Each kind of work has a
//! [`Jobs`] mailbox; [`Jobs::spawn`] runs a task on a named thread that
//! speaks the app's language (messages worded there come out right), sends
//! its results back, and asks the window to repaint; the app polls every
//! mailbox once per frame, whatever tab is open. A panic in a task becomes
//! one more message, never a dead window.
//!
//! The browser has no threads: there a task runs on the page's own thread
//! right after the frame that started it, and a long one is written as
//! steps ([`Jobs::spawn_steps`]) that run a few milliseconds at a time
//! between frames, so the page keeps drawing.
//!
//! Training is not a job: it has its own long-lived worker (`worker.rs`).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;

/// Asks the window for a new frame (a no-op in tests, which poll).
pub type Repaint = Arc<dyn Fn() + Send + Sync>;

/// A task's way back to the UI: each `send` is followed by a repaint.
pub struct Outbox<E> {
    tx: Sender<E>,
    repaint: Repaint,
}

impl<E> Clone for Outbox<E> {
    fn clone(&self) -> Self {
        Outbox {
            tx: self.tx.clone(),
            repaint: self.repaint.clone(),
        }
    }
}

impl<E> Outbox<E> {
    /// Sends `event` to the UI; false once the app is gone.
    pub fn send(&self, event: E) -> bool {
        let sent = self.tx.send(event).is_ok();
        (self.repaint)();
        sent
    }
}

/// A mailbox for one kind of background work and the tasks feeding it.
pub struct Jobs<E> {
    outbox: Outbox<E>,
    rx: Receiver<E>,
    running: Arc<AtomicUsize>,
    /// The event a panicking task is reported as.
    on_panic: fn(String) -> E,
}

impl<E: Send + 'static> Jobs<E> {
    pub fn new(repaint: Repaint, on_panic: fn(String) -> E) -> Jobs<E> {
        let (tx, rx) = channel();
        Jobs {
            outbox: Outbox { tx, repaint },
            rx,
            running: Arc::new(AtomicUsize::new(0)),
            on_panic,
        }
    }

    /// Runs `task` on a thread called `name`, in the current thread's
    /// language. If the thread cannot even start, the failure arrives as
    /// the panic event does.
    pub fn spawn(&self, name: &str, task: impl FnOnce(&Outbox<E>) + Send + 'static) {
        let outbox = self.outbox.clone();
        let running = self.running.clone();
        let on_panic = self.on_panic;
        let lang = crate::i18n::language();
        running.fetch_add(1, Ordering::SeqCst);
        let work = move || {
            crate::i18n::set_language(lang);
            let result = catch_unwind(AssertUnwindSafe(|| task(&outbox)));
            running.fetch_sub(1, Ordering::SeqCst);
            if let Err(panic) = result {
                outbox.send(on_panic(panic_text(&panic)));
            } else {
                (outbox.repaint)();
            }
        };
        #[cfg(not(target_arch = "wasm32"))]
        if let Err(e) = std::thread::Builder::new().name(name.into()).spawn(work) {
            self.running.fetch_sub(1, Ordering::SeqCst);
            let _ = self.outbox.tx.send((self.on_panic)(e.to_string()));
        }
        #[cfg(target_arch = "wasm32")]
        {
            let _ = name;
            wasm_bindgen_futures::spawn_local(async move {
                // Let the frame that asked finish drawing ("working…") first.
                crate::platform::next_tick().await;
                work();
            });
        }
    }

    /// Runs a long task as steps: `step` does a small piece of work (a
    /// batch, say) and says whether there is more. On the desktop the steps
    /// run back to back on their own thread; in the browser they run for a
    /// few milliseconds at a time between frames.
    pub fn spawn_steps<S: Send + 'static>(
        &self,
        name: &str,
        mut state: S,
        mut step: impl FnMut(&mut S, &Outbox<E>) -> bool + Send + 'static,
    ) {
        #[cfg(not(target_arch = "wasm32"))]
        self.spawn(name, move |out| while step(&mut state, out) {});
        #[cfg(target_arch = "wasm32")]
        {
            let _ = name;
            let outbox = self.outbox.clone();
            let running = self.running.clone();
            running.fetch_add(1, Ordering::SeqCst);
            wasm_bindgen_futures::spawn_local(async move {
                loop {
                    crate::platform::next_tick().await;
                    let slice = web_time::Instant::now();
                    while slice.elapsed() < crate::platform::SLICE {
                        if !step(&mut state, &outbox) {
                            running.fetch_sub(1, Ordering::SeqCst);
                            (outbox.repaint)();
                            return;
                        }
                    }
                }
            });
        }
    }

    /// The next result, without waiting.
    pub fn poll(&self) -> Option<E> {
        self.rx.try_recv().ok()
    }

    /// Tasks started and not finished.
    pub fn running(&self) -> usize {
        self.running.load(Ordering::SeqCst)
    }

    /// Somewhere to send results from outside a task (an eframe callback).
    pub fn outbox(&self) -> Outbox<E> {
        self.outbox.clone()
    }
}

/// A panic's message, whatever its payload.
pub fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait<E: Send + 'static>(jobs: &Jobs<E>) -> E {
        let start = std::time::Instant::now();
        loop {
            if let Some(e) = jobs.poll() {
                return e;
            }
            assert!(start.elapsed().as_secs() < 10, "no event");
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }

    #[test]
    fn results_arrive_with_a_repaint_and_panics_become_events() {
        let repaints = Arc::new(AtomicUsize::new(0));
        let counter = repaints.clone();
        let jobs: Jobs<Result<u32, String>> = Jobs::new(
            Arc::new(move || {
                counter.fetch_add(1, Ordering::SeqCst);
            }),
            Err,
        );
        jobs.spawn("adder", |out| {
            out.send(Ok(2 + 2));
        });
        assert_eq!(wait(&jobs), Ok(4));
        assert!(repaints.load(Ordering::SeqCst) >= 1);
        jobs.spawn("crasher", |_| panic!("boom"));
        assert_eq!(wait(&jobs), Err("boom".into()));
        let start = std::time::Instant::now();
        while jobs.running() > 0 {
            assert!(start.elapsed().as_secs() < 10);
            std::thread::yield_now();
        }
    }

    #[test]
    fn tasks_speak_the_callers_language() {
        let jobs: Jobs<crate::i18n::Lang> = Jobs::new(Arc::new(|| {}), |_| crate::i18n::Lang::En);
        crate::i18n::set_language(crate::i18n::Lang::Ru);
        jobs.spawn("lang", |out| {
            out.send(crate::i18n::language());
        });
        crate::i18n::set_language(crate::i18n::Lang::En);
        assert_eq!(wait(&jobs), crate::i18n::Lang::Ru);
    }
}
