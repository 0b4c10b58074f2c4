//! *File → Check my backprop…*: a student's own backward tensors (`.npy`,
//! CSV, safetensors, chosen or dropped on the window) checked against the
//! step on screen by [`crate::check`], the same check as the command line's.
//! A window lists every tensor handed in, matched or with its mistake named
//! in words and the fix; the one chosen is drawn beside the engine's with
//! their difference, its most wrong cell (the largest error) outlined, and one click opens the
//! usual view and the explanation on that cell.

use egui::{RichText, Ui, Vec2};
use ndarray::ArrayD;

use crate::app::command::{CheckedMove, UiCommand};
use crate::app::cx::Cx;
use crate::app::style::{compact, ERROR, RIGHT};
use crate::app::widgets::equation::{fit_cell, row_ui, Operand, Term};
use crate::app::widgets::heatmap::SELECTION;
use crate::check::checked::Checked;
use crate::check::{Named, Part};
use crate::i18n::tr;
use crate::trf;

/// The drawn slice of `a` at the leading indices `at`: `(values, rows,
/// cols)`. A long vector or matrix row with a square number of entries (a
/// dense layer's 784 or 49 inputs) is drawn as the square it came from.
fn slice(a: &ArrayD<f64>, at: &[usize], row: usize) -> (Vec<f32>, usize, usize) {
    let mut view = a.view();
    for &i in at {
        let last = view.shape()[0] - 1;
        view = view.index_axis_move(ndarray::Axis(0), i.min(last));
    }
    let values: Vec<f32> = view.iter().map(|&v| v as f32).collect();
    match *view.shape() {
        [] => (values, 1, 1),
        [n] => square(values, 1, n),
        [r, c] if c > 32 => {
            let r = row.min(r - 1);
            square(values[r * c..(r + 1) * c].to_vec(), 1, c)
        }
        [r, c] => (values, r, c),
        _ => (values, 1, 1),
    }
}

fn square(values: Vec<f32>, rows: usize, cols: usize) -> (Vec<f32>, usize, usize) {
    let side = (cols as f64).sqrt() as usize;
    if rows == 1 && cols > 12 && side * side == cols {
        (values, side, side)
    } else {
        (values, rows, cols)
    }
}

/// The panel under the views while a check is open.
pub fn checked_ui(ui: &mut Ui, cx: &mut Cx) {
    let state = cx.state;
    let Some(checked) = state.checked.as_deref() else {
        return;
    };
    let on_screen = state.snapshot.as_ref().map(|s| s.batches);
    let compact = compact(ui.ctx());
    ui.horizontal(|ui| {
        // Find the bug's reveal compares the app's own backprop with and
        // without the bug: not the student's.
        ui.heading(if checked.bug {
            tr("The bug, found: the backprop with it against without it")
        } else {
            tr("Your backprop, checked")
        });
        ui.label(trf!(
            "{ok} of {n} match the engine's numbers for batch {batch}.",
            ok = checked.matched(),
            n = checked.verdicts.len(),
            batch = checked.batch
        ));
        if checked.folded {
            if let Some(v) = checked.verdicts.get(checked.chosen).filter(|v| !v.ok) {
                ui.label(RichText::new(format!("✘ {}", v.name)).color(ERROR));
            }
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.button(tr("Close")).clicked() {
                cx.command(UiCommand::Checked(CheckedMove::Close));
            }
            let fold = if checked.folded {
                tr("Unfold")
            } else {
                tr("Fold")
            };
            if ui.button(fold).clicked() {
                cx.command(UiCommand::Checked(CheckedMove::Fold(!checked.folded)));
            }
        });
    });
    if !checked.folded {
        body(ui, cx, checked, on_screen, compact);
    }
}

fn body(ui: &mut Ui, cx: &mut Cx, checked: &Checked, on_screen: Option<u64>, compact: bool) {
    // Left: what was handed in and what is wrong, in words; right: the
    // chosen tensor beside the engine's.
    let left = (ui.available_width() * 0.42).max(280.0);
    let height = ui.available_height();
    ui.horizontal_top(|ui| {
        let down = egui::Layout::top_down(egui::Align::Min);
        ui.allocate_ui_with_layout(Vec2::new(left, height), down, |ui| {
            egui::ScrollArea::vertical()
                .id_salt("checked words")
                .auto_shrink([false, false])
                .show(ui, |ui| words_ui(ui, cx, checked, on_screen, compact));
        });
        ui.separator();
        ui.vertical(|ui| maps_ui(ui, checked, compact));
    });
}

