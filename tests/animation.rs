//! The animations (a conv layer's sums, pooling's routing, flatten's
//! unfolding): every frame's running sums equal
//! a direct computation from the trace, and the last frame's equal the
//! trace's own values (the output y, this sample's share of dF as the
//! engine's backward pass makes it, the delta handed down).

use backprop_viz::engine::network::Network;
use backprop_viz::engine::optim::{Optimizer, OptimizerKind};
use backprop_viz::engine::stepper::Stepper;
use backprop_viz::engine::trace::Trace;
use backprop_viz::engine::Tensor;
use backprop_viz::teach::animation::{frame, frames, Kind, Target};

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

/// Pooling's routing, window by window: each window's cells hold, once it
/// is reached, the delta at the cell holding the window's first maximum of
/// x (found here from x itself, not from the engine's record) and 0 at the
/// others (max), or 1/K² of it each (average); where windows overlap a cell
/// holds the sum of what the windows reached so far sent it. The last frame
/// is the trace's delta handed down.
fn check_route(t: &Trace, layer: usize, n: usize, c: usize, max: bool) {
    let target = Target {
        layer,
        sample: n,
        out: 0,
        input: c,
    };
    let (size, stride) = t.kinds[layer].pool_window().unwrap();
    let x = t.layer_input(layer).unwrap();
    let d = t.delta_from_above(layer).unwrap();
    let below = t.layers[layer].delta.as_ref().unwrap();
    let (ho, wo) = (d.shape()[2], d.shape()[3]);
    let (h, w) = (x.shape()[2], x.shape()[3]);
    let count = frames(t, Kind::Route, target);
    assert_eq!(count, ho * wo);
    // What each window sends each cell, by hand.
    let mut want: Vec<Option<f64>> = vec![None; h * w];
    for f in 0..count {
        let (i, j) = (f / wo, f % wo);
        let cells: Vec<(usize, usize)> = (0..size * size)
            .map(|k| (stride * i + k / size, stride * j + k % size))
            .collect();
        let mut best = cells[0];
        for &(r, col) in &cells[1..] {
            if x[[n, c, r, col]] > x[[n, c, best.0, best.1]] {
                best = (r, col);
            }
        }
        let delta = f64::from(d[[n, c, i, j]]);
        for (r, col) in cells {
            let sent = match max {
                true if (r, col) == best => delta,
                true => 0.0,
                false => delta / (size * size) as f64,
            };
            let cell = &mut want[r * w + col];
            *cell = Some(cell.unwrap_or(0.0) + sent);
        }
        let fr = frame(t, Kind::Route, target, f).unwrap();
        assert_eq!(fr.cell, (i, j));
        assert_eq!(fr.window, (i * stride, j * stride, size, size));
        for (cell, (&got, &want)) in fr.sums.iter().zip(&want).enumerate() {
            match want {
                None if f + 1 < count => {
                    assert_eq!(got, None, "frame {f}: cell {cell} not reached")
                }
                None => close(got.unwrap(), 0.0, "a cell no window covers"),
                Some(want) => close(got.unwrap(), want, "routed delta"),
            }
        }
    }
    let last = frame(t, Kind::Route, target, count - 1).unwrap();
    for (cell, value) in last.sums.iter().enumerate() {
        trace_close(value.unwrap(), below[[n, c, cell / w, cell % w]], "D_below");
    }
}

/// Overlapping windows (3 wide, 2 apart), max and average: a cell in two
/// windows adds up what both send it, frame by frame.
#[test]
fn overlapping_pools_add_up_what_each_window_sends() {
    let specs = Network::specs_from_json(include_str!("fixtures/pools.json")).unwrap();
    let mut net = Network::new(specs).unwrap();
    net.init(2);
    let mut s = Stepper::new(net, Optimizer::new(OptimizerKind::Sgd, 0.05));
    s.record = true;
    let x = Tensor::from_shape_fn(vec![2, 1, 28, 28], |d| {
        ((d[2] * 5 + d[3] * 3) % 13) as f32 / 12.0
    });
    s.train_batch(x, vec![1, 7]);
    let t = s.trace().clone();
    for n in 0..2 {
        check_route(&t, 2, n, 3, true);
        check_route(&t, 5, n, 1, false);
        check_route(&t, 6, n, 2, false);
    }
}

#[test]
fn max_pooling_routes_each_delta_to_its_window_s_first_maximum() {
    let t = traced("seed");
    for n in 0..3 {
        check_route(&t, 2, n, 0, true);
        check_route(&t, 5, n, 0, true);
    }
    let t = traced("lenet");
    check_route(&t, 2, 1, 6, true);
    check_route(&t, 5, 2, 13, true);
}

