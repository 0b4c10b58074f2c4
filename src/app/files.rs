//! Keeping and sharing: save and open models and sessions, export the
//! current step's trace (safetensors) and any traced tensor as CSV, open a
//! picture dropped on the window. Dialogs, reading and writing run on their
//! own thread (never blocking the frame); every write is atomic, so a failed
//! export never costs the file that was there.

use std::path::{Path, PathBuf};
use std::sync::Arc;
#[cfg(not(target_arch = "wasm32"))]
use web_time::Instant;

use super::jobs::{Jobs, Repaint};
use super::message::Message;
use crate::data::dataset::Mnist;
#[cfg(not(target_arch = "wasm32"))]
use crate::platform::NO_DIALOG_WITHIN;

use crate::engine::network::Network;
use crate::engine::trace::Trace;
use crate::i18n::tr;
use crate::io::file::{FileError, Input, Problem};
use crate::trf;

/// The result of a file operation, for the status line.
pub enum FileEvent {
    Saved(String),
    Opened(Box<Network>, String),
    /// A session, and the network Reset should return to: `None` when the
    /// session's preset builds (resolved on the loading thread, since a
    /// preset may name a file).
    SessionOpened(Box<crate::io::Session>, Option<Box<Network>>, String),
    /// A picture, already in MNIST's form (784 values), for the drawing pad.
    Picture(Vec<f32>, String),
    /// A file that could not be opened: the app says so and keeps what it had.
    Refused(FileError),
    /// The window as it looks now, to be saved as PNG.
    Screenshot(Arc<egui::ColorImage>),
    Failed(String),
    /// Files that are a student's own tensors, to check against the step.
    HandIn(Vec<Input>),
    /// A student's tensors, checked.
    Checked(Box<crate::check::checked::Checked>),
    /// Several learners' prediction records, summed.
    ClassRecord(crate::teach::record::ClassRecord),
    /// A live class's database read back: the report, as `class-report`
    /// prints it.
    ClassReport(String),
    /// Files dropped on the page, read (the browser reads them later).
    Dropped(Vec<Input>),
}

/// What a load or a dialog ended with.
#[derive(Clone)]
pub enum DataEvent {
    /// New datasets, both halves checked. `source` says where they came
    /// from (a folder, or the single path given).
    Loaded {
        data: Arc<Mnist>,
        source: String,
        /// What was picked or dropped (remembered for the next start).
        paths: Vec<PathBuf>,
    },
    /// Nothing was loaded; one line, `"<file>: <problem>"`, worded when
    /// shown (in the window's language).
    Failed(Message),
    /// Not an error, but the user should read it (e.g. no file dialog).
    Info(String),
}

// By hand: the derived form would print all 55 MB of pixels of a `Loaded`
// in a failed test's message.
impl std::fmt::Debug for DataEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DataEvent::Loaded { data, source, .. } => write!(
                f,
                "Loaded {{ train: {}, test: {}, source: {source:?} }}",
                data.train.len(),
                data.test.len()
            ),
            DataEvent::Failed(message) => write!(f, "Failed({:?})", message.text()),
            DataEvent::Info(message) => write!(f, "Info({message:?})"),
        }
    }
}

/// Runs file dialogs, reads and writes off the UI thread.
pub struct Files {
    jobs: Jobs<FileEvent>,
}

impl Files {
    pub fn new(repaint: Repaint) -> Files {
        Files {
            jobs: Jobs::new(repaint, |panic| {
                FileEvent::Failed(trf!(
                    "The file operation failed unexpectedly ({error}); nothing was changed.",
                    error = panic
                ))
            }),
        }
    }

    pub fn poll(&self) -> Option<FileEvent> {
        self.jobs.poll()
    }
}

/// Writes `bytes` atomically (see [`crate::io::file::write_atomic`]).
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<String, String> {
    crate::io::file::write_bytes(path, bytes).map_err(|e| e.to_string())?;
    Ok(trf!("Saved {path}", path = path.display()))
}

/// A screenshot as PNG bytes.
pub fn png_bytes(image: &egui::ColorImage) -> Result<Vec<u8>, String> {
    let [w, h] = image.size;
    let rgba: Vec<u8> = image.pixels.iter().flat_map(|c| c.to_array()).collect();
    let buffer = image::RgbaImage::from_raw(w as u32, h as u32, rgba)
        .ok_or_else(|| tr("the screenshot has the wrong size"))?;
    let mut bytes = std::io::Cursor::new(Vec::new());
    buffer
        .write_to(&mut bytes, image::ImageFormat::Png)
        .map_err(|e| trf!("cannot encode the PNG: {error}", error = e))?;
    Ok(bytes.into_inner())
}

