//! The protocol side of the engine: the [`Process`] trait and the [`Ctx`] a process acts
//! through (re-exported as [`crate::process`], where protocols find them).
//!
//! A process is a plain state machine (sans-IO). The engine calls its handlers one at a time; a
//! handler reacts by sending messages, setting timers, drawing random numbers or writing to
//! durable storage through the context. Nothing else is needed: no async runtime, no threads.

use super::effects::Effects;
use super::{Core, NodeRuntime};
use crate::ids::{NodeId, TimerId};
use crate::rng::SimRng;
use crate::services::{CallId, KvOp, Service, ServiceReply};
use crate::storage::Storage;
use crate::time::{SimDuration, SimTime};
use crate::workload::{Reply, Request, RequestId};
use std::fmt;
use std::hash::Hash;
use std::ops::{Bound, RangeBounds};

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

    /// Called when a provided service answers a call this node made with [`Ctx::call`] (see
    /// [`crate::services`]). An answer to a call made before a crash never arrives. By
    /// default a protocol calls no service and ignores answers.
    fn on_service_reply(&mut self, ctx: &mut Ctx<'_, Self>, reply: ServiceReply) {
        let _ = (ctx, reply);
    }
}

/// What a handler can do. Borrowed for the duration of one handler call.
pub struct Ctx<'a, P: Process> {
    pub(crate) id: NodeId,
    pub(crate) backend: Backend<'a, P>,
}

/// Who carries out what a handler does: the engine during a run, or the exhaustive explorer,
/// which keeps each node's runtime as data it can copy and hash. The match costs a run one
/// predictable branch per call.
pub(crate) enum Backend<'a, P: Process> {
    Engine {
        core: &'a mut Core<P>,
        node: &'a mut NodeRuntime,
    },
    Model(&'a mut Effects<P>),
}

impl<'a, P: Process> Ctx<'a, P> {
    /// A context on the engine, for node `id`.
    #[inline(always)]
    pub(crate) fn engine(id: NodeId, core: &'a mut Core<P>, node: &'a mut NodeRuntime) -> Self {
        Ctx {
            id,
            backend: Backend::Engine { core, node },
        }
    }

    /// A context on an explored state's node `id`.
    pub(crate) fn model(id: NodeId, effects: &'a mut Effects<P>) -> Self {
        Ctx {
            id,
            backend: Backend::Model(effects),
        }
    }
}

