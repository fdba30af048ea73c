//! Checking the clients' history at the end of a run: linearizability for registers and kv,
//! Jepsen-style checkers for counters, sets, unique ids, logs and dht keys, isolation for
//! transactions.

use super::{OpRef, ViolationReport};
use crate::checkers::{self, Kind};
use crate::history::{History, Status, Value};
use crate::linearizability::model::{Call, CallKind, Values};
use crate::linearizability::{self as lin, Cutting, ModelKind, Verdict};
use crate::time::SimTime;
use crate::trace::client_name;
use crate::workload::{ClientOp, Counts, HistoryLog, Isolation, Logged, Model};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Most search steps on one key of a run's history before its verdict is `unknown`: a bound in
/// steps, not seconds, so that a run's report is the same on every machine and under any load.
/// About 10 s of search on one core of a release build.
pub const LINEARIZABILITY_STEPS_MAX: u64 = 1 << 28;

/// A backstop only: the step bound ends a search long before this on any working machine.
pub const LINEARIZABILITY_BUDGET: Duration = Duration::from_secs(3600);

/// How a history check turned out.
#[derive(Clone, Debug, Serialize)]
pub struct HistoryCheck {
    /// The check's name: `linearizable`, `set_full`, `counter_bounds`, `unique_ids`,
    /// `isolation`, `log_consistent` or `reads_written`.
    pub name: &'static str,
    pub model: Model,
    /// `pass`, `violated` or `unknown` (the search ran out of budget).
    pub status: &'static str,
    pub ops: Counts,
    /// How long the operations that ended ok took, from invocation to completion; `None`
    /// when none did.
    pub latency: Option<Latency>,
    /// The same, per region the clients sit in, when a topology places them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub latency_by_region: Vec<RegionLatency>,
    /// Wall-clock time of the check (never shapes the run).
    pub elapsed_ms: f64,
    /// Plain-words lines.
    pub explanation: Vec<String>,
    #[serde(skip)]
    pub violation: Option<ViolationReport>,
}

/// The latency of the operations that ended ok, in simulated time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Latency {
    /// Operations measured: those that ended ok.
    pub ops: usize,
    pub p50_ns: u64,
    pub p99_ns: u64,
    /// The 99.9th percentile: the tail a fan-out to many servers feels.
    pub p999_ns: u64,
    pub max_ns: u64,
}

/// The latency the clients of one region saw.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RegionLatency {
    pub region: String,
    pub clients: u32,
    /// Of their operations that ended ok; `None` when none did.
    pub latency: Option<Latency>,
}

impl RegionLatency {
    /// For each region of `regions` (a name and the numbers of its clients), the latency of
    /// its clients' operations in `log`.
    pub fn of(log: &HistoryLog, regions: &[(String, std::ops::Range<u32>)]) -> Vec<RegionLatency> {
        regions
            .iter()
            .map(|(region, clients)| RegionLatency {
                region: region.clone(),
                clients: clients.end - clients.start,
                latency: Latency::of_clients(log, clients.clone()),
            })
            .collect()
    }
}

impl Latency {
    /// Of `log`'s operations that ended ok (nearest-rank percentiles).
    pub fn of(log: &HistoryLog) -> Option<Latency> {
        Latency::of_clients(log, 0..u32::MAX)
    }

    /// Of the operations of clients `clients` in `log` that ended ok.
    pub fn of_clients(log: &HistoryLog, clients: std::ops::Range<u32>) -> Option<Latency> {
        let ok = log.logged().zip(log.times());
        let ok = ok.filter(|(op, t)| {
            op.status == crate::history::Status::Ok && clients.contains(&t.client)
        });
        let mut ns: Vec<u64> = ok
            .filter_map(|(_, t)| t.complete.map(|end| end.as_nanos() - t.invoke.as_nanos()))
            .collect();
        ns.sort_unstable();
        // Nearest rank, in thousandths so that p99.9 is exact too.
        let rank = |per_mille: usize| ns[(ns.len() * per_mille).div_ceil(1000).max(1) - 1];
        let max_ns = *ns.last()?;
        Some(Latency {
            ops: ns.len(),
            p50_ns: rank(500),
            p99_ns: rank(990),
            p999_ns: rank(999),
            max_ns,
        })
    }
}

