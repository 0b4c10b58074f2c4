//! The visualizer driven as a learner drives it, headless (egui_kittest,
//! accessibility check on): every assertion reads the app's state or the
//! labels it shows, and compares them with the engine's trace.

use std::sync::Arc;
use std::time::{Duration, Instant};

use backprop_viz::app::panels::explanation::fmt_sum;
use backprop_viz::app::worker::Snapshot;
use backprop_viz::app::{default_config, BackpropApp, MessageKind, UiCommand};
use backprop_viz::data::dataset::{default_data_dir, load_dir};
use backprop_viz::engine::stepper::Phase;
use backprop_viz::teach::explain::CellRef;
use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::Harness;

mod app_common;
mod cli_common;
use app_common::{click_at, harness, new_app, settle, settle_until, snapshot};

#[test]
fn step_layer_walks_one_batch_in_order() {
    let mut h = harness(new_app());
    settle(&mut h);
    assert_eq!(snapshot(&h).last, None);
    h.get_by_label_contains("A batch of 16 samples is loaded");
    let n = snapshot(&h).trace.names.len();
    let mut expected: Vec<Phase> = (0..n).map(Phase::Forward).collect();
    expected.push(Phase::Loss);
    expected.extend((0..n).rev().map(Phase::Backward));
    expected.push(Phase::Update);
    for phase in expected {
        h.get_by_label("Step layer").click();
        settle(&mut h);
        let s = snapshot(&h);
        assert_eq!(s.last, Some(phase));
        // The sentence under the pipeline names the phase.
        let words = match phase {
            Phase::Forward(i) => format!("Forward · {} of {n}: {}", i + 1, s.trace.names[i]),
            Phase::Loss => "Loss: softmax + cross-entropy".to_string(),
            Phase::Backward(i) => format!("Backward: {} (L{}) received", s.trace.names[i], i + 1),
            _ => "Update: every weight moved".to_string(),
        };
        h.get_by_label_contains(&words);
    }
    // The batch is complete: its loss went into the plot's history.
    assert_eq!(h.state().history.losses.len(), 1);
}

/// Click a cell of the dF heatmap: the explanation shows the trace's number.
#[test]
fn df_cell_shows_the_engines_number() {
    let mut h = harness(new_app());
    settle(&mut h);
    // Step to conv2's backward pass: 10 forward, loss, then fc2 … conv2.
    for _ in 0..(10 + 1 + 7) {
        h.get_by_label("Step layer").click();
        settle(&mut h);
    }
    let s = snapshot(&h);
    assert_eq!(s.last, Some(Phase::Backward(3)));
    let node = h.get_by_role_and_label(egui::accesskit::Role::Image, "dF of the whole batch");
    let rect = node.rect();
    let cell = rect.width() / 3.0;
    let pos = rect.min + egui::vec2(1.5 * cell, 2.5 * cell); // row 2, column 1
    click_at(&mut h, pos);
    h.run_steps(3);
    assert_eq!(
        h.state().selected,
        Some(CellRef::WeightGrad {
            layer: 3,
            index: vec![0, 0, 2, 1]
        })
    );
    let recorded = s.trace.layers[3].weight_grad.as_ref().unwrap()[[0, 0, 2, 1]];
    // Seven digits, and ✓ (to float rounding, if the last digit differs).
    h.get_by_label_contains(&format!(
        "value in the trace: {} ✓ equals the trace",
        fmt_sum(recorded)
    ));
    h.get_by_label_contains("dF[0,0,2,1] = Σ_n Σ_ij x[n, 0, i+1, j] · D[n, 0, i, j]");

    // The proof in the app: a finite difference on the same batch agrees.
    h.get_by_label("Check with finite differences").click();
    let start = Instant::now();
    while h.state().gradcheck.is_none() {
        assert!(start.elapsed() < Duration::from_secs(30));
        h.run_steps(1);
        std::thread::sleep(Duration::from_millis(5));
    }
    h.run_steps(2);
    let (_, fd) = h.state().gradcheck.clone().unwrap();
    let fd = fd.expect("conv2 has weights");
    assert_eq!(fd.analytic, recorded);
    assert!(fd.relative_error < 1e-3, "{fd:?}");
    h.get_by_label_contains("relative error: ");
}

