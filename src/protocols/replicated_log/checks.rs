//! The invariants and the end-of-run goal of replicated-log. They look at the nodes' current
//! states only; the clients' history is judged by the log checker.

use super::ReplicatedLog;
use super::replica::Replica;
use crate::check::{Property, PropertyDigest, Violation};
use crate::engine::{NodeView, Sim};
use crate::process::NodeId;

/// The properties `faultline list` shows and every run checks.
pub(super) fn properties() -> Vec<Property<ReplicatedLog>> {
    vec![
        Property::always(
            "one_leader_per_epoch",
            "no two brokers lead the same partition in the same leader epoch",
            one_leader_per_epoch,
        ),
        Property::always(
            "acknowledged_kept",
            "a broker leading a partition in a newer epoch holds every message a leader \
             of an older epoch acknowledged, at the offset it was acknowledged at",
            acknowledged_kept,
        ),
        Property::at_end(
            "partitions_led",
            "at the end, the controller is up and every partition it knows has a leader \
             that is up and leads it",
            partitions_led,
        ),
    ]
}

/// What each invariant reads of a node, so that it is checked again only when that changes.
/// A leader's log is not in them: while it leads, entries below its end never change, and
/// taking the lead changes its epoch.
pub(super) const DIGESTS: &[PropertyDigest<ReplicatedLog>] = &[
    PropertyDigest {
        property: "one_leader_per_epoch",
        digest: |n| digest(n, |r| [r.lead.as_ref().map_or(0, |l| l.epoch + 1), 0, 0]),
        check_node: None,
    },
    PropertyDigest {
        property: "acknowledged_kept",
        digest: |n| {
            digest(n, |r| {
                let lead = r.lead.as_ref().map_or(0, |l| l.epoch + 1);
                let acked = r.acked.map_or([0; 3], |(e, o, entry)| {
                    [e + 1, o, entry.msg as u64 ^ entry.epoch.rotate_left(32)]
                });
                [lead, acked[0] ^ acked[1].rotate_left(21), acked[2]]
            })
        },
        check_node: None,
    },
];

/// Folds three words of each replica of a broker, with its key, into one word.
fn digest(node: &ReplicatedLog, words: impl Fn(&Replica) -> [u64; 3]) -> u64 {
    let Some(broker) = node.broker() else {
        return 0;
    };
    let mut h: u64 = 0x243F_6A88_85A3_08D3;
    for (key, r) in &broker.replicas {
        for w in std::iter::once(u64::from(*key)).chain(words(r)) {
            h = (h ^ w).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(27);
        }
    }
    h
}

/// Each live broker's replica of each partition.
fn replicas(sim: &Sim<ReplicatedLog>) -> Vec<(NodeId, u32, &Replica)> {
    let mut out = Vec::new();
    for (id, view) in sim.nodes() {
        if let Some(broker) = view.state().and_then(ReplicatedLog::broker) {
            out.extend(broker.replicas.iter().map(|(k, r)| (id, *k, r)));
        }
    }
    out
}

/// The controller gives each epoch one leader; a broker leads only the epoch it was given.
fn one_leader_per_epoch(sim: &Sim<ReplicatedLog>) -> Result<(), Violation> {
    let leading: Vec<(NodeId, u32, u64)> = replicas(sim)
        .into_iter()
        .filter_map(|(id, key, r)| Some((id, key, r.lead.as_ref()?.epoch)))
        .collect();
    for (i, &(a, key, epoch)) in leading.iter().enumerate() {
        if let Some(&(b, _, _)) = leading[i + 1..]
            .iter()
            .find(|&&(_, k, e)| k == key && e == epoch)
        {
            return Err(Violation::new(
                format!(
                    "{} and {} both lead key {key} in epoch {epoch}",
                    sim.node_name(a),
                    sim.node_name(b)
                ),
                vec![a, b],
            ));
        }
    }
    Ok(())
}

/// What a leader acknowledged, every in-sync replica had; the next leader is one of them.
fn acknowledged_kept(sim: &Sim<ReplicatedLog>) -> Result<(), Violation> {
    let all = replicas(sim);
    for &(a, key, r) in &all {
        let Some((epoch, offset, entry)) = r.acked else {
            continue;
        };
        for &(g, k, leader) in &all {
            let Some(lead) = leader.lead.as_ref().filter(|l| k == key && l.epoch > epoch) else {
                continue;
            };
            let held = leader.log.get(offset as usize);
            if held == Some(&entry) {
                continue;
            }
            let holds = match held {
                Some(other) => format!("holds message {} there", other.msg),
                None => format!("has only {} entries", leader.log.len()),
            };
            return Err(Violation::new(
                format!(
                    "{} leads key {key} in epoch {}, but {holds}: {} had acknowledged message \
                     {} at offset {offset} in epoch {epoch}, and it is lost",
                    sim.node_name(g),
                    lead.epoch,
                    sim.node_name(a),
                    entry.msg
                ),
                vec![g, a],
            ));
        }
    }
    Ok(())
}

/// Once faults are over, every partition must have found a leader again.
fn partitions_led(sim: &Sim<ReplicatedLog>) -> Result<(), Violation> {
    let controller = super::CONTROLLER;
    let Some(c) = sim
        .node(controller)
        .state()
        .and_then(ReplicatedLog::controller)
    else {
        return Err(Violation::new(
            "the controller n1 is not up",
            vec![controller],
        ));
    };
    for (&key, part) in &c.parts {
        let Some(l) = part.leader else {
            return Err(Violation::new(
                format!("key {key} has no leader: none of its in-sync replicas is up"),
                Vec::new(),
            ));
        };
        let problem = match sim.node(l) {
            NodeView::Down => "is down".to_string(),
            NodeView::Paused(_) => "is paused".to_string(),
            NodeView::Up(node) => {
                let lead = node
                    .broker()
                    .and_then(|b| b.replicas.get(&key)?.lead.as_ref());
                match lead {
                    Some(lead) if lead.epoch == part.leader_epoch => continue,
                    Some(lead) => format!("still leads epoch {}", lead.epoch),
                    None => "does not know it leads".to_string(),
                }
            }
        };
        return Err(Violation::new(
            format!(
                "key {key}'s leader in epoch {} is {}, which {problem}",
                part.leader_epoch,
                sim.node_name(l)
            ),
            vec![l],
        ));
    }
    Ok(())
}
