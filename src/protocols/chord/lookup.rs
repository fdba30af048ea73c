//! Iterative lookups: the asker hops from node to node towards the node responsible for a
//! target, and what it does with the answer depends on why it asked.

use super::{Chord, LOOKUPS_MAX, Msg, Tick};
use crate::process::{Ctx, NodeId, TimerId};
use crate::workload::Reply;
use rand::RngExt;

/// Why a node looks an identifier up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Purpose {
    /// The successor of this node's own identifier: where it joins the ring.
    Join,
    /// Finger `i`.
    Finger(u32),
    /// The successor of the identifier after this node's own, asked of a random node: a
    /// closer successor than the one it has, if the asked node is in another ring.
    Probe,
    /// The node responsible for a client's key; the op waits in `client_ops` under the
    /// lookup's number.
    Client,
}

/// A lookup under way.
#[derive(Clone, Debug, Hash)]
pub(super) struct Lookup {
    purpose: Purpose,
    target: u64,
    /// The node asked last, the only one whose answer counts.
    asked: NodeId,
    hops: u32,
    timer: TimerId,
}

/// What a node that knows the ring says of a target.
pub(super) enum Route {
    /// This node is responsible for the target.
    Found(NodeId),
    /// Ask this node next: the closest one before the target that the asked node knows.
    Next(NodeId),
}

impl Chord {
    /// Most hops one lookup may take: every hop at least halves the distance to the target
    /// when fingers are right, and steps one node on when they are not.
    fn hops_max(&self) -> u32 {
        self.ring.bits() + self.successors.len() as u32 + 2 * self.fingers.len() as u32
    }

    /// Where a lookup for `target` goes from here.
    pub(super) fn route(&self, target: u64) -> Route {
        let (me, succ) = (self.id(), self.successor());
        if self.ring.between_right(me, target, self.ring.id(succ)) {
            return Route::Found(succ);
        }
        // The successor lies between this node and the target (the target is not at or
        // before it), so some node always qualifies.
        let closest = self
            .fingers
            .iter()
            .flatten()
            .chain(&self.successors)
            .copied()
            .filter(|&n| self.ring.between(me, self.ring.id(n), target))
            .max_by_key(|&n| self.ring.distance(me, self.ring.id(n)))
            .unwrap_or(succ);
        Route::Next(closest)
    }

    /// Starts a lookup for `target`, asking `first`; its number, or `None` when too many are
    /// under way or one for the same purpose already is (the next round tries again).
    pub(super) fn start_lookup(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        purpose: Purpose,
        target: u64,
        first: NodeId,
    ) -> Option<u64> {
        let busy =
            purpose != Purpose::Client && self.lookups.values().any(|l| l.purpose == purpose);
        if busy || self.lookups.len() >= LOOKUPS_MAX {
            return None;
        }
        let lookup = self.lookup_next;
        self.lookup_next += 1;
        let timer = self.ask(ctx, lookup, target, first, 0);
        let entry = Lookup {
            purpose,
            target,
            asked: first,
            hops: 0,
            timer,
        };
        self.lookups.insert(lookup, entry);
        Some(lookup)
    }

    fn ask(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        lookup: u64,
        target: u64,
        to: NodeId,
        hops: u32,
    ) -> TimerId {
        ctx.send(to, Msg::FindSuccessor { lookup, target });
        ctx.set_timer(
            self.timing.lookup_timeout,
            Tick::LookupTimeout { lookup, hops },
        )
    }

    /// A lookup for `target` starting here: answered at once when this node is responsible,
    /// else sent on.
    fn lookup_from_here(&mut self, ctx: &mut Ctx<'_, Self>, purpose: Purpose, target: u64) {
        match self.route(target) {
            Route::Found(node) => self.finish(ctx, purpose, None, node),
            Route::Next(node) => {
                self.start_lookup(ctx, purpose, target, node);
            }
        }
    }

    pub(super) fn on_found(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        lookup: u64,
        node: NodeId,
    ) {
        let Some(entry) = self.answered(ctx, from, lookup) else {
            return;
        };
        self.finish(ctx, entry.purpose, Some(lookup), node);
    }

    pub(super) fn on_closer(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        lookup: u64,
        node: NodeId,
    ) {
        let Some(mut entry) = self.answered(ctx, from, lookup) else {
            return;
        };
        entry.hops += 1;
        if entry.hops > self.hops_max() {
            return self.lookup_failed(ctx, entry.purpose, lookup);
        }
        // Pointed back at itself: a node in the ring carries on from what it knows; one
        // still joining is listed by a ring that has not noticed its crash yet, and tries
        // again later.
        let mut next = node;
        if node == self.me {
            if !self.joined {
                return self.lookup_failed(ctx, entry.purpose, lookup);
            }
            match self.route(entry.target) {
                Route::Found(owner) => return self.finish(ctx, entry.purpose, Some(lookup), owner),
                Route::Next(n) if n == self.me => {
                    return self.lookup_failed(ctx, entry.purpose, lookup);
                }
                Route::Next(n) => next = n,
            }
        }
        entry.timer = self.ask(ctx, lookup, entry.target, next, entry.hops);
        entry.asked = next;
        self.lookups.insert(lookup, entry);
    }

