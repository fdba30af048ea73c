//! `faultline explore` through the real binary, on the scenarios in scenarios/explore/.

mod common;

use common::faultline;
use serde_json::Value;

/// Runs `faultline explore FILE ARGS --format json`, writing any counterexample to a temporary
/// directory: the exit code and the report.
fn explore(file: &str, args: &[&str]) -> (i32, Value) {
    static CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = common::fresh_dir("explore", &format!("call-{call}"));
    let out = dir.join("path.yaml");
    let out = out.to_str().expect("utf-8");
    let mut all = vec!["explore", file, "--format", "json", "--out", out];
    all.extend_from_slice(args);
    let out = faultline(&all);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().expect("exited"), report)
}

/// Whether the path to the violation in `report` crashes a node.
fn crashes(report: &Value) -> bool {
    let steps = report["path"]["steps"].as_array().expect("steps");
    steps.iter().any(|s| s["event"]["crash"].is_object())
}

#[test]
fn correct_paxos_is_exhausted_with_the_same_counts_every_time() {
    let file = "scenarios/explore/paxos.yaml";
    let (code, a) = explore(file, &["--timers", "1", "--drops", "1"]);
    assert_eq!(code, 0, "{a}");
    assert_eq!(a["verdict"], "exhausted");
    assert!(a["unique_states"].as_u64().expect("a count") > 100, "{a}");
    assert!(a["states"].as_u64() >= a["unique_states"].as_u64());
    assert!(a["path"].is_null() && a["counterexample"].is_null());
    let (_, b) = explore(file, &["--timers", "1", "--drops", "1"]);
    for key in ["states", "unique_states", "depth_max"] {
        assert_eq!(a[key], b[key], "{key}");
    }
}

#[test]
fn every_paxos_bug_is_found_with_a_path_that_ends_in_it() {
    for bug in ["ignore-accepted", "break-promise", "one-short-quorum"] {
        let file = format!("scenarios/explore/paxos-{bug}-bug.yaml");
        let (code, report) = explore(&file, &["--timers", "2"]);
        assert_eq!(
            code, 0,
            "{bug}: the scenario expects the violation: {report}"
        );
        assert_eq!(report["verdict"], "violation", "{bug}");
        let found = &report["path"];
        assert_eq!(found["violation"]["property"], "agreement", "{bug}");
        let steps = found["steps"].as_array().expect("steps");
        assert!(!steps.is_empty(), "{bug}");
        assert!(
            steps[0]["event"]["fire"].is_object(),
            "{bug}: a proposal starts: {steps:?}"
        );
    }
    let (code, report) = explore(
        "scenarios/explore/paxos-unsynced-acceptor-bug.yaml",
        &["--timers", "2", "--crashes", "1"],
    );
    assert_eq!((code, &report["verdict"]), (0, &Value::from("violation")));
    assert!(
        crashes(&report),
        "an unsynced promise is lost only in a crash: {report}"
    );
}

#[test]
fn two_phase_commit_keeps_atomicity_and_its_bugs_break_it() {
    let (code, report) = explore(
        "scenarios/explore/two-phase-commit.yaml",
        &["--timers", "2", "--crashes", "1"],
    );
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["verdict"], "exhausted");
    assert_eq!(report["end_properties"][0], "all_decided");
    assert!(report["end_states"].as_u64() >= Some(1), "{report}");
    for bug in ["unilateral-abort", "unlogged-decision"] {
        let file = format!("scenarios/explore/two-phase-commit-{bug}-bug.yaml");
        let (code, report) = explore(&file, &["--timers", "2", "--crashes", "1"]);
        assert_eq!(code, 0, "{bug}: {report}");
        assert_eq!(report["path"]["violation"]["property"], "atomicity");
    }
}

