//! The frames of the animations that show a conv layer's sums being formed,
//! computed from the trace's own numbers (no GUI types here). Each frame
//! says where the sliding window is and what every output cell's running
//! sum is at that moment; the last frame's sums are the whole sums, equal
//! to the trace's values (up to the order f32 additions were made in).
//!
//! - `Forward`: `y = F ⋆ x + b`, one output cell per frame, row by row.
//! - `Gradient`: `dF = x ⋆ D` for one sample, one (tap, row of D) per frame:
//!   the shifted input slides under D row by row, and the tap's running sum
//!   grows until all nine taps hold their share of dF.
//! - `Below`: `D_below = D ⊛ rot180(F)` for one output filter, one cell per
//!   frame: the turned filter slides over the zero-padded D.
//! - `Route`: a pooling layer's delta handed down, one window per frame:
//!   the window's delta goes to its winner (max pooling; the winners the
//!   engine recorded) or is split evenly over it (average pooling).
//! - `Unflatten`: a flatten layer's delta vector put back into one map,
//!   one entry per frame, row by row.
//!
//! - `Scatter`: a transposed conv's delta handed down, one input cell per
//!   frame: the filter F[i, o] read over D every S cells (the forward pass
//!   of the conv whose backward the layer is), summed over o.
//! - `Normalize`: batch norm's delta handed down, one cell per frame: the
//!   three terms the engine recorded (directly, through the mean, through
//!   the variance) added up.
//!
//! For the last four, `Target::input` is the channel and `out` is unused.

use crate::engine::layers::conv::ConvGeometry;
use crate::engine::layers::LayerKind;
use crate::engine::trace::Trace;

/// Which sum an animation builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Forward,
    Gradient,
    Below,
    Route,
    Unflatten,
    Scatter,
    Normalize,
}

impl Kind {
    /// Whether this kind animates layers of this kind.
    pub fn fits(self, layer: &LayerKind) -> bool {
        match self {
            Kind::Forward | Kind::Gradient | Kind::Below => matches!(layer, LayerKind::Conv { .. }),
            Kind::Route => matches!(layer, LayerKind::Maxpool { .. } | LayerKind::Avgpool { .. }),
            Kind::Unflatten => matches!(layer, LayerKind::Flatten),
            Kind::Scatter => matches!(layer, LayerKind::Convtranspose { .. }),
            Kind::Normalize => matches!(layer, LayerKind::Batchnorm { .. }),
        }
    }
}

/// One conv layer's step, for one sample and one (out, in) channel pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub layer: usize,
    pub sample: usize,
    pub out: usize,
    pub input: usize,
}

/// A moment of an animation.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// Running sums of the output map (`K×K` for `Gradient`, the output map
    /// for the others), row-major; cells not reached yet are `None`.
    pub sums: Vec<Option<f64>>,
    /// The output cell being formed `(row, column)` (for `Gradient`: the tap).
    pub cell: (usize, usize),
    /// The window in the operand that slides, `(row, column, height, width)`
    /// in padded coordinates: the input patch (forward), the shifted input
    /// region and its rows read so far (gradient), the padded D patch (below).
    pub window: (usize, usize, usize, usize),
    /// For `Gradient`: the rows of D read so far in this tap.
    pub rows_done: usize,
}

fn geom(t: &Trace, layer: usize) -> Option<ConvGeometry> {
    t.conv_geometry(layer)
}

/// The `(channels, height, width)` of the map a pooling or flatten layer
/// hands its delta down to.
fn below_shape(t: &Trace, target: Target) -> Option<(usize, usize, usize)> {
    match *t.layers.get(target.layer)?.delta.as_ref()?.shape() {
        [n, c, h, w] if target.sample < n && target.input < c => Some((c, h, w)),
        _ => None,
    }
}

/// How many frames an animation has (0 when the step has not computed
/// what it needs yet, or the layer is not of the kind's sort).
pub fn frames(t: &Trace, kind: Kind, target: Target) -> usize {
    if !t.kinds.get(target.layer).is_some_and(|k| kind.fits(k)) {
        return 0;
    }
    match kind {
        Kind::Route => {
            let Some(d) = t.delta_from_above(target.layer) else {
                return 0;
            };
            return match (below_shape(t, target), d.shape()) {
                (Some(_), &[_, _, ho, wo]) => ho * wo,
                _ => 0,
            };
        }
        Kind::Unflatten => {
            return below_shape(t, target).map_or(0, |(_, h, w)| h * w);
        }
        Kind::Scatter => {
            let ready = t.layers[target.layer].delta.is_some();
            return match (ready, below_shape(t, target)) {
                (true, Some((_, h, w))) => h * w,
                _ => 0,
            };
        }
        Kind::Normalize => {
            let ready = t.layers[target.layer].norm_terms.is_some();
            return match (ready, below_shape(t, target)) {
                (true, Some((_, h, w))) => h * w,
                _ => 0,
            };
        }
        _ => {}
    }
    let Some(g) = geom(t, target.layer) else {
        return 0;
    };
    let ready = match kind {
        Kind::Forward => t.layers[target.layer].out.is_some(),
        Kind::Gradient => t.delta_from_above(target.layer).is_some(),
        Kind::Below => t.layers[target.layer].delta.is_some(),
        _ => false,
    };
    if !ready {
        return 0;
    }
    match kind {
        Kind::Forward => g.ho * g.wo,
        Kind::Gradient => g.k * g.k * g.ho,
        Kind::Below => g.h * g.w,
        _ => 0,
    }
}

