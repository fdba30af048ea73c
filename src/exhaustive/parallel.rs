//! Breadth-first search on several threads, level by level.
//!
//! Each level is cut into batches, and each batch into one contiguous share per thread. A
//! thread expands its share with handlers and a judge of its own, against the states seen
//! before the batch (and the ones it made itself), and the main thread merges the shares in
//! order into the visited table. So the search visits states in the order one thread would,
//! and reports the same states, the same violation and the same path whatever the threads'
//! timing; only a search stopped early may have judged a few states more.

use super::judge::{HistoryJudge, Judge};
use super::search::{Found, Next, Origin, Progress, Search, successor};
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
    /// The successors not seen before, in the order of the choices.
    next: Vec<Successor<P>>,
}

struct Successor<P: Protocol> {
    choice: Choice,
    /// Its place among the state's choices: a search that stops at it has tried this many
    /// before it.
    position: u32,
    fingerprint: u64,
    /// The state and what the invariants said of it, or a violation on the way.
    result: Result<(State<P>, Option<ViolationReport>), ViolationReport>,
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
        let mut level = vec![(initial, 0u32)];
        let mut depth = 0u32;
        let batch = SHARE_STATES_MAX * self.jobs as usize;
        while !level.is_empty() {
            self.depth_seen = self.depth_seen.max(depth);
            if depth >= self.depth_max {
                self.depth_cut = true;
                break;
            }
            let mut next_level = Vec::new();
            for (at, states) in level.chunks(batch).enumerate() {
                let shares = match self.expand(states) {
                    Ok(shares) => shares,
                    Err(why) => return Found::Failed(why),
                };
                if let Some(found) = self.merge(shares, depth, &mut next_level) {
                    return found;
                }
                let now = Progress {
                    states: self.states,
                    unique_states: self.seen.len() as u64,
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

    /// Expands `states` on the threads, one contiguous share each: the shares in order.
    fn expand(&self, states: &[(State<P>, u32)]) -> Result<Vec<Share<P>>, String> {
        let share_len = states.len().div_ceil(self.jobs as usize).max(1);
        let (plan, seen, budgets) = (&self.plan, &self.seen, self.budgets);
        std::thread::scope(|scope| {
            let threads: Vec<_> = states
                .chunks(share_len)
                .map(|share| scope.spawn(move || expand_share(plan, seen, &budgets, share)))
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
    fn merge(
        &mut self,
        shares: Vec<Share<P>>,
        depth: u32,
        next_level: &mut Vec<(State<P>, u32)>,
    ) -> Option<Found> {
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
                if self.seen.len() as u64 >= self.states_max {
                    return Some(Found::Stopped);
                }
                let Some(at) = self.visit(successor.fingerprint, origin) else {
                    continue;
                };
                self.depth_seen = self.depth_seen.max(depth + 1);
                if let Some(v) = verdict {
                    return Some(Found::Violation(at, v));
                }
                next_level.push((state, at));
            }
            self.states = tried_before + expanded.tried;
        }
        None
    }
}

/// Expands `share` on this thread, with handlers and a judge of its own.
fn expand_share<P: Protocol>(
    plan: &Plan<P>,
    seen: &FxHashMap<u64, ()>,
    budgets: &super::Budgets,
    share: &[(State<P>, u32)],
) -> Result<Share<P>, String> {
    let history = plan.history.map(|(m, i)| HistoryJudge::new(m, i));
    let factory = Arc::clone(&plan.factory);
    let mut judge = Judge::new(&plan.names, plan.properties.clone(), factory, history)?;
    let mut machine = Machine::new(Arc::clone(&plan.names), Arc::clone(&plan.factory), None);
    // States this thread made: a second copy is not judged twice.
    let mut made: FxHashMap<u64, ()> = FxHashMap::default();
    let mut choices = Vec::new();
    let mut expanded = Vec::with_capacity(share.len());
    for (state, index) in share {
        machine.choices(state, budgets, &mut choices);
        let end = state.quiescent().then(|| judge.judge_end(state)).flatten();
        let mut next = Vec::new();
        for (position, &choice) in (0u32..).zip(&choices) {
            let (fingerprint, result) =
                match successor(&mut machine, &mut judge, seen, state, choice) {
                    Next::Seen => continue,
                    Next::Found(v) => (0, Err(v)),
                    Next::New(_, fingerprint) if made.contains_key(&fingerprint) => continue,
                    Next::New(state, fingerprint) => {
                        made.insert(fingerprint, ());
                        let verdict = judge.judge(&state);
                        (fingerprint, Ok((state, verdict)))
                    }
                };
            next.push(Successor {
                choice,
                position,
                fingerprint,
                result,
            });
        }
        expanded.push(Expanded {
            index: *index,
            tried: choices.len() as u64,
            end,
            next,
        });
    }
    Ok(Share {
        expanded,
        coverage: judge.coverage(),
        end_states: judge.end_states,
    })
}
