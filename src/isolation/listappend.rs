//! The list-append model: what the reads of lists reveal.
//!
//! Every appended value is unique per key, so an element of a list names the transaction that
//! appended it, and a read of the whole list shows the order in which the appends were
//! installed. The *version order* of a key is its longest read by a committed transaction; every
//! other read of the key must be a prefix of it (if not, no single order explains both:
//! `incompatible-order`). From that order:
//!
//! - **ww**: the appender of each element precedes the appender of the next one;
//! - **wr**: the appender of a read's last element precedes the reader;
//! - **rw**: a reader precedes the appender of the element that follows what it read (the
//!   first element, for an empty read).
//!
//! Only a transaction's *external* reads give wr and rw edges: those of a key it had neither
//! read nor appended to before. Appends no read shows are in no order, and give no edge.
//!
//! Without cycles, the reads also show: values appended by failed transactions (G1a), a read
//! whose last element its appender followed with another append to the key (G1b), a read that
//! disagrees with the transaction's own earlier reads and appends (internal), elements nobody
//! appended (garbage-read) or appearing twice (duplicate-elements), and two transactions that
//! read the same version of a key and both appended to it (lost-update).

use super::anomaly::AnomalyKind;
use super::graph::{EdgeKind, Why};
use super::txn::{At, MopKind, Txns, writers};
use super::words::Words;
use super::{Inferred, IsolationError};
use crate::history::{History, Status, Value};
use crate::linearizability::fxhash::FxHashMap;
use std::collections::BTreeMap;

/// What is known of each key.
struct Keys<'h> {
    /// (key, value) → the append that wrote it.
    writers: FxHashMap<(u32, &'h Value), At>,
    /// Per key, the longest read (the version order) and where it was read.
    longest: Vec<Option<(&'h [Value], At)>>,
    /// Per key, the positions in its version order of values that failed transactions
    /// appended: a read, being a prefix of the order, holds those below its length.
    failed: Vec<Vec<u32>>,
}

fn list(value: &Value) -> &[Value] {
    match value {
        Value::List(items) => items,
        _ => &[],
    }
}

fn at(t: usize, m: usize) -> At {
    (t as u32, m as u32)
}

/// Infers the dependencies of a list-append history and its anomalies without cycles.
pub fn infer(path: &str, history: &History, txns: &Txns) -> Result<Inferred, IsolationError> {
    let words = Words::new(history, txns);
    let keys = know(path, history, txns)?;
    let mut out = Inferred::default();
    for (t, txn) in txns.txns.iter().enumerate() {
        if txn.reads_known() {
            internal(&words, txns, t, &mut out);
        }
    }
    orders(&words, txns, &keys, &mut out);
    for (t, txn) in txns.txns.iter().enumerate() {
        if txn.reads_known() {
            reads(&words, txns, &keys, t, &mut out);
        }
    }
    lost_updates(&words, txns, &mut out);
    Ok(out)
}

/// The writer of every value (refusing a value appended twice to a key), and the version
/// order of every key.
fn know<'h>(path: &str, history: &History, txns: &Txns<'h>) -> Result<Keys<'h>, IsolationError> {
    let writers = writers(path, history, txns, MopKind::Append)?;
    let mut longest: Vec<Option<(&'h [Value], At)>> = vec![None; txns.keys.len()];
    for (t, txn) in txns.txns.iter().enumerate() {
        for (m, mop) in txn.mops.iter().enumerate() {
            if mop.kind != MopKind::Append && txn.reads_known() {
                let read = list(mop.value);
                let slot = &mut longest[mop.key as usize];
                if slot.is_none_or(|(l, _)| l.len() < read.len()) {
                    *slot = Some((read, at(t, m)));
                }
            }
        }
    }
    let failed = longest
        .iter()
        .enumerate()
        .map(|(k, order)| {
            let order = order.map_or(&[][..], |(l, _)| l);
            let failed_at = |v| {
                writers
                    .get(&(k as u32, v))
                    .is_some_and(|&(w, _)| txns.txns[w as usize].status == Status::Fail)
            };
            (0..order.len() as u32)
                .filter(|&i| failed_at(&order[i as usize]))
                .collect()
        })
        .collect();
    Ok(Keys {
        writers,
        longest,
        failed,
    })
}

