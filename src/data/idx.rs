//! The IDX file format (MNIST's own), parsed as untrusted input.
//!
//! An IDX file is a 4-byte magic number `00 00 TT ND` (`TT` = element type,
//! `ND` = number of dimensions), `ND` big-endian `u32` sizes, then the
//! elements in row-major order. MNIST uses one type, unsigned bytes
//! (`TT = 0x08`), in two shapes: labels `[N]` (idx1) and images
//! `[N, rows, cols]` (idx3). Those are the only ones accepted here.
//!
//! Files come from users (`--data DIR`, the GUI's file dialog, drag and
//! drop), so every number in a header is a claim to check, not a size to
//! trust:
//! - the magic must be `0x00000801` or `0x00000803`;
//! - the product of the sizes is computed with overflow checks, and no size
//!   may be zero (an empty dataset would only fail later, far from its cause);
//! - the promised byte count must match the bytes actually present, exactly:
//!   missing bytes are a truncated file, extra bytes are a sign of a wrong or
//!   corrupted file;
//! - nothing is allocated from the header alone: raw data is sized by the
//!   file, and gzip output is read through a cap of "what the header
//!   promises, plus one byte" (the extra byte is how trailing garbage is
//!   noticed), which also defeats gzip bombs.
//!
//! Gzip is recognised by its magic bytes `1f 8b`, never by the file name:
//! people rename files, and browsers decompress downloads without renaming
//! them.

use std::io::{self, Read};

use crate::i18n::tr;
use crate::trf;

/// Gzip's magic bytes (RFC 1952, section 2.3.1).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The most a deflate stream can expand: 258 output bytes per ~2 bits
/// (zlib's technical details put the limit at 1032:1).
const MAX_DEFLATE_RATIO: usize = 1032;

/// The IDX element type code for unsigned bytes.
const TYPE_U8: u8 = 0x08;

/// The largest payload accepted, in bytes. MNIST's training images are
/// 47 MB; EMNIST's largest split is under 700 MB. Anything bigger is far more
/// likely a wrong file than a dataset, and refusing it up front keeps a
/// hostile or broken header from making us decompress gigabytes.
pub const MAX_DATA_BYTES: usize = 1 << 30;

/// An n-dimensional array of bytes read from an IDX file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// The sizes from the header, outermost first: `[N]` for labels,
    /// `[N, rows, cols]` for images. Every size is at least 1.
    pub dims: Vec<usize>,
    /// The elements in row-major order; `data.len()` is the product of `dims`.
    pub data: Vec<u8>,
}

/// What can be wrong with an IDX file. The messages are written for the
/// person who chose the file: they say what was found and what was expected
/// (worded through the translation table, in the thread's language).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdxError {
    /// Zero bytes: typically an interrupted download or a placeholder file.
    Empty,
    /// Fewer bytes than the fixed-size header needs. `ndims` is `None` when
    /// the file ends inside the magic number, before it says.
    TruncatedHeader {
        ndims: Option<u8>,
        needed: usize,
        found: usize,
    },
    /// The first four bytes are not an unsigned-byte idx1 or idx3 magic.
    BadMagic { found: u32 },
    /// A valid IDX magic, but not the kind of file the caller asked for
    /// (labels where images were expected, or the reverse).
    WrongDims { expected: u8, found: u8 },
    /// One of the header's sizes is zero.
    ZeroSize { dims: Vec<u32> },
    /// The sizes multiply to more than this program accepts (or than fits
    /// in memory at all).
    TooLarge { dims: Vec<u32> },
    /// Fewer data bytes than the header promises.
    TruncatedData {
        dims: Vec<usize>,
        expected: usize,
        found: usize,
    },
    /// More bytes than the header promises: a wrong header or garbage at
    /// the end. `found` is a lower bound for gzip input, which is not
    /// decompressed past the first extra byte.
    TrailingBytes {
        dims: Vec<usize>,
        expected: usize,
        found: usize,
        at_least: bool,
    },
    /// The gzip stream ends before its end marker.
    TruncatedGzip,
    /// The gzip stream is damaged (bad header, bad deflate data, checksum).
    CorruptGzip(String),
}

impl std::error::Error for IdxError {}