#[test]
fn run_then_pause_keeps_the_history() {
    let mut h = harness(new_app());
    settle(&mut h);
    h.get_by_label("Run").click();
    settle_until(&mut h, |app| app.history.losses.len() >= 5);
    assert!(snapshot(&h).running);
    h.get_by_label("Pause").click();
    settle(&mut h);
    assert!(!snapshot(&h).running);
    let count = h.state().history.losses.len();
    std::thread::sleep(Duration::from_millis(200));
    h.run_steps(3);
    assert_eq!(
        h.state().history.losses.len(),
        count,
        "paused training stays paused"
    );
    // The losses are real numbers that fell from the first batches.
    let losses = &h.state().history.losses;
    assert!(losses.iter().all(|p| p[1].is_finite()));
    h.get_by_label("Run");
}

#[test]
fn divergence_pauses_with_a_plain_message_and_reset_recovers() {
    let mut h = harness(new_app());
    settle(&mut h);
    h.state_mut().command(UiCommand::SetLr(10.0));
    h.state_mut()
        .command(UiCommand::SetSpeed(backprop_viz::app::worker::Speed::Max));
    h.run_steps(1);
    settle(&mut h);
    h.get_by_label("Run").click();
    settle_until(&mut h, |app| {
        app.message.is_some() || app.history.losses.len() > 3000
    });
    let (kind, text) = h.state().message_text().expect("a message");
    assert_eq!(kind, MessageKind::Error);
    assert!(text.contains("learning rate"), "{text}");
    settle(&mut h);
    assert!(!snapshot(&h).running, "divergence pauses training");
    h.state_mut().command(UiCommand::SetLr(0.005));
    h.get_by_label("Reset").click();
    settle(&mut h);
    assert!(h.state().message.is_none());
    assert!(h.state().history.losses.is_empty());
    h.get_by_label("Step batch").click();
    settle(&mut h);
    assert!(snapshot(&h).trace.loss.unwrap().is_finite());
}

