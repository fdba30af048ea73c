//! sharded-kv through the real binary: every scenario meets its expectation, the history it
//! writes is in Jepsen's transactional form, and a transactional workload's mistakes are bad
//! input with their place in the file.

mod common;

use common::{faultline, fresh_dir};
use serde_json::Value;
use std::path::Path;

const SCENARIOS: [&str; 6] = [
    "scenarios/sharded-kv-ok.yaml",
    "scenarios/sharded-kv-rw-register.yaml",
    "scenarios/sharded-kv-early-read-unlock-bug.yaml",
    "scenarios/sharded-kv-dirty-read-bug.yaml",
    "scenarios/sharded-kv-non-atomic-commit-bug.yaml",
    "scenarios/sharded-kv-lost-update-bug.yaml",
];

fn run_json(file: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["run", file, "--format", "json"];
    args.extend_from_slice(extra);
    let out = faultline(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "{file}: bad JSON ({e}): {stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().expect("exit code"), json)
}

#[test]
fn each_bug_scenario_names_its_anomalies_in_plain_words() {
    for (bug, anomalies) in [
        ("early-read-unlock", &["G-single", "G2-item"][..]),
        ("dirty-read", &["G1a", "incompatible-order"][..]),
        ("non-atomic-commit", &["G1a", "G1c", "G-single"][..]),
        ("lost-update", &["lost-update", "G2-item"][..]),
    ] {
        let file = format!("scenarios/sharded-kv-{bug}-bug.yaml");
        let out = faultline(&["run", &file]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{file}: the violation is expected"
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("strict-serializable violated"), "{text}");
        for anomaly in anomalies {
            assert!(
                text.contains(&format!(" × {anomaly}: ")),
                "{file}: {anomaly}: {text}"
            );
        }
        assert!(
            text.contains("the first "),
            "the first of each is described: {text}"
        );
    }
    let text = String::from_utf8_lossy(
        &faultline(&["run", "scenarios/sharded-kv-early-read-unlock-bug.yaml"]).stdout,
    )
    .into_owned();
    assert!(
        text.contains("read skew") && text.contains("write skew"),
        "{text}"
    );
}

#[test]
fn the_scenario_can_ask_for_a_weaker_level() {
    // Read skew and write skew are allowed at read committed: the same run then passes.
    let source =
        std::fs::read_to_string("scenarios/sharded-kv-early-read-unlock-bug.yaml").unwrap();
    let weaker = source
        .replace(
            "  until: 5s\n",
            "  until: 5s\n  isolation: read-committed\n",
        )
        .replace(
            "expect: { violation: isolation }",
            "expect: { outcome: pass }",
        );
    assert_ne!(weaker, source);
    let dir = fresh_dir("sharded-kv", "weaker");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("rc.yaml");
    std::fs::write(&path, weaker).unwrap();
    let (code, report) = run_json(path.to_str().unwrap(), &[]);
    assert_eq!(code, 0, "{report}");
    let explanation = report["history"]["explanation"][0].as_str().unwrap();
    assert!(explanation.starts_with("read-committed: "), "{explanation}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_scenario_meets_its_expectation() {
    for file in SCENARIOS {
        let (code, report) = run_json(file, &[]);
        assert_eq!(code, 0, "{file}: {report}");
        assert_eq!(report["expectation_met"], true, "{file}");
        let violated: Vec<&str> = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["status"] == "violated")
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        if file.ends_with("-bug.yaml") {
            let expect = report["expect"].as_str().unwrap();
            assert!(
                violated.iter().any(|v| expect.ends_with(v)),
                "{file}: {expect}, violated {violated:?}"
            );
        } else {
            assert!(violated.is_empty(), "{file}: {violated:?}");
        }
    }
}

/// Each micro-op of a history line's value: `[f, key, value]`.
fn micro_ops(line: &Value) -> Vec<(String, i64, Value)> {
    line["value"]
        .as_array()
        .expect("a txn's value is a list")
        .iter()
        .map(|m| {
            let m = m.as_array().expect("a micro-op is a list");
            assert_eq!(m.len(), 3, "{m:?}");
            let f = m[0].as_str().unwrap().to_string();
            (f, m[1].as_i64().unwrap(), m[2].clone())
        })
        .collect()
}

#[test]
fn the_history_records_transactions_in_jepsen_form() {
    let dir = fresh_dir("sharded-kv", "history");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("h.jsonl");
    let file = path.to_str().unwrap();
    let (code, _) = run_json("scenarios/sharded-kv-ok.yaml", &["--history", file]);
    assert_eq!(code, 0);
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (mut invokes, mut oks, mut reads_seen) = (0, 0, 0);
    let mut appended = std::collections::BTreeSet::new();
    for line in &lines {
        assert_eq!(line["f"], "txn", "{line}");
        for (f, key, value) in micro_ops(line) {
            assert!((0..12).contains(&key), "{line}");
            match (line["type"].as_str().unwrap(), f.as_str()) {
                ("invoke", "r") => assert!(value.is_null(), "{line}"),
                ("ok", "r") => {
                    assert!(value.is_array(), "an ok read carries its list: {line}");
                    reads_seen += 1;
                }
                ("invoke", "append") => {
                    assert!(appended.insert(value.as_i64().unwrap()), "unique values")
                }
                (_, "append") => assert!(value.is_i64()),
                (kind, f) => assert!(kind != "invoke" && f == "r", "{line}"),
            }
        }
        invokes += usize::from(line["type"] == "invoke");
        oks += usize::from(line["type"] == "ok");
    }
    assert!(
        invokes > 500 && oks > 200 && reads_seen > 100,
        "{invokes} {oks} {reads_seen}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn scenario_with(workload: &str) -> String {
    format!("name: t\nprotocol: sharded-kv\nnodes: 3\nduration: 1s\nworkload: {workload}\n")
}

/// Writes `text` to a file and validates it: the exit code and what was printed on stderr.
fn validate(name: &str, text: &str) -> (i32, String) {
    let dir = fresh_dir("sharded-kv", name);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("s.yaml");
    std::fs::write(&path, text).unwrap();
    let out = faultline(&["validate", path.to_str().unwrap()]);
    let _ = std::fs::remove_dir_all(&dir);
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn transactional_workload_mistakes_are_located_bad_input() {
    let cases = [
        (
            "{ model: list-append, micro_ops_max: 7 }",
            "micro_ops_max <= 6",
        ),
        (
            "{ model: list-append, micro_ops_min: 3, micro_ops_max: 2 }",
            "micro_ops_min (3)",
        ),
        ("{ model: rw-register, keys: 70000 }", "at most 65536"),
        (
            "{ model: list-append, isolation: linearizable }",
            "unknown isolation level",
        ),
        ("{ model: list-append, mix: { write: 1 } }", "does not have"),
        (
            "{ model: register }",
            "does not serve the register workload",
        ),
    ];
    for (i, (workload, wanted)) in cases.into_iter().enumerate() {
        let (code, stderr) = validate(&format!("bad-{i}"), &scenario_with(workload));
        assert_eq!(code, 2, "{workload}: {stderr}");
        assert!(stderr.contains(wanted), "{workload}: {stderr}");
        assert!(
            stderr.contains("s.yaml:5:"),
            "located at the workload line: {stderr}"
        );
    }
    let (code, stderr) = validate(
        "good",
        &scenario_with(
            "{ model: rw-register, micro_ops_min: 2, micro_ops_max: 6, isolation: serializable }",
        ),
    );
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn list_names_the_protocol_with_its_bugs_and_workloads() {
    let out = faultline(&["list"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("sharded-kv"), "{text}");
    for bug in [
        "early-read-unlock",
        "dirty-read",
        "non-atomic-commit",
        "lost-update",
    ] {
        assert!(text.contains(bug), "{bug} missing: {text}");
    }
    assert!(text.contains("list-append") && text.contains("rw-register"));
    assert!(Path::new("docs/protocols/sharded-kv.md").exists());
}

#[test]
fn the_written_history_gets_the_same_verdict_from_check_history() {
    let dir = fresh_dir("sharded-kv", "check-history");
    std::fs::create_dir_all(&dir).unwrap();
    for (file, model, valid) in [
        ("scenarios/sharded-kv-ok.yaml", "list-append", true),
        ("scenarios/sharded-kv-rw-register.yaml", "rw-register", true),
        (
            "scenarios/sharded-kv-early-read-unlock-bug.yaml",
            "list-append",
            false,
        ),
    ] {
        let path = dir.join("h.jsonl");
        let history = path.to_str().unwrap();
        let (_, report) = run_json(file, &["--history", history]);
        assert_eq!(report["history"]["status"] == "pass", valid, "{file}");
        let out = faultline(&[
            "check-history",
            history,
            "--model",
            model,
            "--consistency",
            "strict-serializable",
        ]);
        let code = out.status.code().unwrap();
        assert_eq!(code, if valid { 0 } else { 1 }, "{file}");
        if !valid {
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                text.contains("G-single") && text.contains("G2-item"),
                "{text}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