    /// The lookup `from` just answered, taken off the table; `None` for a stale or
    /// duplicated answer.
    fn answered(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, lookup: u64) -> Option<Lookup> {
        if self.lookups.get(&lookup)?.asked != from {
            return None;
        }
        let entry = self.lookups.remove(&lookup)?;
        ctx.cancel_timer(entry.timer);
        Some(entry)
    }

    pub(super) fn on_lookup_timeout(&mut self, ctx: &mut Ctx<'_, Self>, lookup: u64, hops: u32) {
        let Some(entry) = self.lookups.get(&lookup) else {
            return;
        };
        if entry.hops != hops {
            return;
        }
        // The silent node may be down: no lookup should route through it until a finger
        // lookup finds it again.
        let (silent, purpose) = (entry.asked, entry.purpose);
        self.lookups.remove(&lookup);
        for finger in &mut self.fingers {
            if *finger == Some(silent) {
                *finger = None;
            }
        }
        self.lookup_failed(ctx, purpose, lookup);
    }

    /// Lookup `lookup` ended without an answer: a client's op waiting on it fails (nothing
    /// was sent on for it); the ring's own lookups are tried again in a later round.
    fn lookup_failed(&mut self, ctx: &mut Ctx<'_, Self>, purpose: Purpose, lookup: u64) {
        if purpose == Purpose::Client
            && let Some((req, _)) = self.client_ops.remove(&lookup)
        {
            ctx.reply(
                req,
                Reply::Fail("the lookup of the key's node got no answer"),
            );
        }
    }

    /// `node` is responsible for the target of `lookup` (`None`: answered here).
    fn finish(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        purpose: Purpose,
        lookup: Option<u64>,
        node: NodeId,
    ) {
        match purpose {
            Purpose::Join => self.join_at(ctx, node),
            Purpose::Finger(i) => {
                if self.joined {
                    self.fingers[i as usize] = Some(node);
                }
            }
            Purpose::Probe => self.adopt_probed(ctx, node),
            Purpose::Client => {
                if let Some(lookup) = lookup {
                    self.send_client_op(ctx, lookup, node);
                }
            }
        }
    }

    /// Out of the ring: ask the next node in turn where this node belongs.
    pub(super) fn try_join(&mut self, ctx: &mut Ctx<'_, Self>) {
        let count = ctx.node_count();
        if count < 2 {
            return;
        }
        let mut contact = NodeId(self.contact_next % count);
        if contact == self.me {
            contact = NodeId((contact.0 + 1) % count);
        }
        self.contact_next = (contact.0 + 1) % count;
        let target = self.id();
        self.start_lookup(ctx, Purpose::Join, target, contact);
    }

    fn join_at(&mut self, ctx: &mut Ctx<'_, Self>, successor: NodeId) {
        if self.joined || successor == self.me {
            return;
        }
        self.joined = true;
        self.successors = vec![successor];
        self.predecessor = None;
        self.predecessor_epoch += 1;
        self.successor_misses = 0;
        self.successor_asked = false;
        let name = ctx.node_name(successor).to_string();
        ctx.annotate(format_args!("joins the ring before {name}"));
    }

    /// Looks up the next finger in turn.
    pub(super) fn fix_finger(&mut self, ctx: &mut Ctx<'_, Self>) {
        if !self.joined {
            return;
        }
        let i = self.finger_next;
        self.finger_next = (i + 1) % self.ring.bits();
        let target = self.ring.finger_start(self.id(), i);
        self.lookup_from_here(ctx, Purpose::Finger(i), target);
    }

    /// Asks a random other node for the successor of the identifier after this one.
    pub(super) fn probe(&mut self, ctx: &mut Ctx<'_, Self>) {
        let count = ctx.node_count();
        if !self.joined || count < 2 {
            return;
        }
        let offset = ctx.rng().random_range(1..count);
        let other = NodeId((self.me.0 + offset) % count);
        let target = self.ring.next_id(self.id());
        self.start_lookup(ctx, Purpose::Probe, target, other);
    }

    /// A probe's answer: adopted when it is closer than the successor, which happens when
    /// the probed node is in another ring, or this node's view is behind.
    fn adopt_probed(&mut self, ctx: &mut Ctx<'_, Self>, node: NodeId) {
        let (me, succ) = (self.id(), self.ring.id(self.successor()));
        if !self.joined || node == self.me || !self.ring.between(me, self.ring.id(node), succ) {
            return;
        }
        self.set_successor(node);
        let name = ctx.node_name(node).to_string();
        ctx.annotate(format_args!(
            "a probe finds {name}, closer than its successor"
        ));
    }
}
