//! Files from elsewhere, as a new user would hand them over: absurd networks
//! through every door (model file, JSON preset, session), pipes and devices
//! where files belong, oversized pictures, datasets of the wrong size, every
//! field of a session corrupted in turn, saves that fail or are killed half
//! way, writes onto the command's own inputs, divergence. Every case ends in
//! one `error:` line and exit code 2 (or `Err` in-process), never a panic or
//! a hang, and no file that was there is lost.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use backprop_viz::engine::layers::{LayerKind, LayerSpec};
use backprop_viz::engine::network::{preset_specs, Network};
use backprop_viz::engine::optim::{Optimizer, OptimizerKind};
use backprop_viz::engine::stepper::Stepper;
use backprop_viz::engine::{EngineError, Tensor};
use backprop_viz::io::file::{write_atomic, FileKind};
use backprop_viz::io::session::SessionSettings;
use backprop_viz::io::tensors::{Entry, TensorFile};
use backprop_viz::io::{self, FileError, Problem, Session};
use backprop_viz::training::{Progress, TrainConfig};

// ---- helpers ----------------------------------------------------------------

mod cli_common;
use cli_common::{assert_user_error, bin, run, run_within, s};

fn spec(name: &str, kind: LayerKind) -> LayerSpec {
    LayerSpec {
        name: name.into(),
        kind,
    }
}

fn conv_net(cout: usize, kernel: usize, padding: usize) -> Vec<LayerSpec> {
    vec![
        spec(
            "conv1",
            LayerKind::Conv {
                in_channels: 1,
                out_channels: cout,
                kernel,
                padding,
                stride: 1,
                dilation: 1,
            },
        ),
        spec("flatten", LayerKind::Flatten),
        spec(
            "fc",
            LayerKind::Dense {
                inputs: cout.saturating_mul(784),
                outputs: 10,
            },
        ),
    ]
}

/// The absurd networks of the issue, with a word the refusal must hold.
fn absurd_networks() -> Vec<(&'static str, Vec<LayerSpec>, &'static str)> {
    let mut many_relus: Vec<LayerSpec> = (0..100_000)
        .map(|i| spec(&format!("relu{i}"), LayerKind::Relu))
        .collect();
    many_relus.push(spec("flatten", LayerKind::Flatten));
    many_relus.push(spec(
        "fc",
        LayerKind::Dense {
            inputs: 784,
            outputs: 10,
        },
    ));
    let dense_huge = vec![
        spec("flatten", LayerKind::Flatten),
        spec(
            "fc1",
            LayerKind::Dense {
                inputs: 784,
                outputs: 1 << 62,
            },
        ),
        spec(
            "fc2",
            LayerKind::Dense {
                inputs: 1 << 62,
                outputs: 10,
            },
        ),
    ];
    let mut thousand_relus: Vec<LayerSpec> = (0..1000)
        .map(|i| spec(&format!("relu{i}"), LayerKind::Relu))
        .collect();
    thousand_relus.extend(many_relus[many_relus.len() - 2..].iter().cloned());
    vec![
        ("conv 1→10⁹", conv_net(1_000_000_000, 3, 1), "100 million"),
        // Over 1 MB of layer list: refused by its length, before parsing.
        ("100,000 ReLU layers", many_relus, "1.0 MB"),
        ("1,000 ReLU layers", thousand_relus, "at most 64"),
        ("conv 1→2⁶²", conv_net(1 << 62, 3, 1), "100 million"),
        ("dense 784→2⁶²", dense_huge, "100 million"),
        (
            "kernel 1000, padding 500",
            conv_net(1, 1000, 500),
            "limit of 15",
        ),
        ("padding 2⁶³", conv_net(1, 3, 1 << 63), "limit of 7"),
    ]
}

/// A safetensors file of this project's kind, from parts.
fn tensor_file(
    format: &'static str,
    specs: &[LayerSpec],
    extra: Vec<(String, String)>,
    tensors: &[(String, Tensor)],
) -> Vec<u8> {
    TensorFile {
        format,
        specs,
        extra,
        entries: tensors
            .iter()
            .map(|(name, t)| (name.clone(), Entry::F32(t)))
            .collect(),
    }
    .to_bytes()
}

fn settings_json(batch: usize) -> String {
    serde_json::to_string(&SessionSettings {
        config: TrainConfig {
            preset: "seed".into(),
            seed: 1,
            lr: 0.005,
            batch,
            optimizer: OptimizerKind::Adam,
            freeze_conv: false,
        },
        optimizer_steps: 0,
        progress: Progress::default(),
        epoch_correct: 0,
        epoch_seen: 0,
    })
    .unwrap()
}

