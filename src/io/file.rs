//! Files as untrusted input and precious output: the one reader every
//! loader uses (regular files only, bounded, never blocking) and the one
//! writer every save uses (atomic: a failed or interrupted save leaves the
//! old file byte for byte), with the typed error both report.
//!
//! Errors are typed, never sentences built by the layer that found them:
//! `FileError`'s `Display` words them through the translation table in the
//! language of the thread that shows them, so the app reads them in Russian
//! while the command line (an English thread) prints the same text as ever.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::data::idx::IdxError;
use crate::engine::EngineError;
use crate::trf;

/// Model, session, trace and dataset files bigger than this are refused
/// before reading. MNIST's largest file is 47 MB uncompressed; the largest
/// model the limits allow is 400 MB; a gigabyte is a wrong file.
pub const MAX_FILE_BYTES: u64 = 1 << 30;

/// JSON layer lists (`--preset FILE.json`) bigger than this are refused: the
/// largest list the limits allow is a few kilobytes.
pub const MAX_PRESET_BYTES: u64 = 1 << 20;

/// A problem with one file, said in one line: `"{file}: {problem}"`. This is
/// what the command line prints after `error: `, and what the app shows.
#[derive(Debug, Clone, PartialEq)]
pub struct FileError {
    /// The file (or folder) at fault, as the user named it.
    pub file: PathBuf,
    pub problem: Problem,
}

impl FileError {
    pub fn new(file: impl Into<PathBuf>, problem: Problem) -> FileError {
        FileError {
            file: file.into(),
            problem,
        }
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file.display(), self.problem)
    }
}

impl std::error::Error for FileError {}

/// What is not a regular file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Folder,
    Fifo,
    Device,
    Socket,
    Other,
}

/// What is wrong with a file that is not safetensors (the crate's own
/// words are English and technical; these two are what a person can act on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Damage {
    /// No safetensors header at the start: another kind of file.
    Header,
    /// A header, but the tensors it lists do not fit the bytes after it.
    Tensors,
}

impl From<&safetensors::SafeTensorError> for Damage {
    fn from(e: &safetensors::SafeTensorError) -> Damage {
        use safetensors::SafeTensorError as E;
        match e {
            E::MetadataIncompleteBuffer
            | E::TensorInvalidInfo
            | E::InvalidOffset(_)
            | E::InvalidTensorView(..)
            | E::ValidationOverflow
            | E::MisalignedSlice
            | E::TensorNotFound(_) => Damage::Tensors,
            _ => Damage::Header,
        }
    }
}

/// What is wrong with a file, typed; worded by `Display` in the thread's
/// language.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    // Reading and writing.
    NotFound,
    PermissionDenied,
    NotAFile(FileKind),
    TooBig {
        size: u64,
        limit: u64,
    },
    Io {
        cause: Cause,
    },
    CannotWrite {
        cause: Cause,
    },
    NoFolder {
        folder: PathBuf,
    },
    IsInput,
    /// A folder to be replaced whole holds a file the command reads or
    /// writes.
    HoldsInput {
        path: PathBuf,
    },
    /// A folder to be replaced by an exercise holds something an exercise
    /// does not.
    NotAnExercise {
        entry: String,
    },
    NotAFolder,
    NoSuchFolder,
    NoSuchPreset,
    // Datasets.
    Idx(IdxError),
    ImagesNotThreeDims {
        found: usize,
    },
    LabelsNotOneDim {
        found: usize,
    },
    NotMnistSize {
        rows: usize,
        cols: usize,
    },
    ImageBytes {
        count: usize,
        rows: usize,
        cols: usize,
        present: usize,
    },
    LabelBytes {
        count: usize,
        present: usize,
    },
    CountsDiffer {
        labels: usize,
        images: usize,
        images_file: PathBuf,
    },
    BadLabel {
        index: usize,
        value: u8,
    },
    Missing {
        also: String,
    },
    MissingPartner {
        have: PathBuf,
        also: String,
    },
    MissingHalf {
        other: String,
    },
    NoMnistFiles {
        folder: bool,
    },
    // Pictures.
    NotAPicture,
    CannotDecode {
        detail: String,
    },
    TooManyPixels {
        width: u32,
        height: u32,
        limit: u64,
    },
    // Tensor files (models, traces, sessions).
    NotSafetensors(Damage),
    WrongFormat {
        found: String,
        expected: String,
    },
    WrongVersion {
        found: String,
        expected: String,
    },
    NoMetadata {
        key: String,
    },
    MetadataTooLong {
        key: String,
        limit: u64,
    },
    Network(EngineError),
    MissingTensor {
        name: String,
    },
    WrongDtype {
        name: String,
        found: String,
        expected: String,
    },
    WrongShape {
        name: String,
        found: Vec<usize>,
        expected: String,
    },
    NotFinite {
        name: String,
    },
    Negative {
        name: String,
    },
    LabelOutOfRange,
    TooManyRows {
        name: String,
        rows: usize,
        limit: usize,
    },
    BadPlot {
        name: String,
    },
    // Sessions.
    BadSettings {
        detail: String,
    },
    BadLearningRate {
        lr: f32,
    },
    OptimizerIncomplete {
        optimizer: String,
    },
    ImpossiblePosition {
        field: String,
        value: String,
    },
    BadPreset,
    // Tensors handed in to `check`.
    BadHandIn {
        detail: String,
    },
}

