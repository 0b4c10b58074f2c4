//! The layout a class sees, measured on the accessibility tree's rectangles:
//! on a 1280x720 projector (projector mode, English and Russian) conv2's
//! whole backward equation fits beside the explanation, the explanation's
//! text fits its panel, selecting cells moves nothing, the toolbar keeps to
//! two rows, and the guided lesson's outlined view is in sight and clear of
//! the lesson's strip and of any text.

use backprop_viz::app::{BackpropApp, UiCommand};
use backprop_viz::engine::stepper::Phase;
use backprop_viz::i18n::{tr, Lang};
use backprop_viz::teach::explain::CellRef;
use backprop_viz::teach::lesson::{steps, Mark};
use egui::accesskit::Role;
use egui::{Pos2, Rect};
use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::Harness;

mod app_common;
use app_common::{click_at, projector, settle, to_phase};

fn screen() -> Rect {
    Rect::from_min_size(Pos2::ZERO, egui::vec2(1280.0, 720.0) / 1.4)
}

/// The maps on screen: every heatmap, by its title.
fn maps(h: &Harness<'static, BackpropApp>) -> Vec<(String, Rect)> {
    h.query_all_by(|n| n.role() == Role::Image)
        .map(|n| {
            (
                n.accesskit_node().label().unwrap_or_default().to_string(),
                n.rect(),
            )
        })
        .collect()
}

fn conv2_backward_fits(lang: Lang) {
    let mut h = projector(lang);
    to_phase(&mut h, Phase::Backward(3));
    // The classroom's explanation is a drawer, closed until a cell is
    // clicked: the equation has the whole view.
    assert!(
        !h.state().marks().contains_key(&Mark::Explain),
        "{lang:?}: the explanation drawer is open before any click"
    );
    let views = h.state().marks()[&Mark::Views];
    let titles = [
        tr("x: {input}, zero-padded by {p}")
            .split('{')
            .next()
            .unwrap()
            .to_string(),
        "D5".to_string(),
        "dF".to_string(),
    ];
    let before = maps(&h);
    for title in titles {
        let found: Vec<&(String, Rect)> = before
            .iter()
            .filter(|(l, _)| l.starts_with(&title))
            .collect();
        assert!(
            !found.is_empty(),
            "{lang:?}: no map titled {title:?} in {before:?}"
        );
        for (label, rect) in found {
            assert!(
                screen().contains_rect(*rect) && views.expand(1.0).contains_rect(*rect),
                "{lang:?}: {label:?} at {rect:?} is not entirely inside the views {views:?}"
            );
        }
    }
    // A click on a dF cell opens the drawer over the view, which keeps its
    // size: no map moves.
    h.state_mut()
        .command(UiCommand::Select(Some(CellRef::WeightGrad {
            layer: 3,
            index: vec![0, 0, 1, 1],
        })));
    h.run_steps(4);
    let drawer = h.state().marks()[&Mark::Explain];
    assert!(drawer.width() > 150.0, "{lang:?}: drawer {drawer:?}");
    assert!(
        views.expand(2.0).contains_rect(drawer),
        "{lang:?}: drawer {drawer:?} outside {views:?}"
    );
    assert_eq!(before, maps(&h), "{lang:?}: the drawer moved the maps");
}

#[test]
fn conv2_backward_equation_fits_a_720p_projector_in_english() {
    conv2_backward_fits(Lang::En);
}

#[test]
fn conv2_backward_equation_fits_a_720p_projector_in_russian() {
    conv2_backward_fits(Lang::Ru);
}

/// A node's text: labels carry it as their value.
fn text_of(n: &egui_kittest::Node<'_>) -> Option<String> {
    let node = n.accesskit_node();
    node.label().or(node.value()).map(|s| s.to_string())
}

/// The explanation's lines, which must lie within its panel's width.
fn explanation_overflow(h: &Harness<'static, BackpropApp>) -> Vec<String> {
    let panel = h.state().marks()[&Mark::Explain];
    h.query_all_by(|n| n.role() == Role::Label)
        // (A map's title under the drawer starts left of it: not its text.)
        .filter(|n| panel.contains(n.rect().center()) && n.rect().left() >= panel.left() - 1.0)
        .filter(|n| n.rect().right() > panel.right() + 1.0)
        .map(|n| format!("{:?} at {:?}", text_of(&n), n.rect()))
        .collect()
}

