//! `quorum-kv`: a leaderless, Dynamo-style replicated key-value store with tunable quorums.
//!
//! Each key lives on `n` replicas: nodes `key mod nodes`, the next one, and so on. Any node a
//! client reaches coordinates its request. A write is stamped with a version taken from the
//! coordinator's own clock (node id breaks ties), sent to the key's replicas, and acknowledged
//! once `w` of them hold it durably. A read asks every replica, waits for `r` answers, picks
//! the newest version among them, and writes it back (read repair) to the replicas that
//! answered with older ones; it answers once `w` replicas hold that version, so that a later
//! read quorum is sure to meet it. With `r + w > n` every read quorum meets every write quorum;
//! with `r + w <= n` it may not, and reads return stale values. A periodic anti-entropy
//! exchange between replicas brings back replicas that missed writes nobody reads. With
//! `sloppy`, a write that cannot reach a replica is kept by a fallback node as a hint and
//! handed back later: writes stay available under a partition, and reads may miss them.
//!
//! Versions come from clocks, not from a Lamport counter: a coordinator that has not heard of
//! a finished write would give a Lamport-stamped write a smaller version, and it would be lost
//! although acknowledged. Clock stamps order writes by real time as long as clocks agree;
//! with clock skew, a write from a node whose clock is behind loses to an older one. That is
//! the price Dynamo-style stores pay, and the simulator can show it.

mod background;
mod checks;
mod coordinator;
mod slot;
#[cfg(test)]
mod tests;

pub use slot::{Slot, Version};

use super::{BugDoc, ParamDoc, Protocol};
use crate::check::Property;
use crate::process::{Ctx, NodeId, Process, TimerId};
use crate::protocol::{check_at_least, check_range};
use crate::time::{SimDuration, SimTime};
use crate::workload::{Model, Request, RequestId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Shortest retry and anti-entropy interval: zero would fire timers without time passing.
pub const INTERVAL_MIN: SimDuration = SimDuration::from_millis(1);
/// Most requests one coordinator has open at once; more are refused.
pub const PENDING_MAX: usize = 1024;
/// Most keys one anti-entropy message carries.
pub const SYNC_ENTRIES_MAX: usize = 256;
/// Most hints one node keeps for other nodes; a fallback that is full refuses more.
pub const HINTS_MAX: usize = 4096;
/// Most hints handed back in one round.
pub const HANDOFF_BATCH_MAX: usize = 64;
/// The request number of a hint handed back to its replica (coordinators never reach it).
const HANDOFF_OP: u64 = u64::MAX;
const HINT_PREFIX: &str = "hint/";

const KEY_PREFIX: &str = "kv/";
const INCARNATION: &str = "incarnation";

/// `params:` of quorum-kv.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Replicas per key.
    pub n: u32,
    /// Replies a read waits for.
    pub r: u32,
    /// Acknowledgements a write waits for.
    pub w: u32,
    /// How long a coordinator works on a request before it gives up.
    pub timeout: SimDuration,
    /// Time between resends to replicas that have not answered.
    pub retry_interval: SimDuration,
    /// Time between two anti-entropy rounds (a node with every co-replica); 0 turns it off.
    pub anti_entropy: SimDuration,
    /// Sloppy quorums: a write that cannot reach a replica goes to a fallback node, with a
    /// hint to hand it back later.
    pub sloppy: bool,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            n: 3,
            r: 2,
            w: 2,
            timeout: SimDuration::from_millis(500),
            retry_interval: SimDuration::from_millis(50),
            anti_entropy: SimDuration::from_secs(1),
            sloppy: false,
        }
    }
}

