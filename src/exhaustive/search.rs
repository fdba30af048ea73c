//! Breadth-first (or depth-first) search over fingerprints.
//!
//! The frontier holds whole states (sharing their unchanged nodes and messages); the visited
//! table holds, per state seen, its 64-bit fingerprint and where it came from (the index of
//! its parent and the event), 24 bytes or so, from which a counterexample is rebuilt by
//! running its events again from the start. Two different states with one fingerprint
//! would make the search skip the second: with `n` states that happens with probability
//! about n² / 2⁶⁵, under one in a million for ten million states.

use super::judge::Judge;
use super::path::{Counterexample, Step, describe};
use super::sleep::{Revisit, Sleeper, Visited};
use super::state::State;
use super::step::{Choice, Machine, touched};
use super::{Budgets, Explorer, Order};
use crate::check::ViolationReport;
use crate::protocol::Protocol;
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::Arc;

/// How a search ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every state reachable within the budgets and the depth was seen; none broke a property.
    Exhausted,
    /// A state broke a property.
    Violation,
    /// A limit (`states_max`, or the caller) stopped the search before it was done.
    Budget,
}

/// The search as it goes, for a progress line.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    /// Transitions tried.
    pub states: u64,
    pub unique_states: u64,
    pub depth: u32,
    pub frontier: u64,
}

/// What a search found.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    pub verdict: Verdict,
    /// Transitions tried: each leads to a state, seen before or not.
    pub states: u64,
    pub unique_states: u64,
    /// The deepest state seen, in events from the start.
    pub depth_max: u32,
    /// Whether `depth_max` left states unexpanded: then "exhausted" means "to that depth".
    pub depth_cut: bool,
    /// Breadth first (a violation's path is a shortest one) or depth first.
    pub order: Order,
    /// Whether sleep sets skipped transitions (see [`super::Explorer::reduction`]).
    pub reduction: bool,
    pub budgets: Budgets,
    /// The invariants, judged in every state.
    pub invariants: Vec<&'static str>,
    /// The end-state properties, judged in every state where nothing was left to happen.
    pub end_properties: Vec<&'static str>,
    /// How many such states the search met: with none, no end-state property was judged.
    pub end_states: u64,
    /// Properties a search cannot judge (monitors, `eventually` conditions).
    pub unjudged: Vec<&'static str>,
    /// Each coverage property, and whether some state reached it.
    pub coverage: Vec<(&'static str, bool)>,
    /// The shortest path to the violation found, if one was.
    #[serde(rename = "path")]
    pub counterexample: Option<Counterexample>,
}

/// A search that could not run.
#[derive(Debug, thiserror::Error)]
pub enum ExploreError {
    #[error("{0}")]
    Limit(String),
    #[error("cannot build the nodes: {0}")]
    Build(String),
}

/// Unique states between two progress calls.
const PROGRESS_EVERY: u64 = 1 << 14;

/// Where a visited state came from: its parent's index and the event.
#[derive(Clone, Copy)]
pub(super) struct Origin {
    pub(super) parent: u32,
    pub(super) choice: Choice,
}

pub(super) struct Search<P: Protocol> {
    pub(super) names: Arc<[String]>,
    machine: Machine<P>,
    pub(super) judge: Judge<P>,
    pub(super) budgets: Budgets,
    pub(super) states_max: u64,
    pub(super) depth_max: u32,
    /// The fingerprints seen, and the transitions asleep in each state.
    pub(super) visited: Visited,
    origins: Vec<Origin>,
    /// Whether sleep sets cut transitions (see [`super::sleep`]).
    pub(super) reduce: bool,
    pub(super) states: u64,
    pub(super) depth_seen: u32,
    pub(super) depth_cut: bool,
    order: Order,
    /// Threads expanding states, and what each needs to build its own handlers and judge.
    pub(super) jobs: u32,
    pub(super) plan: super::parallel::Plan<P>,
}

impl<P: Protocol> Search<P> {
    pub(super) fn new(explorer: Explorer<P>) -> Result<Self, ExploreError> {
        let (clients, history) = (explorer.clients(), explorer.history_judge());
        let names: Arc<[String]> = explorer.names.into();
        let plan = super::parallel::Plan {
            names: Arc::clone(&names),
            factory: Arc::clone(&explorer.factory),
            properties: explorer.properties.clone(),
            history: history.as_ref().map(|h| (h.model, h.isolation)),
        };
        let factory = Arc::clone(&explorer.factory);
        let judge = Judge::new(&names, explorer.properties, factory, history)
            .map_err(ExploreError::Build)?;
        let commutes = judge.monitors_commute();
        Ok(Search {
            machine: Machine::new(Arc::clone(&names), explorer.factory, clients),
            names,
            judge,
            budgets: explorer.budgets,
            states_max: explorer.states_max,
            depth_max: explorer.depth_max,
            visited: Visited::default(),
            origins: Vec::new(),
            reduce: explorer.reduction && commutes,
            states: 0,
            depth_seen: 0,
            depth_cut: false,
            order: explorer.order,
            jobs: explorer.jobs,
            plan,
        })
    }