/// Per key, the version order's own faults (duplicates, garbage, failed appends) and its ww
/// edges.
fn orders(words: &Words, txns: &Txns, keys: &Keys, out: &mut Inferred) {
    for (k, order) in keys.longest.iter().enumerate() {
        let Some((order, (reader, m))) = *order else {
            continue;
        };
        let key = k as u32;
        let key_value = txns.keys[k];
        let read = || {
            format!(
                "{} read key {key_value} = {}",
                words.name(reader),
                words.mop((reader, m)).value
            )
        };
        if let Some(v) = duplicate(order) {
            let text = format!("{} ({v} twice)", read());
            out.anomalies
                .push(words.anomaly(AnomalyKind::DuplicateElements, &[reader], text));
        }
        let mut previous: Option<At> = None;
        for v in order {
            let Some(&writer) = keys.writers.get(&(key, v)) else {
                let text = format!("{}, holding {v}, which no transaction appended", read());
                out.anomalies
                    .push(words.anomaly(AnomalyKind::GarbageRead, &[reader], text));
                previous = None;
                continue;
            };
            if txns.txns[writer.0 as usize].status == Status::Fail {
                previous = None;
                continue;
            }
            if let Some(p) = previous {
                let why = Why {
                    key,
                    first: p,
                    then: writer,
                };
                out.edges.add(p.0, writer.0, EdgeKind::Ww, why);
            }
            previous = Some(writer);
        }
    }
}

/// The first value that appears twice in `items`.
fn duplicate(items: &[Value]) -> Option<&Value> {
    let mut seen: FxHashMap<&Value, ()> = FxHashMap::default();
    items.iter().find(|&v| seen.insert(v, ()).is_some())
}

/// Transaction `t`'s reads against the version orders: G1a, G1b, incompatible orders, and its
/// wr and rw edges.
fn reads(words: &Words, txns: &Txns, keys: &Keys, t: usize, out: &mut Inferred) {
    let txn = &txns.txns[t];
    let mut touched: Vec<u32> = Vec::new();
    for (m, mop) in txn.mops.iter().enumerate() {
        let external = !touched.contains(&mop.key);
        touched.push(mop.key);
        if mop.kind != MopKind::Read {
            continue;
        }
        let read = list(mop.value);
        let here = at(t, m);
        if !compatible(words, keys, here, mop.key, read, out) {
            continue;
        }
        aborted_or_intermediate(words, txns, keys, here, mop.key, read, out);
        if !external {
            continue;
        }
        read_edges(txns, keys, here, mop.key, read, out);
    }
}

/// The wr edge from the appender of the last element of an external read, and the rw edge to
/// the appender of the element after it.
fn read_edges(txns: &Txns, keys: &Keys, here: At, key: u32, read: &[Value], out: &mut Inferred) {
    let committed = |w: &At| txns.txns[w.0 as usize].status != Status::Fail;
    let last = read.last().and_then(|v| keys.writers.get(&(key, v)));
    if let Some(&w) = last.filter(|w| committed(w)) {
        let why = Why {
            key,
            first: here,
            then: w,
        };
        out.edges.add(w.0, here.0, EdgeKind::Wr, why);
    }
    let order = keys.longest[key as usize].map_or(&[][..], |(l, _)| l);
    let next = order
        .get(read.len())
        .and_then(|v| keys.writers.get(&(key, v)));
    // The next element's appender overwrote what was read, unless it also appended the last
    // element read (an intermediate read, G1b, not an anti-dependency).
    if let Some(&u) = next.filter(|u| committed(u) && Some(u.0) != last.map(|w| w.0)) {
        let why = Why {
            key,
            first: here,
            then: u,
        };
        out.edges.add(here.0, u.0, EdgeKind::Rw, why);
    }
}

/// Whether `read` is a prefix of its key's version order; an incompatible-order anomaly if not.
fn compatible(
    words: &Words,
    keys: &Keys,
    here: At,
    key: u32,
    read: &[Value],
    out: &mut Inferred,
) -> bool {
    let Some((order, longest_at)) = keys.longest[key as usize] else {
        return true;
    };
    if order.len() >= read.len() && order[..read.len()] == *read {
        return true;
    }
    let text = format!(
        "{} read key {} = {} and {} read it = {}: neither is a prefix of the other",
        words.name(longest_at.0),
        words.key(key),
        words.mop(longest_at).value,
        words.name(here.0),
        words.mop(here).value
    );
    let anomaly = words.anomaly(
        AnomalyKind::IncompatibleOrder,
        &[longest_at.0, here.0],
        text,
    );
    out.anomalies.push(anomaly);
    if let Some(v) = duplicate(read) {
        let text = format!(
            "{} read key {} = {} ({v} twice)",
            words.name(here.0),
            words.key(key),
            words.mop(here).value
        );
        out.anomalies
            .push(words.anomaly(AnomalyKind::DuplicateElements, &[here.0], text));
    }
    false
}

