//! `sharded-kv`: transactions over a key-value store split in shards, with two-phase commit
//! across the shards and strict two-phase locking within each.
//!
//! Every node is one shard: key `k` lives on node `k mod nodes`. Every node is also a
//! coordinator: a client's transaction ([`crate::workload::Txn`], list-append or rw-register)
//! is coordinated by the node it was sent to. The coordinator sends the whole transaction to
//! each shard it touches; the shard picks the micro-ops on its own keys, and runs them at once:
//!
//! - **Locks** (strict two-phase locking): a read lock on each key it only reads, a write lock
//!   on each key it writes, held until the transaction's decision. Deadlock is avoided by
//!   *no-wait*: a shard that cannot take a lock at once votes no, and the transaction aborts
//!   (the client sees `fail`); nothing ever waits for a lock, so no cycle of waits can form.
//! - **Prepare**: with every lock held, the shard computes what the reads return (its committed
//!   data, plus the transaction's own earlier writes), syncs a prepare record (the transaction,
//!   its coordinator), and only then votes yes with those reads: a yes is a promise to commit
//!   if told to, even after a crash.
//!
//! The coordinator commits when every touched shard voted yes: it syncs a commit record, which
//! is the commit point, answers the client `ok` with every read, and tells the shards. Any no
//! vote, or `vote_timeout` without every vote, aborts: the shards are told, the client gets
//! `fail` (an abort is never undone: a transaction without a commit record is never committed,
//! presumed abort). A shard applies a committed transaction's writes to its data, syncs them
//! with the outcome, and releases the locks. A prepared shard that has not heard the decision
//! asks its coordinator every `retry_interval`; a coordinator that knows nothing of the
//! transaction (it was never committed, or the coordinator restarted) answers abort.
//!
//! After a crash a shard recovers its data, the outcomes it recorded and its prepared
//! transactions, takes their locks again and goes on asking; a coordinator recovers its commit
//! records. A client whose coordinator crashed times out (`info`): its transaction committed
//! if and only if the commit record was synced first.
//!
//! Locks held until the decision make the history strict-serializable: a transaction's reads
//! and writes all happen while it holds every lock it needs, and a transaction that completed
//! released its locks only after its commit point.

use super::{BugDoc, ParamDoc, Protocol};
use crate::check::Property;
use crate::process::{Ctx, NodeId, Process, TimerId};
use crate::protocol::{check_at_least, check_at_most};
use crate::time::SimDuration;
use crate::workload::{Isolation, Model, Request, RequestId, Txn};
use serde::{Deserialize, Serialize};

mod checks;
mod coordinator;
mod shard;
#[cfg(test)]
mod tests;

use coordinator::Coordinator;
use shard::Shard;

/// Shortest timer delay: zero would fire timers forever without simulated time passing.
pub const INTERVAL_MIN: SimDuration = SimDuration::from_millis(1);
/// Longest timer delay accepted: an hour of simulated time.
pub const INTERVAL_MAX: SimDuration = SimDuration::from_secs(3600);

/// `params:` of the sharded-kv protocol.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// How long a coordinator waits for every vote before it aborts the transaction.
    pub vote_timeout: SimDuration,
    /// Time between two inquiries of a prepared shard about the decision.
    pub retry_interval: SimDuration,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            vote_timeout: SimDuration::from_millis(100),
            retry_interval: SimDuration::from_millis(50),
        }
    }
}

const PARAM_DOCS: &[ParamDoc] = &[
    ParamDoc {
        name: "vote_timeout",
        default: "100ms",
        meaning: "how long a coordinator waits for every shard's vote before it aborts the \
                  transaction (the client sees fail); keep it below the workload's timeout \
                  (1ms to 3600s)",
    },
    ParamDoc {
        name: "retry_interval",
        default: "50ms",
        meaning: "time between two inquiries of a prepared shard to the coordinator about the \
                  decision (1ms to 3600s)",
    },
];

/// The bug variants, each a way real databases were found to break isolation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Bug {
    EarlyReadUnlock,
    DirtyRead,
    NonAtomicCommit,
    LostUpdate,
}

