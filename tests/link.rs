//! A moment of training as a link: made in one window, opened in another,
//! the same batch, phase, numbers, sample, cell, tab and language; bad
//! links are refused with the field named.

use backprop_viz::app::link::Moment;
use backprop_viz::app::{Tab, UiCommand};
use backprop_viz::engine::stepper::Phase;
use backprop_viz::i18n::Lang;
use backprop_viz::teach::explain::CellRef;

mod app_common;
use app_common::{harness, new_app, set_settings, settle, snapshot};

#[test]
fn a_shared_moment_replays_to_the_same_numbers() {
    let mut h = harness(new_app());
    settle(&mut h);
    // Batch 1 whole, then batch 2 layer by layer to conv2's backward step.
    h.state_mut().command(UiCommand::StepBatch);
    settle(&mut h);
    for _ in 0..(10 + 1 + 7) {
        h.state_mut().command(UiCommand::StepPhase);
        settle(&mut h);
    }
    assert_eq!(snapshot(&h).last, Some(Phase::Backward(3)));
    h.state_mut().command(UiCommand::PickSample(5));
    let cell = CellRef::WeightGrad {
        layer: 3,
        index: vec![0, 0, 1, 1],
    };
    h.state_mut().command(UiCommand::Select(Some(cell.clone())));
    set_settings(&mut h, |s| s.lang = Lang::Ru);
    h.run_steps(3);
    let m = h.state().moment().unwrap();
    let link = m.to_fragment();
    assert_eq!(
        link,
        "#preset=seed&seed=1&batch=16&lr=0.05&opt=sgd&step=2&phase=backward:conv2&sample=5&cell=dF:0,0,1,1&tab=backprop&lang=ru"
    );
    assert_eq!(
        Moment::parse(&format!("https://example.org/app/{link}")).unwrap(),
        m
    );

    let mut other = harness(new_app());
    settle(&mut other);
    other.state_mut().command(UiCommand::OpenMoment(Box::new(
        Moment::parse(&link).unwrap(),
    )));
    settle(&mut other);
    let (a, b) = (snapshot(&h), snapshot(&other));
    assert_eq!((b.batches, b.last), (a.batches, a.last));
    assert_eq!(
        b.trace.layers[3].weight_grad, a.trace.layers[3].weight_grad,
        "dF bit for bit"
    );
    assert_eq!(b.trace.layers[3].delta, a.trace.layers[3].delta);
    assert_eq!(b.trace.loss, a.trace.loss);
    let app = other.state();
    assert_eq!(app.sample, 5);
    assert_eq!(app.selected, Some(cell));
    assert_eq!(app.tab, Tab::Backprop);
    assert_eq!(app.settings.lang, Lang::Ru);
}

#[test]
fn bad_links_name_the_field() {
    for (link, field) in [
        ("#preset=/etc/passwd", "/etc/passwd"),
        ("#seed=x", "seed=x"),
        ("#batch=0", "batch=0"),
        ("#lr=-1", "lr=-1"),
        ("#step=999999999", "step=999999999"),
        ("#phase=backward:conv9", "phase=backward:conv9"),
        ("#cell=dF:0,0", "cell=dF:0,0"),
        ("#batch=4&sample=4", "sample=4"),
        ("#wat=1", "wat"),
        ("#lang=fr", "lang=fr"),
    ] {
        let e = Moment::parse(link).unwrap_err();
        assert!(e.to_string().contains(field), "{link}: {e}");
    }
    assert!(Moment::parse(&"#seed=1&".repeat(400)).is_err());
}

