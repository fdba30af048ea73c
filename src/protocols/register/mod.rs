//! `register`: a replicated key-value register with a fixed primary.
//!
//! n1 is the primary and the only node that serves clients; the others are backups that
//! redirect clients to it. The primary applies a write, append or cas to its map under the
//! key's next version, syncs it to storage before anyone can see it, and sends it to every
//! backup. It answers the client once a majority of nodes (itself included) hold that version,
//! and retransmits to backups that have not acknowledged, every `retry_interval`. Reads are
//! answered at once from the primary's map. A backup keeps a version only if it is newer than
//! its own, syncs it, then acknowledges. Every node recovers its map from storage on restart,
//! so the primary's versions continue from where they were and are never reused.
//!
//! It is the smallest service whose clients' history can be checked for linearizability.

use super::{BugDoc, ParamDoc, Protocol};
use crate::check::{Property, Violation};
use crate::engine::{NodeView, Sim};
use crate::history::Value;
use crate::process::{Ctx, NodeId, Process, TimerId};
use crate::protocol::check_at_least;
use crate::storage::Storage;
use crate::time::SimDuration;
use crate::workload::{ClientOp, Model, Reply, Request, RequestId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[cfg(test)]
mod tests;

/// The node every client is sent to.
pub const PRIMARY: NodeId = NodeId(0);
/// Shortest retransmission interval: zero would fire timers forever without time passing.
pub const INTERVAL_MIN: SimDuration = SimDuration::from_millis(1);

const KEY_PREFIX: &str = "key/";
/// The key a counter workload's adds go to.
const COUNTER_KEY: u32 = 0;

/// `params:` of the register protocol.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Time between two retransmissions of versions a backup has not acknowledged.
    pub retry_interval: SimDuration,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            retry_interval: SimDuration::from_millis(50),
        }
    }
}

const PARAM_DOCS: &[ParamDoc] = &[ParamDoc {
    name: "retry_interval",
    default: "50ms",
    meaning: "time between two retransmissions, by the primary, of the versions a backup has \
              not acknowledged yet (at least 1ms)",
}];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Bug {
    ReadAnyReplica,
    AckBeforeReplicate,
    AssumeFifo,
}

const BUG_DOCS: &[BugDoc] = &[
    BugDoc {
        name: "read-any-replica",
        description: "every node answers reads from its own copy instead of redirecting them \
                      to the primary; a write is acknowledged once a majority holds it, so \
                      another backup may still hold an older value, and a read there after the \
                      write returns it; exposed by latency or loss between the primary and a \
                      backup, or by a partition that leaves a backup behind",
        violates: "linearizable",
    },
    BugDoc {
        name: "ack-before-replicate",
        description: "the primary answers an update as soon as it has applied it in memory, \
                      and stores, syncs and replicates its updates in batches, once every \
                      retry_interval; a crash of the primary loses the updates of the current \
                      batch, already acknowledged, and after the restart reads return older \
                      values; exposed by crashing and restarting the primary while clients \
                      write",
        violates: "linearizable",
    },
    BugDoc {
        name: "assume-fifo",
        description: "a backup stores every version the primary sends it, without comparing \
                      it with the one it holds, as if messages arrived in the order they were \
                      sent; when the network reorders two updates of a key, the older one \
                      lands last and overwrites the newer one, and the primary, which already \
                      counted the newer acknowledgement, never sends it again; exposed by \
                      latency jitter (a network without `fifo: true`) while clients write \
                      quickly",
        violates: "replicas_converged",
    },
];

impl Bug {
    fn from_name(name: &str) -> Option<Bug> {
        match name {
            "read-any-replica" => Some(Bug::ReadAnyReplica),
            "ack-before-replicate" => Some(Bug::AckBeforeReplicate),
            "assume-fifo" => Some(Bug::AssumeFifo),
            _ => None,
        }
    }
}

/// What register nodes send each other.
#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// Primary to backup: `key` holds `value` at `version`.
    Replicate {
        key: u32,
        version: u64,
        value: Value,
    },
    /// Backup to primary: the backup holds `key` at `version` (or newer), durably.
    Ack { key: u32, version: u64 },
}

/// What register timers carry.
#[derive(Clone, Debug, Hash)]
pub enum Tick {
    /// Time to retransmit what backups have not acknowledged.
    Retry,
}

/// One key's state on a node.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Slot {
    pub version: u64,
    pub value: Value,
}

