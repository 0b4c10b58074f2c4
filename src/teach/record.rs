//! The learner's own record of predictions, kept on their machine: saved as
//! a small JSON file to hand in (nothing is sent anywhere), and a teacher's
//! summary of several such files: per step and question, how many
//! predicted right.
//!
//! The files come from students: each is read as any untrusted file
//! (bounded, regular files only, every field checked).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::io::file::{FileError, Input, Problem};
use crate::trf;

pub const FORMAT: &str = "backprop-viz-predictions";

/// One answered question (or a check of handed-in tensors), kept for the
/// learner's record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    pub batch: u64,
    pub phase: String,
    pub question: &'static str,
    /// `null`: revealed before an answer (a teacher revealing for the class).
    pub right: Option<bool>,
}
/// A record file larger than this is no record: a whole lesson's answers
/// take a few kilobytes.
pub const MAX_RECORD_BYTES: u64 = 1 << 20;

#[derive(Serialize)]
struct FileOut<'a> {
    format: &'static str,
    version: u32,
    records: &'a [Record],
}

#[derive(Deserialize)]
struct FileIn {
    format: String,
    version: u32,
    records: Vec<RecordIn>,
}

#[derive(Deserialize)]
struct RecordIn {
    #[serde(default)]
    batch: u64,
    phase: String,
    question: String,
    right: Option<bool>,
}

/// The record as the file a learner hands in.
pub fn record_bytes(records: &[Record]) -> Vec<u8> {
    let file = FileOut {
        format: FORMAT,
        version: 1,
        records,
    };
    let mut bytes = serde_json::to_vec_pretty(&file).expect("records serialise");
    bytes.push(b'\n');
    bytes
}

/// Right, wrong and unanswered counts, and how many learners answered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    pub right: usize,
    pub wrong: usize,
    pub revealed: usize,
    pub learners: usize,
}

/// Several learners' records summed per `(phase, question)`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClassRecord {
    pub files: usize,
    pub rows: BTreeMap<(String, String), Tally>,
}

/// Why a record file is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RecordError {
    #[error("{}", trf!("is not a predictions record ({error})", error = .0))]
    NotRecord(String),
    #[error("{}", trf!("is a {format} file, version {version}; expected {expected}, version 1", format = .format, version = .version, expected = FORMAT))]
    Format { format: String, version: u32 },
    #[error("{}", trf!("holds a record that this program does not write ({phase})", phase = .0))]
    Foreign(String),
}

fn bad(path: &Path, detail: String) -> FileError {
    FileError::new(path, Problem::BadHandIn { detail })
}

/// Reads one learner's record.
fn read_record(input: &Input) -> Result<Vec<RecordIn>, FileError> {
    let bytes = input.read(MAX_RECORD_BYTES)?;
    parse_record(&bytes).map_err(|e| bad(&input.path, e.to_string()))
}

/// The question kinds and check ids this program writes, as the record's
/// `question` holds them.
fn known_question(q: &str) -> Option<&'static str> {
    const KINDS: [&str; 14] = [
        "df-sign",
        "bn-dbeta-gamma",
        "bn-mean-term",
        "up-stride",
        "below-shape",
        "stride-zeros",
        "filter-span",
        "pool-overlap",
        "avg-share",
        "relu-blocked",
        "pool-winner",
        "tap-change",
        "taught-digit",
        "ok",
    ];
    KINDS
        .into_iter()
        .find(|k| *k == q)
        .or_else(|| crate::check::Mistake::from_id(q).map(crate::check::Mistake::id))
}

/// A record from a session (the app's own words on every answer).
pub fn records_from(bytes: &[u8]) -> Result<Vec<Record>, RecordError> {
    parse_record(bytes)?
        .into_iter()
        .map(|r| {
            Ok(Record {
                batch: r.batch,
                question: known_question(&r.question)
                    .ok_or_else(|| RecordError::Foreign(format!("{:?}", r.question)))?,
                phase: r.phase,
                right: r.right,
            })
        })
        .collect()
}

