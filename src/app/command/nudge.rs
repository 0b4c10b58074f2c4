//! Moving a weight or a pixel by hand: the slider's Δ goes to the engine
//! one job at a time (a drag asks for its latest Δ when the last one is
//! back, never a queue of them); the loss's curve once per knob and step.

use std::sync::Arc;

use super::Effect;
use crate::app::state::{AppState, Nudge, NudgeOutcome};
use crate::teach::explain::CellRef;

/// How far the slider goes either way: twice the weight (a filter tap's
/// whole size and back), at least half a unit; a pixel's whole range.
fn range(knob: &crate::engine::nudge::Knob, value: f32) -> f32 {
    match knob {
        crate::engine::nudge::Knob::Weight { .. } => (2.0 * value.abs()).max(0.5),
        crate::engine::nudge::Knob::Pixel { .. } => 1.0,
    }
}

/// Moves the knob of `cell` to Δ (starting a new nudge for a new cell or a
/// new step), or closes the nudge.
pub(super) fn nudge(s: &mut AppState, to: Option<(CellRef, f32)>, fx: &mut Vec<Effect>) {
    let (Some((cell, delta)), Some(snapshot)) = (to, s.snapshot.as_ref()) else {
        s.nudge = None;
        return;
    };
    // A run makes a new step every few frames: nothing to hold still.
    if s.running() {
        return;
    }
    let trace = &snapshot.trace;
    let Some((knob, step)) = Nudge::key(trace, &cell) else {
        return;
    };
    if !s.nudge.as_ref().is_some_and(|n| n.is_for(trace, &cell)) {
        let range = range(&knob, knob.value(trace).unwrap_or(0.0));
        fx.push(Effect::Nudge {
            trace: trace.clone(),
            step,
            knob: knob.clone(),
            delta: None,
            range,
        });
        s.nudge = Some(Nudge {
            range,
            cell,
            knob,
            step,
            delta: 0.0,
            curve: None,
            live: None,
            busy: false,
        });
    }
    if let Some(n) = s.nudge.as_mut() {
        n.delta = if delta.is_finite() {
            delta.clamp(-n.range, n.range)
        } else {
            0.0
        };
    }
    ask(s, fx);
}

/// Asks for the nudge's Δ if no job is computing one and it is not the one
/// shown.
fn ask(s: &mut AppState, fx: &mut Vec<Effect>) {
    let (Some(n), Some(snapshot)) = (s.nudge.as_mut(), s.snapshot.as_ref()) else {
        return;
    };
    let shown = n.live.as_ref().is_some_and(|l| l.delta == n.delta);
    if n.busy || shown || !n.is_for(&snapshot.trace, &n.cell) {
        return;
    }
    n.busy = true;
    fx.push(Effect::Nudge {
        trace: snapshot.trace.clone(),
        step: n.step,
        knob: n.knob.clone(),
        delta: Some(n.delta),
        range: n.range,
    });
}

/// A job's answer, kept if it is still about the nudge on screen.
pub(super) fn nudge_done(s: &mut AppState, outcome: NudgeOutcome, fx: &mut Vec<Effect>) {
    let Some(n) = s.nudge.as_mut() else { return };
    match outcome {
        NudgeOutcome::Curve { step, knob, curve } => {
            if step == n.step && knob == n.knob {
                n.curve = Some(curve);
            }
        }
        NudgeOutcome::Live { step, knob, nudged } => {
            if step == n.step && knob == n.knob {
                n.busy = false;
                if let Some(nudged) = nudged {
                    n.live = Some(nudged);
                }
                ask(s, fx);
            }
        }
    }
}

/// What a nudge job computes: the curve (`delta` None) or the step with Δ.
pub fn compute(
    trace: &crate::engine::trace::Trace,
    step: usize,
    knob: crate::engine::nudge::Knob,
    delta: Option<f32>,
    range: f32,
) -> NudgeOutcome {
    use crate::engine::nudge::{loss_at, nudged_trace};
    match delta {
        None => {
            const POINTS: usize = 41;
            let r = f64::from(range);
            let deltas: Vec<f64> = (0..POINTS)
                .map(|k| -r + 2.0 * r * k as f64 / (POINTS - 1) as f64)
                .collect();
            let curve = loss_at(trace, &knob, &deltas)
                .map(|l| deltas.iter().zip(l).map(|(&d, l)| [d, l]).collect())
                .unwrap_or_default();
            NudgeOutcome::Curve { step, knob, curve }
        }
        Some(delta) => {
            let d = f64::from(delta);
            let nudged = nudged_trace(trace, &knob, delta).and_then(|t| {
                let l = loss_at(trace, &knob, &[d, -d])?;
                Some(Arc::new(crate::app::state::Nudged {
                    delta,
                    trace: t,
                    plus: l[0],
                    minus: l[1],
                }))
            });
            NudgeOutcome::Live { step, knob, nudged }
        }
    }
}
