//! The teacher's window over a class's prediction records
//! (*File → Open a class's predictions…*): per step and question, how many
//! predicted right, wrong, or saw it revealed before answering.

use crate::app::command::UiCommand;
use crate::app::cx::Cx;
use crate::i18n::tr;
use crate::trf;

pub fn class_window(ui: &egui::Ui, cx: &mut Cx) {
    report_window(ui, cx);
    let Some(class) = cx.state.class_record.as_ref() else {
        return;
    };
    let mut open = true;
    egui::Window::new(tr("The class's predictions"))
        .id(egui::Id::unique("class predictions"))
        .open(&mut open)
        .show(ui.ctx(), |ui| {
            ui.label(trf!(
                "{files} records. Per step: how many predictions were right, wrong, or revealed before an answer.",
                files = class.files
            ));
            egui::Grid::new("class grid")
                .striped(true)
                .spacing([18.0, 6.0])
                .show(ui, |ui| {
                    for head in [
                        tr("step"),
                        tr("question"),
                        tr("right"),
                        tr("wrong"),
                        tr("revealed"),
                        tr("learners"),
                    ] {
                        ui.label(egui::RichText::new(head).strong());
                    }
                    ui.end_row();
                    for ((phase, question), t) in &class.rows {
                        ui.label(phase);
                        ui.label(question);
                        ui.label(t.right.to_string());
                        ui.label(t.wrong.to_string());
                        ui.label(t.revealed.to_string());
                        ui.label(t.learners.to_string());
                        ui.end_row();
                    }
                });
        });
    if !open {
        cx.command(UiCommand::CloseClassRecord);
    }
}

/// A live class's report (*File → Class report…*): per question and round,
/// how many answered and were right, and the shift from round 1 to round 2,
/// as `backprop-viz class-report` prints it.
fn report_window(ui: &egui::Ui, cx: &mut Cx) {
    let Some(text) = cx.state.class_report.as_ref() else {
        return;
    };
    let mut open = true;
    egui::Window::new(tr("The live class's report"))
        .id(egui::Id::unique("class report"))
        .open(&mut open)
        .default_width(640.0)
        .show(ui.ctx(), |ui| {
            egui::ScrollArea::both().max_height(480.0).show(ui, |ui| {
                ui.label(egui::RichText::new(text).monospace());
            });
            if ui.button(tr("Copy")).clicked() {
                ui.ctx().copy_text(text.clone());
            }
        });
    if !open {
        cx.command(UiCommand::CloseClassRecord);
    }
}
