//! Direct manipulation: a weight or a pixel moved by Δ runs the stepper's
//! own passes (at Δ = 0 the recorded step, bit for bit), a conv tap moves
//! its output by Δ times the input it meets (worked out by hand), and the
//! secant through L(w ± Δ) is backpropagation's slope as Δ shrinks.

mod common;

use backprop_viz::engine::network::Network;
use backprop_viz::engine::nudge::{loss_at, nudged_trace, Knob};
use backprop_viz::engine::optim::{Optimizer, OptimizerKind};
use backprop_viz::engine::stepper::Stepper;
use backprop_viz::engine::trace::Trace;
use common::{rng, uniform};
use ndarray::Dimension;
use rand::Rng;

fn recorded(preset: &str, batch: usize) -> Trace {
    let mut r = rng(7);
    let input = uniform(&[batch, 1, 28, 28], 0.0, 1.0, &mut r);
    let labels: Vec<u8> = (0..batch).map(|_| r.random_range(0..10)).collect();
    let net = Network::preset(preset, 3).unwrap();
    let mut stepper = Stepper::new(net, Optimizer::new(OptimizerKind::Sgd, 0.05));
    stepper.record = true;
    stepper.begin(input, labels);
    stepper.finish();
    stepper.trace().clone()
}

#[test]
fn no_nudge_is_the_recorded_step_number_for_number() {
    let t = recorded("seed", 4);
    let conv2 = t.index_of("conv2").unwrap();
    for knob in [
        Knob::Weight {
            layer: conv2,
            index: vec![0, 0, 1, 1],
        },
        Knob::Pixel {
            index: vec![1, 0, 14, 9],
        },
    ] {
        let n = nudged_trace(&t, &knob, 0.0).unwrap();
        assert_eq!(n.loss, t.loss);
        for (a, b) in n.layers.iter().zip(&t.layers) {
            assert_eq!(a.out, b.out);
            assert_eq!(a.weight_grad, b.weight_grad);
            assert_eq!(a.delta, b.delta);
        }
        // Not updated: the weights are the step's own.
        assert!(n.layers.iter().all(|l| l.weight_after.is_none()));
    }
}

#[test]
fn a_tap_moves_its_output_by_delta_times_the_input_it_meets() {
    let t = recorded("seed", 2);
    let conv2 = t.index_of("conv2").unwrap();
    let g = t.conv_geometry(conv2).unwrap();
    let (u, v, d) = (0usize, 2usize, 0.25f32);
    let knob = Knob::Weight {
        layer: conv2,
        index: vec![0, 0, u, v],
    };
    let n = nudged_trace(&t, &knob, d).unwrap();
    let (before, after) = (
        t.layers[conv2].out.as_deref().unwrap(),
        n.layers[conv2].out.as_deref().unwrap(),
    );
    let x = t.layer_input(conv2).unwrap();
    let mut touched = 0;
    for s in 0..2 {
        for i in 0..g.ho {
            for j in 0..g.wo {
                // By hand: y[i,j] = b + Σ F[u,v] x[i+u−p, j+v−p], so moving
                // one tap by Δ adds Δ times the one input under it (or 0 in
                // the padding).
                let meets = g
                    .input_cell((i, j), (u, v))
                    .map_or(0.0, |(y, xx)| x[[s, 0, y, xx]]);
                let moved = after[[s, 0, i, j]] - before[[s, 0, i, j]];
                assert!(
                    (moved - d * meets).abs() <= 1e-5,
                    "({s},{i},{j}): moved {moved}, Δ·x = {}",
                    d * meets
                );
                touched += usize::from(meets != 0.0);
            }
        }
    }
    assert!(touched > 0, "the tap met some non-zero input");
    // And the loss moved.
    assert_ne!(n.loss, t.loss);
}

#[test]
fn the_secant_becomes_the_gradient_as_the_nudge_shrinks() {
    for preset in ["seed", "lenet"] {
        let t = recorded(preset, 3);
        let conv1 = t.index_of("conv1").unwrap();
        let w = t.layers[conv1].weight_grad.as_deref().unwrap();
        // The conv1 tap with the largest gradient, and the pixel with the
        // largest delta: where the slope is the most telling.
        let (tap, _) = w
            .indexed_iter()
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
            .unwrap();
        let d0 = t.layers[0].delta.as_deref().unwrap();
        let (pixel, _) = d0
            .indexed_iter()
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
            .unwrap();
        for knob in [
            Knob::Weight {
                layer: conv1,
                index: tap.slice().to_vec(),
            },
            Knob::Pixel {
                index: pixel.slice().to_vec(),
            },
        ] {
            let slope = f64::from(knob.gradient(&t).unwrap());
            let secant = |h: f64| {
                let l = loss_at(&t, &knob, &[h, -h]).unwrap();
                (l[0] - l[1]) / (2.0 * h)
            };
            let err = (secant(1e-6) - slope).abs() / slope.abs();
            assert!(
                err < 1e-3,
                "{preset} {knob:?}: secant {} vs {slope}",
                secant(1e-6)
            );
            // L at Δ = 0 is the step's loss (f64 against f32).
            let l0 = loss_at(&t, &knob, &[0.0]).unwrap()[0];
            assert!((l0 - f64::from(t.loss.unwrap())).abs() < 1e-5);
        }
    }
}

