//! Simulated durable storage: per node, a key → bytes store and a log of byte records.
//!
//! Writes (`put`, `delete`, `log_append`, `log_truncate`) first land in a volatile buffer,
//! like a page cache. `sync` makes them durable. A crash throws away every write not yet
//! synced; a restarted node sees only what was synced before the crash.
//!
//! The log is for protocols that persist a sequence (a Raft or Paxos log): its records live
//! in one flat buffer, so appending one costs a copy of its bytes and no allocation. The
//! durable log is not a second copy: it is a prefix of the log as the node sees it, plus the
//! synced records an unsynced truncation removed, so a sync copies nothing.

mod bytes;
mod record_log;

pub use bytes::ByteReader;

use crate::linearizability::fxhash::FxHashMap;
use record_log::RecordLog;

/// A node's durable store. Reads see unsynced writes; crashes lose them.
///
/// Hash maps with a fixed hasher rather than ordered maps: protocols that log every entry sync
/// thousands of keys, and a string hash is cheaper than a tree descent of string compares.
/// Nothing iterates them in hash order: [`Storage::keys`] sorts.
#[derive(Clone, Debug, Default)]
pub struct Storage {
    durable: FxHashMap<String, Vec<u8>>,
    /// Writes since the last sync: `Some(bytes)` for a put, `None` for a delete.
    pending: FxHashMap<String, Option<Vec<u8>>>,
    /// The log as the node sees it, synced or not.
    log: RecordLog,
    /// How many first records of `log` a crash would leave as they are.
    log_shared: usize,
    /// The synced records after `log_shared` that an unsynced truncation removed from `log`:
    /// the log as a crash would leave it is `log[..log_shared]` followed by these.
    log_durable_tail: RecordLog,
    /// Log appends and truncations since the last sync.
    log_pending: usize,
    syncs: u64,
    lost_writes: u64,
}

impl Storage {
    /// Writes `value` under `key`; it survives a crash only after [`Storage::sync`].
    pub fn put(&mut self, key: &str, value: impl Into<Vec<u8>>) {
        self.write(key, Some(value.into()));
    }

    /// Removes `key`; the removal survives a crash only after [`Storage::sync`].
    pub fn delete(&mut self, key: &str) {
        self.write(key, None);
    }

    /// Records a pending write, reusing the key's string when it is already pending.
    fn write(&mut self, key: &str, value: Option<Vec<u8>>) {
        match self.pending.get_mut(key) {
            Some(slot) => *slot = value,
            None => {
                self.pending.insert(key.to_string(), value);
            }
        }
    }

    /// The current value of `key`, synced or not.
    pub fn get(&self, key: &str) -> Option<&[u8]> {
        match self.pending.get(key) {
            Some(pending) => pending.as_deref(),
            None => self.durable.get(key).map(Vec::as_slice),
        }
    }

    /// The value of `key` as a crash would leave it: synced writes only.
    pub fn get_synced(&self, key: &str) -> Option<&[u8]> {
        self.durable.get(key).map(Vec::as_slice)
    }

    /// Makes every write so far durable.
    ///
    /// Inline: most syncs follow log appends only and cost a few stores; the keys, when
    /// there are any, are made durable out of line.
    #[inline]
    pub fn sync(&mut self) {
        self.syncs += 1;
        // Draining even an empty map resets its table.
        if !self.pending.is_empty() {
            self.sync_keys();
        }
        if self.log_pending > 0 {
            self.log_durable_tail.clear();
            self.log_shared = self.log.len();
            self.log_pending = 0;
        }
        debug_assert!(self.log_durable_tail.len() == 0 && self.log_shared == self.log.len());
    }

    /// Moves the pending key writes into the durable map.
    #[inline(never)]
    fn sync_keys(&mut self) {
        for (key, value) in self.pending.drain() {
            match value {
                Some(bytes) => self.durable.insert(key, bytes),
                None => self.durable.remove(&key),
            };
        }
    }