/// One register node.
#[derive(Clone, Debug, Hash)]
pub struct Register {
    id: NodeId,
    node_count: u32,
    retry_interval: SimDuration,
    bug: Option<Bug>,
    store: BTreeMap<u32, Slot>,
    /// Primary only: per node index, the highest version of each key that node acknowledged.
    /// Volatile: after a restart the primary assumes nothing and retransmits everything.
    acked: Vec<BTreeMap<u32, u64>>,
    /// Primary only: clients waiting for their update, by (key, version), to reach a majority.
    waiting: BTreeMap<(u32, u64), RequestId>,
    /// Primary under `ack-before-replicate`: keys updated in memory since the last tick.
    unflushed: BTreeSet<u32>,
    retry_armed: bool,
}

impl Register {
    /// `key`'s version and value on this node, if it was ever written.
    pub fn get(&self, key: u32) -> Option<&Slot> {
        self.store.get(&key)
    }

    /// Every key this node holds, in order.
    pub fn store(&self) -> &BTreeMap<u32, Slot> {
        &self.store
    }

    fn is_primary(&self) -> bool {
        self.id == PRIMARY
    }

    fn value_of(&self, key: u32) -> Value {
        self.store
            .get(&key)
            .map_or(Value::Nil, |slot| slot.value.clone())
    }

    fn version_of(&self, key: u32) -> u64 {
        self.store.get(&key).map_or(0, |slot| slot.version)
    }

    /// Keeps `slot` for `key` and makes it durable before anything else can see it.
    fn store_synced(&mut self, ctx: &mut Ctx<'_, Self>, key: u32, slot: Slot) {
        ctx.storage().put(&storage_key(key), encode(&slot));
        ctx.storage().sync();
        self.store.insert(key, slot);
    }

    fn recover(&mut self, storage: &Storage) {
        for name in storage.keys() {
            let Some(key) = name
                .strip_prefix(KEY_PREFIX)
                .and_then(|k| k.parse::<u32>().ok())
            else {
                continue;
            };
            if let Some(slot) = storage.get(name).and_then(decode) {
                self.store.insert(key, slot);
            }
        }
    }

    /// The primary serves a client: reads at once, updates after a majority holds them.
    fn serve(&mut self, ctx: &mut Ctx<'_, Self>, request: Request) {
        let (key, value) = match request.op {
            ClientOp::Read { key } => {
                ctx.reply(request.id, Reply::Ok(self.value_of(key)));
                return;
            }
            ClientOp::Write { key, value } => (key, Value::Int(value)),
            ClientOp::Append { key, value } => {
                let text = format!("{}{value}", self.value_of(key).append_text());
                (key, Value::Str(text))
            }
            ClientOp::Cas { key, from, to } => {
                if self.value_of(key) != Value::Int(from) {
                    ctx.reply(request.id, Reply::Fail("cas: the key holds another value"));
                    return;
                }
                (key, Value::Int(to))
            }
            ClientOp::Add { value } => {
                // A counter lives under key 0: a counter read is a read of key 0.
                let sum = match self.value_of(COUNTER_KEY) {
                    Value::Nil => 0,
                    Value::Int(sum) => sum,
                    _ => {
                        ctx.reply(request.id, Reply::Fail("add: key 0 holds no number"));
                        return;
                    }
                };
                (COUNTER_KEY, Value::Int(sum.saturating_add(value)))
            }
            ClientOp::Generate
            | ClientOp::Txn(_)
            | ClientOp::Send { .. }
            | ClientOp::Poll { .. }
            | ClientOp::Commit { .. }
            | ClientOp::Committed { .. } => {
                ctx.reply(
                    request.id,
                    Reply::Fail("the register serves no such operation"),
                );
                return;
            }
        };
        let version = self.version_of(key) + 1;
        let slot = Slot { version, value };
        if self.bug == Some(Bug::AckBeforeReplicate) {
            // The bug: answered while only in memory; stored and sent with the next batch.
            self.store.insert(key, slot);
            self.unflushed.insert(key);
            ctx.reply(request.id, Reply::Ok(Value::Nil));
        } else {
            self.store_synced(ctx, key, slot);
            self.waiting.insert((key, version), request.id);
            self.replicate(ctx, key);
        }
        self.answer_committed(ctx, key);
        self.arm_retry(ctx);
    }

    /// Sends `key`'s current version to every backup that has not acknowledged it.
    fn replicate(&mut self, ctx: &mut Ctx<'_, Self>, key: u32) {
        let Some(slot) = self.store.get(&key) else {
            return;
        };
        for peer in ctx.peers() {
            if self.acked_by(peer, key) < slot.version {
                let msg = Msg::Replicate {
                    key,
                    version: slot.version,
                    value: slot.value.clone(),
                };
                ctx.send(peer, msg);
            }
        }
    }

    fn acked_by(&self, node: NodeId, key: u32) -> u64 {
        self.acked[node.index()].get(&key).copied().unwrap_or(0)
    }

