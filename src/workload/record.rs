//! The history the clients record, ready for the checkers and for `--history FILE`.

use super::{ClientOp, Func};
use crate::history::{History, Op, Status, Value};
use crate::ids::NodeId;
use crate::time::SimTime;
use serde_json::{Map, Value as Json, json};
use std::io::{self, Write};

/// Ops a history has room for from the start: a run of several seconds at a few hundred ops
/// per second records about this many, so that it never grows (and copies) its vectors.
const OPS_RESERVED: usize = 1024;

/// When an operation ran, and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpTimes {
    pub invoke: SimTime,
    /// `None` while pending, and for ops still pending when the run ended.
    pub complete: Option<SimTime>,
    /// The client that ran it.
    pub client: u32,
    /// The node it was sent to first.
    pub first_node: NodeId,
    /// The node it was last sent to (the one that answered, if any did).
    pub node: NodeId,
}

/// Operations by how they ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub ok: usize,
    /// Definitely did not happen.
    pub fail: usize,
    /// Timed out or indefinite: may or may not have happened.
    pub info: usize,
    /// Still open when the run ended (indefinite too).
    pub pending: usize,
}

/// One line of the history: an invocation or a completion of `ops[op]`.
#[derive(Clone, Copy, Debug, Hash)]
struct Event {
    op: u32,
    completion: bool,
}

/// One operation as the run records it: compact and allocation-free (except for a value a
/// read returned), turned into a history [`Op`] only when the history is asked for.
#[derive(Clone, Debug, Hash)]
struct Recorded {
    process: u64,
    op: ClientOp,
    status: Status,
    /// What an ok reply carried (`Nil` until then).
    value: Value,
    done: bool,
    invoke_index: usize,
    return_index: Option<usize>,
}

/// One recorded operation as a checker reads it without building a history [`Op`]: nothing
/// is written out as text or allocated, so a run's own history is checked at the cost of
/// the search alone.
#[derive(Clone, Copy, Debug)]
pub struct Logged<'a> {
    pub op: ClientOp,
    /// The op's key, when the history names keys.
    pub key: Option<u32>,
    /// Info while pending, and for ops still pending when the run ended.
    pub status: Status,
    /// What an ok reply carried (`Nil` otherwise).
    pub value: &'a Value,
    pub invoke_index: usize,
    /// `None` for an indefinite op.
    pub return_index: Option<usize>,
}

/// Every operation the clients ran, in invocation order, with the order of all invocations
/// and completions (the history's real-time order).
#[derive(Clone, Debug, Default)]
pub struct HistoryLog {
    ops: Vec<Recorded>,
    times: Vec<OpTimes>,
    events: Vec<Event>,
    keyed: bool,
    /// The latest invocation time of an op that completed ok.
    latest_ok_invoke: Option<SimTime>,
}

impl HistoryLog {
    /// A log with room for [`OPS_RESERVED`] ops, so that typical runs never grow it.
    pub(crate) fn new(keyed: bool) -> HistoryLog {
        HistoryLog {
            ops: Vec::with_capacity(OPS_RESERVED),
            times: Vec::with_capacity(OPS_RESERVED),
            events: Vec::with_capacity(2 * OPS_RESERVED),
            keyed,
            latest_ok_invoke: None,
        }
    }

    /// Records an invocation; returns the op's index.
    pub(crate) fn invoke(
        &mut self,
        at: SimTime,
        process: u64,
        client: u32,
        node: NodeId,
        op: &ClientOp,
    ) -> usize {
        let index = self.ops.len();
        let event = self.events.len();
        self.ops.push(Recorded {
            process,
            op: *op,
            status: Status::Info,
            value: Value::Nil,
            done: false,
            invoke_index: event,
            return_index: None,
        });
        self.times.push(OpTimes {
            invoke: at,
            complete: None,
            client,
            first_node: node,
            node,
        });
        self.events.push(Event {
            op: index as u32,
            completion: false,
        });
        index
    }

    /// Records the completion of op `index`. `value` is what an ok reply carried.
    pub(crate) fn complete(
        &mut self,
        index: usize,
        at: SimTime,
        node: NodeId,
        status: Status,
        value: Value,
    ) {
        let op = &mut self.ops[index];
        assert!(
            !op.done && self.times[index].complete.is_none(),
            "op {index} completed twice"
        );
        op.status = status;
        op.done = true;
        if status == Status::Ok {
            op.value = value;
            let invoked = self.times[index].invoke;
            self.latest_ok_invoke = self.latest_ok_invoke.max(Some(invoked));
        }
        if status != Status::Info {
            op.return_index = Some(self.events.len());
        }
        self.times[index].complete = Some(at);
        self.times[index].node = node;
        self.events.push(Event {
            op: index as u32,
            completion: true,
        });
    }

    /// A hash of everything recorded but the times: the order of the invocations and
    /// completions stands for them.
    pub(crate) fn fingerprint(&self) -> u64 {
        let nodes = self.times.iter().map(|t| (t.client, t.first_node, t.node));
        let nodes: Vec<_> = nodes.collect();
        crate::trace::content_hash(&(&self.ops, nodes, &self.events, self.keyed))
    }

