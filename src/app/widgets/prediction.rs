//! Predict before the reveal, drawn: in Predict mode (View menu; always on
//! in the guided lesson) a backward step or the update arrives covered by a
//! question (`teach::predict` asks it and marks the answer); the learner
//! answers here, then sees the view with the answer marked right or wrong
//! and a link to the explanation of that number. A teacher reveals for the
//! whole class with V (or Space).

use std::collections::BTreeSet;

use egui::{RichText, Ui, Vec2};

use crate::app::command::UiCommand;
use crate::app::cx::Cx;
use crate::app::state::AppState;
use crate::app::style::{compact, BACKWARD, ERROR, RIGHT};
use crate::app::widgets::equation::{fit_cell, row_ui, Operand, Term};
use crate::app::widgets::heatmap::CellRect;
use crate::app::widgets::heatmap::LINKED;
use crate::class::protocol::Value;
use crate::engine::trace::Trace;
use crate::i18n::tr;
use crate::teach::predict::{
    cell_of, phase_name, question_text, revealed_cells, truth_text, Ask, CellMark, Given,
};
use crate::trf;

/// The prompt that covers the view until the learner answers.
pub fn prompt_ui(ui: &mut Ui, cx: &mut Cx) {
    let Some(s) = cx.state.snapshot.as_ref() else {
        return;
    };
    let Some(mut p) = cx.state.prediction.clone() else {
        return;
    };
    let t = &s.trace;
    let compact = compact(ui.ctx());
    ui.label(
        RichText::new(trf!(
            "Predict first: {phase}",
            phase = phase_name(t, p.phase)
        ))
        .size(if compact { 20.0 } else { 24.0 })
        .color(BACKWARD),
    );
    let class = cx.state.class.as_ref();
    let student = class.is_some_and(|c| c.student_answering());
    let teaching = class.is_some_and(|c| c.teacher());
    if !compact {
        ui.label(if student {
            tr("The result is covered until the teacher reveals it. Answer, then send: you can change your answer until the round closes.")
        } else {
            tr("The result is covered until you answer. Space or V reveals it for the whole class.")
        });
    }
    // The room's clicks on the map, when the teacher shows them.
    let votes = class
        .filter(|c| c.teacher() && (c.show_tally || c.revealed.is_some()))
        .map(|c| room_clicks(c, None))
        .unwrap_or_default();
    ui.add_space(6.0);
    let ready = p.asks.iter().all(|(a, g)| a.answered(g));
    let count = p.asks.len();
    let mut show = false;
    let size = if compact { 16.0 } else { 18.0 };
    for (k, (ask, given)) in p.asks.iter_mut().enumerate() {
        let last = k + 1 == count;
        ui.push_id(k, |ui| {
            let words = |ui: &mut Ui, given: &mut Given, show: &mut bool| {
                ui.label(RichText::new(question_text(t, ask)).size(size).strong());
                controls_ui(ui, ask, given);
                if last {
                    ui.add_space(8.0);
                    *show = show_button(ui, ready, student, teaching);
                }
            };
            if has_map(ask) && ui.available_width() < 500.0 {
                // A phone: the words, then the map as wide as the screen
                // (beside the words its cells were too small to tap).
                words(ui, given, &mut show);
                let room = Vec2::new(ui.available_width(), ui.available_height() - 8.0);
                if let Some(rect) = map_ui(ui, t, ask, given, room, compact, &votes) {
                    cx.mark(crate::teach::lesson::Mark::Question, rect);
                }
            } else if has_map(ask) {
                // The map as tall as the view, the words beside it: on a
                // 720p projector nothing needs scrolling.
                let room = Vec2::new(ui.available_width() * 0.55, ui.available_height() - 8.0);
                ui.horizontal_top(|ui| {
                    if let Some(rect) = map_ui(ui, t, ask, given, room, compact, &votes) {
                        cx.mark(crate::teach::lesson::Mark::Question, rect);
                    }
                    ui.vertical(|ui| words(ui, given, &mut show));
                });
            } else {
                words(ui, given, &mut show);
                if k == 0 {
                    if let Some(c) = class.filter(|c| c.teacher() && c.show_tally) {
                        room_ui(ui, &option_labels(ask), c);
                    }
                }
                ui.separator();
            }
        });
    }
    if cx.state.prediction.as_ref() != Some(&p) {
        cx.command(UiCommand::Answer(p));
    }
    if show {
        cx.command(UiCommand::Reveal);
    }
}

