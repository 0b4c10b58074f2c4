//! Find the bug (a teacher's window, never drawn in projector mode): one
//! mistake of the catalogue switched on inside the app's own backward pass.
//! Nothing on screen says so; training misbehaves, and the class finds the
//! layer with the gradient check of the explanation panel (finite
//! differences disagree with the wrong backprop there) and names the
//! mistake. *Reveal* shows it, named as `check` names it, with the right
//! result beside the wrong one.

use egui::{RichText, Ui};

use crate::app::command::UiCommand;
use crate::app::cx::Cx;
use crate::check::bugs::{bugs_for, Bug};
use crate::i18n::tr;

/// The bug in a few words for the teacher's list.
fn label(names: &[String], bug: &Bug) -> String {
    format!(
        "{}.{}: {}",
        names[bug.layer],
        bug.part.name(),
        bug.mistake.id()
    )
}

/// One of `bugs`, by the clock: a pick neither the class nor the teacher
/// knows (no random generator worth seeding for one choice).
fn random_pick(bugs: &[Bug]) -> Option<Bug> {
    let nanos = web_time::SystemTime::now()
        .duration_since(web_time::UNIX_EPOCH)
        .map_or(0, |d| {
            d.subsec_nanos() as usize / 1000 + d.as_secs() as usize
        });
    bugs.get(nanos % bugs.len().max(1)).copied()
}

pub fn find_bug_ui(ui: &Ui, cx: &mut Cx) {
    if !cx.state.show_find_bug || cx.state.settings.projector {
        return;
    }
    let Some(s) = cx.state.snapshot.as_ref() else {
        return;
    };
    let names = s.trace.names.clone();
    let bugs = bugs_for(&s.trace.specs());
    let mut open = true;
    egui::Window::new(tr("Find the bug (for the teacher)"))
        .id(egui::Id::unique("find the bug"))
        .open(&mut open)
        .default_width(420.0)
        .show(ui.ctx(), |ui| {
            ui.label(tr("Switch on one mistake in the app's own backward pass. Nothing on screen shows it: training misbehaves, and the class finds the layer with the gradient check (click a dF or dW cell, then check it by finite differences) and names the mistake. This window is never shown in projector mode."));
            ui.separator();
            // On a mirrored screen the class sees this window too: once a
            // bug is on, nothing here names it (the list stays folded).
            match cx.state.bug {
                None => {
                    if ui
                        .button(RichText::new(tr("Switch on a random bug")).strong())
                        .on_hover_text(tr("One of the mistakes below, picked at random: you don't know it either"))
                        .clicked()
                    {
                        cx.command(UiCommand::SetBug(random_pick(&bugs)));
                    }
                }
                Some(_) => {
                    ui.label(RichText::new(tr("A bug is switched on. Its name stays hidden until you reveal it.")).strong());
                    if ui.button(tr("Switch it off")).clicked() {
                        cx.command(UiCommand::SetBug(None));
                    }
                }
            }
            egui::CollapsingHeader::new(tr("Choose one yourself (the list shows on a mirrored screen)"))
                .id_salt("bug list")
                .default_open(false)
                .show(ui, |ui| {
                    let mut chosen = cx.state.bug;
                    ui.radio_value(&mut chosen, None, tr("No bug: the right backprop"));
                    for bug in &bugs {
                        ui.radio_value(&mut chosen, Some(*bug), label(&names, bug));
                    }
                    if chosen != cx.state.bug {
                        cx.command(UiCommand::SetBug(chosen));
                    }
                });
            ui.separator();
            let ready = cx.state.bug.is_some() && s.trace.logits_delta.is_some();
            if ui
                .add_enabled(ready, egui::Button::new(RichText::new(tr("Reveal to the class")).strong()))
                .on_disabled_hover_text(tr("Switch a bug on and step through a backward pass first"))
                .clicked()
            {
                cx.command(UiCommand::RevealBug);
            }
        });
    if !open {
        cx.command(UiCommand::ShowFindBug(false));
    }
}
