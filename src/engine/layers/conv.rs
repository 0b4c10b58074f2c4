//! 2-D convolution (cross-correlation, as every framework computes it), with
//! stride S and dilation Dl as `torch.nn.Conv2d`.
//!
//! Shapes: x `[N, Cin, H, W]`, weight F `[Cout, Cin, K, K]`, bias `[Cout]`,
//! y `[N, Cout, Ho, Wo]` with `Ho = ⌊(H + 2P − Dl·(K − 1) − 1) / S⌋ + 1`
//! (P = padding), `H + 2P − K + 1` for `S = Dl = 1`.
//!
//! Forward:  `y[n,o,i,j] = b[o] + Σ_c Σ_u Σ_v F[o,c,u,v] · x_pad[n,c,S·i+Dl·u,S·j+Dl·v]`
//!
//! Backward, given `D = dL/dy` (the delta from the layer above), exactly the
//! seed's answer (for `S = Dl = 1`) and its two generalisations:
//! - `dF[o,c,u,v] = Σ_n Σ_i Σ_j x_pad[n,c,S·i+Dl·u,S·j+Dl·v] · D[n,o,i,j]`
//!   — the layer's input correlated with the delta (its taps S apart, the
//!   filter's Dl apart), summed over the batch;
//! - `dB[o] = Σ_n Σ_i Σ_j D[n,o,i,j]`;
//! - `D_below[n,c] = Σ_o full_conv(dilate_S(D[n,o]), rot180(dilate_Dl(F[o,c])))`,
//!   cropped by P — the delta, with S − 1 zeros inserted between its cells,
//!   fully convolved with the filter turned by 180° (its holes Dl − 1 wide):
//!   the delta handed to the layer below (any activation derivative is
//!   applied by that activation layer, which is its own entry).
//!
//! `forward_naive` / `backward_naive` compute these formulas literally and are
//! the oracle the fast kernels are tested against. The fast kernels work on
//! one zero-padded sample at a time: at stride 1 directly, reading each
//! filter tap's run of the input in place (`direct.rs`); at larger strides
//! by im2col + GEMM.

use ndarray::linalg::general_mat_mul;
use ndarray::{s, Array1, Array4, ArrayView2, ArrayViewMut2, Axis, Ix1, Ix4};

use super::direct;
#[path = "conv_axpy.rs"]
mod axpy;
use super::vector::{add_assign, sum};
use super::Param;
use crate::engine::parallel::{self, map_ordered, CHUNK};
use crate::engine::Tensor;

#[derive(Debug, Clone)]
pub struct Conv2d {
    pub in_channels: usize,
    pub out_channels: usize,
    pub kernel: usize,
    pub padding: usize,
    /// How far apart the output cells' windows are, and the filter's taps.
    pub stride: usize,
    pub dilation: usize,
    /// F `[Cout, Cin, K, K]`
    pub weight: Param,
    /// `[Cout]`
    pub bias: Param,
}

/// Which kernels a conv layer runs (see `Conv2d::path`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    /// Stride 1: `direct.rs`, on each padded sample in place.
    Direct,
    /// Stride 1, few channels, in the browser: one AXPY per tap.
    Axpy,
    /// im2col + GEMM.
    Gemm,
}

/// One convolution's geometry: the sizes and the tap ↔ cell maps that the
/// layer, the views, the animation, the explanation, the gradient check and
/// the checker all need, in one place (nothing else writes the output-size
/// rule).
///
/// `Ho = ⌊(H + 2P − D·(K − 1) − 1) / S⌋ + 1` (as PyTorch), which for
/// `S = D = 1` is `H + 2P − K + 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvGeometry {
    pub cin: usize,
    pub cout: usize,
    /// Kernel side K, padding P, stride S, dilation D.
    pub k: usize,
    pub p: usize,
    pub stride: usize,
    pub dilation: usize,
    /// Input plane `H × W` and output plane `Ho × Wo`.
    pub h: usize,
    pub w: usize,
    pub ho: usize,
    pub wo: usize,
}

impl ConvGeometry {
    /// The output side for an input side, or `None` when the (dilated)
    /// kernel does not fit the padded input, or a size is absurd (checked
    /// arithmetic throughout: the sizes may come from a file).
    pub fn out_side(
        side: usize,
        k: usize,
        p: usize,
        stride: usize,
        dilation: usize,
    ) -> Option<usize> {
        if k == 0 || stride == 0 || dilation == 0 {
            return None;
        }
        let span = dilation.checked_mul(k - 1)?.checked_add(1)?;
        let room = side.checked_add(p.checked_mul(2)?)?.checked_sub(span)?;
        Some(room / stride + 1)
    }

    /// The geometry of a convolution of `[cin, h, w]` inputs.
    pub fn new(
        (cin, h, w): (usize, usize, usize),
        cout: usize,
        k: usize,
        p: usize,
        (stride, dilation): (usize, usize),
    ) -> Option<ConvGeometry> {
        Some(ConvGeometry {
            cin,
            cout,
            k,
            p,
            stride,
            dilation,
            h,
            w,
            ho: Self::out_side(h, k, p, stride, dilation)?,
            wo: Self::out_side(w, k, p, stride, dilation)?,
        })
    }