/// Show me (a learner alone, once answered), Send my answer (a student in a
/// class), or Reveal (a class's teacher, who need not answer: as V).
fn show_button(ui: &mut Ui, ready: bool, student: bool, teaching: bool) -> bool {
    let label = if student {
        tr("Send my answer")
    } else if teaching {
        tr("Reveal")
    } else {
        tr("Show me")
    };
    ui.add_enabled(
        ready || teaching,
        egui::Button::new(RichText::new(label).strong().size(18.0)),
    )
    .clicked()
}

/// The cells the class clicked, `(row, column, count)`, over both rounds'
/// latest tally (round 2's when there is one: the room's last word).
/// Only `channel`'s, when one is given.
fn room_clicks(
    c: &crate::app::classroom::ClassState,
    channel: Option<usize>,
) -> Vec<(usize, usize, usize)> {
    let Some(tally) = c.tallies.iter().rev().flatten().next() else {
        return Vec::new();
    };
    tally
        .cells
        .iter()
        .filter(|cell| channel.is_none_or(|ch| cell[0] as usize == ch))
        .map(|&[_, r, col, n]| (r as usize, col as usize, n as usize))
        .collect()
}

/// Whether the question is answered by clicking cells of a map.
fn has_map(ask: &Ask) -> bool {
    matches!(ask, Ask::ReluBlocked { .. } | Ask::PoolWinner { .. })
}

/// How the room answered the class's question (the first asked), large on
/// the projector: a bar per option and round, round 1 and round 2 side by
/// side, the count printed at the bar's end.
pub fn room_ui(ui: &mut Ui, labels: &[String], c: &crate::app::classroom::ClassState) {
    let Some(q) = &c.question else { return };
    if labels.len() != q.options.len() {
        return;
    }
    ui.add_space(10.0);
    ui.label(
        RichText::new(tr("How the room answered"))
            .strong()
            .size(18.0),
    );
    let rounds: Vec<(usize, &crate::class::protocol::Tally)> = c
        .tallies
        .iter()
        .enumerate()
        .filter_map(|(k, t)| t.as_ref().map(|t| (k, t)))
        .collect();
    let most = rounds
        .iter()
        .flat_map(|(_, t)| t.options.values().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let colours = ROUND_COLOURS;
    if q.options.len() > 6 {
        // Many short options (the ten digits): a column per option, as
        // the probabilities are drawn; rows would not fit a projector.
        columns_ui(ui, q, labels, &rounds, most, c.revealed.as_ref());
    } else {
        rows_ui(ui, q, labels, &rounds, most, c.revealed.as_ref());
    }
    if rounds.len() == 2 {
        ui.horizontal(|ui| {
            for (k, colour) in colours.iter().enumerate() {
                let (rect, _) = ui.allocate_exact_size(Vec2::splat(14.0), egui::Sense::hover());
                ui.painter().rect_filled(rect, 2.0, *colour);
                ui.label(trf!("Round {n}", n = k + 1));
            }
        });
    }
}

/// The rounds' colours: round 1's, round 2's.
const ROUND_COLOURS: [egui::Color32; 2] = [BACKWARD, crate::app::style::FORWARD];

type Rounds<'a> = [(usize, &'a crate::class::protocol::Tally)];

/// A column per option: the rounds' bars side by side, the count above
/// each, the option under them (green once revealed right).
fn columns_ui(
    ui: &mut Ui,
    q: &crate::class::protocol::Question,
    labels: &[String],
    rounds: &Rounds,
    most: usize,
    revealed: Option<&Value>,
) {
    let n = q.options.len() as f32;
    let width = ui.available_width().min(64.0 * n);
    // As tall as what is left on screen allows (in a scrolling tab the
    // room below is unbounded): the digits under the bars stay in view.
    let left = ui.clip_rect().bottom() - ui.cursor().top();
    let height = (left - 56.0 - 28.0).clamp(70.0, 140.0);
    let (rect, _) = ui.allocate_exact_size(Vec2::new(width, height + 56.0), egui::Sense::hover());
    let painter = ui.painter();
    let column = width / n;
    let bar = (column * 0.8 / rounds.len().max(1) as f32).min(28.0);
    let base = rect.top() + 22.0 + height;
    for (i, (option, label)) in q.options.iter().zip(labels).enumerate() {
        let x0 = rect.left() + column * i as f32 + (column - bar * rounds.len() as f32) / 2.0;
        for (j, (k, t)) in rounds.iter().enumerate() {
            let count = t.options.get(option).copied().unwrap_or(0);
            let h = (height * count as f32 / most as f32).max(2.0);
            let x = x0 + bar * j as f32;
            let r = egui::Rect::from_min_max(
                egui::pos2(x + 2.0, base - h),
                egui::pos2(x + bar - 2.0, base),
            );
            painter.rect_filled(r, 2.0, ROUND_COLOURS[*k]);
            painter.text(
                egui::pos2(r.center().x, r.top() - 2.0),
                egui::Align2::CENTER_BOTTOM,
                count.to_string(),
                egui::FontId::proportional(14.0),
                ui.visuals().text_color(),
            );
        }
        let right = matches!(revealed, Some(Value::Option(r)) if r == option);
        painter.text(
            egui::pos2(rect.left() + column * (i as f32 + 0.5), base + 6.0),
            egui::Align2::CENTER_TOP,
            label,
            egui::FontId::proportional(24.0),
            if right {
                RIGHT
            } else {
                ui.visuals().text_color()
            },
        );
    }
}

