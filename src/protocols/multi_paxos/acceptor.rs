//! The acceptor: one promised ballot for all slots, and per slot the value it accepted last.
//! Both are synced to storage before any answer leaves (unless the `unsynced-promise` bug is
//! on): an acceptor that forgot a promise could accept a lower ballot, and one that forgot an
//! accepted value could let a new leader fill a chosen slot with something else.

use super::durable::{self, PROMISED_KEY};
use super::{Ballot, Bug, Command, Msg, MultiPaxos, Report, Role, SLOTS_MAX};
use crate::process::{Ctx, NodeId};

impl MultiPaxos {
    fn sync(&mut self, ctx: &mut Ctx<'_, Self>) {
        // The bug: the answer leaves while the state is only in the storage's cache.
        if self.bug != Some(Bug::UnsyncedPromise) {
            ctx.storage().sync();
        }
    }

    fn store_promise(&mut self, ctx: &mut Ctx<'_, Self>, ballot: Ballot) {
        if ballot == self.promised {
            return;
        }
        self.promised = ballot;
        let mut bytes = Vec::with_capacity(8);
        durable::encode_ballot(&mut bytes, ballot);
        ctx.storage().put(PROMISED_KEY, bytes);
    }

    /// Promises `ballot` for every slot from `from` on, if nothing higher was promised; the
    /// reports of what was accepted in those slots, or the higher promise that refuses it.
    pub(super) fn promise(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        ballot: Ballot,
        from: u64,
    ) -> Result<Vec<Report>, Ballot> {
        if ballot < self.promised {
            return Err(self.promised);
        }
        self.store_promise(ctx, ballot);
        self.sync(ctx);
        Ok(self
            .accepted
            .range(from..)
            .map(|(&slot, (b, v))| (slot, *b, v.clone()))
            .collect())
    }

    /// Accepts `value` in `slot` at `ballot` unless a higher ballot was promised.
    pub(super) fn accept(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        ballot: Ballot,
        slot: u64,
        value: Command,
    ) -> Result<(), Ballot> {
        if ballot < self.promised {
            return Err(self.promised);
        }
        self.store_promise(ctx, ballot);
        let entry = durable::encode_entry(ballot, &value);
        ctx.storage().put(&durable::accepted_key(slot), entry);
        self.accepted.insert(slot, (ballot, value));
        self.sync(ctx);
        Ok(())
    }

    pub(super) fn on_prepare(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        ballot: Ballot,
        slot: u64,
    ) {
        match self.promise(ctx, ballot, slot) {
            Ok(accepted) => {
                // Someone else is taking over: this node's own ballot is now beaten.
                if self.role != Role::Follower && ballot > self.ballot {
                    self.step_down(ctx);
                }
                self.leader = None;
                self.reset_election_deadline(ctx);
                ctx.send(from, Msg::Promise { ballot, accepted });
            }
            Err(promised) => ctx.send(from, Msg::Nack { ballot, promised }),
        }
    }

    pub(super) fn on_accept(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        ballot: Ballot,
        slot: u64,
        value: Command,
    ) {
        if !(1..=SLOTS_MAX).contains(&slot) {
            return;
        }
        match self.accept(ctx, ballot, slot, value) {
            Ok(()) => {
                self.follow(ctx, from, ballot);
                ctx.send(from, Msg::Accepted { ballot, slot });
            }
            Err(promised) => ctx.send(from, Msg::Nack { ballot, promised }),
        }
    }

    /// Takes `from` as the leader of `ballot` (not below this acceptor's promise).
    pub(super) fn follow(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, ballot: Ballot) {
        if from == self.id {
            return;
        }
        if self.role != Role::Follower && ballot > self.ballot {
            self.step_down(ctx);
        }
        if self.role == Role::Follower {
            self.leader = Some((from, ballot));
            self.reset_election_deadline(ctx);
        }
    }
}
