//! Batch parallelism with a fixed reduction order.
//!
//! Work is cut into chunks of `CHUNK` samples whatever the number of threads,
//! and per-chunk partial sums are added in chunk order, so every number is the
//! same on 1 thread or 16 (`--seed` promises that).

use rayon::prelude::*;

/// Samples per unit of parallel work.
pub const CHUNK: usize = 8;

/// Maps `f` over `items`, in parallel when the current rayon pool has more
/// than one thread, and returns the results in the order of `items`.
pub fn map_ordered<W, R, F>(items: Vec<W>, f: F) -> Vec<R>
where
    W: Send,
    R: Send,
    F: Fn(W) -> R + Sync + Send,
{
    if items.len() <= 1 || rayon::current_num_threads() <= 1 {
        items.into_iter().map(f).collect()
    } else {
        items.into_par_iter().map(f).collect()
    }
}

/// Whether an elementwise pass over `len` values is worth splitting across
/// the pool's threads (each value is computed alone, so the split changes
/// no number; below this size the handing out costs more than it saves).
pub fn split_elementwise(len: usize) -> bool {
    len >= 1 << 15 && rayon::current_num_threads() > 1
}

/// A zeroed array of `shape` for the chunks of a parallel pass to fill:
/// zeroed by every thread, a part each, when the pool has several (calloc's
/// one-thread memset of conv1's 1.6 MB output left the other thread idle).
pub fn zeros<D: ndarray::Dimension, Sh: ndarray::ShapeBuilder<Dim = D>>(
    shape: Sh,
) -> ndarray::Array<f32, D> {
    let shape = shape.into_shape_with_order();
    let len = shape.size();
    if !split_elementwise(len) {
        return ndarray::Array::zeros(shape);
    }
    let mut values = Vec::with_capacity(len);
    values.par_extend(rayon::iter::repeat_n(0.0f32, len));
    ndarray::Array::from_shape_vec(shape, values).expect("the shape's size")
}
