//! Exhaustive exploration: every state a small configuration can reach, not one seed's run.
//!
//! From the state where every node has started, the search tries every event each state
//! enables: deliver any message in flight, fire any pending timer, let a client invoke its
//! next operation at any node (with a workload: see [`Explorer::workload`]), and, within
//! budgets, drop or duplicate a message, crash a node (and restart it). It runs the protocol's own code
//! through the same [`crate::Ctx`] a run uses, checks the protocol's invariants in every
//! state (and its monitors, carried in each state, when they can be copied: see
//! [`crate::check::Monitor::fork`]), and keeps a 64-bit fingerprint of each state it has seen, so each is expanded once.
//! Breadth first: a violation comes with a shortest path to it.
//!
//! Time is abstracted. Messages take any time, so deliveries happen in any order. Each node
//! has its own clock, which moves only when one of its timers fires (to the time it was due),
//! and timers fire in any order, a late one as after a pause; timer firings are bounded by a
//! budget, since protocols that retry would otherwise never run out of events.
//!
//! ```
//! use faultline::exhaustive::{Budgets, Explorer, Verdict};
//! use faultline::protocols::paxos::{Params, Paxos};
//! use faultline::Protocol;
//!
//! let params = Params::default();
//! let budgets = Budgets { timers_max: 1, drops_max: 1, ..Budgets::default() };
//! // The correct protocol: every state reachable with one proposal and one loss keeps agreement.
//! let outcome = Explorer::new(3, move |id| Paxos::new(id, 3, &params, None))
//!     .budgets(budgets)
//!     .run()?;
//! assert_eq!(outcome.verdict, Verdict::Exhausted);
//! assert!(outcome.unique_states > 100);
//!
//! // A quorum one short lets a node learn a value that no majority holds.
//! let outcome = Explorer::new(3, move |id| Paxos::new(id, 3, &Params::default(), Some("one-short-quorum")))
//!     .budgets(budgets)
//!     .run()?;
//! assert_eq!(outcome.verdict, Verdict::Violation);
//! let found = outcome.counterexample.expect("a path to the violation");
//! assert_eq!(found.violation.property, "agreement");
//! # Ok::<(), faultline::exhaustive::ExploreError>(())
//! ```

mod clients;
mod judge;
mod parallel;
mod path;
mod replay;
mod search;
mod sleep;
mod state;
mod step;
#[cfg(test)]
mod tests;
mod trace;

pub use path::{Counterexample, Event, Step};
pub use replay::{Replay, ReplayError};
pub use search::{ExploreError, Outcome, Progress, Verdict};

use crate::check::Property;
use crate::engine::default_names;
use crate::ids::NodeId;
use crate::protocol::Protocol;
use serde::Serialize;
use std::sync::Arc;

/// How many faults and timer firings one path may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Budgets {
    /// Timer firings (elections, retries, heartbeats) on one path.
    pub timers_max: u32,
    pub drops_max: u32,
    /// Messages delivered twice.
    pub duplicates_max: u32,
    /// Node crashes; a crashed node may restart at any point.
    pub crashes_max: u32,
    /// Operations each client invokes on one path (with a workload: see
    /// [`Explorer::workload`]).
    pub client_ops_max: u32,
    /// Client timeouts on one path: a client gives up on its open operation (it ends as
    /// info) and goes on with its next.
    pub timeouts_max: u32,
}

impl Default for Budgets {
    /// Three timer firings, one operation per client, and no faults.
    fn default() -> Self {
        Budgets {
            timers_max: 3,
            drops_max: 0,
            duplicates_max: 0,
            crashes_max: 0,
            client_ops_max: 1,
            timeouts_max: 0,
        }
    }
}

/// The order in which a search expands states: see [`Explorer::order`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Order {
    #[default]
    BreadthFirst,
    DepthFirst,
}

/// Most fault or timer budget on one path: deeper paths belong to random runs.
pub const BUDGET_MAX: u32 = 64;
/// Most unique states one search may visit (its fingerprint table then holds about 3 GiB).
pub const STATES_MAX: u64 = 100_000_000;
/// Most events on one path.
pub const DEPTH_MAX: u32 = 100_000;
/// Most threads one search runs on.
pub const JOBS_MAX: u32 = 256;
/// Most clients a search runs: each one multiplies the states.
pub const CLIENTS_MAX: u32 = 16;

