//! `check` names each catalogue mistake (docs/CHECK-CONTRACT.md). Mutants
//! are built here from the trace with plain index loops, written apart
//! from the program's own formulas, so a wrong formula on either side shows
//! up as a misnamed mutant. Every mutant is handed in as safetensors, `.npy`
//! and CSV; right tensors must always be accepted and random ones never.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use backprop_viz::check::{check, Mistake, TOLERANCE};
use backprop_viz::data::dataset::{default_data_dir, load_dir, Dataset};
use backprop_viz::engine::layers::LayerKind;
use backprop_viz::engine::network::{Downsample, Network, TwoStage};
use backprop_viz::engine::optim::{Optimizer, OptimizerKind};
use backprop_viz::engine::stepper::Stepper;
use backprop_viz::engine::trace::Trace;
use backprop_viz::io::{read_handed, tensor_csv};
use backprop_viz::training::Trainer;
use ndarray::{ArrayD, IxDyn};

fn training_set() -> Arc<Dataset> {
    static DATA: OnceLock<Arc<Dataset>> = OnceLock::new();
    DATA.get_or_init(|| {
        Arc::new(
            load_dir(&default_data_dir())
                .expect("the shipped MNIST")
                .train,
        )
    })
    .clone()
}

/// One real training step (the first batch of `seed`'s order), recorded.
fn traced(preset: &str, seed: u64, batch: usize) -> Trace {
    traced_net(Network::preset(preset, seed).unwrap(), seed, batch)
}

/// The question's shape with dilated filters (2), pooled or strided (2).
fn dilated(downsample: Downsample, seed: u64) -> Network {
    let specs = TwoStage {
        filters: [3, 4],
        kernel: 3,
        padding: 2,
        dilation: 2,
        downsample,
        batchnorm: false,
        activation: LayerKind::Relu,
        hidden: 16,
    }
    .specs()
    .unwrap();
    let mut net = Network::new(specs).unwrap();
    net.init(seed);
    net
}

fn traced_net(net: Network, seed: u64, batch: usize) -> Trace {
    let mut stepper = Stepper::new(net, Optimizer::new(OptimizerKind::Sgd, 0.05));
    stepper.record = true;
    let mut trainer = Trainer::new(stepper, training_set(), batch, seed);
    trainer.begin_batch();
    trainer.stepper.finish();
    trainer.stepper.trace().clone()
}

fn f64s(t: &backprop_viz::engine::Tensor) -> ArrayD<f64> {
    t.mapv(f64::from)
}

fn zeros(shape: &[usize]) -> ArrayD<f64> {
    ArrayD::zeros(IxDyn(shape))
}

/// What one layer's backward step reads: its input x, the delta D from
/// above, its weights, and the trace's answer c.
struct Step {
    kind: LayerKind,
    x: ArrayD<f64>,
    d: ArrayD<f64>,
    w: Option<ArrayD<f64>>,
}

fn step(t: &Trace, i: usize) -> Step {
    let x = if i == 0 {
        f64s(&t.input)
    } else {
        f64s(t.layers[i - 1].out.as_ref().unwrap())
    };
    let d = match t.layers.get(i + 1) {
        Some(l) => f64s(l.delta.as_ref().unwrap()),
        None => f64s(t.logits_delta.as_ref().unwrap()),
    };
    Step {
        kind: t.kinds[i].clone(),
        x,
        d,
        w: t.layers[i].weight.as_deref().map(f64s),
    }
}

/// x zero-padded: 0 outside.
fn xp(x: &ArrayD<f64>, n: usize, c: usize, r: isize, col: isize) -> f64 {
    let (h, w) = (x.shape()[2] as isize, x.shape()[3] as isize);
    if r < 0 || col < 0 || r >= h || col >= w {
        0.0
    } else {
        x[[n, c, r as usize, col as usize]]
    }
}

/// dF from samples `0..samples`, by the definition: output cell (i, j)
/// read x at `(S·i + Dl·a − p, S·j + Dl·b − p)` (`(S, Dl)` = `spacing`).
fn conv_grad(
    s: &Step,
    k: usize,
    p: usize,
    samples: usize,
    (stride, dil): (usize, usize),
) -> ArrayD<f64> {
    let (o, c) = (s.d.shape()[1], s.x.shape()[1]);
    let (ho, wo) = (s.d.shape()[2], s.d.shape()[3]);
    let mut g = zeros(&[o, c, k, k]);
    for n in 0..samples {
        for oo in 0..o {
            for cc in 0..c {
                for a in 0..k {
                    for b in 0..k {
                        for i in 0..ho {
                            for j in 0..wo {
                                g[[oo, cc, a, b]] += xp(
                                    &s.x,
                                    n,
                                    cc,
                                    (stride * i + dil * a) as isize - p as isize,
                                    (stride * j + dil * b) as isize - p as isize,
                                ) * s.d[[n, oo, i, j]];
                            }
                        }
                    }
                }
            }
        }
    }
    g
}