/// A row per option: the label, then the rounds' bars one under the other
/// with the count at each bar's end.
fn rows_ui(
    ui: &mut Ui,
    q: &crate::class::protocol::Question,
    labels: &[String],
    rounds: &Rounds,
    most: usize,
    revealed: Option<&Value>,
) {
    let colours = ROUND_COLOURS;
    let label_width = 150.0;
    // (Room for the label, the count after the bar and the spacing: a row
    // wider than the view would push the class's panel aside.)
    let bar_room = (ui.available_width() - label_width - 140.0).clamp(60.0, 520.0);
    for (option, label) in q.options.iter().zip(labels) {
        ui.horizontal(|ui| {
            let right = matches!(revealed, Some(Value::Option(r)) if r == option);
            let (rect, _) =
                ui.allocate_exact_size(Vec2::new(label_width, 28.0), egui::Sense::hover());
            ui.painter().text(
                rect.left_center(),
                egui::Align2::LEFT_CENTER,
                label,
                egui::FontId::proportional(20.0),
                if right {
                    RIGHT
                } else {
                    ui.visuals().text_color()
                },
            );
            ui.vertical(|ui| {
                for (k, t) in rounds {
                    let n = t.options.get(option).copied().unwrap_or(0);
                    let (rect, _) = ui.allocate_exact_size(
                        Vec2::new(bar_room + 50.0, 22.0),
                        egui::Sense::hover(),
                    );
                    let mut bar = rect;
                    bar.set_width((bar_room * n as f32 / most as f32).max(2.0));
                    ui.painter().rect_filled(bar, 2.0, colours[*k]);
                    ui.painter().text(
                        egui::pos2(bar.right() + 6.0, bar.center().y),
                        egui::Align2::LEFT_CENTER,
                        format!("{n}"),
                        egui::FontId::proportional(18.0),
                        ui.visuals().text_color(),
                    );
                }
            });
        });
    }
}

/// An option of a class's question as its button words it (the wire's
/// `+`, `grow`, `1x14x14` as `+ positive`, `larger`, `1×14×14`).
pub fn wire_label(option: &str) -> String {
    match option {
        "+" => tr("+ positive").into(),
        "-" => tr("− negative").into(),
        "grow" => tr("larger").into(),
        "shrink" => tr("smaller").into(),
        shape => shape.replace('x', "×"),
    }
}

/// The words on a question's option buttons, in the order of its options.
fn option_labels(ask: &Ask) -> Vec<String> {
    match ask {
        Ask::DfSign { .. } => vec![tr("+ positive").into(), tr("− negative").into()],
        Ask::TapChange { .. } => vec![tr("larger").into(), tr("smaller").into()],
        Ask::BelowShape { options, .. } | Ask::Spacing { options, .. } => options.clone(),
        Ask::ReluBlocked { .. } | Ask::PoolWinner { .. } => Vec::new(),
    }
}

/// The buttons that answer a question (choices; for the ReLU, "none").
fn controls_ui(ui: &mut Ui, ask: &Ask, given: &mut Given) {
    let choices = |ui: &mut Ui, given: &mut Given, labels: &[String]| {
        ui.horizontal_wrapped(|ui| {
            for (k, label) in labels.iter().enumerate() {
                let on = *given == Given::Choice(k);
                if ui
                    .selectable_label(on, RichText::new(label).size(18.0))
                    .clicked()
                {
                    *given = Given::Choice(k);
                }
            }
        });
    };
    match ask {
        Ask::DfSign { .. }
        | Ask::TapChange { .. }
        | Ask::BelowShape { .. }
        | Ask::Spacing { .. } => choices(ui, given, &option_labels(ask)),
        Ask::ReluBlocked { .. } => {
            let marked = match given {
                Given::Cells(c) => c.len(),
                _ => 0,
            };
            ui.label(trf!("{n} cells marked as blocked", n = marked));
            if ui.button(tr("None are blocked")).clicked() {
                *given = Given::Cells(BTreeSet::new());
            }
        }
        Ask::PoolWinner { .. } => {}
    }
}