#[test]
fn average_pooling_spreads_each_delta_over_its_window() {
    let specs = r#"[
        {"name": "conv", "kind": "conv", "in_channels": 1, "out_channels": 2, "kernel": 3, "padding": 1},
        {"name": "avg", "kind": "avgpool", "size": 2},
        {"name": "flat", "kind": "flatten"},
        {"name": "fc", "kind": "dense", "in": 392, "out": 10}
    ]"#;
    let mut net = Network::new(Network::specs_from_json(specs).unwrap()).unwrap();
    net.init(5);
    let mut s = Stepper::new(net, Optimizer::new(OptimizerKind::Sgd, 0.05));
    s.record = true;
    let x = Tensor::from_shape_fn(vec![2, 1, 28, 28], |d| {
        ((d[2] * 3 + d[3]) % 11) as f32 / 10.0
    });
    s.train_batch(x, vec![3, 8]);
    let t = s.trace().clone();
    check_route(&t, 1, 1, 1, false);
}

/// Flatten's delta put back: entry k of the channel's stretch lands in
/// cell (k / w, k % w) from frame k on; the last frame is the trace's map.
#[test]
fn flatten_puts_each_entry_back_in_its_cell() {
    let t = traced("lenet");
    let layer = 6;
    let d = t.delta_from_above(layer).unwrap();
    let below = t.layers[layer].delta.as_ref().unwrap();
    let (h, w) = (below.shape()[2], below.shape()[3]);
    for (n, c) in [(0, 0), (2, 15), (1, 7)] {
        let target = Target {
            layer,
            sample: n,
            out: 0,
            input: c,
        };
        let count = frames(&t, Kind::Unflatten, target);
        assert_eq!(count, h * w);
        for f in 0..count {
            let fr = frame(&t, Kind::Unflatten, target, f).unwrap();
            assert_eq!(fr.cell, (f / w, f % w));
            for (k, value) in fr.sums.iter().enumerate() {
                match value {
                    Some(v) => {
                        assert!(k <= f);
                        assert_eq!(*v, f64::from(d[[n, c * h * w + k]]));
                        assert_eq!(*v, f64::from(below[[n, c, k / w, k % w]]));
                    }
                    None => assert!(k > f, "frame {f}: entry {k} missing"),
                }
            }
        }
    }
    // A kind on a layer of another sort has no frames.
    let target = Target {
        layer,
        sample: 0,
        out: 0,
        input: 0,
    };
    assert_eq!(frames(&t, Kind::Route, target), 0);
    assert_eq!(
        frames(&t, Kind::Unflatten, Target { layer: 5, ..target }),
        0
    );
    assert_eq!(
        frames(
            &t,
            Kind::Unflatten,
            Target {
                input: 16,
                ..target
            }
        ),
        0
    );
}

/// Stride 2, dilation 2 and both: each conv layer's animation ends on the
/// trace's own numbers (y, this sample's share of dF, and, with one filter,
/// the delta handed down: D dilated by the stride, fully convolved with the
/// dilated filter turned by 180°).
#[test]
fn strided_and_dilated_layers_animate_to_the_trace_s_numbers() {
    use backprop_viz::engine::layers::{LayerKind, LayerSpec};
    let conv =
        |name: &str, cout: usize, padding: usize, stride: usize, dilation: usize| LayerSpec {
            name: name.into(),
            kind: LayerKind::Conv {
                in_channels: 1,
                out_channels: cout,
                kernel: 3,
                padding,
                stride,
                dilation,
            },
        };
    let plain = |name: &str, kind: LayerKind| LayerSpec {
        name: name.into(),
        kind,
    };
    // 28 → 14 (stride 2) → 14 (dilation 2, padding 2) → 6 (both, no padding).
    let specs = vec![
        conv("c1", 1, 1, 2, 1),
        plain("r1", LayerKind::Relu),
        conv("c2", 1, 2, 1, 2),
        plain("r2", LayerKind::Relu),
        conv("c3", 1, 0, 2, 2),
        plain("flat", LayerKind::Flatten),
        plain(
            "fc",
            LayerKind::Dense {
                inputs: 25,
                outputs: 10,
            },
        ),
    ];
    let mut net = Network::new(specs).unwrap();
    net.init(3);
    let mut s = Stepper::new(net, Optimizer::new(OptimizerKind::Sgd, 0.05));
    s.record = true;
    let x = Tensor::from_shape_fn(vec![2, 1, 28, 28], |d| {
        ((d[0] * 5 + d[2] * 7 + d[3] * 3) % 13) as f32 / 12.0
    });
    s.train_batch(x, vec![3, 8]);
    let t = s.trace().clone();
    for layer in [0, 2, 4] {
        for n in 0..2 {
            let target = Target {
                layer,
                sample: n,
                out: 0,
                input: 0,
            };
            let what = |w: &str| format!("{} sample {n}: {w}", t.names[layer]);
            let out = t.layers[layer].out.as_ref().unwrap();
            let (ho, wo) = (out.shape()[2], out.shape()[3]);
            let count = frames(&t, Kind::Forward, target);
            assert_eq!(count, ho * wo, "{}", what("forward frames"));
            let last = frame(&t, Kind::Forward, target, count - 1).unwrap();
            for (cell, sum) in last.sums.iter().enumerate() {
                trace_close(sum.unwrap(), out[[n, 0, cell / wo, cell % wo]], &what("y"));
            }
            let count = frames(&t, Kind::Gradient, target);
            let share = t.sample_weight_grad(layer, n).unwrap();
            let last = frame(&t, Kind::Gradient, target, count - 1).unwrap();
            for (tp, sum) in last.sums.iter().enumerate() {
                trace_close(
                    sum.unwrap(),
                    share[[0, 0, tp / 3, tp % 3]],
                    &what("dF share"),
                );
            }
            if layer > 0 {
                let below = t.layers[layer].delta.as_ref().unwrap();
                let wd = below.shape()[3];
                let count = frames(&t, Kind::Below, target);
                let last = frame(&t, Kind::Below, target, count - 1).unwrap();
                for (cell, sum) in last.sums.iter().enumerate() {
                    trace_close(
                        sum.unwrap(),
                        below[[n, 0, cell / wd, cell % wd]],
                        &what("D_below"),
                    );
                }
            }
        }
    }
}