    /// The geometry of conv layer `kind` on per-sample inputs of `input`
    /// (`[C, H, W]`); `None` for other layer kinds or shapes that do not fit.
    pub fn of(kind: &super::LayerKind, input: &[usize]) -> Option<ConvGeometry> {
        let super::LayerKind::Conv {
            in_channels,
            out_channels,
            kernel,
            padding,
            stride,
            dilation,
        } = *kind
        else {
            return None;
        };
        let &[c, h, w] = input else { return None };
        (c == in_channels).then_some(())?;
        Self::new((c, h, w), out_channels, kernel, padding, (stride, dilation))
    }

    /// For transposed conv layer `kind` on per-sample inputs `input`, the
    /// geometry of the conv whose backward it is: that conv's input is the
    /// layer's output (`cin`, `h`, `w`), its output the layer's input
    /// (`cout`, `ho`, `wo`), its filter the layer's `[in, out, K, K]`.
    pub fn transposed(kind: &super::LayerKind, input: &[usize]) -> Option<ConvGeometry> {
        let super::LayerKind::Convtranspose {
            in_channels,
            out_channels,
            kernel,
            padding,
            stride,
            output_padding,
        } = *kind
        else {
            return None;
        };
        let &[c, h, w] = input else { return None };
        (c == in_channels).then_some(())?;
        let side =
            |s| super::convtranspose::transposed_side(s, kernel, padding, stride, output_padding);
        let g = Self::new(
            (out_channels, side(h)?, side(w)?),
            in_channels,
            kernel,
            padding,
            (stride, 1),
        )?;
        ((g.ho, g.wo) == (h, w)).then_some(g)
    }

    /// The padded input plane, `H + 2P` by `W + 2P`.
    pub fn padded(&self) -> (usize, usize) {
        (self.hp(), self.wp())
    }

    /// The side of the region one output cell reads: `D·(K − 1) + 1`.
    pub fn span(&self) -> usize {
        self.dilation * (self.k - 1) + 1
    }

    /// The zero padding around D for the full convolution that hands the
    /// delta down, cropped by the layer's own padding: `D·(K − 1) − P`.
    pub fn full_pad(&self) -> usize {
        (self.span() - 1).saturating_sub(self.p)
    }

    /// The padding after D (bottom and right) for that full convolution:
    /// `H + P − S·(Ho − 1) − 1`, more than [`ConvGeometry::full_pad`] when
    /// the stride's last step left some rows of the padded input unread
    /// (PyTorch's `output_padding`). Rows; square maps have the same
    /// columns.
    pub fn full_pad_end(&self) -> usize {
        (self.h + self.p).saturating_sub(self.stride * (self.ho - 1) + 1)
    }

    /// The cell of the padded input that tap `(u, v)` of the filter reads
    /// for output cell `(i, j)`.
    pub fn padded_cell(&self, (i, j): (usize, usize), (u, v): (usize, usize)) -> (usize, usize) {
        (
            i * self.stride + u * self.dilation,
            j * self.stride + v * self.dilation,
        )
    }

    /// The same cell in the unpadded input, `None` when it is padding.
    pub fn input_cell(&self, out: (usize, usize), tap: (usize, usize)) -> Option<(usize, usize)> {
        let (r, c) = self.padded_cell(out, tap);
        let (r, c) = (r.checked_sub(self.p)?, c.checked_sub(self.p)?);
        (r < self.h && c < self.w).then_some((r, c))
    }

    /// The output cell that read input cell `(y, x)` through tap `(u, v)`,
    /// if any (the inverse of [`ConvGeometry::input_cell`]).
    pub fn output_cell(
        &self,
        (y, x): (usize, usize),
        (u, v): (usize, usize),
    ) -> Option<(usize, usize)> {
        let at = |cell: usize, tap: usize| {
            let padded = (cell + self.p).checked_sub(tap * self.dilation)?;
            (padded % self.stride == 0).then_some(padded / self.stride)
        };
        let (i, j) = (at(y, u)?, at(x, v)?);
        (i < self.ho && j < self.wo).then_some((i, j))
    }

    /// The tap that connects output cell `out` and input cell `input` (the
    /// entry of the layer's dense matrix W there), if any.
    pub fn tap_between(
        &self,
        (i, j): (usize, usize),
        (y, x): (usize, usize),
    ) -> Option<(usize, usize)> {
        let at = |out: usize, cell: usize| {
            let reach = (cell + self.p).checked_sub(out * self.stride)?;
            (reach % self.dilation == 0).then_some(reach / self.dilation)
        };
        let (u, v) = (at(i, y)?, at(j, x)?);
        (u < self.k && v < self.k).then_some((u, v))
    }

    /// The tap of the filter turned by 180° that sits at `(u, v)`.
    pub fn rot180_tap(&self, (u, v): (usize, usize)) -> (usize, usize) {
        (self.k - 1 - u, self.k - 1 - v)
    }

