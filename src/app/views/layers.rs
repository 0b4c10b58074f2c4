//! The other layers' steps as equations of maps (conv has its own file):
//!
//! - an activation: `D ⊙ f′(x) = D_below`, the cells its mask blocks
//!   hatched (and a sentence when nothing is blocked);
//! - max pooling: each window's winner marked in the input and in the delta
//!   handed down, the window of a selected delta outlined in both;
//! - flatten: the vector read back into maps, row by row;
//! - dense: `δ · xᵀ = dW` and `δᵀ · W = D_belowᵀ`, vectors drawn as vectors;
//! - the loss: `(p − one_hot) / N = D` with the ten digits labelled.
//!
//! Masks and winners are the ones the engine recorded in the step.

use egui::{RichText, Ui, Vec2};

use crate::app::command::UiCommand;
use crate::app::cx::Cx;
use crate::app::state::AppState;
use crate::app::style::{compact, note_ui};
use crate::app::widgets::animation_bar::{self, playing, sums};
use crate::app::widgets::equation::{
    fit_cell, link_arrow, row_head, row_ui, table_cell, table_ui, Cells, Operand, Place,
    RowResponse, Term,
};
use crate::app::widgets::heatmap::{CellRect as CellRectAlias, LINKED, SELECTION};
use crate::app::widgets::prediction;
use crate::engine::layers::LayerKind;
use crate::engine::trace::Trace;
use crate::engine::Tensor;
use crate::i18n::tr;
use crate::teach::animation::{Kind, Target};
use crate::teach::explain::CellRef;
use crate::teach::lesson::Mark;
use crate::teach::notation::Numbering;
use crate::trf;

/// Sample `n`, channel `c` of a `[N, C, H, W]` tensor: `(values, H, W)`;
/// of a `[N, F]` tensor: the row `(values, 1, F)`.
pub(super) fn sample_plane(t: &Tensor, n: usize, c: usize) -> (Vec<f32>, usize, usize) {
    match *t.shape() {
        [_, cs, h, w] => {
            let plane = t
                .index_axis(ndarray::Axis(0), n)
                .index_axis(ndarray::Axis(0), c.min(cs - 1))
                .iter()
                .copied()
                .collect();
            (plane, h, w)
        }
        [_, f] => (
            t.index_axis(ndarray::Axis(0), n).iter().copied().collect(),
            1,
            f,
        ),
        _ => (Vec::new(), 0, 0),
    }
}

/// The channel count of a `[N, C, H, W]` tensor (1 for anything else).
pub(super) fn channels(t: &Tensor) -> usize {
    match *t.shape() {
        [_, c, _, _] => c,
        _ => 1,
    }
}

/// The cell a selection names in layer `i`'s input or output coordinates
/// (the two share them for activations): `(channel, row, column)`.
fn selected_cell(state: &AppState, i: usize, n: usize) -> Option<(usize, usize, usize)> {
    let index = match state.selection() {
        Some(CellRef::Delta { layer, index }) if *layer == i || *layer == i + 1 => index,
        Some(CellRef::Output { layer, index }) if *layer == i || *layer + 1 == i => index,
        Some(CellRef::Input { index }) if i == 0 => index,
        Some(CellRef::LossDelta { index }) if i + 1 == layer_count(state) => index,
        _ => return None,
    };
    match index[..] {
        [m, c, r, col] if m == n => Some((c, r, col)),
        [m, f] if m == n => Some((0, 0, f)),
        _ => None,
    }
}

fn layer_count(state: &AppState) -> usize {
    state.snapshot.as_ref().map_or(0, |s| s.trace.names.len())
}

/// The delta arriving at layer `i` and its cell refs: from the layer above
/// or, for the last layer, from the loss.
pub(super) fn arriving_ref(t: &Trace, i: usize, index: Vec<usize>) -> CellRef {
    if i + 1 == t.names.len() {
        CellRef::LossDelta { index }
    } else {
        CellRef::Delta {
            layer: i + 1,
            index,
        }
    }
}

pub(super) fn arriving_title(num: &Numbering, t: &Trace, i: usize) -> String {
    if i + 1 == t.names.len() {
        trf!("{d} from the loss", d = num.delta(i + 1))
    } else {
        trf!(
            "{d} from {above}",
            d = num.delta(i + 1),
            above = t.names[i + 1]
        )
    }
}

pub(super) fn leaving_title(num: &Numbering, t: &Trace, i: usize) -> String {
    if i == 0 {
        trf!("{d} for the input", d = num.delta(i))
    } else {
        trf!(
            "{d} handed to {layer}",
            d = num.delta(i),
            layer = t.names[i - 1]
        )
    }
}

/// The view's cell sizes for `rows` in what is left of `room`, the view
/// having started at height `start` (its text lines are drawn by then).
pub(super) fn cells(ui: &Ui, rows: &[&[Term]], room: Vec2, start: f32) -> Cells {
    let compact = compact(ui.ctx());
    let used = ui.cursor().top() - start;
    fit_cell(
        rows,
        room - Vec2::new(8.0, used),
        if compact { 10.0 } else { 26.0 },
        (3.0, 40.0),
        compact,
    )
}

/// Records a backward step's two deltas, the one arriving (`D`) and the
/// one handed down (`D_below`), for the lesson.
fn mark_deltas(cx: &mut Cx, drawn: &RowResponse) {
    mark(
        cx,
        drawn,
        &[(Mark::DeltaIn, "D"), (Mark::DeltaDown, "D_below")],
    );
}

/// Records the views the lesson points at.
pub(super) fn mark(cx: &mut Cx, drawn: &RowResponse, marks: &[(Mark, &str)]) {
    for (mark, id) in marks {
        if let Some(rect) = drawn.rect(id) {
            cx.mark(*mark, rect);
        }
    }
}

