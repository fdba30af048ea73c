//! The trace: every event of a run, folded into a 64-bit hash and, on request, written out.
//!
//! The hash is always computed (it is cheap: three folded multiplications per event, see
//! [`fold_event`]) and is the same with or without a sink attached. Sinks see each event with
//! its details (message contents, notes) rendered only when they ask for them, and the trace
//! hash as it stands after that event.

mod compare;
mod hash;
mod jsonl;
mod ops;

pub use compare::{Determinism, Divergence, SharedHashLog, compare_runs};
pub use hash::{
    ContentHasher, StableHasher, avalanche, content_hash, fold_event, folded_multiply, stable_hash,
};
pub use jsonl::JsonlSink;
pub use ops::{OpNumbers, client_name, client_op};

use crate::ids::NodeId;
use crate::time::{SignedDuration, SimTime};
use serde::Serialize;
use std::fmt;

/// Why the network did not deliver a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// Lost at random (`drop:` probability).
    Loss,
    /// The link was cut by a partition, an isolation or a one-way cut.
    Partition,
    /// The receiver was crashed when the message arrived.
    NodeDown,
    /// The link already had `capacity` messages in flight.
    Capacity,
    /// A triggered fault dropped it ([`crate::faults::MessageAction::Drop`]).
    Fault,
}

impl DropReason {
    pub const ALL: [DropReason; 5] = [
        DropReason::Loss,
        DropReason::Partition,
        DropReason::NodeDown,
        DropReason::Capacity,
        DropReason::Fault,
    ];

    pub fn name(self) -> &'static str {
        match self {
            DropReason::Loss => "loss",
            DropReason::Partition => "partition",
            DropReason::NodeDown => "node_down",
            DropReason::Capacity => "capacity",
            DropReason::Fault => "fault",
        }
    }
}

/// What happened. Nodes in the event are named by [`TraceEvent::node`] and the fields here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TraceKind {
    /// The node booted; `on_start` ran.
    Start,
    Send {
        to: NodeId,
        msg_id: u64,
    },
    Deliver {
        from: NodeId,
        msg_id: u64,
    },
    Drop {
        from: NodeId,
        to: NodeId,
        msg_id: u64,
        reason: DropReason,
    },
    /// The network made a second copy `copy_id` of `msg_id`.
    Duplicate {
        to: NodeId,
        msg_id: u64,
        copy_id: u64,
    },
    /// A message arrived at a paused node and waits for it to resume.
    Hold {
        from: NodeId,
        msg_id: u64,
    },
    TimerFired {
        timer: u32,
    },
    Crash {
        lost_writes: u32,
    },
    Restart,
    Pause,
    Resume,
    /// A partition, cut, isolation or clog began; details name the groups or links.
    Partition,
    Heal,
    Clog {
        to: NodeId,
        until: SimTime,
    },
    ClockSkew {
        offset: SignedDuration,
        drift_ppm: i64,
    },
    ClockJump {
        by: SignedDuration,
    },
    /// A note written by the protocol with `Ctx::annotate`, or by the engine.
    Note,
    /// Client `client` invoked its operation number `seq`, sending it to this node.
    Invoke {
        client: u32,
        seq: u32,
    },
    /// The request arrived at this node, and `on_request` ran.
    Request {
        client: u32,
        seq: u32,
    },
    /// The request arrived while this node was down, and was lost.
    RequestLost {
        client: u32,
        seq: u32,
    },
    /// This node replied to the request.
    Reply {
        client: u32,
        seq: u32,
    },
    /// The client recorded the op's completion (a reply from this node, or a timeout).
    Complete {
        client: u32,
        seq: u32,
        status: crate::history::Status,
    },
}

