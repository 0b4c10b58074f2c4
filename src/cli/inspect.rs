//! `backprop-viz inspect FILE [--json]`: what a model, trace or session
//! holds, read with exactly the loader (and so the validation) the app uses
//! when it opens that file. A file that would be refused there is refused
//! here with the same `error:` line.

use std::path::Path;

use safetensors::SafeTensors;
use serde_json::{json, Value};

use super::Result;
use crate::engine::layers::{LayerKind, LayerSpec};
use crate::io::file::{read_file, Damage, FileError, Problem};
use crate::io::{model, read_model, read_session, session, trace};

pub fn run(path: &Path, as_json: bool) -> Result<()> {
    let bytes = read_file(path)?;
    let format = format_of(path, &bytes)?;
    // The same loaders as File → Open model… / Open session… in the app.
    let (specs, settings) =
        match format.as_str() {
            model::FORMAT => (read_model(path, &bytes)?.specs, None),
            session::FORMAT => {
                let s = read_session(path, &bytes)?;
                // The learner's record, read as the app reads it: a count,
                // or why it cannot be read (the app keeps it aside).
                let record = s.predictions.as_deref().map(|text| {
                    match crate::teach::record::records_from(text.as_bytes()) {
                        Ok(records) => json!({"records": records.len()}),
                        Err(e) => json!({"unreadable": crate::io::file::short(&e.to_string())}),
                    }
                });
                let settings = json!({
                    "settings": s.settings,
                    "plot_losses": s.losses.len(),
                    "plot_epochs": s.epochs.len(),
                    "predictions": record,
                    "predictions_unread": s.predictions_unread.is_some(),
                });
                (s.network.specs, Some(settings))
            }
            trace::FORMAT => {
                let t = trace::trace_from_bytes(path, &bytes)?;
                let specs = t.specs();
                let info = json!({"batch": t.batch_size(), "labels": t.labels, "loss": t.loss});
                (specs, Some(info))
            }
            _ => return Err(FileError::new(
                path,
                Problem::WrongFormat {
                    found: format!("{format:?}"),
                    expected:
                        "\"backprop-viz-model\", \"backprop-viz-session\" or \"backprop-viz-trace\""
                            .into(),
                },
            )
            .into()),
        };
    // Every file above built or checked this list; it cannot fail here.
    let plan = crate::engine::limits::plan(&specs)?;
    let tensors = SafeTensors::deserialize(&bytes)
        .map_err(|e| FileError::new(path, Problem::NotSafetensors(Damage::from(&e))))?;
    let mut listed: Vec<(String, String, Vec<usize>)> = tensors
        .tensors()
        .into_iter()
        .map(|(name, view)| (name, format!("{:?}", view.dtype()), view.shape().to_vec()))
        .collect();
    listed.sort();

    println!(
        "{}: {format}, version {}",
        path.display(),
        crate::io::tensors::VERSION
    );
    println!(
        "network: {} layers, {} parameters, {} values per sample through the layers; batches up to {} fit the memory limit",
        specs.len(),
        plan.parameters,
        plan.activations,
        plan.largest_batch()
    );
    for (spec, shape) in specs.iter().zip(&plan.shapes) {
        println!(
            "  {:<10} {:<32} → {}",
            spec.name,
            describe(spec),
            dims(shape)
        );
    }
    println!("tensors ({}):", listed.len());
    for (name, dtype, shape) in &listed {
        println!("  {name:<28} {dtype} {shape:?}");
    }
    match (format.as_str(), &settings) {
        (session::FORMAT, Some(s)) => {
            println!("session: {}", s["settings"]);
            match &s["predictions"] {
                Value::Null => {}
                p if p.get("records").is_some() => {
                    println!("predictions: {} records", p["records"])
                }
                p => println!(
                    "predictions: unreadable ({}); the app keeps them aside and saves them back",
                    p["unreadable"].as_str().unwrap_or_default()
                ),
            }
            if s["predictions_unread"] == json!(true) {
                println!("predictions kept aside: a record an earlier opening could not read");
            }
        }
        (trace::FORMAT, Some(t)) => {
            println!("trace: a batch of {}, loss {}", t["batch"], t["loss"])
        }
        _ => {}
    }
    if as_json {
        let tensors: Vec<Value> = listed
            .iter()
            .map(|(name, dtype, shape)| json!({"name": name, "dtype": dtype, "shape": shape}))
            .collect();
        let mut out = json!({
            "file": path.display().to_string(),
            "format": format,
            "version": crate::io::tensors::VERSION,
            "layers": serde_json::to_value(&specs).expect("specs serialise"),
            "shapes": plan.shapes,
            "parameters": plan.parameters,
            "activations_per_sample": plan.activations,
            "largest_batch": plan.largest_batch(),
            "tensors": tensors,
        });
        match format.as_str() {
            session::FORMAT => out["session"] = settings.unwrap_or(Value::Null),
            trace::FORMAT => out["trace"] = settings.unwrap_or(Value::Null),
            _ => {}
        }
        println!("{out}");
    }
    Ok(())
}

/// The `format` metadata entry, read without trusting anything else.
fn format_of(path: &Path, bytes: &[u8]) -> std::result::Result<String, FileError> {
    // Any of the three formats will do for the header checks; the format
    // entry is compared below.
    match crate::io::tensors::parse(path, bytes, model::FORMAT) {
        Ok(_) => Ok(model::FORMAT.into()),
        Err(FileError {
            problem: Problem::WrongFormat { found, .. },
            ..
        }) => Ok(serde_json::from_str::<String>(&found).unwrap_or(found)),
        Err(e) => Err(e),
    }
}

fn dims(shape: &[usize]) -> String {
    shape
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join("x")
}

/// One layer in a few words: `conv 1→8, 3x3, padding 1`.
fn describe(spec: &LayerSpec) -> String {
    match &spec.kind {
        LayerKind::Conv {
            in_channels,
            out_channels,
            kernel,
            padding,
            ..
        } => format!("conv {in_channels}→{out_channels}, {kernel}x{kernel}, padding {padding}"),
        LayerKind::Maxpool { .. } | LayerKind::Avgpool { .. } => {
            let (size, stride) = spec.kind.pool_window().unwrap_or_default();
            if stride == size {
                format!("{} {size}x{size}", spec.kind.word())
            } else {
                format!("{} {size}x{size}, stride {stride}", spec.kind.word())
            }
        }
        LayerKind::Dense { inputs, outputs } => format!("dense {inputs}→{outputs}"),
        other => other.word().to_string(),
    }
}
