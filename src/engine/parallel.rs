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