impl std::fmt::Display for IdxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = match self {
            IdxError::Empty => trf!("the file is empty"),
            IdxError::TruncatedHeader {
                ndims: Some(n),
                needed,
                found,
            } => trf!(
                "truncated header: an idx{n} file ({kind}) starts with a {needed}-byte header, but the file holds only {found} bytes",
                n = n,
                kind = kind_name(*n),
                needed = needed,
                found = found
            ),
            IdxError::TruncatedHeader {
                ndims: None, found, ..
            } => trf!(
                "truncated header: the file holds only {found} byte(s), not even the 4-byte magic number",
                found = found
            ),
            IdxError::BadMagic { found } => trf!(
                "not an IDX file: magic number {found} (expected 0x00000801 or 0x00000803)",
                found = format!("0x{found:08x}")
            ),
            IdxError::WrongDims { expected, found } => trf!(
                "expected an idx{expected} file ({expected_kind}) but this is an idx{found} file ({found_kind})",
                expected = expected,
                expected_kind = kind_name(*expected),
                found = found,
                found_kind = kind_name(*found)
            ),
            IdxError::ZeroSize { dims } => trf!(
                "header says {dims}: a size of zero leaves nothing to read",
                dims = describe(dims)
            ),
            IdxError::TooLarge { dims } => trf!(
                "header says {dims}, more than the {limit} bytes this program accepts",
                dims = describe(dims),
                limit = MAX_DATA_BYTES
            ),
            IdxError::TruncatedData {
                dims,
                expected,
                found,
            } => trf!(
                "header says {dims} ({expected} bytes) but the file holds {found}",
                dims = describe_dims(dims),
                expected = expected,
                found = found
            ),
            IdxError::TrailingBytes {
                dims,
                expected,
                found,
                at_least: true,
            } => trf!(
                "header says {dims} ({expected} bytes) but the file holds at least {found} bytes of data: trailing bytes after the data",
                dims = describe_dims(dims),
                expected = expected,
                found = found
            ),
            IdxError::TrailingBytes {
                dims,
                expected,
                found,
                at_least: false,
            } => trf!(
                "header says {dims} ({expected} bytes) but the file holds {found} bytes of data: trailing bytes after the data",
                dims = describe_dims(dims),
                expected = expected,
                found = found
            ),
            IdxError::TruncatedGzip => {
                trf!("truncated gzip stream (the compressed file was cut short)")
            }
            IdxError::CorruptGzip(detail) => {
                trf!("corrupt gzip stream: {detail}", detail = detail)
            }
        };
        f.write_str(&text)
    }
}

fn kind_name(ndims: u8) -> &'static str {
    match ndims {
        1 => tr("labels"),
        3 => tr("images"),
        _ => tr("unknown"),
    }
}

/// "60000 images of 28x28" / "60000 labels" / "2x3x4x5": the header's
/// claim in the words a user understands.
fn describe_dims(dims: &[usize]) -> String {
    match dims {
        [n] => trf!("{n} labels", n = n),
        [n, rows, cols] => trf!(
            "{n} images of {rows}x{cols}",
            n = n,
            rows = rows,
            cols = cols
        ),
        _ => dims
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join("x"),
    }
}

fn describe(dims: &[u32]) -> String {
    let dims: Vec<usize> = dims.iter().map(|&d| d as usize).collect();
    describe_dims(&dims)
}

/// Parses an idx1 (labels) or idx3 (images) file of unsigned bytes, raw or
/// gzip-compressed.
///
/// Use [`parse_idx_expecting`] when the caller knows which of the two it
/// needs: the error then says "expected images, got labels" instead of
/// failing later on a shape.
pub fn parse_idx(bytes: &[u8]) -> Result<IdxArray, IdxError> {
    parse(bytes, None)
}

/// Like [`parse_idx`], but requires `ndims` dimensions: 1 for labels,
/// 3 for images.
pub fn parse_idx_expecting(bytes: &[u8], ndims: u8) -> Result<IdxArray, IdxError> {
    parse(bytes, Some(ndims))
}

/// Parses an uncompressed IDX file of `len` bytes from a stream, requiring
/// `ndims` dimensions: the header is read first and the size it promises
/// checked against `len` before the data is read or anything allocated
/// for it (a file on disk says its length before it is read).
pub fn parse_raw_idx<R: Read>(reader: R, len: usize, ndims: u8) -> Result<IdxArray, IdxError> {
    if len == 0 {
        return Err(IdxError::Empty);
    }
    parse_stream(reader, Some(ndims), Source::Raw { len })
}

/// Whether these bytes start like a gzip stream.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&GZIP_MAGIC)
}

fn parse(bytes: &[u8], expected_ndims: Option<u8>) -> Result<IdxArray, IdxError> {
    if bytes.is_empty() {
        return Err(IdxError::Empty);
    }
    if is_gzip(bytes) {
        // `MultiGzDecoder` accepts concatenated members (valid gzip) and
        // reports anything else after the first member as corrupt, instead
        // of silently ignoring it.
        parse_stream(
            flate2::read::MultiGzDecoder::new(bytes),
            expected_ndims,
            Source::Gzip {
                compressed: bytes.len(),
            },
        )
    } else {
        parse_stream(bytes, expected_ndims, Source::Raw { len: bytes.len() })
    }
}

/// Where the bytes come from, and so how many there can be.
#[derive(Clone, Copy)]
enum Source {
    /// Uncompressed: exactly `len` bytes in all.
    Raw { len: usize },
    /// Gzip: `compressed` bytes of input.
    Gzip { compressed: usize },
}

impl Source {
    /// The most bytes the reader can possibly yield. Deflate cannot expand
    /// data by more than about 1032:1.
    fn most(self) -> usize {
        match self {
            Source::Raw { len } => len,
            Source::Gzip { compressed } => compressed.saturating_mul(MAX_DEFLATE_RATIO),
        }
    }
}

