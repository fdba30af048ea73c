//! The anomalies the checker reports, and which isolation level first prohibits each.
//!
//! | anomaly | what it means | prohibited from |
//! |---|---|---|
//! | G0 | a cycle of write-write edges: writes interleaved between transactions | read-committed |
//! | G1a | a committed transaction read a value a failed transaction wrote | read-committed |
//! | G1b | a transaction read a value its writer later overwrote within the same transaction | read-committed |
//! | G1c | a cycle of ww and wr edges, at least one wr | read-committed |
//! | internal | a read disagrees with the transaction's own earlier reads and writes | read-committed |
//! | G-single | a cycle with exactly one rw edge (read skew) | snapshot-isolation |
//! | lost-update | two committed transactions read the same version of a key and both wrote it | snapshot-isolation |
//! | G2-item | a cycle with two or more rw edges (write skew) | serializable |
//! | G0/G1c/G-single/G2-item-realtime | the same cycles, needing a real-time edge | strict-serializable |
//! | incompatible-order, duplicate-elements, garbage-read | reads no database state explains | read-committed |
//!
//! The last row is no isolation anomaly: it says the store lost or invented data, which every
//! level prohibits.

use super::Consistency;
use super::graph::EdgeKind;
use std::fmt;

/// A class of anomaly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AnomalyKind {
    G0,
    G1a,
    G1b,
    G1c,
    GSingle,
    G2Item,
    G0Realtime,
    G1cRealtime,
    GSingleRealtime,
    G2ItemRealtime,
    Internal,
    LostUpdate,
    IncompatibleOrder,
    DuplicateElements,
    GarbageRead,
}

impl AnomalyKind {
    pub const ALL: [AnomalyKind; 15] = [
        AnomalyKind::G0,
        AnomalyKind::G1a,
        AnomalyKind::G1b,
        AnomalyKind::G1c,
        AnomalyKind::GSingle,
        AnomalyKind::G2Item,
        AnomalyKind::G0Realtime,
        AnomalyKind::G1cRealtime,
        AnomalyKind::GSingleRealtime,
        AnomalyKind::G2ItemRealtime,
        AnomalyKind::Internal,
        AnomalyKind::LostUpdate,
        AnomalyKind::IncompatibleOrder,
        AnomalyKind::DuplicateElements,
        AnomalyKind::GarbageRead,
    ];

