//! An explored state as data: every node (its process, storage, clock and pending timers), the
//! messages in flight, and how much of each fault budget the path to it spent.
//!
//! States share what they have in common: a node is behind an `Arc` and copied only when an
//! event changes it, and so is each message. A state's fingerprint is kept up to date event by
//! event from per-node hashes and a sum over the messages, so that the order in which
//! messages were sent does not tell two states apart.

use super::clients::ModelClients;
use crate::engine::ModelTimer;
use crate::ids::NodeId;
use crate::linearizability::fxhash::mix64;
use crate::protocol::Protocol;
use crate::storage::Storage;
use crate::time::SimTime;
use crate::trace::content_hash;
use std::sync::Arc;

/// One node of an explored state.
pub(crate) struct Slot<P: Protocol> {
    /// `None` while the node is down.
    pub(crate) proc: Option<P>,
    pub(crate) storage: Option<Arc<Storage>>,
    pub(crate) timers: Vec<ModelTimer<P::Timer>>,
    /// The id the node's next timer gets; not part of the fingerprint, since ids only ever
    /// matter by being equal or not.
    pub(crate) timer_next: u32,
    /// The node's clock: it moves only when one of its timers fires, to the time it was due.
    pub(crate) clock: SimTime,
    pub(crate) starts: u32,
    /// The storage's fingerprint, recomputed only when a handler touched the storage.
    pub(crate) storage_hash: u64,
    /// The hash of all of the above but `timer_next`.
    pub(crate) hash: u64,
}

impl<P: Protocol> Clone for Slot<P> {
    fn clone(&self) -> Self {
        Slot {
            proc: self.proc.clone(),
            storage: self.storage.clone(),
            timers: self.timers.clone(),
            timer_next: self.timer_next,
            clock: self.clock,
            starts: self.starts,
            storage_hash: self.storage_hash,
            hash: self.hash,
        }
    }
}

impl<P: Protocol> Slot<P> {
    /// Recomputes [`Slot::hash`] after a change; with `storage_changed`, the storage's too.
    pub(crate) fn rehash(&mut self, storage_changed: bool) {
        if storage_changed {
            self.storage_hash = self.storage.as_deref().map_or(0, Storage::fingerprint);
        }
        self.hash = mix64(content_hash(&(
            &self.proc,
            self.storage_hash,
            &self.timers,
            self.clock,
            self.starts,
        )));
    }
}

/// A message in flight.
#[derive(Debug)]
pub(crate) struct Envelope<M> {
    pub(crate) from: NodeId,
    pub(crate) to: NodeId,
    pub(crate) msg: M,
    /// Its hash, with sender and receiver: equal hashes are taken for equal messages.
    pub(crate) hash: u64,
}

impl<M: std::hash::Hash> Envelope<M> {
    pub(crate) fn new(from: NodeId, to: NodeId, msg: M) -> Self {
        let hash = mix64(content_hash(&(from, to, &msg)));
        Envelope {
            from,
            to,
            msg,
            hash,
        }
    }
}

/// How much of each budget a path spent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct Spent {
    pub(crate) timers: u32,
    pub(crate) drops: u32,
    pub(crate) duplicates: u32,
    pub(crate) crashes: u32,
    pub(crate) timeouts: u32,
}

/// A state of the whole system.
pub(crate) struct State<P: Protocol> {
    pub(crate) nodes: Vec<Arc<Slot<P>>>,
    /// In flight, ordered by hash, so that equal multisets are equal vectors.
    pub(crate) net: Vec<Arc<Envelope<P::Message>>>,
    /// The sum of the hashes in `net`.
    pub(crate) net_sum: u64,
    pub(crate) spent: Spent,
    /// The monitors' ghost state on the path to this state (shared until an event is
    /// observed), and its hash.
    pub(crate) monitors: Option<Arc<Monitors<P>>>,
    pub(crate) monitor_hash: u64,
    /// The clients and their history, when the scenario has a workload.
    pub(crate) clients: Option<Arc<ModelClients>>,
    /// Events from the initial state on the path the state was reached by (not part of the
    /// fingerprint): event k of a path happens at k ms of the clients' history and the
    /// trace.
    pub(crate) depth: u32,
}

/// The monitors an explored state carries, in the order of the judge's list.
pub(crate) type Monitors<P> = Vec<Box<dyn crate::check::Monitor<P> + Send + Sync>>;

/// What one event changes in a state: at most one node, the messages in flight, the budgets.
pub(crate) struct Delta<P: Protocol> {
    /// The node the event ran on, as it is afterwards.
    pub(crate) node: Option<(NodeId, Slot<P>)>,
    /// The message the event took out of flight.
    pub(crate) removed: Option<u32>,
    /// The messages it sent.
    pub(crate) added: Vec<Envelope<P::Message>>,
    pub(crate) spent: Spent,
    /// The clients, if the event changed them.
    pub(crate) clients: Option<ModelClients>,
}