const BUG_DOCS: &[BugDoc] = &[
    BugDoc {
        name: "early-read-unlock",
        description: "a shard releases a transaction's read locks as soon as it has read, \
                      instead of at the decision; another transaction can then overwrite what \
                      it read and commit first, and the two are ordered both ways (write skew, \
                      read skew: G2-item, G-single); exposed by concurrent transactions over \
                      the same keys on two shards; the invariant conflict_free breaks first",
        violates: "isolation",
    },
    BugDoc {
        name: "dirty-read",
        description: "reads ignore write locks and see the writes of transactions that are \
                      prepared but not decided; when such a writer aborts, the reader has seen \
                      a value that never existed (aborted read, G1a), and two transactions can \
                      read each other's uncommitted writes (G1c); exposed by concurrent \
                      transactions that write and read the same keys; the invariant \
                      conflict_free breaks first",
        violates: "isolation",
    },
    BugDoc {
        name: "non-atomic-commit",
        description: "each shard commits its part of a transaction as soon as it has run it, \
                      without preparing and waiting for the others' votes; readers see one \
                      shard's part without the other's (fractured reads: G-single), and when a \
                      vote is lost or late the coordinator aborts a transaction some shards \
                      already committed (the client sees fail while some of its writes stay: \
                      G1a); exposed by transactions over keys on two shards, and by message \
                      loss, partitions or crashes; an abort after a part committed breaks the \
                      invariant atomic_commit",
        violates: "isolation",
    },
    BugDoc {
        name: "lost-update",
        description: "a read-modify-write takes no write lock: a key a transaction reads and \
                      then writes gets only a shared read lock, so two transactions can both \
                      read the same version and both write it, and the first write is lost \
                      (lost update); exposed by concurrent transactions that read and then \
                      write the same key; the invariant conflict_free breaks first",
        violates: "isolation",
    },
];

impl Bug {
    fn from_name(name: &str) -> Option<Bug> {
        match name {
            "early-read-unlock" => Some(Bug::EarlyReadUnlock),
            "dirty-read" => Some(Bug::DirtyRead),
            "non-atomic-commit" => Some(Bug::NonAtomicCommit),
            "lost-update" => Some(Bug::LostUpdate),
            _ => None,
        }
    }
}

/// What a read returned: a list (list-append), or at most one value (rw-register).
pub type Read = Vec<i64>;

/// What sharded-kv nodes send each other. A transaction is named by its client request.
#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// Coordinator → shard: run your part of `txn` (the micro-ops on your keys), lock, prepare
    /// and vote.
    Execute { id: RequestId, txn: Txn },
    /// Shard → coordinator: its vote; with a yes, what each of its reads returned, by the
    /// micro-op's index in the transaction.
    Vote {
        id: RequestId,
        yes: bool,
        reads: Vec<(u8, Read)>,
    },
    /// Coordinator → shard: the decision.
    Decision { id: RequestId, commit: bool },
    /// Prepared shard → coordinator: what was decided?
    Inquire { id: RequestId },
}

/// What sharded-kv timers carry.
#[derive(Clone, Debug, Hash)]
pub enum Tick {
    /// Coordinator: transaction `id` has waited `vote_timeout` for its votes.
    VoteTimeout { id: RequestId },
    /// Shard: ask the coordinators of the transactions still prepared here.
    Inquire,
}

/// One sharded-kv node: a shard of the data and a coordinator of its clients' transactions.
#[derive(Clone, Debug, Hash)]
pub struct ShardedKv {
    id: NodeId,
    nodes: u32,
    vote_timeout: SimDuration,
    retry_interval: SimDuration,
    bug: Option<Bug>,
    pub(crate) shard: Shard,
    pub(crate) coordinator: Coordinator,
}

/// The shard, so the node, that holds `key`.
pub fn shard_of(key: u32, nodes: u32) -> NodeId {
    NodeId(key % nodes.max(1))
}

impl ShardedKv {
    /// Sends `msg` to `to`, or handles it at once when `to` is this node: a node's shard and
    /// coordinator talk without the network.
    fn deliver(&mut self, ctx: &mut Ctx<'_, Self>, to: NodeId, msg: Msg) {
        if to == self.id {
            self.handle(ctx, to, msg);
        } else {
            ctx.send(to, msg);
        }
    }

