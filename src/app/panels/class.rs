//! The live class on screen. The teacher's (the projector's): the join
//! code in large type and the students' link as a QR code, how many joined
//! and answered, the room's answers per round side by side when the teacher
//! chooses to show them, and the buttons that run a question (show the
//! answers, discuss and vote again, reveal). A student's: one strip, the
//! class's code, whether the answer is in, following the teacher or
//! exploring alone. (The click questions' heatmap is drawn on the map
//! itself, by the prediction widget.)

use egui::{Color32, RichText, Ui, Vec2};

use crate::app::classroom::ClassState;
use crate::app::command::{ClassMove, UiCommand};
use crate::app::cx::Cx;
use crate::app::link::Drawing;
use crate::app::style::{BACKWARD, ERROR, RIGHT};
use crate::app::widgets::draw_pad::preview_ui;
use crate::class::protocol::{Tally, Value};
use crate::i18n::tr;
use crate::trf;

/// The teacher's panel at the window's right, or the student's strip at
/// its top; nothing outside a class.
pub fn class_ui(ui: &mut Ui, cx: &mut Cx) {
    let Some(c) = cx.state.class.as_ref() else {
        return;
    };
    if c.teacher() {
        let width = (ui.available_width() * 0.24).clamp(220.0, 320.0);
        egui::Panel::right("class")
            .resizable(false)
            .exact_size(width)
            .show(ui, |ui| {
                // Nothing in it may widen it: egui keeps the panel's outer
                // size and moves its edge over the view by the overflow.
                let inner = ui.available_width();
                ui.set_max_width(inner);
                egui::ScrollArea::vertical()
                    .id_salt("class panel")
                    .show(ui, |ui| teacher_ui(ui, cx, c));
            });
    } else {
        egui::Panel::top("class strip").show(ui, |ui| student_ui(ui, cx, c));
    }
}

fn connection_ui(ui: &mut Ui, c: &ClassState) {
    match (&c.down, c.joined) {
        (Some(why), _) => {
            ui.label(RichText::new(tr("Reconnecting…")).color(ERROR))
                .on_hover_text(why.as_str());
        }
        (None, false) => {
            ui.label(tr("Connecting…"));
        }
        (None, true) => {}
    }
}

fn teacher_ui(ui: &mut Ui, cx: &mut Cx, c: &ClassState) {
    ui.horizontal(|ui| {
        ui.label(RichText::new(tr("Live class")).strong().size(18.0));
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui
                .small_button("✕")
                .on_hover_text(tr("End the class"))
                .clicked()
            {
                cx.command(UiCommand::Class(ClassMove::Leave));
            }
        });
    });
    connection_ui(ui, c);
    let big = if c.show_join { 44.0 } else { 26.0 };
    ui.label(RichText::new(&c.code).monospace().strong().size(big))
        .on_hover_text(tr("The class's code"));
    if let (true, Some(url)) = (c.show_join, &c.join_url) {
        let side = ui.available_width().min(240.0);
        qr_ui(ui, url, side);
        ui.label(RichText::new(url).monospace().size(13.0));
        if ui.button(tr("Hide the join code")).clicked() {
            cx.command(UiCommand::Class(ClassMove::ShowJoin(false)));
        }
    } else if c.join_url.is_some() && ui.button(tr("Show the join code")).clicked() {
        cx.command(UiCommand::Class(ClassMove::ShowJoin(true)));
    }
    room_ui(ui, c);
    ui.separator();
    let Some(q) = &c.question else {
        ui.label(tr(
            "Step through the backward pass in Predict mode: each question goes to every student.",
        ));
        return;
    };
    ui.label(RichText::new(crate::app::command::class::round_text(c)).strong());
    if let Some(d) = &c.drawing {
        // (Its words under it: beside it they would not wrap, and would
        // widen the panel.)
        preview_ui(ui, &d.values(), 96.0);
        ui.label(trf!(
            "After one step on this drawing taught as a {label}, which digit will the network answer?",
            label = d.label
        ));
    }
    let round = c
        .open_round()
        .unwrap_or(if c.tallies[1].is_some() { 2 } else { 1 });
    let now = c.tallies[usize::from(round) - 1].as_ref();
    let (answered, joined) = now.map_or((0, 0), |t| (t.answered, t.students));
    ui.label(
        RichText::new(trf!(
            "{answered} of {joined} answered",
            answered = answered,
            joined = joined
        ))
        .size(24.0)
        .strong(),
    );
    ui.horizontal_wrapped(|ui| {
        if c.revealed.is_none() {
            let label = if c.show_tally {
                tr("Hide the answers")
            } else {
                tr("Show the answers")
            };
            if ui.button(label).clicked() {
                cx.command(UiCommand::Class(ClassMove::ShowTally(!c.show_tally)));
            }
        }
        if c.open_round() == Some(1)
            && ui
                .button(tr("Discuss and vote again"))
                .on_hover_text(tr(
                    "Round 1 closes: the class talks it over with a neighbour and answers again (round 2 is kept apart)",
                ))
                .clicked()
        {
            cx.command(UiCommand::Class(ClassMove::Revote));
        }
        if c.revealed.is_none() && ui.button(tr("Reveal")).clicked() {
            cx.command(UiCommand::Reveal);
        }
    });
    if c.show_tally || c.revealed.is_some() {
        ui.add_space(6.0);
        if q.options.is_empty() {
            ui.label(tr(
                "Where the class clicked is drawn on the map: the larger the disc, the more students.",
            ));
        }
        counts_ui(ui, &q.options, &c.tallies, c.revealed.as_ref());
    }
}