    /// Notes the node an op was last sent to.
    pub(crate) fn retarget(&mut self, index: usize, node: NodeId) {
        self.times[index].node = node;
    }

    /// The operations, in invocation order (pending ones have status info and no return).
    pub fn ops(&self) -> Vec<Op> {
        self.ops.iter().map(|r| self.op(r)).collect()
    }

    /// The operations, in invocation order, as [`HistoryLog::ops`] gives them but without
    /// building each [`Op`].
    pub fn logged(&self) -> impl Iterator<Item = Logged<'_>> {
        self.ops.iter().map(|r| Logged {
            op: r.op,
            key: r.op.key().filter(|_| self.keyed),
            status: r.status,
            value: &r.value,
            invoke_index: r.invoke_index,
            return_index: r.return_index,
        })
    }

    /// The latest invocation time among the ops that completed ok, if any did.
    pub fn latest_ok_invoke(&self) -> Option<SimTime> {
        self.latest_ok_invoke
    }

    /// How many operations were invoked.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// A recorded operation as the checkers see it.
    fn op(&self, r: &Recorded) -> Op {
        let input = r.op.input();
        // An op still open reads as the indefinite op it ends as, like one that timed out:
        // that is how the JSONL history writes it, and reads it back.
        let output = match (r.done, r.status, r.op.func()) {
            (true, Status::Ok, Func::Cas) => Value::Bool(true),
            // An ok transaction carries its micro-ops completed with what they read.
            (
                true,
                Status::Ok,
                Func::Read | Func::Generate | Func::Txn | Func::Send | Func::Poll | Func::Committed,
            ) => r.value.clone(),
            _ => input.clone(),
        };
        Op {
            process: r.process,
            f: r.op.func().name().to_string(),
            key: r.op.key().filter(|_| self.keyed).map(|k| k.to_string()),
            input,
            output,
            output_unknown: false,
            status: r.status,
            invoke_index: r.invoke_index,
            invoke_line: r.invoke_index + 1,
            invoke_column: 1,
            return_index: r.return_index,
            jepsen_index: None,
        }
    }

    pub fn times(&self) -> &[OpTimes] {
        &self.times
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// How the ops ended so far.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for (op, times) in self.ops.iter().zip(&self.times) {
            match (op.status, times.complete) {
                (_, None) => c.pending += 1,
                (Status::Ok, _) => c.ok += 1,
                (Status::Fail, _) => c.fail += 1,
                (Status::Info, _) => c.info += 1,
            }
        }
        c
    }

    /// The history for the checkers: ops still pending stay pending forever.
    pub fn history(&self) -> History {
        History {
            ops: self.ops(),
            numbering: crate::history::Numbering::Ops,
            events: self.events.len(),
            unknown_nil: false,
        }
    }

    /// Writes the history as faultline's JSON Lines (see `docs/checkers.md`): one line per
    /// invocation and completion, then an info line for each op still pending at `end`.
    pub fn write_jsonl(&self, out: impl Write, names: &[String], end: SimTime) -> io::Result<()> {
        let mut out = io::BufWriter::new(out);
        let node_name = |n: NodeId| names.get(n.index()).cloned().unwrap_or(n.to_string());
        for e in &self.events {
            let (op, times) = (
                &self.op(&self.ops[e.op as usize]),
                &self.times[e.op as usize],
            );
            let (kind, at) = match (e.completion, op.status) {
                (false, _) => ("invoke", times.invoke),
                (true, Status::Ok) => ("ok", times.complete.unwrap_or(end)),
                (true, Status::Fail) => ("fail", times.complete.unwrap_or(end)),
                (true, Status::Info) => ("info", times.complete.unwrap_or(end)),
            };
            let node = if e.completion {
                times.node
            } else {
                times.first_node
            };
            let line = self.line(op, kind, at, times, &node_name(node));
            serde_json::to_writer(&mut out, &line)?;
            out.write_all(b"\n")?;
        }
        for (r, times) in self.ops.iter().zip(&self.times) {
            if times.complete.is_none() {
                let line = self.line(&self.op(r), "info", end, times, &node_name(times.node));
                serde_json::to_writer(&mut out, &line)?;
                out.write_all(b"\n")?;
            }
        }
        out.flush()
    }

    fn line(&self, op: &Op, kind: &str, at: SimTime, times: &OpTimes, node: &str) -> Json {
        let mut m = Map::new();
        m.insert("process".into(), json!(op.process));
        m.insert("type".into(), json!(kind));
        m.insert("f".into(), json!(op.f));
        if let Some(key) = &op.key {
            m.insert("key".into(), json!(key.parse::<u64>().ok()));
        }
        let value = match kind {
            "ok" if [
                Func::Read,
                Func::Generate,
                Func::Txn,
                Func::Send,
                Func::Poll,
                Func::Committed,
            ]
            .iter()
            .any(|f| op.f == f.name()) =>
            {
                &op.output
            }
            _ => &op.input,
        };
        m.insert("value".into(), crate::checkers::value_json(value));
        m.insert("time_ns".into(), json!(at.0));
        m.insert("time".into(), json!(at.to_string()));
        m.insert("client".into(), json!(times.client));
        m.insert("node".into(), json!(node));
        Json::Object(m)
    }
}
