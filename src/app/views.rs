//! The panels of the window: controls, pipeline strip, the layer views,
//! plots and the explanation of a clicked cell. Every number drawn here comes
//! from the worker's snapshot (the engine's trace).

use egui::{Color32, RichText, Ui, Vec2};

use super::heatmap::{legend_ui, ColorScale, Heatmap};
use super::lesson::Mark;
use super::panels::pipeline::focus_layer;
use super::{BackpropApp, UiCommand};
use crate::engine::layers::LayerKind;
use crate::engine::stepper::Phase;
use crate::engine::trace::Trace;
use crate::engine::Tensor;
use crate::explain::CellRef;
use crate::i18n::tr;
use crate::trf;

pub const FORWARD: Color32 = Color32::from_rgb(60, 120, 216);

pub const BACKWARD: Color32 = Color32::from_rgb(230, 120, 20);

pub const UPDATE: Color32 = Color32::from_rgb(40, 160, 80);

/// One figure of a view: a column `max.x` wide whatever room the row has
/// left, so that its title wraps to the figure, not to a sliver.
fn figure<R>(ui: &mut Ui, max: Vec2, add: impl FnOnce(&mut Ui) -> R) -> R {
    ui.allocate_ui_with_layout(
        Vec2::new(max.x, max.y + 80.0),
        egui::Layout::top_down(egui::Align::Min),
        add,
    )
    .inner
}

/// Draws `add` and records where, for the guided lesson to point at.
fn marked<R>(
    app: &mut BackpropApp,
    ui: &mut Ui,
    mark: Mark,
    add: impl FnOnce(&mut BackpropApp, &mut Ui) -> R,
) -> R {
    let inner = ui.scope(|ui| add(app, ui));
    app.mark(mark, inner.response.rect);
    inner.inner
}

/// The delta a layer hands down is `D{i+1}` (layer `i`, counted from 0, is
/// the question's L{i+1}); the loss's delta is `D{n+1}`.
pub fn delta_name(i: usize) -> String {
    format!("D{}", i + 1)
}

/// `[C, H, W]` or `[F]` of one sample as maps to draw: `(rows, cols, maps)`.
fn sample_maps(t: &Tensor, n: usize) -> (usize, usize, Vec<Vec<f32>>) {
    let s = t.index_axis(ndarray::Axis(0), n.min(t.shape()[0].saturating_sub(1)));
    match s.shape() {
        [c, h, w] => {
            let maps = (0..*c)
                .map(|k| s.index_axis(ndarray::Axis(0), k).iter().copied().collect())
                .collect();
            (*h, *w, maps)
        }
        [f] => {
            let side = (*f as f64).sqrt() as usize;
            let cols = if side * side == *f {
                side
            } else {
                (*f).min(16)
            };
            let mut values: Vec<f32> = s.iter().copied().collect();
            let rows = f.div_ceil(cols);
            values.resize(rows * cols, 0.0);
            (rows, cols, vec![values])
        }
        _ => (1, 1, vec![vec![0.0]]),
    }
}

/// Which cell of the traced tensor a click on map `k`, `(r, c)` means.
fn cell_index(
    t: &Tensor,
    n: usize,
    k: usize,
    r: usize,
    c: usize,
    cols: usize,
) -> Option<Vec<usize>> {
    match t.ndim() {
        4 => Some(vec![n, k, r, c]),
        2 => {
            let f = r * cols + c;
            (f < t.shape()[1]).then(|| vec![n, f])
        }
        _ => None,
    }
}

