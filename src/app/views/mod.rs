//! The Backprop tab: the layer of the phase (or the clicked one) drawn as
//! an equation of maps — conv (`conv.rs`, and as its dense matrix in
//! `matrix.rs`), the other layers (`layers.rs`), the loss and the update
//! (`update.rs`). Every number drawn here comes from the worker's snapshot
//! (the engine's trace).

pub mod conv;
pub mod layers;
pub mod matrix;
pub mod norm;
pub mod transposed;
pub mod update;

use egui::{Ui, Vec2};

use crate::app::command::UiCommand;
use crate::app::cx::Cx;
use crate::app::style::{compact, heading_ui, BACKWARD, FORWARD};
use crate::engine::layers::LayerKind;
use crate::engine::stepper::Phase;
use crate::engine::trace::Trace;
use crate::i18n::tr;
use crate::teach::notation::Numbering;
use crate::trf;

/// What the Backprop tab keeps of its own: the matrix view's zoom, pick and
/// computed facts, and the conv row shown on a small window.
#[derive(Default)]
pub struct Views {
    pub matrix: matrix::MatrixView,
    /// Which of the answer's rows a small window shows.
    pub answer_rows: conv::AnswerRows,
    /// The layer whose update a small window shows.
    pub update_layer: Option<usize>,
}

/// What a view shows of a layer's step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Forward,
    Loss,
    Backward,
    Update,
}

