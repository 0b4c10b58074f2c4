//! The app in the browser: the page's entry point and what only a page
//! has. The same app, engine and worker run here as on the desktop; this
//! module fetches MNIST from the site (the test set first, so the app opens
//! in a second, then the training set with its progress on the status
//! line), reads a moment from the address (`#preset=seed&step=3&…`),
//! downloads saved files, picks files with the browser's picker, and keeps
//! a small record of the page for tests (`#probe`, `window.bpv`).
//!
//! Compiled only for `wasm32` (see `web/build.sh`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::app::message::Message;
use crate::app::{BackpropApp, GuiOptions, MessageKind, UiCommand};
use crate::data::dataset::{pair_from_bytes, Dataset, Mnist};
use crate::engine::stepper::Phase;
use crate::io::file::MAX_FILE_BYTES;

/// MNIST's files as the site serves them, next to `index.html`.
const TEST_FILES: [&str; 2] = ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"];
const TRAIN_FILES: [&str; 2] = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"];
const DATA_DIR: &str = "data/mnist/";

/// The page starts here (wasm-bindgen calls it when the module loads).
#[wasm_bindgen(start)]
pub fn main() {
    wasm_bindgen_futures::spawn_local(async {
        if let Err(e) = run().await {
            set_status(&format!("backprop-viz could not start: {e}"));
            web_sys::console::error_1(&JsValue::from_str(&e));
        }
    });
}

/// A dataset on its way: bytes received so far and in all (0 when not
/// known), and the result once it is in.
#[derive(Default)]
pub struct Arrival {
    pub received: AtomicU64,
    pub total: AtomicU64,
    pub done: Mutex<Option<Result<Mnist, String>>>,
    /// A moment to open once the training set is there (the page's link:
    /// replaying it needs the real batches).
    pub link: Mutex<Option<String>>,
    /// The app's context, to show the progress as it comes.
    pub repaint: Mutex<Option<egui::Context>>,
}

impl Arrival {
    /// How much has arrived, from 0 to 1 (0 while the size is unknown).
    pub fn fraction(&self) -> f32 {
        let all = self.total.load(Ordering::Relaxed);
        if all == 0 {
            return 0.0;
        }
        (self.received.load(Ordering::Relaxed) as f64 / all as f64).min(1.0) as f32
    }

    fn repaint(&self) {
        if let Some(ctx) = self.repaint.lock().expect("not poisoned").as_ref() {
            ctx.request_repaint();
        }
    }
}

