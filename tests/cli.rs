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

/// `trace --exercise` writes what a student needs; the reference solution
/// computed from the exercise alone passes `check` (exit 0); a mistake is
/// named in the JSON line (exit 1); bad input is exit 2 naming the file.
#[test]
fn an_exercise_round_trips_through_check() {
    use backprop_viz::check::exercise::{read_exercise, solve};
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("step.safetensors");
    let ex = dir.path().join("exercise");
    let o = run(&[
        "trace",
        "--seed",
        "2",
        "--out",
        trace.to_str().unwrap(),
        "--exercise",
        ex.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for file in [
        "README.md",
        "starter.py",
        "layers.json",
        "exercise.safetensors",
    ] {
        assert!(ex.join(file).is_file(), "{file}");
    }
    // The answers are not in it: only inputs, weights, outputs and the
    // deltas from above.
    let exercise = read_exercise(&ex).unwrap();
    assert!(exercise.tensors.contains_key("conv2.out_grad"));
    assert!(!exercise
        .tensors
        .keys()
        .any(|k| k.ends_with("_grad") && !k.ends_with("out_grad") || k.ends_with(".delta")));
    let readme = std::fs::read_to_string(ex.join("README.md")).unwrap();
    assert!(
        readme.contains("| `conv2` | conv 3x3, 1→1, padding 1 |"),
        "{readme}"
    );
    // Solve from the exercise alone, hand in as .npy files.
    let answers = dir.path().join("answers");
    std::fs::create_dir(&answers).unwrap();
    let mut files = Vec::new();
    for h in solve(&exercise).unwrap() {
        let path = answers.join(format!("{}.npy", h.name));
        let t = h.values.mapv(|v| v as f32);
        std::fs::write(&path, backprop_viz::io::handin::npy_bytes(&t)).unwrap();
        files.push(path.to_str().unwrap().to_string());
    }
    assert_eq!(files.len(), 18);
    let mut args = vec!["check", "--json", "--trace", trace.to_str().unwrap()];
    args.extend(files.iter().map(String::as_str));
    let o = run(&args);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let json = last_json(&o);
    assert_eq!(json["all_ok"], true);
    assert_eq!(json["tensors"].as_array().unwrap().len(), 18);
    // A forgotten 1/N: exit 1, named.
    let solved = solve(&exercise).unwrap();
    let dfs = solved
        .iter()
        .find(|h| h.name == "conv2.weight_grad")
        .unwrap();
    let wrong = answers.join("conv2.weight_grad.npy");
    std::fs::write(
        &wrong,
        backprop_viz::io::handin::npy_bytes(&dfs.values.mapv(|v| (v * 16.0) as f32)),
    )
    .unwrap();
    let o = run(&[
        "check",
        "--json",
        "--trace",
        trace.to_str().unwrap(),
        wrong.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let json = last_json(&o);
    assert_eq!(json["all_ok"], false);
    assert_eq!(json["tensors"][0]["diagnosis"], "missing-mean");
    assert!(json["tensors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("16 times too large"));
    // Without --json: readable lines.
    let o = run(&[
        "check",
        "--trace",
        trace.to_str().unwrap(),
        wrong.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("WRONG (missing-mean)"),
        "{}",
        stdout(&o)
    );
    // Bad input: exit 2, the file named.
    let o = run(&[
        "check",
        "--trace",
        wrong.to_str().unwrap(),
        wrong.to_str().unwrap(),
    ]);
    assert_user_error(&o, "conv2.weight_grad.npy");
    let stray = answers.join("conv9.weight_grad.npy");
    std::fs::copy(&wrong, &stray).unwrap();
    let o = run(&[
        "check",
        "--trace",
        trace.to_str().unwrap(),
        stray.to_str().unwrap(),
    ]);
    assert_user_error(&o, "no tensor called \"conv9.weight_grad\"");
    let repeated = answers.join("fc2.bias_grad.csv");
    std::fs::write(&repeated, "i0,value\n0,1\n0,2\n").unwrap();
    let o = run(&[
        "check",
        "--trace",
        trace.to_str().unwrap(),
        repeated.to_str().unwrap(),
    ]);
    assert_user_error(&o, "fc2.bias_grad.csv");
    let missing = answers.join("nothing.npy");
    let o = run(&[
        "check",
        "--trace",
        trace.to_str().unwrap(),
        missing.to_str().unwrap(),
    ]);
    assert_user_error(&o, "nothing.npy");
}

/// Batch norm and transposed convs in an exercise: the reference solution
/// worked from the exercise alone (`solve`, the contract's formulas) matches
/// every tensor of the trace, on `bn`, `updown` and a 4→2 / 2→2 transposed
/// net with batch norm between.
#[test]
fn exercises_with_batch_norm_and_transposed_convs_solve_to_the_trace() {
    use backprop_viz::check::exercise::{read_exercise, solve};
    let fixture = format!("{}/tests/fixtures/updown2.json", env!("CARGO_MANIFEST_DIR"));
    for (preset, expected) in [("bn", 24), ("updown", 13), (fixture.as_str(), 19)] {
        let dir = tempfile::tempdir().unwrap();
        let trace = dir.path().join("step.safetensors");
        let ex = dir.path().join("exercise");
        let o = run(&[
            "trace",
            "--preset",
            preset,
            "--seed",
            "2",
            "--batch",
            "4",
            "--out",
            trace.to_str().unwrap(),
            "--exercise",
            ex.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let t = backprop_viz::io::read_trace(&trace).unwrap();
        let solved = solve(&read_exercise(&ex).unwrap()).unwrap();
        assert_eq!(solved.len(), expected, "{preset}");
        for h in solved {
            let v = backprop_viz::check::check(&t, &h).unwrap();
            assert!(v.ok, "{preset} {}: {}", h.name, v.message());
        }
    }
}
