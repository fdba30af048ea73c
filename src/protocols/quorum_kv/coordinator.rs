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
                let (acked, fallbacks) = (BTreeSet::new(), BTreeMap::new());
                (
                    key,
                    Kind::Write {
                        slot,
                        acked,
                        fallbacks,
                    },
                )
            }
            // A quorum store has no single place where a read and a write happen together.
            ClientOp::Cas { .. } | ClientOp::Append { .. } => {
                let why = "quorum-kv serves no cas or append: replicas cannot agree on a \
                           read-modify-write without consensus";
                ctx.reply(request.id, Reply::Fail(why));
                return;
            }
            ClientOp::Add { .. }
            | ClientOp::Generate
            | ClientOp::Txn(_)
            | ClientOp::Send { .. }
            | ClientOp::Poll { .. }
            | ClientOp::Commit { .. }
            | ClientOp::Committed { .. } => {
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
                Kind::Write { slot, acked, .. } if first || !acked.contains(&to) => Msg::Store {
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
            Kind::Write { slot, acked, .. } if v >= slot.version => {
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
        let behind = if chosen.is_none() && replies.len() >= r {
            choose(replies, chosen, holders)
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
            Kind::Write {
                acked, fallbacks, ..
            } => replicas_of(p.key, self.n, self.node_count)
                .iter()
                .all(|h| acked.contains(h) || fallbacks.get(h).is_some_and(|f| acked.contains(f))),
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
            if self.sloppy {
                self.enlist_fallbacks(ctx, op);
            }
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

/// The read has its `r` replies: it settles on the newest of them, counts the repliers that
/// hold it, and returns those that answered with older versions (to be repaired).
fn choose(
    replies: &BTreeMap<NodeId, Option<Slot>>,
    chosen: &mut Option<Option<Slot>>,
    holders: &mut BTreeSet<NodeId>,
) -> Vec<NodeId> {
    let newest = replies
        .values()
        .flatten()
        .max_by_key(|s| s.version)
        .cloned();
    let at_least = newest.as_ref().map(|s| s.version);
    let mut behind = Vec::new();
    for (&node, held) in replies {
        if held.as_ref().map(|s| s.version) >= at_least {
            holders.insert(node);
        } else {
            behind.push(node);
        }
    }
    *chosen = Some(newest);
    behind
}

fn read_kind() -> Kind {
    Kind::Read {
        replies: BTreeMap::new(),
        chosen: None,
        holders: BTreeSet::new(),
    }
}

impl QuorumKv {
    /// Sloppy quorums: each replica that has not acknowledged write `op` gets a stand-in, a
    /// node after the key's replicas in ring order that stands in for no other, which keeps
    /// the write as a hint. A stand-in that has not answered by the next resend is replaced
    /// by the next spare node, so a write finds a live stand-in if there is one.
    fn enlist_fallbacks(&mut self, ctx: &mut Ctx<'_, Self>, op: u64) {
        let Some(p) = self.pending.get_mut(&op) else {
            return;
        };
        let Kind::Write {
            slot,
            acked,
            fallbacks,
        } = &mut p.kind
        else {
            return;
        };
        let key = p.key;
        let homes = replicas_of(key, self.n, self.node_count);
        let count = self.node_count;
        let spares: Vec<NodeId> = (0..count)
            .map(|i| NodeId((key % count + i) % count))
            .filter(|n| !homes.contains(n))
            .collect();
        let mut out = Vec::new();
        for &home in homes.iter().filter(|h| !acked.contains(h)) {
            let current = fallbacks.get(&home).copied();
            if current.is_some_and(|f| acked.contains(&f)) {
                continue;
            }
            // The spare after the current stand-in (ring order, wrapping), which stands in
            // for no other replica; the current one again if there is none.
            let after = current.and_then(|f| spares.iter().position(|&s| s == f));
            let start = after.map_or(0, |i| i + 1);
            let taken = |s: &NodeId| fallbacks.iter().any(|(h, f)| f == s && *h != home);
            let next = (0..spares.len())
                .map(|i| spares[(start + i) % spares.len()])
                .find(|s| !taken(s));
            let Some(stand_in) = next else { continue };
            fallbacks.insert(home, stand_in);
            let slot = slot.clone();
            out.push((
                stand_in,
                Msg::Hinted {
                    op,
                    key,
                    slot,
                    home,
                },
            ));
        }
        for (to, msg) in out {
            self.send(ctx, to, msg);
        }
    }
}
