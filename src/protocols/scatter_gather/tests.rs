//! Tests of scatter-gather: the shard layout, bad params refused, repair after a crash,
//! hedging within its budget with the losers cancelled, and each bug caught.

use super::Model;
use super::{Params, ScatterGather, copies_of, shard_of};
use crate::check::{ViolationReport, run_checked};
use crate::engine::{Sim, SimBuilder};
use crate::faults::{Fault, TimedFault};
use crate::net::{Latency, NetworkConfig};
use crate::process::NodeId;
use crate::protocol::Protocol;
use crate::time::SimDuration;
use crate::time::SimTime;
use crate::workload::{Func, WorkloadConfig};

#[test]
fn each_shard_has_two_distinct_copies() {
    for nodes in 2..6 {
        for shard in 0..nodes {
            let [primary, replica] = copies_of(shard, nodes);
            assert_eq!(primary, NodeId(shard));
            assert_ne!(primary, replica);
        }
    }
    assert_eq!(shard_of(7, 5), 2);
    assert_eq!(shard_of(-1, 5), 4);
}

#[test]
fn out_of_range_params_are_refused_not_clamped() {
    let ok = Params::default();
    assert!(ScatterGather::check_params(&ok, 4).is_ok());
    assert!(ScatterGather::check_params(&ok, 1).is_err());
    let chance = Params {
        slow_chance: 1.5,
        ..Params::default()
    };
    let e = ScatterGather::check_params(&chance, 4).unwrap_err();
    assert!(e.contains("slow_chance"), "{e}");
    let budget = Params {
        hedge_budget_pct: 101,
        ..Params::default()
    };
    assert!(ScatterGather::check_params(&budget, 4).is_err());
    let hedge = Params {
        hedge_after: Some(SimDuration::ZERO),
        ..Params::default()
    };
    assert!(ScatterGather::check_params(&hedge, 4).is_err());
}

const NODES: u32 = 4;

fn build(
    seed: u64,
    params: Params,
    bug: Option<&'static str>,
    faults: Vec<TimedFault>,
) -> Sim<ScatterGather> {
    let mut network = NetworkConfig::default();
    network.default.latency =
        Latency::Uniform(SimDuration::from_millis(1), SimDuration::from_millis(5));
    let workload = WorkloadConfig {
        clients: 4,
        rate_per_s: 200.0,
        mix: vec![(Func::Add, 1.0), (Func::Read, 1.0)],
        timeout: SimDuration::from_millis(500),
        until: SimTime::from_secs(2),
        ..WorkloadConfig::new(Model::Set)
    };
    SimBuilder::new(seed)
        .nodes(u64::from(NODES))
        .network(network)
        .faults(faults)
        .workload(workload)
        .build(move |id| ScatterGather::new(id, NODES, &params, bug))
        .expect("valid setup")
}

fn run(sim: &mut Sim<ScatterGather>) -> Option<ViolationReport> {
    run_checked(sim, SimTime::from_secs(3), &ScatterGather::properties())
        .expect("within limits")
        .into_iter()
        .next()
}

fn node(sim: &Sim<ScatterGather>, i: u32) -> &ScatterGather {
    sim.node(NodeId(i))
        .state()
        .expect("every node is up at the end")
}

#[test]
fn a_restarted_copy_is_repaired_to_agree_with_the_other() {
    let faults = vec![
        TimedFault {
            at: SimTime::from_millis(400),
            fault: Fault::Crash(NodeId(1)),
        },
        TimedFault {
            at: SimTime::from_millis(900),
            fault: Fault::Restart(NodeId(1)),
        },
    ];
    let mut sim = build(3, Params::default(), None, faults);
    assert!(run(&mut sim).is_none());
    for shard in 0..NODES {
        let [primary, replica] = copies_of(shard, NODES);
        let held = |id: NodeId| -> Vec<i64> {
            let n = node(&sim, id.0);
            n.elements
                .iter()
                .copied()
                .filter(|&e| shard_of(e, NODES) == shard)
                .collect()
        };
        assert_eq!(held(primary), held(replica), "shard {shard}");
        assert!(!held(primary).is_empty(), "shard {shard} got elements");
    }
}

#[test]
fn hedges_stay_within_the_budget_and_losers_are_cancelled() {
    let params = Params {
        slow_chance: 0.3,
        slow_delay: SimDuration::from_millis(40),
        hedge_after: Some(SimDuration::from_millis(12)),
        hedge_budget_pct: 10,
        ..Params::default()
    };
    let mut sim = build(5, params, None, Vec::new());
    assert!(run(&mut sim).is_none());
    let (mut hedges, mut requests) = (0, 0);
    for i in 0..NODES {
        let n = node(&sim, i);
        hedges += n.hedges_sent;
        requests += n.requests_sent;
        assert!(n.delayed.is_empty(), "n{} still holds slow answers", i + 1);
    }
    assert!(hedges > 0, "slow shards were hedged");
    assert!(
        hedges * 100 <= 10 * requests,
        "{hedges} hedges for {requests}"
    );
}

#[test]
fn each_bug_is_caught() {
    let mut sim = build(1, Params::default(), Some("majority-merge"), Vec::new());
    let v = run(&mut sim).expect("majority-merge is caught");
    assert_eq!(v.property, "complete_answers");
    let params = Params {
        slow_chance: 0.5,
        hedge_after: Some(SimDuration::from_millis(12)),
        hedge_budget_pct: 5,
        ..Params::default()
    };
    let mut sim = build(1, params, Some("unbudgeted-hedge"), Vec::new());
    let v = run(&mut sim).expect("unbudgeted-hedge is caught");
    assert_eq!(v.property, "hedge_budget");
}