async fn run() -> Result<(), String> {
    register_service_worker();
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let canvas = document
        .get_element_by_id("app")
        .ok_or("the page has no <canvas id=app>")?
        .dyn_into::<web_sys::HtmlCanvasElement>()
        .map_err(|_| "#app is not a canvas")?;

    // The test set first (1.6 MB): enough to show every view and to step.
    let counted = Arrival::default();
    set_status("Loading MNIST's test set…");
    let test = fetch_pair(TEST_FILES, &counted, |arrival| {
        set_status(&format!(
            "Loading MNIST's test set… {}",
            progress_text(arrival)
        ))
    })
    .await?;
    // The pretrained model (0.8 MB), which the wasm does not carry.
    let model = fetch_bytes("pretrained.safetensors", &counted, &|_: &Arrival| {}).await?;
    crate::io::read_model(std::path::Path::new("pretrained.safetensors"), &model)
        .map_err(|e| e.to_string())?;
    let _ = crate::presets::PRETRAINED_FETCHED.set(model);
    set_status("");

    let link = fragment();
    let arrival = Arc::new(Arrival::default());
    *arrival.link.lock().expect("not poisoned") = link;
    // One copy kept for the full dataset and `bench_train`, one to train on
    // until the training set is in.
    TEST_CACHE.with(|c| *c.borrow_mut() = Some(test.clone()));
    let provisional = Mnist {
        train: test.clone(),
        test,
    };
    let for_app = arrival.clone();
    gl_without_msaa(&canvas);
    let runner = eframe::WebRunner::new();
    runner
        .start(
            canvas,
            eframe::WebOptions::default(),
            Box::new(move |cc| {
                let mut app = BackpropApp::start(
                    cc,
                    crate::app::default_config(),
                    None,
                    Arc::new(provisional),
                    crate::i18n::tr("MNIST's test set (the training set is arriving)").into(),
                    &GuiOptions::default(),
                );
                *for_app.repaint.lock().expect("not poisoned") = Some(cc.egui_ctx.clone());
                let shown = for_app.clone();
                let link = for_app.link.lock().expect("not poisoned").clone();
                let opening = link.is_some();
                // The link's language from the start, not only once it opens.
                if let Some(m) = link.and_then(|l| crate::app::link::Moment::parse(&l).ok()) {
                    let mut settings = app.settings.clone();
                    settings.lang = m.lang;
                    app.command(UiCommand::SetSettings(Box::new(settings)));
                }
                if opening {
                    app.command(UiCommand::CloseWelcome);
                }
                app.command(UiCommand::Say(
                    MessageKind::Info,
                    Message::new(move || {
                        let progress = progress_text(&shown);
                        if opening {
                            crate::trf!("Loading MNIST's training set ({progress}); then the shared moment opens.", progress = progress)
                        } else {
                            crate::trf!("Loading MNIST's training set ({progress}); meanwhile the app steps through the test set.", progress = progress)
                        }
                    }),
                ));
                Ok(Box::new(WebApp {
                    app,
                    arrival: Some(for_app),
                    probe: Probe::default(),
                }))
            }),
        )
        .await
        .map_err(|e| format!("{e:?}"))?;

    // Then the training set (9.7 MB), while the app is already in use.
    let result = fetch_pair(TRAIN_FILES, &arrival, |arrival| arrival.repaint()).await;
    let full = result.and_then(|train| {
        let test = TEST_CACHE
            .with(|c| c.borrow().clone())
            .ok_or_else(|| "the test set is gone".to_string())?;
        Ok(Mnist { train, test })
    });
    *arrival.done.lock().expect("not poisoned") = Some(full);
    Ok(())
}

/// The page's whole address (a class's link joins the class at it).
fn page_address() -> Option<String> {
    web_sys::window()?.location().href().ok()
}

thread_local! {
    /// The test set, for [`bench_train`].
    static TEST_CACHE: std::cell::RefCell<Option<Dataset>> = const { std::cell::RefCell::new(None) };
}

/// "4.2 of 9.7 MB".
pub fn progress_text(arrival: &Arrival) -> String {
    let mb = |b: u64| b as f64 / 1e6;
    let (got, all) = (
        arrival.received.load(Ordering::Relaxed),
        arrival.total.load(Ordering::Relaxed),
    );
    if all > 0 {
        format!("{:.1} of {:.1} MB", mb(got), mb(all))
    } else {
        format!("{:.1} MB", mb(got))
    }
}

/// Fetches an images file and its labels file and parses them with the
/// same checks as files on disk; `progress` is told after every chunk.
async fn fetch_pair(
    names: [&str; 2],
    arrival: &Arrival,
    progress: impl Fn(&Arrival),
) -> Result<Dataset, String> {
    let mut files = Vec::new();
    for name in names {
        files.push(fetch_bytes(&format!("{DATA_DIR}{name}"), arrival, &progress).await?);
    }
    let dataset = pair_from_bytes(
        (std::path::Path::new(names[0]), &files[0]),
        (std::path::Path::new(names[1]), &files[1]),
    )
    .map_err(|e| e.to_string())?;
    Ok(dataset)
}