    pub(super) fn run(
        mut self,
        progress: &mut dyn FnMut(&Progress) -> bool,
    ) -> Result<Outcome, ExploreError> {
        let found = self.search(progress);
        let verdict = match &found {
            Found::Failed(why) => return Err(ExploreError::Build(why.clone())),
            Found::Violation(..) => Verdict::Violation,
            Found::Stopped => Verdict::Budget,
            Found::Nothing => Verdict::Exhausted,
        };
        let counterexample = match found {
            Found::Violation(index, violation) => Some(self.counterexample(index, violation)),
            _ => None,
        };
        Ok(Outcome {
            verdict,
            states: self.states,
            unique_states: self.origins.len() as u64,
            depth_max: self.depth_seen,
            depth_cut: self.depth_cut,
            order: self.order,
            reduction: self.reduce,
            budgets: self.budgets,
            invariants: self.judge.invariants(),
            end_properties: self.judge.end_properties(),
            end_states: self.judge.end_states,
            unjudged: self.judge.unjudged.clone(),
            coverage: self.judge.coverage(),
            counterexample,
        })
    }

    /// Visits a new state, with the transitions `asleep` in it: its index, or `None` if it
    /// was seen before.
    pub(super) fn visit(
        &mut self,
        fingerprint: u64,
        origin: Origin,
        asleep: &[Sleeper],
    ) -> Option<u32> {
        let index = self.visited.insert(fingerprint, asleep)?;
        self.origins.push(origin);
        debug_assert_eq!(self.origins.len(), self.visited.len());
        Some(index)
    }

    fn search(&mut self, progress: &mut dyn FnMut(&Progress) -> bool) -> Found {
        let root = Origin {
            parent: u32::MAX,
            choice: Choice::Drop(0),
        };
        let mut initial = match self.machine.initial() {
            Ok(state) => state,
            Err(panic) => return Found::Violation(u32::MAX, panic_report(panic.0)),
        };
        let monitored = self.judge.start_monitors(&mut initial);
        self.visit(initial.fingerprint(), root, &[]);
        if let Some(v) = monitored.or_else(|| self.judge.judge(&initial)) {
            return Found::Violation(0, v);
        }
        match self.jobs {
            1 => self.search_one_thread(initial, progress),
            _ => self.search_levels(initial, progress),
        }
    }

    /// From `initial` (judged already), in `self.order`, on this thread.
    fn search_one_thread(
        &mut self,
        initial: State<P>,
        progress: &mut dyn FnMut(&Progress) -> bool,
    ) -> Found {
        let mut frontier = VecDeque::from([Pending {
            state: initial,
            index: 0,
            retry: None,
        }]);
        let mut choices = Vec::new();
        let mut sleep = SleepBuffers::default();
        let mut next_report = PROGRESS_EVERY;
        let depth_first = self.order == Order::DepthFirst;
        while let Some(pending) = match depth_first {
            true => frontier.pop_back(),
            false => frontier.pop_front(),
        } {
            let (state, index) = (&pending.state, pending.index);
            let depth = state.depth;
            self.depth_seen = self.depth_seen.max(depth);
            if depth >= self.depth_max {
                self.depth_cut = true;
                continue;
            }
            self.machine.choices(state, &self.budgets, &mut choices);
            match &pending.retry {
                Some(retry) => sleep.begin(&retry.asleep),
                None => {
                    self.visited.expand(index, &mut sleep.asleep);
                    sleep.tried.clear();
                    if state.quiescent()
                        && let Some(v) = self.judge.judge_end(state)
                    {
                        return Found::Violation(index, v);
                    }
                }
            }
            for &choice in &choices {
                let event = self.reduce.then(|| Sleeper::of(state, choice));
                if event.is_some_and(|e| sleep.skips(&e, pending.retry.as_deref())) {
                    continue;
                }
                self.states += 1;
                let origin = Origin {
                    parent: index,
                    choice,
                };
                let next = successor(
                    &mut self.machine,
                    &mut self.judge,
                    &self.visited,
                    state,
                    choice,
                    event.map(|e| sleep.taking(e)),
                );
                if let Some(found) = self.take(next, origin, &sleep.next, &mut frontier) {
                    return found;
                }
            }
            if self.origins.len() as u64 >= next_report {
                next_report += PROGRESS_EVERY;
                let now = Progress {
                    states: self.states,
                    unique_states: self.origins.len() as u64,
                    depth,
                    frontier: frontier.len() as u64,
                };
                if !progress(&now) {
                    return Found::Stopped;
                }
            }
        }
        Found::Nothing
    }

