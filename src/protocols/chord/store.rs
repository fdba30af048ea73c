//! Chord as a store: clients' puts and gets, copies of each key on the nodes after the one
//! responsible for it, and the hand-over of keys to a node that joins in front of them.
//!
//! A client's node looks up the node responsible for the key's identifier and sends it the
//! op. A put is stored there and copied to the next `replicas - 1` nodes of its successor
//! list before the client hears `ok`. A get is answered by the first node that holds the key;
//! a node without it says "nothing there" only when it is responsible for the key and sure to
//! hold every key of its arc (it is *settled*); otherwise it passes the get to its successor,
//! which may still hold the key from before, up to `replicas - 1` times.
//!
//! A node is *complete* when it holds every key of its arc: the ring's creator from the start,
//! any other node once its successor, having taken it as predecessor, hands over the keys
//! outside the arc from the node to the successor, and says the hand-over is whole (it is,
//! when the successor was complete itself). A node stays complete while its arc only
//! shrinks; it is not once its predecessor is given up (the arc grows by the dead node's) or
//! its successor names a node before it as predecessor (the successor may be taking its
//! puts). It is *settled*, and may answer "nothing there", while complete and while its
//! successor's last answer naming it vouches for it: two rounds of stabilization, where the
//! successor gives it up only after four, so that a node paused for longer does not answer
//! for keys put elsewhere meanwhile. A node only stores a put for its own arc, and only while
//! settled, so that no key lands on a node that will not hand it over, nor on nodes that
//! lost their way into a ring of their own.

use super::lookup::{Purpose, Route};
use super::{Bug, Chord, Msg, PUTS_MAX, Tick};
use crate::history::Value;
use crate::process::{Ctx, NodeId, TimerId};
use crate::time::SimTime;
use crate::workload::{ClientOp, Reply, Request, RequestId};

/// The answer to an op other than a put (write) or a get (read).
const PUTS_AND_GETS_ONLY: &str = "chord serves puts and gets only";

/// A put stored here that waits for its replicas before the client hears of it.
#[derive(Clone, Debug, Hash)]
pub(super) struct PendingPut {
    req: RequestId,
    waiting: Vec<NodeId>,
    timer: TimerId,
}

impl Chord {
    /// Whether this node is responsible for identifier `id`: it lies between the predecessor
    /// and this node, or this node is the ring's creator, alone and never notified. Unknown
    /// (false) without a predecessor otherwise: a node alone cannot tell whether it is the
    /// whole ring or was cut off from it.
    fn owns(&self, id: u64) -> bool {
        match self.predecessor {
            Some(p) => self.ring.between_right(self.ring.id(p), id, self.id()),
            None => self.successor() == self.me && self.complete,
        }
    }

    /// Whether this node may answer "nothing there" for a key of its arc: it is complete,
    /// its successor handed over what it held since it last took this node as predecessor,
    /// and the successor's last answer, recent enough that it cannot have given this node up
    /// since, named it as predecessor. Or it is the ring's creator, alone and never notified.
    pub fn is_settled(&self, now: SimTime) -> bool {
        let alone = self.successor() == self.me;
        match self.predecessor {
            None => self.complete && alone,
            Some(_) => {
                let synced = self.complete_from.map(|(s, _)| s) == Some(self.successor());
                self.complete && synced && now < self.vouched_until
            }
        }
    }

    fn keep(&mut self, key: u32, value: i64) {
        if self.store.insert(key, value) != Some(value) {
            self.store_version += 1;
        }
    }

    /// A client's op: looked up from here, then sent to the node responsible.
    pub(super) fn on_client(&mut self, ctx: &mut Ctx<'_, Self>, request: Request) {
        if !self.joined {
            return ctx.reply(request.id, Reply::Redirect(None));
        }
        let Some(key) = request.op.key() else {
            return ctx.reply(request.id, Reply::Fail(PUTS_AND_GETS_ONLY));
        };
        let target = self.ring.key_id(key);
        if self.owns(target) {
            return self.serve(ctx, request.id, request.op);
        }
        match self.route(target) {
            Route::Found(node) => self.send_op(ctx, node, request.id, request.op),
            Route::Next(node) => match self.start_lookup(ctx, Purpose::Client, target, node) {
                Some(lookup) => {
                    self.client_ops.insert(lookup, (request.id, request.op));
                }
                None => ctx.reply(request.id, Reply::Fail("too many lookups under way")),
            },
        }
    }

    /// The lookup for a client's op found `node` responsible.
    pub(super) fn send_client_op(&mut self, ctx: &mut Ctx<'_, Self>, lookup: u64, node: NodeId) {
        if let Some((req, op)) = self.client_ops.remove(&lookup) {
            self.send_op(ctx, node, req, op);
        }
    }

