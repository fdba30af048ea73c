//! Properties a protocol declares over the states of all its nodes, and the violations found.
//!
//! A property is a named function over the whole simulation (every node's state, with crashed
//! nodes visible as down), or a monitor that observes the run and keeps its own ghost state
//! ([`Monitor`]). [`Property::always`] makes an invariant, checked after every event;
//! [`Property::at_end`] a state the run must end in (for example "every value reached every
//! live node"); [`Property::eventually`] a condition the run must reach at some point;
//! [`Property::sometimes`] a state some seed of a sweep must reach (coverage); and
//! [`Property::monitor`] a stateful property, for claims about the past that no single state
//! shows ("at most one leader per term, ever").
//!
//! Invariants are re-checked after every event that ran a process handler or applied a fault
//! ([`Sim::last_event_touched_nodes`]); events that change no node (client-side events,
//! messages dropped or held on arrival, cancelled timers) are skipped. A property should
//! therefore depend on node states and storage, not on the trace or the clients' history.
//!
//! A protocol can go further with state digests ([`Checker::with_digests`]): per invariant, a
//! hash of everything it reads from one node. After a handler ran, an invariant is re-checked
//! only if that node's digest for it changed; most events (heartbeats, timers that find
//! nothing to do) change nothing the invariants see, and most of the rest change what only
//! some of them read (a log grew, but no node led a new term). A digest may come with a node
//! check, the invariant restricted to one node's part (its pairs with the others), run
//! instead of the whole check when only that node changed. Debug builds check the skipped
//! invariants, and those only node-checked, whole anyway and panic if they broke. A monitor
//! can have a digest too: it then observes a handler's event only when that node's digest
//! changed (debug builds compare it with a copy that observes every event).

pub mod history;
mod isolation;
mod liveness;
mod log_history;
mod monitor;
mod property;
mod reach;
mod served;
mod watch;

pub use history::{HistoryCheck, RegionLatency, check_history, check_history_at};
pub use liveness::{Eventually, GoalResult};
pub use monitor::{Monitor, MonitorFactory};
pub use property::{CheckWhen, Property, StateCheck};
pub use reach::Reached;
pub use served::{clients_served, clients_served_property};

use crate::engine::{Sim, SimError, Touched};
use crate::process::{NodeId, Process};
use crate::time::SimTime;
use liveness::Goal;
use monitor::Monitors;
use reach::Targets;
use serde::Serialize;
use watch::Watches;

/// What a failed check found: a plain-words message and the nodes involved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub message: String,
    pub nodes: Vec<NodeId>,
}

impl Violation {
    pub fn new(message: impl Into<String>, nodes: Vec<NodeId>) -> Violation {
        Violation {
            message: message.into(),
            nodes,
        }
    }
}

/// A hash of every field of one node that the property named `property` reads: the
/// property is re-checked (a monitor: handed the event) only when some node's digest changes
/// (see [`Checker::with_digests`]).
pub struct PropertyDigest<P: Process> {
    pub property: &'static str,
    pub digest: fn(&P) -> u64,
    /// The property restricted to what involves node `id`, for when it held before and only
    /// `id`'s digest changed since: it must then fail exactly when the whole check would.
    /// `None`: the whole property is checked. Unused for a monitor, which is handed the
    /// node that changed.
    pub check_node: Option<NodeCheck<P>>,
}

/// A property restricted to what involves one node ([`PropertyDigest::check_node`]).
pub type NodeCheck<P> = fn(&Sim<P>, NodeId) -> Result<(), Violation>;

/// A violation as reported: which property, when, where, and what happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ViolationReport {
    pub property: String,
    pub time_ns: u64,
    #[serde(skip)]
    pub time: SimTime,
    pub nodes: Vec<String>,
    pub message: String,
    /// The trace index of the event after which the violation was found; `None` when it was
    /// found at the end of the run or in the clients' history.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<u64>,
    /// The clients' operations a history violation names.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ops: Vec<OpRef>,
}

