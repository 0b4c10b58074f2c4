//! Predict before the reveal (egui_kittest): in Predict mode each backward
//! step arrives covered by a question; the learner answers with the mouse,
//! the view comes back with the answer marked right or wrong against the
//! trace's own numbers, and the explanation opens on that number. V reveals
//! for a class without an answer.

use backprop_viz::app::{BackpropApp, UiCommand};
use backprop_viz::engine::stepper::Phase;
use backprop_viz::i18n::Lang;
use backprop_viz::teach::explain::CellRef;
use backprop_viz::teach::predict::{revealed_cells, Ask, CellMark, Given};
use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::Harness;

mod app_common;
use app_common::{click_at, harness, new_app, set_settings, settle, snapshot};

/// Steps by hand to just after `phase`, revealing what covers the way.
fn step_to(h: &mut Harness<'static, BackpropApp>, phase: Phase) {
    for _ in 0..40 {
        if snapshot(h).last == Some(phase) {
            return;
        }
        if h.state().covering() {
            h.state_mut().command(UiCommand::Reveal);
        } else {
            h.state_mut().command(UiCommand::StepPhase);
        }
        settle(h);
    }
    panic!("never reached {phase:?}");
}

/// A click at the centre of cell `(r, c)` of the `rows × cols` map `label`.
fn click_cell(
    h: &mut Harness<'static, BackpropApp>,
    label: &str,
    rows: usize,
    cols: usize,
    r: usize,
    c: usize,
) {
    let rect = h
        .get_by_role_and_label(egui::accesskit::Role::Image, label)
        .rect();
    let (cw, ch) = (rect.width() / cols as f32, rect.height() / rows as f32);
    let pos = rect.min + egui::vec2((c as f32 + 0.5) * cw, (r as f32 + 0.5) * ch);
    click_at(h, pos);
    h.run_steps(3);
}

fn marks(h: &Harness<'static, BackpropApp>) -> Vec<Option<bool>> {
    h.state().prediction.as_ref().unwrap().marks.clone()
}

