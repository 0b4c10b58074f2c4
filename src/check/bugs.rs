//! Find the bug: a teacher switches on one catalogue mistake inside the
//! app's own backward pass. Training then misbehaves, and the class finds
//! the layer with the gradient check (finite differences disagree with the
//! wrong backprop there) and names the mistake.
//!
//! A bug is made by the very formulas `check` diagnoses with
//! ([`super::candidates`]): the layer's right result is replaced by that
//! mistake computed from the same inputs, so what the class finds is
//! exactly a mistake of the catalogue.

use std::sync::Arc;

use ndarray::ArrayD;

use super::exercise::layer_answers;
use super::{candidates, Mistake, Named, Part};
use crate::engine::layers::{LayerKind, LayerSpec};
use crate::engine::stepper::{Tamper, Tampered};
use crate::engine::trace::Trace;
use crate::engine::Tensor;

/// One mistake at one layer's weight gradient or delta.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bug {
    pub mistake: Mistake,
    pub layer: usize,
    pub part: Part,
}

/// The bugs a teacher can choose for a network, each where it changes
/// something (a mask with nothing to block would hide it): at most one
/// place per mistake, the highest layer it applies to.
pub fn bugs_for(specs: &[LayerSpec]) -> Vec<Bug> {
    let last =
        |want: &dyn Fn(&LayerKind) -> bool| (0..specs.len()).rev().find(|&i| want(&specs[i].kind));
    let has_params_below = |i: usize| specs[..i].iter().any(|s| s.kind.param_shapes().is_some());
    let conv = last(&|k| matches!(k, LayerKind::Conv { .. }));
    let conv_with_below = (0..specs.len())
        .rev()
        .find(|&i| matches!(specs[i].kind, LayerKind::Conv { .. }) && has_params_below(i));
    let padded_conv = conv_with_below
        .filter(|&i| matches!(specs[i].kind, LayerKind::Conv { padding, .. } if padding > 0));
    let wide_conv = (0..specs.len()).rev().find(|&i| {
        matches!(specs[i].kind, LayerKind::Conv { out_channels, .. } if out_channels > 1)
            && has_params_below(i)
    });
    let square = last(&|k| matches!(k, LayerKind::Dense { inputs, outputs } if inputs == outputs));
    let square_with_below = square.filter(|&i| has_params_below(i));
    let dense = last(&|k| matches!(k, LayerKind::Dense { .. }));
    // The ReLU after a dense layer: its inputs are of both signs. Else the
    // first (after a freshly initialised conv; a later one may sit after a
    // layer whose outputs start all positive, with nothing to block).
    let relu = (1..specs.len())
        .rev()
        .find(|&i| {
            matches!(specs[i].kind, LayerKind::Relu)
                && matches!(specs[i - 1].kind, LayerKind::Dense { .. })
        })
        .or_else(|| (0..specs.len()).find(|&i| matches!(specs[i].kind, LayerKind::Relu)));
    let strided = last(&|k| matches!(k, LayerKind::Conv { stride, .. } if *stride > 1));
    let strided_with_below = (0..specs.len()).rev().find(|&i| {
        matches!(specs[i].kind, LayerKind::Conv { stride, .. } if stride > 1) && has_params_below(i)
    });
    let dilated = last(&|k| matches!(k, LayerKind::Conv { dilation, .. } if *dilation > 1));
    let pool = last(&|k| matches!(k, LayerKind::Maxpool { .. }));
    let avg_pool = last(&|k| matches!(k, LayerKind::Avgpool { .. }));
    let overlapping = last(&|k| k.pool_window().is_some_and(|(size, stride)| stride < size));
    let flatten = last(&|k| matches!(k, LayerKind::Flatten));
    let norm_with_below = (0..specs.len())
        .rev()
        .find(|&i| matches!(specs[i].kind, LayerKind::Batchnorm { .. }) && has_params_below(i));
    let norm = last(&|k| matches!(k, LayerKind::Batchnorm { .. }));
    let up_with_below = (0..specs.len())
        .rev()
        .find(|&i| matches!(specs[i].kind, LayerKind::Convtranspose { .. }) && has_params_below(i));
    let strided_up = last(&|k| matches!(k, LayerKind::Convtranspose { stride, .. } if *stride > 1));
    let crossed_up = last(
        &|k| matches!(k, LayerKind::Convtranspose { in_channels, out_channels, .. } if *in_channels > 1 && *out_channels > 1),
    );
    let at = |mistake, layer: Option<usize>, part| {
        layer.map(|layer| Bug {
            mistake,
            layer,
            part,
        })
    };
    [
        at(Mistake::ConvolutionNotCorrelation, conv, Part::WeightGrad),
        at(Mistake::OneSampleOnly, conv, Part::WeightGrad),
        at(Mistake::NoRot180, conv_with_below, Part::Delta),
        at(Mistake::ValidNotFull, padded_conv, Part::Delta),
        at(Mistake::ChannelsNotSummed, wide_conv, Part::Delta),
        at(Mistake::ReluMaskMissing, relu, Part::Delta),
        at(Mistake::ReluMaskInverted, relu, Part::Delta),
        at(Mistake::DeltaNotDilated, strided_with_below, Part::Delta),
        at(Mistake::WeightGradNotStrided, strided, Part::WeightGrad),
        at(Mistake::DilationDropped, dilated, Part::WeightGrad),
        at(Mistake::PoolSpread, pool, Part::Delta),
        at(Mistake::PoolWrongPosition, pool, Part::Delta),
        at(Mistake::PoolOverwrote, overlapping, Part::Delta),
        at(Mistake::AvgpoolCopied, avg_pool, Part::Delta),
        at(Mistake::FlattenOrder, flatten, Part::Delta),
        at(Mistake::BnMeanTermMissing, norm_with_below, Part::Delta),
        at(Mistake::BnVarTermMissing, norm_with_below, Part::Delta),
        at(Mistake::BnStatsConstant, norm_with_below, Part::Delta),
        at(Mistake::BnCountBatchOnly, norm_with_below, Part::Delta),
        at(Mistake::BnDgammaNotNormalized, norm, Part::WeightGrad),
        at(Mistake::ConvtransposeRot180, up_with_below, Part::Delta),
        at(
            Mistake::ConvtransposeGradNotStrided,
            strided_up,
            Part::WeightGrad,
        ),
        at(
            Mistake::ConvtransposeWeightSwapped,
            crossed_up,
            Part::WeightGrad,
        ),
        at(Mistake::FcNotTransposed, square_with_below, Part::Delta),
        at(Mistake::Transposed, square, Part::WeightGrad),
        at(Mistake::MissingMean, dense, Part::WeightGrad),
        at(Mistake::WrongSign, dense, Part::WeightGrad),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The layer whose gradient check shows the bug: its own for a weight
/// gradient, else the first layer with weights below it (the wrong delta
/// reaches their gradient first).
pub fn caught_at(specs: &[LayerSpec], bug: Bug) -> Option<usize> {
    match bug.part {
        Part::WeightGrad | Part::BiasGrad => Some(bug.layer),
        _ => (0..bug.layer)
            .rev()
            .find(|&i| specs[i].kind.param_shapes().is_some()),
    }
}

fn f32s(a: &ArrayD<f64>) -> Tensor {
    a.mapv(|v| v as f32)
}

/// The engine's hook that makes `bug`: after the bug's layer has run its
/// backward step, its result is replaced by the mistake's.
pub fn tamper(bug: Bug) -> Tamper {
    Tamper(Arc::new(move |trace: &Trace, i: usize| {
        if i != bug.layer {
            return None;
        }
        let (_, wrong) = candidates(trace, Named::Layer(i, bug.part))
            .into_iter()
            .find(|(m, _)| *m == bug.mistake)?;
        let wrong = f32s(&wrong);
        Some(match bug.part {
            Part::WeightGrad => Tampered {
                weight_grad: Some(wrong),
                delta: None,
            },
            _ => Tampered {
                weight_grad: None,
                delta: Some(wrong),
            },
        })
    }))
}

/// What the bug's layer should have computed, from the (tampered) trace's
/// own inputs: for the reveal, beside what it did compute.
pub fn right_result(trace: &Trace, bug: Bug) -> Option<ArrayD<f64>> {
    let i = bug.layer;
    let spec = trace.specs().into_iter().nth(i)?;
    let x = trace.layer_input(i)?.mapv(f64::from);
    let d = match trace.layers.get(i + 1) {
        Some(above) => above.delta.as_ref()?,
        None => trace.logits_delta.as_ref()?,
    }
    .mapv(f64::from);
    let w = trace.layers[i].weight.as_ref().map(|w| w.mapv(f64::from));
    layer_answers(&spec, &x, &d, w.as_ref())
        .ok()?
        .into_iter()
        .find(|(what, _)| *what == bug.part.name())
        .map(|(_, v)| v)
}