impl TraceKind {
    pub fn name(&self) -> &'static str {
        match self {
            TraceKind::Start => "start",
            TraceKind::Send { .. } => "send",
            TraceKind::Deliver { .. } => "deliver",
            TraceKind::Drop { .. } => "drop",
            TraceKind::Duplicate { .. } => "duplicate",
            TraceKind::Hold { .. } => "hold",
            TraceKind::TimerFired { .. } => "timer_fired",
            TraceKind::Crash { .. } => "crash",
            TraceKind::Restart => "restart",
            TraceKind::Pause => "pause",
            TraceKind::Resume => "resume",
            TraceKind::Partition => "partition",
            TraceKind::Heal => "heal",
            TraceKind::Clog { .. } => "clog",
            TraceKind::ClockSkew { .. } => "clock_skew",
            TraceKind::ClockJump { .. } => "clock_jump",
            TraceKind::Note => "note",
            TraceKind::Invoke { .. } => "invoke",
            TraceKind::Request { .. } => "request",
            TraceKind::RequestLost { .. } => "request_lost",
            TraceKind::Reply { .. } => "reply",
            TraceKind::Complete { .. } => "complete",
        }
    }
}

/// One trace record: at `time`, at `node`, `kind` happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct TraceEvent {
    /// Position in the trace, from 0.
    pub index: u64,
    pub time: SimTime,
    pub node: NodeId,
    #[serde(flatten)]
    pub kind: TraceKind,
}

impl TraceEvent {
    /// One line for humans, e.g. `1.2ms n1 send to n2 (msg 7)`.
    pub fn describe(&self, names: &[String]) -> String {
        let name = |n: NodeId| {
            names
                .get(n.index())
                .cloned()
                .unwrap_or_else(|| n.to_string())
        };
        let who = name(self.node);
        let what = match self.kind {
            TraceKind::Start => "started".to_string(),
            TraceKind::Restart => "restarted from durable storage".to_string(),
            TraceKind::Send { to, msg_id } => format!("sent msg {msg_id} to {}", name(to)),
            TraceKind::Deliver { from, msg_id } => {
                format!("received msg {msg_id} from {}", name(from))
            }
            TraceKind::Drop {
                from,
                to,
                msg_id,
                reason,
            } => format!(
                "dropped msg {msg_id} {} → {} ({})",
                name(from),
                name(to),
                reason.name()
            ),
            TraceKind::Duplicate {
                to,
                msg_id,
                copy_id,
            } => {
                format!("msg {msg_id} to {} duplicated as msg {copy_id}", name(to))
            }
            TraceKind::Hold { from, msg_id } => {
                format!("holds msg {msg_id} from {} while paused", name(from))
            }
            TraceKind::TimerFired { timer } => format!("timer {timer} fired"),
            TraceKind::Crash { lost_writes } => {
                format!("crashed, losing {lost_writes} unsynced writes")
            }
            TraceKind::Clog { to, until } => format!("link to {} clogged until {until}", name(to)),
            TraceKind::ClockSkew { offset, drift_ppm } => {
                format!("clock skewed by {offset}, drift {drift_ppm} ppm")
            }
            TraceKind::ClockJump { by } => format!("clock jumped by {by}"),
            // Without the whole trace, an op is named by its client's own count, `seq`.
            TraceKind::Invoke { client, seq } => {
                format!("asked by client {} (seq {seq})", client_name(client))
            }
            TraceKind::Request { client, seq } => {
                format!(
                    "received client {}'s request (seq {seq})",
                    client_name(client)
                )
            }
            TraceKind::RequestLost { client, seq } => format!(
                "was down when client {}'s request arrived (seq {seq})",
                client_name(client)
            ),
            TraceKind::Reply { client, seq } => {
                format!("replied to client {} (seq {seq})", client_name(client))
            }
            TraceKind::Complete {
                client,
                seq,
                status,
            } => format!(
                "answered client {}: seq {seq} {}",
                client_name(client),
                status.name()
            ),
            ref other => other.name().to_string(),
        };
        format!("#{} at {}: {who} {what}", self.index, self.time)
    }
}

