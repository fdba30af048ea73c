//! Seed sweep of two-phase commit: the passing scenario under 200 random fault schedules
//! (partitions, crashes and pauses, on top of the scenario's message loss) never violates
//! atomicity, and with every fault over by 6 s and the run going on to 10 s, every started
//! transaction reaches every participant. Each bug scenario still shows its violation.

mod common;

use faultline::time::SimTime;

const SEEDS: u64 = 200;
/// Every random fault is healed, restarted or resumed by then; the run lasts 10 s, so the
/// protocol has a quiet tail of 4 s to finish what the faults held up.
const FAULTS_UNTIL: SimTime = SimTime::from_secs(6);

#[test]
fn random_faults_never_split_a_transaction_and_all_are_decided_after_healing() {
    common::sweep_with_random_faults(
        "scenarios/two-phase-commit-ok.yaml",
        0..SEEDS,
        FAULTS_UNTIL,
        3_000_000_000,
    );
}

#[test]
fn every_bug_scenario_meets_its_expectation() {
    common::assert_expectations_met(&[
        "scenarios/two-phase-commit-blocking.yaml",
        "scenarios/two-phase-commit-unilateral-abort-bug.yaml",
        "scenarios/two-phase-commit-unlogged-decision-bug.yaml",
    ]);
}
