//! Transactions: one client op made of several micro-ops over several keys, for the
//! `list-append` and `rw-register` models, checked for isolation as Jepsen's Elle checks them.
//!
//! A [`Txn`] is `Copy` and small: it lives inline in [`super::ClientOp`] without making it any
//! larger than the non-transactional ops already are (24 bytes), so that every other
//! workload moves requests exactly as before. That fixes a limit, [`MICRO_OPS_MAX`] micro-ops
//! over keys below [`TXN_KEYS_MAX`], and means a transaction does not store its written
//! values: micro-op `i` writes `base + i`, where `base` is drawn so that no two written values
//! of a run are equal (so no two of one key are).
//!
//! ```
//! use faultline::history::Value;
//! use faultline::workload::{MicroOp, Txn};
//!
//! let mut txn = Txn::new(true, 10);
//! txn.push_write(3).unwrap();
//! txn.push_read(3).unwrap();
//! assert_eq!(txn.get(0), Some(MicroOp::Append { key: 3, value: 10 }));
//! // A history writes it as Jepsen does: at invocation, and completed with what was read.
//! assert_eq!(txn.input().to_string(), r#"[["append" 3 10] ["r" 3 nil]]"#);
//! let read = Value::List(vec![Value::Int(10)]);
//! assert_eq!(txn.completed(&[Value::Nil, read]).to_string(), r#"[["append" 3 10] ["r" 3 [10]]]"#);
//! ```

use crate::history::Value;
use std::fmt;

/// Most micro-ops in one transaction: what fits inline in a [`super::ClientOp`] of 24 bytes.
pub const MICRO_OPS_MAX: usize = 6;
/// Keys of a transactional workload are below this (they are stored in 16 bits).
pub const TXN_KEYS_MAX: u32 = 1 << 16;

/// One step of a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MicroOp {
    /// Reads the key: the whole list (list-append), or the value (rw-register).
    Read { key: u32 },
    /// Appends `value` to the key's list (list-append).
    Append { key: u32, value: i64 },
    /// Sets the key to `value` (rw-register).
    Write { key: u32, value: i64 },
}

impl MicroOp {
    pub fn key(self) -> u32 {
        match self {
            MicroOp::Read { key } | MicroOp::Append { key, .. } | MicroOp::Write { key, .. } => key,
        }
    }

    pub fn is_read(self) -> bool {
        matches!(self, MicroOp::Read { .. })
    }

    /// The micro-op in Jepsen's form, `[f, key, value]`; a read carries `read` (nil at
    /// invocation).
    pub fn jepsen(self, read: Value) -> Value {
        let (f, key, value) = match self {
            MicroOp::Read { key } => ("r", key, read),
            MicroOp::Append { key, value } => ("append", key, Value::Int(value)),
            MicroOp::Write { key, value } => ("w", key, Value::Int(value)),
        };
        Value::List(vec![
            Value::Str(f.to_string()),
            Value::Int(i64::from(key)),
            value,
        ])
    }
}

/// A transaction of up to [`MICRO_OPS_MAX`] micro-ops, in order.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Txn {
    /// The value micro-op 0 would write; micro-op `i` writes `base + i`.
    base: u32,
    keys: [u16; MICRO_OPS_MAX],
    /// Bit `i`: micro-op `i` writes (appends, for list-append); otherwise it reads.
    writes: u8,
    len: u8,
    /// List-append (writes append) rather than rw-register (writes overwrite).
    append: bool,
}

impl Txn {
    /// An empty transaction of list-append (`append`) or rw-register, whose writes carry
    /// values from `base` on.
    pub fn new(append: bool, base: u32) -> Txn {
        Txn {
            base,
            keys: [0; MICRO_OPS_MAX],
            writes: 0,
            len: 0,
            append,
        }
    }

    /// Adds a read of `key`; `Err` when the transaction is full or the key out of range.
    pub fn push_read(&mut self, key: u32) -> Result<(), String> {
        self.push(key, false)
    }

    /// Adds a write (an append, for list-append) of `key`, carrying the next value.
    pub fn push_write(&mut self, key: u32) -> Result<(), String> {
        self.push(key, true)
    }

