//! Tests of raft: recovery from storage, commitment, each bug caught, determinism.

use super::*;
use crate::check::{CheckWhen, ViolationReport, run_checked};
use crate::engine::{NodeView, Sim, SimBuilder};
use crate::faults::{Fault, TimedFault};
use crate::net::NetworkConfig;
use crate::protocols::echo::tests::{at_ms, lossy};
use crate::scenario::builtin::load;
use crate::scenario::{RunOptions, run as run_scenario};
use crate::storage::Storage;
use crate::workload::{ClientOp, WorkloadConfig};
use std::path::Path;

fn n(name_index: u32) -> NodeId {
    NodeId(name_index - 1)
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
    sim: Sim<Raft>,
    violation: Option<ViolationReport>,
}

fn run(seed: u64, params: &Params, network: NetworkConfig, faults: Vec<TimedFault>) -> Run {
    let params = params.clone();
    let mut sim = SimBuilder::new(seed)
        .nodes(5)
        .network(network)
        .faults(faults)
        .workload(workload())
        .build(move |id| Raft::new(id, 5, &params, None))
        .expect("valid setup");
    let violations =
        run_checked(&mut sim, SimTime::from_secs(3), &Raft::properties()).expect("within limits");
    Run {
        sim,
        violation: violations.into_iter().next(),
    }
}

fn up(sim: &Sim<Raft>, id: NodeId) -> &Raft {
    match sim.node(id) {
        NodeView::Up(node) => node,
        other => panic!("{id} is not up: {other:?}"),
    }
}

#[test]
fn entries_survive_encoding_and_keys_are_distinct() {
    let ops = [
        ClientOp::Read { key: 3 },
        ClientOp::Write { key: 1, value: -7 },
        ClientOp::Cas {
            key: 2,
            from: 4,
            to: 5,
        },
        ClientOp::Append { key: 0, value: 9 },
        ClientOp::Add { value: 11 },
    ];
    let mut storage = Storage::default();
    storage.put(log::TERM_KEY, 6u64.to_le_bytes());
    storage.put(log::VOTE_KEY, 2u64.to_le_bytes());
    for (i, op) in ops.iter().enumerate() {
        storage.log_append(&log::encode_words(i as u64 + 1, op.to_words()));
    }
    storage.sync();
    let (term, vote, entries) = log::recover(&storage);
    assert_eq!((term, vote), (6, Some(2)));
    let recovered: Vec<ClientOp> = entries.iter().map(|e| e.op).collect();
    assert_eq!(recovered, ops);
    assert_eq!(entries[4].term, 5);
    // Chain hashes differ entry by entry and depend on the term.
    assert_ne!(entries[0].chain, entries[1].chain);
    assert_ne!(log::chain(0, 1, &ops[0]), log::chain(0, 2, &ops[0]));
}

#[test]
fn a_healthy_cluster_elects_one_leader_and_replicates_everything() {
    let r = run(3, &Params::default(), lossy(0.0, 0.0), Vec::new());
    assert!(r.violation.is_none(), "{:?}", r.violation);
    let leaders: Vec<NodeId> = (1..=5)
        .map(n)
        .filter(|&id| up(&r.sim, id).role() == Role::Leader)
        .collect();
    assert_eq!(leaders.len(), 1);
    let leader = up(&r.sim, leaders[0]);
    // Every operation got a definite answer, ok or fail, and 200 of the 280 were ok.
    let counts = r.sim.history().counts();
    assert_eq!((counts.info, counts.pending), (0, 0), "{counts:?}");
    assert!(counts.ok >= 200, "{counts:?}");
    for id in (1..=5).map(n) {
        let node = up(&r.sim, id);
        assert_eq!(node.term(), leader.term());
        assert_eq!(node.leader(), Some(leaders[0]));
        assert_eq!(node.log(), leader.log(), "{id}'s log");
    }
}