/// The digit the pad's probability bars say is most likely.
fn predicted_digit(h: &Harness<'static, BackpropApp>) -> Option<(usize, f32)> {
    (0..10)
        .filter_map(|d| {
            let needle = format!("digit {d}: ");
            let node = h.query_by_label_contains(&needle)?;
            let label = node.accesskit_node().label()?;
            let percent: f32 = label
                .split(": ")
                .nth(1)?
                .trim_end_matches(" %")
                .trim()
                .parse()
                .ok()?;
            Some((d, percent))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

#[test]
fn drawing_updates_the_prediction_and_can_be_taught() {
    let mut h = harness(new_app());
    settle(&mut h);
    h.get_by_label("Draw a digit").click();
    h.run_steps(2);
    h.get_by_label("Load pretrained model").click();
    settle(&mut h);
    h.get_by_label_contains("Draw something to see the ten probabilities");

    // A vertical stroke, drawn with the pointer on the canvas: a "1".
    let pad = h.get_by_label("Drawing pad").rect();
    let at = |x: f32, y: f32| pad.min + egui::vec2(x * pad.width(), y * pad.height());
    h.event(egui::Event::PointerMoved(at(0.5, 0.15)));
    h.event(egui::Event::PointerButton {
        pos: at(0.5, 0.15),
        button: egui::PointerButton::Primary,
        pressed: true,
        modifiers: Default::default(),
    });
    h.run_steps(1);
    for k in 1..=20 {
        h.event(egui::Event::PointerMoved(at(
            0.5,
            0.15 + 0.7 * k as f32 / 20.0,
        )));
        h.run_steps(1);
    }
    h.event(egui::Event::PointerButton {
        pos: at(0.5, 0.85),
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: Default::default(),
    });
    h.run_steps(3);
    assert!(!h.state().panels().draw.pad.is_empty());
    let (one, p_one) = predicted_digit(&h).expect("probabilities are shown");
    assert_eq!(one, 1, "a vertical bar reads as a 1 ({p_one} %)");

    // A bar across the top turns it into a 7: the prediction changes.
    h.state_mut()
        .panels_mut()
        .draw
        .pad
        .add_stroke(&[egui::pos2(0.15, 0.15), egui::pos2(0.5, 0.15)]);
    h.run_steps(3);
    let (seven, _) = predicted_digit(&h).expect("probabilities are shown");
    assert_ne!(seven, 1, "the prediction follows the drawing");

    // Teach it: a one-sample batch with the drawing, stepped in the views.
    h.get_by_label("7").click();
    h.run_steps(1);
    assert_eq!(h.state().teach_label, 7);
    h.get_by_label("Teach it this digit").click();
    settle(&mut h);
    let s = snapshot(&h);
    assert!(s.teaching);
    assert_eq!(s.trace.labels, vec![7]);
    let drawn = h.state().panels().draw.pad.mnist_pixels().unwrap();
    assert_eq!(
        s.trace.input.iter().copied().collect::<Vec<_>>(),
        drawn,
        "the batch is the drawing, as the network sees it"
    );
    h.get_by_label("Step batch").click();
    settle(&mut h);
    let s = snapshot(&h);
    assert_eq!(s.last, Some(Phase::Update));
    assert!(
        s.trace.layers[0].weight_grad.is_some(),
        "the drawing's dF was recorded"
    );
}

#[test]
fn a_bad_dataset_is_refused_and_the_old_one_stays() {
    let mut h = harness(new_app());
    settle(&mut h);
    let before = (h.state().data.train.len(), h.state().data_source.clone());
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ] {
        std::fs::write(dir.path().join(name), b"\x00\x00\x08\x03 this is not MNIST").unwrap();
    }
    h.get_by_label("Data").click();
    h.run_steps(1);
    h.state_mut()
        .panels_mut()
        .data
        .load_paths(vec![dir.path().to_path_buf()]);
    settle_until(&mut h, |app| app.message.is_some());
    let (kind, text) = h.state().message_text().unwrap();
    assert_eq!(kind, MessageKind::Error);
    assert!(
        text.contains("idx3-ubyte"),
        "the message names the file: {text}"
    );
    h.get_by_label_contains("Could not load the dataset");
    assert_eq!(
        (h.state().data.train.len(), h.state().data_source.clone()),
        before,
        "the old dataset stays"
    );
    // Training still works on it.
    h.get_by_label("Step batch").click();
    settle(&mut h);
    assert_eq!(snapshot(&h).trace.batch_size(), 16);
}

#[test]
fn keyboard_shortcuts_step_and_show_themselves() {
    let mut h = harness(new_app());
    settle(&mut h);
    h.key_press(egui::Key::Space);
    settle(&mut h);
    assert_eq!(
        snapshot(&h).last,
        Some(Phase::Forward(0)),
        "Space steps one layer"
    );
    h.key_press(egui::Key::Enter);
    settle(&mut h);
    assert_eq!(
        snapshot(&h).last,
        Some(Phase::Update),
        "Enter finishes the batch"
    );
    h.key_press(egui::Key::F1);
    h.run_steps(2);
    h.get_by_label_contains("Space");
    h.get_by_label("Step layer: run the next phase");
    h.key_press(egui::Key::P);
    h.run_steps(2);
    assert!(h.state().settings.projector);
    assert!(
        (h.ctx.zoom_factor() - 1.4).abs() < 1e-6,
        "projector mode enlarges everything"
    );
    h.key_press(egui::Key::Z);
    settle(&mut h);
    assert_eq!(snapshot(&h).last, None, "Z resets to the first batch");
    assert!(h.state().history.losses.is_empty());
}

/// Back through time and forward again: every number comes back the same.
#[test]
fn history_back_then_forward_reproduces_the_numbers() {
    let mut h = harness(new_app());
    settle(&mut h);
    // Through a whole batch and into the backward pass of the next one.
    for _ in 0..(10 + 1 + 10 + 1 + 10 + 1 + 3) {
        h.get_by_label("Step layer").click();
        settle(&mut h);
    }
    let at_end = snapshot(&h);
    assert_eq!(at_end.last, Some(Phase::Backward(7)));
    let fingerprint = |s: &Snapshot| -> Vec<f32> {
        let t = &s.trace;
        let mut v: Vec<f32> = t
            .layers
            .iter()
            .flat_map(|l| {
                l.out
                    .iter()
                    .chain(l.delta.iter())
                    .flat_map(|x| x.iter().copied())
            })
            .collect();
        v.extend(
            s.network
                .layers
                .iter()
                .filter_map(|l| l.params())
                .flat_map(|(w, _)| w.value.iter().copied().collect::<Vec<_>>()),
        );
        v.push(t.loss.unwrap_or(f32::NAN));
        v
    };
    // 16 steps back: across the batch boundary, into the first batch's backward pass.
    for _ in 0..16 {
        h.key_press(egui::Key::ArrowLeft);
        settle(&mut h);
    }
    let back = snapshot(&h);
    assert_eq!(back.last, Some(Phase::Backward(1)));
    assert_eq!(back.batches, 1, "the first batch again");
    assert_eq!(back.forward_steps, 16);
    assert_ne!(fingerprint(&back), fingerprint(&at_end));
    for _ in 0..16 {
        h.get_by_label("Forward ▶").click();
        settle(&mut h);
    }
    let again = snapshot(&h);
    assert_eq!(again.last, at_end.last);
    assert_eq!(
        fingerprint(&again),
        fingerprint(&at_end),
        "forward replays exactly"
    );
    // Back again, then step (not replay): the engine computes the same numbers.
    for _ in 0..5 {
        h.key_press(egui::Key::ArrowLeft);
        settle(&mut h);
    }
    for _ in 0..5 {
        h.get_by_label("Step layer").click();
        settle(&mut h);
    }
    assert_eq!(
        fingerprint(&snapshot(&h)),
        fingerprint(&at_end),
        "recomputing from the past gives the same numbers"
    );
}

/// A panic in the training thread shows in the window; the app goes on.
#[test]
fn a_worker_panic_is_reported_not_a_crash() {
    let mut h = harness(new_app());
    settle(&mut h);
    // A drawing of the wrong size cannot become a batch: the worker panics.
    h.state_mut().command(UiCommand::Teach {
        pixels: vec![0.5; 10],
        label: 3,
        what: backprop_viz::app::Taught::Drawing,
        guess: None,
    });
    settle_until(&mut h, |app| app.message.is_some());
    let (kind, text) = h.state().message_text().unwrap();
    assert_eq!(kind, MessageKind::Error);
    assert!(
        text.contains("internal error") && text.contains("Reset"),
        "{text}"
    );
    h.get_by_label_contains("internal error");
    // The worker still answers.
    h.get_by_label("Reset").click();
    settle(&mut h);
    h.get_by_label("Step batch").click();
    settle(&mut h);
    assert_eq!(snapshot(&h).last, Some(Phase::Update));
}

/// The app on the shipped MNIST with its training set cut to `train`
/// images (an experiment of a few seconds).
fn small_app(train: usize) -> BackpropApp {
    let data = Arc::new(load_dir(&default_data_dir()).expect("the shipped MNIST"));
    let mut small = (*data).clone();
    small.train.limit(train);
    BackpropApp::with_repaint(
        default_config(),
        None,
        Arc::new(small),
        "small".into(),
        || {},
    )
}

/// Runs the experiment for `epochs` with its button (labelled `button` in
/// the language on screen) and waits for both networks.
fn run_experiment(h: &mut Harness<'static, BackpropApp>, epochs: usize, button: &str) {
    h.state_mut().panels_mut().experiment.epochs = epochs;
    h.get_by_label(button).click();
    let start = Instant::now();
    while h.state().panels().experiment.result.is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the experiment finishes"
        );
        h.run_steps(1);
        std::thread::sleep(Duration::from_millis(20));
    }
    h.run_steps(2);
}