/// The operand a question is answered on, with the cells clicked so far.
fn map_ui(
    ui: &mut Ui,
    t: &Trace,
    ask: &Ask,
    given: &mut Given,
    room: Vec2,
    compact: bool,
    votes: &[(usize, usize, usize)],
) -> Option<egui::Rect> {
    match ask {
        Ask::ReluBlocked {
            layer,
            sample,
            channel,
        } => {
            // (The question was asked about a step whose input exists.)
            let x = t.layer_input(*layer)?;
            let (h, w) = (x.shape()[2], x.shape()[3]);
            let values: Vec<f32> = (0..h * w)
                .map(|q| x[[*sample, *channel, q / w, q % w]])
                .collect();
            let cells = match given {
                Given::Cells(c) => c.clone(),
                _ => BTreeSet::new(),
            };
            let map = Operand::new("x", tr("the ReLU's input x"), &values, h, w, true)
                .dots(cells.iter().copied().collect())
                .votes(votes.to_vec())
                .big();
            let terms = vec![Term::map(map)];
            let fitted = fit_cell(&[&terms], room, 26.0, (3.0, 36.0), compact);
            let drawn = row_ui(ui, terms, fitted);
            if let Some((_, cell)) = drawn.clicked {
                let mut cells = cells;
                if !cells.remove(&cell) {
                    cells.insert(cell);
                }
                *given = Given::Cells(cells);
            }
            drawn.rect("x")
        }
        Ask::PoolWinner {
            layer,
            sample,
            channel,
            window,
        } => {
            // (The question was asked about a step whose input exists.)
            let x = t.layer_input(*layer)?;
            let (size, stride) = t.kinds[*layer].pool_window().unwrap_or((2, 2));
            let (h, w) = (x.shape()[2], x.shape()[3]);
            let values: Vec<f32> = (0..h * w)
                .map(|q| x[[*sample, *channel, q / w, q % w]])
                .collect();
            let chosen = match given {
                Given::Choice(q) => Some((*q / w, *q % w)),
                _ => None,
            };
            let rect = (window.0 * stride, window.1 * stride, size, size);
            // The window again, enlarged beside the map, its numbers with
            // their own digits: the cells to compare are never too small to
            // read, and close values stay apart.
            let corner = (rect.0, rect.1);
            let in_window: Vec<f32> = (0..size * size)
                .map(|q| values[(corner.0 + q / size) * w + corner.1 + q % size])
                .collect();
            let map = Operand::new("x", tr("the pooling's input x"), &values, h, w, false)
                .windows(if stride < size { 0 } else { size })
                .outline(Some(rect), LINKED)
                .selected(chosen)
                .votes(votes.to_vec())
                .big();
            let enlarged = Operand::new(
                "window",
                tr("its window, enlarged"),
                &in_window,
                size,
                size,
                false,
            )
            .outline(Some((0, 0, size, size)), LINKED)
            .selected(chosen.and_then(|(r, c)| {
                (r / size == window.0 && c / size == window.1).then(|| (r - corner.0, c - corner.1))
            }))
            // The room's clicks in the window, large enough for their counts.
            .votes(
                votes
                    .iter()
                    .filter(|(r, c, _)| r / size == window.0 && c / size == window.1)
                    .map(|&(r, c, n)| (r - corner.0, c - corner.1, n))
                    .collect(),
            )
            .zoom(3);
            let terms = vec![Term::map(map), Term::Op("→".into()), Term::map(enlarged)];
            let fitted = fit_cell(&[&terms], room, 26.0, (3.0, 36.0), compact);
            let drawn = row_ui(ui, terms, fitted);
            let picked = match drawn.clicked {
                Some(("window", (r, c))) => Some((corner.0 + r, corner.1 + c)),
                Some((_, cell)) => Some(cell),
                None => None,
            };
            if let Some((r, c)) = picked {
                if r / size == window.0 && c / size == window.1 {
                    *given = Given::Choice(r * w + c);
                }
            }
            drawn.rect("x")
        }
        _ => None,
    }
}

