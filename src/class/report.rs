//! A class read back from its database, one row per question and round:
//! how many answered, how many were right (against the revealed answer),
//! and for a question voted on twice, how the share of right answers moved
//! from round 1 to round 2 (peer instruction's measure). For
//! `backprop-viz class-report` and the app's *File → Class report*.
//!
//! The database is opened read-only (and `query_only`): a report never
//! changes a class, even one still running.

use std::fmt::Write as _;
use std::path::Path;

use rusqlite::{Connection, OpenFlags};
use serde::Serialize;

use super::protocol::Value;
use super::store::{check_bounds, check_file, check_ours, StoreError};

/// One question's round.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportRow {
    pub question: String,
    pub kind: String,
    pub round: u8,
    /// Students in the class.
    pub students: usize,
    pub answered: usize,
    /// Answers equal to the revealed one; `None` before the reveal.
    pub correct: Option<usize>,
    /// `correct / answered`; `None` before the reveal or with no answer.
    pub share_correct: Option<f64>,
    /// On round 2: its share correct minus round 1's.
    pub shift: Option<f64>,
}

/// One student's answer, for a teacher who asked for names.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NamedAnswer {
    pub student: u64,
    pub name: Option<String>,
    pub question: String,
    pub round: u8,
    pub value: Value,
    pub correct: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub title: String,
    pub code: String,
    pub students: usize,
    pub questions: usize,
    pub rows: Vec<ReportRow>,
    /// Every answer with its student's name: only when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answers: Option<Vec<NamedAnswer>>,
}

fn sqlite(path: &Path, source: rusqlite::Error) -> StoreError {
    StoreError::Sqlite {
        path: path.display().to_string(),
        source,
    }
}

/// Reads the class at `db`; `names`: also every answer with its name.
pub fn read(db: &Path, names: bool) -> Result<Report, StoreError> {
    let sql = |e| sqlite(db, e);
    if !db.exists() {
        return Err(StoreError::Refused {
            path: db.display().to_string(),
            problem: "no such file".into(),
        });
    }
    // A folder, or a file that is not SQLite, is refused before SQLite
    // opens it.
    check_file(db)?;
    let conn = open_read_only(db).map_err(sql)?;
    conn.pragma_update(None, "query_only", true).map_err(sql)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(sql)?;
    check_ours(&conn, db)?;
    let has_class: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE name = 'class'",
            [],
            |r| r.get(0),
        )
        .map_err(sql)?;
    if has_class == 0 {
        return Err(StoreError::Refused {
            path: db.display().to_string(),
            problem: "holds no class yet".into(),
        });
    }
    check_bounds(&conn, db)?;
    // One transaction: a running server's commits do not split the report.
    conn.execute_batch("BEGIN").map_err(sql)?;
    let (title, code): (String, String) = conn
        .query_row("SELECT title, code FROM class WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .map_err(sql)?;
    let students: i64 = conn
        .query_row("SELECT count(*) FROM students", [], |r| r.get(0))
        .map_err(sql)?;
    let students = students.max(0) as usize;
    // Per question and round that has answers: answered and right.
    // Answers are canonical JSON (store::value_json), so right is equal text.
    let mut stmt = conn
        .prepare(
            "SELECT q.id, q.kind, q.rounds, q.answer IS NOT NULL, a.round,
                    count(a.student), coalesce(sum(a.value = q.answer), 0)
             FROM questions q LEFT JOIN answers a ON a.question = q.id
             GROUP BY q.id, a.round
             ORDER BY q.seq, a.round",
        )
        .map_err(sql)?;
    let groups = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, bool>(3)?,
                r.get::<_, Option<i64>>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, i64>(6)?,
            ))
        })
        .map_err(sql)?;
    let mut rows: Vec<ReportRow> = Vec::new();
    let mut questions = 0;
    let mut last: Option<String> = None;
    for g in groups {
        let (question, kind, rounds, revealed, round, answered, correct) = g.map_err(sql)?;
        if last.as_deref() != Some(question.as_str()) {
            questions += 1;
            last = Some(question.clone());
            // Every round held gets a row, answered or not.
            for r in 1..=rounds.clamp(1, 2) as u8 {
                rows.push(ReportRow {
                    question: question.clone(),
                    kind: kind.clone(),
                    round: r,
                    students,
                    answered: 0,
                    correct: revealed.then_some(0),
                    share_correct: None,
                    shift: None,
                });
            }
        }
        let Some(round) = round else { continue };
        if let Some(row) = rows
            .iter_mut()
            .rev()
            .find(|row| row.question == question && i64::from(row.round) == round)
        {
            row.answered = answered.max(0) as usize;
            row.correct = revealed.then_some(correct.max(0) as usize);
        }
    }
    drop(stmt);
    for row in &mut rows {
        row.share_correct = match row.correct {
            Some(c) if row.answered > 0 => Some(c as f64 / row.answered as f64),
            _ => None,
        };
    }
    for i in 1..rows.len() {
        if rows[i].round == 2 && rows[i - 1].question == rows[i].question {
            rows[i].shift = match (rows[i].share_correct, rows[i - 1].share_correct) {
                (Some(two), Some(one)) => Some(two - one),
                _ => None,
            };
        }
    }
    let answers = if names {
        Some(named_answers(&conn, db)?)
    } else {
        None
    };
    conn.execute_batch("COMMIT").map_err(sql)?;
    Ok(Report {
        title,
        code,
        students,
        questions,
        rows,
        answers,
    })
}

