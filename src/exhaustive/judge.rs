//! Judging explored states with the protocol's own properties.
//!
//! Properties are functions of a [`Sim`]; the judge keeps one simulation that never runs and
//! loads each state into it, node by node, copying only the nodes that differ from what it
//! holds (a successor differs from its parent in one node). The judge's state is its own: the
//! explored states never carry anything for it.

use super::state::{Slot, State};
use crate::check::{CheckWhen, Property, ViolationReport};
use crate::engine::{Sim, SimBuilder};
use crate::ids::NodeId;
use crate::protocol::Protocol;
use crate::storage::Storage;
use std::sync::Arc;

/// What a property said of a state.
pub(crate) type Verdict = Option<ViolationReport>;

pub(crate) struct Judge<P: Protocol> {
    sim: Sim<P>,
    /// What node `i` of `sim` holds now.
    loaded: Vec<Option<Arc<Slot<P>>>>,
    /// Which storage node `i` of `sim` holds now: most events leave it as it was.
    loaded_storage: Vec<Option<Arc<Storage>>>,
    always: Vec<Property<P>>,
    at_end: Vec<Property<P>>,
    /// Coverage properties, and whether some state reached them.
    sometimes: Vec<(Property<P>, bool)>,
    /// Properties the search cannot judge: monitors, and conditions about a whole run.
    pub(crate) unjudged: Vec<&'static str>,
    /// States where nothing was left to happen, judged by the end-state properties.
    pub(crate) end_states: u64,
}

impl<P: Protocol> Judge<P> {
    pub(crate) fn new(
        names: &[String],
        properties: Vec<Property<P>>,
        factory: super::step::Factory<P>,
    ) -> Result<Self, String> {
        let sim = SimBuilder::new(0)
            .node_names(names.to_vec())
            .build(move |id| factory(id))
            .map_err(|e| e.to_string())?;
        let mut judge = Judge {
            sim,
            loaded: vec![None; names.len()],
            loaded_storage: vec![None; names.len()],
            always: Vec::new(),
            at_end: Vec::new(),
            sometimes: Vec::new(),
            unjudged: Vec::new(),
            end_states: 0,
        };
        for p in properties {
            match (p.when, p.state_check().is_some()) {
                (_, false) | (CheckWhen::Eventually, _) => judge.unjudged.push(p.name),
                (CheckWhen::Always, true) => judge.always.push(p),
                (CheckWhen::AtEnd, true) => judge.at_end.push(p),
                (CheckWhen::Sometimes, true) => judge.sometimes.push((p, false)),
            }
        }
        Ok(judge)
    }

    /// Makes the simulation hold `state`.
    fn load(&mut self, state: &State<P>) {
        for (i, slot) in state.nodes.iter().enumerate() {
            if self.loaded[i]
                .as_ref()
                .is_some_and(|l| Arc::ptr_eq(l, slot))
            {
                continue;
            }
            let id = NodeId(i as u32);
            let same_storage = match (&self.loaded_storage[i], &slot.storage) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                _ => false,
            };
            let storage = (!same_storage).then(|| slot.storage.as_deref());
            self.sim.load_node(id, slot.proc.clone(), storage);
            self.loaded[i] = Some(Arc::clone(slot));
            self.loaded_storage[i].clone_from(&slot.storage);
        }
        self.sim.set_now(state.time());
    }

    /// The first safety property `state` breaks, after noting the coverage it reaches.
    pub(crate) fn judge(&mut self, state: &State<P>) -> Verdict {
        if self.always.is_empty() && self.sometimes.iter().all(|(_, reached)| *reached) {
            return None;
        }
        self.load(state);
        for (p, reached) in &mut self.sometimes {
            if !*reached {
                *reached = ViolationReport::check(p, &self.sim).is_none();
            }
        }
        self.always
            .iter()
            .find_map(|p| ViolationReport::check(p, &self.sim))
    }

    /// The first end-state property that `state`, where nothing is left to happen, breaks.
    pub(crate) fn judge_end(&mut self, state: &State<P>) -> Verdict {
        self.end_states += 1;
        if self.at_end.is_empty() {
            return None;
        }
        self.load(state);
        self.at_end
            .iter()
            .find_map(|p| ViolationReport::check(p, &self.sim))
    }

    /// Every coverage property, and whether a state reached it.
    pub(crate) fn coverage(&self) -> Vec<(&'static str, bool)> {
        self.sometimes.iter().map(|(p, r)| (p.name, *r)).collect()
    }

    /// The invariants, judged in every state.
    pub(crate) fn invariants(&self) -> Vec<&'static str> {
        self.always.iter().map(|p| p.name).collect()
    }

    /// The end-state properties, judged where nothing is left to happen.
    pub(crate) fn end_properties(&self) -> Vec<&'static str> {
        self.at_end.iter().map(|p| p.name).collect()
    }

    /// Every property the search judges.
    pub(crate) fn judged(&self) -> Vec<&'static str> {
        let always = self.always.iter().chain(&self.at_end).map(|p| p.name);
        always
            .chain(self.sometimes.iter().map(|(p, _)| p.name))
            .collect()
    }
}
