//! The live class server as clients meet it (`docs/CLASS-CONTRACT.md`): the
//! real binary (`backprop-viz class --bind 127.0.0.1 --port 0`) driven by
//! real WebSocket clients (sync tungstenite, with read timeouts) and raw
//! HTTP. Every limit is reached for real; clients that must come from
//! different addresses bind to other loopback addresses (127.0.0.0/8).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tungstenite::protocol::WebSocketConfig;
use tungstenite::{Message, WebSocket};

const WAIT: Duration = Duration::from_secs(10);

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_backprop-viz"))
}

/// A running `backprop-viz class`; killed when dropped.
struct Server {
    child: Child,
    info: Value,
    db: PathBuf,
}

impl Server {
    fn start(db: &Path) -> Server {
        Server::start_with(db, &[])
    }

    fn start_with(db: &Path, extra: &[&str]) -> Server {
        let mut child = bin()
            .args(["class", "--bind", "127.0.0.1", "--port", "0", "--db"])
            .arg(db)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the binary starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the JSON line within a minute");
        let info: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("not one JSON line ({e}): {line:?}"));
        Server {
            child,
            info,
            db: db.to_path_buf(),
        }
    }

    fn code(&self) -> String {
        self.info["code"].as_str().unwrap().to_string()
    }

    fn token(&self) -> String {
        let url = self.info["teacher_url"].as_str().unwrap();
        url.split("&teacher=").nth(1).unwrap().to_string()
    }

    fn addr(&self) -> SocketAddr {
        let ws = self.info["ws"].as_str().unwrap();
        ws.trim_start_matches("ws://")
            .trim_end_matches("/ws")
            .parse()
            .unwrap()
    }

    fn signal(&mut self, signal: i32) -> ExitStatus {
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.child.id() as i32, signal);
        }
        let until = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < until, "the server did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn client(&self) -> Client {
        Client::connect(self.addr(), Ipv4Addr::LOCALHOST)
    }

    fn client_from(&self, source: Ipv4Addr) -> Client {
        Client::connect(self.addr(), source)
    }

    fn teacher(&self) -> Client {
        let mut t = self.client();
        t.send(json!({"type": "join", "code": self.code(), "teacher": self.token()}));
        let w = t.until_type("welcome");
        assert_eq!(w["role"], "teacher");
        t
    }

    /// A new student: its client, id and resume token.
    fn student(&self, name: Option<&str>) -> (Client, u64, String) {
        self.student_from(Ipv4Addr::LOCALHOST, name)
    }

    fn student_from(&self, source: Ipv4Addr, name: Option<&str>) -> (Client, u64, String) {
        let mut s = self.client_from(source);
        let mut join = json!({"type": "join", "code": self.code()});
        if let Some(name) = name {
            join["name"] = json!(name);
        }
        s.send(join);
        let w = s.until_type("welcome");
        assert_eq!(w["role"], "student", "{w}");
        let id = w["student"].as_u64().unwrap();
        let resume = w["resume"].as_str().unwrap().to_string();
        (s, id, resume)
    }

    fn report(&self, args: &[&str]) -> std::process::Output {
        bin()
            .args(["class-report", "--db"])
            .arg(&self.db)
            .args(args)
            .output()
            .unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A WebSocket client that remembers everything it received.
struct Client {
    ws: WebSocket<TcpStream>,
    seen: Vec<Value>,
}

/// A TCP connection to `to` from the loopback address `source`.
fn tcp_from(source: Ipv4Addr, to: SocketAddr) -> TcpStream {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap();
    let stream = rt.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind(SocketAddr::from((source, 0)))?;
        socket.connect(to).await?.into_std()
    });
    let stream = stream.unwrap_or_else(|e| panic!("connect from {source}: {e}"));
    stream.set_nonblocking(false).unwrap();
    stream
}

impl Client {
    fn connect(to: SocketAddr, source: Ipv4Addr) -> Client {
        let stream = tcp_from(source, to);
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let config = WebSocketConfig::default()
            .read_buffer_size(16 * 1024)
            .write_buffer_size(0);
        let (ws, _) =
            tungstenite::client::client_with_config(format!("ws://{to}/ws"), stream, Some(config))
                .expect("the WebSocket handshake");
        Client {
            ws,
            seen: Vec::new(),
        }
    }

    fn send(&mut self, msg: Value) {
        self.send_text(&msg.to_string());
    }

    fn send_text(&mut self, text: &str) {
        self.ws.send(Message::text(text)).expect("send");
    }

