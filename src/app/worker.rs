//! The training worker: a named thread that owns the network, the trainer
//! and the datasets, takes `Request`s and sends `Event`s (snapshots of the
//! trace, losses, epoch results), then asks egui for a repaint. The UI never
//! computes a gradient; it only reads what arrives here.
//!
//! In the browser there are no threads: the same state takes each command
//! as it is sent, and a run trains in time slices of a few milliseconds per
//! frame ([`Worker::pump`]), so the page keeps drawing at 60 fps.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::time::Duration;
use web_time::Instant;

use crate::data::dataset::Mnist;
use crate::engine::limits::Plan;
use crate::engine::network::Network;
use crate::engine::optim::Optimizer;
use crate::engine::stepper::{Phase, Stepper};
use crate::engine::trace::Trace;
use crate::engine::Tensor;
use crate::io::session::{Session, SessionSettings};
use crate::training::{evaluate, predictions, Trainer};

pub use crate::training::TrainConfig;

/// Continuous training speed: batches per second, or as fast as possible.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Speed {
    PerSecond(f32),
    Max,
}

pub enum Request {
    /// Run the next phase of the current batch (starting a batch if needed).
    StepPhase,
    /// Finish the current batch (or run a whole new one).
    StepBatch,
    Run,
    Pause,
    SetSpeed(Speed),
    /// Start again from the configuration's seed (a built network, e.g. a
    /// loaded model, replaces the preset's initial weights).
    Reset(TrainConfig, Option<Network>),
    SetLr(f32),
    SetFreeze(bool),
    /// New datasets (the old ones stay until this arrives).
    SetData(Arc<Mnist>),
    /// One backpropagation step on a drawing with its correct label; step
    /// through it like any batch.
    Teach {
        pixels: Vec<f32>,
        label: u8,
    },
    /// Go back one step in time (a phase, or a batch while running).
    Back,
    /// Go forward one step: redo what Back undid, else step a phase.
    Forward,
    /// Move to just after this phase of the current batch: back through the
    /// history if it is behind us, else forward phase by phase (starting the
    /// next batch if this one is finished).
    GoTo(Phase),
    /// Send the state a saved session needs (the plots are the UI's).
    Checkout(Sender<Session>),
    /// Continue from a saved session; the history of steps starts afresh.
    Resume(Box<Session>),
    /// A deliberate mistake in the backward pass from the next phase on
    /// (find the bug), or none.
    SetTamper(Option<crate::engine::stepper::Tamper>),
    /// Replay a shared moment: this many whole batches, then (if given)
    /// the next batch up to the phase. Trained batch by batch like a run;
    /// any command that changes training (Reset, a step, Pause, another
    /// replay) stops it where it is.
    Replay {
        batches: u64,
        phase: Option<Phase>,
        /// The moment's batch is a drawing taught (pixels, label) in place
        /// of MNIST's next batch.
        teach: Option<(Vec<f32>, u8)>,
    },
}

impl Request {
    /// Whether this command stops a replay under way: all but those that
    /// only look (a session's checkout) or set the pace of a later run.
    fn stops_replay(&self) -> bool {
        !matches!(self, Request::Checkout(_) | Request::SetSpeed(_))
    }
}

/// A replay under way: batches done of the total, and the phase it ends on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Replay {
    pub done: u64,
    pub total: u64,
    pub phase: Option<Phase>,
}

/// A drawing being taught, as a link replays it: after how many updates of
/// ordinary training it began, and what it is.
#[derive(Debug, Clone, PartialEq)]
pub struct TaughtStep {
    pub after: u64,
    pub label: u8,
    pub pixels: Arc<Vec<f32>>,
}

