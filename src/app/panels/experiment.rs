//! The question's experiment, side by side: two copies of the same network
//! from the same start, one with its conv filters frozen (the student's
//! ~94 %), one with them learning. They train on their own thread (the
//! stepping worker stays free) and report test accuracy after each epoch.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use egui::{RichText, Ui, Vec2};
use egui_plot::{Legend, Line, Plot, PlotPoints, Points};

use crate::app::cx::Cx;
use crate::app::jobs::{Jobs, Repaint};
use crate::app::style::ERROR;
use crate::app::widgets::heatmap::{legend_ui, ColorScale, Heatmap};
use crate::app::worker::TrainConfig;
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

pub struct Experiment {
    pub epochs: usize,
    /// Results, tagged with the number of the start they belong to.
    jobs: Jobs<(u64, ExperimentEvent)>,
    /// The current start's number, and whether it is still running.
    started: u64,
    running: bool,
    /// Tells the previous run, if any, to stop (its results are stale).
    cancel: Arc<AtomicBool>,
    /// Test accuracy per epoch, `[epoch, %]`, per run.
    pub points: [Vec<[f64; 2]>; 2],
    pub result: Option<Box<[Network; 2]>>,
    pub error: Option<String>,
    /// The test digit both networks are shown on.
    pub digit: usize,
    /// Their conv layers' feature maps of that digit, once worked out.
    features: Option<(usize, Box<[Vec<FeatureMaps>; 2]>)>,
}

/// One conv layer's output for one digit: `channels` maps of `h`×`w`.
pub struct FeatureMaps {
    pub layer: String,
    pub channels: usize,
    pub h: usize,
    pub w: usize,
    pub values: Vec<f32>,
}

impl FeatureMaps {
    /// Every conv layer's maps in `net`'s forward pass of test image `i`
    /// (the engine's own forward, one sample).
    pub fn of(net: &Network, test: &crate::data::dataset::Dataset, i: usize) -> Vec<FeatureMaps> {
        let x = test.batch_input(&[i]);
        let outputs = net.activations(&x);
        net.specs
            .iter()
            .zip(&outputs)
            .filter(|(spec, _)| matches!(spec.kind, crate::engine::layers::LayerKind::Conv { .. }))
            .filter_map(|(spec, out)| {
                let &[_, channels, h, w] = out.shape() else {
                    return None;
                };
                Some(FeatureMaps {
                    layer: spec.name.clone(),
                    channels,
                    h,
                    w,
                    values: out.iter().copied().collect(),
                })
            })
            .collect()
    }

    fn channel(&self, c: usize) -> &[f32] {
        &self.values[c * self.h * self.w..(c + 1) * self.h * self.w]
    }
}

/// The experiment under way: run 0 (frozen) then run 1 (learning), each
/// from the same start.
struct Runs {
    start: Option<Network>,
    data: Arc<Mnist>,
    /// The training set, copied once in the job (not on the UI thread).
    train: Option<Arc<crate::data::dataset::Dataset>>,
    trainer: Option<Trainer>,
    /// The epoch the current run is in (from 1).
    epoch: usize,
    finished: Vec<Network>,
}

impl Runs {
    /// The current run's trainer, built when a run begins; `None` when both
    /// are done.
    fn trainer(
        &mut self,
        config: &TrainConfig,
        epochs: usize,
    ) -> Result<Option<&mut Trainer>, String> {
        let run = self.finished.len();
        if run == 2 {
            return Ok(None);
        }
        if self.trainer.is_none() {
            let network = match &self.start {
                Some(net) => net.clone(),
                None => crate::presets::network_from_preset(&config.preset, config.seed)
                    .map_err(|e| e.to_string())?,
            };
            let mut stepper = Stepper::new(network, Optimizer::new(config.optimizer, config.lr));
            stepper.freeze_conv = run == 0;
            let data = &self.data;
            let train = self
                .train
                .get_or_insert_with(|| Arc::new(data.train.clone()))
                .clone();
            let mut trainer = Trainer::new(stepper, train.clone(), config.batch, config.seed);
            trainer.schedule_over = Some(train.len() * epochs);
            self.trainer = Some(trainer);
        }
        Ok(self.trainer.as_mut())
    }
}

