//! A replayed path as a trace: the records a run's trace would hold for the same events, so
//! that the trace file, the page and the ShiViz log show a schedule as they show a run.
//!
//! The explorer abstracts time, so the trace's clock counts events instead: the nodes boot at
//! 0 and event k of the schedule happens at k milliseconds, the clock of the clients' history
//! ([`State::next_event_time`]); a timer's due time on its node's clock is in the schedule's
//! text. A message gets its id when it is sent; of equal messages
//! in flight, the first sent is the first taken.

use super::state::{Delta, Envelope, State};
use super::step::{Boot, Choice, Factory, Replied};
use crate::engine::Note;
use crate::ids::NodeId;
use crate::protocol::Protocol;
use crate::time::SimTime;
use crate::trace::{DropReason, TraceKind, TraceSink, Tracer, content_hash};
use std::collections::{BTreeMap, VecDeque};

/// Folds a replay's events into a trace hash and hands them to a sink.
pub(crate) struct PathTrace<P: Protocol> {
    tracer: Tracer,
    /// With a sink that asks for states, builds a fresh node to render it before it starts.
    states: Option<Factory<P>>,
    /// The sink asks for node summaries.
    summaries: bool,
    /// The ids of the messages in flight, by the message's hash, oldest first.
    ids: BTreeMap<u64, VecDeque<u64>>,
    id_next: u64,
    now: SimTime,
}

impl<P: Protocol> PathTrace<P> {
    pub(crate) fn new(sink: Option<Box<dyn TraceSink>>, factory: &Factory<P>) -> Self {
        let mut tracer = Tracer::new(0);
        let summaries = sink.as_ref().is_some_and(|s| s.wants_summaries());
        let states = sink
            .as_ref()
            .is_some_and(|s| s.wants_states())
            .then(|| Factory::clone(factory));
        if let Some(sink) = sink {
            tracer.set_sink(sink);
        }
        PathTrace {
            tracer,
            states,
            summaries,
            ids: BTreeMap::new(),
            id_next: 0,
            now: SimTime::ZERO,
        }
    }

    /// Records node `boot.node` starting, and what its `on_start` did.
    pub(crate) fn boot(&mut self, boot: Boot<'_, P>) {
        let node = boot.node;
        self.tracer
            .record(self.now, node, TraceKind::Start, 0, None);
        let index = self.last_index();
        self.handled(node, boot.sent, &boot.notes);
        if let Some(factory) = &self.states {
            let before = format!("{:?}", factory(node));
            let after = render(boot.slot.proc.as_ref());
            self.tracer.node_states(index, &before, &after);
        }
        if self.summaries
            && let Some(proc) = boot.slot.proc.as_ref()
        {
            self.tracer.node_summary(index, node, &proc.summary());
        }
    }

    /// Records `choice`, taken in `state` with the effect `delta`, the handler's `notes` and
    /// the replies it sent.
    pub(crate) fn event(
        &mut self,
        state: &State<P>,
        choice: Choice,
        delta: Option<&Delta<P>>,
        notes: &[(u32, String)],
        replied: &[Replied],
    ) {
        self.now = state.next_event_time();
        let Some(node) = self.record_choice(state, choice) else {
            return;
        };
        let index = self.last_index();
        let sent = delta.map_or(&[][..], |d| &d.added[..]);
        self.handled(node, sent, notes);
        for r in replied {
            let (client, seq) = (r.id.client, r.id.seq);
            let kind = TraceKind::Reply { client, seq };
            let content = content_hash(&r.reply);
            self.tracer
                .record(self.now, node, kind, content, Some(&r.reply));
            if let Some(status) = r.status {
                self.complete(node, client, seq, status);
            }
        }
        if let Some(factory) = &self.states {
            let before = match choice {
                Choice::Restart(_) => format!("{:?}", factory(node)),
                _ => render(state.nodes[node.index()].proc.as_ref()),
            };
            let after = delta.and_then(|d| d.node.as_ref());
            let after = render(after.and_then(|(_, slot)| slot.proc.as_ref()));
            self.tracer.node_states(index, &before, &after);
        }
        // A node the event left as it was has the summary it had: nothing to record.
        if self.summaries
            && let Some(proc) = delta
                .and_then(|d| d.node.as_ref())
                .and_then(|(_, slot)| slot.proc.as_ref())
        {
            self.tracer.node_summary(index, node, &proc.summary());
        }
    }