/// The links a stranger could send that once killed the window or ran for
/// ever: each is refused with the field named, before anything runs.
#[test]
fn hostile_links_are_refused_before_anything_runs() {
    for (link, field) in [
        // Too few indices for the tensor (these once panicked in the views).
        ("#phase=backward:conv2&cell=dF:0", "cell=dF:0"),
        ("#phase=backward:conv2&cell=dF:0,0,1", "cell=dF:0,0,1"),
        ("#phase=backward:conv2&cell=D:0", "cell=D:0"),
        ("#phase=forward:conv1&cell=y:0,0", "cell=y:0,0"),
        ("#phase=loss&cell=L:0", "cell=L:0"),
        ("#phase=backward:fc1&cell=dF:0", "cell=dF:0"),
        ("#phase=backward:pool2&cell=D:0,0", "cell=D:0,0"),
        ("#phase=backward:flatten&cell=D:0", "cell=D:0"),
        // Out of range, or a tensor the layer does not have.
        (
            "#phase=backward:conv2&cell=dF:0,0,99,99",
            "cell=dF:0,0,99,99",
        ),
        ("#phase=forward:conv1&cell=x:16,0,0,0", "cell=x:16,0,0,0"),
        ("#phase=loss&cell=L:0,10", "cell=L:0,10"),
        ("#phase=backward:relu1&cell=dF:0,0,0,0", "cell=dF:0,0,0,0"),
        // Not computed yet at the phase.
        ("#phase=forward:conv1&cell=dF:0,0,1,1", "cell=dF:0,0,1,1"),
        ("#phase=backward:conv2&cell=D@conv1:0,0,1,1", "cell=D@conv1"),
        ("#cell=y@conv1:0,0,0,0", "cell=y@conv1"),
        (
            "#phase=backward:conv2&cell=D@nosuch:0,0,1,1",
            "cell=D@nosuch",
        ),
        ("#phase=loss&cell=x@conv1:0,0,0,0", "cell=x@conv1"),
        // More than the app holds, or replays for ever.
        (
            "#preset=lenet&batch=4096&step=4&phase=backward:conv2",
            "batch=4096",
        ),
        ("#preset=seed&batch=513", "batch=513"),
        ("#preset=seed&batch=512&step=100000", "step=100000"),
    ] {
        let e = Moment::parse(link).unwrap_err();
        assert!(e.to_string().contains(field), "{link}: {e}");
    }
    // Within the bounds: the largest replay and batch a link may ask for.
    let ok = Moment::parse("#preset=seed&batch=512&step=3126&phase=backward:conv2").unwrap();
    assert_eq!((ok.batch, ok.step), (512, 3126));
    assert!(Moment::parse("#preset=seed&batch=512&step=3127").is_err());
}

/// A cell of another layer than the phase's (the delta arriving at conv2
/// is relu2's) travels as `D@relu2:…` and comes back as the same cell.
#[test]
fn a_cell_of_the_layer_above_round_trips() {
    let link = "#preset=seed&step=2&phase=backward:conv2&cell=D@relu2:3,0,5,6";
    let m = Moment::parse(link).unwrap();
    assert_eq!(
        m.cell,
        Some(CellRef::Delta {
            layer: 4,
            index: vec![3, 0, 5, 6]
        })
    );
    assert!(m.to_fragment().contains("cell=D@relu2:3,0,5,6"));
    assert_eq!(Moment::parse(&m.to_fragment()).unwrap(), m);
    // The phase's own layer is not named.
    let own = Moment::parse("#phase=backward:conv2&cell=D:0,0,13,13").unwrap();
    assert!(own.to_fragment().contains("cell=D:0,0,13,13"));
}

/// Hostile links opened in the window: a message on the status line, the
/// window alive, training where it was.
#[test]
fn the_app_survives_hostile_links() {
    use backprop_viz::app::MessageKind;
    let mut h = harness(new_app());
    settle(&mut h);
    for link in [
        "#phase=backward:conv2&cell=dF:0",
        "#preset=lenet&batch=4096&step=4&phase=backward:conv2",
        "#preset=seed&batch=512&step=100000",
        "#phase=backward:pool2&cell=D:0,0",
    ] {
        h.state_mut().open_link(link);
        h.run_steps(3);
        settle(&mut h);
        let (kind, text) = h.state().message_text().expect("a message");
        assert_eq!(kind, MessageKind::Error, "{link}: {text}");
        assert!(text.contains("link"), "{link}: {text}");
        assert_eq!(snapshot(&h).batches, 1, "{link}: nothing replayed");
    }
}

