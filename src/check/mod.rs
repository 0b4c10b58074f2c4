//! Checking a student's own backprop against a trace (CHECK-CONTRACT.md in
//! `docs/`): for each tensor handed in, whether it matches the trace, and
//! if not, which mistake of a fixed catalogue makes it. The diagnosis is
//! never guessed from statistics: every catalogue mistake that applies to
//! the tensor is computed from the trace's own inputs (the layer's input,
//! its weights, the delta from above) and compared with what was handed in.
//!
//! The engine is free of this module; the command line (`check`) and the
//! app (*File → Check my backprop…*) both use it.

pub mod bugs;
pub mod checked;
pub mod exercise;
pub mod formulas;

use ndarray::{s, Array4, ArrayD, ArrayView4, Axis, Ix2, Ix4, IxDyn};

use crate::engine::layers::conv::ConvGeometry;
use crate::engine::layers::LayerKind;
use crate::engine::trace::Trace;
use crate::engine::Tensor;
use crate::io::Handed;
use crate::trf;
use formulas::{
    below, conv_bias_grad, corr_grad, correlate, dense_grad, first_max, full, rot180, route,
    route_overwriting, unflatten_column_major, Norm,
};

/// How close counts as the same: `max|a − b| ≤ TOLERANCE · max|b|`.
pub const TOLERANCE: f64 = 1e-3;
/// A tensor of the trace that is all zero (a dead filter's gradient) is
/// matched when nothing handed in exceeds this.
pub const ZERO: f64 = 1e-6;

/// The catalogue of mistakes (the ids are fixed by the contract).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mistake {
    MissingMean,
    ExtraMean,
    WrongSign,
    Transposed,
    ConvolutionNotCorrelation,
    OneSampleOnly,
    NoRot180,
    ValidNotFull,
    ChannelsNotSummed,
    FcNotTransposed,
    ReluMaskMissing,
    ReluMaskInverted,
    PoolSpread,
    PoolWrongPosition,
    FlattenOrder,
    DeltaNotDilated,
    WeightGradNotStrided,
    DilationDropped,
    PoolOverwrote,
    AvgpoolCopied,
    BnMeanTermMissing,
    BnVarTermMissing,
    BnStatsConstant,
    BnCountBatchOnly,
    BnDgammaNotNormalized,
    ConvtransposeRot180,
    ConvtransposeGradNotStrided,
    ConvtransposeWeightSwapped,
    Unknown,
}

impl Mistake {
    /// Every named mistake (all but `unknown`).
    pub const CATALOGUE: [Mistake; 28] = [
        Mistake::MissingMean,
        Mistake::ExtraMean,
        Mistake::WrongSign,
        Mistake::Transposed,
        Mistake::ConvolutionNotCorrelation,
        Mistake::OneSampleOnly,
        Mistake::NoRot180,
        Mistake::ValidNotFull,
        Mistake::ChannelsNotSummed,
        Mistake::FcNotTransposed,
        Mistake::ReluMaskMissing,
        Mistake::ReluMaskInverted,
        Mistake::PoolSpread,
        Mistake::PoolWrongPosition,
        Mistake::FlattenOrder,
        Mistake::DeltaNotDilated,
        Mistake::WeightGradNotStrided,
        Mistake::DilationDropped,
        Mistake::PoolOverwrote,
        Mistake::AvgpoolCopied,
        Mistake::BnMeanTermMissing,
        Mistake::BnVarTermMissing,
        Mistake::BnStatsConstant,
        Mistake::BnCountBatchOnly,
        Mistake::BnDgammaNotNormalized,
        Mistake::ConvtransposeRot180,
        Mistake::ConvtransposeGradNotStrided,
        Mistake::ConvtransposeWeightSwapped,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Mistake::MissingMean => "missing-mean",
            Mistake::ExtraMean => "extra-mean",
            Mistake::WrongSign => "wrong-sign",
            Mistake::Transposed => "transposed",
            Mistake::ConvolutionNotCorrelation => "convolution-not-correlation",
            Mistake::OneSampleOnly => "one-sample-only",
            Mistake::NoRot180 => "no-rot180",
            Mistake::ValidNotFull => "valid-not-full",
            Mistake::ChannelsNotSummed => "channels-not-summed",
            Mistake::FcNotTransposed => "fc-not-transposed",
            Mistake::ReluMaskMissing => "relu-mask-missing",
            Mistake::ReluMaskInverted => "relu-mask-inverted",
            Mistake::PoolSpread => "pool-spread",
            Mistake::PoolWrongPosition => "pool-wrong-position",
            Mistake::FlattenOrder => "flatten-order",
            Mistake::DeltaNotDilated => "delta-not-dilated",
            Mistake::WeightGradNotStrided => "weight-grad-not-strided",
            Mistake::DilationDropped => "dilation-dropped",
            Mistake::PoolOverwrote => "pool-overwrote",
            Mistake::AvgpoolCopied => "avgpool-copied",
            Mistake::BnMeanTermMissing => "bn-mean-term-missing",
            Mistake::BnVarTermMissing => "bn-var-term-missing",
            Mistake::BnStatsConstant => "bn-stats-constant",
            Mistake::BnCountBatchOnly => "bn-count-batch-only",
            Mistake::BnDgammaNotNormalized => "bn-dgamma-not-normalized",
            Mistake::ConvtransposeRot180 => "convtranspose-rot180",
            Mistake::ConvtransposeGradNotStrided => "convtranspose-grad-not-strided",
            Mistake::ConvtransposeWeightSwapped => "convtranspose-weight-swapped",
            Mistake::Unknown => "unknown",
        }
    }

    pub fn from_id(id: &str) -> Option<Mistake> {
        Mistake::CATALOGUE
            .into_iter()
            .chain([Mistake::Unknown])
            .find(|m| m.id() == id)
    }
}

/// Which of a layer's tensors a name refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Out,
    Delta,
    Weight,
    Bias,
    WeightGrad,
    BiasGrad,
}

