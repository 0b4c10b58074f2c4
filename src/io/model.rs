//! Models: `NAME.weight` and `NAME.bias` (F32, PyTorch layouts) for each conv
//! and dense layer, `format = backprop-viz-model`. The same tensor names as a
//! PyTorch `nn.Sequential` state dict with named children, so a model moves
//! between the two unchanged.

use std::path::Path;

use super::tensors::{error, parse, read_file, to_bytes, Entry, Parsed};
use crate::data::dataset::DataError;
use crate::engine::layers::Param;
use crate::engine::network::Network;

pub const FORMAT: &str = "backprop-viz-model";

pub fn model_bytes(net: &Network) -> Vec<u8> {
    to_bytes(FORMAT, &net.specs, model_entries(net))
}

/// `NAME.weight`, `NAME.bias` for each layer with parameters.
pub fn model_entries(net: &Network) -> Vec<(String, Entry<'_>)> {
    let mut entries = Vec::new();
    for (spec, layer) in net.specs.iter().zip(&net.layers) {
        if let Some((w, b)) = layer.params() {
            entries.push((format!("{}.weight", spec.name), Entry::F32(&w.value)));
            entries.push((format!("{}.bias", spec.name), Entry::F32(&b.value)));
        }
    }
    entries
}

pub fn save_model(net: &Network, path: &Path) -> Result<(), DataError> {
    std::fs::write(path, model_bytes(net)).map_err(|e| error(path, format!("cannot write: {e}")))
}

/// Parses model bytes; `path` only names the source in errors.
pub fn read_model(path: &Path, bytes: &[u8]) -> Result<Network, DataError> {
    network_from(&parse(path, bytes, FORMAT)?)
}

/// The network a parsed model or session file holds.
pub fn network_from(parsed: &Parsed) -> Result<Network, DataError> {
    let path = parsed.path;
    let mut net = Network::new(parsed.specs.clone()).map_err(|e| error(path, e.to_string()))?;
    for (spec, layer) in net.specs.iter().zip(net.layers.iter_mut()) {
        if let Some((w, b)) = layer.params_mut() {
            let weight = parsed.f32(&format!("{}.weight", spec.name), Some(w.value.shape()))?;
            let bias = parsed.f32(&format!("{}.bias", spec.name), Some(b.value.shape()))?;
            if weight.iter().chain(bias.iter()).any(|v| !v.is_finite()) {
                return Err(error(
                    path,
                    format!("layer {} holds NaN or infinite values", spec.name),
                ));
            }
            *w = Param::new(weight);
            *b = Param::new(bias);
        }
    }
    Ok(net)
}

pub fn load_model(path: &Path) -> Result<Network, DataError> {
    let bytes = read_file(path)?;
    read_model(path, &bytes)
}
