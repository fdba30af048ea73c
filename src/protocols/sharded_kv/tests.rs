//! Tests of sharded-kv: locks, recovery from storage, what the clients' history says against
//! what the shards hold, each bug caught, bad params rejected, and determinism.

use super::shard::{Lock, Prepared};
use super::*;
use crate::check::{ViolationReport, check_history_at, run_checked};
use crate::engine::{Sim, SimBuilder};
use crate::faults::{Fault, TimedFault};
use crate::history::{Status, Value};
use crate::net::{Latency, NetworkConfig};
use crate::storage::Storage;
use crate::time::SimTime;
use crate::workload::{Func, WorkloadConfig};
use std::collections::BTreeMap;

const NODES: u32 = 3;

fn workload(model: Model) -> WorkloadConfig {
    let write = if model == Model::ListAppend {
        Func::Append
    } else {
        Func::Write
    };
    WorkloadConfig {
        clients: 6,
        rate_per_s: 300.0,
        keys: 9,
        mix: vec![(Func::Read, 1.0), (write, 1.0)],
        timeout: SimDuration::from_millis(500),
        until: SimTime::from_secs(3),
        ..WorkloadConfig::new(model)
    }
}

fn build(
    seed: u64,
    model: Model,
    bug: Option<&'static str>,
    faults: Vec<TimedFault>,
) -> Sim<ShardedKv> {
    build_lossy(seed, model, bug, faults, 0.0)
}

fn build_lossy(
    seed: u64,
    model: Model,
    bug: Option<&'static str>,
    faults: Vec<TimedFault>,
    drop: f64,
) -> Sim<ShardedKv> {
    let params = Params::default();
    let mut network = NetworkConfig::default();
    network.default.drop = drop;
    network.default.latency =
        Latency::Uniform(SimDuration::from_millis(1), SimDuration::from_millis(10));
    SimBuilder::new(seed)
        .nodes(u64::from(NODES))
        .network(network)
        .faults(faults)
        .workload(workload(model))
        .build(move |id| ShardedKv::new(id, NODES, &params, bug))
        .expect("valid setup")
}

fn run(sim: &mut Sim<ShardedKv>, end: SimTime) -> Option<ViolationReport> {
    run_checked(sim, end, &ShardedKv::properties())
        .expect("within limits")
        .into_iter()
        .next()
}

fn at(ms: u64, fault: Fault) -> TimedFault {
    TimedFault {
        at: SimTime::from_millis(ms),
        fault,
    }
}

fn id(client: u32, seq: u32) -> RequestId {
    RequestId { client, seq }
}

/// The appended values of each list-append transaction, with how it ended.
fn appends(sim: &Sim<ShardedKv>) -> Vec<(Status, Vec<(i64, i64)>)> {
    let mut all = Vec::new();
    for op in sim.history().ops() {
        let Value::List(micro) = &op.input else {
            continue;
        };
        let mut written = Vec::new();
        for m in micro {
            if let Value::List(parts) = m
                && let [Value::Str(f), Value::Int(k), Value::Int(v)] = parts.as_slice()
                && f == "append"
            {
                written.push((*k, *v));
            }
        }
        all.push((op.status, written));
    }
    all
}

/// Every value in the shards' data, by key.
fn data(sim: &Sim<ShardedKv>) -> BTreeMap<i64, Vec<i64>> {
    let mut all = BTreeMap::new();
    for (_, view) in sim.nodes() {
        let state = view.state().expect("every node is up at the end");
        for (&k, list) in &state.shard.data {
            all.insert(i64::from(k), list.clone());
        }
    }
    all
}

/// What the clients were told agrees with what the shards hold at the end: every append of an
/// ok transaction is there, none of a failed one is, and the others' are all there or none.
fn assert_history_matches_data(sim: &Sim<ShardedKv>) {
    let data = data(sim);
    let held = |(k, v): &(i64, i64)| data.get(k).is_some_and(|l| l.contains(v));
    let (mut ok, mut failed) = (0, 0);
    for (status, written) in appends(sim) {
        let present = written.iter().filter(|w| held(w)).count();
        match status {
            Status::Ok => {
                assert_eq!(
                    present,
                    written.len(),
                    "an ok transaction's appends all stay"
                );
                ok += 1;
            }
            Status::Fail => {
                assert_eq!(present, 0, "a failed transaction's appends never show");
                failed += 1;
            }
            Status::Info => assert!(present == 0 || present == written.len(), "all or none"),
        }
    }
    assert!(ok > 100 && failed > 0, "{ok} ok, {failed} failed");
}