    /// Makes room in the log for `records` more records of `bytes` bytes in all, so that a
    /// protocol that knows roughly how long its log grows does not copy it as it grows.
    pub fn log_reserve(&mut self, records: usize, bytes: usize) {
        self.log.reserve(records, bytes);
    }

    /// Appends a record to the log; it survives a crash only after [`Storage::sync`].
    pub fn log_append(&mut self, record: &[u8]) {
        self.log.push(record);
        self.log_pending += 1;
    }

    /// Keeps the first `len` records of the log and removes the rest; the removal survives a
    /// crash only after [`Storage::sync`]. Longer than the log: nothing changes.
    pub fn log_truncate(&mut self, len: usize) {
        if len >= self.log.len() {
            return;
        }
        if len < self.log_shared {
            // Synced records leave the log: keep them for a crash to bring back, before the
            // ones an earlier unsynced truncation kept.
            let mut tail = RecordLog::default();
            tail.extend_range(&self.log, len, self.log_shared);
            tail.extend_range(&self.log_durable_tail, 0, self.log_durable_tail.len());
            self.log_durable_tail = tail;
            self.log_shared = len;
        }
        self.log.truncate(len);
        self.log_pending += 1;
    }

    /// The record at `index` (from 0), synced or not.
    pub fn log_get(&self, index: usize) -> Option<&[u8]> {
        self.log.get(index)
    }

    /// How many records the log holds, synced or not.
    pub fn log_len(&self) -> usize {
        self.log.len()
    }

