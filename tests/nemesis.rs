//! `nemesis:` and `swarm:` in scenario files: the drawn faults are applied by `faultline run`,
//! replay to the same trace hash, and tell a correct protocol from a buggy one.

use faultline::faults::Fault;
use faultline::scenario::{self, Outcome, RunOptions, Scenario};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

const FILE: &str = "scenarios/broadcast-nemesis.yaml";

fn load() -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(FILE);
    faultline::Registry::builtin()
        .load(&path)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn run_json(seed: &str, trace: &Path) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["run", FILE, "--format", "json", "--seed", seed, "--trace"])
        .arg(trace)
        .output()
        .expect("run faultline");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("bad JSON ({e}): {stdout}"));
    (out.status.code().expect("exit code"), json)
}

#[test]
fn the_binary_applies_the_drawn_faults_and_replays_them() {
    let dir = std::env::temp_dir().join(format!("faultline-nemesis-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (first_trace, second_trace) = (dir.join("a.jsonl"), dir.join("b.jsonl"));
    let (code, first) = run_json("5", &first_trace);
    let (again, second) = run_json("5", &second_trace);
    assert_eq!((code, again), (0, 0), "{first}");
    assert_eq!(first["trace_hash"], second["trace_hash"]);
    assert!(first["faults"]["applied"].as_u64().unwrap() > 10, "{first}");
    let trace = std::fs::read_to_string(&first_trace).expect("trace written");
    assert_eq!(
        trace,
        std::fs::read_to_string(&second_trace).expect("trace")
    );
    for kind in [
        "partition",
        "crash",
        "restart",
        "pause",
        "resume",
        "clog",
        "clock_skew",
    ] {
        let wanted = format!("\"kind\":\"{kind}\"");
        assert!(trace.contains(&wanted), "no {kind} in the trace");
    }
    let (_, other) = run_json("6", &first_trace);
    assert_ne!(first["trace_hash"], other["trace_hash"]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn materializing_leaves_plain_data_that_runs_the_same() {
    let s = load();
    let m = s.materialize(11);
    assert!(m.nemesis.is_none() && m.swarm.is_none());
    assert_eq!(m.seed, 11);
    assert!(m.faults.len() > 10);
    assert!(m.faults.windows(2).all(|w| w[0].at <= w[1].at));
    let last = m.faults.last().expect("faults");
    assert!(matches!(last.fault, Fault::Stabilize { .. }), "{last}");
    assert_ne!(m.network.default, s.network.default);
    assert_eq!(m.faults, s.materialize(11).faults);
    let hash = |sc: &Scenario, seed| {
        let options = RunOptions {
            seed,
            ..RunOptions::default()
        };
        scenario::run(sc, options).expect("runs").trace_hash
    };
    assert_eq!(hash(&s, Some(11)), hash(&m, None));
}

#[test]
fn correct_broadcast_passes_and_no_retransmit_fails_under_the_nemesis() {
    let correct = load();
    let mut buggy = correct.clone();
    buggy.bug = Some("no-retransmit");
    let mut failures = 0;
    for seed in 0..20 {
        let options = || RunOptions {
            seed: Some(seed),
            ..RunOptions::default()
        };
        let report = scenario::run(&correct, options()).expect("runs");
        assert_eq!(
            report.outcome,
            Outcome::Pass,
            "seed {seed}: {:?}",
            report.violations
        );
        let report = scenario::run(&buggy, options()).expect("runs");
        if report.outcome == Outcome::Violation {
            failures += 1;
        }
    }
    assert!(
        failures >= 5,
        "no-retransmit failed on only {failures} of 20 seeds"
    );
}