impl From<EngineError> for Problem {
    fn from(e: EngineError) -> Problem {
        Problem::Network(e)
    }
}

impl From<IdxError> for Problem {
    fn from(e: IdxError) -> Problem {
        Problem::Idx(e)
    }
}

/// The longest name (of a tensor, a metadata key, a format) an error
/// message quotes whole: a file can hold a name of any length, and an
/// error is one readable line.
pub const MAX_QUOTED: usize = 120;

/// `text`, or its start and end around an ellipsis when it is longer than
/// [`MAX_QUOTED`] characters.
pub fn short(text: &str) -> String {
    let n = text.chars().count();
    if n <= MAX_QUOTED {
        return text.to_string();
    }
    let head: String = text.chars().take(MAX_QUOTED * 2 / 3).collect();
    let tail: String = text.chars().skip(n - MAX_QUOTED / 3).collect();
    format!("{head}…{tail}")
}

fn dims(d: &[usize]) -> String {
    format!(
        "[{}]",
        d.iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn mib(bytes: u64) -> String {
    if bytes >= 1 << 30 {
        trf!(
            "{size} GB",
            size = format!("{:.1}", bytes as f64 / f64::from(1u32 << 30))
        )
    } else {
        trf!(
            "{size} MB",
            size = format!("{:.1}", bytes as f64 / f64::from(1u32 << 20))
        )
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Problem::NotFound => trf!("no such file"),
            Problem::PermissionDenied => trf!("permission denied"),
            Problem::NotAFile(kind) => match kind {
                FileKind::Folder => trf!("is a folder, expected a file"),
                FileKind::Fifo => trf!("is a pipe (FIFO), not a file: only regular files are read"),
                FileKind::Device => trf!("is a device, not a file: only regular files are read"),
                FileKind::Socket => trf!("is a socket, not a file: only regular files are read"),
                FileKind::Other => trf!("is not a regular file: only regular files are read"),
            },
            Problem::TooBig { size, limit } => trf!(
                "file is {size} or more; files over {limit} are refused",
                size = mib(*size),
                limit = mib(*limit)
            ),
            Problem::Io { cause } => trf!("cannot read: {cause}", cause = cause),
            Problem::CannotWrite { cause } => trf!(
                "cannot write: {cause} (the file that was there is unchanged)",
                cause = cause
            ),
            Problem::NoFolder { folder } => trf!(
                "cannot write there: the folder {folder} does not exist",
                folder = folder.display()
            ),
            Problem::IsInput => trf!(
                "is also read by this command: writing there would destroy it; choose another name"
            ),
            Problem::HoldsInput { path } => trf!(
                "holds {path}, which this command reads or writes: the exercise replaces the folder whole; choose another folder",
                path = path.display()
            ),
            Problem::NotAnExercise { entry } => trf!(
                "is a folder that holds {entry}, which is not part of an exercise: an exercise replaces its folder whole, so it is written only into a new, empty or earlier exercise's folder",
                entry = short(entry)
            ),
            Problem::NotAFolder => trf!("is not a folder"),
            Problem::NoSuchFolder => trf!("no such folder"),
            Problem::NoSuchPreset => trf!("no such preset (seed, lenet, strided) or file"),
            Problem::Idx(e) => e.to_string(),
            Problem::ImagesNotThreeDims { found } => trf!(
                "expected images with 3 dimensions [count, rows, cols], found {found} dimension(s)",
                found = found
            ),
            Problem::LabelsNotOneDim { found } => trf!(
                "expected labels with 1 dimension [count], found {found} dimension(s)",
                found = found
            ),
            Problem::NotMnistSize { rows, cols } => trf!(
                "images are {rows}x{cols} pixels; the networks here read MNIST's 28x28",
                rows = rows,
                cols = cols
            ),
            Problem::ImageBytes {
                count,
                rows,
                cols,
                present,
            } => trf!(
                "{count} images of {rows}x{cols} do not match the {present} bytes present",
                count = count,
                rows = rows,
                cols = cols,
                present = present
            ),
            Problem::LabelBytes { count, present } => trf!(
                "{count} labels need {count} bytes but {present} are present",
                count = count,
                present = present
            ),
            Problem::CountsDiffer {
                labels,
                images,
                images_file,
            } => trf!(
                "holds {labels} labels but {file} holds {images} images: the two files do not belong together",
                labels = labels,
                file = images_file.display(),
                images = images
            ),
            Problem::BadLabel { index, value } => trf!(
                "label #{index} is {value}: labels must be digits 0 to 9",
                index = index,
                value = value
            ),
            Problem::Missing { also } => trf!("missing (also looked for {also})", also = also),
            Problem::MissingPartner { have, also } => trf!(
                "missing, needed with {have} (also looked for {also})",
                have = have.display(),
                also = also
            ),
            Problem::MissingHalf { other } => trf!(
                "missing, and so is {file}: the app needs the training files and the test files together (each raw or .gz)",
                file = other
            ),
            Problem::NoMnistFiles { folder } => {
                let what = if *folder {
                    trf!("no MNIST files in this folder")
                } else {
                    trf!("not an MNIST file")
                };
                trf!(
                    "{what}: expected train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte or t10k-labels-idx1-ubyte (each raw or .gz)",
                    what = what
                )
            }
            Problem::NotAPicture => trf!("not a PNG or JPEG picture (unrecognised content)"),
            Problem::CannotDecode { detail } => {
                trf!("cannot decode the picture: {detail}", detail = detail)
            }
            Problem::TooManyPixels {
                width,
                height,
                limit,
            } => trf!(
                "the picture is {width}x{height} pixels; pictures over {limit} million pixels are refused",
                width = width,
                height = height,
                limit = limit / 1_000_000
            ),
            Problem::NotSafetensors(Damage::Header) => {
                trf!("not a safetensors file: it does not start with a safetensors header")
            }
            Problem::NotSafetensors(Damage::Tensors) => trf!(
                "not a safetensors file: its tensors do not match its header (cut short, extra bytes, or damaged)"
            ),
            Problem::WrongFormat { found, expected } => trf!(
                "metadata format is {found}, expected {expected}",
                found = short(found),
                expected = expected
            ),
            Problem::WrongVersion { found, expected } => trf!(
                "format version {found} is not supported (expected {expected})",
                found = short(found),
                expected = expected
            ),
            Problem::NoMetadata { key } => {
                trf!("metadata has no \"{key}\" entry", key = key)
            }
            Problem::MetadataTooLong { key, limit } => trf!(
                "metadata entry \"{key}\" is longer than the limit of {limit}",
                key = short(key),
                limit = mib(*limit)
            ),
            Problem::Network(e) => trf!("the network it describes: {error}", error = e),
            Problem::MissingTensor { name } => {
                trf!("tensor {name} is missing", name = name)
            }
            Problem::WrongDtype {
                name,
                found,
                expected,
            } => trf!(
                "tensor {name} is {found}, expected {expected}",
                name = short(name),
                found = short(found),
                expected = expected
            ),
            Problem::WrongShape {
                name,
                found,
                expected,
            } => trf!(
                "tensor {name} has shape {found}, expected {expected}",
                name = short(name),
                found = dims(found),
                expected = expected
            ),
            Problem::NotFinite { name } => trf!(
                "tensor {name} holds NaN or infinite values",
                name = short(name)
            ),
            Problem::Negative { name } => trf!(
                "tensor {name} holds negative values (it is a mean of squares)",
                name = short(name)
            ),
            Problem::LabelOutOfRange => trf!("a label is outside 0..=9"),
            Problem::TooManyRows { name, rows, limit } => trf!(
                "tensor {name} has {rows} rows, more than the limit of {limit}",
                name = short(name),
                rows = rows,
                limit = limit
            ),
            Problem::BadPlot { name } => trf!(
                "tensor {name} holds impossible values (negative or fractional counts, accuracies outside 0 to 1)",
                name = short(name)
            ),
            Problem::BadSettings { detail } => {
                trf!("the session's settings: {detail}", detail = detail)
            }
            Problem::BadLearningRate { lr } => trf!(
                "the session's learning rate {lr} is not a positive number",
                lr = lr
            ),
            Problem::OptimizerIncomplete { optimizer } => trf!(
                "the {optimizer} optimizer's state is incomplete",
                optimizer = optimizer
            ),
            Problem::ImpossiblePosition { field, value } => trf!(
                "the session's position in the data is impossible: {field} = {value}",
                field = field,
                value = value
            ),
            Problem::BadHandIn { detail } => detail.clone(),
            Problem::BadPreset => trf!(
                "the session's preset is not a name or a path (too long, or with control characters)"
            ),
        };
        f.write_str(&text)
    }
}

/// Why a read or a write failed: the common reasons in words a person
/// reads (and that translate), anything else in the system's own words.
#[derive(Debug, Clone, PartialEq)]
pub enum Cause {
    DiskFull,
    FileTooLarge,
    PermissionDenied,
    ReadOnly,
    Other(String),
}

impl From<&io::Error> for Cause {
    fn from(e: &io::Error) -> Cause {
        match e.kind() {
            io::ErrorKind::StorageFull => Cause::DiskFull,
            io::ErrorKind::FileTooLarge => Cause::FileTooLarge,
            io::ErrorKind::PermissionDenied => Cause::PermissionDenied,
            io::ErrorKind::ReadOnlyFilesystem => Cause::ReadOnly,
            _ => Cause::Other(e.to_string()),
        }
    }
}

impl From<String> for Cause {
    fn from(text: String) -> Cause {
        Cause::Other(text)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::DiskFull => f.write_str(crate::i18n::tr("the disk is full")),
            Cause::FileTooLarge => {
                f.write_str(crate::i18n::tr("the file would pass the file-size limit"))
            }
            Cause::PermissionDenied => f.write_str(crate::i18n::tr("permission denied")),
            Cause::ReadOnly => f.write_str(crate::i18n::tr("the disk is read-only")),
            Cause::Other(text) => f.write_str(text),
        }
    }
}

