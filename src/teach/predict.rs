//! Predict before the reveal, without a window: the questions about a
//! step (the sign of a dF tap, which cells the ReLU blocks, which cell of a
//! pooling window gets its delta, the shape of the delta handed down,
//! whether a filter tap grows or shrinks), the learner's answers, and the
//! marking — always against the engine's own numbers: the step has run when
//! the question is asked (its snapshot is only hidden), and every answer is
//! marked against the trace, the pooling winners the engine recorded and
//! the ReLU's derivative.
//!
//! The app draws the questions (`app/panels/predict.rs`) and keeps the
//! answers in its state; the record of answers is `teach::record`.

use std::collections::{BTreeMap, BTreeSet};

use crate::class::protocol::Value;
use crate::engine::layers::conv::ConvGeometry;
use crate::engine::layers::LayerKind;
use crate::engine::stepper::Phase;
use crate::engine::trace::Trace;
use crate::i18n::tr;
use crate::teach::explain::CellRef;
use crate::trf;

/// The question asked before a drawing is taught: after one step on it,
/// which digit will the network answer? (Predict mode's, on the Draw tab;
/// a class's with the drawing in its link.)
pub const TAUGHT_DIGIT: &str = "taught-digit";

/// The digit a network answers from its ten probabilities, and how sure
/// it is (the first of equals, as `argmax` takes it).
pub fn digit_answer(probs: &[f32]) -> (u8, f32) {
    let (digit, sure) =
        probs.iter().enumerate().fold(
            (0, f32::MIN),
            |best, (d, &p)| if p > best.1 { (d, p) } else { best },
        );
    (digit as u8, sure)
}

/// One question about the step on screen.
#[derive(Debug, Clone, PartialEq)]
pub enum Ask {
    /// The sign of the batch's dF at `[o, c, u, v]`.
    DfSign { layer: usize, index: [usize; 4] },
    /// The shape of one sample's delta handed down; `right` is the place of
    /// the right one among `options`.
    BelowShape {
        layer: usize,
        options: Vec<String>,
        right: usize,
    },
    /// Which cells of the delta (one sample, one channel) the ReLU blocks.
    ReluBlocked {
        layer: usize,
        sample: usize,
        channel: usize,
    },
    /// Which cell of window `(i, j)` receives its delta.
    PoolWinner {
        layer: usize,
        sample: usize,
        channel: usize,
        window: (usize, usize),
    },
    /// Whether the filter or weight at `index` grows or shrinks.
    TapChange { layer: usize, index: Vec<usize> },
    /// A strided or dilated conv's backward geometry (`topic` says which
    /// question); `right` is the place of the right one among `options`.
    Spacing {
        layer: usize,
        topic: Spacing,
        options: Vec<String>,
        right: usize,
    },
}

/// What an [`Ask::Spacing`] asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spacing {
    /// Stride S: how many zeros go between two neighbouring cells of D
    /// (S − 1) before the full convolution.
    StrideZeros { stride: usize },
    /// Dilation Dl: the square of D's cells the turned filter covers at
    /// once, `Dl·(K − 1) + 1` on a side.
    FilterSpan { kernel: usize, dilation: usize },
    /// Overlapping max pooling: cell `cell` of the input (sample, channel
    /// as asked) won `windows` windows; what delta does it get? (The sum.)
    PoolOverlap {
        sample: usize,
        channel: usize,
        cell: (usize, usize),
    },
    /// Average pooling: what one cell of a window gets of the window's
    /// delta `D[sample, channel, window]` (D / K² where windows do not
    /// overlap).
    AvgShare {
        sample: usize,
        channel: usize,
        window: (usize, usize),
        size: usize,
    },
    /// Batch norm: does dβ depend on γ? (No: dβ = Σ D.)
    BetaGamma { channel: usize },
    /// Batch norm: the term through the mean of channel `channel`, the
    /// same in every cell, `−γ/s · dβ/m`.
    MeanTerm { channel: usize },
    /// A transposed conv of stride S: its backward pass reads D every S
    /// cells (the forward pass of the stride-S conv it is the backward of).
    UpStride { stride: usize },
}

/// What the learner has answered so far.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Given {
    #[default]
    Nothing,
    Choice(usize),
    Cells(BTreeSet<(usize, usize)>),
}

/// The questions about one step, their answers, and whether it is shown.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub batch: u64,
    pub phase: Phase,
    pub asks: Vec<(Ask, Given)>,
    /// The view is shown again, the answers marked.
    pub revealed: bool,
    /// Which answers were right (`None`: revealed without one).
    pub marks: Vec<Option<bool>>,
}