#[test]
fn a_leaders_send_caches_change_neither_its_debug_nor_its_hash() {
    use crate::linearizability::fxhash::FxHasher;
    use std::hash::{Hash, Hasher};
    let hash = |node: &Raft| {
        let mut h = FxHasher::default();
        node.hash(&mut h);
        h.finish()
    };
    let r = run(3, &Params::default(), lossy(0.0, 0.0), Vec::new());
    let leader = (1..=5)
        .map(|i| up(&r.sim, n(i)))
        .find(|node| node.role() == Role::Leader)
        .expect("a healthy cluster has a leader");
    assert!(leader.sent_to.iter().any(Option::is_some), "nothing cached");
    let mut bare = leader.clone();
    bare.sent = Default::default();
    bare.sent_to.iter_mut().for_each(|s| *s = None);
    assert_eq!(format!("{bare:?}"), format!("{leader:?}"));
    assert_eq!(hash(&bare), hash(leader));
    // What the protocol acts on does show.
    bare.commit -= 1;
    assert_ne!(format!("{bare:?}"), format!("{leader:?}"));
    assert_ne!(hash(&bare), hash(leader));
}

#[test]
fn storage_holds_what_memory_holds_so_a_crash_loses_nothing() {
    let faults = vec![
        at_ms(800, Fault::Crash(n(2))),
        at_ms(1_000, Fault::Restart(n(2))),
        at_ms(1_200, Fault::Crash(n(4))),
        at_ms(1_500, Fault::Restart(n(4))),
    ];
    let r = run(5, &Params::default(), lossy(0.05, 0.02), faults);
    assert!(r.violation.is_none(), "{:?}", r.violation);
    for id in (1..=5).map(n) {
        let node = up(&r.sim, id);
        let mut storage = r.sim.storage(id).clone();
        storage.crash();
        let (term, vote, entries) = log::recover(&storage);
        assert_eq!(term, node.term(), "{id}'s term");
        assert_eq!(vote.map(NodeId), node.voted_for, "{id}'s vote");
        assert_eq!(entries, node.log(), "{id}'s log");
    }
    // The restarted nodes re-applied the committed entries and caught up.
    let leader = (1..=5)
        .map(n)
        .find(|&id| up(&r.sim, id).role() == Role::Leader);
    let leader = up(&r.sim, leader.expect("a leader at the end"));
    for id in [n(2), n(4)] {
        assert!(up(&r.sim, id).commit_index() > 0);
        assert_eq!(up(&r.sim, id).log(), leader.log());
    }
}

#[test]
fn zero_reversed_and_huge_params_are_rejected() {
    let zero = Params {
        election_timeout: [SimDuration::ZERO, SimDuration::ZERO],
        ..Params::default()
    };
    let e = Raft::check_params(&zero, 5).expect_err("a zero timeout");
    assert_eq!(e, "`election_timeout` is 0ns; it must be at least 1ms");
    let ms = SimDuration::from_millis;
    let reversed = Params {
        election_timeout: [ms(300), ms(150)],
        ..Params::default()
    };
    let e = Raft::check_params(&reversed, 5).expect_err("a reversed range");
    assert_eq!(
        e,
        "`election_timeout's high end` is 150ms; it must be at least 300ms"
    );
    let huge = Params {
        max_entries: u32::MAX,
        ..Params::default()
    };
    assert!(Raft::check_params(&huge, 5).is_err());
    let slow_heartbeat = Params {
        heartbeat_interval: ms(150),
        ..Params::default()
    };
    let e = Raft::check_params(&slow_heartbeat, 5).expect_err("heartbeat not below timeout");
    assert!(
        e.contains("not below the shortest election timeout 150ms"),
        "{e}"
    );
    assert!(std::panic::catch_unwind(|| Raft::new(n(1), 5, &reversed, None)).is_err());
    // Running with one entry per append still converges on a lossy network.
    let slow = Params {
        max_entries: 1,
        ..Params::default()
    };
    let r = run(2, &slow, lossy(0.05, 0.0), Vec::new());
    assert!(r.violation.is_none(), "{:?}", r.violation);
}

