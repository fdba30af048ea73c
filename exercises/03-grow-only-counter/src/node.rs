//! Exercise 3, grow-only counter: one number that clients add to at any node and read at any
//! node, kept in seq-kv, a sequentially consistent key-value service the run provides.
//!
//! Clients call `add` with a number (never negative) on any node, and `read` on any node,
//! which answers with the counter's value. Every read must count every add acknowledged
//! before the read began, and nothing that was never added, even though nodes crash and the
//! network loses messages, the calls to seq-kv and their answers among them.
//!
//! Your work goes where the `TODO`s are. Keep the names of the types, `NAME`, `SERVICES` and
//! `properties` as they are, and `given.rs` too: the scenarios and the grader rely on them.

use faultline::check::Property;
use faultline::history::Value;
use faultline::protocol::{BugDoc, ParamDoc};
use faultline::services::{Service, ServiceReply};
use faultline::workload::{ClientOp, Model, Reply, Request};
use faultline::{Ctx, NodeId, Process, Protocol, TimerId};
use serde::{Deserialize, Serialize};

/// `params:` in a scenario: the protocol has none, so a scenario that sets one is an error.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Params {}

/// What nodes send each other. seq-kv may be all the nodes need to share; add variants if
/// your design has nodes talk to each other too.
#[derive(Clone, Debug, Hash)]
pub enum Msg {}

/// What a node's timers carry.
// TODO: a variant for each kind of timer you set, e.g. one that says it is time to ask seq-kv
// again what it has not answered. An enum without variants cannot be built, so as handed out
// no node can set a timer.
#[derive(Clone, Debug, Hash)]
pub enum Tick {}

/// One node. Its `Debug` is what `run --html run.html --states` shows of it; `Clone` and `Hash`
/// let faultline copy a node's state and recognise one it has seen, so keep them derived.
#[derive(Clone, Debug, Hash)]
pub struct Counter {
    // TODO: what a node must remember: the adds it has not stored yet and the clients waiting
    // for them, the reads in progress, and which call to seq-kv was made for what. Remember
    // that a crash wipes all of it: what must survive a crash belongs in seq-kv.
}

impl Process for Counter {
    type Message = Msg;
    type Timer = Tick;

    fn on_start(&mut self, _ctx: &mut Ctx<'_, Self>) {
        // TODO: this runs when the node boots, and again when it restarts after a crash (with
        // a fresh `Counter` from `new`). A node that must retry needs a timer:
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
            ClientOp::Add { value: _ } => {
                // TODO: the add must be counted, in seq-kv, before it is acknowledged: a node
                // that acknowledges first and crashes loses it. As it is, the add is
                // acknowledged and forgotten. To call seq-kv:
                //     let call = ctx.call(Service::SeqKv, KvOp::Cas { key, from, to });
                // (with `use faultline::services::{KvOp, KvResult};` above); the answer comes
                // to `on_service_reply` with the same `call`, or never, if it was lost.
                ctx.reply(request.id, Reply::Ok(Value::Nil));
            }
            ClientOp::Read { .. } => {
                // TODO: answer with the counter's value, once you know it:
                //     ctx.reply(request.id, Reply::Ok(Value::Int(sum)));
                // `request.id` can be kept and answered later, from another handler. As it is,
                // every read answers 0, and every scenario fails on `counter_bounds`: a read
                // missed adds acknowledged before it.
                ctx.reply(request.id, Reply::Ok(Value::Int(0)));
            }
            _ => ctx.reply(
                request.id,
                Reply::Fail("this node serves only add and read"),
            ),
        }
    }

    fn on_service_reply(&mut self, _ctx: &mut Ctx<'_, Self>, _reply: ServiceReply) {
        // TODO: seq-kv answered one of this node's calls: `reply.call` says which,
        // `reply.op` repeats what was asked, and `reply.result` is the answer:
        // `KvResult::Read(value)`, `KvResult::Ok`, or `KvResult::Mismatch(value)` for a
        // compare-and-set that did not match (with what the key held instead).
    }
}

impl Protocol for Counter {
    const NAME: &'static str = "g-counter";
    const SUMMARY: &'static str =
        "a grow-only counter every node can add to, kept in the sequentially consistent seq-kv";
    type Params = Params;
    const PARAM_DOCS: &'static [ParamDoc] = &[];
    const BUG_DOCS: &'static [BugDoc] = &[];
    /// Every run of this protocol provides seq-kv.
    const SERVICES: &'static [Service] = &[Service::SeqKv];

    fn workloads() -> &'static [Model] {
        &[Model::Counter]
    }

    fn properties() -> Vec<Property<Self>> {
        // The clients' history is checked by `counter_bounds`, which the `counter` workload adds.
        Vec::new()
    }

    fn new(_id: NodeId, _node_count: u32, _params: &Params, _bug: Option<&'static str>) -> Self {
        // TODO: a node as it boots. `ctx.id()` and `ctx.node_count()` tell a handler the same
        // as `_id` and `_node_count` tell you here.
        Counter {}
    }
}
