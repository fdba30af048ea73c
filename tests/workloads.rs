//! Client workloads through the real binary: `--history` files that `check-history` reads back,
//! readable linearizability and set-full reports, and the liveness phase.

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn faultline(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("run faultline");
    (
        out.status.code().expect("exit code"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A path in the temporary directory, unique to this test process.
fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("faultline-{}-{name}", std::process::id()))
}

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("bad JSON ({e}): {stdout}"))
}

#[test]
fn the_written_history_gets_the_same_verdict_from_check_history() {
    for (scenario, code_wanted) in [
        ("scenarios/register-linearizable.yaml", 0),
        ("scenarios/register-stale-read-bug.yaml", 1),
    ] {
        let path = temp("history.jsonl");
        let p = path.to_str().unwrap();
        let (_, stdout, stderr) = faultline(&["run", scenario, "--history", p, "--format", "json"]);
        let run = json(&stdout);
        let lines = std::fs::read_to_string(&path).expect("history written");
        let counts = &run["history"]["ops"];
        let ops: u64 = ["ok", "fail", "info", "pending"]
            .iter()
            .map(|k| counts[k].as_u64().unwrap())
            .sum();
        assert!(ops > 100, "{scenario}: {stderr}");
        // Each op has an invocation line and a completion line.
        assert_eq!(lines.lines().count() as u64, 2 * ops, "{scenario}");
        let (code, out, err) = faultline(&[
            "check-history",
            p,
            "--model",
            "cas-register",
            "--initial",
            "nil",
            "--format",
            "json",
        ]);
        assert_eq!(code, code_wanted, "{scenario}: {out} {err}");
        let verdict = json(&out);
        assert_eq!(verdict["linearizable"], Value::Bool(code_wanted == 0));
        std::fs::remove_file(&path).ok();
    }
}

#[test]
fn a_linearizability_violation_names_the_read_and_the_node_that_served_it() {
    let (code, stdout, _) = faultline(&["run", "scenarios/register-stale-read-bug.yaml"]);
    assert_eq!(code, 0, "the scenario expects the violation: {stdout}");
    assert!(stdout.contains("FAIL linearizable"), "{stdout}");
    assert!(stdout.contains("cannot be linearised"), "{stdout}");
    assert!(
        stdout.contains(": read -> "),
        "the failing op is a read: {stdout}"
    );
    assert!(stdout.contains("answered at"), "{stdout}");
    assert!(
        stdout.contains("the last write acknowledged before it was invoked"),
        "{stdout}"
    );
    assert!(stdout.contains("nodes involved: n2") || stdout.contains("nodes involved: n3"));
}

#[test]
fn set_full_reports_lost_elements() {
    let (code, stdout, _) = faultline(&[
        "run",
        "scenarios/broadcast-set-no-retransmit-bug.yaml",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{stdout}");
    let v = json(&stdout);
    assert_eq!(v["history"]["status"], "violated");
    assert_eq!(v["violations"][0]["property"], "set_full");
    let message = v["violations"][0]["message"].as_str().unwrap();
    assert!(message.contains("lost: "), "{message}");
}

/// The broadcast-partition scenario with a liveness phase instead of its heal.
fn liveness_scenario(bug: &str) -> String {
    [
        "name: liveness",
        "protocol: broadcast",
        bug,
        "nodes: 5",
        "seed: 3",
        "duration: 10s",
        "params: { values_per_node: 4, broadcast_interval: 300ms }",
        "network: { latency: { uniform: [1ms, 10ms] }, drop: 0.2 }",
        "faults:",
        "  - { at: 500ms, partition: [[n1, n2], [n3, n4, n5]] }",
        "  - { at: 1s, crash: n3 }",
        "  - { at: 1500ms, pause: n4 }",
        "liveness: { at: 6s, within: 2s, core: majority }",
    ]
    .join("\n")
}

#[test]
fn the_liveness_phase_heals_the_core_and_reports_what_did_not_converge() {
    let good = temp("liveness-good.yaml");
    std::fs::write(&good, liveness_scenario("")).unwrap();
    let (code, stdout, stderr) = faultline(&["run", good.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 0, "{stdout} {stderr}");
    let v = json(&stdout);
    assert_eq!(v["eventually"][0]["status"], "held");
    assert_eq!(v["faults"]["crashes"], 2, "n4, paused, is outside the core");
    let bad = temp("liveness-bad.yaml");
    std::fs::write(&bad, liveness_scenario("bug: no-retransmit")).unwrap();
    let (code, stdout, _) = faultline(&["run", bad.to_str().unwrap()]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("FAIL all_delivered"), "{stdout}");
    assert!(
        stdout.contains("still not true 2s after the liveness phase began on a majority (at 6s)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("never reached"),
        "names what is missing where: {stdout}"
    );
    std::fs::remove_file(good).ok();
    std::fs::remove_file(bad).ok();
}

#[test]
fn history_needs_a_writable_path() {
    let (code, _, stderr) = faultline(&[
        "run",
        "scenarios/register-linearizable.yaml",
        "--history",
        "/nonexistent-dir/h.jsonl",
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot write the history"), "{stderr}");
}

#[test]
fn duplicate_ids_are_reported_with_the_ops_that_got_them() {
    let (code, stdout, _) = faultline(&["run", "scenarios/echo-unique-ids-unsynced-bug.yaml"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("FAIL unique_ids"), "{stdout}");
    // Both ops that were given the same id, with their times and the node that answered.
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains(": generate), invoked at"))
        .collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(lines.iter().all(|l| l.contains("by n1")), "{stdout}");
}

#[test]
fn a_log_run_and_its_written_history_get_the_same_verdict() {
    for (scenario, code_wanted) in [
        ("scenarios/replicated-log.yaml", 0),
        ("scenarios/replicated-log-commit-on-poll-bug.yaml", 1),
    ] {
        let path = temp("log-history.jsonl");
        let p = path.to_str().unwrap();
        let (code, stdout, stderr) = faultline(&["run", scenario, "--history", p]);
        assert_eq!(code, 0, "{scenario}: {stdout} {stderr}");
        let (code, out, err) = faultline(&["check-history", p, "--model", "log"]);
        assert_eq!(code, code_wanted, "{scenario}: {out} {err}");
        assert!(out.contains("(log model)"), "{out}");
        if code_wanted == 1 {
            assert!(out.contains("skipped: in the log of key 0"), "{out}");
        }
        std::fs::remove_file(&path).ok();
    }
}
