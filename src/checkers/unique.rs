//! The unique-ids checker (Jepsen's `unique-ids`): `generate` ops returning a value; every value
//! returned by an ok `generate` must be distinct.

use super::{Kind, Outcome, bad_op, outcome, unknown_f, value_json};
use crate::history::{History, ParseError, Status, Value};
use serde_json::json;
use std::collections::BTreeMap;

/// Two ok generates that returned the same value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Duplicate {
    pub value: Value,
    /// 0-based event index of the earlier completion.
    pub first_event: usize,
    /// 0-based event index of the later completion, returning the same value again.
    pub second_event: usize,
}

/// The first duplicate, in completion order, and how many ok generates there were.
pub fn first_duplicate(path: &str, h: &History) -> Result<(Option<Duplicate>, usize), ParseError> {
    let mut done = Vec::new();
    for op in &h.ops {
        if op.f != "generate" {
            return Err(unknown_f(path, op, Kind::UniqueIds, ":generate"));
        }
        if let (Status::Ok, Some(r)) = (op.status, op.return_index) {
            if op.output_unknown || op.output == Value::Nil {
                return Err(bad_op(path, op, "an ok generate must return a value"));
            }
            done.push((r, &op.output));
        }
    }
    done.sort_by_key(|(r, _)| *r);
    let mut seen: BTreeMap<&Value, usize> = BTreeMap::new();
    for &(r, value) in &done {
        if let Some(&first) = seen.get(value) {
            let d = Duplicate {
                value: value.clone(),
                first_event: first,
                second_event: r,
            };
            return Ok((Some(d), done.len()));
        }
        seen.insert(value, r);
    }
    Ok((None, done.len()))
}

/// What is wrong with duplicate `d`, whose two completions `first` and `second` name.
pub fn sentence(d: &Duplicate, first: &str, second: &str) -> String {
    format!(
        "NOT unique: {} was returned {first} and again {second}",
        d.value
    )
}

pub fn check(path: &str, h: &History) -> Result<Outcome, ParseError> {
    let (duplicate, generated) = first_duplicate(path, h)?;
    let mut o = outcome(Kind::UniqueIds, h);
    o.details.insert("generated".into(), json!(generated));
    match duplicate {
        None => {
            o.explanation
                .push(format!("all {generated} ok generated id(s) are distinct"));
            o.details.insert("duplicate".into(), json!(null));
        }
        Some(d) => {
            o.valid = false;
            let (first, second) = (
                format!("at event {}", d.first_event),
                format!("at event {}", d.second_event),
            );
            o.explanation.push(sentence(&d, &first, &second));
            let dup = json!({
                "value": value_json(&d.value),
                "first_event": d.first_event,
                "second_event": d.second_event,
            });
            o.details.insert("duplicate".into(), dup);
        }
    }
    Ok(o)
}
