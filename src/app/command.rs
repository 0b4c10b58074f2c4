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

use super::files::{self, DataEvent, FileEvent};
use super::link::Moment;
use super::message::Message;
use super::state::{AppState, History, MessageKind, NetworkSource, RunStart, Settings, Taught};
use super::worker::{Event, Request, Speed, TrainConfig};
use crate::check::bugs::Bug;
use crate::check::checked::Checked;
use crate::check::{Named, Part};
use crate::data::dataset::Mnist;
use crate::engine::gradcheck::FiniteDifference;
use crate::engine::network::Network;
use crate::engine::stepper::Phase;
use crate::engine::trace::Trace;
use crate::i18n::tr;
use crate::io::file::Input;
use crate::io::Handed;
use crate::teach::animation::Animation;
use crate::teach::explain::CellRef;
use crate::teach::lesson::{steps, Goal, Tab};
use crate::teach::predict::{is_right, questions, Given, Prediction};
use crate::teach::record::Record;
use crate::trf;

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
    ShowFindBug(bool),
    CloseClassRecord,
    /// A layer's sum played (or stopped), and the clock that moves it on.
    SetAnimation(Option<Animation>),
    Tick(f64),
    /// The open check of a student's tensors.
    Checked(CheckedMove),
    /// The finite-difference check of a weight of the step on screen.
    Gradcheck(CellRef),
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
    CopyText(String),
    /// A picture (784 values) for the drawing pad.
    Picture(Vec<f32>),
}

