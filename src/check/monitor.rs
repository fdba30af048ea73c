//! Stateful properties: monitors that observe a run event by event and keep their own ghost
//! state, in the manner of TigerBeetle's state checker and Jepsen's checkers.
//!
//! A state property sees the nodes as they are now, so a claim about the past ("at most one
//! leader per term, ever"; "a value once learned stays learned") would need the protocol to
//! keep records of its past in its own state, where a crash erases them, or in its durable
//! storage, where they would mix with what the system under test really stores. A monitor
//! keeps those records itself: the simulation hands it every event that may have changed a
//! node, and nothing the nodes do can reach its state.

use super::Violation;
use crate::engine::{Sim, Touched};
use crate::process::Process;

/// A stateful property of protocol `P`, made fresh for each run by a [`MonitorFactory`] (see
/// [`super::Property::monitor`] for a worked example).
///
/// The run calls [`Monitor::observe`] after every event that ran a process handler or
/// applied a fault, whatever the checker's digests or `check_every` skip; `touched` names
/// what may have changed, so that the cost of an event does not grow with the cluster when
/// it changed one node. A violation stops the run when invariants are next due (at once
/// under the default `check_every`), and names the time and event where it was found. A crashed node shows as `None` in [`Sim::states`] (its crash is a
/// fault: `Touched::All`); the monitor's state is untouched by it.
pub trait Monitor<P: Process> {
    /// Takes in the event that just ran; `Err` when the run broke the property.
    fn observe(&mut self, sim: &Sim<P>, touched: Touched) -> Result<(), Violation>;

    /// Judges the run once more when it ends (by default, nothing more to judge).
    fn at_end(&mut self, _sim: &Sim<P>) -> Result<(), Violation> {
        Ok(())
    }
}

/// Makes a fresh monitor for one run: each run starts from empty ghost state.
pub type MonitorFactory<P> = fn() -> Box<dyn Monitor<P>>;

/// The monitors of one run, each with the index of its property in the declared list.
pub(super) struct Monitors<P: Process> {
    list: Vec<(usize, Box<dyn Monitor<P>>)>,
}

impl<P: Process> Monitors<P> {
    pub(super) fn new(properties: &[super::Property<P>]) -> Self {
        let list = properties
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.new_monitor().map(|m| (i, m)))
            .collect();
        Monitors { list }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Hands the event to every monitor in declaration order; the first that finds the
    /// property broken, with its property's index. The run stops there, so the monitors
    /// after it need not see the event.
    pub(super) fn observe(&mut self, sim: &Sim<P>, touched: Touched) -> Option<(usize, Violation)> {
        self.list
            .iter_mut()
            .find_map(|(i, m)| m.observe(sim, touched).err().map(|v| (*i, v)))
    }

    /// The end-of-run verdict of the monitor of property `index`, if it is one.
    pub(super) fn at_end(&mut self, sim: &Sim<P>, index: usize) -> Option<Violation> {
        let (_, monitor) = self.list.iter_mut().find(|(i, _)| *i == index)?;
        monitor.at_end(sim).err()
    }
}
