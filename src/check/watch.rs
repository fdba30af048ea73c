//! Which invariants an event may have broken, and how much of each to check again; which
//! monitors an event may concern.
//!
//! An invariant that held, and whose view of every node is unchanged, still holds. One whose
//! view of a single node changed can only have broken where that node is involved: a protocol
//! that gives a node check ([`PropertyDigest::check_node`]) has just that part checked. Any
//! other change (several nodes, a fault, no digest) checks the whole invariant. A monitor
//! with a digest is handed a handler's event only when its digest of that node changed; its
//! digests sit in the same row as the invariants', so that one pass over the node's state
//! serves both.

use super::{NodeCheck, Property, PropertyDigest, StateCheck, Violation};
use crate::engine::{Sim, Touched};
use crate::process::{NodeId, Process};

/// What changed, in what a property reads, since it last judged the run.
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

/// A property's digest of one node's state, and what changed in what it covers since the
/// property last judged the run.
struct Tracked<P> {
    /// Hashes what the property reads from one node's state; `None`: everything is taken to
    /// change with every event that ran a handler.
    digest: Option<fn(&P) -> u64>,
    changed: Changed,
}

/// One invariant, and what changed in what it reads since it last held.
struct Watch<'p, P: Process> {
    property: &'p Property<P>,
    check: StateCheck<P>,
    check_node: Option<NodeCheck<P>>,
    tracked: Tracked<P>,
}

/// The invariants (`Always` properties) in the order they are checked, the monitors in
/// declaration order, and the node digests they last saw.
pub(super) struct Watches<'p, P: Process> {
    list: Vec<Watch<'p, P>>,
    /// Per monitor: what changed in what it reads since it was last handed an event.
    monitors: Vec<Tracked<P>>,
    /// Whether some monitor is due.
    some_monitor_due: bool,
    /// Per node, the digests as last seen, the invariants' then the monitors' (meaningless
    /// for one with no digest, or a node not `seen_up`): one node's digests sit side by side,
    /// since an event touches one node.
    seen: Vec<u64>,
    /// Per node: whether it was up (or paused) when its digests were last taken.
    seen_up: Vec<bool>,
    /// Whether some invariant may have changed since every invariant last held.
    pending: bool,
}

impl<'p, P: Process> Watches<'p, P> {
    /// Watches of the `Always` properties judged on states, each checked whole first, and of
    /// the monitors, each handed the first event.
    pub(super) fn new(properties: &'p [Property<P>], digests: &[PropertyDigest<P>]) -> Self {
        let digest_of =
            |property: &Property<P>| digests.iter().find(|d| d.property == property.name);
        let list = properties
            .iter()
            .filter(|p| p.when == super::CheckWhen::Always)
            .filter_map(|property| {
                let check = property.state_check()?;
                let found = digest_of(property);
                Some(Watch {
                    property,
                    check,
                    check_node: found.and_then(|d| d.check_node),
                    tracked: Tracked {
                        digest: found.map(|d| d.digest),
                        changed: Changed::Several,
                    },
                })
            })
            .collect();
        let monitors = properties
            .iter()
            .filter(|p| p.is_monitor())
            .map(|p| Tracked {
                digest: digest_of(p).map(|d| d.digest),
                changed: Changed::Several,
            })
            .collect();
        Watches {
            list,
            monitors,
            some_monitor_due: true,
            seen: Vec::new(),
            seen_up: Vec::new(),
            pending: true,
        }
    }

    /// Whether the event last marked may concern some monitor.
    #[inline(always)]
    pub(super) fn some_monitor_due(&self) -> bool {
        self.some_monitor_due
    }

