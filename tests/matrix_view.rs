//! The FC rule is the conv rule (egui_kittest): conv2's backward step drawn
//! as its dense matrix; Wᵀ·δ is shown to equal the engine's D_below and the
//! im2col product the engine's dF; an entry picked names its tap and the
//! two cells it connects.

use backprop_viz::app::views::matrix::Pick;
use backprop_viz::app::UiCommand;
use egui_kittest::kittest::{NodeT, Queryable};

mod app_common;
use app_common::{click_at, harness, new_app, settle};

/// The equalities as drawn: each row's two sides and its verdict's largest
/// difference, in order.
fn equalities(
    h: &egui_kittest::Harness<'static, backprop_viz::app::BackpropApp>,
) -> Vec<(bool, f64)> {
    h.query_all_by_label_contains("largest difference")
        .map(|node| {
            let n = node.accesskit_node();
            let text = n.label().or(n.value()).unwrap_or_default().to_string();
            let holds = text.starts_with('✓');
            let number = text.split("difference ").nth(1).unwrap().trim();
            (holds, number.parse().unwrap())
        })
        .collect()
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
    // Written as equations: Wᵀ·δ = full_conv(D, rot180 F), Wᵀ·δ = D_below,
    // Σ im2col(x)ᵀ·δ = dF, each holding.
    for side in [
        "full_conv(D, rot180 F)",
        "D_below",
        "Σₙ im2col(xₙ)ᵀ · δₙ",
        "dF",
    ] {
        assert!(h.query_by_label(side).is_some(), "{side} not written");
    }
    let rows = equalities(&h);
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|(holds, _)| *holds), "{rows:?}");
    assert!(
        rows[0].1 < 1e-6 && rows[1].1 < 1e-6 && rows[2].1 < 1e-5,
        "{rows:?}"
    );
    // An entry on the main diagonal of Wᵀ (pixel (7,7) and output cell
    // (7,7)): the filter's centre tap.
    let matrix = h
        .get_by_label("Wᵀ: a row per input pixel, a column per output cell")
        .rect();
    let cell = matrix.width() / 196.0;
    // Its rows numbered by the input's row y (0…13) at the left, its
    // columns by the output's row i above.
    let texts: Vec<(String, egui::Pos2)> = h
        .output()
        .shapes
        .iter()
        .filter_map(|c| match &c.shape {
            egui::Shape::Text(t) => Some((t.galley.text().to_string(), t.pos)),
            _ => None,
        })
        .collect();
    for n in 0..14 {
        let at = |left: bool| {
            texts.iter().any(|(t, p)| {
                *t == n.to_string()
                    && if left {
                        p.x < matrix.left() && p.y >= matrix.top() - 1.0 && p.y < matrix.bottom()
                    } else {
                        p.y < matrix.top() && p.x >= matrix.left() - 1.0 && p.x < matrix.right()
                    }
            })
        };
        assert!(at(true) && at(false), "axis number {n} missing");
    }
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