/// The input value at padded coordinates (0 in the padding).
fn padded(values: &ndarray::ArrayView2<f32>, pad: usize, r: usize, c: usize) -> f64 {
    let (h, w) = values.dim();
    match (r.checked_sub(pad), c.checked_sub(pad)) {
        (Some(r), Some(c)) if r < h && c < w => f64::from(values[[r, c]]),
        _ => 0.0,
    }
}

/// Frame `index` (clamped to the last) of an animation.
pub fn frame(t: &Trace, kind: Kind, target: Target, index: usize) -> Option<Frame> {
    let count = frames(t, kind, target);
    if count == 0 {
        return None;
    }
    let index = index.min(count - 1);
    match kind {
        Kind::Route => return route(t, target, index, index + 1 == count),
        Kind::Unflatten => return unflatten(t, target, index),
        Kind::Scatter => return scatter(t, target, index),
        Kind::Normalize => return normalize(t, target, index),
        _ => {}
    }
    let g = geom(t, target.layer)?;
    let Target {
        layer,
        sample: n,
        out: o,
        input: c,
    } = target;
    let weight = t.layers[layer].weight.as_ref()?;
    let filter = |u: usize, v: usize| f64::from(weight[[o, c, u, v]]);
    let plane = |tensor: &crate::engine::Tensor, ch: usize| -> Option<ndarray::Array2<f32>> {
        tensor
            .index_axis(ndarray::Axis(0), n)
            .index_axis(ndarray::Axis(0), ch)
            .to_owned()
            .into_dimensionality::<ndarray::Ix2>()
            .ok()
    };
    match kind {
        Kind::Forward => {
            // y[i, j] = b + Σ_c Σ_uv F[o, c, u, v] · x_pad[c, S·i+Dl·u, S·j+Dl·v]; the
            // animation shows the chosen input channel's part (all of it
            // when there is one channel, as in the question's network).
            let x = t.layer_input(layer)?;
            let bias = t.layers[layer].bias.as_ref()?;
            let channels = x.shape()[1];
            let xs: Vec<ndarray::Array2<f32>> = (0..channels)
                .map(|ch| plane(x, ch))
                .collect::<Option<_>>()?;
            let mut sums = vec![None; g.ho * g.wo];
            for (cell, sum) in sums.iter_mut().enumerate().take(index + 1) {
                let (i, j) = (cell / g.wo, cell % g.wo);
                let mut s = f64::from(bias[o]);
                for (ch, xv) in xs.iter().enumerate() {
                    for u in 0..g.k {
                        for v in 0..g.k {
                            let (r, col) = g.padded_cell((i, j), (u, v));
                            s += f64::from(weight[[o, ch, u, v]]) * padded(&xv.view(), g.p, r, col);
                        }
                    }
                }
                *sum = Some(s);
            }
            let (i, j) = (index / g.wo, index % g.wo);
            // (The window read, in the padded input: the filter's span.)
            let (r, col) = g.padded_cell((i, j), (0, 0));
            Some(Frame {
                sums,
                cell: (i, j),
                window: (r, col, g.span(), g.span()),
                rows_done: 0,
            })
        }
        Kind::Gradient => {
            // dF[o, c, u, v] (this sample) = Σ_ij x_pad[c, S·i+Dl·u, S·j+Dl·v] · D[o, i, j].
            let x = plane(t.layer_input(layer)?, c)?;
            let d = plane(t.delta_from_above(layer)?, o)?;
            let (tap, row) = (index / g.ho, index % g.ho);
            let mut sums = vec![None; g.k * g.k];
            for (tp, sum) in sums.iter_mut().enumerate().take(tap + 1) {
                let (u, v) = (tp / g.k, tp % g.k);
                let rows = if tp == tap { row + 1 } else { g.ho };
                let mut s = 0.0;
                for i in 0..rows {
                    for j in 0..g.wo {
                        let (r, col) = g.padded_cell((i, j), (u, v));
                        s += padded(&x.view(), g.p, r, col) * f64::from(d[[i, j]]);
                    }
                }
                *sum = Some(s);
            }
            let (u, v) = (tap / g.k, tap % g.k);
            // (The cells this tap read, in the padded input: S apart.)
            let (r, col) = g.padded_cell((0, 0), (u, v));
            let reach = |n: usize| (n - 1) * g.stride + 1;
            Some(Frame {
                sums,
                cell: (u, v),
                window: (r, col, reach(g.ho), reach(g.wo)),
                rows_done: row + 1,
            })
        }
        Kind::Below => {
            // D_below[c, y, x] (this filter's share) = Σ_uv D_pad[o, y+u, x+v] ·
            // rot180(F)[u, v], D padded by K−1−P (at stride S, D dilated
            // first: only the taps that land on one of its cells count;
            // dilated, the filter's taps are Dl apart).
            let d = plane(t.delta_from_above(layer)?, o)?;
            let mut sums = vec![None; g.h * g.w];
            for (cell, sum) in sums.iter_mut().enumerate().take(index + 1) {
                let (y, xx) = (cell / g.w, cell % g.w);
                let mut s = 0.0;
                for u in 0..g.k {
                    for v in 0..g.k {
                        let tap = g.rot180_tap((u, v));
                        if let Some((i, j)) = g.output_cell((y, xx), tap) {
                            s += f64::from(d[[i, j]]) * filter(tap.0, tap.1);
                        }
                    }
                }
                *sum = Some(s);
            }
            let (y, xx) = (index / g.w, index % g.w);
            Some(Frame {
                sums,
                cell: (y, xx),
                window: (y, xx, g.span(), g.span()),
                rows_done: 0,
            })
        }
        _ => None,
    }
}