#[test]
fn a_knob_that_is_not_there_is_refused() {
    let t = recorded("seed", 2);
    for knob in [
        Knob::Weight {
            layer: 0,
            index: vec![0, 0, 3, 0],
        },
        Knob::Weight {
            layer: 1,
            index: vec![0],
        },
        Knob::Weight {
            layer: 99,
            index: vec![0, 0, 0, 0],
        },
        Knob::Pixel {
            index: vec![2, 0, 0, 0],
        },
        Knob::Pixel { index: vec![0, 0] },
    ] {
        assert!(nudged_trace(&t, &knob, 0.1).is_none(), "{knob:?}");
        assert!(loss_at(&t, &knob, &[0.1]).is_none(), "{knob:?}");
    }
    let fine = Knob::Pixel {
        index: vec![0, 0, 0, 0],
    };
    assert!(nudged_trace(&t, &fine, f32::NAN).is_none());
    assert!(nudged_trace(&t, &fine, 0.1).is_some());
}

mod app_common;

use app_common::{harness, new_app, screen_texts, settle_until, to_phase};
use backprop_viz::app::UiCommand;
use backprop_viz::engine::stepper::Phase;
use backprop_viz::teach::explain::CellRef;
use egui_kittest::kittest::Queryable;

/// Selects `cell` and opens its nudge section (below the panel's fold:
/// scrolled to, then opened).
fn open_nudge(
    h: &mut egui_kittest::Harness<'static, backprop_viz::app::BackpropApp>,
    cell: &CellRef,
    section: &str,
) {
    h.state_mut().command(UiCommand::Select(Some(cell.clone())));
    h.run_steps(2);
    h.get_by_label_contains(section).scroll_to_me();
    h.run_steps(2);
    h.get_by_label_contains(section).click_accesskit();
    h.run_steps(2);
}

/// The nudge on screen, once its job has answered for `delta`.
fn nudged_to(h: &mut egui_kittest::Harness<'static, backprop_viz::app::BackpropApp>, delta: f32) {
    settle_until(h, |app| {
        app.nudge
            .as_ref()
            .is_some_and(|n| n.curve.is_some() && n.live.as_ref().is_some_and(|l| l.delta == delta))
    });
}

#[test]
fn moving_a_tap_in_the_app_shows_the_engines_numbers() {
    let mut h = harness(new_app());
    to_phase(&mut h, Phase::Backward(3));
    let cell = CellRef::WeightGrad {
        layer: 3,
        index: vec![0, 0, 1, 1],
    };
    open_nudge(&mut h, &cell, "Move this weight by hand");
    nudged_to(&mut h, 0.0);
    let t = app_common::snapshot(&h).trace;
    let knob = Knob::Weight {
        layer: 3,
        index: vec![0, 0, 1, 1],
    };
    // At Δ = 0 the engine's step is the recorded one.
    let live = h.state().nudge.as_ref().unwrap().live.clone().unwrap();
    assert_eq!(live.trace.loss, t.loss);
    // The slider moved (as a screen reader or a drag would): the numbers
    // on screen are the engine's for Δ.
    h.get_by_role_and_label(egui::accesskit::Role::Slider, "Δ")
        .set_value_accesskit(0.3);
    nudged_to(&mut h, 0.3);
    h.run_steps(2);
    let expected = nudged_trace(&t, &knob, 0.3).unwrap();
    let live = h.state().nudge.as_ref().unwrap().live.clone().unwrap();
    assert_eq!(live.trace.loss, expected.loss);
    assert_eq!(
        live.trace.layers[3].weight_grad,
        expected.layers[3].weight_grad
    );
    let l = loss_at(&t, &knob, &[0.3, -0.3]).unwrap();
    let texts = screen_texts(&h);
    let has = |s: &str| texts.iter().any(|t| t.contains(s));
    let loss_line = format!("L(w + Δ) = {:.6}", expected.loss.unwrap());
    assert!(has(&loss_line), "{loss_line} not on screen");
    let secant = format!("{:.5}", (l[0] - l[1]) / 0.6);
    assert!(
        has(&format!("2Δ = {secant};")),
        "secant {secant} not on screen"
    );
    // The maps of the moved step are drawn beside the panel's text, inside
    // the window.
    for label in ["dF with the nudge", "the output's change"] {
        let nodes: Vec<_> = h.query_all_by_label(label).collect();
        assert!(!nodes.is_empty(), "{label} not drawn");
        for node in nodes {
            let r = node.rect();
            assert!(
                r.width() > 20.0 && r.min.x > 800.0 && r.max.x <= 1600.0,
                "{label}: {r:?}"
            );
        }
    }
    // A bug hunt keeps to the loss: the right dF would give the bug away.
    let bug = backprop_viz::check::bugs::bugs_for(&t.specs())[0];
    h.state_mut().command(UiCommand::SetBug(Some(bug)));
    h.run_steps(3);
    assert!(h.query_by_label("dF with the nudge").is_none());
}