/// An `io::Error` as a problem, in words rather than "(os error 2)".
pub fn io_problem(e: &io::Error) -> Problem {
    match e.kind() {
        io::ErrorKind::NotFound => Problem::NotFound,
        io::ErrorKind::PermissionDenied => Problem::PermissionDenied,
        _ => Problem::Io {
            cause: Cause::from(e),
        },
    }
}

/// What a non-regular file is.
fn kind_of(file_type: std::fs::FileType) -> Option<FileKind> {
    if file_type.is_file() {
        return None;
    }
    if file_type.is_dir() {
        return Some(FileKind::Folder);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return Some(FileKind::Fifo);
        }
        if file_type.is_block_device() || file_type.is_char_device() {
            return Some(FileKind::Device);
        }
        if file_type.is_socket() {
            return Some(FileKind::Socket);
        }
    }
    Some(FileKind::Other)
}

/// Reads a whole regular file of at most `limit` bytes.
///
/// Folders, pipes (FIFOs), devices and sockets are refused from their
/// metadata, before opening: opening a FIFO blocks until someone writes to
/// it, and `/dev/zero` never ends. The file is then opened without blocking
/// and checked again (it may have been swapped since), and the read is
/// capped at `limit + 1` bytes whatever the size it claims.
pub fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, FileError> {
    let fail = |problem| FileError::new(path, problem);
    let (file, len) = open_bounded(path, limit)?;
    let mut bytes = Vec::with_capacity(len.min(limit) as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(io_problem(&e)))?;
    if bytes.len() as u64 > limit {
        return Err(fail(Problem::TooBig {
            size: bytes.len() as u64,
            limit,
        }));
    }
    Ok(bytes)
}

