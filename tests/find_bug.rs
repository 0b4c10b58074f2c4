//! Find the bug in the app (egui_kittest): a teacher's mistake switched on
//! in the backward pass is exposed by the explanation panel's gradient
//! check at the layer below it, and *Reveal* names it as `check` would.
//! The teacher's window never shows in projector mode.

use backprop_viz::app::UiCommand;
use backprop_viz::check::bugs::{bugs_for, caught_at};
use backprop_viz::check::Mistake;
use backprop_viz::engine::gradcheck::largest_gradient;
use backprop_viz::teach::explain::CellRef;
use egui_kittest::kittest::Queryable;

mod app_common;
use app_common::{harness, new_app, set_settings, settle, settle_until, snapshot};

#[test]
fn a_spread_pool_delta_is_found_by_the_gradient_check_and_revealed() {
    let mut h = harness(new_app());
    settle(&mut h);
    let specs = snapshot(&h).trace.specs();
    let bug = bugs_for(&specs)
        .into_iter()
        .find(|b| b.mistake == Mistake::PoolSpread)
        .unwrap();
    h.state_mut().command(UiCommand::SetBug(Some(bug)));
    h.state_mut().command(UiCommand::StepBatch);
    settle(&mut h);
    // The class checks conv2's largest dF tap by finite differences.
    let layer = caught_at(&specs, bug).unwrap();
    let index = largest_gradient(&snapshot(&h).trace, layer).unwrap();
    h.state_mut().command(UiCommand::ViewLayer(Some(layer)));
    h.state_mut()
        .command(UiCommand::Select(Some(CellRef::WeightGrad {
            layer,
            index,
        })));
    h.run_steps(3);
    // Nothing but the check itself tells the layer: no verdict of the sum.
    assert!(
        h.query_all_by_label_contains("differs from the trace")
            .count()
            == 0
    );
    assert!(h.query_all_by_label_contains("equals the trace").count() == 0);
    // (At the foot of the explanation: scrolled into sight, as a user would.)
    h.get_by_label("Check with finite differences")
        .scroll_to_me();
    h.run_steps(30);
    h.get_by_label("Check with finite differences").click();
    settle_until(&mut h, |app| app.gradcheck.is_some());
    h.run_steps(2);
    assert!(
        h.query_all_by_label_contains("They disagree").count() > 0,
        "the gradient check exposes the bug"
    );
    // The teacher reveals it: named, the right result beside the wrong.
    h.state_mut()
        .command(backprop_viz::app::UiCommand::ShowFindBug(true));
    h.run_steps(3);
    // On a mirrored screen the window names no bug while one is on.
    let names = snapshot(&h).trace.names.clone();
    let name = format!(
        "{}.{}: {}",
        names[bug.layer],
        bug.part.name(),
        bug.mistake.id()
    );
    assert!(
        h.query_by_label(&name).is_none(),
        "the window names the bug"
    );
    h.get_by_label("A bug is switched on. Its name stays hidden until you reveal it.");
    h.get_by_label("Reveal to the class").click();
    h.run_steps(3);
    let checked = h.state().checked.as_ref().expect("the reveal's panel");
    assert!(checked.bug);
    assert_eq!(checked.verdicts[0].diagnosis, Some(Mistake::PoolSpread));
    let (_, text) = h.state().message_text().unwrap();
    assert!(text.starts_with("The bug was:"), "{text}");
    // Switched off, the same check agrees again on a new batch.
    h.state_mut().command(UiCommand::SetBug(None));
    h.state_mut().command(UiCommand::StepBatch);
    settle(&mut h);
    let index = largest_gradient(&snapshot(&h).trace, layer).unwrap();
    let fd =
        backprop_viz::engine::gradcheck::check_weight(&snapshot(&h).trace, layer, &index).unwrap();
    assert!(fd.relative_error < 1e-3, "{fd:?}");
    // On the projector the teacher's window is never drawn.
    set_settings(&mut h, |s| s.projector = true);
    h.run_steps(3);
    assert!(h.query_by_label("Find the bug (for the teacher)").is_none());
}

/// A random bug: one of the catalogue's for this network, switched on
/// without the window naming it.
#[test]
fn a_random_bug_is_one_of_the_network_s() {
    let mut h = harness(new_app());
    settle(&mut h);
    h.state_mut().command(UiCommand::ShowFindBug(true));
    h.run_steps(3);
    h.get_by_label("Switch on a random bug").click();
    h.run_steps(3);
    let bug = h.state().bug.expect("a bug switched on");
    assert!(bugs_for(&snapshot(&h).trace.specs()).contains(&bug));
    h.get_by_label("Switch it off").click();
    h.run_steps(3);
    assert!(h.state().bug.is_none());
}
