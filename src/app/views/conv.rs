//! A conv layer's step drawn as the answer to the question, with every
//! operand on screen:
//!
//! - forward: `x ⋆ F + b = y`;
//! - backward: `x ⋆ D = dF` (the filter's gradient: the layer's input
//!   correlated with the delta from above) and `D ⊛ rot180(F) = D_below`
//!   (the delta handed down: the full convolution of D with the filter
//!   turned by 180°, the zero padding around D drawn).
//!
//! Selecting a cell outlines what it is made of in the other maps: a dF tap
//! the region of x that multiplies D for it; a D_below cell its K×K patch of
//! the padded D under rot180(F); an output cell its input patch. Every
//! number is the trace's; the view only rearranges (pads, rotates, slices).

use egui::{RichText, Ui, Vec2};

use super::matrix::MatrixView;
use crate::app::command::UiCommand;
use crate::app::cx::Cx;
use crate::app::state::AppState;
use crate::app::style::compact;
use crate::app::widgets::animation_bar::{self, playing, sums};
use crate::app::widgets::equation::{fit_cell, row_ui, Operand, Term};
use crate::app::widgets::heatmap::{ColorScale, HoverUi, LINKED, SELECTION};
use crate::app::widgets::prediction;
use crate::app::widgets::products::{products_ui, Factors};
use crate::engine::layers::conv::{rot180, ConvGeometry as Geometry};
use crate::engine::trace::Trace;
use crate::engine::Tensor;
use crate::i18n::tr;
use crate::teach::animation::{Kind, Target};
use crate::teach::explain::{explain, CellRef};
use crate::teach::lesson::Mark;
use crate::teach::notation::own_magnitude;
use crate::trf;

/// Map `[a, b]` of a 4-D tensor `[N, C, H, W]` (or of a filter bank
/// `[Cout, Cin, K, K]`) as a row-major vector.
fn plane(t: &Tensor, a: usize, b: usize) -> Vec<f32> {
    match t.shape() {
        [na, nb, _, _] if a < *na && b < *nb => t
            .index_axis(ndarray::Axis(0), a)
            .index_axis(ndarray::Axis(0), b)
            .iter()
            .copied()
            .collect(),
        _ => Vec::new(),
    }
}

/// Sample `n`'s share of dF for the pair `(o, c)`, from the recorded shares
/// `[N, Cout, Cin, K, K]`.
fn share_plane(shares: &Tensor, n: usize, o: usize, c: usize) -> Vec<f32> {
    match shares.shape() {
        [ns, no, nc, _, _] if n < *ns && o < *no && c < *nc => shares
            .index_axis(ndarray::Axis(0), n)
            .index_axis(ndarray::Axis(0), o)
            .index_axis(ndarray::Axis(0), c)
            .iter()
            .copied()
            .collect(),
        _ => Vec::new(),
    }
}

/// The (out, in) channel pair the view shows: from the selection when it
/// names one, else the app's pick.
fn channels(state: &AppState, i: usize, g: &Geometry) -> (usize, usize) {
    let (mut o, mut c) = (state.channels[0], state.channels[1]);
    match state.selection() {
        Some(CellRef::WeightGrad { layer, index }) if *layer == i => {
            o = index[0];
            c = index[1];
        }
        Some(CellRef::Delta { layer, index }) if *layer == i => c = index[1],
        Some(CellRef::Delta { layer, index }) if *layer == i + 1 => o = index[1],
        Some(CellRef::Output { layer, index }) if *layer + 1 == i => c = index[1],
        Some(CellRef::Output { layer, index }) if *layer == i => o = index[1],
        _ => {}
    }
    (o.min(g.cout - 1), c.min(g.cin - 1))
}

/// Above the equations: the channel pickers (when there are several
/// channels) and `controls` (the animation bar).
fn header_ui(
    cx: &mut Cx,
    ui: &mut Ui,
    g: &Geometry,
    (o, c): (usize, usize),
    controls: impl FnOnce(&mut Cx, &mut Ui),
) {
    if g.cout > 1 || g.cin > 1 {
        ui.horizontal(|ui| {
            let mut pick = [o, c];
            if g.cout > 1 {
                let label = ui.label(tr("filter (out channel):"));
                ui.add(egui::DragValue::new(&mut pick[0]).range(0..=g.cout - 1))
                    .labelled_by(label.id);
            }
            if g.cin > 1 {
                let label = ui.label(tr("in channel:"));
                ui.add(egui::DragValue::new(&mut pick[1]).range(0..=g.cin - 1))
                    .labelled_by(label.id);
            }
            if pick != [o, c] {
                cx.command(UiCommand::PickChannels(pick));
            }
        });
    }
    controls(cx, ui);
}

/// `equations` drawn in `room`, with the bank of all filters (or of their
/// dF) in a column to their right when there are several: the pair the
/// equations show is outlined in the bank, and a click in the bank picks
/// another. The equations are fitted to the room the bank leaves them; small
/// windows leave the bank out, as the equations need the room more.
fn beside_bank<R>(
    cx: &mut Cx,
    ui: &mut Ui,
    room: Vec2,
    (bank, title): (Option<&Tensor>, &str),
    pair: (usize, usize),
    equations: impl FnOnce(&mut Cx, &mut Ui, Vec2) -> R,
) -> R {
    let layout = bank
        .filter(|t| t.shape().len() == 4 && t.shape()[0] * t.shape()[1] > 1)
        .filter(|_| !compact(ui.ctx()))
        .and_then(|t| Some((Bank::of(t, room)?, t)));
    let Some((layout, bank)) = layout else {
        return equations(cx, ui, room);
    };
    let gap = 16.0;
    let left = (room.x - layout.size.x - gap).max(0.0);
    ui.horizontal_top(|ui| {
        let drawn = ui
            .allocate_ui_with_layout(
                Vec2::new(left, room.y),
                egui::Layout::top_down(egui::Align::Min),
                |ui| equations(cx, ui, Vec2::new(left, room.y)),
            )
            .inner;
        ui.add_space(gap);
        ui.vertical(|ui| {
            ui.label(RichText::new(title).small().strong());
            ui.label(RichText::new(tr("rows: out channel, columns: in channel")).small());
            bank_ui(cx, ui, bank, &layout, pair);
        });
        drawn
    })
    .inner
}

