//! `chord`: the Chord distributed hash table: the ring's maintenance (joins, stabilization,
//! successor lists, predecessor checks and finger tables) under crashes and partitions, and
//! the keys clients put and get, copied to the successors and handed over on joins (see
//! `store.rs`).
//!
//! Every node has an identifier on a circle of `2^id_bits` (a hash of its address, see
//! [`ring`]); the node responsible for an identifier is the first node at or clockwise after
//! it. A node knows its successor (the next node clockwise), a list of the `successors` nodes
//! after it, its predecessor, and `id_bits` fingers: finger `i` is the node responsible for
//! `id + 2^i`, so that a lookup halves its distance to the target at every hop.
//!
//! n1 creates the ring at its first start; every other node, and every node after a restart
//! (Chord keeps nothing on disk), joins by asking a node it knows for the successor of its own
//! identifier, trying each other node in turn until one in the ring answers. Nothing is
//! spliced in at once: every `stabilize_interval` a node asks its successor for that node's
//! predecessor, adopts it as successor when it lies between them, copies the successor's list
//! and tells the successor it may be its predecessor (notify). A successor that stays silent for
//! four rounds is taken for dead and the next of the list takes its place; a
//! predecessor silent for four pings is cleared, so that the node before it can
//! take its place. Every `fix_fingers_interval` one finger is looked up afresh. Lookups are
//! iterative: the asker hops from node to node, each answering with the owner when the target
//! lies between it and its successor, and otherwise with the closest node before the target
//! that it knows.
//!
//! A partition splits the ring into rings that stabilization alone never joins again: each
//! side's successor lists only hold nodes of its own side. Every `probe_interval` a node
//! therefore asks a random node for the successor of the identifier just after its own; an
//! answer closer than its successor is adopted, and stabilization splices the rings together
//! from there.

use super::{BugDoc, ParamDoc, Protocol};
use crate::check::Property;
use crate::process::{Ctx, NodeId, Process, TimerId};
use crate::time::{SimDuration, SimTime};
use crate::workload::{ClientOp, Model, Request, RequestId};
use rand::RngExt;
use std::collections::BTreeMap;

mod checks;
mod found;
mod lookup;
mod maintain;
mod params;
pub mod ring;
mod store;
#[cfg(test)]
mod store_tests;
#[cfg(test)]
mod tests;

use lookup::Lookup;
pub use params::{ID_BITS_MAX, ID_BITS_MIN, INTERVAL_MAX, INTERVAL_MIN, Params, SUCCESSORS_MAX};
use ring::Ring;
use store::PendingPut;

/// Rounds a successor or predecessor may leave silent before it is taken for dead: a few lost
/// messages must not evict a live node, whose place stabilization only gives back a few
/// rounds later.
pub const MISSES_MAX: u32 = 4;
/// Most lookups one node has under way at once (its own and its clients').
pub const LOOKUPS_MAX: usize = 64;
/// Most puts one node has waiting for their replicas at once.
pub const PUTS_MAX: usize = 64;
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Bug {
    SingleSuccessor,
    NoPredecessorCheck,
    NoHandover,
}

const BUG_DOCS: &[BugDoc] = &[
    BugDoc {
        name: "single-successor",
        description: "each node knows only its immediate successor, as in Chord without \
                      successor lists; when that node crashes and stays down, its \
                      predecessor knows no node after it and keeps asking the dead one, and \
                      the ring stays broken",
        violates: "ring_correct",
    },
    BugDoc {
        name: "no-predecessor-check",
        description: "a node never checks that its predecessor is alive; after the \
                      predecessor crashes for good, the node before it is refused as \
                      predecessor (it does not lie between the dead one and the node) and \
                      is handed the dead node back by stabilization, so the ring never \
                      closes over the gap",
        violates: "ring_correct",
    },
    BugDoc {
        name: "no-handover",
        description: "a node that joins (or rejoins after a restart) takes over the keys \
                      between its predecessor and itself, but its successor never hands \
                      them over: the new node answers gets for keys stored before it came \
                      as if they had never been put, while the old replicas still hold them",
        violates: "keys_found",
    },
];

impl Bug {
    fn from_name(name: &str) -> Option<Bug> {
        match name {
            "single-successor" => Some(Bug::SingleSuccessor),
            "no-predecessor-check" => Some(Bug::NoPredecessorCheck),
            "no-handover" => Some(Bug::NoHandover),
            _ => None,
        }
    }
}

