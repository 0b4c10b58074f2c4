//! The backward formulas of CHECK-CONTRACT.md, in f64, written as directly
//! as the contract's NumPy: the right ones and the catalogue's mistaken
//! ones are built from the same few pieces (correlation, full convolution,
//! routing through pooling windows), so a mistake differs from the right
//! formula in exactly the place the catalogue names.

use ndarray::{s, Array1, Array2, Array4, ArrayView2, ArrayView4, Axis, Zip};

/// Zero padding of the two spatial axes.
fn pad(x: ArrayView4<f64>, p: usize) -> Array4<f64> {
    let (n, c, h, w) = x.dim();
    let mut out = Array4::zeros((n, c, h + 2 * p, w + 2 * p));
    out.slice_mut(s![.., .., p..p + h, p..p + w]).assign(&x);
    out
}

/// A conv's stride and dilation, `(S, Dl)`: `(1, 1)` for the seed's.
pub type Spacing = (usize, usize);

/// The cells tap `a` reads for outputs `0..n`: from `Dl·a`, `S` apart.
fn taps(a: usize, n: usize, (stride, dilation): Spacing) -> ndarray::Slice {
    let start = (a * dilation) as isize;
    ndarray::Slice::new(
        start,
        Some(start + ((n - 1) * stride + 1) as isize),
        stride as isize,
    )
}

/// `dF[o,c,a,b] = Σ_n Σ_i Σ_j pad(x,p)[n,c,S·i+Dl·a,S·j+Dl·b] · D[n,o,i,j]`.
pub fn corr_grad(
    x: ArrayView4<f64>,
    d: ArrayView4<f64>,
    k: usize,
    p: usize,
    spacing: Spacing,
) -> Array4<f64> {
    let xp = pad(x, p);
    let (n, c, _, _) = x.dim();
    let (_, o, ho, wo) = d.dim();
    let mut g = Array4::zeros((o, c, k, k));
    for oo in 0..o {
        for cc in 0..c {
            for a in 0..k {
                for b in 0..k {
                    let mut sum = 0.0;
                    for nn in 0..n {
                        let window =
                            xp.slice(s![nn, cc, taps(a, ho, spacing), taps(b, wo, spacing)]);
                        let delta = d.slice(s![nn, oo, .., ..]);
                        sum += Zip::from(&window)
                            .and(&delta)
                            .fold(0.0, |acc, &x, &d| acc + x * d);
                    }
                    g[[oo, cc, a, b]] = sum;
                }
            }
        }
    }
    g
}

/// `G = dL/d pad(x,p)`, `[N, C, h+2p, w+2p]`:
/// `G[n,c,S·i+Dl·a,S·j+Dl·b] += F[o,c,a,b] · D[n,o,i,j]` — the full
/// convolution of D (dilated by S) with F (dilated by Dl), which is the
/// full correlation of D with rot180(F).
pub fn full(
    d: ArrayView4<f64>,
    f: ArrayView4<f64>,
    (h, w, p): (usize, usize, usize),
    spacing: Spacing,
) -> Array4<f64> {
    let (n, o, ho, wo) = d.dim();
    let (_, c, k, _) = f.dim();
    let mut g = Array4::zeros((n, c, h + 2 * p, w + 2 * p));
    for nn in 0..n {
        for cc in 0..c {
            for oo in 0..o {
                let delta = d.slice(s![nn, oo, .., ..]);
                for a in 0..k {
                    for b in 0..k {
                        g.slice_mut(s![nn, cc, taps(a, ho, spacing), taps(b, wo, spacing)])
                            .scaled_add(f[[oo, cc, a, b]], &delta);
                    }
                }
            }
        }
    }
    g
}

/// The delta handed down: [`full`] with the padding removed.
pub fn below(
    d: ArrayView4<f64>,
    f: ArrayView4<f64>,
    (h, w, p): (usize, usize, usize),
    spacing: Spacing,
) -> Array4<f64> {
    full(d, f, (h, w, p), spacing)
        .slice(s![.., .., p..p + h, p..p + w])
        .to_owned()
}

/// F turned by 180° in its two spatial axes.
pub fn rot180(f: ArrayView4<f64>) -> Array4<f64> {
    // In row-major memory order (a reversed view's copy keeps its strides).
    f.slice(s![.., .., ..;-1, ..;-1])
        .as_standard_layout()
        .into_owned()
}

/// A pooling layer's `(size, stride)`: windows `size` wide, `stride` apart.
pub type Window = (usize, usize);

