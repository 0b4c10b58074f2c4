//! The proof, in the app: one weight's analytic gradient from a trace next
//! to the central finite difference `(L(w+ε) − L(w−ε)) / 2ε` on the same
//! batch with the same weights.

use ndarray::ArrayD;

use super::layers::{Layer, LayerKind, LayerSpec};
use super::network::Network;
use super::trace::Trace;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FiniteDifference {
    /// The gradient backpropagation recorded.
    pub analytic: f32,
    /// `(L(w+ε) − L(w−ε)) / 2ε`
    pub numeric: f64,
    pub eps: f32,
    /// `|analytic − numeric| / max(|analytic|, |numeric|)`
    pub relative_error: f64,
}

/// The network exactly as the trace's forward pass used it.
pub fn network_of(trace: &Trace) -> Option<Network> {
    let mut net = Network::new(trace.specs()).ok()?;
    for (layer, record) in net.layers.iter_mut().zip(&trace.layers) {
        if let Some((w, b)) = layer.params_mut() {
            w.value = record.weight.clone()?;
            b.value = record.bias.clone()?;
        }
    }
    Some(net)
}

/// Checks `weight[index]` of layer `layer` with ε = 10⁻⁴ (relative to the
/// weight when it is larger than 1). The two losses are computed by a plain
/// f64 forward pass (`forward_f64`): in f32 the loss is exact to only ~10⁻⁷,
/// which a step that small could not resolve, and a larger step would more
/// often cross a ReLU or max-pool kink.
pub fn check_weight(trace: &Trace, layer: usize, index: &[usize]) -> Option<FiniteDifference> {
    let analytic = *trace.layers.get(layer)?.weight_grad.as_ref()?.get(index)?;
    let knob = super::nudge::Knob::Weight {
        layer,
        index: index.to_vec(),
    };
    let w = f64::from(knob.value(trace)?);
    let eps = 1e-4 * w.abs().max(1.0);
    let losses = super::nudge::loss_at(trace, &knob, &[eps, -eps])?;
    let numeric = (losses[0] - losses[1]) / (2.0 * eps);
    let scale = (analytic as f64).abs().max(numeric.abs()).max(1e-12);
    Some(FiniteDifference {
        analytic,
        numeric,
        eps: eps as f32,
        relative_error: (analytic as f64 - numeric).abs() / scale,
    })
}