/// Marks `check` violated by a history its checker could not read (`why`); no time spent.
pub(super) fn malformed(check: &mut HistoryCheck, why: &str) -> Duration {
    check.status = "violated";
    check
        .explanation
        .push(format!("the history is malformed: {why}"));
    Duration::ZERO
}

/// Checks `log` against `model`; `names` are the node names, `end` when the run stopped.
/// Transactions are checked at serializable; [`check_history_at`] takes another level.
pub fn check_history(
    model: Model,
    log: &HistoryLog,
    names: &[String],
    end: SimTime,
) -> HistoryCheck {
    check_history_at(model, None, log, names, end)
}

/// [`check_history`], with transactions (list-append, rw-register) checked at `isolation`
/// (serializable when `None`).
pub fn check_history_at(
    model: Model,
    isolation: Option<Isolation>,
    log: &HistoryLog,
    names: &[String],
    end: SimTime,
) -> HistoryCheck {
    let mut check = HistoryCheck {
        name: model.check_name(),
        model,
        status: "pass",
        ops: log.counts(),
        latency: Latency::of(log),
        latency_by_region: Vec::new(),
        elapsed_ms: 0.0,
        explanation: Vec::new(),
        violation: None,
    };
    let elapsed = match lin_model(model) {
        Some(kind) => linearizability(&mut check, kind, log, names),
        None if model == Model::Log => super::log_history::check_log(&mut check, log, names, end),
        None if model.is_transactional() => {
            let level = isolation.unwrap_or(Isolation::Serializable);
            super::isolation::check_isolation(&mut check, model, level, log, names)
        }
        None => other(&mut check, model, log, names, end),
    };
    check.elapsed_ms = (elapsed.as_secs_f64() * 1e6).round() / 1e3;
    check
}

fn lin_model(model: Model) -> Option<ModelKind> {
    match model {
        Model::Register => Some(ModelKind::Register),
        Model::CasRegister => Some(ModelKind::CasRegister),
        Model::Kv => Some(ModelKind::Kv),
        Model::Counter | Model::Set | Model::UniqueIds => None,
        Model::ListAppend | Model::RwRegister | Model::Log | Model::Dht => None,
    }
}

fn linearizability(
    check: &mut HistoryCheck,
    kind: ModelKind,
    log: &HistoryLog,
    names: &[String],
) -> Duration {
    let options = lin::Options {
        model: kind,
        // A key never written reads as nil, whatever the model.
        initial: Some(Value::Nil),
        time_budget: LINEARIZABILITY_BUDGET,
        steps_max: LINEARIZABILITY_STEPS_MAX,
        threads: 0,
    };
    #[allow(clippy::disallowed_methods)] // Measures the check and bounds it; never shapes a run.
    let start = Instant::now();
    let checked = match split_log(log, kind) {
        Some(split) => Ok(lin::check_split(split, &options, Cutting::DEFAULT, start)),
        // An op the model does not know: the check of the history as a file says which.
        None => lin::check("history", &log.history(), &options),
    };
    let report = match checked {
        Ok(r) => r,
        Err(e) => return malformed(check, &e.message),
    };
    match &report.verdict {
        Verdict::Linearizable => check.explanation.push(format!(
            "linearizable: {} ops over {} key(s) have a legal {kind} order",
            report.ops, report.partitions
        )),
        Verdict::Unknown(why) => {
            check.status = "unknown";
            check.explanation.push(format!("no verdict: {why}"));
        }
        Verdict::NotLinearizable(failure) => {
            check.status = "violated";
            let report = not_linearizable(kind, log, &log.history(), failure, names);
            check.explanation.push(report.message.clone());
            check.violation = Some(report);
        }
    }
    report.elapsed
}