/// Where the filters of a `[Cout, Cin, K, K]` bank go: one small K×K map
/// per pair, out channels down the rows and in channels across, as the
/// tensor is indexed.
struct Bank {
    cout: usize,
    cin: usize,
    k: usize,
    cell: f32,
    size: Vec2,
}

impl Bank {
    /// Room for the row labels at the left and column labels on top.
    const LABELS: Vec2 = Vec2::new(22.0, 16.0);
    /// The title's two lines above the bank.
    const TITLE: f32 = 36.0;

    /// The layout in a column beside equations drawn in `room`: at most a
    /// fifth of its width, and cells no larger than the equations' smallest.
    fn of(t: &Tensor, room: Vec2) -> Option<Self> {
        let &[cout, cin, k, _] = t.shape() else {
            return None;
        };
        // A gap of one cell between neighbouring filters.
        let span = |n: usize| n as f32 * (k as f32 + 1.0);
        let width = (room.x * 0.2).min(280.0) - Self::LABELS.x;
        let height = room.y - Self::TITLE - Self::LABELS.y;
        let cell = (width / span(cin)).min(height / span(cout)).min(7.0);
        // Under two points a filter is a smudge: no bank then.
        if cell < 2.0 {
            return None;
        }
        let size = Self::LABELS + Vec2::new(span(cin), span(cout)) * cell;
        Some(Self {
            cout,
            cin,
            k,
            cell,
            size,
        })
    }

    /// The top-left corner of pair `(o, c)`, relative to the grid's origin.
    fn corner(&self, o: usize, c: usize) -> Vec2 {
        let step = self.cell * (self.k as f32 + 1.0);
        Vec2::new(c as f32, o as f32) * step
    }

    /// The pair under `at` (relative to the grid's origin), if any.
    fn pair_at(&self, at: Vec2) -> Option<(usize, usize)> {
        let step = self.cell * (self.k as f32 + 1.0);
        if at.x < 0.0 || at.y < 0.0 {
            return None;
        }
        let (c, o) = ((at.x / step) as usize, (at.y / step) as usize);
        (o < self.cout && c < self.cin).then_some((o, c))
    }
}

/// The bank drawn in one colour scale, its axes labelled "out" and "in",
/// the pair `(o, c)` outlined; a click picks a pair.
fn bank_ui(cx: &mut Cx, ui: &mut Ui, t: &Tensor, b: &Bank, (o, c): (usize, usize)) {
    let values: Vec<f32> = t.iter().copied().collect();
    let scale = ColorScale::diverging(&values);
    let (rect, response) = ui.allocate_exact_size(b.size, egui::Sense::click());
    response.widget_info(|| {
        egui::WidgetInfo::labeled(egui::Role::Image, true, tr("filter bank [out, in]"))
    });
    let painter = ui.painter_at(rect);
    let font = egui::FontId::proportional(11.0);
    let ink = ui.visuals().text_color();
    let origin = rect.min + Bank::LABELS;
    let side = b.cell * b.k as f32;
    let (across, down) = (b.cin, b.cout);
    // Every index when the numbers fit between filters, otherwise every
    // second or fourth (the widest index is about 7 points a digit).
    let widest = 7.0 * across.max(down).to_string().len() as f32;
    let every = match (side + b.cell) / widest {
        r if r >= 1.0 => 1,
        r if r >= 0.5 => 2,
        _ => 4,
    };
    for x in (0..across).step_by(every) {
        let at = origin + Vec2::new(x as f32 * (side + b.cell) + side / 2.0, -8.0);
        painter.text(
            at,
            egui::Align2::CENTER_CENTER,
            x.to_string(),
            font.clone(),
            ink,
        );
    }
    for y in (0..down).step_by(every) {
        let at = origin + Vec2::new(-6.0, y as f32 * (side + b.cell) + side / 2.0);
        painter.text(
            at,
            egui::Align2::RIGHT_CENTER,
            y.to_string(),
            font.clone(),
            ink,
        );
    }
    for row in 0..b.cout {
        for col in 0..b.cin {
            let top_left = origin + b.corner(row, col);
            for u in 0..b.k {
                for v in 0..b.k {
                    let r = egui::Rect::from_min_size(
                        top_left + Vec2::new(v as f32, u as f32) * b.cell,
                        Vec2::splat(b.cell),
                    );
                    painter.rect_filled(r, 0.0, scale.color(t[[row, col, u, v]]));
                }
            }
        }
    }
    painter.rect_stroke(
        egui::Rect::from_min_size(origin + b.corner(o, c), Vec2::splat(side)),
        0.0,
        egui::Stroke::new(2.0, SELECTION),
        egui::StrokeKind::Outside,
    );
    let picked = response
        .interact_pointer_pos()
        .filter(|_| response.clicked())
        .and_then(|pos| b.pair_at(pos - origin));
    if let Some((o, c)) = picked {
        cx.command(UiCommand::PickChannels([o, c]));
    }
}