/// One client operation: `op`, its number in the clients' history, is how every output names
/// it ("op 166"); the trace names it by its client and that client's own count, `seq`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct OpRef {
    pub op: u32,
    pub client: u32,
    pub seq: u32,
}

impl ViolationReport {
    /// Runs one property against the simulation now (a monitor has no verdict on a state
    /// alone: `None`).
    pub fn check<P: Process>(property: &Property<P>, sim: &Sim<P>) -> Option<ViolationReport> {
        let violation = property.state_check()?(sim).err()?;
        Some(ViolationReport::new(property, sim, violation))
    }

    /// The report of `violation` of `property`, found now.
    pub(crate) fn new<P: Process>(
        property: &Property<P>,
        sim: &Sim<P>,
        violation: Violation,
    ) -> Self {
        ViolationReport {
            event: None,
            ops: Vec::new(),
            property: property.name.to_string(),
            time_ns: sim.now().0,
            time: sim.now(),
            nodes: violation
                .nodes
                .iter()
                .map(|&n| sim.node_name(n).to_string())
                .collect(),
            message: violation.message,
        }
    }

    /// `exactly_once violated at 4.213s: ...`
    pub fn headline(&self) -> String {
        format!(
            "{} violated at {}: {}",
            self.property, self.time, self.message
        )
    }
}

/// How often invariants (`Always` properties) are checked while a run goes on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckEvery {
    /// After every event: a violation is reported at the exact event that caused it.
    #[default]
    Event,
    /// After every n-th event that ran a handler or applied a fault (n ≥ 1): cheaper, and the
    /// report may come up to n − 1 such events late.
    Events(u64),
    /// Only at the end of the run.
    End,
}

impl CheckEvery {
    /// Whether to check after the event that brought the run's count to `events`.
    #[inline]
    fn due(self, events: u64) -> bool {
        match self {
            CheckEvery::Event => true,
            CheckEvery::Events(n) => events.is_multiple_of(n.max(1)),
            CheckEvery::End => false,
        }
    }
}

/// Checks a run as it goes: invariants as often as `every` says, monitors after every event
/// that may have changed a node, conditions to reach, and liveness goals.
pub struct Checker<'p, P: Process> {
    properties: &'p [Property<P>],
    every: CheckEvery,
    /// Events so far that ran a handler or applied a fault (what `every` counts).
    touched_events: u64,
    goals: Vec<Goal<P>>,
    /// No goal can be overdue at or before this time (the earliest open deadline).
    quiet_until: SimTime,
    /// No goal can be seen to hold before this time (the earliest start of a pending goal's
    /// window): until then, events do not look at the goals.
    goals_from: SimTime,
    /// The invariants (`Always` properties), and what changed in what they read.
    watches: Watches<'p, P>,
    /// This run's monitors, with their ghost state.
    monitors: Monitors<P>,
    /// The `Eventually` and `Sometimes` conditions, and which held.
    targets: Targets<P>,
    /// A monitor's violation (with its property's index) found between two points where
    /// invariants are due, to report at the next.
    deferred: Option<(usize, ViolationReport)>,
}

impl<'p, P: Process> Checker<'p, P> {
    /// A checker of `properties` for one run; monitors among them start with fresh state.
    pub fn new(properties: &'p [Property<P>], every: CheckEvery) -> Self {
        Checker {
            properties,
            every,
            touched_events: 0,
            goals: Vec::new(),
            quiet_until: SimTime::MAX,
            goals_from: SimTime::MAX,
            watches: Watches::new(properties, &[]),
            monitors: Monitors::new(properties),
            targets: Targets::new(properties),
            deferred: None,
        }
    }

    /// Re-checks an invariant named in `digests` after a handler only when that node's digest
    /// for it changed; the others after every such event. Each digest must cover every field
    /// of a node that its property reads.
    ///
    /// A digest under a monitor's name makes the monitor observe an event that ran a handler
    /// only when the digest of that node changed (see [`Monitor`]); faults reach it always.
    pub fn with_digests(mut self, digests: &[PropertyDigest<P>]) -> Self {
        self.watches = Watches::new(self.properties, digests);
        self.monitors.add_shadows(self.properties, digests);
        self
    }

