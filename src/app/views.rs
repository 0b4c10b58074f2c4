//! The panels of the window: controls, pipeline strip, the layer views,
//! plots and the explanation of a clicked cell. Every number drawn here comes
//! from the worker's snapshot (the engine's trace).

use egui::{Color32, RichText, Ui, Vec2};
use egui_plot::{Legend, Line, Plot, PlotPoints, Points};

use super::heatmap::{fmt_value, legend_ui, ColorScale, Heatmap};
use super::worker::{Snapshot, Speed};
use super::{BackpropApp, MessageKind, UiCommand};
use crate::engine::layers::LayerKind;
use crate::engine::optim::OptimizerKind;
use crate::engine::stepper::Phase;
use crate::engine::trace::Trace;
use crate::engine::Tensor;
use crate::explain::{explain, CellRef};

const FORWARD: Color32 = Color32::from_rgb(60, 120, 216);
const BACKWARD: Color32 = Color32::from_rgb(230, 120, 20);
const UPDATE: Color32 = Color32::from_rgb(40, 160, 80);

/// The delta a layer hands down is `D{i+1}` (layer `i`, counted from 0, is
/// the question's L{i+1}); the loss's delta is `D{n+1}`.
pub fn delta_name(i: usize) -> String {
    format!("D{}", i + 1)
}

/// The File and View menus: what a teacher sets once, out of the way.
pub fn menu_bar_ui(app: &mut BackpropApp, ui: &mut Ui) {
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| file_buttons_ui(app, ui));
        ui.menu_button("View", |ui| {
            ui.checkbox(&mut app.settings.projector, "Projector mode").on_hover_text("Everything larger, text in full contrast: readable from the back of the room (key P)");
            ui.checkbox(&mut app.settings.dark, "Dark theme").on_hover_text("Dark or light theme (light suits bright rooms and printed slides)");
            let mut safe = app.settings.palette == super::heatmap::Palette::BlueOrange;
            if ui.checkbox(&mut safe, "Colour-blind-safe colours").on_hover_text("Deltas and gradients in blue and orange instead of blue and red").changed() {
                app.settings.palette = if safe { super::heatmap::Palette::BlueOrange } else { super::heatmap::Palette::BlueRed };
            }
            ui.checkbox(&mut app.settings.show_plots, "Plots").on_hover_text("The loss and accuracy plots at the bottom (hide them on a small screen)");
            if ui.button("Keyboard shortcuts").on_hover_text("The keyboard shortcuts (? or F1)").clicked() {
                app.show_shortcuts = !app.show_shortcuts;
            }
        });
    });
}