    fn push(&mut self, key: u32, write: bool) -> Result<(), String> {
        let i = usize::from(self.len);
        if i >= MICRO_OPS_MAX {
            return Err(format!(
                "a transaction has at most {MICRO_OPS_MAX} micro-ops"
            ));
        }
        let key = u16::try_from(key)
            .map_err(|_| format!("transaction keys are below {TXN_KEYS_MAX}; {key} is not"))?;
        self.keys[i] = key;
        self.writes |= u8::from(write) << i;
        self.len += 1;
        Ok(())
    }

    /// Whether it is a list-append transaction (else rw-register).
    pub fn is_append(&self) -> bool {
        self.append
    }

    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Micro-op `i`.
    pub fn get(&self, i: usize) -> Option<MicroOp> {
        if i >= self.len() {
            return None;
        }
        let key = u32::from(self.keys[i]);
        let value = i64::from(self.base) + i as i64;
        Some(match (self.writes >> i & 1 == 1, self.append) {
            (false, _) => MicroOp::Read { key },
            (true, true) => MicroOp::Append { key, value },
            (true, false) => MicroOp::Write { key, value },
        })
    }

    /// The micro-ops, in order.
    pub fn iter(&self) -> impl Iterator<Item = MicroOp> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// The transaction as a history writes its invocation: `[[f, k, v], ...]`, reads nil.
    pub fn input(&self) -> Value {
        Value::List(self.iter().map(|m| m.jepsen(Value::Nil)).collect())
    }

    /// The transaction as an ok completion writes it: `reads[i]` is what micro-op `i` read
    /// (ignored for writes; a missing one is nil).
    pub fn completed(&self, reads: &[Value]) -> Value {
        let read = |i: usize| reads.get(i).cloned().unwrap_or(Value::Nil);
        Value::List(
            self.iter()
                .enumerate()
                .map(|(i, m)| m.jepsen(if m.is_read() { read(i) } else { Value::Nil }))
                .collect(),
        )
    }

    /// Three words: base, length, write bits and kind; then the keys, four to a word.
    pub(crate) fn to_words(self) -> [u64; 3] {
        let k = |i: usize| u64::from(self.keys[i]);
        [
            u64::from(self.base)
                | u64::from(self.len) << 32
                | u64::from(self.writes) << 40
                | u64::from(self.append) << 48,
            k(0) | k(1) << 16 | k(2) << 32 | k(3) << 48,
            k(4) | k(5) << 16,
        ]
    }

    /// Reads what [`Txn::to_words`] wrote; `None` for words it never writes.
    pub(crate) fn from_words([head, low, high]: [u64; 3]) -> Option<Txn> {
        let len = (head >> 32 & 0xff) as u8;
        let writes = (head >> 40 & 0xff) as u8;
        let append = head >> 48;
        if usize::from(len) > MICRO_OPS_MAX
            || append > 1
            || u32::from(writes) >> len != 0
            || high >> 32 != 0
        {
            return None;
        }
        let mut keys = [0u16; MICRO_OPS_MAX];
        for (i, key) in keys.iter_mut().enumerate() {
            let word = if i < 4 { low } else { high };
            *key = (word >> (16 * (i % 4)) & 0xffff) as u16;
        }
        if keys[usize::from(len)..].iter().any(|&k| k != 0) {
            return None;
        }
        Some(Txn {
            base: head as u32,
            keys,
            writes,
            len,
            append: append == 1,
        })
    }
}

impl fmt::Debug for Txn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("txn[")?;
        for (i, m) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match m {
                MicroOp::Read { key } => write!(f, "r {key}")?,
                MicroOp::Append { key, value } => write!(f, "append {key} {value}")?,
                MicroOp::Write { key, value } => write!(f, "w {key} {value}")?,
            }
        }
        f.write_str("]")
    }
}

/// An isolation level a transactional history is checked at, weakest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Isolation {
    ReadCommitted,
    SnapshotIsolation,
    Serializable,
    StrictSerializable,
}

impl Isolation {
    pub const ALL: [Isolation; 4] = [
        Isolation::ReadCommitted,
        Isolation::SnapshotIsolation,
        Isolation::Serializable,
        Isolation::StrictSerializable,
    ];

    /// The name in `isolation:` and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Isolation::ReadCommitted => "read-committed",
            Isolation::SnapshotIsolation => "snapshot-isolation",
            Isolation::Serializable => "serializable",
            Isolation::StrictSerializable => "strict-serializable",
        }
    }

    pub fn from_name(name: &str) -> Option<Isolation> {
        Isolation::ALL.into_iter().find(|i| i.name() == name)
    }
}

impl fmt::Display for Isolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