impl Experiment {
    pub fn new(epochs: usize, repaint: Repaint) -> Experiment {
        Experiment {
            epochs,
            jobs: Jobs::new(repaint, |panic| (0, ExperimentEvent::Failed(panic))),
            started: 0,
            running: false,
            cancel: Arc::new(AtomicBool::new(false)),
            points: Default::default(),
            result: None,
            error: None,
            digit: 0,
            features: None,
        }
    }

    pub fn running(&self) -> bool {
        self.running
    }

    /// The feature maps on screen: the test digit and, per run, each conv
    /// layer's maps of it.
    pub fn features(&self) -> Option<(usize, &[Vec<FeatureMaps>; 2])> {
        self.features
            .as_ref()
            .map(|(digit, maps)| (*digit, &**maps))
    }

    /// Starts both runs from the same initial network (a run still going
    /// is told to stop; its results are ignored).
    pub fn start(&mut self, config: &TrainConfig, start: Option<Network>, data: Arc<Mnist>) {
        self.cancel.store(true, Ordering::Relaxed);
        self.cancel = Arc::new(AtomicBool::new(false));
        self.started += 1;
        self.running = true;
        self.points = Default::default();
        self.result = None;
        self.features = None;
        self.error = None;
        let (config, epochs, id, cancel) = (
            config.clone(),
            self.epochs.max(1),
            self.started,
            self.cancel.clone(),
        );
        // A preset may name a file: it is read in the job, never on the UI
        // thread. The runs go one batch per step (a few milliseconds each,
        // so the browser keeps drawing between them).
        let state = Runs {
            start,
            train: None,
            data,
            trainer: None,
            epoch: 1,
            finished: Vec::new(),
        };
        self.jobs
            .spawn_steps("experiment", state, move |runs, out| {
                let send = |event| out.send((id, event));
                let data = runs.data.clone();
                if cancel.load(Ordering::Relaxed) {
                    return false; // superseded
                }
                let trainer = match runs.trainer(&config, epochs) {
                    Ok(Some(trainer)) => trainer,
                    Ok(None) => {
                        let pair = <[Network; 2]>::try_from(std::mem::take(&mut runs.finished));
                        send(match pair {
                            Ok(pair) => ExperimentEvent::Done(Box::new(pair)),
                            Err(_) => {
                                ExperimentEvent::Failed(tr("the experiment stopped early").into())
                            }
                        });
                        return false;
                    }
                    Err(e) => {
                        send(ExperimentEvent::Failed(e));
                        return false;
                    }
                };
                let loss = trainer.run_batch();
                if !trainer.epoch_done() && loss.is_finite() {
                    return true;
                }
                let accuracy = evaluate(&trainer.stepper.network, &data.test).accuracy;
                let run = runs.finished.len();
                if !send(ExperimentEvent::Epoch(run, runs.epoch, accuracy)) {
                    return false; // the app is gone
                }
                runs.epoch += 1;
                if runs.epoch > epochs {
                    let done = runs.trainer.take().expect("a run under way");
                    runs.finished.push(done.stepper.network);
                    runs.epoch = 1;
                }
                true
            });
    }

    /// Takes what the runs sent since the last frame (the app calls it
    /// every frame, whatever tab is open).
    pub fn poll(&mut self) {
        while let Some((id, event)) = self.jobs.poll() {
            // A panic is reported as start 0: it belongs to the current one.
            if id != self.started && id != 0 {
                continue;
            }
            match event {
                ExperimentEvent::Epoch(run, epoch, accuracy) => {
                    self.points[run].push([epoch as f64, accuracy as f64 * 100.0])
                }
                ExperimentEvent::Done(networks) => {
                    self.result = Some(networks);
                    self.running = false;
                }
                ExperimentEvent::Failed(text) => {
                    self.error = Some(text);
                    self.running = false;
                }
            }
        }
    }
}

