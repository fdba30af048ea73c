//! The counter checker (Jepsen's `counter`): `add` ops with a non-negative integer, `read` ops
//! returning an integer. Every ok read must lie between a lower bound — the sum of the adds that
//! completed ok before the read was invoked — and an upper bound — the sum of every add, ok or
//! indeterminate, invoked before the read completed. Failed adds count in neither bound.

use super::{Kind, Outcome, bad_op, outcome, unknown_f};
use crate::history::{History, Op, ParseError, Status, Value};
use serde_json::json;

/// A read out of bounds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// 0-based event index of the read's invocation.
    pub event: usize,
    pub line: usize,
    pub lower: i128,
    pub upper: i128,
    pub value: i64,
}

/// Per event index: how much the bounds grow at that event.
struct Deltas {
    /// Ok adds, at their completion.
    lower: Vec<i128>,
    /// Ok and indeterminate adds, at their invocation.
    upper: Vec<i128>,
}

fn add_amount(path: &str, op: &Op) -> Result<i64, ParseError> {
    match op.input {
        Value::Int(n) if n >= 0 => Ok(n),
        Value::Int(n) => Err(bad_op(
            path,
            op,
            format!("add of {n}: the counter checker assumes non-negative adds"),
        )),
        ref other => Err(bad_op(
            path,
            op,
            format!("add of {other}: an add needs an integer value"),
        )),
    }
}

fn deltas(path: &str, h: &History) -> Result<Deltas, ParseError> {
    let n = h.events + 1;
    let mut d = Deltas {
        lower: vec![0; n],
        upper: vec![0; n],
    };
    for op in &h.ops {
        match op.f.as_str() {
            "add" => {
                let amount = i128::from(add_amount(path, op)?);
                if op.status == Status::Fail {
                    continue;
                }
                d.upper[op.invoke_index] += amount;
                if let (Status::Ok, Some(r)) = (op.status, op.return_index) {
                    d.lower[r] += amount;
                }
            }
            "read" => {}
            _ => return Err(unknown_f(path, op, Kind::Counter, ":add and :read")),
        }
    }
    Ok(d)
}

/// Prefix sums: `out[e]` is the sum of `delta[..e]`, the events strictly before `e`.
fn before(delta: &[i128]) -> Vec<i128> {
    let mut out = Vec::with_capacity(delta.len() + 1);
    let mut sum = 0i128;
    out.push(0);
    for d in delta {
        sum += d;
        out.push(sum);
    }
    out
}

/// The first ok read out of bounds, by invocation order, or `None`; also the number of reads.
pub fn first_violation(path: &str, h: &History) -> Result<(Option<Violation>, usize), ParseError> {
    let d = deltas(path, h)?;
    let lower = before(&d.lower);
    let upper = before(&d.upper);
    let mut reads = 0;
    let mut first = None;
    for op in h.ops.iter().filter(|op| op.f == "read") {
        let (Status::Ok, Some(r)) = (op.status, op.return_index) else {
            continue;
        };
        if op.output_unknown {
            continue;
        }
        // A counter nobody added to yet may read as nil in stores that start empty.
        let value = match op.output {
            Value::Int(value) => value,
            Value::Nil => 0,
            _ => {
                let message = format!("read returned {}: a read needs an integer", op.output);
                return Err(bad_op(path, op, message));
            }
        };
        reads += 1;
        let (lo, hi) = (lower[op.invoke_index], upper[r]);
        let v = i128::from(value);
        if first.is_none() && (v < lo || v > hi) {
            first = Some(Violation {
                event: op.invoke_index,
                line: op.invoke_line,
                lower: lo,
                upper: hi,
                value,
            });
        }
    }
    Ok((first, reads))
}

/// A bound as JSON: sums beyond 64 bits (only with huge adds) are clamped.
fn saturate(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// What is wrong with the read out of bounds `v`, which `read` names (`at event 3 (line 4)`).
pub fn sentence(v: &Violation, read: &str) -> String {
    let side = if i128::from(v.value) < v.lower {
        "below the sum of the adds that had completed before it began"
    } else {
        "above the sum of every add invoked before it returned"
    };
    format!(
        "the read {read} returned {}, {side}: it must lie in [{}, {}]",
        v.value, v.lower, v.upper
    )
}

pub fn check(path: &str, h: &History) -> Result<Outcome, ParseError> {
    let (violation, reads) = first_violation(path, h)?;
    let mut o = outcome(Kind::Counter, h);
    o.details.insert("reads".into(), json!(reads));
    match violation {
        None => {
            o.explanation.push(format!(
                "all {reads} ok read(s) lie between the adds known complete when they began \
                 and the adds attempted before they ended"
            ));
            o.details.insert("first_bad_read".into(), json!(null));
        }
        Some(v) => {
            o.valid = false;
            let read = format!("at event {} (line {})", v.event, v.line);
            o.explanation.push(sentence(&v, &read));
            let bad = json!({
                "event": v.event, "line": v.line, "value": v.value,
                "lower": saturate(v.lower), "upper": saturate(v.upper),
            });
            o.details.insert("first_bad_read".into(), bad);
        }
    }
    Ok(o)
}