#[test]
fn the_explanation_fits_its_panel_for_df_d_below_and_pool_cells() {
    for lang in [Lang::En, Lang::Ru] {
        let mut h = projector(lang);
        to_phase(&mut h, Phase::Backward(3));
        for cell in [
            CellRef::WeightGrad {
                layer: 3,
                index: vec![0, 0, 1, 2],
            },
            CellRef::Delta {
                layer: 3,
                index: vec![0, 0, 5, 6],
            },
        ] {
            h.state_mut().command(UiCommand::Select(Some(cell.clone())));
            h.run_steps(4);
            let overflow = explanation_overflow(&h);
            assert!(
                overflow.is_empty(),
                "{lang:?} {cell:?}: clipped: {overflow:?}"
            );
        }
        h.state_mut().command(UiCommand::GoTo(Phase::Backward(5)));
        settle(&mut h);
        h.state_mut()
            .command(UiCommand::Select(Some(CellRef::Delta {
                layer: 5,
                index: vec![0, 0, 4, 4],
            })));
        h.run_steps(4);
        let overflow = explanation_overflow(&h);
        assert!(
            overflow.is_empty(),
            "{lang:?} pool cell: clipped: {overflow:?}"
        );
        // Something was explained (not only the empty panel's hint).
        let texts: Vec<String> = h
            .query_all_by(|n| n.role() == Role::Label)
            .filter_map(|n| text_of(&n))
            .collect();
        assert!(texts.iter().any(|l| l.contains('✓')), "{lang:?}: {texts:?}");
    }
}

/// Every map's rectangle and the explanation panel's (not the classroom's
/// drawer, which opens over the view on a click), to compare.
fn layout(h: &Harness<'static, BackpropApp>) -> Vec<(String, Rect)> {
    let mut all = maps(h);
    if !h.state().settings.projector {
        all.push(("explanation".into(), h.state().marks()[&Mark::Explain]));
    }
    all.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.min.x.total_cmp(&b.1.min.x)));
    all
}

#[test]
fn selecting_cells_moves_nothing() {
    for (size, projector_mode) in [
        (egui::vec2(1600.0, 1000.0), false),
        (egui::vec2(1280.0, 720.0), true),
    ] {
        let mut h = app_common::sized(size, projector_mode, Lang::En);
        to_phase(&mut h, Phase::Backward(3));
        let before = layout(&h);
        for cell in [
            CellRef::WeightGrad {
                layer: 3,
                index: vec![0, 0, 2, 1],
            },
            // (On a projector D4 is the second screen of the answer: a
            // cell of it shows that screen, as it should.)
            CellRef::Delta {
                layer: if projector_mode { 4 } else { 3 },
                index: vec![0, 0, 13, 0],
            },
            CellRef::Delta {
                layer: 4,
                index: vec![0, 0, 7, 7],
            },
            CellRef::Output {
                layer: 2,
                index: vec![0, 0, 3, 9],
            },
            CellRef::WeightGrad {
                layer: 3,
                index: vec![0, 0, 0, 0],
            },
        ] {
            h.state_mut().command(UiCommand::Select(Some(cell.clone())));
            h.run_steps(4);
            let after = layout(&h);
            assert_eq!(
                before.len(),
                after.len(),
                "{cell:?}: maps appeared or vanished"
            );
            for ((a, ra), (b, rb)) in before.iter().zip(&after) {
                assert_eq!(a, b);
                assert!(
                    (ra.min - rb.min).length() < 0.5 && (ra.max - rb.max).length() < 0.5,
                    "{size:?}: selecting {cell:?} moved {a:?} from {ra:?} to {rb:?}"
                );
            }
        }
    }
}