    /// The next message, or `None` when nothing came within `wait`.
    fn next_within(&mut self, wait: Duration) -> Option<Value> {
        self.ws.get_mut().set_read_timeout(Some(wait)).unwrap();
        loop {
            match self.ws.read() {
                Ok(Message::Text(t)) => {
                    let v: Value = serde_json::from_str(t.as_str()).expect("JSON from the server");
                    self.seen.push(v.clone());
                    return Some(v);
                }
                Ok(Message::Close(frame)) => panic!("closed by the server: {frame:?}"),
                Ok(_) => continue,
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return None
                }
                Err(e) => panic!("reading: {e}"),
            }
        }
    }

    /// Reads until a message satisfies `f` (the others are kept in `seen`).
    fn until(&mut self, what: &str, f: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_within(left.max(Duration::from_millis(1))) {
                Some(v) if f(&v) => return v,
                Some(_) => {}
                None => panic!("no {what} within the timeout; seen: {:?}", self.seen),
            }
        }
    }

    fn until_type(&mut self, t: &str) -> Value {
        self.until(t, |v| v["type"] == t)
    }

    /// The next message must be an error with this code.
    fn error(&mut self, code: &str) -> Value {
        let v = self.until("an error", |v| v["type"] == "error");
        assert_eq!(v["code"], code, "{v}");
        v
    }

    /// Everything that arrives within `wait`.
    fn drain(&mut self, wait: Duration) -> Vec<Value> {
        let mut out = Vec::new();
        while let Some(v) = self.next_within(wait) {
            out.push(v);
        }
        out
    }

    /// Reads until the server closes; its close code (None: the connection
    /// ended without a close frame).
    fn close_code(&mut self) -> Option<u16> {
        self.ws.get_mut().set_read_timeout(Some(WAIT)).unwrap();
        loop {
            match self.ws.read() {
                Ok(Message::Close(frame)) => return frame.map(|f| u16::from(f.code)),
                Ok(Message::Text(t)) => self.seen.push(serde_json::from_str(t.as_str()).unwrap()),
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    panic!("the server did not close the connection")
                }
                Err(_) => return None,
            }
        }
    }

    fn answer(&mut self, question: &str, round: u8, value: Value) {
        self.send(json!({"type": "answer", "question": question, "round": round, "value": value}));
    }

    fn acked(&mut self, question: &str, round: u8) {
        let ack = self.until("an ack", |v| v["type"] == "ack" || v["type"] == "error");
        assert_eq!(
            ack,
            json!({"type": "ack", "question": question, "round": round})
        );
    }
}

fn open(teacher: &mut Client, id: &str, kind: &str, options: &[&str]) {
    teacher.send(json!({"type": "open", "question": id, "kind": kind,
        "step": "preset=seed&seed=1&step=2", "options": options}));
}

/// The teacher's tallies until one for `question`/`round` shows `answered`.
fn tally_until(teacher: &mut Client, question: &str, round: u8, answered: u64) -> Value {
    teacher.until(
        &format!("a tally of {answered} for {question} round {round}"),
        |v| {
            v["type"] == "tally"
                && v["question"] == question
                && v["round"] == round
                && v["answered"] == answered
        },
    )
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn the_json_line_names_the_class() {
    let dir = tmp();
    let server = Server::start(&dir.path().join("c.sqlite"));
    let info = &server.info;
    let keys: Vec<&String> = info.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 5, "{info}");
    let code = server.code();
    assert!(
        code.len() == 6
            && code
                .bytes()
                .all(|b| b"ABCDEFGHJKMNPQRSTUVWXYZ23456789".contains(&b)),
        "{code}"
    );
    let token = server.token();
    assert!(token.len() >= 32 && token.bytes().all(|b| b.is_ascii_alphanumeric()));
    let port = server.addr().port();
    assert_eq!(
        info["url"],
        format!("http://127.0.0.1:{port}/#class={code}")
    );
    assert_eq!(
        info["teacher_url"],
        format!("http://127.0.0.1:{port}/#class={code}&teacher={token}")
    );
    assert_eq!(info["ws"], format!("ws://127.0.0.1:{port}/ws"));
    assert!(info["db"].as_str().unwrap().ends_with("c.sqlite"));
}