fn parse_record(bytes: &[u8]) -> Result<Vec<RecordIn>, RecordError> {
    if bytes.len() as u64 > MAX_RECORD_BYTES {
        return Err(RecordError::NotRecord("over 1 MiB".into()));
    }
    let file: FileIn =
        serde_json::from_slice(bytes).map_err(|e| RecordError::NotRecord(e.to_string()))?;
    if file.format != FORMAT || file.version != 1 {
        return Err(RecordError::Format {
            format: crate::io::file::short(&file.format),
            version: file.version,
        });
    }
    // Names are short words (`backward:conv2`, `df-sign`): anything else
    // is not from this program.
    let plain = |s: &str| s.len() <= 64 && s.chars().all(|c| c.is_ascii_graphic());
    if let Some(r) = file
        .records
        .iter()
        .find(|r| !plain(&r.phase) || !plain(&r.question))
    {
        return Err(RecordError::Foreign(format!(
            "{:?}",
            r.phase.chars().take(40).collect::<String>()
        )));
    }
    Ok(file.records)
}

/// Reads several learners' records and sums them.
pub fn class_record(inputs: &[Input]) -> Result<ClassRecord, FileError> {
    let mut class = ClassRecord::default();
    for input in inputs {
        let records = read_record(input)?;
        class.files += 1;
        let mut seen = std::collections::BTreeSet::new();
        for r in records {
            let key = (r.phase, r.question);
            let tally = class.rows.entry(key.clone()).or_default();
            match r.right {
                Some(true) => tally.right += 1,
                Some(false) => tally.wrong += 1,
                None => tally.revealed += 1,
            }
            if seen.insert(key) {
                tally.learners += 1;
            }
        }
    }
    Ok(class)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::file::write_bytes;
    use std::path::PathBuf;

    #[test]
    fn records_sum_per_step_and_refuse_what_is_not_a_record() {
        let dir = tempfile_dir();
        let a = vec![
            Record {
                batch: 1,
                phase: "backward:pool2".into(),
                question: "pool-winner",
                right: Some(true),
            },
            Record {
                batch: 1,
                phase: "backward:conv2".into(),
                question: "df-sign",
                right: Some(false),
            },
        ];
        let b = vec![Record {
            batch: 1,
            phase: "backward:pool2".into(),
            question: "pool-winner",
            right: None,
        }];
        let (pa, pb) = (dir.join("a.json"), dir.join("b.json"));
        write_bytes(&pa, &record_bytes(&a)).unwrap();
        write_bytes(&pb, &record_bytes(&b)).unwrap();
        let class = class_record(&[Input::path(pa.clone()), Input::path(pb)]).unwrap();
        assert_eq!(class.files, 2);
        let pool = &class.rows[&("backward:pool2".to_string(), "pool-winner".to_string())];
        assert_eq!(
            (pool.right, pool.wrong, pool.revealed, pool.learners),
            (1, 0, 1, 2)
        );
        let conv = &class.rows[&("backward:conv2".to_string(), "df-sign".to_string())];
        assert_eq!((conv.right, conv.wrong, conv.learners), (0, 1, 1));
        let junk = dir.join("junk.json");
        write_bytes(
            &junk,
            b"{\"format\": \"other\", \"version\": 1, \"records\": []}",
        )
        .unwrap();
        assert!(class_record(&[Input::path(pa.clone()), Input::path(junk)]).is_err());
        let hostile = dir.join("h.json");
        write_bytes(
            &hostile,
            format!(
                "{{\"format\": \"{FORMAT}\", \"version\": 1, \"records\": [{{\"phase\": \"{}\", \"question\": \"q\", \"right\": true}}]}}",
                "x".repeat(500)
            )
            .as_bytes(),
        )
        .unwrap();
        assert!(class_record(&[Input::path(hostile)]).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("bpv-record-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