    /// The padded input's height and width.
    fn hp(&self) -> usize {
        self.h + 2 * self.p
    }

    fn wp(&self) -> usize {
        self.w + 2 * self.p
    }

    /// Rows of the im2col matrix: one per filter tap `(c, u, v)`.
    fn taps(&self) -> usize {
        self.cin * self.k * self.k
    }

    /// The delta padded by the filter's reach `R = D·(K − 1)` on every
    /// side: its correlation with the filter turned by 180° is the full
    /// convolution that hands the delta down. Laid out `(rows, row gap)`:
    /// rows `Wo + R` apart, each starting with its `R` zeros on the left,
    /// which are also the row above's zeros on the right (a run past a
    /// row's end reads them), and one more row of zeros below, where the
    /// last row's right side runs. `R` fewer columns to compute per row
    /// than with both sides' zeros in every row (lenet's second conv's
    /// D_below: 224 values a map instead of 256).
    fn full_delta(&self) -> (usize, usize) {
        let reach = self.span() - 1;
        (self.ho + 2 * reach + 1, self.wo + reach)
    }

    /// Values in one padded sample `[Cin, Hp, Wp]`.
    fn padded_len(&self) -> usize {
        self.cin * self.hp() * self.wp()
    }

    /// Values in one output map `[Ho, Wo]`.
    fn plane(&self) -> usize {
        self.ho * self.wo
    }

    /// Length of a "wide" run: output rows laid out `Wp` apart, so that one
    /// filter tap reads one contiguous run of the padded input. The last
    /// `Wp − Wo` values of each row are junk and are never copied out.
    fn wide_len(&self) -> usize {
        (self.ho - 1) * self.wp() + self.wo
    }
}

impl Conv2d {
    pub fn zeros(in_channels: usize, out_channels: usize, kernel: usize, padding: usize) -> Conv2d {
        Conv2d {
            in_channels,
            out_channels,
            kernel,
            padding,
            stride: 1,
            dilation: 1,
            weight: Param::new(Tensor::zeros(vec![
                out_channels,
                in_channels,
                kernel,
                kernel,
            ])),
            bias: Param::new(Tensor::zeros(vec![out_channels])),
        }
    }

    /// The same layer with this stride and dilation.
    pub fn strided(mut self, stride: usize, dilation: usize) -> Conv2d {
        self.stride = stride;
        self.dilation = dilation;
        self
    }

    fn geom(&self, x: &Tensor) -> ConvGeometry {
        let (h, w) = (x.shape()[2], x.shape()[3]);
        assert_eq!(x.shape()[1], self.in_channels, "conv input channels");
        ConvGeometry::new(
            (self.in_channels, h, w),
            self.out_channels,
            self.kernel,
            self.padding,
            (self.stride, self.dilation),
        )
        .expect("the network's plan checked that the kernel fits")
    }

    /// How this layer's products are computed. At stride 1 a filter tap
    /// reads one contiguous run of the padded input for the whole map, so
    /// the direct kernels need no im2col copy and no GEMM packing (lenet's
    /// second conv at batch 64, forward 650 → 540 µs, backward 1.60 → 1.25
    /// ms, `cargo bench --bench kernels`; 389 µs and 924 µs since with fused
    /// multiply-adds). A larger stride reads every S-th value, which im2col
    /// gathers for GEMM.
    ///
    /// The browser differs (`web/test/train-profile.mjs`): there the direct
    /// kernels trained lenet slower than matrixmultiply's simd128 GEMM
    /// (4.1k–5.0k samples/s against 6.6k–6.9k), and few channel pairs,
    /// where GEMM's dimensions are tiny, run fastest as one AXPY per tap
    /// (`seed` 87k against 68k by the direct kernels, 33k by GEMM).
    fn path(&self) -> Path {
        let few = self.out_channels * self.in_channels <= 8;
        match (self.stride == 1, cfg!(target_arch = "wasm32")) {
            (true, false) => Path::Direct,
            (true, true) if few => Path::Axpy,
            _ => Path::Gemm,
        }
    }

    /// `y = F ⋆ x + b` for the batch.
    pub fn forward(&self, x: &Tensor) -> Tensor {
        let g = self.geom(x);
        let n = x.shape()[0];
        let x = x
            .view()
            .into_dimensionality::<Ix4>()
            .expect("conv input is 4-D");
        let w = self.weight.value.as_slice().expect("contiguous weight");
        let b = self.bias.value.as_slice().expect("contiguous bias");
        let x = x.as_standard_layout();
        let mut y = parallel::zeros((n, g.cout, g.ho, g.wo));
        let path = self.path();
        let work: Vec<_> = x
            .axis_chunks_iter(Axis(0), CHUNK)
            .zip(y.axis_chunks_iter_mut(Axis(0), CHUNK))
            .collect();
        map_ordered(work, |(xc, mut yc)| {
            let xs = xc.as_slice().expect("standard layout");
            let ys = yc.as_slice_mut().expect("standard layout");
            let m = xc.len_of(Axis(0));
            match path {
                // (Working out the taps per chunk costs nothing beside it.)
                Path::Direct => forward_direct(&g, &Taps::input(&g), xs, w, b, ys),
                Path::Axpy => {
                    let mut wide = vec![0.0; g.ho * g.wp()];
                    for (pad, out) in pad_chunk(&g, m, xs)
                        .chunks_exact(g.padded_len())
                        .zip(ys.chunks_exact_mut(g.cout * g.plane()))
                    {
                        axpy::forward(&g, pad, w, b, out, &mut wide);
                    }
                }
                Path::Gemm => forward_gemm(&g, m, &pad_chunk(&g, m, xs), w, b, ys),
            }
        });
        y.into_dyn()
    }

