//! The safety properties of Raft, checked after every event, and the liveness condition.
//!
//! Each check compares pairs of nodes through summaries the nodes keep (the chain hash of
//! every log entry and of the last applied entry), so one check is O(nodes²) however long
//! the logs grow. The properties about the past (who led each term, what was applied where)
//! are monitors ([`super::monitors`]).

use super::monitors::{self, AppliedOnce, LeadersByTerm};
use super::{Raft, Role};
use crate::check::{Property, PropertyDigest, Violation};
use crate::engine::{NodeView, Sim};
use crate::process::NodeId;

pub(super) fn properties() -> Vec<Property<Raft>> {
    vec![
        Property::monitor(
            "election_safety",
            "at most one node is ever leader of any term, even one that has since stepped \
             down or crashed",
            || Box::new(LeadersByTerm::default()),
        ),
        Property::always(
            "log_matching",
            "if two logs hold an entry of the same term at the same index, they \
                          are identical up to that index (checked, for each pair of logs, at \
                          the last entry of the shorter one)",
            check_log_matching,
        ),
        Property::always(
            "leader_completeness",
            "a leader's log holds every entry that a node in the same or an \
                          earlier term has committed",
            check_leader_completeness,
        ),
        Property::monitor(
            "state_machine_safety",
            "no two nodes ever apply different entries at the same index, even across \
             crashes",
            || Box::new(AppliedOnce::default()),
        ),
        Property::at_end(
            "leader_elected",
            "exactly one node that is up leads the newest term, and a majority of \
                          all nodes are up and follow it in that term",
            check_leader_elected,
        ),
        crate::check::clients_served_property(),
    ]
}