impl Part {
    const ALL: [Part; 6] = [
        Part::Out,
        Part::Delta,
        Part::Weight,
        Part::Bias,
        Part::WeightGrad,
        Part::BiasGrad,
    ];

    /// The suffix of its tensors' names in a trace (`conv2.weight_grad`).
    pub fn name(self) -> &'static str {
        match self {
            Part::Out => "out",
            Part::Delta => "delta",
            Part::Weight => "weight",
            Part::Bias => "bias",
            Part::WeightGrad => "weight_grad",
            Part::BiasGrad => "bias_grad",
        }
    }

    fn parse(s: &str) -> Option<Part> {
        Part::ALL.into_iter().find(|p| p.name() == s)
    }

    fn is_backward(self) -> bool {
        matches!(self, Part::Delta | Part::WeightGrad | Part::BiasGrad)
    }
}

/// A tensor of a trace, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    Input,
    Labels,
    Loss,
    LogitsDelta,
    Layer(usize, Part),
}

impl Named {
    /// The tensor of `trace` called `name` (CONTRACTS.md's names), if any.
    pub fn parse(trace: &Trace, name: &str) -> Option<Named> {
        match name {
            "input" => return Some(Named::Input),
            "labels" => return Some(Named::Labels),
            "loss" => return Some(Named::Loss),
            "logits.delta" => return Some(Named::LogitsDelta),
            _ => {}
        }
        let (layer, part) = name.rsplit_once('.')?;
        let part = Part::parse(part)?;
        let i = trace.names.iter().position(|n| n == layer)?;
        let has_params = trace.kinds[i].param_shapes().is_some();
        if matches!(
            part,
            Part::Weight | Part::Bias | Part::WeightGrad | Part::BiasGrad
        ) && !has_params
        {
            return None;
        }
        Some(Named::Layer(i, part))
    }

    /// The tensor's name in a trace file (CONTRACTS.md).
    pub fn name(self, trace: &Trace) -> String {
        match self {
            Named::Layer(i, part) => format!("{}.{}", trace.names[i], part.name()),
            Named::LogitsDelta => "logits.delta".into(),
            Named::Input => "input".into(),
            Named::Labels => "labels".into(),
            Named::Loss => "loss".into(),
        }
    }

    fn is_backward(self) -> bool {
        match self {
            Named::LogitsDelta => true,
            Named::Layer(_, part) => part.is_backward(),
            _ => false,
        }
    }
}

fn f64s(t: &Tensor) -> ArrayD<f64> {
    t.mapv(f64::from)
}

/// The trace's own tensor `name` in f64 (the right answer), if recorded.
pub fn traced(trace: &Trace, name: Named) -> Option<ArrayD<f64>> {
    let layer = |i: usize| &trace.layers[i];
    let t = match name {
        Named::Input => return Some(f64s(&trace.input)),
        Named::Labels => {
            return Some(ArrayD::from_shape_fn(IxDyn(&[trace.labels.len()]), |i| {
                f64::from(trace.labels[i[0]])
            }))
        }
        Named::Loss => {
            return trace
                .loss
                .map(|l| ArrayD::from_elem(IxDyn(&[1]), f64::from(l)))
        }
        Named::LogitsDelta => trace.logits_delta.as_ref(),
        Named::Layer(i, Part::Out) => layer(i).out.as_ref(),
        Named::Layer(i, Part::Delta) => layer(i).delta.as_ref(),
        Named::Layer(i, Part::Weight) => layer(i).weight.as_ref(),
        Named::Layer(i, Part::Bias) => layer(i).bias.as_ref(),
        Named::Layer(i, Part::WeightGrad) => layer(i).weight_grad.as_ref(),
        Named::Layer(i, Part::BiasGrad) => layer(i).bias_grad.as_ref(),
    };
    t.map(|t| f64s(t))
}

/// Layer `i`'s input x and the delta D arriving from above, in f64.
fn operands(trace: &Trace, i: usize) -> Option<(ArrayD<f64>, ArrayD<f64>)> {
    let x = trace.layer_input(i)?;
    let d = match trace.layers.get(i + 1) {
        Some(above) => above.delta.as_ref()?,
        None => trace.logits_delta.as_ref()?,
    };
    Some((f64s(x), f64s(d)))
}

fn four(a: &ArrayD<f64>) -> Option<ArrayView4<'_, f64>> {
    a.view().into_dimensionality::<Ix4>().ok()
}