/// How a conv's backward is done, right or wrong.
#[derive(Clone, Copy)]
struct Scatter {
    /// F turned by 180° where F itself is due.
    rotate: bool,
    /// The sum over output channels limited to `0..outputs`.
    outputs: usize,
    /// The padded result cropped at its top-left corner, not its centre.
    shift: bool,
    /// D[n,o,i,j] lands at `S·i + Dl·a`: `(S, Dl)`.
    spacing: (usize, usize),
}

/// The delta a conv layer hands down, by scattering each D[n,o,i,j]
/// through the filter as `how` says.
fn conv_delta(s: &Step, p: usize, how: Scatter) -> ArrayD<f64> {
    let Scatter {
        rotate,
        outputs,
        shift,
        spacing: (stride, dil),
    } = how;
    let f = s.w.as_ref().unwrap();
    let (n, c, h, w) = (
        s.x.shape()[0],
        s.x.shape()[1],
        s.x.shape()[2],
        s.x.shape()[3],
    );
    let k = f.shape()[2];
    let (ho, wo) = (s.d.shape()[2], s.d.shape()[3]);
    let mut padded = zeros(&[n, c, h + 2 * p, w + 2 * p]);
    for nn in 0..n {
        for oo in 0..outputs {
            for cc in 0..c {
                for i in 0..ho {
                    for j in 0..wo {
                        for a in 0..k {
                            for b in 0..k {
                                let tap = if rotate {
                                    f[[oo, cc, k - 1 - a, k - 1 - b]]
                                } else {
                                    f[[oo, cc, a, b]]
                                };
                                padded[[nn, cc, stride * i + dil * a, stride * j + dil * b]] +=
                                    tap * s.d[[nn, oo, i, j]];
                            }
                        }
                    }
                }
            }
        }
    }
    let off = if shift { 0 } else { p };
    ArrayD::from_shape_fn(IxDyn(&[n, c, h, w]), |ix| {
        padded[[ix[0], ix[1], ix[2] + off, ix[3] + off]]
    })
}

/// How a pooling layer's delta is sent to its windows' cells.
#[derive(Clone, Copy)]
enum Send {
    /// All of it to one cell: `to(window values)`.
    Max(fn(&[f64]) -> usize),
    /// A share of it to every cell.
    Each(f64),
}

/// A pooling layer's delta, windows `size` wide and `stride` apart, sent as
/// `how` says; where windows overlap a cell adds up what each sends, or,
/// `overwrite`, keeps the last window's.
fn pool_route(s: &Step, (size, stride): (usize, usize), how: Send, overwrite: bool) -> ArrayD<f64> {
    let mut out = zeros(s.x.shape());
    let (n, c, ho, wo) = (
        s.d.shape()[0],
        s.d.shape()[1],
        s.d.shape()[2],
        s.d.shape()[3],
    );
    for nn in 0..n {
        for cc in 0..c {
            for i in 0..ho {
                for j in 0..wo {
                    let at = |q: usize| [nn, cc, i * stride + q / size, j * stride + q % size];
                    let cells: Vec<f64> = (0..size * size).map(|q| s.x[at(q)]).collect();
                    for q in 0..size * size {
                        let share = match how {
                            Send::Max(to) if to(&cells) == q => 1.0,
                            Send::Max(_) => continue,
                            Send::Each(share) => share,
                        };
                        let sent = share * s.d[[nn, cc, i, j]];
                        if overwrite {
                            out[at(q)] = sent;
                        } else {
                            out[at(q)] += sent;
                        }
                    }
                }
            }
        }
    }
    out
}

/// What batch norm's m is taken to be.
#[derive(Clone, Copy, PartialEq)]
enum BnCount {
    /// N·H·W, every value of the channel (right).
    All,
    /// N, the batch alone.
    Batch,
}

/// x̂ of channel `c` at `ix`, worked from the batch: (x − μ)/√(σ² + ε).
fn bn_xhat(s: &Step, eps: f64) -> ArrayD<f64> {
    let c = s.x.shape()[1];
    let m = (s.x.len() / c) as f64;
    let mut stats = Vec::new();
    for ch in 0..c {
        let plane = s.x.index_axis(ndarray::Axis(1), ch);
        let mean = plane.sum() / m;
        let var = plane.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / m;
        stats.push((mean, var));
    }
    ArrayD::from_shape_fn(s.x.raw_dim(), |ix| {
        let (mean, var) = stats[ix[1]];
        (s.x[&ix] - mean) / (var + eps).sqrt()
    })
}

