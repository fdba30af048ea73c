//! Paxos under random faults: on 200 seeds, random partitions, crashes and pauses over a lossy
//! network, with the first proposals spread over the whole fault window. The correct protocol
//! never chooses two values, and once the faults stop every node learns the chosen one; as a
//! register its clients' history is linearizable; each bug scenario still finds its violation.

use faultline::Fault;
use faultline::faults::RandomFaults;
use faultline::protocols::paxos::Params;
use faultline::scenario::{self, RunOptions, Scenario};
use faultline::testing::Sweep;
use faultline::time::{SimDuration, SimTime};
use std::path::Path;

const SEEDS: u64 = 200;

fn load(file: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(file);
    faultline::Registry::builtin()
        .load(&path)
        .unwrap_or_else(|e| panic!("{file}: {e:?}"))
}

/// The sweep of `base`: a random fault schedule per seed, healed 100 ms before the liveness
/// phase (kept as scripted); nodes that propose their own values make their first proposal
/// somewhere between 0 and 3.4 s (with clients, proposals start with the first writes).
fn randomised(base: &Scenario) -> Sweep<'static> {
    let phase_at = base
        .faults
        .iter()
        .find(|f| matches!(f.fault, Fault::Stabilize { .. }))
        .map_or(SimTime::from_secs(4), |f| f.at);
    let until = SimTime::from_nanos(phase_at.as_nanos().saturating_sub(100_000_000));
    Sweep::new(0..SEEDS)
        .random_faults(RandomFaults::all(until))
        .prepare(|s, seed| {
            if let Some(params) = s.params.get_mut::<Params>()
                && !params.client_values
            {
                *params = Params {
                    start_after: SimDuration::from_millis(100 * (seed % 30)),
                    start_jitter: SimDuration::from_millis(500),
                    ..params.clone()
                };
            }
        })
}

#[test]
fn correct_paxos_agrees_and_everyone_learns_on_200_random_fault_schedules() {
    sweep("paxos-agreement.yaml");
}

/// With clients writing and reading, the history is also linearizable on every seed.
#[test]
fn paxos_as_a_register_is_linearizable_on_200_random_fault_schedules() {
    sweep("paxos-register.yaml");
}

fn sweep(file: &str) {
    let base = load(file);
    if let Err(failure) = randomised(&base).check_determinism().run(&base) {
        panic!("{failure}");
    }
}

#[test]
fn every_paxos_bug_scenario_finds_its_violation() {
    for file in [
        "paxos-ignore-accepted-bug.yaml",
        "paxos-break-promise-bug.yaml",
        "paxos-unsynced-acceptor-bug.yaml",
        "paxos-one-short-quorum-bug.yaml",
    ] {
        let s = load(file);
        let report = scenario::run(&s, RunOptions::default()).expect("runs");
        assert!(
            report.expectation_met,
            "{file}: {:?}",
            report
                .violations
                .iter()
                .map(|v| v.headline())
                .collect::<Vec<_>>()
        );
    }
}

/// The sweep has teeth: on the same 200 schedules each bug variant breaks agreement on some
/// seeds (about one in fifteen; one-short-quorum, which needs only proposers that start close
/// together, on about one in five).
#[test]
fn the_same_sweep_catches_each_bug_on_some_seeds() {
    let base = load("paxos-agreement.yaml");
    let sweep = randomised(&base);
    for bug in ["ignore-accepted", "break-promise", "one-short-quorum"] {
        let caught = (0..SEEDS)
            .filter(|&seed| {
                let mut s = sweep.scenario_for(&base, seed);
                s.bug = Some(bug);
                let options = RunOptions {
                    seed: Some(seed),
                    ..Default::default()
                };
                let report = scenario::run(&s, options).expect("runs");
                report.violations.iter().any(|v| v.property == "agreement")
            })
            .count();
        assert!(
            caught >= 3,
            "{bug} broke agreement on only {caught} of {SEEDS} seeds"
        );
    }
}