/// Frozen against learning filters from the same start: both curves arrive,
/// and the frozen copy's conv filters are exactly the initial ones.
#[test]
fn the_frozen_vs_learning_experiment() {
    let mut h = harness(small_app(2000));
    settle(&mut h);
    h.get_by_label("Frozen vs learning filters").click();
    h.run_steps(2);
    run_experiment(&mut h, 2, "Run the experiment");
    let e = &h.state().panels().experiment;
    assert_eq!(e.points[0].len(), 2);
    assert_eq!(e.points[1].len(), 2);
    let initial = backprop_viz::engine::network::Network::preset("seed", 1).unwrap();
    let nets = e.result.as_ref().unwrap();
    let conv1 =
        |n: &backprop_viz::engine::network::Network| n.layers[0].params().unwrap().0.value.clone();
    assert_eq!(
        conv1(&nets[0]),
        conv1(&initial),
        "frozen filters stay as initialised"
    );
    assert_ne!(conv1(&nets[1]), conv1(&initial), "learning filters change");
    h.get_by_label_contains("filters frozen: ");
    h.get_by_label_contains("filters learning: ");
    // The same test digit through both: conv1's maps, frozen above
    // learning; the frozen network's are the initial network's own.
    for digit in [0, 7] {
        h.state_mut().panels_mut().experiment.digit = digit;
        h.run_steps(2);
        let (shown, features) = h.state().panels().experiment.features().unwrap();
        assert_eq!(shown, digit);
        let x = h.state().data.test.batch_input(&[digit]);
        let initial_conv1: Vec<f32> = initial.layers[0].forward(&x).iter().copied().collect();
        assert_eq!(features[0][0].layer, "conv1");
        assert_eq!(
            features[0][0].values, initial_conv1,
            "digit {digit}: frozen conv1 maps"
        );
        assert_ne!(
            features[1][0].values, initial_conv1,
            "digit {digit}: learning conv1 maps"
        );
        assert_eq!(features[0].len(), 2, "conv1 and conv2");
    }
    let frozen = h.get_by_label("filters frozen conv1 output [0]");
    frozen.scroll_to_me();
    h.run_steps(30);
    let frozen = h.get_by_label("filters frozen conv1 output [0]").rect();
    let learning = h.get_by_label("filters learning conv1 output [0]").rect();
    assert!(frozen.width() >= 56.0 && (frozen.size() - learning.size()).length() < 0.5);
    assert!(
        learning.top() >= frozen.bottom() - 0.5,
        "frozen {frozen:?} above learning {learning:?}"
    );
    assert!(
        (learning.left() - frozen.left()).abs() < 0.5,
        "in one column"
    );
    // The note under the title says the command line makes the same runs:
    // it does, to the last digit of the test accuracy.
    h.get_by_label_contains("Trained with the app's settings: sgd");
    let e = &h.state().panels().experiment;
    for (run, freeze) in [(0, true), (1, false)] {
        let mut args = vec![
            "train",
            "--optimizer",
            "sgd",
            "--lr",
            "0.05",
            "--batch",
            "16",
            "--seed",
            "1",
            "--train-limit",
            "2000",
            "--epochs",
            "2",
            "--json",
        ];
        if freeze {
            args.push("--freeze-conv");
        }
        let out = cli_common::run(&args);
        assert!(out.status.success());
        let stdout = String::from_utf8(out.stdout).unwrap();
        let json: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
        let cli: Vec<f64> = json["epoch_test_accuracy"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_f64().unwrap() * 100.0)
            .collect();
        let app: Vec<f64> = e.points[run].iter().map(|p| p[1]).collect();
        assert_eq!(cli.len(), app.len());
        for (c, a) in cli.iter().zip(&app) {
            assert!(
                (c - a).abs() < 1e-3,
                "run {run}: the app {app:?}, the command line {cli:?}"
            );
        }
    }
}

