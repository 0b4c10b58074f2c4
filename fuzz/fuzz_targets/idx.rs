//! Fuzzes the IDX parser, the part of the program that reads untrusted
//! files: no input may panic, hang or allocate beyond what it holds.
//!
//! One input is both a labels file and an images file: the first byte picks
//! where to split it, so the fuzzer can reach `Dataset::from_idx` with two
//! arrays that parse. Run from the crate root:
//! `cargo +nightly fuzz run idx` (or `RUSTC_BOOTSTRAP=1 cargo fuzz run idx`).

#![no_main]

use backprop_viz::data::dataset::Dataset;
use backprop_viz::data::idx::{parse_idx, parse_idx_expecting};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The whole input as one file.
    if let Ok(a) = parse_idx(data) {
        assert_eq!(a.data.len(), a.dims.iter().product::<usize>());
        assert!(a.dims.len() == 1 || a.dims.len() == 3);
    }

    // Split into an images file and a labels file.
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let at = usize::from(split) * rest.len() / 256;
    let (images, labels) = rest.split_at(at);
    let (images, labels) = (
        parse_idx_expecting(images, 3),
        parse_idx_expecting(labels, 1),
    );
    if let (Ok(images), Ok(labels)) = (images, labels) {
        if let Ok(ds) = Dataset::from_idx(images, labels) {
            assert!(ds.labels.iter().all(|&l| l <= 9));
            assert_eq!(ds.images.len(), ds.len() * ds.pixels());
            let all: Vec<usize> = (0..ds.len().min(4)).collect();
            let x = ds.batch_input(&all);
            assert_eq!(x.shape(), &[all.len(), 1, ds.rows, ds.cols]);
        }
    }
});
