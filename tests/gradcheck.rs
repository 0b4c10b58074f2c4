//! Central finite differences against every analytic gradient: each layer
//! kind alone, then whole presets (every weight, bias and delta).
//!
//! `(L(θ+ε) − L(θ−ε)) / 2ε` is only a derivative where L is smooth. ReLU and
//! max pooling are piecewise: a ±ε step on a conv weight moves thousands of
//! ReLU inputs, and some always cross zero. So the whole-network checks
//! differentiate the *branch* the unperturbed point lies on: every ReLU keeps
//! its on/off mask and every max-pool window its winner from the unperturbed
//! forward pass. That function is smooth, it equals the loss at θ, and its
//! gradient is exactly what backpropagation computes — every coordinate is
//! checked, none skipped. (`each_layer_alone` checks the true, unmasked
//! layers.)

mod common;

use backprop_viz::engine::layers::{Activation, Layer, LayerKind, LayerSpec, PoolKind};
use backprop_viz::engine::loss::softmax_cross_entropy;
use backprop_viz::engine::network::Network;
use backprop_viz::engine::optim::{Optimizer, OptimizerKind};
use backprop_viz::engine::stepper::Stepper;
use backprop_viz::engine::Tensor;
use common::{check_close, flat, rng, uniform};
use rand::Rng;
use std::sync::Arc;

const EPS: f32 = 1e-2;

/// The piece of a piecewise-linear layer fixed at one point.
enum Piece {
    /// ReLU: which inputs pass.
    Mask(Vec<bool>),
    /// Max pooling: for each output cell, the flat input index that won.
    Winners(Vec<usize>),
    Smooth,
}

/// The pieces the forward pass from layer `start` goes through on input `x`.
fn branch(net: &Network, start: usize, x: &Tensor) -> Vec<Piece> {
    let mut a = x.clone();
    let mut pieces = Vec::new();
    for layer in &net.layers[start..] {
        pieces.push(match layer {
            Layer::Activation(Activation::Relu) => {
                Piece::Mask(a.iter().map(|&v| v > 0.0).collect())
            }
            Layer::Pool(pool) if pool.kind == PoolKind::Max => {
                let (h, w) = (a.shape()[2], a.shape()[3]);
                let data = a.as_standard_layout().into_owned();
                let mut winners = Vec::new();
                for (p, plane) in data.as_slice().unwrap().chunks_exact(h * w).enumerate() {
                    for i in 0..h / pool.size {
                        for j in 0..w / pool.size {
                            winners.push(p * h * w + pool.argmax(plane, w, i, j));
                        }
                    }
                }
                Piece::Winners(winners)
            }
            _ => Piece::Smooth,
        });
        a = layer.forward(&a);
    }
    pieces
}

/// The loss from layer `start` on, with ReLU masks and pool winners fixed.
fn loss_on_branch(net: &Network, start: usize, x: &Tensor, pieces: &[Piece], labels: &[u8]) -> f32 {
    let mut a = x.clone();
    for (layer, piece) in net.layers[start..].iter().zip(pieces) {
        a = match piece {
            Piece::Mask(mask) => {
                let mut y = a.clone();
                y.iter_mut().zip(mask).for_each(|(v, &on)| {
                    if !on {
                        *v = 0.0
                    }
                });
                y
            }
            Piece::Winners(winners) => {
                let out_shape = layer.forward(&a).shape().to_vec();
                let src = a.as_standard_layout().into_owned();
                let src = src.as_slice().unwrap();
                Tensor::from_shape_vec(out_shape, winners.iter().map(|&k| src[k]).collect())
                    .unwrap()
            }
            Piece::Smooth => layer.forward(&a),
        };
    }
    softmax_cross_entropy(&a, labels).loss
}

