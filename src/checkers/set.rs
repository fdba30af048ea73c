//! The set checker (Jepsen's `set-full`): `add` ops with a value, `read` ops returning every
//! element present. Each element attempted by an ok or indeterminate add is classified against
//! the ok reads invoked after it was *known*: when its add completed ok or, for an
//! indeterminate add, when the first read containing it completed.
//!
//! - `never-read`: no ok read began after it was known;
//! - `ok`: every read begun after it was known contains it;
//! - `stale`: the last read begun after it was known contains it, an earlier one did not;
//! - `lost`: the last read begun after it was known does not contain it;
//! - `unconfirmed`: its add was indeterminate and no read ever contained it (no claim either way).
//!
//! Reads containing an element no add attempted are `unexpected`. Lost or unexpected elements
//! make the history not valid; stale ones are reported but valid.

use super::{Kind, Outcome, bad_op, outcome, unknown_f, value_json};
use crate::history::{History, ParseError, Status, Value};
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, BTreeSet};

/// How many elements of each class the report names.
const SHOWN: usize = 8;

/// The classes, in report order.
pub const CLASSES: [&str; 5] = ["ok", "stale", "lost", "never-read", "unconfirmed"];

/// An ok read: when it began and ended, and what it saw.
struct Read {
    invoke: usize,
    ret: usize,
    seen: BTreeSet<Value>,
}

/// An element's add: when it became known as acknowledged, if it did.
#[derive(Clone, Copy)]
struct Added {
    acked: Option<usize>,
}

fn reads(path: &str, h: &History) -> Result<Vec<Read>, ParseError> {
    let mut out = Vec::new();
    for op in h.ops.iter().filter(|op| op.f == "read") {
        let (Status::Ok, Some(ret)) = (op.status, op.return_index) else {
            continue;
        };
        if op.output_unknown {
            continue;
        }
        let Value::List(items) = &op.output else {
            let message = format!(
                "read returned {}: a read needs a list of elements",
                op.output
            );
            return Err(bad_op(path, op, message));
        };
        let seen = items.iter().cloned().collect();
        out.push(Read {
            invoke: op.invoke_index,
            ret,
            seen,
        });
    }
    out.sort_by_key(|r| r.invoke);
    Ok(out)
}

/// Element → its earliest acknowledgement among its (non-failed) adds.
fn adds(path: &str, h: &History) -> Result<BTreeMap<Value, Added>, ParseError> {
    let mut out: BTreeMap<Value, Added> = BTreeMap::new();
    for op in &h.ops {
        match op.f.as_str() {
            "add" if op.status == Status::Fail => {}
            "add" => {
                let acked = match (op.status, op.return_index) {
                    (Status::Ok, Some(r)) => Some(r),
                    _ => None,
                };
                let entry = out.entry(op.input.clone()).or_insert(Added { acked });
                entry.acked = match (entry.acked, acked) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            "read" => {}
            _ => return Err(unknown_f(path, op, Kind::Set, ":add and :read")),
        }
    }
    Ok(out)
}

/// The class of `element`, given when it was acknowledged and the reads by invocation.
fn classify(element: &Value, added: Added, reads: &[Read]) -> &'static str {
    let first_seen = reads
        .iter()
        .filter(|r| r.seen.contains(element))
        .map(|r| r.ret)
        .min();
    let Some(known) = added.acked.or(first_seen) else {
        return "unconfirmed";
    };
    let after: Vec<&Read> = reads.iter().filter(|r| r.invoke > known).collect();
    let Some(last) = after.last() else {
        return "never-read";
    };
    if !last.seen.contains(element) {
        "lost"
    } else if after.iter().all(|r| r.seen.contains(element)) {
        "ok"
    } else {
        "stale"
    }
}

/// Class → its elements in value order, and the unexpected elements (read, never added).
pub type Classes = (BTreeMap<&'static str, Vec<Value>>, Vec<Value>);

/// Class → the elements in it, in value order.
pub fn classes(path: &str, h: &History) -> Result<Classes, ParseError> {
    let reads = reads(path, h)?;
    let adds = adds(path, h)?;
    let mut out: BTreeMap<&'static str, Vec<Value>> =
        CLASSES.iter().map(|c| (*c, Vec::new())).collect();
    for (element, added) in &adds {
        let class = classify(element, *added, &reads);
        out.entry(class).or_default().push(element.clone());
    }
    let mut unexpected = BTreeSet::new();
    for r in &reads {
        unexpected.extend(r.seen.iter().filter(|v| !adds.contains_key(*v)).cloned());
    }
    Ok((out, unexpected.into_iter().collect()))
}

fn shown(values: &[Value]) -> Json {
    Json::Array(values.iter().take(SHOWN).map(value_json).collect())
}

fn listed(values: &[Value]) -> String {
    let mut names: Vec<String> = values.iter().take(SHOWN).map(|v| v.to_string()).collect();
    if values.len() > SHOWN {
        names.push("...".into());
    }
    names.join(" ")
}

pub fn check(path: &str, h: &History) -> Result<Outcome, ParseError> {
    let (classes, unexpected) = classes(path, h)?;
    let mut o = outcome(Kind::Set, h);
    let count = |c: &str| classes.get(c).map_or(0, Vec::len);
    o.valid = count("lost") == 0 && unexpected.is_empty();
    let counts: Vec<String> = CLASSES
        .iter()
        .map(|c| format!("{} {c}", count(c)))
        .collect();
    o.explanation.push(format!(
        "elements: {}, {} unexpected",
        counts.join(", "),
        unexpected.len()
    ));
    for (class, values) in classes.iter().filter(|(c, _)| **c != "ok") {
        if !values.is_empty() {
            o.explanation.push(format!("{class}: {}", listed(values)));
        }
    }
    if !unexpected.is_empty() {
        o.explanation.push(format!(
            "unexpected (read but never added): {}",
            listed(&unexpected)
        ));
    }
    o.explanation.push(if o.valid {
        "no acknowledged element is missing from the last read after it".to_string()
    } else {
        "NOT valid: an acknowledged element is missing from the last read after it, or a read \
         returned an element never added"
            .to_string()
    });
    for (class, values) in &classes {
        o.details.insert(
            format!("{}_count", class.replace('-', "_")),
            json!(values.len()),
        );
        o.details.insert(class.replace('-', "_"), shown(values));
    }
    o.details
        .insert("unexpected_count".into(), json!(unexpected.len()));
    o.details.insert("unexpected".into(), shown(&unexpected));
    Ok(o)
}