/// Read-only. A class whose server is not running has no `-wal` file: it
/// is then opened `immutable`, so that SQLite does not even create the
/// `-wal` and `-shm` files a WAL database's reader otherwise leaves beside
/// it. A running class (its `-wal` there) is read through the WAL as usual,
/// without blocking its server.
fn open_read_only(db: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    if Path::new(&wal).exists() {
        return Connection::open_with_flags(db, flags);
    }
    let uri = format!("file:{}?immutable=1", uri_path(db));
    Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)
}

/// A path as the path of an SQLite `file:` URI: every byte but the plain
/// ones percent-escaped (`?`, `#` and `%` would otherwise be read as URI
/// syntax).
fn uri_path(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = String::new();
    for &b in absolute.as_os_str().as_encoded_bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn named_answers(conn: &Connection, db: &Path) -> Result<Vec<NamedAnswer>, StoreError> {
    let sql = |e| sqlite(db, e);
    let mut stmt = conn
        .prepare(
            "SELECT a.student, s.name, a.question, a.round, a.value,
                    CASE WHEN q.answer IS NULL THEN NULL ELSE a.value = q.answer END
             FROM answers a
             JOIN questions q ON q.id = a.question
             LEFT JOIN students s ON s.id = a.student
             ORDER BY a.student, q.seq, a.round",
        )
        .map_err(sql)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<bool>>(5)?,
            ))
        })
        .map_err(sql)?;
    let mut out = Vec::new();
    for row in rows {
        let (student, name, question, round, value, correct) = row.map_err(sql)?;
        let value = serde_json::from_str(&value).map_err(|_| StoreError::Refused {
            path: db.display().to_string(),
            problem: format!("is damaged: an answer to {question:?} is malformed"),
        })?;
        out.push(NamedAnswer {
            student: student.max(0) as u64,
            name,
            question,
            round: round.clamp(0, 2) as u8,
            value,
            correct,
        });
    }
    Ok(out)
}

fn share(x: Option<f64>) -> String {
    x.map(|s| format!("{:.0} %", s * 100.0)).unwrap_or_default()
}

fn signed_points(x: Option<f64>) -> String {
    x.map(|s| format!("{:+.0} pts", s * 100.0))
        .unwrap_or_default()
}

fn count(x: Option<usize>) -> String {
    x.map(|c| c.to_string()).unwrap_or_default()
}

fn number(x: Option<f64>) -> String {
    x.map(|s| s.to_string()).unwrap_or_default()
}

