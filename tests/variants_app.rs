//! The conv variants (stride, dilation) in the app: a network of them
//! steps through every phase, drawn at 1600x1000 and on a 720p projector,
//! with cells of every tensor selected, and never panics; clicking a cell
//! explains it with terms that add up to the trace's number.

use backprop_viz::app::state::NetworkSource;
use backprop_viz::app::UiCommand;
use backprop_viz::engine::layers::{LayerKind, LayerSpec};
use backprop_viz::engine::network::Network;
use backprop_viz::engine::optim::{Optimizer, OptimizerKind};
use backprop_viz::engine::stepper::{Phase, Stepper};
use backprop_viz::engine::Tensor;
use backprop_viz::teach::explain::{explain, CellRef};

mod app_common;
use app_common::{harness, new_app, set_settings, settle, snapshot};

fn conv(
    name: &str,
    cin: usize,
    cout: usize,
    p: usize,
    stride: usize,
    dilation: usize,
) -> LayerSpec {
    LayerSpec {
        name: name.into(),
        kind: LayerKind::Conv {
            in_channels: cin,
            out_channels: cout,
            kernel: 3,
            padding: p,
            stride,
            dilation,
        },
    }
}

fn plain(name: &str, kind: LayerKind) -> LayerSpec {
    LayerSpec {
        name: name.into(),
        kind,
    }
}

/// 28 → 14 (stride 2) → 14 (dilation 2) → 6 (both), then a dense layer.
fn variants() -> Network {
    let mut net = Network::new(vec![
        conv("conv1", 1, 4, 1, 2, 1),
        plain("relu1", LayerKind::Relu),
        conv("conv2", 4, 4, 2, 1, 2),
        plain("relu2", LayerKind::Relu),
        conv("conv3", 4, 2, 0, 2, 2),
        plain("flatten", LayerKind::Flatten),
        plain(
            "fc",
            LayerKind::Dense {
                inputs: 2 * 5 * 5,
                outputs: 10,
            },
        ),
    ])
    .expect("the variants plan");
    net.init(11);
    net
}

