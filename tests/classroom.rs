//! The classroom features driven headless (egui_kittest): the guided lesson,
//! the Russian translation seen on screen, projector mode at 720p, sessions
//! and the settings kept between runs.

use std::time::{Duration, Instant};

use backprop_viz::app::{BackpropApp, Settings, Tab, UiCommand};
use backprop_viz::engine::stepper::Phase;
use backprop_viz::i18n::Lang;
use backprop_viz::teach::lesson::{steps, Goal, CHAPTER};
use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::Harness;

mod app_common;
use app_common::{harness, new_app, screen_texts, set_settings, settle, settle_until, snapshot};

/// Every tab but Backprop.
const OTHER_TABS: [Tab; 5] = [
    Tab::Draw,
    Tab::Data,
    Tab::Experiment,
    Tab::Mistakes,
    Tab::Architecture,
];

fn weights(app: &BackpropApp) -> Vec<Vec<f32>> {
    let s = app.snapshot.as_ref().expect("a snapshot");
    s.network
        .layers
        .iter()
        .filter_map(|l| l.params())
        .flat_map(|(w, b)| {
            [
                w.value.iter().copied().collect(),
                b.value.iter().copied().collect(),
            ]
        })
        .collect()
}

#[test]
fn the_guided_lesson_walks_forward_and_back_and_points_at_each_view() {
    let mut h = harness(new_app());
    settle(&mut h);
    // Some exploring first: the lesson starts from the question's network.
    h.get_by_label("Step batch").click();
    settle(&mut h);
    h.state_mut().lesson_go(0);
    settle(&mut h);
    assert_eq!(snapshot(&h).last, None);
    assert_eq!(snapshot(&h).batches, 1, "the lesson resets the network");
    let all = steps();
    for (i, step) in all.iter().enumerate() {
        // The main lesson's end offers the optional chapter (on the strided
        // network) beside Finish.
        if i == CHAPTER {
            assert!(h.query_by_label("Finish").is_some());
            h.get_by_label("Optional: what changes with stride 2 ▶")
                .click();
            settle(&mut h);
            assert_eq!(h.state().config.preset, "strided");
            assert_eq!(snapshot(&h).batches, 1, "the chapter starts afresh");
        } else if i > 0 {
            h.get_by_label("Next ▶").click();
            settle(&mut h);
        }
        assert_eq!(h.state().lesson.open, Some(i));
        assert_eq!(h.state().tab, step.tab, "step {i}");
        if let Goal::After(phase) = step.goal {
            assert_eq!(snapshot(&h).last, Some(phase), "step {i}: {}", step.title);
        }
        // Every step that shows a backward computation or the update is
        // predicted first (two steps on one phase share its questions).
        let shows_backward = matches!(
            step.goal,
            Goal::After(Phase::Backward(_)) | Goal::After(Phase::Update)
        );
        let new_phase = i == 0 || all[i - 1].goal != step.goal;
        h.run_steps(2);
        assert_eq!(
            h.state().covering(),
            shows_backward && new_phase,
            "step {i} ({}): predicted first?",
            step.title
        );
        if shows_backward && new_phase {
            assert!(h.query_all_by_label_contains("First, predict").count() > 0);
            h.state_mut().command(UiCommand::Reveal);
            h.run_steps(3);
        }
        h.get_by_label(step.title);
        assert!(
            h.state().marks().contains_key(&step.mark),
            "step {i} ({}) points at {:?}, which is not on screen",
            step.title,
            step.mark
        );
    }
    assert!(h.query_by_label("Finish").is_some(), "the chapter's end");
    // Back from the chapter into the main lesson: the question's network
    // again, at the step's phase.
    h.state_mut().lesson_go(CHAPTER - 4);
    settle(&mut h);
    assert_eq!(h.state().config.preset, "seed");
    assert_eq!(snapshot(&h).last, Some(Phase::Backward(0)));
    // Back from the update to the dF step: training goes back in time too.
    let df_step = all
        .iter()
        .position(|s| s.goal == Goal::After(Phase::Backward(0)))
        .unwrap();
    h.state_mut().lesson_go(df_step + 1);
    settle(&mut h);
    assert_eq!(snapshot(&h).last, Some(Phase::Update));
    let after_update = weights(h.state());
    h.get_by_label("◀ Previous").click();
    settle(&mut h);
    assert_eq!(snapshot(&h).last, Some(Phase::Backward(0)));
    assert_ne!(weights(h.state()), after_update, "back before the update");
    // Leave, explore, come back to the same step.
    h.get_by_label("Leave the lesson").click();
    h.run_steps(2);
    assert_eq!(h.state().lesson.open, None);
    assert!(h.query_by_label("Next ▶").is_none());
    assert_eq!(h.state().lesson.left_at, Some(df_step));
}