#[test]
fn same_seed_same_trace_and_another_seed_another() {
    let faults = || {
        vec![
            at_ms(700, Fault::Crash(n(1))),
            at_ms(900, Fault::Restart(n(1))),
        ]
    };
    let a = run(11, &Params::default(), lossy(0.05, 0.05), faults());
    let b = run(11, &Params::default(), lossy(0.05, 0.05), faults());
    let c = run(12, &Params::default(), lossy(0.05, 0.05), faults());
    assert_eq!(a.sim.trace_hash(), b.sim.trace_hash());
    assert_ne!(a.sim.trace_hash(), c.sim.trace_hash());
}

fn scenario_outcome(file: &str) -> (bool, Vec<String>) {
    let scenario = load(Path::new(file)).expect("a valid scenario");
    let report = run_scenario(&scenario, RunOptions::default()).expect("runs");
    let messages = report.violations.iter().map(|v| v.headline()).collect();
    (report.expectation_met, messages)
}

#[test]
fn each_bug_is_caught_by_its_scenario() {
    for (file, needle) in [
        (
            "scenarios/raft-figure8-bug.yaml",
            "leader_completeness violated at 3.697551473s: n5 is leader of term 13",
        ),
        (
            "scenarios/raft-unsynced-vote-bug.yaml",
            "n4 and n2 were both elected leader of term 2",
        ),
        (
            "scenarios/raft-stale-read-bug.yaml",
            "linearizable violated",
        ),
    ] {
        let (met, messages) = scenario_outcome(file);
        assert!(met, "{file}: {messages:?}");
        assert!(
            messages.iter().any(|m| m.contains(needle)),
            "{file}: {messages:?}"
        );
    }
}

#[test]
fn the_bug_scenarios_pass_without_the_bug() {
    for file in [
        "scenarios/raft-figure8-bug.yaml",
        "scenarios/raft-unsynced-vote-bug.yaml",
        "scenarios/raft-stale-read-bug.yaml",
    ] {
        let mut scenario = load(Path::new(file)).expect("a valid scenario");
        scenario.bug = None;
        let report = run_scenario(&scenario, RunOptions::default()).expect("runs");
        let safety = report
            .violations
            .iter()
            .filter(|v| v.property != "leader_elected")
            .count();
        assert_eq!(safety, 0, "{file}: {:?}", report.violations);
    }
}

/// A digest whose name matches no invariant or monitor would silently leave it re-checked
/// (or called) after every event, and one each is what lets a log change skip the others.
#[test]
fn every_invariant_and_monitor_has_a_digest_under_its_own_name() {
    let invariants: Vec<&str> = Raft::properties()
        .iter()
        .filter(|p| p.when == CheckWhen::Always)
        .map(|p| p.name)
        .collect();
    let digested: Vec<&str> = Raft::CHECK_DIGESTS.iter().map(|d| d.property).collect();
    assert_eq!(digested, invariants);
}

#[test]
fn the_majority_index_is_the_majority_th_largest_match_in_any_cluster() {
    // Small clusters sort on the stack, large ones on the heap, and when just a majority is
    // past the commit index the lowest of theirs is taken: all give the majority-th largest.
    let cases: [&[u64]; 6] = [
        &[5, 3, 9, 3, 1],
        &[0, 0, 0],
        &[7, 7, 2, 2],
        &[4],
        &[1, 8, 8, 8, 0, 0, 3],
        &[6, 1, 9, 4, 4, 2, 0, 7, 3, 5, 8, 2, 6, 1, 0, 9, 3, 5, 7, 4],
    ];
    for matched in cases {
        let count = matched.len() as u32;
        let mut node = Raft::new(NodeId(0), count, &Params::default(), None);
        node.matched = matched.to_vec();
        let mut sorted = matched.to_vec();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        let want = sorted[(count / 2) as usize];
        for commit in 0..=10 {
            node.commit = commit;
            node.count_past_commit();
            if node.past_commit >= node.majority() {
                assert_eq!(node.majority_match(), want, "{matched:?} commit {commit}");
            }
        }
    }
}
