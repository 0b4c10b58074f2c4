//! A dF tap as the sum of its samples' shares (the explanation panel's
//! bar): the shares the engine recorded add up to the batch's value the
//! map shows, and the panel says so with the trace's own numbers.

use backprop_viz::app::widgets::heatmap::fmt_value;
use backprop_viz::app::UiCommand;
use backprop_viz::engine::stepper::Phase;
use backprop_viz::teach::explain::CellRef;
use egui_kittest::kittest::Queryable;

mod app_common;
use app_common::{harness, new_app, settle, snapshot, to_phase};

#[test]
fn a_taps_samples_add_up_to_the_batch_s_df() {
    let mut h = harness(new_app());
    settle(&mut h);
    to_phase(&mut h, Phase::Backward(3));
    let t = snapshot(&h).trace;
    let shares = t.layers[3]
        .weight_grad_shares
        .clone()
        .expect("shares recorded");
    let total = t.layers[3].weight_grad.as_ref().unwrap()[[0, 0, 1, 1]];
    let sum: f32 = (0..shares.shape()[0])
        .map(|n| shares[[n, 0, 0, 1, 1]])
        .sum();
    assert!(
        (sum - total).abs() <= 1e-6 * total.abs().max(1e-3),
        "the shares add up to {sum}, the batch's dF is {total}"
    );
    h.state_mut()
        .command(UiCommand::Select(Some(CellRef::WeightGrad {
            layer: 3,
            index: vec![0, 0, 1, 1],
        })));
    h.run_steps(3);
    h.get_by_label("The batch's value, sample by sample");
    h.get_by_label_contains(&format!(
        "16 samples' shares: {} pull up, {} pull down; they net out at {}",
        fmt_value(
            (0..16)
                .map(|n| shares[[n, 0, 0, 1, 1]])
                .filter(|v| *v > 0.0)
                .sum()
        ),
        fmt_value(
            (0..16)
                .map(|n| shares[[n, 0, 0, 1, 1]])
                .filter(|v| *v < 0.0)
                .sum()
        ),
        fmt_value(total)
    ));
}
