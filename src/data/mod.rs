//! Data: the untrusted IDX parser, datasets held as bytes, MNIST-style
//! preprocessing of pictures and drawings, training-time augmentation.

pub mod augment;
pub mod dataset;
pub mod idx;
pub mod preprocess;