const PARAM_DOCS: &[ParamDoc] = &[
    ParamDoc {
        name: "n",
        default: "3",
        meaning: "replicas per key (at most the number of nodes)",
    },
    ParamDoc {
        name: "r",
        default: "2",
        meaning: "replies a read waits for (1 to n); r + w > n makes reads see the latest \
                  acknowledged write",
    },
    ParamDoc {
        name: "w",
        default: "2",
        meaning: "replicas that must hold a write, durably, before it is acknowledged (1 to n)",
    },
    ParamDoc {
        name: "timeout",
        default: "500ms",
        meaning: "how long a coordinator works on a request: then a write is answered info \
                  (it may have been applied) and a read fail (at least 1ms)",
    },
    ParamDoc {
        name: "retry_interval",
        default: "50ms",
        meaning: "time between resends to replicas that have not answered (at least 1ms)",
    },
    ParamDoc {
        name: "anti_entropy",
        default: "1s",
        meaning: "time between two anti-entropy rounds, in which a node exchanges versions \
                  with every co-replica of its keys, newer copied both ways; 0s turns anti-entropy off (else at least 1ms)",
    },
    ParamDoc {
        name: "sloppy",
        default: "false",
        meaning: "sloppy quorums with hinted handoff: when a replica has not acknowledged a \
                  write by the first resend, the write also goes to a fallback node outside the \
                  key's replicas, which counts towards w and hands it back once the replica \
                  answers again (reads stay strict: they count replicas only)",
    },
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Bug {
    IgnoreVersion,
    NoReadRepair,
}

const BUG_DOCS: &[BugDoc] = &[
    BugDoc {
        name: "ignore-version",
        description: "a replica stores whatever write reaches it last, without comparing \
                      versions; when two writes of a key reach replicas in different orders \
                      (jitter, retries, anti-entropy), a replica replaces a newer version by an \
                      older one and reads return overwritten values; exposed by concurrent \
                      writers over a network that reorders messages",
        violates: "versions_grow",
    },
    BugDoc {
        name: "no-read-repair",
        description: "reads answer the newest value of their quorum but never write it back to \
                      replicas that answered with older versions; with anti-entropy off, a \
                      replica that was cut off while keys were written stays behind for ever, \
                      however often the key is read; exposed by a partition during writes, then \
                      reads only",
        violates: "replicas_converged",
    },
];

impl Bug {
    fn from_name(name: &str) -> Option<Bug> {
        match name {
            "ignore-version" => Some(Bug::IgnoreVersion),
            "no-read-repair" => Some(Bug::NoReadRepair),
            _ => None,
        }
    }
}

/// What quorum-kv nodes send each other. `op` names the coordinator's request.
#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// Coordinator to replica: keep `slot` for `key` if it is newer (a write or a read repair).
    Store { op: u64, key: u32, slot: Slot },
    /// Replica to coordinator: it now holds `key` at `version` (or newer), durably.
    Stored { op: u64, key: u32, version: Version },
    /// Coordinator to replica: what do you hold for `key`?
    Fetch { op: u64, key: u32 },
    /// Replica to coordinator: its slot for `key`, if any.
    Fetched {
        op: u64,
        key: u32,
        slot: Option<Slot>,
    },
    /// Coordinator to fallback: keep `slot` for `key` on behalf of `home`, a replica that
    /// did not answer, and hand it back later (sloppy quorums).
    Hinted {
        op: u64,
        key: u32,
        slot: Slot,
        home: NodeId,
    },
    /// Anti-entropy: the sender's slots of keys both nodes replicate.
    Sync { entries: Vec<(u32, Slot)> },
    /// Anti-entropy answer: the slots the answering node holds newer.
    SyncBack { entries: Vec<(u32, Slot)> },
}

/// What quorum-kv timers carry.
#[derive(Clone, Debug, Hash)]
pub enum Tick {
    /// Resend, or time out, the coordinator's request `op`.
    Retry(u64),
    /// Time for an anti-entropy exchange.
    AntiEntropy,
    /// Time to hand hints back to their replicas.
    Handoff,
}

/// A request the coordinator is working on.
#[derive(Clone, Debug, Hash)]
struct Pending {
    request: RequestId,
    key: u32,
    /// On the coordinator's clock.
    deadline: SimTime,
    answered: bool,
    kind: Kind,
}

#[derive(Clone, Debug, Hash)]
enum Kind {
    Write {
        slot: Slot,
        /// Replicas and fallbacks that hold the write.
        acked: BTreeSet<NodeId>,
        /// Sloppy quorums: the fallback standing in for each replica that did not answer.
        fallbacks: BTreeMap<NodeId, NodeId>,
    },
    Read {
        replies: BTreeMap<NodeId, Option<Slot>>,
        /// The newest slot of the first `r` replies, once they are in (`Some(None)`: none
        /// of them held the key).
        chosen: Option<Option<Slot>>,
        /// Replicas known to hold the chosen version or newer.
        holders: BTreeSet<NodeId>,
    },
}

/// A regression a replica made: it replaced `key`'s version `from` with the older `to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Regression {
    pub key: u32,
    pub from: Version,
    pub to: Version,
}

