//! Transposed convolution, as `torch.nn.ConvTranspose2d`: the backward pass
//! of a convolution, run forward.
//!
//! Shapes: x `[N, Cin, H, W]`, weight F `[Cin, Cout, K, K]` (PyTorch's
//! layout for this layer: input channels first), bias `[Cout]`, y
//! `[N, Cout, Ho, Wo]` with `Ho = (H − 1)·S − 2P + K + OP` (OP =
//! `output_padding`, less than S: which of the sizes a stride-S conv maps
//! to H this layer gives back).
//!
//! Take the conv with stride S and padding P that maps a `[Cout, Ho, Wo]`
//! input to `[Cin, H, W]` with F as its filter (`[Cin, Cout, K, K]` is that
//! conv's `[out, in, K, K]`): this layer's forward is that conv's backward
//! (every input cell scatters `x · F` onto the window the conv reads), and
//! its backward is that conv's forward and weight gradient:
//!
//! - `y[n,o,S·a+u−P,S·b+v−P] += x[n,i,a,b] · F[i,o,u,v]`, plus `b[o]`;
//! - `dx[n,i,a,b] = Σ_o Σ_u Σ_v F[i,o,u,v] · D[n,o,S·a+u−P,S·b+v−P]`
//!   (the conv's forward on D);
//! - `dF[i,o,u,v] = Σ_n Σ_a Σ_b x[n,i,a,b] · D[n,o,S·a+u−P,S·b+v−P]`,
//!   `dB[o] = Σ D[n,o]`.
//!
//! The loops are those formulas, one sample at a time: the layer is for
//! small up-sampling networks, where they are fast enough.

use ndarray::{Axis, Ix4};

use super::conv::ConvGeometry;
use super::vector::{add_assign, sum};
use super::Param;
use crate::engine::parallel::{self, map_ordered, CHUNK};
use crate::engine::Tensor;

#[derive(Debug, Clone)]
pub struct ConvTranspose2d {
    pub in_channels: usize,
    pub out_channels: usize,
    pub kernel: usize,
    pub padding: usize,
    pub stride: usize,
    pub output_padding: usize,
    /// F `[Cin, Cout, K, K]`
    pub weight: Param,
    /// `[Cout]`
    pub bias: Param,
}

impl ConvTranspose2d {
    pub fn zeros(
        (in_channels, out_channels): (usize, usize),
        kernel: usize,
        padding: usize,
        (stride, output_padding): (usize, usize),
    ) -> ConvTranspose2d {
        ConvTranspose2d {
            in_channels,
            out_channels,
            kernel,
            padding,
            stride,
            output_padding,
            weight: Param::new(Tensor::zeros(vec![
                in_channels,
                out_channels,
                kernel,
                kernel,
            ])),
            bias: Param::new(Tensor::zeros(vec![out_channels])),
        }
    }

    /// The geometry of the conv whose backward this layer is
    /// ([`ConvGeometry::transposed`]).
    fn geom(&self, x: &Tensor) -> ConvGeometry {
        let kind = super::LayerKind::Convtranspose {
            in_channels: self.in_channels,
            out_channels: self.out_channels,
            kernel: self.kernel,
            padding: self.padding,
            stride: self.stride,
            output_padding: self.output_padding,
        };
        ConvGeometry::transposed(&kind, &x.shape()[1..])
            .expect("the network's plan checked the transposed conv's sizes")
    }

    pub fn forward(&self, x: &Tensor) -> Tensor {
        let g = self.geom(x);
        let x = x.view().into_dimensionality::<Ix4>().expect("4-D input");
        let x = x.as_standard_layout();
        let n = x.len_of(Axis(0));
        let w = self.weight.value.as_slice().expect("contiguous weight");
        let b = self.bias.value.as_slice().expect("contiguous bias");
        let mut y = parallel::zeros((n, g.cin, g.h, g.w));
        let work: Vec<_> = x
            .axis_chunks_iter(Axis(0), CHUNK)
            .zip(y.axis_chunks_iter_mut(Axis(0), CHUNK))
            .collect();
        map_ordered(work, |(xc, mut yc)| {
            let xs = xc.as_slice().expect("standard layout");
            let ys = yc.as_slice_mut().expect("standard layout");
            let (x_len, y_len) = (g.cout * g.ho * g.wo, g.cin * g.h * g.w);
            for (x1, y1) in xs.chunks_exact(x_len).zip(ys.chunks_exact_mut(y_len)) {
                for (o, plane) in y1.chunks_exact_mut(g.h * g.w).enumerate() {
                    plane.fill(b[o]);
                }
                for_each_run(&g, |i, o, (u, v), at, to| {
                    let f = w[weight_at(&g, i, o, u, v)];
                    for (k, &xv) in x1[at.clone()].iter().enumerate() {
                        y1[to + k * g.stride] += xv * f;
                    }
                });
            }
        });
        y.into_dyn()
    }