    /// Adds `dF` and `dB` into the parameter gradients and returns the delta
    /// for the layer below when asked.
    pub fn backward(&mut self, x: &Tensor, d_out: &Tensor, need_d_in: bool) -> Option<Tensor> {
        let g = self.geom(x);
        let n = x.shape()[0];
        let x = x
            .view()
            .into_dimensionality::<Ix4>()
            .expect("conv input is 4-D");
        let d_out = d_out
            .view()
            .into_dimensionality::<Ix4>()
            .expect("conv delta is 4-D");
        let (x, d_out) = (x.as_standard_layout(), d_out.as_standard_layout());
        let w = self.weight.value.as_slice().expect("contiguous weight");
        let mut d_in = need_d_in.then(|| parallel::zeros((n, g.cin, g.h, g.w)));
        let path = self.path();

        // One work item per chunk of samples, each with its own partial dF/dB.
        let d_in_chunks: Vec<Option<_>> = match d_in.as_mut() {
            Some(d) => d.axis_chunks_iter_mut(Axis(0), CHUNK).map(Some).collect(),
            None => (0..n.div_ceil(CHUNK)).map(|_| None).collect(),
        };
        let work: Vec<_> = x
            .axis_chunks_iter(Axis(0), CHUNK)
            .zip(d_out.axis_chunks_iter(Axis(0), CHUNK))
            .zip(d_in_chunks)
            .collect();
        let partials = map_ordered(work, |((xc, dc), mut dic)| {
            let m = xc.len_of(Axis(0));
            let xs = xc.as_slice().expect("standard layout");
            let ds = dc.as_slice().expect("standard layout");
            let mut d_w = vec![0.0f32; g.cout * g.taps()];
            let mut d_b = vec![0.0f32; g.cout];
            for (o, db) in d_b.iter_mut().enumerate() {
                for d1 in ds.chunks_exact(g.cout * g.plane()) {
                    *db += sum(&d1[o * g.plane()..(o + 1) * g.plane()]);
                }
            }
            let dis = dic
                .as_mut()
                .map(|d| d.as_slice_mut().expect("standard layout"));
            match path {
                Path::Direct => backward_direct(&g, &Taps::backward(&g, w), xs, ds, &mut d_w, dis),
                Path::Axpy | Path::Gemm => {
                    let pads = pad_chunk(&g, m, xs);
                    let mut d_pads = dis.as_ref().map(|_| vec![0.0; pads.len()]);
                    if path == Path::Axpy {
                        // Junk columns (past Wo in each Wp-wide row) stay zero.
                        let mut wide = vec![0.0; g.cout * g.ho * g.wp()];
                        for (s, (pad, d1)) in pads
                            .chunks_exact(g.padded_len())
                            .zip(ds.chunks_exact(g.cout * g.plane()))
                            .enumerate()
                        {
                            let d_pad = d_pads
                                .as_deref_mut()
                                .map(|d| &mut d[s * g.padded_len()..(s + 1) * g.padded_len()]);
                            axpy::backward(&g, pad, w, d1, &mut d_w, d_pad, &mut wide);
                        }
                    } else {
                        backward_gemm(&g, m, &pads, w, ds, &mut d_w, d_pads.as_deref_mut());
                    }
                    if let (Some(d_pads), Some(dis)) = (d_pads, dis) {
                        for (d_pad, d1) in d_pads
                            .chunks_exact(g.padded_len())
                            .zip(dis.chunks_exact_mut(g.cin * g.h * g.w))
                        {
                            crop_sample(&g, d_pad, d1);
                        }
                    }
                }
            }
            (d_w, d_b)
        });

        // Fixed order: chunk 0, chunk 1, ... whatever ran where.
        let gw = self.weight.grad.as_slice_mut().expect("contiguous grad");
        let gb = self.bias.grad.as_slice_mut().expect("contiguous grad");
        for (d_w, d_b) in partials {
            add_assign(gw, &d_w);
            add_assign(gb, &d_b);
        }
        d_in.map(|d| d.into_dyn())
    }
}