/// Opens a regular file of at most `limit` bytes for reading (a FIFO or a
/// device is refused before it is opened, and opening never blocks), with
/// its length then. A reader that streams it must still stop at `limit`.
pub fn open_bounded(path: &Path, limit: u64) -> Result<(std::fs::File, u64), FileError> {
    let fail = |problem| FileError::new(path, problem);
    let meta = std::fs::metadata(path).map_err(|e| fail(io_problem(&e)))?;
    if let Some(kind) = kind_of(meta.file_type()) {
        return Err(fail(Problem::NotAFile(kind)));
    }
    if meta.len() > limit {
        return Err(fail(Problem::TooBig {
            size: meta.len(),
            limit,
        }));
    }
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|e| fail(io_problem(&e)))?;
    let meta = file.metadata().map_err(|e| fail(io_problem(&e)))?;
    if let Some(kind) = kind_of(meta.file_type()) {
        return Err(fail(Problem::NotAFile(kind)));
    }
    if meta.len() > limit {
        return Err(fail(Problem::TooBig {
            size: meta.len(),
            limit,
        }));
    }
    Ok((file, meta.len()))
}

/// A file handed to the app: where it came from (a path on the desktop, the
/// file's name in the browser) and, when the browser gave them, its bytes.
#[derive(Debug, Clone)]
pub struct Input {
    pub path: PathBuf,
    pub bytes: Option<std::sync::Arc<[u8]>>,
}

