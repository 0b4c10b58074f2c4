//! The class as the server holds it in memory, and what each message does to
//! it. No sockets and no database here: [`Hub::plan`] checks a message
//! against the contract and either answers at once or returns the change to
//! write ([`Op`]) with what to do once it is durable ([`Event`]);
//! [`Hub::apply`] records the change in memory when it is queued (so the next
//! message is checked against it), [`Hub::committed`] sends what follows
//! from it once the database has it: the `ack`, the broadcast, the welcome.
//!
//! Every limit of the contract is checked here, before anything changes.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use axum::extract::ws::Utf8Bytes;
use tokio::sync::mpsc;

use super::protocol::{
    clean_name, value_problem, Answered, ClientMsg, ErrorCode, Question, Role, ServerMsg, Tally,
    Value, MAX_JOINS_PER_SECOND, MAX_OPTIONS, MAX_QUESTIONS, MAX_QUESTION_ID, MAX_STUDENTS,
    MAX_WRONG_CODES, TALLY_EVERY_MS,
};
use super::store::{AnswerRow, Loaded, Op, QuestionRow, StudentRow};

pub type ConnId = u64;

/// The longest question kind and option, in characters.
const MAX_LABEL: usize = 64;
/// Addresses remembered for their limits before old ones are forgotten.
const MAX_ADDRESSES: usize = 4096;
const WRONG_CODE_WINDOW: Duration = Duration::from_secs(60);
const JOIN_WINDOW: Duration = Duration::from_secs(1);

/// A question as the server holds it.
#[derive(Debug, Clone)]
struct Asked {
    kind: String,
    step: String,
    options: Vec<String>,
    /// The open round (1, 2), 0 when closed.
    round: u8,
    rounds: u8,
    revealed: Option<Value>,
}

/// One WebSocket connection.
pub struct Conn {
    tx: mpsc::Sender<Utf8Bytes>,
    role: Option<Role>,
    student: u64,
    /// Receives the broadcasts: set once its welcome is sent, so that it
    /// never hears of the class before its welcome.
    listening: bool,
}

/// Recent joins and wrong codes from one address.
#[derive(Default)]
struct Address {
    joins: VecDeque<Instant>,
    wrong: VecDeque<Instant>,
}

/// What a message leads to.
pub enum Plan {
    /// Answer the sender now (an error, a welcome that writes nothing…).
    Reply(Vec<ServerMsg>),
    /// Write the change; once durable, [`Hub::committed`] with its event.
    Write(Box<Change>),
}

pub struct Change {
    pub op: Op,
    pub event: Event,
}

fn write(op: Op, event: Event) -> Plan {
    Plan::Write(Box::new(Change { op, event }))
}

/// What to do once a change is durable.
#[derive(Debug, Clone)]
pub enum Event {
    Joined {
        conn: ConnId,
        student: u64,
        token: String,
        new: bool,
    },
    Moment(String),
    Opened {
        question: Question,
        /// The round of another question this one closed.
        closed: Option<(String, u8)>,
    },
    Closed {
        question: String,
        round: u8,
    },
    Revote {
        question: String,
    },
    Revealed {
        question: String,
        answer: Value,
    },
    Answered {
        conn: ConnId,
        question: String,
        round: u8,
        student: u64,
        value: Value,
    },
}

/// Who a message goes to.
enum To {
    One(ConnId),
    Listening,
    Teachers,
}

/// The tally's view: answers to the last question asked, as committed.
#[derive(Default)]
struct Answers {
    question: Option<String>,
    by: HashMap<(u8, u64), Value>,
    /// Rounds with answers not yet in a tally (index 1, 2).
    dirty: [bool; 3],
}

