//! Writes seed corpora for the `safetensors` and `preset` fuzz targets:
//! real model, session and trace files made by the library's own writers,
//! and the JSON of both presets plus hand-written variants.
//!
//! `cargo run --manifest-path fuzz/Cargo.toml --bin make_seeds [CORPUS_DIR]`
//! (default `fuzz/corpus`), or run the copy `cargo fuzz build` leaves in
//! `fuzz/target/<triple>/release/make_seeds`. Not a fuzz target.

use std::fs;
use std::path::{Path, PathBuf};

use backprop_viz::engine::network::{preset_specs, Network};
use backprop_viz::engine::optim::{Optimizer, OptimizerKind};
use backprop_viz::engine::stepper::Stepper;
use backprop_viz::engine::Tensor;
use backprop_viz::io::session::SessionSettings;
use backprop_viz::io::{model_bytes, session_bytes, trace_bytes, Session};
use backprop_viz::training::TrainConfig;

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    let path = dir.join(name);
    fs::write(&path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    println!("{:>9} bytes  {}", bytes.len(), path.display());
}

fn batch(n: usize) -> (Tensor, Vec<u8>) {
    let x = Tensor::from_shape_fn(vec![n, 1, 28, 28], |d| {
        ((d[2] * 7 + d[3] * 3 + d[0]) % 11) as f32 / 10.0
    });
    (x, (0..n).map(|i| (i % 10) as u8).collect())
}

/// A stepper that has trained one recorded batch of `n`.
fn stepped(net: Network, kind: OptimizerKind, lr: f32, n: usize) -> Stepper {
    let mut s = Stepper::new(net, Optimizer::new(kind, lr));
    s.record = true;
    let (x, labels) = batch(n);
    s.train_batch(x, labels);
    s
}

fn settings(preset: &str, kind: OptimizerKind, lr: f32, steps: u64) -> SessionSettings {
    SessionSettings {
        config: TrainConfig {
            preset: preset.into(),
            seed: 1,
            lr,
            batch: 16,
            optimizer: kind,
            freeze_conv: false,
        },
        optimizer_steps: steps,
        progress: Default::default(),
        epoch_correct: 0,
        epoch_seen: 0,
    }
}

/// Hand-written JSON layer lists (the format of CONTRACTS.md / README).
const PRESET_VARIANTS: &[(&str, &str)] = &[
    (
        "avgpool_sigmoid.json",
        r#"{"layers": [
  {"name": "conv1", "kind": "conv", "in_channels": 1, "out_channels": 2, "kernel": 3, "padding": 1, "stride": 1},
  {"name": "sig1", "kind": "sigmoid"},
  {"name": "pool1", "kind": "avgpool", "size": 2},
  {"name": "flatten", "kind": "flatten"},
  {"name": "fc1", "kind": "dense", "in": 392, "out": 10}
]}"#,
    ),
    (
        "kernel5_pad2_tanh.json",
        r#"{"layers": [
  {"name": "conv1", "kind": "conv", "in_channels": 1, "out_channels": 4, "kernel": 5, "padding": 2},
  {"name": "tanh1", "kind": "tanh"},
  {"name": "pool1", "kind": "maxpool"},
  {"name": "conv2", "kind": "conv", "in_channels": 4, "out_channels": 4, "kernel": 5, "padding": 2, "stride": 1},
  {"name": "relu2", "kind": "relu"},
  {"name": "pool2", "kind": "avgpool", "size": 2},
  {"name": "flatten", "kind": "flatten"},
  {"name": "fc1", "kind": "dense", "in": 196, "out": 32},
  {"name": "sig", "kind": "sigmoid"},
  {"name": "fc2", "kind": "dense", "in": 32, "out": 10}
]}"#,
    ),
    (
        "bare_array.json",
        r#"[
  {"name": "conv1", "kind": "conv", "in_channels": 1, "out_channels": 1, "kernel": 3, "padding": 1, "stride": 1},
  {"name": "relu1", "kind": "relu"},
  {"name": "pool1", "kind": "maxpool", "size": 2},
  {"name": "flatten", "kind": "flatten"},
  {"name": "fc1", "kind": "dense", "in": 196, "out": 10}
]"#,
    ),
    (
        "dense_only.json",
        r#"{"layers": [{"name": "flatten", "kind": "flatten"}, {"name": "fc1", "kind": "dense", "in": 784, "out": 10}]}"#,
    ),
    (
        "readme_example.json",
        r#"{"layers": [
  {"name": "conv1", "kind": "conv", "in_channels": 1, "out_channels": 16, "kernel": 3, "padding": 1, "stride": 1},
  {"name": "relu1", "kind": "relu"},
  {"name": "pool1", "kind": "maxpool", "size": 2},
  {"name": "flatten", "kind": "flatten"},
  {"name": "fc1", "kind": "dense", "in": 3136, "out": 10}
]}"#,
    ),
    (
        "no_padding_pool7.json",
        r#"{"layers": [
  {"name": "conv1", "kind": "conv", "in_channels": 1, "out_channels": 3, "kernel": 7},
  {"name": "pool1", "kind": "maxpool", "size": 7},
  {"name": "flatten", "kind": "flatten"},
  {"name": "fc1", "kind": "dense", "in": 27, "out": 10}
]}"#,
    ),
];

