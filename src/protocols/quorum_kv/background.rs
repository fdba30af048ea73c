//! Repair in the background: periodic anti-entropy between replicas, and hinted handoff.

use super::{
    HANDOFF_BATCH_MAX, HANDOFF_OP, HINT_PREFIX, HINTS_MAX, Msg, QuorumKv, SYNC_ENTRIES_MAX, Slot,
    Tick, Version, slot,
};
use crate::process::{Ctx, NodeId};

impl QuorumKv {
    /// Sends each peer that replicates a key this node holds its slots of the keys both
    /// replicate. Every co-replica each round, not one random peer: once faults stop, one
    /// round and a message delay bring every up replica of a key to the newest version among
    /// them, so a run's quiet tail of `anti_entropy` and a little more is enough to converge.
    pub(super) fn exchange(&mut self, ctx: &mut Ctx<'_, Self>) {
        for peer in self.co_replicas() {
            let entries = self.shared_with(peer);
            if !entries.is_empty() {
                ctx.send(peer, Msg::Sync { entries });
            }
        }
        if let Some(every) = self.anti_entropy {
            ctx.set_timer(every, Tick::AntiEntropy);
        }
    }

    /// The other replicas of the keys this node holds, in id order; at most `2 (n - 1)`, as
    /// a key's replicas are `n` nodes in a row on the ring.
    fn co_replicas(&self) -> Vec<NodeId> {
        let mut peers = std::collections::BTreeSet::new();
        let reach = (self.n.saturating_sub(1) * 2).min(self.node_count.saturating_sub(1));
        for &key in self.store.keys() {
            if peers.len() as u32 >= reach {
                break;
            }
            peers.extend(self.replicas(key).into_iter().filter(|&p| p != self.id));
        }
        peers.into_iter().collect()
    }

    pub(super) fn shared_with(&self, peer: NodeId) -> Vec<(u32, Slot)> {
        self.store
            .iter()
            .filter(|&(&key, _)| {
                let set = self.replicas(key);
                set.contains(&peer) && set.contains(&self.id)
            })
            .take(SYNC_ENTRIES_MAX)
            .map(|(&key, slot)| (key, slot.clone()))
            .collect()
    }

    pub(super) fn on_sync(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        entries: Vec<(u32, Slot)>,
    ) {
        let mut back = Vec::new();
        for (key, slot) in entries.into_iter().take(SYNC_ENTRIES_MAX) {
            if !self.replicas(key).contains(&self.id) {
                continue;
            }
            let theirs = slot.version;
            if self.keep(ctx, key, slot) > theirs {
                back.push((key, self.store[&key].clone()));
            }
        }
        if !back.is_empty() {
            ctx.send(from, Msg::SyncBack { entries: back });
        }
    }
}

/// Hinted handoff, for sloppy quorums: a fallback keeps writes for a replica it stood in
/// for, and hands them back until the replica acknowledges.
impl QuorumKv {
    pub(super) fn on_hinted(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        op: u64,
        key: u32,
        slot: Slot,
        home: NodeId,
    ) {
        let held = self.hints.get(&(key, home)).map(|s| s.version);
        if held.is_none() && self.hints.len() >= HINTS_MAX {
            return; // Full: the coordinator counts no acknowledgement from this node.
        }
        let version = slot.version;
        if held.is_none_or(|v| version > v) {
            let name = format!("{HINT_PREFIX}{}/{key}", home.0);
            ctx.storage().put(&name, slot::encode(&slot));
            ctx.storage().sync();
            self.hints.insert((key, home), slot);
        }
        let version = held.map_or(version, |v| v.max(version));
        self.send(ctx, from, Msg::Stored { op, key, version });
        self.arm_handoff(ctx);
    }

    pub(super) fn arm_handoff(&mut self, ctx: &mut Ctx<'_, Self>) {
        if !self.handoff_armed && !self.hints.is_empty() {
            self.handoff_armed = true;
            ctx.set_timer(self.retry_interval, Tick::Handoff);
        }
    }

    /// Sends a batch of hints to their replicas; each stays until its replica acknowledges.
    pub(super) fn hand_off(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.handoff_armed = false;
        let batch: Vec<(u32, NodeId, Slot)> = self
            .hints
            .iter()
            .take(HANDOFF_BATCH_MAX)
            .map(|(&(key, home), slot)| (key, home, slot.clone()))
            .collect();
        for (key, home, slot) in batch {
            let msg = Msg::Store {
                op: HANDOFF_OP,
                key,
                slot,
            };
            self.send(ctx, home, msg);
        }
        self.arm_handoff(ctx);
    }

    /// The replica `from` now holds `key` at `version`: the hint is done if it is no newer.
    pub(super) fn on_handed_back(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        key: u32,
        version: Version,
    ) {
        if let Some(slot) = self.hints.get(&(key, from))
            && slot.version <= version
        {
            self.hints.remove(&(key, from));
            ctx.storage()
                .delete(&format!("{HINT_PREFIX}{}/{key}", from.0));
        }
    }
}
