//! Where the numbers are: the network as a strip of blocks, the sentence
//! that says what the last phase did, and the status message.

use egui::{Color32, RichText, Ui};

use crate::app::command::UiCommand;
use crate::app::cx::Cx;
use crate::app::state::{MessageKind, Taught};
use crate::app::style::{compact, dims_text, BACKWARD, ERROR, FORWARD, UPDATE};
use crate::app::widgets::heatmap::fmt_value;
use crate::app::worker::Snapshot;
use crate::engine::layers::LayerKind;
use crate::engine::stepper::Phase;
use crate::i18n::tr;
use crate::teach::notation::Numbering;
use crate::trf;

/// A batch tensor's shape without the batch dimension.
fn shape_text(shape: &[usize]) -> String {
    dims_text(shape.get(1..).unwrap_or_default())
}

/// The network as blocks with their shapes; the block in focus highlighted,
/// the arrow the numbers travel along coloured by direction.
pub fn pipeline_ui(ui: &mut Ui, cx: &mut Cx) {
    let Some(s) = cx.state.snapshot.as_ref() else {
        ui.label(tr("Starting…"));
        return;
    };
    // At the loss the numbers are in the loss, not in the last layer (whose
    // view shows them): the strip lights the loss.
    let at_loss = s.last == Some(Phase::Loss) && cx.state.view_layer.is_none();
    let focus = (!at_loss).then(|| cx.state.focus_layer());
    let shapes = s.network.shapes();
    let (backward, colour) = match s.last {
        Some(Phase::Backward(_)) | Some(Phase::Loss) => (true, BACKWARD),
        Some(Phase::Update) => (false, UPDATE),
        _ => (false, FORWARD),
    };
    let mut clicked = None;
    let compact = compact(ui.ctx());
    // The answer's numbering, on demand: a conv layer and its ReLU share one.
    let num = cx.state.numbering(&s.trace.kinds);
    // Compact: one line per block, so the strip is one text line high.
    let sep = if compact { " " } else { "\n" };
    let blocks = |ui: &mut Ui| {
        ui.label(
            RichText::new(format!(
                "{}{sep}{}",
                tr("input"),
                shape_text(s.trace.input.shape())
            ))
            .monospace(),
        );
        for (i, name) in s.trace.names.iter().enumerate() {
            let arrow_active = Some(i) == focus;
            let arrow = if backward { "←" } else { "→" };
            ui.label(
                RichText::new(arrow)
                    .size(if compact { 16.0 } else { 22.0 })
                    .color(if arrow_active { colour } else { Color32::GRAY }),
            );
            let shape = shapes.get(i).map(|d| dims_text(d)).unwrap_or_default();
            let name = if num.is_answer() {
                format!("L{} {name}", num.layer(i))
            } else {
                name.clone()
            };
            let text = RichText::new(format!("{name}{sep}{shape}")).monospace();
            let text = if Some(i) == focus {
                text.color(Color32::WHITE).strong()
            } else {
                text
            };
            let button = egui::Button::new(text).fill(if Some(i) == focus {
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
            if compact && Some(i) == focus {
                response.scroll_to_me(None);
            }
        }
        let arrow = if backward { "←" } else { "→" };
        let loss = RichText::new(format!("{arrow} {}", tr("loss"))).size(18.0);
        if at_loss {
            let loss = ui.add(egui::Button::new(loss.color(Color32::WHITE).strong()).fill(colour));
            if compact {
                loss.scroll_to_me(None);
            }
        } else {
            ui.label(loss);
        }
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
        cx.command(UiCommand::ViewLayer(Some(i)));
    }
}

/// One sentence: where the numbers are and which way they travel.
pub fn phase_text(s: &Snapshot, taught: Option<Taught>, num: &Numbering) -> String {
    let t = &s.trace;
    let n = t.names.len();
    let who = |i: usize| num.named(&t.names, i);
    let base = match s.last {
        None if t.batch_size() == 1 => trf!("One sample is loaded. Press Step layer to send it forward into {layer}.", layer = who(0)),
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
            delta = num.delta(n)
        ),
        Some(Phase::Backward(i)) => {
            let from = if i + 1 == n { trf!("{delta} from the loss", delta = num.delta(n)) } else { trf!("{delta} from {layer}", delta = num.delta(i + 1), layer = who(i + 1)) };
            let to = if i == 0 { tr("to the input (nothing below learns from it)").to_string() } else { trf!("to {layer}", layer = who(i - 1)) };
            trf!("Backward: {layer} received {from} and handed {delta} {to}.", layer = who(i), from = from, delta = num.delta(i), to = to)
        }
        Some(Phase::Update) | Some(Phase::Done) => trf!(
            "Update: every weight moved against its gradient (η = {lr}). Step layer starts the next batch.",
            lr = fmt_value(t.lr)
        ),
    };
    let mut text = base;
    if s.teaching {
        text = match taught {
            Some(Taught::TestDigit(index)) => trf!(
                "Teaching test image {index} its right answer · {text}",
                index = index,
                text = text
            ),
            _ => trf!("Teaching your drawing · {text}", text = text),
        };
    }
    text
}

pub fn phase_line_ui(ui: &mut Ui, cx: &Cx) {
    if let Some(s) = &cx.state.snapshot {
        let colour = match s.last {
            Some(Phase::Backward(_)) | Some(Phase::Loss) => BACKWARD,
            Some(Phase::Update) => UPDATE,
            _ => FORWARD,
        };
        let position = trf!(
            "· epoch {epoch}, batch {batch}, {position} of {total} samples",
            epoch = s.epoch + 1,
            batch = s.batches,
            position = s.position,
            total = s.epoch_len
        );
        let compact = compact(ui.ctx());
        let sentence = phase_text(s, cx.state.taught, &cx.state.numbering(&s.trace.kinds));
        // One piece of text in two colours, so that it wraps as a whole;
        // on a small window the position goes to the tooltip.
        let mut job = egui::text::LayoutJob::default();
        let body = egui::TextStyle::Body.resolve(ui.style());
        job.append(
            &sentence,
            0.0,
            egui::TextFormat {
                font_id: egui::FontId::proportional(if compact { 16.0 } else { 18.0 }),
                color: colour,
                ..Default::default()
            },
        );
        if !compact {
            job.append(
                &position,
                8.0,
                egui::TextFormat {
                    font_id: body,
                    color: ui.visuals().text_color(),
                    ..Default::default()
                },
            );
        }
        // One line, always (the whole sentence on hover): a notice beside
        // it, or a longer sentence, never makes the row taller.
        let whole = format!("{sentence} {position}");
        ui.add(egui::Label::new(job).truncate())
            .on_hover_text(whole);
    }
}

/// A dead filter, pointed out as a lesson (a line of its own: rare).
pub fn dead_filters_ui(ui: &mut Ui, cx: &Cx) {
    if let Some(s) = &cx.state.snapshot {
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
                    )).color(ERROR));
                }
            }
        }
    }
}

