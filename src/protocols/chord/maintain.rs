//! Keeping the ring: stabilization with the successor, notify, predecessor checks, and the
//! successor list that lets a node step over a dead successor.

use super::{Bug, Chord, MISSES_MAX, Msg};
use crate::process::{Ctx, NodeId};

impl Chord {
    /// One round: out of the ring, try to join; in it, check on both neighbours and ask the
    /// successor for its predecessor.
    pub(super) fn stabilize(&mut self, ctx: &mut Ctx<'_, Self>) {
        if !self.joined {
            self.try_join(ctx);
            return;
        }
        self.check_predecessor(ctx);
        if self.successor() == self.me {
            // Alone: whoever notified this node is the rest of the ring.
            if let Some(p) = self.predecessor.filter(|&p| p != self.me) {
                self.set_successor(p);
            } else {
                return;
            }
        }
        if self.successor_asked {
            self.successor_misses += 1;
            if self.successor_misses >= MISSES_MAX {
                self.drop_successor(ctx);
            }
        }
        let succ = self.successor();
        if succ != self.me {
            self.successor_asked = true;
            let asked_at = ctx.now();
            ctx.send(succ, Msg::GetPredecessor { asked_at });
        }
    }

    /// The successor left too many rounds unanswered: the next one on the list takes its
    /// place, or, with none left, the node is alone until a probe finds the ring again.
    fn drop_successor(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.successors.len() == 1 && self.bug == Some(Bug::SingleSuccessor) {
            // Without a list there is no node to fall back on: keep asking the dead one.
            return;
        }
        let dead = self.successors.remove(0);
        if self.successors.is_empty() {
            self.successors.push(self.me);
            // Alone, it may be cut off from the ring; whatever it holds, keys put elsewhere
            // from now on are not among them.
            self.incomplete();
        }
        self.successor_misses = 0;
        self.successor_asked = false;
        let dead = ctx.node_name(dead).to_string();
        let next = ctx.node_name(self.successor()).to_string();
        ctx.annotate(format_args!("gives up on {dead}; successor now {next}"));
    }

    /// Pings the predecessor, and clears it after too many unanswered pings so that the node
    /// before it can take its place.
    fn check_predecessor(&mut self, ctx: &mut Ctx<'_, Self>) {
        let Some(pred) = self.predecessor.filter(|&p| p != self.me) else {
            return;
        };
        if self.bug == Some(Bug::NoPredecessorCheck) {
            return;
        }
        if self.predecessor_asked {
            self.predecessor_misses += 1;
            if self.predecessor_misses >= MISSES_MAX {
                self.predecessor = None;
                self.predecessor_epoch += 1;
                // The arc grows by the dead node's, whose keys may be only on the nodes after
                // this one: not sure of its arc until its successor hands them over.
                self.complete_from = None;
                self.predecessor_misses = 0;
                self.predecessor_asked = false;
                let name = ctx.node_name(pred).to_string();
                ctx.annotate(format_args!("gives up on predecessor {name}"));
                return;
            }
        }
        self.predecessor_asked = true;
        ctx.send(pred, Msg::Ping);
    }

    /// The successor's answer: adopt its predecessor when that lies between the two, take
    /// its successor list as the rest of this one, and notify the (new) successor.
    pub(super) fn on_predecessor(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        (predecessor, epoch, asked_at): (Option<NodeId>, u64, crate::time::SimTime),
        successors: &[NodeId],
    ) {
        if from != self.successor() {
            return;
        }
        self.successor_misses = 0;
        self.successor_asked = false;
        self.successor_names(ctx, (predecessor, epoch), asked_at);
        let (me, succ) = (self.id(), self.ring.id(from));
        let mut list = Vec::with_capacity(successors.len() + 2);
        if let Some(p) = predecessor.filter(|&p| self.ring.between(me, self.ring.id(p), succ)) {
            list.push(p);
        }
        list.push(from);
        list.extend_from_slice(successors);
        self.set_successors(&list);
        let succ = self.successor();
        if succ != from {
            let name = ctx.node_name(succ).to_string();
            ctx.annotate(format_args!("successor now {name}"));
        }
        ctx.send(succ, Msg::Notify);
    }

    /// `from` thinks it is this node's predecessor: it is, if it lies between the one this
    /// node has and this node (or there is none).
    pub(super) fn on_notify(&mut self, from: NodeId) {
        let me = self.id();
        let closer = match self.predecessor {
            None => true,
            Some(p) => self.ring.between(self.ring.id(p), self.ring.id(from), me),
        };
        if from != self.me && closer {
            self.predecessor = Some(from);
            self.predecessor_epoch += 1;
            self.predecessor_misses = 0;
            self.predecessor_asked = false;
        }
    }

    /// Makes `node` the successor, in front of the list.
    pub(super) fn set_successor(&mut self, node: NodeId) {
        let mut list = Vec::with_capacity(self.successors.len() + 1);
        list.push(node);
        list.extend_from_slice(&self.successors);
        self.set_successors(&list);
    }

    /// Sets the successor list from `candidates`, nearest first: each kept entry lies
    /// further clockwise than the one before, so the list stops where the candidates wrap
    /// round past this node, and it holds at most `successors` nodes.
    fn set_successors(&mut self, candidates: &[NodeId]) {
        let me = self.id();
        let mut list: Vec<NodeId> = Vec::with_capacity(self.successors_max);
        let mut last = 0;
        for &n in candidates {
            let d = self.ring.distance(me, self.ring.id(n));
            if n == self.me || d <= last {
                break;
            }
            list.push(n);
            last = d;
            if list.len() == self.successors_max {
                break;
            }
        }
        if list.is_empty() {
            list.push(self.me);
        }
        if list.first() != self.successors.first() {
            self.successor_misses = 0;
            self.successor_asked = false;
        }
        self.successors = list;
    }
}
