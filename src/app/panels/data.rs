//! The Data panel: what is loaded, a few of its images, and loading other
//! MNIST files (picked in a dialog, or dropped on the window) without ever
//! blocking a frame.
//!
//! Dialogs and loading run on their own short-lived threads and report
//! through a channel that [`DataPanel::poll`] drains. A failed load only
//! produces [`DataEvent::Failed`]: the app keeps the data it has unless
//! [`DataEvent::Loaded`] arrives, so a bad file never costs the class its
//! dataset.

use std::path::{Path, PathBuf};
use std::sync::Arc;
#[cfg(not(target_arch = "wasm32"))]
use web_time::Instant;

use egui::{
    Color32, ColorImage, CornerRadius, Response, RichText, Sense, TextureHandle, TextureOptions,
    Ui, Vec2,
};

pub use crate::app::files::DataEvent;
use crate::app::jobs::{Jobs, Repaint};
use crate::app::message::Message;
use crate::data::dataset::{find_in_files, Mnist, MnistRole};
use crate::i18n::tr;
use crate::io::file::{FileError, Input, Problem};
#[cfg(not(target_arch = "wasm32"))]
use crate::platform::NO_DIALOG_WITHIN;
use crate::trf;

/// What the user asked for in [`DataPanel::ui`]; the app answers with
/// [`DataPanel::act`] (or [`DataPanel::open_dialog`] /
/// [`DataPanel::open_folder_dialog`]), which need the `egui::Context`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DataPanelAction {
    #[default]
    Nothing,
    /// "Open dataset…": pick several files.
    OpenFiles,
    /// "Open folder…": pick the folder holding them.
    OpenFolder,
}

/// What the user sees when rfd has no dialog to show.
pub fn no_dialog_message() -> &'static str {
    tr("No file dialog is available here: drop the MNIST files (or their folder) on the window, or start with --data DIR.")
}

/// How many training images the panel shows.
pub const SAMPLES: usize = 40;

/// Side of one sample picture, in points: 1.5 points per MNIST pixel keeps
/// the strokes visible while forty of them fit in a side panel.
const SAMPLE_SIDE: f32 = 42.0;

/// Messages from the dialog and loader threads.
// The browser has no dialog threads: only loads and messages come.
#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
enum Msg {
    /// A dialog closed (picked or not): the buttons may be used again.
    DialogClosed,
    /// The user picked these files: load them.
    Picked { inputs: Vec<Input> },
    /// A dialog's thread failed (the dialog library panicked).
    DialogFailed(String),
    /// A load or a dialog ended with this. `job` is the load's number (0
    /// for messages that come from no load).
    Done { job: u64, event: DataEvent },
}

/// Textures of the first training images, built once per dataset.
struct Samples {
    /// The bytes (and labels and shape) the textures were made from: the
    /// key. Comparing ~31 KB per frame is cheaper than any mistake about
    /// which dataset is current, and works for data the panel did not load
    /// itself (the one given on the command line).
    bytes: Vec<u8>,
    labels: Vec<u8>,
    rows: usize,
    cols: usize,
    textures: Vec<TextureHandle>,
}

/// Loads MNIST from picked or dropped files and shows what is loaded.
pub struct DataPanel {
    jobs: Jobs<Msg>,
    /// A dialog is open (its thread has not answered yet).
    dialog_open: bool,
    /// Loads started and not finished.
    loading: usize,
    /// The last load started, and the newest whose `Loaded` was delivered:
    /// a slow old load that finishes after a newer one must not replace the
    /// newer data.
    next_job: u64,
    newest_delivered: u64,
    samples: Option<Samples>,
    /// Bumped each time the sample textures are rebuilt (tests and the app
    /// can see that a new dataset was noticed).
    generation: u64,
}

impl Default for DataPanel {
    /// A panel whose jobs ask for no repaint (tests poll).
    fn default() -> Self {
        Self::new(std::sync::Arc::new(|| {}))
    }
}

impl DataPanel {
    pub fn new(repaint: Repaint) -> Self {
        DataPanel {
            jobs: Jobs::new(repaint, Msg::DialogFailed),
            dialog_open: false,
            loading: 0,
            next_job: 0,
            newest_delivered: 0,
            samples: None,
            generation: 0,
        }
    }