/// `(dβ, dγ)` per channel: Σ D and Σ D·x̂ (or Σ D·x, `raw`).
fn bn_sums(s: &Step, eps: f64, raw: bool) -> (ArrayD<f64>, ArrayD<f64>) {
    let c = s.x.shape()[1];
    let xhat = bn_xhat(s, eps);
    let by = if raw { &s.x } else { &xhat };
    let mut db = zeros(&[c]);
    let mut dg = zeros(&[c]);
    for (ix, d) in s.d.indexed_iter() {
        db[[ix[1]]] += d;
        dg[[ix[1]]] += d * by[&ix];
    }
    (db, dg)
}

/// Batch norm's delta with the terms through the mean and the variance in
/// or out, and m as `count` says.
fn bn_hand(s: &Step, eps: f64, (mean, var): (bool, bool), count: BnCount) -> ArrayD<f64> {
    let c = s.x.shape()[1];
    let m = match count {
        BnCount::All => (s.x.len() / c) as f64,
        BnCount::Batch => s.x.shape()[0] as f64,
    };
    let xhat = bn_xhat(s, eps);
    let (db, dg) = bn_sums(s, eps, false);
    let gamma = s.w.as_ref().unwrap();
    ArrayD::from_shape_fn(s.x.raw_dim(), |ix| {
        let ch = ix[1];
        let plane = s.x.index_axis(ndarray::Axis(1), ch);
        let mu = plane.sum() / plane.len() as f64;
        let var_c = plane.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / plane.len() as f64;
        let mut t = s.d[&ix];
        if mean {
            t -= db[[ch]] / m;
        }
        if var {
            t -= xhat[&ix] * dg[[ch]] / m;
        }
        gamma[[ch]] / (var_c + eps).sqrt() * t
    })
}

/// D (a transposed conv's output delta), 0 outside.
fn d_at(s: &Step, n: usize, o: usize, r: isize, col: isize) -> f64 {
    xp(&s.d, n, o, r, col)
}

/// How a transposed conv's filter is read.
#[derive(Clone, Copy, PartialEq)]
enum Read {
    Right,
    /// Turned by 180°.
    Turned,
    /// As if laid out `[out, in, K, K]` (a conv's).
    AsConv,
}

/// A transposed conv's delta by its definition: input cell (a, b) of
/// channel i reached output cell `(S·a + u − P, S·b + v − P)` of channel o
/// through F[i, o, u, v].
fn up_delta(s: &Step, p: usize, stride: usize, read: Read) -> ArrayD<f64> {
    let f = s.w.as_ref().unwrap();
    let (cin, cout, k) = (f.shape()[0], f.shape()[1], f.shape()[2]);
    let flat: Vec<f64> = f.iter().copied().collect();
    ArrayD::from_shape_fn(s.x.raw_dim(), |ix| {
        let (n, i, a, b) = (ix[0], ix[1], ix[2], ix[3]);
        let mut sum = 0.0;
        for o in 0..cout {
            for u in 0..k {
                for v in 0..k {
                    let w = match read {
                        Read::Right => f[[i, o, u, v]],
                        Read::Turned => f[[i, o, k - 1 - u, k - 1 - v]],
                        Read::AsConv => flat[((o * cin + i) * k + u) * k + v],
                    };
                    let r = (stride * a + u) as isize - p as isize;
                    let c = (stride * b + v) as isize - p as isize;
                    sum += w * d_at(s, n, o, r, c);
                }
            }
        }
        sum
    })
}

/// A transposed conv's dF by its definition (input cells `stride` apart in
/// D); `as_conv`: the same numbers written in a conv's `[out, in]` order.
fn up_grad(s: &Step, p: usize, stride: usize, as_conv: bool) -> ArrayD<f64> {
    let (cin, cout) = (s.x.shape()[1], s.d.shape()[1]);
    let f = s.w.as_ref().unwrap();
    let k = f.shape()[2];
    let mut g = zeros(&[cin, cout, k, k]);
    for (ix, x) in s.x.indexed_iter() {
        let (n, i, a, b) = (ix[0], ix[1], ix[2], ix[3]);
        for o in 0..cout {
            for u in 0..k {
                for v in 0..k {
                    let r = (stride * a + u) as isize - p as isize;
                    let c = (stride * b + v) as isize - p as isize;
                    g[[i, o, u, v]] += x * d_at(s, n, o, r, c);
                }
            }
        }
    }
    if !as_conv {
        return g;
    }
    let written: Vec<f64> = (0..cout)
        .flat_map(|o| (0..cin).map(move |i| (o, i)))
        .flat_map(|(o, i)| {
            let g = &g;
            (0..k * k).map(move |t| g[[i, o, t / k, t % k]])
        })
        .collect();
    ArrayD::from_shape_vec(IxDyn(&[cin, cout, k, k]), written).unwrap()
}

