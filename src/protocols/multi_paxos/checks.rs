//! The safety properties of multi-paxos, checked after every event, and the liveness
//! conditions.
//!
//! Each check works from summaries the nodes keep: the slots learned in the last event, the
//! hash of every applied prefix, the highest ballot each acceptor reported to each node. So
//! one check costs O(nodes²) plus O(nodes) per slot just learned, however long logs grow.

use super::durable::{PROMISED_KEY, decode_ballot};
use super::{Ballot, MultiPaxos, Role};
use crate::check::{Property, Violation};
use crate::engine::{NodeView, Sim};
use crate::process::NodeId;

pub(super) fn properties() -> Vec<Property<MultiPaxos>> {
    vec![
        Property::always(
            "agreement",
            "no two nodes learn different commands as chosen in the same slot \
                          (checked for every slot when a node learns it)",
            check_agreement,
        ),
        Property::always(
            "state_machine_safety",
            "the logs nodes applied are prefixes of one another",
            check_state_machine_safety,
        ),
        Property::always(
            "promise_kept",
            "an acceptor's promise never drops below a ballot it promised or \
                          accepted for a node that remembers it, even across a crash (a \
                          crashed acceptor is judged by its synced storage)",
            check_promise_kept,
        ),
        Property::at_end(
            "stable_leader",
            "exactly one node that is up leads the highest ballot led, and a \
                          majority of all nodes are up and follow it",
            check_stable_leader,
        ),
        Property::at_end(
            "caught_up",
            "every node that is up has applied every slot the leader has applied",
            check_caught_up,
        ),
    ]
}

fn live(sim: &Sim<MultiPaxos>) -> impl Iterator<Item = &MultiPaxos> {
    sim.node_ids().filter_map(|id| sim.node(id).state())
}

/// `(3, n1)` with the scenario's node names.
fn ballot(sim: &Sim<MultiPaxos>, b: Ballot) -> String {
    format!("({}, {})", b.round, sim.node_name(b.node))
}

#[cold]
#[inline(never)]
fn two_chosen(sim: &Sim<MultiPaxos>, a: &MultiPaxos, b: &MultiPaxos, slot: u64) -> Violation {
    let entry = |n: &MultiPaxos| match n.log.get(slot as usize - 1) {
        Some(Some((at, value))) => format!(
            "{} learned {value}, chosen at ballot {}",
            sim.node_name(n.id),
            ballot(sim, *at)
        ),
        _ => format!("{} knows nothing there", sim.node_name(n.id)),
    };
    Violation::new(
        format!(
            "slot {slot} has two chosen values: {}; {}",
            entry(a),
            entry(b)
        ),
        vec![a.id, b.id],
    )
}

/// Every slot a node learned in the last event against what every other node holds there.
fn check_agreement(sim: &Sim<MultiPaxos>) -> Result<(), Violation> {
    for a in live(sim).filter(|n| !n.fresh.is_empty()) {
        for &slot in &a.fresh {
            let i = slot as usize - 1;
            let Some(Some((_, ours))) = a.log.get(i) else {
                continue;
            };
            for b in live(sim) {
                if let Some(Some((_, theirs))) = b.log.get(i)
                    && theirs != ours
                {
                    return Err(two_chosen(sim, b, a, slot));
                }
            }
        }
    }
    Ok(())
}

#[cold]
#[inline(never)]
fn applied_differ(sim: &Sim<MultiPaxos>, a: &MultiPaxos, b: &MultiPaxos) -> Violation {
    let command = |n: &MultiPaxos, i: usize| n.log.get(i).cloned().flatten().map(|(_, c)| c);
    let first = (0..b.applied as usize)
        .find(|&i| command(a, i) != command(b, i))
        .map_or(String::new(), |i| format!(" (first at slot {})", i + 1));
    Violation::new(
        format!(
            "{} and {} have applied different commands by slot {}{first}",
            sim.node_name(a.id),
            sim.node_name(b.id),
            b.applied,
        ),
        vec![a.id, b.id],
    )
}

