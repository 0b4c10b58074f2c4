//! The class's database: one SQLite file (WAL) holding the class, its
//! students, its questions and every answer, so that a server killed
//! mid-question and started again with the same file resumes the class with
//! nothing acknowledged lost.
//!
//! **Group commit.** One writer thread owns the connection. The server
//! queues each change ([`Op`]) with a callback; the writer takes everything
//! queued, writes it in one transaction, commits, and only then calls the
//! callbacks in queue order (the server sends `ack` from there). While one
//! commit waits for the disk the next batch queues up, so the cost of an
//! fsync is shared by every answer that arrived meanwhile.
//!
//! **Durability.** `journal_mode=WAL` with `synchronous=FULL`: each commit
//! fsyncs the WAL before returning, so an acknowledged answer survives the
//! process being killed (SIGKILL) *and* the machine losing power.
//! `synchronous=NORMAL` would survive a killed process too (the WAL is
//! written by the time the commit returns, only not fsynced) but not a power
//! cut; with group commit the one fsync per batch costs too little to give
//! that up.
//!
//! Everything is validated by the server before it reaches the store; the
//! store checks again what it reads back (a file on disk is untrusted too),
//! with bounds checked in SQL before any row is read into memory.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Mutex;
use std::thread::JoinHandle;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Transaction};

use super::protocol::{
    clean_name, is_code, Question, Value, MAX_MESSAGE, MAX_OPTIONS, MAX_QUESTIONS, MAX_QUESTION_ID,
    MAX_STUDENTS,
};

/// `PRAGMA application_id` of a class database ("BPVC"): tells our file from
/// any other SQLite file before a table is read.
pub const APPLICATION_ID: i32 = 0x4250_5643;
/// `PRAGMA user_version`: the schema below.
pub const SCHEMA_VERSION: i32 = 1;
/// Changes queued for the writer at most; beyond, the server refuses the
/// message (`too-many`) rather than letting memory grow.
pub const QUEUE: usize = 16 * 1024;
/// Changes written in one transaction at most.
const MAX_BATCH: usize = 4096;
/// The longest text any column may hold, in bytes: every field arrives in one
/// message of at most [`MAX_MESSAGE`] bytes. Checked in SQL before reading.
const MAX_FIELD: i64 = MAX_MESSAGE as i64;

const SCHEMA: &str = "
CREATE TABLE class (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    code    TEXT NOT NULL,
    teacher TEXT NOT NULL,            -- the teacher's token
    title   TEXT NOT NULL,
    created INTEGER NOT NULL          -- unix milliseconds
);
-- No address is kept: the limits per address live in memory only.
CREATE TABLE students (
    id     INTEGER PRIMARY KEY,
    token  TEXT NOT NULL UNIQUE,      -- the resume token
    name   TEXT,
    joined INTEGER NOT NULL
);
CREATE TABLE questions (
    id      TEXT PRIMARY KEY,
    seq     INTEGER NOT NULL UNIQUE,  -- the order they were asked in
    kind    TEXT NOT NULL,
    step    TEXT NOT NULL,
    options TEXT NOT NULL,            -- JSON list of strings
    round   INTEGER NOT NULL,         -- the open round (1, 2), 0 when closed
    rounds  INTEGER NOT NULL,         -- rounds held: 1, or 2 after a revote
    answer  TEXT,                     -- the revealed answer (JSON), NULL before
    opened  INTEGER NOT NULL
);
-- One row per question, round and student: the last answer counts, and
-- round 2 never overwrites round 1. Values are canonical JSON (cells
-- sorted), so equal answers are equal text.
CREATE TABLE answers (
    question TEXT NOT NULL REFERENCES questions (id),
    round    INTEGER NOT NULL,
    student  INTEGER NOT NULL REFERENCES students (id),
    value    TEXT NOT NULL,
    at       INTEGER NOT NULL,
    PRIMARY KEY (question, round, student)
) WITHOUT ROWID;
-- The teacher's current moment (one row).
CREATE TABLE moments (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    link TEXT NOT NULL,
    at   INTEGER NOT NULL
);
";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {problem}")]
    Refused { path: String, problem: String },
    #[error("{path}: {source}")]
    Sqlite {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{path}: cannot read it: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("too many changes are waiting for the database")]
    Busy,
    #[error("the class database is closed")]
    Stopped,
}

