//! The reducer's part for training: reset, a link's replay, what the
//! worker sent, a saved session continued, the animation's clock.

use std::path::PathBuf;

use crate::app::state::Taught;
use crate::data::dataset::Mnist;
use crate::i18n::tr;
use std::sync::Arc;

use crate::app::link::Moment;
use crate::app::state::{AppState, History, MessageKind, NetworkSource};
use crate::app::worker::{Event, Request, TrainConfig};
use crate::engine::network::Network;
use crate::io::file::Input;
use crate::teach::lesson::Tab;
use crate::trf;

use super::file_actions::hand_in;
use super::teaching::maybe_ask;
use super::{say, Effect};

/// Back to the start: the worker rebuilds the network Reset returns to,
/// and everything that described the old training goes.
pub(super) fn reset(s: &mut AppState, fx: &mut Vec<Effect>) {
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
pub(super) fn open_moment(s: &mut AppState, m: Moment, fx: &mut Vec<Effect>) {
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
    if m.teach.is_some() {
        s.taught = Some(Taught::Drawing);
    }
    fx.push(Effect::Worker(Request::Replay {
        batches: m.step - 1,
        phase: m.phase,
        teach: m.teach.map(|d| (d.values(), d.label)),
    }));
    s.sample = m.sample;
    s.channels = m.channels;
    s.tab = m.tab;
    if m.tab != Tab::Backprop {
        s.welcome = false;
    }
    s.selected = m.cell;
    s.lesson.open = m.lesson;
}

/// The animation's frame for the step on screen, once per change (the
/// views read it; nothing recomputes it while drawing).
pub(super) fn refresh_frame(s: &mut AppState) {
    s.frame = match (&s.animation, &s.snapshot) {
        (Some(a), Some(snapshot)) => a.current(&snapshot.trace),
        _ => None,
    };
}

/// Moves a playing animation on by `seconds` (once per frame); ends one
/// whose step is gone.
pub(super) fn tick(s: &mut AppState, seconds: f64) {
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

/// What the worker sent.
pub(super) fn worker_event(s: &mut AppState, event: Event, fx: &mut Vec<Effect>) {
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
pub(super) fn check_pending(s: &mut AppState, fx: &mut Vec<Effect>) {
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
pub(super) fn resume_session(
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
    let why = unread.map(|(_, e)| e);
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
                    error = crate::io::file::short(&error.to_string())
                )
            ),
        }
    });
    fx.push(Effect::Worker(Request::Resume(session)));
}

/// Use this network from now on (an opened model, the editor's): Reset
/// returns to it.
pub(super) fn use_network(
    s: &mut AppState,
    net: Network,
    source: NetworkSource,
    fx: &mut Vec<Effect>,
) {
    s.run_start = None;
    s.start_network = Some(net.clone());
    s.start_source = Some(source.clone());
    s.history = History::default();
    s.selected = None;
    say(s, MessageKind::Info, move || {
        trf!(
            "Now using the network {source}; Reset returns to it.",
            source = source.name()
        )
    });
    fx.push(Effect::Worker(Request::Reset(s.config.clone(), Some(net))));
}

/// One step on a drawing (or a test digit) with its correct label.
pub(super) fn teach(
    s: &mut AppState,
    (pixels, label): (Vec<f32>, u8),
    what: Taught,
    guess: Option<u8>,
    fx: &mut Vec<Effect>,
) {
    // A byte a pixel, as MNIST keeps them: what a link can carry, so that
    // a class replays the very step taught (pictures are all 784 pixels:
    // the pad and the dataset make them).
    let pixels = crate::app::link::Drawing::from_pixels(label, &pixels).values();
    s.selected = None;
    s.view_layer = None;
    s.sample = 0;
    s.taught = Some(what);
    s.teach_label = label;
    s.teach_guess = guess.map(|g| (g, pixels.clone()));
    fx.push(Effect::Worker(Request::Teach { pixels, label }));
}

/// New datasets (the old stay until these arrive), with the paths they
/// came from.
pub(super) fn set_data(
    s: &mut AppState,
    data: Arc<Mnist>,
    source: String,
    paths: Vec<PathBuf>,
    fx: &mut Vec<Effect>,
) {
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

/// The pretrained model that ships with the program, from now on.
pub(super) fn load_pretrained(s: &mut AppState, fx: &mut Vec<Effect>) {
    let net = crate::presets::pretrained_model();
    s.start_network = Some(net.clone());
    s.start_source = Some(NetworkSource::Pretrained);
    s.history = History::default();
    s.selected = None;
    say(s, MessageKind::Info, || {
        tr("Loaded the pretrained model that ships with the program (99.4 % on MNIST's test set).")
            .into()
    });
    fx.push(Effect::Worker(Request::Reset(s.config.clone(), Some(net))));
}
