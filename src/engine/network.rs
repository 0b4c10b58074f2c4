//! A network: its layers in forward order (as PyTorch's `nn.Sequential`), the
//! presets, the JSON layer list and initialisation.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use super::layers::{Layer, LayerKind, LayerSpec};
use super::limits::Plan;
use super::{EngineError, Tensor};

/// Per-sample input shape: one 28x28 grey channel, pixels as `value / 255`.
pub const INPUT_SHAPE: [usize; 3] = [1, 28, 28];
/// Number of classes (digits).
pub const CLASSES: usize = 10;

/// Conv biases start slightly positive. With a single filter (the `seed`
/// preset) a filter whose output is ≤ 0 everywhere would give ReLU nothing to
/// pass back, and that filter would never learn ("dead"). A positive bias
/// keeps the blank background — most of every MNIST image — alive at the start.
pub const CONV_BIAS_INIT: f32 = 0.1;

/// A conv layer with a single filter (the question's network) starts it as a
/// pass-through — centre weight `1 / in_channels` on every input channel, the
/// rest 0 — plus He noise scaled by this factor. conv → ReLU → maxpool then
/// carries the (pooled) image from the first step: one random filter can
/// start dead or nearly so, and the whole network depends on it. Layers with
/// several filters keep He's random start (they do not hang on one filter,
/// and the filters must differ to learn different things).
pub const CONV_NOISE: f32 = 0.1;

/// The last dense layer starts at this fraction of He's std: the first
/// logits are small and the predictions close to uniform (loss ≈ ln 10), yet
/// not zero, so deltas reach every layer from the first step.
pub const LAST_LAYER_SCALE: f32 = 0.2;

#[derive(Debug, Clone)]
pub struct Network {
    pub specs: Vec<LayerSpec>,
    pub layers: Vec<Layer>,
    /// Shapes, sizes and memory estimates, from the one validation.
    pub plan: Plan,
}

impl Network {
    /// Builds a network from its layer list. This is the one door every
    /// network comes through (presets, JSON files, model and session files,
    /// the architecture editor): the list is held to every limit in
    /// [`limits`](super::limits) and every layer must fit the shape the
    /// previous one produces, ending in 10 logits, before anything is
    /// allocated. Parameters start at zero; see `init`.
    pub fn new(specs: Vec<LayerSpec>) -> Result<Network, EngineError> {
        let plan = super::limits::plan(&specs)?;
        let layers = specs.iter().map(|s| Layer::from_kind(&s.kind)).collect();
        Ok(Network {
            specs,
            layers,
            plan,
        })
    }

    /// The preset called `name` (`seed` or `lenet`), initialised with `seed`.
    pub fn preset(name: &str, seed: u64) -> Result<Network, EngineError> {
        let specs =
            preset_specs(name).ok_or_else(|| EngineError::UnknownPreset { name: name.into() })?;
        let mut net = Network::new(specs)?;
        net.init(seed);
        Ok(net)
    }

