//! Exercise 4, a Kafka-style log: one append-only log per key, which clients send messages
//! to at any node and consume at any node as one consumer group, kept in lin-kv, a
//! linearizable key-value service the run provides.
//!
//! Clients call `send` (a message for a key's log: answered with the offset it got), `poll`
//! (the messages from an offset on), `commit` (the group's next offset to read) and
//! `committed` (the group's committed offset). No acknowledged message may be lost,
//! reordered, duplicated, or skipped by the group, even though nodes crash and the network
//! loses calls.
//!
//! Your work goes where the `TODO`s are. Keep the names of the types, `NAME`, `SERVICES` and
//! `properties` as they are, and `given.rs` too: the scenarios and the grader rely on them.

use super::given::{self, committed_reply, offset_reply, poll_reply};
use faultline::check::Property;
use faultline::protocol::{BugDoc, ParamDoc};
use faultline::services::{Service, ServiceReply};
use faultline::workload::{ClientOp, Model, Reply, Request};
use faultline::{Ctx, NodeId, Process, Protocol, TimerId};
use serde::{Deserialize, Serialize};

/// `params:` in a scenario: the protocol has none, so a scenario that sets one is an error.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Params {}

/// What nodes send each other. lin-kv may be all the nodes need to share; add variants if
/// your design has nodes talk to each other too.
#[derive(Clone, Debug, Hash)]
pub enum Msg {}

/// What a node's timers carry.
// TODO: a variant for each kind of timer you set, e.g. one that says it is time to ask lin-kv
// again what it has not answered. An enum without variants cannot be built, so as handed out
// no node can set a timer.
#[derive(Clone, Debug, Hash)]
pub enum Tick {}

/// One node. Its `Debug` is what `run --html run.html --states` shows of it; `Clone` and `Hash`
/// let faultline copy a node's state and recognise one it has seen, so keep them derived.
#[derive(Clone, Debug, Hash)]
pub struct KafkaLog {
    // TODO: what a node must remember: the clients' requests in progress, what each is
    // waiting for, and which call to lin-kv was made for what. A crash wipes all of it: what
    // must survive a crash, the logs above all, belongs in lin-kv.
}

impl Process for KafkaLog {
    type Message = Msg;
    type Timer = Tick;

    fn on_start(&mut self, _ctx: &mut Ctx<'_, Self>) {
        // TODO: this runs when the node boots, and again when it restarts after a crash (with
        // a fresh `KafkaLog` from `new`). A node that must retry needs a timer:
        // `ctx.set_timer(delay, Tick::...)` fires `on_timer` after `delay` (a `SimDuration`),
        // once; set it again from `on_timer` to keep it going.
    }

    fn on_message(&mut self, _ctx: &mut Ctx<'_, Self>, _from: NodeId, msg: Msg) {
        match msg {}
    }

    fn on_timer(&mut self, _ctx: &mut Ctx<'_, Self>, _timer: TimerId, tag: Tick) {
        // TODO: what a node does when each of its timers fires.
        match tag {}
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: Request) {
        match request.op {
            ClientOp::Send { key: _, msg: _ } => {
                // TODO: the message needs an offset of its own in the key's log, and must be
                // in lin-kv before the send is acknowledged. As it is, every message is told
                // it is at offset 0, and forgotten. To call lin-kv:
                //     let call = ctx.call(Service::LinKv, KvOp::Cas { key, from, to });
                // (with `use faultline::services::{KvOp, KvResult};` above, and the keys of
                // `given.rs`); the answer comes to `on_service_reply` with the same `call`,
                // or never, if it was lost.
                ctx.reply(request.id, offset_reply(0));
            }
            ClientOp::Poll { key: _, offset: _ } => {
                // TODO: answer with the messages from `offset` on, at most
                // `given::POLL_BATCH_MAX` of them, in offset order:
                //     ctx.reply(request.id, poll_reply(&[(offset, msg), ...]));
                // `request.id` can be kept and answered later, from another handler. As it
                // is, a poll never finds anything.
                ctx.reply(request.id, poll_reply(&[]));
            }
            ClientOp::Commit { key: _, offset } => {
                // TODO: the group's committed offset of `key` becomes `offset`, unless it is
                // higher already. As it is, the commit is acknowledged and forgotten.
                ctx.reply(request.id, offset_reply(offset));
            }
            ClientOp::Committed { key: _ } => {
                // TODO: answer with the group's committed offset of `key`. As it is, the
                // answer is always that nothing was committed.
                ctx.reply(request.id, committed_reply(None));
            }
            _ => ctx.reply(
                request.id,
                Reply::Fail("this node serves only send, poll, commit and committed"),
            ),
        }
    }

    fn on_service_reply(&mut self, _ctx: &mut Ctx<'_, Self>, _reply: ServiceReply) {
        // TODO: lin-kv answered one of this node's calls: `reply.call` says which,
        // `reply.op` repeats what was asked, and `reply.result` is the answer:
        // `KvResult::Read(value)`, `KvResult::Ok`, or `KvResult::Mismatch(value)` for a
        // compare-and-set that did not match (with what the key held instead).
    }
}

impl Protocol for KafkaLog {
    const NAME: &'static str = "kafka-log";
    const SUMMARY: &'static str =
        "one append-only log per key, consumed by one group, kept in the linearizable lin-kv";
    type Params = Params;
    const PARAM_DOCS: &'static [ParamDoc] = &[];
    const BUG_DOCS: &'static [BugDoc] = &[];
    /// Every run of this protocol provides lin-kv.
    const SERVICES: &'static [Service] = &[Service::LinKv];

    fn workloads() -> &'static [Model] {
        &[Model::Log]
    }

    fn properties() -> Vec<Property<Self>> {
        // Every acknowledged message consumed in time: see `given.rs`. The clients' history
        // is checked by `log_consistent`, which the `log` workload adds.
        given::properties()
    }

    fn new(_id: NodeId, _node_count: u32, _params: &Params, _bug: Option<&'static str>) -> Self {
        // TODO: a node as it boots. `ctx.id()` and `ctx.node_count()` tell a handler the same
        // as `_id` and `_node_count` tell you here.
        KafkaLog {}
    }
}