/// Pooling's routing: windows `0..=index` (row by row) have handed their
/// delta down. Cells no window covers (an odd edge) get 0 in the last frame.
fn route(t: &Trace, target: Target, index: usize, last: bool) -> Option<Frame> {
    let Target {
        layer,
        sample: n,
        input: c,
        ..
    } = target;
    let (channels, h, w) = below_shape(t, target)?;
    let d = t.delta_from_above(layer)?;
    let &[_, _, ho, wo] = d.shape() else {
        return None;
    };
    let max = match t.kinds[layer] {
        LayerKind::Maxpool { .. } => true,
        LayerKind::Avgpool { .. } => false,
        _ => return None,
    };
    let g = crate::engine::layers::pool::PoolGeometry::of(&t.kinds[layer], &[channels, h, w])?;
    let size = g.size;
    let winners = if max {
        let all = t.layers[layer].winners.as_ref()?;
        let start = (n * channels + c) * ho * wo;
        Some(all.get(start..start + ho * wo)?)
    } else {
        None
    };
    let mut sums = vec![if last { Some(0.0) } else { None }; h * w];
    for window in 0..=index {
        let (i, j) = (window / wo, window % wo);
        let delta = f64::from(d[[n, c, i, j]]);
        let (top, left) = g.cell((i, j), (0, 0));
        for u in top..top + size {
            for v in left..left + size {
                let share = match winners {
                    // The engine's recorded winner gets all of it.
                    Some(winners) => {
                        if winners[window] as usize == u * w + v {
                            delta
                        } else {
                            0.0
                        }
                    }
                    None => delta / (size * size) as f64,
                };
                // Overlapping windows: a cell adds up what each sends.
                let sum = &mut sums[u * w + v];
                *sum = Some(sum.unwrap_or(0.0) + share);
            }
        }
    }
    let (i, j) = (index / wo, index % wo);
    Some(Frame {
        sums,
        cell: (i, j),
        window: (i * g.stride, j * g.stride, size, size),
        rows_done: 0,
    })
}

/// Flatten's delta put back: entries `0..=index` of the channel's stretch
/// of the vector are in their cells of the map.
fn unflatten(t: &Trace, target: Target, index: usize) -> Option<Frame> {
    let (_, h, w) = below_shape(t, target)?;
    let d = t.delta_from_above(target.layer)?;
    let first = target.input * h * w;
    let mut sums = vec![None; h * w];
    for (k, sum) in sums.iter_mut().enumerate().take(index + 1) {
        *sum = Some(f64::from(*d.get([target.sample, first + k])?));
    }
    Some(Frame {
        sums,
        cell: (index / w, index % w),
        // The entry in the vector: row 0, column `index` of the stretch.
        window: (0, index, 1, 1),
        rows_done: 0,
    })
}