#[test]
fn a_pixel_moves_the_first_maps_by_delta_times_the_filter_turned() {
    let t = recorded("seed", 2);
    let (r, c, d) = (14usize, 9usize, 0.5f32);
    let knob = Knob::Pixel {
        index: vec![1, 0, r, c],
    };
    let n = nudged_trace(&t, &knob, d).unwrap();
    let g = t.conv_geometry(0).unwrap();
    let f = t.layers[0].weight.as_deref().unwrap();
    let (before, after) = (
        t.layers[0].out.as_deref().unwrap(),
        n.layers[0].out.as_deref().unwrap(),
    );
    for o in 0..g.cout {
        for i in 0..g.ho {
            for j in 0..g.wo {
                // By hand: the pixel sits under tap (u, v) of output (i, j)
                // when i + u − p = r and j + v − p = c: that output moves by
                // Δ·F[u, v], every other one not at all; sample 0 never.
                let tap = (0..g.k)
                    .flat_map(|u| (0..g.k).map(move |v| (u, v)))
                    .find(|&(u, v)| g.input_cell((i, j), (u, v)) == Some((r, c)));
                let want = tap.map_or(0.0, |(u, v)| d * f[[o, 0, u, v]]);
                let moved = after[[1, o, i, j]] - before[[1, o, i, j]];
                assert!(
                    (moved - want).abs() <= 1e-5,
                    "({o},{i},{j}): {moved} vs {want}"
                );
                assert_eq!(after[[0, o, i, j]], before[[0, o, i, j]]);
            }
        }
    }
    // Its slope is the delta handed to the input.
    assert_eq!(
        knob.gradient(&t),
        Some(t.layers[0].delta.as_deref().unwrap()[[1, 0, r, c]])
    );
}

#[test]
fn moving_a_pixel_in_the_app_draws_the_first_layers_change() {
    let mut h = harness(new_app());
    to_phase(&mut h, Phase::Backward(0));
    let cell = CellRef::Input {
        index: vec![0, 0, 14, 14],
    };
    open_nudge(&mut h, &cell, "Move this pixel by hand");
    nudged_to(&mut h, 0.0);
    h.state_mut()
        .command(UiCommand::Nudge(Some((cell.clone(), -0.25))));
    nudged_to(&mut h, -0.25);
    h.run_steps(2);
    let texts = screen_texts(&h);
    assert!(
        texts
            .iter()
            .any(|t| t.contains("How conv1's output moved (sample 0")),
        "no change map title"
    );
    assert!(h.query_all_by_label("the output's change").count() > 0);
    // The slider keeps to the pixel's range.
    h.state_mut().command(UiCommand::Nudge(Some((cell, 7.0))));
    h.run_steps(1);
    assert_eq!(h.state().nudge.as_ref().unwrap().delta, 1.0);
}

#[test]
fn a_run_holds_no_nudge() {
    let mut h = harness(new_app());
    to_phase(&mut h, Phase::Backward(3));
    h.state_mut().command(UiCommand::Run);
    settle_until(&mut h, |app| app.running());
    let cell = CellRef::WeightGrad {
        layer: 3,
        index: vec![0, 0, 1, 1],
    };
    h.state_mut().command(UiCommand::Nudge(Some((cell, 0.2))));
    h.run_steps(2);
    assert!(h.state().nudge.is_none(), "a nudge started during a run");
    h.state_mut().command(UiCommand::Pause);
    settle_until(&mut h, |app| !app.running());
}
