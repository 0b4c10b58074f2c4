//! The animations of a conv layer's sums: every frame's running sums equal
//! a direct computation from the trace, and the last frame's equal the
//! trace's own values (the output y, this sample's share of dF as the
//! engine's backward pass makes it, the delta handed down).

use backprop_viz::animation::{frame, frames, Kind, Target};
use backprop_viz::engine::network::Network;
use backprop_viz::engine::optim::{Optimizer, OptimizerKind};
use backprop_viz::engine::stepper::Stepper;
use backprop_viz::engine::trace::Trace;
use backprop_viz::engine::Tensor;

fn traced(preset: &str) -> Trace {
    let mut s = Stepper::new(
        Network::preset(preset, 4).unwrap(),
        Optimizer::new(OptimizerKind::Sgd, 0.05),
    );
    s.record = true;
    let x = Tensor::from_shape_fn(vec![3, 1, 28, 28], |d| {
        ((d[0] * 5 + d[2] * 7 + d[3] * 3) % 13) as f32 / 12.0
    });
    s.train_batch(x, vec![2, 7, 9]);
    s.trace().clone()
}

/// `t[n, c, r, col]` with zero outside (the padding).
fn at(t: &Tensor, n: usize, c: usize, r: isize, col: isize) -> f64 {
    let (h, w) = (t.shape()[2] as isize, t.shape()[3] as isize);
    if r < 0 || col < 0 || r >= h || col >= w {
        0.0
    } else {
        f64::from(t[[n, c, r as usize, col as usize]])
    }
}

fn close(a: f64, b: f64, what: &str) {
    assert!((a - b).abs() <= 1e-9 + 1e-9 * b.abs(), "{what}: {a} vs {b}");
}

fn trace_close(a: f64, b: f32, what: &str) {
    assert!(
        (a - f64::from(b)).abs() <= 1e-6 + 1e-5 * f64::from(b).abs(),
        "{what}: animation ends at {a}, the trace holds {b}"
    );
}

