//! The classroom's screen: a 1280x720 projector in projector mode (1.4x, so
//! 914x514 points), English and Russian. Walking the 16 lesson steps, each
//! covered and then revealed by a clicker's PgDn, and conv1's and conv2's
//! backward step, the loss and the Draw tab outside the lesson, measured on
//! the accessibility tree's rectangles: the step's maps are sized to carry
//! their numbers (every cell of a 3x3 map at least 64 pixels, of a map up
//! to 7x7 at least 36, up to 14x14 at least 20), the numbers are drawn,
//! nothing of a map lies outside the window or under another panel, and the
//! tabs stay reachable.

use backprop_viz::app::{BackpropApp, UiCommand};
use backprop_viz::engine::stepper::Phase;
use backprop_viz::i18n::Lang;
use backprop_viz::teach::lesson::{steps, Mark, Tab};
use egui::accesskit::Role;
use egui::{Pos2, Rect};
use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::Harness;

mod app_common;
use app_common::{projector, settle, snapshot, to_phase};

/// Projector mode's zoom: pixels per point.
const ZOOM: f32 = 1.4;

fn screen() -> Rect {
    Rect::from_min_size(Pos2::ZERO, egui::vec2(1280.0, 720.0) / ZOOM)
}

/// A heatmap on screen, as it describes itself to a screen reader:
/// `ROWSxCOLS; SIDE pt; POWER: NUMBERS…` (or `–` for colours only).
#[derive(Debug)]
struct Map {
    title: String,
    rect: Rect,
    rows: usize,
    cols: usize,
    /// A cell's side in points.
    cell: f32,
    numbers: Option<Vec<String>>,
}

fn maps(h: &Harness<'static, BackpropApp>) -> Vec<Map> {
    h.query_all_by(|n| n.role() == Role::Image)
        .filter_map(|n| {
            let node = n.accesskit_node();
            let value = node.value()?;
            let mut parts = value.splitn(3, "; ");
            let (size, cell, numbers) = (parts.next()?, parts.next()?, parts.next()?);
            let (rows, cols) = size.split_once('x')?;
            let numbers = numbers
                .split_once(": ")
                .map(|(_, cells)| cells.split(' ').map(str::to_string).collect());
            Some(Map {
                title: node.label().unwrap_or_default().to_string(),
                rect: n.rect(),
                rows: rows.parse().ok()?,
                cols: cols.parse().ok()?,
                cell: cell.strip_suffix(" pt")?.parse().ok()?,
                numbers,
            })
        })
        .collect()
}

/// The smallest cell, in pixels, a map of this size must have.
fn target_px(rows: usize, cols: usize) -> Option<f32> {
    match rows.max(cols) {
        0..=3 => Some(64.0),
        4..=7 => Some(36.0),
        8..=14 => Some(20.0),
        _ => None,
    }
}

/// Every map of the view that is up to 14x14 meets its size and prints its
/// numbers; every map lies inside the window, inside the views and clear
/// of the lesson's strip; the tabs are on screen. Returns how many maps
/// were measured; what is wrong goes to `problems`.
fn check_screen(
    h: &Harness<'static, BackpropApp>,
    what: &str,
    problems: &mut Vec<String>,
) -> usize {
    let marks = h.state().marks();
    let views = marks[&Mark::Views];
    let tabs = marks
        .get(&Mark::Tabs)
        .unwrap_or_else(|| panic!("{what}: no tabs on screen"));
    assert!(
        screen().contains_rect(*tabs),
        "{what}: the tabs at {tabs:?} are off screen"
    );
    // Nothing in the view reaches past its right edge (a line that does
    // widens the view: the maps scroll sideways under a scroll bar).
    for n in h.query_all_by(|n| matches!(n.role(), Role::Label | Role::Button | Role::Image)) {
        let r = n.rect();
        let inside = r.top() >= views.top() && r.bottom() <= views.bottom();
        check(
            problems,
            !(inside && r.right() > views.right() + 1.0),
            format!(
                "{what}: {:?} at {r:?} reaches past the view's edge {views:?}",
                n.accesskit_node().label().unwrap_or_default()
            ),
        );
    }
    let lesson = marks.get(&Mark::LessonPanel).copied();
    let all = maps(h);
    assert!(!all.is_empty(), "{what}: no map on screen");
    let mut measured = 0;
    for m in &all {
        check(
            problems,
            screen().contains_rect(m.rect) && views.expand(1.0).contains_rect(m.rect),
            format!(
                "{what}: {:?} at {:?} is not entirely inside the window's views {views:?}",
                m.title, m.rect
            ),
        );
        if let Some(strip) = lesson {
            check(
                problems,
                !m.rect.intersects(strip),
                format!(
                    "{what}: {:?} at {:?} is under the lesson's strip {strip:?}",
                    m.title, m.rect
                ),
            );
        }
        let Some(target) = target_px(m.rows, m.cols) else {
            continue;
        };
        measured += 1;
        check(
            problems,
            m.cell * ZOOM >= target - 0.5,
            format!(
                "{what}: {:?} ({}x{}) has cells of {:.1} px, under {target}",
                m.title,
                m.rows,
                m.cols,
                m.cell * ZOOM
            ),
        );
        check(
            problems,
            m.numbers.is_some(),
            format!(
                "{what}: {:?} ({}x{}, cells {:.1} px) prints no numbers",
                m.title,
                m.rows,
                m.cols,
                m.cell * ZOOM
            ),
        );
    }
    measured
}

