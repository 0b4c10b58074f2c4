//! The slice arithmetic the layers' loops share, written so the compiler
//! vectorises it. Every sum has a fixed order (lanes, then the lanes added
//! up left to right), so a result is the same on every run and thread count.

/// `y += a · x`, written so the compiler vectorises it.
#[inline]
pub fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}

/// `y += x` elementwise.
#[inline]
pub fn add_assign(y: &mut [f32], x: &[f32]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += xi;
    }
}

/// Dot product with 32 independent accumulators (a fixed order, so the
/// result is reproducible): four vector registers of eight, so that four
/// multiply-adds are in flight at once instead of each waiting for the last
/// (one register of eight ran at a quarter of the speed).
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 32;
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; LANES];
    let mut ca = a.chunks_exact(LANES);
    let mut cb = b.chunks_exact(LANES);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for l in 0..LANES {
            acc[l] += x[l] * y[l];
        }
    }
    let mut tail = 0.0;
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        tail += x * y;
    }
    acc.iter().sum::<f32>() + tail
}

/// `Σ f(v)` over `values` in 32 f32 lanes, added up in a fixed order: a
/// plane's sum vectorised. A sequential sum cannot be (each add waits for
/// the last): a conv's bias gradient summed that way took half of lenet's
/// first conv's backward pass.
#[inline]
pub fn lanes(values: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    const LANES: usize = 32;
    let mut acc = [0.0f32; LANES];
    let chunks = values.chunks_exact(LANES);
    let tail: f32 = chunks.remainder().iter().map(|&v| f(v)).sum();
    for chunk in chunks {
        for l in 0..LANES {
            acc[l] += f(chunk[l]);
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// `Σ values`, vectorised (see [`lanes`]).
#[inline]
pub fn sum(values: &[f32]) -> f32 {
    lanes(values, |v| v)
}
