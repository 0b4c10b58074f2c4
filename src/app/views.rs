//! The panels of the window: controls, pipeline strip, the layer views,
//! plots and the explanation of a clicked cell. Every number drawn here comes
//! from the worker's snapshot (the engine's trace).

use egui::{Color32, RichText, Ui, Vec2};
use egui_plot::{Legend, Line, Plot, PlotPoints, Points};

use super::heatmap::{fmt_value, legend_ui, ColorScale, Heatmap};
use super::lesson::Mark;
use super::worker::{Snapshot, Speed};
use super::{BackpropApp, MessageKind, UiCommand};
use crate::engine::layers::LayerKind;
use crate::engine::optim::OptimizerKind;
use crate::engine::stepper::Phase;
use crate::engine::trace::Trace;
use crate::engine::Tensor;
use crate::explain::{explain, CellRef};
use crate::i18n::tr;
use crate::trf;

const FORWARD: Color32 = Color32::from_rgb(60, 120, 216);
const BACKWARD: Color32 = Color32::from_rgb(230, 120, 20);
const UPDATE: Color32 = Color32::from_rgb(40, 160, 80);

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

/// The File and View menus: what a teacher sets once, out of the way.
pub fn menu_bar_ui(app: &mut BackpropApp, ui: &mut Ui) {
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button(tr("File"), |ui| file_buttons_ui(app, ui));
        ui.menu_button(tr("View"), |ui| {
            ui.checkbox(&mut app.settings.projector, tr("Projector mode")).on_hover_text(tr("Everything larger, text in full contrast: readable from the back of the room (key P)"));
            ui.add(egui::Slider::new(&mut app.settings.scale, 0.75..=2.0).text(tr("Size"))).on_hover_text(tr("Everything larger or smaller (projector mode multiplies it by 1.4)"));
            ui.checkbox(&mut app.settings.dark, tr("Dark theme")).on_hover_text(tr("Dark or light theme (light suits bright rooms and printed slides)"));
            let mut safe = app.settings.palette == super::heatmap::Palette::BlueOrange;
            if ui.checkbox(&mut safe, tr("Colour-blind-safe colours")).on_hover_text(tr("Deltas and gradients in blue and orange instead of blue and red")).changed() {
                app.settings.palette = if safe { super::heatmap::Palette::BlueOrange } else { super::heatmap::Palette::BlueRed };
            }
            ui.checkbox(&mut app.settings.show_plots, tr("Plots")).on_hover_text(tr("The loss and accuracy plots at the bottom (hide them on a small screen)"));
            ui.checkbox(&mut app.settings.show_explain, tr("Explanation panel")).on_hover_text(tr("The panel on the right that explains a clicked cell"));
            if ui.button(tr("Keyboard shortcuts")).on_hover_text(tr("The keyboard shortcuts (? or F1)")).clicked() {
                app.show_shortcuts = !app.show_shortcuts;
            }
            ui.separator();
            ui.label(tr("Language"));
            for lang in crate::i18n::Lang::ALL {
                ui.radio_value(&mut app.settings.lang, lang, lang.native_name());
            }
        });
        lesson_menu_ui(app, ui);
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            // The language a step away: a class may switch mid-lesson.
            for lang in crate::i18n::Lang::ALL.into_iter().rev() {
                ui.selectable_value(&mut app.settings.lang, lang, lang.native_name());
            }
        });
    });
}

/// Start the guided lesson, or continue it where it was left.
fn lesson_menu_ui(app: &mut BackpropApp, ui: &mut Ui) {
    let label = RichText::new(tr("Guided lesson")).strong();
    if app.lesson.open.is_some() {
        if ui
            .button(label)
            .on_hover_text(tr("Leave the lesson and explore freely"))
            .clicked()
        {
            app.lesson_leave();
        }
        return;
    }
    ui.menu_button(label, |ui| {
        if let Some(step) = app.lesson.left_at {
            if ui
                .button(trf!("Continue from step {step}", step = step + 1))
                .clicked()
            {
                app.lesson_go(step);
                ui.close();
            }
        }
        if ui
            .button(tr("Start the lesson from the beginning"))
            .on_hover_text(tr(
                "Resets to the question's network and walks one batch forward and the error back into the filters",
            ))
            .clicked()
        {
            app.lesson_go(0);
            ui.close();
        }
    });
}

/// Below this width (in points) the controls fold into two rows and the
/// network settings into a menu: a 720p projector at 1.4x is 914 points wide.
const COMPACT_WIDTH: f32 = 1200.0;

