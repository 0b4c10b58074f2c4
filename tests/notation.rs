//! The answer's notation as one numbering on screen (egui_kittest): with
//! *View → The answer's notation* conv + ReLU are one layer and one step,
//! and every layer number and delta name on screen is the answer's (conv2
//! is L3, receives D4, hands down D3); without it every name is the app's
//! own (conv2 is L4, receives D5, hands down D4). Never both at once.

use backprop_viz::app::{BackpropApp, UiCommand};
use backprop_viz::engine::stepper::Phase;
use egui_kittest::Harness;

mod app_common;
use app_common::{harness, new_app, screen_texts, set_settings, settle, snapshot};

/// Presses Space until conv2's backward step; returns how many it took.
fn space_to_conv2_backward(h: &mut Harness<'static, BackpropApp>) -> usize {
    for presses in 1..=40 {
        h.state_mut().command(UiCommand::StepPhase);
        settle(h);
        if snapshot(h).last == Some(Phase::Backward(3)) {
            h.run_steps(3);
            return presses;
        }
    }
    panic!("conv2's backward step never came");
}

fn has(texts: &[String], needle: &str) -> bool {
    texts.iter().any(|t| t.contains(needle))
}

#[test]
fn the_answer_s_notation_is_one_numbering_and_folds_conv_and_relu() {
    let mut h = harness(new_app());
    settle(&mut h);
    set_settings(&mut h, |s| s.answer_notation = true);
    h.run_steps(2);
    // conv1+relu1, pool1, conv2+relu2, pool2, flatten, fc1+relu3, fc2, the
    // loss, back through fc2, relu3+fc1, flatten, pool2, relu2+conv2.
    assert_eq!(space_to_conv2_backward(&mut h), 13);
    let texts = screen_texts(&h);
    for needle in [
        "D4 arrives from relu2, D3 leaves",
        "At L3 you hold D4: dF = x ⋆ D4",
        "② D3 = full_conv(D4, rot180 F)",
        "L3 conv2",
        "conv2 (L3)",
    ] {
        assert!(
            has(&texts, needle),
            "{needle:?} is not on screen: {texts:#?}"
        );
    }
    // Nothing of the app's own numbering.
    for stray in ["D5", "(L4)", "(D4)", "L4 conv2"] {
        assert!(
            !texts.iter().any(|t| t.contains(stray)),
            "{stray:?} on an answer-numbered screen: {:?}",
            texts
                .iter()
                .filter(|t| t.contains(stray))
                .collect::<Vec<_>>()
        );
    }
    // ← undoes the folded step whole (relu2's ⊙ f′ and conv2), → redoes it.
    h.state_mut().command(UiCommand::Back);
    settle(&mut h);
    assert_eq!(
        snapshot(&h).last,
        Some(Phase::Backward(5)),
        "back to pool2's step"
    );
    h.state_mut().command(UiCommand::Forward);
    settle(&mut h);
    assert_eq!(
        snapshot(&h).last,
        Some(Phase::Backward(3)),
        "conv2's step again"
    );
    h.run_steps(3);
    // The fold's own step: relu2 between the numbers' D4 and ∂L/∂a3.
    h.state_mut().command(UiCommand::ViewLayer(Some(4)));
    h.run_steps(3);
    let texts = screen_texts(&h);
    assert!(
        has(&texts, "∂L/∂a3 arrives from pool2, D4 leaves"),
        "{texts:#?}"
    );
}

#[test]
fn the_app_s_own_numbering_steps_every_layer() {
    let mut h = harness(new_app());
    settle(&mut h);
    assert_eq!(space_to_conv2_backward(&mut h), 18);
    let texts = screen_texts(&h);
    for needle in ["D5 arrives from relu2, D4 leaves", "conv2 (L4)"] {
        assert!(has(&texts, needle), "{needle:?} is not on screen");
    }
    for stray in ["At L3", "L3 conv2", "∂L/∂a"] {
        assert!(!has(&texts, stray), "{stray:?} on an app-numbered screen");
    }
}
