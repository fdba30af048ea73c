//! Client events: invocations, requests reaching nodes, replies reaching clients, timeouts.
//! The decisions are the workload's ([`crate::workload`]); this moves and traces them.

use super::Sim;
use super::Touched;
use super::core::{Core, InReply, InRequest};
use super::node::NodeStatus;
use super::process::Process;
use super::queue::{Entry, EntryKind};
use crate::ids::NodeId;
use crate::trace::{TraceKind, content_hash};
use crate::workload::clients::{Alarm, Outcome};
use crate::workload::{Reply, Request, RequestId};

/// Marks a client tick as the client's final read ([`crate::workload::CLIENTS_MAX`] is far
/// below this bit).
const FINAL_READ: u32 = 1 << 31;

impl<P: Process> Core<P> {
    /// Puts `request` on the client link to `to`.
    fn send_request(&mut self, to: NodeId, request: Request) {
        let at = self.now + self.clients.latency(request.id.client, to);
        let (slot, _) = self.requests.insert(InRequest { to, request });
        self.queue.push(at, EntryKind::Request, slot);
    }

    /// `from` answers request `id`; the reply crosses the client link.
    pub(crate) fn reply(&mut self, from: NodeId, id: RequestId, reply: Reply) {
        let kind = TraceKind::Reply {
            client: id.client,
            seq: id.seq,
        };
        self.tracer
            .record(self.now, from, kind, content_hash(&reply), Some(&reply));
        let at = self.now + self.clients.latency(id.client, from);
        let (slot, _) = self.replies.insert(InReply { from, id, reply });
        self.queue.push(at, EntryKind::Reply, slot);
    }

    /// Client `client` waits, then invokes its next op.
    fn schedule_tick(&mut self, client: u32) {
        let at = self.now + self.clients.gap(client);
        self.queue.push(at, EntryKind::ClientTick, client);
    }

    /// Schedules every client's first invocation, and its final read.
    pub(crate) fn start_clients(&mut self) {
        for c in 0..self.clients.count() {
            self.schedule_tick(c);
            if let Some(at) = self.clients.final_reads() {
                self.queue.push(at, EntryKind::ClientTick, c | FINAL_READ);
            }
        }
    }

    /// Client `slot` invokes its next op (or its final read), if the workload still runs.
    pub(crate) fn client_tick(&mut self, slot: u32) {
        let (client, final_read) = (slot & !FINAL_READ, slot & FINAL_READ != 0);
        let Some((request, to, deadline)) = self.clients.invoke(client, self.now, final_read)
        else {
            return;
        };
        let kind = TraceKind::Invoke {
            client,
            seq: request.id.seq,
        };
        let content = content_hash(&request.op);
        self.tracer
            .record(self.now, to, kind, content, Some(&request.op));
        if self.clients.arm(client, deadline) {
            self.queue.push(deadline, EntryKind::ClientTimeout, client);
        }
        self.send_request(to, request);
    }

    /// Client `client`'s timeout entry came due: if its op is still open, it ends as info.
    pub(crate) fn client_timeout(&mut self, client: u32) {
        let op = match self.clients.on_timeout(client, self.now) {
            Alarm::Expired(op) => op,
            Alarm::Moved(deadline) => {
                self.queue.push(deadline, EntryKind::ClientTimeout, client);
                return;
            }
            Alarm::Idle => return,
        };
        let times = self.clients.log.times()[op];
        let seq = self.clients.seq_of(client);
        let kind = TraceKind::Complete {
            client,
            seq,
            status: crate::history::Status::Info,
        };
        self.tracer.record(self.now, times.node, kind, 0, None);
        self.schedule_tick(client);
    }

    /// A reply reached its client.
    pub(crate) fn client_reply(&mut self, slot: u32) {
        let InReply { from, id, reply } = self.replies.remove(slot);
        match self.clients.on_reply(id, from, reply, self.now) {
            Outcome::Stale => {}
            Outcome::Completed { status } => {
                let kind = TraceKind::Complete {
                    client: id.client,
                    seq: id.seq,
                    status,
                };
                self.tracer.record(self.now, from, kind, 0, None);
                self.schedule_tick(id.client);
            }
            Outcome::Resend { request, to } => self.send_request(to, request),
        }
    }

    /// A request that cannot be served: its node is down.
    pub(crate) fn lose_request(&mut self, slot: u32) {
        let InRequest { to, request } = self.requests.remove(slot);
        let kind = TraceKind::RequestLost {
            client: request.id.client,
            seq: request.id.seq,
        };
        self.tracer.record(self.now, to, kind, 0, None);
    }
}

impl<P: Process> Sim<P> {
    /// A request reached its node: lost if the node is down, held while it is paused.
    pub(crate) fn deliver_request(&mut self, entry: Entry) {
        let to = self.core.requests.get(entry.slot).to;
        match self.status[to.index()] {
            NodeStatus::Down => self.core.lose_request(entry.slot),
            NodeStatus::Paused => self.held.entry(to).or_default().push(entry),
            NodeStatus::Up => {
                self.core.touched = Touched::Node(to);
                let InRequest { to, request } = self.core.requests.remove(entry.slot);
                let kind = TraceKind::Request {
                    client: request.id.client,
                    seq: request.id.seq,
                };
                self.core.tracer.record(self.core.now, to, kind, 0, None);
                self.handle(to, move |proc, ctx| proc.on_request(ctx, request));
            }
        }
    }
}