#[test]
fn a_healthy_run_commits_atomically_and_the_data_matches_the_history() {
    let mut sim = build(1, Model::ListAppend, None, Vec::new());
    assert_eq!(run(&mut sim, SimTime::from_secs(4)), None);
    assert_history_matches_data(&sim);
    for (_, view) in sim.nodes() {
        let state = view.state().unwrap();
        assert!(
            state.shard.prepared.is_empty(),
            "every transaction was decided"
        );
        assert!(state.shard.locks.is_empty(), "and every lock released");
    }
}

#[test]
fn crashed_shards_and_coordinators_recover_and_decide_everything() {
    let faults = vec![
        at(700, Fault::Crash(NodeId(1))),
        at(1000, Fault::Restart(NodeId(1))),
        at(1500, Fault::Crash(NodeId(0))),
        at(1900, Fault::Restart(NodeId(0))),
        at(2300, Fault::Crash(NodeId(2))),
        at(2350, Fault::Restart(NodeId(2))),
    ];
    let mut sim = build(2, Model::ListAppend, None, faults);
    assert_eq!(run(&mut sim, SimTime::from_secs(5)), None);
    assert_history_matches_data(&sim);
    assert!(
        sim.history().counts().info > 0,
        "crashed coordinators leave clients unsure"
    );
    for (_, view) in sim.nodes() {
        assert!(view.state().unwrap().shard.prepared.is_empty());
    }
}

#[test]
fn rw_register_transactions_overwrite_and_read_single_values() {
    let mut sim = build(3, Model::RwRegister, None, Vec::new());
    assert_eq!(run(&mut sim, SimTime::from_secs(4)), None);
    for (_, view) in sim.nodes() {
        assert!(
            view.state()
                .unwrap()
                .shard
                .data
                .values()
                .all(|v| v.len() == 1)
        );
    }
    let ok_reads = sim
        .history()
        .ops()
        .into_iter()
        .filter(|o| o.status == Status::Ok);
    let mut read_values = 0;
    for op in ok_reads {
        let Value::List(micro) = &op.output else {
            panic!()
        };
        for m in micro {
            let Value::List(parts) = m else { panic!() };
            if parts[0] == Value::Str("r".into()) {
                assert!(matches!(parts[2], Value::Nil | Value::Int(_)), "{m}");
                read_values += u32::from(parts[2] != Value::Nil);
            }
        }
    }
    assert!(read_values > 50, "{read_values}");
}

#[test]
fn no_wait_locks_refuse_conflicts_at_once() {
    let mut shard = Shard::default();
    shard.locks.insert(
        1,
        Lock {
            readers: vec![id(0, 0)],
            writer: None,
        },
    );
    shard.locks.insert(
        2,
        Lock {
            readers: Vec::new(),
            writer: Some(id(0, 0)),
        },
    );
    let other = id(1, 0);
    assert!(shard.can_lock(other, &[1], &[], false), "readers share");
    assert!(
        !shard.can_lock(other, &[], &[1], false),
        "a reader blocks a writer"
    );
    assert!(
        !shard.can_lock(other, &[2], &[], false),
        "a writer blocks a reader"
    );
    assert!(
        shard.can_lock(other, &[2], &[], true),
        "unless the read is dirty"
    );
    assert!(
        !shard.can_lock(other, &[], &[2], true),
        "writers still exclude each other"
    );
    assert!(
        shard.can_lock(id(0, 0), &[], &[1, 2], false),
        "its own locks never block"
    );
}

#[test]
fn a_prepared_transaction_is_recovered_with_its_locks() {
    let mut txn = Txn::new(true, 40);
    txn.push_read(0).unwrap();
    txn.push_write(3).unwrap();
    txn.push_write(1).unwrap();
    let mut storage = Storage::default();
    let prepared = Prepared {
        coordinator: NodeId(2),
        txn,
    };
    storage.put("prep/4.7", super::shard::encode_prepared(&prepared));
    storage.put("data/3", 5i64.to_le_bytes().to_vec());
    storage.put("done/4.6", vec![1]);
    let mut shard = Shard::default();
    shard.recover(&storage, NodeId(0), NODES, None);
    // Keys 0 and 3 live on n1 (key mod 3 = 0); key 1 does not.
    assert_eq!(
        shard.prepared.get(&id(4, 7)).map(|p| p.coordinator),
        Some(NodeId(2))
    );
    assert_eq!(shard.locks[&0].readers, vec![id(4, 7)]);
    assert_eq!(shard.locks[&3].writer, Some(id(4, 7)));
    assert!(!shard.locks.contains_key(&1));
    assert_eq!(shard.data[&3], vec![5]);
    assert_eq!(shard.decided.get(&id(4, 6)), Some(&true));
    let mut unlocked = Shard::default();
    unlocked.recover(&storage, NodeId(0), NODES, Some(Bug::EarlyReadUnlock));
    assert!(
        !unlocked.locks.contains_key(&0),
        "the bug holds no read lock"
    );
}