/// A selected cell that does not fit the step on screen (here with too few
/// indices, as a stranger's file or an old selection could leave) is never
/// indexed with: every view of every phase draws.
#[test]
fn views_never_index_with_a_cell_that_does_not_fit() {
    let mut h = harness(new_app());
    settle(&mut h);
    let cells = [
        CellRef::WeightGrad {
            layer: 3,
            index: vec![0],
        },
        CellRef::Delta {
            layer: 3,
            index: vec![0],
        },
        CellRef::Delta {
            layer: 4,
            index: vec![0, 0],
        },
        CellRef::Output {
            layer: 0,
            index: vec![0, 0],
        },
        CellRef::Input { index: vec![99] },
        CellRef::LossDelta { index: vec![0] },
        CellRef::WeightGrad {
            layer: 1,
            index: vec![0, 0, 0, 0],
        },
    ];
    // Every phase of the step, each with every stray cell selected.
    for _ in 0..22 {
        h.state_mut().command(UiCommand::StepPhase);
        settle(&mut h);
        for cell in &cells {
            h.state_mut().command(UiCommand::Select(Some(cell.clone())));
            h.run_steps(2);
        }
    }
    assert!(snapshot(&h).batches >= 1);
}

/// A long replay is one job with progress: Escape stops it at once, and
/// so does Reset; the status line says where it stopped.
#[test]
fn a_long_replay_can_be_stopped() {
    use std::time::{Duration, Instant};
    let mut h = harness(new_app());
    settle(&mut h);
    for stop in ["escape", "reset"] {
        h.state_mut()
            .open_link("#preset=seed&batch=512&step=3000&phase=backward:conv2");
        let start = Instant::now();
        loop {
            h.run_steps(1);
            if h.state().replaying().is_some_and(|r| r.done >= 2) {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(60), "no progress");
            std::thread::sleep(Duration::from_millis(5));
        }
        let r = h.state().replaying().unwrap();
        assert_eq!(r.total, 2999);
        match stop {
            "escape" => h.key_press(egui::Key::Escape),
            _ => h.state_mut().command(UiCommand::Reset),
        }
        h.run_steps(2);
        let stopped = Instant::now();
        settle(&mut h);
        assert!(
            stopped.elapsed() < Duration::from_secs(10),
            "{stop} took {:?}",
            stopped.elapsed()
        );
        let s = snapshot(&h);
        assert!(s.replay.is_none());
        assert!(s.batches < 100, "{stop}: stopped at batch {}", s.batches);
        if stop == "escape" {
            let (_, text) = h.state().message_text().expect("a message");
            assert!(text.contains("Stopped replaying"), "{text}");
        } else {
            assert_eq!(s.batches, 1, "Reset starts again");
        }
    }
}

mod fragments {
    use backprop_viz::app::link::Moment;
    use backprop_viz::engine::network::preset_specs;
    use proptest::prelude::*;

