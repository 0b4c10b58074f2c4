//! The layer kinds. Each file holds one kind's forward and backward pass side
//! by side; this module ties them to the serde spec that is both the JSON
//! network format and the safetensors `layers` metadata.
//!
//! Letters used in shape comments throughout: N batch, C channels
//! (`Cin`/`Cout`), H/W height/width, K kernel size, F features.

pub mod activation;
pub mod batchnorm;
pub mod conv;
pub mod convtranspose;
pub mod dense;
mod direct;
pub mod flatten;
pub mod pool;
pub mod vector;

use serde::{Deserialize, Serialize};

use super::{EngineError, Shared, Tensor};
pub use activation::Activation;
pub use batchnorm::BatchNorm;
pub use conv::Conv2d;
pub use convtranspose::ConvTranspose2d;
pub use dense::Dense;
pub use pool::{Pool, PoolKind};

/// One entry of a network description, as written in JSON and in the
/// safetensors metadata: `{"name": "conv1", "kind": "conv", ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerSpec {
    pub name: String,
    #[serde(flatten)]
    pub kind: LayerKind,
}

/// What a layer does and its hyper-parameters (no weights).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum LayerKind {
    Conv {
        in_channels: usize,
        out_channels: usize,
        kernel: usize,
        #[serde(default)]
        padding: usize,
        #[serde(default = "one")]
        stride: usize,
        /// The filter's taps this far apart (1: side by side); written
        /// only when it is not 1, so older files read and write the same.
        #[serde(default = "one", skip_serializing_if = "is_one")]
        dilation: usize,
    },
    /// `torch.nn.ConvTranspose2d`: weight `[in, out, k, k]`.
    Convtranspose {
        in_channels: usize,
        out_channels: usize,
        kernel: usize,
        #[serde(default)]
        padding: usize,
        #[serde(default = "one")]
        stride: usize,
        /// Added to the bottom and right of the output: which of the
        /// input sizes a stride-S conv maps to this one is given back.
        #[serde(default)]
        output_padding: usize,
    },
    /// `torch.nn.BatchNorm2d` in training mode; γ is `weight`, β `bias`.
    Batchnorm {
        channels: usize,
        #[serde(default = "default_eps")]
        eps: f32,
    },
    Relu,
    Sigmoid,
    Tanh,
    Maxpool {
        #[serde(default = "two")]
        size: usize,
        /// Windows this far apart (PyTorch's `stride`; none: `size`, side
        /// by side). Less than `size` and they overlap. Written only when
        /// given, so older files read and write the same.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stride: Option<usize>,
    },
    Avgpool {
        #[serde(default = "two")]
        size: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stride: Option<usize>,
    },
    Flatten,
    Dense {
        #[serde(rename = "in")]
        inputs: usize,
        #[serde(rename = "out")]
        outputs: usize,
    },
}

fn one() -> usize {
    1
}
fn two() -> usize {
    2
}
fn is_one(n: &usize) -> bool {
    *n == 1
}
fn default_eps() -> f32 {
    1e-5
}

