//! An exercise: what a student needs to work out one training step's
//! backward pass by hand, and nothing of the answers they are asked for
//! (docs/exercise/README.md). For every layer: its weights, its forward output and
//! the delta arriving at it from above (`NAME.out_grad`, the gradient of
//! the loss with respect to `NAME.out`). The teacher keeps the full trace
//! and checks the answers with `backprop-viz check`.
//!
//! Written as one safetensors file and as one `.npy` per tensor, with the
//! layer list, instructions and a NumPy starter script. [`solve`] is the
//! reference solution (the contract's formulas), used by the tests to show
//! that an exercise holds everything its answers need.

use std::collections::HashMap;
use std::path::Path;

use ndarray::{ArrayD, ArrayView2, ArrayView4, Ix2, Ix4};

use super::formulas::{below, conv_bias_grad, corr_grad, correlate, dense_grad, Norm};
use super::maxpool_delta;
use crate::engine::layers::{LayerKind, LayerSpec};
use crate::engine::trace::Trace;
use crate::engine::Tensor;
use crate::io::file::{write_bytes, write_folder_atomic, FileError, Problem};
use crate::io::handin::{npy_bytes, safetensors_from_bytes};
use crate::io::tensors::{parse, read_file, Entry, TensorFile};
use crate::io::Handed;

pub const FORMAT: &str = "backprop-viz-exercise";

/// The starter script and the instructions, as shipped (docs/exercise/).
const STARTER: &str = include_str!("../../docs/exercise/starter.py");
const INSTRUCTIONS: &str = include_str!("../../docs/exercise/README.md");

/// The exercise's tensors, in this order: `input`, `labels`, then per
/// layer `NAME.weight`, `NAME.bias` (conv and dense), `NAME.out`,
/// `NAME.out_grad`.
fn entries(trace: &Trace) -> Result<Vec<(String, Entry<'_>)>, String> {
    let labels = trace.labels.iter().map(|&l| i64::from(l)).collect();
    let mut out = vec![
        ("input".to_string(), Entry::F32(&trace.input)),
        (
            "labels".to_string(),
            Entry::I64(vec![trace.labels.len()], labels),
        ),
    ];
    for (i, (name, layer)) in trace.names.iter().zip(&trace.layers).enumerate() {
        let need = |t, what| need(t, name, what);
        if layer.weight.is_some() {
            out.push((
                format!("{name}.weight"),
                Entry::F32(need(&layer.weight, "weight")?),
            ));
            out.push((
                format!("{name}.bias"),
                Entry::F32(need(&layer.bias, "bias")?),
            ));
        }
        out.push((
            format!("{name}.out"),
            Entry::F32(need(&layer.out, "output")?),
        ));
        let from_above = match trace.layers.get(i + 1) {
            Some(above) => &above.delta,
            None => &trace.logits_delta,
        };
        out.push((
            format!("{name}.out_grad"),
            Entry::F32(need(from_above, "delta from above")?),
        ));
    }
    Ok(out)
}

fn need<'a>(
    t: &'a Option<crate::engine::Shared>,
    layer: &str,
    what: &str,
) -> Result<&'a Tensor, String> {
    t.as_deref()
        .ok_or_else(|| format!("layer {layer} has no {what} recorded"))
}

fn four<'a>(a: &'a ArrayD<f64>, layer: &str) -> Result<ArrayView4<'a, f64>, String> {
    a.view()
        .into_dimensionality::<Ix4>()
        .map_err(|_| format!("{layer}: expected a 4-D tensor"))
}

fn two<'a>(a: &'a ArrayD<f64>, layer: &str) -> Result<ArrayView2<'a, f64>, String> {
    a.view()
        .into_dimensionality::<Ix2>()
        .map_err(|_| format!("{layer}: expected a 2-D tensor"))
}

/// What an exercise's folder holds: what [`write_exercise`] writes, and the
/// `answers/` folder the starter script writes into.
pub const EXERCISE_ENTRIES: [&str; 6] = [
    "exercise.safetensors",
    "npy",
    "layers.json",
    "README.md",
    "starter.py",
    "answers",
];