/// A tiny MNIST of `n` 28x28 images in each half, in `dir`.
fn tiny_mnist(dir: &Path, n: u32) {
    fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut b = vec![0, 0, 8, dims.len() as u8];
        for d in dims {
            b.extend_from_slice(&d.to_be_bytes());
        }
        b.extend_from_slice(data);
        b
    }
    std::fs::create_dir_all(dir).unwrap();
    let pixels: Vec<u8> = (0..n * 784).map(|i| ((i * 37) % 256) as u8).collect();
    let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
    for (name, bytes) in [
        ("train-images-idx3-ubyte", idx(&[n, 28, 28], &pixels)),
        ("train-labels-idx1-ubyte", idx(&[n], &labels)),
        ("t10k-images-idx3-ubyte", idx(&[n, 28, 28], &pixels)),
        ("t10k-labels-idx1-ubyte", idx(&[n], &labels)),
    ] {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo only creates a file.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
}

/// A trained-for-three-batches seed network and its optimizer (Adam, so
/// both moments are there).
fn stepped(kind: OptimizerKind) -> Stepper {
    let mut s = Stepper::new(
        Network::preset("seed", 2).unwrap(),
        Optimizer::new(kind, 0.005),
    );
    for b in 0..3 {
        let x = Tensor::from_shape_fn(vec![4, 1, 28, 28], |d| {
            ((d[0] + d[2] * 3 + d[3] + b) % 7) as f32 / 6.0
        });
        s.train_batch(x, vec![1, 3, 5, 7]);
    }
    s
}

fn good_session() -> Session {
    let s = stepped(OptimizerKind::Adam);
    Session {
        network: s.network.clone(),
        optimizer: s.optimizer.clone(),
        settings: SessionSettings {
            config: TrainConfig {
                preset: "seed".into(),
                seed: 2,
                lr: 0.005,
                batch: 16,
                optimizer: OptimizerKind::Adam,
                freeze_conv: false,
            },
            optimizer_steps: s.optimizer.steps,
            progress: Progress {
                epoch: 0,
                cursor: 48,
                batches: 3,
                seen: 48,
            },
            epoch_correct: 20,
            epoch_seen: 48,
        },
        losses: vec![(1, 2.3), (2, 2.1), (3, 1.9)],
        epochs: vec![(1, 0.5, 0.6)],
        predictions: None,
        predictions_unread: None,
    }
}

/// A session's tensors and settings as plain values, to corrupt one at a
/// time and write back.
struct RawSession {
    specs: Vec<LayerSpec>,
    settings: serde_json::Value,
    tensors: Vec<(String, Tensor)>,
}

impl RawSession {
    fn of(session: &Session) -> RawSession {
        let bytes = io::session_bytes(session);
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let mut tensors: Vec<(String, Tensor)> = st
            .tensors()
            .into_iter()
            .map(|(name, view)| {
                let values: Vec<f32> = view
                    .data()
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                    .collect();
                (
                    name,
                    Tensor::from_shape_vec(view.shape().to_vec(), values).unwrap(),
                )
            })
            .collect();
        tensors.sort_by(|a, b| a.0.cmp(&b.0));
        RawSession {
            specs: session.network.specs.clone(),
            settings: serde_json::to_value(&session.settings).unwrap(),
            tensors,
        }
    }

    fn bytes(&self) -> Vec<u8> {
        tensor_file(
            io::session::FORMAT,
            &self.specs,
            vec![("session".into(), self.settings.to_string())],
            &self.tensors,
        )
    }

    fn tensor(&mut self, name: &str) -> &mut Tensor {
        &mut self
            .tensors
            .iter_mut()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no tensor {name}"))
            .1
    }
}

fn read_raw(raw: &RawSession) -> Result<Session, FileError> {
    io::read_session(Path::new("s.safetensors"), &raw.bytes())
}

// ---- absurd networks, through every door --------------------------------

