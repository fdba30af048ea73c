//! The log checker (in the style of Jepsen's queue and Kafka checkers): `send`, `poll`,
//! `commit` and `committed` ops on one append-only log per key, read by one consumer group.
//!
//! A `send` gives a message (unique per key) and an ok one returns its offset; an ok `poll`
//! from an offset returns `[offset, msg]` pairs; a `commit` gives an offset, and an ok
//! `committed` returns the group's committed offset or nil. What the ok ops say is checked
//! for:
//!
//! - `lost`: an acknowledged send at offset `o`, and a poll invoked after it was acknowledged
//!   that returned offsets on both sides of `o` (or `o` itself) but not that message there;
//! - `reordered`: send A was acknowledged before send B was invoked, yet B got the smaller
//!   offset;
//! - `inconsistent-offset`: two messages at one offset;
//! - `duplicate`: one message at two offsets;
//! - `skipped`: the group's committed offset, as a commit or a `committed` saw it, passed the
//!   offset of an acknowledged message that no ok poll ever returned;
//! - `committed-backwards`: a `committed` returned less than an offset committed, or seen
//!   committed, by an op that had completed before it was invoked.
//!
//! Any finding makes the history not valid. Failed ops are ignored; indeterminate ones
//! constrain nothing (their messages may show up in polls).

mod finding;

pub use finding::Finding;

use super::{Kind, Outcome, bad_op, outcome, unknown_f, value_json};
use crate::history::{History, Op, ParseError, Status, Value};
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, BTreeSet};

/// How many findings of each kind the report spells out.
const SHOWN: usize = 8;

/// The kinds of finding, in report order.
pub const KINDS: [&str; 6] = [
    "lost",
    "reordered",
    "inconsistent-offset",
    "duplicate",
    "skipped",
    "committed-backwards",
];

/// An ok or indeterminate send.
struct Sent {
    op: usize,
    msg: Value,
    invoke: usize,
    /// The completion and the offset, when the send was acknowledged.
    acked: Option<(usize, i64)>,
}

/// An ok poll.
struct Polled {
    op: usize,
    invoke: usize,
    batch: Vec<(i64, Value)>,
}

/// An ok commit or committed: the committed offset it saw.
struct Seen {
    op: usize,
    invoke: usize,
    ret: usize,
    offset: Option<i64>,
    /// A `committed` (a read), rather than a commit.
    read: bool,
}

/// What the ok ops say about one key's log.
#[derive(Default)]
struct KeyLog {
    sent: Vec<Sent>,
    polled: Vec<Polled>,
    seen: Vec<Seen>,
}

/// What the history held, for the summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub keys: usize,
    pub sends_acked: usize,
    pub polls_ok: usize,
    pub messages_polled: usize,
    pub commits_ok: usize,
}

fn int(path: &str, op: &Op, v: &Value, what: &str) -> Result<i64, ParseError> {
    match v {
        Value::Int(i) => Ok(*i),
        other => Err(bad_op(
            path,
            op,
            format!("{what} is {other}, not an integer"),
        )),
    }
}

/// A poll's batch: a list of `[offset, msg]` pairs.
fn batch(path: &str, op: &Op) -> Result<Vec<(i64, Value)>, ParseError> {
    let bad = || {
        let message = format!(
            "poll returned {}: a poll returns a list of [offset, msg] pairs",
            op.output
        );
        bad_op(path, op, message)
    };
    let Value::List(pairs) = &op.output else {
        return Err(bad());
    };
    let pair = |p: &Value| match p {
        Value::List(parts) => match parts.as_slice() {
            [Value::Int(o), msg] => Some((*o, msg.clone())),
            _ => None,
        },
        _ => None,
    };
    pairs.iter().map(|p| pair(p).ok_or_else(bad)).collect()
}

