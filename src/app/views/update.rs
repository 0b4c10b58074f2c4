//! The update, as the lesson teaches it: `F − η·dF = F_new` for every layer
//! with weights. Under plain SGD (the app's default) that is exactly the
//! step the optimizer took; under momentum or Adam the step taken is drawn
//! beside −η·dF and one line says why they differ.

use egui::{RichText, Ui, Vec2};

use crate::app::cx::Cx;
use crate::app::style::{compact, heading_ui, UPDATE};
use crate::app::widgets::equation::{fit_cell, row_ui, Cells, Operand, Term};
use crate::app::widgets::heatmap::{ColorScale, NumberFormat};
use crate::engine::optim::OptimizerKind;
use crate::engine::trace::Trace;
use crate::engine::Tensor;
use crate::i18n::tr;
use crate::teach::lesson::Mark;
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

pub fn update_ui(cx: &mut Cx, picked: &mut Option<usize>, ui: &mut Ui, t: &Trace, room: Vec2) {
    let kind = cx
        .state
        .snapshot
        .as_ref()
        .map_or(OptimizerKind::Sgd, |s| s.optimizer);
    let top = ui.cursor().top();
    let compact = compact(ui.ctx());
    heading_ui(
        ui,
        compact,
        tr("Update: each weight moves against its gradient, F ← F − η·dF"),
        UPDATE,
    );
    // A small window watching a run needs the room for the filters; the
    // note comes back with the steps' own rows.
    if !(compact && cx.state.run_start.is_some()) {
        crate::app::style::note_ui(ui, &optimizer_note(kind, t.lr), true);
    }
    since_run_ui(cx, ui, t, room - Vec2::new(0.0, ui.cursor().top() - top));
    let [o, c] = cx.state.channels;
    let eta = t.lr;
    let learning: Vec<usize> = (0..t.layers.len())
        .filter(|&i| t.layers[i].weight_after.is_some() && t.layers[i].weight_grad.is_some())
        .collect();
    // On a small window one layer at a time, picked by name, with the
    // whole height: its filters' cells carry their numbers.
    let shown = if compact {
        let chosen = picked
            .filter(|i| learning.contains(i))
            .or(learning.first().copied());
        ui.horizontal(|ui| {
            for &i in &learning {
                if ui
                    .selectable_label(chosen == Some(i), RichText::new(&t.names[i]).strong())
                    .clicked()
                {
                    *picked = Some(i);
                }
            }
        });
        chosen.into_iter().collect::<Vec<_>>()
    } else {
        learning
    };
    for i in shown {
        let layer = &t.layers[i];
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
        if !compact {
            ui.separator();
            ui.label(RichText::new(format!("{name}{pair} ({})", t.kinds[i].word())).strong());
        }
        // A revealed grows-or-shrinks question: its tap on F and F new.
        let revealed = crate::app::widgets::prediction::revealed_outlines(
            cx.state,
            t,
            i,
            o.min(w.shape()[0] - 1),
            if w.ndim() == 4 {
                c.min(w.shape()[1] - 1)
            } else {
                0
            },
        );
        let before =
            Operand::new("F", tr("F before"), &f, rows, cols, true).outlines(revealed.clone());
        let new = Operand::new("F new", tr("F new"), &f_new, rows, cols, true).outlines(revealed);
        let row = if kind == OptimizerKind::Sgd {
            vec![
                Term::map(before),
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
                Term::map(new),
            ]
        } else {
            vec![
                Term::map(before),
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
                Term::map(new),
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
        // The filter's taps over the run go below its step.
        let trail = (w.ndim() == 4)
            .then(|| over_run(cx.state, i, (o, c)))
            .flatten();
        let trail_height = trail.as_ref().map_or(0.0, |t| {
            crate::app::widgets::sparklines::grid_height(t.k, SPARK_ROW) + 8.0
        });
        // Each layer gets a fair share of the height, the view scrolls;
        // alone (a small window) it has what is left.
        let height = if compact {
            room.y - (ui.cursor().top() - top) - 8.0 - trail_height
        } else {
            (room.y * 0.45).max(160.0)
        };
        let cells = fit_cell(
            &[&row],
            Vec2::new(room.x - 8.0, height),
            0.0,
            (3.0, 32.0),
            compact,
        );
        // F and F new print alike, with the decimals that show the step
        // (0.041 − (−7.0×10⁻³) = 0.048, not 0 − (−7.0×10⁻³) = 0.048).
        let printed = same_digits(
            &f,
            &f_new,
            &taken,
            before_cell(&cells, rows, cols),
            ui.ctx(),
        );
        let row = printed_alike(row, ["F", "F new"], printed);
        let drawn = row_ui(ui, row, cells);
        if let Some(trail) = trail {
            trail.ui(ui, room.x);
        }
        // The lesson points at the first layer's step.
        if cx.marked(Mark::Update).is_none() {
            if let Some(rect) = drawn.rect("η·dF").or(drawn.rect("taken")) {
                cx.mark(Mark::Update, rect);
            }
        }
    }
}

/// `row` with the two operands `ids` printing their numbers so.
fn printed_alike<'a>(
    row: Vec<Term<'a>>,
    ids: [&str; 2],
    printed: Option<(NumberFormat, f32)>,
) -> Vec<Term<'a>> {
    row.into_iter()
        .map(|term| match term {
            Term::Map(m) if ids.contains(&m.id) => Term::map(m.printed(printed)),
            term => term,
        })
        .collect()
}