#[test]
fn a_violation_nobody_expected_exits_1_and_is_shown_step_by_step() {
    let dir = common::fresh_dir("explore", "unexpected");
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let file = dir.join("bug.yaml");
    let text = std::fs::read_to_string("scenarios/explore/paxos-ignore-accepted-bug.yaml")
        .expect("readable")
        .replace(
            "expect: { violation: agreement }",
            "expect: { outcome: pass }",
        );
    std::fs::write(&file, text).expect("writable");
    let written = dir.join("path.yaml");
    let out = faultline(&[
        "explore",
        file.to_str().expect("utf-8"),
        "--timers",
        "2",
        "--out",
        written.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("agreement violated after"), "{text}");
    assert!(text.contains("   1. n"), "numbered steps: {text}");
    assert!(
        text.contains("note: prepare ballot"),
        "the handlers' notes: {text}"
    );
}

#[test]
fn a_search_a_limit_stops_exits_4_and_says_so() {
    let (code, report) = explore("scenarios/explore/paxos.yaml", &["--states-max", "50"]);
    assert_eq!(code, 4, "{report}");
    assert_eq!(report["verdict"], "budget");
    assert_eq!(report["unique_states"], 50);
}

#[test]
fn sections_explore_does_not_use_are_named() {
    let (_, report) = explore("scenarios/paxos-agreement.yaml", &["--states-max", "10"]);
    let ignored = report["ignored"].as_array().expect("a list");
    for section in ["network", "faults", "liveness"] {
        assert!(
            ignored.contains(&Value::from(section)),
            "{section}: {ignored:?}"
        );
    }
}

#[test]
fn limits_out_of_range_are_bad_input() {
    for args in [["--drops", "65"], ["--states-max", "0"]] {
        let mut all = vec!["explore", "scenarios/explore/paxos.yaml"];
        all.extend_from_slice(&args);
        let out = faultline(&all);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("must be"), "{args:?}: {err}");
    }
    let out = faultline(&["explore", "scenarios/explore/missing.yaml"]);
    assert_eq!(out.status.code(), Some(2));
}

/// Explores `file`, writing its counterexample to a fresh directory: the file written.
fn counterexample(file: &str, args: &[&str], name: &str) -> std::path::PathBuf {
    let dir = common::fresh_dir("explore", name);
    let out = dir.join("path.yaml");
    let mut all = vec![
        "explore",
        file,
        "--out",
        out.to_str().expect("utf-8"),
        "--format",
        "json",
    ];
    all.extend_from_slice(args);
    let done = faultline(&all);
    let report: Value = serde_json::from_slice(&done.stdout).expect("a JSON report");
    assert_eq!(
        report["counterexample"],
        out.to_str().expect("utf-8"),
        "{report}"
    );
    out
}

#[test]
fn run_replays_a_counterexample_event_by_event_to_the_same_violation() {
    let out = counterexample(
        "scenarios/explore/paxos-unsynced-acceptor-bug.yaml",
        &["--timers", "2", "--crashes", "1"],
        "replay",
    );
    let text = std::fs::read_to_string(&out).expect("written");
    assert!(
        text.contains("schedule:") && text.contains("- crash:"),
        "{text}"
    );
    let path = out.to_str().expect("utf-8");
    let run = |format: &str| faultline(&["run", path, "--format", format]);
    let (a, b) = (run("json"), run("json"));
    assert_eq!(a.status.code(), Some(0), "expect: names the violation");
    let a: Value = serde_json::from_slice(&a.stdout).expect("JSON");
    let b: Value = serde_json::from_slice(&b.stdout).expect("JSON");
    assert_eq!(a["violations"][0]["property"], "agreement");
    assert_eq!(
        a["trace_hash"], b["trace_hash"],
        "a replay is deterministic"
    );
    assert_eq!(a["faults"]["crashes"], 1, "{}", a["faults"]);
    let shown = String::from_utf8_lossy(&run("text").stdout).into_owned();
    assert!(shown.contains("broke after event"), "{shown}");
    assert!(shown.contains("crash n"), "{shown}");
}

#[test]
fn a_schedule_that_does_not_fit_is_bad_input_naming_the_event() {
    let out = counterexample(
        "scenarios/explore/paxos-ignore-accepted-bug.yaml",
        &["--timers", "2"],
        "misfit",
    );
    let text = std::fs::read_to_string(&out).expect("written");
    let edited = out.with_file_name("edited.yaml");
    std::fs::write(&edited, text.replace("value: 200 }", "value: 300 }")).expect("writable");
    let done = faultline(&["run", edited.to_str().expect("utf-8")]);
    assert_eq!(done.status.code(), Some(2));
    let err = String::from_utf8_lossy(&done.stderr);
    assert!(err.contains("event 8 of the schedule"), "{err}");
    assert!(err.contains("possible there: deliver"), "{err}");
    let history = out.with_file_name("history.jsonl");
    let path = out.to_str().expect("utf-8");
    let done = faultline(&["run", path, "--history", history.to_str().expect("utf-8")]);
    assert_eq!(done.status.code(), Some(2), "a schedule has no clients");
    assert!(String::from_utf8_lossy(&done.stderr).contains("no history"));
    assert!(!history.exists());
}

