//! One writer: every change to the app's state is a [`UiCommand`], and
//! [`apply`] is the only code that changes an [`AppState`]. Keys, buttons,
//! the lesson, links, dropped files, the page, a background job's result
//! and the training worker's events all arrive as commands; what a command
//! needs done outside the state (a request to the worker, a file dialog, a
//! background job, the clipboard) it returns as an [`Effect`], which the
//! app's top level carries out. A command that implies others applies them
//! at once, in the same call: nothing is queued again, so a frame applies
//! its commands in one pass (rerun's `command_handling.rs`).

use std::path::PathBuf;
use std::sync::Arc;

use crate::app::files::{self, DataEvent, FileEvent};
use crate::app::link::Moment;
use crate::app::message::Message;
use crate::app::state::{
    AppState, MessageKind, NetworkSource, NudgeOutcome, RunStart, Settings, Taught,
};
use crate::app::worker::{Event, Request, Speed, TrainConfig};
use crate::check::bugs::Bug;
use crate::data::dataset::Mnist;
use crate::engine::gradcheck::FiniteDifference;
use crate::engine::network::Network;
use crate::engine::stepper::Phase;
use crate::engine::trace::Trace;
use crate::io::file::Input;
use crate::teach::animation::Animation;
use crate::teach::explain::CellRef;
use crate::teach::lesson::Tab;
use crate::teach::predict::Prediction;
use crate::trf;

pub mod class;
mod file_actions;
pub mod nudge;
mod teaching;
mod training;

pub use class::{ClassEffect, ClassMove};
use file_actions::{dropped, file_action, file_event, hand_in};
use nudge::{nudge, nudge_done};
use teaching::{checked_move, lesson_move, reveal, reveal_bug};
use training::{
    load_pretrained, open_moment, refresh_frame, reset, resume_session, set_data, teach, tick,
    use_network, worker_event,
};

/// Things the app is asked to do: by a click or a key, by the lesson, a
/// link, a file, a background job or the worker.
pub enum UiCommand {
    StepPhase,
    StepBatch,
    Run,
    Pause,
    Reset,
    SetSpeed(Speed),
    SetLr(f32),
    SetFreeze(bool),
    /// The settings that apply on Reset (network, optimizer, batch, seed).
    SetConfig(TrainConfig),
    Select(Option<CellRef>),
    /// The (out, in) channel pair the conv views show.
    PickChannels([usize; 2]),
    ViewLayer(Option<usize>),
    /// Conv views drawn as their dense matrix, or not.
    SetMatrix(bool),
    LoadPretrained,
    /// Use this network from now on (an opened model, the editor's);
    /// Reset returns to it.
    UseNetwork(Box<Network>, NetworkSource),
    /// Back and forward in time (history).
    Back,
    Forward,
    /// One step on a drawing (or a test digit) with its correct label, and
    /// the digit the learner predicts the network will answer after it.
    Teach {
        pixels: Vec<f32>,
        label: u8,
        what: Taught,
        guess: Option<u8>,
    },
    /// New datasets (the old stay until these arrive), with the paths they
    /// came from (remembered for the next start).
    SetData(Arc<Mnist>, String, Vec<PathBuf>),
    /// Move training to just after this phase (the guided lesson).
    GoTo(Phase),
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
    /// A picture for the drawing pad (a test digit, a dropped picture).
    ToPad(Vec<f32>),
    /// A message on the status line; hide it.
    Say(MessageKind, Message),
    Dismiss,
    /// The first-start card, opened (a first start) or closed.
    OpenWelcome,
    CloseWelcome,
    Lesson(LessonMove),
    /// The learner's answers so far to the question on screen.
    Answer(Prediction),
    /// Show the step a prediction covers, marking the answers.
    Reveal,
    /// Switch a deliberate mistake in the backward pass on or off; reveal
    /// it to the class.
    SetBug(Option<Bug>),
    RevealBug,
    /// Replay training to a shared moment: parsed, or a link to parse.
    OpenMoment(Box<Moment>),
    OpenLink(String),
    /// Stop a link's replay where it is (Escape).
    StopReplay,
    SetSettings(Box<Settings>),
    ShowShortcuts(bool),
    /// Lights a cell on the maps while a number about it is hovered.
    Light(Option<CellRef>),
    /// Blanks the screen (a clicker's B) or brings it back.
    Blank(bool),
    ShowFindBug(bool),
    CloseClassRecord,
    /// A layer's sum played (or stopped), and the clock that moves it on.
    SetAnimation(Option<Animation>),
    Tick(f64),
    /// The open check of a student's tensors.
    Checked(CheckedMove),
    /// The finite-difference check of a weight of the step on screen.
    Gradcheck(CellRef),
    /// Move a weight or an input pixel of the step by Δ (None: stop).
    Nudge(Option<(CellRef, f32)>),
    NudgeDone(NudgeOutcome),
    /// Files: saved, opened, checked, shared.
    File(FileAction),
    /// Files dropped on the window (or read by the page), each to its reader.
    Dropped(Vec<Input>),
    /// A student's tensors to check against the step on screen.
    HandIn(Vec<Input>),
    /// A saved session to open (`--session`); files to check once the first
    /// batch has run (`--check`).
    OpenSession(PathBuf),
    CheckOnceStepped(Vec<PathBuf>),
    /// The settings kept from the last run; the dataset opened last is
    /// loaded again unless the command line named one.
    RestoreSettings(Box<Settings>, bool),
    /// The browser: how much of MNIST's training set has arrived.
    Arriving(Option<f32>),
    /// What the training worker, a file job, the data panel and the
    /// gradient check sent.
    Worker(Event),
    FileDone(FileEvent),
    DataDone(DataEvent),
    GradcheckDone(Option<(CellRef, Option<FiniteDifference>)>),
    /// The live class: the teacher's buttons, a student's, and what the
    /// class server sent.
    Class(ClassMove),
}