/// G1a for each element of `read` a failed transaction appended; G1b if its last element was
/// not its appender's last append to the key.
fn aborted_or_intermediate(
    words: &Words,
    txns: &Txns,
    keys: &Keys,
    here: At,
    key: u32,
    read: &[Value],
    out: &mut Inferred,
) {
    let reader = || words.name(here.0);
    let key_value = words.key(key);
    let failed = &keys.failed[key as usize];
    for &p in failed.iter().take_while(|&&p| (p as usize) < read.len()) {
        let v = &read[p as usize];
        let Some(&(w, _)) = keys.writers.get(&(key, v)) else {
            continue;
        };
        let text = format!(
            "{} read key {key_value} = {}, holding {v}, which {} appended before it failed",
            reader(),
            words.mop(here).value,
            words.name(w)
        );
        out.anomalies
            .push(words.anomaly(AnomalyKind::G1a, &[here.0, w], text));
    }
    let Some(&(w, wm)) = read.last().and_then(|v| keys.writers.get(&(key, v))) else {
        return;
    };
    let writer = &txns.txns[w as usize];
    if w == here.0 || writer.status == Status::Fail {
        return;
    }
    let later = writer.mops[wm as usize + 1..]
        .iter()
        .find(|m| m.kind == MopKind::Append && m.key == key);
    if let Some(later) = later {
        let text = format!(
            "{} read key {key_value} = {}, ending with {}, but {} appended {} after it",
            reader(),
            words.mop(here).value,
            words.mop((w, wm)).value,
            words.name(w),
            later.value
        );
        out.anomalies
            .push(words.anomaly(AnomalyKind::G1b, &[here.0, w], text));
    }
}

/// Reads of transaction `t` that disagree with what it read and appended before.
fn internal(words: &Words, txns: &Txns, t: usize, out: &mut Inferred) {
    // Per key: the list as the transaction last read it, and its appends since.
    let mut known: BTreeMap<u32, (Option<&[Value]>, Vec<&Value>)> = BTreeMap::new();
    for mop in &txns.txns[t].mops {
        let (seen, appended) = known.entry(mop.key).or_default();
        if mop.kind == MopKind::Append {
            appended.push(mop.value);
            continue;
        }
        let read = list(mop.value);
        let ends_with_appends = read.len() >= appended.len()
            && read[read.len() - appended.len()..]
                .iter()
                .zip(appended.iter())
                .all(|(a, b)| a == *b);
        let fine = ends_with_appends
            && seen.is_none_or(|before| {
                read.len() == before.len() + appended.len() && read.starts_with(before)
            });
        if !fine {
            let mut wanted: Vec<Value> = seen.map_or_else(Vec::new, <[Value]>::to_vec);
            wanted.extend(appended.iter().map(|v| (*v).clone()));
            let wanted = match seen {
                Some(_) => Value::List(wanted).to_string(),
                None => format!("a list ending with {}", Value::List(wanted)),
            };
            let text = format!(
                "{} read key {} = {}, but its own earlier micro-ops call for {wanted}",
                words.name(t as u32),
                words.key(mop.key),
                mop.value
            );
            let anomaly = words.anomaly(AnomalyKind::Internal, &[t as u32], text);
            out.anomalies.push(anomaly);
        }
        *seen = Some(read);
        appended.clear();
    }
}

/// Transactions that read the same version of a key, then appended to it.
fn lost_updates(words: &Words, txns: &Txns, out: &mut Inferred) {
    let mut groups: BTreeMap<(u32, Option<&Value>), Vec<u32>> = BTreeMap::new();
    for (t, txn) in txns.txns.iter().enumerate() {
        if !txn.reads_known() {
            continue;
        }
        let mut first: BTreeMap<u32, (MopKind, &Value)> = BTreeMap::new();
        let mut wrote: Vec<u32> = Vec::new();
        for mop in &txn.mops {
            first.entry(mop.key).or_insert((mop.kind, mop.value));
            if mop.kind == MopKind::Append && !wrote.contains(&mop.key) {
                wrote.push(mop.key);
            }
        }
        for key in wrote {
            if let Some(&(MopKind::Read, v)) = first.get(&key) {
                groups
                    .entry((key, list(v).last()))
                    .or_default()
                    .push(t as u32);
            }
        }
    }
    for ((key, _), group) in groups {
        if group.len() < 2 {
            continue;
        }
        let first = txns.txns[group[0] as usize]
            .mops
            .iter()
            .find(|m| m.key == key);
        let version = first.map_or(String::new(), |m| m.value.to_string());
        let text = format!(
            "{} read key {} = {version}, the same version, and each appended to it",
            words.all(&group),
            words.key(key)
        );
        out.anomalies
            .push(words.anomaly(AnomalyKind::LostUpdate, &group, text));
    }
}