pub fn controls_ui(app: &mut BackpropApp, ui: &mut Ui) {
    let compact = ui.available_width() < COMPACT_WIDTH;
    ui.horizontal_wrapped(|ui| {
        if !compact {
            ui.heading("backprop-viz");
            ui.add_space(12.0);
        }
        step_buttons_ui(app, ui);
        ui.separator();
        speed_ui(app, ui);
        if !compact {
            learning_rate_ui(app, ui);
        }
    });
    ui.horizontal_wrapped(|ui| {
        if compact {
            learning_rate_ui(app, ui);
            ui.menu_button(tr("Network and training ▾"), |ui| {
                network_settings_ui(app, ui)
            })
            .response
            .on_hover_text(tr("Network, optimizer, batch size, seed (apply on Reset)"));
        } else {
            network_settings_ui(app, ui);
        }
        ui.separator();
        sample_ui(app, ui);
    });
}

fn step_buttons_ui(app: &mut BackpropApp, ui: &mut Ui) {
    let running = app.snapshot.as_ref().is_some_and(|s| s.running);
    if ui
        .add_enabled(!running, egui::Button::new(tr("Step layer")))
        .on_hover_text(tr(
            "Run one phase: the next layer's forward or backward pass, the loss, or the update",
        ))
        .clicked()
    {
        app.command(UiCommand::StepPhase);
    }
    if ui
        .add_enabled(!running, egui::Button::new(tr("Step batch")))
        .on_hover_text(tr(
            "Finish the current batch: all remaining phases up to the weight update",
        ))
        .clicked()
    {
        app.command(UiCommand::StepBatch);
    }
    let run_label = if running { tr("Pause") } else { tr("Run") };
    if ui
        .button(run_label)
        .on_hover_text(tr("Train continuously (the views follow live), or pause"))
        .clicked()
    {
        app.command(if running {
            UiCommand::Pause
        } else {
            UiCommand::Run
        });
    }
    if ui
        .button(tr("Reset"))
        .on_hover_text(tr(
            "Start again from the same seed: the same initial weights and batches",
        ))
        .clicked()
    {
        app.command(UiCommand::Reset);
    }
    let (back, forward) = app
        .snapshot
        .as_ref()
        .map(|s| (s.back_steps, s.forward_steps))
        .unwrap_or((0, 0));
    if ui
        .add_enabled(!running && back > 0, egui::Button::new(tr("◀ Back")))
        .on_hover_text(trf!(
            "Step back in time: every view shows the moment before ({back} steps kept; key ←)",
            back = back
        ))
        .clicked()
    {
        app.command(UiCommand::Back);
    }
    if ui
        .add_enabled(!running, egui::Button::new(tr("Forward ▶")))
        .on_hover_text(trf!(
            "Step forward: replays what Back undid ({forward} steps), else steps a layer (key →)",
            forward = forward
        ))
        .clicked()
    {
        app.command(UiCommand::Forward);
    }
}

fn speed_ui(app: &mut BackpropApp, ui: &mut Ui) {
    let speeds = [
        (Speed::PerSecond(1.0), tr("1 batch/s")),
        (Speed::PerSecond(5.0), tr("5 batches/s")),
        (Speed::PerSecond(20.0), tr("20 batches/s")),
        (Speed::Max, tr("as fast as possible")),
    ];
    let current = speeds
        .iter()
        .find(|(s, _)| *s == app.speed)
        .map(|(_, l)| *l)
        .unwrap_or(tr("custom"));
    let label = ui.label(tr("Speed:"));
    egui::ComboBox::from_id_salt("speed")
        .selected_text(current)
        .show_ui(ui, |ui| {
            for (speed, label) in speeds {
                if ui.selectable_label(app.speed == speed, label).clicked() {
                    app.command(UiCommand::SetSpeed(speed));
                }
            }
        })
        .response
        .labelled_by(label.id)
        .on_hover_text(tr("How fast Run trains"));
}

fn learning_rate_ui(app: &mut BackpropApp, ui: &mut Ui) {
    let mut lr = app.config.lr;
    let label = ui.label(tr("Learning rate:"));
    let lr_response = ui
        .add(egui::Slider::new(&mut lr, 1e-4..=10.0).logarithmic(true))
        .labelled_by(label.id)
        .on_hover_text(tr(
            "η: how far each update moves the weights against their gradient (applies at once)",
        ));
    if lr_response.changed() {
        app.command(UiCommand::SetLr(lr));
    }
    let mut freeze = app.config.freeze_conv;
    if ui.checkbox(&mut freeze, tr("Freeze conv filters")).on_hover_text(tr("Keep the conv filters at their initial values; only the FC layers learn (the question's experiment)")).changed() {
        app.command(UiCommand::SetFreeze(freeze));
    }
}