/// Every catalogue mistake that applies to the tensor `name`, computed from
/// the trace: `(mistake, the tensor that mistake gives)`.
pub fn candidates(trace: &Trace, name: Named) -> Vec<(Mistake, ArrayD<f64>)> {
    let Some(c) = traced(trace, name) else {
        return Vec::new();
    };
    if !name.is_backward() {
        return Vec::new();
    }
    let n = trace.labels.len() as f64;
    let mut out = vec![
        (Mistake::MissingMean, &c * n),
        (Mistake::ExtraMean, &c / n),
        (Mistake::WrongSign, -&c),
    ];
    let Named::Layer(i, part) = name else {
        return out;
    };
    let Some((x, d)) = operands(trace, i) else {
        return out;
    };
    let weight = trace.layers[i].weight.as_deref().map(f64s);
    let dyn4 = |a: ndarray::Array4<f64>| a.into_dyn();
    match (&trace.kinds[i], part) {
        (
            LayerKind::Conv {
                kernel,
                padding,
                stride,
                dilation,
                ..
            },
            Part::WeightGrad,
        ) => {
            let mut t = c.clone();
            t.swap_axes(2, 3);
            out.push((Mistake::Transposed, t.as_standard_layout().into_owned()));
            let rotated = four(&c).map(|c| rot180(c).into_dyn());
            out.extend(rotated.map(|r| (Mistake::ConvolutionNotCorrelation, r)));
            let (k, p, spacing) = (*kernel, *padding, (*stride, *dilation));
            if let (Some(x), Some(d)) = (four(&x), four(&d)) {
                if !fits(x, d, k, p, spacing) {
                    return out;
                }
                let one = corr_grad(
                    x.slice(s![..1, .., .., ..]),
                    d.slice(s![..1, .., .., ..]),
                    k,
                    p,
                    spacing,
                );
                out.push((Mistake::OneSampleOnly, dyn4(one)));
                // The taps read side by side where they are S apart; the
                // filter's taps side by side where they are Dl apart.
                if *stride > 1 {
                    let g = corr_grad(x, d, k, p, (1, *dilation));
                    out.push((Mistake::WeightGradNotStrided, dyn4(g)));
                }
                if *dilation > 1 {
                    let g = corr_grad(x, d, k, p, (*stride, 1));
                    out.push((Mistake::DilationDropped, dyn4(g)));
                }
            }
        }
        (LayerKind::Conv { .. }, Part::BiasGrad) => {
            if let Some(d) = four(&d) {
                let one = conv_bias_grad(d.slice(s![..1, .., .., ..]));
                out.push((Mistake::OneSampleOnly, one.into_dyn()));
            }
        }
        (
            LayerKind::Conv {
                kernel,
                padding,
                out_channels,
                stride,
                dilation,
                ..
            },
            Part::Delta,
        ) => {
            let (Some(x4), Some(d4), Some(f)) = (four(&x), four(&d), weight.as_ref()) else {
                return out;
            };
            let Some(f) = four(f) else { return out };
            let spacing = (*stride, *dilation);
            if !fits(x4, d4, *kernel, *padding, spacing) {
                return out;
            }
            let (_, _, h, w) = x4.dim();
            let p = *padding;
            out.push((
                Mistake::NoRot180,
                dyn4(below(d4, rot180(f).view(), (h, w, p), spacing)),
            ));
            out.push((
                Mistake::ValidNotFull,
                dyn4(
                    full(d4, f, (h, w, p), spacing)
                        .slice(s![.., .., 0..h, 0..w])
                        .to_owned(),
                ),
            ));
            if *out_channels > 1 {
                out.push((
                    Mistake::ChannelsNotSummed,
                    dyn4(below(
                        d4.slice(s![.., ..1, .., ..]),
                        f.slice(s![..1, .., .., ..]),
                        (h, w, p),
                        spacing,
                    )),
                ));
            }
            // D's cells scattered side by side, without the S − 1 zeros
            // between them; the filter's taps without their holes.
            if *stride > 1 {
                let g = below(d4, f, (h, w, p), (1, *dilation));
                out.push((Mistake::DeltaNotDilated, dyn4(g)));
            }
            if *dilation > 1 {
                let g = below(d4, f, (h, w, p), (*stride, 1));
                out.push((Mistake::DilationDropped, dyn4(g)));
            }
        }
        (LayerKind::Batchnorm { eps, .. }, Part::Delta | Part::WeightGrad) => {
            let (Some(x4), Some(d4), Some(gamma)) = (four(&x), four(&d), weight.as_ref()) else {
                return out;
            };
            if x4.dim() != d4.dim() || gamma.len() != x4.dim().1 {
                return out;
            }
            let gamma: Vec<f64> = gamma.iter().copied().collect();
            let norm = Norm::of(x4, d4, &gamma, f64::from(*eps));
            if part == Part::WeightGrad {
                // Σ D·x: the input where its normalised value z is due.
                let raw = (&d4 * &x4)
                    .sum_axis(Axis(3))
                    .sum_axis(Axis(2))
                    .sum_axis(Axis(0));
                out.push((Mistake::BnDgammaNotNormalized, raw.into_dyn()));
                return out;
            }
            let m = norm.count;
            let batch = x4.dim().0 as f64;
            out.extend([
                (
                    Mistake::BnMeanTermMissing,
                    norm.delta(d4, (false, true), m).into_dyn(),
                ),
                (
                    Mistake::BnVarTermMissing,
                    norm.delta(d4, (true, false), m).into_dyn(),
                ),
                (
                    Mistake::BnStatsConstant,
                    norm.delta(d4, (false, false), m).into_dyn(),
                ),
                (
                    Mistake::BnCountBatchOnly,
                    norm.delta(d4, (true, true), batch).into_dyn(),
                ),
            ]);
        }
        (
            LayerKind::Convtranspose {
                in_channels,
                out_channels,
                kernel,
                padding,
                stride,
                ..
            },
            Part::Delta | Part::WeightGrad,
        ) => {
            let (Some(x4), Some(d4), Some(f)) = (four(&x), four(&d), weight.as_ref()) else {
                return out;
            };
            let Some(f) = four(f) else { return out };
            let (k, p, st) = (*kernel, *padding, *stride);
            let (n, cin, h, w) = x4.dim();
            let fits =
                ConvGeometry::new((*out_channels, d4.dim().2, d4.dim().3), cin, k, p, (st, 1))
                    .is_some_and(|g| {
                        (g.ho, g.wo) == (h, w) && d4.dim().0 == n && d4.dim().1 == *out_channels
                    });
            if !fits || f.dim() != (*in_channels, *out_channels, k, k) {
                return out;
            }
            // The weight read as if it were a conv's [out, in, K, K]: the
            // same memory, the two channel axes each other's.
            let swapped = |a: ndarray::ArrayView4<f64>| -> Option<Array4<f64>> {
                let (i, o, _, _) = a.dim();
                let flat = a.as_standard_layout().into_owned();
                let as_out_in = flat.into_shape_with_order((o, i, k, k)).ok()?;
                Some(
                    as_out_in
                        .permuted_axes([1, 0, 2, 3])
                        .as_standard_layout()
                        .into_owned(),
                )
            };
            let several = *in_channels > 1 && *out_channels > 1;
            if part == Part::Delta {
                out.push((
                    Mistake::ConvtransposeRot180,
                    dyn4(correlate(d4, rot180(f).view(), p, st, (h, w))),
                ));
                if let Some(g) = swapped(f).filter(|_| several) {
                    out.push((
                        Mistake::ConvtransposeWeightSwapped,
                        dyn4(correlate(d4, g.view(), p, st, (h, w))),
                    ));
                }
                return out;
            }
            if st > 1 {
                // x's cells side by side in D, not S apart.
                out.push((
                    Mistake::ConvtransposeGradNotStrided,
                    dyn4(corr_grad(d4, x4, k, p, (1, 1))),
                ));
            }
            if several {
                // The right numbers written in a conv's [out, in] layout.
                let right = corr_grad(d4, x4, k, p, (st, 1));
                let written = right
                    .permuted_axes([1, 0, 2, 3])
                    .as_standard_layout()
                    .into_owned()
                    .into_shape_with_order((*in_channels, *out_channels, k, k));
                if let Ok(written) = written {
                    out.push((Mistake::ConvtransposeWeightSwapped, dyn4(written)));
                }
            }
        }
        (LayerKind::Dense { .. }, Part::WeightGrad) => {
            out.push((Mistake::Transposed, c.t().as_standard_layout().into_owned()));
            if let (Ok(x), Ok(d)) = (
                x.view().into_dimensionality::<Ix2>(),
                d.view().into_dimensionality::<Ix2>(),
            ) {
                let one = dense_grad(x.slice(s![..1, ..]), d.slice(s![..1, ..]));
                out.push((Mistake::OneSampleOnly, one.into_dyn()));
            }
        }
        (LayerKind::Dense { .. }, Part::BiasGrad) if d.ndim() == 2 => {
            let one = d.slice(s![..1, ..]).sum_axis(Axis(0));
            out.push((Mistake::OneSampleOnly, one.into_dyn()));
        }
        (LayerKind::Dense { inputs, outputs }, Part::Delta) if inputs == outputs => {
            if let (Ok(d), Some(Ok(w))) = (
                d.view().into_dimensionality::<Ix2>(),
                weight
                    .as_ref()
                    .map(|w| w.view().into_dimensionality::<Ix2>()),
            ) {
                out.push((Mistake::FcNotTransposed, d.dot(&w.t()).into_dyn()));
            }
        }
        (LayerKind::Relu, Part::Delta) if x.shape() == d.shape() => {
            out.push((Mistake::ReluMaskMissing, d.clone()));
            let inverted =
                ndarray::Zip::from(&d)
                    .and(&x)
                    .map_collect(|&d, &x| if x <= 0.0 { d } else { 0.0 });
            out.push((Mistake::ReluMaskInverted, inverted));
        }
        (LayerKind::Maxpool { .. } | LayerKind::Avgpool { .. }, Part::Delta) => {
            let (Some(x4), Some(d4)) = (four(&x), four(&d)) else {
                return out;
            };
            let window = trace.kinds[i].pool_window().unwrap_or_default();
            if !pool_fits(x4, d4, window) {
                return out;
            }
            let share = 1.0 / (window.0 * window.0) as f64;
            let overlapping = window.1 < window.0;
            if matches!(trace.kinds[i], LayerKind::Avgpool { .. }) {
                out.push((
                    Mistake::AvgpoolCopied,
                    dyn4(route(x4.dim(), d4, window, |_, _, _| 1.0)),
                ));
                if overlapping {
                    let each = |_, _, _| share;
                    let overwritten = route_overwriting(x4.dim(), d4, window, each);
                    out.push((Mistake::PoolOverwrote, dyn4(overwritten)));
                }
                return out;
            }
            out.push((
                Mistake::PoolSpread,
                dyn4(route(x4.dim(), d4, window, |_, _, _| share)),
            ));
            out.push((
                Mistake::PoolWrongPosition,
                dyn4(route(x4.dim(), d4, window, |_, a, b| {
                    f64::from(u8::from(a == 0 && b == 0))
                })),
            ));
            if overlapping {
                let winner =
                    |at: [usize; 4], a, b| f64::from(u8::from(first_max(x4, at, window) == (a, b)));
                let overwritten = route_overwriting(x4.dim(), d4, window, winner);
                out.push((Mistake::PoolOverwrote, dyn4(overwritten)));
            }
        }
        (LayerKind::Flatten, Part::Delta) => {
            if let (Some(x4), Ok(d2)) = (four(&x), d.view().into_dimensionality::<Ix2>()) {
                out.push((
                    Mistake::FlattenOrder,
                    dyn4(unflatten_column_major(d2, x4.dim())),
                ));
            }
        }
        _ => {}
    }
    out
}