/// Latin words allowed on a Russian screen: names from the code and the
/// maths (layers, optimizers, formats, the program and the dataset).
const LATIN_OK: &[&str] = &[
    "README",
    "conv",
    "relu",
    "pool",
    "flatten",
    "dense",
    "maxpool",
    "avgpool",
    "sigmoid",
    "tanh",
    "softmax",
    "adam",
    "sgd",
    "momentum",
    "mnist",
    "lenet",
    "seed",
    "strided",
    "backprop",
    "viz",
    "pytorch",
    "safetensors",
    "json",
    "png",
    "csv",
    "idx",
    "one_hot",
    "logits",
    "ubyte",
    "images",
    "labels",
    "train",
    "data",
    "mnist",
    "idx1",
    "idx3",
    "t10k",
    "ReLU",
    "rot180",
    "wide",
    "d_below",
    "f_new",
    "full_conv",
    "weight_grad",
    "bias_grad",
    "enter",
    "english",
    "pgdn",
    "pgup",
];

/// What egui itself tells screen readers (never drawn as text).
const EGUI_OWN: &[&str] = &["Close window", "Resize panel"];

fn english_words(texts: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    // A command line is the program's own words in any language.
    let command = |t: &String| t.starts_with("backprop-viz ");
    for text in texts
        .iter()
        .filter(|t| !EGUI_OWN.contains(&t.as_str()) && !command(t))
    {
        for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            let letters = word.chars().filter(|c| c.is_ascii_alphabetic()).count();
            if letters >= 4
                && !LATIN_OK
                    .iter()
                    .any(|ok| ok.eq_ignore_ascii_case(word.trim_end_matches(char::is_numeric)))
            {
                found.push(format!("{word:?} in {text:?}"));
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

#[test]
fn russian_screens_show_no_untranslated_text() {
    let mut app = new_app();
    let mut russian = app.settings.clone();
    russian.lang = Lang::Ru;
    app.command(UiCommand::SetSettings(Box::new(russian)));
    let mut h = harness(app);
    settle(&mut h);
    let mut texts = Vec::new();
    let mut look = |h: &mut Harness<'static, BackpropApp>| {
        h.run_steps(2);
        texts.extend(screen_texts(h));
    };
    look(&mut h);
    // One whole batch, phase by phase (every view of the Backprop tab).
    for _ in 0..(10 + 1 + 10 + 1) {
        h.get_by_label("Шаг: слой").click();
        settle(&mut h);
        look(&mut h);
    }
    // Click a cell of dF: the explanation panel.
    h.state_mut().command(UiCommand::Select(Some(
        backprop_viz::teach::explain::CellRef::WeightGrad {
            layer: 3,
            index: vec![0, 0, 1, 1],
        },
    )));
    look(&mut h);
    for tab in OTHER_TABS {
        h.state_mut()
            .command(backprop_viz::app::UiCommand::ShowTab(tab));
        look(&mut h);
    }
    h.state_mut()
        .command(backprop_viz::app::UiCommand::ShowTab(Tab::Backprop));
    h.state_mut()
        .command(backprop_viz::app::UiCommand::ShowShortcuts(true));
    look(&mut h);
    h.state_mut()
        .command(backprop_viz::app::UiCommand::ShowShortcuts(false));
    // Every lesson step.
    h.state_mut().lesson_go(0);
    settle(&mut h);
    for i in 1..steps().len() {
        look(&mut h);
        h.state_mut().lesson_go(i);
        settle(&mut h);
    }
    look(&mut h);
    let english = english_words(&texts);
    assert!(
        english.is_empty(),
        "English on a Russian screen:\n{}",
        english.join("\n")
    );
    assert!(
        backprop_viz::i18n::misses().is_empty(),
        "asked for in Russian, not in the table: {:?}",
        backprop_viz::i18n::misses()
    );
}

/// The widgets a learner reads or clicks: leaves of the tree with a size.
fn widget_rects(h: &Harness<'static, BackpropApp>) -> Vec<(String, egui::Rect, bool)> {
    use egui::accesskit::Role;
    h.query_all_by(|n| {
        matches!(
            n.role(),
            Role::Button | Role::CheckBox | Role::Label | Role::Slider | Role::ComboBox | Role::Tab
        ) && n.label().is_some_and(|l| !l.trim().is_empty())
    })
    .map(|node| {
        let label = node
            .accesskit_node()
            .label()
            .unwrap_or_default()
            .to_string();
        // The pipeline strip scrolls sideways in a narrow window: its blocks
        // (named after the layers) may lie beyond the edge on purpose.
        // (egui's scroll areas have no node of their own to tell by.)
        // So does the row of tabs on a small window.
        let scrolled = label.split(['\n', ' ']).next().is_some_and(|name| {
            h.state()
                .snapshot
                .as_ref()
                .is_some_and(|s| s.trace.names.iter().any(|n| n == name))
        }) || node.accesskit_node().role() == Role::Tab
            || TAB_NAMES.iter().any(|t| backprop_viz::i18n::tr(t) == label);
        // A block scrolled under the strip's edge is hidden there: only
        // what the strip shows of it counts.
        let rect = match h
            .state()
            .marks()
            .get(&backprop_viz::teach::lesson::Mark::Pipeline)
        {
            Some(strip)
                if scrolled && !TAB_NAMES.iter().any(|t| backprop_viz::i18n::tr(t) == label) =>
            {
                node.rect().intersect(*strip)
            }
            _ => node.rect(),
        };
        (label, rect, scrolled)
    })
    .filter(|(_, r, _)| r.width() > 1.0 && r.height() > 1.0)
    .collect()
}

const PROJ_W: f32 = 1280.0;

/// The tabs' names (English keys).
const TAB_NAMES: [&str; 6] = [
    "Backprop",
    "Draw a digit",
    "Data",
    "Frozen vs learning filters",
    "Mistakes",
    "Architecture",
];
#[test]
fn projector_mode_at_720p_is_large_and_nothing_overlaps() {
    projector_at_720p(Lang::En);
}

/// Russian words are longer: the same check with them.
#[test]
fn projector_mode_at_720p_in_russian_nothing_overlaps() {
    projector_at_720p(Lang::Ru);
}

fn projector_at_720p(lang: Lang) {
    let mut app = new_app();
    let mut projector = app.settings.clone();
    projector.projector = true;
    projector.lang = lang;
    app.command(UiCommand::SetSettings(Box::new(projector)));
    let mut h = Harness::builder()
        .with_size(egui::vec2(PROJ_W, 720.0))
        .build_ui_state(|ui, app: &mut BackpropApp| app.ui_root(ui), app);
    settle(&mut h);
    assert!(
        (h.ctx.zoom_factor() - 1.4).abs() < 1e-6,
        "everything 1.4x larger"
    );
    let screen = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(PROJ_W, 720.0) / 1.4);
    let mut checked = 0;
    let mut problems = Vec::new();
    let mut check = |h: &mut Harness<'static, BackpropApp>, when: &str| {
        h.run_steps(3);
        let mut rects = widget_rects(h);
        // The central panel ends where the folded plots begin: what a tab
        // scrolls below that edge is clipped there, not drawn over them.
        let plots = backprop_viz::i18n::tr("▸ Plots");
        if let Some(button) = rects
            .iter()
            .find(|(l, _, _)| l == plots)
            .map(|(_, r, _)| *r)
        {
            let edge = button.top() - 6.0;
            let in_strip = |r: &egui::Rect| (r.center().y - button.center().y).abs() < 4.0;
            rects.retain(|(_, r, _)| in_strip(r) || r.bottom() <= edge + 1.0);
        }
        for (i, (a, ra, scrolled)) in rects.iter().enumerate() {
            if !scrolled && !screen.expand(1.0).contains_rect(*ra) && screen.intersects(*ra) {
                // Cut off at the window's edge (not scrolled away entirely).
                if !(ra.top() >= screen.top() && ra.bottom() > screen.bottom()) {
                    problems.push(format!("{when}: {a:?} sticks out of the window at {ra:?}"));
                }
            }
            for (b, rb, _) in &rects[i + 1..] {
                let overlap = ra.intersect(*rb);
                if overlap.width() > 2.0
                    && overlap.height() > 2.0
                    && !ra.contains_rect(*rb)
                    && !rb.contains_rect(*ra)
                {
                    problems.push(format!("{when}: {a:?} {ra:?} overlaps {b:?} {rb:?}"));
                }
            }
        }
        checked += rects.len();
    };
    check(&mut h, "start");
    for _ in 0..11 {
        h.state_mut().command(UiCommand::StepPhase);
        settle(&mut h);
    }
    check(&mut h, "loss");
    for _ in 0..8 {
        h.state_mut().command(UiCommand::StepPhase);
        settle(&mut h);
    }
    check(&mut h, "backward conv2");
    h.state_mut().lesson_go(10);
    settle(&mut h);
    check(&mut h, "lesson");
    for tab in OTHER_TABS {
        h.state_mut().lesson_leave();
        h.state_mut()
            .command(backprop_viz::app::UiCommand::ShowTab(tab));
        check(&mut h, &format!("{tab:?}"));
    }
    assert!(checked > 100, "only {checked} widgets looked at");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_saved_session_continues_exactly_where_it_stopped() {
    let mut a = harness(new_app());
    settle(&mut a);
    for _ in 0..3 {
        a.get_by_label("Step batch").click();
        settle(&mut a);
    }
    // Stop in the middle of the fourth batch.
    for _ in 0..13 {
        a.get_by_label("Step layer").click();
        settle(&mut a);
    }
    let checkout = a.state_mut().checkout_session();
    a.run_steps(2);
    let session = checkout().expect("the worker answers");
    assert_eq!(session.losses.len(), 3);
    let bytes = backprop_viz::io::session_bytes(&session);
    let loaded =
        backprop_viz::io::read_session(std::path::Path::new("lesson.safetensors"), &bytes).unwrap();
    assert_eq!(loaded.settings, session.settings);

    let mut b = harness(new_app());
    settle(&mut b);
    b.state_mut().command(UiCommand::ResumeSession(
        Box::new(loaded),
        None,
        "lesson.safetensors".into(),
    ));
    settle(&mut b);
    assert_eq!(weights(b.state()), weights(a.state()));
    assert_eq!(b.state().history.losses, a.state().history.losses);
    assert_eq!(
        snapshot(&b).batches,
        4,
        "the interrupted batch is loaded again"
    );
    assert_eq!(snapshot(&b).last, None);
    // Both finish the fourth batch and run a fifth: the same numbers.
    for h in [&mut a, &mut b] {
        h.get_by_label("Step batch").click();
        settle(h);
        h.get_by_label("Step batch").click();
        settle(h);
    }
    assert_eq!(weights(b.state()), weights(a.state()));
    assert_eq!(b.state().history.losses, a.state().history.losses);
    assert_eq!(snapshot(&b).trace.labels, snapshot(&a).trace.labels);
}

#[test]
fn settings_are_kept_between_runs_and_the_last_dataset_comes_back() {
    let settings = Settings {
        projector: true,
        dark: false,
        lang: Lang::Ru,
        show_plots: false,
        tab: Tab::Draw,
        last_data: vec![backprop_viz::data::dataset::default_data_dir()],
        ..Settings::default()
    };
    let text = serde_json::to_string(&settings).unwrap();
    let back: Settings = serde_json::from_str(&text).unwrap();
    assert_eq!(back, settings);
    // A settings file from an older version (fewer fields) still loads.
    let old: Settings = serde_json::from_str(r#"{"projector": true}"#).unwrap();
    assert!(old.projector && old.show_plots);

    let mut h = harness(new_app());
    settle(&mut h);
    let data = h.state().data.clone();
    h.state_mut()
        .command(UiCommand::SetData(data, "before".into(), Vec::new()));
    settle(&mut h);
    h.state_mut().restore_settings(back, true);
    let start = Instant::now();
    while !h.state().data_source.contains("mnist") || h.state().panels().data.is_loading() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the last dataset loads again"
        );
        h.run_steps(1);
        std::thread::sleep(Duration::from_millis(10));
    }
    settle(&mut h);
    assert_eq!(h.state().tab, Tab::Draw);
    assert!(h.state().settings.projector);
    assert!((h.ctx.zoom_factor() - 1.4).abs() < 1e-6);
    // The size slider multiplies projector mode's scale.
    set_settings(&mut h, |s| s.scale = 1.5);
    h.run_steps(2);
    assert!(
        (h.ctx.zoom_factor() - 2.1).abs() < 1e-5,
        "{}",
        h.ctx.zoom_factor()
    );
    // The tabs are one menu on a projector, named after the tab shown.
    h.get_by_label("Нарисовать цифру ▾");
}