    /// A load is running.
    pub fn is_loading(&self) -> bool {
        self.loading > 0
    }

    /// A file dialog is open.
    pub fn is_dialog_open(&self) -> bool {
        self.dialog_open
    }

    /// How many times the sample pictures were rebuilt for a new dataset.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Answers an action from [`DataPanel::ui`].
    pub fn act(&mut self, action: DataPanelAction) {
        match action {
            DataPanelAction::Nothing => {}
            DataPanelAction::OpenFiles => self.open_dialog(),
            DataPanelAction::OpenFolder => self.open_folder_dialog(),
        }
    }

    /// Opens a file dialog for several files (IDX, raw or `.gz`) on a
    /// background thread; the picked files are then loaded like dropped
    /// ones. Does nothing while a dialog is already open.
    pub fn open_dialog(&mut self) {
        #[cfg(target_arch = "wasm32")]
        self.pick_in_browser();
        #[cfg(not(target_arch = "wasm32"))]
        self.spawn_dialog(|start| {
            // No extension filter: MNIST's own names have no extension
            // (`train-images-idx3-ubyte`), so a filter would hide them.
            let dialog = rfd::FileDialog::new().set_title(tr("Open the MNIST files (all four)"));
            let dialog = match start {
                Some(dir) => dialog.set_directory(dir),
                None => dialog,
            };
            dialog.pick_files()
        });
    }

    /// Opens a folder dialog on a background thread; the MNIST files
    /// directly inside the picked folder are loaded.
    pub fn open_folder_dialog(&mut self) {
        // A page cannot list a folder: the files themselves are picked.
        #[cfg(target_arch = "wasm32")]
        self.pick_in_browser();
        #[cfg(not(target_arch = "wasm32"))]
        self.spawn_dialog(|start| {
            let dialog =
                rfd::FileDialog::new().set_title(tr("Open the folder holding MNIST's files"));
            let dialog = match start {
                Some(dir) => dialog.set_directory(dir),
                None => dialog,
            };
            dialog.pick_folder().map(|p| vec![p])
        });
    }

