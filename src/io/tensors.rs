//! Named tensors to and from safetensors bytes, with the `__metadata__` map
//! this project writes (`format`, `version`, `layers`).

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::{Dtype, TensorView};
use safetensors::SafeTensors;

use crate::data::dataset::DataError;
use crate::engine::layers::LayerSpec;
use crate::engine::network::Network;
use crate::engine::Tensor;

pub const VERSION: &str = "1";

/// A tensor to write: F32 values or I64 labels, row-major.
pub enum Entry<'a> {
    F32(&'a Tensor),
    I64(Vec<usize>, Vec<i64>),
}

/// A problem with the file at `path`.
pub fn error(path: &Path, message: impl Into<String>) -> DataError {
    DataError::new(path, message)
}

/// Serialises `entries` with the project's metadata.
pub fn to_bytes(format: &str, specs: &[LayerSpec], entries: Vec<(String, Entry)>) -> Vec<u8> {
    to_bytes_with(format, specs, Vec::new(), entries)
}

/// As `to_bytes`, with more metadata entries.
pub fn to_bytes_with(
    format: &str,
    specs: &[LayerSpec],
    extra: Vec<(String, String)>,
    entries: Vec<(String, Entry)>,
) -> Vec<u8> {
    let buffers: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = entries
        .into_iter()
        .map(|(name, entry)| match entry {
            Entry::F32(t) => {
                let bytes = t.iter().flat_map(|v| v.to_le_bytes()).collect();
                (name, Dtype::F32, t.shape().to_vec(), bytes)
            }
            Entry::I64(shape, values) => {
                let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
                (name, Dtype::I64, shape, bytes)
            }
        })
        .collect();
    let views = buffers.iter().map(|(name, dtype, shape, bytes)| {
        let view =
            TensorView::new(*dtype, shape.clone(), bytes).expect("sizes agree by construction");
        (name.clone(), view)
    });
    let mut metadata = HashMap::from([
        ("format".to_string(), format.to_string()),
        ("version".to_string(), VERSION.to_string()),
        ("layers".to_string(), Network::specs_to_json(specs)),
    ]);
    metadata.extend(extra);
    safetensors::serialize(views, Some(metadata)).expect("valid tensors serialise")
}

/// Reads a whole file, refusing absurd sizes before allocating.
pub use crate::data::dataset::read_file_capped as read_file;

/// A parsed file: its tensors and its layer list, checked against `format`.
pub struct Parsed<'a> {
    pub path: &'a Path,
    pub tensors: SafeTensors<'a>,
    pub specs: Vec<LayerSpec>,
    pub meta: HashMap<String, String>,
}

pub fn parse<'a>(path: &'a Path, bytes: &'a [u8], format: &str) -> Result<Parsed<'a>, DataError> {
    let tensors = SafeTensors::deserialize(bytes)
        .map_err(|e| error(path, format!("not a safetensors file: {e}")))?;
    let (_, header) = SafeTensors::read_metadata(bytes)
        .map_err(|e| error(path, format!("not a safetensors file: {e}")))?;
    let meta = header.metadata().clone().unwrap_or_default();
    let found = meta.get("format").map(String::as_str).unwrap_or("(none)");
    if found != format {
        return Err(error(
            path,
            format!("metadata format is {found:?}, expected {format:?}"),
        ));
    }
    let version = meta.get("version").map(String::as_str).unwrap_or("(none)");
    if version != VERSION {
        return Err(error(
            path,
            format!("format version {version:?} is not supported (expected {VERSION:?})"),
        ));
    }
    let layers = meta
        .get("layers")
        .ok_or_else(|| error(path, "metadata has no \"layers\" list"))?;
    let specs = Network::specs_from_json(layers)
        .map_err(|e| error(path, format!("metadata layers: {e}")))?;
    Ok(Parsed {
        path,
        tensors,
        specs,
        meta,
    })
}

impl Parsed<'_> {
    pub fn has(&self, name: &str) -> bool {
        self.tensors.tensor(name).is_ok()
    }

    /// The tensor `name`, which must exist and hold `dtype`.
    fn view(
        &self,
        name: &str,
        dtype: Dtype,
    ) -> Result<safetensors::tensor::TensorView<'_>, DataError> {
        let view = self
            .tensors
            .tensor(name)
            .map_err(|_| error(self.path, format!("tensor {name:?} is missing")))?;
        if view.dtype() != dtype {
            return Err(error(
                self.path,
                format!("tensor {name:?} is {:?}, expected {dtype:?}", view.dtype()),
            ));
        }
        Ok(view)
    }

    /// The F32 tensor `name`, which must have `shape` when given.
    pub fn f32(&self, name: &str, shape: Option<&[usize]>) -> Result<Tensor, DataError> {
        let view = self.view(name, Dtype::F32)?;
        if let Some(shape) = shape {
            if view.shape() != shape {
                return Err(error(
                    self.path,
                    format!(
                        "tensor {name:?} has shape {:?}, expected {shape:?}",
                        view.shape()
                    ),
                ));
            }
        }
        let values: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        Tensor::from_shape_vec(view.shape().to_vec(), values)
            .map_err(|e| error(self.path, format!("tensor {name:?}: {e}")))
    }

    /// The I64 tensor `name` as plain values with its shape.
    pub fn i64(&self, name: &str) -> Result<(Vec<usize>, Vec<i64>), DataError> {
        let view = self.view(name, Dtype::I64)?;
        let values = view
            .data()
            .chunks_exact(8)
            .map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")))
            .collect();
        Ok((view.shape().to_vec(), values))
    }
}
