//! The IDX parser and MNIST loading, fed valid and broken files built here,
//! plus one run over the real MNIST that ships in `data/mnist`.

use std::io::Write;
use std::path::{Path, PathBuf};

use backprop_viz::data::dataset::{
    default_data_dir, find_in_files, load_dir, load_pair, read_file_capped, Dataset, MnistRole,
    MAX_FILE_BYTES,
};
use backprop_viz::data::idx::{parse_idx, parse_idx_expecting, IdxArray, IdxError, MAX_DATA_BYTES};
use proptest::prelude::*;

/// An IDX file of unsigned bytes: magic `00 00 08 ND`, sizes, data.
fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0, 8, dims.len() as u8];
    for d in dims {
        b.extend_from_slice(&d.to_be_bytes());
    }
    b.extend_from_slice(data);
    b
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).expect("write to Vec");
    enc.finish().expect("finish gzip")
}

/// Three 28x28 images (pixel `i` of the file is `(i % 18) * 14`) with
/// labels 0, 5, 9.
fn tiny_images() -> Vec<u8> {
    idx(
        &[3, 28, 28],
        &(0..3 * 784)
            .map(|i| (i % 18) as u8 * 14)
            .collect::<Vec<u8>>(),
    )
}
fn tiny_labels() -> Vec<u8> {
    idx(&[3], &[0, 5, 9])
}

