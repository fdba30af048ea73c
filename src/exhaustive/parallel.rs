//! Breadth-first search on several threads, level by level.
//!
//! Each level is cut into batches, and each batch into one contiguous share per thread. A
//! thread expands its share with handlers and a judge of its own, against the states seen
//! before the batch (and the ones it made itself), and the main thread merges the shares in
//! order into the visited table. So the search visits states in the order one thread would,
//! and reports the same states, the same violation and the same path whatever the threads'
//! timing; only a search stopped early may have judged a few states more.
//!
//! With sleep sets, the transitions asleep in each state of a level are read when the level
//! starts, and a state of the level reached again with fewer asleep has the difference tried
//! in the next level. So a search on several threads visits the same states as one thread,
//! whatever their number, though it may try a few transitions more or fewer.

use super::judge::{HistoryJudge, Judge};
use super::search::{Found, Next, Origin, Pending, Progress, Search, SleepBuffers, successor};
use super::sleep::{Sleeper, Visited};
use super::state::State;
use super::step::{Choice, Factory, Machine};
use crate::check::{Property, ViolationReport};
use crate::linearizability::fxhash::FxHashMap;
use crate::protocol::Protocol;
use crate::workload::{Isolation, Model};
use std::sync::Arc;

/// States each thread expands between two merges.
const SHARE_STATES_MAX: usize = 4096;

/// What a thread needs to build its own handlers and judge.
pub(super) struct Plan<P: Protocol> {
    pub(super) names: Arc<[String]>,
    pub(super) factory: Factory<P>,
    pub(super) properties: Vec<Property<P>>,
    pub(super) history: Option<(Model, Option<Isolation>)>,
}

/// One state of a batch, expanded.
struct Expanded<P: Protocol> {
    /// The state's index in the visited table.
    index: u32,
    /// Its successors tried (each a transition).
    tried: u64,
    /// What the end-state properties said, when nothing was left to happen there.
    end: Option<ViolationReport>,
    /// The successors not seen before (or with transitions to try again), in the order of
    /// the choices.
    next: Vec<Successor<P>>,
}

struct Successor<P: Protocol> {
    choice: Choice,
    /// Its place among the state's choices: a search that stops at it has tried this many
    /// before it.
    position: u32,
    fingerprint: u64,
    /// The state and what the invariants said of it (if it was judged: a state seen before
    /// is not), or a violation on the way.
    result: Result<(State<P>, Option<ViolationReport>), ViolationReport>,
    /// The transitions asleep in it.
    asleep: Vec<Sleeper>,
}

/// The transitions asleep in each state of a level, as the level starts.
struct LevelSleep {
    asleep: Vec<Sleeper>,
    /// Per state of the level, its range in `asleep`.
    ranges: Vec<(u32, u32)>,
}

/// What one thread did with its share.
struct Share<P: Protocol> {
    expanded: Vec<Expanded<P>>,
    coverage: Vec<(&'static str, bool)>,
    end_states: u64,
}

impl<P: Protocol> Search<P> {
    /// Breadth first from `initial` (judged already), `self.jobs` threads at a time.
    pub(super) fn search_levels(
        &mut self,
        initial: State<P>,
        progress: &mut dyn FnMut(&Progress) -> bool,
    ) -> Found {
        let mut level = vec![Pending {
            state: initial,
            index: 0,
            retry: None,
        }];
        let mut depth = 0u32;
        let batch = SHARE_STATES_MAX * self.jobs as usize;
        while !level.is_empty() {
            self.depth_seen = self.depth_seen.max(depth);
            if depth >= self.depth_max {
                self.depth_cut = true;
                break;
            }
            let sleep = self.level_sleep(&level);
            let mut next_level = Vec::new();
            for (at, states) in level.chunks(batch).enumerate() {
                let ranges = &sleep.ranges[at * batch..at * batch + states.len()];
                let shares = match self.expand(states, &sleep.asleep, ranges) {
                    Ok(shares) => shares,
                    Err(why) => return Found::Failed(why),
                };
                if let Some(found) = self.merge(shares, &mut next_level) {
                    return found;
                }
                let now = Progress {
                    states: self.states,
                    unique_states: self.visited.len() as u64,
                    depth,
                    frontier: (level.len().saturating_sub((at + 1) * batch) + next_level.len())
                        as u64,
                };
                if !progress(&now) {
                    return Found::Stopped;
                }
            }
            level = next_level;
            depth += 1;
        }
        Found::Nothing
    }

    /// Marks the states of `level` expanded, and reads what is asleep in each.
    fn level_sleep(&mut self, level: &[Pending<P>]) -> LevelSleep {
        let mut sleep = LevelSleep {
            asleep: Vec::new(),
            ranges: Vec::with_capacity(level.len()),
        };
        let mut one = Vec::new();
        for pending in level {
            match &pending.retry {
                Some(retry) => one.clone_from(&retry.asleep),
                None => self.visited.expand(pending.index, &mut one),
            }
            let start = sleep.asleep.len() as u32;
            sleep.asleep.extend_from_slice(&one);
            sleep.ranges.push((start, sleep.asleep.len() as u32));
        }
        sleep
    }