/// What the guided lesson is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LessonMove {
    /// From the beginning, asking first if that would leave training behind.
    Start,
    /// The optional chapter (stride 2) from its start, asking first too.
    Chapter,
    /// The answer to that question: start after all, or not.
    Confirmed(bool),
    Go(usize),
    /// Close the strip; the menu continues from the same step.
    Leave,
    /// Close it after the last step.
    Finish,
}

/// What the check panel is asked to do.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckedMove {
    /// Show tensor `k` (at its first wrong cell).
    Choose(usize),
    /// The leading indices of the slice drawn, and the row of a wide matrix.
    At(Vec<usize>),
    Row(usize),
    Fold(bool),
    Close,
    /// Open the chosen tensor's first wrong cell in the views.
    Explain,
}

/// The File menu's actions (and the explanation panel's CSV export).
#[derive(Debug, Clone, PartialEq)]
pub enum FileAction {
    SaveModel,
    ExportPng,
    OpenModel,
    SaveSession,
    OpenSession,
    ExportTrace,
    ExportExercise,
    ShareMoment,
    SavePredictions,
    OpenClassRecord,
    /// A live class's report (its database).
    ClassReport,
    CheckMine,
    /// A tensor of the step as CSV, under its trace name.
    SaveCsv(String, Vec<u8>),
}

/// What a command needs done outside the state.
pub enum Effect {
    Worker(Request),
    /// Ask where, then write these bytes (named so by default).
    Save {
        title: &'static str,
        name: String,
        bytes: Vec<u8>,
    },
    /// Collect the worker's state and the plots, then ask where to save.
    SaveSession,
    Screenshot,
    OpenModelDialog,
    OpenSessionDialog,
    ClassRecordDialog,
    ClassReportDialog,
    CheckDialog(Trace, u64),
    CheckInputs(Vec<Input>, Trace, u64),
    ExportExercise(Trace),
    /// Read a file with this reader in the background.
    Open(Input, fn(&Input) -> FileEvent),
    /// MNIST's files or folders, for the data panel to load.
    LoadData(Vec<Input>),
    LoadDataPaths(Vec<PathBuf>),
    Gradcheck {
        trace: Trace,
        cell: CellRef,
    },
    /// The step with a knob moved by `delta`, or (None) the loss's curve
    /// over `±range`.
    Nudge {
        trace: Trace,
        step: usize,
        knob: crate::engine::nudge::Knob,
        delta: Option<f32>,
        range: f32,
    },
    CopyText(String),
    /// A picture (784 values) for the drawing pad.
    Picture(Vec<f32>),
    Class(ClassEffect),
}

