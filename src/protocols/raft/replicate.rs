//! Log replication, commitment and the key-value state machine.

use super::log::{self, Entry};
use super::{Bug, Msg, PENDING_MAX, Raft, Role};
use crate::process::{Ctx, NodeId};
use crate::protocols::kv_machine;
use crate::workload::{ClientOp, Reply, Request};
use std::sync::Arc;

/// Clusters up to this size find their commit index without allocating.
const SMALL_CLUSTER: usize = 16;

/// An append as a follower receives it.
pub(super) struct Append {
    pub term: u64,
    pub prev_index: u64,
    pub prev_term: u64,
    pub entries: log::Batch,
    pub commit: u64,
}

impl Raft {
    pub(super) fn on_append(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, a: Append) {
        if a.term < self.term {
            let index = self.last_index();
            ctx.send(
                from,
                Msg::Appended {
                    term: self.term,
                    ok: false,
                    index,
                },
            );
            return;
        }
        if a.term > self.term {
            self.adopt_term(ctx, a.term);
        }
        // A candidate of this term learns that another node won it.
        self.step_down(ctx);
        self.leader = Some(from);
        self.reset_election_deadline(ctx);
        if a.prev_index > self.last_index() || self.term_at(a.prev_index) != a.prev_term {
            let index = self.retry_index(a.prev_index);
            ctx.send(
                from,
                Msg::Appended {
                    term: self.term,
                    ok: false,
                    index,
                },
            );
            return;
        }
        let matched = a.prev_index + a.entries.len() as u64;
        self.store_entries(ctx, a.prev_index, &a.entries);
        let commit = a.commit.min(matched);
        if commit > self.commit {
            self.commit = commit;
            self.apply_committed(ctx);
        }
        ctx.send(
            from,
            Msg::Appended {
                term: self.term,
                ok: true,
                index: matched,
            },
        );
    }

    pub(super) fn send_append(&mut self, ctx: &mut Ctx<'_, Self>, peer: NodeId) {
        let next = self.next[peer.index()].clamp(1, self.last_index() + 1);
        let prev_index = next - 1;
        let end = (prev_index as usize + self.max_entries).min(self.log.len());
        let entries = match end - prev_index as usize {
            0 => log::Batch::Empty,
            1 => log::Batch::One(self.log[prev_index as usize]),
            _ => log::Batch::Shared(self.batch(peer.index(), prev_index, end)),
        };
        ctx.send(
            peer,
            Msg::Append {
                term: self.term,
                prev_index,
                prev_term: self.term_at(prev_index),
                entries,
                commit: self.commit,
            },
        );
    }

    /// The entries (more than one) after `prev_index` up to and including index `end`, for
    /// `peer`: the batch last sent to it when it holds just them (a follower that does not
    /// answer gets the same again each heartbeat), else one of the last sent to anyone, else a
    /// new one copied from the log.
    fn batch(&mut self, peer: usize, prev_index: u64, end: usize) -> Arc<[Entry]> {
        let len = end - prev_index as usize;
        let same = |sent: &Option<(u64, Arc<[Entry]>)>| match sent {
            Some((from, batch)) => *from == prev_index && batch.len() == len,
            None => false,
        };
        if let Some(Some((_, batch))) = self.sent_to.get(peer).filter(|s| same(s)) {
            return Arc::clone(batch);
        }
        if let Some(i) = self.sent.iter().position(same) {
            // The latest first, so that the one not used longest goes when a new one comes.
            self.sent[..=i].rotate_right(1);
        } else {
            let batch: Arc<[Entry]> = Arc::from(&self.log[prev_index as usize..end]);
            self.sent.rotate_right(1);
            self.sent[0] = Some((prev_index, batch));
        }
        let (_, batch) = self.sent[0].as_ref().expect("the batch just found or made");
        debug_assert_eq!(
            batch.last().map(|e| e.chain),
            Some(self.chain_at(end as u64))
        );
        if let Some(slot) = self.sent_to.get_mut(peer) {
            *slot = Some((prev_index, Arc::clone(batch)));
        }
        Arc::clone(batch)
    }