    /// The highest version of `key` that a majority of nodes hold.
    fn committed(&self, key: u32) -> u64 {
        let mut held: Vec<u64> = (0..self.node_count)
            .map(NodeId)
            .map(|n| {
                if n == self.id {
                    self.version_of(key)
                } else {
                    self.acked_by(n, key)
                }
            })
            .collect();
        held.sort_unstable_by(|a, b| b.cmp(a));
        held[(self.node_count / 2) as usize]
    }

    /// Answers every client whose update of `key` a majority now holds.
    fn answer_committed(&mut self, ctx: &mut Ctx<'_, Self>, key: u32) {
        let committed = self.committed(key);
        let done: Vec<(u32, u64)> = self
            .waiting
            .range((key, 0)..=(key, committed))
            .map(|(&k, _)| k)
            .collect();
        for k in done {
            let id = self.waiting.remove(&k).expect("just listed");
            ctx.reply(id, Reply::Ok(Value::Nil));
        }
    }

    fn behind(&self) -> Vec<u32> {
        let backups = (0..self.node_count).map(NodeId).filter(|&n| n != self.id);
        self.store
            .iter()
            .filter(|&(&key, slot)| {
                backups
                    .clone()
                    .any(|n| self.acked_by(n, key) < slot.version)
            })
            .map(|(&key, _)| key)
            .collect()
    }

    fn arm_retry(&mut self, ctx: &mut Ctx<'_, Self>) {
        if !self.retry_armed {
            self.retry_armed = true;
            ctx.set_timer(self.retry_interval, Tick::Retry);
        }
    }

    fn retry(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.retry_armed = false;
        self.flush(ctx);
        let behind = self.behind();
        for &key in &behind {
            self.replicate(ctx, key);
        }
        if !behind.is_empty() {
            self.arm_retry(ctx);
        }
    }

    /// Under `ack-before-replicate`, makes the batch of updates answered since the last tick
    /// durable; it is synced before it is sent, so backups are never ahead of storage.
    fn flush(&mut self, ctx: &mut Ctx<'_, Self>) {
        for key in std::mem::take(&mut self.unflushed) {
            let bytes = encode(&self.store[&key]);
            ctx.storage().put(&storage_key(key), bytes);
        }
        if ctx.storage().unsynced_writes() > 0 {
            ctx.storage().sync();
        }
    }

    /// A backup keeps only newer versions, so reordered or repeated messages do no harm.
    fn on_replicate(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, key: u32, slot: Slot) {
        let held = self.version_of(key);
        if self.bug == Some(Bug::AssumeFifo) && slot.version < held {
            // The bug: the last message to arrive is taken for the newest.
            let note = format!(
                "{} replaces version {held} of key {key} by version {}, which arrived after it",
                ctx.node_name(self.id),
                slot.version
            );
            ctx.annotate(note);
            self.store_synced(ctx, key, slot);
        } else if slot.version > held {
            self.store_synced(ctx, key, slot);
        }
        let version = self.version_of(key);
        ctx.send(from, Msg::Ack { key, version });
    }

    fn on_ack(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, key: u32, version: u64) {
        let Some(acked) = self.acked.get_mut(from.index()) else {
            return;
        };
        let entry = acked.entry(key).or_insert(0);
        *entry = (*entry).max(version);
        self.answer_committed(ctx, key);
    }
}

fn storage_key(key: u32) -> String {
    format!("{KEY_PREFIX}{key}")
}

/// `version` (8 bytes), then the value ([`Value::encode_scalar`]).
fn encode(slot: &Slot) -> Vec<u8> {
    let mut bytes = slot.version.to_le_bytes().to_vec();
    slot.value.encode_scalar(&mut bytes);
    bytes
}

fn decode(bytes: &[u8]) -> Option<Slot> {
    let version = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?);
    let value = Value::decode_scalar(bytes.get(8..)?)?;
    Some(Slot { version, value })
}

impl Process for Register {
    type Message = Msg;
    type Timer = Tick;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if ctx.is_restart() {
            self.recover(ctx.storage());
        }
        // A restarted primary knows nothing of what backups hold: it sends them everything.
        if self.is_primary() && !self.behind().is_empty() {
            self.arm_retry(ctx);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Replicate {
                key,
                version,
                value,
            } if !self.is_primary() => {
                self.on_replicate(ctx, from, key, Slot { version, value });
            }
            Msg::Ack { key, version } if self.is_primary() => {
                self.on_ack(ctx, from, key, version);
            }
            // Stray messages (only the primary replicates, only backups acknowledge).
            Msg::Replicate { .. } | Msg::Ack { .. } => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _timer: TimerId, tag: Tick) {
        match tag {
            Tick::Retry => self.retry(ctx),
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: Request) {
        if self.is_primary() {
            self.serve(ctx, request);
        } else if let (Some(Bug::ReadAnyReplica), ClientOp::Read { key }) = (self.bug, &request.op)
        {
            ctx.reply(request.id, Reply::Ok(self.value_of(*key)));
        } else {
            ctx.reply(request.id, Reply::Redirect(Some(PRIMARY)));
        }
    }
}

impl Protocol for Register {
    const NAME: &'static str = "register";
    const SUMMARY: &'static str = "a replicated key-value register with a fixed primary";
    type Params = Params;

