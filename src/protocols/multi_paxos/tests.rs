//! Tests of multi-paxos: storage encoding and recovery, a restarted node keeping its log and
//! promise, recovery of accepted values by a new leader, every bug caught, determinism.

use super::*;
use crate::check::{ViolationReport, run_checked};
use crate::engine::{Sim, SimBuilder};
use crate::faults::{Fault, TimedFault};
use crate::net::NetworkConfig;
use crate::protocols::echo::tests::{at_ms, lossy};
use crate::scenario::builtin::load;
use crate::scenario::{RunOptions, run as run_scenario};
use crate::storage::Storage;
use crate::workload::WorkloadConfig;
use std::path::Path;

fn n(number: u32) -> NodeId {
    NodeId(number - 1)
}

fn workload() -> WorkloadConfig {
    WorkloadConfig {
        clients: 4,
        rate_per_s: 200.0,
        keys: 3,
        timeout: SimDuration::from_millis(400),
        until: SimTime::from_millis(2_500),
        ..WorkloadConfig::new(Model::Kv)
    }
}

struct Run {
    sim: Sim<MultiPaxos>,
    violation: Option<ViolationReport>,
}

fn run(
    seed: u64,
    bug: Option<&'static str>,
    network: NetworkConfig,
    faults: Vec<TimedFault>,
) -> Run {
    let mut sim = SimBuilder::new(seed)
        .nodes(5)
        .network(network)
        .faults(faults)
        .workload(workload())
        .build(move |id| MultiPaxos::new(id, 5, &Params::default(), bug))
        .expect("valid setup");
    let props = MultiPaxos::properties();
    let violations = run_checked(&mut sim, SimTime::from_secs(3), &props).expect("within limits");
    Run {
        sim,
        violation: violations.into_iter().next(),
    }
}

#[test]
fn entries_survive_encoding_and_bad_bytes_decode_to_nothing() {
    let b = Ballot {
        round: 7,
        node: n(3),
    };
    let commands = [
        Command::Noop,
        Command::Op {
            id: RequestId { client: 2, seq: 9 },
            op: ClientOp::Cas {
                key: 1,
                from: -4,
                to: 5,
            },
        },
        Command::Op {
            id: RequestId { client: 0, seq: 1 },
            op: ClientOp::Append { key: 3, value: 8 },
        },
    ];
    for c in &commands {
        let bytes = durable::encode_entry(b, c);
        assert_eq!(durable::decode_entry(&bytes), Some((b, c.clone())));
        for len in 0..bytes.len() {
            assert_eq!(
                durable::decode_entry(&bytes[..len]),
                None,
                "{c} cut at {len}"
            );
        }
    }
    assert_eq!(durable::decode_ballot(&[1, 2, 3]), None);
}

#[test]
fn recovery_reads_promise_accepted_slots_and_the_chosen_prefix() {
    let b = Ballot {
        round: 2,
        node: n(1),
    };
    let mut storage = Storage::default();
    let mut promised = Vec::new();
    durable::encode_ballot(&mut promised, b);
    storage.put(durable::PROMISED_KEY, promised);
    storage.put(
        &durable::accepted_key(3),
        durable::encode_entry(b, &Command::Noop),
    );
    storage.put(
        &durable::accepted_key(17),
        durable::encode_entry(b, &Command::Noop),
    );
    storage.put(&durable::accepted_key(5), vec![9, 9]);
    storage.put(
        &durable::chosen_key(1),
        durable::encode_entry(b, &Command::Noop),
    );
    storage.put(
        &durable::chosen_key(2),
        durable::encode_entry(b, &Command::Noop),
    );
    storage.put(
        &durable::chosen_key(4),
        durable::encode_entry(b, &Command::Noop),
    );
    storage.sync();
    let found = durable::recover(&storage);
    assert_eq!(found.promised, b);
    assert_eq!(found.accepted.keys().copied().collect::<Vec<_>>(), [3, 17]);
    // Slot 3 is missing, so only 1 and 2 are a prefix.
    assert_eq!(found.chosen.len(), 2);
}

#[test]
fn a_healthy_cluster_serves_clients_and_every_node_applies_the_same_log() {
    let r = run(3, None, lossy(0.0, 0.0), Vec::new());
    assert!(r.violation.is_none(), "{:?}", r.violation);
    assert!(r.sim.history().counts().ok > 200);
    let leaders: Vec<&MultiPaxos> = (1..=5)
        .filter_map(|i| r.sim.node(n(i)).state())
        .filter(|x| x.role() == Role::Leader)
        .collect();
    assert_eq!(leaders.len(), 1);
    for i in 1..=5 {
        let node = r.sim.node(n(i)).state().expect("up");
        assert_eq!(node.applied(), leaders[0].applied(), "n{i}");
        assert_eq!(node.kv(), leaders[0].kv(), "n{i}");
    }
}

