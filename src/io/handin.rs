//! Tensors a student hands in to `check` (CHECK-CONTRACT.md): safetensors
//! files of F32 or F64 tensors (with or without metadata), NumPy `.npy`
//! files (float32 or float64, C or Fortran order) and the app's own CSV
//! layout (`i0,…,i{d−1},value`, one row per element). Each is read as any
//! untrusted file: bounded, and every claimed shape checked against the
//! bytes really present before anything is allocated for it.
//!
//! The `.npy` writer is here too: exercises are written as `.npy` for the
//! NumPy starter script.

use std::io::Write;
use std::path::Path;

use ndarray::{ArrayD, IxDyn, ShapeBuilder};
use safetensors::tensor::Dtype;
use safetensors::SafeTensors;

use super::file::{FileError, Problem};
use super::tensors::MAX_HEADER_BYTES;
use crate::engine::Tensor;
use crate::trf;

/// The largest file handed in. A lenet trace's largest tensor as CSV text
/// is a few megabytes; this leaves room for large batches.
pub const MAX_HANDIN_BYTES: u64 = 256 << 20;

/// One tensor handed in, in f64 (the check computes in f64).
#[derive(Debug, Clone)]
pub struct Handed {
    pub name: String,
    pub values: ArrayD<f64>,
}

fn bad(path: &Path, detail: String) -> FileError {
    FileError::new(path, Problem::BadHandIn { detail })
}

/// The element count of `shape`, if it does not overflow.
fn count(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d))
}

/// The most values one tensor handed in may hold when the caller gives no
/// bound of its own (`check` and the app bound it by the step's tensors,
/// see [`crate::check::most_values`]): 16 million, 128 MB in f64.
pub const MAX_HANDED_VALUES: usize = 1 << 24;

/// Reads every tensor in one file handed in; the kind is the file's
/// extension (`.safetensors`, `.npy`, `.csv`).
pub fn read_handed(path: &Path) -> Result<Vec<Handed>, FileError> {
    handed_within(&crate::io::file::Input::path(path), MAX_HANDED_VALUES)
}

/// Reads every tensor in one file handed in, from disk or from memory.
pub fn handed_from(input: &crate::io::file::Input) -> Result<Vec<Handed>, FileError> {
    handed_within(input, MAX_HANDED_VALUES)
}

/// Reads every tensor in one file handed in, refusing any of more than
/// `most` values before it is converted: memory follows the step's
/// tensors, never the file (a CSV is streamed, never held whole).
pub fn handed_within(
    input: &crate::io::file::Input,
    most: usize,
) -> Result<Vec<Handed>, FileError> {
    let path = input.path.as_path();
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let stem = || {
        path.file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string()
    };
    let handed = match extension.as_deref() {
        Some("csv") => {
            return Ok(vec![Handed {
                name: stem(),
                values: csv_from(input, most)?,
            }])
        }
        Some("safetensors") => safetensors_from_bytes(path, &input.read(MAX_HANDIN_BYTES)?)?,
        Some("npy") => vec![Handed {
            name: stem(),
            values: npy_from_bytes(path, &input.read(MAX_HANDIN_BYTES)?)?,
        }],
        _ => {
            return Err(bad(
                path,
                trf!("expected a .safetensors, .npy or .csv file"),
            ))
        }
    };
    // (A binary file's values are no more than its bytes: converted whole,
    // then held to the same bound as a CSV's.)
    if let Some(h) = handed.iter().find(|h| h.values.len() > most) {
        return Err(bad(
            path,
            trf!(
                "{name} holds {n} values, more than any tensor of this step could hold ({most})",
                name = crate::io::file::short(&h.name),
                n = h.values.len(),
                most = most
            ),
        ));
    }
    Ok(handed)
}