    /// Records what one transition gave: a new state to expand (after judging it), a state
    /// seen before with transitions to try again, or what ends the search.
    fn take(
        &mut self,
        next: Next<P>,
        origin: Origin,
        asleep: &[Sleeper],
        frontier: &mut VecDeque<Pending<P>>,
    ) -> Option<Found> {
        match next {
            Next::Seen => None,
            Next::Found(v) => Some(self.found_at(origin, v)),
            Next::Again(state, fingerprint) => {
                if let Some(retry) = self.revisit(state, fingerprint, asleep) {
                    frontier.push_back(retry);
                }
                None
            }
            Next::New(state, fingerprint) => {
                if self.origins.len() as u64 >= self.states_max {
                    return Some(Found::Stopped);
                }
                // Not in the table: `successor` looked, and nothing was added since.
                let at = self.visit(fingerprint, origin, asleep)?;
                self.depth_seen = self.depth_seen.max(state.depth);
                if let Some(v) = self.judge.judge(&state) {
                    return Some(Found::Violation(at, v));
                }
                frontier.push_back(Pending {
                    state,
                    index: at,
                    retry: None,
                });
                None
            }
        }
    }

    /// A state seen before, reached again with `asleep`: to expand again if transitions
    /// woke up. Its depth is that of the path the search keeps to it.
    pub(super) fn revisit(
        &mut self,
        mut state: State<P>,
        fingerprint: u64,
        asleep: &[Sleeper],
    ) -> Option<Pending<P>> {
        let (index, revisit) = self.visited.revisit(fingerprint, asleep);
        let Revisit::Retry(woken) = revisit else {
            return None;
        };
        let mut at = index;
        state.depth = 0;
        while self.origins[at as usize].parent != u32::MAX {
            state.depth += 1;
            at = self.origins[at as usize].parent;
        }
        Some(Pending {
            state,
            index,
            retry: Some(Retry::boxed(asleep.to_vec(), woken)),
        })
    }

    /// A violation in a state reached by `origin`, which is recorded for the path to it.
    pub(super) fn found_at(&mut self, origin: Origin, violation: ViolationReport) -> Found {
        let at = self.origins.len() as u32;
        self.origins.push(origin);
        Found::Violation(at, violation)
    }

    /// The path to state `index`, run again from the start to describe each event.
    fn counterexample(&mut self, index: u32, violation: ViolationReport) -> Counterexample {
        let mut choices = Vec::new();
        let mut at = index;
        while at != u32::MAX && self.origins[at as usize].parent != u32::MAX {
            let origin = self.origins[at as usize];
            choices.push(origin.choice);
            at = origin.parent;
        }
        choices.reverse();
        self.machine.keep_notes();
        let mut steps = Vec::with_capacity(choices.len());
        let Ok(mut state) = self.machine.initial() else {
            return Counterexample { violation, steps };
        };
        // What the nodes noted as they booted belongs to no step.
        self.machine.take_notes();
        for choice in choices {
            let event = describe(&state, choice, &self.names);
            let next = self.machine.apply(&state, choice);
            let notes = super::path::note_texts(self.machine.take_notes());
            self.machine.take_replied();
            steps.push(Step { event, notes });
            match next {
                Ok(next) => state = next,
                Err(_) => break,
            }
        }
        Counterexample { violation, steps }
    }
}

