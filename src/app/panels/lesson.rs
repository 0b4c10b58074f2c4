//! The guided lesson's strip (its steps are `teach::lesson`): where we
//! are, the text, back / next / leave; and the outline around the view the
//! step points at.

use egui::{Color32, RichText, Ui};

use crate::app::command::{LessonMove, UiCommand};
use crate::app::cx::Cx;
use crate::i18n::tr;
use crate::teach::lesson::{part, steps, Mark, CHAPTER};
use crate::trf;

/// The lesson's strip: where we are, the text, back / next / leave. On a
/// small window (a projector) the title opens the paragraph and the
/// buttons stand at its right, so the strip takes as few lines as it can.
pub fn lesson_ui(ui: &mut Ui, cx: &mut Cx) {
    let Some(index) = cx.state.lesson.open else {
        return;
    };
    let steps = steps();
    let step = &steps[index];
    // Counted within its part: the main lesson, or the optional chapter.
    let here = part(index);
    let (number, count) = (index - here.start + 1, here.len());
    let accent = Color32::from_rgb(250, 190, 40);
    let compact = crate::app::style::compact(ui.ctx());
    let text_size = if compact { 15.0 } else { 18.0 };
    // The question is drawn over the Backprop tab's view: on another tab
    // (a step left unanswered, then the experiment) there is none to answer.
    let covered = cx.state.covering() && cx.state.tab == crate::app::Tab::Backprop;
    let body = if covered {
        tr("First, predict: answer the question in the view, then press Show me (or Space, or PgDn).")
    } else {
        step.text
    };
    if compact {
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Min), |ui| {
            nav_ui(ui, cx, index, true);
            ui.with_layout(egui::Layout::top_down(egui::Align::Min), |ui| {
                let mut job = egui::text::LayoutJob::default();
                let font = egui::FontId::proportional(text_size);
                job.append(
                    &format!("{number}/{count}  {}", step.title),
                    0.0,
                    egui::TextFormat::simple(egui::FontId::proportional(text_size + 2.0), accent),
                );
                let colour = if covered {
                    accent
                } else {
                    ui.visuals().text_color()
                };
                job.append(body, 10.0, egui::TextFormat::simple(font, colour));
                ui.add(egui::Label::new(job).wrap());
                if !covered {
                    spoken_ui(ui, cx, index, text_size);
                }
            });
        });
        ui.add_space(2.0);
        return;
    }
    ui.horizontal(|ui| {
        ui.label(
            RichText::new(if index < CHAPTER {
                trf!("Lesson · {step} of {count}", step = number, count = count)
            } else {
                trf!("Stride 2 · {step} of {count}", step = number, count = count)
            })
            .color(accent)
            .strong(),
        );
        // The buttons first (right to left), so the title takes what is left.
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            nav_ui(ui, cx, index, false);
            ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                ui.add(egui::Label::new(RichText::new(step.title).size(24.0).strong()).truncate());
            });
        });
    });
    let text = RichText::new(body).size(text_size);
    if covered {
        ui.label(text.strong().color(accent));
    } else {
        ui.label(text);
        spoken_ui(ui, cx, index, text_size);
    }
    ui.add_space(4.0);
}

/// Leave, next and previous, right to left (arrows on a small window).
fn nav_ui(ui: &mut Ui, cx: &mut Cx, index: usize, compact: bool) {
    let last = index + 1 == part(index).end;
    let (previous, next, leave) = if compact {
        ("◀", if last { "✔" } else { "▶" }, "✕")
    } else {
        (
            tr("◀ Previous"),
            if last { tr("Finish") } else { tr("Next ▶") },
            tr("Leave the lesson"),
        )
    };
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
    // The main lesson's end offers the optional chapter.
    if index + 1 == CHAPTER {
        let chapter = if compact {
            tr("Stride 2 ▶")
        } else {
            tr("Optional: what changes with stride 2 ▶")
        };
        if ui
            .button(chapter)
            .on_hover_text(tr(
                "Five more steps on an all-conv network whose convs move 2 cells at a time: the delta dilated with zeros on the way back",
            ))
            .clicked()
        {
            cx.command(UiCommand::Lesson(LessonMove::Go(CHAPTER)));
        }
    }
    if ui
        .add_enabled(index > 0, egui::Button::new(previous))
        .on_hover_text(tr("Previous step (PgUp)"))
        .clicked()
    {
        cx.command(UiCommand::Lesson(LessonMove::Go(index - 1)));
    }
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

/// The step's numbers in a sentence (`dF[1,1] = −0.052 < 0, so F[1,1]
/// grows …`), from the trace on screen: hovering it lights its cell on the
/// maps, a click explains that cell.
fn spoken_ui(ui: &mut Ui, cx: &mut Cx, index: usize, size: f32) {
    let state = cx.state;
    let Some(s) = state.snapshot.as_ref() else {
        return;
    };
    let sgd = s.optimizer == crate::engine::optim::OptimizerKind::Sgd;
    let spoken = crate::teach::lesson::spoken(
        index,
        &s.trace,
        state.sample,
        sgd,
        &state.numbering(&s.trace.kinds),
    );
    let hovered = match &spoken {
        Some(spoken) => {
            let response = ui
                .add(
                    egui::Label::new(
                        RichText::new(&spoken.text)
                            .size(size)
                            .strong()
                            .color(crate::app::style::BACKWARD),
                    )
                    .sense(egui::Sense::click()),
                )
                .on_hover_text(tr(
                    "Its cell is lit on the maps; click to see how it was computed",
                ));
            if response.clicked() {
                cx.command(UiCommand::Select(Some(spoken.cell.clone())));
            }
            response.hovered().then(|| spoken.cell.clone())
        }
        None => None,
    };
    let lit_here = spoken
        .as_ref()
        .is_some_and(|sp| state.lit.as_ref() == Some(&sp.cell));
    if hovered.is_some() && !lit_here {
        cx.command(UiCommand::Light(hovered));
    } else if hovered.is_none() && state.lit.is_some() {
        cx.command(UiCommand::Light(None));
    }
}
