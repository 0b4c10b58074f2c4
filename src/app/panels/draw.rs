//! The "Draw a digit" tab: the pad, what the network sees (the engine's
//! MNIST-style preprocessing), the ten probabilities live, and "teach it":
//! one backpropagation step on the drawing, stepped through in the views.

use egui::{RichText, Ui};

use crate::app::command::{ClassMove, UiCommand};
use crate::app::cx::Cx;
use crate::app::state::Taught;
use crate::app::widgets::draw_pad::{preview_ui, probabilities_ui, DrawPad};
use crate::i18n::tr;
use crate::teach::lesson::Tab;
use crate::trf;

/// The Draw tab: the drawing, and the digit the learner predicts the
/// network will answer after teaching it (Predict mode).
pub struct Draw {
    pub pad: DrawPad,
    pub pick: Option<u8>,
}

impl Default for Draw {
    fn default() -> Self {
        Draw {
            pad: DrawPad::new(),
            pick: None,
        }
    }
}

impl Draw {
    pub fn ui(&mut self, ui: &mut Ui, cx: &mut Cx) {
        egui::ScrollArea::vertical().id_salt("draw tab").show(ui, |ui| {
            crate::app::style::note_ui(ui, tr("Draw a digit with the mouse, a finger or a pen. The network sees the 28x28 picture in the middle: your drawing cropped to its ink, scaled to 20 pixels and centred, exactly as MNIST was made."), false);
            // Three columns side by side; in a narrow window (a projector)
            // the probabilities come right after the pad, then the small
            // 28x28 picture with teaching it below.
            // Narrower still (a projector beside the class's panel), the
            // probabilities go under the pad.
            // While the class predicts about a drawing, what the network
            // thinks now stays covered (as a step is, until the reveal), and
            // the question and the room's answers take its room.
            let covered = cx
                .state
                .class
                .as_ref()
                .is_some_and(|c| c.teacher() && c.drawing.is_some() && c.revealed.is_none());
            let width = ui.available_width();
            let side_by_side = !covered && width >= self.pad.side + 300.0 + 420.0 + 48.0;
            let under = !covered && width < self.pad.side + 250.0 + 300.0 + 48.0;
            let mut pixels = None;
            ui.horizontal_top(|ui| {
                ui.vertical(|ui| {
                    ui.label(RichText::new(tr("Your drawing")).strong());
                    self.pad.ui(ui);
                    if under {
                        ui.add_space(8.0);
                        ui.set_max_width(self.pad.side.max(250.0));
                        answer_ui(cx, ui, self.pad.mnist_pixels().as_deref());
                    }
                });
                ui.add_space(16.0);
                pixels = self.pad.mnist_pixels();
                if !side_by_side && !under && !covered {
                    ui.vertical(|ui| {
                        ui.set_max_width(250.0);
                        answer_ui(cx, ui, pixels.as_deref());
                    });
                    ui.add_space(12.0);
                }
                ui.vertical(|ui| {
                    if covered {
                        // (The question shows the drawing asked about.)
                        ui.set_max_width(ui.available_width().min(600.0));
                    } else {
                        ui.set_max_width(300.0);
                        ui.label(RichText::new(tr("What the network sees (28x28)")).strong());
                        match &pixels {
                            Some(p) => {
                                preview_ui(ui, p, if side_by_side { 196.0 } else { 96.0 });
                            }
                            None => {
                                ui.label(tr("(nothing drawn yet)"));
                            }
                        }
                        ui.add_space(8.0);
                    }
                    self.teach_ui(cx, ui);
                });
                if side_by_side {
                    ui.add_space(16.0);
                    ui.vertical(|ui| answer_ui(cx, ui, pixels.as_deref()));
                }
            });
        });
    }
}

/// The ten probabilities for the drawing, and the pretrained model.
fn answer_ui(cx: &mut Cx, ui: &mut Ui, pixels: Option<&[f32]>) {
    ui.set_max_width(ui.max_rect().width().min(420.0));
    ui.label(RichText::new(tr("What it thinks")).strong());
    match pixels.and_then(|p| cx.state.classify(p)) {
        Some(probs) => probabilities_ui(ui, &probs, None),
        None => {
            ui.label(tr("Draw something to see the ten probabilities."));
        }
    }
    ui.add_space(12.0);
    if ui.button(tr("Load pretrained model")).on_hover_text(tr("Use the trained model that ships with the program, so the pad is useful before any training")).clicked() {
        cx.command(UiCommand::LoadPretrained);
    }
}