/// The network's forward pass in f64, written plainly (loops, no kernels):
/// an independent evaluation of the loss for the finite difference.
pub fn forward_f64(
    specs: &[LayerSpec],
    params: &[Option<(ArrayD<f64>, ArrayD<f64>)>],
    mut a: ArrayD<f64>,
) -> ArrayD<f64> {
    for (spec, p) in specs.iter().zip(params) {
        a = match (&spec.kind, p) {
            (kind @ LayerKind::Conv { .. }, Some((w, b))) => {
                let n = a.shape()[0];
                let g = super::layers::conv::ConvGeometry::of(kind, &a.shape()[1..])
                    .expect("the network's plan checked the shapes");
                ArrayD::from_shape_fn(vec![n, g.cout, g.ho, g.wo], |i| {
                    let mut sum = b[[i[1]]];
                    for c in 0..g.cin {
                        for u in 0..g.k {
                            for v in 0..g.k {
                                if let Some((y, xx)) = g.input_cell((i[2], i[3]), (u, v)) {
                                    sum += w[[i[1], c, u, v]] * a[[i[0], c, y, xx]];
                                }
                            }
                        }
                    }
                    sum
                })
            }
            (kind @ LayerKind::Convtranspose { .. }, Some((w, b))) => {
                // Every input cell scatters x · F onto the output, through
                // the conv whose backward this layer is.
                let n = a.shape()[0];
                let g = super::layers::conv::ConvGeometry::transposed(kind, &a.shape()[1..])
                    .expect("the network's plan checked the shapes");
                let mut y = ArrayD::from_shape_fn(vec![n, g.cin, g.h, g.w], |i| b[[i[1]]]);
                for s in 0..n {
                    for i in 0..g.cout {
                        for o in 0..g.cin {
                            for u in 0..g.k {
                                for v in 0..g.k {
                                    for r in 0..g.ho {
                                        for c in 0..g.wo {
                                            if let Some((yy, xx)) = g.input_cell((r, c), (u, v)) {
                                                y[[s, o, yy, xx]] +=
                                                    a[[s, i, r, c]] * w[[i, o, u, v]];
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                y
            }
            (LayerKind::Batchnorm { eps, .. }, Some((gamma, beta))) => {
                // Training mode: the batch's own statistics.
                let c = a.shape()[1];
                let m = (a.len() / c.max(1)) as f64;
                let mut y = a.clone();
                for ch in 0..c {
                    let plane = a.index_axis(ndarray::Axis(1), ch);
                    let mean = plane.sum() / m;
                    let var = plane.mapv(|v| (v - mean).powi(2)).sum() / m;
                    let scale = 1.0 / (var + f64::from(*eps)).sqrt();
                    y.index_axis_mut(ndarray::Axis(1), ch)
                        .mapv_inplace(|v| gamma[[ch]] * (v - mean) * scale + beta[[ch]]);
                }
                y
            }
            (LayerKind::Dense { .. }, Some((w, b))) => {
                let n = a.shape()[0];
                ArrayD::from_shape_fn(vec![n, w.shape()[0]], |i| {
                    b[[i[1]]]
                        + (0..w.shape()[1])
                            .map(|k| w[[i[1], k]] * a[[i[0], k]])
                            .sum::<f64>()
                })
            }
            (LayerKind::Relu, _) => a.mapv(|v| v.max(0.0)),
            (LayerKind::Sigmoid, _) => a.mapv(|v| 1.0 / (1.0 + (-v).exp())),
            (LayerKind::Tanh, _) => a.mapv(f64::tanh),
            (LayerKind::Maxpool { .. } | LayerKind::Avgpool { .. }, _) => {
                let g = crate::engine::layers::pool::PoolGeometry::of(&spec.kind, a.shape())
                    .expect("a planned pooling layer fits its input");
                let s = g.size;
                let max = matches!(spec.kind, LayerKind::Maxpool { .. });
                let shape = vec![a.shape()[0], a.shape()[1], g.ho, g.wo];
                ArrayD::from_shape_fn(shape, |i| {
                    let cells = (0..s * s).map(|t| {
                        let (r, c) = g.cell((i[2], i[3]), (t / s, t % s));
                        a[[i[0], i[1], r, c]]
                    });
                    if max {
                        cells.fold(f64::NEG_INFINITY, f64::max)
                    } else {
                        cells.sum::<f64>() / (s * s) as f64
                    }
                })
            }
            (LayerKind::Flatten, _) => {
                let n = a.shape()[0];
                let f = a.len() / n.max(1);
                a.as_standard_layout()
                    .into_owned()
                    .into_shape_with_order(vec![n, f])
                    .expect("same count")
            }
            _ => a,
        };
    }
    a
}

/// Mean softmax cross-entropy in f64.
pub fn loss_f64(logits: &ArrayD<f64>, labels: &[u8]) -> f64 {
    let n = labels.len();
    let k = logits.shape()[1];
    (0..n)
        .map(|i| {
            let max = (0..k)
                .map(|j| logits[[i, j]])
                .fold(f64::NEG_INFINITY, f64::max);
            let sum: f64 = (0..k).map(|j| (logits[[i, j]] - max).exp()).sum();
            sum.ln() - (logits[[i, labels[i] as usize]] - max)
        })
        .sum::<f64>()
        / n as f64
}

/// The index of the largest-magnitude gradient of layer `layer` (where a
/// finite difference is most telling), if it has weights.
pub fn largest_gradient(trace: &Trace, layer: usize) -> Option<Vec<usize>> {
    let g = trace.layers.get(layer)?.weight_grad.as_ref()?;
    g.indexed_iter()
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
        .map(|(i, _)| ndarray::Dimension::slice(&i).to_vec())
}

/// Whether layer `layer` has weights to check.
pub fn checkable(layer: &Layer) -> bool {
    layer.params().is_some()
}
