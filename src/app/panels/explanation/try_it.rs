//! *Try it yourself*, in the explanation panel: the selected number's terms
//! and value are covered; the learner works it out and types it. A wrong
//! number is matched against every catalogue mistake at that cell (the
//! check's own formulas) and the mistake is named. For a delta a conv layer
//! hands down, the learner also fills in which filter weight multiplies each
//! cell of the padded D under the window, and the first wrong one is
//! pointed at in words ("you used F[0,0]; after the 180° rotation this
//! position takes F[2,2]").

use egui::{RichText, Ui};

use crate::app::state::AppState;
use crate::app::style::{ERROR, RIGHT};
use crate::check::{check_cell, Named, Part};
use crate::engine::layers::LayerKind;
use crate::engine::trace::Trace;
use crate::i18n::tr;
use crate::teach::explain::CellRef;
use crate::trf;

/// What the learner has typed for one cell.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TryIt {
    pub cell: Option<CellRef>,
    pub value: String,
    /// The weights typed for the rotated filter's positions (row-major).
    pub grid: Vec<String>,
    /// The verdict after *Check*, in words (right, and the text).
    pub feedback: Option<(bool, String)>,
}

/// The trace tensor and index a cell names, when it is one `check` knows.
fn named(cell: &CellRef) -> Option<(Named, Vec<usize>)> {
    match cell {
        CellRef::WeightGrad { layer, index } => {
            Some((Named::Layer(*layer, Part::WeightGrad), index.clone()))
        }
        CellRef::Delta { layer, index } => Some((Named::Layer(*layer, Part::Delta), index.clone())),
        CellRef::Output { layer, index } => Some((Named::Layer(*layer, Part::Out), index.clone())),
        CellRef::LossDelta { index } => Some((Named::LogitsDelta, index.clone())),
        CellRef::Input { .. } => None,
    }
}

fn parse(text: &str) -> Option<f64> {
    text.trim()
        .replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
}

/// A conv layer's kernel, when `cell` is the delta it hands down.
fn conv_delta(t: &Trace, cell: &CellRef) -> Option<(usize, usize, usize)> {
    let CellRef::Delta { layer, index } = cell else {
        return None;
    };
    match t.kinds.get(*layer)? {
        LayerKind::Conv { kernel, .. } if index.len() == 4 => Some((*layer, *kernel, index[1])),
        _ => None,
    }
}

/// The first position of the rotated-filter grid that is wrong, in words;
/// `None` when every weight typed is right.
fn grid_feedback(
    t: &Trace,
    layer: usize,
    k: usize,
    o: usize,
    c: usize,
    grid: &[String],
) -> Option<String> {
    let f = t.layers[layer].weight.as_ref()?;
    let scale = f.iter().fold(0.0f32, |m, v| m.max(v.abs())) as f64;
    let close = |a: f64, b: f32| (a - f64::from(b)).abs() <= 1e-3 * scale.max(1e-12);
    for a in 0..k {
        for b in 0..k {
            let right = f[[o, c, k - 1 - a, k - 1 - b]];
            let typed = grid.get(a * k + b).and_then(|s| parse(s));
            let Some(v) = typed else {
                return Some(trf!(
                    "Position ({a}, {b}) is empty: which weight of F multiplies that cell of D?",
                    a = a,
                    b = b
                ));
            };
            if close(v, right) {
                continue;
            }
            // The classic: the unrotated filter's weight at this position.
            if close(v, f[[o, c, a, b]]) {
                return Some(trf!(
                    "At position ({a}, {b}) you used F[{a},{b}] = {used}; after the 180° rotation this position takes F[{ra},{rb}] = {right}.",
                    a = a,
                    b = b,
                    used = format!("{:.4}", f[[o, c, a, b]]),
                    ra = k - 1 - a,
                    rb = k - 1 - b,
                    right = format!("{right:.4}")
                ));
            }
            return Some(trf!(
                "At position ({a}, {b}) the weight is F[{ra},{rb}] = {right} (rot180(F)[{a},{b}]), not {typed}.",
                a = a,
                b = b,
                ra = k - 1 - a,
                rb = k - 1 - b,
                right = format!("{right:.4}"),
                typed = format!("{v:.4}")
            ));
        }
    }
    None
}

impl TryIt {
    /// The learner's side of the explanation: inputs and the verdict.
    pub fn ui(&mut self, ui: &mut Ui, state: &AppState, t: &Trace, cell: &CellRef) {
        let Some((named_tensor, index)) = named(cell) else {
            ui.label(tr(
                "Nothing to work out here: this is a pixel of the input.",
            ));
            return;
        };
        if self.cell.as_ref() != Some(cell) {
            *self = TryIt {
                cell: Some(cell.clone()),
                ..TryIt::default()
            };
        }
        let rotated = conv_delta(t, cell);
        let channels = state.channels;
        let state = self;
        if let Some((layer, k, c)) = rotated {
            let o =
                channels[0].min(t.layers[layer].weight.as_ref().map_or(1, |w| w.shape()[0]) - 1);
            ui.label(trf!(
            "Which weight of F (out channel {o}) multiplies each cell of the padded D under the window? Type the 9 numbers, position (0, 0) top left.",
            o = o
        ));
            state.grid.resize(k * k, String::new());
            // Boxes as wide as the panel allows, in digits' own font, so a
            // weight typed in full (−0.0915) stays in sight.
            let gap = 4.0;
            let width = ((ui.available_width() - gap * (k as f32 - 1.0)) / k as f32 - 8.0)
                .clamp(72.0, 120.0);
            egui::Grid::new("try grid")
                .spacing([gap, gap])
                // (A grid's column is as wide as its last frame's content, at
                // least this: without it a box never grows past 40 points.)
                .min_col_width(width)
                .show(ui, |ui| {
                    for a in 0..k {
                        for b in 0..k {
                            ui.add(
                                egui::TextEdit::singleline(&mut state.grid[a * k + b])
                                    .font(egui::TextStyle::Monospace)
                                    .desired_width(width),
                            );
                        }
                        ui.end_row();
                    }
                });
            if ui.button(tr("Check the weights")).clicked() {
                state.feedback = Some(match grid_feedback(t, layer, k, o, c, &state.grid) {
                    None => (
                        true,
                        tr("✔ Every weight is right: the window holds F turned by 180°.")
                            .to_string(),
                    ),
                    Some(words) => (false, words),
                });
            }
            ui.separator();
        }
        ui.horizontal(|ui| {
            let label = ui.label(tr("Your value:"));
            ui.add(
                egui::TextEdit::singleline(&mut state.value)
                    .font(egui::TextStyle::Monospace)
                    .desired_width(160.0),
            )
            .labelled_by(label.id);
            if ui.button(tr("Check")).clicked() {
                state.feedback = Some(match parse(&state.value) {
                    None => (
                        false,
                        tr("Type a number (a dot or a comma for the decimals).").to_string(),
                    ),
                    Some(v) => match check_cell(t, named_tensor, &index, v) {
                        Some(verdict) if verdict.ok => (
                            true,
                            tr("✔ Right: that is the engine's number.").to_string(),
                        ),
                        Some(verdict) => (false, verdict.message()),
                        None => (
                            false,
                            tr("This number has not been computed yet in this step.").to_string(),
                        ),
                    },
                });
            }
        });
        if let Some((right, words)) = &state.feedback {
            let colour = if *right { RIGHT } else { ERROR };
            ui.label(RichText::new(words).color(colour).strong());
        }
    }
}
