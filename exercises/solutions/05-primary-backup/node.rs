//! Exercise 5, primary-backup: a primary serves a set of registers, copies every operation to
//! its backups before it answers, and hands over to a backup when it fails, without losing an
//! operation it answered.
//!
//! Reference solution. Views are numbered, and view `v`'s primary is node `v mod n`. The
//! primary gives each operation, reads included, the next number, runs it on its copy, syncs
//! the copy and sends it whole to every backup. A backup in the same view adopts a copy that
//! is further along, syncs it and acknowledges how many operations it holds. The primary
//! answers once a majority of the nodes (itself included) hold the operation.
//!
//! A node that has not heard from its view's primary for `SUSPECT_AFTER` moves to the next
//! view: from then on it ignores older views, and it sends every node its copy, with the view
//! in which it got that copy. Any node that hears of a newer view moves to it too and does the
//! same. The new primary waits for the copies of a majority, takes the one from the newest
//! view and, among those, the longest, and only then serves. Any majority shares a node with
//! the majority that held each answered operation; that node sent its copy after it left the
//! old view, so the copy holds the operation. Reads are answered only once a majority of the
//! view holds them, so a primary that a newer view has replaced cannot answer anything.

use super::given::{self, Store};
use faultline::check::Property;
use faultline::protocol::{BugDoc, ParamDoc};
use faultline::workload::{Model, Reply, Request, RequestId};
use faultline::{Ctx, NodeId, Process, Protocol, SimDuration, SimTime, TimerId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How often the primary sends its backups its copy (which also tells them it is alive), and
/// how often a node in a view change sends its copy again: messages get lost.
const HEARTBEAT_INTERVAL: SimDuration = SimDuration::from_millis(50);
/// How long a node hears nothing from its view's primary before it moves to the next view: a
/// few heartbeats, so that a lost message or two does not cost a view change.
const SUSPECT_AFTER: SimDuration = SimDuration::from_millis(300);

const VIEW_KEY: &str = "view";
const COPY_VIEW_KEY: &str = "copy_view";
const OP_KEY: &str = "op";

/// `params:` in a scenario: the protocol has none, so a scenario that sets one is an error.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Params {}

/// What nodes send each other.
#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// The primary of `view` to a backup: my copy, `op` operations long.
    Copy { view: u64, op: u64, store: Store },
    /// A backup to the primary of `view`: I hold your copy up to `op`, durably.
    Ack { view: u64, op: u64 },
    /// I have moved to `view` and ignore older views; my copy, `op` operations long, is the
    /// one I got in `copy_view`.
    ViewChange {
        view: u64,
        copy_view: u64,
        op: u64,
        store: Store,
    },
}

/// What a node's timers carry.
#[derive(Clone, Debug, Hash)]
pub enum Tick {
    /// Send the copy again, and check that the primary is still heard from.
    Heartbeat,
}

/// A copy a node offered the new primary of its view: (`copy_view`, `op`, `store`).
type Offer = (u64, u64, Store);

/// One node. Its `Debug` is what `run --html run.html --states` shows of it; `Clone` and `Hash`
/// let faultline copy a node's state and recognise one it has seen, so keep them derived.
#[derive(Clone, Debug, Hash)]
pub struct PrimaryBackup {
    id: NodeId,
    node_count: u32,
    /// The newest view this node has moved to; it ignores every older one. Durable.
    view: u64,
    /// The view whose primary this node's copy came from: `view` once that view has begun
    /// here, older during a view change. Durable.
    copy_view: u64,
    /// How many operations the copy holds. Durable.
    op: u64,
    /// The copy of the registers. Durable.
    store: Store,
    /// When this node last heard from its view's primary, or moved to its view.
    last_heard: SimTime,
    /// Primary: by node index, how many operations of this view each node holds.
    held: Vec<u64>,
    /// Primary: the clients waiting for an answer, by the number of their operation.
    waiting: BTreeMap<u64, (RequestId, Reply)>,
    /// Primary of a view not begun yet: the copies the other nodes offered, by node index.
    offers: BTreeMap<u32, Offer>,
}

