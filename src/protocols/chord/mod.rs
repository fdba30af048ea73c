//! `chord`: the Chord distributed hash table's ring maintenance: joins, stabilization,
//! successor lists, predecessor checks and finger tables, under crashes and partitions.
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
use crate::protocol::check_range;
use crate::time::SimDuration;
use rand::RngExt;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

mod checks;
mod lookup;
mod maintain;
pub mod ring;
#[cfg(test)]
mod tests;

use lookup::Lookup;
use ring::Ring;

/// Rounds a successor or predecessor may leave silent before it is taken for dead: a few lost
/// messages must not evict a live node, whose place stabilization only gives back a few
/// rounds later.
pub const MISSES_MAX: u32 = 4;
/// Most lookups one node has under way at once.
pub const LOOKUPS_MAX: usize = 64;
/// Longest successor list.
pub const SUCCESSORS_MAX: u32 = 16;
/// Identifier bits: at least 3, at most 63 (a `u64` circle).
pub const ID_BITS_MIN: u32 = 3;
pub const ID_BITS_MAX: u32 = 63;
/// Shortest timer delay: zero would fire timers forever without simulated time passing.
pub const INTERVAL_MIN: SimDuration = SimDuration::from_millis(1);
/// Longest interval or timeout a parameter may set.
pub const INTERVAL_MAX: SimDuration = SimDuration::from_secs(3600);

/// `params:` of the chord protocol.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// The circle has `2^id_bits` identifiers; each node has `id_bits` fingers.
    pub id_bits: u32,
    /// Length of each node's successor list.
    pub successors: u32,
    /// Time between two rounds of stabilization (and of predecessor pings).
    pub stabilize_interval: SimDuration,
    /// Time between two finger lookups; each looks up the next finger in turn.
    pub fix_fingers_interval: SimDuration,
    /// Time between two probes of a random node for a closer successor.
    pub probe_interval: SimDuration,
    /// How long one hop of a lookup may take before the lookup is given up.
    pub lookup_timeout: SimDuration,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            id_bits: 16,
            successors: 3,
            stabilize_interval: SimDuration::from_millis(50),
            fix_fingers_interval: SimDuration::from_millis(20),
            probe_interval: SimDuration::from_millis(250),
            lookup_timeout: SimDuration::from_millis(100),
        }
    }
}

const PARAM_DOCS: &[ParamDoc] = &[
    ParamDoc {
        name: "id_bits",
        default: "16",
        meaning: "the identifier circle has 2^id_bits places and every node id_bits fingers \
                  (3 to 63, and 2^id_bits at least the node count)",
    },
    ParamDoc {
        name: "successors",
        default: "3",
        meaning: "length of each node's successor list: the ring survives that many \
                  neighbours failing at once, less one (1 to 16)",
    },
    ParamDoc {
        name: "stabilize_interval",
        default: "50ms",
        meaning: "time between two rounds of stabilization and predecessor pings; four \
                  silent rounds make a neighbour taken for dead (1ms to 3600s)",
    },
    ParamDoc {
        name: "fix_fingers_interval",
        default: "20ms",
        meaning: "time between two finger lookups, each for the next finger in turn \
                  (1ms to 3600s)",
    },
    ParamDoc {
        name: "probe_interval",
        default: "250ms",
        meaning: "time between two probes of a random node for a closer successor, which \
                  join rings a partition split (1ms to 3600s)",
    },
    ParamDoc {
        name: "lookup_timeout",
        default: "100ms",
        meaning: "how long one hop of a lookup may go unanswered before the lookup is given \
                  up and the silent node dropped from the fingers (1ms to 3600s)",
    },
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Bug {
    SingleSuccessor,
    NoPredecessorCheck,
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
];

impl Bug {
    fn from_name(name: &str) -> Option<Bug> {
        match name {
            "single-successor" => Some(Bug::SingleSuccessor),
            "no-predecessor-check" => Some(Bug::NoPredecessorCheck),
            _ => None,
        }
    }
}

/// What chord nodes send each other. Identifiers are positions on the circle; lookups are
/// numbered by the node that runs them.
#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// Asker → node: which node is responsible for `target`?
    FindSuccessor { lookup: u64, target: u64 },
    /// Node → asker: `node` is responsible for the target of `lookup`.
    Found { lookup: u64, node: NodeId },
    /// Node → asker: ask `node`, which is closer to the target of `lookup`.
    Closer { lookup: u64, node: NodeId },
    /// Node → its successor: what is your predecessor, and your successor list?
    GetPredecessor,
    /// Successor → node: its predecessor and its successor list.
    Predecessor {
        predecessor: Option<NodeId>,
        successors: Vec<NodeId>,
    },
    /// Node → its successor: I may be your predecessor.
    Notify,
    /// Node → its predecessor: are you alive?
    Ping,
    /// Predecessor → node: alive.
    Pong,
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
}

