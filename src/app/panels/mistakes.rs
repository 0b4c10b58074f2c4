//! Where the network goes wrong: the confusion matrix on the test set and a
//! gallery of misclassified digits; clicking one steps it through the views.

use std::sync::Arc;

use egui::{RichText, Ui};

use crate::app::command::UiCommand;
use crate::app::cx::Cx;
use crate::app::jobs::{Jobs, Repaint};
use crate::app::state::{MessageKind, Taught};
use crate::app::widgets::draw_pad::preview_ui;
use crate::app::widgets::heatmap::{legend_fit, text_on, ColorScale};
use crate::data::dataset::Mnist;
use crate::engine::network::Network;
use crate::i18n::tr;
use crate::teach::lesson::Tab;
use crate::training::{confusion, Confusion};
use crate::trf;

/// Misclassified digits shown at once.
const GALLERY: usize = 48;

pub struct Mistakes {
    jobs: Jobs<Option<Confusion>>,
    pub result: Option<Confusion>,
    /// The gallery shows only this cell's mistakes: (true digit, answer).
    pub filter: Option<(usize, usize)>,
}

impl Mistakes {
    pub fn new(repaint: Repaint) -> Mistakes {
        Mistakes {
            jobs: Jobs::new(repaint, |_| None),
            result: None,
            filter: None,
        }
    }

    pub fn running(&self) -> bool {
        self.jobs.running() > 0
    }

    /// Evaluates `net` on the test set on its own thread.
    pub fn start(&mut self, net: Network, data: Arc<Mnist>) {
        self.jobs.spawn("confusion", move |out| {
            out.send(Some(confusion(&net, &data.test)));
        });
    }

    /// Takes a finished evaluation (the app calls it every frame).
    pub fn poll(&mut self) {
        while let Some(result) = self.jobs.poll() {
            if result.is_some() {
                self.result = result;
            }
        }
    }
}

impl Mistakes {
    /// The confusion matrix: counts in the cells, coloured by the log of the
    /// count (the diagonal dwarfs the rest), the digits along both axes; a cell
    /// off the diagonal opens its mistakes in the gallery.
    fn matrix_ui(&mut self, ui: &mut Ui, result: &Confusion) {
        let logs: Vec<f32> = result
            .matrix
            .iter()
            .flatten()
            .map(|&c| (c as f32 + 1.0).ln())
            .collect();
        let max = logs.iter().fold(0.0f32, |m, &v| m.max(v));
        let scale = ColorScale::Sequential { min: 0.0, max };
        let largest = result.matrix.iter().flatten().copied().max().unwrap_or(0);
        ui.label(RichText::new(tr("true digit ↓ · the network's answer →")).strong());
        ui.horizontal(|ui| {
            ui.label(tr("colour: how many (log scale)"));
            legend_fit(ui, scale, 120.0);
            ui.label(format!("0 … {largest}"));
        });
        let cell = egui::vec2(42.0, 30.0);
        egui::Grid::new("confusion matrix")
            .spacing([2.0, 2.0])
            .show(ui, |ui| {
                ui.label("");
                for d in 0..10 {
                    ui.label(RichText::new(d.to_string()).strong());
                }
                ui.end_row();
                for (row, counts) in result.matrix.iter().enumerate() {
                    ui.label(RichText::new(row.to_string()).strong());
                    for (col, &count) in counts.iter().enumerate() {
                        let fill = scale.color((count as f32 + 1.0).ln());
                        let text = RichText::new(count.to_string())
                            .monospace()
                            .color(text_on(fill));
                        let text = if row == col { text.strong() } else { text };
                        let selected = self.filter == Some((row, col));
                        let button = egui::Button::new(text)
                            .fill(fill)
                            .min_size(cell)
                            .selected(selected);
                        let hover = if row == col {
                            trf!(
                                "{count} {digit}s answered right",
                                count = count,
                                digit = row
                            )
                        } else {
                            trf!(
                                "{count} {label}s answered {answer}: click to see them",
                                count = count,
                                label = row,
                                answer = col
                            )
                        };
                        if ui.add(button).on_hover_text(hover).clicked() && row != col {
                            self.filter = (!selected).then_some((row, col));
                        }
                    }
                    ui.end_row();
                }
            });
    }

