//! `backprop-viz bench`: training throughput per preset at batch 64 on one
//! thread and on all cores, and single-image inference latency.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use super::{defaults, network_from_preset, thread_pool, training_set, Result};
const BATCH: usize = crate::training::BENCH_BATCH;
/// How long each throughput measurement trains (after a warm-up).
const TRAIN_TIME: Duration = Duration::from_secs(3);
const INFER_RUNS: usize = 3000;

/// Samples per second training `preset` with plain SGD (as the PyTorch
/// comparison in the README) on `threads` threads.
fn train_throughput(
    preset: &str,
    threads: usize,
    data: &Arc<crate::data::dataset::Dataset>,
) -> Result<f64> {
    let pool = thread_pool(Some(threads))?;
    let net = network_from_preset(preset, defaults::SEED)?;
    Ok(pool.install(|| {
        crate::training::throughput(net, data.clone(), BATCH, defaults::SEED, TRAIN_TIME)
    }))
}

/// Median microseconds to classify one image, on one thread.
fn inference_us(preset: &str, data: &crate::data::dataset::Dataset) -> Result<f64> {
    let pool = thread_pool(Some(1))?;
    let net = network_from_preset(preset, defaults::SEED)?;
    let inputs: Vec<_> = (0..64)
        .map(|i| data.batch_input(&[i % data.len()]))
        .collect();
    Ok(pool.install(|| {
        let mut times = Vec::with_capacity(INFER_RUNS);
        for run in 0..INFER_RUNS + 100 {
            let started = Instant::now();
            let logits = net.forward(&inputs[run % inputs.len()]);
            std::hint::black_box(logits);
            if run >= 100 {
                times.push(started.elapsed().as_secs_f64() * 1e6);
            }
        }
        times.sort_by(f64::total_cmp);
        times[times.len() / 2]
    }))
}

/// Frame times of the app drawn headless at 1600x1000 while its worker
/// trains at full speed: `(median, p95)` in milliseconds. Each frame is
/// egui's whole pass (layout, widgets, painting) plus tessellation; only the
/// GPU upload is missing.
fn ui_frame_ms(frames: usize) -> Result<(f64, f64)> {
    use crate::app::{default_config, BackpropApp, UiCommand};
    let data = Arc::new(super::load_data(&None)?);
    let mut app = BackpropApp::with_repaint(default_config(), None, data, "bench".into(), || {});
    let ctx = egui::Context::default();
    let input = |t: f64| egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1600.0, 1000.0),
        )),
        time: Some(t),
        ..Default::default()
    };
    app.command(UiCommand::SetSpeed(crate::app::worker::Speed::Max));
    app.command(UiCommand::Run);
    let started = Instant::now();
    let mut times = Vec::with_capacity(frames);
    for frame in 0..frames + 30 {
        let t0 = Instant::now();
        let output = ctx.run_ui(input(started.elapsed().as_secs_f64()), |ui| app.ui_root(ui));
        let primitives = ctx.tessellate(output.shapes, output.pixels_per_point);
        std::hint::black_box(primitives);
        if frame >= 30 {
            times.push(t0.elapsed().as_secs_f64() * 1e3);
        }
        // A 60 Hz display: the UI draws a frame every 16.7 ms at most.
        std::thread::sleep(Duration::from_millis(16).saturating_sub(t0.elapsed()));
    }
    app.command(UiCommand::Pause);
    let _ = ctx.run_ui(input(started.elapsed().as_secs_f64()), |ui| app.ui_root(ui));
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], times[times.len() * 95 / 100]))
}

/// PyTorch's figures from `tools/torch_bench.py`'s JSON line: training
/// samples/s by `PRESET@THREADS`, inference µs by preset.
struct Torch {
    train: Map<String, Value>,
    infer: Map<String, Value>,
}

fn read_torch(path: &std::path::Path) -> Result<Torch> {
    let bytes = crate::io::file::read_bounded(path, crate::io::file::MAX_PRESET_BYTES)?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| super::fail(format!("{}: not JSON ({e})", path.display())))?;
    let part = |key: &str| {
        value
            .get(key)
            .and_then(Value::as_object)
            .cloned()
            .ok_or_else(|| super::fail(format!("{}: no \"{key}\" object", path.display())))
    };
    Ok(Torch {
        train: part("train_samples_per_second")?,
        infer: part("infer_us_single")?,
    })
}

/// A time in µs as a rate (what [`ratio`] compares), or null.
fn per_us(us: &Value) -> Value {
    json!(us.as_f64().filter(|t| *t > 0.0).map(|t| 1.0 / t))
}

/// `ours / theirs` (a speed-up: for times, pass them the other way round),
/// when PyTorch measured the figure.
fn ratio(ours: f64, theirs: Option<&Value>) -> Option<f64> {
    let theirs = theirs?.as_f64().filter(|t| *t > 0.0 && t.is_finite())?;
    Some(ours / theirs)
}

pub fn run(as_json: bool, torch: Option<&std::path::Path>) -> Result<()> {
    let torch = torch.map(read_torch).transpose()?;
    let mut vs = Map::new();
    let data = Arc::new(training_set(&None)?.limited(20_000));
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mut all_cores = Map::new();
    let mut one_thread = Map::new();
    let mut infer = Map::new();
    for preset in crate::engine::network::PRESETS {
        let single = train_throughput(preset, 1, &data)?;
        let multi = train_throughput(preset, cores, &data)?;
        let us = inference_us(preset, &data)?;
        if !as_json {
            println!(
                "{preset:>7}: train {single:>9.0} samples/s on 1 thread, {multi:>9.0} on {cores}; inference {us:.1} µs/image"
            );
        }
        if let Some(t) = &torch {
            let at = |threads: usize| t.train.get(&format!("{preset}@{threads}"));
            let pairs = [
                (format!("{preset}@1"), ratio(single, at(1))),
                (format!("{preset}@{cores}"), ratio(multi, at(cores))),
                // Faster is fewer microseconds: a rate of 1/µs.
                (
                    format!("{preset} inference"),
                    ratio(1.0 / us, t.infer.get(preset).map(per_us).as_ref()),
                ),
            ];
            for (key, r) in pairs {
                if let Some(r) = r {
                    if !as_json {
                        println!("{key:>18}: {r:.2}× PyTorch");
                    }
                    vs.insert(key, json!(r));
                }
            }
        }
        one_thread.insert(preset.into(), json!(single));
        all_cores.insert(preset.into(), json!(multi));
        infer.insert(preset.into(), json!(us));
    }
    let (ui_median, ui_p95) = ui_frame_ms(300)?;
    if !as_json {
        println!(
            "    ui: frame {ui_median:.2} ms median, {ui_p95:.2} ms p95 (1600x1000, training running)"
        );
    }
    if as_json {
        println!(
            "{}",
            json!({
                "batch": BATCH,
                "cores": cores,
                "train_samples_per_second": Value::Object(all_cores),
                "train_samples_per_second_1_thread": Value::Object(one_thread),
                "infer_us_single": Value::Object(infer),
                "ui_frame_ms_median": ui_median,
                "ui_frame_ms_p95": ui_p95,
                "vs_pytorch": torch.is_some().then_some(Value::Object(vs)),
            })
        );
    }
    Ok(())
}
