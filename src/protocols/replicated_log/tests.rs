//! Tests of replicated-log: failover keeps every acknowledged message and the followers'
//! logs converge; acks: leader and each bug lose or skip messages; the ISR and min_insync
//! refuse sends; bad params are refused; runs are deterministic.

use super::*;
use crate::check::{ViolationReport, check_history, run_checked};
use crate::engine::{Sim, SimBuilder};
use crate::faults::{Fault, TimedFault};
use crate::protocols::echo::tests::{at_ms, lossy};
use crate::time::SimTime;
use crate::workload::WorkloadConfig;

const NODES: u32 = 4;

fn n(number: u32) -> NodeId {
    NodeId(number - 1)
}

fn workload(keys: u32) -> WorkloadConfig {
    WorkloadConfig {
        clients: 4,
        rate_per_s: 200.0,
        keys,
        timeout: SimDuration::from_millis(500),
        ..WorkloadConfig::new(Model::Log)
    }
}

fn build(
    params: &Params,
    bug: Option<&'static str>,
    faults: Vec<TimedFault>,
) -> Sim<ReplicatedLog> {
    let params = params.clone();
    SimBuilder::new(1)
        .nodes(u64::from(NODES))
        .network(lossy(0.0, 0.0))
        .faults(faults)
        .workload(workload(1))
        .build(move |id| ReplicatedLog::new(id, NODES, &params, bug))
        .expect("valid setup")
}

/// Runs to `end` with every invariant checked: the first violation, if any, and the
/// history check's status and first explanation line after the verdict.
fn run(sim: &mut Sim<ReplicatedLog>, end: SimTime) -> (Option<ViolationReport>, String, String) {
    let mut properties = ReplicatedLog::properties();
    properties.retain(|p| p.name != "partitions_led");
    let first = run_checked(sim, end, &properties)
        .expect("within limits")
        .into_iter()
        .next();
    let check = check_history(Model::Log, sim.history(), sim.node_names(), sim.now());
    let finding = check.explanation.get(2).cloned().unwrap_or_default();
    (first, check.status.to_string(), finding)
}

fn crash_leader_at_2s() -> Vec<TimedFault> {
    vec![
        at_ms(2_000, Fault::Crash(n(2))),
        at_ms(3_000, Fault::Restart(n(2))),
    ]
}

fn broker(sim: &Sim<ReplicatedLog>, id: NodeId) -> &Broker {
    sim.node(id)
        .state()
        .and_then(ReplicatedLog::broker)
        .expect("the broker is up")
}

#[test]
fn a_failover_keeps_every_acknowledged_message_and_the_logs_converge() {
    let mut sim = build(&Params::default(), None, crash_leader_at_2s());
    let (violation, status, _) = run(&mut sim, SimTime::from_secs(5));
    assert!(violation.is_none(), "{violation:?}");
    assert_eq!(status, "pass");
    assert!(
        sim.history().counts().ok > 300,
        "{:?}",
        sim.history().counts()
    );
    let leader = broker(&sim, n(3)).replicas[&0].clone();
    assert_eq!(
        leader.lead.as_ref().map(|l| l.epoch),
        Some(1),
        "n3 took over"
    );
    for b in [n(2), n(4)] {
        let r = &broker(&sim, b).replicas[&0];
        let common = r.hw.min(leader.hw) as usize;
        assert!(common > 100, "{b} holds {common} entries in common");
        assert_eq!(
            r.log[..common],
            leader.log[..common],
            "{b} follows the leader"
        );
    }
}

#[test]
fn acks_leader_loses_what_the_followers_had_not_fetched() {
    let params = Params {
        acks: Acks::Leader,
        ..Params::default()
    };
    let mut sim = build(&params, None, crash_leader_at_2s());
    let (_, status, finding) = run(&mut sim, SimTime::from_secs(5));
    assert_eq!(status, "violated");
    assert!(
        finding.starts_with("lost: in the log of key 0"),
        "{finding}"
    );
}