#[test]
fn the_toolbar_keeps_to_two_rows() {
    for lang in [Lang::En, Lang::Ru] {
        let h = projector(lang);
        let controls = h.state().marks()[&Mark::Controls];
        let button = h.get_by_label(tr("Step layer")).rect();
        assert!(
            controls.height() < 2.0 * button.height() + 20.0,
            "{lang:?}: the toolbar is {} points high, a button {}",
            controls.height(),
            button.height()
        );
        assert!(screen().contains_rect(controls), "{lang:?}: {controls:?}");
    }
}

#[test]
fn every_lesson_step_outlines_a_view_in_sight_clear_of_the_lesson_and_of_text() {
    for lang in [Lang::En, Lang::Ru] {
        let mut h = projector(lang);
        for (i, step) in steps().iter().enumerate() {
            h.state_mut().lesson_go(i);
            settle(&mut h);
            h.run_steps(4);
            // The step's question answered (revealed): then its view shows.
            if h.state().covering() {
                h.state_mut().command(backprop_viz::app::UiCommand::Reveal);
                h.run_steps(4);
            }
            let marks = &h.state().marks();
            let Some(rect) = marks.get(&step.mark).copied() else {
                panic!("{lang:?} step {i}: {:?} is not on screen", step.mark);
            };
            let strip = marks[&Mark::LessonPanel];
            // (Touching is fine: the plots panel sits right under the strip.)
            assert!(
                rect.intersect(strip).area() <= 0.0,
                "{lang:?} step {i} ({}): {:?} at {rect:?} runs into the lesson's strip at {strip:?}",
                step.title,
                step.mark
            );
            if step.mark.is_map() {
                let views = marks[&Mark::Views];
                assert!(
                    views.expand(1.0).contains_rect(rect),
                    "{lang:?} step {i} ({}): {:?} at {rect:?} is not in sight in {views:?}",
                    step.title,
                    step.mark
                );
                // The outline runs along the map's own edge, inside it: no
                // text may lie under it.
                let texts: Vec<String> = h
                    .query_all_by(|n| n.role() == Role::Label)
                    .filter(|n| n.rect().intersects(rect.shrink(0.5)))
                    .map(|n| format!("{:?} {:?}", text_of(&n), n.rect()))
                    .collect();
                assert!(
                    texts.is_empty(),
                    "{lang:?} step {i}: text under the outline: {texts:?}"
                );
            }
        }
    }
}

/// Conv2 of `lenet` (16 filters of 8 channels) at 1600x1000: the bank of
/// every filter's dF stands beside the equations, clear of every map in
/// them, and a click on a filter in the bank shows that pair.
#[test]
fn the_filter_bank_stands_beside_the_equations_and_picks_a_pair() {
    use backprop_viz::app::default_config;
    use backprop_viz::data::dataset::{default_data_dir, load_dir};
    let data = std::sync::Arc::new(load_dir(&default_data_dir()).expect("the shipped MNIST"));
    let mut config = default_config();
    config.preset = "lenet".into();
    let app = BackpropApp::with_repaint(config, None, data, "data/mnist".into(), || {});
    let mut h = app_common::harness(app);
    settle(&mut h);
    to_phase(&mut h, Phase::Backward(3));
    let all = maps(&h);
    let bank_title = tr("filter bank [out, in]");
    let (_, bank) = all
        .iter()
        .find(|(l, _)| l == bank_title)
        .unwrap_or_else(|| panic!("no filter bank in {all:?}"))
        .clone();
    let views = h.state().marks()[&Mark::Views];
    assert!(views.contains_rect(bank), "bank {bank:?} outside {views:?}");
    for (label, rect) in all.iter().filter(|(l, _)| l != bank_title) {
        assert!(
            !rect.intersects(bank),
            "{label:?} at {rect:?} is under the bank {bank:?}"
        );
    }
    // 16 rows of filters and 8 columns, each about a filter and a gap
    // wide: a click a little inside the bottom-right corner is on [15, 7].
    let step = egui::vec2(bank.width() / 8.0, bank.height() / 16.0);
    let pos = bank.max - step * 0.6;
    click_at(&mut h, pos);
    h.run_steps(3);
    assert_eq!(h.state().channels, [15, 7]);
    let titles: Vec<String> = maps(&h).into_iter().map(|(l, _)| l).collect();
    assert!(
        titles.iter().any(|l| l.starts_with("F[15,7]")),
        "the equations show filter [15, 7]: {titles:?}"
    );
}