/// After the reveal, on a map of layer `layer` (`sample`, `channel`; for
/// weights the output and input channel): the right cells outlined in
/// green, the learner's wrong picks in red, so the answer is read on the
/// map itself.
pub fn revealed_outlines(
    state: &AppState,
    t: &Trace,
    layer: usize,
    sample: usize,
    channel: usize,
) -> Vec<(CellRect, egui::Color32)> {
    let Some(p) = state.prediction.as_ref().filter(|_| has_verdict(state)) else {
        return Vec::new();
    };
    revealed_cells(t, p, layer, sample, channel)
        .into_iter()
        .map(|((r, c), mark)| {
            let colour = match mark {
                CellMark::Right => RIGHT,
                CellMark::Wrong => ERROR,
            };
            ((r, c, 1, 1), colour)
        })
        .collect()
}

/// After a class's click question is revealed: where the room clicked on
/// layer `layer`'s input, channel `channel`, `(row, column, count)` (the
/// teacher's screen; round 2's clicks when there was a revote).
pub fn revealed_votes(
    state: &AppState,
    layer: usize,
    channel: usize,
) -> Vec<(usize, usize, usize)> {
    let Some(c) = state
        .class
        .as_ref()
        .filter(|c| c.teacher() && c.revealed.is_some())
    else {
        return Vec::new();
    };
    let asked = state
        .prediction
        .as_ref()
        .filter(|_| has_verdict(state))
        .and_then(|p| {
            p.asks.first().map(|(ask, _)| match ask {
                Ask::ReluBlocked { layer: l, .. } | Ask::PoolWinner { layer: l, .. } => *l == layer,
                _ => false,
            })
        });
    if asked != Some(true) {
        return Vec::new();
    }
    room_clicks(c, Some(channel))
}

/// Whether the step on screen has a revealed prediction to speak of.
pub fn has_verdict(state: &AppState) -> bool {
    let (Some(s), Some(p)) = (state.snapshot.as_ref(), state.prediction.as_ref()) else {
        return false;
    };
    s.batches == p.batch && s.last == Some(p.phase) && p.revealed && state.view_layer.is_none()
}

/// After the reveal: each answer marked, with the truth and a way to the
/// explanation of that number.
pub fn verdict_ui(ui: &mut Ui, cx: &mut Cx) {
    if !has_verdict(cx.state) {
        return;
    }
    let (Some(s), Some(p)) = (cx.state.snapshot.as_ref(), cx.state.prediction.clone()) else {
        return;
    };
    let t = &s.trace;
    let mark_of = |right: &Option<bool>, ui: &Ui| match right {
        Some(true) => (tr("✔ Right."), RIGHT),
        Some(false) => (tr("✘ Not this time."), ERROR),
        None => (tr("Revealed."), ui.visuals().text_color()),
    };
    // On a small window (a projector) one line over the maps, which the map
    // itself explains; the whole words are on hover and in the explanation.
    if crate::app::style::compact(ui.ctx()) {
        ui.horizontal(|ui| {
            let cell = p.asks.iter().find_map(|(ask, _)| cell_of(t, ask));
            if let Some(cell) = cell {
                if ui.small_button(tr("Explain it")).clicked() {
                    cx.command(UiCommand::Select(Some(cell)));
                }
            }
            // Each answer's mark in its colour, then its truth, on one line.
            let mut job = egui::text::LayoutJob::default();
            let mut whole = String::new();
            for ((ask, _), right) in p.asks.iter().zip(&p.marks) {
                let (mark, colour) = mark_of(right, ui);
                let truth = truth_text(t, ask);
                let font = egui::TextStyle::Body.resolve(ui.style());
                let plain = ui.visuals().text_color();
                if !whole.is_empty() {
                    job.append("   ", 0.0, egui::TextFormat::simple(font.clone(), plain));
                    whole.push('\n');
                }
                job.append(mark, 0.0, egui::TextFormat::simple(font.clone(), colour));
                job.append(&truth, 6.0, egui::TextFormat::simple(font, plain));
                whole.push_str(&format!("{mark} {truth}"));
            }
            // Cut at the view's edge: a longer line would widen the view.
            ui.add(egui::Label::new(job).truncate())
                .on_hover_text(whole);
        });
        return;
    }
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.label(RichText::new(tr("Your prediction")).strong());
        for ((ask, _), right) in p.asks.iter().zip(&p.marks) {
            ui.horizontal_wrapped(|ui| {
                let (mark, colour) = mark_of(right, ui);
                ui.label(RichText::new(mark).strong().color(colour));
                ui.label(truth_text(t, ask));
                if let Some(cell) = cell_of(t, ask) {
                    if ui.button(tr("Explain it")).clicked() {
                        cx.command(UiCommand::Select(Some(cell)));
                    }
                }
            });
        }
    });
}