/// Whether a conv layer's D has the size its geometry gives (a trace read
/// from a file is checked, but a mistake is only computed where it fits).
fn fits(
    x: ArrayView4<f64>,
    d: ArrayView4<f64>,
    k: usize,
    p: usize,
    spacing: (usize, usize),
) -> bool {
    let (_, c, h, w) = x.dim();
    let (_, o, ho, wo) = d.dim();
    crate::engine::layers::conv::ConvGeometry::new((c, h, w), o, k, p, spacing)
        .is_some_and(|g| (g.ho, g.wo) == (ho, wo))
}

/// Whether a pooling layer's D has the windows its geometry gives.
fn pool_fits(x: ArrayView4<f64>, d: ArrayView4<f64>, (size, stride): formulas::Window) -> bool {
    let (_, _, h, w) = x.dim();
    crate::engine::layers::pool::PoolGeometry::new((h, w), size, stride)
        .is_some_and(|g| (g.ho, g.wo) == (d.dim().2, d.dim().3))
}

/// The right max-pooling delta from the formula (the contract's `first`
/// routing): used by tests and the exercise's reference solution.
pub fn maxpool_delta(
    x: ArrayView4<f64>,
    d: ArrayView4<f64>,
    window: formulas::Window,
) -> ArrayD<f64> {
    route(x.dim(), d, window, |at, a, b| {
        f64::from(u8::from(first_max(x, at, window) == (a, b)))
    })
    .into_dyn()
}