fn value_text(v: &Value) -> String {
    match v {
        Value::Option(o) => o.clone(),
        Value::Cells(cells) => cells
            .iter()
            .map(|[c, y, x]| format!("({c},{y},{x})"))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// A CSV field, quoted when it must be. Text a student typed (a name) is
/// also kept from reading as a spreadsheet formula.
fn csv_field(s: &str, typed_by_student: bool) -> String {
    let s = if typed_by_student && s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

impl Report {
    /// A header line and one line per row; with names, a blank line and
    /// one line per answer.
    pub fn to_csv(&self) -> String {
        let mut out =
            String::from("question,kind,round,students,answered,correct,share_correct,shift\n");
        for r in &self.rows {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{}",
                csv_field(&r.question, false),
                csv_field(&r.kind, false),
                r.round,
                r.students,
                r.answered,
                count(r.correct),
                number(r.share_correct),
                number(r.shift)
            );
        }
        if let Some(answers) = &self.answers {
            out.push_str("\nstudent,name,question,round,value,correct\n");
            for a in answers {
                let _ = writeln!(
                    out,
                    "{},{},{},{},{},{}",
                    a.student,
                    csv_field(a.name.as_deref().unwrap_or(""), true),
                    csv_field(&a.question, false),
                    a.round,
                    csv_field(&value_text(&a.value), false),
                    a.correct.map(|c| c.to_string()).unwrap_or_default()
                );
            }
        }
        out
    }

    /// A table to read in a terminal.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let title = if self.title.is_empty() {
            String::new()
        } else {
            format!("{}: ", self.title)
        };
        let _ = writeln!(
            out,
            "{title}class {}, {} students, {} questions",
            self.code, self.students, self.questions
        );
        let header = [
            "question", "kind", "round", "students", "answered", "correct", "share", "shift",
        ];
        let lines: Vec<[String; 8]> = self
            .rows
            .iter()
            .map(|r| {
                [
                    r.question.clone(),
                    r.kind.clone(),
                    r.round.to_string(),
                    r.students.to_string(),
                    r.answered.to_string(),
                    count(r.correct),
                    share(r.share_correct),
                    signed_points(r.shift),
                ]
            })
            .collect();
        table(&mut out, &header, &lines);
        if let Some(answers) = &self.answers {
            out.push('\n');
            let header = ["student", "name", "question", "round", "answer", "right"];
            let lines: Vec<[String; 6]> = answers
                .iter()
                .map(|a| {
                    [
                        a.student.to_string(),
                        a.name.clone().unwrap_or_default(),
                        a.question.clone(),
                        a.round.to_string(),
                        value_text(&a.value),
                        match a.correct {
                            Some(true) => "yes".into(),
                            Some(false) => "no".into(),
                            None => String::new(),
                        },
                    ]
                })
                .collect();
            table(&mut out, &header, &lines);
        }
        out
    }
}

