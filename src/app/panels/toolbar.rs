//! The toolbar: the File, View and lesson menus, the step buttons and the
//! training settings. Compact (two rows, settings in a menu) below
//! `COMPACT_WIDTH`, so that a 1280x720 projector keeps its views.

use egui::{RichText, Ui};

use crate::app::worker::Speed;
use crate::app::{BackpropApp, LessonMove, MessageKind, UiCommand};
use crate::engine::optim::OptimizerKind;
use crate::i18n::tr;
use crate::trf;

/// Whether the window is small enough that every panel folds to leave room
/// for the views: narrower than `COMPACT_WIDTH` or lower than
/// `COMPACT_HEIGHT` points (a 1280x720 projector at 1.4x is 914x514).
pub fn compact(ctx: &egui::Context) -> bool {
    let screen = ctx.content_rect();
    screen.width() < COMPACT_WIDTH || screen.height() < COMPACT_HEIGHT
}

/// See [`compact`].
pub const COMPACT_HEIGHT: f32 = 640.0;

/// The toolbar, in two rows whatever the window: the menus and the step
/// buttons, then the training settings (folded into one menu on a narrow
/// window) with the sample and the language.
pub fn toolbar_ui(app: &mut BackpropApp, ui: &mut Ui) -> egui::Rect {
    let compact = compact(ui.ctx());
    let rows = ui.scope(|ui| {
        ui.horizontal(|ui| {
            menus_ui(app, ui);
            ui.separator();
            step_buttons_ui(app, ui);
            if !compact {
                language_ui(app, ui);
            }
        });
        ui.horizontal(|ui| {
            speed_ui(app, ui);
            if compact {
                ui.menu_button(tr("Network and training ▾"), |ui| {
                    learning_rate_ui(app, ui);
                    ui.separator();
                    network_settings_ui(app, ui);
                })
                .response
                .on_hover_text(tr(
                    "Learning rate, freezing; network, optimizer, batch size, seed (apply on Reset)",
                ));
            } else {
                learning_rate_ui(app, ui);
                ui.separator();
                // What applies on Reset, summed up on its button.
                let summary = trf!(
                    "{network} · {optimizer} · batch {batch} ▾",
                    network = app.network_name(),
                    optimizer = app.config.optimizer.name(),
                    batch = app.config.batch
                );
                ui.menu_button(summary, |ui| network_settings_ui(app, ui))
                    .response
                    .on_hover_text(tr("Network, optimizer, batch size, seed (apply on Reset)"));
            }
            ui.separator();
            sample_ui(app, ui);
            if compact {
                language_ui(app, ui);
            }
        });
    });
    rows.response.rect
}

/// The language a step away, at the right: a class may switch mid-lesson.
fn language_ui(app: &mut BackpropApp, ui: &mut Ui) {
    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
        for lang in crate::i18n::Lang::ALL.into_iter().rev() {
            ui.selectable_value(&mut app.settings.lang, lang, lang.native_name());
        }
    });
}

/// The File and View menus and the lesson: what a teacher sets once.
fn menus_ui(app: &mut BackpropApp, ui: &mut Ui) {
    ui.menu_button(tr("File"), |ui| file_buttons_ui(app, ui));
    ui.menu_button(tr("View"), |ui| {
        ui.checkbox(&mut app.settings.projector, tr("Projector mode")).on_hover_text(tr("Everything larger, text in full contrast: readable from the back of the room (key P)"));
        ui.add(egui::Slider::new(&mut app.settings.scale, 0.75..=2.0).text(tr("Size"))).on_hover_text(tr("Everything larger or smaller (projector mode multiplies it by 1.4)"));
        ui.checkbox(&mut app.settings.dark, tr("Dark theme")).on_hover_text(tr("Dark or light theme (light suits bright rooms and printed slides)"));
        let mut safe = app.settings.palette == crate::app::heatmap::Palette::BlueOrange;
        if ui.checkbox(&mut safe, tr("Colour-blind-safe colours")).on_hover_text(tr("Deltas and gradients in blue and orange instead of blue and red")).changed() {
            app.settings.palette = if safe { crate::app::heatmap::Palette::BlueOrange } else { crate::app::heatmap::Palette::BlueRed };
        }
        ui.checkbox(&mut app.settings.show_plots, tr("Plots")).on_hover_text(tr("The loss and accuracy plots at the bottom (hide them on a small screen)"));
        ui.checkbox(&mut app.settings.show_explain, tr("Explanation panel")).on_hover_text(tr("The panel on the right that explains a clicked cell"));
        ui.checkbox(&mut app.settings.predict, tr("Predict before each reveal")).on_hover_text(tr("Each backward step and the update arrive covered: answer a question about them first (always on in the guided lesson)"));
        ui.checkbox(&mut app.settings.answer_notation, crate::app::notation::toggle_label()).on_hover_text(tr("Number layers as the answer does (a conv layer and its ReLU are one layer: at L5 you hold D6, D5 = full_conv(D6, rot180 F) ⊙ f′), with the app's own names beside"));
        if ui.button(tr("Keyboard shortcuts")).on_hover_text(tr("The keyboard shortcuts (? or F1)")).clicked() {
            app.show_shortcuts = !app.show_shortcuts;
        }
        ui.separator();
        ui.label(tr("Language"));
        for lang in crate::i18n::Lang::ALL {
            ui.radio_value(&mut app.settings.lang, lang, lang.native_name());
        }
    });
    lesson_menu_ui(app, ui);
}