/// How far a bias gradient may be from the trace's and still match, beyond
/// the relative tolerance: `ROUNDING · max_c Σ|D[:, c]|`. A bias gradient
/// is a sum of the delta over the batch and the map; where those terms
/// cancel (a conv's bias before batch norm, whose true gradient is 0) the
/// trace's own f32 sum keeps rounding noise of about 1e-6 of the sum of
/// their sizes, which a right answer in f64 cannot be held to. 0 for any
/// other tensor.
fn rounding_floor(trace: &Trace, name: Named) -> f64 {
    const ROUNDING: f64 = 1e-5;
    let Named::Layer(i, Part::BiasGrad) = name else {
        return 0.0;
    };
    let Some((_, d)) = operands(trace, i) else {
        return 0.0;
    };
    let Some(&channels) = d.shape().get(1) else {
        return 0.0;
    };
    let mut sums = vec![0.0f64; channels];
    for (at, v) in d.indexed_iter() {
        sums[at[1]] += v.abs();
    }
    ROUNDING * sums.into_iter().fold(0.0, f64::max)
}

/// `m` is further than `limit` from `r` (a NaN always is).
fn outside(m: f64, r: f64, limit: f64) -> bool {
    let d = (m - r).abs();
    d.is_nan() || d > limit
}

fn max_abs(a: &ArrayD<f64>) -> f64 {
    a.iter().fold(0.0, |m, v| {
        if v.is_nan() {
            f64::INFINITY
        } else {
            m.max(v.abs())
        }
    })
}

fn max_diff(a: &ArrayD<f64>, b: &ArrayD<f64>) -> f64 {
    ndarray::Zip::from(a)
        .and(b)
        // A NaN handed in is as far off as can be (f64::max would skip it).
        .fold(0.0, |m: f64, x, y| {
            let d = (x - y).abs();
            if d.is_nan() {
                f64::INFINITY
            } else {
                m.max(d)
            }
        })
}

/// `mine` is `target` within the contract's tolerance: `Some(relative
/// difference)` if so.
fn close_to(mine: &ArrayD<f64>, target: &ArrayD<f64>) -> Option<f64> {
    if mine.shape() != target.shape() {
        return None;
    }
    let diff = max_diff(mine, target);
    let scale = max_abs(target);
    // A target holding NaN or an infinity matches nothing: its tolerance
    // would be infinite (traces are read finite; this is the last guard).
    if !scale.is_finite() {
        return None;
    }
    if scale == 0.0 {
        return (max_abs(mine) <= ZERO).then_some(max_abs(mine));
    }
    (diff <= TOLERANCE * scale).then_some(diff / scale)
}

/// What `check` says of one tensor handed in.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub name: String,
    pub ok: bool,
    /// `max|mine − trace| / max|trace|` (`max|mine|` when the trace's is all
    /// zero), `None` when the shapes differ.
    pub max_rel_err: Option<f64>,
    /// `None` when ok.
    pub diagnosis: Option<Mistake>,
    pub found_shape: Vec<usize>,
    pub expected_shape: Vec<usize>,
    /// The element furthest outside the tolerance (the largest error, not
    /// a near-zero cell that happens to come first): its index, the value
    /// handed in and the trace's.
    pub worst_wrong: Option<(Vec<usize>, f64, f64)>,
    /// What the words need: the batch size, the layer's padding, stride
    /// and dilation (a conv's; 0, 1, 1 otherwise) and the
    /// right formula for this tensor.
    pub batch: usize,
    pub padding: usize,
    pub stride: usize,
    pub dilation: usize,
    pub formula: String,
    /// The trace's tensor is all zero.
    pub dead: bool,
}

/// The tensor handed in names no tensor of the trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotInTrace(pub String);

impl std::fmt::Display for NotInTrace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&trf!(
            "the trace has no tensor called {name} (names are like conv2.weight_grad, pool2.delta, fc1.delta)",
            name = format!("{:?}", crate::io::file::short(&self.0))
        ))
    }
}

/// The most values one tensor handed in against `trace` may hold: the
/// step's largest tensor times the batch size plus four, room for every
/// mistake the catalogue recognises (a gradient left per sample holds the
/// batch size times the weights). Hand-ins are read within this, so a
/// hostile file costs memory in proportion to the step, not to its size.
pub fn most_values(trace: &Trace) -> usize {
    let largest = trace
        .layers
        .iter()
        .flat_map(|l| [&l.out, &l.delta, &l.weight])
        .flatten()
        .map(|t| t.len())
        .chain([trace.input.len()])
        .max()
        .unwrap_or(0);
    largest
        .saturating_mul(trace.labels.len().saturating_add(4))
        .clamp(1 << 16, crate::io::handin::MAX_HANDED_VALUES)
}

