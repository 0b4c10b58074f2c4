//! The live class's wire contract (`docs/CLASS-CONTRACT.md`): the messages a
//! teacher's and a student's page exchange with the class server over one
//! WebSocket, as UTF-8 JSON text frames, one object each, and the contract's
//! limits. Shared by the server, the load tool, the desktop app and the
//! page, so that every side reads and writes exactly the same JSON.
//!
//! Unknown fields are ignored (serde's default); a message that is not JSON,
//! has an unknown `type` or a field of the wrong type fails to parse, and the
//! server answers it with a `bad-message` error.

use serde::{Deserialize, Serialize};

/// The characters of a class code: no 0/O, 1/I/L, so it reads off a
/// projector without doubt.
pub const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
pub const CODE_LEN: usize = 6;
/// The largest message read; a larger one closes the connection (1009).
pub const MAX_MESSAGE: usize = 4 * 1024;
/// Messages per second per connection; beyond: `too-many`, then close.
pub const MAX_RATE: u32 = 20;
pub const MAX_STUDENTS: usize = 1_000;
/// Joins per second per address.
pub const MAX_JOINS_PER_SECOND: u32 = 10;
pub const MAX_QUESTIONS: usize = 10_000;
/// Wrong codes per address per minute.
pub const MAX_WRONG_CODES: u32 = 5;
/// The longest name kept (characters, after trimming).
pub const MAX_NAME: usize = 40;
pub const MAX_QUESTION_ID: usize = 64;
/// The most cells one answer (or reveal) may hold.
pub const MAX_CELLS: usize = 64;
/// The most options one question may offer.
pub const MAX_OPTIONS: usize = 64;
/// The teacher's tally goes out at most this often while answers arrive.
pub const TALLY_EVERY_MS: u64 = 200;
/// The WebSocket close code for a message over [`MAX_MESSAGE`].
pub const CLOSE_TOO_BIG: u16 = 1009;

/// An answer: one of the question's options, or cells of the map `[c, y, x]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Option(String),
    Cells(Vec<[u32; 3]>),
}

impl Value {
    /// The same answer with its cells in order: two answers naming the same
    /// cells are then equal (the server keeps answers this way).
    pub fn canonical(self) -> Value {
        match self {
            Value::Cells(mut cells) => {
                cells.sort_unstable();
                Value::Cells(cells)
            }
            v => v,
        }
    }
}

/// A question as the teacher opens it and every student receives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Question {
    /// The question's id (≤ 64 characters), unique in the class.
    pub question: String,
    /// The Predict mode question's kind (`df-sign`, `pool-winner`, …).
    pub kind: String,
    /// The moment the question is about (a *Share this moment* link).
    pub step: String,
    /// The options (empty for a question answered by clicking cells).
    #[serde(default)]
    pub options: Vec<String>,
    /// The open round (1 or 2); 0 when the question is closed. Added to the
    /// contract: a page that joins late knows which round it answers.
    #[serde(default = "one")]
    pub round: u8,
}

fn one() -> u8 {
    1
}

/// Who a connection speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Student,
    Teacher,
}

/// Client → server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ClientMsg {
    Join {
        code: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resume: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        teacher: Option<String>,
    },
    Answer {
        question: String,
        round: u8,
        value: Value,
    },
    Moment {
        link: String,
    },
    Open {
        question: String,
        kind: String,
        step: String,
        #[serde(default)]
        options: Vec<String>,
    },
    Close {
        question: String,
    },
    Revote {
        question: String,
    },
    Reveal {
        question: String,
        answer: Value,
    },
}

/// Server → client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ServerMsg {
    Welcome {
        role: Role,
        student: u64,
        resume: String,
        moment: Option<String>,
        question: Option<Question>,
        /// This student's own answers to the open question, round by round
        /// (added to the contract: a resumed page shows what it answered).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        answers: Vec<Answered>,
    },
    Moment {
        link: String,
    },
    Question(Question),
    Closed {
        question: String,
        round: u8,
    },
    Revote {
        question: String,
    },
    Reveal {
        question: String,
        answer: Value,
    },
    Ack {
        question: String,
        round: u8,
    },
    Tally(Tally),
    /// Who is in the class (added to the contract), to the teachers: on a
    /// teacher's welcome, then at most every 200 ms while students join or
    /// leave, so the projector counts the room before any question.
    Room {
        /// Students who have joined the class (as `tally`'s `students`).
        students: usize,
        /// Of them, connected now.
        connected: usize,
    },
    Error {
        code: ErrorCode,
        message: String,
    },
}

/// One of a student's own answers, as `welcome` gives it back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answered {
    pub round: u8,
    pub value: Value,
}

/// How one round of a question stands, for the teacher's screen.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Tally {
    pub question: String,
    pub round: u8,
    /// Students joined to the class.
    pub students: usize,
    /// Students who answered this round.
    pub answered: usize,
    /// How many chose each option (an answer of cells counts under none).
    pub options: std::collections::BTreeMap<String, usize>,
    /// How many clicked each cell `[c, y, x, count]`.
    pub cells: Vec<[u32; 4]>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorCode {
    BadMessage,
    BadCode,
    Forbidden,
    Closed,
    TooMany,
    Full,
}

