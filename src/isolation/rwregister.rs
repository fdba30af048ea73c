//! The rw-register model: what reads and writes of registers reveal.
//!
//! Every written value is unique per key, so a value read names its writer. A register's read
//! shows only the last version, not the ones before it, so the version order is inferred from
//! two facts only:
//!
//! - the initial version, nil, comes before every written version;
//! - a transaction that reads version v of a key and then writes v' to it installed v' right
//!   after v (writes follow reads).
//!
//! Only a transaction's *final* write to a key installs a version (reading an earlier one is
//! G1b), and only its *external* reads count (those of a key it had neither read nor written
//! before). Nothing else is inferred: blind writes are in no order among themselves, and neither
//! the real-time order of writes nor the order of a process's writes is taken as the version
//! order. So a read of v gives **wr** from v's writer; v → v' gives **ww** between their
//! writers; and a read of v gives **rw** towards the writer of each version known to follow v
//! (for a read of nil, each version with no other known predecessor).
//!
//! Without cycles, the reads also show: values written by failed transactions (G1a), values
//! that were not their writer's final write to the key (G1b), reads that disagree with the
//! transaction's own earlier reads and writes (internal), values nobody wrote (garbage-read),
//! and two transactions that read the same version of a key and both wrote it (lost-update).

use super::anomaly::AnomalyKind;
use super::graph::{EdgeKind, Why};
use super::txn::{At, MopKind, Txns, writers};
use super::words::Words;
use super::{Inferred, IsolationError};
use crate::history::{History, Status, Value};
use crate::linearizability::fxhash::FxHashMap;
use std::collections::BTreeMap;

/// A version: a written value, or `None` for the initial nil.
type Version<'h> = Option<&'h Value>;

/// What a committed transaction's micro-ops say of one key.
struct Access<'h> {
    /// Its external read, if its first micro-op on the key was a read.
    read: Option<(Version<'h>, u32)>,
    /// Its final write.
    write: Option<u32>,
}

/// Infers the dependencies of an rw-register history and its anomalies without cycles.
pub fn infer(path: &str, history: &History, txns: &Txns) -> Result<Inferred, IsolationError> {
    let words = Words::new(history, txns);
    let writers = writers(path, history, txns, MopKind::Write)?;
    let mut out = Inferred::default();
    // (key, version) → the final writes known to follow it directly.
    let mut next: BTreeMap<(u32, Version), Vec<At>> = BTreeMap::new();
    let mut has_predecessor: FxHashMap<(u32, &Value), ()> = FxHashMap::default();
    let mut reads: Vec<(u32, Version, At)> = Vec::new();
    for (t, txn) in txns.txns.iter().enumerate() {
        let t = t as u32;
        if txn.reads_known() {
            internal(&words, txns, t, &mut out);
        }
        if txn.status == Status::Fail {
            continue;
        }
        for (key, access) in accesses(txns, t) {
            if let Some((version, m)) = access.read {
                check_read(&words, txns, &writers, (t, m), key, version, &mut out);
                reads.push((key, version, (t, m)));
            }
            if let Some(w) = access.write {
                let installed = txns.txns[t as usize].mops[w as usize].value;
                if let Some((version, _)) = access.read {
                    next.entry((key, version)).or_default().push((t, w));
                    if version.is_some() {
                        has_predecessor.insert((key, installed), ());
                    }
                }
            }
        }
    }
    roots(txns, &has_predecessor, &mut next);
    edges(txns, &writers, &next, &reads, &mut out);
    lost_updates(&words, txns, &next, &mut out);
    Ok(out)
}

/// Per key, transaction `t`'s external read and final write.
fn accesses<'h>(txns: &Txns<'h>, t: u32) -> BTreeMap<u32, Access<'h>> {
    let txn = &txns.txns[t as usize];
    let mut out: BTreeMap<u32, Access<'h>> = BTreeMap::new();
    for (m, mop) in txn.mops.iter().enumerate() {
        let m = m as u32;
        let first = !out.contains_key(&mop.key);
        let access = out.entry(mop.key).or_insert(Access {
            read: None,
            write: None,
        });
        match mop.kind {
            MopKind::Read if first => {
                let version = (*mop.value != Value::Nil).then_some(mop.value);
                access.read = Some((version, m));
            }
            MopKind::Write | MopKind::Append => access.write = Some(m),
            MopKind::Read => {}
        }
    }
    out
}

/// The initial version precedes every final write that follows no other known version.
fn roots<'h>(
    txns: &Txns<'h>,
    has_predecessor: &FxHashMap<(u32, &Value), ()>,
    next: &mut BTreeMap<(u32, Version<'h>), Vec<At>>,
) {
    for (t, txn) in txns.txns.iter().enumerate() {
        if txn.status == Status::Fail {
            continue;
        }
        let t = t as u32;
        for (key, access) in accesses(txns, t) {
            let Some(w) = access.write else { continue };
            let value = txn.mops[w as usize].value;
            let read_nil = matches!(access.read, Some((None, _)));
            if !read_nil && !has_predecessor.contains_key(&(key, value)) {
                next.entry((key, None)).or_default().push((t, w));
            }
        }
    }
}

