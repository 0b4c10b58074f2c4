//! `backprop-viz class-load` against a real class server it starts itself
//! (`class --bind 127.0.0.1 --port 0`): a correctness test, not a timed
//! one. Every answer is acknowledged, none is missing from the teacher's
//! final tally, and the counts add up; the latencies are only present.

use std::process::{Command, Output};

fn class_load(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_backprop-viz"))
        .arg("class-load")
        .args(args)
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn twenty_students_answer_three_questions_and_nothing_is_lost() {
    let o = class_load(&["--students", "20", "--questions", "3", "--json"]);
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(0), "stdout: {out}\nstderr: {err}");
    let line = out.lines().last().unwrap_or_default();
    let r: serde_json::Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"));
    let n = |key: &str| {
        r[key]
            .as_u64()
            .unwrap_or_else(|| panic!("{key} is not a count: {r}"))
    };
    assert_eq!(n("students"), 20);
    assert_eq!(n("questions"), 3);
    // Questions 0 and 1 get one round, question 2 (every third) two.
    assert_eq!(n("rounds"), 4);
    // Every student answers every round once, and some change once.
    assert_eq!(n("answers"), 20 * 4 + n("changed"), "{r}");
    assert!(n("changed") <= 20 * 4);
    assert_eq!(n("lost"), 0, "{r}");
    assert_eq!(n("unacked"), 0, "{r}");
    assert_eq!(n("unseen"), 0, "{r}");
    assert_eq!(n("errors"), 0, "{r}");
    for key in ["latency_ms", "ack_ms", "question_ms"] {
        for p in ["p50", "p95", "p99", "max"] {
            assert!(
                r[key][p].as_f64().is_some_and(|v| v >= 0.0),
                "{key}.{p}: {r}"
            );
        }
    }
    // The server it started was measured.
    assert!(r["server"]["pid"].as_u64().is_some(), "{r}");
    assert!(
        r["server"]["peak_rss_mb"]
            .as_f64()
            .is_some_and(|mb| mb > 0.0),
        "{r}"
    );
    assert!(r["server"]["cpu_cores"].as_f64().is_some(), "{r}");
    assert!(r["wall_s"].as_f64().is_some_and(|s| s > 0.0), "{r}");
}

#[test]
fn bad_input_is_one_error_line() {
    for (args, needle) in [
        (&["--changes", "1.5"][..], "--changes"),
        (&["--students", "0"][..], "--students"),
        (&["--url", "127.0.0.1:8080"][..], "--url"),
        (
            &["--url", "http://127.0.0.1:8080/#class=ABC234"][..],
            "teacher",
        ),
        (&["--pid", "1"][..], "--pid"),
    ] {
        let o = class_load(args);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.starts_with("error:") && err.contains(needle),
            "{args:?}: {err}"
        );
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    }
}