/// Every applied prefix against the longest one, at its own end: the hash covers all before.
fn check_state_machine_safety(sim: &Sim<MultiPaxos>) -> Result<(), Violation> {
    let Some(longest) = live(sim).max_by_key(|n| n.applied) else {
        return Ok(());
    };
    for n in live(sim).filter(|n| n.applied != 0) {
        let i = n.applied as usize - 1;
        if longest.applied_chain.get(i) != n.applied_chain.get(i) {
            return Err(applied_differ(sim, longest, n));
        }
    }
    Ok(())
}

/// An acceptor's promise as it stands: in memory if up or paused, in synced storage if down.
fn promise_of(sim: &Sim<MultiPaxos>, id: NodeId) -> (Ballot, bool) {
    match sim.node(id).state() {
        Some(n) => (n.promised, false),
        None => {
            let synced = sim.storage(id).get_synced(PROMISED_KEY);
            (synced.and_then(decode_ballot).unwrap_or_default(), true)
        }
    }
}

#[cold]
#[inline(never)]
fn promise_broken(
    sim: &Sim<MultiPaxos>,
    holder: NodeId,
    acceptor: NodeId,
    seen: Ballot,
    (now, down): (Ballot, bool),
) -> Violation {
    let holds = match now.round {
        0 => "no promise at all".to_string(),
        _ => format!("only the promise of ballot {}", ballot(sim, now)),
    };
    let state = match down {
        true => format!("is down, and its synced storage holds {holds}"),
        false => format!("now holds {holds}"),
    };
    Violation::new(
        format!(
            "{} told {} it promised ballot {}, but {} {state}: it may now accept ballots \
             below its promise",
            sim.node_name(acceptor),
            sim.node_name(holder),
            ballot(sim, seen),
            sim.node_name(acceptor),
        ),
        vec![acceptor, holder],
    )
}

fn check_promise_kept(sim: &Sim<MultiPaxos>) -> Result<(), Violation> {
    for holder in live(sim) {
        for (i, &seen) in holder.promises_seen.iter().enumerate() {
            if seen.round == 0 {
                continue;
            }
            let acceptor = NodeId(i as u32);
            let now = promise_of(sim, acceptor);
            if now.0 < seen {
                return Err(promise_broken(sim, holder.id, acceptor, seen, now));
            }
        }
    }
    Ok(())
}

fn up(sim: &Sim<MultiPaxos>) -> impl Iterator<Item = &MultiPaxos> {
    sim.nodes().filter_map(|(_, view)| match view {
        NodeView::Up(n) => Some(n),
        _ => None,
    })
}

/// The one node up that leads the highest ballot led, or why there is none.
fn the_leader(sim: &Sim<MultiPaxos>) -> Result<&MultiPaxos, Violation> {
    let leaders = || up(sim).filter(|n| n.role == Role::Leader);
    let top = leaders().map(|n| n.ballot).max();
    let at_top: Vec<&MultiPaxos> = leaders().filter(|n| Some(n.ballot) == top).collect();
    match at_top[..] {
        [leader] => Ok(leader),
        _ => Err(Violation::new(
            "no node that is up leads: none has a majority of promises for its ballot",
            Vec::new(),
        )),
    }
}

fn check_stable_leader(sim: &Sim<MultiPaxos>) -> Result<(), Violation> {
    let leader = the_leader(sim)?;
    let followers = up(sim)
        .filter(|n| n.leader == Some((leader.id, leader.ballot)))
        .count();
    let majority = sim.node_count() as usize / 2 + 1;
    if followers >= majority {
        return Ok(());
    }
    Err(Violation::new(
        format!(
            "{} leads ballot {} but only {followers} of the {majority} nodes a majority needs \
             (itself included) are up and follow it",
            sim.node_name(leader.id),
            ballot(sim, leader.ballot)
        ),
        vec![leader.id],
    ))
}

fn check_caught_up(sim: &Sim<MultiPaxos>) -> Result<(), Violation> {
    let leader = the_leader(sim)?;
    let behind: Vec<&MultiPaxos> = up(sim).filter(|n| n.applied < leader.applied).collect();
    if behind.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = behind
        .iter()
        .map(|n| format!("{} at slot {}", sim.node_name(n.id), n.applied))
        .collect();
    Err(Violation::new(
        format!(
            "{} (the leader) applied slots up to {}, but {} lag",
            sim.node_name(leader.id),
            leader.applied,
            names.join(", ")
        ),
        behind.iter().map(|n| n.id).collect(),
    ))
}
