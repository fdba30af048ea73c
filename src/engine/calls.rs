//! Calls to the provided services ([`crate::services`]): a call crosses the network to its
//! service, takes effect there, and its answer crosses back to the caller's
//! [`Process::on_service_reply`]. Both crossings draw the default link's latency and loss from
//! the run's services stream; each shows in the trace as a note on the caller.

use super::Sim;
use super::Touched;
use super::core::Core;
use super::node::NodeStatus;
use super::process::Process;
use super::queue::{Entry, EntryKind};
use super::slab::Slab;
use crate::ids::NodeId;
use crate::net::{Latency, LinkConfig};
use crate::rng::{SimRng, Stream, stream};
use crate::services::{CallId, KvOp, KvResult, Service, ServiceReply, Stores};
use crate::time::SimDuration;
use rand::RngExt;

/// A call on its way to its service, or its answer on the way back.
pub(crate) struct InCall {
    caller: NodeId,
    /// The caller's epoch at the call: an answer to a node that crashed since is lost.
    epoch: u32,
    service: Service,
    op: KvOp,
    call: CallId,
    /// Set when the service has applied the call.
    result: Option<KvResult>,
}

/// The services a run may call, their state, and the calls in flight.
pub(crate) struct Calls {
    declared: [bool; Service::ALL.len()],
    stores: Stores,
    in_flight: Slab<InCall>,
    rng: SimRng,
    latency: Latency,
    drop: f64,
    call_next: u64,
}

impl Calls {
    /// The services `declared`, reached over links like `link`.
    pub(crate) fn new(seed: u64, declared: &[Service], link: &LinkConfig) -> Calls {
        let mut flags = [false; Service::ALL.len()];
        for s in declared {
            flags[s.index()] = true;
        }
        Calls {
            declared: flags,
            stores: Stores::default(),
            in_flight: Slab::new(),
            rng: stream(seed, Stream::Services),
            latency: link.latency.clone(),
            drop: link.drop,
            call_next: 0,
        }
    }

    /// One crossing of the network: its latency, or `None` if it is lost.
    fn crossing(&mut self) -> Option<SimDuration> {
        let lost = self.drop > 0.0 && self.rng.random_bool(self.drop);
        (!lost).then(|| self.latency.sample(&mut self.rng))
    }
}

impl<P: Process> Core<P> {
    /// `from`, in its life `epoch`, calls `service`.
    ///
    /// # Panics
    /// If the run was not built with `service` ([`crate::SimBuilder::services`], which
    /// [`crate::Protocol::SERVICES`] sets for scenario runs): a mistake in the protocol.
    pub(crate) fn call(&mut self, from: NodeId, epoch: u32, service: Service, op: KvOp) -> CallId {
        let calls = match self.calls.as_deref_mut() {
            Some(calls) if calls.declared[service.index()] => calls,
            _ => panic!(
                "{} called {service}, which the run does not provide: name it in the \
                 protocol's `SERVICES` (or in `SimBuilder::services`)",
                self.names[from.index()]
            ),
        };
        let call = CallId(calls.call_next);
        calls.call_next += 1;
        self.stats.service_calls += 1;
        let crossing = calls.crossing();
        self.stats.service_lost += u64::from(crossing.is_none());
        if let Some(latency) = crossing {
            let (slot, _) = calls.in_flight.insert(InCall {
                caller: from,
                epoch,
                service,
                op,
                call,
                result: None,
            });
            self.queue
                .push(self.now + latency, EntryKind::ServiceCall, slot);
        }
        let lost = if crossing.is_none() { ", lost" } else { "" };
        self.record_note(from, &format!("{call} to {service}: {op}{lost}"));
        call
    }

    /// A call reached its service: applied now; its answer sets out back.
    pub(crate) fn service_call_arrives(&mut self, slot: u32) {
        let now = self.now;
        let Some(calls) = self.calls.as_deref_mut() else {
            return;
        };
        let mut c = calls.in_flight.remove(slot);
        let result = calls
            .stores
            .apply(c.service, c.caller, c.op, now, &mut calls.rng);
        match calls.crossing() {
            Some(latency) => {
                c.result = Some(result);
                let (slot, _) = calls.in_flight.insert(c);
                self.queue
                    .push(now + latency, EntryKind::ServiceReturn, slot);
            }
            None => self.stats.service_lost += 1,
        }
    }

    /// Forgets an answer that cannot be delivered (its caller crashed).
    pub(crate) fn lose_answer(&mut self, slot: u32) {
        if let Some(calls) = self.calls.as_deref_mut() {
            calls.in_flight.remove(slot);
            self.stats.service_lost += 1;
        }
    }
}

impl<P: Process> Sim<P> {
    /// An answer reached its caller: lost if the caller crashed since the call, held while it
    /// is paused.
    pub(crate) fn service_return(&mut self, entry: Entry) {
        let Some(calls) = self.core.calls.as_deref_mut() else {
            return;
        };
        let (caller, epoch) = {
            let c = calls.in_flight.get(entry.slot);
            (c.caller, c.epoch)
        };
        let status = self.status[caller.index()];
        if status == NodeStatus::Down || epoch != self.nodes[caller.index()].epoch {
            self.core.lose_answer(entry.slot);
            return;
        }
        if status == NodeStatus::Paused {
            self.held.entry(caller).or_default().push(entry);
            return;
        }
        let c = calls.in_flight.remove(entry.slot);
        let Some(result) = c.result else {
            debug_assert!(false, "an answer without a result");
            return;
        };
        let reply = ServiceReply {
            call: c.call,
            service: c.service,
            op: c.op,
            result,
        };
        self.core.stats.service_answers += 1;
        self.core.touched = Touched::Node(caller);
        let text = format!("{} answered {}: {} is {}", c.service, c.call, c.op, result);
        self.core.record_note(caller, &text);
        self.handle(caller, move |proc, ctx| proc.on_service_reply(ctx, reply));
    }
}