/// Each key's log, as its ok (and, for sends, indeterminate) ops describe it.
fn read_logs(path: &str, h: &History) -> Result<BTreeMap<Option<String>, KeyLog>, ParseError> {
    let mut logs: BTreeMap<Option<String>, KeyLog> = BTreeMap::new();
    for (i, op) in h.ops.iter().enumerate() {
        let known = ["send", "poll", "commit", "committed"];
        if !known.contains(&op.f.as_str()) {
            let names = ":send, :poll, :commit and :committed";
            return Err(unknown_f(path, op, Kind::Log, names));
        }
        let ok = match (op.status, op.return_index) {
            (Status::Fail, _) => continue,
            (Status::Ok, Some(ret)) if !op.output_unknown => Some(ret),
            _ => None,
        };
        let log = logs.entry(op.key.clone()).or_default();
        match (op.f.as_str(), ok) {
            ("send", _) if op.input == Value::Nil => {
                return Err(bad_op(path, op, "a send needs a message"));
            }
            ("send", ok) => {
                let acked = match ok {
                    Some(ret) => Some((ret, int(path, op, &op.output, "the offset sent to")?)),
                    None => None,
                };
                log.sent.push(Sent {
                    op: i,
                    msg: op.input.clone(),
                    invoke: op.invoke_index,
                    acked,
                });
            }
            ("poll", Some(_)) => {
                int(path, op, &op.input, "the offset polled from")?;
                log.polled.push(Polled {
                    op: i,
                    invoke: op.invoke_index,
                    batch: batch(path, op)?,
                });
            }
            ("commit", Some(ret)) => log.seen.push(Seen {
                op: i,
                invoke: op.invoke_index,
                ret,
                offset: Some(int(path, op, &op.input, "the offset committed")?),
                read: false,
            }),
            ("committed", Some(ret)) => {
                let offset = match op.output {
                    Value::Nil => None,
                    ref v => Some(int(path, op, v, "the committed offset")?),
                };
                log.seen.push(Seen {
                    op: i,
                    invoke: op.invoke_index,
                    ret,
                    offset,
                    read: true,
                });
            }
            _ => {}
        }
    }
    Ok(logs)
}

/// Every finding, key by key, and what the history held.
pub fn findings(path: &str, h: &History) -> Result<(Vec<Finding>, Totals), ParseError> {
    let logs = read_logs(path, h)?;
    let mut out = Vec::new();
    let mut totals = Totals {
        keys: logs.len(),
        ..Totals::default()
    };
    for (key, log) in &logs {
        totals.sends_acked += log.sent.iter().filter(|s| s.acked.is_some()).count();
        totals.polls_ok += log.polled.len();
        totals.messages_polled += log.polled.iter().map(|p| p.batch.len()).sum::<usize>();
        totals.commits_ok += log.seen.iter().filter(|s| !s.read).count();
        lost(key, log, &mut out);
        reordered(key, log, &mut out);
        placements(key, log, &mut out);
        skipped(key, log, &mut out);
        backwards(key, log, &mut out);
    }
    out.sort_by_key(|f| KINDS.iter().position(|k| *k == f.kind()));
    Ok((out, totals))
}

/// Acknowledged sends: the op, its message, its completion and its offset.
fn acked(log: &KeyLog) -> impl Iterator<Item = (&Sent, usize, i64)> {
    log.sent
        .iter()
        .filter_map(|s| s.acked.map(|(ret, offset)| (s, ret, offset)))
}

/// Offsets a coverage index may list per op before it is not worth building: a batch
/// with a wide hole covers offsets it does not hold, and the index must stay about as
/// large as the history.
const COVER_PER_OP_MAX: i64 = 64;

/// Each ok poll's lowest and highest offset (`None` for an empty batch).
fn spans(log: &KeyLog) -> Vec<Option<(i64, i64)>> {
    log.polled
        .iter()
        .map(|p| {
            let first = p.batch.iter().map(|(o, _)| *o).min()?;
            let last = p.batch.iter().map(|(o, _)| *o).max()?;
            Some((first, last))
        })
        .collect()
}

/// Offset → the polls whose span covers it, in poll order; `None` when the spans are too
/// wide for the index to pay (every poll is then tried for every send).
fn cover_index(log: &KeyLog, spans: &[Option<(i64, i64)>]) -> Option<BTreeMap<i64, Vec<usize>>> {
    let width: i64 = spans
        .iter()
        .flatten()
        .map(|&(a, b)| b.saturating_sub(a).saturating_add(1))
        .fold(0, i64::saturating_add);
    let ops = (log.sent.len() + log.polled.len()) as i64;
    if width > COVER_PER_OP_MAX.saturating_mul(ops.max(1)) {
        return None;
    }
    let mut index: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for (i, span) in spans.iter().enumerate() {
        if let Some((first, last)) = *span {
            for offset in first..=last {
                index.entry(offset).or_default().push(i);
            }
        }
    }
    Some(index)
}