/// Applies one command to the state; what else it needs done goes to `fx`.
pub fn apply(s: &mut AppState, command: UiCommand, fx: &mut Vec<Effect>) {
    use UiCommand as C;
    match command {
        // A student's question is the teacher's to reveal: Space, V and
        // Show me send the answer instead.
        C::Reveal | C::StepPhase
            if s.class.as_ref().is_some_and(|c| c.student_answering()) && s.covering() =>
        {
            class::class_move(s, ClassMove::Send, fx)
        }
        C::Reveal => {
            if !class::reveal_drawing(s, fx) {
                reveal(s)
            }
        }
        C::Answer(p) => {
            if s.prediction
                .as_ref()
                .is_some_and(|q| q.batch == p.batch && q.phase == p.phase)
            {
                s.prediction = Some(p);
            }
        }
        C::OpenMoment(m) => open_moment(s, *m, fx),
        // A class's link joins the class (teacher or student).
        C::OpenLink(text) if class::join_of(&text).is_some() => {
            if let Some(join) = class::join_of(&text) {
                s.welcome = false;
                class::class_move(s, join, fx);
            }
        }
        C::OpenLink(text) => match Moment::parse(&text) {
            Ok(m) => {
                s.welcome = false;
                open_moment(s, m, fx);
            }
            Err(e) => say(s, MessageKind::Error, move || e.to_string()),
        },
        C::StopReplay => {
            if s.replaying().is_some() {
                fx.push(Effect::Worker(Request::Pause));
            }
        }
        C::SetBug(bug) => {
            s.bug = bug;
            fx.push(Effect::Worker(Request::SetTamper(
                bug.map(crate::check::bugs::tamper),
            )));
        }
        C::RevealBug => reveal_bug(s),
        // A covered step is revealed first: Space answers for the class
        // before it moves on.
        C::StepPhase if s.covering() => reveal(s),
        C::StepPhase => {
            // Stepping is the answer to the first-start card, and ends
            // looking back at a run; the view follows the step again (not
            // the layer a check or a click pinned).
            s.by_hand = true;
            s.view_layer = None;
            s.welcome = false;
            s.run_start = None;
            fx.push(Effect::Worker(Request::StepPhase));
            // In the answer's numbering a conv or dense layer and its
            // activation are one layer: one step goes through both
            // (forward: the layer, then its activation; backward: the
            // activation's ⊙ f′, then the layer).
            if let Some(snapshot) = &s.snapshot {
                let num = s.numbering(&snapshot.trace.kinds);
                let both = match snapshot.next {
                    Phase::Forward(i) => num.folded_activation(i + 1),
                    Phase::Backward(i) => num.folded_activation(i),
                    _ => false,
                };
                if both {
                    fx.push(Effect::Worker(Request::StepPhase));
                }
            }
        }
        C::StepBatch => {
            s.by_hand = false;
            s.view_layer = None;
            s.welcome = false;
            s.run_start = None;
            fx.push(Effect::Worker(Request::StepBatch));
        }
        C::Run => {
            s.by_hand = false;
            s.welcome = false;
            s.run_start = s.snapshot.as_deref().map(RunStart::of);
            fx.push(Effect::Worker(Request::SetSpeed(s.speed)));
            fx.push(Effect::Worker(Request::Run));
        }
        C::Pause => fx.push(Effect::Worker(Request::Pause)),
        C::Reset => reset(s, fx),
        C::SetSpeed(speed) => {
            s.speed = speed;
            fx.push(Effect::Worker(Request::SetSpeed(speed)));
        }
        C::SetLr(lr) => {
            s.config.lr = lr;
            fx.push(Effect::Worker(Request::SetLr(lr)));
        }
        C::SetFreeze(freeze) => {
            s.config.freeze_conv = freeze;
            fx.push(Effect::Worker(Request::SetFreeze(freeze)));
        }
        C::SetConfig(config) => {
            // The learning rate and freezing apply at once; they have their
            // own commands, so only what waits for Reset changes here.
            s.config = TrainConfig {
                lr: s.config.lr,
                freeze_conv: s.config.freeze_conv,
                ..config
            };
        }
        C::Select(cell) => s.selected = cell,
        C::PickChannels(pair) => {
            s.channels = pair;
            s.selected = None;
        }
        C::ViewLayer(layer) => s.view_layer = layer,
        C::SetMatrix(on) => s.as_matrix = on,
        C::UseNetwork(net, source) => use_network(s, *net, source, fx),
        C::GoTo(phase) => {
            s.by_hand = true;
            fx.push(Effect::Worker(Request::GoTo(phase)));
        }
        C::Back => {
            s.run_start = None;
            s.view_layer = None;
            // A step the answer's numbering folds (a layer and its
            // activation) goes back whole, as Space went through it.
            let twice = s.snapshot.as_ref().is_some_and(|snap| {
                let num = s.numbering(&snap.trace.kinds);
                let folded = match snap.last {
                    Some(Phase::Forward(i)) => num.folded_activation(i),
                    Some(Phase::Backward(i)) => num.folded_activation(i + 1),
                    _ => false,
                };
                folded && snap.back_steps >= 2
            });
            for _ in 0..1 + usize::from(twice) {
                fx.push(Effect::Worker(Request::Back));
            }
        }
        C::Forward => {
            s.by_hand = true;
            s.run_start = None;
            s.view_layer = None;
            // And comes again whole (the phases Space would step).
            let twice = s.snapshot.as_ref().is_some_and(|snap| {
                let num = s.numbering(&snap.trace.kinds);
                let folded = match snap.next {
                    Phase::Forward(i) => num.folded_activation(i + 1),
                    Phase::Backward(i) => num.folded_activation(i),
                    _ => false,
                };
                folded && snap.forward_steps >= 2
            });
            for _ in 0..1 + usize::from(twice) {
                fx.push(Effect::Worker(Request::Forward));
            }
        }
        C::Teach {
            pixels,
            label,
            what,
            guess,
        } => teach(s, (pixels, label), what, guess, fx),
        C::SetData(data, source, paths) => set_data(s, data, source, paths, fx),
        C::ResumeSession(session, start, source) => resume_session(s, session, start, source, fx),
        C::LoadPretrained => load_pretrained(s, fx),
        C::ShowTab(tab) => {
            s.tab = tab;
            // Choosing a tab is an answer to the first-start card.
            if tab != Tab::Backprop {
                s.welcome = false;
            }
        }
        C::PickSample(sample) => s.sample = sample,
        C::UsePreset(preset) => {
            // A preset replaces a loaded model on the next Reset.
            s.config.preset = preset;
            s.start_network = None;
            s.start_source = None;
        }
        C::SetTeachLabel(label) => s.teach_label = label,
        C::ToPad(pixels) => fx.push(Effect::Picture(pixels)),
        C::Say(kind, message) => s.message = Some((kind, message)),
        C::Dismiss => s.message = None,
        C::OpenWelcome => s.welcome = true,
        C::CloseWelcome => s.welcome = false,
        C::Lesson(m) => {
            s.lit = None;
            lesson_move(s, m, fx);
        }
        C::SetSettings(settings) => s.settings = *settings,
        C::ShowShortcuts(on) => s.show_shortcuts = on,
        C::Blank(on) => s.blanked = on,
        C::Light(cell) => s.lit = cell,
        C::ShowFindBug(on) => s.show_find_bug = on,
        C::CloseClassRecord => {
            s.class_record = None;
            s.class_report = None;
        }
        C::SetAnimation(animation) => {
            s.animation = animation;
            refresh_frame(s);
        }
        C::Tick(seconds) => tick(s, seconds),
        C::Checked(m) => checked_move(s, m),
        C::Gradcheck(cell) => {
            if let (false, Some(snapshot)) = (s.gradchecking, &s.snapshot) {
                s.gradchecking = true;
                fx.push(Effect::Gradcheck {
                    trace: snapshot.trace.clone(),
                    cell,
                });
            }
        }
        C::GradcheckDone(result) => {
            s.gradchecking = false;
            if result.is_some() {
                s.gradcheck = result;
            }
        }
        C::Nudge(to) => nudge(s, to, fx),
        C::NudgeDone(outcome) => nudge_done(s, outcome, fx),
        C::File(action) => file_action(s, action, fx),
        C::Dropped(inputs) => dropped(s, inputs, fx),
        C::HandIn(inputs) => hand_in(s, inputs, fx),
        C::OpenSession(path) => fx.push(Effect::Open(Input::path(path), files::open_session)),
        C::CheckOnceStepped(paths) => {
            s.welcome = false;
            s.pending_check = paths;
            apply(s, C::StepBatch, fx);
        }
        C::RestoreSettings(settings, reload_data) => {
            s.tab = settings.tab;
            // (The browser has no paths to load from: the site's MNIST is used.)
            if reload_data && !settings.last_data.is_empty() && cfg!(not(target_arch = "wasm32")) {
                fx.push(Effect::LoadDataPaths(settings.last_data.clone()));
            }
            s.settings = *settings;
        }
        C::Arriving(fraction) => s.arriving = fraction,
        C::Worker(event) => worker_event(s, event, fx),
        C::Class(m) => class::class_move(s, m, fx),
        C::FileDone(event) => file_event(s, event, fx),
        C::DataDone(event) => match event {
            DataEvent::Loaded {
                data,
                source,
                paths,
            } => apply(s, C::SetData(data, source, paths), fx),
            DataEvent::Failed(problem) => say(s, MessageKind::Error, move || {
                trf!(
                    "Could not load the dataset: {error}. The data already loaded stays.",
                    error = problem.text()
                )
            }),
            DataEvent::Info(text) => s.message = Some((MessageKind::Warning, text.into())),
        },
    }
}

/// A message on the status line, worded by `word` in the current language
/// each time it is shown.
pub(super) fn say(
    s: &mut AppState,
    kind: MessageKind,
    word: impl Fn() -> String + Send + Sync + 'static,
) {
    s.message = Some((kind, Message::new(word)));
}