impl Input {
    /// A file on disk, read when needed.
    pub fn path(path: impl Into<PathBuf>) -> Input {
        Input {
            path: path.into(),
            bytes: None,
        }
    }

    /// A file already in memory (picked or dropped in the browser).
    pub fn bytes(name: impl Into<PathBuf>, bytes: impl Into<std::sync::Arc<[u8]>>) -> Input {
        Input {
            path: name.into(),
            bytes: Some(bytes.into()),
        }
    }

    /// Its bytes, at most `limit` of them: read from disk now (bounded, see
    /// [`read_bounded`]), or those it came with.
    pub fn read(&self, limit: u64) -> Result<std::borrow::Cow<'_, [u8]>, FileError> {
        match &self.bytes {
            Some(bytes) if bytes.len() as u64 > limit => Err(FileError::new(
                &self.path,
                Problem::TooBig {
                    size: bytes.len() as u64,
                    limit,
                },
            )),
            Some(bytes) => Ok(std::borrow::Cow::Borrowed(bytes)),
            None => read_bounded(&self.path, limit).map(std::borrow::Cow::Owned),
        }
    }
}

impl Input {
    /// Its bytes as a stream, at most `limit` of them: the file opened now
    /// (bounded, see [`open_bounded`]), or those it came with. A reader
    /// that needs two passes opens it twice.
    pub fn stream(&self, limit: u64) -> Result<Box<dyn std::io::BufRead + '_>, FileError> {
        match &self.bytes {
            Some(bytes) if bytes.len() as u64 > limit => Err(FileError::new(
                &self.path,
                Problem::TooBig {
                    size: bytes.len() as u64,
                    limit,
                },
            )),
            Some(bytes) => Ok(Box::new(std::io::Cursor::new(&bytes[..]))),
            None => {
                let (file, _) = open_bounded(&self.path, limit)?;
                Ok(Box::new(std::io::BufReader::new(file.take(limit))))
            }
        }
    }
}

/// Reads a model, session, trace or dataset file (at most [`MAX_FILE_BYTES`]).
pub fn read_file(path: &Path) -> Result<Vec<u8>, FileError> {
    read_bounded(path, MAX_FILE_BYTES)
}

/// Where a save really goes: through a symbolic link to the file it names
/// (a link to a model stays a link), else the path itself.
fn target_of(path: &Path) -> PathBuf {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
        }
        _ => path.to_path_buf(),
    }
}