/// Checks, before any work, that an exercise may take `dir`'s place: it is
/// missing, an empty folder or an earlier exercise (nothing but
/// [`EXERCISE_ENTRIES`]), and holds none of `files` (the command's inputs
/// and other outputs), which replacing it would destroy.
pub fn check_exercise_folder(dir: &Path, files: &[&Path]) -> Result<(), FileError> {
    let fail = |problem| FileError::new(dir, problem);
    match std::fs::symlink_metadata(dir) {
        Err(_) => {}
        Ok(meta) if !meta.is_dir() => return Err(fail(Problem::NotAFolder)),
        Ok(_) => {
            let entries = std::fs::read_dir(dir).map_err(|e| {
                fail(Problem::Io {
                    cause: crate::io::file::Cause::from(&e),
                })
            })?;
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if !EXERCISE_ENTRIES.contains(&name.as_str()) {
                    return Err(fail(Problem::NotAnExercise { entry: name }));
                }
            }
        }
    }
    // Where the folder is (or will be), without following it anywhere new.
    let place = |p: &Path| -> Option<std::path::PathBuf> {
        std::fs::canonicalize(p).ok().or_else(|| {
            let parent = match p.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent,
                _ => Path::new("."),
            };
            Some(std::fs::canonicalize(parent).ok()?.join(p.file_name()?))
        })
    };
    let Some(home) = place(dir) else {
        return Ok(());
    };
    for file in files {
        if place(file).is_some_and(|f| f.starts_with(&home)) {
            return Err(fail(Problem::HoldsInput {
                path: file.to_path_buf(),
            }));
        }
    }
    Ok(())
}

/// Writes the exercise as the folder `dir`: `exercise.safetensors`,
/// `npy/NAME.npy` for each tensor, `layers.json`, `README.md`,
/// `starter.py`. The folder is written beside `dir` and then takes its
/// place whole ([`write_folder_atomic`]): an earlier exercise there is
/// replaced (its answers with it, which belong to another step), never
/// mixed with this one, and kept intact if the write fails or is killed.
/// Call [`check_exercise_folder`] first.
pub fn write_exercise(trace: &Trace, dir: &Path) -> Result<Vec<String>, FileError> {
    check_exercise_folder(dir, &[])?;
    write_folder_atomic(dir, |temp| fill_exercise(trace, dir, temp))
}

/// Writes the exercise's files into the (new, empty) folder `temp`; `dir`
/// names it in errors.
fn fill_exercise(trace: &Trace, dir: &Path, temp: &Path) -> Result<Vec<String>, FileError> {
    let cannot =
        |path: &Path, e: String| FileError::new(path, Problem::CannotWrite { cause: e.into() });
    let entries = entries(trace).map_err(|e| cannot(dir, e))?;
    std::fs::create_dir(temp.join("npy")).map_err(|e| cannot(dir, e.to_string()))?;
    let specs = trace.specs();
    let file = TensorFile {
        format: FORMAT,
        specs: &specs,
        extra: vec![("batch".into(), trace.labels.len().to_string())],
        entries,
    };
    file.save(&temp.join("exercise.safetensors"))?;
    let mut names = Vec::new();
    for (name, entry) in &file.entries {
        let bytes = match entry {
            Entry::F32(t) => npy_bytes(t),
            Entry::I64(shape, values) => {
                let t = Tensor::from_shape_vec(
                    shape.clone(),
                    values.iter().map(|&v| v as f32).collect(),
                )
                .expect("labels match their shape");
                npy_bytes(&t)
            }
        };
        write_bytes(&temp.join("npy").join(format!("{name}.npy")), &bytes)?;
        names.push(name.clone());
    }
    let layers = serde_json::to_string_pretty(&specs).expect("specs serialise");
    write_bytes(&temp.join("layers.json"), layers.as_bytes())?;
    let readme = INSTRUCTIONS.replace("{LAYERS}", &layer_table(&specs, trace));
    write_bytes(&temp.join("README.md"), readme.as_bytes())?;
    write_bytes(&temp.join("starter.py"), STARTER.as_bytes())?;
    Ok(names)
}

