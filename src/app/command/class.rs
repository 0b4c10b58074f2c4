//! The live class, as commands: what the class server sends arrives here
//! like a key press, and the teacher's app tells the class what its own
//! state became (the moment, a question opened or revealed) once per pass,
//! in [`sync`]: the state decides, the messages follow from it.

use crate::app::classroom::ClassState;
use crate::app::link::Moment;
use crate::app::state::{AppState, MessageKind};
use crate::app::worker::Request;
use crate::class::protocol::{ClientMsg, Question, Role, ServerMsg};
use crate::i18n::tr;
use crate::platform::socket::SocketEvent;
use crate::teach::predict::{
    from_wire, questions, to_wire, wire_options, wire_truth, Given, Prediction,
};
use crate::trf;

use super::{say, Effect};

/// What the class is asked to do.
#[derive(Debug, Clone, PartialEq)]
pub enum ClassMove {
    /// Start a class on this machine and teach it (the desktop app).
    Start,
    /// Teach (with the teacher's token) or join the class at `ws`.
    Join {
        ws: String,
        code: String,
        teacher: Option<String>,
        name: Option<String>,
        join_url: Option<String>,
        teacher_url: Option<String>,
    },
    Socket(SocketEvent),
    /// A student follows the teacher, or explores on their own.
    Follow(bool),
    /// The teacher shows the room's answers, or hides them.
    ShowTally(bool),
    /// The join code and QR code, large or folded.
    ShowJoin(bool),
    /// Round 1 closes; the class discusses and votes again.
    Revote,
    /// A student sends the answer on their screen.
    Send,
    /// A student answers the open question with one of its options (the
    /// digit a drawing is taken for, chosen in the class's strip).
    Choose(String),
    /// The teacher asks the class which digit the network will answer
    /// after one step on this drawing with this label.
    AskDrawing {
        pixels: Vec<f32>,
        label: u8,
    },
    /// A student gives a name (joins again as the same student, named).
    Name(String),
    Leave,
}

/// What the class needs done outside the state.
#[derive(Debug, Clone, PartialEq)]
pub enum ClassEffect {
    StartServer,
    Connect {
        ws: String,
        join: ClientMsg,
    },
    Send(ClientMsg),
    /// Close the connection (and stop the server this app started).
    Disconnect,
}

/// Joining the class a link names: `http://HOST:PORT/#class=CODE` (a
/// student's) or `…&teacher=TOKEN` (the teacher's), the WebSocket at `/ws`
/// on the same address. `None` when the link is no class's (or names no
/// address: a bare fragment says nothing of where the class is).
pub fn join_of(link: &str) -> Option<ClassMove> {
    let (code, teacher) = crate::app::classroom::class_link(link)?;
    let (address, _) = link.split_once('#')?;
    let (scheme, rest) = address.split_once("://")?;
    let host = rest.split('/').next().filter(|h| {
        !h.is_empty()
            && h.len() <= 255
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
    })?;
    let ws = match scheme {
        "http" => "ws",
        "https" => "wss",
        _ => return None,
    };
    let base = format!("{scheme}://{host}/");
    Some(ClassMove::Join {
        ws: format!("{ws}://{host}/ws"),
        join_url: Some(format!("{base}#class={code}")),
        teacher_url: teacher
            .as_ref()
            .map(|t| format!("{base}#class={code}&teacher={t}")),
        code,
        teacher,
        name: None,
    })
}

fn send(fx: &mut Vec<Effect>, message: ClientMsg) {
    fx.push(Effect::Class(ClassEffect::Send(message)));
}

