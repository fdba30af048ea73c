//! The properties of two-phase commit, with their messages in plain words.
//!
//! Checks read the tables nodes keep anyway (one slot per transaction), so each runs in
//! O(nodes × transactions) with no allocation unless it fails.

use super::coordinator::{Coordinator, How, read_started};
use super::participant::{Participant, Source};
use super::{COORDINATOR, Outcome, TwoPhaseCommit};
use crate::check::Violation;
use crate::engine::{NodeView, Sim};
use crate::process::NodeId;

fn coordinator(sim: &Sim<TwoPhaseCommit>) -> Option<&Coordinator> {
    sim.node(COORDINATOR).state()?.coordinator()
}

/// Participants whose state is visible (up or paused), in id order.
fn participants(sim: &Sim<TwoPhaseCommit>) -> impl Iterator<Item = (NodeId, &Participant)> {
    sim.nodes()
        .filter_map(|(id, view)| Some((id, view.state()?.participant()?)))
}

/// Names joined with commas: "n2, n3".
fn names(sim: &Sim<TwoPhaseCommit>, nodes: &[NodeId]) -> String {
    let names: Vec<&str> = nodes.iter().map(|&n| sim.node_name(n)).collect();
    names.join(", ")
}

fn is_are(nodes: &[NodeId]) -> &'static str {
    if nodes.len() == 1 { "is" } else { "are" }
}

pub(super) fn check_atomicity(sim: &Sim<TwoPhaseCommit>) -> Result<(), Violation> {
    let coord = coordinator(sim);
    let mut max = coord.map_or(0, |c| c.txs.len());
    for (_, p) in participants(sim) {
        max = max.max(p.outcomes.len());
    }
    for tx in 1..=max as u64 {
        let decision = coord.and_then(|c| c.decision(tx)).map(|(o, _)| o);
        let mut commit = decision == Some(Outcome::Commit);
        let mut abort = decision == Some(Outcome::Abort);
        for (_, p) in participants(sim) {
            match p.outcome(tx) {
                Some((Outcome::Commit, _)) => commit = true,
                Some((Outcome::Abort, _)) => abort = true,
                None => {}
            }
        }
        if commit && abort {
            return Err(split(sim, tx));
        }
    }
    Ok(())
}

/// The message for a transaction both committed and aborted.
fn split(sim: &Sim<TwoPhaseCommit>, tx: u64) -> Violation {
    let (mut committed, mut told_abort, mut alone) = (Vec::new(), Vec::new(), Vec::new());
    let mut waited = None;
    for (id, p) in participants(sim) {
        match p.outcome(tx) {
            Some((Outcome::Commit, _)) => committed.push(id),
            Some((Outcome::Abort, Source::OnItsOwn)) => {
                alone.push(id);
                waited = Some(p.give_up_after());
            }
            Some((Outcome::Abort, _)) => told_abort.push(id),
            None => {}
        }
    }
    let mut parts = Vec::new();
    if !committed.is_empty() {
        parts.push(format!("{} committed", names(sim, &committed)));
    }
    if !told_abort.is_empty() {
        parts.push(format!("{} aborted", names(sim, &told_abort)));
    }
    if let Some(waited) = waited {
        parts.push(format!(
            "{} aborted on its own after waiting {waited} for the decision",
            names(sim, &alone)
        ));
    }
    let mut nodes: Vec<NodeId> = committed
        .into_iter()
        .chain(told_abort)
        .chain(alone)
        .collect();
    nodes.sort_unstable();
    nodes.insert(0, COORDINATOR);
    Violation::new(
        format!(
            "tx {tx} was both committed and aborted: {} ({})",
            parts.join(", "),
            coordinator_clause(sim, tx)
        ),
        nodes,
    )
}

