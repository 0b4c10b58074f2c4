//! A stride-1 convolution done directly on one zero-padded sample, with no
//! im2col matrix: the two kernels under `conv.rs`'s direct path (native
//! only: in the browser they ran slower than GEMM, see `Conv2d::path`).
//!
//! In the "wide" layout a map's rows sit `Wp` apart, as in the padded input,
//! so one filter tap reads one contiguous run of the input for the whole
//! map (its last `Wp − Wo` columns per row are junk, dropped afterwards).
//! Each kernel then is a small matrix product whose inner dimension is the
//! list of taps, read straight from the padded sample at each tap's offset:
//!
//! - [`correlate`]: `out[b][j] = Σ_k w[b][k] · src[off[k] + j]` — the
//!   forward (`k` = every `(c, u, v)`), and D_below, which is the same
//!   correlation of the padded delta with the filter turned by 180°;
//! - [`dots`]: `g[b][k] = Σ_j d[b][j] · src[off[k] + j]` — dF.
//!
//! Both keep a block of outputs in eight accumulators of eight lanes (what
//! the compiler keeps in registers: twelve spilled, measured at 705 µs
//! against 417 µs for lenet's second conv forward at batch 64), so one load
//! of the input serves several outputs. Every sum has a fixed order, so the
//! numbers are the same on every run and thread count.
//!
//! The kernels process whole blocks of [`STEP`] columns, past `len` into
//! the junk: callers give every buffer [`SLACK`] zeros at its end.

/// Lanes of one vector of work.
pub const LANES: usize = 8;
/// Vectors per output row block in [`correlate`].
const J: usize = 4;
/// Columns one block of [`correlate`] covers.
pub const STEP: usize = LANES * J;
/// Zeros every buffer the kernels read or write carries past its data.
pub const SLACK: usize = STEP;

/// `len` rounded up to whole blocks.
pub fn rounded(len: usize) -> usize {
    len.div_ceil(STEP) * STEP
}

/// `a · b + c`, fused into one instruction where the CPU has one (x86-64
/// with FMA, which `.cargo/config.toml`'s x86-64-v3 target includes, and
/// every aarch64): one rounding instead of two, and half the instructions,
/// which is what bound these loops (the multiplies and adds had pipes to
/// spare; issuing them did not). Without it `mul_add` would be a call per
/// value, so there it is a multiply and an add.
#[inline(always)]
fn fused(a: f32, b: f32, c: f32) -> f32 {
    if cfg!(any(target_feature = "fma", target_arch = "aarch64")) {
        a.mul_add(b, c)
    } else {
        c + a * b
    }
}

/// `acc[l] += f · x[l]` over eight lanes: one vector multiply-add.
#[inline(always)]
fn madd(acc: &mut [f32; LANES], f: f32, x: &[f32; LANES]) {
    for l in 0..LANES {
        acc[l] = fused(f, x[l], acc[l]);
    }
}

/// `acc[l] += x[l] · y[l]` over eight lanes.
#[inline(always)]
fn mul_add(acc: &mut [f32; LANES], x: &[f32; LANES], y: &[f32; LANES]) {
    for l in 0..LANES {
        acc[l] = fused(x[l], y[l], acc[l]);
    }
}

#[inline(always)]
fn vector(values: &[f32], at: usize) -> &[f32; LANES] {
    values[at..at + LANES].try_into().expect("eight values")
}

/// `out[b·stride + j] = Σ_k w[b·K + k] · src[off[k] + j]` for `j` in
/// `0..rounded(len)` and each of the `out.len() / stride` outputs `b`
/// (`K = off.len()`, `stride ≥ rounded(len)`): two outputs at a time, a
/// last odd one alone. Every column up to `rounded(len)` is written (the
/// sums start at 0), so `out` needs no zeroing first.
pub fn correlate(
    off: &[usize],
    w: &[f32],
    src: &[f32],
    out: &mut [f32],
    stride: usize,
    len: usize,
) {
    let taps = off.len();
    let outputs = out.len() / stride;
    for b in (0..outputs).step_by(2) {
        let (w, out) = (&w[b * taps..], &mut out[b * stride..]);
        if b + 2 <= outputs {
            block::<2>(off, w, src, out, stride, len);
        } else {
            block::<1>(off, w, src, out, stride, len);
        }
    }
}

