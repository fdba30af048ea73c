//! Which events happened where, and which earlier event each one directly depends on.
//!
//! Every node is a host, and so is every simulated client (`c0`, `c1`, ...): a
//! client's `invoke` and `complete` are its own events, while `request`, `reply` and
//! `request_lost` happen at the node. Faults are events of the node the trace names for them
//! (for a partition, the first node of the cut). An event depends on the previous event of its
//! host and, when it receives something, on the event that sent it:
//!
//! - `deliver` and `hold` of message `m`, and a `drop` of `m` on arrival at the receiver,
//!   receive the `send` of `m`, or the `duplicate` whose `copy_id` is `m`;
//! - a `request` (or `request_lost`) receives the op's `invoke`, or, after a redirect, the
//!   `reply` that redirected it (the client's resend leaves no event of its own);
//! - a `complete` receives the op's last `reply`, when there is one (a timeout has none).

use super::capture::Captured;
use crate::process::NodeId;
use crate::trace::{OpNumbers, TraceKind, client_name};
use std::collections::BTreeMap;

/// An event's index in the trace.
pub type EventIndex = usize;

/// The most events a trace can have to be explained: indices are kept as `u32`, with
/// `u32::MAX` meaning "none", so a dependency costs 4 bytes, not 16.
pub const EVENTS_MAX: usize = u32::MAX as usize - 1;

const NONE: u32 = u32::MAX;

/// The hosts of a run and the direct dependencies of each event: 12 bytes an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Causality {
    /// Node names, then one `cN` per client that appears in the trace.
    pub hosts: Vec<String>,
    /// The ops' numbers in the clients' history, which every output names them by.
    pub ops: OpNumbers,
    /// How many of `hosts` are nodes.
    pub node_count: usize,
    host_of: Vec<u32>,
    local_pred: Vec<u32>,
    remote_pred: Vec<u32>,
    /// The last event of each host.
    last_on_host: Vec<u32>,
}

fn some(i: u32) -> Option<EventIndex> {
    (i != NONE).then_some(i as usize)
}

fn packed(i: Option<EventIndex>) -> u32 {
    i.map_or(NONE, |i| i as u32)
}

/// What is still open while the trace is scanned: messages by id, ops by (client, seq).
#[derive(Default)]
struct Open {
    sent: BTreeMap<u64, EventIndex>,
    /// The op's last event that passes it on (its invoke, or its latest reply).
    op_last: BTreeMap<(u32, u32), EventIndex>,
    op_replied: BTreeMap<(u32, u32), EventIndex>,
}

impl Causality {
    /// Works out hosts and dependencies for `events`, a whole trace in order.
    pub fn new(events: &[Captured], node_names: &[String]) -> Causality {
        assert!(
            events.len() <= EVENTS_MAX,
            "a trace to explain fits u32 indices"
        );
        let clients = events
            .iter()
            .filter_map(|c| match c.event.kind {
                TraceKind::Invoke { client, .. } => Some(client as usize + 1),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        let nodes = events
            .iter()
            .map(|c| c.event.node.index() + 1)
            .max()
            .unwrap_or(0)
            .max(node_names.len());
        let mut hosts: Vec<String> = (0..nodes)
            .map(|n| {
                node_names
                    .get(n)
                    .cloned()
                    .unwrap_or_else(|| NodeId(n as u32).to_string())
            })
            .collect();
        hosts.extend((0..clients).map(|c| client_name(c as u32)));
        let mut causality = Causality {
            hosts,
            node_count: nodes,
            ops: OpNumbers::default(),
            host_of: Vec::with_capacity(events.len()),
            local_pred: Vec::with_capacity(events.len()),
            remote_pred: Vec::with_capacity(events.len()),
            last_on_host: Vec::new(),
        };
        causality.last_on_host = vec![NONE; causality.hosts.len()];
        let mut open = Open::default();
        for (i, c) in events.iter().enumerate() {
            assert_eq!(
                c.event.index, i as u64,
                "events are a whole trace, in order"
            );
            let host = causality.host(&c.event.kind, c.event.node);
            causality.host_of.push(host as u32);
            causality.local_pred.push(causality.last_on_host[host]);
            causality.last_on_host[host] = i as u32;
            causality.ops.read(&c.event.kind);
            let remote = open.step(i, c);
            causality.remote_pred.push(packed(remote));
        }
        causality
    }

    fn host(&self, kind: &TraceKind, node: NodeId) -> usize {
        match *kind {
            TraceKind::Invoke { client, .. } | TraceKind::Complete { client, .. } => {
                self.node_count + client as usize
            }
            _ => node.index(),
        }
    }

    /// The host of event `i`, by name.
    pub fn host_name(&self, i: EventIndex) -> &str {
        &self.hosts[self.host_of(i)]
    }

    /// The host of event `i` (an index into [`Causality::hosts`]).
    pub fn host_of(&self, i: EventIndex) -> usize {
        self.host_of[i] as usize
    }

    /// The previous event on the same host.
    pub fn local_pred(&self, i: EventIndex) -> Option<EventIndex> {
        some(self.local_pred[i])
    }

    /// The event `i` receives from (a send, an invoke, a reply), on another host or not.
    pub fn remote_pred(&self, i: EventIndex) -> Option<EventIndex> {
        some(self.remote_pred[i])
    }

    /// The last event of `host` at or before event `at`: a walk back along the host's own
    /// events, so its cost is the host's events after `at`, not the trace's.
    pub fn latest_on_host(&self, host: usize, at: EventIndex) -> Option<EventIndex> {
        let mut cur = some(*self.last_on_host.get(host)?);
        while let Some(i) = cur.filter(|&i| i > at) {
            cur = self.local_pred(i);
        }
        cur
    }

    pub fn len(&self) -> usize {
        self.host_of.len()
    }

    pub fn is_empty(&self) -> bool {
        self.host_of.is_empty()
    }
}

impl Open {
    /// Notes what event `i` opens and returns what it receives.
    fn step(&mut self, i: EventIndex, c: &Captured) -> Option<EventIndex> {
        let node = c.event.node;
        match c.event.kind {
            TraceKind::Send { msg_id, .. } => {
                self.sent.insert(msg_id, i);
                None
            }
            TraceKind::Duplicate { copy_id, .. } => {
                self.sent.insert(copy_id, i);
                None
            }
            // A held message is delivered later; a delivery or a drop on arrival is its end,
            // so what stays open is what is in flight.
            TraceKind::Hold { msg_id, .. } => self.sent.get(&msg_id).copied(),
            TraceKind::Deliver { msg_id, .. } => self.sent.remove(&msg_id),
            TraceKind::Drop {
                from, to, msg_id, ..
            } if node == to && from != to => self.sent.remove(&msg_id),
            TraceKind::Invoke { client, seq } => {
                self.op_last.insert((client, seq), i);
                None
            }
            TraceKind::Request { client, seq } | TraceKind::RequestLost { client, seq } => {
                self.op_last.get(&(client, seq)).copied()
            }
            TraceKind::Reply { client, seq } => {
                self.op_last.insert((client, seq), i);
                self.op_replied.insert((client, seq), i);
                None
            }
            TraceKind::Complete { client, seq, .. } => {
                self.op_last.remove(&(client, seq));
                self.op_replied.remove(&(client, seq))
            }
            _ => None,
        }
    }
}
