//! The animation bar as a learner uses it: one button starts a sum, the
//! other switches to its own at once (no ✕ needed), A on the last frame
//! plays again from the start.

mod app_common;

use app_common::*;
use backprop_viz::engine::stepper::Phase;
use backprop_viz::teach::animation::Kind;
use egui_kittest::kittest::Queryable;

#[test]
fn the_other_animation_button_switches_at_once() {
    let mut h = harness(new_app());
    settle(&mut h);
    to_phase(&mut h, Phase::Backward(3));
    h.get_by_label("① dF").click();
    h.run_steps(2);
    let kind = |h: &egui_kittest::Harness<'static, backprop_viz::app::BackpropApp>| {
        h.state().animation.as_ref().map(|a| a.kind)
    };
    assert_eq!(kind(&h), Some(Kind::Gradient));
    h.get_by_label("② D_below").click();
    h.run_steps(2);
    assert_eq!(kind(&h), Some(Kind::Below), "the second button switches");
    h.get_by_label("① dF").click();
    h.run_steps(2);
    assert_eq!(kind(&h), Some(Kind::Gradient), "and back");
}

#[test]
fn a_on_the_last_frame_plays_again_from_the_start() {
    let mut h = harness(new_app());
    settle(&mut h);
    to_phase(&mut h, Phase::Backward(3));
    h.get_by_label("① dF").click();
    h.run_steps(2);
    h.get_by_label("▶▶|").click();
    h.run_steps(2);
    let end = h.state().animation.clone().expect("an animation");
    assert!(!end.playing && end.at > 10.0, "at the end, paused: {end:?}");
    h.key_press(egui::Key::A);
    h.run_steps(1);
    let a = h.state().animation.clone().expect("an animation");
    assert!(a.playing, "A plays again");
    // One frame of the harness has played a few of the sum's frames since.
    assert!(
        a.at < end.at / 2.0,
        "from the start: at {} of {}",
        a.at,
        end.at
    );
}