fn first_max(cells: &[f64]) -> usize {
    (0..cells.len()).fold(0, |best, q| if cells[q] > cells[best] { q } else { best })
}

/// Every mistake of the catalogue that applies to `name`, built from the
/// trace by hand; and the right tensor, by hand too.
fn mutants(t: &Trace, name: &str) -> (ArrayD<f64>, Vec<(Mistake, ArrayD<f64>)>) {
    let (layer, part) = name.rsplit_once('.').unwrap();
    let i = t.names.iter().position(|n| n == layer).unwrap();
    let s = step(t, i);
    let batch = s.x.shape()[0];
    let mut out = Vec::new();
    let right = match (&s.kind, part) {
        (
            LayerKind::Conv {
                kernel,
                padding,
                stride,
                dilation,
                ..
            },
            "weight_grad",
        ) => {
            let (k, p, sp) = (*kernel, *padding, (*stride, *dilation));
            let c = conv_grad(&s, k, p, batch, sp);
            let shape = c.shape().to_vec();
            out.push((
                Mistake::Transposed,
                ArrayD::from_shape_fn(IxDyn(&shape), |ix| c[[ix[0], ix[1], ix[3], ix[2]]]),
            ));
            out.push((
                Mistake::ConvolutionNotCorrelation,
                ArrayD::from_shape_fn(IxDyn(&shape), |ix| {
                    c[[ix[0], ix[1], k - 1 - ix[2], k - 1 - ix[3]]]
                }),
            ));
            out.push((Mistake::OneSampleOnly, conv_grad(&s, k, p, 1, sp)));
            if sp.0 > 1 {
                out.push((
                    Mistake::WeightGradNotStrided,
                    conv_grad(&s, k, p, batch, (1, sp.1)),
                ));
            }
            if sp.1 > 1 {
                out.push((
                    Mistake::DilationDropped,
                    conv_grad(&s, k, p, batch, (sp.0, 1)),
                ));
            }
            c
        }
        (LayerKind::Conv { .. }, "bias_grad") => {
            let bias = |samples: usize| {
                let mut b = zeros(&[s.d.shape()[1]]);
                for ((n, o, _, _), v) in
                    s.d.view()
                        .into_dimensionality::<ndarray::Ix4>()
                        .unwrap()
                        .indexed_iter()
                {
                    if n < samples {
                        b[[o]] += v;
                    }
                }
                b
            };
            out.push((Mistake::OneSampleOnly, bias(1)));
            bias(batch)
        }
        (
            LayerKind::Conv {
                padding,
                out_channels,
                stride,
                dilation,
                ..
            },
            "delta",
        ) => {
            let p = *padding;
            let right = Scatter {
                rotate: false,
                outputs: *out_channels,
                shift: false,
                spacing: (*stride, *dilation),
            };
            let rotate = true;
            out.push((
                Mistake::NoRot180,
                conv_delta(&s, p, Scatter { rotate, ..right }),
            ));
            let shift = true;
            out.push((
                Mistake::ValidNotFull,
                conv_delta(&s, p, Scatter { shift, ..right }),
            ));
            if *out_channels > 1 {
                let outputs = 1;
                out.push((
                    Mistake::ChannelsNotSummed,
                    conv_delta(&s, p, Scatter { outputs, ..right }),
                ));
            }
            if *stride > 1 {
                let spacing = (1, *dilation);
                out.push((
                    Mistake::DeltaNotDilated,
                    conv_delta(&s, p, Scatter { spacing, ..right }),
                ));
            }
            if *dilation > 1 {
                let spacing = (*stride, 1);
                out.push((
                    Mistake::DilationDropped,
                    conv_delta(&s, p, Scatter { spacing, ..right }),
                ));
            }
            conv_delta(&s, p, right)
        }
        (LayerKind::Batchnorm { eps, .. }, part) => {
            let hand = |mean: bool, var: bool, m: BnCount| bn_hand(&s, *eps as f64, (mean, var), m);
            match part {
                "weight_grad" => {
                    out.push((
                        Mistake::BnDgammaNotNormalized,
                        bn_sums(&s, *eps as f64, true).1,
                    ));
                    bn_sums(&s, *eps as f64, false).1
                }
                "bias_grad" => bn_sums(&s, *eps as f64, false).0,
                _ => {
                    out.push((Mistake::BnMeanTermMissing, hand(false, true, BnCount::All)));
                    out.push((Mistake::BnVarTermMissing, hand(true, false, BnCount::All)));
                    out.push((Mistake::BnStatsConstant, hand(false, false, BnCount::All)));
                    out.push((Mistake::BnCountBatchOnly, hand(true, true, BnCount::Batch)));
                    hand(true, true, BnCount::All)
                }
            }
        }
        (
            LayerKind::Convtranspose {
                in_channels,
                out_channels,
                padding,
                stride,
                ..
            },
            part,
        ) => {
            let several = *in_channels > 1 && *out_channels > 1;
            let (p, st) = (*padding, *stride);
            match part {
                "weight_grad" => {
                    if st > 1 {
                        out.push((
                            Mistake::ConvtransposeGradNotStrided,
                            up_grad(&s, p, 1, false),
                        ));
                    }
                    if several {
                        out.push((
                            Mistake::ConvtransposeWeightSwapped,
                            up_grad(&s, p, st, true),
                        ));
                    }
                    up_grad(&s, p, st, false)
                }
                "bias_grad" => ArrayD::from_shape_fn(IxDyn(&[*out_channels]), |ix| {
                    s.d.index_axis(ndarray::Axis(1), ix[0]).sum()
                }),
                _ => {
                    out.push((
                        Mistake::ConvtransposeRot180,
                        up_delta(&s, p, st, Read::Turned),
                    ));
                    if several {
                        out.push((
                            Mistake::ConvtransposeWeightSwapped,
                            up_delta(&s, p, st, Read::AsConv),
                        ));
                    }
                    up_delta(&s, p, st, Read::Right)
                }
            }
        }
        (LayerKind::Dense { inputs, outputs }, "weight_grad") => {
            let grad = |samples: usize| {
                ArrayD::from_shape_fn(IxDyn(&[*outputs, *inputs]), |ix| {
                    (0..samples)
                        .map(|n| s.d[[n, ix[0]]] * s.x[[n, ix[1]]])
                        .sum()
                })
            };
            let c = grad(batch);
            out.push((
                Mistake::Transposed,
                ArrayD::from_shape_fn(IxDyn(&[*inputs, *outputs]), |ix| c[[ix[1], ix[0]]]),
            ));
            out.push((Mistake::OneSampleOnly, grad(1)));
            c
        }
        (LayerKind::Dense { outputs, .. }, "bias_grad") => {
            let bias = |samples: usize| {
                ArrayD::from_shape_fn(IxDyn(&[*outputs]), |ix| {
                    (0..samples).map(|n| s.d[[n, ix[0]]]).sum()
                })
            };
            out.push((Mistake::OneSampleOnly, bias(1)));
            bias(batch)
        }
        (LayerKind::Dense { inputs, outputs }, "delta") => {
            let w = s.w.as_ref().unwrap();
            if inputs == outputs {
                out.push((
                    Mistake::FcNotTransposed,
                    ArrayD::from_shape_fn(IxDyn(&[batch, *inputs]), |ix| {
                        (0..*outputs).map(|o| s.d[[ix[0], o]] * w[[ix[1], o]]).sum()
                    }),
                ));
            }
            ArrayD::from_shape_fn(IxDyn(&[batch, *inputs]), |ix| {
                (0..*outputs).map(|o| s.d[[ix[0], o]] * w[[o, ix[1]]]).sum()
            })
        }
        (LayerKind::Relu, "delta") => {
            out.push((Mistake::ReluMaskMissing, s.d.clone()));
            let masked =
                |keep: fn(f64) -> bool| {
                    ArrayD::from_shape_fn(s.x.raw_dim(), |ix| {
                        if keep(s.x[&ix]) {
                            s.d[&ix]
                        } else {
                            0.0
                        }
                    })
                };
            out.push((Mistake::ReluMaskInverted, masked(|x| x <= 0.0)));
            masked(|x| x > 0.0)
        }
        (LayerKind::Maxpool { .. }, "delta") => {
            let window = s.kind.pool_window().unwrap();
            let spread = Send::Each(1.0 / (window.0 * window.0) as f64);
            out.push((Mistake::PoolSpread, pool_route(&s, window, spread, false)));
            out.push((
                Mistake::PoolWrongPosition,
                pool_route(&s, window, Send::Max(|_| 0), false),
            ));
            if window.1 < window.0 {
                out.push((
                    Mistake::PoolOverwrote,
                    pool_route(&s, window, Send::Max(first_max), true),
                ));
            }
            pool_route(&s, window, Send::Max(first_max), false)
        }
        (LayerKind::Avgpool { .. }, "delta") => {
            let window = s.kind.pool_window().unwrap();
            let share = Send::Each(1.0 / (window.0 * window.0) as f64);
            out.push((
                Mistake::AvgpoolCopied,
                pool_route(&s, window, Send::Each(1.0), false),
            ));
            if window.1 < window.0 {
                out.push((Mistake::PoolOverwrote, pool_route(&s, window, share, true)));
            }
            pool_route(&s, window, share, false)
        }
        (LayerKind::Flatten, "delta") => {
            let (c, h) = (s.x.shape()[1], s.x.shape()[2]);
            out.push((
                Mistake::FlattenOrder,
                ArrayD::from_shape_fn(s.x.raw_dim(), |ix| {
                    s.d[[ix[0], (ix[3] * h + ix[2]) * c + ix[1]]]
                }),
            ));
            s.d.clone().into_shape_with_order(s.x.raw_dim()).unwrap()
        }
        other => panic!("no hand-built formula for {other:?}"),
    };
    let n = batch as f64;
    out.push((Mistake::MissingMean, &right * n));
    out.push((Mistake::ExtraMean, &right / n));
    out.push((Mistake::WrongSign, -&right));
    (right, out)
}

