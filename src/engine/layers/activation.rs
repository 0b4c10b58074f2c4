//! Elementwise activations. Shapes: any; `y` has the shape of `x`.
//!
//! - ReLU:    `y = max(0, x)`,        `d_in = d_out · [x > 0]` (0 at exactly 0, as PyTorch)
//! - sigmoid: `y = 1 / (1 + e^−x)`,   `d_in = d_out · y · (1 − y)`
//! - tanh:    `y = tanh x`,           `d_in = d_out · (1 − y²)`
//!
//! This is the "times the derivative of the activation" part of the seed's
//! answer, kept as its own step so the learner sees the mask it applies.

use ndarray::Zip;

use crate::engine::parallel::split_elementwise;
use crate::engine::Tensor;

/// `max(0, x)` by a comparison: `f32::max` has no instruction in wasm (its
/// NaN rule differs) and costs a call per value there. NaN gives 0, as
/// `f32::max` does.
#[inline]
fn relu(x: f32) -> f32 {
    if x > 0.0 {
        x
    } else {
        0.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    Relu,
    Sigmoid,
    Tanh,
}

impl Activation {
    pub fn apply(self, x: f32) -> f32 {
        match self {
            Activation::Relu => relu(x),
            Activation::Sigmoid => 1.0 / (1.0 + (-x).exp()),
            Activation::Tanh => x.tanh(),
        }
    }

    /// The derivative `dy/dx` written with the input `x` and output `y`.
    pub fn derivative(self, x: f32, y: f32) -> f32 {
        match self {
            Activation::Relu => {
                if x > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Activation::Sigmoid => y * (1.0 - y),
            Activation::Tanh => 1.0 - y * y,
        }
    }

    pub fn forward(self, x: &Tensor) -> Tensor {
        match self {
            // The network's most common layer: its own loop, vectorised,
            // and on all the pool's threads for a big batch.
            Activation::Relu if split_elementwise(x.len()) => {
                Zip::from(x).par_map_collect(|&v| relu(v))
            }
            Activation::Relu => x.mapv(relu),
            _ => x.mapv(|v| self.apply(v)),
        }
    }

    pub fn backward(self, x: &Tensor, y: &Tensor, d_out: &Tensor) -> Tensor {
        // `map_collect` fills a fresh tensor without zeroing it first.
        match self {
            // ReLU's derivative reads only `x`: one tensor fewer to stream
            // through (the layer is memory-bound), and no `match` per value.
            Activation::Relu => {
                let zip = Zip::from(x).and(d_out);
                let f = |&x: &f32, &g: &f32| g * Activation::Relu.derivative(x, 0.0);
                if split_elementwise(x.len()) {
                    zip.par_map_collect(f)
                } else {
                    zip.map_collect(f)
                }
            }
            _ => Zip::from(x)
                .and(y)
                .and(d_out)
                .map_collect(|&x, &y, &g| g * self.derivative(x, y)),
        }
    }

    /// `f′(x)` for every value: what `backward` multiplies the delta by
    /// (ReLU's 0/1 mask). The stepper records it for the views.
    pub fn derivatives(self, x: &Tensor, y: &Tensor) -> Tensor {
        Zip::from(x)
            .and(y)
            .map_collect(|&x, &y| self.derivative(x, y))
    }
}