/// What a selection outlines in the backward equation.
#[derive(Default)]
struct Links {
    /// dF tap `(u, v)`.
    tap: Option<(usize, usize)>,
    /// A D_below cell `(y, x)` (also x's cell: same coordinates).
    below: Option<(usize, usize)>,
    /// A D cell `(y, x)`.
    delta: Option<(usize, usize)>,
}

fn links(state: &AppState, i: usize, n: usize, (o, c): (usize, usize)) -> Links {
    let mut l = Links::default();
    match state.selection() {
        Some(CellRef::WeightGrad { layer, index }) if *layer == i && index[..2] == [o, c] => {
            l.tap = Some((index[2], index[3]));
        }
        Some(CellRef::Delta { layer, index }) if *layer == i && index[..2] == [n, c] => {
            l.below = Some((index[2], index[3]));
        }
        Some(CellRef::Delta { layer, index }) if *layer == i + 1 && index[..2] == [n, o] => {
            l.delta = Some((index[2], index[3]));
        }
        Some(CellRef::Output { layer, index }) if *layer + 1 == i && index[..2] == [n, c] => {
            l.below = Some((index[2], index[3]));
        }
        Some(CellRef::Input { index }) if i == 0 && index[0] == n => {
            l.below = Some((index[2], index[3]));
        }
        _ => {}
    }
    l
}

/// The cell ref a click on x (the layer's input) means.
pub fn input_ref(i: usize, index: Vec<usize>) -> CellRef {
    if i == 0 {
        CellRef::Input { index }
    } else {
        CellRef::Output {
            layer: i - 1,
            index,
        }
    }
}