fn max_abs(a: &ArrayD<f64>) -> f64 {
    a.iter().fold(0.0, |m, v| m.max(v.abs()))
}

/// The contract's "the same tensor within the tolerance".
fn same(a: &ArrayD<f64>, b: &ArrayD<f64>) -> bool {
    a.shape() == b.shape()
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() <= TOLERANCE * max_abs(b).max(1e-12))
}

/// The backward tensors of a trace that the catalogue covers.
fn backward_names(t: &Trace) -> Vec<String> {
    let mut names = Vec::new();
    for (name, kind) in t.names.iter().zip(&t.kinds) {
        if kind.param_shapes().is_some() {
            names.push(format!("{name}.weight_grad"));
            names.push(format!("{name}.bias_grad"));
        }
        names.push(format!("{name}.delta"));
    }
    names
}

// --- The three ways of handing a tensor in, written here by hand. ---

fn write_safetensors(dir: &Path, name: &str, a: &ArrayD<f64>) -> std::path::PathBuf {
    let bytes: Vec<u8> = a.iter().flat_map(|v| v.to_le_bytes()).collect();
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::F64, a.shape().to_vec(), &bytes)
            .unwrap();
    let path = dir.join(format!("{name}.safetensors"));
    safetensors::serialize_to_file([(name, view)], None, &path).unwrap();
    path
}

