//! The drawing pad and the data panel, driven headless through
//! egui_kittest by their accessible labels (its accessibility check, on by
//! default, also fails any control without a name).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use backprop_viz::app::panels::data::{DataEvent, DataPanel, DataPanelAction};
use backprop_viz::app::widgets::draw_pad::{
    preview_ui, probabilities_ui, DrawPad, DEFAULT_BRUSH, PAD_LABEL, PREVIEW_LABEL,
};
use backprop_viz::data::dataset::{Dataset, Mnist};
use egui::{pos2, Pos2, Vec2};
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;

// ---------------------------------------------------------------- helpers

/// Centre of mass (row, col) of a 28x28 picture, in pixel-index
/// coordinates, as `preprocess` defines it.
fn centre_of_mass(pixels: &[f32]) -> (f32, f32) {
    let (mut total, mut r, mut c) = (0.0, 0.0, 0.0);
    for (i, &v) in pixels.iter().enumerate() {
        total += v;
        r += v * (i / 28) as f32;
        c += v * (i % 28) as f32;
    }
    (r / total, c / total)
}

fn ink(pixels: &[f32]) -> f32 {
    pixels.iter().sum()
}

/// Checks a pad's MNIST picture: 784 values in [0, 1], real ink, centred.
fn assert_centred_digit(pad: &DrawPad) {
    let pixels = pad
        .mnist_pixels()
        .expect("a pad with strokes has a picture");
    assert_eq!(pixels.len(), 784);
    assert!(pixels.iter().all(|v| (0.0..=1.0).contains(v)));
    assert!(ink(&pixels) > 20.0, "too little ink: {}", ink(&pixels));
    let (r, c) = centre_of_mass(&pixels);
    // The shift is a whole number of pixels, so the centre lands within
    // half a pixel of (14, 14); allow a little more.
    assert!(
        (r - 14.0).abs() < 1.0 && (c - 14.0).abs() < 1.0,
        "centre of mass at ({r}, {c}), expected near (14, 14)"
    );
}

/// A "7" in pad coordinates.
const SEVEN: [Pos2; 3] = [pos2(0.25, 0.2), pos2(0.75, 0.2), pos2(0.4, 0.85)];

#[derive(Default)]
struct PadState {
    pad: DrawPad,
    /// Frames in which `ui` reported a change.
    changed_frames: usize,
}

fn pad_harness() -> Harness<'static, PadState> {
    Harness::new_ui_state(
        |ui, state: &mut PadState| {
            if state.pad.ui(ui) {
                state.changed_frames += 1;
            }
        },
        PadState::default(),
    )
}

/// Drags the pointer through `points` (pad fractions) on the canvas, one
/// frame per point, as a mouse, a finger or a pen would.
fn drag_through(harness: &mut Harness<'_, PadState>, points: &[Pos2]) {
    let rect = harness.get_by_label(PAD_LABEL).rect();
    let at = |p: Pos2| rect.min + Vec2::new(p.x * rect.width(), p.y * rect.height());
    let Some((&first, rest)) = points.split_first() else {
        return;
    };
    harness.hover_at(at(first));
    harness.step();
    harness.drag_at(at(first));
    harness.step();
    for &p in rest {
        harness.hover_at(at(p));
        harness.step();
    }
    harness.drop_at(at(*points.last().unwrap_or(&first)));
    harness.run();
}

/// `n + 1` evenly spaced points along the polyline `corners`.
fn along(corners: &[Pos2], per_segment: usize) -> Vec<Pos2> {
    let mut out = vec![corners[0]];
    for w in corners.windows(2) {
        for k in 1..=per_segment {
            out.push(w[0].lerp(w[1], k as f32 / per_segment as f32));
        }
    }
    out
}

// --------------------------------------------------------------- draw pad

#[test]
fn empty_pad_has_no_picture() {
    let pad = DrawPad::default();
    assert!(pad.is_empty());
    assert!(pad.mnist_pixels().is_none());
    assert_eq!(pad.rasterize(20), vec![0.0; 400]);
}