fn table<const N: usize>(out: &mut String, header: &[&str; N], lines: &[[String; N]]) {
    let mut widths = header.map(|h| h.chars().count());
    for line in lines {
        for (w, cell) in widths.iter_mut().zip(line) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut row = |cells: Vec<&str>| {
        let text: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", text.join("  ").trim_end());
    };
    row(header.to_vec());
    for line in lines {
        row(line.iter().map(String::as_str).collect());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::class::protocol::Question;
    use crate::class::store::{AnswerRow, ClassRow, Op, QuestionRow, Store, StudentRow};

    fn run(store: &Store, ops: Vec<Op>) {
        for op in ops {
            store.submit(op, Box::new(|r| assert!(r.is_ok()))).unwrap();
        }
        store.flush().unwrap();
    }

    fn answer(q: &str, round: u8, student: u64, v: &str) -> Op {
        Op::Answer(AnswerRow {
            question: q.into(),
            round,
            student,
            value: Value::Option(v.into()),
        })
    }

    #[test]
    fn rounds_right_answers_and_the_shift() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sqlite");
        let (store, _) = Store::open(
            &path,
            ClassRow {
                code: "ABC234".into(),
                teacher: "f".repeat(32),
                title: "Tuesday".into(),
                created: 0,
            },
        )
        .unwrap();
        let mut ops: Vec<Op> = (1..=4)
            .map(|id| {
                Op::AddStudent(StudentRow {
                    id,
                    token: format!("{id:032}"),
                    name: Some(format!("=Student {id}")),
                })
            })
            .collect();
        let open = |id: &str, seq| {
            Op::Open(QuestionRow {
                seq,
                question: Question {
                    question: id.into(),
                    kind: "df-sign".into(),
                    step: String::new(),
                    options: vec!["+".into(), "-".into()],
                    round: 1,
                },
                rounds: 1,
                revealed: None,
            })
        };
        ops.extend([
            open("q1", 1),
            answer("q1", 1, 1, "+"),
            answer("q1", 1, 2, "-"),
            answer("q1", 1, 3, "-"),
            answer("q1", 1, 4, "-"),
            Op::Round {
                question: "q1".into(),
                round: 2,
                rounds: 2,
            },
            answer("q1", 2, 1, "+"),
            answer("q1", 2, 2, "+"),
            answer("q1", 2, 3, "+"),
            Op::Reveal {
                question: "q1".into(),
                answer: Value::Option("+".into()),
            },
            open("q2", 2),
            answer("q2", 1, 1, "-"),
        ]);
        run(&store, ops);
        // Read while the store is still open (as the app would).
        let report = read(&path, true).unwrap();
        assert_eq!((report.students, report.questions), (4, 2));
        let r: Vec<_> = report
            .rows
            .iter()
            .map(|r| (r.question.as_str(), r.round, r.answered, r.correct))
            .collect();
        assert_eq!(
            r,
            vec![
                ("q1", 1, 4, Some(1)),
                ("q1", 2, 3, Some(3)),
                ("q2", 1, 1, None)
            ]
        );
        assert_eq!(report.rows[0].share_correct, Some(0.25));
        assert_eq!(report.rows[1].share_correct, Some(1.0));
        assert_eq!(report.rows[1].shift, Some(0.75));
        assert_eq!(report.rows[2].share_correct, None);
        let answers = report.answers.as_ref().unwrap();
        assert_eq!(answers.len(), 8);
        assert_eq!(answers[0].name.as_deref(), Some("=Student 1"));
        let csv = report.to_csv();
        assert!(csv.starts_with("question,kind,round,students,answered,correct,share_correct,shift\nq1,df-sign,1,4,4,1,0.25,\nq1,df-sign,2,4,3,3,1,0.75\nq2,df-sign,1,4,1,,,\n"), "{csv}");
        assert!(csv.contains("\n1,'=Student 1,q1,1,+,true\n"), "{csv}");
        let text = report.to_text();
        assert!(text.contains("+75 pts"), "{text}");
        assert!(read(&path, false).unwrap().answers.is_none());
    }

    #[test]
    fn a_stopped_class_is_read_without_a_file_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        // URI syntax in the name must not be read as URI syntax.
        let path = dir.path().join("a ?#%class.sqlite");
        let (store, _) = Store::open(
            &path,
            ClassRow {
                code: "ABC234".into(),
                teacher: "f".repeat(32),
                title: String::new(),
                created: 0,
            },
        )
        .unwrap();
        store.close();
        drop(store);
        let files = || std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(files(), 1, "the store closed cleanly");
        let report = read(&path, false).unwrap();
        assert_eq!((report.code.as_str(), report.questions), ("ABC234", 0));
        assert_eq!(files(), 1, "no -wal or -shm left by the report");
    }

    #[test]
    fn a_missing_or_foreign_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let e = read(&dir.path().join("none.sqlite"), false).unwrap_err();
        assert!(e.to_string().contains("no such file"), "{e}");
        let other = dir.path().join("other.sqlite");
        Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE t (x)")
            .unwrap();
        let e = read(&other, false).unwrap_err();
        assert!(e.to_string().contains("not a backprop-viz class"), "{e}");
    }
}