fn check(problems: &mut Vec<String>, ok: bool, what: String) {
    if !ok {
        problems.push(what);
    }
}

fn report(problems: Vec<String>) {
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn press(h: &mut Harness<'static, BackpropApp>, key: egui::Key) {
    h.key_press(key);
    h.run_steps(2);
    settle(h);
    h.run_steps(3);
}

fn lesson_walk(lang: Lang) {
    let mut h = projector(lang);
    // A clicker starts the lesson.
    press(&mut h, egui::Key::PageDown);
    assert_eq!(
        h.state().lesson.open,
        Some(0),
        "{lang:?}: PgDn starts the lesson"
    );
    let count = steps().len();
    let mut measured = 0;
    let mut problems = Vec::new();
    for i in 0..count {
        assert_eq!(h.state().lesson.open, Some(i), "{lang:?}: at step {i}");
        let what = format!("{lang:?} step {} ({})", i + 1, steps()[i].title);
        if h.state().covering() {
            // Covered: the question is on screen, the tabs reachable.
            let tabs = h.state().marks()[&Mark::Tabs];
            assert!(screen().contains_rect(tabs), "{what}: tabs off screen");
            // The clicker's PgDn reveals first, staying on the step.
            press(&mut h, egui::Key::PageDown);
            assert_eq!(
                h.state().lesson.open,
                Some(i),
                "{what}: PgDn moved on unrevealed"
            );
            assert!(
                !h.state().covering(),
                "{what}: PgDn did not reveal the step"
            );
        }
        if steps()[i].mark.is_map() {
            measured += check_screen(&h, &what, &mut problems);
        }
        if i == 1 {
            // The batch at the input: its first digit is on screen.
            let digit = maps(&h).into_iter().find(|m| m.rows >= 28 && m.cols >= 28);
            check(
                &mut problems,
                digit.is_some_and(|m| screen().contains_rect(m.rect)),
                format!("{what}: the input digit is not on screen"),
            );
        }
        if i == 10 {
            spoken_numbers(&mut h, &what);
        }
        if i + 1 < count {
            press(&mut h, egui::Key::PageDown);
        }
    }
    assert!(measured >= 10, "{lang:?}: only {measured} maps measured");
    // PgUp goes back.
    press(&mut h, egui::Key::PageUp);
    assert_eq!(
        h.state().lesson.open,
        Some(count - 2),
        "{lang:?}: PgUp goes back"
    );
    report(problems);
}

/// The answer's step speaks its numbers: conv2's middle dF as the trace
/// holds it, and hovering the sentence lights that cell on the maps.
fn spoken_numbers(h: &mut Harness<'static, BackpropApp>, what: &str) {
    let s = snapshot(h);
    let dfv = s.trace.layers[3].weight_grad.as_ref().expect("conv2's dF")[[0, 0, 1, 1]];
    let printed = format!(
        "dF[1,1] = {}",
        backprop_viz::teach::notation::own_magnitude(dfv, 4)
    );
    let sentence = h
        .query_all_by(|n| n.role() == Role::Label)
        .find(|n| {
            let node = n.accesskit_node();
            node.label()
                .or(node.value())
                .is_some_and(|t| t.contains(&printed))
        })
        .map(|n| n.rect())
        .unwrap_or_else(|| panic!("{what}: no sentence with {printed:?}"));
    h.event(egui::Event::PointerMoved(sentence.center()));
    h.run_steps(3);
    assert_eq!(
        h.state().lit,
        Some(backprop_viz::teach::explain::CellRef::WeightGrad {
            layer: 3,
            index: vec![0, 0, 1, 1]
        }),
        "{what}: hovering the sentence does not light dF[0,0,1,1]"
    );
    h.event(egui::Event::PointerMoved(egui::pos2(5.0, 5.0)));
    h.run_steps(3);
    assert_eq!(h.state().lit, None, "{what}: the cell stays lit");
}

#[test]
fn the_lesson_fills_a_720p_projector_in_english() {
    lesson_walk(Lang::En);
}

#[test]
fn the_lesson_fills_a_720p_projector_in_russian() {
    lesson_walk(Lang::Ru);
}

/// Clicks the toggle (`② D4`, `② D10`) that shows a backward view's row ②.
fn show_row_2(h: &mut Harness<'static, BackpropApp>, toggle: &str, lang: Lang) {
    let row2 = h
        .query_all_by(|n| n.role() == Role::Button)
        .find(|n| {
            let node = n.accesskit_node();
            let text = node.label().or_else(|| node.value()).unwrap_or_default();
            text.starts_with(toggle)
        })
        .map(|n| n.rect())
        .unwrap_or_else(|| panic!("{lang:?}: no toggle {toggle}"));
    app_common::click_at(h, row2.center());
    h.run_steps(3);
}

fn outside_the_lesson(lang: Lang) {
    let mut h = projector(lang);
    let mut problems = Vec::new();
    // The loss, conv2's backward step (both of its rows), conv1's.
    to_phase(&mut h, Phase::Loss);
    check_screen(&h, &format!("{lang:?} loss"), &mut problems);
    to_phase(&mut h, Phase::Backward(3));
    check_screen(
        &h,
        &format!("{lang:?} conv2 backward, row 1"),
        &mut problems,
    );
    show_row_2(&mut h, "② D4", lang);
    let titles: Vec<String> = maps(&h).into_iter().map(|m| m.title).collect();
    assert!(
        titles.iter().any(|t| t.starts_with("rot180")),
        "{lang:?}: row ② not shown after its toggle: {titles:?}"
    );
    check_screen(
        &h,
        &format!("{lang:?} conv2 backward, row 2"),
        &mut problems,
    );
    to_phase(&mut h, Phase::Backward(0));
    check_screen(&h, &format!("{lang:?} conv1 backward"), &mut problems);
    // relu3's 49-vector in rows of 7: three 7x7 maps (held to 36 px cells
    // with numbers by check_screen), not four thin strips; a click on
    // row 3, column 6 is entry 27.
    to_phase(&mut h, Phase::Backward(8));
    let relu3 = maps(&h);
    check(
        &mut problems,
        relu3.iter().filter(|m| (m.rows, m.cols) == (7, 7)).count() >= 3,
        format!("{lang:?} relu3 backward: not drawn in rows of 7: {relu3:?}"),
    );
    check_screen(&h, &format!("{lang:?} relu3 backward"), &mut problems);
    let d = relu3
        .iter()
        .find(|m| (m.rows, m.cols) == (7, 7) && m.title.starts_with("D10"))
        .map(|m| m.rect)
        .unwrap_or_else(|| panic!("{lang:?}: no D10 map"));
    let side = d.width() / 7.0;
    app_common::click_at(&mut h, d.min + egui::vec2(6.5 * side, 3.5 * side));
    h.run_steps(3);
    assert_eq!(
        h.state().selected,
        Some(backprop_viz::teach::explain::CellRef::Delta {
            layer: 9,
            index: vec![0, 27]
        }),
        "{lang:?}: a click on D10's row 3, column 6"
    );
    // The FC layers forward as their product W · x + b = y: W drawn, and
    // the ten logits carry their numbers (checked by check_screen: a
    // 10x1 map is held to the 14x14 rule).
    to_phase(&mut h, Phase::Forward(9));
    let fc2 = maps(&h);
    check(
        &mut problems,
        fc2.iter().any(|m| (m.rows, m.cols) == (10, 49)),
        format!("{lang:?} fc2 forward: no W (10x49) on screen"),
    );
    check(
        &mut problems,
        fc2.iter()
            .any(|m| (m.rows, m.cols) == (10, 1) && m.numbers.is_some()),
        format!("{lang:?} fc2 forward: the logits carry no numbers"),
    );
    check_screen(&h, &format!("{lang:?} fc2 forward"), &mut problems);
    // fc2 backward as the tables its products are: xᵀ over dW's columns,
    // δ beside its rows, cell for cell; then W with δ beside its rows and
    // D_belowᵀ under its columns.
    to_phase(&mut h, Phase::Backward(9));
    check_screen(&h, &format!("{lang:?} fc2 backward, row 1"), &mut problems);
    let aligned =
        |h: &Harness<'static, BackpropApp>, above: (usize, usize), main: (usize, usize)| {
            let all = maps(h);
            let find = |size: (usize, usize)| {
                all.iter()
                    .filter(|m| (m.rows, m.cols) == size)
                    .map(|m| m.rect)
                    .next()
                    .unwrap_or_else(|| panic!("{lang:?}: no {size:?} map in {all:?}"))
            };
            let (v, m, d) = (find(above), find(main), find((10, 1)));
            assert!(
                (v.left() - m.left()).abs() < 0.5 && (v.width() - m.width()).abs() < 0.5,
                "{lang:?}: the vector {v:?} is not over/under the matrix {m:?}"
            );
            assert!(
                (d.top() - m.top()).abs() < 0.5 && (d.height() - m.height()).abs() < 0.5,
                "{lang:?}: δ {d:?} is not beside the matrix's rows {m:?}"
            );
        };
    aligned(&h, (1, 49), (10, 49));
    show_row_2(&mut h, "② D10", lang);
    check_screen(&h, &format!("{lang:?} fc2 backward, row 2"), &mut problems);
    aligned(&h, (1, 49), (10, 49));
    // The Draw tab: the pad and the probabilities side by side, in the window.
    h.state_mut().command(UiCommand::ShowTab(Tab::Draw));
    h.run_steps(4);
    let views = h.state().marks()[&Mark::Views];
    let pad = h
        .query_all_by(|n| n.role() == Role::Canvas || n.role() == Role::Image)
        .map(|n| n.rect())
        .filter(|r| r.width() > 100.0)
        .collect::<Vec<_>>();
    assert!(!pad.is_empty(), "{lang:?}: nothing drawn in the Draw tab");
    // A stroke on the pad (the largest square): its ten probabilities stand
    // beside it, all of them on screen.
    let square = pad
        .iter()
        .copied()
        .max_by(|a, b| a.area().total_cmp(&b.area()))
        .unwrap();
    let (from, to) = (
        square.lerp_inside(egui::vec2(0.45, 0.2)),
        square.lerp_inside(egui::vec2(0.55, 0.8)),
    );
    h.event(egui::Event::PointerMoved(from));
    h.event(egui::Event::PointerButton {
        pos: from,
        button: egui::PointerButton::Primary,
        pressed: true,
        modifiers: Default::default(),
    });
    h.run_steps(2);
    for k in 1..=10 {
        h.event(egui::Event::PointerMoved(from.lerp(to, k as f32 / 10.0)));
        h.run_steps(1);
    }
    h.event(egui::Event::PointerButton {
        pos: to,
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: Default::default(),
    });
    h.run_steps(4);
    let meters: Vec<egui::Rect> = h
        .query_all_by(|n| n.role() == Role::Meter)
        .map(|n| n.rect())
        .collect();
    assert_eq!(
        meters.len(),
        10,
        "{lang:?}: the ten probabilities are not drawn"
    );
    for m in &meters {
        assert!(
            screen().contains_rect(*m) && views.expand(1.0).contains_rect(*m),
            "{lang:?}: a probability at {m:?} is not on screen in {views:?}"
        );
        assert!(
            m.left() >= square.right(),
            "{lang:?}: a probability at {m:?} is not beside the pad {square:?}"
        );
    }
    for rect in pad {
        assert!(
            screen().contains_rect(rect) && views.expand(1.0).contains_rect(rect),
            "{lang:?}: the Draw tab's {rect:?} is not inside the views {views:?}"
        );
    }
    report(problems);
}