/// Central differences of `eval` at each chosen coordinate of `t`.
fn finite_differences(
    t: &Tensor,
    coords: &[usize],
    mut eval: impl FnMut(&Tensor) -> f32,
) -> Vec<f32> {
    coords
        .iter()
        .map(|&k| {
            let mut plus = t.clone();
            plus.as_slice_mut().unwrap()[k] += EPS;
            let mut minus = t.clone();
            minus.as_slice_mut().unwrap()[k] -= EPS;
            (eval(&plus) - eval(&minus)) / (2.0 * EPS)
        })
        .collect()
}

/// Compares analytic values at `coords` with their finite differences.
fn compare(analytic: &[f32], fd: &[f32], coords: &[usize], label: &str) {
    let a: Vec<f32> = coords.iter().map(|&k| analytic[k]).collect();
    // f32 losses near 2.3 have a rounding step of ~2.4e-7; divided by 2ε that
    // is ~1e-5, plus O(ε²) curvature of softmax, sigmoid and tanh.
    check_close(&a, fd, 1e-4, 1e-2, label);
}

fn all_or_sample(len: usize, max: usize, seed: u64) -> Vec<usize> {
    if len <= max {
        (0..len).collect()
    } else {
        let mut r = rng(seed);
        (0..max).map(|_| r.random_range(0..len)).collect()
    }
}

/// Checks every parameter gradient and every layer's delta of `net` on a
/// random batch. `max_coords` bounds the coordinates per tensor.
fn check_network(mut net: Network, batch: usize, max_coords: usize, seed: u64) {
    let mut r = rng(seed);
    let input = uniform(&[batch, 1, 28, 28], 0.0, 1.0, &mut r);
    let labels: Vec<u8> = (0..batch).map(|_| r.random_range(0..10)).collect();
    // Give the ReLUs something to do: random biases too.
    for layer in &mut net.layers {
        if let Some((_, b)) = layer.params_mut() {
            let shape = b.value.shape().to_vec();
            b.value = Arc::new(uniform(&shape, -0.1, 0.1, &mut r));
        }
    }

    let mut stepper = Stepper::new(net.clone(), Optimizer::new(OptimizerKind::Sgd, 0.0));
    stepper.record = true;
    stepper.begin(input.clone(), labels.clone());
    stepper.finish();
    let trace = stepper.trace().clone();

    let mut checked = 0;
    for (i, name) in trace.names.iter().enumerate() {
        let layer = &trace.layers[i];
        // Parameters: perturb, run the whole network.
        if let Some((w, b)) = net.layers[i].params() {
            let grads = [
                layer.weight_grad.as_ref().unwrap(),
                layer.bias_grad.as_ref().unwrap(),
            ];
            for (which, (param, grad)) in [w, b].into_iter().zip(grads).enumerate() {
                let coords = all_or_sample(param.value.len(), max_coords, seed + i as u64);
                let pieces = branch(&net, 0, &input);
                let fd = finite_differences(&param.value, &coords, |p| {
                    let mut probe = net.clone();
                    let (pw, pb) = probe.layers[i].params_mut().unwrap();
                    if which == 0 {
                        pw.value = Arc::new(p.clone())
                    } else {
                        pb.value = Arc::new(p.clone())
                    }
                    loss_on_branch(&probe, 0, &input, &pieces, &labels)
                });
                let label = format!(
                    "{name}.{}",
                    if which == 0 {
                        "weight_grad"
                    } else {
                        "bias_grad"
                    }
                );
                compare(grad.as_slice().unwrap(), &fd, &coords, &label);
                checked += coords.len();
            }
        }
        // The delta this layer hands down: perturb its input, run from here.
        let x = trace.layer_input(i).unwrap();
        let delta = layer.delta.as_ref().unwrap();
        let coords = all_or_sample(x.len(), max_coords, seed + 100 + i as u64);
        let pieces = branch(&net, i, x);
        let fd = finite_differences(x, &coords, |p| loss_on_branch(&net, i, p, &pieces, &labels));
        compare(
            delta.as_slice().unwrap(),
            &fd,
            &coords,
            &format!("{name}.delta"),
        );
        checked += coords.len();
    }
    eprintln!("checked {checked} coordinates");
    // The branch loss at θ is the real loss (same pieces): the check is anchored.
    let pieces = branch(&net, 0, &input);
    // (The training step's forward: batch norm by the batch's statistics,
    // where `Network::forward` infers by the running ones.)
    let logits = net.layers.iter().fold(input.clone(), |a, l| l.forward(&a));
    let real = softmax_cross_entropy(&logits, &labels).loss;
    assert_eq!(loss_on_branch(&net, 0, &input, &pieces, &labels), real);
    assert_eq!(trace.loss, Some(real));
}

