//! Operation histories: what clients invoked, what came back, and in which order.
//!
//! A history is a sequence of events (invocations and completions) in real-time order; an event's
//! position in the file is its only timestamp. Three formats are read, all into [`History`]:
//! faultline's own JSON Lines ([`jsonl`]), Jepsen EDN ([`edn`]) and Porcupine's etcd log
//! ([`etcd`]). Every parser returns a located [`ParseError`] instead of panicking.

pub mod edn;
pub mod etcd;
pub mod jsonl;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// More operations than this in one history is refused as bad input: the checker's bitsets and
/// event lists use 32-bit indices, and a history this large would not be checkable anyway.
pub const MAX_OPS_PER_HISTORY: usize = 1 << 22;

/// A value read, written or compared.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Value {
    Nil,
    Bool(bool),
    Int(i64),
    Str(String),
    List(Vec<Value>),
}

impl Value {
    /// The text an `append` extends: nil is empty, a string is itself, anything else is
    /// written as it displays (an integer as its decimal digits).
    pub fn append_text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Value::Nil => "".into(),
            Value::Str(s) => s.as_str().into(),
            other => other.to_string().into(),
        }
    }

    /// Appends a compact encoding of a nil, integer or string value to `out`, for protocols
    /// that keep values in storage: a tag, then 1 and 8 bytes for an integer, 2 and the bytes of
    /// a string; 0 for nil (and for the other kinds, which protocols never store).
    pub fn encode_scalar(&self, out: &mut Vec<u8>) {
        match self {
            Value::Int(i) => {
                out.push(1);
                out.extend(i.to_le_bytes());
            }
            Value::Str(s) => {
                out.push(2);
                out.extend(s.as_bytes());
            }
            _ => out.push(0),
        }
    }

    /// The inverse of [`Value::encode_scalar`]; `None` for bytes it could not have written.
    pub fn decode_scalar(bytes: &[u8]) -> Option<Value> {
        match (bytes.first()?, &bytes[1..]) {
            (1, rest) => Some(Value::Int(i64::from_le_bytes(rest.try_into().ok()?))),
            (2, rest) => String::from_utf8(rest.to_vec()).ok().map(Value::Str),
            _ => Some(Value::Nil),
        }
    }
}

impl Status {
    /// `ok`, `fail` or `info`, as histories write it.
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Fail => "fail",
            Status::Info => "info",
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => write!(f, "nil"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::List(items) => {
                write!(f, "[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, " ")?;
                    }
                    write!(f, "{v}")?;
                }
                write!(f, "]")
            }
        }
    }
}

/// How an operation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Completed; its output is known (unless `output_unknown`).
    Ok,
    /// Definitely did not take effect: removed before checking.
    Fail,
    /// Indeterminate: may take effect at any point after its invocation, or never.
    Info,
}

/// One operation: an invocation and, unless it is indeterminate, its completion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Op {
    pub process: u64,
    /// The function: read, write, cas, get, put, append, ...
    pub f: String,
    pub key: Option<String>,
    /// The value given at invocation (the written value, `[from to]` for cas, nil for reads).
    pub input: Value,
    /// The value at completion: what a read returned; `Bool` for a cas's outcome.
    pub output: Value,
    /// The operation returned, but its output constrains nothing (a timed-out read).
    pub output_unknown: bool,
    pub status: Status,
    /// 0-based position of the invocation among the file's events.
    pub invoke_index: usize,
    /// 1-based line of the invocation, for messages.
    pub invoke_line: usize,
    /// 1-based column where the invocation starts.
    pub invoke_column: usize,
    /// Position of the completion; `None` for an indeterminate op (pending forever).
    pub return_index: Option<usize>,
    /// The `:index` a Jepsen history gave the op's completion (its invocation's, while it
    /// has none): how Knossos names the op. `None` when the history numbers nothing.
    pub jepsen_index: Option<u64>,
}

