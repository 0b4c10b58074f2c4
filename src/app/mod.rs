//! The desktop app: one window that steps backpropagation through a CNN and
//! shows every number it computes. Training lives on the worker thread
//! (`worker.rs`); this side only reads the snapshots it sends.
//!
//! Layout: controls and the pipeline strip on top, plots at the bottom, the
//! explanation of the clicked cell on the right, and in the middle one of
//! three tabs: Backprop (the layer views), Draw a digit, Data.

pub mod animate;
pub mod architecture;
pub mod conv_view;
pub mod data_panel;
pub mod draw_pad;
pub mod draw_tab;
pub mod equation;
pub mod experiment;
pub mod files;
pub mod heatmap;
pub mod jobs;
pub mod layer_views;
pub mod lesson;
pub mod link;
pub mod matrix_view;
pub mod message;
pub mod mistakes;
pub mod notation;
pub mod panels;
pub mod predict;
pub mod record;
pub mod shortcuts;
pub mod update_view;
pub mod views;
pub mod worker;

use std::path::PathBuf;
use std::sync::Arc;

use crate::data::dataset::Mnist;
use crate::engine::gradcheck::FiniteDifference;
use crate::engine::network::Network;
use crate::explain::CellRef;
use crate::i18n::tr;
use worker::{Command, Event, Snapshot, Speed, TrainConfig, Worker};

/// Which step's gradient (by the identity of its shared tensor), layer and
/// sample a cached share belongs to.
type ShareKey = (Option<usize>, usize, usize);

/// What is kept between runs (eframe's storage).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Settings {
    pub projector: bool,
    /// The size of everything, on top of projector mode's 1.4 (a large
    /// classroom screen, a small laptop).
    pub scale: f32,
    pub dark: bool,
    pub palette: heatmap::Palette,
    pub lang: crate::i18n::Lang,
    /// Layout: the plots at the bottom, the explanation on the right, the
    /// tab that was open.
    pub show_plots: bool,
    pub show_explain: bool,
    /// Name layers and deltas as the answer to the question does.
    pub answer_notation: bool,
    /// Predict each backward step before it is shown (always so in the
    /// guided lesson).
    pub predict: bool,
    pub tab: Tab,
    /// The files or folders of the last dataset opened (the shipped MNIST
    /// when empty); loaded again at the next start.
    pub last_data: Vec<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            projector: false,
            scale: 1.0,
            dark: true,
            palette: heatmap::Palette::BlueRed,
            lang: crate::i18n::Lang::En,
            show_plots: true,
            show_explain: true,
            answer_notation: false,
            predict: false,
            tab: Tab::Backprop,
            last_data: Vec::new(),
        }
    }
}

/// The settings the style is built from: changing the layout or the last
/// dataset needs no new style.
type Look = (bool, bool, heatmap::Palette, crate::i18n::Lang, u32);

impl Settings {
    fn look(&self) -> Look {
        (
            self.projector,
            self.dark,
            self.palette,
            self.lang,
            self.scale.to_bits(),
        )
    }
}

/// What the command line hands to the app.
#[derive(Debug, Clone, Default)]
pub struct GuiOptions {
    pub data: Option<PathBuf>,
    pub model: Option<PathBuf>,
    pub preset: Option<String>,
    /// A saved session to continue, opened in the background once the
    /// window is up (a bad one is a message in the window, not an exit).
    pub session: Option<PathBuf>,
    /// A student's tensors to check against the first batch once it has
    /// been stepped (as File → Check my backprop…).
    pub check: Vec<PathBuf>,
    /// A shared moment to open (`--link`).
    pub link: Option<String>,
}