/// Every F32 or F64 tensor of a safetensors file; the metadata, if any, is
/// not needed.
pub fn safetensors_from_bytes(path: &Path, bytes: &[u8]) -> Result<Vec<Handed>, FileError> {
    if let Some(n) = bytes.get(..8) {
        let n = u64::from_le_bytes(n.try_into().expect("8 bytes"));
        if n > MAX_HEADER_BYTES && n <= bytes.len() as u64 - 8 {
            return Err(FileError::new(
                path,
                Problem::MetadataTooLong {
                    key: "header".into(),
                    limit: MAX_HEADER_BYTES,
                },
            ));
        }
    }
    let file = SafeTensors::deserialize(bytes).map_err(|e| {
        FileError::new(path, Problem::NotSafetensors(super::file::Damage::from(&e)))
    })?;
    let mut names = file.names();
    names.sort();
    if names.is_empty() {
        return Err(bad(path, trf!("holds no tensors")));
    }
    let mut handed = Vec::new();
    for name in names {
        let view = file.tensor(name).expect("a listed name");
        let values: Vec<f64> = match view.dtype() {
            Dtype::F32 => view
                .data()
                .chunks_exact(4)
                .map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
                .collect(),
            Dtype::F64 => view
                .data()
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")))
                .collect(),
            // A trace's labels (so a whole trace can be handed in).
            Dtype::I64 => view
                .data()
                .chunks_exact(8)
                .map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")) as f64)
                .collect(),
            other => {
                return Err(bad(
                    path,
                    trf!(
                        "tensor {name} is {dtype}; hand in F32 or F64",
                        name = crate::io::file::short(name),
                        dtype = format!("{other:?}")
                    ),
                ))
            }
        };
        // The crate has checked that the data's length matches the shape.
        let values = ArrayD::from_shape_vec(IxDyn(view.shape()), values).map_err(|_| {
            bad(
                path,
                trf!(
                    "tensor {name} does not match its shape",
                    name = crate::io::file::short(name)
                ),
            )
        })?;
        handed.push(Handed {
            name: name.to_string(),
            values,
        });
    }
    Ok(handed)
}

/// The header of a `.npy` file: element size and byte order, order of the
/// axes, shape.
struct NpyHeader {
    double: bool,
    big_endian: bool,
    fortran: bool,
    shape: Vec<usize>,
}

/// A value of the `.npy` header's Python dict literal.
#[derive(Debug, Clone, PartialEq)]
enum PyValue {
    Str(String),
    Bool(bool),
    Tuple(Vec<usize>),
}

/// Parses the header's dict literal as NumPy does (`ast.literal_eval`,
/// then exactly the keys `descr`, `fortran_order` and `shape`): quoted
/// keys, values that are strings, `True`/`False` or tuples of integers.
/// Anything else, a key twice or another key is refused (a key inside a
/// string is only text).
fn py_dict(text: &str) -> Option<Vec<(String, PyValue)>> {
    struct P<'a> {
        s: &'a [u8],
        at: usize,
    }
    impl P<'_> {
        fn space(&mut self) {
            while self.s.get(self.at).is_some_and(|c| c.is_ascii_whitespace()) {
                self.at += 1;
            }
        }
        fn eat(&mut self, c: u8) -> bool {
            self.space();
            if self.s.get(self.at) == Some(&c) {
                self.at += 1;
                true
            } else {
                false
            }
        }
        fn string(&mut self) -> Option<String> {
            self.space();
            let quote = *self.s.get(self.at).filter(|&&q| q == b'\'' || q == b'"')?;
            let start = self.at + 1;
            let end = start + self.s[start..].iter().position(|&c| c == quote)?;
            let text = std::str::from_utf8(&self.s[start..end]).ok()?;
            // No escapes in the names and dtypes NumPy writes.
            if text.contains('\\') {
                return None;
            }
            self.at = end + 1;
            Some(text.to_string())
        }
        fn word(&mut self) -> Option<&str> {
            self.space();
            let start = self.at;
            while self
                .s
                .get(self.at)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
            {
                self.at += 1;
            }
            std::str::from_utf8(&self.s[start..self.at])
                .ok()
                .filter(|w| !w.is_empty())
        }
        fn value(&mut self) -> Option<PyValue> {
            self.space();
            match self.s.get(self.at)? {
                b'\'' | b'"' => self.string().map(PyValue::Str),
                b'(' => {
                    self.at += 1;
                    let mut dims = Vec::new();
                    loop {
                        if self.eat(b')') {
                            return Some(PyValue::Tuple(dims));
                        }
                        let n = self.word()?.trim_end_matches('L').parse().ok()?;
                        dims.push(n);
                        // `(3)` is an int, not a tuple; `(3,)` and `(2, 3)` are.
                        if !self.eat(b',') {
                            return (self.eat(b')') && dims.len() > 1)
                                .then_some(PyValue::Tuple(dims));
                        }
                    }
                }
                _ => match self.word()? {
                    "True" => Some(PyValue::Bool(true)),
                    "False" => Some(PyValue::Bool(false)),
                    _ => None,
                },
            }
        }
    }
    let mut p = P {
        s: text.as_bytes(),
        at: 0,
    };
    let mut entries: Vec<(String, PyValue)> = Vec::new();
    if !p.eat(b'{') {
        return None;
    }
    loop {
        if p.eat(b'}') {
            break;
        }
        let key = p.string()?;
        if !p.eat(b':') {
            return None;
        }
        let value = p.value()?;
        if entries.iter().any(|(k, _)| *k == key) {
            return None;
        }
        entries.push((key, value));
        if !p.eat(b',') {
            if !p.eat(b'}') {
                return None;
            }
            break;
        }
    }
    p.space();
    (p.at == p.s.len()).then_some(entries)
}