/// Where training stands, as one consistent picture.
#[derive(Clone)]
pub struct Snapshot {
    pub trace: Trace,
    pub last: Option<Phase>,
    pub next: Phase,
    /// Batches started since the reset.
    pub batches: u64,
    pub epoch: usize,
    /// Samples of this epoch used so far.
    pub position: usize,
    pub epoch_len: usize,
    pub running: bool,
    /// The current batch is a drawing being taught.
    pub teaching: bool,
    /// That drawing, and where it began (while teaching).
    pub taught: Option<TaughtStep>,
    /// The weights hold a taught drawing's update: no link replays them.
    pub off_link: bool,
    /// Where a drawing taught now would begin (`None`: off any link).
    pub teach_after: Option<u64>,
    /// The network as it is now (after any update), for classifying drawings.
    pub network: Network,
    pub lr: f32,
    pub optimizer: crate::engine::optim::OptimizerKind,
    pub freeze_conv: bool,
    /// Steps that Back can undo, and that Forward can redo.
    pub back_steps: usize,
    pub forward_steps: usize,
    /// A link's replay under way.
    pub replay: Option<Replay>,
}

/// One finished batch, for the plots.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchDone {
    pub batch: u64,
    pub loss: f32,
    /// Share of the batch's samples the network got right (before the
    /// update).
    pub accuracy: f32,
    /// Where training stands, in epochs (2.5 = half way through the third).
    pub epochs: f64,
    /// Each conv layer's filters after the update and the dF they moved
    /// by (the filters' sparklines).
    pub filters: Option<Arc<Vec<crate::app::state::ConvState>>>,
}

pub enum Event {
    Snapshot(Box<Snapshot>),
    /// The batches finished since the last event.
    Batches(Vec<BatchDone>),
    Epoch {
        epoch: usize,
        train_accuracy: f32,
        test_accuracy: f32,
    },
    /// Training stopped: the loss at this batch is too large or not a number.
    Diverged {
        loss: f32,
        batch: u64,
        lr: f32,
    },
    /// A Reset or a new network was refused (its batch does not fit the
    /// memory limit); training stays as it was.
    Refused(crate::engine::EngineError),
    /// Something went wrong in the worker (even a panic: its message); the
    /// worker keeps running.
    Failed(String),
    /// A replay was stopped before its moment (by Reset, Escape, a new
    /// link or a step): batches done of the total.
    ReplayStopped {
        done: u64,
        total: u64,
    },
    /// All commands up to this sequence number have been handled.
    Idle(u64),
}

/// The UI's handle on the worker thread. Dropping it stops and joins it.
pub struct Worker {
    pub events: Receiver<Event>,
    sent: u64,
    #[cfg(not(target_arch = "wasm32"))]
    tx: Option<Sender<(u64, Request)>>,
    #[cfg(not(target_arch = "wasm32"))]
    handle: Option<std::thread::JoinHandle<()>>,
    /// In the browser: the state itself, driven from the frame.
    #[cfg(target_arch = "wasm32")]
    inline: Inline,
}

/// The worker without a thread (the browser).
#[cfg(target_arch = "wasm32")]
struct Inline {
    state: WorkerState,
    etx: Sender<Event>,
    repaint: Box<dyn Fn()>,
    handled: u64,
    /// When the next batch is due at a set speed.
    due: Instant,
}

impl Worker {
    /// Starts the thread; `repaint` is called after every event.
    pub fn spawn(
        config: TrainConfig,
        network: Option<Network>,
        data: Arc<Mnist>,
        repaint: impl Fn() + Send + 'static,
    ) -> Worker {
        let (etx, events) = channel();
        #[cfg(not(target_arch = "wasm32"))]
        {
            let (tx, rx) = channel::<(u64, Request)>();
            let handle = std::thread::Builder::new()
                .name("training".into())
                .spawn(move || {
                    let mut state = WorkerState::new(config, network, data);
                    state.publish(&etx);
                    repaint();
                    state.run(rx, etx, repaint);
                })
                .expect("the training thread starts");
            Worker {
                tx: Some(tx),
                events,
                sent: 0,
                handle: Some(handle),
            }
        }
        #[cfg(target_arch = "wasm32")]
        {
            let mut state = WorkerState::new(config, network, data);
            state.publish(&etx);
            repaint();
            Worker {
                events,
                sent: 0,
                inline: Inline {
                    state,
                    etx,
                    repaint: Box::new(repaint),
                    handled: 0,
                    due: Instant::now(),
                },
            }
        }
    }