/// The cell F is drawn with.
fn before_cell(cells: &Cells, rows: usize, cols: usize) -> f32 {
    // Filters (and a bias) are small maps; the rest the layer's size.
    let small = (rows > 1 && cols > 1 && rows * cols <= 25) || rows * cols == 1;
    if small {
        cells.small
    } else {
        cells.map
    }
}

/// One format for F and F new: fixed decimals enough for the largest
/// step's first digit and for two digits of the largest weight if they fit
/// the cells, else the one both their values fit.
fn same_digits(
    f: &[f32],
    f_new: &[f32],
    step: &[f32],
    cell: f32,
    ctx: &egui::Context,
) -> Option<(NumberFormat, f32)> {
    let largest = |v: &[f32]| v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    let (weight, moved) = (largest(f).max(largest(f_new)), largest(step));
    if weight == 0.0 || moved == 0.0 || !weight.is_finite() || !moved.is_finite() {
        return None;
    }
    let decimals = |x: f32, digits: i32| (digits - 1 - x.log10().floor() as i32).max(0) as usize;
    let d = decimals(weight, 2).max(decimals(moved, 1)).min(6);
    let both: Vec<f32> = f.iter().chain(f_new).copied().collect();
    let min_font = crate::app::widgets::heatmap::min_font(ctx);
    // Cells too small for those decimals: still one format for both (the
    // mantissas of one power of ten, said in both titles).
    NumberFormat::fixed(&both, d, cell, min_font)
        .or_else(|| NumberFormat::for_values(&both).fit(&both, cell, min_font))
}

/// The height of a sparkline's row.
const SPARK_ROW: f32 = 34.0;

/// One filter `[o, c]` of a conv layer and its dF after each batch the
/// history kept, tap by tap.
struct OverRun {
    batches: Vec<u64>,
    weights: Vec<Vec<f32>>,
    grads: Vec<Vec<f32>>,
    k: usize,
    name: String,
}

fn over_run(
    state: &crate::app::state::AppState,
    layer: usize,
    (o, c): (usize, usize),
) -> Option<OverRun> {
    let points = &state.history.filters;
    let mut run = OverRun {
        batches: Vec::new(),
        weights: Vec::new(),
        grads: Vec::new(),
        k: 0,
        name: String::new(),
    };
    for p in points {
        let Some(s) = p.layers.iter().find(|s| s.layer == layer) else {
            continue;
        };
        let &[cout, cin, k, _] = s.weight.shape() else {
            continue;
        };
        if s.grad.shape() != s.weight.shape() || (run.k != 0 && run.k != k) {
            continue;
        }
        let (o, c) = (o.min(cout - 1), c.min(cin - 1));
        if run.k == 0 {
            run.k = k;
            run.weights = vec![Vec::new(); k * k];
            run.grads = vec![Vec::new(); k * k];
            run.name = if cout > 1 || cin > 1 {
                format!("[{o},{c}]")
            } else {
                String::new()
            };
        }
        run.batches.push(p.batch);
        for t in 0..k * k {
            run.weights[t].push(s.weight[[o, c, t / k, t % k]]);
            run.grads[t].push(s.grad[[o, c, t / k, t % k]]);
        }
    }
    (run.batches.len() >= 2).then_some(run)
}

impl OverRun {
    /// F's taps and dF's, side by side, over the batches kept.
    fn ui(self, ui: &mut Ui, width: f32) {
        use crate::app::widgets::sparklines::Sparklines;
        let cell = Vec2::new(
            ((width - 32.0) / (2 * self.k) as f32).clamp(40.0, 110.0),
            SPARK_ROW,
        );
        let last = self.batches.last().copied().unwrap_or(0);
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                Sparklines {
                    title: trf!(
                        "F{pair} after each batch, to batch {b}",
                        pair = self.name,
                        b = last
                    ),
                    batches: &self.batches,
                    series: &self.weights,
                    k: self.k,
                    colour: UPDATE,
                    shared: false,
                }
                .show(ui, cell);
            });
            ui.add_space(12.0);
            ui.vertical(|ui| {
                Sparklines {
                    title: trf!("dF{pair} of each batch", pair = self.name),
                    batches: &self.batches,
                    series: &self.grads,
                    k: self.k,
                    colour: crate::app::widgets::heatmap::LINKED,
                    shared: true,
                }
                .show(ui, cell);
            });
        });
    }
}