fn main() {
    let root = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("fuzz/corpus"));
    let tensors = root.join("safetensors");
    let presets = root.join("preset");
    fs::create_dir_all(&tensors).unwrap();
    fs::create_dir_all(&presets).unwrap();

    // Presets: the JSON of both, and the variants; each must still parse.
    for name in ["seed", "lenet"] {
        let json = Network::specs_to_json(&preset_specs(name).unwrap());
        write(&presets, &format!("{name}.json"), json.as_bytes());
    }
    for (name, json) in PRESET_VARIANTS {
        let specs = Network::specs_from_json(json).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        Network::new(specs).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        write(&presets, name, json.as_bytes());
    }

    // Models: both presets fresh, and one of the variants.
    for name in ["seed", "lenet"] {
        write(&tensors, &format!("model_{name}.safetensors"), &model_bytes(&Network::preset(name, 1).unwrap()));
    }
    let mut custom = Network::new(Network::specs_from_json(PRESET_VARIANTS[0].1).unwrap()).unwrap();
    custom.init(2);
    write(&tensors, "model_avgpool_sigmoid.safetensors", &model_bytes(&custom));

    // Sessions: a fresh one (no optimizer state), and ones after a step with
    // Adam (m and v) and momentum (m only), with plots.
    let fresh = Session {
        network: Network::preset("seed", 1).unwrap(),
        optimizer: Optimizer::new(OptimizerKind::Adam, 0.005),
        settings: settings("seed", OptimizerKind::Adam, 0.005, 0),
        losses: vec![(1, 2.3)],
        epochs: vec![],
    };
    write(&tensors, "session_seed_fresh.safetensors", &session_bytes(&fresh));
    for (kind, preset, net) in [
        (OptimizerKind::Adam, "seed", Network::preset("seed", 1).unwrap()),
        (OptimizerKind::Momentum, "custom.json", custom.clone()),
    ] {
        let s = stepped(net, kind, 0.01, 2);
        let session = Session {
            network: s.network.clone(),
            optimizer: s.optimizer.clone(),
            settings: settings(preset, kind, 0.01, 1),
            losses: vec![(1, 2.3), (2, 2.1)],
            epochs: vec![(1, 0.5, 0.25)],
        };
        write(&tensors, &format!("session_{}_stepped.safetensors", kind.name()), &session_bytes(&session));
    }

    // Traces: one step of seed (batch 2), lenet (batch 1) and the variant.
    for (name, net, n) in [
        ("seed", Network::preset("seed", 1).unwrap(), 2),
        ("lenet", Network::preset("lenet", 1).unwrap(), 1),
        ("avgpool_sigmoid", custom, 1),
    ] {
        let s = stepped(net, OptimizerKind::Adam, 0.01, n);
        write(&tensors, &format!("trace_{name}.safetensors"), &trace_bytes(s.trace()).unwrap());
    }
}