#[test]
fn absurd_networks_are_refused_through_every_door() {
    let dir = tempfile::tempdir().unwrap();
    for (i, (what, specs, needle)) in absurd_networks().into_iter().enumerate() {
        // A model file: a few hundred bytes of metadata, no weights at all.
        let model = dir.path().join(format!("model{i}.safetensors"));
        std::fs::write(&model, tensor_file(io::model::FORMAT, &specs, vec![], &[])).unwrap();
        let e = io::load_model(&model).unwrap_err();
        assert!(
            matches!(
                e.problem,
                Problem::Network(_) | Problem::MetadataTooLong { .. }
            ),
            "{what}: {e:?}"
        );
        for args in [
            vec!["eval", "--model", s(&model)],
            vec!["classify", "--model", s(&model), "x.png"],
            vec!["inspect", s(&model)],
            vec![
                "trace",
                "--model",
                s(&model),
                "--out",
                "/tmp/never.safetensors",
            ],
        ] {
            assert_user_error(&run(&args), &[s(&model), needle]);
        }
        // A JSON preset.
        let preset = dir.path().join(format!("preset{i}.json"));
        std::fs::write(&preset, Network::specs_to_json(&specs)).unwrap();
        for args in [
            vec!["train", "--preset", s(&preset)],
            vec![
                "trace",
                "--preset",
                s(&preset),
                "--out",
                "/tmp/never.safetensors",
            ],
        ] {
            assert_user_error(&run(&args), &[s(&preset), needle]);
        }
        assert_user_error(
            &run_within(
                bin()
                    .args(["gui", "--preset", s(&preset)])
                    .env_remove("DISPLAY")
                    .env_remove("WAYLAND_DISPLAY"),
                Duration::from_secs(60),
            ),
            &[needle],
        );
        // A session.
        let session = dir.path().join(format!("session{i}.safetensors"));
        std::fs::write(
            &session,
            tensor_file(
                io::session::FORMAT,
                &specs,
                vec![("session".into(), settings_json(16))],
                &[],
            ),
        )
        .unwrap();
        let e = io::load_session(&session).unwrap_err();
        assert!(
            matches!(
                e.problem,
                Problem::Network(_) | Problem::MetadataTooLong { .. }
            ),
            "{what}: {e:?}"
        );
        assert_user_error(&run(&["inspect", s(&session)]), &[needle]);
    }
}

#[test]
fn batches_too_large_for_memory_are_refused() {
    let o = run(&["train", "--preset", "lenet", "--batch", "1000000000"]);
    assert_user_error(&o, &["--batch 1000000000", "2.0 GB", "largest batch"]);
    let o = run(&[
        "trace",
        "--preset",
        "lenet",
        "--batch",
        "18446744073709551615",
        "--out",
        "/tmp/x",
    ]);
    assert_user_error(&o, &["2.0 GB"]);
    assert_user_error(&run(&["train", "--batch", "0"]), &["at least 1"]);
    // A session asking for them, on any network.
    for (preset, batch) in [("lenet", 1_000_000_000usize), ("seed", usize::MAX)] {
        let mut session = good_session();
        if preset == "lenet" {
            session.network = Network::preset("lenet", 1).unwrap();
            session.optimizer = Optimizer::new(OptimizerKind::Adam, 0.005);
            session.settings.optimizer_steps = 0;
        }
        session.settings.config.batch = batch;
        let e = io::read_session(Path::new("s"), &io::session_bytes(&session)).unwrap_err();
        assert!(
            matches!(
                e.problem,
                Problem::Network(EngineError::BatchTooLarge { .. })
            ),
            "{e:?}"
        );
    }
}

// ---- inputs that are not regular files, or too big ---------------------

#[test]
fn pipes_devices_and_folders_are_refused_without_waiting() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.safetensors");
    mkfifo(&fifo);
    let limit = Duration::from_secs(30);
    for args in [
        vec!["train", "--preset", s(&fifo)],
        vec!["eval", "--model", s(&fifo)],
        vec!["classify", s(&fifo)],
        vec!["inspect", s(&fifo)],
        vec!["trace", "--model", s(&fifo), "--out", "/tmp/never"],
    ] {
        assert_user_error(
            &run_within(bin().args(&args), limit),
            &[s(&fifo), "pipe (FIFO)"],
        );
    }
    // MNIST files that are pipes.
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    for name in [
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ] {
        mkfifo(&data.join(name));
    }
    let o = run_within(
        bin().args(["train", "--epochs", "1", "--data", s(&data)]),
        limit,
    );
    assert_user_error(&o, &["pipe (FIFO)"]);
    // /dev/zero never ends: refused as a device, not read for 2 GB.
    for args in [
        vec!["train", "--preset", "/dev/zero"],
        vec!["eval", "--model", "/dev/zero"],
        vec!["inspect", "/dev/zero"],
    ] {
        assert_user_error(
            &run_within(bin().args(&args), limit),
            &["/dev/zero", "device"],
        );
    }
    // In-process: every loader refuses them the same way.
    let e = io::load_session(&fifo).unwrap_err();
    assert_eq!(e.problem, Problem::NotAFile(FileKind::Fifo));
    let e = io::load_model(dir.path()).unwrap_err();
    assert_eq!(e.problem, Problem::NotAFile(FileKind::Folder));
    let e = backprop_viz::data::preprocess::load_picture(Path::new("/dev/zero")).unwrap_err();
    assert_eq!(e.problem, Problem::NotAFile(FileKind::Device));
    let e = backprop_viz::presets::network_from_preset(s(&fifo), 1).unwrap_err();
    assert_eq!(e.problem, Problem::NotAFile(FileKind::Fifo));
}