    /// The first invariant broken, in declaration order. Each is checked only as far as what
    /// it reads changed since it last held ([`watch`]).
    /// Runs after nearly every event, from both copies of the run loop: inlined into them.
    #[inline(always)]
    fn first_broken(&mut self, sim: &Sim<P>) -> Option<ViolationReport> {
        let (property, found) = self.watches.first_broken(sim)?;
        Some(broken_report(property, sim, found))
    }

    /// Adds a liveness goal; its condition must name one of the properties, one judged on
    /// states (not a monitor).
    pub fn eventually(mut self, spec: Eventually) -> Result<Self, String> {
        let property = self
            .properties
            .iter()
            .find(|p| p.name == spec.condition)
            .ok_or_else(|| {
                format!(
                    "no property named `{}` to use as a condition",
                    spec.condition
                )
            })?;
        let check = property.state_check().ok_or_else(|| {
            format!(
                "`{}` is a monitor, which judges the run, not a state: it cannot be a condition",
                spec.condition
            )
        })?;
        self.goals.push(Goal {
            spec,
            check,
            held_at: None,
            failed: false,
        });
        self.refresh_quiet_until();
        Ok(self)
    }

    /// Steps `sim` through every event up to `until`. Stops at the first violation (of an
    /// invariant or a monitor, or a goal whose deadline passed) and returns it; otherwise
    /// moves the clock to `until`.
    pub fn step_until(
        &mut self,
        sim: &mut Sim<P>,
        until: SimTime,
    ) -> Result<Option<ViolationReport>, SimError> {
        // Properties without monitors or conditions to reach take a loop without their work.
        match self.monitors.is_empty() && self.targets.is_empty() {
            true => self.step_loop::<false>(sim, until),
            false => self.step_loop::<true>(sim, until),
        }
    }

    /// [`Checker::step_until`]; `EXTRAS`: whether there are monitors or conditions to reach.
    #[inline(always)]
    fn step_loop<const EXTRAS: bool>(
        &mut self,
        sim: &mut Sim<P>,
        until: SimTime,
    ) -> Result<Option<ViolationReport>, SimError> {
        while let Some(next) = sim.next_event_time_mut().filter(|&t| t <= until) {
            if let Some(v) = self.overdue(sim, next) {
                return Ok(Some(v));
            }
            let first_record = sim.trace_len();
            sim.step_next(next)?;
            // An event that ran no handler changed no node: nothing to re-check.
            let touched = sim.last_event_touched();
            if touched == Touched::Nothing {
                continue;
            }
            self.touched_events += 1;
            self.watches.mark::<EXTRAS>(sim, touched);
            if EXTRAS {
                if let Some(v) = self.check_with_extras(sim, touched, first_record) {
                    return Ok(Some(v));
                }
            } else if self.every.due(self.touched_events)
                && let Some(mut v) = self.first_broken(sim)
            {
                // The step's first record is what ran the handler (a delivery, a timer, a
                // fault); what the handler did follows it.
                v.event = (sim.trace_len() > first_record).then_some(first_record);
                return Ok(Some(v));
            }
            if sim.now() >= self.goals_from {
                self.observe_goals(sim);
            }
        }
        sim.run_until(until)?;
        Ok(self.overdue(sim, SimTime(until.0.saturating_add(1))))
    }

