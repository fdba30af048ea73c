//! A broker's work as the leader of a partition: appending sends, serving polls, answering
//! fetches, moving the high watermark, and asking the controller to shrink or grow the
//! in-sync replicas.

use super::params::{Acks, Bug};
use super::replica::{Entry, Lead, Replica, persist_append};
use super::{CONTROLLER, Config, FETCH_MAX, LOG_MAX, Msg, PENDING_MAX, ReplicatedLog};
use crate::history::Value;
use crate::process::{Ctx, NodeId};
use crate::workload::{Reply, RequestId};
use std::collections::BTreeMap;

type Cx<'a, 'b> = &'a mut Ctx<'b, ReplicatedLog>;

/// Takes the lead of `key`'s partition for the epoch its record names.
pub(super) fn become_leader(ctx: Cx<'_, '_>, key: u32, r: &mut Replica) {
    let now = ctx.now();
    r.lead = Some(Lead {
        epoch: r.part.leader_epoch,
        epoch_start: r.end(),
        fetched: BTreeMap::new(),
        caught_up_at: r.part.isr.iter().map(|n| (*n, now)).collect(),
        last_fetch: BTreeMap::new(),
        isr_asked: None,
        waiting: Vec::new(),
    });
    let note = format!(
        "{} leads key {key} in epoch {}, its log {} long",
        ctx.node_name(ctx.id()),
        r.part.leader_epoch,
        r.end()
    );
    ctx.annotate(note);
}

/// Gives up the lead: the sends still waiting may or may not survive.
pub(super) fn step_down(ctx: Cx<'_, '_>, r: &mut Replica) {
    if let Some(lead) = r.lead.take() {
        for (_, id) in lead.waiting {
            ctx.reply(
                id,
                Reply::Info("the leader lost the lead before the send was in sync"),
            );
        }
    }
}

/// Appends a send's message and answers it, at once or once it is in sync.
pub(super) fn send(
    ctx: Cx<'_, '_>,
    cfg: &Config,
    key: u32,
    r: &mut Replica,
    msg: (RequestId, i64),
) {
    let (id, msg) = msg;
    let Some(lead) = &mut r.lead else {
        return;
    };
    let params = &cfg.params;
    let all = params.acks == Acks::All && cfg.bug != Some(Bug::AckBeforeIsr);
    let refusal = if all && (r.part.isr.len() as u32) < params.min_insync {
        Some("fewer in-sync replicas than min_insync")
    } else if lead.waiting.len() >= PENDING_MAX {
        Some("too many sends waiting for the in-sync replicas")
    } else if r.log.len() >= LOG_MAX {
        Some("the log is full")
    } else {
        None
    };
    if let Some(why) = refusal {
        ctx.reply(id, Reply::Fail(why));
        return;
    }
    let offset = r.log.len() as u64;
    let entry = Entry {
        epoch: lead.epoch,
        msg,
    };
    persist_append(ctx.storage(), key, offset, &[entry]);
    r.log.push(entry);
    if all {
        lead.waiting.push((offset, id));
    } else {
        // acks: leader (or the bug): answered before any follower has it.
        r.acked = Some((lead.epoch, offset, entry));
        ctx.reply(id, Reply::Ok(Value::Int(offset as i64)));
    }
    advance_hw(ctx, cfg, r);
}

/// Up to `poll_max` messages from `offset` on, below the high watermark.
pub(super) fn poll(ctx: Cx<'_, '_>, cfg: &Config, key: u32, r: &Replica, ask: (RequestId, u64)) {
    let (id, offset) = ask;
    let last =
        r.hw.min(offset.saturating_add(u64::from(cfg.params.poll_max)));
    let batch: Vec<Value> = (offset..last.max(offset))
        .map(|o| {
            let msg = r.log[o as usize].msg;
            Value::List(vec![Value::Int(o as i64), Value::Int(msg)])
        })
        .collect();
    if cfg.bug == Some(Bug::CommitOnPoll) && last > offset {
        // The bug: the group's offset moves past what the consumer has not yet received.
        ctx.send(CONTROLLER, Msg::AutoCommit { key, offset: last });
    }
    ctx.reply(id, Reply::Ok(Value::List(batch)));
}