/// A backward step's two rows of maps (the delta handed down, then what
/// else the step reads; a projector shows the first alone; a wide window
/// both in one row when that draws them larger), fitted to
/// `room`, marked for the lesson, a click on a cell selecting
/// `clicked(id, row, column)`.
pub(super) fn backward_rows(
    cx: &mut Cx,
    ui: &mut Ui,
    [first, second]: [Vec<Term>; 2],
    (room, start): (Vec2, f32),
    clicked: impl Fn(&str, usize, usize) -> CellRef,
) {
    let (rows, fitted): (Vec<Vec<Term>>, Cells) = if compact(ui.ctx()) {
        let fitted = cells(ui, &[&first], room, start);
        (vec![first], fitted)
    } else {
        // Side by side when that draws the maps larger: a wide window's
        // height, not its width, limits two rows (bn2's maps at 1600x1000:
        // cells of 9 points in two rows, 11 in one).
        let split = first.len();
        let mut one = first;
        one.push(Term::Op("   ".into()));
        one.extend(second);
        let two = cells(ui, &[&one[..split], &one[split + 1..]], room, start);
        let side_by_side = cells(ui, &[&one], room, start);
        if side_by_side.map > two.map * 1.1 {
            (vec![one], side_by_side)
        } else {
            let second = one.split_off(split + 1);
            one.pop();
            (vec![one, second], two)
        }
    };
    for row in rows {
        let drawn = row_ui(ui, row, fitted);
        mark_deltas(cx, &drawn);
        if let Some((id, (r, col))) = drawn.clicked {
            cx.command(UiCommand::Select(Some(clicked(id, r, col))));
        }
    }
}

/// A channel picker when a layer's maps have several channels.
pub(super) fn channel_ui(cx: &mut Cx, ui: &mut Ui, count: usize) -> usize {
    let c = cx.state.channels[1].min(count.saturating_sub(1));
    if count > 1 {
        ui.horizontal(|ui| {
            let label = ui.label(tr("channel:"));
            let mut pick = c;
            ui.add(egui::DragValue::new(&mut pick).range(0..=count - 1))
                .labelled_by(label.id);
            if pick != c {
                cx.command(UiCommand::PickChannels([cx.state.channels[0], pick]));
            }
        });
    }
    c
}

/// How a layer's values are laid out in an element-wise step: a map as it
/// is, a vector `[F]` wrapped in rows of `⌈√F⌉` (the last row padded with
/// blank cells).
struct Wrap {
    rows: usize,
    cols: usize,
    /// The vector's length (0: a map, not wrapped).
    len: usize,
}

impl Wrap {
    fn of(h: usize, w: usize) -> Wrap {
        if h != 1 || w < 4 {
            return Wrap {
                rows: h,
                cols: w,
                len: 0,
            };
        }
        let cols = (w as f64).sqrt().ceil() as usize;
        Wrap {
            rows: w.div_ceil(cols),
            cols,
            len: w,
        }
    }

    /// The values padded to the grid (blank cells past the end).
    fn fill<T: Clone + Default>(&self, v: &[T]) -> Vec<T> {
        let mut v = v.to_vec();
        v.resize(self.rows * self.cols, T::default());
        v
    }

    /// Where entry `(r, col)` of the layer's own layout is drawn.
    fn cell(&self, r: usize, col: usize) -> (usize, usize) {
        if self.len == 0 {
            (r, col)
        } else {
            (col / self.cols, col % self.cols)
        }
    }

    /// The vector's entry drawn at `(r, col)` (a map's: `Some(0)`); `None`
    /// past the end.
    fn entry(&self, r: usize, col: usize) -> Option<usize> {
        if self.len == 0 {
            return Some(0);
        }
        let k = r * self.cols + col;
        (k < self.len).then_some(k)
    }

    /// The cells past the vector's end, drawn blank.
    fn padding(&self) -> Option<Vec<bool>> {
        (self.len > 0 && self.len < self.rows * self.cols)
            .then(|| (0..self.rows * self.cols).map(|k| k >= self.len).collect())
    }

    /// How to read the grid, for a vector.
    fn words(&self) -> Option<String> {
        (self.len > 0).then(|| {
            trf!(
                "The {len} entries in rows of {cols}: entry k is row k div {cols}, column k mod {cols}.",
                len = self.len,
                cols = self.cols
            )
        })
    }
}

