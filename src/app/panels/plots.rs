//! The loss and accuracy plots: the loss of every batch, and the accuracy
//! both as a running average over recent batches (it moves from the first
//! batches) and per epoch on the test set. Empty plots show the axes they
//! will fill (loss from 0 to ln 10, accuracy 0–100 % over the first epoch).

use egui::Ui;
use egui_plot::{Legend, Line, Plot, PlotPoints, Points};

use crate::app::cx::Cx;
use crate::app::state::RUNNING_BATCHES;
use crate::i18n::tr;
use crate::trf;

/// The colours of the lines, so that legends and captions match them.
const LOSS: egui::Color32 = egui::Color32::from_rgb(230, 120, 20);
const RUNNING: egui::Color32 = egui::Color32::from_rgb(120, 170, 230);
const TRAIN: egui::Color32 = egui::Color32::from_rgb(60, 120, 216);
const TEST: egui::Color32 = egui::Color32::from_rgb(40, 160, 80);

/// The plots panel: unfolded on a small window or not.
#[derive(Debug, Default)]
pub struct Plots {
    /// The plots unfolded on a small window.
    pub open: bool,
}

impl Plots {
    /// Loss per batch and accuracy, kept across Run and Pause.
    pub fn ui(&mut self, ui: &mut Ui, cx: &mut Cx) {
        if self.open
            && ui
                .small_button(tr("▾ Hide the plots"))
                .on_hover_text(tr("Fold the plots into one line again"))
                .clicked()
        {
            self.open = false;
        }
        ui.columns(2, |cols| {
            let losses = cx.state.history.losses.clone();
            Plot::new("loss per batch")
                .x_axis_label(tr("batch"))
                .y_axis_label(tr("loss"))
                // An untrained network starts near ln 10 ≈ 2.3.
                .include_x(0.0)
                .include_x(10.0)
                .include_y(0.0)
                .include_y(2.5)
                .legend(Legend::default())
                .show(&mut cols[0], |plot| {
                    plot.line(Line::new(tr("training loss"), PlotPoints::from(losses)).color(LOSS));
                });
            let per_epoch = |pick: fn(&(usize, f32, f32)) -> f32| -> Vec<[f64; 2]> {
                cx.state
                    .history
                    .epochs
                    .iter()
                    .map(|e| [e.0 as f64, f64::from(pick(e)) * 100.0])
                    .collect()
            };
            let (train, test) = (per_epoch(|e| e.1), per_epoch(|e| e.2));
            let running = cx.state.history.running_accuracy.clone();
            Plot::new("accuracy")
                .x_axis_label(tr("epoch"))
                .y_axis_label(tr("accuracy %"))
                .include_x(0.0)
                .include_x(1.0)
                .include_y(0.0)
                .include_y(100.0)
                .legend(Legend::default())
                .show(&mut cols[1], |plot| {
                    plot.line(
                        Line::new(
                            trf!("train, last {count} batches", count = RUNNING_BATCHES),
                            PlotPoints::from(running),
                        )
                        .color(RUNNING),
                    );
                    plot.line(
                        Line::new(tr("train, per epoch"), PlotPoints::from(train.clone()))
                            .color(TRAIN),
                    );
                    plot.points(
                        Points::new(tr("train, per epoch"), PlotPoints::from(train))
                            .radius(4.0)
                            .color(TRAIN),
                    );
                    plot.line(
                        Line::new(tr("test, per epoch"), PlotPoints::from(test.clone()))
                            .color(TEST),
                    );
                    plot.points(
                        Points::new(tr("test, per epoch"), PlotPoints::from(test))
                            .radius(4.0)
                            .color(TEST),
                    );
                });
        });
    }

    /// The plots folded into one line (a small window): the latest numbers and
    /// a button that opens them.
    pub fn folded_ui(&mut self, ui: &mut Ui, cx: &mut Cx) {
        ui.horizontal(|ui| {
            if ui
                .button(tr("▸ Plots"))
                .on_hover_text(tr("Show the loss and accuracy plots"))
                .clicked()
            {
                self.open = true;
            }
            if let Some(&[batch, loss]) = cx.state.history.losses.last() {
                ui.label(trf!(
                    "loss {loss} at batch {batch}",
                    loss = format!("{loss:.3}"),
                    batch = batch
                ));
            }
            if let Some(&[_, accuracy]) = cx.state.history.running_accuracy.last() {
                ui.label(trf!(
                    "· {accuracy} % right over the last batches",
                    accuracy = format!("{accuracy:.0}")
                ));
            }
            if let Some(&(epoch, _, test)) = cx.state.history.epochs.last() {
                ui.label(trf!(
                    "· test accuracy {accuracy} % after epoch {epoch}",
                    accuracy = format!("{:.1}", test * 100.0),
                    epoch = epoch
                ));
            }
        });
    }
}
