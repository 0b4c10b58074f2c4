//! Pooling over K×K windows (K = size) whose corners are S apart (S =
//! stride, by default K: side by side; less than K and they overlap).
//! Shapes: x `[N, C, H, W]` → y `[N, C, (H − K)/S + 1, (W − K)/S + 1]`
//! (rows or columns that do not fill a window are dropped, as PyTorch does,
//! and get zero delta).
//!
//! - max: `y = max(window)`; backward routes each delta to the position that
//!   won the max — the first maximal one in row-major order when values tie,
//!   as PyTorch (blank MNIST regions tie all the time) — and 0 elsewhere.
//! - avg: `y = mean(window)`; backward spreads each delta evenly, `D / K²`.
//!
//! Where windows overlap, a cell receives from every window it is in:
//! backward sums what they send (a cell that wins two windows gets both
//! deltas).

use ndarray::{Axis, Ix4};

use crate::engine::parallel::{self, map_ordered, CHUNK};
use crate::engine::Tensor;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolKind {
    Max,
    Avg,
}

/// Where a pooling layer's windows lie on an `H × W` plane: the one
/// geometry the layer, the views, the animation and the checker share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolGeometry {
    pub size: usize,
    pub stride: usize,
    pub h: usize,
    pub w: usize,
    pub ho: usize,
    pub wo: usize,
}

impl PoolGeometry {
    /// Windows along a side: `(side − K)/S + 1`, `None` when none fits.
    pub fn out_side(side: usize, size: usize, stride: usize) -> Option<usize> {
        if size == 0 || stride == 0 {
            return None;
        }
        Some(side.checked_sub(size)? / stride + 1)
    }

    pub fn new((h, w): (usize, usize), size: usize, stride: usize) -> Option<PoolGeometry> {
        Some(PoolGeometry {
            size,
            stride,
            h,
            w,
            ho: Self::out_side(h, size, stride)?,
            wo: Self::out_side(w, size, stride)?,
        })
    }

    /// The geometry of pooling layer `kind` on per-sample inputs `[C, H,
    /// W]` (or batched `[N, C, H, W]`); `None` for other kinds.
    pub fn of(kind: &super::LayerKind, input: &[usize]) -> Option<PoolGeometry> {
        let (size, stride) = kind.pool_window()?;
        let (h, w) = match *input {
            [_, h, w] | [_, _, h, w] => (h, w),
            _ => return None,
        };
        Self::new((h, w), size, stride)
    }

    /// The input cell at `(u, v)` inside window `(i, j)`.
    pub fn cell(&self, (i, j): (usize, usize), (u, v): (usize, usize)) -> (usize, usize) {
        (i * self.stride + u, j * self.stride + v)
    }

    /// Whether some cells are in more than one window.
    pub fn overlapping(&self) -> bool {
        self.stride < self.size
    }