/// The layers, one line each, with what the student hands in for it.
fn layer_table(specs: &[LayerSpec], trace: &Trace) -> String {
    let mut lines = vec![
        "| layer | kind | input x | answers to hand in |".to_string(),
        "|---|---|---|---|".to_string(),
    ];
    for (i, spec) in specs.iter().enumerate() {
        let x = trace
            .layer_input(i)
            .map(|x| format!("{:?}", x.shape()))
            .unwrap_or_default();
        let x_name = if i == 0 {
            "input".to_string()
        } else {
            format!("{}.out", specs[i - 1].name)
        };
        let answers = if spec.kind.param_shapes().is_some() {
            format!("`{0}.weight_grad`, `{0}.bias_grad`, `{0}.delta`", spec.name)
        } else {
            format!("`{}.delta`", spec.name)
        };
        let kind = match &spec.kind {
            LayerKind::Conv {
                in_channels,
                out_channels,
                kernel,
                padding,
                ..
            } => format!("conv {kernel}x{kernel}, {in_channels}→{out_channels}, padding {padding}"),
            LayerKind::Dense { inputs, outputs } => format!("dense {inputs}→{outputs}"),
            LayerKind::Maxpool { size, stride } | LayerKind::Avgpool { size, stride } => {
                let what = if matches!(spec.kind, LayerKind::Maxpool { .. }) {
                    "max pool"
                } else {
                    "average pool"
                };
                match stride.filter(|s| s != size) {
                    Some(stride) => format!("{what} {size}x{size}, stride {stride}"),
                    None => format!("{what} {size}x{size}"),
                }
            }
            other => format!("{other:?}").to_lowercase(),
        };
        lines.push(format!(
            "| `{}` | {kind} | `{x_name}` {x} | {answers} |",
            spec.name
        ));
    }
    lines.join("\n")
}

/// An exercise read back: its layers and tensors (f64).
pub struct Exercise {
    pub specs: Vec<LayerSpec>,
    pub tensors: HashMap<String, ArrayD<f64>>,
}

/// Reads `DIR/exercise.safetensors` as any untrusted file.
pub fn read_exercise(dir: &Path) -> Result<Exercise, FileError> {
    let path = dir.join("exercise.safetensors");
    let bytes = read_file(&path)?;
    let specs = parse(&path, &bytes, FORMAT)?.specs;
    let tensors = safetensors_from_bytes(&path, &bytes)?
        .into_iter()
        .map(|h| (h.name, h.values))
        .collect();
    Ok(Exercise { specs, tensors })
}

/// The reference solution: every layer's answers from the exercise alone,
/// by the contract's formulas (the same as `docs/exercise/solution.py`).
pub fn solve(ex: &Exercise) -> Result<Vec<Handed>, String> {
    let get = |name: &str| {
        ex.tensors
            .get(name)
            .ok_or_else(|| format!("the exercise has no {name}"))
    };
    let mut answers = Vec::new();
    let mut x = get("input")?.clone();
    for spec in &ex.specs {
        let name = &spec.name;
        let d = get(&format!("{name}.out_grad"))?;
        let w = ex.tensors.get(&format!("{name}.weight"));
        for (what, values) in layer_answers(spec, &x, d, w)? {
            answers.push(Handed {
                name: format!("{name}.{what}"),
                values,
            });
        }
        x = get(&format!("{name}.out"))?.clone();
    }
    Ok(answers)
}

