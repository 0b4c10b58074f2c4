//! The live class through the app itself: a teacher's app and two
//! students' apps (egui_kittest harnesses) on one real class server on
//! 127.0.0.1. The students follow the teacher's moment and get the same
//! question on the same numbers; their answers reach the teacher's tally
//! (counts and the cells clicked, drawn on the map); the teacher's reveal
//! marks each student's answer on their own screen. The wire mapping of
//! every Predict question is checked both ways on real traces.

use std::time::{Duration, Instant};

use backprop_viz::app::command::ClassMove;
use backprop_viz::app::{BackpropApp, UiCommand};
use backprop_viz::class::protocol::{Role, ServerMsg, Tally, Value};
use backprop_viz::class::server::{start, ClassConfig, RunningClass};
use backprop_viz::engine::stepper::Phase;
use backprop_viz::platform::socket::SocketEvent;
use backprop_viz::teach::predict::{
    from_wire, is_right, questions, to_wire, wire_options, wire_truth, Ask, Given,
};
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;

mod app_common;
use app_common::{harness, new_app, set_settings, settle, snapshot};

type H = Harness<'static, BackpropApp>;

fn server(dir: &std::path::Path) -> RunningClass {
    start(ClassConfig {
        bind: std::net::IpAddr::from([127, 0, 0, 1]),
        port: 0,
        db: dir.join("class.sqlite"),
        title: String::new(),
        site: None,
    })
    .expect("the class server starts")
}

fn join(h: &mut H, server: &RunningClass, teacher: bool) {
    let info = server.info();
    let token = Some(info.token.clone());
    h.state_mut().command(UiCommand::Class(ClassMove::Join {
        ws: info.ws.clone(),
        code: info.code.clone(),
        teacher: if teacher { token } else { None },
        name: Some("test".into()),
        join_url: Some(info.url.clone()),
        teacher_url: None,
    }));
}

