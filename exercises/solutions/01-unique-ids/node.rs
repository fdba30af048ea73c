//! Exercise 1, unique ids: every node hands out ids to clients, and no two requests may ever be
//! given the same one.
//!
//! Reference solution. Node `k` of `n` hands out `k + n`, `k + 2n`, `k + 3n`, ...: the id's
//! remainder modulo `n` names the node that made it, so no two nodes can make the same id and
//! none needs to ask another. How many ids a node has handed out is synced to its storage
//! before each reply, so a restarted node goes on from where the last reply left it.

use faultline::check::Property;
use faultline::history::Value;
use faultline::protocol::{BugDoc, ParamDoc};
use faultline::workload::{ClientOp, Model, Reply, Request};
use faultline::{Ctx, NodeId, Process, Protocol, Storage, TimerId};
use serde::{Deserialize, Serialize};

/// Where a node keeps how many ids it has handed out, over all its restarts.
const KEY_ISSUED: &str = "issued";

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
    /// How many ids this node has handed out, in this life and the ones before it.
    issued: u64,
}

impl IdGenerator {
    /// The next id of this node, durable before it is returned; `None` once ids no longer fit
    /// in the `i64` a reply carries.
    fn next_id(&mut self, ctx: &mut Ctx<'_, Self>) -> Option<i64> {
        let issued = self.issued.checked_add(1)?;
        let id = issued
            .checked_mul(u64::from(ctx.node_count()))?
            .checked_add(u64::from(ctx.id().0))?;
        let id = i64::try_from(id).ok()?;
        self.issued = issued;
        let storage = ctx.storage();
        storage.put(KEY_ISSUED, issued.to_le_bytes());
        // Once the id leaves, a crash must not take the count back below it: a write that is
        // not synced is lost in a crash, and the restarted node would hand the id out again.
        storage.sync();
        Some(id)
    }
}

fn read_issued(storage: &Storage) -> Option<u64> {
    let bytes: [u8; 8] = storage.get(KEY_ISSUED)?.try_into().ok()?;
    Some(u64::from_le_bytes(bytes))
}

impl Process for IdGenerator {
    type Message = Msg;
    type Timer = Tick;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        // A restart builds the node anew, counting from zero; what it synced before the crash
        // says how far it had already gone.
        self.issued = read_issued(ctx.storage()).unwrap_or(0);
    }

    fn on_message(&mut self, _ctx: &mut Ctx<'_, Self>, _from: NodeId, msg: Msg) {
        match msg {}
    }

    fn on_timer(&mut self, _ctx: &mut Ctx<'_, Self>, _timer: TimerId, tag: Tick) {
        match tag {}
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: Request) {
        let reply = if request.op != ClientOp::Generate {
            Reply::Fail("this node only generates ids")
        } else {
            match self.next_id(ctx) {
                Some(id) => Reply::Ok(Value::Int(id)),
                None => Reply::Fail("this node has no ids left"),
            }
        };
        ctx.reply(request.id, reply);
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
        IdGenerator { issued: 0 }
    }
}