/// A transposed conv's delta: input cells `0..=index` of channel `input`
/// (row by row) have their sums `Σ_o Σ_uv F[i, o, u, v] · D[o, S·a+u−P,
/// S·b+v−P]`. The window is the patch of D (padded by P) the cell reads.
fn scatter(t: &Trace, target: Target, index: usize) -> Option<Frame> {
    let Target {
        layer,
        sample: n,
        input: ci,
        ..
    } = target;
    let g = t.transposed_geometry(layer)?;
    let d = t.delta_from_above(layer)?;
    let weight = t.layers[layer].weight.as_ref()?;
    let (h, w) = (g.ho, g.wo);
    let mut sums = vec![None; h * w];
    for (cell, sum) in sums.iter_mut().enumerate().take(index + 1) {
        let (a, b) = (cell / w, cell % w);
        let mut s = 0.0;
        for o in 0..g.cin {
            for u in 0..g.k {
                for v in 0..g.k {
                    if let Some((r, c)) = g.input_cell((a, b), (u, v)) {
                        s += f64::from(weight[[ci, o, u, v]]) * f64::from(d[[n, o, r, c]]);
                    }
                }
            }
        }
        *sum = Some(s);
    }
    let (a, b) = (index / w, index % w);
    let (r, c) = g.padded_cell((a, b), (0, 0));
    Some(Frame {
        sums,
        cell: (a, b),
        window: (r, c, g.k, g.k),
        rows_done: 0,
    })
}

/// Batch norm's delta: cells `0..=index` of channel `input` hold the sum
/// of their three recorded terms.
fn normalize(t: &Trace, target: Target, index: usize) -> Option<Frame> {
    let (_, _, w) = below_shape(t, target)?;
    let terms = t.layers[target.layer].norm_terms.as_ref()?;
    let (n, c) = (target.sample, target.input);
    let plane = |m: &crate::engine::Tensor| {
        m.index_axis(ndarray::Axis(0), n)
            .index_axis(ndarray::Axis(0), c)
            .to_owned()
    };
    let (t1, t2, t3) = (
        plane(&terms.direct),
        plane(&terms.through_mean),
        plane(&terms.through_var),
    );
    let mut sums = vec![None; t1.len()];
    for (cell, sum) in sums.iter_mut().enumerate().take(index + 1) {
        let at = [cell / w, cell % w];
        // The engine's order: the first term, then the mean's, then the
        // variance's, in f32.
        *sum = Some(f64::from(t1[at] + t2[at] + t3[at]));
    }
    Some(Frame {
        sums,
        cell: (index / w, index % w),
        window: (index / w, index % w, 1, 1),
        rows_done: 0,
    })
}

/// An animation being played: which sum, where, the frame shown and how
/// fast it moves on.
#[derive(Debug, Clone, PartialEq)]
pub struct Animation {
    pub kind: Kind,
    pub target: Target,
    /// The frame shown, as a real number so that slow speeds advance
    /// smoothly between whole frames.
    pub at: f64,
    pub playing: bool,
    /// Frames per second.
    pub speed: f64,
    /// The step it belongs to (the identity of the layer's traced output):
    /// a new step ends it.
    pub step: usize,
}

/// The speeds offered, in frames per second: slow, normal, fast.
pub const SPEEDS: [f64; 3] = [4.0, 15.0, 60.0];

/// The identity of a trace's step for layer `i` (its output tensor).
pub fn step_id(t: &Trace, i: usize) -> usize {
    t.layers
        .get(i)
        .and_then(|l| l.out.as_ref())
        .map_or(0, |o| std::sync::Arc::as_ptr(o) as usize)
}

impl Animation {
    /// A new animation of `kind` on `target`, playing from the start.
    pub fn start(t: &Trace, kind: Kind, target: Target, speed: f64) -> Animation {
        Animation {
            kind,
            target,
            at: 0.0,
            playing: true,
            speed,
            step: step_id(t, target.layer),
        }
    }

    pub fn frame_index(&self) -> usize {
        self.at.floor().max(0.0) as usize
    }

    /// Whether the trace still holds this animation's step.
    pub fn belongs_to(&self, t: &Trace) -> bool {
        self.target.layer < t.layers.len() && step_id(t, self.target.layer) == self.step
    }

    /// The frame to draw, if the trace still holds this step.
    pub fn current(&self, t: &Trace) -> Option<Frame> {
        self.belongs_to(t)
            .then(|| frame(t, self.kind, self.target, self.frame_index()))
            .flatten()
    }

    /// Moves on by `seconds` when playing (stopping at the last frame),
    /// and keeps the position within the frames there are.
    pub fn advance(&mut self, t: &Trace, seconds: f64) {
        let count = frames(t, self.kind, self.target);
        let last = count.saturating_sub(1) as f64;
        self.at = self.at.min(last);
        if self.playing {
            self.at = (self.at + seconds * self.speed).min(last);
            if self.frame_index() + 1 >= count {
                self.playing = false;
            }
        }
    }
}