/// What chord nodes send each other. Identifiers are positions on the circle; lookups are
/// numbered by the node that runs them.
#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// Asker → node: which node is responsible for `target`?
    FindSuccessor {
        lookup: u64,
        target: u64,
    },
    /// Node → asker: `node` is responsible for the target of `lookup`.
    Found {
        lookup: u64,
        node: NodeId,
    },
    /// Node → asker: ask `node`, which is closer to the target of `lookup`.
    Closer {
        lookup: u64,
        node: NodeId,
    },
    /// Node → its successor: what is your predecessor, and your successor list? `asked_at`
    /// is the asker's clock, given back with the answer.
    GetPredecessor {
        asked_at: SimTime,
    },
    /// Successor → node: its predecessor (with the number of times it changed) and its
    /// successor list.
    Predecessor {
        predecessor: Option<NodeId>,
        epoch: u64,
        successors: Vec<NodeId>,
        asked_at: SimTime,
    },
    /// Node → its successor: I may be your predecessor.
    Notify,
    /// Node → its predecessor: are you alive?
    Ping,
    /// Predecessor → node: alive.
    Pong,
    /// A client's node → the node responsible for `key`: store it, copy it to the replicas,
    /// then answer the client.
    Put {
        req: RequestId,
        key: u32,
        value: i64,
    },
    /// A client's node → the node responsible for `key` (or a node without it → the next):
    /// answer the client with the key's value; `hops` more nodes may be asked.
    Get {
        req: RequestId,
        key: u32,
        hops: u32,
    },
    /// The node responsible → a replica: keep this copy, and say so.
    Replicate {
        put: u64,
        key: u32,
        value: i64,
    },
    Replicated {
        put: u64,
    },
    /// A node → the nodes after it: copies of the keys it is responsible for.
    Push {
        items: Vec<(u32, i64)>,
    },
    /// A node → its successor, which has taken it as predecessor: hand over the keys that
    /// are not yours to keep (those outside the arc from me to you).
    Pull,
    /// Successor → node: the keys it asked for, whether they are all it should have, and
    /// how many times the successor's predecessor had changed.
    Keys {
        items: Vec<(u32, i64)>,
        complete: bool,
        epoch: u64,
    },
}

/// What chord timers carry.
#[derive(Clone, Debug, Hash)]
pub enum Tick {
    /// Stabilize with the successor and ping the predecessor (or try to join).
    Stabilize,
    /// Look up the next finger.
    FixFinger,
    /// Ask a random node for a closer successor.
    Probe,
    /// Hop `hops` of `lookup` got no answer in time.
    LookupTimeout { lookup: u64, hops: u32 },
    /// Copy the keys this node is responsible for to the replicas.
    Replicate,
    /// Put `put` still waits for some replica.
    PutTimeout { put: u64 },
}

/// Timer delays, from the params.
#[derive(Clone, Copy, Debug, Hash)]
struct Timing {
    stabilize: SimDuration,
    fix_fingers: SimDuration,
    probe: SimDuration,
    replicate: SimDuration,
    lookup_timeout: SimDuration,
}

/// One chord node.
#[derive(Clone, Debug, Hash)]
pub struct Chord {
    ring: Ring,
    me: NodeId,
    timing: Timing,
    successors_max: usize,
    bug: Option<Bug>,
    /// In the ring: created it, or a join lookup answered. A node out of the ring answers
    /// nothing, so that no node joins through it.
    joined: bool,
    /// The next nodes clockwise, nearest first; just this node when it is alone.
    successors: Vec<NodeId>,
    predecessor: Option<NodeId>,
    /// Finger `i`: the node responsible for `id + 2^i`, once looked up.
    fingers: Vec<Option<NodeId>>,
    finger_next: u32,
    /// Stabilization rounds the successor left unanswered, and whether one is awaited.
    successor_misses: u32,
    successor_asked: bool,
    /// Pings the predecessor left unanswered, and whether one is awaited.
    predecessor_misses: u32,
    predecessor_asked: bool,
    lookups: BTreeMap<u64, Lookup>,
    lookup_next: u64,
    /// The node a join tries next.
    contact_next: u32,
    /// Copies of each key, this node's included.
    replicas: usize,
    /// The keys this node holds, as responsible node or replica. Nothing is on disk: a
    /// restart starts empty. Keys are never dropped, so a node may hold more than it must.
    store: BTreeMap<u32, i64>,
    /// Counts the changes to `store`, so that a check sees at a glance whether it changed.
    store_version: u64,
    /// Clients' operations waiting for their lookup, by lookup.
    client_ops: BTreeMap<u64, (RequestId, ClientOp)>,
    /// Per client, the last put it sent here: a client runs one op at a time, numbered in
    /// order, so an older or equal number is a copy. A copy delayed past a crash and restart
    /// is not caught: it arrives at a node that has started again, and is refused while the
    /// node takes over its keys.
    put_seqs: BTreeMap<u32, u32>,
    /// Puts this node is responsible for that wait for their replicas, by number.
    puts: BTreeMap<u64, PendingPut>,
    put_next: u64,
    /// Holds every key of its arc (from its predecessor to itself): see [`store`].
    complete: bool,
    /// The successor that vouched for `complete`, and its predecessor epoch then.
    complete_from: Option<(NodeId, u64)>,
    /// Counts the changes of `predecessor`.
    predecessor_epoch: u64,
    /// Until when the successor's last answer naming this node vouches that no other node
    /// takes this node's keys.
    vouched_until: SimTime,
}

