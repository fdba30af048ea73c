//! Which invariants an event may have broken, and how much of each to check again.
//!
//! An invariant that held, and whose view of every node is unchanged, still holds. One whose
//! view of a single node changed can only have broken where that node is involved: a protocol
//! that gives a node check ([`PropertyDigest::check_node`]) has just that part checked. Any
//! other change (several nodes, a fault, no digest) checks the whole invariant.

use super::{NodeCheck, Property, PropertyDigest, StateCheck, Violation};
use crate::engine::{Sim, Touched};
use crate::process::{NodeId, Process};

/// What changed, in what an invariant reads, since it last held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Changed {
    Nothing,
    Node(NodeId),
    Several,
}

impl Changed {
    fn and(self, id: NodeId) -> Changed {
        match self {
            Changed::Nothing => Changed::Node(id),
            Changed::Node(other) if other == id => self,
            _ => Changed::Several,
        }
    }
}

/// One invariant, and what changed in what it reads since it last held.
struct Watch<'p, P: Process> {
    property: &'p Property<P>,
    check: StateCheck<P>,
    /// Hashes what the invariant reads from one node's state; `None`: re-checked whole after
    /// every event that ran a handler.
    digest: Option<fn(&P) -> u64>,
    check_node: Option<NodeCheck<P>>,
    changed: Changed,
}

/// The invariants (`Always` properties) in the order they are checked, and the node digests
/// they last saw.
pub(super) struct Watches<'p, P: Process> {
    list: Vec<Watch<'p, P>>,
    /// Per node, then per watch, the digest as the invariant last saw it (meaningless for a
    /// watch with no digest, or a node not `seen_up`): one node's digests sit side by side,
    /// since an event touches one node.
    seen: Vec<u64>,
    /// Per node: whether it was up (or paused) when its digests were last taken.
    seen_up: Vec<bool>,
    /// Whether some watch may have changed since every invariant last held.
    pending: bool,
}

impl<'p, P: Process> Watches<'p, P> {
    /// Watches of the `Always` properties judged on states (monitors watch themselves), each
    /// checked whole first.
    pub(super) fn new(properties: &'p [Property<P>], digests: &[PropertyDigest<P>]) -> Self {
        let list = properties
            .iter()
            .filter(|p| p.when == super::CheckWhen::Always)
            .filter_map(|property| {
                let check = property.state_check()?;
                let found = digests.iter().find(|d| d.property == property.name);
                Some(Watch {
                    property,
                    check,
                    digest: found.map(|d| d.digest),
                    check_node: found.and_then(|d| d.check_node),
                    changed: Changed::Several,
                })
            })
            .collect();
        Watches {
            list,
            seen: Vec::new(),
            seen_up: Vec::new(),
            pending: true,
        }
    }

    /// Marks the invariants whose view of the touched nodes may have changed; records their
    /// new digests.
    pub(super) fn mark(&mut self, sim: &Sim<P>, touched: Touched) {
        let count = sim.node_count() as usize;
        if self.seen_up.len() != count {
            self.seen = vec![0; self.list.len() * count];
            self.seen_up = vec![false; count];
        }
        match touched {
            Touched::Nothing => {}
            Touched::Node(id) => self.mark_node(sim, id),
            Touched::All => {
                sim.node_ids().for_each(|id| self.mark_node(sim, id));
                // A fault may change what no digest covers (links, storage): check them all.
                self.list
                    .iter_mut()
                    .for_each(|w| w.changed = Changed::Several);
                self.pending = true;
            }
        }
    }

    /// Marks the invariants whose digest of node `id` changed, and those without a digest.
    /// Runs after nearly every event: inlined into the run loop.
    #[inline(always)]
    fn mark_node(&mut self, sim: &Sim<P>, id: NodeId) {
        let state = sim.states()[id.index()].as_ref();
        let width = self.list.len();
        let row = &mut self.seen[id.index() * width..][..width];
        let was_up = std::mem::replace(&mut self.seen_up[id.index()], state.is_some());
        let mut pending = false;
        for (watch, seen) in self.list.iter_mut().zip(row) {
            let changed = match (watch.digest, state) {
                (None, _) => true,
                (Some(digest), Some(state)) => {
                    let now = digest(state);
                    std::mem::replace(seen, now) != now || !was_up
                }
                (Some(_), None) => was_up,
            };
            if changed {
                watch.changed = watch.changed.and(id);
                pending = true;
            }
        }
        self.pending |= pending;
    }

    /// The first invariant broken, in declaration order, and what its check found. Each is
    /// checked only as far as what it reads changed since it last held.
    pub(super) fn first_broken(&mut self, sim: &Sim<P>) -> Option<(&'p Property<P>, Violation)> {
        // Debug builds check the unchanged invariants anyway (see `assert_holds`).
        if !self.pending && !cfg!(debug_assertions) {
            return None;
        }
        let found = self
            .list
            .iter_mut()
            .find_map(|w| w.holds(sim).err().map(|v| (w.property, v)));
        self.pending = found.is_some();
        found
    }
}

impl<P: Process> Watch<'_, P> {
    /// Whether the invariant still holds, checking only what may have changed.
    #[inline]
    fn holds(&mut self, sim: &Sim<P>) -> Result<(), Violation> {
        match (self.changed, self.check_node) {
            (Changed::Nothing, _) => {
                assert_holds(self, sim, "its state digests did not change");
            }
            (Changed::Node(id), Some(check)) => {
                check(sim, id)?;
                assert_holds(self, sim, "its check of the node that changed held");
            }
            _ => (self.check)(sim)?,
        }
        self.changed = Changed::Nothing;
        Ok(())
    }
}

/// Debug builds check an invariant whole where less was checked, to catch a digest that
/// misses a field the invariant reads, or a node check that misses a case.
fn assert_holds<P: Process>(watch: &Watch<'_, P>, sim: &Sim<P>, because: &str) {
    if cfg!(debug_assertions)
        && let Err(v) = (watch.check)(sim)
    {
        panic!(
            "{} was taken to hold because {because}, yet it broke: {}",
            watch.property.name, v.message
        );
    }
}
