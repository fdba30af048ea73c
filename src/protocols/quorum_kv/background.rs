//! Repair in the background: periodic anti-entropy between replicas.

use super::{Msg, QuorumKv, SYNC_ENTRIES_MAX, Slot, Tick};
use crate::process::{Ctx, NodeId};

impl QuorumKv {
    /// Sends a random peer this node's slots of the keys both replicate.
    pub(super) fn exchange(&mut self, ctx: &mut Ctx<'_, Self>) {
        if let Some(peer) = ctx.random_peer() {
            let entries = self.shared_with(peer);
            if !entries.is_empty() {
                ctx.send(peer, Msg::Sync { entries });
            }
        }
        if let Some(every) = self.anti_entropy {
            ctx.set_timer(every, Tick::AntiEntropy);
        }
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
