//! Tests of two-phase commit: recovery of both roles from storage, the blocking, each bug
//! caught, bad params rejected, and determinism.

use super::coordinator::{How, TxState};
use super::*;
use crate::check::{CheckWhen, ViolationReport, run_checked};
use crate::engine::{Sim, SimBuilder};
use crate::faults::{Fault, RandomFaults, TimedFault, random_schedule};
use crate::net::NetworkConfig;
use crate::protocols::echo::tests::{at_ms, lossy};
use crate::time::SimTime;

const NODES: u32 = 4;

fn n(number: u32) -> NodeId {
    NodeId(number - 1)
}

fn build(
    seed: u64,
    params: &Params,
    bug: Option<&'static str>,
    network: NetworkConfig,
    faults: Vec<TimedFault>,
) -> Sim<TwoPhaseCommit> {
    let params = params.clone();
    SimBuilder::new(seed)
        .nodes(u64::from(NODES))
        .network(network)
        .faults(faults)
        .build(move |id| TwoPhaseCommit::new(id, NODES, &params, bug))
        .expect("valid setup")
}

/// Runs to `end` with every property checked; the first violation, if any.
fn run(sim: &mut Sim<TwoPhaseCommit>, end: SimTime) -> Option<ViolationReport> {
    let properties = TwoPhaseCommit::properties();
    run_checked(sim, end, &properties)
        .expect("within limits")
        .into_iter()
        .next()
}

/// Runs to `end` checking only the invariants: a run stopped midway has undecided
/// transactions.
fn run_safety(sim: &mut Sim<TwoPhaseCommit>, end: SimTime) -> Option<ViolationReport> {
    let mut properties = TwoPhaseCommit::properties();
    properties.retain(|p| p.when == CheckWhen::Always);
    run_checked(sim, end, &properties)
        .expect("within limits")
        .into_iter()
        .next()
}

fn coordinator(sim: &Sim<TwoPhaseCommit>) -> &Coordinator {
    sim.node(COORDINATOR)
        .state()
        .and_then(TwoPhaseCommit::coordinator)
        .expect("the coordinator is up")
}

fn participant(sim: &Sim<TwoPhaseCommit>, id: NodeId) -> &Participant {
    sim.node(id)
        .state()
        .and_then(TwoPhaseCommit::participant)
        .expect("the participant is up")
}

/// No loss, and `slow`'s messages to the coordinator take 100ms: every transaction stays
/// undecided for about 100ms after the other votes are in.
fn slow_votes_from(slow: NodeId) -> NetworkConfig {
    let mut network = lossy(0.0, 0.0);
    let link = crate::net::LinkConfig {
        latency: crate::net::Latency::Constant(SimDuration::from_millis(100)),
        ..network.default.clone()
    };
    network.links.insert((slow, COORDINATOR), link);
    network
}

fn all_yes() -> Params {
    Params {
        no_probability: 0.0,
        ..Params::default()
    }
}

#[test]
fn without_faults_every_transaction_commits_everywhere() {
    let mut sim = build(1, &all_yes(), None, lossy(0.0, 0.0), vec![]);
    assert!(run(&mut sim, SimTime::from_secs(7)).is_none());
    let c = coordinator(&sim);
    assert_eq!(c.started, 20);
    for tx in 1..=20 {
        assert_eq!(c.decision(tx), Some((Outcome::Commit, How::AllYes)));
        for p in 2..=NODES {
            assert_eq!(
                participant(&sim, n(p)).outcome(tx).map(|o| o.0),
                Some(Outcome::Commit)
            );
        }
    }
}

