//! `primary-backup`: primary-backup replication with failover through configured views.
//!
//! Views are numbered, and each view names its two members by arithmetic alone: view `v`'s
//! primary is node `v mod n` and its backup node `(v + 1) mod n`; any other node is a spare
//! that only redirects clients. So view `v + 1`'s primary is view `v`'s backup, and only that
//! node may start view `v + 1`, only while it is view `v`'s backup. No view service and no
//! election are needed: the backup, which already holds every acknowledged operation, is the
//! one to take over.
//!
//! The primary gives every client operation (reads and failed cas included) the next
//! operation number, applies it, syncs it, and forwards its effect to the backup; it answers
//! the client only when the backup has acknowledged that number in the same view. The backup
//! applies forwards in order, syncs them, then acknowledges. Once the backup has moved to a
//! newer view it refuses older views' forwards, so a deposed primary can no longer answer
//! anyone: every answer, read or write, proves that the backup was still in the primary's view.
//!
//! The primary pings every node each `heartbeat_interval`; a backup that has heard nothing
//! from its primary for `suspect_after` starts the next view: it syncs the new view number,
//! then sends its whole state to the new backup, and serves once that backup has adopted it.
//!
//! Assumptions: one failure at a time (a crash, a pause or a partition, then its repair), and
//! failures are detected by timeouts only. Safety never depends on the timeouts; progress
//! stops while the backup of the current view is down or cut off (only the backup can take
//! over, and the primary cannot replace it), and resumes when it is back.

mod checks;
mod durable;
mod lease;
mod params;
#[cfg(test)]
mod tests;
mod view;

use super::{BugDoc, ParamDoc, Protocol};
use crate::check::Property;
use crate::history::Value;
use crate::process::{Ctx, NodeId, Process, TimerId};
use crate::storage::Storage;
use crate::time::{SimDuration, SimTime};
use crate::workload::{ClientOp, Model, Reply, Request, RequestId};
use durable::{KEY_PREFIX, decode, encode, storage_key, text};
pub use params::Params;
use params::{BUG_DOCS, Bug, PARAM_DOCS};
use std::collections::BTreeMap;

/// Shortest heartbeat interval and suspicion timeout: zero would fire timers forever.
pub const INTERVAL_MIN: SimDuration = SimDuration::from_millis(1);
/// Most operations a primary holds unacknowledged; past it, new requests are refused.
pub const PENDING_MAX: usize = 1_024;
/// Most forwards a primary retransmits per heartbeat.
pub const RETRANSMIT_MAX: usize = 64;

const VIEW_KEY: &str = "view";
const OP_KEY: &str = "op";

/// A change an operation makes to one key; reads and failed cas change nothing.
pub type Effect = Option<(u32, Value)>;

/// What primary-backup nodes send each other. Every message carries its sender's view.
#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// New primary to its backup: adopt my whole state, `op` operations long, in `view`.
    StartView {
        view: u64,
        op: u64,
        store: BTreeMap<u32, Value>,
    },
    /// Backup to primary: I hold your state of `view`, `op` operations long, durably.
    ViewAck { view: u64, op: u64 },
    /// Primary to backup: operation number `op` of `view` has this effect.
    Forward { view: u64, op: u64, effect: Effect },
    /// Backup to primary: I hold every operation up to `op` of `view`, durably.
    Ack { view: u64, op: u64 },
    /// To a node of an older view: I am in `view` now; your view is over.
    Refuse { view: u64 },
    /// Primary to every node: `view` is alive and I am its primary.
    Ping { view: u64 },
    /// Under `lease-reads`, primary to backup: a ping sent at `sent` on the primary's clock.
    Lease { view: u64, sent: SimTime },
    /// Under `lease-reads`, backup to primary: I heard your ping of `sent`.
    LeaseAck { view: u64, sent: SimTime },
}

impl Msg {
    fn view(&self) -> u64 {
        match *self {
            Msg::StartView { view, .. }
            | Msg::ViewAck { view, .. }
            | Msg::Forward { view, .. }
            | Msg::Ack { view, .. }
            | Msg::Refuse { view }
            | Msg::Ping { view }
            | Msg::Lease { view, .. }
            | Msg::LeaseAck { view, .. } => view,
        }
    }
}

/// What primary-backup timers carry.
#[derive(Clone, Debug, Hash)]
pub enum Tick {
    /// Ping, retransmit, or check that the primary is still heard from.
    Heartbeat,
}

