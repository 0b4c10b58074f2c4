//! Batch normalisation over each channel, as `torch.nn.BatchNorm2d`.
//!
//! Shapes: x and y `[N, C, H, W]`, γ (`weight`) and β (`bias`) `[C]`.
//! Each channel's statistics run over its `m = N·H·W` values.
//!
//! Forward in training (the step): the batch's own statistics,
//! - `μ = Σ x / m`, `σ² = Σ (x − μ)² / m` (biased, as PyTorch normalises),
//! - `x̂ = (x − μ) / √(σ² + ε)`, `y = γ·x̂ + β`;
//!
//! and the running statistics move towards them (momentum 0.1, the variance
//! unbiased: `σ²·m / (m − 1)`), for [`BatchNorm::infer`] (`eval`, `classify`
//! and the drawing pad), which normalises by those instead.
//!
//! Backward, given `D = dL/dy`:
//! - `dβ = Σ D`, `dγ = Σ D·x̂` (over the channel's m values);
//! - `dx = γ/√(σ² + ε) · (D − dβ/m − x̂·dγ/m)` — three terms: the delta
//!   as if μ and σ were constants, what moving every x moves through μ,
//!   and what it moves through σ. [`BatchNorm::terms`] gives them apart,
//!   for the views and the checker.

use super::vector::{dot, lanes};
use super::Param;
use crate::engine::Tensor;

/// PyTorch's default: the running statistics move a tenth of the way.
pub const MOMENTUM: f32 = 0.1;

#[derive(Debug, Clone)]
pub struct BatchNorm {
    pub channels: usize,
    pub eps: f32,
    /// γ `[C]`
    pub weight: Param,
    /// β `[C]`
    pub bias: Param,
    /// `[C]`, from 0; what inference normalises by.
    pub running_mean: Tensor,
    /// `[C]`, from 1.
    pub running_var: Tensor,
}

/// A batch's per-channel statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// μ per channel.
    pub mean: Vec<f32>,
    /// σ² per channel (biased: divided by m).
    pub var: Vec<f32>,
    /// m, the values each channel's statistics run over (`N·H·W`).
    pub count: usize,
}

impl Stats {
    /// The statistics of `x` `[N, C, H, W]`, summed in f64 (a channel can
    /// hold a million values), plane by contiguous plane.
    pub fn of(x: &Tensor) -> Stats {
        let &[_, c, h, w] = x.shape() else {
            panic!("batch norm input is 4-D")
        };
        let x = x.as_standard_layout();
        Self::of_slice(x.as_slice().expect("standard layout"), c, h * w)
    }

    /// The statistics of `c` channels of planes of `plane` values, laid
    /// out `[N, C, plane]`.
    fn of_slice(xs: &[f32], c: usize, plane: usize) -> Stats {
        let n = xs.len() / (c * plane).max(1);
        let count = n * plane;
        let m = count.max(1) as f64;
        // Each plane summed in f32 lanes (vectorised), the planes in f64.
        let mut sums = vec![0.0f64; c];
        for (k, p) in xs.chunks_exact(plane).enumerate() {
            sums[k % c] += f64::from(lanes(p, |v| v));
        }
        let mean: Vec<f64> = sums.iter().map(|s| s / m).collect();
        let mut squares = vec![0.0f64; c];
        for (k, p) in xs.chunks_exact(plane).enumerate() {
            let mu = mean[k % c] as f32;
            squares[k % c] += f64::from(lanes(p, |v| (v - mu) * (v - mu)));
        }
        Stats {
            mean: mean.iter().map(|&v| v as f32).collect(),
            var: squares.iter().map(|s| (s / m) as f32).collect(),
            count,
        }
    }

    /// `1 / √(σ² + ε)` per channel.
    pub fn inv_std(&self, eps: f32) -> Vec<f32> {
        self.var.iter().map(|v| 1.0 / (v + eps).sqrt()).collect()
    }
}