impl Ask {
    /// The question's kind, as the record names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Ask::DfSign { .. } => "df-sign",
            Ask::BelowShape { .. } => "below-shape",
            Ask::ReluBlocked { .. } => "relu-blocked",
            Ask::PoolWinner { .. } => "pool-winner",
            Ask::TapChange { .. } => "tap-change",
            Ask::Spacing {
                topic: Spacing::StrideZeros { .. },
                ..
            } => "stride-zeros",
            Ask::Spacing {
                topic: Spacing::FilterSpan { .. },
                ..
            } => "filter-span",
            Ask::Spacing {
                topic: Spacing::PoolOverlap { .. },
                ..
            } => "pool-overlap",
            Ask::Spacing {
                topic: Spacing::AvgShare { .. },
                ..
            } => "avg-share",
            Ask::Spacing {
                topic: Spacing::BetaGamma { .. },
                ..
            } => "bn-dbeta-gamma",
            Ask::Spacing {
                topic: Spacing::MeanTerm { .. },
                ..
            } => "bn-mean-term",
            Ask::Spacing {
                topic: Spacing::UpStride { .. },
                ..
            } => "up-stride",
        }
    }

    /// Whether `given` is a complete answer (a ReLU's cells may be none).
    pub fn answered(&self, given: &Given) -> bool {
        match self {
            Ask::ReluBlocked { .. } => matches!(given, Given::Cells(_)),
            _ => matches!(given, Given::Choice(_)),
        }
    }
}

fn per_sample(shape: &[usize]) -> String {
    shape[1..]
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join("×")
}

/// The index of the largest magnitude in `values`.
fn largest(values: impl Iterator<Item = f32>) -> usize {
    values
        .enumerate()
        .fold((0, -1.0f32), |(best, m), (i, v)| {
            if v.abs() > m {
                (i, v.abs())
            } else {
                (best, m)
            }
        })
        .0
}

/// Whether window `(i, j)` (of `(size, stride)`) of a map `w` wide has one
/// winner a learner can tell from the printed numbers: its largest value
/// ahead of the runner-up by a tenth of the map's range.
fn clear_winner(
    plane: &[f32],
    w: usize,
    (i, j): (usize, usize),
    (size, stride): (usize, usize),
) -> bool {
    let (lo, hi) = plane
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let mut window: Vec<f32> = (0..size * size)
        .filter_map(|q| {
            plane
                .get((i * stride + q / size) * w + j * stride + q % size)
                .copied()
        })
        .collect();
    window.sort_by(|a, b| b.total_cmp(a));
    match window[..] {
        [first, second, ..] => first - second >= 0.1 * (hi - lo),
        _ => false,
    }
}

/// The questions to ask about `phase` of `trace` (none for phases without
/// one). `sample` and `channel` are the ones the views show.
pub fn questions(
    trace: &Trace,
    phase: Phase,
    sample: usize,
    channel: usize,
    batch: u64,
) -> Vec<Ask> {
    match phase {
        Phase::Backward(l) => backward_questions(trace, l, sample, channel, batch),
        Phase::Update => update_question(trace).into_iter().collect(),
        _ => Vec::new(),
    }
}

