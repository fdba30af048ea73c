//! `replicated-log`: a Kafka-like replicated log. Each key is a partition, an append-only
//! log replicated on every broker, with one leader and a set of in-sync replicas (ISR).
//!
//! n1 is the controller; every other node is a broker. The controller keeps, durably, each
//! partition's leader, leader epoch and ISR, and the consumer group's committed offsets. At
//! the start, key `k`'s leader is broker `k mod brokers` and every broker is in sync.
//! Brokers heartbeat to the controller every `heartbeat_interval` and get its table back;
//! one silent for `session_timeout` is taken for dead, and the leadership of its partitions
//! moves to an in-sync replica that is alive, with the next leader epoch. A partition with no
//! in-sync replica alive has no leader until one comes back (no unclean election).
//!
//! The leader appends each send to its log, durably, and followers fetch from it every
//! `fetch_interval`, giving their log end and the epoch of their last entry; a follower
//! whose last entries differ from the leader's (an old leader's unacknowledged tail) is told
//! where to cut. The high watermark is what every in-sync replica has; consumers read only
//! below it. Under `acks: all` a send is answered once the high watermark passes it, and
//! refused while the ISR is smaller than `min_insync`; under `acks: leader` it is answered
//! at once. A follower that has not caught up with the leader's log for `replica_lag_max` is
//! dropped from the ISR, and one that has every entry below the high watermark (and below
//! where the leader's epoch began) is added back, each time through the controller, which
//! grants a change only to the leader of the current record. Until the controller answers,
//! the leader counts both the old and the asked replicas, so the controller's ISR only ever
//! holds replicas that have everything acknowledged: any of them may lead next.
//!
//! Commits and committed-offset reads go to the controller, which keeps the highest offset
//! committed per key.

mod broker;
mod checks;
mod controller;
mod leader;
mod params;
mod replica;
#[cfg(test)]
mod tests;

use super::{BugDoc, ParamDoc, Protocol};
use crate::check::{Property, PropertyDigest};
use crate::process::{Ctx, NodeId, Process, TimerId};
use crate::time::SimDuration;
use crate::workload::{Model, Request};
pub use broker::Broker;
pub use controller::Controller;
pub use params::{Acks, Params};
use params::{BUG_DOCS, Bug, PARAM_DOCS};
pub use replica::{Entry, Lead, Part, Replica};

/// The controller is always the first node.
pub const CONTROLLER: NodeId = NodeId(0);
/// Shortest timer delay: zero would fire timers forever without simulated time passing.
pub const INTERVAL_MIN: SimDuration = SimDuration::from_millis(1);
/// Most entries one fetch returns.
pub const FETCH_MAX: u64 = 64;
/// Most sends a leader holds waiting for its in-sync replicas, per partition.
pub const PENDING_MAX: usize = 1_024;
/// Most messages one partition's log holds; sends past it are refused.
pub const LOG_MAX: usize = 100_000;

/// What the nodes send each other.
#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// Broker to controller: I am alive, and know of these partitions.
    Heartbeat { keys: Vec<u32> },
    /// Controller to brokers: every partition's record.
    Table { parts: Vec<(u32, Part)> },
    /// Leader to controller: make these the in-sync replicas of `key`, whose record I saw
    /// at `version`, while I lead `epoch`.
    AlterIsr {
        key: u32,
        epoch: u64,
        version: u64,
        isr: Vec<NodeId>,
    },
    /// Follower to leader of `epoch`: send me what follows `offset`; my entry before it is
    /// of `prev_epoch`.
    Fetch {
        key: u32,
        epoch: u64,
        offset: u64,
        prev_epoch: u64,
    },
    /// Leader to follower: entries from offset `from` on, and the high watermark.
    Entries {
        key: u32,
        epoch: u64,
        from: u64,
        entries: Vec<Entry>,
        hw: u64,
    },
    /// Leader to follower: your log differs from mine from `truncate_to` on; cut it there.
    Diverged {
        key: u32,
        epoch: u64,
        truncate_to: u64,
    },
    /// Under `commit-on-poll`, leader to controller: commit the group's offset of `key`.
    AutoCommit { key: u32, offset: u64 },
}

/// What timers carry.
#[derive(Clone, Debug, Hash)]
pub enum Tick {
    /// A broker fetches from its leaders; a leader looks at its in-sync replicas.
    Fetch,
    /// A broker heartbeats to the controller.
    Heartbeat,
    /// The controller looks for silent brokers.
    Check,
}

/// What every node of a run shares: its parameters and bug.
#[derive(Clone, Debug, Hash)]
pub struct Config {
    pub params: Params,
    bug: Option<Bug>,
}

/// A node's role.
#[derive(Clone, Debug, Hash)]
pub enum Role {
    Controller(Controller),
    Broker(Broker),
}

/// One replicated-log node.
#[derive(Clone, Debug, Hash)]
pub struct ReplicatedLog {
    cfg: Config,
    pub role: Role,
}

impl ReplicatedLog {
    /// The broker's state, on a broker.
    pub fn broker(&self) -> Option<&Broker> {
        match &self.role {
            Role::Broker(b) => Some(b),
            Role::Controller(_) => None,
        }
    }

