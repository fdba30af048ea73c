//! The `testing` helpers themselves: a failing sweep names its seed, its violations and its
//! faults and writes them where asked; the liveness phase survives random faults; builder
//! sweeps check properties and determinism.

use faultline::faults::RandomFaults;
use faultline::protocols::Protocol;
use faultline::protocols::broadcast::{Broadcast, Params};
use faultline::scenario::{ExpectSpec, Scenario};
use faultline::testing::{
    FailureKind, Sweep, sweep_builder_deterministic, sweep_file, sweep_scenario, with_random_faults,
};
use faultline::{Fault, SimBuilder, SimTime};
use std::path::{Path, PathBuf};

fn load(name: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name);
    faultline::Registry::builtin()
        .load(&path)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A bug scenario told to expect a pass: every seed fails.
fn failing() -> Scenario {
    let mut s = load("paxos-ignore-accepted-bug.yaml");
    s.expect = ExpectSpec::Pass;
    s
}

#[test]
fn a_failing_seed_reports_its_violations_and_how_to_reproduce() {
    let failure = sweep_scenario(&failing(), 5..8, None).expect_err("the bug is caught");
    assert_eq!(failure.seed, 5);
    assert_eq!(failure.kind, FailureKind::Unmet);
    assert!(!failure.violations.is_empty());
    let message = failure.to_string();
    assert!(message.contains("seed 5"), "{message}");
    assert!(message.contains("violation:"), "{message}");
    assert!(message.contains("to reproduce"), "{message}");
}

#[test]
fn a_failure_is_written_to_the_failures_directory() {
    let dir: PathBuf = std::env::temp_dir().join(format!("faultline-sweep-{}", std::process::id()));
    // A correct protocol told to expect a violation fails on its first seed.
    let mut s = load("two-phase-commit-ok.yaml");
    s.expect = ExpectSpec::Violation(None);
    let failure = Sweep::new(3..6)
        .random_faults(RandomFaults::all(SimTime::from_secs(4)))
        .failures_dir(&dir)
        .run(&s)
        .expect_err("the expectation is not met");
    let path = failure.written_to.clone().expect("written");
    let text = std::fs::read_to_string(&path).expect("readable");
    assert!(text.contains(&format!("seed {}", failure.seed)), "{text}");
    // The random faults of the failing seed are listed, in the scenario's node names.
    assert!(!failure.faults.is_empty());
    assert!(text.contains("at "), "{text}");
    std::fs::remove_dir_all(&dir).expect("cleaned up");
}

#[test]
fn a_missing_file_is_an_error_not_a_panic() {
    let failure = sweep_file("scenarios/no-such-file.yaml", 0..2, None).expect_err("no file");
    assert!(matches!(failure.kind, FailureKind::Error(_)), "{failure}");
}

#[test]
fn random_faults_end_before_the_liveness_phase_and_keep_its_goals() {
    let base = load("raft-elect-and-replicate.yaml");
    let phase = base
        .faults
        .iter()
        .find(|f| matches!(f.fault, Fault::Stabilize { .. }))
        .expect("a liveness phase")
        .clone();
    let config = RandomFaults::all(SimTime(u64::MAX / 2));
    for seed in 0..20 {
        let s = with_random_faults(&base, seed, &config);
        let (last, rest) = s.faults.split_last().expect("faults");
        assert_eq!(last, &phase);
        assert!(rest.iter().all(|f| f.at <= phase.at), "seed {seed}");
        assert_eq!(s.eventually, base.eventually);
    }
}

#[test]
fn a_scenario_sweep_can_check_determinism() {
    let base = load("broadcast-partition.yaml");
    let summary = Sweep::new(0..4)
        .check_determinism()
        .run(&base)
        .unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(summary.seeds, 4);
    assert_eq!(summary.trace_hashes.len(), 4);
}

#[test]
fn a_builder_sweep_runs_each_seed_twice_and_checks_properties() {
    let build = |seed| {
        SimBuilder::new(seed)
            .nodes(4)
            .build(|id| Broadcast::new(id, 4, &Params::default(), None))
    };
    let properties = Broadcast::properties();
    let summary = sweep_builder_deterministic(0..4, build, &properties, SimTime::from_secs(4))
        .unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(summary.seeds, 4);
}