/// One quorum-kv node: a replica of some keys and a coordinator for any client.
#[derive(Clone, Debug, Hash)]
pub struct QuorumKv {
    id: NodeId,
    node_count: u32,
    n: u32,
    r: usize,
    w: usize,
    timeout: SimDuration,
    retry_interval: SimDuration,
    anti_entropy: Option<SimDuration>,
    sloppy: bool,
    bug: Option<Bug>,
    store: BTreeMap<u32, Slot>,
    /// Writes this node holds as a fallback, by key and the replica they belong to.
    hints: BTreeMap<(u32, NodeId), Slot>,
    handoff_armed: bool,
    pending: BTreeMap<u64, Pending>,
    /// Request numbers start at `incarnation << 32`, so that answers to requests of an
    /// earlier life of this node match nothing after a restart.
    next_op: u64,
    /// The last timestamp handed out: two writes of one node never share a version.
    last_ts: u64,
    /// The first time this node replaced a version with an older one (only a bug does).
    regression: Option<Regression>,
}

impl QuorumKv {
    /// Every key this node holds, in order.
    pub fn store(&self) -> &BTreeMap<u32, Slot> {
        &self.store
    }

    /// The first regression this node made, if any.
    pub fn regression(&self) -> Option<Regression> {
        self.regression
    }

    /// The replicas of `key`: `n` nodes from `key mod nodes` on, in id order.
    pub fn replicas(&self, key: u32) -> Vec<NodeId> {
        replicas_of(key, self.n, self.node_count)
    }

    fn version_of(&self, key: u32) -> Option<Version> {
        self.store.get(&key).map(|s| s.version)
    }

    /// Keeps `slot` if it is newer than what this node holds (any slot, under
    /// `ignore-version`), synced before anyone hears of it. Returns what it holds then.
    fn keep(&mut self, ctx: &mut Ctx<'_, Self>, key: u32, slot: Slot) -> Version {
        let held = self.version_of(key);
        let newer = held.is_none_or(|v| slot.version > v);
        let blind = self.bug == Some(Bug::IgnoreVersion) && held != Some(slot.version);
        if newer || blind {
            if let Some(from) = held.filter(|&v| v > slot.version) {
                let to = slot.version;
                self.regression.get_or_insert(Regression { key, from, to });
            }
            ctx.storage()
                .put(&format!("{KEY_PREFIX}{key}"), slot::encode(&slot));
            ctx.storage().sync();
            self.store.insert(key, slot);
        }
        self.store[&key].version
    }

    /// Reads back the slots (`kv/<key>`) and hints (`hint/<home index>/<key>`) it synced.
    fn recover(&mut self, ctx: &mut Ctx<'_, Self>) {
        let storage = ctx.storage();
        let names: Vec<String> = storage.keys().into_iter().map(str::to_owned).collect();
        for name in names {
            let Some(slot) = storage.get(&name).and_then(slot::decode) else {
                continue;
            };
            if let Some(key) = name.strip_prefix(KEY_PREFIX).and_then(|k| k.parse().ok()) {
                self.store.insert(key, slot);
            } else if let Some((home, key)) = name
                .strip_prefix(HINT_PREFIX)
                .and_then(|rest| rest.split_once('/'))
                .and_then(|(h, k)| Some((NodeId(h.parse().ok()?), k.parse().ok()?)))
            {
                self.hints.insert((key, home), slot);
            }
        }
    }

    /// Counts this node's lives in storage, so request numbers differ between lives.
    fn next_incarnation(ctx: &mut Ctx<'_, Self>) -> u64 {
        let before = ctx
            .storage()
            .get(INCARNATION)
            .and_then(|b| b.try_into().ok())
            .map_or(0, u64::from_le_bytes);
        let now = before.wrapping_add(1);
        ctx.storage().put(INCARNATION, now.to_le_bytes().to_vec());
        ctx.storage().sync();
        now
    }

    /// Sends `msg` to `to`, or handles it at once when `to` is this node.
    fn send(&mut self, ctx: &mut Ctx<'_, Self>, to: NodeId, msg: Msg) {
        if to == self.id {
            self.handle(ctx, to, msg);
        } else {
            ctx.send(to, msg);
        }
    }

