//! The live class as the app holds it: who this app is in the class (the
//! teacher or a student), the connection, the teacher's moment and the
//! open question, the room's tally for each round (the teacher's) and this
//! student's own answers. Written only by `command::class`; the panels read
//! it.

use crate::class::protocol::{Question, Role, Tally, Value};
use crate::engine::stepper::Phase;

/// How the app takes part in a class.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassState {
    pub role: Role,
    pub code: String,
    /// The class's WebSocket, and the token that resumes this student
    /// there (from the last `welcome`).
    pub ws: String,
    pub resume: Option<String>,
    /// The name this student gave (none: anonymous).
    pub name: Option<String>,
    /// The students' link (drawn as the QR code): the teacher's.
    pub join_url: Option<String>,
    /// The teacher's own link (to drive the class from a browser).
    pub teacher_url: Option<String>,
    /// Joined (a `welcome` came) on the live connection.
    pub joined: bool,
    /// Why the connection is down, while it is (it comes back by itself).
    pub down: Option<String>,
    pub student: Option<u64>,
    /// A student follows the teacher's moment (else explores on their own).
    pub follow: bool,
    /// The teacher's latest moment: received (a student), sent (the
    /// teacher).
    pub moment: Option<String>,
    /// The question open (or last opened), with its round.
    pub question: Option<Question>,
    /// The drawing the question is about, when it asks which digit the
    /// network answers after one step on it (read from the question's link).
    pub drawing: Option<crate::app::link::Drawing>,
    /// The step the question is about, as the teacher's prediction has it.
    pub asked: Option<(u64, Phase)>,
    /// The answer revealed, once the question is.
    pub revealed: Option<Value>,
    /// Students joined to the class, and connected now (the teacher's).
    pub students: Option<usize>,
    pub connected: Option<usize>,
    /// The room's answers, round 1 and round 2 (the teacher's).
    pub tallies: [Option<Tally>; 2],
    /// The teacher shows the room's answers on the projector.
    pub show_tally: bool,
    /// The join code and QR code shown large (until the first question).
    pub show_join: bool,
    /// This student's answer per round, and whether the server has it.
    pub sent: [Option<Value>; 2],
    pub acked: [bool; 2],
    /// The last error the server sent, in its words.
    pub error: Option<String>,
}

impl ClassState {
    pub fn new(role: Role, code: String, ws: String) -> ClassState {
        ClassState {
            role,
            code,
            ws,
            resume: None,
            name: None,
            join_url: None,
            teacher_url: None,
            joined: false,
            down: None,
            student: None,
            follow: true,
            moment: None,
            question: None,
            drawing: None,
            asked: None,
            revealed: None,
            students: None,
            connected: None,
            tallies: [None, None],
            show_tally: false,
            show_join: true,
            sent: [None, None],
            acked: [false, false],
            error: None,
        }
    }

    pub fn teacher(&self) -> bool {
        self.role == Role::Teacher
    }

    /// The open round of the question (None: none open).
    pub fn open_round(&self) -> Option<u8> {
        self.question
            .as_ref()
            .filter(|q| (1..=2).contains(&q.round) && self.revealed.is_none())
            .map(|q| q.round)
    }

    /// A new question (or none), with the drawing it is about.
    pub fn set_question(&mut self, question: Option<Question>) {
        self.drawing = question
            .as_ref()
            .filter(|q| q.kind == crate::teach::predict::TAUGHT_DIGIT)
            .and_then(|q| crate::app::link::Moment::parse(&q.step).ok())
            .and_then(|m| m.teach);
        self.question = question;
    }

    /// The latest answer this student sent (round 2's over round 1's).
    pub fn last_sent(&self) -> Option<&Value> {
        self.sent.iter().rev().flatten().next()
    }

    /// A student following the teacher while a question waits for answers:
    /// the question, not the student, decides when the step is shown.
    pub fn student_answering(&self) -> bool {
        !self.teacher() && self.follow && self.open_round().is_some()
    }
}

/// A class's link, `#class=CODE` (a student's) or `#class=CODE&teacher=TOKEN`
/// (the teacher's): the code and the token, checked; `None` for any other
/// fragment (a moment's link, or a malformed class link).
pub fn class_link(link: &str) -> Option<(String, Option<String>)> {
    let fragment = link.rsplit_once('#').map_or(link, |(_, f)| f);
    if fragment.len() > 512 {
        return None;
    }
    let mut code = None;
    let mut teacher = None;
    for part in fragment.split('&').filter(|p| !p.is_empty()) {
        match part.split_once('=')? {
            ("class", c) if crate::class::protocol::is_code(c) => code = Some(c.to_string()),
            ("teacher", t)
                if (16..=256).contains(&t.len())
                    && t.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
            {
                teacher = Some(t.to_string())
            }
            _ => return None,
        }
    }
    Some((code?, teacher))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_links_are_read_and_checked() {
        assert_eq!(
            class_link("http://10.0.0.5:8080/#class=ABC234"),
            Some(("ABC234".into(), None))
        );
        let token = "a".repeat(32);
        assert_eq!(
            class_link(&format!("#class=ABC234&teacher={token}")),
            Some(("ABC234".into(), Some(token)))
        );
        for bad in [
            "#class=abc234",
            "#class=ABC234&teacher=short",
            "#class=ABC234&step=3",
            "#preset=seed&step=3",
            "#teacher=aaaaaaaaaaaaaaaaaaaa",
            "#class=ABC234&teacher=<script>aaaaaaaaaaaaaa",
        ] {
            assert_eq!(class_link(bad), None, "{bad}");
        }
    }
}
