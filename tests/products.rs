//! Hovering a cell of conv2's backward step shows the sum behind it as a
//! grid of products: the two factors and their products drawn as maps in
//! the window, and the sum and the number it makes printed with the
//! trace's own values.

use backprop_viz::app::BackpropApp;
use backprop_viz::engine::stepper::Phase;
use backprop_viz::i18n::Lang;
use backprop_viz::teach::explain::{explain, CellRef};
use backprop_viz::teach::notation::own_magnitude;
use egui::accesskit::Role;
use egui::Rect;
use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::Harness;

mod app_common;
use app_common::{screen_texts, sized, snapshot, to_phase};

fn map(h: &Harness<'static, BackpropApp>, starts: &str) -> Option<Rect> {
    h.query_all_by(|n| n.role() == Role::Image)
        .find(|n| {
            n.accesskit_node()
                .label()
                .is_some_and(|l| l.starts_with(starts))
        })
        .map(|n| n.rect())
}

/// Hovers cell `(r, c)` of the `rows`×`cols` map titled `starts` and waits
/// for its tooltip.
fn hover(
    h: &mut Harness<'static, BackpropApp>,
    starts: &str,
    (rows, cols): (usize, usize),
    (r, c): (usize, usize),
) {
    let rect = map(h, starts).unwrap_or_else(|| panic!("no map {starts:?}"));
    let at = egui::pos2(
        rect.left() + (c as f32 + 0.5) * rect.width() / cols as f32,
        rect.top() + (r as f32 + 0.5) * rect.height() / rows as f32,
    );
    h.event(egui::Event::PointerMoved(at));
    for _ in 0..60 {
        h.run_steps(1);
        if map(h, "products").is_some() {
            break;
        }
    }
}

#[test]
fn hovering_a_gradient_or_a_delta_cell_shows_its_products() {
    let mut h = sized(egui::vec2(1600.0, 1000.0), false, Lang::En);
    to_phase(&mut h, Phase::Backward(3));
    let t = snapshot(&h).trace;
    let screen = Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1600.0, 1000.0));

    // dF's share of sample 0 at tap (1, 1): x under the tap ⊙ D5, 14x14.
    hover(&mut h, "dF: sample 0", (3, 3), (1, 1));
    let cell = CellRef::WeightGrad {
        layer: 3,
        index: vec![0, 0, 1, 1],
    };
    let e = explain(&t, &cell, 0).unwrap();
    let products = map(&h, "products").expect("a grid of products on hover over dF");
    let left = map(&h, "x under tap (1,1)").expect("the input under the tap");
    let right = h
        .query_all_by(|n| n.role() == Role::Image)
        .filter(|n| n.accesskit_node().label().as_deref() == Some("D5"))
        .map(|n| n.rect())
        .find(|r| (r.top() - left.top()).abs() < 1.0);
    assert!(right.is_some(), "D5 beside the input under the tap");
    for (what, rect) in [("products", products), ("x under the tap", left)] {
        assert!(
            screen.contains_rect(rect),
            "{what} {rect:?} leaves the window"
        );
        assert!(
            rect.width() >= 14.0 * 8.0,
            "{what}: a 14x14 map {} points wide",
            rect.width()
        );
    }
    let texts = screen_texts(&h).join("\n");
    let sum = format!(
        "Σ of the 196 products = {}",
        own_magnitude(e.grids[0].sum(), 4)
    );
    assert!(texts.contains(&sum), "{sum:?} not on screen");
    let share = t.sample_weight_grad(3, 0).unwrap()[[0, 0, 1, 1]];
    assert_eq!(
        own_magnitude(e.grids[0].sum(), 4),
        own_magnitude(share, 4),
        "the grid sums to the share the engine recorded"
    );
    assert!(texts.contains("= sample 0's share of dF[1,1]"));

    // Leave it, then D4[7, 6], handed down: 3x3 products with numbers.
    h.event(egui::Event::PointerMoved(egui::pos2(5.0, 5.0)));
    h.run_steps(5);
    assert!(
        map(&h, "products").is_none(),
        "the grid stays after the pointer left"
    );
    hover(&mut h, "D4 handed to pool1", (14, 14), (7, 6));
    let cell = CellRef::Delta {
        layer: 3,
        index: vec![0, 0, 7, 6],
    };
    let e = explain(&t, &cell, 0).unwrap();
    let products = map(&h, "products").expect("a grid of products on hover over D4");
    assert!(screen.contains_rect(products));
    assert!(
        products.width() >= 3.0 * 30.0,
        "3x3 products {} points wide",
        products.width()
    );
    let described = h
        .query_all_by(|n| n.role() == Role::Image)
        .find(|n| n.accesskit_node().label().as_deref() == Some("products"))
        .and_then(|n| n.accesskit_node().value().map(|v| v.to_string()))
        .unwrap();
    assert!(
        !described.ends_with('–'),
        "the 3x3 products print their numbers: {described}"
    );
    let texts = screen_texts(&h).join("\n");
    let recorded = t.layers[3].delta.as_ref().unwrap()[[0, 0, 7, 6]];
    for line in [
        format!(
            "Σ of the 9 products = {}",
            own_magnitude(e.grids[0].sum(), 4)
        ),
        format!("= D4[7,6] = {}", own_magnitude(recorded, 4)),
    ] {
        assert!(texts.contains(&line), "{line:?} not on screen");
    }
}
