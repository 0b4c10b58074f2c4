//! Models: `NAME.weight` and `NAME.bias` (F32, PyTorch layouts) for each
//! layer with parameters, and batch norm's `NAME.running_mean` and
//! `NAME.running_var`, `format = backprop-viz-model`. The same tensor names as a
//! PyTorch `nn.Sequential` state dict with named children, so a model moves
//! between the two unchanged.

use std::path::Path;

use super::file::{FileError, Problem};
use super::tensors::{error, parse, read_file, Entry, Parsed, TensorFile};
use crate::engine::layers::Param;
use crate::engine::network::Network;

pub const FORMAT: &str = "backprop-viz-model";

fn model_file(net: &Network) -> TensorFile<'_> {
    TensorFile {
        format: FORMAT,
        specs: &net.specs,
        extra: Vec::new(),
        entries: model_entries(net),
    }
}

pub fn model_bytes(net: &Network) -> Vec<u8> {
    model_file(net).to_bytes()
}

/// `NAME.weight`, `NAME.bias` for each layer with parameters, then its
/// buffers (batch norm's running statistics).
pub fn model_entries(net: &Network) -> Vec<(String, Entry<'_>)> {
    let mut entries = Vec::new();
    for (spec, layer) in net.specs.iter().zip(&net.layers) {
        if let Some((w, b)) = layer.params() {
            entries.push((format!("{}.weight", spec.name), Entry::F32(&w.value)));
            entries.push((format!("{}.bias", spec.name), Entry::F32(&b.value)));
        }
        let buffers = spec.kind.buffer_shapes().into_iter().zip(layer.buffers());
        for ((what, _), value) in buffers {
            entries.push((format!("{}.{what}", spec.name), Entry::F32(value)));
        }
    }
    entries
}

/// Writes the model atomically: a failed save leaves the old file as it was.
pub fn save_model(net: &Network, path: &Path) -> Result<(), FileError> {
    model_file(net).save(path)
}

/// Parses model bytes; `path` only names the source in errors.
pub fn read_model(path: &Path, bytes: &[u8]) -> Result<Network, FileError> {
    network_from(&parse(path, bytes, FORMAT)?)
}

/// The network a parsed model or session file holds. The layer list passes
/// the one validation first, then every weight and bias must be in the file
/// with its layer's shape (checked on the file's own header, so nothing is
/// allocated for a network the file does not hold: a 300-byte file cannot
/// ask for gigabytes), then the network is built and every value must be
/// finite.
pub fn network_from(parsed: &Parsed) -> Result<Network, FileError> {
    let path = parsed.path;
    crate::engine::limits::plan(&parsed.specs).map_err(|e| error(path, Problem::Network(e)))?;
    let names = |spec: &crate::engine::layers::LayerSpec| {
        ["weight", "bias"].map(|what| format!("{}.{what}", spec.name))
    };
    for spec in &parsed.specs {
        if let Some((w, b)) = spec.kind.param_shapes() {
            for (name, shape) in names(spec).into_iter().zip([w, b]) {
                parsed.check(&name, &shape)?;
            }
        }
        for (what, shape) in spec.kind.buffer_shapes() {
            parsed.check(&format!("{}.{what}", spec.name), &shape)?;
        }
    }
    let mut net =
        Network::new(parsed.specs.clone()).map_err(|e| error(path, Problem::Network(e)))?;
    for (spec, layer) in net.specs.iter().zip(net.layers.iter_mut()) {
        if let Some((w, b)) = layer.params_mut() {
            for (param, name) in [w, b].into_iter().zip(names(spec)) {
                let value = parsed.f32(&name, Some(param.value.shape()))?;
                if value.iter().any(|v| !v.is_finite()) {
                    return Err(error(path, Problem::NotFinite { name }));
                }
                *param = Param::new(value);
            }
        }
        let whats = spec.kind.buffer_shapes();
        for ((what, shape), buffer) in whats.into_iter().zip(layer.buffers_mut()) {
            let name = format!("{}.{what}", spec.name);
            let value = parsed.f32(&name, Some(&shape))?;
            // A variance below 0 would take a square root of a negative.
            let bad = |v: &f32| !v.is_finite() || (what == "running_var" && *v < 0.0);
            if value.iter().any(bad) {
                return Err(error(path, Problem::NotFinite { name }));
            }
            *buffer = value;
        }
    }
    Ok(net)
}

pub fn load_model(path: &Path) -> Result<Network, FileError> {
    let bytes = read_file(path)?;
    read_model(path, &bytes)
}