    fn handle(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Store { op, key, slot } => {
                let version = self.keep(ctx, key, slot);
                self.send(ctx, from, Msg::Stored { op, key, version });
            }
            Msg::Stored {
                op: HANDOFF_OP,
                key,
                version,
            } => self.on_handed_back(ctx, from, key, version),
            Msg::Stored { op, key, version } => self.on_stored(ctx, from, op, key, version),
            Msg::Hinted {
                op,
                key,
                slot,
                home,
            } => self.on_hinted(ctx, from, op, key, slot, home),
            Msg::Fetch { op, key } => {
                let slot = self.store.get(&key).cloned();
                self.send(ctx, from, Msg::Fetched { op, key, slot });
            }
            Msg::Fetched { op, key, slot } => self.on_fetched(ctx, from, op, key, slot),
            Msg::Sync { entries } => self.on_sync(ctx, from, entries),
            Msg::SyncBack { entries } => {
                for (key, slot) in entries {
                    self.keep(ctx, key, slot);
                }
            }
        }
    }
}

/// `n` nodes from `key mod nodes` on (all nodes when `n` is at least their number).
pub fn replicas_of(key: u32, n: u32, node_count: u32) -> Vec<NodeId> {
    let count = node_count.max(1);
    let first = key % count;
    let mut set: Vec<NodeId> = (0..n.clamp(1, count))
        .map(|i| NodeId((first + i) % count))
        .collect();
    set.sort_unstable();
    set
}

impl Process for QuorumKv {
    type Message = Msg;
    type Timer = Tick;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if ctx.is_restart() {
            self.recover(ctx);
        }
        self.next_op = Self::next_incarnation(ctx) << 32;
        self.arm_handoff(ctx);
        if let Some(every) = self.anti_entropy {
            ctx.set_timer(every, Tick::AntiEntropy);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        self.handle(ctx, from, msg);
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _timer: TimerId, tag: Tick) {
        match tag {
            Tick::Retry(op) => self.on_retry(ctx, op),
            Tick::AntiEntropy => self.exchange(ctx),
            Tick::Handoff => self.hand_off(ctx),
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: Request) {
        self.coordinate(ctx, request);
    }
}

impl Protocol for QuorumKv {
    const NAME: &'static str = "quorum-kv";
    const SUMMARY: &'static str =
        "a leaderless Dynamo-style key-value store with tunable read and write quorums";
    type Params = Params;

    const PARAM_DOCS: &'static [ParamDoc] = PARAM_DOCS;
    const BUG_DOCS: &'static [BugDoc] = BUG_DOCS;

    fn properties() -> Vec<Property<Self>> {
        checks::properties()
    }

    fn workloads() -> &'static [Model] {
        &[Model::Register, Model::Kv]
    }

    fn check_params(params: &Params, node_count: u32) -> Result<(), String> {
        check_range("n", params.n, 1, node_count.max(1))?;
        check_range("r", params.r, 1, params.n)?;
        check_range("w", params.w, 1, params.n)?;
        check_at_least("timeout", params.timeout, INTERVAL_MIN)?;
        check_at_least("retry_interval", params.retry_interval, INTERVAL_MIN)?;
        if params.anti_entropy > SimDuration::ZERO {
            check_at_least("anti_entropy", params.anti_entropy, INTERVAL_MIN)?;
        }
        Ok(())
    }

    fn new(id: NodeId, node_count: u32, params: &Params, bug: Option<&'static str>) -> Self {
        if let Err(e) = Self::check_params(params, node_count) {
            panic!("{}: {e}", Self::NAME);
        }
        let bug = bug.map(|name| {
            Bug::from_name(name).unwrap_or_else(|| panic!("quorum-kv has no bug variant `{name}`"))
        });
        let n = params.n;
        QuorumKv {
            id,
            node_count,
            n,
            r: params.r as usize,
            w: params.w as usize,
            timeout: params.timeout,
            retry_interval: params.retry_interval,
            anti_entropy: (params.anti_entropy > SimDuration::ZERO).then_some(params.anti_entropy),
            sloppy: params.sloppy,
            bug,
            store: BTreeMap::new(),
            hints: BTreeMap::new(),
            handoff_armed: false,
            pending: BTreeMap::new(),
            next_op: 0,
            last_ts: 0,
            regression: None,
        }
    }
    /// Keys held, hinted writes held for others, requests this node coordinates.
    fn summary(&self) -> crate::Summary {
        crate::Summary::new()
            .field("keys", self.store.len())
            .field("hints", self.hints.len())
            .field("pending", self.pending.len())
    }
}