    /// Expands `states` on the threads, one contiguous share each: the shares in order.
    fn expand(
        &self,
        states: &[Pending<P>],
        asleep: &[Sleeper],
        ranges: &[(u32, u32)],
    ) -> Result<Vec<Share<P>>, String> {
        let share_len = states.len().div_ceil(self.jobs as usize).max(1);
        let expander = Expander {
            plan: &self.plan,
            visited: &self.visited,
            budgets: self.budgets,
            reduce: self.reduce,
            asleep,
        };
        let expander = &expander;
        std::thread::scope(|scope| {
            let threads: Vec<_> = states
                .chunks(share_len)
                .zip(ranges.chunks(share_len))
                .map(|(share, ranges)| scope.spawn(move || expander.expand_share(share, ranges)))
                .collect();
            // A property that panics ends the search as it would on one thread.
            let joined = threads.into_iter().map(|t| match t.join() {
                Ok(share) => share,
                Err(panic) => std::panic::resume_unwind(panic),
            });
            joined.collect()
        })
    }

    /// Merges the shares in order into the visited table and `next_level`: what ended the
    /// search, if something did.
    fn merge(&mut self, shares: Vec<Share<P>>, next_level: &mut Vec<Pending<P>>) -> Option<Found> {
        for share in &shares {
            self.judge.note_coverage(&share.coverage);
            self.judge.end_states += share.end_states;
        }
        for expanded in shares.into_iter().flat_map(|s| s.expanded) {
            if let Some(v) = expanded.end {
                return Some(Found::Violation(expanded.index, v));
            }
            let tried_before = self.states;
            for successor in expanded.next {
                let origin = Origin {
                    parent: expanded.index,
                    choice: successor.choice,
                };
                // Counted as one thread counts them, should the search stop here.
                self.states = tried_before + u64::from(successor.position) + 1;
                let (state, verdict) = match successor.result {
                    Ok(judged) => judged,
                    Err(v) => return Some(self.found_at(origin, v)),
                };
                let (fingerprint, asleep) = (successor.fingerprint, &successor.asleep);
                if self.visited.contains(fingerprint) {
                    next_level.extend(self.revisit(state, fingerprint, asleep));
                    continue;
                }
                if self.visited.len() as u64 >= self.states_max {
                    return Some(Found::Stopped);
                }
                let Some(at) = self.visit(fingerprint, origin, asleep) else {
                    continue;
                };
                self.depth_seen = self.depth_seen.max(state.depth);
                if let Some(v) = verdict {
                    return Some(Found::Violation(at, v));
                }
                next_level.push(Pending {
                    state,
                    index: at,
                    retry: None,
                });
            }
            self.states = tried_before + expanded.tried;
        }
        None
    }
}

/// What the threads of one batch share.
struct Expander<'a, P: Protocol> {
    plan: &'a Plan<P>,
    visited: &'a Visited,
    budgets: super::Budgets,
    reduce: bool,
    /// What is asleep in the states of the level.
    asleep: &'a [Sleeper],
}

impl<P: Protocol> Expander<'_, P> {
    /// Expands `share` on this thread, with handlers and a judge of its own.
    fn expand_share(
        &self,
        share: &[Pending<P>],
        ranges: &[(u32, u32)],
    ) -> Result<Share<P>, String> {
        let plan = self.plan;
        let history = plan.history.map(|(m, i)| HistoryJudge::new(m, i));
        let factory = Arc::clone(&plan.factory);
        let mut judge = Judge::new(&plan.names, plan.properties.clone(), factory, history)?;
        let mut machine = Machine::new(Arc::clone(&plan.names), Arc::clone(&plan.factory), None);
        // States this thread made: a second copy is not judged twice.
        let mut made: FxHashMap<u64, ()> = FxHashMap::default();
        let mut choices = Vec::new();
        let mut sleep = SleepBuffers::default();
        let mut expanded = Vec::with_capacity(share.len());
        for (pending, &(start, end)) in share.iter().zip(ranges) {
            let state = &pending.state;
            machine.choices(state, &self.budgets, &mut choices);
            let end_check = pending.retry.is_none() && state.quiescent();
            let end_verdict = end_check.then(|| judge.judge_end(state)).flatten();
            sleep.begin(&self.asleep[start as usize..end as usize]);
            let mut next = Vec::new();
            let mut tried = 0;
            for &choice in &choices {
                let event = self.reduce.then(|| Sleeper::of(state, choice));
                if event.is_some_and(|e| sleep.skips(&e, pending.retry.as_deref())) {
                    continue;
                }
                tried += 1;
                let step = successor(
                    &mut machine,
                    &mut judge,
                    self.visited,
                    state,
                    choice,
                    event.map(|e| sleep.taking(e)),
                );
                let (fingerprint, result) = match step {
                    Next::Seen => continue,
                    Next::Found(v) => (0, Err(v)),
                    Next::Again(state, fingerprint) => (fingerprint, Ok((state, None))),
                    Next::New(state, fingerprint) if made.contains_key(&fingerprint) => {
                        (fingerprint, Ok((state, None)))
                    }
                    Next::New(state, fingerprint) => {
                        made.insert(fingerprint, ());
                        let verdict = judge.judge(&state);
                        (fingerprint, Ok((state, verdict)))
                    }
                };
                next.push(Successor {
                    choice,
                    position: tried - 1,
                    fingerprint,
                    result,
                    asleep: sleep.next.clone(),
                });
            }
            expanded.push(Expanded {
                index: pending.index,
                tried: u64::from(tried),
                end: end_verdict,
                next,
            });
        }
        Ok(Share {
            expanded,
            coverage: judge.coverage(),
            end_states: judge.end_states,
        })
    }
}