    /// Parses the JSON layer list, `{"layers": [...]}` or a bare array.
    pub fn specs_from_json(text: &str) -> Result<Vec<LayerSpec>, EngineError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| EngineError::NotJson {
                detail: e.to_string(),
            })?;
        let list = match value {
            serde_json::Value::Object(mut map) => {
                map.remove("layers").ok_or(EngineError::NoLayersEntry)?
            }
            other => other,
        };
        // The count is checked before the entries are turned into specs.
        if list
            .as_array()
            .is_some_and(|a| a.len() > super::limits::MAX_LAYERS)
        {
            return Err(EngineError::TooManyLayers {
                count: list.as_array().map_or(0, Vec::len),
            });
        }
        serde_json::from_value(list).map_err(|e| EngineError::BadLayerList {
            detail: e.to_string(),
        })
    }

    pub fn specs_to_json(specs: &[LayerSpec]) -> String {
        serde_json::to_string(specs).expect("specs serialise")
    }

    /// He initialisation (normal, std = √(2 / fan_in)) for every weight, with
    /// a single conv filter as a pass-through plus `CONV_NOISE` × He noise and the last
    /// layer scaled by `LAST_LAYER_SCALE`; a small positive bias for conv
    /// layers and zero for dense ones, from a seeded ChaCha8 stream: the same
    /// seed gives the same network anywhere.
    pub fn init(&mut self, seed: u64) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let last = self.layers.iter().rposition(|l| l.params().is_some());
        for (index, layer) in self.layers.iter_mut().enumerate() {
            if let Layer::BatchNorm(bn) = layer {
                // PyTorch's start: γ = 1, β = 0 (the layer passes the
                // normalised input through unscaled).
                *bn = super::layers::BatchNorm::new(bn.channels, bn.eps);
                continue;
            }
            let is_conv = matches!(layer, Layer::Conv(_));
            let has_bias_init = matches!(layer, Layer::Conv(_) | Layer::ConvTranspose(_));
            if let Some((w, b)) = layer.params_mut() {
                let shape = w.value.shape().to_vec();
                let pass_through = is_conv && shape[0] == 1;
                let fan_in: usize = shape[1..].iter().product();
                let scale = if pass_through {
                    CONV_NOISE
                } else if Some(index) == last {
                    LAST_LAYER_SCALE
                } else {
                    1.0
                };
                let std = scale * (2.0 / fan_in as f32).sqrt();
                let normal = Normal::new(0.0, std).expect("finite std");
                let weight = Tensor::from_shape_fn(w.value.raw_dim(), |at| {
                    let noise: f32 = normal.sample(&mut rng);
                    let centre = pass_through && at[2] == shape[2] / 2 && at[3] == shape[3] / 2;
                    if centre {
                        noise + 1.0 / shape[1] as f32
                    } else {
                        noise
                    }
                });
                *w = super::layers::Param::new(weight);
                let bias_value = if has_bias_init { CONV_BIAS_INIT } else { 0.0 };
                *b = super::layers::Param::new(Tensor::from_elem(b.value.raw_dim(), bias_value));
            }
        }
    }

    /// Per-sample output shape of every layer.
    pub fn shapes(&self) -> Vec<Vec<usize>> {
        self.plan.shapes.clone()
    }

    /// Logits `[N, 10]` for a batch `[N, 1, 28, 28]`.
    /// At inference: batch norm normalises by its running statistics.
    pub fn forward(&self, x: &Tensor) -> Tensor {
        let mut a = self.layers[0].infer(x);
        for layer in &self.layers[1..] {
            a = layer.infer(&a);
        }
        a
    }

    /// Every layer's output for a batch, in order (the last is the
    /// logits): the feature maps a view compares between two networks.
    pub fn activations(&self, x: &Tensor) -> Vec<Tensor> {
        let mut out: Vec<Tensor> = Vec::with_capacity(self.layers.len());
        for layer in &self.layers {
            let next = layer.infer(out.last().unwrap_or(x));
            out.push(next);
        }
        out
    }

    /// Number of learnable values.
    pub fn parameter_count(&self) -> usize {
        self.layers
            .iter()
            .filter_map(|l| l.params())
            .map(|(w, b)| w.value.len() + b.value.len())
            .sum()
    }

    pub fn zero_grad(&mut self) {
        self.layers.iter_mut().for_each(Layer::zero_grad);
    }

    /// Index of the layer called `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.specs.iter().position(|s| s.name == name)
    }
}

/// The shapes of a partial layer list (no limits, no 10-output end): what
/// the FC part of [`TwoStage`] must be sized to.
fn output_shapes(specs: &[LayerSpec]) -> Result<Vec<Vec<usize>>, EngineError> {
    let mut shape = INPUT_SHAPE.to_vec();
    let mut shapes = Vec::with_capacity(specs.len());
    for spec in specs {
        shape = spec.kind.output_shape(&spec.name, &shape)?;
        shapes.push(shape.clone());
    }
    Ok(shapes)
}

/// How each stage of [`TwoStage`] halves its map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Downsample {
    /// A 2x2 max pooling after the activation.
    MaxPool,
    /// A 2x2 average pooling after the activation.
    AvgPool,
    /// A 3x3 max pooling 2 apart (AlexNet's): windows overlap, and a cell
    /// that wins two of them gets both deltas.
    OverlapMaxPool,
    /// No pooling: the conv itself moves 2 cells at a time (an all-conv
    /// network).
    Stride,
}

/// The question's shape of network: `[conv → activation → pool] × 2 →
/// flatten → fc1 → activation → fc2`. The presets, the architecture editor
/// and JSON-free experiments all build from it; layers are named
/// `conv1, relu1, pool1, …` after their kind.
#[derive(Debug, Clone, PartialEq)]
pub struct TwoStage {
    pub filters: [usize; 2],
    pub kernel: usize,
    pub padding: usize,
    /// The filter's taps this far apart (1: side by side).
    pub dilation: usize,
    pub downsample: Downsample,
    /// A batch norm (`bn1`, `bn2`) between each conv and its activation.
    pub batchnorm: bool,
    /// `Relu`, `Sigmoid` or `Tanh`.
    pub activation: LayerKind,
    pub hidden: usize,
}