fn npy_header(path: &Path, bytes: &[u8]) -> Result<(NpyHeader, usize), FileError> {
    let not_npy = || bad(path, trf!("not a NumPy .npy file (np.save writes one)"));
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(not_npy());
    }
    let (len, start): (usize, usize) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        _ => return Err(not_npy()),
    };
    let end = start.checked_add(len).filter(|&e| e <= bytes.len());
    let dict = end
        .and_then(|end| std::str::from_utf8(&bytes[start..end]).ok())
        .ok_or_else(not_npy)?;
    let entries = py_dict(dict).filter(|e| e.len() == 3).ok_or_else(not_npy)?;
    let get = |key: &str| entries.iter().find(|(k, _)| k == key).map(|(_, v)| v);
    let Some(PyValue::Str(descr)) = get("descr") else {
        return Err(not_npy());
    };
    let (double, big_endian) = match descr.as_str() {
        "<f4" | "=f4" | "|f4" => (false, false),
        "<f8" | "=f8" | "|f8" => (true, false),
        ">f4" => (false, true),
        ">f8" => (true, true),
        other => {
            return Err(bad(
                path,
                trf!(
                    "holds {dtype} values; hand in float32 or float64 (np.float32, np.float64)",
                    dtype = crate::io::file::short(other)
                ),
            ))
        }
    };
    let Some(&PyValue::Bool(fortran)) = get("fortran_order") else {
        return Err(not_npy());
    };
    let Some(PyValue::Tuple(shape)) = get("shape") else {
        return Err(not_npy());
    };
    let shape = shape.clone();
    if shape.len() > 8 {
        return Err(bad(
            path,
            trf!(
                "has {n} dimensions; no tensor of a trace has more than 4",
                n = shape.len()
            ),
        ));
    }
    Ok((
        NpyHeader {
            double,
            big_endian,
            fortran,
            shape,
        },
        end.expect("checked above"),
    ))
}

