//! Transactions, micro-ops and dependency edges in plain words.
//!
//! A transaction is `T` followed by faultline's op number ([`History::number`]: for a file, the
//! position of its invocation among the file's events, so that `T12` is found at the
//! thirteenth event of the file; for a run, the op's number in the clients' history); the
//! report also gives its line and Jepsen `:index`.

use super::anomaly::{Anomaly, CycleEdge, TxnRef};
use super::cycles::Cycle;
use super::graph::{Edge, EdgeKind, Graph};
use super::txn::{Mop, MopKind, Txns};
use crate::history::{History, Op, Status, Value};

/// Names things of one history.
pub(crate) struct Words<'a, 'h> {
    history: &'h History,
    txns: &'a Txns<'h>,
}

/// Lists longer than this are shown by their ends (see [`shown`]).
const LIST_SHOWN_MAX: usize = 8;

/// A value as a report shows it: a long list (a list-append read of hundreds of elements) by
/// its first two and last three elements and its length, since a dependency turns on the
/// last elements and the history holds the whole list.
pub(crate) fn shown(value: &Value) -> String {
    match value {
        Value::List(items) if items.len() > LIST_SHOWN_MAX => {
            let ends = |part: &[Value]| {
                part.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let n = items.len();
            format!(
                "[{} … {}] ({n} elements)",
                ends(&items[..2]),
                ends(&items[n - 3..])
            )
        }
        other => other.to_string(),
    }
}

/// A micro-op as histories write it: `[append 1 2]`, `[r 1 [1 2]]`.
pub(crate) fn micro_op(item: &Value) -> String {
    match item {
        Value::List(parts) => match parts.as_slice() {
            [Value::Str(f), key, value] => format!("[{f} {key} {}]", shown(value)),
            _ => item.to_string(),
        },
        _ => item.to_string(),
    }
}

/// All of an op's micro-ops (its completion's if ok, else its invocation's).
pub(crate) fn micro_ops(op: &Op) -> String {
    let value = if op.status == Status::Ok {
        &op.output
    } else {
        &op.input
    };
    match value {
        Value::List(items) => items.iter().map(micro_op).collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    }
}

impl<'a, 'h> Words<'a, 'h> {
    pub fn new(history: &'h History, txns: &'a Txns<'h>) -> Words<'a, 'h> {
        Words { history, txns }
    }

    fn op(&self, t: u32) -> &'h Op {
        &self.history.ops[self.txns.txns[t as usize].op]
    }

    /// The op number of transaction `t`.
    fn number(&self, t: u32) -> usize {
        self.history.number(self.txns.txns[t as usize].op)
    }

    /// `T12`.
    pub fn name(&self, t: u32) -> String {
        format!("T{}", self.number(t))
    }

    /// `T1 and T2 both`, `T1, T2 and T3 all`: the subject of a sentence about all of `txns`.
    pub fn all(&self, txns: &[u32]) -> String {
        let names: Vec<String> = txns.iter().map(|&t| self.name(t)).collect();
        match names.as_slice() {
            [] => String::new(),
            [one] => one.clone(),
            [a, b] => format!("{a} and {b} both"),
            [rest @ .., last] => format!("{} and {last} all", rest.join(", ")),
        }
    }

    pub fn key(&self, key: u32) -> &'h Value {
        self.txns.keys[key as usize]
    }

    pub fn mop(&self, (t, m): (u32, u32)) -> Mop<'h> {
        self.txns.txns[t as usize].mops[m as usize]
    }

    /// How an anomaly's transaction list names `t`.
    pub fn txn_ref(&self, t: u32) -> TxnRef {
        let op = self.op(t);
        TxnRef {
            op: self.txns.txns[t as usize].op,
            number: self.number(t),
            line: op.invoke_line,
            jepsen_index: op.jepsen_index,
            status: op.status.name(),
            micro_ops: micro_ops(op),
        }
    }

    /// An anomaly that needs no cycle.
    pub fn anomaly(&self, kind: super::AnomalyKind, txns: &[u32], explanation: String) -> Anomaly {
        Anomaly {
            kind,
            txns: txns.iter().map(|&t| self.txn_ref(t)).collect(),
            cycle: Vec::new(),
            explanation,
        }
    }

    /// A cycle as an anomaly: its transactions in cycle order and each edge in words.
    pub fn cycle(&self, graph: &Graph, cycle: &Cycle) -> Anomaly {
        let txns: Vec<u32> = cycle.edges.iter().map(|e| e.from).collect();
        let edges = cycle
            .edges
            .iter()
            .map(|e| CycleEdge {
                from: self.number(e.from),
                to: self.number(e.to),
                kind: e.kind,
                words: self.edge(graph, e),
            })
            .collect();
        let mut anomaly = self.anomaly(
            cycle.kind,
            &txns,
            format!(
                "{}, through {} transactions",
                cycle.kind.meaning(),
                txns.len()
            ),
        );
        anomaly.cycle = edges;
        anomaly
    }

    /// One edge in words, e.g. "T3 read key 1 = [1 2] before T4 appended 5 (rw)".
    pub fn edge(&self, graph: &Graph, e: &Edge) -> String {
        let (from, to) = (self.name(e.from), self.name(e.to));
        if e.kind == EdgeKind::Rt {
            return format!("{from} completed before {to} was invoked (rt)");
        }
        let why = &graph.whys[e.why as usize];
        let key = self.key(why.key);
        let (first, then) = (self.mop(why.first), self.mop(why.then));
        match e.kind {
            EdgeKind::Ww => format!(
                "{to} {} {} to key {key} right after {from}'s {} (ww)",
                verb(then.kind),
                then.value,
                first.value
            ),
            EdgeKind::Wr => format!(
                "{to} read key {key} = {}, the version {from} wrote (wr)",
                shown(first.value)
            ),
            EdgeKind::Rw | EdgeKind::Rt => format!(
                "{from} read key {key} = {} before {to} {} {} (rw)",
                shown(first.value),
                verb(then.kind),
                then.value
            ),
        }
    }
}

/// `appended` or `wrote`.
pub(crate) fn verb(kind: MopKind) -> &'static str {
    match kind {
        MopKind::Append => "appended",
        MopKind::Write | MopKind::Read => "wrote",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lists_are_shown_by_their_ends() {
        let list = |n: i64| Value::List((1..=n).map(Value::Int).collect());
        assert_eq!(shown(&list(8)), "[1 2 3 4 5 6 7 8]");
        assert_eq!(shown(&list(28)), "[1 2 … 26 27 28] (28 elements)");
        let read = Value::List(vec![Value::Str("r".into()), Value::Int(3), list(9)]);
        assert_eq!(micro_op(&read), "[r 3 [1 2 … 7 8 9] (9 elements)]");
    }
}
