//! Playing a layer's sums (or routings) as they form: the play / step /
//! scrub bar above a view. The frames themselves (`teach::animation`) are
//! computed from the trace's numbers, once per change by the reducer; the
//! views draw the frame the state holds.

use egui::{RichText, Ui};

use crate::app::command::UiCommand;
use crate::app::cx::Cx;
use crate::app::state::AppState;
use crate::engine::trace::Trace;
use crate::i18n::tr;
use crate::teach::animation::{frames, step_id, Animation, Frame, Kind, Target, SPEEDS};
use crate::trf;

/// The bar under a view's caption: start an animation of `kinds`, or
/// play / step / scrub the one running. With `lead`, that caption opens the
/// same row (a small window has no room for a row of its own).
pub fn controls_ui(
    cx: &mut Cx,
    ui: &mut Ui,
    t: &Trace,
    target: Target,
    kinds: &[(Kind, &str)],
    lead: Option<&str>,
) {
    let normal = SPEEDS[1];
    // The first of them is what key A starts.
    cx.animatable(
        kinds
            .first()
            .filter(|(kind, _)| frames(t, *kind, target) > 0)
            .map(|&(kind, _)| Animation::start(t, kind, target, normal)),
    );
    let running = cx
        .state
        .animation
        .as_ref()
        .filter(|a| a.target.layer == target.layer && a.step == step_id(t, target.layer))
        .cloned();
    ui.horizontal(|ui| {
        match lead {
            // Nothing before the buttons (the row says it elsewhere).
            Some("") => {}
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
                let speed = running.as_ref().map_or(normal, |a| a.speed);
                cx.command(UiCommand::SetAnimation(Some(Animation::start(
                    t, kind, target, speed,
                ))));
            }
        }
        let Some(before) = running else { return };
        let count = frames(t, before.kind, before.target);
        if count == 0 {
            return;
        }
        let mut a = before.clone();
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
                for speed in SPEEDS {
                    ui.selectable_value(&mut a.speed, speed, speed_name(speed));
                }
            });
        let stop = ui.button("✕").on_hover_text(tr("Stop the animation")).clicked();
        if stop {
            cx.command(UiCommand::SetAnimation(None));
        } else if a != before {
            cx.command(UiCommand::SetAnimation(Some(a)));
        }
    });
}

fn speed_name(speed: f64) -> &'static str {
    if speed == SPEEDS[0] {
        tr("slow")
    } else if speed == SPEEDS[2] {
        tr("fast")
    } else {
        tr("normal")
    }
}

/// The frame of the app's animation of `kind` on `target`, if that is what
/// is playing on this step (computed once per change, held by the state).
pub fn playing(state: &AppState, kind: Kind, target: Target) -> Option<Frame> {
    state
        .animation
        .as_ref()
        .filter(|a| a.kind == kind && a.target == target)
        .and(state.frame.clone())
}

/// A frame's running sums as a map's values, and the cells not reached.
pub fn sums(frame: &Frame) -> (Vec<f32>, Option<Vec<bool>>) {
    (
        frame.sums.iter().map(|s| s.unwrap_or(0.0) as f32).collect(),
        Some(frame.sums.iter().map(Option::is_none).collect()),
    )
}
