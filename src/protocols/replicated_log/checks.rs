//! The invariants and the end-of-run goal of replicated-log. They look at the nodes' current
//! states only; the clients' history is judged by the log checker.

use super::ReplicatedLog;
use super::replica::Replica;
use crate::check::{Property, Violation};
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