/// An acknowledged message is lost when a poll begun after its acknowledgement spans its
/// offset but does not return it there. Each send looks only at the polls spanning its
/// offset (found in an index), so the check costs the sends times the few polls that span
/// each offset, not the sends times every poll.
fn lost(key: &Option<String>, log: &KeyLog, out: &mut Vec<Finding>) {
    let spans = spans(log);
    let index = cover_index(log, &spans);
    let every: Vec<usize> = match index {
        Some(_) => Vec::new(),
        None => (0..log.polled.len()).collect(),
    };
    for (s, ret, offset) in acked(log) {
        let candidates = match &index {
            Some(index) => index.get(&offset).map_or(&[][..], Vec::as_slice),
            None => &every[..],
        };
        let covering = candidates.iter().copied().find(|&i| {
            let p = &log.polled[i];
            let covers = matches!(spans[i], Some((a, b)) if a <= offset && offset <= b);
            let here = p.batch.iter().find(|(o, _)| *o == offset).map(|(_, m)| m);
            p.invoke > ret && covers && here != Some(&s.msg)
        });
        if let Some(p) = covering.map(|i| &log.polled[i]) {
            let found = p.batch.iter().find(|(o, _)| *o == offset);
            out.push(Finding::Lost {
                key: key.clone(),
                send: s.op,
                offset,
                msg: s.msg.clone(),
                poll: p.op,
                found: found.map(|(_, m)| m.clone()),
            });
        }
    }
}

fn reordered(key: &Option<String>, log: &KeyLog, out: &mut Vec<Finding>) {
    let mut done: Vec<(usize, i64, usize)> = acked(log).map(|(s, r, o)| (r, o, s.op)).collect();
    done.sort_unstable();
    let mut later: Vec<(usize, i64, usize)> =
        acked(log).map(|(s, _, o)| (s.invoke, o, s.op)).collect();
    later.sort_unstable();
    // The highest offset among the sends acknowledged before each invocation, by a sweep.
    let mut highest: Option<(i64, usize)> = None;
    let mut next = 0;
    for (invoke, offset, op) in later {
        while next < done.len() && done[next].0 < invoke {
            highest = highest.max(Some((done[next].1, done[next].2)));
            next += 1;
        }
        if let Some((top, earlier)) = highest
            && offset < top
        {
            out.push(Finding::Reordered {
                key: key.clone(),
                earlier: (earlier, top),
                later: (op, offset),
            });
        }
    }
}

/// Two messages at one offset, and one message at two offsets, over every acknowledged send
/// and every ok poll.
fn placements(key: &Option<String>, log: &KeyLog, out: &mut Vec<Finding>) {
    let sends = acked(log).map(|(s, _, o)| (s.op, o, &s.msg));
    let polls = log
        .polled
        .iter()
        .flat_map(|p| p.batch.iter().map(move |(o, m)| (p.op, *o, m)));
    let mut at: BTreeMap<i64, Vec<(usize, &Value)>> = BTreeMap::new();
    let mut of: BTreeMap<&Value, Vec<(usize, i64)>> = BTreeMap::new();
    for (op, offset, msg) in sends.chain(polls) {
        at.entry(offset).or_default().push((op, msg));
        of.entry(msg).or_default().push((op, offset));
    }
    for (offset, seen) in at {
        let (a, first) = seen[0];
        if let Some(&(b, second)) = seen.iter().find(|(_, m)| *m != first) {
            out.push(Finding::InconsistentOffset {
                key: key.clone(),
                offset,
                first: (a, first.clone()),
                second: (b, second.clone()),
            });
        }
    }
    for (msg, seen) in of {
        let first = seen[0];
        if let Some(&second) = seen.iter().find(|(_, o)| *o != first.1) {
            out.push(Finding::Duplicate {
                key: key.clone(),
                msg: msg.clone(),
                first,
                second,
            });
        }
    }
}

