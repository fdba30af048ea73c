//! The properties of paxos, computed from every acceptor's history of accepted proposals.
//!
//! A crashed node's memory is gone, but what it accepted is not: its acceptor synced it to
//! storage before answering, so a down node is judged by its synced storage.

use super::{Ballot, Durable, Paxos, STATE_KEY, Val, decode};
use crate::check::Violation;
use crate::engine::{NodeView, Sim};
use crate::process::NodeId;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// A node's acceptor state: its memory if it is up or paused, its synced storage if down.
fn durable_of(sim: &Sim<Paxos>, id: NodeId) -> Cow<'_, Durable> {
    match sim.node(id).state() {
        Some(node) => Cow::Borrowed(&node.durable),
        None => Cow::Owned(
            sim.storage(id)
                .get_synced(STATE_KEY)
                .and_then(decode)
                .unwrap_or_default(),
        ),
    }
}

/// One chosen proposal: a value a majority of acceptors accepted at one ballot, and who.
struct Chosen {
    ballot: Ballot,
    value: Val,
    by: Vec<NodeId>,
}

fn names(sim: &Sim<Paxos>, nodes: &[NodeId]) -> String {
    let names: Vec<&str> = nodes.iter().map(|&n| sim.node_name(n)).collect();
    names.join(", ")
}

/// `(3, n1)` with the scenario's node names.
fn ballot(sim: &Sim<Paxos>, b: Ballot) -> String {
    format!("({}, {})", b.round, sim.node_name(b.node))
}

fn describe(sim: &Sim<Paxos>, c: &Chosen) -> String {
    format!(
        "value {} was chosen at ballot {} by {}",
        c.value,
        ballot(sim, c.ballot),
        names(sim, &c.by)
    )
}

/// Which acceptors hold each (ballot, value) in their history. O(nodes · history).
type Votes = BTreeMap<(Ballot, Val), Vec<NodeId>>;

fn votes(states: &[(NodeId, Cow<'_, Durable>)]) -> Votes {
    let mut votes = Votes::new();
    for (id, state) in states {
        for (&b, &v) in &state.history {
            votes.entry((b, v)).or_default().push(*id);
        }
    }
    votes
}

fn majority(sim: &Sim<Paxos>) -> usize {
    sim.node_count() as usize / 2 + 1
}

/// Every (ballot, value) accepted by a majority, lowest ballot first.
fn chosen(sim: &Sim<Paxos>, votes: &Votes) -> Vec<Chosen> {
    votes
        .iter()
        .filter(|(_, by)| by.len() >= majority(sim))
        .map(|(&(ballot, value), by)| Chosen {
            ballot,
            value,
            by: by.clone(),
        })
        .collect()
}

/// At most one value chosen; all learned values equal; every learned value chosen.
pub(super) fn agreement(sim: &Sim<Paxos>) -> Result<(), Violation> {
    let states: Vec<(NodeId, Cow<'_, Durable>)> =
        sim.node_ids().map(|id| (id, durable_of(sim, id))).collect();
    let votes = votes(&states);
    let chosen = chosen(sim, &votes);
    if let Some(first) = chosen.first()
        && let Some(other) = chosen.iter().find(|c| c.value != first.value)
    {
        let mut nodes = first.by.clone();
        nodes.extend(other.by.iter().filter(|n| !first.by.contains(n)));
        return Err(Violation::new(
            format!(
                "two values were chosen: {}, and {}",
                describe(sim, first),
                describe(sim, other)
            ),
            nodes,
        ));
    }
    let learned: Vec<(NodeId, Val)> = states
        .iter()
        .filter_map(|(id, s)| s.learned.map(|v| (*id, v)))
        .collect();
    check_learned(sim, &learned, &votes, &chosen)
}

fn check_learned(
    sim: &Sim<Paxos>,
    learned: &[(NodeId, Val)],
    votes: &Votes,
    chosen: &[Chosen],
) -> Result<(), Violation> {
    let evidence = || {
        chosen
            .first()
            .map_or("no value is chosen".to_string(), |c| describe(sim, c))
    };
    if let Some(&(a, va)) = learned.first()
        && let Some(&(b, vb)) = learned.iter().find(|&&(_, v)| v != va)
    {
        return Err(Violation::new(
            format!(
                "{} learned {va} and {} learned {vb}; {}",
                sim.node_name(a),
                sim.node_name(b),
                evidence()
            ),
            vec![a, b],
        ));
    }
    let Some(&(id, v)) = learned
        .iter()
        .find(|&&(_, v)| chosen.iter().all(|c| c.value != v))
    else {
        return Ok(());
    };
    // The best support the learned value still has: acceptors can only lose it by losing
    // their storage.
    let best = votes
        .iter()
        .filter(|&(&(_, value), _)| value == v)
        .max_by_key(|(_, by)| by.len());
    let support = match best {
        Some((&(b, _), by)) => format!(
            "only {} hold it, at ballot {} (a majority is {})",
            names(sim, by),
            ballot(sim, b),
            majority(sim)
        ),
        None => "no acceptor holds it".to_string(),
    };
    Err(Violation::new(
        format!(
            "{} learned {v}, but no majority of acceptors holds it at one ballot: {support}; {}",
            sim.node_name(id),
            evidence()
        ),
        vec![id],
    ))
}

/// Every node up at the end has learned a value (which `agreement` says is the chosen one).
pub(super) fn all_learned(sim: &Sim<Paxos>) -> Result<(), Violation> {
    let mut missing = Vec::new();
    let mut knowing = Vec::new();
    let mut value = None;
    for (id, view) in sim.nodes() {
        let NodeView::Up(node) = view else { continue };
        match node.durable.learned {
            Some(v) => {
                knowing.push(id);
                value = value.or(Some(v));
            }
            None => missing.push(id),
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let known = match value {
        Some(v) => format!("{} learned {v}", names(sim, &knowing)),
        None => "no node that is up has learned a value".to_string(),
    };
    Err(Violation::new(
        format!("{} never learned a value ({known})", names(sim, &missing)),
        missing,
    ))
}