    const PARAM_DOCS: &'static [ParamDoc] = PARAM_DOCS;
    const BUG_DOCS: &'static [BugDoc] = BUG_DOCS;

    fn properties() -> Vec<Property<Self>> {
        vec![
            Property::always(
                "backup_not_ahead",
                "no backup holds a newer version of any key than the primary \
                              (checked while the primary is up)",
                check_backup_not_ahead,
            ),
            Property::at_end(
                "replicas_converged",
                "every node that is up at the end holds the primary's version of \
                              every key",
                check_replicas_converged,
            ),
        ]
    }

    fn workloads() -> &'static [Model] {
        &[
            Model::Register,
            Model::CasRegister,
            Model::Kv,
            Model::Counter,
        ]
    }

    fn check_params(params: &Params, _node_count: u32) -> Result<(), String> {
        check_at_least("retry_interval", params.retry_interval, INTERVAL_MIN)
    }

    fn new(id: NodeId, node_count: u32, params: &Params, bug: Option<&'static str>) -> Self {
        if let Err(e) = Self::check_params(params, node_count) {
            panic!("{}: {e}", Self::NAME);
        }
        let bug = bug.map(|name| {
            Bug::from_name(name).unwrap_or_else(|| panic!("register has no bug variant `{name}`"))
        });
        Register {
            id,
            node_count: node_count.max(1),
            retry_interval: params.retry_interval,
            bug,
            store: BTreeMap::new(),
            acked: vec![BTreeMap::new(); node_count.max(1) as usize],
            waiting: BTreeMap::new(),
            unflushed: BTreeSet::new(),
            retry_armed: false,
        }
    }
    /// Primary or backup; keys held, the newest version, clients waiting.
    fn summary(&self) -> crate::Summary {
        use crate::summary::Standing;
        let (role, standing) = match self.is_primary() {
            true => ("primary", Standing::Leader),
            false => ("backup", Standing::Follower),
        };
        let newest = self.store.values().map(|s| s.version).max().unwrap_or(0);
        crate::Summary::new()
            .role(role, standing)
            .field("keys", self.store.len())
            .field("version", newest)
            .field("waiting", self.waiting.len())
    }
}

/// O(nodes · keys · log keys) per event; skipped while the primary is down.
fn check_backup_not_ahead(sim: &Sim<Register>) -> Result<(), Violation> {
    let Some(primary) = sim.node(PRIMARY).state() else {
        return Ok(());
    };
    for (id, view) in sim.nodes().filter(|&(id, _)| id != PRIMARY) {
        let Some(node) = view.state() else { continue };
        for (&key, slot) in &node.store {
            let ours = primary.version_of(key);
            if slot.version > ours {
                return Err(Violation::new(
                    format!(
                        "{} holds version {} of key {key} but the primary {} only version {ours}",
                        sim.node_name(id),
                        slot.version,
                        sim.node_name(PRIMARY)
                    ),
                    vec![id, PRIMARY],
                ));
            }
        }
    }
    Ok(())
}

fn check_replicas_converged(sim: &Sim<Register>) -> Result<(), Violation> {
    let NodeView::Up(primary) = sim.node(PRIMARY) else {
        return Ok(());
    };
    let mut behind = Vec::new();
    let mut nodes = Vec::new();
    for (id, view) in sim.nodes().filter(|&(id, _)| id != PRIMARY) {
        let NodeView::Up(node) = view else { continue };
        let lagging: Vec<String> = primary
            .store
            .iter()
            .filter(|&(&key, slot)| node.version_of(key) < slot.version)
            .map(|(&key, slot)| {
                let held = node.version_of(key);
                let acked = primary.acked_by(id, key);
                // Only a copy that went back can be behind what it acknowledged.
                let back = if acked > held {
                    format!(" (it had acknowledged version {acked}: its copy went back)")
                } else {
                    String::new()
                };
                format!("key {key} at version {held} of {}{back}", slot.version)
            })
            .collect();
        if !lagging.is_empty() {
            behind.push(format!("{} has {}", sim.node_name(id), lagging.join(", ")));
            nodes.push(id);
        }
    }
    if behind.is_empty() {
        return Ok(());
    }
    nodes.push(PRIMARY);
    Err(Violation::new(
        format!(
            "backups are behind the primary {}: {}",
            sim.node_name(PRIMARY),
            behind.join("; ")
        ),
        nodes,
    ))
}
