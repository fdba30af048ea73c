//! Tests of quorum-kv: strict quorums keep the history linearizable under loss and crashes,
//! weak quorums do not, each bug is caught by the property its doc names, and replicas
//! recover what they stored.

use super::*;
use crate::check::{ViolationReport, run_checked};
use crate::engine::{NodeView, Sim, SimBuilder};
use crate::faults::{Fault, TimedFault};
use crate::history::{Status, Value};
use crate::net::{Latency, LinkConfig, NetworkConfig};
use crate::protocols::echo::tests::{at_ms, lossy};
use crate::workload::WorkloadConfig;

fn n(name_index: u32) -> NodeId {
    NodeId(name_index - 1)
}

fn quorums(r: u32, w: u32) -> Params {
    Params {
        r,
        w,
        ..Params::default()
    }
}

/// Clients invoke until 1.5 s; the run goes on to 2.5 s so that anti-entropy settles.
fn workload(model: Model) -> WorkloadConfig {
    WorkloadConfig {
        clients: 4,
        rate_per_s: 200.0,
        mix: vec![
            (crate::workload::Func::Read, 1.0),
            (crate::workload::Func::Write, 1.0),
        ],
        keys: 2,
        timeout: SimDuration::from_millis(800),
        until: SimTime::from_millis(1_500),
        ..WorkloadConfig::new(model)
    }
}

struct Run {
    sim: Sim<QuorumKv>,
    violation: Option<ViolationReport>,
}

fn build(
    seed: u64,
    params: Params,
    bug: Option<&'static str>,
    network: NetworkConfig,
    faults: Vec<TimedFault>,
    work: WorkloadConfig,
) -> Sim<QuorumKv> {
    SimBuilder::new(seed)
        .nodes(3)
        .network(network)
        .faults(faults)
        .workload(work)
        .build(move |id| QuorumKv::new(id, 3, &params, bug))
        .expect("valid setup")
}

fn run(
    seed: u64,
    params: Params,
    bug: Option<&'static str>,
    network: NetworkConfig,
    faults: Vec<TimedFault>,
) -> Run {
    let mut sim = build(
        seed,
        params,
        bug,
        network,
        faults,
        workload(Model::Register),
    );
    let violations = run_checked(
        &mut sim,
        SimTime::from_millis(2_500),
        &QuorumKv::properties(),
    )
    .expect("within limits");
    Run {
        sim,
        violation: violations.into_iter().next(),
    }
}

fn linearizable(sim: &Sim<QuorumKv>) -> bool {
    crate::testing::history_passes(sim, Model::Kv)
}

/// Links between nodes of 20–80 ms; clients reach their node in 1 ms.
fn slow_links() -> NetworkConfig {
    NetworkConfig {
        default: LinkConfig {
            latency: Latency::Uniform(SimDuration::from_millis(20), SimDuration::from_millis(80)),
            ..LinkConfig::default()
        },
        links: BTreeMap::new(),
    }
}

fn crashes(seed: u64) -> Vec<TimedFault> {
    let first = 200 + seed * 37 % 400;
    let second = 800 + seed * 53 % 400;
    vec![
        at_ms(first, Fault::Crash(n(1 + (seed % 3) as u32))),
        at_ms(first + 150, Fault::Restart(n(1 + (seed % 3) as u32))),
        at_ms(second, Fault::Crash(n(1 + ((seed + 1) % 3) as u32))),
        at_ms(second + 100, Fault::Restart(n(1 + ((seed + 1) % 3) as u32))),
    ]
}

#[test]
fn strict_quorums_are_linearizable_under_loss_duplication_and_crashes() {
    for seed in 0..10 {
        let r = run(
            seed,
            Params::default(),
            None,
            lossy(0.1, 0.05),
            crashes(seed),
        );
        assert!(r.violation.is_none(), "seed {seed}: {:?}", r.violation);
        let counts = r.sim.history().counts();
        assert!(counts.ok > 100, "seed {seed}: {counts:?}");
        assert!(linearizable(&r.sim), "seed {seed}");
    }
}

#[test]
fn weak_quorums_read_stale_values_where_strict_ones_do_not() {
    let weak = run(1, quorums(1, 1), None, slow_links(), Vec::new());
    assert!(
        weak.violation.is_none(),
        "the invariants hold: {:?}",
        weak.violation
    );
    assert!(!linearizable(&weak.sim), "a stale read is caught");
    let strict = run(1, quorums(2, 2), None, slow_links(), Vec::new());
    assert!(strict.violation.is_none(), "{:?}", strict.violation);
    assert!(linearizable(&strict.sim), "the same run with r 2, w 2");
}

