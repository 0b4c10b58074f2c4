//! Find the bug (a teacher's window, never drawn in projector mode): one
//! mistake of the catalogue switched on inside the app's own backward pass.
//! Nothing on screen says so; training misbehaves, and the class finds the
//! layer with the gradient check of the explanation panel (finite
//! differences disagree with the wrong backprop there) and names the
//! mistake. *Reveal* shows it, named as `check` names it, with the right
//! result beside the wrong one.

use egui::{RichText, Ui};

use crate::app::{BackpropApp, UiCommand};
use crate::check::bugs::{bugs_for, right_result, Bug};
use crate::check::{Named, Part};
use crate::i18n::tr;
use crate::io::Handed;
use crate::trf;

/// The bug in a few words for the teacher's list.
fn label(names: &[String], bug: &Bug) -> String {
    format!(
        "{}.{}: {}",
        names[bug.layer],
        bug.part.name(),
        bug.mistake.id()
    )
}

pub fn find_bug_ui(app: &mut BackpropApp, ui: &Ui) {
    if !app.show_find_bug || app.settings.projector {
        return;
    }
    let Some(s) = app.snapshot.clone() else {
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
            let mut chosen = app.bug;
            ui.radio_value(&mut chosen, None, tr("No bug: the right backprop"));
            for bug in &bugs {
                ui.radio_value(&mut chosen, Some(*bug), label(&names, bug));
            }
            if chosen != app.bug {
                app.command(UiCommand::SetBug(chosen));
            }
            ui.separator();
            let ready = app.bug.is_some() && s.trace.logits_delta.is_some();
            if ui
                .add_enabled(ready, egui::Button::new(RichText::new(tr("Reveal to the class")).strong()))
                .on_disabled_hover_text(tr("Switch a bug on and step through a backward pass first"))
                .clicked()
            {
                if let Some(bug) = app.bug {
                    reveal(app, bug);
                }
            }
        });
    if !open {
        app.show_find_bug = false;
    }
}

/// Shows the bug as the check panel shows a student's mistake: the wrong
/// result the app computed beside the right one, named.
fn reveal(app: &mut BackpropApp, bug: Bug) {
    let Some(s) = app.snapshot.clone() else {
        return;
    };
    let mut trace = s.trace.clone();
    let Some(right) = right_result(&trace, bug) else {
        return;
    };
    let layer = &mut trace.layers[bug.layer];
    let slot = match bug.part {
        Part::WeightGrad => &mut layer.weight_grad,
        _ => &mut layer.delta,
    };
    let Some(wrong) = slot.replace(std::sync::Arc::new(right.mapv(|v| v as f32))) else {
        return;
    };
    let handed = Handed {
        name: Named::Layer(bug.layer, bug.part).name(&trace),
        values: wrong.mapv(f64::from),
    };
    match super::checked::Checked::new(&trace, vec![handed], s.batches) {
        Ok(mut checked) => {
            checked.bug = true;
            let words = checked.verdicts[0].message();
            app.say(crate::app::MessageKind::Info, move || {
                trf!("The bug was: {words}", words = words)
            });
            app.checked = Some(Box::new(checked));
        }
        Err(e) => app.say(crate::app::MessageKind::Error, move || e.clone()),
    }
}
