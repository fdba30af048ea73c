//! `broadcast`: gossip that brings every value to every live node.
//!
//! Each node originates a few values, one every `broadcast_interval`. A node that learns a new
//! value, by originating it or from a peer, forwards it once to every peer (flooding). Because
//! flooding alone loses values to drops and partitions, every node also sends a digest of the
//! values it knows to one random peer every `gossip_interval` (anti-entropy), so any value that
//! one live node knows eventually reaches the others. Known values are synced to storage before
//! they are forwarded, so a restarted node recovers them.

use super::{BugDoc, ParamDoc, Protocol};
use crate::check::{Property, PropertyDigest, Violation};
use crate::engine::{NodeView, Sim};
use crate::process::{Ctx, NodeId, Process, TimerId};
use crate::protocol::{check_at_least, check_at_most};
use crate::storage::Storage;
use crate::time::SimDuration;
use rand::RngExt;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

mod clients;
#[cfg(test)]
mod tests;

pub use clients::CLIENT_BASE;

/// Value `k` of node index `i` is `i × VALUE_STRIDE + k`, so values are unique across nodes
/// and their origin can be read off the number.
pub const VALUE_STRIDE: u64 = 1_000_000;
/// Most values one node may originate (well below [`VALUE_STRIDE`]).
pub const VALUES_PER_NODE_MAX: u64 = 10_000;
/// Most values in one message; a digest larger than this is sent in turns.
pub const GOSSIP_VALUES_MAX: usize = 64;
/// Shortest interval: zero would fire timers forever without simulated time passing.
pub const INTERVAL_MIN: SimDuration = SimDuration::from_millis(1);

const KEY_ORIGINATED: &str = "originated";
const KEY_VALUE_PREFIX: &str = "value/";

/// `params:` of the broadcast protocol.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Values each node originates.
    pub values_per_node: u64,
    /// Time between two values originated by one node, on its own clock.
    pub broadcast_interval: SimDuration,
    /// Time between two digests a node sends to a random peer, on its own clock.
    pub gossip_interval: SimDuration,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            values_per_node: 3,
            broadcast_interval: SimDuration::from_millis(500),
            gossip_interval: SimDuration::from_millis(200),
        }
    }
}

const PARAM_DOCS: &[ParamDoc] = &[
    ParamDoc {
        name: "values_per_node",
        default: "3",
        meaning: "values each node originates (at most 10000); value k of node index i is \
                  i*1000000 + k",
    },
    ParamDoc {
        name: "broadcast_interval",
        default: "500ms",
        meaning: "time between two values a node originates, the first one interval after it \
                  starts (at least 1ms)",
    },
    ParamDoc {
        name: "gossip_interval",
        default: "200ms",
        meaning: "time between two digests of known values a node sends to one random peer \
                  (at least 1ms)",
    },
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Bug {
    NoRetransmit,
    ForgetOnRestart,
}

const BUG_DOCS: &[BugDoc] = &[
    BugDoc {
        name: "no-retransmit",
        description: "nodes never send digests, only the one-time flood when they first learn \
                      a value, so a value whose flood was dropped or cut off by a partition \
                      never reaches some nodes; exposed by a partition (or `drop:`)",
        violates: "all_delivered",
    },
    BugDoc {
        name: "forget-on-restart",
        description: "nodes keep the values they know only in memory (the count of values \
                      they originated is still durable), so a node that crashes before its \
                      new value got out restarts without it and nobody can deliver it; \
                      exposed by isolating a node, then crashing and restarting it",
        violates: "all_delivered",
    },
];

impl Bug {
    fn from_name(name: &str) -> Option<Bug> {
        match name {
            "no-retransmit" => Some(Bug::NoRetransmit),
            "forget-on-restart" => Some(Bug::ForgetOnRestart),
            _ => None,
        }
    }
}

/// What broadcast nodes send each other.
#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// Values the sender just learned, sent once to every peer.
    Flood { values: Vec<u64> },
    /// Part of what the sender knows, sent periodically to one random peer.
    Gossip { values: Vec<u64> },
}

/// What broadcast timers carry.
#[derive(Clone, Debug, Hash)]
pub enum Tick {
    /// Time to originate the next value.
    Originate,
    /// Time to send a digest to a random peer.
    Gossip,
}

