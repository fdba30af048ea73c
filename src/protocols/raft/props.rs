//! The safety properties of Raft, checked after every event, and the liveness condition.
//!
//! Each check compares pairs of nodes through summaries the nodes keep (the terms they led,
//! the chain hash of every log entry and of every applied entry), so one check is
//! O(nodes²) however long the logs grow.

use super::{Raft, Role};
use crate::check::{CheckWhen, Property, Violation};
use crate::engine::{NodeView, Sim};
use crate::process::NodeId;

pub(super) fn properties() -> Vec<Property<Raft>> {
    vec![
        Property {
            name: "election_safety",
            description: "at most one node is leader of any term (each node remembers the \
                          last terms it led, even after stepping down)",
            when: CheckWhen::Always,
            check: check_election_safety,
        },
        Property {
            name: "log_matching",
            description: "if two logs hold an entry of the same term at the same index, they \
                          are identical up to that index (checked at each log's last entry, \
                          against the longest log)",
            when: CheckWhen::Always,
            check: check_log_matching,
        },
        Property {
            name: "leader_completeness",
            description: "a leader's log holds every entry that a node in the same or an \
                          earlier term has committed",
            when: CheckWhen::Always,
            check: check_leader_completeness,
        },
        Property {
            name: "state_machine_safety",
            description: "no two nodes apply different entries at the same index",
            when: CheckWhen::Always,
            check: check_state_machine_safety,
        },
        Property {
            name: "leader_elected",
            description: "exactly one node that is up leads the newest term, and a majority of \
                          all nodes are up and follow it in that term",
            when: CheckWhen::AtEnd,
            check: check_leader_elected,
        },
    ]
}

/// A node's state unless it is crashed. The checks below loop over indices rather than
/// chains of iterator adapters over every node: they run after every event, and profiles
/// showed the adapters dominate a five-node run.
#[inline]
fn alive(sim: &Sim<Raft>, i: u32) -> Option<(NodeId, &Raft)> {
    let id = NodeId(i);
    sim.node(id).state().map(|n| (id, n))
}

fn check_election_safety(sim: &Sim<Raft>) -> Result<(), Violation> {
    let count = sim.node_count();
    for i in 0..count {
        let Some((a, na)) = alive(sim, i) else {
            continue;
        };
        let term = na.last_led;
        if term == 0 {
            continue;
        }
        for (b, nb) in (0..count).filter(|&j| j != i).filter_map(|j| alive(sim, j)) {
            // Newest first: the term is almost always the other node's last one or absent.
            if nb.last_led < term {
                continue;
            }
            let also = nb
                .led
                .iter()
                .rev()
                .take_while(|&&t| t >= term)
                .any(|&t| t == term);
            if also {
                let now = |n: &Raft| match n.role == Role::Leader && n.term == term {
                    true => "still leads it",
                    false => "has since moved on",
                };
                return Err(Violation::new(
                    format!(
                        "{} and {} were both elected leader of term {term} ({} {}, {} {})",
                        sim.node_name(b),
                        sim.node_name(a),
                        sim.node_name(b),
                        now(nb),
                        sim.node_name(a),
                        now(na),
                    ),
                    vec![b, a],
                ));
            }
        }
    }
    Ok(())
}

/// The alive node with the largest `key`, the reference the O(nodes) checks compare to.
fn reference(sim: &Sim<Raft>, key: impl Fn(&Raft) -> u64) -> Option<(NodeId, &Raft)> {
    let mut best: Option<(NodeId, &Raft)> = None;
    for i in 0..sim.node_count() {
        if let Some((id, n)) = alive(sim, i)
            && best.is_none_or(|(_, b)| key(n) > key(b))
        {
            best = Some((id, n));
        }
    }
    best
}