#[test]
fn predictions_cover_each_backward_step_and_mark_the_answers() {
    let mut h = harness(new_app());
    set_settings(&mut h, |s| s.predict = true);
    settle(&mut h);

    // flatten (6): the shape of the delta handed down; the right option.
    step_to(&mut h, Phase::Backward(6));
    h.run_steps(2);
    assert!(h.state().covering(), "the step arrives covered");
    assert!(
        h.query_by_label_contains("D7 from").is_none(),
        "nothing of the step's maps shows under the question"
    );
    h.get_by_label("1×7×7").click();
    h.run_steps(2);
    h.get_by_label("Show me").click();
    settle(&mut h);
    assert!(!h.state().covering());
    assert_eq!(marks(&h), [Some(true)]);
    assert!(h.query_by_label_contains("✔ Right.").is_some());

    // pool2 (5): click a cell of the window that did not win.
    step_to(&mut h, Phase::Backward(5));
    h.run_steps(2);
    let (window, winner) = {
        let s = snapshot(&h);
        let p = h.state().prediction.clone().unwrap();
        let Ask::PoolWinner { window, .. } = p.asks[0].0.clone() else {
            panic!("pool2 asks where its delta goes: {:?}", p.asks)
        };
        let CellRef::Delta { index, .. } =
            backprop_viz::teach::predict::cell_of(&s.trace, &p.asks[0].0).unwrap()
        else {
            panic!()
        };
        (window, (index[2], index[3]))
    };
    // The window asked about has a winner one can tell from the numbers.
    {
        let s = snapshot(&h);
        let x = s.trace.layer_input(5).unwrap();
        let plane: Vec<f32> = (0..14 * 14).map(|q| x[[0, 0, q / 14, q % 14]]).collect();
        let range = plane.iter().cloned().fold(f32::MIN, f32::max)
            - plane.iter().cloned().fold(f32::MAX, f32::min);
        let mut cells: Vec<f32> = (0..4)
            .map(|q| plane[(window.0 * 2 + q / 2) * 14 + window.1 * 2 + q % 2])
            .collect();
        cells.sort_by(|a, b| b.total_cmp(a));
        assert!(
            cells[0] - cells[1] >= 0.1 * range,
            "window {window:?} has no clear winner: {cells:?}"
        );
    }
    let wrong = (0..4)
        .map(|q| (window.0 * 2 + q / 2, window.1 * 2 + q % 2))
        .find(|&cell| cell != winner)
        .unwrap();
    click_cell(&mut h, "the pooling's input x", 14, 14, wrong.0, wrong.1);
    assert_eq!(
        h.state().prediction.as_ref().unwrap().asks[0].1,
        Given::Choice(wrong.0 * 14 + wrong.1)
    );
    // A click outside the window is no answer.
    let outside = ((window.0 * 2 + 2) % 14, window.1 * 2);
    click_cell(
        &mut h,
        "the pooling's input x",
        14,
        14,
        outside.0,
        outside.1,
    );
    assert_eq!(
        h.state().prediction.as_ref().unwrap().asks[0].1,
        Given::Choice(wrong.0 * 14 + wrong.1)
    );
    h.get_by_label("Show me").click();
    settle(&mut h);
    assert_eq!(marks(&h), [Some(false)]);
    assert!(h.query_by_label_contains("✘ Not this time.").is_some());
    // On the map: the winner outlined as right, the pick as wrong.
    let p = h.state().prediction.clone().unwrap();
    let on_map = revealed_cells(&snapshot(&h).trace, &p, 5, 0, 0);
    assert_eq!(
        on_map,
        [(winner, CellMark::Right), (wrong, CellMark::Wrong)],
        "the reveal marks the pick and the right cell"
    );
    assert!(revealed_cells(&snapshot(&h).trace, &p, 5, 1, 0).is_empty());
    // The way to the explanation: the winner's cell of the delta.
    h.get_by_label("Explain it").click();
    h.run_steps(3);
    assert_eq!(
        h.state().selected,
        Some(CellRef::Delta {
            layer: 5,
            index: vec![0, 0, winner.0, winner.1]
        })
    );

    // relu2 (4): "none are blocked" is right exactly when no input is ≤ 0.
    step_to(&mut h, Phase::Backward(4));
    h.run_steps(2);
    h.get_by_label("None are blocked").click();
    h.run_steps(2);
    h.get_by_label("Show me").click();
    settle(&mut h);
    let s = snapshot(&h);
    let x = s.trace.layers[3].out.as_ref().unwrap();
    let none_blocked = (0..14 * 14).all(|q| x[[0, 0, q / 14, q % 14]] > 0.0);
    assert_eq!(marks(&h), [Some(none_blocked)]);

    // conv2 (3): the sign of its largest dF tap, answered wrong on
    // purpose; the shape of D_below, right.
    step_to(&mut h, Phase::Backward(3));
    h.run_steps(2);
    let s = snapshot(&h);
    let p = h.state().prediction.clone().unwrap();
    let Ask::DfSign { index, .. } = p.asks[0].0 else {
        panic!("conv2 asks for a sign first: {:?}", p.asks)
    };
    let positive = s.trace.layers[3].weight_grad.as_ref().unwrap()[index] > 0.0;
    h.get_by_label(if positive {
        "− negative"
    } else {
        "+ positive"
    })
    .click();
    h.get_by_label("1×14×14").click();
    h.run_steps(2);
    h.get_by_label("Show me").click();
    settle(&mut h);
    assert_eq!(marks(&h), [Some(false), Some(true)]);
    let p = h.state().prediction.clone().unwrap();
    assert_eq!(
        revealed_cells(&snapshot(&h).trace, &p, 3, index[0], index[1]),
        [((index[2], index[3]), CellMark::Wrong)],
        "the tap asked about, marked wrong on dF"
    );

    // The record keeps every answer.
    let record: Vec<(String, &str, Option<bool>)> = h
        .state()
        .predictions
        .iter()
        .map(|r| (r.phase.clone(), r.question, r.right))
        .collect();
    assert!(record.contains(&("backward:flatten".into(), "below-shape", Some(true))));
    assert!(record.contains(&("backward:pool2".into(), "pool-winner", Some(false))));
    assert!(record.contains(&("backward:conv2".into(), "df-sign", Some(false))));
}

