//! The protocol side of the simulator: the [`Process`] trait and the [`Ctx`] a process acts through.
//!
//! A process is a plain state machine (sans-IO). The engine calls its handlers one at a time; a
//! handler reacts by sending messages, setting timers, drawing random numbers or writing to
//! durable storage through the context. Nothing else is needed: no async runtime, no threads.

use crate::engine::Core;
use crate::rng::SimRng;
use crate::storage::Storage;
use crate::time::{SimDuration, SimTime};
use crate::workload::{Reply, Request, RequestId};
use std::fmt;
use std::hash::Hash;

/// A node of the simulation, by index (`0..node_count`).
///
/// Both `Display` and `Debug` print the default node name, 1-based like the trace's: `NodeId(0)`
/// prints as `n1`. A derived `Debug` of a message that carries node ids then reads like the
/// rest of the trace (`Vote { from: n2 }`); `.0` and [`NodeId::index`] still give the index.
///
/// ```
/// use faultline::NodeId;
/// assert_eq!(format!("{:?}", NodeId(0)), "n1");
/// assert_eq!(format!("{:?}", Some(NodeId(2))), "Some(n3)");
/// assert_eq!(NodeId(2).to_string(), "n3");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize)]
pub struct NodeId(pub u32);

impl NodeId {
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for NodeId {
    /// The default node name, `n1` for index 0. Scenarios may give other names; see
    /// [`crate::Sim::node_name`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0 + 1)
    }
}

impl fmt::Debug for NodeId {
    /// The same as `Display`. Debug output never feeds a hash: the trace hashes contents
    /// through `Hash`, which still sees the plain index.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A timer set by [`Ctx::set_timer`]; pass it to [`Ctx::cancel_timer`] to cancel it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimerId {
    pub(crate) slot: u32,
    pub(crate) generation: u32,
}

/// A protocol node: a deterministic state machine driven by the engine.
///
/// Messages are moved, never cloned, except to duplicate them on the network or to
/// [`Ctx::broadcast`]. `Hash` on messages feeds the trace hash, so two runs that send
/// different contents have different hashes; `Debug` renders them in the trace.
pub trait Process: Sized {
    /// What nodes send each other.
    type Message: Clone + fmt::Debug + Hash;
    /// What a timer carries back to its node when it fires.
    type Timer: fmt::Debug + Hash;

    /// Called when the node boots, and again after every restart ([`Ctx::is_restart`]).
    /// A restarted node is built anew; it recovers by reading [`Ctx::storage`].
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>);

    /// Called for every message delivered to this node.
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Self::Message);

    /// Called when a timer set by this node fires (unless cancelled, or the node crashed).
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: TimerId, tag: Self::Timer);

    /// Called when a client's request reaches this node (see [`crate::workload`]). Answer it
    /// with [`Ctx::reply`], now or later. By default a protocol serves no clients and
    /// refuses every request.
    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: Request) {
        ctx.reply(request.id, Reply::Fail("this protocol serves no clients"));
    }
}

/// What a handler can do. Borrowed for the duration of one handler call.
pub struct Ctx<'a, P: Process> {
    pub(crate) id: NodeId,
    pub(crate) core: &'a mut Core<P>,
    pub(crate) node: &'a mut crate::engine::NodeRuntime,
}

impl<P: Process> Ctx<'_, P> {
    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// How many nodes the simulation has (ids `0..node_count`).
    pub fn node_count(&self) -> u32 {
        self.core.node_count()
    }

    /// Every node but this one, in id order.
    pub fn peers(&self) -> impl Iterator<Item = NodeId> + use<P> {
        let me = self.id;
        (0..self.core.node_count())
            .map(NodeId)
            .filter(move |&n| n != me)
    }

    /// A peer chosen uniformly at random with this node's rng, or `None` on a one-node cluster.
    pub fn random_peer(&mut self) -> Option<NodeId> {
        use rand::RngExt;
        let n = self.core.node_count();
        if n < 2 {
            return None;
        }
        let pick = self.node.rng.random_range(0..n - 1);
        Some(NodeId(if pick >= self.id.0 { pick + 1 } else { pick }))
    }

    /// The name of a node as the scenario gave it (`n1`, `n2`, ... by default).
    pub fn node_name(&self, id: NodeId) -> &str {
        self.core.node_name(id)
    }

    /// Now, on this node's own clock (which may be skewed, drift, or jump).
    pub fn now(&self) -> SimTime {
        self.node.clock.local(self.core.now())
    }

    /// Whether this start is a restart after a crash (recover from [`Ctx::storage`]).
    pub fn is_restart(&self) -> bool {
        self.node.starts > 1
    }

    /// Sends `msg` to `to` over the simulated network.
    ///
    /// # Panics
    /// If `to` is not a node of the simulation.
    pub fn send(&mut self, to: NodeId, msg: P::Message) {
        self.core.send(self.id, to, msg);
    }

    /// Sends a copy of `msg` to every peer.
    pub fn broadcast(&mut self, msg: P::Message) {
        let n = self.core.node_count();
        for to in (0..n).map(NodeId).filter(|&to| to != self.id) {
            self.core.send(self.id, to, msg.clone());
        }
    }

    /// Fires `on_timer(tag)` after `delay` as measured by this node's clock.
    pub fn set_timer(&mut self, delay: SimDuration, tag: P::Timer) -> TimerId {
        let true_delay = self.node.clock.true_delay(delay);
        self.core
            .set_timer(self.id, self.node.epoch, true_delay, tag)
    }

    /// Cancels a pending timer. Returns false if it already fired or was cancelled.
    pub fn cancel_timer(&mut self, timer: TimerId) -> bool {
        self.core.cancel_timer(self.id, timer)
    }

    /// This node's random stream, seeded from the run's seed and the node's id.
    pub fn rng(&mut self) -> &mut SimRng {
        &mut self.node.rng
    }

    /// This node's durable storage; unsynced writes are lost on a crash.
    pub fn storage(&mut self) -> &mut Storage {
        &mut self.node.storage
    }

    /// Answers a client's request. The reply crosses the client link; a client that has
    /// given up on the request (timed out) ignores it.
    pub fn reply(&mut self, request: RequestId, reply: Reply) {
        self.core.reply(self.id, request, reply);
    }

    /// Writes a note into the trace (and the trace hash) at the current event.
    pub fn annotate(&mut self, note: impl fmt::Display) {
        self.core.annotate(self.id, note);
    }
}
