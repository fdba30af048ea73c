//! The `lease-reads` bug: the primary answers reads from its own copy while it holds a
//! time lease, instead of sending them through the backup.
//!
//! The lease is the classic one, and it is correct while every clock runs at the same rate:
//! with each heartbeat the primary sends its backup the time on its own clock; the backup,
//! which will not take over before `suspect_after` of silence, echoes it back; the primary
//! then reads locally until that time plus `suspect_after`. The backup heard the ping after
//! it was sent, so it cannot start a new view before the lease ends. What makes it a bug is
//! that the two waits are measured on two different clocks: a primary whose clock runs slow
//! (or jumps back) holds its lease for longer in real time than the backup waits, and in
//! between it answers reads from a copy the new primary is already writing past.

use super::{Effect, Msg, PrimaryBackup, params::Bug};
use crate::history::Value;
use crate::process::{Ctx, NodeId};
use crate::time::SimTime;
use crate::workload::{ClientOp, Reply, Request};

impl PrimaryBackup {
    /// Primary under the bug: a heartbeat to the backup that carries the primary's clock.
    pub(super) fn send_lease(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.bug != Some(Bug::LeaseReads) {
            return;
        }
        if let Some(backup) = self.backup_of(self.view) {
            let sent = ctx.now();
            ctx.send(
                backup,
                Msg::Lease {
                    view: self.view,
                    sent,
                },
            );
        }
    }

    /// Backup: the lease message is a ping from its primary; it echoes the time back.
    pub(super) fn on_lease(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        view: u64,
        sent: SimTime,
    ) {
        if view == self.view && self.is_backup() && from == self.primary_of(view) {
            self.last_heard = ctx.now();
            ctx.send(from, Msg::LeaseAck { view, sent });
        }
    }

    /// Primary: the backup heard the ping of `sent`, so it waits until `sent + suspect_after`.
    pub(super) fn on_lease_ack(&mut self, view: u64, sent: SimTime) {
        if view == self.view && self.active {
            let until = SimTime(sent.0.saturating_add(self.suspect_after.0));
            self.lease_until = self.lease_until.max(until);
        }
    }

    /// Under the bug, the primary's copy as of the last operation the backup acknowledged:
    /// taken whole when a view begins, then advanced by each acknowledged operation.
    pub(super) fn lease_commit(&mut self, effect: Option<&Effect>) {
        if self.bug != Some(Bug::LeaseReads) {
            return;
        }
        match effect {
            None => self.committed = self.store.clone(),
            Some(Some((key, value))) => {
                self.committed.insert(*key, value.clone());
            }
            Some(None) => {}
        }
    }

    /// Answers a read from the primary's acknowledged copy while the lease lasts on its
    /// clock. Returns whether it answered.
    pub(super) fn lease_read(&mut self, ctx: &mut Ctx<'_, Self>, request: &Request) -> bool {
        let ClientOp::Read { key } = request.op else {
            return false;
        };
        if self.bug != Some(Bug::LeaseReads) || ctx.now() >= self.lease_until {
            return false;
        }
        let value = self.committed.get(&key).cloned().unwrap_or(Value::Nil);
        ctx.reply(request.id, Reply::Ok(value));
        true
    }
}