/// The trace lines of `file` (JSON Lines).
fn trace_lines(file: &std::path::Path) -> Vec<Value> {
    let text = std::fs::read_to_string(file).expect("the trace was written");
    let lines = text.lines().map(|l| serde_json::from_str(l).expect("JSON"));
    lines.collect()
}

#[test]
fn a_replayed_counterexample_writes_a_trace_a_page_and_a_shiviz_log() {
    let out = counterexample(
        "scenarios/explore/two-phase-commit-unlogged-decision-bug.yaml",
        &["--crashes", "1"],
        "traced",
    );
    let file = |name: &str| out.with_file_name(name);
    let (trace, page, shiviz) = (file("t.jsonl"), file("p.html"), file("s.log"));
    let arg = |p: &std::path::Path| p.to_str().expect("utf-8").to_string();
    let done = faultline(&[
        "run",
        &arg(&out),
        "--trace",
        &arg(&trace),
        "--html",
        &arg(&page),
        "--shiviz",
        &arg(&shiviz),
        "--states",
        "--check-determinism",
    ]);
    let stdout = String::from_utf8_lossy(&done.stdout);
    assert_eq!(done.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("determinism  ok"), "{stdout}");
    let lines = trace_lines(&trace);
    let kind = |l: &Value| l["kind"].as_str().unwrap_or_default().to_string();
    let starts = lines.iter().filter(|l| kind(l) == "start").count();
    assert_eq!(starts, 3, "every node boots");
    // Each delivery names a message sent earlier, to the node it reaches, and is its only one.
    let mut delivered = std::collections::BTreeSet::new();
    for (at, line) in lines
        .iter()
        .enumerate()
        .filter(|(_, l)| kind(l) == "deliver")
    {
        let id = &line["msg_id"];
        assert!(delivered.insert(id.to_string()), "msg {id} delivered twice");
        let sent = lines[..at]
            .iter()
            .find(|l| kind(l) == "send" && l["msg_id"] == *id)
            .unwrap_or_else(|| panic!("msg {id} delivered but never sent"));
        assert_eq!(sent["to"], line["node"]);
        assert!(line["state_after"].is_string(), "{line}");
    }
    assert!(lines.iter().any(|l| kind(l) == "crash"));
    let violation = lines.iter().find(|l| kind(l) == "violation");
    let violation = violation.expect("the violation is appended");
    assert_eq!(violation["property"], "atomicity", "{violation}");
    let times: Vec<u64> = lines.iter().filter_map(|l| l["t_ns"].as_u64()).collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "time never goes back"
    );
    let log = std::fs::read_to_string(&shiviz).expect("the ShiViz log was written");
    assert!(log.contains("n1 {\"n1\":"), "{log}");
    let html = std::fs::read_to_string(&page).expect("the page was written");
    assert!(html.contains("atomicity") && html.contains("Decision"));
}

