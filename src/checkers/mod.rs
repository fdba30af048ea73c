//! History checkers other than linearizability, in the style of Jepsen's: a grow-only
//! [`counter`], a set read in full ([`set`], Jepsen's `set-full`), [`unique`] id generation, a
//! Kafka-like [`log`] read by a consumer group, and the keys of a distributed hash table
//! ([`dht`]), whose reads must return only values written.
//!
//! Each checker takes a parsed [`History`] and returns an [`Outcome`]: a verdict, a few lines
//! explaining it in plain words, and the checker's details as JSON. A history the checker cannot
//! interpret (an unknown function, a read that is not a number, ...) is bad input: a located
//! [`ParseError`].

pub mod counter;
pub mod dht;
pub mod log;
pub mod set;
pub mod unique;

use crate::history::{History, Op, ParseError, Value};
use serde_json::{Map, Value as Json, json};
use std::fmt::{self, Write};
use std::time::Duration;

/// The checkers of this module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Set,
    UniqueIds,
    Log,
    Dht,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Counter => "counter",
            Kind::Set => "set",
            Kind::UniqueIds => "unique-ids",
            Kind::Log => "log",
            Kind::Dht => "dht",
        })
    }
}

/// A checker's verdict and its evidence.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub kind: Kind,
    pub valid: bool,
    /// Operations examined (failed ones included, they are simply ignored).
    pub ops: usize,
    pub elapsed: Duration,
    /// Plain-words lines explaining the verdict.
    pub explanation: Vec<String>,
    /// Checker-specific fields, merged into the JSON object.
    pub details: Map<String, Json>,
}

/// Runs the `kind` checker on `h` (read from `path`, named in errors).
pub fn check(kind: Kind, path: &str, h: &History) -> Result<Outcome, ParseError> {
    #[allow(clippy::disallowed_methods)] // Measures the check; never shapes a simulation.
    let start = std::time::Instant::now();
    let mut outcome = match kind {
        Kind::Counter => counter::check(path, h)?,
        Kind::Set => set::check(path, h)?,
        Kind::UniqueIds => unique::check(path, h)?,
        Kind::Log => log::check(path, h)?,
        Kind::Dht => dht::check(path, h)?,
    };
    outcome.elapsed = start.elapsed();
    Ok(outcome)
}

/// A new outcome with no evidence yet.
pub(crate) fn outcome(kind: Kind, h: &History) -> Outcome {
    Outcome {
        kind,
        valid: true,
        ops: h.ops.len(),
        elapsed: Duration::ZERO,
        explanation: Vec::new(),
        details: Map::new(),
    }
}

/// Bad input at `op`'s invocation.
pub(crate) fn bad_op(path: &str, op: &Op, message: impl Into<String>) -> ParseError {
    ParseError {
        path: path.to_string(),
        line: op.invoke_line,
        column: op.invoke_column,
        message: message.into(),
    }
}

/// The error for a function the checker does not know.
pub(crate) fn unknown_f(path: &str, op: &Op, kind: Kind, known: &str) -> ParseError {
    bad_op(
        path,
        op,
        format!(
            "the {kind} checker does not know the function :{} (it knows {known})",
            op.f
        ),
    )
}

/// A history value as JSON: numbers, strings, booleans, null and arrays as they were read.
pub(crate) fn value_json(v: &Value) -> Json {
    match v {
        Value::Nil => Json::Null,
        Value::Bool(b) => json!(b),
        Value::Int(i) => json!(i),
        Value::Str(s) => json!(s),
        Value::List(items) => Json::Array(items.iter().map(value_json).collect()),
    }
}

fn elapsed_ms(o: &Outcome) -> f64 {
    (o.elapsed.as_secs_f64() * 1e6).round() / 1e3
}

/// The human summary printed by `faultline check-history`.
pub fn text(path: &str, o: &Outcome) -> String {
    let mut out = String::new();
    let verdict = if o.valid { "valid" } else { "NOT valid" };
    let _ = writeln!(out, "history    {path} ({} model)", o.kind);
    let _ = writeln!(out, "verdict    {verdict}");
    let _ = writeln!(out, "ops        {}", o.ops);
    let _ = writeln!(out, "time       {:.3} ms", elapsed_ms(o));
    for line in &o.explanation {
        let _ = writeln!(out, "{line}");
    }
    out
}

/// The JSON object printed by `faultline check-history --format json`.
pub fn json(o: &Outcome) -> Json {
    let mut map = Map::new();
    map.insert("valid".into(), json!(o.valid));
    map.insert("model".into(), json!(o.kind.to_string()));
    map.insert("ops".into(), json!(o.ops));
    map.insert("elapsed_ms".into(), json!(elapsed_ms(o)));
    map.insert("explanation".into(), json!(o.explanation.join("; ")));
    for (k, v) in &o.details {
        map.insert(k.clone(), v.clone());
    }
    Json::Object(map)
}