pub fn controls_ui(app: &mut BackpropApp, ui: &mut Ui) {
    let running = app.snapshot.as_ref().is_some_and(|s| s.running);
    ui.horizontal_wrapped(|ui| {
        ui.heading("backprop-viz");
        ui.add_space(12.0);
        if ui.add_enabled(!running, egui::Button::new("Step layer")).on_hover_text("Run one phase: the next layer's forward or backward pass, the loss, or the update").clicked() {
            app.command(UiCommand::StepPhase);
        }
        if ui.add_enabled(!running, egui::Button::new("Step batch")).on_hover_text("Finish the current batch: all remaining phases up to the weight update").clicked() {
            app.command(UiCommand::StepBatch);
        }
        let run_label = if running { "Pause" } else { "Run" };
        if ui.button(run_label).on_hover_text("Train continuously (the views follow live), or pause").clicked() {
            app.command(if running { UiCommand::Pause } else { UiCommand::Run });
        }
        if ui.button("Reset").on_hover_text("Start again from the same seed: the same initial weights and batches").clicked() {
            app.command(UiCommand::Reset);
        }
        let (back, forward) = app.snapshot.as_ref().map(|s| (s.back_steps, s.forward_steps)).unwrap_or((0, 0));
        if ui.add_enabled(!running && back > 0, egui::Button::new("◀ Back")).on_hover_text(format!("Step back in time: every view shows the moment before ({back} steps kept; key ←)")).clicked() {
            app.command(UiCommand::Back);
        }
        if ui.add_enabled(!running, egui::Button::new("Forward ▶")).on_hover_text(format!("Step forward: replays what Back undid ({forward} steps), else steps a layer (key →)")).clicked() {
            app.command(UiCommand::Forward);
        }
        ui.separator();
        let speeds = [(Speed::PerSecond(1.0), "1 batch/s"), (Speed::PerSecond(5.0), "5 batches/s"), (Speed::PerSecond(20.0), "20 batches/s"), (Speed::Max, "as fast as possible")];
        let current = speeds.iter().find(|(s, _)| *s == app.speed).map(|(_, l)| *l).unwrap_or("custom");
        let label = ui.label("Speed:");
        egui::ComboBox::from_id_salt("speed").selected_text(current).show_ui(ui, |ui| {
            for (speed, label) in speeds {
                if ui.selectable_label(app.speed == speed, label).clicked() {
                    app.command(UiCommand::SetSpeed(speed));
                }
            }
        }).response.labelled_by(label.id).on_hover_text("How fast Run trains");
        let mut lr = app.config.lr;
        let label = ui.label("Learning rate:");
        let lr_response = ui.add(egui::Slider::new(&mut lr, 1e-4..=10.0).logarithmic(true)).labelled_by(label.id).on_hover_text("η: how far each update moves the weights against their gradient (applies at once)");
        if lr_response.changed() {
            app.command(UiCommand::SetLr(lr));
        }
        let mut freeze = app.config.freeze_conv;
        if ui.checkbox(&mut freeze, "Freeze conv filters").on_hover_text("Keep the conv filters at their initial values; only the FC layers learn (the question's experiment)").changed() {
            app.command(UiCommand::SetFreeze(freeze));
        }
    });
    ui.horizontal_wrapped(|ui| {
        let label = ui.label("Network:");
        let shown = if app.start_network.is_some() { "loaded model".to_string() } else { app.config.preset.clone() };
        egui::ComboBox::from_id_salt("preset").selected_text(shown).show_ui(ui, |ui| {
            for (preset, text) in [("seed", "seed (the question's network)"), ("lenet", "lenet (8 and 16 filters)")] {
                if ui.selectable_label(app.start_network.is_none() && app.config.preset == preset, text).clicked() {
                    // A preset replaces a loaded model on the next Reset.
                    app.config.preset = preset.to_string();
                    app.start_network = None;
                }
            }
        }).response.labelled_by(label.id).on_hover_text("Which network to build on Reset");
        let label = ui.label("Optimizer:");
        egui::ComboBox::from_id_salt("optimizer").selected_text(app.config.optimizer.name()).show_ui(ui, |ui| {
            for kind in [OptimizerKind::Sgd, OptimizerKind::Momentum, OptimizerKind::Adam] {
                ui.selectable_value(&mut app.config.optimizer, kind, kind.name());
            }
        }).response.labelled_by(label.id).on_hover_text("How the gradient turns into a step (applies on Reset)");
        let label = ui.label("Batch size:");
        ui.add(egui::DragValue::new(&mut app.config.batch).range(1..=512)).labelled_by(label.id).on_hover_text("Samples per batch (applies on Reset)");
        let label = ui.label("Seed:");
        ui.add(egui::DragValue::new(&mut app.config.seed).range(0..=1_000_000)).labelled_by(label.id).on_hover_text("Fixes the initial weights and the batch order (applies on Reset)");
        if ui.button("Load pretrained model").on_hover_text("Replace the network by the trained model that ships with the program (useful for drawing)").clicked() {
            app.command(UiCommand::LoadPretrained);
        }
        ui.separator();
        if let Some(snapshot) = &app.snapshot {
            let n = snapshot.trace.batch_size();
            if n > 1 {
                let mut sample = app.sample;
                let label = ui.label("Sample in batch:");
                ui.add(egui::Slider::new(&mut sample, 0..=n - 1)).labelled_by(label.id).on_hover_text("Which sample of the batch the maps show");
                app.sample = sample;
                if let Some(&digit) = snapshot.trace.labels.get(app.sample) {
                    ui.label(format!("label {digit}"));
                }
            }
        }
    });
}

/// The layer the views are about: the clicked block, else the phase's layer.
pub fn focus_layer(app: &BackpropApp) -> usize {
    let Some(s) = &app.snapshot else { return 0 };
    let n = s.trace.names.len();
    app.view_layer.unwrap_or(match s.last {
        Some(Phase::Forward(i)) | Some(Phase::Backward(i)) => i,
        Some(Phase::Loss) => n - 1,
        Some(Phase::Update) | Some(Phase::Done) | None => match s.next {
            Phase::Forward(i) | Phase::Backward(i) => i,
            _ => 0,
        },
    })
}