/// An exhaustive search over protocol `P` on a fixed number of nodes.
pub struct Explorer<P: Protocol> {
    names: Vec<String>,
    factory: step::Factory<P>,
    properties: Vec<Property<P>>,
    budgets: Budgets,
    states_max: u64,
    depth_max: u32,
    order: Order,
    jobs: u32,
    /// The clients' workload and the seed their operations are drawn with.
    workload: Option<(crate::workload::WorkloadConfig, u64)>,
    /// Whether the clients' history is checked.
    history_checked: bool,
    /// Whether sleep sets cut transitions that lead to states reached another way.
    reduction: bool,
}

impl<P: Protocol> Explorer<P> {
    /// A search over `node_count` nodes (named `n1`, `n2`, ...) made by `factory`, checking
    /// [`Protocol::properties`], with [`Budgets::default`] and the largest limits.
    pub fn new(node_count: u32, factory: impl Fn(NodeId) -> P + Send + Sync + 'static) -> Self {
        Explorer {
            names: default_names(node_count),
            factory: Arc::new(factory),
            properties: P::properties(),
            budgets: Budgets::default(),
            states_max: STATES_MAX,
            depth_max: DEPTH_MAX,
            order: Order::BreadthFirst,
            jobs: 1,
            workload: None,
            history_checked: true,
            reduction: true,
        }
    }

    /// Names the nodes (as a scenario does); their number must not change.
    #[must_use]
    pub fn node_names(mut self, names: Vec<String>) -> Self {
        self.names = names;
        self
    }

    /// Checks these properties instead of all of the protocol's.
    #[must_use]
    pub fn properties(mut self, properties: Vec<Property<P>>) -> Self {
        self.properties = properties;
        self
    }

    #[must_use]
    pub fn budgets(mut self, budgets: Budgets) -> Self {
        self.budgets = budgets;
        self
    }

    /// Stops (with [`Verdict::Budget`]) once this many unique states were seen.
    #[must_use]
    pub fn states_max(mut self, states_max: u64) -> Self {
        self.states_max = states_max;
        self
    }

    /// Which state the search expands next: breadth first (the default: a violation comes
    /// with a shortest path) or depth first (less memory: the states waiting to be expanded
    /// are those beside the current path, not a whole level; a violation's path may be
    /// longer than needed, and with a depth limit a state first met deep is not expanded
    /// again when met nearer the start).
    #[must_use]
    pub fn order(mut self, order: Order) -> Self {
        self.order = order;
        self
    }

    /// Expands states on this many threads (breadth first only): the same states and the same
    /// verdict as on one, and without [`Explorer::reduction`] the same transitions and path
    /// too (with it, a state met again within its own level tries what woke up one level
    /// later than on one thread, which may change the transitions tried and the path).
    #[must_use]
    pub fn jobs(mut self, jobs: u32) -> Self {
        self.jobs = jobs;
        self
    }

    /// Adds clients: `workload.clients` of them, each invoking up to
    /// [`Budgets::client_ops_max`] operations of the workload, drawn with `seed` as a run
    /// draws them, at any node and at any point; their history is checked with the
    /// workload's checker (linearizability for registers and kv) in every state where it
    /// changed. The workload's rate, timeout and latency do not apply: see the module
    /// documentation.
    #[must_use]
    pub fn workload(mut self, workload: crate::workload::WorkloadConfig, seed: u64) -> Self {
        self.workload = Some((workload, seed));
        self
    }

    /// Whether to skip transitions whose successor another order of the same events reaches
    /// (sleep sets; on by default, and off when monitors are checked). The same states are
    /// visited either way; without the reduction, more transitions lead to them.
    #[must_use]
    pub fn reduction(mut self, reduced: bool) -> Self {
        self.reduction = reduced;
        self
    }

    /// Whether to check the clients' history (by default, when there are clients).
    #[must_use]
    pub fn check_history(mut self, checked: bool) -> Self {
        self.history_checked = checked;
        self
    }

    /// The judge of the clients' history, if there are clients and it is checked.
    fn history_judge(&self) -> Option<judge::HistoryJudge> {
        let (config, _) = self.workload.as_ref().filter(|_| self.history_checked)?;
        let isolation = config.isolation.or(P::ISOLATION);
        Some(judge::HistoryJudge::new(config.model, isolation))
    }

