//! `backprop-viz class-load [--url TEACHER_URL] [--students 300]
//! [--questions 30] [--changes 0.3] [--pid PID] [--json]`: simulated
//! students against a live class (`crate::class::load`). Without `--url` it
//! starts a class server of its own on 127.0.0.1 and stops it at the end.
//! Exit 0 when every answer was acknowledged and none is missing from the
//! teacher's final tally, 1 otherwise, 2 on bad input.

use std::process::ExitCode;

use clap::Args;

use super::{fail, Result};
use crate::class::load::{run as run_load, Config};
use crate::class::protocol::{MAX_QUESTIONS, MAX_STUDENTS};

#[derive(Args)]
pub struct ClassLoadArgs {
    /// The teacher's link `http://HOST:PORT/#class=CODE&teacher=TOKEN`
    /// [default: start a class server on 127.0.0.1 for the run].
    #[arg(long, value_name = "TEACHER_URL")]
    url: Option<String>,
    /// Simulated students (each its own WebSocket; joined 9 a second).
    #[arg(long, default_value_t = 300, value_name = "N")]
    students: usize,
    /// Questions asked; every third gets a second round.
    #[arg(long, default_value_t = 30, value_name = "N")]
    questions: usize,
    /// The share of students who change their answer once in a round.
    #[arg(long, default_value_t = 0.3, value_name = "SHARE")]
    changes: f64,
    /// The server's process id, for its memory and CPU (with --url).
    #[arg(long, value_name = "PID")]
    pid: Option<u32>,
    /// Print the result as JSON on the last line.
    #[arg(long)]
    json: bool,
}

pub fn run(args: ClassLoadArgs) -> Result<ExitCode> {
    if !(1..=MAX_STUDENTS).contains(&args.students) {
        return Err(fail(format!(
            "--students {}: between 1 and {MAX_STUDENTS} (the contract's limit per class)",
            args.students
        )));
    }
    if !(1..=MAX_QUESTIONS).contains(&args.questions) {
        return Err(fail(format!(
            "--questions {}: between 1 and {MAX_QUESTIONS}",
            args.questions
        )));
    }
    if !(0.0..=1.0).contains(&args.changes) {
        return Err(fail(format!(
            "--changes {}: a share between 0 and 1",
            args.changes
        )));
    }
    if args.pid.is_some() && args.url.is_none() {
        return Err(fail(
            "--pid is for a server given with --url; without --url the tool measures its own",
        ));
    }
    let config = Config {
        url: args.url,
        students: args.students,
        questions: args.questions,
        changes: args.changes,
        pid: args.pid,
    };
    let report = run_load(&config, &mut |line| eprintln!("{line}"))?;
    println!("{}", report.summary());
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&report).map_err(|e| fail(e.to_string()))?
        );
    }
    Ok(if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