/// Opens the window and runs until it is closed.
#[cfg(not(target_arch = "wasm32"))]
pub fn run(options: GuiOptions) -> Result<(), String> {
    use crate::data::dataset::{default_data_dir, load_dir};
    let dir = options.data.clone().unwrap_or_else(default_data_dir);
    let data = match &options.data {
        Some(dir) => load_dir(dir),
        None => crate::data::dataset::load_default(),
    }
    .map_err(|e| e.to_string())?;
    let network = match &options.model {
        Some(path) => Some(crate::io::load_model(path).map_err(|e| e.to_string())?),
        None => None,
    };
    let mut config = default_config();
    if let Some(preset) = &options.preset {
        crate::presets::network_from_preset(preset, config.seed).map_err(|e| e.to_string())?;
        config.preset = preset.clone();
    }
    let source = if options.data.is_none() && !dir.is_dir() {
        tr("the MNIST built into the program").to_string()
    } else {
        dir.display().to_string()
    };
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("backprop-viz: how the error reaches the filter")
            .with_inner_size([1600.0, 1000.0])
            .with_min_inner_size([900.0, 600.0])
            .with_drag_and_drop(true)
            .with_icon(
                eframe::icon_data::from_png_bytes(include_bytes!(
                    "../../assets/icon/backprop-viz.png"
                ))
                .unwrap_or_default(),
            ),
        ..Default::default()
    };
    eframe::run_native(
        "backprop-viz",
        native,
        Box::new(move |cc| {
            let app = BackpropApp::start(cc, config, network, Arc::new(data), source, &options);
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| format!("cannot open the window: {e}"))
}

/// The app's learning rate: plain SGD at 0.05 takes the question's network
/// to 91–93 % in one epoch on seeds 1–6 (measured with `train --optimizer
/// sgd --lr 0.05 --constant-lr --epochs 1`).
pub const APP_LR: f32 = 0.05;

/// The network and training settings the app starts with: the question's
/// network, untrained, with plain SGD — the update the lesson teaches,
/// F ← F − η·dF, and the one the update view shows exactly (the command
/// line keeps Adam, which trains faster).
pub fn default_config() -> TrainConfig {
    use crate::presets::defaults;
    TrainConfig {
        preset: defaults::PRESET.into(),
        seed: defaults::SEED,
        lr: APP_LR,
        batch: defaults::BATCH,
        optimizer: crate::engine::optim::OptimizerKind::Sgd,
        freeze_conv: false,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Tab {
    Backprop,
    Draw,
    Data,
    Experiment,
    Mistakes,
    Architecture,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    Info,
    Warning,
    Error,
}

/// Things a click asks for, applied after the frame is drawn.
#[derive(Clone)]
pub enum UiCommand {
    StepPhase,
    StepBatch,
    Run,
    Pause,
    Reset,
    SetSpeed(Speed),
    SetLr(f32),
    SetFreeze(bool),
    Select(Option<CellRef>),
    /// The (out, in) channel pair the conv views show.
    PickChannels([usize; 2]),
    ViewLayer(Option<usize>),
    LoadPretrained,
    /// Use this network from now on (an opened model, the editor's);
    /// Reset returns to it.
    UseNetwork(Box<Network>, NetworkSource),
    /// Back and forward in time (history).
    Back,
    Forward,
    /// One step on a drawing (or a test digit) with its correct label.
    Teach {
        pixels: Vec<f32>,
        label: u8,
        what: Taught,
    },
    /// New datasets from the Data tab (the old stay until these arrive),
    /// with the paths they came from (remembered for the next start).
    SetData(Arc<Mnist>, String, Vec<PathBuf>),
    /// Move training to just after this phase (the guided lesson).
    GoTo(crate::engine::stepper::Phase),
    /// Continue a saved session (from the file named by the string); Reset
    /// then returns to the network given, or to the preset when `None`.
    ResumeSession(Box<crate::io::Session>, Option<Box<Network>>, String),
    ShowTab(Tab),
    /// Which sample of the batch the views show.
    PickSample(usize),
    /// Build this preset on the next Reset (instead of a loaded model).
    UsePreset(String),
    /// The label the next teaching step gives the drawing.
    SetTeachLabel(u8),
    /// Hide the message line.
    Dismiss,
    CloseWelcome,
    Lesson(LessonMove),
    /// Show the step a prediction covers, marking the answers.
    Reveal,
    /// Switch a deliberate mistake in the backward pass on or off.
    SetBug(Option<crate::check::bugs::Bug>),
    /// Replay training to a shared moment (a link).
    OpenMoment(Box<link::Moment>),
    /// Stop a link's replay where it is (Escape).
    StopReplay,
}

/// What the guided lesson is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LessonMove {
    /// From the beginning, asking first if that would leave training behind.
    Start,
    /// The answer to that question: start after all, or not.
    Confirmed(bool),
    Go(usize),
    /// Close the strip; the menu continues from the same step.
    Leave,
    /// Close it after the last step.
    Finish,
}

/// The conv filters when Run was pressed: what the update view compares
/// the running filters with.
#[derive(Debug, Clone)]
pub struct RunStart {
    /// Batches started when Run was pressed.
    pub batches: u64,
    /// Each conv layer's index and its filters then.
    pub filters: Vec<(usize, Arc<crate::engine::Tensor>)>,
}

impl RunStart {
    fn of(s: &Snapshot) -> Self {
        let filters = s
            .network
            .layers
            .iter()
            .enumerate()
            .filter(|(_, l)| matches!(l, crate::engine::layers::Layer::Conv(_)))
            .filter_map(|(i, l)| Some((i, l.params()?.0.value.clone())))
            .collect();
        RunStart {
            batches: s.batches,
            filters,
        }
    }
}

/// What a one-sample teaching step is made of, for the sentence that says
/// where the numbers are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taught {
    /// The drawing on the pad.
    Drawing,
    /// A test image the network got wrong (its index).
    TestDigit(usize),
}

/// Where the network Reset returns to came from, when it is not a preset's.
#[derive(Debug, Clone, PartialEq)]
pub enum NetworkSource {
    /// A model file (its name).
    File(String),
    Editor,
    Pretrained,
    /// A saved session (its file name).
    Session(String),
}

impl NetworkSource {
    /// A word or two for the toolbar, in the current language.
    pub fn name(&self) -> String {
        match self {
            NetworkSource::File(name) | NetworkSource::Session(name) => name.clone(),
            NetworkSource::Editor => tr("your network").into(),
            NetworkSource::Pretrained => tr("pretrained").into(),
        }
    }

    /// The file name of a path, for the toolbar.
    pub fn file(path: &str) -> String {
        std::path::Path::new(path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.to_string())
    }
}

/// One point per finished batch and one row per epoch.
#[derive(Debug, Default, Clone)]
pub struct History {
    /// `[batch, loss]`
    pub losses: Vec<[f64; 2]>,
    /// `(epoch, train accuracy, test accuracy)`
    pub epochs: Vec<(usize, f32, f32)>,
    /// `[epochs so far, %]`: training accuracy over the last
    /// `RUNNING_BATCHES` batches, so the accuracy plot moves from the first
    /// batches instead of waiting for an epoch (3,750 batches of 16).
    pub running_accuracy: Vec<[f64; 2]>,
    recent: std::collections::VecDeque<f32>,
}

/// How many batches the running accuracy averages.
pub const RUNNING_BATCHES: usize = 50;

impl History {
    pub fn add_batch(&mut self, b: worker::BatchDone) {
        self.losses.push([b.batch as f64, f64::from(b.loss)]);
        if self.recent.len() == RUNNING_BATCHES {
            self.recent.pop_front();
        }
        self.recent.push_back(b.accuracy);
        let mean = self.recent.iter().sum::<f32>() / self.recent.len() as f32;
        self.running_accuracy
            .push([b.epochs, f64::from(mean) * 100.0]);
    }
}

pub struct BackpropApp {
    /// Fonts and sizes are set up on the first frame (the context exists then).
    styled: bool,
    worker: Worker,
    /// Sequence number of the last command the worker has finished.
    acked: u64,
    pub snapshot: Option<Box<Snapshot>>,
    pub data: Arc<Mnist>,
    pub data_source: String,
    /// The settings being edited; preset, seed, batch and optimizer take
    /// effect on Reset, the learning rate and freezing at once.
    pub config: TrainConfig,
    /// The network Reset returns to when it is not the preset's (a loaded
    /// model), and where it came from.
    pub start_network: Option<Network>,
    pub start_source: Option<NetworkSource>,
    pub speed: Speed,
    pub history: History,
    pub tab: Tab,
    pub sample: usize,
    pub selected: Option<CellRef>,
    /// The (out, in) channel pair the conv views show.
    pub channels: [usize; 2],
    /// A conv layer's sum being played, if any; and the one key A would
    /// start in the view on screen.
    pub animation: Option<animate::Animation>,
    pub animatable: Option<animate::Animation>,
    /// One sample's share of a layer's weight gradient, computed by the
    /// engine once per step and kept while the step is on screen.
    share_cache: Option<(ShareKey, Option<Arc<crate::engine::Tensor>>)>,
    pub view_layer: Option<usize>,
    pub message: Option<(MessageKind, message::Message)>,
    pub pad: draw_pad::DrawPad,
    pub teach_label: u8,
    /// What the current teaching step is made of.
    pub taught: Option<Taught>,
    pub data_panel: data_panel::DataPanel,
    /// Projector mode, theme, palette: kept between runs.
    pub settings: Settings,
    /// The look the style was last built for.
    styled_for: Option<Look>,
    pub show_shortcuts: bool,
    /// The first-start card is open.
    pub welcome: bool,
    /// The conv filters as they were when Run was last pressed, and the
    /// batch count then: the update view shows how far they have moved
    /// since. Cleared by stepping by hand, Back and Forward, and a reset.
    pub run_start: Option<RunStart>,
    /// Starting the lesson waits for a yes (it would reset training).
    pub confirm_lesson: bool,
    /// The plots unfolded on a small window.
    pub plots_open: bool,
    pub files: files::Files,
    pub experiment: experiment::Experiment,
    pub mistakes: mistakes::Mistakes,
    pub architecture: architecture::Architecture,
    /// The finite-difference check of a weight: the job, and its result.
    pub gradcheck: jobs::Jobs<Option<(CellRef, Option<FiniteDifference>)>>,
    pub gradcheck_result: Option<(CellRef, Option<FiniteDifference>)>,
    pub lesson: lesson::Lesson,
    /// A student's own tensors, checked against a step (its window).
    pub checked: Option<Box<panels::checked::Checked>>,
    /// Files to check once the step's backward pass is there (`--check`).
    pub pending_check: Vec<PathBuf>,
    /// The question covering the step on screen, or answered about it.
    pub prediction: Option<predict::Prediction>,
    /// The steps already asked about since the reset (never twice).
    pub asked: std::collections::HashSet<(u64, crate::engine::stepper::Phase)>,
    /// Every answer given, for the learner's own record.
    pub predictions: Vec<predict::Record>,
    /// A record in an opened session that could not be read, kept as it
    /// was to be saved again with the session.
    pub unread_predictions: Option<String>,
    /// The last move was a step by hand (a phase, the lesson, history):
    /// only those are predicted, never what a run or a whole batch passed.
    pub by_hand: bool,
    /// Predict mode's guess of the digit the network will answer after
    /// teaching the drawing: picked, then kept with the drawing taught.
    pub teach_pick: Option<u8>,
    pub teach_guess: Option<(u8, Vec<f32>)>,
    /// A class's records summed (the teacher's window).
    pub class_record: Option<record::ClassRecord>,
    /// The teacher's deliberate mistake in the backward pass, and its window.
    pub bug: Option<crate::check::bugs::Bug>,
    pub show_find_bug: bool,
    /// Try it yourself: the explanation's numbers covered, the learner's
    /// own working checked.
    pub trying: bool,
    pub try_it: panels::try_it::TryIt,
    /// Conv views drawn as the dense layer they are (the Toeplitz matrix),
    /// its zoom and what is picked in it.
    pub as_matrix: bool,
    pub matrix_zoom: f32,
    pub matrix_pick: Option<matrix_view::Pick>,
    matrix_facts: Option<(matrix_view::FactsKey, Arc<matrix_view::Facts>)>,
    /// Where the views that a lesson can point at were drawn this frame.
    pub marks: std::collections::HashMap<lesson::Mark, egui::Rect>,
    commands: Vec<UiCommand>,
    /// The browser: MNIST's training set on its way (the app starts on the
    /// test set), and what the page shows tests.
    #[cfg(target_arch = "wasm32")]
    pub arrival: Option<Arc<crate::web::Arrival>>,
    #[cfg(target_arch = "wasm32")]
    probe: crate::web::Probe,
}

impl BackpropApp {
    pub fn new(
        ctx: &egui::Context,
        config: TrainConfig,
        network: Option<Network>,
        data: Arc<Mnist>,
        source: String,
    ) -> BackpropApp {
        let repaint_ctx = ctx.clone();
        BackpropApp::with_repaint(config, network, data, source, move || {
            repaint_ctx.request_repaint()
        })
    }

    /// An app whose worker calls `repaint` after each event (tests pass a
    /// no-op and poll).
    pub fn with_repaint(
        config: TrainConfig,
        network: Option<Network>,
        data: Arc<Mnist>,
        source: String,
        repaint: impl Fn() + Send + Sync + 'static,
    ) -> BackpropApp {
        let repaint: jobs::Repaint = Arc::new(repaint);
        let for_worker = repaint.clone();
        let worker = Worker::spawn(config.clone(), network.clone(), data.clone(), move || {
            for_worker()
        });
        BackpropApp {
            styled: false,
            worker,
            acked: 0,
            snapshot: None,
            data,
            data_source: source,
            config,
            start_source: network
                .as_ref()
                .map(|_| NetworkSource::File(tr("model").to_string())),
            start_network: network,
            speed: Speed::PerSecond(20.0),
            history: History::default(),
            tab: Tab::Backprop,
            sample: 0,
            selected: None,
            channels: [0, 0],
            animation: None,
            animatable: None,
            share_cache: None,
            view_layer: None,
            message: None,
            pad: draw_pad::DrawPad::new(),
            teach_label: 0,
            taught: None,
            data_panel: data_panel::DataPanel::new(repaint.clone()),
            settings: Settings::default(),
            styled_for: None,
            show_shortcuts: false,
            welcome: false,
            run_start: None,
            confirm_lesson: false,
            checked: None,
            pending_check: Vec::new(),
            prediction: None,
            asked: Default::default(),
            predictions: Vec::new(),
            unread_predictions: None,
            by_hand: false,
            teach_pick: None,
            teach_guess: None,
            class_record: None,
            bug: None,
            show_find_bug: false,
            trying: false,
            try_it: Default::default(),
            as_matrix: false,
            matrix_zoom: 1.0,
            matrix_pick: None,
            matrix_facts: None,
            plots_open: false,
            files: files::Files::new(repaint.clone()),
            experiment: experiment::Experiment::new(3, repaint.clone()),
            mistakes: mistakes::Mistakes::new(repaint.clone()),
            architecture: architecture::Architecture::default(),
            gradcheck: jobs::Jobs::new(repaint.clone(), |_| None),
            gradcheck_result: None,
            lesson: lesson::Lesson::default(),
            marks: std::collections::HashMap::new(),
            commands: Vec::new(),
            #[cfg(target_arch = "wasm32")]
            arrival: None,
            #[cfg(target_arch = "wasm32")]
            probe: Default::default(),
        }
    }

    /// The app as a window (or a page) opens it: settings kept from the last
    /// run, then what the command line (or the page's link) asks for.
    pub fn start(
        cc: &eframe::CreationContext<'_>,
        config: TrainConfig,
        network: Option<Network>,
        data: Arc<Mnist>,
        source: String,
        options: &GuiOptions,
    ) -> BackpropApp {
        let mut app = BackpropApp::new(&cc.egui_ctx, config, network, data, source);
        match cc
            .storage
            .and_then(|s| eframe::get_value::<Settings>(s, eframe::APP_KEY))
        {
            Some(settings) => app.restore_settings(settings, options.data.is_none()),
            // Nothing kept: a first start, which opens with the card.
            None => app.welcome = options.session.is_none() && options.link.is_none(),
        }
        if let Some(path) = options.session.clone() {
            app.open_session_file(path);
        }
        if let Some(text) = &options.link {
            app.open_link(text);
        }
        if !options.check.is_empty() {
            app.welcome = false;
            app.pending_check = options.check.clone();
            app.command(UiCommand::StepBatch);
        }
        app
    }

    /// Replays to a shared moment; a bad link is a message naming the field.
    pub fn open_link(&mut self, text: &str) {
        match link::Moment::parse(text) {
            Ok(m) => {
                self.welcome = false;
                self.command(UiCommand::OpenMoment(Box::new(m)))
            }
            Err(e) => self.say(MessageKind::Error, move || e.clone()),
        }
    }

    /// Takes over the settings kept from the last run. The dataset opened
    /// last is loaded again in the background (when the command line named
    /// none); if it is gone or broken, the shipped MNIST simply stays.
    pub fn restore_settings(&mut self, settings: Settings, reload_data: bool) {
        self.tab = settings.tab;
        // (The browser has no paths to load from: the site's MNIST is used.)
        if reload_data && !settings.last_data.is_empty() && cfg!(not(target_arch = "wasm32")) {
            self.data_panel.load_paths(settings.last_data.clone());
        }
        self.settings = settings;
    }

    /// The state to save as a session: the worker's part (model, optimizer,
    /// position) is asked for now; the returned function waits for it and
    /// adds the plots, so a file thread can call it without blocking the UI.
    pub fn checkout_session(&mut self) -> impl FnOnce() -> Option<crate::io::Session> + Send {
        let (tx, rx) = std::sync::mpsc::channel();
        self.send(Command::Checkout(tx));
        let losses: Vec<(u64, f32)> = self
            .history
            .losses
            .iter()
            .map(|&[batch, loss]| (batch as u64, loss as f32))
            .collect();
        let epochs = self.history.epochs.clone();
        let unread = self.unread_predictions.clone();
        let record = (!self.predictions.is_empty()).then(|| {
            String::from_utf8(record::record_bytes(&self.predictions)).expect("JSON is UTF-8")
        });
        move || {
            // In the browser the worker has answered already (it handles
            // each command as it is sent); there is no waiting there.
            #[cfg(target_arch = "wasm32")]
            let mut session = rx.try_recv().ok()?;
            #[cfg(not(target_arch = "wasm32"))]
            let mut session = rx.recv_timeout(std::time::Duration::from_secs(30)).ok()?;
            session.losses = losses;
            session.epochs = epochs;
            session.predictions = record;
            session.predictions_unread = unread;
            Some(session)
        }
    }

    /// Sample `n`'s share of layer `i`'s weight gradient in trace `t` (the
    /// engine's backward pass on that sample alone), computed once per
    /// step and sample.
    pub fn sample_share(
        &mut self,
        t: &crate::engine::trace::Trace,
        i: usize,
        n: usize,
    ) -> Option<Arc<crate::engine::Tensor>> {
        let key: ShareKey = (
            t.layers[i]
                .weight_grad
                .as_ref()
                .map(|g| Arc::as_ptr(g) as usize),
            i,
            n,
        );
        if let Some((k, share)) = &self.share_cache {
            if *k == key {
                return share.clone();
            }
        }
        let share = t.sample_weight_grad(i, n).map(Arc::new);
        self.share_cache = Some((key, share.clone()));
        share
    }

    /// Opens a saved session in the background (`--session FILE`); a bad
    /// one ends in a message in the window, and nothing else changes.
    pub fn open_session_file(&mut self, path: PathBuf) {
        self.files
            .open(crate::io::file::Input::path(path), files::open_session);
    }

    /// Records where a view the lesson may point at was drawn.
    pub fn mark(&mut self, mark: lesson::Mark, rect: egui::Rect) {
        self.marks.insert(mark, rect);
    }

    /// The network Reset builds, in a word or two (a preset's name, a
    /// file's, "your network" for the editor's).
    pub fn network_name(&self) -> String {
        match (&self.start_network, &self.start_source) {
            (Some(_), Some(source)) => source.name(),
            _ => self.config.preset.clone(),
        }
    }

    /// Shows a message on the status line, worded by `word` in the current
    /// language each time it is drawn.
    pub fn say(&mut self, kind: MessageKind, word: impl Fn() -> String + Send + Sync + 'static) {
        self.message = Some((kind, message::Message::new(word)));
    }

    /// A hand-in checked: its window opens, the status line sums it up and
    /// the views open on the first wrong cell.
    fn show_checked(&mut self, checked: Box<panels::checked::Checked>) {
        // The learner's record keeps every check and its diagnosis.
        if !checked.bug {
            for v in &checked.verdicts {
                self.predictions.push(predict::Record {
                    batch: checked.batch,
                    phase: format!("check:{}", v.name),
                    question: v.diagnosis.map_or("ok", crate::check::Mistake::id),
                    right: Some(v.ok),
                });
            }
        }
        let (ok, n) = (checked.matched(), checked.verdicts.len());
        let first = checked
            .verdicts
            .iter()
            .find(|v| !v.ok)
            .map(|v| v.name.clone());
        match first {
            None => self.say(MessageKind::Info, move || {
                crate::trf!("All {n} of your tensors match the engine's.", n = n)
            }),
            Some(name) => self.say(MessageKind::Warning, move || {
                crate::trf!(
                    "{ok} of {n} of your tensors match; {name} does not (see the panel below).",
                    ok = ok,
                    n = n,
                    name = name
                )
            }),
        }
        let same_step = self.snapshot.as_ref().map(|s| s.batches) == Some(checked.batch);
        if let (true, Some((cell, sample))) = (same_step, checked.first_wrong_cell()) {
            panels::checked::show_in_views(self, &checked, cell, sample);
        }
        self.checked = Some(checked);
    }

    /// Asks where to save the session, then writes it (the worker's state
    /// is collected on the dialog's thread).
    pub fn save_session_dialog(&mut self) {
        let checkout = self.checkout_session();
        self.files
            .save_dialog_with(tr("Save the session"), "session.safetensors", move || {
                checkout()
                    .map(|session| crate::io::session_bytes(&session))
                    .ok_or_else(|| tr("the training thread did not answer").to_string())
            });
    }

    /// This moment as a link, or why it cannot be one (a network from a
    /// file, a JSON preset).
    pub fn moment(&self) -> Result<link::Moment, String> {
        let s = self
            .snapshot
            .as_ref()
            .ok_or_else(|| tr("nothing has been loaded yet").to_string())?;
        if self.start_network.is_some() || !crate::presets::is_builtin(&self.config.preset) {
            return Err(
                tr("only the built-in networks (seed, lenet) can be shared as a link").to_string(),
            );
        }
        Ok(link::Moment {
            preset: self.config.preset.clone(),
            seed: self.config.seed,
            batch: self.config.batch,
            lr: s.lr,
            optimizer: s.optimizer,
            step: s.batches.max(1),
            phase: s.last.filter(|p| *p != crate::engine::stepper::Phase::Done),
            sample: self.sample,
            cell: self.selected.clone(),
            tab: self.tab,
            lesson: self.lesson.open,
            lang: self.settings.lang,
        })
    }

    /// Replays training from the moment's start to it: reset with its
    /// settings, whole batches up to its batch, then its phase.
    fn open_moment(&mut self, m: link::Moment) {
        self.config = TrainConfig {
            preset: m.preset.clone(),
            seed: m.seed,
            lr: m.lr,
            batch: m.batch,
            optimizer: m.optimizer,
            freeze_conv: false,
        };
        self.start_network = None;
        self.start_source = None;
        self.settings.lang = m.lang;
        self.welcome = false;
        self.reset();
        // One job on the worker, batch by batch, that Escape, Reset or a
        // new link stops at once (the status line shows its progress).
        self.by_hand = m.phase.is_some();
        self.run_start = None;
        self.send(Command::Replay {
            batches: m.step - 1,
            phase: m.phase,
        });
        self.command(UiCommand::PickSample(m.sample));
        self.command(UiCommand::ShowTab(m.tab));
        self.command(UiCommand::Select(m.cell));
        self.lesson.open = m.lesson;
    }

    /// Back to the start: the worker rebuilds the network Reset returns to,
    /// and everything that described the old training goes.
    fn reset(&mut self) {
        self.run_start = None;
        self.prediction = None;
        self.asked.clear();
        self.history = History::default();
        self.selected = None;
        self.view_layer = None;
        self.message = None;
        self.send(Command::Reset(
            self.config.clone(),
            self.start_network.clone(),
        ));
    }

    /// A link's replay under way: batches done of the total.
    pub fn replaying(&self) -> Option<worker::Replay> {
        self.snapshot.as_ref().and_then(|s| s.replay)
    }

    /// Whether steps are predicted before they are shown.
    pub fn predicting(&self) -> bool {
        self.settings.predict || self.lesson.open.is_some()
    }

    /// The status line as it reads now (kind and text).
    pub fn message_text(&self) -> Option<(MessageKind, String)> {
        self.message.as_ref().map(|(kind, m)| (*kind, m.text()))
    }

    /// Queues a command; it runs after this frame's drawing.
    pub fn command(&mut self, command: UiCommand) {
        self.commands.push(command);
    }

    /// Whether the worker has handled every command sent so far (tests wait
    /// on this between clicks).
    pub fn worker_idle(&self) -> bool {
        self.acked >= self.worker.sent()
            && !self
                .snapshot
                .as_ref()
                .is_some_and(|s| s.running || s.replay.is_some())
    }

    /// Takes everything the worker sent since the last frame.
    pub fn poll_worker(&mut self) {
        self.worker.pump();
        while let Ok(event) = self.worker.events.try_recv() {
            match event {
                Event::Snapshot(snapshot) => {
                    let batch = snapshot.trace.batch_size();
                    if self.sample >= batch {
                        self.sample = batch.saturating_sub(1);
                    }
                    self.snapshot = Some(snapshot);
                    predict::maybe_ask(self);
                }
                Event::Batches(batches) => {
                    for b in batches {
                        self.history.add_batch(b);
                    }
                }
                Event::Epoch {
                    epoch,
                    train_accuracy,
                    test_accuracy,
                } => {
                    self.history
                        .epochs
                        .push((epoch, train_accuracy, test_accuracy));
                }
                Event::Diverged { loss, batch, lr } => {
                    let what = if loss.is_finite() {
                        crate::trf!(
                            "jumped to {loss} (an untrained network starts near 2.3)",
                            loss = format!("{loss:.1}")
                        )
                    } else {
                        crate::trf!("became {loss}: the numbers overflowed", loss = loss)
                    };
                    let text = crate::trf!(
                        "Training diverged: the loss {what} at batch {batch}. The steps are too large for this network: try a smaller learning rate (now {lr}), then press Reset.",
                        what = what,
                        batch = batch,
                        lr = lr
                    );
                    self.message = Some((MessageKind::Error, text.into()));
                }
                Event::Refused(error) => self.say(MessageKind::Error, move || {
                    crate::trf!(
                        "Not started: {error}. Training continues as it was.",
                        error = error
                    )
                }),
                Event::Failed(error) => {
                    let text = crate::trf!(
                        "The training thread hit an internal error ({error}); press Reset to start again.",
                        error = error
                    );
                    self.message = Some((MessageKind::Error, text.into()));
                }
                Event::ReplayStopped { done, total } => self.say(MessageKind::Warning, move || {
                    crate::trf!(
                        "Stopped replaying the link after {done} of {total} batches: the shared moment was not reached.",
                        done = done,
                        total = total
                    )
                }),
                Event::Idle(seq) => self.acked = self.acked.max(seq),
            }
        }
    }

    fn apply_commands(&mut self) {
        // A command may ask for more (the lesson pauses and resets): all of
        // them this frame, within a bound no chain of commands comes near.
        for _ in 0..8 {
            if self.commands.is_empty() {
                break;
            }
            self.apply_commands_once();
        }
    }

    fn apply_commands_once(&mut self) {
        for command in std::mem::take(&mut self.commands) {
            match command {
                UiCommand::Reveal => predict::reveal(self),
                UiCommand::OpenMoment(m) => self.open_moment(*m),
                UiCommand::SetBug(bug) => {
                    self.bug = bug;
                    self.send(Command::SetTamper(bug.map(crate::check::bugs::tamper)));
                }
                // A covered step is revealed first: Space answers for the
                // class before it moves on.
                UiCommand::StepPhase if predict::covering(self) => predict::reveal(self),
                UiCommand::StepPhase => {
                    // Stepping is the answer to the first-start card, and
                    // ends looking back at a run.
                    self.by_hand = true;
                    self.welcome = false;
                    self.run_start = None;
                    self.send(Command::StepPhase)
                }
                UiCommand::StepBatch => {
                    self.by_hand = false;
                    self.welcome = false;
                    self.run_start = None;
                    self.send(Command::StepBatch)
                }
                UiCommand::Run => {
                    self.by_hand = false;
                    self.welcome = false;
                    self.run_start = self.snapshot.as_deref().map(RunStart::of);
                    self.send(Command::SetSpeed(self.speed));
                    self.send(Command::Run);
                }
                UiCommand::Pause => self.send(Command::Pause),
                UiCommand::Reset => self.reset(),
                UiCommand::StopReplay => {
                    if self.replaying().is_some() {
                        self.send(Command::Pause);
                    }
                }
                UiCommand::SetSpeed(speed) => {
                    self.speed = speed;
                    self.send(Command::SetSpeed(speed));
                }
                UiCommand::SetLr(lr) => {
                    self.config.lr = lr;
                    self.send(Command::SetLr(lr));
                }
                UiCommand::SetFreeze(freeze) => {
                    self.config.freeze_conv = freeze;
                    self.send(Command::SetFreeze(freeze));
                }
                UiCommand::Select(cell) => self.selected = cell,
                UiCommand::PickChannels(pair) => {
                    self.channels = pair;
                    self.selected = None;
                }
                UiCommand::ViewLayer(layer) => self.view_layer = layer,
                UiCommand::UseNetwork(net, source) => {
                    self.run_start = None;
                    self.start_network = Some((*net).clone());
                    self.start_source = Some(source.clone());
                    self.history = History::default();
                    self.selected = None;
                    self.say(MessageKind::Info, move || {
                        crate::trf!(
                            "Now using the network {source}; Reset returns to it.",
                            source = source.name()
                        )
                    });
                    self.send(Command::Reset(self.config.clone(), Some(*net)));
                }
                UiCommand::GoTo(phase) => {
                    self.by_hand = true;
                    self.send(Command::GoTo(phase))
                }
                UiCommand::Back => {
                    self.run_start = None;
                    self.send(Command::Back)
                }
                UiCommand::Forward => {
                    self.by_hand = true;
                    self.run_start = None;
                    self.send(Command::Forward)
                }
                UiCommand::Teach {
                    pixels,
                    label,
                    what,
                } => {
                    self.selected = None;
                    self.view_layer = None;
                    self.sample = 0;
                    self.taught = Some(what);
                    self.send(Command::Teach { pixels, label });
                }
                UiCommand::SetData(data, source, paths) => {
                    let (from, train, test) = (source.clone(), data.train.len(), data.test.len());
                    self.say(MessageKind::Info, move || {
                        crate::trf!(
                            "Loaded {source}: {train} training and {test} test images.",
                            source = from,
                            train = train,
                            test = test
                        )
                    });
                    self.settings.last_data = paths;
                    self.data = data.clone();
                    self.data_source = source;
                    self.history = History::default();
                    self.send(Command::SetData(data));
                }
                UiCommand::ResumeSession(session, start, source) => {
                    self.run_start = None;
                    let s = &session.settings;
                    self.config = s.config.clone();
                    // Reset starts the preset again; a network that was not
                    // a preset's comes back as it was saved.
                    self.start_source = start
                        .as_ref()
                        .map(|_| NetworkSource::Session(NetworkSource::file(&source)));
                    self.start_network = start.map(|net| *net);
                    self.history = History {
                        losses: session
                            .losses
                            .iter()
                            .map(|&(batch, loss)| [batch as f64, loss as f64])
                            .collect(),
                        epochs: session.epochs.clone(),
                        ..History::default()
                    };
                    self.selected = None;
                    self.view_layer = None;
                    // The learner's record comes back with the session; one
                    // that does not parse is said so and kept aside as it
                    // was, saved again with the session, never lost.
                    let (records, unread) = match session.predictions.as_deref() {
                        None => (Vec::new(), None),
                        Some(text) => match record::records_from(text.as_bytes()) {
                            Ok(records) => (records, None),
                            Err(e) => (Vec::new(), Some((text.to_string(), e))),
                        },
                    };
                    self.predictions = records;
                    self.unread_predictions = unread
                        .as_ref()
                        .map(|(text, _)| text.clone())
                        .or_else(|| session.predictions_unread.clone());
                    let (batch, epoch) = (s.progress.batches, s.progress.epoch + 1);
                    let why = unread.map(|(_, e)| crate::io::file::short(&e));
                    let kind = if why.is_some() {
                        MessageKind::Warning
                    } else {
                        MessageKind::Info
                    };
                    self.say(kind, move || {
                        let text = crate::trf!(
                            "Continuing the session {source}: batch {batch}, epoch {epoch}.",
                            source = source,
                            batch = batch,
                            epoch = epoch
                        );
                        match &why {
                            None => text,
                            Some(error) => format!(
                                "{text} {}",
                                crate::trf!(
                                    "Its record of predictions could not be read ({error}): it is kept aside as it was and saved with the session.",
                                    error = error
                                )
                            ),
                        }
                    });
                    self.send(Command::Resume(session));
                }
                UiCommand::LoadPretrained => {
                    let net = crate::presets::pretrained_model();
                    self.start_network = Some(net.clone());
                    self.start_source = Some(NetworkSource::Pretrained);
                    self.history = History::default();
                    self.selected = None;
                    self.say(MessageKind::Info, || tr("Loaded the pretrained model that ships with the program (99.4 % on MNIST's test set).").into());
                    self.send(Command::Reset(self.config.clone(), Some(net)));
                }
                UiCommand::ShowTab(tab) => {
                    self.tab = tab;
                    // Choosing a tab is an answer to the first-start card.
                    if tab != Tab::Backprop {
                        self.welcome = false;
                    }
                }
                UiCommand::PickSample(sample) => self.sample = sample,
                UiCommand::UsePreset(preset) => {
                    // A preset replaces a loaded model on the next Reset.
                    self.config.preset = preset;
                    self.start_network = None;
                    self.start_source = None;
                }
                UiCommand::SetTeachLabel(label) => self.teach_label = label,
                UiCommand::Dismiss => self.message = None,
                UiCommand::CloseWelcome => self.welcome = false,
                UiCommand::Lesson(m) => self.lesson_move(m),
            }
        }
    }

    /// The browser: once MNIST's training set is in, train on it (as the
    /// Data tab's new datasets do) and open the page's link, if any.
    #[cfg(target_arch = "wasm32")]
    fn poll_arrival(&mut self) {
        let Some(arrival) = self.arrival.clone() else {
            return;
        };
        let Some(done) = arrival.done.lock().expect("not poisoned").take() else {
            return;
        };
        self.arrival = None;
        match done {
            Ok(mnist) => {
                self.command(UiCommand::SetData(
                    Arc::new(mnist),
                    tr("MNIST, from this site").into(),
                    Vec::new(),
                ));
                match arrival.link.lock().expect("not poisoned").take() {
                    Some(link) => self.open_link(&link),
                    None => self.say(MessageKind::Info, || {
                        tr("MNIST's training set has arrived: training uses all 60,000 images.")
                            .to_string()
                    }),
                }
            }
            Err(e) => self.say(MessageKind::Error, move || {
                crate::trf!(
                    "MNIST's training set did not arrive ({error}): the app goes on with the test set.",
                    error = e
                )
            }),
        }
    }

    /// Files dropped on the window and what every background job sent,
    /// once per frame whatever tab is open. A failed load only shows a
    /// message: what was loaded stays.
    fn poll_jobs(&mut self, ctx: &egui::Context) {
        #[cfg(target_arch = "wasm32")]
        self.poll_arrival();
        self.experiment.poll();
        self.mistakes.poll();
        while let Some(result) = self.gradcheck.poll() {
            self.gradcheck_result = result;
        }
        // Pictures, models and sessions are opened one by one; the rest
        // (MNIST's files, folders) goes to the data panel together.
        let stepped = self
            .snapshot
            .as_ref()
            .is_some_and(|s| s.trace.logits_delta.is_some() && !s.running);
        if stepped && !self.pending_check.is_empty() && self.worker_idle() {
            let paths = std::mem::take(&mut self.pending_check);
            let inputs = paths
                .into_iter()
                .map(crate::io::file::Input::path)
                .collect();
            panels::checked::hand_in(self, inputs);
        }
        let dropped = data_panel::DataPanel::take_dropped_files(ctx);
        let dropped = self.files.read_dropped(dropped);
        self.open_dropped(dropped);
        while let Some(event) = self.files.poll() {
            self.file_event(event);
        }
        while let Some(event) = self.data_panel.poll() {
            match event {
                data_panel::DataEvent::Loaded {
                    data,
                    source,
                    paths,
                } => self.command(UiCommand::SetData(data, source, paths)),
                data_panel::DataEvent::Failed(problem) => self.say(MessageKind::Error, move || {
                    crate::trf!(
                        "Could not load the dataset: {error}. The data already loaded stays.",
                        error = problem.text()
                    )
                }),
                data_panel::DataEvent::Info(text) => {
                    self.message = Some((MessageKind::Warning, text.into()))
                }
            }
        }
    }

    /// Files dropped on the window, each to its reader: pictures, models
    /// and sessions one by one; tensors checked together; the rest (MNIST's
    /// files, folders) to the data panel together.
    fn open_dropped(&mut self, dropped: Vec<crate::io::file::Input>) {
        let (mut dataset, mut handed) = (Vec::new(), Vec::new());
        for input in dropped {
            match files::reader_for_dropped(&input.path) {
                Some(read) => self.files.open(input, read),
                None if files::is_hand_in(&input.path) => handed.push(input),
                None => dataset.push(input),
            }
        }
        if !handed.is_empty() {
            panels::checked::hand_in(self, handed);
        }
        if !dataset.is_empty() {
            self.tab = Tab::Data;
            self.data_panel.load_inputs(dataset);
        }
    }

    /// What a file job sent.
    fn file_event(&mut self, event: files::FileEvent) {
        match event {
            files::FileEvent::Dropped(inputs) => self.open_dropped(inputs),
            files::FileEvent::Screenshot(image) => self.files.save_screenshot(image),
            files::FileEvent::HandIn(paths) => panels::checked::hand_in(self, paths),
            files::FileEvent::ClassRecord(class) => self.class_record = Some(class),
            files::FileEvent::Checked(checked) => self.show_checked(checked),
            files::FileEvent::Saved(text) => self.message = Some((MessageKind::Info, text.into())),
            files::FileEvent::Failed(text) => {
                self.message = Some((MessageKind::Error, text.into()))
            }
            files::FileEvent::Refused(error) => self.say(MessageKind::Error, move || {
                crate::trf!(
                    "Could not open {error}. Nothing was changed: what was loaded stays.",
                    error = error
                )
            }),
            files::FileEvent::Opened(net, source) => self.command(UiCommand::UseNetwork(
                net,
                NetworkSource::File(NetworkSource::file(&source)),
            )),
            files::FileEvent::SessionOpened(session, start, source) => {
                self.command(UiCommand::ResumeSession(session, start, source))
            }
            files::FileEvent::Picture(pixels, source) => {
                self.pad.set_picture(&pixels);
                self.tab = Tab::Draw;
                self.say(MessageKind::Info, move || {
                        crate::trf!(
                            "The picture {source} is on the drawing pad, as the network sees it (28x28, centred).",
                            source = source
                        )
                    });
            }
        }
    }

    fn send(&mut self, command: Command) {
        self.worker.send(command);
    }

    /// The whole window's contents; eframe calls it every frame, and tests
    /// call it through an egui_kittest harness.
    pub fn ui_root(&mut self, ui: &mut egui::Ui) {
        crate::i18n::set_language(self.settings.lang);
        if !self.styled {
            setup_fonts(ui.ctx());
            self.styled = true;
        }
        if self.styled_for != Some(self.settings.look()) {
            let ctx = ui.ctx();
            ctx.set_theme(if self.settings.dark {
                egui::Theme::Dark
            } else {
                egui::Theme::Light
            });
            setup_style(ctx, self.settings.projector, self.settings.scale);
            heatmap::set_palette(ctx, self.settings.palette);
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(
                tr("backprop-viz: how the error reaches the filter").into(),
            ));
            self.styled_for = Some(self.settings.look());
        }
        shortcuts::handle_keys(self, ui);
        animate::keys(self, ui);
        self.poll_worker();
        self.advance_animation(f64::from(ui.input(|i| i.stable_dt).min(0.1)));
        if self.animation.as_ref().is_some_and(|a| a.playing) {
            ui.ctx().request_repaint();
        }
        self.poll_jobs(ui.ctx());
        self.marks.clear();
        self.animatable = None;
        // A selected cell the step on screen does not hold (a link's cell
        // while its replay is under way, a cell of another network) is set
        // aside while drawing: no view ever indexes with it.
        let stray = self.selected.as_ref().is_some_and(|cell| {
            self.snapshot
                .as_ref()
                .is_some_and(|s| !cell.fits(&s.trace, &s.network.plan.shapes))
        });
        let parked = if stray { self.selected.take() } else { None };
        egui::Panel::top("controls").show(ui, |ui| {
            let controls = panels::toolbar::toolbar_ui(self, ui);
            self.mark(lesson::Mark::Controls, controls);
            ui.separator();
            let pipeline = ui
                .scope(|ui| panels::pipeline::pipeline_ui(self, ui))
                .response
                .rect;
            self.mark(lesson::Mark::Pipeline, pipeline);
            panels::pipeline::phase_line_ui(self, ui);
            if let Some(replay) = self.replaying() {
                panels::pipeline::replay_ui(self, ui, replay);
            }
            if let Some((kind, message)) = self.message.clone() {
                panels::pipeline::message_ui(self, ui, kind, &message.text());
            }
        });
        // The plots take at most a fifth of the window; on a short window
        // (a 720p projector at 1.4x) they fold into one line that opens
        // them, so they stay one click away without taking the views' room.
        let room = ui.available_height();
        // While a check is open its panel takes the plots' place.
        if self.settings.show_plots && self.checked.is_none() {
            let folded = panels::toolbar::compact(ui.ctx()) && !self.plots_open;
            let plots = egui::Panel::bottom("plots").resizable(false);
            let plots = if folded {
                plots.show(ui, |ui| panels::plots::folded_ui(self, ui))
            } else {
                let height = (room * if self.plots_open { 0.45 } else { 0.2 }).clamp(90.0, 200.0);
                plots
                    .exact_size(height)
                    .show(ui, |ui| panels::plots::plots_ui(self, ui))
            };
            self.mark(lesson::Mark::Plots, plots.response.rect);
        }
        // Above the plots, right under the views it talks about.
        if self.lesson.open.is_some() {
            let tint = ui.visuals().faint_bg_color;
            let strip = egui::Panel::bottom("lesson")
                .frame(egui::Frame::side_top_panel(ui.style()).fill(tint))
                .show(ui, |ui| lesson::lesson_ui(self, ui));
            self.mark(lesson::Mark::LessonPanel, strip.response.rect);
        }
        // A student's checked backprop, under the views it opens.
        if let Some(checked) = &self.checked {
            let panel = egui::Panel::bottom("checked");
            let panel = if checked.folded {
                panel
            } else {
                panel.exact_size((room * 0.36).clamp(170.0, 340.0))
            };
            panel.show(ui, |ui| panels::checked::checked_ui(self, ui));
        }
        // The explanation belongs to the layer views: other tabs get the
        // whole width. Its width is the user's (drag the edge) and never
        // follows its content, so a click never moves the views.
        if self.settings.show_explain && self.tab == Tab::Backprop {
            let full = ui.available_width();
            let share = if panels::toolbar::compact(ui.ctx()) {
                0.3
            } else {
                0.4
            };
            let explain = egui::Panel::right("explain")
                .resizable(true)
                .default_size((full * 0.28).min(430.0))
                .min_size(180.0)
                .max_size(full * share)
                .show(ui, |ui| {
                    egui::ScrollArea::vertical()
                        .id_salt("explanation")
                        .auto_shrink([false, false])
                        .show(ui, |ui| panels::explanation::explanation_ui(self, ui));
                });
            self.mark(lesson::Mark::Explain, explain.response.rect);
        }
        egui::CentralPanel::default_margins().show(ui, |ui| {
            let compact = panels::toolbar::compact(ui.ctx());
            let tab_row = |ui: &mut egui::Ui, add: &mut dyn FnMut(&mut egui::Ui)| {
                if compact {
                    // One row that scrolls, whatever the language.
                    egui::ScrollArea::horizontal()
                        .id_salt("tabs")
                        .show(ui, |ui| ui.horizontal(|ui| add(ui)))
                        .inner
                        .response
                } else {
                    ui.horizontal_wrapped(|ui| add(ui)).response
                }
            };
            let tabs = tab_row(ui, &mut |ui: &mut egui::Ui| {
                for (tab, name, hover) in [
                    (Tab::Backprop, tr("Backprop"), tr("The layer views: forward values, deltas, filter gradients, the update")),
                    (Tab::Draw, tr("Draw a digit"), tr("Draw a digit and watch the network classify it")),
                    (Tab::Data, tr("Data"), tr("The dataset: counts and samples; open another one")),
                    (Tab::Experiment, tr("Frozen vs learning filters"), tr("The question's experiment: the same network trained with its filters frozen and learning")),
                    (Tab::Mistakes, tr("Mistakes"), tr("The confusion matrix and the misclassified test digits")),
                    (Tab::Architecture, tr("Architecture"), tr("Change the number of filters, the kernel, pooling, activation and FC width")),
                ] {
                    if ui.selectable_label(self.tab == tab, name).on_hover_text(hover).clicked() {
                        self.command(UiCommand::ShowTab(tab));
                    }
                }
            });
            self.mark(lesson::Mark::Tabs, tabs.rect);
            ui.separator();
            self.mark(lesson::Mark::Views, ui.available_rect_before_wrap());
            match self.tab {
                Tab::Backprop => views::layer_view_ui(self, ui),
                Tab::Draw => draw_tab::draw_tab_ui(self, ui),
                Tab::Data => {
                    let data = self.data.clone();
                    let action = self.data_panel.ui(ui, &data, &self.data_source);
                    self.data_panel.act(action);
                }
                Tab::Architecture => {
                    egui::ScrollArea::vertical().id_salt("architecture").show(ui, |ui| architecture::architecture_ui(self, ui));
                }
                Tab::Mistakes => {
                    egui::ScrollArea::vertical().id_salt("mistakes").show(ui, |ui| mistakes::mistakes_ui(self, ui));
                }
                Tab::Experiment => {
                    egui::ScrollArea::vertical().id_salt("experiment").show(ui, |ui| experiment::experiment_ui(self, ui));
                }
            }
        });
        if self.selected.is_none() {
            self.selected = parked;
        }
        shortcuts::shortcuts_window(self, ui);
        panels::welcome::welcome_ui(self, ui);
        record::class_window(self, ui);
        panels::find_bug::find_bug_ui(self, ui);
        lesson::highlight(self, ui.ctx());
        // Commands change what the next frame draws: ask for it at once, so a
        // click's answer never waits for the mouse to move.
        if !self.commands.is_empty() {
            ui.ctx().request_repaint();
        }
        self.apply_commands();
        if self
            .snapshot
            .as_ref()
            .is_some_and(|s| s.running || s.replay.is_some())
        {
            ui.ctx().request_repaint();
        }
    }
}

