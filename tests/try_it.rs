//! Try it yourself (egui_kittest): the explanation's numbers are covered;
//! a value typed for a cell of conv2's delta is checked against the trace,
//! the no-rotation mistake is named, and the weights typed for the window
//! are pointed at position by position.

use backprop_viz::app::UiCommand;
use backprop_viz::check::{candidates, Mistake, Named, Part};
use backprop_viz::teach::explain::CellRef;
use egui_kittest::kittest::Queryable;

mod app_common;
use app_common::{harness, new_app, settle, snapshot};

#[test]
fn a_delta_cell_worked_out_by_hand_is_checked_and_the_rotation_named() {
    let mut h = harness(new_app());
    settle(&mut h);
    for _ in 0..(10 + 1 + 7) {
        h.state_mut().command(UiCommand::StepPhase);
        settle(&mut h);
    }
    let s = snapshot(&h);
    let conv2 = 3;
    let delta = s.trace.layers[conv2].delta.as_ref().unwrap().clone();
    // The cell of sample 0 where leaving out the rotation shows most.
    let wrong = candidates(&s.trace, Named::Layer(conv2, Part::Delta))
        .into_iter()
        .find(|(m, _)| *m == Mistake::NoRot180)
        .unwrap()
        .1;
    let (y, x) = (0..14 * 14)
        .map(|q| (q / 14, q % 14))
        .max_by(|a, b| {
            let d = |(y, x): (usize, usize)| {
                (wrong[[0, 0, y, x]] - f64::from(delta[[0, 0, y, x]])).abs()
            };
            d(*a).total_cmp(&d(*b))
        })
        .unwrap();
    let cell = CellRef::Delta {
        layer: conv2,
        index: vec![0, 0, y, x],
    };
    h.state_mut().command(UiCommand::Select(Some(cell)));
    h.run_steps(3);
    h.get_by_label("✍ Try it yourself").click();
    h.run_steps(3);
    // The numbers are covered.
    assert!(h.query_all_by_label_contains("value in the trace").count() == 0);
    // The value without the rotation: named.
    h.state_mut().panels_mut().explanation.try_it.value = format!("{}", wrong[[0, 0, y, x]]);
    h.get_by_label("Check").click();
    h.run_steps(3);
    let (right, words) = h
        .state()
        .panels()
        .explanation
        .try_it
        .feedback
        .clone()
        .unwrap();
    assert!(!right);
    assert!(words.contains("unrotated"), "{words}");
    // The engine's own value: right.
    h.state_mut().panels_mut().explanation.try_it.value = format!("{}", delta[[0, 0, y, x]]);
    h.get_by_label("Check").click();
    h.run_steps(3);
    assert!(
        h.state()
            .panels()
            .explanation
            .try_it
            .feedback
            .clone()
            .unwrap()
            .0
    );
    // The window's weights typed unrotated: the first position is named.
    let f = s.trace.layers[conv2].weight.as_ref().unwrap().clone();
    h.state_mut().panels_mut().explanation.try_it.grid = (0..9)
        .map(|q| format!("{}", f[[0, 0, q / 3, q % 3]]))
        .collect();
    h.get_by_label("Check the weights").click();
    h.run_steps(3);
    let (right, words) = h
        .state()
        .panels()
        .explanation
        .try_it
        .feedback
        .clone()
        .unwrap();
    assert!(!right);
    assert!(
        words.contains("you used F[0,0]") && words.contains("takes F[2,2]"),
        "{words}"
    );
    // Each box shows a weight typed to four decimals (−0.0915) whole: at
    // least seven digits of the monospace font wide.
    // (The app's monospace text style: 15 points.)
    let digit = h
        .ctx
        .fonts_mut(|f| f.glyph_width(&egui::FontId::monospace(15.0), '0'));
    let panel = h.state().marks()[&backprop_viz::teach::lesson::Mark::Explain];
    let boxes: Vec<egui::Rect> = h
        .query_all_by(|n| n.role() == egui::accesskit::Role::TextInput)
        .map(|n| n.rect())
        .filter(|r| panel.contains_rect(*r))
        .collect();
    assert!(boxes.len() >= 10, "nine weights and the value: {boxes:?}");
    for rect in &boxes {
        assert!(
            rect.width() >= 7.0 * digit + 8.0,
            "a box of {} points clips a weight ({} a digit)",
            rect.width(),
            digit
        );
    }
    // Rotated: all right.
    h.state_mut().panels_mut().explanation.try_it.grid = (0..9)
        .map(|q| format!("{}", f[[0, 0, 2 - q / 3, 2 - q % 3]]))
        .collect();
    h.get_by_label("Check the weights").click();
    h.run_steps(3);
    assert!(
        h.state()
            .panels()
            .explanation
            .try_it
            .feedback
            .clone()
            .unwrap()
            .0
    );
}
