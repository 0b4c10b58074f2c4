//! The reducer's part for teaching: the guided lesson, Predict mode's
//! questions and reveal, a check of handed-in tensors and the teacher's bug.

use std::sync::Arc;

use crate::app::state::{AppState, MessageKind};
use crate::app::worker::Request;
use crate::check::checked::Checked;
use crate::check::{Named, Part};
use crate::engine::stepper::Phase;
use crate::io::Handed;
use crate::teach::explain::CellRef;
use crate::teach::lesson::{steps, Goal, Tab};
use crate::teach::predict::{is_right, questions, Given, Prediction};
use crate::teach::record::Record;
use crate::trf;

use super::training::reset;
use super::{say, CheckedMove, Effect, LessonMove};

/// Opens the lesson at `step`: the tab, and training moved to the phase
/// the step talks about.
pub(super) fn lesson_go(s: &mut AppState, step: usize, fx: &mut Vec<Effect>) {
    let steps = steps();
    let step = step.min(steps.len() - 1);
    s.lesson.open = Some(step);
    s.welcome = false;
    let here = &steps[step];
    s.tab = here.tab;
    // A step's phases are its part's network's: going back from the
    // chapter into the main lesson (or on from it) builds that one first.
    let network = crate::teach::lesson::network(step);
    let goal = match here.goal {
        Goal::After(_) | Goal::Anywhere
            if s.config.preset != network || s.start_network.is_some() =>
        {
            lesson_go_fresh(s, network, fx);
            here.goal
        }
        goal => goal,
    };
    match goal {
        Goal::Fresh(preset) => lesson_go_fresh(s, preset, fx),
        Goal::After(phase) => {
            fx.push(Effect::Worker(Request::Pause));
            s.view_layer = None;
            s.by_hand = true;
            fx.push(Effect::Worker(Request::GoTo(phase)));
        }
        Goal::Anywhere => {}
    }
}

/// The lesson's built-in network `preset`, untrained, the app's default
/// settings, its first batch loaded.
fn lesson_go_fresh(s: &mut AppState, preset: &str, fx: &mut Vec<Effect>) {
    s.config = crate::app::default_config();
    s.config.preset = preset.into();
    s.start_network = None;
    s.start_source = None;
    fx.push(Effect::Worker(Request::Pause));
    reset(s, fx);
}

pub(super) fn lesson_move(s: &mut AppState, m: LessonMove, fx: &mut Vec<Effect>) {
    match m {
        LessonMove::Start | LessonMove::Chapter => {
            s.lesson.start_at = if m == LessonMove::Chapter {
                crate::teach::lesson::CHAPTER
            } else {
                0
            };
            if s.lesson_would_reset_work() {
                s.confirm_lesson = true;
            } else {
                lesson_go(s, s.lesson.start_at, fx);
            }
        }
        LessonMove::Confirmed(true) => {
            s.confirm_lesson = false;
            lesson_go(s, s.lesson.start_at, fx);
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

/// After each snapshot: asks about the step just taken by hand, when
/// predicting (never during a run, never twice about the same step).
pub(super) fn maybe_ask(s: &mut AppState) {
    check_teach_guess(s);
    if !s.predicting() || !s.by_hand {
        return;
    }
    // A student following a class answers the teacher's questions only.
    if s.class.as_ref().is_some_and(|c| !c.teacher() && c.follow) {
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
pub(super) fn check_teach_guess(s: &mut AppState) {
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
    let (answer, sure) = crate::teach::predict::digit_answer(&probs);
    let right = record_taught(s, guess, answer);
    let sure = sure * 100.0;
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

/// The digit predicted for a taught drawing against the network's answer
/// after the step, in the record; whether it was right.
pub(super) fn record_taught(s: &mut AppState, guess: u8, answer: u8) -> bool {
    let right = answer == guess;
    s.predictions.push(Record {
        batch: s.snapshot.as_ref().map_or(0, |snap| snap.batches),
        phase: "teach".into(),
        question: crate::teach::predict::TAUGHT_DIGIT,
        right: Some(right),
    });
    right
}

/// Shows the step: marks each answer against the trace and records it.
pub(super) fn reveal(s: &mut AppState) {
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

/// A hand-in checked: its panel opens, the status line sums it up and the
/// views open on the first wrong cell.
pub(super) fn show_checked(s: &mut AppState, checked: Box<Checked>) {
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
pub(super) fn show_in_views(s: &mut AppState) {
    let Some(checked) = &s.checked else { return };
    let Some((cell, sample)) = checked.worst_wrong_cell() else {
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

pub(super) fn checked_move(s: &mut AppState, m: CheckedMove) {
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
pub(super) fn reveal_bug(s: &mut AppState) {
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