#[test]
fn one_question_from_open_to_reveal() {
    let dir = tmp();
    let server = Server::start(&dir.path().join("c.sqlite"));
    let mut teacher = server.teacher();
    assert_eq!(teacher.seen[0]["student"], 0);
    assert_eq!(teacher.seen[0]["question"], Value::Null);
    assert_eq!(teacher.seen[0]["moment"], Value::Null);

    let (mut ann, ann_id, ann_token) = server.student(Some("  Ann  "));
    let (mut bo, bo_id, _) = server.student(Some("Bo"));
    assert_eq!((ann_id, bo_id), (1, 2));
    assert_eq!(ann_token.len(), 32);

    // The moment reaches every student.
    teacher.send(json!({"type": "moment", "link": "preset=seed&seed=1&step=3"}));
    for s in [&mut ann, &mut bo] {
        let m = s.until_type("moment");
        assert_eq!(
            m,
            json!({"type": "moment", "link": "preset=seed&seed=1&step=3"})
        );
    }

    // The question, then its tally to the teacher at once.
    open(&mut teacher, "q1", "df-sign", &["+", "-"]);
    for s in [&mut ann, &mut bo] {
        let q = s.until_type("question");
        assert_eq!(
            q,
            json!({"type": "question", "question": "q1", "kind": "df-sign",
                   "step": "preset=seed&seed=1&step=2", "options": ["+", "-"], "round": 1})
        );
    }
    let t = tally_until(&mut teacher, "q1", 1, 0);
    assert_eq!(t["students"], 2);
    assert_eq!(t["options"], json!({"+": 0, "-": 0}));

    // Answers are acknowledged; the last one counts.
    ann.answer("q1", 1, json!("+"));
    ann.acked("q1", 1);
    bo.answer("q1", 1, json!("-"));
    bo.acked("q1", 1);
    bo.answer("q1", 1, json!("+"));
    bo.acked("q1", 1);
    let t = tally_until(&mut teacher, "q1", 1, 2);
    assert_eq!(t["options"], json!({"+": 2, "-": 0}));
    assert_eq!(t["cells"], json!([]));

    // A value that is not an option, a round that is not open.
    ann.answer("q1", 1, json!("x"));
    ann.error("bad-message");
    ann.answer("q1", 2, json!("+"));
    ann.error("closed");
    ann.answer("q0", 1, json!("+"));
    ann.error("closed");

    // Round 2 is kept apart from round 1.
    teacher.send(json!({"type": "revote", "question": "q1"}));
    for s in [&mut ann, &mut bo] {
        assert_eq!(
            s.until_type("revote"),
            json!({"type": "revote", "question": "q1"})
        );
    }
    let r1 = tally_until(&mut teacher, "q1", 1, 2);
    assert_eq!(r1["options"], json!({"+": 2, "-": 0}));
    tally_until(&mut teacher, "q1", 2, 0);
    ann.answer("q1", 1, json!("-"));
    ann.error("closed");
    ann.answer("q1", 2, json!("-"));
    ann.acked("q1", 2);
    let r2 = tally_until(&mut teacher, "q1", 2, 1);
    assert_eq!(r2["options"], json!({"+": 0, "-": 1}));

    // Close: the round closes for everyone.
    teacher.send(json!({"type": "close", "question": "q1"}));
    for s in [&mut ann, &mut bo] {
        assert_eq!(
            s.until_type("closed"),
            json!({"type": "closed", "question": "q1", "round": 2})
        );
    }
    bo.answer("q1", 2, json!("+"));
    bo.error("closed");
    teacher.send(json!({"type": "close", "question": "q1"}));
    teacher.error("closed");
    teacher.send(json!({"type": "revote", "question": "q1"}));
    teacher.error("closed");

    // Reveal reaches every student; an answer that is no option is refused.
    teacher.send(json!({"type": "reveal", "question": "q1", "answer": "?"}));
    teacher.error("bad-message");
    teacher.send(json!({"type": "reveal", "question": "q1", "answer": "+"}));
    for s in [&mut ann, &mut bo] {
        assert_eq!(
            s.until_type("reveal"),
            json!({"type": "reveal", "question": "q1", "answer": "+"})
        );
    }
    teacher.send(json!({"type": "reveal", "question": "q1", "answer": "+"}));
    teacher.error("closed");

    // A question of cells: every click counted on the teacher's tally.
    open(&mut teacher, "q2", "pool-winner", &[]);
    ann.until_type("question");
    bo.until_type("question");
    ann.answer("q2", 1, json!([[0, 2, 2], [0, 1, 1]]));
    ann.acked("q2", 1);
    bo.answer("q2", 1, json!([[0, 1, 1]]));
    bo.acked("q2", 1);
    let t = tally_until(&mut teacher, "q2", 1, 2);
    assert_eq!(t["cells"], json!([[0, 1, 1, 2], [0, 2, 2, 1]]));
    assert_eq!(t["options"], json!({}));
    bo.answer("q2", 1, json!([[0, 1, 1], [0, 1, 1]]));
    bo.error("bad-message");
    let many: Vec<Value> = (0..65).map(|i| json!([0, 0, i])).collect();
    bo.answer("q2", 1, Value::Array(many));
    bo.error("bad-message");
    bo.answer("q2", 1, json!("+"));
    bo.error("bad-message");
    bo.answer("q2", 1, json!("none"));
    bo.acked("q2", 1);
    let t = tally_until(&mut teacher, "q2", 1, 2);
    assert_eq!(t["cells"], json!([[0, 1, 1, 1], [0, 2, 2, 1]]));
    assert_eq!(t["options"], json!({"none": 1}));

    // A student's page that reconnects resumes: the same id, its answers.
    let mut again = server.client();
    again.send(json!({"type": "join", "code": server.code(), "resume": ann_token}));
    let w = again.until_type("welcome");
    assert_eq!(w["student"], ann_id);
    assert_eq!(w["resume"], ann_token.as_str());
    assert_eq!(w["moment"], "preset=seed&seed=1&step=3");
    assert_eq!(w["question"]["question"], "q2");
    assert_eq!(w["question"]["round"], 1);
    assert_eq!(
        w["answers"],
        json!([{"round": 1, "value": [[0, 1, 1], [0, 2, 2]]}])
    );

    // No student ever saw a tally, another's answer or name.
    for s in [&mut ann, &mut bo, &mut again] {
        s.drain(Duration::from_millis(300));
        for v in &s.seen {
            assert_ne!(v["type"], "tally", "{v}");
            let text = v.to_string();
            assert!(!text.contains("Ann") && !text.contains("Bo"), "{text}");
        }
    }
    // Bo never saw Ann's cells (2,2) except as nothing at all.
    assert!(bo.seen.iter().all(|v| !v.to_string().contains("[0,2,2]")));

    // The report: both rounds, right answers against the reveal, the shift.
    let out = server.report(&["--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["students"], 2);
    assert_eq!(report["questions"], 2);
    let rows = report["rows"].as_array().unwrap();
    let brief: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!([
                r["question"],
                r["round"],
                r["students"],
                r["answered"],
                r["correct"],
                r["share_correct"],
                r["shift"]
            ])
        })
        .collect();
    assert_eq!(
        brief,
        vec![
            json!(["q1", 1, 2, 2, 2, 1.0, null]),
            json!(["q1", 2, 2, 1, 0, 0.0, -1.0]),
            json!(["q2", 1, 2, 2, null, null, null]),
        ]
    );
    assert!(report.get("answers").is_none(), "names only when asked");
    let out = server.report(&["--csv"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "question,kind,round,students,answered,correct,share_correct,shift\n\
         q1,df-sign,1,2,2,2,1,\n\
         q1,df-sign,2,2,1,0,0,-1\n\
         q2,pool-winner,1,2,2,,,\n"
    );
    let out = server.report(&["--names"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("Ann") && text.contains("Bo"),
        "{text}"
    );
    let out = server.report(&[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("-100 pts") && !text.contains("Ann"), "{text}");
}

/// The projector counts the room before any question: `room` on the
/// teacher's welcome, then as students join, leave and come back.
#[test]
fn the_teacher_hears_who_is_in_the_room() {
    let dir = tmp();
    let server = Server::start(&dir.path().join("c.sqlite"));
    let mut teacher = server.teacher();
    let room = teacher.until_type("room");
    assert_eq!(room, json!({"type": "room", "students": 0, "connected": 0}));

    let (ann, _, ann_token) = server.student(Some("Ann"));
    let (_bo, _, _) = server.student(None);
    teacher.until("two joined and here", |v| {
        v["type"] == "room" && v["students"] == 2 && v["connected"] == 2
    });
    // A student's page never hears who is in the room.
    let (mut cy, _, _) = server.student(None);
    assert!(cy
        .drain(Duration::from_millis(600))
        .iter()
        .all(|v| v["type"] != "room"));

    drop(ann);
    teacher.until("Ann gone", |v| {
        v["type"] == "room" && v["students"] == 3 && v["connected"] == 2
    });
    let mut back = server.client();
    back.send(json!({"type": "join", "code": server.code(), "resume": ann_token}));
    back.until_type("welcome");
    teacher.until("Ann back", |v| {
        v["type"] == "room" && v["students"] == 3 && v["connected"] == 3
    });
    // A second teacher screen gets the count with its welcome.
    let mut second = server.teacher();
    assert_eq!(
        second.until_type("room"),
        json!({"type": "room", "students": 3, "connected": 3})
    );
}

#[test]
fn a_student_cannot_drive_the_class() {
    let dir = tmp();
    let server = Server::start(&dir.path().join("c.sqlite"));
    // Before joining, only join is allowed.
    let mut early = server.client();
    early.answer("q1", 1, json!("+"));
    early.error("forbidden");
    early.send(json!({"type": "open", "question": "q", "kind": "k", "step": "", "options": []}));
    early.error("forbidden");

    let mut teacher = server.teacher();
    let (mut s, _, _) = server.student(None);
    for msg in [
        json!({"type": "moment", "link": "preset=seed&step=9"}),
        json!({"type": "open", "question": "q9", "kind": "df-sign", "step": "", "options": ["+"]}),
        json!({"type": "close", "question": "q1"}),
        json!({"type": "revote", "question": "q1"}),
        json!({"type": "reveal", "question": "q1", "answer": "+"}),
    ] {
        s.send(msg);
        s.error("forbidden");
    }
    s.send(json!({"type": "join", "code": server.code()}));
    s.error("bad-message");
    // A teacher does not answer.
    open(&mut teacher, "q1", "df-sign", &["+", "-"]);
    s.until_type("question");
    teacher.answer("q1", 1, json!("+"));
    teacher.error("forbidden");
    // Nothing the student sent moved the class.
    let mut w = server.client();
    w.send(json!({"type": "join", "code": server.code(), "teacher": server.token()}));
    let welcome = w.until_type("welcome");
    assert_eq!(welcome["moment"], Value::Null);
    assert_eq!(welcome["question"]["question"], "q1");
    assert_eq!(welcome["question"]["round"], 1);
    let t = w.until_type("tally");
    assert_eq!(
        (t["answered"].clone(), t["students"].clone()),
        (json!(0), json!(1))
    );
}

#[test]
fn bad_messages_leave_the_connection_open() {
    let dir = tmp();
    let server = Server::start(&dir.path().join("c.sqlite"));
    let mut c = server.client();
    for bad in [
        "not json",
        r#"{"type":"shout"}"#,
        r#"{"code":"ABC234"}"#,
        r#"{"type":"join","code":7}"#,
        r#"{"type":"answer","question":"q","round":"1","value":"+"}"#,
        r#"{"type":"answer","question":"q","round":1,"value":{"x":1}}"#,
    ] {
        c.send_text(bad);
        c.error("bad-message");
    }
    c.ws.send(Message::binary(vec![1, 2, 3])).unwrap();
    c.error("bad-message");
    // Unknown fields are ignored; the connection still works.
    c.send(json!({"type": "join", "code": server.code(), "extra": [1, 2]}));
    assert_eq!(c.until_type("welcome")["student"], 1);
}

#[test]
fn wrong_codes_and_tokens() {
    let dir = tmp();
    let server = Server::start(&dir.path().join("c.sqlite"));
    let source = Ipv4Addr::new(127, 0, 0, 21);
    let mut c = server.client_from(source);
    let wrong = if server.code() == "ZZZZZZ" {
        "YYYYYY"
    } else {
        "ZZZZZZ"
    };
    c.send(json!({"type": "join", "code": wrong}));
    c.error("bad-code");
    c.send(json!({"type": "join", "code": server.code(), "teacher": "0".repeat(32)}));
    c.error("bad-code");
    for _ in 0..3 {
        c.send(json!({"type": "join", "code": wrong}));
        c.error("bad-code");
    }
    // Five wrong in a minute: the address is refused, even with the right
    // code, for the rest of the minute.
    c.send(json!({"type": "join", "code": wrong}));
    c.error("too-many");
    c.send(json!({"type": "join", "code": server.code()}));
    c.error("too-many");
    let mut other = server.client_from(source);
    other.send(json!({"type": "join", "code": server.code()}));
    other.error("too-many");
    // Another address is not affected.
    let (_s, id, _) = server.student_from(Ipv4Addr::new(127, 0, 0, 22), None);
    assert_eq!(id, 1);
}

#[test]
fn ten_joins_a_second_per_address() {
    let dir = tmp();
    let server = Server::start(&dir.path().join("c.sqlite"));
    let source = Ipv4Addr::new(127, 0, 0, 31);
    let mut clients: Vec<Client> = (0..11).map(|_| server.client_from(source)).collect();
    // All joins leave within a few milliseconds of each other.
    for c in clients.iter_mut() {
        c.send(json!({"type": "join", "code": server.code()}));
    }
    let mut welcomed = 0;
    let mut refused = 0;
    for c in clients.iter_mut() {
        let v = c.until("a welcome or an error", |v| {
            v["type"] == "welcome" || v["type"] == "error"
        });
        match v["type"].as_str() {
            Some("welcome") => welcomed += 1,
            _ => {
                assert_eq!(v["code"], "too-many", "{v}");
                refused += 1;
            }
        }
    }
    assert_eq!((welcomed, refused), (10, 1));
    // A second later the address may join again.
    std::thread::sleep(Duration::from_millis(1100));
    let (_s, id, _) = server.student_from(source, None);
    assert_eq!(id, 11);
}

#[test]
fn a_message_over_4_kib_closes_the_connection() {
    let dir = tmp();
    let server = Server::start(&dir.path().join("c.sqlite"));
    let mut teacher = server.teacher();
    // Exactly 4096 bytes is allowed.
    let head = r#"{"type":"moment","link":""#;
    let link = "a".repeat(4096 - head.len() - 2);
    let exact = format!("{head}{link}\"}}");
    assert_eq!(exact.len(), 4096);
    teacher.send_text(&exact);
    assert_eq!(teacher.until_type("moment")["link"], link.as_str());
    // One byte more closes it with 1009.
    let over = format!("{head}{link}a\"}}");
    teacher.send_text(&over);
    assert_eq!(teacher.close_code(), Some(1009));
    // Far larger is refused before it is read (the close is best-effort).
    let mut c = server.client();
    let _ = c.ws.send(Message::text("x".repeat(1 << 20)));
    assert!(matches!(c.close_code(), Some(1009) | None));
    // The class is unharmed.
    let (_s, id, _) = server.student(None);
    assert_eq!(id, 1);
}

#[test]
fn twenty_one_messages_in_a_second_close_the_connection() {
    let dir = tmp();
    let server = Server::start(&dir.path().join("c.sqlite"));
    let (mut s, _, _) = server.student(None);
    // 21 messages at once: the 21st in any second is refused, and the
    // connection closed (the join counts too if it was under a second ago).
    let answer = json!({"type": "answer", "question": "nothing", "round": 1, "value": "+"});
    for _ in 0..21 {
        let _ = s.ws.send(Message::text(answer.to_string()));
    }
    let mut closed = 0;
    loop {
        let v = s.until("an error", |v| v["type"] == "error");
        if v["code"] == "too-many" {
            break;
        }
        assert_eq!(v["code"], "closed", "{v}");
        closed += 1;
    }
    assert!(
        closed == 19 || closed == 20,
        "{closed} answered before too-many"
    );
    assert_eq!(s.close_code(), Some(1008));
}

/// Writes a class of 999 students and 9,999 questions straight into a
/// database the server made, so that the last places are reached with a
/// few connections instead of a thousand.
fn fill(db: &Path) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute_batch("BEGIN").unwrap();
    for id in 1..=999 {
        conn.execute(
            "INSERT INTO students (id, token, name, joined) VALUES (?1, ?2, NULL, 0)",
            rusqlite::params![id, format!("{id:032x}")],
        )
        .unwrap();
    }
    for seq in 1..=9999 {
        conn.execute(
            "INSERT INTO questions (id, seq, kind, step, options, round, rounds, answer, opened)
             VALUES (?1, ?2, 'df-sign', '', '[\"+\",\"-\"]', 0, 1, NULL, 0)",
            rusqlite::params![format!("old{seq}"), seq],
        )
        .unwrap();
    }
    conn.execute_batch("COMMIT").unwrap();
}

#[test]
fn a_thousand_students_and_ten_thousand_questions_at_most() {
    let dir = tmp();
    let db = dir.path().join("c.sqlite");
    let mut first = Server::start(&db);
    assert!(first.signal(libc::SIGTERM).success());
    let code = first.code();
    drop(first);
    fill(&db);
    let server = Server::start(&db);
    assert_eq!(server.code(), code);
    let mut teacher = server.teacher();
    let (_last, id, _) = server.student(None);
    assert_eq!(id, 1000);
    let mut c = server.client_from(Ipv4Addr::new(127, 0, 0, 41));
    c.send(json!({"type": "join", "code": server.code()}));
    c.error("full");
    // Someone already in the class comes back even when it is full.
    c.send(json!({"type": "join", "code": server.code(), "resume": format!("{:032x}", 7)}));
    assert_eq!(c.until_type("welcome")["student"], 7);
    open(&mut teacher, "q10000", "df-sign", &["+", "-"]);
    let t = tally_until(&mut teacher, "q10000", 1, 0);
    assert_eq!(t["students"], 1000);
    open(&mut teacher, "q10001", "df-sign", &["+", "-"]);
    teacher.error("full");
    // Nothing changed: q10000 is still the open question.
    let mut t2 = server.client();
    t2.send(json!({"type": "join", "code": server.code(), "teacher": server.token()}));
    assert_eq!(t2.until_type("welcome")["question"]["question"], "q10000");
}

/// This process holds a thousand sockets: the soft limit on open files
/// (often 1,024) is raised to the hard one.
fn raise_file_limit() {
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            let wanted = limit.rlim_max.min(65_536);
            if limit.rlim_cur < wanted {
                limit.rlim_cur = wanted;
                libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
            }
        }
    }
}