/// The backward step of conv layer `i` for the app's sample: two equations
/// of maps fitted to `room`.
pub fn backward_ui(
    cx: &mut Cx,
    matrix: &mut MatrixView,
    rows: &mut AnswerRows,
    ui: &mut Ui,
    t: &Trace,
    i: usize,
    room: Vec2,
) {
    let state = cx.state;
    let Some(g) = t.conv_geometry(i) else { return };
    let n = state.sample.min(t.batch_size().saturating_sub(1));
    let (o, c) = channels(state, i, &g);
    let top = ui.cursor().top();
    let bank = t.layers[i].weight_grad.as_deref();
    let target = Target {
        layer: i,
        sample: n,
        out: o,
        input: c,
    };
    let compact = compact(ui.ctx());
    // One numbering on screen: the app's, or the answer's (conv + ReLU one
    // layer), every name below from it.
    let num = state.numbering(&t.kinds);
    let (holds, computes) = (num.delta(i + 1), num.delta(i));
    let first_caption = if num.is_answer() {
        trf!(
            "① At L{layer} you hold {holds}: dF = x ⋆ {holds}",
            layer = num.layer(i),
            holds = holds
        )
    } else {
        tr("① The filter's gradient: the input correlated with the delta from above").to_string()
    };
    let first_caption = first_caption.as_str();

    let second_caption = if num.is_answer() && i > 0 && num.folded_activation(i - 1) {
        // The layer below applies its f′ in a step of its own.
        trf!(
            "② {computes} = full_conv({holds}, rot180 F); the ⊙ f′ below makes it {next}",
            computes = computes,
            holds = holds,
            next = num.delta(i - 1)
        )
    } else if num.is_answer() {
        // A formula: the same in every language.
        format!("② {computes} = full_conv({holds}, rot180 F)")
    } else if g.cout > 1 {
        tr("② The delta handed down: the delta, fully convolved with the filter turned by 180°, summed over the filters").to_string()
    } else {
        tr("② The delta handed down: the delta, fully convolved with the filter turned by 180°")
            .to_string()
    };
    let step = Backward::of(state, t, g, i, (o, c), &num);
    let extra = if compact { 14.0 } else { 26.0 };
    let fit = |rows: &[&[Term]], room: Vec2| {
        fit_cell(
            rows,
            room - Vec2::new(8.0, 0.0),
            extra,
            (3.0, 40.0),
            compact,
        )
    };
    // When the two rows together would leave maps too small to carry their
    // numbers (a projector), each row is a screen of its own: the lesson,
    // an animation or a click says which, or the toggles in the header.
    let split = step
        .as_ref()
        .filter(|_| compact && !state.as_matrix)
        .and_then(|step| {
            let lines = if g.cout > 1 || g.cin > 1 { 2.0 } else { 1.0 };
            let header = lines * (ui.spacing().interact_size.y + ui.spacing().item_spacing.y);
            let both = fit(
                &[&step.gradient_row(), &step.below_row()],
                room - Vec2::new(0.0, header),
            );
            let animating = if step.grad_frame.is_some() {
                Some(Kind::Gradient)
            } else if step.below_frame.is_some() {
                Some(Kind::Below)
            } else {
                None
            };
            (!AnswerRow::fits_both(both)).then(|| rows.shown(state, i, animating))
        });

    header_ui(cx, ui, &g, (o, c), |cx, ui| {
        // One row: the matrix toggle beside the animation's controls.
        ui.horizontal(|ui| {
            // On a projector the short form: the caption beside it needs the room.
            let label = if compact { "Wᵀ · δ" } else { tr("As a dense layer (Wᵀ · δ)") };
            let mut as_matrix = state.as_matrix;
            if ui
                .checkbox(&mut as_matrix, label)
                .on_hover_text(tr("The layer as its matrix W: the rule you used for FC layers, Wᵀ · δ, is the full convolution with rot180(F)"))
                .changed()
            {
                cx.command(UiCommand::SetMatrix(as_matrix));
            }
            if state.as_matrix {
                return;
            }
            let below_name = format!("② {}", step.as_ref().map_or("D_below", |s| s.d_out.as_str()));
            let Some(chosen) = split else {
                let verdict = compact && prediction::has_verdict(state);
                animation_bar::controls_ui(
                    cx,
                    ui,
                    t,
                    target,
                    &[(Kind::Gradient, "① dF"), (Kind::Below, "② D_below")],
                    compact.then_some(if verdict { "" } else { first_caption }),
                );
                if verdict {
                    prediction::verdict_ui(ui, cx);
                }
                return;
            };
            // Two screens: which row, then that row's animation and caption.
            rows.toggles_ui(ui, chosen, ["① dF".to_string(), below_name]);
            ui.separator();
            let (kind, caption) = match chosen {
                AnswerRow::Gradient => (Kind::Gradient, first_caption),
                AnswerRow::Below => (Kind::Below, second_caption.as_str()),
            };
            // After a reveal the verdict takes the caption's place.
            if prediction::has_verdict(state) {
                animation_bar::controls_ui(cx, ui, t, target, &[(kind, "▶")], Some(""));
                prediction::verdict_ui(ui, cx);
            } else {
                animation_bar::controls_ui(cx, ui, t, target, &[(kind, "▶")], Some(caption));
            }
        });
    });
    let room = room - Vec2::new(0.0, ui.cursor().top() - top);
    if state.as_matrix {
        matrix.backward_ui(ui, state, t, i, (o, c), room);
        return;
    }
    let Some(step) = step else {
        return;
    };
    let (row1, row2) = (step.gradient_row(), step.below_row());
    let bank = (bank, tr("dF of every filter"));
    let clicked = beside_bank(cx, ui, room, bank, (o, c), |cx, ui, room| {
        let shown = split.map(|row| {
            let alone = if row == AnswerRow::Gradient {
                &row1
            } else {
                &row2
            };
            // No caption above a row alone: its caption is in the header.
            let cells = fit_cell(
                &[alone],
                room - Vec2::new(8.0, 0.0),
                0.0,
                (3.0, 40.0),
                compact,
            );
            (row, cells)
        });
        let both = fit(&[&row1, &row2], room);
        let caption = |ui: &mut Ui, text: &str| {
            let label = egui::Label::new(RichText::new(text).strong());
            // One line on a small window (the rest on hover).
            ui.add(if compact {
                label.truncate()
            } else {
                label.wrap()
            });
        };
        let (drawn1, drawn2) = match shown {
            Some((AnswerRow::Gradient, cell)) => (row_ui(ui, row1, cell), Default::default()),
            Some((AnswerRow::Below, cell)) => (Default::default(), row_ui(ui, row2, cell)),
            None => {
                if !compact {
                    caption(ui, first_caption);
                }
                let drawn1 = row_ui(ui, row1, both);
                caption(ui, &second_caption);
                (drawn1, row_ui(ui, row2, both))
            }
        };
        for (mark, rect) in [
            (Mark::DeltaIn, drawn1.rect("D")),
            (Mark::Gradient, drawn1.rect("dF batch")),
            (Mark::DeltaDown, drawn2.rect("D_below")),
        ] {
            if let Some(rect) = rect {
                cx.mark(mark, rect);
            }
        }
        drawn1.clicked.or(drawn2.clicked)
    });
    if let Some(cell) = clicked.and_then(|(id, at)| step.cell(id, at)) {
        cx.command(UiCommand::Select(Some(cell)));
    }
}

/// The answer's two equations: ① dF = x ⋆ D, ② D_below = D ⊛ rot180 F.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerRow {
    Gradient,
    Below,
}

impl AnswerRow {
    /// Whether both rows fit at cell sizes that carry their numbers on a
    /// projector (a filter's cell 64 px, a map's 20 px, at 1.4x).
    fn fits_both(cells: crate::app::widgets::equation::Cells) -> bool {
        cells.small >= 45.0 && cells.map >= 14.0
    }
}

/// Which row a small window shows: the one the teacher picked, unless the
/// lesson, an animation or a new click points at the other. Serves every
/// view drawn as the answer's two rows (conv, dense).
#[derive(Default)]
pub struct AnswerRows {
    picked: Option<AnswerRow>,
    /// What pointed last (so a pick stands until something new points).
    pointed: Option<(Option<CellRef>, Option<Mark>, Option<Kind>)>,
}

impl AnswerRows {
    pub fn pick(&mut self, row: AnswerRow) {
        self.picked = Some(row);
    }

    /// The row to show of layer `layer`'s step, `animating` what plays.
    pub fn shown(&mut self, state: &AppState, layer: usize, animating: Option<Kind>) -> AnswerRow {
        let selected = state.selection().cloned();
        let mark = state.lesson_mark();
        let now = (selected.clone(), mark, animating);
        if self.pointed.as_ref() != Some(&now) {
            // Something new points at a row: it wins over an old pick.
            self.pointed = Some(now);
            let below = matches!(&selected, Some(CellRef::Delta { layer: l, .. }) if *l == layer);
            self.picked = Some(match (animating, mark) {
                (Some(Kind::Below), _) => AnswerRow::Below,
                (Some(_), _) => AnswerRow::Gradient,
                (None, Some(Mark::DeltaDown)) => AnswerRow::Below,
                (None, Some(_)) => AnswerRow::Gradient,
                (None, None) if below => AnswerRow::Below,
                (None, None) => self.picked.unwrap_or(AnswerRow::Gradient),
            });
        }
        self.picked.unwrap_or(AnswerRow::Gradient)
    }