/// An activation's backward step: `D ⊙ f′(x) = D_below`.
pub fn activation_backward_ui(cx: &mut Cx, ui: &mut Ui, t: &Trace, i: usize, room: Vec2) {
    let num = cx.state.numbering(&t.kinds);
    let start = ui.cursor().top();
    let n = cx.state.sample.min(t.batch_size().saturating_sub(1));
    let (Some(x), Some(d), Some(f1), Some(below)) = (
        t.layer_input(i),
        t.delta_from_above(i),
        t.layers[i].derivative.as_ref(),
        t.layers[i].delta.as_ref(),
    ) else {
        return;
    };
    let c = channel_ui(cx, ui, channels(x));
    let (xv, h, w) = sample_plane(x, n, c);
    let (dv, ..) = sample_plane(d, n, c);
    let (fv, ..) = sample_plane(f1, n, c);
    let (bv, ..) = sample_plane(below, n, c);
    let relu = matches!(t.kinds[i], LayerKind::Relu);
    let blocked: Vec<bool> = fv.iter().map(|&v| v == 0.0).collect();
    let count = blocked.iter().filter(|&&b| b).count();
    // A vector (after a dense layer) is an element-wise step like any
    // other: drawn in rows, as a map, its cells get the room for their
    // numbers instead of four thin strips.
    let wrap = Wrap::of(h, w);
    let (xv, dv, fv, bv) = (
        wrap.fill(&xv),
        wrap.fill(&dv),
        wrap.fill(&fv),
        wrap.fill(&bv),
    );
    let blocked = wrap.fill(&blocked);
    let (h, w) = (wrap.rows, wrap.cols);
    let sel = selected_cell(cx.state, i, n)
        .filter(|s| s.0 == c)
        .map(|s| wrap.cell(s.1, s.2));
    let derivative_title = if relu {
        tr("ReLU′(x): 1 where x > 0, else 0 (hatched)").to_string()
    } else {
        "f′(x)".to_string()
    };
    // A revealed ReLU question: the blocked cells, and wrong picks.
    let revealed = prediction::revealed_outlines(cx.state, t, i, n, c);
    let votes = prediction::revealed_votes(cx.state, i, c);
    let pad = wrap.padding();
    let mut row = Vec::new();
    // On a small window the mask stands for x (its title says how it was
    // made from x): four maps of a layer's size side by side would leave
    // cells too small for their numbers.
    if !compact(ui.ctx()) {
        row.push(Term::map(
            Operand::new(
                "x",
                trf!("x: {layer}'s input", layer = t.names[i]),
                &xv,
                h,
                w,
                true,
            )
            .short("x")
            .pending(pad.clone())
            .selected(sel),
        ));
        row.push(Term::Op("→".into()));
    }
    row.extend([
        Term::map(
            Operand::new("f'", derivative_title, &fv, h, w, false)
                .short(if relu { "ReLU′(x)" } else { "f′(x)" })
                .blocked(relu.then_some(&blocked[..]))
                .outlines(revealed.clone())
                .votes(votes)
                .pending(pad.clone())
                .selected(sel),
        ),
        Term::Op("   ".into()),
        Term::map(
            Operand::new("D", arriving_title(&num, t, i), &dv, h, w, true)
                .short(num.delta(i + 1))
                .blocked(relu.then_some(&blocked[..]))
                .pending(pad.clone())
                .selected(sel),
        ),
        Term::Op("⊙ f′ =".into()),
        Term::map(
            Operand::new("D_below", leaving_title(&num, t, i), &bv, h, w, true)
                .short(num.delta(i))
                .outlines(revealed)
                .pending(pad)
                .selected(sel),
        ),
    ]);
    if relu {
        let text = if count == 0 {
            tr("Every value is positive here, so ReLU passes the whole delta: nothing is blocked.")
                .to_string()
        } else {
            trf!(
                "{count} of {total} cells had x ≤ 0: ReLU blocks their delta (hatched), the rest passes unchanged.",
                count = count,
                total = if wrap.len > 0 { wrap.len } else { h * w }
            )
        };
        note_ui(ui, &text, true);
    }
    if let Some(words) = wrap.words() {
        ui.label(RichText::new(words).weak());
    }
    let cells = cells(ui, &[&row], room, start);
    let drawn = row_ui(ui, row, cells);
    mark_deltas(cx, &drawn);
    if let Some((id, (r, col))) = drawn.clicked {
        let index = match wrap.entry(r, col) {
            Some(_) if wrap.len == 0 => vec![n, c, r, col],
            Some(k) => vec![n, k],
            // A cell past the vector's end: nothing there.
            None => return,
        };
        let cell = match id {
            "D" => arriving_ref(t, i, index),
            "D_below" | "f'" => CellRef::Delta { layer: i, index },
            _ => super::conv::input_ref(i, index),
        };
        cx.command(UiCommand::Select(Some(cell)));
    }
}