/// Frames of every app until `done` holds (a minute at most).
fn run_until(apps: &mut [&mut H], what: &str, done: impl Fn(&[&mut H]) -> bool) {
    let start = Instant::now();
    while !done(apps) {
        for h in apps.iter_mut() {
            h.run_steps(1);
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn layer(h: &H, name: &str) -> usize {
    snapshot(h)
        .trace
        .names
        .iter()
        .position(|n| n == name)
        .expect("the layer")
}

#[test]
fn a_class_follows_the_teacher_answers_and_sees_the_reveal() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path());
    let mut teacher = harness(new_app());
    let mut ann = harness(new_app());
    let mut bob = harness(new_app());
    set_settings(&mut teacher, |s| s.predict = true);
    for h in [&mut teacher, &mut ann, &mut bob] {
        settle(h);
    }
    join(&mut teacher, &server, true);
    join(&mut ann, &server, false);
    join(&mut bob, &server, false);
    run_until(
        &mut [&mut teacher, &mut ann, &mut bob],
        "the joins",
        |apps| {
            apps.iter()
                .all(|h| h.state().class.as_ref().is_some_and(|c| c.joined))
        },
    );
    assert!(teacher.state().class.as_ref().unwrap().teacher());
    assert!(!ann.state().class.as_ref().unwrap().teacher());

    // The teacher goes to pool2's backward step: Predict mode asks which
    // cell of a window gets the delta, and the class gets the question.
    let pool = Phase::Backward(layer(&teacher, "pool2"));
    teacher.state_mut().command(UiCommand::GoTo(pool));
    settle(&mut teacher);
    run_until(
        &mut [&mut teacher, &mut ann, &mut bob],
        "the question on both students' screens",
        |apps| {
            let asked = |h: &H| {
                h.state()
                    .prediction
                    .as_ref()
                    .map(|p| (p.batch, p.phase, p.asks[0].0.clone()))
            };
            let t = asked(apps[0]);
            t.as_ref().is_some_and(|t| t.1 == pool)
                && apps[0].state().class.as_ref().unwrap().question.is_some()
                && asked(apps[1]) == t
                && asked(apps[2]) == t
        },
    );
    let t = snapshot(&teacher).trace;
    let ask = teacher.state().prediction.as_ref().unwrap().asks[0]
        .0
        .clone();
    assert!(matches!(ask, Ask::PoolWinner { .. }), "{ask:?}");
    // The students' step is the teacher's, number for number.
    for student in [&ann, &bob] {
        let mine = snapshot(student).trace;
        assert_eq!(mine.loss, t.loss);
        assert_eq!(
            mine.layers[layer(student, "conv2")].weight_grad,
            t.layers[layer(&teacher, "conv2")].weight_grad
        );
    }

    // Ann answers right, Bob picks another cell of the same window.
    let right = wire_truth(&t, &ask).expect("a winner");
    let Value::Cells(cells) = &right else {
        panic!("a cell question")
    };
    let [c, r, col] = cells[0];
    let wrong = Value::Cells(vec![[c, r ^ 1, col]]);
    for (h, value) in [(&mut ann, &right), (&mut bob, &wrong)] {
        let mut p = h.state().prediction.clone().unwrap();
        p.asks[0].1 = from_wire(&t, &ask, value).expect("an answer on the map");
        h.state_mut().command(UiCommand::Answer(p));
        h.run_steps(1);
        // Show me (and Space, and V) send a student's answer.
        h.state_mut().command(UiCommand::Reveal);
        h.run_steps(1);
        assert!(h.state().covering(), "a student cannot reveal");
    }
    run_until(
        &mut [&mut teacher, &mut ann, &mut bob],
        "the acks and the teacher's tally",
        |apps| {
            let acked = |h: &H| h.state().class.as_ref().unwrap().acked[0];
            let tally = apps[0].state().class.as_ref().unwrap().tallies[0].clone();
            acked(apps[1]) && acked(apps[2]) && tally.is_some_and(|t| t.answered == 2)
        },
    );
    let class = teacher.state().class.clone().unwrap();
    let tally = class.tallies[0].clone().unwrap();
    assert_eq!(tally.students, 2);
    let mut clicked: Vec<[u32; 4]> = tally.cells.clone();
    clicked.sort();
    let mut expected = vec![[c, r, col, 1], [c, r ^ 1, col, 1]];
    expected.sort();
    assert_eq!(clicked, expected, "each student's click, counted once");

    // Discuss and vote again: round 2 opens, apart from round 1.
    teacher
        .state_mut()
        .command(UiCommand::Class(ClassMove::Revote));
    run_until(&mut [&mut teacher, &mut ann, &mut bob], "round 2", |apps| {
        apps.iter()
            .all(|h| h.state().class.as_ref().unwrap().open_round() == Some(2))
    });
    // Bob changes his mind.
    let mut p = bob.state().prediction.clone().unwrap();
    p.asks[0].1 = from_wire(&t, &ask, &right).unwrap();
    bob.state_mut().command(UiCommand::Answer(p));
    bob.run_steps(1);
    bob.state_mut().command(UiCommand::Reveal);
    run_until(
        &mut [&mut teacher, &mut ann, &mut bob],
        "round 2's tally",
        |apps| {
            let tally = apps[0].state().class.as_ref().unwrap().tallies[1].clone();
            tally.is_some_and(|t| t.answered == 1 && t.cells == vec![[c, r, col, 1]])
        },
    );
    // Round 1 kept as it was.
    assert_eq!(
        teacher.state().class.as_ref().unwrap().tallies[0]
            .as_ref()
            .unwrap()
            .answered,
        2
    );

    // The teacher reveals (V): each student's own answer marked.
    teacher.state_mut().command(UiCommand::Reveal);
    run_until(
        &mut [&mut teacher, &mut ann, &mut bob],
        "the reveal",
        |apps| {
            apps[1..]
                .iter()
                .all(|h| h.state().prediction.as_ref().is_some_and(|p| p.revealed))
        },
    );
    let marks = |h: &H| h.state().prediction.as_ref().unwrap().marks.clone();
    assert_eq!(marks(&ann), vec![Some(true)]);
    // Bob's last answer (round 2's) is the one marked.
    assert_eq!(marks(&bob), vec![Some(true)]);
    assert_eq!(
        ann.state().class.as_ref().unwrap().revealed,
        Some(right.clone())
    );
}

#[test]
fn every_question_travels_to_the_wire_and_back() {
    let mut h = harness(new_app());
    settle(&mut h);
    let names = snapshot(&h).trace.names.clone();
    let mut kinds = std::collections::BTreeSet::new();
    for phase in (0..names.len())
        .rev()
        .map(Phase::Backward)
        .chain([Phase::Update])
    {
        h.state_mut().command(UiCommand::GoTo(phase));
        settle(&mut h);
        let t = snapshot(&h).trace;
        for ask in questions(&t, phase, 0, 0, 1) {
            kinds.insert(ask.kind());
            let truth = wire_truth(&t, &ask).expect("every question has an answer");
            let given = from_wire(&t, &ask, &truth).expect("the truth reads back");
            assert_eq!(is_right(&t, &ask, &given), Some(true), "{ask:?}");
            assert_eq!(to_wire(&t, &ask, &given), Some(truth.clone()));
            // Every option is an answer, marked as the app marks it.
            for o in wire_options(&ask) {
                let g = from_wire(&t, &ask, &Value::Option(o.clone())).unwrap();
                assert_eq!(to_wire(&t, &ask, &g), Some(Value::Option(o)));
            }
            // A cell outside the map, or of another channel, is no answer.
            if wire_options(&ask).is_empty() {
                assert_eq!(from_wire(&t, &ask, &Value::Cells(vec![[0, 999, 0]])), None);
                assert_eq!(from_wire(&t, &ask, &Value::Cells(vec![[77, 0, 0]])), None);
            } else {
                assert_eq!(from_wire(&t, &ask, &Value::Option("?".into())), None);
                assert_eq!(from_wire(&t, &ask, &Value::Cells(vec![[0, 0, 0]])), None);
            }
            if let Ask::ReluBlocked { .. } = ask {
                assert_eq!(
                    from_wire(&t, &ask, &Value::Option("none".into())),
                    Some(Given::Cells(Default::default()))
                );
            }
        }
    }
    for kind in [
        "df-sign",
        "below-shape",
        "relu-blocked",
        "pool-winner",
        "tap-change",
    ] {
        assert!(kinds.contains(kind), "{kind} never asked: {kinds:?}");
    }
}

/// A teacher's projector at 1280x720: the class's panel keeps its side of
/// the window whatever the view draws (the fc2 step's wide tables, revealed),
/// and the room's answers are drawn large under the question.
#[test]
fn the_class_panel_keeps_its_side_on_the_projector() {
    for lang in [backprop_viz::i18n::Lang::En, backprop_viz::i18n::Lang::Ru] {
        let mut h = app_common::projector(lang);
        set_settings(&mut h, |s| s.predict = true);
        h.state_mut().command(UiCommand::Class(ClassMove::Join {
            // Nobody there: the panel shows, reconnecting.
            ws: "ws://127.0.0.1:9/ws".into(),
            code: "ABC234".into(),
            teacher: Some("t".repeat(32)),
            name: None,
            join_url: Some("http://127.0.0.1:9/#class=ABC234".into()),
            teacher_url: None,
        }));
        settle(&mut h);
        let fc2 = Phase::Backward(layer(&h, "fc2"));
        h.state_mut().command(UiCommand::GoTo(fc2));
        settle(&mut h);
        // The server's side, as messages: joined, then 24 students'
        // answers in two rounds.
        let server = |h: &mut H, m: ServerMsg| {
            h.state_mut()
                .command(UiCommand::Class(ClassMove::Socket(SocketEvent::Message(m))));
            h.run_steps(2);
        };
        server(
            &mut h,
            ServerMsg::Welcome {
                role: Role::Teacher,
                student: 0,
                resume: String::new(),
                moment: None,
                question: None,
                answers: Vec::new(),
            },
        );
        h.run_steps(2);
        let q = h
            .state()
            .class
            .as_ref()
            .unwrap()
            .question
            .clone()
            .expect("asked");
        let tally = |round: u8, counts: [usize; 3]| {
            ServerMsg::Tally(Tally {
                question: q.question.clone(),
                round,
                students: 24,
                answered: counts.iter().sum(),
                options: q.options.iter().cloned().zip(counts).collect(),
                cells: Vec::new(),
            })
        };
        server(&mut h, tally(1, [15, 3, 6]));
        server(
            &mut h,
            ServerMsg::Revote {
                question: q.question.clone(),
            },
        );
        server(&mut h, tally(2, [4, 1, 19]));
        h.state_mut()
            .command(UiCommand::Class(ClassMove::ShowTally(true)));
        h.run_steps(3);
        // The bars under the question, high on the screen.
        if lang == backprop_viz::i18n::Lang::En {
            use egui_kittest::kittest::Queryable;
            let title = h.get_by_label("How the room answered").rect();
            assert!(title.top() < 400.0, "{title:?}");
        }
        keeps_its_side(&h, lang);
        h.state_mut().command(UiCommand::Reveal);
        settle(&mut h);
        h.run_steps(4);
        keeps_its_side(&h, lang);
    }
}

/// The class's panel at the window's right, where it belongs, and nothing
/// of the view reaching into it.
fn keeps_its_side(h: &H, lang: backprop_viz::i18n::Lang) {
    use egui_kittest::kittest::{NodeT, Queryable};
    let code = h.get_by_label("ABC234").rect();
    let panel_left = code.left() - 4.0;
    let width = h.ctx.content_rect().width();
    assert!(
        panel_left > width * 0.6 && panel_left < width * 0.8,
        "the panel starts at {panel_left} of {width}"
    );
    for node in h.query_all_by(|n| n.bounding_box().is_some()) {
        let r = node.rect();
        let label = node
            .accesskit_node()
            .label()
            .unwrap_or_default()
            .to_string();
        if r.top() > 140.0 && r.left() < panel_left - 2.0 && r.width() < width * 0.95 {
            assert!(
                r.right() <= panel_left + 1.0,
                "{lang:?}: {label:?} at {r:?} crosses into the class panel at {panel_left}"
            );
        }
    }
}

/// The server stops in the middle of a question and comes back on the same
/// port with the same database: a student's app reconnects by itself,
/// resumes as the same student with its acknowledged answer, and the
/// teacher's app sees the question still open with that answer counted.
#[test]
fn a_restarted_server_finds_the_class_where_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let first = server(dir.path());
    let port: u16 = first
        .info()
        .ws
        .rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches("/ws").parse().ok())
        .expect("a port");
    let mut teacher = harness(new_app());
    let mut ann = harness(new_app());
    set_settings(&mut teacher, |s| s.predict = true);
    settle(&mut teacher);
    settle(&mut ann);
    join(&mut teacher, &first, true);
    join(&mut ann, &first, false);
    run_until(&mut [&mut teacher, &mut ann], "the joins", |apps| {
        apps.iter()
            .all(|h| h.state().class.as_ref().is_some_and(|c| c.joined))
    });
    let pool = Phase::Backward(layer(&teacher, "pool2"));
    teacher.state_mut().command(UiCommand::GoTo(pool));
    settle(&mut teacher);
    run_until(&mut [&mut teacher, &mut ann], "the question", |apps| {
        apps[1]
            .state()
            .prediction
            .as_ref()
            .is_some_and(|p| p.phase == pool)
    });
    let t = snapshot(&teacher).trace;
    let ask = ann.state().prediction.as_ref().unwrap().asks[0].0.clone();
    let right = wire_truth(&t, &ask).unwrap();
    let mut p = ann.state().prediction.clone().unwrap();
    p.asks[0].1 = from_wire(&t, &ask, &right).unwrap();
    ann.state_mut().command(UiCommand::Answer(p));
    ann.run_steps(1);
    ann.state_mut().command(UiCommand::Reveal);
    run_until(&mut [&mut teacher, &mut ann], "the ack", |apps| {
        apps[1].state().class.as_ref().unwrap().acked[0]
    });
    let id = ann.state().class.as_ref().unwrap().student;

    // Down, and up again where it was.
    first.stop().expect("a clean stop");
    run_until(&mut [&mut teacher, &mut ann], "both see it gone", |apps| {
        apps.iter()
            .all(|h| !h.state().class.as_ref().unwrap().joined)
    });
    let second = start(ClassConfig {
        bind: std::net::IpAddr::from([127, 0, 0, 1]),
        port,
        db: dir.path().join("class.sqlite"),
        title: String::new(),
        site: None,
    })
    .expect("the class starts again on its port");
    run_until(&mut [&mut teacher, &mut ann], "both back", |apps| {
        apps.iter()
            .all(|h| h.state().class.as_ref().unwrap().joined)
    });
    let class = ann.state().class.clone().unwrap();
    assert_eq!(class.student, id, "the same student");
    assert_eq!(class.sent[0], Some(right.clone()), "its answer kept");
    assert_eq!(class.open_round(), Some(1), "the question still open");
    run_until(&mut [&mut teacher, &mut ann], "the tally again", |apps| {
        apps[0].state().class.as_ref().unwrap().tallies[0]
            .as_ref()
            .is_some_and(|t| t.answered == 1)
    });
    drop(second);
}

