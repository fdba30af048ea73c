//! Seed sweep of replicated-log: the passing scenario under 200 random fault schedules
//! (partitions, crashes and pauses, the controller included, on top of the scenario's message
//! loss) never loses, reorders, duplicates or skips an acknowledged message, and with every
//! fault over by 6 s and the run going on to 10 s, every partition has a leader again at the
//! end. Each bug scenario still shows its violation.

use faultline::faults::RandomFaults;
use faultline::scenario::{RunOptions, run};
use faultline::testing::sweep_scenario;
use faultline::time::SimTime;
use std::path::Path;

const SEEDS: u64 = 200;
/// Every random fault is healed, restarted or resumed by then; the run lasts 10 s, so the
/// protocol has a quiet tail of 4 s to elect leaders and let followers catch up.
const FAULTS_UNTIL: SimTime = SimTime::from_secs(6);

#[test]
fn random_faults_never_lose_an_acknowledged_message_and_partitions_are_led_after_healing() {
    let base = faultline::Registry::builtin()
        .load(Path::new("scenarios/replicated-log.yaml"))
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
        "scenarios/replicated-log-ack-before-isr-bug.yaml",
        "scenarios/replicated-log-unclean-election-bug.yaml",
        "scenarios/replicated-log-commit-on-poll-bug.yaml",
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