/// While training runs (and after a pause, until a step by hand): each conv
/// layer's filter as it was when Run was pressed, plus everything the steps
/// since have added, equals the filter now; and the feature map it makes.
/// The three filters share one colour scale, fixed by the filters
/// themselves: the change starts pale and deepens as the filter moves,
/// instead of being stretched to full colour at every frame.
fn since_run_ui(cx: &mut Cx, ui: &mut Ui, t: &Trace, room: Vec2) {
    let (Some(start), Some(s)) = (cx.state.run_start.as_ref(), cx.state.snapshot.as_ref()) else {
        return;
    };
    let [o, c] = cx.state.channels;
    let n = cx.state.sample.min(t.batch_size().saturating_sub(1));
    // What each conv layer shows: its name, F then, F now, its feature map.
    let mut layers = Vec::new();
    for (i, before) in &start.filters {
        let Some((now, _)) = s.network.layers.get(*i).and_then(|l| l.params()) else {
            continue;
        };
        if now.value.shape() != before.shape() {
            continue;
        }
        let (Some((f0, k, _)), Some((f1, ..))) = (as_map(before, o, c), as_map(&now.value, o, c))
        else {
            continue;
        };
        let pair = if before.shape()[0] > 1 || before.shape()[1] > 1 {
            format!(
                "[{},{}]",
                o.min(before.shape()[0] - 1),
                c.min(before.shape()[1] - 1)
            )
        } else {
            String::new()
        };
        let y = t
            .layers
            .get(*i)
            .and_then(|l| l.out.as_ref())
            .and_then(|y| match *y.shape() {
                [_, cout, h, w] => {
                    let plane: Vec<f32> = y
                        .index_axis(ndarray::Axis(0), n)
                        .index_axis(ndarray::Axis(0), o.min(cout - 1))
                        .iter()
                        .copied()
                        .collect();
                    Some((plane, h, w))
                }
                _ => None,
            });
        layers.push((*i, format!("{}{pair}", t.names[*i]), f0, f1, k, y));
    }
    if layers.is_empty() {
        return;
    }
    let compact = compact(ui.ctx());
    if !compact {
        ui.separator();
    }
    ui.label(
        RichText::new(tr("Since Run was pressed: how far the filters have moved"))
            .strong()
            .color(UPDATE),
    );
    // While it runs this is what there is to watch: most of the height.
    // (all of it on a small window, the steps' own rows below the fold).
    let part = if compact { 0.95 } else { 0.75 };
    let share = ((room.y - 60.0) * part / layers.len() as f32 - 24.0).max(100.0);
    for (i, name, f0, f1, k, y) in layers {
        let change: Vec<f32> = f1.iter().zip(&f0).map(|(a, b)| a - b).collect();
        let both: Vec<f32> = f0.iter().chain(&f1).copied().collect();
        let scale = ColorScale::diverging(&both);
        let format = NumberFormat::for_values(&both);
        let mut row = vec![
            Term::map(
                Operand::new("F run", tr("F then"), &f0, k, k, true)
                    .short(tr("F then"))
                    .same_scale(scale, format),
            ),
            Term::Op("+".into()),
            Term::map(
                Operand::new("change", tr("change"), &change, k, k, true)
                    .short(tr("change"))
                    // The filters' colours, its own digits: a small change
                    // reads pale yet its numbers stay legible.
                    .same_scale(scale, NumberFormat::for_values(&change)),
            ),
            Term::Op("=".into()),
            Term::map(
                Operand::new("F now", tr("F now"), &f1, k, k, true)
                    .short(tr("F now"))
                    .same_scale(scale, format),
            ),
        ];
        if let Some((plane, h, w)) = &y {
            row.push(Term::Op("   ".into()));
            row.push(Term::map(
                Operand::new(
                    "y now",
                    trf!(
                        "y: {layer}'s output for sample {n}, this batch",
                        layer = t.names[i],
                        n = n
                    ),
                    plane,
                    *h,
                    *w,
                    false,
                )
                .short(trf!("y, sample {n}", n = n)),
            ));
        }
        // The filters' columns are narrow: their titles are short, the
        // whole sum said once above them.
        ui.label(RichText::new(name).strong());
        ui.label(
            RichText::new(format!(
                "{} + {} = {}",
                trf!("F when Run began (batch {b})", b = start.batches),
                trf!(
                    "every step since: {steps} batches",
                    steps = s.batches.saturating_sub(start.batches)
                ),
                trf!("F now (batch {b})", b = s.batches)
            ))
            .size(13.0),
        );
        // The filters are what moves: they get the cells, fitted alone, and
        // the feature map is drawn as high as they are.
        let filters = fit_cell(
            &[&row[..5]],
            Vec2::new(room.x * 0.6, share),
            0.0,
            (3.0, 32.0),
            compact,
        );
        let map = y.as_ref().map_or(filters.map, |(_, h, _)| {
            (filters.small * k as f32 / *h as f32).max(2.0)
        });
        // F then and F now print alike, with the digits the change needs.
        let printed = same_digits(&f0, &f1, &change, filters.small, ui.ctx());
        let row = printed_alike(row, ["F run", "F now"], printed);
        row_ui(ui, row, Cells { map, ..filters });
    }
}
