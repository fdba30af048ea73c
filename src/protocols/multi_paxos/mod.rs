//! `multi-paxos`: multi-decree Paxos, a replicated log of client operations applied in order
//! to a key-value map, with a stable leader.
//!
//! Every node is an acceptor, a learner and a possible leader (the distinguished proposer).
//! A node that hears from no leader for a randomised timeout runs phase 1 once, with a ballot
//! `(round, node)` above every round it has seen, for every slot it does not know to be chosen
//! (all slots above its chosen prefix). Each promise carries what that acceptor accepted in
//! those slots. With a majority of promises the node leads: in every slot reported it
//! re-proposes the value of the highest ballot reported, fills the holes below the highest
//! reported slot with no-ops, and puts each new client operation in the next free slot, one
//! phase 2 (`Accept`) per slot. A slot is chosen once a majority accepted its value at one
//! ballot; the leader learns it from their answers and tells every node (`Commit`).
//! Heartbeats carry the leader's chosen prefix, so that a node that missed commits asks for
//! them. Every node applies chosen slots in order to its map; the leader answers the client
//! once its slot is applied.
//!
//! An acceptor syncs its promise and what it accepted before it answers; chosen slots are
//! written with them (a lost one is learned again). A restarted node recovers all three.

mod acceptor;
mod checks;
mod durable;
mod leader;
mod learner;
mod monitors;
#[cfg(test)]
mod tests;

use super::{BugDoc, ParamDoc, Protocol};
use crate::check::{Property, PropertyDigest};
use crate::history::Value;
use crate::process::{Ctx, NodeId, Process, TimerId};
use crate::protocol::check_range;
use crate::time::{SimDuration, SimTime};
use crate::trace::client_name;
use crate::workload::{ClientOp, Model, Request, RequestId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Shortest election timeout and heartbeat interval: zero would spin without time passing.
pub const INTERVAL_MIN: SimDuration = SimDuration::from_millis(1);
/// Longest time any parameter may ask for (keeps sums of times far from overflow).
pub const DELAY_MAX: SimDuration = SimDuration::from_secs(3600);
/// Most slots one run fills; a leader refuses clients once the log is this long.
pub const SLOTS_MAX: u64 = 100_000;
/// Most client operations a leader has in flight at once; beyond, it refuses.
pub const PENDING_MAX: usize = 1024;
/// Most chosen slots one catch-up answer carries.
pub const CATCHUP_MAX: usize = 256;
/// Most unchosen slots a leader proposes again on one heartbeat.
pub const RESEND_MAX: usize = 256;

/// `params:` of the multi-paxos protocol.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// A node that hears no leader for a time drawn uniformly from `[low, high]` runs phase 1.
    pub election_timeout: [SimDuration; 2],
    /// Time between two heartbeats of the leader.
    pub heartbeat_interval: SimDuration,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            election_timeout: [SimDuration::from_millis(150), SimDuration::from_millis(300)],
            heartbeat_interval: SimDuration::from_millis(50),
        }
    }
}

const PARAM_DOCS: &[ParamDoc] = &[
    ParamDoc {
        name: "election_timeout",
        default: "[150ms, 300ms]",
        meaning: "a node that hears from no leader for a time drawn uniformly from this range \
                  runs phase 1 to become leader (low 1ms to 1h; high at least low)",
    },
    ParamDoc {
        name: "heartbeat_interval",
        default: "50ms",
        meaning: "time between two heartbeats of the leader, which also re-send proposals \
                  not yet chosen; keep it well below the election timeout (1ms to 1h, and below its low end)",
    },
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Bug {
    SkipRecovery,
    UnsyncedPromise,
    MinorityQuorum,
    OneShortPromises,
}

const BUG_DOCS: &[BugDoc] = &[
    BugDoc {
        name: "skip-recovery",
        description: "a new leader ignores the values its phase 1 reports and puts client \
                      operations right after the slots it knows to be chosen; a slot that the \
                      old leader got chosen, but whose commit did not reach the new leader, \
                      gets a second value; exposed by a partition or crash that cuts the \
                      leader off while its last commits are in flight",
        violates: "agreement",
    },
    BugDoc {
        name: "unsynced-promise",
        description: "an acceptor writes its promise and what it accepted to storage but \
                      answers before syncing; a crash loses them, and the restarted acceptor \
                      can accept a ballot below the one it promised (and forget a value that \
                      made a slot chosen); exposed by crashing an acceptor right after it \
                      promised a new leader",
        violates: "promise_kept",
    },
    BugDoc {
        name: "minority-quorum",
        description: "the leader counts a slot as chosen once half the nodes (rounded down) \
                      accepted it, itself included: a minority in a cluster of odd size; a \
                      leader cut off with one follower goes on choosing and answering clients, \
                      while the majority elects a new leader whose phase 1 cannot see those \
                      slots and fills them with other commands; exposed by a partition that \
                      leaves the leader with a minority",
        violates: "agreement",
    },
    BugDoc {
        name: "one-short-promises",
        description: "a node running phase 1 leads once half the nodes (rounded down) \
                      promised, itself included: two of five, one short of a majority, while \
                      phase 2 still waits for a majority; two leaders can then hold promise \
                      sets that share no node, and the one with the higher ballot, whose \
                      phase 1 saw nothing of a slot the other got chosen, chooses another \
                      command there; exposed by a node cut off from the leader for longer \
                      than an election timeout, by a partition or a crash: on its return its \
                      higher ballot leads on the first promise, which may miss the slots \
                      chosen meanwhile",
        violates: "agreement",
    },
];

impl Bug {
    fn from_name(name: &str) -> Option<Bug> {
        match name {
            "skip-recovery" => Some(Bug::SkipRecovery),
            "unsynced-promise" => Some(Bug::UnsyncedPromise),
            "minority-quorum" => Some(Bug::MinorityQuorum),
            "one-short-promises" => Some(Bug::OneShortPromises),
            _ => None,
        }
    }
}

/// Ballots are numbered as in single-decree Paxos.
pub use super::paxos::Ballot;

/// What a slot of the log holds: a client's operation, or nothing (a hole filled by a new
/// leader). The request id makes every client's command distinct.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Command {
    Noop,
    Op { id: RequestId, op: ClientOp },
}

