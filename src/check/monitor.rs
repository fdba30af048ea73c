//! Stateful properties: monitors that observe a run event by event and keep their own ghost
//! state, in the manner of TigerBeetle's state checker and Jepsen's checkers.
//!
//! A state property sees the nodes as they are now, so a claim about the past ("at most one
//! leader per term, ever"; "a value once learned stays learned") would need the protocol to
//! keep records of its past in its own state, where a crash erases them, or in its durable
//! storage, where they would mix with what the system under test really stores. A monitor
//! keeps those records itself: the simulation hands it every event that may have changed a
//! node, and nothing the nodes do can reach its state.

use super::{PropertyDigest, Violation};
use crate::engine::{Sim, Touched};
use crate::process::Process;

/// A stateful property of protocol `P`, made fresh for each run by a [`MonitorFactory`] (see
/// [`super::Property::monitor`] for a worked example).
///
/// The run calls [`Monitor::observe`] after every event that ran a process handler or
/// applied a fault, whatever the invariants' digests or `check_every` skip; `touched` names
/// what may have changed, so that the cost of an event does not grow with the cluster when
/// it changed one node. A violation stops the run when invariants are next due (at once
/// under the default `check_every`), and names the time and event where it was found. A
/// crashed node shows as `None` in [`Sim::states`] (its crash is a fault: `Touched::All`);
/// the monitor's state is untouched by it.
///
/// A monitor may have a digest of its own ([`PropertyDigest`] under its property's name, as
/// the protocol's `CHECK_DIGESTS` gives): it is then called after a handler only if the
/// digest of the node that ran it changed since the monitor last observed that node (or the
/// node came up or went down); faults still reach it every time. The digest must cover
/// everything the monitor reads of a node, so that observing a node whose digest did not
/// change would find nothing and change nothing of what the monitor later judges. Debug
/// builds run a second copy of the monitor that sees every event, and panic as soon as its
/// verdict and the digested monitor's differ.
pub trait Monitor<P: Process> {
    /// Takes in the event that just ran; `Err` when the run broke the property.
    fn observe(&mut self, sim: &Sim<P>, touched: Touched) -> Result<(), Violation>;

    /// Judges the run once more when it ends (by default, nothing more to judge).
    fn at_end(&mut self, _sim: &Sim<P>) -> Result<(), Violation> {
        Ok(())
    }

    /// A copy of this monitor, ghost state and all, for exhaustive exploration
    /// ([`crate::exhaustive`]), where the ghost state is part of every explored state: each
    /// path carries its own. `None`, the default, leaves the property unjudged there. A
    /// monitor that is `Clone + Hash` implements this and [`Monitor::fingerprint`] in two
    /// lines: `Some(Box::new(self.clone()))` and `faultline::trace::content_hash(self)`.
    fn fork(&self) -> Option<Box<dyn Monitor<P> + Send + Sync>> {
        None
    }

    /// A hash of the ghost state: explored states whose monitors hash differently are
    /// different states. Used only when [`Monitor::fork`] gives a copy.
    fn fingerprint(&self) -> u64 {
        0
    }

    /// Whether two events on different nodes, observed in either order, leave this monitor
    /// in the same state (or fail in both orders). An exhaustive search then tries only one
    /// order of such events where the order cannot matter to the nodes either (see
    /// [`crate::exhaustive::Explorer::reduction`]); `false`, the default, makes it try both.
    /// A monitor that keeps per node what it saw, or a set of facts each event adds to,
    /// commutes; one that records which node did something first does not.
    fn commutes(&self) -> bool {
        false
    }
}

/// Makes a fresh monitor for one run: each run starts from empty ghost state.
pub type MonitorFactory<P> = fn() -> Box<dyn Monitor<P>>;