/// Who is in the room, large enough for the back row: students joined, and
/// how many of them are connected now when some are not.
fn room_ui(ui: &mut Ui, c: &ClassState) {
    let Some(joined) = c.students else { return };
    let text = match c.connected {
        Some(here) if here < joined => trf!(
            "{joined} joined · {here} connected",
            joined = joined,
            here = here
        ),
        _ => trf!("{n} students joined", n = joined),
    };
    ui.label(RichText::new(text).size(20.0).strong());
}

/// The room's answers per round as a table of counts (the bars are drawn
/// large under the question): one row per option, one column per round,
/// the right option green once revealed.
fn counts_ui(ui: &mut Ui, options: &[String], tallies: &[Option<Tally>; 2], right: Option<&Value>) {
    egui::Grid::new("class counts")
        .spacing([14.0, 4.0])
        .show(ui, |ui| {
            ui.label("");
            // (The rounds as ① and ②: the panel is narrow.)
            for (k, t) in tallies.iter().enumerate() {
                if t.is_some() {
                    ui.label(RichText::new(["①", "②"][k]).strong().size(18.0))
                        .on_hover_text(trf!("Round {n}", n = k + 1));
                }
            }
            ui.end_row();
            let answered = tr("answered");
            let rows: Vec<(String, Option<&String>)> = if options.is_empty() {
                vec![(answered.to_string(), None)]
            } else {
                options
                    .iter()
                    .map(|o| (crate::app::widgets::prediction::wire_label(o), Some(o)))
                    .collect()
            };
            for (label, option) in rows {
                let is_right =
                    matches!((right, option), (Some(Value::Option(r)), Some(o)) if r == o);
                let colour = if is_right {
                    RIGHT
                } else {
                    ui.visuals().text_color()
                };
                ui.label(RichText::new(label).monospace().size(18.0).color(colour));
                for t in tallies.iter().flatten() {
                    let n = match option {
                        Some(o) => t.options.get(o).copied().unwrap_or(0),
                        None => t.answered,
                    };
                    ui.label(
                        RichText::new(n.to_string())
                            .size(20.0)
                            .strong()
                            .color(colour),
                    );
                }
                ui.end_row();
            }
        });
}

/// The students' link as a QR code, `side` points wide, black on white with
/// its quiet zone (a phone's camera reads it off a projector).
fn qr_ui(ui: &mut Ui, url: &str, side: f32) {
    let Ok(code) = qrcode::QrCode::new(url.as_bytes()) else {
        return;
    };
    let n = code.width();
    let quiet = 2;
    let modules = n + 2 * quiet;
    let (rect, _) = ui.allocate_exact_size(Vec2::splat(side), egui::Sense::hover());
    let painter = ui.painter();
    painter.rect_filled(rect, 0.0, Color32::WHITE);
    let m = side / modules as f32;
    let colors = code.to_colors();
    for y in 0..n {
        for x in 0..n {
            if colors[y * n + x] == qrcode::Color::Dark {
                let min = rect.min + Vec2::new((x + quiet) as f32 * m, (y + quiet) as f32 * m);
                painter.rect_filled(
                    egui::Rect::from_min_size(min, Vec2::splat(m.ceil())),
                    0.0,
                    Color32::BLACK,
                );
            }
        }
    }
}