fn shape_text(shape: &[usize]) -> String {
    shape
        .iter()
        .skip(1)
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("x")
}

/// The network as blocks with their shapes; the block in focus highlighted,
/// the arrow the numbers travel along coloured by direction.
pub fn pipeline_ui(app: &mut BackpropApp, ui: &mut Ui) {
    let Some(s) = app.snapshot.as_ref() else {
        ui.label("Starting…");
        return;
    };
    let focus = focus_layer(app);
    let shapes = s.network.shapes();
    let (backward, colour) = match s.last {
        Some(Phase::Backward(_)) => (true, BACKWARD),
        Some(Phase::Update) => (false, UPDATE),
        _ => (false, FORWARD),
    };
    let mut clicked = None;
    ui.horizontal_wrapped(|ui| {
        ui.label(
            RichText::new(format!("input\n{}", shape_text(s.trace.input.shape()))).monospace(),
        );
        for (i, name) in s.trace.names.iter().enumerate() {
            let arrow_active = i == focus;
            let arrow = if backward { "←" } else { "→" };
            ui.label(RichText::new(arrow).size(22.0).color(if arrow_active {
                colour
            } else {
                Color32::GRAY
            }));
            let shape = shapes
                .get(i)
                .map(|d| {
                    d.iter()
                        .map(|x| x.to_string())
                        .collect::<Vec<_>>()
                        .join("x")
                })
                .unwrap_or_default();
            let text = RichText::new(format!("{name}\n{shape}")).monospace();
            let text = if i == focus {
                text.color(Color32::WHITE).strong()
            } else {
                text
            };
            let button = egui::Button::new(text).fill(if i == focus {
                colour
            } else {
                ui.visuals().widgets.inactive.bg_fill
            });
            if ui
                .add(button)
                .on_hover_text(format!(
                    "{name}: {} — click to look at this layer",
                    s.trace.kinds[i].word()
                ))
                .clicked()
            {
                clicked = Some(i);
            }
        }
        ui.label(RichText::new(if backward { "← loss" } else { "→ loss" }).size(18.0));
    });
    if let Some(i) = clicked {
        app.command(UiCommand::ViewLayer(Some(i)));
    }
}

/// One sentence: where the numbers are and which way they travel.
pub fn phase_text(s: &Snapshot) -> String {
    let t = &s.trace;
    let n = t.names.len();
    let who = |i: usize| format!("{} (L{})", t.names[i], i + 1);
    let base = match s.last {
        None => format!("A batch of {} samples is loaded. Press Step layer to send it forward into {}.", t.batch_size(), who(0)),
        Some(Phase::Forward(i)) => format!(
            "Forward · {} of {n}: {} turned its input into its output{}.",
            i + 1,
            who(i),
            if i + 1 < n { format!(", which goes on to {}", who(i + 1)) } else { ", the 10 logits".into() }
        ),
        Some(Phase::Loss) => format!(
            "Loss: softmax + cross-entropy = {:.4}. Its delta {} = (p − one_hot)/N starts the backward pass.",
            t.loss.unwrap_or(f32::NAN),
            delta_name(n)
        ),
        Some(Phase::Backward(i)) => {
            let from = if i + 1 == n { format!("{} from the loss", delta_name(n)) } else { format!("{} from {}", delta_name(i + 1), who(i + 1)) };
            let to = if i == 0 { "to the input (nothing below learns from it)".to_string() } else { format!("to {}", who(i - 1)) };
            format!("Backward: {} received {from} and handed {} {to}.", who(i), delta_name(i))
        }
        Some(Phase::Update) | Some(Phase::Done) => format!(
            "Update: every weight moved against its gradient (η = {}). Step layer starts the next batch.",
            fmt_value(t.lr)
        ),
    };
    let mut text = base;
    if s.teaching {
        text = format!("Teaching your drawing · {text}");
    }
    text
}

