//! Seed sweep of chord: the passing scenario's eight nodes under 200 random fault schedules
//! (partitions, crashes and pauses, on top of the scenario's message loss and duplication; the
//! scenario's own faults are replaced) keep every successor list in ring order, and with every
//! fault over by 6 s and the run going on to 10 s, end as one ring with right fingers; no get
//! misses a key it should have found. Each bug scenario still shows its violation.

mod common;

use faultline::time::SimTime;

const SEEDS: u64 = 200;
/// Every random fault is healed, restarted or resumed by then; the run lasts 10 s, so the
/// ring has a quiet tail of 4 s to close, merge and refresh its fingers.
const FAULTS_UNTIL: SimTime = SimTime::from_secs(6);

#[test]
fn random_faults_leave_one_ring_with_right_fingers_after_healing() {
    common::sweep_with_random_faults(
        "scenarios/chord.yaml",
        0..SEEDS,
        FAULTS_UNTIL,
        3_000_000_000,
    );
}

#[test]
fn every_bug_scenario_meets_its_expectation() {
    common::assert_expectations_met(&[
        "scenarios/chord-single-successor-bug.yaml",
        "scenarios/chord-no-predecessor-check-bug.yaml",
        "scenarios/chord-no-handover-bug.yaml",
    ]);
}