/// A notice (the status message, a link's replay) takes the end of a row
/// that is there anyway: the views never move when one appears, on a
/// 1600x1000 screen, on a projector, and in the lesson on a projector.
#[test]
fn a_notice_never_pushes_the_views_down() {
    use backprop_viz::app::message::Message;
    use backprop_viz::app::MessageKind;
    for (what, mut h, lesson) in [
        (
            "1600x1000",
            app_common::sized(egui::vec2(1600.0, 1000.0), false, Lang::En),
            false,
        ),
        ("projector", projector(Lang::En), false),
        ("projector lesson", projector(Lang::En), true),
    ] {
        if lesson {
            h.state_mut().lesson_go(10);
            settle(&mut h);
        } else {
            to_phase(&mut h, Phase::Backward(3));
        }
        h.run_steps(3);
        let before = h.state().marks()[&Mark::Views];
        h.state_mut().command(UiCommand::Say(
            MessageKind::Error,
            Message::new(|| {
                "A long notice that would need a line of its own, and more: ".repeat(4)
            }),
        ));
        h.run_steps(3);
        assert!(h.state().message_text().is_some());
        let after = h.state().marks()[&Mark::Views];
        assert_eq!(before, after, "{what}: the views moved when a notice came");
        let dismiss = h.get_by_label("Dismiss").rect();
        assert!(
            dismiss.right() <= h.ctx.content_rect().right() - 4.0,
            "{what}: the notice reaches past the window: {dismiss:?}"
        );
        h.get_by_label("Dismiss").click();
        h.run_steps(3);
        assert!(
            h.state().message_text().is_none(),
            "{what}: Dismiss hides it"
        );
        assert_eq!(
            h.state().marks()[&Mark::Views],
            before,
            "{what}: and when it went"
        );
    }
}

