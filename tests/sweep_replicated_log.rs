//! Seed sweep of replicated-log: the passing scenario under 200 random fault schedules
//! (partitions, crashes and pauses, the controller included, on top of the scenario's message
//! loss) never loses, reorders, duplicates or skips an acknowledged message, and with every
//! fault over by 6 s and the run going on to 10 s, every partition has a leader again at the
//! end. Each bug scenario still shows its violation.

mod common;

use faultline::time::SimTime;

const SEEDS: u64 = 200;
/// Every random fault is healed, restarted or resumed by then; the run lasts 10 s, so the
/// protocol has a quiet tail of 4 s to elect leaders and let followers catch up.
const FAULTS_UNTIL: SimTime = SimTime::from_secs(6);

#[test]
fn random_faults_never_lose_an_acknowledged_message_and_partitions_are_led_after_healing() {
    common::sweep_with_random_faults(
        "scenarios/replicated-log.yaml",
        0..SEEDS,
        FAULTS_UNTIL,
        3_000_000_000,
    );
}

#[test]
fn every_bug_scenario_meets_its_expectation() {
    common::assert_expectations_met(&[
        "scenarios/replicated-log-ack-before-isr-bug.yaml",
        "scenarios/replicated-log-unclean-election-bug.yaml",
        "scenarios/replicated-log-commit-on-poll-bug.yaml",
    ]);
}
