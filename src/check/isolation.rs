//! Checking a run's transactions (list-append, rw-register) for isolation anomalies, with
//! [`crate::isolation`], at the level the protocol promises or the scenario asks for.
//!
//! A violation names each prohibited class of anomaly in plain words, then describes the
//! first anomaly of each: the transactions, when they ran and which node answered, and for a
//! cycle each dependency in turn.

use super::ViolationReport;
use super::history::{HistoryCheck, malformed, op_ref};
use crate::isolation::{self as iso, Anomaly, Consistency, Options, Report, TxnModel, Verdict};
use crate::time::SimTime;
use crate::trace::client_name;
use crate::workload::{HistoryLog, Isolation, Model};
use std::time::Duration;

/// Checks the transactions of `log` at `level`; `names` are the node names.
pub(super) fn check_isolation(
    check: &mut HistoryCheck,
    model: Model,
    level: Isolation,
    log: &HistoryLog,
    names: &[String],
) -> Duration {
    let mut options = Options::new(match model {
        Model::RwRegister => TxnModel::RwRegister,
        _ => TxnModel::ListAppend,
    });
    options.consistency = consistency(level);
    let report = match iso::check("history", &log.history(), &options) {
        Ok(r) => r,
        Err(e) => return malformed(check, &e.message),
    };
    let t = report.txns;
    let counted = format!(
        "{} ok, {} failed and {} indefinite transaction(s) over {} key(s)",
        t.ok, t.fail, t.info, t.keys
    );
    match &report.verdict {
        Verdict::Valid => check.explanation.push(format!(
            "{level}: {counted} show no anomaly that {level} prohibits"
        )),
        Verdict::Unknown(why) => {
            check.status = "unknown";
            check
                .explanation
                .push(format!("no verdict at {level}: {why}"));
        }
        Verdict::Invalid => {
            check.status = "violated";
            let violation = violation(&report, level, &counted, log, names);
            check.explanation.push(violation.message.clone());
            check.violation = Some(violation);
        }
    }
    report.elapsed
}

fn consistency(level: Isolation) -> Consistency {
    match level {
        Isolation::ReadCommitted => Consistency::ReadCommitted,
        Isolation::SnapshotIsolation => Consistency::SnapshotIsolation,
        Isolation::Serializable => Consistency::Serializable,
        Isolation::StrictSerializable => Consistency::StrictSerializable,
    }
}

/// The report of a history that shows anomalies `level` prohibits.
fn violation(
    report: &Report,
    level: Isolation,
    counted: &str,
    log: &HistoryLog,
    names: &[String],
) -> ViolationReport {
    let prohibited = report.prohibited();
    let mut message = format!("{level} violated: {counted} show");
    for kind in &prohibited {
        let count = report.counts.get(kind).copied().unwrap_or(0);
        message.push_str(&format!("\n  {count} × {kind}: {}", kind.meaning()));
    }
    let (mut ops, mut nodes, mut time) = (Vec::new(), Vec::new(), SimTime::ZERO);
    for kind in &prohibited {
        let Some(first) = report.anomalies.iter().find(|a| a.kind == *kind) else {
            continue;
        };
        message.push_str(&format!("\n  the first {kind}: {}", first.explanation));
        describe(first, log, names, &mut message);
        for t in &first.txns {
            if t.op >= log.len() {
                continue;
            }
            ops.push(op_ref(log, t.op));
            let times = log.times()[t.op];
            time = time.max(times.complete.unwrap_or(times.invoke));
            let node = node_name(names, times.node);
            if !nodes.contains(&node) {
                nodes.push(node);
            }
        }
    }
    ViolationReport {
        event: None,
        ops,
        property: Model::ListAppend.check_name().into(),
        time_ns: time.0,
        time,
        nodes,
        message,
    }
}

fn node_name(names: &[String], node: crate::ids::NodeId) -> String {
    names.get(node.index()).cloned().unwrap_or(node.to_string())
}

/// One anomaly's transactions, each with when it ran and who answered, then its cycle.
fn describe(anomaly: &Anomaly, log: &HistoryLog, names: &[String], out: &mut String) {
    for t in &anomaly.txns {
        let Some(times) = log.times().get(t.op) else {
            continue;
        };
        let when = match times.complete {
            Some(c) => format!(
                "invoked at {}, {} at {c} by {}",
                times.invoke,
                t.status,
                node_name(names, times.node)
            ),
            None => format!("invoked at {}, never answered", times.invoke),
        };
        // In a run's history a transaction's T number is its op number; saying so lets the
        // explanation's and the viewer's "op N" be matched to it.
        out.push_str(&format!(
            "\n    T{}, op {} (client {}, {when}): {}",
            t.number,
            t.op,
            client_name(times.client),
            t.micro_ops
        ));
    }
    for edge in &anomaly.cycle {
        out.push_str(&format!("\n    {}", edge.words));
    }
}