/// The run's history split by key, as [`lin::check`] splits `log.history()`: the same
/// partitions in the same order, the same calls, and values interned in the same order (so
/// with the same ids), read from the log without writing each op out as a history op.
/// `None` when an op is not one of the model's functions.
fn split_log(log: &HistoryLog, kind: ModelKind) -> Option<lin::Split> {
    // Ops a key has, counted first so that each partition is allocated once.
    let mut ops_of: BTreeMap<Option<u32>, usize> = BTreeMap::new();
    for op in log.logged().filter(|op| op.status != Status::Fail) {
        *ops_of.entry(op.key).or_default() += 1;
    }
    let mut split = lin::Split::default();
    let mut index_of: BTreeMap<Option<u32>, usize> = BTreeMap::new();
    for (i, op) in log.logged().enumerate() {
        if op.status == Status::Fail {
            split.removed += 1;
            continue;
        }
        let at = *index_of.entry(op.key).or_insert_with(|| {
            let key = op.key.map(|k| k.to_string());
            let ops = ops_of.get(&op.key).copied().unwrap_or(0);
            split.add_partition(key, Some(&Value::Nil), ops)
        });
        let call = logged_call(&op, kind, &mut split.parts[at].values)?;
        split.push(at, i, call, (op.invoke_index, op.return_index));
    }
    Some(split)
}

/// One logged op as the search's call; what `lin::check` makes of the history op the log
/// writes for it (an ok cas answered true, an ok read carries the value read).
fn logged_call(op: &Logged<'_>, kind: ModelKind, values: &mut Values) -> Option<Call> {
    let known = op.status == Status::Ok;
    Some(match (kind.function(op.op.func().name())?, op.op) {
        (CallKind::Read, _) => Call::Read {
            out: known.then(|| values.intern(op.value)),
        },
        (CallKind::Write, ClientOp::Write { value, .. }) => Call::Write {
            value: values.intern(&Value::Int(value)),
        },
        (CallKind::Append, ClientOp::Append { value, .. }) => Call::Append {
            value: values.intern(&Value::Int(value)),
        },
        (CallKind::Cas, ClientOp::Cas { from, to, .. }) => Call::Cas {
            from: values.intern(&Value::Int(from)),
            to: values.intern(&Value::Int(to)),
            ok: known.then_some(true),
        },
        _ => return None,
    })
}

/// The violation for the op the search could not linearise, with its neighbours.
fn not_linearizable(
    kind: ModelKind,
    log: &HistoryLog,
    history: &History,
    failure: &lin::Failure,
    names: &[String],
) -> ViolationReport {
    let name = |i: usize| {
        let n = log.times()[i].node;
        names.get(n.index()).cloned().unwrap_or(n.to_string())
    };
    let when = |i: usize| {
        let t = log.times()[i];
        match t.complete {
            Some(c) => format!("invoked at {}, answered at {c} by {}", t.invoke, name(i)),
            None => format!("invoked at {}, never answered", t.invoke),
        }
    };
    let mut message = format!(
        "{} cannot be linearised: {}; no order of it, the ops before it and the {} \
         concurrent with it is a legal {kind} history",
        named(log, history, failure.op),
        when(failure.op),
        failure.concurrent.len()
    );
    let mut ops = vec![op_ref(log, failure.op)];
    if let Some(w) = last_acknowledged_write(history, failure.op) {
        ops.push(op_ref(log, w));
        let done = log.times()[w].complete.unwrap_or_default();
        message.push_str(&format!(
            "\n  the last write acknowledged before it was invoked: {}, answered at {done}",
            named(log, history, w)
        ));
    }
    for &c in &failure.concurrent {
        ops.push(op_ref(log, c));
        message.push_str(&format!(
            "\n  concurrent: {}, {}",
            named(log, history, c),
            when(c)
        ));
    }
    let times = log.times()[failure.op];
    ViolationReport {
        event: None,
        ops,
        property: "linearizable".into(),
        time_ns: times.complete.unwrap_or(times.invoke).0,
        time: times.complete.unwrap_or(times.invoke),
        nodes: vec![name(failure.op)],
        message,
    }
}

/// Op `index` of the log: its number, and as the trace names it, its client and its number
/// among that client's ops (ops are logged in invocation order, so the earlier ops of the
/// client count).
pub(super) fn op_ref(log: &HistoryLog, index: usize) -> OpRef {
    let times = log.times();
    let client = times[index].client;
    let seq = times[..index].iter().filter(|t| t.client == client).count();
    OpRef {
        op: index as u32,
        client,
        seq: seq as u32,
    }
}

/// `op 166 (client c1, process 4: read -> 2)`: op `index` of the log as reports name it.
pub(super) fn named(log: &HistoryLog, history: &History, index: usize) -> String {
    format!(
        "op {index} (client {}, {})",
        client_name(log.times()[index].client),
        lin::describe(&history.ops[index])
    )
}