impl Files {
    /// Asks eframe for a screenshot of the window; it arrives as
    /// [`FileEvent::Screenshot`], and the app then asks where to save it.
    pub fn export_view_png(&self, ctx: &egui::Context) {
        let outbox = self.jobs.outbox();
        let callback = egui::ScreenshotCallback::new(move |image| {
            outbox.send(FileEvent::Screenshot(image));
        });
        ctx.send_viewport_cmd(egui::ViewportCommand::Screenshot(callback));
    }

    /// Saves a screenshot as PNG, asking where.
    pub fn save_screenshot(&self, image: Arc<egui::ColorImage>) {
        self.save_dialog_with(
            tr("Export the view as PNG"),
            "backprop-viz.png",
            move || png_bytes(&image),
        );
    }

    /// Asks where to save `bytes` (named `suggested`), then writes them.
    pub fn save_dialog(&self, title: &str, suggested: &str, bytes: Vec<u8>) {
        self.save_dialog_with(title, suggested, move || Ok(bytes));
    }

    /// Asks where to save, then writes what `bytes` makes (on the dialog's
    /// thread: a session waits there for the worker's state). In the
    /// browser the file is downloaded under its suggested name.
    pub fn save_dialog_with(
        &self,
        title: &str,
        suggested: &str,
        bytes: impl FnOnce() -> Result<Vec<u8>, String> + Send + 'static,
    ) {
        let (title, suggested) = (title.to_string(), suggested.to_string());
        self.jobs.spawn("save-dialog", move |out| {
            #[cfg(target_arch = "wasm32")]
            let event = {
                let _ = title;
                match bytes().and_then(|bytes| crate::platform::download(&suggested, &bytes)) {
                    Ok(()) => FileEvent::Saved(trf!("Downloaded {name}", name = suggested)),
                    Err(text) => FileEvent::Failed(text),
                }
            };
            #[cfg(not(target_arch = "wasm32"))]
            let event = {
                let started = Instant::now();
                let path = rfd::FileDialog::new()
                    .set_title(&title)
                    .set_file_name(&suggested)
                    .save_file();
                match path {
                    Some(path) => match bytes().and_then(|bytes| write_file(&path, &bytes)) {
                        Ok(text) => FileEvent::Saved(text),
                        Err(text) => FileEvent::Failed(text),
                    },
                    None if started.elapsed() < NO_DIALOG_WITHIN => FileEvent::Failed(
                        tr("No file dialog is available here (no desktop portal or zenity). Models and traces can also be written from the command line: train --save, trace --out.").into(),
                    ),
                    None => return,
                }
            };
            out.send(event);
        });
    }

    /// Asks for a model file and reads it (a bad file is an error message).
    pub fn open_model_dialog(&self) {
        self.pick(
            tr("Open a model (safetensors)"),
            &[],
            false,
            tr("No file dialog is available here: start with --model FILE."),
            |inputs| inputs.first().map(open_model),
        );
    }

    /// Asks for a saved session and reads it.
    pub fn open_session_dialog(&self) {
        self.pick(
            tr("Open a session"),
            &[],
            false,
            tr("No file dialog is available here: start with --session FILE."),
            |inputs| inputs.first().map(open_session),
        );
    }

    /// Files dropped on the window: their paths on the desktop, at once. In
    /// the browser their bytes are read first (each size checked), and
    /// they arrive as [`FileEvent::Dropped`].
    pub fn read_dropped(&self, dropped: Vec<egui::DroppedFileHandle>) -> Vec<Input> {
        #[cfg(not(target_arch = "wasm32"))]
        return dropped.iter().map(|f| Input::path(f.path())).collect();
        #[cfg(target_arch = "wasm32")]
        {
            if !dropped.is_empty() {
                let out = self.jobs.outbox();
                wasm_bindgen_futures::spawn_local(async move {
                    let mut inputs = Vec::new();
                    for file in dropped {
                        let size = file.web_file().map_or(0, |f| f.size() as u64);
                        let limit = crate::io::file::MAX_FILE_BYTES;
                        if size > limit {
                            out.send(FileEvent::Refused(FileError::new(
                                file.path(),
                                Problem::TooBig { size, limit },
                            )));
                            return;
                        }
                        match file.bytes_async().await {
                            Ok(bytes) => inputs.push(Input::bytes(file.path(), bytes)),
                            Err(e) => {
                                out.send(FileEvent::Failed(e));
                                return;
                            }
                        }
                    }
                    out.send(FileEvent::Dropped(inputs));
                });
            }
            Vec::new()
        }
    }