#[test]
fn restarted_coordinator_keeps_logged_decisions_and_presumes_abort_for_the_rest() {
    // tx 4 starts at 1s; n4's vote takes 100ms, so at 1.05s tx 4 is undecided while tx 1-3
    // are decided and logged.
    let network = slow_votes_from(n(4));
    let faults = vec![
        at_ms(1_050, Fault::Crash(n(1))),
        at_ms(1_400, Fault::Restart(n(1))),
    ];
    let mut sim = build(2, &all_yes(), None, network, faults);
    assert!(run_safety(&mut sim, SimTime::from_millis(1_450)).is_none());
    let c = coordinator(&sim);
    assert_eq!(c.started, 4, "the start of tx 4 was logged");
    for tx in 1..=3 {
        assert_eq!(c.decision(tx), Some((Outcome::Commit, How::Logged)));
    }
    assert_eq!(c.decision(4), Some((Outcome::Abort, How::Presumed)));
    // The prepared participants learn the presumed abort.
    assert!(run(&mut sim, SimTime::from_secs(8)).is_none());
    for p in 2..=NODES {
        assert_eq!(
            participant(&sim, n(p)).outcome(4).map(|o| o.0),
            Some(Outcome::Abort)
        );
    }
}

#[test]
fn restarted_participant_is_still_prepared_and_learns_the_decision() {
    // n2 is cut off right after it votes yes on tx 4 (whose decision waits for n4's slow
    // vote), crashes while prepared, restarts, and hears the decision only after the heal.
    let faults = vec![
        at_ms(
            1_030,
            Fault::Partition(vec![vec![n(1), n(3), n(4)], vec![n(2)]]),
        ),
        at_ms(1_100, Fault::Crash(n(2))),
        at_ms(1_300, Fault::Restart(n(2))),
        at_ms(1_500, Fault::Heal(None)),
    ];
    let mut sim = build(3, &all_yes(), None, slow_votes_from(n(4)), faults);
    assert!(run_safety(&mut sim, SimTime::from_millis(1_310)).is_none());
    let p = participant(&sim, n(2));
    assert!(p.prepared(4), "the yes vote was synced: {p:?}");
    assert_eq!(p.outcome(3).map(|o| o.0), Some(Outcome::Commit));
    assert!(run(&mut sim, SimTime::from_secs(7)).is_none());
    let decided = coordinator(&sim).decision(4).map(|d| d.0);
    assert!(decided.is_some());
    assert_eq!(participant(&sim, n(2)).outcome(4).map(|o| o.0), decided);
}

#[test]
fn coordinator_down_for_good_blocks_prepared_participants() {
    let network = slow_votes_from(n(4));
    let faults = vec![at_ms(1_050, Fault::Crash(n(1)))];
    let mut sim = build(1, &all_yes(), None, network, faults);
    let v = run(&mut sim, SimTime::from_secs(5)).expect("all_decided fails");
    assert_eq!(v.property, "all_decided");
    assert!(
        v.message.starts_with(
            "n2, n3, n4 are prepared for tx 4 and blocked: the coordinator n1 is down"
        ),
        "{}",
        v.message
    );
}

/// How many of `seeds` random fault schedules make `bug` violate a property, and which.
fn caught(bug: Option<&'static str>, seeds: u64) -> Vec<(u64, String)> {
    let config = RandomFaults::all(SimTime::from_secs(5));
    (0..seeds)
        .filter_map(|seed| {
            let faults = random_schedule(seed, NODES, &config);
            let mut sim = build(seed, &Params::default(), bug, lossy(0.1, 0.0), faults);
            run(&mut sim, SimTime::from_secs(9)).map(|v| (seed, v.message))
        })
        .collect()
}

#[test]
fn each_bug_is_caught_under_random_faults_and_the_correct_protocol_never() {
    assert_eq!(caught(None, 30), vec![]);
    for bug in ["unilateral-abort", "unlogged-decision"] {
        assert!(!caught(Some(bug), 30).is_empty(), "{bug} was never caught");
    }
}

