//! The controller, n1: it keeps, durably, each partition's leader, leader epoch and in-sync
//! replicas, and the consumer group's committed offsets. It takes a broker silent for
//! `session_timeout` for dead and moves the leadership of its partitions to another in-sync
//! replica, never to one out of sync: a partition whose in-sync replicas are all down waits
//! for one of them to come back.

use super::params::Bug;
use super::replica::Part;
use super::{Config, Msg, ReplicatedLog, Tick};
use crate::history::Value;
use crate::process::{Ctx, NodeId};
use crate::time::SimTime;
use crate::workload::{ClientOp, Reply, Request};
use std::collections::{BTreeMap, BTreeSet};

const PART_PREFIX: &str = "part/";
const COMMITTED_PREFIX: &str = "committed/";

#[derive(Clone, Debug, Hash)]
pub struct Controller {
    /// Each partition the brokers have named, by key. Durable.
    pub parts: BTreeMap<u32, Part>,
    /// The consumer group's committed offset of each key. Durable.
    pub committed: BTreeMap<u32, u64>,
    /// When each broker was last heard from.
    last_heard: BTreeMap<NodeId, SimTime>,
    /// Brokers taken for dead, until they are heard from again.
    pub dead: BTreeSet<NodeId>,
}

type Cx<'a, 'b> = &'a mut Ctx<'b, ReplicatedLog>;

impl Controller {
    pub(super) fn new() -> Controller {
        Controller {
            parts: BTreeMap::new(),
            committed: BTreeMap::new(),
            last_heard: BTreeMap::new(),
            dead: BTreeSet::new(),
        }
    }

    pub fn on_start(&mut self, ctx: Cx<'_, '_>, cfg: &Config) {
        if ctx.is_restart() {
            self.recover(ctx);
        }
        let now = ctx.now();
        self.last_heard = (1..ctx.node_count()).map(|n| (NodeId(n), now)).collect();
        ctx.set_timer(cfg.params.heartbeat_interval, Tick::Check);
    }

    fn recover(&mut self, ctx: Cx<'_, '_>) {
        let storage = ctx.storage();
        for name in storage.keys() {
            let value = storage.get(name).unwrap_or_default();
            if let Some(key) = name.strip_prefix(PART_PREFIX).and_then(|k| k.parse().ok()) {
                if let Some(part) = Part::decode(value) {
                    self.parts.insert(key, part);
                }
            } else if let Some(key) = name.strip_prefix(COMMITTED_PREFIX)
                && let (Ok(key), Ok(bytes)) = (key.parse(), value.try_into())
            {
                self.committed.insert(key, u64::from_le_bytes(bytes));
            }
        }
    }

    fn persist(&self, ctx: Cx<'_, '_>, key: u32) {
        if let Some(part) = self.parts.get(&key) {
            ctx.storage()
                .put(&format!("{PART_PREFIX}{key}"), part.encode());
        }
        ctx.storage().sync();
    }

    fn table(&self) -> Msg {
        Msg::Table {
            parts: self.parts.iter().map(|(k, p)| (*k, p.clone())).collect(),
        }
    }

    /// A broker is alive, and names the partitions it knows of.
    pub fn on_heartbeat(&mut self, ctx: Cx<'_, '_>, cfg: &Config, from: NodeId, keys: &[u32]) {
        self.last_heard.insert(from, ctx.now());
        if self.dead.remove(&from) {
            ctx.annotate(format!(
                "the controller hears {} again",
                ctx.node_name(from)
            ));
        }
        let n = ctx.node_count();
        for &key in keys {
            self.parts
                .entry(key)
                .or_insert_with(|| Part::initial(key, n));
        }
        if self.elect_all(ctx, cfg) {
            ctx.broadcast(self.table());
        } else {
            ctx.send(from, self.table());
        }
    }

    /// The controller's regular look at its brokers.
    pub fn on_check(&mut self, ctx: Cx<'_, '_>, cfg: &Config) {
        ctx.set_timer(cfg.params.heartbeat_interval, Tick::Check);
        let now = ctx.now();
        let silent: Vec<NodeId> = self
            .last_heard
            .iter()
            .filter(|(n, at)| {
                !self.dead.contains(n) && now.0.saturating_sub(at.0) > cfg.params.session_timeout.0
            })
            .map(|(n, _)| *n)
            .collect();
        for n in silent {
            self.dead.insert(n);
            let note = format!(
                "{} silent for more than {}: the controller takes it for dead",
                ctx.node_name(n),
                cfg.params.session_timeout
            );
            ctx.annotate(note);
        }
        if self.elect_all(ctx, cfg) {
            ctx.broadcast(self.table());
        }
    }