/// The name a student may give (only the teacher's report shows it).
fn name_ui(ui: &mut Ui, cx: &mut Cx, c: &ClassState) {
    let id = egui::Id::unique("class name");
    let mut draft: String = ui
        .data(|d| d.get_temp(id))
        .unwrap_or_else(|| c.name.clone().unwrap_or_default());
    let field = ui.add(
        egui::TextEdit::singleline(&mut draft)
            .hint_text(tr("Your name (optional)"))
            .char_limit(crate::class::protocol::MAX_NAME)
            .desired_width(140.0),
    );
    let done = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
    let changed = crate::class::protocol::clean_name(&draft) != c.name;
    if changed && (done || ui.small_button(tr("Use this name")).clicked()) {
        cx.command(UiCommand::Class(ClassMove::Name(draft.clone())));
    }
    ui.data_mut(|d| d.insert_temp(id, draft));
}

fn student_ui(ui: &mut Ui, cx: &mut Cx, c: &ClassState) {
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(trf!("Class {code}", code = c.code)).strong());
        connection_ui(ui, c);
        name_ui(ui, cx, c);
        if c.follow {
            if ui
                .button(tr("Explore on my own"))
                .on_hover_text(tr("Leave the teacher's moment and step through it yourself"))
                .clicked()
            {
                cx.command(UiCommand::Class(ClassMove::Follow(false)));
            }
        } else if ui.button(tr("Follow the teacher")).clicked() {
            cx.command(UiCommand::Class(ClassMove::Follow(true)));
        }
        let status = match (c.open_round(), &c.revealed) {
            (_, Some(_)) => tr("The answer is revealed.").to_string(),
            (Some(round), _) => {
                let k = usize::from(round) - 1;
                match (&c.sent[k], c.acked[k]) {
                    (Some(_), true) => trf!(
                        "✔ Your answer is in (round {n}); you can change it until the round closes.",
                        n = round
                    ),
                    (Some(_), false) => tr("Sending your answer…").to_string(),
                    (None, _) if round == 2 => {
                        tr("Discuss with a neighbour, then answer again.").to_string()
                    }
                    (None, _) => tr("Answer the question on your screen.").to_string(),
                }
            }
            (None, None) if c.question.is_some() => tr("The round is closed.").to_string(),
            (None, None) => tr("Waiting for the teacher's question.").to_string(),
        };
        ui.label(RichText::new(status).color(BACKWARD));
    });
    if let (Some(d), true) = (&c.drawing, c.follow) {
        drawing_question_ui(ui, cx, c, d);
    }
}

/// The teacher's drawing question on a student's screen: the drawing, the
/// label it is taught with, ten digits to answer with (sent at once; a
/// new one replaces it until the round closes), and once revealed the
/// network's answer against the student's.
fn drawing_question_ui(ui: &mut Ui, cx: &mut Cx, c: &ClassState, d: &Drawing) {
    let open = c.open_round().is_some();
    let mine = match c.last_sent() {
        Some(Value::Option(o)) => Some(o.as_str()),
        _ => None,
    };
    let right = match &c.revealed {
        Some(Value::Option(o)) => Some(o.as_str()),
        _ => None,
    };
    let narrow = ui.available_width() < 600.0;
    let side = if narrow { 112.0 } else { 140.0 };
    ui.add_space(4.0);
    ui.horizontal_top(|ui| {
        preview_ui(ui, &d.values(), side);
        ui.vertical(|ui| {
            ui.label(
                RichText::new(trf!(
                    "The teacher teaches the network that this drawing is a {label}. After that one step, which digit will the network answer?",
                    label = d.label
                ))
                .size(if narrow { 16.0 } else { 18.0 })
                .strong(),
            );
            ui.horizontal_wrapped(|ui| {
                for digit in 0..10u8 {
                    let text = digit.to_string();
                    let colour = match right {
                        Some(r) if r == text => RIGHT,
                        _ if right.is_some() && mine == Some(text.as_str()) => ERROR,
                        _ => ui.visuals().text_color(),
                    };
                    // (Framed: on a phone they must read as buttons.)
                    let button =
                        egui::Button::new(RichText::new(&text).size(24.0).strong().color(colour))
                            .selected(mine == Some(text.as_str()))
                            .min_size(Vec2::splat(40.0));
                    if ui.add_enabled(open, button).clicked() {
                        cx.command(UiCommand::Class(ClassMove::Choose(text)));
                    }
                }
            });
            if let Some(r) = right {
                let (text, colour) = match mine {
                    Some(m) if m == r => (trf!("✔ Right: the network answers {answer}.", answer = r), RIGHT),
                    Some(m) => (
                        trf!(
                            "✘ The network answers {answer}, not {guess}: one small step moves the weights only a little.",
                            answer = r,
                            guess = m
                        ),
                        ERROR,
                    ),
                    None => (trf!("The network answers {answer}.", answer = r), BACKWARD),
                };
                ui.label(RichText::new(text).size(18.0).color(colour));
            }
        });
    });
}
