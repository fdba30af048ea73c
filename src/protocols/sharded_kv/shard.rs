//! A shard: the data of the keys it holds, their locks, and the transactions prepared on it.
//!
//! Locks are taken all at once when a transaction's part arrives (no-wait: a conflict is a no
//! vote, never a wait) and released at the decision. Everything a promise rests on is synced
//! before the promise leaves: the prepare record before a yes vote, the data and the outcome
//! before the locks go.

use super::coordinator::{id_text, parse_id};
use super::{Bug, Msg, Read, ShardedKv, Tick, shard_of};
use crate::process::{Ctx, NodeId};
use crate::storage::{ByteReader, Storage};
use crate::workload::{ClientOp, MicroOp, RequestId, Txn};
use std::collections::BTreeMap;

/// Storage keys: `data/<key>`, `prep/<client>.<seq>`, `done/<client>.<seq>`.
const KEY_DATA: &str = "data/";
const KEY_PREPARED: &str = "prep/";
const KEY_DONE: &str = "done/";

/// The locks on one key.
#[derive(Clone, Debug, Default, Hash)]
pub(crate) struct Lock {
    pub(crate) readers: Vec<RequestId>,
    pub(crate) writer: Option<RequestId>,
}

/// A transaction prepared here and not yet decided.
#[derive(Clone, Debug, Hash)]
pub(crate) struct Prepared {
    pub(crate) coordinator: NodeId,
    pub(crate) txn: Txn,
}

/// A node's shard side.
#[derive(Clone, Debug, Default, Hash)]
pub struct Shard {
    /// Committed data of the keys this shard holds.
    pub(crate) data: BTreeMap<u32, Read>,
    pub(crate) locks: BTreeMap<u32, Lock>,
    pub(crate) prepared: BTreeMap<RequestId, Prepared>,
    /// Outcomes recorded here (true: committed). Committed ones and aborts of prepared ones
    /// are durable; so a late copy of a request never runs a transaction twice.
    pub(crate) decided: BTreeMap<RequestId, bool>,
    /// An inquiry timer is set.
    pub(crate) inquiring: bool,
}

/// The micro-ops of `txn` on the keys node `me` holds, with their index in `txn`.
pub(crate) fn part(txn: &Txn, me: NodeId, nodes: u32) -> impl Iterator<Item = (usize, MicroOp)> {
    txn.iter()
        .enumerate()
        .filter(move |(_, m)| shard_of(m.key(), nodes) == me)
}

/// The keys a part reads only and the keys it writes.
pub(crate) fn lock_sets(txn: &Txn, me: NodeId, nodes: u32) -> (Vec<u32>, Vec<u32>) {
    let mut writes: Vec<u32> = part(txn, me, nodes)
        .filter(|(_, m)| !m.is_read())
        .map(|(_, m)| m.key())
        .collect();
    writes.sort_unstable();
    writes.dedup();
    let mut reads: Vec<u32> = part(txn, me, nodes)
        .map(|(_, m)| m.key())
        .filter(|k| writes.binary_search(k).is_err())
        .collect();
    reads.sort_unstable();
    reads.dedup();
    (reads, writes)
}

/// The read and write locks a part takes: [`lock_sets`], except that with the lost-update bug
/// a key the part reads and then writes gets only a read lock, shared with other readers.
fn locks_taken(txn: &Txn, me: NodeId, nodes: u32, bug: Option<Bug>) -> (Vec<u32>, Vec<u32>) {
    let (mut reads, mut writes) = lock_sets(txn, me, nodes);
    if bug == Some(Bug::LostUpdate) {
        let read_first = |key: &u32| {
            part(txn, me, nodes)
                .find(|(_, m)| m.key() == *key)
                .is_some_and(|(_, m)| m.is_read())
        };
        let (unlocked, locked): (Vec<u32>, Vec<u32>) = writes.into_iter().partition(read_first);
        writes = locked;
        reads.extend(unlocked);
        reads.sort_unstable();
    }
    (reads, writes)
}

/// Applies a write to a key's data: append, or overwrite.
fn apply(value: &mut Read, m: MicroOp) {
    match m {
        MicroOp::Append { value: v, .. } => value.push(v),
        MicroOp::Write { value: v, .. } => *value = vec![v],
        MicroOp::Read { .. } => {}
    }
}

