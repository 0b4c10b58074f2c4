//! Playing a layer's sums (or routings) as they form: the play / step / scrub bar,
//! and the clock that advances it. The frames themselves (`crate::animation`)
//! are computed from the trace's numbers; the views draw them.

use egui::{RichText, Ui};

use super::BackpropApp;
use crate::animation::{frame, frames, Frame, Kind, Target};
use crate::engine::trace::Trace;
use crate::i18n::tr;
use crate::trf;

/// An animation in progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Animation {
    pub kind: Kind,
    pub target: Target,
    /// The frame shown, as a real number so that slow speeds advance
    /// smoothly between whole frames.
    pub at: f64,
    pub playing: bool,
    /// Frames per second.
    pub speed: f64,
    /// The step it belongs to (the identity of the layer's traced output):
    /// a new step ends it.
    pub step: usize,
}

/// The speeds offered, in frames per second.
const SPEEDS: [(f64, &str); 3] = [(4.0, "slow"), (15.0, "normal"), (60.0, "fast")];

/// The identity of a trace's step for layer `i` (its output tensor).
pub fn step_id(t: &Trace, i: usize) -> usize {
    t.layers[i]
        .out
        .as_ref()
        .map_or(0, |o| std::sync::Arc::as_ptr(o) as usize)
}

impl Animation {
    pub fn frame_index(&self) -> usize {
        self.at.floor().max(0.0) as usize
    }

    /// The frame to draw, if the trace still holds this step.
    pub fn current(&self, t: &Trace) -> Option<Frame> {
        (step_id(t, self.target.layer) == self.step)
            .then(|| frame(t, self.kind, self.target, self.frame_index()))
            .flatten()
    }
}

impl BackpropApp {
    /// Moves a playing animation on by `seconds` (called once per frame);
    /// ends one whose step is gone.
    pub fn advance_animation(&mut self, seconds: f64) {
        let Some(s) = &self.snapshot else { return };
        let Some(a) = &mut self.animation else { return };
        if a.target.layer >= s.trace.layers.len() || step_id(&s.trace, a.target.layer) != a.step {
            self.animation = None;
            return;
        }
        let count = frames(&s.trace, a.kind, a.target);
        a.at = a.at.min(count.saturating_sub(1) as f64);
        if a.playing {
            a.at = (a.at + seconds * a.speed).min(count.saturating_sub(1) as f64);
            if a.frame_index() + 1 >= count {
                a.playing = false;
            }
        }
    }
}

