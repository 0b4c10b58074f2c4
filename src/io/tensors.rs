//! Named tensors to and from safetensors bytes, with the `__metadata__` map
//! this project writes (`format`, `version`, `layers`).

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::path::Path;

use safetensors::tensor::Dtype;
use safetensors::SafeTensors;

use super::file::{Damage, FileError, Problem, MAX_PRESET_BYTES};
use crate::engine::layers::LayerSpec;
use crate::engine::network::Network;
use crate::engine::Tensor;

pub const VERSION: &str = "1";

/// The longest safetensors header read. The largest file this program
/// writes (a session of a 64-layer network) has a header of a few kilobytes;
/// the safetensors crate itself would accept 100 MB of JSON.
pub const MAX_HEADER_BYTES: u64 = 16 << 20;

/// A tensor to write: F32 values or I64 labels, row-major.
pub enum Entry<'a> {
    F32(&'a Tensor),
    I64(Vec<usize>, Vec<i64>),
}

impl Entry<'_> {
    fn dtype(&self) -> &'static str {
        match self {
            Entry::F32(_) => "F32",
            Entry::I64(..) => "I64",
        }
    }

    fn shape(&self) -> Vec<usize> {
        match self {
            Entry::F32(t) => t.shape().to_vec(),
            Entry::I64(shape, _) => shape.clone(),
        }
    }

    fn byte_len(&self) -> usize {
        match self {
            Entry::F32(t) => t.len() * 4,
            Entry::I64(_, values) => values.len() * 8,
        }
    }

    /// The values as little-endian bytes, converted a block at a time (a
    /// 100 MB model is not copied whole, nor written four bytes per call).
    fn write_to(&self, out: &mut dyn Write) -> io::Result<()> {
        match self {
            Entry::F32(t) => write_blocks(out, t.iter().map(|v| v.to_le_bytes())),
            Entry::I64(_, values) => write_blocks(out, values.iter().map(|v| v.to_le_bytes())),
        }
    }
}

fn write_blocks<const N: usize>(
    out: &mut dyn Write,
    values: impl Iterator<Item = [u8; N]>,
) -> io::Result<()> {
    const BLOCK: usize = 1 << 16;
    let mut buffer = Vec::with_capacity(BLOCK + N);
    for bytes in values {
        buffer.extend_from_slice(&bytes);
        if buffer.len() >= BLOCK {
            out.write_all(&buffer)?;
            buffer.clear();
        }
    }
    out.write_all(&buffer)
}

/// A problem with the file at `path`.
pub fn error(path: &Path, problem: Problem) -> FileError {
    FileError::new(path, problem)
}

/// One safetensors file as this project writes it: the metadata (`format`,
/// `version`, `layers` and any extra entries) and the tensors in the order
/// given. Written by hand rather than by the safetensors crate, whose
/// metadata map comes out in a random order: here the same content always
/// gives the same bytes, and the tensors stream to the file without a
/// second copy in memory.
pub struct TensorFile<'a> {
    pub format: &'static str,
    pub specs: &'a [LayerSpec],
    pub extra: Vec<(String, String)>,
    pub entries: Vec<(String, Entry<'a>)>,
}

impl TensorFile<'_> {
    /// The JSON header, padded with spaces to a multiple of 8 bytes (the
    /// alignment safetensors asks for).
    fn header(&self) -> Vec<u8> {
        let mut metadata = BTreeMap::from([
            ("format".to_string(), self.format.to_string()),
            ("version".to_string(), VERSION.to_string()),
            ("layers".to_string(), Network::specs_to_json(self.specs)),
        ]);
        metadata.extend(self.extra.iter().cloned());
        let mut header = serde_json::Map::new();
        header.insert("__metadata__".into(), serde_json::json!(metadata));
        let mut offset = 0usize;
        for (name, entry) in &self.entries {
            let end = offset + entry.byte_len();
            header.insert(
                name.clone(),
                serde_json::json!({
                    "dtype": entry.dtype(),
                    "shape": entry.shape(),
                    "data_offsets": [offset, end],
                }),
            );
            offset = end;
        }
        let mut bytes = serde_json::to_vec(&header).expect("strings and numbers serialise");
        bytes.resize(bytes.len().next_multiple_of(8), b' ');
        bytes
    }

    pub fn write_to(&self, out: &mut dyn Write) -> io::Result<()> {
        let header = self.header();
        out.write_all(&(header.len() as u64).to_le_bytes())?;
        out.write_all(&header)?;
        for (_, entry) in &self.entries {
            entry.write_to(out)?;
        }
        Ok(())
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        self.write_to(&mut bytes).expect("writing to memory");
        bytes
    }

    /// Saves atomically (see [`super::file::write_atomic`]).
    pub fn save(&self, path: &Path) -> Result<(), FileError> {
        super::file::write_atomic(path, |out| self.write_to(out))
    }
}