/// A `.npy` file's array, in f64, in row-major order whatever the file's.
pub fn npy_from_bytes(path: &Path, bytes: &[u8]) -> Result<ArrayD<f64>, FileError> {
    let (header, start) = npy_header(path, bytes)?;
    let size = if header.double { 8 } else { 4 };
    let data = &bytes[start..];
    // The shape is a claim: it must name exactly the bytes present.
    let n = count(&header.shape)
        .filter(|n| n.checked_mul(size) == Some(data.len()))
        .ok_or_else(|| {
            bad(
                path,
                trf!(
                    "its shape {shape} does not match the {bytes} bytes of data present",
                    shape = format!("{:?}", header.shape),
                    bytes = data.len()
                ),
            )
        })?;
    let mut values = Vec::with_capacity(n);
    for chunk in data.chunks_exact(size) {
        let value = match (header.double, header.big_endian) {
            (true, false) => f64::from_le_bytes(chunk.try_into().expect("8 bytes")),
            (true, true) => f64::from_be_bytes(chunk.try_into().expect("8 bytes")),
            (false, false) => f64::from(f32::from_le_bytes(chunk.try_into().expect("4 bytes"))),
            (false, true) => f64::from(f32::from_be_bytes(chunk.try_into().expect("4 bytes"))),
        };
        values.push(value);
    }
    let shape = IxDyn(&header.shape);
    let array = if header.fortran {
        ArrayD::from_shape_vec(shape.f(), values)
    } else {
        ArrayD::from_shape_vec(shape, values)
    }
    .expect("the count was checked");
    // Row-major from here on, whatever the file's order.
    Ok(array.as_standard_layout().into_owned())
}

/// The app's CSV layout: a header `i0,…,i{d−1},value`, then one row per
/// element with its index along each axis and its value. Every index must
/// appear exactly once.
pub fn csv_from_bytes(path: &Path, bytes: &[u8]) -> Result<ArrayD<f64>, FileError> {
    csv_from(
        &crate::io::file::Input::bytes(path, bytes),
        MAX_HANDED_VALUES,
    )
}

/// The longest CSV row read: eight indices and a value in full precision
/// fit many times over.
const MAX_CSV_LINE: usize = 1024;

/// Reads the CSV in two streaming passes, so memory follows the tensor and
/// never the file: the first checks every row and finds the shape, keeping
/// nothing but the extents and a count (a file with more rows than `most`
/// is refused at that row); the second fills the array, at most `most`
/// values, that the first pass proved to have exactly one row per element.
fn csv_from(input: &crate::io::file::Input, most: usize) -> Result<ArrayD<f64>, FileError> {
    let path = input.path.as_path();
    let (dims, shape, rows) = {
        let mut lines = CsvLines::new(path, input.stream(MAX_HANDIN_BYTES)?);
        let dims = lines.header()?;
        let mut shape = vec![0usize; dims];
        let mut rows = 0usize;
        while let Some((row, index, _)) = lines.row(dims)? {
            rows += 1;
            if rows > most {
                return Err(too_many(path, most, row));
            }
            for (extent, &i) in shape.iter_mut().zip(&index) {
                *extent = (*extent).max(i.saturating_add(1));
            }
        }
        (dims, shape, rows)
    };
    // Each element has one row, so the shape can hold no more elements than
    // there are rows: checked before the array is allocated.
    let n = count(&shape).filter(|&n| n == rows).ok_or_else(|| {
        bad(
            path,
            trf!(
                "{rows} rows for the shape {shape}: an index is missing or repeated",
                rows = rows,
                shape = format!("{shape:?}")
            ),
        )
    })?;
    let mut seen = vec![false; n];
    let mut values = ArrayD::<f64>::zeros(IxDyn(&shape));
    let mut lines = CsvLines::new(path, input.stream(MAX_HANDIN_BYTES)?);
    lines.header()?;
    while let Some((_, index, value)) = lines.row(dims)? {
        let flat = index
            .iter()
            .zip(&shape)
            .try_fold(0usize, |flat, (&i, &extent)| {
                (i < extent).then_some(flat * extent + i)
            });
        // A file that changed between the two passes.
        let Some(flat) = flat.filter(|&f| f < n) else {
            return Err(bad(path, trf!("changed while it was being read")));
        };
        if std::mem::replace(&mut seen[flat], true) {
            return Err(bad(
                path,
                trf!(
                    "the index {index} appears twice",
                    index = format!("{index:?}")
                ),
            ));
        }
        values[IxDyn(&index)] = value;
    }
    Ok(values)
}

