//! The panels of the window, one per file, and their layout: controls and
//! the pipeline strip on top, plots at the bottom, the explanation of the
//! clicked cell on the right, and in the middle one of the tabs (the
//! Backprop tab's layer views are `app/views`). Each panel reads the app's
//! state through a [`Cx`] and asks for changes with commands; a panel with
//! state of its own (the drawing, the experiment, the plots folded or not)
//! is a struct here that owns it. No panel imports another panel.

pub mod architecture;
pub mod checked;
pub mod class_record;
pub mod data;
pub mod draw;
pub mod experiment;
pub mod explanation;
pub mod find_bug;
pub mod lesson;
pub mod mistakes;
pub mod pipeline;
pub mod plots;
pub mod shortcuts;
pub mod toolbar;
pub mod welcome;

use super::command::UiCommand;
use super::cx::Cx;
use super::jobs::Repaint;
use super::state::AppState;
use super::style::compact;
use super::views::Views;
use crate::i18n::tr;
use crate::teach::lesson::{Mark, Tab};

/// Every panel that keeps state of its own.
pub struct Panels {
    pub plots: plots::Plots,
    pub explanation: explanation::Explanation,
    pub views: Views,
    pub draw: draw::Draw,
    pub data: data::DataPanel,
    pub experiment: experiment::Experiment,
    pub mistakes: mistakes::Mistakes,
    pub architecture: architecture::Architecture,
}

impl Panels {
    pub fn new(repaint: Repaint) -> Panels {
        Panels {
            plots: plots::Plots::default(),
            explanation: explanation::Explanation::default(),
            views: Views::default(),
            draw: draw::Draw::default(),
            data: data::DataPanel::new(repaint.clone()),
            experiment: experiment::Experiment::new(3, repaint.clone()),
            mistakes: mistakes::Mistakes::new(repaint),
            architecture: architecture::Architecture::default(),
        }
    }

    /// The panels' own background jobs, every frame whatever tab is open;
    /// what concerns the app arrives as commands.
    pub fn poll(&mut self, state: &AppState, commands: &mut Vec<UiCommand>) {
        self.experiment.poll();
        self.mistakes.poll();
        while let Some(event) = self.data.poll() {
            commands.push(UiCommand::DataDone(event));
        }
        let _ = state;
    }

