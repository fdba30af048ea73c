//! The coordinator of a transaction: the node its client sent it to. It asks each touched
//! shard to prepare, commits when all voted yes (a synced commit record is the commit point),
//! and aborts on a no vote or a vote timeout.

use super::{Msg, Read, ShardedKv, Tick, shard_of};
use crate::history::Value;
use crate::process::{Ctx, NodeId, TimerId};
use crate::storage::Storage;
use crate::workload::{ClientOp, Reply, Request, RequestId, Txn};
use std::collections::{BTreeMap, BTreeSet};

/// Storage keys of commit records: `commit/<client>.<seq>`.
const KEY_COMMIT: &str = "commit/";

/// A transaction waiting for its votes.
#[derive(Clone, Debug, Hash)]
pub(crate) struct Open {
    txn: Txn,
    /// The shards it touches, in id order.
    shards: Vec<NodeId>,
    /// The shards whose yes vote has not arrived.
    waiting: Vec<NodeId>,
    /// What the reads returned, by micro-op index, from the yes votes so far.
    reads: Vec<(u8, Read)>,
    timer: TimerId,
}

/// A node's coordinator side.
#[derive(Clone, Debug, Default, Hash)]
pub struct Coordinator {
    pub(crate) open: BTreeMap<RequestId, Open>,
    /// Every transaction it committed: synced before anyone heard of the commit.
    pub(crate) committed: BTreeSet<RequestId>,
}

/// A transaction's storage name, `<client>.<seq>`.
pub(super) fn id_text(id: RequestId) -> String {
    format!("{}.{}", id.client, id.seq)
}

/// The inverse of [`id_text`].
pub(super) fn parse_id(text: &str) -> Option<RequestId> {
    let (client, seq) = text.split_once('.')?;
    Some(RequestId {
        client: client.parse().ok()?,
        seq: seq.parse().ok()?,
    })
}

impl Coordinator {
    /// The decision on `id` for a shard that asks: commit if it is recorded, nothing while it
    /// is still being decided, abort otherwise (presumed abort: nothing without a commit
    /// record is ever committed).
    pub(super) fn answer(&self, id: RequestId) -> Option<bool> {
        if self.committed.contains(&id) {
            Some(true)
        } else if self.open.contains_key(&id) {
            None
        } else {
            Some(false)
        }
    }

    /// Reads the commit records back after a restart; open transactions are gone (their
    /// clients time out) and so presumed aborted.
    pub(super) fn recover(&mut self, storage: &Storage) {
        self.open.clear();
        self.committed = storage
            .keys()
            .into_iter()
            .filter_map(|k| parse_id(k.strip_prefix(KEY_COMMIT)?))
            .collect();
    }
}

/// A read as the history writes it: the list (list-append), the value or nil (rw-register).
fn read_value(read: &Read, append: bool) -> Value {
    if append {
        Value::List(read.iter().map(|&v| Value::Int(v)).collect())
    } else {
        read.last().map_or(Value::Nil, |&v| Value::Int(v))
    }
}

impl ShardedKv {
    /// A client's transaction arrives: ask every shard it touches to prepare.
    pub(super) fn coordinate(&mut self, ctx: &mut Ctx<'_, Self>, request: Request) {
        let ClientOp::Txn(txn) = request.op else {
            ctx.reply(
                request.id,
                Reply::Fail("sharded-kv serves transactions only"),
            );
            return;
        };
        let id = request.id;
        if self.coordinator.open.contains_key(&id) || self.coordinator.committed.contains(&id) {
            return;
        }
        let mut shards: Vec<NodeId> = txn.iter().map(|m| shard_of(m.key(), self.nodes)).collect();
        shards.sort_unstable();
        shards.dedup();
        if shards.is_empty() {
            ctx.reply(id, Reply::Ok(txn.completed(&[])));
            return;
        }
        let timer = ctx.set_timer(self.vote_timeout, Tick::VoteTimeout { id });
        let open = Open {
            txn,
            shards: shards.clone(),
            waiting: shards.clone(),
            reads: Vec::new(),
            timer,
        };
        self.coordinator.open.insert(id, open);
        for shard in shards {
            // This node's own shard answers at once, and a no ends the transaction there.
            if !self.coordinator.open.contains_key(&id) {
                break;
            }
            self.deliver(ctx, shard, Msg::Execute { id, txn });
        }
    }

    /// A shard's vote on `id` arrives.
    pub(super) fn on_vote(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        id: RequestId,
        yes: bool,
        reads: Vec<(u8, Read)>,
    ) {
        let Some(open) = self.coordinator.open.get_mut(&id) else {
            // Decided already (or lost in a crash, so aborted): a shard that prepared after
            // all must hear the outcome.
            if yes {
                let commit = self.coordinator.committed.contains(&id);
                self.deliver(ctx, from, Msg::Decision { id, commit });
            }
            return;
        };
        if !yes {
            self.abort(ctx, id, "a shard could not take a lock at once (no-wait)");
            return;
        }
        let Some(at) = open.waiting.iter().position(|&s| s == from) else {
            return; // A second copy of a vote already counted.
        };
        open.waiting.swap_remove(at);
        open.reads.extend(reads);
        if open.waiting.is_empty() {
            self.commit(ctx, id);
        }
    }

    /// Every shard voted yes: record the commit durably, answer the client, tell the shards.
    fn commit(&mut self, ctx: &mut Ctx<'_, Self>, id: RequestId) {
        let Some(open) = self.coordinator.open.remove(&id) else {
            return;
        };
        ctx.cancel_timer(open.timer);
        ctx.storage()
            .put(&format!("{KEY_COMMIT}{}", id_text(id)), Vec::new());
        ctx.storage().sync();
        self.coordinator.committed.insert(id);
        let mut values = vec![Value::Nil; open.txn.len()];
        for (i, read) in &open.reads {
            if let Some(v) = values.get_mut(usize::from(*i)) {
                *v = read_value(read, open.txn.is_append());
            }
        }
        ctx.reply(id, Reply::Ok(open.txn.completed(&values)));
        for shard in open.shards {
            self.deliver(ctx, shard, Msg::Decision { id, commit: true });
        }
    }

    /// Aborts `id` if it is still open: the client gets `fail`, the shards are told.
    pub(super) fn abort(&mut self, ctx: &mut Ctx<'_, Self>, id: RequestId, why: &'static str) {
        let Some(open) = self.coordinator.open.remove(&id) else {
            return;
        };
        ctx.cancel_timer(open.timer);
        ctx.reply(id, Reply::Fail(why));
        for shard in open.shards {
            self.deliver(ctx, shard, Msg::Decision { id, commit: false });
        }
    }
}