#[test]
fn ignore_version_undoes_a_newer_write() {
    let r = run(
        1,
        Params::default(),
        Some("ignore-version"),
        slow_links(),
        Vec::new(),
    );
    let v = r.violation.expect("a replica goes back in time");
    assert_eq!(v.property, "versions_grow");
    assert!(
        v.message.contains("with the older version"),
        "{}",
        v.message
    );
}

/// n3 is cut off while clients write, and stays cut off until every coordinator has given
/// up on its writes (500 ms after the last one); then clients only read.
fn cut_then_read(bug: Option<&'static str>) -> Run {
    let params = Params {
        anti_entropy: SimDuration::ZERO,
        ..Params::default()
    };
    let faults = vec![
        at_ms(100, Fault::Partition(vec![vec![n(3)], vec![n(1), n(2)]])),
        at_ms(1_400, Fault::Heal(None)),
    ];
    let writes = WorkloadConfig {
        mix: vec![(crate::workload::Func::Write, 1.0)],
        until: SimTime::from_millis(800),
        final_reads: Some(SimTime::from_millis(1_600)),
        clients: 6,
        ..workload(Model::Register)
    };
    let mut sim = build(3, params, bug, lossy(0.0, 0.0), faults, writes);
    let violations = run_checked(
        &mut sim,
        SimTime::from_millis(2_000),
        &QuorumKv::properties(),
    )
    .expect("within limits");
    Run {
        sim,
        violation: violations.into_iter().next(),
    }
}

#[test]
fn read_repair_brings_back_a_replica_that_was_cut_off() {
    let correct = cut_then_read(None);
    assert!(correct.violation.is_none(), "{:?}", correct.violation);
    let buggy = cut_then_read(Some("no-read-repair"));
    let v = buggy.violation.expect("n3 stays behind");
    assert_eq!(v.property, "replicas_converged");
    assert!(
        v.message
            .starts_with("replicas disagree at the end: n3 holds"),
        "{}",
        v.message
    );
}

#[test]
fn a_restarted_replica_recovers_what_it_stored() {
    let faults = vec![
        at_ms(700, Fault::Crash(n(2))),
        at_ms(701, Fault::Restart(n(2))),
    ];
    let mut sim = build(
        4,
        Params::default(),
        None,
        lossy(0.0, 0.0),
        faults,
        workload(Model::Register),
    );
    let props = QuorumKv::properties();
    run_checked(&mut sim, SimTime::from_millis(699), &props).expect("within limits");
    let NodeView::Up(before) = sim.node(n(2)) else {
        panic!("n2 is up")
    };
    let before = before.store().clone();
    assert!(!before.is_empty(), "n2 stored writes before the crash");
    run_checked(&mut sim, SimTime::from_millis(750), &props).expect("within limits");
    let NodeView::Up(after) = sim.node(n(2)) else {
        panic!("n2 restarted")
    };
    for (key, slot) in &before {
        let now = after.store().get(key).map(|s| s.version);
        assert!(
            now >= Some(slot.version),
            "key {key}: {now:?} < {}",
            slot.version
        );
    }
}

#[test]
fn same_seed_same_trace_and_history() {
    let a = run(5, Params::default(), None, lossy(0.1, 0.05), crashes(5));
    let b = run(5, Params::default(), None, lossy(0.1, 0.05), crashes(5));
    assert_eq!(a.sim.trace_hash(), b.sim.trace_hash());
    assert_eq!(a.sim.history().ops(), b.sim.history().ops());
    let c = run(6, Params::default(), None, lossy(0.1, 0.05), crashes(5));
    assert_ne!(a.sim.trace_hash(), c.sim.trace_hash());
}

#[test]
fn cas_and_append_are_refused_as_definite_failures() {
    let work = WorkloadConfig::new(Model::Kv);
    let mut sim = build(
        7,
        Params::default(),
        None,
        lossy(0.0, 0.0),
        Vec::new(),
        work,
    );
    run_checked(
        &mut sim,
        SimTime::from_millis(1_000),
        &QuorumKv::properties(),
    )
    .expect("runs");
    let ops = sim.history().ops();
    assert!(ops.iter().any(|o| o.f == "cas" && o.status == Status::Fail));
    assert!(
        ops.iter()
            .any(|o| o.f == "append" && o.status == Status::Fail)
    );
    assert!(ops.iter().any(|o| o.f == "write" && o.status == Status::Ok));
    assert!(linearizable(&sim));
}

