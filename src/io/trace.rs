//! Traces: one training step on one batch as the engine computed it, before
//! the update (`format = backprop-viz-trace`; tensor names in CONTRACTS.md).

use std::path::Path;
use std::sync::Arc;

use super::tensors::{error, parse, read_file, to_bytes, Entry};
use crate::data::dataset::DataError;
use crate::engine::trace::{LayerTrace, Trace};
use crate::engine::Tensor;

pub const FORMAT: &str = "backprop-viz-trace";

/// Serialises a complete trace (every phase up to the loss and the backward
/// pass must have run, with recording on).
pub fn trace_bytes(trace: &Trace) -> Result<Vec<u8>, String> {
    let loss = Tensor::from_elem(vec![1], trace.loss.ok_or("the step has no loss yet")?);
    let specs = trace.specs();
    let labels = trace.labels.iter().map(|&l| l as i64).collect();
    let mut entries = vec![
        ("input".to_string(), Entry::F32(&trace.input)),
        (
            "labels".to_string(),
            Entry::I64(vec![trace.labels.len()], labels),
        ),
        ("loss".to_string(), Entry::F32(&loss)),
    ];
    let logits_delta = trace
        .logits_delta
        .as_ref()
        .ok_or("the step has no loss delta yet")?;
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
    Ok(to_bytes(FORMAT, &specs, entries))
}

pub fn write_trace(trace: &Trace, path: &Path) -> Result<(), DataError> {
    let bytes = trace_bytes(trace).map_err(|e| error(path, e))?;
    std::fs::write(path, bytes).map_err(|e| error(path, format!("cannot write: {e}")))
}

pub fn read_trace(path: &Path) -> Result<Trace, DataError> {
    let bytes = read_file(path)?;
    let parsed = parse(path, &bytes, FORMAT)?;
    let input = parsed.f32("input", None)?;
    let (_, labels) = parsed.i64("labels")?;
    let labels = labels
        .into_iter()
        .map(|l| u8::try_from(l).ok().filter(|&l| l < 10))
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(|| error(path, "a label is outside 0..=9"))?;
    let loss = parsed.f32("loss", None)?.iter().next().copied();
    let shared = |name: &str| parsed.f32(name, None).map(Arc::new);
    let optional = |name: &str| parsed.has(name).then(|| shared(name)).transpose();
    let mut layers = Vec::new();
    for spec in &parsed.specs {
        let n = &spec.name;
        layers.push(LayerTrace {
            out: Some(shared(&format!("{n}.out"))?),
            delta: Some(shared(&format!("{n}.delta"))?),
            weight: optional(&format!("{n}.weight"))?,
            bias: optional(&format!("{n}.bias"))?,
            weight_grad: optional(&format!("{n}.weight_grad"))?,
            bias_grad: optional(&format!("{n}.bias_grad"))?,
            weight_after: None,
            bias_after: None,
        });
    }
    Ok(Trace {
        input: Arc::new(input),
        labels,
        names: parsed.specs.iter().map(|s| s.name.clone()).collect(),
        kinds: parsed.specs.iter().map(|s| s.kind.clone()).collect(),
        layers,
        loss,
        probs: None,
        logits_delta: Some(shared("logits.delta")?),
        lr: f32::NAN,
    })
}

/// The entry `NAME.what` for a tensor that a complete trace must hold.
fn need<'a>(
    name: &str,
    t: &'a Option<Arc<Tensor>>,
    what: &str,
) -> Result<(String, Entry<'a>), String> {
    t.as_ref()
        .map(|t| (format!("{name}.{what}"), Entry::F32(t)))
        .ok_or_else(|| format!("layer {name} has no {what} recorded"))
}
