//! What a property is: a name, a sentence, when it is judged, and what judges it (a function
//! of the states, or a monitor with its own ghost state).

use super::Violation;
use super::monitor::{Monitor, MonitorFactory};
use crate::engine::Sim;
use crate::process::Process;
use serde::Serialize;

/// When a property is judged, and what breaking it means.
///
/// How the kinds relate to a scenario's `eventually:` goals: `AtEnd` asks for a final state,
/// `Eventually` for some state anywhere in the run, and a goal (`eventually: { condition,
/// within, after }`) for some state inside a window of time; a goal names an `AtEnd`,
/// `Eventually` or `Always` property as its condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckWhen {
    /// After every event: a safety invariant. A monitor is an `Always` property too.
    Always,
    /// Once, at the end of the run: a state the run must end in.
    AtEnd,
    /// The condition must hold at some point of the run (checked as often as invariants,
    /// until it first holds, and on the final state); a run that ends without it ever
    /// holding violates it.
    Eventually,
    /// Coverage: a state some run of a sweep must reach. One run never fails on it; its report
    /// says whether it was reached, and a seed sweep fails when no seed reached it.
    Sometimes,
}

/// What judges a property.
pub(crate) enum Test<P: Process> {
    /// A function of the simulation as it stands.
    State(StateCheck<P>),
    /// A monitor made fresh for each run, which observes every event.
    Monitor(MonitorFactory<P>),
}

/// A property judged on the simulation as it stands: every node's state and storage.
pub type StateCheck<P> = fn(&Sim<P>) -> Result<(), Violation>;

/// A named property of protocol `P`. Build one with [`Property::always`],
/// [`Property::at_end`], [`Property::eventually`], [`Property::sometimes`] or
/// [`Property::monitor`].
pub struct Property<P: Process> {
    pub name: &'static str,
    /// One sentence saying what must hold, for `faultline list` and reports.
    pub description: &'static str,
    pub when: CheckWhen,
    pub(crate) test: Test<P>,
}

// Function pointers copy whatever `P` is; a derive would ask `P: Copy`.
impl<P: Process> Clone for Test<P> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P: Process> Copy for Test<P> {}

impl<P: Process> Clone for Property<P> {
    fn clone(&self) -> Self {
        Property {
            name: self.name,
            description: self.description,
            when: self.when,
            test: self.test,
        }
    }
}

impl<P: Process> Property<P> {
    fn of_state(
        name: &'static str,
        description: &'static str,
        when: CheckWhen,
        check: StateCheck<P>,
    ) -> Self {
        Property {
            name,
            description,
            when,
            test: Test::State(check),
        }
    }

    /// A safety invariant: `check` must hold after every event. It sees the states of the
    /// nodes up (and paused) now; for a claim about the past, write a [`Property::monitor`].
    ///
    /// ```
    /// use faultline::check::{Property, Violation};
    /// use faultline::protocols::echo::Echo;
    ///
    /// let every_node_up = Property::<Echo>::always(
    ///     "no_crash",
    ///     "no node is ever down",
    ///     |sim| match sim.states().iter().all(Option::is_some) {
    ///         true => Ok(()),
    ///         false => Err(Violation::new("a node is down", Vec::new())),
    ///     },
    /// );
    /// assert_eq!(every_node_up.name, "no_crash");
    /// ```
    pub fn always(name: &'static str, description: &'static str, check: StateCheck<P>) -> Self {
        Property::of_state(name, description, CheckWhen::Always, check)
    }

    /// A state the run must end in: `check` is judged once, on the final state.
    pub fn at_end(name: &'static str, description: &'static str, check: StateCheck<P>) -> Self {
        Property::of_state(name, description, CheckWhen::AtEnd, check)
    }

    /// A condition the run must reach at least once by its end: judged as often as the
    /// invariants until it first holds, then no more (it costs nothing afterwards). A run
    /// that ends without it ever holding violates it. To ask for it within a time after a
    /// point (after the faults end, say), name it in a scenario's `eventually:` goal.
    pub fn eventually(name: &'static str, description: &'static str, check: StateCheck<P>) -> Self {
        Property::of_state(name, description, CheckWhen::Eventually, check)
    }