/// Max (or average) pooling's backward step: each delta to its window's
/// winner (or spread over the window).
pub fn pool_backward_ui(cx: &mut Cx, ui: &mut Ui, t: &Trace, i: usize, room: Vec2) {
    let num = cx.state.numbering(&t.kinds);
    let start = ui.cursor().top();
    let n = cx.state.sample.min(t.batch_size().saturating_sub(1));
    let (Some(x), Some(d), Some(below)) = (
        t.layer_input(i),
        t.delta_from_above(i),
        t.layers[i].delta.as_ref(),
    ) else {
        return;
    };
    let Some(g) = crate::engine::layers::pool::PoolGeometry::of(&t.kinds[i], x.shape()) else {
        return;
    };
    let (size, stride) = (g.size, g.stride);
    // Side by side, a grid draws the windows; overlapping, it would cut
    // through them: the selected window's outline shows one instead.
    let grid = if g.overlapping() { 0 } else { size };
    let c = channel_ui(cx, ui, channels(x));
    let max = matches!(t.kinds[i], LayerKind::Maxpool { .. });
    let target = Target {
        layer: i,
        sample: n,
        out: c,
        input: c,
    };
    let name = if max {
        tr("each delta to its winner")
    } else {
        tr("each delta over its window")
    };
    let frame = playing(cx.state, Kind::Route, target);
    let (xv, h, w) = sample_plane(x, n, c);
    let (dv, ho, wo) = sample_plane(d, n, c);
    // Animated, the map below fills window by window.
    let (bv, pending) = match &frame {
        Some(f) => sums(f),
        None => (sample_plane(below, n, c).0, None),
    };
    // Winners of this sample and channel, as (row, column) in the input.
    let dots: Vec<(usize, usize)> = t.layers[i]
        .winners
        .as_ref()
        .map(|all| {
            let start = (n * channels(x) + c) * ho * wo;
            all[start..start + ho * wo]
                .iter()
                .map(|&at| (at as usize / w, at as usize % w))
                .collect()
        })
        .unwrap_or_default();
    // The window a selection points into, in output coordinates.
    let window = match cx.state.selection() {
        Some(CellRef::Delta { layer, index }) if *layer == i + 1 && index[..2] == [n, c] => {
            Some((index[2], index[3]))
        }
        Some(CellRef::Delta { layer, index }) if *layer == i && index[..2] == [n, c] => {
            g.windows_of((index[2], index[3])).first().copied()
        }
        Some(CellRef::Output { layer, index }) if *layer == i && index[..2] == [n, c] => {
            Some((index[2], index[3]))
        }
        _ => None,
    };
    let window = frame.as_ref().map(|f| f.cell).or(window);
    let outline = window.map(|cell| {
        let (top, left) = g.cell(cell, (0, 0));
        (top, left, size, size)
    });
    let winner = window.and_then(|(r, col)| dots.get(r * wo + col).copied());
    // A revealed pooling question: the winner it asked for, and a wrong pick.
    let revealed = prediction::revealed_outlines(cx.state, t, i, n, c);
    let votes = prediction::revealed_votes(cx.state, i, c);
    let row = vec![
        Term::map(
            Operand::new(
                "x",
                if max {
                    trf!(
                        "x: {layer}'s input, each window's winner ●",
                        layer = t.names[i]
                    )
                } else {
                    trf!("x: {layer}'s input", layer = t.names[i])
                },
                &xv,
                h,
                w,
                false,
            )
            .short("x")
            .windows(grid)
            .dots(dots.clone())
            .outline(outline, LINKED)
            .outlines(revealed.clone())
            .votes(votes)
            .selected(winner),
        ),
        Term::Op("   ".into()),
        Term::map(
            Operand::new("D", arriving_title(&num, t, i), &dv, ho, wo, true)
                .short(num.delta(i + 1))
                .big()
                .zoom(stride)
                .selected(window),
        ),
        Term::Op(if max {
            tr("→ winners →").into()
        } else {
            tr("→ ÷ window →").into()
        }),
        Term::map(
            Operand::new("D_below", leaving_title(&num, t, i), &bv, h, w, true)
                .short(num.delta(i))
                .windows(grid)
                .dots(if max { dots.clone() } else { Vec::new() })
                .outline(outline, LINKED)
                .outlines(revealed)
                .pending(pending)
                .selected(winner),
        ),
    ];
    let text = if max {
        trf!(
            "Each {size}x{size} window's delta goes to the cell that won its maximum (●); the other cells of the window get 0.",
            size = size
        )
    } else {
        trf!(
            "Each delta is spread evenly over its {size}x{size} window: D / {cells} in every cell.",
            size = size,
            cells = size * size
        )
    };
    let overlap = g.overlapping().then(|| {
        trf!(
            "The windows overlap (stride {stride}, {size} cells wide): a cell in several windows gets the sum of what each sends it.",
            stride = stride,
            size = size
        )
    });
    // Ties are common (a window of zeros after ReLU) and a student will
    // wonder which cell gets the delta then: the engine's rule, said once.
    let ties = if max {
        dots.iter()
            .enumerate()
            .filter(|&(k, &(r, col))| {
                let best = xv[r * w + col];
                let (top, left) = g.cell((k / wo, k % wo), (0, 0));
                (top..top + size)
                    .flat_map(|u| (left..left + size).map(move |v| (u, v)))
                    .filter(|&(u, v)| (u, v) != (r, col) && xv[u * w + v] == best)
                    .count()
                    > 0
            })
            .count()
    } else {
        0
    };
    let ties = (ties > 0).then(|| {
        trf!(
            "In {count} of the {all} windows several cells share the maximum (often all 0 after ReLU): the first of them, reading row by row, wins, as in PyTorch.",
            count = ties,
            all = dots.len()
        )
    });
    // On a small window the rule shares the animation's row (whole on
    // hover), so the maps keep the height.
    if compact(ui.ctx()) {
        let whole = match &ties {
            Some(ties) => format!("{text} {ties}"),
            None => text.clone(),
        };
        animation_bar::controls_ui(cx, ui, t, target, &[(Kind::Route, name)], Some(&whole));
        // What overlapping changes gets a line of its own, never elided
        // into the rule's.
        if let Some(overlap) = &overlap {
            crate::app::style::note_ui(ui, overlap, true);
        }
    } else {
        animation_bar::controls_ui(cx, ui, t, target, &[(Kind::Route, name)], None);
        ui.label(RichText::new(&text).strong());
        if let Some(overlap) = &overlap {
            ui.label(RichText::new(overlap).strong());
        }
        if let Some(ties) = ties {
            ui.label(ties);
        }
    }
    let cells = cells(ui, &[&row], room, start);
    let drawn = row_ui(ui, row, cells);
    // The selected (or animated) delta's way down: to its winner, or to the
    // middle of the window it is spread over.
    if let Some((r, col)) = window {
        let to = match winner {
            Some(cell) if max => drawn.cell_centre("D_below", (h, w), cell),
            _ => drawn.rect("D_below").map(|rect| {
                let cell = Vec2::new(rect.width() / w as f32, rect.height() / h as f32);
                let (top, left) = g.cell((r, col), (0, 0));
                rect.min + Vec2::new(left as f32, top as f32) * cell + cell * size as f32 / 2.0
            }),
        };
        if let (Some(from), Some(to)) = (drawn.cell_centre("D", (ho, wo), (r, col)), to) {
            link_arrow(ui, from, to);
        }
    }
    mark_deltas(cx, &drawn);
    if let Some((id, (r, col))) = drawn.clicked {
        let cell = match id {
            "D" => arriving_ref(t, i, vec![n, c, r, col]),
            "D_below" => CellRef::Delta {
                layer: i,
                index: vec![n, c, r, col],
            },
            _ => super::conv::input_ref(i, vec![n, c, r, col]),
        };
        cx.command(UiCommand::Select(Some(cell)));
    }
}