/// One monitor of a run.
struct Entry<P: Process> {
    /// The index of its property in the declared list.
    index: usize,
    name: &'static str,
    monitor: Box<dyn Monitor<P>>,
    /// Debug builds, for a monitor with a digest: a second monitor of the same property,
    /// made by the same factory, that sees every event. Its verdicts must match the first's,
    /// which sees only the events that changed its digest: a difference means the digest
    /// misses something the monitor reads. The real monitor's ghost state is never touched
    /// by it.
    shadow: Option<Box<dyn Monitor<P>>>,
}

/// The monitors of one run, in declaration order. Which of them an event concerns is
/// worked out with the invariants' digests ([`super::watch::Watches::take_monitors_due`]).
pub(super) struct Monitors<P: Process> {
    list: Vec<Entry<P>>,
}

impl<P: Process> Monitors<P> {
    pub(super) fn new(properties: &[super::Property<P>]) -> Self {
        let list = properties
            .iter()
            .enumerate()
            .filter_map(|(index, p)| {
                let monitor = p.new_monitor()?;
                Some(Entry {
                    index,
                    name: p.name,
                    monitor,
                    shadow: None,
                })
            })
            .collect();
        Monitors { list }
    }

    /// Debug builds: gives each monitor named in `digests` a shadow that sees every event.
    pub(super) fn add_shadows(
        &mut self,
        properties: &[super::Property<P>],
        digests: &[PropertyDigest<P>],
    ) {
        for entry in &mut self.list {
            let digested = digests.iter().any(|d| d.property == entry.name);
            entry.shadow = match cfg!(debug_assertions) && digested {
                true => properties[entry.index].new_monitor(),
                false => None,
            };
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Hands the event to the monitors it concerns (`due`, per monitor), in declaration
    /// order; the first that finds its property broken, with the property's index. The run
    /// stops there, so the monitors after it need not see the event.
    #[inline(always)]
    pub(super) fn observe(
        &mut self,
        sim: &Sim<P>,
        touched: Touched,
        due: impl Iterator<Item = bool>,
    ) -> Option<(usize, Violation)> {
        for (entry, due) in self.list.iter_mut().zip(due) {
            let verdict = match due {
                true => entry.monitor.observe(sim, touched),
                false => Ok(()),
            };
            if cfg!(debug_assertions) {
                entry.assert_shadow_agrees(sim, touched, due, &verdict);
            }
            if let Err(v) = verdict {
                return Some((entry.index, v));
            }
        }
        None
    }

    /// The end-of-run verdict of the monitor of property `index`, if it is one.
    pub(super) fn at_end(&mut self, sim: &Sim<P>, index: usize) -> Option<Violation> {
        let entry = self.list.iter_mut().find(|e| e.index == index)?;
        let verdict = entry.monitor.at_end(sim);
        if let Some(shadow) = &mut entry.shadow {
            let full = shadow.at_end(sim);
            assert_agree(entry.name, &verdict, &full, "at the end of the run");
        }
        verdict.err()
    }
}

impl<P: Process> Entry<P> {
    /// Debug builds: hands the event to the shadow monitor, which sees every event, and
    /// panics if it judges the event otherwise than the monitor that sees only what changed
    /// its digest.
    fn assert_shadow_agrees(
        &mut self,
        sim: &Sim<P>,
        touched: Touched,
        due: bool,
        verdict: &Result<(), Violation>,
    ) {
        let Some(shadow) = &mut self.shadow else {
            return;
        };
        let full = shadow.observe(sim, touched);
        let when = match due {
            true => "on an event that changed its digest",
            false => "on an event skipped because its digest did not change",
        };
        assert_agree(self.name, verdict, &full, when);
    }
}

/// Debug builds: the verdicts of a monitor fed through its digest and of its shadow, fed
/// every event, must be the same.
fn assert_agree(
    name: &str,
    digested: &Result<(), Violation>,
    full: &Result<(), Violation>,
    when: &str,
) {
    if digested != full {
        panic!(
            "the monitor of {name} judged the run otherwise {when} than a copy of it that saw \
             every event ({digested:?} against {full:?}): its digest misses something the \
             monitor reads"
        );
    }
}