/// The three terms of one batch's `dx` (each `[N, C, H, W]`), which add up
/// to it, and the channel sums they come from.
#[derive(Debug, Clone)]
pub struct Terms {
    /// `γ/σ̂ · D`: the delta as if μ and σ were constants.
    pub direct: Tensor,
    /// `−γ/σ̂ · dβ/m`: through the mean (the same for every cell of a channel).
    pub through_mean: Tensor,
    /// `−γ/σ̂ · x̂·dγ/m`: through the variance.
    pub through_var: Tensor,
    /// x̂, the normalised input.
    pub normalized: Tensor,
    /// `Σ D` and `Σ D·x̂` per channel: dβ and dγ.
    pub d_beta: Vec<f32>,
    pub d_gamma: Vec<f32>,
    /// The batch's statistics and the layer's ε they were used with.
    pub stats: Stats,
    pub eps: f32,
}

impl BatchNorm {
    pub fn new(channels: usize, eps: f32) -> BatchNorm {
        BatchNorm {
            channels,
            eps,
            weight: Param::new(Tensor::ones(vec![channels])),
            bias: Param::new(Tensor::zeros(vec![channels])),
            running_mean: Tensor::zeros(vec![channels]),
            running_var: Tensor::ones(vec![channels]),
        }
    }

    /// The step's forward pass: normalised by the batch's own statistics.
    pub fn forward(&self, x: &Tensor) -> Tensor {
        let stats = Stats::of(x);
        let (gamma, beta) = self.gamma_beta();
        affine(x, &stats.mean, &stats.inv_std(self.eps), &gamma, &beta)
    }

    fn gamma_beta(&self) -> (Vec<f32>, Vec<f32>) {
        (
            self.weight.value.iter().copied().collect(),
            self.bias.value.iter().copied().collect(),
        )
    }

    /// Inference: normalised by the running statistics.
    pub fn infer(&self, x: &Tensor) -> Tensor {
        let scale: Vec<f32> = self
            .running_var
            .iter()
            .map(|v| 1.0 / (v + self.eps).sqrt())
            .collect();
        let mean: Vec<f32> = self.running_mean.iter().copied().collect();
        let (gamma, beta) = self.gamma_beta();
        affine(x, &mean, &scale, &gamma, &beta)
    }

    /// Moves the running statistics towards the batch's, as PyTorch's
    /// training-mode forward does.
    pub fn track(&mut self, x: &Tensor) {
        let stats = Stats::of(x);
        let m = stats.count as f32;
        // The unbiased variance; one value per channel has none, and
        // keeps the biased one (0) rather than dividing by zero.
        let unbias = if stats.count > 1 { m / (m - 1.0) } else { 1.0 };
        for c in 0..self.channels {
            let rm = &mut self.running_mean[c];
            *rm = (1.0 - MOMENTUM) * *rm + MOMENTUM * stats.mean[c];
            let rv = &mut self.running_var[c];
            *rv = (1.0 - MOMENTUM) * *rv + MOMENTUM * stats.var[c] * unbias;
        }
    }

    /// Per channel: γ/s, dβ = Σ D and dγ = Σ D·z (z = (x − μ)/s), and the
    /// batch's statistics.
    fn sums(&self, x: &[f32], d: &[f32], plane: usize) -> (Vec<f32>, Vec<f32>, Vec<f32>, Stats) {
        let c = self.channels;
        let stats = Stats::of_slice(x, c, plane);
        let inv = stats.inv_std(self.eps);
        let mut d_beta = vec![0.0f64; c];
        let mut d_gamma = vec![0.0f64; c];
        for (k, (xp, dp)) in x.chunks_exact(plane).zip(d.chunks_exact(plane)).enumerate() {
            let ch = k % c;
            let (mu, s) = (stats.mean[ch], inv[ch]);
            d_beta[ch] += f64::from(lanes(dp, |v| v));
            let z: Vec<f32> = xp.iter().map(|&xv| (xv - mu) * s).collect();
            d_gamma[ch] += f64::from(dot(dp, &z));
        }
        let gamma = &self.weight.value;
        let k = (0..c).map(|ch| gamma[ch] * inv[ch]).collect();
        let f32s = |v: Vec<f64>| v.into_iter().map(|v| v as f32).collect();
        (k, f32s(d_beta), f32s(d_gamma), stats)
    }

