//! The browser's kernels for a stride-1 conv with few channel pairs (`seed`,
//! lenet's first conv): one long AXPY per filter tap over the "wide" layout
//! (rows `Wp` apart), a 3x3 filter's nine taps in one pass. In wasm they
//! train `seed` faster than `direct.rs`'s blocked kernels (87k against 68k
//! samples/s, `web/test/train-profile.mjs`); natively the blocked kernels
//! are the faster. Tested natively against the oracle all the same (below).

use super::{tap_row, ConvGeometry};
use crate::engine::layers::vector::{axpy, dot};

/// One sample, few channels: for each output map, one long AXPY per tap over
/// the "wide" layout (see `ConvGeometry::wide_len`), then the valid columns copied out.
pub(super) fn forward(
    g: &ConvGeometry,
    pad: &[f32],
    w: &[f32],
    b: &[f32],
    out: &mut [f32],
    wide: &mut [f32],
) {
    let len = g.wide_len();
    for (o, out_o) in out.chunks_exact_mut(g.plane()).enumerate() {
        wide.fill(b[o]);
        for c in 0..g.cin {
            let tap = |u: usize, v: usize| {
                let f = w[((o * g.cin + c) * g.k + u) * g.k + v];
                (f, tap_row(g, c, u, v, 0))
            };
            if g.k == 3 {
                let nine: [(f32, usize); 9] = std::array::from_fn(|t| tap(t / 3, t % 3));
                correlate_3x3(&nine, pad, &mut wide[..len]);
                continue;
            }
            for u in 0..g.k {
                for v in 0..g.k {
                    let (f, at) = tap(u, v);
                    axpy(f, &pad[at..at + len], &mut wide[..len]);
                }
            }
        }
        for i in 0..g.ho {
            out_o[i * g.wo..(i + 1) * g.wo].copy_from_slice(&wide[i * g.wp()..i * g.wp() + g.wo]);
        }
    }
}

/// `out[j] += Σ_t f_t · pad[at_t + j]` over a 3x3 filter's nine taps
/// `(f_t, at_t)`, in tap order: the nine AXPYs the general case does, added
/// in the same order (so the same numbers), but with each output value kept
/// in a register across the taps instead of stored and loaded nine times
/// (lenet's first conv forward at batch 64: 355 → 290 µs).
fn correlate_3x3(taps: &[(f32, usize); 9], pad: &[f32], out: &mut [f32]) {
    let len = out.len();
    let rows: [&[f32]; 9] = std::array::from_fn(|t| &pad[taps[t].1..][..len]);
    let f: [f32; 9] = std::array::from_fn(|t| taps[t].0);
    for (j, o) in out.iter_mut().enumerate() {
        let mut acc = *o;
        for t in 0..9 {
            acc += f[t] * rows[t][j];
        }
        *o = acc;
    }
}

pub(super) fn backward(
    g: &ConvGeometry,
    pad: &[f32],
    w: &[f32],
    d: &[f32],
    d_w: &mut [f32],
    mut d_pad: Option<&mut [f32]>,
    wide: &mut [f32],
) {
    let len = g.wide_len();
    // D in the wide layout, zeros in the junk columns.
    for (o, d_o) in d.chunks_exact(g.plane()).enumerate() {
        for i in 0..g.ho {
            let at = o * g.ho * g.wp() + i * g.wp();
            wide[at..at + g.wo].copy_from_slice(&d_o[i * g.wo..(i + 1) * g.wo]);
        }
    }
    for o in 0..g.cout {
        let d_o = &wide[o * g.ho * g.wp()..][..len];
        for c in 0..g.cin {
            let first = (o * g.cin + c) * g.k * g.k;
            if g.k == 3 {
                // dF's nine taps in one pass over D.
                let at: [usize; 9] = std::array::from_fn(|t| tap_row(g, c, t / 3, t % 3, 0));
                for (dw, s) in d_w[first..first + 9]
                    .iter_mut()
                    .zip(dots_3x3(&at, pad, d_o))
                {
                    *dw += s;
                }
            }
            for u in 0..g.k {
                for v in 0..g.k {
                    let tap = first + u * g.k + v;
                    let at = tap_row(g, c, u, v, 0);
                    // dF: the input under this tap, correlated with D.
                    if g.k != 3 {
                        d_w[tap] += dot(&pad[at..at + len], d_o);
                    }
                    // D_below: every output's delta flows back through this
                    // tap's weight to the input it read. Summed over taps this
                    // scatter is the full convolution of D with rot180(F).
                    if let Some(d_pad) = d_pad.as_deref_mut() {
                        axpy(w[tap], d_o, &mut d_pad[at..at + len]);
                    }
                }
            }
        }
    }
}