/// A batch that could not be committed (the disk is full, the file went
/// away…); given to every callback of that batch. Cloneable, unlike
/// [`rusqlite::Error`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the class database could not be written: {0}")]
pub struct WriteFailed(pub String);

/// Called by the writer once the change is committed (or failed).
pub type Done = Box<dyn FnOnce(Result<(), WriteFailed>) + Send>;

#[derive(Debug, Clone, PartialEq)]
pub struct ClassRow {
    pub code: String,
    pub teacher: String,
    pub title: String,
    pub created: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StudentRow {
    pub id: u64,
    pub token: String,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QuestionRow {
    pub seq: u32,
    /// As students receive it: `round` is the open round, 0 when closed.
    pub question: Question,
    /// Rounds held: 1, or 2 after a revote.
    pub rounds: u8,
    pub revealed: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AnswerRow {
    pub question: String,
    pub round: u8,
    pub student: u64,
    pub value: Value,
}

/// What a database holds when the server opens it.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub class: ClassRow,
    pub students: Vec<StudentRow>,
    /// In the order asked; only the last may be open.
    pub questions: Vec<QuestionRow>,
    pub moment: Option<String>,
    /// Every answer to the last question asked, both rounds.
    pub answers: Vec<AnswerRow>,
}

/// One change, as the server validated it.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    AddStudent(StudentRow),
    Rename {
        student: u64,
        name: Option<String>,
    },
    Moment(String),
    /// Asks a new question (round 1 open); any other open round closes.
    Open(QuestionRow),
    /// Sets a question's open round (0: closed) and the rounds held.
    Round {
        question: String,
        round: u8,
        rounds: u8,
    },
    /// Closes the question and records its answer.
    Reveal {
        question: String,
        answer: Value,
    },
    /// A student's answer; replaces their earlier one to the same round.
    Answer(AnswerRow),
}

enum Job {
    Write(Op, Done),
    /// Called once everything queued before it is committed.
    Barrier(Done),
    Stop,
}

/// The writer's handle. Every method takes `&self`: the server shares it.
pub struct Store {
    tx: SyncSender<Job>,
    thread: Mutex<Option<JoinHandle<()>>>,
    path: PathBuf,
}

impl Store {
    /// Opens (or creates, with `fresh`) the class database at `path` and
    /// starts its writer. An existing file that is not a class database, or
    /// one whose contents break the class's limits, is refused.
    pub fn open(path: &Path, fresh: ClassRow) -> Result<(Store, Loaded), StoreError> {
        let shown = path.display().to_string();
        let exists = check_file(path)?;
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| sqlite(path, e))?;
        let sql = |e| sqlite(path, e);
        if exists {
            check_ours(&conn, path)?;
        } else if has_tables(&conn).map_err(sql)? {
            // Created between our check and the open: not ours to touch.
            return Err(refused(path, "is not a backprop-viz class database"));
        }
        // WAL: readers (class-report) never block the writer; see the module
        // comment for synchronous=FULL.
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(sql)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(refused(
                path,
                &format!("cannot use a write-ahead log here (journal mode {mode})"),
            ));
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(sql)?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(sql)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(sql)?;
        if !exists || !has_tables(&conn).map_err(sql)? {
            create(&mut conn, &fresh).map_err(sql)?;
        }
        let loaded = load(&conn, path)?;
        let (tx, rx) = sync_channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("class-store".into())
            .spawn(move || writer(conn, rx, shown))
            .map_err(|e| StoreError::Io {
                path: path.display().to_string(),
                source: e,
            })?;
        Ok((
            Store {
                tx,
                thread: Mutex::new(Some(thread)),
                path: path.to_path_buf(),
            },
            loaded,
        ))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Queues `op`; `done` runs on the writer thread once it is committed.
    /// Never blocks: a full queue is [`StoreError::Busy`] (and `done` is
    /// dropped uncalled).
    pub fn submit(&self, op: Op, done: Done) -> Result<(), StoreError> {
        match self.tx.try_send(Job::Write(op, done)) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err(StoreError::Busy),
            Err(TrySendError::Disconnected(_)) => Err(StoreError::Stopped),
        }
    }