/// Every conv cell explained adds up to what the engine recorded.
#[test]
fn strided_and_dilated_cells_explain_to_the_trace() {
    let mut s = Stepper::new(variants(), Optimizer::new(OptimizerKind::Sgd, 0.05));
    s.record = true;
    let x = Tensor::from_shape_fn(vec![3, 1, 28, 28], |d| {
        ((d[0] * 5 + d[2] * 7 + d[3] * 3) % 13) as f32 / 12.0
    });
    s.train_batch(x, vec![1, 4, 7]);
    let t = s.trace().clone();
    let mut checked = 0;
    for layer in [0usize, 2, 4] {
        let out = t.layers[layer].out.as_ref().unwrap().shape().to_vec();
        let x = t.layer_input(layer).unwrap().shape().to_vec();
        let (cout, cin) = (out[1], x[1]);
        let mut cells = vec![];
        for (o, c, u, v) in [(0, 0, 0, 0), (cout - 1, cin - 1, 2, 1), (0, cin - 1, 1, 2)] {
            cells.push(CellRef::WeightGrad {
                layer,
                index: vec![o, c, u, v],
            });
        }
        for (n, o, i, j) in [
            (0, 0, 0, 0),
            (2, cout - 1, out[2] - 1, out[3] - 1),
            (1, 0, 1, 2),
        ] {
            cells.push(CellRef::Output {
                layer,
                index: vec![n, o, i, j],
            });
        }
        if layer > 0 {
            // The delta handed down, at cells between the windows' taps
            // (odd rows at stride 2) and on them.
            for (n, c, yy, xx) in [(0, 0, 0, 0), (1, cin - 1, 3, 5), (2, 0, x[2] - 1, x[3] - 1)] {
                cells.push(CellRef::Delta {
                    layer,
                    index: vec![n, c, yy, xx],
                });
            }
        }
        for cell in cells {
            let sample = match &cell {
                CellRef::WeightGrad { .. } => 1,
                CellRef::Output { index, .. } | CellRef::Delta { index, .. } => index[0],
                _ => 0,
            };
            let e = explain(&t, &cell, sample).unwrap_or_else(|| panic!("{cell:?} explained"));
            assert!(
                (e.total - e.recorded).abs() <= 1e-5 + 1e-4 * e.recorded.abs(),
                "{cell:?}: the terms add up to {}, the trace holds {}",
                e.total,
                e.recorded
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 24);
}

#[test]
fn the_app_steps_through_strided_and_dilated_layers() {
    steps_through(variants());
}

/// One step of [`pools`] on two striped pictures, recorded.
fn pools_trace() -> backprop_viz::engine::trace::Trace {
    let mut s = Stepper::new(pools(), Optimizer::new(OptimizerKind::Sgd, 0.05));
    s.record = true;
    let x = Tensor::from_shape_fn(vec![2, 1, 28, 28], |d| {
        ((d[2] * 5 + d[3] * 3) % 13) as f32 / 12.0
    });
    s.train_batch(x, vec![1, 7]);
    s.trace().clone()
}

/// Overlapping max and average pools, and a 2x2 average pool.
fn pools() -> Network {
    let specs = Network::specs_from_json(include_str!("fixtures/pools.json")).unwrap();
    let mut net = Network::new(specs).unwrap();
    net.init(3);
    net
}

#[test]
fn the_app_steps_through_overlapping_and_average_pools() {
    steps_through(pools());
}

/// Every phase of `net` drawn at 1600x1000 and on a 720p projector, in
/// Predict mode, with the last cell of every output and dF selected.
fn steps_through(net: Network) {
    let mut h = harness(new_app());
    settle(&mut h);
    h.state_mut()
        .command(UiCommand::UseNetwork(Box::new(net), NetworkSource::Editor));
    settle(&mut h);
    set_settings(&mut h, |s| s.predict = true);
    for (size, projector) in [((1600.0, 1000.0), false), ((1280.0, 720.0), true)] {
        h.set_size(egui::vec2(size.0, size.1));
        set_settings(&mut h, |s| s.projector = projector);
        h.state_mut().command(UiCommand::Reset);
        settle(&mut h);
        loop {
            h.state_mut().command(UiCommand::StepPhase);
            settle(&mut h);
            let snap = snapshot(&h);
            let Some(phase) = snap.last else { continue };
            h.run_steps(2);
            if let Phase::Forward(l) | Phase::Backward(l) = phase {
                let out = snap.trace.layers[l]
                    .out
                    .as_ref()
                    .map(|o| o.shape().to_vec());
                let mut cells = vec![];
                if let Some(out) = &out {
                    let last: Vec<usize> = out.iter().map(|d| d - 1).collect();
                    cells.push(CellRef::Output {
                        layer: l,
                        index: last,
                    });
                }
                if matches!(phase, Phase::Backward(_)) {
                    if let Some(w) = &snap.trace.layers[l].weight {
                        let last: Vec<usize> = w.shape().iter().map(|d| d - 1).collect();
                        cells.push(CellRef::WeightGrad {
                            layer: l,
                            index: last,
                        });
                    }
                }
                for cell in cells {
                    h.state_mut().command(UiCommand::Select(Some(cell)));
                    h.run_steps(2);
                }
            }
            if phase == Phase::Update {
                break;
            }
        }
    }
}

/// The checker's own formulas (the exercise's reference answers) give the
/// trace's dF, dB and delta for strided and dilated convs: a right answer
/// handed in is never called wrong.
#[test]
fn the_checker_s_formulas_hold_for_strided_and_dilated_convs() {
    use backprop_viz::check::exercise::layer_answers;
    let net = variants();
    let specs = net.specs.clone();
    let mut s = Stepper::new(net, Optimizer::new(OptimizerKind::Sgd, 0.05));
    s.record = true;
    let x = Tensor::from_shape_fn(vec![3, 1, 28, 28], |d| {
        ((d[0] * 3 + d[2] * 5 + d[3] * 7) % 11) as f32 / 10.0
    });
    s.train_batch(x, vec![0, 5, 9]);
    let t = s.trace().clone();
    let f64s = |a: &Tensor| a.mapv(f64::from);
    for layer in [0usize, 2, 4] {
        let r = &t.layers[layer];
        let answers = layer_answers(
            &specs[layer],
            &f64s(t.layer_input(layer).unwrap()),
            &f64s(t.delta_from_above(layer).unwrap()),
            r.weight.as_deref().map(f64s).as_ref(),
        )
        .unwrap();
        for (part, right) in answers {
            let traced = match part {
                "weight_grad" => r.weight_grad.as_ref(),
                "bias_grad" => r.bias_grad.as_ref(),
                _ => r.delta.as_ref(),
            };
            let Some(traced) = traced else { continue };
            assert_eq!(right.shape(), traced.shape(), "{part} of layer {layer}");
            let scale = traced.iter().fold(0.0f64, |m, v| m.max(f64::from(v.abs())));
            for (a, b) in right.iter().zip(traced.iter()) {
                assert!(
                    (a - f64::from(*b)).abs() <= 1e-5 * scale.max(1e-6),
                    "{part} of layer {layer}: {a} vs {b}"
                );
            }
        }
    }
}

/// At stride 2 the shape question offers the slip students make (the delta
/// kept at its own size) beside the right shape (the input's).
#[test]
fn a_strided_conv_s_shape_question_offers_the_undilated_delta() {
    use backprop_viz::teach::predict::{questions, Ask};
    let mut s = Stepper::new(variants(), Optimizer::new(OptimizerKind::Sgd, 0.05));
    s.record = true;
    let x = Tensor::from_shape_fn(vec![2, 1, 28, 28], |d| ((d[2] + d[3]) % 5) as f32 / 4.0);
    s.train_batch(x, vec![2, 6]);
    let t = s.trace().clone();
    let asks = questions(&t, Phase::Backward(4), 0, 0, 1);
    let Some(Ask::BelowShape { options, right, .. }) =
        asks.iter().find(|a| matches!(a, Ask::BelowShape { .. }))
    else {
        panic!("a shape question: {asks:?}")
    };
    assert_eq!(options[*right], "4×14×14");
    assert!(options.contains(&"4×5×5".to_string()), "{options:?}");
}

/// At a strided, dilated conv Predict mode also asks what the equation of
/// maps draws: the zeros between D's cells (S − 1) and the square the
/// filter with its holes covers (Dl·(K − 1) + 1). The right option is
/// marked right, the others wrong, each with its tempting slip offered, and
/// the answers travel to a class and back as the same option.
#[test]
fn a_strided_dilated_conv_asks_for_the_zeros_and_the_filter_s_span() {
    use backprop_viz::teach::predict::{
        from_wire, is_right, questions, to_wire, Ask, Given, Spacing,
    };
    let mut s = Stepper::new(variants(), Optimizer::new(OptimizerKind::Sgd, 0.05));
    s.record = true;
    let x = Tensor::from_shape_fn(vec![2, 1, 28, 28], |d| ((d[2] + d[3]) % 5) as f32 / 4.0);
    s.train_batch(x, vec![2, 6]);
    let t = s.trace().clone();
    for batch in [1, 2, 3] {
        let asks = questions(&t, Phase::Backward(4), 0, 0, batch);
        let spacing: Vec<_> = asks
            .iter()
            .filter_map(|a| match a {
                Ask::Spacing {
                    topic,
                    options,
                    right,
                    ..
                } => Some((a, *topic, options.clone(), *right)),
                _ => None,
            })
            .collect();
        assert_eq!(spacing.len(), 2, "{asks:?}");
        for (ask, topic, options, right) in spacing {
            let (truth, slip) = match topic {
                Spacing::StrideZeros { stride } => {
                    assert_eq!(stride, 2);
                    ("1", "0")
                }
                Spacing::FilterSpan { kernel, dilation } => {
                    assert_eq!((kernel, dilation), (3, 2));
                    ("5×5", "3×3")
                }
                other => panic!("a conv's question: {other:?}"),
            };
            assert_eq!(options[right], truth, "{ask:?}");
            assert!(options.iter().any(|o| o == slip), "{options:?}");
            for k in 0..options.len() {
                let given = Given::Choice(k);
                assert_eq!(is_right(&t, ask, &given), Some(k == right));
                let wire = to_wire(&t, ask, &given).unwrap();
                assert_eq!(from_wire(&t, ask, &wire), Some(given));
            }
        }
    }
    // conv1 (stride 2 only) asks for the zeros, conv2 (dilation 2 only)
    // for the span: each layer what it has.
    let topics = |layer: usize| -> Vec<Spacing> {
        questions(&t, Phase::Backward(layer), 0, 0, 1)
            .into_iter()
            .filter_map(|a| match a {
                Ask::Spacing { topic, .. } => Some(topic),
                _ => None,
            })
            .collect()
    };
    assert_eq!(topics(0), vec![Spacing::StrideZeros { stride: 2 }]);
    assert_eq!(
        topics(2),
        vec![Spacing::FilterSpan {
            kernel: 3,
            dilation: 2
        }]
    );
}

/// A map as it describes itself: `(title, rect, (rows, cols), cell side)`.
fn maps(
    h: &egui_kittest::Harness<'static, backprop_viz::app::BackpropApp>,
) -> Vec<(String, egui::Rect, (usize, usize), f32)> {
    use egui_kittest::kittest::{NodeT, Queryable};
    h.query_all_by(|n| n.role() == egui::accesskit::Role::Image)
        .filter_map(|n| {
            let node = n.accesskit_node();
            let value = node.value()?;
            let mut parts = value.splitn(3, "; ");
            let (size, cell) = (parts.next()?, parts.next()?);
            let (rows, cols) = size.split_once('x')?;
            Some((
                node.label().unwrap_or_default().to_string(),
                n.rect(),
                (rows.parse().ok()?, cols.parse().ok()?),
                cell.strip_suffix(" pt")?.parse().ok()?,
            ))
        })
        .collect()
}

/// The equation of maps at a conv with stride 2 and dilation 2 (conv3:
/// 14x14 → 5x5): D is drawn dilated, its cells 2 apart with a zero between,
/// padded by Dl·(K−1)−P = 4 before and 5 after (the stride's last step left
/// a row unread), so the turned filter's window (5x5: its taps 2 apart)
/// slides to exactly the 14x14 D_below. A click on an inserted zero selects
/// nothing; a click on one of D's own cells selects it.
#[test]
fn a_strided_dilated_conv_draws_d_dilated_and_the_filter_with_holes() {
    use backprop_viz::engine::stepper::Phase;
    let mut h = harness(new_app());
    h.set_size(egui::vec2(1600.0, 1000.0));
    settle(&mut h);
    h.state_mut().command(UiCommand::UseNetwork(
        Box::new(variants()),
        NetworkSource::Editor,
    ));
    settle(&mut h);
    app_common::to_phase(&mut h, Phase::Backward(4));
    let all = maps(&h);
    let find = |part: &str| {
        all.iter()
            .find(|m| m.0.contains(part))
            .unwrap_or_else(|| panic!("no map titled …{part}…: {all:#?}"))
    };
    let grid = |m: &(String, egui::Rect, (usize, usize), f32)| {
        (
            (m.1.height() / m.3).round() as usize,
            (m.1.width() / m.3).round() as usize,
        )
    };
    let d = find("dilated by the stride 2");
    // Described as drawn: D4's 5x5 cells 2 apart, the zeros between them
    // cells too.
    assert_eq!(d.2, (9, 9), "D4 is conv3's 5x5 delta, dilated");
    assert_eq!(grid(d), (4 + 9 + 5, 4 + 9 + 5), "{d:?}");
    eprintln!("DBG {d:?}");
    let f = find("its taps 2 apart");
    assert_eq!((f.2, grid(f)), ((5, 5), (5, 5)), "{f:?}");
    let below = all
        .iter()
        .find(|m| m.0.contains("handed to relu2"))
        .expect("D_below");
    assert_eq!(below.2, (14, 14));
    // A click on the zero between D[0,0] and D[0,1]: nothing selected.
    let at = |r: f32, c: f32| d.1.min + egui::vec2(c + 0.5, r + 0.5) * d.3;
    h.state_mut().command(UiCommand::Select(None));
    h.run_steps(2);
    app_common::click_at(&mut h, at(4.0, 5.0));
    h.run_steps(3);
    assert_eq!(h.state().selection(), None);
    // On D[1,1] (grid 4 + 2, 4 + 2): that delta cell.
    app_common::click_at(&mut h, at(6.0, 6.0));
    h.run_steps(3);
    let n = h.state().sample;
    assert_eq!(
        h.state().selection(),
        Some(&CellRef::Delta {
            layer: 5,
            index: vec![n, 0, 1, 1]
        })
    );
}

/// At overlapping max pooling Predict mode asks what a cell that won
/// several windows gets: the right option is the trace's own delta there,
/// the sum of the windows' deltas; the last window's alone (the
/// pool-overwrote slip) is offered and marked wrong.
#[test]
fn an_overlapping_pool_asks_what_a_cell_that_won_twice_gets() {
    use backprop_viz::teach::notation::own_magnitude;
    use backprop_viz::teach::predict::{deltas_won, is_right, questions, Ask, Given, Spacing};
    let t = pools_trace();
    let mut asked = 0;
    for (n, c) in [(0, 0), (1, 2), (0, 3)] {
        let asks = questions(&t, Phase::Backward(2), n, c, 1);
        let Some(
            ask @ Ask::Spacing {
                topic:
                    Spacing::PoolOverlap {
                        sample,
                        channel,
                        cell,
                    },
                options,
                right,
                ..
            },
        ) = asks.iter().find(|a| {
            matches!(
                a,
                Ask::Spacing {
                    topic: Spacing::PoolOverlap { .. },
                    ..
                }
            )
        })
        else {
            continue;
        };
        asked += 1;
        let deltas = deltas_won(&t, 2, *sample, *channel, *cell);
        assert!(deltas.len() >= 2, "{deltas:?}");
        let below = t.layers[2].delta.as_ref().unwrap()[[*sample, *channel, cell.0, cell.1]];
        let sum: f32 = deltas.iter().sum();
        assert!(
            (below - sum).abs() <= 1e-6 * sum.abs().max(1e-6),
            "{below} vs {sum}"
        );
        assert_eq!(options[*right], own_magnitude(sum, 3));
        let last = own_magnitude(*deltas.last().unwrap(), 3);
        let k = options
            .iter()
            .position(|o| *o == last)
            .expect("the overwrite slip offered");
        assert_eq!(is_right(&t, ask, &Given::Choice(k)), Some(false));
        assert_eq!(is_right(&t, ask, &Given::Choice(*right)), Some(true));
    }
    assert!(asked > 0, "no overlap question asked");
}

/// At average pooling Predict mode asks what each cell of a window gets:
/// the right option prints the trace's own delta there (D / K²); the whole
/// delta (the avgpool-copied slip) is offered and marked wrong.
#[test]
fn an_average_pool_asks_for_each_cell_s_share() {
    use backprop_viz::teach::notation::own_magnitude;
    use backprop_viz::teach::predict::{is_right, questions, Ask, Given, Spacing};
    let t = pools_trace();
    let asks = questions(&t, Phase::Backward(6), 1, 2, 4);
    let Some(
        ask @ Ask::Spacing {
            topic:
                Spacing::AvgShare {
                    sample,
                    channel,
                    window,
                    size,
                },
            options,
            right,
            ..
        },
    ) = asks.iter().find(|a| a.kind() == "avg-share")
    else {
        panic!("no average-pool question: {asks:?}")
    };
    assert_eq!((*sample, *channel, *size), (1, 2, 2));
    let below = t.layers[6].delta.as_ref().unwrap();
    let cell = below[[1, 2, window.0 * 2 + 1, window.1 * 2]];
    assert_eq!(options[*right], own_magnitude(cell, 3));
    let d = t.delta_from_above(6).unwrap()[[1, 2, window.0, window.1]];
    let copied = options
        .iter()
        .position(|o| *o == own_magnitude(d, 3))
        .expect("the copy slip offered");
    assert_eq!(is_right(&t, ask, &Given::Choice(copied)), Some(false));
    // Overlapping average windows ask nothing of the kind (a cell's share
    // is then a sum).
    let asks = questions(&t, Phase::Backward(5), 0, 0, 1);
    assert!(asks.iter().all(|a| a.kind() != "avg-share"));
}

/// Transposed convs 4→2 (stride 2) and 2→2 (stride 1), batch norm between.
fn updown2() -> Network {
    let specs = Network::specs_from_json(include_str!("fixtures/updown2.json")).unwrap();
    let mut net = Network::new(specs).unwrap();
    net.init(3);
    net
}

fn recorded_step(net: Network) -> backprop_viz::engine::trace::Trace {
    let mut s = Stepper::new(net, Optimizer::new(OptimizerKind::Sgd, 0.05));
    s.record = true;
    let x = Tensor::from_shape_fn(vec![3, 1, 28, 28], |d| {
        ((d[0] * 5 + d[2] * 7 + d[3] * 3) % 13) as f32 / 12.0
    });
    s.train_batch(x, vec![1, 4, 7]);
    s.trace().clone()
}

/// Clicking any cell of a transposed conv or a batch norm (its output, its
/// dF or dγ, the delta it hands down) lists terms that add up to the
/// trace's number.
#[test]
fn transposed_conv_and_batch_norm_cells_explain_to_the_trace() {
    let t = recorded_step(updown2());
    let mut checked = 0;
    for name in ["up1", "bn1", "up2"] {
        let layer = t.index_of(name).unwrap();
        let out = t.layers[layer].out.as_ref().unwrap().shape().to_vec();
        let x = t.layer_input(layer).unwrap().shape().to_vec();
        let w = t.layers[layer].weight.as_ref().unwrap().shape().to_vec();
        let last = |s: &[usize]| s.iter().map(|d| d - 1).collect::<Vec<_>>();
        let mut cells = vec![
            CellRef::WeightGrad {
                layer,
                index: vec![0; w.len()],
            },
            CellRef::WeightGrad {
                layer,
                index: last(&w),
            },
            CellRef::Output {
                layer,
                index: vec![0, 0, 0, 0],
            },
            CellRef::Output {
                layer,
                index: vec![2, out[1] - 1, out[2] - 1, out[3] / 2],
            },
            CellRef::Delta {
                layer,
                index: vec![1, 0, 3, 5],
            },
            CellRef::Delta {
                layer,
                index: vec![2, x[1] - 1, x[2] - 1, x[3] - 1],
            },
        ];
        cells.push(CellRef::Delta {
            layer,
            index: vec![0, x[1] - 1, 0, x[3] / 2],
        });
        for cell in cells {
            let sample = match &cell {
                CellRef::Output { index, .. } | CellRef::Delta { index, .. } => index[0],
                _ => 1,
            };
            let e = explain(&t, &cell, sample).unwrap_or_else(|| panic!("{cell:?} explained"));
            assert!(
                (e.total - e.recorded).abs() <= 1e-6 + 1e-4 * e.recorded.abs(),
                "{cell:?}: the terms add up to {}, the trace holds {}",
                e.total,
                e.recorded
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 21);
}

#[test]
fn the_app_steps_through_transposed_convs_and_batch_norm() {
    steps_through(updown2());
    steps_through(Network::preset("bn", 2).unwrap());
}

/// Predict at a batch norm: "does dβ depend on γ?" (no), and the term
/// through the mean, whose right option prints the trace's own term and
/// whose slip (m taken as the batch size) is marked wrong; at a transposed
/// conv of stride 2: the delta's shape (its input's) and the windows' step.
#[test]
fn batch_norm_and_transposed_conv_questions_have_the_trace_s_answers() {
    use backprop_viz::teach::notation::own_magnitude;
    use backprop_viz::teach::predict::{is_right, questions, Ask, Given};
    let t = recorded_step(updown2());
    let bn = t.index_of("bn1").unwrap();
    let asks = questions(&t, Phase::Backward(bn), 1, 1, 3);
    let kinds: Vec<&str> = asks.iter().map(Ask::kind).collect();
    assert_eq!(kinds, ["bn-dbeta-gamma", "bn-mean-term"]);
    let Ask::Spacing { options, right, .. } = &asks[0] else {
        unreachable!()
    };
    assert!(options[*right].contains("Σ D"), "{options:?}");
    let Ask::Spacing { options, right, .. } = &asks[1] else {
        unreachable!()
    };
    let terms = t.layers[bn].norm_terms.as_ref().unwrap();
    assert_eq!(
        options[*right],
        own_magnitude(terms.through_mean[[1, 1, 7, 9]], 3)
    );
    for k in (0..options.len()).filter(|k| k != right) {
        assert_eq!(is_right(&t, &asks[1], &Given::Choice(k)), Some(false));
    }
    let up = t.index_of("up1").unwrap();
    let asks = questions(&t, Phase::Backward(up), 0, 0, 5);
    let kinds: Vec<&str> = asks.iter().map(Ask::kind).collect();
    assert_eq!(kinds, ["below-shape", "up-stride"]);
    let Ask::BelowShape { options, right, .. } = &asks[0] else {
        unreachable!()
    };
    assert_eq!(options[*right], "4×14×14");
    let Ask::Spacing { options, right, .. } = &asks[1] else {
        unreachable!()
    };
    assert_eq!(options[*right], "2");
}

/// A 1600x1000 window on `preset`'s backward step at `layer`, and the
/// layer's index.
fn wide_at_backward(
    preset: &str,
    layer: &str,
) -> (
    egui_kittest::Harness<'static, backprop_viz::app::BackpropApp>,
    usize,
) {
    let mut h = harness(new_app());
    h.set_size(egui::vec2(1600.0, 1000.0));
    settle(&mut h);
    let net = Network::preset(preset, 1).unwrap();
    let i = net.index_of(layer).unwrap();
    h.state_mut()
        .command(UiCommand::UseNetwork(Box::new(net), NetworkSource::Editor));
    settle(&mut h);
    app_common::to_phase(&mut h, Phase::Backward(i));
    (h, i)
}

/// A wide window draws batch norm's backward step in one row when that
/// makes the maps larger (its height, not its width, limited two rows): at
/// 1600x1000 bn2's three terms, their sum, D and z stand side by side, and
/// each 14x14 map's cells are over 10 points.
#[test]
fn batch_norm_s_step_fills_a_wide_window_in_one_row() {
    let (mut h, bn2) = wide_at_backward("bn", "bn2");
    // With a cell explained beside the maps too.
    h.state_mut()
        .command(UiCommand::Select(Some(CellRef::Delta {
            layer: bn2,
            index: vec![0, 0, 6, 7],
        })));
    settle(&mut h);
    let row = one_row(
        &h,
        &[
            "as if μ and σ stood still",
            "through the mean",
            "through the variance",
            "handed to conv2",
            "from relu2",
            "the normalised input",
        ],
    );
    for m in &row {
        assert_eq!(m.2, (14, 14), "{m:?}");
        assert!(m.3 > 10.0, "cells of {} pt: {m:?}", m.3);
    }
}

/// The maps titled with each of `parts`, which stand in one row, in order.
fn one_row(
    h: &egui_kittest::Harness<'static, backprop_viz::app::BackpropApp>,
    parts: &[&str],
) -> Vec<(String, egui::Rect, (usize, usize), f32)> {
    let all = maps(h);
    let row: Vec<_> = parts
        .iter()
        .map(|part| {
            all.iter()
                .find(|m| m.0.contains(part))
                .unwrap_or_else(|| panic!("no map titled …{part}…: {all:#?}"))
                .clone()
        })
        .collect();
    for m in &row {
        assert!((m.1.top() - row[0].1.top()).abs() < 1.0, "one row: {m:?}");
    }
    for pair in row.windows(2) {
        assert!(pair[0].1.right() < pair[1].1.left(), "in order: {pair:?}");
    }
    row
}

/// A wide window draws the transposed conv's step in one row when that
/// makes the maps larger: at 1600x1000 updown's up1 stands D ⋆ F = D_below
/// beside x ⋆ D → dF, the 28x28 maps at 5.5 points a cell or more (4.3 in
/// two rows, where the height limited them), the filters keeping cells
/// that carry their numbers, and the whole row above the plots.
#[test]
fn transposed_conv_s_step_fills_a_wide_window_in_one_row() {
    let (h, _) = wide_at_backward("updown", "up1");
    let row = one_row(
        &h,
        &[
            "from relu2",
            "F[0, 0]",
            "handed to relu1",
            "up1's input",
            "dF[0, 0]",
        ],
    );
    for m in &row {
        assert!(m.1.bottom() < 830.0, "above the plots: {m:?}");
        assert!(
            m.1.right() <= 1600.0 - 360.0,
            "left of the explanation: {m:?}"
        );
    }
    let (d, f, below) = (&row[0], &row[1], &row[2]);
    assert_eq!(d.2, (28, 28), "{d:?}");
    assert_eq!(below.2, (14, 14), "{below:?}");
    assert!(d.3 >= 5.5, "D's cells of {} pt: {d:?}", d.3);
    // D_below drawn at twice D's cell: one of its cells over each 2x2 of D.
    assert!((below.3 - 2.0 * d.3).abs() < 0.01, "{below:?} {d:?}");
    assert!(f.3 >= 20.0, "the filter's cells of {} pt: {f:?}", f.3);
}

/// On a 720p projector a dilated conv's filters, drawn with their holes
/// (5x5 cells), give D and D_below room towards cells that carry numbers
/// (they kept 46-point cells, as tall as D, and left D's at 10.5 points,
/// colours only; 12.5 prints them), keeping cells of 36 pixels that carry
/// their own.
#[test]
fn a_dilated_conv_s_delta_prints_numbers_on_a_projector() {
    let mut h = harness(new_app());
    h.set_size(egui::vec2(1280.0, 720.0));
    set_settings(&mut h, |s| s.projector = true);
    settle(&mut h);
    h.state_mut().command(UiCommand::UseNetwork(
        Box::new(variants()),
        NetworkSource::Editor,
    ));
    settle(&mut h);
    app_common::to_phase(&mut h, Phase::Backward(2));
    let n = h.state().sample;
    h.state_mut()
        .command(UiCommand::Select(Some(CellRef::Delta {
            layer: 2,
            index: vec![n, 0, 3, 3],
        })));
    settle(&mut h);
    let all = maps(&h);
    let find = |part: &str| {
        all.iter()
            .find(|m| m.0.contains(part))
            .unwrap_or_else(|| panic!("no map titled …{part}…: {all:#?}"))
    };
    let (d, turned, below) = (
        find("zero-padded by"),
        find("rot180"),
        find("handed to relu1"),
    );
    assert_eq!(turned.2, (5, 5), "a 3x3 filter with its holes: {turned:?}");
    assert_eq!(grid_of(turned), (5, 5), "{turned:?}");
    // The filters no longer set the row's height: D does.
    assert!(
        turned.1.height() <= d.1.height() - 20.0,
        "the filter {turned:?} as tall as D {d:?}"
    );
    for m in [d, below] {
        assert!(m.3 >= 11.5, "cells of {} pt: {m:?}", m.3);
    }
    // 36 pixels at the projector's 1.4x, what its own test asks of a 5x5.
    assert!(
        turned.3 * 1.4 >= 36.0 - 0.5,
        "the filter's cells of {} pt: {turned:?}",
        turned.3
    );
    let width = h.ctx.content_rect().width();
    assert!(below.1.right() <= width, "{below:?} in {width} points");
}

/// A map's drawn grid `(rows, columns)`: its rectangle in cells.
fn grid_of(m: &(String, egui::Rect, (usize, usize), f32)) -> (usize, usize) {
    (
        (m.1.height() / m.3).round() as usize,
        (m.1.width() / m.3).round() as usize,
    )
}