/// One broadcast node.
#[derive(Clone, Debug, Hash)]
pub struct Broadcast {
    id: NodeId,
    values_per_node: u64,
    broadcast_interval: SimDuration,
    gossip_interval: SimDuration,
    bug: Option<Bug>,
    known: BTreeSet<u64>,
    /// How many values this node has originated, over all its incarnations.
    originated: u64,
    /// Where the next digest starts, so digests larger than a message take turns.
    digest_from: u64,
}

/// The value number `k` of node `origin`.
pub fn value_of(origin: NodeId, k: u64) -> u64 {
    u64::from(origin.0) * VALUE_STRIDE + k
}

/// How many values `origin` has originated, as its storage records durably.
fn originated_by(sim: &Sim<Broadcast>, origin: NodeId) -> u64 {
    read_u64(sim.storage(origin), KEY_ORIGINATED)
        .unwrap_or(0)
        .min(VALUES_PER_NODE_MAX)
}

fn read_u64(storage: &Storage, key: &str) -> Option<u64> {
    let bytes: [u8; 8] = storage.get(key)?.try_into().ok()?;
    Some(u64::from_le_bytes(bytes))
}

impl Broadcast {
    fn persists_values(&self) -> bool {
        self.bug != Some(Bug::ForgetOnRestart)
    }

    fn recover(&mut self, storage: &Storage) {
        self.originated = read_u64(storage, KEY_ORIGINATED).unwrap_or(0);
        let values = storage
            .keys()
            .into_iter()
            .filter_map(|key| key.strip_prefix(KEY_VALUE_PREFIX)?.parse::<u64>().ok());
        self.known.extend(values);
    }

    fn originate(&mut self, ctx: &mut Ctx<'_, Self>) {
        let value = value_of(self.id, self.originated);
        self.originated += 1;
        // Durable before the value leaves: the property counts what the origin recorded.
        ctx.storage()
            .put(KEY_ORIGINATED, self.originated.to_le_bytes());
        self.learn(ctx, &[value]);
        if self.originated < self.values_per_node {
            ctx.set_timer(self.broadcast_interval, Tick::Originate);
        }
    }

    /// Keeps the values not known yet, makes them durable, and floods them to every peer.
    fn learn(&mut self, ctx: &mut Ctx<'_, Self>, values: &[u64]) {
        let fresh: Vec<u64> = values
            .iter()
            .take(GOSSIP_VALUES_MAX)
            .copied()
            .filter(|&v| self.known.insert(v))
            .collect();
        if self.persists_values() {
            for v in &fresh {
                ctx.storage()
                    .put(&format!("{KEY_VALUE_PREFIX}{v}"), Vec::new());
            }
        }
        if ctx.storage().unsynced_writes() > 0 {
            ctx.storage().sync();
        }
        if !fresh.is_empty() {
            ctx.broadcast(Msg::Flood { values: fresh });
        }
    }

    fn gossip(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.set_timer(self.gossip_interval, Tick::Gossip);
        if self.known.is_empty() {
            return;
        }
        let Some(peer) = ctx.random_peer() else {
            return;
        };
        let values = self.digest();
        ctx.send(peer, Msg::Gossip { values });
    }

    /// Up to [`GOSSIP_VALUES_MAX`] known values, starting where the last digest stopped and
    /// wrapping around, so every value is sent in turn however many there are.
    fn digest(&mut self) -> Vec<u64> {
        let mut values: Vec<u64> = self
            .known
            .range(self.digest_from..)
            .take(GOSSIP_VALUES_MAX)
            .copied()
            .collect();
        let room = GOSSIP_VALUES_MAX - values.len();
        values.extend(self.known.range(..self.digest_from).take(room));
        self.digest_from = values.last().map_or(0, |v| v.saturating_add(1));
        values
    }
}

impl Process for Broadcast {
    type Message = Msg;
    type Timer = Tick;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if ctx.is_restart() {
            self.recover(ctx.storage());
        }
        if self.originated < self.values_per_node {
            ctx.set_timer(self.broadcast_interval, Tick::Originate);
        }
        if self.bug != Some(Bug::NoRetransmit) {
            // A random phase, so that nodes started together do not gossip in lockstep.
            let phase = ctx.rng().random_range(0..=self.gossip_interval.0);
            ctx.set_timer(SimDuration(phase), Tick::Gossip);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, _from: NodeId, msg: Msg) {
        let (Msg::Flood { values } | Msg::Gossip { values }) = msg;
        self.learn(ctx, &values);
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _timer: TimerId, tag: Tick) {
        match tag {
            Tick::Originate => self.originate(ctx),
            Tick::Gossip => self.gossip(ctx),
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: crate::workload::Request) {
        self.serve(ctx, request);
    }
}

impl Protocol for Broadcast {
    const NAME: &'static str = "broadcast";
    const SUMMARY: &'static str =
        "gossip with flooding and anti-entropy: every value reaches every live node";
    type Params = Params;

