//! The properties of quorum-kv, checked on node states.

use super::{QuorumKv, Slot, Version, replicas_of};
use crate::check::{Property, Violation};
use crate::engine::{NodeView, Sim};
use crate::process::NodeId;
use std::collections::BTreeMap;

pub(super) fn properties() -> Vec<Property<QuorumKv>> {
    vec![
        Property::always(
            "versions_grow",
            "no replica ever replaces the version it holds of a key with an older \
                          one",
            check_versions_grow,
        ),
        Property::always(
            "one_value_per_version",
            "two nodes that hold the same version of a key hold the same value: a \
                          version names exactly one write",
            check_one_value_per_version,
        ),
        Property::at_end(
            "replicas_converged",
            "at the end, every replica of a key that is up holds the same version \
                          of it, the newest any of them holds",
            check_replicas_converged,
        ),
    ]
}

/// O(nodes): each node keeps the first regression it made.
fn check_versions_grow(sim: &Sim<QuorumKv>) -> Result<(), Violation> {
    for (id, view) in sim.nodes() {
        let Some(reg) = view.state().and_then(QuorumKv::regression) else {
            continue;
        };
        return Err(Violation::new(
            format!(
                "{} replaced its version {} of key {} with the older version {}: the write \
                 of {} is undone there",
                sim.node_name(id),
                reg.from,
                reg.key,
                reg.to,
                reg.from
            ),
            vec![id],
        ));
    }
    Ok(())
}

/// O(nodes · keys · log keys).
fn check_one_value_per_version(sim: &Sim<QuorumKv>) -> Result<(), Violation> {
    let mut seen: BTreeMap<(u32, Version), (NodeId, &Slot)> = BTreeMap::new();
    for (id, view) in sim.nodes() {
        let Some(node) = view.state() else { continue };
        for (&key, slot) in node.store() {
            match seen.get(&(key, slot.version)) {
                Some(&(other, theirs)) if theirs.value != slot.value => {
                    return Err(Violation::new(
                        format!(
                            "{} and {} both hold version {} of key {}, but with the values {} \
                             and {}: two writes were given the same version",
                            sim.node_name(other),
                            sim.node_name(id),
                            slot.version,
                            key,
                            theirs.value,
                            slot.value
                        ),
                        vec![other, id],
                    ));
                }
                Some(_) => {}
                None => {
                    seen.insert((key, slot.version), (id, slot));
                }
            }
        }
    }
    Ok(())
}

/// Every key any up node holds: its up replicas hold the newest version among them.
fn check_replicas_converged(sim: &Sim<QuorumKv>) -> Result<(), Violation> {
    let up: BTreeMap<NodeId, &QuorumKv> = sim
        .nodes()
        .filter_map(|(id, view)| match view {
            NodeView::Up(node) => Some((id, node)),
            _ => None,
        })
        .collect();
    let Some(any) = up.values().next() else {
        return Ok(());
    };
    let keys: std::collections::BTreeSet<u32> = up
        .values()
        .flat_map(|n| n.store().keys().copied())
        .collect();
    let mut behind = Vec::new();
    let mut nodes = Vec::new();
    for key in keys {
        let set: Vec<(NodeId, &QuorumKv)> = replicas_of(key, any.n, any.node_count)
            .into_iter()
            .filter_map(|id| up.get(&id).map(|&node| (id, node)))
            .collect();
        let newest = set.iter().filter_map(|(_, n)| n.version_of(key)).max();
        let Some(newest) = newest else { continue };
        let holder = set
            .iter()
            .find(|(_, n)| n.version_of(key) == Some(newest))
            .map_or(NodeId(0), |&(id, _)| id);
        for &(id, node) in &set {
            let held = node.version_of(key);
            if held < Some(newest) {
                let held = held.map_or("nothing".to_owned(), |v| format!("version {v}"));
                behind.push(format!(
                    "{} holds {held} of key {key} while {} holds version {newest}",
                    sim.node_name(id),
                    sim.node_name(holder),
                ));
                if !nodes.contains(&id) {
                    nodes.push(id);
                }
            }
        }
    }
    if behind.is_empty() {
        return Ok(());
    }
    Err(Violation::new(
        format!("replicas disagree at the end: {}", behind.join("; ")),
        nodes,
    ))
}