fn backward_questions(
    trace: &Trace,
    l: usize,
    sample: usize,
    channel: usize,
    batch: u64,
) -> Vec<Ask> {
    let layer = &trace.layers[l];
    let (Some(_), Some(x)) = (layer.delta.as_ref(), trace.layer_input(l)) else {
        return Vec::new();
    };
    let out_shape = layer
        .out
        .as_ref()
        .map(|o| o.shape().to_vec())
        .unwrap_or_default();
    let n = sample.min(x.shape()[0] - 1);
    let mut asks = Vec::new();
    let shape = |candidates: Vec<String>| -> Ask {
        let (options, right) = turned(candidates, batch);
        Ask::BelowShape {
            layer: l,
            options,
            right,
        }
    };
    let spacing = |topic: Spacing, candidates: Vec<String>| -> Ask {
        let (options, right) = turned(candidates, batch);
        Ask::Spacing {
            layer: l,
            topic,
            options,
            right,
        }
    };
    match &trace.kinds[l] {
        LayerKind::Conv {
            kernel,
            stride,
            dilation,
            ..
        } => {
            if let Some(df) = layer.weight_grad.as_ref() {
                let flat = largest(df.iter().copied());
                let s = df.shape();
                let index = [
                    flat / (s[1] * s[2] * s[3]),
                    flat / (s[2] * s[3]) % s[1],
                    flat / s[3] % s[2],
                    flat % s[3],
                ];
                asks.push(Ask::DfSign { layer: l, index });
            }
            // The wrong options: the delta as an unpadded ("valid")
            // convolution would leave it, and as a full one would.
            let (c, h, w) = (x.shape()[1], x.shape()[2], x.shape()[3]);
            let side = |side: usize, pad: usize| {
                ConvGeometry::out_side(side, *kernel, pad, 1, 1).unwrap_or(0)
            };
            let valid = format!("{c}×{}×{}", side(h, 0), side(w, 0));
            let full = format!("{c}×{}×{}", side(h, kernel - 1), side(w, kernel - 1));
            // At stride 2 the likeliest slip: the delta kept at its own
            // size, never dilated back up to the input's.
            let undilated = (*stride > 1).then(|| {
                let s = &out_shape;
                format!("{c}×{}×{}", s.get(2).unwrap_or(&0), s.get(3).unwrap_or(&0))
            });
            let mut candidates = vec![per_sample(x.shape())];
            candidates.extend(undilated);
            candidates.extend([valid, full]);
            asks.push(shape(candidates));
            // What the equation of maps draws at a strided or dilated conv:
            // the zeros put between D's cells, the holes in the filter.
            if *stride > 1 {
                let s = *stride;
                asks.push(spacing(
                    Spacing::StrideZeros { stride: s },
                    vec![(s - 1).to_string(), "0".into(), s.to_string()],
                ));
            }
            if *dilation > 1 {
                let (k, dl) = (*kernel, *dilation);
                let side = |n: usize| format!("{n}×{n}");
                asks.push(spacing(
                    Spacing::FilterSpan {
                        kernel: k,
                        dilation: dl,
                    },
                    vec![side(dl * (k - 1) + 1), side(k), side(dl * k)],
                ));
            }
        }
        LayerKind::Batchnorm { .. } => {
            let c = channel.min(x.shape()[1] - 1);
            asks.push(spacing(
                Spacing::BetaGamma { channel: c },
                vec![
                    tr("No: dβ = Σ D, whatever γ is").to_string(),
                    tr("Yes: dβ = γ · Σ D").to_string(),
                    tr("Yes: dβ = Σ D / γ").to_string(),
                ],
            ));
            if let Some(terms) = layer.norm_terms.as_ref() {
                // The term through the mean: −γ/s · dβ/m in every cell.
                let right = terms.through_mean[[n, c, 0, 0]];
                let m = terms.stats.count as f32;
                let batch = x.shape()[0] as f32;
                let num = |v: f32| crate::teach::notation::own_magnitude(v, 3);
                asks.push(spacing(
                    Spacing::MeanTerm { channel: c },
                    vec![
                        num(right),
                        // m taken as the batch size.
                        num(right * m / batch),
                        // The delta's mean, without γ/s.
                        num(-terms.d_beta[c] / m),
                    ],
                ));
            }
        }
        LayerKind::Convtranspose { stride, .. } => {
            // The delta handed down has the input's shape; the likeliest
            // slip keeps the output's.
            asks.push(shape(vec![
                per_sample(x.shape()),
                per_sample(&[0, out_shape[1], out_shape[2], out_shape[3]]),
            ]));
            if *stride > 1 {
                let s = *stride;
                asks.push(spacing(
                    Spacing::UpStride { stride: s },
                    vec![s.to_string(), "1".into(), (s + 1).to_string()],
                ));
            }
        }
        LayerKind::Dense { inputs, outputs } => {
            asks.push(shape(vec![
                per_sample(x.shape()),
                outputs.to_string(),
                format!("{outputs}×{inputs}"),
                // The whole batch's, for one sample's.
                format!("{}×{inputs}", x.shape()[0]),
            ]));
        }
        LayerKind::Flatten => {
            let flat: usize = x.shape()[1..].iter().product();
            let (h, w) = (x.shape()[2], x.shape()[3]);
            asks.push(shape(vec![
                per_sample(x.shape()),
                flat.to_string(),
                format!("{h}×{w}×{flat}"),
            ]));
        }
        LayerKind::Relu if x.ndim() == 4 => {
            asks.push(Ask::ReluBlocked {
                layer: l,
                sample: n,
                channel: channel.min(x.shape()[1] - 1),
            });
        }
        // Side by side, a cell of a window gets that window's share alone.
        LayerKind::Avgpool { .. } if out_shape.len() == 4 => {
            let (size, stride) = trace.kinds[l].pool_window().unwrap_or_default();
            let c = channel.min(out_shape[1] - 1);
            if let Some(d) = trace
                .delta_from_above(l)
                .filter(|d| d.ndim() == 4 && stride >= size)
            {
                let (ho, wo) = (d.shape()[2], d.shape()[3]);
                let k = largest((0..ho * wo).map(|q| d[[n, c, q / wo, q % wo]]));
                let dv = d[[n, c, k / wo, k % wo]];
                let num = |v: f32| crate::teach::notation::own_magnitude(v, 3);
                let cells = (size * size) as f32;
                asks.push(spacing(
                    Spacing::AvgShare {
                        sample: n,
                        channel: c,
                        window: (k / wo, k % wo),
                        size,
                    },
                    vec![num(dv / cells), num(dv), num(dv / size as f32)],
                ));
            }
        }
        LayerKind::Maxpool { .. } if out_shape.len() == 4 => {
            let window = trace.kinds[l].pool_window().unwrap_or_default();
            // The window whose delta matters most for this sample, among
            // those whose winner can be told from the numbers on screen (a
            // background window of four equal values is no question).
            let c = channel.min(out_shape[1] - 1);
            let above = match trace.layers.get(l + 1) {
                Some(a) => a.delta.as_ref(),
                None => trace.logits_delta.as_ref(),
            };
            if let Some(d) = above.filter(|d| d.ndim() == 4) {
                let (ho, wo) = (d.shape()[2], d.shape()[3]);
                let (h, w) = (x.shape()[2], x.shape()[3]);
                let plane: Vec<f32> = (0..h * w).map(|q| x[[n, c, q / w, q % w]]).collect();
                let clear = |q: usize| clear_winner(&plane, w, (q / wo, q % wo), window);
                // Unclear windows only when every window is unclear.
                let clear_ones: Vec<usize> = (0..ho * wo).filter(|&q| clear(q)).collect();
                let candidates = if clear_ones.is_empty() {
                    (0..ho * wo).collect()
                } else {
                    clear_ones
                };
                let k = candidates[largest(candidates.iter().map(|&q| d[[n, c, q / wo, q % wo]]))];
                asks.push(Ask::PoolWinner {
                    layer: l,
                    sample: n,
                    channel: c,
                    window: (k / wo, k % wo),
                });
                if window.1 < window.0 {
                    asks.extend(overlap_question(trace, l, n, c, batch));
                }
            }
        }
        _ => {}
    }
    asks
}