    /// After an event, with monitors or conditions to reach: hands the event to the monitors
    /// it concerns and, when invariants are due, checks them and judges the conditions to
    /// reach. A monitor's violation is reported when invariants are due (`check_every`), with
    /// the time and event where it broke; of an invariant and a monitor broken then, the one
    /// declared first is reported, as among invariants.
    #[inline(always)]
    fn check_with_extras(
        &mut self,
        sim: &Sim<P>,
        touched: Touched,
        first_record: u64,
    ) -> Option<ViolationReport> {
        // Once one broke, the run stops at the next due point: the others need not watch.
        // Debug builds hand every event on, for the copies of digested monitors to see.
        let due = cfg!(debug_assertions) || self.watches.some_monitor_due();
        if due && self.deferred.is_none() {
            self.observe_monitors(sim, touched, first_record);
        }
        if !self.every.due(self.touched_events) {
            return None;
        }
        let invariant = self.first_broken(sim);
        if invariant.is_none() && self.deferred.is_none() {
            if !self.targets.is_empty() {
                self.targets.observe(sim);
            }
            return None;
        }
        let event = (sim.trace_len() > first_record).then_some(first_record);
        self.first_declared(invariant, event)
    }

    /// Hands the event to the monitors it concerns; keeps the first violation found, to
    /// report when invariants are next due.
    #[inline(never)]
    fn observe_monitors(&mut self, sim: &Sim<P>, touched: Touched, first_record: u64) {
        let due = self.watches.take_monitors_due();
        if let Some((index, violation)) = self.monitors.observe(sim, touched, due) {
            let mut report = ViolationReport::new(&self.properties[index], sim, violation);
            report.event = (sim.trace_len() > first_record).then_some(first_record);
            self.deferred = Some((index, report));
        }
    }

    /// The violation to report of an invariant's and a deferred monitor's: the one whose
    /// property was declared first.
    #[cold]
    fn first_declared(
        &mut self,
        invariant: Option<ViolationReport>,
        event: Option<u64>,
    ) -> Option<ViolationReport> {
        let position =
            |v: &ViolationReport| self.properties.iter().position(|p| p.name == v.property);
        let invariant_first = match (&invariant, &self.deferred) {
            (Some(v), Some((index, _))) => position(v).is_some_and(|i| i < *index),
            (found, None) => found.is_some(),
            (None, Some(_)) => false,
        };
        if invariant_first {
            return invariant.map(|mut v| {
                v.event = event;
                v
            });
        }
        self.deferred.take().map(|(_, report)| report)
    }

    /// Checked before every event, so it is skipped until the earliest open deadline.
    #[inline(always)]
    fn overdue(&mut self, sim: &Sim<P>, next: SimTime) -> Option<ViolationReport> {
        if next <= self.quiet_until {
            return None;
        }
        self.overdue_goals(sim, next)
    }

    /// The rare path of [`Checker::overdue`], kept out of the run loop.
    #[inline(never)]
    fn overdue_goals(&mut self, sim: &Sim<P>, next: SimTime) -> Option<ViolationReport> {
        let found = self.goals.iter_mut().find_map(|g| g.overdue(sim, next));
        self.refresh_quiet_until();
        found
    }

    /// Judges the goals whose window is open; out of the run loop, which calls it only from
    /// the start of the first window until every goal held or failed.
    #[inline(never)]
    fn observe_goals(&mut self, sim: &Sim<P>) {
        self.goals.iter_mut().for_each(|g| g.observe(sim));
        self.refresh_quiet_until();
    }

    /// Recomputes `quiet_until` and `goals_from` after goals were added or changed.
    fn refresh_quiet_until(&mut self) {
        self.goals_from = self
            .goals
            .iter()
            .filter(|g| g.pending())
            .map(|g| g.spec.from)
            .min()
            .unwrap_or(SimTime::MAX);
        self.quiet_until = self
            .goals
            .iter()
            .filter(|g| g.pending())
            .map(|g| g.spec.deadline())
            .min()
            .unwrap_or(SimTime::MAX);
    }

