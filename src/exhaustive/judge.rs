//! Judging explored states with the protocol's own properties.
//!
//! Properties are functions of a [`Sim`]; the judge keeps one simulation that never runs and
//! loads each state into it, node by node, copying only the nodes that differ from what it
//! holds (a successor differs from its parent in one node). The judge's state is its own: the
//! explored states never carry anything for it.

use super::clients::ModelClients;
use super::state::{Slot, State};
use crate::check::{CheckWhen, Property, ViolationReport, check_history_at};
use crate::engine::Touched;
use crate::engine::{Sim, SimBuilder};
use crate::ids::NodeId;
use crate::linearizability::fxhash::{FxHashMap, mix64};
use crate::protocol::Protocol;
use crate::storage::Storage;
use crate::time::SimTime;
use crate::workload::{Isolation, Model};
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
    /// The monitors that can be copied, as fresh for a run, with their properties.
    monitors: Vec<(Property<P>, Box<dyn crate::check::Monitor<P>>)>,
    /// Properties the search cannot judge: monitors that cannot be copied, and conditions
    /// about a whole run.
    pub(crate) unjudged: Vec<&'static str>,
    /// States where nothing was left to happen, judged by the end-state properties.
    pub(crate) end_states: u64,
    /// The checker of the clients' history, when there are clients and it is wanted.
    history: Option<HistoryJudge>,
}

/// Judges the clients' history with the workload's checker, in each state where it is one
/// not judged before (a history is part of the state: states of one history share it).
pub(crate) struct HistoryJudge {
    pub(crate) model: Model,
    pub(crate) isolation: Option<Isolation>,
    names: Vec<String>,
    /// The hashes of the clients' states whose histories passed.
    passed: FxHashMap<u64, ()>,
}

impl HistoryJudge {
    pub(crate) fn new(model: Model, isolation: Option<Isolation>) -> Self {
        HistoryJudge {
            model,
            isolation,
            names: Vec::new(),
            passed: FxHashMap::default(),
        }
    }

    fn judge(&mut self, clients: &ModelClients, end: SimTime) -> Verdict {
        if self.passed.contains_key(&clients.hash) {
            return None;
        }
        let log = &clients.clients.log;
        let check = check_history_at(self.model, self.isolation, log, &self.names, end);
        if check.violation.is_none() {
            self.passed.insert(clients.hash, ());
        }
        check.violation
    }
}

impl<P: Protocol> Judge<P> {
    pub(crate) fn new(
        names: &[String],
        properties: Vec<Property<P>>,
        factory: super::step::Factory<P>,
        history: Option<HistoryJudge>,
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
            monitors: Vec::new(),
            unjudged: Vec::new(),
            end_states: 0,
            history: history.map(|h| HistoryJudge {
                names: names.to_vec(),
                ..h
            }),
        };
        for p in properties {
            if let Some(monitor) = p.new_monitor().filter(|m| m.fork().is_some()) {
                judge.monitors.push((p, monitor));
                continue;
            }
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
        if let (Some(history), Some(clients)) = (&mut self.history, state.clients.as_deref())
            && let Some(v) = history.judge(clients, SimTime::from_millis(u64::from(state.depth)))
        {
            return Some(v);
        }
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

    /// Marks reached the coverage properties another judge saw reached.
    pub(crate) fn note_coverage(&mut self, reached: &[(&'static str, bool)]) {
        for ((p, mine), (name, theirs)) in self.sometimes.iter_mut().zip(reached) {
            debug_assert_eq!(
                p.name, *name,
                "judges of one search list the same properties"
            );
            *mine |= *theirs;
        }
    }

    /// Every coverage property, and whether a state reached it.
    pub(crate) fn coverage(&self) -> Vec<(&'static str, bool)> {
        self.sometimes.iter().map(|(p, r)| (p.name, *r)).collect()
    }

    /// The invariants, judged in every state: the state checks, the monitors, and the
    /// check of the clients' history.
    pub(crate) fn invariants(&self) -> Vec<&'static str> {
        let monitors = self.monitors.iter().map(|(p, _)| p.name);
        let history = self.history.as_ref().map(|h| h.model.check_name());
        let always = self.always.iter().map(|p| p.name).chain(monitors);
        always.chain(history).collect()
    }

    /// Gives the initial state fresh monitors, which observe it.
    pub(crate) fn start_monitors(&mut self, state: &mut State<P>) -> Verdict {
        if self.monitors.is_empty() {
            return None;
        }
        let fresh = self.monitors.iter().filter_map(|(_, m)| m.fork()).collect();
        state.monitors = Some(Arc::new(fresh));
        self.observe(state, Touched::All)
    }

    /// Lets the monitors `state` carries (its parent's) observe the event that led to it
    /// (`touched`), on copies that become the state's own.
    pub(crate) fn observe(&mut self, state: &mut State<P>, touched: Touched) -> Verdict {
        let parent = match (&state.monitors, touched) {
            (None, _) | (_, Touched::Nothing) => return None,
            (Some(parent), _) => Arc::clone(parent),
        };
        self.load(state);
        let mut copies = Vec::with_capacity(parent.len());
        let mut hash = 0u64;
        for (monitor, (property, _)) in parent.iter().zip(&self.monitors) {
            let mut copy = monitor.fork().expect("only monitors that fork are kept");
            if let Err(violation) = copy.observe(&self.sim, touched) {
                return Some(ViolationReport::new(property, &self.sim, violation));
            }
            hash = mix64(hash ^ copy.fingerprint());
            copies.push(copy);
        }
        state.monitors = Some(Arc::new(copies));
        state.monitor_hash = hash;
        None
    }

    /// Whether states carry monitors: their fingerprints then need the monitors' verdict.
    pub(crate) fn has_monitors(&self) -> bool {
        !self.monitors.is_empty()
    }

    /// Whether every monitor ends in the same state whichever order it observes two
    /// independent events in.
    pub(crate) fn monitors_commute(&self) -> bool {
        self.monitors.iter().all(|(_, m)| m.commutes())
    }

    /// The end-state properties, judged where nothing is left to happen.
    pub(crate) fn end_properties(&self) -> Vec<&'static str> {
        self.at_end.iter().map(|p| p.name).collect()
    }

    /// Every property the search judges (the check of the clients' history aside).
    pub(crate) fn judged(&self) -> Vec<&'static str> {
        let always = self.always.iter().chain(&self.at_end).map(|p| p.name);
        always
            .chain(self.sometimes.iter().map(|(p, _)| p.name))
            .collect()
    }

    /// The checker of the clients' history, if the search judges one.
    pub(crate) fn history(&self) -> Option<(Model, Option<Isolation>)> {
        self.history.as_ref().map(|h| (h.model, h.isolation))
    }
}