/// What each invariant and monitor above reads from a node, so that an event that changes
/// only what some of them read (a log grew, nothing was applied) re-checks only those. The
/// chain hash of a log's last entry covers the whole log (its length too), and that of the
/// last applied entry everything applied: the invariants themselves compare logs by these
/// hashes.
pub(super) const DIGESTS: &[PropertyDigest<Raft>] = &[
    PropertyDigest {
        property: "election_safety",
        digest: monitors::leading_digest,
        check_node: None,
    },
    PropertyDigest {
        property: "log_matching",
        digest: |n| n.tail.1,
        check_node: Some(log_matching_of),
    },
    PropertyDigest {
        property: "leader_completeness",
        // Only a leader's log is read: a follower's growing log changes nothing here.
        // The two hashes go in as they are; the term and role (fewer than 4 roles) are
        // spread over the word first, so that no two (term, role) pairs agree.
        digest: |n| {
            let log = if n.role == Role::Leader { n.tail.1 } else { 0 };
            let term_role = (n.term << 2 | n.role as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            term_role ^ log.rotate_left(29) ^ n.applied_last
        },
        check_node: Some(leader_completeness_of),
    },
    PropertyDigest {
        property: "state_machine_safety",
        digest: monitors::applied_digest,
        check_node: None,
    },
];

/// Clusters up to this size are gathered on the stack by the checks below.
const SMALL_CLUSTER: usize = 8;

/// Hands `f` the nodes that are not crashed and pass `keep`, in id order, gathered once so
/// that the checks compare pairs in a tight loop over a dense slice.
#[inline(always)]
fn with_alive<'a, R>(
    sim: &'a Sim<Raft>,
    keep: impl Fn(&Raft) -> bool,
    f: impl FnOnce(&[&'a Raft]) -> R,
) -> R {
    let mut kept = sim.states().iter().flatten().filter(|n| keep(n));
    let Some(first) = kept.next() else {
        return f(&[]);
    };
    if sim.node_count() as usize > SMALL_CLUSTER {
        let all: Vec<&Raft> = std::iter::once(first).chain(kept).collect();
        return f(&all);
    }
    // The first node kept also fills the unused slots of the stack buffer.
    let mut buf = [first; SMALL_CLUSTER];
    let mut len = 1;
    for (slot, n) in buf[1..].iter_mut().zip(kept) {
        *slot = n;
        len += 1;
    }
    f(&buf[..len])
}

#[cold]
#[inline(never)]
fn logs_differ(sim: &Sim<Raft>, na: &Raft, nb: &Raft) -> Violation {
    let (a, b) = (na.id, nb.id);
    Violation::new(
        format!(
            "{} and {} both hold an entry of term {} at index {}, but their logs differ at \
             or before that index",
            sim.node_name(a),
            sim.node_name(b),
            nb.tail.0,
            nb.last_index(),
        ),
        vec![a, b],
    )
}

/// Whether two non-empty logs agree at the shorter one's last index: an entry of the same
/// term there has the same chain hash, which covers everything before it.
#[inline(always)]
fn logs_agree(sim: &Sim<Raft>, na: &Raft, nb: &Raft) -> Result<(), Violation> {
    let (long, short) = match na.log.len() >= nb.log.len() {
        true => (na, nb),
        false => (nb, na),
    };
    let (term, chain) = short.tail;
    let at = &long.log[short.log.len() - 1];
    match at.term == term && at.chain != chain {
        true => Err(logs_differ(sim, long, short)),
        false => Ok(()),
    }
}

/// Compares every pair of logs (a handful of nodes: a few dozen pairs at most).
fn check_log_matching(sim: &Sim<Raft>) -> Result<(), Violation> {
    with_alive(
        sim,
        |n| !n.log.is_empty(),
        |nodes| {
            for (i, &na) in nodes.iter().enumerate() {
                for &nb in &nodes[i + 1..] {
                    logs_agree(sim, na, nb)?;
                }
            }
            Ok(())
        },
    )
}

/// Node `x` (`None` when it is crashed) and every node's state (`None`: crashed), `x`'s
/// included.
#[inline(always)]
fn with_all(sim: &Sim<Raft>, x: NodeId) -> Option<(&Raft, &[Option<Raft>])> {
    let states = sim.states();
    let nx = states.get(x.index())?.as_ref()?;
    Some((nx, states))
}

/// [`check_log_matching`] for the pairs that include node `x`.
fn log_matching_of(sim: &Sim<Raft>, x: NodeId) -> Result<(), Violation> {
    let Some((nx, all)) = with_all(sim, x) else {
        return Ok(());
    };
    if nx.log.is_empty() {
        return Ok(());
    }
    for n in all.iter().flatten() {
        if !n.log.is_empty() && !std::ptr::eq(n, nx) {
            logs_agree(sim, nx, n)?;
        }
    }
    Ok(())
}

#[cold]
#[inline(never)]
fn leader_lacks(sim: &Sim<Raft>, leader: &Raft, node: &Raft) -> Violation {
    let (l, n, index) = (leader.id, node.id, node.applied);
    let has = match leader.last_index() >= index {
        true => format!("holds an entry of term {} there", leader.term_at(index)),
        false => format!("its log ends at index {}", leader.last_index()),
    };
    // A buggy node may since have cut or overwritten the entry it applied: then its own log
    // no longer says which term that entry had.
    let applied = match node.chain_at(index) == node.applied_last {
        true => format!("an entry of term {}", node.term_at(index)),
        false => "an entry its own log no longer holds".to_string(),
    };
    Violation::new(
        format!(
            "{} is leader of term {} but lacks what {} committed up to index {index} \
             ({applied}): {has}",
            sim.node_name(l),
            leader.term,
            sim.node_name(n),
        ),
        vec![l, n],
    )
}

/// Whether `leader` holds what `node` applied, if `node` is in the same or an earlier term.
#[inline(always)]
fn holds_applied(sim: &Sim<Raft>, leader: &Raft, node: &Raft) -> Result<(), Violation> {
    let index = node.applied;
    if leader.role != Role::Leader || index == 0 || node.term > leader.term {
        return Ok(());
    }
    let ours = leader.log.get(index as usize - 1).map_or(0, |e| e.chain);
    match ours == node.applied_last {
        true => Ok(()),
        false => Err(leader_lacks(sim, leader, node)),
    }
}

fn check_leader_completeness(sim: &Sim<Raft>) -> Result<(), Violation> {
    with_alive(
        sim,
        |n| n.role == Role::Leader || n.applied != 0,
        |nodes| {
            for &leader in nodes {
                if leader.role != Role::Leader {
                    continue;
                }
                for &node in nodes {
                    if !std::ptr::eq(leader, node) {
                        holds_applied(sim, leader, node)?;
                    }
                }
            }
            Ok(())
        },
    )
}

/// [`check_leader_completeness`] for the pairs that include node `x`, as leader or not.
fn leader_completeness_of(sim: &Sim<Raft>, x: NodeId) -> Result<(), Violation> {
    let Some((nx, all)) = with_all(sim, x) else {
        return Ok(());
    };
    if nx.role == Role::Leader {
        for n in all.iter().flatten().filter(|n| !std::ptr::eq(*n, nx)) {
            holds_applied(sim, nx, n)?;
            holds_applied(sim, n, nx)?;
        }
    } else if nx.applied != 0 {
        // Only leaders are asked to hold what `x` applied; `x` is not one.
        for n in all.iter().flatten().filter(|n| n.role == Role::Leader) {
            holds_applied(sim, n, nx)?;
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