/// The state `choice` leads to from `state`, unless it was seen before with nothing left to
/// try, or breaks a monitor (or a handler panicked). With `sleep` (the buffers and `choice`
/// as sleep sets know it), the transitions asleep in the successor are left in `sleep.next`,
/// and `choice` joins those tried.
pub(super) fn successor<P: Protocol>(
    machine: &mut Machine<P>,
    judge: &mut Judge<P>,
    visited: &Visited,
    state: &State<P>,
    choice: Choice,
    sleep: Option<(&mut SleepBuffers, Sleeper)>,
) -> Next<P> {
    let delta = match machine.delta(state, choice) {
        Ok(delta) => delta,
        Err(panic) => return Next::Found(panic_report(panic.0)),
    };
    let asleep: &[Sleeper] = match sleep {
        Some((sleep, event)) => {
            let taken = event.replied(delta.clients.is_some());
            super::sleep::after(&sleep.asleep, &sleep.tried, &taken, &mut sleep.next);
            sleep.tried.push(taken);
            &sleep.next
        }
        None => &[],
    };
    if !judge.has_monitors() {
        let fingerprint = state.fingerprint_after(&delta);
        if visited.covers(fingerprint, asleep) {
            return Next::Seen;
        }
        let next = state.with(delta);
        debug_assert_eq!(next.fingerprint(), fingerprint);
        return match visited.contains(fingerprint) {
            true => Next::Again(next, fingerprint),
            false => Next::New(next, fingerprint),
        };
    }
    // The monitors' ghost state is part of the state: they observe before it is known.
    let touched = touched(state, choice);
    let mut next = state.with(delta);
    if let Some(v) = judge.observe(&mut next, touched) {
        return Next::Found(v);
    }
    let fingerprint = next.fingerprint();
    if visited.covers(fingerprint, asleep) {
        Next::Seen
    } else if visited.contains(fingerprint) {
        Next::Again(next, fingerprint)
    } else {
        Next::New(next, fingerprint)
    }
}

/// What one choice from a state gives.
pub(super) enum Next<P: Protocol> {
    /// A state seen before, with nothing left to try there.
    Seen,
    /// A new state, and its fingerprint.
    New(State<P>, u64),
    /// A state seen before, reached with fewer transitions asleep than it had.
    Again(State<P>, u64),
    /// A violation (or a panic) on the way.
    Found(ViolationReport),
}

/// A state waiting to be expanded.
pub(super) struct Pending<P: Protocol> {
    pub(super) state: State<P>,
    /// Its index in the visited table.
    pub(super) index: u32,
    /// For a state expanded before: what to try again, and what is asleep now.
    pub(super) retry: Option<Box<Retry>>,
}

/// A state expanded before and reached again with fewer transitions asleep.
pub(super) struct Retry {
    /// What is asleep on the new path.
    pub(super) asleep: Vec<Sleeper>,
    /// What was asleep before and is not now: the only transitions to try.
    woken: Vec<Sleeper>,
}

/// The sleep sets of one expansion, reused from state to state.
#[derive(Default)]
pub(super) struct SleepBuffers {
    /// Asleep in the state expanded.
    pub(super) asleep: Vec<Sleeper>,
    /// Tried from it so far.
    tried: Vec<Sleeper>,
    /// Asleep in the successor just made.
    pub(super) next: Vec<Sleeper>,
}

impl Retry {
    pub(super) fn boxed(asleep: Vec<Sleeper>, woken: Vec<Sleeper>) -> Box<Retry> {
        Box::new(Retry { asleep, woken })
    }
}

impl SleepBuffers {
    /// Starts the expansion of a state with `asleep`.
    pub(super) fn begin(&mut self, asleep: &[Sleeper]) {
        self.asleep.clear();
        self.asleep.extend_from_slice(asleep);
        self.tried.clear();
    }

    /// Whether `event` is not to be tried: it is asleep, or this is a retry and it is not one
    /// of the transitions woken.
    pub(super) fn skips(&self, event: &Sleeper, retry: Option<&Retry>) -> bool {
        let asleep = self.asleep.iter().any(|z| z.same(event));
        asleep || retry.is_some_and(|r| !r.woken.iter().any(|z| z.same(event)))
    }

    /// These buffers, for [`successor`] to take `event` with.
    pub(super) fn taking(&mut self, event: Sleeper) -> (&mut SleepBuffers, Sleeper) {
        (self, event)
    }
}

/// How the search loop ended.
pub(super) enum Found {
    /// The state at this index broke a property.
    Violation(u32, ViolationReport),
    Stopped,
    Nothing,
    /// A thread could not build what it needed.
    Failed(String),
}

/// A handler's panic, as a violation of a property of its own.
pub(super) fn panic_report(message: String) -> ViolationReport {
    ViolationReport {
        property: "no_panic".to_string(),
        time_ns: 0,
        time: crate::time::SimTime::ZERO,
        nodes: Vec::new(),
        message: format!("a handler panicked: {message}"),
        event: None,
        ops: Vec::new(),
    }
}