/// What max pooling layer `l` sends each input cell of sample `n`, channel
/// `c`: the deltas of the windows it won, by the cell's place in its plane
/// (`y·W + x`), the windows in row-major order. One pass over the recorded
/// winners.
fn won(trace: &Trace, l: usize, n: usize, c: usize) -> BTreeMap<usize, Vec<f32>> {
    let mut won: BTreeMap<usize, Vec<f32>> = BTreeMap::new();
    let (Some(x), Some(d), Some(winners)) = (
        trace.layer_input(l),
        trace.delta_from_above(l),
        trace.layers[l].winners.as_ref(),
    ) else {
        return won;
    };
    let channels = x.shape()[1];
    let (ho, wo) = (d.shape()[2], d.shape()[3]);
    let start = (n * channels + c) * ho * wo;
    if let Some(plane) = winners.get(start..start + ho * wo) {
        for (k, &at) in plane.iter().enumerate() {
            won.entry(at as usize)
                .or_default()
                .push(d[[n, c, k / wo, k % wo]]);
        }
    }
    won
}

/// The deltas that windows won by input cell `(y, x)` send it (sample `n`,
/// channel `c` of max pooling layer `l`), in row-major order of windows.
pub fn deltas_won(trace: &Trace, l: usize, n: usize, c: usize, cell: (usize, usize)) -> Vec<f32> {
    let Some(w) = trace.layer_input(l).map(|x| x.shape()[3]) else {
        return Vec::new();
    };
    won(trace, l, n, c)
        .remove(&(cell.0 * w + cell.1))
        .unwrap_or_default()
}

/// At overlapping max pooling: the cell of sample `n`, channel `c` that
/// won the most windows (two at least), the largest sum first; its options
/// the sum (right), the last window's delta alone (`=` for `+=`) and the
/// largest one.
fn overlap_question(trace: &Trace, l: usize, n: usize, c: usize, batch: u64) -> Option<Ask> {
    let w = trace.layer_input(l)?.shape()[3];
    let (cell, deltas) = won(trace, l, n, c)
        .into_iter()
        .map(|(at, deltas)| ((at / w, at % w), deltas))
        .filter(|(_, d)| d.len() >= 2 && d.iter().all(|v| *v != 0.0))
        .max_by(|a, b| {
            let sum = |d: &[f32]| d.iter().sum::<f32>().abs();
            (a.1.len(), sum(&a.1))
                .partial_cmp(&(b.1.len(), sum(&b.1)))
                .unwrap_or(std::cmp::Ordering::Equal)
        })?;
    let num = |v: f32| crate::teach::notation::own_magnitude(v, 3);
    let sum: f32 = deltas.iter().sum();
    let last = *deltas.last()?;
    let largest = deltas
        .iter()
        .copied()
        .fold(0.0f32, |m, v| if v.abs() > m.abs() { v } else { m });
    let (options, right) = turned(vec![num(sum), num(last), num(largest)], batch);
    (options.len() >= 2).then_some(Ask::Spacing {
        layer: l,
        topic: Spacing::PoolOverlap {
            sample: n,
            channel: c,
            cell,
        },
        options,
        right,
    })
}

/// A question's options from `candidates`, the right answer first: the
/// wrong ones that print the same as an earlier one go (a 49 → 49 layer's
/// delta from above is "49" too), at most three kept, turned by the batch
/// number so the right one is not always in the same place. Returns the
/// options and the right one's place.
fn turned(candidates: Vec<String>, batch: u64) -> (Vec<String>, usize) {
    let mut options: Vec<String> = Vec::new();
    for o in candidates {
        if !options.contains(&o) && options.len() < 3 {
            options.push(o);
        }
    }
    let k = options.len();
    let turn = (batch as usize) % k;
    options.rotate_left(turn);
    (options, (k - turn) % k)
}

/// The conv tap (else the dense weight) that moved most in the update.
fn update_question(trace: &Trace) -> Option<Ask> {
    let moved = |l: usize| -> Option<(usize, f32)> {
        let layer = &trace.layers[l];
        let (before, after) = (layer.weight.as_ref()?, layer.weight_after.as_ref()?);
        let change: Vec<f32> = after
            .iter()
            .zip(before.iter())
            .map(|(a, b)| a - b)
            .collect();
        let k = largest(change.iter().copied());
        (change[k] != 0.0).then_some((k, change[k]))
    };
    let pick = (0..trace.layers.len())
        .filter(|&l| matches!(trace.kinds[l], LayerKind::Conv { .. }))
        .find_map(|l| moved(l).map(|(k, _)| (l, k)))
        .or_else(|| (0..trace.layers.len()).find_map(|l| moved(l).map(|(k, _)| (l, k))))?;
    let (l, k) = pick;
    let shape = trace.layers[l].weight.as_ref()?.shape().to_vec();
    let mut index = vec![0; shape.len()];
    let mut rest = k;
    for d in (0..shape.len()).rev() {
        index[d] = rest % shape[d];
        rest /= shape[d];
    }
    Some(Ask::TapChange { layer: l, index })
}