/// The folder a file is written into (`.` for a bare name).
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Checks, before any long work, that a save to `path` can happen: the
/// folder exists and takes a new file, and `path` is not a folder, a device
/// or a pipe. Nothing is left behind.
pub fn check_writable(path: &Path) -> Result<(), FileError> {
    let target = target_of(path);
    let fail = |problem| FileError::new(path, problem);
    if let Ok(meta) = std::fs::metadata(&target) {
        if let Some(kind) = kind_of(meta.file_type()) {
            return Err(fail(Problem::NotAFile(kind)));
        }
    }
    let folder = folder_of(&target);
    if !folder.is_dir() {
        return Err(fail(Problem::NoFolder {
            folder: folder.to_path_buf(),
        }));
    }
    let (probe, file) = create_temporary(&target).map_err(|e| {
        fail(Problem::CannotWrite {
            cause: Cause::from(&e),
        })
    })?;
    drop(file);
    let _ = std::fs::remove_file(probe);
    Ok(())
}

/// Refuses to write `output` when it is the same file as one of `inputs`
/// (`trace --model X --out X` would replace the model by a trace). A file
/// that does not exist yet is no input.
pub fn refuse_input<'a>(
    output: &Path,
    inputs: impl IntoIterator<Item = &'a Path>,
) -> Result<(), FileError> {
    let Ok(out) = std::fs::metadata(output) else {
        return Ok(());
    };
    for input in inputs {
        if let Ok(inp) = std::fs::metadata(input) {
            if same_file(&out, &inp, output, input) {
                return Err(FileError::new(output, Problem::IsInput));
            }
        }
    }
    Ok(())
}

#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata, _: &Path, _: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(_: &std::fs::Metadata, _: &std::fs::Metadata, a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// A new, empty temporary file beside `target` (same folder, so that the
/// final rename cannot cross file systems), named after it.
fn create_temporary(target: &Path) -> io::Result<(PathBuf, File)> {
    let mut file = None;
    let temp = new_temporary(target, |temp| {
        file = Some(OpenOptions::new().write(true).create_new(true).open(temp)?);
        Ok(())
    })?;
    Ok((temp, file.expect("made by new_temporary")))
}

/// Makes a new temporary beside `target` with `make` (a file or a folder),
/// named `.NAME.PID-N.partial`, trying the next `N` while the name is
/// taken. Leftovers of earlier saves into the folder that were killed
/// (their process is gone) are removed first.
fn new_temporary(
    target: &Path,
    mut make: impl FnMut(&Path) -> io::Result<()>,
) -> io::Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let folder = folder_of(target);
    remove_stale_partials(folder);
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let temp = folder.join(format!(".{name}.{}-{n}.partial", std::process::id()));
        match make(&temp) {
            Ok(()) => return Ok(temp),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// The process that made a temporary named `.NAME.PID-N.partial`.
fn partial_owner(file_name: &str) -> Option<u32> {
    let rest = file_name.strip_prefix('.')?.strip_suffix(".partial")?;
    let (_, pid_n) = rest.rsplit_once('.')?;
    let (pid, n) = pid_n.split_once('-')?;
    n.parse::<u64>().ok()?;
    pid.parse().ok()
}

/// Whether process `pid` still runs (so its temporaries may be in use).
fn alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        // Signal 0 only asks whether the process exists (EPERM: it does,
        // as another user's).
        // SAFETY: kill with signal 0 sends nothing and touches no memory.
        let r = unsafe { libc::kill(pid, 0) };
        r == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        // No cheap way to ask: every temporary is kept.
        true
    }
}

/// Removes the `.NAME.PID-N.partial` files and folders a killed save left
/// in `folder` (those whose process is gone); those of running saves stay.
/// Best effort: a temporary that cannot be removed is left.
pub fn remove_stale_partials(folder: &Path) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(partial_owner) else {
            continue;
        };
        if alive(pid) {
            continue;
        }
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => {
                let _ = std::fs::remove_dir_all(&path);
            }
            Ok(_) => {
                let _ = std::fs::remove_file(&path);
            }
            Err(_) => {}
        }
    }
}

