//! The replicated log: entries, their hash chain, and their encoding in storage.

use crate::storage::Storage;
use crate::workload::ClientOp;
use std::fmt;
use std::sync::Arc;

/// Storage key of the current term.
pub const TERM_KEY: &str = "term";
/// Storage key of the vote cast in the current term (absent: none).
pub const VOTE_KEY: &str = "vote";

/// One log entry: a client's operation, the term of the leader that appended it, and the
/// hash of the whole log up to and including it (so that two logs that agree on one
/// entry's hash agree on their whole prefix, which keeps the safety checks O(1) per pair).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Entry {
    pub term: u64,
    pub op: ClientOp,
    pub chain: u64,
}

/// `t3 Write { key: 1, value: 4 }`: the term and the operation, which is what a reader of a
/// node's log looks for. The chain hash serves the safety checks only, and printing it would
/// more than double a long log's text in traces and pages.
impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t{} {:?}", self.term, self.op)
    }
}

/// The entries one AppendEntries carries.
///
/// Most appends carry none (a heartbeat to a follower that is up to date) or one (the entry a
/// client's request just added, sent to each follower that is up to date): those travel
/// inline, which costs less than allocating a shared copy and freeing it on arrival. Longer
/// batches are shared between the messages that carry the same.
///
/// Hashed (for the trace hash) by length and the chain hash of the last entry, which covers
/// every entry before it: hashing a batch costs the same however many entries it holds, and
/// however it is carried.
#[derive(Clone)]
pub enum Batch {
    Empty,
    One(Entry),
    Shared(Arc<[Entry]>),
}

impl std::hash::Hash for Batch {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let (len, last): (usize, u64) = match self {
            Batch::Empty => (0, 0),
            Batch::One(entry) => (1, entry.chain),
            Batch::Shared(entries) => (entries.len(), entries.last().map_or(0, |e| e.chain)),
        };
        len.hash(state);
        last.hash(state);
    }
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

impl std::ops::Deref for Batch {
    type Target = [Entry];
    fn deref(&self) -> &[Entry] {
        match self {
            Batch::Empty => &[],
            Batch::One(entry) => std::slice::from_ref(entry),
            Batch::Shared(entries) => entries,
        }
    }
}

/// Mixes one word into a running hash (a 64-bit multiply-xorshift, stable across builds).
pub fn mix(h: u64, word: u64) -> u64 {
    let x = (h ^ word).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^ (x >> 29)
}

/// The chain hash of an entry of `term` holding `op` after a prefix whose hash is `prev`.
pub fn chain(prev: u64, term: u64, op: &ClientOp) -> u64 {
    chain_words(prev, term, op.to_words())
}

/// [`chain`] of an operation already turned into its words.
pub fn chain_words(prev: u64, term: u64, [a, b, c, d]: [u64; 4]) -> u64 {
    [term, a, b, c, d].into_iter().fold(prev, mix)
}

/// Bytes of one entry in the storage log.
pub const ENTRY_BYTES: usize = 40;

/// Term then the operation's four words (from [`ClientOp::to_words`]), little-endian, as one
/// storage log record.
pub fn encode_words(term: u64, op_words: [u64; 4]) -> [u8; ENTRY_BYTES] {
    let mut bytes = [0; ENTRY_BYTES];
    let words = std::iter::once(term).chain(op_words);
    for (chunk, w) in bytes.chunks_exact_mut(8).zip(words) {
        chunk.copy_from_slice(&w.to_le_bytes());
    }
    bytes
}

fn word(bytes: &[u8], i: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        bytes.get(i * 8..i * 8 + 8)?.try_into().ok()?,
    ))
}

fn decode(bytes: &[u8]) -> Option<(u64, ClientOp)> {
    let term = word(bytes, 0)?;
    let op = ClientOp::from_words([
        word(bytes, 1)?,
        word(bytes, 2)?,
        word(bytes, 3)?,
        word(bytes, 4)?,
    ])?;
    Some((term, op))
}

/// What a restarted node finds in storage: term, vote and the log, rebuilt with its hashes.
/// The log is read from the first record until the first unreadable one.
pub fn recover(storage: &Storage) -> (u64, Option<u32>, Vec<Entry>) {
    let term = storage.get(TERM_KEY).and_then(|b| word(b, 0)).unwrap_or(0);
    let vote = storage
        .get(VOTE_KEY)
        .and_then(|b| word(b, 0))
        .and_then(|v| u32::try_from(v).ok());
    // The room a starting node makes for its log too, so that `on_start` does not copy it.
    let room = storage.log_len().max(super::LOG_RESERVE_ENTRIES);
    let mut log: Vec<Entry> = Vec::with_capacity(room);
    let mut prev = 0;
    while let Some((term, op)) = storage.log_get(log.len()).and_then(decode) {
        prev = chain(prev, term, &op);
        log.push(Entry {
            term,
            op,
            chain: prev,
        });
    }
    (term, vote, log)
}