#[test]
fn mistakes_tab_shows_the_confusion_matrix_and_steps_a_mistake() {
    let mut h = harness(new_app());
    settle(&mut h);
    h.get_by_label("Mistakes").click();
    h.run_steps(2);
    h.get_by_label("Load pretrained model").click();
    settle(&mut h);
    h.run_steps(2);
    h.get_by_label("Evaluate on the test set").click();
    let start = Instant::now();
    while h.state().panels().mistakes.result.is_none() {
        assert!(start.elapsed() < Duration::from_secs(60));
        h.run_steps(1);
        std::thread::sleep(Duration::from_millis(10));
    }
    h.run_steps(2);
    let result = h.state().panels().mistakes.result.clone().unwrap();
    let correct: u32 = (0..10).map(|d| result.matrix[d][d]).sum();
    assert_eq!(result.matrix.iter().flatten().sum::<u32>(), 10_000);
    assert_eq!(result.mistakes.len() as u32, 10_000 - correct);
    assert!(correct >= 9_900, "the shipped model: {correct}");
    h.get_by_label_contains(&format!("{correct} of 10000 right"));
    // Click the first misclassified digit: it becomes a one-sample step.
    let (index, predicted) = result.mistakes[0];
    let label = h.state().data.test.label(index);
    h.get_by_label_contains(&format!(
        "test image {index}: a {label}, answered {predicted}"
    ))
    .click();
    settle(&mut h);
    let s = snapshot(&h);
    assert!(s.teaching);
    assert_eq!(s.trace.labels, vec![label]);
    // ... and it is on the drawing pad, with its right answer picked.
    let expected: Vec<f32> = (h.state().data.test.image(index).iter())
        .map(|&b| f32::from(b) / 255.0)
        .collect();
    assert_eq!(
        h.state().panels().draw.pad.mnist_pixels(),
        Some(expected.clone())
    );
    assert_eq!(h.state().teach_label, label);
    assert_eq!(
        s.trace.input.iter().copied().collect::<Vec<f32>>(),
        expected,
        "the views step the same picture"
    );
    h.get_by_label("Draw a digit").click();
    h.run_steps(2);
    h.get_by_label_contains(&format!("A {label} the network read as {predicted}"));
}