    const PARAM_DOCS: &'static [ParamDoc] = PARAM_DOCS;
    const BUG_DOCS: &'static [BugDoc] = BUG_DOCS;

    fn workloads() -> &'static [crate::workload::Model] {
        &[crate::workload::Model::Set]
    }

    const CHECK_DIGESTS: &'static [PropertyDigest<Self>] = DIGESTS;

    fn properties() -> Vec<Property<Self>> {
        vec![
            Property::always(
                "no_invention",
                "every value a node knows was originated by some node",
                check_no_invention,
            ),
            Property::at_end(
                "all_delivered",
                "every value any node originated is known by every node that is \
                              up at the end",
                check_all_delivered,
            ),
        ]
    }

    fn check_params(params: &Params, _node_count: u32) -> Result<(), String> {
        check_at_most(
            "values_per_node",
            params.values_per_node,
            VALUES_PER_NODE_MAX,
        )?;
        check_at_least(
            "broadcast_interval",
            params.broadcast_interval,
            INTERVAL_MIN,
        )?;
        check_at_least("gossip_interval", params.gossip_interval, INTERVAL_MIN)
    }

    fn new(id: NodeId, node_count: u32, params: &Params, bug: Option<&'static str>) -> Self {
        if let Err(e) = Self::check_params(params, node_count) {
            panic!("{}: {e}", Self::NAME);
        }
        let bug = bug.map(|name| {
            Bug::from_name(name).unwrap_or_else(|| panic!("broadcast has no bug variant `{name}`"))
        });
        Broadcast {
            id,
            values_per_node: params.values_per_node,
            broadcast_interval: params.broadcast_interval,
            gossip_interval: params.gossip_interval,
            bug,
            known: BTreeSet::new(),
            originated: 0,
            digest_from: 0,
        }
    }
    /// How many values the node knows and has originated.
    fn summary(&self) -> crate::Summary {
        crate::Summary::new()
            .field("known", self.known.len())
            .field("originated", self.originated)
    }
}

impl Broadcast {
    /// The values this node knows, in order.
    pub fn known(&self) -> &BTreeSet<u64> {
        &self.known
    }
}

/// The whole check, after a fault or when several nodes changed: each node's values against
/// the origins it knows values of, O((nodes + pairs known) · log values), where a pair is a
/// node and an origin whose values it knows. The violation reported is the one of the lowest
/// origin, then the lowest node, then values of no node, then client elements.
fn check_no_invention(sim: &Sim<Broadcast>) -> Result<(), Violation> {
    let first = sim
        .nodes()
        .filter_map(|(id, view)| {
            let node = view.state()?;
            let origin = invented_origins(sim, node).next()?;
            Some((origin, id, node))
        })
        .min_by_key(|&(origin, id, _)| (origin, id));
    if let Some((origin, id, node)) = first {
        return invented_from(sim, id, node, origin);
    }
    for (id, view) in sim.nodes() {
        if let Some(node) = view.state() {
            invented_beyond(sim, id, node)?;
        }
    }
    clients::check_client_elements(sim)
}

/// `no_invention` for what involves node `id`, after only its digest changed: its values
/// against the origins it knows values of. What an origin originated and what clients
/// invoked only grow in a handler (a restart, which reloads them, is a fault and checks the
/// whole), so no other node's values can have become invented.
fn check_no_invention_of(sim: &Sim<Broadcast>, id: NodeId) -> Result<(), Violation> {
    let Some(node) = sim.node(id).state() else {
        return Ok(());
    };
    if let Some(origin) = invented_origins(sim, node).next() {
        return invented_from(sim, id, node, origin);
    }
    invented_beyond(sim, id, node)?;
    clients::check_client_elements_of(sim, id, node)
}

/// What `no_invention` reads of a node: its known values, which a handler only adds to (so
/// their count changes with them), and how many it originated.
fn no_invention_digest(node: &Broadcast) -> u64 {
    node.known.len() as u64 ^ node.originated.rotate_left(32)
}

const DIGESTS: &[PropertyDigest<Broadcast>] = &[PropertyDigest {
    property: "no_invention",
    digest: no_invention_digest,
    check_node: Some(check_no_invention_of),
}];