    /// The browser's file picker for MNIST's four files; they are read,
    /// then loaded like dropped ones.
    #[cfg(target_arch = "wasm32")]
    fn pick_in_browser(&mut self) {
        if self.dialog_open {
            return;
        }
        self.dialog_open = true;
        let out = self.jobs.outbox();
        wasm_bindgen_futures::spawn_local(async move {
            let picked =
                crate::platform::pick_files(tr("Open the MNIST files (all four)"), &[], true).await;
            out.send(Msg::DialogClosed);
            match picked {
                Ok(inputs) if inputs.is_empty() => {}
                Ok(inputs) => {
                    out.send(Msg::Picked { inputs });
                }
                Err(e) => {
                    out.send(Msg::Done {
                        job: 0,
                        event: refused(e),
                    });
                }
            }
        });
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn spawn_dialog(
        &mut self,
        pick: impl FnOnce(Option<PathBuf>) -> Option<Vec<PathBuf>> + Send + 'static,
    ) {
        if self.dialog_open {
            return;
        }
        self.dialog_open = true;
        let start = std::env::current_dir().ok();
        // The thread is detached, not joined: a native dialog cannot be
        // closed from outside, and waiting for it would freeze the app's
        // exit until the user answers it. A panic inside the dialog library
        // arrives as `DialogFailed`, which also re-enables the buttons.
        self.jobs.spawn("file-dialog", move |out| {
            let opened = Instant::now();
            let picked = pick(start).filter(|paths| !paths.is_empty());
            out.send(Msg::DialogClosed);
            match picked {
                Some(paths) => {
                    let inputs = paths.into_iter().map(Input::path).collect();
                    out.send(Msg::Picked { inputs });
                }
                None if opened.elapsed() < NO_DIALOG_WITHIN => {
                    out.send(Msg::Done {
                        job: 0,
                        event: DataEvent::Info(no_dialog_message().to_string()),
                    });
                }
                // Cancelled: nothing to say.
                None => {}
            }
        });
    }

    /// Loads MNIST from `paths` (files and/or folders, as picked or
    /// dropped) on a background thread; [`DataPanel::poll`] reports the
    /// outcome, and egui is asked for a repaint when it is ready.
    pub fn load_paths(&mut self, paths: Vec<PathBuf>) {
        self.load_inputs(paths.into_iter().map(Input::path).collect());
    }

    /// Loads MNIST from files picked or dropped: paths (files and/or
    /// folders) on the desktop, names and bytes in the browser.
    pub fn load_inputs(&mut self, inputs: Vec<Input>) {
        if inputs.is_empty() {
            return;
        }
        self.next_job += 1;
        self.loading += 1;
        let job = self.next_job;
        self.jobs.spawn("data-loader", move |out| {
            // A panic in the parser must still end the spinner and say
            // something, not leave "loading…" forever.
            let paths: Vec<PathBuf> = inputs.iter().map(|i| i.path.clone()).collect();
            let event = std::panic::catch_unwind(|| load(&inputs)).unwrap_or_else(|_| {
                DataEvent::Failed(
                    trf!(
                        "{paths}: the loader crashed (a bug: please report it)",
                        paths = describe_paths(&paths)
                    )
                    .into(),
                )
            });
            out.send(Msg::Done { job, event });
        });
    }

    /// The next event from the dialog and loader threads, without waiting.
    /// Call it every frame until it returns `None`.
    pub fn poll(&mut self) -> Option<DataEvent> {
        while let Some(msg) = self.jobs.poll() {
            match msg {
                Msg::DialogClosed => self.dialog_open = false,
                Msg::Picked { inputs } => self.load_inputs(inputs),
                Msg::DialogFailed(panic) => {
                    self.dialog_open = false;
                    return Some(DataEvent::Failed(
                        trf!(
                            "the file dialog failed ({error}): drop the files on the window instead",
                            error = panic
                        )
                        .into(),
                    ));
                }
                Msg::Done { job, event } => {
                    if job > 0 {
                        self.loading = self.loading.saturating_sub(1);
                    }
                    if let DataEvent::Loaded { .. } = event {
                        if job < self.newest_delivered {
                            // Superseded by a newer load that already
                            // arrived: drop it silently.
                            continue;
                        }
                        self.newest_delivered = job;
                    }
                    return Some(event);
                }
            }
        }
        None
    }

    /// The files dropped on the window this frame (their paths; in the
    /// browser, where they have none, see `Files::read_dropped`).
    pub fn take_dropped_files(ctx: &egui::Context) -> Vec<egui::DroppedFileHandle> {
        ctx.input(|i| i.raw.dropped_files.clone())
    }

    /// The panel: where the data came from, how much there is, the first
    /// training images, and the buttons to load other files.
    pub fn ui(&mut self, ui: &mut Ui, data: &Mnist, source: &str) -> DataPanelAction {
        let mut action = DataPanelAction::Nothing;
        ui.horizontal_wrapped(|ui| {
            let enabled = !self.dialog_open;
            let busy = tr("A file dialog is already open");
            if ui
                .add_enabled(enabled, egui::Button::new(tr("Open dataset…")))
                .on_hover_text(tr("Pick MNIST's four files (train-images, train-labels, t10k-images, t10k-labels; raw IDX or .gz). The data loaded now stays until the new files load without error."))
                .on_disabled_hover_text(busy)
                .clicked()
            {
                action = DataPanelAction::OpenFiles;
            }
            if ui
                .add_enabled(enabled, egui::Button::new(tr("Open folder…")))
                .on_hover_text(tr("Pick a folder holding MNIST's four files (raw IDX or .gz), e.g. Fashion-MNIST. You can also drop the files or the folder on the window."))
                .on_disabled_hover_text(busy)
                .clicked()
            {
                action = DataPanelAction::OpenFolder;
            }
            if self.is_loading() {
                ui.spinner();
                ui.label(tr("loading…"));
            } else if self.dialog_open {
                ui.label(tr("waiting for the file dialog…"));
            }
        });
        let hovering = ui.input(|i| !i.raw.hovered_files.is_empty());
        if hovering {
            ui.label(
                RichText::new(tr("Release to load these files"))
                    .color(ui.visuals().selection.stroke.color),
            );
        }

        ui.label(trf!("Source: {source}", source = source))
            .on_hover_text(tr("Where the data shown here was read from"));
        ui.label(counts_text(data));

        // Per-digit counts: a small table, digits on top.
        let counts = data.train.label_counts();
        egui::Grid::new("data_panel_digit_counts")
            .striped(true)
            .show(ui, |ui| {
                ui.label(tr("digit"));
                for d in 0..10 {
                    ui.label(RichText::new(d.to_string()).strong());
                }
                ui.end_row();
                ui.label(tr("training images"));
                for c in counts {
                    ui.label(thousands(c));
                }
                ui.end_row();
            });

        ui.add_space(6.0);
        self.samples_ui(ui, data);
        action
    }

    /// The first [`SAMPLES`] training images with their labels.
    fn samples_ui(&mut self, ui: &mut Ui, data: &Mnist) {
        let train = &data.train;
        let n = SAMPLES.min(train.len());
        if n == 0 {
            ui.label(tr("No training images to show"));
            return;
        }
        ui.label(trf!(
            "The first {n} training images, with their labels:",
            n = n
        ));
        let bytes = &train.images[..n * train.pixels()];
        let labels = &train.labels[..n];
        let current = self.samples.as_ref().is_some_and(|s| {
            s.rows == train.rows && s.cols == train.cols && s.labels == labels && s.bytes == bytes
        });
        if !current {
            let textures = (0..n)
                .map(|i| {
                    let image = ColorImage::from_gray([train.cols, train.rows], train.image(i));
                    ui.ctx().load_texture(
                        format!("data_panel_sample_{i}"),
                        image,
                        TextureOptions::NEAREST,
                    )
                })
                .collect();
            self.samples = Some(Samples {
                bytes: bytes.to_vec(),
                labels: labels.to_vec(),
                rows: train.rows,
                cols: train.cols,
                textures,
            });
            self.generation += 1;
        }
        let Some(samples) = &self.samples else {
            return;
        };

        // Keep the images' aspect ratio if the data is not square.
        let aspect = samples.cols as f32 / samples.rows.max(1) as f32;
        let size = Vec2::new(SAMPLE_SIDE * aspect.min(1.0), SAMPLE_SIDE / aspect.max(1.0));
        let spacing = ui.spacing().item_spacing.x;
        let per_row =
            (((ui.available_width() + spacing) / (size.x + spacing)).floor() as usize).clamp(1, 10);
        for (row, chunk) in samples.textures.chunks(per_row).enumerate() {
            ui.horizontal(|ui| {
                for (k, texture) in chunk.iter().enumerate() {
                    let i = row * per_row + k;
                    let label = samples.labels.get(i).copied().unwrap_or_default();
                    ui.vertical(|ui| {
                        ui.set_width(size.x);
                        sample_ui(ui, texture, size, i, label);
                        ui.vertical_centered(|ui| {
                            ui.label(RichText::new(label.to_string()).strong());
                        });
                    });
                }
            });
        }
    }
}

/// One sample picture (widget pattern: size, allocate, interact, paint).
fn sample_ui(
    ui: &mut Ui,
    texture: &TextureHandle,
    size: Vec2,
    index: usize,
    label: u8,
) -> Response {
    let (rect, response) = ui.allocate_exact_size(size, Sense::hover());
    let name = trf!(
        "training image {index}: label {label}",
        index = index,
        label = label
    );
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, &name));
    if ui.is_rect_visible(rect) {
        let uv = egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0));
        ui.painter().image(texture.id(), rect, uv, Color32::WHITE);
        ui.painter().rect_stroke(
            rect,
            CornerRadius::ZERO,
            ui.visuals().widgets.noninteractive.bg_stroke,
            egui::StrokeKind::Outside,
        );
    }
    response.on_hover_text(trf!(
        "Training image #{index}, labelled {label}",
        index = index,
        label = label
    ))
}