fn too_many(path: &Path, most: usize, row: usize) -> FileError {
    bad(
        path,
        trf!(
            "row {row}: more values than any tensor of this step could hold ({most})",
            row = row,
            most = most
        ),
    )
}

/// The rows of a CSV hand-in, read one line at a time (each at most
/// [`MAX_CSV_LINE`] bytes), blank lines skipped.
struct CsvLines<'a> {
    path: &'a Path,
    reader: Box<dyn std::io::BufRead + 'a>,
    line: Vec<u8>,
    /// The number of the line read last, from 1.
    number: usize,
}

impl<'a> CsvLines<'a> {
    fn new(path: &'a Path, reader: Box<dyn std::io::BufRead + 'a>) -> Self {
        CsvLines {
            path,
            reader,
            line: Vec::new(),
            number: 0,
        }
    }

    /// The next non-blank line, trimmed, and its number.
    fn next_line(&mut self) -> Result<Option<(usize, &str)>, FileError> {
        use std::io::BufRead;
        loop {
            self.line.clear();
            self.number += 1;
            let read = std::io::Read::take(&mut self.reader, MAX_CSV_LINE as u64 + 1)
                .read_until(b'\n', &mut self.line)
                .map_err(|e| FileError::new(self.path, super::file::io_problem(&e)))?;
            if read == 0 {
                return Ok(None);
            }
            if self.line.len() > MAX_CSV_LINE {
                return Err(bad(
                    self.path,
                    trf!(
                        "row {row} is longer than {n} characters",
                        row = self.number,
                        n = MAX_CSV_LINE
                    ),
                ));
            }
            let text = std::str::from_utf8(&self.line).map_err(|_| {
                bad(
                    self.path,
                    trf!("is not text (expected the app's CSV layout)"),
                )
            })?;
            if !text.trim().is_empty() {
                // Borrowed again to return it (the check above needed it).
                let number = self.number;
                return Ok(std::str::from_utf8(&self.line)
                    .ok()
                    .map(|l| (number, l.trim())));
            }
        }
    }

    /// The header `i0,…,i{d−1},value`: the number of dimensions `d`.
    fn header(&mut self) -> Result<usize, FileError> {
        let path = self.path;
        let (_, line) = self
            .next_line()?
            .ok_or_else(|| bad(path, trf!("is empty")))?;
        let header: Vec<&str> = line.split(',').map(str::trim).collect();
        let dims = header.len().saturating_sub(1);
        let expected: Vec<String> = (0..dims)
            .map(|d| format!("i{d}"))
            .chain(["value".to_string()])
            .collect();
        if header != expected || dims > 8 {
            return Err(bad(
                path,
                trf!(
                    "the first row must be the header {header} (the app's Export as CSV layout)",
                    header = if dims <= 8 {
                        expected.join(",")
                    } else {
                        "i0,i1,…,value".to_string()
                    }
                ),
            ));
        }
        Ok(dims)
    }

    /// The next row: its line number, index and value.
    fn row(&mut self, dims: usize) -> Result<Option<(usize, Vec<usize>, f64)>, FileError> {
        let path = self.path;
        let Some((row, line)) = self.next_line()? else {
            return Ok(None);
        };
        let bad_row = || {
            bad(
                path,
                trf!(
                    "row {row}: expected {n} numbers (the indices, then the value)",
                    row = row,
                    n = dims + 1
                ),
            )
        };
        let mut fields = line.split(',').map(str::trim);
        let index = (&mut fields)
            .take(dims)
            .map(|f| f.parse::<usize>().ok())
            .collect::<Option<Vec<usize>>>()
            .filter(|i| i.len() == dims)
            .ok_or_else(bad_row)?;
        let value = fields
            .next()
            .and_then(|f| f.parse::<f64>().ok())
            .ok_or_else(bad_row)?;
        if fields.next().is_some() {
            return Err(bad_row());
        }
        Ok(Some((row, index, value)))
    }
}

