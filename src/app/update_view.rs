//! The update, as the lesson teaches it: `F − η·dF = F_new` for every layer
//! with weights. Under plain SGD (the app's default) that is exactly the
//! step the optimizer took; under momentum or Adam the step taken is drawn
//! beside −η·dF and one line says why they differ.

use egui::{RichText, Ui, Vec2};

use super::equation::{fit_cell, row_ui, Operand, Term};
use super::lesson::Mark;
use super::views::UPDATE;
use super::BackpropApp;
use crate::engine::optim::OptimizerKind;
use crate::engine::trace::Trace;
use crate::engine::Tensor;
use crate::i18n::tr;
use crate::trf;

/// One layer's weights as a 2-D map: a conv filter `[o, c]` (the app's
/// channel pick) or a dense matrix `[out, in]`.
fn as_map(t: &Tensor, o: usize, c: usize) -> Option<(Vec<f32>, usize, usize)> {
    match *t.shape() {
        [cout, cin, k, _] => {
            let (o, c) = (o.min(cout - 1), c.min(cin - 1));
            let plane = t
                .index_axis(ndarray::Axis(0), o)
                .index_axis(ndarray::Axis(0), c)
                .iter()
                .copied()
                .collect();
            Some((plane, k, k))
        }
        [out, inp] => Some((t.iter().copied().collect(), out, inp)),
        _ => None,
    }
}

/// Why the step taken is not −η·dF, for the optimizer in use.
pub fn optimizer_note(kind: OptimizerKind, lr: f32) -> String {
    match kind {
        OptimizerKind::Sgd => trf!(
            "Plain SGD: the step taken is exactly −η·dF (η = {lr}), the update of the lesson.",
            lr = lr
        ),
        OptimizerKind::Momentum => trf!(
            "Momentum: the step is −η·v, where v adds 0.9 × the previous steps' v to dF, so it differs from −η·dF (η = {lr}) once there is a history.",
            lr = lr
        ),
        OptimizerKind::Adam => trf!(
            "Adam: each weight's step is −η·m̂/(√v̂ + ε), its gradient divided by its own running size; the first step is η·sign(dF) in every cell (η = {lr}). Choose sgd (Network ▾) to see F − η·dF exactly.",
            lr = lr
        ),
    }
}

pub fn update_ui(app: &mut BackpropApp, ui: &mut Ui, t: &Trace, room: Vec2) {
    let kind = app
        .snapshot
        .as_ref()
        .map_or(OptimizerKind::Sgd, |s| s.optimizer);
    ui.label(
        RichText::new(tr(
            "Update: each weight moves against its gradient, F ← F − η·dF",
        ))
        .heading()
        .color(UPDATE),
    );
    ui.label(RichText::new(optimizer_note(kind, t.lr)).strong());
    let [o, c] = app.channels;
    let eta = t.lr;
    for (i, layer) in t.layers.iter().enumerate() {
        let (Some(w), Some(g), Some(after)) =
            (&layer.weight, &layer.weight_grad, &layer.weight_after)
        else {
            continue;
        };
        let (Some((f, rows, cols)), Some((df, ..)), Some((f_new, ..))) =
            (as_map(w, o, c), as_map(g, o, c), as_map(after, o, c))
        else {
            continue;
        };
        let scaled: Vec<f32> = df.iter().map(|d| eta * d).collect();
        // What the optimizer did: the new weights less the old ones.
        let taken: Vec<f32> = f_new.iter().zip(&f).map(|(n, b)| n - b).collect();
        let minus: Vec<f32> = scaled.iter().map(|v| -v).collect();
        let name = &t.names[i];
        let pair = if w.ndim() == 4 && (w.shape()[0] > 1 || w.shape()[1] > 1) {
            format!("[{},{}]", o.min(w.shape()[0] - 1), c.min(w.shape()[1] - 1))
        } else {
            String::new()
        };
        ui.separator();
        ui.label(RichText::new(format!("{name}{pair} ({})", t.kinds[i].word())).strong());
        let row = if kind == OptimizerKind::Sgd {
            vec![
                Term::map(Operand::new("F", tr("F before"), &f, rows, cols, true)),
                Term::Op("−".into()),
                Term::map(Operand::new(
                    "η·dF",
                    format!("η·dF, η = {eta}"),
                    &scaled,
                    rows,
                    cols,
                    true,
                )),
                Term::Op("=".into()),
                Term::map(Operand::new("F new", tr("F new"), &f_new, rows, cols, true)),
            ]
        } else {
            vec![
                Term::map(Operand::new("F", tr("F before"), &f, rows, cols, true)),
                Term::Op("+".into()),
                Term::map(Operand::new(
                    "taken",
                    tr("step taken"),
                    &taken,
                    rows,
                    cols,
                    true,
                )),
                Term::Op("=".into()),
                Term::map(Operand::new("F new", tr("F new"), &f_new, rows, cols, true)),
                Term::Op(tr("vs").into()),
                Term::map(Operand::new(
                    "−η·dF",
                    format!("−η·dF, η = {eta}"),
                    &minus,
                    rows,
                    cols,
                    true,
                )),
            ]
        };
        let compact = super::panels::toolbar::compact(ui.ctx());
        // Each layer gets a fair share of the height; the view scrolls.
        let cells = fit_cell(
            &[&row],
            Vec2::new(room.x - 8.0, (room.y * 0.45).max(160.0)),
            0.0,
            (3.0, 32.0),
            compact,
        );
        let drawn = row_ui(ui, row, cells);
        // The lesson points at the first layer's step.
        if !app.marks.contains_key(&Mark::Update) {
            if let Some(rect) = drawn.rect("η·dF").or(drawn.rect("taken")) {
                app.mark(Mark::Update, rect);
            }
        }
    }
}