/// `m` samples `[m, Cin, H, W]`, each zero-padded to `[Cin, Hp, Wp]`.
fn pad_chunk(g: &ConvGeometry, m: usize, xs: &[f32]) -> Vec<f32> {
    let mut pads = vec![0.0; m * g.padded_len()];
    for (x1, pad) in xs
        .chunks_exact(g.cin * g.h * g.w)
        .zip(pads.chunks_exact_mut(g.padded_len()))
    {
        pad_sample(g, x1, pad);
    }
    pads
}

/// Copies one sample `[Cin, H, W]` into the middle of a zeroed `[Cin, Hp, Wp]`.
fn pad_sample(g: &ConvGeometry, x: &[f32], pad: &mut [f32]) {
    pad_into(x, (g.h, g.w, g.p), pad);
}

/// The inverse of `pad_sample` for deltas: drops the padding border.
fn crop_sample(g: &ConvGeometry, d_pad: &[f32], d_in: &mut [f32]) {
    let corner = g.p * g.wp() + g.p;
    narrow(
        &d_pad[corner..],
        (g.hp() * g.wp(), g.wp()),
        (g.h, g.w),
        d_in,
        None,
    );
}

/// Start of the padded input row that tap `(c, u, v)` reads for output row
/// `i` (its cells for the row's outputs are then `S` apart).
#[inline]
fn tap_row(g: &ConvGeometry, c: usize, u: usize, v: usize, i: usize) -> usize {
    let (r, col) = g.padded_cell((i, 0), (u, v));
    c * g.hp() * g.wp() + r * g.wp() + col
}

/// The taps of the direct backward, worked out once per chunk: where each
/// `(c, u, v)` starts reading in a padded sample, and the weights in the
/// order the kernels want them.
struct Taps {
    /// Offsets of `(c, u, v)` in a padded input sample (forward and dF;
    /// F `[Cout, Cin·K·K]` is already in the order the kernel wants).
    input: Vec<usize>,
    /// Offsets of `(o, u, v)` in a fully padded delta sample, and the
    /// filter turned by 180° with its in and out swapped, `[Cin, Cout·K·K]`:
    /// D_below is the correlation of the two (the backward only).
    delta: Vec<usize>,
    turned: Vec<f32>,
}

impl Taps {
    fn backward(g: &ConvGeometry, w: &[f32]) -> Taps {
        let (hf, wf) = g.full_delta();
        let kk = g.k * g.k;
        let mut turned = vec![0.0; g.cin * g.cout * kk];
        for c in 0..g.cin {
            for o in 0..g.cout {
                for t in 0..kk {
                    turned[(c * g.cout + o) * kk + t] = w[(o * g.cin + c) * kk + kk - 1 - t];
                }
            }
        }
        Taps {
            input: Self::input(g),
            delta: Self::offsets(g.cout, hf, wf, g),
            turned,
        }
    }

    /// Where tap `(c, u, v)` starts reading in a padded input sample.
    fn input(g: &ConvGeometry) -> Vec<usize> {
        Self::offsets(g.cin, g.hp(), g.wp(), g)
    }

    /// Where tap `(c, u, v)` starts reading in `channels` planes `h × w`.
    fn offsets(channels: usize, h: usize, w: usize, g: &ConvGeometry) -> Vec<usize> {
        let mut off = Vec::with_capacity(channels * g.k * g.k);
        for c in 0..channels {
            for u in 0..g.k {
                for v in 0..g.k {
                    off.push(c * h * w + g.dilation * (u * w + v));
                }
            }
        }
        off
    }
}

/// Copies one sample's maps `[C, H, W]` into the interior of `padded`
/// (`[C, H + 2P, W + 2P]`, whose border stays as it was: zeros).
fn pad_into(maps: &[f32], (h, w, p): (usize, usize, usize), padded: &mut [f32]) {
    place(maps, (h, w), p, (h + 2 * p, w + 2 * p), padded);
}

/// Copies one sample's maps `[C, H, W]` into `padded`, planes of `rows`
/// rows `gap` apart, each map's corner `p` rows down and `p` columns in
/// (what is around them stays as it was: zeros).
fn place(
    maps: &[f32],
    (h, w): (usize, usize),
    p: usize,
    (rows, gap): (usize, usize),
    padded: &mut [f32],
) {
    for (c, map) in maps.chunks_exact(h * w).enumerate() {
        for (i, row) in map.chunks_exact(w).enumerate() {
            let at = c * rows * gap + (i + p) * gap + p;
            padded[at..at + w].copy_from_slice(row);
        }
    }
}

/// Copies the first `w` columns of each of `rows`-high maps laid out
/// `row_gap` apart per row and `map_gap` apart per map out of `wide` into
/// dense `[C, rows, w]` maps, adding `add[c]` when given.
fn narrow(
    wide: &[f32],
    (map_gap, row_gap): (usize, usize),
    (rows, w): (usize, usize),
    out: &mut [f32],
    add: Option<&[f32]>,
) {
    for (c, map) in out.chunks_exact_mut(rows * w).enumerate() {
        for (i, row) in map.chunks_exact_mut(w).enumerate() {
            let from = &wide[c * map_gap + i * row_gap..][..w];
            match add {
                Some(b) => {
                    for (o, v) in row.iter_mut().zip(from) {
                        *o = v + b[c];
                    }
                }
                // A plain copy (adding 0 would turn −0 into 0).
                None => row.copy_from_slice(from),
            }
        }
    }
}

