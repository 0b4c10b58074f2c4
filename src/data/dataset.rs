//! Datasets of labelled grey images, held as bytes, and finding and loading
//! MNIST's four files.
//!
//! Images stay `u8` until a batch is built: MNIST's 60,000 training images
//! are 47 MB as bytes and would be 188 MB as `f32`, and a batch is converted
//! in microseconds. Batches enter the network as `value / 255` in `[0, 1]`,
//! shape `[N, 1, rows, cols]` (see CONTRACTS.md).

use std::path::{Path, PathBuf};

use crate::data::idx::{self, IdxArray};
use crate::engine::Tensor;
use crate::io::file::io_problem;

/// The side of every picture the networks read (MNIST's).
pub const IMAGE_SIDE: usize = 28;

pub use crate::io::file::{read_file as read_file_capped, FileError, Problem, MAX_FILE_BYTES};

/// Labelled images, row-major, one image after another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    /// `len() * rows * cols` bytes: image `i` is
    /// `images[i * rows * cols .. (i + 1) * rows * cols]`.
    pub images: Vec<u8>,
    /// One label per image, each `0..=9`.
    pub labels: Vec<u8>,
    pub rows: usize,
    pub cols: usize,
}

impl Dataset {
    /// The number of images (and labels).
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Pixels per image, `rows * cols`.
    pub fn pixels(&self) -> usize {
        self.rows * self.cols
    }

    /// Image `i`'s bytes, row-major.
    ///
    /// # Panics
    /// If `i >= self.len()`: indices come from the program's own samplers,
    /// so a bad one is a bug, not bad input.
    pub fn image(&self, i: usize) -> &[u8] {
        let p = self.pixels();
        &self.images[i * p..(i + 1) * p]
    }

    /// Image `i`'s label, `0..=9`.
    ///
    /// # Panics
    /// If `i >= self.len()`.
    pub fn label(&self, i: usize) -> u8 {
        self.labels[i]
    }

    /// The images at `indices` as the network's input: `[N, 1, rows, cols]`,
    /// `value / 255`.
    ///
    /// # Panics
    /// If an index is out of range (see [`Dataset::image`]).
    pub fn batch_input(&self, indices: &[usize]) -> Tensor {
        let p = self.pixels();
        let mut values = Vec::with_capacity(indices.len() * p);
        for &i in indices {
            values.extend(self.image(i).iter().map(|&b| f32::from(b) / 255.0));
        }
        Tensor::from_shape_vec(
            ndarray::IxDyn(&[indices.len(), 1, self.rows, self.cols]),
            values,
        )
        .expect("the buffer holds N * rows * cols values by construction")
    }

    /// The labels at `indices`, in the same order as [`Dataset::batch_input`].
    ///
    /// # Panics
    /// If an index is out of range.
    pub fn batch_labels(&self, indices: &[usize]) -> Vec<u8> {
        indices.iter().map(|&i| self.labels[i]).collect()
    }

    /// Builds a dataset from parsed IDX arrays, checking that they belong
    /// together: images are `[N, rows, cols]` with `rows, cols >= 1`, labels
    /// are `[N]` with the same `N`, and every label is a digit.
    ///
    /// Errors name the arrays "images" and "labels"; [`load_pair`] names the
    /// real files instead.
    pub fn from_idx(images: IdxArray, labels: IdxArray) -> Result<Dataset, FileError> {
        from_idx_named(images, labels, Path::new("images"), Path::new("labels"))
    }

    /// Keeps only the first `n` images (`--train-limit`); no-op if the
    /// dataset is already that small. The first `n` rather than a random
    /// `n` so that a limit gives the same subset in every run and program.
    pub fn limit(&mut self, n: usize) {
        if n < self.len() {
            self.labels.truncate(n);
            self.images.truncate(n * self.pixels());
        }
    }

    /// [`Dataset::limit`] by value, for chaining.
    pub fn limited(mut self, n: usize) -> Dataset {
        self.limit(n);
        self
    }

    /// How many images carry each digit: `counts[d]` for `d` in `0..10`.
    pub fn label_counts(&self) -> [usize; 10] {
        let mut counts = [0; 10];
        for &l in &self.labels {
            counts[usize::from(l)] += 1;
        }
        counts
    }
}