/// Flatten's backward step: the vector read back into maps.
pub fn flatten_backward_ui(cx: &mut Cx, ui: &mut Ui, t: &Trace, i: usize, room: Vec2) {
    let num = cx.state.numbering(&t.kinds);
    let start = ui.cursor().top();
    let n = cx.state.sample.min(t.batch_size().saturating_sub(1));
    let (Some(d), Some(below)) = (t.delta_from_above(i), t.layers[i].delta.as_ref()) else {
        return;
    };
    let c = channel_ui(cx, ui, channels(below));
    let target = Target {
        layer: i,
        sample: n,
        out: c,
        input: c,
    };
    let name = tr("each entry to its cell");
    let note = tr("Flatten only rearranges: the delta vector is cut into rows and stacked back into the maps the pooling layer made.");
    // On a small window the sentence shares the animation's row.
    let compact = compact(ui.ctx());
    animation_bar::controls_ui(
        cx,
        ui,
        t,
        target,
        &[(Kind::Unflatten, name)],
        compact.then_some(note),
    );
    let frame = playing(cx.state, Kind::Unflatten, target);
    let (bv, h, w) = sample_plane(below, n, c);
    // Animated, the map fills entry by entry.
    let (bv, pending) = match &frame {
        Some(f) => sums(f),
        None => (bv, None),
    };
    // This channel's stretch of the vector: (channel, row, column) order.
    let (all, _, f) = sample_plane(d, n, 0);
    let first = (c * h * w).min(f);
    let dv = all[first..(first + h * w).min(f)].to_vec();
    let sel = match cx.state.selection() {
        Some(CellRef::Delta { layer, index }) if *layer == i + 1 && index[0] == n => {
            let k = index[1];
            (k >= first && k < first + h * w).then(|| ((k - first) / w, (k - first) % w))
        }
        Some(CellRef::Delta { layer, index }) if *layer == i && index[..2] == [n, c] => {
            Some((index[2], index[3]))
        }
        _ => None,
    };
    let sel = frame.as_ref().map(|f| f.cell).or(sel);
    let vector = vec![Term::map(
        Operand::new(
            "D",
            trf!(
                "{d}: the vector from {above} (entries {from}…{to})",
                d = num.delta(i + 1),
                above = t.names.get(i + 1).cloned().unwrap_or_default(),
                from = first,
                to = first + dv.len() - 1
            ),
            &dv,
            1,
            dv.len(),
            true,
        )
        .short(num.delta(i + 1))
        .windows(w)
        .selected(sel.map(|(r, col)| (0, r * w + col))),
    )];
    // On a small window the map below, the same numbers, has the colour bar.
    let vector = if compact {
        vector
            .into_iter()
            .map(|t| match t {
                Term::Map(m) => Term::map(m.without_legend()),
                op => op,
            })
            .collect()
    } else {
        vector
    };
    // The map on a row of its own, as large as the room below the vector
    // allows: the vector is cut into rows that stack up into it.
    let grid = vec![
        Term::Op(tr("→ row by row →").into()),
        Term::map(
            Operand::new("D_below", leaving_title(&num, t, i), &bv, h, w, true)
                .short(num.delta(i))
                .big()
                .pending(pending)
                .selected(sel),
        ),
    ];
    if !compact {
        ui.label(RichText::new(note).strong());
    }
    let mut vector_cells = cells(ui, &[&vector], room, start);
    if compact {
        // The vector's entries are read in the map below: its row gives
        // the map the height.
        vector_cells.map = vector_cells.map.min(12.0);
    }
    let top = row_ui(ui, vector, vector_cells);
    let grid_cells = cells(ui, &[&grid], room, start);
    let bottom = row_ui(ui, grid, grid_cells);
    // The selected (or animated) entry's way into its cell.
    if let Some((r, col)) = sel {
        let from = top.cell_centre("D", (1, dv.len()), (0, r * w + col));
        if let (Some(from), Some(to)) = (from, bottom.cell_centre("D_below", (h, w), (r, col))) {
            link_arrow(ui, from, to);
        }
    }
    mark(cx, &top, &[(Mark::DeltaIn, "D")]);
    mark(cx, &bottom, &[(Mark::DeltaDown, "D_below")]);
    if let Some((id, (r, col))) = top.clicked.or(bottom.clicked) {
        let cell = match id {
            "D" => arriving_ref(t, i, vec![n, first + col]),
            _ => CellRef::Delta {
                layer: i,
                index: vec![n, c, r, col],
            },
        };
        cx.command(UiCommand::Select(Some(cell)));
    }
}