impl Views {
    /// What the Backprop tab shows for the phase (or the clicked layer): the
    /// layer's step as an equation of maps.
    pub fn ui(&mut self, ui: &mut Ui, cx: &mut Cx) {
        // The view's width before anything is drawn (a long line above the
        // maps must not widen the room they are fitted to).
        let width = ui.available_width();
        let state = cx.state;
        let Some(s) = state.snapshot.as_ref() else {
            ui.label(tr("Loading the first batch…"));
            return;
        };
        // Predicting: the step stays covered until answered.
        if state.covering() {
            crate::app::widgets::prediction::prompt_ui(ui, cx);
            return;
        }
        // The verdict is in the explanation when it is a panel; in the
        // classroom the explanation is a drawer, closed until asked for.
        let t = &s.trace;
        let i = state.focus_layer();
        let mode = match (state.view_layer, s.last) {
            (Some(_), _) if t.layers[i].delta.is_some() => Mode::Backward,
            (Some(_), _) => Mode::Forward,
            (None, Some(Phase::Backward(_))) => Mode::Backward,
            (None, Some(Phase::Loss)) => Mode::Loss,
            (None, Some(Phase::Update)) | (None, Some(Phase::Done)) => Mode::Update,
            _ => Mode::Forward,
        };
        // On a small window the conv step's header carries the verdict (the
        // maps need the line).
        let in_header = compact(ui.ctx())
            && mode == Mode::Backward
            && matches!(t.kinds[i], LayerKind::Conv { .. })
            && !state.as_matrix;
        let classroom = state.settings.projector || state.lesson.open.is_some();
        if (!state.settings.show_explain || classroom) && !in_header {
            crate::app::widgets::prediction::verdict_ui(ui, cx);
        }
        if state.view_layer.is_some()
            && ui
                .button(tr("Follow the steps again"))
                .on_hover_text(tr("Go back to showing the layer of the current phase"))
                .clicked()
        {
            cx.command(UiCommand::ViewLayer(None));
        }
        let avail = Vec2::new(width, ui.available_height());
        egui::ScrollArea::both()
        .id_salt("layer view")
        .show(ui, |ui| {
            // Text wraps at the visible width; only the figures scroll sideways.
            ui.set_max_width(avail.x);
            let top = ui.min_rect().top();
            // What is left of the view's height below what was drawn so far.
            let room = |ui: &Ui| {
                Vec2::new(
                    avail.x,
                    (avail.y - (ui.cursor().top() - top) - 6.0).max(80.0),
                )
            };
            let compact = compact(ui.ctx());
            match mode {
                Mode::Loss => {
                    heading_ui(ui, compact, &trf!("Loss = {loss}: softmax turns the logits into probabilities; cross-entropy is −log p(label), averaged over the batch", loss = format!("{:.4}", t.loss.unwrap_or(f32::NAN))), BACKWARD);
                    let room = room(ui);
                    layers::loss_ui(cx, ui, t, room);
                }
                Mode::Update => update::update_ui(cx, &mut self.update_layer, ui, t, avail),
                Mode::Backward => {
                    heading_ui(ui, compact, &backward_heading(&state.numbering(&t.kinds), t, i), BACKWARD);
                    if !compact {
                        ui.label(backward_formula(&t.kinds[i]).as_ref());
                    }
                    let room = room(ui);
                    match t.kinds[i] {
                        LayerKind::Conv { .. } => conv::backward_ui(cx, &mut self.matrix, &mut self.answer_rows, ui, t, i, room),
                        LayerKind::Convtranspose { .. } => transposed::convtranspose_backward_ui(cx, ui, t, i, room),
                        LayerKind::Batchnorm { .. } => norm::batchnorm_backward_ui(cx, ui, t, i, room),
                        LayerKind::Relu | LayerKind::Sigmoid | LayerKind::Tanh => {
                            layers::activation_backward_ui(cx, ui, t, i, room)
                        }
                        LayerKind::Maxpool { .. } | LayerKind::Avgpool { .. } => {
                            layers::pool_backward_ui(cx, ui, t, i, room)
                        }
                        LayerKind::Flatten => layers::flatten_backward_ui(cx, ui, t, i, room),
                        LayerKind::Dense { .. } => {
                            layers::dense_backward_ui(cx, &mut self.answer_rows, ui, t, i, room)
                        }
                    }
                }
                Mode::Forward => {
                    let heading = trf!(
                        "Forward through {name} ({kind})",
                        name = t.names[i],
                        kind = t.kinds[i].word()
                    );
                    heading_ui(ui, compact, &heading, FORWARD);
                    crate::app::style::note_ui(ui, &forward_formula(&t.kinds[i]), false);
                    if s.last.is_none() {
                        ui.label(tr("Step layer computes this layer's output."));
                    }
                    let room = room(ui);
                    match t.kinds[i] {
                        LayerKind::Conv { .. } => conv::forward_ui(cx, ui, t, i, room, s.last.is_some()),
                        _ => layers::forward_ui(cx, ui, t, i, room),
                    }
                }
            }
            // The view the lesson points at, scrolled into sight.
            if let Some(rect) = state.lesson_mark().and_then(|m| cx.marked(m)) {
                // A few points of slack: a map flush with the edge is in sight.
                if !ui.clip_rect().expand(4.0).contains_rect(rect) {
                    ui.scroll_to_rect(rect, Some(egui::Align::Center));
                }
            }
        });
    }
}

fn backward_heading(num: &Numbering, t: &Trace, i: usize) -> String {
    let name = &t.names[i];
    if i + 1 == t.names.len() {
        trf!(
            "Backward through {name}: {delta_in} arrives from the loss, {delta_out} leaves",
            name = name,
            delta_in = num.delta(i + 1),
            delta_out = num.delta(i)
        )
    } else {
        trf!(
            "Backward through {name}: {delta_in} arrives from {above}, {delta_out} leaves",
            name = name,
            delta_in = num.delta(i + 1),
            above = t.names[i + 1],
            delta_out = num.delta(i)
        )
    }
}