#[test]
fn json_presets_over_1_mib_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.json");
    let mut text = Network::specs_to_json(&preset_specs("seed").unwrap());
    text.push_str(&" ".repeat(1 << 20));
    std::fs::write(&big, text).unwrap();
    assert_user_error(
        &run(&["train", "--preset", s(&big)]),
        &["big.json", "1.0 MB"],
    );
}

/// A PNG header claiming 22000x22000 grey pixels (484 million): refused from
/// the header, before a byte is decoded.
#[test]
fn pictures_over_50_megapixels_are_refused_before_decoding() {
    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
        out
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = 22000u32.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&22000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit grey, no interlace
    png.extend(chunk(b"IHDR", &ihdr));
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&vec![0u8; 22001 * 16]).unwrap(); // a few rows of a blank picture
    png.extend(chunk(b"IDAT", &z.finish().unwrap()));
    png.extend(chunk(b"IEND", &[]));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.png");
    std::fs::write(&path, &png).unwrap();

    let e = backprop_viz::data::preprocess::load_picture(&path).unwrap_err();
    assert_eq!(
        e.problem,
        Problem::TooManyPixels {
            width: 22000,
            height: 22000,
            limit: 50_000_000
        }
    );
    assert_user_error(
        &run(&["classify", s(&path)]),
        &["huge.png", "22000x22000", "50 million"],
    );
}

#[test]
fn datasets_whose_images_are_not_28x28_are_refused_when_loaded() {
    let dir = tempfile::tempdir().unwrap();
    for side in [32u32, 1] {
        let data = dir.path().join(format!("d{side}"));
        std::fs::create_dir(&data).unwrap();
        let n = side * side;
        let mut images = vec![0, 0, 8, 3];
        for d in [2, side, side] {
            images.extend_from_slice(&d.to_be_bytes());
        }
        images.extend(vec![100u8; 2 * n as usize]);
        let labels = [0u8, 0, 8, 1, 0, 0, 0, 2, 3, 4];
        for (name, bytes) in [
            ("train-images-idx3-ubyte", &images[..]),
            ("train-labels-idx1-ubyte", &labels[..]),
            ("t10k-images-idx3-ubyte", &images[..]),
            ("t10k-labels-idx1-ubyte", &labels[..]),
        ] {
            std::fs::write(data.join(name), bytes).unwrap();
        }
        let found = format!("{side}x{side}");
        assert_user_error(
            &run(&["train", "--data", s(&data)]),
            &["train-images-idx3-ubyte", &found, "28x28"],
        );
        let e = backprop_viz::data::dataset::load_dir(&data).unwrap_err();
        assert_eq!(
            e.problem,
            Problem::NotMnistSize {
                rows: side as usize,
                cols: side as usize
            }
        );
    }
}

// ---- sessions, every field in turn ---------------------------------------

#[test]
fn a_good_session_loads_and_round_trips() {
    let session = good_session();
    let raw = RawSession::of(&session);
    let loaded = read_raw(&raw).unwrap();
    assert_eq!(loaded.settings, session.settings);
    assert_eq!(loaded.losses, session.losses);
    assert_eq!(loaded.epochs, session.epochs);
    assert_eq!(loaded.optimizer.slots(), session.optimizer.slots());
}