#[test]
fn a_restarted_node_recovers_its_promise_and_log_and_catches_up() {
    let faults = vec![
        at_ms(800, Fault::Crash(n(2))),
        at_ms(1_000, Fault::Restart(n(2))),
        at_ms(1_200, Fault::Crash(n(4))),
        at_ms(1_500, Fault::Restart(n(4))),
    ];
    let r = run(5, None, lossy(0.05, 0.02), faults);
    assert!(r.violation.is_none(), "{:?}", r.violation);
    let leader = (1..=5)
        .filter_map(|i| r.sim.node(n(i)).state())
        .find(|x| x.role() == Role::Leader)
        .expect("a leader");
    for i in [2, 4] {
        let node = r.sim.node(n(i)).state().expect("restarted");
        assert!(node.promised().round >= 1, "n{i} kept no promise");
        assert_eq!(node.kv(), leader.kv(), "n{i} caught up");
        // Storage holds what memory holds: the synced promise equals the one in memory.
        let synced = r.sim.storage(n(i)).get_synced(durable::PROMISED_KEY);
        assert_eq!(
            synced.and_then(durable::decode_ballot),
            Some(node.promised())
        );
    }
}

fn scenario_run(file: &str, bug: Option<&'static str>) -> crate::scenario::RunReport {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(file);
    let mut s = load(&path).expect("loads");
    s.bug = bug;
    if bug.is_none() {
        s.expect = crate::scenario::ExpectSpec::Pass;
    }
    run_scenario(&s, RunOptions::default()).expect("runs")
}

#[test]
fn a_new_leader_carries_forward_the_value_its_phase_1_reports() {
    // The skip-recovery scenario without its bug: n1 re-proposes "write 1" in slot 4.
    let report = scenario_run("multi-paxos-skip-recovery-bug.yaml", None);
    assert!(report.violations.is_empty(), "{:?}", report.violations);
}

#[test]
fn skip_recovery_chooses_two_values_in_one_slot() {
    let report = scenario_run("multi-paxos-skip-recovery-bug.yaml", Some("skip-recovery"));
    let v = &report.violations[0];
    assert_eq!(v.property, "agreement");
    assert!(
        v.message
            .starts_with("slot 4 has two chosen values: n5 learned write 1"),
        "{}",
        v.message
    );
}

#[test]
fn unsynced_promise_loses_the_promise_in_a_crash() {
    let file = "multi-paxos-unsynced-promise-bug.yaml";
    let report = scenario_run(file, Some("unsynced-promise"));
    let v = &report.violations[0];
    assert_eq!(v.property, "promise_kept");
    assert!(
        v.message.contains("n1 told n5 it promised ballot (1, n5)"),
        "{}",
        v.message
    );
    assert!(scenario_run(file, None).violations.is_empty());
}

#[test]
fn minority_quorum_lets_a_cut_off_leader_choose_alone() {
    let file = "multi-paxos-minority-quorum-bug.yaml";
    let report = scenario_run(file, Some("minority-quorum"));
    let v = &report.violations[0];
    assert_eq!(v.property, "agreement");
    assert!(
        v.message.starts_with(
            "slot 7 has two chosen values: n4 learned write 4 to key 0 (client c0, seq 11)"
        ),
        "{}",
        v.message
    );
    assert!(scenario_run(file, None).violations.is_empty());
}

#[test]
fn one_short_promises_lets_a_leader_miss_a_chosen_slot() {
    let file = "multi-paxos-one-short-promises-bug.yaml";
    let report = scenario_run(file, Some("one-short-promises"));
    let v = &report.violations[0];
    assert_eq!(v.property, "agreement");
    assert!(
        v.message.starts_with(
            "slot 1 has two chosen values: n2 learned write 0 to key 0 (client c0, seq 4), \
             chosen at ballot (1, n3); n5 learned read key 0 (client c0, seq 5), chosen at \
             ballot (1, n5)"
        ),
        "{}",
        v.message
    );
    let again = scenario_run(file, Some("one-short-promises"));
    assert_eq!(report.trace_hash, again.trace_hash);
    // A majority of promises always includes a node that accepted the chosen write.
    assert!(scenario_run(file, None).violations.is_empty());
}

#[test]
fn same_seed_same_trace() {
    let faults = || {
        vec![
            at_ms(700, Fault::Crash(n(1))),
            at_ms(900, Fault::Restart(n(1))),
        ]
    };
    let a = run(11, None, lossy(0.05, 0.05), faults());
    let b = run(11, None, lossy(0.05, 0.05), faults());
    let c = run(12, None, lossy(0.05, 0.05), faults());
    assert_eq!(a.sim.trace_hash(), b.sim.trace_hash());
    assert_ne!(a.sim.trace_hash(), c.sim.trace_hash());
}