pub fn phase_line_ui(app: &BackpropApp, ui: &mut Ui) {
    if let Some(s) = &app.snapshot {
        let colour = match s.last {
            Some(Phase::Backward(_)) | Some(Phase::Loss) => BACKWARD,
            Some(Phase::Update) => UPDATE,
            _ => FORWARD,
        };
        ui.horizontal_wrapped(|ui| {
            ui.label(
                RichText::new(phase_text(s))
                    .size(18.0)
                    .color(colour)
                    .strong(),
            );
            ui.label(format!(
                "· epoch {}, batch {}, {} of {} samples",
                s.epoch + 1,
                s.batches,
                s.position,
                s.epoch_len
            ));
        });
        for (i, kind) in s.trace.kinds.iter().enumerate() {
            if matches!(kind, LayerKind::Relu)
                && i > 0
                && matches!(s.trace.kinds[i - 1], LayerKind::Conv { .. })
            {
                let dead = s.trace.dead_channels(i);
                if !dead.is_empty() {
                    ui.label(RichText::new(format!(
                        "⚠ {}: filter(s) {dead:?} of {} are dead: their ReLU output is 0 for every sample, so no delta passes back and their dF is 0 — they cannot learn. Reset with another seed, or a smaller learning rate.",
                        s.trace.names[i], s.trace.names[i - 1]
                    )).color(Color32::from_rgb(220, 60, 60)));
                }
            }
        }
    }
}

