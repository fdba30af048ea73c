//! `scatter-gather`: a set split over shards, read by fanning each query out to every shard
//! and merging the answers, with hedged requests against the long tail of slow shards.
//!
//! Every node is a front end for the clients sent to it, and every node holds data. The set is
//! split in as many shards as there are nodes: element `e` belongs to shard `e mod nodes`.
//! Shard `s` lives on node `s` (its primary) and on node `s + 1 mod nodes` (its replica).
//!
//! - **add** (the clients of the `set` workload load the data): the front end sends the
//!   element to both copies of its shard; each syncs it to storage and acknowledges. The
//!   client is answered ok once both have, so an acknowledged element is on both copies, and
//!   either can answer for its shard. Without both acknowledgements within `query_timeout`
//!   the client is answered `info`: the element may be on one copy.
//! - **read** (the query): the front end asks the primary of every shard for its part. The
//!   answer is the union of every shard's part, sent once every shard has answered. A shard
//!   still silent after `query_timeout` makes the read `fail`: a partial answer is never
//!   given as ok (the trace notes which shards were missing).
//! - **Repair.** An add that reached one copy only (the other was down or cut off) is
//!   indefinite, yet a read may see it; every `repair_interval` each copy sends the other
//!   copy of each of its shards the elements it holds of that shard (anti-entropy), so the
//!   copies converge and a seen element is not lost to a later read.
//! - **Tail latency.** A shard answers late with chance `slow_chance`, after `slow_delay`
//!   (a busy machine, a long garbage collection); slow links and pauses come from the
//!   scenario. With `hedge_after` set, a shard that has not answered by then is asked again,
//!   at its replica (a hedged request, after Dean and Barroso's "The Tail at Scale"): the first
//!   answer wins and the copy that lost is told to drop the request (cancellation). Hedges are
//!   rationed: a front end sends at most `hedge_budget_pct` extra requests per 100 first
//!   requests, so a slow shard cannot double the load.

use super::{BugDoc, ParamDoc, Protocol};
use crate::check::Property;
use crate::process::{Ctx, NodeId, Process, TimerId};
use crate::protocol::check_range;
use crate::time::SimDuration;
use crate::workload::{Model, Request, RequestId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

mod checks;
mod front;
mod shard;
#[cfg(test)]
mod tests;

use front::{Add, Query};

/// Shortest delay accepted: zero would fire timers without simulated time passing.
pub const INTERVAL_MIN: SimDuration = SimDuration::from_millis(1);
/// Longest delay accepted: an hour of simulated time.
pub const INTERVAL_MAX: SimDuration = SimDuration::from_secs(3600);

/// `params:` of the scatter-gather protocol.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Chance that a shard answers one request late.
    pub slow_chance: f64,
    /// How late a slow answer is.
    pub slow_delay: SimDuration,
    /// When a shard that has not answered is asked again at its replica; `None`: never.
    pub hedge_after: Option<SimDuration>,
    /// Most hedged requests per 100 first requests, per front end.
    pub hedge_budget_pct: u32,
    /// How long a front end waits for every shard (a read) or both copies (an add).
    pub query_timeout: SimDuration,
    /// Time between two rounds of anti-entropy between the copies of a shard.
    pub repair_interval: SimDuration,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            slow_chance: 0.0,
            slow_delay: SimDuration::from_millis(50),
            hedge_after: None,
            hedge_budget_pct: 10,
            query_timeout: SimDuration::from_millis(200),
            repair_interval: SimDuration::from_millis(100),
        }
    }
}

const PARAM_DOCS: &[ParamDoc] = &[
    ParamDoc {
        name: "slow_chance",
        default: "0",
        meaning: "chance that a shard answers one request late, drawn per request (0 to 1)",
    },
    ParamDoc {
        name: "slow_delay",
        default: "50ms",
        meaning: "how late a slow answer is (1ms to 3600s)",
    },
    ParamDoc {
        name: "hedge_after",
        default: "none (no hedging)",
        meaning: "a shard that has not answered a query by then is asked again at its \
                  replica; the first answer wins and the other request is cancelled \
                  (1ms to 3600s)",
    },
    ParamDoc {
        name: "hedge_budget_pct",
        default: "10",
        meaning: "most hedged requests a front end sends per 100 first requests (0 to 100)",
    },
    ParamDoc {
        name: "query_timeout",
        default: "200ms",
        meaning: "how long a front end waits for every shard before a read fails, or for \
                  both copies before an add is answered info; keep it below the workload's \
                  timeout (1ms to 3600s)",
    },
    ParamDoc {
        name: "repair_interval",
        default: "100ms",
        meaning: "time between two rounds of anti-entropy, in which each copy sends the \
                  other copy of each of its shards the elements it holds of it (1ms to 3600s)",
    },
];

/// The bug variants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Bug {
    MajorityMerge,
    UnbudgetedHedge,
}

