//! The properties, judged from the clients' history and the parameters alone: what an answer
//! must hold follows from which adds were acknowledged before the read began, and which shard
//! each element belongs to; nothing is taken from the nodes' own word.

use super::{ScatterGather, shard_of};
use crate::check::Violation;
use crate::engine::Sim;
use crate::history::{Status, Value};
use crate::process::NodeId;
use crate::time::SimTime;
use crate::workload::ClientOp;
use std::collections::{BTreeMap, BTreeSet};

/// How many elements a report names.
const SHOWN: usize = 6;

/// A read that ended ok, as the checks need it.
struct OkRead {
    client: u32,
    invoke: SimTime,
    complete: SimTime,
    node: NodeId,
    seen: BTreeSet<i64>,
}

/// The adds and the ok reads of the run's history.
struct Facts {
    /// Acknowledged adds: when the ack came, and the element.
    acked: Vec<(SimTime, i64)>,
    /// Every add not refused: when it was invoked, and the element.
    attempted: BTreeMap<i64, SimTime>,
    reads: Vec<OkRead>,
}

fn facts(sim: &Sim<ScatterGather>) -> Facts {
    let log = sim.history();
    let mut out = Facts {
        acked: Vec::new(),
        attempted: BTreeMap::new(),
        reads: Vec::new(),
    };
    for (op, t) in log.logged().zip(log.times()) {
        match (op.op, op.status, t.complete, op.value) {
            (ClientOp::Add { value }, status, complete, _) if status != Status::Fail => {
                let first = out.attempted.entry(value).or_insert(t.invoke);
                *first = (*first).min(t.invoke);
                if let (Status::Ok, Some(at)) = (status, complete) {
                    out.acked.push((at, value));
                }
            }
            (ClientOp::Read { .. }, Status::Ok, Some(complete), Value::List(items)) => {
                let seen = items
                    .iter()
                    .filter_map(|v| match v {
                        Value::Int(e) => Some(*e),
                        _ => None,
                    })
                    .collect();
                out.reads.push(OkRead {
                    client: t.client,
                    invoke: t.invoke,
                    complete,
                    node: t.node,
                    seen,
                });
            }
            _ => {}
        }
    }
    out.acked.sort_unstable();
    out
}

/// The elements acknowledged before `read` began that it does not hold, by shard.
fn missing(facts: &Facts, read: &OkRead, nodes: u32) -> BTreeMap<u32, (usize, Vec<i64>)> {
    let mut by_shard: BTreeMap<u32, (usize, Vec<i64>)> = BTreeMap::new();
    for &(_, e) in facts.acked.iter().take_while(|(at, _)| *at < read.invoke) {
        let entry = by_shard.entry(shard_of(e, nodes)).or_default();
        entry.0 += 1;
        if !read.seen.contains(&e) {
            entry.1.push(e);
        }
    }
    by_shard.retain(|_, (_, gone)| !gone.is_empty());
    by_shard
}

fn listed(elements: &[i64]) -> String {
    let mut names: Vec<String> = elements.iter().take(SHOWN).map(|e| e.to_string()).collect();
    if elements.len() > SHOWN {
        names.push("...".into());
    }
    names.join(", ")
}

fn read_words(sim: &Sim<ScatterGather>, r: &OkRead) -> String {
    format!(
        "the read of client {} begun at {} and answered ok by {} at {} with {} element{}",
        r.client,
        r.invoke,
        sim.node_name(r.node),
        r.complete,
        r.seen.len(),
        if r.seen.len() == 1 { "" } else { "s" }
    )
}

/// No ok read leaves out every acknowledged element of some shard.
pub(super) fn check_complete_answers(sim: &Sim<ScatterGather>) -> Result<(), Violation> {
    let facts = facts(sim);
    let nodes = sim.node_count();
    for r in &facts.reads {
        let gone = missing(&facts, r, nodes);
        let left_out: Vec<String> = gone
            .iter()
            .filter(|(_, (acked, gone))| *acked == gone.len())
            .map(|(s, (acked, gone))| {
                format!(
                    "shard {s} (all {acked} element(s) of it acknowledged by then: {})",
                    listed(gone)
                )
            })
            .collect();
        if !left_out.is_empty() {
            let message = format!(
                "{} leaves out {}: those elements were acknowledged before the read began, \
                 and the answer was not marked partial",
                read_words(sim, r),
                left_out.join("; ")
            );
            return Err(Violation::new(message, vec![r.node]));
        }
    }
    Ok(())
}

/// Every ok read holds every element acknowledged before it began, and nothing never added.
pub(super) fn check_right_answers(sim: &Sim<ScatterGather>) -> Result<(), Violation> {
    let facts = facts(sim);
    let nodes = sim.node_count();
    for r in &facts.reads {
        let gone: Vec<i64> = missing(&facts, r, nodes)
            .into_values()
            .flat_map(|(_, gone)| gone)
            .collect();
        if !gone.is_empty() {
            let message = format!(
                "{} misses {} element(s) acknowledged before it began: {}",
                read_words(sim, r),
                gone.len(),
                listed(&gone)
            );
            return Err(Violation::new(message, vec![r.node]));
        }
        let invented: Vec<i64> = r
            .seen
            .iter()
            .copied()
            .filter(|e| facts.attempted.get(e).is_none_or(|&at| at > r.complete))
            .collect();
        if !invented.is_empty() {
            let message = format!(
                "{} holds element(s) no client had added: {}",
                read_words(sim, r),
                listed(&invented)
            );
            return Err(Violation::new(message, vec![r.node]));
        }
    }
    Ok(())
}

/// No live front end has hedged more than its budget allows.
pub(super) fn check_hedge_budget(sim: &Sim<ScatterGather>) -> Result<(), Violation> {
    for (i, state) in sim.states().iter().enumerate() {
        let Some(node) = state else {
            continue;
        };
        let budget = u64::from(node.params.hedge_budget_pct);
        if node.hedges_sent * 100 > budget * node.requests_sent {
            let id = NodeId(i as u32);
            let message = format!(
                "{} sent {} hedged requests for {} first requests: more than the budget of \
                 {budget} per 100 allows",
                sim.node_name(id),
                node.hedges_sent,
                node.requests_sent
            );
            return Err(Violation::new(message, vec![id]));
        }
    }
    Ok(())
}