    /// Coverage: a state that some run of a sweep must reach, typically the precondition of
    /// a bug ("a leader was deposed while a write was in flight"). One run never fails on
    /// it; its report says `reached` or `not_reached`, and a seed sweep
    /// ([`crate::testing::Sweep`], [`crate::testing::sweep_builder`]) fails when no seed
    /// reached it, as the faults then never exercised what the sweep means to test.
    pub fn sometimes(name: &'static str, description: &'static str, check: StateCheck<P>) -> Self {
        Property::of_state(name, description, CheckWhen::Sometimes, check)
    }

    /// A stateful property: `factory` makes a fresh [`Monitor`] for each run, which observes
    /// every event that ran a handler or applied a fault and keeps its own ghost state across
    /// crashes and restarts, apart from the nodes'. A claim about the past ("at most one
    /// leader per term, ever") needs no bookkeeping in the protocol's storage:
    ///
    /// ```
    /// use faultline::check::{Monitor, Property, Violation};
    /// use faultline::engine::Touched;
    /// use faultline::Protocol;
    /// use faultline::protocols::raft::{Params, Raft, Role};
    /// use faultline::testing::sweep_builder;
    /// use faultline::{NodeId, Sim, SimBuilder, SimTime};
    /// use std::collections::BTreeMap;
    ///
    /// /// Every term's leader, as first seen: ghost state that no crash can erase.
    /// #[derive(Default)]
    /// struct OneLeaderPerTerm(BTreeMap<u64, NodeId>);
    ///
    /// impl Monitor<Raft> for OneLeaderPerTerm {
    ///     fn observe(&mut self, sim: &Sim<Raft>, touched: Touched) -> Result<(), Violation> {
    ///         for id in touched.nodes(sim.node_count()) {
    ///             let Some(n) = sim.node(id).state().filter(|n| n.role() == Role::Leader) else {
    ///                 continue;
    ///             };
    ///             let first = *self.0.entry(n.term()).or_insert(id);
    ///             if first != id {
    ///                 let message = format!("two leaders of term {}", n.term());
    ///                 return Err(Violation::new(message, vec![first, id]));
    ///             }
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let property = Property::monitor(
    ///     "one_leader_per_term",
    ///     "no two nodes are ever leaders of the same term",
    ///     || Box::new(OneLeaderPerTerm::default()),
    /// );
    /// let build = |seed| {
    ///     SimBuilder::new(seed)
    ///         .nodes(3)
    ///         .build(|id| Raft::new(id, 3, &Params::default(), None))
    /// };
    /// let summary = sweep_builder(0..3, build, &[property], SimTime::from_secs(2))
    ///     .unwrap_or_else(|failure| panic!("{failure}"));
    /// assert_eq!(summary.seeds, 3);
    /// ```
    pub fn monitor(
        name: &'static str,
        description: &'static str,
        factory: MonitorFactory<P>,
    ) -> Self {
        Property {
            name,
            description,
            when: CheckWhen::Always,
            test: Test::Monitor(factory),
        }
    }

    /// The function that judges this property on the simulation as it stands; `None` for a
    /// monitor, which judges the run event by event.
    pub fn state_check(&self) -> Option<StateCheck<P>> {
        match self.test {
            Test::State(check) => Some(check),
            Test::Monitor(_) => None,
        }
    }

    /// Whether this property is a [`Property::monitor`].
    pub fn is_monitor(&self) -> bool {
        matches!(self.test, Test::Monitor(_))
    }

    /// A fresh monitor for a run, if this property is one.
    pub(crate) fn new_monitor(&self) -> Option<Box<dyn Monitor<P>>> {
        match self.test {
            Test::Monitor(factory) => Some(factory()),
            Test::State(_) => None,
        }
    }
}
