//! The panels of the window, one per file, and their layout: controls and
//! the pipeline strip on top, plots at the bottom, the explanation of the
//! clicked cell on the right, and in the middle one of the tabs (the
//! Backprop tab's layer views are `app/views`). Each panel reads the app's
//! state through a [`Cx`] and asks for changes with commands; a panel with
//! state of its own (the drawing, the experiment, the plots folded or not)
//! is a struct here that owns it. No panel imports another panel.

pub mod architecture;
pub mod checked;
pub mod class;
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

/// A student in a class on a phone-sized window (narrower than a tablet).
fn phone_student(ui: &egui::Ui, state: &AppState) -> bool {
    state.class.as_ref().is_some_and(|c| !c.teacher()) && ui.available_width() < 600.0
}

/// Every panel that keeps state of its own.
pub struct Panels {
    /// The explanation drawer (the classroom's): open, and what it was
    /// opened for (a new selection or reveal opens it again).
    drawer_open: bool,
    /// At the view's left edge (the click was on its right half).
    drawer_left: bool,
    drawer_for: Option<Option<crate::teach::explain::CellRef>>,
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
            drawer_open: false,
            drawer_left: false,
            drawer_for: None,
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

    /// The whole window. In the classroom (projector mode, or the lesson at
    /// any size) the step's equation has the height: one toolbar row, the
    /// tabs as a menu on a small window, the plots folded (or gone in the
    /// lesson unless its step is about them) and the explanation a drawer
    /// over the view that never shrinks it.
    pub fn ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx) {
        let state = cx.state;
        if phone_student(ui, state) {
            self.phone_ui(ui, cx);
            return;
        }
        let compact = compact(ui.ctx());
        let classroom = state.settings.projector || state.lesson.open.is_some();
        egui::Panel::top("controls").show(ui, |ui| {
            let controls = toolbar::toolbar_ui(ui, cx);
            cx.mark(Mark::Controls, controls);
            ui.separator();
            // A notice (a link's replay, the status message) takes the right
            // end of a row that is there anyway, never a row of its own: it
            // never pushes the views down. In the lesson on a small window
            // its bar says where we are and the maps need the phase's line,
            // so the notice joins the pipeline's row.
            let phase_line = !(compact && state.lesson.open.is_some());
            let pipeline = ui
                .horizontal(|ui| {
                    let notice = if phase_line {
                        0.0
                    } else {
                        pipeline::notice_width(ui, cx)
                    };
                    if compact {
                        // The tabs as a menu: the row they took is the view's.
                        let tabs = tab_menu_ui(ui, cx);
                        cx.mark(Mark::Tabs, tabs);
                    }
                    let left = ui.available_width() - notice;
                    let strip = ui
                        .scope(|ui| {
                            ui.set_max_width(left);
                            pipeline::pipeline_ui(ui, cx)
                        })
                        .response
                        .rect;
                    pipeline::notice_ui(ui, cx, notice);
                    strip
                })
                .inner;
            cx.mark(Mark::Pipeline, pipeline);
            if phase_line {
                ui.horizontal(|ui| {
                    // As tall as a notice's button, with or without one.
                    ui.set_min_height(pipeline::notice_height(ui));
                    let notice = pipeline::notice_width(ui, cx);
                    let left = egui::vec2(ui.available_width() - notice, 0.0);
                    // Top-down, so the sentence wraps in its width.
                    let down = egui::Layout::top_down(egui::Align::Min);
                    ui.allocate_ui_with_layout(left, down, |ui| {
                        ui.set_max_width(left.x);
                        pipeline::phase_line_ui(ui, cx);
                    });
                    pipeline::notice_ui(ui, cx, notice);
                });
                pipeline::dead_filters_ui(ui, cx);
            }
        });
        // The live class: the teacher's panel at the right, a student's strip.
        class::class_ui(ui, cx);
        // The plots take at most a fifth of the window; on a short window
        // (a 720p projector at 1.4x) they fold into one line that opens
        // them, so they stay one click away without taking the views' room.
        // In the lesson they show only when its step is about them.
        let room = ui.available_height();
        let lesson_mark = state.lesson_mark();
        let plots_wanted = match lesson_mark {
            Some(mark) => mark == Mark::Plots,
            None => true,
        };
        // While a check is open its panel takes the plots' place.
        if state.settings.show_plots && state.checked.is_none() && plots_wanted {
            let folded = compact && !self.plots.open && lesson_mark != Some(Mark::Plots);
            let plots = egui::Panel::bottom("plots").resizable(false);
            let plots = if folded {
                plots.show(ui, |ui| self.plots.folded_ui(ui, cx))
            } else {
                let share = if self.plots.open || lesson_mark.is_some() {
                    0.45
                } else {
                    0.2
                };
                let height = (room * share).clamp(90.0, 200.0);
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
        // follows its content, so a click never moves the views. In the
        // classroom it is a drawer over the view instead.
        let explain_here = state.settings.show_explain && state.tab == Tab::Backprop;
        if explain_here && !classroom {
            let full = ui.available_width();
            let share = if compact { 0.3 } else { 0.4 };
            let explain = egui::Panel::right("explain")
                .resizable(true)
                .default_size((full * 0.28).min(430.0))
                .min_size(180.0)
                .max_size(full * share)
                .show(ui, |ui| {
                    egui::ScrollArea::vertical()
                        .id_salt("explanation")
                        .auto_shrink([false, false])
                        .show(ui, |ui| self.explanation.ui(ui, cx, false));
                });
            cx.mark(Mark::Explain, explain.response.rect);
        }
        egui::CentralPanel::default_margins().show(ui, |ui| {
            if !compact {
                let tabs = tabs_ui(ui, cx);
                cx.mark(Mark::Tabs, tabs);
                ui.separator();
            }
            let views = ui.available_rect_before_wrap();
            cx.mark(Mark::Views, views);
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
            if explain_here && classroom {
                self.explanation_drawer(ui, cx, views);
            }
        });
        shortcuts::shortcuts_window(ui, cx);
        welcome::welcome_ui(ui, cx);
        class_record::class_window(ui, cx);
        find_bug::find_bug_ui(ui, cx);
        lesson::highlight(ui.ctx(), cx);
        if state.blanked {
            blank_ui(ui.ctx(), cx);
        }
    }

    /// A student's phone in a class: the class's strip, then the step the
    /// teacher is on, its question first (no toolbar, plots or tabs: the
    /// teacher drives, the student answers and looks).
    fn phone_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx) {
        class::class_ui(ui, cx);
        egui::CentralPanel::default_margins().show(ui, |ui| {
            let views = ui.available_rect_before_wrap();
            cx.mark(Mark::Views, views);
            egui::ScrollArea::both()
                .id_salt("phone")
                .auto_shrink([false, false])
                .show(ui, |ui| self.views.ui(ui, cx));
        });
        shortcuts::shortcuts_window(ui, cx);
    }

    /// The explanation as a drawer at the right edge of the view, over it:
    /// opened by a new selection or a prediction's reveal, closed with ✕
    /// (the view underneath keeps its size, so a click never moves it).
    fn explanation_drawer(&mut self, ui: &mut egui::Ui, cx: &mut Cx, views: egui::Rect) {
        let state = cx.state;
        let shown = state.selected.clone();
        if self.drawer_for.as_ref() != Some(&shown) {
            // A new cell clicked: the drawer opens on its sum (a reveal's
            // verdict is over the view; its Explain it selects the cell),
            // on the side of the view away from the click, so the map
            // clicked stays in sight.
            self.drawer_open = shown.is_some();
            self.drawer_for = Some(shown);
            let clicked_at = ui.ctx().input(|i| i.pointer.latest_pos());
            self.drawer_left = clicked_at.is_some_and(|p| p.x > views.center().x);
        }
        // At the bottom right, where the equations leave room.
        let toggle = egui::Rect::from_min_size(
            views.right_bottom() - egui::vec2(44.0, 32.0),
            egui::vec2(40.0, 28.0),
        );
        if !self.drawer_open {
            let button = ui.put(toggle, egui::Button::new("?"));
            if button
                .on_hover_text(tr("How was this number computed? (the explanation)"))
                .clicked()
            {
                self.drawer_open = true;
            }
            return;
        }
        let width = (views.width() * 0.42).clamp(240.0, 420.0);
        let left = if self.drawer_left {
            views.left()
        } else {
            views.right() - width
        };
        let area = egui::Rect::from_min_max(
            egui::pos2(left, views.top()),
            egui::pos2(left + width, views.bottom()),
        );
        let drawer = egui::Area::new(egui::Id::unique("explanation drawer"))
            .order(egui::Order::Foreground)
            .fixed_pos(area.min)
            .show(ui.ctx(), |ui| {
                egui::Frame::popup(ui.style()).show(ui, |ui| {
                    ui.set_width(width - 16.0);
                    ui.set_max_height(area.height() - 16.0);
                    ui.horizontal(|ui| {
                        ui.with_layout(egui::Layout::right_to_left(egui::Align::Min), |ui| {
                            if ui.button("✕").on_hover_text(tr("Close")).clicked() {
                                self.drawer_open = false;
                            }
                        });
                    });
                    egui::ScrollArea::vertical()
                        .id_salt("explanation drawer")
                        .auto_shrink([false, false])
                        .show(ui, |ui| self.explanation.ui(ui, cx, true));
                });
            });
        cx.mark(Mark::Explain, drawer.response.rect);
    }
}

