//! A broker: a replica of every partition. It follows each partition's leader by fetching
//! from it, leads the partitions the controller gives it (see [`super::leader`]), and
//! heartbeats to the controller, which answers with its table of partitions.

use super::leader;
use super::replica::{Entry, Part, Replica, persist_truncate, recover_logs};
use super::{CONTROLLER, Config, Msg, ReplicatedLog, Tick};
use crate::process::{Ctx, NodeId};
use crate::workload::{ClientOp, Reply, Request};
use std::collections::BTreeMap;

type Cx<'a, 'b> = &'a mut Ctx<'b, ReplicatedLog>;

#[derive(Clone, Debug, Hash)]
pub struct Broker {
    /// This broker's replica of each partition it knows of, by key.
    pub replicas: BTreeMap<u32, Replica>,
    /// Whether it has heard the controller's table since it started: a broker back from a
    /// crash neither leads nor follows on what it knew before.
    pub synced: bool,
}

impl Broker {
    pub(super) fn new() -> Broker {
        Broker {
            replicas: BTreeMap::new(),
            synced: true,
        }
    }

    pub fn on_start(&mut self, ctx: Cx<'_, '_>, cfg: &Config) {
        if ctx.is_restart() {
            self.synced = false;
            let n = ctx.node_count();
            for (key, log) in recover_logs(ctx.storage()) {
                self.replicas
                    .insert(key, Replica::new(Part::initial(key, n), log));
            }
        }
        ctx.set_timer(cfg.params.fetch_interval, Tick::Fetch);
        ctx.set_timer(cfg.params.heartbeat_interval, Tick::Heartbeat);
    }

    /// This broker's replica of `key`, made (in the partition's first state) if new.
    fn replica(&mut self, ctx: Cx<'_, '_>, key: u32) -> &mut Replica {
        let n = ctx.node_count();
        self.replicas
            .entry(key)
            .or_insert_with(|| Replica::new(Part::initial(key, n), Vec::new()))
    }

    /// Leads `key` exactly when its record says so (and the broker is synced).
    fn sync_role(&mut self, ctx: Cx<'_, '_>, cfg: &Config, key: u32) {
        let me = ctx.id();
        let synced = self.synced;
        let Some(r) = self.replicas.get_mut(&key) else {
            return;
        };
        let leads = synced && r.part.leader == Some(me);
        let same_term = r.lead.as_ref().map(|l| l.epoch) == Some(r.part.leader_epoch);
        if r.lead.is_some() && !(leads && same_term) {
            leader::step_down(ctx, r);
        }
        if leads && r.lead.is_none() {
            leader::become_leader(ctx, key, r);
        }
        leader::advance_hw(ctx, cfg, r);
    }

    /// The controller's table: every newer record is adopted.
    pub fn on_table(&mut self, ctx: Cx<'_, '_>, cfg: &Config, parts: Vec<(u32, Part)>) {
        self.synced = true;
        for (key, part) in parts {
            let r = self.replica(ctx, key);
            if part.version > r.part.version {
                if let Some(lead) = &mut r.lead
                    && part.version != r.part.version
                {
                    // The controller has answered (or overruled) any change asked.
                    lead.isr_asked = None;
                }
                r.part = part;
            }
            self.sync_role(ctx, cfg, key);
        }
    }

    pub fn on_heartbeat_tick(&mut self, ctx: Cx<'_, '_>, cfg: &Config) {
        ctx.set_timer(cfg.params.heartbeat_interval, Tick::Heartbeat);
        let keys = self.replicas.keys().copied().collect();
        ctx.send(CONTROLLER, Msg::Heartbeat { keys });
    }