/// Checks one tensor handed in against the trace.
pub fn check(trace: &Trace, handed: &Handed) -> Result<Verdict, NotInTrace> {
    let name = Named::parse(trace, &handed.name).ok_or_else(|| NotInTrace(handed.name.clone()))?;
    let right = traced(trace, name).ok_or_else(|| NotInTrace(handed.name.clone()))?;
    let mine = &handed.values;
    let dead = max_abs(&right) == 0.0;
    let mut verdict = Verdict {
        name: handed.name.clone(),
        ok: false,
        max_rel_err: None,
        diagnosis: None,
        found_shape: mine.shape().to_vec(),
        expected_shape: right.shape().to_vec(),
        worst_wrong: None,
        batch: trace.labels.len(),
        padding: conv_of(trace, name).0,
        stride: conv_of(trace, name).1,
        dilation: conv_of(trace, name).2,
        formula: formula(trace, name),
        dead,
    };
    if mine.shape() == right.shape() {
        let diff = max_diff(mine, &right);
        let scale = max_abs(&right);
        verdict.max_rel_err = Some(if dead { max_abs(mine) } else { diff / scale });
        verdict.ok = close_to(mine, &right).is_some() || diff <= rounding_floor(trace, name);
        if !verdict.ok {
            let limit = if dead { ZERO } else { TOLERANCE * scale };
            verdict.worst_wrong = mine
                .indexed_iter()
                .zip(right.iter())
                .filter(|((_, &m), &r)| outside(m, r, limit))
                .max_by(|((_, &a), &ra), ((_, &b), &rb)| (a - ra).abs().total_cmp(&(b - rb).abs()))
                .map(|((index, &m), &r)| (ndarray::Dimension::slice(&index).to_vec(), m, r));
        }
    }
    if !verdict.ok {
        verdict.diagnosis = Some(
            candidates(trace, name)
                .into_iter()
                .filter_map(|(mistake, candidate)| close_to(mine, &candidate).map(|e| (e, mistake)))
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .map_or(Mistake::Unknown, |(_, mistake)| mistake),
        );
    }
    Ok(verdict)
}

/// One number worked out by hand (the app's *Try it yourself*): whether
/// `value` is the trace's at `index` of the tensor `named`, and if not,
/// which mistake of the catalogue gives exactly that number there.
pub fn check_cell(trace: &Trace, named: Named, index: &[usize], value: f64) -> Option<Verdict> {
    let right_all = traced(trace, named)?;
    let right = *right_all.get(index)?;
    let scale = max_abs(&right_all);
    let dead = scale == 0.0;
    let limit = if dead { ZERO } else { TOLERANCE * scale };
    let limit = limit.max(rounding_floor(trace, named));
    let ok = scale.is_finite() && !outside(value, right, limit);
    let diagnosis = (!ok).then(|| {
        candidates(trace, named)
            .into_iter()
            .filter_map(|(mistake, c)| {
                let v = *c.get(index)?;
                // A mistake that gives the right number here names nothing.
                let tells = outside(v, right, limit);
                let close = !outside(value, v, TOLERANCE * max_abs(&c).max(f64::MIN_POSITIVE));
                (tells && close).then_some(((value - v).abs(), mistake))
            })
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map_or(Mistake::Unknown, |(_, m)| m)
    });
    Some(Verdict {
        name: format!("{}{index:?}", named.name(trace)),
        ok,
        max_rel_err: Some(if dead {
            value.abs()
        } else {
            (value - right).abs() / scale
        }),
        diagnosis,
        found_shape: right_all.shape().to_vec(),
        expected_shape: right_all.shape().to_vec(),
        worst_wrong: (!ok).then(|| (index.to_vec(), value, right)),
        batch: trace.labels.len(),
        padding: conv_of(trace, named).0,
        stride: conv_of(trace, named).1,
        dilation: conv_of(trace, named).2,
        formula: formula(trace, named),
        dead,
    })
}

/// The padding, stride and dilation of the conv (or transposed conv) layer a tensor belongs to
/// (`(0, 1, 1)` for any other).
fn conv_of(trace: &Trace, name: Named) -> (usize, usize, usize) {
    match name {
        Named::Layer(i, _) => match trace.kinds[i] {
            LayerKind::Conv {
                padding,
                stride,
                dilation,
                ..
            } => (padding, stride, dilation),
            LayerKind::Convtranspose {
                padding, stride, ..
            } => (padding, stride, 1),
            _ => (0, 1, 1),
        },
        _ => (0, 1, 1),
    }
}

/// The right formula for a tensor, in words a student reads.
fn formula(trace: &Trace, name: Named) -> String {
    let Named::Layer(i, part) = name else {
        return match name {
            Named::LogitsDelta => trf!("logits.delta = (softmax − one_hot) / N"),
            _ => trf!("the trace's own tensor"),
        };
    };
    let (_, stride, dilation) = conv_of(trace, name);
    let spaced = stride > 1 || dilation > 1;
    match (&trace.kinds[i], part) {
        (LayerKind::Conv { .. }, Part::WeightGrad) if spaced => trf!(
            "dF[o,c,a,b] = Σ_n Σ_i Σ_j x[n,c,{s}·i+{dl}·a,{s}·j+{dl}·b] · D[n,o,i,j] (x zero-padded, no flipping; stride {s}, dilation {dl})",
            s = stride,
            dl = dilation
        ),
        (LayerKind::Conv { .. }, Part::Delta) if spaced => trf!(
            "D_below[n,c] = Σ_o full_corr(D[n,o] with {z} zero(s) between its cells, rot180 F[o,c] with {h} hole(s) between its taps), the padding cut from every side",
            z = stride - 1,
            h = dilation - 1
        ),
        (LayerKind::Conv { .. }, Part::WeightGrad) => trf!(
            "dF[o,c,a,b] = Σ_n Σ_i Σ_j x[n,c,i+a,j+b] · D[n,o,i,j] (x zero-padded, no flipping)"
        ),
        (LayerKind::Conv { .. }, Part::BiasGrad) => {
            trf!("dB[o] = Σ_n Σ_i Σ_j D[n,o,i,j]")
        }
        (LayerKind::Conv { .. }, Part::Delta) => trf!(
            "D_below[n,c] = Σ_o full_corr(D[n,o], rot180 F[o,c]) with the padding cut from every side"
        ),
        (LayerKind::Convtranspose { .. }, Part::WeightGrad) => trf!(
            "dF[i,o,a,b] = Σ_n Σ_y Σ_x x[n,i,y,x] · D[n,o,{s}·y+a−P,{s}·x+b−P] (F laid out [in, out, K, K]; D zero-padded by P)",
            s = stride
        ),
        (LayerKind::Convtranspose { .. }, Part::BiasGrad) => {
            trf!("dB[o] = Σ_n Σ_i Σ_j D[n,o,i,j]")
        }
        (LayerKind::Convtranspose { .. }, Part::Delta) => trf!(
            "D_below[n,i,y,x] = Σ_o Σ_a Σ_b F[i,o,a,b] · D[n,o,{s}·y+a−P,{s}·x+b−P]: the forward pass of the stride-{s} conv whose backward the layer is, no flipping",
            s = stride
        ),
        (LayerKind::Batchnorm { .. }, Part::WeightGrad) => {
            trf!("dγ[c] = Σ_n Σ_i Σ_j D[n,c,i,j] · z[n,c,i,j], z = (x − μ) / √(σ² + ε) over the batch")
        }
        (LayerKind::Batchnorm { .. }, Part::BiasGrad) => "dβ[c] = Σ_n Σ_i Σ_j D[n,c,i,j]".into(),
        (LayerKind::Batchnorm { .. }, Part::Delta) => trf!(
            "D_below = γ/s · (D − dβ/m − z · dγ/m), s = √(σ² + ε), z = (x − μ)/s, m = N·H·W values per channel, μ and σ² the batch's"
        ),
        (LayerKind::Dense { .. }, Part::WeightGrad) => {
            trf!("dW = Dᵀ · x, that is dW[o,i] = Σ_n D[n,o] · x[n,i]")
        }
        (LayerKind::Dense { .. }, Part::BiasGrad) => trf!("dB[o] = Σ_n D[n,o]"),
        (LayerKind::Dense { .. }, Part::Delta) => {
            trf!("D_below = Wᵀ · δ for each sample (D @ W with samples as rows)")
        }
        (LayerKind::Relu, Part::Delta) => trf!("D_below = D · (x > 0), x being the ReLU's input"),
        (LayerKind::Sigmoid, Part::Delta) => trf!("D_below = D · σ(x) · (1 − σ(x))"),
        (LayerKind::Tanh, Part::Delta) => trf!("D_below = D · (1 − tanh²(x))"),
        (LayerKind::Maxpool { .. }, Part::Delta) => trf!(
            "each window's delta goes whole to the cell that held its first maximum, 0 to the others"
        ),
        (LayerKind::Avgpool { .. }, Part::Delta) => {
            trf!("each window's delta is shared equally, D / s², by its s² cells")
        }
        (LayerKind::Flatten, Part::Delta) => {
            trf!("D_below = D.reshape(N, C, h, w), row-major as flatten read it")
        }
        _ => trf!("the layer's forward pass, as the trace computed it"),
    }
}

