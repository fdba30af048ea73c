//! Conditions a run must reach rather than keep: `Eventually` properties (the run fails
//! without them) and `Sometimes` properties (coverage, judged over a sweep).

use super::{CheckWhen, Property, StateCheck};
use crate::engine::Sim;
use crate::process::Process;
use crate::time::SimTime;
use serde::Serialize;

/// Whether an `Eventually` or `Sometimes` property was reached in a run, and when first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reached {
    pub name: &'static str,
    pub when: CheckWhen,
    /// When the condition was first seen to hold; `None` if it never did.
    pub at_ns: Option<u64>,
}

impl Reached {
    /// `reached` or `not_reached`: what a report shows for a `Sometimes` property.
    pub fn status(&self) -> &'static str {
        match self.at_ns {
            Some(_) => "reached",
            None => "not_reached",
        }
    }
}

/// One condition to reach, with the index of its property in the declared list.
struct Target<P: Process> {
    index: usize,
    name: &'static str,
    when: CheckWhen,
    check: StateCheck<P>,
    at: Option<SimTime>,
}

/// The conditions of a run's `Eventually` and `Sometimes` properties; each is judged until
/// it first holds, then never again.
pub(super) struct Targets<P: Process> {
    list: Vec<Target<P>>,
    /// How many have not held yet: with none, observing costs one comparison.
    open: usize,
}

impl<P: Process> Targets<P> {
    pub(super) fn new(properties: &[Property<P>]) -> Self {
        let list: Vec<Target<P>> = properties
            .iter()
            .enumerate()
            .filter(|(_, p)| matches!(p.when, CheckWhen::Eventually | CheckWhen::Sometimes))
            .filter_map(|(index, p)| {
                Some(Target {
                    index,
                    name: p.name,
                    when: p.when,
                    check: p.state_check()?,
                    at: None,
                })
            })
            .collect();
        let open = list.len();
        Targets { list, open }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Judges every condition not reached yet on the simulation as it stands.
    pub(super) fn observe(&mut self, sim: &Sim<P>) {
        if self.open == 0 {
            return;
        }
        for target in self.list.iter_mut().filter(|t| t.at.is_none()) {
            if (target.check)(sim).is_ok() {
                target.at = Some(sim.now());
                self.open -= 1;
            }
        }
    }

    /// Whether the property at `index` is a condition to reach that was reached.
    pub(super) fn was_reached(&self, index: usize) -> bool {
        self.list.iter().any(|t| t.index == index && t.at.is_some())
    }

    pub(super) fn results(&self) -> Vec<Reached> {
        self.list
            .iter()
            .map(|t| Reached {
                name: t.name,
                when: t.when,
                at_ns: t.at.map(|t| t.0),
            })
            .collect()
    }
}