/// `--session FILE` with a broken file: one message in the window naming
/// the file and the problem, in the window's language, and nothing else
/// changes (the network, the position, the plots).
#[test]
fn a_bad_session_is_a_message_in_the_window_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.safetensors");
    std::fs::write(&bad, b"not a session at all").unwrap();
    let mut h = harness(new_app());
    settle(&mut h);
    h.get_by_label("Step batch").click();
    settle(&mut h);
    let before = (weights(h.state()), snapshot(&h).batches);
    for (lang, words) in [
        (Lang::En, "not a safetensors file"),
        (Lang::Ru, "это не файл safetensors"),
    ] {
        set_settings(&mut h, |s| s.lang = lang);
        h.state_mut().command(backprop_viz::app::UiCommand::Dismiss);
        h.run_steps(1);
        h.state_mut().open_session_file(bad.clone());
        let start = Instant::now();
        while h.state().message.is_none() {
            assert!(start.elapsed() < Duration::from_secs(30), "no message");
            h.run_steps(1);
            std::thread::sleep(Duration::from_millis(5));
        }
        settle(&mut h);
        let (kind, text) = h.state().message_text().unwrap();
        assert_eq!(kind, backprop_viz::app::MessageKind::Error);
        assert!(
            text.contains("broken.safetensors") && text.contains(words),
            "{lang:?}: {text}"
        );
        if lang == Lang::Ru {
            assert!(!text.contains("Could not open"), "{text}");
        }
        assert_eq!((weights(h.state()), snapshot(&h).batches), before);
    }
    // The message is worded when shown: switching back to English re-words
    // the one already on screen.
    set_settings(&mut h, |s| s.lang = Lang::En);
    h.run_steps(1);
    let (_, text) = h.state().message_text().unwrap();
    assert!(text.contains("not a safetensors file"), "{text}");
    // A good session given the same way continues where it was saved.
    let path = dir.path().join("good.safetensors");
    let checkout = h.state_mut().checkout_session();
    h.run_steps(2);
    backprop_viz::io::save_session(&checkout().unwrap(), &path).unwrap();
    let mut b = harness(new_app());
    settle(&mut b);
    b.state_mut().open_session_file(path);
    settle_until(&mut b, |app| {
        app.snapshot.as_ref().is_some_and(|s| s.batches == 2) && app.worker_idle()
    });
    assert_eq!(weights(b.state()), before.0);
}