fn from_idx_named(
    images: IdxArray,
    labels: IdxArray,
    images_file: &Path,
    labels_file: &Path,
) -> Result<Dataset, FileError> {
    let (n, rows, cols) = match images.dims[..] {
        [n, rows, cols] => (n, rows, cols),
        _ => {
            return Err(FileError::new(
                images_file,
                Problem::ImagesNotThreeDims {
                    found: images.dims.len(),
                },
            ))
        }
    };
    let label_count = match labels.dims[..] {
        [count] => count,
        _ => {
            return Err(FileError::new(
                labels_file,
                Problem::LabelsNotOneDim {
                    found: labels.dims.len(),
                },
            ))
        }
    };
    // The networks read 28x28 pictures: a dataset of any other size would
    // load, then fail in the middle of the first step.
    if (rows, cols) != (IMAGE_SIDE, IMAGE_SIDE) {
        return Err(FileError::new(
            images_file,
            Problem::NotMnistSize { rows, cols },
        ));
    }
    // `IdxArray`'s fields are public, so a caller may have built one by
    // hand: check the data length instead of assuming the parser did.
    let pixels = rows.checked_mul(cols);
    if pixels.and_then(|p| p.checked_mul(n)) != Some(images.data.len()) {
        return Err(FileError::new(
            images_file,
            Problem::ImageBytes {
                count: n,
                rows,
                cols,
                present: images.data.len(),
            },
        ));
    }
    if labels.data.len() != label_count {
        return Err(FileError::new(
            labels_file,
            Problem::LabelBytes {
                count: label_count,
                present: labels.data.len(),
            },
        ));
    }
    if label_count != n {
        return Err(FileError::new(
            labels_file,
            Problem::CountsDiffer {
                labels: label_count,
                images: n,
                images_file: images_file.to_path_buf(),
            },
        ));
    }
    if let Some((i, &bad)) = labels.data.iter().enumerate().find(|(_, &l)| l > 9) {
        return Err(FileError::new(
            labels_file,
            Problem::BadLabel {
                index: i,
                value: bad,
            },
        ));
    }
    Ok(Dataset {
        images: images.data,
        labels: labels.data,
        rows,
        cols,
    })
}

/// Reads and parses one IDX file, requiring `ndims` dimensions.
fn read_idx(path: &Path, ndims: u8) -> Result<IdxArray, FileError> {
    use std::io::{BufRead, Read};
    let idx_error = |e| FileError::new(path, Problem::Idx(e));
    let (file, len) = crate::io::file::open_bounded(path, MAX_FILE_BYTES)?;
    let mut reader = std::io::BufReader::new(file.take(MAX_FILE_BYTES));
    let head = reader
        .fill_buf()
        .map_err(|e| FileError::new(path, crate::io::file::io_problem(&e)))?;
    if idx::is_gzip(head) {
        // Compressed: the size is known only by decompressing, which is
        // bounded by the promise and the ratio deflate can reach.
        let bytes = read_file_capped(path)?;
        idx::parse_idx_expecting(&bytes, ndims).map_err(idx_error)
    } else {
        // Raw: the file's length against the header's promise, before
        // the data is read.
        idx::parse_raw_idx(reader, len as usize, ndims).map_err(idx_error)
    }
}

/// Loads an images file (idx3) and its labels file (idx1), each raw or
/// gzipped, and checks that they belong together.
pub fn load_pair(images: &Path, labels: &Path) -> Result<Dataset, FileError> {
    let image_array = read_idx(images, 3)?;
    let label_array = read_idx(labels, 1)?;
    from_idx_named(image_array, label_array, images, labels)
}

/// MNIST's two halves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mnist {
    pub train: Dataset,
    pub test: Dataset,
}

/// The four roles a file can play, with MNIST's name for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MnistRole {
    TrainImages,
    TrainLabels,
    TestImages,
    TestLabels,
}

impl MnistRole {
    pub const ALL: [MnistRole; 4] = [
        MnistRole::TrainImages,
        MnistRole::TrainLabels,
        MnistRole::TestImages,
        MnistRole::TestLabels,
    ];