impl LayerKind {
    /// The word used in the JSON spec and shown in the GUI: `conv`, `relu`, ...
    pub fn word(&self) -> &'static str {
        match self {
            LayerKind::Conv { .. } => "conv",
            LayerKind::Convtranspose { .. } => "convtranspose",
            LayerKind::Batchnorm { .. } => "batchnorm",
            LayerKind::Relu => "relu",
            LayerKind::Sigmoid => "sigmoid",
            LayerKind::Tanh => "tanh",
            LayerKind::Maxpool { .. } => "maxpool",
            LayerKind::Avgpool { .. } => "avgpool",
            LayerKind::Flatten => "flatten",
            LayerKind::Dense { .. } => "dense",
        }
    }

    /// A pooling layer's window side and stride (the stride defaults to
    /// the side: windows side by side).
    pub fn pool_window(&self) -> Option<(usize, usize)> {
        match *self {
            LayerKind::Maxpool { size, stride } | LayerKind::Avgpool { size, stride } => {
                Some((size, stride.unwrap_or(size)))
            }
            _ => None,
        }
    }

    /// The shapes of the weight and the bias (PyTorch's layouts: conv
    /// `[out, in, k, k]`, dense `[out, in]`), for layers that have them.
    pub fn param_shapes(&self) -> Option<(Vec<usize>, Vec<usize>)> {
        match *self {
            LayerKind::Conv {
                in_channels,
                out_channels,
                kernel,
                ..
            } => Some((
                vec![out_channels, in_channels, kernel, kernel],
                vec![out_channels],
            )),
            LayerKind::Convtranspose {
                in_channels,
                out_channels,
                kernel,
                ..
            } => Some((
                vec![in_channels, out_channels, kernel, kernel],
                vec![out_channels],
            )),
            LayerKind::Batchnorm { channels, .. } => Some((vec![channels], vec![channels])),
            LayerKind::Dense { inputs, outputs } => Some((vec![outputs, inputs], vec![outputs])),
            _ => None,
        }
    }

    /// The tensors a model keeps beside the weight and the bias that
    /// training does not learn by gradient (batch norm's running
    /// statistics), with their shapes.
    pub fn buffer_shapes(&self) -> Vec<(&'static str, Vec<usize>)> {
        match *self {
            LayerKind::Batchnorm { channels, .. } => vec![
                ("running_mean", vec![channels]),
                ("running_var", vec![channels]),
            ],
            _ => Vec::new(),
        }
    }

    /// Whether the layer has a weight and a bias.
    pub fn has_params(&self) -> bool {
        self.param_shapes().is_some()
    }

    /// The per-sample output shape for a per-sample input shape, or why the
    /// two do not fit. Kernel, padding and pooling sizes are held to
    /// [`limits`](crate::engine::limits) before any arithmetic, which is then
    /// checked: a description from a file cannot overflow it.
    pub fn output_shape(&self, name: &str, input: &[usize]) -> Result<Vec<usize>, EngineError> {
        use crate::engine::limits::{MAX_DILATION, MAX_KERNEL, MAX_PADDING, MAX_POOL, MAX_STRIDE};
        let layer = || name.to_string();
        let maps = || match *input {
            [c, h, w] => Ok((c, h, w)),
            _ => Err(EngineError::NeedsMaps {
                layer: layer(),
                found: input.to_vec(),
            }),
        };
        // A conv's and a transposed conv's sizes, held to the limits
        // before any arithmetic.
        let stride_ok = |stride: usize| {
            if (1..=MAX_STRIDE).contains(&stride) {
                Ok(())
            } else {
                Err(EngineError::StrideUnsupported {
                    layer: layer(),
                    stride,
                })
            }
        };
        // The maps' channels against the layer's.
        let channels_ok = |expected: usize, found: usize| {
            if expected == found {
                Ok(())
            } else {
                Err(EngineError::ChannelMismatch {
                    layer: layer(),
                    expected,
                    found,
                })
            }
        };
        let limits = |kernel, padding, stride, dilation, in_channels, out_channels| {
            stride_ok(stride)?;
            if !(1..=MAX_DILATION).contains(&dilation) {
                return Err(EngineError::DilationUnsupported {
                    layer: layer(),
                    dilation,
                });
            }
            if kernel == 0 || in_channels == 0 || out_channels == 0 {
                return Err(EngineError::ZeroSize { layer: layer() });
            }
            if kernel > MAX_KERNEL {
                return Err(EngineError::KernelTooLarge {
                    layer: layer(),
                    kernel,
                });
            }
            if padding > MAX_PADDING {
                return Err(EngineError::PaddingTooLarge {
                    layer: layer(),
                    padding,
                });
            }
            Ok(())
        };
        // The maps a filter slides over, and the maps it makes (`out` of
        // each side, `None` where the filter does not fit).
        let shape =
            |in_channels, out_channels, kernel, padding, out: &dyn Fn(usize) -> Option<usize>| {
                let (c, h, w) = maps()?;
                channels_ok(in_channels, c)?;
                match (out(h), out(w)) {
                    (Some(ho), Some(wo)) => Ok(vec![out_channels, ho, wo]),
                    _ => Err(EngineError::KernelDoesNotFit {
                        layer: layer(),
                        kernel,
                        height: h,
                        width: w,
                        padding,
                    }),
                }
            };
        match *self {
            LayerKind::Conv {
                in_channels,
                out_channels,
                kernel,
                padding,
                stride,
                dilation,
            } => {
                limits(kernel, padding, stride, dilation, in_channels, out_channels)?;
                shape(in_channels, out_channels, kernel, padding, &|side| {
                    conv::ConvGeometry::out_side(side, kernel, padding, stride, dilation)
                })
            }
            LayerKind::Convtranspose {
                in_channels,
                out_channels,
                kernel,
                padding,
                stride,
                output_padding,
            } => {
                limits(kernel, padding, stride, 1, in_channels, out_channels)?;
                if output_padding >= stride {
                    return Err(EngineError::OutputPaddingTooLarge {
                        layer: layer(),
                        output_padding,
                        stride,
                    });
                }
                shape(in_channels, out_channels, kernel, padding, &|side| {
                    convtranspose::transposed_side(side, kernel, padding, stride, output_padding)
                })
            }
            LayerKind::Batchnorm { channels, eps } => {
                if !(eps.is_finite() && eps > 0.0 && eps <= 1.0) {
                    return Err(EngineError::BadEps {
                        layer: layer(),
                        eps: eps.to_string(),
                    });
                }
                channels_ok(channels, maps()?.0)?;
                Ok(input.to_vec())
            }
            LayerKind::Relu | LayerKind::Sigmoid | LayerKind::Tanh => Ok(input.to_vec()),
            LayerKind::Maxpool { size, stride } | LayerKind::Avgpool { size, stride } => {
                if size == 0 {
                    return Err(EngineError::ZeroSize { layer: layer() });
                }
                let stride = stride.unwrap_or(size);
                stride_ok(stride)?;
                if size > MAX_POOL {
                    return Err(EngineError::PoolTooLarge {
                        layer: layer(),
                        size,
                    });
                }
                let (c, h, w) = maps()?;
                if h < size || w < size {
                    return Err(EngineError::PoolDoesNotFit {
                        layer: layer(),
                        size,
                        height: h,
                        width: w,
                    });
                }
                let out = |side| pool::PoolGeometry::out_side(side, size, stride).unwrap_or(0);
                Ok(vec![c, out(h), out(w)])
            }
            LayerKind::Flatten => input
                .iter()
                .try_fold(1usize, |acc, &d| acc.checked_mul(d))
                .map(|f| vec![f])
                .ok_or(EngineError::TooManyActivations {
                    limit: crate::engine::limits::MAX_ACTIVATIONS,
                }),
            LayerKind::Dense { inputs, outputs } => {
                let &[f] = input else {
                    return Err(EngineError::NeedsFlat {
                        layer: layer(),
                        found: input.to_vec(),
                    });
                };
                if f != inputs {
                    return Err(EngineError::InputMismatch {
                        layer: layer(),
                        expected: inputs,
                        found: f,
                    });
                }
                if outputs == 0 {
                    return Err(EngineError::ZeroSize { layer: layer() });
                }
                Ok(vec![outputs])
            }
        }
    }
}