/// Moves the high watermark to what every in-sync replica has, and answers the sends below
/// it.
pub(super) fn advance_hw(ctx: Cx<'_, '_>, cfg: &Config, r: &mut Replica) {
    let me = ctx.id();
    let isr = r.isr_widest();
    let end = r.end();
    let Some(lead) = &mut r.lead else {
        return;
    };
    let reached = isr
        .iter()
        .map(|n| match *n == me {
            true => end,
            false => lead.fetched.get(n).copied().unwrap_or(0),
        })
        .min()
        .unwrap_or(end);
    r.hw = r.hw.max(reached.min(end));
    let hw = r.hw;
    let enough = isr.len() as u32 >= cfg.params.min_insync;
    let (done, waiting): (Vec<_>, Vec<_>) = lead.waiting.drain(..).partition(|(o, _)| *o < hw);
    lead.waiting = waiting;
    for (offset, id) in done {
        if enough {
            r.acked = Some((lead.epoch, offset, r.log[offset as usize]));
            ctx.reply(id, Reply::Ok(Value::Int(offset as i64)));
        } else {
            ctx.reply(
                id,
                Reply::Info("fewer in-sync replicas than min_insync have it"),
            );
        }
    }
}

/// A follower fetches from `offset` on; its entry before that is of `prev_epoch`.
pub(super) fn on_fetch(
    ctx: Cx<'_, '_>,
    cfg: &Config,
    (from, key): (NodeId, u32),
    r: &mut Replica,
    (epoch, offset, prev_epoch): (u64, u64, u64),
) {
    if r.lead.as_ref().map(|l| l.epoch) != Some(epoch) {
        return;
    }
    if r.epoch_before(offset) != Some(prev_epoch) {
        // Entries of one epoch at one offset are the same everywhere, so everything the
        // follower holds from the first offset of a later epoch here differs from this log.
        let later = r.log.iter().position(|e| e.epoch > prev_epoch);
        let to = later.unwrap_or(r.log.len()) as u64;
        let truncate_to = to.min(offset.saturating_sub(1)).min(r.end());
        ctx.send(
            from,
            Msg::Diverged {
                key,
                epoch,
                truncate_to,
            },
        );
        return;
    }
    let (now, end) = (ctx.now(), r.end());
    let Some(lead) = &mut r.lead else {
        return;
    };
    let (last_at, last_end) = lead
        .last_fetch
        .get(&from)
        .copied()
        .unwrap_or((now, end + 1));
    if offset >= end {
        lead.caught_up_at.insert(from, now);
    } else if offset >= last_end {
        lead.caught_up_at.insert(from, last_at);
    }
    lead.last_fetch.insert(from, (now, end));
    lead.fetched.insert(from, offset);
    advance_hw(ctx, cfg, r);
    let upto = end.min(offset + FETCH_MAX);
    let entries = r.log[offset as usize..upto as usize].to_vec();
    let hw = r.hw;
    ctx.send(
        from,
        Msg::Entries {
            key,
            epoch,
            from: offset,
            entries,
            hw,
        },
    );
    let Some(lead) = &r.lead else {
        return;
    };
    let caught_up = offset >= hw.max(lead.epoch_start);
    if !r.part.isr.contains(&from) && lead.isr_asked.is_none() && caught_up {
        let mut isr = r.part.isr.clone();
        isr.push(from);
        isr.sort_unstable();
        ask_isr(ctx, key, r, isr);
    }
}

/// Drops the followers that have not caught up for `replica_lag_max`, or asks again for
/// the change not yet answered.
pub(super) fn check_isr(ctx: Cx<'_, '_>, cfg: &Config, key: u32, r: &mut Replica) {
    let me = ctx.id();
    let now = ctx.now();
    let Some(lead) = &r.lead else {
        return;
    };
    if let Some(asked) = lead.isr_asked.clone() {
        ask_isr(ctx, key, r, asked);
        return;
    }
    let lag_max = cfg.params.replica_lag_max.0;
    let lagging = |n: &NodeId| {
        let at = lead.caught_up_at.get(n).copied().unwrap_or(now);
        *n != me && now.0.saturating_sub(at.0) > lag_max
    };
    if r.part.isr.iter().any(lagging) {
        let isr: Vec<NodeId> = r.part.isr.iter().copied().filter(|n| !lagging(n)).collect();
        ask_isr(ctx, key, r, isr);
    }
}

fn ask_isr(ctx: Cx<'_, '_>, key: u32, r: &mut Replica, isr: Vec<NodeId>) {
    let Some(lead) = &mut r.lead else {
        return;
    };
    let ask = Msg::AlterIsr {
        key,
        epoch: lead.epoch,
        version: r.part.version,
        isr: isr.clone(),
    };
    lead.isr_asked = Some(isr);
    ctx.send(CONTROLLER, ask);
}
