//! Raft under 200 seeded random fault schedules: partitions, crashes and pauses, one at a
//! time, over the lossy network of `raft-elect-and-replicate.yaml`, then a liveness phase on
//! a majority. Every seed must keep Raft's invariants, elect a leader after the faults and
//! give a linearizable history. Every raft bug scenario must meet its expectation.

use faultline::faults::{RandomFaults, random_schedule};
use faultline::scenario::{RunOptions, Scenario, load, run};
use faultline::time::{SimDuration, SimTime};
use faultline::{Fault, TimedFault};
use std::path::Path;

const SEEDS: u64 = 200;
/// Shorter than the scenario, to keep the sweep quick in a debug build.
const DURATION: SimDuration = SimDuration::from_millis(4_000);
/// Faults end and the liveness phase begins.
const STABLE_AT: SimTime = SimTime::from_millis(2_800);
const WITHIN: SimDuration = SimDuration::from_millis(1_200);

fn scenario(path: &str) -> Scenario {
    load(Path::new(path)).unwrap_or_else(|e| panic!("{path}: {e:?}"))
}

/// The passing scenario with a random schedule drawn from `seed` and a liveness phase at
/// [`STABLE_AT`].
fn swept(base: &Scenario, seed: u64) -> Scenario {
    let mut s = base.clone();
    s.duration = DURATION;
    let config = RandomFaults {
        gap: (SimDuration::from_millis(100), SimDuration::from_millis(500)),
        length: (
            SimDuration::from_millis(200),
            SimDuration::from_millis(1_000),
        ),
        ..RandomFaults::all(SimTime::from_millis(2_799))
    };
    let mut faults = random_schedule(seed, s.node_names.len() as u32, &config);
    let stabilize = base
        .faults
        .iter()
        .find(|f| matches!(f.fault, Fault::Stabilize { .. }))
        .expect("the scenario has a liveness phase");
    faults.push(TimedFault {
        at: STABLE_AT,
        fault: stabilize.fault.clone(),
    });
    s.faults = faults;
    for goal in &mut s.eventually {
        goal.from = STABLE_AT;
        goal.within = WITHIN;
    }
    s
}

#[test]
fn raft_survives_random_faults() {
    let base = scenario("scenarios/raft-elect-and-replicate.yaml");
    let mut failed = Vec::new();
    for seed in 0..SEEDS {
        let s = swept(&base, seed);
        let report = run(
            &s,
            RunOptions {
                seed: Some(seed),
                ..Default::default()
            },
        )
        .unwrap_or_else(|e| panic!("seed {seed}: {e:?}"));
        if !report.expectation_met {
            let why: Vec<String> = report.violations.iter().map(|v| v.headline()).collect();
            eprintln!("seed {seed}: {}", why.join("; "));
            eprintln!("  faults: {:?}", s.faults);
            failed.push(seed);
        }
    }
    assert!(failed.is_empty(), "seeds that failed: {failed:?}");
}

#[test]
fn raft_bug_scenarios_meet_their_expectation() {
    for file in [
        "scenarios/raft-figure8-bug.yaml",
        "scenarios/raft-unsynced-vote-bug.yaml",
        "scenarios/raft-stale-read-bug.yaml",
    ] {
        let s = scenario(file);
        let report = run(&s, RunOptions::default()).expect("runs");
        assert!(report.expectation_met, "{file}: {:?}", report.violations);
    }
}