impl PrimaryBackup {
    fn primary_of(&self, view: u64) -> NodeId {
        NodeId((view % u64::from(self.node_count)) as u32)
    }

    fn majority(&self) -> usize {
        self.node_count as usize / 2 + 1
    }

    /// Whether this node is the primary of a view that has begun.
    fn serving(&self) -> bool {
        self.copy_view == self.view && self.primary_of(self.view) == self.id
    }

    /// Makes the view and the copy durable: nothing leaves this node before they are.
    fn persist(&self, ctx: &mut Ctx<'_, Self>) {
        let storage = ctx.storage();
        given::put_u64(storage, VIEW_KEY, self.view);
        given::put_u64(storage, COPY_VIEW_KEY, self.copy_view);
        given::put_u64(storage, OP_KEY, self.op);
        given::put_store(storage, &self.store);
        storage.sync();
    }

    fn recover(&mut self, ctx: &mut Ctx<'_, Self>) {
        let storage = ctx.storage();
        self.view = given::get_u64(storage, VIEW_KEY).unwrap_or(0);
        self.copy_view = given::get_u64(storage, COPY_VIEW_KEY).unwrap_or(0);
        self.op = given::get_u64(storage, OP_KEY).unwrap_or(0);
        self.store = given::get_store(storage);
    }

    /// The primary runs a client's operation and waits for a majority to hold it.
    fn serve(&mut self, ctx: &mut Ctx<'_, Self>, request: Request) {
        let reply = given::execute(&mut self.store, &request.op);
        self.op += 1;
        self.persist(ctx);
        self.waiting.insert(self.op, (request.id, reply));
        self.send_copy(ctx);
        self.answer_held(ctx);
    }

    fn send_copy(&mut self, ctx: &mut Ctx<'_, Self>) {
        let (view, op, store) = (self.view, self.op, self.store.clone());
        ctx.broadcast(Msg::Copy { view, op, store });
    }

    /// Answers every client whose operation a majority of the nodes now holds.
    fn answer_held(&mut self, ctx: &mut Ctx<'_, Self>) {
        if let Some(own) = self.held.get_mut(self.id.index()) {
            *own = self.op;
        }
        let mut held = self.held.clone();
        held.sort_unstable_by(|a, b| b.cmp(a));
        let Some(&committed) = held.get(self.majority() - 1) else {
            return;
        };
        let later = self.waiting.split_off(&(committed + 1));
        for (_, (id, reply)) in std::mem::replace(&mut self.waiting, later) {
            ctx.reply(id, reply);
        }
    }

    /// A primary that leaves its view cannot tell whether the next view kept the operations
    /// its clients wait for: their answer is `info`, maybe done.
    fn step_down(&mut self, ctx: &mut Ctx<'_, Self>) {
        for (_, (id, _)) in std::mem::take(&mut self.waiting) {
            ctx.reply(id, Reply::Info("the primary left its view"));
        }
    }

    fn on_copy(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, view: u64, op: u64, store: Store) {
        if view < self.view || from != self.primary_of(view) {
            return;
        }
        // A copy of a newer view, or the first of this view, replaces this node's copy
        // whatever its length: operations a deposed primary never got a majority for may go.
        if view > self.view || self.copy_view < view || op > self.op {
            if view > self.view {
                self.step_down(ctx);
                self.offers.clear();
            }
            (self.view, self.copy_view, self.op, self.store) = (view, view, op, store);
            self.persist(ctx);
        }
        self.last_heard = ctx.now();
        ctx.send(from, Msg::Ack { view, op: self.op });
    }

    fn on_ack(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, view: u64, op: u64) {
        if view != self.view || !self.serving() {
            return;
        }
        if let Some(held) = self.held.get_mut(from.index()) {
            *held = (*held).max(op);
        }
        self.answer_held(ctx);
    }

    fn on_view_change(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, view: u64, offer: Offer) {
        if view > self.view {
            self.move_to(ctx, view);
        }
        if view != self.view || self.primary_of(view) != self.id {
            return;
        }
        if self.serving() {
            // It missed the copy that began the view.
            let (op, store) = (self.op, self.store.clone());
            ctx.send(from, Msg::Copy { view, op, store });
            return;
        }
        self.offers.insert(from.0, offer);
        self.begin_view_if_offered(ctx);
    }