pub struct Hub {
    code: String,
    teacher: String,
    /// Resume token → student id.
    students: HashMap<String, u64>,
    next_student: u64,
    questions: HashMap<String, Asked>,
    next_seq: u32,
    /// The last question asked (open or not).
    current: Option<String>,
    moment: Option<String>,
    answers: Answers,
    conns: HashMap<ConnId, Conn>,
    next_conn: ConnId,
    addresses: HashMap<IpAddr, Address>,
    last_tally: Option<Instant>,
    /// A student joined or left since the last `room` to the teachers.
    room_dirty: bool,
    /// Stopping: messages are no longer read.
    pub closing: bool,
}

fn error(code: ErrorCode, message: impl Into<String>) -> Plan {
    Plan::Reply(vec![ServerMsg::error(code, message)])
}

impl Hub {
    pub fn new(loaded: &Loaded) -> Hub {
        let questions = loaded
            .questions
            .iter()
            .map(|q| {
                (
                    q.question.question.clone(),
                    Asked {
                        kind: q.question.kind.clone(),
                        step: q.question.step.clone(),
                        options: q.question.options.clone(),
                        round: q.question.round,
                        rounds: q.rounds,
                        revealed: q.revealed.clone(),
                    },
                )
            })
            .collect();
        let current = loaded.questions.last().map(|q| q.question.question.clone());
        let answers = Answers {
            question: current.clone(),
            by: loaded
                .answers
                .iter()
                .map(|a| ((a.round, a.student), a.value.clone()))
                .collect(),
            dirty: [false; 3],
        };
        Hub {
            code: loaded.class.code.clone(),
            teacher: loaded.class.teacher.clone(),
            students: loaded
                .students
                .iter()
                .map(|s| (s.token.clone(), s.id))
                .collect(),
            next_student: loaded.students.iter().map(|s| s.id).max().unwrap_or(0) + 1,
            questions,
            next_seq: loaded.questions.iter().map(|q| q.seq).max().unwrap_or(0) + 1,
            current,
            moment: loaded.moment.clone(),
            answers,
            conns: HashMap::new(),
            next_conn: 1,
            addresses: HashMap::new(),
            room_dirty: false,
            last_tally: None,
            closing: false,
        }
    }

    pub fn connect(&mut self, tx: mpsc::Sender<Utf8Bytes>) -> ConnId {
        let id = self.next_conn;
        self.next_conn += 1;
        self.conns.insert(
            id,
            Conn {
                tx,
                role: None,
                student: 0,
                listening: false,
            },
        );
        id
    }

    pub fn disconnect(&mut self, conn: ConnId) {
        if let Some(c) = self.conns.remove(&conn) {
            self.room_dirty |= c.role == Some(Role::Student);
        }
    }

    /// Who is in the class, for the teachers.
    fn room(&self) -> ServerMsg {
        let connected: std::collections::HashSet<u64> = self
            .conns
            .values()
            .filter(|c| c.listening && c.role == Some(Role::Student))
            .map(|c| c.student)
            .collect();
        ServerMsg::Room {
            students: self.students.len(),
            connected: connected.len(),
        }
    }

    /// Whether a `room` waits to go to the teachers (the server's tally
    /// task sends it with the tallies).
    pub fn room_waiting(&self) -> bool {
        self.room_dirty
    }

