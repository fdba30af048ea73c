//! Views: the backup's take-over when the primary falls silent, the new view announced and
//! acknowledged, heartbeats and retransmission.

use super::durable::{encode, storage_key};
use super::params::Bug;
use super::{Msg, OP_KEY, PrimaryBackup, RETRANSMIT_MAX, Tick};
use crate::history::Value;
use crate::process::{Ctx, NodeId};
use crate::workload::Reply;
use std::collections::BTreeMap;

impl PrimaryBackup {
    /// The backup of `view` adopts its primary's state, unless it is older than its own.
    pub(super) fn on_start_view(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        view: u64,
        op: u64,
        store: BTreeMap<u32, Value>,
    ) {
        if view < self.view {
            ctx.send(from, Msg::Refuse { view: self.view });
            return;
        }
        if self.backup_of(view) != Some(self.id) || from != self.primary_of(view) {
            return;
        }
        // A repeated or delayed start of the same view never takes operations away.
        if view > self.view || op >= self.op {
            self.step_down(ctx);
            self.adopt(ctx, view, op, store);
        }
        self.last_heard = ctx.now();
        if self.op == op {
            ctx.send(from, Msg::ViewAck { view, op });
        }
    }

    /// Replaces this node's state by its new primary's, durably.
    fn adopt(&mut self, ctx: &mut Ctx<'_, Self>, view: u64, op: u64, store: BTreeMap<u32, Value>) {
        for key in self.store.keys().filter(|k| !store.contains_key(k)) {
            ctx.storage().delete(&storage_key(*key));
        }
        for (key, value) in &store {
            ctx.storage().put(&storage_key(*key), encode(value));
        }
        ctx.storage().put(OP_KEY, op.to_le_bytes());
        (self.view, self.op, self.store) = (view, op, store);
        self.early.clear();
        self.latest = self.latest.max(view);
        self.persist_view(ctx);
    }

    /// A primary that learns of a newer view stops serving; its waiting clients get `info`,
    /// since the backup may or may not have applied their operations before it moved on.
    pub(super) fn step_down(&mut self, ctx: &mut Ctx<'_, Self>) {
        for (_, p) in std::mem::take(&mut self.pending) {
            if let Some(id) = p.request {
                ctx.reply(id, Reply::Info("the primary was replaced by a newer view"));
            }
        }
        self.active = false;
    }

    /// The backup of view `v` takes over as the primary of view `v + 1`.
    fn start_next_view(&mut self, ctx: &mut Ctx<'_, Self>) {
        let suspected = self.primary_of(self.view);
        self.view += 1;
        self.latest = self.view;
        self.persist_view(ctx);
        (self.active, self.acked) = (false, self.op);
        self.early.clear();
        let note = format!(
            "{} silent for more than {}: {} starts view {}",
            ctx.node_name(suspected),
            self.suspect_after,
            ctx.node_name(self.id),
            self.view
        );
        ctx.annotate(note);
        self.send_start_view(ctx);
    }

    pub(super) fn send_start_view(&mut self, ctx: &mut Ctx<'_, Self>) {
        if let Some(backup) = self.backup_of(self.view) {
            let (view, op, store) = (self.view, self.op, self.store.clone());
            ctx.send(backup, Msg::StartView { view, op, store });
        }
    }

    pub(super) fn on_view_ack(&mut self, ctx: &mut Ctx<'_, Self>, view: u64, op: u64) {
        if view == self.view && self.primary_of(view) == self.id && !self.active && op == self.op {
            (self.active, self.acked) = (true, op);
            self.lease_commit(None);
            ctx.annotate(format!("view {view} begins, {op} operations long"));
        }
    }

    pub(super) fn on_heartbeat(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.set_timer(self.heartbeat, Tick::Heartbeat);
        let current = self.latest == self.view || self.bug == Some(Bug::NoViewCheck);
        if self.primary_of(self.view) == self.id && current {
            if !self.active {
                self.send_start_view(ctx);
                return;
            }
            ctx.broadcast(Msg::Ping { view: self.view });
            self.send_lease(ctx);
            self.retransmit(ctx);
        } else if self.is_backup() && self.latest == self.view {
            let silent = ctx.now().0.saturating_sub(self.last_heard.0);
            if silent > self.suspect_after.0 {
                self.start_next_view(ctx);
            }
        }
    }

    /// Sends the backup the first operations it has not acknowledged.
    fn retransmit(&mut self, ctx: &mut Ctx<'_, Self>) {
        let Some(backup) = self.backup_of(self.view) else {
            return;
        };
        let view = self.view;
        for (&op, p) in self.pending.iter().take(RETRANSMIT_MAX) {
            let effect = p.effect.clone();
            ctx.send(backup, Msg::Forward { view, op, effect });
        }
    }
}
