//! Triggered faults through the real binary: a fault fired by an event (a message sent, a
//! note written) finds a bug no timed fault was aimed at, replays with the same trace hash,
//! survives `fuzz` into its failure file, and bad triggers are located errors.

mod common;

use common::faultline;
use std::path::{Path, PathBuf};

const TRIGGERED: &str = "tests/triggers/raft-unsynced-vote.yaml";

fn dir(name: &str) -> PathBuf {
    let dir = common::fresh_dir("triggers", name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn stdout(args: &[&str]) -> (String, Option<i32>) {
    let out = faultline(args);
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (text, out.status.code())
}

fn trace_hash(text: &str) -> &str {
    text.lines()
        .find_map(|l| l.strip_prefix("trace      hash "))
        .and_then(|l| l.split_whitespace().next())
        .expect("a trace hash line")
}

#[test]
fn a_vote_crash_fired_by_the_vote_itself_finds_the_unsynced_vote_bug() {
    let (text, code) = stdout(&["run", TRIGGERED]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("triggers   2 of 2 fired"), "{text}");
    assert!(
        text.contains("n1 and n2 were both elected leader of term 1"),
        "{text}"
    );
    let (again, _) = stdout(&["run", TRIGGERED]);
    assert_eq!(trace_hash(&text), trace_hash(&again));
    // Without the bug the same triggers fire and Raft keeps one leader per term.
    let d = dir("correct");
    let source = std::fs::read_to_string(TRIGGERED).unwrap();
    let correct = source.replace("bug: unsynced-vote\n", "").replace(
        "expect: { violation: election_safety }",
        "expect: { outcome: pass }",
    );
    let file = d.join("correct.yaml");
    std::fs::write(&file, correct).unwrap();
    let (text, code) = stdout(&["run", file.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("triggers   2 of 2 fired"), "{text}");
}

#[test]
fn the_trace_notes_each_firing_with_the_node_it_acted_on() {
    let d = dir("trace");
    let trace = d.join("trace.jsonl");
    let (text, code) = stdout(&["run", TRIGGERED, "--trace", trace.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{text}");
    let trace = std::fs::read_to_string(trace).unwrap();
    let fired: Vec<&str> = trace
        .lines()
        .filter(|l| l.contains("triggered fault"))
        .collect();
    assert_eq!(fired.len(), 2, "{fired:?}");
    assert!(
        fired[0].contains("on the 1st Vote sent: crash n3"),
        "{}",
        fired[0]
    );
    assert!(fired[1].contains("restart n3 1ms later"), "{}", fired[1]);
}

#[test]
fn a_failure_file_keeps_its_triggers_and_replays_with_the_same_hash() {
    let d = dir("fuzz");
    let source = std::fs::read_to_string(TRIGGERED).unwrap();
    let expect_pass = source.replace(
        "expect: { violation: election_safety }",
        "expect: { outcome: pass }",
    );
    let file = d.join("triggered.yaml");
    std::fs::write(&file, expect_pass).unwrap();
    let out = d.join("out");
    let (text, code) = stdout(&[
        "fuzz",
        file.to_str().unwrap(),
        "--seeds",
        "29..30",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1), "{text}");
    let failure = out.join("election_safety").join("seed-29.yaml");
    let written = std::fs::read_to_string(&failure).expect("the failure file");
    assert!(written.contains("$node"), "{written}");
    assert!(written.contains("sent: Vote"), "{written}");
    let (replay, _) = stdout(&["run", failure.to_str().unwrap()]);
    let (original, _) = stdout(&["run", TRIGGERED]);
    assert!(replay.contains("triggers   2 of 2 fired"), "{replay}");
    assert_eq!(trace_hash(&replay), trace_hash(&original));
}

#[test]
fn a_trigger_that_never_fires_is_reported() {
    let d = dir("never");
    let source = std::fs::read_to_string(TRIGGERED).unwrap();
    let text = source.replace(
        "  - { on: { sent: Vote }, after: 1ms, restart: $node }",
        "  - { on: { sent: Vote }, after: 1ms, restart: $node }\n  \
         - { on: { sent: AppendEntries, nth: 2 }, message: drop }",
    );
    let file = d.join("never.yaml");
    std::fs::write(&file, text).unwrap();
    let (text, _) = stdout(&["run", file.to_str().unwrap(), "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let triggers = v["triggers"].as_array().expect("a triggers list");
    assert_eq!(triggers.len(), 3);
    assert_eq!(triggers[2]["fired"], false);
    assert_eq!(
        triggers[2]["trigger"],
        "on the 2nd AppendEntries sent: drop it"
    );
}

fn located_error(yaml_faults: &str, wanted: &str) {
    let d = dir("bad");
    let file = d.join("bad.yaml");
    let text =
        format!("name: bad\nprotocol: raft\nnodes: 3\nduration: 1s\nfaults:\n{yaml_faults}\n");
    std::fs::write(&file, text).unwrap();
    let (text, code) = stdout(&["run", file.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{text}");
    let located = format!("{}:6:", file.display());
    assert!(text.contains(&located), "not located at line 6: {text}");
    assert!(text.contains(wanted), "{text}");
    assert!(!text.contains("panicked"), "{text}");
}

#[test]
fn bad_triggers_are_located_errors() {
    located_error(
        "  - { on: { note: leader }, message: drop }",
        "`message:` acts on the message a `sent:` trigger caught",
    );
    located_error(
        "  - { at: 1s, crash: $node }",
        "`$node` names the node a trigger fired at",
    );
    located_error(
        "  - { on: { note: leader, sent: Vote }, crash: n1 }",
        "exactly one of `note`, `sent` or `delivered`",
    );
    located_error(
        "  - { on: { sent: Vote, nth: 0 }, crash: n1 }",
        "counts from 1",
    );
    located_error("  - { on: { sent: Vote }, at: 1s, crash: n1 }", "not both");
    located_error(
        "  - { on: { sent: Vote }, message: { delay: 0s } }",
        "longer than 0s",
    );
    located_error(
        "  - { on: { sent: Vote }, crash: n1, restart: n2 }",
        "exactly one action",
    );
    located_error(
        "  - { on: { sent: Vote }, after: 5s, crash: n1 }",
        "longer than the whole run",
    );
    located_error("  - { on: { sent: Vote, node: n9 }, crash: n1 }", "n9");
}

#[test]
fn triggers_write_back_as_they_were_read() {
    let d = dir("roundtrip");
    let out = d.join("shrunk.yaml");
    // `shrink` writes the scenario back: a triggered failure keeps both triggers, which it
    // needs, and the file it writes runs to the same violation.
    let source = std::fs::read_to_string(TRIGGERED).unwrap();
    let expect_pass = source.replace(
        "expect: { violation: election_safety }",
        "expect: { outcome: pass }",
    );
    let file = d.join("failing.yaml");
    std::fs::write(&file, expect_pass).unwrap();
    let (text, code) = stdout(&[
        "shrink",
        file.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{text}");
    let shrunk = std::fs::read_to_string(&out).unwrap();
    assert_eq!(shrunk.matches("$node").count(), 2, "{shrunk}");
    let (run, _) = stdout(&["run", out.to_str().unwrap()]);
    assert!(run.contains("FAIL election_safety"), "{run}");
    assert!(Path::new(&out).exists());
}

/// Raft's Figure 8 bug needs a fault at three leader changes in a row; with its scripted
/// faults removed, `fuzz` finds it by a chase ([`faultline::faults::chase`]): seed 274 hits
/// the node that notes "leader of term" on successive notes.
#[test]
fn fuzz_finds_raft_figure_8_by_chasing_leaders_and_the_failure_replays() {
    let d = dir("chase");
    let file = d.join("figure8.yaml");
    let text = common::without_faults("scenarios/raft-figure8-bug.yaml");
    std::fs::write(&file, text).unwrap();
    let out = d.join("out");
    let args = ["--out", out.to_str().unwrap(), "--format", "json"];
    let (text, code) = stdout(
        &[
            &["fuzz", file.to_str().unwrap(), "--seeds", "270..280"],
            &args[..],
        ]
        .concat(),
    );
    assert_eq!(code, Some(1), "{text}");
    let report: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let failures = report["failures"].as_array().expect("failures");
    let seeds: Vec<(u64, &str)> = failures
        .iter()
        .map(|f| (f["seed"].as_u64().unwrap(), f["property"].as_str().unwrap()))
        .collect();
    assert_eq!(seeds, [(274, "leader_completeness")], "{text}");
    let failure = out.join("leader_completeness").join("seed-274.yaml");
    let written = std::fs::read_to_string(&failure).expect("the failure file");
    assert!(
        written.matches("note: leader of term").count() >= 6,
        "{written}"
    );
    for turn in ["nth: 2", "nth: 3"] {
        assert!(
            written.contains(turn),
            "no fault on the {turn} note: {written}"
        );
    }
    assert!(
        !written.contains("- at: "),
        "a chase draws no timed fault: {written}"
    );
    let (replay, code) = stdout(&["run", failure.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{replay}");
    assert!(replay.contains("FAIL leader_completeness"), "{replay}");
    let (again, _) = stdout(&["run", failure.to_str().unwrap()]);
    assert_eq!(trace_hash(&replay), trace_hash(&again));
}
