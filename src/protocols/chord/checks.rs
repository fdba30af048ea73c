//! The properties of the Chord ring, with their messages in plain words. The ring a check
//! expects is computed here from the identifiers of the nodes that are not down, never taken
//! from what the nodes believe.

use super::Chord;
use super::ring::Ring;
use crate::check::Violation;
use crate::engine::Sim;
use crate::process::NodeId;

/// Nodes that are not down, in id order, with their state.
fn live(sim: &Sim<Chord>) -> Vec<(NodeId, &Chord)> {
    sim.nodes()
        .filter_map(|(id, view)| Some((id, view.state()?)))
        .collect()
}

/// "n3 (id 40211)".
fn named(sim: &Sim<Chord>, ring: &Ring, n: NodeId) -> String {
    format!("{} (id {})", sim.node_name(n), ring.id(n))
}

/// "n3 (id 40211)", or "nobody".
fn named_or_nobody(sim: &Sim<Chord>, ring: &Ring, n: Option<NodeId>) -> String {
    n.map_or_else(|| "nobody".to_string(), |n| named(sim, ring, n))
}

pub(super) fn check_successors_ordered(sim: &Sim<Chord>) -> Result<(), Violation> {
    for (id, node) in live(sim) {
        let ring = node.ring();
        let list = node.successors();
        if list == [id] {
            continue;
        }
        let mut last = 0;
        for &n in list {
            let d = ring.distance(node.id(), ring.id(n));
            if n == id || d <= last {
                let names: Vec<&str> = list.iter().map(|&n| sim.node_name(n)).collect();
                let message = format!(
                    "{}'s successor list [{}] does not run clockwise from it: {} is out of place",
                    named(sim, ring, id),
                    names.join(", "),
                    named(sim, ring, n)
                );
                return Err(Violation::new(message, vec![id, n]));
            }
            last = d;
        }
    }
    Ok(())
}

pub(super) fn check_ring(sim: &Sim<Chord>) -> Result<(), Violation> {
    let nodes = live(sim);
    let Some((_, first)) = nodes.first() else {
        return Ok(());
    };
    let ring = first.ring();
    if let Some(&(id, _)) = nodes.iter().find(|(_, n)| !n.is_joined()) {
        let message = format!("{} is up but has not joined the ring", named(sim, ring, id));
        return Err(Violation::new(message, vec![id]));
    }
    let mut order: Vec<NodeId> = nodes.iter().map(|&(id, _)| id).collect();
    order.sort_by_key(|&n| ring.id(n));
    let count = order.len();
    for (k, &id) in order.iter().enumerate() {
        let node = nodes
            .iter()
            .find(|(n, _)| *n == id)
            .map(|&(_, s)| s)
            .expect("the order lists live nodes");
        let (next, prev) = (order[(k + 1) % count], order[(k + count - 1) % count]);
        if node.successor() != next {
            let message = format!(
                "{}'s successor is {}, but the next node clockwise that is not down is {}",
                named(sim, ring, id),
                named(sim, ring, node.successor()),
                named(sim, ring, next)
            );
            return Err(Violation::new(message, vec![id, node.successor(), next]));
        }
        let alone_ok = count == 1 && node.predecessor().is_none();
        if node.predecessor() != Some(prev) && !alone_ok {
            let message = format!(
                "{}'s predecessor is {}, but the node before it clockwise that is not down is {}",
                named(sim, ring, id),
                named_or_nobody(sim, ring, node.predecessor()),
                named(sim, ring, prev)
            );
            let mut involved = vec![id, prev];
            involved.extend(node.predecessor());
            return Err(Violation::new(message, involved));
        }
    }
    Ok(())
}

pub(super) fn check_fingers(sim: &Sim<Chord>) -> Result<(), Violation> {
    let nodes = live(sim);
    let ids: Vec<NodeId> = nodes.iter().map(|&(id, _)| id).collect();
    for &(id, node) in &nodes {
        let ring = node.ring();
        for (i, &finger) in node.fingers().iter().enumerate() {
            let start = ring.finger_start(node.id(), i as u32);
            let owner = ring.owner(start, &ids);
            // An empty finger is one a lookup gave up on; lookups route around it.
            if finger.is_some() && finger != owner {
                let message = format!(
                    "{}'s finger {i} (for id {start}) is {}, but the node responsible for that \
                     id among the nodes that are not down is {}",
                    named(sim, ring, id),
                    named_or_nobody(sim, ring, finger),
                    named_or_nobody(sim, ring, owner)
                );
                let mut involved = vec![id];
                involved.extend(finger);
                involved.extend(owner);
                return Err(Violation::new(message, involved));
            }
        }
    }
    Ok(())
}
