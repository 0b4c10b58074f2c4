//! Traces: one training step on one batch as the engine computed it, before
//! the update (`format = backprop-viz-trace`; tensor names in CONTRACTS.md).

use std::path::Path;
use std::sync::Arc;

use super::file::{FileError, Problem};
use super::tensors::{error, parse, read_file, Entry, Parsed, TensorFile};
use crate::engine::limits::{plan, MAX_BATCH};
use crate::engine::network::{CLASSES, INPUT_SHAPE};
use crate::engine::trace::{LayerTrace, Trace};
use crate::engine::Tensor;

pub const FORMAT: &str = "backprop-viz-trace";

/// Why a step cannot be written as a trace.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TraceError {
    /// A diverged network's step (`loss`, `conv2.weight_grad`…).
    #[error("{}", crate::trf!("the step's {name} holds NaN or infinite values: the network has diverged", name = .0))]
    NotFinite(String),
    /// A phase has not run: the tensor it would have made.
    #[error("{}", crate::trf!("the step has no {what} yet", what = .0))]
    Incomplete(String),
}

/// Serialises a complete trace (every phase up to the loss and the backward
/// pass must have run, with recording on).
pub fn trace_bytes(trace: &Trace) -> Result<Vec<u8>, TraceError> {
    if let Some(name) = non_finite(trace) {
        return Err(TraceError::NotFinite(name));
    }
    let loss = Tensor::from_elem(
        vec![1],
        trace
            .loss
            .ok_or_else(|| TraceError::Incomplete("loss".into()))?,
    );
    let specs = trace.specs();
    Ok(trace_file(trace, &specs, &loss)?.to_bytes())
}

fn trace_file<'a>(
    trace: &'a Trace,
    specs: &'a [crate::engine::layers::LayerSpec],
    loss: &'a Tensor,
) -> Result<TensorFile<'a>, TraceError> {
    let labels = trace.labels.iter().map(|&l| l as i64).collect();
    let mut entries = vec![
        ("input".to_string(), Entry::F32(&trace.input)),
        (
            "labels".to_string(),
            Entry::I64(vec![trace.labels.len()], labels),
        ),
        ("loss".to_string(), Entry::F32(loss)),
    ];
    let logits_delta = trace
        .logits_delta
        .as_ref()
        .ok_or_else(|| TraceError::Incomplete("logits.delta".into()))?;
    entries.push(("logits.delta".to_string(), Entry::F32(logits_delta)));
    for (name, layer) in trace.names.iter().zip(&trace.layers) {
        entries.push(need(name, &layer.out, "out")?);
        entries.push(need(name, &layer.delta, "delta")?);
        if layer.weight.is_some() {
            entries.push(need(name, &layer.weight, "weight")?);
            entries.push(need(name, &layer.bias, "bias")?);
            entries.push(need(name, &layer.weight_grad, "weight_grad")?);
            entries.push(need(name, &layer.bias_grad, "bias_grad")?);
        }
    }
    Ok(TensorFile {
        format: FORMAT,
        specs,
        extra: Vec::new(),
        entries,
    })
}

/// The first tensor of a complete trace holding NaN or an infinity, by its
/// name in the file (`loss`, `conv2.weight_grad`); `None` when all are
/// finite. A step like that is a diverged network's, and no trace of it is
/// written (nor read).
pub fn non_finite(trace: &Trace) -> Option<String> {
    if trace.loss.is_some_and(|l| !l.is_finite()) {
        return Some("loss".into());
    }
    let bad =
        |t: &Option<Arc<Tensor>>| t.as_ref().is_some_and(|t| t.iter().any(|v| !v.is_finite()));
    if bad(&trace.logits_delta) {
        return Some("logits.delta".into());
    }
    for (name, layer) in trace.names.iter().zip(&trace.layers) {
        for (what, t) in [
            ("out", &layer.out),
            ("delta", &layer.delta),
            ("weight", &layer.weight),
            ("bias", &layer.bias),
            ("weight_grad", &layer.weight_grad),
            ("bias_grad", &layer.bias_grad),
        ] {
            if bad(t) {
                return Some(format!("{name}.{what}"));
            }
        }
    }
    None
}

/// Room kept for a trace file's header and metadata in [`trace_file_bytes`].
const TRACE_HEADER_ROOM: u64 = 1 << 20;

/// About how large the trace of one step of a network with plan `plan` on
/// `batch` samples is, in bytes: the input, the labels, the loss's delta,
/// every layer's output and delta per sample, and each weight and bias with
/// its gradient; plus room for the header.
pub fn trace_file_bytes(plan: &crate::engine::limits::Plan, batch: usize) -> u64 {
    let per_sample = (INPUT_SHAPE.iter().product::<usize>() + CLASSES) as u64
        + plan.activations.saturating_mul(2);
    per_sample
        .saturating_mul(4)
        .saturating_add(8)
        .saturating_mul(batch as u64)
        .saturating_add(plan.parameters.saturating_mul(8))
        .saturating_add(TRACE_HEADER_ROOM)
}