#[test]
fn a_depth_limit_says_the_search_went_no_deeper() {
    let (code, report) = explore("scenarios/explore/paxos.yaml", &["--depth", "3"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["verdict"], "exhausted");
    assert_eq!(report["depth_cut"], true);
    assert_eq!(report["depth_max"], 3);
    let out = faultline(&["explore", "scenarios/explore/paxos.yaml", "--depth", "3"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("exhausted to the depth limit"), "{text}");
}

#[test]
fn raft_elections_keep_one_leader_per_term_and_an_unsynced_vote_breaks_it() {
    let (code, report) = explore("scenarios/explore/raft.yaml", &["--timers", "2"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["verdict"], "exhausted");
    let invariants = report["invariants"].as_array().expect("a list");
    assert!(
        invariants.contains(&Value::from("election_safety")),
        "the monitor is carried in every state: {report}"
    );
    let (code, report) = explore(
        "scenarios/explore/raft-unsynced-vote-bug.yaml",
        &["--timers", "2", "--crashes", "1"],
    );
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["path"]["violation"]["property"], "election_safety");
    assert!(
        crashes(&report),
        "a vote is forgotten only in a crash: {report}"
    );
}

#[test]
fn a_time_budget_stops_a_long_search_as_a_limit() {
    let (code, report) = explore(
        "scenarios/explore/paxos.yaml",
        &["--timers", "2", "--time-budget", "1ms"],
    );
    assert_eq!(code, 4, "{report}");
    assert_eq!(report["verdict"], "budget");
    let unique = report["unique_states"].as_u64().expect("a count");
    assert!(unique < 1_699_819, "stopped before the end: {unique}");
}

/// The events of the path in `report`, each as its one kind (`invoke`, `fire`, ...).
fn kinds(report: &Value) -> Vec<String> {
    let steps = report["path"]["steps"].as_array().expect("steps");
    let kind = |s: &Value| {
        let event = s["event"].as_object().expect("an event is a map");
        event.keys().next().expect("one kind").clone()
    };
    steps.iter().map(kind).collect()
}

#[test]
fn clients_ask_any_node_and_the_history_check_finds_stale_reads() {
    let (code, report) = explore("scenarios/explore/register.yaml", &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["verdict"], "exhausted");
    assert!(report["unique_states"].as_u64() > Some(1_000), "{report}");
    let invariants = report["invariants"].as_array().expect("a list");
    assert!(
        invariants.contains(&Value::from("linearizable")),
        "{report}"
    );
    assert_eq!(report["budgets"]["client_ops_max"], 1);
    for file in [
        "scenarios/explore/register-read-any-replica-bug.yaml",
        "scenarios/explore/quorum-kv-weak.yaml",
    ] {
        let (code, report) = explore(file, &[]);
        assert_eq!(code, 0, "{file}: {report}");
        assert_eq!(report["path"]["violation"]["property"], "linearizable");
        let kinds = kinds(&report);
        assert_eq!(
            kinds.iter().filter(|k| *k == "invoke").count(),
            2,
            "{file}: a write and a read: {report}"
        );
        assert_eq!(kinds.last().map(String::as_str), Some("invoke"), "{file}");
    }
}

#[test]
fn raft_answering_reads_from_a_lagging_leader_is_a_stale_read() {
    let (code, report) = explore("scenarios/explore/raft-stale-read-bug.yaml", &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["path"]["violation"]["property"], "linearizable");
    let kinds = kinds(&report);
    let count = |k: &str| kinds.iter().filter(|x| *x == k).count();
    assert_eq!(count("fire"), 2, "two elections: {kinds:?}");
    assert_eq!(count("invoke"), 2, "a write, then a read: {kinds:?}");
}

#[test]
fn a_counterexample_with_clients_replays_with_its_history() {
    let out = counterexample(
        "scenarios/explore/register-read-any-replica-bug.yaml",
        &[],
        "clients",
    );
    let text = std::fs::read_to_string(&out).expect("written");
    assert!(text.contains("- invoke:"), "{text}");
    let (history, trace) = (out.with_file_name("h.jsonl"), out.with_file_name("t.jsonl"));
    let arg = |p: &std::path::Path| p.to_str().expect("utf-8").to_string();
    let done = faultline(&[
        "run",
        &arg(&out),
        "--history",
        &arg(&history),
        "--trace",
        &arg(&trace),
        "--format",
        "json",
    ]);
    assert_eq!(done.status.code(), Some(0), "expect: names the violation");
    let report: Value = serde_json::from_slice(&done.stdout).expect("JSON");
    assert_eq!(report["history"]["status"], "violated", "{report}");
    let ops = trace_lines(&history);
    let types: Vec<&str> = ops.iter().filter_map(|o| o["type"].as_str()).collect();
    assert_eq!(types, ["invoke", "ok", "invoke", "ok"], "{ops:?}");
    let lines = trace_lines(&trace);
    let kind = |k: &str| lines.iter().filter(|l| l["kind"] == k).count();
    assert_eq!((kind("invoke"), kind("complete")), (2, 2));
    // An op the client would not invoke there does not fit the path.
    let edited = out.with_file_name("edited.yaml");
    std::fs::write(&edited, text.replace("Read { key: 0 }", "Read { key: 1 }")).expect("writable");
    let done = faultline(&["run", &arg(&edited)]);
    assert_eq!(done.status.code(), Some(2));
    let err = String::from_utf8_lossy(&done.stderr);
    assert!(err.contains("possible there: "), "{err}");
}

#[test]
fn a_scenario_sets_its_budgets_and_flags_override_them() {
    let file = "scenarios/explore/two-phase-commit-unlogged-decision-bug.yaml";
    let (code, report) = explore(file, &[]);
    assert_eq!(
        code, 0,
        "explore: {{ crashes: 1 }} lets the bug in: {report}"
    );
    assert_eq!(report["budgets"]["crashes_max"], 1);
    assert!(crashes(&report));
    let (code, report) = explore(file, &["--crashes", "0"]);
    assert_eq!(
        report["verdict"], "exhausted",
        "without a crash the decision holds"
    );
    assert_eq!(code, 1, "the violation `expect:` names was not found");
}

#[test]
fn depth_first_says_so_and_its_path_still_replays() {
    let file = "scenarios/explore/paxos-ignore-accepted-bug.yaml";
    let (code, report) = explore(file, &["--depth-first"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["order"], "depth-first");
    assert_eq!(report["path"]["violation"]["property"], "agreement");
    let out = counterexample(file, &["--depth-first"], "depth-first");
    let done = faultline(&["run", out.to_str().expect("utf-8")]);
    assert_eq!(
        done.status.code(),
        Some(0),
        "the path breaks agreement again"
    );
    let (_, report) = explore(file, &[]);
    assert_eq!(report["order"], "breadth-first");
}

#[test]
fn two_threads_report_what_one_does() {
    let file = "scenarios/explore/raft-unsynced-vote-bug.yaml";
    let (_, one) = explore(file, &["--jobs", "1"]);
    let (code, two) = explore(file, &["--jobs", "2"]);
    assert_eq!(code, 0, "{two}");
    for key in ["verdict", "states", "unique_states", "path"] {
        assert_eq!(one[key], two[key], "{key}");
    }
    for bad in [&["--jobs", "0"][..], &["--jobs", "2", "--depth-first"][..]] {
        let mut all = vec!["explore", file];
        all.extend_from_slice(bad);
        let out = faultline(&all);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
    }
}

#[test]
fn a_client_that_times_out_ends_its_operation_as_info() {
    let dir = common::fresh_dir("explore", "timeout");
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let scenario = std::fs::read_to_string("scenarios/explore/register.yaml").expect("readable");
    let file = dir.join("timeout.yaml");
    let schedule = "schedule:\n\
        - invoke: { client: 0, node: n2, op: 'Write { key: 0, value: 2 }' }\n\
        - timeout: { client: 0, op: 'Write { key: 0, value: 2 }' }\n";
    std::fs::write(&file, format!("{scenario}{schedule}")).expect("writable");
    let history = dir.join("h.jsonl");
    let arg = |p: &std::path::Path| p.to_str().expect("utf-8").to_string();
    let done = faultline(&["run", &arg(&file), "--history", &arg(&history)]);
    assert_eq!(done.status.code(), Some(0));
    let ops = trace_lines(&history);
    let types: Vec<&str> = ops.iter().filter_map(|o| o["type"].as_str()).collect();
    assert_eq!(
        types,
        ["invoke", "info"],
        "n2 redirected the write, then it timed out"
    );
    let (code, none) = explore("scenarios/explore/register.yaml", &[]);
    let (_, some) = explore("scenarios/explore/register.yaml", &["--timeouts", "1"]);
    assert_eq!((code, &some["verdict"]), (0, &Value::from("exhausted")));
    assert!(some["unique_states"].as_u64() > none["unique_states"].as_u64());
    assert_eq!(some["budgets"]["timeouts_max"], 1);
}

#[test]
fn sleep_sets_try_fewer_transitions_to_the_same_states_and_can_be_turned_off() {
    for (file, args) in [
        (
            "scenarios/explore/two-phase-commit.yaml",
            &["--drops", "1"][..],
        ),
        ("scenarios/explore/register.yaml", &[][..]),
        ("scenarios/explore/paxos-break-promise-bug.yaml", &[][..]),
    ] {
        let (code, reduced) = explore(file, args);
        let all: Vec<&str> = args.iter().copied().chain(["--no-reduction"]).collect();
        let (same_code, plain) = explore(file, &all);
        assert_eq!(
            (code, reduced["reduction"].as_bool()),
            (0, Some(true)),
            "{file}"
        );
        assert_eq!(
            (same_code, plain["reduction"].as_bool()),
            (0, Some(false)),
            "{file}"
        );
        for key in ["verdict", "unique_states", "coverage", "end_states"] {
            assert_eq!(reduced[key], plain[key], "{file}: {key}");
        }
        let tried = |r: &Value| r["states"].as_u64().expect("a count");
        assert!(tried(&reduced) < tried(&plain), "{file}");
        let steps = |r: &Value| r["path"]["steps"].as_array().map(Vec::len);
        assert_eq!(steps(&reduced), steps(&plain), "{file}: a path as short");
    }
}