/// The ok write, append or cas on `bad`'s key that completed last before `bad` was invoked.
fn last_acknowledged_write(history: &History, bad: usize) -> Option<usize> {
    let b = &history.ops[bad];
    history.ops[..bad]
        .iter()
        .enumerate()
        .filter(|(_, o)| o.key == b.key && o.status == Status::Ok && o.f != "read")
        .filter_map(|(i, o)| Some((o.return_index?, i)))
        .filter(|&(ret, _)| ret < b.invoke_index)
        .max()
        .map(|(_, i)| i)
}

fn other(
    check: &mut HistoryCheck,
    model: Model,
    log: &HistoryLog,
    names: &[String],
    end: SimTime,
) -> Duration {
    let history = log.history();
    let kind = match model {
        Model::Counter => Kind::Counter,
        Model::Set => Kind::Set,
        Model::Log => Kind::Log,
        Model::Dht => Kind::Dht,
        _ => Kind::UniqueIds,
    };
    let outcome = match checkers::check(kind, "history", &history) {
        Ok(o) => o,
        Err(e) => {
            check.status = "violated";
            check
                .explanation
                .push(format!("the history is malformed: {}", e.message));
            return Duration::ZERO;
        }
    };
    check.explanation = outcome.explanation.clone();
    if !outcome.valid {
        check.status = "violated";
        if let Some(sentence) = by_ops(kind, &history) {
            check.explanation = vec![sentence];
        }
        let mut message = check.explanation.join("; ");
        let mut nodes = Vec::new();
        let mut ops = Vec::new();
        for event in culprit_events(&outcome.details) {
            let Some(op) = op_at_event(&history, event) else {
                continue;
            };
            ops.push(op_ref(log, op));
            let t = log.times()[op];
            let node = names
                .get(t.node.index())
                .cloned()
                .unwrap_or(t.node.to_string());
            let when = t
                .complete
                .map_or("never answered".into(), |c| format!("answered at {c}"));
            message.push_str(&format!(
                "\n  {}, invoked at {}, {when} by {node}",
                named(log, &history, op),
                t.invoke
            ));
            if !nodes.contains(&node) {
                nodes.push(node);
            }
        }
        check.violation = Some(ViolationReport {
            event: None,
            ops,
            property: model.check_name().into(),
            time_ns: end.0,
            time: end,
            nodes,
            message,
        });
    }
    outcome.elapsed
}

/// The counter's or unique-ids checker's verdict with its ops named by number, as the rest of
/// the run's report names them, rather than by the history's events.
fn by_ops(kind: Kind, history: &History) -> Option<String> {
    let op = |event| op_at_event(history, event).map(|op| format!("op {op}"));
    match kind {
        Kind::Counter => {
            let (v, _) = checkers::counter::first_violation("history", history).ok()?;
            let v = v?;
            Some(checkers::counter::sentence(&v, &op(v.event)?))
        }
        Kind::UniqueIds => {
            let (d, _) = checkers::unique::first_duplicate("history", history).ok()?;
            let d = d?;
            let first = format!("by {}", op(d.first_event)?);
            let second = format!("by {}", op(d.second_event)?);
            Some(checkers::unique::sentence(&d, &first, &second))
        }
        // Their checkers name ops as the history numbers them, which is the run's numbering.
        Kind::Set | Kind::Log | Kind::Dht => None,
    }
}

/// The history events a counter, unique-ids or dht verdict points at.
fn culprit_events(details: &serde_json::Map<String, serde_json::Value>) -> Vec<usize> {
    let field = |outer: &str, inner: &str| details.get(outer)?.get(inner)?.as_u64();
    [
        field("first_bad_read", "event"),
        field("first_bad_read", "write_event"),
        field("duplicate", "first_event"),
        field("duplicate", "second_event"),
    ]
    .into_iter()
    .flatten()
    .map(|e| e as usize)
    .collect()
}

/// The op whose invocation or completion is history event `event`.
fn op_at_event(history: &History, event: usize) -> Option<usize> {
    history
        .ops
        .iter()
        .position(|o| o.invoke_index == event || o.return_index == Some(event))
}
