//! Exercise 2, broadcast: every node keeps a set of elements, and every element added at any
//! node must end up at every node.
//!
//! Clients call `add` on any node, with an element no other `add` carries, and `read` on any
//! node, which answers with every element that node holds. An element whose `add` was
//! acknowledged must be in every read that begins long enough afterwards, wherever it runs,
//! even though the network loses messages and partitions cut nodes apart for a while.
//!
//! Your work goes where the `TODO`s are. Keep the names of the types, `NAME` and `properties`
//! as they are, and `given.rs` too: the scenarios and the grader rely on them.

use faultline::check::Property;
use faultline::history::Value;
use faultline::protocol::{BugDoc, ParamDoc};
use faultline::workload::{ClientOp, Model, Reply, Request};
use faultline::{Ctx, NodeId, Process, Protocol, TimerId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// `params:` in a scenario: the protocol has none, so a scenario that sets one is an error.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Params {}

/// What nodes send each other.
// TODO: add the messages your nodes exchange, e.g. a variant carrying elements. An enum
// without variants cannot be built, so as handed out no node can send anything.
#[derive(Clone, Debug, Hash)]
pub enum Msg {}

/// What a node's timers carry.
// TODO: a variant for each kind of timer you set, e.g. one that says it is time to send
// again what a peer has not confirmed.
#[derive(Clone, Debug, Hash)]
pub enum Tick {}

/// One node. Its `Debug` is what `run --html run.html --states` shows of it; `Clone` and `Hash`
/// let faultline copy a node's state and recognise one it has seen, so keep them derived.
#[derive(Clone, Debug, Hash)]
pub struct GossipSet {
    /// The elements this node holds.
    elements: BTreeSet<i64>,
    // TODO: what a node must remember to get its elements to every peer, and to know which
    // peers still lack which elements.
}

impl Process for GossipSet {
    type Message = Msg;
    type Timer = Tick;

    fn on_start(&mut self, _ctx: &mut Ctx<'_, Self>) {
        // TODO: this runs when the node boots. A node that sends anything more than once
        // needs a timer to do it: `ctx.set_timer(delay, Tick::...)` fires `on_timer` after
        // `delay` (a `SimDuration`), once; set it again from `on_timer` to keep it going.
    }

    fn on_message(&mut self, _ctx: &mut Ctx<'_, Self>, _from: NodeId, msg: Msg) {
        // TODO: what a node does with each message from a peer.
        match msg {}
    }

    fn on_timer(&mut self, _ctx: &mut Ctx<'_, Self>, _timer: TimerId, tag: Tick) {
        // TODO: what a node does when each of its timers fires.
        match tag {}
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: Request) {
        let reply = match request.op {
            ClientOp::Add { value } => {
                // TODO: the element must reach every other node too, through lost messages
                // and partitions. As it is, it stays here and no other node learns of it.
                self.elements.insert(value);
                Reply::Ok(Value::Nil)
            }
            ClientOp::Read { .. } => {
                // TODO: answer with every element this node holds:
                //     Value::List(self.elements.iter().map(|&e| Value::Int(e)).collect())
                // As it is, every read comes back empty, and every scenario fails on
                // `set_full`: the elements acknowledged are missing from the last reads.
                Reply::Ok(Value::List(Vec::new()))
            }
            _ => Reply::Fail("this node serves only add and read"),
        };
        ctx.reply(request.id, reply);
    }
}

impl Protocol for GossipSet {
    const NAME: &'static str = "gossip-set";
    const SUMMARY: &'static str =
        "a set every node can add to, gossiped to every node through loss and partitions";
    type Params = Params;
    const PARAM_DOCS: &'static [ParamDoc] = &[];
    const BUG_DOCS: &'static [BugDoc] = &[];

    fn workloads() -> &'static [Model] {
        &[Model::Set]
    }

    fn properties() -> Vec<Property<Self>> {
        // The clients' history is checked by `set_full`, which the `set` workload adds.
        Vec::new()
    }

    fn new(_id: NodeId, _node_count: u32, _params: &Params, _bug: Option<&'static str>) -> Self {
        // TODO: a node as it boots. `ctx.id()` and `ctx.node_count()` tell a handler the same
        // as `_id` and `_node_count` tell you here; `ctx.peers()` lists the other nodes.
        GossipSet {
            elements: BTreeSet::new(),
        }
    }
}
