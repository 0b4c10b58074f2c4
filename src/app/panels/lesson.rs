//! The guided lesson's strip (its steps are `teach::lesson`): where we
//! are, the text, back / next / leave; and the outline around the view the
//! step points at.

use egui::{Color32, RichText, Ui};

use crate::app::command::{LessonMove, UiCommand};
use crate::app::cx::Cx;
use crate::i18n::tr;
use crate::teach::lesson::{steps, Mark};
use crate::trf;

/// The lesson's strip: where we are, the text, back / next / leave.
pub fn lesson_ui(ui: &mut Ui, cx: &mut Cx) {
    let Some(index) = cx.state.lesson.open else {
        return;
    };
    let steps = steps();
    let step = &steps[index];
    let accent = Color32::from_rgb(250, 190, 40);
    // On a small window (a projector) one short row: the buttons as arrows,
    // the title cut before them rather than under them.
    let compact = crate::app::style::compact(ui.ctx());
    ui.horizontal(|ui| {
        ui.label(
            RichText::new(if compact {
                format!("{}/{}", index + 1, steps.len())
            } else {
                trf!(
                    "Lesson · {step} of {count}",
                    step = index + 1,
                    count = steps.len()
                )
            })
            .color(accent)
            .strong(),
        );
        let last = index + 1 == steps.len();
        let (previous, next, leave) = if compact {
            ("◀", if last { "✔" } else { "▶" }, "✕")
        } else {
            (
                tr("◀ Previous"),
                if last { tr("Finish") } else { tr("Next ▶") },
                tr("Leave the lesson"),
            )
        };
        // The buttons first (right to left), so the title takes what is left.
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui
                .button(leave)
                .on_hover_text(tr(
                    "Explore freely; the Guided lesson menu continues from this step",
                ))
                .clicked()
            {
                cx.command(UiCommand::Lesson(LessonMove::Leave));
            }
            if ui
                .button(RichText::new(next).strong())
                .on_hover_text(tr(
                    "Next step (PgDn; on a covered step PgDn reveals it first)",
                ))
                .clicked()
            {
                cx.command(UiCommand::Lesson(if last {
                    LessonMove::Finish
                } else {
                    LessonMove::Go(index + 1)
                }));
            }
            if ui
                .add_enabled(index > 0, egui::Button::new(previous))
                .on_hover_text(tr("Previous step (PgUp)"))
                .clicked()
            {
                cx.command(UiCommand::Lesson(LessonMove::Go(index - 1)));
            }
            ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                let size = if compact { 20.0 } else { 24.0 };
                ui.add(egui::Label::new(RichText::new(step.title).size(size).strong()).truncate());
            });
        });
    });
    let text_size = if compact { 16.0 } else { 18.0 };
    if cx.state.covering() {
        ui.label(
            RichText::new(tr(
                "First, predict: answer the question in the view, then press Show me (or Space, or PgDn).",
            ))
            .size(text_size)
            .strong()
            .color(accent),
        );
    } else {
        ui.label(RichText::new(step.text).size(text_size));
    }
    ui.add_space(4.0);
}

/// Outlines the view the step points at. A map is outlined on its own
/// edge, clipped to the visible views (never over the lesson's strip, a
/// title or the toolbar); an area of the window just outside its border.
pub fn highlight(ctx: &egui::Context, cx: &Cx) {
    let Some(mark) = cx.state.lesson_mark() else {
        return;
    };
    let Some(rect) = cx.marked(mark) else {
        return;
    };
    let painter = ctx.layer_painter(egui::LayerId::new(
        egui::Order::Foreground,
        egui::Id::unique("lesson highlight"),
    ));
    let pulse = (ctx.input(|i| i.time) * 3.0).sin() as f32 * 0.5 + 0.5;
    let colour = Color32::from_rgb(250, 190, 40).gamma_multiply(0.6 + 0.4 * pulse);
    if mark.is_map() {
        let visible = cx.marked(Mark::Views).unwrap_or(rect);
        painter.with_clip_rect(visible).rect_stroke(
            rect,
            0.0,
            egui::Stroke::new(4.0, colour),
            egui::StrokeKind::Inside,
        );
    } else {
        painter.rect_stroke(
            rect.expand(2.0),
            4.0,
            egui::Stroke::new(3.0, colour),
            egui::StrokeKind::Outside,
        );
    }
    ctx.request_repaint_after(std::time::Duration::from_millis(50));
}