const BUG_DOCS: &[BugDoc] = &[
    BugDoc {
        name: "majority-merge",
        description: "the front end answers a read as soon as more than half of the shards \
                      answered, and silently leaves out the rest: a fast answer, missing \
                      data, marked as complete",
        violates: "complete_answers",
    },
    BugDoc {
        name: "unbudgeted-hedge",
        description: "the front end hedges every late shard request, with no budget; under a \
                      slow shard nearly every query is sent twice to that shard's copies, \
                      adding load just when the system is struggling",
        violates: "hedge_budget",
    },
];

impl Bug {
    fn from_name(name: &str) -> Option<Bug> {
        match name {
            "majority-merge" => Some(Bug::MajorityMerge),
            "unbudgeted-hedge" => Some(Bug::UnbudgetedHedge),
            _ => None,
        }
    }
}

/// What scatter-gather nodes send each other. A request is named by the client's request.
#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// Front end → both copies of the element's shard: keep it.
    Store { id: RequestId, element: i64 },
    /// Copy → front end: the element is synced here.
    Stored { id: RequestId },
    /// Front end → a copy of `shard`: your elements of `shard`, please.
    Query { id: RequestId, shard: u32 },
    /// Copy → front end: the elements of `shard` it holds.
    Answer {
        id: RequestId,
        shard: u32,
        elements: Vec<i64>,
    },
    /// Front end → the copy that lost the race: drop the request.
    Cancel { id: RequestId, shard: u32 },
    /// Copy → the other copy of `shard`: the elements of `shard` I hold.
    Repair { shard: u32, elements: Vec<i64> },
}

/// What scatter-gather timers carry.
#[derive(Clone, Debug, Hash)]
pub enum Tick {
    /// Front end: ask the replicas of the shards still silent.
    Hedge { id: RequestId },
    /// Front end: the request ran out of time.
    Deadline { id: RequestId },
    /// Copy: time to send the other copies what this one holds.
    Repair,
    /// Copy: a slow answer is ready.
    SlowAnswer {
        front: NodeId,
        id: RequestId,
        shard: u32,
    },
}

/// One scatter-gather node: a front end for its clients, primary of one shard and replica of
/// the one before.
#[derive(Clone, Debug, Hash)]
pub struct ScatterGather {
    id: NodeId,
    nodes: u32,
    params: ParamsKey,
    bug: Option<Bug>,
    /// The elements this node holds, of both shards it has a copy of.
    pub(crate) elements: BTreeSet<i64>,
    /// Slow answers not sent yet, by front end, request and shard: cancellable.
    delayed: BTreeMap<(NodeId, RequestId, u32), TimerId>,
    /// Reads in progress at this front end.
    queries: BTreeMap<RequestId, Query>,
    /// Adds in progress at this front end.
    adds: BTreeMap<RequestId, Add>,
    /// First requests to shards this front end sent since it started: what the budget is a
    /// share of.
    pub(crate) requests_sent: u64,
    /// Hedged requests it sent since it started.
    pub(crate) hedges_sent: u64,
}

/// The parameters as the node keeps them: hashable (no float).
#[derive(Clone, Debug, Hash)]
struct ParamsKey {
    /// `slow_chance` in parts per billion.
    slow_ppb: u64,
    slow_delay: SimDuration,
    hedge_after: Option<SimDuration>,
    hedge_budget_pct: u32,
    query_timeout: SimDuration,
    repair_interval: SimDuration,
}

/// The shard element `element` belongs to.
///
/// ```
/// use faultline::protocols::scatter_gather::{copies_of, shard_of};
/// use faultline::NodeId;
///
/// // Five nodes: element 7 is in shard 2, on n3 (its primary) and n4 (its replica).
/// assert_eq!(shard_of(7, 5), 2);
/// assert_eq!(copies_of(2, 5), [NodeId(2), NodeId(3)]);
/// // The last shard's replica wraps around to n1.
/// assert_eq!(copies_of(4, 5), [NodeId(4), NodeId(0)]);
/// ```
pub fn shard_of(element: i64, nodes: u32) -> u32 {
    element.rem_euclid(i64::from(nodes.max(1))) as u32
}

/// The two nodes that hold shard `shard`: its primary and its replica.
pub fn copies_of(shard: u32, nodes: u32) -> [NodeId; 2] {
    [NodeId(shard), NodeId((shard + 1) % nodes.max(1))]
}

impl ScatterGather {
    /// Sends `msg` to `to`, or handles it at once when `to` is this node: a node's front end
    /// and its shards talk without the network.
    fn deliver(&mut self, ctx: &mut Ctx<'_, Self>, to: NodeId, msg: Msg) {
        if to == self.id {
            self.handle(ctx, to, msg);
        } else {
            ctx.send(to, msg);
        }
    }