pub fn message_ui(app: &mut BackpropApp, ui: &mut Ui, kind: MessageKind, text: &str) {
    let colour = match kind {
        MessageKind::Info => Color32::from_rgb(60, 140, 220),
        MessageKind::Warning => Color32::from_rgb(220, 160, 30),
        MessageKind::Error => Color32::from_rgb(220, 60, 60),
    };
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(text).color(colour).strong());
        if ui
            .button("Dismiss")
            .on_hover_text("Hide this message")
            .clicked()
        {
            app.message = None;
        }
    });
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
    ui.vertical(|ui| {
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
    ui.vertical(|ui| {
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
        ui.label("Loading the first batch…");
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
            .button("Follow the steps again")
            .on_hover_text("Go back to showing the layer of the current phase")
            .clicked()
    {
        app.command(UiCommand::ViewLayer(None));
    }
    egui::ScrollArea::both()
        .id_salt("layer view")
        .show(ui, |ui| match mode {
            "loss" => loss_view(app, ui, t, Vec2::new(avail.x * 0.55, third.y)),
            "update" => update_view(app, ui, t, avail),
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
        RichText::new(format!("Forward through {name} ({})", t.kinds[i].word()))
            .heading()
            .color(FORWARD),
    );
    ui.label(forward_formula(&t.kinds[i]));
    ui.horizontal_top(|ui| {
        if let Some(x) = t.layer_input(i).cloned() {
            let below = if i == 0 {
                "the image".to_string()
            } else {
                format!("output of {}", t.names[i - 1])
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
            tensor_ui(app, ui, &format!("input ({below})"), &x, false, size, &make);
        }
        if let Some(w) = t.layers[i].weight.clone() {
            weights_ui(app, ui, &format!("{name} weights F"), &w, None, size);
        }
        if nothing_yet {
            ui.label("Step layer computes this layer's output.");
        } else if let Some(y) = t.layers[i].out.clone() {
            let make = move |index: Vec<usize>| CellRef::Output { layer: i, index };
            tensor_ui(
                app,
                ui,
                &format!("output of {name}"),
                &y,
                false,
                size,
                &make,
            );
        }
    });
}

fn forward_formula(kind: &LayerKind) -> &'static str {
    match kind {
        LayerKind::Conv { .. } => "y = F ⋆ x + b: each output cell is the 3x3 (or 5x5) patch under the filter, multiplied cell by cell and summed.",
        LayerKind::Relu => "y = max(0, x): negative values become 0.",
        LayerKind::Sigmoid => "y = 1 / (1 + e^−x)",
        LayerKind::Tanh => "y = tanh x",
        LayerKind::Maxpool { .. } => "y = the largest value of each 2x2 window.",
        LayerKind::Avgpool { .. } => "y = the mean of each 2x2 window.",
        LayerKind::Flatten => "The maps are read row by row into one vector (channel, row, column).",
        LayerKind::Dense { .. } => "y = W·x + b: every output sees every input.",
    }
}

fn backward_view(app: &mut BackpropApp, ui: &mut Ui, t: &Trace, i: usize, size: Vec2) {
    let n_layers = t.names.len();
    let name = t.names[i].clone();
    let above = if i + 1 == n_layers {
        "the loss".to_string()
    } else {
        t.names[i + 1].clone()
    };
    ui.label(
        RichText::new(format!(
            "Backward through {name}: {} arrives from {above}, {} leaves",
            delta_name(i + 1),
            delta_name(i)
        ))
        .heading()
        .color(BACKWARD),
    );
    ui.label(backward_formula(&t.kinds[i]));
    ui.horizontal_top(|ui| {
        if let Some(d) = t.delta_from_above(i).cloned() {
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
            tensor_ui(
                app,
                ui,
                &format!("{} from {above}", delta_name(i + 1)),
                &d,
                true,
                size,
                &make,
            );
        }
        match &t.kinds[i] {
            LayerKind::Relu => {
                if let Some(x) = t.layer_input(i) {
                    let mask = x.mapv(|v| if v > 0.0 { 1.0 } else { 0.0 });
                    let make = move |index: Vec<usize>| CellRef::Output { layer: i, index };
                    tensor_ui(
                        app,
                        ui,
                        "ReLU′(x): 1 where x > 0 (white), else 0",
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
                        "pool input: each window's largest value wins the delta",
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
                    weights_ui(
                        app,
                        ui,
                        &format!("{what} of {name} (whole batch) — click a cell"),
                        &g,
                        Some(i),
                        size,
                    );
                    if let Some(share) = t.sample_weight_grad(i, app.sample) {
                        weights_ui(
                            app,
                            ui,
                            &format!("{what}: sample {}'s share", app.sample),
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
            let to = if i == 0 {
                "the input".to_string()
            } else {
                t.names[i - 1].clone()
            };
            tensor_ui(
                app,
                ui,
                &format!("{} handed to {to}", delta_name(i)),
                &d,
                true,
                size,
                &make,
            );
        } else if i == 0 {
            ui.label("The first layer's input needs no delta.");
        }
    });
}

fn backward_formula(kind: &LayerKind) -> &'static str {
    match kind {
        LayerKind::Conv { .. } => "dF = input ⋆ D (the input correlated with the delta from above, summed over the batch); D_below = full_conv(D, rot180(F)).",
        LayerKind::Relu => "D_below = D · ReLU′(x): the delta passes where the input was positive and is blocked elsewhere.",
        LayerKind::Sigmoid => "D_below = D · y(1 − y)",
        LayerKind::Tanh => "D_below = D · (1 − y²)",
        LayerKind::Maxpool { .. } => "Max pooling routes each delta to the cell that won its window; the other three get 0.",
        LayerKind::Avgpool { .. } => "Average pooling spreads each delta evenly over its window.",
        LayerKind::Flatten => "The 49-vector delta from the FC layer is reshaped back into the 7x7 maps the pooling layer understands.",
        LayerKind::Dense { .. } => "dW = δ·xᵀ (input times delta); D_below = Wᵀ·δ (delta times weights).",
    }
}

fn loss_view(app: &mut BackpropApp, ui: &mut Ui, t: &Trace, size: Vec2) {
    ui.label(RichText::new(format!("Loss = {:.4}: softmax turns the logits into probabilities; cross-entropy is −log p(label), averaged over the batch", t.loss.unwrap_or(f32::NAN))).heading().color(BACKWARD));
    ui.horizontal_top(|ui| {
        if let Some(p) = t.probs.clone() {
            let label = t.labels.get(app.sample).copied().unwrap_or(0);
            ui.vertical(|ui| {
                ui.label(
                    RichText::new(format!(
                        "probabilities of sample {} (label {label})",
                        app.sample
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

fn update_view(app: &mut BackpropApp, ui: &mut Ui, t: &Trace, avail: Vec2) {
    ui.label(
        RichText::new("Update: each weight moves against its gradient")
            .heading()
            .color(UPDATE),
    );
    let size = Vec2::new((avail.x / 4.0 - 16.0).max(100.0), 220.0);
    for (i, layer) in t.layers.iter().enumerate() {
        let (Some(w), Some(g), Some(after)) =
            (&layer.weight, &layer.weight_grad, &layer.weight_after)
        else {
            continue;
        };
        ui.label(RichText::new(format!("{} ({})", t.names[i], t.kinds[i].word())).strong());
        let step = (after.as_ref() - w.as_ref()).into_dyn();
        ui.horizontal_top(|ui| {
            weights_ui(
                app,
                ui,
                &format!("F before ({})", t.names[i]),
                w,
                None,
                size,
            );
            weights_ui(app, ui, &format!("dF ({})", t.names[i]), g, Some(i), size);
            weights_ui(
                app,
                ui,
                &format!("step taken = F_new − F ({})", t.names[i]),
                &step,
                None,
                size,
            );
            weights_ui(
                app,
                ui,
                &format!("F new ({})", t.names[i]),
                after,
                None,
                size,
            );
        });
        ui.separator();
    }
    ui.label(format!("With SGD the step is exactly −η·dF (η = {}); momentum and Adam reshape it from past gradients.", fmt_value(t.lr)));
}

/// The clicked cell, how it was computed, from the trace.
pub fn explanation_ui(app: &mut BackpropApp, ui: &mut Ui) {
    ui.heading("How was this number computed?");
    let (Some(s), Some(cell)) = (app.snapshot.clone(), app.selected.clone()) else {
        ui.label("Click any cell of a dF map, a delta or a feature map: this panel shows the sum of products that made it, with the real numbers.");
        return;
    };
    let Some(e) = explain(&s.trace, &cell, app.sample) else {
        ui.label("That cell has no computation to show yet (its phase has not run in this batch).");
        return;
    };
    egui::ScrollArea::vertical()
        .id_salt("explanation")
        .show(ui, |ui| {
            ui.label(RichText::new(&e.title).strong().size(18.0));
            ui.label(RichText::new(&e.formula).monospace());
            ui.separator();
            ui.label(format!(
                "largest terms for sample {} ({} non-zero terms):",
                app.sample, e.term_count
            ));
            egui::Grid::new("terms").striped(true).show(ui, |ui| {
                for term in &e.terms {
                    ui.label(RichText::new(&term.label).monospace());
                    ui.label(RichText::new(fmt_value(term.value)).monospace());
                    ui.end_row();
                }
            });
            ui.separator();
            ui.label(format!("sample {}'s sum: {}", app.sample, e.sample_sum));
            ui.label(format!("all terms added up: {}", e.total));
            let check = if e.agrees() {
                "✓ equals the trace"
            } else {
                "✗ differs from the trace"
            };
            ui.label(RichText::new(format!("value in the trace: {} {check}", e.recorded)).strong());
            for note in &e.notes {
                ui.label(note);
            }
            if let CellRef::WeightGrad { layer, index } = &cell {
                gradcheck_ui(app, ui, &s.trace, &cell, *layer, index);
            }
            ui.separator();
            if let Some((name, tensor)) = selected_tensor(&s.trace, &cell) {
                if ui
                    .button(format!("Export {name} as CSV…"))
                    .on_hover_text("The whole tensor this cell belongs to, one row per value: its indices, then the value")
                    .clicked()
                {
                    let csv = crate::app::files::tensor_csv(&tensor).into_bytes();
                    app.files.save_dialog(ui.ctx(), "Export a tensor as CSV", &format!("{name}.csv"), csv);
                }
            }
        });
}

/// Loss per batch and accuracy per epoch, kept across Run and Pause.
pub fn plots_ui(app: &mut BackpropApp, ui: &mut Ui) {
    ui.columns(2, |cols| {
        let losses = app.history.losses.clone();
        Plot::new("loss per batch")
            .x_axis_label("batch")
            .y_axis_label("loss")
            .include_y(0.0)
            .legend(Legend::default())
            .show(&mut cols[0], |plot| {
                plot.line(Line::new("training loss", PlotPoints::from(losses)));
            });
        let train: Vec<[f64; 2]> = app
            .history
            .epochs
            .iter()
            .map(|&(e, tr, _)| [e as f64, tr as f64 * 100.0])
            .collect();
        let test: Vec<[f64; 2]> = app
            .history
            .epochs
            .iter()
            .map(|&(e, _, te)| [e as f64, te as f64 * 100.0])
            .collect();
        Plot::new("accuracy per epoch")
            .x_axis_label("epoch")
            .y_axis_label("accuracy %")
            .include_y(0.0)
            .include_y(100.0)
            .legend(Legend::default())
            .show(&mut cols[1], |plot| {
                plot.line(Line::new("train", PlotPoints::from(train.clone())));
                plot.points(Points::new("train", PlotPoints::from(train)).radius(4.0));
                plot.line(Line::new("test", PlotPoints::from(test.clone())));
                plot.points(Points::new("test", PlotPoints::from(test)).radius(4.0));
            });
    });
}

/// Save / open a model and export the current step.
fn file_buttons_ui(app: &mut BackpropApp, ui: &mut Ui) {
    let ctx = ui.ctx().clone();
    if ui
        .button("Save model…")
        .on_hover_text("Write the network as it is now (safetensors; loads in PyTorch unchanged)")
        .clicked()
    {
        if let Some(s) = &app.snapshot {
            app.files.save_dialog(
                &ctx,
                "Save the model",
                "model.safetensors",
                crate::io::model_bytes(&s.network),
            );
        }
    }
    if ui
        .button("Export view as PNG…")
        .on_hover_text("A picture of the window as it is now, for slides")
        .clicked()
    {
        app.files.export_view_png(&ctx);
        ui.close();
    }
    if ui
        .button("Open model…")
        .on_hover_text("Start from a saved model (Reset returns to it)")
        .clicked()
    {
        app.files.open_model_dialog(&ctx);
    }
    if ui
        .button("Export trace…")
        .on_hover_text(
            "Every number of the current step (safetensors trace, as `backprop-viz trace` writes)",
        )
        .clicked()
    {
        match app.snapshot.as_ref().map(|s| crate::io::trace_bytes(&s.trace)) {
            Some(Ok(bytes)) => app.files.save_dialog(&ctx, "Export the trace", "trace.safetensors", bytes),
            Some(Err(why)) => app.message = Some((MessageKind::Warning, format!("Nothing to export yet: {why}. Step through the loss and the backward pass first."))),
            None => {}
        }
    }
}

/// The traced tensor a cell belongs to, with its trace name.
pub fn selected_tensor(t: &Trace, cell: &CellRef) -> Option<(String, Tensor)> {
    let named = |layer: usize, what: &str, x: &Option<std::sync::Arc<Tensor>>| {
        Some((
            format!("{}.{what}", t.names.get(layer)?),
            x.as_deref()?.clone(),
        ))
    };
    match cell {
        CellRef::WeightGrad { layer, .. } => {
            named(*layer, "weight_grad", &t.layers.get(*layer)?.weight_grad)
        }
        CellRef::Delta { layer, .. } => named(*layer, "delta", &t.layers.get(*layer)?.delta),
        CellRef::Output { layer, .. } => named(*layer, "out", &t.layers.get(*layer)?.out),
        CellRef::Input { .. } => Some(("input".into(), t.input.as_ref().clone())),
        CellRef::LossDelta { .. } => {
            Some(("logits.delta".into(), t.logits_delta.as_deref()?.clone()))
        }
    }
}

/// The proof for one weight: backpropagation's number next to a central
/// finite difference on the same batch (computed on its own thread).
fn gradcheck_ui(
    app: &mut BackpropApp,
    ui: &mut Ui,
    trace: &Trace,
    cell: &CellRef,
    layer: usize,
    index: &[usize],
) {
    ui.separator();
    if let Some((for_cell, rx)) = &app.gradcheck {
        if let Ok(result) = rx.try_recv() {
            app.gradcheck_result = Some((for_cell.clone(), result));
            app.gradcheck = None;
        }
    }
    if ui.add_enabled(app.gradcheck.is_none(), egui::Button::new("Check with finite differences")).on_hover_text("Nudge this weight by ±ε, recompute the loss on the same batch, and compare (L(w+ε) − L(w−ε)) / 2ε with backpropagation's number").clicked() {
        let (tx, rx) = std::sync::mpsc::channel();
        let (trace, index, ctx) = (trace.clone(), index.to_vec(), ui.ctx().clone());
        std::thread::spawn(move || {
            let _ = tx.send(crate::engine::gradcheck::check_weight(&trace, layer, &index));
            ctx.request_repaint();
        });
        app.gradcheck = Some((cell.clone(), rx));
    }
    if app.gradcheck.is_some() {
        ui.spinner();
    }
    match &app.gradcheck_result {
        Some((for_cell, Some(fd))) if for_cell == cell => {
            ui.label(RichText::new(format!("backpropagation: {}", fd.analytic)).monospace());
            ui.label(
                RichText::new(format!(
                    "(L(w+ε) − L(w−ε)) / 2ε, ε = {}: {:.9}",
                    fd.eps, fd.numeric
                ))
                .monospace(),
            );
            ui.label(RichText::new(format!("relative error: {:.1e}", fd.relative_error)).strong());
        }
        Some((for_cell, None)) if for_cell == cell => {
            ui.label(
                "This weight cannot be checked in this step (its layer has no recorded weights).",
            );
        }
        _ => {}
    }
}