pub(super) fn class_move(s: &mut AppState, m: ClassMove, fx: &mut Vec<Effect>) {
    match m {
        ClassMove::Start => {
            if s.class.is_none() {
                fx.push(Effect::Class(ClassEffect::StartServer));
            }
        }
        ClassMove::Join {
            ws,
            code,
            teacher,
            name,
            join_url,
            teacher_url,
        } => {
            let role = if teacher.is_some() {
                Role::Teacher
            } else {
                Role::Student
            };
            let mut class = ClassState::new(role, code.clone(), ws.clone());
            class.name = name.clone();
            class.join_url = join_url;
            class.teacher_url = teacher_url;
            if role == Role::Teacher {
                // The class's questions are Predict mode's.
                s.settings.predict = true;
            }
            s.class = Some(class);
            fx.push(Effect::Class(ClassEffect::Connect {
                ws,
                join: ClientMsg::Join {
                    code,
                    name,
                    resume: None,
                    teacher,
                },
            }));
        }
        ClassMove::Socket(event) => socket_event(s, event, fx),
        ClassMove::Follow(on) => {
            let moment = s.class.as_mut().and_then(|c| {
                c.follow = on;
                let step = c.question.as_ref().map(|q| q.step.clone());
                step.or_else(|| c.moment.clone())
            });
            if on {
                if let Some(link) = moment {
                    follow(s, &link, fx);
                }
            } else if s.class.as_ref().is_some_and(|c| c.student_answering()) {
                // Exploring leaves the question to the class.
                s.prediction = None;
            }
        }
        ClassMove::ShowTally(on) => {
            if let Some(c) = &mut s.class {
                c.show_tally = on;
            }
        }
        ClassMove::ShowJoin(on) => {
            if let Some(c) = &mut s.class {
                c.show_join = on;
            }
        }
        ClassMove::Revote => {
            let open = s
                .class
                .as_ref()
                .filter(|c| c.teacher() && c.open_round() == Some(1))
                .and_then(|c| c.question.as_ref())
                .map(|q| q.question.clone());
            if let Some(question) = open {
                send(fx, ClientMsg::Revote { question });
            }
        }
        ClassMove::Send => send_answer(s, fx),
        ClassMove::Choose(option) => {
            let Some(c) = s.class.as_mut().filter(|c| !c.teacher()) else {
                return;
            };
            let (Some(round), Some(q)) = (c.open_round(), c.question.as_ref()) else {
                return;
            };
            if !q.options.contains(&option) {
                return;
            }
            let value = crate::class::protocol::Value::Option(option);
            answer(c, round, value, fx);
        }
        ClassMove::AskDrawing { pixels, label } => ask_drawing(s, &pixels, label, fx),
        ClassMove::Name(name) => {
            let Some(c) = s.class.as_mut().filter(|c| !c.teacher()) else {
                return;
            };
            let name = crate::class::protocol::clean_name(&name);
            if name == c.name {
                return;
            }
            c.name = name.clone();
            c.joined = false;
            // A joined connection cannot join again: a new one resumes
            // this student under the name.
            fx.push(Effect::Class(ClassEffect::Connect {
                ws: c.ws.clone(),
                join: ClientMsg::Join {
                    code: c.code.clone(),
                    name,
                    resume: c.resume.clone(),
                    teacher: None,
                },
            }));
        }
        ClassMove::Leave => {
            s.class = None;
            fx.push(Effect::Class(ClassEffect::Disconnect));
        }
    }
}

fn socket_event(s: &mut AppState, event: SocketEvent, fx: &mut Vec<Effect>) {
    let Some(c) = &mut s.class else { return };
    match event {
        SocketEvent::Up => c.down = None,
        SocketEvent::Down(why) => {
            c.joined = false;
            c.down = Some(why);
        }
        SocketEvent::Message(message) => server_message(s, message, fx),
    }
}