/// "Training images: 60,000 · Test images: 10,000 · Size: 28x28 pixels".
pub fn counts_text(data: &Mnist) -> String {
    trf!(
        "Training images: {train} · Test images: {test} · Size: {rows}x{cols} pixels",
        train = thousands(data.train.len()),
        test = thousands(data.test.len()),
        rows = data.train.rows,
        cols = data.train.cols
    )
}

/// 60000 → "60,000": counts are read aloud in class.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Paths for a message: the one path, or the folder of the first.
fn describe_paths(paths: &[PathBuf]) -> String {
    match paths {
        [one] => one.display().to_string(),
        _ => paths
            .first()
            .and_then(|p| p.parent())
            .map_or_else(String::new, |p| p.display().to_string()),
    }
}

/// A file that could not be loaded, worded when shown.
fn refused(e: FileError) -> DataEvent {
    DataEvent::Failed(Message::new(move || e.to_string()))
}

/// Finds and loads both halves of MNIST among `inputs` (by their names;
/// from their bytes when the browser gave them). Runs on a loader thread.
fn load(inputs: &[Input]) -> DataEvent {
    let paths: Vec<PathBuf> = inputs.iter().map(|i| i.path.clone()).collect();
    let paths = paths.as_slice();
    let files = match find_in_files(paths) {
        Ok(files) => files,
        Err(e) => return refused(e),
    };
    // `find_in_files` accepts one pair alone; the app needs both: training
    // data to learn from and test data to measure on. Say which half is
    // missing rather than loading half a dataset.
    let halves = [
        (
            files.train_pair(),
            MnistRole::TrainImages,
            MnistRole::TrainLabels,
        ),
        (
            files.test_pair(),
            MnistRole::TestImages,
            MnistRole::TestLabels,
        ),
    ];
    let have = halves
        .iter()
        .find_map(|(pair, _, _)| pair.map(|(images, _)| images));
    for (pair, images, labels) in halves {
        if pair.is_none() {
            let dir = have
                .and_then(Path::parent)
                .map(Path::to_path_buf)
                .unwrap_or_default();
            return refused(FileError::new(
                dir.join(images.file_name()),
                Problem::MissingHalf {
                    other: labels.file_name().into(),
                },
            ));
        }
    }
    let in_memory = inputs.iter().any(|i| i.bytes.is_some());
    let loaded = if in_memory {
        from_memory(inputs, &files)
    } else {
        files.load_all()
    };
    match loaded {
        Ok(data) => {
            let source = match paths {
                [one] => one.display().to_string(),
                _ => files
                    .train_images
                    .as_deref()
                    .and_then(Path::parent)
                    .map_or_else(|| describe_paths(paths), |p| p.display().to_string()),
            };
            DataEvent::Loaded {
                data: Arc::new(data),
                source,
                // Files from the browser have no path to load again.
                paths: if in_memory {
                    Vec::new()
                } else {
                    paths.to_vec()
                },
            }
        }
        Err(e) => refused(e),
    }
}

