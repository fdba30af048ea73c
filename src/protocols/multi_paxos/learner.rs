//! The learner and the state machine: chosen slots, applied in order to a map of keys, and
//! the clients the leader answers once their slot is applied.

use super::durable;
use super::{Ballot, CATCHUP_MAX, Command, Msg, MultiPaxos, PENDING_MAX, Report, Role, SLOTS_MAX};
use crate::process::{Ctx, NodeId};
use crate::protocols::kv_machine;
use crate::workload::{ClientOp, Reply, Request};

impl MultiPaxos {
    /// Records that `value` is chosen in `slot` (at `ballot`), then applies what is ready.
    /// A slot already known keeps its value: the agreement check compares the two.
    pub(super) fn learn(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        slot: u64,
        ballot: Ballot,
        value: Command,
    ) {
        if !(1..=SLOTS_MAX).contains(&slot) {
            return;
        }
        let i = slot as usize - 1;
        if self.log.len() <= i {
            self.log.resize(i + 1, None);
        }
        if self.log[i].is_some() {
            return;
        }
        // Written with the acceptor's next sync: a chosen slot lost in a crash is learned again.
        let bytes = durable::encode_entry(ballot, &value);
        ctx.storage().put(&durable::chosen_key(slot), bytes);
        self.log[i] = Some((ballot, value));
        self.proposals.remove(&slot);
        self.apply_ready(ctx);
    }

    /// Applies chosen slots in order, answering the clients waiting on them.
    fn apply_ready(&mut self, ctx: &mut Ctx<'_, Self>) {
        while let Some(Some((_, command))) = self.log.get(self.applied as usize) {
            let command = command.clone();
            let slot = self.applied + 1;
            self.applied = slot;
            let reply = match &command {
                Command::Noop => None,
                Command::Op { id, op } => Some((*id, kv_machine::apply(&mut self.kv, op))),
            };
            let Some(waiting) = self.pending.remove(&slot) else {
                continue;
            };
            match reply {
                Some((id, reply)) if id == waiting => ctx.reply(id, reply),
                // Proposed only in this slot, and the slot holds something else: never done.
                _ => ctx.reply(
                    waiting,
                    Reply::Fail("another command was chosen in its slot"),
                ),
            }
        }
    }

    /// Sends a learner that lags the chosen slots it asked for, a bounded batch at a time.
    pub(super) fn on_catch_up(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, slot: u64) {
        let start = slot.max(1) as usize - 1;
        let entries: Vec<Report> = (slot.max(1)..)
            .zip(self.log.iter().skip(start))
            .filter_map(|(s, e)| e.as_ref().map(|(b, v)| (s, *b, v.clone())))
            .take(CATCHUP_MAX)
            .collect();
        if !entries.is_empty() {
            ctx.send(from, Msg::Chosen { entries });
        }
    }

    /// Learns a batch of chosen slots; asks for more if the batch was full.
    pub(super) fn on_chosen(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        entries: Vec<Report>,
    ) {
        let full = entries.len() >= CATCHUP_MAX;
        for (slot, ballot, value) in entries {
            self.learn(ctx, slot, ballot, value);
        }
        if full {
            let next = self.applied + 1;
            ctx.send(from, Msg::CatchUp { from: next });
        }
    }

    /// The leader puts the operation in the next free slot; the client is answered when the
    /// slot is applied. Others redirect to the leader they follow.
    pub(super) fn serve(&mut self, ctx: &mut Ctx<'_, Self>, request: Request) {
        if self.role != Role::Leader {
            let leader = self.leader().filter(|&l| l != self.id);
            ctx.reply(request.id, Reply::Redirect(leader));
            return;
        }
        let refused = match request.op {
            ClientOp::Generate | ClientOp::Txn(_) => Some("multi-paxos serves no such operation"),
            _ if self.pending.len() >= PENDING_MAX => Some("too many operations in flight"),
            _ if self.log_full() => Some("the log is full: this run reached its slot limit"),
            _ => None,
        };
        if let Some(why) = refused {
            ctx.reply(request.id, Reply::Fail(why));
            return;
        }
        let slot = self.next_slot;
        self.next_slot += 1;
        self.pending.insert(slot, request.id);
        let value = Command::Op {
            id: request.id,
            op: request.op,
        };
        self.propose(ctx, slot, value);
    }
}