/// An operation the primary has applied and forwarded but the backup not yet acknowledged.
#[derive(Clone, Debug, Hash)]
struct Pending {
    /// The client waiting for it (none once answered, under `ack-before-backup`).
    request: Option<RequestId>,
    reply: Reply,
    effect: Effect,
}

/// One primary-backup node.
#[derive(Clone, Debug, Hash)]
pub struct PrimaryBackup {
    id: NodeId,
    node_count: u32,
    heartbeat: SimDuration,
    suspect_after: SimDuration,
    bug: Option<Bug>,
    /// The view this node has joined, with its state. Durable.
    view: u64,
    /// The newest view this node has heard of (at least `view`).
    latest: u64,
    /// Primary: its backup has adopted its state for `view`, so it may serve.
    active: bool,
    /// How many operations this node has applied. Durable.
    op: u64,
    /// Each key's value. Durable.
    store: BTreeMap<u32, Value>,
    /// Primary: operations after `acked`, by number.
    pending: BTreeMap<u64, Pending>,
    /// Primary: the backup holds every operation up to this one.
    acked: u64,
    /// The highest operation this node answered a client for as primary, and in which view.
    answered: Option<(u64, u64)>,
    /// Backup: forwards of its view that arrived before the ones they follow, by number.
    early: BTreeMap<u64, Effect>,
    /// Backup: when it last heard from its primary.
    last_heard: SimTime,
    /// Primary under `lease-reads`: until then, on its own clock, it reads locally.
    lease_until: SimTime,
    /// Primary under `lease-reads`: its copy as of the last acknowledged operation.
    committed: BTreeMap<u32, Value>,
}

impl PrimaryBackup {
    /// The primary of `view`.
    pub fn primary_of(&self, view: u64) -> NodeId {
        NodeId((view % u64::from(self.node_count)) as u32)
    }

    /// The backup of `view`; none on a one-node cluster.
    pub fn backup_of(&self, view: u64) -> Option<NodeId> {
        let n = u64::from(self.node_count);
        (n > 1).then(|| NodeId(((view + 1) % n) as u32))
    }

    /// The view this node has joined.
    pub fn view(&self) -> u64 {
        self.view
    }

    /// How many operations this node has applied.
    pub fn op(&self) -> u64 {
        self.op
    }

    /// Each key's value on this node.
    pub fn store(&self) -> &BTreeMap<u32, Value> {
        &self.store
    }

    /// Whether this node answers clients now, as the primary of its view.
    pub fn serving(&self) -> bool {
        self.active
            && self.primary_of(self.view) == self.id
            && (self.latest == self.view || self.bug == Some(Bug::NoViewCheck))
    }

    /// Whether this node is the backup of the view it has joined.
    pub fn is_backup(&self) -> bool {
        self.backup_of(self.view) == Some(self.id)
    }

    /// The highest operation this node answered as primary, with its view.
    pub fn answered(&self) -> Option<(u64, u64)> {
        self.answered
    }

    fn value_of(&self, key: u32) -> Value {
        self.store.get(&key).cloned().unwrap_or(Value::Nil)
    }

    /// What `op` returns on the current state, and what it changes; `None` if not served.
    fn execute(&self, op: &ClientOp) -> Option<(Reply, Effect)> {
        let done = Reply::Ok(Value::Nil);
        Some(match *op {
            ClientOp::Read { key } => (Reply::Ok(self.value_of(key)), None),
            ClientOp::Write { key, value } => (done, Some((key, Value::Int(value)))),
            ClientOp::Append { key, value } => {
                let text = format!("{}{value}", text(&self.value_of(key)));
                (done, Some((key, Value::Str(text))))
            }
            ClientOp::Cas { key, from, to } if self.value_of(key) == Value::Int(from) => {
                (done, Some((key, Value::Int(to))))
            }
            ClientOp::Cas { .. } => (Reply::Fail("cas: the key holds another value"), None),
            ClientOp::Add { .. }
            | ClientOp::Generate
            | ClientOp::Txn(_)
            | ClientOp::Send { .. }
            | ClientOp::Poll { .. }
            | ClientOp::Commit { .. }
            | ClientOp::Committed { .. } => return None,
        })
    }