impl<P: Protocol> Clone for State<P> {
    fn clone(&self) -> Self {
        State {
            nodes: self.nodes.clone(),
            net: self.net.clone(),
            net_sum: self.net_sum,
            spent: self.spent,
            monitors: self.monitors.clone(),
            monitor_hash: self.monitor_hash,
            clients: self.clients.clone(),
            depth: self.depth,
        }
    }
}

impl<P: Protocol> State<P> {
    /// The state's fingerprint: what the search keeps of a state it has seen.
    pub(crate) fn fingerprint(&self) -> u64 {
        let hashes = self.nodes.iter().map(|s| s.hash);
        let ghosts = self.monitor_hash ^ self.clients_hash();
        fingerprint(&self.spent, hashes, self.net_sum ^ ghosts)
    }

    /// The hash of the clients and their history (0 without clients).
    fn clients_hash(&self) -> u64 {
        self.clients.as_ref().map_or(0, |c| c.hash.rotate_left(41))
    }

    /// The fingerprint of the state `delta` leads to, without building it.
    pub(crate) fn fingerprint_after(&self, delta: &Delta<P>) -> u64 {
        let changed = delta
            .node
            .as_ref()
            .map(|(id, slot)| (id.index(), slot.hash));
        let hashes = self.nodes.iter().enumerate().map(|(i, s)| match changed {
            Some((at, hash)) if at == i => hash,
            _ => s.hash,
        });
        let removed = delta.removed.map_or(0, |i| self.net[i as usize].hash);
        let added = delta
            .added
            .iter()
            .fold(0u64, |sum, e| sum.wrapping_add(e.hash));
        let net_sum = self.net_sum.wrapping_sub(removed).wrapping_add(added);
        let clients = match &delta.clients {
            Some(c) => c.hash.rotate_left(41),
            None => self.clients_hash(),
        };
        fingerprint(&delta.spent, hashes, net_sum ^ self.monitor_hash ^ clients)
    }

    /// The state `delta` leads to.
    pub(crate) fn with(&self, delta: Delta<P>) -> State<P> {
        let mut next = self.clone();
        next.spent = delta.spent;
        next.depth += 1;
        if let Some(i) = delta.removed {
            let gone = next.net.remove(i as usize);
            next.net_sum = next.net_sum.wrapping_sub(gone.hash);
        }
        for envelope in delta.added {
            next.push_message(envelope);
        }
        if let Some((id, slot)) = delta.node {
            next.nodes[id.index()] = Arc::new(slot);
        }
        if let Some(clients) = delta.clients {
            next.clients = Some(Arc::new(clients));
        }
        next
    }

    /// Puts a message in flight, keeping the order by hash.
    pub(crate) fn push_message(&mut self, envelope: Envelope<P::Message>) {
        self.net_sum = self.net_sum.wrapping_add(envelope.hash);
        let at = self.net.partition_point(|e| e.hash <= envelope.hash);
        self.net.insert(at, Arc::new(envelope));
    }

    /// Nothing left to happen but faults and client invocations: every node up, no message
    /// in flight, no timer pending, no redirected request waiting. A run could end here, so
    /// end-state properties are judged.
    pub(crate) fn quiescent(&self) -> bool {
        let resends = self
            .clients
            .as_deref()
            .is_some_and(|c| (0..c.count()).any(|client| c.resend_to(client).is_some()));
        self.net.is_empty()
            && !resends
            && self
                .nodes
                .iter()
                .all(|s| s.proc.is_some() && s.timers.is_empty())
    }

    /// When the next event happens, for the clients' history and the trace.
    pub(crate) fn next_event_time(&self) -> SimTime {
        SimTime::from_millis(u64::from(self.depth) + 1)
    }

    /// The latest clock of any node: what the properties see as the time.
    pub(crate) fn time(&self) -> SimTime {
        self.nodes
            .iter()
            .map(|s| s.clock)
            .max()
            .unwrap_or(SimTime::ZERO)
    }
}

/// A state's fingerprint from its parts: the budgets spent, each node's hash in order, and the
/// sum of the hashes of the messages in flight (a multiset: their order does not count).
fn fingerprint(spent: &Spent, nodes: impl Iterator<Item = u64>, net_sum: u64) -> u64 {
    let mut h = mix64(content_hash(spent));
    for hash in nodes {
        h = mix64(h ^ hash);
    }
    mix64(h ^ net_sum.rotate_left(17))
}