impl Chord {
    /// This node's identifier.
    pub fn id(&self) -> u64 {
        self.ring.id(self.me)
    }

    pub fn is_joined(&self) -> bool {
        self.joined
    }

    /// The successor list, nearest first (just this node when it is alone).
    pub fn successors(&self) -> &[NodeId] {
        &self.successors
    }

    pub fn successor(&self) -> NodeId {
        self.successors.first().copied().unwrap_or(self.me)
    }

    pub fn predecessor(&self) -> Option<NodeId> {
        self.predecessor
    }

    pub fn fingers(&self) -> &[Option<NodeId>] {
        &self.fingers
    }

    pub fn ring(&self) -> &Ring {
        &self.ring
    }

    /// The keys this node holds, with their values.
    pub fn store(&self) -> &BTreeMap<u32, i64> {
        &self.store
    }

    /// Changes whenever the store does.
    pub fn store_version(&self) -> u64 {
        self.store_version
    }
}

impl Chord {
    /// A message from `from` shows it is up and in the ring: the checks on it start over.
    fn heard_from(&mut self, from: NodeId) {
        if from == self.successor() {
            self.successor_misses = 0;
            self.successor_asked = false;
        }
        if self.predecessor == Some(from) {
            self.predecessor_misses = 0;
            self.predecessor_asked = false;
        }
    }
}