impl TwoStage {
    /// The layer list, the FC input sized to what the conv part produces;
    /// an error when a kernel or pool does not fit its input.
    pub fn specs(&self) -> Result<Vec<LayerSpec>, EngineError> {
        let act = |i: usize| {
            spec(
                &format!("{}{i}", self.activation.word()),
                self.activation.clone(),
            )
        };
        let pool = |i: usize| {
            let kind = match self.downsample {
                Downsample::MaxPool => LayerKind::Maxpool {
                    size: 2,
                    stride: None,
                },
                Downsample::AvgPool => LayerKind::Avgpool {
                    size: 2,
                    stride: None,
                },
                Downsample::OverlapMaxPool => LayerKind::Maxpool {
                    size: 3,
                    stride: Some(2),
                },
                Downsample::Stride => return None,
            };
            Some(spec(&format!("pool{i}"), kind))
        };
        let conv = |i: usize, cin: usize, cout: usize| {
            let kind = LayerKind::Conv {
                in_channels: cin,
                out_channels: cout,
                kernel: self.kernel,
                padding: self.padding,
                stride: if self.downsample == Downsample::Stride {
                    2
                } else {
                    1
                },
                dilation: self.dilation,
            };
            spec(&format!("conv{i}"), kind)
        };
        let norm = |i: usize, channels: usize| {
            let kind = LayerKind::Batchnorm {
                channels,
                eps: 1e-5,
            };
            self.batchnorm.then(|| spec(&format!("bn{i}"), kind))
        };
        let mut specs: Vec<LayerSpec> = [
            Some(conv(1, 1, self.filters[0])),
            norm(1, self.filters[0]),
            Some(act(1)),
            pool(1),
            Some(conv(2, self.filters[0], self.filters[1])),
            norm(2, self.filters[1]),
            Some(act(2)),
            pool(2),
            Some(spec("flatten", LayerKind::Flatten)),
        ]
        .into_iter()
        .flatten()
        .collect();
        let flat = output_shapes(&specs)?.last().map(|s| s[0]).unwrap_or(0);
        specs.push(spec(
            "fc1",
            LayerKind::Dense {
                inputs: flat,
                outputs: self.hidden,
            },
        ));
        specs.push(act(3));
        specs.push(spec(
            "fc2",
            LayerKind::Dense {
                inputs: self.hidden,
                outputs: CLASSES,
            },
        ));
        Ok(specs)
    }
}

fn spec(name: &str, kind: LayerKind) -> LayerSpec {
    LayerSpec {
        name: name.into(),
        kind,
    }
}

/// The built-in networks, by name ([`PRESETS`]).
pub const PRESETS: [&str; 5] = ["seed", "lenet", "strided", "bn", "updown"];

/// The built-in presets: the network of the original question, a wider
/// one, that wider one with its pooling replaced by stride-2 convs, the
/// same with batch norm after each conv, and a small down-and-up net.
pub fn preset_specs(name: &str) -> Option<Vec<LayerSpec>> {
    let (filters, hidden, downsample, batchnorm) = match name {
        "seed" => ([1, 1], 49, Downsample::MaxPool, false),
        "lenet" => ([8, 16], 64, Downsample::MaxPool, false),
        "strided" => ([8, 16], 64, Downsample::Stride, false),
        "bn" => ([8, 16], 64, Downsample::MaxPool, true),
        "updown" => return Some(updown()),
        _ => return None,
    };
    let shape = TwoStage {
        filters,
        kernel: 3,
        padding: 1,
        dilation: 1,
        downsample,
        batchnorm,
        activation: LayerKind::Relu,
        hidden,
    };
    Some(shape.specs().expect("the presets fit 28x28"))
}

/// `updown`: a stride-2 conv takes the digit down to 4 maps of 14x14, a
/// transposed conv brings it back up to one 28x28 map (the conv's backward,
/// run forward), and a small classifier reads that map.
fn updown() -> Vec<LayerSpec> {
    vec![
        spec(
            "conv1",
            LayerKind::Conv {
                in_channels: 1,
                out_channels: 4,
                kernel: 3,
                padding: 1,
                stride: 2,
                dilation: 1,
            },
        ),
        spec("relu1", LayerKind::Relu),
        spec(
            "up1",
            LayerKind::Convtranspose {
                in_channels: 4,
                out_channels: 1,
                kernel: 3,
                padding: 1,
                stride: 2,
                output_padding: 1,
            },
        ),
        spec("relu2", LayerKind::Relu),
        spec(
            "pool1",
            LayerKind::Maxpool {
                size: 4,
                stride: None,
            },
        ),
        spec("flatten", LayerKind::Flatten),
        spec(
            "fc1",
            LayerKind::Dense {
                inputs: 49,
                outputs: 10,
            },
        ),
    ]
}
