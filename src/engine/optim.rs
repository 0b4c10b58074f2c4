//! Optimizers: plain SGD, SGD with momentum (PyTorch's form) and Adam.
//!
//! - sgd:      `w ← w − η·g`
//! - momentum: `v ← μ·v + g`, `w ← w − η·v`            (μ = 0.9)
//! - adam:     `m ← β1·m + (1−β1)·g`, `v ← β2·v + (1−β2)·g²`,
//!   `w ← w − η·m̂ / (√v̂ + ε)` with bias-corrected `m̂`, `v̂`.

use serde::{Deserialize, Serialize};
use std::sync::Arc;

use super::layers::{Layer, Param};
use super::Tensor;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    Sgd,
    Momentum,
    Adam,
}

impl OptimizerKind {
    pub fn parse(name: &str) -> Option<OptimizerKind> {
        match name {
            "sgd" => Some(OptimizerKind::Sgd),
            "momentum" => Some(OptimizerKind::Momentum),
            "adam" => Some(OptimizerKind::Adam),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            OptimizerKind::Sgd => "sgd",
            OptimizerKind::Momentum => "momentum",
            OptimizerKind::Adam => "adam",
        }
    }
}

const MOMENTUM: f32 = 0.9;
const BETA1: f32 = 0.9;
const BETA2: f32 = 0.999;
const EPS: f32 = 1e-8;

/// Per-parameter state: momentum's velocity (`m`), or Adam's two moments.
/// One slot per weight and per bias, in forward order, weight first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Slot {
    pub m: Option<Tensor>,
    pub v: Option<Tensor>,
}

#[derive(Debug, Clone)]
pub struct Optimizer {
    pub kind: OptimizerKind,
    pub lr: f32,
    /// Number of updates applied (Adam's bias correction needs it).
    pub steps: u64,
    slots: Vec<Slot>,
}

impl Optimizer {
    pub fn new(kind: OptimizerKind, lr: f32) -> Optimizer {
        Optimizer {
            kind,
            lr,
            steps: 0,
            slots: Vec::new(),
        }
    }

    /// The state the next updates depend on (a saved session keeps it, so
    /// that training resumes exactly where it stopped).
    pub fn slots(&self) -> &[Slot] {
        &self.slots
    }

    /// An optimizer that continues from saved state.
    pub fn resume(kind: OptimizerKind, lr: f32, steps: u64, slots: Vec<Slot>) -> Optimizer {
        Optimizer {
            kind,
            lr,
            steps,
            slots,
        }
    }

    /// Applies one update to every parameter of `layers` whose layer `frozen`
    /// does not hold. The new value is written copy-on-write: a trace that
    /// still holds the old `Arc` keeps the old numbers.
    pub fn step(&mut self, layers: &mut [Layer], frozen: impl Fn(&Layer) -> bool) {
        self.steps = self.steps.saturating_add(1);
        // Adam's bias correction is 1 − β^t: past a few thousand steps it is 1
        // to f32 precision, so the exponent saturates instead of wrapping
        // (a session may hold any count).
        let t = i32::try_from(self.steps).unwrap_or(i32::MAX);
        let mut slot_index = 0;
        for layer in layers.iter_mut() {
            let skip = frozen(layer);
            if let Some((w, b)) = layer.params_mut() {
                for p in [w, b] {
                    if self.slots.len() <= slot_index {
                        self.slots.push(Slot::default());
                    }
                    if !skip {
                        update(self.kind, self.lr, t, p, &mut self.slots[slot_index]);
                    }
                    slot_index += 1;
                }
            }
        }
    }
}

fn update(kind: OptimizerKind, lr: f32, t: i32, p: &mut Param, slot: &mut Slot) {
    let g = &p.grad;
    let w = Arc::make_mut(&mut p.value);
    match kind {
        OptimizerKind::Sgd => w.zip_mut_with(g, |w, &g| *w -= lr * g),
        OptimizerKind::Momentum => {
            let v = slot.m.get_or_insert_with(|| Tensor::zeros(g.raw_dim()));
            v.zip_mut_with(g, |v, &g| *v = MOMENTUM * *v + g);
            w.zip_mut_with(v, |w, &v| *w -= lr * v);
        }
        OptimizerKind::Adam => {
            let m = slot.m.get_or_insert_with(|| Tensor::zeros(g.raw_dim()));
            let v = slot.v.get_or_insert_with(|| Tensor::zeros(g.raw_dim()));
            let c1 = 1.0 - BETA1.powi(t);
            let c2 = 1.0 - BETA2.powi(t);
            ndarray::Zip::from(w)
                .and(m)
                .and(v)
                .and(g)
                .for_each(|w, m, v, &g| {
                    *m = BETA1 * *m + (1.0 - BETA1) * g;
                    *v = BETA2 * *v + (1.0 - BETA2) * g * g;
                    *w -= lr * (*m / c1) / ((*v / c2).sqrt() + EPS);
                });
        }
    }
}