    /// The canonical file name, as MNIST distributes it (without `.gz`).
    pub fn file_name(self) -> &'static str {
        match self {
            MnistRole::TrainImages => "train-images-idx3-ubyte",
            MnistRole::TrainLabels => "train-labels-idx1-ubyte",
            MnistRole::TestImages => "t10k-images-idx3-ubyte",
            MnistRole::TestLabels => "t10k-labels-idx1-ubyte",
        }
    }

    /// The same name with a dot for the first dash after the role
    /// (`train-images.idx3-ubyte`), as some mirrors spell it.
    fn dotted_name(self) -> &'static str {
        match self {
            MnistRole::TrainImages => "train-images.idx3-ubyte",
            MnistRole::TrainLabels => "train-labels.idx1-ubyte",
            MnistRole::TestImages => "t10k-images.idx3-ubyte",
            MnistRole::TestLabels => "t10k-labels.idx1-ubyte",
        }
    }

    /// The names a file in this role may have, in order of preference:
    /// raw before gzip (a folder where both exist was usually unpacked with
    /// `gunzip -k`, and the raw file loads faster), canonical before dotted.
    pub fn candidate_names(self) -> [String; 4] {
        let (plain, dotted) = (self.file_name(), self.dotted_name());
        [
            plain.to_string(),
            format!("{plain}.gz"),
            dotted.to_string(),
            format!("{dotted}.gz"),
        ]
    }

    /// The role of a file, from its name (case-insensitive, `.gz` optional).
    pub fn from_file_name(name: &str) -> Option<MnistRole> {
        let lower = name.to_ascii_lowercase();
        let stem = lower.strip_suffix(".gz").unwrap_or(&lower);
        MnistRole::ALL
            .into_iter()
            .find(|r| stem == r.file_name() || stem == r.dotted_name())
    }
}

/// MNIST files found among picked or dropped paths. A role that was not
/// found is `None`; [`find_in_files`] guarantees that images and labels
/// come in pairs (both or neither), and that at least one pair is present.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MnistFiles {
    pub train_images: Option<PathBuf>,
    pub train_labels: Option<PathBuf>,
    pub test_images: Option<PathBuf>,
    pub test_labels: Option<PathBuf>,
}

impl MnistFiles {
    fn slot(&mut self, role: MnistRole) -> &mut Option<PathBuf> {
        match role {
            MnistRole::TrainImages => &mut self.train_images,
            MnistRole::TrainLabels => &mut self.train_labels,
            MnistRole::TestImages => &mut self.test_images,
            MnistRole::TestLabels => &mut self.test_labels,
        }
    }

    /// The file found for `role`, if any.
    pub fn get(&self, role: MnistRole) -> Option<&Path> {
        match role {
            MnistRole::TrainImages => self.train_images.as_deref(),
            MnistRole::TrainLabels => self.train_labels.as_deref(),
            MnistRole::TestImages => self.test_images.as_deref(),
            MnistRole::TestLabels => self.test_labels.as_deref(),
        }
    }

    /// The training images and labels, if both were found.
    pub fn train_pair(&self) -> Option<(&Path, &Path)> {
        Some((self.train_images.as_deref()?, self.train_labels.as_deref()?))
    }

    /// The test images and labels, if both were found.
    pub fn test_pair(&self) -> Option<(&Path, &Path)> {
        Some((self.test_images.as_deref()?, self.test_labels.as_deref()?))
    }

    /// Loads the training pair, if there is one.
    pub fn load_train(&self) -> Option<Result<Dataset, FileError>> {
        self.train_pair().map(|(i, l)| load_pair(i, l))
    }

    /// Loads the test pair, if there is one.
    pub fn load_test(&self) -> Option<Result<Dataset, FileError>> {
        self.test_pair().map(|(i, l)| load_pair(i, l))
    }

    /// Loads both pairs: an error names the first missing file.
    pub fn load_all(&self) -> Result<Mnist, FileError> {
        let train = self
            .load_train()
            .ok_or_else(|| self.missing(MnistRole::TrainImages))??;
        let test = self
            .load_test()
            .ok_or_else(|| self.missing(MnistRole::TestImages))??;
        Ok(Mnist { train, test })
    }

