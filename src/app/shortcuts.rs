//! Keyboard shortcuts, so a teacher can step through a lesson without
//! hunting for buttons on a projector, and the overlay that lists them.

use egui::{Key, RichText, Ui};

use super::{BackpropApp, LessonMove, UiCommand};
use crate::i18n::tr;

/// `(keys, what they do)`, shown by `?` / F1, in the current language.
pub fn shortcuts() -> [(&'static str, &'static str); 13] {
    [
        (tr("Space"), tr("Step layer: run the next phase")),
        ("Enter", tr("Step batch: finish the current batch")),
        ("R", tr("Run or pause training")),
        ("Z", tr("Reset to the same start")),
        (
            "←",
            tr("Back one step in time (every view shows that moment)"),
        ),
        (
            "→",
            tr("Forward one step (replays what ← undid, else steps a layer)"),
        ),
        ("P", tr("Projector mode on or off")),
        (
            "PgDn / PgUp",
            tr("Guided lesson: next / previous step; PgDn also starts it (presentation clickers send these)"),
        ),
        (
            "A",
            tr("Play or pause the view's animation (conv sums, pooling, flatten)"),
        ),
        (", / .", tr("Animation: one frame back / on")),
        (
            "V",
            tr("Predict mode: reveal the covered step for the whole class"),
        ),
        ("Esc", tr("Stop replaying a link where it is")),
        (tr("? or F1"), tr("Show or hide this list")),
    ]
}

/// Turns this frame's key presses into commands (none while a text or
/// number field is being edited: the keys are typing then).
pub fn handle_keys(app: &mut BackpropApp, ui: &Ui) {
    let ctx = ui.ctx();
    if ctx.text_edit_focused() {
        return;
    }
    let (left, right) = ctx.input(|i| {
        (
            i.key_pressed(Key::ArrowLeft),
            i.key_pressed(Key::ArrowRight),
        )
    });
    let running = app.snapshot.as_ref().is_some_and(|s| s.running);
    if left && !running {
        app.command(UiCommand::Back);
    }
    let (page_down, page_up) =
        ctx.input(|i| (i.key_pressed(Key::PageDown), i.key_pressed(Key::PageUp)));
    if let Some(step) = app.lesson.open {
        if page_down && step + 1 < super::lesson::steps().len() {
            app.command(UiCommand::Lesson(LessonMove::Go(step + 1)));
        }
        if page_up && step > 0 {
            app.command(UiCommand::Lesson(LessonMove::Go(step - 1)));
        }
    } else if page_down && !app.confirm_lesson {
        // A presentation clicker starts the lesson too (asking first if
        // that would reset training), as the first-start card's button.
        app.command(UiCommand::Lesson(LessonMove::Start));
    }
    if right && !running {
        app.command(UiCommand::Forward);
    }
    let (space, enter, r, z, p, help) = ctx.input(|i| {
        let question = i
            .events
            .iter()
            .any(|e| matches!(e, egui::Event::Text(t) if t == "?"));
        (
            i.key_pressed(Key::Space),
            i.key_pressed(Key::Enter),
            i.key_pressed(Key::R),
            i.key_pressed(Key::Z),
            i.key_pressed(Key::P),
            question || i.key_pressed(Key::F1),
        )
    });
    if space && !running {
        app.command(UiCommand::StepPhase);
    }
    if enter && !running {
        app.command(UiCommand::StepBatch);
    }
    if r {
        app.command(if running {
            UiCommand::Pause
        } else {
            UiCommand::Run
        });
    }
    if z {
        app.command(UiCommand::Reset);
    }
    if ctx.input(|i| i.key_pressed(Key::Escape)) && app.replaying().is_some() {
        app.command(UiCommand::StopReplay);
    }
    if ctx.input(|i| i.key_pressed(Key::V)) {
        app.command(UiCommand::Reveal);
    }
    if p {
        app.settings.projector = !app.settings.projector;
    }
    if help {
        app.show_shortcuts = !app.show_shortcuts;
    }
}

/// The list of shortcuts, in a window over the views.
pub fn shortcuts_window(app: &mut BackpropApp, ui: &Ui) {
    let mut open = app.show_shortcuts;
    egui::Window::new(tr("Keyboard shortcuts"))
        // A fixed id: the title changes with the language.
        .id(egui::Id::unique("keyboard shortcuts"))
        .open(&mut open)
        .collapsible(false)
        .resizable(false)
        .show(ui.ctx(), |ui| {
            egui::Grid::new("shortcuts")
                .num_columns(2)
                .spacing([24.0, 8.0])
                .show(ui, |ui| {
                    for (keys, what) in shortcuts() {
                        ui.label(RichText::new(keys).monospace().strong());
                        ui.label(what);
                        ui.end_row();
                    }
                });
        });
    app.show_shortcuts = open;
}