/// Where the ReLU's mask blocks: the cells where the derivative the
/// engine recorded with its backward step is 0 (its input was ≤ 0).
fn blocked(trace: &Trace, layer: usize, sample: usize, channel: usize) -> BTreeSet<(usize, usize)> {
    let Some(mask) = trace.layers[layer].derivative.as_ref() else {
        return BTreeSet::new();
    };
    let (h, w) = (mask.shape()[2], mask.shape()[3]);
    (0..h * w)
        .map(|q| (q / w, q % w))
        .filter(|&(r, c)| mask[[sample, channel, r, c]] == 0.0)
        .collect()
}

/// The cell of `window` that won it, as the engine recorded.
fn winner(
    trace: &Trace,
    layer: usize,
    sample: usize,
    channel: usize,
    window: (usize, usize),
) -> Option<(usize, usize)> {
    let out = trace.layers[layer].out.as_ref()?;
    let winners = trace.layers[layer].winners.as_ref()?;
    let (c_all, ho, wo) = (out.shape()[1], out.shape()[2], out.shape()[3]);
    let w_in = trace.layer_input(layer)?.shape()[3];
    let at = ((sample * c_all + channel) * ho + window.0) * wo + window.1;
    let q = *winners.get(at)? as usize;
    Some((q / w_in, q % w_in))
}

/// Whether `given` answers `ask` right, by the trace's numbers.
pub fn is_right(trace: &Trace, ask: &Ask, given: &Given) -> Option<bool> {
    Some(match (ask, given) {
        (Ask::DfSign { layer, index }, Given::Choice(k)) => {
            let v = trace.layers[*layer].weight_grad.as_ref()?[*index];
            (*k == 0) == (v > 0.0)
        }
        (Ask::BelowShape { right, .. } | Ask::Spacing { right, .. }, Given::Choice(k)) => {
            k == right
        }
        (
            Ask::ReluBlocked {
                layer,
                sample,
                channel,
            },
            Given::Cells(cells),
        ) => *cells == blocked(trace, *layer, *sample, *channel),
        (
            Ask::PoolWinner {
                layer,
                sample,
                channel,
                window,
            },
            Given::Choice(k),
        ) => {
            let (r, c) = winner(trace, *layer, *sample, *channel, *window)?;
            let w = trace.layer_input(*layer)?.shape()[3];
            *k == r * w + c
        }
        (Ask::TapChange { layer, index }, Given::Choice(k)) => {
            let l = &trace.layers[*layer];
            let (before, after) = (
                l.weight.as_ref()?[&index[..]],
                l.weight_after.as_ref()?[&index[..]],
            );
            (*k == 0) == (after > before)
        }
        _ => return None,
    })
}

/// How a cell of a map is marked after the reveal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellMark {
    /// The right answer (the winner, a blocked cell, the tap asked about
    /// when the learner was right), whether the learner picked it or not.
    Right,
    /// The learner picked it and it is wrong.
    Wrong,
}

/// After the reveal, the cells of layer `layer`'s map for `(sample,
/// channel)` that the answers were about, as `(row, column)`: the right
/// cells and the learner's wrong picks. Maps whose cells are the layer's
/// input (pooling, ReLU) or its weights (dF, the update: `sample` is the
/// output channel there) are meant; nothing when not revealed.
pub fn revealed_cells(
    trace: &Trace,
    p: &Prediction,
    layer: usize,
    sample: usize,
    channel: usize,
) -> Vec<((usize, usize), CellMark)> {
    if !p.revealed {
        return Vec::new();
    }
    let mut marks = Vec::new();
    for ((ask, given), right) in p.asks.iter().zip(&p.marks) {
        match ask {
            Ask::PoolWinner {
                layer: l,
                sample: n,
                channel: c,
                window,
            } if (*l, *n, *c) == (layer, sample, channel) => {
                let truth = winner(trace, layer, sample, channel, *window);
                marks.extend(truth.map(|cell| (cell, CellMark::Right)));
                let w = trace.layer_input(layer).map_or(1, |x| x.shape()[3]);
                if let Given::Choice(q) = given {
                    let picked = (q / w, q % w);
                    if Some(picked) != truth {
                        marks.push((picked, CellMark::Wrong));
                    }
                }
            }
            Ask::ReluBlocked {
                layer: l,
                sample: n,
                channel: c,
            } if (*l, *n, *c) == (layer, sample, channel) => {
                let truth = blocked(trace, layer, sample, channel);
                marks.extend(truth.iter().map(|&cell| (cell, CellMark::Right)));
                if let Given::Cells(cells) = given {
                    marks.extend(
                        cells
                            .difference(&truth)
                            .map(|&cell| (cell, CellMark::Wrong)),
                    );
                }
            }
            Ask::DfSign { layer: l, index } if *l == layer && index[..2] == [sample, channel] => {
                let mark = if *right == Some(false) {
                    CellMark::Wrong
                } else {
                    CellMark::Right
                };
                marks.push(((index[2], index[3]), mark));
            }
            Ask::TapChange { layer: l, index } if *l == layer => {
                // A filter's tap (o, c, u, v) on its (o, c) map, a dense
                // weight (row, column) on the matrix.
                let cell = match index[..] {
                    [o, c, u, v] if [o, c] == [sample, channel] => Some((u, v)),
                    [r, c] => Some((r, c)),
                    _ => None,
                };
                let mark = if *right == Some(false) {
                    CellMark::Wrong
                } else {
                    CellMark::Right
                };
                marks.extend(cell.map(|cell| (cell, mark)));
            }
            _ => {}
        }
    }
    marks
}

