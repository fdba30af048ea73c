//! The part of the simulation that handlers act on: queue, network, in-flight messages,
//! timers, statistics and trace. Kept apart from the processes so a handler can hold
//! `&mut` to its own process and to this at once.

use super::process::Process;
use super::queue::{EntryKind, EventQueue};
use super::slab::Slab;
use super::stats::Stats;
use crate::faults::MessageAction;
use crate::ids::{NodeId, TimerId};
use crate::net::{Network, Route};
use crate::time::{SimDuration, SimTime};
use crate::trace::{DropReason, TraceKind, Tracer, content_hash};
use crate::workload::{Clients, Reply, Request, RequestId};
use std::fmt;

/// A message on the wire.
pub(crate) struct InFlight<M> {
    pub(crate) from: NodeId,
    pub(crate) to: NodeId,
    pub(crate) id: u64,
    /// Stable hash of the contents, folded into the trace at send and delivery.
    pub(crate) content: u64,
    pub(crate) msg: M,
}

/// A client request on its way to a node.
pub(crate) struct InRequest {
    pub(crate) to: NodeId,
    pub(crate) request: Request,
}

/// A node's reply on its way to the client.
pub(crate) struct InReply {
    pub(crate) from: NodeId,
    pub(crate) id: RequestId,
    pub(crate) reply: Reply,
}

/// A pending timer.
pub(crate) struct PendingTimer<T> {
    pub(crate) node: NodeId,
    pub(crate) epoch: u32,
    pub(crate) cancelled: bool,
    pub(crate) tag: T,
}

/// Renders a note with `Display` where the trace asks for `Debug`.
pub(crate) struct Note<'a>(pub(crate) &'a str);
impl fmt::Debug for Note<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

pub(crate) struct Core<P: Process> {
    pub(crate) now: SimTime,
    pub(crate) queue: EventQueue,
    pub(crate) msgs: Slab<InFlight<P::Message>>,
    pub(crate) timers: Slab<PendingTimer<P::Timer>>,
    pub(crate) net: Network,
    /// Every node's own random stream.
    pub(crate) rngs: super::rngs::NodeRngs,
    pub(crate) stats: Stats,
    pub(crate) tracer: Tracer,
    pub(crate) names: Vec<String>,
    pub(crate) clients: Clients,
    /// Which nodes the event being processed may have changed.
    pub(crate) touched: Touched,
    pub(crate) requests: Slab<InRequest>,
    pub(crate) replies: Slab<InReply>,
    msg_id_next: u64,
    note_buf: String,
    /// Triggered faults, if the run has any.
    pub(crate) triggers: Option<Box<super::triggers::Triggers>>,
    /// The provided services, if the run calls any.
    pub(crate) calls: Option<Box<super::calls::Calls>>,
}

/// Which nodes an event may have changed: those whose handler ran, or all of them for a
/// fault (it changes which nodes are up, paused or reachable).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Touched {
    /// No handler ran and no fault applied: no node state changed.
    Nothing,
    /// Only this node's handler ran.
    Node(NodeId),
    /// A fault applied; any node may look different.
    All,
}

impl Touched {
    /// The nodes the event may have changed, in a cluster of `node_count`: none, the one
    /// whose handler ran, or every node after a fault.
    pub fn nodes(self, node_count: u32) -> impl Iterator<Item = NodeId> {
        let (from, to) = match self {
            Touched::Nothing => (0, 0),
            Touched::Node(id) => (id.0, id.0 + 1),
            Touched::All => (0, node_count),
        };
        (from..to).map(NodeId)
    }

    /// Adds `node` to what the event touched.
    #[inline]
    pub(crate) fn and(self, node: NodeId) -> Touched {
        match self {
            Touched::Nothing => Touched::Node(node),
            Touched::Node(n) if n == node => self,
            _ => Touched::All,
        }
    }
}

impl<P: Process> Core<P> {
    pub(crate) fn new(
        net: Network,
        rngs: super::rngs::NodeRngs,
        tracer: Tracer,
        names: Vec<String>,
    ) -> Self {
        Core {
            now: SimTime::ZERO,
            queue: EventQueue::new(),
            msgs: Slab::new(),
            timers: Slab::new(),
            net,
            rngs,
            stats: Stats::default(),
            tracer,
            names,
            clients: Clients::none(),
            touched: Touched::Nothing,
            requests: Slab::new(),
            replies: Slab::new(),
            msg_id_next: 0,
            note_buf: String::new(),
            triggers: None,
            calls: None,
        }
    }

    #[inline]
    pub(crate) fn now(&self) -> SimTime {
        self.now
    }

    #[inline]
    pub(crate) fn node_count(&self) -> u32 {
        self.names.len() as u32
    }

    pub(crate) fn node_name(&self, id: NodeId) -> &str {
        &self.names[id.index()]
    }

