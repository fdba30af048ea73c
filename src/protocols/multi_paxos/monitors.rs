//! The multi-paxos properties about the past, as monitors: what was first learned chosen,
//! and first applied, in each slot, remembered by the checker for the whole run rather than
//! by the nodes, so that no crash erases them and the nodes carry nothing only for the
//! checks.

use super::checks::ballot;
use super::{Ballot, Command, MultiPaxos};
use crate::check::{Monitor, PropertyDigest, Violation};
use crate::engine::{Sim, Touched};
use crate::process::NodeId;
use crate::trace::stable_hash;

/// The monitors' digests: a monitor is called after a handler only when the digest of the
/// node that ran it changed (faults reach it always). Each covers what its monitor reads of a
/// node whenever it is called; the slots below what the monitor saw applied the last time it
/// looked were compared then, and are not read again.
pub(super) const DIGESTS: &[PropertyDigest<MultiPaxos>] = &[
    PropertyDigest {
        property: "agreement",
        digest: chosen_digest,
        check_node: None,
    },
    PropertyDigest {
        property: "state_machine_safety",
        digest: |n| n.applied,
        check_node: None,
    },
];

/// What [`ChosenOnce`] reads of a node: how far it applied, and what it knows chosen past
/// that (slots learned out of order, a handful at most).
fn chosen_digest(node: &MultiPaxos) -> u64 {
    let unapplied = node.log.get(node.applied as usize..).unwrap_or_default();
    stable_hash(&(node.applied, unapplied))
}

/// Per node, the applied prefix when last observed (0 once seen down: a restarted node
/// learns and applies its log again). Slots up to it were compared already, and keep their
/// value until the node crashes.
fn seen_row(seen: &mut Vec<u64>, sim: &Sim<MultiPaxos>) {
    let count = sim.node_count() as usize;
    if seen.len() != count {
        *seen = vec![0; count];
    }
}

/// Agreement: the first value any node learned as chosen in each slot, at which ballot, and
/// by whom; every node that learns the slot later must learn the same value.
#[derive(Default)]
pub(super) struct ChosenOnce {
    chosen: Vec<Option<(Command, Ballot, NodeId)>>,
    seen: Vec<u64>,
}

impl Monitor<MultiPaxos> for ChosenOnce {
    fn observe(&mut self, sim: &Sim<MultiPaxos>, touched: Touched) -> Result<(), Violation> {
        seen_row(&mut self.seen, sim);
        for id in touched.nodes(sim.node_count()) {
            let Some(node) = sim.states()[id.index()].as_ref() else {
                self.seen[id.index()] = 0;
                continue;
            };
            // Slots above the applied prefix may be learned in any order: they are compared
            // on every event of the node until applied (a handful at most).
            let from = self.seen[id.index()].min(node.applied) as usize;
            self.seen[id.index()] = node.applied;
            self.compare(sim, node, from)?;
        }
        Ok(())
    }
}

impl ChosenOnce {
    /// Compares what `node` knows chosen from slot index `from` on with what was learned
    /// first there.
    fn compare(
        &mut self,
        sim: &Sim<MultiPaxos>,
        node: &MultiPaxos,
        from: usize,
    ) -> Result<(), Violation> {
        for (i, known) in node.log.iter().enumerate().skip(from) {
            let Some((at, value)) = known else {
                continue;
            };
            if self.chosen.len() <= i {
                self.chosen.resize(i + 1, None);
            }
            match &self.chosen[i] {
                None => self.chosen[i] = Some((value.clone(), *at, node.id)),
                Some((first, _, _)) if first == value => {}
                Some(first) => return Err(two_chosen(sim, node, i as u64 + 1, first)),
            }
        }
        Ok(())
    }
}

/// Names a node up that holds another value in `slot` if there is one (its log shows it
/// now), else the node that learned the first value, as remembered.
#[cold]
#[inline(never)]
fn two_chosen(
    sim: &Sim<MultiPaxos>,
    node: &MultiPaxos,
    slot: u64,
    first: &(Command, Ballot, NodeId),
) -> Violation {
    let i = slot as usize - 1;
    let ours = node.log.get(i).cloned().flatten().map(|(_, c)| c);
    let live = sim.states().iter().flatten();
    let other = live
        .filter_map(|n| Some((n.id, n.log.get(i).cloned().flatten()?)))
        .find(|(_, (_, value))| Some(value) != ours.as_ref());
    let (other, (at, value)) = other.unwrap_or((first.2, (first.1, first.0.clone())));
    let learned = |id: NodeId, at: Ballot, value: &Command| {
        let (name, at) = (sim.node_name(id), ballot(sim, at));
        format!("{name} learned {value}, chosen at ballot {at}")
    };
    let (our_at, our_value) = node.log[i]
        .clone()
        .unwrap_or((Ballot::default(), Command::Noop));
    Violation::new(
        format!(
            "slot {slot} has two chosen values: {}; {}",
            learned(other, at, &value),
            learned(node.id, our_at, &our_value),
        ),
        vec![other, node.id],
    )
}

/// State machine safety: the command first applied in each slot, and by whom; every node
/// that applies the slot later must apply the same.
#[derive(Default)]
pub(super) struct AppliedOnce {
    applied: Vec<(Command, NodeId)>,
    seen: Vec<u64>,
}

impl Monitor<MultiPaxos> for AppliedOnce {
    fn observe(&mut self, sim: &Sim<MultiPaxos>, touched: Touched) -> Result<(), Violation> {
        seen_row(&mut self.seen, sim);
        for id in touched.nodes(sim.node_count()) {
            let seen = &mut self.seen[id.index()];
            let Some(node) = sim.states()[id.index()].as_ref() else {
                *seen = 0;
                continue;
            };
            if node.applied <= *seen {
                continue;
            }
            let from = std::mem::replace(seen, node.applied) as usize;
            for (i, known) in node
                .log
                .iter()
                .enumerate()
                .take(node.applied as usize)
                .skip(from)
            {
                // Applied slots are all known.
                let Some((_, value)) = known else { continue };
                match self.applied.get(i) {
                    None if self.applied.len() == i => self.applied.push((value.clone(), id)),
                    None => break,
                    Some((first, _)) if first == value => {}
                    Some(&(_, first)) => return Err(applied_differ(sim, first, id, i as u64 + 1)),
                }
            }
        }
        Ok(())
    }
}

#[cold]
#[inline(never)]
fn applied_differ(sim: &Sim<MultiPaxos>, first: NodeId, node: NodeId, slot: u64) -> Violation {
    Violation::new(
        format!(
            "{} and {} have applied different commands at slot {slot}",
            sim.node_name(first),
            sim.node_name(node),
        ),
        vec![first, node],
    )
}