fn server_message(s: &mut AppState, message: ServerMsg, fx: &mut Vec<Effect>) {
    let Some(c) = &mut s.class else { return };
    let mut follow_to = None;
    // A student's answer to mark after a reveal: a drawing's (true) or a
    // step's (false).
    let mut marked = None;
    match message {
        ServerMsg::Welcome {
            student,
            moment,
            question,
            answers,
            resume,
            ..
        } => {
            c.joined = true;
            c.resume = (!resume.is_empty()).then_some(resume);
            c.error = None;
            c.student = Some(student);
            if c.teacher() {
                // The teacher's own state is the class's: what the server
                // kept (after its restart) is told again by `sync`.
                c.moment = None;
            } else {
                let same = c.question.as_ref().map(|q| &q.question)
                    == question.as_ref().map(|q| &q.question);
                if !same {
                    c.sent = [None, None];
                    c.acked = [false, false];
                    c.revealed = None;
                }
                for a in answers {
                    if let Some(k) = round_slot(a.round) {
                        c.sent[k] = Some(a.value);
                        c.acked[k] = true;
                    }
                }
                follow_to = question
                    .as_ref()
                    .map(|q| q.step.clone())
                    .or_else(|| moment.clone());
                c.set_question(question);
                c.moment = moment;
            }
        }
        ServerMsg::Moment { link } => {
            if !c.teacher() {
                c.moment = Some(link.clone());
                // (While a question is open, its step stays on screen.)
                if c.open_round().is_none() {
                    follow_to = Some(link);
                }
            }
        }
        ServerMsg::Question(q) => {
            if !c.teacher() {
                follow_to = Some(q.step.clone());
                c.set_question(Some(q));
                c.revealed = None;
                c.sent = [None, None];
                c.acked = [false, false];
                s.prediction = None;
            }
        }
        ServerMsg::Closed { question, round } => {
            if let Some(q) = c.question.as_mut().filter(|q| q.question == question) {
                if q.round == round {
                    q.round = 0;
                }
            }
        }
        ServerMsg::Revote { question } => {
            if let Some(q) = c.question.as_mut().filter(|q| q.question == question) {
                q.round = 2;
            }
        }
        ServerMsg::Reveal { question, answer } => {
            if let Some(q) = c.question.as_mut().filter(|q| q.question == question) {
                q.round = 0;
                c.revealed = Some(answer);
                if !c.teacher() {
                    marked = Some(c.drawing.is_some());
                    // The drawing's step went on while the class answered:
                    // the student catches up with the teacher.
                    if c.drawing.is_some() {
                        follow_to = c.moment.clone();
                    }
                }
            }
        }
        ServerMsg::Ack { question, round } => {
            let now = c.question.as_ref().is_some_and(|q| q.question == question);
            if let (true, Some(k)) = (now, round_slot(round)) {
                c.acked[k] = true;
            }
        }
        ServerMsg::Tally(tally) => {
            let now = c
                .question
                .as_ref()
                .is_some_and(|q| q.question == tally.question);
            c.students = Some(tally.students);
            if let (true, Some(k)) = (now, round_slot(tally.round)) {
                c.tallies[k] = Some(tally);
            }
        }
        ServerMsg::Room {
            students,
            connected,
        } => {
            c.students = Some(students);
            c.connected = Some(connected);
        }
        ServerMsg::Error { message, .. } => {
            c.error = Some(message.clone());
            say(s, MessageKind::Warning, move || {
                trf!("The class server says: {message}", message = message)
            });
        }
    }
    if let Some(link) = follow_to {
        if s.class.as_ref().is_some_and(|c| c.follow) {
            follow(s, &link, fx);
        }
    }
    // (Marked once there: following a moment clears the status line.)
    match marked {
        Some(true) => drawing_revealed(s),
        Some(false) => super::teaching::reveal(s),
        None => {}
    }
}