/// Stride 1, one sample at a time, no im2col: each output map in the wide
/// layout (rows `Wp` apart) is `Σ_(c,u,v) F[o,c,u,v] · pad[c]` shifted to
/// the tap, a product the kernel keeps in registers (see `direct.rs`).
fn forward_direct(
    g: &ConvGeometry,
    taps: &[usize],
    xs: &[f32],
    w: &[f32],
    b: &[f32],
    ys: &mut [f32],
) {
    let len = g.wide_len();
    let gap = direct::rounded(len);
    let mut pad = vec![0.0; g.padded_len() + direct::SLACK];
    let mut wide = vec![0.0; g.cout * gap];
    for (x1, y1) in xs
        .chunks_exact(g.cin * g.h * g.w)
        .zip(ys.chunks_exact_mut(g.cout * g.plane()))
    {
        pad_into(x1, (g.h, g.w, g.p), &mut pad);
        direct::correlate(taps, w, &pad, &mut wide, gap, len);
        narrow(&wide, (gap, g.wp()), (g.ho, g.wo), y1, Some(b));
    }
}

/// The direct path's backward for one chunk of samples: dF by the kernel's
/// dot products of each tap's run of the input with D (in the wide layout,
/// zero in its junk columns), and D_below as the seed computes it: D padded
/// by the filter's reach, correlated with the filter turned by 180°, the
/// layer's own padding cropped away (only the rows and columns kept are
/// computed).
fn backward_direct(
    g: &ConvGeometry,
    taps: &Taps,
    xs: &[f32],
    ds: &[f32],
    d_w: &mut [f32],
    d_in: Option<&mut [f32]>,
) {
    let len = g.wide_len();
    let gap = direct::rounded(len);
    let mut pad = vec![0.0; g.padded_len() + direct::SLACK];
    let mut d_wide = vec![0.0; g.cout * gap];
    let samples = xs.len() / (g.cin * g.h * g.w);
    let mut lanes = vec![[0.0; direct::LANES]; d_w.len()];
    for s in 0..samples {
        let x1 = &xs[s * g.cin * g.h * g.w..][..g.cin * g.h * g.w];
        let d1 = &ds[s * g.cout * g.plane()..][..g.cout * g.plane()];
        pad_into(x1, (g.h, g.w, g.p), &mut pad);
        for (o, d_o) in d1.chunks_exact(g.plane()).enumerate() {
            for (i, row) in d_o.chunks_exact(g.wo).enumerate() {
                let at = o * gap + i * g.wp();
                d_wide[at..at + g.wo].copy_from_slice(row);
            }
        }
        direct::dots(&taps.input, &d_wide, gap, &pad, len, &mut lanes);
    }
    for (g, lanes) in d_w.iter_mut().zip(&lanes) {
        *g += lanes.iter().sum::<f32>();
    }
    let Some(d_in) = d_in else { return };
    // The full correlation's rows are `wf` apart; of its `Hp × Wp` output
    // only rows and columns `P .. P + H` (`W`) are the input's.
    let (hf, wf) = g.full_delta();
    let reach = g.span() - 1;
    let len = (g.h - 1) * wf + g.w;
    let gap = direct::rounded(len);
    let mut full = vec![0.0; g.cout * hf * wf + direct::SLACK];
    let mut wide = vec![0.0; g.cin * gap];
    let start = g.p * wf + g.p;
    for (d1, di) in ds
        .chunks_exact(g.cout * g.plane())
        .zip(d_in.chunks_exact_mut(g.cin * g.h * g.w))
    {
        place(d1, (g.ho, g.wo), reach, (hf, wf), &mut full);
        direct::correlate(
            &taps.delta,
            &taps.turned,
            &full[start..],
            &mut wide,
            gap,
            len,
        );
        narrow(&wide, (gap, wf), (g.h, g.w), di, None);
    }
}

/// Unrolls `m` padded samples into `col [Cin·K·K, m·Ho·Wo]`: row `(c,u,v)`
/// holds every input value that tap multiplies, sample after sample. Built
/// front to back by appending: zeroing it first cost as much as a GEMM's
/// packing.
fn im2col(g: &ConvGeometry, m: usize, pads: &[f32]) -> Vec<f32> {
    let mut col = Vec::with_capacity(g.taps() * m * g.plane());
    for c in 0..g.cin {
        for u in 0..g.k {
            for v in 0..g.k {
                for pad in pads.chunks_exact(g.padded_len()) {
                    for i in 0..g.ho {
                        let from = &pad[tap_row(g, c, u, v, i)..];
                        if g.stride == 1 {
                            col.extend_from_slice(&from[..g.wo]);
                        } else {
                            col.extend(from.iter().step_by(g.stride).take(g.wo));
                        }
                    }
                }
            }
        }
    }
    col
}

