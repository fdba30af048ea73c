//! quorum-kv over 200 seeds of random faults: the strict scenario (n 3, r 2, w 2) must stay
//! linearizable, keep its invariants and converge whatever partitions, crashes and pauses
//! the seed draws (the scenario's network also loses 5 % of messages); every bug scenario
//! must show its violation.

use faultline::faults::RandomFaults;
use faultline::scenario::{self, RunOptions};
use faultline::testing::sweep_scenario;
use faultline::time::{SimDuration, SimTime};
use std::path::Path;

const SEEDS: u64 = 200;

fn load(name: &str) -> faultline::scenario::Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name);
    faultline::Registry::builtin()
        .load(&path)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn strict_quorums_hold_under_random_faults() {
    let scenario = load("quorum-kv-strict.yaml");
    // Faults end by 5.5 s, clients stop at 6 s, and anti-entropy has until 8 s to converge.
    let config = RandomFaults {
        gap: (SimDuration::from_millis(100), SimDuration::from_millis(600)),
        length: (
            SimDuration::from_millis(200),
            SimDuration::from_millis(1200),
        ),
        ..RandomFaults::all(SimTime::from_millis(5_500))
    };
    if let Err(failure) = sweep_scenario(&scenario, 0..SEEDS, Some(&config)) {
        panic!("{failure}");
    }
}

/// Sloppy quorums give up linearizability on purpose (quorum-kv-sloppy-partition.yaml shows
/// it), so this sweep checks what they must still keep: the invariants, and replicas that
/// agree at the end once hints are handed back and anti-entropy has run.
#[test]
fn sloppy_quorums_keep_their_invariants_and_converge_under_random_faults() {
    let mut scenario = load("quorum-kv-sloppy-partition.yaml");
    scenario.checks = [
        "versions_grow",
        "one_value_per_version",
        "replicas_converged",
    ]
    .map(String::from)
    .to_vec();
    scenario.expect = load("quorum-kv-strict.yaml").expect;
    // Faults end by 3 s, clients stop at 3.5 s, and the run goes on to 5 s.
    let config = RandomFaults {
        gap: (SimDuration::from_millis(100), SimDuration::from_millis(500)),
        length: (
            SimDuration::from_millis(200),
            SimDuration::from_millis(1000),
        ),
        ..RandomFaults::all(SimTime::from_millis(3_000))
    };
    if let Err(failure) = sweep_scenario(&scenario, 0..SEEDS, Some(&config)) {
        panic!("{failure}");
    }
}

#[test]
fn every_lesson_scenario_meets_its_expectation() {
    for name in [
        "quorum-kv-strict.yaml",
        "quorum-kv-weak-stale-read.yaml",
        "quorum-kv-ignore-version-bug.yaml",
        "quorum-kv-no-read-repair-bug.yaml",
        "quorum-kv-strict-partition.yaml",
        "quorum-kv-sloppy-partition.yaml",
        "quorum-kv-clock-skew.yaml",
    ] {
        let report = scenario::run(&load(name), RunOptions::default()).expect("the scenario runs");
        assert!(report.expectation_met, "{name}: {:#?}", report.violations);
    }
}