/// A learnable tensor and the gradient accumulated for it.
#[derive(Debug, Clone)]
pub struct Param {
    /// The value used by the forward pass, shared with traces.
    pub value: Shared,
    /// `dL/dvalue`, accumulated with `+=` by backward passes; see `zero_grad`.
    pub grad: Tensor,
}

impl Param {
    pub fn new(value: Tensor) -> Param {
        let grad = Tensor::zeros(value.raw_dim());
        Param {
            value: Shared::new(value),
            grad,
        }
    }

    pub fn zero_grad(&mut self) {
        self.grad.fill(0.0);
    }
}

/// A layer ready to run: its kind plus, for conv and dense, its parameters.
#[derive(Debug, Clone)]
pub enum Layer {
    Conv(Conv2d),
    ConvTranspose(ConvTranspose2d),
    BatchNorm(BatchNorm),
    Activation(Activation),
    Pool(Pool),
    Flatten,
    Dense(Dense),
}

impl Layer {
    /// Builds the layer a spec describes with zero parameters (the network
    /// initialises them).
    pub fn from_kind(kind: &LayerKind) -> Layer {
        match *kind {
            LayerKind::Conv {
                in_channels,
                out_channels,
                kernel,
                padding,
                stride,
                dilation,
            } => Layer::Conv(
                Conv2d::zeros(in_channels, out_channels, kernel, padding).strided(stride, dilation),
            ),
            LayerKind::Convtranspose {
                in_channels,
                out_channels,
                kernel,
                padding,
                stride,
                output_padding,
            } => Layer::ConvTranspose(ConvTranspose2d::zeros(
                (in_channels, out_channels),
                kernel,
                padding,
                (stride, output_padding),
            )),
            LayerKind::Batchnorm { channels, eps } => {
                Layer::BatchNorm(BatchNorm::new(channels, eps))
            }
            LayerKind::Relu => Layer::Activation(Activation::Relu),
            LayerKind::Sigmoid => Layer::Activation(Activation::Sigmoid),
            LayerKind::Tanh => Layer::Activation(Activation::Tanh),
            LayerKind::Maxpool { size, stride } => {
                Layer::Pool(Pool::new(PoolKind::Max, size, stride.unwrap_or(size)))
            }
            LayerKind::Avgpool { size, stride } => {
                Layer::Pool(Pool::new(PoolKind::Avg, size, stride.unwrap_or(size)))
            }
            LayerKind::Flatten => Layer::Flatten,
            LayerKind::Dense { inputs, outputs } => Layer::Dense(Dense::zeros(inputs, outputs)),
        }
    }