    /// An error for the first role missing among `role`'s pair.
    fn missing(&self, role: MnistRole) -> FileError {
        let partner = match role {
            MnistRole::TrainImages | MnistRole::TrainLabels => MnistRole::TrainLabels,
            MnistRole::TestImages | MnistRole::TestLabels => MnistRole::TestLabels,
        };
        let first = if self.get(role).is_none() {
            role
        } else {
            partner
        };
        FileError::new(first.file_name(), missing(first))
    }
}

fn missing(role: MnistRole) -> Problem {
    Problem::Missing {
        also: looked_for(role),
    }
}

fn looked_for(role: MnistRole) -> String {
    let [_, gz, dotted, dotted_gz] = role.candidate_names();
    format!("{gz}, {dotted}, {dotted_gz}")
}

/// Sorts picked or dropped paths into MNIST's four roles by file name.
///
/// A folder among the paths stands for the files directly inside it (not
/// recursively), so dropping the folder works as well as dropping the
/// files. Files with other names are ignored, so a whole download folder
/// with a README may be dropped. When two files claim the same role (say
/// `train-images-idx3-ubyte` and its `.gz`), the preferred name wins (see
/// [`MnistRole::candidate_names`]), then the first given.
///
/// Errors: no MNIST file at all, or half a pair (images without labels or
/// the reverse); the error names the file that is missing. A train pair
/// alone or a test pair alone is fine: the caller decides what it needs.
/// Nothing is read beyond directory listings: contents are checked when
/// loading.
pub fn find_in_files(paths: &[PathBuf]) -> Result<MnistFiles, FileError> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    for path in paths {
        if path.is_dir() {
            let entries =
                std::fs::read_dir(path).map_err(|e| FileError::new(path, io_problem(&e)))?;
            let mut inside: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            // Directory order is arbitrary; sorting makes the choice
            // between duplicates the same on every machine.
            inside.sort();
            candidates.extend(inside);
        } else {
            candidates.push(path.clone());
        }
    }

    let mut found = MnistFiles::default();
    // Rank of the name that filled each slot (lower is preferred).
    let mut rank = [usize::MAX; 4];
    for path in &candidates {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(role) = MnistRole::from_file_name(name) else {
            continue;
        };
        let lower = name.to_ascii_lowercase();
        let r = role
            .candidate_names()
            .iter()
            .position(|c| *c == lower)
            .unwrap_or(usize::MAX);
        let k = role as usize;
        if found.get(role).is_none() || r < rank[k] {
            *found.slot(role) = Some(path.clone());
            rank[k] = r;
        }
    }

    let where_ = match paths {
        [one] => one.clone(),
        _ => paths
            .first()
            .and_then(|p| p.parent())
            .map(Path::to_path_buf)
            .unwrap_or_default(),
    };
    if MnistRole::ALL.iter().all(|&r| found.get(r).is_none()) {
        let folder = paths.len() == 1 && paths[0].is_dir();
        return Err(FileError::new(where_, Problem::NoMnistFiles { folder }));
    }
    for (images, labels) in [
        (MnistRole::TrainImages, MnistRole::TrainLabels),
        (MnistRole::TestImages, MnistRole::TestLabels),
    ] {
        let (has_images, has_labels) = (found.get(images), found.get(labels));
        let (have, lacking) = match (has_images, has_labels) {
            (Some(have), None) => (have, labels),
            (None, Some(have)) => (have, images),
            _ => continue,
        };
        let expected = have.parent().map_or_else(
            || PathBuf::from(lacking.file_name()),
            |d| d.join(lacking.file_name()),
        );
        return Err(FileError::new(
            expected,
            Problem::MissingPartner {
                have: have.to_path_buf(),
                also: looked_for(lacking),
            },
        ));
    }
    Ok(found)
}

/// Finds MNIST's four files in `dir` and loads them. Each file may be raw
/// or `.gz`, with MNIST's name or its dotted variant; a missing one is an
/// error naming the path where it was expected.
pub fn load_dir(dir: &Path) -> Result<Mnist, FileError> {
    files_in_dir(dir)?.load_all()
}