    /// Blocks until everything queued so far is committed and its callbacks
    /// have run.
    pub fn flush(&self) -> Result<(), StoreError> {
        let (tx, rx) = std::sync::mpsc::channel();
        let done: Done = Box::new(move |r| {
            let _ = tx.send(r);
        });
        self.tx
            .send(Job::Barrier(done))
            .map_err(|_| StoreError::Stopped)?;
        match rx.recv() {
            Ok(Ok(())) => Ok(()),
            Ok(Err(WriteFailed(e))) => Err(refused(&self.path, &e)),
            Err(_) => Err(StoreError::Stopped),
        }
    }

    /// Commits what is queued, stops the writer and closes the file (which
    /// checkpoints the WAL into it). Later submits get [`StoreError::Stopped`].
    pub fn close(&self) {
        let thread = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(thread) = thread {
            let _ = self.tx.send(Job::Stop);
            let _ = thread.join();
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.close();
    }
}

/// The writer thread: batches, one transaction each, callbacks after commit.
fn writer(mut conn: Connection, rx: Receiver<Job>, path: String) {
    let mut stop = false;
    while !stop {
        let Ok(first) = rx.recv() else { break };
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let ops: Vec<&Op> = jobs
            .iter()
            .filter_map(|j| match j {
                Job::Write(op, _) => Some(op),
                _ => None,
            })
            .collect();
        let result = if ops.is_empty() {
            Ok(())
        } else {
            write_batch(&mut conn, &ops).map_err(|e| WriteFailed(format!("{path}: {e}")))
        };
        if let Err(e) = &result {
            eprintln!("error: {e}");
        }
        for job in jobs {
            match job {
                Job::Write(_, done) | Job::Barrier(done) => done(result.clone()),
                Job::Stop => stop = true,
            }
        }
    }
    if let Err((_, e)) = conn.close() {
        eprintln!("error: {path}: closing the class database: {e}");
    }
}

fn write_batch(conn: &mut Connection, ops: &[&Op]) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    for op in ops {
        write(&tx, op)?;
    }
    // Dropping `tx` on an error above rolls the whole batch back.
    tx.commit()
}

fn write(tx: &Transaction, op: &Op) -> rusqlite::Result<()> {
    let now = now_ms();
    match op {
        Op::AddStudent(s) => {
            tx.prepare_cached(
                "INSERT INTO students (id, token, name, joined) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![s.id as i64, s.token, s.name, now])?;
        }
        Op::Rename { student, name } => {
            tx.prepare_cached("UPDATE students SET name = ?2 WHERE id = ?1")?
                .execute(params![*student as i64, name])?;
        }
        Op::Moment(link) => {
            tx.prepare_cached(
                "INSERT INTO moments (id, link, at) VALUES (1, ?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET link = excluded.link, at = excluded.at",
            )?
            .execute(params![link, now])?;
        }
        Op::Open(q) => {
            tx.prepare_cached("UPDATE questions SET round = 0 WHERE round <> 0")?
                .execute([])?;
            let options = serde_json::to_string(&q.question.options).unwrap_or_default();
            tx.prepare_cached(
                "INSERT INTO questions (id, seq, kind, step, options, round, rounds, answer, opened)
                 VALUES (?1, ?2, ?3, ?4, ?5, 1, 1, NULL, ?6)",
            )?
            .execute(params![
                q.question.question,
                q.seq,
                q.question.kind,
                q.question.step,
                options,
                now
            ])?;
        }
        Op::Round {
            question,
            round,
            rounds,
        } => {
            tx.prepare_cached("UPDATE questions SET round = ?2, rounds = ?3 WHERE id = ?1")?
                .execute(params![question, round, rounds])?;
        }
        Op::Reveal { question, answer } => {
            tx.prepare_cached("UPDATE questions SET round = 0, answer = ?2 WHERE id = ?1")?
                .execute(params![question, value_json(answer)])?;
        }
        Op::Answer(a) => {
            tx.prepare_cached(
                "INSERT INTO answers (question, round, student, value, at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (question, round, student) DO UPDATE SET value = excluded.value, at = excluded.at",
            )?
            .execute(params![a.question, a.round, a.student as i64, value_json(&a.value), now])?;
        }
    }
    Ok(())
}

/// A value as stored: canonical JSON (cells sorted), so that the report can
/// judge an answer right by comparing text.
pub fn value_json(value: &Value) -> String {
    serde_json::to_string(&value.clone().canonical()).unwrap_or_default()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn create(conn: &mut Connection, fresh: &ClassRow) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    tx.execute_batch(SCHEMA)?;
    tx.execute(
        "INSERT INTO class (id, code, teacher, title, created) VALUES (1, ?1, ?2, ?3, ?4)",
        params![fresh.code, fresh.teacher, fresh.title, now_ms()],
    )?;
    tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()
}

fn refused(path: &Path, problem: &str) -> StoreError {
    StoreError::Refused {
        path: path.display().to_string(),
        problem: problem.to_string(),
    }
}

fn sqlite(path: &Path, source: rusqlite::Error) -> StoreError {
    StoreError::Sqlite {
        path: path.display().to_string(),
        source,
    }
}

/// Whether `path` exists as a (non-empty) file, refusing what cannot be a
/// class database: a folder, or a file that does not start as SQLite does.
/// An empty file counts as new (SQLite creates its database in it).
pub(crate) fn check_file(path: &Path) -> Result<bool, StoreError> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => {
            return Err(StoreError::Io {
                path: path.display().to_string(),
                source: e,
            })
        }
    };
    if !meta.is_file() {
        return Err(refused(path, "is not a file"));
    }
    if meta.len() == 0 {
        return Ok(false);
    }
    let mut head = [0u8; 16];
    let read = std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .map_err(|e| StoreError::Io {
            path: path.display().to_string(),
            source: e,
        });
    if read.is_err() || &head != b"SQLite format 3\0" {
        return Err(refused(
            path,
            "is not a backprop-viz class database (not SQLite at all)",
        ));
    }
    Ok(true)
}

