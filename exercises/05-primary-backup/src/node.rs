//! Exercise 5, primary-backup: a primary serves a set of registers, copies every operation to
//! its backups before it answers, and hands over to a backup when it fails, without losing an
//! operation it answered.
//!
//! Clients `read` and `write` registers (keys 0, 1, 2) at any node. One node at a time, the
//! primary, serves them; the others are its backups. Every answer must be one that some order
//! of the operations, each placed between its request and its answer, explains: a value
//! written and acknowledged may not disappear, neither when the primary crashes and a backup
//! takes over nor when a partition cuts the primary off from the others.
//!
//! Your work goes where the `TODO`s are. Keep the names of the types, `NAME` and `properties`
//! as they are, and `given.rs` too: the scenarios and the grader rely on them.

use super::given::{self, Store};
use faultline::check::Property;
use faultline::protocol::{BugDoc, ParamDoc};
use faultline::workload::{Model, Request};
use faultline::{Ctx, NodeId, Process, Protocol, TimerId};
use serde::{Deserialize, Serialize};

/// `params:` in a scenario: the protocol has none, so a scenario that sets one is an error.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Params {}

/// What nodes send each other.
// TODO: the messages your nodes exchange: at least one that carries the primary's operations
// (or its whole copy: the store is small) to a backup, one that tells the primary what a
// backup holds, and one for a view change. Give each the view it belongs to, so that a node
// can tell a message of an old view from one of its own. An enum without variants cannot be
// built, so as handed out no node can send anything.
#[derive(Clone, Debug, Hash)]
pub enum Msg {}

/// What a node's timers carry.
// TODO: a variant for each kind of timer you set, e.g. a heartbeat, on which the primary
// tells its backups it is alive and a backup checks how long ago it last heard from it.
#[derive(Clone, Debug, Hash)]
pub enum Tick {}

/// One node. Its `Debug` is what `run --html run.html --states` shows of it; `Clone` and `Hash`
/// let faultline copy a node's state and recognise one it has seen, so keep them derived.
#[derive(Clone, Debug, Hash)]
pub struct PrimaryBackup {
    /// This node's copy of the registers.
    store: Store,
    // TODO: what a node must remember: the view it is in (view `v`'s primary is node
    // `v mod n`), how many operations its copy holds, when it last heard from its primary;
    // for the primary, what each backup holds and which clients wait for an answer; for the
    // primary of a new view, the copies the others sent it.
}

impl Process for PrimaryBackup {
    type Message = Msg;
    type Timer = Tick;

    fn on_start(&mut self, _ctx: &mut Ctx<'_, Self>) {
        // TODO: this runs when the node boots, and again after every restart
        // (`ctx.is_restart()`). A restarted node is built anew by `Protocol::new`: what it
        // must not forget comes back from `ctx.storage()` (see `given.rs`). Start the
        // heartbeat here: `ctx.set_timer(delay, Tick::...)` fires `on_timer` once after
        // `delay` (a `SimDuration`); set it again from `on_timer` to keep it going.
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
        // TODO: only the primary of a view that has begun may serve. Another node answers
        // `Reply::Redirect(Some(primary))`, or `Reply::Fail(..)` while it does not know who
        // that is. The primary runs the operation (reads too), sends it on to the backups,
        // and answers only once enough of them hold it, keeping the request's `id` till then.
        // As it is, every node answers at once from its own copy and tells no one: a client
        // reads at one node what it never wrote there, and every scenario fails on
        // `linearizable`.
        let reply = given::execute(&mut self.store, &request.op);
        ctx.reply(request.id, reply);
    }
}

impl Protocol for PrimaryBackup {
    const NAME: &'static str = "primary-backup-exercise";
    const SUMMARY: &'static str =
        "registers served by a primary that copies every operation to its backups, with failover";
    type Params = Params;
    const PARAM_DOCS: &'static [ParamDoc] = &[];
    const BUG_DOCS: &'static [BugDoc] = &[];

    fn workloads() -> &'static [Model] {
        &[Model::Register, Model::CasRegister]
    }

    fn properties() -> Vec<Property<Self>> {
        // The clients' history is checked by `linearizable`, which the workload adds.
        Vec::new()
    }

    fn new(_id: NodeId, _node_count: u32, _params: &Params, _bug: Option<&'static str>) -> Self {
        // TODO: a node as it boots, the first time and after every restart. `ctx.id()` and
        // `ctx.node_count()` tell a handler the same as `_id` and `_node_count` tell you here;
        // `ctx.peers()` lists the other nodes. Every node starts in view 0, whose primary is
        // n1 (`NodeId(0)`), with the same empty copy.
        PrimaryBackup {
            store: Store::new(),
        }
    }
}