/// Writes a folder atomically: `fill` writes every file into a new
/// temporary folder beside `dir`, which then takes `dir`'s place in one
/// step (an exchange where the system has one, else two renames). Until
/// then the old folder is untouched, so a failure or a kill leaves it as
/// it was, never a mix of two writes (a kill may leave the `.partial`
/// folder beside it, removed by the next save there).
pub fn write_folder_atomic<T>(
    dir: &Path,
    fill: impl FnOnce(&Path) -> Result<T, FileError>,
) -> Result<T, FileError> {
    let fail = |problem| FileError::new(dir, problem);
    let cannot = |e: io::Error| {
        fail(Problem::CannotWrite {
            cause: Cause::from(&e),
        })
    };
    let parent = folder_of(dir);
    if !parent.is_dir() {
        return Err(fail(Problem::NoFolder {
            folder: parent.to_path_buf(),
        }));
    }
    let temp = new_temporary(dir, |t| std::fs::create_dir(t)).map_err(cannot)?;
    let filled = fill(&temp);
    let placed = filled.and_then(|value| {
        sync_folder(&temp);
        replace_folder(&temp, dir).map_err(cannot)?;
        sync_folder(parent);
        Ok(value)
    });
    // The temporary now holds the old folder, or the failed write.
    let _ = std::fs::remove_dir_all(&temp);
    placed
}

/// Puts the folder `new` at `dir`; the old `dir`, if any, ends at `new`.
fn replace_folder(new: &Path, dir: &Path) -> io::Result<()> {
    if std::fs::symlink_metadata(dir).is_err() {
        return std::fs::rename(new, dir);
    }
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt;
        let (a, b) = (
            std::ffi::CString::new(new.as_os_str().as_bytes())?,
            std::ffi::CString::new(dir.as_os_str().as_bytes())?,
        );
        // SAFETY: two valid NUL-terminated paths; renameat2 only reads them.
        let r = unsafe {
            libc::syscall(
                libc::SYS_renameat2,
                libc::AT_FDCWD,
                a.as_ptr(),
                libc::AT_FDCWD,
                b.as_ptr(),
                libc::RENAME_EXCHANGE,
            )
        };
        if r == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        // Not every file system exchanges: fall back to two renames.
        if !matches!(e.raw_os_error(), Some(libc::EINVAL) | Some(libc::ENOSYS)) {
            return Err(e);
        }
    }
    // The old folder steps aside to a name beside the new one, then the new
    // one takes its place (a kill in between leaves both, each whole).
    let aside = new_temporary(dir, |t| match std::fs::symlink_metadata(t) {
        Ok(_) => Err(io::ErrorKind::AlreadyExists.into()),
        Err(_) => Ok(()),
    })?;
    std::fs::rename(dir, &aside)?;
    if let Err(e) = std::fs::rename(new, dir) {
        let _ = std::fs::rename(&aside, dir);
        return Err(e);
    }
    std::fs::rename(&aside, new)
}

/// Flushes a folder's entries to disk (best effort; not on every system).
fn sync_folder(folder: &Path) {
    #[cfg(unix)]
    if let Ok(dir) = File::open(folder) {
        let _ = dir.sync_all();
    }
    #[cfg(not(unix))]
    let _ = folder;
}

/// Writes a file atomically: `write` fills a temporary file in the same
/// folder, which is flushed to disk (fsync) and then renamed over `path`.
/// Until the rename the old file is untouched, so a full disk, a file-size
/// limit, an error in `write` or a kill leaves it byte for byte as it was
/// (a kill may leave the `.partial` temporary beside it). A file that was
/// there keeps its permissions.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), FileError> {
    let target = target_of(path);
    let fail = |problem| FileError::new(path, problem);
    let existing = std::fs::metadata(&target).ok();
    if let Some(kind) = existing.as_ref().and_then(|m| kind_of(m.file_type())) {
        return Err(fail(Problem::NotAFile(kind)));
    }
    let folder = folder_of(&target);
    if !folder.is_dir() {
        return Err(fail(Problem::NoFolder {
            folder: folder.to_path_buf(),
        }));
    }
    let cannot = |e: io::Error| {
        fail(Problem::CannotWrite {
            cause: Cause::from(&e),
        })
    };
    let (temp, file) = create_temporary(&target).map_err(cannot)?;
    let written = (|| {
        let mut out = BufWriter::with_capacity(1 << 20, file);
        write(&mut out)?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        if let Some(meta) = &existing {
            file.set_permissions(meta.permissions())?;
        }
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temp, &target)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(cannot(e));
    }
    // The rename itself reaches the disk with the folder's entry.
    sync_folder(folder);
    Ok(())
}

/// [`write_atomic`] for bytes already in memory.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    write_atomic(path, |out| out.write_all(bytes))
}
