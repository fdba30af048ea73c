//! The coordinator's side: a client's read or write, sent to the key's replicas, answered
//! after its quorum, resent on a timer, and given up at its deadline.

use super::{Bug, Kind, Msg, PENDING_MAX, Pending, QuorumKv, Slot, Tick, Version, replicas_of};
use crate::history::Value;
use crate::process::{Ctx, NodeId};
use crate::workload::{ClientOp, Reply, Request};
use std::collections::{BTreeMap, BTreeSet};

impl QuorumKv {
    /// Coordinates a client's request: a write or a read of one key.
    pub(super) fn coordinate(&mut self, ctx: &mut Ctx<'_, Self>, request: Request) {
        let (key, kind) = match request.op {
            ClientOp::Read { key } => (key, read_kind()),
            ClientOp::Write { key, value } => {
                let version = self.stamp(ctx);
                let value = Value::Int(value);
                let slot = Slot { version, value };
                let acked = BTreeSet::new();
                (key, Kind::Write { slot, acked })
            }
            // A quorum store has no single place where a read and a write happen together.
            ClientOp::Cas { .. } | ClientOp::Append { .. } => {
                let why = "quorum-kv serves no cas or append: replicas cannot agree on a \
                           read-modify-write without consensus";
                ctx.reply(request.id, Reply::Fail(why));
                return;
            }
            ClientOp::Add { .. } | ClientOp::Generate => {
                ctx.reply(request.id, Reply::Fail("quorum-kv serves reads and writes"));
                return;
            }
        };
        if self.pending.len() >= PENDING_MAX {
            ctx.reply(
                request.id,
                Reply::Fail("coordinator busy: too many open requests"),
            );
            return;
        }
        let op = self.next_op;
        self.next_op += 1;
        let deadline = ctx.now() + self.timeout;
        let pending = Pending {
            request: request.id,
            key,
            deadline,
            answered: false,
            kind,
        };
        self.pending.insert(op, pending);
        ctx.set_timer(self.retry_interval, Tick::Retry(op));
        self.contact(ctx, op, true);
    }

    /// The version of a new write: this node's clock, never twice the same.
    pub(super) fn stamp(&mut self, ctx: &mut Ctx<'_, Self>) -> Version {
        self.last_ts = ctx.now().as_nanos().max(self.last_ts + 1);
        Version {
            ts: self.last_ts,
            node: self.id.0,
        }
    }

    /// Sends request `op` to the replicas that have not answered it (to all when `first`).
    pub(super) fn contact(&mut self, ctx: &mut Ctx<'_, Self>, op: u64, first: bool) {
        let Some(p) = self.pending.get(&op) else {
            return;
        };
        let key = p.key;
        let mut out = Vec::new();
        for to in self.replicas(key) {
            let msg = match &p.kind {
                Kind::Write { slot, acked } if first || !acked.contains(&to) => Msg::Store {
                    op,
                    key,
                    slot: slot.clone(),
                },
                Kind::Read { replies, .. } if first || !replies.contains_key(&to) => {
                    Msg::Fetch { op, key }
                }
                Kind::Read {
                    chosen: Some(Some(slot)),
                    holders,
                    ..
                } if !holders.contains(&to) && self.bug != Some(Bug::NoReadRepair) => Msg::Store {
                    op,
                    key,
                    slot: slot.clone(),
                },
                _ => continue,
            };
            out.push((to, msg));
        }
        for (to, msg) in out {
            self.send(ctx, to, msg);
        }
    }

    pub(super) fn on_stored(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        op: u64,
        key: u32,
        v: Version,
    ) {
        let w = self.w;
        let Some(p) = self.pending.get_mut(&op).filter(|p| p.key == key) else {
            return;
        };
        match &mut p.kind {
            Kind::Write { slot, acked } if v >= slot.version => {
                acked.insert(from);
                if acked.len() >= w && !p.answered {
                    p.answered = true;
                    ctx.reply(p.request, Reply::Ok(Value::Nil));
                }
            }
            Kind::Read {
                chosen: Some(Some(slot)),
                holders,
                ..
            } if v >= slot.version => {
                holders.insert(from);
            }
            _ => return,
        }
        self.settle(ctx, op);
    }

