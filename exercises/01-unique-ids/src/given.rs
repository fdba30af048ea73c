//! Given: a property the exercise's protocol checks, kept out of `node.rs`. Leave this file as
//! it is.
//!
//! The `unique_ids` check that the workload adds catches an id handed out twice, but not a
//! request refused or never answered: a node that answers nothing never repeats itself. This
//! property catches those.

use faultline::check::Violation;
use faultline::history::Status;
use faultline::{Fault, NodeId, Process, Sim, SimTime};
use std::collections::{BTreeMap, BTreeSet};

/// Every client request that reached a node got an id. A request sent to a node that is down
/// is lost, and one sent to a paused node waits, so its client may time out: a timeout counts
/// against a node only if the node was up and running for the whole time the request was open.
pub fn requests_answered<P: Process>(sim: &Sim<P>) -> Result<(), Violation> {
    let stopped = stopped_spans(sim);
    let excused = |node: NodeId, from: SimTime, to: SimTime| {
        let overlaps =
            |&(n, down, up): &(NodeId, SimTime, SimTime)| n == node && down <= to && up >= from;
        stopped.iter().any(overlaps)
    };
    let log = sim.history();
    let mut first = None;
    let mut unanswered = 0;
    let mut nodes = BTreeSet::new();
    for (op, times) in log.logged().zip(log.times()) {
        // An op still open when the run ended may have its answer on the way.
        let Some(ended) = times.complete else {
            continue;
        };
        let what = match op.status {
            Status::Ok => continue,
            Status::Info if excused(times.node, times.invoke, ended) => continue,
            Status::Fail => "was refused",
            Status::Info => "ended without an id",
        };
        unanswered += 1;
        nodes.insert(times.node);
        if first.is_none() {
            first = Some(format!(
                "a generate sent to {} at {} {what} at {ended}",
                sim.node_name(times.node),
                times.invoke,
            ));
        }
    }
    match first {
        None => Ok(()),
        Some(first) => Err(Violation::new(
            format!(
                "{first}; {unanswered} of {} requests were refused or left unanswered",
                log.len()
            ),
            nodes.into_iter().collect(),
        )),
    }
}

/// When each node was down or paused, as (node, from, until) spans from the fault schedule;
/// a span that never ended lasts until `SimTime::MAX`.
fn stopped_spans<P: Process>(sim: &Sim<P>) -> Vec<(NodeId, SimTime, SimTime)> {
    let mut spans = Vec::new();
    let mut down = BTreeMap::new();
    let mut paused = BTreeMap::new();
    for fault in sim.faults() {
        let at = fault.at;
        match fault.fault {
            Fault::Crash(node) => {
                down.entry(node).or_insert(at);
            }
            Fault::Pause(node) => {
                paused.entry(node).or_insert(at);
            }
            Fault::Restart(node) => spans.extend(down.remove(&node).map(|from| (node, from, at))),
            Fault::Resume(node) => spans.extend(paused.remove(&node).map(|from| (node, from, at))),
            // A liveness phase crashes the nodes outside its core, and restarts those inside.
            Fault::Stabilize { .. } => spans.extend(sim.node_ids().map(|n| (n, at, SimTime::MAX))),
            _ => {}
        }
    }
    let open = down.into_iter().chain(paused);
    spans.extend(open.map(|(node, from)| (node, from, SimTime::MAX)));
    spans
}