fn check_layer(t: &Trace, layer: usize, n: usize, o: usize, c: usize) {
    let target = Target {
        layer,
        sample: n,
        out: o,
        input: c,
    };
    let w = t.layers[layer].weight.as_ref().unwrap();
    let b = t.layers[layer].bias.as_ref().unwrap();
    let x = t.layer_input(layer).unwrap();
    let d = t.delta_from_above(layer).unwrap();
    let (cin, k) = (w.shape()[1], w.shape()[2]);
    let p = ((t.layers[layer].out.as_ref().unwrap().shape()[2] + k - 1) - x.shape()[2]) / 2;
    let (ho, wo) = (d.shape()[2], d.shape()[3]);
    let (h, wd) = (x.shape()[2], x.shape()[3]);

    // Forward: y[i, j] = b + Σ_c Σ_uv F · x_pad, filled cell by cell.
    let y = |i: usize, j: usize| -> f64 {
        let mut s = f64::from(b[o]);
        for ch in 0..cin {
            for u in 0..k {
                for v in 0..k {
                    s += f64::from(w[[o, ch, u, v]])
                        * at(
                            x,
                            n,
                            ch,
                            (i + u) as isize - p as isize,
                            (j + v) as isize - p as isize,
                        );
                }
            }
        }
        s
    };
    let count = frames(t, Kind::Forward, target);
    assert_eq!(count, ho * wo);
    for f in 0..count {
        let fr = frame(t, Kind::Forward, target, f).unwrap();
        assert_eq!(fr.cell, (f / wo, f % wo));
        for (cell, sum) in fr.sums.iter().enumerate() {
            match sum {
                Some(s) => close(*s, y(cell / wo, cell % wo), "forward"),
                None => assert!(cell > f, "frame {f}: cell {cell} not reached"),
            }
        }
    }
    let last = frame(t, Kind::Forward, target, count - 1).unwrap();
    let out = t.layers[layer].out.as_ref().unwrap();
    for (cell, sum) in last.sums.iter().enumerate() {
        trace_close(sum.unwrap(), out[[n, o, cell / wo, cell % wo]], "y");
    }

    // dF (this sample): tap by tap, row of D by row.
    let count = frames(t, Kind::Gradient, target);
    assert_eq!(count, k * k * ho);
    for f in 0..count {
        let fr = frame(t, Kind::Gradient, target, f).unwrap();
        let (tap, row) = (f / ho, f % ho);
        assert_eq!(fr.cell, (tap / k, tap % k));
        for (tp, sum) in fr.sums.iter().enumerate() {
            let rows = match tp.cmp(&tap) {
                std::cmp::Ordering::Less => ho,
                std::cmp::Ordering::Equal => row + 1,
                std::cmp::Ordering::Greater => {
                    assert!(sum.is_none());
                    continue;
                }
            };
            let (u, v) = (tp / k, tp % k);
            let mut direct = 0.0;
            for i in 0..rows {
                for j in 0..wo {
                    direct += at(
                        x,
                        n,
                        c,
                        (i + u) as isize - p as isize,
                        (j + v) as isize - p as isize,
                    ) * f64::from(d[[n, o, i, j]]);
                }
            }
            close(sum.unwrap(), direct, "dF running sum");
        }
    }
    let share = t.sample_weight_grad(layer, n).unwrap();
    let last = frame(t, Kind::Gradient, target, count - 1).unwrap();
    for (tp, sum) in last.sums.iter().enumerate() {
        trace_close(sum.unwrap(), share[[o, c, tp / k, tp % k]], "dF share");
    }

    // D_below (this filter's share): rot180(F) over D padded by K−1−P.
    let q = (k - 1 - p) as isize;
    let count = frames(t, Kind::Below, target);
    assert_eq!(count, h * wd);
    for f in (0..count).step_by(7).chain([count - 1]) {
        let fr = frame(t, Kind::Below, target, f).unwrap();
        for (cell, sum) in fr.sums.iter().enumerate() {
            let Some(sum) = sum else {
                assert!(cell > f);
                continue;
            };
            let (yy, xx) = (cell / wd, cell % wd);
            let mut direct = 0.0;
            for u in 0..k {
                for v in 0..k {
                    direct += at(d, n, o, (yy + u) as isize - q, (xx + v) as isize - q)
                        * f64::from(w[[o, c, k - 1 - u, k - 1 - v]]);
                }
            }
            close(*sum, direct, "D_below running sum");
        }
    }
    if w.shape()[0] == 1 {
        // One filter: its share is the whole delta handed down.
        let below = t.layers[layer].delta.as_ref().unwrap();
        let last = frame(t, Kind::Below, target, count - 1).unwrap();
        for (cell, sum) in last.sums.iter().enumerate() {
            trace_close(sum.unwrap(), below[[n, c, cell / wd, cell % wd]], "D_below");
        }
    }
}

#[test]
fn the_question_s_network_animates_to_the_trace_s_numbers() {
    let t = traced("seed");
    for layer in [0, 3] {
        for n in 0..3 {
            check_layer(&t, layer, n, 0, 0);
        }
    }
}

#[test]
fn several_channels_animate_to_the_trace_s_numbers() {
    let t = traced("lenet");
    check_layer(&t, 3, 1, 5, 2);
    check_layer(&t, 0, 2, 7, 0);
}

#[test]
fn frames_beyond_the_end_stay_at_the_end_and_unready_steps_have_none() {
    let t = traced("seed");
    let target = Target {
        layer: 3,
        sample: 0,
        out: 0,
        input: 0,
    };
    let count = frames(&t, Kind::Gradient, target);
    assert_eq!(
        frame(&t, Kind::Gradient, target, count + 50),
        frame(&t, Kind::Gradient, target, count - 1)
    );
    assert_eq!(frames(&t, Kind::Gradient, Target { layer: 1, ..target }), 0);
    let mut fresh = t.clone();
    fresh.layers[3].delta = None;
    assert_eq!(frames(&fresh, Kind::Below, target), 0);
}
