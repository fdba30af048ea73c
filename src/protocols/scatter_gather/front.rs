//! The front end: fans a read out to every shard and merges the answers, hedges late shards
//! at their replicas within the budget, and writes an add to both copies of its shard.

use super::{Bug, Msg, ScatterGather, Tick, copies_of, shard_of};
use crate::history::Value;
use crate::process::{Ctx, NodeId, TimerId};
use crate::workload::{ClientOp, Reply, Request, RequestId};
use std::collections::{BTreeMap, BTreeSet};

/// A read in progress.
#[derive(Clone, Debug, Hash)]
pub(super) struct Query {
    /// Each shard that answered, with its elements.
    answered: BTreeMap<u32, Vec<i64>>,
    /// The shards asked again at their replica.
    hedged: BTreeSet<u32>,
    hedge_timer: Option<TimerId>,
    deadline: TimerId,
}

/// An add in progress.
#[derive(Clone, Debug, Hash)]
pub(super) struct Add {
    /// The copies that synced the element.
    stored: BTreeSet<NodeId>,
    deadline: TimerId,
}

impl ScatterGather {
    /// Serves a set client: `add` writes both copies of a shard, `read` asks every shard.
    pub(super) fn serve(&mut self, ctx: &mut Ctx<'_, Self>, request: Request) {
        match request.op {
            ClientOp::Add { value } => self.start_add(ctx, request.id, value),
            ClientOp::Read { .. } => self.start_query(ctx, request.id),
            _ => ctx.reply(
                request.id,
                Reply::Fail("scatter-gather serves only the set workload: add and read"),
            ),
        }
    }

    fn start_add(&mut self, ctx: &mut Ctx<'_, Self>, id: RequestId, element: i64) {
        let deadline = ctx.set_timer(self.params.query_timeout, Tick::Deadline { id });
        let add = Add {
            stored: BTreeSet::new(),
            deadline,
        };
        self.adds.insert(id, add);
        for copy in copies_of(shard_of(element, self.nodes), self.nodes) {
            self.deliver(ctx, copy, Msg::Store { id, element });
        }
    }

    /// A copy synced an add's element: the client hears ok once both copies have.
    pub(super) fn on_stored(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, id: RequestId) {
        let Some(add) = self.adds.get_mut(&id) else {
            return;
        };
        add.stored.insert(from);
        if add.stored.len() == 2 {
            let deadline = add.deadline;
            self.adds.remove(&id);
            ctx.cancel_timer(deadline);
            ctx.reply(id, Reply::Ok(Value::Nil));
        }
    }

    fn start_query(&mut self, ctx: &mut Ctx<'_, Self>, id: RequestId) {
        let deadline = ctx.set_timer(self.params.query_timeout, Tick::Deadline { id });
        let hedge_timer = self
            .params
            .hedge_after
            .map(|after| ctx.set_timer(after, Tick::Hedge { id }));
        let query = Query {
            answered: BTreeMap::new(),
            hedged: BTreeSet::new(),
            hedge_timer,
            deadline,
        };
        self.queries.insert(id, query);
        for shard in 0..self.nodes {
            self.requests_sent += 1;
            let [primary, _] = copies_of(shard, self.nodes);
            self.deliver(ctx, primary, Msg::Query { id, shard });
        }
    }

    /// Whether one more hedge keeps this front end within its budget.
    fn hedge_allowed(&self) -> bool {
        if self.bug == Some(Bug::UnbudgetedHedge) {
            return true;
        }
        let budget = u64::from(self.params.hedge_budget_pct);
        (self.hedges_sent + 1) * 100 <= budget * self.requests_sent
    }

    /// `hedge_after` passed: asks the replica of every shard still silent, while the budget
    /// lasts.
    pub(super) fn hedge(&mut self, ctx: &mut Ctx<'_, Self>, id: RequestId) {
        let Some(query) = self.queries.get_mut(&id) else {
            return;
        };
        query.hedge_timer = None;
        let silent: Vec<u32> = (0..self.nodes)
            .filter(|s| !query.answered.contains_key(s))
            .collect();
        for shard in silent {
            if !self.hedge_allowed() {
                ctx.annotate(format!("hedge budget spent: shard {shard} not hedged"));
                break;
            }
            self.hedges_sent += 1;
            if let Some(query) = self.queries.get_mut(&id) {
                query.hedged.insert(shard);
            }
            let [_, replica] = copies_of(shard, self.nodes);
            self.deliver(ctx, replica, Msg::Query { id, shard });
        }
    }

    /// A copy answered for `shard`: the first answer counts, the other copy is told to drop
    /// the request, and the read is answered once every shard is in.
    pub(super) fn on_answer(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        id: RequestId,
        shard: u32,
        elements: Vec<i64>,
    ) {
        let Some(query) = self.queries.get_mut(&id) else {
            return;
        };
        if query.answered.contains_key(&shard) {
            return;
        }
        query.answered.insert(shard, elements);
        let loser = copies_of(shard, self.nodes)
            .into_iter()
            .find(|&copy| copy != from);
        let cancel = query.hedged.contains(&shard);
        let answered = query.answered.len() as u32;
        if let (true, Some(loser)) = (cancel, loser) {
            self.deliver(ctx, loser, Msg::Cancel { id, shard });
        }
        let enough = if self.bug == Some(Bug::MajorityMerge) {
            answered * 2 > self.nodes
        } else {
            answered == self.nodes
        };
        if enough {
            self.finish_query(ctx, id);
        }
    }

    /// Answers read `id` with the union of the shards' elements.
    fn finish_query(&mut self, ctx: &mut Ctx<'_, Self>, id: RequestId) {
        let Some(query) = self.queries.remove(&id) else {
            return;
        };
        ctx.cancel_timer(query.deadline);
        if let Some(timer) = query.hedge_timer {
            ctx.cancel_timer(timer);
        }
        let merged: BTreeSet<i64> = query.answered.into_values().flatten().collect();
        let list = merged.into_iter().map(Value::Int).collect();
        ctx.reply(id, Reply::Ok(Value::List(list)));
    }

    /// A request ran out of time: a read without every shard fails (its answer would be
    /// partial); an add not on both copies is indefinite (it may be on one).
    pub(super) fn deadline(&mut self, ctx: &mut Ctx<'_, Self>, id: RequestId) {
        if let Some(query) = self.queries.remove(&id) {
            if let Some(timer) = query.hedge_timer {
                ctx.cancel_timer(timer);
            }
            let missing: Vec<String> = (0..self.nodes)
                .filter(|s| !query.answered.contains_key(s))
                .map(|s| s.to_string())
                .collect();
            ctx.annotate(format!(
                "read {}/{} fails: no answer from shard(s) {}",
                id.client,
                id.seq,
                missing.join(", ")
            ));
            ctx.reply(id, Reply::Fail("some shard did not answer in time"));
        } else if self.adds.remove(&id).is_some() {
            ctx.reply(id, Reply::Info("the element is not on both copies yet"));
        }
    }
}
