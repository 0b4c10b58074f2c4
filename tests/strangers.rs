//! What a stranger can hand over since links, hand-ins and exercises exist,
//! tried as the stranger would: a 200 MB CSV, a trace holding NaN, a raw
//! IDX file of the size limit with bytes after its data, exercises written
//! onto their own inputs, killed half way or into a folder of another
//! step, a run that learns nothing saved over a good model, a batch whose
//! trace nothing could read back, leftovers of killed saves, names of
//! 100,000 characters. Each ends as the contract says: one `error:` line
//! and exit 2, the old file intact, memory bounded by the step, not the
//! file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use backprop_viz::engine::network::Network;
use backprop_viz::engine::Tensor;

mod cli_common;
use cli_common::{assert_user_error, bin, run, run_within, s};

/// Runs the program with its address space limited to `limit_mb` (as
/// `ulimit -v`): an allocation beyond it fails (the process aborts), so a
/// run that ends normally stayed within it.
fn run_limited(limit_mb: u64, args: &[&str]) -> Output {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit -v {}; exec \"$0\" \"$@\"", limit_mb * 1024))
        .arg(env!("CARGO_BIN_EXE_backprop-viz"))
        .args(args);
    run_within(&mut cmd, Duration::from_secs(180))
}

/// A trace of `seed`'s first batch of 16.
fn seed_trace(dir: &Path) -> PathBuf {
    let out = dir.join("step.safetensors");
    let o = run(&["trace", "--preset", "seed", "--out", s(&out)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out
}

#[test]
fn a_200_mb_csv_is_refused_within_a_small_memory_bound() {
    let dir = tempfile::tempdir().unwrap();
    let trace = seed_trace(dir.path());
    // The file: a one-column CSV (a scalar's layout) of 10⁸ rows.
    let csv = dir.path().join("conv2.weight_grad.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&csv).unwrap());
    f.write_all(b"value\n").unwrap();
    let chunk = "1\n".repeat(1 << 20);
    for _ in 0..(100_000_000 / (1 << 20)) {
        f.write_all(chunk.as_bytes()).unwrap();
    }
    f.flush().unwrap();
    drop(f);
    assert!(std::fs::metadata(&csv).unwrap().len() > 190_000_000);
    // Once it cost 10-20x its size (an allocation of 4 GiB); now memory
    // follows the step: 1 GB of address space is plenty.
    let o = run_limited(1024, &["check", "--trace", s(&trace), s(&csv)]);
    assert_user_error(&o, &["more values than any tensor of this step"]);

    // A CSV of the right tensor, with one more row than it has elements,
    // and one whose rows claim a huge extent: refused as well, cheaply.
    let rows = dir.path().join("conv2.bias_grad.csv");
    std::fs::write(&rows, "i0,value\n0,1\n1,2\n").unwrap();
    let o = run(&["check", "--trace", s(&trace), s(&rows)]);
    assert!(
        o.status.code() == Some(1),
        "a wrong shape is a wrong answer"
    );
    let huge = dir.path().join("conv2.weight_grad.csv");
    std::fs::write(
        &huge,
        "i0,i1,i2,i3,value\n0,0,0,0,1\n9999,9999,9999,9999,1\n",
    )
    .unwrap();
    let o = run_limited(1024, &["check", "--trace", s(&trace), s(&huge)]);
    assert_user_error(&o, &["missing or repeated"]);
}

/// A model whose weights are finite but overflow the forward pass.
fn overflowing_model(dir: &Path) -> PathBuf {
    let mut net = Network::preset("seed", 1).unwrap();
    let i = net.specs.iter().position(|s| s.name == "fc1").unwrap();
    let (w, _) = net.layers[i].params_mut().unwrap();
    w.value = std::sync::Arc::new(w.value.mapv(|_| 3e38));
    let path = dir.join("overflow.safetensors");
    backprop_viz::io::save_model(&net, &path).unwrap();
    path
}

/// The tensors of a safetensors file and its metadata, with `edit` applied
/// to the tensor `name`.
fn edited(path: &Path, name: &str, edit: impl Fn(&mut [f32])) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap();
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut tensors: Vec<(String, safetensors::Dtype, Vec<usize>, Vec<u8>)> = st
        .tensors()
        .into_iter()
        .map(|(n, v)| (n, v.dtype(), v.shape().to_vec(), v.data().to_vec()))
        .collect();
    let t = tensors.iter_mut().find(|t| t.0 == name).unwrap();
    let mut values: Vec<f32> =
        t.3.chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
    edit(&mut values);
    t.3 = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let views: Vec<(String, safetensors::tensor::TensorView)> = tensors
        .iter()
        .map(|(n, d, s, b)| {
            (
                n.clone(),
                safetensors::tensor::TensorView::new(*d, s.clone(), b).unwrap(),
            )
        })
        .collect();
    safetensors::serialize(views, meta.metadata().clone()).unwrap()
}

#[test]
fn a_trace_holding_nan_or_inf_is_never_written_read_or_matched() {
    let dir = tempfile::tempdir().unwrap();
    // `trace` of a model that overflows: refused, nothing written.
    let model = overflowing_model(dir.path());
    let out = dir.path().join("nan.safetensors");
    let o = run(&[
        "trace",
        "--model",
        s(&model),
        "--out",
        s(&out),
        "--exercise",
        s(&dir.path().join("ex")),
    ]);
    assert_user_error(&o, &["NaN or infinite", "diverges", "nothing was written"]);
    assert!(!out.exists() && !dir.path().join("ex").exists());

    // An edited trace with one infinity (and one with a NaN): inspect and
    // check refuse it, whatever is handed in.
    let trace = seed_trace(dir.path());
    for (value, what) in [(f32::INFINITY, "inf"), (f32::NAN, "nan")] {
        let bad = dir.path().join(format!("{what}.safetensors"));
        std::fs::write(&bad, edited(&trace, "conv2.weight_grad", |v| v[4] = value)).unwrap();
        let o = run(&["inspect", s(&bad)]);
        assert_user_error(&o, &["conv2.weight_grad", "NaN or infinite"]);
        // The trace against itself, as a student could hand in any file.
        let o = run(&["check", "--trace", s(&bad), s(&trace)]);
        assert_user_error(&o, &["NaN or infinite"]);
    }
}

#[test]
fn a_raw_idx_file_with_trailing_bytes_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("mnist");
    std::fs::create_dir(&data).unwrap();
    // A sparse file of exactly the 1 GiB limit whose header promises all
    // but 100 of its bytes: once read into a buffer that doubled (2 GB),
    // now refused from its length, before a byte of data is read.
    let images = data.join("train-images-idx3-ubyte");
    let count = ((1u64 << 30) - 16 - 100) / 784;
    let mut f = std::fs::File::create(&images).unwrap();
    let mut header = vec![0, 0, 8, 3];
    for d in [count as u32, 28, 28] {
        header.extend_from_slice(&d.to_be_bytes());
    }
    f.write_all(&header).unwrap();
    f.set_len(1 << 30).unwrap();
    drop(f);
    let labels = data.join("train-labels-idx1-ubyte");
    let mut l = vec![0, 0, 8, 1];
    l.extend_from_slice(&(count as u32).to_be_bytes());
    l.resize(8 + count as usize, 1);
    std::fs::write(&labels, &l).unwrap();
    for name in ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
        std::fs::copy(Path::new("data/mnist").join(name), data.join(name)).unwrap();
    }
    let o = run_limited(
        1024,
        &[
            "train",
            "--data",
            s(&data),
            "--epochs",
            "1",
            "--train-limit",
            "64",
        ],
    );
    assert_user_error(&o, &["train-images-idx3-ubyte", "trailing bytes"]);
}