/// Receives every trace event as it happens. `detail` renders the message or note text.
pub trait TraceSink {
    fn record(&mut self, event: &TraceEvent, hash: u64, detail: Option<&dyn fmt::Debug>);
    /// Whether this sink wants node states ([`TraceSink::node_states`]). A scenario run asks
    /// once, before the run, and then has the simulation record them ([`crate::Sim::record_states`]).
    fn wants_states(&self) -> bool {
        false
    }
    /// The `Debug` rendering of a node's state just before and just after the handler that
    /// trace event `index` ran (`start`, `restart`, `deliver`, `timer_fired`, `request`).
    /// Called when the handler returns, so after the events the handler itself recorded.
    fn node_states(&mut self, _index: u64, _before: &str, _after: &str) {}
    /// Whether this sink wants node summaries ([`TraceSink::node_summary`]). A scenario run
    /// asks once, before the run, and then has the simulation record them
    /// ([`crate::Sim::record_summaries`]).
    fn wants_summaries(&self) -> bool {
        false
    }
    /// Node `node`'s [`crate::Summary`] just after the handler that trace event `index` ran,
    /// after every such handler (whether or not the summary changed). Called when the handler
    /// returns, after [`TraceSink::node_states`].
    fn node_summary(&mut self, _index: u64, _node: NodeId, _summary: &crate::Summary) {}
    /// Flushes whatever is buffered; called once at the end of the run.
    fn finish(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Keeps the running hash after every event, to find where two runs diverge.
#[derive(Default, Debug, Clone)]
pub struct HashLog {
    pub hashes: Vec<u64>,
    /// When set, the event at this index is kept in `captured`.
    pub capture_at: Option<u64>,
    pub captured: Option<TraceEvent>,
}

impl TraceSink for HashLog {
    fn record(&mut self, event: &TraceEvent, hash: u64, _detail: Option<&dyn fmt::Debug>) {
        self.hashes.push(hash);
        if self.capture_at == Some(event.index) {
            self.captured = Some(*event);
        }
    }
}

/// Folds events into the trace hash and forwards them to an optional sink.
pub(crate) struct Tracer {
    hash: u64,
    count: u64,
    sink: Option<Box<dyn TraceSink>>,
}

impl Tracer {
    pub(crate) fn new(seed: u64) -> Tracer {
        Tracer {
            hash: avalanche(seed ^ 0x6661_756c_746c_696e),
            count: 0,
            sink: None,
        }
    }

    pub(crate) fn set_sink(&mut self, sink: Box<dyn TraceSink>) {
        self.sink = Some(sink);
    }

    pub(crate) fn take_sink(&mut self) -> Option<Box<dyn TraceSink>> {
        self.sink.take()
    }

    pub(crate) fn hash(&self) -> u64 {
        avalanche(self.hash)
    }

    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    /// Hands a node's state before and after the handler of event `index` to the sink.
    pub(crate) fn node_states(&mut self, index: u64, before: &str, after: &str) {
        if let Some(sink) = self.sink.as_mut() {
            sink.node_states(index, before, after);
        }
    }

    /// Hands node `node`'s summary after the handler of event `index` to the sink.
    pub(crate) fn node_summary(&mut self, index: u64, node: NodeId, summary: &crate::Summary) {
        if let Some(sink) = self.sink.as_mut() {
            sink.node_summary(index, node, summary);
        }
    }

    /// Records one event; `content` is the [`content_hash`] of its payload (0 if none).
    #[inline(always)]
    pub(crate) fn record(
        &mut self,
        time: SimTime,
        node: NodeId,
        kind: TraceKind,
        content: u64,
        detail: Option<&dyn fmt::Debug>,
    ) {
        self.hash = fold_event(self.hash, time, node, &kind, content);
        self.count += 1;
        if self.sink.is_some() {
            self.forward(time, node, kind, detail);
        }
    }

    /// Hands the event just folded to the sink, with the trace hash as it now stands.
    #[cold]
    #[inline(never)]
    fn forward(
        &mut self,
        time: SimTime,
        node: NodeId,
        kind: TraceKind,
        detail: Option<&dyn fmt::Debug>,
    ) {
        let event = TraceEvent {
            index: self.count - 1,
            time,
            node,
            kind,
        };
        let hash = self.hash();
        if let Some(sink) = self.sink.as_mut() {
            sink.record(&event, hash, detail);
        }
    }
}