    /// Where the leader should try again after an append whose `prev_index` we lack or
    /// hold with another term: after our last entry, or at the first entry of the
    /// conflicting term. Skipping a whole term per round trip, rather than one entry, lets a
    /// follower with a long stale suffix catch up in as many round trips as it has stale
    /// terms; entries skipped that did match are sent again and kept.
    fn retry_index(&self, prev_index: u64) -> u64 {
        if prev_index > self.last_index() {
            return self.last_index() + 1;
        }
        let term = self.term_at(prev_index);
        let mut first = prev_index;
        while first > 1 && self.term_at(first - 1) == term {
            first -= 1;
        }
        first
    }

    /// Keeps `entries` after `prev_index`: entries already held (same index and term) stay,
    /// the first conflicting one and everything after it go, the rest is appended; all of it
    /// synced before the follower answers.
    fn store_entries(&mut self, ctx: &mut Ctx<'_, Self>, prev_index: u64, entries: &[Entry]) {
        let held = entries
            .iter()
            .zip(prev_index + 1..)
            .take_while(|&(e, i)| i <= self.last_index() && self.term_at(i) == e.term)
            .count();
        if held == entries.len() {
            return;
        }
        let index = prev_index + held as u64;
        debug_assert!(index <= self.last_index());
        // Most appends only add to the log: then nothing goes, and the batches this node sent
        // as leader still hold what the log holds.
        if index < self.last_index() {
            ctx.storage().log_truncate(index as usize);
            self.log.truncate(index as usize);
            self.sent = Default::default();
            self.sent_to.clear();
            self.refresh_tail();
        }
        for entry in &entries[held..] {
            self.push_entry(ctx, entry.term, entry.op);
        }
        ctx.storage().sync();
    }

    /// Appends one entry to the log and storage (not synced), computing its chain hash.
    fn push_entry(&mut self, ctx: &mut Ctx<'_, Self>, term: u64, op: ClientOp) {
        // The words once for both; the chain goes on from the inline copy of the last one.
        let words = op.to_words();
        ctx.storage().log_append(&log::encode_words(term, words));
        debug_assert_eq!(self.tail.1, self.chain_at(self.last_index()));
        let chain = log::chain_words(self.tail.1, term, words);
        self.log.push(Entry { term, op, chain });
        self.tail = (term, chain);
    }

    pub(super) fn on_appended(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        (term, ok, index): (u64, bool, u64),
    ) {
        if term > self.term {
            self.adopt_term(ctx, term);
            return;
        }
        if self.role != Role::Leader || term != self.term {
            return;
        }
        let peer = from.index();
        if ok {
            self.raise_matched(peer, index);
            self.next[peer] = self.next[peer].max(index + 1);
            self.advance_commit(ctx);
            if self.next[peer] <= self.last_index() {
                self.send_append(ctx, from);
            }
        } else if index < self.next[peer] {
            self.next[peer] = index.max(1);
            self.send_append(ctx, from);
        }
    }

    /// Commits up to the highest index a majority holds, if that entry is of the current
    /// term (Figure 8 rule: counting replicas of an older entry proves nothing).
    fn advance_commit(&mut self, ctx: &mut Ctx<'_, Self>) {
        // Most answers move nothing: unless a majority holds entries past the commit index,
        // the index a majority holds is not past it either, and no sort is needed.
        debug_assert_eq!(self.past_commit, self.past_commit_counted());
        if self.past_commit < self.majority() {
            return;
        }
        let index = self.majority_match();
        let current = self.term_at(index) == self.term;
        if index > self.commit && (current || self.bug == Some(Bug::Figure8)) {
            self.commit = index;
            self.count_past_commit();
            self.apply_committed(ctx);
        }
    }

    /// Leader: `peer` holds the log up to `index` (or further, as it said before).
    fn raise_matched(&mut self, peer: usize, index: u64) {
        let held = self.matched[peer];
        if index > held {
            self.matched[peer] = index;
            self.past_commit += u32::from(held <= self.commit && index > self.commit);
        }
    }

