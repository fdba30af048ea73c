//! The Raft properties about the past, as monitors: who led each term, and what was applied
//! at each index, remembered by the checker rather than by the nodes, so that no crash
//! erases them and the nodes carry nothing only for the checks.

use super::{Raft, Role};
use crate::check::{Monitor, Violation};
use crate::engine::{Sim, Touched};
use crate::process::NodeId;
use std::collections::BTreeMap;

/// Election safety: every term's leader as first seen, for the whole run.
#[derive(Default)]
pub(super) struct LeadersByTerm {
    leader_of: BTreeMap<u64, NodeId>,
    /// Per node, the term it was last seen leading (0: none): a leader's events, most of the
    /// run's, cost one comparison.
    seen: Vec<u64>,
}

impl Monitor<Raft> for LeadersByTerm {
    fn observe(&mut self, sim: &Sim<Raft>, touched: Touched) -> Result<(), Violation> {
        let count = sim.node_count();
        if self.seen.len() != count as usize {
            self.seen = vec![0; count as usize];
        }
        for id in touched.nodes(count) {
            let Some(node) = sim.states()[id.index()].as_ref() else {
                continue;
            };
            if node.role != Role::Leader || self.seen[id.index()] == node.term {
                continue;
            }
            self.seen[id.index()] = node.term;
            let first = *self.leader_of.entry(node.term).or_insert(id);
            if first != id {
                return Err(both_elected(sim, node, first));
            }
        }
        Ok(())
    }
}

/// Violations are rare: building one is kept out of the monitor's loop.
#[cold]
#[inline(never)]
fn both_elected(sim: &Sim<Raft>, node: &Raft, first: NodeId) -> Violation {
    let term = node.term;
    let first_now = match sim.states()[first.index()].as_ref() {
        Some(n) if n.role == Role::Leader && n.term == term => "still leads it",
        Some(_) => "has since moved on",
        None => "has since crashed",
    };
    let (a, b) = (sim.node_name(node.id), sim.node_name(first));
    Violation::new(
        format!(
            "{a} and {b} were both elected leader of term {term} ({a} still leads it, \
             {b} {first_now})"
        ),
        vec![node.id, first],
    )
}

/// State machine safety: the chain hash of the entry first applied at each index, by any
/// node, for the whole run; every node that applies an index later must apply the same.
#[derive(Default)]
pub(super) struct AppliedOnce {
    /// `chain[i]`: the chain hash of the entry first applied at index `i + 1`, and by whom.
    chain: Vec<(u64, NodeId)>,
    /// Per node, up to which index its applied entries were compared (reset when it is seen
    /// down: a restarted node applies its log again from the first entry).
    seen: Vec<u64>,
}

impl Monitor<Raft> for AppliedOnce {
    fn observe(&mut self, sim: &Sim<Raft>, touched: Touched) -> Result<(), Violation> {
        let count = sim.node_count();
        if self.seen.len() != count as usize {
            self.seen = vec![0; count as usize];
        }
        for id in touched.nodes(count) {
            let seen = &mut self.seen[id.index()];
            match sim.states()[id.index()].as_ref() {
                None => *seen = 0,
                Some(node) if node.applied > *seen => {
                    let from = std::mem::replace(seen, node.applied);
                    self.compare(sim, node, from + 1)?;
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

impl AppliedOnce {
    /// Compares what `node` applied from index `from` on with what was applied first there.
    fn compare(&mut self, sim: &Sim<Raft>, node: &Raft, from: u64) -> Result<(), Violation> {
        for index in from..=node.applied {
            // Applied from the log in this very event, so still in it (a truncation comes
            // before the appends that lead to applying).
            let Some(entry) = node.log.get(index as usize - 1) else {
                continue;
            };
            let i = index as usize - 1;
            match self.chain.get(i) {
                None if self.chain.len() == i => self.chain.push((entry.chain, node.id)),
                // Only after an entry was missing above: nothing to compare with.
                None => break,
                Some(&(chain, _)) if chain == entry.chain => {}
                Some(&(_, first)) => return Err(applied_differ(sim, first, node.id, index)),
            }
        }
        Ok(())
    }
}

#[cold]
#[inline(never)]
fn applied_differ(sim: &Sim<Raft>, first: NodeId, node: NodeId, index: u64) -> Violation {
    Violation::new(
        format!(
            "{} and {} have applied different commands at index {index}",
            sim.node_name(first),
            sim.node_name(node),
        ),
        vec![first, node],
    )
}