    /// Keys present now (synced or not), in order.
    pub fn keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = self
            .durable
            .keys()
            .filter(|k| !matches!(self.pending.get(*k), Some(None)))
            .map(String::as_str)
            .collect();
        for (k, v) in &self.pending {
            if v.is_some() && !self.durable.contains_key(k) {
                keys.push(k);
            }
        }
        keys.sort_unstable();
        keys
    }

    /// Number of writes waiting for a sync (a log append or truncation counts as one).
    pub fn unsynced_writes(&self) -> usize {
        self.pending.len() + self.log_pending
    }

    /// How many times `sync` was called.
    pub fn syncs(&self) -> u64 {
        self.syncs
    }

    /// Writes lost to crashes over the whole run.
    pub fn lost_writes(&self) -> u64 {
        self.lost_writes
    }

    /// A hash of everything a node could read now or after a crash: the values as seen, the
    /// values as a crash would leave them, and the log both ways. Counters (syncs, lost
    /// writes) are left out. The key maps are summed entry by entry, so their hash order
    /// does not matter. Exhaustive exploration tells states apart by it.
    pub fn fingerprint(&self) -> u64 {
        use crate::linearizability::fxhash::mix64;
        use crate::trace::content_hash;
        let entries = |salt: u64, hashes: &mut dyn Iterator<Item = u64>| {
            hashes.fold(0u64, |sum, h| sum.wrapping_add(mix64(h ^ salt)))
        };
        let durable = entries(1, &mut self.durable.iter().map(|kv| content_hash(&kv)));
        let pending = entries(2, &mut self.pending.iter().map(|kv| content_hash(&kv)));
        let log = content_hash(&(
            self.log.fingerprint(),
            self.log_shared,
            self.log_durable_tail.fingerprint(),
        ));
        mix64(durable ^ mix64(pending ^ mix64(log)))
    }

    /// A crash: unsynced writes are gone. Returns how many were lost.
    pub(crate) fn crash(&mut self) -> usize {
        let lost = self.unsynced_writes();
        self.pending.clear();
        if self.log_pending > 0 {
            self.log.truncate(self.log_shared);
            self.log
                .extend_range(&self.log_durable_tail, 0, self.log_durable_tail.len());
            self.log_durable_tail.clear();
            self.log_shared = self.log.len();
            self.log_pending = 0;
        }
        self.lost_writes += lost as u64;
        lost
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synced_writes_survive_a_crash_and_unsynced_do_not() {
        let mut s = Storage::default();
        s.put("term", b"3".to_vec());
        s.sync();
        s.put("term", b"4".to_vec());
        s.put("vote", b"n2".to_vec());
        assert_eq!(s.get("term"), Some(&b"4"[..]));
        assert_eq!(s.get_synced("term"), Some(&b"3"[..]));
        assert_eq!(s.get_synced("vote"), None);
        assert_eq!(s.keys(), vec!["term", "vote"]);
        assert_eq!(s.crash(), 2);
        assert_eq!(s.get("term"), Some(&b"3"[..]));
        assert_eq!(s.get("vote"), None);
        assert_eq!(s.lost_writes(), 2);
    }

    #[test]
    fn deletes_are_durable_only_after_sync() {
        let mut s = Storage::default();
        s.put("k", b"v".to_vec());
        s.sync();
        s.delete("k");
        assert_eq!(s.get("k"), None);
        assert!(s.keys().is_empty());
        s.crash();
        assert_eq!(s.get("k"), Some(&b"v"[..]));
        s.delete("k");
        s.sync();
        s.crash();
        assert_eq!(s.get("k"), None);
        assert_eq!(s.syncs(), 2);
    }

    #[test]
    fn log_records_survive_a_crash_only_once_synced() {
        let mut s = Storage::default();
        s.log_append(b"a");
        s.log_append(b"bb");
        s.sync();
        s.log_append(b"c");
        assert_eq!(s.log_len(), 3);
        assert_eq!(s.unsynced_writes(), 1);
        assert_eq!(s.crash(), 1);
        assert_eq!(s.log_len(), 2);
        assert_eq!(s.log_get(1), Some(&b"bb"[..]));
        assert_eq!(s.log_get(2), None);
    }

    #[test]
    fn an_unsynced_truncation_is_undone_by_a_crash() {
        let mut s = Storage::default();
        for r in [&b"1"[..], b"2", b"3"] {
            s.log_append(r);
        }
        s.sync();
        s.log_truncate(1);
        s.log_append(b"x");
        assert_eq!(s.log_get(1), Some(&b"x"[..]));
        s.crash();
        let all: Vec<_> = (0..s.log_len()).filter_map(|i| s.log_get(i)).collect();
        assert_eq!(all, vec![&b"1"[..], b"2", b"3"]);
        // Once synced, the truncation and the new record are what a crash leaves.
        s.log_truncate(1);
        s.log_append(b"y");
        s.sync();
        s.crash();
        let all: Vec<_> = (0..s.log_len()).filter_map(|i| s.log_get(i)).collect();
        assert_eq!(all, vec![&b"1"[..], b"y"]);
        assert_eq!(s.lost_writes(), 2);
    }

    #[test]
    fn truncations_below_the_synced_length_keep_every_synced_record_for_a_crash() {
        let mut s = Storage::default();
        let records = |s: &Storage| -> Vec<Vec<u8>> {
            (0..s.log_len())
                .filter_map(|i| s.log_get(i).map(<[u8]>::to_vec))
                .collect()
        };
        for r in [&b"1"[..], b"2", b"3", b"4", b"5"] {
            s.log_append(r);
        }
        s.sync();
        s.log_truncate(3);
        s.log_append(b"x");
        s.log_truncate(1);
        s.log_append(b"y");
        assert_eq!(records(&s), vec![b"1".to_vec(), b"y".to_vec()]);
        s.crash();
        let synced: Vec<Vec<u8>> = ["1", "2", "3", "4", "5"].map(|r| r.into()).to_vec();
        assert_eq!(records(&s), synced);
        // A sync between the truncations makes the first one durable.
        s.log_truncate(3);
        s.log_append(b"x");
        s.sync();
        s.log_truncate(2);
        s.log_append(b"z");
        s.crash();
        let want: Vec<Vec<u8>> = ["1", "2", "3", "x"].map(|r| r.into()).to_vec();
        assert_eq!(records(&s), want);
    }
}