fn network_settings_ui(app: &mut BackpropApp, ui: &mut Ui) {
    let label = ui.label(tr("Network:"));
    let shown = if app.start_network.is_some() {
        tr("loaded model").to_string()
    } else {
        app.config.preset.clone()
    };
    egui::ComboBox::from_id_salt("preset")
        .selected_text(shown)
        .show_ui(ui, |ui| {
            for (preset, text) in [
                ("seed", tr("seed (the question's network)")),
                ("lenet", tr("lenet (8 and 16 filters)")),
            ] {
                if ui
                    .selectable_label(
                        app.start_network.is_none() && app.config.preset == preset,
                        text,
                    )
                    .clicked()
                {
                    // A preset replaces a loaded model on the next Reset.
                    app.config.preset = preset.to_string();
                    app.start_network = None;
                }
            }
        })
        .response
        .labelled_by(label.id)
        .on_hover_text(tr("Which network to build on Reset"));
    let label = ui.label(tr("Optimizer:"));
    egui::ComboBox::from_id_salt("optimizer")
        .selected_text(app.config.optimizer.name())
        .show_ui(ui, |ui| {
            for kind in [
                OptimizerKind::Sgd,
                OptimizerKind::Momentum,
                OptimizerKind::Adam,
            ] {
                ui.selectable_value(&mut app.config.optimizer, kind, kind.name());
            }
        })
        .response
        .labelled_by(label.id)
        .on_hover_text(tr("How the gradient turns into a step (applies on Reset)"));
    let label = ui.label(tr("Batch size:"));
    ui.add(egui::DragValue::new(&mut app.config.batch).range(1..=512))
        .labelled_by(label.id)
        .on_hover_text(tr("Samples per batch (applies on Reset)"));
    let label = ui.label(tr("Seed:"));
    ui.add(egui::DragValue::new(&mut app.config.seed).range(0..=1_000_000))
        .labelled_by(label.id)
        .on_hover_text(tr(
            "Fixes the initial weights and the batch order (applies on Reset)",
        ));
    if ui.button(tr("Load pretrained model")).on_hover_text(tr("Replace the network by the trained model that ships with the program (useful for drawing)")).clicked() {
        app.command(UiCommand::LoadPretrained);
    }
}