/// `0.73` as `73 %`, small ones with their significant digits.
fn percent(x: f64) -> String {
    let p = x * 100.0;
    if p == 0.0 {
        "0 %".to_string()
    } else if p >= 10.0 {
        format!("{p:.0} %")
    } else if p >= 0.1 {
        format!("{p:.2} %")
    } else {
        format!("{p:.1e} %")
    }
}

/// A value as a student compares it: six decimals, or with an exponent
/// when that would hide its digits.
fn number(x: f64) -> String {
    if x != 0.0 && x.abs() < 1e-3 {
        format!("{x:.4e}")
    } else {
        format!("{x:.6}")
    }
}

fn shape(s: &[usize]) -> String {
    format!(
        "[{}]",
        s.iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    )
}

impl Verdict {
    /// One sentence for the student: what matched, or what went wrong and
    /// the right formula (in the current language).
    pub fn message(&self) -> String {
        let name = &self.name;
        let n = self.batch;
        let p = self.padding;
        let formula = &self.formula;
        let err = self.max_rel_err.map(percent).unwrap_or_default();
        if self.ok {
            return if self.dead {
                trf!(
                    "{name} matches: the trace's is all zero (nothing passed back through this layer) and so is yours.",
                    name = name
                )
            } else {
                trf!(
                    "{name} matches the trace (largest difference {err} of its largest value).",
                    name = name,
                    err = err
                )
            };
        }
        match self.diagnosis.unwrap_or(Mistake::Unknown) {
            Mistake::MissingMean => trf!(
                "{name} is {n} times too large: the loss is the mean over the batch's {n} samples, so its gradient carries 1/{n}; start from logits.delta = (softmax − one_hot) / N.",
                name = name,
                n = n
            ),
            Mistake::ExtraMean => trf!(
                "{name} is {n} times too small: the 1/N of the mean was applied twice; it is already in logits.delta = (softmax − one_hot) / N, so do not divide again.",
                name = name,
                n = n
            ),
            Mistake::WrongSign => trf!(
                "{name} has the wrong sign everywhere: the output's delta is (softmax − one_hot) / N, not (one_hot − softmax); the minus belongs only to the update, w ← w − η · grad.",
                name = name
            ),
            Mistake::Transposed => trf!(
                "{name} is transposed (your shape {found}, the trace's {expected}): its last two axes are swapped; the right one is {formula}.",
                name = name,
                found = shape(&self.found_shape),
                expected = shape(&self.expected_shape),
                formula = formula
            ),
            Mistake::ConvolutionNotCorrelation => trf!(
                "{name} is the right dF turned by 180°: you convolved (flipping D), but dF is the correlation of x with D, {formula}.",
                name = name,
                formula = formula
            ),
            Mistake::OneSampleOnly => trf!(
                "{name} holds sample 0's share only: a batch's gradient sums the shares of all {n} samples (the 1/N is already inside D).",
                name = name,
                n = n
            ),
            Mistake::NoRot180 => trf!(
                "{name} was computed with the filter unrotated: the delta handed down is the full correlation of D with rot180(F), F turned by 180° (which is the full convolution of D with F).",
                name = name
            ),
            Mistake::ValidNotFull => trf!(
                "{name} is shifted {p} cell(s) down and right: after the full convolution, cut the padding ({p} rows and columns) from every side, not only from the bottom and the right.",
                name = name,
                p = p
            ),
            Mistake::ChannelsNotSummed => trf!(
                "{name} holds only what output channel 0 sends back: every output channel sends to every input channel, so sum over o: {formula}.",
                name = name,
                formula = formula
            ),
            Mistake::FcNotTransposed => trf!(
                "{name} used W where its transpose is due: the delta handed down is Wᵀ · δ (D @ W with samples as rows), not W · δ.",
                name = name
            ),
            Mistake::ReluMaskMissing => trf!(
                "{name} lets the delta through where the ReLU blocked it: multiply by the mask, D · (x > 0), x being the ReLU's input.",
                name = name
            ),
            Mistake::ReluMaskInverted => trf!(
                "{name} has the ReLU mask inverted: the delta passes where the ReLU's input was positive, D · (x > 0), and is 0 where it was ≤ 0.",
                name = name
            ),
            Mistake::PoolSpread => trf!(
                "{name} spreads each window's delta over all its cells, as average pooling would: max pooling sends it whole to the cell that held the maximum and 0 to the others.",
                name = name
            ),
            Mistake::PoolWrongPosition => trf!(
                "{name} sends each window's delta to the window's top-left cell: it belongs to the cell that held the maximum (the first in row order when several are equal).",
                name = name
            ),
            Mistake::FlattenOrder => trf!(
                "{name} puts the values back in column-major order: un-flatten in the row-major order flatten used, D.reshape(N, C, h, w).",
                name = name
            ),
            Mistake::DeltaNotDilated => trf!(
                "{name} scatters D's cells side by side: with stride {s} they sit {s} cells apart in the padded input, so put {z} zero(s) between D's cells (dilate D) before the full convolution with F.",
                name = name,
                s = self.stride,
                z = self.stride.saturating_sub(1)
            ),
            Mistake::WeightGradNotStrided => trf!(
                "{name} reads x at neighbouring positions i + a: with stride {s} output cell i read x at {s}·i + a, so each tap's sum takes x every {s} cells ({formula}).",
                name = name,
                s = self.stride,
                formula = formula
            ),
            Mistake::DilationDropped => trf!(
                "{name} treats the filter's taps as neighbours: with dilation {dl} they are {dl} cells apart, and the backward pass reads and scatters through those same holes ({formula}).",
                name = name,
                dl = self.dilation,
                formula = formula
            ),
            Mistake::PoolOverwrote => trf!(
                "{name} keeps only the last window's share where windows overlap: a cell in several windows gets the sum of what each sends it (+=, not =).",
                name = name
            ),
            Mistake::AvgpoolCopied => trf!(
                "{name} copies each window's delta into every cell of it: average pooling divides it, D / (size²) to each cell, since each cell counted 1/(size²) in the mean.",
                name = name
            ),
            Mistake::BnMeanTermMissing => trf!(
                "{name} leaves out the path through the mean: every x moved μ, which every cell of its channel was normalised by, so subtract dβ/m inside the bracket ({formula}).",
                name = name,
                formula = formula
            ),
            Mistake::BnVarTermMissing => trf!(
                "{name} leaves out the path through the variance: every x moved σ², so subtract z · dγ/m inside the bracket ({formula}).",
                name = name,
                formula = formula
            ),
            Mistake::BnStatsConstant => trf!(
                "{name} treats μ and σ as constants (γ/s · D alone): in training they are the batch's own, and each x moved them; add the two terms through them ({formula}).",
                name = name,
                formula = formula
            ),
            Mistake::BnCountBatchOnly => trf!(
                "{name} divides by the batch size N where m is due: batch norm over maps takes each channel's statistics over all N·H·W values, so m = N·H·W ({formula}).",
                name = name,
                formula = formula
            ),
            Mistake::BnDgammaNotNormalized => trf!(
                "{name} multiplies D by the input x: γ scales the normalised input, so dγ = Σ D · z with z = (x − μ)/√(σ² + ε).",
                name = name
            ),
            Mistake::ConvtransposeRot180 => trf!(
                "{name} used the filter turned by 180°: a transposed conv's backward pass is the forward pass of its conv, a plain correlation of D with F, no flipping ({formula}).",
                name = name,
                formula = formula
            ),
            Mistake::ConvtransposeGradNotStrided => trf!(
                "{name} pairs x's cells with D's side by side: in the forward pass input cell y scattered onto output {s}·y, so each tap pairs x with D every {s} cells ({formula}).",
                name = name,
                s = self.stride,
                formula = formula
            ),
            Mistake::ConvtransposeWeightSwapped => trf!(
                "{name} reads the weight as a conv's [out, in, K, K]: a transposed conv keeps it as [in, out, K, K], input channels first ({formula}).",
                name = name,
                formula = formula
            ),
            Mistake::Unknown => match &self.worst_wrong {
                _ if self.found_shape != self.expected_shape => trf!(
                    "{name} has the shape {found} but the trace's has {expected}; the right one is {formula}.",
                    name = name,
                    found = shape(&self.found_shape),
                    expected = shape(&self.expected_shape),
                    formula = formula
                ),
                Some((at, mine, right)) => trf!(
                    "{name} does not match (largest difference {err} of the largest value; first at {at}: yours {mine}, the trace's {right}) and is none of the known mistakes; check each step against {formula}.",
                    name = name,
                    err = err,
                    at = shape(at),
                    mine = number(*mine),
                    right = number(*right),
                    formula = formula
                ),
                None => trf!(
                    "{name} does not match and is none of the known mistakes; check each step against {formula}.",
                    name = name,
                    formula = formula
                ),
            },
        }
    }

    /// The contract's JSON object for this tensor.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.name,
            "ok": self.ok,
            "max_rel_err": self.max_rel_err,
            "diagnosis": self.diagnosis.map(Mistake::id),
            "message": self.message(),
        })
    }
}

/// The contract's JSON line for a whole hand-in.
pub fn report_json(verdicts: &[Verdict]) -> serde_json::Value {
    serde_json::json!({
        "tensors": verdicts.iter().map(Verdict::json).collect::<Vec<_>>(),
        "all_ok": verdicts.iter().all(|v| v.ok),
    })
}