    /// Fragments made of real keys with plausible and hostile values.
    fn fragment() -> impl Strategy<Value = String> {
        let key = prop::sample::select(vec![
            "preset", "seed", "batch", "lr", "opt", "step", "phase", "sample", "cell", "tab",
            "lesson", "lang", "x",
        ]);
        let value = prop_oneof![
            "[0-9]{1,6}",
            prop::sample::select(vec![
                "seed",
                "lenet",
                "backward:conv2",
                "forward:conv1",
                "loss",
                "update",
                "backward:pool2",
                "backward:flatten",
                "backward:fc1",
                "backward:relu1",
            ])
            .prop_map(String::from),
            (
                "(dF|D|y|x|L)(@(conv1|relu2|pool2|fc1|nosuch))?",
                prop::collection::vec(0usize..40, 0..6)
            )
                .prop_map(|(k, i)| format!(
                    "{k}:{}",
                    i.iter().map(usize::to_string).collect::<Vec<_>>().join(",")
                )),
            ".{0,12}",
        ];
        prop::collection::vec((key, value), 0..8).prop_map(|parts| {
            let parts: Vec<String> = parts.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("#{}", parts.join("&"))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// Any fragment opens or is refused with a message, never a panic;
        /// one that opens holds a cell that fits its network and batch.
        #[test]
        fn any_fragment_parses_or_is_refused(link in fragment()) {
            match Moment::parse(&link) {
                Err(e) => prop_assert!(!e.to_string().is_empty()),
                Ok(m) => {
                    prop_assert!(m.sample < m.batch);
                    prop_assert!((m.step - 1) * m.batch as u64 <= backprop_viz::app::link::MAX_REPLAY_SAMPLES);
                    if let Some(cell) = &m.cell {
                        let specs = preset_specs(&m.preset).unwrap();
                        let plan = backprop_viz::engine::limits::plan(&specs).unwrap();
                        let names: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
                        let kinds: Vec<_> = specs.iter().map(|s| s.kind.clone()).collect();
                        prop_assert!(cell.check_in(&names, &kinds, &plan.shapes, m.batch).is_ok());
                    }
                    prop_assert_eq!(Moment::parse(&m.to_fragment()).unwrap(), m);
                }
            }
        }
    }
}

/// A drawing taught travels in the link (`teach=LABEL:PIXELS`): opened in
/// another window, the one-sample step is the same number for number, in
/// both cases a teacher meets (taught in place of a batch begun, and after
/// a batch's update); once training goes on past it, no link claims to
/// replay the network, and Reset makes it shareable again.
#[test]
fn a_taught_drawing_replays_to_the_same_numbers() {
    use backprop_viz::app::state::{ShareError, Taught};
    // A drawing with grey edges: not all of its pixels are whole bytes
    // before the app keeps them as MNIST does.
    let pixels: Vec<f32> = (0..784)
        .map(|i| {
            let (r, c) = (i / 28, i % 28);
            if (8..20).contains(&r) && (12..16).contains(&c) {
                1.0
            } else if (8..20).contains(&r) && (c == 11 || c == 16) {
                0.37
            } else {
                0.0
            }
        })
        .collect();
    for batches_first in [0usize, 2] {
        let mut h = harness(new_app());
        settle(&mut h);
        for _ in 0..batches_first {
            h.state_mut().command(UiCommand::StepBatch);
            settle(&mut h);
        }
        // (Batch 3 begun and stepped into, then replaced by the drawing;
        // or batch 0's first batch untouched.)
        if batches_first > 0 {
            h.state_mut().command(UiCommand::StepPhase);
            settle(&mut h);
        }
        h.state_mut().command(UiCommand::Teach {
            pixels: pixels.clone(),
            label: 1,
            what: Taught::Drawing,
            guess: None,
        });
        settle(&mut h);
        h.state_mut().command(UiCommand::GoTo(Phase::Backward(3)));
        settle(&mut h);
        let link = h.state().moment().unwrap().to_fragment();
        assert!(link.contains("&teach=1:"), "{link}");
        let m = Moment::parse(&link).unwrap();
        assert_eq!(m.step, batches_first as u64 + 1, "{link}");
        let drawing = m.teach.clone().unwrap();
        assert_eq!(drawing.label, 1);
        assert_eq!(drawing.pixels[12 * 28 + 11], 94, "0.37 as the nearest byte");

        let mut other = harness(new_app());
        settle(&mut other);
        other
            .state_mut()
            .command(UiCommand::OpenMoment(Box::new(m)));
        settle(&mut other);
        let (a, b) = (snapshot(&h), snapshot(&other));
        assert!(b.teaching, "the drawing is the batch");
        assert_eq!(b.trace.batch_size(), 1);
        assert_eq!(b.last, a.last);
        assert_eq!(b.trace.loss, a.trace.loss);
        assert_eq!(
            b.trace.layers[3].weight_grad, a.trace.layers[3].weight_grad,
            "dF bit for bit"
        );
        assert_eq!(b.taught, a.taught);
        assert_eq!(other.state().moment().unwrap().to_fragment(), link);

        // Past the drawing's update, the network is no link's.
        h.state_mut().command(UiCommand::StepBatch);
        settle(&mut h);
        h.state_mut().command(UiCommand::StepBatch);
        settle(&mut h);
        assert_eq!(h.state().moment(), Err(ShareError::Taught));
        h.state_mut().command(UiCommand::Reset);
        settle(&mut h);
        assert!(h.state().moment().is_ok());
    }
}

#[test]
fn bad_drawings_in_a_link_are_refused() {
    let good = format!("teach=3:{}", "A".repeat(1046));
    assert!(Moment::parse(&format!("#{good}")).is_ok());
    for bad in [
        format!("teach=10:{}", "A".repeat(1046)),
        format!("teach=3:{}", "A".repeat(1045)),
        format!("teach=3:{}", "A".repeat(1047)),
        format!("teach=3:{}*", "A".repeat(1045)),
        format!("teach=3;{}", "A".repeat(1046)),
        "teach=3:".to_string(),
        // A drawing is a batch of one: only its sample 0.
        format!("{good}&sample=1"),
        format!("{good}&phase=forward:conv1&cell=x:1,0,0,0"),
    ] {
        assert!(Moment::parse(&format!("#{bad}")).is_err(), "{bad}");
    }
}