/// How a report numbers a history's ops ([`History::number`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Numbering {
    /// By the position of the invocation among the file's events, so that op 12 is found at
    /// the thirteenth event of the file (and Knossos's `:index` matches it for Jepsen's).
    #[default]
    Events,
    /// By the op's position in the history, in invocation order: how a run numbers its
    /// clients' ops in its report, its explanation and its viewer.
    Ops,
}

/// A parsed history: its operations in invocation order.
#[derive(Clone, Debug, Default)]
pub struct History {
    pub ops: Vec<Op>,
    /// How reports number the ops.
    pub numbering: Numbering,
    /// How many events (lines or forms) the file held, including ignored ones.
    pub events: usize,
    /// Whether an ok read of nil stands for a value nobody recorded (Knossos's reading, set by
    /// [`History::nil_reads_unknown`]); the multi-register model reads its transactions'
    /// reads of nil the same way.
    pub unknown_nil: bool,
}

impl History {
    /// The number a report gives `ops[op]`.
    pub fn number(&self, op: usize) -> usize {
        match self.numbering {
            Numbering::Events => self.ops[op].invoke_index,
            Numbering::Ops => op,
        }
    }

    /// Reads the history as Knossos reads Jepsen's: a `read` that completed ok with `nil`
    /// returned a value nobody recorded, so it matches any state (Knossos's register models
    /// say "we don't know what the read was"). Marks each such read's output unknown and
    /// returns how many there were, with the reads of nil inside ok `txn`s (which the
    /// multi-register model then reads the same way).
    pub fn nil_reads_unknown(&mut self) -> usize {
        self.unknown_nil = true;
        let mut count = 0;
        for op in &mut self.ops {
            if op.status != Status::Ok {
                continue;
            }
            let nil_read = op.f == "read" && op.output == Value::Nil;
            if nil_read && !op.output_unknown {
                op.output_unknown = true;
                count += 1;
            }
            if op.f == "txn"
                && let Value::List(micros) = &op.output
            {
                count += micros.iter().filter(|m| is_nil_read(m)).count();
            }
        }
        count
    }
}

/// Whether `micro` is a transaction's read `[r k nil]` (or `[read k nil]`).
fn is_nil_read(micro: &Value) -> bool {
    let Value::List(parts) = micro else {
        return false;
    };
    let read = matches!(parts.first(), Some(Value::Str(f)) if f == "r" || f == "read");
    read && parts.len() == 3 && parts[2] == Value::Nil
}

/// Bad input, located in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path, self.line, self.column, self.message
        )
    }
}

impl std::error::Error for ParseError {}

/// A position in the input, 1-based.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Loc {
    pub line: usize,
    pub column: usize,
}

/// The input formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Jsonl,
    Edn,
    Etcd,
}

/// Guesses the format from the first non-blank character and line.
pub fn detect(text: &str) -> Format {
    let first_line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let trimmed = first_line.trim_start();
    if trimmed.starts_with("INFO") || first_line.contains("jepsen.util") {
        Format::Etcd
    } else if trimmed.starts_with('{') && trimmed[1..].trim_start().starts_with('"') {
        Format::Jsonl
    } else {
        Format::Edn
    }
}

/// Reads `path` in `format` (or the detected one).
pub fn load(path: &Path, format: Option<Format>) -> Result<History, ParseError> {
    load_as(path, format).map(|(h, _)| h)
}

/// [`load`], and the format the file was read in.
pub fn load_as(path: &Path, format: Option<Format>) -> Result<(History, Format), ParseError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ParseError {
        path: name.clone(),
        line: 1,
        column: 1,
        message: format!("cannot read the history: {e}"),
    })?;
    let format = format.unwrap_or_else(|| detect(&text));
    parse(&name, &text, Some(format)).map(|h| (h, format))
}

/// Parses `text` (named `path` in errors).
pub fn parse(path: &str, text: &str, format: Option<Format>) -> Result<History, ParseError> {
    match format.unwrap_or_else(|| detect(text)) {
        Format::Jsonl => jsonl::parse(path, text),
        Format::Edn => edn::parse_history(path, text),
        Format::Etcd => etcd::parse(path, text),
    }
}

