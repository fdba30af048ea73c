//! Transactions read out of a [`History`]: each `txn` op's micro-ops, checked for shape.
//!
//! An `ok` transaction's micro-ops are those of its completion, where reads carry the values
//! read. A `fail` or `info` transaction's are those of its invocation: a failed transaction did
//! not happen, and an indeterminate one may have, but what it read is unknown either way, so
//! only its writes are kept for inference. Keys (integers or strings) are numbered in order of
//! first appearance, which keeps every later map small and the order fixed.

use super::{IsolationError, TxnCounts, TxnModel};
use crate::history::{History, Op, Status, Value};
use crate::linearizability::fxhash::FxHashMap;

/// What a micro-op does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MopKind {
    /// `[append k v]`: adds `v` to the end of key `k`'s list.
    Append,
    /// `[w k v]`: sets register `k` to `v`.
    Write,
    /// `[r k v]`: `k` held `v` (a list, or a register's value; nil for "nothing yet").
    Read,
}

impl MopKind {
    /// The name histories give it.
    pub fn name(self) -> &'static str {
        match self {
            MopKind::Append => "append",
            MopKind::Write => "w",
            MopKind::Read => "r",
        }
    }
}

/// One micro-op; `key` numbers the key (see [`Txns::keys`]).
#[derive(Clone, Copy, Debug)]
pub struct Mop<'h> {
    pub kind: MopKind,
    pub key: u32,
    /// The value written, or read (for a transaction that is not `ok`, nil: unknown).
    pub value: &'h Value,
}

/// One transaction.
#[derive(Clone, Debug)]
pub struct Txn<'h> {
    /// Index into [`History::ops`].
    pub op: usize,
    pub status: Status,
    pub mops: Vec<Mop<'h>>,
}

impl Txn<'_> {
    /// Whether its reads are known (it completed ok).
    pub fn reads_known(&self) -> bool {
        self.status == Status::Ok
    }
}

/// The transactions of a history, and its keys.
#[derive(Clone, Debug)]
pub struct Txns<'h> {
    pub txns: Vec<Txn<'h>>,
    /// The keys by number.
    pub keys: Vec<&'h Value>,
}

impl Txns<'_> {
    /// How many transactions ended each way.
    pub fn counts(&self) -> TxnCounts {
        let mut counts = TxnCounts {
            keys: self.keys.len(),
            ..TxnCounts::default()
        };
        for t in &self.txns {
            match t.status {
                Status::Ok => counts.ok += 1,
                Status::Info => counts.info += 1,
                Status::Fail => counts.fail += 1,
            }
        }
        counts
    }
}

/// Bad input at `op`'s invocation.
pub(crate) fn bad(path: &str, op: &Op, message: impl Into<String>) -> IsolationError {
    IsolationError {
        path: path.to_string(),
        line: op.invoke_line,
        column: op.invoke_column,
        message: message.into(),
    }
}

/// Reads every operation of `history` as a transaction of `model`.
pub fn read<'h>(
    path: &str,
    history: &'h History,
    model: TxnModel,
) -> Result<Txns<'h>, IsolationError> {
    // Numbers are given in order of first appearance, so the map's order never shows.
    let mut numbers: FxHashMap<&'h Value, u32> = FxHashMap::default();
    let mut keys = Vec::new();
    let mut txns = Vec::with_capacity(history.ops.len());
    for (index, op) in history.ops.iter().enumerate() {
        if op.f != "txn" {
            let message = format!(
                "the {model} model reads only :txn operations, not :{} (a transaction is \
                 {{:f :txn, :value [[:{} k v] [:r k nil]]}})",
                op.f,
                write_name(model)
            );
            return Err(bad(path, op, message));
        }
        let reads_known = op.status == Status::Ok;
        let source = if reads_known { &op.output } else { &op.input };
        let items = micro_ops(path, op, source, reads_known)?;
        if reads_known {
            same_as_invoked(path, op, items)?;
        }
        let mut mops = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let Some((kind, key, value)) = split(path, op, i, item, model, reads_known)? else {
                continue;
            };
            let next = u32::try_from(keys.len()).unwrap_or(u32::MAX);
            let key = *numbers.entry(key).or_insert_with(|| {
                keys.push(key);
                next
            });
            mops.push(Mop { kind, key, value });
        }
        txns.push(Txn {
            op: index,
            status: op.status,
            mops,
        });
    }
    Ok(Txns { txns, keys })
}

fn write_name(model: TxnModel) -> &'static str {
    match model {
        TxnModel::ListAppend => "append",
        TxnModel::RwRegister => "w",
    }
}