    /// The two toggles, `names` of the rows; returns nothing, a click picks.
    pub fn toggles_ui(&mut self, ui: &mut Ui, chosen: AnswerRow, names: [String; 2]) {
        let [first, second] = names;
        for (row, name) in [(AnswerRow::Gradient, first), (AnswerRow::Below, second)] {
            if ui
                .selectable_label(chosen == row, RichText::new(name).strong())
                .on_hover_text(tr(
                    "The answer's two equations, one screen each on a small window",
                ))
                .clicked()
            {
                self.pick(row);
            }
        }
    }
}

/// One sample's backward step of a conv layer for one (out, in) pair, as
/// the two equations draw it: the maps sliced from the trace, their names,
/// what a selection links in them and the frame an animation is at.
struct Backward<'a> {
    t: &'a Trace,
    g: Geometry,
    i: usize,
    n: usize,
    o: usize,
    c: usize,
    x_map: Vec<f32>,
    d_map: Vec<f32>,
    f: Vec<f32>,
    f_rot: Vec<f32>,
    df: Vec<f32>,
    df_share: Option<Vec<f32>>,
    below: Option<Vec<f32>>,
    links: Links,
    grad_frame: Option<crate::teach::animation::Frame>,
    below_frame: Option<crate::teach::animation::Frame>,
    /// The delta arriving and the one handed down, named (`D5`, `D4[1]`),
    /// and in whole phrases.
    d_in: String,
    d_out: String,
    arriving: String,
    leaving: String,
    /// A revealed prediction's cells on the batch's dF.
    revealed: Vec<(crate::app::widgets::heatmap::CellRect, egui::Color32)>,
}

impl<'a> Backward<'a> {
    fn of(
        state: &AppState,
        t: &'a Trace,
        g: Geometry,
        i: usize,
        (o, c): (usize, usize),
        num: &crate::teach::notation::Numbering,
    ) -> Option<Self> {
        let n = state.sample.min(t.batch_size().saturating_sub(1));
        let target = Target {
            layer: i,
            sample: n,
            out: o,
            input: c,
        };
        let (x, d) = (t.layer_input(i)?, t.delta_from_above(i)?);
        let layer = &t.layers[i];
        let (weight, grad) = (layer.weight.as_ref()?, layer.weight_grad.as_ref()?);
        let f = plane(weight, o, c);
        // Whole phrases, each translated as a whole (the cases differ).
        let d_in = pair_channel(&num.delta(i + 1), o, g.cout);
        let d_out = pair_channel(&num.delta(i), c, g.cin);
        let arriving = if i + 1 == t.names.len() {
            trf!("{d} from the loss", d = d_in)
        } else {
            trf!("{d} from {above}", d = d_in, above = t.names[i + 1])
        };
        let leaving = if i == 0 {
            trf!("{d} for the input", d = d_out)
        } else {
            trf!("{d} handed to {layer}", d = d_out, layer = t.names[i - 1])
        };
        Some(Backward {
            t,
            g,
            i,
            n,
            o,
            c,
            x_map: plane(x, n, c),
            d_map: plane(d, n, o),
            f_rot: rot180(&f, g.k),
            f,
            df: plane(grad, o, c),
            // The sample's share of dF, as the engine recorded it.
            df_share: layer
                .weight_grad_shares
                .as_deref()
                .map(|s| share_plane(s, n, o, c)),
            below: layer.delta.as_ref().map(|b| plane(b, n, c)),
            links: links(state, i, n, (o, c)),
            grad_frame: playing(state, Kind::Gradient, target),
            below_frame: playing(state, Kind::Below, target),
            d_in,
            d_out,
            arriving,
            leaving,
            revealed: prediction::revealed_outlines(state, t, i, o, c),
        })
    }

    /// `dF` or `dF[o,c]` (the pair named when there are several channels).
    fn pair(&self, what: &str) -> String {
        if self.g.cout == 1 && self.g.cin == 1 {
            what.to_string()
        } else {
            format!("{what}[{},{}]", self.o, self.c)
        }
    }