/// The first seed below 40 whose run violates a property, and the violation.
fn first_violation(bug: &'static str) -> Option<(u64, ViolationReport)> {
    (0..40).find_map(|seed| {
        // Loss makes coordinators abort on vote timeouts, after a non-atomic part committed.
        let mut sim = build_lossy(seed, Model::ListAppend, Some(bug), Vec::new(), 0.05);
        run(&mut sim, SimTime::from_secs(3)).map(|v| (seed, v))
    })
}

#[test]
fn each_bug_breaks_an_invariant() {
    for (bug, invariant) in [
        ("early-read-unlock", "conflict_free"),
        ("dirty-read", "conflict_free"),
        ("non-atomic-commit", "atomic_commit"),
        ("lost-update", "conflict_free"),
    ] {
        let (seed, violation) =
            first_violation(bug).unwrap_or_else(|| panic!("{bug} never caught"));
        assert_eq!(violation.property, invariant, "{bug} (seed {seed})");
    }
}

/// The anomalies the history of a run of `bug` shows at strict serializability, on the first
/// of ten seeds whose history shows any.
fn anomalies(bug: &'static str) -> Option<String> {
    (0..10).find_map(|seed| {
        let mut sim = build_lossy(seed, Model::ListAppend, Some(bug), Vec::new(), 0.05);
        sim.run_until(SimTime::from_secs(3)).expect("within limits");
        let level = ShardedKv::ISOLATION;
        let check = check_history_at(
            Model::ListAppend,
            level,
            sim.history(),
            sim.node_names(),
            sim.now(),
        );
        (check.status == "violated").then(|| check.explanation.join("\n"))
    })
}

#[test]
fn each_bug_shows_isolation_anomalies_in_the_clients_history() {
    for doc in BUG_DOCS {
        assert_eq!(doc.violates, "isolation");
        let found = anomalies(doc.name).unwrap_or_else(|| panic!("{}: no anomaly", doc.name));
        assert!(found.starts_with("strict-serializable violated"), "{found}");
        let wanted: &[&str] = match doc.name {
            "early-read-unlock" => &["G-single", "G2-item"],
            "dirty-read" => &["G1a", "incompatible-order"],
            "lost-update" => &["lost-update", "G2-item"],
            _ => &["G1a", "G-single", "G1c"],
        };
        assert!(
            wanted.iter().any(|w| found.contains(&format!("× {w}:"))),
            "{}: {found}",
            doc.name
        );
    }
    let mut sim = build_lossy(0, Model::ListAppend, None, Vec::new(), 0.05);
    sim.run_until(SimTime::from_secs(3)).expect("within limits");
    let level = Some(Isolation::StrictSerializable);
    let check = check_history_at(
        Model::ListAppend,
        level,
        sim.history(),
        sim.node_names(),
        sim.now(),
    );
    assert_eq!(check.status, "pass", "{:?}", check.explanation);
}

#[test]
fn bad_params_are_refused() {
    let zero = Params {
        vote_timeout: SimDuration::ZERO,
        ..Params::default()
    };
    assert!(
        ShardedKv::check_params(&zero, 3)
            .unwrap_err()
            .contains("vote_timeout")
    );
    let long = Params {
        retry_interval: SimDuration::from_secs(7200),
        ..Params::default()
    };
    assert!(
        ShardedKv::check_params(&long, 3)
            .unwrap_err()
            .contains("retry_interval")
    );
    assert!(ShardedKv::check_params(&Params::default(), 1).is_ok());
}

#[test]
fn same_seed_same_run() {
    let faults = || {
        vec![
            at(800, Fault::Crash(NodeId(1))),
            at(1200, Fault::Restart(NodeId(1))),
        ]
    };
    let mut a = build(9, Model::RwRegister, None, faults());
    let mut b = build(9, Model::RwRegister, None, faults());
    run(&mut a, SimTime::from_secs(2));
    run(&mut b, SimTime::from_secs(2));
    assert_eq!(a.trace_hash(), b.trace_hash());
    assert_eq!(a.history().ops(), b.history().ops());
}
