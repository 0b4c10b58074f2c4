//! What the app's kittest suites share: an app on the shipped MNIST, a
//! harness around it, and waiting for the worker.

#![allow(dead_code)] // each test binary uses its own subset

use std::sync::Arc;
use std::time::{Duration, Instant};

use backprop_viz::app::worker::Snapshot;
use backprop_viz::app::{default_config, BackpropApp};
use backprop_viz::data::dataset::{default_data_dir, load_dir};
use egui_kittest::Harness;

pub fn new_app() -> BackpropApp {
    let data = Arc::new(load_dir(&default_data_dir()).expect("the shipped MNIST"));
    BackpropApp::with_repaint(default_config(), None, data, "data/mnist".into(), || {})
}

pub fn harness(app: BackpropApp) -> Harness<'static, BackpropApp> {
    Harness::builder()
        .with_size(egui::vec2(1600.0, 1000.0))
        .build_ui_state(|ui, app: &mut BackpropApp| app.ui_root(ui), app)
}

/// Frames until the worker has answered every command (or `done` holds).
pub fn settle_until(h: &mut Harness<'static, BackpropApp>, done: impl Fn(&BackpropApp) -> bool) {
    let start = Instant::now();
    loop {
        h.run_steps(1);
        if h.state().snapshot.is_some() && done(h.state()) {
            h.run_steps(2);
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the worker did not answer in time"
        );
        std::thread::sleep(Duration::from_millis(3));
    }
}

pub fn settle(h: &mut Harness<'static, BackpropApp>) {
    settle_until(h, |app| app.worker_idle());
}

pub fn snapshot(h: &Harness<'static, BackpropApp>) -> Snapshot {
    h.state().snapshot.as_deref().expect("a snapshot").clone()
}

/// A left click at `pos` (pointer moved there, pressed, released).
pub fn click_at(h: &mut Harness<'static, BackpropApp>, pos: egui::Pos2) {
    h.event(egui::Event::PointerMoved(pos));
    for pressed in [true, false] {
        h.event(egui::Event::PointerButton {
            pos,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: Default::default(),
        });
    }
}

/// Changes the settings as the View menu would (applied at the next frame).
pub fn set_settings(
    h: &mut Harness<'static, BackpropApp>,
    change: impl FnOnce(&mut backprop_viz::app::Settings),
) {
    let mut s = h.state().settings.clone();
    change(&mut s);
    h.state_mut()
        .command(backprop_viz::app::UiCommand::SetSettings(Box::new(s)));
}

/// A 1280x720 window in projector mode (1.4x: 914x514 points) in `lang`.
pub fn projector(lang: backprop_viz::i18n::Lang) -> Harness<'static, BackpropApp> {
    sized(egui::vec2(1280.0, 720.0), true, lang)
}

/// A window of `size`, in projector mode or not, in `lang`, the worker settled.
pub fn sized(
    size: egui::Vec2,
    projector: bool,
    lang: backprop_viz::i18n::Lang,
) -> Harness<'static, BackpropApp> {
    let mut app = new_app();
    let mut settings = app.settings.clone();
    settings.projector = projector;
    settings.lang = lang;
    app.command(backprop_viz::app::UiCommand::SetSettings(Box::new(
        settings,
    )));
    let mut h = Harness::builder()
        .with_size(size)
        .build_ui_state(|ui, app: &mut BackpropApp| app.ui_root(ui), app);
    settle(&mut h);
    h
}

/// Training moved to `phase` through the history, the frame drawn.
pub fn to_phase(
    h: &mut Harness<'static, BackpropApp>,
    phase: backprop_viz::engine::stepper::Phase,
) {
    h.state_mut()
        .command(backprop_viz::app::UiCommand::GoTo(phase));
    settle(h);
    assert_eq!(snapshot(h).last, Some(phase));
    h.run_steps(3);
}

/// Every text on screen: the accessibility tree's labels and values.
pub fn screen_texts(h: &Harness<'static, BackpropApp>) -> Vec<String> {
    use egui_kittest::kittest::{NodeT, Queryable};
    h.query_all_by(|_| true)
        .flat_map(|node| {
            let n = node.accesskit_node();
            [n.label(), n.value()]
        })
        .flatten()
        .map(|s| s.to_string())
        .collect()
}