#[test]
fn whole_seed_preset() {
    check_network(Network::preset("seed", 3).unwrap(), 3, usize::MAX, 11);
}

#[test]
fn whole_lenet_preset() {
    // Every conv weight and bias; up to 600 coordinates of the larger tensors.
    check_network(Network::preset("lenet", 4).unwrap(), 2, 600, 12);
}

#[test]
fn whole_bn_preset() {
    // lenet with a batch norm after each conv: γ and β checked too.
    check_network(Network::preset("bn", 4).unwrap(), 2, 600, 12);
}

#[test]
fn whole_updown_preset() {
    check_network(Network::preset("updown", 4).unwrap(), 2, 600, 12);
}

#[test]
fn transposed_convs_with_batch_norm_between() {
    let specs = Network::specs_from_json(include_str!("fixtures/updown2.json")).unwrap();
    let mut net = Network::new(specs).unwrap();
    net.init(5);
    check_network(net, 3, 600, 13);
}

/// A transposed conv layer kind.
fn transposed(
    cin: usize,
    cout: usize,
    kernel: usize,
    padding: usize,
    stride: usize,
    output_padding: usize,
) -> LayerKind {
    LayerKind::Convtranspose {
        in_channels: cin,
        out_channels: cout,
        kernel,
        padding,
        stride,
        output_padding,
    }
}

#[test]
fn whole_strided_preset() {
    // lenet's shape with stride-2 convs in place of pooling.
    check_network(Network::preset("strided", 4).unwrap(), 2, 600, 12);
}

/// A max (or average) pooling layer kind, `size` wide, `stride` apart.
fn pool(max: bool, size: usize, stride: usize) -> LayerKind {
    let stride = Some(stride);
    if max {
        LayerKind::Maxpool { size, stride }
    } else {
        LayerKind::Avgpool { size, stride }
    }
}

/// A conv layer kind, stride 1.
fn conv(cin: usize, cout: usize, kernel: usize, padding: usize) -> LayerKind {
    strided(cin, cout, kernel, padding, 1, 1)
}

/// A conv layer kind with a stride and a dilation.
fn strided(
    cin: usize,
    cout: usize,
    kernel: usize,
    padding: usize,
    stride: usize,
    dilation: usize,
) -> LayerKind {
    LayerKind::Conv {
        in_channels: cin,
        out_channels: cout,
        kernel,
        padding,
        stride,
        dilation,
    }
}

/// An all-conv network: stride 2 in place of pooling, then a dilated conv
/// (the `strided` preset's shape, smaller).
#[test]
fn strided_and_dilated_network() {
    let spec = |name: &str, kind: LayerKind| LayerSpec {
        name: name.into(),
        kind,
    };
    let specs = vec![
        spec("c1", strided(1, 2, 3, 1, 2, 1)),
        spec("r1", LayerKind::Relu),
        spec("c2", strided(2, 3, 3, 2, 1, 2)),
        spec("r2", LayerKind::Relu),
        spec("c3", strided(3, 2, 3, 0, 2, 1)),
        spec("flat", LayerKind::Flatten),
        spec(
            "fc",
            LayerKind::Dense {
                inputs: 2 * 6 * 6,
                outputs: 10,
            },
        ),
    ];
    let mut net = Network::new(specs).unwrap();
    net.init(7);
    check_network(net, 2, 400, 14);
}