/// Pairs invocations with completions, process by process, as a parser meets events.
pub(crate) struct Builder<'a> {
    path: &'a str,
    ops: Vec<Op>,
    /// Process → index in `ops` of its open invocation.
    open: BTreeMap<u64, usize>,
    events: usize,
}

/// What a completion says, as the parser read it.
pub(crate) struct Completion {
    pub status: Status,
    pub output: Value,
    pub output_unknown: bool,
}

impl Completion {
    /// A completion whose output is the value written in the file, except that an ok `cas`
    /// means "it applied" whatever value the file repeats.
    pub(crate) fn read(f: &str, status: Status, value: Value) -> Completion {
        let output = if f == "cas" && status == Status::Ok {
            Value::Bool(true)
        } else {
            value
        };
        Completion {
            status,
            output,
            output_unknown: false,
        }
    }
}

impl<'a> Builder<'a> {
    pub fn new(path: &'a str) -> Builder<'a> {
        Builder {
            path,
            ops: Vec::new(),
            open: BTreeMap::new(),
            events: 0,
        }
    }

    pub fn error(&self, loc: Loc, message: impl Into<String>) -> ParseError {
        ParseError {
            path: self.path.to_string(),
            line: loc.line,
            column: loc.column,
            message: message.into(),
        }
    }

    /// Counts an event that is not part of the history (a nemesis op).
    pub fn skip(&mut self) {
        self.events += 1;
    }

    pub fn invoke(
        &mut self,
        loc: Loc,
        process: u64,
        f: &str,
        key: Option<String>,
        input: Value,
    ) -> Result<(), ParseError> {
        if self.ops.len() >= MAX_OPS_PER_HISTORY {
            return Err(self.error(loc, format!("more than {MAX_OPS_PER_HISTORY} operations")));
        }
        if let Some(&prev) = self.open.get(&process) {
            let line = self.ops[prev].invoke_line;
            let message = format!(
                "process {process} invokes again, but its operation from line {line} has not completed"
            );
            return Err(self.error(loc, message));
        }
        self.open.insert(process, self.ops.len());
        self.ops.push(Op {
            process,
            f: f.to_string(),
            key,
            input,
            output: Value::Nil,
            output_unknown: false,
            status: Status::Info,
            invoke_index: self.events,
            invoke_line: loc.line,
            invoke_column: loc.column,
            return_index: None,
            jepsen_index: None,
        });
        self.events += 1;
        Ok(())
    }

    /// Closes `process`'s open invocation; `f` must match it.
    pub fn complete(
        &mut self,
        loc: Loc,
        process: u64,
        f: &str,
        done: Completion,
    ) -> Result<(), ParseError> {
        let Some(index) = self.open.remove(&process) else {
            let message = format!("process {process} completes an operation it never invoked");
            return Err(self.error(loc, message));
        };
        let op = &mut self.ops[index];
        if op.f != f {
            let message = format!(
                "process {process} completes :{f}, but its open operation (line {}) is :{}",
                op.invoke_line, op.f
            );
            return Err(self.error(loc, message));
        }
        op.status = done.status;
        op.output = done.output;
        op.output_unknown = done.output_unknown;
        if done.status != Status::Info {
            op.return_index = Some(self.events);
        }
        self.events += 1;
        Ok(())
    }

    /// Records the `:index` of the event `process` is about to complete (or has just
    /// invoked) on its open op.
    pub fn jepsen_index(&mut self, process: u64, index: u64) {
        if let Some(&open) = self.open.get(&process) {
            self.ops[open].jepsen_index = Some(index);
        }
    }

    /// Ends the history: open invocations stay pending forever (indeterminate).
    pub fn finish(self) -> History {
        for &index in self.open.values() {
            assert!(self.ops[index].return_index.is_none());
            assert_eq!(self.ops[index].status, Status::Info);
        }
        History {
            ops: self.ops,
            numbering: Numbering::Events,
            events: self.events,
            unknown_nil: false,
        }
    }
}