/// The screen blanked (B): black over everything, so the class looks at
/// the teacher; a click, like any key, brings it back.
fn blank_ui(ctx: &egui::Context, cx: &mut Cx) {
    let screen = ctx.content_rect();
    egui::Area::new(egui::Id::unique("blank screen"))
        .order(egui::Order::Debug)
        .fixed_pos(screen.min)
        .show(ctx, |ui| {
            let (rect, response) = ui.allocate_exact_size(screen.size(), egui::Sense::click());
            ui.painter().rect_filled(rect, 0.0, egui::Color32::BLACK);
            if response.clicked() {
                cx.command(UiCommand::Blank(false));
            }
        });
}

/// The tabs as one menu (a small window: their row is the view's).
fn tab_menu_ui(ui: &mut egui::Ui, cx: &mut Cx) -> egui::Rect {
    let response = ui.menu_button(format!("{} ▾", tab_name(cx.state.tab)), |ui| {
        if tab_entries_ui(ui, cx) {
            ui.close();
        }
    });
    response
        .response
        .on_hover_text(tr(
            "The tabs: the layer views, drawing, data, the experiment, mistakes, the architecture",
        ))
        .rect
}

/// One entry per tab (in a row or a menu); whether one was clicked.
fn tab_entries_ui(ui: &mut egui::Ui, cx: &mut Cx) -> bool {
    let current = cx.state.tab;
    let mut clicked = false;
    for (tab, name, hover) in tab_names() {
        if ui
            .selectable_label(current == tab, name)
            .on_hover_text(hover)
            .clicked()
        {
            cx.command(UiCommand::ShowTab(tab));
            clicked = true;
        }
    }
    clicked
}

/// Every tab with its name and what it holds, in the current language.
fn tab_names() -> [(Tab, &'static str, &'static str); 6] {
    [
        (Tab::Backprop, tr("Backprop"), tr("The layer views: forward values, deltas, filter gradients, the update")),
        (Tab::Draw, tr("Draw a digit"), tr("Draw a digit and watch the network classify it")),
        (Tab::Data, tr("Data"), tr("The dataset: counts and samples; open another one")),
        (Tab::Experiment, tr("Frozen vs learning filters"), tr("The question's experiment: the same network trained with its filters frozen and learning")),
        (Tab::Mistakes, tr("Mistakes"), tr("The confusion matrix and the misclassified test digits")),
        (Tab::Architecture, tr("Architecture"), tr("Change the number of filters, the kernel, pooling, activation and FC width")),
    ]
}

fn tab_name(tab: Tab) -> &'static str {
    tab_names()
        .into_iter()
        .find(|(t, _, _)| *t == tab)
        .map_or("", |(_, name, _)| name)
}

/// The row of tabs.
fn tabs_ui(ui: &mut egui::Ui, cx: &mut Cx) -> egui::Rect {
    ui.horizontal_wrapped(|ui| tab_entries_ui(ui, cx))
        .response
        .rect
}
