//! The loss and accuracy plots.

use egui::Ui;
use egui_plot::{Legend, Line, Plot, PlotPoints, Points};

use crate::app::BackpropApp;
use crate::i18n::tr;

/// Loss per batch and accuracy per epoch, kept across Run and Pause.
pub fn plots_ui(app: &mut BackpropApp, ui: &mut Ui) {
    ui.columns(2, |cols| {
        let losses = app.history.losses.clone();
        Plot::new("loss per batch")
            .x_axis_label(tr("batch"))
            .y_axis_label(tr("loss"))
            .include_y(0.0)
            .legend(Legend::default())
            .show(&mut cols[0], |plot| {
                plot.line(Line::new(tr("training loss"), PlotPoints::from(losses)));
            });
        let train: Vec<[f64; 2]> = app
            .history
            .epochs
            .iter()
            .map(|&(e, train, _)| [e as f64, train as f64 * 100.0])
            .collect();
        let test: Vec<[f64; 2]> = app
            .history
            .epochs
            .iter()
            .map(|&(e, _, te)| [e as f64, te as f64 * 100.0])
            .collect();
        Plot::new("accuracy per epoch")
            .x_axis_label(tr("epoch"))
            .y_axis_label(tr("accuracy %"))
            .include_y(0.0)
            .include_y(100.0)
            .legend(Legend::default())
            .show(&mut cols[1], |plot| {
                plot.line(Line::new(tr("train"), PlotPoints::from(train.clone())));
                plot.points(Points::new(tr("train"), PlotPoints::from(train)).radius(4.0));
                plot.line(Line::new(tr("test"), PlotPoints::from(test.clone())));
                plot.points(Points::new(tr("test"), PlotPoints::from(test)).radius(4.0));
            });
    });
}