/// Applies one command to the state; what else it needs done goes to `fx`.
pub fn apply(s: &mut AppState, command: UiCommand, fx: &mut Vec<Effect>) {
    use UiCommand as C;
    match command {
        C::Reveal => reveal(s),
        C::Answer(p) => {
            if s.prediction
                .as_ref()
                .is_some_and(|q| q.batch == p.batch && q.phase == p.phase)
            {
                s.prediction = Some(p);
            }
        }
        C::OpenMoment(m) => open_moment(s, *m, fx),
        C::OpenLink(text) => match Moment::parse(&text) {
            Ok(m) => {
                s.welcome = false;
                open_moment(s, m, fx);
            }
            Err(e) => say(s, MessageKind::Error, move || e.clone()),
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
            // looking back at a run.
            s.by_hand = true;
            s.welcome = false;
            s.run_start = None;
            fx.push(Effect::Worker(Request::StepPhase));
        }
        C::StepBatch => {
            s.by_hand = false;
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
        C::UseNetwork(net, source) => {
            s.run_start = None;
            s.start_network = Some((*net).clone());
            s.start_source = Some(source.clone());
            s.history = History::default();
            s.selected = None;
            say(s, MessageKind::Info, move || {
                trf!(
                    "Now using the network {source}; Reset returns to it.",
                    source = source.name()
                )
            });
            fx.push(Effect::Worker(Request::Reset(s.config.clone(), Some(*net))));
        }
        C::GoTo(phase) => {
            s.by_hand = true;
            fx.push(Effect::Worker(Request::GoTo(phase)));
        }
        C::Back => {
            s.run_start = None;
            fx.push(Effect::Worker(Request::Back));
        }
        C::Forward => {
            s.by_hand = true;
            s.run_start = None;
            fx.push(Effect::Worker(Request::Forward));
        }
        C::Teach {
            pixels,
            label,
            what,
            guess,
        } => {
            s.selected = None;
            s.view_layer = None;
            s.sample = 0;
            s.taught = Some(what);
            s.teach_label = label;
            s.teach_guess = guess.map(|g| (g, pixels.clone()));
            fx.push(Effect::Worker(Request::Teach { pixels, label }));
        }
        C::SetData(data, source, paths) => {
            let (from, train, test) = (source.clone(), data.train.len(), data.test.len());
            say(s, MessageKind::Info, move || {
                trf!(
                    "Loaded {source}: {train} training and {test} test images.",
                    source = from,
                    train = train,
                    test = test
                )
            });
            s.settings.last_data = paths;
            s.data = data.clone();
            s.data_source = source;
            s.history = History::default();
            fx.push(Effect::Worker(Request::SetData(data)));
        }
        C::ResumeSession(session, start, source) => resume_session(s, session, start, source, fx),
        C::LoadPretrained => {
            let net = crate::presets::pretrained_model();
            s.start_network = Some(net.clone());
            s.start_source = Some(NetworkSource::Pretrained);
            s.history = History::default();
            s.selected = None;
            say(s, MessageKind::Info, || {
                tr("Loaded the pretrained model that ships with the program (99.4 % on MNIST's test set).").into()
            });
            fx.push(Effect::Worker(Request::Reset(s.config.clone(), Some(net))));
        }
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
        C::Lesson(m) => lesson_move(s, m, fx),
        C::SetSettings(settings) => s.settings = *settings,
        C::ShowShortcuts(on) => s.show_shortcuts = on,
        C::ShowFindBug(on) => s.show_find_bug = on,
        C::CloseClassRecord => s.class_record = None,
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
fn say(s: &mut AppState, kind: MessageKind, word: impl Fn() -> String + Send + Sync + 'static) {
    s.message = Some((kind, Message::new(word)));
}

/// Back to the start: the worker rebuilds the network Reset returns to,
/// and everything that described the old training goes.
fn reset(s: &mut AppState, fx: &mut Vec<Effect>) {
    s.run_start = None;
    s.prediction = None;
    s.asked.clear();
    s.history = History::default();
    s.selected = None;
    s.view_layer = None;
    s.message = None;
    fx.push(Effect::Worker(Request::Reset(
        s.config.clone(),
        s.start_network.clone(),
    )));
}

/// Replays training from the moment's start to it: reset with its
/// settings, then one job on the worker, batch by batch, that Escape, Reset
/// or a new link stops at once (the status line shows its progress).
fn open_moment(s: &mut AppState, m: Moment, fx: &mut Vec<Effect>) {
    s.config = TrainConfig {
        preset: m.preset.clone(),
        seed: m.seed,
        lr: m.lr,
        batch: m.batch,
        optimizer: m.optimizer,
        freeze_conv: false,
    };
    s.start_network = None;
    s.start_source = None;
    s.settings.lang = m.lang;
    s.welcome = false;
    reset(s, fx);
    s.by_hand = m.phase.is_some();
    s.run_start = None;
    fx.push(Effect::Worker(Request::Replay {
        batches: m.step - 1,
        phase: m.phase,
    }));
    s.sample = m.sample;
    s.tab = m.tab;
    if m.tab != Tab::Backprop {
        s.welcome = false;
    }
    s.selected = m.cell;
    s.lesson.open = m.lesson;
}

/// Opens the lesson at `step`: the tab, and training moved to the phase
/// the step talks about.
fn lesson_go(s: &mut AppState, step: usize, fx: &mut Vec<Effect>) {
    let steps = steps();
    let step = step.min(steps.len() - 1);
    s.lesson.open = Some(step);
    s.welcome = false;
    let here = &steps[step];
    s.tab = here.tab;
    match here.goal {
        Goal::Fresh => {
            s.config = super::default_config();
            s.start_network = None;
            s.start_source = None;
            fx.push(Effect::Worker(Request::Pause));
            reset(s, fx);
        }
        Goal::After(phase) => {
            fx.push(Effect::Worker(Request::Pause));
            s.view_layer = None;
            s.by_hand = true;
            fx.push(Effect::Worker(Request::GoTo(phase)));
        }
        Goal::Anywhere => {}
    }
}

fn lesson_move(s: &mut AppState, m: LessonMove, fx: &mut Vec<Effect>) {
    match m {
        LessonMove::Start if s.lesson_would_reset_work() => s.confirm_lesson = true,
        LessonMove::Start | LessonMove::Confirmed(true) => {
            s.confirm_lesson = false;
            lesson_go(s, 0, fx);
        }
        LessonMove::Confirmed(false) => s.confirm_lesson = false,
        LessonMove::Go(step) => lesson_go(s, step, fx),
        LessonMove::Leave => s.lesson.left_at = s.lesson.open.take(),
        LessonMove::Finish => {
            s.lesson.open = None;
            s.lesson.left_at = None;
        }
    }
}

/// The animation's frame for the step on screen, once per change (the
/// views read it; nothing recomputes it while drawing).
fn refresh_frame(s: &mut AppState) {
    s.frame = match (&s.animation, &s.snapshot) {
        (Some(a), Some(snapshot)) => a.current(&snapshot.trace),
        _ => None,
    };
}

/// Moves a playing animation on by `seconds` (once per frame); ends one
/// whose step is gone.
fn tick(s: &mut AppState, seconds: f64) {
    let Some(snapshot) = &s.snapshot else { return };
    let Some(a) = &mut s.animation else { return };
    if !a.belongs_to(&snapshot.trace) {
        s.animation = None;
        s.frame = None;
        return;
    }
    let before = a.frame_index();
    a.advance(&snapshot.trace, seconds);
    if a.frame_index() != before || s.frame.is_none() {
        refresh_frame(s);
    }
}

/// After each snapshot: asks about the step just taken by hand, when
/// predicting (never during a run, never twice about the same step).
fn maybe_ask(s: &mut AppState) {
    check_teach_guess(s);
    if !s.predicting() || !s.by_hand {
        return;
    }
    let Some(snapshot) = s.snapshot.as_ref() else {
        return;
    };
    let Some(phase) = snapshot.last else {
        return;
    };
    if snapshot.running || snapshot.teaching || snapshot.replay.is_some() {
        return;
    }
    if s.prediction
        .as_ref()
        .is_some_and(|p| p.batch == snapshot.batches && p.phase == phase)
        || s.asked.contains(&(snapshot.batches, phase))
    {
        return;
    }
    let asks = questions(
        &snapshot.trace,
        phase,
        s.sample,
        s.channels[1],
        snapshot.batches,
    );
    if asks.is_empty() {
        return;
    }
    let batch = snapshot.batches;
    s.asked.insert((batch, phase));
    s.prediction = Some(Prediction {
        batch,
        phase,
        asks: asks.into_iter().map(|a| (a, Given::Nothing)).collect(),
        revealed: false,
        marks: Vec::new(),
    });
}

/// After a taught drawing's update: the network's answer now against the
/// digit the learner predicted.
fn check_teach_guess(s: &mut AppState) {
    let done = s
        .snapshot
        .as_ref()
        .is_some_and(|snap| snap.teaching && snap.last == Some(Phase::Update));
    if !done {
        return;
    }
    let Some((guess, pixels)) = s.teach_guess.take() else {
        return;
    };
    let Some(probs) = s.classify(&pixels) else {
        return;
    };
    let answer = probs
        .iter()
        .enumerate()
        .fold(
            (0, f32::MIN),
            |best, (d, &p)| if p > best.1 { (d, p) } else { best },
        )
        .0 as u8;
    let right = answer == guess;
    s.predictions.push(Record {
        batch: s.snapshot.as_ref().map_or(0, |snap| snap.batches),
        phase: "teach".into(),
        question: "taught-digit",
        right: Some(right),
    });
    let sure = probs[answer as usize] * 100.0;
    say(s, MessageKind::Info, move || {
        if right {
            trf!(
                "✔ Right: after one step on your drawing the network answers {answer} ({sure} %), as you predicted.",
                answer = answer,
                sure = format!("{sure:.0}")
            )
        } else {
            trf!(
                "✘ You predicted {guess}; after one step on your drawing the network answers {answer} ({sure} %). One small step moves the weights only a little.",
                guess = guess,
                answer = answer,
                sure = format!("{sure:.0}")
            )
        }
    });
}

/// Shows the step: marks each answer against the trace and records it.
fn reveal(s: &mut AppState) {
    let Some(snapshot) = s.snapshot.clone() else {
        return;
    };
    let Some(p) = s.prediction.as_mut().filter(|p| !p.revealed) else {
        return;
    };
    p.marks = p
        .asks
        .iter()
        .map(|(ask, given)| is_right(&snapshot.trace, ask, given))
        .collect();
    p.revealed = true;
    let phase = p.phase.id(&snapshot.trace.names);
    for ((ask, _), right) in p.asks.iter().zip(&p.marks) {
        s.predictions.push(Record {
            batch: p.batch,
            phase: phase.clone(),
            question: ask.kind(),
            right: *right,
        });
    }
}

/// What the worker sent.
fn worker_event(s: &mut AppState, event: Event, fx: &mut Vec<Effect>) {
    match event {
        Event::Snapshot(snapshot) => {
            let batch = snapshot.trace.batch_size();
            if s.sample >= batch {
                s.sample = batch.saturating_sub(1);
            }
            s.snapshot = Some(Arc::from(snapshot));
            refresh_frame(s);
            maybe_ask(s);
            check_pending(s, fx);
        }
        Event::Batches(batches) => {
            for b in batches {
                s.history.add_batch(b);
            }
        }
        Event::Epoch {
            epoch,
            train_accuracy,
            test_accuracy,
        } => s
            .history
            .epochs
            .push((epoch, train_accuracy, test_accuracy)),
        Event::Diverged { loss, batch, lr } => {
            let what = if loss.is_finite() {
                trf!(
                    "jumped to {loss} (an untrained network starts near 2.3)",
                    loss = format!("{loss:.1}")
                )
            } else {
                trf!("became {loss}: the numbers overflowed", loss = loss)
            };
            let text = trf!(
                "Training diverged: the loss {what} at batch {batch}. The steps are too large for this network: try a smaller learning rate (now {lr}), then press Reset.",
                what = what,
                batch = batch,
                lr = lr
            );
            s.message = Some((MessageKind::Error, text.into()));
        }
        Event::Refused(error) => say(s, MessageKind::Error, move || {
            trf!(
                "Not started: {error}. Training continues as it was.",
                error = error
            )
        }),
        Event::Failed(error) => {
            let text = trf!(
                "The training thread hit an internal error ({error}); press Reset to start again.",
                error = error
            );
            s.message = Some((MessageKind::Error, text.into()));
        }
        Event::ReplayStopped { done, total } => say(s, MessageKind::Warning, move || {
            trf!(
                "Stopped replaying the link after {done} of {total} batches: the shared moment was not reached.",
                done = done,
                total = total
            )
        }),
        Event::Idle(seq) => {
            s.acked = s.acked.max(seq);
            check_pending(s, fx);
        }
    }
}

/// `--check`: the files are checked once the first batch's backward pass
/// is there and the worker has nothing left to do.
fn check_pending(s: &mut AppState, fx: &mut Vec<Effect>) {
    if s.pending_check.is_empty() {
        return;
    }
    let ready = s.snapshot.as_ref().is_some_and(|snap| {
        snap.trace.logits_delta.is_some() && !snap.running && snap.replay.is_none()
    });
    if ready {
        let inputs = std::mem::take(&mut s.pending_check)
            .into_iter()
            .map(Input::path)
            .collect();
        hand_in(s, inputs, fx);
    }
}

/// Continues a saved session: its settings, plots and record.
fn resume_session(
    s: &mut AppState,
    session: Box<crate::io::Session>,
    start: Option<Box<Network>>,
    source: String,
    fx: &mut Vec<Effect>,
) {
    s.run_start = None;
    let settings = &session.settings;
    s.config = settings.config.clone();
    // Reset starts the preset again; a network that was not a preset's
    // comes back as it was saved.
    s.start_source = start
        .as_ref()
        .map(|_| NetworkSource::Session(NetworkSource::file(&source)));
    s.start_network = start.map(|net| *net);
    s.history = History::resumed(
        session
            .losses
            .iter()
            .map(|&(batch, loss)| [batch as f64, loss as f64])
            .collect(),
        session.epochs.clone(),
    );
    s.selected = None;
    s.view_layer = None;
    // The learner's record comes back with the session; one that does not
    // parse is said so and kept aside as it was, saved again with the
    // session, never lost.
    let (records, unread) = match session.predictions.as_deref() {
        None => (Vec::new(), None),
        Some(text) => match crate::teach::record::records_from(text.as_bytes()) {
            Ok(records) => (records, None),
            Err(e) => (Vec::new(), Some((text.to_string(), e))),
        },
    };
    s.predictions = records;
    s.unread_predictions = unread
        .as_ref()
        .map(|(text, _)| text.clone())
        .or_else(|| session.predictions_unread.clone());
    let (batch, epoch) = (settings.progress.batches, settings.progress.epoch + 1);
    let why = unread.map(|(_, e)| crate::io::file::short(&e));
    let kind = if why.is_some() {
        MessageKind::Warning
    } else {
        MessageKind::Info
    };
    say(s, kind, move || {
        let text = trf!(
            "Continuing the session {source}: batch {batch}, epoch {epoch}.",
            source = source,
            batch = batch,
            epoch = epoch
        );
        match &why {
            None => text,
            Some(error) => format!(
                "{text} {}",
                trf!(
                    "Its record of predictions could not be read ({error}): it is kept aside as it was and saved with the session.",
                    error = error
                )
            ),
        }
    });
    fx.push(Effect::Worker(Request::Resume(session)));
}

/// The step on screen to check against, or a word on why there is none.
fn checkable(s: &mut AppState) -> Option<(Trace, u64)> {
    let step = s.checkable_step();
    if step.is_none() {
        say(s, MessageKind::Warning, || {
            tr("Your backprop is checked against the step on screen: step through its backward pass first (Step batch), then check.").to_string()
        });
    }
    step
}

/// Reads the files handed in and checks them against the step on screen,
/// off the UI thread.
fn hand_in(s: &mut AppState, inputs: Vec<Input>, fx: &mut Vec<Effect>) {
    if let Some((trace, batch)) = checkable(s) {
        fx.push(Effect::CheckInputs(inputs, trace, batch));
    }
}

/// Files dropped on the window, each to its reader: pictures, models and
/// sessions one by one; tensors checked together; the rest (MNIST's files,
/// folders) to the data panel together.
fn dropped(s: &mut AppState, inputs: Vec<Input>, fx: &mut Vec<Effect>) {
    let (mut dataset, mut handed) = (Vec::new(), Vec::new());
    for input in inputs {
        match files::reader_for_dropped(&input.path) {
            Some(read) => fx.push(Effect::Open(input, read)),
            None if files::is_hand_in(&input.path) => handed.push(input),
            None => dataset.push(input),
        }
    }
    if !handed.is_empty() {
        hand_in(s, handed, fx);
    }
    if !dataset.is_empty() {
        s.tab = Tab::Data;
        fx.push(Effect::LoadData(dataset));
    }
}

/// What a file job sent.
fn file_event(s: &mut AppState, event: FileEvent, fx: &mut Vec<Effect>) {
    match event {
        // Saved by the app's top level, which has the window.
        FileEvent::Screenshot(_) => {}
        FileEvent::Dropped(inputs) => dropped(s, inputs, fx),
        FileEvent::HandIn(inputs) => hand_in(s, inputs, fx),
        FileEvent::ClassRecord(class) => s.class_record = Some(class),
        FileEvent::Checked(checked) => show_checked(s, checked),
        FileEvent::Saved(text) => s.message = Some((MessageKind::Info, text.into())),
        FileEvent::Failed(text) => s.message = Some((MessageKind::Error, text.into())),
        FileEvent::Refused(error) => say(s, MessageKind::Error, move || {
            trf!(
                "Could not open {error}. Nothing was changed: what was loaded stays.",
                error = error
            )
        }),
        FileEvent::Opened(net, source) => apply(
            s,
            UiCommand::UseNetwork(net, NetworkSource::File(NetworkSource::file(&source))),
            fx,
        ),
        FileEvent::SessionOpened(session, start, source) => {
            resume_session(s, session, start, source, fx)
        }
        FileEvent::Picture(pixels, source) => {
            fx.push(Effect::Picture(pixels));
            s.tab = Tab::Draw;
            say(s, MessageKind::Info, move || {
                trf!(
                    "The picture {source} is on the drawing pad, as the network sees it (28x28, centred).",
                    source = source
                )
            });
        }
    }
}

/// A hand-in checked: its panel opens, the status line sums it up and the
/// views open on the first wrong cell.
fn show_checked(s: &mut AppState, checked: Box<Checked>) {
    // The learner's record keeps every check and its diagnosis.
    if !checked.bug {
        for v in &checked.verdicts {
            s.predictions.push(Record {
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
        None => say(s, MessageKind::Info, move || {
            trf!("All {n} of your tensors match the engine's.", n = n)
        }),
        Some(name) => say(s, MessageKind::Warning, move || {
            trf!(
                "{ok} of {n} of your tensors match; {name} does not (see the panel below).",
                ok = ok,
                n = n,
                name = name
            )
        }),
    }
    let same_step = s.snapshot.as_ref().map(|snap| snap.batches) == Some(checked.batch);
    s.checked = Some(checked);
    if same_step {
        show_in_views(s);
    }
}

/// Opens the checked tensor's layer in the Backprop tab with its first
/// wrong cell selected (the explanation panel shows how it is computed).
fn show_in_views(s: &mut AppState) {
    let Some(checked) = &s.checked else { return };
    let Some((cell, sample)) = checked.first_wrong_cell() else {
        return;
    };
    let Named::Layer(layer, _) = checked.named[checked.chosen] else {
        return;
    };
    s.tab = Tab::Backprop;
    s.view_layer = Some(layer);
    if let Some(n) = sample {
        s.sample = n;
    }
    match &cell {
        CellRef::WeightGrad { index, .. } if index.len() == 4 => {
            s.channels = [index[0], index[1]];
        }
        CellRef::Delta { index, .. } if index.len() == 4 => s.channels[1] = index[1],
        _ => {}
    }
    s.selected = Some(cell);
}

fn checked_move(s: &mut AppState, m: CheckedMove) {
    let Some(checked) = s.checked.as_mut() else {
        return;
    };
    match m {
        CheckedMove::Choose(k) if k < checked.verdicts.len() => checked.choose(k),
        CheckedMove::Choose(_) => {}
        CheckedMove::At(at) if at.len() == checked.at.len() => checked.at = at,
        CheckedMove::At(_) => {}
        CheckedMove::Row(row) => checked.row = row,
        CheckedMove::Fold(folded) => checked.folded = folded,
        CheckedMove::Close => s.checked = None,
        CheckedMove::Explain => {
            checked.folded = true;
            // The views need the room now; one click unfolds it again.
            let same_step = s.snapshot.as_ref().map(|snap| snap.batches) == Some(checked.batch);
            if same_step {
                show_in_views(s);
            }
        }
    }
}

/// Shows the teacher's bug as the check panel shows a student's mistake:
/// the wrong result the app computed beside the right one, named.
fn reveal_bug(s: &mut AppState) {
    let (Some(bug), Some(snapshot)) = (s.bug, s.snapshot.clone()) else {
        return;
    };
    let mut trace = snapshot.trace.clone();
    let Some(right) = crate::check::bugs::right_result(&trace, bug) else {
        return;
    };
    let layer = &mut trace.layers[bug.layer];
    let slot = match bug.part {
        Part::WeightGrad => &mut layer.weight_grad,
        _ => &mut layer.delta,
    };
    let Some(wrong) = slot.replace(Arc::new(right.mapv(|v| v as f32))) else {
        return;
    };
    let handed = Handed {
        name: Named::Layer(bug.layer, bug.part).name(&trace),
        values: wrong.mapv(f64::from),
    };
    match Checked::new(&trace, vec![handed], snapshot.batches) {
        Ok(mut checked) => {
            checked.bug = true;
            let words = checked.verdicts[0].message();
            say(s, MessageKind::Info, move || {
                trf!("The bug was: {words}", words = words)
            });
            s.checked = Some(Box::new(checked));
        }
        Err(e) => say(s, MessageKind::Error, move || e.to_string()),
    }
}

/// The File menu's actions, as effects (what they save is read here).
fn file_action(s: &mut AppState, action: FileAction, fx: &mut Vec<Effect>) {
    match action {
        FileAction::SaveModel => {
            if let Some(snapshot) = &s.snapshot {
                fx.push(Effect::Save {
                    title: tr("Save the model"),
                    name: "model.safetensors".into(),
                    bytes: crate::io::model_bytes(&snapshot.network),
                });
            }
        }
        FileAction::ExportPng => fx.push(Effect::Screenshot),
        FileAction::OpenModel => fx.push(Effect::OpenModelDialog),
        FileAction::SaveSession => fx.push(Effect::SaveSession),
        FileAction::OpenSession => fx.push(Effect::OpenSessionDialog),
        FileAction::ExportTrace => match s
            .snapshot
            .as_ref()
            .map(|snap| crate::io::trace_bytes(&snap.trace))
        {
            Some(Ok(bytes)) => fx.push(Effect::Save {
                title: tr("Export the trace"),
                name: "trace.safetensors".into(),
                bytes,
            }),
            Some(Err(why)) => say(s, MessageKind::Warning, move || {
                trf!(
                    "Nothing to export yet: {why}. Step through the loss and the backward pass first.",
                    why = why
                )
            }),
            None => {}
        },
        FileAction::ExportExercise => {
            // An exercise is a folder of files; a page can only download
            // them one by one.
            if cfg!(target_arch = "wasm32") {
                say(s, MessageKind::Info, || {
                    tr("An exercise is a folder of files: export it from the desktop app, or with backprop-viz trace --exercise DIR.").to_string()
                });
            } else if let Some(snapshot) = &s.snapshot {
                fx.push(Effect::ExportExercise(snapshot.trace.clone()));
            }
        }
        FileAction::ShareMoment => match s.moment() {
            Ok(m) => {
                // In the browser: the page's own address with this moment,
                // also put in the address bar.
                let link = crate::platform::share_link(&m.to_fragment());
                fx.push(Effect::CopyText(link.clone()));
                say(s, MessageKind::Info, move || {
                    trf!("Copied the link to this moment: {link}", link = link)
                });
            }
            Err(why) => say(s, MessageKind::Warning, move || why.clone()),
        },
        FileAction::SavePredictions => fx.push(Effect::Save {
            title: tr("Save my predictions"),
            name: "predictions.json".into(),
            bytes: crate::teach::record::record_bytes(&s.predictions),
        }),
        FileAction::OpenClassRecord => fx.push(Effect::ClassRecordDialog),
        FileAction::CheckMine => {
            if let Some((trace, batch)) = checkable(s) {
                fx.push(Effect::CheckDialog(trace, batch));
            }
        }
        FileAction::SaveCsv(name, bytes) => fx.push(Effect::Save {
            title: tr("Export a tensor as CSV"),
            name: format!("{name}.csv"),
            bytes,
        }),
    }
}

/// The learner's answers to the question on screen, the given one changed.
pub fn answered(p: &Prediction, k: usize, given: Given) -> Prediction {
    let mut p = p.clone();
    if let Some(slot) = p.asks.get_mut(k) {
        slot.1 = given;
    }
    p
}