#[test]
fn ack_before_isr_is_caught_like_acks_leader() {
    let mut sim = build(
        &Params::default(),
        Some("ack-before-isr"),
        crash_leader_at_2s(),
    );
    let (_, status, finding) = run(&mut sim, SimTime::from_secs(5));
    assert_eq!(status, "violated");
    assert!(finding.starts_with("lost:"), "{finding}");
}

#[test]
fn without_enough_in_sync_replicas_sends_are_refused_and_nothing_is_lost() {
    let params = Params {
        min_insync: 3,
        ..Params::default()
    };
    let faults = vec![at_ms(1_000, Fault::Crash(n(4)))];
    let mut sim = build(&params, None, faults);
    let (violation, status, _) = run(&mut sim, SimTime::from_secs(3));
    assert!(violation.is_none(), "{violation:?}");
    assert_eq!(status, "pass");
    let r = &broker(&sim, n(2)).replicas[&0];
    assert_eq!(r.part.isr, vec![n(2), n(3)], "n4 was dropped from the ISR");
    assert!(
        sim.history().counts().fail > 50,
        "{:?}",
        sim.history().counts()
    );
}

#[test]
fn an_isolated_leader_steps_down_and_follows_again_losing_nothing() {
    let faults = vec![
        at_ms(1_000, Fault::Isolate(n(2))),
        at_ms(3_000, Fault::Heal(None)),
    ];
    let mut sim = build(&Params::default(), None, faults);
    let (violation, status, _) = run(&mut sim, SimTime::from_secs(5));
    assert!(violation.is_none(), "{violation:?}");
    assert_eq!(status, "pass");
    let r = &broker(&sim, n(2)).replicas[&0];
    assert!(r.lead.is_none(), "n2 follows again");
    assert!(r.part.leader_epoch >= 1);
}

#[test]
fn bad_params_are_refused() {
    let check = |p: Params, nodes| ReplicatedLog::check_params(&p, nodes);
    assert!(check(Params::default(), 4).is_ok());
    let e = check(Params::default(), 1).unwrap_err();
    assert!(e.contains("at least 2 nodes"), "{e}");
    let e = check(
        Params {
            min_insync: 4,
            ..Params::default()
        },
        4,
    )
    .unwrap_err();
    assert_eq!(e, "`min_insync` is 4; it must be from 1 to 3");
    let e = check(
        Params {
            min_insync: 0,
            ..Params::default()
        },
        4,
    )
    .unwrap_err();
    assert!(e.contains("min_insync"), "{e}");
    let slow = Params {
        session_timeout: SimDuration::from_millis(50),
        ..Params::default()
    };
    assert!(check(slow, 4).unwrap_err().contains("session_timeout"));
    let lag = Params {
        replica_lag_max: SimDuration::from_millis(20),
        ..Params::default()
    };
    assert!(check(lag, 4).unwrap_err().contains("replica_lag_max"));
    let poll = Params {
        poll_max: 0,
        ..Params::default()
    };
    assert!(check(poll, 4).unwrap_err().contains("poll_max"));
}

#[test]
fn same_seed_same_run() {
    let hash = || {
        let mut sim = build(&Params::default(), None, crash_leader_at_2s());
        run(&mut sim, SimTime::from_secs(3));
        sim.trace_hash()
    };
    assert_eq!(hash(), hash());
}

/// A digest whose name matches no invariant would leave it checked after every event.
#[test]
fn every_invariant_has_a_digest_under_its_own_name() {
    let invariants: Vec<&str> = ReplicatedLog::properties()
        .iter()
        .filter(|p| p.when == crate::check::CheckWhen::Always)
        .map(|p| p.name)
        .collect();
    let digested: Vec<&str> = ReplicatedLog::CHECK_DIGESTS
        .iter()
        .map(|d| d.property)
        .collect();
    assert_eq!(digested, invariants);
}