#[test]
fn rasterize_draws_thick_round_capped_lines() {
    let mut pad = DrawPad::default();
    pad.set_brush(0.1);
    // A horizontal line across the middle of a 100x100 image: width
    // 0.1 * 100 = 10 pixels, caps of radius 5 past both ends.
    pad.add_stroke(&[pos2(0.2, 0.5), pos2(0.8, 0.5)]);
    let img = pad.rasterize(100);
    let px = |x: usize, y: usize| img[y * 100 + x];
    assert_eq!(px(50, 50), 1.0, "on the line");
    assert_eq!(px(50, 10), 0.0, "far from the line");
    let column: f32 = (0..100).map(|y| px(50, y)).sum();
    assert!(
        (column - 10.0).abs() < 1.0,
        "line {column} px thick, expected 10"
    );
    // Round cap: pixel centre 17.5 is 2.5 px before the end at x = 20.
    assert_eq!(px(17, 50), 1.0, "inside the round cap");
    assert_eq!(px(14, 50), 0.0, "pixel centre 14.5 is 5.5 px from the end");
    // Anti-aliased: some pixels on the edge are partly covered.
    assert!(img.iter().any(|&v| v > 0.0 && v < 1.0));
    assert!(img.iter().all(|&v| (0.0..=1.0).contains(&v)));
}

#[test]
fn a_single_point_is_a_dot() {
    let mut pad = DrawPad::default();
    pad.add_stroke(&[pos2(0.5, 0.5)]);
    let img = pad.rasterize(112);
    assert_eq!(img[56 * 112 + 56], 1.0);
    // Area of a disc of diameter 0.07 * 112 = 7.84 px: about 48 px².
    let area: f32 = img.iter().sum();
    assert!((area - 48.3).abs() < 5.0, "dot area {area}");
}

#[test]
fn stroke_added_through_the_api_gives_a_centred_mnist_digit() {
    let mut pad = DrawPad::default();
    let v0 = pad.version();
    pad.add_stroke(&SEVEN);
    assert!(!pad.is_empty());
    assert_ne!(pad.version(), v0);
    assert_centred_digit(&pad);
    // Off-centre and small: the preprocessing still centres it.
    let mut corner = DrawPad::default();
    corner.add_stroke(&SEVEN.map(|p| pos2(p.x * 0.4, p.y * 0.4)));
    assert_centred_digit(&corner);
    pad.clear();
    assert!(pad.is_empty());
    assert!(pad.mnist_pixels().is_none());
}

#[test]
fn drawing_with_the_pointer_makes_strokes() {
    let mut harness = pad_harness();
    harness.run();
    assert!(harness.state().pad.is_empty());
    assert_eq!(harness.state().changed_frames, 0);

    drag_through(&mut harness, &along(&SEVEN, 10));
    let state = harness.state();
    assert_eq!(
        state.pad.strokes().len(),
        1,
        "one press-drag-release, one stroke"
    );
    assert!(
        state.pad.strokes()[0].len() >= 15,
        "{:?}",
        state.pad.strokes()[0]
    );
    assert!(state.changed_frames > 0, "ui() reported the change");
    assert_centred_digit(&state.pad);
    // The points landed where the pointer went, in pad fractions.
    let first = state.pad.strokes()[0][0];
    assert!(first.distance(SEVEN[0]) < 0.01, "first point {first:?}");

    // A second gesture is a second stroke, not a line joined to the first.
    drag_through(&mut harness, &along(&[pos2(0.35, 0.5), pos2(0.65, 0.5)], 5));
    assert_eq!(harness.state().pad.strokes().len(), 2);

    harness.get_by_label("Clear").click();
    harness.run();
    assert!(harness.state().pad.is_empty());
    assert!(harness.state().pad.mnist_pixels().is_none());
}

#[test]
fn a_fast_stroke_within_one_frame_keeps_its_shape() {
    // A slow frame: press, a whole curve of moves and the release all
    // arrive before the next frame. Every position must be kept, not only
    // the last one.
    let mut harness = pad_harness();
    harness.run();
    let rect = harness.get_by_label(PAD_LABEL).rect();
    let at = |p: Pos2| rect.min + Vec2::new(p.x * rect.width(), p.y * rect.height());
    let path = along(&SEVEN, 8);
    harness.hover_at(at(path[0]));
    harness.drag_at(at(path[0]));
    for &p in &path[1..] {
        harness.hover_at(at(p));
    }
    harness.drop_at(at(path[path.len() - 1]));
    harness.run();
    let strokes = harness.state().pad.strokes();
    assert_eq!(strokes.len(), 1);
    assert_eq!(strokes[0].len(), path.len(), "{:?}", strokes[0]);
    for (got, want) in strokes[0].iter().zip(&path) {
        assert!(got.distance(*want) < 0.01, "{got:?} vs {want:?}");
    }
    assert_centred_digit(&harness.state().pad);
}

