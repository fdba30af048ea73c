//! The properties of sharded-kv, with their messages in plain words.

use super::ShardedKv;
use super::shard::lock_sets;
use crate::check::{Monitor, Violation};
use crate::engine::{Sim, Touched};
use crate::process::NodeId;
use crate::trace::client_name;
use crate::workload::RequestId;
use std::collections::BTreeMap;

/// A transaction as a message names it: a node knows it by its client and that client's own
/// count (the trace's `seq`), not by its number in the history.
fn txn_name(id: RequestId) -> String {
    format!(
        "client {}'s transaction (seq {})",
        client_name(id.client),
        id.seq
    )
}

fn word(commit: bool) -> &'static str {
    if commit { "committed" } else { "aborted" }
}

/// Every outcome any node recorded, kept as first seen: a node that crashed forgets its
/// volatile outcomes, but what it did while it was up still counts.
#[derive(Default)]
pub(super) struct AtomicCommit {
    outcomes: BTreeMap<RequestId, (bool, NodeId)>,
    /// Per node, how many outcomes it held when last looked at: it is read again only when
    /// that changes (outcomes are only ever added, but a restart may shrink them).
    seen: Vec<usize>,
}

impl AtomicCommit {
    fn note(&mut self, id: RequestId, commit: bool, node: NodeId) -> Result<(), (bool, NodeId)> {
        match self.outcomes.get(&id) {
            Some(&(first, by)) if first != commit => Err((first, by)),
            Some(_) => Ok(()),
            None => {
                self.outcomes.insert(id, (commit, node));
                Ok(())
            }
        }
    }
}

impl Monitor<ShardedKv> for AtomicCommit {
    fn observe(&mut self, sim: &Sim<ShardedKv>, touched: Touched) -> Result<(), Violation> {
        self.seen.resize(sim.node_count() as usize, usize::MAX);
        for node in touched.nodes(sim.node_count()) {
            let Some(state) = sim.node(node).state() else {
                continue;
            };
            let count = state.shard.decided.len() + state.coordinator.committed.len();
            if self.seen[node.index()] == count {
                continue;
            }
            self.seen[node.index()] = count;
            let shard = state.shard.decided.iter().map(|(&id, &c)| (id, c));
            let coordinator = state.coordinator.committed.iter().map(|&id| (id, true));
            for (id, commit) in shard.chain(coordinator) {
                if let Err((first, by)) = self.note(id, commit, node) {
                    let message = format!(
                        "{} is {} on {} but {} on {}: a transaction must commit everywhere \
                         or nowhere",
                        txn_name(id),
                        word(first),
                        sim.node_name(by),
                        word(commit),
                        sim.node_name(node)
                    );
                    return Err(Violation::new(message, vec![by, node]));
                }
            }
        }
        Ok(())
    }
}

/// No shard holds two undecided transactions that conflict.
pub(super) fn check_conflict_free(sim: &Sim<ShardedKv>) -> Result<(), Violation> {
    let nodes = sim.node_count();
    for (me, view) in sim.nodes() {
        let Some(state) = view.state() else { continue };
        let prepared = &state.shard.prepared;
        if prepared.len() < 2 {
            continue;
        }
        let sets: Vec<(RequestId, Vec<u32>, Vec<u32>)> = prepared
            .iter()
            .map(|(&id, p)| {
                let (reads, writes) = lock_sets(&p.txn, me, nodes);
                (id, reads, writes)
            })
            .collect();
        for (a, _, a_writes) in &sets {
            for (b, b_reads, b_writes) in &sets {
                if a == b {
                    continue;
                }
                let Some(&key) = a_writes
                    .iter()
                    .find(|k| b_reads.contains(k) || b_writes.contains(k))
                else {
                    continue;
                };
                let what = if b_writes.contains(&key) {
                    "writes"
                } else {
                    "read"
                };
                let message = format!(
                    "{} holds {} and {} prepared together, undecided, and they conflict: the \
                     first writes key {key}, which the second {what}; strict two-phase locking \
                     lets no two such transactions hold their locks at once",
                    sim.node_name(me),
                    txn_name(*a),
                    txn_name(*b),
                );
                return Err(Violation::new(message, vec![me]));
            }
        }
    }
    Ok(())
}
