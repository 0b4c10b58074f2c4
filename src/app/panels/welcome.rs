//! Two small windows over the app: the card a first start opens with (three
//! ways in: the guided lesson, stepping through by hand, drawing a digit),
//! and the question before the lesson resets training that has been done.

use egui::{RichText, Ui};

use crate::app::command::{FileAction, LessonMove, UiCommand};
use crate::app::cx::Cx;
use crate::i18n::tr;
use crate::teach::lesson::Tab;

fn card(ui: &Ui, id: &str, title: &str, add: impl FnOnce(&mut Ui)) {
    egui::Window::new(title)
        .id(egui::Id::unique(id))
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, egui::vec2(0.0, 0.0))
        // Wide enough for the title from the first frame (the wrapped text
        // would otherwise set a narrower card and clip it).
        .default_width(520.0)
        .max_width(560.0)
        .show(ui.ctx(), add);
}

pub fn welcome_ui(ui: &Ui, cx: &mut Cx) {
    if cx.state.welcome {
        card(
            ui,
            "welcome",
            tr("How does the error reach the filter?"),
            |ui| {
                ui.label(tr("This window shows, number by number, how a small CNN learns: the error computed at the output travels back through the fully connected layers and the pooling into the 3x3 filters, and the filters change."));
                ui.add_space(8.0);
                if ui
                    .button(
                        RichText::new(tr("Start the guided lesson"))
                            .strong()
                            .size(18.0),
                    )
                    .on_hover_text(tr(
                        "Sixteen short steps from the forward pass to the filter update",
                    ))
                    .clicked()
                {
                    cx.command(UiCommand::CloseWelcome);
                    cx.command(UiCommand::Lesson(LessonMove::Start));
                }
                if ui
                .button(RichText::new(tr("Step through it yourself")).size(18.0))
                .on_hover_text(tr("Press Step layer (or Space) and watch each layer; click any cell to see how it was computed"))
                .clicked()
            {
                cx.command(UiCommand::CloseWelcome);
                cx.command(UiCommand::ShowTab(Tab::Backprop));
            }
                if ui
                    .button(RichText::new(tr("Draw a digit")).size(18.0))
                    .on_hover_text(tr("Draw with the trained model and teach it your digit"))
                    .clicked()
                {
                    cx.command(UiCommand::CloseWelcome);
                    cx.command(UiCommand::ShowTab(Tab::Draw));
                    cx.command(UiCommand::LoadPretrained);
                }
            },
        );
    }
    if cx.state.confirm_lesson {
        card(
            ui,
            "confirm lesson",
            tr("Start the lesson from the beginning?"),
            |ui| {
                ui.label(tr("The lesson starts from the question's network, untrained: the training done so far and the network in use are left behind. Save the session first to come back to them."));
                ui.horizontal(|ui| {
                    if ui
                        .button(RichText::new(tr("Start the lesson")).strong())
                        .clicked()
                    {
                        cx.command(UiCommand::Lesson(LessonMove::Confirmed(true)));
                    }
                    if ui.button(tr("Save the session first…")).clicked() {
                        cx.command(UiCommand::File(FileAction::SaveSession));
                    }
                    if ui.button(tr("Cancel")).clicked() {
                        cx.command(UiCommand::Lesson(LessonMove::Confirmed(false)));
                    }
                });
            },
        );
    }
}