/// The paths of MNIST's four files in `dir`, all required.
pub fn files_in_dir(dir: &Path) -> Result<MnistFiles, FileError> {
    if !dir.is_dir() {
        let problem = if dir.exists() {
            Problem::NotAFolder
        } else {
            Problem::NoSuchFolder
        };
        return Err(FileError::new(dir, problem));
    }
    let mut found = MnistFiles::default();
    for role in MnistRole::ALL {
        let path = role
            .candidate_names()
            .iter()
            .map(|name| dir.join(name))
            // Not only regular files: a pipe or device under MNIST's name is
            // found here and refused by the reader with what it is.
            .find(|p| p.exists() && !p.is_dir())
            .ok_or_else(|| FileError::new(dir.join(role.file_name()), missing(role)))?;
        *found.slot(role) = Some(path);
    }
    Ok(found)
}

/// The MNIST that ships with the program: the first `data/mnist` folder
/// found in the current directory, next to the executable, or two levels
/// above it (the crate root, for `target/release/backprop-viz`), and
/// otherwise the crate's own `data/mnist` from build time. Returns the
/// fallback even if it does not exist, so the error names a real place.
/// The MNIST that ships inside the program (11 MB of gzip): what
/// `cargo install` or a package runs on wherever the binary ends up. (The
/// browser's build fetches it from the site instead: see `web.rs`.)
#[cfg(not(target_arch = "wasm32"))]
const EMBEDDED: [(&str, &[u8]); 4] = [
    (
        "train-images-idx3-ubyte.gz",
        include_bytes!("../../data/mnist/train-images-idx3-ubyte.gz"),
    ),
    (
        "train-labels-idx1-ubyte.gz",
        include_bytes!("../../data/mnist/train-labels-idx1-ubyte.gz"),
    ),
    (
        "t10k-images-idx3-ubyte.gz",
        include_bytes!("../../data/mnist/t10k-images-idx3-ubyte.gz"),
    ),
    (
        "t10k-labels-idx1-ubyte.gz",
        include_bytes!("../../data/mnist/t10k-labels-idx1-ubyte.gz"),
    ),
];

/// One half of MNIST from its two files held in memory (raw or gzipped),
/// with the same checks as files on disk.
pub fn pair_from_bytes(
    images: (&Path, &[u8]),
    labels: (&Path, &[u8]),
) -> Result<Dataset, FileError> {
    let part = |(name, bytes): (&Path, &[u8]), ndims: u8| {
        idx::parse_idx_expecting(bytes, ndims).map_err(|e| FileError::new(name, Problem::Idx(e)))
    };
    from_idx_named(part(images, 3)?, part(labels, 1)?, images.0, labels.0)
}

/// The built-in MNIST, parsed with the same checks as any file.
#[cfg(not(target_arch = "wasm32"))]
pub fn embedded_mnist() -> Result<Mnist, FileError> {
    let half = |images: usize, labels: usize| {
        let file = |k: usize| (Path::new(EMBEDDED[k].0), EMBEDDED[k].1);
        pair_from_bytes(file(images), file(labels))
    };
    Ok(Mnist {
        train: half(0, 1)?,
        test: half(2, 3)?,
    })
}

/// The shipped MNIST: the `data/mnist` folder found next to the program
/// (or the working folder), else the copy built into it.
#[cfg(not(target_arch = "wasm32"))]
pub fn load_default() -> Result<Mnist, FileError> {
    let dir = default_data_dir();
    if dir.is_dir() {
        load_dir(&dir)
    } else {
        embedded_mnist()
    }
}

pub fn default_data_dir() -> PathBuf {
    let mut candidates = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        candidates.push(cwd.join("data").join("mnist"));
    }
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        candidates.push(exe_dir.join("data").join("mnist"));
        if let Some(up2) = exe_dir.parent().and_then(Path::parent) {
            candidates.push(up2.join("data").join("mnist"));
        }
    }
    candidates
        .into_iter()
        .find(|d| d.is_dir())
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist")))
}

#[cfg(test)]
mod embedded_tests {
    use super::*;

    /// The copy built into the program is the shipped folder's MNIST.
    #[test]
    fn the_built_in_mnist_is_the_shipped_one() {
        let built_in = embedded_mnist().unwrap();
        let folder = load_dir(&PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/mnist"
        )))
        .unwrap();
        assert_eq!(built_in.train.len(), 60_000);
        assert_eq!(built_in.test.len(), 10_000);
        assert_eq!(built_in, folder);
    }
}