/// A dense layer's backward step: `δ · xᵀ = dW` and `δᵀ · W = D_belowᵀ`.
pub fn dense_backward_ui(
    cx: &mut Cx,
    rows: &mut super::conv::AnswerRows,
    ui: &mut Ui,
    t: &Trace,
    i: usize,
    room: Vec2,
) {
    let num = cx.state.numbering(&t.kinds);
    let start = ui.cursor().top();
    let n = cx.state.sample.min(t.batch_size().saturating_sub(1));
    let (Some(x), Some(d), Some(w), Some(dw)) = (
        t.layer_input(i),
        t.delta_from_above(i),
        t.layers[i].weight.as_ref(),
        t.layers[i].weight_grad.as_ref(),
    ) else {
        return;
    };
    let &[out, inp] = w.shape() else { return };
    let (xv, ..) = sample_plane(x, n, 0);
    let (dv, ..) = sample_plane(d, n, 0);
    let wv: Vec<f32> = w.iter().copied().collect();
    let dwv: Vec<f32> = dw.iter().copied().collect();
    // Sample n's share of dW: δ_n · x_nᵀ, one product per entry (exactly
    // the engine's per-sample backward: no sum is involved).
    let share = (dv.len() == out && xv.len() == inp).then(|| {
        dv.iter()
            .flat_map(|&d| xv.iter().map(move |&x| d * x))
            .collect::<Vec<f32>>()
    });
    let below = t.layers[i].delta.as_ref().map(|b| sample_plane(b, n, 0).0);
    let (sel_o, sel_k) = match cx.state.selection() {
        Some(CellRef::WeightGrad { layer, index }) if *layer == i => {
            (Some(index[0]), Some(index[1]))
        }
        Some(CellRef::Delta { layer, index }) if *layer == i && index[0] == n => {
            (None, Some(index[1]))
        }
        _ => (None, None),
    };
    let batch = Operand::new(
        "dW batch",
        tr("dW of the whole batch"),
        &dwv,
        out,
        inp,
        true,
    )
    .short(tr("dW, batch"));
    let (scale, format) = (batch.scale, batch.format);
    let compact = compact(ui.ctx());
    let delta = |sel: Option<usize>| {
        Operand::new(
            "δ",
            format!("δ = {}", arriving_title(&num, t, i)),
            &dv,
            out,
            1,
            true,
        )
        .short("δ")
        .big()
        .selected(sel.map(|o| (o, 0)))
    };
    let x_row = Operand::new(
        "x",
        trf!("xᵀ: {layer}'s input", layer = t.names[i]),
        &xv,
        1,
        inp,
        false,
    )
    .short("xᵀ")
    .big()
    .selected(sel_k.map(|k| (0, k)));
    let share_map = share.as_deref().map(|share| {
        Operand::new(
            "dW",
            trf!("dW: sample {n}'s share", n = n),
            share,
            out,
            inp,
            true,
        )
        .short(trf!("dW, sample {n}", n = n))
        .same_scale(scale, format)
        .selected(sel_o.zip(sel_k))
    });
    // The batch's sum on a row of its own, at the table's cells.
    let row_batch = vec![
        Term::Op(tr("Σ batch →").into()),
        Term::map(batch.selected(sel_o.zip(sel_k))),
    ];
    let below_values = below.unwrap_or_default();
    let below_map = Operand::new(
        "D_below",
        format!("{}ᵀ", leaving_title(&num, t, i)),
        &below_values,
        1,
        inp,
        true,
    )
    .short(format!("{}ᵀ", num.delta(i)))
    .big()
    .selected(sel_k.map(|k| (0, k)));
    let w_map = weights(t, i, &wv, out, inp)
        .big()
        .outline(sel_k.map(|k| (0, k, out, 1)), LINKED);
    let first = tr("① The weights' gradient: the delta times the input, dW = δ · xᵀ");
    let second = tr(
        "② The delta handed down: the delta times the weights, D_below = Wᵀ · δ (drawn as δᵀ · W)",
    );
    // Both products drawn as the tables they are, one cell size for the
    // tables, as wide as the matrix's columns allow and as high as the
    // tables shown do; the batch's sum takes what height is left, at most
    // the tables' cells (its numbers are the tables' in the hover).
    let cells_for = |ui: &Ui, tables: usize| {
        // The tables first (the captions and their heads), the batch's sum
        // in what height is left, at most the tables' cells.
        let used = ui.cursor().top() - start + 24.0 * tables as f32;
        let left = room.y - used - (2 * tables) as f32 * row_head(compact);
        let cell = table_cell(inp, "×", room.x - 8.0, compact)
            .min(left / (tables * (out + 1)) as f32)
            .clamp(2.0, 40.0);
        let rest = left - (tables * (out + 1)) as f32 * cell - row_head(compact);
        (cell, (rest / out as f32).min(cell))
    };
    let table1 = |ui: &mut Ui, cell: f32| match share_map {
        Some(share) => table_ui(
            ui,
            (delta(sel_o), "×", share),
            (x_row, Place::Above, ""),
            cell,
            compact,
        ),
        None => RowResponse::default(),
    };
    let table2 = |ui: &mut Ui, cell: f32| {
        table_ui(
            ui,
            (delta(None), "×", w_map),
            (below_map, Place::Below, "Σ ↓"),
            cell,
            compact,
        )
    };
    let batch_cells = |cell: f32| Cells {
        map: cell,
        small: cell,
        compact,
    };
    // Both on one screen when their cells can show the tables' pattern,
    // else (a small window, a tall matrix) two screens.
    let split = compact || cells_for(ui, 2).0 < 10.0;
    let (drawn1, drawn_batch, drawn2) = if split {
        // The two equations are two screens.
        let chosen = rows.shown(cx.state, i, None);
        ui.horizontal(|ui| {
            rows.toggles_ui(
                ui,
                chosen,
                ["① dW".to_string(), format!("② {}", num.delta(i))],
            );
            let caption = if chosen == super::conv::AnswerRow::Gradient {
                first
            } else {
                second
            };
            ui.add(egui::Label::new(RichText::new(caption).strong()).truncate());
        });
        let (cell, batch_cell) = cells_for(ui, 1);
        // A tall matrix (more rows than a map has) puts the batch's sum
        // beside the table, its grid level with the sample's, at the
        // cells both fit across.
        let tall = out > 14;
        if chosen == super::conv::AnswerRow::Gradient && tall {
            let used = ui.cursor().top() - start;
            let cell = table_cell(2 * inp, "×", room.x - 8.0 - BESIDE, compact)
                .min((room.y - used - 2.0 * row_head(compact)) / (out + 1) as f32)
                .clamp(2.0, 40.0);
            let (drawn1, drawn_batch) = ui
                .horizontal_top(|ui| {
                    let drawn1 = ui.vertical(|ui| table1(ui, cell)).inner;
                    let drawn_batch = ui
                        .vertical(|ui| {
                            ui.add_space(row_head(compact) + cell);
                            row_ui(ui, row_batch, batch_cells(cell))
                        })
                        .inner;
                    (drawn1, drawn_batch)
                })
                .inner;
            (drawn1, drawn_batch, Default::default())
        } else if chosen == super::conv::AnswerRow::Gradient {
            let drawn1 = table1(ui, cell);
            (
                drawn1,
                row_ui(ui, row_batch, batch_cells(batch_cell.max(2.0))),
                Default::default(),
            )
        } else {
            (Default::default(), Default::default(), table2(ui, cell))
        }
    } else {
        ui.label(RichText::new(first).strong());
        let (cell, batch_cell) = cells_for(ui, 2);
        let drawn1 = table1(ui, cell);
        let drawn_batch = row_ui(ui, row_batch, batch_cells(batch_cell.max(2.0)));
        ui.label(RichText::new(second).strong());
        (drawn1, drawn_batch, table2(ui, cell))
    };
    mark(cx, &drawn1, &[(Mark::DeltaIn, "δ")]);
    mark(cx, &drawn_batch, &[(Mark::Gradient, "dW batch")]);
    mark(cx, &drawn2, &[(Mark::DeltaDown, "D_below")]);
    let clicked = drawn1.clicked.or(drawn_batch.clicked).or(drawn2.clicked);
    if let Some((id, (r, col))) = clicked {
        let cell = match id {
            "δ" => arriving_ref(t, i, vec![n, r]),
            "dW" | "dW batch" | "W" => CellRef::WeightGrad {
                layer: i,
                index: vec![r, col],
            },
            "D_below" => CellRef::Delta {
                layer: i,
                index: vec![n, col],
            },
            _ => super::conv::input_ref(i, vec![n, col]),
        };
        cx.command(UiCommand::Select(Some(cell)));
    }
}

