//! One batch as a sequence of phases: forward layer 1 … n, loss, backward
//! layer n … 1, update. `step()` runs one phase; finishing a batch, running
//! N batches or an epoch are loops over `step()`, so the GUI's "Step layer"
//! and full-speed training share one code path.
//!
//! Recording: the stepper always keeps each layer's output and delta (the
//! backward pass needs them anyway). With recording on it also keeps the
//! parameters before and after the update, their gradients, and the first
//! layer's input delta, which training itself never needs.

use std::sync::Arc;

use super::layers::{Layer, LayerKind};
use super::loss::softmax_cross_entropy;
use super::network::Network;
use super::optim::Optimizer;
use super::trace::{LayerTrace, Trace};
use super::{Shared, Tensor};

/// A phase of one training step. Layer indices count from 0 in forward order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    Forward(usize),
    Loss,
    Backward(usize),
    Update,
    /// The batch is finished; `begin` starts the next.
    Done,
}

impl Phase {
    /// The phase as links and the learner's record name it, with the
    /// network's layer names: `forward:conv1`, `loss`, `backward:conv2`,
    /// `update`.
    pub fn id(self, names: &[String]) -> String {
        let name = |i: usize| names.get(i).map_or("?", String::as_str);
        match self {
            Phase::Forward(i) => format!("forward:{}", name(i)),
            Phase::Backward(i) => format!("backward:{}", name(i)),
            Phase::Loss => "loss".into(),
            Phase::Update => "update".into(),
            Phase::Done => "done".into(),
        }
    }

    /// Where the phase comes in one step of a network of `layers` layers,
    /// counted from 1 (0 is a batch loaded with nothing run): the forward
    /// phases, the loss, the backward phases from the top, the update.
    pub fn order(self, layers: usize) -> usize {
        match self {
            Phase::Forward(i) => 1 + i,
            Phase::Loss => layers + 1,
            Phase::Backward(i) => layers + 2 + layers.saturating_sub(1 + i),
            Phase::Update | Phase::Done => 2 * layers + 2,
        }
    }
}

/// What a deliberately wrong backward step puts in place of the right one
/// (a teacher's "find the bug"): a layer's weight gradient, the delta it
/// hands down, or both.
#[derive(Debug, Clone, Default)]
pub struct Tampered {
    pub weight_grad: Option<Tensor>,
    pub delta: Option<Tensor>,
}

/// Called after each layer's backward step (recorded in the trace) with
/// the trace and the layer's index; what it returns replaces the layer's
/// results. The engine knows no mistakes: the check module supplies them.
#[derive(Clone)]
pub struct Tamper(pub Arc<TamperFn>);

/// The hook's signature: the trace so far and the layer just stepped.
pub type TamperFn = dyn Fn(&Trace, usize) -> Option<Tampered> + Send + Sync;

impl std::fmt::Debug for Tamper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tamper")
    }
}

#[derive(Debug, Clone)]
pub struct Stepper {
    pub network: Network,
    pub optimizer: Optimizer,
    /// Conv layers keep their filters (gradients are still computed and shown).
    pub freeze_conv: bool,
    pub record: bool,
    /// A deliberate mistake in the backward pass (needs `record`).
    pub tamper: Option<Tamper>,
    next: Phase,
    last: Option<Phase>,
    trace: Trace,
}

impl Stepper {
    pub fn new(network: Network, optimizer: Optimizer) -> Stepper {
        let trace = empty_trace(
            &network,
            Arc::new(Tensor::zeros(vec![0, 1, 28, 28])),
            Vec::new(),
            0.0,
        );
        Stepper {
            network,
            optimizer,
            freeze_conv: false,
            record: false,
            tamper: None,
            next: Phase::Done,
            last: None,
            trace,
        }
    }

    /// Starts a step on a batch: `input [N, 1, 28, 28]`, one label per sample.
    pub fn begin(&mut self, input: Tensor, labels: Vec<u8>) {
        assert_eq!(input.shape()[0], labels.len(), "one label per sample");
        self.network.zero_grad();
        self.trace = empty_trace(&self.network, Arc::new(input), labels, self.optimizer.lr);
        self.next = Phase::Forward(0);
        self.last = None;
    }

    /// The phase `step()` will run next (`Done` when the batch is finished).
    pub fn next_phase(&self) -> Phase {
        self.next
    }

    /// The phase that ran last, if any in this batch.
    pub fn last_phase(&self) -> Option<Phase> {
        self.last
    }