    fn send_op(&mut self, ctx: &mut Ctx<'_, Self>, node: NodeId, req: RequestId, op: ClientOp) {
        if node == self.me {
            return self.serve(ctx, req, op);
        }
        let hops = self.replicas as u32 - 1;
        match op {
            ClientOp::Write { key, value } => ctx.send(node, Msg::Put { req, key, value }),
            ClientOp::Read { key } => ctx.send(node, Msg::Get { req, key, hops }),
            _ => ctx.reply(req, Reply::Fail(PUTS_AND_GETS_ONLY)),
        }
    }

    /// Serves `op` here, as the node the lookup named.
    fn serve(&mut self, ctx: &mut Ctx<'_, Self>, req: RequestId, op: ClientOp) {
        match op {
            ClientOp::Write { key, value } => self.on_put(ctx, req, key, value),
            ClientOp::Read { key } => self.on_get(ctx, req, key, self.replicas as u32 - 1),
            _ => ctx.reply(req, Reply::Fail(PUTS_AND_GETS_ONLY)),
        }
    }

    /// Messages of the store; `Put` and `Get` reach a node out of the ring too.
    pub(super) fn on_store_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Put { req, .. } | Msg::Get { req, .. } if !self.joined => {
                ctx.reply(req, Reply::Fail("the node asked is not in the ring"));
            }
            Msg::Put { req, key, value } => {
                // A copy the network made of a put already answered: acting on it after a
                // refusal would store a put its client was told failed.
                if self
                    .put_seqs
                    .get(&req.client)
                    .is_some_and(|&seq| req.seq <= seq)
                {
                    return;
                }
                self.put_seqs.insert(req.client, req.seq);
                self.on_put(ctx, req, key, value);
            }
            Msg::Get { req, key, hops } => self.on_get(ctx, req, key, hops),
            _ if !self.joined => {}
            Msg::Replicate { put, key, value } => {
                self.keep(key, value);
                ctx.send(from, Msg::Replicated { put });
            }
            Msg::Replicated { put } => self.on_replicated(ctx, from, put),
            Msg::Push { items } => {
                for (key, value) in items {
                    self.keep(key, value);
                }
            }
            Msg::Pull => self.on_pull(ctx, from),
            Msg::Keys {
                items,
                complete,
                epoch,
            } => self.on_keys(ctx, from, (items, complete, epoch)),
            _ => {}
        }
    }

    fn on_put(&mut self, ctx: &mut Ctx<'_, Self>, req: RequestId, key: u32, value: i64) {
        if !self.owns(self.ring.key_id(key)) {
            return ctx.reply(req, Reply::Fail("not the node responsible for the key"));
        }
        // A key stored on a node unsure of its arc could land where the ring does not look:
        // on a node that lost its way into a ring of its own, or on one just back from a
        // pause whose successor took its arc meanwhile.
        if !self.is_settled(ctx.now()) {
            return ctx.reply(
                req,
                Reply::Fail("the node responsible is not sure of its arc yet"),
            );
        }
        if self.puts.len() >= PUTS_MAX {
            return ctx.reply(req, Reply::Fail("too many puts under way"));
        }
        self.keep(key, value);
        let waiting: Vec<NodeId> = self.replica_nodes().to_vec();
        if waiting.is_empty() {
            return ctx.reply(req, Reply::Ok(Value::Nil));
        }
        let put = self.put_next;
        self.put_next += 1;
        for &n in &waiting {
            ctx.send(n, Msg::Replicate { put, key, value });
        }
        let timer = ctx.set_timer(self.timing.lookup_timeout, Tick::PutTimeout { put });
        self.puts.insert(
            put,
            PendingPut {
                req,
                waiting,
                timer,
            },
        );
    }

    /// The nodes that keep copies of this node's keys: the first `replicas - 1` of its
    /// successor list (none when it is alone).
    fn replica_nodes(&self) -> &[NodeId] {
        if self.successor() == self.me {
            return &[];
        }
        let count = (self.replicas - 1).min(self.successors.len());
        &self.successors[..count]
    }

    fn on_replicated(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, put: u64) {
        let Some(pending) = self.puts.get_mut(&put) else {
            return;
        };
        pending.waiting.retain(|&n| n != from);
        if pending.waiting.is_empty() {
            let pending = self.puts.remove(&put).expect("looked up above");
            ctx.cancel_timer(pending.timer);
            ctx.reply(pending.req, Reply::Ok(Value::Nil));
        }
    }

    /// Some replica did not answer: the key is stored here and maybe on some replicas, so the
    /// put may or may not last.
    pub(super) fn on_put_timeout(&mut self, ctx: &mut Ctx<'_, Self>, put: u64) {
        if let Some(pending) = self.puts.remove(&put) {
            ctx.reply(
                pending.req,
                Reply::Info("a replica did not confirm its copy in time"),
            );
        }
    }

    fn on_get(&mut self, ctx: &mut Ctx<'_, Self>, req: RequestId, key: u32, hops: u32) {
        if let Some(&value) = self.store.get(&key) {
            return ctx.reply(req, Reply::Ok(Value::Int(value)));
        }
        if self.owns(self.ring.key_id(key)) && self.is_settled(ctx.now()) {
            return ctx.reply(req, Reply::Ok(Value::Nil));
        }
        let next = self.successor();
        if hops == 0 || next == self.me {
            return ctx.reply(
                req,
                Reply::Fail("no node asked holds the key or is sure of it"),
            );
        }
        ctx.send(
            next,
            Msg::Get {
                req,
                key,
                hops: hops - 1,
            },
        );
    }

    /// Copies the keys of this node's arc to its replicas: a replica that restarted empty, or
    /// a node that has just become one, gets them back.
    pub(super) fn push_replicas(&mut self, ctx: &mut Ctx<'_, Self>) {
        let Some(pred) = self.predecessor.filter(|_| self.joined) else {
            return;
        };
        let (from, to) = (self.ring.id(pred), self.id());
        let items: Vec<(u32, i64)> = self
            .store
            .iter()
            .filter(|&(&k, _)| self.ring.between_right(from, self.ring.key_id(k), to))
            .map(|(&k, &v)| (k, v))
            .collect();
        if items.is_empty() {
            return;
        }
        for &n in self.replica_nodes() {
            ctx.send(
                n,
                Msg::Push {
                    items: items.clone(),
                },
            );
        }
    }

    /// The successor's answer, to the question asked at `asked_at`, names `predecessor`,
    /// which it has had since its predecessor's `epoch`-th change. If this node, the
    /// successor vouches for its arc for two rounds; unless it handed its keys over since it
    /// last took this node as predecessor, it is asked to (it may have taken puts for this
    /// node's arc while its predecessor was another). If a node before this one, the
    /// successor may be taking puts for this node's arc right now.
    pub(super) fn successor_names(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        (predecessor, epoch): (Option<NodeId>, u64),
        asked_at: SimTime,
    ) {
        let succ = self.successor();
        match predecessor {
            Some(p) if p == self.me => {
                self.vouched_until = asked_at + self.timing.stabilize + self.timing.stabilize;
                if self.complete_from != Some((succ, epoch)) {
                    self.complete_from = None;
                    if self.predecessor.is_some() {
                        ctx.send(succ, Msg::Pull);
                    }
                }
            }
            // A node that joined between the two, or a successor without a predecessor (it
            // refuses puts until it has one): this node's arc is still its own.
            Some(p)
                if self
                    .ring
                    .between(self.id(), self.ring.id(p), self.ring.id(succ)) => {}
            None => {}
            Some(_) => self.complete_from = None,
        }
    }

    /// This node may lack keys of its arc, and needs a whole hand-over to be sure again.
    pub(super) fn incomplete(&mut self) {
        self.complete = false;
        self.complete_from = None;
    }

    /// `from` asks for the keys outside the arc from it to this node: handed over only to the
    /// predecessor, which will take puts for them from now on (this node no longer does).
    fn on_pull(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId) {
        if self.predecessor != Some(from) {
            return;
        }
        let (lo, hi) = (self.ring.id(from), self.id());
        let complete = self.is_settled(ctx.now());
        let items: Vec<(u32, i64)> = match self.bug {
            // The new node is told it has everything, and given nothing.
            Some(Bug::NoHandover) => {
                let epoch = self.predecessor_epoch;
                let keys = Msg::Keys {
                    items: Vec::new(),
                    complete: true,
                    epoch,
                };
                return ctx.send(from, keys);
            }
            _ => self
                .store
                .iter()
                .filter(|&(&k, _)| !self.ring.between_right(lo, self.ring.key_id(k), hi))
                .map(|(&k, &v)| (k, v))
                .collect(),
        };
        let epoch = self.predecessor_epoch;
        ctx.send(
            from,
            Msg::Keys {
                items,
                complete,
                epoch,
            },
        );
    }

    fn on_keys(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        (items, complete, epoch): (Vec<(u32, i64)>, bool, u64),
    ) {
        if from != self.successor() || self.predecessor.is_none() {
            return;
        }
        let before = self.store.len();
        for (key, value) in items {
            self.keep(key, value);
        }
        // A complete node stays so whatever it is handed (its arc is what it was); a node
        // that is not needs a hand-over from a successor sure of its own arc.
        if complete && !self.complete {
            self.complete = true;
            let name = ctx.node_name(from).to_string();
            let taken = self.store.len() - before;
            ctx.annotate(format_args!(
                "takes over its keys from {name} ({taken} new)"
            ));
        }
        if self.complete {
            self.complete_from = Some((from, epoch));
        }
    }
}
