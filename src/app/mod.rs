//! The desktop app (and the page): one window that steps backpropagation
//! through a CNN and shows every number it computes.
//!
//! State below, panels above, one writer:
//! - [`state`]: what is kept between runs and what many panels read;
//! - [`command`]: every change is a command; its `apply` is the only code
//!   that writes the state, and returns what must be done outside it;
//! - `panels/`, `views/`, `widgets/`: draw from the state (read-only) and
//!   ask for changes with commands;
//! - [`worker`]: training on its own thread, which sends snapshots;
//!   [`jobs`] and [`files`]: everything else that must not block a frame.
//!
//! This file is eframe's glue: each frame it turns what arrived (keys, the
//! worker's events, jobs' results, dropped files) into commands, applies
//! them in one pass, carries out their effects, lays the panels out and
//! saves the settings.

pub mod class_link;
pub mod classroom;
pub mod command;
pub mod cx;
pub mod files;
pub mod jobs;
pub mod link;
pub mod message;
pub mod panels;
pub mod state;
pub mod style;
pub mod views;
pub mod widgets;
pub mod worker;

use std::path::PathBuf;
use std::sync::Arc;

use crate::data::dataset::Mnist;
use crate::engine::gradcheck::FiniteDifference;
use crate::engine::network::Network;
use crate::i18n::tr;
use crate::teach::explain::CellRef;
use crate::teach::lesson::Mark;
pub use crate::teach::lesson::Tab;
use class_link::ClassLink;
use command::{apply, Effect};
pub use command::{CheckedMove, FileAction, LessonMove, UiCommand};
use cx::{Cx, Out};
use files::Files;
use jobs::Jobs;
use panels::Panels;
pub use state::{
    AppState, History, MessageKind, NetworkSource, RunStart, Settings, Taught, RUNNING_BATCHES,
};
use worker::{Request, TrainConfig, Worker};

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

/// The result of a finite-difference check of one weight.
type GradcheckResult = Option<(CellRef, Option<FiniteDifference>)>;

/// The app: its state, the worker and the jobs that feed it, the panels
/// that draw it, and what the panels asked for this frame.
pub struct BackpropApp {
    state: AppState,
    worker: Worker,
    files: Files,
    gradcheck: Jobs<GradcheckResult>,
    /// Moving a weight or a pixel by hand (None when a job panicked).
    nudges: Jobs<Option<state::NudgeOutcome>>,
    panels: Panels,
    out: Out,
    /// Fonts are added on the first frame (the context exists then); the
    /// style is built again when its settings change.
    fonts_added: bool,
    look: Option<state::Look>,
    /// The live class's connection, and the server this app started.
    class: ClassLink,
    repaint: jobs::Repaint,
}

/// The app is read as its state (`app.sample`, `app.snapshot`…): panels,
/// tests and the page read through this; only commands write.
impl std::ops::Deref for BackpropApp {
    type Target = AppState;

    fn deref(&self) -> &AppState {
        &self.state
    }
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