    fn handle(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Execute { id, txn } => {
                let vote = self.shard_execute(ctx, id, txn, from);
                self.deliver(ctx, from, vote);
            }
            Msg::Vote { id, yes, reads } => self.on_vote(ctx, from, id, yes, reads),
            Msg::Decision { id, commit } => self.shard_decide(ctx, id, commit),
            Msg::Inquire { id } => {
                if let Some(commit) = self.coordinator.answer(id) {
                    self.deliver(ctx, from, Msg::Decision { id, commit });
                }
            }
        }
    }
}

impl Process for ShardedKv {
    type Message = Msg;
    type Timer = Tick;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if ctx.is_restart() {
            self.coordinator.recover(ctx.storage());
            self.shard
                .recover(ctx.storage(), self.id, self.nodes, self.bug);
        }
        // Prepared transactions survive the crash: keep asking about them.
        if !self.shard.prepared.is_empty() {
            self.shard.inquiring = true;
            ctx.set_timer(self.retry_interval, Tick::Inquire);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        self.handle(ctx, from, msg);
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _timer: TimerId, tag: Tick) {
        match tag {
            Tick::VoteTimeout { id } => self.abort(ctx, id, "no vote from every shard in time"),
            Tick::Inquire => self.inquire(ctx),
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: Request) {
        self.coordinate(ctx, request);
    }
}

impl Protocol for ShardedKv {
    const NAME: &'static str = "sharded-kv";
    const SUMMARY: &'static str = "transactions over sharded keys: two-phase commit across \
                                   shards, strict two-phase locking with no-wait, durable \
                                   prepare and commit records";
    type Params = Params;

    const PARAM_DOCS: &'static [ParamDoc] = PARAM_DOCS;
    const BUG_DOCS: &'static [BugDoc] = BUG_DOCS;
    const ISOLATION: Option<Isolation> = Some(Isolation::StrictSerializable);

    fn properties() -> Vec<Property<Self>> {
        vec![
            Property::monitor(
                "atomic_commit",
                "no transaction is committed on one node and aborted on another (the shards' \
                 recorded outcomes and the coordinators' commit records, crashed nodes \
                 included as they were when they were last up)",
                || Box::new(checks::AtomicCommit::default()),
            ),
            Property::always(
                "conflict_free",
                "no shard holds two undecided transactions that conflict: none writes a key \
                 another read or wrote (what strict two-phase locking guarantees)",
                checks::check_conflict_free,
            ),
        ]
    }

    fn workloads() -> &'static [Model] {
        &[Model::ListAppend, Model::RwRegister]
    }

    fn check_params(params: &Params, _node_count: u32) -> Result<(), String> {
        check_at_least("vote_timeout", params.vote_timeout, INTERVAL_MIN)?;
        check_at_most("vote_timeout", params.vote_timeout, INTERVAL_MAX)?;
        check_at_least("retry_interval", params.retry_interval, INTERVAL_MIN)?;
        check_at_most("retry_interval", params.retry_interval, INTERVAL_MAX)
    }

    fn new(id: NodeId, node_count: u32, params: &Params, bug: Option<&'static str>) -> Self {
        if let Err(e) = Self::check_params(params, node_count) {
            panic!("{}: {e}", Self::NAME);
        }
        let bug = bug.map(|name| {
            Bug::from_name(name).unwrap_or_else(|| panic!("sharded-kv has no bug variant `{name}`"))
        });
        ShardedKv {
            id,
            nodes: node_count,
            vote_timeout: params.vote_timeout,
            retry_interval: params.retry_interval,
            bug,
            shard: Shard::default(),
            coordinator: Coordinator::default(),
        }
    }
    /// The shard's keys, locks and prepared transactions; transactions this node coordinates.
    fn summary(&self) -> crate::Summary {
        crate::Summary::new()
            .field("locks", self.shard.locks.len())
            .field("prepared", self.shard.prepared.len())
            .field("open", self.coordinator.open.len())
            .field("committed", self.coordinator.committed.len())
    }
}