#[test]
fn a_tap_leaves_a_dot() {
    let mut harness = pad_harness();
    harness.run();
    let centre = harness.get_by_label(PAD_LABEL).rect().center();
    harness.hover_at(centre);
    harness.drag_at(centre);
    harness.step();
    harness.drop_at(centre);
    harness.run();
    let strokes = harness.state().pad.strokes();
    assert_eq!(strokes.len(), 1);
    assert!(strokes[0][0].distance(pos2(0.5, 0.5)) < 0.01);
    assert!(harness.state().pad.mnist_pixels().is_some());
}

#[test]
fn brush_slider_changes_the_drawing() {
    let mut harness = pad_harness();
    harness.state_mut().pad.add_stroke(&SEVEN);
    harness.run();
    let version = harness.state().pad.version();
    assert_eq!(harness.state().pad.brush(), DEFAULT_BRUSH);
    let thin = ink(&harness.state().pad.mnist_pixels().expect("drawn"));
    // The slider's number box carries the same name: ask for the slider.
    harness
        .get_by_role_and_label(egui::Role::Slider, "Brush size")
        .set_value_accesskit(0.12);
    harness.run();
    let pad = &harness.state().pad;
    assert!((pad.brush() - 0.12).abs() < 1e-6, "brush {}", pad.brush());
    assert_ne!(pad.version(), version, "a thicker brush is a new drawing");
    // The picture is cached per version: it must follow the new width.
    let thick = ink(&pad.mnist_pixels().expect("drawn"));
    assert!(thick > thin * 1.3, "ink {thin} -> {thick}");
}

#[test]
fn preview_and_probabilities_are_labelled() {
    let mut pad = DrawPad::default();
    pad.add_stroke(&SEVEN);
    let pixels = pad.mnist_pixels().expect("drawn");
    let mut probs = [0.01f32; 10];
    probs[3] = 0.125;
    probs[7] = 0.785;
    let mut harness = Harness::new_ui_state(
        move |ui, _: &mut ()| {
            preview_ui(ui, &pixels, 140.0);
            probabilities_ui(ui, &probs, Some(7));
        },
        (),
    );
    harness.run();
    harness.get_by_label(PREVIEW_LABEL);
    harness.get_by_label("digit 3: 12.5 %");
    harness.get_by_label("digit 7: 78.5 %");
    harness.get_by_label("digit 0: 1.0 %");
    assert_eq!(harness.get_all_by_role(egui::Role::Meter).count(), 10);
    harness.get_by_label_contains("Correct answer: 7");
}

// ------------------------------------------------------------- data panel

fn wait_for_event(panel: &mut DataPanel) -> DataEvent {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(event) = panel.poll() {
            return event;
        }
        assert!(Instant::now() < deadline, "no event within two minutes");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn mnist_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/mnist")
}

/// Links (or copies, where links are not available) the real MNIST file
/// `name` into `dir`.
fn link(dir: &Path, name: &str) {
    let from = mnist_dir().join(name);
    let to = dir.join(name);
    #[cfg(unix)]
    std::os::unix::fs::symlink(&from, &to).expect("symlink");
    #[cfg(not(unix))]
    std::fs::copy(&from, &to).expect("copy");
}

