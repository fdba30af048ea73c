//! Transactional isolation checking in the style of Elle (Kingsbury & Alvaro, VLDB 2020).
//!
//! A transactional history is a history whose operations are transactions: `f` is `txn` and the
//! value is a list of micro-ops, `[append k v]` and `[r k v]` for the [`TxnModel::ListAppend`]
//! model, `[w k v]` and `[r k v]` for [`TxnModel::RwRegister`]. Values written are unique per
//! key, so a value read names the transaction that wrote it, and the reads reveal the order in
//! which each key's versions were installed. From that, [`check`]:
//!
//! 1. reads the transactions out of the [`History`] ([`txn`]): an `ok` transaction happened, a
//!    `fail` one did not, an `info` one may have (and did, if anyone read its write);
//! 2. infers each key's version order and the dependencies between committed transactions
//!    ([`listappend`], [`rwregister`]): T2 overwrote T1 (ww), T2 read what T1 wrote (wr), T1
//!    read a version that T2 overwrote (rw, an anti-dependency); it also finds the anomalies that
//!    need no cycle: aborted and intermediate reads, reads inconsistent with the transaction's
//!    own writes, lost updates, values nobody wrote;
//! 3. adds real-time edges (T1 completed before T2 was invoked), each invocation getting edges
//!    only from the transactions that were last to complete before it, so that they stay
//!    linear in the history's length ([`realtime`]);
//! 4. splits the dependency graph into strongly connected components ([`graph`], Tarjan's
//!    algorithm without recursion) and, within each, looks for the shortest cycle of each class
//!    ([`cycles`]): G0 (ww only), G1c (ww and wr), G-single (one rw), G2-item (two or more rw),
//!    and their `-realtime` variants, which need a real-time edge;
//! 5. judges the anomalies against a [`Consistency`] level ([`anomaly`]): all are reported,
//!    only those the level prohibits make the history invalid.
//!
//! Everything is ordered by position in the history, never by hash order: the same history gives
//! the same report. The work is bounded: at most [`Options::anomalies_per_class_max`] anomalies
//! of a class are described, and the cycle search takes at most [`Options::search_steps_max`]
//! steps; the report says when either bound was reached.
//!
//! ```
//! use faultline::history::{self, Format};
//! use faultline::isolation::{self, AnomalyKind, Consistency, Options, TxnModel};
//!
//! // T1 appends 1 to key x; T2 reads x and sees [1]; T2 also appends 2 to key y, which T1
//! // read as empty: T1 -wr-> T2 (T2 saw T1's append) and T1 -rw-> T2. No cycle: serializable.
//! let text = r#"{"process":0,"type":"invoke","f":"txn","value":[["append","x",1],["r","y",null]]}
//! {"process":0,"type":"ok","f":"txn","value":[["append","x",1],["r","y",[]]]}
//! {"process":1,"type":"invoke","f":"txn","value":[["r","x",null],["append","y",2]]}
//! {"process":1,"type":"ok","f":"txn","value":[["r","x",[1]],["append","y",2]]}
//! "#;
//! let h = history::parse("h.jsonl", text, Some(Format::Jsonl))?;
//! let report = isolation::check("h.jsonl", &h, &Options::new(TxnModel::ListAppend))?;
//! assert!(report.is_valid());
//!
//! // The same reads by two concurrent transactions that each miss the other's append: G2-item.
//! let text = r#"{"process":0,"type":"invoke","f":"txn","value":[["append","x",1],["r","y",null]]}
//! {"process":1,"type":"invoke","f":"txn","value":[["r","x",null],["append","y",2]]}
//! {"process":0,"type":"ok","f":"txn","value":[["append","x",1],["r","y",[]]]}
//! {"process":1,"type":"ok","f":"txn","value":[["r","x",[]],["append","y",2]]}
//! {"process":2,"type":"invoke","f":"txn","value":[["r","x",null],["r","y",null]]}
//! {"process":2,"type":"ok","f":"txn","value":[["r","x",[1]],["r","y",[2]]]}
//! "#;
//! let h = history::parse("h.jsonl", text, Some(Format::Jsonl))?;
//! let report = isolation::check("h.jsonl", &h, &Options::new(TxnModel::ListAppend))?;
//! assert!(!report.is_valid());
//! assert_eq!(report.anomalies[0].kind, AnomalyKind::G2Item);
//! // Snapshot isolation allows write skew: the anomaly is listed, the history is valid.
//! let options = Options { consistency: Consistency::SnapshotIsolation, ..Options::new(TxnModel::ListAppend) };
//! assert!(isolation::check("h.jsonl", &h, &options)?.is_valid());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod anomaly;
pub mod cycles;
pub mod graph;
pub mod listappend;
pub mod realtime;
pub mod render;
pub mod rwregister;
pub mod txn;
mod words;

