//! *File → Check my backprop…*: a student's own backward tensors (`.npy`,
//! CSV, safetensors, chosen or dropped on the window) checked against the
//! step on screen by [`crate::check`], the same check as the command line's.
//! A window lists every tensor handed in, matched or with its mistake named
//! in words and the fix; the one chosen is drawn beside the engine's with
//! their difference, its first wrong cell outlined, and one click opens the
//! usual view and the explanation on that cell.

use egui::{Color32, RichText, Ui, Vec2};
use ndarray::ArrayD;

use crate::app::equation::{fit_cell, row_ui, Operand, Term};
use crate::app::heatmap::SELECTION;
use crate::app::{BackpropApp, Tab, UiCommand};
use crate::check::{check, traced, Named, Part, Verdict};
use crate::engine::trace::Trace;
use crate::explain::CellRef;
use crate::i18n::tr;
use crate::io::Handed;
use crate::trf;

const WRONG: Color32 = Color32::from_rgb(220, 60, 50);

/// One hand-in, checked.
pub struct Checked {
    pub verdicts: Vec<Verdict>,
    /// What was handed in and the trace's tensor, in the verdicts' order.
    pub mine: Vec<ArrayD<f64>>,
    pub right: Vec<ArrayD<f64>>,
    pub named: Vec<Named>,
    /// The step checked against (the app's batch count then).
    pub batch: u64,
    /// The tensor drawn, and the leading indices of its slice on screen.
    pub chosen: usize,
    pub at: Vec<usize>,
    /// The row of a wide matrix drawn (a dense layer's dW, one output's
    /// weights as the square image they read).
    pub row: usize,
    /// Folded to one line, so the views it opened have the room.
    pub folded: bool,
    /// A teacher's bug revealed (the app's own wrong backprop), not a
    /// student's hand-in: the maps are titled so.
    pub bug: bool,
}

impl Checked {
    /// Checks every tensor handed in against `trace`; a name the trace does
    /// not have is the error.
    pub fn new(trace: &Trace, mut handed: Vec<Handed>, batch: u64) -> Result<Checked, String> {
        // In the order backpropagation computes them, from the loss down: the
        // first wrong one is where a student's mistake starts.
        let order = |h: &Handed| match Named::parse(trace, &h.name) {
            Some(Named::LogitsDelta) => (0, 0),
            Some(Named::Layer(i, part)) => (
                trace.layers.len() - i,
                match part {
                    Part::WeightGrad => 0,
                    Part::BiasGrad => 1,
                    Part::Delta => 2,
                    _ => 3,
                },
            ),
            _ => (usize::MAX, 0),
        };
        handed.sort_by_key(order);
        let mut checked = Checked {
            verdicts: Vec::new(),
            mine: Vec::new(),
            right: Vec::new(),
            named: Vec::new(),
            batch,
            chosen: 0,
            at: Vec::new(),
            row: 0,
            folded: false,
            bug: false,
        };
        for h in handed {
            let verdict = check(trace, &h).map_err(|e| e.to_string())?;
            let named = Named::parse(trace, &h.name).expect("check found it");
            checked
                .right
                .push(traced(trace, named).expect("check found it"));
            checked.named.push(named);
            checked.mine.push(h.values);
            checked.verdicts.push(verdict);
        }
        if let Some(first) = checked.verdicts.iter().position(|v| !v.ok) {
            checked.choose(first);
        }
        Ok(checked)
    }

    /// Shows tensor `k`, at the slice of its first wrong cell.
    pub fn choose(&mut self, k: usize) {
        self.chosen = k;
        let v = &self.verdicts[k];
        let lead = leading_dims(&v.expected_shape);
        self.at = match &v.first_wrong {
            Some((index, _, _)) => index[..lead].to_vec(),
            None => vec![0; lead],
        };
        self.row = v.first_wrong.as_ref().map_or(0, |(index, _, _)| index[0]);
    }

    /// How many match.
    pub fn matched(&self) -> usize {
        self.verdicts.iter().filter(|v| v.ok).count()
    }

    /// The cell of the views that holds the chosen tensor's first wrong
    /// value (weight gradients and deltas; biases have no cell).
    pub fn first_wrong_cell(&self) -> Option<(CellRef, Option<usize>)> {
        let v = &self.verdicts[self.chosen];
        let (index, _, _) = v.first_wrong.as_ref()?;
        match self.named[self.chosen] {
            Named::Layer(layer, Part::WeightGrad) => Some((
                CellRef::WeightGrad {
                    layer,
                    index: index.clone(),
                },
                None,
            )),
            Named::Layer(layer, Part::Delta) => Some((
                CellRef::Delta {
                    layer,
                    index: index.clone(),
                },
                Some(index[0]),
            )),
            _ => None,
        }
    }
}

/// The axes picked one index at a time; the last two (or the one) are drawn.
fn leading_dims(shape: &[usize]) -> usize {
    shape.len().saturating_sub(2)
}

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

/// The step on screen and its batch count, when its backward pass is
/// complete (a check needs every delta); else the learner is told to step
/// through it first.
pub fn checkable_step(app: &mut BackpropApp) -> Option<(Trace, u64)> {
    let s = app.snapshot.as_ref()?;
    let complete =
        s.trace.logits_delta.is_some() && s.trace.layers.iter().all(|l| l.delta.is_some());
    if complete {
        return Some((s.trace.clone(), s.batches));
    }
    app.say(crate::app::MessageKind::Warning, || {
        tr("Your backprop is checked against the step on screen: step through its backward pass first (Step batch), then check.").to_string()
    });
    None
}