/// A tensor as CSV in the layout `check` reads: a header, then one row per
/// value, its index in each dimension, then the value.
pub fn tensor_csv(t: &Tensor) -> String {
    let mut out = String::new();
    let header: Vec<String> = (0..t.ndim())
        .map(|d| format!("i{d}"))
        .chain(["value".to_string()])
        .collect();
    out.push_str(&header.join(","));
    out.push('\n');
    for (index, value) in t.indexed_iter() {
        for d in 0..t.ndim() {
            out.push_str(&index[d].to_string());
            out.push(',');
        }
        out.push_str(&value.to_string());
        out.push('\n');
    }
    out
}

/// A tensor as a version-1 `.npy` file of little-endian float32, C order.
pub fn npy_bytes(t: &Tensor) -> Vec<u8> {
    let shape = match t.shape() {
        [n] => format!("({n},)"),
        dims => format!(
            "({})",
            dims.iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut dict = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}");
    // Magic (6) + version (2) + length (2) + dict + newline, to a multiple of 64.
    let total = (10 + dict.len() + 1).next_multiple_of(64);
    dict.push_str(&" ".repeat(total - 10 - dict.len() - 1));
    dict.push('\n');
    let mut out = Vec::with_capacity(total + t.len() * 4);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    for v in t.iter() {
        out.write_all(&v.to_le_bytes()).expect("writing to memory");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("t.npy")
    }

    #[test]
    fn npy_round_trips_and_reads_fortran_order() {
        let t = Tensor::from_shape_fn(vec![2, 3], |d| (d[0] * 3 + d[1]) as f32);
        let bytes = npy_bytes(&t);
        assert_eq!(bytes.len() % 4, 0);
        let back = npy_from_bytes(p(), &bytes).unwrap();
        assert_eq!(back, t.mapv(f64::from));
        // What np.save writes for a.T of a 3x2 array: Fortran order.
        let mut f = b"\x93NUMPY\x01\x00".to_vec();
        let dict = "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }\n";
        f.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        f.extend_from_slice(dict.as_bytes());
        // Column-major: (0,0) (1,0) (0,1) (1,1) (0,2) (1,2).
        for v in [0.0f64, 3.0, 1.0, 4.0, 2.0, 5.0] {
            f.extend_from_slice(&v.to_le_bytes());
        }
        assert_eq!(npy_from_bytes(p(), &f).unwrap(), t.mapv(f64::from));
    }

    #[test]
    fn npy_shapes_that_lie_are_refused_before_allocating() {
        let mut f = b"\x93NUMPY\x01\x00".to_vec();
        let dict =
            "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }\n";
        f.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        f.extend_from_slice(dict.as_bytes());
        f.extend_from_slice(&[0; 16]);
        let e = npy_from_bytes(p(), &f).unwrap_err().to_string();
        assert!(e.contains("does not match"), "{e}");
        assert!(npy_from_bytes(p(), b"\x93NUMPY\x01\x00\xff\xff{").is_err());
        assert!(npy_from_bytes(p(), b"hello").is_err());
    }

    #[test]
    fn csv_reads_the_apps_layout_and_refuses_gaps_and_repeats() {
        let t = Tensor::from_shape_fn(vec![2, 2], |d| (d[0] * 2 + d[1]) as f32 * 0.5);
        let text = tensor_csv(&t);
        let back = csv_from_bytes(Path::new("a.csv"), text.as_bytes()).unwrap();
        assert_eq!(back, t.mapv(f64::from));
        let gap = "i0,value\n0,1\n2,3\n";
        assert!(csv_from_bytes(Path::new("a.csv"), gap.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("missing or repeated"));
        let repeat = "i0,value\n0,1\n0,3\n";
        assert!(csv_from_bytes(Path::new("a.csv"), repeat.as_bytes()).is_err());
        let huge = "i0,i1,value\n18446744073709551615,18446744073709551615,1\n";
        assert!(csv_from_bytes(Path::new("a.csv"), huge.as_bytes()).is_err());
        assert!(csv_from_bytes(Path::new("a.csv"), b"x,y\n1,2\n").is_err());
    }
}