/// A network exercising the other layer kinds: sigmoid, tanh, avgpool, 5x5
/// kernels, several channels, no padding.
#[test]
fn other_layer_kinds() {
    let specs = vec![
        LayerSpec {
            name: "c1".into(),
            kind: conv(1, 3, 5, 2),
        },
        LayerSpec {
            name: "s1".into(),
            kind: LayerKind::Sigmoid,
        },
        LayerSpec {
            name: "a1".into(),
            kind: LayerKind::Avgpool {
                size: 2,
                stride: None,
            },
        },
        LayerSpec {
            name: "c2".into(),
            kind: conv(3, 2, 3, 0),
        },
        LayerSpec {
            name: "t2".into(),
            kind: LayerKind::Tanh,
        },
        LayerSpec {
            name: "m2".into(),
            kind: LayerKind::Maxpool {
                size: 2,
                stride: None,
            },
        },
        LayerSpec {
            name: "flat".into(),
            kind: LayerKind::Flatten,
        },
        LayerSpec {
            name: "fc".into(),
            kind: LayerKind::Dense {
                inputs: 2 * 36,
                outputs: 10,
            },
        },
    ];
    let mut net = Network::new(specs).unwrap();
    net.init(5);
    check_network(net, 2, 400, 13);
}

/// Each layer alone under `L = Σ y·R` (R random): its backward must be the
/// exact adjoint of its forward.
#[test]
fn each_layer_alone() {
    let cases: Vec<(LayerKind, Vec<usize>)> = vec![
        (conv(1, 1, 3, 1), vec![2, 1, 6, 6]),
        (conv(2, 3, 3, 1), vec![2, 2, 5, 5]),
        (conv(3, 8, 3, 0), vec![2, 3, 6, 6]),
        (conv(2, 2, 5, 2), vec![2, 2, 7, 7]),
        // Stride 2: windows 2 apart (the last padded row unread when the
        // stride does not divide evenly), by GEMM.
        (strided(1, 1, 3, 1, 2, 1), vec![2, 1, 7, 7]),
        (strided(2, 3, 3, 0, 2, 1), vec![2, 2, 6, 6]),
        (strided(3, 4, 2, 0, 3, 1), vec![2, 3, 8, 8]),
        // Dilation 2: the filter's taps 2 apart, directly and by GEMM.
        (strided(1, 2, 3, 2, 1, 2), vec![2, 1, 7, 7]),
        (strided(3, 4, 3, 1, 1, 3), vec![2, 3, 9, 9]),
        // Both.
        (strided(2, 2, 3, 1, 2, 2), vec![2, 2, 9, 9]),
        (LayerKind::Relu, vec![2, 3, 4, 4]),
        (LayerKind::Sigmoid, vec![2, 7]),
        (LayerKind::Tanh, vec![2, 7]),
        (pool(true, 2, 2), vec![2, 2, 4, 4]),
        (pool(false, 2, 2), vec![2, 2, 5, 4]),
        // Overlapping windows (3 wide, 2 apart: a cell in up to four),
        // windows with gaps (2 wide, 3 apart), and the defaults' stride 1.
        (pool(true, 3, 2), vec![2, 2, 7, 7]),
        (pool(false, 3, 2), vec![2, 2, 8, 7]),
        (pool(true, 2, 3), vec![2, 1, 8, 8]),
        (pool(false, 2, 1), vec![2, 2, 5, 5]),
        (LayerKind::Flatten, vec![2, 2, 3, 3]),
        (
            LayerKind::Dense {
                inputs: 6,
                outputs: 4,
            },
            vec![3, 6],
        ),
        // Transposed convs: stride 2 with output padding, stride 1 without
        // padding (the map grows), several channels each way.
        (transposed(1, 1, 3, 1, 2, 1), vec![2, 1, 4, 4]),
        (transposed(3, 2, 3, 1, 2, 1), vec![2, 3, 4, 5]),
        (transposed(2, 3, 2, 0, 1, 0), vec![2, 2, 4, 4]),
        (transposed(2, 2, 4, 1, 3, 2), vec![2, 2, 3, 3]),
        // Batch norm: each channel's statistics over the batch and the map.
        (
            LayerKind::Batchnorm {
                channels: 3,
                eps: 1e-5,
            },
            vec![3, 3, 4, 4],
        ),
    ];
    for (case, (kind, shape)) in cases.into_iter().enumerate() {
        let mut r = rng(case as u64);
        let mut layer = Layer::from_kind(&kind);
        if let Some((w, b)) = layer.params_mut() {
            let (ws, bs) = (w.value.shape().to_vec(), b.value.shape().to_vec());
            w.value = Arc::new(uniform(&ws, -1.0, 1.0, &mut r));
            b.value = Arc::new(uniform(&bs, -1.0, 1.0, &mut r));
        }
        let mut x = uniform(&shape, -1.0, 1.0, &mut r);
        if matches!(kind, LayerKind::Maxpool { .. }) {
            // Max pooling's kinks are where two values of a window are
            // equal: values at least 0.021 apart (in a scrambled order) keep
            // every ±0.01 step clear of them, however many share a window.
            let n = x.len();
            let gcd = |mut a: usize, mut b: usize| {
                while b != 0 {
                    (a, b) = (b, a % b);
                }
                a
            };
            // A step coprime with n walks every index once.
            let step = (7..).find(|&p| gcd(p, n) == 1).unwrap();
            for (k, v) in x.as_slice_mut().unwrap().iter_mut().enumerate() {
                *v = ((k * step) % n) as f32 * 0.021 - n as f32 * 0.0105;
            }
        }
        let y = layer.forward(&x);
        let proj = uniform(y.shape(), -1.0, 1.0, &mut r);
        let objective = |l: &Layer, x: &Tensor| -> f64 {
            l.forward(x)
                .iter()
                .zip(proj.iter())
                .map(|(a, b)| (*a as f64) * (*b as f64))
                .sum()
        };
        let d_in = layer.backward(&x, &y, &proj, true).unwrap();
        let label = format!("{:?}", kind);
        let fd_of = |t: &Tensor, f: &dyn Fn(&Tensor) -> f64| -> Vec<f32> {
            (0..t.len())
                .map(|k| {
                    let mut p = t.clone();
                    p.as_slice_mut().unwrap()[k] += 1e-2;
                    let mut m = t.clone();
                    m.as_slice_mut().unwrap()[k] -= 1e-2;
                    ((f(&p) - f(&m)) / 2e-2) as f32
                })
                .collect()
        };
        // Max pooling and ReLU are piecewise linear: with inputs drawn from a
        // continuous distribution no ±0.01 step crosses a kink here (checked
        // by the exact agreement below, which would fail if one did).
        let fd_x = fd_of(&x, &|p| objective(&layer, p));
        check_close(&flat(&d_in), &fd_x, 2e-3, 1e-2, &format!("{label} d_in"));
        if let Some((w, b)) = layer.params() {
            for (param, what) in [(w, "weight"), (b, "bias")] {
                let fd = fd_of(&param.value, &|p| {
                    let mut probe = layer.clone();
                    let (pw, pb) = probe.params_mut().unwrap();
                    if what == "weight" {
                        pw.value = Arc::new(p.clone())
                    } else {
                        pb.value = Arc::new(p.clone())
                    }
                    objective(&probe, &x)
                });
                check_close(
                    &flat(&param.grad),
                    &fd,
                    2e-3,
                    1e-2,
                    &format!("{label} d_{what}"),
                );
            }
        }
    }
}
