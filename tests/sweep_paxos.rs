//! Paxos under random faults: on 200 seeds, random partitions, crashes and pauses over a lossy
//! network, with the first proposals spread over the whole fault window. The correct protocol
//! never chooses two values, and once the faults stop every node learns the chosen one; as a
//! register its clients' history is linearizable; each bug scenario still finds its violation.

use faultline::Fault;
use faultline::faults::{RandomFaults, random_schedule};
use faultline::protocols::ProtocolParams;
use faultline::protocols::paxos::Params;
use faultline::scenario::{self, RunOptions, Scenario};
use faultline::time::{SimDuration, SimTime};
use std::path::Path;

const SEEDS: u64 = 200;

fn load(file: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(file);
    scenario::load(&path).unwrap_or_else(|e| panic!("{file}: {e:?}"))
}

/// The scenario with a random fault schedule drawn from `seed`, healed before the liveness
/// phase; nodes that propose their own values make their first proposal somewhere between 0
/// and 3.4 s (with clients, proposals start with the first writes).
fn randomised(base: &Scenario, seed: u64) -> Scenario {
    let mut s = base.clone();
    // The liveness phase is a fault of the scenario: keep it, replace everything else.
    let phase: Vec<_> = s
        .faults
        .iter()
        .filter(|f| matches!(f.fault, Fault::Stabilize { .. }))
        .cloned()
        .collect();
    // Every episode is over 100 ms before the phase begins.
    let phase_at = phase.first().map_or(SimTime::from_secs(4), |f| f.at);
    let until = SimTime::from_nanos(phase_at.as_nanos().saturating_sub(100_000_000));
    let nodes = s.node_names.len() as u32;
    s.faults = random_schedule(seed, nodes, &RandomFaults::all(until));
    s.faults.extend(phase);
    if let ProtocolParams::Paxos(params) = &mut s.params
        && !params.client_values
    {
        *params = Params {
            start_after: SimDuration::from_millis(100 * (seed % 30)),
            start_jitter: SimDuration::from_millis(500),
            ..params.clone()
        };
    }
    s
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
    let mut failures = Vec::new();
    for seed in 0..SEEDS {
        let s = randomised(&base, seed);
        let options = || RunOptions {
            seed: Some(seed),
            ..Default::default()
        };
        let report = scenario::run(&s, options()).expect("runs");
        let again = scenario::run(&s, options()).expect("runs");
        assert_eq!(
            report.trace_hash, again.trace_hash,
            "seed {seed} is not deterministic"
        );
        if !report.expectation_met {
            let lines: Vec<String> = report.violations.iter().map(|v| v.headline()).collect();
            failures.push(format!("{file} seed {seed}: {}", lines.join(" / ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_paxos_bug_scenario_finds_its_violation() {
    for file in [
        "paxos-ignore-accepted-bug.yaml",
        "paxos-break-promise-bug.yaml",
        "paxos-unsynced-acceptor-bug.yaml",
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
/// seeds (about one in twenty).
#[test]
fn the_same_sweep_catches_each_bug_on_some_seeds() {
    let base = load("paxos-agreement.yaml");
    for bug in ["ignore-accepted", "break-promise"] {
        let caught = (0..SEEDS)
            .filter(|&seed| {
                let mut s = randomised(&base, seed);
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
