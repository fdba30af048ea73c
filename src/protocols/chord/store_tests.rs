//! Tests of chord as a store: gets find what puts stored through crashes, restarts and
//! joins; a key lost with every copy, or stored while the ring was split, is not held
//! against it; the no-handover bug is caught.

use super::tests::n;
use super::*;
use crate::check::{ViolationReport, run_checked};
use crate::engine::{Sim, SimBuilder};
use crate::faults::{Fault, TimedFault};
use crate::history::{Status, Value};
use crate::net::NetworkConfig;
use crate::protocols::echo::tests::{at_ms, lossy};
use crate::time::SimTime;
use crate::workload::{Func, WorkloadConfig};

fn build(
    seed: u64,
    params: Params,
    bug: Option<&'static str>,
    network: NetworkConfig,
    faults: Vec<TimedFault>,
) -> Sim<Chord> {
    let nodes = 8;
    let workload = WorkloadConfig {
        clients: 4,
        rate_per_s: 200.0,
        mix: vec![(Func::Write, 1.0), (Func::Read, 2.0)],
        keys: 40,
        timeout: SimDuration::from_millis(500),
        until: SimTime::from_secs(5),
        ..WorkloadConfig::new(Chord::workloads()[0])
    };
    SimBuilder::new(seed)
        .nodes(u64::from(nodes))
        .network(network)
        .faults(faults)
        .workload(workload)
        .build(move |id| Chord::new(id, nodes, &params, bug))
        .expect("valid setup")
}

/// A correct ring under 5% loss and 2% duplication, with `faults`.
fn lossy_run(seed: u64, faults: Vec<TimedFault>) -> Sim<Chord> {
    let mut sim = build(seed, Params::default(), None, lossy(0.05, 0.02), faults);
    let report = run(&mut sim);
    assert!(report.is_none(), "seed {seed}: {report:?}");
    sim
}

fn run(sim: &mut Sim<Chord>) -> Option<ViolationReport> {
    run_checked(sim, SimTime::from_secs(6), &Chord::properties())
        .expect("within limits")
        .into_iter()
        .next()
}

/// Ok gets that found a value, and ok gets that found nothing.
fn gets(sim: &Sim<Chord>) -> (usize, usize) {
    let mut found = (0, 0);
    for op in sim.history().logged() {
        if let (ClientOp::Read { .. }, Status::Ok) = (op.op, op.status) {
            match op.value {
                Value::Nil => found.1 += 1,
                _ => found.0 += 1,
            }
        }
    }
    found
}

#[test]
fn gets_find_what_puts_stored_on_a_quiet_ring() {
    let mut sim = build(1, Params::default(), None, lossy(0.0, 0.0), Vec::new());
    let report = run(&mut sim);
    assert!(report.is_none(), "{report:?}");
    let (found, _) = gets(&sim);
    assert!(found > 200, "found {found}");
    // Without faults, a get fails only while the ring forms.
    let counts = sim.history().counts();
    assert!(counts.fail * 10 < counts.ok, "{counts:?}");
}

#[test]
fn gets_find_keys_through_crashes_and_restarts() {
    let faults = vec![
        at_ms(1_000, Fault::Crash(n(3))),
        at_ms(1_600, Fault::Restart(n(3))),
        at_ms(2_500, Fault::Crash(n(5))),
        at_ms(3_000, Fault::Crash(n(1))),
        at_ms(3_400, Fault::Restart(n(1))),
    ];
    for seed in 0..6 {
        let sim = lossy_run(seed, faults.clone());
        let (found, _) = gets(&sim);
        assert!(found > 30, "seed {seed}: found {found}");
    }
}

#[test]
fn no_handover_is_caught() {
    let faults = vec![
        at_ms(1_000, Fault::Crash(n(3))),
        at_ms(1_600, Fault::Restart(n(3))),
    ];
    for seed in 0..4 {
        let bug = Some("no-handover");
        let mut sim = build(
            seed,
            Params::default(),
            bug,
            lossy(0.0, 0.0),
            faults.clone(),
        );
        let report = run(&mut sim).expect("the bug is caught");
        assert_eq!(report.property, "keys_found", "seed {seed}");
        assert!(
            report.message.contains("found nothing"),
            "{}",
            report.message
        );
    }
}