    pub fn ui(&mut self, ui: &mut Ui, cx: &mut Cx) {
        ui.label(
            RichText::new(tr("Where does it go wrong?"))
                .strong()
                .size(18.0),
        );
        ui.horizontal(|ui| {
        let running = self.running();
        if ui
            .add_enabled(!running, egui::Button::new(tr("Evaluate on the test set")))
            .on_hover_text(tr(
                "Classify the 10,000 test digits with the network as it is now",
            ))
            .clicked()
        {
            if let Some(s) = &cx.state.snapshot {
                let (net, data) = (s.network.clone(), cx.state.data.clone());
                self.start(net, data);
            }
        }
        if running {
            ui.spinner();
        }
        if ui
            .button(tr("Load pretrained model"))
            .on_hover_text(tr("Replace the network by the trained model that ships with the program (useful for drawing)"))
            .clicked()
        {
            cx.command(UiCommand::LoadPretrained);
        }
    });
        let Some(result) = self.result.clone() else {
            ui.label(tr("The confusion matrix counts, for each true digit (row), which digit the network answered (column)."));
            return;
        };
        let total: u32 = result.matrix.iter().flatten().sum();
        let correct: u32 = (0..10).map(|d| result.matrix[d][d]).sum();
        ui.label(trf!(
            "{correct} of {total} right ({percent} %), {mistakes} mistakes",
            correct = correct,
            total = total,
            percent = format!("{:.2}", 100.0 * correct as f32 / total.max(1) as f32),
            mistakes = result.mistakes.len()
        ));
        ui.horizontal_top(|ui| {
        ui.vertical(|ui| self.matrix_ui(ui, &result));
        ui.vertical(|ui| {
            ui.label(trf!(
                "The first {n} mistakes (true → answer); click one to step it through the views:",
                n = GALLERY.min(result.mistakes.len())
            ));
            if let Some((label, answer)) = self.filter {
                ui.horizontal(|ui| {
                    ui.label(RichText::new(trf!("only {label} → {answer}", label = label, answer = answer)).strong());
                    if ui.button(tr("Show all")).clicked() {
                        self.filter = None;
                    }
                });
            }
            let filter = self.filter;
            let shown: Vec<(usize, usize)> = result
                .mistakes
                .iter()
                .filter(|&&(index, predicted)| {
                    filter.is_none_or(|(l, a)| cx.state.data.test.label(index) as usize == l && predicted == a)
                })
                .copied()
                .collect();
            let per_row = 8;
            for row in shown
                .iter()
                .take(GALLERY)
                .collect::<Vec<_>>()
                .chunks(per_row)
            {
                ui.horizontal(|ui| {
                    for &&(index, predicted) in row {
                        // The network's input, as in training.
                        let pixels: Vec<f32> =
                            cx.state.data.test.batch_input(&[index]).iter().copied().collect();
                        let label = cx.state.data.test.label(index);
                        ui.vertical(|ui| {
                            let name = trf!(
                                "test image {index}: a {label}, answered {predicted}",
                                index = index,
                                label = label,
                                predicted = predicted
                            );
                            let r = preview_ui(ui, &pixels, 56.0)
                                .interact(egui::Sense::click())
                                .on_hover_text(&name);
                            r.widget_info(|| {
                                egui::WidgetInfo::labeled(egui::Role::Button, true, &name)
                            });
                            if r.clicked() {
                                // Into the views as a one-sample step, and
                                // onto the pad with its right answer, to draw
                                // over and teach.
                                cx.command(UiCommand::ToPad(pixels.clone()));
                                cx.command(UiCommand::SetTeachLabel(label));
                                cx.command(UiCommand::Teach {
                                    pixels: pixels.clone(),
                                    label,
                                    what: Taught::TestDigit(index),
                                    guess: None,
                                });
                                cx.say(MessageKind::Info, move || {
                                    trf!(
                                        "A {label} the network read as {predicted}: step through its backward pass here; it is also on the pad in the Draw tab.",
                                        label = label,
                                        predicted = predicted
                                    )
                                });
                                cx.command(UiCommand::ShowTab(Tab::Backprop));
                            }
                            ui.label(format!("{label} → {predicted}"));
                        });
                    }
                });
            }
        });
    });
    }
}
