//! Keyboard shortcuts, so a teacher can step through a lesson without
//! hunting for buttons on a projector, and the overlay that lists them.

use egui::{Key, RichText, Ui};

use crate::app::command::{LessonMove, UiCommand};
use crate::app::cx::Cx;
use crate::app::state::AppState;
use crate::i18n::tr;
use crate::teach::animation::Animation;

/// `(keys, what they do)`, shown by `?` / F1, in the current language.
pub fn shortcuts() -> [(&'static str, &'static str); 17] {
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
            tr("Guided lesson: next / previous step; PgDn also starts it and first reveals a covered step (presentation clickers send these)"),
        ),
        ("B", tr("Blank the screen (any key brings it back)")),
        (
            "A",
            tr("Play or pause the view's animation (conv sums, pooling, flatten)"),
        ),
        (", / .", tr("Animation: one frame back / on")),
        (
            "V",
            tr("Predict mode: reveal the covered step for the whole class"),
        ),
        (
            "1 – 9",
            tr("Predict mode: choose that option of the question on screen"),
        ),
        (
            "T",
            tr("Live class: show or hide how the room answered"),
        ),
        (
            "D",
            tr("Live class: discuss and vote again (round 2)"),
        ),
        ("Esc", tr("Stop replaying a link where it is")),
        (tr("? or F1"), tr("Show or hide this list")),
    ]
}

/// The class's keys, and the digits that answer a covered question: a
/// laptop in a class answers without the mouse, a teacher runs the rounds
/// from the keyboard.
fn class_keys(state: &AppState, pressed: &dyn Fn(Key) -> bool) -> Vec<UiCommand> {
    use crate::app::command::ClassMove;
    let mut out = Vec::new();
    let digits = [
        Key::Num1,
        Key::Num2,
        Key::Num3,
        Key::Num4,
        Key::Num5,
        Key::Num6,
        Key::Num7,
        Key::Num8,
        Key::Num9,
    ];
    if let (true, Some(p)) = (state.covering(), &state.prediction) {
        if let Some(k) = digits.iter().position(|&d| pressed(d)) {
            let choices =
                |ask: &crate::teach::predict::Ask| crate::teach::predict::wire_options(ask).len();
            // The first question with options still unanswered, else the first.
            let at = p
                .asks
                .iter()
                .position(|(a, g)| choices(a) > 0 && !a.answered(g))
                .or_else(|| p.asks.iter().position(|(a, _)| choices(a) > 0));
            if let Some(at) = at.filter(|&at| k < choices(&p.asks[at].0)) {
                let mut p = p.clone();
                p.asks[at].1 = crate::teach::predict::Given::Choice(k);
                out.push(UiCommand::Answer(p));
            }
        }
    }
    if let Some(c) = state.class.as_ref().filter(|c| c.teacher()) {
        if pressed(Key::T) {
            out.push(UiCommand::Class(ClassMove::ShowTally(!c.show_tally)));
        }
        if pressed(Key::D) {
            out.push(UiCommand::Class(ClassMove::Revote));
        }
    }
    out
}

