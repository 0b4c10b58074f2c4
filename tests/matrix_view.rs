//! The FC rule is the conv rule (egui_kittest): conv2's backward step drawn
//! as its dense matrix; Wᵀ·δ is shown to equal the engine's D_below and the
//! im2col product the engine's dF; an entry picked names its tap and the
//! two cells it connects.

use backprop_viz::app::views::matrix::Pick;
use backprop_viz::app::UiCommand;
use egui_kittest::kittest::{NodeT, Queryable};

mod app_common;
use app_common::{click_at, harness, new_app, settle};

fn largest_difference(
    h: &egui_kittest::Harness<'static, backprop_viz::app::BackpropApp>,
    start: &str,
) -> f64 {
    let node = h.get_by_label_contains(start);
    let n = node.accesskit_node();
    let text = n.label().or(n.value()).unwrap_or_default().to_string();
    let after = text.split("at most ").nth(1).unwrap();
    let number: String = after
        .chars()
        .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | '-'))
        .collect();
    number.trim_end_matches('.').parse().unwrap()
}

#[test]
fn conv2_as_a_dense_layer_gives_the_engines_numbers_and_links_entries_to_taps() {
    let mut h = harness(new_app());
    settle(&mut h);
    for _ in 0..(10 + 1 + 7) {
        h.state_mut().command(UiCommand::StepPhase);
        settle(&mut h);
    }
    h.get_by_label("As a dense layer (Wᵀ · δ)").click();
    h.run_steps(3);
    assert!(h.state().as_matrix);
    assert!(largest_difference(&h, "Wᵀ · δ and full_conv") < 1e-6);
    assert!(largest_difference(&h, "Wᵀ · δ and the engine's D_below") < 1e-6);
    assert!(largest_difference(&h, "dF as the im2col product") < 1e-5);
    // An entry on the main diagonal of Wᵀ (pixel (7,7) and output cell
    // (7,7)): the filter's centre tap.
    let matrix = h
        .get_by_label("Wᵀ: a row per input pixel, a column per output cell")
        .rect();
    let cell = matrix.width() / 196.0;
    let k = 7 * 14 + 7;
    let pos = matrix.min + egui::vec2((k as f32 + 0.5) * cell, (k as f32 + 0.5) * cell);
    click_at(&mut h, pos);
    h.run_steps(3);
    assert_eq!(
        h.state().panels().views.matrix.pick,
        Some(Pick::Entry(k, k))
    );
    assert!(h
        .query_all_by_label_contains("through tap (1, 1)")
        .next()
        .is_some());
    // And back: a tap of F marks its entries.
    let f = h.get_by_label("F").rect();
    let pos = f.min + egui::vec2(f.width() * 0.2, f.height() * 0.2);
    click_at(&mut h, pos);
    h.run_steps(3);
    assert_eq!(h.state().panels().views.matrix.pick, Some(Pick::Tap(0, 0)));
}