/// Ok gets that found nothing although a put of their key was acknowledged before they began.
fn gets_of_stored_keys_finding_nothing(sim: &Sim<Chord>) -> usize {
    let log = sim.history();
    let times = log.times();
    let ops: Vec<_> = log.logged().collect();
    let acked = |key: u32, before: SimTime| {
        ops.iter().enumerate().any(|(i, op)| {
            op.op
                == ClientOp::Write {
                    key,
                    value: op.op.to_words()[2] as i64,
                }
                && op.status == Status::Ok
                && times[i].complete.is_some_and(|t| t < before)
        })
    };
    ops.iter()
        .enumerate()
        .filter(|(i, op)| match (op.op, op.status, op.value) {
            (ClientOp::Read { key }, Status::Ok, Value::Nil) => acked(key, times[*i].invoke),
            _ => false,
        })
        .count()
}

#[test]
fn a_key_lost_with_its_only_copy_is_not_held_against_the_ring() {
    // One copy per key: a node that crashes for good takes its keys with it.
    let params = Params {
        replicas: Some(1),
        ..Params::default()
    };
    let faults = vec![at_ms(2_000, Fault::Crash(n(4)))];
    let mut sim = build(2, params, None, lossy(0.0, 0.0), faults);
    let report = run(&mut sim);
    assert!(report.is_none(), "{report:?}");
    assert!(
        gets_of_stored_keys_finding_nothing(&sim) > 0,
        "the crash lost keys that later gets asked for"
    );
}

#[test]
fn three_copies_survive_a_node_that_crashes_for_good() {
    let faults = vec![at_ms(2_000, Fault::Crash(n(4)))];
    let mut sim = build(2, Params::default(), None, lossy(0.0, 0.0), faults);
    let report = run(&mut sim);
    assert!(report.is_none(), "{report:?}");
    assert_eq!(gets_of_stored_keys_finding_nothing(&sim), 0);
}

#[test]
fn a_split_ring_or_a_lost_key_excuses_a_get_that_overlaps_it() {
    let s = SimTime::from_millis;
    let monitor = found::KeysFound::for_test(vec![(s(1_000), Some(s(3_000)))], vec![(7, s(5_000))]);
    assert!(monitor.excused(1, s(500), s(1_500)));
    assert!(monitor.excused(1, s(2_000), s(2_500)));
    assert!(monitor.excused(1, s(2_900), s(3_100)));
    assert!(!monitor.excused(1, s(3_100), s(4_000)));
    assert!(!monitor.excused(1, s(0), s(900)));
    assert!(monitor.excused(7, s(4_000), s(6_000)));
    assert!(!monitor.excused(7, s(5_100), s(6_000)));
    let open = found::KeysFound::for_test(vec![(s(1_000), None)], Vec::new());
    assert!(open.excused(1, s(8_000), s(9_000)));
}

#[test]
fn a_run_with_clients_is_deterministic() {
    let faults = vec![
        at_ms(600, Fault::Crash(n(2))),
        at_ms(1_200, Fault::Restart(n(2))),
    ];
    let hash = |seed| {
        let sim = lossy_run(seed, faults.clone());
        (sim.trace_hash(), sim.history().len())
    };
    assert_eq!(hash(4), hash(4));
    assert_ne!(hash(4).0, hash(5).0);
}

#[test]
fn replicas_must_fit_on_the_successor_list() {
    let params = Params {
        replicas: Some(4),
        ..Params::default()
    };
    let e = Chord::check_params(&params, 8).unwrap_err();
    assert!(
        e.contains("`replicas` is 4") && e.contains("holds 3"),
        "{e}"
    );
    for bad in [0, 17] {
        let params = Params {
            replicas: Some(bad),
            successors: 16,
            ..Params::default()
        };
        assert!(Chord::check_params(&params, 8).is_err(), "replicas {bad}");
    }
    let params = Params {
        replicate_interval: SimDuration::ZERO,
        ..Params::default()
    };
    assert!(Chord::check_params(&params, 8).is_err());
}