    /// An app whose worker and jobs call `repaint` after each event (tests
    /// pass a no-op and poll).
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
            state: AppState::new(config, network, data, source),
            worker,
            files: Files::new(repaint.clone()),
            gradcheck: Jobs::new(repaint.clone(), |_| None),
            nudges: Jobs::new(repaint.clone(), |_| None),
            panels: Panels::new(repaint.clone()),
            out: Out::default(),
            fonts_added: false,
            look: None,
            class: ClassLink::default(),
            repaint,
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
        let kept = cc
            .storage
            .and_then(|s| eframe::get_value::<Settings>(s, eframe::APP_KEY));
        match kept {
            Some(settings) => app.restore_settings(settings, options.data.is_none()),
            // Nothing kept: a first start, which opens with the card.
            None if options.session.is_none() && options.link.is_none() => {
                app.command(UiCommand::OpenWelcome)
            }
            None => {}
        }
        if let Some(path) = options.session.clone() {
            app.open_session_file(path);
        }
        if let Some(text) = &options.link {
            app.open_link(text);
        }
        if !options.check.is_empty() {
            app.command(UiCommand::CheckOnceStepped(options.check.clone()));
        }
        app
    }

    /// Queues a command; it is applied at the start of the next frame.
    pub fn command(&mut self, command: UiCommand) {
        self.out.commands.push(command);
    }

    /// Replays to a shared moment; a bad link is a message naming the field.
    pub fn open_link(&mut self, text: &str) {
        self.command(UiCommand::OpenLink(text.to_string()));
    }

    /// Opens a saved session in the background (`--session FILE`); a bad
    /// one ends in a message in the window, and nothing else changes.
    pub fn open_session_file(&mut self, path: PathBuf) {
        self.command(UiCommand::OpenSession(path));
    }

    /// Takes over the settings kept from the last run. The dataset opened
    /// last is loaded again in the background (when the command line named
    /// none); if it is gone or broken, the shipped MNIST simply stays.
    pub fn restore_settings(&mut self, settings: Settings, reload_data: bool) {
        self.command(UiCommand::RestoreSettings(Box::new(settings), reload_data));
    }

    /// The guided lesson at `step`, or left.
    pub fn lesson_go(&mut self, step: usize) {
        self.command(UiCommand::Lesson(LessonMove::Go(step)));
    }

    pub fn lesson_leave(&mut self) {
        self.command(UiCommand::Lesson(LessonMove::Leave));
    }

    /// The panels and what they hold (the drawing, the experiment…).
    pub fn panels(&self) -> &Panels {
        &self.panels
    }

    /// The panels' own state, for tests that set it as a user would type.
    pub fn panels_mut(&mut self) -> &mut Panels {
        &mut self.panels
    }

    /// Where the views a lesson can point at were drawn in the last frame.
    pub fn marks(&self) -> &std::collections::HashMap<Mark, egui::Rect> {
        &self.out.marks
    }

    /// Whether every command has been applied, the worker has handled every
    /// request sent so far and is not training on its own (tests wait on
    /// this between clicks).
    pub fn worker_idle(&self) -> bool {
        // (A command queued by the last frame may still send the worker
        // something.)
        self.out.commands.is_empty()
            && self.state.acked >= self.worker.sent()
            && !self
                .state
                .snapshot
                .as_ref()
                .is_some_and(|s| s.running || s.replay.is_some())
    }

    /// The state to save as a session: the worker's part (model, optimizer,
    /// position) is asked for now; the returned function waits for it and
    /// adds the plots, so a file thread can call it without blocking the UI.
    pub fn checkout_session(&mut self) -> impl FnOnce() -> Option<crate::io::Session> + Send {
        let (tx, rx) = std::sync::mpsc::channel();
        self.worker.send(Request::Checkout(tx));
        let s = &self.state;
        let losses: Vec<(u64, f32)> = s
            .history
            .losses
            .iter()
            .map(|&[batch, loss]| (batch as u64, loss as f32))
            .collect();
        let epochs = s.history.epochs.clone();
        let unread = s.unread_predictions.clone();
        let record = (!s.predictions.is_empty()).then(|| {
            String::from_utf8_lossy(&crate::teach::record::record_bytes(&s.predictions))
                .into_owned()
        });
        move || {
            // In the browser the worker has answered already (it handles
            // each request as it is sent); there is no waiting there.
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

    /// What arrived since the last frame, as commands: the worker's events,
    /// the jobs' results, files dropped on the window, the panels' jobs.
    fn collect(&mut self, ctx: &egui::Context) {
        let commands = &mut self.out.commands;
        self.worker.pump();
        while let Ok(event) = self.worker.events.try_recv() {
            commands.push(UiCommand::Worker(event));
        }
        while let Some(result) = self.gradcheck.poll() {
            commands.push(UiCommand::GradcheckDone(result));
        }
        while let Some(outcome) = self.nudges.poll() {
            match outcome {
                Some(outcome) => commands.push(UiCommand::NudgeDone(outcome)),
                // The job failed: stop the nudge rather than wait for it.
                None => commands.push(UiCommand::Nudge(None)),
            }
        }
        let dropped = panels::data::DataPanel::take_dropped_files(ctx);
        let dropped = self.files.read_dropped(dropped);
        if !dropped.is_empty() {
            commands.push(UiCommand::Dropped(dropped));
        }
        while let Some(event) = self.files.poll() {
            match event {
                files::FileEvent::Screenshot(image) => self.files.save_screenshot(image),
                event => commands.push(UiCommand::FileDone(event)),
            }
        }
        self.panels.poll(&self.state, commands);
        self.class.poll(commands);
    }

    /// Applies every command queued, in one pass, and carries out their
    /// effects.
    fn apply_commands(&mut self, ctx: &egui::Context) {
        let mut effects = Vec::new();
        for command in std::mem::take(&mut self.out.commands) {
            apply(&mut self.state, command, &mut effects);
        }
        command::class::sync(&mut self.state, &mut effects);
        for effect in effects {
            self.carry_out(effect, ctx);
        }
    }

    /// Does what a command needs done outside the state.
    fn carry_out(&mut self, effect: Effect, ctx: &egui::Context) {
        match effect {
            Effect::Worker(request) => self.worker.send(request),
            Effect::Save { title, name, bytes } => self.files.save_dialog(title, &name, bytes),
            Effect::SaveSession => {
                let checkout = self.checkout_session();
                self.files.save_dialog_with(
                    tr("Save the session"),
                    "session.safetensors",
                    move || {
                        checkout()
                            .map(|session| crate::io::session_bytes(&session))
                            .ok_or_else(|| tr("the training thread did not answer").to_string())
                    },
                );
            }
            Effect::Screenshot => self.files.export_view_png(ctx),
            Effect::OpenModelDialog => self.files.open_model_dialog(),
            Effect::OpenSessionDialog => self.files.open_session_dialog(),
            Effect::ClassRecordDialog => self.files.class_record_dialog(),
            #[cfg(not(target_arch = "wasm32"))]
            Effect::ClassReportDialog => self.files.class_report_dialog(),
            #[cfg(target_arch = "wasm32")]
            Effect::ClassReportDialog => {}
            Effect::CheckDialog(trace, batch) => self.files.check_dialog(trace, batch),
            Effect::CheckInputs(inputs, trace, batch) => {
                self.files.check_inputs(inputs, trace, batch)
            }
            #[cfg(not(target_arch = "wasm32"))]
            Effect::ExportExercise(trace) => self.files.export_exercise_dialog(trace),
            #[cfg(target_arch = "wasm32")]
            Effect::ExportExercise(_) => {}
            Effect::Open(input, read) => self.files.open(input, read),
            Effect::LoadData(inputs) => self.panels.data.load_inputs(inputs),
            Effect::LoadDataPaths(paths) => self.panels.data.load_paths(paths),
            Effect::Gradcheck { trace, cell } => {
                let CellRef::WeightGrad { layer, index } = cell.clone() else {
                    return;
                };
                self.gradcheck.spawn("gradient-check", move |out| {
                    let fd = crate::engine::gradcheck::check_weight(&trace, layer, &index);
                    out.send(Some((cell, fd)));
                });
            }
            Effect::Nudge {
                trace,
                step,
                knob,
                delta,
                range,
            } => {
                self.nudges.spawn("nudge", move |out| {
                    out.send(Some(command::nudge::compute(
                        &trace, step, knob, delta, range,
                    )));
                });
            }
            Effect::CopyText(text) => ctx.copy_text(text),
            Effect::Picture(pixels) => self.panels.draw.pad.set_picture(&pixels),
            Effect::Class(effect) => self.class_effect(effect),
        }
    }

    /// Carries out what the reducer asked of the class's connection.
    fn class_effect(&mut self, effect: command::ClassEffect) {
        match self.class.carry_out(effect, &self.repaint) {
            class_link::Outcome::Nothing => {}
            class_link::Outcome::Join(join) => self.command(UiCommand::Class(join)),
            class_link::Outcome::Failed(why) => self.command(UiCommand::Say(
                MessageKind::Error,
                message::Message::new(move || {
                    crate::trf!("Could not start the class: {why}", why = why)
                }),
            )),
        }
    }

    /// Fonts once; the style again whenever the settings it is built from
    /// change.
    fn style(&mut self, ctx: &egui::Context) {
        if !self.fonts_added {
            style::setup_fonts(ctx);
            self.fonts_added = true;
        }
        let look = self.state.settings.look();
        if self.look != Some(look) {
            ctx.set_theme(if self.state.settings.dark {
                egui::Theme::Dark
            } else {
                egui::Theme::Light
            });
            style::setup_style(
                ctx,
                self.state.settings.projector,
                self.state.settings.scale,
            );
            widgets::heatmap::set_palette(ctx, self.state.settings.palette);
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(
                tr("backprop-viz: how the error reaches the filter").into(),
            ));
            self.look = Some(look);
        }
    }

    /// One pass of the reducer: what arrived and was asked since the last
    /// pass (keys, the panels' clicks, the worker's events, the jobs'
    /// results, the animation's clock) applied at once, each command once.
    /// eframe runs it in `logic`, before each frame is drawn and even while
    /// the window is hidden.
    fn logic_pass(&mut self, ctx: &egui::Context) {
        crate::i18n::set_language(self.state.settings.lang);
        let keys = panels::shortcuts::keys(ctx, &self.state, self.out.animatable.as_ref());
        self.out.commands.extend(keys);
        self.collect(ctx);
        let seconds = f64::from(ctx.input(|i| i.stable_dt).min(0.1));
        self.out.commands.push(UiCommand::Tick(seconds));
        self.apply_commands(ctx);
        // The language and the look as the commands left them, for what
        // is drawn (and worded) next.
        crate::i18n::set_language(self.state.settings.lang);
        self.style(ctx);
    }

    /// Draws the window from the state; what the panels ask for waits for
    /// the next pass.
    fn draw(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        crate::i18n::set_language(self.state.settings.lang);
        self.style(&ctx);
        self.out.clear_frame();
        let mut cx = Cx::new(&self.state, &mut self.out);
        self.panels.ui(ui, &mut cx);
        // Commands change what the next frame draws: ask for it at once, so
        // a click's answer never waits for the mouse to move.
        let playing = self.state.animation.as_ref().is_some_and(|a| a.playing);
        let busy = self
            .state
            .snapshot
            .as_ref()
            .is_some_and(|s| s.running || s.replay.is_some());
        if !self.out.commands.is_empty() || playing || busy {
            ctx.request_repaint();
        }
    }

    /// A whole frame, the drawing and then the reducer's pass (as eframe
    /// calls `ui`, then `logic` for the next frame): what tests (with an
    /// egui_kittest harness) and the benchmark call. A click is applied
    /// before the frame ends.
    pub fn ui_root(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.draw(ui);
        self.logic_pass(&ctx);
    }
}

impl eframe::App for BackpropApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.logic_pass(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.draw(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        let mut settings = self.state.settings.clone();
        settings.tab = self.state.tab;
        eframe::set_value(storage, eframe::APP_KEY, &settings);
    }
}
