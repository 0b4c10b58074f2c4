//! Keeping and sharing: save and open models and sessions, export the
//! current step's trace (safetensors) and any traced tensor as CSV, open a
//! picture dropped on the window. Dialogs, reading and writing run on their
//! own thread (never blocking the frame); every write is atomic, so a failed
//! export never costs the file that was there.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::jobs::{Jobs, Repaint};

use crate::engine::network::Network;
use crate::engine::trace::Trace;
use crate::i18n::tr;
use crate::io::file::{FileError, Problem};
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
    HandIn(Vec<PathBuf>),
    /// A student's tensors, checked.
    Checked(Box<super::panels::checked::Checked>),
    /// Several learners' prediction records, summed.
    ClassRecord(super::record::ClassRecord),
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
    /// thread: a session waits there for the worker's state).
    pub fn save_dialog_with(
        &self,
        title: &str,
        suggested: &str,
        bytes: impl FnOnce() -> Result<Vec<u8>, String> + Send + 'static,
    ) {
        let (title, suggested) = (title.to_string(), suggested.to_string());
        self.jobs.spawn("save-dialog", move |out| {
            let started = Instant::now();
            let path = rfd::FileDialog::new()
                .set_title(&title)
                .set_file_name(&suggested)
                .save_file();
            let event = match path {
                Some(path) => match bytes().and_then(|bytes| write_file(&path, &bytes)) {
                    Ok(text) => FileEvent::Saved(text),
                    Err(text) => FileEvent::Failed(text),
                },
                None if started.elapsed() < NO_DIALOG_WITHIN => FileEvent::Failed(
                    tr("No file dialog is available here (no desktop portal or zenity). Models and traces can also be written from the command line: train --save, trace --out.").into(),
                ),
                None => return,
            };
            out.send(event);
        });
    }

    /// Asks for a model file and reads it (a bad file is an error message).
    pub fn open_model_dialog(&self) {
        self.open_dialog(
            tr("Open a model (safetensors)"),
            tr("No file dialog is available here: start with --model FILE."),
            open_model,
        );
    }

    /// Asks for a saved session and reads it.
    pub fn open_session_dialog(&self) {
        self.open_dialog(
            tr("Open a session"),
            tr("No file dialog is available here: start with --session FILE."),
            open_session,
        );
    }

    /// Reads `path` with `read` on a background thread (a session named on
    /// the command line, a model or picture dropped on the window).
    pub fn open_path(&self, path: PathBuf, read: fn(&Path) -> FileEvent) {
        self.jobs.spawn("file-open", move |out| {
            out.send(read(&path));
        });
    }

    /// Asks for a student's tensor files (`.npy`, `.csv`, `.safetensors`),
    /// then checks them against `trace`.
    pub fn check_dialog(&self, trace: Trace, batch: u64) {
        self.jobs.spawn("check-dialog", move |out| {
            let started = Instant::now();
            let picked = rfd::FileDialog::new()
                .set_title(tr("Your tensors: .npy, .csv or .safetensors named as in the trace"))
                .add_filter(tr("tensors"), &["npy", "csv", "safetensors"])
                .pick_files();
            match picked {
                Some(paths) => out.send(check_files(&paths, &trace, batch)),
                None if started.elapsed() < NO_DIALOG_WITHIN => out.send(FileEvent::Failed(
                    tr("No file dialog is available here: drop your .npy or .csv files on the window instead.").into(),
                )),
                None => true,
            };
        });
    }

    /// Reads and checks files handed in (dropped on the window).
    pub fn check_paths(&self, paths: Vec<PathBuf>, trace: Trace, batch: u64) {
        self.jobs.spawn("check-files", move |out| {
            out.send(check_files(&paths, &trace, batch));
        });
    }

    /// Asks for several learners' prediction records and sums them.
    pub fn class_record_dialog(&self) {
        self.jobs.spawn("record-dialog", move |out| {
            let started = Instant::now();
            let picked = rfd::FileDialog::new()
                .set_title(tr("The learners' prediction records"))
                .add_filter("JSON", &["json"])
                .pick_files();
            let event = match picked {
                Some(paths) => match super::record::class_record(&paths) {
                    Ok(class) => FileEvent::ClassRecord(class),
                    Err(e) => FileEvent::Refused(e),
                },
                None if started.elapsed() < NO_DIALOG_WITHIN => {
                    FileEvent::Failed(tr("No file dialog is available here.").into())
                }
                None => return,
            };
            out.send(event);
        });
    }

    /// Asks for a folder and writes the step's exercise there.
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

    /// Asks for a file, then `read`s it on the dialog's thread.
    fn open_dialog(
        &self,
        title: &'static str,
        no_dialog: &'static str,
        read: fn(&Path) -> FileEvent,
    ) {
        self.jobs.spawn("open-dialog", move |out| {
            let started = Instant::now();
            let event = match rfd::FileDialog::new().set_title(title).pick_file() {
                Some(path) => read(&path),
                None if started.elapsed() < NO_DIALOG_WITHIN => FileEvent::Failed(no_dialog.into()),
                None => return,
            };
            out.send(event);
        });
    }
}