    /// Applies operation `self.op + 1` and makes it durable before anyone can see it.
    fn apply(&mut self, ctx: &mut Ctx<'_, Self>, effect: &Effect) {
        self.op += 1;
        if let Some((key, value)) = effect {
            ctx.storage().put(&storage_key(*key), encode(value));
            self.store.insert(*key, value.clone());
        }
        ctx.storage().put(OP_KEY, self.op.to_le_bytes());
        ctx.storage().sync();
    }

    fn persist_view(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.storage().put(VIEW_KEY, self.view.to_le_bytes());
        ctx.storage().sync();
    }

    fn recover(&mut self, storage: &Storage) {
        let number = |key| {
            let bytes = storage.get(key)?;
            Some(u64::from_le_bytes(bytes.try_into().ok()?))
        };
        self.view = number(VIEW_KEY).unwrap_or(0);
        self.latest = self.view;
        self.op = number(OP_KEY).unwrap_or(0);
        for name in storage.keys() {
            let key = name.strip_prefix(KEY_PREFIX).and_then(|k| k.parse().ok());
            if let (Some(key), Some(value)) = (key, storage.get(name).and_then(decode)) {
                self.store.insert(key, value);
            }
        }
    }

    /// The primary serves a client: applies the operation, then waits for the backup.
    fn serve(&mut self, ctx: &mut Ctx<'_, Self>, request: Request) {
        if self.pending.len() >= PENDING_MAX {
            ctx.reply(request.id, Reply::Fail("too many operations in flight"));
            return;
        }
        if self.lease_read(ctx, &request) {
            return;
        }
        let Some((reply, effect)) = self.execute(&request.op) else {
            ctx.reply(
                request.id,
                Reply::Fail("primary-backup serves no such operation"),
            );
            return;
        };
        self.apply(ctx, &effect);
        let op = self.op;
        let Some(backup) = self.backup_of(self.view) else {
            // Alone: nobody to wait for.
            self.answer(ctx, op, request.id, reply);
            return;
        };
        if self.bug == Some(Bug::AckBeforeBackup) {
            // The bug: answered now; shipped to the backup with the next heartbeat.
            self.answer(ctx, op, request.id, reply.clone());
            let request = None;
            self.pending.insert(
                op,
                Pending {
                    request,
                    reply,
                    effect,
                },
            );
            return;
        }
        let view = self.view;
        ctx.send(
            backup,
            Msg::Forward {
                view,
                op,
                effect: effect.clone(),
            },
        );
        let request = Some(request.id);
        self.pending.insert(
            op,
            Pending {
                request,
                reply,
                effect,
            },
        );
    }

    fn answer(&mut self, ctx: &mut Ctx<'_, Self>, op: u64, id: RequestId, reply: Reply) {
        ctx.reply(id, reply);
        self.answered = Some((self.answered.map_or(op, |(a, _)| a.max(op)), self.view));
    }

    /// Answers every client whose operation the backup now holds.
    fn on_ack(&mut self, ctx: &mut Ctx<'_, Self>, view: u64, op: u64) {
        if view != self.view || !self.active || op <= self.acked {
            return;
        }
        self.acked = op;
        let rest = self.pending.split_off(&(op + 1));
        for (number, p) in std::mem::replace(&mut self.pending, rest) {
            self.lease_commit(Some(&p.effect));
            if let Some(id) = p.request {
                self.answer(ctx, number, id, p.reply);
            }
        }
    }

    /// The backup applies forwards of its own view in order; it refuses older views.
    fn on_forward(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        view: u64,
        op: u64,
        effect: Effect,
    ) {
        if view < self.view {
            let reply = if self.bug == Some(Bug::NoViewCheck) {
                // The bug: taken for a duplicate of an operation this node already holds.
                Msg::Ack { view, op }
            } else {
                Msg::Refuse { view: self.view }
            };
            ctx.send(from, reply);
            return;
        }
        if view > self.view || !self.is_backup() || from != self.primary_of(view) {
            return; // Not joined yet: the primary sends its state first.
        }
        self.last_heard = ctx.now();
        if op > self.op + 1 && self.early.len() < PENDING_MAX {
            // The network reorders: keep it for when the operations before it arrive.
            self.early.insert(op, effect);
        } else if op == self.op + 1 {
            self.apply(ctx, &effect);
            while let Some(next) = self.early.remove(&(self.op + 1)) {
                self.apply(ctx, &next);
            }
            self.early = self.early.split_off(&(self.op + 1));
        }
        ctx.send(from, Msg::Ack { view, op: self.op });
    }
}