/// What a frame painted in sight (not clipped away): each text with where
/// it starts, and each filled rectangle (a map's cells), to a tenth of a
/// point.
fn painted(shapes: &[egui::epaint::ClippedShape]) -> Vec<String> {
    use egui::epaint::Shape;
    fn walk(shape: &Shape, clip: Rect, out: &mut Vec<String>) {
        if !shape.visual_bounding_rect().intersects(clip) {
            return;
        }
        match shape {
            Shape::Vec(shapes) => shapes.iter().for_each(|s| walk(s, clip, out)),
            Shape::Text(t) => out.push(format!(
                "text {:.1},{:.1} {}",
                t.pos.x,
                t.pos.y,
                t.galley.text()
            )),
            Shape::Rect(r) => out.push(format!(
                "rect {:.1},{:.1} {:.1}x{:.1} {:?}",
                r.rect.min.x,
                r.rect.min.y,
                r.rect.width(),
                r.rect.height(),
                r.fill
            )),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for clipped in shapes {
        walk(&clipped.shape, clipped.clip_rect, &mut out);
    }
    out
}

/// Rows of maps scrolled out of sight are not drawn (unless a screen
/// reader's tree asks for every row): what is painted, at the top and
/// scrolled down a wheel notch at a time, is the same as when every row is
/// laid out, so the rows keep their places. (A plain egui context, as the
/// app's window has without a screen reader: kittest always builds the
/// tree.)
#[test]
fn rows_out_of_sight_are_skipped_without_moving_anything() {
    let mut frames = Vec::new();
    for reader in [true, false] {
        let mut app = app_common::new_app();
        let ctx = egui::Context::default();
        if reader {
            ctx.enable_accesskit();
        }
        let mut events = Vec::new();
        let frame = |app: &mut BackpropApp, events: Vec<egui::Event>| {
            let input = egui::RawInput {
                screen_rect: Some(Rect::from_min_size(Pos2::ZERO, egui::vec2(1280.0, 720.0))),
                events,
                ..Default::default()
            };
            let mut output = ctx.run_ui(input, |ui| app.ui_root(ui));
            output.textures_delta.clear();
            output.shapes
        };
        app.command(UiCommand::GoTo(Phase::Update));
        let start = std::time::Instant::now();
        while !(app.worker_idle()
            && app
                .snapshot
                .as_ref()
                .is_some_and(|s| s.last == Some(Phase::Update)))
        {
            frame(&mut app, Vec::new());
            std::thread::sleep(std::time::Duration::from_millis(3));
            assert!(start.elapsed().as_secs() < 60, "the worker did not answer");
        }
        let mut seen = Vec::new();
        for _ in 0..8 {
            for _ in 0..20 {
                frame(&mut app, std::mem::take(&mut events));
            }
            let shapes = frame(&mut app, Vec::new());
            seen.push((painted(&shapes), shapes.len()));
            events = vec![
                egui::Event::PointerMoved(Pos2::new(400.0, 450.0)),
                egui::Event::MouseWheel {
                    unit: egui::MouseWheelUnit::Point,
                    delta: egui::vec2(0.0, -150.0),
                    modifiers: Default::default(),
                    phase: egui::TouchPhase::Move,
                    source: egui::MouseWheelSource::Wheel,
                },
            ];
        }
        frames.push(seen);
    }
    let (all, skipping) = (&frames[0], &frames[1]);
    assert_ne!(all[0].0, all[7].0, "the wheel scrolled the update view");
    // Rows out of sight were skipped: fewer shapes for the painter.
    assert!(
        skipping[0].1 < all[0].1,
        "{} shapes with rows skipped, {} with every row",
        skipping[0].1,
        all[0].1
    );
    for (k, ((a, _), (b, _))) in all.iter().zip(skipping).enumerate() {
        let only_a: Vec<_> = a.iter().filter(|s| !b.contains(s)).take(5).collect();
        let only_b: Vec<_> = b.iter().filter(|s| !a.contains(s)).take(5).collect();
        assert!(
            only_a.is_empty() && only_b.is_empty(),
            "scroll step {k}: painted only with every row laid out {only_a:?}, only when skipping {only_b:?}"
        );
    }
}

/// In the classroom's drawer the verdict comes first: on a 720p projector,
/// after a click on a cell of conv1's delta (16 terms, whose list took the
/// drawer's height and left the verdict below its edge), "value in the
/// trace … ✓" is inside the drawer, above the terms; the panel beside a
/// wide window keeps the order of the computation (terms, then the sum).
#[test]
fn the_drawer_shows_the_verdict_before_the_terms() {
    // conv1's delta at [0, 0, 3, 4], explained.
    let clicked = |mut h: Harness<'static, BackpropApp>| {
        to_phase(&mut h, Phase::Backward(0));
        h.state_mut()
            .command(UiCommand::Select(Some(CellRef::Delta {
                layer: 0,
                index: vec![0, 0, 3, 4],
            })));
        h.run_steps(4);
        h
    };
    for lang in [Lang::En, Lang::Ru] {
        let h = clicked(projector(lang));
        let drawer = h.state().marks()[&Mark::Explain];
        let verdict_word = tr("value in the trace: {value} {check}")
            .split('{')
            .next()
            .unwrap()
            .to_string();
        let terms_word = tr("largest terms for sample {sample} ({count} non-zero terms):")
            .split('{')
            .next()
            .unwrap()
            .to_string();
        let verdict = h.get_by_label_contains(verdict_word.trim()).rect();
        let terms = h.get_by_label_contains(terms_word.trim()).rect();
        assert!(
            drawer.contains_rect(verdict) && screen().contains_rect(verdict),
            "{lang:?}: the verdict at {verdict:?} is not in the drawer {drawer:?}"
        );
        assert!(
            verdict.bottom() <= terms.top(),
            "{lang:?}: the verdict {verdict:?} below the terms {terms:?}"
        );
    }
    let h = clicked(app_common::sized(
        egui::vec2(1600.0, 1000.0),
        false,
        Lang::En,
    ));
    let verdict = h.get_by_label_contains("value in the trace:").rect();
    let terms = h.get_by_label_contains("largest terms for sample").rect();
    assert!(
        terms.bottom() <= verdict.top(),
        "{terms:?} then {verdict:?}"
    );
}