    /// The windows input cell `(y, x)` is in, row by row.
    pub fn windows_of(&self, (y, x): (usize, usize)) -> Vec<(usize, usize)> {
        // Windows i with i·S ≤ y < i·S + K.
        let along = |cell: usize, count: usize| -> std::ops::Range<usize> {
            let first = (cell + 1).saturating_sub(self.size).div_ceil(self.stride);
            let last = (cell / self.stride + 1).min(count);
            first..last.max(first)
        };
        along(y, self.ho)
            .flat_map(|i| along(x, self.wo).map(move |j| (i, j)))
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool {
    pub kind: PoolKind,
    pub size: usize,
    pub stride: usize,
}

impl Pool {
    pub fn new(kind: PoolKind, size: usize, stride: usize) -> Pool {
        Pool { kind, size, stride }
    }

    /// Output rows and columns for an `h × w` plane.
    fn out(&self, h: usize, w: usize) -> (usize, usize) {
        PoolGeometry::new((h, w), self.size, self.stride).map_or((0, 0), |g| (g.ho, g.wo))
    }

    /// Index within `plane` (row-major, width `w`) of the first maximum of
    /// window `(i, j)`.
    #[inline]
    pub fn argmax(&self, plane: &[f32], w: usize, i: usize, j: usize) -> usize {
        let (s, t) = (self.size, self.stride);
        let mut best = (i * t) * w + j * t;
        if s == 2 {
            // The presets' case, unrolled; same row-major order of candidates.
            for at in [best + 1, best + w, best + w + 1] {
                if plane[at] > plane[best] {
                    best = at;
                }
            }
            return best;
        }
        for u in 0..s {
            for v in 0..s {
                let at = (i * t + u) * w + j * t + v;
                if plane[at] > plane[best] {
                    best = at;
                }
            }
        }
        best
    }

    pub fn forward(&self, x: &Tensor) -> Tensor {
        let x = x
            .view()
            .into_dimensionality::<Ix4>()
            .expect("pool input is 4-D");
        let (n, c, h, w) = x.dim();
        let (s, t) = (self.size, self.stride);
        let (ho, wo) = self.out(h, w);
        let mut y = parallel::zeros((n, c, ho, wo));
        let work: Vec<_> = x
            .axis_chunks_iter(Axis(0), CHUNK)
            .zip(y.axis_chunks_iter_mut(Axis(0), CHUNK))
            .collect();
        map_ordered(work, |(xc, mut yc)| {
            let xc = xc.as_standard_layout();
            let xs = xc.as_slice().expect("standard layout");
            let ys = yc.as_slice_mut().expect("standard layout");
            for (plane, out) in xs.chunks_exact(h * w).zip(ys.chunks_exact_mut(ho * wo)) {
                if self.kind == PoolKind::Max && s == 2 && t == 2 {
                    // The presets' case: rows pairwise, so it vectorises.
                    // The window's first maximum in row-major order, as
                    // `argmax` picks it, by comparisons: `f32::max` has no
                    // instruction in wasm (its NaN rule differs) and costs
                    // a call per cell there.
                    let first_max = |m: f32, v: f32| if v > m { v } else { m };
                    for i in 0..ho {
                        let (r0, r1) = (
                            &plane[2 * i * w..][..2 * wo],
                            &plane[(2 * i + 1) * w..][..2 * wo],
                        );
                        for (j, o) in out[i * wo..(i + 1) * wo].iter_mut().enumerate() {
                            let m = first_max(r0[2 * j], r0[2 * j + 1]);
                            *o = first_max(first_max(m, r1[2 * j]), r1[2 * j + 1]);
                        }
                    }
                    continue;
                }
                for i in 0..ho {
                    for j in 0..wo {
                        out[i * wo + j] = match self.kind {
                            PoolKind::Max => plane[self.argmax(plane, w, i, j)],
                            PoolKind::Avg => {
                                let mut sum = 0.0;
                                for u in 0..s {
                                    let row = (i * t + u) * w + j * t;
                                    sum += plane[row..row + s].iter().sum::<f32>();
                                }
                                sum / (s * s) as f32
                            }
                        };
                    }
                }
            }
        });
        y.into_dyn()
    }

    /// For max pooling, the winner of every window: per output cell
    /// `[N, C, Ho, Wo]` (row-major), the index of the input cell (within its
    /// `H×W` plane) that `backward` routes the cell's delta to. The stepper
    /// records it for the views; `None` for average pooling.
    pub fn winners(&self, x: &Tensor) -> Option<Vec<u32>> {
        if self.kind != PoolKind::Max {
            return None;
        }
        let &[n, c, h, w] = x.shape() else {
            return None;
        };
        let (ho, wo) = self.out(h, w);
        let x = x.as_standard_layout();
        let xs = x.as_slice()?;
        let mut out = Vec::with_capacity(n * c * ho * wo);
        for plane in xs.chunks_exact(h * w) {
            for i in 0..ho {
                for j in 0..wo {
                    out.push(self.argmax(plane, w, i, j) as u32);
                }
            }
        }
        Some(out)
    }

    /// `y` is the forward's output: at 2x2 windows side by side (the
    /// presets') a window's winner is the first of its cells equal to it,
    /// found without comparing the window again.
    pub fn backward(&self, x: &Tensor, y: &Tensor, d_out: &Tensor) -> Tensor {
        let x = x
            .view()
            .into_dimensionality::<Ix4>()
            .expect("pool input is 4-D");
        let d_out = d_out
            .view()
            .into_dimensionality::<Ix4>()
            .expect("pool delta is 4-D");
        let (n, c, h, w) = x.dim();
        let (_, _, ho, wo) = d_out.dim();
        let (s, t) = (self.size, self.stride);
        let y = y
            .view()
            .into_dimensionality::<Ix4>()
            .expect("pool output is 4-D");
        let mut d_in = parallel::zeros((n, c, h, w));
        let work: Vec<_> = x
            .axis_chunks_iter(Axis(0), CHUNK)
            .zip(d_out.axis_chunks_iter(Axis(0), CHUNK))
            .zip(y.axis_chunks_iter(Axis(0), CHUNK))
            .zip(d_in.axis_chunks_iter_mut(Axis(0), CHUNK))
            .collect();
        map_ordered(work, |(((xc, dc), yc), mut dic)| {
            let xc = xc.as_standard_layout();
            let dc = dc.as_standard_layout();
            let yc = yc.as_standard_layout();
            let xs = xc.as_slice().expect("standard layout");
            let ds = dc.as_slice().expect("standard layout");
            let ys = yc.as_slice().expect("standard layout");
            let dis = dic.as_slice_mut().expect("standard layout");
            let planes = xs
                .chunks_exact(h * w)
                .zip(ds.chunks_exact(ho * wo))
                .zip(ys.chunks_exact(ho * wo))
                .zip(dis.chunks_exact_mut(h * w));
            let mut won = vec![0u8; ho * wo];
            for (((plane, d), maxima), d_plane) in planes {
                if self.kind == PoolKind::Max && s == 2 && t == 2 {
                    backward_2x2(plane, maxima, d, d_plane, (w, wo), &mut won);
                    continue;
                }
                for i in 0..ho {
                    for j in 0..wo {
                        let g = d[i * wo + j];
                        match self.kind {
                            PoolKind::Max => d_plane[self.argmax(plane, w, i, j)] += g,
                            PoolKind::Avg => {
                                let share = g / (s * s) as f32;
                                for u in 0..s {
                                    let row = (i * t + u) * w + j * t;
                                    d_plane[row..row + s].iter_mut().for_each(|v| *v += share);
                                }
                            }
                        }
                    }
                }
            }
        });
        d_in.into_dyn()
    }
}

/// Max pooling's backward at 2x2 windows side by side (the presets'), one
/// `H×W` plane: each window's delta to the first of its cells equal to the
/// window's maximum `maxima` in row-major order — the one `argmax` picks
/// (the top left if none is, as with a NaN) — found without comparing the
/// window again, and 0 to the other three. Every cell of a window is
/// written, so `d_plane` needs no zeroing first but for rows and columns no
/// window covers. `won` holds the plane's windows' winners (0..=3).
///
/// No branches: which cell won is data a branch predictor cannot guess,
/// and the bits are compared, not the floats, whose `==` branches on NaN.
/// The bits find the same cell: the maximum is a copy of its window's first
/// maximal cell, and no cell before that one compares equal to it (or
/// `argmax` would have picked it). The plane's loads come before its
/// stores: interleaved, at batch 64, this loop ran 4.5x slower (1.9 → 8.7
/// ns a window; the planes no longer fit the cache, and each load waited
/// on the stores before it); a row's loads before its stores left lenet's
/// 14-wide planes at twice the time per window of its 28-wide ones.
fn backward_2x2(
    plane: &[f32],
    maxima: &[f32],
    d: &[f32],
    d_plane: &mut [f32],
    (w, wo): (usize, usize),
    won: &mut [u8],
) {
    for ((x, m), codes) in plane
        .chunks_exact(2 * w)
        .zip(maxima.chunks_exact(wo))
        .zip(won.chunks_exact_mut(wo))
    {
        let (x0, x1) = x.split_at(w);
        for (((top, bottom), &m), code) in
            x0.chunks_exact(2).zip(x1.chunks_exact(2)).zip(m).zip(codes)
        {
            let is_max = |v: f32| (v.to_bits() == m.to_bits()) as u8;
            let (e1, e2, e3) = (is_max(top[1]), is_max(bottom[0]), is_max(bottom[1]));
            let first = is_max(top[0]) | (1 ^ (e1 | e2 | e3));
            // The first cell to win in row-major order: 0 (top left) to 3.
            *code = (1 ^ first) * (1 + (1 ^ e1) * (1 + (1 ^ e2)));
        }
    }
    for ((o, g), codes) in d_plane
        .chunks_exact_mut(2 * w)
        .zip(d.chunks_exact(wo))
        .zip(won.chunks_exact(wo))
    {
        let (o0, o1) = o.split_at_mut(w);
        for (((o_top, o_bottom), &code), &g) in o0
            .chunks_exact_mut(2)
            .zip(o1.chunks_exact_mut(2))
            .zip(codes)
            .zip(g)
        {
            let pick = |k: u8| if code == k { g } else { 0.0 };
            o_top[0] = pick(0);
            o_top[1] = pick(1);
            o_bottom[0] = pick(2);
            o_bottom[1] = pick(3);
        }
    }
}