/// The width a notice takes at the right of a row (0 without one).
pub fn notice_width(ui: &Ui, cx: &Cx) -> f32 {
    let state = cx.state;
    if state.replaying().is_none() && state.message_text().is_none() {
        return 0.0;
    }
    (ui.available_width() * 0.45).clamp(200.0, 620.0)
}

/// The height of a row that may hold a notice: its button or its text,
/// whichever is taller, and a little room.
pub fn notice_height(ui: &Ui) -> f32 {
    let button =
        ui.text_style_height(&egui::TextStyle::Button) + 2.0 * ui.spacing().button_padding.y;
    button
        .max(ui.text_style_height(&egui::TextStyle::Body))
        .max(ui.spacing().interact_size.y)
        + 2.0
}

/// A link's replay (how far, and the button that stops it) or the status
/// message, in `width` at the right of the row, one line: the whole text on
/// hover.
pub fn notice_ui(ui: &mut Ui, cx: &mut Cx, width: f32) {
    if width <= 0.0 {
        return;
    }
    let state = cx.state;
    let height = notice_height(ui);
    let width = width.min(ui.available_width());
    let right_to_left = egui::Layout::right_to_left(egui::Align::Min);
    ui.allocate_ui_with_layout(egui::vec2(width, height), right_to_left, |ui| {
        ui.set_width(width);
        if let Some(replay) = state.replaying() {
            if ui
                .button(tr("Stop (Esc)"))
                .on_hover_text(tr("Stop replaying: training stays at the batch reached"))
                .clicked()
            {
                cx.command(UiCommand::StopReplay);
            }
            ui.add(
                egui::ProgressBar::new(replay.done as f32 / replay.total.max(1) as f32)
                    .desired_width(120.0)
                    .show_percentage(),
            );
            let text = crate::trf!(
                "Replaying the link: batch {done} of {total}",
                done = replay.done,
                total = replay.total
            );
            ui.add(egui::Label::new(RichText::new(text).strong()).truncate());
            return;
        }
        let Some((kind, text)) = state.message_text() else {
            return;
        };
        let colour = match kind {
            MessageKind::Info => Color32::from_rgb(60, 140, 220),
            MessageKind::Warning => Color32::from_rgb(220, 160, 30),
            MessageKind::Error => ERROR,
        };
        if ui
            .button(tr("Dismiss"))
            .on_hover_text(tr("Hide this message"))
            .clicked()
        {
            cx.command(UiCommand::Dismiss);
        }
        // The browser: MNIST's training set on its way.
        if let Some(fraction) = state.arriving {
            ui.add(
                egui::ProgressBar::new(fraction)
                    .desired_width(100.0)
                    .show_percentage(),
            );
        }
        ui.add(egui::Label::new(RichText::new(&text).color(colour).strong()).truncate())
            .on_hover_text(text);
    });
}