    /// Adds dF and dB into the gradients and returns dx when asked.
    pub fn backward(&mut self, x: &Tensor, d_out: &Tensor, need_d_in: bool) -> Option<Tensor> {
        let g = self.geom(x);
        let x = x.view().into_dimensionality::<Ix4>().expect("4-D input");
        let d = d_out
            .view()
            .into_dimensionality::<Ix4>()
            .expect("4-D delta");
        let (x, d) = (x.as_standard_layout(), d.as_standard_layout());
        let n = x.len_of(Axis(0));
        let w = self.weight.value.as_slice().expect("contiguous weight");
        let mut d_in = parallel::zeros((n, g.cout, g.ho, g.wo));
        let work: Vec<_> = x
            .axis_chunks_iter(Axis(0), CHUNK)
            .zip(d.axis_chunks_iter(Axis(0), CHUNK))
            .zip(d_in.axis_chunks_iter_mut(Axis(0), CHUNK))
            .collect();
        let partials = map_ordered(work, |((xc, dc), mut dic)| {
            let xs = xc.as_slice().expect("standard layout");
            let ds = dc.as_slice().expect("standard layout");
            let dis = dic.as_slice_mut().expect("standard layout");
            let mut d_w = vec![0.0f32; w.len()];
            let mut d_b = vec![0.0f32; g.cin];
            let (x_len, y_len) = (g.cout * g.ho * g.wo, g.cin * g.h * g.w);
            let samples = xs
                .chunks_exact(x_len)
                .zip(ds.chunks_exact(y_len))
                .zip(dis.chunks_exact_mut(x_len));
            for ((x1, d1), di1) in samples {
                for (o, plane) in d1.chunks_exact(g.h * g.w).enumerate() {
                    d_b[o] += sum(plane);
                }
                for_each_run(&g, |i, o, (u, v), at, to| {
                    let t = weight_at(&g, i, o, u, v);
                    let mut dw = 0.0;
                    for (k, (&xv, dv)) in x1[at.clone()].iter().zip(&mut di1[at]).enumerate() {
                        let d = d1[to + k * g.stride];
                        dw += xv * d;
                        *dv += w[t] * d;
                    }
                    d_w[t] += dw;
                });
            }
            (d_w, d_b)
        });
        let gw = self.weight.grad.as_slice_mut().expect("contiguous grad");
        let gb = self.bias.grad.as_slice_mut().expect("contiguous grad");
        for (d_w, d_b) in partials {
            add_assign(gw, &d_w);
            add_assign(gb, &d_b);
        }
        need_d_in.then(|| d_in.into_dyn())
    }
}

/// This layer's output side for input side `side`:
/// `(side − 1)·S − 2P + K + OP`, or `None` when that is not positive or a
/// size is absurd.
pub fn transposed_side(side: usize, k: usize, p: usize, stride: usize, op: usize) -> Option<usize> {
    side.checked_sub(1)?
        .checked_mul(stride)?
        .checked_add(k)?
        .checked_add(op)?
        .checked_sub(p.checked_mul(2)?)
        .filter(|&s| s > 0)
}

/// Index of `F[i, o, u, v]` in the `[Cin, Cout, K, K]` weight, where (in
/// the conv `g` whose backward the layer is) `i` is an output channel and
/// `o` an input channel.
fn weight_at(g: &ConvGeometry, i: usize, o: usize, u: usize, v: usize) -> usize {
    ((i * g.cin + o) * g.k + u) * g.k + v
}

/// Calls `f(i, o, tap, at, to)` for every run of linked cells: `at`, the
/// cells `b` of one row of layer-input channel i (within one sample
/// `[Cin, H, W]`) whose output cell `(S·a + u − P, S·b + v − P)` of channel
/// o falls inside the output, and `to`, the first of those output cells
/// (within `[Cout, Ho, Wo]`; the next ones `S` apart). One tap of one row
/// at a time, so the inner loops run over plain slices.
fn for_each_run(
    g: &ConvGeometry,
    mut f: impl FnMut(usize, usize, (usize, usize), std::ops::Range<usize>, usize),
) {
    // In `g`'s terms: the layer's input is g's output (g.cout channels of
    // g.ho × g.wo), the layer's output g's input (g.cin of g.h × g.w).
    let (s, p) = (g.stride, g.p);
    // The input columns b whose output column S·b + v − P is in 0..W.
    let columns = |v: usize| {
        let lo = p.saturating_sub(v).div_ceil(s);
        let hi = (g.w + p).saturating_sub(v).div_ceil(s).min(g.wo);
        lo..hi.max(lo)
    };
    for i in 0..g.cout {
        for o in 0..g.cin {
            for u in 0..g.k {
                for v in 0..g.k {
                    let cols = columns(v);
                    if cols.is_empty() {
                        continue;
                    }
                    for a in 0..g.ho {
                        let Some(r) = (s * a + u).checked_sub(p).filter(|&r| r < g.h) else {
                            continue;
                        };
                        let c0 = s * cols.start + v - p;
                        let at = (i * g.ho + a) * g.wo;
                        let to = (o * g.h + r) * g.w + c0;
                        f(i, o, (u, v), at + cols.start..at + cols.end, to);
                    }
                }
            }
        }
    }
}
