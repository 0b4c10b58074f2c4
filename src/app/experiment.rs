//! The question's experiment, side by side: two copies of the same network
//! from the same start, one with its conv filters frozen (the student's
//! ~94 %), one with them learning. They train on their own thread (the
//! stepping worker stays free) and report test accuracy after each epoch.

use std::sync::mpsc::{channel, Receiver};
use std::sync::Arc;

use egui::{RichText, Ui, Vec2};
use egui_plot::{Legend, Line, Plot, PlotPoints, Points};

use super::heatmap::{legend_ui, ColorScale, Heatmap};
use super::worker::TrainConfig;
use crate::data::dataset::Mnist;
use crate::engine::network::Network;
use crate::engine::optim::Optimizer;
use crate::engine::stepper::Stepper;
use crate::i18n::tr;
use crate::training::{evaluate, Trainer};
use crate::trf;

/// The two runs' names, in display order (and in the current language).
pub fn runs() -> [&'static str; 2] {
    [tr("filters frozen"), tr("filters learning")]
}

pub enum ExperimentEvent {
    /// `(run, epoch, test accuracy)`
    Epoch(usize, usize, f32),
    /// The two networks at the end, in [`runs`] order.
    Done(Box<[Network; 2]>),
    Failed(String),
}

#[derive(Default)]
pub struct Experiment {
    pub epochs: usize,
    rx: Option<Receiver<ExperimentEvent>>,
    /// Test accuracy per epoch, `[epoch, %]`, per run.
    pub points: [Vec<[f64; 2]>; 2],
    pub result: Option<Box<[Network; 2]>>,
    pub error: Option<String>,
}

impl Experiment {
    pub fn new(epochs: usize) -> Experiment {
        Experiment {
            epochs,
            ..Default::default()
        }
    }

    pub fn running(&self) -> bool {
        self.rx.is_some()
    }

    /// Starts both runs from the same initial network.
    pub fn start(
        &mut self,
        ctx: &egui::Context,
        config: &TrainConfig,
        start: Option<Network>,
        data: Arc<Mnist>,
    ) {
        let (tx, rx) = channel();
        self.rx = Some(rx);
        self.points = Default::default();
        self.result = None;
        self.error = None;
        let (config, epochs, ctx) = (config.clone(), self.epochs.max(1), ctx.clone());
        // Its one message is written on the thread, in the app's language.
        let lang = crate::i18n::language();
        std::thread::Builder::new()
            .name("experiment".into())
            .spawn(move || {
                crate::i18n::set_language(lang);
                // A preset may name a file: it is read here, never on the
                // UI thread.
                let network = match start.map(Ok).unwrap_or_else(|| {
                    crate::presets::network_from_preset(&config.preset, config.seed)
                }) {
                    Ok(net) => net,
                    Err(e) => {
                        let _ = tx.send(ExperimentEvent::Failed(e.to_string()));
                        ctx.request_repaint();
                        return;
                    }
                };
                let train = Arc::new(data.train.clone());
                let mut finished = Vec::new();
                for (run, freeze) in [true, false].into_iter().enumerate() {
                    let mut stepper =
                        Stepper::new(network.clone(), Optimizer::new(config.optimizer, config.lr));
                    stepper.freeze_conv = freeze;
                    let mut trainer =
                        Trainer::new(stepper, train.clone(), config.batch, config.seed);
                    trainer.schedule_over = Some(train.len() * epochs);
                    for epoch in 1..=epochs {
                        trainer.run_epoch(|_, _| {});
                        let accuracy = evaluate(&trainer.stepper.network, &data.test).accuracy;
                        if tx
                            .send(ExperimentEvent::Epoch(run, epoch, accuracy))
                            .is_err()
                        {
                            return; // the app is gone
                        }
                        ctx.request_repaint();
                    }
                    finished.push(trainer.stepper.network);
                }
                let [frozen, learning]: [Network; 2] = match finished.try_into() {
                    Ok(pair) => pair,
                    Err(_) => {
                        let _ = tx.send(ExperimentEvent::Failed(
                            tr("the experiment stopped early").into(),
                        ));
                        return;
                    }
                };
                let _ = tx.send(ExperimentEvent::Done(Box::new([frozen, learning])));
                ctx.request_repaint();
            })
            .expect("the experiment thread starts");
    }