impl Process for PrimaryBackup {
    type Message = Msg;
    type Timer = Tick;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.last_heard = ctx.now();
        ctx.set_timer(self.heartbeat, Tick::Heartbeat);
        if !ctx.is_restart() {
            // Every node starts in view 0 with the same empty state: view 0 needs no start.
            return;
        }
        self.recover(ctx.storage());
        // A restarted primary confirms its backup still holds its state before serving.
        self.active = self.backup_of(self.view).is_none();
        if self.primary_of(self.view) == self.id {
            self.send_start_view(ctx);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        if msg.view() > self.latest {
            self.latest = msg.view();
            if self.bug != Some(Bug::NoViewCheck) && self.primary_of(self.view) == self.id {
                self.step_down(ctx);
            }
        }
        match msg {
            Msg::StartView { view, op, store } => self.on_start_view(ctx, from, view, op, store),
            Msg::ViewAck { view, op } => self.on_view_ack(ctx, view, op),
            Msg::Forward { view, op, effect } => self.on_forward(ctx, from, view, op, effect),
            Msg::Ack { view, op } => self.on_ack(ctx, view, op),
            // Its view has been noted above.
            Msg::Refuse { .. } => {}
            Msg::Ping { view } => {
                if view == self.view && from == self.primary_of(view) {
                    self.last_heard = ctx.now();
                }
            }
            Msg::Lease { view, sent } => self.on_lease(ctx, from, view, sent),
            Msg::LeaseAck { view, sent } => self.on_lease_ack(view, sent),
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
            return;
        }
        let primary = self.primary_of(self.latest);
        if primary == self.id {
            ctx.reply(request.id, Reply::Fail("the primary is starting its view"));
        } else {
            ctx.reply(request.id, Reply::Redirect(Some(primary)));
        }
    }
}

impl Protocol for PrimaryBackup {
    const NAME: &'static str = "primary-backup";
    const SUMMARY: &'static str =
        "primary-backup replication with failover to the backup through numbered views";
    type Params = Params;

    const PARAM_DOCS: &'static [ParamDoc] = PARAM_DOCS;
    const BUG_DOCS: &'static [BugDoc] = BUG_DOCS;

    fn properties() -> Vec<Property<Self>> {
        checks::properties()
    }

    fn workloads() -> &'static [Model] {
        &[Model::Register, Model::CasRegister, Model::Kv]
    }

    fn check_params(params: &Params, _node_count: u32) -> Result<(), String> {
        params.check()
    }

    fn new(id: NodeId, node_count: u32, params: &Params, bug: Option<&'static str>) -> Self {
        if let Err(e) = Self::check_params(params, node_count) {
            panic!("{}: {e}", Self::NAME);
        }
        let bug = bug.map(|name| {
            Bug::from_name(name)
                .unwrap_or_else(|| panic!("primary-backup has no bug variant `{name}`"))
        });
        let node_count = node_count.max(1);
        PrimaryBackup {
            id,
            node_count,
            heartbeat: params.heartbeat_interval,
            suspect_after: params.suspect_after,
            bug,
            view: 0,
            latest: 0,
            // View 0 is everyone's at the start, so its primary may serve at once.
            active: id == NodeId(0),
            op: 0,
            store: BTreeMap::new(),
            pending: BTreeMap::new(),
            acked: 0,
            answered: None,
            early: BTreeMap::new(),
            last_heard: SimTime::ZERO,
            lease_until: SimTime::ZERO,
            committed: BTreeMap::new(),
        }
    }
    /// Primary (once active), backup or neither in its view; view, operations applied and,
    /// at a primary, acknowledged by the backup.
    fn summary(&self) -> crate::Summary {
        use crate::summary::Standing;
        let (role, standing) = if self.primary_of(self.view) == self.id {
            match self.active {
                true => ("primary", Standing::Leader),
                false => ("primary?", Standing::Candidate),
            }
        } else if self.backup_of(self.view) == Some(self.id) {
            ("backup", Standing::Follower)
        } else {
            ("spare", Standing::Follower)
        };
        crate::Summary::new()
            .role(role, standing)
            .field("view", self.view)
            .field("op", self.op)
            .field("acked", self.acked)
            .field("pending", self.pending.len())
    }
}