/// What the coordinator decided on `tx`, and why, as a clause.
fn coordinator_clause(sim: &Sim<TwoPhaseCommit>, tx: u64) -> String {
    let name = sim.node_name(COORDINATOR);
    let Some(coord) = coordinator(sim) else {
        return format!("the coordinator {name} is down");
    };
    let Some((outcome, how)) = coord.decision(tx) else {
        return format!("the coordinator {name} has not decided yet");
    };
    let why = match how {
        How::AllYes => ", as every participant voted yes".to_string(),
        How::VotedNo(node) => format!(", as {} voted no", sim.node_name(node)),
        How::Timeout => ", as not every vote arrived in time".to_string(),
        How::Presumed => {
            format!(" by presumption after its restart: its log had no decision for tx {tx}")
        }
        How::Logged => ", as its log said after a restart".to_string(),
    };
    format!("the coordinator {name} decided {}{why}", outcome.word())
}

pub(super) fn check_vote_respected(sim: &Sim<TwoPhaseCommit>) -> Result<(), Violation> {
    for (id, p) in participants(sim) {
        for tx in 1..=p.votes.len() as u64 {
            if p.vote(tx) == Some(false) && matches!(p.outcome(tx), Some((Outcome::Commit, _))) {
                return Err(Violation::new(
                    format!(
                        "{} committed tx {tx} although it voted no on it",
                        sim.node_name(id)
                    ),
                    vec![id, COORDINATOR],
                ));
            }
        }
    }
    Ok(())
}

/// Participants that are up (not crashed, not paused), in id order.
fn up_participants(sim: &Sim<TwoPhaseCommit>) -> impl Iterator<Item = (NodeId, &Participant)> {
    sim.nodes().filter_map(|(id, view)| match view {
        NodeView::Up(node) => Some((id, node.participant()?)),
        _ => None,
    })
}

pub(super) fn check_all_decided(sim: &Sim<TwoPhaseCommit>) -> Result<(), Violation> {
    // A crashed coordinator's state is gone, but its log says how far it got.
    let coord = coordinator(sim);
    let started = match coord {
        Some(c) => c.started,
        None => read_started(sim.storage(COORDINATOR)),
    };
    let up = || up_participants(sim);
    let mut missing = 0;
    let mut first = None;
    let settled = |tx| !coord.is_some_and(|c| c.settling(tx, sim.now()));
    for tx in (1..=started).filter(|&tx| settled(tx)) {
        for (_, p) in up() {
            if p.outcome(tx).is_none() {
                missing += 1;
                first.get_or_insert(tx);
            }
        }
    }
    let Some(tx) = first else { return Ok(()) };
    Err(undecided(sim, tx, missing, started))
}

/// The message for transaction `tx`, the first one some up participant has no outcome for.
fn undecided(sim: &Sim<TwoPhaseCommit>, tx: u64, missing: u64, started: u64) -> Violation {
    let undecided = |want_prepared: bool| -> Vec<NodeId> {
        up_participants(sim)
            .filter(|(_, p)| p.outcome(tx).is_none() && p.prepared(tx) == want_prepared)
            .map(|(id, _)| id)
            .collect()
    };
    let (prepared, unvoted) = (undecided(true), undecided(false));
    let mut parts = Vec::new();
    let coordinator_down = matches!(sim.node(COORDINATOR), NodeView::Down);
    if !prepared.is_empty() {
        let state = if coordinator_down {
            "and blocked"
        } else {
            "and still waiting for the decision"
        };
        parts.push(format!(
            "{} {} prepared for tx {tx} {state}",
            names(sim, &prepared),
            is_are(&prepared)
        ));
    }
    if !unvoted.is_empty() {
        parts.push(format!(
            "{} {} no outcome for tx {tx} and never voted yes on it",
            names(sim, &unvoted),
            if unvoted.len() == 1 { "has" } else { "have" }
        ));
    }
    let name = sim.node_name(COORDINATOR);
    let why = if coordinator_down {
        format!("the coordinator {name} is down and only it knows the decision")
    } else {
        coordinator_clause(sim, tx)
    };
    let mut nodes: Vec<NodeId> = prepared.into_iter().chain(unvoted).collect();
    nodes.sort_unstable();
    nodes.insert(0, COORDINATOR);
    Violation::new(
        format!(
            "{}: {why}; {missing} outcome(s) missing in all, over {started} started transaction(s)",
            parts.join("; ")
        ),
        nodes,
    )
}