/// The nine dot products `Σ_j pad[at_t + j] · d[j]` of a 3x3 filter's taps
/// in one pass over `d`, each in eight lanes added up in a fixed order:
/// one load of `d` serves nine multiply-adds.
fn dots_3x3(at: &[usize; 9], pad: &[f32], d: &[f32]) -> [f32; 9] {
    let len = d.len();
    let whole = len - len % 8;
    let rows: [&[f32]; 9] = std::array::from_fn(|t| &pad[at[t]..][..len]);
    let mut acc = [[0.0f32; 8]; 9];
    for (k, dk) in d[..whole].chunks_exact(8).enumerate() {
        let dk: [f32; 8] = dk.try_into().expect("eight values");
        for (acc, row) in acc.iter_mut().zip(&rows) {
            let xk: [f32; 8] = row[8 * k..8 * k + 8].try_into().expect("eight values");
            lanes8(acc, &xk, &dk);
        }
    }
    std::array::from_fn(|t| {
        let tail: f32 = (whole..len).map(|j| rows[t][j] * d[j]).sum();
        acc[t].iter().sum::<f32>() + tail
    })
}

/// `acc[l] += x[l] · d[l]` for eight lanes: one vector multiply and add.
#[inline(always)]
fn lanes8(acc: &mut [f32; 8], x: &[f32; 8], d: &[f32; 8]) {
    for l in 0..8 {
        acc[l] += x[l] * d[l];
    }
}

#[cfg(test)]
mod tests {
    use super::super::{backward_naive, forward_naive, pad_chunk, ConvGeometry};
    use ndarray::{Array1, Array4};

    /// Both kernels against the six-loop oracle: a 3x3 filter (the nine-tap
    /// passes) and a 5x5 one, no and some padding, several channels.
    #[test]
    fn axpy_kernels_match_the_naive_oracle() {
        for (n, cin, cout, k, p, side) in
            [(2, 1, 1, 3, 1, 9), (3, 2, 4, 3, 0, 7), (2, 1, 3, 5, 2, 8)]
        {
            let value = |i: usize| ((i * 7919 % 201) as f32 - 100.0) / 100.0;
            let x = Array4::from_shape_fn((n, cin, side, side), |(a, b, c, d)| {
                value(a * 1000 + b * 100 + c * 10 + d)
            });
            let w = Array4::from_shape_fn((cout, cin, k, k), |(a, b, c, d)| {
                value(a * 999 + b * 77 + c * 5 + d + 3)
            });
            let bias = Array1::from_shape_fn(cout, |o| value(o + 11));
            let g = ConvGeometry::new((cin, side, side), cout, k, p, (1, 1)).unwrap();
            let xs = x.as_slice().unwrap();
            let (ws, bs) = (w.as_slice().unwrap(), bias.as_slice().unwrap());
            let pads = pad_chunk(&g, n, xs);
            let mut y = vec![0.0; n * cout * g.plane()];
            let mut wide = vec![0.0; g.ho * g.wp()];
            for (pad, out) in pads
                .chunks_exact(g.padded_len())
                .zip(y.chunks_exact_mut(cout * g.plane()))
            {
                super::forward(&g, pad, ws, bs, out, &mut wide);
            }
            let y_ref = forward_naive(&x, &w, &bias, p);
            let d = Array4::from_shape_fn(y_ref.raw_dim(), |(a, b, c, e)| {
                value(a * 31 + b * 17 + c * 3 + e + 5)
            });
            let (dw_ref, _, d_in_ref) = backward_naive(&x, &w, &d, p);
            let mut d_w = vec![0.0; cout * g.taps()];
            let mut d_pads = vec![0.0; pads.len()];
            let mut wide = vec![0.0; cout * g.ho * g.wp()];
            for (s, (pad, d1)) in pads
                .chunks_exact(g.padded_len())
                .zip(d.as_slice().unwrap().chunks_exact(cout * g.plane()))
                .enumerate()
            {
                let d_pad = &mut d_pads[s * g.padded_len()..(s + 1) * g.padded_len()];
                super::backward(&g, pad, ws, d1, &mut d_w, Some(d_pad), &mut wide);
            }
            let close = |a: &[f32], b: &[f32], what: &str| {
                assert_eq!(a.len(), b.len(), "{what}");
                for (i, (a, b)) in a.iter().zip(b).enumerate() {
                    assert!(
                        (a - b).abs() <= 1e-4 * (1.0 + b.abs()),
                        "{what}[{i}]: {a} against {b}"
                    );
                }
            };
            close(&y, y_ref.as_slice().unwrap(), "y");
            close(&d_w, dw_ref.as_slice().unwrap(), "dF");
            let mut d_in = vec![0.0; n * cin * side * side];
            for (d_pad, d1) in d_pads
                .chunks_exact(g.padded_len())
                .zip(d_in.chunks_exact_mut(cin * side * side))
            {
                super::super::crop_sample(&g, d_pad, d1);
            }
            close(&d_in, d_in_ref.as_slice().unwrap(), "D_below");
        }
    }
}
