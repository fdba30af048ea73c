//! Seed sweep of scatter-gather: the hedged scenario under 200 random fault schedules
//! (partitions, crashes, pauses, clogs) never answers a read that leaves out a shard or
//! misses an acknowledged element, and never hedges beyond its budget. Each bug scenario
//! still shows its violation, and hedging lowers the p99 latency of the slow-shard scenario.

mod common;

use faultline::time::SimTime;

const SEEDS: u64 = 200;
const FAULTS_UNTIL: SimTime = SimTime::from_secs(6);

#[test]
fn random_faults_never_give_a_partial_or_wrong_answer_nor_break_the_budget() {
    for file in [
        "scenarios/scatter-gather.yaml",
        "scenarios/scatter-gather-hedged.yaml",
    ] {
        // No goal after the faults: every answer is judged as it comes.
        common::sweep_with_random_faults(file, 0..SEEDS, FAULTS_UNTIL, 0);
    }
}

#[test]
fn every_bug_scenario_meets_its_expectation() {
    common::assert_expectations_met(&[
        "scenarios/scatter-gather-majority-merge-bug.yaml",
        "scenarios/scatter-gather-unbudgeted-hedge-bug.yaml",
    ]);
}

#[test]
fn hedging_lowers_the_p99_of_the_slow_shard() {
    let p99 = |file: &str| {
        let report = common::run_scenario(file);
        assert!(report.expectation_met, "{file}");
        let history = report.history.expect("the scenario has clients");
        history.latency.expect("some op ended ok").p99_ns
    };
    let plain = p99("scenarios/scatter-gather.yaml");
    let hedged = p99("scenarios/scatter-gather-hedged.yaml");
    // The slow link takes 80 ms; a hedge is sent after 8 ms.
    assert!(plain >= 80_000_000, "without hedging p99 is {plain} ns");
    assert!(hedged < 40_000_000, "with hedging p99 is {hedged} ns");
}