/// Reads header then data from `reader`, which yields the IDX bytes
/// (decompressed if need be). Reading goes through the same checks for
/// both cases; only the gzip errors are gzip-specific.
fn parse_stream<R: Read>(
    mut reader: R,
    expected_ndims: Option<u8>,
    source: Source,
) -> Result<IdxArray, IdxError> {
    // Magic: 00 00 08 ND.
    let mut magic = [0u8; 4];
    let got = read_up_to(&mut reader, &mut magic)?;
    if got == 0 {
        // A gzip stream that decompresses to nothing.
        return Err(IdxError::Empty);
    }
    // Judge the magic on the bytes there are: a 2-byte file that cannot be
    // an IDX file is "not an IDX file", not "truncated".
    if magic[0] != 0 || (got > 1 && magic[1] != 0) || (got > 2 && magic[2] != TYPE_U8) {
        return Err(IdxError::BadMagic {
            found: u32::from_be_bytes(magic),
        });
    }
    if got < 4 {
        return Err(IdxError::TruncatedHeader {
            ndims: None,
            needed: 4,
            found: got,
        });
    }
    let ndims = magic[3];
    if ndims != 1 && ndims != 3 {
        return Err(IdxError::BadMagic {
            found: u32::from_be_bytes(magic),
        });
    }
    if let Some(expected) = expected_ndims {
        if expected != ndims {
            return Err(IdxError::WrongDims {
                expected,
                found: ndims,
            });
        }
    }

    // Sizes: ND big-endian u32.
    let header_len = 4 + 4 * usize::from(ndims);
    let mut raw_dims = [0u8; 12];
    let raw_dims = &mut raw_dims[..4 * usize::from(ndims)];
    let got = read_up_to(&mut reader, raw_dims)?;
    if got < raw_dims.len() {
        return Err(IdxError::TruncatedHeader {
            ndims: Some(ndims),
            needed: header_len,
            found: 4 + got,
        });
    }
    let dims32: Vec<u32> = raw_dims
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    if dims32.contains(&0) {
        return Err(IdxError::ZeroSize { dims: dims32 });
    }
    let expected = dims32
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(usize::try_from(d).ok()?))
        .filter(|&n| n <= MAX_DATA_BYTES)
        .ok_or_else(|| IdxError::TooLarge {
            dims: dims32.clone(),
        })?;
    let dims: Vec<usize> = dims32.iter().map(|&d| d as usize).collect();

    // Raw input: its length is known, so the data's size is checked before
    // anything is allocated for it.
    if let Source::Raw { len } = source {
        let found = len - header_len;
        if found < expected {
            return Err(IdxError::TruncatedData {
                dims,
                expected,
                found,
            });
        }
        if found > expected {
            return Err(IdxError::TrailingBytes {
                dims,
                expected,
                found,
                at_least: false,
            });
        }
    }
    // Data: exactly what was promised, into a buffer reserved for the
    // smaller of the promise and what the input could possibly yield; past
    // it, the buffer grows only with bytes the stream really produces.
    let mut data = Vec::with_capacity(expected.min(source.most()));
    match reader.by_ref().take(expected as u64).read_to_end(&mut data) {
        Ok(_) => {}
        Err(e) => return Err(gzip_error(e)),
    }
    if data.len() < expected {
        return Err(IdxError::TruncatedData {
            dims,
            expected,
            found: data.len(),
        });
    }
    // Gzip: one byte more would be trailing data (decompressing the rest
    // would undo the bomb protection, so only "at least" is known).
    let mut more = [0u8; 1];
    if read_up_to(&mut reader, &mut more)? > 0 {
        return Err(IdxError::TrailingBytes {
            dims,
            expected,
            found: expected + 1,
            at_least: true,
        });
    }
    Ok(IdxArray { dims, data })
}

/// Reads until `buf` is full or the stream ends; returns how many bytes
/// were read. Unlike `read_exact`, it tells a short file (a header problem)
/// apart from a broken gzip stream (an I/O error).
fn read_up_to<R: Read>(reader: &mut R, buf: &mut [u8]) -> Result<usize, IdxError> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(gzip_error(e)),
        }
    }
    Ok(filled)
}

/// Maps a read error to a message. Reading from a byte slice cannot fail,
/// so every error here comes from the gzip decoder.
fn gzip_error(e: io::Error) -> IdxError {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        IdxError::TruncatedGzip
    } else {
        IdxError::CorruptGzip(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_dims_in_words() {
        assert_eq!(describe_dims(&[60000, 28, 28]), "60000 images of 28x28");
        assert_eq!(describe_dims(&[10]), "10 labels");
        assert_eq!(describe_dims(&[2, 3]), "2x3");
    }

    #[test]
    fn reads_raw_labels() {
        let bytes = [0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9];
        let a = parse_idx(&bytes).expect("valid");
        assert_eq!(a.dims, vec![3]);
        assert_eq!(a.data, vec![7, 8, 9]);
    }
}