    /// Reads `input` with `read` in the background (a session named on the
    /// command line, a model or picture dropped on the window).
    pub fn open(&self, input: Input, read: fn(&Input) -> FileEvent) {
        self.jobs.spawn("file-open", move |out| {
            out.send(read(&input));
        });
    }

    /// Asks for a student's tensor files (`.npy`, `.csv`, `.safetensors`),
    /// then checks them against `trace`.
    pub fn check_dialog(&self, trace: Trace, batch: u64) {
        self.pick(
            tr("Your tensors: .npy, .csv or .safetensors named as in the trace"),
            &[(tr("tensors"), &["npy", "csv", "safetensors"])],
            true,
            tr("No file dialog is available here: drop your .npy or .csv files on the window instead."),
            move |inputs| Some(check_files(&inputs, &trace, batch)),
        );
    }

    /// Reads and checks files handed in (dropped on the window).
    pub fn check_inputs(&self, inputs: Vec<Input>, trace: Trace, batch: u64) {
        self.jobs.spawn("check-files", move |out| {
            out.send(check_files(&inputs, &trace, batch));
        });
    }

    /// Asks for several learners' prediction records and sums them.
    pub fn class_record_dialog(&self) {
        self.pick(
            tr("The learners' prediction records"),
            &[("JSON", &["json"])],
            true,
            tr("No file dialog is available here."),
            |inputs| {
                Some(match crate::teach::record::class_record(&inputs) {
                    Ok(class) => FileEvent::ClassRecord(class),
                    Err(e) => FileEvent::Refused(e),
                })
            },
        );
    }

