//! Seed sweep of sharded-kv: the passing scenario under random partitions, crashes and pauses
//! (on top of its own message loss and duplication) never commits a transaction on one shard
//! and aborts it on another, never lets two conflicting transactions hold their locks together,
//! and replays every seed to the same trace hash. Each bug scenario still shows its violation.

mod common;

use faultline::faults::RandomFaults;
use faultline::testing::Sweep;
use faultline::time::SimTime;

/// Small enough for CI in a debug build; `faultline fuzz` sweeps more (docs/protocols/sharded-kv.md).
const SEEDS: u64 = 30;
/// Every random fault is over by then; clients stop at 8 s and the run lasts 10 s.
const FAULTS_UNTIL: SimTime = SimTime::from_secs(7);

#[test]
fn random_faults_never_split_a_transaction_or_break_its_locks() {
    let base = common::load_scenario("scenarios/sharded-kv-ok.yaml");
    let sweep = Sweep::new(0..SEEDS)
        .random_faults(RandomFaults::all(FAULTS_UNTIL))
        .check_determinism();
    match sweep.run(&base) {
        Ok(summary) => assert_eq!(summary.seeds, SEEDS),
        Err(failure) => panic!("{failure}"),
    }
}

#[test]
fn every_bug_scenario_meets_its_expectation() {
    common::assert_expectations_met(&[
        "scenarios/sharded-kv-early-read-unlock-bug.yaml",
        "scenarios/sharded-kv-dirty-read-bug.yaml",
        "scenarios/sharded-kv-non-atomic-commit-bug.yaml",
        "scenarios/sharded-kv-lost-update-bug.yaml",
    ]);
}
