//! The architecture editor: the question's network shape with its knobs —
//! filters per conv layer, kernel 3 or 5, padding, max or average pooling,
//! the activation, the FC width. A shape that does not fit is refused with
//! the engine's message before anything runs.

use egui::{RichText, Ui};

use crate::app::command::UiCommand;
use crate::app::cx::Cx;
use crate::app::state::NetworkSource;
use crate::app::style::{dims_text, ERROR};
use crate::engine::layers::{LayerKind, LayerSpec};
use crate::engine::network::{Downsample, Network, TwoStage};
use crate::i18n::tr;
use crate::trf;

#[derive(Debug, Clone, PartialEq)]
pub struct Architecture {
    pub filters: [usize; 2],
    pub kernel: usize,
    /// Keep 28x28 → 28x28 through each conv ("same"), or shrink ("valid").
    pub same_padding: bool,
    pub downsample: Downsample,
    /// The filters' taps this far apart: 1 or 2.
    pub dilation: usize,
    /// A batch norm after each conv.
    pub batchnorm: bool,
    /// `relu`, `sigmoid` or `tanh`.
    pub activation: &'static str,
    pub hidden: usize,
}

impl Default for Architecture {
    /// The question's network.
    fn default() -> Self {
        Architecture {
            filters: [1, 1],
            kernel: 3,
            same_padding: true,
            downsample: Downsample::MaxPool,
            dilation: 1,
            batchnorm: false,
            activation: "relu",
            hidden: 49,
        }
    }
}

impl Architecture {
    /// The layer list, in the presets' order; `Err` when the shapes do not fit.
    pub fn specs(&self) -> Result<Vec<LayerSpec>, String> {
        let activation = match self.activation {
            "sigmoid" => LayerKind::Sigmoid,
            "tanh" => LayerKind::Tanh,
            _ => LayerKind::Relu,
        };
        TwoStage {
            filters: self.filters,
            kernel: self.kernel,
            // "Same" keeps the map: half the dilated filter's span.
            padding: if self.same_padding {
                self.dilation * (self.kernel / 2)
            } else {
                0
            },
            dilation: self.dilation,
            downsample: self.downsample,
            batchnorm: self.batchnorm,
            activation,
            hidden: self.hidden,
        }
        .specs()
        .map_err(|e| e.to_string())
    }
}

impl Architecture {
    /// The Architecture tab.
    pub fn ui(&mut self, ui: &mut Ui, cx: &mut Cx) {
        ui.label(
            RichText::new(tr("Build your own network"))
                .strong()
                .size(18.0),
        );
        ui.label(tr("The same shape as the question's network — conv, activation, pooling, twice, then two FC layers — with its sizes yours to choose. Build replaces the network (same seed) and every view follows."));
        let a = self;
        egui::Grid::new("architecture").num_columns(2).spacing([16.0, 8.0]).show(ui, |ui| {
        for (i, name) in [tr("Filters in conv1:"), tr("Filters in conv2:")].into_iter().enumerate() {
            let label = ui.label(name);
            ui.add(egui::DragValue::new(&mut a.filters[i]).range(1..=64)).labelled_by(label.id).on_hover_text(tr("How many 3x3 (or 5x5) filters this conv layer has: how many feature maps it makes"));
            ui.end_row();
        }
        ui.label(tr("Kernel:"));
        ui.horizontal(|ui| {
            ui.radio_value(&mut a.kernel, 3, "3x3").on_hover_text(tr("Filters of 3x3 weights"));
            ui.radio_value(&mut a.kernel, 5, "5x5").on_hover_text(tr("Filters of 5x5 weights"));
        });
        ui.end_row();
        ui.label(tr("Padding:"));
        ui.horizontal(|ui| {
            ui.radio_value(&mut a.same_padding, true, tr("same")).on_hover_text(tr("Zeros around the input so a conv keeps the map's size"));
            ui.radio_value(&mut a.same_padding, false, tr("none")).on_hover_text(tr("No padding: each conv shrinks the map by kernel − 1"));
        });
        ui.end_row();
        ui.label(tr("Dilation:"));
        ui.horizontal(|ui| {
            ui.radio_value(&mut a.dilation, 1, "1").on_hover_text(tr("The filter's taps side by side"));
            ui.radio_value(&mut a.dilation, 2, "2").on_hover_text(tr("The filter's taps 2 cells apart, a hole between each: a 3x3 filter covers 5x5"));
        });
        ui.end_row();
        ui.label(tr("Batch norm:"));
        ui.horizontal(|ui| {
            ui.radio_value(&mut a.batchnorm, false, tr("none")).on_hover_text(tr("Each conv's output goes straight to its activation"));
            ui.radio_value(&mut a.batchnorm, true, tr("after each conv")).on_hover_text(tr("Each channel of each conv's output normalised by the batch's mean and variance, then scaled by γ and shifted by β"));
        });
        ui.end_row();
        ui.label(tr("Pooling:"));
        ui.horizontal(|ui| {
            ui.radio_value(&mut a.downsample, Downsample::MaxPool, tr("max")).on_hover_text(tr("Keep each 2x2 window's largest value (its delta goes to that cell)"));
            ui.radio_value(&mut a.downsample, Downsample::AvgPool, tr("average")).on_hover_text(tr("Keep each 2x2 window's mean (its delta is spread evenly)"));
            ui.radio_value(&mut a.downsample, Downsample::OverlapMaxPool, tr("max 3x3, stride 2")).on_hover_text(tr("Overlapping windows: 3x3, 2 apart. A cell that wins two windows gets both deltas, added up"));
            ui.radio_value(&mut a.downsample, Downsample::Stride, tr("none: stride 2")).on_hover_text(tr("No pooling layers: each conv moves 2 cells at a time, so its output is half the size (an all-conv network)"));
        });
        ui.end_row();
        ui.label(tr("Activation:"));
        ui.horizontal(|ui| {
            for act in ["relu", "sigmoid", "tanh"] {
                ui.radio_value(&mut a.activation, act, act).on_hover_text(trf!("{act} after each conv layer and after fc1", act = act));
            }
        });
        ui.end_row();
        let label = ui.label(tr("FC1 width:"));
        ui.add(egui::DragValue::new(&mut a.hidden).range(1..=512)).labelled_by(label.id).on_hover_text(tr("Units in the hidden fully connected layer"));
        ui.end_row();
    });
        // Checked every frame with the one validation, without building the
        // network: shapes and sizes come from the plan; Build allocates.
        let built = a.specs().and_then(|specs| {
            crate::engine::limits::plan(&specs)
                .map(|plan| (specs, plan))
                .map_err(|e| e.to_string())
        });
        match &built {
            Ok((_, plan)) => {
                let shapes: Vec<String> = plan.shapes.iter().map(|s| dims_text(s)).collect();
                ui.label(trf!(
                    "1x28x28 → {shapes} · {count} weights",
                    shapes = shapes.join(" → "),
                    count = plan.parameters
                ));
            }
            Err(why) => {
                ui.label(
                    RichText::new(trf!("This network cannot be built: {why}", why = why))
                        .color(ERROR),
                );
            }
        }
        if ui
            .add_enabled(built.is_ok(), egui::Button::new(tr("Build this network")))
            .on_hover_text(tr(
                "Replace the network (fresh initial weights from the current seed) and start again",
            ))
            .clicked()
        {
            if let Ok(mut net) =
                built.and_then(|(specs, _)| Network::new(specs).map_err(|e| e.to_string()))
            {
                net.init(cx.state.config.seed);
                cx.command(UiCommand::UseNetwork(Box::new(net), NetworkSource::Editor));
            }
        }
    }
}
