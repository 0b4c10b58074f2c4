//! Plain data that views and files read: what one training step computed,
//! layer by layer. Every tensor is an `Arc` shared with the stepper, so a
//! snapshot costs a few reference counts, never a copy.

use super::layers::LayerKind;
use super::Shared;

/// What one layer computed in this step (None until its phase has run).
#[derive(Debug, Clone, Default)]
pub struct LayerTrace {
    /// Forward output, `[N, ...]`.
    pub out: Option<Shared>,
    /// `dL/d(input)`: the delta this layer hands to the one below (D_l).
    pub delta: Option<Shared>,
    /// Parameters used by the forward pass (conv and dense only).
    pub weight: Option<Shared>,
    pub bias: Option<Shared>,
    /// `dF` / `dW` and `dB`, summed over the batch.
    pub weight_grad: Option<Shared>,
    pub bias_grad: Option<Shared>,
    /// Parameters after the update.
    pub weight_after: Option<Shared>,
    pub bias_after: Option<Shared>,
    /// An activation's `f′(x)`, the factor its backward pass applied (for
    /// ReLU the 0/1 mask), recorded with the backward pass.
    pub derivative: Option<Shared>,
    /// Max pooling's winners: per output cell `[N, C, Ho, Wo]`, the index
    /// within its input plane that received the cell's delta.
    pub winners: Option<std::sync::Arc<Vec<u32>>>,
    /// Batch norm's backward pass in its parts: the three terms of the
    /// delta, x̂, dγ and dβ (recorded with the backward pass).
    pub norm_terms: Option<std::sync::Arc<super::layers::batchnorm::Terms>>,
    /// A conv layer's dF split by sample, `[N, Cout, Cin, K, K]`: what each
    /// sample contributes to the batch's sum (recorded for the views while
    /// training waits, see [`super::stepper::Stepper::record_shares`]).
    pub weight_grad_shares: Option<Shared>,
}

/// One training step on one batch, as the engine computed it.
#[derive(Debug, Clone)]
pub struct Trace {
    /// `[N, 1, 28, 28]`, pixels in [0, 1].
    pub input: Shared,
    /// `[N]`
    pub labels: Vec<u8>,
    pub names: Vec<String>,
    pub kinds: Vec<LayerKind>,
    pub layers: Vec<LayerTrace>,
    pub loss: Option<f32>,
    /// softmax of the logits, `[N, 10]`.
    pub probs: Option<Shared>,
    /// `dL/dlogits = (softmax − one_hot) / N`, `[N, 10]`.
    pub logits_delta: Option<Shared>,
    /// Learning rate of the update.
    pub lr: f32,
}

impl Trace {
    /// The forward input of layer `i`: the batch for the first layer, the
    /// previous layer's output otherwise.
    pub fn layer_input(&self, i: usize) -> Option<&Shared> {
        if i == 0 {
            Some(&self.input)
        } else {
            self.layers[i - 1].out.as_ref()
        }
    }

    /// The delta arriving at layer `i` from above (D_{l+1}): the next
    /// layer's delta, or the loss's for the last layer.
    pub fn delta_from_above(&self, i: usize) -> Option<&Shared> {
        if i + 1 == self.layers.len() {
            self.logits_delta.as_ref()
        } else {
            self.layers[i + 1].delta.as_ref()
        }
    }

    /// Conv layer `i`'s geometry on this step's input (`None` for other
    /// layers, or before its input exists).
    pub fn conv_geometry(&self, i: usize) -> Option<super::layers::conv::ConvGeometry> {
        let x = self.layer_input(i)?;
        super::layers::conv::ConvGeometry::of(self.kinds.get(i)?, x.shape().get(1..)?)
    }

    pub fn transposed_geometry(&self, i: usize) -> Option<super::layers::conv::ConvGeometry> {
        let input = self.layer_input(i)?;
        super::layers::conv::ConvGeometry::transposed(self.kinds.get(i)?, &input.shape()[1..])
    }

    pub fn batch_size(&self) -> usize {
        self.labels.len()
    }

    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }
}

impl Trace {
    /// The layer list this step ran through (names and kinds, forward order).
    pub fn specs(&self) -> Vec<super::layers::LayerSpec> {
        self.names
            .iter()
            .zip(&self.kinds)
            .map(|(name, kind)| super::layers::LayerSpec {
                name: name.clone(),
                kind: kind.clone(),
            })
            .collect()
    }

    /// Channels of layer `i`'s output that are zero for every sample of the
    /// batch: after a ReLU, a filter that passes nothing back ("dead"), so
    /// its dF is zero and it cannot learn its way out.
    pub fn dead_channels(&self, i: usize) -> Vec<usize> {
        let Some(out) = &self.layers[i].out else {
            return Vec::new();
        };
        if out.ndim() != 4 {
            return Vec::new();
        }
        (0..out.shape()[1])
            .filter(|&c| {
                out.index_axis(ndarray::Axis(1), c)
                    .iter()
                    .all(|&v| v == 0.0)
            })
            .collect()
    }

    /// Every sample's share of layer `i`'s weight gradient, stacked
    /// `[N, ...weight]` (see [`Trace::sample_weight_grad`]).
    pub fn weight_grad_shares(&self, i: usize) -> Option<super::Tensor> {
        let shares = (0..self.batch_size())
            .map(|n| self.sample_weight_grad(i, n))
            .collect::<Option<Vec<_>>>()?;
        let views: Vec<_> = shares.iter().map(|s| s.view()).collect();
        ndarray::stack(ndarray::Axis(0), &views).ok()
    }

    /// The weight gradient that sample `n` alone contributes (the batch's dF
    /// is the sum of these), computed by the layer's own backward pass on
    /// that sample's input and delta.
    pub fn sample_weight_grad(&self, i: usize, n: usize) -> Option<super::Tensor> {
        let record = &self.layers[i];
        let mut layer = super::layers::Layer::from_kind(&self.kinds[i]);
        let (w, b) = layer.params_mut()?;
        w.value = record.weight.clone()?;
        b.value = record.bias.clone()?;
        let one = |t: &super::Tensor| {
            t.slice_axis(ndarray::Axis(0), ndarray::Slice::from(n..n + 1))
                .to_owned()
        };
        let x = one(self.layer_input(i)?);
        let d = one(self.delta_from_above(i)?);
        let y = one(record.out.as_ref()?);
        layer.backward(&x, &y, &d, false);
        layer.params().map(|(w, _)| w.grad.clone())
    }
}