/// Scatter-adds `d_col` back onto the padded grids (the adjoint of im2col).
fn col2im(g: &ConvGeometry, d_col: &[f32], d_pads: &mut [f32]) {
    let cols = d_col.len() / g.taps();
    for (s, d_pad) in d_pads.chunks_exact_mut(g.padded_len()).enumerate() {
        let mut r = 0;
        for c in 0..g.cin {
            for u in 0..g.k {
                for v in 0..g.k {
                    let row = &d_col[r * cols + s * g.plane()..][..g.plane()];
                    for i in 0..g.ho {
                        let at = tap_row(g, c, u, v, i);
                        let from = &row[i * g.wo..(i + 1) * g.wo];
                        if g.stride == 1 {
                            add_assign(&mut d_pad[at..at + g.wo], from);
                        } else {
                            for (t, f) in d_pad[at..].iter_mut().step_by(g.stride).zip(from) {
                                *t += f;
                            }
                        }
                    }
                    r += 1;
                }
            }
        }
    }
}

/// `m` samples at once: `Y [Cout, m·Ho·Wo] = F [Cout, taps] · col`, then each
/// sample's maps moved to `out [m, Cout, Ho, Wo]` with the bias added.
fn forward_gemm(g: &ConvGeometry, m: usize, pads: &[f32], w: &[f32], b: &[f32], out: &mut [f32]) {
    let cols = m * g.plane();
    let col = im2col(g, m, pads);
    let w2 = ArrayView2::from_shape((g.cout, g.taps()), w).expect("weight shape");
    let col2 = ArrayView2::from_shape((g.taps(), cols), &col[..]).expect("col shape");
    // `dot` fills a fresh matrix without zeroing it first.
    let y2 = w2.dot(&col2);
    let y2 = y2.as_slice().expect("standard layout");
    for (s, out1) in out.chunks_exact_mut(g.cout * g.plane()).enumerate() {
        for (o, out_o) in out1.chunks_exact_mut(g.plane()).enumerate() {
            let src = &y2[o * cols + s * g.plane()..][..g.plane()];
            for (dst, v) in out_o.iter_mut().zip(src) {
                *dst = v + b[o];
            }
        }
    }
}

fn backward_gemm(
    g: &ConvGeometry,
    m: usize,
    pads: &[f32],
    w: &[f32],
    d: &[f32],
    d_w: &mut [f32],
    d_pads: Option<&mut [f32]>,
) {
    let cols = m * g.plane();
    // D gathered as [Cout, m·Ho·Wo], the layout of the forward's Y.
    let mut d2 = Vec::with_capacity(g.cout * cols);
    for o in 0..g.cout {
        for d1 in d.chunks_exact(g.cout * g.plane()) {
            d2.extend_from_slice(&d1[o * g.plane()..][..g.plane()]);
        }
    }
    let d2 = ArrayView2::from_shape((g.cout, cols), &d2[..]).expect("delta shape");
    let col = im2col(g, m, pads);
    let col2 = ArrayView2::from_shape((g.taps(), cols), &col[..]).expect("col shape");
    // dF [Cout, taps] += D [Cout, m·HoWo] · colᵀ [m·HoWo, taps]
    let mut dw2 = ArrayViewMut2::from_shape((g.cout, g.taps()), d_w).expect("dF shape");
    general_mat_mul(1.0, &d2, &col2.t(), 1.0, &mut dw2);
    if let Some(d_pads) = d_pads {
        // d_col [taps, m·HoWo] = Fᵀ [taps, Cout] · D [Cout, m·HoWo], then col2im.
        let w2 = ArrayView2::from_shape((g.cout, g.taps()), w).expect("weight shape");
        let d_col = w2.t().dot(&d2);
        col2im(g, d_col.as_slice().expect("standard layout"), d_pads);
    }
}

/// A `k×k` filter (row-major) turned by 180°: `rot180(F)[u, v] =
/// F[k−1−u, k−1−v]`, the filter the delta is fully convolved with on its
/// way down.
pub fn rot180(filter: &[f32], k: usize) -> Vec<f32> {
    (0..k * k).map(|t| filter[k * k - 1 - t]).collect()
}

/// The forward formula, literally: six loops, no tricks (the test oracle).
pub fn forward_naive(
    x: &Array4<f32>,
    weight: &Array4<f32>,
    bias: &Array1<f32>,
    padding: usize,
) -> Array4<f32> {
    forward_naive_strided(x, weight, bias, padding, (1, 1))
}

