//! The limits every network is held to, wherever it comes from (a model
//! file's metadata, a JSON preset, a session, the architecture editor), and
//! the memory estimates they rest on.
//!
//! A network description is a claim from a file, like an IDX header: a
//! 300-byte model can say "conv 1 → 10⁹ channels". Everything here is
//! computed with checked arithmetic from the description alone, before a
//! single weight is allocated (`Network::new` calls [`plan`]).
//!
//! The limits are generous for teaching (the shipped model has 0.2 million
//! parameters and 26 thousand activations per sample) and small enough that
//! a refused file costs nothing and an accepted one fits in memory.

use super::layers::{LayerKind, LayerSpec};
use super::network::{CLASSES, INPUT_SHAPE};
use super::parallel::CHUNK;
use super::EngineError;

/// At most this many layers (the presets have 10).
pub const MAX_LAYERS: usize = 64;
/// The largest conv kernel side.
pub const MAX_KERNEL: usize = 15;
/// The largest conv padding.
pub const MAX_PADDING: usize = 7;
/// The largest pooling window side.
pub const MAX_POOL: usize = 28;
/// The largest conv stride and dilation (a 28x28 picture has nothing to
/// say beyond them; PyTorch has no bound).
pub const MAX_STRIDE: usize = 8;
pub const MAX_DILATION: usize = 8;
/// Learnable values (weights and biases) in the whole network.
pub const MAX_PARAMETERS: u64 = 100_000_000;
/// Values all layers output for one sample, summed.
pub const MAX_ACTIVATIONS: u64 = 100_000_000;
/// The most one training step on one batch may need, by [`Plan::step_bytes`].
pub const MAX_BATCH_BYTES: u64 = 2 << 30;
/// Longest layer name, in bytes.
pub const MAX_NAME: usize = 64;
/// Largest batch size, whatever the network (a count this large is a wrong
/// number, and it keeps the arithmetic on it far from overflow).
pub const MAX_BATCH: usize = 1 << 20;

/// What a network description amounts to, computed without building it.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The per-sample output shape of every layer.
    pub shapes: Vec<Vec<usize>>,
    /// Learnable values.
    pub parameters: u64,
    /// Values output by all layers for one sample.
    pub activations: u64,
    /// The largest per-sample scratch a conv layer needs (its im2col matrix).
    pub conv_scratch: u64,
    /// Parameters of the largest conv layer (each chunk of a batch keeps its
    /// own partial gradient of it until they are added up).
    pub largest_conv: u64,
}

/// Checks `specs` against every limit and the shape rules, in order, and
/// says what the network amounts to. Nothing is allocated beyond the shape
/// lists: the layer count is checked before anything else is looked at.
pub fn plan(specs: &[LayerSpec]) -> Result<Plan, EngineError> {
    if specs.is_empty() {
        return Err(EngineError::NoLayers);
    }
    if specs.len() > MAX_LAYERS {
        return Err(EngineError::TooManyLayers { count: specs.len() });
    }
    let mut names = std::collections::HashSet::new();
    for spec in specs {
        let name = spec.name.as_str();
        if name.is_empty() || name.len() > MAX_NAME || name.chars().any(char::is_control) {
            return Err(EngineError::BadName {
                name: name.chars().take(MAX_NAME).collect(),
            });
        }
        if !names.insert(name) {
            return Err(EngineError::DuplicateName { name: name.into() });
        }
    }
    let too_many_parameters = || EngineError::TooManyParameters {
        limit: MAX_PARAMETERS,
    };
    let too_many_activations = || EngineError::TooManyActivations {
        limit: MAX_ACTIVATIONS,
    };
    let mut shape = INPUT_SHAPE.to_vec();
    let mut plan = Plan {
        shapes: Vec::with_capacity(specs.len()),
        parameters: 0,
        activations: 0,
        conv_scratch: 0,
        largest_conv: 0,
    };
    for spec in specs {
        let input = shape;
        shape = spec.kind.output_shape(&spec.name, &input)?;
        let values = product(&shape).ok_or_else(too_many_activations)?;
        plan.activations = plan
            .activations
            .checked_add(values)
            .filter(|&a| a <= MAX_ACTIVATIONS)
            .ok_or_else(too_many_activations)?;
        if let Some(params) = parameters(&spec.kind) {
            let params = params.ok_or_else(too_many_parameters)?;
            plan.parameters = plan
                .parameters
                .checked_add(params)
                .filter(|&p| p <= MAX_PARAMETERS)
                .ok_or_else(too_many_parameters)?;
        }
        if let LayerKind::Conv {
            in_channels,
            kernel,
            out_channels,
            ..
        } = spec.kind
        {
            // Bounded: kernel ≤ 15, and channels and the plane are bounded
            // by the parameter and activation checks that just passed.
            let taps = (in_channels * kernel * kernel) as u64;
            let plane = (shape[1] * shape[2]) as u64;
            plan.conv_scratch = plan.conv_scratch.max(taps.saturating_mul(plane));
            plan.largest_conv = plan
                .largest_conv
                .max(taps.saturating_mul(out_channels as u64));
        }
        plan.shapes.push(shape.clone());
    }
    if shape.as_slice() != [CLASSES] {
        return Err(EngineError::WrongEnd { found: shape });
    }
    Ok(plan)
}