#[test]
fn architecture_editor_builds_a_network_the_views_follow() {
    let mut h = harness(new_app());
    settle(&mut h);
    h.get_by_label("Architecture").click();
    h.run_steps(2);
    {
        let a = &mut h.state_mut().panels_mut().architecture;
        a.filters = [4, 6];
        a.kernel = 5;
        a.downsample = backprop_viz::engine::network::Downsample::AvgPool;
        a.activation = "tanh";
        a.hidden = 32;
    }
    h.run_steps(2);
    h.get_by_label_contains("1x28x28 → 4x28x28");
    h.get_by_label("Build this network").click();
    settle(&mut h);
    let s = snapshot(&h);
    let kinds: Vec<&str> = s.network.specs.iter().map(|l| l.kind.word()).collect();
    assert_eq!(
        kinds,
        [
            "conv", "tanh", "avgpool", "conv", "tanh", "avgpool", "flatten", "dense", "tanh",
            "dense"
        ]
    );
    assert_eq!(s.network.shapes()[3], vec![6, 14, 14]);
    h.get_by_label("Backprop").click();
    h.get_by_label("Step batch").click();
    settle(&mut h);
    let s = snapshot(&h);
    assert_eq!(
        s.trace.layers[0].weight_grad.as_ref().unwrap().shape(),
        &[4, 1, 5, 5]
    );
    assert!(s.trace.loss.unwrap().is_finite());
    // A shape that cannot work is refused with the engine's reason.
    let bad = backprop_viz::app::panels::architecture::Architecture {
        kernel: 15,
        same_padding: false,
        ..Default::default()
    };
    let why = bad.specs().unwrap_err();
    assert!(why.contains("does not fit"), "{why}");
    // And one beyond the limits, with the limit named.
    let huge = backprop_viz::app::panels::architecture::Architecture {
        kernel: 29,
        ..Default::default()
    };
    let why = huge.specs().unwrap_err();
    assert!(why.contains("larger than the limit of 15"), "{why}");
}

