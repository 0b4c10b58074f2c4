//! The toolbar: the File, View and lesson menus, the step buttons and the
//! training settings. Compact (one row, settings in a menu) below
//! `COMPACT_WIDTH`, so that a 1280x720 projector keeps its views.

use egui::{RichText, Ui};

use crate::app::command::{ClassMove, FileAction, LessonMove, UiCommand};
use crate::app::cx::Cx;
use crate::app::state::{Palette, Settings};
use crate::app::style::compact;
use crate::app::worker::Speed;
use crate::engine::optim::OptimizerKind;
use crate::i18n::tr;
use crate::trf;

/// The toolbar: the menus and the step buttons, then the training
/// settings with the sample and the language. On a small window (a 720p
/// projector) one row: the settings, sample and language fold into one
/// menu, so that the step's equation keeps the height.
pub fn toolbar_ui(ui: &mut Ui, cx: &mut Cx) -> egui::Rect {
    let compact = compact(ui.ctx());
    let rows = ui.scope(|ui| {
        ui.horizontal(|ui| {
            menus_ui(cx, ui);
            ui.separator();
            step_buttons_ui(cx, ui);
            if compact {
                ui.menu_button("⚙ ▾", |ui| {
                    speed_ui(cx, ui);
                    ui.separator();
                    learning_rate_ui(cx, ui);
                    ui.separator();
                    network_settings_ui(cx, ui);
                    ui.separator();
                    ui.horizontal(|ui| sample_ui(cx, ui));
                    ui.horizontal(|ui| language_ui(cx, ui));
                })
                .response
                .on_hover_text(tr(
                    "Speed, learning rate, freezing; network, optimizer, batch size, seed (apply on Reset); the sample; the language",
                ));
            } else {
                language_ui(cx, ui);
            }
        });
        if compact {
            return;
        }
        ui.horizontal(|ui| {
            speed_ui(cx, ui);
            learning_rate_ui(cx, ui);
            ui.separator();
            // What applies on Reset, summed up on its button.
            let summary = trf!(
                "{network} · {optimizer} · batch {batch} ▾",
                network = cx.state.network_name(),
                optimizer = cx.state.config.optimizer.name(),
                batch = cx.state.config.batch
            );
            ui.menu_button(summary, |ui| network_settings_ui(cx, ui))
                .response
                .on_hover_text(tr("Network, optimizer, batch size, seed (apply on Reset)"));
            ui.separator();
            sample_ui(cx, ui);
        });
    });
    rows.response.rect
}

/// The language a step away, at the right: a class may switch mid-lesson.
fn language_ui(cx: &mut Cx, ui: &mut Ui) {
    let mut settings = cx.state.settings.clone();
    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
        for lang in crate::i18n::Lang::ALL.into_iter().rev() {
            ui.selectable_value(&mut settings.lang, lang, lang.native_name());
        }
    });
    set_settings(cx, settings);
}

/// Settings edited in place: one command when they changed.
fn set_settings(cx: &mut Cx, settings: Settings) {
    if settings != cx.state.settings {
        cx.command(UiCommand::SetSettings(Box::new(settings)));
    }
}

/// The File and View menus and the lesson: what a teacher sets once.
fn menus_ui(cx: &mut Cx, ui: &mut Ui) {
    ui.menu_button(tr("File"), |ui| file_buttons_ui(cx, ui));
    ui.menu_button(tr("View"), |ui| {
        let mut settings = cx.state.settings.clone();
        let s = &mut settings;
        ui.checkbox(&mut s.projector, tr("Projector mode")).on_hover_text(tr("Everything larger, text in full contrast: readable from the back of the room (key P)"));
        ui.add(egui::Slider::new(&mut s.scale, 0.75..=2.0).text(tr("Size"))).on_hover_text(tr("Everything larger or smaller (projector mode multiplies it by 1.4)"));
        ui.checkbox(&mut s.dark, tr("Dark theme")).on_hover_text(tr("Dark or light theme (light suits bright rooms and printed slides)"));
        let mut safe = s.palette == Palette::BlueOrange;
        if ui.checkbox(&mut safe, tr("Colour-blind-safe colours")).on_hover_text(tr("Deltas and gradients in blue and orange instead of blue and red")).changed() {
            s.palette = if safe { Palette::BlueOrange } else { Palette::BlueRed };
        }
        ui.checkbox(&mut s.show_plots, tr("Plots")).on_hover_text(tr("The loss and accuracy plots at the bottom (hide them on a small screen)"));
        ui.checkbox(&mut s.show_explain, tr("Explanation panel")).on_hover_text(tr("The panel on the right that explains a clicked cell"));
        ui.checkbox(&mut s.predict, tr("Predict before each reveal")).on_hover_text(tr("Each backward step and the update arrive covered: answer a question about them first (always on in the guided lesson)"));
        ui.checkbox(&mut s.answer_notation, crate::teach::notation::toggle_label()).on_hover_text(tr("Number layers as the answer does: a conv or dense layer and its ReLU are one layer and one step (at L5 you hold D6, D5 = full_conv(D6, rot180 F) ⊙ f′); every number and name on screen follows"));
        if ui.button(tr("Keyboard shortcuts")).on_hover_text(tr("The keyboard shortcuts (? or F1)")).clicked() {
            cx.command(UiCommand::ShowShortcuts(!cx.state.show_shortcuts));
        }
        ui.separator();
        ui.label(tr("Language"));
        for lang in crate::i18n::Lang::ALL {
            ui.radio_value(&mut s.lang, lang, lang.native_name());
        }
        set_settings(cx, settings);
    });
    lesson_menu_ui(cx, ui);
}