#[test]
fn a_thousand_real_students_fill_the_class() {
    raise_file_limit();
    let dir = tmp();
    let server = Server::start(&dir.path().join("c.sqlite"));
    let mut teacher = server.teacher();
    // 100 addresses, 10 students each: the joins-per-address limit holds.
    let mut students: Vec<Client> = (0..1000)
        .map(|i| {
            server.client_from(Ipv4Addr::new(
                127,
                1,
                (i / 10 / 250) as u8,
                (i / 10 % 250 + 1) as u8,
            ))
        })
        .collect();
    for s in students.iter_mut() {
        s.send(json!({"type": "join", "code": server.code()}));
    }
    let mut ids: Vec<u64> = students
        .iter_mut()
        .map(|s| s.until_type("welcome")["student"].as_u64().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, (1..=1000).collect::<Vec<u64>>());
    let mut late = server.client_from(Ipv4Addr::new(127, 1, 9, 9));
    late.send(json!({"type": "join", "code": server.code()}));
    late.error("full");
    // Every one of them gets the question and is acknowledged.
    let opened = Instant::now();
    open(&mut teacher, "q1", "df-sign", &["+", "-"]);
    for s in students.iter_mut() {
        s.until_type("question");
    }
    for (i, s) in students.iter_mut().enumerate() {
        s.answer("q1", 1, json!(if i % 4 == 0 { "-" } else { "+" }));
    }
    for s in students.iter_mut() {
        s.acked("q1", 1);
    }
    let t = tally_until(&mut teacher, "q1", 1, 1000);
    assert_eq!(t["students"], 1000);
    assert_eq!(t["options"], json!({"+": 750, "-": 250}));
    // While answers arrive, a tally at most every 200 ms (besides the one
    // right after the open).
    let elapsed = opened.elapsed().as_millis() as usize;
    let tallies = teacher
        .seen
        .iter()
        .filter(|v| v["type"] == "tally" && v["question"] == "q1")
        .count();
    assert!(
        tallies <= 2 + elapsed / 200,
        "{tallies} tallies in {elapsed} ms"
    );
}