#[test]
fn every_session_field_corrupted_in_turn_is_refused() {
    type Corruption = (&'static str, Box<dyn Fn(&mut RawSession)>);
    let nan_in = |name: &'static str| -> Box<dyn Fn(&mut RawSession)> {
        Box::new(move |r: &mut RawSession| r.tensor(name)[[0, 0, 0, 0]] = f32::NAN)
    };
    let set = |field: &'static str, value: serde_json::Value| -> Box<dyn Fn(&mut RawSession)> {
        Box::new(move |r: &mut RawSession| {
            // Settings are flat JSON, the position nested under "progress".
            let target = if r.settings[field].is_null() && !r.settings["progress"][field].is_null()
            {
                &mut r.settings["progress"][field]
            } else {
                &mut r.settings[field]
            };
            *target = value.clone();
        })
    };
    let corruptions: Vec<Corruption> = vec![
        (
            "plot of rank 0",
            Box::new(|r| *r.tensor("plot.losses") = Tensor::zeros(vec![])),
        ),
        (
            "plot of rank 3",
            Box::new(|r| *r.tensor("plot.epochs") = Tensor::zeros(vec![1, 3, 1])),
        ),
        (
            "plot rows of 5",
            Box::new(|r| *r.tensor("plot.losses") = Tensor::zeros(vec![3, 5])),
        ),
        (
            "negative batch in the plot",
            Box::new(|r| r.tensor("plot.losses")[[0, 0]] = -1.0),
        ),
        (
            "fractional batch in the plot",
            Box::new(|r| r.tensor("plot.losses")[[0, 0]] = 1.5),
        ),
        (
            "accuracy 2.0",
            Box::new(|r| r.tensor("plot.epochs")[[0, 1]] = 2.0),
        ),
        (
            "accuracy NaN",
            Box::new(|r| r.tensor("plot.epochs")[[0, 2]] = f32::NAN),
        ),
        (
            "no plot",
            Box::new(|r| r.tensors.retain(|(n, _)| n != "plot.losses")),
        ),
        ("NaN optimizer state", nan_in("optimizer.conv1.weight.m")),
        (
            "infinite optimizer state",
            Box::new(|r| r.tensor("optimizer.fc1.weight.v")[[0, 0]] = f32::INFINITY),
        ),
        (
            "negative second moment",
            Box::new(|r| r.tensor("optimizer.fc2.bias.v")[[0]] = -1.0),
        ),
        (
            "optimizer state of the wrong shape",
            Box::new(|r| *r.tensor("optimizer.conv2.weight.v") = Tensor::zeros(vec![1, 1, 3, 4])),
        ),
        (
            "optimizer state missing",
            Box::new(|r| r.tensors.retain(|(n, _)| n != "optimizer.fc1.bias.m")),
        ),
        ("NaN weight", nan_in("conv2.weight")),
        (
            "weight of the wrong shape",
            Box::new(|r| *r.tensor("fc1.weight") = Tensor::zeros(vec![49, 48])),
        ),
        ("batch 0", set("batch", 0.into())),
        ("batch 2⁶⁴−1", set("batch", u64::MAX.into())),
        ("batch negative", set("batch", (-5).into())),
        (
            "learning rate NaN",
            set("lr", serde_json::Value::String("NaN".into())),
        ),
        ("learning rate −1", set("lr", (-1.0).into())),
        ("learning rate 0", set("lr", 0.0.into())),
        ("unknown optimizer", set("optimizer", "rmsprop".into())),
        (
            "preset with a control character",
            set("preset", "seed\u{7}".into()),
        ),
        (
            "preset 5000 characters long",
            set("preset", "x".repeat(5000).into()),
        ),
        ("preset empty", set("preset", "".into())),
        (
            "optimizer steps 2⁶⁰",
            set("optimizer_steps", (1u64 << 60).into()),
        ),
        ("cursor beyond what was seen", set("cursor", 1000.into())),
        ("cursor 2⁶³", set("cursor", (1u64 << 63).into())),
        ("batches 2⁶⁰", set("batches", (1u64 << 60).into())),
        ("epoch 2⁶⁰", set("epoch", (1u64 << 60).into())),
        ("more correct than seen", set("epoch_correct", 49.into())),
        (
            "settings not JSON",
            Box::new(|r| r.settings = serde_json::Value::String("{".into())),
        ),
        (
            "settings missing a field",
            Box::new(|r| {
                r.settings.as_object_mut().unwrap().remove("progress");
            }),
        ),
        (
            "the optimizer changed to sgd, state kept",
            set("optimizer", "sgd".into()),
        ),
    ];
    let mut refused = 0;
    for (what, corrupt) in &corruptions {
        let mut raw = RawSession::of(&good_session());
        corrupt(&mut raw);
        match read_raw(&raw) {
            Err(e) => {
                refused += 1;
                let text = e.to_string();
                assert!(text.starts_with("s.safetensors: "), "{what}: {text}");
                assert!(text.len() < 400, "{what}: a short message: {text}");
            }
            // Switching to SGD with Adam's state in the file is harmless:
            // SGD reads no state. Everything else must be refused.
            Ok(_) if *what == "the optimizer changed to sgd, state kept" => {}
            Ok(_) => panic!("{what}: accepted"),
        }
    }
    assert_eq!(refused, corruptions.len() - 1);
}

