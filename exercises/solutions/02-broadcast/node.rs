//! Exercise 2, broadcast: every node keeps a set of elements, and every element added at any
//! node must end up at every node.
//!
//! Reference solution. The node a client adds an element at takes charge of delivering it:
//! it keeps, for each peer, the elements that peer has not confirmed yet, and on every tick
//! sends each peer those elements in one message, until the peer acknowledges them. A peer
//! that receives elements stores them and acknowledges exactly those. Nothing is sent to a
//! peer that lacks nothing, so a quiet cluster is silent, and a busy one sends one message per
//! peer per tick however many elements were added in between.

use faultline::check::Property;
use faultline::history::Value;
use faultline::protocol::{BugDoc, ParamDoc};
use faultline::workload::{ClientOp, Model, Reply, Request};
use faultline::{Ctx, NodeId, Process, Protocol, SimDuration, TimerId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// How often a node sends each peer what it has not confirmed. Short enough that elements
/// spread well before the final reads, long enough that an acknowledgement over a slow link
/// usually arrives before the next tick would send the same elements again.
const TICK: SimDuration = SimDuration::from_millis(100);

/// `params:` in a scenario: the protocol has none, so a scenario that sets one is an error.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Params {}

/// What nodes send each other.
#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// Elements added at the sender that the receiver has not confirmed yet.
    Elements { elements: Vec<i64> },
    /// The receiver of `Elements` holds these now: the sender may stop sending them.
    Ack { elements: Vec<i64> },
}

/// What a node's timers carry.
#[derive(Clone, Debug, Hash)]
pub enum Tick {
    /// Time to send each peer the elements it has not confirmed.
    Resend,
}

/// One node. Its `Debug` is what `run --html run.html --states` shows of it; `Clone` and `Hash`
/// let faultline copy a node's state and recognise one it has seen, so keep them derived.
#[derive(Clone, Debug, Hash)]
pub struct GossipSet {
    /// The elements this node holds.
    elements: BTreeSet<i64>,
    /// By node index: the elements added here that the node has not acknowledged. This
    /// node's own entry stays empty.
    unconfirmed: Vec<BTreeSet<i64>>,
}

impl GossipSet {
    fn send_unconfirmed(&mut self, ctx: &mut Ctx<'_, Self>) {
        for peer in ctx.peers() {
            let Some(pending) = self.unconfirmed.get(peer.index()) else {
                continue;
            };
            if !pending.is_empty() {
                let elements = pending.iter().copied().collect();
                ctx.send(peer, Msg::Elements { elements });
            }
        }
    }
}

impl Process for GossipSet {
    type Message = Msg;
    type Timer = Tick;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        // A random phase, so that the nodes' ticks do not all fall at the same instants.
        let phase = ctx.random_duration(SimDuration::from_millis(0)..=TICK);
        ctx.set_timer(phase, Tick::Resend);
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Elements { elements } => {
                self.elements.extend(elements.iter().copied());
                // Acknowledged every time, also for elements already held: the earlier
                // acknowledgement may be the one that was lost.
                ctx.send(from, Msg::Ack { elements });
            }
            Msg::Ack { elements } => {
                if let Some(pending) = self.unconfirmed.get_mut(from.index()) {
                    for element in &elements {
                        pending.remove(element);
                    }
                }
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _timer: TimerId, tag: Tick) {
        match tag {
            Tick::Resend => {
                self.send_unconfirmed(ctx);
                ctx.set_timer(TICK, Tick::Resend);
            }
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: Request) {
        let reply = match request.op {
            ClientOp::Add { value } => {
                // Elements are acknowledged at once and spread on the next tick: waiting for
                // every peer would leave the client waiting out every partition.
                if self.elements.insert(value) {
                    for peer in ctx.peers() {
                        if let Some(pending) = self.unconfirmed.get_mut(peer.index()) {
                            pending.insert(value);
                        }
                    }
                }
                Reply::Ok(Value::Nil)
            }
            ClientOp::Read { .. } => Reply::Ok(Value::List(
                self.elements.iter().map(|&e| Value::Int(e)).collect(),
            )),
            _ => Reply::Fail("this node serves only add and read"),
        };
        ctx.reply(request.id, reply);
    }
}

impl Protocol for GossipSet {
    const NAME: &'static str = "gossip-set";
    const SUMMARY: &'static str =
        "a set every node can add to, gossiped to every node through loss and partitions";
    type Params = Params;
    const PARAM_DOCS: &'static [ParamDoc] = &[];
    const BUG_DOCS: &'static [BugDoc] = &[];

    fn workloads() -> &'static [Model] {
        &[Model::Set]
    }

    fn properties() -> Vec<Property<Self>> {
        // The clients' history is checked by `set_full`, which the `set` workload adds.
        Vec::new()
    }

    fn new(_id: NodeId, node_count: u32, _params: &Params, _bug: Option<&'static str>) -> Self {
        GossipSet {
            elements: BTreeSet::new(),
            unconfirmed: vec![BTreeSet::new(); node_count as usize],
        }
    }
}