    /// Leaves the current view for `view`, durably, and offers the copy to its primary.
    fn move_to(&mut self, ctx: &mut Ctx<'_, Self>, view: u64) {
        self.step_down(ctx);
        self.view = view;
        self.offers.clear();
        self.last_heard = ctx.now();
        self.persist(ctx);
        let primary = ctx.node_name(self.primary_of(view)).to_string();
        ctx.annotate(format!("moves to view {view}, whose primary is {primary}"));
        self.send_offer(ctx);
        self.begin_view_if_offered(ctx);
    }

    /// Every node hears of the view change, so that each moves to the view and offers its copy.
    fn send_offer(&mut self, ctx: &mut Ctx<'_, Self>) {
        let (view, copy_view, op, store) = (self.view, self.copy_view, self.op, self.store.clone());
        ctx.broadcast(Msg::ViewChange {
            view,
            copy_view,
            op,
            store,
        });
    }

    /// The new primary begins its view once a majority, itself included, offered a copy: it
    /// takes the copy of the newest view and, of those, the longest.
    fn begin_view_if_offered(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.primary_of(self.view) != self.id || self.offers.len() + 1 < self.majority() {
            return;
        }
        let newest = self
            .offers
            .values()
            .max_by_key(|(copy_view, op, _)| (*copy_view, *op));
        if let Some((copy_view, op, store)) = newest
            && (*copy_view, *op) > (self.copy_view, self.op)
        {
            (self.op, self.store) = (*op, store.clone());
        }
        self.copy_view = self.view;
        self.offers.clear();
        self.held = vec![0; self.node_count as usize];
        self.persist(ctx);
        let (view, op) = (self.view, self.op);
        ctx.annotate(format!("view {view} begins, {op} operations long"));
        self.send_copy(ctx);
        self.answer_held(ctx);
    }

    fn on_heartbeat(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.set_timer(HEARTBEAT_INTERVAL, Tick::Heartbeat);
        if self.serving() {
            self.send_copy(ctx);
            return;
        }
        if self.copy_view < self.view {
            self.send_offer(ctx);
        }
        let silent = ctx.now().saturating_since(self.last_heard);
        if silent > SUSPECT_AFTER {
            let suspected = ctx.node_name(self.primary_of(self.view)).to_string();
            ctx.annotate(format!("{suspected} silent for more than {SUSPECT_AFTER}"));
            self.move_to(ctx, self.view + 1);
        }
    }
}

impl Process for PrimaryBackup {
    type Message = Msg;
    type Timer = Tick;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if ctx.is_restart() {
            self.recover(ctx);
        }
        self.last_heard = ctx.now();
        ctx.set_timer(HEARTBEAT_INTERVAL, Tick::Heartbeat);
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Copy { view, op, store } => self.on_copy(ctx, from, view, op, store),
            Msg::Ack { view, op } => self.on_ack(ctx, from, view, op),
            Msg::ViewChange {
                view,
                copy_view,
                op,
                store,
            } => self.on_view_change(ctx, from, view, (copy_view, op, store)),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _timer: TimerId, tag: Tick) {
        match tag {
            Tick::Heartbeat => self.on_heartbeat(ctx),
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: Request) {
        if self.serving() {
            self.serve(ctx, request);
        } else if self.copy_view == self.view {
            let primary = self.primary_of(self.view);
            ctx.reply(request.id, Reply::Redirect(Some(primary)));
        } else {
            ctx.reply(request.id, Reply::Fail("a view change is under way"));
        }
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

    fn new(id: NodeId, node_count: u32, _params: &Params, _bug: Option<&'static str>) -> Self {
        let node_count = node_count.max(1);
        PrimaryBackup {
            id,
            node_count,
            view: 0,
            copy_view: 0,
            op: 0,
            store: Store::new(),
            last_heard: SimTime::ZERO,
            held: vec![0; node_count as usize],
            waiting: BTreeMap::new(),
            offers: BTreeMap::new(),
        }
    }
}
