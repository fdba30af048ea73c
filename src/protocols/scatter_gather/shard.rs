//! A copy of a shard: keeps its elements durably, answers queries (some of them late) and
//! drops the ones a front end cancels.

use super::{Msg, ScatterGather, Tick, copies_of, shard_of};
use crate::process::{Ctx, NodeId};
use crate::workload::RequestId;

/// Storage key prefix of a held element.
const ELEMENT_KEY: &str = "element/";

impl ScatterGather {
    /// Adds `elements` to those held, synced to storage; `true` if any was new.
    fn keep(&mut self, ctx: &mut Ctx<'_, Self>, elements: &[i64]) -> bool {
        let mut new = false;
        for &element in elements {
            if self.elements.insert(element) {
                ctx.storage()
                    .put(&format!("{ELEMENT_KEY}{element}"), Vec::new());
                new = true;
            }
        }
        if new {
            ctx.storage().sync();
        }
        new
    }

    /// Anti-entropy: sends the other copy of each shard held here its elements.
    pub(super) fn repair(&mut self, ctx: &mut Ctx<'_, Self>) {
        let nodes = self.nodes;
        let me = self.id.0;
        // This node is the primary of shard `me` and the replica of the shard before.
        for shard in [me, (me + nodes - 1) % nodes] {
            let Some(other) = copies_of(shard, nodes).into_iter().find(|&c| c != self.id) else {
                continue;
            };
            let elements: Vec<i64> = self
                .elements
                .iter()
                .copied()
                .filter(|&e| shard_of(e, nodes) == shard)
                .collect();
            if !elements.is_empty() {
                ctx.send(other, Msg::Repair { shard, elements });
            }
        }
    }

    /// The other copy's elements of a shard: keeps those missing here.
    pub(super) fn on_repair(&mut self, ctx: &mut Ctx<'_, Self>, elements: Vec<i64>) {
        if self.keep(ctx, &elements) {
            ctx.annotate("repaired: elements only the other copy had");
        }
    }

    /// Keeps `element` and syncs it before acknowledging: an acknowledged element survives a
    /// crash of this copy.
    pub(super) fn store(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        id: RequestId,
        element: i64,
    ) {
        self.keep(ctx, &[element]);
        self.deliver(ctx, from, Msg::Stored { id });
    }

    /// After a restart: the elements synced before the crash.
    pub(super) fn recover(&mut self, ctx: &mut Ctx<'_, Self>) {
        let storage = ctx.storage();
        self.elements = storage
            .keys()
            .into_iter()
            .filter_map(|k| k.strip_prefix(ELEMENT_KEY)?.parse().ok())
            .collect();
    }

    /// A front end asks for this copy's elements of `shard`: answered now, or late with
    /// chance `slow_chance`.
    pub(super) fn on_query(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        front: NodeId,
        id: RequestId,
        shard: u32,
    ) {
        let slow = self.params.slow_ppb > 0 && ctx.random_bool(self.params.slow_ppb as f64 / 1e9);
        if slow {
            let tick = Tick::SlowAnswer { front, id, shard };
            let timer = ctx.set_timer(self.params.slow_delay, tick);
            self.delayed.insert((front, id, shard), timer);
        } else {
            self.answer(ctx, front, id, shard);
        }
    }

    pub(super) fn answer(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        front: NodeId,
        id: RequestId,
        shard: u32,
    ) {
        let nodes = self.nodes;
        let elements = self
            .elements
            .iter()
            .copied()
            .filter(|&e| shard_of(e, nodes) == shard)
            .collect();
        self.deliver(
            ctx,
            front,
            Msg::Answer {
                id,
                shard,
                elements,
            },
        );
    }

    /// The other copy answered first: a slow answer still waiting here is dropped.
    pub(super) fn on_cancel(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        front: NodeId,
        id: RequestId,
        shard: u32,
    ) {
        if let Some(timer) = self.delayed.remove(&(front, id, shard)) {
            ctx.cancel_timer(timer);
        }
    }
}