fn encode_read(read: &Read) -> Vec<u8> {
    read.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn decode_read(bytes: &[u8]) -> Option<Read> {
    let mut r = ByteReader::new(bytes);
    let mut read = Vec::new();
    while !r.is_empty() {
        read.push(r.u64()? as i64);
    }
    Some(read)
}

pub(super) fn encode_prepared(p: &Prepared) -> Vec<u8> {
    let mut bytes = p.coordinator.0.to_le_bytes().to_vec();
    for w in ClientOp::Txn(p.txn).to_words() {
        bytes.extend(w.to_le_bytes());
    }
    bytes
}

fn decode_prepared(bytes: &[u8]) -> Option<Prepared> {
    let mut r = ByteReader::new(bytes);
    let coordinator = NodeId(r.u32()?);
    let words = [r.u64()?, r.u64()?, r.u64()?, r.u64()?];
    match ClientOp::from_words(words)? {
        ClientOp::Txn(txn) => Some(Prepared { coordinator, txn }),
        _ => None,
    }
}

impl Shard {
    /// Whether `id` can take these locks at once. A dirty reader ignores write locks.
    pub(super) fn can_lock(
        &self,
        id: RequestId,
        reads: &[u32],
        writes: &[u32],
        dirty: bool,
    ) -> bool {
        let other = |holder: &RequestId| *holder != id;
        let free = |key: &u32, write: bool| {
            let Some(lock) = self.locks.get(key) else {
                return true;
            };
            let writer_ok = !lock.writer.as_ref().is_some_and(other) || (dirty && !write);
            writer_ok && (!write || !lock.readers.iter().any(other))
        };
        reads.iter().all(|k| free(k, false)) && writes.iter().all(|k| free(k, true))
    }

    /// Takes the locks; read locks only if they are to be held (not with early-read-unlock).
    fn lock(&mut self, id: RequestId, reads: &[u32], writes: &[u32], hold_reads: bool) {
        for &key in writes {
            self.locks.entry(key).or_default().writer = Some(id);
        }
        if hold_reads {
            for &key in reads {
                self.locks.entry(key).or_default().readers.push(id);
            }
        }
    }

    fn unlock(&mut self, id: RequestId, reads: &[u32], writes: &[u32]) {
        for key in reads.iter().chain(writes) {
            if let Some(lock) = self.locks.get_mut(key) {
                lock.readers.retain(|&r| r != id);
                if lock.writer == Some(id) {
                    lock.writer = None;
                }
                if lock.readers.is_empty() && lock.writer.is_none() {
                    self.locks.remove(key);
                }
            }
        }
    }

    /// What `key` reads as for transaction `id`: the committed data, or with a dirty read the
    /// writes of the transaction prepared with its write lock.
    fn visible(&self, id: RequestId, key: u32, dirty: bool, me: NodeId, nodes: u32) -> Read {
        let mut value = self.data.get(&key).cloned().unwrap_or_default();
        let writer = self.locks.get(&key).and_then(|l| l.writer);
        if let Some(p) = writer
            .filter(|&w| dirty && w != id)
            .and_then(|w| self.prepared.get(&w))
        {
            for (_, m) in part(&p.txn, me, nodes).filter(|(_, m)| m.key() == key) {
                apply(&mut value, m);
            }
        }
        value
    }

    /// What the part's reads return, in order, each seeing the part's earlier writes.
    fn reads(
        &self,
        id: RequestId,
        txn: &Txn,
        dirty: bool,
        me: NodeId,
        nodes: u32,
    ) -> Vec<(u8, Read)> {
        let mut view: BTreeMap<u32, Read> = BTreeMap::new();
        let mut reads = Vec::new();
        for (i, m) in part(txn, me, nodes) {
            let value = view
                .entry(m.key())
                .or_insert_with(|| self.visible(id, m.key(), dirty, me, nodes));
            if m.is_read() {
                reads.push((i as u8, value.clone()));
            } else {
                apply(value, m);
            }
        }
        reads
    }

    /// Applies a committed part to the data and stores the keys it changed (unsynced).
    fn apply_part(&mut self, storage: &mut Storage, txn: &Txn, me: NodeId, nodes: u32) {
        for (_, m) in part(txn, me, nodes).filter(|(_, m)| !m.is_read()) {
            let value = self.data.entry(m.key()).or_default();
            apply(value, m);
            storage.put(&format!("{KEY_DATA}{}", m.key()), encode_read(value));
        }
    }

    /// Reads the data, outcomes and prepared transactions back after a restart, and takes the
    /// prepared ones' locks again.
    pub(super) fn recover(&mut self, storage: &Storage, me: NodeId, nodes: u32, bug: Option<Bug>) {
        *self = Shard::default();
        for key in storage.keys() {
            let bytes = storage.get(key).unwrap_or_default();
            if let Some(k) = key.strip_prefix(KEY_DATA).and_then(|k| k.parse().ok()) {
                if let Some(read) = decode_read(bytes) {
                    self.data.insert(k, read);
                }
            } else if let Some(id) = key.strip_prefix(KEY_DONE).and_then(parse_id) {
                self.decided.insert(id, bytes.first() == Some(&1));
            } else if let Some(id) = key.strip_prefix(KEY_PREPARED).and_then(parse_id)
                && let Some(p) = decode_prepared(bytes)
            {
                let (reads, writes) = locks_taken(&p.txn, me, nodes, bug);
                self.lock(id, &reads, &writes, bug != Some(Bug::EarlyReadUnlock));
                self.prepared.insert(id, p);
            }
        }
    }
}

impl ShardedKv {
    /// Runs this shard's part of `id`: locks, reads, prepare record, vote (or, with the
    /// non-atomic-commit bug, commits the part at once).
    pub(super) fn shard_execute(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        id: RequestId,
        txn: Txn,
        coordinator: NodeId,
    ) -> Msg {
        let (me, nodes) = (self.id, self.nodes);
        let dirty = self.bug == Some(Bug::DirtyRead);
        let vote = |yes, reads| Msg::Vote { id, yes, reads };
        if let Some(&commit) = self.shard.decided.get(&id) {
            return vote(commit, Vec::new()); // A late copy: decided already.
        }
        if self.shard.prepared.contains_key(&id) {
            // A second copy: the locks still hold, so the reads are as they were.
            return vote(true, self.shard.reads(id, &txn, dirty, me, nodes));
        }
        let (reads, writes) = locks_taken(&txn, me, nodes, self.bug);
        if !self.shard.can_lock(id, &reads, &writes, dirty) {
            self.shard.decided.insert(id, false);
            return vote(false, Vec::new());
        }
        let read_values = self.shard.reads(id, &txn, dirty, me, nodes);
        if self.bug == Some(Bug::NonAtomicCommit) {
            // The bug: committed here before the other shards even voted.
            self.shard.apply_part(ctx.storage(), &txn, me, nodes);
            self.record_outcome(ctx, id, true);
            return vote(true, read_values);
        }
        let hold_reads = self.bug != Some(Bug::EarlyReadUnlock);
        self.shard.lock(id, &reads, &writes, hold_reads);
        let prepared = Prepared { coordinator, txn };
        let key = format!("{KEY_PREPARED}{}", id_text(id));
        ctx.storage().put(&key, encode_prepared(&prepared));
        ctx.storage().sync();
        self.shard.prepared.insert(id, prepared);
        if !self.shard.inquiring {
            self.shard.inquiring = true;
            ctx.set_timer(self.retry_interval, Tick::Inquire);
        }
        vote(true, read_values)
    }

    /// The decision on `id` arrives: apply or drop the prepared part, record the outcome,
    /// release the locks.
    pub(super) fn shard_decide(&mut self, ctx: &mut Ctx<'_, Self>, id: RequestId, commit: bool) {
        let (me, nodes) = (self.id, self.nodes);
        let Some(p) = self.shard.prepared.remove(&id) else {
            // Never prepared here (it voted no, or the request is still on its way): an
            // abort is remembered so that a late request is not prepared.
            if !commit {
                self.shard.decided.entry(id).or_insert(false);
            }
            return;
        };
        if commit {
            self.shard.apply_part(ctx.storage(), &p.txn, me, nodes);
        }
        ctx.storage()
            .delete(&format!("{KEY_PREPARED}{}", id_text(id)));
        self.record_outcome(ctx, id, commit);
        let (reads, writes) = lock_sets(&p.txn, me, nodes);
        self.shard.unlock(id, &reads, &writes);
    }

    /// Records the outcome durably, with every write before it.
    fn record_outcome(&mut self, ctx: &mut Ctx<'_, Self>, id: RequestId, commit: bool) {
        let key = format!("{KEY_DONE}{}", id_text(id));
        ctx.storage().put(&key, vec![u8::from(commit)]);
        ctx.storage().sync();
        self.shard.decided.insert(id, commit);
    }

    /// The inquiry timer: ask the coordinator of every transaction still prepared here.
    pub(super) fn inquire(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.shard.inquiring = false;
        let asks: Vec<(RequestId, NodeId)> = self
            .shard
            .prepared
            .iter()
            .map(|(&id, p)| (id, p.coordinator))
            .collect();
        for (id, coordinator) in asks {
            self.deliver(ctx, coordinator, Msg::Inquire { id });
        }
        if !self.shard.prepared.is_empty() && !self.shard.inquiring {
            self.shard.inquiring = true;
            ctx.set_timer(self.retry_interval, Tick::Inquire);
        }
    }
}
