//! Pooling over non-overlapping S×S windows (S = size, stride S).
//! Shapes: x `[N, C, H, W]` → y `[N, C, H/S, W/S]` (rows or columns that do
//! not fill a window are dropped, as PyTorch does, and get zero delta).
//!
//! - max: `y = max(window)`; backward routes each delta to the position that
//!   won the max — the first maximal one in row-major order when values tie,
//!   as PyTorch (blank MNIST regions tie all the time) — and 0 elsewhere.
//! - avg: `y = mean(window)`; backward spreads each delta evenly, `D / S²`.

use ndarray::{Array4, Axis, Ix4};

use crate::engine::parallel::{map_ordered, CHUNK};
use crate::engine::Tensor;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolKind {
    Max,
    Avg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool {
    pub kind: PoolKind,
    pub size: usize,
}

impl Pool {
    pub fn new(kind: PoolKind, size: usize) -> Pool {
        Pool { kind, size }
    }

    /// Index within `plane` (row-major, width `w`) of the first maximum of
    /// the window whose top-left output cell is `(i, j)`.
    #[inline]
    pub fn argmax(&self, plane: &[f32], w: usize, i: usize, j: usize) -> usize {
        let s = self.size;
        let mut best = (i * s) * w + j * s;
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
                let at = (i * s + u) * w + j * s + v;
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
        let s = self.size;
        let (ho, wo) = (h / s, w / s);
        let mut y = Array4::<f32>::zeros((n, c, ho, wo));
        let work: Vec<_> = x
            .axis_chunks_iter(Axis(0), CHUNK)
            .zip(y.axis_chunks_iter_mut(Axis(0), CHUNK))
            .collect();
        map_ordered(work, |(xc, mut yc)| {
            let xc = xc.as_standard_layout();
            let xs = xc.as_slice().expect("standard layout");
            let ys = yc.as_slice_mut().expect("standard layout");
            for (plane, out) in xs.chunks_exact(h * w).zip(ys.chunks_exact_mut(ho * wo)) {
                if self.kind == PoolKind::Max && s == 2 {
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
                                    let row = (i * s + u) * w + j * s;
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
        let (ho, wo) = (h / self.size, w / self.size);
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

    pub fn backward(&self, x: &Tensor, d_out: &Tensor) -> Tensor {
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
        let s = self.size;
        let mut d_in = Array4::<f32>::zeros((n, c, h, w));
        let work: Vec<_> = x
            .axis_chunks_iter(Axis(0), CHUNK)
            .zip(d_out.axis_chunks_iter(Axis(0), CHUNK))
            .zip(d_in.axis_chunks_iter_mut(Axis(0), CHUNK))
            .collect();
        map_ordered(work, |((xc, dc), mut dic)| {
            let xc = xc.as_standard_layout();
            let dc = dc.as_standard_layout();
            let xs = xc.as_slice().expect("standard layout");
            let ds = dc.as_slice().expect("standard layout");
            let dis = dic.as_slice_mut().expect("standard layout");
            let planes = xs
                .chunks_exact(h * w)
                .zip(ds.chunks_exact(ho * wo))
                .zip(dis.chunks_exact_mut(h * w));
            for ((plane, d), d_plane) in planes {
                for i in 0..ho {
                    for j in 0..wo {
                        let g = d[i * wo + j];
                        match self.kind {
                            PoolKind::Max => d_plane[self.argmax(plane, w, i, j)] += g,
                            PoolKind::Avg => {
                                let share = g / (s * s) as f32;
                                for u in 0..s {
                                    let row = (i * s + u) * w + j * s;
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