/// A raw HTTP/1.1 request: the status, the headers (lower-case) and the body.
fn http(addr: SocketAddr, request_line: &str) -> (u16, String, Vec<u8>) {
    http_with(addr, request_line, "")
}

/// [`http`] with more header lines (each ending in `\r\n`).
fn http_with(addr: SocketAddr, request_line: &str, headers: &str) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    write!(
        s,
        "{request_line}\r\nHost: x\r\n{headers}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header");
    let head = String::from_utf8_lossy(&raw[..split]).to_lowercase();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head, raw[split + 4..].to_vec())
}

#[test]
fn http_serves_the_site_and_nothing_else() {
    let dir = tmp();
    let site = dir.path().join("site");
    std::fs::create_dir_all(site.join("data")).unwrap();
    std::fs::write(site.join("index.html"), "<h1>the app</h1>").unwrap();
    std::fs::write(site.join("app_bg.wasm"), b"\0asm").unwrap();
    std::fs::write(site.join("app.js"), "export {}").unwrap();
    std::fs::write(site.join("data/train.gz"), b"\x1f\x8b").unwrap();
    std::fs::write(site.join(".secret"), "no").unwrap();
    std::fs::write(dir.path().join("outside.txt"), "private").unwrap();
    std::os::unix::fs::symlink(dir.path().join("outside.txt"), site.join("escape.txt")).unwrap();
    std::os::unix::fs::symlink(dir.path(), site.join("up")).unwrap();
    let server = Server::start_with(
        &dir.path().join("c.sqlite"),
        &["--site", site.to_str().unwrap()],
    );
    let addr = server.addr();
    let (status, head, body) = http(addr, "GET / HTTP/1.1");
    assert_eq!(status, 200);
    assert!(head.contains("content-type: text/html"), "{head}");
    assert_eq!(body, b"<h1>the app</h1>");
    for (path, kind) in [
        ("/index.html", "text/html"),
        ("/app_bg.wasm", "application/wasm"),
        ("/app.js", "text/javascript"),
        ("/data/train.gz", "application/gzip"),
    ] {
        let (status, head, _) = http(addr, &format!("GET {path} HTTP/1.1"));
        assert_eq!(status, 200, "{path}");
        assert!(
            head.contains(&format!("content-type: {kind}")),
            "{path}: {head}"
        );
    }
    for path in [
        "/../outside.txt",
        "/data/../../outside.txt",
        "/%2e%2e/outside.txt",
        "/escape.txt",
        "/up/outside.txt",
        "/.secret",
        "/data",
        "/data/",
        "/nothing.html",
        "/Cargo.toml",
    ] {
        let (status, _, body) = http(addr, &format!("GET {path} HTTP/1.1"));
        assert_eq!(status, 404, "{path}");
        assert!(
            !String::from_utf8_lossy(&body).contains("private"),
            "{path}"
        );
    }
    let (status, _, _) = http(addr, "POST / HTTP/1.1");
    assert_eq!(status, 404);
    // `/ws` without the upgrade is refused, not a page.
    let (status, _, body) = http(addr, "GET /ws HTTP/1.1");
    assert!((400..500).contains(&status), "{status}");
    assert!(!String::from_utf8_lossy(&body).contains("the app"));
}