#[test]
fn bad_params_are_rejected_not_clamped() {
    let nan = Params {
        no_probability: f64::NAN,
        ..Params::default()
    };
    let e = TwoPhaseCommit::check_params(&nan, 4).expect_err("NaN is no probability");
    assert_eq!(e, "`no_probability` is NaN; it must be from 0 to 1");
    for p in [-1.0, 2.0, f64::INFINITY] {
        let params = Params {
            no_probability: p,
            ..Params::default()
        };
        assert!(TwoPhaseCommit::check_params(&params, 4).is_err(), "{p}");
    }
    let many = Params {
        transactions: u64::MAX,
        ..Params::default()
    };
    assert!(TwoPhaseCommit::check_params(&many, 4).is_err());
    assert!(std::panic::catch_unwind(|| TwoPhaseCommit::new(n(1), 4, &nan, None)).is_err());
    let timing = Timing::from_params(&Params::default());
    assert!(timing.no_ppm <= PPM);
}

#[test]
fn same_seed_same_trace_and_another_seed_another() {
    let hash = |seed: u64| {
        let faults = random_schedule(seed, NODES, &RandomFaults::all(SimTime::from_secs(4)));
        let mut sim = build(seed, &Params::default(), None, lossy(0.1, 0.02), faults);
        sim.run_until(SimTime::from_secs(6)).expect("within limits");
        sim.trace_hash()
    };
    assert_eq!(hash(11), hash(11));
    assert_ne!(hash(11), hash(12));
}

#[test]
fn decided_transactions_stop_resending_once_acknowledged() {
    let mut sim = build(5, &all_yes(), None, lossy(0.0, 0.0), vec![]);
    assert!(run(&mut sim, SimTime::from_secs(7)).is_none());
    for state in &coordinator(&sim).txs {
        let TxState::Decided { acked, .. } = state else {
            panic!("undecided: {state:?}");
        };
        assert!(acked.iter().all(|&a| a));
    }
    assert_eq!(sim.in_flight(), 0);
    assert!(sim.next_event_time().is_none(), "no timer keeps firing");
}

#[test]
fn a_participant_cut_off_for_good_is_named_with_the_decision_it_misses() {
    // As in the unilateral-abort scenario, without the bug and without the heal.
    let faults = vec![at_ms(
        1_050,
        Fault::Partition(vec![vec![n(1), n(2), n(4)], vec![n(3)]]),
    )];
    let mut sim = build(2, &all_yes(), None, slow_votes_from(n(2)), faults);
    let v = run(&mut sim, SimTime::from_secs(3)).expect("all_decided fails");
    assert_eq!(v.property, "all_decided");
    assert!(
        v.message.starts_with(
            "n3 is prepared for tx 4 and still waiting for the decision: the coordinator n1 \
             decided commit, as every participant voted yes"
        ),
        "{}",
        v.message
    );
}

#[test]
fn all_decided_leaves_alone_a_transaction_started_in_the_runs_last_moments() {
    let params = Params {
        transactions: 4,
        ..all_yes()
    };
    // Tx 4 starts at 1s; n2's vote takes 100ms, so it is undecided until about 1.1s.
    let end_early = SimTime::from_millis(1_050);
    let mut sim = build(1, &params, None, slow_votes_from(n(2)), vec![]);
    assert!(
        run(&mut sim, end_early).is_none(),
        "started 50ms before the end"
    );
    assert_eq!(
        coordinator(&sim).decision(4),
        None,
        "tx 4 is still under way"
    );
    // The same transaction, given as long as the settling time but with its coordinator
    // paused for good before the votes arrive, stays undecided, and all_decided names it.
    let blocked = vec![TimedFault {
        at: SimTime::from_millis(1_001),
        fault: Fault::Pause(COORDINATOR),
    }];
    let mut sim = build(1, &params, None, slow_votes_from(n(2)), blocked);
    let report = run(&mut sim, SimTime::from_secs(3)).expect("tx 4 never decided");
    assert_eq!(report.property, "all_decided");
    assert!(report.message.contains("tx 4"), "{}", report.message);
}