    /// Fetches from each leader; as a leader, looks at its in-sync replicas.
    pub fn on_fetch_tick(&mut self, ctx: Cx<'_, '_>, cfg: &Config) {
        ctx.set_timer(cfg.params.fetch_interval, Tick::Fetch);
        if !self.synced {
            return;
        }
        let me = ctx.id();
        for (&key, r) in &mut self.replicas {
            if r.lead.is_some() {
                leader::check_isr(ctx, cfg, key, r);
                continue;
            }
            let Some(l) = r.part.leader.filter(|&l| l != me) else {
                continue;
            };
            // Never follow a record older than the log: its leader would cut newer entries.
            let epoch = r.part.leader_epoch;
            if r.log.last().is_some_and(|e| e.epoch > epoch) {
                continue;
            }
            let offset = r.end();
            let prev_epoch = r.epoch_before(offset).unwrap_or(0);
            ctx.send(
                l,
                Msg::Fetch {
                    key,
                    epoch,
                    offset,
                    prev_epoch,
                },
            );
        }
    }

    pub fn on_fetch(
        &mut self,
        ctx: Cx<'_, '_>,
        cfg: &Config,
        from: NodeId,
        fetch: (u32, u64, u64, u64),
    ) {
        let (key, epoch, offset, prev_epoch) = fetch;
        if let Some(r) = self.replicas.get_mut(&key) {
            leader::on_fetch(ctx, cfg, (from, key), r, (epoch, offset, prev_epoch));
        }
    }

    /// The leader's answer to a fetch: entries from `at` on, and its high watermark.
    pub fn on_entries(
        &mut self,
        ctx: Cx<'_, '_>,
        from: NodeId,
        key: u32,
        (epoch, at): (u64, u64),
        entries: &[Entry],
        hw: u64,
    ) {
        let Some(r) = self.replicas.get_mut(&key) else {
            return;
        };
        let current = r.part.leader == Some(from) && r.part.leader_epoch == epoch;
        if r.lead.is_some() || !current || at != r.end() {
            return;
        }
        let room = super::LOG_MAX.saturating_sub(r.log.len());
        let entries = &entries[..entries.len().min(room)];
        if !entries.is_empty() {
            super::replica::persist_append(ctx.storage(), key, at, entries);
            r.log.extend_from_slice(entries);
        }
        r.hw = r.hw.max(hw).min(r.end());
    }

    /// The leader says this log differs from its own from `to` on.
    pub fn on_diverged(&mut self, ctx: Cx<'_, '_>, from: NodeId, key: u32, epoch: u64, to: u64) {
        let Some(r) = self.replicas.get_mut(&key) else {
            return;
        };
        let current = r.part.leader == Some(from) && r.part.leader_epoch == epoch;
        if r.lead.is_some() || !current || to >= r.end() {
            return;
        }
        let note = format!(
            "{} cuts its log of key {key} from {} to {to} entries to follow {}",
            ctx.node_name(ctx.id()),
            r.end(),
            ctx.node_name(from)
        );
        ctx.annotate(note);
        persist_truncate(ctx.storage(), key, r.end(), to);
        r.log.truncate(to as usize);
        r.hw = r.hw.min(to);
    }

    pub fn on_request(&mut self, ctx: Cx<'_, '_>, cfg: &Config, request: Request) {
        let (key, id) = match request.op {
            ClientOp::Commit { .. } | ClientOp::Committed { .. } => {
                ctx.reply(request.id, Reply::Redirect(Some(CONTROLLER)));
                return;
            }
            ClientOp::Send { key, .. } | ClientOp::Poll { key, .. } => (key, request.id),
            _ => {
                let why = "replicated-log serves send, poll, commit and committed";
                ctx.reply(request.id, Reply::Fail(why));
                return;
            }
        };
        if !self.synced {
            ctx.reply(
                id,
                Reply::Fail("the broker has not heard from the controller yet"),
            );
            return;
        }
        self.replica(ctx, key);
        self.sync_role(ctx, cfg, key);
        let r = self.replica(ctx, key);
        if r.lead.is_none() {
            let reply = match r.part.leader {
                Some(l) => Reply::Redirect(Some(l)),
                None => Reply::Fail("no in-sync replica is up to lead the partition"),
            };
            ctx.reply(id, reply);
            return;
        }
        match request.op {
            ClientOp::Send { msg, .. } => leader::send(ctx, cfg, key, r, (id, msg)),
            ClientOp::Poll { offset, .. } => leader::poll(ctx, cfg, key, r, (id, offset)),
            _ => {}
        }
    }
}