/// A transposed conv's delta (`updown`'s up1: 4 channels in, 1 out,
/// stride 2): every frame's sums are the strided correlation of D with
/// F[i, o] summed over o, worked here from the trace's D and F, for the
/// cells reached so far and none beyond; the last frame is the trace's
/// delta for every input channel.
#[test]
fn a_transposed_conv_s_delta_fills_in_to_the_trace_s_numbers() {
    let t = traced("updown");
    let layer = 2;
    let d = t.delta_from_above(layer).unwrap();
    let f = t.layers[layer].weight.as_ref().unwrap();
    let below = t.layers[layer].delta.as_ref().unwrap();
    let (h, w) = (below.shape()[2], below.shape()[3]);
    for (n, i) in [(0, 0), (1, 3), (2, 2)] {
        let target = Target {
            layer,
            sample: n,
            out: 0,
            input: i,
        };
        let count = frames(&t, Kind::Scatter, target);
        assert_eq!(count, h * w);
        for index in [0, 1, 15, 14 * 7 + 3, count - 1] {
            let fr = frame(&t, Kind::Scatter, target, index).unwrap();
            for (cell, sum) in fr.sums.iter().enumerate() {
                let (a, b) = (cell / w, cell % w);
                if cell > index {
                    assert_eq!(*sum, None, "frame {index} cell {cell}");
                    continue;
                }
                let mut by_hand = 0.0;
                for o in 0..f.shape()[1] {
                    for u in 0..3 {
                        for v in 0..3 {
                            let (r, c) = ((2 * a + u) as isize - 1, (2 * b + v) as isize - 1);
                            by_hand += f64::from(f[[i, o, u, v]]) * at(d, n, o, r, c);
                        }
                    }
                }
                close(sum.unwrap(), by_hand, "scatter");
            }
            assert_eq!(fr.cell, (index / w, index % w));
        }
        let last = frame(&t, Kind::Scatter, target, count - 1).unwrap();
        for (cell, sum) in last.sums.iter().enumerate() {
            trace_close(sum.unwrap(), below[[n, i, cell / w, cell % w]], "up1 delta");
        }
    }
}

/// Batch norm's delta (`bn`'s bn2): each frame adds one more cell's three
/// recorded terms; the last frame is the trace's delta exactly.
#[test]
fn batch_norm_s_delta_fills_in_to_the_trace_s_numbers() {
    let t = traced("bn");
    let layer = t.index_of("bn2").unwrap();
    let below = t.layers[layer].delta.as_ref().unwrap();
    let (h, w) = (below.shape()[2], below.shape()[3]);
    let target = Target {
        layer,
        sample: 1,
        out: 5,
        input: 5,
    };
    let count = frames(&t, Kind::Normalize, target);
    assert_eq!(count, h * w);
    for index in 0..count {
        let fr = frame(&t, Kind::Normalize, target, index).unwrap();
        for (cell, sum) in fr.sums.iter().enumerate() {
            match sum {
                Some(v) => {
                    assert!(cell <= index);
                    assert_eq!(*v, f64::from(below[[1, 5, cell / w, cell % w]]));
                }
                None => assert!(cell > index),
            }
        }
    }
    // Not the kind of the layer: nothing to play.
    assert_eq!(frames(&t, Kind::Scatter, target), 0);
}