impl fmt::Display for Command {
    /// `no-op`, or `write 3 to key 1 (client c2, seq 5)`: a node knows a request by its client
    /// and that client's own count (the trace's `seq`), not by its number in the history.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Command::Op { id, op } = self else {
            return write!(f, "no-op");
        };
        match *op {
            ClientOp::Read { key } => write!(f, "read key {key}")?,
            ClientOp::Write { key, value } => write!(f, "write {value} to key {key}")?,
            ClientOp::Cas { key, from, to } => write!(f, "cas key {key} from {from} to {to}")?,
            ClientOp::Append { key, value } => write!(f, "append {value} to key {key}")?,
            ClientOp::Add { value } => write!(f, "add {value}")?,
            ClientOp::Generate => write!(f, "generate")?,
            ClientOp::Txn(txn) => write!(f, "{txn:?}")?,
            ClientOp::Send { .. }
            | ClientOp::Poll { .. }
            | ClientOp::Commit { .. }
            | ClientOp::Committed { .. } => write!(f, "{op:?}")?,
        }
        write!(f, " (client {}, seq {})", client_name(id.client), id.seq)
    }
}

/// One slot an acceptor reports in a promise: the slot, the ballot and what it accepted.
pub type Report = (u64, Ballot, Command);

/// What multi-paxos nodes send each other.
#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// Phase 1a for every slot from `from` on: promise to ignore ballots below this one.
    Prepare { ballot: Ballot, from: u64 },
    /// Phase 1b: promised, with what this acceptor accepted in the slots asked about.
    Promise {
        ballot: Ballot,
        accepted: Vec<Report>,
    },
    /// Phase 2a: accept `value` in `slot` at this ballot.
    Accept {
        ballot: Ballot,
        slot: u64,
        value: Command,
    },
    /// Phase 2b: accepted (and synced).
    Accepted { ballot: Ballot, slot: u64 },
    /// Refused: this acceptor promised a higher ballot.
    Nack { ballot: Ballot, promised: Ballot },
    /// The leader learned that `value` is chosen in `slot` (accepted by a majority at `ballot`).
    Commit {
        slot: u64,
        ballot: Ballot,
        value: Command,
    },
    /// The leader of `ballot` is alive and knows every slot up to `chosen` is chosen.
    Heartbeat { ballot: Ballot, chosen: u64 },
    /// A learner asks for the chosen slots from `from` on.
    CatchUp { from: u64 },
    /// Chosen slots, with the ballot each was chosen at.
    Chosen { entries: Vec<Report> },
}

/// What multi-paxos timers carry.
#[derive(Clone, Debug, Hash)]
pub enum Tick {
    /// Check whether the leader has been silent too long.
    Election,
    /// Leader of that ballot: send heartbeats and re-send proposals.
    Heartbeat(Ballot),
}

/// Where a node's proposer is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Follower,
    /// Running phase 1 with its ballot.
    Candidate,
    Leader,
}

/// A slot the leader proposed and has not yet seen chosen.
#[derive(Clone, Debug, Hash)]
struct Proposal {
    value: Command,
    /// Per node, whether it accepted.
    accepted: Vec<bool>,
}