/// A session whose preset names a device or a pipe: the session loads (its
/// network is in the file), and the preset is looked at on the loading
/// thread only, where it is refused at once; Reset then returns to the
/// session's own network.
#[test]
fn a_session_naming_a_device_or_pipe_as_preset_opens_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("preset-fifo");
    mkfifo(&fifo);
    for preset in ["/dev/zero", s(&fifo)] {
        let mut session = good_session();
        session.settings.config.preset = preset.into();
        let path = dir.path().join("s.safetensors");
        io::save_session(&session, &path).unwrap();
        let started = Instant::now();
        match backprop_viz::app::files::open_session(&backprop_viz::io::file::Input::path(
            path.clone(),
        )) {
            backprop_viz::app::files::FileEvent::SessionOpened(loaded, start, _) => {
                assert_eq!(loaded.settings.config.preset, preset);
                let start = start.expect("Reset returns to the saved network");
                assert_eq!(start.specs, session.network.specs);
            }
            _ => panic!("the session opens"),
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{preset}");
    }
}

// ---- writes ----------------------------------------------------------------

#[test]
fn a_failed_write_leaves_the_old_file_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    let old = io::model_bytes(&Network::preset("seed", 1).unwrap());
    std::fs::write(&path, &old).unwrap();
    let e = write_atomic(&path, |out| {
        out.write_all(&[7; 5000])?;
        Err(std::io::Error::other("the disk is full"))
    })
    .unwrap_err();
    assert!(matches!(e.problem, Problem::CannotWrite { .. }), "{e:?}");
    assert!(e.to_string().contains("unchanged"), "{e}");
    assert_eq!(std::fs::read(&path).unwrap(), old);
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "no temporary file left behind");
    // A missing folder, a folder, a device: refused, nothing created.
    let e = write_atomic(&dir.path().join("no/such/dir/m"), |_| Ok(())).unwrap_err();
    assert!(matches!(e.problem, Problem::NoFolder { .. }), "{e:?}");
    let e = write_atomic(dir.path(), |_| Ok(())).unwrap_err();
    assert_eq!(e.problem, Problem::NotAFile(FileKind::Folder));
    let e = write_atomic(Path::new("/dev/null"), |_| Ok(())).unwrap_err();
    assert_eq!(e.problem, Problem::NotAFile(FileKind::Device));
    assert!(Path::new("/dev/null").exists());
    // The app's exports go through the same writer.
    let text =
        backprop_viz::app::files::write_file(&dir.path().join("no/x.csv"), b"a").unwrap_err();
    assert!(text.contains("does not exist"), "{text}");
    // A successful save keeps the permissions of the file it replaces.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    io::save_model(&Network::preset("lenet", 1).unwrap(), &path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    assert_eq!(
        io::load_model(&path).unwrap().specs,
        preset_specs("lenet").unwrap()
    );
}

/// `train --save` under a file-size limit smaller than the model: the save
/// fails with a message, and the good model that was there is intact.
#[test]
fn a_save_over_the_file_size_limit_keeps_the_old_model() {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("good.safetensors");
    let good = io::model_bytes(&Network::preset("seed", 1).unwrap());
    assert!(good.len() > 12_000);
    std::fs::write(&model, &good).unwrap();
    // A run that learns (one that does not saves nothing at all): 2,000 of
    // MNIST's images take lenet well above chance.
    let mut cmd = bin();
    cmd.args([
        "train",
        "--preset",
        "lenet",
        "--epochs",
        "1",
        "--train-limit",
        "2000",
        "--save",
        s(&model),
    ]);
    // SAFETY: setrlimit is async-signal-safe; the child only then execs.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 8192,
                rlim_max: 8192,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let o = run_within(&mut cmd, Duration::from_secs(120));
    assert_user_error(&o, &["good.safetensors", "cannot write", "unchanged"]);
    assert_eq!(
        std::fs::read(&model).unwrap(),
        good,
        "the old model is intact"
    );
    // Only the model: no temporary file left behind.
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "no temporary file left behind: {left:?}");
}