impl<P: Process> Ctx<'_, P> {
    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// How many nodes the simulation has (ids `0..node_count`).
    #[inline(always)]
    pub fn node_count(&self) -> u32 {
        match &self.backend {
            Backend::Engine { core, .. } => core.node_count(),
            Backend::Model(fx) => fx.node_count,
        }
    }

    /// Every node but this one, in id order.
    pub fn peers(&self) -> impl Iterator<Item = NodeId> + use<P> {
        let me = self.id;
        (0..self.node_count()).map(NodeId).filter(move |&n| n != me)
    }

    /// A peer chosen uniformly at random with this node's rng, or `None` on a one-node cluster.
    pub fn random_peer(&mut self) -> Option<NodeId> {
        use rand::RngExt;
        let n = self.node_count();
        if n < 2 {
            return None;
        }
        let pick = self.rng().random_range(0..n - 1);
        Some(NodeId(if pick >= self.id.0 { pick + 1 } else { pick }))
    }

    /// The name of a node as the scenario gave it (`n1`, `n2`, ... by default).
    #[inline(always)]
    pub fn node_name(&self, id: NodeId) -> &str {
        match &self.backend {
            Backend::Engine { core, .. } => core.node_name(id),
            Backend::Model(fx) => &fx.names[id.index()],
        }
    }

    /// Now, on this node's own clock (which may be skewed, drift, or jump).
    #[inline(always)]
    pub fn now(&self) -> SimTime {
        match &self.backend {
            Backend::Engine { core, node } => node.local_time(core.now()),
            Backend::Model(fx) => fx.now,
        }
    }

    /// Whether this start is a restart after a crash (recover from [`Ctx::storage`]).
    #[inline(always)]
    pub fn is_restart(&self) -> bool {
        match &self.backend {
            Backend::Engine { node, .. } => node.starts > 1,
            Backend::Model(fx) => fx.restart,
        }
    }

    /// Sends `msg` to `to` over the simulated network.
    ///
    /// # Panics
    /// If `to` is not a node of the simulation.
    #[inline(always)]
    pub fn send(&mut self, to: NodeId, msg: P::Message) {
        match &mut self.backend {
            Backend::Engine { core, .. } => core.send(self.id, to, msg),
            Backend::Model(fx) => fx.send(to, msg),
        }
    }

    /// Sends a copy of `msg` to every peer.
    pub fn broadcast(&mut self, msg: P::Message) {
        let (n, me) = (self.node_count(), self.id);
        for to in (0..n).map(NodeId).filter(|&to| to != me) {
            self.send(to, msg.clone());
        }
    }

    /// Fires `on_timer(tag)` after `delay` as measured by this node's clock.
    #[inline(always)]
    pub fn set_timer(&mut self, delay: SimDuration, tag: P::Timer) -> TimerId {
        match &mut self.backend {
            Backend::Engine { core, node } => {
                let true_delay = node.true_delay(delay);
                core.set_timer(self.id, node.epoch, true_delay, tag)
            }
            Backend::Model(fx) => fx.set_timer(delay, tag),
        }
    }

    /// Cancels a pending timer. Returns false if it already fired or was cancelled.
    #[inline(always)]
    pub fn cancel_timer(&mut self, timer: TimerId) -> bool {
        match &mut self.backend {
            Backend::Engine { core, .. } => core.cancel_timer(self.id, timer),
            Backend::Model(fx) => fx.cancel_timer(timer),
        }
    }

    /// This node's random stream, seeded from the run's seed and the node's id.
    ///
    /// Under exhaustive exploration the stream is seeded afresh for every handler call from
    /// the state it starts in, so that what a node draws is a function of the explored state.
    #[inline(always)]
    pub fn rng(&mut self) -> &mut SimRng {
        match &mut self.backend {
            Backend::Engine { core, .. } => core.rngs.get(self.id.0),
            Backend::Model(fx) => fx.rng(),
        }
    }

    /// A duration drawn uniformly from `range` with this node's random stream ([`Ctx::rng`]),
    /// e.g. a randomised election timeout. Both `a..b` (excluding `b`) and `a..=b` work, to the
    /// nanosecond; the same seed draws the same durations.
    ///
    /// It draws exactly what `ctx.rng().random_range(low..=high)` draws on the nanosecond
    /// counts, so a protocol can switch to it without changing its runs.
    ///
    /// ```
    /// use faultline::{Ctx, NodeId, Process, SimBuilder, SimDuration, SimTime, TimerId};
    ///
    /// /// Waits a random 150–300 ms, then notes when it woke up.
    /// #[derive(Default)]
    /// struct Sleeper {
    ///     woke_at: Option<SimTime>,
    /// }
    ///
    /// impl Process for Sleeper {
    ///     type Message = ();
    ///     type Timer = ();
    ///
    ///     fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
    ///         let timeout = SimDuration::from_millis(150)..SimDuration::from_millis(300);
    ///         let delay = ctx.random_duration(timeout);
    ///         ctx.set_timer(delay, ());
    ///     }
    ///
    ///     fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
    ///
    ///     fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _: TimerId, _: ()) {
    ///         self.woke_at = Some(ctx.now());
    ///     }
    /// }
    ///
    /// let mut sim = SimBuilder::new(7).nodes(2).build(|_| Sleeper::default())?;
    /// sim.run_until(SimTime::from_secs(1))?;
    /// let woke_at = sim.node(NodeId(0)).state().and_then(|s| s.woke_at).expect("woke up");
    /// assert!(woke_at >= SimTime::from_millis(150) && woke_at < SimTime::from_millis(300));
    /// # Ok::<(), faultline::SimError>(())
    /// ```
    ///
    /// # Panics
    /// If `range` is empty (`b..a` or `a..a`): like `rand`'s `random_range`, that is a mistake
    /// in the protocol, not something a run can recover from. The message names the range.
    pub fn random_duration(&mut self, range: impl RangeBounds<SimDuration>) -> SimDuration {
        use rand::RngExt;
        match inclusive_nanos(&range) {
            Some((low, high)) => SimDuration(self.rng().random_range(low..=high)),
            None => panic!(
                "Ctx::random_duration: the range {} is empty; its end must come after its start",
                show_range(&range)
            ),
        }
    }

    /// True with probability `p`, drawn with this node's random stream ([`Ctx::rng`]): e.g.
    /// `ctx.random_bool(0.1)` to act in one case out of ten. `0.0` is never true, `1.0` always.
    ///
    /// ```
    /// # use faultline::{Ctx, NodeId, Process, SimBuilder, SimTime, TimerId};
    /// # #[derive(Default)]
    /// # struct Flaky { sent: u32 }
    /// # impl Process for Flaky {
    /// #     type Message = ();
    /// #     type Timer = ();
    /// fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
    ///     // Each node greets each peer with probability 1/2.
    ///     for peer in ctx.peers().collect::<Vec<_>>() {
    ///         if ctx.random_bool(0.5) {
    ///             ctx.send(peer, ());
    ///             self.sent += 1;
    ///         }
    ///     }
    /// }
    /// #     fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
    /// #     fn on_timer(&mut self, _: &mut Ctx<'_, Self>, _: TimerId, _: ()) {}
    /// # }
    /// # let mut sim = SimBuilder::new(1).nodes(20).build(|_| Flaky::default())?;
    /// # sim.run_until(SimTime::from_secs(1))?;
    /// # let sent: u32 = sim.states().iter().flatten().map(|s| s.sent).sum();
    /// # assert!(sent > 100 && sent < 280, "{sent} of 380");
    /// # Ok::<(), faultline::SimError>(())
    /// ```
    ///
    /// # Panics
    /// If `p` is not a probability: below 0, above 1, or NaN (a mistake in the protocol). The
    /// message gives `p`.
    pub fn random_bool(&mut self, p: f64) -> bool {
        use rand::RngExt;
        assert!(
            (0.0..=1.0).contains(&p),
            "Ctx::random_bool: p = {p} is not a probability in [0, 1]"
        );
        self.rng().random_bool(p)
    }

    /// This node's durable storage; unsynced writes are lost on a crash.
    #[inline(always)]
    pub fn storage(&mut self) -> &mut Storage {
        match &mut self.backend {
            Backend::Engine { node, .. } => node.storage_mut(),
            Backend::Model(fx) => fx.storage_mut(),
        }
    }

    /// Answers a client's request. The reply crosses the client link; a client that has
    /// given up on the request (timed out) ignores it.
    #[inline(always)]
    pub fn reply(&mut self, request: RequestId, reply: Reply) {
        match &mut self.backend {
            Backend::Engine { core, .. } => core.reply(self.id, request, reply),
            Backend::Model(fx) => fx.reply(request, reply),
        }
    }

    /// Calls a provided service ([`crate::services`]): the call crosses the network, takes
    /// effect at the service, and its answer comes back to [`Process::on_service_reply`]
    /// with the [`CallId`] returned here. Either crossing may be lost, as any message may:
    /// a node that waits for an answer should ask again after a while.
    ///
    /// # Panics
    /// If the run does not provide `service` (the protocol's [`crate::Protocol::SERVICES`]
    /// names the services it calls), or under exhaustive exploration, which does not model
    /// services.
    pub fn call(&mut self, service: Service, op: KvOp) -> CallId {
        match &mut self.backend {
            Backend::Engine { core, node } => core.call(self.id, node.epoch, service, op),
            Backend::Model(_) => panic!(
                "a call to {service}: exhaustive exploration does not model the provided services"
            ),
        }
    }

    /// Writes a note into the trace (and the trace hash) at the current event.
    #[inline(always)]
    pub fn annotate(&mut self, note: impl fmt::Display) {
        match &mut self.backend {
            Backend::Engine { core, .. } => core.annotate(self.id, note),
            Backend::Model(fx) => fx.annotate(note),
        }
    }
}

/// `range` as the first and last nanosecond it contains, or `None` if it contains none.
fn inclusive_nanos(range: &impl RangeBounds<SimDuration>) -> Option<(u64, u64)> {
    let low = match range.start_bound() {
        Bound::Included(d) => d.0,
        Bound::Excluded(d) => d.0.checked_add(1)?,
        Bound::Unbounded => 0,
    };
    let high = match range.end_bound() {
        Bound::Included(d) => d.0,
        Bound::Excluded(d) => d.0.checked_sub(1)?,
        Bound::Unbounded => u64::MAX,
    };
    (low <= high).then_some((low, high))
}

/// `range` written as in Rust source, with durations in their units: `300ms..150ms`.
fn show_range(range: &impl RangeBounds<SimDuration>) -> String {
    let start = match range.start_bound() {
        Bound::Included(d) => d.to_string(),
        Bound::Excluded(d) => format!("(excluded) {d}"),
        Bound::Unbounded => String::new(),
    };
    match range.end_bound() {
        Bound::Included(d) => format!("{start}..={d}"),
        Bound::Excluded(d) => format!("{start}..{d}"),
        Bound::Unbounded => format!("{start}.."),
    }
}

#[cfg(test)]
#[path = "process_tests.rs"]
mod tests;