fn has_tables(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
        r.get::<_, i64>(0)
    })
    .map(|n| n > 0)
}

/// An existing SQLite file is ours: our application id and schema version,
/// or no tables at all yet.
pub(crate) fn check_ours(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let sql = |e| sqlite(path, e);
    let app: i32 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(sql)?;
    if app == 0 && !has_tables(conn).map_err(sql)? {
        return Ok(());
    }
    if app != APPLICATION_ID {
        return Err(refused(
            path,
            "is an SQLite database but not a backprop-viz class database",
        ));
    }
    let version: i32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(sql)?;
    if version != SCHEMA_VERSION {
        return Err(refused(
            path,
            &format!("is a class database of another version ({version}, this program reads {SCHEMA_VERSION})"),
        ));
    }
    Ok(())
}

/// Counts and sizes within the class's limits, checked in SQL so that no
/// oversized row is ever read into memory. Shared with the report.
pub(crate) fn check_bounds(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let sql = |e| sqlite(path, e);
    let count = |q: &str| -> Result<i64, StoreError> {
        conn.query_row(q, [], |r| r.get::<_, i64>(0)).map_err(sql)
    };
    let damaged = |what: &str| refused(path, &format!("is damaged: {what}"));
    if count("SELECT count(*) FROM class")? != 1 {
        return Err(damaged("it does not hold exactly one class"));
    }
    if count("SELECT count(*) FROM students")? > MAX_STUDENTS as i64 {
        return Err(damaged("more students than a class may have"));
    }
    if count("SELECT count(*) FROM questions")? > MAX_QUESTIONS as i64 {
        return Err(damaged("more questions than a class may have"));
    }
    // Every text column: text, and no longer than one message.
    let too_long = |col: &str| {
        format!("(typeof({col}) <> 'text' OR length(CAST({col} AS BLOB)) > {MAX_FIELD})")
    };
    let checks = [
        format!(
            "SELECT count(*) FROM class WHERE {} OR {} OR {}",
            too_long("code"),
            too_long("teacher"),
            too_long("title")
        ),
        format!(
            "SELECT count(*) FROM students WHERE {} OR (name IS NOT NULL AND {})",
            too_long("token"),
            too_long("name")
        ),
        format!(
            "SELECT count(*) FROM questions WHERE {} OR {} OR {} OR {} OR (answer IS NOT NULL AND {})
             OR round NOT IN (0, 1, 2) OR rounds NOT IN (1, 2) OR round > rounds",
            too_long("id"),
            too_long("kind"),
            too_long("step"),
            too_long("options"),
            too_long("answer")
        ),
        format!(
            "SELECT count(*) FROM answers WHERE {} OR {} OR round NOT IN (1, 2)",
            too_long("question"),
            too_long("value")
        ),
        format!("SELECT count(*) FROM moments WHERE {}", too_long("link")),
    ];
    for check in &checks {
        if count(check)? != 0 {
            return Err(damaged("a value of the wrong type or size"));
        }
    }
    Ok(())
}