/// A header's value in [`http`]'s lower-case head.
fn header_of(head: &str, name: &str) -> Option<String> {
    head.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        (n.trim() == name).then(|| v.trim().to_string())
    })
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("valid gzip");
    out
}

#[test]
fn http_sends_text_and_code_gzipped_to_who_takes_it() {
    let dir = tmp();
    let site = dir.path().join("site");
    std::fs::create_dir_all(site.join("data/mnist")).unwrap();
    // Like a wasm: a header, then code that repeats itself, some of it noise.
    let mut wasm = b"\0asm\x01\0\0\0".to_vec();
    for i in 0..60_000u32 {
        wasm.extend_from_slice(&[
            0x20,
            (i % 7) as u8,
            0x41,
            (i.wrapping_mul(2_654_435_761) >> 24) as u8,
        ]);
    }
    let page = "<!doctype html><p>the app</p>\n".repeat(40);
    let mnist = gzip(&vec![7u8; 50_000]);
    let png = b"\x89PNG\r\n\x1a\n".repeat(64);
    std::fs::write(site.join("index.html"), &page).unwrap();
    std::fs::write(site.join("app_bg.wasm"), &wasm).unwrap();
    std::fs::write(site.join("data/mnist/t10k-labels-idx1-ubyte.gz"), &mnist).unwrap();
    std::fs::write(site.join("icon.png"), &png).unwrap();
    let server = Server::start_with(
        &dir.path().join("c.sqlite"),
        &["--site", site.to_str().unwrap()],
    );
    let addr = server.addr();
    let length = |head: &str| -> usize {
        header_of(head, "content-length")
            .expect("a content-length")
            .parse()
            .unwrap()
    };

    // Gzip, twice (the second from the kept copy): the same bytes, which
    // gunzip to the file; the type stays application/wasm.
    let mut sent = None;
    for accept in [
        "gzip, deflate, br",
        "br;q=1.0, gzip;q=0.5",
        "*",
        "br, *;q=0.1",
    ] {
        let (status, head, body) = http_with(
            addr,
            "GET /app_bg.wasm HTTP/1.1",
            &format!("Accept-Encoding: {accept}\r\n"),
        );
        assert_eq!(status, 200, "{accept}");
        assert_eq!(
            header_of(&head, "content-encoding").as_deref(),
            Some("gzip"),
            "{accept}: {head}"
        );
        assert_eq!(
            header_of(&head, "content-type").as_deref(),
            Some("application/wasm")
        );
        assert_eq!(header_of(&head, "vary").as_deref(), Some("accept-encoding"));
        assert_eq!(length(&head), body.len(), "{accept}");
        assert!(
            body.len() < wasm.len() / 2,
            "{} of {}",
            body.len(),
            wasm.len()
        );
        assert_eq!(gunzip(&body), wasm, "{accept}");
        if let Some(before) = &sent {
            assert_eq!(&body, before, "one copy");
        }
        sent = Some(body);
    }
    let gzipped = sent.unwrap();
    // Not taken: as it is, with Vary all the same.
    for accept in [
        None,
        Some("gzip;q=0"),
        Some("identity"),
        Some("br, deflate"),
        Some("*;q=0.5, gzip;q=0"),
        Some(""),
    ] {
        let headers = accept.map_or(String::new(), |a| format!("Accept-Encoding: {a}\r\n"));
        let (status, head, body) = http_with(addr, "GET /app_bg.wasm HTTP/1.1", &headers);
        assert_eq!(status, 200, "{accept:?}");
        assert_eq!(
            header_of(&head, "content-encoding"),
            None,
            "{accept:?}: {head}"
        );
        assert_eq!(header_of(&head, "vary").as_deref(), Some("accept-encoding"));
        assert_eq!(length(&head), wasm.len());
        assert_eq!(body, wasm, "{accept:?}");
    }
    // HEAD says what GET would send.
    let (status, head, body) = http_with(
        addr,
        "HEAD /app_bg.wasm HTTP/1.1",
        "Accept-Encoding: gzip\r\n",
    );
    assert_eq!(status, 200);
    assert_eq!(
        header_of(&head, "content-encoding").as_deref(),
        Some("gzip")
    );
    assert_eq!(length(&head), gzipped.len());
    assert!(body.is_empty());
    let (_, head, body) = http_with(addr, "HEAD /app_bg.wasm HTTP/1.1", "");
    assert_eq!(header_of(&head, "content-encoding"), None);
    assert_eq!(length(&head), wasm.len());
    assert!(body.is_empty());
    // The page too.
    let (_, head, body) = http_with(addr, "GET / HTTP/1.1", "Accept-Encoding: gzip\r\n");
    assert_eq!(
        header_of(&head, "content-encoding").as_deref(),
        Some("gzip")
    );
    assert_eq!(length(&head), body.len());
    assert_eq!(gunzip(&body), page.as_bytes());
    // MNIST's .gz and the PNG: never encoded, byte for byte the file.
    for (path, file, kind) in [
        (
            "/data/mnist/t10k-labels-idx1-ubyte.gz",
            &mnist,
            "application/gzip",
        ),
        ("/icon.png", &png, "image/png"),
    ] {
        let (status, head, body) = http_with(
            addr,
            &format!("GET {path} HTTP/1.1"),
            "Accept-Encoding: gzip, deflate\r\n",
        );
        assert_eq!(status, 200, "{path}");
        assert_eq!(header_of(&head, "content-encoding"), None, "{path}: {head}");
        assert_eq!(header_of(&head, "content-type").as_deref(), Some(kind));
        assert_eq!(length(&head), file.len(), "{path}");
        assert_eq!(&body, file, "{path}");
    }
}

