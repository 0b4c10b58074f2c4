//! The sum behind one number of a convolution as a grid of its products,
//! shown on hover over a cell (CNN Explainer's detail view, here for the
//! backward pass too): the two factors that meet in each cell side by side,
//! their products, and what the products add up to. The numbers are the
//! explanation's, read from the trace ([`crate::teach::explain`]).

use egui::{RichText, Ui, Vec2};

use super::equation::{fit_cell, row_ui, Operand, Term};
use crate::i18n::tr;
use crate::teach::explain::{Explanation, ProductGrid};
use crate::teach::notation::own_magnitude;
use crate::trf;

/// The room the grids take in their tooltip: at most 620x230 points, and
/// on a small screen (a projector at 1.4x) less, so that the whole tooltip
/// fits above or below the pointer (egui shows none that fits neither).
fn room(ctx: &egui::Context) -> Vec2 {
    let screen = ctx.content_rect().size();
    Vec2::new(
        (screen.x * 0.7).min(620.0),
        (screen.y * 0.5 - 150.0).clamp(60.0, 230.0),
    )
}

/// What the two factors are called over the grid, e.g. `["x under tap
/// (1,1)", "D5"]`, and the sentence that ties the products' sum to the
/// number hovered (a share, a part, a bias added).
pub struct Factors {
    pub left: String,
    /// A few characters for the left factor (its title on hover).
    pub left_short: String,
    pub right: String,
    pub then: Option<String>,
}

/// `e`'s grid for channel pair `pair`, drawn as `left ⊙ right = products`
/// under the number's name, then the sum.
pub fn products_ui(ui: &mut Ui, e: &Explanation, pair: (usize, usize), factors: &Factors) {
    let Some(grid) = e.grids.iter().find(|g| g.pair == pair) else {
        return;
    };
    // The titles wrap and elide as the view's do (a tooltip's text would
    // run on).
    ui.style_mut().wrap_mode = None;
    let room = room(ui.ctx());
    ui.set_min_width(room.x);
    ui.label(RichText::new(&e.title).strong());
    let row = terms(grid, factors);
    let cells = fit_cell(&[&row], room, 0.0, (6.0, 40.0), true);
    row_ui(ui, row, cells);
    ui.label(trf!(
        "Σ of the {n} products = {sum}",
        n = grid.rows * grid.cols,
        sum = own_magnitude(grid.sum(), 4)
    ));
    if let Some(then) = &factors.then {
        ui.label(then);
    }
}

fn terms<'a>(grid: &'a ProductGrid, factors: &Factors) -> Vec<Term<'a>> {
    // A factor with no negative number (an input after ReLU, a digit) in
    // the grey of the maps it comes from; signed ones, and the products,
    // in blue and red.
    let map = |id, title: &str, short: &str, values: &'a [f32]| {
        let signed = values.iter().any(|&v| v < 0.0);
        Term::map(
            Operand::new(id, title, values, grid.rows, grid.cols, signed)
                .short(short)
                .big(),
        )
    };
    vec![
        map("left", &factors.left, &factors.left_short, &grid.left),
        Term::Op("⊙".into()),
        map("right", &factors.right, &factors.right, &grid.right),
        Term::Op("=".into()),
        map("products", tr("products"), tr("products"), &grid.products),
    ]
}