    /// Per monitor in declaration order, whether what it reads may have changed since it was
    /// last handed an event; each is then taken to be handed this one.
    pub(super) fn take_monitors_due(&mut self) -> impl Iterator<Item = bool> + '_ {
        self.some_monitor_due = false;
        self.monitors
            .iter_mut()
            .map(|m| std::mem::replace(&mut m.changed, Changed::Nothing) != Changed::Nothing)
    }

    /// Marks the invariants whose view of the touched nodes may have changed, and (with
    /// `MONITORS`) the monitors the event concerns; records their new digests. Without
    /// `MONITORS`, the monitors are left alone: for property lists with none.
    #[inline(always)]
    pub(super) fn mark<const MONITORS: bool>(&mut self, sim: &Sim<P>, touched: Touched) {
        let count = sim.node_count() as usize;
        if self.seen_up.len() != count {
            self.seen = vec![0; (self.list.len() + self.monitors.len()) * count];
            self.seen_up = vec![false; count];
        }
        match touched {
            Touched::Nothing => {}
            Touched::Node(id) => self.mark_node::<MONITORS>(sim, id),
            Touched::All => self.mark_all::<MONITORS>(sim),
        }
    }

    /// After a fault: every invariant is checked whole and every monitor is due; the digests
    /// are taken anyway, so that the next handler is compared with what they saw now.
    #[inline(never)]
    fn mark_all<const MONITORS: bool>(&mut self, sim: &Sim<P>) {
        sim.node_ids()
            .for_each(|id| self.mark_node::<MONITORS>(sim, id));
        // A fault may change what no digest covers (links, storage): check them all.
        self.list
            .iter_mut()
            .for_each(|w| w.tracked.changed = Changed::Several);
        self.pending = true;
        if MONITORS {
            self.monitors
                .iter_mut()
                .for_each(|m| m.changed = Changed::Several);
            self.some_monitor_due = true;
        }
    }

    /// Marks the invariants and monitors whose digest of node `id` changed, and those
    /// without a digest. Runs after nearly every event: inlined into the run loop.
    #[inline(always)]
    fn mark_node<const MONITORS: bool>(&mut self, sim: &Sim<P>, id: NodeId) {
        let state = sim.states()[id.index()].as_ref();
        let width = self.list.len() + self.monitors.len();
        let row = &mut self.seen[id.index() * width..][..width];
        let (row, monitor_row) = row.split_at_mut(self.list.len());
        let was_up = std::mem::replace(&mut self.seen_up[id.index()], state.is_some());
        let invariants = self.list.iter_mut().map(|w| &mut w.tracked);
        self.pending |= mark_changed(invariants, row, state, was_up, id);
        if MONITORS {
            let monitors = self.monitors.iter_mut();
            self.some_monitor_due |= mark_changed(monitors, monitor_row, state, was_up, id);
        }
    }

    /// The first invariant broken, in declaration order, and what its check found. Each is
    /// checked only as far as what it reads changed since it last held.
    #[inline(always)]
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

/// Marks what changed in each of `tracked`, whose digests of the node `id` were `seen`;
/// whether any did.
#[inline(always)]
fn mark_changed<'t, P: 't>(
    tracked: impl Iterator<Item = &'t mut Tracked<P>>,
    seen: &mut [u64],
    state: Option<&P>,
    was_up: bool,
    id: NodeId,
) -> bool {
    let mut any = false;
    for (t, seen) in tracked.zip(seen) {
        if changed(t.digest, state, seen, was_up) {
            t.changed = t.changed.and(id);
            any = true;
        }
    }
    any
}

/// Whether what a digest covers of a node may have changed since `seen` was taken (when the
/// node was up, if `was_up`): always without a digest, or when the node came up or went
/// down. Records the digest now in `seen`.
#[inline(always)]
fn changed<P>(
    digest: Option<fn(&P) -> u64>,
    state: Option<&P>,
    seen: &mut u64,
    was_up: bool,
) -> bool {
    match (digest, state) {
        (None, _) => true,
        (Some(digest), Some(state)) => {
            let now = digest(state);
            std::mem::replace(seen, now) != now || !was_up
        }
        (Some(_), None) => was_up,
    }
}

impl<P: Process> Watch<'_, P> {
    /// Whether the invariant still holds, checking only what may have changed.
    #[inline]
    fn holds(&mut self, sim: &Sim<P>) -> Result<(), Violation> {
        match (self.tracked.changed, self.check_node) {
            (Changed::Nothing, _) => {
                assert_holds(self, sim, "its state digests did not change");
            }
            (Changed::Node(id), Some(check)) => {
                check(sim, id)?;
                assert_holds(self, sim, "its check of the node that changed held");
            }
            _ => (self.check)(sim)?,
        }
        self.tracked.changed = Changed::Nothing;
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