impl Process for Chord {
    type Message = Msg;
    type Timer = Tick;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        // Only the very first start of n1 makes a ring: a restarted n1 has forgotten it and
        // must join the ring the others kept, or there would be two.
        if self.me == NodeId(0) && !ctx.is_restart() {
            self.joined = true;
            // No key was put before the ring existed.
            self.complete = true;
            ctx.annotate("creates the ring");
        }
        let timing = self.timing;
        // A random phase per node, so that rounds of different nodes do not line up.
        for (interval, tick) in [
            (timing.stabilize, Tick::Stabilize),
            (timing.fix_fingers, Tick::FixFinger),
            (timing.probe, Tick::Probe),
            (timing.replicate, Tick::Replicate),
        ] {
            let phase = ctx.rng().random_range(0..=interval.0);
            ctx.set_timer(SimDuration(phase), tick);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        // A node rejoining after a restart asks for its own place while the ring still lists
        // its old self: that must not keep the old self alive in its neighbours' eyes.
        if !matches!(msg, Msg::FindSuccessor { .. }) {
            self.heard_from(from);
        }
        match msg {
            Msg::Found { lookup, node } => self.on_found(ctx, from, lookup, node),
            Msg::Closer { lookup, node } => self.on_closer(ctx, from, lookup, node),
            // A client's op is refused, not lost, by a node out of the ring.
            m @ (Msg::Put { .. } | Msg::Get { .. }) => self.on_store_message(ctx, from, m),
            // A node out of the ring answers nothing: its view of the ring is empty.
            _ if !self.joined => {}
            Msg::FindSuccessor { lookup, target } => {
                let reply = match self.route(target) {
                    lookup::Route::Found(node) => Msg::Found { lookup, node },
                    lookup::Route::Next(node) => Msg::Closer { lookup, node },
                };
                ctx.send(from, reply);
            }
            Msg::GetPredecessor { asked_at } => {
                let answer = Msg::Predecessor {
                    predecessor: self.predecessor,
                    epoch: self.predecessor_epoch,
                    successors: self.successors.clone(),
                    asked_at,
                };
                ctx.send(from, answer);
            }
            Msg::Predecessor {
                predecessor,
                epoch,
                successors,
                asked_at,
            } => {
                self.on_predecessor(ctx, from, (predecessor, epoch, asked_at), &successors);
            }
            Msg::Notify => self.on_notify(from),
            Msg::Ping => ctx.send(from, Msg::Pong),
            // Any message is a sign of life, counted above.
            Msg::Pong => {}
            _ => self.on_store_message(ctx, from, msg),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _timer: TimerId, tag: Tick) {
        match tag {
            Tick::Stabilize => {
                self.stabilize(ctx);
                ctx.set_timer(self.timing.stabilize, Tick::Stabilize);
            }
            Tick::FixFinger => {
                self.fix_finger(ctx);
                ctx.set_timer(self.timing.fix_fingers, Tick::FixFinger);
            }
            Tick::Probe => {
                self.probe(ctx);
                ctx.set_timer(self.timing.probe, Tick::Probe);
            }
            Tick::LookupTimeout { lookup, hops } => self.on_lookup_timeout(ctx, lookup, hops),
            Tick::Replicate => {
                self.push_replicas(ctx);
                ctx.set_timer(self.timing.replicate, Tick::Replicate);
            }
            Tick::PutTimeout { put } => self.on_put_timeout(ctx, put),
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: Request) {
        self.on_client(ctx, request);
    }
}

impl Protocol for Chord {
    const NAME: &'static str = "chord";
    const SUMMARY: &'static str = "the Chord distributed hash table: joins, stabilization, \
                                   successor lists, predecessor checks and finger tables, and \
                                   keys copied to the successors and handed over on joins, \
                                   under crashes and partitions";
    type Params = Params;

    const PARAM_DOCS: &'static [ParamDoc] = params::PARAM_DOCS;
    const BUG_DOCS: &'static [BugDoc] = BUG_DOCS;

    fn properties() -> Vec<Property<Self>> {
        vec![
            Property::always(
                "successors_ordered",
                "every node's successor list runs clockwise from it, nearest first, without \
                 repeats and without the node itself (unless it is alone)",
                checks::check_successors_ordered,
            ),
            Property::at_end(
                "ring_correct",
                "at the end, every node that is not down is in one ring: its successor is the \
                 next such node clockwise, and its predecessor the one before",
                checks::check_ring,
            ),
            Property::at_end(
                "fingers_correct",
                "at the end, every finger that is set, of every node that is not down, is \
                 the node responsible for its start (id + 2^i) among the nodes that are not \
                 down (a finger whose lookup failed is empty, and lookups route around it)",
                checks::check_fingers,
            ),
            Property::monitor(
                "keys_found",
                "a get finds its key when a put of it was acknowledged before the get began, \
                 unless since then every node holding the key was down or paused at once, or \
                 the ring was split",
                found::monitor,
            ),
        ]
    }

    fn check_params(params: &Params, node_count: u32) -> Result<(), String> {
        params::check(params, node_count)
    }

    fn workloads() -> &'static [Model] {
        &[Model::Dht]
    }

    fn new(id: NodeId, node_count: u32, params: &Params, bug: Option<&'static str>) -> Self {
        if let Err(e) = Self::check_params(params, node_count) {
            panic!("{}: {e}", Self::NAME);
        }
        let bug = bug.map(|name| {
            Bug::from_name(name).unwrap_or_else(|| panic!("chord has no bug variant `{name}`"))
        });
        let successors_max = if bug == Some(Bug::SingleSuccessor) {
            1
        } else {
            params.successors as usize
        };
        Chord {
            ring: Ring::new(params.id_bits, node_count),
            me: id,
            timing: Timing {
                stabilize: params.stabilize_interval,
                fix_fingers: params.fix_fingers_interval,
                probe: params.probe_interval,
                replicate: params.replicate_interval,
                lookup_timeout: params.lookup_timeout,
            },
            successors_max,
            bug,
            joined: false,
            successors: vec![id],
            predecessor: None,
            fingers: vec![None; params.id_bits as usize],
            finger_next: 0,
            successor_misses: 0,
            successor_asked: false,
            predecessor_misses: 0,
            predecessor_asked: false,
            lookups: BTreeMap::new(),
            lookup_next: 0,
            contact_next: 0,
            replicas: params.replica_count() as usize,
            store: BTreeMap::new(),
            store_version: 0,
            client_ops: BTreeMap::new(),
            put_seqs: BTreeMap::new(),
            puts: BTreeMap::new(),
            put_next: 0,
            complete: false,
            complete_from: None,
            predecessor_epoch: 0,
            vouched_until: SimTime::ZERO,
        }
    }
    /// Successor, predecessor and how many fingers are filled, or that it has not joined.
    fn summary(&self) -> crate::Summary {
        let name = |n: Option<&NodeId>| n.map_or_else(|| "-".to_string(), NodeId::to_string);
        let summary = crate::Summary::new();
        if !self.joined {
            return summary.field("joined", "no");
        }
        summary
            .field("succ", name(self.successors.first()))
            .field("pred", name(self.predecessor.as_ref()))
            .field("fingers", self.fingers.iter().flatten().count())
            .field("keys", self.store.len())
    }
}
