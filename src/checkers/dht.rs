//! The dht checker (`reads_written`): `write` ops putting a value under a key, `read` ops getting
//! a key's value or nil. Every ok read that returned a value must return one that a write of its
//! key, not failed, wrote and invoked before the read returned.
//!
//! It never demands that a read *finds* a write: a distributed hash table may lose a key with
//! all its replicas, and whether it should have kept it is the protocol's own property. What no
//! table may do is invent a value, move one to another key, or return one before anybody asked
//! for it to be written.

use super::{Kind, Outcome, bad_op, outcome, unknown_f, value_json};
use crate::history::{History, Op, ParseError, Status, Value};
use serde_json::json;
use std::collections::BTreeMap;

/// An ok read whose value no write of its key had written before the read returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unwritten {
    /// The read's index in the history.
    pub read: usize,
    /// What the writes of that value say about it.
    pub why: Why,
}

/// Why no write explains a read: which write of the value came closest, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Why {
    /// No write, of any key, wrote the value.
    Never,
    /// Write `op` (its index in the history) wrote it under another key.
    OtherKey { op: usize },
    /// Write `op` of the key wrote it, but was invoked only after the read returned.
    Later { op: usize },
    /// Write `op` of the key wrote it, but failed: it definitely did not take effect.
    Failed { op: usize },
}

impl Why {
    /// The write it names, if any.
    pub fn write(&self) -> Option<usize> {
        match *self {
            Why::Never => None,
            Why::OtherKey { op } | Why::Later { op } | Why::Failed { op } => Some(op),
        }
    }
}

/// What a history's reads found, and the first read no write explains, in invocation order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Findings {
    /// Ok reads whose output is known.
    pub reads: usize,
    /// Of those, the reads that returned a value (not nil).
    pub found: usize,
    /// Write ops, whatever their status.
    pub writes: usize,
    /// How many reads no write explains.
    pub unwritten: usize,
    pub first: Option<Unwritten>,
}

/// The writes of a history, looked up by what a read returned.
#[derive(Default)]
struct Writes<'h> {
    /// (key, value) → the earliest invocation (event index) of a write of it that did not fail:
    /// a read of that value is explained if it returned after that.
    earliest: BTreeMap<(Option<&'h str>, &'h Value), usize>,
    /// Value → its writes, failed ones too, as (key, index in the history) in invocation order:
    /// where an unexplained read's value came closest to being written.
    of_value: BTreeMap<&'h Value, Vec<(Option<&'h str>, usize)>>,
}

/// The writes of `h`, after checking that every op is a read or a write of one value.
fn writes<'h>(path: &str, h: &'h History) -> Result<Writes<'h>, ParseError> {
    let mut out = Writes::default();
    for (i, op) in h.ops.iter().enumerate() {
        match op.f.as_str() {
            "write" => {
                if let Value::List(_) = op.input {
                    let message = format!("write of {}: a write puts one value", op.input);
                    return Err(bad_op(path, op, message));
                }
                let key = op.key.as_deref();
                if op.status != Status::Fail {
                    // Ops come in invocation order: the first one stays the earliest.
                    out.earliest
                        .entry((key, &op.input))
                        .or_insert(op.invoke_index);
                }
                out.of_value.entry(&op.input).or_default().push((key, i));
            }
            "read" => {}
            _ => return Err(unknown_f(path, op, Kind::Dht, ":read and :write")),
        }
    }
    Ok(out)
}

/// Why no write explains `read` (of `h`); the nearest miss is a failed write of the key, a
/// write of the key begun too late, or a write of another key.
fn why(h: &History, writes: &Writes<'_>, read: &Op) -> Why {
    let Some(of_value) = writes.of_value.get(&read.output) else {
        return Why::Never;
    };
    let key = read.key.as_deref();
    let mut same_key = of_value.iter().filter(|(k, _)| *k == key).map(|&(_, i)| i);
    if let Some(op) = same_key.clone().find(|&i| h.ops[i].status == Status::Fail) {
        return Why::Failed { op };
    }
    match (same_key.next(), of_value.first()) {
        (Some(op), _) => Why::Later { op },
        (None, Some(&(_, op))) => Why::OtherKey { op },
        (None, None) => Why::Never,
    }
}