    /// Row 1: x ⋆ D = dF (this sample's share), then the batch's dF. While
    /// the sum is animated the share shows its running sums.
    fn gradient_row(&self) -> Vec<Term<'_>> {
        let (g, t, i, n) = (&self.g, self.t, self.i, self.n);
        let (share_values, share_pending) = match &self.grad_frame {
            Some(f) => sums(f),
            None => (self.df_share.clone().unwrap_or_default(), None),
        };
        let tap_sel = self.grad_frame.as_ref().map(|f| f.cell).or(self.links.tap);
        let batch = Operand::new(
            "dF batch",
            trf!("{df} of the whole batch", df = self.pair("dF")),
            &self.df,
            g.k,
            g.k,
            true,
        )
        .short(tr("dF, batch"))
        // A revealed sign question: the tap it asked about, green or red.
        .outlines(self.revealed.clone())
        .hover(self.products_hover("dF batch"));
        // The share and the batch sum in one scale: the share is part of the sum.
        let (scale, format) = (batch.scale, batch.format);
        let share = Operand::new(
            "dF",
            trf!("{df}: sample {n}'s share", df = self.pair("dF"), n = n),
            share_values,
            g.k,
            g.k,
            true,
        )
        .short(trf!("dF, sample {n}", n = n))
        .hover(self.products_hover("dF"))
        .pending(share_pending)
        .same_scale(scale, format)
        .selected(tap_sel);
        let one_channel = g.cout == 1 && g.cin == 1;
        let frame = self.grad_frame.as_ref();
        vec![
            Term::map(
                Operand::new(
                    "x",
                    trf!(
                        "x: {input}, zero-padded by {p}",
                        input = input_title(t, i, self.c, one_channel),
                        p = g.p
                    ),
                    &self.x_map,
                    g.h,
                    g.w,
                    false,
                )
                .pad(g.p)
                .short(if i == 0 {
                    "x".to_string()
                } else {
                    format!("x ({})", t.names[i - 1])
                })
                // What tap (u, v) read: Ho × Wo cells, S apart.
                .outlines(
                    tap_sel
                        .map(|tap| {
                            let from = g.padded_cell((0, 0), tap);
                            lattice(from, (g.ho, g.wo), g.stride, LINKED)
                        })
                        .unwrap_or_default(),
                )
                // The row of them the animation is summing.
                .outlines(
                    frame
                        .map(|f| {
                            let from = (f.window.0 + (f.rows_done - 1) * g.stride, f.window.1);
                            lattice(from, (1, g.wo), g.stride, SELECTION)
                        })
                        .unwrap_or_default(),
                )
                // What D's cell (y, x) read: K × K cells, Dl apart.
                .outlines(
                    self.links
                        .delta
                        .map(|cell| {
                            let from = g.padded_cell(cell, (0, 0));
                            lattice(from, (g.k, g.k), g.dilation, LINKED)
                        })
                        .unwrap_or_default(),
                )
                .selected(self.links.below),
            ),
            Term::Op("⋆".into()),
            Term::map(
                Operand::new("D", self.arriving.clone(), &self.d_map, g.ho, g.wo, true)
                    // One cell of D per S input positions: S times larger.
                    .zoom(g.stride)
                    .short(self.d_in.clone())
                    .outline(tap_sel.map(|_| (0, 0, g.ho, g.wo)), LINKED)
                    .outline(frame.map(|f| (f.rows_done - 1, 0, 1, g.wo)), SELECTION)
                    .selected(self.links.delta),
            ),
            Term::Op("=".into()),
            Term::map(share),
            Term::Op(tr("Σ batch →").into()),
            Term::map(batch.selected(tap_sel)),
        ]
    }

    /// Row 2: D (dilated by the stride, padded for the full convolution)
    /// ⊛ rot180(F) (with the dilation's holes) = D_below; animated, the
    /// turned filter slides over the padded D.
    fn below_row(&self) -> Vec<Term<'_>> {
        let g = &self.g;
        let q = g.full_pad();
        let span = g.span();
        let (below_values, below_pending) = match &self.below_frame {
            Some(f) => sums(f),
            None => (self.below.clone().unwrap_or_default(), None),
        };
        let below_sel = self
            .below_frame
            .as_ref()
            .map(|f| f.cell)
            .or(self.links.below);
        let below_title = if self.below_frame.is_some() && g.cout > 1 {
            trf!("filter {o}'s share of {d}", o = self.o, d = self.d_out)
        } else {
            self.leaving.clone()
        };
        vec![
            Term::map(
                Operand::new(
                    "D full",
                    if g.stride > 1 {
                        trf!(
                            "{d} dilated by the stride {s} ({z} zero(s) between its cells), zero-padded by {q}",
                            d = self.d_in,
                            s = g.stride,
                            z = g.stride - 1,
                            q = q
                        )
                    } else {
                        trf!("{d}, zero-padded by K−1−P = {q}", d = self.d_in, q = q)
                    },
                    &self.d_map,
                    g.ho,
                    g.wo,
                    true,
                )
                .pad(q)
                .pad_end(g.full_pad_end())
                .spread(g.stride)
                .short(if g.stride > 1 {
                    trf!("{d}, dilated, padded", d = self.d_in)
                } else {
                    trf!("{d}, padded", d = self.d_in)
                })
                .outlines(
                    below_sel
                        .map(|cell| lattice(cell, (g.k, g.k), g.dilation, LINKED))
                        .unwrap_or_default(),
                )
                .selected(self.links.delta),
            ),
            Term::Op("⊛".into()),
            Term::map(
                Operand::new(
                    "rot180 F",
                    if g.dilation > 1 {
                        trf!(
                            "rot180({f}): F turned by 180°, its taps {dl} apart",
                            f = self.pair("F"),
                            dl = g.dilation
                        )
                    } else {
                        trf!("rot180({f}): F turned by 180°", f = self.pair("F"))
                    },
                    &self.f_rot,
                    g.k,
                    g.k,
                    true,
                )
                .spread(g.dilation)
                .short("rot180(F)")
                .outline(below_sel.map(|_| (0, 0, span, span)), LINKED),
            ),
            Term::Op("←".into()),
            Term::map(
                Operand::new("F", self.pair("F"), &self.f, g.k, g.k, true).spread(g.dilation),
            ),
            Term::Op(if g.cout > 1 { "Σ=".into() } else { "=".into() }),
            Term::map(
                Operand::new("D_below", below_title, below_values, g.h, g.w, true)
                    .short(self.d_out.clone())
                    .hover(self.products_hover("D_below"))
                    .pending(below_pending)
                    .selected(below_sel),
            ),
        ]
    }

    /// What the tooltip of map `id` adds (dF, the share or the batch's, and
    /// the delta handed down): the products that sum to the cell's number.
    fn products_hover(&self, id: &'static str) -> HoverUi<'_> {
        std::rc::Rc::new(move |ui: &mut Ui, at| self.grid_tooltip_ui(ui, id, at))
    }

    fn grid_tooltip_ui(&self, ui: &mut Ui, id: &str, (r, cc): (usize, usize)) {
        let (n, o, g) = (self.n, self.o, &self.g);
        let cell = match id {
            "dF" | "dF batch" | "D_below" => self.cell(id, (r, cc)),
            _ => None,
        };
        let Some(e) = cell.and_then(|cell| explain(self.t, &cell, n)) else {
            return;
        };
        let value = own_magnitude(e.recorded, 4);
        let factors = if id == "D_below" {
            let d = format!("{}[{r},{cc}]", self.d_out);
            Factors {
                left: trf!("{d}, padded, under the window", d = self.d_in),
                left_short: self.d_in.clone(),
                right: format!("rot180({})", self.pair("F")),
                then: Some(if g.cout > 1 {
                    trf!(
                        "filter {o}'s part; the {count} filters' parts add up to {d} = {value}",
                        o = o,
                        count = g.cout,
                        d = d,
                        value = value
                    )
                } else {
                    format!("= {d} = {value}")
                }),
            }
        } else {
            let df = format!("{}[{r},{cc}]", self.pair("dF"));
            Factors {
                left: trf!("x under tap ({u},{v})", u = r, v = cc),
                left_short: "x".into(),
                right: self.d_in.clone(),
                then: Some(if id == "dF" {
                    trf!("= sample {n}'s share of {df}", n = n, df = df)
                } else {
                    trf!(
                        "sample {n}'s share; the batch's {count} shares add up to {df} = {value}",
                        n = n,
                        count = self.t.batch_size(),
                        df = df,
                        value = value
                    )
                }),
            }
        };
        products_ui(ui, &e, (o, self.c), &factors);
    }

    /// The cell a click on map `id` at `(r, c)` means.
    fn cell(&self, id: &str, (r, cc): (usize, usize)) -> Option<CellRef> {
        let (i, n, o, c) = (self.i, self.n, self.o, self.c);
        Some(match id {
            "x" => input_ref(i, vec![n, c, r, cc]),
            "D" | "D full" => CellRef::Delta {
                layer: i + 1,
                index: vec![n, o, r, cc],
            },
            "dF" | "dF batch" | "F" => CellRef::WeightGrad {
                layer: i,
                index: vec![o, c, r, cc],
            },
            "rot180 F" => {
                let (u, v) = self.g.rot180_tap((r, cc));
                CellRef::WeightGrad {
                    layer: i,
                    index: vec![o, c, u, v],
                }
            }
            "D_below" => CellRef::Delta {
                layer: i,
                index: vec![n, c, r, cc],
            },
            _ => return None,
        })
    }
}

