//! Fuzzes the JSON network format and the one network validation: the text
//! a user loads as a preset (`Network::specs_from_json`, `{"layers": [...]}`
//! or a bare array), then `engine::limits::plan` and `Network::new`. No
//! input may panic or hang; a plan that passes must keep every limit, end
//! in 10 logits and build a network, and its memory estimates
//! (`step_bytes`, `check_batch`, `largest_batch`) must not overflow.
//!
//! One forward pass on a zero image runs when `check_batch(1)` accepts the
//! network and its multiply-adds are few enough to stay far below the
//! fuzzer's timeout (`MAX_FORWARD_MACS`): the limits bound memory, not
//! time, and a legal but huge network would only report a slow input.
//!
//! Seeds (both presets and hand-written variants) come from the
//! `make_seeds` binary of this crate:
//! `cargo run --manifest-path fuzz/Cargo.toml --bin make_seeds`.
//! Run from the crate root:
//! `cargo +nightly fuzz run preset` (or `RUSTC_BOOTSTRAP=1 cargo fuzz run preset`).

#![no_main]

use backprop_viz::engine::layers::LayerKind;
use backprop_viz::engine::limits::{plan, MAX_ACTIVATIONS, MAX_PARAMETERS};
use backprop_viz::engine::network::{Network, INPUT_SHAPE};
use backprop_viz::engine::Tensor;
use libfuzzer_sys::fuzz_target;

/// The most multiply-adds the forward pass may take (about 0.1 s).
const MAX_FORWARD_MACS: u64 = 200_000_000;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(specs) = Network::specs_from_json(text) else {
        return;
    };
    let Ok(p) = plan(&specs) else {
        // The one validation refuses it, so `Network::new` must too.
        assert!(Network::new(specs).is_err());
        return;
    };
    assert!(p.parameters <= MAX_PARAMETERS);
    assert!(p.activations <= MAX_ACTIVATIONS);
    assert_eq!(p.shapes.len(), specs.len());
    assert_eq!(p.shapes.last().map(Vec::as_slice), Some(&[10usize][..]));
    let _ = p.step_bytes(16);
    let _ = p.check_batch(16);
    let largest = p.largest_batch();
    if largest > 0 {
        assert!(p.check_batch(largest).is_ok());
    }
    assert_eq!(p.check_batch(largest + 1).is_ok(), false);

    // Multiply-adds of one forward pass, from the plan's shapes.
    let mut macs: u64 = 0;
    for (spec, out) in specs.iter().zip(&p.shapes) {
        let per_out = match spec.kind {
            LayerKind::Conv {
                in_channels,
                kernel,
                ..
            } => (in_channels as u64).saturating_mul((kernel * kernel) as u64),
            LayerKind::Dense { inputs, .. } => inputs as u64,
            _ => 1,
        };
        let outs: u64 = out.iter().map(|&d| d as u64).product();
        macs = macs.saturating_add(outs.saturating_mul(per_out));
    }

    let net = Network::new(specs).expect("a network whose plan passes builds");
    assert_eq!(net.plan, p);
    if p.check_batch(1).is_ok() && macs <= MAX_FORWARD_MACS {
        let mut shape = vec![1];
        shape.extend(INPUT_SHAPE);
        let logits = net.forward(&Tensor::zeros(shape));
        assert_eq!(logits.shape(), &[1, 10]);
    }
});