/// Draws one sample of a traced tensor as heatmaps (one per channel) with a
/// shared colour scale; clicks become `make(index)` selections.
fn tensor_ui(
    app: &mut BackpropApp,
    ui: &mut Ui,
    title: &str,
    t: &Tensor,
    diverging: bool,
    max: Vec2,
    make: &dyn Fn(Vec<usize>) -> CellRef,
) {
    let n = app.sample;
    let (rows, cols, maps) = sample_maps(t, n);
    let all: Vec<f32> = maps.iter().flatten().copied().collect();
    let scale = if diverging {
        ColorScale::diverging(&all)
    } else {
        ColorScale::auto(&all)
    };
    let selected = app.selected.clone();
    figure(ui, max, |ui| {
        ui.label(RichText::new(title).strong());
        legend_ui(ui, scale);
        let per_row = if maps.len() > 1 {
            ((max.x / (cols as f32 * 6.0 + 8.0)) as usize).clamp(1, maps.len())
        } else {
            1
        };
        let map_rows = maps.len().div_ceil(per_row);
        let box_size = Vec2::new(max.x / per_row as f32 - 8.0, max.y / map_rows as f32 - 8.0);
        for chunk in maps.chunks(per_row).enumerate() {
            let (row_index, chunk) = chunk;
            ui.horizontal(|ui| {
                for (j, map) in chunk.iter().enumerate() {
                    let k = row_index * per_row + j;
                    let sel = selected.as_ref().and_then(|cell| match cell {
                        CellRef::Delta { index, .. }
                        | CellRef::Output { index, .. }
                        | CellRef::Input { index }
                        | CellRef::LossDelta { index }
                            if make(index.clone()) == *cell =>
                        {
                            match index.len() {
                                4 if index[1] == k && index[0] == n => Some((index[2], index[3])),
                                2 if index[0] == n => Some((index[1] / cols, index[1] % cols)),
                                _ => None,
                            }
                        }
                        _ => None,
                    });
                    let label = if maps.len() > 1 {
                        format!("{title} {k}")
                    } else {
                        title.to_string()
                    };
                    let largest = if rows == 1 { 64.0 } else { 44.0 };
                    let r = Heatmap::new(map, rows, cols, label)
                        .scale(scale)
                        .fit(box_size, largest)
                        .selected(sel)
                        .show(ui);
                    if let Some((r, c)) = r.clicked {
                        if let Some(index) = cell_index(t, n, k, r, c, cols) {
                            app.command(UiCommand::Select(Some(make(index))));
                        }
                    }
                }
            });
        }
    });
}

/// A conv filter bank `[Cout, Cin, K, K]` or dense matrix as heatmaps; clicks
/// on a gradient select `WeightGrad` cells.
fn weights_ui(
    app: &mut BackpropApp,
    ui: &mut Ui,
    title: &str,
    w: &Tensor,
    layer: Option<usize>,
    max: Vec2,
) {
    let all: Vec<f32> = w.iter().copied().collect();
    let scale = ColorScale::diverging(&all);
    let selected = match (&app.selected, layer) {
        (Some(CellRef::WeightGrad { layer: l, index }), Some(layer)) if *l == layer => {
            Some(index.clone())
        }
        _ => None,
    };
    figure(ui, max, |ui| {
        ui.label(RichText::new(title).strong());
        legend_ui(ui, scale);
        match *w.shape() {
            [cout, cin, k, _] => {
                let cell = ((max.x / (cin.min(8) as f32 * (k as f32 + 0.5)))
                    .min(max.y / (cout.min(16) as f32 * (k as f32 + 0.5))))
                .clamp(6.0, 72.0);
                egui::ScrollArea::vertical()
                    .id_salt(title)
                    .max_height(max.y)
                    .show(ui, |ui| {
                        for o in 0..cout {
                            ui.horizontal(|ui| {
                                for c in 0..cin {
                                    let values: Vec<f32> =
                                        (0..k * k).map(|t| w[[o, c, t / k, t % k]]).collect();
                                    let sel = selected
                                        .as_ref()
                                        .filter(|i| i[0] == o && i[1] == c)
                                        .map(|i| (i[2], i[3]));
                                    let r =
                                        Heatmap::new(&values, k, k, format!("{title} [{o},{c}]"))
                                            .scale(scale)
                                            .cell_size(cell)
                                            .selected(sel)
                                            .show(ui);
                                    if let (Some((u, v)), Some(layer)) = (r.clicked, layer) {
                                        app.command(UiCommand::Select(Some(CellRef::WeightGrad {
                                            layer,
                                            index: vec![o, c, u, v],
                                        })));
                                    }
                                }
                            });
                        }
                    });
            }
            [out, inp] => {
                let sel = selected.as_ref().map(|i| (i[0], i[1]));
                let r = Heatmap::new(&all, out, inp, title)
                    .scale(scale)
                    .fit(max, 40.0)
                    .selected(sel)
                    .show(ui);
                if let (Some((o, k)), Some(layer)) = (r.clicked, layer) {
                    app.command(UiCommand::Select(Some(CellRef::WeightGrad {
                        layer,
                        index: vec![o, k],
                    })));
                }
            }
            _ => {}
        }
    });
}