/// The list of micro-ops `value` must be.
fn micro_ops<'h>(
    path: &str,
    op: &Op,
    value: &'h Value,
    completion: bool,
) -> Result<&'h [Value], IsolationError> {
    match value {
        Value::List(items) => Ok(items),
        other => {
            let which = if completion {
                "its ok completion"
            } else {
                "its invocation"
            };
            Err(bad(
                path,
                op,
                format!("a transaction's value must be a list of micro-ops; {which} gives {other}"),
            ))
        }
    }
}

/// An ok completion repeats the invocation's micro-ops, filling in what the reads saw.
fn same_as_invoked(path: &str, op: &Op, done: &[Value]) -> Result<(), IsolationError> {
    let Value::List(invoked) = &op.input else {
        // An invocation without micro-ops (nil) leaves the completion to say what ran.
        return Ok(());
    };
    if invoked.len() != done.len() {
        let message = format!(
            "the transaction was invoked with {} micro-ops but completed with {}",
            invoked.len(),
            done.len()
        );
        return Err(bad(path, op, message));
    }
    for (i, (a, b)) in invoked.iter().zip(done).enumerate() {
        let (Value::List(a_parts), Value::List(b_parts)) = (a, b) else {
            continue; // split() reports the shape.
        };
        let is_read = matches!(a_parts.first(), Some(Value::Str(f)) if f == "r");
        let same = a_parts.len() == b_parts.len()
            && a_parts
                .iter()
                .zip(b_parts)
                .take(if is_read { 2 } else { 3 })
                .all(|(x, y)| x == y);
        if !same {
            let message = format!("micro-op {} completed as {b} but was invoked as {a}", i + 1);
            return Err(bad(path, op, message));
        }
    }
    Ok(())
}

/// One micro-op `[f k v]` checked against the model; `None` for a read whose value is unknown
/// (the transaction is not ok), which inference has no use for.
fn split<'h>(
    path: &str,
    op: &Op,
    index: usize,
    item: &'h Value,
    model: TxnModel,
    reads_known: bool,
) -> Result<Option<(MopKind, &'h Value, &'h Value)>, IsolationError> {
    let at = |message: String| {
        bad(
            path,
            op,
            format!("micro-op {} {item}: {message}", index + 1),
        )
    };
    let Value::List(parts) = item else {
        return Err(at("expected [f key value]".into()));
    };
    let [Value::Str(f), key, value] = parts.as_slice() else {
        return Err(at("expected [f key value], f one of append, r, w".into()));
    };
    let kind = match (f.as_str(), model) {
        ("r", _) => MopKind::Read,
        ("append", TxnModel::ListAppend) => MopKind::Append,
        ("w", TxnModel::RwRegister) => MopKind::Write,
        (other, _) => {
            let known = format!("r and {}", write_name(model));
            return Err(at(format!(
                "the {model} model has no micro-op `{other}` (it knows {known})"
            )));
        }
    };
    if !matches!(key, Value::Int(_) | Value::Str(_)) {
        return Err(at(format!(
            "a key must be an integer or a string, not {key}"
        )));
    }
    match kind {
        MopKind::Read if !reads_known => return Ok(None),
        MopKind::Read => read_value(model, value).map_err(at)?,
        MopKind::Append | MopKind::Write => {
            if !matches!(value, Value::Int(_) | Value::Str(_)) {
                return Err(at(format!(
                    "a written value must be an integer or a string, not {value}"
                )));
            }
        }
    }
    Ok(Some((kind, key, value)))
}

/// Checks what an ok read returned.
fn read_value(model: TxnModel, value: &Value) -> Result<(), String> {
    match (model, value) {
        (_, Value::Nil) => Ok(()),
        (TxnModel::ListAppend, Value::List(items)) => {
            match items
                .iter()
                .find(|v| !matches!(v, Value::Int(_) | Value::Str(_)))
            {
                Some(bad) => Err(format!("a list holds integers or strings, not {bad}")),
                None => Ok(()),
            }
        }
        (TxnModel::ListAppend, other) => {
            Err(format!("a read of a list returns a list, not {other}"))
        }
        (TxnModel::RwRegister, Value::Int(_) | Value::Str(_)) => Ok(()),
        (TxnModel::RwRegister, other) => Err(format!(
            "a register read returns nil, an integer or a string, not {other}"
        )),
    }
}

/// A micro-op's place: (transaction, micro-op).
pub(crate) type At = (u32, u32);