    /// The clients of the initial state.
    fn clients(&self) -> Option<clients::ModelClients> {
        let (config, seed) = self.workload.as_ref()?;
        let n = self.names.len() as u32;
        Some(clients::ModelClients::new(config.clone(), *seed, n))
    }

    /// Expands no state deeper than this many events from the start.
    #[must_use]
    pub fn depth_max(mut self, depth_max: u32) -> Self {
        self.depth_max = depth_max;
        self
    }

    /// Explores until every reachable state was seen, a property broke, or a limit stopped
    /// the search.
    pub fn run(self) -> Result<Outcome, ExploreError> {
        self.run_with(&mut |_| true)
    }

    /// As [`Explorer::run`], calling `progress` every few thousand states; the search stops
    /// (with [`Verdict::Budget`]) when it returns false.
    pub fn run_with(
        self,
        progress: &mut dyn FnMut(&Progress) -> bool,
    ) -> Result<Outcome, ExploreError> {
        self.check()?;
        search::Search::new(self)?.run(progress)
    }

    /// Follows `events` from the initial state instead of searching, judging the properties
    /// after each event; stops at the first violation.
    pub fn replay(self, events: &[Event]) -> Result<Replay, ReplayError> {
        self.replay_into(events, None)
    }

    /// As [`Explorer::replay`], also writing the path as a run's trace into `sink`: the nodes'
    /// boots, each event, and the messages and notes of its handler. The trace's clock counts
    /// events (event k of `events` at k milliseconds), since the search abstracts time.
    pub fn replay_traced(
        self,
        events: &[Event],
        sink: Box<dyn crate::trace::TraceSink>,
    ) -> Result<Replay, ReplayError> {
        self.replay_into(events, Some(sink))
    }

    fn replay_into(
        self,
        events: &[Event],
        sink: Option<Box<dyn crate::trace::TraceSink>>,
    ) -> Result<Replay, ReplayError> {
        self.check()
            .map_err(|e| ReplayError::Build(e.to_string()))?;
        replay::replay(self, events, sink)
    }

    /// The limits, checked as the CLI checks its flags.
    fn check(&self) -> Result<(), ExploreError> {
        let b = &self.budgets;
        let budgets = [
            ("timers_max", b.timers_max),
            ("drops_max", b.drops_max),
            ("duplicates_max", b.duplicates_max),
            ("crashes_max", b.crashes_max),
            ("client_ops_max", b.client_ops_max),
            ("timeouts_max", b.timeouts_max),
        ];
        for (name, value) in budgets {
            if value > BUDGET_MAX {
                return Err(ExploreError::Limit(format!(
                    "`{name}` is {value}; it must be at most {BUDGET_MAX}"
                )));
            }
        }
        if self.states_max == 0 || self.states_max > STATES_MAX {
            return Err(ExploreError::Limit(format!(
                "`states_max` is {}; it must be from 1 to {STATES_MAX}",
                self.states_max
            )));
        }
        if self.depth_max > DEPTH_MAX {
            return Err(ExploreError::Limit(format!(
                "`depth_max` is {}; it must be at most {DEPTH_MAX}",
                self.depth_max
            )));
        }
        if self.names.is_empty() {
            return Err(ExploreError::Limit("an exploration needs a node".into()));
        }
        if self.jobs == 0 || self.jobs > JOBS_MAX {
            return Err(ExploreError::Limit(format!(
                "`jobs` is {}; it must be from 1 to {JOBS_MAX}",
                self.jobs
            )));
        }
        if self.jobs > 1 && self.order == Order::DepthFirst {
            return Err(ExploreError::Limit(
                "a depth-first search runs on one thread: `jobs` must be 1".into(),
            ));
        }
        if let Some((workload, _)) = &self.workload {
            workload
                .validate()
                .map_err(|e| ExploreError::Limit(format!("the workload: {e}")))?;
            if workload.clients > CLIENTS_MAX {
                return Err(ExploreError::Limit(format!(
                    "the workload has {} clients; a search runs at most {CLIENTS_MAX}",
                    workload.clients
                )));
            }
        }
        Ok(())
    }
}