#[test]
fn a_malformed_file_fails_and_names_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("train-images-idx3-ubyte"),
        b"this is not an IDX file",
    )
    .expect("write");
    link(dir.path(), "train-labels-idx1-ubyte.gz");
    link(dir.path(), "t10k-images-idx3-ubyte.gz");
    link(dir.path(), "t10k-labels-idx1-ubyte.gz");

    let mut panel = DataPanel::default();
    panel.load_paths(vec![dir.path().to_path_buf()]);
    assert!(panel.is_loading());
    match wait_for_event(&mut panel) {
        DataEvent::Failed(message) => {
            let message = message.text();
            let bad = dir.path().join("train-images-idx3-ubyte");
            assert!(
                message.starts_with(&format!("{}: ", bad.display())),
                "the message names the bad file first: {message}"
            );
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    assert!(!panel.is_loading());
    assert!(panel.poll().is_none());
}

#[test]
fn half_a_dataset_fails_and_says_what_is_missing() {
    let dir = tempfile::tempdir().expect("tempdir");
    link(dir.path(), "t10k-images-idx3-ubyte.gz");
    link(dir.path(), "t10k-labels-idx1-ubyte.gz");
    let mut panel = DataPanel::default();
    // Dropped as files this time, not as a folder.
    panel.load_paths(vec![
        dir.path().join("t10k-images-idx3-ubyte.gz"),
        dir.path().join("t10k-labels-idx1-ubyte.gz"),
    ]);
    match wait_for_event(&mut panel) {
        DataEvent::Failed(message) => {
            let message = message.text();
            assert!(message.contains("train-images-idx3-ubyte"), "{message}");
            assert!(message.contains("train-labels-idx1-ubyte"), "{message}");
            assert!(message.contains("missing"), "{message}");
        }
        other => panic!("expected Failed, got {other:?}"),
    }
}

#[test]
fn files_that_are_not_mnist_fail_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let readme = dir.path().join("README.txt");
    std::fs::write(&readme, "hello").expect("write");
    let mut panel = DataPanel::default();
    panel.load_paths(vec![readme.clone()]);
    match wait_for_event(&mut panel) {
        DataEvent::Failed(message) => {
            let message = message.text();
            assert!(
                message.starts_with(&readme.display().to_string()),
                "{message}"
            );
            assert!(message.contains("not an MNIST file"), "{message}");
        }
        other => panic!("expected Failed, got {other:?}"),
    }
}

#[test]
fn the_real_files_load() {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ] {
        link(dir.path(), name);
    }
    let mut panel = DataPanel::default();
    panel.load_paths(vec![dir.path().to_path_buf()]);
    match wait_for_event(&mut panel) {
        DataEvent::Loaded {
            data,
            source,
            paths,
        } => {
            assert_eq!(
                paths,
                vec![dir.path().to_path_buf()],
                "kept for the next start"
            );
            assert_eq!(data.train.len(), 60_000);
            assert_eq!(data.test.len(), 10_000);
            assert_eq!((data.train.rows, data.train.cols), (28, 28));
            assert_eq!(source, dir.path().display().to_string());
        }
        other => panic!("expected Loaded, got {other:?}"),
    }
    assert!(!panel.is_loading());
}

/// A small dataset built in memory: `n` images whose pixel values encode
/// their index, labels `i % 10`.
fn tiny_dataset(n: usize) -> Dataset {
    Dataset {
        images: (0..n * 784).map(|k| ((k / 784) * 5 % 256) as u8).collect(),
        labels: (0..n).map(|i| (i % 10) as u8).collect(),
        rows: 28,
        cols: 28,
    }
}

struct PanelState {
    panel: DataPanel,
    data: Mnist,
    actions: Vec<DataPanelAction>,
}

#[test]
fn the_panel_shows_counts_and_samples_and_reports_clicks() {
    let state = PanelState {
        panel: DataPanel::default(),
        data: Mnist {
            train: tiny_dataset(50),
            test: tiny_dataset(12),
        },
        actions: Vec::new(),
    };
    let mut harness = Harness::builder()
        .with_size(Vec2::new(900.0, 900.0))
        .build_ui_state(
            |ui, state: &mut PanelState| {
                let action = state.panel.ui(ui, &state.data, "memory");
                if action != DataPanelAction::Nothing {
                    state.actions.push(action);
                }
            },
            state,
        );
    harness.run();

    harness.get_by_label_contains("Training images: 50 · Test images: 12");
    harness.get_by_label_contains("28x28");
    harness.get_by_label("Source: memory");
    // 40 samples (of 50), each a labelled picture.
    harness.get_by_label("training image 0: label 0");
    harness.get_by_label("training image 39: label 9");
    assert!(harness
        .query_by_label("training image 40: label 0")
        .is_none());
    assert_eq!(harness.get_all_by_role(egui::Role::Image).count(), 40);

    // Textures are built once, not every frame.
    assert_eq!(harness.state().panel.generation(), 1);
    harness.run_steps(3);
    assert_eq!(harness.state().panel.generation(), 1);
    // New data (even at the same place) rebuilds them.
    harness.state_mut().data.train.images[0] = 255;
    harness.run();
    assert_eq!(harness.state().panel.generation(), 2);

    harness.get_by_label("Open dataset…").click();
    harness.run();
    harness.get_by_label("Open folder…").click();
    harness.run();
    assert_eq!(
        harness.state().actions,
        vec![DataPanelAction::OpenFiles, DataPanelAction::OpenFolder]
    );
}
