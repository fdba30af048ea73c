//! The Raft properties about the past, as monitors: who led each term, and what was applied
//! at each index, remembered by the checker rather than by the nodes, so that no crash
//! erases them and the nodes carry nothing only for the checks.

use super::{Entry, Raft, Role};
use crate::check::{Monitor, Violation};
use crate::engine::{Sim, Touched};
use crate::process::NodeId;
use std::collections::BTreeMap;

/// Election safety: every term's leader as first seen, for the whole run.
#[derive(Clone, Default, Hash)]
pub(super) struct LeadersByTerm {
    leader_of: BTreeMap<u64, NodeId>,
    /// Per node, the term it was last seen leading (0: none): a leader's events, most of the
    /// run's, cost one comparison.
    seen: Vec<u64>,
}

impl Monitor<Raft> for LeadersByTerm {
    fn fork(&self) -> Option<Box<dyn Monitor<Raft> + Send + Sync>> {
        Some(Box::new(self.clone()))
    }

    fn fingerprint(&self) -> u64 {
        crate::trace::content_hash(self)
    }

    /// Per node, the last term seen leading, and per term its leader: two leaders of one
    /// term fail in either order, and otherwise the order adds the same entries.
    fn commutes(&self) -> bool {
        true
    }

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

/// What [`LeadersByTerm`] reads of a node: whether it leads, and its term. Followers'
/// events, and a leader's after the first of its term, leave it unchanged, so the monitor
/// is not called for them.
pub(super) fn leading_digest(node: &Raft) -> u64 {
    node.term << 1 | u64::from(node.role == Role::Leader)
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
        match touched {
            // Called after a handler only when the node applied something (its digest).
            Touched::Node(id) => self.observe_node(sim, id),
            Touched::All => (0..count).try_for_each(|i| self.observe_node(sim, NodeId(i))),
            Touched::Nothing => Ok(()),
        }
    }
}

/// What [`AppliedOnce`] reads of a node: how far it applied, and the entries applied. The
/// chain hash of the last entry applied covers both (an entry's chain hash covers the log up
/// to it, its length too). Only events that apply something change it.
pub(super) fn applied_digest(node: &Raft) -> u64 {
    node.applied_last
}

impl AppliedOnce {
    #[inline(always)]
    fn observe_node(&mut self, sim: &Sim<Raft>, id: NodeId) -> Result<(), Violation> {
        let seen = &mut self.seen[id.index()];
        match sim.states()[id.index()].as_ref() {
            None => *seen = 0,
            Some(node) if node.applied > *seen => {
                let from = std::mem::replace(seen, node.applied);
                self.compare(sim, node, from + 1)?;
            }
            Some(_) => {}
        }
        Ok(())
    }

    /// Compares what `node` applied from index `from` on with what was applied first there.
    #[inline(always)]
    fn compare(&mut self, sim: &Sim<Raft>, node: &Raft, from: u64) -> Result<(), Violation> {
        // Applied from the log in this very event, so still in it (a truncation comes before
        // the appends that lead to applying).
        let start = from as usize - 1;
        let end = (node.applied as usize).min(node.log.len());
        let Some(applied) = node.log.get(start..end) else {
            return Ok(());
        };
        // Nothing to compare with past a gap (left by entries missing above).
        let Some(first) = self.chain.get(start..) else {
            return Ok(());
        };
        let known = first.len().min(applied.len());
        // An entry's chain hash covers the log up to it: where the last entry applied both
        // times agrees, so do all before it.
        if known > 0 && first[known - 1].0 != applied[known - 1].chain {
            return Err(first_difference(sim, node.id, first, applied, start));
        }
        let fresh = applied[known..].iter().map(|e| (e.chain, node.id));
        self.chain.extend(fresh);
        Ok(())
    }
}

/// The violation at the first index where what `node` applied (`applied`, from index
/// `start + 1` on) differs from what was applied first there (`first`).
#[cold]
#[inline(never)]
fn first_difference(
    sim: &Sim<Raft>,
    node: NodeId,
    first: &[(u64, NodeId)],
    applied: &[Entry],
    start: usize,
) -> Violation {
    let at = first
        .iter()
        .zip(applied)
        .position(|(f, e)| f.0 != e.chain)
        .unwrap_or(0);
    applied_differ(sim, first[at].1, node, (start + at + 1) as u64)
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