    /// Records the event `choice` names in `state`: the node whose handler runs next, if one
    /// does.
    fn record_choice(&mut self, state: &State<P>, choice: Choice) -> Option<NodeId> {
        let now = self.now;
        match choice {
            Choice::Deliver(i) | Choice::Duplicate(i) => {
                let e = &state.net[i as usize];
                let content = content_hash(&e.msg);
                let mut msg_id = self.take_id(e.hash);
                if let Choice::Duplicate(_) = choice {
                    let copy_id = self.new_id();
                    self.ids.entry(e.hash).or_default().push_front(msg_id);
                    let kind = TraceKind::Duplicate {
                        to: e.to,
                        msg_id,
                        copy_id,
                    };
                    self.tracer.record(now, e.from, kind, content, None);
                    msg_id = copy_id;
                }
                let kind = TraceKind::Deliver {
                    from: e.from,
                    msg_id,
                };
                self.tracer.record(now, e.to, kind, content, None);
                Some(e.to)
            }
            Choice::Drop(i) => {
                let e = &state.net[i as usize];
                let kind = TraceKind::Drop {
                    from: e.from,
                    to: e.to,
                    msg_id: self.take_id(e.hash),
                    reason: DropReason::Fault,
                };
                let content = content_hash(&e.msg);
                self.tracer.record(now, e.to, kind, content, None);
                None
            }
            Choice::Fire { node, index } => {
                let timer = &state.nodes[node.index()].timers[index as usize];
                let kind = TraceKind::TimerFired { timer: timer.id };
                let content = content_hash(&timer.tag);
                self.tracer
                    .record(now, node, kind, content, Some(&timer.tag));
                Some(node)
            }
            Choice::Crash(node) => {
                let storage = state.nodes[node.index()].storage.as_deref();
                let lost_writes = storage.map_or(0, |s| s.unsynced_writes()) as u32;
                let kind = TraceKind::Crash { lost_writes };
                self.tracer.record(now, node, kind, 0, None);
                None
            }
            Choice::Restart(node) => {
                self.tracer.record(now, node, TraceKind::Restart, 0, None);
                Some(node)
            }
            Choice::Invoke { client, node } | Choice::Resend { client, node } => {
                self.request(state, choice, client, node);
                Some(node)
            }
            Choice::Timeout { client } => {
                let open = state.clients.as_deref().and_then(|c| c.open(client));
                if let Some((_, node, seq)) = open {
                    self.complete(node, client, seq, crate::history::Status::Info);
                }
                None
            }
        }
    }

    /// Records client `client`'s op `seq` completing with `status`, answered by `node`.
    fn complete(&mut self, node: NodeId, client: u32, seq: u32, status: crate::history::Status) {
        let kind = TraceKind::Complete {
            client,
            seq,
            status,
        };
        self.tracer.record(self.now, node, kind, 0, None);
    }

    /// Records a client's request reaching `node` (invoked there first, for an invocation).
    fn request(&mut self, state: &State<P>, choice: Choice, client: u32, node: NodeId) {
        let clients = state.clients.as_deref();
        let Some((_, request)) = clients.and_then(|c| c.peek(client, node)) else {
            return;
        };
        let (seq, op) = (request.id.seq, &request.op);
        let content = content_hash(op);
        if let Choice::Invoke { .. } = choice {
            let kind = TraceKind::Invoke { client, seq };
            self.tracer.record(self.now, node, kind, content, Some(op));
        }
        let kind = TraceKind::Request { client, seq };
        self.tracer.record(self.now, node, kind, content, Some(op));
    }

    /// Records what a handler of `node` sent and noted, in the order it did.
    fn handled(&mut self, node: NodeId, sent: &[Envelope<P::Message>], notes: &[(u32, String)]) {
        let mut notes = notes.iter().peekable();
        for (at, e) in sent.iter().enumerate() {
            while let Some((_, text)) = notes.next_if(|(before, _)| *before as usize <= at) {
                self.note(node, text);
            }
            let msg_id = self.new_id();
            self.ids.entry(e.hash).or_default().push_back(msg_id);
            let kind = TraceKind::Send { to: e.to, msg_id };
            let content = content_hash(&e.msg);
            self.tracer
                .record(self.now, node, kind, content, Some(&e.msg));
        }
        for (_, text) in notes {
            self.note(node, text);
        }
    }

    fn note(&mut self, node: NodeId, text: &str) {
        let content = content_hash(text);
        let detail = Note(text);
        (self.tracer).record(self.now, node, TraceKind::Note, content, Some(&detail));
    }

    fn new_id(&mut self) -> u64 {
        self.id_next += 1;
        self.id_next - 1
    }

    /// The id of the oldest message in flight with this hash.
    fn take_id(&mut self, hash: u64) -> u64 {
        let ids = self.ids.get_mut(&hash);
        let id = ids.and_then(VecDeque::pop_front);
        // Every message in flight was sent, and so given an id, on the path.
        debug_assert!(id.is_some(), "a message in flight without an id");
        id.unwrap_or(u64::MAX)
    }

    /// The index of the last event recorded.
    pub(crate) fn last_index(&self) -> u64 {
        self.tracer.count().saturating_sub(1)
    }

    pub(crate) fn now(&self) -> SimTime {
        self.now
    }

    pub(crate) fn count(&self) -> u64 {
        self.tracer.count()
    }

    pub(crate) fn hash(&self) -> u64 {
        self.tracer.hash()
    }

    /// Flushes the sink, if there is one.
    pub(crate) fn finish(&mut self) -> std::io::Result<()> {
        match self.tracer.take_sink() {
            Some(mut sink) => sink.finish(),
            None => Ok(()),
        }
    }
}

/// A node's state as the engine renders it; a handler that panicked left none.
fn render<P: Protocol>(proc: Option<&P>) -> String {
    proc.map(|p| format!("{p:?}")).unwrap_or_default()
}