/// A process killed in the middle of a large `--save`: the old model is
/// byte for byte what it was. The child is frozen (SIGSTOP) as soon as its
/// temporary file appears, so the kill lands during the write.
#[test]
fn a_save_killed_half_way_keeps_the_old_model() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    tiny_mnist(&data, 4);
    // 25 million weights: a 100 MB model, seconds to write.
    let preset = dir.path().join("wide.json");
    let wide = vec![
        spec("flatten", LayerKind::Flatten),
        spec(
            "fc1",
            LayerKind::Dense {
                inputs: 784,
                outputs: 32_000,
            },
        ),
        spec("relu", LayerKind::Relu),
        spec(
            "fc2",
            LayerKind::Dense {
                inputs: 32_000,
                outputs: 10,
            },
        ),
    ];
    std::fs::write(&preset, Network::specs_to_json(&wide)).unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let model = out.join("model.safetensors");
    let good = io::model_bytes(&Network::preset("seed", 1).unwrap());
    std::fs::write(&model, &good).unwrap();

    let mut child = bin()
        .args([
            "train",
            "--preset",
            s(&preset),
            "--optimizer",
            "sgd",
            "--epochs",
            "1",
            "--batch",
            "4",
            "--data",
            s(&data),
            "--save",
            s(&model),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let caught = loop {
        let partial = std::fs::read_dir(&out)
            .unwrap()
            .filter_map(|e| e.ok())
            .any(|e| e.file_name().to_string_lossy().ends_with(".partial"));
        if partial {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(child.id() as i32, libc::SIGSTOP) };
            break true;
        }
        if child.try_wait().unwrap().is_some() || started.elapsed() > Duration::from_secs(120) {
            break false;
        }
        std::thread::sleep(Duration::from_micros(200));
    };
    assert!(caught, "the save's temporary file never appeared");
    // Frozen mid-save: the old model is untouched, then the kill.
    assert_eq!(std::fs::read(&model).unwrap(), good);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        std::fs::read(&model).unwrap(),
        good,
        "the old model is intact after the kill"
    );
    io::load_model(&model).unwrap();
}

#[test]
fn a_command_never_writes_onto_its_own_input() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.safetensors");
    let good = io::model_bytes(&Network::preset("seed", 1).unwrap());
    std::fs::write(&model, &good).unwrap();
    assert_user_error(
        &run(&["trace", "--model", s(&model), "--out", s(&model)]),
        &["m.safetensors", "also read by this command"],
    );
    assert_eq!(std::fs::read(&model).unwrap(), good);
    // The same file by another name (a hard link) is the same file.
    let link = dir.path().join("link.safetensors");
    std::fs::hard_link(&model, &link).unwrap();
    assert_user_error(
        &run(&["trace", "--model", s(&model), "--out", s(&link)]),
        &["also read by this command"],
    );
    let preset = dir.path().join("p.json");
    let json = Network::specs_to_json(&preset_specs("seed").unwrap());
    std::fs::write(&preset, &json).unwrap();
    assert_user_error(
        &run(&["train", "--preset", s(&preset), "--save", s(&preset)]),
        &["p.json", "also read by this command"],
    );
    assert_eq!(std::fs::read_to_string(&preset).unwrap(), json);
    let data = dir.path().join("data");
    tiny_mnist(&data, 3);
    let images = data.join("t10k-images-idx3-ubyte");
    let before = std::fs::read(&images).unwrap();
    assert_user_error(
        &run(&["train", "--data", s(&data), "--save", s(&images)]),
        &["also read by this command"],
    );
    assert_eq!(std::fs::read(&images).unwrap(), before);
}

/// The output folder is checked before training, not after it.
#[test]
fn an_unwritable_target_fails_before_training() {
    let o = run(&[
        "train",
        "--epochs",
        "50",
        "--save",
        "/no/such/folder/m.safetensors",
    ]);
    assert_user_error(&o, &["/no/such/folder", "does not exist"]);
    assert!(String::from_utf8_lossy(&o.stdout).is_empty());
    let o = run(&["trace", "--out", "/no/such/folder/t.safetensors"]);
    assert_user_error(&o, &["does not exist"]);
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["train", "--save", s(dir.path())]);
    assert_user_error(&o, &["is a folder"]);
}