/// Start the guided lesson, or continue it where it was left.
fn lesson_menu_ui(app: &mut BackpropApp, ui: &mut Ui) {
    let label = RichText::new(tr("Guided lesson")).strong();
    if app.lesson.open.is_some() {
        if ui
            .button(label)
            .on_hover_text(tr("Leave the lesson and explore freely"))
            .clicked()
        {
            app.command(UiCommand::Lesson(LessonMove::Leave));
        }
        return;
    }
    ui.menu_button(label, |ui| {
        if let Some(step) = app.lesson.left_at {
            if ui
                .button(trf!("Continue from step {step}", step = step + 1))
                .clicked()
            {
                app.command(UiCommand::Lesson(LessonMove::Go(step)));
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
            app.command(UiCommand::Lesson(LessonMove::Start));
            ui.close();
        }
    });
}

/// Below this width (in points) the controls fold into two rows and the
/// network settings into a menu: a 720p projector at 1.4x is 914 points wide.
pub const COMPACT_WIDTH: f32 = 1200.0;

fn step_buttons_ui(app: &mut BackpropApp, ui: &mut Ui) {
    let running = app.snapshot.as_ref().is_some_and(|s| s.running);
    if ui
        .add_enabled(!running, egui::Button::new(tr("Step layer")))
        .on_hover_text(tr(
            "Run one phase: the next layer's forward or backward pass, the loss, or the update",
        ))
        .clicked()
    {
        app.command(UiCommand::StepPhase);
    }
    if ui
        .add_enabled(!running, egui::Button::new(tr("Step batch")))
        .on_hover_text(tr(
            "Finish the current batch: all remaining phases up to the weight update",
        ))
        .clicked()
    {
        app.command(UiCommand::StepBatch);
    }
    let run_label = if running { tr("Pause") } else { tr("Run") };
    if ui
        .button(run_label)
        .on_hover_text(tr("Train continuously (the views follow live), or pause"))
        .clicked()
    {
        app.command(if running {
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
        app.command(UiCommand::Reset);
    }
    let (back, forward) = app
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
        app.command(UiCommand::Back);
    }
    if ui
        .add_enabled(!running, egui::Button::new(tr("Forward ▶")))
        .on_hover_text(trf!(
            "Step forward: replays what Back undid ({forward} steps), else steps a layer (key →)",
            forward = forward
        ))
        .clicked()
    {
        app.command(UiCommand::Forward);
    }
}

fn speed_ui(app: &mut BackpropApp, ui: &mut Ui) {
    let speeds = [
        (Speed::PerSecond(1.0), tr("1 batch/s")),
        (Speed::PerSecond(5.0), tr("5 batches/s")),
        (Speed::PerSecond(20.0), tr("20 batches/s")),
        (Speed::Max, tr("as fast as possible")),
    ];
    let current = speeds
        .iter()
        .find(|(s, _)| *s == app.speed)
        .map(|(_, l)| *l)
        .unwrap_or(tr("custom"));
    let label = ui.label(tr("Speed:"));
    egui::ComboBox::from_id_salt("speed")
        .selected_text(current)
        .show_ui(ui, |ui| {
            for (speed, label) in speeds {
                if ui.selectable_label(app.speed == speed, label).clicked() {
                    app.command(UiCommand::SetSpeed(speed));
                }
            }
        })
        .response
        .labelled_by(label.id)
        .on_hover_text(tr("How fast Run trains"));
}

fn learning_rate_ui(app: &mut BackpropApp, ui: &mut Ui) {
    let mut lr = app.config.lr;
    let label = ui.label(tr("Learning rate:"));
    let lr_response = ui
        .add(egui::Slider::new(&mut lr, 1e-4..=10.0).logarithmic(true))
        .labelled_by(label.id)
        .on_hover_text(tr(
            "η: how far each update moves the weights against their gradient (applies at once)",
        ));
    if lr_response.changed() {
        app.command(UiCommand::SetLr(lr));
    }
    let mut freeze = app.config.freeze_conv;
    if ui.checkbox(&mut freeze, tr("Freeze conv filters")).on_hover_text(tr("Keep the conv filters at their initial values; only the FC layers learn (the question's experiment)")).changed() {
        app.command(UiCommand::SetFreeze(freeze));
    }
}

fn network_settings_ui(app: &mut BackpropApp, ui: &mut Ui) {
    let label = ui.label(tr("Network:"));
    let shown = app.network_name();
    egui::ComboBox::from_id_salt("preset")
        .selected_text(shown)
        .show_ui(ui, |ui| {
            for (preset, text) in [
                ("seed", tr("seed (the question's network)")),
                ("lenet", tr("lenet (8 and 16 filters)")),
            ] {
                if ui
                    .selectable_label(
                        app.start_network.is_none() && app.config.preset == preset,
                        text,
                    )
                    .clicked()
                {
                    app.command(UiCommand::UsePreset(preset.to_string()));
                }
            }
        })
        .response
        .labelled_by(label.id)
        .on_hover_text(tr("Which network to build on Reset"));
    let label = ui.label(tr("Optimizer:"));
    egui::ComboBox::from_id_salt("optimizer")
        .selected_text(app.config.optimizer.name())
        .show_ui(ui, |ui| {
            for kind in [
                OptimizerKind::Sgd,
                OptimizerKind::Momentum,
                OptimizerKind::Adam,
            ] {
                ui.selectable_value(&mut app.config.optimizer, kind, kind.name());
            }
        })
        .response
        .labelled_by(label.id)
        .on_hover_text(tr("How the gradient turns into a step (applies on Reset)"));
    let label = ui.label(tr("Batch size:"));
    ui.add(
        egui::DragValue::new(&mut app.config.batch).range(1..=super::super::worker::APP_MAX_BATCH),
    )
    .labelled_by(label.id)
    .on_hover_text(tr("Samples per batch (applies on Reset)"));
    let label = ui.label(tr("Seed:"));
    ui.add(egui::DragValue::new(&mut app.config.seed).range(0..=1_000_000))
        .labelled_by(label.id)
        .on_hover_text(tr(
            "Fixes the initial weights and the batch order (applies on Reset)",
        ));
    if ui.button(tr("Load pretrained model")).on_hover_text(tr("Replace the network by the trained model that ships with the program (useful for drawing)")).clicked() {
        app.command(UiCommand::LoadPretrained);
    }
}

fn sample_ui(app: &mut BackpropApp, ui: &mut Ui) {
    let Some(label_of) = app
        .snapshot
        .as_ref()
        .map(|s| s.trace.labels.clone())
        .filter(|labels| labels.len() > 1)
    else {
        return;
    };
    let n = label_of.len();
    let mut sample = app.sample.min(n - 1);
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
    if sample != app.sample {
        app.command(UiCommand::PickSample(sample));
    }
    if let Some(&digit) = label_of.get(sample) {
        ui.label(trf!("label {digit}", digit = digit));
    }
}

/// Save / open a model and export the current step.
fn file_buttons_ui(app: &mut BackpropApp, ui: &mut Ui) {
    if ui
        .button(tr("Save model…"))
        .on_hover_text(tr(
            "Write the network as it is now (safetensors; loads in PyTorch unchanged)",
        ))
        .clicked()
    {
        if let Some(s) = &app.snapshot {
            app.files.save_dialog(
                tr("Save the model"),
                "model.safetensors",
                crate::io::model_bytes(&s.network),
            );
        }
    }
    if ui
        .button(tr("Export view as PNG…"))
        .on_hover_text(tr("A picture of the window as it is now, for slides"))
        .clicked()
    {
        app.files.export_view_png(ui.ctx());
        ui.close();
    }
    if ui
        .button(tr("Open model…"))
        .on_hover_text(tr("Start from a saved model (Reset returns to it)"))
        .clicked()
    {
        app.files.open_model_dialog();
    }
    if ui
        .button(tr("Save session…"))
        .on_hover_text(tr(
            "The model, the optimizer's state, the step and the plots: continue this lesson later exactly here",
        ))
        .clicked()
    {
        app.save_session_dialog();
        ui.close();
    }
    if ui
        .button(tr("Open session…"))
        .on_hover_text(tr("Continue a saved session where it stopped"))
        .clicked()
    {
        app.files.open_session_dialog();
        ui.close();
    }
    ui.separator();
    if ui
        .button(tr("Export trace…"))
        .on_hover_text(tr(
            "Every number of the current step (safetensors trace, as `backprop-viz trace` writes)",
        ))
        .clicked()
    {
        match app.snapshot.as_ref().map(|s| crate::io::trace_bytes(&s.trace)) {
            Some(Ok(bytes)) => app.files.save_dialog(tr("Export the trace"), "trace.safetensors", bytes),
            Some(Err(why)) => app.say(MessageKind::Warning, move || trf!("Nothing to export yet: {why}. Step through the loss and the backward pass first.", why = why)),
            None => {}
        }
    }
    if ui
        .button(tr("Export exercise…"))
        .on_hover_text(tr(
            "What a student needs to work this step's backward pass out by hand (inputs, weights, outputs, the delta from above; not the answers), with a NumPy starter",
        ))
        .clicked()
    {
        #[cfg(not(target_arch = "wasm32"))]
        if let Some(s) = &app.snapshot {
            app.files.export_exercise_dialog(s.trace.clone());
        }
        // An exercise is a folder of files; a page can only download them
        // one by one.
        #[cfg(target_arch = "wasm32")]
        app.say(MessageKind::Info, || {
            tr("An exercise is a folder of files: export it from the desktop app, or with backprop-viz trace --exercise DIR.").to_string()
        });
        ui.close();
    }
    if ui
        .button(tr("Share this moment (copy the link)"))
        .on_hover_text(tr(
            "A link that replays training to exactly this batch, phase, sample and cell: --link on another machine opens it",
        ))
        .clicked()
    {
        match app.moment() {
            Ok(m) => {
                // In the browser: the page's own address with this moment,
                // also put in the address bar.
                #[cfg(target_arch = "wasm32")]
                let fragment = crate::web::share_link(&m.to_fragment());
                #[cfg(not(target_arch = "wasm32"))]
                let fragment = m.to_fragment();
                ui.ctx().copy_text(fragment.clone());
                app.say(MessageKind::Info, move || {
                    trf!("Copied the link to this moment: {link}", link = fragment)
                });
            }
            Err(why) => app.say(MessageKind::Warning, move || why.clone()),
        }
        ui.close();
    }
    // A teacher's tool: never offered on the projector.
    if !app.settings.projector
        && ui
            .button(tr("Find the bug (teacher)…"))
            .on_hover_text(tr(
                "Switch on one common mistake inside the app's backward pass for the class to find",
            ))
            .clicked()
    {
        app.show_find_bug = true;
        ui.close();
    }
    if ui
        .button(tr("Save my predictions…"))
        .on_hover_text(tr(
            "Every prediction you answered, right or wrong, as a small JSON file to hand in (it stays on your machine)",
        ))
        .clicked()
    {
        let bytes = crate::app::record::record_bytes(&app.predictions);
        app.files
            .save_dialog(tr("Save my predictions"), "predictions.json", bytes);
        ui.close();
    }
    if ui
        .button(tr("Open a class's predictions…"))
        .on_hover_text(tr(
            "Several learners' prediction files: per step, how many predicted right",
        ))
        .clicked()
    {
        app.files.class_record_dialog();
        ui.close();
    }
    if ui
        .button(tr("Check my backprop…"))
        .on_hover_text(tr(
            "Your own dF, deltas… (.npy, .csv or .safetensors) against this step's: what matches, and the mistake named (or drop the files on the window)",
        ))
        .clicked()
    {
        if let Some((trace, batch)) = super::checked::checkable_step(app) {
            app.files.check_dialog(trace, batch);
        }
        ui.close();
    }
}