/// What the Backprop tab shows for the phase (or the clicked layer).
pub fn layer_view_ui(app: &mut BackpropApp, ui: &mut Ui) {
    let Some(s) = app.snapshot.clone() else {
        ui.label(tr("Loading the first batch…"));
        return;
    };
    let t = &s.trace;
    let i = focus_layer(app);
    let avail = ui.available_size();
    let third = Vec2::new(
        (avail.x / 3.0 - 16.0).max(120.0),
        (avail.y - 80.0).max(120.0),
    );
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
    egui::ScrollArea::both()
        .id_salt("layer view")
        .show(ui, |ui| {
            // Text wraps at the visible width; only the figures scroll sideways.
            ui.set_max_width(avail.x);
            match mode {
                "loss" => marked(app, ui, Mark::Loss, |app, ui| {
                    loss_view(app, ui, t, Vec2::new(avail.x * 0.55, third.y))
                }),
                "update" => marked(app, ui, Mark::Update, |app, ui| {
                    super::update_view::update_ui(app, ui, t, avail)
                }),
                "backward" => {
                    let figures =
                        if matches!(t.kinds[i], LayerKind::Conv { .. } | LayerKind::Dense { .. }) {
                            4.0
                        } else {
                            3.0
                        };
                    let size = Vec2::new((avail.x / figures - 16.0).max(100.0), third.y);
                    backward_view(app, ui, t, i, size)
                }
                _ => forward_view(app, ui, t, i, third, s.last.is_none()),
            }
        });
}

