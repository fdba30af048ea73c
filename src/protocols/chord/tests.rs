//! Tests of chord: a ring forms and its fingers settle, it closes over a crashed node, rings
//! split by a partition join again, each bug is caught, bad params are rejected, and runs are
//! deterministic.

use super::*;
use crate::check::{CheckWhen, ViolationReport, run_checked};
use crate::engine::{Sim, SimBuilder};
use crate::faults::{Fault, TimedFault};
use crate::net::NetworkConfig;
use crate::protocols::echo::tests::{at_ms, lossy};
use crate::time::SimTime;

pub(super) fn n(number: u32) -> NodeId {
    NodeId(number - 1)
}

fn build(
    seed: u64,
    nodes: u32,
    bug: Option<&'static str>,
    network: NetworkConfig,
    faults: Vec<TimedFault>,
) -> Sim<Chord> {
    let params = Params::default();
    SimBuilder::new(seed)
        .nodes(u64::from(nodes))
        .network(network)
        .faults(faults)
        .build(move |id| Chord::new(id, nodes, &params, bug))
        .expect("valid setup")
}

/// Runs to `end` with every property checked; the first violation, if any.
fn run(sim: &mut Sim<Chord>, end: SimTime) -> Option<ViolationReport> {
    run_checked(sim, end, &Chord::properties())
        .expect("within limits")
        .into_iter()
        .next()
}

/// Runs to `end` checking only the invariants: mid-run, the ring may still be settling.
fn run_safety(sim: &mut Sim<Chord>, end: SimTime) -> Option<ViolationReport> {
    let mut properties = Chord::properties();
    properties.retain(|p| p.when == CheckWhen::Always);
    run_checked(sim, end, &properties)
        .expect("within limits")
        .into_iter()
        .next()
}

fn state(sim: &Sim<Chord>, id: NodeId) -> &Chord {
    sim.node(id).state().expect("the node is up")
}

/// The nodes in ring order.
fn ring_order(sim: &Sim<Chord>, nodes: &[NodeId]) -> Vec<NodeId> {
    let ring = state(sim, nodes[0]).ring().clone();
    let mut order = nodes.to_vec();
    order.sort_by_key(|&n| ring.id(n));
    order
}

#[test]
fn a_ring_of_eight_forms_with_full_successor_lists_and_right_fingers() {
    let mut sim = build(1, 8, None, lossy(0.0, 0.0), Vec::new());
    assert!(run(&mut sim, SimTime::from_secs(3)).is_none());
    let all: Vec<NodeId> = (1..=8).map(n).collect();
    let order = ring_order(&sim, &all);
    for (k, &id) in order.iter().enumerate() {
        let node = state(&sim, id);
        let expected: Vec<NodeId> = (1..=3).map(|j| order[(k + j) % 8]).collect();
        assert_eq!(node.successors(), expected.as_slice(), "{id}");
        assert_eq!(node.predecessor(), Some(order[(k + 7) % 8]), "{id}");
        assert!(node.fingers().iter().all(Option::is_some), "{id}");
    }
}

#[test]
fn the_ring_closes_over_a_node_that_crashed_for_good() {
    for seed in 0..5 {
        let faults = vec![at_ms(1_000, Fault::Crash(n(3)))];
        let mut sim = build(seed, 6, None, lossy(0.05, 0.0), faults);
        let report = run(&mut sim, SimTime::from_secs(4));
        assert!(report.is_none(), "seed {seed}: {report:?}");
    }
}

#[test]
fn two_rings_left_by_a_partition_join_after_the_heal() {
    let side_a = vec![n(1), n(2), n(3)];
    let side_b = vec![n(4), n(5), n(6)];
    let faults = vec![
        at_ms(500, Fault::Partition(vec![side_a.clone(), side_b.clone()])),
        at_ms(2_500, Fault::Heal(None)),
    ];
    let mut sim = build(4, 6, None, lossy(0.0, 0.0), faults);
    // Just before the heal, each side is a ring of its own.
    assert!(run_safety(&mut sim, SimTime::from_millis(2_490)).is_none());
    for side in [&side_a, &side_b] {
        let order = ring_order(&sim, side);
        for (k, &id) in order.iter().enumerate() {
            assert_eq!(state(&sim, id).successor(), order[(k + 1) % 3], "{id}");
        }
    }
    assert!(run(&mut sim, SimTime::from_secs(6)).is_none());
}

#[test]
fn a_restarted_node_joins_again() {
    let faults = vec![
        at_ms(800, Fault::Crash(n(1))),
        at_ms(1_500, Fault::Restart(n(1))),
    ];
    let mut sim = build(2, 5, None, lossy(0.02, 0.0), faults);
    let report = run(&mut sim, SimTime::from_secs(4));
    assert!(report.is_none(), "{report:?}");
    assert!(state(&sim, n(1)).is_joined());
}

#[test]
fn each_bug_breaks_the_ring_after_a_node_crashes_for_good() {
    for bug in ["single-successor", "no-predecessor-check"] {
        let faults = vec![at_ms(1_000, Fault::Crash(n(3)))];
        let mut sim = build(3, 6, Some(bug), lossy(0.0, 0.0), faults);
        let report = run(&mut sim, SimTime::from_secs(4)).expect("the bug is caught");
        assert_eq!(report.property, "ring_correct", "{bug}");
    }
}

#[test]
fn bad_params_are_rejected() {
    let bad = |f: fn(&mut Params)| {
        let mut p = Params::default();
        f(&mut p);
        Chord::check_params(&p, 5)
    };
    assert!(bad(|_| {}).is_ok());
    assert!(bad(|p| p.id_bits = 2).is_err());
    assert!(bad(|p| p.id_bits = 64).is_err());
    assert!(bad(|p| p.successors = 0).is_err());
    assert!(bad(|p| p.successors = 17).is_err());
    assert!(bad(|p| p.stabilize_interval = SimDuration::ZERO).is_err());
    assert!(bad(|p| p.lookup_timeout = SimDuration::from_secs(3601)).is_err());
    let p = Params {
        id_bits: 3,
        ..Params::default()
    };
    assert!(Chord::check_params(&p, 8).is_ok());
    let e = Chord::check_params(&p, 9).unwrap_err();
    assert!(e.contains("no room for 9 nodes"), "{e}");
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let faults = vec![
        at_ms(600, Fault::Crash(n(2))),
        at_ms(1_200, Fault::Restart(n(2))),
    ];
    let hash = |seed| {
        let mut sim = build(seed, 5, None, lossy(0.05, 0.02), faults.clone());
        run(&mut sim, SimTime::from_secs(2));
        sim.trace_hash()
    };
    assert_eq!(hash(9), hash(9));
    assert_ne!(hash(9), hash(10));
}