/// A teacher reveals for the class with V: no answer, nothing marked; in
/// Russian the question and the reveal are Russian.
#[test]
fn v_reveals_for_the_class_and_the_lesson_predicts_in_russian() {
    let mut h = harness(new_app());
    set_settings(&mut h, |s| s.lang = Lang::Ru);
    settle(&mut h);
    // The lesson predicts even with the View menu's toggle off.
    assert!(!h.state().settings.predict);
    h.state_mut().lesson_go(8); // "Through max pooling": after pool2's backward step
    settle(&mut h);
    h.run_steps(3);
    assert!(h.state().covering());
    assert!(h.query_all_by_label_contains("Сначала предскажите").count() > 0);
    h.key_press(egui::Key::V);
    h.run_steps(3);
    assert!(!h.state().covering());
    assert_eq!(marks(&h), [None]);
    assert!(h.query_all_by_label_contains("Открыто для всех").count() > 0);
    assert_eq!(h.state().predictions.last().unwrap().right, None);
    assert!(
        backprop_viz::i18n::misses().is_empty(),
        "untranslated: {:?}",
        backprop_viz::i18n::misses()
    );
}

/// Teaching a drawing in Predict mode asks first which digit the network
/// will answer after the step; the answer is marked against the network
/// as it is after that step.
#[test]
fn teaching_a_drawing_is_predicted_first() {
    let mut h = harness(new_app());
    set_settings(&mut h, |s| s.predict = true);
    settle(&mut h);
    h.state_mut().command(UiCommand::LoadPretrained);
    settle(&mut h);
    // A test digit on the pad, as a dropped picture would put it.
    let digit: Vec<f32> = h
        .state()
        .data
        .test
        .image(0)
        .iter()
        .map(|&p| f32::from(p) / 255.0)
        .collect();
    h.state_mut().panels_mut().draw.pad.set_picture(&digit);
    h.state_mut()
        .command(UiCommand::ShowTab(backprop_viz::app::Tab::Draw));
    h.run_steps(3);
    let teach = h.get_by_label("Teach it this digit");
    assert!(
        teach.accesskit_node().is_disabled(),
        "the guess comes first"
    );
    h.get_by_label_contains("Predict first: after this one step");
    // Guess a digit the network will not answer after the step: 3 is
    // wrong unless it answers 3.
    let guess_label = "3";
    let guesses: Vec<_> = h.query_all_by_label(guess_label).collect();
    guesses.last().unwrap().click();
    h.run_steps(2);
    h.get_by_label("Teach it this digit").click();
    settle(&mut h);
    step_to(&mut h, Phase::Update);
    settle(&mut h);
    let pixels = h.state().panels().draw.pad.mnist_pixels().unwrap();
    let probs = h.state().classify(&pixels).unwrap();
    let answer = (0..10)
        .max_by(|&a, &b| probs[a].total_cmp(&probs[b]))
        .unwrap();
    let last = h.state().predictions.last().unwrap().clone();
    assert_eq!(last.question, "taught-digit");
    assert_eq!(last.right, Some(answer == 3));
    let (_, text) = h.state().message_text().unwrap();
    assert!(text.contains(&format!("answers {answer}")), "{text}");
}

