//! Softmax cross-entropy, mean over the batch (PyTorch's default), with one
//! fused backward. Shapes: logits `[N, K]`, labels `[N]`.
//!
//! - `p = softmax(logits)` (max subtracted first, for stability)
//! - `L = −(1/N) Σ_n log p[n, label_n]`
//! - `dL/dlogits = (p − one_hot(label)) / N` — the very first delta, the
//!   one every other delta in the network is made from.

use ndarray::{Array2, Axis, Ix2};

use crate::engine::Tensor;

/// What the loss computes for a batch.
#[derive(Debug, Clone)]
pub struct LossOutput {
    pub loss: f32,
    /// `[N, K]`
    pub probs: Tensor,
    /// `dL/dlogits`, `[N, K]`
    pub d_logits: Tensor,
}

/// Row-wise softmax of `[N, K]` logits.
pub fn softmax(logits: &Tensor) -> Array2<f32> {
    let logits = logits
        .view()
        .into_dimensionality::<Ix2>()
        .expect("logits are [N, K]");
    let mut p = logits.to_owned();
    for mut row in p.axis_iter_mut(Axis(0)) {
        let max = row.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        row.mapv_inplace(|v| (v - max).exp());
        let sum = row.sum();
        row.mapv_inplace(|v| v / sum);
    }
    p
}

pub fn softmax_cross_entropy(logits: &Tensor, labels: &[u8]) -> LossOutput {
    let z = logits
        .view()
        .into_dimensionality::<Ix2>()
        .expect("logits are [N, K]");
    let probs = softmax(logits);
    let n = labels.len();
    assert_eq!(probs.nrows(), n, "one label per sample");
    let mut loss = 0.0f64;
    let mut d = probs.clone();
    for (i, &label) in labels.iter().enumerate() {
        let l = label as usize;
        // −log p_l = log Σ_k e^(z_k − max) − (z_l − max): exact even when
        // p_l underflows to 0.
        let row = z.row(i);
        let max = row.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let log_sum: f64 = row
            .iter()
            .map(|&v| ((v - max) as f64).exp())
            .sum::<f64>()
            .ln();
        loss += log_sum - (z[[i, l]] - max) as f64;
        d[[i, l]] -= 1.0;
    }
    d.mapv_inplace(|v| v / n as f32);
    LossOutput {
        loss: (loss / n as f64) as f32,
        probs: probs.into_dyn(),
        d_logits: d.into_dyn(),
    }
}