/// Every file of an exercise folder, relative, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().display().to_string());
            }
        }
    }
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn an_exercise_never_writes_onto_its_inputs_outputs_or_a_foreign_folder() {
    let dir = tempfile::tempdir().unwrap();
    let ex = dir.path().join("ex");
    let o = run(&["trace", "--preset", "seed", "--exercise", s(&ex)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let before = listing(&ex);
    assert!(before.contains(&"npy/conv1.weight.npy".to_string()));
    let model_in_ex = ex.join("npy/conv1.weight.npy");
    let model_bytes = std::fs::read(&model_in_ex).unwrap();
    // --model inside the folder: refused, the folder as it was.
    let o = run(&["trace", "--model", s(&model_in_ex), "--exercise", s(&ex)]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(std::fs::read(&model_in_ex).unwrap(), model_bytes);
    // --out inside the folder (the exercise's own file, or a new one).
    for out in [
        ex.join("exercise.safetensors"),
        ex.join("npy/input.npy"),
        ex.join("t.safetensors"),
    ] {
        let o = run(&[
            "trace",
            "--preset",
            "seed",
            "--out",
            s(&out),
            "--exercise",
            s(&ex),
        ]);
        assert_user_error(&o, &["reads or writes"]);
    }
    assert_eq!(listing(&ex), before);
    // A folder holding anything else is no exercise: never replaced.
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    std::fs::write(home.join("thesis.tex"), "years of work").unwrap();
    let o = run(&["trace", "--preset", "seed", "--exercise", s(&home)]);
    assert_user_error(&o, &["thesis.tex", "not part of an exercise"]);
    assert_eq!(
        std::fs::read(home.join("thesis.tex")).unwrap(),
        b"years of work"
    );

    // A reused folder: the new step replaces the old whole; the old
    // network's files and the answers to the old step are gone.
    std::fs::create_dir(ex.join("answers")).unwrap();
    std::fs::write(ex.join("answers/conv1.delta.npy"), "old").unwrap();
    let o = run(&["trace", "--preset", "lenet", "--exercise", s(&ex)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let after = listing(&ex);
    let exercise = backprop_viz::check::exercise::read_exercise(&ex).unwrap();
    let mut expected: Vec<String> = exercise
        .tensors
        .keys()
        .map(|n| format!("npy/{n}.npy"))
        .chain(
            [
                "README.md",
                "exercise.safetensors",
                "layers.json",
                "starter.py",
            ]
            .map(String::from),
        )
        .collect();
    expected.sort();
    assert_eq!(after, expected, "nothing stale");
    // No temporary left beside it.
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".partial"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_killed_exercise_export_leaves_one_whole_exercise() {
    use backprop_viz::check::exercise::read_exercise;
    let dir = tempfile::tempdir().unwrap();
    let ex = dir.path().join("ex");
    let export = |seed: &str| {
        bin()
            .args([
                "trace", "--preset", "lenet", "--batch", "256", "--seed", seed,
            ])
            .args(["--exercise", s(&ex)])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    assert!(export("1").wait().unwrap().success());
    let mut kills = 0;
    for round in 0..24u64 {
        let seed = if round % 2 == 0 { "2" } else { "1" };
        let mut child = export(seed);
        // Kill it somewhere between starting and finishing (an export
        // here takes about half a second, its writing the last part).
        std::thread::sleep(Duration::from_millis(100 + 16 * round));
        if child.try_wait().unwrap().is_none() {
            unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
            kills += 1;
        }
        let _ = child.wait();
        // Whatever was killed: the folder is one whole exercise, every
        // .npy the same step as exercise.safetensors.
        let e = read_exercise(&ex).unwrap();
        for (name, values) in &e.tensors {
            let npy = std::fs::read(ex.join("npy").join(format!("{name}.npy"))).unwrap();
            let a = backprop_viz::io::handin::npy_from_bytes(Path::new("a.npy"), &npy).unwrap();
            assert_eq!(&a, values, "round {round}: {name} from another step");
        }
    }
    assert!(kills > 0, "no export was killed");
    // The next export removes what the killed ones left.
    assert!(export("3").wait().unwrap().success());
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "ex")
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn a_run_that_learns_nothing_never_replaces_a_good_model() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.safetensors");
    backprop_viz::io::save_model(&Network::preset("seed", 3).unwrap(), &good).unwrap();
    let before = std::fs::read(&good).unwrap();
    let o = run(&[
        "train",
        "--preset",
        "seed",
        "--epochs",
        "1",
        "--train-limit",
        "2000",
        "--lr",
        "1e6",
        "--save",
        s(&good),
        "--json",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("unchanged") || err.contains("nothing was saved"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&good).unwrap(),
        before,
        "the good model stays"
    );
    if o.status.success() {
        let json: serde_json::Value =
            serde_json::from_str(String::from_utf8_lossy(&o.stdout).lines().last().unwrap())
                .unwrap();
        assert_eq!(json["diverged"], true);
        assert_eq!(json["saved"], serde_json::Value::Null);
    }
}

#[test]
fn trace_refuses_a_batch_whose_trace_could_not_be_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("big.safetensors");
    let o = run(&[
        "trace",
        "--preset",
        "lenet",
        "--batch",
        "7000",
        "--out",
        s(&out),
    ]);
    assert_user_error(
        &o,
        &["--batch 7000", "largest batch whose trace can be read"],
    );
    assert!(!out.exists());
}

#[test]
fn leftovers_of_killed_saves_are_removed_by_the_next_save() {
    let dir = tempfile::tempdir().unwrap();
    // A process that has ended: its pid owns the leftovers.
    let mut gone = Command::new("true").spawn().unwrap();
    gone.wait().unwrap();
    let dead = dir
        .path()
        .join(format!(".model.safetensors.{}-0.partial", gone.id()));
    std::fs::write(&dead, vec![0u8; 1 << 20]).unwrap();
    let dead_folder = dir.path().join(format!(".ex.{}-3.partial", gone.id()));
    std::fs::create_dir(&dead_folder).unwrap();
    std::fs::write(dead_folder.join("input.npy"), "x").unwrap();
    // One of a running save (this test's own process) stays, as does a
    // file that merely looks alike.
    let live = dir
        .path()
        .join(format!(".other.{}-0.partial", std::process::id()));
    std::fs::write(&live, "in use").unwrap();
    let other = dir.path().join(".notes.partial");
    std::fs::write(&other, "mine").unwrap();
    let out = dir.path().join("step.safetensors");
    let o = run(&["trace", "--preset", "seed", "--out", s(&out)]);
    assert!(o.status.success());
    assert!(!dead.exists() && !dead_folder.exists());
    assert!(live.exists() && other.exists());
}

#[test]
fn names_of_100_000_characters_give_one_short_error_line() {
    let dir = tempfile::tempdir().unwrap();
    let trace = seed_trace(dir.path());
    let name = "x".repeat(100_000);
    let t = Tensor::zeros(vec![3]);
    let bytes = safetensors::serialize(
        [(
            name.as_str(),
            safetensors::tensor::TensorView::new(
                safetensors::Dtype::F32,
                vec![3],
                bytemuck_f32(&t),
            )
            .unwrap(),
        )],
        None,
    )
    .unwrap();
    let mine = dir.path().join("mine.safetensors");
    std::fs::write(&mine, &bytes).unwrap();
    let o = run(&["check", "--trace", s(&trace), s(&mine)]);
    assert_user_error(&o, &["no tensor called", "…"]);
    assert!(o.stderr.len() < 1000, "{} bytes", o.stderr.len());
    // The same name in a dtype check refuses, as short.
    let bad_dtype = safetensors::serialize(
        [(
            name.as_str(),
            safetensors::tensor::TensorView::new(safetensors::Dtype::U8, vec![3], &[1, 2, 3])
                .unwrap(),
        )],
        None,
    )
    .unwrap();
    std::fs::write(&mine, &bad_dtype).unwrap();
    let o = run(&["check", "--trace", s(&trace), s(&mine)]);
    assert_user_error(&o, &["…"]);
    assert!(o.stderr.len() < 1000, "{} bytes", o.stderr.len());
}

fn bytemuck_f32(t: &Tensor) -> &[u8] {
    let s = t.as_slice().unwrap();
    // SAFETY: f32 has no padding and any byte is a valid u8.
    unsafe { std::slice::from_raw_parts(s.as_ptr().cast::<u8>(), std::mem::size_of_val(s)) }
}

#[test]
fn a_numpy_header_is_read_as_numpy_reads_it() {
    use backprop_viz::io::handin::npy_from_bytes;
    let npy = |dict: &str, values: &[f32]| {
        let mut f = b"\x93NUMPY\x01\x00".to_vec();
        let mut dict = dict.to_string();
        while !(10 + dict.len() + 1).is_multiple_of(64) {
            dict.push(' ');
        }
        dict.push('\n');
        f.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        f.extend_from_slice(dict.as_bytes());
        for v in values {
            f.extend_from_slice(&v.to_le_bytes());
        }
        f
    };
    let nine = [0.5f32; 9];
    // A key inside a string is text, and a fourth key is refused (NumPy:
    // "Header does not contain the correct keys").
    let tricked = npy(
        "{'note': \"'shape': (9,)\", 'descr': '<f4', 'fortran_order': False, 'shape': (3, 3), }",
        &nine,
    );
    assert!(npy_from_bytes(Path::new("a.npy"), &tricked).is_err());
    let twice = npy(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (9,), 'shape': (3, 3), }",
        &nine,
    );
    assert!(npy_from_bytes(Path::new("a.npy"), &twice).is_err());
    // `(9)` is the integer 9 in Python, not a shape.
    let int = npy(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (9), }",
        &nine,
    );
    assert!(npy_from_bytes(Path::new("a.npy"), &int).is_err());
    // What NumPy writes reads, in any key order and quoting.
    for dict in [
        "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 3), }",
        "{\"shape\": (3,3), \"fortran_order\": False, \"descr\": \"<f4\"}",
    ] {
        let a = npy_from_bytes(Path::new("a.npy"), &npy(dict, &nine)).unwrap();
        assert_eq!(a.shape(), [3, 3], "{dict}");
    }
    let scalar = npy(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (), }",
        &[2.0],
    );
    assert_eq!(
        npy_from_bytes(Path::new("a.npy"), &scalar).unwrap().shape(),
        [] as [usize; 0]
    );
}