pub use anomaly::{Anomaly, AnomalyKind, CycleEdge, TxnRef};
pub use graph::EdgeKind;

use crate::history::History;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// The transactional data models.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TxnModel {
    /// Lists per key, extended by `[append k v]` and read whole by `[r k list]`.
    ListAppend,
    /// Registers per key, written by `[w k v]` and read by `[r k v]`.
    RwRegister,
}

impl TxnModel {
    /// `list-append` or `rw-register`, as the command line names it.
    pub fn name(self) -> &'static str {
        match self {
            TxnModel::ListAppend => "list-append",
            TxnModel::RwRegister => "rw-register",
        }
    }
}

impl fmt::Display for TxnModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Isolation levels, weakest first: each prohibits what the ones before it prohibit, and more
/// (see [`AnomalyKind::weakest_prohibiting`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Consistency {
    ReadCommitted,
    SnapshotIsolation,
    Serializable,
    StrictSerializable,
}

impl Consistency {
    /// The level's name on the command line, e.g. `snapshot-isolation`.
    pub fn name(self) -> &'static str {
        match self {
            Consistency::ReadCommitted => "read-committed",
            Consistency::SnapshotIsolation => "snapshot-isolation",
            Consistency::Serializable => "serializable",
            Consistency::StrictSerializable => "strict-serializable",
        }
    }

    /// Whether a history showing `kind` violates this level.
    pub fn prohibits(self, kind: AnomalyKind) -> bool {
        kind.weakest_prohibiting() <= self
    }
}

impl fmt::Display for Consistency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How to check.
#[derive(Clone, Debug)]
pub struct Options {
    pub model: TxnModel,
    /// The level the history must meet; Elle's default is strict-serializable.
    pub consistency: Consistency,
    /// At most this many anomalies of one class are described; the rest are only counted.
    pub anomalies_per_class_max: usize,
    /// The cycle search takes at most this many steps (an edge looked at is a step), shared
    /// between the classes of cycle (see [`cycles`]). A search cut short says so, and
    /// gives no "valid" verdict if the level prohibits the class it was looking for.
    pub search_steps_max: u64,
}

impl Options {
    /// Strict serializability, 8 anomalies described per class, 40 million search steps.
    pub fn new(model: TxnModel) -> Options {
        Options {
            model,
            consistency: Consistency::StrictSerializable,
            anomalies_per_class_max: 8,
            search_steps_max: 40_000_000,
        }
    }
}

/// Bad input, located at the invocation of the transaction at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}:{line}:{column}: {message}")]
pub struct IsolationError {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// The verdict against the chosen level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// No anomaly the level prohibits.
    Valid,
    /// At least one anomaly the level prohibits.
    Invalid,
    /// No prohibited anomaly was found, but the cycle search stopped early; the reason.
    Unknown(String),
}

/// How many transactions of each kind the history held.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TxnCounts {
    pub ok: usize,
    pub info: usize,
    pub fail: usize,
    /// Distinct keys any micro-op names.
    pub keys: usize,
}