#[test]
fn bad_quorums_are_rejected_and_replica_sets_wrap() {
    let e = QuorumKv::check_params(&quorums(0, 1), 3).expect_err("r = 0");
    assert_eq!(e, "`r` is 0; it must be from 1 to 3");
    let e = QuorumKv::check_params(&quorums(1, 4), 3).expect_err("w above n");
    assert_eq!(e, "`w` is 4; it must be from 1 to 3");
    let wide = Params {
        n: 5,
        ..quorums(3, 3)
    };
    let e = QuorumKv::check_params(&wide, 3).expect_err("more replicas than nodes");
    assert_eq!(e, "`n` is 5; it must be from 1 to 3");
    let flicker = Params {
        anti_entropy: SimDuration::from_nanos(1),
        ..Params::default()
    };
    assert!(QuorumKv::check_params(&flicker, 3).is_err());
    let off = Params {
        anti_entropy: SimDuration::ZERO,
        ..Params::default()
    };
    assert!(
        QuorumKv::check_params(&off, 3).is_ok(),
        "0s turns anti-entropy off"
    );
    assert!(std::panic::catch_unwind(|| QuorumKv::new(n(1), 3, &wide, None)).is_err());
    assert_eq!(replicas_of(4, 2, 3), vec![n(2), n(3)]);
    assert_eq!(replicas_of(2, 2, 3), vec![n(1), n(3)]);
    assert_eq!(replicas_of(7, 9, 3), vec![n(1), n(2), n(3)]);
    let slot = Slot {
        version: Version {
            ts: 1_500_000_000,
            node: 2,
        },
        value: Value::Int(-4),
    };
    assert_eq!(slot::decode(&slot::encode(&slot)), Some(slot.clone()));
    assert_eq!(slot.version.to_string(), "1.500000000s@n3");
}

/// Five nodes, sloppy quorums, no anti-entropy; n1 and n4 are cut off from the rest while
/// clients write key 0 (replicas n1, n2, n3), and n4 crashes and restarts before the heal.
#[test]
fn hints_survive_a_crash_of_their_keeper_and_are_handed_back() {
    let params = Params {
        sloppy: true,
        timeout: SimDuration::from_millis(300),
        anti_entropy: SimDuration::ZERO,
        ..Params::default()
    };
    let faults = vec![
        at_ms(
            100,
            Fault::Partition(vec![vec![n(1), n(4)], vec![n(2), n(3), n(5)]]),
        ),
        at_ms(900, Fault::Crash(n(4))),
        at_ms(950, Fault::Restart(n(4))),
        at_ms(1_200, Fault::Heal(None)),
    ];
    let work = WorkloadConfig {
        clients: 5,
        keys: 1,
        values: 1000,
        until: SimTime::from_millis(850),
        ..workload(Model::Register)
    };
    // Anti-entropy is off, and the small side has one spare, n4, which stands in for n2:
    // n3's stand-in would be n5, on the other side, so no write of the small side ever
    // reaches n3. replicas_converged holds at the end only where the big side wrote last,
    // which is not the case on seeds 2, 19 and 23 of 0..30; seed 0 has 8 acknowledged writes
    // on the small side.
    let mut sim = SimBuilder::new(0)
        .nodes(5)
        .network(lossy(0.0, 0.0))
        .faults(faults)
        .workload(work)
        .build(move |id| QuorumKv::new(id, 5, &params, None))
        .expect("valid setup");
    let props = QuorumKv::properties();
    run_checked(&mut sim, SimTime::from_millis(1_000), &props).expect("within limits");
    let NodeView::Up(keeper) = sim.node(n(4)) else {
        panic!("n4 restarted")
    };
    assert!(!keeper.hints.is_empty(), "n4 recovered the hints it kept");
    let violations = run_checked(&mut sim, SimTime::from_millis(2_000), &props).expect("runs");
    assert!(violations.is_empty(), "{violations:?}");
    let NodeView::Up(keeper) = sim.node(n(4)) else {
        panic!("n4 is up")
    };
    assert!(keeper.hints.is_empty(), "every hint was handed back");
    let (ops, times) = (sim.history().ops(), sim.history().times());
    let small_side_writes = ops.iter().zip(times).filter(|(o, t)| {
        let cut_off = (SimTime::from_millis(100)..SimTime::from_millis(850)).contains(&t.invoke);
        o.f == "write" && o.status == Status::Ok && [n(1), n(4)].contains(&t.node) && cut_off
    });
    assert!(
        small_side_writes.count() > 5,
        "the small side stayed available"
    );
}
