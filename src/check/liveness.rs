//! Liveness goals: a condition that must come to hold within a bound after a point in time,
//! e.g. "every value reached every live node within 2 s after the partition healed".

use super::{StateCheck, ViolationReport};
use crate::engine::Sim;
use crate::process::Process;
use crate::time::{SimDuration, SimTime};
use serde::Serialize;

/// `condition` must hold at some instant between `from` and `from + within`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Eventually {
    /// The name of one of the protocol's properties, used as the condition.
    pub condition: String,
    pub from: SimTime,
    pub within: SimDuration,
    /// What `from` is, in words: "the last fault (at 3s)".
    pub after: String,
}

impl Eventually {
    pub fn deadline(&self) -> SimTime {
        self.from + self.within
    }
}

/// How a goal turned out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GoalResult {
    pub condition: String,
    pub after: String,
    pub within_ns: u64,
    pub deadline_ns: u64,
    /// When the condition was first seen to hold, if it was.
    pub held_at_ns: Option<u64>,
    /// `held`, `failed`, or `pending` (the run stopped before the deadline).
    pub status: &'static str,
}

pub(crate) struct Goal<P: Process> {
    pub(crate) spec: Eventually,
    /// The condition's property, judged on states.
    pub(crate) check: StateCheck<P>,
    pub(crate) held_at: Option<SimTime>,
    pub(crate) failed: bool,
}

impl<P: Process> Goal<P> {
    pub(crate) fn pending(&self) -> bool {
        self.held_at.is_none() && !self.failed
    }

    /// Evaluates the condition now if the goal is open; records when it first holds.
    pub(crate) fn observe(&mut self, sim: &Sim<P>) {
        let now = sim.now();
        let open = self.pending() && now >= self.spec.from && now <= self.spec.deadline();
        if open && (self.check)(sim).is_ok() {
            self.held_at = Some(now);
        }
    }

    /// The goal's violation if its deadline passes before `next` and it never held. The state
    /// now is the state at the deadline (nothing happens in between), so it is judged on it.
    pub(crate) fn overdue(&mut self, sim: &Sim<P>, next: SimTime) -> Option<ViolationReport> {
        let deadline = self.spec.deadline();
        if !self.pending() || next <= deadline || sim.now() < self.spec.from.min(deadline) {
            return None;
        }
        let verdict = (self.check)(sim);
        match verdict {
            Ok(()) => {
                self.held_at = Some(sim.now().max(self.spec.from));
                None
            }
            Err(violation) => {
                self.failed = true;
                Some(ViolationReport {
                    event: None,
                    ops: Vec::new(),
                    property: self.spec.condition.clone(),
                    time_ns: deadline.0,
                    time: deadline,
                    nodes: violation
                        .nodes
                        .iter()
                        .map(|&n| sim.node_name(n).to_string())
                        .collect(),
                    message: format!(
                        "still not true {} after {} (by {deadline}): {}",
                        self.spec.within, self.spec.after, violation.message
                    ),
                })
            }
        }
    }

    pub(crate) fn result(&self) -> GoalResult {
        let status = match (self.held_at, self.failed) {
            (Some(_), _) => "held",
            (None, true) => "failed",
            (None, false) => "pending",
        };
        GoalResult {
            condition: self.spec.condition.clone(),
            after: self.spec.after.clone(),
            within_ns: self.spec.within.0,
            deadline_ns: self.spec.deadline().0,
            held_at_ns: self.held_at.map(|t| t.0),
            status,
        }
    }
}