/// Start the guided lesson, or continue it where it was left.
fn lesson_menu_ui(cx: &mut Cx, ui: &mut Ui) {
    let label = RichText::new(tr("Guided lesson")).strong();
    if cx.state.lesson.open.is_some() {
        if ui
            .button(label)
            .on_hover_text(tr("Leave the lesson and explore freely"))
            .clicked()
        {
            cx.command(UiCommand::Lesson(LessonMove::Leave));
        }
        return;
    }
    ui.menu_button(label, |ui| {
        if let Some(step) = cx.state.lesson.left_at {
            if ui
                .button(trf!("Continue from step {step}", step = step + 1))
                .clicked()
            {
                cx.command(UiCommand::Lesson(LessonMove::Go(step)));
                ui.close();
            }
        }
        if ui
            .button(tr("Start the lesson from the beginning"))
            .on_hover_text(tr(
                "Resets to the question's network and walks one batch forward and the error back into the filters",
            ))
            .clicked()
        {
            cx.command(UiCommand::Lesson(LessonMove::Start));
            ui.close();
        }
        if ui
            .button(tr("What changes with stride 2 (optional chapter)"))
            .on_hover_text(tr(
                "Five steps on the strided network (lenet's convs moving 2 cells at a time, no pooling): the taps read every second cell, and the delta is dilated with zeros on the way back",
            ))
            .clicked()
        {
            cx.command(UiCommand::Lesson(LessonMove::Chapter));
            ui.close();
        }
    });
}

fn step_buttons_ui(cx: &mut Cx, ui: &mut Ui) {
    let running = cx.state.running();
    if ui
        .add_enabled(!running, egui::Button::new(tr("Step layer")))
        .on_hover_text(tr(
            "Run one phase: the next layer's forward or backward pass, the loss, or the update",
        ))
        .clicked()
    {
        cx.command(UiCommand::StepPhase);
    }
    if ui
        .add_enabled(!running, egui::Button::new(tr("Step batch")))
        .on_hover_text(tr(
            "Finish the current batch: all remaining phases up to the weight update",
        ))
        .clicked()
    {
        cx.command(UiCommand::StepBatch);
    }
    let run_label = if running { tr("Pause") } else { tr("Run") };
    if ui
        .button(run_label)
        .on_hover_text(tr("Train continuously (the views follow live), or pause"))
        .clicked()
    {
        cx.command(if running {
            UiCommand::Pause
        } else {
            UiCommand::Run
        });
    }
    if ui
        .button(tr("Reset"))
        .on_hover_text(tr(
            "Start again from the same seed: the same initial weights and batches",
        ))
        .clicked()
    {
        cx.command(UiCommand::Reset);
    }
    let (back, forward) = cx
        .state
        .snapshot
        .as_ref()
        .map(|s| (s.back_steps, s.forward_steps))
        .unwrap_or((0, 0));
    if ui
        .add_enabled(!running && back > 0, egui::Button::new(tr("◀ Back")))
        .on_hover_text(trf!(
            "Step back in time: every view shows the moment before ({back} steps kept; key ←)",
            back = back
        ))
        .clicked()
    {
        cx.command(UiCommand::Back);
    }
    if ui
        .add_enabled(!running, egui::Button::new(tr("Forward ▶")))
        .on_hover_text(trf!(
            "Step forward: replays what Back undid ({forward} steps), else steps a layer (key →)",
            forward = forward
        ))
        .clicked()
    {
        cx.command(UiCommand::Forward);
    }
}

