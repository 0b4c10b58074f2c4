//! The CNN engine: layers with their forward and backward passes side by
//! side, the loss, optimizers, the network and the stepper that records
//! every number it computes. No GUI types, no files, no threads of its own
//! (it borrows rayon's pool when the caller installs one).

pub mod gradcheck;
pub mod layers;
pub mod limits;
pub mod loss;
pub mod network;
pub mod nudge;
pub mod optim;
pub mod parallel;
pub mod stepper;
pub mod trace;

use std::sync::Arc;

/// Every activation, delta and parameter is an `f32` array of any rank:
/// `[N, C, H, W]` between conv layers, `[N, F]` between dense ones.
pub type Tensor = ndarray::ArrayD<f32>;

/// Tensors shared between the live network and the traces that views read:
/// a snapshot clones the `Arc`, and the optimizer copies on write only when
/// a snapshot still holds the old value.
pub type Shared = Arc<Tensor>;

/// What is wrong with a network's description or with what is asked of it.
/// Typed, so that every door (model file, preset, session, editor) reports
/// the same problem the same way; worded through the translation table, so
/// the app shows it in its language (the command line's thread is English).
#[derive(Debug, Clone, PartialEq)]
pub enum EngineError {
    NoLayers,
    TooManyLayers {
        count: usize,
    },
    BadName {
        name: String,
    },
    DuplicateName {
        name: String,
    },
    UnknownPreset {
        name: String,
    },
    NotJson {
        detail: String,
    },
    NoLayersEntry,
    BadLayerList {
        detail: String,
    },
    StrideUnsupported {
        layer: String,
        stride: usize,
    },
    DilationUnsupported {
        layer: String,
        dilation: usize,
    },
    ZeroSize {
        layer: String,
    },
    OutputPaddingTooLarge {
        layer: String,
        output_padding: usize,
        stride: usize,
    },
    BadEps {
        layer: String,
        eps: String,
    },
    KernelTooLarge {
        layer: String,
        kernel: usize,
    },
    PaddingTooLarge {
        layer: String,
        padding: usize,
    },
    PoolTooLarge {
        layer: String,
        size: usize,
    },
    NeedsMaps {
        layer: String,
        found: Vec<usize>,
    },
    NeedsFlat {
        layer: String,
        found: Vec<usize>,
    },
    ChannelMismatch {
        layer: String,
        expected: usize,
        found: usize,
    },
    InputMismatch {
        layer: String,
        expected: usize,
        found: usize,
    },
    KernelDoesNotFit {
        layer: String,
        kernel: usize,
        height: usize,
        width: usize,
        padding: usize,
    },
    PoolDoesNotFit {
        layer: String,
        size: usize,
        height: usize,
        width: usize,
    },
    TooManyParameters {
        limit: u64,
    },
    TooManyActivations {
        limit: u64,
    },
    WrongEnd {
        found: Vec<usize>,
    },
    ZeroBatch,
    BatchTooLarge {
        batch: usize,
        bytes: Option<u64>,
        limit: u64,
        largest: usize,
    },
}

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::trf;
        use limits::{MAX_KERNEL, MAX_LAYERS, MAX_NAME, MAX_PADDING, MAX_POOL};
        let dims = |d: &[usize]| d.iter().map(usize::to_string).collect::<Vec<_>>().join("x");
        let text = match self {
            EngineError::NoLayers => trf!("the network has no layers"),
            EngineError::TooManyLayers { count } => trf!(
                "the network has {count} layers; at most {limit} are allowed",
                count = count,
                limit = MAX_LAYERS
            ),
            EngineError::BadName { name } => trf!(
                "layer name {name} is not allowed: a name is 1 to {limit} characters, without control characters",
                name = format!("{name:?}"),
                limit = MAX_NAME
            ),
            EngineError::DuplicateName { name } => trf!(
                "two layers are called {name}: layer names must be unique",
                name = name
            ),
            EngineError::UnknownPreset { name } => trf!(
                "unknown preset {name} (known: seed, lenet, strided, bn, updown)",
                name = name
            ),
            EngineError::NotJson { detail } => trf!("not JSON: {detail}", detail = detail),
            EngineError::NoLayersEntry => trf!("no \"layers\" array"),
            EngineError::BadLayerList { detail } => {
                trf!("bad layer list: {detail}", detail = detail)
            }
            EngineError::StrideUnsupported { layer, stride } => trf!(
                "layer {layer}: stride {stride} is not supported (1 to {max})",
                layer = layer,
                stride = stride,
                max = crate::engine::limits::MAX_STRIDE
            ),
            EngineError::DilationUnsupported { layer, dilation } => trf!(
                "layer {layer}: dilation {dilation} is not supported (1 to {max})",
                layer = layer,
                dilation = dilation,
                max = crate::engine::limits::MAX_DILATION
            ),
            EngineError::ZeroSize { layer } => trf!(
                "layer {layer}: kernel, channel and output counts must be at least 1",
                layer = layer
            ),
            EngineError::OutputPaddingTooLarge {
                layer,
                output_padding,
                stride,
            } => trf!(
                "layer {layer}: output padding {output_padding} must be less than the stride {stride}",
                layer = layer,
                output_padding = output_padding,
                stride = stride
            ),
            EngineError::BadEps { layer, eps } => trf!(
                "layer {layer}: eps {eps} must be a number above 0 and at most 1",
                layer = layer,
                eps = eps
            ),
            EngineError::KernelTooLarge { layer, kernel } => trf!(
                "layer {layer}: kernel {kernel} is larger than the limit of {limit}",
                layer = layer,
                kernel = kernel,
                limit = MAX_KERNEL
            ),
            EngineError::PaddingTooLarge { layer, padding } => trf!(
                "layer {layer}: padding {padding} is larger than the limit of {limit}",
                layer = layer,
                padding = padding,
                limit = MAX_PADDING
            ),
            EngineError::PoolTooLarge { layer, size } => trf!(
                "layer {layer}: a pooling window of {size} is larger than the limit of {limit}",
                layer = layer,
                size = size,
                limit = MAX_POOL
            ),
            EngineError::NeedsMaps { layer, found } => trf!(
                "layer {layer} needs maps [channels, height, width] as input, but receives {found}",
                layer = layer,
                found = dims(found)
            ),
            EngineError::NeedsFlat { layer, found } => trf!(
                "layer {layer} needs a flat input (add a flatten layer before it), but receives {found}",
                layer = layer,
                found = dims(found)
            ),
            EngineError::ChannelMismatch {
                layer,
                expected,
                found,
            } => trf!(
                "layer {layer}: expects {expected} input channels but receives {found}",
                layer = layer,
                expected = expected,
                found = found
            ),
            EngineError::InputMismatch {
                layer,
                expected,
                found,
            } => trf!(
                "layer {layer}: expects {expected} inputs but receives {found}",
                layer = layer,
                expected = expected,
                found = found
            ),
            EngineError::KernelDoesNotFit {
                layer,
                kernel,
                height,
                width,
                padding,
            } => trf!(
                "layer {layer}: a {kernel}x{kernel} kernel does not fit a {height}x{width} input with padding {padding}",
                layer = layer,
                kernel = kernel,
                height = height,
                width = width,
                padding = padding
            ),
            EngineError::PoolDoesNotFit {
                layer,
                size,
                height,
                width,
            } => trf!(
                "layer {layer}: a {size}x{size} pool does not fit a {height}x{width} input",
                layer = layer,
                size = size,
                height = height,
                width = width
            ),
            EngineError::TooManyParameters { limit } => trf!(
                "the network has more than {limit} parameters (the limit)",
                limit = millions(*limit)
            ),
            EngineError::TooManyActivations { limit } => trf!(
                "the network's layers output more than {limit} values for one sample (the limit)",
                limit = millions(*limit)
            ),
            EngineError::WrongEnd { found } => trf!(
                "the network must end in 10 outputs (one per digit), it ends in {found}",
                found = dims(found)
            ),
            EngineError::ZeroBatch => trf!("the batch size must be at least 1"),
            EngineError::BatchTooLarge {
                batch,
                bytes,
                limit,
                largest,
            } => match bytes {
                Some(need) => trf!(
                    "a batch of {batch} needs about {need} of memory for this network, more than the limit of {limit}; the largest batch that fits is {largest}",
                    batch = batch,
                    need = gib(*need),
                    limit = gib(*limit),
                    largest = largest
                ),
                None => trf!(
                    "a batch of {batch} is far beyond the memory limit of {limit} for this network; the largest batch that fits is {largest}",
                    batch = batch,
                    limit = gib(*limit),
                    largest = largest
                ),
            },
        };
        f.write_str(&text)
    }
}

impl std::error::Error for EngineError {}

/// "100 million": limits in words.
fn millions(n: u64) -> String {
    crate::trf!("{count} million", count = n / 1_000_000)
}

/// "2.0 GB" (gibibytes, as memory is counted).
fn gib(bytes: u64) -> String {
    crate::trf!(
        "{size} GB",
        size = format!("{:.1}", bytes as f64 / f64::from(1u32 << 30))
    )
}
