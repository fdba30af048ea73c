//! Exercise 1, unique ids: every node hands out ids to clients, and no two requests may ever be
//! given the same one.
//!
//! Clients call `generate` on any node, at any time. Each call must be answered with an id that
//! no other call got, from this node or any other, before or after a crash. Nodes may not ask
//! each other for anything: the grader allows zero messages between nodes.
//!
//! Your work goes where the `TODO`s are. Keep the names of the types, `NAME` and `properties`
//! as they are, and `given.rs` too: the scenarios and the grader rely on them.

use faultline::check::Property;
use faultline::protocol::{BugDoc, ParamDoc};
use faultline::workload::{Model, Reply, Request};
use faultline::{Ctx, NodeId, Process, Protocol, TimerId};
use serde::{Deserialize, Serialize};

/// `params:` in a scenario: the protocol has none, so a scenario that sets one is an error.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Params {}

/// What nodes send each other: nothing. An enum without variants cannot be built, so the
/// compiler itself keeps this protocol free of messages between nodes.
#[derive(Clone, Debug, Hash)]
pub enum Msg {}

/// What a node's timers carry: no timer is needed either.
#[derive(Clone, Debug, Hash)]
pub enum Tick {}

/// One node. Its `Debug` is what `run --html run.html --states` shows of it; `Clone` and `Hash`
/// let faultline copy a node's state and recognise one it has seen, so keep them derived.
#[derive(Clone, Debug, Hash)]
pub struct IdGenerator {
    // TODO: what a node needs to remember from one request to the next.
}

impl Process for IdGenerator {
    type Message = Msg;
    type Timer = Tick;

    fn on_start(&mut self, _ctx: &mut Ctx<'_, Self>) {
        // TODO: this runs when the node boots, and again after every restart
        // (`ctx.is_restart()`). A restarted node is built anew by `Protocol::new`: whatever it
        // must not forget has to come back from `ctx.storage()`.
    }

    fn on_message(&mut self, _ctx: &mut Ctx<'_, Self>, _from: NodeId, msg: Msg) {
        match msg {}
    }

    fn on_timer(&mut self, _ctx: &mut Ctx<'_, Self>, _timer: TimerId, tag: Tick) {
        match tag {}
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: Request) {
        // TODO: answer each `generate` (`request.op` is `ClientOp::Generate`) with an id that
        // no other request gets, anywhere, ever:
        //     ctx.reply(request.id, Reply::Ok(Value::Int(id)));
        // with `Value` from `faultline::history`. Until then every request is refused, and
        // every scenario fails on `requests_answered`.
        ctx.reply(request.id, Reply::Fail("not implemented yet"));
    }
}

impl Protocol for IdGenerator {
    const NAME: &'static str = "id-generator";
    const SUMMARY: &'static str =
        "hands out ids unique across nodes and restarts, without messages between nodes";
    type Params = Params;
    const PARAM_DOCS: &'static [ParamDoc] = &[];
    const BUG_DOCS: &'static [BugDoc] = &[];

    fn workloads() -> &'static [Model] {
        &[Model::UniqueIds]
    }

    fn properties() -> Vec<Property<Self>> {
        vec![Property::at_end(
            "requests_answered",
            "every request that reached a node got an id: none was refused, and none went \
             unanswered by a node that was up and running all the while",
            crate::given::requests_answered,
        )]
    }

    fn new(_id: NodeId, _node_count: u32, _params: &Params, _bug: Option<&'static str>) -> Self {
        // TODO: a node as it boots, the first time and after every restart. `ctx.id()` and
        // `ctx.node_count()` tell a handler the same as `_id` and `_node_count` tell you here.
        IdGenerator {}
    }
}