fn speed_ui(cx: &mut Cx, ui: &mut Ui) {
    let speeds = [
        (Speed::PerSecond(1.0), tr("1 batch/s")),
        (Speed::PerSecond(5.0), tr("5 batches/s")),
        (Speed::PerSecond(20.0), tr("20 batches/s")),
        (Speed::Max, tr("as fast as possible")),
    ];
    let current = speeds
        .iter()
        .find(|(s, _)| *s == cx.state.speed)
        .map(|(_, l)| *l)
        .unwrap_or(tr("custom"));
    let label = ui.label(tr("Speed:"));
    egui::ComboBox::from_id_salt("speed")
        .selected_text(current)
        .show_ui(ui, |ui| {
            for (speed, label) in speeds {
                if ui
                    .selectable_label(cx.state.speed == speed, label)
                    .clicked()
                {
                    cx.command(UiCommand::SetSpeed(speed));
                }
            }
        })
        .response
        .labelled_by(label.id)
        .on_hover_text(tr("How fast Run trains"));
}

fn learning_rate_ui(cx: &mut Cx, ui: &mut Ui) {
    let mut lr = cx.state.config.lr;
    let label = ui.label(tr("Learning rate:"));
    let lr_response = ui
        .add(egui::Slider::new(&mut lr, 1e-4..=10.0).logarithmic(true))
        .labelled_by(label.id)
        .on_hover_text(tr(
            "η: how far each update moves the weights against their gradient (applies at once)",
        ));
    if lr_response.changed() {
        cx.command(UiCommand::SetLr(lr));
    }
    let mut freeze = cx.state.config.freeze_conv;
    if ui.checkbox(&mut freeze, tr("Freeze conv filters")).on_hover_text(tr("Keep the conv filters at their initial values; only the FC layers learn (the question's experiment)")).changed() {
        cx.command(UiCommand::SetFreeze(freeze));
    }
}

fn network_settings_ui(cx: &mut Cx, ui: &mut Ui) {
    let label = ui.label(tr("Network:"));
    let shown = cx.state.network_name();
    egui::ComboBox::from_id_salt("preset")
        .selected_text(shown)
        .show_ui(ui, |ui| {
            for (preset, text) in [
                ("seed", tr("seed (the question's network)")),
                ("lenet", tr("lenet (8 and 16 filters)")),
                (
                    "strided",
                    tr("strided (lenet's convs with stride 2, no pooling)"),
                ),
                ("bn", tr("bn (lenet with batch norm after each conv)")),
                (
                    "updown",
                    tr("updown (a stride-2 conv down, a transposed conv back up)"),
                ),
            ] {
                if ui
                    .selectable_label(
                        cx.state.start_network.is_none() && cx.state.config.preset == preset,
                        text,
                    )
                    .clicked()
                {
                    cx.command(UiCommand::UsePreset(preset.to_string()));
                }
            }
        })
        .response
        .labelled_by(label.id)
        .on_hover_text(tr("Which network to build on Reset"));
    let mut config = cx.state.config.clone();
    let label = ui.label(tr("Optimizer:"));
    egui::ComboBox::from_id_salt("optimizer")
        .selected_text(config.optimizer.name())
        .show_ui(ui, |ui| {
            for kind in [
                OptimizerKind::Sgd,
                OptimizerKind::Momentum,
                OptimizerKind::Adam,
            ] {
                ui.selectable_value(&mut config.optimizer, kind, kind.name());
            }
        })
        .response
        .labelled_by(label.id)
        .on_hover_text(tr("How the gradient turns into a step (applies on Reset)"));
    let label = ui.label(tr("Batch size:"));
    ui.add(egui::DragValue::new(&mut config.batch).range(1..=crate::app::worker::APP_MAX_BATCH))
        .labelled_by(label.id)
        .on_hover_text(tr("Samples per batch (applies on Reset)"));
    let label = ui.label(tr("Seed:"));
    ui.add(egui::DragValue::new(&mut config.seed).range(0..=1_000_000))
        .labelled_by(label.id)
        .on_hover_text(tr(
            "Fixes the initial weights and the batch order (applies on Reset)",
        ));
    if config != cx.state.config {
        cx.command(UiCommand::SetConfig(config));
    }
    if ui.button(tr("Load pretrained model")).on_hover_text(tr("Replace the network by the trained model that ships with the program (useful for drawing)")).clicked() {
        cx.command(UiCommand::LoadPretrained);
    }
}

fn sample_ui(cx: &mut Cx, ui: &mut Ui) {
    let Some(label_of) = cx
        .state
        .snapshot
        .as_ref()
        .map(|s| s.trace.labels.clone())
        .filter(|labels| labels.len() > 1)
    else {
        return;
    };
    let n = label_of.len();
    let mut sample = cx.state.sample.min(n - 1);
    let label = ui.label(tr("Sample in batch:"));
    let picker: egui::Response = if ui.available_size_before_wrap().x < 260.0 {
        // A narrow row (projector): a number field instead of a slider.
        ui.add(egui::DragValue::new(&mut sample).range(0..=n - 1))
    } else {
        ui.add(egui::Slider::new(&mut sample, 0..=n - 1))
    };
    picker
        .labelled_by(label.id)
        .on_hover_text(tr("Which sample of the batch the maps show"));
    if sample != cx.state.sample {
        cx.command(UiCommand::PickSample(sample));
    }
    if let Some(&digit) = label_of.get(sample) {
        ui.label(trf!("label {digit}", digit = digit));
    }
}