fn block<const B: usize>(
    off: &[usize],
    w: &[f32],
    src: &[f32],
    out: &mut [f32],
    stride: usize,
    len: usize,
) {
    let taps = off.len();
    // Each output's weights cut to the taps' length: indexing them by a
    // tap's number then needs no bounds check.
    let w: [&[f32]; B] = std::array::from_fn(|b| &w[b * taps..][..taps]);
    for j0 in (0..rounded(len)).step_by(STEP) {
        let mut acc = [[[0.0f32; LANES]; J]; B];
        for (k, &at) in off.iter().enumerate() {
            // One bounds check per tap; the constant-size pieces need none.
            let run: &[f32; STEP] = src[at + j0..at + j0 + STEP].try_into().expect("a block");
            let x: [[f32; LANES]; J] = std::array::from_fn(|jj| *vector(run, LANES * jj));
            for b in 0..B {
                let f = w[b][k];
                for jj in 0..J {
                    madd(&mut acc[b][jj], f, &x[jj]);
                }
            }
        }
        for (b, acc) in acc.iter().enumerate() {
            for (jj, acc) in acc.iter().enumerate() {
                let at = b * stride + j0 + LANES * jj;
                out[at..at + LANES].copy_from_slice(acc);
            }
        }
    }
}

/// Taps per block in [`dots`].
const T: usize = 4;

/// `g[b·K + k] += Σ_j d[b·stride + j] · src[off[k] + j]` for `j` in
/// `0..rounded(len)` (`d` zero in its junk columns and up to `stride ≥
/// rounded(len)`), each of the `d.len() / stride` rows `b` and taps `k`
/// (`K = off.len()`): blocks of two rows by four taps.
///
/// Each `g` is kept as its eight lanes' partial sums (`j mod 8`), for the
/// caller to add up once all its samples' dots are in: adding the lanes
/// after every sample took about a sixth of the kernel's time (lenet
/// conv2's backward ~980 → ~900 µs).
pub fn dots(
    off: &[usize],
    d: &[f32],
    stride: usize,
    src: &[f32],
    len: usize,
    g: &mut [[f32; LANES]],
) {
    let taps = off.len();
    let rows = d.len() / stride;
    let mut b = 0;
    while b < rows {
        let two = b + 2 <= rows;
        let mut k = 0;
        while k < taps {
            let four = k + T <= taps;
            let (d, g) = (&d[b * stride..], &mut g[b * taps + k..]);
            match (two, four) {
                (true, true) => dot_block::<2, T>(&off[k..], d, stride, src, len, g, taps),
                (true, false) => dot_block::<2, 1>(&off[k..], d, stride, src, len, g, taps),
                (false, true) => dot_block::<1, T>(&off[k..], d, stride, src, len, g, taps),
                (false, false) => dot_block::<1, 1>(&off[k..], d, stride, src, len, g, taps),
            }
            k += if four { T } else { 1 };
        }
        b += if two { 2 } else { 1 };
    }
}

fn dot_block<const B: usize, const K: usize>(
    off: &[usize],
    d: &[f32],
    stride: usize,
    src: &[f32],
    len: usize,
    g: &mut [[f32; LANES]],
    taps: usize,
) {
    // Every run cut to the same whole vectors first: the loop then indexes
    // them without a bounds check per load (one per load ran at half speed).
    let n = rounded(len);
    let rows: [&[[f32; LANES]]; B] = std::array::from_fn(|b| d[b * stride..][..n].as_chunks().0);
    let runs: [&[[f32; LANES]]; K] = std::array::from_fn(|k| src[off[k]..][..n].as_chunks().0);
    let mut acc = [[[0.0f32; LANES]; K]; B];
    for i in 0..n / LANES {
        let dv: [[f32; LANES]; B] = std::array::from_fn(|b| rows[b][i]);
        for k in 0..K {
            let x = runs[k][i];
            for b in 0..B {
                mul_add(&mut acc[b][k], &x, &dv[b]);
            }
        }
    }
    for (b, acc) in acc.iter().enumerate() {
        for (k, acc) in acc.iter().enumerate() {
            for (g, a) in g[b * taps + k].iter_mut().zip(acc) {
                *g += a;
            }
        }
    }
}