/// ww, wr and rw edges from the version order and the external reads.
fn edges(
    txns: &Txns,
    writers: &FxHashMap<(u32, &Value), At>,
    next: &BTreeMap<(u32, Version), Vec<At>>,
    reads: &[(u32, Version, At)],
    out: &mut Inferred,
) {
    let committed = |w: At| txns.txns[w.0 as usize].status != Status::Fail;
    for (&(key, version), successors) in next {
        let Some(&w) = version.and_then(|v| writers.get(&(key, v))) else {
            continue;
        };
        if !committed(w) {
            continue;
        }
        for &s in successors {
            out.edges.add(
                w.0,
                s.0,
                EdgeKind::Ww,
                Why {
                    key,
                    first: w,
                    then: s,
                },
            );
        }
    }
    for &(key, version, here) in reads {
        if let Some(&w) = version.and_then(|v| writers.get(&(key, v)))
            && committed(w)
        {
            out.edges.add(
                w.0,
                here.0,
                EdgeKind::Wr,
                Why {
                    key,
                    first: here,
                    then: w,
                },
            );
        }
        for &s in next.get(&(key, version)).map_or(&[][..], Vec::as_slice) {
            out.edges.add(
                here.0,
                s.0,
                EdgeKind::Rw,
                Why {
                    key,
                    first: here,
                    then: s,
                },
            );
        }
    }
}

/// A read of a value nobody wrote, a failed transaction wrote, or its writer overwrote.
fn check_read(
    words: &Words,
    txns: &Txns,
    writers: &FxHashMap<(u32, &Value), At>,
    here: At,
    key: u32,
    version: Version,
    out: &mut Inferred,
) {
    let Some(value) = version else { return };
    let reader = words.name(here.0);
    let key_value = words.key(key);
    let Some(&(w, wm)) = writers.get(&(key, value)) else {
        let text = format!("{reader} read key {key_value} = {value}, which no transaction wrote");
        out.anomalies
            .push(words.anomaly(AnomalyKind::GarbageRead, &[here.0], text));
        return;
    };
    let writer = &txns.txns[w as usize];
    if writer.status == Status::Fail {
        let text = format!(
            "{reader} read key {key_value} = {value}, which {} wrote before it failed",
            words.name(w)
        );
        out.anomalies
            .push(words.anomaly(AnomalyKind::G1a, &[here.0, w], text));
        return;
    }
    let later = writer.mops[wm as usize + 1..]
        .iter()
        .find(|m| m.kind == MopKind::Write && m.key == key);
    if let (Some(later), false) = (later, w == here.0) {
        let text = format!(
            "{reader} read key {key_value} = {value}, but {} overwrote it with {} before committing",
            words.name(w),
            later.value
        );
        out.anomalies
            .push(words.anomaly(AnomalyKind::G1b, &[here.0, w], text));
    }
}

/// Reads of transaction `t` that disagree with what it read and wrote before.
fn internal(words: &Words, txns: &Txns, t: u32, out: &mut Inferred) {
    let mut known: BTreeMap<u32, &Value> = BTreeMap::new();
    for mop in &txns.txns[t as usize].mops {
        if mop.kind == MopKind::Read
            && let Some(&before) = known.get(&mop.key)
            && before != mop.value
        {
            let text = format!(
                "{} read key {} = {}, but its own earlier micro-ops call for {before}",
                words.name(t),
                words.key(mop.key),
                mop.value
            );
            out.anomalies
                .push(words.anomaly(AnomalyKind::Internal, &[t], text));
        }
        known.insert(mop.key, mop.value);
    }
}

/// Two or more committed transactions that read the same version and wrote the key.
fn lost_updates(
    words: &Words,
    txns: &Txns,
    next: &BTreeMap<(u32, Version), Vec<At>>,
    out: &mut Inferred,
) {
    for (&(key, version), successors) in next {
        // Only those that read the version; the initial one also lists the blind writes.
        let group: Vec<u32> = successors
            .iter()
            .map(|s| s.0)
            .filter(|&t| {
                txns.txns[t as usize].reads_known()
                    && accesses(txns, t)
                        .get(&key)
                        .and_then(|a| a.read)
                        .map(|r| r.0)
                        == Some(version)
            })
            .collect();
        if group.len() < 2 {
            continue;
        }
        let shown = version.map_or("nil".to_string(), Value::to_string);
        let text = format!(
            "{} read key {} = {shown}, the same version, and each wrote it",
            words.all(&group),
            words.key(key)
        );
        out.anomalies
            .push(words.anomaly(AnomalyKind::LostUpdate, &group, text));
    }
}