/// The cells `step` apart from `origin`, `count` of them down and across,
/// outlined in `colour`: one rectangle when they are side by side, else one
/// per cell (a strided tap's reads, a dilated filter's taps).
fn lattice(
    (r, c): (usize, usize),
    (rows, cols): (usize, usize),
    step: usize,
    colour: egui::Color32,
) -> Vec<(crate::app::widgets::heatmap::CellRect, egui::Color32)> {
    if step <= 1 {
        return vec![((r, c, rows, cols), colour)];
    }
    (0..rows)
        .flat_map(|i| (0..cols).map(move |j| ((r + i * step, c + j * step, 1, 1), colour)))
        .collect()
}

/// `D5`, or `D5[o]` when there are several channels.
fn pair_channel(name: &str, channel: usize, channels: usize) -> String {
    if channels > 1 {
        format!("{name}[{channel}]")
    } else {
        name.to_string()
    }
}

fn input_title(t: &Trace, i: usize, c: usize, one: bool) -> String {
    let what = if i == 0 {
        tr("the image").to_string()
    } else {
        trf!("{layer}'s output", layer = t.names[i - 1])
    };
    if one {
        what
    } else {
        format!("{what} [{c}]")
    }
}

/// The forward step of conv layer `i`: `x ⋆ F + b = y` for the app's sample.
pub fn forward_ui(cx: &mut Cx, ui: &mut Ui, t: &Trace, i: usize, room: Vec2, done: bool) {
    let state = cx.state;
    let Some(g) = t.conv_geometry(i) else { return };
    let n = state.sample.min(t.batch_size().saturating_sub(1));
    let (o, c) = channels(state, i, &g);
    let top = ui.cursor().top();
    let bank = t.layers[i].weight.as_deref();
    let target = Target {
        layer: i,
        sample: n,
        out: o,
        input: c,
    };
    header_ui(cx, ui, &g, (o, c), |cx, ui| {
        animation_bar::controls_ui(
            cx,
            ui,
            t,
            target,
            &[(Kind::Forward, tr("y, cell by cell"))],
            None,
        )
    });
    let room = room - Vec2::new(0.0, ui.cursor().top() - top);
    let frame = playing(state, Kind::Forward, target);
    // Before the layer has run the trace holds no weights yet: the ones the
    // forward pass is about to use are the network's own (so the first
    // screen shows the digit and the filter that will slide over it).
    let upcoming = state
        .snapshot
        .as_ref()
        .and_then(|s| s.network.layers.get(i))
        .and_then(|layer| layer.params());
    let weight = t.layers[i]
        .weight
        .as_ref()
        .or(upcoming.map(|(w, _)| &w.value));
    let bias = t.layers[i]
        .bias
        .as_ref()
        .or(upcoming.map(|(_, b)| &b.value));
    let (Some(x), Some(weight), Some(bias)) = (t.layer_input(i), weight, bias) else {
        return;
    };
    let x_map = plane(x, n, c);
    let f = plane(weight, o, c);
    let b = [bias.get(o).copied().unwrap_or(0.0)];
    let y = t.layers[i]
        .out
        .as_ref()
        .filter(|_| done)
        .map(|y| plane(y, n, o));
    let one = g.cout == 1 && g.cin == 1;
    let picked = match state.selection() {
        Some(CellRef::Output { layer, index }) if *layer == i && index[..2] == [n, o] => {
            Some((index[2], index[3]))
        }
        _ => None,
    };
    // Animated, the output fills cell by cell as the window slides.
    let (y_values, y_pending) = match &frame {
        Some(f) => sums(f),
        None => (y.clone().unwrap_or_default(), None),
    };
    let picked = frame.as_ref().map(|f| f.cell).or(picked);
    let mut row = vec![
        Term::map(
            Operand::new(
                "x",
                trf!(
                    "x: {input}, zero-padded by {p}",
                    input = input_title(t, i, c, one),
                    p = g.p
                ),
                &x_map,
                g.h,
                g.w,
                false,
            )
            .pad(g.p)
            // The cells the picked output read: K × K, Dl apart, from S·(r, c).
            .outlines(
                picked
                    .map(|cell| {
                        lattice(g.padded_cell(cell, (0, 0)), (g.k, g.k), g.dilation, LINKED)
                    })
                    .unwrap_or_default(),
            ),
        ),
        Term::Op("⋆".into()),
        Term::map(
            Operand::new(
                "F",
                if one {
                    "F".to_string()
                } else {
                    format!("F[{o},{c}]")
                },
                &f,
                g.k,
                g.k,
                true,
            )
            .spread(g.dilation),
        ),
        Term::Op("+".into()),
        Term::map(Operand::new(
            "b",
            if one {
                "b".to_string()
            } else {
                format!("b[{o}]")
            },
            &b,
            1,
            1,
            true,
        )),
    ];
    if y.is_some() {
        row.push(Term::Op(if g.cin > 1 { "Σ=".into() } else { "=".into() }));
        row.push(Term::map(
            Operand::new(
                "y",
                trf!("y: {layer}'s output", layer = t.names[i]),
                &y_values,
                g.ho,
                g.wo,
                false,
            )
            // A strided output's cell stands for S input positions: drawn
            // S times larger, as a pooled map is.
            .zoom(g.stride)
            .outline(picked.map(|(r, cc)| (r, cc, 1, 1)), SELECTION)
            .hover(std::rc::Rc::new(move |ui: &mut Ui, at| {
                output_products_ui(ui, t, i, (n, o, c), at)
            }))
            .pending(y_pending)
            .selected(picked),
        ));
    }
    let bank = (bank, tr("every filter F"));
    let clicked = beside_bank(cx, ui, room, bank, (o, c), |cx, ui, room| {
        let compact = compact(ui.ctx());
        let cell = fit_cell(
            &[&row],
            room - Vec2::new(8.0, 0.0),
            0.0,
            (4.0, 32.0),
            compact,
        );
        let drawn = row_ui(ui, row, cell);
        for (mark, id) in [(Mark::Filter, "F"), (Mark::Output, "y")] {
            if let Some(rect) = drawn.rect(id) {
                cx.mark(mark, rect);
            }
        }
        drawn.clicked
    });
    if let Some((id, (r, cc))) = clicked {
        let cell_ref = match id {
            "x" => input_ref(i, vec![n, c, r, cc]),
            "y" => CellRef::Output {
                layer: i,
                index: vec![n, o, r, cc],
            },
            _ => return,
        };
        cx.command(UiCommand::Select(Some(cell_ref)));
    }
}