/// What the checker found.
#[derive(Clone, Debug)]
pub struct Report {
    pub model: TxnModel,
    pub consistency: Consistency,
    pub verdict: Verdict,
    pub txns: TxnCounts,
    /// The anomalies described, in a fixed order: by class, then by position in the history.
    pub anomalies: Vec<Anomaly>,
    /// How many anomalies of each class were found, described or not.
    pub counts: BTreeMap<AnomalyKind, usize>,
    /// Dependency edges by kind (`ww`, `wr`, `rw`, `rt`).
    pub edges: BTreeMap<EdgeKind, usize>,
    /// Strongly connected components with more than one transaction.
    pub components: usize,
    /// Bounds that were reached, in words (empty when the search was complete).
    pub notes: Vec<String>,
    pub elapsed: Duration,
}

impl Report {
    /// Whether no anomaly the level prohibits was found (and the search was complete).
    pub fn is_valid(&self) -> bool {
        self.verdict == Verdict::Valid
    }

    /// The classes found that the level prohibits, in order.
    pub fn prohibited(&self) -> Vec<AnomalyKind> {
        let level = self.consistency;
        self.counts
            .keys()
            .copied()
            .filter(|&k| level.prohibits(k))
            .collect()
    }
}

/// What a model's inference hands to the graph: dependency edges between transactions (indices
/// into [`txn::Txns::txns`]) and the anomalies that need no cycle.
#[derive(Default)]
pub struct Inferred {
    pub edges: graph::EdgeList,
    pub anomalies: Vec<Anomaly>,
}

/// Checks the transactions of `history` (read from `name`, named in errors) against
/// `options.consistency`.
pub fn check(name: &str, history: &History, options: &Options) -> Result<Report, IsolationError> {
    #[allow(clippy::disallowed_methods)] // Measures the check; never shapes a result.
    let start = std::time::Instant::now();
    let txns = txn::read(name, history, options.model)?;
    let mut inferred = match options.model {
        TxnModel::ListAppend => listappend::infer(name, history, &txns)?,
        TxnModel::RwRegister => rwregister::infer(name, history, &txns)?,
    };
    realtime::add_edges(history, &txns, &mut inferred.edges);
    let graph = graph::Graph::new(txns.txns.len(), inferred.edges);
    let found = cycles::search(&graph, options);
    let words = words::Words::new(history, &txns);
    let mut anomalies = inferred.anomalies;
    anomalies.extend(found.cycles.iter().map(|c| words.cycle(&graph, c)));
    let mut report = assemble(&txns, options, anomalies, found.notes, &found.incomplete);
    report.edges = graph.counts();
    report.components = found.components;
    report.elapsed = start.elapsed();
    Ok(report)
}

/// Orders, counts and caps the anomalies, and gives the verdict.
fn assemble(
    txns: &txn::Txns,
    options: &Options,
    mut anomalies: Vec<Anomaly>,
    mut notes: Vec<String>,
    incomplete: &[AnomalyKind],
) -> Report {
    anomalies.sort_by_key(|a| (a.kind, a.txns.first().map(|t| t.op)));
    let mut counts = BTreeMap::new();
    anomalies.retain(|a| {
        let n = counts.entry(a.kind).or_insert(0usize);
        *n += 1;
        *n <= options.anomalies_per_class_max
    });
    for (kind, &n) in &counts {
        if n > options.anomalies_per_class_max {
            notes.push(format!(
                "{n} {kind} anomalies found, the first {} described",
                options.anomalies_per_class_max
            ));
        }
    }
    let level = options.consistency;
    let unsure: Vec<&str> = incomplete
        .iter()
        .filter(|&&k| level.prohibits(k))
        .map(|k| k.name())
        .collect();
    let verdict = if counts.keys().any(|&k| level.prohibits(k)) {
        Verdict::Invalid
    } else if !unsure.is_empty() {
        Verdict::Unknown(format!(
            "the search for {} cycles was cut short by its bound",
            unsure.join(", ")
        ))
    } else {
        Verdict::Valid
    };
    Report {
        model: options.model,
        consistency: level,
        verdict,
        txns: txns.counts(),
        anomalies,
        counts,
        edges: BTreeMap::new(),
        components: 0,
        notes,
        elapsed: Duration::ZERO,
    }
}

#[cfg(test)]
mod tests;