/// Reads `url` chunk by chunk, never more than [`MAX_FILE_BYTES`] whatever
/// the server claims, adding to `arrival`'s counts.
async fn fetch_bytes(
    url: &str,
    arrival: &Arrival,
    progress: &impl Fn(&Arrival),
) -> Result<Vec<u8>, String> {
    let window = web_sys::window().ok_or("no window")?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|e| format!("{url}: {e:?}"))?
        .dyn_into()
        .map_err(|_| format!("{url}: not a response"))?;
    if !response.ok() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    let claimed = response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0);
    if claimed > MAX_FILE_BYTES {
        return Err(format!("{url}: {claimed} bytes is more than the limit"));
    }
    arrival.total.fetch_add(claimed, Ordering::Relaxed);
    // A copy for the site's cache, kept by the page as it arrives (so the
    // service worker never downloads it again).
    if let Ok(copy) = response.clone() {
        call_hook("bpvKeep", &[url.into(), copy.into()]);
    }
    let body = response.body().ok_or_else(|| format!("{url}: no body"))?;
    let reader: web_sys::ReadableStreamDefaultReader = body
        .get_reader()
        .dyn_into()
        .map_err(|_| format!("{url}: no reader"))?;
    let mut bytes = Vec::with_capacity(claimed as usize);
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|e| format!("{url}: {e:?}"))?;
        let done = js_sys::Reflect::get(&chunk, &"done".into())
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true);
        if done {
            break;
        }
        let value =
            js_sys::Reflect::get(&chunk, &"value".into()).map_err(|e| format!("{url}: {e:?}"))?;
        let array = js_sys::Uint8Array::new(&value);
        if (bytes.len() + array.length() as usize) as u64 > MAX_FILE_BYTES {
            return Err(format!("{url}: larger than the limit"));
        }
        let start = bytes.len();
        bytes.resize(start + array.length() as usize, 0);
        array.copy_to(&mut bytes[start..]);
        arrival
            .received
            .fetch_add(array.length() as u64, Ordering::Relaxed);
        progress(arrival);
    }
    Ok(bytes)
}

/// The moment in the page's address, if any (`#preset=…`).
fn fragment() -> Option<String> {
    let hash = web_sys::window()?.location().hash().ok()?;
    let hash = hash.trim_start_matches('#');
    (!hash.is_empty()).then(|| format!("#{hash}"))
}

/// Makes the canvas's WebGL2 context without multisampling before eframe
/// asks for it (a canvas keeps the context of the first request, whatever
/// a later one asks). egui smooths its edges itself, by feathering; the
/// browser's default 4x multisampling only makes the GPU fill and resolve
/// every pixel four times: on a software renderer or a school laptop's GPU
/// that was most of a frame, and the page's own work waited for it.
fn gl_without_msaa(canvas: &web_sys::HtmlCanvasElement) {
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"antialias".into(), &false.into());
    // If WebGL2 is missing, eframe finds out and says so itself.
    let _ = canvas.get_context_with_context_options("webgl2", &options);
}

/// Shows a line above the canvas while the app is not up yet.
fn set_status(text: &str) {
    if let Some(el) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("status"))
    {
        el.set_text_content(Some(text));
    }
}

/// Every file of the site is in: the page's `bpvCacheSite` checks that its
/// cache holds them all (`window.bpvCached`, which tests wait for).
fn cache_site() {
    call_hook("bpvCacheSite", &[]);
}

/// Calls the page's `window[name](args…)` if it has one (index.html's
/// hooks; a page without them runs the app all the same).
fn call_hook(name: &str, args: &[JsValue]) {
    let Some(window) = web_sys::window() else {
        return;
    };
    if let Ok(hook) = js_sys::Reflect::get(&window, &name.into()) {
        if let Some(hook) = hook.dyn_ref::<js_sys::Function>() {
            let _ = hook.apply(&window, &args.iter().collect::<js_sys::Array>());
        }
    }
}

/// Caches the site for offline use (`sw.js` next to the page).
fn register_service_worker() {
    if let Some(window) = web_sys::window() {
        let container = window.navigator().service_worker();
        let _ = container.register("sw.js");
    }
}

/// The app as the page runs it: the app itself, MNIST's training set on
/// its way, and what the page shows tests. Nothing in the app knows it.
struct WebApp {
    app: BackpropApp,
    arrival: Option<Arc<Arrival>>,
    probe: Probe,
}

