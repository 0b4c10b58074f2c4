//! Fuzzes the three safetensors readers, the parts of the program that open
//! untrusted model, session and trace files: `io::read_model`,
//! `io::read_session` and `io::trace::trace_from_bytes`. Every input goes to
//! all three; each must return `Ok` or `Err`, never panic, hang or allocate
//! beyond what the file and the limits allow.
//!
//! What a reader accepts is checked cheaply: a model or a session's network
//! stays within `MAX_PARAMETERS`, has a plan for every layer and gives
//! `[1, 10]` logits for one zero image; a trace has one layer trace per name.
//!
//! Seeds (real files of each kind) come from the `make_seeds` binary of this
//! crate: `cargo run --manifest-path fuzz/Cargo.toml --bin make_seeds`.
//! Run from the crate root:
//! `cargo +nightly fuzz run safetensors` (or
//! `RUSTC_BOOTSTRAP=1 cargo fuzz run safetensors`).

#![no_main]

use std::path::Path;

use backprop_viz::engine::limits::{MAX_ACTIVATIONS, MAX_PARAMETERS};
use backprop_viz::engine::network::Network;
use backprop_viz::engine::Tensor;
use backprop_viz::io::trace::trace_from_bytes;
use backprop_viz::io::{read_model, read_session};
use libfuzzer_sys::fuzz_target;

/// A network a reader accepted is one the app can run.
fn check_network(net: &Network) {
    assert!(net.plan.parameters <= MAX_PARAMETERS);
    assert!(net.plan.activations <= MAX_ACTIVATIONS);
    assert_eq!(net.plan.shapes.len(), net.specs.len());
    assert_eq!(net.layers.len(), net.specs.len());
    assert_eq!(net.parameter_count() as u64, net.plan.parameters);
    let logits = net.forward(&Tensor::zeros(vec![1, 1, 28, 28]));
    assert_eq!(logits.shape(), &[1, 10]);
}

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz");
    if let Ok(net) = read_model(path, data) {
        check_network(&net);
    }
    if let Ok(session) = read_session(path, data) {
        check_network(&session.network);
        assert!(session.network.plan.check_batch(session.settings.config.batch).is_ok());
        assert!(session.settings.config.lr.is_finite() && session.settings.config.lr > 0.0);
    }
    if let Ok(trace) = trace_from_bytes(path, data) {
        assert_eq!(trace.names.len(), trace.layers.len());
        assert_eq!(trace.input.shape().len(), 4);
        assert_eq!(trace.input.shape()[0], trace.labels.len());
    }
});