    /// `y = layer(x)` for a whole batch, as a training step computes it
    /// (batch norm: by the batch's statistics).
    pub fn forward(&self, x: &Tensor) -> Tensor {
        match self {
            Layer::Conv(conv) => conv.forward(x),
            Layer::ConvTranspose(up) => up.forward(x),
            Layer::BatchNorm(bn) => bn.forward(x),
            Layer::Activation(act) => act.forward(x),
            Layer::Pool(pool) => pool.forward(x),
            Layer::Flatten => flatten::forward(x),
            Layer::Dense(dense) => dense.forward(x),
        }
    }

    /// `y = layer(x)` at inference (`eval`, `classify`, the drawing pad):
    /// batch norm by its running statistics, every other layer as in
    /// [`Layer::forward`].
    pub fn infer(&self, x: &Tensor) -> Tensor {
        match self {
            Layer::BatchNorm(bn) => bn.infer(x),
            other => other.forward(x),
        }
    }

    /// What a training step's forward pass changes beside its output:
    /// batch norm's running statistics move towards the batch's.
    pub fn track(&mut self, x: &Tensor) {
        if let Layer::BatchNorm(bn) = self {
            bn.track(x);
        }
    }

    /// Given the input `x`, the output `y` and `d_out = dL/dy`, adds the
    /// parameter gradients into the layer's `grad`s and returns
    /// `d_in = dL/dx` when `need_d_in` (the first layer's is only recorded).
    pub fn backward(
        &mut self,
        x: &Tensor,
        y: &Tensor,
        d_out: &Tensor,
        need_d_in: bool,
    ) -> Option<Tensor> {
        match self {
            Layer::Conv(conv) => conv.backward(x, d_out, need_d_in),
            Layer::ConvTranspose(up) => up.backward(x, d_out, need_d_in),
            Layer::BatchNorm(bn) => Some(bn.backward(x, d_out)),
            Layer::Activation(act) => Some(act.backward(x, y, d_out)),
            Layer::Pool(pool) => Some(pool.backward(x, y, d_out)),
            Layer::Flatten => Some(flatten::backward(x, d_out)),
            Layer::Dense(dense) => dense.backward(x, d_out, need_d_in),
        }
    }

    /// `(weight, bias)` for conv, transposed conv, batch norm (γ, β) and
    /// dense layers.
    pub fn params(&self) -> Option<(&Param, &Param)> {
        match self {
            Layer::Conv(c) => Some((&c.weight, &c.bias)),
            Layer::ConvTranspose(c) => Some((&c.weight, &c.bias)),
            Layer::BatchNorm(b) => Some((&b.weight, &b.bias)),
            Layer::Dense(d) => Some((&d.weight, &d.bias)),
            _ => None,
        }
    }

    pub fn params_mut(&mut self) -> Option<(&mut Param, &mut Param)> {
        match self {
            Layer::Conv(c) => Some((&mut c.weight, &mut c.bias)),
            Layer::ConvTranspose(c) => Some((&mut c.weight, &mut c.bias)),
            Layer::BatchNorm(b) => Some((&mut b.weight, &mut b.bias)),
            Layer::Dense(d) => Some((&mut d.weight, &mut d.bias)),
            _ => None,
        }
    }

    /// The tensors named by [`LayerKind::buffer_shapes`], in its order.
    pub fn buffers(&self) -> Vec<&Tensor> {
        match self {
            Layer::BatchNorm(b) => vec![&b.running_mean, &b.running_var],
            _ => Vec::new(),
        }
    }

    pub fn buffers_mut(&mut self) -> Vec<&mut Tensor> {
        match self {
            Layer::BatchNorm(b) => vec![&mut b.running_mean, &mut b.running_var],
            _ => Vec::new(),
        }
    }

    pub fn zero_grad(&mut self) {
        if let Some((w, b)) = self.params_mut() {
            w.zero_grad();
            b.zero_grad();
        }
    }
}
