//! The invariants and the end-of-run goal of primary-backup. Each looks at every node's
//! current state only (no history), in O(nodes²) at most, since invariants run after every
//! event.

use super::PrimaryBackup;
use crate::check::{Property, Violation};
use crate::engine::{NodeView, Sim};
use crate::process::NodeId;

/// The properties `faultline list` shows and every run checks.
pub(super) fn properties() -> Vec<Property<PrimaryBackup>> {
    vec![
        Property::always(
            "one_primary_per_view",
            "no two nodes serve clients as the primary of the same view",
            one_primary_per_view,
        ),
        Property::always(
            "backup_not_ahead",
            "while a primary and its backup are both in their view, the \
                              backup holds no more operations than the primary",
            backup_not_ahead,
        ),
        Property::always(
            "acknowledged_ops_kept",
            "a primary serving a view holds at least as many operations as \
                              any node answered a client for in an older view",
            acknowledged_ops_kept,
        ),
        Property::at_end(
            "primary_serving",
            "at the end, the primary of the newest view is up and serving, \
                              and its backup has joined that view",
            primary_serving,
        ),
    ]
}

/// Nodes that are not crashed, with their state.
fn alive(sim: &Sim<PrimaryBackup>) -> impl Iterator<Item = (NodeId, &PrimaryBackup)> {
    sim.nodes()
        .filter_map(|(id, view)| Some((id, view.state()?)))
}

/// Views name their primary by arithmetic, so this guards the roles: a node serves only as
/// the primary its view names.
pub(super) fn one_primary_per_view(sim: &Sim<PrimaryBackup>) -> Result<(), Violation> {
    let serving: Vec<(NodeId, u64)> = alive(sim)
        .filter(|(_, node)| node.serving())
        .map(|(id, node)| (id, node.view()))
        .collect();
    for (i, &(a, view)) in serving.iter().enumerate() {
        if let Some(&(b, _)) = serving[i + 1..].iter().find(|&&(_, v)| v == view) {
            return Err(Violation::new(
                format!(
                    "{} and {} both serve clients as the primary of view {view}",
                    sim.node_name(a),
                    sim.node_name(b)
                ),
                vec![a, b],
            ));
        }
    }
    Ok(())
}

/// A backup applies only what its primary forwarded, after the primary made it durable.
pub(super) fn backup_not_ahead(sim: &Sim<PrimaryBackup>) -> Result<(), Violation> {
    for (b, backup) in alive(sim).filter(|(_, node)| node.is_backup()) {
        let p = backup.primary_of(backup.view());
        let Some(primary) = sim.node(p).state() else {
            continue;
        };
        if primary.view() == backup.view() && backup.op() > primary.op() {
            return Err(Violation::new(
                format!(
                    "{}, backup of view {}, holds {} operations but its primary {} only {}",
                    sim.node_name(b),
                    backup.view(),
                    backup.op(),
                    sim.node_name(p),
                    primary.op()
                ),
                vec![b, p],
            ));
        }
    }
    Ok(())
}

/// What a primary answered, its backup held; the backup started the next view from it.
pub(super) fn acknowledged_ops_kept(sim: &Sim<PrimaryBackup>) -> Result<(), Violation> {
    for (p, primary) in alive(sim).filter(|(_, node)| node.serving()) {
        for (a, node) in alive(sim) {
            let Some((op, view)) = node.answered() else {
                continue;
            };
            if view < primary.view() && op > primary.op() {
                return Err(Violation::new(
                    format!(
                        "{} serves view {} holding {} operations, but {} had answered a client \
                         for operation {op} in view {view}: acknowledged operations were lost",
                        sim.node_name(p),
                        primary.view(),
                        primary.op(),
                        sim.node_name(a)
                    ),
                    vec![p, a],
                ));
            }
        }
    }
    Ok(())
}

/// Once faults are over, the backup of the newest view must have taken over and found its
/// own backup.
pub(super) fn primary_serving(sim: &Sim<PrimaryBackup>) -> Result<(), Violation> {
    let Some((_, newest)) = alive(sim).max_by_key(|(_, node)| node.view()) else {
        return Err(Violation::new("every node is down", Vec::new()));
    };
    let view = newest.view();
    let p = newest.primary_of(view);
    let problem = match sim.node(p) {
        NodeView::Down => "is down".to_string(),
        NodeView::Paused(_) => "is paused".to_string(),
        NodeView::Up(node) if node.view() != view => {
            format!("is still in view {}", node.view())
        }
        NodeView::Up(node) if !node.serving() => {
            "has not heard from its backup that it joined the view".to_string()
        }
        NodeView::Up(_) => return Ok(()),
    };
    Err(Violation::new(
        format!(
            "the newest view is {view}, but its primary {} {problem}",
            sim.node_name(p)
        ),
        vec![p],
    ))
}