    /// At the end of the run: every property once, in declaration order (a monitor's
    /// [`Monitor::at_end`]; an `Eventually` condition only if it never held; a `Sometimes`
    /// one never fails), goals that never held, and message conservation.
    pub fn finish(&mut self, sim: &Sim<P>) -> Vec<ViolationReport> {
        sim.assert_conservation();
        // The final state counts towards the conditions to reach.
        self.targets.observe(sim);
        let mut found = Vec::new();
        for (index, p) in self.properties.iter().enumerate() {
            if let Some((_, report)) = self.deferred.take_if(|(i, _)| *i == index) {
                found.push(report);
                continue;
            }
            if self.judged_by_goal(p) {
                continue;
            }
            let broken = match (p.when, p.state_check()) {
                (_, None) => self.monitors.at_end(sim, index),
                (CheckWhen::Sometimes, _) => None,
                (CheckWhen::Eventually, Some(_)) if self.targets.was_reached(index) => None,
                (CheckWhen::Eventually, Some(check)) => check(sim).err().map(never_held),
                (_, Some(check)) => check(sim).err(),
            };
            found.extend(broken.map(|v| ViolationReport::new(p, sim, v)));
        }
        found.extend(self.overdue(sim, SimTime::MAX));
        found
    }

    /// Whether a goal judges `p` in its own window: an `AtEnd` property named as a liveness
    /// goal is not judged again at the end, where a correct protocol may just be changing its
    /// mind (a follower that missed two heartbeats starts an election in the run's last
    /// instant) after the goal saw it hold.
    fn judged_by_goal(&self, p: &Property<P>) -> bool {
        p.when == CheckWhen::AtEnd && self.goals.iter().any(|g| g.spec.condition == p.name)
    }

    /// How each goal turned out so far.
    pub fn goals(&self) -> Vec<GoalResult> {
        self.goals.iter().map(Goal::result).collect()
    }

    /// Whether each `Eventually` and `Sometimes` property was reached so far, in declaration
    /// order.
    pub fn reached(&self) -> Vec<Reached> {
        self.targets.results()
    }
}

/// The report of an invariant found broken. The whole check names the violation as it always
/// does; a node check's own finding is the fallback.
#[cold]
#[inline(never)]
fn broken_report<P: Process>(
    property: &Property<P>,
    sim: &Sim<P>,
    found: Violation,
) -> ViolationReport {
    ViolationReport::check(property, sim)
        .unwrap_or_else(|| ViolationReport::new(property, sim, found))
}

/// An `Eventually` condition that does not hold at the end and never held before.
fn never_held(at_end: Violation) -> Violation {
    Violation {
        message: format!("never held during the run; at its end: {}", at_end.message),
        nodes: at_end.nodes,
    }
}

/// Steps `sim` through every event up to `until`, checking the `Always` properties after each
/// one. Stops at the first violation and returns it; otherwise moves the clock to `until`.
///
/// Each call starts a fresh [`Checker`]: monitors lose their state between two calls, so
/// keep one `Checker` to step a run in slices.
pub fn step_checked<P: Process>(
    sim: &mut Sim<P>,
    until: SimTime,
    properties: &[Property<P>],
) -> Result<Option<ViolationReport>, SimError> {
    Checker::new(properties, CheckEvery::Event).step_until(sim, until)
}

/// Checks every property once, as at the end of a run, and asserts message conservation.
/// With no run behind it, a monitor has nothing to judge and an `Eventually` condition is
/// judged on this state alone.
pub fn check_at_end<P: Process>(sim: &Sim<P>, properties: &[Property<P>]) -> Vec<ViolationReport> {
    Checker::new(properties, CheckEvery::End).finish(sim)
}

/// Steps `sim` up to `end`, checking every `Always` property (and monitor) after each event,
/// then (if none failed) every property once at the end. Returns the violations found: the
/// first invariant broken stops the run; at the end, each failing property is reported.
///
/// This is the loop `faultline run` uses; call it to check a protocol from your own tests.
pub fn run_checked<P: Process>(
    sim: &mut Sim<P>,
    end: SimTime,
    properties: &[Property<P>],
) -> Result<Vec<ViolationReport>, SimError> {
    let mut checker = Checker::new(properties, CheckEvery::Event);
    if let Some(v) = checker.step_until(sim, end)? {
        return Ok(vec![v]);
    }
    Ok(checker.finish(sim))
}

#[cfg(test)]
mod tests;