/// Every ok read checked against the writes of `h`.
pub fn findings(path: &str, h: &History) -> Result<Findings, ParseError> {
    let writes = writes(path, h)?;
    let mut out = Findings {
        writes: writes.of_value.values().map(Vec::len).sum(),
        ..Findings::default()
    };
    for (i, op) in h.ops.iter().enumerate().filter(|(_, op)| op.f == "read") {
        let (Status::Ok, Some(ret)) = (op.status, op.return_index) else {
            continue;
        };
        if op.output_unknown {
            continue;
        }
        if let Value::List(_) = op.output {
            let message = format!(
                "read returned {}: a read returns one value or nil",
                op.output
            );
            return Err(bad_op(path, op, message));
        }
        out.reads += 1;
        if op.output == Value::Nil {
            continue;
        }
        out.found += 1;
        let key = op.key.as_deref();
        let earliest = writes.earliest.get(&(key, &op.output));
        if earliest.is_some_and(|&invoked| invoked < ret) {
            continue;
        }
        out.unwritten += 1;
        if out.first.is_none() {
            let why = why(h, &writes, op);
            out.first = Some(Unwritten { read: i, why });
        }
    }
    Ok(out)
}

/// ` of key 3`, or nothing for a history without keys (one table entry).
fn of_key(key: Option<&str>) -> String {
    key.map_or(String::new(), |k| format!(" of key {k}"))
}

/// What is wrong with read `u` of `h`, its ops named as `h` numbers them.
pub fn sentence(h: &History, u: &Unwritten) -> String {
    let read = &h.ops[u.read];
    let key = of_key(read.key.as_deref());
    let detail = match u.why {
        Why::Never => "no write of any key wrote it".to_string(),
        Why::OtherKey { op } => match &h.ops[op].key {
            Some(other) => format!("op {} wrote it under key {other}", h.number(op)),
            None => format!("op {} wrote it without a key", h.number(op)),
        },
        Why::Later { op } => format!(
            "op {} wrote it, invoked only after the read returned",
            h.number(op)
        ),
        Why::Failed { op } => format!("op {} wrote it, but failed", h.number(op)),
    };
    format!(
        "read{key} returned {}, which no write{key} wrote before the read returned (op {}): \
         {detail}",
        read.output,
        h.number(u.read)
    )
}

pub fn check(path: &str, h: &History) -> Result<Outcome, ParseError> {
    let f = findings(path, h)?;
    let mut o = outcome(Kind::Dht, h);
    o.details.insert("reads".into(), json!(f.reads));
    o.details.insert("reads_found".into(), json!(f.found));
    o.details
        .insert("reads_nil".into(), json!(f.reads - f.found));
    o.details.insert("writes".into(), json!(f.writes));
    o.details
        .insert("unwritten_reads".into(), json!(f.unwritten));
    let Some(first) = &f.first else {
        o.explanation.push(format!(
            "all {} ok read(s) returned nothing or a written value ({} found one, {} found \
             nothing)",
            f.reads,
            f.found,
            f.reads - f.found
        ));
        o.details.insert("first_bad_read".into(), json!(null));
        return Ok(o);
    };
    o.valid = false;
    o.explanation.push(sentence(h, first));
    if f.unwritten > 1 {
        o.explanation.push(format!(
            "{} more ok read(s) returned a value no write of their key had written before they \
             returned",
            f.unwritten - 1
        ));
    }
    let read = &h.ops[first.read];
    let bad = json!({
        "op": h.number(first.read),
        "event": read.invoke_index,
        "line": read.invoke_line,
        "key": read.key,
        "value": value_json(&read.output),
        "write_op": first.why.write().map(|w| h.number(w)),
        "write_event": first.why.write().map(|w| h.ops[w].invoke_index),
    });
    o.details.insert("first_bad_read".into(), bad);
    Ok(o)
}

#[cfg(test)]
#[path = "dht_tests.rs"]
mod tests;