    pub fn send(&mut self, command: Request) {
        self.sent += 1;
        #[cfg(not(target_arch = "wasm32"))]
        if let Some(tx) = &self.tx {
            // A send fails only if the worker thread is gone; `Failed` said why.
            let _ = tx.send((self.sent, command));
        }
        #[cfg(target_arch = "wasm32")]
        {
            let w = &mut self.inline;
            w.state.apply(self.sent, command, &w.etx, &mut w.handled);
            w.due = Instant::now();
            if !w.state.busy() {
                let _ = w.etx.send(Event::Idle(w.handled));
            }
            (w.repaint)();
        }
    }

    /// Trains for one time slice while running (the browser's worker; on
    /// the desktop the thread does this by itself).
    pub fn pump(&mut self) {
        #[cfg(target_arch = "wasm32")]
        {
            let w = &mut self.inline;
            if !w.state.busy() {
                return;
            }
            let slice = Instant::now();
            while w.state.busy() && slice.elapsed() < crate::platform::SLICE {
                if w.state.replay.is_some() {
                    let etx = &w.etx;
                    w.state.guarded(etx, |state| state.replay_one_batch(etx));
                    continue;
                }
                if let Speed::PerSecond(rate) = w.state.speed {
                    if Instant::now() < w.due {
                        break;
                    }
                    let period = Duration::from_secs_f32(1.0 / rate.max(0.01));
                    w.due = w.due.max(Instant::now() - period) + period;
                }
                let etx = &w.etx;
                w.state.guarded(etx, |state| state.train_one_batch(etx));
            }
            if w.state.last_publish.elapsed() >= PUBLISH_EVERY || !w.state.busy() {
                w.state.publish(&w.etx);
            }
            if !w.state.busy() {
                let _ = w.etx.send(Event::Idle(w.handled));
            }
            (w.repaint)();
        }
    }