/// The origins of which `node` knows a value the origin never originated, lowest first.
fn invented_origins<'a>(
    sim: &'a Sim<Broadcast>,
    node: &'a Broadcast,
) -> impl Iterator<Item = NodeId> + 'a {
    highest_per_origin(node, sim.node_count())
        .filter(move |&(origin, v)| v - value_of(origin, 0) >= originated_by(sim, origin))
        .map(|(origin, _)| origin)
}

/// Each existing origin whose values `node` knows, lowest first, with the highest of those
/// values: two range queries an origin, skipping the origins it knows nothing of.
fn highest_per_origin(node: &Broadcast, node_count: u32) -> impl Iterator<Item = (NodeId, u64)> {
    let end = u64::from(node_count) * VALUE_STRIDE;
    let mut from = 0;
    std::iter::from_fn(move || {
        let &lowest = node.known.range(from..end).next()?;
        let origin = NodeId((lowest / VALUE_STRIDE) as u32);
        from = value_of(origin, 0) + VALUE_STRIDE;
        let &highest = node.known.range(lowest..from).next_back()?;
        Some((origin, highest))
    })
}

/// A value of `origin` that node `id` knows though `origin` never originated it.
fn invented_from(
    sim: &Sim<Broadcast>,
    id: NodeId,
    node: &Broadcast,
    origin: NodeId,
) -> Result<(), Violation> {
    let low = value_of(origin, 0);
    let Some(&v) = node.known.range(low..low + VALUE_STRIDE).next_back() else {
        return Ok(());
    };
    let originated = originated_by(sim, origin);
    if v - low < originated {
        return Ok(());
    }
    Err(Violation::new(
        format!(
            "{} knows value {v}, which would be value {} of {}, but {} has originated only \
             {originated} value(s)",
            sim.node_name(id),
            v - low,
            sim.node_name(origin),
            sim.node_name(origin)
        ),
        vec![id, origin],
    ))
}

/// A value of a node that does not exist.
fn invented_beyond(sim: &Sim<Broadcast>, id: NodeId, node: &Broadcast) -> Result<(), Violation> {
    let node_count = u64::from(sim.node_count());
    let Some(&v) = node
        .known
        .range(node_count * VALUE_STRIDE..clients::CLIENT_BASE)
        .next()
    else {
        return Ok(());
    };
    Err(Violation::new(
        format!(
            "{} knows value {v}, which no node could have originated: there are only \
             {node_count} nodes",
            sim.node_name(id)
        ),
        vec![id],
    ))
}

fn check_all_delivered(sim: &Sim<Broadcast>) -> Result<(), Violation> {
    // Crashed and paused nodes are excluded: neither could have caught up.
    let live: Vec<(NodeId, &Broadcast)> = sim
        .nodes()
        .filter_map(|(id, view)| match view {
            NodeView::Up(node) => Some((id, node)),
            NodeView::Paused(_) | NodeView::Down => None,
        })
        .collect();
    let (mut missing_total, mut originated_total) = (0u64, 0u64);
    let mut first: Option<(u64, NodeId, Vec<NodeId>)> = None;
    for origin in sim.node_ids() {
        let originated = originated_by(sim, origin);
        originated_total += originated;
        for k in 0..originated {
            let value = value_of(origin, k);
            let lacking = live.iter().filter(|(_, node)| !node.known.contains(&value));
            if lacking.clone().next().is_none() {
                continue;
            }
            missing_total += 1;
            if first.is_none() {
                first = Some((value, origin, lacking.map(|&(id, _)| id).collect()));
            }
        }
    }
    let Some((value, origin, lacking)) = first else {
        return clients::check_client_elements_delivered(sim);
    };
    let names: Vec<&str> = lacking.iter().map(|&id| sim.node_name(id)).collect();
    let origin_name = sim.node_name(origin);
    let what = if lacking.len() < live.len() {
        format!(
            "value {value} (originated by {origin_name}) never reached {}",
            names.join(", ")
        )
    } else if lacking.contains(&origin) {
        format!(
            "no live node knows value {value}, which {origin_name} originated ({origin_name} itself lost it)"
        )
    } else {
        format!("no live node knows value {value}, which {origin_name} originated")
    };
    let mut nodes = lacking;
    if !nodes.contains(&origin) {
        nodes.push(origin);
    }
    Err(Violation::new(
        format!(
            "{what}; {missing_total} of {originated_total} originated values are missing on \
             some live node"
        ),
        nodes,
    ))
}