    /// Checks `msg` from `conn` (at `addr`) against the contract. Changes
    /// nothing of the class (only the address's join counts, and a join
    /// that writes nothing takes effect at once); a change is recorded by
    /// [`Hub::apply`] once it is queued.
    pub fn plan(
        &mut self,
        conn: ConnId,
        addr: IpAddr,
        msg: ClientMsg,
        new_token: impl FnOnce() -> String,
        now: Instant,
    ) -> Plan {
        let Some(c) = self.conns.get(&conn) else {
            return Plan::Reply(vec![]);
        };
        let (role, student) = (c.role, c.student);
        match msg {
            ClientMsg::Join {
                code,
                name,
                resume,
                teacher,
            } => {
                if role.is_some() {
                    return error(ErrorCode::BadMessage, "this connection has already joined");
                }
                self.join(conn, addr, code, name, resume, teacher, new_token, now)
            }
            _ if role.is_none() => error(ErrorCode::Forbidden, "join first"),
            ClientMsg::Answer {
                question,
                round,
                value,
            } => {
                if role != Some(Role::Student) {
                    return error(ErrorCode::Forbidden, "only a student answers");
                }
                self.answer(conn, student, question, round, value)
            }
            _ if role != Some(Role::Teacher) => {
                error(ErrorCode::Forbidden, "only the teacher moves the class")
            }
            ClientMsg::Moment { link } => write(Op::Moment(link.clone()), Event::Moment(link)),
            ClientMsg::Open {
                question,
                kind,
                step,
                options,
            } => self.open(question, kind, step, options),
            ClientMsg::Close { question } => match self.asked(&question) {
                Err(plan) => plan,
                Ok(q) if q.round == 0 => error(
                    ErrorCode::Closed,
                    format!("question {question:?} has no open round"),
                ),
                Ok(q) => {
                    let (round, rounds) = (q.round, q.rounds);
                    write(
                        Op::Round {
                            question: question.clone(),
                            round: 0,
                            rounds,
                        },
                        Event::Closed { question, round },
                    )
                }
            },
            ClientMsg::Revote { question } => match self.asked(&question) {
                Err(plan) => plan,
                Ok(q) if q.rounds == 2 || q.revealed.is_some() => error(
                    ErrorCode::Closed,
                    format!("question {question:?} has had its vote again or its answer"),
                ),
                Ok(_) if self.current.as_deref() != Some(question.as_str()) => error(
                    ErrorCode::Closed,
                    format!("question {question:?} is no longer the class's question"),
                ),
                Ok(_) => write(
                    Op::Round {
                        question: question.clone(),
                        round: 2,
                        rounds: 2,
                    },
                    Event::Revote { question },
                ),
            },
            ClientMsg::Reveal { question, answer } => match self.asked(&question) {
                Err(plan) => plan,
                Ok(q) if q.revealed.is_some() => error(
                    ErrorCode::Closed,
                    format!("question {question:?} is already revealed"),
                ),
                Ok(q) => match value_problem(&q.options, &answer) {
                    Some(problem) => error(ErrorCode::BadMessage, problem),
                    None => {
                        let answer = answer.canonical();
                        write(
                            Op::Reveal {
                                question: question.clone(),
                                answer: answer.clone(),
                            },
                            Event::Revealed { question, answer },
                        )
                    }
                },
            },
        }
    }