/// One layer's right backward tensors from its input `x`, the delta `d`
/// from above and its weights: `("weight_grad" | "bias_grad" | "delta",
/// values)`.
pub fn layer_answers(
    spec: &LayerSpec,
    x: &ArrayD<f64>,
    d: &ArrayD<f64>,
    weight: Option<&ArrayD<f64>>,
) -> Result<Vec<(&'static str, ArrayD<f64>)>, String> {
    let name = &spec.name;
    let four = |a| four(a, name);
    let two = |a| two(a, name);
    let weight = || weight.ok_or_else(|| format!("{name} has no weights"));
    Ok(match &spec.kind {
        LayerKind::Conv {
            kernel,
            padding,
            stride,
            dilation,
            ..
        } => {
            let (x4, d4) = (four(x)?, four(d)?);
            let (_, _, h, w) = x4.dim();
            let spacing = (*stride, *dilation);
            vec![
                (
                    "weight_grad",
                    corr_grad(x4, d4, *kernel, *padding, spacing).into_dyn(),
                ),
                ("bias_grad", conv_bias_grad(d4).into_dyn()),
                // The full correlation with rot180(F) is the full
                // convolution with F: `below` scatters D through F itself.
                (
                    "delta",
                    below(d4, four(weight()?)?, (h, w, *padding), spacing).into_dyn(),
                ),
            ]
        }
        LayerKind::Convtranspose {
            kernel,
            padding,
            stride,
            ..
        } => {
            let (x4, d4) = (four(x)?, four(d)?);
            let (_, _, h, w) = x4.dim();
            vec![
                // dF[i,o] pairs x[i] with D[o] at the window it scattered
                // onto: the conv's weight gradient with the roles of x and
                // D exchanged.
                (
                    "weight_grad",
                    corr_grad(d4, x4, *kernel, *padding, (*stride, 1)).into_dyn(),
                ),
                ("bias_grad", conv_bias_grad(d4).into_dyn()),
                (
                    "delta",
                    correlate(d4, four(weight()?)?, *padding, *stride, (h, w)).into_dyn(),
                ),
            ]
        }
        LayerKind::Batchnorm { eps, .. } => {
            let (x4, d4) = (four(x)?, four(d)?);
            let gamma: Vec<f64> = weight()?.iter().copied().collect();
            let norm = Norm::of(x4, d4, &gamma, f64::from(*eps));
            vec![
                ("weight_grad", norm.d_gamma.clone().into_dyn()),
                ("bias_grad", norm.d_beta.clone().into_dyn()),
                ("delta", norm.delta(d4, (true, true), norm.count).into_dyn()),
            ]
        }
        LayerKind::Dense { .. } => {
            let (x2, d2) = (two(x)?, two(d)?);
            vec![
                ("weight_grad", dense_grad(x2, d2).into_dyn()),
                ("bias_grad", d2.sum_axis(ndarray::Axis(0)).into_dyn()),
                ("delta", d2.dot(&two(weight()?)?).into_dyn()),
            ]
        }
        LayerKind::Relu => vec![(
            "delta",
            ndarray::Zip::from(d)
                .and(x)
                .map_collect(|&d, &x| if x > 0.0 { d } else { 0.0 }),
        )],
        LayerKind::Sigmoid => vec![(
            "delta",
            ndarray::Zip::from(d).and(x).map_collect(|&d, &x| {
                let s = 1.0 / (1.0 + (-x).exp());
                d * s * (1.0 - s)
            }),
        )],
        LayerKind::Tanh => vec![(
            "delta",
            ndarray::Zip::from(d)
                .and(x)
                .map_collect(|&d, &x| d * (1.0 - x.tanh().powi(2))),
        )],
        LayerKind::Maxpool { .. } => {
            let window = spec.kind.pool_window().unwrap_or_default();
            vec![("delta", maxpool_delta(four(x)?, four(d)?, window))]
        }
        LayerKind::Avgpool { .. } => {
            let window = spec.kind.pool_window().unwrap_or_default();
            let share = 1.0 / (window.0 * window.0) as f64;
            vec![(
                "delta",
                super::formulas::route(four(x)?.dim(), four(d)?, window, |_, _, _| share)
                    .into_dyn(),
            )]
        }
        LayerKind::Flatten => {
            let values = d
                .as_standard_layout()
                .into_owned()
                .into_shape_with_order(x.raw_dim())
                .map_err(|_| format!("{name}: the delta does not fit the input's shape"))?;
            vec![("delta", values)]
        }
    })
}
