//! `backprop-viz check --trace STEP.safetensors MINE... [--json]`: a
//! student's own backward tensors against a trace, each said to match or
//! named as one mistake of the catalogue (docs/CHECK-CONTRACT.md).
//! Exit 0 when all match, 1 when one does not, 2 on bad input.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{fail, Result};
use crate::check::{check, report_json, Verdict};
use crate::io::file::Input;
use crate::io::handin::handed_within;
use crate::io::read_trace;

pub fn run(trace_path: &Path, mine: &[PathBuf], as_json: bool) -> Result<ExitCode> {
    let trace = read_trace(trace_path)?;
    let mut verdicts: Vec<Verdict> = Vec::new();
    for path in mine {
        for handed in handed_within(&Input::path(path), crate::check::most_values(&trace))? {
            let verdict =
                check(&trace, &handed).map_err(|e| fail(format!("{}: {e}", path.display())))?;
            verdicts.push(verdict);
        }
    }
    if as_json {
        println!("{}", report_json(&verdicts));
    } else {
        let width = verdicts.iter().map(|v| v.name.len()).max().unwrap_or(0);
        for v in &verdicts {
            let word = match v.diagnosis {
                None => "ok".to_string(),
                Some(mistake) => format!("WRONG ({})", mistake.id()),
            };
            println!("{:width$}  {word}", v.name);
            println!("{:width$}  {}", "", v.message());
        }
        let wrong = verdicts.iter().filter(|v| !v.ok).count();
        if wrong == 0 {
            println!("all {} tensors match the trace", verdicts.len());
        } else {
            println!(
                "{wrong} of {} tensors do not match the trace",
                verdicts.len()
            );
        }
    }
    Ok(if verdicts.iter().all(|v| v.ok) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