    fn asked(&self, question: &str) -> Result<&Asked, Plan> {
        self.questions.get(question).ok_or_else(|| {
            error(
                ErrorCode::BadMessage,
                format!("no question {question:?} was asked"),
            )
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn join(
        &mut self,
        conn: ConnId,
        addr: IpAddr,
        code: String,
        name: Option<String>,
        resume: Option<String>,
        teacher: Option<String>,
        new_token: impl FnOnce() -> String,
        now: Instant,
    ) -> Plan {
        if self.addresses.len() >= MAX_ADDRESSES && !self.addresses.contains_key(&addr) {
            self.forget_addresses(now);
        }
        let a = self.addresses.entry(addr).or_default();
        prune(&mut a.wrong, now, WRONG_CODE_WINDOW);
        prune(&mut a.joins, now, JOIN_WINDOW);
        // After 5 wrong codes in a minute, every join from the address is
        // refused until the oldest of them is a minute old, even with the
        // right code: otherwise the limit would only slow a guesser down.
        if a.wrong.len() >= MAX_WRONG_CODES as usize {
            return error(
                ErrorCode::TooMany,
                "too many wrong codes from this address: wait a minute",
            );
        }
        if a.joins.len() >= MAX_JOINS_PER_SECOND as usize {
            return error(
                ErrorCode::TooMany,
                "too many joins from this address: try again in a second",
            );
        }
        a.joins.push_back(now);
        let right_teacher = teacher.as_deref().map(|t| same_secret(t, &self.teacher));
        if !same_secret(&code, &self.code) || right_teacher == Some(false) {
            a.wrong.push_back(now);
            let what = if right_teacher == Some(false) {
                "wrong teacher token"
            } else {
                "no class has this code"
            };
            return error(ErrorCode::BadCode, what);
        }
        if right_teacher == Some(true) {
            if let Some(c) = self.conns.get_mut(&conn) {
                c.role = Some(Role::Teacher);
                c.listening = true;
            }
            return Plan::Reply(self.welcome(Role::Teacher, 0, String::new()));
        }
        let name = name.as_deref().and_then(clean_name);
        let known = resume
            .as_ref()
            .and_then(|t| self.students.get(t).map(|id| (*id, t.clone())));
        match known {
            // A resume that changes nothing writes nothing: welcome at once.
            Some((id, token)) if name.is_none() => {
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.role = Some(Role::Student);
                    c.student = id;
                    c.listening = true;
                }
                self.room_dirty = true;
                Plan::Reply(self.welcome(Role::Student, id, token))
            }
            Some((id, token)) => write(
                Op::Rename { student: id, name },
                Event::Joined {
                    conn,
                    student: id,
                    token,
                    new: false,
                },
            ),
            // An unknown resume token (a page from another class) joins as
            // a new student.
            None if self.students.len() >= MAX_STUDENTS => error(
                ErrorCode::Full,
                format!("the class is full ({MAX_STUDENTS} students)"),
            ),
            None => {
                let id = self.next_student;
                let token = new_token();
                write(
                    Op::AddStudent(StudentRow {
                        id,
                        token: token.clone(),
                        name,
                    }),
                    Event::Joined {
                        conn,
                        student: id,
                        token,
                        new: true,
                    },
                )
            }
        }
    }

    fn forget_addresses(&mut self, now: Instant) {
        self.addresses.retain(|_, a| {
            prune(&mut a.wrong, now, WRONG_CODE_WINDOW);
            prune(&mut a.joins, now, JOIN_WINDOW);
            !a.wrong.is_empty() || !a.joins.is_empty()
        });
        // Still full of addresses active within the minute: the oldest go.
        if self.addresses.len() >= MAX_ADDRESSES {
            let mut oldest: Vec<(IpAddr, Instant)> = self
                .addresses
                .iter()
                .map(|(ip, a)| {
                    let last = a.joins.back().or(a.wrong.back()).copied().unwrap_or(now);
                    (*ip, last)
                })
                .collect();
            oldest.sort_by_key(|(_, t)| *t);
            for (ip, _) in oldest.iter().take(MAX_ADDRESSES / 4) {
                self.addresses.remove(ip);
            }
        }
    }

    fn answer(
        &self,
        conn: ConnId,
        student: u64,
        question: String,
        round: u8,
        value: Value,
    ) -> Plan {
        if !(1..=2).contains(&round) {
            return error(ErrorCode::BadMessage, "round is 1 or 2");
        }
        let open = self.current.as_deref() == Some(question.as_str())
            && self.questions.get(&question).map(|q| q.round) == Some(round);
        let Some(q) = self.questions.get(&question).filter(|_| open) else {
            return error(
                ErrorCode::Closed,
                format!("question {question:?} round {round} is not open"),
            );
        };
        if let Some(problem) = value_problem(&q.options, &value) {
            return error(ErrorCode::BadMessage, problem);
        }
        // Kept as stored: a resumed page gets back what a restarted server
        // would give it.
        let value = value.canonical();
        write(
            Op::Answer(AnswerRow {
                question: question.clone(),
                round,
                student,
                value: value.clone(),
            }),
            Event::Answered {
                conn,
                question,
                round,
                student,
                value,
            },
        )
    }

    fn open(&self, question: String, kind: String, step: String, options: Vec<String>) -> Plan {
        if let Some(q) = self.questions.get(&question) {
            if self.current.as_deref() == Some(question.as_str()) && q.round != 0 {
                // Opened again as it is (a teacher's page that reconnected):
                // nothing changes; the sender hears the question again.
                return Plan::Reply(vec![ServerMsg::Question(self.question_msg(&question, q))]);
            }
            return error(
                ErrorCode::BadMessage,
                format!("question {question:?} was already asked: a new question needs a new id"),
            );
        }
        let label_ok = |s: &str| {
            !s.is_empty() && s.chars().count() <= MAX_LABEL && !s.chars().any(char::is_control)
        };
        if question.is_empty()
            || question.chars().count() > MAX_QUESTION_ID
            || question.chars().any(char::is_control)
        {
            return error(
                ErrorCode::BadMessage,
                format!("a question's id is 1 to {MAX_QUESTION_ID} characters"),
            );
        }
        if !label_ok(&kind) {
            return error(
                ErrorCode::BadMessage,
                format!("a question's kind is 1 to {MAX_LABEL} characters"),
            );
        }
        if options.len() > MAX_OPTIONS || !options.iter().all(|o| label_ok(o)) {
            return error(
                ErrorCode::BadMessage,
                format!("at most {MAX_OPTIONS} options of 1 to {MAX_LABEL} characters"),
            );
        }
        let distinct: std::collections::BTreeSet<&String> = options.iter().collect();
        if distinct.len() != options.len() {
            return error(ErrorCode::BadMessage, "an option is given twice");
        }
        if self.questions.len() >= MAX_QUESTIONS {
            return error(
                ErrorCode::Full,
                format!("the class has asked its {MAX_QUESTIONS} questions"),
            );
        }
        let closed = self.current.as_ref().and_then(|c| {
            self.questions
                .get(c)
                .filter(|q| q.round != 0)
                .map(|q| (c.clone(), q.round))
        });
        let q = Question {
            question,
            kind,
            step,
            options,
            round: 1,
        };
        write(
            Op::Open(QuestionRow {
                seq: self.next_seq,
                question: q.clone(),
                rounds: 1,
                revealed: None,
            }),
            Event::Opened {
                question: q,
                closed,
            },
        )
    }

    /// Records a queued change in memory, so that the next message is
    /// checked against it.
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::Joined {
                conn,
                student,
                token,
                new,
            } => {
                if *new {
                    self.students.insert(token.clone(), *student);
                    self.next_student = student + 1;
                }
                if let Some(c) = self.conns.get_mut(conn) {
                    c.role = Some(Role::Student);
                    c.student = *student;
                }
            }
            Event::Moment(link) => self.moment = Some(link.clone()),
            Event::Opened { question, .. } => {
                if let Some(q) = self
                    .current
                    .as_ref()
                    .and_then(|c| self.questions.get_mut(c))
                {
                    q.round = 0;
                }
                self.questions.insert(
                    question.question.clone(),
                    Asked {
                        kind: question.kind.clone(),
                        step: question.step.clone(),
                        options: question.options.clone(),
                        round: 1,
                        rounds: 1,
                        revealed: None,
                    },
                );
                self.next_seq += 1;
                self.current = Some(question.question.clone());
            }
            Event::Closed { question, .. } => {
                if let Some(q) = self.questions.get_mut(question) {
                    q.round = 0;
                }
            }
            Event::Revote { question } => {
                if let Some(q) = self.questions.get_mut(question) {
                    q.round = 2;
                    q.rounds = 2;
                }
            }
            Event::Revealed { question, answer } => {
                if let Some(q) = self.questions.get_mut(question) {
                    q.round = 0;
                    q.revealed = Some(answer.clone());
                }
            }
            Event::Answered { .. } => {}
        }
    }

