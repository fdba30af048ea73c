//! Which invariants an event may have broken, and how much of each to check again.
//!
//! An invariant that held, and whose view of every node is unchanged, still holds. One whose
//! view of a single node changed can only have broken where that node is involved: a protocol
//! that gives a node check ([`PropertyDigest::check_node`]) has just that part checked. Any
//! other change (several nodes, a fault, no digest) checks the whole invariant.

use super::{NodeCheck, Property, PropertyDigest, Violation};
use crate::engine::Sim;
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
pub(super) struct Watch<'p, P: Process> {
    pub(super) property: &'p Property<P>,
    /// Hashes what the invariant reads from one node's state; `None`: re-checked whole after
    /// every event that ran a handler.
    digest: Option<fn(&P) -> u64>,
    check_node: Option<NodeCheck<P>>,
    changed: Changed,
}

impl<'p, P: Process> Watch<'p, P> {
    /// A watch of `property`, which is checked whole first.
    pub(super) fn new(property: &'p Property<P>, digests: &[PropertyDigest<P>]) -> Self {
        let found = digests.iter().find(|d| d.property == property.name);
        Watch {
            property,
            digest: found.map(|d| d.digest),
            check_node: found.and_then(|d| d.check_node),
            changed: Changed::Several,
        }
    }

    /// Records node `id`'s digest as `seen`; notes a change.
    #[inline]
    pub(super) fn observe(&mut self, id: NodeId, state: Option<&P>, seen: &mut Option<u64>) {
        match self.digest {
            Some(digest) => {
                let now = state.map(digest);
                if std::mem::replace(seen, now) != now {
                    self.changed = self.changed.and(id);
                }
            }
            None => self.changed = Changed::Several,
        }
    }

    /// Something no digest covers may have changed (a fault).
    pub(super) fn invalidate(&mut self) {
        self.changed = Changed::Several;
    }

    /// Whether the invariant still holds, checking only what may have changed.
    #[inline]
    pub(super) fn holds(&mut self, sim: &Sim<P>) -> Result<(), Violation> {
        match (self.changed, self.check_node) {
            (Changed::Nothing, _) => {
                assert_holds(self.property, sim, "its state digests did not change");
            }
            (Changed::Node(id), Some(check)) => {
                check(sim, id)?;
                assert_holds(
                    self.property,
                    sim,
                    "its check of the node that changed held",
                );
            }
            _ => (self.property.check)(sim)?,
        }
        self.changed = Changed::Nothing;
        Ok(())
    }
}

/// Debug builds check an invariant whole where less was checked, to catch a digest that
/// misses a field the invariant reads, or a node check that misses a case.
fn assert_holds<P: Process>(property: &Property<P>, sim: &Sim<P>, because: &str) {
    if cfg!(debug_assertions)
        && let Err(v) = (property.check)(sim)
    {
        panic!(
            "{} was taken to hold because {because}, yet it broke: {}",
            property.name, v.message
        );
    }
}