impl WebApp {
    /// Once MNIST's training set is in, the app trains on it (as the Data
    /// tab's new datasets do) and opens the page's link, if any; until
    /// then the status line shows how much has arrived.
    fn poll_arrival(&mut self) {
        let Some(arrival) = self.arrival.clone() else {
            return;
        };
        let done = arrival.done.lock().expect("not poisoned").take();
        let Some(done) = done else {
            let fraction = Some(arrival.fraction());
            if self.app.arriving != fraction {
                self.app.command(UiCommand::Arriving(fraction));
            }
            return;
        };
        self.arrival = None;
        self.app.command(UiCommand::Arriving(None));
        match done {
            Ok(mnist) => {
                cache_site();
                self.app.command(UiCommand::SetData(
                    Arc::new(mnist),
                    crate::i18n::tr("MNIST, from this site").into(),
                    Vec::new(),
                ));
                match arrival.link.lock().expect("not poisoned").take() {
                    // A class's link joins it (once the training set is in:
                    // the teacher's moments replay on it).
                    Some(link) => match page_address() {
                        Some(href) if crate::app::command::class::join_of(&href).is_some() => {
                            self.app.open_link(&href)
                        }
                        _ => self.app.open_link(&link),
                    },
                    None => self.app.command(UiCommand::Say(
                        MessageKind::Info,
                        Message::new(|| {
                            crate::i18n::tr("MNIST's training set has arrived: training uses all 60,000 images.")
                                .to_string()
                        }),
                    )),
                }
            }
            Err(e) => self.app.command(UiCommand::Say(
                MessageKind::Error,
                Message::new(move || {
                    crate::trf!(
                        "MNIST's training set did not arrive ({error}): the app goes on with the test set.",
                        error = e
                    )
                }),
            )),
        }
    }
}

impl eframe::App for WebApp {
    fn logic(&mut self, ctx: &egui::Context, frame: &mut eframe::Frame) {
        self.poll_arrival();
        self.app.logic(ctx, frame);
    }

    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        self.app.ui(ui, frame);
        let full = self.arrival.is_none();
        self.probe.frame(
            &self.app,
            full,
            frame.info().cpu_usage.unwrap_or(0.0) * 1000.0,
            ui.ctx().zoom_factor(),
        );
    }

    /// The browser: the settings go to its storage every 2 s (eframe's
    /// web runner saves on a timer only; a closed tab gets no last save).
    fn auto_save_interval(&self) -> std::time::Duration {
        std::time::Duration::from_secs(2)
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        self.app.save(storage);
    }
}

/// What the page shows tests: the step on screen as JSON in the hidden
/// The live class as a test reads it: who this page is in the class, the
/// question and its round, this student's answer and whether it is in, the
/// teacher's tallies, the prediction on screen, and where (in CSS pixels)
/// the map a click question is answered on was drawn.
fn class_probe(app: &BackpropApp, zoom: f32) -> serde_json::Value {
    let Some(c) = app.class.as_ref() else {
        return serde_json::Value::Null;
    };
    let map = app
        .marks()
        .get(&crate::teach::lesson::Mark::Question)
        .map(|r| [r.min.x, r.min.y, r.max.x, r.max.y].map(|v| v * zoom));
    let prediction = app.prediction.as_ref().map(|p| {
        serde_json::json!({
            "kinds": p.asks.iter().map(|(a, _)| a.kind()).collect::<Vec<_>>(),
            "answered": p.asks.iter().all(|(a, g)| a.answered(g)),
            "revealed": p.revealed,
            "marks": p.marks,
            "covering": app.covering(),
        })
    });
    serde_json::json!({
        "role": c.role,
        "code": c.code,
        "joined": c.joined,
        "down": c.down,
        "follow": c.follow,
        "question": c.question,
        "revealed": c.revealed,
        "sent": c.sent,
        "acked": c.acked,
        "tallies": c.tallies,
        "show_tally": c.show_tally,
        "error": c.error,
        "prediction": prediction,
        "map": map,
    })
}