/// The list of tensors, the chosen one's verdict, the slice pickers and the
/// way into the views.
fn words_ui(ui: &mut Ui, cx: &mut Cx, checked: &Checked, on_screen: Option<u64>, compact: bool) {
    ui.horizontal_wrapped(|ui| {
        for (k, v) in checked.verdicts.iter().enumerate() {
            let (mark, colour) = if v.ok { ("✔", RIGHT) } else { ("✘", ERROR) };
            let text = RichText::new(format!("{mark} {}", v.name)).color(colour);
            if ui
                .selectable_label(k == checked.chosen, text)
                .on_hover_text(v.diagnosis.map(|d| d.id()).unwrap_or("ok"))
                .clicked()
            {
                cx.command(UiCommand::Checked(CheckedMove::Choose(k)));
            }
        }
    });
    ui.separator();
    let k = checked.chosen;
    let v = &checked.verdicts[k];
    ui.label(RichText::new(v.message()).size(if compact { 15.0 } else { 17.0 }));
    let shape = v.expected_shape.clone();
    if v.found_shape != v.expected_shape {
        return;
    }
    // The slice: sample and channel pickers for 3-D and 4-D tensors, the
    // row for a dense layer's weight gradient drawn as a square.
    let names = [tr("sample"), tr("channel")];
    let mut at = checked.at.clone();
    let mut row = checked.row;
    ui.horizontal(|ui| {
        for (axis, at) in at.iter_mut().enumerate() {
            let label = ui.label(if shape.len() == 4 && axis < 2 {
                if matches!(checked.named[k], Named::Layer(_, Part::WeightGrad)) {
                    [tr("out channel"), tr("in channel")][axis]
                } else {
                    names[axis]
                }
            } else {
                tr("index")
            });
            ui.add(egui::DragValue::new(at).range(0..=shape[axis] - 1))
                .labelled_by(label.id);
        }
        if shape.len() == 2 && shape[1] > 32 {
            let label = ui.label(tr("row"));
            ui.add(egui::DragValue::new(&mut row).range(0..=shape[0] - 1))
                .labelled_by(label.id);
        }
    });
    if at != checked.at {
        cx.command(UiCommand::Checked(CheckedMove::At(at)));
    }
    if row != checked.row {
        cx.command(UiCommand::Checked(CheckedMove::Row(row)));
    }
    if checked.worst_wrong_cell().is_some() {
        let same_step = on_screen == Some(checked.batch);
        let button = ui
            .add_enabled(
                same_step,
                egui::Button::new(
                    RichText::new(tr("Explain the most wrong cell in the views")).strong(),
                ),
            )
            .on_disabled_hover_text(tr(
                "The views have moved on to another batch since this check",
            ));
        if button.clicked() {
            cx.command(UiCommand::Checked(CheckedMove::Explain));
        }
    }
}

/// The engine's tensor, the one handed in and their difference, at the
/// same scale; the most wrong cell (the largest error) outlined.
fn maps_ui(ui: &mut Ui, checked: &Checked, compact: bool) {
    let k = checked.chosen;
    let v = &checked.verdicts[k];
    let shape = &v.expected_shape;
    if v.found_shape != v.expected_shape {
        return;
    }
    let row = checked.row;
    let (right, rows, cols) = slice(&checked.right[k], &checked.at, row);
    let (mine, _, _) = slice(&checked.mine[k], &checked.at, row);
    let diff: Vec<f32> = mine.iter().zip(&right).map(|(m, r)| m - r).collect();
    // The most wrong cell, when it lies in this slice.
    let selected = v.worst_wrong.as_ref().and_then(|(index, _, _)| {
        let lead = checked.at.len();
        let here = index[..lead] == checked.at[..];
        match index.len() - lead {
            2 if here && (shape.len() != 2 || shape[1] <= 32) => {
                Some((index[lead], index[lead + 1]))
            }
            2 if here && index[0] == row => Some((index[1] / cols, index[1] % cols)),
            1 if here => Some((index[lead] / cols, index[lead] % cols)),
            _ => None,
        }
    });
    let [right_title, mine_title, diff_title] = if checked.bug {
        [
            tr("without the bug"),
            tr("with the bug"),
            tr("with − without"),
        ]
    } else {
        [tr("the engine's"), tr("yours"), tr("yours − the engine's")]
    };
    let engine = Operand::new("engine", right_title, &right, rows, cols, true)
        .selected(selected)
        .big();
    let scale = engine.scale;
    let format = engine.format;
    let yours = Operand::new("yours", mine_title, &mine, rows, cols, true)
        .same_scale(scale, format)
        .selected(selected)
        .big();
    // The difference on the engine's own scale: a correct answer's 5e-10
    // stays white, an exact match is a map of zeros like the others.
    let difference = Operand::new("difference", diff_title, &diff, rows, cols, true)
        .same_scale(scale, format)
        .outline(selected.map(|(r, c)| (r, c, 1, 1)), SELECTION)
        .big();
    let terms = vec![
        Term::map(engine),
        Term::Op(" ".into()),
        Term::map(yours),
        Term::Op(" ".into()),
        Term::map(difference),
    ];
    let room = Vec2::new(ui.available_width(), ui.available_height().max(120.0));
    let cells = fit_cell(&[&terms], room, 26.0, (3.0, 36.0), compact);
    row_ui(ui, terms, cells);
}