    pub fn poll(&mut self) {
        let Some(rx) = &self.rx else { return };
        while let Ok(event) = rx.try_recv() {
            match event {
                ExperimentEvent::Epoch(run, epoch, accuracy) => {
                    self.points[run].push([epoch as f64, accuracy as f64 * 100.0])
                }
                ExperimentEvent::Done(networks) => {
                    self.result = Some(networks);
                    self.rx = None;
                    return;
                }
                ExperimentEvent::Failed(text) => {
                    self.error = Some(text);
                    self.rx = None;
                    return;
                }
            }
        }
    }
}

/// The Experiment tab.
pub fn experiment_ui(app: &mut super::BackpropApp, ui: &mut Ui) {
    app.experiment.poll();
    let runs = runs();
    ui.label(
        RichText::new(tr(
            "The question's experiment: frozen filters against learning ones",
        ))
        .strong()
        .size(18.0),
    );
    ui.label(trf!(
        "Two copies of the {network} network start from the same weights (seed {seed}). One keeps its conv filters as they were initialised, as in the question (only the FC layers learn); the other lets backpropagation reach the filters. Both see the same batches.",
        network = if app.start_network.is_some() { tr("loaded") } else { app.config.preset.as_str() },
        seed = app.config.seed
    ));
    ui.horizontal(|ui| {
        let label = ui.label(tr("Epochs:"));
        ui.add(egui::DragValue::new(&mut app.experiment.epochs).range(1..=30)).labelled_by(label.id).on_hover_text(tr("How many passes over the training set each copy makes"));
        let running = app.experiment.running();
        if ui.add_enabled(!running, egui::Button::new(tr("Run the experiment"))).on_hover_text(tr("Train both copies on their own thread; test accuracy is measured after every epoch")).clicked() {
            let ctx = ui.ctx().clone();
            let (config, start, data) = (app.config.clone(), app.start_network.clone(), app.data.clone());
            app.experiment.start(&ctx, &config, start, data);
        }
        if running {
            ui.spinner();
            ui.label(tr("training…"));
        }
    });
    if let Some(error) = &app.experiment.error {
        ui.label(RichText::new(error).color(egui::Color32::from_rgb(220, 60, 60)));
    }
    let points = app.experiment.points.clone();
    for (run, p) in points.iter().enumerate() {
        if let Some(last) = p.last() {
            ui.label(
                RichText::new(trf!(
                    "{run}: {percent} % after epoch {epoch}",
                    run = runs[run],
                    percent = format!("{:.2}", last[1]),
                    epoch = last[0]
                ))
                .monospace(),
            );
        }
    }
    Plot::new("experiment accuracy")
        .height(220.0)
        .x_axis_label(tr("epoch"))
        .y_axis_label(tr("test accuracy %"))
        .legend(Legend::default())
        .show(ui, |plot| {
            for (run, p) in points.into_iter().enumerate() {
                plot.line(Line::new(runs[run], PlotPoints::from(p.clone())));
                plot.points(Points::new(runs[run], PlotPoints::from(p)).radius(4.0));
            }
        });
    if let Some(networks) = &app.experiment.result {
        ui.label(RichText::new(tr("The filters at the end")).strong());
        ui.horizontal_top(|ui| {
            for (run, net) in networks.iter().enumerate() {
                ui.vertical(|ui| {
                    ui.label(runs[run]);
                    for (spec, layer) in net.specs.iter().zip(&net.layers) {
                        let Some((w, _)) = layer.params() else {
                            continue;
                        };
                        if w.value.ndim() != 4 {
                            continue;
                        }
                        let (cout, cin, k) =
                            (w.value.shape()[0], w.value.shape()[1], w.value.shape()[2]);
                        let values: Vec<f32> = w.value.iter().copied().collect();
                        let scale = ColorScale::diverging(&values);
                        ui.label(trf!(
                            "{layer} ({cout}x{cin} filters)",
                            layer = spec.name,
                            cout = cout,
                            cin = cin
                        ));
                        legend_ui(ui, scale);
                        for o in 0..cout.min(4) {
                            ui.horizontal(|ui| {
                                for c in 0..cin.min(4) {
                                    let f: Vec<f32> =
                                        (0..k * k).map(|t| w.value[[o, c, t / k, t % k]]).collect();
                                    Heatmap::new(
                                        &f,
                                        k,
                                        k,
                                        trf!(
                                            "{run} {layer} filter [{o},{c}]",
                                            run = runs[run],
                                            layer = spec.name,
                                            o = o,
                                            c = c
                                        ),
                                    )
                                    .scale(scale)
                                    .fit(Vec2::splat(150.0), 48.0)
                                    .show(ui);
                                }
                            });
                        }
                    }
                });
            }
        });
    }
}