    /// Gives every partition whose leader is dead or missing a new one, where it can;
    /// whether anything changed.
    fn elect_all(&mut self, ctx: Cx<'_, '_>, cfg: &Config) -> bool {
        let keys: Vec<u32> = self.parts.keys().copied().collect();
        let mut changed = false;
        for key in keys {
            if self.elect(ctx, cfg, key) {
                self.persist(ctx, key);
                changed = true;
            }
        }
        changed
    }

    fn elect(&mut self, ctx: Cx<'_, '_>, cfg: &Config, key: u32) -> bool {
        let alive = |n: &NodeId| !self.dead.contains(n);
        let Some(part) = self.parts.get(&key) else {
            return false;
        };
        if part.leader.is_some_and(|l| alive(&l)) {
            return false;
        }
        let in_sync: Vec<NodeId> = part.isr.iter().copied().filter(alive).collect();
        let unclean = cfg.bug == Some(Bug::UncleanElection);
        let (leader, isr) = match in_sync.first() {
            Some(&leader) => (Some(leader), in_sync),
            // The bug: any live broker will do, in sync or not.
            None if unclean => match (1..ctx.node_count()).map(NodeId).find(alive) {
                Some(any) => (Some(any), vec![any]),
                None => (None, part.isr.clone()),
            },
            None => (None, part.isr.clone()),
        };
        if leader.is_none() && part.leader.is_none() {
            return false;
        }
        let part = self.parts.get_mut(&key).expect("looked up above");
        part.version += 1;
        part.isr = isr;
        part.leader = leader;
        let note = match leader {
            Some(l) => {
                part.leader_epoch += 1;
                format!(
                    "the controller makes {} the leader of key {key}, epoch {}",
                    ctx.node_name(l),
                    part.leader_epoch
                )
            }
            None => format!("key {key} has no in-sync replica up: it waits without a leader"),
        };
        ctx.annotate(note);
        true
    }

    /// A leader asks to change its partition's in-sync replicas: granted if it still leads
    /// the version it saw.
    pub fn on_alter_isr(&mut self, ctx: Cx<'_, '_>, from: NodeId, ask: (u32, u64, u64, &[NodeId])) {
        let (key, epoch, version, isr) = ask;
        let Some(part) = self.parts.get_mut(&key) else {
            return;
        };
        let current = part.leader == Some(from)
            && part.leader_epoch == epoch
            && part.version == version
            && isr.contains(&from);
        if current {
            part.isr = isr.to_vec();
            part.version += 1;
            let names: Vec<&str> = isr.iter().map(|n| ctx.node_name(*n)).collect();
            ctx.annotate(format!(
                "key {key}: in-sync replicas now {}",
                names.join(" ")
            ));
            self.persist(ctx, key);
            ctx.broadcast(self.table());
        } else {
            ctx.send(from, self.table());
        }
    }

    /// Raises the group's committed offset of `key` to `offset`, durably.
    pub fn commit(&mut self, ctx: Cx<'_, '_>, key: u32, offset: u64) {
        if self.committed.get(&key).is_none_or(|&c| offset > c) {
            self.committed.insert(key, offset);
            let name = format!("{COMMITTED_PREFIX}{key}");
            ctx.storage().put(&name, offset.to_le_bytes());
            ctx.storage().sync();
        }
    }

    pub fn on_request(&mut self, ctx: Cx<'_, '_>, request: Request) {
        let reply = match request.op {
            ClientOp::Commit { key, offset } => {
                self.commit(ctx, key, offset);
                Reply::Ok(Value::Nil)
            }
            ClientOp::Committed { key } => {
                let offset = self.committed.get(&key);
                Reply::Ok(offset.map_or(Value::Nil, |&o| Value::Int(o as i64)))
            }
            ClientOp::Send { key, .. } | ClientOp::Poll { key, .. } => {
                let n = ctx.node_count();
                let leader = match self.parts.get(&key) {
                    Some(part) => part.leader,
                    None => Part::initial(key, n).leader,
                };
                match leader {
                    Some(l) => Reply::Redirect(Some(l)),
                    None => Reply::Fail("no in-sync replica is up to lead the partition"),
                }
            }
            _ => Reply::Fail("replicated-log serves send, poll, commit and committed"),
        };
        ctx.reply(request.id, reply);
    }
}