/// The bar under a conv view's caption: start an animation of `kinds`, or
/// play / step / scrub the one running. With `lead`, that caption opens the
/// same row (a small window has no room for a row of its own).
pub fn controls_ui(
    app: &mut BackpropApp,
    ui: &mut Ui,
    t: &Trace,
    target: Target,
    kinds: &[(Kind, &str)],
    lead: Option<&str>,
) {
    // The first of them is what key A starts.
    app.animatable = kinds
        .first()
        .filter(|(kind, _)| frames(t, *kind, target) > 0)
        .map(|&(kind, _)| Animation {
            kind,
            target,
            at: 0.0,
            playing: true,
            speed: SPEEDS[1].0,
            step: step_id(t, target.layer),
        });
    let running = app
        .animation
        .as_ref()
        .filter(|a| a.target.layer == target.layer && a.step == step_id(t, target.layer))
        .cloned();
    ui.horizontal(|ui| {
        match lead {
            Some(text) => {
                let width = (ui.available_width() * 0.4).max(120.0);
                ui.allocate_ui(egui::vec2(width, 20.0), |ui| {
                    ui.set_width(width);
                    ui.add(egui::Label::new(RichText::new(text).strong()).truncate());
                });
            }
            None => {
                ui.label(RichText::new(tr("Animate:")).strong());
            }
        }
        for &(kind, name) in kinds {
            let active = running.as_ref().is_some_and(|a| a.kind == kind);
            let count = frames(t, kind, target);
            if ui
                .add_enabled(count > 0, egui::Button::new(name).selected(active))
                .on_hover_text(tr("Watch this sum form, step by step, from the trace's own numbers (key A plays or pauses)"))
                .clicked()
            {
                app.animation = Some(Animation {
                    kind,
                    target,
                    at: 0.0,
                    playing: true,
                    speed: running.as_ref().map_or(SPEEDS[1].0, |a| a.speed),
                    step: step_id(t, target.layer),
                });
            }
        }
        let Some(mut a) = running else { return };
        let count = frames(t, a.kind, a.target);
        if count == 0 {
            return;
        }
        ui.separator();
        let last = (count - 1) as f64;
        if ui.button("|◀◀").on_hover_text(tr("To the start")).clicked() {
            a.at = 0.0;
        }
        if ui.button("◀|").on_hover_text(tr("One frame back (key ,)")).clicked() {
            a.at = (a.at.floor() - 1.0).max(0.0);
            a.playing = false;
        }
        let play = if a.playing { tr("‖ Pause") } else { tr("▶ Play") };
        if ui.button(play).clicked() {
            if !a.playing && a.frame_index() + 1 >= count {
                a.at = 0.0;
            }
            a.playing = !a.playing;
        }
        if ui.button("|▶").on_hover_text(tr("One frame on (key .)")).clicked() {
            a.at = (a.at.floor() + 1.0).min(last);
            a.playing = false;
        }
        if ui.button("▶▶|").on_hover_text(tr("To the end: the whole sums")).clicked() {
            a.at = last;
            a.playing = false;
        }
        let mut index = a.frame_index();
        let scrub = ui
            .add(egui::Slider::new(&mut index, 0..=count - 1).show_value(false))
            .on_hover_text(tr("Drag to any moment of the sum"));
        if scrub.changed() {
            a.at = index as f64;
            a.playing = false;
        }
        ui.label(trf!("frame {at} of {count}", at = a.frame_index() + 1, count = count));
        egui::ComboBox::from_id_salt("animation speed")
            .selected_text(speed_name(a.speed))
            .show_ui(ui, |ui| {
                for (speed, _) in SPEEDS {
                    ui.selectable_value(&mut a.speed, speed, speed_name(speed));
                }
            });
        let stop = ui.button("✕").on_hover_text(tr("Stop the animation")).clicked();
        app.animation = (!stop).then_some(a);
    });
}

fn speed_name(speed: f64) -> &'static str {
    match SPEEDS.iter().find(|(s, _)| *s == speed).map(|(_, n)| *n) {
        Some("slow") => tr("slow"),
        Some("fast") => tr("fast"),
        _ => tr("normal"),
    }
}

/// Keys for the animations: A starts the view's first one, then plays or
/// pauses; comma and period step a frame.
pub fn keys(app: &mut BackpropApp, ui: &Ui) {
    if app.animation.is_none() && ui.ctx().input(|i| i.key_pressed(egui::Key::A)) {
        app.animation = app.animatable.clone();
        return;
    }
    let Some(a) = &mut app.animation else { return };
    let (play, back, on) = ui.ctx().input(|i| {
        (
            i.key_pressed(egui::Key::A),
            i.key_pressed(egui::Key::Comma),
            i.key_pressed(egui::Key::Period),
        )
    });
    if play {
        a.playing = !a.playing;
    }
    if back {
        a.at = (a.at.floor() - 1.0).max(0.0);
        a.playing = false;
    }
    if on {
        a.at = a.at.floor() + 1.0;
        a.playing = false;
    }
}

/// The frame of the app's animation of `kind` on `target`, if that is what
/// is playing on this step.
pub fn playing(app: &BackpropApp, t: &Trace, kind: Kind, target: Target) -> Option<Frame> {
    app.animation
        .as_ref()
        .filter(|a| a.kind == kind && a.target == target)
        .and_then(|a| a.current(t))
}

/// A frame's running sums as a map's values, and the cells not reached.
pub fn sums(frame: &Frame) -> (Vec<f32>, Option<Vec<bool>>) {
    (
        frame.sums.iter().map(|s| s.unwrap_or(0.0) as f32).collect(),
        Some(frame.sums.iter().map(Option::is_none).collect()),
    )
}
