//! Every file in scenarios/ through the real binary: it meets its `expect:`, reports what the
//! documentation promises, and replays to the same trace hash.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn scenarios() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("scenarios/ exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

fn faultline(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .output()
        .expect("run faultline");
    (
        out.status.code().expect("exit code"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn run_json(file: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["run", file, "--format", "json"];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = faultline(&args);
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{file}: bad JSON ({e}): {stdout} {stderr}"));
    (code, json)
}

#[test]
fn there_are_the_promised_scenarios() {
    let names: Vec<String> = scenarios()
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    for wanted in [
        "echo-loss",
        "echo-duplicate-bug",
        "broadcast-partition",
        "broadcast-no-retransmit-bug",
        "echo-crash-restart",
        "broadcast-clock-skew",
    ] {
        assert!(
            names.iter().any(|n| n == wanted),
            "scenarios/{wanted}.yaml is missing"
        );
    }
}

#[test]
fn every_scenario_meets_its_expectation_and_replays_identically() {
    for path in scenarios() {
        let file = path.to_str().unwrap();
        let (code, first) = run_json(file, &[]);
        assert_eq!(code, 0, "{file}: {first}");
        assert_eq!(first["expectation_met"], Value::Bool(true), "{file}");
        let (_, second) = run_json(file, &[]);
        assert_eq!(
            first["trace_hash"], second["trace_hash"],
            "{file}: same seed, different hash"
        );
        let hash = first["trace_hash"].as_str().expect("hash is a string");
        assert!(
            hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()),
            "{hash}"
        );
    }
}

#[test]
fn json_report_has_the_documented_keys() {
    let (code, v) = run_json("scenarios/echo-duplicate-bug.yaml", &[]);
    assert_eq!(code, 0);
    for key in [
        "seed",
        "trace_hash",
        "events",
        "outcome",
        "violations",
        "expectation_met",
        "messages",
    ] {
        assert!(v.get(key).is_some(), "missing key {key}");
    }
    for key in ["sent", "delivered", "dropped", "duplicated"] {
        assert!(v["messages"][key].is_u64(), "missing messages.{key}");
    }
    assert_eq!(v["outcome"], "violation");
    let violation = &v["violations"][0];
    assert_eq!(violation["property"], "exactly_once");
    assert!(violation["time_ns"].as_u64().unwrap() > 0);
    assert!(
        violation["message"]
            .as_str()
            .unwrap()
            .contains("two different answers")
    );
    let m = &v["messages"];
    let created = m["sent"].as_u64().unwrap() + m["duplicated"].as_u64().unwrap();
    let accounted = m["delivered"].as_u64().unwrap()
        + m["dropped"].as_u64().unwrap()
        + m["in_flight"].as_u64().unwrap();
    assert_eq!(created, accounted, "messages not conserved in the report");
}

#[test]
fn seed_flag_overrides_the_file_and_changes_the_run() {
    let (_, a) = run_json("scenarios/echo-loss.yaml", &["--seed", "1"]);
    let (_, b) = run_json("scenarios/echo-loss.yaml", &["--seed", "2"]);
    assert_eq!(a["seed"], 1);
    assert_eq!(b["seed"], 2);
    assert_ne!(a["trace_hash"], b["trace_hash"]);
}

#[test]
fn an_unmet_expectation_exits_1() {
    // The correct protocol under the bug scenario's faults: the expected violation never comes.
    let text = std::fs::read_to_string("scenarios/echo-duplicate-bug.yaml").unwrap();
    let fixed: String = text
        .lines()
        .filter(|l| !l.starts_with("bug:"))
        .collect::<Vec<_>>()
        .join("\n");
    let dir = std::env::temp_dir().join(format!("faultline-unmet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("fixed.yaml");
    std::fs::write(&file, fixed).unwrap();
    let (code, stdout, _) = faultline(&["run", file.to_str().unwrap()]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("NOT met"), "{stdout}");
    assert!(!stdout.contains("sets out to show"), "{stdout}");
}

#[test]
fn an_expected_violation_says_why_a_fail_exits_0() {
    let (code, stdout, _) = faultline(&["run", "scenarios/echo-duplicate-bug.yaml"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("FAIL exactly_once"), "{stdout}");
    assert!(
        stdout.contains("the FAIL above is what this scenario sets out to show, so the run succeeds (exit code 0)"),
        "{stdout}"
    );
    let (code, stdout, _) = faultline(&["run", "scenarios/echo-loss.yaml"]);
    assert_eq!(code, 0);
    assert!(
        !stdout.contains("sets out to show"),
        "no FAIL, no such line: {stdout}"
    );
}

#[test]
fn text_summary_explains_the_violation() {
    let (code, stdout, _) = faultline(&["run", "scenarios/broadcast-no-retransmit-bug.yaml"]);
    assert_eq!(code, 0);
    for needle in [
        "seed",
        "events",
        "messages",
        "sent",
        "delivered",
        "dropped",
        "duplicated",
        "trace",
        "hash",
        "all_delivered violated at",
        "events/s",
        "real time",
    ] {
        assert!(
            stdout.contains(needle),
            "summary lacks {needle:?}:\n{stdout}"
        );
    }
}

#[test]
fn trace_file_is_json_lines_matching_the_run() {
    let dir = std::env::temp_dir().join(format!("faultline-trace-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trace = dir.join("t.jsonl");
    let (code, v) = run_json(
        "scenarios/echo-crash-restart.yaml",
        &["--trace", trace.to_str().unwrap()],
    );
    assert_eq!(code, 0);
    let text = std::fs::read_to_string(&trace).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len() as u64, v["trace_events"].as_u64().unwrap());
    let count = |kind: &str| lines.iter().filter(|l| l["kind"] == kind).count() as u64;
    assert_eq!(count("send"), v["messages"]["sent"].as_u64().unwrap());
    assert_eq!(
        count("deliver"),
        v["messages"]["delivered"].as_u64().unwrap()
    );
    assert_eq!(count("drop"), v["messages"]["dropped"].as_u64().unwrap());
    assert_eq!(count("crash"), 1);
    assert_eq!(count("restart"), 1);
    assert!(
        lines
            .iter()
            .any(|l| l["kind"] == "drop" && l["reason"] == "loss")
    );
    assert!(
        lines
            .iter()
            .all(|l| l["node"].as_str().is_some_and(|n| n.starts_with('n')))
    );
    let times: Vec<u64> = lines.iter().map(|l| l["t_ns"].as_u64().unwrap()).collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "trace time went backwards"
    );
    assert!(
        lines
            .iter()
            .any(|l| l["kind"] == "send" && l["detail"].as_str().is_some())
    );
    // Tracing to a file does not change the run.
    let (_, plain) = run_json("scenarios/echo-crash-restart.yaml", &[]);
    assert_eq!(plain["trace_hash"], v["trace_hash"]);
}

#[test]
fn check_determinism_reports_agreement() {
    let (code, stdout, _) = faultline(&[
        "run",
        "scenarios/broadcast-partition.yaml",
        "--check-determinism",
    ]);
    assert_eq!(code, 0);
    assert!(stdout.contains("determinism  ok"), "{stdout}");
    let (_, v) = run_json(
        "scenarios/broadcast-partition.yaml",
        &["--check-determinism"],
    );
    assert_eq!(v["determinism"]["deterministic"], true);
    assert_eq!(v["determinism"]["first_hash"], v["trace_hash"]);
}

/// The benchmark's large scenarios are too slow for `cargo test` (seconds to minutes each),
/// but they must stay valid files as the schema changes.
#[test]
fn benchmark_scenarios_are_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/scenarios");
    for name in ["echo-10k.yaml", "broadcast-10k.yaml"] {
        let path = dir.join(name).to_string_lossy().into_owned();
        let (code, stdout, stderr) = faultline(&["validate", &path]);
        assert_eq!(code, 0, "{path}: {stdout}{stderr}");
    }
}

#[test]
fn validate_and_list_work() {
    let files: Vec<String> = scenarios()
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let mut args = vec!["validate"];
    args.extend(files.iter().map(String::as_str));
    let (code, stdout, _) = faultline(&args);
    assert_eq!(code, 0);
    assert_eq!(
        stdout.lines().filter(|l| l.contains(": ok")).count(),
        files.len()
    );
    let (code, stdout, _) = faultline(&["list"]);
    assert_eq!(code, 0);
    for needle in [
        "echo",
        "broadcast",
        "exactly_once",
        "all_delivered",
        "non-idempotent",
        "no-retransmit",
        "retry_interval",
        "register",
        "read-any-replica",
        "client workloads: register, cas-register, kv",
        "client workloads: set",
    ] {
        assert!(stdout.contains(needle), "list lacks {needle}");
    }
    let (code, stdout, _) = faultline(&["list", "--format", "json"]);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        v.as_array().unwrap().len(),
        faultline::Registry::builtin().names().len()
    );
    let register = v
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "register")
        .expect("register is listed");
    assert_eq!(register["workloads"][1], "cas-register");
}

#[test]
fn help_shows_examples_and_exit_codes() {
    let (code, stdout, _) = faultline(&["run", "--help"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("Examples:") && stdout.contains("Exit codes:"));
}