#[test]
fn conv_loss_and_draw_fill_a_720p_projector_in_english() {
    outside_the_lesson(Lang::En);
}

#[test]
fn conv_loss_and_draw_fill_a_720p_projector_in_russian() {
    outside_the_lesson(Lang::Ru);
}

/// Max pooling's winners are marked with a dot that never covers a number:
/// at 720p every cell of pool2's input and of the delta it hands down
/// prints its number, the dot beside it in the cell's corner.
#[test]
fn pooling_winners_keep_their_numbers_readable() {
    let mut h = projector(Lang::En);
    to_phase(&mut h, Phase::Backward(5));
    let shapes = &h.output().shapes;
    let texts: Vec<Rect> = shapes
        .iter()
        .filter_map(|c| match &c.shape {
            egui::Shape::Text(t) if t.galley.text().chars().any(|ch| ch.is_ascii_digit()) => {
                Some(t.visual_bounding_rect())
            }
            _ => None,
        })
        .collect();
    let dots: Vec<Rect> = shapes
        .iter()
        .filter_map(|c| match &c.shape {
            egui::Shape::Circle(d) if d.fill != egui::Color32::TRANSPARENT => Some(
                Rect::from_center_size(d.center, egui::Vec2::splat(2.0 * d.radius)),
            ),
            _ => None,
        })
        .collect();
    assert!(dots.len() >= 49, "{} winner dots", dots.len());
    let covered: Vec<_> = dots
        .iter()
        .filter(|d| {
            texts
                .iter()
                .any(|t| t.shrink(0.5).intersects(d.shrink(0.5)))
        })
        .collect();
    assert!(
        covered.is_empty(),
        "{} dots over numbers: {:?}",
        covered.len(),
        &covered[..covered.len().min(3)]
    );
}