    /// Once `event`'s change is durable: the messages that follow from it.
    pub fn committed(&mut self, event: Event, now: Instant) {
        match event {
            Event::Joined {
                conn,
                student,
                token,
                ..
            } => {
                let msgs = self.welcome(Role::Student, student, token);
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.listening = true;
                }
                self.room_dirty = true;
                for m in msgs {
                    self.send(To::One(conn), &m);
                }
            }
            Event::Moment(link) => self.send(To::Listening, &ServerMsg::Moment { link }),
            Event::Opened { question, closed } => {
                if let Some((q, round)) = closed {
                    self.send(To::Listening, &ServerMsg::Closed { question: q, round });
                }
                self.answers = Answers {
                    question: Some(question.question.clone()),
                    ..Answers::default()
                };
                self.send(To::Listening, &ServerMsg::Question(question));
                self.tallies_now(now);
            }
            Event::Closed { question, round } => {
                self.send(To::Listening, &ServerMsg::Closed { question, round });
                self.tallies_now(now);
            }
            Event::Revote { question } => {
                self.send(To::Listening, &ServerMsg::Revote { question });
                self.tallies_now(now);
            }
            Event::Revealed { question, answer } => {
                let current = self.current.as_deref() == Some(question.as_str());
                self.send(To::Listening, &ServerMsg::Reveal { question, answer });
                if current {
                    self.tallies_now(now);
                }
            }
            Event::Answered {
                conn,
                question,
                round,
                student,
                value,
            } => {
                if self.answers.question.as_deref() == Some(question.as_str()) {
                    self.answers.by.insert((round, student), value);
                    self.answers.dirty[usize::from(round)] = true;
                }
                self.send(To::One(conn), &ServerMsg::Ack { question, round });
            }
        }
    }

    /// The welcome and what follows it: the current question's reveal if it
    /// was revealed, and a teacher's tallies.
    fn welcome(&self, role: Role, student: u64, resume: String) -> Vec<ServerMsg> {
        let current = self
            .current
            .as_ref()
            .and_then(|id| self.questions.get(id).map(|q| (id, q)));
        let answers = if role == Role::Student {
            let mut mine: Vec<Answered> = self
                .answers
                .by
                .iter()
                .filter(|((_, s), _)| *s == student)
                .map(|((round, _), value)| Answered {
                    round: *round,
                    value: value.clone(),
                })
                .collect();
            mine.sort_by_key(|a| a.round);
            mine
        } else {
            Vec::new()
        };
        let mut msgs = vec![ServerMsg::Welcome {
            role,
            student,
            resume,
            moment: self.moment.clone(),
            question: current.map(|(id, q)| self.question_msg(id, q)),
            answers,
        }];
        if let Some((id, Some(answer))) = current.map(|(id, q)| (id, q.revealed.as_ref())) {
            msgs.push(ServerMsg::Reveal {
                question: id.clone(),
                answer: answer.clone(),
            });
        }
        if role == Role::Teacher {
            msgs.push(self.room());
            msgs.extend(self.tallies().into_iter().map(ServerMsg::Tally));
        }
        msgs
    }

    fn question_msg(&self, id: &str, q: &Asked) -> Question {
        Question {
            question: id.to_string(),
            kind: q.kind.clone(),
            step: q.step.clone(),
            options: q.options.clone(),
            round: q.round,
        }
    }

    /// The current question's tally, one per round held.
    fn tallies(&self) -> Vec<Tally> {
        let Some((id, q)) = self
            .answers
            .question
            .as_ref()
            .and_then(|id| self.questions.get(id).map(|q| (id, q)))
        else {
            return Vec::new();
        };
        (1..=q.rounds)
            .map(|round| self.tally(id, q, round))
            .collect()
    }

    fn tally(&self, id: &str, q: &Asked, round: u8) -> Tally {
        let mut options: BTreeMap<String, usize> =
            q.options.iter().map(|o| (o.clone(), 0)).collect();
        let mut cells: BTreeMap<[u32; 3], usize> = BTreeMap::new();
        let mut answered = 0;
        for ((r, _), value) in &self.answers.by {
            if *r != round {
                continue;
            }
            answered += 1;
            match value {
                Value::Option(o) => *options.entry(o.clone()).or_default() += 1,
                Value::Cells(cs) => {
                    for c in cs {
                        *cells.entry(*c).or_default() += 1;
                    }
                }
            }
        }
        Tally {
            question: id.to_string(),
            round,
            students: self.students.len(),
            answered,
            options,
            cells: cells
                .into_iter()
                .map(|([c, y, x], n)| [c, y, x, n as u32])
                .collect(),
        }
    }

    /// Every round's tally to the teachers now (after a teacher's change).
    fn tallies_now(&mut self, now: Instant) {
        for t in self.tallies() {
            self.send(To::Teachers, &ServerMsg::Tally(t));
        }
        self.answers.dirty = [false; 3];
        self.last_tally = Some(now);
    }

    /// How long until the next tally may go out (zero: now).
    pub fn tally_wait(&self, now: Instant) -> Duration {
        match self.last_tally {
            Some(t) => (t + Duration::from_millis(TALLY_EVERY_MS)).saturating_duration_since(now),
            None => Duration::ZERO,
        }
    }

    /// The tallies of rounds with new answers, and who is in the room if
    /// that changed, to the teachers.
    pub fn send_dirty_tallies(&mut self, now: Instant) {
        if self.room_dirty {
            self.room_dirty = false;
            let room = self.room();
            self.send(To::Teachers, &room);
            self.last_tally = Some(now);
        }
        if !self.answers.dirty.iter().any(|d| *d) {
            return;
        }
        let dirty = self.answers.dirty;
        for t in self.tallies() {
            if dirty[usize::from(t.round)] {
                self.send(To::Teachers, &ServerMsg::Tally(t));
            }
        }
        self.answers.dirty = [false; 3];
        self.last_tally = Some(now);
    }

    fn send(&mut self, to: To, msg: &ServerMsg) {
        let text = Utf8Bytes::from(msg.to_json());
        let mut slow = Vec::new();
        for (id, c) in &self.conns {
            let wanted = match to {
                To::One(one) => *id == one,
                To::Listening => c.listening,
                To::Teachers => c.listening && c.role == Some(Role::Teacher),
            };
            // A connection whose queue is full is not reading: it is dropped
            // (its task closes it) rather than let its queue grow.
            if wanted && c.tx.try_send(text.clone()).is_err() {
                slow.push(*id);
            }
        }
        for id in slow {
            self.conns.remove(&id);
        }
    }
}