fn skipped(key: &Option<String>, log: &KeyLog, out: &mut Vec<Finding>) {
    let returned: BTreeSet<&Value> = log
        .polled
        .iter()
        .flat_map(|p| p.batch.iter().map(|(_, m)| m))
        .collect();
    let mut unread: Vec<(i64, &Sent)> = acked(log)
        .filter(|(s, _, _)| !returned.contains(&s.msg))
        .map(|(s, _, o)| (o, s))
        .collect();
    unread.sort_by_key(|(o, s)| (*o, s.op));
    for (offset, s) in unread {
        // The first op to see the committed offset past it.
        let past = log
            .seen
            .iter()
            .filter_map(|c| Some((c.ret, c.op, c.offset?)))
            .filter(|&(_, _, committed)| committed > offset)
            .min();
        if let Some((_, op, committed)) = past {
            out.push(Finding::Skipped {
                key: key.clone(),
                offset,
                msg: s.msg.clone(),
                send: s.op,
                commit: (op, committed),
            });
        }
    }
}

fn backwards(key: &Option<String>, log: &KeyLog, out: &mut Vec<Finding>) {
    let mut done: Vec<(usize, i64, usize)> = log
        .seen
        .iter()
        .filter_map(|c| Some((c.ret, c.offset?, c.op)))
        .collect();
    done.sort_unstable();
    let mut reads: Vec<&Seen> = log.seen.iter().filter(|c| c.read).collect();
    reads.sort_by_key(|c| c.invoke);
    let mut highest: Option<(i64, usize)> = None;
    let mut next = 0;
    for read in reads {
        while next < done.len() && done[next].0 < read.invoke {
            highest = highest.max(Some((done[next].1, done[next].2)));
            next += 1;
        }
        if let Some((top, earlier)) = highest
            && read.offset.is_none_or(|o| o < top)
        {
            out.push(Finding::CommittedBackwards {
                key: key.clone(),
                earlier: (earlier, top),
                later: (read.op, read.offset),
            });
        }
    }
}

/// The plain-words lines of a verdict: a summary, the counts, then up to `SHOWN` (8) findings
/// of each kind, their ops named by `name`.
pub fn explain(
    findings: &[Finding],
    totals: &Totals,
    name: &dyn Fn(usize) -> String,
) -> Vec<String> {
    let mut lines = vec![format!(
        "{} key(s): {} send(s) acknowledged, {} ok poll(s) returned {} message(s), {} ok \
         commit(s)",
        totals.keys, totals.sends_acked, totals.polls_ok, totals.messages_polled, totals.commits_ok
    )];
    if findings.is_empty() {
        lines.push(
            "no acknowledged message is lost, reordered, duplicated or shares its offset, \
             and the committed offsets skip nothing and never go back"
                .to_string(),
        );
        return lines;
    }
    let counts: Vec<String> = KINDS
        .iter()
        .map(|k| format!("{} {k}", findings.iter().filter(|f| f.kind() == *k).count()))
        .collect();
    lines.push(format!("NOT valid: {}", counts.join(", ")));
    for kind in KINDS {
        let of_kind = findings.iter().filter(|f| f.kind() == kind);
        lines.extend(of_kind.take(SHOWN).map(|f| f.sentence(name)));
    }
    lines
}

pub fn check(path: &str, h: &History) -> Result<Outcome, ParseError> {
    let (findings, totals) = findings(path, h)?;
    let mut o = outcome(Kind::Log, h);
    o.valid = findings.is_empty();
    let name = |i: usize| format!("op {} (process {})", h.number(i), h.ops[i].process);
    o.explanation = explain(&findings, &totals, &name);
    for kind in KINDS {
        let count = findings.iter().filter(|f| f.kind() == kind).count();
        o.details
            .insert(format!("{}_count", kind.replace('-', "_")), json!(count));
    }
    let shown: Vec<Json> = findings
        .iter()
        .take(SHOWN)
        .map(|f| {
            let ops: Vec<usize> = f.ops().into_iter().map(|i| h.number(i)).collect();
            let key = f.key().as_ref().map(|k| value_json(&Value::Str(k.clone())));
            json!({"kind": f.kind(), "key": key, "ops": ops, "text": f.sentence(&name)})
        })
        .collect();
    o.details.insert("findings".into(), Json::Array(shown));
    Ok(o)
}

#[cfg(test)]
#[path = "log_tests.rs"]
mod tests;