/// One multi-paxos node.
#[derive(Clone, Debug, Hash)]
pub struct MultiPaxos {
    id: NodeId,
    node_count: u32,
    election_timeout: (SimDuration, SimDuration),
    heartbeat_interval: SimDuration,
    bug: Option<Bug>,
    // Acceptor, durable: synced before any answer leaves.
    promised: Ballot,
    accepted: BTreeMap<u64, (Ballot, Command)>,
    // Learner: `log[s - 1]` is what it knows chosen in slot `s`, with the ballot it was chosen
    // at; slots `1..=applied` are all known and applied to `kv`.
    log: Vec<Option<(Ballot, Command)>>,
    applied: u64,
    kv: BTreeMap<u32, Value>,
    // Proposer, volatile.
    role: Role,
    /// The ballot this node leads or prepares (candidate and leader).
    ballot: Ballot,
    /// The leader this node follows, and its ballot.
    leader: Option<(NodeId, Ballot)>,
    /// The highest round any message told this node about.
    round_seen: u32,
    /// Candidate: per node, its promise's reports once it promised.
    promises: Vec<Option<Vec<Report>>>,
    /// Leader: slots proposed and not yet known chosen.
    proposals: BTreeMap<u64, Proposal>,
    /// Leader: the slot the next client operation goes to.
    next_slot: u64,
    /// Leader: clients waiting for the slot their operation was proposed in.
    pending: BTreeMap<u64, RequestId>,
    election_deadline: SimTime,
    // Summary for the `promise_kept` check.
    /// Per acceptor, the highest ballot it told this node it promised or accepted.
    promises_seen: Vec<Ballot>,
}

impl MultiPaxos {
    pub fn role(&self) -> Role {
        self.role
    }
    /// The ballot this node leads or prepares (meaningful for candidates and leaders).
    pub fn ballot(&self) -> Ballot {
        self.ballot
    }
    pub fn promised(&self) -> Ballot {
        self.promised
    }
    /// What the acceptor accepted, by slot.
    pub fn accepted(&self) -> &BTreeMap<u64, (Ballot, Command)> {
        &self.accepted
    }
    /// The leader this node follows (itself when it leads).
    pub fn leader(&self) -> Option<NodeId> {
        self.leader.map(|(id, _)| id)
    }
    /// What the node knows chosen in `slot` (1-based).
    pub fn chosen(&self, slot: u64) -> Option<&Command> {
        let i = usize::try_from(slot.checked_sub(1)?).ok()?;
        self.log.get(i)?.as_ref().map(|(_, c)| c)
    }
    /// How many slots, from 1, are chosen and applied here.
    pub fn applied(&self) -> u64 {
        self.applied
    }
    /// The state machine: what each key holds after the applied slots.
    pub fn kv(&self) -> &BTreeMap<u32, Value> {
        &self.kv
    }

    fn majority(&self) -> usize {
        self.node_count as usize / 2 + 1
    }

    fn reset_election_deadline(&mut self, ctx: &mut Ctx<'_, Self>) {
        let (low, high) = self.election_timeout;
        self.election_deadline = ctx.now() + ctx.random_duration(low..=high);
    }

    fn arm_election_timer(&mut self, ctx: &mut Ctx<'_, Self>) {
        let wait = self
            .election_deadline
            .saturating_since(ctx.now())
            .max(INTERVAL_MIN);
        ctx.set_timer(wait, Tick::Election);
    }

    fn on_election_timer(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.role == Role::Leader {
            self.election_deadline = ctx.now() + self.election_timeout.1;
        } else if ctx.now() >= self.election_deadline {
            self.start_phase1(ctx);
        }
        self.arm_election_timer(ctx);
    }

    /// Takes over what storage kept after a restart, and applies the chosen prefix again.
    fn recover(&mut self, ctx: &mut Ctx<'_, Self>) {
        let found = durable::recover(ctx.storage());
        self.promised = found.promised;
        self.round_seen = found.promised.round;
        self.accepted = found.accepted;
        for (slot, (ballot, value)) in (1..).zip(found.chosen) {
            self.learn(ctx, slot, ballot, value);
        }
    }
}

