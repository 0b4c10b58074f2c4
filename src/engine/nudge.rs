//! Direct manipulation: one weight or one input pixel of a recorded step
//! moved by Δ, and what follows from it.
//!
//! - [`nudged_trace`] runs the stepper itself (the one training path) on
//!   the step's batch with the nudged value: forward, loss and backward,
//!   no update. The views read its loss, outputs and gradients as they read
//!   any trace; at Δ = 0 it is the recorded step, number for number.
//! - [`loss_at`] is the loss alone, by the plain f64 forward pass of the
//!   finite-difference check: the curve L(w + Δ) drawn under the tangent
//!   whose slope backpropagation recorded, and the secant
//!   `(L(w+Δ) − L(w−Δ)) / 2Δ` that is the finite difference at step Δ.

use ndarray::ArrayD;

use super::gradcheck::{forward_f64, loss_f64, network_of};
use super::optim::{Optimizer, OptimizerKind};
use super::stepper::{Phase, Stepper};
use super::trace::Trace;
use super::Tensor;

/// What is moved.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Knob {
    /// Entry `index` of layer `layer`'s weight.
    Weight { layer: usize, index: Vec<usize> },
    /// Entry `index` (`[n, c, row, col]`) of the batch's input.
    Pixel { index: Vec<usize> },
}

impl Knob {
    /// The value the step used, if the trace has it.
    pub fn value(&self, trace: &Trace) -> Option<f32> {
        match self {
            Knob::Weight { layer, index } => trace
                .layers
                .get(*layer)?
                .weight
                .as_deref()?
                .get(index.as_slice())
                .copied(),
            Knob::Pixel { index } => trace.input.get(index.as_slice()).copied(),
        }
    }

    /// dL/d(knob) as backpropagation recorded it: the weight's gradient, or
    /// the delta handed to the input.
    pub fn gradient(&self, trace: &Trace) -> Option<f32> {
        let (tensor, index) = match self {
            Knob::Weight { layer, index } => {
                (trace.layers.get(*layer)?.weight_grad.as_deref()?, index)
            }
            Knob::Pixel { index } => (trace.layers.first()?.delta.as_deref()?, index),
        };
        tensor.get(index.as_slice()).copied()
    }
}

/// The step's batch through the network with the knob moved by `delta`:
/// the stepper's forward, loss and backward phases, recorded as the app
/// records them (weights, gradients, the input's delta), without the update.
/// `None` if the trace holds no such weight or pixel, or no batch.
pub fn nudged_trace(trace: &Trace, knob: &Knob, delta: f32) -> Option<Trace> {
    knob.value(trace)?;
    if trace.batch_size() == 0 || !delta.is_finite() {
        return None;
    }
    let mut net = network_of(trace)?;
    let mut input: Tensor = trace.input.as_ref().clone();
    match knob {
        Knob::Weight { layer, index } => {
            let (w, _) = net.layers.get_mut(*layer)?.params_mut()?;
            *std::sync::Arc::make_mut(&mut w.value).get_mut(index.as_slice())? += delta;
        }
        Knob::Pixel { index } => *input.get_mut(index.as_slice())? += delta,
    }
    let mut stepper = Stepper::new(net, Optimizer::new(OptimizerKind::Sgd, trace.lr));
    stepper.record = true;
    stepper.begin(input, trace.labels.clone());
    while !matches!(stepper.next_phase(), Phase::Update | Phase::Done) {
        stepper.step();
    }
    Some(stepper.trace().clone())
}

/// The batch's loss with the knob moved by each of `deltas`, by the plain
/// f64 forward pass (exact enough for a secant over a small step).
pub fn loss_at(trace: &Trace, knob: &Knob, deltas: &[f64]) -> Option<Vec<f64>> {
    let net = network_of(trace)?;
    let base = f64::from(knob.value(trace)?);
    let params: Vec<Option<(ArrayD<f64>, ArrayD<f64>)>> = net
        .layers
        .iter()
        .map(|l| {
            l.params()
                .map(|(w, b)| (w.value.mapv(f64::from), b.value.mapv(f64::from)))
        })
        .collect();
    let x = trace.input.mapv(f64::from);
    deltas
        .iter()
        .map(|&d| {
            let (mut params, mut x) = (params.clone(), x.clone());
            match knob {
                Knob::Weight { layer, index } => {
                    *params
                        .get_mut(*layer)?
                        .as_mut()?
                        .0
                        .get_mut(index.as_slice())? = base + d;
                }
                Knob::Pixel { index } => *x.get_mut(index.as_slice())? = base + d,
            }
            Some(loss_f64(
                &forward_f64(&net.specs, &params, x),
                &trace.labels,
            ))
        })
        .collect()
}
