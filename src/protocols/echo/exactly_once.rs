//! `exactly_once` as a monitor: an index from each sequence number to the request it answered,
//! kept by the checker, so that an event costs a lookup or two whatever the number of
//! clients.
//!
//! A number given to two requests can sit in two clients, which no one client can notice
//! alone; comparing every client's answers with every other's after each event cost
//! O(clients²) lookups. The monitor adds each answer to its index when the client records it
//! and drops a client's answers when the client is seen down, so the index holds exactly the
//! answers of the clients whose state is visible (up or paused): the answers the property
//! judges.

use super::{Client, Echo, SERVER};
use crate::check::{Monitor, PropertyDigest, Violation};
use crate::engine::{Sim, Touched};
use crate::process::NodeId;
use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

/// Every sequence number the visible clients were answered with, and which request of which
/// client it answered (the first, as recorded); per node, the answers taken in so far.
#[derive(Default)]
pub(super) struct ExactlyOnce {
    answered: BTreeMap<u64, (NodeId, u64)>,
    /// Per node: the (request, seq) pairs of its current incarnation taken into `answered`,
    /// in the order it recorded them, so that they can be dropped when it goes down.
    taken: Vec<Vec<(u64, u64)>>,
}

impl Monitor<Echo> for ExactlyOnce {
    fn observe(&mut self, sim: &Sim<Echo>, touched: Touched) -> Result<(), Violation> {
        let count = sim.node_count();
        if self.taken.len() != count as usize {
            self.taken = vec![Vec::new(); count as usize];
        }
        for id in touched.nodes(count) {
            match sim.node(id).state().and_then(Echo::client) {
                Some(client) => self.take_in(sim, id, client)?,
                // Down (or the server, which holds no answers): its answers are gone.
                None => self.forget(id),
            }
        }
        Ok(())
    }
}

impl ExactlyOnce {
    /// Takes in what client `id` recorded since it was last observed.
    fn take_in(&mut self, sim: &Sim<Echo>, id: NodeId, client: &Client) -> Result<(), Violation> {
        if let Some(c) = client.conflict {
            return Err(two_answers(sim, id, c));
        }
        let recorded = client.answers.len();
        let taken = self.taken[id.index()].len();
        if recorded == taken {
            return Ok(());
        }
        // A handler records at most one answer, its client's latest; anything else (fewer
        // answers than taken: a new incarnation) is taken in afresh, in request order.
        let latest = client.latest.filter(|_| recorded == taken + 1);
        match latest {
            Some((req, seq)) => self.take(sim, id, req, seq),
            None => {
                self.forget(id);
                client
                    .answers
                    .iter()
                    .try_for_each(|(&req, &seq)| self.take(sim, id, req, seq))
            }
        }
    }

    /// Adds client `id`'s answer `seq` to request `req`; a violation if another request
    /// holds that number.
    fn take(&mut self, sim: &Sim<Echo>, id: NodeId, req: u64, seq: u64) -> Result<(), Violation> {
        self.taken[id.index()].push((req, seq));
        match self.answered.entry(seq) {
            Entry::Vacant(slot) => {
                slot.insert((id, req));
                Ok(())
            }
            Entry::Occupied(held) => {
                let (other, other_req) = *held.get();
                let (a, b) = match other <= id {
                    true => ((other, other_req), (id, req)),
                    false => ((id, req), (other, other_req)),
                };
                Err(reused_seq(sim, seq, a, b))
            }
        }
    }

    /// Drops every answer of node `id`: it is down, or starts afresh.
    fn forget(&mut self, id: NodeId) {
        for (req, seq) in self.taken[id.index()].drain(..) {
            if self.answered.get(&seq) == Some(&(id, req)) {
                self.answered.remove(&seq);
            }
        }
    }
}

/// What [`ExactlyOnce`] reads of a node: a client's answers, which a handler only adds to
/// (so their count changes with them), and whether it saw two answers to one request. The
/// server's events, most of the run's, leave it unchanged, so the monitor is not called.
fn answers_digest(node: &Echo) -> u64 {
    node.client().map_or(0, |c| {
        c.answers.len() as u64 | u64::from(c.conflict.is_some()) << 63
    })
}

pub(super) const DIGESTS: &[PropertyDigest<Echo>] = &[PropertyDigest {
    property: "exactly_once",
    digest: answers_digest,
    check_node: None,
}];

/// One request answered with two different numbers.
#[cold]
#[inline(never)]
fn two_answers(sim: &Sim<Echo>, id: NodeId, c: super::Conflict) -> Violation {
    Violation::new(
        format!(
            "{} got two different answers for its request {}: seq {} and seq {}",
            sim.node_name(id),
            c.req,
            c.first_seq,
            c.second_seq
        ),
        vec![id, SERVER],
    )
}

/// Two requests answered with the same sequence number.
#[cold]
#[inline(never)]
fn reused_seq(
    sim: &Sim<Echo>,
    seq: u64,
    (a, req_a): (NodeId, u64),
    (b, req_b): (NodeId, u64),
) -> Violation {
    let mut nodes = vec![a];
    if b != a {
        nodes.push(b);
    }
    nodes.push(SERVER);
    Violation::new(
        format!(
            "{}'s request {req_a} and {}'s request {req_b} were both answered with seq {seq}: \
             the server gave the same number to two different requests",
            sim.node_name(a),
            sim.node_name(b)
        ),
        nodes,
    )
}