fn sample_ui(app: &mut BackpropApp, ui: &mut Ui) {
    if let Some(snapshot) = &app.snapshot {
        let n = snapshot.trace.batch_size();
        if n > 1 {
            let mut sample = app.sample;
            let label = ui.label(tr("Sample in batch:"));
            let picker: egui::Response = if ui.available_size_before_wrap().x < 260.0 {
                // A narrow row (projector): a number field instead of a slider.
                ui.add(egui::DragValue::new(&mut sample).range(0..=n - 1))
            } else {
                ui.add(egui::Slider::new(&mut sample, 0..=n - 1))
            };
            picker
                .labelled_by(label.id)
                .on_hover_text(tr("Which sample of the batch the maps show"));
            app.sample = sample;
            if let Some(&digit) = snapshot.trace.labels.get(app.sample) {
                ui.label(trf!("label {digit}", digit = digit));
            }
        }
    }
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

/// A per-sample shape as people write it: `1x28x28`.
pub fn dims_text(dims: &[usize]) -> String {
    dims.iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("x")
}

/// A batch tensor's shape without the batch dimension.
fn shape_text(shape: &[usize]) -> String {
    dims_text(shape.get(1..).unwrap_or_default())
}

/// The network as blocks with their shapes; the block in focus highlighted,
/// the arrow the numbers travel along coloured by direction.
pub fn pipeline_ui(app: &mut BackpropApp, ui: &mut Ui) {
    let Some(s) = app.snapshot.as_ref() else {
        ui.label(tr("Starting…"));
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
    let compact = ui.available_width() < COMPACT_WIDTH;
    let blocks = |ui: &mut Ui| {
        ui.label(
            RichText::new(format!(
                "{}\n{}",
                tr("input"),
                shape_text(s.trace.input.shape())
            ))
            .monospace(),
        );
        for (i, name) in s.trace.names.iter().enumerate() {
            let arrow_active = i == focus;
            let arrow = if backward { "←" } else { "→" };
            ui.label(RichText::new(arrow).size(22.0).color(if arrow_active {
                colour
            } else {
                Color32::GRAY
            }));
            let shape = shapes.get(i).map(|d| dims_text(d)).unwrap_or_default();
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
            let response = ui.add(button).on_hover_text(trf!(
                "{name}: {kind} — click to look at this layer",
                name = name,
                kind = s.trace.kinds[i].word()
            ));
            if response.clicked() {
                clicked = Some(i);
            }
            if compact && i == focus {
                response.scroll_to_me(None);
            }
        }
        let arrow = if backward { "←" } else { "→" };
        ui.label(RichText::new(format!("{arrow} {}", tr("loss"))).size(18.0));
    };
    if compact {
        // One row that follows the numbers, rather than two that crowd the views.
        egui::ScrollArea::horizontal()
            .id_salt("pipeline")
            .show(ui, |ui| ui.horizontal(blocks));
    } else {
        ui.horizontal_wrapped(blocks);
    }
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
        None => trf!("A batch of {count} samples is loaded. Press Step layer to send it forward into {layer}.", count = t.batch_size(), layer = who(0)),
        Some(Phase::Forward(i)) if i + 1 < n => trf!(
            "Forward · {step} of {n}: {layer} turned its input into its output, which goes on to {next}.",
            step = i + 1,
            n = n,
            layer = who(i),
            next = who(i + 1)
        ),
        Some(Phase::Forward(i)) => trf!(
            "Forward · {step} of {n}: {layer} turned its input into its output, the 10 logits.",
            step = i + 1,
            n = n,
            layer = who(i)
        ),
        Some(Phase::Loss) => trf!(
            "Loss: softmax + cross-entropy = {loss}. Its delta {delta} = (p − one_hot)/N starts the backward pass.",
            loss = format!("{:.4}", t.loss.unwrap_or(f32::NAN)),
            delta = delta_name(n)
        ),
        Some(Phase::Backward(i)) => {
            let from = if i + 1 == n { trf!("{delta} from the loss", delta = delta_name(n)) } else { trf!("{delta} from {layer}", delta = delta_name(i + 1), layer = who(i + 1)) };
            let to = if i == 0 { tr("to the input (nothing below learns from it)").to_string() } else { trf!("to {layer}", layer = who(i - 1)) };
            trf!("Backward: {layer} received {from} and handed {delta} {to}.", layer = who(i), from = from, delta = delta_name(i), to = to)
        }
        Some(Phase::Update) | Some(Phase::Done) => trf!(
            "Update: every weight moved against its gradient (η = {lr}). Step layer starts the next batch.",
            lr = fmt_value(t.lr)
        ),
    };
    let mut text = base;
    if s.teaching {
        text = trf!("Teaching your drawing · {text}", text = text);
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
        // One piece of text in two colours, so that it wraps as a whole.
        let mut job = egui::text::LayoutJob::default();
        let body = egui::TextStyle::Body.resolve(ui.style());
        job.append(
            &phase_text(s),
            0.0,
            egui::TextFormat {
                font_id: egui::FontId::proportional(18.0),
                color: colour,
                ..Default::default()
            },
        );
        job.append(
            &trf!(
                "· epoch {epoch}, batch {batch}, {position} of {total} samples",
                epoch = s.epoch + 1,
                batch = s.batches,
                position = s.position,
                total = s.epoch_len
            ),
            8.0,
            egui::TextFormat {
                font_id: body,
                color: ui.visuals().text_color(),
                ..Default::default()
            },
        );
        ui.label(job);
        for (i, kind) in s.trace.kinds.iter().enumerate() {
            if matches!(kind, LayerKind::Relu)
                && i > 0
                && matches!(s.trace.kinds[i - 1], LayerKind::Conv { .. })
            {
                let dead = s.trace.dead_channels(i);
                if !dead.is_empty() {
                    ui.label(RichText::new(trf!(
                        "⚠ {layer}: filter(s) {dead} of {conv} are dead: their ReLU output is 0 for every sample, so no delta passes back and their dF is 0 — they cannot learn. Reset with another seed, or a smaller learning rate.",
                        layer = s.trace.names[i],
                        dead = format!("{dead:?}"),
                        conv = s.trace.names[i - 1]
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
            .button(tr("Dismiss"))
            .on_hover_text(tr("Hide this message"))
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
                    update_view(app, ui, t, avail)
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
    ui.label(RichText::new(heading).heading().color(BACKWARD));
    ui.label(backward_formula(&t.kinds[i]));
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

fn update_view(app: &mut BackpropApp, ui: &mut Ui, t: &Trace, avail: Vec2) {
    ui.label(
        RichText::new(tr("Update: each weight moves against its gradient"))
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
                &trf!("F before ({name})", name = t.names[i]),
                w,
                None,
                size,
            );
            weights_ui(app, ui, &format!("dF ({})", t.names[i]), g, Some(i), size);
            weights_ui(
                app,
                ui,
                &trf!("step taken = F_new − F ({name})", name = t.names[i]),
                &step,
                None,
                size,
            );
            weights_ui(
                app,
                ui,
                &trf!("F new ({name})", name = t.names[i]),
                after,
                None,
                size,
            );
        });
        ui.separator();
    }
    ui.label(trf!("With SGD the step is exactly −η·dF (η = {lr}); momentum and Adam reshape it from past gradients.", lr = fmt_value(t.lr)));
}

/// The clicked cell, how it was computed, from the trace.
pub fn explanation_ui(app: &mut BackpropApp, ui: &mut Ui) {
    ui.heading(tr("How was this number computed?"));
    let (Some(s), Some(cell)) = (app.snapshot.clone(), app.selected.clone()) else {
        ui.label(tr("Click any cell of a dF map, a delta or a feature map: this panel shows the sum of products that made it, with the real numbers."));
        return;
    };
    let Some(e) = explain(&s.trace, &cell, app.sample) else {
        ui.label(tr(
            "That cell has no computation to show yet (its phase has not run in this batch).",
        ));
        return;
    };
    egui::ScrollArea::vertical()
        .id_salt("explanation")
        .show(ui, |ui| {
            ui.label(RichText::new(&e.title).strong().size(18.0));
            ui.label(RichText::new(&e.formula).monospace());
            ui.separator();
            ui.label(trf!(
                "largest terms for sample {sample} ({count} non-zero terms):",
                sample = app.sample,
                count = e.term_count
            ));
            egui::Grid::new("terms").striped(true).show(ui, |ui| {
                for term in &e.terms {
                    ui.label(RichText::new(&term.label).monospace());
                    ui.label(RichText::new(fmt_value(term.value)).monospace());
                    ui.end_row();
                }
            });
            ui.separator();
            ui.label(trf!("sample {sample}'s sum: {sum}", sample = app.sample, sum = e.sample_sum));
            ui.label(trf!("all terms added up: {total}", total = e.total));
            let check = if e.agrees() {
                tr("✓ equals the trace")
            } else {
                tr("✗ differs from the trace")
            };
            ui.label(RichText::new(trf!("value in the trace: {value} {check}", value = e.recorded, check = check)).strong());
            for note in &e.notes {
                ui.label(note);
            }
            if let CellRef::WeightGrad { layer, index } = &cell {
                gradcheck_ui(app, ui, &s.trace, &cell, *layer, index);
            }
            ui.separator();
            if let Some((name, tensor)) = selected_tensor(&s.trace, &cell) {
                if ui
                    .button(trf!("Export {name} as CSV…", name = name))
                    .on_hover_text(tr("The whole tensor this cell belongs to, one row per value: its indices, then the value"))
                    .clicked()
                {
                    let csv = crate::app::files::tensor_csv(&tensor).into_bytes();
                    app.files.save_dialog(tr("Export a tensor as CSV"), &format!("{name}.csv"), csv);
                }
            }
        });
}

/// Loss per batch and accuracy per epoch, kept across Run and Pause.
pub fn plots_ui(app: &mut BackpropApp, ui: &mut Ui) {
    ui.columns(2, |cols| {
        let losses = app.history.losses.clone();
        Plot::new("loss per batch")
            .x_axis_label(tr("batch"))
            .y_axis_label(tr("loss"))
            .include_y(0.0)
            .legend(Legend::default())
            .show(&mut cols[0], |plot| {
                plot.line(Line::new(tr("training loss"), PlotPoints::from(losses)));
            });
        let train: Vec<[f64; 2]> = app
            .history
            .epochs
            .iter()
            .map(|&(e, train, _)| [e as f64, train as f64 * 100.0])
            .collect();
        let test: Vec<[f64; 2]> = app
            .history
            .epochs
            .iter()
            .map(|&(e, _, te)| [e as f64, te as f64 * 100.0])
            .collect();
        Plot::new("accuracy per epoch")
            .x_axis_label(tr("epoch"))
            .y_axis_label(tr("accuracy %"))
            .include_y(0.0)
            .include_y(100.0)
            .legend(Legend::default())
            .show(&mut cols[1], |plot| {
                plot.line(Line::new(tr("train"), PlotPoints::from(train.clone())));
                plot.points(Points::new(tr("train"), PlotPoints::from(train)).radius(4.0));
                plot.line(Line::new(tr("test"), PlotPoints::from(test.clone())));
                plot.points(Points::new(tr("test"), PlotPoints::from(test)).radius(4.0));
            });
    });
}

/// Save / open a model and export the current step.
fn file_buttons_ui(app: &mut BackpropApp, ui: &mut Ui) {
    if ui
        .button(tr("Save model…"))
        .on_hover_text(tr(
            "Write the network as it is now (safetensors; loads in PyTorch unchanged)",
        ))
        .clicked()
    {
        if let Some(s) = &app.snapshot {
            app.files.save_dialog(
                tr("Save the model"),
                "model.safetensors",
                crate::io::model_bytes(&s.network),
            );
        }
    }
    if ui
        .button(tr("Export view as PNG…"))
        .on_hover_text(tr("A picture of the window as it is now, for slides"))
        .clicked()
    {
        app.files.export_view_png(ui.ctx());
        ui.close();
    }
    if ui
        .button(tr("Open model…"))
        .on_hover_text(tr("Start from a saved model (Reset returns to it)"))
        .clicked()
    {
        app.files.open_model_dialog();
    }
    if ui
        .button(tr("Save session…"))
        .on_hover_text(tr(
            "The model, the optimizer's state, the step and the plots: continue this lesson later exactly here",
        ))
        .clicked()
    {
        let checkout = app.checkout_session();
        app.files.save_dialog_with(
            tr("Save the session"),
            "session.safetensors",
            move || {
                checkout()
                    .map(|session| crate::io::session_bytes(&session))
                    .ok_or_else(|| tr("the training thread did not answer").to_string())
            },
        );
        ui.close();
    }
    if ui
        .button(tr("Open session…"))
        .on_hover_text(tr("Continue a saved session where it stopped"))
        .clicked()
    {
        app.files.open_session_dialog();
        ui.close();
    }
    ui.separator();
    if ui
        .button(tr("Export trace…"))
        .on_hover_text(tr(
            "Every number of the current step (safetensors trace, as `backprop-viz trace` writes)",
        ))
        .clicked()
    {
        match app.snapshot.as_ref().map(|s| crate::io::trace_bytes(&s.trace)) {
            Some(Ok(bytes)) => app.files.save_dialog(tr("Export the trace"), "trace.safetensors", bytes),
            Some(Err(why)) => app.message = Some((MessageKind::Warning, trf!("Nothing to export yet: {why}. Step through the loss and the backward pass first.", why = why).into())),
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
    let checking = app.gradcheck.running() > 0;
    if ui.add_enabled(!checking, egui::Button::new(tr("Check with finite differences"))).on_hover_text(tr("Nudge this weight by ±ε, recompute the loss on the same batch, and compare (L(w+ε) − L(w−ε)) / 2ε with backpropagation's number")).clicked() {
        let (trace, index, cell) = (trace.clone(), index.to_vec(), cell.clone());
        app.gradcheck.spawn("gradient-check", move |out| {
            out.send(Some((cell, crate::engine::gradcheck::check_weight(&trace, layer, &index))));
        });
    }
    if checking {
        ui.spinner();
    }
    match &app.gradcheck_result {
        Some((for_cell, Some(fd))) if for_cell == cell => {
            ui.label(
                RichText::new(trf!("backpropagation: {value}", value = fd.analytic)).monospace(),
            );
            ui.label(
                RichText::new(format!(
                    "(L(w+ε) − L(w−ε)) / 2ε, ε = {}: {:.9}",
                    fd.eps, fd.numeric
                ))
                .monospace(),
            );
            ui.label(
                RichText::new(trf!(
                    "relative error: {error}",
                    error = format!("{:.1e}", fd.relative_error)
                ))
                .strong(),
            );
        }
        Some((for_cell, None)) if for_cell == cell => {
            ui.label(tr(
                "This weight cannot be checked in this step (its layer has no recorded weights).",
            ));
        }
        _ => {}
    }
}