/// The forward formula with stride S and dilation Dl, literally.
pub fn forward_naive_strided(
    x: &Array4<f32>,
    weight: &Array4<f32>,
    bias: &Array1<f32>,
    padding: usize,
    (stride, dilation): (usize, usize),
) -> Array4<f32> {
    let (n, cin, h, w) = x.dim();
    let (cout, _, k, _) = weight.dim();
    let out = |side: usize| (side + 2 * padding - dilation * (k - 1) - 1) / stride + 1;
    let (ho, wo) = (out(h), out(w));
    let x_pad = zero_pad(x, padding);
    let mut y = Array4::zeros((n, cout, ho, wo));
    for b in 0..n {
        for o in 0..cout {
            for i in 0..ho {
                for j in 0..wo {
                    let mut sum = bias[o];
                    for c in 0..cin {
                        for u in 0..k {
                            for v in 0..k {
                                sum += weight[[o, c, u, v]]
                                    * x_pad[[
                                        b,
                                        c,
                                        stride * i + dilation * u,
                                        stride * j + dilation * v,
                                    ]];
                            }
                        }
                    }
                    y[[b, o, i, j]] = sum;
                }
            }
        }
    }
    y
}

/// The backward formulas, literally: returns `(dF, dB, D_below)` with
/// `D_below` computed as the full convolution of D with the filter rotated
/// by 180° (the seed's answer word for word), then cropped by the padding.
pub fn backward_naive(
    x: &Array4<f32>,
    weight: &Array4<f32>,
    d_out: &Array4<f32>,
    padding: usize,
) -> (Array4<f32>, Array1<f32>, Array4<f32>) {
    backward_naive_strided(x, weight, d_out, padding, (1, 1))
}

/// The backward formulas with stride S and dilation Dl, literally, as they
/// are taught: dF correlates the input with D through taps S apart; D_below
/// is the full convolution of D dilated by S (S − 1 zeros between its
/// cells) with the filter dilated by Dl and turned by 180°, cropped by P.
pub fn backward_naive_strided(
    x: &Array4<f32>,
    weight: &Array4<f32>,
    d_out: &Array4<f32>,
    padding: usize,
    (stride, dilation): (usize, usize),
) -> (Array4<f32>, Array1<f32>, Array4<f32>) {
    let (n, cin, h, w) = x.dim();
    let (cout, _, k, _) = weight.dim();
    let (_, _, ho, wo) = d_out.dim();
    let x_pad = zero_pad(x, padding);

    // dF = x ⋆ D (correlation of the input with the delta), over the batch.
    let mut d_w = Array4::zeros(weight.raw_dim());
    for o in 0..cout {
        for c in 0..cin {
            for u in 0..k {
                for v in 0..k {
                    let mut sum = 0.0;
                    for b in 0..n {
                        for i in 0..ho {
                            for j in 0..wo {
                                sum += x_pad
                                    [[b, c, stride * i + dilation * u, stride * j + dilation * v]]
                                    * d_out[[b, o, i, j]];
                            }
                        }
                    }
                    d_w[[o, c, u, v]] = sum;
                }
            }
        }
    }
    let d_b = d_out.sum_axis(Axis(3)).sum_axis(Axis(2)).sum_axis(Axis(0));

    // D dilated by the stride: its cells S apart, zeros between.
    let mut d_dil = Array4::<f32>::zeros((n, cout, (ho - 1) * stride + 1, (wo - 1) * stride + 1));
    for ((b, o, i, j), &v) in d_out.indexed_iter() {
        d_dil[[b, o, i * stride, j * stride]] = v;
    }
    // The filter dilated: its taps Dl apart, holes between.
    let span = dilation * (k - 1) + 1;
    let mut f_dil = Array4::<f32>::zeros((cout, cin, span, span));
    for ((o, c, u, v), &f) in weight.indexed_iter() {
        f_dil[[o, c, u * dilation, v * dilation]] = f;
    }
    // D_below = full_conv(D dilated, rot180(F dilated)): pad D by span − 1
    // on every side, then correlate with the rotated filter; that yields
    // the padded input's delta (rows and columns no window reached, at the
    // bottom and right when S does not divide evenly, stay 0), and the
    // padding P is cropped away.
    let full = zero_pad(&d_dil, span - 1);
    let (hp, wp) = (h + 2 * padding, w + 2 * padding);
    let (fh, fw) = (full.dim().2 - span + 1, full.dim().3 - span + 1);
    let mut d_pad = Array4::<f32>::zeros((n, cin, hp, wp));
    for b in 0..n {
        for c in 0..cin {
            for i in 0..hp.min(fh) {
                for j in 0..wp.min(fw) {
                    let mut sum = 0.0;
                    for o in 0..cout {
                        for u in 0..span {
                            for v in 0..span {
                                let rot180 = f_dil[[o, c, span - 1 - u, span - 1 - v]];
                                sum += full[[b, o, i + u, j + v]] * rot180;
                            }
                        }
                    }
                    d_pad[[b, c, i, j]] = sum;
                }
            }
        }
    }
    let d_in = d_pad
        .slice(s![.., .., padding..padding + h, padding..padding + w])
        .to_owned();
    (d_w, d_b.into_dimensionality::<Ix1>().expect("1-D"), d_in)
}

fn zero_pad(x: &Array4<f32>, p: usize) -> Array4<f32> {
    let (n, c, h, w) = x.dim();
    let mut out = Array4::zeros((n, c, h + 2 * p, w + 2 * p));
    out.slice_mut(s![.., .., p..p + h, p..p + w]).assign(x);
    out
}
