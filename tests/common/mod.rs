//! Helpers shared by the engine tests.
#![allow(dead_code)]

use backprop_viz::engine::Tensor;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Asserts `|actual − expected| ≤ atol + rtol·|expected|` elementwise and
/// reports the worst offender (llm.c's `check_tensor`).
pub fn check_close(actual: &[f32], expected: &[f32], atol: f32, rtol: f32, label: &str) {
    assert_eq!(actual.len(), expected.len(), "{label}: lengths differ");
    let mut worst = (0usize, 0.0f32, 0.0f32);
    let mut worst_excess = f32::NEG_INFINITY;
    for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        let diff = (a - e).abs();
        let excess = diff - (atol + rtol * e.abs());
        assert!(a.is_finite(), "{label}[{i}] is {a}");
        if excess > worst_excess {
            worst_excess = excess;
            worst = (i, a, e);
        }
    }
    let (i, a, e) = worst;
    eprintln!(
        "{label}: {} values, worst at [{i}]: {a} vs {e} (|diff| {:.3e})",
        actual.len(),
        (a - e).abs()
    );
    assert!(
        worst_excess <= 0.0,
        "{label}: [{i}] is {a}, expected {e} (|diff| {:.3e} > {atol:e} + {rtol:e}·|expected|)",
        (a - e).abs()
    );
}

pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// A tensor of uniform values in `[lo, hi)`.
pub fn uniform(shape: &[usize], lo: f32, hi: f32, rng: &mut ChaCha8Rng) -> Tensor {
    Tensor::from_shape_fn(shape.to_vec(), |_| rng.random_range(lo..hi))
}

pub fn flat(t: &Tensor) -> Vec<f32> {
    t.iter().copied().collect()
}