    /// The name Elle gives it: `G0`, `G-single`, `G2-item-realtime`, `lost-update`, ...
    pub fn name(self) -> &'static str {
        match self {
            AnomalyKind::G0 => "G0",
            AnomalyKind::G1a => "G1a",
            AnomalyKind::G1b => "G1b",
            AnomalyKind::G1c => "G1c",
            AnomalyKind::GSingle => "G-single",
            AnomalyKind::G2Item => "G2-item",
            AnomalyKind::G0Realtime => "G0-realtime",
            AnomalyKind::G1cRealtime => "G1c-realtime",
            AnomalyKind::GSingleRealtime => "G-single-realtime",
            AnomalyKind::G2ItemRealtime => "G2-item-realtime",
            AnomalyKind::Internal => "internal",
            AnomalyKind::LostUpdate => "lost-update",
            AnomalyKind::IncompatibleOrder => "incompatible-order",
            AnomalyKind::DuplicateElements => "duplicate-elements",
            AnomalyKind::GarbageRead => "garbage-read",
        }
    }

    /// The weakest level that prohibits it (stronger levels prohibit it too).
    pub fn weakest_prohibiting(self) -> Consistency {
        use AnomalyKind as A;
        match self {
            A::GSingle | A::LostUpdate => Consistency::SnapshotIsolation,
            A::G2Item => Consistency::Serializable,
            A::G0Realtime | A::G1cRealtime | A::GSingleRealtime | A::G2ItemRealtime => {
                Consistency::StrictSerializable
            }
            A::G0
            | A::G1a
            | A::G1b
            | A::G1c
            | A::Internal
            | A::IncompatibleOrder
            | A::DuplicateElements
            | A::GarbageRead => Consistency::ReadCommitted,
        }
    }

    /// What it means, in one sentence.
    pub fn meaning(self) -> &'static str {
        use AnomalyKind as A;
        match self {
            A::G0 => "a cycle of write-write dependencies (ww)",
            A::G1a => "aborted read: a committed transaction read a failed transaction's write",
            A::G1b => {
                "intermediate read: a transaction read a value its writer overwrote before committing"
            }
            A::G1c => {
                "a cycle of write-write and write-read dependencies (ww, wr), at least one wr"
            }
            A::GSingle => "a cycle with exactly one anti-dependency (rw): read skew",
            A::G2Item => "a cycle with two or more anti-dependencies (rw): write skew",
            A::G0Realtime => "a cycle of write-write dependencies that needs real-time order (rt)",
            A::G1cRealtime => "a cycle of ww and wr dependencies that needs real-time order (rt)",
            A::GSingleRealtime => {
                "a cycle with one anti-dependency (rw) that needs real-time order (rt)"
            }
            A::G2ItemRealtime => {
                "a cycle with two or more anti-dependencies (rw) that needs real-time order (rt)"
            }
            A::Internal => {
                "a read that disagrees with the transaction's own earlier reads and writes"
            }
            A::LostUpdate => {
                "two committed transactions read the same version of a key and both wrote it"
            }
            A::IncompatibleOrder => {
                "two reads of a key that no single order of its appends explains"
            }
            A::DuplicateElements => "a read that holds the same appended value twice",
            A::GarbageRead => "a read of a value that no transaction wrote",
        }
    }

    /// Whether it is a dependency cycle.
    pub fn is_cycle(self) -> bool {
        use AnomalyKind as A;
        matches!(
            self,
            A::G0
                | A::G1c
                | A::GSingle
                | A::G2Item
                | A::G0Realtime
                | A::G1cRealtime
                | A::GSingleRealtime
                | A::G2ItemRealtime
        )
    }
}

impl fmt::Display for AnomalyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A transaction as a report names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxnRef {
    /// Index into `History::ops`.
    pub op: usize,
    /// faultline's op number ([`crate::history::History::number`]).
    pub number: usize,
    /// 1-based line of the invocation.
    pub line: usize,
    /// The `:index` of a Jepsen history, when it numbers its events.
    pub jepsen_index: Option<u64>,
    /// `ok`, `info` or `fail`.
    pub status: &'static str,
    /// The micro-ops, as `[append 1 2] [r 2 [1 2]]`.
    pub micro_ops: String,
}

/// One edge of a cycle, in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CycleEdge {
    /// faultline's op numbers (as in [`TxnRef::number`]) of the source and the target.
    pub from: usize,
    pub to: usize,
    pub kind: EdgeKind,
    /// E.g. "T3 read key 1 = [1 2] before T4 appended 5 (rw)".
    pub words: String,
}

/// One anomaly found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anomaly {
    pub kind: AnomalyKind,
    /// The transactions involved, in the order the explanation names them.
    pub txns: Vec<TxnRef>,
    /// For a cycle, its edges in order (the last leads back to the first transaction).
    pub cycle: Vec<CycleEdge>,
    /// What was seen, in plain words.
    pub explanation: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_prohibit_more_as_they_strengthen() {
        use AnomalyKind as A;
        let rc = Consistency::ReadCommitted;
        let si = Consistency::SnapshotIsolation;
        let ser = Consistency::Serializable;
        let strict = Consistency::StrictSerializable;
        assert!(rc.prohibits(A::G1c) && rc.prohibits(A::Internal) && !rc.prohibits(A::GSingle));
        assert!(si.prohibits(A::GSingle) && si.prohibits(A::LostUpdate));
        assert!(!si.prohibits(A::G2Item) && ser.prohibits(A::G2Item));
        assert!(!ser.prohibits(A::G1cRealtime) && strict.prohibits(A::G1cRealtime));
        for kind in AnomalyKind::ALL {
            assert!(strict.prohibits(kind), "{kind}");
        }
        let names: std::collections::BTreeSet<&str> =
            AnomalyKind::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(names.len(), AnomalyKind::ALL.len());
    }
}