    /// The backward pass's pieces for input `x` and delta `d_out`: the
    /// same numbers [`BatchNorm::backward`] adds up, cell by cell.
    pub fn terms(&self, x: &Tensor, d_out: &Tensor) -> Terms {
        let (xo, d) = (x.as_standard_layout(), d_out.as_standard_layout());
        let (xs, ds) = (
            xo.as_slice().expect("layout"),
            d.as_slice().expect("layout"),
        );
        let plane = x.shape()[2] * x.shape()[3];
        let (k, d_beta, d_gamma, stats) = self.sums(xs, ds, plane);
        let inv = stats.inv_std(self.eps);
        let m = stats.count.max(1) as f32;
        let c = self.channels;
        let mut parts = [(); 4].map(|_| vec![0.0f32; xs.len()]);
        let [direct, mean, var, normalized] = &mut parts;
        for (p, (xp, dp)) in xs
            .chunks_exact(plane)
            .zip(ds.chunks_exact(plane))
            .enumerate()
        {
            let ch = p % c;
            for (q, (&xv, &dv)) in xp.iter().zip(dp).enumerate() {
                let at = p * plane + q;
                let z = (xv - stats.mean[ch]) * inv[ch];
                let (t1, t2, t3) = cell(k[ch], dv, z, (d_beta[ch], d_gamma[ch]), m);
                direct[at] = t1;
                mean[at] = t2;
                var[at] = t3;
                normalized[at] = z;
            }
        }
        let shape = x.raw_dim();
        let [direct, through_mean, through_var, normalized] =
            parts.map(|v| Tensor::from_shape_vec(shape.clone(), v).expect("same size"));
        Terms {
            direct,
            through_mean,
            through_var,
            normalized,
            d_beta,
            d_gamma,
            stats,
            eps: self.eps,
        }
    }

    /// Adds dγ and dβ into the gradients and returns dx.
    pub fn backward(&mut self, x: &Tensor, d_out: &Tensor) -> Tensor {
        let (xo, d) = (x.as_standard_layout(), d_out.as_standard_layout());
        let (xs, ds) = (
            xo.as_slice().expect("layout"),
            d.as_slice().expect("layout"),
        );
        let plane = x.shape()[2] * x.shape()[3];
        let (k, d_beta, d_gamma, stats) = self.sums(xs, ds, plane);
        let inv = stats.inv_std(self.eps);
        let m = stats.count.max(1) as f32;
        let c = self.channels;
        for ch in 0..c {
            self.weight.grad[ch] += d_gamma[ch];
            self.bias.grad[ch] += d_beta[ch];
        }
        let mut dx = vec![0.0f32; xs.len()];
        for (p, ((xp, dp), out)) in xs
            .chunks_exact(plane)
            .zip(ds.chunks_exact(plane))
            .zip(dx.chunks_exact_mut(plane))
            .enumerate()
        {
            let ch = p % c;
            for ((&xv, &dv), o) in xp.iter().zip(dp).zip(out) {
                let z = (xv - stats.mean[ch]) * inv[ch];
                let (t1, t2, t3) = cell(k[ch], dv, z, (d_beta[ch], d_gamma[ch]), m);
                *o = t1 + t2 + t3;
            }
        }
        Tensor::from_shape_vec(x.raw_dim(), dx).expect("same size")
    }
}

/// One cell's three terms of dx: `γ/s·D`, `−γ/s·dβ/m`, `−γ/s·z·dγ/m`
/// (`k` = γ/s), computed one way for the backward pass and the views.
#[inline]
fn cell(k: f32, d: f32, z: f32, (d_beta, d_gamma): (f32, f32), m: f32) -> (f32, f32, f32) {
    (k * d, -k * d_beta / m, -k * z * d_gamma / m)
}

/// `y = γ·(x − mean)·scale + β`, per channel of `x` `[N, C, H, W]`.
fn affine(x: &Tensor, mean: &[f32], scale: &[f32], gamma: &[f32], beta: &[f32]) -> Tensor {
    let &[_, c, h, w] = x.shape() else {
        panic!("batch norm input is 4-D")
    };
    let xo = x.as_standard_layout();
    let xs = xo.as_slice().expect("standard layout");
    let mut y = vec![0.0f32; xs.len()];
    for (k, (xp, yp)) in xs
        .chunks_exact(h * w)
        .zip(y.chunks_exact_mut(h * w))
        .enumerate()
    {
        let ch = k % c;
        let (mu, g, b) = (mean[ch], gamma[ch] * scale[ch], beta[ch]);
        for (yv, &xv) in yp.iter_mut().zip(xp) {
            *yv = (xv - mu) * g + b;
        }
    }
    Tensor::from_shape_vec(x.raw_dim(), y).expect("same size")
}