/// The teacher asks the class about a drawing before teaching it: the
/// question's link is the moment the drawing's step would begin.
fn ask_drawing(s: &mut AppState, pixels: &[f32], label: u8, fx: &mut Vec<Effect>) {
    if !s.class.as_ref().is_some_and(|c| c.teacher() && c.joined) {
        return;
    }
    let mut moment = match s.drawing_moment(label, pixels) {
        Ok(m) => m,
        Err(e) => {
            say(s, MessageKind::Warning, move || e.to_string());
            return;
        }
    };
    moment.lang = crate::i18n::Lang::En;
    let stamp = web_time::SystemTime::now()
        .duration_since(web_time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let kind = crate::teach::predict::TAUGHT_DIGIT;
    let question = Question {
        question: format!("b{}-teach-{kind}-{stamp:x}", moment.step),
        kind: kind.into(),
        step: moment.to_fragment(),
        options: (0..10).map(|d| d.to_string()).collect(),
        round: 1,
    };
    let Some(c) = &mut s.class else { return };
    open_question(c, question, None, fx);
}

/// The teacher opens `question` (about the step `asked`, if a step's): sent
/// to the class, and the panel starts afresh on it.
fn open_question(
    c: &mut ClassState,
    question: Question,
    asked: Option<(u64, crate::engine::stepper::Phase)>,
    fx: &mut Vec<Effect>,
) {
    send(
        fx,
        ClientMsg::Open {
            question: question.question.clone(),
            kind: question.kind.clone(),
            step: question.step.clone(),
            options: question.options.clone(),
        },
    );
    c.set_question(Some(question));
    c.asked = asked;
    c.revealed = None;
    c.tallies = [None, None];
    c.show_tally = false;
    c.show_join = false;
}

/// The teacher reveals the class's drawing question: the digit the network
/// answers once the drawing's step has run to its update. `false` when
/// no such question waits (the reveal is a step's).
pub(super) fn reveal_drawing(s: &mut AppState, fx: &mut Vec<Effect>) -> bool {
    let Some(c) = s
        .class
        .as_ref()
        .filter(|c| c.teacher() && c.revealed.is_none())
    else {
        return false;
    };
    let (Some(q), Some(drawing)) = (&c.question, &c.drawing) else {
        return false;
    };
    let question = q.question.clone();
    let values = drawing.values();
    let taught = s.snapshot.as_ref().is_some_and(|snap| {
        snap.last == Some(crate::engine::stepper::Phase::Update)
            && snap
                .taught
                .as_ref()
                .is_some_and(|t| t.label == drawing.label && *t.pixels == values)
    });
    let probs = s.classify(&values).filter(|_| taught);
    let Some(probs) = probs else {
        say(s, MessageKind::Info, || {
            tr("Teach it first and step through to its update: the answer is the network's after that step.").to_string()
        });
        return true;
    };
    let (digit, _) = crate::teach::predict::digit_answer(&probs);
    let answer = crate::class::protocol::Value::Option(digit.to_string());
    if let Some(c) = &mut s.class {
        if let Some(q) = &mut c.question {
            q.round = 0;
        }
        c.revealed = Some(answer.clone());
    }
    send(fx, ClientMsg::Reveal { question, answer });
    true
}

/// A student's answer to the drawing question, marked against the digit
/// the teacher's network answered after the step.
fn drawing_revealed(s: &mut AppState) {
    let Some(c) = &s.class else { return };
    let digit = |v: Option<&crate::class::protocol::Value>| match v {
        Some(crate::class::protocol::Value::Option(o)) => o.parse::<u8>().ok(),
        _ => None,
    };
    let Some(answer) = digit(c.revealed.as_ref()) else {
        return;
    };
    let guess = digit(c.last_sent());
    let right = guess.map(|g| super::teaching::record_taught(s, g, answer));
    say(s, MessageKind::Info, move || {
        match (guess, right) {
        (Some(_), Some(true)) => trf!(
            "✔ Right: after one step on the teacher's drawing the network answers {answer}.",
            answer = answer
        ),
        (Some(guess), _) => trf!(
            "✘ You answered {guess}; after one step on the teacher's drawing the network answers {answer}. One small step moves the weights only a little.",
            guess = guess,
            answer = answer
        ),
        _ => trf!(
            "After one step on the teacher's drawing the network answers {answer}.",
            answer = answer
        ),
    }
    });
}

/// The slot of round 1 or 2.
fn round_slot(round: u8) -> Option<usize> {
    matches!(round, 1 | 2).then(|| usize::from(round) - 1)
}

/// A student's app goes to the teacher's moment: by a step or two when it
/// is the same training a little further (or back) in the same batch, else
/// by replaying it (as a link opens), always in the student's own language.
fn follow(s: &mut AppState, link: &str, fx: &mut Vec<Effect>) {
    let mut m = match Moment::parse(link) {
        Ok(m) => m,
        Err(e) => {
            say(s, MessageKind::Error, move || e.to_string());
            return;
        }
    };
    m.lang = s.settings.lang;
    let same_training = s.start_network.is_none()
        && s.config.preset == m.preset
        && s.config.seed == m.seed
        && s.config.batch == m.batch
        && s.snapshot.as_ref().is_some_and(|snap| {
            // The same batch: MNIST's, or the same drawing taught at the
            // same point.
            let same_batch = match (&snap.taught, &m.teach) {
                (None, None) => !snap.off_link && snap.batches == m.step,
                (Some(t), Some(d)) => {
                    t.after + 1 == m.step
                        && t.label == d.label
                        && t.pixels
                            .iter()
                            .map(|&v| crate::app::link::to_byte(v))
                            .eq(d.pixels.iter().copied())
                }
                _ => false,
            };
            snap.replay.is_none()
                && !snap.running
                && same_batch
                && snap.lr == m.lr
                && snap.optimizer == m.optimizer
        });
    if !same_training {
        super::training::open_moment(s, m, fx);
        return;
    }
    if let Some(phase) = m.phase {
        if s.snapshot.as_ref().and_then(|snap| snap.last) != Some(phase) {
            s.by_hand = true;
            fx.push(Effect::Worker(Request::GoTo(phase)));
        }
    }
    s.sample = m.sample;
    s.channels = m.channels;
    s.selected = m.cell;
    s.tab = m.tab;
    s.lesson.open = m.lesson;
    s.view_layer = None;
}

/// The student's answer on screen, to the open round.
fn send_answer(s: &mut AppState, fx: &mut Vec<Effect>) {
    let (Some(c), Some(p), Some(snapshot)) = (&mut s.class, &s.prediction, &s.snapshot) else {
        return;
    };
    let Some(round) = c.open_round() else {
        return;
    };
    let Some((ask, given)) = p.asks.first() else {
        return;
    };
    let Some(value) = to_wire(&snapshot.trace, ask, given) else {
        return;
    };
    answer(c, round, value, fx);
}

/// Sends `value` as this student's answer to the open question's `round`
/// (kept as sent, not yet acknowledged).
fn answer(
    c: &mut ClassState,
    round: u8,
    value: crate::class::protocol::Value,
    fx: &mut Vec<Effect>,
) {
    let Some(q) = &c.question else { return };
    let question = q.question.clone();
    let k = usize::from(round) - 1;
    c.sent[k] = Some(value.clone());
    c.acked[k] = false;
    send(
        fx,
        ClientMsg::Answer {
            question,
            round,
            value,
        },
    );
}

/// Once per pass, after the commands: the teacher's app tells the class
/// what changed (its moment; a prediction asked, then revealed); a
/// student's puts the open question on the step it is about, once there.
pub fn sync(s: &mut AppState, fx: &mut Vec<Effect>) {
    match &s.class {
        Some(c) if c.teacher() && c.joined => teacher_sync(s, fx),
        Some(c) if !c.teacher() && c.follow => student_sync(s),
        _ => {}
    }
}

fn teacher_sync(s: &mut AppState, fx: &mut Vec<Effect>) {
    let Some(snapshot) = s.snapshot.clone() else {
        return;
    };
    if snapshot.replay.is_some() || snapshot.running {
        return;
    }
    // (A network that is not a built-in preset has no link: the class
    // follows only the built-in ones.)
    let Ok(mut moment) = s.moment() else { return };
    // Each student keeps their own language.
    moment.lang = crate::i18n::Lang::En;
    let link = moment.to_fragment();
    let Some(c) = &mut s.class else { return };
    if c.moment.as_deref() != Some(link.as_str()) {
        c.moment = Some(link.clone());
        send(fx, ClientMsg::Moment { link: link.clone() });
    }
    let Some(p) = &s.prediction else { return };
    let Some((ask, _)) = p.asks.first() else {
        return;
    };
    let step = (p.batch, p.phase);
    if !p.revealed && c.asked != Some(step) && snapshot.batches == p.batch {
        let stamp = web_time::SystemTime::now()
            .duration_since(web_time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let question = Question {
            // Read in the report: the batch, the step, the question, and
            // a stamp that keeps it apart from the same step asked again.
            question: format!(
                "b{}-{}-{}-{stamp:x}",
                p.batch,
                p.phase.id(&snapshot.trace.names),
                ask.kind()
            )
            .chars()
            .take(crate::class::protocol::MAX_QUESTION_ID)
            .collect(),
            kind: ask.kind().into(),
            step: link,
            options: wire_options(ask),
            round: 1,
        };
        open_question(c, question, Some(step), fx);
    } else if p.revealed && c.asked == Some(step) && c.revealed.is_none() {
        let (Some(q), Some(answer)) = (&mut c.question, wire_truth(&snapshot.trace, ask)) else {
            return;
        };
        q.round = 0;
        c.revealed = Some(answer.clone());
        send(
            fx,
            ClientMsg::Reveal {
                question: q.question.clone(),
                answer,
            },
        );
    }
}

fn student_sync(s: &mut AppState) {
    let (Some(c), Some(snapshot)) = (&s.class, &s.snapshot) else {
        return;
    };
    let Some(q) = &c.question else { return };
    if q.round == 0 && c.revealed.is_none() {
        return;
    }
    let Ok(m) = Moment::parse(&q.step) else {
        return;
    };
    let Some(phase) = m.phase else { return };
    let here = snapshot.replay.is_none()
        && !snapshot.running
        && snapshot.batches == m.step
        && snapshot.last == Some(phase);
    let asked = s
        .prediction
        .as_ref()
        .is_some_and(|p| p.batch == m.step && p.phase == phase);
    if !here || asked {
        return;
    }
    let t = &snapshot.trace;
    let Some(ask) = questions(t, phase, s.sample, s.channels[1], m.step)
        .into_iter()
        .find(|a| a.kind() == q.kind)
    else {
        return;
    };
    // The answer sent last (round 2's over round 1's), as the question's own.
    let given = c
        .sent
        .iter()
        .rev()
        .flatten()
        .find_map(|v| from_wire(t, &ask, v))
        .unwrap_or(Given::Nothing);
    let revealed = c.revealed.is_some();
    s.prediction = Some(Prediction {
        batch: m.step,
        phase,
        asks: vec![(ask, given)],
        revealed: false,
        marks: Vec::new(),
    });
    if revealed {
        super::teaching::reveal(s);
    }
}

/// The words for a question's state, for the status of a class.
pub fn round_text(c: &ClassState) -> String {
    match (c.open_round(), &c.revealed) {
        (_, Some(_)) => tr("Revealed").into(),
        (Some(1), _) => tr("Round 1: answering").into(),
        (Some(_), _) => tr("Round 2: voting again").into(),
        (None, None) if c.question.is_some() => tr("Closed").into(),
        (None, None) => tr("No question open").into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_class_link_joins_at_its_own_address() {
        let token = "b".repeat(32);
        match join_of(&format!(
            "http://192.168.1.20:8080/#class=ABC234&teacher={token}"
        )) {
            Some(ClassMove::Join {
                ws,
                code,
                teacher,
                join_url,
                ..
            }) => {
                assert_eq!(ws, "ws://192.168.1.20:8080/ws");
                assert_eq!(code, "ABC234");
                assert_eq!(teacher, Some(token));
                assert_eq!(
                    join_url.as_deref(),
                    Some("http://192.168.1.20:8080/#class=ABC234")
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            join_of("https://class.example/#class=ABC234"),
            Some(ClassMove::Join { ws, teacher: None, .. }) if ws == "wss://class.example/ws"
        ));
        for bad in [
            "#class=ABC234",
            "ftp://h/#class=ABC234",
            "http://h/#preset=seed",
            "http://a b/#class=ABC234",
        ] {
            assert_eq!(join_of(bad), None, "{bad}");
        }
    }
}