/// A first start opens with three ways in; starting the lesson after some
/// training asks before resetting it.
#[test]
fn first_start_card_and_the_lesson_asks_before_resetting() {
    let mut app = new_app();
    app.command(UiCommand::OpenWelcome);
    let mut h = harness(app);
    settle(&mut h);
    h.get_by_label("Start the guided lesson");
    // Behind the card, before anything has run: the digit waiting at the
    // input and the filter about to slide over it.
    let sizes: Vec<String> = h
        .query_all_by(|n| n.role() == egui::accesskit::Role::Image)
        .filter_map(|n| n.accesskit_node().value())
        .collect();
    assert!(
        sizes.iter().any(|v| v.starts_with("28x28")),
        "no input digit on the first screen: {sizes:?}"
    );
    assert!(
        sizes.iter().any(|v| v.starts_with("3x3")),
        "no filter on the first screen: {sizes:?}"
    );
    h.get_by_label("Step through it yourself");
    h.get_by_label("Step through it yourself").click();
    h.run_steps(2);
    assert!(!h.state().welcome);
    assert_eq!(h.state().tab, Tab::Backprop);

    h.get_by_label("Step batch").click();
    settle(&mut h);
    let trained = weights(h.state());
    h.state_mut().command(backprop_viz::app::UiCommand::Lesson(
        backprop_viz::app::LessonMove::Start,
    ));
    settle(&mut h);
    assert!(h.state().confirm_lesson, "asks first");
    assert_eq!(h.state().lesson.open, None);
    h.get_by_label("Cancel").click();
    settle(&mut h);
    assert!(!h.state().confirm_lesson);
    assert_eq!(weights(h.state()), trained, "nothing was reset");
    h.state_mut().command(backprop_viz::app::UiCommand::Lesson(
        backprop_viz::app::LessonMove::Start,
    ));
    settle(&mut h);
    h.get_by_label("Start the lesson").click();
    settle(&mut h);
    assert_eq!(h.state().lesson.open, Some(0));
    assert_eq!(snapshot(&h).batches, 1, "the lesson starts afresh");
    // Fresh, it starts at once.
    let mut fresh = harness(new_app());
    settle(&mut fresh);
    fresh
        .state_mut()
        .command(backprop_viz::app::UiCommand::Lesson(
            backprop_viz::app::LessonMove::Start,
        ));
    settle(&mut fresh);
    assert_eq!(fresh.state().lesson.open, Some(0));
}

/// A question left unanswered (Next pressed, not Show me) is not asked for
/// on a later step whose tab has no question: the experiment's step says
/// what it is about.
#[test]
fn a_skipped_question_does_not_follow_the_lesson_to_another_tab() {
    let mut h = harness(new_app());
    settle(&mut h);
    let last = CHAPTER - 1;
    h.state_mut().lesson_go(last - 2);
    settle(&mut h);
    h.run_steps(2);
    assert!(h.state().covering(), "the update step is asked about");
    h.state_mut().lesson_go(last);
    settle(&mut h);
    h.run_steps(2);
    assert!(
        h.query_by_label_contains("answer the question in the view")
            .is_none(),
        "the experiment's step asks for an answer that is not on screen"
    );
    h.get_by_label_contains(&steps()[last].text[..40]);
}