    #[inline]
    pub(crate) fn send(&mut self, from: NodeId, to: NodeId, msg: P::Message) {
        assert!(
            to.0 < self.node_count(),
            "{from} sent to node index {} but the simulation has {} nodes",
            to.0,
            self.node_count()
        );
        let id = self.msg_id_next;
        self.msg_id_next += 1;
        self.stats.sent += 1;
        let content = content_hash(&msg);
        let now = self.now;
        self.tracer.record(
            now,
            from,
            TraceKind::Send { to, msg_id: id },
            content,
            Some(&msg),
        );
        let action = match self.triggers.as_deref_mut() {
            Some(t) if t.watches_sends() => t.on_sent(from, &msg, now),
            _ => None,
        };
        let route = match action {
            None => self.net.route(from, to, now),
            Some(action) => self.route_triggered(from, to, action),
        };
        match route {
            Route::Dropped(reason) => {
                self.stats.dropped.add(reason);
                let kind = TraceKind::Drop {
                    from,
                    to,
                    msg_id: id,
                    reason,
                };
                self.tracer.record(now, from, kind, content, None);
            }
            Route::Arrives { at, copy_at } => {
                if let Some(copy_at) = copy_at {
                    self.duplicate(from, to, id, content, msg.clone(), copy_at);
                }
                let (slot, _) = self.msgs.insert(InFlight {
                    from,
                    to,
                    id,
                    content,
                    msg,
                });
                self.queue.push(at, EntryKind::Deliver, slot);
            }
        }
    }

    /// The fate of a message a trigger acts on: dropped, or routed and then duplicated or
    /// delayed.
    #[cold]
    #[inline(never)]
    fn route_triggered(
        &mut self,
        from: NodeId,
        to: NodeId,
        (action, index): (MessageAction, usize),
    ) -> Route {
        self.note_fired(from, index);
        if action == MessageAction::Drop {
            return Route::Dropped(DropReason::Fault);
        }
        match self.net.route(from, to, self.now) {
            Route::Arrives { at, copy_at } => match action {
                MessageAction::Duplicate if copy_at.is_none() => {
                    self.net.count_copy(from, to);
                    Route::Arrives {
                        at,
                        copy_at: Some(at),
                    }
                }
                MessageAction::Duplicate => Route::Arrives { at, copy_at },
                MessageAction::Delay(by) => {
                    let (at, copy_at) = (at + by, copy_at.map(|c| c + by));
                    self.net
                        .arrives_late(from, to, copy_at.unwrap_or(at).max(at));
                    Route::Arrives { at, copy_at }
                }
                MessageAction::Drop => unreachable!("dropped above"),
            },
            dropped => dropped,
        }
    }

    fn duplicate(
        &mut self,
        from: NodeId,
        to: NodeId,
        id: u64,
        content: u64,
        msg: P::Message,
        at: SimTime,
    ) {
        let copy_id = self.msg_id_next;
        self.msg_id_next += 1;
        self.stats.duplicated += 1;
        let kind = TraceKind::Duplicate {
            to,
            msg_id: id,
            copy_id,
        };
        self.tracer.record(self.now, from, kind, content, None);
        let (slot, _) = self.msgs.insert(InFlight {
            from,
            to,
            id: copy_id,
            content,
            msg,
        });
        self.queue.push(at, EntryKind::Deliver, slot);
    }

    /// Records a message dropped on arrival (partition or node down) and frees it.
    pub(crate) fn drop_arrived(&mut self, slot: u32, reason: DropReason) {
        let m = self.msgs.remove(slot);
        self.net.left_link(m.from, m.to);
        self.stats.dropped.add(reason);
        let kind = TraceKind::Drop {
            from: m.from,
            to: m.to,
            msg_id: m.id,
            reason,
        };
        self.tracer.record(self.now, m.to, kind, m.content, None);
    }

    pub(crate) fn set_timer(
        &mut self,
        node: NodeId,
        epoch: u32,
        delay: SimDuration,
        tag: P::Timer,
    ) -> TimerId {
        self.stats.timers_set += 1;
        let (slot, generation) = self.timers.insert(PendingTimer {
            node,
            epoch,
            cancelled: false,
            tag,
        });
        self.queue.push(self.now + delay, EntryKind::Timer, slot);
        TimerId { slot, generation }
    }

    pub(crate) fn cancel_timer(&mut self, node: NodeId, timer: TimerId) -> bool {
        match self.timers.get_mut_checked(timer.slot, timer.generation) {
            Some(t) if t.node == node && !t.cancelled => {
                t.cancelled = true;
                self.stats.timers_cancelled += 1;
                true
            }
            _ => false,
        }
    }

    pub(crate) fn annotate(&mut self, node: NodeId, note: impl fmt::Display) {
        use fmt::Write;
        let mut buf = std::mem::take(&mut self.note_buf);
        buf.clear();
        let _ = write!(buf, "{note}");
        self.record_note(node, &buf);
        self.note_buf = buf;
    }

    /// A note in the trace; its text is part of the hash.
    pub(crate) fn record_note(&mut self, node: NodeId, text: &str) {
        let content = content_hash(text);
        self.tracer
            .record(self.now, node, TraceKind::Note, content, Some(&Note(text)));
        if let Some(t) = self.triggers.as_deref_mut()
            && t.watches_notes()
        {
            t.on_note(node, text, self.now);
        }
    }

    /// Notes in the trace that trigger `index` fired at `node`. Written past
    /// [`Core::record_note`], so that no trigger fires on another's firing.
    pub(crate) fn note_fired(&mut self, node: NodeId, index: usize) {
        let Some(t) = self.triggers.as_deref() else {
            return;
        };
        let mut spec = t.spec(index).clone();
        if let crate::faults::Response::Fault { fault, .. } = &mut spec.response {
            *fault = fault.for_node(node);
        }
        let text = format!(
            "triggered fault {} fired: {}",
            index + 1,
            spec.describe(&self.names)
        );
        let content = content_hash(&text);
        self.tracer
            .record(self.now, node, TraceKind::Note, content, Some(&Note(&text)));
    }

    /// Messages the network still holds (queued for delivery or held at paused nodes).
    pub(crate) fn in_flight(&self) -> u64 {
        self.msgs.len() as u64
    }
}