/// Reads every file handed in and checks it against `trace`.
fn check_files(paths: &[PathBuf], trace: &Trace, batch: u64) -> FileEvent {
    let mut handed = Vec::new();
    for path in paths {
        match crate::io::read_handed(path) {
            Ok(tensors) => handed.extend(tensors),
            Err(e) => return FileEvent::Refused(e),
        }
    }
    match super::panels::checked::Checked::new(trace, handed, batch) {
        Ok(checked) => FileEvent::Checked(Box::new(checked)),
        Err(e) => FileEvent::Failed(e),
    }
}

/// rfd returns `None` both when the user cancels and when there is no
/// dialog at all (no desktop portal, no zenity). Without a dialog it
/// returns within milliseconds; nobody cancels a real dialog that fast.
pub const NO_DIALOG_WITHIN: Duration = Duration::from_millis(300);

/// Reads a session; when its preset is not one that builds (a JSON file
/// gone or changed), Reset returns to the session's network as saved.
pub fn open_session(path: &Path) -> FileEvent {
    match crate::io::load_session(path) {
        Ok(session) => {
            let s = &session.settings.config;
            let start = crate::presets::network_from_preset(&s.preset, s.seed)
                .is_err()
                .then(|| Box::new(session.network.clone()));
            FileEvent::SessionOpened(Box::new(session), start, path.display().to_string())
        }
        Err(e) => FileEvent::Refused(e),
    }
}

pub fn open_model(path: &Path) -> FileEvent {
    match crate::io::load_model(path) {
        Ok(net) => FileEvent::Opened(Box::new(net), path.display().to_string()),
        Err(e) => FileEvent::Refused(e),
    }
}

/// Reads a picture (PNG or JPEG, at most 50 megapixels) for the drawing pad.
pub fn open_picture(path: &Path) -> FileEvent {
    match crate::data::preprocess::load_picture(path) {
        Ok(pixels) => FileEvent::Picture(pixels, path.display().to_string()),
        Err(e) => FileEvent::Refused(e),
    }
}

/// A safetensors file dropped on the window: a model or a session, by the
/// format its metadata names.
pub fn open_tensor_file(path: &Path) -> FileEvent {
    let bytes = match crate::io::file::read_file(path) {
        Ok(bytes) => bytes,
        Err(e) => return FileEvent::Refused(e),
    };
    match crate::io::tensors::parse(path, &bytes, crate::io::model::FORMAT) {
        Err(FileError {
            problem: Problem::WrongFormat { found, .. },
            ..
        }) if found.contains(crate::io::session::FORMAT) => open_session(path),
        // No format at all: tensors a student saved to be checked.
        Err(FileError {
            problem: Problem::WrongFormat { found, .. },
            ..
        }) if found.contains("(none)") => FileEvent::HandIn(vec![path.to_path_buf()]),
        _ => open_model(path),
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
pub fn reader_for_dropped(path: &Path) -> Option<fn(&Path) -> FileEvent> {
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