#[test]
fn killed_mid_question_it_loses_no_acknowledged_answer() {
    let dir = tmp();
    let db = dir.path().join("c.sqlite");
    let mut server = Server::start(&db);
    let (code, token) = (server.code(), server.token());
    let mut teacher = server.teacher();
    open(&mut teacher, "q1", "df-sign", &["+", "-"]);
    let mut students = Vec::new();
    for i in 0..6 {
        let (mut s, id, resume) = server.student(None);
        assert_eq!(s.seen[0]["question"]["question"], "q1");
        let value = if i % 3 == 0 { "-" } else { "+" };
        s.answer("q1", 1, json!(value));
        s.acked("q1", 1);
        students.push((id, resume, value));
    }
    // The first one changes its mind; acknowledged, it must survive too.
    let (mut s, id0, resume0) = server.student(None);
    s.answer("q1", 1, json!("-"));
    s.acked("q1", 1);
    s.answer("q1", 1, json!("+"));
    s.acked("q1", 1);
    students.push((id0, resume0, "+"));
    let status = server.signal(libc::SIGKILL);
    assert!(!status.success());
    drop(server);

    let server = Server::start(&db);
    assert_eq!(server.code(), code, "the same code");
    assert_eq!(server.token(), token, "the same teacher token");
    let mut teacher = server.client();
    teacher.send(json!({"type": "join", "code": code, "teacher": token}));
    let w = teacher.until_type("welcome");
    assert_eq!(w["question"]["question"], "q1", "{w}");
    assert_eq!(w["question"]["round"], 1, "still open");
    let t = teacher.until_type("tally");
    assert_eq!(t["answered"], 7);
    assert_eq!(t["students"], 7);
    assert_eq!(t["options"], json!({"+": 5, "-": 2}));
    for (id, resume, value) in &students {
        let mut s = server.client();
        s.send(json!({"type": "join", "code": code, "resume": resume}));
        let w = s.until_type("welcome");
        assert_eq!(w["student"], *id);
        assert_eq!(w["answers"], json!([{"round": 1, "value": value}]));
        // The question is still open to them.
        s.answer("q1", 1, json!(value));
        s.acked("q1", 1);
    }
    let out = server.report(&["--json"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["rows"][0]["answered"], 7, "{report}");
}

#[test]
fn sigterm_stops_cleanly_and_the_class_resumes() {
    let dir = tmp();
    let db = dir.path().join("c.sqlite");
    let mut server = Server::start(&db);
    let code = server.code();
    let mut teacher = server.teacher();
    open(&mut teacher, "q1", "df-sign", &["+", "-"]);
    let (mut s, _, _) = server.student(None);
    s.answer("q1", 1, json!("+"));
    s.acked("q1", 1);
    assert_eq!(server.signal(libc::SIGTERM).code(), Some(0));
    // Every connection was told (1001, going away).
    assert_eq!(s.close_code(), Some(1001));
    drop(server);
    // The report reads the closed class without changing a byte of it.
    let before = std::fs::read(&db).unwrap();
    let out = bin()
        .args(["class-report", "--db"])
        .arg(&db)
        .arg("--csv")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("q1,df-sign,1,1,1,,,"));
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the report changed the database"
    );
    let beside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(beside, vec!["c.sqlite"], "no -wal or -shm left behind");
    let server = Server::start(&db);
    assert_eq!(server.code(), code);
}

/// Bad input: exit 2 and one `error:` line.
fn assert_user_error(o: &std::process::Output, needle: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.starts_with("error:"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains(needle), "{needle:?} not in {err}");
}

#[test]
fn bad_input_is_one_error_line() {
    let dir = tmp();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "just some notes").unwrap();
    let o = bin()
        .args(["class", "--bind", "127.0.0.1", "--port", "0", "--db"])
        .arg(&text)
        .output()
        .unwrap();
    assert_user_error(&o, "not a backprop-viz class database");
    let o = bin()
        .args(["class-report", "--db"])
        .arg(&text)
        .output()
        .unwrap();
    assert_user_error(&o, "not a backprop-viz class database");
    let o = bin()
        .args(["class-report", "--db"])
        .arg(dir.path().join("missing.sqlite"))
        .output()
        .unwrap();
    assert_user_error(&o, "no such file");
    let o = bin()
        .args(["class", "--port", "0", "--db"])
        .arg(dir.path().join("c.sqlite"))
        .args(["--site"])
        .arg(dir.path().join("no-site"))
        .output()
        .unwrap();
    assert_user_error(&o, "no such folder");
    let o = bin()
        .args(["class-report", "--db"])
        .arg(&text)
        .args(["--json", "--csv"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}