    /// The whole window.
    pub fn ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx) {
        let state = cx.state;
        egui::Panel::top("controls").show(ui, |ui| {
            let controls = toolbar::toolbar_ui(ui, cx);
            cx.mark(Mark::Controls, controls);
            ui.separator();
            let pipeline = ui.scope(|ui| pipeline::pipeline_ui(ui, cx)).response.rect;
            cx.mark(Mark::Pipeline, pipeline);
            pipeline::phase_line_ui(ui, cx);
            if let Some(replay) = state.replaying() {
                pipeline::replay_ui(ui, cx, replay);
            }
            if let Some((kind, text)) = state.message_text() {
                pipeline::message_ui(ui, cx, kind, &text);
            }
        });
        // The plots take at most a fifth of the window; on a short window
        // (a 720p projector at 1.4x) they fold into one line that opens
        // them, so they stay one click away without taking the views' room.
        let room = ui.available_height();
        // While a check is open its panel takes the plots' place.
        if state.settings.show_plots && state.checked.is_none() {
            let folded = compact(ui.ctx()) && !self.plots.open;
            let plots = egui::Panel::bottom("plots").resizable(false);
            let plots = if folded {
                plots.show(ui, |ui| self.plots.folded_ui(ui, cx))
            } else {
                let height = (room * if self.plots.open { 0.45 } else { 0.2 }).clamp(90.0, 200.0);
                plots
                    .exact_size(height)
                    .show(ui, |ui| self.plots.ui(ui, cx))
            };
            cx.mark(Mark::Plots, plots.response.rect);
        }
        // Above the plots, right under the views it talks about.
        if state.lesson.open.is_some() {
            let tint = ui.visuals().faint_bg_color;
            let strip = egui::Panel::bottom("lesson")
                .frame(egui::Frame::side_top_panel(ui.style()).fill(tint))
                .show(ui, |ui| lesson::lesson_ui(ui, cx));
            cx.mark(Mark::LessonPanel, strip.response.rect);
        }
        // A student's checked backprop, under the views it opens.
        if let Some(checked) = &state.checked {
            let panel = egui::Panel::bottom("checked");
            let panel = if checked.folded {
                panel
            } else {
                panel.exact_size((room * 0.36).clamp(170.0, 340.0))
            };
            panel.show(ui, |ui| checked::checked_ui(ui, cx));
        }
        // The explanation belongs to the layer views: other tabs get the
        // whole width. Its width is the user's (drag the edge) and never
        // follows its content, so a click never moves the views.
        if state.settings.show_explain && state.tab == Tab::Backprop {
            let full = ui.available_width();
            let share = if compact(ui.ctx()) { 0.3 } else { 0.4 };
            let explain = egui::Panel::right("explain")
                .resizable(true)
                .default_size((full * 0.28).min(430.0))
                .min_size(180.0)
                .max_size(full * share)
                .show(ui, |ui| {
                    egui::ScrollArea::vertical()
                        .id_salt("explanation")
                        .auto_shrink([false, false])
                        .show(ui, |ui| self.explanation.ui(ui, cx));
                });
            cx.mark(Mark::Explain, explain.response.rect);
        }
        egui::CentralPanel::default_margins().show(ui, |ui| {
            let tabs = tabs_ui(ui, cx);
            cx.mark(Mark::Tabs, tabs);
            ui.separator();
            cx.mark(Mark::Views, ui.available_rect_before_wrap());
            match state.tab {
                Tab::Backprop => self.views.ui(ui, cx),
                Tab::Draw => self.draw.ui(ui, cx),
                Tab::Data => {
                    let action = self.data.ui(ui, &state.data, &state.data_source);
                    self.data.act(action);
                }
                Tab::Architecture => {
                    egui::ScrollArea::vertical()
                        .id_salt("architecture")
                        .show(ui, |ui| self.architecture.ui(ui, cx));
                }
                Tab::Mistakes => {
                    egui::ScrollArea::vertical()
                        .id_salt("mistakes")
                        .show(ui, |ui| self.mistakes.ui(ui, cx));
                }
                Tab::Experiment => {
                    egui::ScrollArea::vertical()
                        .id_salt("experiment")
                        .show(ui, |ui| self.experiment.ui(ui, cx));
                }
            }
        });
        shortcuts::shortcuts_window(ui, cx);
        welcome::welcome_ui(ui, cx);
        class_record::class_window(ui, cx);
        find_bug::find_bug_ui(ui, cx);
        lesson::highlight(ui.ctx(), cx);
    }
}

/// The row of tabs; on a small window one row that scrolls, whatever the
/// language.
fn tabs_ui(ui: &mut egui::Ui, cx: &mut Cx) -> egui::Rect {
    let current = cx.state.tab;
    let mut add = |ui: &mut egui::Ui| {
        for (tab, name, hover) in [
            (Tab::Backprop, tr("Backprop"), tr("The layer views: forward values, deltas, filter gradients, the update")),
            (Tab::Draw, tr("Draw a digit"), tr("Draw a digit and watch the network classify it")),
            (Tab::Data, tr("Data"), tr("The dataset: counts and samples; open another one")),
            (Tab::Experiment, tr("Frozen vs learning filters"), tr("The question's experiment: the same network trained with its filters frozen and learning")),
            (Tab::Mistakes, tr("Mistakes"), tr("The confusion matrix and the misclassified test digits")),
            (Tab::Architecture, tr("Architecture"), tr("Change the number of filters, the kernel, pooling, activation and FC width")),
        ] {
            if ui
                .selectable_label(current == tab, name)
                .on_hover_text(hover)
                .clicked()
            {
                cx.command(UiCommand::ShowTab(tab));
            }
        }
    };
    if compact(ui.ctx()) {
        egui::ScrollArea::horizontal()
            .id_salt("tabs")
            .show(ui, |ui| ui.horizontal(|ui| add(ui)))
            .inner
            .response
            .rect
    } else {
        ui.horizontal_wrapped(|ui| add(ui)).response.rect
    }
}
