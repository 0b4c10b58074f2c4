//! Property tests on stable Rust: valid model, trace and session files and
//! JSON presets, mutated a few thousand ways (bytes flipped, cut, appended;
//! numbers in the header and in its nested JSON replaced by edge values),
//! go through the same loaders the app and the command line use. Every
//! mutated file must end in `Ok` or a typed error — never a panic — and the
//! loader may allocate at most a bound that depends only on the file's size.
//!
//! Allocation is measured by a counting global allocator, so this file holds
//! a single test: nothing else allocates in the process while it runs.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use backprop_viz::engine::limits::{plan, MAX_ACTIVATIONS, MAX_PARAMETERS};
use backprop_viz::engine::network::{preset_specs, Network};
use backprop_viz::engine::optim::{Optimizer, OptimizerKind};
use backprop_viz::engine::stepper::Stepper;
use backprop_viz::engine::Tensor;
use backprop_viz::io::session::SessionSettings;
use backprop_viz::io::{self, Session};
use backprop_viz::training::{Progress, TrainConfig};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            let live = LIVE.fetch_add(new_size, Ordering::Relaxed) + new_size;
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` and returns its result with the most memory it held at once
/// beyond what was live before.
fn measured<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let out = f();
    (out, PEAK.load(Ordering::Relaxed).saturating_sub(base))
}

/// What a loader may take for a file of `len` bytes: a few copies of it
/// (the bytes, the parsed tensors, the network's weights and gradients)
/// plus a fixed allowance for the header and the bookkeeping.
fn bound(len: usize) -> usize {
    16 * len + (32 << 20)
}

/// A mutation of a file.
#[derive(Debug, Clone)]
enum Mutation {
    /// Overwrite the byte at this position (modulo the length).
    Byte(usize, u8),
    /// Cut the file at this position.
    Cut(usize),
    /// Append bytes.
    Append(Vec<u8>),
    /// Replace the n-th number found in the header (nested JSON included)
    /// by an edge value.
    Number(usize, Edge),
    /// Replace the n-th string in the header by another string.
    Text(usize, String),
}

#[derive(Debug, Clone, Copy)]
enum Edge {
    Zero,
    One,
    Negative,
    Big(u32),
    Max,
    Fraction,
}

impl Edge {
    fn value(self) -> serde_json::Value {
        match self {
            Edge::Zero => 0.into(),
            Edge::One => 1.into(),
            Edge::Negative => (-1).into(),
            Edge::Big(shift) => (1u64 << (shift % 64)).into(),
            Edge::Max => u64::MAX.into(),
            Edge::Fraction => 0.5.into(),
        }
    }
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let edge = prop_oneof![
        Just(Edge::Zero),
        Just(Edge::One),
        Just(Edge::Negative),
        any::<u32>().prop_map(Edge::Big),
        Just(Edge::Max),
        Just(Edge::Fraction),
    ];
    prop_oneof![
        1 => (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Mutation::Byte(at, b)),
        1 => any::<usize>().prop_map(Mutation::Cut),
        1 => prop::collection::vec(any::<u8>(), 1..64).prop_map(Mutation::Append),
        3 => (any::<usize>(), edge).prop_map(|(n, e)| Mutation::Number(n, e)),
        1 => (any::<usize>(), "[a-z0-9./_-]{0,12}").prop_map(|(n, t)| Mutation::Text(n, t)),
    ]
}

/// Walks a JSON value and the JSON held in its strings (the `layers` and
/// `session` metadata), calling `leaf` on numbers or strings by index.
fn edit_json(
    value: &mut serde_json::Value,
    edit: &mut dyn FnMut(&mut serde_json::Value) -> bool,
) -> bool {
    use serde_json::Value;
    match value {
        Value::Array(items) => items.iter_mut().any(|v| edit_json(v, edit)),
        Value::Object(map) => map.values_mut().any(|v| edit_json(v, edit)),
        Value::String(text) => {
            if let Ok(mut inner) = serde_json::from_str::<Value>(text) {
                if inner.is_array() || inner.is_object() {
                    let done = edit_json(&mut inner, edit);
                    if done {
                        *text = inner.to_string();
                    }
                    return done;
                }
            }
            edit(value)
        }
        _ => edit(value),
    }
}

/// Applies a `Number` or `Text` mutation to the n-th number or string of a
/// JSON value (counting through nested JSON).
fn edit_nth(value: &mut serde_json::Value, m: &Mutation) {
    let (Mutation::Number(n, _) | Mutation::Text(n, _)) = m else {
        return;
    };
    let kind = |v: &serde_json::Value| {
        matches!(
            (m, v),
            (Mutation::Number(..), serde_json::Value::Number(_))
                | (Mutation::Text(..), serde_json::Value::String(_))
        )
    };
    // First count the candidates, then change the chosen one.
    let mut count = 0usize;
    edit_json(value, &mut |v| {
        count += usize::from(kind(v));
        false
    });
    if count == 0 {
        return;
    }
    let mut seen = 0usize;
    edit_json(value, &mut |v| {
        if !kind(v) {
            return false;
        }
        seen += 1;
        if seen - 1 != n % count {
            return false;
        }
        *v = match m {
            Mutation::Number(_, edge) => edge.value(),
            Mutation::Text(_, text) => text.clone().into(),
            _ => unreachable!("checked above"),
        };
        true
    });
}

/// Applies `m` to a safetensors file (header edits keep the data part).
fn mutate_file(bytes: &[u8], m: &Mutation) -> Vec<u8> {
    let mut out = bytes.to_vec();
    match m {
        Mutation::Byte(at, b) => {
            let at = at % out.len();
            out[at] = *b;
        }
        Mutation::Cut(at) => out.truncate(at % out.len()),
        Mutation::Append(extra) => out.extend_from_slice(extra),
        Mutation::Number(..) | Mutation::Text(..) => {
            let len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
            let mut header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + len]).unwrap();
            edit_nth(&mut header, m);
            let mut text = serde_json::to_vec(&header).unwrap();
            text.resize(text.len().next_multiple_of(8), b' ');
            out = (text.len() as u64).to_le_bytes().to_vec();
            out.extend(text);
            out.extend_from_slice(&bytes[8 + len..]);
        }
    }
    out
}

fn stepped() -> Stepper {
    let mut s = Stepper::new(
        Network::preset("seed", 3).unwrap(),
        Optimizer::new(OptimizerKind::Adam, 0.01),
    );
    s.record = true;
    let x = Tensor::from_shape_fn(vec![2, 1, 28, 28], |d| {
        ((d[2] * 5 + d[3] + d[0]) % 9) as f32 / 8.0
    });
    s.train_batch(x, vec![4, 9]);
    s
}

fn session_bytes(s: &Stepper) -> Vec<u8> {
    io::session_bytes(&Session {
        network: s.network.clone(),
        optimizer: s.optimizer.clone(),
        settings: SessionSettings {
            config: TrainConfig {
                preset: "seed".into(),
                seed: 3,
                lr: 0.01,
                batch: 2,
                optimizer: OptimizerKind::Adam,
                freeze_conv: false,
            },
            optimizer_steps: 1,
            progress: Progress {
                epoch: 0,
                cursor: 2,
                batches: 1,
                seen: 2,
            },
            epoch_correct: 1,
            epoch_seen: 2,
        },
        losses: vec![(1, 2.2)],
        epochs: vec![(1, 0.5, 0.25)],
        predictions: None,
        predictions_unread: None,
    })
}

type Loader = fn(&[u8]) -> Result<(), io::FileError>;

#[test]
fn mutated_files_end_in_ok_or_a_typed_error_within_a_memory_bound() {
    let s = stepped();
    let files: Vec<(&str, Vec<u8>, Loader)> = vec![
        ("model", io::model_bytes(&s.network), |b| {
            io::read_model(Path::new("m"), b).map(|_| ())
        }),
        (
            "lenet model",
            io::model_bytes(&Network::preset("lenet", 1).unwrap()),
            |b| io::read_model(Path::new("m"), b).map(|_| ()),
        ),
        ("trace", io::trace_bytes(s.trace()).unwrap(), |b| {
            io::trace::trace_from_bytes(Path::new("t"), b).map(|_| ())
        }),
        ("session", session_bytes(&s), |b| {
            io::read_session(Path::new("s"), b).map(|_| ())
        }),
    ];
    let cases = 2500;
    let mut summary = Vec::new();
    for (what, valid, load) in &files {
        load(valid).unwrap_or_else(|e| panic!("the valid {what} loads: {e}"));
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        let (ok, refused, worst) = (Cell::new(0usize), Cell::new(0usize), Cell::new(0usize));
        runner
            .run(&prop::collection::vec(mutation(), 1..4), |mutations| {
                let mut bytes = valid.clone();
                for m in &mutations {
                    if bytes.len() < 8 {
                        break;
                    }
                    if matches!(m, Mutation::Number(..) | Mutation::Text(..))
                        && safetensors::SafeTensors::read_metadata(&bytes).is_err()
                    {
                        continue;
                    }
                    bytes = mutate_file(&bytes, m);
                }
                if bytes.is_empty() {
                    bytes.push(0);
                }
                let (result, peak) = measured(|| catch_unwind(AssertUnwindSafe(|| load(&bytes))));
                let result = result.map_err(|_| {
                    TestCaseError::fail(format!("{what}: panicked on {mutations:?}"))
                })?;
                prop_assert!(
                    peak <= bound(bytes.len()),
                    "{what}: {peak} bytes allocated for a file of {} ({mutations:?})",
                    bytes.len()
                );
                worst.set(worst.get().max(peak));
                match result {
                    Ok(()) => ok.set(ok.get() + 1),
                    Err(e) => {
                        // A typed error that says where and what, in one line.
                        let text = e.to_string();
                        let prefix = format!("{}: ", e.file.display());
                        prop_assert!(text.starts_with(&prefix), "{}", text);
                        prop_assert!(!text.contains('\n') || text.len() < 2000, "{text}");
                        refused.set(refused.get() + 1);
                    }
                }
                Ok(())
            })
            .unwrap();
        summary.push(format!(
            "{what}: {} loaded, {} refused, worst {} bytes",
            ok.get(),
            refused.get(),
            worst.get()
        ));
    }

    // JSON presets: the parser and the one validation, with the same bound.
    let mut runner = TestRunner::new(Config {
        cases: cases * 2,
        failure_persistence: None,
        ..Config::default()
    });
    let presets: Vec<String> = ["seed", "lenet"]
        .iter()
        .map(|p| Network::specs_to_json(&preset_specs(p).unwrap()))
        .collect();
    let edge = prop_oneof![
        Just(Edge::Zero),
        Just(Edge::One),
        Just(Edge::Negative),
        any::<u32>().prop_map(Edge::Big),
        Just(Edge::Max),
        Just(Edge::Fraction),
    ];
    let json_mutation = prop_oneof![
        1 => (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Mutation::Byte(at, b)),
        1 => any::<usize>().prop_map(Mutation::Cut),
        3 => (any::<usize>(), edge).prop_map(|(n, e)| Mutation::Number(n, e)),
        1 => (
            any::<usize>(),
            "(conv|relu|maxpool|avgpool|flatten|dense|tanh|sigmoid|x)"
        )
            .prop_map(|(n, t)| Mutation::Text(n, t)),
    ];

    let (ok, refused) = (Cell::new(0usize), Cell::new(0usize));
    runner
        .run(
            &(0..2usize, prop::collection::vec(json_mutation, 1..4)),
            |(which, mutations)| {
                let mut text = presets[which].clone();
                for m in &mutations {
                    text = match m {
                        Mutation::Byte(at, b) => {
                            let mut bytes = text.into_bytes();
                            let at = at % bytes.len().max(1);
                            if let Some(x) = bytes.get_mut(at) {
                                *x = *b;
                            }
                            String::from_utf8_lossy(&bytes).into_owned()
                        }
                        Mutation::Cut(at) => {
                            let at = at % text.len().max(1);
                            text.char_indices()
                                .take_while(|(i, _)| *i < at)
                                .map(|(_, c)| c)
                                .collect()
                        }
                        Mutation::Number(..) | Mutation::Text(..) => {
                            let Ok(mut value) = serde_json::from_str::<serde_json::Value>(&text)
                            else {
                                continue;
                            };
                            edit_nth(&mut value, m);
                            value.to_string()
                        }
                        Mutation::Append(_) => text,
                    };
                }
                let (result, peak) = measured(|| {
                    catch_unwind(|| Network::specs_from_json(&text).and_then(|specs| plan(&specs)))
                });
                let result = result
                    .map_err(|_| TestCaseError::fail(format!("preset panicked on {text}")))?;
                prop_assert!(peak <= bound(text.len()), "{peak} bytes for {text}");
                match result {
                    Ok(p) => {
                        prop_assert!(
                            p.parameters <= MAX_PARAMETERS && p.activations <= MAX_ACTIVATIONS
                        );
                        prop_assert_eq!(p.shapes.last().cloned(), Some(vec![10]));
                        let _ = p.largest_batch();
                        ok.set(ok.get() + 1);
                    }
                    Err(e) => {
                        prop_assert!(!e.to_string().is_empty());
                        refused.set(refused.get() + 1);
                    }
                }
                Ok(())
            },
        )
        .unwrap();
    summary.push(format!(
        "preset: {} valid, {} refused",
        ok.get(),
        refused.get()
    ));
    eprintln!("{}", summary.join("\n"));
}