/// The digit after *Teach it*, as a class's question: the teacher asks
/// about a drawing before teaching it; each student gets the drawing and
/// its label in the class's strip (their own app replays the moment the
/// drawing's step begins), answers with a digit; the reveal waits for the
/// step's update and is the network's answer; each student's answer is
/// marked and recorded, and the students then follow the taught step
/// number for number.
#[test]
fn the_class_predicts_the_digit_after_teaching_a_drawing() {
    use backprop_viz::app::state::Taught;
    use backprop_viz::data::dataset::{default_data_dir, load_dir};
    use backprop_viz::teach::predict::{digit_answer, TAUGHT_DIGIT};

    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path());
    let mut teacher = harness(new_app());
    let mut ann = harness(new_app());
    let mut bob = harness(new_app());
    for h in [&mut teacher, &mut ann, &mut bob] {
        settle(h);
    }
    join(&mut teacher, &server, true);
    join(&mut ann, &server, false);
    join(&mut bob, &server, false);
    run_until(
        &mut [&mut teacher, &mut ann, &mut bob],
        "the joins",
        |apps| {
            apps.iter()
                .all(|h| h.state().class.as_ref().is_some_and(|c| c.joined))
        },
    );
    // The room is counted before any question.
    run_until(
        &mut [&mut teacher, &mut ann, &mut bob],
        "the room",
        |apps| apps[0].state().class.as_ref().unwrap().students == Some(2),
    );
    teacher.state_mut().command(UiCommand::StepBatch);
    settle(&mut teacher);
    // A test digit, with the label the teacher gives it.
    let data = load_dir(&default_data_dir()).unwrap();
    let pixels: Vec<f32> = data
        .test
        .image(0)
        .iter()
        .map(|&b| f32::from(b) / 255.0)
        .collect();
    let label = data.test.labels[0];
    teacher
        .state_mut()
        .command(UiCommand::Class(ClassMove::AskDrawing {
            pixels: pixels.clone(),
            label,
        }));
    run_until(
        &mut [&mut teacher, &mut ann, &mut bob],
        "the drawing on both students' screens",
        |apps| {
            apps[1..].iter().all(|h| {
                let c = h.state().class.as_ref().unwrap();
                c.drawing
                    .as_ref()
                    .is_some_and(|d| d.values() == pixels && d.label == label)
                    && c.open_round() == Some(1)
                    && h.state()
                        .snapshot
                        .as_ref()
                        .is_some_and(|s| s.teaching && s.replay.is_none())
            })
        },
    );
    let q = teacher
        .state()
        .class
        .as_ref()
        .unwrap()
        .question
        .clone()
        .unwrap();
    assert_eq!(q.kind, TAUGHT_DIGIT);
    assert_eq!(q.options.len(), 10);
    for h in [&mut ann, &mut bob] {
        h.run_steps(2);
        // The student's app holds the drawing's step, not yet run.
        let s = snapshot(h);
        assert_eq!(s.trace.batch_size(), 1);
        assert_eq!(s.last, None);
        assert_eq!(
            s.taught.as_ref().map(|t| (t.after, t.label)),
            Some((1, label))
        );
        // The drawing is on screen, large enough to read in the strip.
        let picture = h
            .query_all_by_label("What the network sees (28x28)")
            .map(|n| n.rect())
            .find(|r| r.min.y < 400.0)
            .expect("the drawing in the class's strip");
        assert!(picture.width() >= 112.0, "{picture:?}");
    }
    // On a phone, in Russian: the drawing, the words and all ten digits
    // inside the screen, the digits large enough to tap.
    set_settings(&mut bob, |s| s.lang = backprop_viz::i18n::Lang::Ru);
    bob.set_size(egui::vec2(390.0, 844.0));
    bob.run_steps(3);
    let screen = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(390.0, 844.0));
    let picture = bob
        .query_all_by_label("Что видит сеть (28x28)")
        .map(|n| n.rect())
        .next()
        .expect("the drawing on the phone");
    assert!(
        screen.contains_rect(picture) && picture.width() >= 100.0,
        "{picture:?}"
    );
    for d in 0..10 {
        let button = bob
            .query_all_by_label(&d.to_string())
            .map(|n| n.rect())
            .find(|r| r.min.y > picture.min.y - 1.0 && r.min.y < 500.0)
            .unwrap_or_else(|| panic!("the digit {d} on the phone"));
        assert!(screen.contains_rect(button), "{d}: {button:?}");
        assert!(
            button.width() >= 40.0 && button.height() >= 40.0,
            "{d}: {button:?}"
        );
    }
    let words = bob
        .query_all(egui_kittest::kittest::by().label_contains("Учитель учит сеть"))
        .map(|n| n.rect())
        .next()
        .expect("the question in Russian");
    assert!(screen.contains_rect(words), "{words:?}");
    bob.set_size(egui::vec2(1600.0, 1000.0));
    bob.run_steps(2);

    // Ann picks the digit by clicking it; Bob by the command it sends.
    let answer_of = |h: &H| h.state().class.as_ref().unwrap().last_sent().cloned();
    ann.query_all_by_label("7")
        .find(|n| n.rect().min.y < 400.0)
        .expect("the digit 7 in the class's strip")
        .click();
    ann.run_steps(1);
    assert_eq!(answer_of(&ann), Some(Value::Option("7".into())));
    bob.state_mut()
        .command(UiCommand::Class(ClassMove::Choose(label.to_string())));
    run_until(
        &mut [&mut teacher, &mut ann, &mut bob],
        "both answers in the tally",
        |apps| {
            apps[0].state().class.as_ref().unwrap().tallies[0]
                .as_ref()
                .is_some_and(|t| t.answered == 2)
        },
    );

    // Not revealed before the step has run.
    teacher.state_mut().command(UiCommand::Reveal);
    teacher.run_steps(2);
    assert_eq!(teacher.state().class.as_ref().unwrap().revealed, None);
    // The teacher teaches the question's drawing and runs it to the update.
    teacher.state_mut().command(UiCommand::Teach {
        pixels: pixels.clone(),
        label,
        what: Taught::Drawing,
        guess: None,
    });
    settle(&mut teacher);
    teacher.state_mut().command(UiCommand::GoTo(Phase::Update));
    settle(&mut teacher);
    let probs = teacher.state().classify(&pixels).unwrap();
    let (digit, _) = digit_answer(&probs);
    teacher.state_mut().command(UiCommand::Reveal);
    run_until(
        &mut [&mut teacher, &mut ann, &mut bob],
        "the reveal, then the taught step on the students' screens",
        |apps| {
            apps[1..].iter().all(|h| {
                h.state().class.as_ref().unwrap().revealed.is_some()
                    && h.state().snapshot.as_ref().is_some_and(|s| {
                        s.last == Some(Phase::Update) && s.replay.is_none() && s.teaching
                    })
            })
        },
    );
    let right = Value::Option(digit.to_string());
    for (h, guess) in [(&ann, 7u8), (&bob, label)] {
        assert_eq!(
            h.state().class.as_ref().unwrap().revealed,
            Some(right.clone())
        );
        let record = h.state().predictions.last().expect("the answer recorded");
        assert_eq!(record.question, TAUGHT_DIGIT);
        assert_eq!(record.right, Some(guess == digit));
        // The taught step, number for number.
        let (mine, theirs) = (snapshot(h).trace, snapshot(&teacher).trace);
        assert_eq!(mine.loss, theirs.loss);
        assert_eq!(mine.layers[0].weight_grad, theirs.layers[0].weight_grad);
    }
}