fn forward_formula(kind: &LayerKind) -> std::borrow::Cow<'static, str> {
    // Windows other than the presets' 2x2 side by side say their size and
    // stride.
    if let Some((size, stride)) = kind.pool_window().filter(|&w| w != (2, 2)) {
        let max = matches!(kind, LayerKind::Maxpool { .. });
        return if max {
            trf!(
                "y = the largest value of each {size}x{size} window, the windows {stride} apart.",
                size = size,
                stride = stride
            )
        } else {
            trf!(
                "y = the mean of each {size}x{size} window, the windows {stride} apart.",
                size = size,
                stride = stride
            )
        }
        .into();
    }
    match kind {
        LayerKind::Conv { .. } => tr("y = F ⋆ x + b: each output cell is the 3x3 (or 5x5) patch under the filter, multiplied cell by cell and summed."),
        LayerKind::Convtranspose { .. } => tr("y = x scattered through F: every input cell adds x · F onto its window of the output, the windows S apart (a conv's backward pass, run forward)."),
        LayerKind::Batchnorm { .. } => tr("y = γ·z + β with z = (x − μ)/√(σ² + ε): each channel normalised by the batch's mean and variance."),
        LayerKind::Relu => tr("y = max(0, x): negative values become 0."),
        LayerKind::Sigmoid => "y = 1 / (1 + e^−x)",
        LayerKind::Tanh => "y = tanh x",
        LayerKind::Maxpool { .. } => tr("y = the largest value of each 2x2 window."),
        LayerKind::Avgpool { .. } => tr("y = the mean of each 2x2 window."),
        LayerKind::Flatten => tr("The maps are read row by row into one vector (channel, row, column)."),
        LayerKind::Dense { .. } => tr("y = W·x + b: every output sees every input."),
    }
    .into()
}

fn backward_formula(kind: &LayerKind) -> std::borrow::Cow<'static, str> {
    // (What overlapping windows change is the pool view's own line.)
    if kind.pool_window().is_some_and(|w| w != (2, 2)) {
        return if matches!(kind, LayerKind::Maxpool { .. }) {
            tr("Max pooling routes each delta to the cell that won its window; the window's other cells get 0.")
        } else {
            tr("Average pooling spreads each delta evenly over its window.")
        }
        .into();
    }
    match kind {
        LayerKind::Conv { stride, dilation, .. } if *stride > 1 && *dilation > 1 => tr("dF = input ⋆ D, each tap reading the input every S cells and the taps Dl apart; D_below = full_conv(D dilated by S, rot180(F) with its holes)."),
        LayerKind::Conv { stride, .. } if *stride > 1 => tr("dF = input ⋆ D, each tap reading the input every S cells (the stride); D_below = full_conv(D dilated by S: S−1 zeros between its cells, rot180(F))."),
        LayerKind::Conv { dilation, .. } if *dilation > 1 => tr("dF = input ⋆ D, the taps Dl cells apart (the dilation); D_below = full_conv(D, rot180(F) with its holes)."),
        LayerKind::Conv { .. } => tr("dF = input ⋆ D (the input correlated with the delta from above, summed over the batch); D_below = full_conv(D, rot180(F))."),
        LayerKind::Convtranspose { .. } => tr("D_below = D ⋆ F, the taps every S cells (the forward pass of the conv whose backward this layer is); dF = x ⋆ D, summed over the batch."),
        LayerKind::Batchnorm { .. } => tr("D_below = γ/s · (D − dβ/m − z·dγ/m), s = √(σ² + ε), z = (x − μ)/s: the delta, less its mean, less its part along z; dβ = Σ D, dγ = Σ D·z."),
        LayerKind::Relu => tr("D_below = D · ReLU′(x): the delta passes where the input was positive and is blocked elsewhere."),
        LayerKind::Sigmoid => "D_below = D · y(1 − y)",
        LayerKind::Tanh => "D_below = D · (1 − y²)",
        LayerKind::Maxpool { .. } => tr("Max pooling routes each delta to the cell that won its window; the other three get 0."),
        LayerKind::Avgpool { .. } => tr("Average pooling spreads each delta evenly over its window."),
        LayerKind::Flatten => tr("The 49-vector delta from the FC layer is reshaped back into the 7x7 maps the pooling layer understands."),
        LayerKind::Dense { .. } => tr("dW = δ·xᵀ (input times delta); D_below = Wᵀ·δ (delta times weights)."),
    }
    .into()
}
