//! Seed sweep of chord: the passing scenario's eight nodes under 200 random fault schedules
//! (partitions, crashes and pauses, on top of the scenario's message loss and duplication; the
//! scenario's own faults are replaced) keep every successor list in ring order, and with every
//! fault over by 6 s and the run going on to 10 s, end as one ring with right fingers. Each bug
//! scenario still shows its violation.

use faultline::faults::RandomFaults;
use faultline::scenario::{RunOptions, run};
use faultline::testing::sweep_scenario;
use faultline::time::SimTime;
use std::path::Path;

const SEEDS: u64 = 200;
/// Every random fault is healed, restarted or resumed by then; the run lasts 10 s, so the
/// ring has a quiet tail of 4 s to close, merge and refresh its fingers.
const FAULTS_UNTIL: SimTime = SimTime::from_secs(6);

#[test]
fn random_faults_leave_one_ring_with_right_fingers_after_healing() {
    let base = faultline::Registry::builtin()
        .load(Path::new("scenarios/chord.yaml"))
        .expect("scenario loads");
    assert!(
        base.duration.as_nanos() >= FAULTS_UNTIL.as_nanos() + 3_000_000_000,
        "the scenario leaves a quiet tail after the faults"
    );
    let config = RandomFaults::all(FAULTS_UNTIL);
    if let Err(failure) = sweep_scenario(&base, 0..SEEDS, Some(&config)) {
        panic!("{failure}");
    }
}

#[test]
fn every_bug_scenario_meets_its_expectation() {
    for file in [
        "scenarios/chord-single-successor-bug.yaml",
        "scenarios/chord-no-predecessor-check-bug.yaml",
        "scenarios/chord-no-handover-bug.yaml",
    ] {
        let scenario = faultline::Registry::builtin()
            .load(Path::new(file))
            .expect("scenario loads");
        let report = run(&scenario, RunOptions::default()).expect("the run completes");
        assert!(
            report.expectation_met,
            "{file}: expected {:?}, got {:#?}",
            report.expect, report.violations
        );
    }
}