/// Drops the instants older than `window`.
fn prune(times: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while times
        .front()
        .is_some_and(|t| now.saturating_duration_since(*t) >= window)
    {
        times.pop_front();
    }
}

/// Compares a secret in time independent of where the first difference is.
fn same_secret(given: &str, secret: &str) -> bool {
    given.len() == secret.len()
        && given
            .bytes()
            .zip(secret.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::class::store::ClassRow;

    fn hub() -> Hub {
        Hub::new(&Loaded {
            class: ClassRow {
                code: "ABC234".into(),
                teacher: "t".repeat(32),
                title: String::new(),
                created: 0,
            },
            students: vec![],
            questions: vec![],
            moment: None,
            answers: vec![],
        })
    }

    fn join(code: &str, teacher: Option<&str>) -> ClientMsg {
        ClientMsg::Join {
            code: code.into(),
            name: None,
            resume: None,
            teacher: teacher.map(str::to_string),
        }
    }

    fn code_of(plan: &Plan) -> Option<ErrorCode> {
        match plan {
            Plan::Reply(m) => m.iter().find_map(|m| match m {
                ServerMsg::Error { code, .. } => Some(*code),
                _ => None,
            }),
            Plan::Write(..) => None,
        }
    }

    #[test]
    fn wrong_codes_block_the_address_for_a_minute() {
        let mut h = hub();
        let (tx, _rx) = mpsc::channel(64);
        let c = h.connect(tx);
        let ip: IpAddr = [10, 0, 0, 1].into();
        let t0 = Instant::now();
        for i in 0..5 {
            let p = h.plan(
                c,
                ip,
                join("ZZZ999", None),
                String::new,
                t0 + Duration::from_millis(200 * i),
            );
            assert_eq!(code_of(&p), Some(ErrorCode::BadCode));
        }
        let right = h.plan(
            c,
            ip,
            join("ABC234", None),
            || "a".repeat(32),
            t0 + Duration::from_secs(30),
        );
        assert_eq!(code_of(&right), Some(ErrorCode::TooMany));
        // Another address is not affected; a minute after the first wrong
        // code this one may join again.
        let other = h.plan(
            c,
            [10, 0, 0, 2].into(),
            join("ABC234", None),
            || "b".repeat(32),
            t0,
        );
        assert!(matches!(other, Plan::Write(..)));
        let later = h.plan(
            c,
            ip,
            join("ABC234", None),
            || "c".repeat(32),
            t0 + Duration::from_secs(61),
        );
        assert!(matches!(later, Plan::Write(..)));
        // A wrong teacher token counts as a wrong code.
        let p = h.plan(
            c,
            [10, 0, 0, 3].into(),
            join("ABC234", Some("nope")),
            String::new,
            t0,
        );
        assert_eq!(code_of(&p), Some(ErrorCode::BadCode));
    }

    #[test]
    fn joins_per_second_per_address() {
        let mut h = hub();
        let (tx, _rx) = mpsc::channel(64);
        let c = h.connect(tx);
        let ip: IpAddr = [10, 0, 0, 1].into();
        let t0 = Instant::now();
        for i in 0..10 {
            let p = h.plan(c, ip, join("ABC234", None), || format!("{i:032}"), t0);
            assert!(matches!(p, Plan::Write(..)));
        }
        let p = h.plan(
            c,
            ip,
            join("ABC234", None),
            String::new,
            t0 + Duration::from_millis(900),
        );
        assert_eq!(code_of(&p), Some(ErrorCode::TooMany));
        let p = h.plan(
            c,
            ip,
            join("ABC234", None),
            || "x".repeat(32),
            t0 + Duration::from_millis(1001),
        );
        assert!(matches!(p, Plan::Write(..)));
    }

    #[test]
    fn tallies_count_rounds_apart() {
        let mut h = hub();
        let (tx, mut rx) = mpsc::channel(64);
        let teacher = h.connect(tx);
        let now = Instant::now();
        let p = h.plan(
            teacher,
            [10, 0, 0, 9].into(),
            join("ABC234", Some(&"t".repeat(32))),
            String::new,
            now,
        );
        assert!(matches!(p, Plan::Reply(_)));
        let open = ClientMsg::Open {
            question: "q".into(),
            kind: "pool-winner".into(),
            step: String::new(),
            options: vec![],
        };
        let Plan::Write(change) = h.plan(teacher, [10, 0, 0, 9].into(), open, String::new, now)
        else {
            panic!("open refused")
        };
        h.apply(&change.event);
        h.committed(change.event, now);
        for (round, student, cells) in [
            (1, 1, vec![[0, 1, 1], [0, 2, 2]]),
            (1, 2, vec![[0, 1, 1]]),
            (2, 1, vec![[0, 2, 2]]),
        ] {
            h.students.insert(format!("{student}"), student);
            h.committed(
                Event::Answered {
                    conn: 99,
                    question: "q".into(),
                    round,
                    student,
                    value: Value::Cells(cells),
                },
                now,
            );
        }
        h.questions.get_mut("q").unwrap().rounds = 2;
        while rx.try_recv().is_ok() {}
        h.send_dirty_tallies(now);
        let mut tallies = vec![];
        while let Ok(t) = rx.try_recv() {
            tallies.push(serde_json::from_str::<Tally>(t.as_str()).unwrap());
        }
        assert_eq!(tallies.len(), 2);
        assert_eq!((tallies[0].round, tallies[0].answered), (1, 2));
        assert_eq!(tallies[0].cells, vec![[0, 1, 1, 2], [0, 2, 2, 1]]);
        assert_eq!((tallies[1].round, tallies[1].answered), (2, 1));
        assert_eq!(tallies[1].cells, vec![[0, 2, 2, 1]]);
        assert_eq!(tallies[1].students, 2);
    }
}