impl Draw {
    /// The label the drawing is taught with.
    fn label_ui(&mut self, cx: &mut Cx, ui: &mut Ui) {
        ui.label(RichText::new(tr("Teach it")).strong().size(18.0));
        ui.label(tr("Pick the right answer, then run one backpropagation step on your drawing alone and step through it in the Backprop tab."));
        for row in [0u8..5, 5..10] {
            ui.horizontal(|ui| {
                for d in row {
                    let r = ui
                        .selectable_label(
                            cx.state.teach_label == d,
                            RichText::new(d.to_string()).size(20.0),
                        )
                        .on_hover_text(trf!("The drawing shows a {digit}", digit = d));
                    if r.clicked() {
                        cx.command(UiCommand::SetTeachLabel(d));
                    }
                }
            });
        }
    }

    /// "Teach it": the correct label and one backpropagation step on the
    /// drawing; before it, the digit predicted (Predict mode), or in a class
    /// the room asked.
    fn teach_ui(&mut self, cx: &mut Cx, ui: &mut Ui) {
        // A class's teacher asks the room instead of predicting alone; a
        // question asked is about its own drawing and label, which is what
        // is taught (the label row gives way to it, and the room's answers
        // show under it).
        let class = cx.state.class.as_ref().filter(|c| c.teacher());
        let asked = class.and_then(|c| c.drawing.as_ref().filter(|_| c.revealed.is_none()));
        let predicting = cx.state.predicting() && class.is_none();
        match (asked, class) {
            (Some(d), _) => {
                ui.horizontal_top(|ui| {
                    preview_ui(ui, &d.values(), 72.0);
                    // (In a column of its own, so that the words wrap.)
                    ui.vertical(|ui| {
                        ui.label(
                            RichText::new(trf!(
                                "The class predicts which digit the network will answer after one step on this drawing, taught as a {label}. Teach it, step through to the update, then reveal.",
                                label = d.label
                            ))
                            .size(16.0)
                            .strong(),
                        )
                    });
                });
            }
            (None, Some(_)) => {
                self.label_ui(cx, ui);
                ui.add_space(6.0);
                let ask = ui
                    .add_enabled(
                        !self.pad.is_empty(),
                        egui::Button::new(RichText::new(tr("Ask the class first")).strong()),
                    )
                    .on_hover_text(tr(
                        "Every student predicts which digit the network will answer after one step on this drawing with this label",
                    ));
                if ask.clicked() {
                    if let Some(pixels) = self.pad.mnist_pixels() {
                        cx.command(UiCommand::Class(ClassMove::AskDrawing {
                            pixels,
                            label: cx.state.teach_label,
                        }));
                    }
                }
            }
            (None, None) => self.label_ui(cx, ui),
        }
        // Predicting: first the digit the network will answer after the step.
        if predicting {
            ui.add_space(6.0);
            ui.label(
                RichText::new(tr(
                    "Predict first: after this one step, which digit will the network answer?",
                ))
                .strong(),
            );
            ui.horizontal_wrapped(|ui| {
                for d in 0..10u8 {
                    if ui
                        .selectable_label(
                            self.pick == Some(d),
                            RichText::new(d.to_string()).size(20.0),
                        )
                        .clicked()
                    {
                        self.pick = Some(d);
                    }
                }
            });
        }
        let enabled =
            (asked.is_some() || !self.pad.is_empty()) && (!predicting || self.pick.is_some());
        if ui.add_enabled(enabled, egui::Button::new(tr("Teach it this digit"))).on_hover_text(tr("Start a one-sample batch with your drawing and this label; step through it with Step layer")).clicked() {
            let taught = match asked {
                Some(d) => Some((d.values(), d.label)),
                None => self.pad.mnist_pixels().map(|p| (p, cx.state.teach_label)),
            };
            if let Some((pixels, label)) = taught {
                cx.command(UiCommand::Teach {
                    pixels,
                    label,
                    what: Taught::Drawing,
                    guess: self.pick.filter(|_| predicting),
                });
                cx.command(UiCommand::ShowTab(Tab::Backprop));
            }
        }
        if let Some(c) = class.filter(|c| asked.is_some() && c.show_tally) {
            let labels = c
                .question
                .as_ref()
                .map(|q| q.options.clone())
                .unwrap_or_default();
            crate::app::widgets::prediction::room_ui(ui, &labels, c);
        }
    }
}
