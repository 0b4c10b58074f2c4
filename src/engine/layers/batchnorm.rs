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

use ndarray::{Array4, Axis, Ix4};

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
    /// hold a million values).
    pub fn of(x: &Tensor) -> Stats {
        let x = x.view().into_dimensionality::<Ix4>().expect("4-D");
        let (n, c, h, w) = x.dim();
        let count = n * h * w;
        let m = count.max(1) as f64;
        let mut mean = Vec::with_capacity(c);
        let mut var = Vec::with_capacity(c);
        for ch in 0..c {
            let plane = x.index_axis(Axis(1), ch);
            let mu = plane.iter().map(|&v| f64::from(v)).sum::<f64>() / m;
            let s2 = plane
                .iter()
                .map(|&v| (f64::from(v) - mu).powi(2))
                .sum::<f64>()
                / m;
            mean.push(mu as f32);
            var.push(s2 as f32);
        }
        Stats { mean, var, count }
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

    /// The backward pass's pieces for input `x` and delta `d_out`.
    pub fn terms(&self, x: &Tensor, d_out: &Tensor) -> Terms {
        let stats = Stats::of(x);
        let inv_std = stats.inv_std(self.eps);
        let m = stats.count.max(1) as f32;
        let zero = Tensor::zeros(x.raw_dim());
        let normalized = {
            let (ones, zeros) = (vec![1.0; self.channels], vec![0.0; self.channels]);
            affine(x, &stats.mean, &inv_std, &ones, &zeros)
        };
        let d = d_out
            .view()
            .into_dimensionality::<Ix4>()
            .expect("batch norm delta is 4-D");
        let xh = normalized.view().into_dimensionality::<Ix4>().expect("4-D");
        let mut d_beta = vec![0.0f64; self.channels];
        let mut d_gamma = vec![0.0f64; self.channels];
        for (ds, xs) in d.outer_iter().zip(xh.outer_iter()) {
            for c in 0..self.channels {
                let (dp, xp) = (ds.index_axis(Axis(0), c), xs.index_axis(Axis(0), c));
                for (&dv, &xv) in dp.iter().zip(xp.iter()) {
                    d_beta[c] += f64::from(dv);
                    d_gamma[c] += f64::from(dv) * f64::from(xv);
                }
            }
        }
        let d_beta: Vec<f32> = d_beta.into_iter().map(|v| v as f32).collect();
        let d_gamma: Vec<f32> = d_gamma.into_iter().map(|v| v as f32).collect();
        let gamma = &self.weight.value;
        let k: Vec<f32> = (0..self.channels).map(|c| gamma[c] * inv_std[c]).collect();
        let per_cell = |f: &dyn Fn(usize, f32, f32) -> f32| {
            let mut out = zero.clone().into_dimensionality::<Ix4>().expect("4-D");
            for ((mut o, ds), xs) in out
                .outer_iter_mut()
                .zip(d.outer_iter())
                .zip(xh.outer_iter())
            {
                for c in 0..self.channels {
                    let mut op = o.index_axis_mut(Axis(0), c);
                    let (dp, xp) = (ds.index_axis(Axis(0), c), xs.index_axis(Axis(0), c));
                    ndarray::Zip::from(&mut op)
                        .and(&dp)
                        .and(&xp)
                        .for_each(|o, &dv, &xv| *o = f(c, dv, xv));
                }
            }
            out.into_dyn()
        };
        Terms {
            direct: per_cell(&|c, dv, _| k[c] * dv),
            through_mean: per_cell(&|c, _, _| -k[c] * d_beta[c] / m),
            through_var: per_cell(&|c, _, xv| -k[c] * xv * d_gamma[c] / m),
            normalized,
            d_beta,
            d_gamma,
            stats,
            eps: self.eps,
        }
    }

    /// Adds dγ and dβ into the gradients and returns dx.
    pub fn backward(&mut self, x: &Tensor, d_out: &Tensor) -> Tensor {
        let t = self.terms(x, d_out);
        for c in 0..self.channels {
            self.weight.grad[c] += t.d_gamma[c];
            self.bias.grad[c] += t.d_beta[c];
        }
        let mut dx: Array4<f32> = t.direct.into_dimensionality().expect("4-D");
        dx.zip_mut_with(&t.through_mean, |a, &b| *a += b);
        dx.zip_mut_with(&t.through_var, |a, &b| *a += b);
        dx.into_dyn()
    }
}

/// `y = γ·(x − mean)·scale + β`, per channel of `x` `[N, C, H, W]`.
fn affine(x: &Tensor, mean: &[f32], scale: &[f32], gamma: &[f32], beta: &[f32]) -> Tensor {
    let mut y = x
        .view()
        .into_dimensionality::<Ix4>()
        .expect("batch norm input is 4-D")
        .to_owned();
    for mut sample in y.outer_iter_mut() {
        for (c, mut plane) in sample.outer_iter_mut().enumerate() {
            let (mu, k, b) = (mean[c], gamma[c] * scale[c], beta[c]);
            plane.mapv_inplace(|v| (v - mu) * k + b);
        }
    }
    y.into_dyn()
}
