//! The transition relation: which events a state enables, and the state each one leads to.
//!
//! Enabled in a state: delivering any message in flight to a node that is up, firing any
//! pending timer of a node that is up, and, while their budgets last, dropping or duplicating a
//! message, firing a timer, crashing a node that is up and restarting one that is down. A
//! handler runs the protocol's own code through [`Ctx`] on the node's data; its random stream
//! is seeded from the node's state and the event, so the successor is a function of the
//! state and the event.

use super::Budgets;
use super::clients::ModelClients;
use super::state::{Delta, Envelope, Slot, Spent, State};
use crate::engine::{Ctx, Effects};
use crate::ids::{NodeId, TimerId};
use crate::linearizability::fxhash::mix64;
use crate::protocol::Protocol;
use crate::trace::content_hash;
use crate::workload::{Reply, RequestId};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

/// One event the search can choose; indices are into the state it is chosen in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Choice {
    /// Deliver the message at this index of the state's in-flight messages.
    Deliver(u32),
    /// Deliver it and keep a copy in flight.
    Duplicate(u32),
    Drop(u32),
    /// Fire the timer at `index` of the node's pending timers.
    Fire {
        node: NodeId,
        index: u32,
    },
    Crash(NodeId),
    Restart(NodeId),
    /// Client `client` invokes its next operation at `node`.
    Invoke {
        client: u32,
        node: NodeId,
    },
    /// Client `client` sends its redirected request again, to `node`, where the redirect
    /// pointed.
    Resend {
        client: u32,
        node: NodeId,
    },
    /// Client `client` gives up on its open operation.
    Timeout {
        client: u32,
    },
}

/// One node just booted, as [`Machine::initial_with`] shows it.
pub(crate) struct Boot<'a, P: Protocol> {
    pub(crate) node: NodeId,
    pub(crate) slot: &'a Slot<P>,
    pub(crate) sent: &'a [Envelope<P::Message>],
    /// What `on_start` noted, when notes are kept.
    pub(crate) notes: Vec<(u32, String)>,
}

/// Builds a node afresh: at the start and after every restart.
pub(crate) type Factory<P> = Arc<dyn Fn(NodeId) -> P + Send + Sync>;

/// Runs handlers on explored states, reusing its buffers from one event to the next.
pub(crate) struct Machine<P: Protocol> {
    factory: Factory<P>,
    effects: Effects<P>,
    /// The clients of the initial state, when the scenario has a workload.
    clients: Option<ModelClients>,
    /// Messages the handlers sent, over every event applied.
    pub(crate) sent: u64,
    /// The replies of the last event and what they did, kept with the notes.
    replied: Option<Vec<Replied>>,
}

/// A reply a handler sent, and the status its op completed with, if it did.
pub(crate) struct Replied {
    pub(crate) id: RequestId,
    pub(crate) reply: Reply,
    pub(crate) status: Option<crate::history::Status>,
}

/// A protocol handler panicked.
#[derive(Clone, Debug)]
pub(crate) struct Panicked(pub(crate) String);

impl<P: Protocol> Machine<P> {
    pub(crate) fn new(
        names: Arc<[String]>,
        factory: Factory<P>,
        clients: Option<ModelClients>,
    ) -> Self {
        let effects = Effects::new(names.len() as u32, names);
        Machine {
            factory,
            effects,
            clients,
            sent: 0,
            replied: None,
        }
    }

    pub(crate) fn node_count(&self) -> u32 {
        self.effects.node_count
    }

    /// Keeps the handlers' annotations, for a replay that shows them.
    pub(crate) fn keep_notes(&mut self) {
        self.effects.notes = Some(Vec::new());
        self.replied = Some(Vec::new());
    }