impl eframe::App for BackpropApp {
    fn logic(&mut self, _ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.poll_worker();
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.ui_root(ui);
        #[cfg(target_arch = "wasm32")]
        {
            let mut probe = std::mem::take(&mut self.probe);
            probe.frame(self, _frame.info().cpu_usage.unwrap_or(0.0) * 1000.0);
            self.probe = probe;
        }
    }

    /// The browser: the settings go to its storage every 2 s (eframe's
    /// web runner saves on a timer only; a closed tab gets no last save).
    #[cfg(target_arch = "wasm32")]
    fn auto_save_interval(&self) -> std::time::Duration {
        std::time::Duration::from_secs(2)
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        self.settings.tab = self.tab;
        eframe::set_value(storage, eframe::APP_KEY, &self.settings);
    }
}

/// DejaVu backs up egui's fonts for the maths (Σ ⋆ ′ → ✓) and Cyrillic.
pub fn setup_fonts(ctx: &egui::Context) {
    use egui::epaint::text::{FontInsert, FontPriority, InsertFontFamily};
    for (name, bytes, family) in [
        (
            "DejaVuSans",
            &include_bytes!("../../assets/fonts/DejaVuSans.ttf")[..],
            egui::FontFamily::Proportional,
        ),
        (
            "DejaVuSansMono",
            &include_bytes!("../../assets/fonts/DejaVuSansMono.ttf")[..],
            egui::FontFamily::Monospace,
        ),
    ] {
        ctx.add_font(FontInsert::new(
            name,
            egui::FontData::from_static(bytes),
            vec![InsertFontFamily {
                family,
                priority: FontPriority::Lowest,
            }],
        ));
    }
}