fn err(bytes: &[u8]) -> IdxError {
    match parse_idx(bytes) {
        Ok(a) => panic!("expected an error, parsed dims {:?}", a.dims),
        Err(e) => e,
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write temp file");
    p
}

// ---- valid files ----------------------------------------------------------

#[test]
fn raw_images_and_labels_parse() {
    let images = parse_idx(&tiny_images()).expect("images");
    assert_eq!(images.dims, vec![3, 28, 28]);
    assert_eq!(images.data.len(), 3 * 784);
    assert_eq!(images.data[17], 17 * 14);
    let labels = parse_idx(&tiny_labels()).expect("labels");
    assert_eq!(
        labels,
        IdxArray {
            dims: vec![3],
            data: vec![0, 5, 9]
        }
    );
}

#[test]
fn gzipped_parses_like_raw() {
    for raw in [tiny_images(), tiny_labels()] {
        assert_eq!(parse_idx(&gzip(&raw)), parse_idx(&raw));
    }
}

#[test]
fn concatenated_gzip_members_are_one_stream() {
    // gzip allows concatenated members; `cat a.gz b.gz` is valid gzip.
    let raw = tiny_images();
    let (a, b) = raw.split_at(7);
    let mut two = gzip(a);
    two.extend(gzip(b));
    assert_eq!(parse_idx(&two).expect("two members").dims, vec![3, 28, 28]);
}

#[test]
fn dataset_from_idx_and_batches() {
    let ds = Dataset::from_idx(
        parse_idx(&tiny_images()).unwrap(),
        parse_idx(&tiny_labels()).unwrap(),
    )
    .expect("dataset");
    assert_eq!((ds.len(), ds.rows, ds.cols, ds.pixels()), (3, 28, 28, 784));
    assert!(!ds.is_empty());
    // Image 1 starts at file pixel 784 = 43 * 18 + 10: (10 % 18) * 14.
    assert_eq!(&ds.image(1)[..3], &[140, 154, 168]);
    let x = ds.batch_input(&[2, 0]);
    assert_eq!(x.shape(), &[2, 1, 28, 28]);
    // Image 2 starts at file pixel 1568 = 87 * 18 + 2: (2 % 18) * 14 = 28.
    assert_eq!(x[[0, 0, 0, 0]], 28.0 / 255.0);
    // Image 0, row 1, column 2 is file pixel 30: (30 % 18) * 14 = 168.
    assert_eq!(x[[1, 0, 1, 2]], 168.0 / 255.0);
    assert_eq!(ds.batch_labels(&[2, 0, 1]), vec![9, 0, 5]);
    assert_eq!(ds.label_counts()[5], 1);

    let small = ds.clone().limited(2);
    assert_eq!((small.len(), small.images.len()), (2, 2 * 784));
    assert_eq!(ds.clone().limited(100), ds);
}

// ---- malformed files ------------------------------------------------------

#[test]
fn empty_file() {
    assert_eq!(err(&[]), IdxError::Empty);
    assert_eq!(err(&gzip(&[])), IdxError::Empty);
    assert_eq!(err(&[]).to_string(), "the file is empty");
}

#[test]
fn bad_magic() {
    let e = err(b"\x89PNG\r\n\x1a\n and so on");
    assert_eq!(
        e.to_string(),
        "not an IDX file: magic number 0x89504e47 (expected 0x00000801 or 0x00000803)"
    );
    // Right shape, wrong element type (0x0d = f32).
    let mut floats = tiny_labels();
    floats[2] = 0x0d;
    assert!(matches!(err(&floats), IdxError::BadMagic { found: 0x0d01 }));
    // A short file that cannot be IDX is "not IDX", not "truncated".
    assert!(matches!(err(b"hi"), IdxError::BadMagic { .. }));
}

#[test]
fn wrong_number_of_dimensions() {
    // idx2 is valid IDX, but neither labels nor images.
    let e = err(&idx(&[2, 2], &[1, 2, 3, 4]));
    assert!(e.to_string().contains("magic number 0x00000802"), "{e}");
    assert!(matches!(
        err(&idx(&[], &[])),
        IdxError::BadMagic { found: 0x0800 }
    ));
    // Labels where images were expected, and the reverse.
    let e = parse_idx_expecting(&tiny_labels(), 3).unwrap_err();
    assert_eq!(
        e.to_string(),
        "expected an idx3 file (images) but this is an idx1 file (labels)"
    );
    assert!(matches!(
        parse_idx_expecting(&tiny_images(), 1),
        Err(IdxError::WrongDims {
            expected: 1,
            found: 3
        })
    ));
}

#[test]
fn truncated_header() {
    let full = tiny_images();
    for cut in [3, 4, 9, 15] {
        let e = err(&full[..cut]);
        assert!(
            matches!(e, IdxError::TruncatedHeader { .. }),
            "cut {cut}: {e:?}"
        );
    }
    assert_eq!(
        err(&full[..9]).to_string(),
        "truncated header: an idx3 file (images) starts with a 16-byte header, but the file holds only 9 bytes"
    );
    assert_eq!(
        err(&full[..3]).to_string(),
        "truncated header: the file holds only 3 byte(s), not even the 4-byte magic number"
    );
}

#[test]
fn truncated_data() {
    let e = err(&idx(&[60000, 28, 28], &[0; 1234]));
    assert_eq!(
        e.to_string(),
        "header says 60000 images of 28x28 (47040000 bytes) but the file holds 1234"
    );
    let e = err(&idx(&[5], &[1, 2]));
    assert_eq!(
        e.to_string(),
        "header says 5 labels (5 bytes) but the file holds 2"
    );
    // Gzipped: the same check on the decompressed bytes.
    let e = err(&gzip(&idx(&[60000, 28, 28], &[0; 1234])));
    assert!(matches!(
        e,
        IdxError::TruncatedData {
            expected: 47_040_000,
            found: 1234,
            ..
        }
    ));
}

#[test]
fn huge_promises_allocate_nothing() {
    // 2^32 items (65536 x 256 x 256) with 10 bytes: over the limit before
    // reading anything.
    let e = err(&idx(&[65536, 256, 256], &[0; 10]));
    assert!(matches!(e, IdxError::TooLarge { .. }), "{e:?}");
    assert!(e.to_string().contains("65536 images of 256x256"), "{e}");
    // Sizes whose product overflows even u64.
    let e = err(&idx(&[u32::MAX, u32::MAX, u32::MAX], &[0; 10]));
    assert!(matches!(e, IdxError::TooLarge { .. }));
    // 2^32 - 1 labels: over the limit too.
    assert!(matches!(
        err(&idx(&[u32::MAX], &[0; 10])),
        IdxError::TooLarge { .. }
    ));
    // Just under the limit: an honest "truncated", not a 1 GiB allocation
    // (raw and gzipped).
    let under = (MAX_DATA_BYTES / (1 << 20)) as u32;
    let bytes = idx(&[under, 1024, 1024], &[0; 10]);
    assert!(matches!(
        err(&bytes),
        IdxError::TruncatedData { found: 10, .. }
    ));
    assert!(matches!(
        err(&gzip(&bytes)),
        IdxError::TruncatedData { found: 10, .. }
    ));
}

#[test]
fn zero_sizes() {
    let e = err(&idx(&[0, 28, 28], &[]));
    assert!(matches!(e, IdxError::ZeroSize { .. }));
    assert!(e.to_string().contains("0 images of 28x28"), "{e}");
    assert!(matches!(
        err(&idx(&[10, 0, 28], &[])),
        IdxError::ZeroSize { .. }
    ));
    assert!(matches!(err(&idx(&[0], &[])), IdxError::ZeroSize { .. }));
}

#[test]
fn trailing_bytes() {
    let mut bytes = tiny_labels();
    bytes.extend_from_slice(&[0, 0]);
    let e = err(&bytes);
    assert_eq!(
        e.to_string(),
        "header says 3 labels (3 bytes) but the file holds 5 bytes of data: trailing bytes after the data"
    );
    // Gzipped: only one extra byte is ever decompressed.
    let e = err(&gzip(&bytes));
    assert!(matches!(
        e,
        IdxError::TrailingBytes {
            found: 4,
            at_least: true,
            ..
        }
    ));
}

#[test]
fn gzip_bomb_stops_after_one_extra_byte() {
    // 16 MiB of zeros behind a header promising 3 labels compresses to
    // ~16 KB; the parser must not inflate it all.
    let mut bytes = tiny_labels();
    bytes.resize(bytes.len() + (16 << 20), 0);
    let compressed = gzip(&bytes);
    assert!(compressed.len() < 100_000);
    let e = err(&compressed);
    assert!(
        matches!(e, IdxError::TrailingBytes { found: 4, .. }),
        "{e:?}"
    );
}

#[test]
fn gzip_garbage() {
    // The gzip magic followed by nonsense.
    let e = err(&[0x1f, 0x8b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    assert!(
        matches!(e, IdxError::CorruptGzip(_) | IdxError::TruncatedGzip),
        "{e:?}"
    );
    // A valid stream cut short.
    let gz = gzip(&tiny_images());
    for cut in [2, 10, gz.len() / 2, gz.len() - 4, gz.len() - 1] {
        let e = err(&gz[..cut]);
        assert!(
            matches!(e, IdxError::TruncatedGzip | IdxError::CorruptGzip(_)),
            "cut {cut}: {e:?}"
        );
    }
    assert_eq!(
        err(&gz[..gz.len() - 4]).to_string(),
        "truncated gzip stream (the compressed file was cut short)"
    );
    // A flipped bit in the CRC32 trailer.
    let mut bad_crc = gz.clone();
    let n = bad_crc.len();
    bad_crc[n - 8] ^= 1;
    let e = err(&bad_crc);
    assert!(matches!(e, IdxError::CorruptGzip(_)), "{e:?}");
    assert!(e.to_string().starts_with("corrupt gzip stream: "), "{e}");
    // Garbage after a complete member.
    let mut tail = gz.clone();
    tail.extend_from_slice(b"garbage!");
    assert!(matches!(
        err(&tail),
        IdxError::CorruptGzip(_) | IdxError::TruncatedGzip
    ));
}

#[test]
fn label_out_of_range_names_index_and_value() {
    let e = Dataset::from_idx(
        parse_idx(&tiny_images()).unwrap(),
        parse_idx(&idx(&[3], &[1, 10, 255])).unwrap(),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "labels: label #1 is 10: labels must be digits 0 to 9"
    );
}

#[test]
fn count_mismatch_between_images_and_labels() {
    let e = Dataset::from_idx(
        parse_idx(&tiny_images()).unwrap(),
        parse_idx(&idx(&[2], &[1, 2])).unwrap(),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "labels: holds 2 labels but images holds 3 images: the two files do not belong together"
    );
}

#[test]
fn from_idx_rejects_swapped_or_hand_made_arrays() {
    let images = parse_idx(&tiny_images()).unwrap();
    let labels = parse_idx(&tiny_labels()).unwrap();
    let e = Dataset::from_idx(labels.clone(), images.clone()).unwrap_err();
    assert_eq!(e.file, PathBuf::from("images"));
    let lying = IdxArray {
        dims: vec![3, 28, 28],
        data: vec![0; 5],
    };
    assert!(Dataset::from_idx(lying, labels.clone()).is_err());
    let zero = IdxArray {
        dims: vec![3, 0, 3],
        data: vec![],
    };
    assert!(Dataset::from_idx(zero, labels).is_err());
}

/// The networks read 28x28 pictures: a dataset of any other size is refused
/// when it loads, with the size found, not in the middle of training.
#[test]
fn images_that_are_not_28x28_are_refused_with_their_size() {
    for (rows, cols) in [(32u32, 32u32), (1, 1), (28, 27)] {
        let n = (rows * cols) as usize;
        let images = parse_idx(&idx(&[1, rows, cols], &vec![7; n])).unwrap();
        let labels = parse_idx(&idx(&[1], &[3])).unwrap();
        let e = Dataset::from_idx(images, labels).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "images: images are {rows}x{cols} pixels; the networks here read MNIST's 28x28"
            )
        );
    }
}

// ---- files and folders ----------------------------------------------------

/// A tempdir holding a complete tiny MNIST under the given four names.
fn mnist_dir(names: [&str; 4]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let images = tiny_images();
    let labels = tiny_labels();
    for (name, bytes) in names.iter().zip([&images, &labels, &images, &labels]) {
        let bytes = if name.ends_with(".gz") {
            gzip(bytes)
        } else {
            bytes.clone()
        };
        write(dir.path(), name, &bytes);
    }
    dir
}

#[test]
fn load_dir_accepts_dotted_names_raw_and_gz() {
    let dir = mnist_dir([
        "train-images.idx3-ubyte",
        "train-labels.idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels.idx1-ubyte",
    ]);
    let mnist = load_dir(dir.path()).expect("load");
    assert_eq!(mnist.train.len(), 3);
    assert_eq!(mnist.test.labels, vec![0, 5, 9]);
}

#[test]
fn gzip_is_detected_by_content_not_name() {
    let dir = tempfile::tempdir().unwrap();
    // Compressed without .gz, and raw with .gz (a browser unpacked it).
    let images = write(dir.path(), "train-images-idx3-ubyte", &gzip(&tiny_images()));
    let labels = write(dir.path(), "train-labels-idx1-ubyte.gz", &tiny_labels());
    let ds = load_pair(&images, &labels).expect("load");
    assert_eq!(ds.len(), 3);
}

#[test]
fn missing_file_error_names_the_expected_path() {
    let dir = mnist_dir([
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "not-the-labels",
    ]);
    let e = load_dir(dir.path()).unwrap_err();
    let expected = dir.path().join("t10k-labels-idx1-ubyte");
    assert_eq!(e.file, expected);
    let shown = e.to_string();
    assert!(
        shown.starts_with(&format!("{}: missing", expected.display())),
        "{shown}"
    );
    assert!(shown.contains("t10k-labels.idx1-ubyte.gz"), "{shown}");

    let e = load_dir(&dir.path().join("nope")).unwrap_err();
    assert_eq!(e.problem.to_string(), "no such folder");
}

#[test]
fn load_pair_errors_name_the_bad_file() {
    let dir = tempfile::tempdir().unwrap();
    let images = write(dir.path(), "train-images-idx3-ubyte", &tiny_images());
    let labels = write(
        dir.path(),
        "train-labels-idx1-ubyte",
        &idx(&[3], &[0, 1, 12]),
    );
    let e = load_pair(&images, &labels).unwrap_err();
    assert_eq!(e.file, labels);
    assert_eq!(
        e.to_string(),
        format!(
            "{}: label #2 is 12: labels must be digits 0 to 9",
            labels.display()
        )
    );
    // Images and labels swapped.
    let e = load_pair(&labels, &images).unwrap_err();
    assert_eq!(e.file, labels);
    assert!(
        e.problem
            .to_string()
            .contains("expected an idx3 file (images)"),
        "{e}"
    );
    // Truncated on disk.
    let short = write(dir.path(), "short", &tiny_images()[..20]);
    let e = load_pair(&short, &labels).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}: header says 3 images of 28x28 (2352 bytes) but the file holds 4",
            short.display()
        )
    );
    let e = load_pair(&dir.path().join("absent"), &labels).unwrap_err();
    assert_eq!(e.problem.to_string(), "no such file");
}