    /// The replies of the last event, when kept.
    pub(crate) fn take_replied(&mut self) -> Vec<Replied> {
        self.replied
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// The annotations of the last event, when kept, each after how many of its sends.
    pub(crate) fn take_notes(&mut self) -> Vec<(u32, String)> {
        self.effects
            .notes
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Every node built and started, in id order.
    pub(crate) fn initial(&mut self) -> Result<State<P>, Panicked> {
        self.initial_with(&mut |_| {})
    }

    /// As [`Machine::initial`], showing `booted` each node as it is after `on_start`.
    pub(crate) fn initial_with(
        &mut self,
        booted: &mut dyn FnMut(Boot<'_, P>),
    ) -> Result<State<P>, Panicked> {
        let n = self.node_count();
        let mut state = State {
            nodes: Vec::with_capacity(n as usize),
            net: Vec::new(),
            net_sum: 0,
            spent: Spent::default(),
            monitors: None,
            monitor_hash: 0,
            clients: self.clients.clone().map(Arc::new),
            depth: 0,
        };
        for id in (0..n).map(NodeId) {
            let mut slot = Slot {
                proc: Some((self.factory)(id)),
                storage: None,
                timers: Vec::new(),
                timer_next: 0,
                clock: crate::time::SimTime::ZERO,
                starts: 0,
                storage_hash: 0,
                hash: 0,
            };
            let started = self.start(id, &mut slot, u64::from(id.0));
            let mut sent = Vec::new();
            self.take_sends(id, &mut sent);
            // No request has reached a node that is only booting: nothing to answer.
            self.effects.replies.clear();
            booted(Boot {
                node: id,
                slot: &slot,
                sent: &sent,
                notes: self.take_notes(),
            });
            for envelope in sent {
                state.push_message(envelope);
            }
            started?;
            state.nodes.push(Arc::new(slot));
        }
        Ok(state)
    }

    /// The events `state` enables within `budgets`, in a fixed order.
    pub(crate) fn choices(&self, state: &State<P>, budgets: &Budgets, out: &mut Vec<Choice>) {
        out.clear();
        let up = |id: NodeId| state.nodes[id.index()].proc.is_some();
        let mut last = None;
        for (i, e) in state.net.iter().enumerate() {
            // Copies of one message lead to the same state: one of them stands for all.
            if last == Some(e.hash) {
                continue;
            }
            last = Some(e.hash);
            if up(e.to) {
                out.push(Choice::Deliver(i as u32));
                if state.spent.duplicates < budgets.duplicates_max {
                    out.push(Choice::Duplicate(i as u32));
                }
            }
            if state.spent.drops < budgets.drops_max {
                out.push(Choice::Drop(i as u32));
            }
        }
        if state.spent.timers < budgets.timers_max {
            for (id, slot) in state.nodes.iter().enumerate() {
                if slot.proc.is_some() {
                    let node = NodeId(id as u32);
                    out.extend(
                        (0..slot.timers.len() as u32).map(|index| Choice::Fire { node, index }),
                    );
                }
            }
        }
        for (id, slot) in state.nodes.iter().enumerate() {
            let node = NodeId(id as u32);
            if slot.proc.is_none() {
                out.push(Choice::Restart(node));
            } else if state.spent.crashes < budgets.crashes_max {
                out.push(Choice::Crash(node));
            }
        }
        if let Some(clients) = state.clients.as_deref() {
            client_choices(state, clients, budgets.client_ops_max, out);
            if state.spent.timeouts < budgets.timeouts_max {
                let open = (0..clients.count()).filter(|&c| clients.open(c).is_some());
                out.extend(open.map(|client| Choice::Timeout { client }));
            }
        }
        // The successors of one node side by side: the judge then copies one node per
        // successor into its simulation, not two.
        out.sort_by_key(|&c| match c {
            Choice::Deliver(i) | Choice::Duplicate(i) => state.net[i as usize].to.0,
            Choice::Drop(_) | Choice::Timeout { .. } => u32::MAX,
            Choice::Fire { node, .. } | Choice::Crash(node) | Choice::Restart(node) => node.0,
            Choice::Invoke { node, .. } | Choice::Resend { node, .. } => node.0,
        });
    }

    /// The state `choice` leads to from `state`.
    pub(crate) fn apply(&mut self, state: &State<P>, choice: Choice) -> Result<State<P>, Panicked> {
        let delta = self.delta(state, choice)?;
        Ok(state.with(delta))
    }

    /// What `choice` changes in `state`: enough to tell the successor's fingerprint, and to
    /// build it only if it is new.
    ///
    /// A handler's random stream is keyed by its node's state and what it handles, nothing
    /// else: the same node in the same state draws the same numbers whatever the other nodes
    /// are doing, so paths that reach one state by different routes merge.
    pub(crate) fn delta(&mut self, state: &State<P>, choice: Choice) -> Result<Delta<P>, Panicked> {
        let mut delta = Delta {
            node: None,
            removed: None,
            added: Vec::new(),
            spent: state.spent,
            clients: None,
        };
        match choice {
            Choice::Deliver(i) | Choice::Duplicate(i) => {
                if choice == Choice::Deliver(i) {
                    delta.removed = Some(i);
                } else {
                    delta.spent.duplicates += 1;
                }
                let envelope = &state.net[i as usize];
                let (from, to, msg) = (envelope.from, envelope.to, envelope.msg.clone());
                let mut slot = (*state.nodes[to.index()]).clone();
                let key = mix64(slot.hash ^ envelope.hash);
                let ran = self.run(to, &mut slot, key, |p, ctx| p.on_message(ctx, from, msg));
                self.post(state, &mut delta, to, slot);
                ran?;
            }
            Choice::Drop(i) => {
                delta.removed = Some(i);
                delta.spent.drops += 1;
            }
            Choice::Fire { node, index } => {
                delta.spent.timers += 1;
                let mut slot = (*state.nodes[node.index()]).clone();
                let timer = slot.timers.remove(index as usize);
                let key = mix64(slot.hash ^ mix64(content_hash(&timer)));
                slot.clock = slot.clock.max(timer.due);
                let id = TimerId {
                    slot: timer.id,
                    generation: 0,
                };
                let ran = self.run(node, &mut slot, key, |p, ctx| {
                    p.on_timer(ctx, id, timer.tag)
                });
                self.post(state, &mut delta, node, slot);
                ran?;
            }
            Choice::Crash(node) => {
                delta.spent.crashes += 1;
                let mut slot = (*state.nodes[node.index()]).clone();
                slot.proc = None;
                slot.timers.clear();
                if let Some(storage) = &mut slot.storage {
                    Arc::make_mut(storage).crash();
                }
                slot.rehash(true);
                delta.node = Some((node, slot));
            }
            Choice::Restart(node) => {
                let mut slot = (*state.nodes[node.index()]).clone();
                slot.proc = Some((self.factory)(node));
                let key = mix64(slot.hash ^ RESTART_KEY);
                let ran = self.start(node, &mut slot, key);
                self.post(state, &mut delta, node, slot);
                ran?;
            }
            Choice::Invoke { .. } | Choice::Resend { .. } => {
                return self.request(state, choice, delta);
            }
            Choice::Timeout { client } => {
                delta.spent.timeouts += 1;
                let mut clients = state.clients.as_deref().cloned();
                if let Some(clients) = &mut clients {
                    clients.time_out(client, state.next_event_time());
                }
                delta.clients = clients;
            }
        }
        Ok(delta)
    }

    /// A client's request arrives at its node, which runs `on_request`.
    fn request(
        &mut self,
        state: &State<P>,
        choice: Choice,
        mut delta: Delta<P>,
    ) -> Result<Delta<P>, Panicked> {
        let mut clients = state
            .clients
            .as_deref()
            .cloned()
            .expect("client events need clients");
        let sent = match choice {
            Choice::Invoke { client, node } => {
                let now = state.next_event_time();
                clients.invoke(client, node, now).map(|r| (node, r))
            }
            Choice::Resend { client, .. } => clients.take_resend(client),
            _ => None,
        };
        let (node, request) = sent.expect("a client event is chosen only when it can happen");
        let mut slot = (*state.nodes[node.index()]).clone();
        let key = mix64(slot.hash ^ mix64(content_hash(&request)));
        let ran = self.run(node, &mut slot, key, |p, ctx| p.on_request(ctx, request));
        delta.clients = Some(clients);
        self.post(state, &mut delta, node, slot);
        ran?;
        Ok(delta)
    }

    /// Starts node `id` (built anew in `slot`): at boot, or after a crash.
    fn start(&mut self, id: NodeId, slot: &mut Slot<P>, key: u64) -> Result<(), Panicked> {
        slot.starts += 1;
        self.run(id, slot, key, |p, ctx| p.on_start(ctx))
    }

    /// Records node `id`'s new `slot`, what its handler sent, and what the clients made of
    /// its replies in `delta`.
    fn post(&mut self, state: &State<P>, delta: &mut Delta<P>, id: NodeId, slot: Slot<P>) {
        self.take_sends(id, &mut delta.added);
        delta.node = Some((id, slot));
        if let Some(before) = state.clients.as_deref()
            && !self.effects.replies.is_empty()
        {
            let clients = delta.clients.get_or_insert_with(|| before.clone());
            let now = state.next_event_time();
            for (request, reply) in self.effects.replies.drain(..) {
                let kept = self.replied.is_some().then(|| reply.clone());
                let status = clients.replied(id, request, reply, now);
                if let (Some(replied), Some(reply)) = (&mut self.replied, kept) {
                    replied.push(Replied {
                        id: request,
                        reply,
                        status,
                    });
                }
            }
        }
        self.effects.replies.clear();
        if let Some(clients) = &mut delta.clients {
            clients.rehash();
        }
    }

    /// Moves what node `id`'s last handler sent into `out`.
    fn take_sends(&mut self, id: NodeId, out: &mut Vec<Envelope<P::Message>>) {
        for (to, msg) in self.effects.sends.drain(..) {
            self.sent += 1;
            out.push(Envelope::new(id, to, msg));
        }
    }

    /// Moves the node's runtime into the effects, runs `handler`, and moves it back; what
    /// the handler sent waits in the effects.
    fn run(
        &mut self,
        id: NodeId,
        slot: &mut Slot<P>,
        key: u64,
        handler: impl FnOnce(&mut P, &mut Ctx<'_, P>),
    ) -> Result<(), Panicked> {
        let fx = &mut self.effects;
        fx.now = slot.clock;
        fx.restart = slot.starts > 1;
        // Held here as well, the storage is shared, so a handler that asks for it
        // (`Ctx::storage` lends it mutably) gets a copy: a new pointer means it may have changed.
        let storage_before = slot.storage.clone();
        fx.storage = slot.storage.take();
        fx.timers = std::mem::take(&mut slot.timers);
        fx.timer_next = slot.timer_next;
        fx.rng_key = key;
        fx.rng = None;
        let proc = slot
            .proc
            .as_mut()
            .expect("handlers run on nodes that are up");
        let ran = catch_unwind(AssertUnwindSafe(|| handler(proc, &mut Ctx::model(id, fx))));
        slot.storage = fx.storage.take();
        slot.timers = std::mem::take(&mut fx.timers);
        slot.timer_next = fx.timer_next;
        let same = match (&storage_before, &slot.storage) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        drop(storage_before);
        slot.rehash(!same);
        ran.map_err(|payload| Panicked(crate::engine::panic_message(payload.as_ref())))
    }
}

/// The client events `state` enables: a redirected request sent again to its node if that
/// node is up, else, for a client with an invocation left, its next op at any node that is up.
fn client_choices<P: Protocol>(
    state: &State<P>,
    clients: &ModelClients,
    ops_max: u32,
    out: &mut Vec<Choice>,
) {
    let up = |id: NodeId| state.nodes[id.index()].proc.is_some();
    for client in 0..clients.count() {
        if let Some(to) = clients.resend_to(client) {
            if up(to) {
                out.push(Choice::Resend { client, node: to });
            }
        } else if clients.can_invoke(client, ops_max) {
            let nodes = (0..state.nodes.len() as u32).map(NodeId).filter(|&n| up(n));
            out.extend(nodes.map(|node| Choice::Invoke { client, node }));
        }
    }
}

/// What `choice` in `state` may change, as monitors are told.
pub(crate) fn touched<P: Protocol>(state: &State<P>, choice: Choice) -> crate::engine::Touched {
    use crate::engine::Touched;
    match choice {
        Choice::Deliver(i) | Choice::Duplicate(i) => Touched::Node(state.net[i as usize].to),
        Choice::Fire { node, .. } => Touched::Node(node),
        Choice::Drop(_) | Choice::Timeout { .. } => Touched::Nothing,
        Choice::Crash(_) | Choice::Restart(_) => Touched::All,
        Choice::Invoke { node, .. } | Choice::Resend { node, .. } => Touched::Node(node),
    }
}

/// Keys the random stream of a restarted node's `on_start`, with the node's state.
const RESTART_KEY: u64 = 0x5245_5354_4152_5400;