    /// Sequence number of the last command sent.
    pub fn sent(&self) -> u64 {
        self.sent
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl Drop for Worker {
    fn drop(&mut self) {
        self.tx = None; // closes the channel: the worker's loop ends
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

/// A moment of training, restorable: the trainer (network, optimizer state,
/// trace, position) and the bookkeeping that goes with it.
#[derive(Clone)]
struct Checkpoint {
    trainer: Trainer,
    teaching: bool,
    taught: Option<TaughtStep>,
    off_link: bool,
    epoch_correct: usize,
    epoch_seen: usize,
}

/// How many past steps Back can reach. Each is a copy of the network's
/// gradients and the optimizer's state (weights are shared until they
/// change) and the step's trace: ~0.1 MB for `seed`, ~1 MB for `lenet`,
/// ~3 MB for the shipped model. Larger networks keep fewer (see
/// [`history_steps`]).
pub const HISTORY_STEPS: usize = 64;

/// All the memory the app's training may hold, in bytes: the step being
/// computed, the history Back reaches, and the snapshots on their way to
/// the window. A batch that cannot fit with one step of history is
/// refused (a link, a session, a Reset); the history takes what is left.
pub const APP_MEMORY: u64 = 1 << 30;

/// The largest batch the app trains (the toolbar's field and links).
pub const APP_MAX_BATCH: usize = 512;

/// The bytes of one trace of a batch: the input and every layer's output
/// and delta.
fn trace_bytes(plan: &Plan, batch: usize) -> u64 {
    (plan.activations.saturating_mul(2))
        .saturating_add(INPUT_VALUES)
        .saturating_mul(batch as u64)
        .saturating_mul(4)
}

const INPUT_VALUES: u64 = 28 * 28;

/// One step of history: a trace and four copies of the parameters
/// (gradient, two optimizer moments and the weights an update replaces).
fn history_step_bytes(plan: &Plan, batch: usize) -> u64 {
    trace_bytes(plan, batch)
        .saturating_add(plan.parameters.saturating_mul(16))
        .max(1)
}

/// What a batch costs besides its history: the step itself and two
/// snapshots (one in the window, one on its way).
fn held_bytes(plan: &Plan, batch: usize) -> u64 {
    plan.step_bytes(batch)
        .unwrap_or(u64::MAX)
        .saturating_add(trace_bytes(plan, batch).saturating_mul(2))
}

fn app_fits(plan: &Plan, batch: usize) -> bool {
    held_bytes(plan, batch).saturating_add(history_step_bytes(plan, batch)) <= APP_MEMORY
}

/// The largest batch the app trains this network with (0 when none fits).
pub fn app_batch_limit(plan: &Plan) -> usize {
    (1..=APP_MAX_BATCH)
        .rev()
        .find(|&b| app_fits(plan, b))
        .unwrap_or(0)
}

/// Refuses a batch the app cannot hold in memory with one step of history
/// (and any the engine refuses), naming the largest that fits.
pub fn check_app_batch(plan: &Plan, batch: usize) -> Result<(), crate::engine::EngineError> {
    plan.check_batch(batch)?;
    if app_fits(plan, batch) {
        return Ok(());
    }
    Err(crate::engine::EngineError::BatchTooLarge {
        batch,
        bytes: Some(held_bytes(plan, batch).saturating_add(history_step_bytes(plan, batch))),
        limit: APP_MEMORY,
        largest: app_batch_limit(plan),
    })
}

/// How many steps the history keeps for this network and batch: what is
/// left of [`APP_MEMORY`] after the step and its snapshots, at most
/// [`HISTORY_STEPS`], at least 1.
pub fn history_steps(net: &Network, batch: usize) -> usize {
    let plan = &net.plan;
    let room = APP_MEMORY.saturating_sub(held_bytes(plan, batch));
    usize::try_from(room / history_step_bytes(plan, batch))
        .unwrap_or(usize::MAX)
        .clamp(1, HISTORY_STEPS)
}

struct WorkerState {
    config: TrainConfig,
    /// Past moments, oldest first; and moments stepped back from, newest last.
    past: std::collections::VecDeque<Checkpoint>,
    future: Vec<Checkpoint>,
    /// How many past moments are kept (fewer for large networks).
    history_limit: usize,
    data: Arc<Mnist>,
    trainer: Trainer,
    running: bool,
    speed: Speed,
    teaching: bool,
    taught: Option<TaughtStep>,
    off_link: bool,
    /// The drawing a replay teaches once its batches are done.
    replay_teach: Option<(Vec<f32>, u8)>,
    /// Correct predictions and samples in this epoch (for train accuracy).
    epoch_correct: usize,
    epoch_seen: usize,
    pending: Vec<BatchDone>,
    last_publish: Instant,
    /// The teacher's deliberate mistake, kept across resets.
    tamper: Option<crate::engine::stepper::Tamper>,
    replay: Option<Replay>,
}

/// A loss this large means p(label) ≈ e^−20: the logits are tens of units
/// wrong and the updates overshoot instead of descending. An untrained
/// network starts near ln 10 ≈ 2.3 and training only lowers it; learning
/// rate 10 sends it to 24 (SGD) or 10⁵ (Adam) within two batches.
const DIVERGED_LOSS: f32 = 20.0;

/// While running, snapshots go out at most this often (the UI shows ~60 fps;
/// more would only copy traces nobody sees).
const PUBLISH_EVERY: Duration = Duration::from_millis(30);

/// The network a configuration starts from: the one given, else its
/// preset's (a JSON preset that no longer builds falls back to `seed`).
fn network_for(config: &TrainConfig, network: Option<Network>) -> Network {
    network.unwrap_or_else(|| {
        crate::presets::network_from_preset(&config.preset, config.seed).unwrap_or_else(|_| {
            Network::preset("seed", config.seed).expect("the seed preset builds")
        })
    })
}

fn build_trainer(config: &TrainConfig, network: Option<Network>, data: &Arc<Mnist>) -> Trainer {
    let network = network_for(config, network);
    let mut stepper = Stepper::new(network, Optimizer::new(config.optimizer, config.lr));
    stepper.record = true;
    stepper.freeze_conv = config.freeze_conv;
    Trainer::new(
        stepper,
        Arc::new(data.train.clone()),
        config.batch,
        config.seed,
    )
}

impl WorkerState {
    fn new(config: TrainConfig, network: Option<Network>, data: Arc<Mnist>) -> WorkerState {
        let mut trainer = build_trainer(&config, network, &data);
        // Show the first batch, untouched, from the start.
        trainer.begin_batch();
        WorkerState {
            history_limit: history_steps(&trainer.stepper.network, config.batch),
            config,
            past: std::collections::VecDeque::new(),
            future: Vec::new(),
            data,
            trainer,
            running: false,
            speed: Speed::Max,
            teaching: false,
            taught: None,
            off_link: false,
            replay_teach: None,
            epoch_correct: 0,
            epoch_seen: 0,
            pending: Vec::new(),
            last_publish: Instant::now(),
            tamper: None,
            replay: None,
        }
    }

    /// Handles one command (sequence number `seq`) and shows its effect.
    fn apply(&mut self, seq: u64, command: Request, etx: &Sender<Event>, handled: &mut u64) {
        if command.stops_replay() {
            if let Some(r) = self.replay.take() {
                let _ = etx.send(Event::ReplayStopped {
                    done: r.done,
                    total: r.total,
                });
            }
        }
        self.guarded(etx, |state| state.handle(command, etx));
        *handled = seq;
        self.publish(etx);
    }

    /// Training on its own: a run, or a replay.
    fn busy(&self) -> bool {
        self.running || self.replay.is_some()
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn run(&mut self, rx: Receiver<(u64, Request)>, etx: Sender<Event>, repaint: impl Fn()) {
        use std::sync::mpsc::{RecvTimeoutError, TryRecvError};
        let mut handled = 0u64;
        loop {
            let next = if self.busy() {
                match rx.try_recv() {
                    Ok(c) => Some(c),
                    Err(TryRecvError::Empty) => None,
                    Err(TryRecvError::Disconnected) => return,
                }
            } else {
                match rx.recv_timeout(Duration::from_millis(200)) {
                    Ok(c) => Some(c),
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            };
            if let Some((seq, command)) = next {
                self.apply(seq, command, &etx, &mut handled);
            }
            if self.replay.is_some() {
                self.guarded(&etx, |state| state.replay_one_batch(&etx));
                if self.last_publish.elapsed() >= PUBLISH_EVERY || self.replay.is_none() {
                    self.publish(&etx);
                    repaint();
                }
            } else if self.running {
                let started = Instant::now();
                self.guarded(&etx, |state| state.train_one_batch(&etx));
                if self.last_publish.elapsed() >= PUBLISH_EVERY || !self.running {
                    self.publish(&etx);
                    repaint();
                }
                if let Speed::PerSecond(rate) = self.speed {
                    let period = Duration::from_secs_f32(1.0 / rate.max(0.01));
                    if let Some(rest) = period.checked_sub(started.elapsed()) {
                        // Wait out the rest of the period, but answer a
                        // command (Pause) as soon as it comes.
                        if let Ok((seq, command)) = rx.recv_timeout(rest) {
                            self.apply(seq, command, &etx, &mut handled);
                        }
                    }
                }
            }
            if !self.busy() {
                let _ = etx.send(Event::Idle(handled));
                repaint();
            }
        }
    }

    /// Runs `work`; a panic inside it becomes a `Failed` event and a pause,
    /// never a dead thread or a crashed window.
    fn guarded(&mut self, etx: &Sender<Event>, work: impl FnOnce(&mut Self)) {
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| work(self))) {
            self.running = false;
            self.replay = None;
            let _ = etx.send(Event::Failed(super::jobs::panic_text(&panic)));
        }
    }

    fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            trainer: self.trainer.clone(),
            teaching: self.teaching,
            taught: self.taught.clone(),
            off_link: self.off_link,
            epoch_correct: self.epoch_correct,
            epoch_seen: self.epoch_seen,
        }
    }

    fn restore(&mut self, c: Checkpoint) {
        self.trainer = c.trainer;
        self.teaching = c.teaching;
        self.taught = c.taught;
        self.off_link = c.off_link;
        self.epoch_correct = c.epoch_correct;
        self.epoch_seen = c.epoch_seen;
    }

    /// Records the present before a step changes it; a new step also
    /// forgets the moments stepped back from.
    fn remember(&mut self) {
        while self.past.len() >= self.history_limit {
            self.past.pop_front();
        }
        let now = self.checkpoint();
        self.past.push_back(now);
        self.future.clear();
    }

    fn handle(&mut self, command: Request, etx: &Sender<Event>) {
        if matches!(
            command,
            Request::StepPhase | Request::StepBatch | Request::Teach { .. }
        ) {
            self.remember();
        }
        match command {
            Request::Back => {
                if let Some(previous) = self.past.pop_back() {
                    let now = self.checkpoint();
                    self.future.push(now);
                    self.restore(previous);
                }
            }
            Request::Forward => {
                if let Some(next) = self.future.pop() {
                    let now = self.checkpoint();
                    self.past.push_back(now);
                    self.restore(next);
                } else {
                    self.handle(Request::StepPhase, etx);
                }
            }
            Request::StepPhase => {
                if self.trainer.stepper.next_phase() == Phase::Done {
                    self.start_batch();
                }
                self.trainer.stepper.step();
                if self.trainer.stepper.next_phase() == Phase::Done {
                    self.batch_finished(etx);
                }
            }
            Request::StepBatch => {
                if self.trainer.stepper.next_phase() == Phase::Done {
                    self.start_batch();
                }
                self.trainer.stepper.finish();
                self.batch_finished(etx);
            }
            Request::Run => self.running = true,
            Request::Pause => self.running = false,
            Request::SetSpeed(speed) => self.speed = speed,
            Request::Reset(config, network) => {
                if self.restart(config, network, etx) {
                    self.trainer.begin_batch();
                }
            }
            Request::SetLr(lr) => {
                self.config.lr = lr;
                self.trainer.stepper.optimizer.lr = lr;
            }
            Request::SetTamper(tamper) => {
                self.trainer.stepper.tamper = tamper.clone();
                self.tamper = tamper;
            }
            Request::SetFreeze(freeze) => {
                self.config.freeze_conv = freeze;
                self.trainer.stepper.freeze_conv = freeze;
            }
            Request::SetData(data) => {
                self.data = data;
                let network = self.trainer.stepper.network.clone();
                self.trainer = build_trainer(&self.config, Some(network), &self.data);
                self.trainer.stepper.tamper = self.tamper.clone();
                self.trainer.begin_batch();
                // (A taught drawing's update stays in the network kept.)
                self.off_link |= self.teaching;
                self.teaching = false;
                self.taught = None;
            }
            Request::GoTo(target) => {
                let layers = self.trainer.stepper.network.layers.len();
                let order = |phase: Option<Phase>| phase.map_or(0, |p| p.order(layers));
                let batch = self.trainer.batches;
                for _ in 0..=2 * order(Some(Phase::Update)) {
                    let last = self.trainer.stepper.last_phase();
                    if last == Some(target) {
                        break;
                    }
                    let behind = order(last) > order(Some(target));
                    let in_batch = self.past.back().is_some_and(|c| c.trainer.batches == batch);
                    if behind && in_batch {
                        self.handle(Request::Back, etx);
                    } else {
                        self.handle(Request::StepPhase, etx);
                    }
                }
            }
            Request::Replay {
                batches,
                phase,
                teach,
            } => {
                self.running = false;
                self.replay_teach = teach;
                self.replay = Some(Replay {
                    done: 0,
                    total: batches,
                    phase,
                });
                if batches == 0 {
                    self.finish_replay(etx);
                }
            }
            Request::Checkout(reply) => {
                let _ = reply.send(self.session());
            }
            Request::Resume(session) => {
                let Session {
                    network,
                    optimizer,
                    settings,
                    ..
                } = *session;
                if !self.restart(settings.config, Some(network), etx) {
                    return;
                }
                self.trainer.stepper.optimizer = optimizer;
                self.trainer.resume(settings.progress);
                self.trainer.begin_batch();
                self.epoch_correct = settings.epoch_correct;
                self.epoch_seen = settings.epoch_seen;
            }
            Request::Teach { pixels, label } => {
                let after = self.teach_after();
                self.off_link |= after.is_none();
                self.taught = Some(TaughtStep {
                    after: after.unwrap_or(0),
                    label,
                    pixels: Arc::new(pixels.clone()),
                });
                let input = Tensor::from_shape_vec(vec![1, 1, 28, 28], pixels).expect("784 pixels");
                self.trainer.stepper.begin(input, vec![label]);
                self.teaching = true;
            }
        }
    }

    /// A new trainer from `config` (and a built network): no history, paused,
    /// a new epoch count; the caller loads its first batch. Refused, with
    /// everything left as it was, when the batch does not fit the network's
    /// memory limit (a large model opened with the batch of a small one).
    fn restart(
        &mut self,
        config: TrainConfig,
        network: Option<Network>,
        etx: &Sender<Event>,
    ) -> bool {
        let network = network_for(&config, network);
        if let Err(e) = check_app_batch(&network.plan, config.batch) {
            self.running = false;
            let _ = etx.send(Event::Refused(e));
            return false;
        }
        self.past.clear();
        self.future.clear();
        self.history_limit = history_steps(&network, config.batch);
        self.config = config;
        self.trainer = build_trainer(&self.config, Some(network), &self.data);
        self.trainer.stepper.tamper = self.tamper.clone();
        self.running = false;
        self.teaching = false;
        self.taught = None;
        self.off_link = false;
        self.epoch_correct = 0;
        self.epoch_seen = 0;
        true
    }

    /// The session as it stands; a batch under way is saved as not yet
    /// taken (its update has not happened), so loading runs it again.
    fn session(&self) -> Session {
        let stepper = &self.trainer.stepper;
        let under_way = !self.teaching && stepper.next_phase() != Phase::Done;
        Session {
            network: stepper.network.clone(),
            optimizer: stepper.optimizer.clone(),
            settings: SessionSettings {
                config: self.config.clone(),
                optimizer_steps: stepper.optimizer.steps,
                progress: self.trainer.progress(under_way),
                epoch_correct: self.epoch_correct,
                epoch_seen: self.epoch_seen,
            },
            losses: Vec::new(),
            epochs: Vec::new(),
            predictions: None,
            predictions_unread: None,
        }
    }

    /// After how many updates of ordinary training a drawing taught now
    /// begins (what a link replays before it); `None` when the weights hold
    /// a taught drawing's update already.
    fn teach_after(&self) -> Option<u64> {
        let updated = self.trainer.stepper.next_phase() == Phase::Done;
        match &self.taught {
            _ if self.off_link => None,
            // Another drawing in place of one not yet learnt from.
            Some(t) if self.teaching && !updated => Some(t.after),
            Some(_) if self.teaching => None,
            _ if updated => Some(self.trainer.batches),
            _ => Some(self.trainer.batches.saturating_sub(1)),
        }
    }

    fn start_batch(&mut self) {
        // A taught drawing's update is done: the network is no longer one
        // that a link replays.
        self.off_link |= self.teaching;
        self.teaching = false;
        self.taught = None;
        self.trainer.begin_batch();
    }

    /// One batch of a replay; after the last, the moment's phase.
    fn replay_one_batch(&mut self, etx: &Sender<Event>) {
        let Some(replay) = self.replay.as_mut() else {
            return;
        };
        replay.done += 1;
        self.remember();
        if self.trainer.stepper.next_phase() == Phase::Done {
            self.start_batch();
        }
        self.trainer.stepper.finish();
        // A diverging replay goes on: the moment is wherever the sharer's
        // training went, NaN or not (`batch_finished` says it diverged).
        let running = self.running;
        self.batch_finished(etx);
        self.running = running;
        if self.replay.is_some_and(|r| r.done >= r.total) {
            self.finish_replay(etx);
        }
    }

    /// The replay's batches are done: the moment's batch is started and
    /// run up to its phase.
    fn finish_replay(&mut self, etx: &Sender<Event>) {
        let Some(replay) = self.replay.take() else {
            return;
        };
        if let Some((pixels, label)) = self.replay_teach.take() {
            // The drawing in place of the moment's batch.
            self.handle(Request::Teach { pixels, label }, etx);
            if let Some(phase) = replay.phase {
                self.handle(Request::GoTo(phase), etx);
            }
            return;
        }
        if let Some(phase) = replay.phase {
            // The batch before is finished: GoTo would go back into it, so
            // the moment's batch is started first.
            if replay.total > 0 {
                self.handle(Request::StepPhase, etx);
            }
            self.handle(Request::GoTo(phase), etx);
        }
    }

    fn train_one_batch(&mut self, etx: &Sender<Event>) {
        self.remember();
        if self.trainer.stepper.next_phase() == Phase::Done {
            self.start_batch();
        }
        self.trainer.stepper.finish();
        self.batch_finished(etx);
    }

    /// Bookkeeping after a batch's update: loss, divergence, epoch end.
    fn batch_finished(&mut self, etx: &Sender<Event>) {
        let trace = self.trainer.stepper.trace();
        let loss = trace.loss.unwrap_or(f32::NAN);
        if self.teaching {
            return;
        }
        let correct = trace.probs.as_ref().map_or(0, |probs| {
            predictions(probs)
                .iter()
                .zip(&trace.labels)
                .filter(|(p, &l)| **p == l as usize)
                .count()
        });
        self.epoch_correct += correct;
        self.epoch_seen += trace.labels.len();
        let filters = self
            .trainer
            .stepper
            .network
            .layers
            .iter()
            .enumerate()
            .filter(|(_, l)| matches!(l, crate::engine::layers::Layer::Conv(_)))
            .filter_map(|(layer, l)| {
                let (w, _) = l.params()?;
                Some(crate::app::state::ConvState {
                    layer,
                    weight: w.value.as_ref().clone(),
                    grad: w.grad.clone(),
                })
            })
            .collect::<Vec<_>>();
        self.pending.push(BatchDone {
            filters: (!filters.is_empty()).then(|| Arc::new(filters)),
            batch: self.trainer.batches,
            loss,
            accuracy: correct as f32 / trace.labels.len().max(1) as f32,
            epochs: self.trainer.epoch as f64
                + self.trainer.position() as f64 / self.trainer.epoch_len().max(1) as f64,
        });
        if !loss.is_finite() || loss > DIVERGED_LOSS {
            self.running = false;
            let _ = etx.send(Event::Diverged {
                loss,
                batch: self.trainer.batches,
                lr: self.config.lr,
            });
            return;
        }
        if self.trainer.epoch_done() {
            let test = evaluate(&self.trainer.stepper.network, &self.data.test);
            let _ = etx.send(Event::Epoch {
                epoch: self.trainer.epoch + 1,
                train_accuracy: self.epoch_correct as f32 / self.epoch_seen.max(1) as f32,
                test_accuracy: test.accuracy,
            });
            self.epoch_correct = 0;
            self.epoch_seen = 0;
        }
    }

    fn publish(&mut self, etx: &Sender<Event>) {
        // The views show each sample's share of dF beside the batch's:
        // recorded while training waits (a run never pays for it).
        if !self.busy() {
            self.trainer.stepper.record_shares();
        }
        if !self.pending.is_empty() {
            let _ = etx.send(Event::Batches(std::mem::take(&mut self.pending)));
        }
        let stepper = &self.trainer.stepper;
        let snapshot = Snapshot {
            trace: stepper.trace().clone(),
            last: stepper.last_phase(),
            next: stepper.next_phase(),
            batches: self.trainer.batches,
            epoch: self.trainer.epoch,
            position: self.trainer.position(),
            epoch_len: self.trainer.epoch_len(),
            running: self.running,
            teaching: self.teaching,
            taught: self.taught.clone(),
            off_link: self.off_link,
            teach_after: self.teach_after(),
            network: stepper.network.clone(),
            lr: stepper.optimizer.lr,
            optimizer: stepper.optimizer.kind,
            freeze_conv: stepper.freeze_conv,
            back_steps: self.past.len(),
            forward_steps: self.future.len(),
            replay: self.replay,
        };
        let _ = etx.send(Event::Snapshot(Box::new(snapshot)));
        self.last_publish = Instant::now();
    }
}