#[test]
fn read_file_capped_refuses_folders() {
    let dir = tempfile::tempdir().unwrap();
    let e = read_file_capped(dir.path()).unwrap_err();
    assert!(e.problem.to_string().contains("folder"), "{e}");
    assert_eq!(MAX_FILE_BYTES, 1 << 30);
}

#[test]
fn find_in_files_sorts_dropped_files_and_folders() {
    let dir = mnist_dir([
        "train-images-idx3-ubyte.gz",
        "TRAIN-LABELS-IDX1-UBYTE",
        "t10k-images.idx3-ubyte",
        "t10k-labels-idx1-ubyte.gz",
    ]);
    write(dir.path(), "README.md", b"hello");
    // Both raw and .gz of one file: raw is preferred.
    write(dir.path(), "train-images-idx3-ubyte", &tiny_images());

    let found = find_in_files(&[dir.path().to_path_buf()]).expect("folder");
    assert_eq!(
        found.train_images.as_deref(),
        Some(dir.path().join("train-images-idx3-ubyte").as_path())
    );
    assert!(found.train_pair().is_some() && found.test_pair().is_some());
    let all = found.load_all().expect("load all");
    assert_eq!(all.test.len(), 3);

    // A test set alone is fine.
    let only_test = find_in_files(&[
        dir.path().join("t10k-labels-idx1-ubyte.gz"),
        dir.path().join("t10k-images.idx3-ubyte"),
        dir.path().join("README.md"),
    ])
    .expect("test pair");
    assert!(only_test.train_pair().is_none());
    assert_eq!(only_test.load_test().expect("some").expect("ok").len(), 3);
    assert!(only_test.load_train().is_none());
    assert!(only_test.load_all().is_err());

    // Half a pair names the missing partner.
    let e = find_in_files(&[dir.path().join("t10k-images.idx3-ubyte")]).unwrap_err();
    assert_eq!(e.file, dir.path().join("t10k-labels-idx1-ubyte"));
    assert!(
        e.problem.to_string().starts_with("missing, needed with"),
        "{e}"
    );

    // Nothing recognisable.
    let e = find_in_files(&[dir.path().join("README.md")]).unwrap_err();
    assert!(
        e.problem.to_string().starts_with("not an MNIST file"),
        "{e}"
    );
    let empty = tempfile::tempdir().unwrap();
    let e = find_in_files(&[empty.path().to_path_buf()]).unwrap_err();
    assert!(
        e.problem
            .to_string()
            .starts_with("no MNIST files in this folder"),
        "{e}"
    );
    assert!(find_in_files(&[]).is_err());
}