/// Timer delays, from the params.
#[derive(Clone, Copy, Debug, Hash)]
struct Timing {
    stabilize: SimDuration,
    fix_fingers: SimDuration,
    probe: SimDuration,
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
            ctx.annotate("creates the ring");
        }
        let timing = self.timing;
        // A random phase per node, so that rounds of different nodes do not line up.
        for (interval, tick) in [
            (timing.stabilize, Tick::Stabilize),
            (timing.fix_fingers, Tick::FixFinger),
            (timing.probe, Tick::Probe),
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
            // A node out of the ring answers nothing: its view of the ring is empty.
            _ if !self.joined => {}
            Msg::FindSuccessor { lookup, target } => {
                let reply = match self.route(target) {
                    lookup::Route::Found(node) => Msg::Found { lookup, node },
                    lookup::Route::Next(node) => Msg::Closer { lookup, node },
                };
                ctx.send(from, reply);
            }
            Msg::GetPredecessor => {
                let successors = self.successors.clone();
                let predecessor = self.predecessor;
                ctx.send(
                    from,
                    Msg::Predecessor {
                        predecessor,
                        successors,
                    },
                );
            }
            Msg::Predecessor {
                predecessor,
                successors,
            } => {
                self.on_predecessor(ctx, from, predecessor, &successors);
            }
            Msg::Notify => self.on_notify(from),
            Msg::Ping => ctx.send(from, Msg::Pong),
            // Any message is a sign of life, counted above.
            Msg::Pong => {}
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
            Tick::LookupTimeout { lookup, hops } => self.on_lookup_timeout(lookup, hops),
        }
    }
}

impl Protocol for Chord {
    const NAME: &'static str = "chord";
    const SUMMARY: &'static str = "the Chord ring: joins, stabilization, successor lists, \
                                   predecessor checks and finger tables under crashes and \
                                   partitions";
    type Params = Params;

    const PARAM_DOCS: &'static [ParamDoc] = PARAM_DOCS;
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
        ]
    }

    fn check_params(params: &Params, node_count: u32) -> Result<(), String> {
        check_range("id_bits", params.id_bits, ID_BITS_MIN, ID_BITS_MAX)?;
        if u64::from(node_count) > 1u64 << params.id_bits {
            return Err(format!(
                "`id_bits` is {}: a circle of {} identifiers has no room for {node_count} nodes",
                params.id_bits,
                1u64 << params.id_bits
            ));
        }
        check_range("successors", params.successors, 1, SUCCESSORS_MAX)?;
        for (name, value) in [
            ("stabilize_interval", params.stabilize_interval),
            ("fix_fingers_interval", params.fix_fingers_interval),
            ("probe_interval", params.probe_interval),
            ("lookup_timeout", params.lookup_timeout),
        ] {
            check_range(name, value, INTERVAL_MIN, INTERVAL_MAX)?;
        }
        Ok(())
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
    }
}