/// The width the batch's sum takes beside a table besides its cells: the
/// `Σ batch →` and the gaps.
const BESIDE: f32 = 160.0;

/// The digits 0–9, to label a 10-long vector.
fn digits() -> Vec<String> {
    (0..10).map(|d| d.to_string()).collect()
}

/// The loss: logits, probabilities and `D = (p − one_hot) / N`, labelled
/// with the digits.
pub fn loss_ui(cx: &mut Cx, ui: &mut Ui, t: &Trace, room: Vec2) {
    let num = cx.state.numbering(&t.kinds);
    let start = ui.cursor().top();
    let n = cx.state.sample.min(t.batch_size().saturating_sub(1));
    let last = t.names.len() - 1;
    let (Some(logits), Some(p), Some(d)) = (
        t.layers[last].out.as_ref(),
        t.probs.as_ref(),
        t.logits_delta.as_ref(),
    ) else {
        return;
    };
    let label = t.labels.get(n).copied().unwrap_or(0) as usize;
    let (lv, ..) = sample_plane(logits, n, 0);
    let (pv, _, k) = sample_plane(p, n, 0);
    let (dv, ..) = sample_plane(d, n, 0);
    let one_hot: Vec<f32> = (0..k).map(|j| if j == label { 1.0 } else { 0.0 }).collect();
    let sel = match cx.state.selection() {
        Some(CellRef::LossDelta { index }) if index[0] == n => Some((0, index[1])),
        Some(CellRef::Output { layer, index }) if *layer == last && index[0] == n => {
            Some((0, index[1]))
        }
        _ => None,
    };
    let mark_label = Some((0, label, 1, 1));
    fn column<'a>(
        o: Operand<'a>,
        ring: Option<CellRectAlias>,
        sel: Option<(usize, usize)>,
    ) -> Term<'a> {
        Term::map(o.labels(digits()).outline(ring, SELECTION).selected(sel))
    }
    let column = |o| column(o, mark_label, sel);
    let row1 = vec![
        column(
            Operand::new(
                "logits",
                trf!("logits: {layer}'s output", layer = t.names[last]),
                &lv,
                1,
                k,
                true,
            )
            .short(tr("logits")),
        ),
        Term::Op("softmax →".into()),
        column(Operand::new("p", tr("p: probabilities"), &pv, 1, k, false).short("p")),
    ];
    let n_batch = t.batch_size();
    let row2 = vec![
        Term::Op("(".into()),
        column(Operand::new("p2", "p", &pv, 1, k, false)),
        Term::Op("−".into()),
        column(
            Operand::new(
                "y",
                trf!("one_hot(label {label})", label = label),
                &one_hot,
                1,
                k,
                false,
            )
            .short(tr("one-hot")),
        ),
        Term::Op(format!(") / {n_batch} =")),
        column(
            Operand::new(
                "D",
                trf!(
                    "{d}: the delta backpropagation starts from",
                    d = num.delta(last + 1)
                ),
                &dv,
                1,
                k,
                true,
            )
            .short(num.delta(last + 1)),
        ),
    ];
    ui.label(RichText::new(trf!(
        "Sample {n}, label {label} (ringed): loss −log p({label}) = {loss}; the batch's loss is the mean over its {count} samples.",
        n = n,
        label = label,
        loss = format!("{:.4}", -pv.get(label).copied().unwrap_or(1.0).max(1e-30).ln()),
        count = n_batch
    )).strong());
    let cells = cells(ui, &[&row1, &row2], room, start);
    let drawn1 = row_ui(ui, row1, cells);
    let drawn2 = row_ui(ui, row2, cells);
    let _ = &drawn1;
    mark(cx, &drawn2, &[(Mark::Loss, "D")]);
    if let Some((id, (_, col))) = drawn1.clicked.or(drawn2.clicked) {
        let cell = match id {
            "logits" => CellRef::Output {
                layer: last,
                index: vec![n, col],
            },
            _ => CellRef::LossDelta {
                index: vec![n, col],
            },
        };
        cx.command(UiCommand::Select(Some(cell)));
    }
}