/// A float64 `.npy` in Fortran order, as `np.save(a.T.copy().T)` writes.
fn write_npy_fortran(dir: &Path, name: &str, a: &ArrayD<f64>) -> std::path::PathBuf {
    let dims: Vec<String> = a.shape().iter().map(usize::to_string).collect();
    let shape = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header = format!("{{'descr': '<f8', 'fortran_order': True, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    // Column-major: the reversed axes of the transposed array, row-major.
    for v in a.t().as_standard_layout().iter() {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    let path = dir.join(format!("{name}.npy"));
    std::fs::write(&path, bytes).unwrap();
    path
}

fn write_csv(dir: &Path, name: &str, a: &ArrayD<f64>) -> std::path::PathBuf {
    let path = dir.join(format!("{name}.csv"));
    std::fs::write(&path, tensor_csv(&a.mapv(|v| v as f32))).unwrap();
    path
}

type Writer = fn(&Path, &str, &ArrayD<f64>) -> std::path::PathBuf;
const FORMATS: [(&str, Writer); 3] = [
    ("safetensors", write_safetensors),
    ("npy", write_npy_fortran),
    ("csv", write_csv),
];

fn verdict_of(t: &Trace, path: &Path) -> backprop_viz::check::Verdict {
    let handed = read_handed(path).unwrap();
    assert_eq!(handed.len(), 1);
    check(t, &handed[0]).unwrap()
}

#[derive(Default)]
struct Tally {
    named: usize,
    mutants: usize,
    undetectable: usize,
    misnamed: Vec<String>,
    per_id: HashMap<&'static str, usize>,
}

/// A bias gradient's rounding noise, as the contract allows it: 1e-5 of
/// the largest per-channel Σ|D| (a conv's bias before batch norm has a
/// true gradient of 0, which its f32 sum leaves as noise of that order).
fn rounding_floor(t: &Trace, name: &str) -> f64 {
    let (layer, part) = name.rsplit_once('.').unwrap();
    if part != "bias_grad" {
        return 0.0;
    }
    let i = t.names.iter().position(|n| n == layer).unwrap();
    let d = step(t, i).d;
    let mut sums = vec![0.0; d.shape()[1]];
    for (ix, v) in d.indexed_iter() {
        sums[ix[1]] += v.abs();
    }
    1e-5 * sums.into_iter().fold(0.0, f64::max)
}

fn hand_in_every_mutant(t: &Trace, what: &str, tally: &mut Tally) {
    let dir = tempfile::tempdir().unwrap();
    for name in backward_names(t) {
        let (right, mistakes) = mutants(t, &name);
        for (format, write) in FORMATS {
            // The right tensor, computed by hand, is accepted.
            let v = verdict_of(t, &write(dir.path(), &name, &right));
            assert!(
                v.ok,
                "{what} {name} ({format}): right tensor refused: {}",
                v.message()
            );
            assert_eq!(v.diagnosis, None);
            // A random tensor of the right shape is not.
            let mut rng = 0x9e3779b97f4a7c15u64 ^ name.len() as u64;
            let random = right.mapv(|_| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                (rng % 2001) as f64 / 1000.0 - 1.0
            });
            let v = verdict_of(t, &write(dir.path(), &name, &random));
            assert!(!v.ok, "{what} {name} ({format}): a random tensor accepted");
        }
        let floor = rounding_floor(t, &name);
        for (mistake, mutant) in &mistakes {
            let within_rounding =
                mutant.shape() == right.shape() && max_abs(&(mutant - &right)) <= floor;
            if same(mutant, &right) || within_rounding {
                // The mistake makes no difference on this batch (no ReLU
                // input ≤ 0, say): nothing to find.
                tally.undetectable += 1;
                continue;
            }
            // Any mistake that gives the same tensor is a right answer.
            let accepted: Vec<Mistake> = mistakes
                .iter()
                .filter(|(_, other)| same(mutant, other) || same(other, mutant))
                .map(|(m, _)| *m)
                .collect();
            for (format, write) in FORMATS {
                tally.mutants += 1;
                let v = verdict_of(t, &write(dir.path(), &name, mutant));
                assert!(!v.ok, "{what} {name} {}: accepted as right", mistake.id());
                match v.diagnosis {
                    Some(found) if accepted.contains(&found) => {
                        tally.named += 1;
                        *tally.per_id.entry(mistake.id()).or_default() += 1;
                    }
                    found => tally.misnamed.push(format!(
                        "{what} {name} {} ({format}): named {:?} — {}",
                        mistake.id(),
                        found.map(Mistake::id),
                        v.message()
                    )),
                }
            }
        }
    }
}

#[test]
fn every_catalogue_mistake_is_named_in_every_format_on_every_preset_and_variant() {
    let mut tally = Tally::default();
    for seed in [1, 2, 3] {
        hand_in_every_mutant(
            &traced("seed", seed, 16),
            &format!("seed/{seed}"),
            &mut tally,
        );
    }
    for seed in [1, 2] {
        hand_in_every_mutant(
            &traced("lenet", seed, 8),
            &format!("lenet/{seed}"),
            &mut tally,
        );
        hand_in_every_mutant(
            &traced("strided", seed, 8),
            &format!("strided/{seed}"),
            &mut tally,
        );
    }
    // Overlapping max and average pools (3 wide, 2 apart) and a 2x2
    // average pool.
    let pools = Network::specs_from_json(include_str!("fixtures/pools.json")).unwrap();
    for seed in [1, 2] {
        let mut net = Network::new(pools.clone()).unwrap();
        net.init(seed);
        hand_in_every_mutant(
            &traced_net(net, seed, 8),
            &format!("pools/{seed}"),
            &mut tally,
        );
    }
    // Batch norm after each conv; a transposed conv up; and transposed convs
    // 4→2 (stride 2) and 2→2 (stride 1) with a batch norm between.
    for seed in [1, 2] {
        for preset in ["bn", "updown"] {
            hand_in_every_mutant(
                &traced(preset, seed, 8),
                &format!("{preset}/{seed}"),
                &mut tally,
            );
        }
        let specs = Network::specs_from_json(include_str!("fixtures/updown2.json")).unwrap();
        let mut net = Network::new(specs).unwrap();
        net.init(seed);
        hand_in_every_mutant(
            &traced_net(net, seed, 8),
            &format!("updown2/{seed}"),
            &mut tally,
        );
    }
    for (what, downsample) in [
        ("pooled", Downsample::MaxPool),
        ("strided", Downsample::Stride),
    ] {
        hand_in_every_mutant(
            &traced_net(dilated(downsample, 4), 4, 8),
            &format!("dilated {what}"),
            &mut tally,
        );
    }
    let rate = tally.named as f64 / tally.mutants as f64;
    println!(
        "check: {} of {} mutants named right ({:.2} %), {} mistakes made no difference on their batch",
        tally.named,
        tally.mutants,
        rate * 100.0,
        tally.undetectable
    );
    assert!(tally.misnamed.is_empty(), "{:#?}", tally.misnamed);
    // Every id of the catalogue was exercised.
    for mistake in Mistake::CATALOGUE {
        assert!(
            tally.per_id.get(mistake.id()).copied().unwrap_or(0) > 0,
            "no mutant for {}",
            mistake.id()
        );
    }
}

#[test]
fn two_mistakes_at_once_are_unknown_and_a_dead_filter_needs_zeros() {
    let t = traced("seed", 1, 16);
    let dir = tempfile::tempdir().unwrap();
    // The pool delta spread *and* negated: no single mistake gives it.
    let (_, mistakes) = mutants(&t, "pool2.delta");
    let spread = &mistakes
        .iter()
        .find(|(m, _)| *m == Mistake::PoolSpread)
        .unwrap()
        .1;
    let both = spread.mapv(|v| -3.0 * v);
    let v = verdict_of(&t, &write_npy_fortran(dir.path(), "pool2.delta", &both));
    assert_eq!(v.diagnosis, Some(Mistake::Unknown));
    assert!(
        v.message().contains("none of the known mistakes"),
        "{}",
        v.message()
    );
    // A shape that is no transposition: unknown, both shapes named.
    let wrong = ArrayD::<f64>::zeros(IxDyn(&[3, 3]));
    let v = verdict_of(&t, &write_csv(dir.path(), "fc2.weight_grad", &wrong));
    assert_eq!(v.diagnosis, Some(Mistake::Unknown));
    assert_eq!(v.max_rel_err, None);
    assert!(v.message().contains("[3, 3]") && v.message().contains("[10, 49]"));
    // A NaN is never close to anything.
    let (right, _) = mutants(&t, "fc2.bias_grad");
    let mut nan = right.clone();
    nan[[0]] = f64::NAN;
    let v = verdict_of(&t, &write_safetensors(dir.path(), "fc2.bias_grad", &nan));
    assert!(!v.ok);
    // A dead filter: the trace's dF is all zero; zeros match, anything
    // larger than 1e-6 does not.
    let mut dead = t.clone();
    let zero = dead.layers[0].weight_grad.as_ref().unwrap().mapv(|_| 0.0);
    dead.layers[0].weight_grad = Some(Arc::new(zero.clone()));
    let zero = zero.mapv(f64::from);
    let v = verdict_of(&dead, &write_csv(dir.path(), "conv1.weight_grad", &zero));
    assert!(v.ok && v.max_rel_err == Some(0.0), "{}", v.message());
    assert!(v.message().contains("all zero"), "{}", v.message());
    let v = verdict_of(
        &dead,
        &write_csv(dir.path(), "conv1.weight_grad", &zero.mapv(|_| 1e-3)),
    );
    assert!(!v.ok);
    assert!((v.max_rel_err.unwrap() - 1e-3).abs() < 1e-9);
}

/// The cell a wrong hand-in is explained at is its largest error, not the
/// first (row-major) cell that happens to be outside the tolerance.
#[test]
fn the_cell_pointed_at_is_the_largest_error() {
    let t = traced("seed", 3, 4);
    let right = f64s(t.layers[3].weight_grad.as_ref().unwrap());
    let scale = max_abs(&right);
    let mut mine = right.clone();
    // A small error first (row-major), a large one later.
    mine[[0, 0, 0, 1]] += 0.01 * scale;
    mine[[0, 0, 2, 2]] -= 0.5 * scale;
    let handed = backprop_viz::io::handin::Handed {
        name: "conv2.weight_grad".into(),
        values: mine,
    };
    let v = check(&t, &handed).unwrap();
    assert!(!v.ok);
    let (index, _, _) = v.worst_wrong.expect("a wrong cell");
    assert_eq!(index, vec![0, 0, 2, 2]);
}