#[test]
fn role_names() {
    assert_eq!(
        MnistRole::from_file_name("train-images.idx3-ubyte.gz"),
        Some(MnistRole::TrainImages)
    );
    assert_eq!(
        MnistRole::from_file_name("t10k-labels-idx1-ubyte"),
        Some(MnistRole::TestLabels)
    );
    assert_eq!(
        MnistRole::from_file_name("t10k-labels-idx1-ubyte.zip"),
        None
    );
    assert_eq!(MnistRole::from_file_name("mnist.npz"), None);
}

#[test]
fn data_error_display() {
    let e = backprop_viz::io::FileError::new("/x/y", backprop_viz::io::Problem::NotFound);
    assert_eq!(e.to_string(), "/x/y: no such file");
}

// ---- the real MNIST -------------------------------------------------------

#[test]
fn real_mnist_loads() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/mnist");
    let mnist = load_dir(&dir).expect("the shipped MNIST loads");
    assert_eq!((mnist.train.len(), mnist.test.len()), (60_000, 10_000));
    assert_eq!((mnist.train.rows, mnist.train.cols), (28, 28));
    assert_eq!((mnist.test.rows, mnist.test.cols), (28, 28));
    assert_eq!(mnist.train.labels[0], 5);
    assert_eq!(mnist.test.labels[0], 7);
    // MNIST's README: the training set's digit counts.
    assert_eq!(
        mnist.train.label_counts(),
        [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    );
    let x = mnist.train.batch_input(&[0, 1]);
    assert_eq!(x.shape(), &[2, 1, 28, 28]);
    assert!(x.iter().all(|v| (0.0..=1.0).contains(v)));
    assert!(x.iter().any(|&v| v == 1.0));
    // The default folder resolves to a real one when run from the crate.
    assert!(default_data_dir().is_dir());
}