impl Process for MultiPaxos {
    type Message = Msg;
    type Timer = Tick;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if ctx.is_restart() {
            self.recover(ctx);
        }
        self.reset_election_deadline(ctx);
        self.arm_election_timer(ctx);
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        if let Some(b) = msg_ballot(&msg) {
            self.round_seen = self.round_seen.max(b.round);
        }
        match msg {
            Msg::Prepare { ballot, from: slot } => self.on_prepare(ctx, from, ballot, slot),
            Msg::Promise { ballot, accepted } => self.on_promise(ctx, from, ballot, accepted),
            Msg::Accept {
                ballot,
                slot,
                value,
            } => self.on_accept(ctx, from, ballot, slot, value),
            Msg::Accepted { ballot, slot } => self.on_accepted(ctx, from, ballot, slot),
            Msg::Nack { ballot, promised } => self.on_nack(ctx, ballot, promised),
            Msg::Commit {
                slot,
                ballot,
                value,
            } => self.learn(ctx, slot, ballot, value),
            Msg::Heartbeat { ballot, chosen } => self.on_heartbeat(ctx, from, ballot, chosen),
            Msg::CatchUp { from: slot } => self.on_catch_up(ctx, from, slot),
            Msg::Chosen { entries } => self.on_chosen(ctx, from, entries),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _timer: TimerId, tag: Tick) {
        match tag {
            Tick::Election => self.on_election_timer(ctx),
            Tick::Heartbeat(b) if b == self.ballot && self.role == Role::Leader => {
                self.heartbeat(ctx);
            }
            // The heartbeat of a ballot this node no longer leads.
            Tick::Heartbeat(_) => {}
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: Request) {
        self.serve(ctx, request);
    }
}

/// The ballot a message speaks of, which tells the receiver how high rounds have gone.
fn msg_ballot(msg: &Msg) -> Option<Ballot> {
    match *msg {
        Msg::Prepare { ballot, .. }
        | Msg::Promise { ballot, .. }
        | Msg::Accept { ballot, .. }
        | Msg::Accepted { ballot, .. }
        | Msg::Heartbeat { ballot, .. } => Some(ballot),
        Msg::Nack { promised, .. } => Some(promised),
        Msg::Commit { .. } | Msg::CatchUp { .. } | Msg::Chosen { .. } => None,
    }
}

impl Protocol for MultiPaxos {
    const NAME: &'static str = "multi-paxos";
    const SUMMARY: &'static str =
        "multi-decree Paxos: a stable leader fills a replicated log applied to a key-value store";
    type Params = Params;

    const PARAM_DOCS: &'static [ParamDoc] = PARAM_DOCS;
    const BUG_DOCS: &'static [BugDoc] = BUG_DOCS;

    fn properties() -> Vec<Property<Self>> {
        checks::properties()
    }

    const CHECK_DIGESTS: &'static [PropertyDigest<Self>] = monitors::DIGESTS;

    fn workloads() -> &'static [Model] {
        &[
            Model::Register,
            Model::CasRegister,
            Model::Kv,
            Model::Counter,
        ]
    }

    fn check_params(params: &Params, _node_count: u32) -> Result<(), String> {
        let [low, high] = params.election_timeout;
        check_range("election_timeout", low, INTERVAL_MIN, DELAY_MAX)?;
        check_range("election_timeout's high end", high, low, DELAY_MAX)?;
        check_range(
            "heartbeat_interval",
            params.heartbeat_interval,
            INTERVAL_MIN,
            DELAY_MAX,
        )?;
        crate::protocol::check_below_timeout(params.heartbeat_interval, low)
    }

    fn new(id: NodeId, node_count: u32, params: &Params, bug: Option<&'static str>) -> Self {
        if let Err(e) = Self::check_params(params, node_count) {
            panic!("{}: {e}", Self::NAME);
        }
        let bug = bug.map(|name| {
            Bug::from_name(name)
                .unwrap_or_else(|| panic!("multi-paxos has no bug variant `{name}`"))
        });
        let [low, high] = params.election_timeout;
        let node_count = node_count.max(1);
        MultiPaxos {
            id,
            node_count,
            election_timeout: (low, high),
            heartbeat_interval: params.heartbeat_interval,
            bug,
            promised: Ballot::default(),
            accepted: BTreeMap::new(),
            log: Vec::new(),
            applied: 0,
            kv: BTreeMap::new(),
            role: Role::Follower,
            ballot: Ballot::default(),
            leader: None,
            round_seen: 0,
            promises: Vec::new(),
            proposals: BTreeMap::new(),
            next_slot: 1,
            pending: BTreeMap::new(),
            election_deadline: SimTime::ZERO,
            promises_seen: vec![Ballot::default(); node_count as usize],
        }
    }
    /// Role and ballot; slots known chosen and applied; the learned log's last slots, each
    /// labelled with the round it was chosen at (empty while not known chosen).
    fn summary(&self) -> crate::Summary {
        use crate::summary::{Cell, Standing};
        let role = match self.role {
            Role::Leader => ("leader", Standing::Leader),
            Role::Candidate => ("candidate", Standing::Candidate),
            Role::Follower => ("follower", Standing::Follower),
        };
        crate::Summary::new()
            .role(role.0, role.1)
            .field("ballot", self.promised)
            .field("applied", self.applied)
            .field("log", self.log.len())
            .log(&self.log, 1, |_, slot| match slot {
                Some((ballot, _)) => Cell::new(ballot.round, true),
                None => Cell::new("", false),
            })
    }
}