/// The number a question is about, to explain after the reveal.
pub fn cell_of(trace: &Trace, ask: &Ask) -> Option<CellRef> {
    match ask {
        Ask::DfSign { layer, index } => Some(CellRef::WeightGrad {
            layer: *layer,
            index: index.to_vec(),
        }),
        Ask::TapChange { layer, index } => Some(CellRef::WeightGrad {
            layer: *layer,
            index: index.clone(),
        }),
        Ask::ReluBlocked {
            layer,
            sample,
            channel,
        } => {
            let cell = blocked(trace, *layer, *sample, *channel)
                .into_iter()
                .next()?;
            Some(CellRef::Delta {
                layer: *layer,
                index: vec![*sample, *channel, cell.0, cell.1],
            })
        }
        Ask::PoolWinner {
            layer,
            sample,
            channel,
            window,
        } => {
            let (r, c) = winner(trace, *layer, *sample, *channel, *window)?;
            Some(CellRef::Delta {
                layer: *layer,
                index: vec![*sample, *channel, r, c],
            })
        }
        Ask::BelowShape { .. } | Ask::Spacing { .. } => None,
    }
}

/// A phase in words.
pub fn phase_name(t: &Trace, phase: Phase) -> String {
    match phase {
        Phase::Backward(i) => trf!("the backward step through {layer}", layer = t.names[i]),
        Phase::Update => tr("the update").to_string(),
        _ => phase.id(&t.names),
    }
}