/// Sends each pooling window's delta to the cells of the window: `share`
/// gives, for the window at `[n, c, i, j]` and the cell at `(a, b)` inside
/// it, the fraction of the delta that cell receives. Where windows overlap
/// a cell adds up what each sends it; cells outside whole windows get 0.
pub fn route(
    x_shape: (usize, usize, usize, usize),
    d: ArrayView4<f64>,
    window: Window,
    share: impl Fn([usize; 4], usize, usize) -> f64,
) -> Array4<f64> {
    route_with(x_shape, d, window, share, |cell, share, delta| {
        *cell += share * delta
    })
}

/// [`route`] with each window's share written over what an earlier window
/// sent (`=` where `+=` is due) in the cells it sends to (a max pool's
/// winner only): the same where windows do not overlap.
pub fn route_overwriting(
    x_shape: (usize, usize, usize, usize),
    d: ArrayView4<f64>,
    window: Window,
    share: impl Fn([usize; 4], usize, usize) -> f64,
) -> Array4<f64> {
    route_with(x_shape, d, window, share, |cell, share, delta| {
        if share != 0.0 {
            *cell = share * delta;
        }
    })
}

fn route_with(
    x_shape: (usize, usize, usize, usize),
    d: ArrayView4<f64>,
    (size, stride): Window,
    share: impl Fn([usize; 4], usize, usize) -> f64,
    put: impl Fn(&mut f64, f64, f64),
) -> Array4<f64> {
    let mut out = Array4::zeros(x_shape);
    let (n, c, ho, wo) = d.dim();
    for nn in 0..n {
        for cc in 0..c {
            for i in 0..ho {
                for j in 0..wo {
                    for a in 0..size {
                        for b in 0..size {
                            put(
                                &mut out[[nn, cc, i * stride + a, j * stride + b]],
                                share([nn, cc, i, j], a, b),
                                d[[nn, cc, i, j]],
                            );
                        }
                    }
                }
            }
        }
    }
    out
}

/// The cell of each window that holds its first maximum, in row-major order
/// inside the window (as PyTorch and the engine choose): `(a, b)`.
pub fn first_max(x: ArrayView4<f64>, at: [usize; 4], (size, stride): Window) -> (usize, usize) {
    let [n, c, i, j] = at;
    let mut best = (0, 0);
    for a in 0..size {
        for b in 0..size {
            if x[[n, c, i * stride + a, j * stride + b]]
                > x[[n, c, i * stride + best.0, j * stride + best.1]]
            {
                best = (a, b);
            }
        }
    }
    best
}

/// `Dᵀ · x`: a dense layer's weight gradient, `[O, I]`.
pub fn dense_grad(x: ArrayView2<f64>, d: ArrayView2<f64>) -> Array2<f64> {
    d.t().dot(&x)
}

/// The sum of a conv delta over the batch and both spatial axes, `[O]`.
pub fn conv_bias_grad(d: ArrayView4<f64>) -> Array1<f64> {
    d.sum_axis(Axis(3)).sum_axis(Axis(2)).sum_axis(Axis(0))
}

/// The un-flattening done in column-major order: per sample,
/// `D[n].reshape((C, h, w), order='F')`.
pub fn unflatten_column_major(
    d: ArrayView2<f64>,
    shape: (usize, usize, usize, usize),
) -> Array4<f64> {
    let (_, c, h, _) = shape;
    Array4::from_shape_fn(shape, |(n, cc, i, j)| d[[n, (j * h + i) * c + cc]])
}

/// `y[n,o,i,j] = Σ_c Σ_a Σ_b f[o,c,a,b] · pad(x,p)[n,c,S·i+a,S·j+b]` for
/// outputs `ho × wo`: a conv's forward pass without its bias (a transposed
/// conv's delta is this on D, with its own `[in, out, K, K]` weight).
pub fn correlate(
    x: ArrayView4<f64>,
    f: ArrayView4<f64>,
    p: usize,
    stride: usize,
    (ho, wo): (usize, usize),
) -> Array4<f64> {
    let xp = pad(x, p);
    let n = x.dim().0;
    let (o, c, k, _) = f.dim();
    let mut y = Array4::zeros((n, o, ho, wo));
    for nn in 0..n {
        for oo in 0..o {
            for cc in 0..c {
                for a in 0..k {
                    for b in 0..k {
                        let window = xp.slice(s![
                            nn,
                            cc,
                            taps(a, ho, (stride, 1)),
                            taps(b, wo, (stride, 1))
                        ]);
                        y.slice_mut(s![nn, oo, .., ..])
                            .scaled_add(f[[oo, cc, a, b]], &window);
                    }
                }
            }
        }
    }
    y
}