fn forward_view(
    app: &mut BackpropApp,
    ui: &mut Ui,
    t: &Trace,
    i: usize,
    size: Vec2,
    nothing_yet: bool,
) {
    let name = t.names[i].clone();
    ui.label(
        RichText::new(trf!(
            "Forward through {name} ({kind})",
            name = name,
            kind = t.kinds[i].word()
        ))
        .heading()
        .color(FORWARD),
    );
    ui.label(forward_formula(&t.kinds[i]));
    if matches!(t.kinds[i], LayerKind::Conv { .. }) {
        let used = ui.cursor().top() - ui.min_rect().top();
        let room = Vec2::new(ui.available_width(), size.y + 80.0 - used - 4.0);
        super::conv_view::forward_ui(app, ui, t, i, room, !nothing_yet);
        return;
    }
    ui.horizontal_top(|ui| {
        if let Some(x) = t.layer_input(i).cloned() {
            let title = if i == 0 {
                tr("input (the image)").to_string()
            } else {
                trf!("input (output of {layer})", layer = t.names[i - 1])
            };
            let make = move |index: Vec<usize>| {
                if i == 0 {
                    CellRef::Input { index }
                } else {
                    CellRef::Output {
                        layer: i - 1,
                        index,
                    }
                }
            };
            tensor_ui(app, ui, &title, &x, false, size, &make);
        }
        if let Some(w) = t.layers[i].weight.clone() {
            let title = trf!("{name} weights F", name = name);
            marked(app, ui, Mark::Filter, |app, ui| {
                weights_ui(app, ui, &title, &w, None, size)
            });
        }
        if nothing_yet {
            ui.label(tr("Step layer computes this layer's output."));
        } else if let Some(y) = t.layers[i].out.clone() {
            let make = move |index: Vec<usize>| CellRef::Output { layer: i, index };
            let title = trf!("output of {name}", name = name);
            marked(app, ui, Mark::Output, |app, ui| {
                tensor_ui(app, ui, &title, &y, false, size, &make)
            });
        }
    });
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

fn backward_view(app: &mut BackpropApp, ui: &mut Ui, t: &Trace, i: usize, size: Vec2) {
    let n_layers = t.names.len();
    let name = t.names[i].clone();
    let from_loss = i + 1 == n_layers;
    let heading = if from_loss {
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
    };
    let compact = super::panels::toolbar::compact(ui.ctx());
    let conv = matches!(t.kinds[i], LayerKind::Conv { .. });
    // On a small window the phase line above already says it.
    if !(compact && conv) {
        ui.label(RichText::new(heading).heading().color(BACKWARD));
    }
    // A conv layer's equations say it with maps.
    if !(compact && conv) {
        ui.label(backward_formula(&t.kinds[i]));
    }
    if matches!(t.kinds[i], LayerKind::Conv { .. }) {
        // The whole view's height (`size` leaves 80 points for text) less
        // what the heading took.
        let used = ui.cursor().top() - ui.min_rect().top();
        let room = Vec2::new(ui.available_width(), size.y + 80.0 - used - 4.0);
        super::conv_view::backward_ui(app, ui, t, i, room);
        return;
    }
    ui.horizontal_top(|ui| {
        if let Some(d) = t.delta_from_above(i).cloned() {
            let from_above = if from_loss {
                trf!("{delta} from the loss", delta = delta_name(i + 1))
            } else {
                trf!(
                    "{delta} from {layer}",
                    delta = delta_name(i + 1),
                    layer = t.names[i + 1]
                )
            };
            let make = move |index: Vec<usize>| {
                if i + 1 == n_layers {
                    CellRef::LossDelta { index }
                } else {
                    CellRef::Delta {
                        layer: i + 1,
                        index,
                    }
                }
            };
            marked(app, ui, Mark::DeltaIn, |app, ui| {
                tensor_ui(app, ui, &from_above, &d, true, size, &make)
            });
        }
        match &t.kinds[i] {
            LayerKind::Relu => {
                if let Some(x) = t.layer_input(i) {
                    let mask = x.mapv(|v| if v > 0.0 { 1.0 } else { 0.0 });
                    let make = move |index: Vec<usize>| CellRef::Output { layer: i, index };
                    tensor_ui(
                        app,
                        ui,
                        tr("ReLU′(x): 1 where x > 0 (white), else 0"),
                        &mask,
                        false,
                        size,
                        &make,
                    );
                }
            }
            LayerKind::Maxpool { .. } => {
                if let Some(x) = t.layer_input(i).cloned() {
                    let make = move |index: Vec<usize>| CellRef::Delta { layer: i, index };
                    tensor_ui(
                        app,
                        ui,
                        tr("pool input: each window's largest value wins the delta"),
                        &x,
                        false,
                        size,
                        &make,
                    );
                }
            }
            LayerKind::Conv { .. } | LayerKind::Dense { .. } => {
                if let Some(g) = t.layers[i].weight_grad.clone() {
                    let what = if matches!(t.kinds[i], LayerKind::Conv { .. }) {
                        "dF"
                    } else {
                        "dW"
                    };
                    let title = trf!(
                        "{what} of {name} (whole batch) — click a cell",
                        what = what,
                        name = name
                    );
                    marked(app, ui, Mark::Gradient, |app, ui| {
                        weights_ui(app, ui, &title, &g, Some(i), size)
                    });
                    if let Some(share) = t.sample_weight_grad(i, app.sample) {
                        weights_ui(
                            app,
                            ui,
                            &trf!(
                                "{what}: sample {sample}'s share",
                                what = what,
                                sample = app.sample
                            ),
                            &share,
                            None,
                            size,
                        );
                    }
                }
            }
            _ => {}
        }
        if let Some(d) = t.layers[i].delta.clone() {
            let make = move |index: Vec<usize>| CellRef::Delta { layer: i, index };
            let title = if i == 0 {
                trf!("{delta} handed to the input", delta = delta_name(i))
            } else {
                trf!(
                    "{delta} handed to {layer}",
                    delta = delta_name(i),
                    layer = t.names[i - 1]
                )
            };
            marked(app, ui, Mark::DeltaDown, |app, ui| {
                tensor_ui(app, ui, &title, &d, true, size, &make)
            });
        } else if i == 0 {
            ui.label(tr("The first layer's input needs no delta."));
        }
    });
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

fn loss_view(app: &mut BackpropApp, ui: &mut Ui, t: &Trace, size: Vec2) {
    ui.label(RichText::new(trf!("Loss = {loss}: softmax turns the logits into probabilities; cross-entropy is −log p(label), averaged over the batch", loss = format!("{:.4}", t.loss.unwrap_or(f32::NAN)))).heading().color(BACKWARD));
    ui.horizontal_top(|ui| {
        if let Some(p) = t.probs.clone() {
            let label = t.labels.get(app.sample).copied().unwrap_or(0);
            ui.vertical(|ui| {
                ui.label(
                    RichText::new(trf!(
                        "probabilities of sample {sample} (label {label})",
                        sample = app.sample,
                        label = label
                    ))
                    .strong(),
                );
                ui.set_max_width(420.0);
                let row: Vec<f32> = (0..p.shape()[1]).map(|d| p[[app.sample, d]]).collect();
                super::draw_pad::probabilities_ui(ui, &row, Some(label));
            });
        }
        if let Some(d) = t.logits_delta.clone() {
            let n = t.names.len();
            let make = move |index: Vec<usize>| CellRef::LossDelta { index };
            tensor_ui(
                app,
                ui,
                &format!("{} = (p − one_hot) / N", delta_name(n)),
                &d,
                true,
                size,
                &make,
            );
        }
    });
}
