//! The safety properties of multi-paxos, checked after every event, and the liveness
//! conditions.
//!
//! Agreement and state machine safety are monitors ([`super::monitors`]): they remember
//! what each slot first held for the whole run. `promise_kept` works from what each node
//! was told by each acceptor, a summary the nodes keep, so it costs O(nodes²) however long
//! logs grow.

use super::durable::{PROMISED_KEY, decode_ballot};
use super::monitors::{AppliedOnce, ChosenOnce};
use super::{Ballot, MultiPaxos, Role};
use crate::check::{Property, Violation};
use crate::engine::{NodeView, Sim};
use crate::process::NodeId;

pub(super) fn properties() -> Vec<Property<MultiPaxos>> {
    vec![
        Property::monitor(
            "agreement",
            "no two nodes ever learn different commands as chosen in the same slot, even \
             one that has since crashed (checked for every slot when a node learns it)",
            || Box::new(ChosenOnce::default()),
        ),
        Property::monitor(
            "state_machine_safety",
            "the logs nodes applied are prefixes of one another, across crashes too",
            || Box::new(AppliedOnce::default()),
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
pub(super) fn ballot(sim: &Sim<MultiPaxos>, b: Ballot) -> String {
    format!("({}, {})", b.round, sim.node_name(b.node))
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