/// The largest batch whose trace the program can read back (within
/// [`MAX_FILE_BYTES`](super::file::MAX_FILE_BYTES)).
pub fn largest_traced_batch(plan: &crate::engine::limits::Plan) -> usize {
    let (mut lo, mut hi) = (0usize, MAX_BATCH + 1);
    // Invariant: `lo` fits (or is 0), `hi` does not.
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if trace_file_bytes(plan, mid) <= super::file::MAX_FILE_BYTES {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Writes the trace atomically; a step holding NaN or infinities is refused.
pub fn write_trace(trace: &Trace, path: &Path) -> Result<(), FileError> {
    if let Some(name) = non_finite(trace) {
        return Err(error(path, Problem::NotFinite { name }));
    }
    let incomplete = |e: TraceError| {
        error(
            path,
            Problem::CannotWrite {
                cause: e.to_string().into(),
            },
        )
    };
    let loss = Tensor::from_elem(
        vec![1],
        trace
            .loss
            .ok_or_else(|| incomplete(TraceError::Incomplete("loss".into())))?,
    );
    let specs = trace.specs();
    trace_file(trace, &specs, &loss)
        .map_err(incomplete)?
        .save(path)
}

/// Reads a trace, checking it as any untrusted file: the layer list passes
/// the network limits, and every tensor has the shape that list and the
/// batch size give it (a view or a check may index any of them).
pub fn read_trace(path: &Path) -> Result<Trace, FileError> {
    let bytes = read_file(path)?;
    trace_from_bytes(path, &bytes)
}

/// Parses trace bytes; `path` only names the source in errors.
pub fn trace_from_bytes(path: &Path, bytes: &[u8]) -> Result<Trace, FileError> {
    parse_trace(&parse(path, bytes, FORMAT)?)
}

fn parse_trace(parsed: &Parsed) -> Result<Trace, FileError> {
    let path = parsed.path;
    let plan = plan(&parsed.specs).map_err(|e| error(path, Problem::Network(e)))?;
    // Every number of a trace is finite: a NaN compares as "close" to
    // nothing and to everything, and `check` must never say "matches"
    // against one.
    let finite = |name: &str, t: Tensor| {
        if t.iter().all(|v| v.is_finite()) {
            Ok(t)
        } else {
            Err(error(path, Problem::NotFinite { name: name.into() }))
        }
    };
    let input = finite("input", parsed.f32("input", None)?)?;
    let n = input.shape().first().copied().unwrap_or(0);
    let batch_shape = |per_sample: &[usize]| {
        std::iter::once(n)
            .chain(per_sample.iter().copied())
            .collect::<Vec<usize>>()
    };
    if n == 0 || n > MAX_BATCH || input.shape() != batch_shape(&INPUT_SHAPE) {
        return Err(error(
            path,
            Problem::WrongShape {
                name: "input".into(),
                found: input.shape().to_vec(),
                expected: "[N, 1, 28, 28]".into(),
            },
        ));
    }
    let (label_shape, labels) = parsed.i64("labels")?;
    if label_shape != [n] {
        return Err(error(
            path,
            Problem::WrongShape {
                name: "labels".into(),
                found: label_shape,
                expected: format!("[{n}]"),
            },
        ));
    }
    let labels = labels
        .into_iter()
        .map(|l| u8::try_from(l).ok().filter(|&l| l < 10))
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(|| error(path, Problem::LabelOutOfRange))?;
    let loss = finite("loss", parsed.f32("loss", None)?)?;
    if loss.len() != 1 {
        return Err(error(
            path,
            Problem::WrongShape {
                name: "loss".into(),
                found: loss.shape().to_vec(),
                expected: "[1]".into(),
            },
        ));
    }
    let shaped = |name: String, shape: Vec<usize>| {
        finite(&name, parsed.f32(&name, Some(&shape))?).map(Arc::new)
    };
    let mut layers = Vec::new();
    let mut in_shape = INPUT_SHAPE.to_vec();
    for (spec, out_shape) in parsed.specs.iter().zip(&plan.shapes) {
        let name = &spec.name;
        let mut layer = LayerTrace {
            out: Some(shaped(format!("{name}.out"), batch_shape(out_shape))?),
            delta: Some(shaped(format!("{name}.delta"), batch_shape(&in_shape))?),
            ..LayerTrace::default()
        };
        if let Some((ws, bs)) = spec.kind.param_shapes() {
            layer.weight = Some(shaped(format!("{name}.weight"), ws.clone())?);
            layer.bias = Some(shaped(format!("{name}.bias"), bs.clone())?);
            layer.weight_grad = Some(shaped(format!("{name}.weight_grad"), ws)?);
            layer.bias_grad = Some(shaped(format!("{name}.bias_grad"), bs)?);
        }
        layers.push(layer);
        in_shape = out_shape.clone();
    }
    Ok(Trace {
        input: Arc::new(input),
        labels,
        names: parsed.specs.iter().map(|s| s.name.clone()).collect(),
        kinds: parsed.specs.iter().map(|s| s.kind.clone()).collect(),
        layers,
        loss: loss.iter().next().copied(),
        probs: None,
        logits_delta: Some(shaped("logits.delta".into(), vec![n, CLASSES])?),
        lr: f32::NAN,
    })
}

/// The entry `NAME.what` for a tensor that a complete trace must hold.
fn need<'a>(
    name: &str,
    t: &'a Option<Arc<Tensor>>,
    what: &str,
) -> Result<(String, Entry<'a>), TraceError> {
    let entry = format!("{name}.{what}");
    match t {
        Some(t) => Ok((entry, Entry::F32(t))),
        None => Err(TraceError::Incomplete(entry)),
    }
}
