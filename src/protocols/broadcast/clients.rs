//! Broadcast as a set service: clients add elements (each is broadcast like an originated
//! value) and read the elements a node knows. The history is checked like Jepsen's set-full.
//!
//! Client element `e` travels as the value `CLIENT_BASE + e`, above every node's range, so
//! that node-originated values and client elements never collide; reads return only the
//! client elements.

use super::Broadcast;
use crate::check::Violation;
use crate::engine::{NodeView, Sim};
use crate::history::Value;
use crate::process::{Ctx, NodeId};
use crate::workload::{ClientOp, Reply, Request};

/// Where client elements start among broadcast values.
pub const CLIENT_BASE: u64 = 1 << 62;

impl Broadcast {
    /// Serves a set client: `add` stores and floods the element before acknowledging it.
    pub(super) fn serve(&mut self, ctx: &mut Ctx<'_, Self>, request: Request) {
        let reply = match request.op {
            ClientOp::Add { value } if value >= 0 => {
                // `learn` syncs the element to storage before it floods it, so an
                // acknowledged element survives a crash of this node.
                self.learn(ctx, &[CLIENT_BASE + value as u64]);
                Reply::Ok(Value::Nil)
            }
            ClientOp::Add { .. } => Reply::Fail("set elements are at least 0"),
            ClientOp::Read { .. } => Reply::Ok(Value::List(
                self.client_elements()
                    .map(|e| Value::Int(e as i64))
                    .collect(),
            )),
            _ => Reply::Fail("broadcast serves only the set workload: add and read"),
        };
        ctx.reply(request.id, reply);
    }

    /// The client elements this node knows, in order.
    pub fn client_elements(&self) -> impl Iterator<Item = u64> + '_ {
        self.known.range(CLIENT_BASE..).map(|v| v - CLIENT_BASE)
    }
}

/// A client element is invented if no add could have carried it: elements are numbered from
/// 1 in invocation order, so none exceeds the number of ops invoked so far.
pub(super) fn check_client_elements(sim: &Sim<Broadcast>) -> Result<(), Violation> {
    for (id, view) in sim.nodes() {
        if let Some(node) = view.state() {
            check_client_elements_of(sim, id, node)?;
        }
    }
    Ok(())
}

/// The client elements node `id` knows were all added by some client.
pub(super) fn check_client_elements_of(
    sim: &Sim<Broadcast>,
    id: NodeId,
    node: &Broadcast,
) -> Result<(), Violation> {
    let invoked = sim.history().len() as u64;
    let Some(&v) = node.known.range(CLIENT_BASE..).next_back() else {
        return Ok(());
    };
    let element = v - CLIENT_BASE;
    if element > invoked {
        return Err(Violation::new(
            format!(
                "{} knows client element {element}, but clients have invoked only \
                 {invoked} operation(s)",
                sim.node_name(id)
            ),
            vec![id],
        ));
    }
    Ok(())
}

/// Every client element some live node knows is known by every live node.
pub(super) fn check_client_elements_delivered(sim: &Sim<Broadcast>) -> Result<(), Violation> {
    let live: Vec<(NodeId, &Broadcast)> = sim
        .nodes()
        .filter_map(|(id, view)| match view {
            NodeView::Up(node) => Some((id, node)),
            NodeView::Paused(_) | NodeView::Down => None,
        })
        .collect();
    for &(holder, node) in &live {
        for v in node.known.range(CLIENT_BASE..) {
            let lacking: Vec<NodeId> = live
                .iter()
                .filter(|(_, other)| !other.known.contains(v))
                .map(|&(id, _)| id)
                .collect();
            if !lacking.is_empty() {
                let names: Vec<&str> = lacking.iter().map(|&id| sim.node_name(id)).collect();
                let mut nodes = lacking.clone();
                nodes.push(holder);
                return Err(Violation::new(
                    format!(
                        "client element {} is known to {} but never reached {}",
                        v - CLIENT_BASE,
                        sim.node_name(holder),
                        names.join(", ")
                    ),
                    nodes,
                ));
            }
        }
    }
    Ok(())
}