/// Batch norm's backward pass by the textbook formula, per channel over
/// its `m = N·H·W` values: x̂, `dβ = Σ D`, `dγ = Σ D·x̂`, and γ/σ̂.
pub struct Norm {
    pub xhat: Array4<f64>,
    pub d_beta: Array1<f64>,
    pub d_gamma: Array1<f64>,
    /// `γ / √(σ² + ε)` per channel.
    pub scale: Array1<f64>,
    /// m.
    pub count: f64,
}

impl Norm {
    pub fn of(x: ArrayView4<f64>, d: ArrayView4<f64>, gamma: &[f64], eps: f64) -> Norm {
        let (n, c, h, w) = x.dim();
        let count = (n * h * w).max(1) as f64;
        let mut xhat = x.to_owned();
        let mut scale = Array1::zeros(c);
        for ch in 0..c {
            let plane = x.index_axis(Axis(1), ch);
            let mean = plane.sum() / count;
            let var = plane.mapv(|v| (v - mean).powi(2)).sum() / count;
            let inv = 1.0 / (var + eps).sqrt();
            xhat.index_axis_mut(Axis(1), ch)
                .mapv_inplace(|v| (v - mean) * inv);
            scale[ch] = gamma[ch] * inv;
        }
        let d_beta = d.sum_axis(Axis(3)).sum_axis(Axis(2)).sum_axis(Axis(0));
        let d_gamma = (&d * &xhat)
            .sum_axis(Axis(3))
            .sum_axis(Axis(2))
            .sum_axis(Axis(0));
        Norm {
            xhat,
            d_beta,
            d_gamma,
            scale,
            count,
        }
    }

    /// `dx = γ/σ̂ · (D − mean·dβ/m − var·x̂·dγ/m)`, with the two terms
    /// through the statistics in or out and `m` as given (the right one
    /// is [`Norm::count`] with both terms in).
    pub fn delta(&self, d: ArrayView4<f64>, (mean, var): (bool, bool), m: f64) -> Array4<f64> {
        let mut dx = d.to_owned();
        for ((mut dxc, xc), ch) in dx
            .axis_iter_mut(Axis(1))
            .zip(self.xhat.axis_iter(Axis(1)))
            .zip(0..)
        {
            let (db, dg, k) = (self.d_beta[ch], self.d_gamma[ch], self.scale[ch]);
            Zip::from(&mut dxc).and(&xc).for_each(|v, &xh| {
                let mut t = *v;
                if mean {
                    t -= db / m;
                }
                if var {
                    t -= xh * dg / m;
                }
                *v = k * t;
            });
        }
        dx
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array;

    /// A 1-channel 3x3 input, a 2x2 delta, a 2x2 filter, no padding: every
    /// number worked by hand.
    #[test]
    fn corr_grad_and_full_worked_by_hand() {
        let x = Array::from_shape_vec((1, 1, 3, 3), (1..=9).map(f64::from).collect()).unwrap();
        let d = Array::from_shape_vec((1, 1, 2, 2), vec![1.0, 0.0, 0.0, -1.0]).unwrap();
        // dF[a,b] = x[a,b]·1 + x[a+1,b+1]·(−1)
        let g = corr_grad(x.view(), d.view(), 2, 0, (1, 1));
        assert_eq!(g.into_raw_vec_and_offset().0, vec![-4.0, -4.0, -4.0, -4.0]);
        let f = Array::from_shape_vec((1, 1, 2, 2), vec![1.0, 2.0, 3.0, 4.0]).unwrap();
        // G = F placed at (0,0) minus F placed at (1,1).
        let g = full(d.view(), f.view(), (3, 3, 0), (1, 1));
        assert_eq!(
            g.into_raw_vec_and_offset().0,
            vec![1.0, 2.0, 0.0, 3.0, 3.0, -2.0, 0.0, -3.0, -4.0]
        );
        assert_eq!(
            rot180(f.view()).into_raw_vec_and_offset().0,
            vec![4.0, 3.0, 2.0, 1.0]
        );
    }

    #[test]
    fn column_major_unflattening_transposes_one_channel_maps() {
        let d = Array::from_shape_vec((1, 6), (0..6).map(f64::from).collect()).unwrap();
        let m = unflatten_column_major(d.view(), (1, 1, 2, 3));
        // order='F' of [0..6] into 2x3: [[0,2,4],[1,3,5]]
        assert_eq!(
            m.into_raw_vec_and_offset().0,
            vec![0.0, 2.0, 4.0, 1.0, 3.0, 5.0]
        );
    }

    #[test]
    fn the_first_maximum_wins_a_tie() {
        let x = Array::from_shape_vec((1, 1, 2, 2), vec![1.0, 5.0, 5.0, 2.0]).unwrap();
        assert_eq!(first_max(x.view(), [0, 0, 0, 0], (2, 2)), (0, 1));
    }
}