// ---- never a panic --------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(a) = parse_idx(&bytes) {
            prop_assert_eq!(a.data.len(), a.dims.iter().product::<usize>());
        }
    }

    #[test]
    fn valid_headers_with_arbitrary_bodies(
        dims in proptest::collection::vec(0u32..6, 1..=3),
        body in proptest::collection::vec(any::<u8>(), 0..120),
        compress in any::<bool>(),
    ) {
        let mut bytes = idx(&dims, &body);
        if compress {
            bytes = gzip(&bytes);
        }
        let expected: usize = dims.iter().map(|&d| d as usize).product();
        match parse_idx(&bytes) {
            Ok(a) => {
                prop_assert_eq!(expected, a.data.len());
                prop_assert_eq!(a.data, body);
            }
            Err(_) => prop_assert!(expected != body.len() || dims.len() == 2 || expected == 0),
        }
    }

    #[test]
    fn corrupted_gzip_never_panics(
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        cut in any::<usize>(),
    ) {
        let mut gz = gzip(&tiny_images());
        for (at, v) in flips {
            let n = gz.len();
            gz[at % n] ^= v;
        }
        let n = gz.len();
        gz.truncate(1 + cut % n);
        let _ = parse_idx(&gz);
        if let (Ok(images), Ok(labels)) = (parse_idx(&gz), parse_idx(&tiny_labels())) {
            let _ = Dataset::from_idx(images, labels);
        }
    }
}