    fn handle(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Store { id, element } => self.store(ctx, from, id, element),
            Msg::Stored { id } => self.on_stored(ctx, from, id),
            Msg::Query { id, shard } => self.on_query(ctx, from, id, shard),
            Msg::Answer {
                id,
                shard,
                elements,
            } => self.on_answer(ctx, from, id, shard, elements),
            Msg::Cancel { id, shard } => self.on_cancel(ctx, from, id, shard),
            Msg::Repair { elements, .. } => self.on_repair(ctx, elements),
        }
    }
}

impl Process for ScatterGather {
    type Message = Msg;
    type Timer = Tick;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if ctx.is_restart() {
            self.recover(ctx);
        }
        ctx.set_timer(self.params.repair_interval, Tick::Repair);
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        self.handle(ctx, from, msg);
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _timer: TimerId, tag: Tick) {
        match tag {
            Tick::Hedge { id } => self.hedge(ctx, id),
            Tick::Deadline { id } => self.deadline(ctx, id),
            Tick::Repair => {
                self.repair(ctx);
                ctx.set_timer(self.params.repair_interval, Tick::Repair);
            }
            Tick::SlowAnswer { front, id, shard } => {
                if self.delayed.remove(&(front, id, shard)).is_some() {
                    self.answer(ctx, front, id, shard);
                }
            }
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: Request) {
        self.serve(ctx, request);
    }
}

impl Protocol for ScatterGather {
    const NAME: &'static str = "scatter-gather";
    const SUMMARY: &'static str = "a set split over replicated shards, read by fanning out to \
                                   every shard and merging; hedged requests with a budget \
                                   against slow shards";
    type Params = Params;

    const PARAM_DOCS: &'static [ParamDoc] = PARAM_DOCS;
    const BUG_DOCS: &'static [BugDoc] = BUG_DOCS;

    fn properties() -> Vec<Property<Self>> {
        vec![
            Property::at_end(
                "complete_answers",
                "no read answered ok leaves out a shard: for every shard, it holds the \
                 elements of that shard acknowledged before the read began (a read that \
                 could not reach every shard must fail)",
                checks::check_complete_answers,
            ),
            Property::at_end(
                "right_answers",
                "every read answered ok is the merge of the shards' data: it holds every \
                 element acknowledged before it began, and no element no client added",
                checks::check_right_answers,
            ),
            Property::always(
                "hedge_budget",
                "no front end has sent more hedged requests than hedge_budget_pct percent of \
                 the first requests it sent since it started",
                checks::check_hedge_budget,
            ),
        ]
    }

    fn workloads() -> &'static [Model] {
        &[Model::Set]
    }

    fn check_params(params: &Params, node_count: u32) -> Result<(), String> {
        if node_count < 2 {
            return Err("scatter-gather needs at least 2 nodes: a shard and its replica".into());
        }
        check_range("slow_chance", params.slow_chance, 0.0, 1.0)?;
        check_range("slow_delay", params.slow_delay, INTERVAL_MIN, INTERVAL_MAX)?;
        if let Some(after) = params.hedge_after {
            check_range("hedge_after", after, INTERVAL_MIN, INTERVAL_MAX)?;
        }
        check_range("hedge_budget_pct", params.hedge_budget_pct, 0, 100)?;
        check_range(
            "query_timeout",
            params.query_timeout,
            INTERVAL_MIN,
            INTERVAL_MAX,
        )?;
        check_range(
            "repair_interval",
            params.repair_interval,
            INTERVAL_MIN,
            INTERVAL_MAX,
        )
    }

    fn new(id: NodeId, node_count: u32, params: &Params, bug: Option<&'static str>) -> Self {
        if let Err(e) = Self::check_params(params, node_count) {
            panic!("{}: {e}", Self::NAME);
        }
        let bug = bug.map(|name| {
            Bug::from_name(name)
                .unwrap_or_else(|| panic!("scatter-gather has no bug variant `{name}`"))
        });
        ScatterGather {
            id,
            nodes: node_count,
            params: ParamsKey {
                slow_ppb: (params.slow_chance * 1e9).round() as u64,
                slow_delay: params.slow_delay,
                hedge_after: params.hedge_after,
                hedge_budget_pct: params.hedge_budget_pct,
                query_timeout: params.query_timeout,
                repair_interval: params.repair_interval,
            },
            bug,
            elements: BTreeSet::new(),
            delayed: BTreeMap::new(),
            queries: BTreeMap::new(),
            adds: BTreeMap::new(),
            requests_sent: 0,
            hedges_sent: 0,
        }
    }

    /// The elements held, the reads open at this front end and the hedges it sent.
    fn summary(&self) -> crate::Summary {
        crate::Summary::new()
            .field("elements", self.elements.len())
            .field("reads", self.queries.len())
            .field("requests", self.requests_sent)
            .field("hedges", self.hedges_sent)
    }
}
