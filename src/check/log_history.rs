//! The log model's history check at the end of a run: the findings of
//! [`crate::checkers::log`], with each op named as the run's report names it.

use super::ViolationReport;
use super::history::{HistoryCheck, malformed, op_ref};
use crate::checkers::log::{explain, findings};
use crate::time::SimTime;
use crate::trace::client_name;
use crate::workload::HistoryLog;
use std::time::{Duration, Instant};

/// Checks `log` as the log model's history; `names` are the node names, `end` when the run
/// stopped.
pub(super) fn check_log(
    check: &mut HistoryCheck,
    log: &HistoryLog,
    names: &[String],
    end: SimTime,
) -> Duration {
    #[allow(clippy::disallowed_methods)] // Measures the check; never shapes a run.
    let start = Instant::now();
    let history = log.history();
    let (found, totals) = match findings("history", &history) {
        Ok(f) => f,
        Err(e) => return malformed(check, &e.message),
    };
    let times = log.times();
    let name = |i: usize| format!("op {i} (client {})", client_name(times[i].client));
    check.explanation = explain(&found, &totals, &name);
    let Some(first) = found.first() else {
        return start.elapsed();
    };
    check.status = "violated";
    let node_of = |i: usize| {
        let n = times[i].node;
        names.get(n.index()).cloned().unwrap_or(n.to_string())
    };
    let mut message = first.sentence(&name);
    if found.len() > 1 {
        message.push_str(&format!(" (and {} more finding(s))", found.len() - 1));
    }
    let (mut ops, mut nodes) = (Vec::new(), Vec::new());
    for i in first.ops() {
        ops.push(op_ref(log, i));
        let t = times[i];
        let when = t
            .complete
            .map_or("never answered".into(), |c| format!("answered at {c}"));
        message.push_str(&format!(
            "\n  {}, invoked at {}, {when} by {}",
            name(i),
            t.invoke,
            node_of(i)
        ));
        if !nodes.contains(&node_of(i)) {
            nodes.push(node_of(i));
        }
    }
    let at = first
        .ops()
        .iter()
        .filter_map(|&i| times[i].complete)
        .max()
        .unwrap_or(end);
    check.violation = Some(ViolationReport {
        event: None,
        ops,
        property: check.name.into(),
        time_ns: at.0,
        time: at,
        nodes,
        message,
    });
    start.elapsed()
}