    /// Counts `past_commit` again, after the commit index or all of `matched` changed.
    pub(super) fn count_past_commit(&mut self) {
        self.past_commit = self.past_commit_counted();
    }

    fn past_commit_counted(&self) -> u32 {
        let mut past = 0;
        for &m in &self.matched {
            past += u32::from(m > self.commit);
        }
        past
    }

    /// The highest index a majority holds: the majority-th largest of `matched`. Out of line:
    /// most answers stop at [`Raft::advance_commit`]'s quick test and need not pay for this
    /// stack frame.
    #[inline(never)]
    pub(super) fn majority_match(&self) -> u64 {
        debug_assert_eq!(self.past_commit, self.past_commit_counted());
        if self.past_commit == self.majority() {
            // Just a majority past the commit index, as when an answer first brings an entry
            // to a majority: the index they all hold is the lowest of theirs.
            let mut lowest = u64::MAX;
            for &m in &self.matched {
                if m > self.commit {
                    lowest = lowest.min(m);
                }
            }
            return lowest;
        }
        // On the stack for clusters up to SMALL_CLUSTER nodes: this runs for many answers.
        let mut small = [0u64; SMALL_CLUSTER];
        let mut large = Vec::new();
        let held: &mut [u64] = match self.matched.len() {
            n if n <= SMALL_CLUSTER => {
                small[..n].copy_from_slice(&self.matched);
                &mut small[..n]
            }
            _ => {
                large.extend_from_slice(&self.matched);
                &mut large
            }
        };
        held.sort_unstable_by(|a, b| b.cmp(a));
        held[self.majority() as usize - 1]
    }

    /// Applies committed entries in order, answering the clients waiting on them.
    pub(super) fn apply_committed(&mut self, ctx: &mut Ctx<'_, Self>) {
        while self.applied < self.commit {
            let index = self.applied + 1;
            let Some(entry) = self.log.get(index as usize - 1) else {
                break;
            };
            let chain = entry.chain;
            // Waiters are kept by increasing index, every one above the applied index.
            let waiter = match self.pending.front() {
                Some(&(first, id)) if first == index => {
                    self.pending.pop_front();
                    Some(id)
                }
                _ => None,
            };
            debug_assert!(self.pending.front().is_none_or(|&(first, _)| first > index));
            match waiter {
                Some(id) => ctx.reply(id, kv_machine::apply(&mut self.kv, &entry.op)),
                // Nobody to answer: the map changes the same, no answer is built.
                None => kv_machine::update(&mut self.kv, &entry.op).unwrap_or(()),
            }
            self.applied = index;
            self.applied_last = chain;
        }
    }

    /// The leader appends the operation, syncs it, and sends it on; the client gets its
    /// answer when the entry is applied. Others redirect to the leader they know.
    pub(super) fn serve(&mut self, ctx: &mut Ctx<'_, Self>, request: Request) {
        if self.role != Role::Leader {
            ctx.reply(request.id, Reply::Redirect(self.leader));
            return;
        }
        match request.op {
            ClientOp::Generate | ClientOp::Txn(_) => {
                ctx.reply(request.id, Reply::Fail("raft serves no such operation"));
                return;
            }
            ClientOp::Read { key } if self.bug == Some(Bug::StaleRead) => {
                ctx.reply(request.id, Reply::Ok(kv_machine::value_of(&self.kv, key)));
                return;
            }
            _ if self.pending.len() >= PENDING_MAX => {
                ctx.reply(request.id, Reply::Fail("too many operations in flight"));
                return;
            }
            _ => {}
        }
        self.push_entry(ctx, self.term, request.op);
        ctx.storage().sync();
        let index = self.last_index();
        self.raise_matched(self.id.index(), index);
        debug_assert!(self.pending.back().is_none_or(|&(last, _)| last < index));
        self.pending.push_back((index, request.id));
        self.advance_commit(ctx);
        for peer in ctx.peers() {
            // Followers still catching up get the rest when they answer.
            if self.next[peer.index()] == index {
                self.send_append(ctx, peer);
            }
        }
    }
}
