//! The panels of the window: controls, pipeline strip, the layer views,
//! plots and the explanation of a clicked cell. Every number drawn here comes
//! from the worker's snapshot (the engine's trace).

use egui::{Color32, RichText, Ui, Vec2};

use super::panels::pipeline::focus_layer;
use super::{BackpropApp, UiCommand};
use crate::engine::layers::LayerKind;
use crate::engine::stepper::Phase;
use crate::engine::trace::Trace;
use crate::i18n::tr;
use crate::trf;

pub const FORWARD: Color32 = Color32::from_rgb(60, 120, 216);

pub const BACKWARD: Color32 = Color32::from_rgb(230, 120, 20);

pub const UPDATE: Color32 = Color32::from_rgb(40, 160, 80);

/// The delta a layer hands down is `D{i+1}` (layer `i`, counted from 0, is
/// the question's L{i+1}); the loss's delta is `D{n+1}`.
pub fn delta_name(i: usize) -> String {
    format!("D{}", i + 1)
}

/// What the Backprop tab shows for the phase (or the clicked layer): the
/// layer's step as an equation of maps.
pub fn layer_view_ui(app: &mut BackpropApp, ui: &mut Ui) {
    let Some(s) = app.snapshot.clone() else {
        ui.label(tr("Loading the first batch…"));
        return;
    };
    // Predicting: the step stays covered until answered.
    if super::predict::covering(app) {
        super::predict::prompt_ui(app, ui);
        return;
    }
    if !app.settings.show_explain {
        super::predict::verdict_ui(app, ui);
    }
    let t = &s.trace;
    let i = focus_layer(app);
    let mode = match (app.view_layer, s.last) {
        (Some(_), _) if t.layers[i].delta.is_some() => "backward",
        (Some(_), _) => "forward",
        (None, Some(Phase::Backward(_))) => "backward",
        (None, Some(Phase::Loss)) => "loss",
        (None, Some(Phase::Update)) | (None, Some(Phase::Done)) => "update",
        _ => "forward",
    };
    if app.view_layer.is_some()
        && ui
            .button(tr("Follow the steps again"))
            .on_hover_text(tr("Go back to showing the layer of the current phase"))
            .clicked()
    {
        app.command(UiCommand::ViewLayer(None));
    }
    let avail = ui.available_size();
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
            let compact = super::panels::toolbar::compact(ui.ctx());
            match mode {
                "loss" => {
                    heading_ui(ui, compact, &trf!("Loss = {loss}: softmax turns the logits into probabilities; cross-entropy is −log p(label), averaged over the batch", loss = format!("{:.4}", t.loss.unwrap_or(f32::NAN))), BACKWARD);
                    let room = room(ui);
                    super::layer_views::loss_ui(app, ui, t, room);
                }
                "update" => super::update_view::update_ui(app, ui, t, avail),
                "backward" => {
                    heading_ui(ui, compact, &backward_heading(t, i), BACKWARD);
                    if !compact {
                        ui.label(backward_formula(&t.kinds[i]));
                    }
                    let room = room(ui);
                    match t.kinds[i] {
                        LayerKind::Conv { .. } => super::conv_view::backward_ui(app, ui, t, i, room),
                        LayerKind::Relu | LayerKind::Sigmoid | LayerKind::Tanh => {
                            super::layer_views::activation_backward_ui(app, ui, t, i, room)
                        }
                        LayerKind::Maxpool { .. } | LayerKind::Avgpool { .. } => {
                            super::layer_views::pool_backward_ui(app, ui, t, i, room)
                        }
                        LayerKind::Flatten => super::layer_views::flatten_backward_ui(app, ui, t, i, room),
                        LayerKind::Dense { .. } => super::layer_views::dense_backward_ui(app, ui, t, i, room),
                    }
                }
                _ => {
                    let heading = trf!(
                        "Forward through {name} ({kind})",
                        name = t.names[i],
                        kind = t.kinds[i].word()
                    );
                    heading_ui(ui, compact, &heading, FORWARD);
                    ui.label(forward_formula(&t.kinds[i]));
                    if s.last.is_none() {
                        ui.label(tr("Step layer computes this layer's output."));
                    }
                    let room = room(ui);
                    match t.kinds[i] {
                        LayerKind::Conv { .. } => super::conv_view::forward_ui(app, ui, t, i, room, s.last.is_some()),
                        _ => super::layer_views::forward_ui(app, ui, t, i, room),
                    }
                }
            }
            // The view the lesson points at, scrolled into sight.
            if let Some(rect) = app.lesson_mark().and_then(|m| app.marks.get(&m)) {
                // A few points of slack: a map flush with the edge is in sight.
                if !ui.clip_rect().expand(4.0).contains_rect(*rect) {
                    ui.scroll_to_rect(*rect, Some(egui::Align::Center));
                }
            }
        });
}

/// A view's title; none on a small window, where the phase line above
/// already says it and the maps need the room.
pub fn heading_ui(ui: &mut Ui, compact: bool, text: &str, colour: egui::Color32) {
    if !compact {
        ui.label(RichText::new(text).color(colour).heading());
    }
}

fn backward_heading(t: &Trace, i: usize) -> String {
    let name = &t.names[i];
    if i + 1 == t.names.len() {
        trf!(
            "Backward through {name}: {delta_in} arrives from the loss, {delta_out} leaves",
            name = name,
            delta_in = delta_name(i + 1),
            delta_out = delta_name(i)
        )
    } else {
        trf!(
            "Backward through {name}: {delta_in} arrives from {above}, {delta_out} leaves",
            name = name,
            delta_in = delta_name(i + 1),
            above = t.names[i + 1],
            delta_out = delta_name(i)
        )
    }
}

fn forward_formula(kind: &LayerKind) -> &'static str {
    match kind {
        LayerKind::Conv { .. } => tr("y = F ⋆ x + b: each output cell is the 3x3 (or 5x5) patch under the filter, multiplied cell by cell and summed."),
        LayerKind::Relu => tr("y = max(0, x): negative values become 0."),
        LayerKind::Sigmoid => "y = 1 / (1 + e^−x)",
        LayerKind::Tanh => "y = tanh x",
        LayerKind::Maxpool { .. } => tr("y = the largest value of each 2x2 window."),
        LayerKind::Avgpool { .. } => tr("y = the mean of each 2x2 window."),
        LayerKind::Flatten => tr("The maps are read row by row into one vector (channel, row, column)."),
        LayerKind::Dense { .. } => tr("y = W·x + b: every output sees every input."),
    }
}

fn backward_formula(kind: &LayerKind) -> &'static str {
    match kind {
        LayerKind::Conv { .. } => tr("dF = input ⋆ D (the input correlated with the delta from above, summed over the batch); D_below = full_conv(D, rot180(F))."),
        LayerKind::Relu => tr("D_below = D · ReLU′(x): the delta passes where the input was positive and is blocked elsewhere."),
        LayerKind::Sigmoid => "D_below = D · y(1 − y)",
        LayerKind::Tanh => "D_below = D · (1 − y²)",
        LayerKind::Maxpool { .. } => tr("Max pooling routes each delta to the cell that won its window; the other three get 0."),
        LayerKind::Avgpool { .. } => tr("Average pooling spreads each delta evenly over its window."),
        LayerKind::Flatten => tr("The 49-vector delta from the FC layer is reshaped back into the 7x7 maps the pooling layer understands."),
        LayerKind::Dense { .. } => tr("dW = δ·xᵀ (input times delta); D_below = Wᵀ·δ (delta times weights)."),
    }
}