/// Reads the files handed in and checks them against the step on screen,
/// off the UI thread.
pub fn hand_in(app: &mut BackpropApp, inputs: Vec<crate::io::file::Input>) {
    if let Some((trace, batch)) = checkable_step(app) {
        app.files.check_inputs(inputs, trace, batch);
    }
}

/// The panel under the views while a check is open.
pub fn checked_ui(app: &mut BackpropApp, ui: &mut Ui) {
    let Some(mut checked) = app.checked.take() else {
        return;
    };
    let on_screen = app.snapshot.as_ref().map(|s| s.batches);
    let compact = super::toolbar::compact(ui.ctx());
    let mut open = true;
    ui.horizontal(|ui| {
        ui.heading(tr("Your backprop, checked"));
        ui.label(trf!(
            "{ok} of {n} match the engine's numbers for batch {batch}.",
            ok = checked.matched(),
            n = checked.verdicts.len(),
            batch = checked.batch
        ));
        if checked.folded {
            if let Some(v) = checked.verdicts.get(checked.chosen).filter(|v| !v.ok) {
                ui.label(RichText::new(format!("✘ {}", v.name)).color(WRONG));
            }
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.button(tr("Close")).clicked() {
                open = false;
            }
            let fold = if checked.folded {
                tr("Unfold")
            } else {
                tr("Fold")
            };
            if ui.button(fold).clicked() {
                checked.folded = !checked.folded;
            }
        });
    });
    if !checked.folded {
        body(app, ui, &mut checked, on_screen, compact);
    }
    if open {
        app.checked = Some(checked);
    }
}

fn body(
    app: &mut BackpropApp,
    ui: &mut Ui,
    checked: &mut Checked,
    on_screen: Option<u64>,
    compact: bool,
) {
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
                .show(ui, |ui| words_ui(app, ui, checked, on_screen, compact));
        });
        ui.separator();
        ui.vertical(|ui| maps_ui(ui, checked, compact));
    });
}

/// The list of tensors, the chosen one's verdict, the slice pickers and the
/// way into the views.
fn words_ui(
    app: &mut BackpropApp,
    ui: &mut Ui,
    checked: &mut Checked,
    on_screen: Option<u64>,
    compact: bool,
) {
    let mut pick = None;
    ui.horizontal_wrapped(|ui| {
        for (k, v) in checked.verdicts.iter().enumerate() {
            let (mark, colour) = if v.ok {
                ("✔", Color32::from_rgb(40, 160, 80))
            } else {
                ("✘", WRONG)
            };
            let text = RichText::new(format!("{mark} {}", v.name)).color(colour);
            if ui
                .selectable_label(k == checked.chosen, text)
                .on_hover_text(v.diagnosis.map(|d| d.id()).unwrap_or("ok"))
                .clicked()
            {
                pick = Some(k);
            }
        }
    });
    if let Some(k) = pick {
        checked.choose(k);
    }
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
    ui.horizontal(|ui| {
        for (axis, at) in checked.at.iter_mut().enumerate() {
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
            ui.add(egui::DragValue::new(&mut checked.row).range(0..=shape[0] - 1))
                .labelled_by(label.id);
        }
    });
    if let Some((cell, sample)) = checked.first_wrong_cell() {
        let same_step = on_screen == Some(checked.batch);
        let button = ui
            .add_enabled(
                same_step,
                egui::Button::new(
                    RichText::new(tr("Explain the first wrong cell in the views")).strong(),
                ),
            )
            .on_disabled_hover_text(tr(
                "The views have moved on to another batch since this check",
            ));
        if button.clicked() {
            show_in_views(app, checked, cell, sample);
            // The views need the room now; one click unfolds it again.
            checked.folded = true;
        }
    }
}

/// The engine's tensor, the one handed in and their difference, at the
/// same scale; the first wrong cell outlined.
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
    // The first wrong cell, when it lies in this slice.
    let selected = v.first_wrong.as_ref().and_then(|(index, _, _)| {
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
    let difference = Operand::new("difference", diff_title, &diff, rows, cols, true)
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

/// Opens the chosen tensor's layer in the Backprop tab with its first wrong
/// cell selected (the explanation panel shows how it is computed).
pub fn show_in_views(
    app: &mut BackpropApp,
    checked: &Checked,
    cell: CellRef,
    sample: Option<usize>,
) {
    let Named::Layer(layer, _) = checked.named[checked.chosen] else {
        return;
    };
    app.command(UiCommand::ShowTab(Tab::Backprop));
    app.command(UiCommand::ViewLayer(Some(layer)));
    if let Some(n) = sample {
        app.command(UiCommand::PickSample(n));
    }
    if let CellRef::WeightGrad { index, .. } = &cell {
        if index.len() == 4 {
            app.command(UiCommand::PickChannels([index[0], index[1]]));
        }
    }
    if let CellRef::Delta { index, .. } = &cell {
        if index.len() == 4 {
            app.command(UiCommand::PickChannels([app.channels[0], index[1]]));
        }
    }
    app.command(UiCommand::Select(Some(cell)));
}
