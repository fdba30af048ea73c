//! Seed sweep of primary-backup: the failover scenario under 200 random fault schedules
//! (partitions, crashes and pauses, one episode at a time, over its lossy network) keeps a
//! linearizable history and every invariant, and every bug scenario meets its expectation.

use faultline::faults::RandomFaults;
use faultline::scenario::{self, ExpectSpec, RunOptions, Scenario};
use faultline::testing::sweep_scenario;
use faultline::time::SimTime;
use std::path::Path;

const SEEDS: u64 = 200;

fn load(name: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name);
    faultline::Registry::builtin()
        .load(&path)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn run(scenario: &Scenario, seed: u64) -> scenario::RunReport {
    let options = RunOptions {
        seed: Some(seed),
        ..RunOptions::default()
    };
    scenario::run(scenario, options).unwrap_or_else(|e| panic!("seed {seed}: {e}"))
}

#[test]
fn failover_survives_random_faults_on_every_seed() {
    let scenario = load("primary-backup-failover.yaml");
    // Faults end 2 s before the run does, so that the last view change can finish.
    let config = RandomFaults::all(SimTime(scenario.duration.0 - 2_000_000_000));
    let summary =
        sweep_scenario(&scenario, 0..SEEDS, Some(&config)).unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(
        summary.histories_checked, SEEDS,
        "every run checked its history"
    );
}

#[test]
fn bug_scenarios_meet_their_expectation() {
    for name in [
        "primary-backup-ack-before-backup-bug.yaml",
        "primary-backup-no-view-check-bug.yaml",
        "primary-backup-lease-slow-clock-bug.yaml",
    ] {
        let scenario = load(name);
        let report = run(&scenario, scenario.seed);
        assert!(report.expectation_met, "{name}: {:?}", report.violations);
    }
}

#[test]
fn split_brain_shows_in_the_clients_history_too() {
    let mut scenario = load("primary-backup-no-view-check-bug.yaml");
    scenario.checks = vec!["linearizable".to_string()];
    scenario.expect = ExpectSpec::Violation(Some("linearizable".to_string()));
    let report = run(&scenario, scenario.seed);
    assert!(report.expectation_met, "{:?}", report.violations);
}