/// Compares every log with the longest one at the other log's last index. Since each entry's
/// hash covers its whole prefix, logs that each agree with the longest one agree with each
/// other too.
fn check_log_matching(sim: &Sim<Raft>) -> Result<(), Violation> {
    let Some((a, na)) = reference(sim, Raft::last_index) else {
        return Ok(());
    };
    for (b, nb) in (0..sim.node_count()).filter_map(|j| alive(sim, j)) {
        let index = nb.last_index();
        let (term, chain) = nb.tail;
        if index == 0 || b == a || na.term_at(index) != term {
            continue;
        }
        if na.chain_at(index) != chain {
            return Err(Violation::new(
                format!(
                    "{} and {} both hold an entry of term {term} at index {index}, but their \
                     logs differ at or before that index",
                    sim.node_name(a),
                    sim.node_name(b),
                ),
                vec![a, b],
            ));
        }
    }
    Ok(())
}

fn check_leader_completeness(sim: &Sim<Raft>) -> Result<(), Violation> {
    let count = sim.node_count();
    for i in 0..count {
        let Some((l, leader)) = alive(sim, i).filter(|(_, n)| n.role == Role::Leader) else {
            continue;
        };
        for j in (0..count).filter(|&j| j != i) {
            let Some((n, node)) = alive(sim, j).filter(|(_, n)| n.term <= leader.term) else {
                continue;
            };
            let index = node.applied;
            if index == 0 {
                continue;
            }
            let theirs = node.applied_last;
            if leader.chain_at(index) == theirs {
                continue;
            }
            let has = match leader.last_index() >= index {
                true => format!("holds an entry of term {} there", leader.term_at(index)),
                false => format!("its log ends at index {}", leader.last_index()),
            };
            return Err(Violation::new(
                format!(
                    "{} is leader of term {} but lacks what {} committed up to index {index} \
                     (an entry of term {}): {has}",
                    sim.node_name(l),
                    leader.term,
                    sim.node_name(n),
                    node.term_at(index),
                ),
                vec![l, n],
            ));
        }
    }
    Ok(())
}

/// Compares what every node applied with what the node that applied most did, at the
/// other node's last applied index (the hash chain covers everything before it).
fn check_state_machine_safety(sim: &Sim<Raft>) -> Result<(), Violation> {
    let Some((a, na)) = reference(sim, |n| n.applied) else {
        return Ok(());
    };
    for (b, nb) in (0..sim.node_count()).filter_map(|j| alive(sim, j)) {
        let Some(i) = (nb.applied as usize).checked_sub(1) else {
            continue;
        };
        if b != a && na.applied_chain[i] != nb.applied_last {
            return Err(Violation::new(
                format!(
                    "{} and {} have applied different commands by index {}",
                    sim.node_name(a),
                    sim.node_name(b),
                    nb.applied,
                ),
                vec![a, b],
            ));
        }
    }
    Ok(())
}

fn check_leader_elected(sim: &Sim<Raft>) -> Result<(), Violation> {
    let up = || {
        sim.nodes().filter_map(|(id, view)| match view {
            NodeView::Up(n) => Some((id, n)),
            _ => None,
        })
    };
    let newest = up().map(|(_, n)| n.term).max().unwrap_or(0);
    let leaders: Vec<NodeId> = up()
        .filter(|(_, n)| n.role == Role::Leader && n.term == newest)
        .map(|(id, _)| id)
        .collect();
    let [leader] = leaders[..] else {
        let names: Vec<&str> = leaders.iter().map(|&id| sim.node_name(id)).collect();
        return Err(Violation::new(
            format!(
                "no single leader of the newest term {newest} among the nodes up: {}",
                if names.is_empty() {
                    "none leads it".to_string()
                } else {
                    names.join(", ")
                }
            ),
            leaders,
        ));
    };
    let followers = up()
        .filter(|(_, n)| n.term == newest && n.leader == Some(leader))
        .count() as u32;
    let majority = sim.node_count() / 2 + 1;
    if followers >= majority {
        return Ok(());
    }
    Err(Violation::new(
        format!(
            "{} leads term {newest} but only {followers} of the {majority} nodes a majority \
             needs (itself included) are up and follow it",
            sim.node_name(leader)
        ),
        vec![leader],
    ))
}
