//! A panel drawn alone: an `AppState` built from a step the engine recorded
//! (no worker, no MNIST, no window), one panel in a kittest harness, and the
//! commands it asked for. Panels read the state and emit commands; nothing
//! else, so this is all a panel needs.

use std::sync::Arc;

use backprop_viz::app::command::{apply, UiCommand};
use backprop_viz::app::cx::{Cx, Out};
use backprop_viz::app::default_config;
use backprop_viz::app::panels::{pipeline, toolbar};
use backprop_viz::app::state::AppState;
use backprop_viz::app::views::Views;
use backprop_viz::app::worker::{Event, Snapshot};
use backprop_viz::data::dataset::{Dataset, Mnist};
use backprop_viz::engine::network::Network;
use backprop_viz::engine::optim::{Optimizer, OptimizerKind};
use backprop_viz::engine::stepper::{Phase, Stepper};
use backprop_viz::engine::Tensor;
use backprop_viz::teach::explain::CellRef;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;

/// `seed` on a small made-up batch, stepped to just after `phase`, as the
/// worker would show it.
fn snapshot_at(phase: Phase) -> Snapshot {
    let net = Network::preset("seed", 1).unwrap();
    let mut stepper = Stepper::new(net, Optimizer::new(OptimizerKind::Sgd, 0.05));
    stepper.record = true;
    let input = Tensor::from_shape_fn(vec![4, 1, 28, 28], |i| {
        ((i[0] + i[2] * 3 + i[3] * 5) % 11) as f32 / 11.0
    });
    stepper.begin(input, vec![1, 7, 3, 0]);
    while stepper.last_phase() != Some(phase) {
        stepper.step();
    }
    stepper.record_shares();
    Snapshot {
        trace: stepper.trace().clone(),
        last: stepper.last_phase(),
        next: stepper.next_phase(),
        batches: 1,
        epoch: 0,
        position: 4,
        epoch_len: 4,
        running: false,
        teaching: false,
        taught: None,
        off_link: false,
        teach_after: Some(0),
        network: stepper.network.clone(),
        lr: 0.05,
        optimizer: OptimizerKind::Sgd,
        freeze_conv: false,
        back_steps: 0,
        forward_steps: 0,
        replay: None,
    }
}

/// An app's state with that step on screen, reached through the reducer as
/// the worker's event would reach it.
fn state_at(phase: Phase) -> AppState {
    let empty = Dataset {
        images: Vec::new(),
        labels: Vec::new(),
        rows: 28,
        cols: 28,
    };
    let data = Arc::new(Mnist {
        train: empty.clone(),
        test: empty,
    });
    let mut state = AppState::new(default_config(), None, data, "none".into());
    let mut effects = Vec::new();
    let event = Event::Snapshot(Box::new(snapshot_at(phase)));
    apply(&mut state, UiCommand::Worker(event), &mut effects);
    assert!(effects.is_empty(), "a snapshot asks for nothing");
    state
}

/// What the harness holds: the state (read-only to the panel), what the
/// panel asked for, and the Backprop tab's own state.
struct Bench {
    state: AppState,
    out: Out,
    views: Views,
    draw: fn(&mut egui::Ui, &mut Bench),
    fonts: bool,
}

fn bench(state: AppState, draw: fn(&mut egui::Ui, &mut Bench)) -> Harness<'static, Bench> {
    let bench = Bench {
        state,
        out: Out::default(),
        views: Views::default(),
        draw,
        fonts: false,
    };
    let mut h = Harness::builder()
        .with_size(egui::vec2(1600.0, 1000.0))
        .build_ui_state(
            |ui, b: &mut Bench| {
                // The app's fonts (the maths' signs) first, as its first
                // frame adds them; they are there from the next frame on.
                if !b.fonts {
                    backprop_viz::app::style::setup_fonts(ui.ctx());
                    b.fonts = true;
                    return;
                }
                (b.draw)(ui, b)
            },
            bench,
        );
    h.run_steps(1);
    h
}

#[test]
fn the_toolbar_asks_for_a_step_and_never_writes_the_state() {
    let mut h = bench(state_at(Phase::Forward(0)), |ui, b| {
        let mut cx = Cx::new(&b.state, &mut b.out);
        toolbar::toolbar_ui(ui, &mut cx);
    });
    h.run();
    assert!(
        h.state().out.commands.is_empty(),
        "drawing asks for nothing"
    );
    h.get_by_label("Step layer").click();
    h.run();
    let asked = &h.state().out.commands;
    assert!(
        asked.iter().any(|c| matches!(c, UiCommand::StepPhase)),
        "Step layer asks for a phase"
    );
    h.get_by_label("Reset").click();
    h.run();
    assert!(h
        .state()
        .out
        .commands
        .iter()
        .any(|c| matches!(c, UiCommand::Reset)));
    // The state is what it was: only the reducer changes it.
    assert_eq!(
        h.state().state.snapshot.as_ref().unwrap().last,
        Some(Phase::Forward(0))
    );
}

#[test]
fn a_pipeline_block_asks_to_view_its_layer() {
    let mut h = bench(state_at(Phase::Backward(3)), |ui, b| {
        let mut cx = Cx::new(&b.state, &mut b.out);
        pipeline::pipeline_ui(ui, &mut cx);
    });
    h.run();
    h.get_by_label_contains("fc1").click();
    h.run();
    assert!(h
        .state()
        .out
        .commands
        .iter()
        .any(|c| matches!(c, UiCommand::ViewLayer(Some(7)))));
}

#[test]
fn a_df_cell_clicked_in_the_conv_view_asks_to_select_it() {
    let mut h = bench(state_at(Phase::Backward(3)), |ui, b| {
        let mut cx = Cx::new(&b.state, &mut b.out);
        b.views.ui(ui, &mut cx);
    });
    h.run();
    // The lesson's marks come out too: where the gradient was drawn.
    assert!(h
        .state()
        .out
        .marks
        .contains_key(&backprop_viz::teach::lesson::Mark::Gradient));
    let node = h.get_by_role_and_label(egui::accesskit::Role::Image, "dF of the whole batch");
    let rect = node.rect();
    let cell = rect.width() / 3.0;
    let pos = rect.min + egui::vec2(1.5 * cell, 2.5 * cell); // row 2, column 1
    h.event(egui::Event::PointerMoved(pos));
    for pressed in [true, false] {
        h.event(egui::Event::PointerButton {
            pos,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: Default::default(),
        });
    }
    h.run();
    let asked: Vec<&CellRef> = h
        .state()
        .out
        .commands
        .iter()
        .filter_map(|c| match c {
            UiCommand::Select(Some(cell)) => Some(cell),
            _ => None,
        })
        .collect();
    assert_eq!(
        asked,
        [&CellRef::WeightGrad {
            layer: 3,
            index: vec![0, 0, 2, 1]
        }]
    );
    // Applied, the selection is the state's, and the view outlines it.
    let Bench { state, out, .. } = h.state_mut();
    let mut effects = Vec::new();
    for command in std::mem::take(&mut out.commands) {
        apply(state, command, &mut effects);
    }
    assert!(state.selection().is_some());
}
