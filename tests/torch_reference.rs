//! The engine against an independent autograd: PyTorch's numbers for one
//! training step, made by `tools/torch_check.py` (which loaded the weights and
//! batch from our own trace and recomputed everything with `torch.nn`), are
//! replayed here without PyTorch. Every output, delta and gradient must agree
//! to f32 rounding.

mod common;

use backprop_viz::engine::layers::Param;
use backprop_viz::engine::network::Network;
use backprop_viz::engine::optim::{Optimizer, OptimizerKind};
use backprop_viz::engine::stepper::Stepper;
use backprop_viz::io::read_trace;
use common::{check_close, flat};
use std::path::Path;

fn replay(fixture: &str) {
    let torch = read_trace(Path::new(fixture)).unwrap();
    let specs = torch
        .names
        .iter()
        .zip(&torch.kinds)
        .map(|(name, kind)| backprop_viz::engine::layers::LayerSpec {
            name: name.clone(),
            kind: kind.clone(),
        })
        .collect();
    let mut net = Network::new(specs).unwrap();
    for (layer, recorded) in net.layers.iter_mut().zip(&torch.layers) {
        if let Some((w, b)) = layer.params_mut() {
            *w = Param::new(recorded.weight.as_deref().unwrap().clone());
            *b = Param::new(recorded.bias.as_deref().unwrap().clone());
        }
    }
    let mut stepper = Stepper::new(net, Optimizer::new(OptimizerKind::Sgd, 0.1));
    stepper.record = true;
    stepper.begin(torch.input.as_ref().clone(), torch.labels.clone());
    stepper.finish();
    let ours = stepper.trace();

    check_close(
        &[ours.loss.unwrap()],
        &[torch.loss.unwrap()],
        1e-6,
        1e-6,
        "loss",
    );
    check_close(
        &flat(ours.logits_delta.as_ref().unwrap()),
        &flat(torch.logits_delta.as_ref().unwrap()),
        1e-7,
        1e-5,
        "logits.delta",
    );
    for (i, name) in torch.names.iter().enumerate() {
        let (a, b) = (&ours.layers[i], &torch.layers[i]);
        let pairs = [
            ("out", &a.out, &b.out),
            ("delta", &a.delta, &b.delta),
            ("weight_grad", &a.weight_grad, &b.weight_grad),
            ("bias_grad", &a.bias_grad, &b.bias_grad),
        ];
        // The delta arriving at the layer (the gradient of its output).
        let arriving = torch
            .delta_from_above(i)
            .expect("the fixture holds every delta");
        for (what, x, y) in pairs {
            match (x, y) {
                (Some(x), Some(y)) => {
                    assert_eq!(x.shape(), y.shape(), "{name}.{what} shape");
                    let mut scale = y.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                    if what == "bias_grad" {
                        // A sum of thousands of terms that cancel (a conv's
                        // bias before batch norm: its true gradient is 0)
                        // keeps rounding noise of the size of the terms, as
                        // tools/torch_check.py measures it.
                        scale = scale.max(channel_sums(arriving));
                    }
                    // Agreement to a few ulps of the tensor's largest value.
                    check_close(
                        &flat(x),
                        &flat(y),
                        4e-6 * scale.max(1e-3),
                        0.0,
                        &format!("{name}.{what}"),
                    );
                }
                (None, None) => {}
                _ => panic!("{name}.{what}: present in one trace only"),
            }
        }
    }
}

/// The largest per-channel sum of |D| (channels on axis 1).
fn channel_sums(d: &backprop_viz::engine::Tensor) -> f32 {
    let c = d.shape()[1];
    let mut sums = vec![0.0f32; c];
    for (at, v) in d.indexed_iter() {
        sums[at[1]] += v.abs();
    }
    sums.into_iter().fold(0.0, f32::max)
}

#[test]
fn seed_preset_matches_pytorch() {
    replay("tests/fixtures/torch_seed.safetensors");
}

#[test]
fn lenet_preset_matches_pytorch() {
    replay("tests/fixtures/torch_lenet.safetensors");
}

/// Stride 2 (in place of pooling), dilation 2, and both in one layer, with
/// several channels: PyTorch 2.15's `Conv2d(stride=…, dilation=…)` on the
/// same weights and batch (the network in `tools/torch_check.py`'s
/// `--fixture` run: conv1 1→4 stride 2, conv2 4→4 dilation 2, conv3 4→2
/// stride 2 dilation 2, fc 50→10). Its float64 autograd agreed with our
/// float32 step to 4.1e-7 of each tensor's largest value.
#[test]
fn strided_and_dilated_convs_match_pytorch() {
    replay("tests/fixtures/torch_variants.safetensors");
}

/// The `strided` preset (lenet's convs with stride 2 in place of pooling),
/// seed 5, batch 8: PyTorch 2.15 on the same weights and batch. Its
/// float64 autograd agreed with our float32 step to 4.5e-7 of each
/// tensor's largest value.
#[test]
fn strided_preset_matches_pytorch() {
    replay("tests/fixtures/torch_strided.safetensors");
}

/// Overlapping pools: max 3x3 stride 2 (a cell can win two windows and
/// gets both deltas), average 3x3 stride 2 and average 2x2, after convs
/// with 4 channels, seed 3, batch 8: PyTorch 2.15's `MaxPool2d(3, 2)` and
/// `AvgPool2d(3, 2)` on the same weights and batch. Its float64 autograd
/// agreed with our float32 step to 3.7e-7 of each tensor's largest value.
#[test]
fn overlapping_and_average_pools_match_pytorch() {
    replay("tests/fixtures/torch_pools.safetensors");
}

/// The `bn` preset (lenet with a batch norm after each conv), seed 3,
/// batch 8: PyTorch 2.15's `BatchNorm2d` in training mode (the batch's own
/// statistics) on the same weights and batch. Its float64 autograd agreed
/// with our float32 step to 5.6e-7 of each tensor's scale.
#[test]
fn bn_preset_matches_pytorch() {
    replay("tests/fixtures/torch_bn.safetensors");
}

/// The `updown` preset (a stride-2 conv down, a transposed conv 4→1 back
/// up with output_padding 1), seed 3, batch 8: PyTorch 2.15's
/// `ConvTranspose2d` on the same weights and batch. Float64 autograd
/// agreed to 3.8e-7.
#[test]
fn updown_preset_matches_pytorch() {
    replay("tests/fixtures/torch_updown.safetensors");
}

/// `tests/fixtures/updown2.json`: a transposed conv 4→2 (stride 2), a batch
/// norm after it, and a transposed conv 2→2 with stride 1 and no padding
/// (the map grows 28 → 29), seed 3, batch 8. Float64 autograd agreed to
/// 5.0e-6 of each tensor's scale.
#[test]
fn transposed_convs_and_batch_norm_match_pytorch() {
    replay("tests/fixtures/torch_updown2.safetensors");
}
