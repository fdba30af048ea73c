//! Multi-Paxos under 200 seeded random fault schedules: partitions, crashes and pauses, one at
//! a time, over the lossy network of `multi-paxos-replicated-log.yaml`, then a liveness phase
//! on a majority. Every seed must keep agreement, state-machine safety and every promise,
//! settle on one leader that every node catches up with, and give a linearizable history.
//! Every multi-paxos bug scenario must meet its expectation.

use faultline::faults::RandomFaults;
use faultline::scenario::{RunOptions, Scenario, run};
use faultline::testing::Sweep;
use faultline::time::{SimDuration, SimTime};
use faultline::{Fault, TimedFault};
use std::path::Path;

const SEEDS: u64 = 200;
/// Shorter than the scenario, to keep the sweep quick in a debug build.
const DURATION: SimDuration = SimDuration::from_millis(4_000);
/// Faults end and the liveness phase begins.
const STABLE_AT: SimTime = SimTime::from_millis(2_800);
const WITHIN: SimDuration = SimDuration::from_millis(1_000);
/// Clients stop invoking here, so that every node can catch up before the end.
const CLIENTS_UNTIL: SimTime = SimTime::from_millis(3_600);

fn scenario(file: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(file);
    faultline::Registry::builtin()
        .load(&path)
        .unwrap_or_else(|e| panic!("{file}: {e:?}"))
}

/// The passing scenario, shortened, with its liveness phase moved to [`STABLE_AT`] and no
/// other fault: the sweep draws those per seed.
fn shortened(base: &Scenario) -> Scenario {
    let mut s = base.clone();
    s.duration = DURATION;
    let stabilize = base
        .faults
        .iter()
        .find(|f| matches!(f.fault, Fault::Stabilize { .. }))
        .expect("the scenario has a liveness phase");
    s.faults = vec![TimedFault {
        at: STABLE_AT,
        fault: stabilize.fault.clone(),
    }];
    for goal in &mut s.eventually {
        goal.from = STABLE_AT;
        goal.within = WITHIN;
    }
    if let Some(w) = &mut s.workload {
        w.until = CLIENTS_UNTIL;
    }
    s
}

fn random_faults() -> RandomFaults {
    RandomFaults {
        gap: (SimDuration::from_millis(100), SimDuration::from_millis(500)),
        length: (
            SimDuration::from_millis(200),
            SimDuration::from_millis(1_000),
        ),
        ..RandomFaults::all(SimTime::from_millis(2_799))
    }
}

#[test]
fn multi_paxos_survives_200_random_fault_schedules() {
    let base = shortened(&scenario("multi-paxos-replicated-log.yaml"));
    let sweep = Sweep::new(0..SEEDS).random_faults(random_faults());
    match sweep.run(&base) {
        Ok(summary) => assert_eq!(summary.histories_checked, SEEDS),
        Err(failure) => panic!("{failure}"),
    }
}

#[test]
fn multi_paxos_bug_scenarios_meet_their_expectation() {
    for file in [
        "multi-paxos-skip-recovery-bug.yaml",
        "multi-paxos-unsynced-promise-bug.yaml",
        "multi-paxos-minority-quorum-bug.yaml",
        "multi-paxos-one-short-promises-bug.yaml",
    ] {
        let s = scenario(file);
        let report = run(&s, RunOptions::default()).expect("runs");
        assert!(report.expectation_met, "{file}: {:?}", report.violations);
    }
}

/// Every bug is found by the random schedules too, not only by their hand-made scenario.
#[test]
fn random_faults_find_every_bug() {
    for bug in [
        "skip-recovery",
        "unsynced-promise",
        "minority-quorum",
        "one-short-promises",
    ] {
        let mut base = shortened(&scenario("multi-paxos-replicated-log.yaml"));
        base.bug = Some(bug);
        let found = (0..20).any(|seed| {
            let s = faultline::testing::with_random_faults(&base, seed, &random_faults());
            let options = RunOptions {
                seed: Some(seed),
                ..Default::default()
            };
            !run(&s, options).expect("runs").violations.is_empty()
        });
        assert!(found, "{bug}: no violation on 20 random schedules");
    }
}