/// Turns this frame's key presses into commands (none while a text or
/// number field is being edited: the keys are typing then). `animatable`
/// is what key A starts in the view on screen.
pub fn keys(
    ctx: &egui::Context,
    state: &AppState,
    animatable: Option<&Animation>,
) -> Vec<UiCommand> {
    let mut out = Vec::new();
    if ctx.text_edit_focused() {
        return out;
    }
    let pressed = |key: Key| ctx.input(|i| i.key_pressed(key));
    let running = state.running();
    if pressed(Key::ArrowLeft) && !running {
        out.push(UiCommand::Back);
    }
    // A blank screen comes back with any key, which does nothing else.
    if state.blanked {
        if ctx.input(|i| {
            i.events
                .iter()
                .any(|e| matches!(e, egui::Event::Key { pressed: true, .. }))
        }) {
            out.push(UiCommand::Blank(false));
        }
        return out;
    }
    if pressed(Key::B) {
        out.push(UiCommand::Blank(true));
        return out;
    }
    let (page_down, page_up) = (pressed(Key::PageDown), pressed(Key::PageUp));
    // A clicker's "start the presentation" key starts (or resumes) the lesson.
    let page_down = page_down || (pressed(Key::F5) && state.lesson.open.is_none());
    if let Some(step) = state.lesson.open {
        // A clicker runs on from the main lesson's end into the optional
        // chapter (its only way there: the button needs a mouse).
        let steps = crate::teach::lesson::steps().len();
        if page_down && state.covering() {
            // A clicker has no V: the first press shows what the class
            // predicted, the next moves on.
            out.push(UiCommand::Reveal);
        } else if page_down && step + 1 < steps {
            out.push(UiCommand::Lesson(LessonMove::Go(step + 1)));
        }
        if page_up && step > 0 {
            out.push(UiCommand::Lesson(LessonMove::Go(step - 1)));
        }
    } else if page_down && !state.confirm_lesson {
        // A presentation clicker starts the lesson too (asking first if
        // that would reset training), as the first-start card's button.
        out.push(UiCommand::Lesson(LessonMove::Start));
    }
    if pressed(Key::ArrowRight) && !running {
        out.push(UiCommand::Forward);
    }
    let help = ctx.input(|i| {
        i.events
            .iter()
            .any(|e| matches!(e, egui::Event::Text(t) if t == "?"))
    }) || pressed(Key::F1);
    if pressed(Key::Space) && !running {
        out.push(UiCommand::StepPhase);
    }
    if pressed(Key::Enter) && !running {
        out.push(UiCommand::StepBatch);
    }
    out.extend(class_keys(state, &pressed));
    if pressed(Key::R) {
        out.push(if running {
            UiCommand::Pause
        } else {
            UiCommand::Run
        });
    }
    if pressed(Key::Z) {
        out.push(UiCommand::Reset);
    }
    if pressed(Key::Escape) && state.replaying().is_some() {
        out.push(UiCommand::StopReplay);
    }
    if pressed(Key::V) {
        out.push(UiCommand::Reveal);
    }
    if pressed(Key::P) {
        let mut settings = state.settings.clone();
        settings.projector = !settings.projector;
        out.push(UiCommand::SetSettings(Box::new(settings)));
    }
    if help {
        out.push(UiCommand::ShowShortcuts(!state.show_shortcuts));
    }
    animation_keys(ctx, state, animatable, &mut out);
    out
}

/// Keys for the animations: A starts the view's first one, then plays or
/// pauses; comma and period step a frame.
fn animation_keys(
    ctx: &egui::Context,
    state: &AppState,
    animatable: Option<&Animation>,
    out: &mut Vec<UiCommand>,
) {
    let pressed = |key: Key| ctx.input(|i| i.key_pressed(key));
    let (play, back, on) = (pressed(Key::A), pressed(Key::Comma), pressed(Key::Period));
    let Some(a) = &state.animation else {
        if play {
            out.push(UiCommand::SetAnimation(animatable.cloned()));
        }
        return;
    };
    let mut a = a.clone();
    if play {
        let frames = state.snapshot.as_ref().map_or(0, |s| {
            crate::teach::animation::frames(&s.trace, a.kind, a.target)
        });
        if !a.playing && frames > 0 && a.at >= (frames - 1) as f64 {
            // At the end, A plays it again from the start.
            a.at = 0.0;
            a.playing = true;
        } else {
            a.playing = !a.playing;
        }
    }
    if back {
        a.at = (a.at.floor() - 1.0).max(0.0);
        a.playing = false;
    }
    if on {
        a.at = a.at.floor() + 1.0;
        a.playing = false;
    }
    if play || back || on {
        out.push(UiCommand::SetAnimation(Some(a)));
    }
}

/// The list of shortcuts, in a window over the views.
pub fn shortcuts_window(ui: &Ui, cx: &mut Cx) {
    if !cx.state.show_shortcuts {
        return;
    }
    let mut open = true;
    // Never wider or taller than the window (Russian is long, a projector
    // small): the descriptions wrap, the list scrolls.
    let screen = ui.ctx().content_rect();
    egui::Window::new(tr("Keyboard shortcuts"))
        // A fixed id: the title changes with the language.
        .id(egui::Id::unique("keyboard shortcuts"))
        .open(&mut open)
        .collapsible(false)
        .resizable(false)
        .max_width((screen.width() - 40.0).min(640.0))
        .max_height(screen.height() - 60.0)
        .constrain(true)
        .show(ui.ctx(), |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                egui::Grid::new("shortcuts")
                    .num_columns(2)
                    .spacing([24.0, 8.0])
                    .show(ui, |ui| {
                        for (keys, what) in shortcuts() {
                            ui.label(RichText::new(keys).monospace().strong());
                            ui.add(egui::Label::new(what).wrap());
                            ui.end_row();
                        }
                    });
            });
        });
    if !open {
        cx.command(UiCommand::ShowShortcuts(false));
    }
}
