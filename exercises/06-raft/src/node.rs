//! Exercise 6, Raft in parts: leader election, then log replication, then safety across
//! crashes.
//!
//! The nodes elect a leader; clients `read` and `write` registers (keys 0, 1, 2) at any node,
//! and the leader appends each operation to its log, copies the log to the other nodes, and
//! answers once a majority holds the entry. Every node applies the committed entries, in log
//! order, to its registers. No term may have two leaders, no committed entry may ever be lost
//! or changed, and every answer must be one that some order of the operations explains.
//!
//! Your work goes where the `TODO`s are. Keep the names of the types, `NAME` and `properties`
//! as they are, and `given.rs` too: the scenarios and the grader rely on them.

use super::given::{self, RaftView, Store};
use faultline::check::Property;
use faultline::protocol::{BugDoc, ParamDoc};
use faultline::workload::{Model, Reply, Request};
use faultline::{Ctx, NodeId, Process, Protocol, TimerId};
use serde::{Deserialize, Serialize};

/// `params:` in a scenario: the protocol has none, so a scenario that sets one is an error.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Params {}

/// What nodes send each other: Raft's two calls, RequestVote and AppendEntries, and their
/// answers. Keep the names of the variants: `crashes.yaml` crashes a node as it sends a
/// `Vote`.
// TODO: the fields of each message. A vote request carries the candidate's term and the
// index and term of its last log entry; a vote, the voter's term and whether it granted it;
// an append, the leader's term, the index and term of the entry just before the entries it
// carries, the entries, and the leader's commit index; the answer to an append, the
// follower's term, whether it took the entries, and how far its log now matches the
// leader's (or where the leader should try again from).
// As handed out no node sends anything yet; remove this line once yours do.
#[allow(dead_code)]
#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// A candidate asks for a vote.
    RequestVote {},
    /// The answer to a vote request.
    Vote {},
    /// The leader sends entries, or none, which says that it is alive.
    Append {},
    /// A follower answers an append.
    Appended {},
}

/// What a node's timers carry.
// TODO: a variant for each kind of timer you set: one that checks whether the election
// timeout has passed, and the leader's heartbeat (give it the term it was set in, so that a
// heartbeat of a term the node no longer leads does nothing).
#[derive(Clone, Debug, Hash)]
pub enum Tick {}

/// One node. Its `Debug` is what `run --html run.html --states` shows of it; `Clone` and `Hash`
/// let faultline copy a node's state and recognise one it has seen, so keep them derived.
#[derive(Clone, Debug, Hash)]
pub struct RaftNode {
    /// The registers, as the committed entries applied in order leave them.
    store: Store,
    // TODO: what a node must remember. Durable, synced to `ctx.storage()` before anyone
    // learns of them: the current term, the vote cast in it, the log (each entry an
    // operation and the term it was appended in). In memory: the role (follower, candidate,
    // leader), the leader it knows, the commit index and how far the registers have applied
    // the log, when the election timeout runs out; for a candidate, the votes it got; for a
    // leader, per follower the next index to send and how far its log is known to match,
    // and which client waits for the entry at which index.
}

impl RaftView for RaftNode {
    // TODO: what the grader reads of your node, to check election safety and the log's
    // safety after every event. As handed out, every node says it is in term 0 with an
    // empty log and leads nothing, so no leader is ever elected, and every scenario fails on
    // `leader_elected` or `ok_min`.

    fn term(&self) -> u64 {
        0
    }

    fn is_leader(&self) -> bool {
        false
    }

    fn log_len(&self) -> u64 {
        0
    }

    fn entry_term(&self, _index: u64) -> Option<u64> {
        None
    }

    fn commit_index(&self) -> u64 {
        0
    }
}

impl Process for RaftNode {
    type Message = Msg;
    type Timer = Tick;

    fn on_start(&mut self, _ctx: &mut Ctx<'_, Self>) {
        // TODO: this runs when the node boots, and again after every restart
        // (`ctx.is_restart()`). A restarted node is built anew by `Protocol::new`: its term,
        // vote and log come back from `ctx.storage()` (`given::get_u64`, `given::read_log`).
        // Then start the election timer: `ctx.set_timer(delay, Tick::...)` fires `on_timer`
        // once after `delay`; `ctx.random_duration(low..=high)` draws a random delay, so that
        // the nodes do not all time out together.
    }

    fn on_message(&mut self, _ctx: &mut Ctx<'_, Self>, _from: NodeId, msg: Msg) {
        // TODO: what a node does with each message. Whatever the message, one that carries a
        // newer term than the node's moves it to that term, as a follower that has not voted
        // in it; one that carries an older term is answered with the node's own, and
        // otherwise ignored.
        match msg {
            Msg::RequestVote {} => {}
            Msg::Vote {} => {}
            Msg::Append {} => {}
            Msg::Appended {} => {}
        }
    }

    fn on_timer(&mut self, _ctx: &mut Ctx<'_, Self>, _timer: TimerId, tag: Tick) {
        // TODO: a follower or candidate whose election timeout has passed starts an
        // election: the next term, a vote for itself, synced, and a vote request to every
        // peer. A candidate with the votes of a majority, itself included, becomes leader:
        // call `given::announce_leader(ctx, term)` then, as the scenarios find the leader by
        // that note. A leader sends every follower an append on each heartbeat, entries or
        // none, so that no one starts an election while it is alive.
        match tag {}
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: Request) {
        // TODO: only the leader serves. Another node answers `Reply::Redirect(leader)`
        // (`None` while it knows no leader: the client tries the next node). The leader
        // appends the operation, reads too, to its log, syncs it, sends it on, and keeps the
        // request's `id` until the entry is committed and applied (`given::execute`); then it
        // answers `ctx.reply(request.id, reply)`. A leader that steps down answers the
        // clients it kept `Reply::Info(..)`: it cannot tell whether their entries will be
        // committed. As it is, every request is refused.
        ctx.reply(request.id, Reply::Fail("no leader yet"));
    }
}

impl Protocol for RaftNode {
    const NAME: &'static str = "raft-exercise";
    const SUMMARY: &'static str =
        "Raft written in parts: leader election, log replication, safety across crashes";
    type Params = Params;
    const PARAM_DOCS: &'static [ParamDoc] = &[];
    const BUG_DOCS: &'static [BugDoc] = &[];

    fn workloads() -> &'static [Model] {
        &[Model::Register, Model::CasRegister]
    }

    fn properties() -> Vec<Property<Self>> {
        // Election safety, the log's safety, a leader elected and staying: see `given.rs`.
        // The clients' history is checked by `linearizable`, which the workload adds.
        given::properties()
    }

    fn new(_id: NodeId, _node_count: u32, _params: &Params, _bug: Option<&'static str>) -> Self {
        // TODO: a node as it boots, the first time and after every restart: a follower in
        // term 0 with an empty log. `ctx.id()` and `ctx.node_count()` tell a handler the same
        // as `_id` and `_node_count` tell you here; `ctx.peers()` lists the other nodes.
        RaftNode {
            store: Store::new(),
        }
    }
}