/// The editor's variants, chosen by clicking: dilation 2 (same padding
/// keeps 28x28 with a 3x3 filter spanning 5x5) and overlapping max pooling
/// (3x3, 2 apart: 28 → 13 → 6); then "none: stride 2", an all-conv network.
#[test]
fn architecture_editor_builds_dilated_strided_and_overlapping_networks() {
    use backprop_viz::engine::layers::LayerKind;
    let mut h = harness(new_app());
    settle(&mut h);
    h.get_by_label("Architecture").click();
    h.run_steps(2);
    h.get_by_label("2").click();
    h.get_by_label("max 3x3, stride 2").click();
    h.run_steps(2);
    h.get_by_label_contains("1x28x28 → 1x28x28 → 1x28x28 → 1x13x13");
    h.get_by_label("Build this network").click();
    settle(&mut h);
    let s = snapshot(&h);
    assert!(matches!(
        s.network.specs[0].kind,
        LayerKind::Conv {
            dilation: 2,
            padding: 2,
            ..
        }
    ));
    assert_eq!(s.network.specs[2].kind.pool_window(), Some((3, 2)));
    assert_eq!(s.network.shapes()[5], vec![1, 6, 6]);
    h.get_by_label("none: stride 2").click();
    h.run_steps(2);
    h.get_by_label("Build this network").click();
    settle(&mut h);
    let s = snapshot(&h);
    let kinds: Vec<&str> = s.network.specs.iter().map(|l| l.kind.word()).collect();
    assert_eq!(
        kinds,
        ["conv", "relu", "conv", "relu", "flatten", "dense", "relu", "dense"]
    );
    assert_eq!(s.network.shapes()[2], vec![1, 7, 7]);
}

/// The editor's batch norm: "after each conv" puts bn1 and bn2 between
/// each conv and its activation, with the conv's channels.
#[test]
fn architecture_editor_adds_batch_norm_after_each_conv() {
    use backprop_viz::engine::layers::LayerKind;
    let mut h = harness(new_app());
    settle(&mut h);
    h.get_by_label("Architecture").click();
    h.run_steps(2);
    h.get_by_label("after each conv").click();
    h.run_steps(2);
    h.get_by_label("Build this network").click();
    settle(&mut h);
    let s = snapshot(&h);
    let names: Vec<&str> = s.network.specs.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(
        names[..8],
        ["conv1", "bn1", "relu1", "pool1", "conv2", "bn2", "relu2", "pool2"]
    );
    assert_eq!(
        s.network.specs[1].kind,
        LayerKind::Batchnorm {
            channels: 1,
            eps: 1e-5
        }
    );
}

