//! `backprop-viz class-load`: a room of simulated students on loopback
//! against a live class server (`docs/CLASS-CONTRACT.md`), measuring what
//! issue 19 asks of it: how long a student's answer takes to show in the
//! teacher's `tally`, how long to its `ack`, whether an acknowledged answer
//! is missing from the final tally, and the server's memory and CPU.
//!
//! One teacher and N students, each on its own WebSocket, join at the
//! contract's pace: at most 10 joins per second per address, and every
//! client here comes from 127.0.0.1, so 300 students take about half a
//! minute (the limits are kept, never relaxed). Then, question by question:
//!
//! - the teacher sends `moment` and `open`; questions alternate between one
//!   answered with an option (`df-sign`, `+` or `-`) and one answered with
//!   cells (`pool-winner`);
//! - each student, on receiving the `question`, answers after a random delay
//!   (0–1.5 s); a fraction (`--changes`) changes its answer once, 0.2–1 s
//!   later (at most 2 messages per round, far below 20 per second);
//! - the teacher waits until its latest `tally` for the round shows every
//!   answer as last given, then sends `close`; every third question it sends
//!   `revote` instead, the students answer round 2 the same way, and then
//!   `reveal`.
//!
//! Nothing here trusts the network: a message that cannot be read, an error
//! or a lost connection is counted and reported, never unwrapped.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::protocol::{
    is_code, ClientMsg, ErrorCode, Role, ServerMsg, Tally, Value, MAX_JOINS_PER_SECOND,
};