/// A layer's forward step for the kinds without their own equation:
/// input → output, with the formula above.
pub fn forward_ui(cx: &mut Cx, ui: &mut Ui, t: &Trace, i: usize, room: Vec2) {
    let start = ui.cursor().top();
    let n = cx.state.sample.min(t.batch_size().saturating_sub(1));
    let (Some(x), Some(y)) = (t.layer_input(i), t.layers[i].out.as_ref()) else {
        return;
    };
    if matches!(t.kinds[i], LayerKind::Dense { .. }) {
        dense_forward_ui(cx, ui, t, i, n, room, start);
        return;
    }
    let c = channel_ui(cx, ui, channels(x).min(channels(y)).max(1));
    let (xv, xh, xw) = sample_plane(x, n, c);
    let (yv, yh, yw) = sample_plane(y, n, c);
    let sel = selected_cell(cx.state, i, n)
        .filter(|s| s.0 == c)
        .map(|s| (s.1, s.2));
    let labels = (yh == 1 && yw == 10).then(digits);
    let mut out = Operand::new(
        "y",
        trf!("y: {layer}'s output", layer = t.names[i]),
        &yv,
        yh,
        yw,
        false,
    )
    .short("y");
    if let Some(labels) = labels {
        out = out.labels(labels);
    }
    // A pooled map at its window's size, so that one of its cells covers
    // the window it came from; a map flattened beside its vector at three times
    // the vector's cells.
    let mut input_zoom = 1;
    match t.kinds[i] {
        LayerKind::Maxpool { .. } | LayerKind::Avgpool { .. } => {
            let (_, stride) = t.kinds[i].pool_window().unwrap_or((1, 1));
            out = out.big().zoom(stride)
        }
        LayerKind::Flatten if xh > 1 => input_zoom = 3,
        _ => {}
    }
    let row = vec![
        Term::map(
            Operand::new(
                "x",
                trf!("x: {layer}'s input", layer = t.names[i]),
                &xv,
                xh,
                xw,
                false,
            )
            .short("x")
            .big()
            .zoom(input_zoom)
            .selected(sel),
        ),
        Term::Op(format!("{} →", t.kinds[i].word())),
        Term::map(out.selected(sel)),
    ];
    let cells = cells(ui, &[&row], room, start);
    let drawn = row_ui(ui, row, cells);
    mark(cx, &drawn, &[(Mark::Output, "y")]);
    if let Some((id, (r, col))) = drawn.clicked {
        let flat = (yh == 1 && id == "y") || (xh == 1 && id == "x");
        let index = if flat {
            vec![n, col]
        } else {
            vec![n, c, r, col]
        };
        let cell = match id {
            "y" => CellRef::Output { layer: i, index },
            _ => super::conv::input_ref(i, index),
        };
        cx.command(UiCommand::Select(Some(cell)));
    }
}

/// A dense layer's weight matrix W (out × in), as both its passes draw it.
fn weights<'a>(t: &Trace, i: usize, values: &'a [f32], out: usize, inp: usize) -> Operand<'a> {
    Operand::new(
        "W",
        trf!("W of {layer} (out × in)", layer = t.names[i]),
        values,
        out,
        inp,
        true,
    )
    .short("W")
}

/// A dense layer forward as its product, W · x + b = y, every operand drawn
/// (W out × in, the vectors as columns); a clicked output outlines its row
/// of W and its bias, the inputs it sees.
fn dense_forward_ui(
    cx: &mut Cx,
    ui: &mut Ui,
    t: &Trace,
    i: usize,
    n: usize,
    room: Vec2,
    start: f32,
) {
    let layer = &t.layers[i];
    let (Some(x), Some(y), Some(w), Some(b)) = (
        t.layer_input(i),
        layer.out.as_ref(),
        layer.weight.as_ref(),
        layer.bias.as_ref(),
    ) else {
        return;
    };
    let (out, inp) = (w.shape()[0], w.shape()[1]);
    if x.ndim() != 2 || y.ndim() != 2 || x.shape()[1] != inp || y.shape()[1] != out {
        return;
    }
    let xv: Vec<f32> = (0..inp).map(|k| x[[n, k]]).collect();
    let yv: Vec<f32> = (0..out).map(|o| y[[n, o]]).collect();
    let wv: Vec<f32> = w.iter().copied().collect();
    let bv: Vec<f32> = b.iter().copied().collect();
    let picked = match cx.state.selection() {
        Some(CellRef::Output { layer, index }) if *layer == i && index.first() == Some(&n) => {
            index.get(1).copied()
        }
        _ => None,
    };
    // Fewer outputs than inputs (the logits): the output and its bias as
    // tall as the input, so their cells carry numbers and labels.
    let zoom = (inp / out.max(1)).clamp(1, 4);
    let mut y_map = Operand::new(
        "y",
        trf!("y: {layer}'s output", layer = t.names[i]),
        &yv,
        out,
        1,
        true,
    )
    .short("y")
    .big()
    .zoom(zoom)
    .selected(picked.map(|o| (o, 0)));
    if out == 10 {
        // The logits, each beside its digit.
        y_map = y_map.labels(digits());
    }
    let row = vec![
        Term::map(
            weights(t, i, &wv, out, inp)
                .big()
                .outline(picked.map(|o| (o, 0, 1, inp)), LINKED),
        ),
        Term::Op("·".into()),
        Term::map(
            Operand::new(
                "x",
                trf!("x: {layer}'s input", layer = t.names[i]),
                &xv,
                inp,
                1,
                false,
            )
            .short("x")
            .big()
            .outline(picked.map(|_| (0, 0, inp, 1)), LINKED),
        ),
        Term::Op("+".into()),
        Term::map(
            Operand::new("b", "b", &bv, out, 1, true)
                .short("b")
                .big()
                .zoom(zoom)
                .outline(picked.map(|o| (o, 0, 1, 1)), LINKED),
        ),
        Term::Op("=".into()),
        Term::map(y_map),
    ];
    let cells = cells(ui, &[&row], room, start);
    let drawn = row_ui(ui, row, cells);
    mark(cx, &drawn, &[(Mark::Output, "y")]);
    if let Some((id, (r, _))) = drawn.clicked {
        let cell = match id {
            // A row of W, its bias or its output: that output's sum.
            "y" | "b" | "W" => CellRef::Output {
                layer: i,
                index: vec![n, r],
            },
            _ => super::conv::input_ref(i, vec![n, r]),
        };
        cx.command(UiCommand::Select(Some(cell)));
    }
}