/// Run, then Pause: the update view shows each conv filter as it was when
/// Run was pressed, the change since and the filter now, side by side and
/// counted in batches; the filters did move; a step by hand ends the view.
#[test]
fn after_a_run_the_update_view_shows_how_far_the_filters_moved() {
    use egui::accesskit::Role;
    let mut h = harness(new_app());
    settle(&mut h);
    h.get_by_label("Run").click();
    settle_until(&mut h, |app| app.history.losses.len() >= 20);
    h.get_by_label("Pause").click();
    settle(&mut h);
    h.run_steps(3);
    let start = h
        .state()
        .run_start
        .clone()
        .expect("Run recorded the filters");
    let s = snapshot(&h);
    assert_eq!(start.filters.len(), 2, "both conv layers");
    for (i, before) in &start.filters {
        let now = &s.network.layers[*i].params().unwrap().0.value;
        assert_eq!(now.shape(), before.shape());
        assert!(
            now.iter().zip(before.iter()).any(|(a, b)| a != b),
            "layer {i}'s filters moved during the run"
        );
    }
    let steps = s.batches - start.batches;
    assert!(steps >= 19, "{steps}");
    let maps: Vec<(String, egui::Rect)> = h
        .query_all_by(|n| n.role() == Role::Image)
        .map(|n| {
            (
                n.accesskit_node().label().unwrap_or_default().to_string(),
                n.rect(),
            )
        })
        .collect();
    let find = |prefix: &str| -> Vec<egui::Rect> {
        maps.iter()
            .filter(|(l, _)| l.starts_with(prefix))
            .map(|(_, r)| *r)
            .collect()
    };
    // Short titles over the narrow filters, the whole sum said above them.
    let then = find("F then");
    let change = find("change");
    let now = find("F now");
    assert_eq!((then.len(), change.len(), now.len()), (2, 2, 2), "{maps:?}");
    let sum = format!(
        "F when Run began (batch {}) + every step since: {steps} batches = F now (batch {})",
        start.batches, s.batches
    );
    assert_eq!(h.query_all_by_label(&sum).count(), 2, "{sum:?} not said");
    // F then and F now print in one format (the same power of ten, or
    // none), so that F then + change = F now reads right.
    let printed_as = |label: &str| -> Vec<String> {
        h.query_all_by(|n| n.role() == Role::Image)
            .filter(|n| {
                n.accesskit_node()
                    .label()
                    .is_some_and(|l| l.starts_with(label))
            })
            .map(|n| {
                let value = n.accesskit_node().value().unwrap_or_default().to_string();
                value
                    .splitn(3, "; ")
                    .nth(2)
                    .unwrap_or_default()
                    .split(": ")
                    .next()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    };
    let formats = (printed_as("F then"), printed_as("F now"));
    assert_eq!(formats.0.len(), 2, "{formats:?}");
    assert_eq!(formats.0, formats.1);
    for k in 0..2 {
        // Left to right, on one line, apart.
        assert!(then[k].right() < change[k].left() && change[k].right() < now[k].left());
        assert!(
            (then[k].top() - now[k].top()).abs() < 1.0,
            "{:?} {:?} {:?}",
            then[k],
            change[k],
            now[k]
        );
        assert!(then[k].width() >= 30.0, "readable: {:?}", then[k]);
    }
    h.get_by_label("Step layer").click();
    settle(&mut h);
    assert!(h.state().run_start.is_none());
    assert!(h.query_by_label_contains("every step since").is_none());
}

/// On a 720p projector (914x514 points) in Russian, the experiment's
/// feature maps come below the filters and stay inside the window.
#[test]
fn the_experiment_fits_a_720p_projector() {
    let mut app = small_app(500);
    let mut settings = app.settings.clone();
    settings.projector = true;
    settings.lang = backprop_viz::i18n::Lang::Ru;
    app.command(UiCommand::SetSettings(Box::new(settings)));
    app.command(UiCommand::ShowTab(backprop_viz::app::Tab::Experiment));
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 720.0))
        .build_ui_state(|ui, app: &mut BackpropApp| app.ui_root(ui), app);
    settle(&mut h);
    run_experiment(&mut h, 1, "Запустить эксперимент");
    h.run_steps(1);
    let width = h.ctx.content_rect().width();
    for name in [
        "фильтры заморожены: выход conv1 [0]",
        "фильтры обучаются: выход conv1 [0]",
        "фильтры заморожены: выход conv2 [0]",
        "фильтры обучаются: выход conv2 [0]",
    ] {
        h.get_by_label(name).scroll_to_me();
        h.run_steps(30);
        let rect = h.get_by_label(name).rect();
        assert!(
            rect.left() >= 0.0 && rect.right() <= width,
            "{name} at {rect:?}, the window {width} points wide"
        );
    }
}
