//! The distinguished proposer: phase 1 once per leadership for all open slots, recovery of
//! what earlier leaders may have had chosen, phase 2 per slot, heartbeats and stepping down.

use super::{
    Ballot, Bug, Command, Msg, MultiPaxos, Proposal, RESEND_MAX, Report, Role, SLOTS_MAX, Tick,
};
use crate::process::{Ctx, NodeId};
use crate::workload::Reply;
use std::collections::BTreeMap;

impl MultiPaxos {
    /// Phase 1 with a ballot above every round seen, for every slot not known chosen.
    pub(super) fn start_phase1(&mut self, ctx: &mut Ctx<'_, Self>) {
        let round = self
            .round_seen
            .max(self.promised.round)
            .max(self.ballot.round)
            .saturating_add(1);
        self.step_down(ctx);
        self.ballot = Ballot {
            round,
            node: self.id,
        };
        self.role = Role::Candidate;
        self.leader = None;
        self.promises = vec![None; self.node_count as usize];
        self.reset_election_deadline(ctx);
        let (ballot, from) = (self.ballot, self.applied + 1);
        ctx.annotate(format_args!(
            "phase 1: prepare ballot {ballot} from slot {from}"
        ));
        match self.promise(ctx, ballot, from) {
            Ok(own) => self.promises[self.id.index()] = Some(own),
            Err(_) => return self.step_down(ctx),
        }
        ctx.broadcast(Msg::Prepare { ballot, from });
        if self.promises_count() >= self.promise_quorum() {
            self.become_leader(ctx);
        }
    }

    fn promises_count(&self) -> usize {
        self.promises.iter().filter(|p| p.is_some()).count()
    }

    /// How many promises make this node leader.
    fn promise_quorum(&self) -> usize {
        match self.bug {
            // The bug: two such sets of promisers need not share a node, so a new leader's
            // phase 1 can miss what a concurrent leader got chosen.
            Some(Bug::OneShortPromises) => (self.node_count as usize / 2).max(1),
            _ => self.majority(),
        }
    }

    pub(super) fn on_promise(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        ballot: Ballot,
        accepted: Vec<Report>,
    ) {
        if let Some(seen) = self.promises_seen.get_mut(from.index()) {
            *seen = (*seen).max(ballot);
        }
        if self.role != Role::Candidate || ballot != self.ballot {
            return;
        }
        if let Some(slot) = self.promises.get_mut(from.index()) {
            *slot = Some(accepted);
        }
        if self.promises_count() >= self.promise_quorum() {
            self.become_leader(ctx);
        }
    }

    /// Per slot above the chosen prefix, the highest-ballot value the promises report.
    fn highest_reports(&mut self) -> BTreeMap<u64, (Ballot, Command)> {
        let mut highest: BTreeMap<u64, (Ballot, Command)> = BTreeMap::new();
        let reports = std::mem::take(&mut self.promises).into_iter().flatten();
        for (slot, ballot, value) in reports.flatten() {
            if slot > self.applied && highest.get(&slot).is_none_or(|(b, _)| ballot > *b) {
                highest.insert(slot, (ballot, value));
            }
        }
        highest
    }

    /// With a majority of promises: re-propose, in every slot above the chosen prefix, the
    /// highest-ballot value reported (a no-op where nothing was), then serve clients after.
    fn become_leader(&mut self, ctx: &mut Ctx<'_, Self>) {
        let mut highest = self.highest_reports();
        self.role = Role::Leader;
        self.leader = Some((self.id, self.ballot));
        let top = highest.last_key_value().map_or(self.applied, |(&s, _)| s);
        let reported = highest.len();
        let s = if reported == 1 { "" } else { "s" };
        ctx.annotate(format_args!(
            "leader with ballot {}: promises report values in {reported} slot{s} above slot {}",
            self.ballot, self.applied
        ));
        if self.bug == Some(Bug::SkipRecovery) {
            // The bug: what an earlier leader may have had chosen is not carried forward.
            self.next_slot = self.applied + 1;
            ctx.annotate(format_args!(
                "ignoring them: the next client operation goes to slot {}",
                self.next_slot
            ));
        } else {
            self.next_slot = top + 1;
            let holes = (self.applied + 1..=top).count() - reported;
            if top > self.applied {
                ctx.annotate(format_args!(
                    "re-proposing slots {} to {top}: {reported} reported value{s}, {holes} \
                     no-op{}",
                    self.applied + 1,
                    if holes == 1 { "" } else { "s" }
                ));
            }
            for slot in self.applied + 1..=top {
                if self.chosen(slot).is_some() {
                    continue;
                }
                let value = highest.remove(&slot).map_or(Command::Noop, |(_, v)| v);
                if !self.propose(ctx, slot, value) {
                    return;
                }
            }
        }
        self.heartbeat(ctx);
    }