    /// The step so far. Clone it for a snapshot: tensors are shared.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// Runs the next phase and returns it (`Done` if there was none).
    pub fn step(&mut self) -> Phase {
        let phase = self.next;
        let n = self.network.layers.len();
        match phase {
            Phase::Forward(i) => {
                let x = self
                    .trace
                    .layer_input(i)
                    .expect("previous layer ran")
                    .clone();
                let y = self.network.layers[i].forward(&x);
                self.network.layers[i].track(&x);
                let layer = &self.network.layers[i];
                let record = &mut self.trace.layers[i];
                if self.record {
                    if let Some((w, b)) = layer.params() {
                        record.weight = Some(w.value.clone());
                        record.bias = Some(b.value.clone());
                    }
                }
                record.out = Some(Arc::new(y));
                self.next = if i + 1 < n {
                    Phase::Forward(i + 1)
                } else {
                    Phase::Loss
                };
            }
            Phase::Loss => {
                let logits = self.trace.layers[n - 1].out.as_ref().expect("forward ran");
                let out = softmax_cross_entropy(logits, &self.trace.labels);
                self.trace.loss = Some(out.loss);
                self.trace.probs = Some(Arc::new(out.probs));
                self.trace.logits_delta = Some(Arc::new(out.d_logits));
                self.next = Phase::Backward(n - 1);
            }
            Phase::Backward(i) => {
                let d_out = self
                    .trace
                    .delta_from_above(i)
                    .expect("layer above ran")
                    .clone();
                let x = self.trace.layer_input(i).expect("forward ran").clone();
                let y = self.trace.layers[i].out.clone().expect("forward ran");
                let need_d_in = i > 0 || self.record;
                let layer = &mut self.network.layers[i];
                let d_in = layer.backward(&x, &y, &d_out, need_d_in);
                let record = &mut self.trace.layers[i];
                record.delta = d_in.map(Arc::new);
                if self.record {
                    if let Some((w, b)) = layer.params() {
                        record.weight_grad = Some(Arc::new(w.grad.clone()));
                        record.bias_grad = Some(Arc::new(b.grad.clone()));
                    }
                    // What the step did to the delta, for the views: the
                    // layer's own code, once per step.
                    match layer {
                        Layer::Activation(act) => {
                            record.derivative = Some(Arc::new(act.derivatives(&x, &y)));
                        }
                        Layer::Pool(pool) => record.winners = pool.winners(&x).map(Arc::new),
                        Layer::BatchNorm(bn) => {
                            record.norm_terms = Some(Arc::new(bn.terms(&x, &d_out)));
                        }
                        _ => {}
                    }
                }
                let tampered = self
                    .tamper
                    .as_ref()
                    .filter(|_| self.record)
                    .and_then(|t| (t.0)(&self.trace, i));
                if let Some(t) = tampered {
                    let record = &mut self.trace.layers[i];
                    if let Some(g) = t.weight_grad {
                        if let Some((w, _)) = self.network.layers[i].params_mut() {
                            w.grad = g.clone();
                        }
                        record.weight_grad = Some(Arc::new(g));
                    }
                    if let Some(d) = t.delta {
                        record.delta = Some(Arc::new(d));
                    }
                }
                self.next = if i > 0 {
                    Phase::Backward(i - 1)
                } else {
                    Phase::Update
                };
            }
            Phase::Update => {
                let freeze = self.freeze_conv;
                self.optimizer.step(&mut self.network.layers, |l| {
                    freeze && matches!(l, Layer::Conv(_))
                });
                if self.record {
                    for (layer, record) in self.network.layers.iter().zip(&mut self.trace.layers) {
                        if let Some((w, b)) = layer.params() {
                            record.weight_after = Some(w.value.clone());
                            record.bias_after = Some(b.value.clone());
                        }
                    }
                }
                self.next = Phase::Done;
            }
            Phase::Done => return Phase::Done,
        }
        self.last = Some(phase);
        phase
    }

    /// Records, for every conv layer whose backward step has run, each
    /// sample's share of its dF (what the views show beside the batch's
    /// sum). Computed by the layer's own backward pass on one sample at a
    /// time — once per step, on the worker, when training waits: a run
    /// never pays for it.
    pub fn record_shares(&mut self) {
        for i in 0..self.trace.layers.len() {
            let conv = matches!(self.trace.kinds[i], super::layers::LayerKind::Conv { .. });
            let record = &self.trace.layers[i];
            if conv && record.weight_grad.is_some() && record.weight_grad_shares.is_none() {
                let shares = self.trace.weight_grad_shares(i).map(Arc::new);
                self.trace.layers[i].weight_grad_shares = shares;
            }
        }
    }

    /// Runs the remaining phases of the batch; returns its loss.
    pub fn finish(&mut self) -> f32 {
        while self.step() != Phase::Done {}
        self.trace.loss.unwrap_or(f32::NAN)
    }

    /// One whole step on a batch; returns its loss.
    pub fn train_batch(&mut self, input: Tensor, labels: Vec<u8>) -> f32 {
        self.begin(input, labels);
        self.finish()
    }

    /// Layer names and kinds, in forward order.
    pub fn layer_kinds(&self) -> impl Iterator<Item = (&str, &LayerKind)> {
        self.network
            .specs
            .iter()
            .map(|s| (s.name.as_str(), &s.kind))
    }
}

fn empty_trace(network: &Network, input: Shared, labels: Vec<u8>, lr: f32) -> Trace {
    Trace {
        input,
        labels,
        names: network.specs.iter().map(|s| s.name.clone()).collect(),
        kinds: network.specs.iter().map(|s| s.kind.clone()).collect(),
        layers: vec![LayerTrace::default(); network.layers.len()],
        loss: None,
        probs: None,
        logits_delta: None,
        lr,
    }
}
