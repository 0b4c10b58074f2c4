//! The command line as users and scripts meet it: exit codes, `error:` lines,
//! `--json` on the last line, files that round-trip.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_backprop-viz"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn last_json(o: &Output) -> serde_json::Value {
    let out = stdout(o);
    let line = out.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| panic!("last line is not JSON ({e}): {out}"))
}

/// Bad input: exit code 2 and exactly one line, starting with `error:`,
/// that contains `needle`; no panic, no backtrace.
fn assert_user_error(o: &Output, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "exit code; stderr: {err}");
    assert!(err.starts_with("error:"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "{needle:?} not in {err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn help_lists_the_commands() {
    let o = run(&["--help"]);
    assert!(o.status.success());
    for command in ["gui", "train", "eval", "classify", "trace", "bench"] {
        assert!(
            stdout(&o).contains(command),
            "{command} missing from the help"
        );
    }
}

/// With no command the app opens; where there is no display at all it says
/// so in one line instead of crashing.
#[test]
fn no_arguments_without_a_display_is_a_clear_error() {
    let o = bin()
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    assert_user_error(&o, "window");
}

#[test]
fn bad_arguments_exit_2() {
    assert_user_error(&run(&["train", "--epochs", "many"]), "many");
    assert_user_error(&run(&["frobnicate"]), "frobnicate");
    assert_user_error(&run(&["train", "--optimizer", "rmsprop"]), "rmsprop");
    assert_user_error(&run(&["train", "--lr=-1"]), "--lr");
    assert_user_error(&run(&["train", "--preset", "nonexistent"]), "nonexistent");
    assert_user_error(&run(&["eval"]), "--model");
}

#[test]
fn missing_and_malformed_files_exit_2() {
    let dir = tmp();
    let missing = dir.path().join("nothing.safetensors");
    assert_user_error(
        &run(&["eval", "--model", missing.to_str().unwrap()]),
        "nothing.safetensors",
    );

    let garbage = dir.path().join("garbage.safetensors");
    std::fs::write(&garbage, b"this is not a model").unwrap();
    assert_user_error(
        &run(&["eval", "--model", garbage.to_str().unwrap()]),
        "garbage.safetensors",
    );
    assert_user_error(
        &run(&["classify", "--model", garbage.to_str().unwrap(), "x.png"]),
        "garbage.safetensors",
    );

    let picture = dir.path().join("broken.png");
    std::fs::write(&picture, b"\x89PNG\r\n\x1a\nnope").unwrap();
    assert_user_error(&run(&["classify", picture.to_str().unwrap()]), "broken.png");

    // A data folder without MNIST's files names what it looked for.
    assert_user_error(
        &run(&["train", "--data", dir.path().to_str().unwrap()]),
        "train-images",
    );
    // A truncated IDX file names the file and the problem.
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    for name in [
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ] {
        std::fs::write(data.join(name), [0u8, 0, 8, 3, 0, 0, 0, 9]).unwrap();
    }
    assert_user_error(
        &run(&["train", "--data", data.to_str().unwrap()]),
        "idx3-ubyte",
    );

    let spec = dir.path().join("bad.json");
    std::fs::write(&spec, r#"{"layers": [{"name": "f", "kind": "flatten"}, {"name": "d", "kind": "dense", "in": 10, "out": 10}]}"#).unwrap();
    assert_user_error(&run(&["train", "--preset", spec.to_str().unwrap()]), "784");
}

/// train → save → eval → classify, with `--json` everywhere.
#[test]
fn train_save_eval_classify_round_trip() {
    let dir = tmp();
    let model = dir.path().join("m.safetensors");
    let o = run(&[
        "train",
        "--preset",
        "seed",
        "--epochs",
        "1",
        "--train-limit",
        "2000",
        "--seed",
        "4",
        "--save",
        model.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let j = last_json(&o);
    for key in [
        "test_accuracy",
        "train_samples",
        "test_samples",
        "final_loss",
        "seconds",
        "samples_per_second",
    ] {
        assert!(j.get(key).is_some(), "train --json lacks {key}: {j}");
    }
    assert_eq!(j["train_samples"], 2000);
    assert_eq!(j["test_samples"], 10000);
    let accuracy = j["test_accuracy"].as_f64().unwrap();
    assert!(
        accuracy > 0.5,
        "2000 samples should teach something: {accuracy}"
    );

    let o = run(&["eval", "--model", model.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let e = last_json(&o);
    assert_eq!(
        e["test_accuracy"].as_f64().unwrap(),
        accuracy,
        "eval reproduces train's figure"
    );
    assert_eq!(e["test_samples"], 10000);
    assert!(e["seconds"].as_f64().is_some());

    let picture = dir.path().join("digit.png");
    write_test_digit(&picture);
    let o = run(&[
        "classify",
        "--model",
        model.to_str().unwrap(),
        picture.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let c = last_json(&o);
    let first = &c.as_array().unwrap()[0];
    assert_eq!(first["file"], picture.to_str().unwrap());
    let probs: Vec<f64> = first["probabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_f64().unwrap())
        .collect();
    assert_eq!(probs.len(), 10);
    assert!((probs.iter().sum::<f64>() - 1.0).abs() < 1e-4);
    assert!(first["digit"].as_u64().unwrap() < 10);
}

/// The first MNIST test image (a 7), as a big dark-on-light PNG.
fn write_test_digit(path: &Path) {
    let mnist =
        backprop_viz::data::dataset::load_dir(&backprop_viz::data::dataset::default_data_dir())
            .unwrap();
    let pixels = mnist.test.image(0);
    let img = image::GrayImage::from_fn(112, 112, |x, y| {
        image::Luma([255 - pixels[(y / 4 * 28 + x / 4) as usize]])
    });
    img.save(path).unwrap();
}

#[test]
fn classify_uses_the_shipped_model_by_default() {
    let dir = tmp();
    let picture = dir.path().join("seven.png");
    write_test_digit(&picture);
    let o = run(&["classify", picture.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(last_json(&o)[0]["digit"], 7);
}

#[test]
fn same_seed_same_numbers_whatever_the_threads() {
    let go = |threads: &str| {
        let o = run(&[
            "train",
            "--preset",
            "lenet",
            "--epochs",
            "1",
            "--train-limit",
            "640",
            "--seed",
            "9",
            "--threads",
            threads,
            "--json",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let j = last_json(&o);
        (
            j["final_loss"].as_f64().unwrap(),
            j["test_accuracy"].as_f64().unwrap(),
        )
    };
    assert_eq!(go("1"), go("2"));
}

#[test]
fn trace_writes_every_tensor() {
    let dir = tmp();
    let out: PathBuf = dir.path().join("t.safetensors");
    let o = run(&[
        "trace",
        "--preset",
        "seed",
        "--batch",
        "5",
        "--seed",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let bytes = std::fs::read(&out).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names = st.names();
    names.sort();
    for name in [
        "input",
        "labels",
        "loss",
        "logits.delta",
        "conv1.out",
        "conv1.delta",
        "conv1.weight_grad",
        "conv1.bias_grad",
        "pool2.delta",
        "flatten.delta",
        "fc2.weight",
        "fc2.bias",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    assert_eq!(st.tensor("input").unwrap().shape(), &[5, 1, 28, 28]);
    assert_eq!(
        st.tensor("labels").unwrap().dtype(),
        safetensors::Dtype::I64
    );
    assert_eq!(
        st.tensor("conv1.weight_grad").unwrap().shape(),
        &[1, 1, 3, 3]
    );
    assert_eq!(st.tensor("flatten.delta").unwrap().shape(), &[5, 1, 7, 7]);
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let meta = meta.metadata().clone().unwrap();
    assert_eq!(meta["format"], "backprop-viz-trace");
    assert_eq!(meta["version"], "1");
    assert!(meta["layers"].starts_with(r#"[{"name":"conv1","kind":"conv""#));

    let trace = backprop_viz::io::read_trace(&out).unwrap();
    assert_eq!(trace.labels.len(), 5);
    assert_eq!(trace.names.len(), 10);
}

#[test]
fn json_layer_list_as_preset() {
    let dir = tmp();
    let spec = dir.path().join("tiny.json");
    std::fs::write(&spec, r#"{"layers": [
        {"name": "conv1", "kind": "conv", "in_channels": 1, "out_channels": 2, "kernel": 5, "padding": 2, "stride": 1},
        {"name": "act1", "kind": "tanh"},
        {"name": "pool1", "kind": "avgpool", "size": 2},
        {"name": "flatten", "kind": "flatten"},
        {"name": "fc1", "kind": "dense", "in": 392, "out": 10}]}"#).unwrap();
    let o = run(&[
        "train",
        "--preset",
        spec.to_str().unwrap(),
        "--epochs",
        "1",
        "--train-limit",
        "500",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(last_json(&o)["test_accuracy"].as_f64().unwrap() > 0.3);
}