/// Both halves from files held in memory, found by name in `files`.
fn from_memory(
    inputs: &[Input],
    files: &crate::data::dataset::MnistFiles,
) -> Result<Mnist, FileError> {
    let bytes = |path: &Path| {
        let input = inputs
            .iter()
            .find(|i| i.path == path)
            .ok_or_else(|| FileError::new(path, Problem::NoMnistFiles { folder: false }))?;
        input.read(crate::io::file::MAX_FILE_BYTES)
    };
    let half = |(images, labels): (&Path, &Path)| {
        crate::data::dataset::pair_from_bytes((images, &bytes(images)?), (labels, &bytes(labels)?))
    };
    let missing = || FileError::new("", Problem::NoMnistFiles { folder: false });
    Ok(Mnist {
        train: half(files.train_pair().ok_or_else(missing)?)?,
        test: half(files.test_pair().ok_or_else(missing)?)?,
    })
}

#[cfg(test)]
mod tests {
    use super::thousands;

    /// Files held in memory (as the browser hands them over) load as the
    /// same files on disk do; a missing half is named.
    #[test]
    fn mnist_from_memory_is_mnist_from_disk() {
        use super::*;
        let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist"));
        let names = [
            "train-images-idx3-ubyte.gz",
            "train-labels-idx1-ubyte.gz",
            "t10k-images-idx3-ubyte.gz",
            "t10k-labels-idx1-ubyte.gz",
        ];
        let inputs: Vec<Input> = names
            .iter()
            .map(|n| Input::bytes(*n, std::fs::read(dir.join(n)).unwrap()))
            .collect();
        let DataEvent::Loaded { data, paths, .. } = load(&inputs) else {
            panic!("not loaded");
        };
        assert!(paths.is_empty(), "files from memory are not remembered");
        assert_eq!(*data, crate::data::dataset::load_dir(&dir).unwrap());
        let DataEvent::Failed(message) = load(&inputs[..3]) else {
            panic!("half a test set loaded");
        };
        assert!(message.text().contains("t10k-images"), "{}", message.text());
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(60000), "60,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