/// The micro-op that wrote each value of each key, among the micro-ops of `kind` (appends, or
/// writes), refusing a value written twice to one key: versions are told apart by their values.
pub(crate) fn writers<'h>(
    path: &str,
    history: &History,
    txns: &Txns<'h>,
    kind: MopKind,
) -> Result<FxHashMap<(u32, &'h Value), At>, IsolationError> {
    let (done, model) = match kind {
        MopKind::Append => ("appended", "list-append"),
        _ => ("written", "rw-register"),
    };
    let mut writers: FxHashMap<(u32, &'h Value), At> = FxHashMap::default();
    for (t, txn) in txns.txns.iter().enumerate() {
        for (m, mop) in txn
            .mops
            .iter()
            .enumerate()
            .filter(|(_, mop)| mop.kind == kind)
        {
            if let Some(&(w, _)) = writers.get(&(mop.key, mop.value)) {
                let other = &history.ops[txns.txns[w as usize].op];
                let message = format!(
                    "{} is {done} to key {} twice (also by the transaction of line {}): \
                     {model} needs {done} values unique per key",
                    mop.value, txns.keys[mop.key as usize], other.invoke_line
                );
                return Err(bad(path, &history.ops[txn.op], message));
            }
            writers.insert((mop.key, mop.value), (t as u32, m as u32));
        }
    }
    Ok(writers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{self, Format};

    fn parse(text: &str) -> History {
        history::parse("t.edn", text, Some(Format::Edn)).unwrap()
    }

    #[test]
    fn ok_txns_take_their_completion_and_others_their_invocation() {
        let h = parse(
            "{:process 0 :type :invoke :f :txn :value [[:append 1 2] [:r :x nil]]}\n\
             {:process 1 :type :invoke :f :txn :value [[:append :x 3] [:r 1 nil]]}\n\
             {:process 0 :type :ok :f :txn :value [[:append 1 2] [:r :x [3]]]}\n\
             {:process 1 :type :info :f :txn :value [[:append :x 3] [:r 1 [9]]]}",
        );
        let t = read("t.edn", &h, TxnModel::ListAppend).unwrap();
        assert_eq!(t.keys, [&Value::Int(1), &Value::Str("x".into())]);
        assert_eq!(t.txns[0].mops.len(), 2);
        assert_eq!(t.txns[0].mops[1].value, &Value::List(vec![Value::Int(3)]));
        // The info transaction's read is unknown: dropped; its append kept.
        assert_eq!(t.txns[1].mops.len(), 1);
        assert_eq!(
            (t.txns[1].mops[0].kind, t.txns[1].mops[0].key),
            (MopKind::Append, 1)
        );
        let counts = t.counts();
        assert_eq!(
            (counts.ok, counts.info, counts.fail, counts.keys),
            (1, 1, 0, 2)
        );
    }

    #[test]
    fn malformed_micro_ops_are_located() {
        let cases = [
            ("[[:append 1]]", "expected [f key value]"),
            ("[[:w 1 2]]", "has no micro-op `w`"),
            ("[[:append [1] 2]]", "a key must be"),
            ("[[:append 1 nil]]", "a written value must be"),
            ("[[:r 1 5]]", "returns a list"),
            ("7", "must be a list of micro-ops"),
        ];
        for (value, expected) in cases {
            let text = format!(
                "{{:process 0 :type :invoke :f :txn :value [[:r 1 nil]]}}\n  \
                 {{:process 1 :type :invoke :f :txn :value {value}}}\n\
                 {{:process 1 :type :ok :f :txn :value {value}}}"
            );
            let e = read("t.edn", &parse(&text), TxnModel::ListAppend).unwrap_err();
            assert_eq!((e.line, e.column), (2, 3), "{value}: {e}");
            assert!(e.message.contains(expected), "{value}: {e}");
        }
    }

    #[test]
    fn a_completion_must_repeat_its_invocation() {
        let h = parse(
            "{:process 0 :type :invoke :f :txn :value [[:w 1 2] [:r 1 nil]]}\n\
             {:process 0 :type :ok :f :txn :value [[:w 1 3] [:r 1 3]]}",
        );
        let e = read("t.edn", &h, TxnModel::RwRegister).unwrap_err();
        assert!(e.message.contains("micro-op 1 completed as"), "{e}");
        let h = parse("{:process 0 :type :invoke :f :read :value nil}");
        let e = read("t.edn", &h, TxnModel::RwRegister).unwrap_err();
        assert!(e.message.contains("only :txn operations"), "{e}");
    }
}