/// Students answer within this many seconds of receiving the question.
const ANSWER_SPREAD_S: f64 = 1.5;
/// A change comes this long after the student's first answer (seconds).
const CHANGE_AFTER_S: (f64, f64) = (0.2, 1.0);
/// One join every 110 ms: 9 a second, under the contract's 10 per address
/// with room for the scheduler's jitter.
const JOIN_EVERY: Duration = Duration::from_millis(1_100 / MAX_JOINS_PER_SECOND as u64);
/// A join refused as `too-many` (the server counted differently) is tried
/// again this much later, at most [`JOIN_TRIES`] times.
const JOIN_RETRY: Duration = Duration::from_millis(1_100);
const JOIN_TRIES: usize = 5;
/// Connecting and being welcomed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long past its last planned answer a round may take to show every
/// answer in the tally before the tool gives up on it (the missing answers
/// are then counted as lost or never acknowledged).
const ROUND_GRACE: Duration = Duration::from_secs(20);
/// The server started by the tool prints its line within this time.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Every random choice (delays, answers, who changes) comes from this seed.
const SEED: u64 = 19;
/// Cells a few students click besides their own (channel 0; the cells that
/// identify an answer are in channels 1 and up, see [`tracking_cell`]).
const HOT_CELLS: [[u32; 3]; 4] = [[0, 5, 5], [0, 5, 6], [0, 6, 5], [0, 6, 6]];
/// The side of the map the identifying cells are laid out on.
const MAP_SIDE: u32 = 24;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Why the load could not run (the server's behaviour under load is in the
/// [`Report`], not here).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct LoadError(pub String);

fn err(message: impl Into<String>) -> LoadError {
    LoadError(message.into())
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// The teacher's link (`http://HOST:PORT/#class=CODE&teacher=TOKEN`);
    /// `None`: start a server of our own (this same program's `class`).
    pub url: Option<String>,
    pub students: usize,
    pub questions: usize,
    /// The share of students who change their answer once in each round.
    pub changes: f64,
    /// The server's process, for its memory and CPU (found by itself when
    /// the tool starts the server).
    pub pid: Option<u32>,
}

/// What was measured. Times in milliseconds unless named `_s`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub students: usize,
    pub questions: usize,
    /// Rounds answered: one per question, two for every third.
    pub rounds: usize,
    /// Answer messages sent, changes included.
    pub answers: usize,
    /// Of those, the ones that changed an answer given before in the round.
    pub changed: usize,
    /// Students whose last answer of a round was acknowledged (all their
    /// answers of the round were) but is not in the round's final tally.
    pub lost: usize,
    /// Answer messages never acknowledged.
    pub unacked: usize,
    /// Answer messages no tally ever showed (not even by a later change of
    /// the same student): they have no latency.
    pub unseen: usize,
    /// Errors the server sent, connections it dropped, messages that could
    /// not be read.
    pub errors: usize,
    /// From sending an answer to the first teacher's tally showing it.
    pub latency_ms: Option<Percentiles>,
    /// From sending an answer to its `ack` (durable in the database).
    pub ack_ms: Option<Percentiles>,
    /// From the teacher's `open` (or `revote`) to a student receiving it.
    pub question_ms: Option<Percentiles>,
    /// The server's memory and CPU; `None` without its pid.
    pub server: Option<ServerUse>,
    /// Joining everyone (paced).
    pub join_s: f64,
    pub wall_s: f64,
    /// The first few errors, as the server or the socket said them.
    pub error_samples: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Percentiles {
    fn rounded(self) -> Percentiles {
        let r = |x| rounded(x, 1);
        Percentiles {
            p50: r(self.p50),
            p95: r(self.p95),
            p99: r(self.p99),
            max: r(self.max),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ServerUse {
    pub pid: u32,
    /// VmRSS at the end of the load, every connection still open.
    pub rss_mb: f64,
    /// VmHWM: the most it held at any time.
    pub peak_rss_mb: f64,
    /// CPU time over wall time while the questions ran (cores used).
    pub cpu_cores: f64,
    /// The busiest second of that.
    pub cpu_cores_peak: f64,
    /// CPU seconds the server used from the first join to the end.
    pub cpu_s: f64,
}

impl Report {
    /// Exit status: every answer acknowledged and none lost.
    pub fn ok(&self) -> bool {
        self.lost == 0 && self.unacked == 0
    }

    /// The human summary, a few lines.
    pub fn summary(&self) -> String {
        let ms = |p: &Option<Percentiles>| match p {
            Some(p) => format!(
                "p50 {:.0} ms, p95 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
                p.p50, p.p95, p.p99, p.max
            ),
            None => "none measured".into(),
        };
        let mut lines = vec![
            format!(
                "{} students, {} questions ({} rounds): {} answers sent, {} of them changes",
                self.students, self.questions, self.rounds, self.answers, self.changed
            ),
            format!("answer → teacher's tally: {}", ms(&self.latency_ms)),
            format!("answer → ack:             {}", ms(&self.ack_ms)),
            format!("open → student:           {}", ms(&self.question_ms)),
            format!(
                "lost {}, never acknowledged {}, never in a tally {}, errors {}",
                self.lost, self.unacked, self.unseen, self.errors
            ),
        ];
        lines.extend(self.error_samples.iter().map(|e| format!("  error: {e}")));
        match &self.server {
            Some(s) => lines.push(format!(
                "server (pid {}): RSS {:.1} MB (peak {:.1} MB), CPU {:.2} cores while answering (busiest second {:.2})",
                s.pid, s.rss_mb, s.peak_rss_mb, s.cpu_cores, s.cpu_cores_peak
            )),
            None => lines.push("server: not measured (give --pid)".into()),
        }
        lines.push(format!(
            "joining took {:.1} s; {:.1} s in all",
            self.join_s, self.wall_s
        ));
        lines.join("\n")
    }
}

/// Runs the whole load: starts a server when `config.url` is `None` (and
/// stops it at the end), joins, asks, measures. `progress` hears a line now
/// and then (joins, questions).
pub fn run(config: &Config, progress: &mut dyn FnMut(&str)) -> Result<Report, LoadError> {
    let started = Instant::now();
    let (server, target, pid) = match &config.url {
        Some(url) => (None, Target::parse(url)?, config.pid),
        None => {
            let server = Spawned::start()?;
            let mut target = Target::parse(&server.line.teacher_url)?;
            target.ws.clone_from(&server.line.ws);
            let pid = server.child.id();
            progress(&format!(
                "started the class server (pid {pid}) at {}",
                server.line.ws
            ));
            (Some(server), target, Some(pid))
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| err(format!("cannot start the async runtime: {e}")))?;
    let result = runtime.block_on(drive(config, &target, pid, started, progress));
    // The server (when ours) stops here: SIGTERM, then SIGKILL if it lingers.
    drop(server);
    result
}

/// Where the class is and how to join it.
#[derive(Debug, Clone, PartialEq)]
struct Target {
    /// `ws://HOST:PORT/ws`
    ws: String,
    code: String,
    teacher: String,
}

impl Target {
    /// Reads a teacher's link: `http://HOST:PORT/#class=CODE&teacher=TOKEN`
    /// (`https` gives `wss`). The WebSocket is `/ws` on the same host.
    fn parse(url: &str) -> Result<Target, LoadError> {
        let bad = |why: &str| err(format!("--url {url:?}: {why}"));
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("expected http://HOST:PORT/#class=CODE&teacher=TOKEN"))?;
        let ws_scheme = match scheme {
            "http" => "ws",
            "https" => "wss",
            _ => return Err(bad("expected an http:// or https:// link")),
        };
        let host = rest.split(['/', '#', '?']).next().unwrap_or_default();
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let fragment = rest
            .split_once('#')
            .map(|(_, f)| f)
            .ok_or_else(|| bad("no #class=CODE&teacher=TOKEN"))?;
        let mut code = None;
        let mut teacher = None;
        for pair in fragment.split('&') {
            match pair.split_once('=') {
                Some(("class", v)) => code = Some(v.to_string()),
                Some(("teacher", v)) => teacher = Some(v.to_string()),
                _ => {}
            }
        }
        let code = code.ok_or_else(|| bad("no class=CODE"))?;
        if !is_code(&code) {
            return Err(bad(
                "the class code is not 6 characters of the code alphabet",
            ));
        }
        let teacher = teacher
            .filter(|t| !t.is_empty())
            .ok_or_else(|| bad("no teacher=TOKEN: the teacher's link is needed"))?;
        Ok(Target {
            ws: format!("{ws_scheme}://{host}/ws"),
            code,
            teacher,
        })
    }
}

/// The line `backprop-viz class` prints when it is ready.
#[derive(Debug, Deserialize)]
struct StartLine {
    teacher_url: String,
    ws: String,
}

/// A class server this tool started: stopped (and its database removed)
/// when dropped, whatever happened.
struct Spawned {
    child: Child,
    db: PathBuf,
    line: StartLine,
}

impl Spawned {
    fn start() -> Result<Spawned, LoadError> {
        let exe = std::env::current_exe()
            .map_err(|e| err(format!("cannot find this program to start the server: {e}")))?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let db = std::env::temp_dir().join(format!(
            "backprop-viz-class-load-{}-{nanos}.sqlite",
            std::process::id()
        ));
        let mut child = Command::new(exe)
            .args(["class", "--bind", "127.0.0.1", "--port", "0", "--db"])
            .arg(&db)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| err(format!("cannot start the class server: {e}")))?;
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(err("the class server's output cannot be read"));
        };
        // The line is read on a thread of its own (a read cannot time out),
        // which then keeps reading so that the server never writes into a
        // full or closed pipe.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = tx.send(lines.next());
            for _ in lines {}
        });
        let mut spawned = Spawned {
            child,
            db,
            line: StartLine {
                teacher_url: String::new(),
                ws: String::new(),
            },
        };
        let line = match rx.recv_timeout(START_TIMEOUT) {
            Ok(Some(Ok(line))) => line,
            Ok(_) => {
                let status = spawned.child.wait().map(|s| s.to_string());
                return Err(err(format!(
                    "the class server ended before saying where it listens ({})",
                    status.unwrap_or_else(|e| e.to_string())
                )));
            }
            Err(_) => {
                return Err(err(format!(
                    "the class server said nothing in {} s",
                    START_TIMEOUT.as_secs()
                )))
            }
        };
        spawned.line = serde_json::from_str(&line).map_err(|e| {
            err(format!(
                "the class server's first line is not its JSON ({e}): {}",
                crate::io::file::short(&line)
            ))
        })?;
        Ok(spawned)
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        // SIGTERM first: the contract's clean stop (flush, exit 0).
        if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: a signal to our own child, which has not been reaped
            // (wait has not returned), so the pid is still its.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            match self.child.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut path = self.db.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The question asked `index`-th: its id and kind, and the options (none
/// for a question answered with cells).
#[derive(Debug, Clone, PartialEq)]
struct Asked {
    id: String,
    kind: &'static str,
    options: Vec<String>,
    /// Whether it gets a round 2 (`revote`) before `reveal`.
    revote: bool,
}

fn asked(index: usize) -> Asked {
    let (kind, options) = if index.is_multiple_of(2) {
        ("df-sign", vec!["+".to_string(), "-".to_string()])
    } else {
        ("pool-winner", vec![])
    };
    Asked {
        id: format!("load-{index}"),
        kind,
        options,
        revote: index % 3 == 2,
    }
}

/// The question index of an id [`asked`] made.
fn index_of(id: &str) -> Option<usize> {
    id.strip_prefix("load-")?.parse().ok()
}

/// The moment a question is about: a *Share this moment* link.
fn moment(index: usize) -> String {
    format!("preset=seed&seed=1&step={}&phase=backward:conv2", index % 8)
}

/// One answer a student will send, `delay` seconds after the question (or
/// the revote) reached it.
#[derive(Debug, Clone, PartialEq)]
struct Planned {
    delay: f64,
    value: Value,
}

/// What `student` answers to question `index` in `round`: one answer, and
/// with probability `changes` a second that changes it. The same numbers
/// every time (the driver knows the final answers without asking).
///
/// Every answer is told apart in the tally: an option question's changes
/// all go from its first option to its second, so that the second's count
/// only grows (see [`shown_at`]); a cell answer holds a cell no other
/// answer holds ([`tracking_cell`]), first, and maybe some of
/// [`HOT_CELLS`].
fn plan(student: usize, index: usize, round: u8, options: &[String], changes: f64) -> Vec<Planned> {
    let seed = SEED
        ^ (student as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (index as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
        ^ u64::from(round).wrapping_mul(0x1656_67B1_9E37_79F9);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let first = rng.random_range(0.0..ANSWER_SPREAD_S);
    let change = rng.random_bool(changes.clamp(0.0, 1.0));
    let later = first + rng.random_range(CHANGE_AFTER_S.0..CHANGE_AFTER_S.1);
    let cells = |version: usize, rng: &mut ChaCha8Rng| {
        let mut cells = vec![tracking_cell(student, version)];
        let hot = rng.random_range(0..=2usize);
        let from = rng.random_range(0..HOT_CELLS.len());
        cells.extend((0..hot).map(|k| HOT_CELLS[(from + k) % HOT_CELLS.len()]));
        Value::Cells(cells)
    };
    match options {
        [] => {
            let mut answers = vec![Planned {
                delay: first,
                value: cells(0, &mut rng),
            }];
            if change {
                answers.push(Planned {
                    delay: later,
                    value: cells(1, &mut rng),
                });
            }
            answers
        }
        [only] => vec![Planned {
            delay: first,
            value: Value::Option(only.clone()),
        }],
        [from, to, ..] if change => vec![
            Planned {
                delay: first,
                value: Value::Option(from.clone()),
            },
            Planned {
                delay: later,
                value: Value::Option(to.clone()),
            },
        ],
        _ => vec![Planned {
            delay: first,
            value: Value::Option(options[rng.random_range(0..options.len())].clone()),
        }],
    }
}

/// The cell only `student`'s `version`-th answer (0 or 1) holds: channels
/// 1 and up of a [`MAP_SIDE`]² map, so 1,000 students fit in 4 channels.
fn tracking_cell(student: usize, version: usize) -> [u32; 3] {
    let n = u32::try_from(student * 2 + version).unwrap_or(u32::MAX);
    let side = MAP_SIDE * MAP_SIDE;
    [1 + n / side, (n % side) / MAP_SIDE, n % MAP_SIDE]
}

/// The identifying cell of a cell answer: its first.
fn tracked(value: &Value) -> Option<[u32; 3]> {
    match value {
        Value::Cells(cells) => cells.first().copied(),
        Value::Option(_) => None,
    }
}

/// One answer message as sent. Times are seconds since the run began.
#[derive(Debug, Clone, PartialEq)]
struct Sent {
    question: usize,
    round: u8,
    student: usize,
    value: Value,
    at: f64,
    acked: Option<f64>,
    /// Answered with an `error` instead of an `ack`.
    refused: bool,
}

/// A tally as the teacher received it.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    at: f64,
    tally: Tally,
}

/// Everything the tasks record, read once at the end.
#[derive(Debug, Default)]
struct Book {
    sends: Vec<Sent>,
    tallies: Vec<Seen>,
    /// When the teacher sent `open` (round 1) or `revote` (round 2).
    opened: HashMap<(usize, u8), f64>,
    /// From that to each student's receiving it, seconds.
    reached: Vec<f64>,
    errors: Vec<String>,
    /// The busiest second of the server's CPU, in cores.
    cpu_peak: f64,
}

impl Book {
    fn error(&mut self, what: String) {
        self.errors.push(what);
    }
}

fn lock(book: &Mutex<Book>) -> MutexGuard<'_, Book> {
    // A task that panicked mid-record leaves a book still worth reading.
    book.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Seconds since `t0`.
fn since(t0: Instant) -> f64 {
    t0.elapsed().as_secs_f64()
}

async fn drive(
    config: &Config,
    target: &Target,
    pid: Option<u32>,
    started: Instant,
    progress: &mut dyn FnMut(&str),
) -> Result<Report, LoadError> {
    let t0 = started;
    let cpu_at_start = pid.and_then(cpu_seconds);
    let book = Arc::new(Mutex::new(Book::default()));
    let (stop, stopped) = watch::channel(false);

    let join = ClientMsg::Join {
        code: target.code.clone(),
        name: None,
        resume: None,
        teacher: Some(target.teacher.clone()),
    };
    let (ws, role) = join_paced(&target.ws, &join).await?;
    if role != Role::Teacher {
        return Err(err(
            "the server welcomed the teacher's link as a student: is the teacher token right?",
        ));
    }
    let (orders, orders_rx) = mpsc::unbounded_channel();
    let teacher_task = tokio::spawn(teacher(ws, orders_rx, book.clone(), stopped.clone(), t0));

    progress(&format!(
        "joining {} students, {} a second (the contract's limit per address)…",
        config.students,
        1000 / JOIN_EVERY.as_millis().max(1)
    ));
    let joining = Instant::now();
    let mut pace = tokio::time::interval(JOIN_EVERY);
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    pace.tick().await; // the first tick is now: the teacher just joined
    let mut student_tasks = Vec::with_capacity(config.students);
    for student in 0..config.students {
        pace.tick().await;
        let join = ClientMsg::Join {
            code: target.code.clone(),
            name: Some(format!("load {student}")),
            resume: None,
            teacher: None,
        };
        let (ws, role) = join_paced(&target.ws, &join)
            .await
            .map_err(|e| err(format!("student {student} could not join: {e}")))?;
        if role != Role::Student {
            return Err(err(format!("student {student} was welcomed as {role:?}")));
        }
        student_tasks.push(tokio::spawn(student_loop(
            student,
            ws,
            config.changes,
            book.clone(),
            stopped.clone(),
            t0,
        )));
        if (student + 1) % 50 == 0 {
            progress(&format!("{} joined", student + 1));
        }
    }
    let join_s = joining.elapsed().as_secs_f64();

    // The server's CPU, sampled every second while the questions run.
    let asking = Instant::now();
    let cpu_asking = pid.and_then(cpu_seconds);
    let sampler = pid.map(|pid| tokio::spawn(sample_cpu(pid, book.clone(), stopped.clone())));

    let mut rounds = Vec::new();
    for index in 0..config.questions {
        let q = asked(index);
        let send = |msg: ClientMsg| {
            orders
                .send(msg)
                .map_err(|_| err("the teacher's connection ended"))
        };
        send(ClientMsg::Moment {
            link: moment(index),
        })?;
        send(ClientMsg::Open {
            question: q.id.clone(),
            kind: q.kind.to_string(),
            step: moment(index),
            options: q.options.clone(),
        })?;
        wait_round(config, &q, index, 1, &book).await;
        rounds.push((index, 1u8));
        if q.revote {
            send(ClientMsg::Revote {
                question: q.id.clone(),
            })?;
            wait_round(config, &q, index, 2, &book).await;
            rounds.push((index, 2));
            let answer = match q.options.first() {
                Some(o) => Value::Option(o.clone()),
                None => Value::Cells(vec![HOT_CELLS[0]]),
            };
            send(ClientMsg::Reveal {
                question: q.id.clone(),
                answer,
            })?;
        } else {
            send(ClientMsg::Close {
                question: q.id.clone(),
            })?;
        }
        progress(&format!("question {}/{} done", index + 1, config.questions));
    }
    let asking_s = asking.elapsed().as_secs_f64();

    // The server's use, read while every connection is still open.
    let server = pid.map(|pid| {
        let (rss_kb, hwm_kb) = memory_kb(pid).unwrap_or((0, 0));
        let now = cpu_seconds(pid);
        let used = |from: Option<f64>| match (from, now) {
            (Some(a), Some(b)) => b - a,
            _ => f64::NAN,
        };
        ServerUse {
            pid,
            rss_mb: rounded(rss_kb as f64 / 1024.0, 1),
            peak_rss_mb: rounded(hwm_kb as f64 / 1024.0, 1),
            cpu_cores: rounded(used(cpu_asking) / asking_s.max(1e-9), 3),
            cpu_cores_peak: rounded(lock(&book).cpu_peak, 3),
            cpu_s: rounded(used(cpu_at_start), 2),
        }
    });

    let _ = stop.send(true);
    for task in student_tasks {
        let _ = task.await;
    }
    drop(orders);
    let _ = teacher_task.await;
    if let Some(sampler) = sampler {
        let _ = sampler.await;
    }

    let book = std::mem::take(&mut *lock(&book));
    let mut report = analyse(&book, &rounds);
    report.students = config.students;
    report.questions = config.questions;
    report.server = server;
    report.join_s = rounded(join_s, 2);
    report.wall_s = rounded(since(t0), 2);
    Ok(report)
}

/// Joins, trying again a little later when the server says `too-many`.
async fn join_paced(url: &str, join: &ClientMsg) -> Result<(Ws, Role), LoadError> {
    let mut tries = 0;
    loop {
        match join_once(url, join).await {
            Err(Joined::TooMany(_)) if tries + 1 < JOIN_TRIES => {
                tries += 1;
                tokio::time::sleep(JOIN_RETRY).await;
            }
            Err(Joined::TooMany(m) | Joined::Failed(m)) => return Err(err(m)),
            Ok(joined) => return Ok(joined),
        }
    }
}

enum Joined {
    TooMany(String),
    Failed(String),
}

/// Connects, sends `join`, and reads until `welcome`.
async fn join_once(url: &str, join: &ClientMsg) -> Result<(Ws, Role), Joined> {
    let attempt = async {
        let (mut ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .map_err(|e| Joined::Failed(format!("cannot connect to {url}: {e}")))?;
        ws.send(Message::text(join.to_json()))
            .await
            .map_err(|e| Joined::Failed(format!("cannot send join: {e}")))?;
        loop {
            let text = match ws.next().await {
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(Message::Close(frame))) => {
                    return Err(Joined::Failed(format!(
                        "the server closed the connection instead of a welcome ({frame:?})"
                    )))
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(Joined::Failed(format!("reading the welcome: {e}"))),
                None => {
                    return Err(Joined::Failed(
                        "the connection ended before a welcome".into(),
                    ))
                }
            };
            match serde_json::from_str::<ServerMsg>(text.as_str()) {
                Ok(ServerMsg::Welcome { role, .. }) => return Ok((ws, role)),
                Ok(ServerMsg::Error {
                    code: ErrorCode::TooMany,
                    message,
                }) => return Err(Joined::TooMany(format!("too-many: {message}"))),
                Ok(ServerMsg::Error { code, message }) => {
                    return Err(Joined::Failed(format!("{code:?}: {message}")))
                }
                Ok(_) => continue,
                Err(e) => {
                    return Err(Joined::Failed(format!(
                        "an unreadable message instead of a welcome ({e})"
                    )))
                }
            }
        }
    };
    tokio::time::timeout(CONNECT_TIMEOUT, attempt)
        .await
        .unwrap_or_else(|_| {
            Err(Joined::Failed(format!(
                "no welcome within {} s",
                CONNECT_TIMEOUT.as_secs()
            )))
        })
}

/// The teacher's connection: sends what the driver orders (noting when a
/// round opens) and records every tally as it arrives.
async fn teacher(
    mut ws: Ws,
    mut orders: mpsc::UnboundedReceiver<ClientMsg>,
    book: Arc<Mutex<Book>>,
    mut stopped: watch::Receiver<bool>,
    t0: Instant,
) {
    loop {
        tokio::select! {
            order = orders.recv() => {
                let Some(order) = order else { break };
                let opens = match &order {
                    ClientMsg::Open { question, .. } => index_of(question).map(|i| (i, 1)),
                    ClientMsg::Revote { question } => index_of(question).map(|i| (i, 2)),
                    _ => None,
                };
                if let Some(round) = opens {
                    lock(&book).opened.insert(round, since(t0));
                }
                if let Err(e) = ws.send(Message::text(order.to_json())).await {
                    lock(&book).error(format!("teacher: sending: {e}"));
                    break;
                }
            }
            message = ws.next() => {
                let at = since(t0);
                match message {
                    Some(Ok(Message::Text(text))) => {
                        match serde_json::from_str::<ServerMsg>(text.as_str()) {
                            Ok(ServerMsg::Tally(tally)) => lock(&book).tallies.push(Seen { at, tally }),
                            Ok(ServerMsg::Error { code, message }) => {
                                lock(&book).error(format!("teacher: {code:?}: {message}"));
                            }
                            Ok(_) => {}
                            Err(e) => lock(&book).error(format!("teacher: unreadable message: {e}")),
                        }
                    }
                    Some(Ok(Message::Close(frame))) => {
                        lock(&book).error(format!("teacher: the server closed the connection ({frame:?})"));
                        break;
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => {
                        lock(&book).error(format!("teacher: {e}"));
                        break;
                    }
                    None => {
                        lock(&book).error("teacher: the connection ended".into());
                        break;
                    }
                }
            }
            _ = stopped.changed() => break,
        }
    }
    let _ = ws.close(None).await;
}

/// One student: answers each question as [`plan`] says, from the moment it
/// receives it, and matches each `ack` to its answer (a connection's
/// answers are acknowledged in the order sent).
async fn student_loop(
    student: usize,
    mut ws: Ws,
    changes: f64,
    book: Arc<Mutex<Book>>,
    mut stopped: watch::Receiver<bool>,
    t0: Instant,
) {
    // Answers still to send: (when, question, round, value), by time.
    let mut pending: Vec<(Instant, usize, u8, Value)> = Vec::new();
    // Indexes into the book's sends, waiting for their ack.
    let mut waiting: std::collections::VecDeque<usize> = Default::default();
    let mut options: HashMap<usize, Vec<String>> = HashMap::new();
    let who = format!("student {student}");
    loop {
        let next = pending.first().map(|p| p.0);
        tokio::select! {
            message = ws.next() => {
                let now = Instant::now();
                let at = since(t0);
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(frame))) => {
                        lock(&book).error(format!("{who}: the server closed the connection ({frame:?})"));
                        break;
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => {
                        lock(&book).error(format!("{who}: {e}"));
                        break;
                    }
                    None => {
                        lock(&book).error(format!("{who}: the connection ended"));
                        break;
                    }
                };
                let opened = match serde_json::from_str::<ServerMsg>(text.as_str()) {
                    Ok(ServerMsg::Question(q)) => index_of(&q.question).map(|i| {
                        options.insert(i, q.options);
                        (i, q.round.max(1))
                    }),
                    Ok(ServerMsg::Revote { question }) => index_of(&question).map(|i| (i, 2)),
                    Ok(ServerMsg::Ack { question, round }) => {
                        let mut book = lock(&book);
                        match waiting.pop_front() {
                            Some(i) if index_of(&question) == Some(book.sends[i].question)
                                && book.sends[i].round == round => book.sends[i].acked = Some(at),
                            Some(i) => {
                                book.sends[i].refused = true;
                                book.error(format!("{who}: an ack for {question} round {round} came for another answer"));
                            }
                            None => book.error(format!("{who}: an ack for {question} round {round} with no answer waiting")),
                        }
                        None
                    }
                    Ok(ServerMsg::Error { code, message }) => {
                        // An error answers the oldest answer still waiting.
                        let mut book = lock(&book);
                        if let Some(i) = waiting.pop_front() {
                            book.sends[i].refused = true;
                        }
                        book.error(format!("{who}: {code:?}: {message}"));
                        None
                    }
                    Ok(_) => None,
                    Err(e) => {
                        lock(&book).error(format!("{who}: unreadable message: {e}"));
                        None
                    }
                };
                if let Some((index, round)) = opened {
                    {
                        let mut book = lock(&book);
                        if let Some(&open) = book.opened.get(&(index, round)) {
                            book.reached.push(at - open);
                        }
                    }
                    let opts = options.get(&index).cloned().unwrap_or_default();
                    for p in plan(student, index, round, &opts, changes) {
                        pending.push((now + Duration::from_secs_f64(p.delay), index, round, p.value));
                    }
                    pending.sort_by_key(|p| p.0);
                }
            }
            () = sleep_until(next) => {
                if pending.is_empty() {
                    continue;
                }
                let (_, question, round, value) = pending.remove(0);
                let msg = ClientMsg::Answer { question: asked(question).id, round, value: value.clone() };
                let i = {
                    let mut book = lock(&book);
                    book.sends.push(Sent { question, round, student, value, at: since(t0), acked: None, refused: false });
                    book.sends.len() - 1
                };
                waiting.push_back(i);
                if let Err(e) = ws.send(Message::text(msg.to_json())).await {
                    lock(&book).error(format!("{who}: sending: {e}"));
                    break;
                }
            }
            _ = stopped.changed() => break,
        }
    }
    let _ = ws.close(None).await;
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// Samples the server's CPU time every second and keeps the busiest second.
async fn sample_cpu(pid: u32, book: Arc<Mutex<Book>>, mut stopped: watch::Receiver<bool>) {
    let mut last = (Instant::now(), cpu_seconds(pid));
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopped.changed() => break,
        }
        let now = (Instant::now(), cpu_seconds(pid));
        if let (Some(a), Some(b)) = (last.1, now.1) {
            let cores = (b - a) / now.0.duration_since(last.0).as_secs_f64().max(1e-9);
            let mut book = lock(&book);
            book.cpu_peak = book.cpu_peak.max(cores);
        }
        last = now;
    }
}

/// Waits until the round's latest tally shows every student's last answer
/// and every answer is acknowledged (or refused), or until the round's
/// grace is over.
async fn wait_round(config: &Config, q: &Asked, index: usize, round: u8, book: &Mutex<Book>) {
    let planned: usize = (0..config.students)
        .map(|s| plan(s, index, round, &q.options, config.changes).len())
        .sum();
    let latest_plan = ANSWER_SPREAD_S + CHANGE_AFTER_S.1;
    let until = Instant::now() + Duration::from_secs_f64(latest_plan) + ROUND_GRACE;
    loop {
        tokio::time::sleep(Duration::from_millis(10)).await;
        {
            let book = lock(book);
            let sends: Vec<Sent> = book
                .sends
                .iter()
                .filter(|s| s.question == index && s.round == round)
                .cloned()
                .collect();
            let settled =
                sends.len() == planned && sends.iter().all(|s| s.acked.is_some() || s.refused);
            if settled {
                let last =
                    book.tallies.iter().rev().find(|t| {
                        index_of(&t.tally.question) == Some(index) && t.tally.round == round
                    });
                let shown = last.is_some_and(|t| {
                    lost_in(&q.options, &sends, Some(&t.tally)) == 0
                        && t.tally.answered >= students_in(&sends)
                });
                if shown {
                    return;
                }
            }
        }
        if Instant::now() > until {
            return;
        }
    }
}

fn students_in(sends: &[Sent]) -> usize {
    sends
        .iter()
        .map(|s| s.student)
        .collect::<HashSet<_>>()
        .len()
}

/// The measurements, from the book of a whole run.
fn analyse(book: &Book, rounds: &[(usize, u8)]) -> Report {
    let mut latencies = Vec::new();
    let mut unseen = 0;
    let mut lost = 0;
    let mut changed = 0;
    for &(index, round) in rounds {
        let q = asked(index);
        let sends: Vec<Sent> = book
            .sends
            .iter()
            .filter(|s| s.question == index && s.round == round)
            .cloned()
            .collect();
        let tallies: Vec<Seen> = book
            .tallies
            .iter()
            .filter(|t| index_of(&t.tally.question) == Some(index) && t.tally.round == round)
            .cloned()
            .collect();
        changed += sends.len() - students_in(&sends);
        for (sent, shown) in sends.iter().zip(shown_at(&q.options, &sends, &tallies)) {
            match shown {
                Some(at) => latencies.push((at - sent.at) * 1000.0),
                None => unseen += 1,
            }
        }
        lost += lost_in(&q.options, &sends, tallies.last().map(|t| &t.tally));
    }
    let acks: Vec<f64> = book
        .sends
        .iter()
        .filter_map(|s| s.acked.map(|a| (a - s.at) * 1000.0))
        .collect();
    let reached: Vec<f64> = book.reached.iter().map(|s| s * 1000.0).collect();
    Report {
        students: 0,
        questions: 0,
        rounds: rounds.len(),
        answers: book.sends.len(),
        changed,
        lost,
        unacked: book.sends.iter().filter(|s| s.acked.is_none()).count(),
        unseen,
        errors: book.errors.len(),
        latency_ms: percentiles(latencies).map(Percentiles::rounded),
        ack_ms: percentiles(acks).map(Percentiles::rounded),
        question_ms: percentiles(reached).map(Percentiles::rounded),
        server: None,
        join_s: 0.0,
        wall_s: 0.0,
        error_samples: book.errors.iter().take(5).cloned().collect(),
    }
}

/// When the teacher's tally first showed each answer of one round (`sends`,
/// all of one question and round; `tallies`, that round's, in the order
/// received), or `None` if no tally did.
///
/// A tally counts answers; it does not say whose, so "the tally shows this
/// answer" needs a definition:
///
/// - **Cells**: exact. Each answer holds a cell no other answer holds
///   ([`tracking_cell`]); it is shown by the first tally (received after it
///   was sent) whose cells include it, or the cell of a later answer by the
///   same student (a change that superseded it before any tally went out
///   still means the student's answer reached the teacher).
/// - **Options**: by rank, since a count cannot tell two `+` apart. A
///   round's first answers, in the order sent, are matched with the tallies'
///   `answered`: the k-th first answer is shown by the first tally, received
///   after it was sent, whose `answered` ≥ k. Changes all go from the first
///   option to the second ([`plan`]), so the second option's count only
///   grows, by one for every first answer naming it and every change; the
///   k-th of those messages in the order sent is shown by the first tally
///   whose count of the second option ≥ k (only the changes' times are kept
///   from this stream; first answers are timed by `answered`).
///
///   This is exact when the server applies answers in the order they were
///   sent. If it reorders two answers, the tallies still give the exact set
///   of moments answers became visible (the k-th smallest is the first tally
///   counting k), so the mean latency is exact and only the pairing within
///   the reordered answers shifts: answers sent within a few milliseconds of
///   each other may trade latencies.
fn shown_at(options: &[String], sends: &[Sent], tallies: &[Seen]) -> Vec<Option<f64>> {
    let mut shown = vec![None; sends.len()];
    if options.is_empty() {
        let in_tally: Vec<HashSet<[u32; 3]>> = tallies
            .iter()
            .map(|t| {
                t.tally
                    .cells
                    .iter()
                    .filter(|c| c[3] > 0)
                    .map(|c| [c[0], c[1], c[2]])
                    .collect()
            })
            .collect();
        for (i, sent) in sends.iter().enumerate() {
            // This answer's cell and those of the student's later answers.
            let cells: Vec<[u32; 3]> = sends
                .iter()
                .filter(|o| o.student == sent.student && o.at >= sent.at)
                .filter_map(|o| tracked(&o.value))
                .collect();
            shown[i] = tallies
                .iter()
                .zip(&in_tally)
                .find(|(t, set)| t.at >= sent.at && cells.iter().any(|c| set.contains(c)))
                .map(|(t, _)| t.at);
        }
        return shown;
    }
    let firsts = first_answers(sends);
    let mut order: Vec<usize> = (0..sends.len()).filter(|&i| firsts[i]).collect();
    order.sort_by(|&a, &b| sends[a].at.total_cmp(&sends[b].at));
    let counts: Vec<(f64, usize)> = tallies.iter().map(|t| (t.at, t.tally.answered)).collect();
    for (k, &i) in order.iter().enumerate() {
        shown[i] = by_rank(sends[i].at, k + 1, &counts);
    }
    if let Some(grown) = options.get(1) {
        let grows = Value::Option(grown.clone());
        let mut order: Vec<usize> = (0..sends.len())
            .filter(|&i| sends[i].value == grows)
            .collect();
        order.sort_by(|&a, &b| sends[a].at.total_cmp(&sends[b].at));
        let counts: Vec<(f64, usize)> = tallies
            .iter()
            .map(|t| (t.at, t.tally.options.get(grown).copied().unwrap_or(0)))
            .collect();
        for (k, &i) in order.iter().enumerate() {
            if !firsts[i] {
                shown[i] = by_rank(sends[i].at, k + 1, &counts);
            }
        }
    }
    shown
}

/// The first `(at, count)` received at or after `sent` whose count ≥ `rank`.
fn by_rank(sent: f64, rank: usize, counts: &[(f64, usize)]) -> Option<f64> {
    counts
        .iter()
        .find(|&&(at, count)| at >= sent && count >= rank)
        .map(|&(at, _)| at)
}

/// Whether each send is its student's first in the round.
fn first_answers(sends: &[Sent]) -> Vec<bool> {
    let mut first: HashMap<usize, usize> = HashMap::new();
    for (i, s) in sends.iter().enumerate() {
        let e = first.entry(s.student).or_insert(i);
        if s.at < sends[*e].at {
            *e = i;
        }
    }
    let mut is_first = vec![false; sends.len()];
    for &i in first.values() {
        is_first[i] = true;
    }
    is_first
}

/// Students of one round whose answers were all acknowledged but whose last
/// answer the round's final tally (`last`) does not show. Cells: the last
/// answer's own cell is missing. Options: the students' last answers,
/// counted per option, exceed the tally's count (students with an answer
/// never acknowledged are left out of that count: the tally may or may not
/// hold theirs, so what is missing is never blamed on them).
fn lost_in(options: &[String], sends: &[Sent], last: Option<&Tally>) -> usize {
    let mut by_student: BTreeMap<usize, Vec<&Sent>> = BTreeMap::new();
    for s in sends {
        by_student.entry(s.student).or_default().push(s);
    }
    let finals: Vec<&Value> = by_student
        .values()
        .filter(|answers| answers.iter().all(|s| s.acked.is_some()))
        .filter_map(|answers| {
            answers
                .iter()
                .max_by(|a, b| a.at.total_cmp(&b.at))
                .map(|s| &s.value)
        })
        .collect();
    let Some(tally) = last else {
        return finals.len();
    };
    if options.is_empty() {
        let cells: HashSet<[u32; 3]> = tally
            .cells
            .iter()
            .filter(|c| c[3] > 0)
            .map(|c| [c[0], c[1], c[2]])
            .collect();
        return finals
            .iter()
            .filter(|v| !tracked(v).is_some_and(|c| cells.contains(&c)))
            .count();
    }
    let mut expected: BTreeMap<&str, usize> = BTreeMap::new();
    for v in &finals {
        if let Value::Option(o) = v {
            *expected.entry(o.as_str()).or_default() += 1;
        }
    }
    expected
        .iter()
        .map(|(o, &n)| n.saturating_sub(tally.options.get(*o).copied().unwrap_or(0)))
        .sum()
}

/// p50, p95, p99 and max by the nearest rank (the smallest value with at
/// least p % of the values at or below it); `None` for no values.
fn percentiles(mut values: Vec<f64>) -> Option<Percentiles> {
    values.retain(|v| v.is_finite());
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let at = |p: f64| {
        let rank = (p / 100.0 * values.len() as f64).ceil() as usize;
        values[rank.clamp(1, values.len()) - 1]
    };
    Some(Percentiles {
        p50: at(50.0),
        p95: at(95.0),
        p99: at(99.0),
        max: values[values.len() - 1],
    })
}

/// `x` to `places` decimals, for a report that reads (0.1 ms, 0.001 core).
fn rounded(x: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (x * scale).round() / scale
}

/// VmRSS and VmHWM of a process, in kB (`/proc/PID/status`).
fn memory_kb(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_memory(&status)
}

fn parse_memory(status: &str) -> Option<(u64, u64)> {
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kb| kb.parse::<u64>().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// CPU seconds a process used so far, user and system (`/proc/PID/stat`).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // SAFETY: sysconf only reads a configuration value.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    parse_cpu_ticks(&stat).map(|t| t as f64 / ticks.max(1) as f64)
}

/// utime + stime, in clock ticks: fields 14 and 15 of `stat`, counted after
/// the command name in parentheses (which may itself hold spaces or `)`).
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // `after` starts at field 3 (state): utime is field 14, stime 15.
    let utime: u64 = fields.get(14 - 3)?.parse().ok()?;
    let stime: u64 = fields.get(15 - 3)?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(student: usize, value: Value, at: f64) -> Sent {
        Sent {
            question: 0,
            round: 1,
            student,
            value,
            at,
            acked: Some(at + 0.01),
            refused: false,
        }
    }

    fn opt(o: &str) -> Value {
        Value::Option(o.into())
    }

    fn pm() -> Vec<String> {
        vec!["+".into(), "-".into()]
    }

    fn tally(answered: usize, options: &[(&str, usize)], cells: &[[u32; 4]]) -> Tally {
        Tally {
            question: "load-0".into(),
            round: 1,
            students: 3,
            answered,
            options: options.iter().map(|&(o, n)| (o.to_string(), n)).collect(),
            cells: cells.to_vec(),
        }
    }

    fn seen(at: f64, tally: Tally) -> Seen {
        Seen { at, tally }
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        // 1..=100: the p-th percentile is p itself.
        let p = percentiles((1..=100).rev().map(f64::from).collect()).unwrap();
        assert_eq!((p.p50, p.p95, p.p99, p.max), (50.0, 95.0, 99.0, 100.0));
        // Three values: ceil(0.5·3) = 2nd, ceil(0.95·3) = 3rd.
        let p = percentiles(vec![30.0, 10.0, 20.0]).unwrap();
        assert_eq!((p.p50, p.p95, p.p99, p.max), (20.0, 30.0, 30.0, 30.0));
        let p = percentiles(vec![7.0]).unwrap();
        assert_eq!((p.p50, p.max), (7.0, 7.0));
        assert_eq!(percentiles(vec![]), None);
        assert_eq!(percentiles(vec![f64::NAN]), None);
    }

    #[test]
    fn the_teacher_link_gives_the_socket_code_and_token() {
        let t = Target::parse("http://127.0.0.1:41234/#class=ABC234&teacher=xY_z-9").unwrap();
        assert_eq!(
            t,
            Target {
                ws: "ws://127.0.0.1:41234/ws".into(),
                code: "ABC234".into(),
                teacher: "xY_z-9".into()
            }
        );
        let t = Target::parse("https://room.local/#teacher=T&class=ABC234").unwrap();
        assert_eq!(t.ws, "wss://room.local/ws");
        for bad in [
            "127.0.0.1:8080/#class=ABC234&teacher=T",
            "http://127.0.0.1:8080/#class=ABC234",
            "http://127.0.0.1:8080/#class=abc234&teacher=T",
            "http://127.0.0.1:8080/",
            "ftp://h/#class=ABC234&teacher=T",
            "http:///#class=ABC234&teacher=T",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn option_answers_are_timed_by_rank() {
        // Three students; 1 changes + → − at 0.5 s.
        let sends = vec![
            sent(0, opt("+"), 0.10),
            sent(1, opt("+"), 0.05),
            sent(2, opt("-"), 0.30),
            sent(1, opt("-"), 0.50),
        ];
        let tallies = vec![
            seen(0.04, tally(0, &[], &[])),
            // Two answers in: the two sent first (0.05, 0.10).
            seen(0.20, tally(2, &[("+", 2)], &[])),
            // All three; the change not yet.
            seen(0.40, tally(3, &[("+", 2), ("-", 1)], &[])),
            // The change: "-" grows to 2.
            seen(0.60, tally(3, &[("+", 1), ("-", 2)], &[])),
        ];
        let shown = shown_at(&pm(), &sends, &tallies);
        assert_eq!(shown, vec![Some(0.20), Some(0.20), Some(0.40), Some(0.60)]);
        assert_eq!(lost_in(&pm(), &sends, Some(&tallies[3].tally)), 0);
        // The final tally missing the change: student 1's last answer is lost.
        assert_eq!(lost_in(&pm(), &sends, Some(&tallies[2].tally)), 1);
        // No tally at all: every student's answer is lost.
        assert_eq!(lost_in(&pm(), &sends, None), 3);
    }

    #[test]
    fn a_tally_before_the_answer_does_not_show_it() {
        // A stale count of 1 (another round's?) received before the send.
        let sends = vec![sent(0, opt("+"), 0.5)];
        let tallies = vec![
            seen(0.4, tally(1, &[("+", 1)], &[])),
            seen(0.7, tally(1, &[("+", 1)], &[])),
        ];
        assert_eq!(shown_at(&pm(), &sends, &tallies), vec![Some(0.7)]);
        assert_eq!(shown_at(&pm(), &sends, &tallies[..1]), vec![None]);
    }

    #[test]
    fn cell_answers_are_timed_exactly() {
        let a0 = tracking_cell(0, 0);
        let b0 = tracking_cell(0, 1);
        let a1 = tracking_cell(1, 0);
        let cells = |c: &[[u32; 3]]| Value::Cells(c.to_vec());
        let sends = vec![
            sent(0, cells(&[a0, HOT_CELLS[0]]), 0.1),
            sent(1, cells(&[a1]), 0.2),
            // Student 0 changes before any tally showed its first answer.
            sent(0, cells(&[b0]), 0.25),
        ];
        let with = |c: [u32; 3]| [c[0], c[1], c[2], 1];
        let tallies = vec![
            // Student 1's answer only (the server's order, not the sending).
            seen(0.22, tally(1, &[], &[with(a1)])),
            // Student 0's change: shows the first answer too (superseded).
            seen(0.45, tally(2, &[], &[with(a1), with(b0)])),
        ];
        let shown = shown_at(&[], &sends, &tallies);
        assert_eq!(shown, vec![Some(0.45), Some(0.22), Some(0.45)]);
        assert_eq!(lost_in(&[], &sends, Some(&tallies[1].tally)), 0);
        // A final tally still holding the first answer: the change is lost.
        let stale = tally(2, &[], &[with(a1), with(a0), [0, 5, 5, 1]]);
        assert_eq!(lost_in(&[], &sends, Some(&stale)), 1);
        // A cell with a count of 0 is not there.
        let zero = tally(2, &[], &[with(a1), [b0[0], b0[1], b0[2], 0]]);
        assert_eq!(lost_in(&[], &sends, Some(&zero)), 1);
    }

    #[test]
    fn unacknowledged_answers_are_not_called_lost() {
        let mut sends = vec![sent(0, opt("+"), 0.1), sent(1, opt("-"), 0.2)];
        sends[1].acked = None;
        // The tally lacks student 1's answer: never acknowledged, not lost.
        assert_eq!(lost_in(&pm(), &sends, Some(&tally(1, &[("+", 1)], &[]))), 0);
        assert_eq!(lost_in(&pm(), &sends, Some(&tally(0, &[], &[]))), 1);
    }

    #[test]
    fn plans_keep_changes_one_way_and_cells_apart() {
        let mut cells = HashSet::new();
        let mut changed = 0;
        for student in 0..1000 {
            for (index, round) in [(0, 1), (0, 2), (4, 1)] {
                let p = plan(student, index, round, &pm(), 0.3);
                assert!(p[0].delay >= 0.0 && p[0].delay < ANSWER_SPREAD_S);
                if p.len() == 2 {
                    changed += 1;
                    assert_eq!((&p[0].value, &p[1].value), (&opt("+"), &opt("-")));
                    let gap = p[1].delay - p[0].delay;
                    assert!((CHANGE_AFTER_S.0..CHANGE_AFTER_S.1).contains(&gap));
                }
                assert_eq!(p, plan(student, index, round, &pm(), 0.3), "the same");
            }
            let p = plan(student, 1, 1, &[], 1.0);
            assert_eq!(p.len(), 2, "changes = 1: everyone changes");
            for (version, answer) in p.iter().enumerate() {
                let Value::Cells(c) = &answer.value else {
                    panic!("cells")
                };
                assert_eq!(c[0], tracking_cell(student, version));
                assert!(c[1..].iter().all(|h| HOT_CELLS.contains(h)));
                assert_eq!(
                    super::super::protocol::value_problem(&[], &answer.value),
                    None
                );
                assert!(cells.insert(c[0]), "a cell no other answer holds");
            }
            assert_eq!(plan(student, 1, 1, &[], 0.0).len(), 1);
        }
        // About 30 % of 3,000 rounds changed.
        assert!((750..1050).contains(&changed), "{changed}");
    }

    #[test]
    fn questions_alternate_and_every_third_is_voted_again() {
        let q: Vec<Asked> = (0..6).map(asked).collect();
        assert_eq!(q[0].kind, "df-sign");
        assert_eq!(q[0].options, pm());
        assert_eq!(q[1].kind, "pool-winner");
        assert!(q[1].options.is_empty());
        let revotes: Vec<bool> = q.iter().map(|q| q.revote).collect();
        assert_eq!(revotes, [false, false, true, false, false, true]);
        assert_eq!(index_of(&q[5].id), Some(5));
        assert_eq!(index_of("other"), None);
    }

    #[test]
    fn proc_files_are_read() {
        let status = "Name:\tbackprop-viz\nVmHWM:\t   51200 kB\nVmRSS:\t   40960 kB\n";
        assert_eq!(parse_memory(status), Some((40960, 51200)));
        assert_eq!(parse_memory("Name: x\n"), None);
        // A command name with a space and a parenthesis.
        let stat = "1234 (a b) c) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 3 0";
        assert_eq!(parse_cpu_ticks(stat), Some(325));
        assert_eq!(parse_cpu_ticks("garbage"), None);
        // This process can read its own.
        let me = std::process::id();
        assert!(memory_kb(me).is_some_and(|(rss, hwm)| rss > 0 && hwm >= rss));
        assert!(cpu_seconds(me).is_some());
    }
}