/// Reads a whole file, refusing absurd sizes and non-regular files.
pub use super::file::read_file;

/// A parsed file: its tensors and its layer list, checked against `format`.
pub struct Parsed<'a> {
    pub path: &'a Path,
    pub tensors: SafeTensors<'a>,
    pub specs: Vec<LayerSpec>,
    pub meta: HashMap<String, String>,
}

pub fn parse<'a>(path: &'a Path, bytes: &'a [u8], format: &str) -> Result<Parsed<'a>, FileError> {
    let fail = |problem| error(path, problem);
    let not_safetensors =
        |e: safetensors::SafeTensorError| fail(Problem::NotSafetensors(Damage::from(&e)));
    // The header's length is a claim: refuse a huge one before parsing it.
    if let Some(n) = bytes.get(..8) {
        let n = u64::from_le_bytes(n.try_into().expect("8 bytes"));
        // A claim longer than the file is no header at all (a text file,
        // say): the safetensors reader says so below.
        if n > MAX_HEADER_BYTES && n <= bytes.len() as u64 - 8 {
            return Err(fail(Problem::MetadataTooLong {
                key: "header".into(),
                limit: MAX_HEADER_BYTES,
            }));
        }
    }
    let tensors = SafeTensors::deserialize(bytes).map_err(not_safetensors)?;
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(not_safetensors)?;
    let meta = header.metadata().clone().unwrap_or_default();
    let found = meta.get("format").map(String::as_str).unwrap_or("(none)");
    if found != format {
        return Err(fail(Problem::WrongFormat {
            found: format!("{found:?}"),
            expected: format!("{format:?}"),
        }));
    }
    let version = meta.get("version").map(String::as_str).unwrap_or("(none)");
    if version != VERSION {
        return Err(fail(Problem::WrongVersion {
            found: format!("{version:?}"),
            expected: format!("{VERSION:?}"),
        }));
    }
    let layers = metadata(path, &meta, "layers")?;
    let specs = Network::specs_from_json(layers).map_err(|e| fail(Problem::Network(e)))?;
    Ok(Parsed {
        path,
        tensors,
        specs,
        meta,
    })
}

/// The metadata entry `key`, which must exist and be at most 1 MiB long
/// (the same bound as a JSON preset file).
pub fn metadata<'m>(
    path: &Path,
    meta: &'m HashMap<String, String>,
    key: &str,
) -> Result<&'m str, FileError> {
    let text = meta
        .get(key)
        .ok_or_else(|| error(path, Problem::NoMetadata { key: key.into() }))?;
    if text.len() as u64 > MAX_PRESET_BYTES {
        return Err(error(
            path,
            Problem::MetadataTooLong {
                key: key.into(),
                limit: MAX_PRESET_BYTES,
            },
        ));
    }
    Ok(text)
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
    ) -> Result<safetensors::tensor::TensorView<'_>, FileError> {
        let view = self
            .tensors
            .tensor(name)
            .map_err(|_| error(self.path, Problem::MissingTensor { name: name.into() }))?;
        if view.dtype() != dtype {
            return Err(error(
                self.path,
                Problem::WrongDtype {
                    name: name.into(),
                    found: format!("{:?}", view.dtype()),
                    expected: format!("{dtype:?}"),
                },
            ));
        }
        Ok(view)
    }

    /// Checks that the F32 tensor `name` is in the file with `shape`,
    /// without reading its values.
    pub fn check(&self, name: &str, shape: &[usize]) -> Result<(), FileError> {
        let view = self.view(name, Dtype::F32)?;
        if view.shape() != shape {
            return Err(error(
                self.path,
                Problem::WrongShape {
                    name: name.into(),
                    found: view.shape().to_vec(),
                    expected: format!("{shape:?}"),
                },
            ));
        }
        Ok(())
    }

    /// The F32 tensor `name`, which must have `shape` when given.
    pub fn f32(&self, name: &str, shape: Option<&[usize]>) -> Result<Tensor, FileError> {
        if let Some(shape) = shape {
            self.check(name, shape)?;
        }
        let view = self.view(name, Dtype::F32)?;
        let values: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        Tensor::from_shape_vec(view.shape().to_vec(), values).map_err(|_| {
            error(
                self.path,
                Problem::WrongShape {
                    name: name.into(),
                    found: view.shape().to_vec(),
                    expected: "its data".into(),
                },
            )
        })
    }

    /// The I64 tensor `name` as plain values with its shape.
    pub fn i64(&self, name: &str) -> Result<(Vec<usize>, Vec<i64>), FileError> {
        let view = self.view(name, Dtype::I64)?;
        let values = view
            .data()
            .chunks_exact(8)
            .map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")))
            .collect();
        Ok((view.shape().to_vec(), values))
    }
}
