//! Explanations of violations, through the real binary on the scenario files: the chain cites
//! the events that matter, in happened-before order, and the trace file carries them.

mod common;

use common::{faultline, fresh_dir};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// At most this many numbered steps (the library's `MAX_STEPS`).
const MAX_STEPS: usize = 12;

fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name)
}

/// Runs `name` with `--trace`; returns the JSON report and the trace file's lines.
fn run_traced(name: &str) -> (Value, Vec<Value>) {
    let dir = fresh_dir("explain", name);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let trace = dir.join("run.jsonl");
    let out = faultline(&[
        "run",
        scenario(name).to_str().expect("utf-8"),
        "--trace",
        trace.to_str().expect("utf-8"),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{name}: {out:?}");
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let lines = std::fs::read_to_string(&trace)
        .expect("trace written")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    (report, lines)
}

fn bug_scenarios() -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"))
            .expect("scenarios/")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with("-bug.yaml"))
            .collect();
    names.sort();
    names
}

fn chain(v: &Value) -> Vec<u64> {
    v["explanation"]["chain"]
        .as_array()
        .expect("a chain")
        .iter()
        .map(|i| i.as_u64().expect("an index"))
        .collect()
}

#[test]
fn every_bug_scenario_explains_its_violation_and_appends_it_to_the_trace() {
    for name in bug_scenarios() {
        let (report, lines) = run_traced(&name);
        let events = report["trace_events"].as_u64().expect("trace_events") as usize;
        // The events, then one violation and one explanation line per violation.
        for (i, line) in lines[..events].iter().enumerate() {
            assert_eq!(line["i"], i as u64, "{name}: events come first");
        }
        let violations = report["violations"].as_array().expect("violations");
        assert!(!violations.is_empty(), "{name}");
        assert_eq!(lines.len(), events + 2 * violations.len(), "{name}");
        for (k, v) in violations.iter().enumerate() {
            let text = v["explanation"]["text"].as_str().expect("text");
            let property = v["property"].as_str().expect("property");
            assert!(
                text.starts_with(&format!("{property} was violated at ")),
                "{name}: {text}"
            );
            let steps = text
                .lines()
                .filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
                .count();
            assert!(
                (1..=MAX_STEPS).contains(&steps),
                "{name}: {steps} steps:\n{text}"
            );
            let chain = chain(v);
            assert!(chain.windows(2).all(|w| w[0] < w[1]), "{name}: trace order");
            assert!(chain.iter().all(|&i| (i as usize) < events), "{name}");
            // Every step happened no later than the violation was found.
            let t_ns = v["time_ns"].as_u64().expect("time");
            for &i in &chain {
                let at = lines[i as usize]["t_ns"].as_u64().expect("t_ns");
                assert!(
                    at <= t_ns,
                    "{name}: #{i} at {at} after the violation at {t_ns}"
                );
            }
            let record = &lines[events + 2 * k];
            assert_eq!(record["kind"], "violation");
            assert_eq!(record["property"], property);
            assert_eq!(record["t_ns"], t_ns);
            assert_eq!(record["message"], v["message"]);
            assert_eq!(record["nodes"], v["nodes"]);
            assert_eq!(record.get("event"), v.get("event"), "{name}");
            let explanation = &lines[events + 2 * k + 1];
            assert_eq!(explanation["kind"], "explanation");
            assert_eq!(explanation["text"], text);
            assert_eq!(explanation["chain"], v["explanation"]["chain"]);
        }
    }
}

/// The kind of trace event `i`.
fn kind(lines: &[Value], i: u64) -> &str {
    lines[i as usize]["kind"].as_str().expect("kind")
}

#[test]
fn the_unsynced_vote_chain_holds_the_crash_and_both_elections() {
    let (report, lines) = run_traced("raft-unsynced-vote-bug.yaml");
    let v = &report["violations"][0];
    assert_eq!(v["property"], "election_safety");
    let chain = chain(v);
    let event = v["event"].as_u64().expect("found after an event");
    assert!(chain.contains(&event));
    // The crash that lost the voter's unsynced vote, before the second vote it gave.
    let crash = chain
        .iter()
        .copied()
        .find(|&i| {
            kind(&lines, i) == "crash" && lines[i as usize]["lost_writes"].as_u64() > Some(0)
        })
        .expect("the crash that lost the vote is in the chain");
    let voter = lines[crash as usize]["node"].as_str().expect("node");
    assert!(
        chain.iter().any(|&i| i > crash
            && kind(&lines, i) == "restart"
            && lines[i as usize]["node"] == voter),
        "the voter's restart follows its crash"
    );
    let leaders: Vec<&str> = chain
        .iter()
        .filter(|&&i| kind(&lines, i) == "note")
        .filter_map(|&i| lines[i as usize]["note"].as_str())
        .collect();
    assert_eq!(
        leaders.iter().filter(|n| **n == "leader of term 2").count(),
        2,
        "{leaders:?}"
    );
    let text = v["explanation"]["text"].as_str().expect("text");
    assert!(text.contains("crashed, losing"), "{text}");
    assert!(text.contains("← the property broke here"), "{text}");
}

#[test]
fn a_duplicate_shows_up_in_the_exactly_once_chain() {
    let (report, lines) = run_traced("echo-duplicate-bug.yaml");
    let chain = chain(&report["violations"][0]);
    assert!(
        chain.iter().any(|&i| kind(&lines, i) == "duplicate"),
        "{chain:?}"
    );
    let text = report["violations"][0]["explanation"]["text"]
        .as_str()
        .expect("text");
    assert!(
        text.contains("a duplicate copy made by the network"),
        "{text}"
    );
}

#[test]
fn a_stale_read_chain_holds_the_ops_the_checker_names() {
    let (report, lines) = run_traced("raft-stale-read-bug.yaml");
    let v = &report["violations"][0];
    assert_eq!(v["property"], "linearizable");
    assert!(v.get("event").is_none(), "a history violation has no event");
    let bad = &v["ops"][0];
    let chain = chain(v);
    let of_op = |k: &str| {
        chain.iter().any(|&i| {
            let l = &lines[i as usize];
            l["kind"] == k && l["client"] == bad["client"] && l["seq"] == bad["seq"]
        })
    };
    assert!(
        of_op("invoke") && of_op("reply") && of_op("complete"),
        "{chain:?}"
    );
    let text = v["explanation"]["text"].as_str().expect("text");
    let named = format!("client c{} invoked op {}", bad["client"], bad["op"]);
    assert!(text.contains(&named), "{text}");
}

#[test]
fn the_text_report_prints_the_explanation_under_the_violation() {
    let out = faultline(&[
        "run",
        scenario("two-phase-commit-unlogged-decision-bug.yaml")
            .to_str()
            .expect("utf-8"),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    let violated = text.find("atomicity violated at").expect("headline");
    let explained = text.find("atomicity was violated at").expect("explanation");
    assert!(violated < explained, "{text}");
    assert!(
        text.contains("crashed, losing 1 unsynced storage writes"),
        "{text}"
    );
    assert!(text.contains("presumed abort"), "{text}");
}

#[test]
fn a_passing_run_leaves_the_trace_as_it_was() {
    let (report, lines) = run_traced("echo-loss.yaml");
    assert!(
        report["violations"]
            .as_array()
            .expect("violations")
            .is_empty()
    );
    assert_eq!(
        lines.len() as u64,
        report["trace_events"].as_u64().expect("count")
    );
}