    /// Asks for a live class's database and reads its report (read-only:
    /// a class still running is not disturbed).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn class_report_dialog(&self) {
        self.jobs.spawn("class-report-dialog", move |out| {
            let started = Instant::now();
            let event = match rfd::FileDialog::new()
                .set_title(tr("A live class's database"))
                .add_filter("SQLite", &["sqlite", "db"])
                .pick_file()
            {
                Some(path) => match crate::class::report::read(&path, false) {
                    Ok(report) => FileEvent::ClassReport(report.to_text()),
                    Err(e) => FileEvent::Failed(e.to_string()),
                },
                None if started.elapsed() < NO_DIALOG_WITHIN => FileEvent::Failed(
                    tr("No file dialog is available here: use backprop-viz class-report --db FILE.").into(),
                ),
                None => return,
            };
            out.send(event);
        });
    }

    /// Asks for a folder and writes the step's exercise there.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn export_exercise_dialog(&self, trace: Trace) {
        self.jobs.spawn("exercise-dialog", move |out| {
            let started = Instant::now();
            let event = match rfd::FileDialog::new()
                .set_title(tr("A folder for the exercise"))
                .pick_folder()
            {
                Some(dir) => match crate::check::exercise::write_exercise(&trace, &dir) {
                    Ok(_) => FileEvent::Saved(trf!(
                        "Wrote the exercise to {dir}: the step's inputs, weights, outputs and deltas from above, with instructions and starter.py.",
                        dir = dir.display()
                    )),
                    Err(e) => FileEvent::Failed(e.to_string()),
                },
                None if started.elapsed() < NO_DIALOG_WITHIN => FileEvent::Failed(
                    tr("No file dialog is available here: use backprop-viz trace --exercise DIR.").into(),
                ),
                None => return,
            };
            out.send(event);
        });
    }

    /// Asks for one file (or several) and hands them to `then` in the
    /// background; what `then` returns is sent to the app. On the desktop
    /// the native dialog runs on the job's thread; in the browser the
    /// page's file picker answers later, with the files' bytes.
    fn pick(
        &self,
        title: &'static str,
        filters: &[(&'static str, &'static [&'static str])],
        many: bool,
        no_dialog: &'static str,
        then: impl FnOnce(Vec<Input>) -> Option<FileEvent> + Send + 'static,
    ) {
        let filters = filters.to_vec();
        #[cfg(not(target_arch = "wasm32"))]
        self.jobs.spawn("open-dialog", move |out| {
            let started = Instant::now();
            let mut dialog = rfd::FileDialog::new().set_title(title);
            for (name, extensions) in filters {
                dialog = dialog.add_filter(name, extensions);
            }
            let picked = if many {
                dialog.pick_files()
            } else {
                dialog.pick_file().map(|p| vec![p])
            };
            let event = match picked {
                Some(paths) => then(paths.into_iter().map(Input::path).collect()),
                None if started.elapsed() < NO_DIALOG_WITHIN => {
                    Some(FileEvent::Failed(no_dialog.into()))
                }
                None => None,
            };
            if let Some(event) = event {
                out.send(event);
            }
        });
        #[cfg(target_arch = "wasm32")]
        {
            let _ = no_dialog;
            let out = self.jobs.outbox();
            wasm_bindgen_futures::spawn_local(async move {
                match crate::platform::pick_files(title, &filters, many).await {
                    Ok(inputs) if inputs.is_empty() => {}
                    Ok(inputs) => {
                        if let Some(event) = then(inputs) {
                            out.send(event);
                        }
                    }
                    Err(e) => {
                        out.send(FileEvent::Refused(e));
                    }
                }
            });
        }
    }
}

/// Reads every file handed in and checks it against `trace`.
fn check_files(inputs: &[Input], trace: &Trace, batch: u64) -> FileEvent {
    let mut handed = Vec::new();
    for input in inputs {
        match crate::io::handin::handed_within(input, crate::check::most_values(trace)) {
            Ok(tensors) => handed.extend(tensors),
            Err(e) => return FileEvent::Refused(e),
        }
    }
    match crate::check::checked::Checked::new(trace, handed, batch) {
        Ok(checked) => FileEvent::Checked(Box::new(checked)),
        Err(e) => FileEvent::Failed(e.to_string()),
    }
}

/// Reads a session; when its preset is not one that builds (a JSON file
/// gone or changed), Reset returns to the session's network as saved.
pub fn open_session(input: &Input) -> FileEvent {
    let session = input
        .read(crate::io::file::MAX_FILE_BYTES)
        .and_then(|bytes| crate::io::session::read_session(&input.path, &bytes));
    match session {
        Ok(session) => {
            let s = &session.settings.config;
            let start = crate::presets::network_from_preset(&s.preset, s.seed)
                .is_err()
                .then(|| Box::new(session.network.clone()));
            FileEvent::SessionOpened(Box::new(session), start, input.path.display().to_string())
        }
        Err(e) => FileEvent::Refused(e),
    }
}

pub fn open_model(input: &Input) -> FileEvent {
    let model = input
        .read(crate::io::file::MAX_FILE_BYTES)
        .and_then(|bytes| crate::io::model::read_model(&input.path, &bytes));
    match model {
        Ok(net) => FileEvent::Opened(Box::new(net), input.path.display().to_string()),
        Err(e) => FileEvent::Refused(e),
    }
}

/// Reads a picture (PNG or JPEG, at most 50 megapixels) for the drawing pad.
pub fn open_picture(input: &Input) -> FileEvent {
    let pixels = input
        .read(crate::io::file::MAX_FILE_BYTES)
        .and_then(|bytes| crate::data::preprocess::picture_from_bytes(&input.path, &bytes));
    match pixels {
        Ok(pixels) => FileEvent::Picture(pixels, input.path.display().to_string()),
        Err(e) => FileEvent::Refused(e),
    }
}

/// A safetensors file dropped on the window: a model or a session, by the
/// format its metadata names.
pub fn open_tensor_file(input: &Input) -> FileEvent {
    let bytes = match input.read(crate::io::file::MAX_FILE_BYTES) {
        Ok(bytes) => bytes,
        Err(e) => return FileEvent::Refused(e),
    };
    match crate::io::tensors::parse(&input.path, &bytes, crate::io::model::FORMAT) {
        Err(FileError {
            problem: Problem::WrongFormat { found, .. },
            ..
        }) if found.contains(crate::io::session::FORMAT) => open_session(input),
        // No format at all: tensors a student saved to be checked.
        Err(FileError {
            problem: Problem::WrongFormat { found, .. },
            ..
        }) if found.contains("(none)") => FileEvent::HandIn(vec![input.clone()]),
        _ => open_model(input),
    }
}

/// A `.npy` or `.csv` file: a student's tensor, handed in to be checked.
pub fn is_hand_in(path: &Path) -> bool {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    matches!(ext.as_str(), "npy" | "csv")
}

/// Which reader a dropped file goes to, by its name: pictures to the
/// drawing pad, safetensors to the model or session loader; `None` for the
/// rest (MNIST's files, which the data panel loads together, and `.npy`
/// and `.csv` tensors, checked together).
pub fn reader_for_dropped(path: &Path) -> Option<fn(&Input) -> FileEvent> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "png" | "jpg" | "jpeg" => Some(open_picture),
        "safetensors" => Some(open_tensor_file),
        _ => None,
    }
}