/// Save / open a model and export the current step.
fn file_buttons_ui(cx: &mut Cx, ui: &mut Ui) {
    // (label, hover, action); a teacher's tool is never offered on the
    // projector.
    let items = [
        (
            tr("Save model…"),
            tr("Write the network as it is now (safetensors; loads in PyTorch unchanged)"),
            Some(FileAction::SaveModel),
        ),
        (
            tr("Export view as PNG…"),
            tr("A picture of the window as it is now, for slides"),
            Some(FileAction::ExportPng),
        ),
        (
            tr("Open model…"),
            tr("Start from a saved model (Reset returns to it)"),
            Some(FileAction::OpenModel),
        ),
        (
            tr("Save session…"),
            tr("The model, the optimizer's state, the step and the plots: continue this lesson later exactly here"),
            Some(FileAction::SaveSession),
        ),
        (
            tr("Open session…"),
            tr("Continue a saved session where it stopped"),
            Some(FileAction::OpenSession),
        ),
        ("", "", None),
        (
            tr("Export trace…"),
            tr("Every number of the current step (safetensors trace, as `backprop-viz trace` writes)"),
            Some(FileAction::ExportTrace),
        ),
        (
            tr("Export exercise…"),
            tr("What a student needs to work this step's backward pass out by hand (inputs, weights, outputs, the delta from above; not the answers), with a NumPy starter"),
            Some(FileAction::ExportExercise),
        ),
        (
            tr("Share this moment (copy the link)"),
            tr("A link that replays training to exactly this batch, phase, sample and cell: --link on another machine opens it"),
            Some(FileAction::ShareMoment),
        ),
    ];
    for (label, hover, action) in items {
        let Some(action) = action else {
            ui.separator();
            continue;
        };
        if ui.button(label).on_hover_text(hover).clicked() {
            cx.command(UiCommand::File(action));
            ui.close();
        }
    }
    class_items_ui(ui, cx);
    if !cx.state.settings.projector
        && ui
            .button(tr("Find the bug (teacher)…"))
            .on_hover_text(tr(
                "Switch on one common mistake inside the app's backward pass for the class to find",
            ))
            .clicked()
    {
        cx.command(UiCommand::ShowFindBug(true));
        ui.close();
    }
    for (label, hover, action) in [
        (
            tr("Save my predictions…"),
            tr("Every prediction you answered, right or wrong, as a small JSON file to hand in (it stays on your machine)"),
            FileAction::SavePredictions,
        ),
        (
            tr("Open a class's predictions…"),
            tr("Several learners' prediction files: per step, how many predicted right"),
            FileAction::OpenClassRecord,
        ),
        (
            tr("Check my backprop…"),
            tr("Your own dF, deltas… (.npy, .csv or .safetensors) against this step's: what matches, and the mistake named (or drop the files on the window)"),
            FileAction::CheckMine,
        ),
    ] {
        if ui.button(label).on_hover_text(hover).clicked() {
            cx.command(UiCommand::File(action));
            ui.close();
        }
    }
}

/// Start a class on this machine (the desktop: the server runs in the app),
/// or end the one under way.
fn class_items_ui(ui: &mut egui::Ui, cx: &mut Cx) {
    if cx.state.class.is_some() {
        let label = if cx.state.class.as_ref().is_some_and(|c| c.teacher()) {
            tr("End the class")
        } else {
            tr("Leave the class")
        };
        if ui.button(label).clicked() {
            cx.command(UiCommand::Class(ClassMove::Leave));
            ui.close();
        }
    }
    if cfg!(not(target_arch = "wasm32"))
        && ui
            .button(tr("Class report…"))
            .on_hover_text(tr(
                "A live class's database (class.sqlite): per question and round, how many answered, how many were right, and the shift after the discussion",
            ))
            .clicked()
    {
        cx.command(UiCommand::File(FileAction::ClassReport));
        ui.close();
    }
    if cx.state.class.is_none()
        && cfg!(not(target_arch = "wasm32"))
        && ui
            .button(tr("Start a class…"))
            .on_hover_text(tr(
                "Serve this app on the room's network: students open the link (or scan the QR code), follow your steps and answer every Predict question; the projector shows how the room answered",
            ))
            .clicked()
    {
        cx.command(UiCommand::Class(ClassMove::Start));
        ui.close();
    }
}