    pub(super) fn on_fetched(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        op: u64,
        key: u32,
        slot: Option<Slot>,
    ) {
        let (r, no_repair) = (self.r, self.bug == Some(Bug::NoReadRepair));
        let Some(p) = self.pending.get_mut(&op).filter(|p| p.key == key) else {
            return;
        };
        let Kind::Read {
            replies,
            chosen,
            holders,
        } = &mut p.kind
        else {
            return;
        };
        replies.insert(from, slot.clone());
        let behind: Vec<NodeId> = if chosen.is_none() && replies.len() >= r {
            let newest = replies
                .values()
                .flatten()
                .max_by_key(|s| s.version)
                .cloned();
            let at_least = newest.as_ref().map(|s| s.version);
            for (&node, held) in replies.iter() {
                if held.as_ref().map(|s| s.version) >= at_least {
                    holders.insert(node);
                }
            }
            *chosen = Some(newest);
            replies
                .keys()
                .filter(|n| !holders.contains(n))
                .copied()
                .collect()
        } else if let Some(newest) = chosen {
            if slot.as_ref().map(|s| s.version) >= newest.as_ref().map(|s| s.version) {
                holders.insert(from);
                Vec::new()
            } else {
                vec![from]
            }
        } else {
            Vec::new()
        };
        // Read repair: the replicas that answered with older versions get the chosen one.
        if let (
            false,
            Kind::Read {
                chosen: Some(Some(newest)),
                ..
            },
        ) = (no_repair, &p.kind)
        {
            let slot = newest.clone();
            for to in behind {
                let msg = Msg::Store {
                    op,
                    key,
                    slot: slot.clone(),
                };
                self.send(ctx, to, msg);
            }
        }
        self.settle(ctx, op);
    }

    /// Answers request `op` when it can, and forgets it once every replica is up to date.
    pub(super) fn settle(&mut self, ctx: &mut Ctx<'_, Self>, op: u64) {
        let Some(p) = self.pending.get_mut(&op) else {
            return;
        };
        let all = replicas_of(p.key, self.n, self.node_count).len();
        let done = match &p.kind {
            Kind::Write { acked, .. } => acked.len() >= all,
            Kind::Read {
                replies,
                chosen: Some(chosen),
                holders,
            } => {
                // Nothing to write back when no replica held the key; without read repair,
                // the read answers as soon as it has its quorum.
                let enough = chosen.is_none()
                    || holders.len() >= self.w
                    || self.bug == Some(Bug::NoReadRepair);
                if enough && !p.answered {
                    p.answered = true;
                    let value = chosen.as_ref().map_or(Value::Nil, |s| s.value.clone());
                    ctx.reply(p.request, Reply::Ok(value));
                }
                replies.len() >= all && (holders.len() >= all || chosen.is_none())
            }
            Kind::Read { .. } => false,
        };
        if done && p.answered {
            self.pending.remove(&op);
        }
    }

    pub(super) fn on_retry(&mut self, ctx: &mut Ctx<'_, Self>, op: u64) {
        let now = ctx.now();
        let Some(p) = self.pending.get(&op) else {
            return;
        };
        if now < p.deadline {
            self.contact(ctx, op, false);
            ctx.set_timer(self.retry_interval, Tick::Retry(op));
            return;
        }
        let p = self.pending.remove(&op).expect("just seen");
        if p.answered {
            return;
        }
        let reply = match p.kind {
            Kind::Write { .. } => Reply::Info("write timed out before w replicas held it"),
            Kind::Read { .. } => Reply::Fail("read timed out before r replicas answered"),
        };
        ctx.reply(p.request, reply);
    }
}

fn read_kind() -> Kind {
    Kind::Read {
        replies: BTreeMap::new(),
        chosen: None,
        holders: BTreeSet::new(),
    }
}