#[test]
fn identical_runs_write_identical_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    tiny_mnist(&data, 40);
    let mut files = Vec::new();
    for run_no in 0..2 {
        let model = dir.path().join(format!("m{run_no}.safetensors"));
        let trace = dir.path().join(format!("t{run_no}.safetensors"));
        let o = run(&[
            "train",
            "--preset",
            "lenet",
            "--epochs",
            "1",
            "--data",
            s(&data),
            "--seed",
            "5",
            "--save",
            s(&model),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let o = run(&[
            "trace",
            "--data",
            s(&data),
            "--batch",
            "4",
            "--out",
            s(&trace),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        files.push((std::fs::read(model).unwrap(), std::fs::read(trace).unwrap()));
    }
    assert!(files[0].0 == files[1].0, "models differ");
    assert!(files[0].1 == files[1].1, "traces differ");
    let session = good_session();
    assert!(io::session_bytes(&session) == io::session_bytes(&session.clone()));
    // The bytes are the safetensors format: the crate reads them.
    safetensors::SafeTensors::deserialize(&files[0].0).unwrap();
}

// ---- divergence ------------------------------------------------------------

#[test]
fn divergence_is_never_silent() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.safetensors");
    // A loss that becomes NaN: error, exit 2, nothing saved.
    let o = run(&[
        "train",
        "--optimizer",
        "sgd",
        "--lr",
        "1e30",
        "--train-limit",
        "500",
        "--epochs",
        "1",
        "--save",
        s(&model),
    ]);
    assert_user_error(&o, &["training diverged", "nothing was saved", "--lr"]);
    assert!(!model.exists());
    // A run that ends no better than chance: a warning and "diverged".
    let o = run(&[
        "train",
        "--lr",
        "50",
        "--train-limit",
        "2000",
        "--epochs",
        "1",
        "--json",
    ]);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no better than chance"), "{err}");
    let out = String::from_utf8_lossy(&o.stdout);
    let j: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(j["diverged"], true);
    // A run that learned says so too.
    let o = run(&["train", "--train-limit", "2000", "--epochs", "1", "--json"]);
    let out = String::from_utf8_lossy(&o.stdout);
    let j: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(j["diverged"], false, "{j}");
    assert!(!String::from_utf8_lossy(&o.stderr).contains("chance"));
    // --epochs 0 has its own message.
    assert_user_error(
        &run(&["train", "--epochs", "0"]),
        &["--epochs 0", "nothing would be trained"],
    );
}

// ---- inspect ----------------------------------------------------------------

#[test]
fn inspect_says_what_a_file_holds() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.safetensors");
    io::save_model(&Network::preset("lenet", 1).unwrap(), &model).unwrap();
    let o = run(&["inspect", s(&model), "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("backprop-viz-model") && out.contains("conv2"),
        "{out}"
    );
    let j: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(j["format"], "backprop-viz-model");
    assert_eq!(j["layers"].as_array().unwrap().len(), 10);
    assert_eq!(j["shapes"][3], serde_json::json!([16, 14, 14]));
    let tensors = j["tensors"].as_array().unwrap();
    assert_eq!(tensors.len(), 8);
    assert!(tensors
        .iter()
        .any(|t| t["name"] == "conv2.weight" && t["shape"] == serde_json::json!([16, 8, 3, 3])));

    let session = dir.path().join("s.safetensors");
    io::save_session(&good_session(), &session).unwrap();
    let o = run(&["inspect", s(&session), "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    let j: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(j["format"], "backprop-viz-session");
    assert_eq!(j["session"]["settings"]["batch"], 16);
    assert_eq!(j["session"]["settings"]["progress"]["batches"], 3);
    assert_eq!(j["session"]["plot_losses"], 3);

    let trace = dir.path().join("t.safetensors");
    let o = run(&["trace", "--batch", "3", "--out", s(&trace)]);
    assert!(o.status.success());
    let o = run(&["inspect", s(&trace), "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    let j: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(j["format"], "backprop-viz-trace");
    assert_eq!(j["trace"]["batch"], 3);

    // A trace whose tensors do not fit its layer list: the same check as
    // the loader, the same error.
    let t = io::read_trace(&trace).unwrap();
    let mut bad = t.clone();
    bad.layers[3].delta = Some(std::sync::Arc::new(Tensor::zeros(vec![3, 1, 14, 13])));
    let bad_path = dir.path().join("bad-trace.safetensors");
    io::write_trace(&bad, &bad_path).unwrap();
    let e = io::read_trace(&bad_path).unwrap_err();
    assert!(e.to_string().contains("conv2.delta"), "{e}");
    assert_user_error(
        &run(&["inspect", s(&bad_path)]),
        &["conv2.delta", "[3, 1, 14, 13]"],
    );

    // Not one of ours.
    let other = dir.path().join("other.safetensors");
    std::fs::write(
        &other,
        tensor_file(
            "something-else",
            &preset_specs("seed").unwrap(),
            vec![],
            &[],
        ),
    )
    .unwrap();
    assert_user_error(&run(&["inspect", s(&other)]), &["something-else"]);
    assert_user_error(
        &run(&["inspect", s(&dir.path().join("absent"))]),
        &["no such file"],
    );
}