/// Reads the class back, every value checked as a message would be.
fn load(conn: &Connection, path: &Path) -> Result<Loaded, StoreError> {
    check_bounds(conn, path)?;
    let sql = |e| sqlite(path, e);
    let damaged = |what: String| refused(path, &format!("is damaged: {what}"));
    let class = conn
        .query_row(
            "SELECT code, teacher, title, created FROM class WHERE id = 1",
            [],
            |r| {
                Ok(ClassRow {
                    code: r.get(0)?,
                    teacher: r.get(1)?,
                    title: r.get(2)?,
                    created: r.get(3)?,
                })
            },
        )
        .map_err(sql)?;
    if !is_code(&class.code) || !is_token(&class.teacher) {
        return Err(damaged(
            "the class code or teacher token is malformed".into(),
        ));
    }
    let mut students = Vec::new();
    {
        let mut stmt = conn
            .prepare("SELECT id, token, name FROM students ORDER BY id")
            .map_err(sql)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })
            .map_err(sql)?;
        for row in rows {
            let (id, token, name) = row.map_err(sql)?;
            let name_ok = name
                .as_deref()
                .is_none_or(|n| clean_name(n).as_deref() == Some(n));
            if id < 1 || !is_token(&token) || !name_ok {
                return Err(damaged(format!("student {id} is malformed")));
            }
            students.push(StudentRow {
                id: id as u64,
                token,
                name,
            });
        }
    }
    let mut questions = Vec::new();
    {
        let mut stmt = conn
            .prepare(
                "SELECT id, seq, kind, step, options, round, rounds, answer FROM questions ORDER BY seq",
            )
            .map_err(sql)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, i64>(6)?,
                    r.get::<_, Option<String>>(7)?,
                ))
            })
            .map_err(sql)?;
        for row in rows {
            let (id, seq, kind, step, options, round, rounds, answer) = row.map_err(sql)?;
            let bad = || damaged(format!("question {id:?} is malformed"));
            let options: Vec<String> = serde_json::from_str(&options).map_err(|_| bad())?;
            let revealed = match answer {
                Some(a) => Some(serde_json::from_str::<Value>(&a).map_err(|_| bad())?),
                None => None,
            };
            if id.is_empty()
                || id.chars().count() > MAX_QUESTION_ID
                || options.len() > MAX_OPTIONS
                || !(1..=i64::from(u32::MAX)).contains(&seq)
            {
                return Err(bad());
            }
            questions.push(QuestionRow {
                seq: seq as u32,
                question: Question {
                    question: id,
                    kind,
                    step,
                    options,
                    round: round as u8,
                },
                rounds: rounds as u8,
                revealed,
            });
        }
    }
    if questions
        .iter()
        .rev()
        .skip(1)
        .any(|q| q.question.round != 0)
    {
        return Err(damaged("a question other than the last is open".into()));
    }
    let moment = conn
        .query_row("SELECT link FROM moments WHERE id = 1", [], |r| r.get(0))
        .optional()
        .map_err(sql)?;
    let mut answers = Vec::new();
    if let Some(last) = questions.last() {
        let id = &last.question.question;
        let n: i64 = conn
            .query_row(
                "SELECT count(*) FROM answers WHERE question = ?1",
                [id],
                |r| r.get(0),
            )
            .map_err(sql)?;
        if n > 2 * MAX_STUDENTS as i64 {
            return Err(damaged(format!("question {id:?} has too many answers")));
        }
        let mut stmt = conn
            .prepare("SELECT round, student, value FROM answers WHERE question = ?1")
            .map_err(sql)?;
        let rows = stmt
            .query_map([id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(sql)?;
        for row in rows {
            let (round, student, value) = row.map_err(sql)?;
            let value: Value = serde_json::from_str(&value)
                .map_err(|_| damaged(format!("an answer to {id:?} is malformed")))?;
            answers.push(AnswerRow {
                question: id.clone(),
                round: round as u8,
                student: student.max(0) as u64,
                value,
            });
        }
    }
    Ok(Loaded {
        class,
        students,
        questions,
        moment,
        answers,
    })
}

/// A token as made by the server: 32–64 URL-safe characters.
pub fn is_token(token: &str) -> bool {
    (32..=64).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh() -> ClassRow {
        ClassRow {
            code: "ABC234".into(),
            teacher: "0123456789abcdef0123456789abcdef".into(),
            title: "Tuesday".into(),
            created: 0,
        }
    }

    fn student(id: u64) -> StudentRow {
        StudentRow {
            id,
            token: format!("{id:032x}"),
            name: (id == 1).then(|| "Ann".to_string()),
        }
    }

    fn question(id: &str, seq: u32, options: &[&str]) -> QuestionRow {
        QuestionRow {
            seq,
            question: Question {
                question: id.into(),
                kind: "df-sign".into(),
                step: "preset=seed&step=2".into(),
                options: options.iter().map(|s| s.to_string()).collect(),
                round: 1,
            },
            rounds: 1,
            revealed: None,
        }
    }

    fn answer(q: &str, round: u8, student: u64, value: Value) -> Op {
        Op::Answer(AnswerRow {
            question: q.into(),
            round,
            student,
            value,
        })
    }

    /// Submits every op and waits until they are committed; each callback
    /// must have seen success, in order.
    fn commit(store: &Store, ops: Vec<Op>) {
        let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
        for (i, op) in ops.into_iter().enumerate() {
            let seen = seen.clone();
            store
                .submit(
                    op,
                    Box::new(move |r| seen.lock().unwrap().push((i, r.is_ok()))),
                )
                .unwrap();
        }
        store.flush().unwrap();
        let seen = seen.lock().unwrap();
        assert!(seen.iter().all(|(_, ok)| *ok), "{seen:?}");
        assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "in order");
    }

    #[test]
    fn a_class_resumes_as_it_was_left() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sqlite");
        let (store, loaded) = Store::open(&path, fresh()).unwrap();
        assert_eq!(loaded.class.code, "ABC234");
        assert!(loaded.students.is_empty() && loaded.questions.is_empty());
        let plus = || Value::Option("+".into());
        commit(
            &store,
            vec![
                Op::AddStudent(student(1)),
                Op::AddStudent(student(2)),
                Op::Moment("preset=seed&step=1".into()),
                Op::Open(question("q1", 1, &["+", "-"])),
                answer("q1", 1, 1, Value::Option("-".into())),
                answer("q1", 1, 1, plus()),
                answer("q1", 1, 2, plus()),
                Op::Round {
                    question: "q1".into(),
                    round: 2,
                    rounds: 2,
                },
                answer("q1", 2, 1, Value::Option("-".into())),
                Op::Rename {
                    student: 2,
                    name: Some("Bo".into()),
                },
            ],
        );
        drop(store);
        // A fresh class's code is ignored: the file's class resumes.
        let other = ClassRow {
            code: "ZZZ999".into(),
            ..fresh()
        };
        let (store, loaded) = Store::open(&path, other).unwrap();
        assert_eq!(
            loaded.class,
            ClassRow {
                created: loaded.class.created,
                ..fresh()
            }
        );
        assert_eq!(loaded.students.len(), 2);
        assert_eq!(loaded.students[1].name.as_deref(), Some("Bo"));
        assert_eq!(loaded.moment.as_deref(), Some("preset=seed&step=1"));
        assert_eq!(loaded.questions.len(), 1);
        assert_eq!(loaded.questions[0].question.round, 2, "round 2 still open");
        assert_eq!(loaded.questions[0].rounds, 2);
        let mut answers: Vec<_> = loaded
            .answers
            .iter()
            .map(|a| (a.round, a.student, a.value.clone()))
            .collect();
        answers.sort();
        // The last answer counts; round 2 did not overwrite round 1.
        assert_eq!(
            answers,
            vec![
                (1, 1, plus()),
                (1, 2, plus()),
                (2, 1, Value::Option("-".into()))
            ]
        );
        // A new question closes the open round; a reveal closes and records.
        commit(
            &store,
            vec![
                Op::Open(question("q2", 2, &[])),
                answer("q2", 1, 1, Value::Cells(vec![[0, 2, 1], [0, 1, 1]])),
                Op::Reveal {
                    question: "q1".into(),
                    answer: plus(),
                },
            ],
        );
        drop(store);
        let (_store, loaded) = Store::open(&path, fresh()).unwrap();
        let rounds: Vec<_> = loaded.questions.iter().map(|q| q.question.round).collect();
        assert_eq!(rounds, vec![0, 1]);
        assert_eq!(loaded.questions[0].revealed, Some(plus()));
        assert_eq!(loaded.answers.len(), 1, "only the last question's answers");
        // Stored canonically: cells sorted.
        assert_eq!(
            loaded.answers[0].value,
            Value::Cells(vec![[0, 1, 1], [0, 2, 1]])
        );
    }

    #[test]
    fn a_file_that_is_not_a_class_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("notes.sqlite");
        std::fs::write(&text, "hello, this is not a database at all").unwrap();
        let e = Store::open(&text, fresh()).err().unwrap().to_string();
        assert!(e.contains("not a backprop-viz class database"), "{e}");
        let other = dir.path().join("other.sqlite");
        Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
            .unwrap();
        let e = Store::open(&other, fresh()).err().unwrap().to_string();
        assert!(e.contains("not a backprop-viz class database"), "{e}");
        let e = Store::open(dir.path(), fresh()).err().unwrap().to_string();
        assert!(e.contains("not a file"), "{e}");
        // An empty file is a new class.
        let empty = dir.path().join("empty.sqlite");
        std::fs::write(&empty, "").unwrap();
        assert!(Store::open(&empty, fresh()).is_ok());
    }

    #[test]
    fn a_damaged_class_is_refused_not_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sqlite");
        drop(Store::open(&path, fresh()).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.execute(
            "INSERT INTO students (id, token, name, joined) VALUES (1, ?1, NULL, 0)",
            ["x".repeat(100_000)],
        )
        .unwrap();
        drop(conn);
        let e = Store::open(&path, fresh()).err().unwrap().to_string();
        assert!(e.contains("damaged"), "{e}");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("DELETE FROM students; UPDATE class SET code = 'abc'")
            .unwrap();
        drop(conn);
        let e = Store::open(&path, fresh()).err().unwrap().to_string();
        assert!(e.contains("malformed"), "{e}");
    }

    #[test]
    fn a_failed_batch_reaches_every_callback() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::open(&dir.path().join("c.sqlite"), fresh()).unwrap();
        // A second student with the same token breaks the UNIQUE constraint:
        // the whole batch rolls back and every callback hears of it.
        let (tx, rx) = std::sync::mpsc::channel();
        for op in [
            Op::AddStudent(student(1)),
            Op::AddStudent(StudentRow {
                id: 2,
                ..student(1)
            }),
        ] {
            let tx = tx.clone();
            store
                .submit(op, Box::new(move |r| tx.send(r.is_ok()).unwrap()))
                .unwrap();
        }
        let _ = store.flush();
        let results: Vec<bool> = rx.try_iter().collect();
        assert_eq!(results.len(), 2);
        // Both were in one batch (queued before the writer woke) or the
        // first alone succeeded: never the second alone.
        assert!(!results[1]);
        store.close();
        assert!(matches!(
            store.submit(Op::Moment("x".into()), Box::new(|_| {})),
            Err(StoreError::Stopped)
        ));
    }

    #[test]
    fn tokens_and_values() {
        assert!(is_token("0123456789abcdef0123456789abcdef"));
        assert!(!is_token("short") && !is_token(&"a/".repeat(20)));
        assert_eq!(
            value_json(&Value::Cells(vec![[1, 0, 0], [0, 5, 5]])),
            "[[0,5,5],[1,0,0]]"
        );
        assert_eq!(value_json(&Value::Option("+".into())), "\"+\"");
    }
}