    /// Phase 2 for one slot: the leader's own acceptor first, then every other node.
    /// False if the own acceptor refused (a higher ballot was promised) and this node
    /// stepped down.
    pub(super) fn propose(&mut self, ctx: &mut Ctx<'_, Self>, slot: u64, value: Command) -> bool {
        let ballot = self.ballot;
        if self.accept(ctx, ballot, slot, value.clone()).is_err() {
            self.step_down(ctx);
            return false;
        }
        let mut accepted = vec![false; self.node_count as usize];
        accepted[self.id.index()] = true;
        self.proposals.insert(
            slot,
            Proposal {
                value: value.clone(),
                accepted,
            },
        );
        ctx.broadcast(Msg::Accept {
            ballot,
            slot,
            value,
        });
        self.count_accepts(ctx, slot);
        true
    }

    pub(super) fn on_accepted(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        ballot: Ballot,
        slot: u64,
    ) {
        if let Some(seen) = self.promises_seen.get_mut(from.index()) {
            *seen = (*seen).max(ballot);
        }
        if self.role != Role::Leader || ballot != self.ballot {
            return;
        }
        if let Some(p) = self.proposals.get_mut(&slot)
            && let Some(a) = p.accepted.get_mut(from.index())
        {
            *a = true;
            self.count_accepts(ctx, slot);
        }
    }

    /// A slot accepted by a majority at the leader's ballot is chosen: learn it, tell all.
    fn count_accepts(&mut self, ctx: &mut Ctx<'_, Self>, slot: u64) {
        let Some(p) = self.proposals.get(&slot) else {
            return;
        };
        // The bug: half the nodes, rounded down, is taken for a quorum.
        let quorum = match self.bug {
            Some(Bug::MinorityQuorum) => (self.node_count as usize / 2).max(1),
            _ => self.majority(),
        };
        if p.accepted.iter().filter(|&&a| a).count() < quorum {
            return;
        }
        let value = p.value.clone();
        self.proposals.remove(&slot);
        let ballot = self.ballot;
        ctx.broadcast(Msg::Commit {
            slot,
            ballot,
            value: value.clone(),
        });
        self.learn(ctx, slot, ballot, value);
    }

    /// Heartbeats to every node, and the proposals not yet chosen again to those that have
    /// not accepted them (messages get lost).
    pub(super) fn heartbeat(&mut self, ctx: &mut Ctx<'_, Self>) {
        let (ballot, chosen) = (self.ballot, self.applied);
        ctx.broadcast(Msg::Heartbeat { ballot, chosen });
        for (&slot, p) in self.proposals.iter().take(RESEND_MAX) {
            for peer in ctx.peers() {
                if !p.accepted[peer.index()] {
                    let value = p.value.clone();
                    ctx.send(
                        peer,
                        Msg::Accept {
                            ballot,
                            slot,
                            value,
                        },
                    );
                }
            }
        }
        ctx.set_timer(self.heartbeat_interval, Tick::Heartbeat(ballot));
    }

    /// A refusal of this node's current ballot: someone promised a higher one.
    pub(super) fn on_nack(&mut self, ctx: &mut Ctx<'_, Self>, ballot: Ballot, promised: Ballot) {
        if self.role != Role::Follower && ballot == self.ballot && promised > ballot {
            ctx.annotate(format_args!(
                "ballot {ballot} refused: a node promised {promised}"
            ));
            self.step_down(ctx);
            self.reset_election_deadline(ctx);
        }
    }

    /// Becomes a follower. Clients waiting on this node as leader may or may not see their
    /// operation done (a later leader may still choose it), so they get an indefinite answer.
    pub(super) fn step_down(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.role == Role::Leader {
            for (_, id) in std::mem::take(&mut self.pending) {
                ctx.reply(
                    id,
                    Reply::Info("leadership lost before the slot was chosen"),
                );
            }
            self.proposals.clear();
            self.leader = None;
        }
        self.promises.clear();
        self.role = Role::Follower;
    }

    /// A heartbeat of the leader of `ballot`: follow it if its ballot is current, else tell
    /// it that it is stale; ask for the chosen slots it knows and this node lacks.
    pub(super) fn on_heartbeat(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        ballot: Ballot,
        chosen: u64,
    ) {
        if ballot < self.promised {
            let promised = self.promised;
            ctx.send(from, Msg::Nack { ballot, promised });
            return;
        }
        self.follow(ctx, from, ballot);
        if chosen > self.applied {
            let from_slot = self.applied + 1;
            ctx.send(from, Msg::CatchUp { from: from_slot });
        }
    }

    /// Whether the log has room for one more client slot.
    pub(super) fn log_full(&self) -> bool {
        self.next_slot > SLOTS_MAX
    }
}