/// What the tooltip of a conv layer's output adds about a cell: the
/// products of the window and the filter that sum to it, and the bias.
fn output_products_ui(
    ui: &mut Ui,
    t: &Trace,
    i: usize,
    (n, o, c): (usize, usize, usize),
    (r, cc): (usize, usize),
) {
    let cell = CellRef::Output {
        layer: i,
        index: vec![n, o, r, cc],
    };
    let (Some(e), Some(g)) = (explain(t, &cell, n), t.conv_geometry(i)) else {
        return;
    };
    let Some(bias) = t.layers[i]
        .bias
        .as_ref()
        .and_then(|b| b.get(&[o][..]).copied())
    else {
        return;
    };
    let (b, y) = (own_magnitude(bias, 4), own_magnitude(e.recorded, 4));
    let then = if g.cin > 1 {
        trf!("channel {c}'s part; the {count} channels' parts + b[{o}] = {b} add up to y[{r},{cc}] = {y}", c = c, count = g.cin, o = o, b = b, r = r, cc = cc, y = y)
    } else {
        format!("+ b[{o}] = {b}  →  y[{r},{cc}] = {y}")
    };
    let factors = Factors {
        left: tr("x under the window").into(),
        left_short: "x".into(),
        right: if g.cin > 1 {
            format!("F[{o},{c}]")
        } else {
            "F".into()
        },
        then: Some(then),
    };
    products_ui(ui, &e, (o, c), &factors);
}