/// "conv1 3x3, 1→1 channel": a conv layer's filters in words.
pub fn filters_caption(name: &str, k: usize, cin: usize, cout: usize) -> String {
    if cin == 1 && cout == 1 {
        trf!("{layer} {k}x{k}, 1→1 channel", layer = name, k = k)
    } else {
        trf!(
            "{layer} {k}x{k}, {cin}→{cout} channels (the first 4x4 shown)",
            layer = name,
            k = k,
            cin = cin,
            cout = cout
        )
    }
}

impl Experiment {
    /// The Experiment tab.
    pub fn ui(&mut self, ui: &mut Ui, cx: &mut Cx) {
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
        network = cx.state.network_name(),
        seed = cx.state.config.seed
    ));
        // The README's table was made by the command line with its own
        // defaults: say which settings these runs use, so the two sets of
        // numbers are not taken for a contradiction.
        let config = &cx.state.config;
        let settings = trf!(
            "Trained with the app's settings: {optimizer}, η = {lr} (warmed up over the first quarter of the run, then decayed), batch {batch}. The README's table uses the command line's defaults (Adam, η = 0.005), so its percentages differ a little; the gap between the two copies is the point. The same runs on the command line:",
            optimizer = config.optimizer.name(),
            lr = config.lr,
            batch = config.batch
        );
        // A command is not translated.
        let command = format!(
            "backprop-viz train --optimizer {} --lr {} --batch {} --seed {} [--freeze-conv]",
            config.optimizer.name(),
            config.lr,
            config.batch,
            config.seed
        );
        let compact = crate::app::style::compact(ui.ctx());
        if compact {
            // On a projector one line (the whole note on hover): the plot
            // needs the height.
            ui.add(egui::Label::new(RichText::new(&settings).weak()).truncate())
                .on_hover_text(format!("{settings}\n{command}"));
        } else {
            ui.label(RichText::new(settings).weak());
            ui.label(RichText::new(command).monospace().weak());
        }
        ui.horizontal(|ui| {
        let label = ui.label(tr("Epochs:"));
        ui.add(egui::DragValue::new(&mut self.epochs).range(1..=30)).labelled_by(label.id).on_hover_text(tr("How many passes over the training set each copy makes"));
        let running = self.running();
        if ui.add_enabled(!running, egui::Button::new(tr("Run the experiment"))).on_hover_text(tr("Train both copies on their own thread; test accuracy is measured after every epoch")).clicked() {
            let (config, start, data) = (cx.state.config.clone(), cx.state.start_network.clone(), cx.state.data.clone());
            self.start(&config, start, data);
        }
        if running {
            ui.spinner();
            ui.label(tr("training…"));
        }
    });
        if let Some(error) = &self.error {
            ui.label(RichText::new(error).color(ERROR));
        }
        let points = self.points.clone();
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
        // Each run in its own colour, line and markers alike, so the legend
        // tells them apart.
        let colours = [
            egui::Color32::from_rgb(120, 140, 170),
            egui::Color32::from_rgb(230, 120, 20),
        ];
        // What is left of the window (the filters come below once both runs
        // are done), at least a readable plot.
        let left = ui.clip_rect().bottom() - ui.cursor().top();
        let below = if self.result.is_some() { 140.0 } else { 8.0 };
        Plot::new("experiment accuracy")
            .height((left - below).clamp(160.0, 320.0))
            .x_axis_label(tr("epoch"))
            .y_axis_label(tr("test accuracy %"))
            .include_x(0.0)
            .include_x(self.epochs.max(1) as f64)
            .include_y(0.0)
            .include_y(100.0)
            // At the bottom right: the curves end near the top.
            .legend(Legend::default().position(egui_plot::Corner::RightBottom))
            .show(ui, |plot| {
                for (run, p) in points.into_iter().enumerate() {
                    plot.line(
                        Line::new(runs[run], PlotPoints::from(p.clone())).color(colours[run]),
                    );
                    plot.points(
                        Points::new(runs[run], PlotPoints::from(p))
                            .radius(4.0)
                            .color(colours[run]),
                    );
                }
            });
        if self.result.is_some() {
            // The filters, and beside them (a wide window: the plot took
            // the height) or below them (a projector's 914 points) the
            // same digit through both networks.
            if compact {
                self.filters_ui(ui);
                ui.separator();
                self.features_ui(ui, cx);
            } else {
                ui.horizontal_top(|ui| {
                    ui.vertical(|ui| self.filters_ui(ui));
                    ui.separator();
                    ui.vertical(|ui| self.features_ui(ui, cx));
                });
            }
        }
    }

    /// Both networks' conv filters at the end, side by side.
    fn filters_ui(&self, ui: &mut Ui) {
        let runs = runs();
        if let Some(networks) = &self.result {
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
                            ui.label(filters_caption(&spec.name, k, cin, cout));
                            legend_ui(ui, scale);
                            for o in 0..cout.min(4) {
                                ui.horizontal(|ui| {
                                    for c in 0..cin.min(4) {
                                        let f: Vec<f32> = (0..k * k)
                                            .map(|t| w.value[[o, c, t / k, t % k]])
                                            .collect();
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

    /// One test digit through both networks: each conv layer's feature
    /// maps, frozen above learning, in one scale per layer (so a map that
    /// is brighter in one run is brighter in the numbers too).
    fn features_ui(&mut self, ui: &mut Ui, cx: &mut Cx) {
        let (Some(networks), test) = (&self.result, &cx.state.data.test) else {
            return;
        };
        if test.is_empty() {
            return;
        }
        ui.label(RichText::new(tr("The same digit through both networks")).strong());
        ui.horizontal(|ui| {
            let label = ui.label(tr("Test digit:"));
            ui.add(egui::DragValue::new(&mut self.digit).range(0..=test.len() - 1))
                .labelled_by(label.id);
            ui.label(trf!(
                "label {label}",
                label = test.label(self.digit.min(test.len() - 1))
            ));
        });
        let digit = self.digit.min(test.len() - 1);
        if self.features.as_ref().is_none_or(|(d, _)| *d != digit) {
            let maps = [
                FeatureMaps::of(&networks[0], test, digit),
                FeatureMaps::of(&networks[1], test, digit),
            ];
            self.features = Some((digit, Box::new(maps)));
        }
        let Some((_, features)) = &self.features else {
            return;
        };
        let pixels: Vec<f32> = test
            .image(digit)
            .iter()
            .map(|&b| b as f32 / 255.0)
            .collect();
        let runs = runs();
        ui.horizontal_top(|ui| {
            Heatmap::new(&pixels, test.rows, test.cols, tr("the digit"))
                .fit(Vec2::splat(112.0), 4.0)
                .show(ui);
            // Runs down, layers across: each layer in one scale for both
            // runs, its colour bar over its column.
            egui::Grid::new("experiment feature maps")
                .spacing(Vec2::new(12.0, 6.0))
                .show(ui, |ui| {
                    let scales: Vec<ColorScale> = (0..features[0].len())
                        .map(|layer| {
                            let both: Vec<f32> = features
                                .iter()
                                .filter_map(|run| run.get(layer))
                                .flat_map(|m| m.values.iter().copied())
                                .collect();
                            ColorScale::auto(&both)
                        })
                        .collect();
                    ui.label("");
                    for (maps, &scale) in features[0].iter().zip(&scales) {
                        ui.horizontal(|ui| {
                            ui.label(RichText::new(&maps.layer).monospace());
                            legend_ui(ui, scale);
                        });
                    }
                    ui.end_row();
                    for (run, run_maps) in features.iter().enumerate() {
                        ui.label(runs[run]);
                        for (m, &scale) in run_maps.iter().zip(&scales) {
                            ui.horizontal(|ui| {
                                for c in 0..m.channels.min(6) {
                                    Heatmap::new(
                                        m.channel(c),
                                        m.h,
                                        m.w,
                                        trf!(
                                            "{run} {layer} output [{c}]",
                                            run = runs[run],
                                            layer = m.layer,
                                            c = c
                                        ),
                                    )
                                    .scale(scale)
                                    .fit(Vec2::splat(84.0), 6.0)
                                    .show(ui);
                                }
                            });
                        }
                        ui.end_row();
                    }
                });
        });
    }
}