/// The record travels with the session: saved, opened in a new window,
/// the same answers are there.
#[test]
fn the_record_is_kept_in_the_session() {
    let mut h = harness(new_app());
    set_settings(&mut h, |s| s.predict = true);
    settle(&mut h);
    step_to(&mut h, Phase::Backward(5));
    h.run_steps(2);
    h.state_mut().command(UiCommand::Reveal);
    settle(&mut h);
    let record = h.state().predictions.clone();
    assert!(record.iter().any(|r| r.question == "pool-winner"));
    let checkout = h.state_mut().checkout_session();
    h.run_steps(2);
    let session = checkout().unwrap();
    assert!(session
        .predictions
        .as_deref()
        .unwrap()
        .contains("pool-winner"));
    let bytes = backprop_viz::io::session_bytes(&session);
    let back =
        backprop_viz::io::read_session(std::path::Path::new("s.safetensors"), &bytes).unwrap();
    let mut other = harness(new_app());
    settle(&mut other);
    other.state_mut().command(UiCommand::ResumeSession(
        Box::new(back),
        None,
        "s.safetensors".into(),
    ));
    settle(&mut other);
    assert_eq!(other.state().predictions, record);
}

/// Only steps taken by hand are predicted: pausing a run, or a whole batch
/// stepped at once, shows the view as it is.
#[test]
fn a_run_or_a_whole_batch_is_never_covered() {
    let mut h = harness(new_app());
    set_settings(&mut h, |s| s.predict = true);
    settle(&mut h);
    h.state_mut().command(UiCommand::StepBatch);
    settle(&mut h);
    assert!(!h.state().covering());
    h.state_mut().command(UiCommand::Run);
    for _ in 0..20 {
        h.run_steps(1);
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    h.state_mut().command(UiCommand::Pause);
    settle(&mut h);
    assert!(!h.state().covering());
    assert!(h.state().prediction.is_none());
    // The next step by hand is asked about again, if it has a question.
    step_to(&mut h, Phase::Backward(5));
    assert!(h.state().prediction.is_some());
}

/// A session whose record this program cannot read (edited, or from a
/// newer version) opens with a word about it; the record is kept aside as
/// it was and saved again with the session, never silently lost; inspect
/// says so too.
#[test]
fn an_unreadable_record_is_reported_and_kept() {
    let mut h = harness(new_app());
    settle(&mut h);
    h.state_mut().command(UiCommand::StepBatch);
    settle(&mut h);
    let checkout = h.state_mut().checkout_session();
    h.run_steps(2);
    let mut session = checkout().unwrap();
    let unreadable = r#"{"format": "backprop-viz-predictions", "version": 7, "records": []}"#;
    session.predictions = Some(unreadable.into());
    let bytes = backprop_viz::io::session_bytes(&session);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.safetensors");
    std::fs::write(&path, &bytes).unwrap();
    let back = backprop_viz::io::read_session(&path, &bytes).unwrap();

    let mut other = harness(new_app());
    settle(&mut other);
    other.state_mut().command(UiCommand::ResumeSession(
        Box::new(back),
        None,
        "s.safetensors".into(),
    ));
    settle(&mut other);
    let (kind, text) = other.state().message_text().unwrap();
    assert_eq!(kind, backprop_viz::app::MessageKind::Warning);
    assert!(
        text.contains("could not be read") && text.contains("version 7"),
        "{text}"
    );
    // Answers given now go into a new record; the old one is saved beside.
    let checkout = other.state_mut().checkout_session();
    other.run_steps(2);
    let saved = checkout().unwrap();
    assert_eq!(saved.predictions_unread.as_deref(), Some(unreadable));
    let again = backprop_viz::io::session_bytes(&saved);
    let reread = backprop_viz::io::read_session(&path, &again).unwrap();
    assert_eq!(reread.predictions_unread.as_deref(), Some(unreadable));

    let o = std::process::Command::new(env!("CARGO_BIN_EXE_backprop-viz"))
        .args(["inspect", path.to_str().unwrap()])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success());
    assert!(out.contains("predictions: unreadable"), "{out}");
}
