//! The CNN engine: layers with their forward and backward passes side by
//! side, the loss, optimizers, the network and the stepper that records
//! every number it computes. No GUI types, no files, no threads of its own
//! (it borrows rayon's pool when the caller installs one).

pub mod gradcheck;
pub mod layers;
pub mod loss;
pub mod network;
pub mod optim;
pub mod parallel;
pub mod stepper;
pub mod trace;

use std::sync::Arc;

/// Every activation, delta and parameter is an `f32` array of any rank:
/// `[N, C, H, W]` between conv layers, `[N, F]` between dense ones.
pub type Tensor = ndarray::ArrayD<f32>;

/// Tensors shared between the live network and the traces that views read:
/// a snapshot clones the `Arc`, and the optimizer copies on write only when
/// a snapshot still holds the old value.
pub type Shared = Arc<Tensor>;

/// Errors in a network's description or in what is fed to it.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum EngineError {
    #[error("{0}")]
    Spec(String),
    #[error("shape mismatch: {0}")]
    Shape(String),
}
