//! The reducer's part for files: the File menu's actions, files dropped or
//! handed in, and what a file job sent.

use crate::app::files::{self, FileEvent};
use crate::app::state::{AppState, MessageKind, NetworkSource};
use crate::engine::trace::Trace;
use crate::i18n::tr;
use crate::io::file::Input;
use crate::teach::lesson::Tab;
use crate::trf;

use super::teaching::show_checked;
use super::training::resume_session;
use super::{apply, say, Effect, FileAction, UiCommand};

/// The step on screen to check against, or a word on why there is none.
pub(super) fn checkable(s: &mut AppState) -> Option<(Trace, u64)> {
    let step = s.checkable_step();
    if step.is_none() {
        say(s, MessageKind::Warning, || {
            tr("Your backprop is checked against the step on screen: step through its backward pass first (Step batch), then check.").to_string()
        });
    }
    step
}

/// Reads the files handed in and checks them against the step on screen,
/// off the UI thread.
pub(super) fn hand_in(s: &mut AppState, inputs: Vec<Input>, fx: &mut Vec<Effect>) {
    if let Some((trace, batch)) = checkable(s) {
        fx.push(Effect::CheckInputs(inputs, trace, batch));
    }
}

/// Files dropped on the window, each to its reader: pictures, models and
/// sessions one by one; tensors checked together; the rest (MNIST's files,
/// folders) to the data panel together.
pub(super) fn dropped(s: &mut AppState, inputs: Vec<Input>, fx: &mut Vec<Effect>) {
    let (mut dataset, mut handed) = (Vec::new(), Vec::new());
    for input in inputs {
        match files::reader_for_dropped(&input.path) {
            Some(read) => fx.push(Effect::Open(input, read)),
            None if files::is_hand_in(&input.path) => handed.push(input),
            None => dataset.push(input),
        }
    }
    if !handed.is_empty() {
        hand_in(s, handed, fx);
    }
    if !dataset.is_empty() {
        s.tab = Tab::Data;
        fx.push(Effect::LoadData(dataset));
    }
}

/// What a file job sent.
pub(super) fn file_event(s: &mut AppState, event: FileEvent, fx: &mut Vec<Effect>) {
    match event {
        // Saved by the app's top level, which has the window.
        FileEvent::Screenshot(_) => {}
        FileEvent::Dropped(inputs) => dropped(s, inputs, fx),
        FileEvent::HandIn(inputs) => hand_in(s, inputs, fx),
        FileEvent::ClassRecord(class) => s.class_record = Some(class),
        FileEvent::ClassReport(text) => s.class_report = Some(text),
        FileEvent::Checked(checked) => show_checked(s, checked),
        FileEvent::Saved(text) => s.message = Some((MessageKind::Info, text.into())),
        FileEvent::Failed(text) => s.message = Some((MessageKind::Error, text.into())),
        FileEvent::Refused(error) => say(s, MessageKind::Error, move || {
            trf!(
                "Could not open {error}. Nothing was changed: what was loaded stays.",
                error = error
            )
        }),
        FileEvent::Opened(net, source) => apply(
            s,
            UiCommand::UseNetwork(net, NetworkSource::File(NetworkSource::file(&source))),
            fx,
        ),
        FileEvent::SessionOpened(session, start, source) => {
            resume_session(s, session, start, source, fx)
        }
        FileEvent::Picture(pixels, source) => {
            fx.push(Effect::Picture(pixels));
            s.tab = Tab::Draw;
            say(s, MessageKind::Info, move || {
                trf!(
                    "The picture {source} is on the drawing pad, as the network sees it (28x28, centred).",
                    source = source
                )
            });
        }
    }
}

/// The File menu's actions, as effects (what they save is read here).
pub(super) fn file_action(s: &mut AppState, action: FileAction, fx: &mut Vec<Effect>) {
    match action {
        FileAction::SaveModel => {
            if let Some(snapshot) = &s.snapshot {
                fx.push(Effect::Save {
                    title: tr("Save the model"),
                    name: "model.safetensors".into(),
                    bytes: crate::io::model_bytes(&snapshot.network),
                });
            }
        }
        FileAction::ExportPng => fx.push(Effect::Screenshot),
        FileAction::OpenModel => fx.push(Effect::OpenModelDialog),
        FileAction::SaveSession => fx.push(Effect::SaveSession),
        FileAction::OpenSession => fx.push(Effect::OpenSessionDialog),
        FileAction::ExportTrace => match s
            .snapshot
            .as_ref()
            .map(|snap| crate::io::trace_bytes(&snap.trace))
        {
            Some(Ok(bytes)) => fx.push(Effect::Save {
                title: tr("Export the trace"),
                name: "trace.safetensors".into(),
                bytes,
            }),
            Some(Err(why)) => say(s, MessageKind::Warning, move || {
                trf!(
                    "Nothing to export yet: {why}. Step through the loss and the backward pass first.",
                    why = why
                )
            }),
            None => {}
        },
        FileAction::ExportExercise => {
            // An exercise is a folder of files; a page can only download
            // them one by one.
            if cfg!(target_arch = "wasm32") {
                say(s, MessageKind::Info, || {
                    tr("An exercise is a folder of files: export it from the desktop app, or with backprop-viz trace --exercise DIR.").to_string()
                });
            } else if let Some(snapshot) = &s.snapshot {
                fx.push(Effect::ExportExercise(snapshot.trace.clone()));
            }
        }
        FileAction::ShareMoment => match s.moment() {
            Ok(m) => {
                // In the browser: the page's own address with this moment,
                // also put in the address bar.
                let link = crate::platform::share_link(&m.to_fragment());
                fx.push(Effect::CopyText(link.clone()));
                say(s, MessageKind::Info, move || {
                    trf!("Copied the link to this moment: {link}", link = link)
                });
            }
            Err(why) => say(s, MessageKind::Warning, move || why.to_string()),
        },
        FileAction::SavePredictions => fx.push(Effect::Save {
            title: tr("Save my predictions"),
            name: "predictions.json".into(),
            bytes: crate::teach::record::record_bytes(&s.predictions),
        }),
        FileAction::OpenClassRecord => fx.push(Effect::ClassRecordDialog),
        FileAction::ClassReport => fx.push(Effect::ClassReportDialog),
        FileAction::CheckMine => {
            if let Some((trace, batch)) = checkable(s) {
                fx.push(Effect::CheckDialog(trace, batch));
            }
        }
        FileAction::SaveCsv(name, bytes) => fx.push(Effect::Save {
            title: tr("Export a tensor as CSV"),
            name: format!("{name}.csv"),
            bytes,
        }),
    }
}
