//! Seed sweep of scatter-gather: the hedged scenario under 200 random fault schedules
//! (partitions, crashes, pauses, clogs) never answers a read that leaves out a shard or
//! misses an acknowledged element, and never hedges beyond its budget. Each bug scenario
//! still shows its violation, and hedging lowers the p99 latency of the slow-shard scenario.

use faultline::faults::RandomFaults;
use faultline::scenario::{RunOptions, run};
use faultline::testing::sweep_scenario;
use faultline::time::SimTime;
use std::path::Path;

const SEEDS: u64 = 200;
const FAULTS_UNTIL: SimTime = SimTime::from_secs(6);

fn report(file: &str) -> faultline::scenario::RunReport {
    let scenario = faultline::Registry::builtin()
        .load(Path::new(file))
        .expect("scenario loads");
    run(&scenario, RunOptions::default()).expect("the run completes")
}

#[test]
fn random_faults_never_give_a_partial_or_wrong_answer_nor_break_the_budget() {
    for file in [
        "scenarios/scatter-gather.yaml",
        "scenarios/scatter-gather-hedged.yaml",
    ] {
        let base = faultline::Registry::builtin()
            .load(Path::new(file))
            .expect("scenario loads");
        let config = RandomFaults::all(FAULTS_UNTIL);
        if let Err(failure) = sweep_scenario(&base, 0..SEEDS, Some(&config)) {
            panic!("{file}: {failure}");
        }
    }
}

#[test]
fn every_bug_scenario_meets_its_expectation() {
    for file in [
        "scenarios/scatter-gather-majority-merge-bug.yaml",
        "scenarios/scatter-gather-unbudgeted-hedge-bug.yaml",
    ] {
        let report = report(file);
        assert!(
            report.expectation_met,
            "{file}: expected {:?}, got {:#?}",
            report.expect, report.violations
        );
    }
}

#[test]
fn hedging_lowers_the_p99_of_the_slow_shard() {
    let p99 = |file: &str| {
        let report = report(file);
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