/// Larger text than egui's default: the app is read from the back of a
/// room. Projector mode scales everything up by 1.4 and strengthens text.
pub fn setup_style(ctx: &egui::Context, projector: bool, scale: f32) {
    let scale = if scale.is_finite() {
        scale.clamp(0.5, 3.0)
    } else {
        1.0
    };
    ctx.set_zoom_factor(scale * if projector { 1.4 } else { 1.0 });
    ctx.all_styles_mut(|style| {
        use egui::{FontFamily, FontId, TextStyle};
        let strong = if style.visuals.dark_mode {
            egui::Color32::WHITE
        } else {
            egui::Color32::BLACK
        };
        style.visuals.override_text_color = projector.then_some(strong);
        style.text_styles = [
            (
                TextStyle::Heading,
                FontId::new(24.0, FontFamily::Proportional),
            ),
            (TextStyle::Body, FontId::new(16.0, FontFamily::Proportional)),
            (
                TextStyle::Monospace,
                FontId::new(15.0, FontFamily::Monospace),
            ),
            (
                TextStyle::Button,
                FontId::new(16.0, FontFamily::Proportional),
            ),
            (
                TextStyle::Small,
                FontId::new(13.0, FontFamily::Proportional),
            ),
        ]
        .into();
        style.spacing.button_padding = egui::vec2(10.0, 5.0);
    });
}