impl ServerMsg {
    pub fn error(code: ErrorCode, message: impl Into<String>) -> ServerMsg {
        ServerMsg::Error {
            code,
            message: message.into(),
        }
    }

    pub fn to_json(&self) -> String {
        // Every field is a string, number, list or map: serialising cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl ClientMsg {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Whether `code` is shaped as a class code (6 characters of the alphabet).
pub fn is_code(code: &str) -> bool {
    code.len() == CODE_LEN && code.bytes().all(|b| CODE_ALPHABET.contains(&b))
}

/// A name as kept: trimmed, at most [`MAX_NAME`] characters, control
/// characters dropped; `None` when nothing is left.
pub fn clean_name(name: &str) -> Option<String> {
    let kept: String = name
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME)
        .collect();
    let kept = kept.trim().to_string();
    (!kept.is_empty()).then_some(kept)
}

/// Why a value cannot answer (or reveal) a question with `options`, or
/// `None` when it can: an option must be one of them, and `"none"` is always
/// allowed for a cell question (no cell at all); cells are at most
/// [`MAX_CELLS`], distinct.
pub fn value_problem(options: &[String], value: &Value) -> Option<String> {
    match value {
        Value::Option(o) if options.is_empty() => {
            (o != "none").then(|| format!("{o:?} is not an answer to a question of cells"))
        }
        Value::Option(o) => (!options.iter().any(|x| x == o))
            .then(|| format!("{o:?} is not one of the question's options")),
        Value::Cells(_) if !options.is_empty() => {
            Some("this question is answered with one of its options, not cells".into())
        }
        Value::Cells(cells) if cells.len() > MAX_CELLS => {
            Some(format!("at most {MAX_CELLS} cells, not {}", cells.len()))
        }
        Value::Cells(cells) => {
            let distinct: std::collections::BTreeSet<_> = cells.iter().collect();
            (distinct.len() != cells.len()).then(|| "a cell is given twice".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_as_the_contract_writes_them() {
        let join: ClientMsg =
            serde_json::from_str(r#"{"type":"join","code":"ABC234","name":" Ann ","extra":1}"#)
                .unwrap();
        assert_eq!(
            join,
            ClientMsg::Join {
                code: "ABC234".into(),
                name: Some(" Ann ".into()),
                resume: None,
                teacher: None
            }
        );
        let cells: ClientMsg = serde_json::from_str(
            r#"{"type":"answer","question":"q1","round":2,"value":[[0,1,2],[0,3,4]]}"#,
        )
        .unwrap();
        assert_eq!(
            cells,
            ClientMsg::Answer {
                question: "q1".into(),
                round: 2,
                value: Value::Cells(vec![[0, 1, 2], [0, 3, 4]])
            }
        );
        for bad in [
            r#"{"type":"answer","question":"q1","round":"1","value":"+"}"#,
            r#"{"type":"shout"}"#,
            r#"{"code":"ABC234"}"#,
            r#"{"type":"answer","question":"q1","round":1,"value":{"x":1}}"#,
            "not json",
        ] {
            assert!(serde_json::from_str::<ClientMsg>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn server_messages_carry_the_contract_type_names() {
        let tally = ServerMsg::Tally(Tally {
            question: "q".into(),
            round: 1,
            students: 3,
            answered: 2,
            options: [("+".to_string(), 2)].into(),
            cells: vec![],
        });
        let json: serde_json::Value = serde_json::from_str(&tally.to_json()).unwrap();
        assert_eq!(json["type"], "tally");
        assert_eq!(json["options"]["+"], 2);
        let error = ServerMsg::error(ErrorCode::TooMany, "slow down");
        assert!(error.to_json().contains(r#""code":"too-many""#));
        let q = ServerMsg::Question(Question {
            question: "q".into(),
            kind: "df-sign".into(),
            step: "step=2".into(),
            options: vec!["+".into(), "-".into()],
            round: 1,
        });
        let json: serde_json::Value = serde_json::from_str(&q.to_json()).unwrap();
        assert_eq!(json["type"], "question");
        assert_eq!(json["kind"], "df-sign");
    }

    #[test]
    fn names_codes_and_values_are_checked() {
        assert_eq!(clean_name("  Ann\u{7} "), Some("Ann".into()));
        assert_eq!(clean_name("   "), None);
        assert_eq!(clean_name(&"я".repeat(50)).unwrap().chars().count(), 40);
        assert!(is_code("ABC234"));
        assert!(!is_code("ABC230") && !is_code("abc234") && !is_code("ABC23"));
        let opts = vec!["+".to_string(), "-".to_string()];
        assert_eq!(value_problem(&opts, &Value::Option("+".into())), None);
        assert!(value_problem(&opts, &Value::Option("x".into())).is_some());
        assert!(value_problem(&opts, &Value::Cells(vec![[0, 0, 0]])).is_some());
        assert_eq!(value_problem(&[], &Value::Option("none".into())), None);
        assert!(value_problem(&[], &Value::Cells(vec![[0, 0, 0]; 2])).is_some());
        assert!(value_problem(&[], &Value::Cells((0..65).map(|i| [0, 0, i]).collect())).is_some());
    }
}