/// The question in words.
pub fn question_text(trace: &Trace, ask: &Ask) -> String {
    let name = |l: usize| trace.names[l].clone();
    match ask {
        Ask::DfSign { layer, index } => trf!(
            "{layer}'s dF{index} for the whole batch (Σ over the samples of x · D): will it be positive or negative?",
            layer = name(*layer),
            index = format!("{index:?}")
        ),
        Ask::BelowShape { layer, .. } => trf!(
            "What shape will the delta that {layer} hands down have, for one sample?",
            layer = name(*layer)
        ),
        Ask::ReluBlocked { layer, sample, channel } => trf!(
            "{layer} multiplies the delta from above by its mask. Which cells will it block (set to 0)? Click them on its input x (sample {n}, channel {c}), or answer that none are blocked.",
            layer = name(*layer),
            n = sample,
            c = channel
        ),
        Ask::PoolWinner { layer, window, .. } => trf!(
            "The delta of window ({i}, {j}) arrives at {layer}. Which cell of the window (outlined on its input) will receive it? Click it.",
            layer = name(*layer),
            i = window.0,
            j = window.1
        ),
        Ask::TapChange { layer, index } => trf!(
            "The update moves every weight against its gradient. Will {layer}'s weight {index} get larger or smaller?",
            layer = name(*layer),
            index = format!("{index:?}")
        ),
        Ask::Spacing {
            layer,
            topic: Spacing::StrideZeros { stride },
            ..
        } => trf!(
            "{layer} moves {s} cells at a time. To hand the delta down, D is dilated before the full convolution: how many zeros go between two neighbouring cells of D?",
            layer = name(*layer),
            s = stride
        ),
        Ask::Spacing {
            layer,
            topic: Spacing::PoolOverlap { sample, channel, cell },
            ..
        } => {
            let deltas = deltas_won(trace, *layer, *sample, *channel, *cell);
            trf!(
                "{layer}'s windows overlap. Cell ({r}, {c}) of its input (sample {n}, channel {ch}) won {k} windows, whose deltas are {deltas}. What delta does that cell get handed down?",
                layer = name(*layer),
                r = cell.0,
                c = cell.1,
                n = sample,
                ch = channel,
                k = deltas.len(),
                deltas = deltas
                    .iter()
                    .map(|&v| crate::teach::notation::own_magnitude(v, 3))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
        Ask::Spacing {
            layer,
            topic: Spacing::AvgShare { sample, channel, window, size },
            ..
        } => {
            let d = trace
                .delta_from_above(*layer)
                .map_or(0.0, |d| d[[*sample, *channel, window.0, window.1]]);
            trf!(
                "{layer} averages {size}×{size} windows. Window ({i}, {j}) (sample {n}, channel {ch}) receives the delta {d}. What does each of its {cells} cells get handed down?",
                layer = name(*layer),
                size = size,
                i = window.0,
                j = window.1,
                n = sample,
                ch = channel,
                d = crate::teach::notation::own_magnitude(d, 3),
                cells = size * size
            )
        }
        Ask::Spacing {
            layer,
            topic: Spacing::BetaGamma { channel },
            ..
        } => trf!(
            "{layer} scales the normalised input by γ and shifts it by β. Does dβ (channel {c}) depend on γ?",
            layer = name(*layer),
            c = channel
        ),
        Ask::Spacing {
            layer,
            topic: Spacing::MeanTerm { channel },
            ..
        } => trf!(
            "In {layer}, moving any x of channel {c} moves the channel's mean, which every cell was normalised by. That term of D_below is the same in every cell of the channel and every sample: what is it?",
            layer = name(*layer),
            c = channel
        ),
        Ask::Spacing {
            layer,
            topic: Spacing::UpStride { stride },
            ..
        } => trf!(
            "{layer} is a transposed conv with stride {s}. Its backward pass reads D through F: how many cells apart are the windows it reads?",
            layer = name(*layer),
            s = stride
        ),
        Ask::Spacing {
            layer,
            topic: Spacing::FilterSpan { kernel, dilation },
            ..
        } => trf!(
            "{layer}'s {k}×{k} filter has its taps {dl} cells apart. Handing the delta down, rot180(F) slides over the padded D: what square of D's cells does it cover at once?",
            layer = name(*layer),
            k = kernel,
            dl = dilation
        ),
    }
}

/// The truth in words, after the reveal.
pub fn truth_text(trace: &Trace, ask: &Ask) -> String {
    match ask {
        Ask::DfSign { layer, index } => {
            let v = trace.layers[*layer].weight_grad.as_ref().map_or(0.0, |g| g[*index]);
            trf!(
                "dF{index} = {value}: {sign}. It is the sum of the products x · D over all samples; Explain it lists the largest.",
                index = crate::teach::notation::indices(index),
                value = crate::teach::notation::own_magnitude(v, 3),
                sign = if v > 0.0 { tr("positive") } else { tr("negative") }
            )
        }
        Ask::BelowShape { options, right, .. } => trf!(
            "{shape} per sample: a layer's delta always has the shape of its input, since it is the gradient with respect to that input.",
            shape = options[*right]
        ),
        Ask::ReluBlocked { layer, sample, channel } => {
            let cells = blocked(trace, *layer, *sample, *channel);
            if cells.is_empty() {
                tr("None: every input value is positive here, so ReLU passes everything.").to_string()
            } else {
                trf!(
                    "{n} cells: exactly those whose input x was ≤ 0. The mask depends on the forward pass, not on the delta.",
                    n = cells.len()
                )
            }
        }
        Ask::PoolWinner { layer, sample, channel, window } => match winner(trace, *layer, *sample, *channel, *window) {
            Some((r, c)) => trf!(
                "Cell ({r}, {c}): the one that held the window's maximum in the forward pass; the window's other cells get 0.",
                r = r,
                c = c
            ),
            None => String::new(),
        },
        Ask::Spacing {
            topic: Spacing::StrideZeros { stride },
            ..
        } => trf!(
            "{z}: the layer's output cells were read {s} input cells apart, so in the backward pass D's cells land {s} apart too, the {z} between them zeros (no window started there). Then it is a full convolution with rot180(F), as at stride 1.",
            z = stride - 1,
            s = stride
        ),
        Ask::Spacing {
            topic: Spacing::AvgShare { size, .. },
            options,
            right,
            ..
        } => trf!(
            "{share}: the delta divided by {cells}. Each cell counted 1/{cells} in the window's mean, so a change of the mean reaches it with that weight; copying the whole delta to every cell is the mistake check calls avgpool-copied.",
            share = options[*right],
            cells = size * size
        ),
        Ask::Spacing {
            topic: Spacing::PoolOverlap { .. },
            options,
            right,
            ..
        } => trf!(
            "{sum}: the sum of what every window it won sends it. The backward pass adds (+=) into the delta handed down; writing each window's delta over the last (=) keeps only one, the mistake check calls pool-overwrote.",
            sum = options[*right]
        ),
        Ask::Spacing {
            topic: Spacing::BetaGamma { .. },
            ..
        } => tr("No: β is added after γ has scaled, so a change of β reaches the output one for one: dβ = Σ D over the batch and the map. γ scales the delta handed down (γ/s), not dβ.").to_string(),
        Ask::Spacing {
            topic: Spacing::MeanTerm { .. },
            options,
            right,
            ..
        } => trf!(
            "{value}: −γ/s · dβ/m, with m every value of the channel in the batch (N·H·W), not the batch size; leaving it out is the mistake check calls bn-mean-term-missing.",
            value = options[*right]
        ),
        Ask::Spacing {
            topic: Spacing::UpStride { stride },
            ..
        } => trf!(
            "{s}: in the forward pass input cell a landed at output {s}·a, so going back each input cell reads D's window {s} cells on from its neighbour's: the forward pass of a stride-{s} conv, no flipping.",
            s = stride
        ),
        Ask::Spacing {
            topic: Spacing::FilterSpan { kernel, dilation },
            ..
        } => {
            let span = dilation * (kernel - 1) + 1;
            trf!(
                "{span}×{span}: {k} taps {dl} apart reach {dl}·({k} − 1) + 1 = {span} cells, with {h} hole(s) between taps. The backward pass goes through the same holes: a hole never touched an input cell, so no delta goes back through it.",
                span = span,
                k = kernel,
                dl = dilation,
                h = dilation - 1
            )
        }
        Ask::TapChange { layer, index } => {
            let l = &trace.layers[*layer];
            let (b, a) = match (l.weight.as_ref(), l.weight_after.as_ref()) {
                (Some(b), Some(a)) => (b[&index[..]], a[&index[..]]),
                _ => (0.0, 0.0),
            };
            let g = l.weight_grad.as_ref().map_or(0.0, |g| g[&index[..]]);
            trf!(
                "{direction}: from {before} to {after}. Its gradient is {grad}, and the step goes against it (F ← F − η · dF).",
                direction = if a > b { tr("Larger") } else { tr("Smaller") },
                before = crate::teach::notation::own_magnitude(b, 4),
                after = crate::teach::notation::own_magnitude(a, 4),
                grad = crate::teach::notation::own_magnitude(g, 3)
            )
        }
    }
}

/// A question as a live class asks it (`docs/CLASS-CONTRACT.md`): the
/// options every student's page offers, in the wire's words (`+`/`-`,
/// `grow`/`shrink`, a shape `1x14x14`); none for a question answered by
/// clicking cells of the map, which travel as `[c, y, x]`.
pub fn wire_options(ask: &Ask) -> Vec<String> {
    match ask {
        Ask::DfSign { .. } => vec!["+".into(), "-".into()],
        Ask::TapChange { .. } => vec!["grow".into(), "shrink".into()],
        Ask::BelowShape { options, .. } | Ask::Spacing { options, .. } => {
            options.iter().map(|o| o.replace('×', "x")).collect()
        }
        Ask::ReluBlocked { .. } | Ask::PoolWinner { .. } => Vec::new(),
    }
}

/// The width of the map a cell question is answered on.
fn map_width(trace: &Trace, ask: &Ask) -> Option<usize> {
    match ask {
        Ask::ReluBlocked { layer, .. } | Ask::PoolWinner { layer, .. } => {
            trace.layer_input(*layer).map(|x| x.shape()[3])
        }
        _ => None,
    }
}

/// An answer as it travels to the class server.
pub fn to_wire(trace: &Trace, ask: &Ask, given: &Given) -> Option<Value> {
    match (ask, given) {
        (Ask::ReluBlocked { .. }, Given::Cells(cells)) if cells.is_empty() => {
            Some(Value::Option("none".into()))
        }
        (Ask::ReluBlocked { channel, .. }, Given::Cells(cells)) => Some(Value::Cells(
            cells
                .iter()
                .map(|&(r, c)| [*channel as u32, r as u32, c as u32])
                .collect(),
        )),
        (Ask::PoolWinner { channel, .. }, Given::Choice(q)) => {
            let w = map_width(trace, ask)?;
            Some(Value::Cells(vec![[
                *channel as u32,
                (q / w) as u32,
                (q % w) as u32,
            ]]))
        }
        (_, Given::Choice(k)) => wire_options(ask).get(*k).cloned().map(Value::Option),
        _ => None,
    }
}

/// A class's answer read back as the question's own (cells outside the
/// map, or of another channel, are no answer).
pub fn from_wire(trace: &Trace, ask: &Ask, value: &Value) -> Option<Given> {
    let inside = |cells: &[[u32; 3]], channel: usize| -> Option<BTreeSet<(usize, usize)>> {
        let x = trace.layer_input(match ask {
            Ask::ReluBlocked { layer, .. } | Ask::PoolWinner { layer, .. } => *layer,
            _ => return None,
        })?;
        let (h, w) = (x.shape()[2], x.shape()[3]);
        cells
            .iter()
            .map(|&[c, r, col]| {
                let (c, r, col) = (c as usize, r as usize, col as usize);
                (c == channel && r < h && col < w).then_some((r, col))
            })
            .collect()
    };
    match (ask, value) {
        (Ask::ReluBlocked { .. }, Value::Option(o)) if o == "none" => {
            Some(Given::Cells(BTreeSet::new()))
        }
        (Ask::ReluBlocked { channel, .. }, Value::Cells(cells)) => {
            inside(cells, *channel).map(Given::Cells)
        }
        (Ask::PoolWinner { channel, .. }, Value::Cells(cells)) if cells.len() == 1 => {
            let (r, c) = *inside(cells, *channel)?.iter().next()?;
            Some(Given::Choice(r * map_width(trace, ask)? + c))
        }
        (_, Value::Option(o)) => wire_options(ask)
            .iter()
            .position(|x| x == o)
            .map(Given::Choice),
        _ => None,
    }
}

/// The right answer, as the teacher's reveal sends it.
pub fn wire_truth(trace: &Trace, ask: &Ask) -> Option<Value> {
    let right = match ask {
        Ask::ReluBlocked {
            layer,
            sample,
            channel,
        } => Given::Cells(blocked(trace, *layer, *sample, *channel)),
        Ask::PoolWinner {
            layer,
            sample,
            channel,
            window,
        } => {
            let (r, c) = winner(trace, *layer, *sample, *channel, *window)?;
            Given::Choice(r * map_width(trace, ask)? + c)
        }
        _ => (0..wire_options(ask).len())
            .map(Given::Choice)
            .find(|g| is_right(trace, ask, g) == Some(true))?,
    };
    to_wire(trace, ask, &right)
}