/// The product of a shape's sizes, if it fits in a `u64`.
fn product(shape: &[usize]) -> Option<u64> {
    shape
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))
}

/// A layer's learnable values (`None` inside: more than a `u64` holds), or
/// `None` for layers without parameters.
fn parameters(kind: &LayerKind) -> Option<Option<u64>> {
    let (w, b) = kind.param_shapes()?;
    Some(product(&w).and_then(|w| w.checked_add(product(&b)?)))
}

impl Plan {
    /// An estimate of the most memory one training step on a batch of
    /// `batch` samples needs, in bytes (`None`: beyond a `u64`). Counted in
    /// f32 values:
    /// - per sample: the input, every layer's output and its delta (the
    ///   trace keeps both), and two conv scratch matrices in flight
    ///   (im2col and its gradient);
    /// - per chunk of samples worked on together: a partial gradient of the
    ///   largest conv layer;
    /// - once: weights, gradients, two optimizer moments and the copy of the
    ///   weights an update makes while a trace still holds the old ones.
    pub fn step_bytes(&self, batch: usize) -> Option<u64> {
        let input = product(&INPUT_SHAPE)?;
        let per_sample = input
            .checked_add(self.activations.checked_mul(2)?)?
            .checked_add(self.conv_scratch.checked_mul(2)?)?;
        let chunks = (batch as u64).div_ceil(CHUNK as u64);
        let values = per_sample
            .checked_mul(batch as u64)?
            .checked_add(chunks.checked_mul(self.largest_conv)?)?
            .checked_add(self.parameters.checked_mul(5)?)?;
        values.checked_mul(4)
    }

    /// Refuses a batch size whose step would need more than
    /// [`MAX_BATCH_BYTES`], or that is 0 or absurd.
    pub fn check_batch(&self, batch: usize) -> Result<(), EngineError> {
        if batch == 0 {
            return Err(EngineError::ZeroBatch);
        }
        let bytes = (batch <= MAX_BATCH)
            .then(|| self.step_bytes(batch))
            .flatten();
        match bytes {
            Some(b) if b <= MAX_BATCH_BYTES => Ok(()),
            _ => Err(EngineError::BatchTooLarge {
                batch,
                bytes,
                limit: MAX_BATCH_BYTES,
                largest: self.largest_batch(),
            }),
        }
    }

    /// The largest batch size [`Plan::check_batch`] accepts (0 when even
    /// one sample is too many).
    pub fn largest_batch(&self) -> usize {
        let fits = |b: usize| self.step_bytes(b).is_some_and(|x| x <= MAX_BATCH_BYTES);
        let (mut lo, mut hi) = (0usize, MAX_BATCH + 1);
        // Invariant: `lo` fits (or is 0), `hi` does not.
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if fits(mid) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// How many samples a forward-only pass (evaluation, classification)
    /// should take at once to stay within `budget` bytes: at least 1, at
    /// most `most`.
    pub fn forward_chunk(&self, budget: u64, most: usize) -> usize {
        // The input, the two largest live outputs (bounded by all of them)
        // and one im2col matrix, per sample.
        let per_sample = product(&INPUT_SHAPE)
            .unwrap_or(0)
            .saturating_add(self.activations)
            .saturating_add(self.conv_scratch)
            .saturating_mul(4)
            .max(1);
        usize::try_from(budget / per_sample)
            .unwrap_or(usize::MAX)
            .clamp(1, most.max(1))
    }
}