    /// The controller's state, on n1.
    pub fn controller(&self) -> Option<&Controller> {
        match &self.role {
            Role::Controller(c) => Some(c),
            Role::Broker(_) => None,
        }
    }
}

impl Process for ReplicatedLog {
    type Message = Msg;
    type Timer = Tick;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        match &mut self.role {
            Role::Controller(c) => c.on_start(ctx, &self.cfg),
            Role::Broker(b) => b.on_start(ctx, &self.cfg),
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        let cfg = &self.cfg;
        match (&mut self.role, msg) {
            (Role::Controller(c), Msg::Heartbeat { keys }) => c.on_heartbeat(ctx, cfg, from, &keys),
            (
                Role::Controller(c),
                Msg::AlterIsr {
                    key,
                    epoch,
                    version,
                    isr,
                },
            ) => {
                c.on_alter_isr(ctx, from, (key, epoch, version, &isr));
            }
            (Role::Controller(c), Msg::AutoCommit { key, offset }) => c.commit(ctx, key, offset),
            (Role::Broker(b), Msg::Table { parts }) if from == CONTROLLER => {
                b.on_table(ctx, cfg, parts)
            }
            (
                Role::Broker(b),
                Msg::Fetch {
                    key,
                    epoch,
                    offset,
                    prev_epoch,
                },
            ) => {
                b.on_fetch(ctx, cfg, from, (key, epoch, offset, prev_epoch));
            }
            (
                Role::Broker(b),
                Msg::Entries {
                    key,
                    epoch,
                    from: at,
                    entries,
                    hw,
                },
            ) => {
                b.on_entries(ctx, from, key, (epoch, at), &entries, hw);
            }
            (
                Role::Broker(b),
                Msg::Diverged {
                    key,
                    epoch,
                    truncate_to,
                },
            ) => {
                b.on_diverged(ctx, from, key, epoch, truncate_to);
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _timer: TimerId, tag: Tick) {
        let cfg = &self.cfg;
        match (&mut self.role, tag) {
            (Role::Controller(c), Tick::Check) => c.on_check(ctx, cfg),
            (Role::Broker(b), Tick::Fetch) => b.on_fetch_tick(ctx, cfg),
            (Role::Broker(b), Tick::Heartbeat) => b.on_heartbeat_tick(ctx, cfg),
            _ => {}
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: Request) {
        match &mut self.role {
            Role::Controller(c) => c.on_request(ctx, request),
            Role::Broker(b) => b.on_request(ctx, &self.cfg, request),
        }
    }
}

impl Protocol for ReplicatedLog {
    const NAME: &'static str = "replicated-log";
    const SUMMARY: &'static str = "a Kafka-like replicated log: partitions with a leader and \
                                   in-sync replicas, a controller, and a consumer group";
    type Params = Params;

    const PARAM_DOCS: &'static [ParamDoc] = PARAM_DOCS;
    const BUG_DOCS: &'static [BugDoc] = BUG_DOCS;

    fn properties() -> Vec<Property<Self>> {
        checks::properties()
    }

    const CHECK_DIGESTS: &'static [PropertyDigest<Self>] = checks::DIGESTS;

    fn workloads() -> &'static [Model] {
        &[Model::Log]
    }

    fn check_params(params: &Params, node_count: u32) -> Result<(), String> {
        params.check(node_count)
    }

    fn new(id: NodeId, node_count: u32, params: &Params, bug: Option<&'static str>) -> Self {
        if let Err(e) = Self::check_params(params, node_count) {
            panic!("{}: {e}", Self::NAME);
        }
        let bug = bug.map(|name| {
            Bug::from_name(name)
                .unwrap_or_else(|| panic!("replicated-log has no bug variant `{name}`"))
        });
        let role = if id == CONTROLLER {
            Role::Controller(Controller::new())
        } else {
            Role::Broker(Broker::new())
        };
        ReplicatedLog {
            cfg: Config {
                params: params.clone(),
                bug,
            },
            role,
        }
    }
    /// The controller: partitions and brokers taken for dead. A broker: leader while it leads
    /// a partition; the log of its lowest partition, cells labelled with their leader's epoch
    /// and filled below the high watermark.
    fn summary(&self) -> crate::Summary {
        use crate::summary::{Cell, Standing};
        match &self.role {
            Role::Controller(c) => crate::Summary::new()
                .role("controller", Standing::Leader)
                .field("partitions", c.parts.len())
                .field("dead", c.dead.len()),
            Role::Broker(b) => {
                let leads = b.replicas.values().filter(|r| r.lead.is_some()).count();
                let standing = match leads {
                    0 => ("follower", Standing::Follower),
                    _ => ("leader", Standing::Leader),
                };
                let summary = crate::Summary::new()
                    .role(standing.0, standing.1)
                    .field("leads", leads);
                match b.replicas.iter().next() {
                    Some((key, r)) => {
                        summary
                            .field("key", key)
                            .field("hw", r.hw)
                            .log(&r.log, 0, |offset, e| Cell::new(e.epoch, offset < r.hw))
                    }
                    None => summary,
                }
            }
        }
    }
}