/// `#probe` element (written when the step changes), and the app's frame
/// times in `window.bpvFrames` (milliseconds of egui's work per frame, the
/// last 600).
#[derive(Default)]
pub struct Probe {
    /// What the probe was last written for.
    last: Option<(u64, Option<Phase>, bool, crate::i18n::Lang, String)>,
    /// `window.bpvFrames`, made at the first frame.
    frames: Option<js_sys::Array>,
}

impl Probe {
    /// Called once per frame with the time the frame's work took.
    pub fn frame(&mut self, app: &BackpropApp, full: bool, cpu_ms: f32, zoom: f32) {
        let frames = self.frames.get_or_insert_with(|| {
            let frames = js_sys::Array::new();
            if let Some(window) = web_sys::window() {
                let _ = js_sys::Reflect::set(&window, &"bpvFrames".into(), &frames);
            }
            frames
        });
        frames.push(&JsValue::from_f64(cpu_ms as f64));
        if frames.length() > 600 {
            frames.shift();
        }
        let Some(s) = app.snapshot.as_deref() else {
            return;
        };
        let lang = crate::i18n::language();
        let tab = format!("{:?}", app.tab).to_lowercase();
        let message = app
            .message
            .as_ref()
            .map(|(_, m)| m.text())
            .unwrap_or_default();
        let class = class_probe(app, zoom).to_string();
        let key = (
            s.batches,
            s.last,
            full,
            lang,
            format!("{tab}\n{message}\n{class}"),
        );
        if self.last.as_ref() == Some(&key) {
            return;
        }
        self.last = Some(key);
        let t = &s.trace;
        let names = &t.names;
        // The conv layers' dF and delta in full (what a test compares with
        // the desktop's trace), the rest by shape; while running, shapes
        // only (the probe is rewritten at every batch).
        let values = |t: Option<&crate::engine::Shared>, conv: bool| {
            t.filter(|_| conv && !s.running)
                .map(|t| t.iter().copied().collect::<Vec<f32>>())
        };
        let layers: Vec<serde_json::Value> = t
            .layers
            .iter()
            .zip(names)
            .zip(&t.kinds)
            .map(|((l, name), kind)| {
                let conv = matches!(kind, crate::engine::layers::LayerKind::Conv { .. });
                serde_json::json!({
                    "name": name,
                    "weight_grad": values(l.weight_grad.as_ref(), conv),
                    "delta": values(l.delta.as_ref(), conv),
                    "delta_shape": l.delta.as_ref().map(|d| d.shape().to_vec()),
                })
            })
            .collect();
        let probe = serde_json::json!({
            "batch": s.batches,
            "phase": s.last.map(|p| p.id(names)),
            "running": s.running,
            "training_set": full,
            "lang": format!("{lang:?}").to_lowercase(),
            "tab": tab,
            "message": message,
            "loss": t.loss,
            "layers": layers,
            "class": class_probe(app, zoom),
        });
        if let Some(el) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id("probe"))
        {
            el.set_text_content(Some(&probe.to_string()));
        }
    }
}

/// Training speed in the browser, as `backprop-viz bench` measures it on
/// the desktop: samples per second for `preset` at batch 64 for about
/// `seconds`, on the test set (the page's first data). Called by the test
/// page from JavaScript.
#[wasm_bindgen]
pub fn bench_train(preset: &str, seconds: f64) -> Result<f64, JsValue> {
    let net = crate::presets::network_from_preset(preset, crate::presets::defaults::SEED)
        .map_err(|e| JsValue::from_str(&e.to_string()))?;
    let data = TEST_CACHE
        .with(|c| c.borrow().clone())
        .ok_or_else(|| JsValue::from_str("MNIST has not arrived yet"))?;
    Ok(crate::training::throughput(
        net,
        Arc::new(data),
        crate::training::BENCH_BATCH,
        crate::presets::defaults::SEED,
        Duration::from_secs_f64(seconds),
    ))
}
