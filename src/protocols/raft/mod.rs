//! `raft`: leader election and log replication (Ongaro and Ousterhout's Raft), with a
//! replicated key-value state machine that serves register, cas-register, kv and counter
//! clients.
//!
//! Every node is a follower, a candidate or the leader of its current term. A follower that
//! hears nothing from a leader for a randomised election timeout becomes a candidate of the
//! next term and asks for votes; a majority of votes in one term makes it leader. Each node
//! votes at most once per term, and only for a candidate whose log is at least as up to date
//! as its own. The leader appends each client operation (reads too, for linearizability) to
//! its log and replicates it with AppendEntries, which carry the index and term of the entry
//! before them so that a follower accepts them only after a matching prefix; a follower drops
//! any conflicting suffix. An entry is committed once a majority holds it and it belongs to
//! the leader's current term (older entries are committed with it, never by counting their
//! replicas: the paper's Figure 8). Committed entries are applied in order to a map of keys.
//!
//! Term, vote and log are written to storage and synced before a node answers a vote request
//! or an append, and before a leader counts its own copy of an entry; a restarted node
//! recovers them, and rebuilds its map by applying entries again as they are committed.

mod log;
mod monitors;
mod props;
mod replicate;
mod state;
#[cfg(test)]
mod tests;

use super::{BugDoc, ParamDoc, Protocol};
use crate::check::{Property, PropertyDigest};
use crate::history::Value;
use crate::process::{Ctx, NodeId, Process, TimerId};
use crate::protocol::{check_at_least, check_range};
use crate::time::{SimDuration, SimTime};
use crate::workload::{Model, Reply, Request, RequestId};
pub use log::Entry;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

/// Shortest election timeout and heartbeat interval: zero would spin without time passing.
pub const INTERVAL_MIN: SimDuration = SimDuration::from_millis(1);
/// Most entries one AppendEntries carries, whatever `max_entries` asks for.
pub const MAX_ENTRIES_CAP: u32 = 10_000;
/// Most clients a leader keeps waiting for their entries at once; beyond, it refuses.
pub const PENDING_MAX: usize = 10_000;
/// How many of the batches a leader last sent it keeps to send again: followers that lag
/// by different amounts often alternate between two.
pub const SENT_BATCHES: usize = 2;
/// Log entries a node makes room for in all when it starts (a run of seconds at hundreds of
/// operations a second), in memory and in storage, so that the log is not copied as it
/// grows; a longer log grows as usual. A restarted node's storage kept its room.
pub const LOG_RESERVE_ENTRIES: usize = 1024;

/// `params:` of the raft protocol.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// A follower's election timeout is drawn uniformly from `[low, high]`.
    pub election_timeout: [SimDuration; 2],
    /// Time between two AppendEntries of a leader to each follower.
    pub heartbeat_interval: SimDuration,
    /// Most entries in one AppendEntries.
    pub max_entries: u32,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            election_timeout: [SimDuration::from_millis(150), SimDuration::from_millis(300)],
            heartbeat_interval: SimDuration::from_millis(50),
            max_entries: 64,
        }
    }
}

const PARAM_DOCS: &[ParamDoc] = &[
    ParamDoc {
        name: "election_timeout",
        default: "[150ms, 300ms]",
        meaning: "a follower that hears no leader for a time drawn uniformly from this range \
                  becomes a candidate (low at least 1ms; high at least low)",
    },
    ParamDoc {
        name: "heartbeat_interval",
        default: "50ms",
        meaning: "time between two AppendEntries of the leader to each follower, entries or \
                  not; keep it well below the election timeout (at least 1ms, and below its low end)",
    },
    ParamDoc {
        name: "max_entries",
        default: "64",
        meaning: "most log entries one AppendEntries carries (1 to 10000)",
    },
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Bug {
    Figure8,
    UnsyncedVote,
    StaleRead,
}

const BUG_DOCS: &[BugDoc] = &[
    BugDoc {
        name: "figure8",
        description: "the leader commits any entry a majority holds, even one from an earlier \
                      term; such an entry can still be overwritten by a candidate whose last \
                      entry has a newer term, as in Figure 8 of the Raft paper; exposed by a \
                      leader that appended entries a minority holds, then lost and regained \
                      leadership while another node appended an entry of a term in between",
        violates: "leader_completeness",
    },
    BugDoc {
        name: "unsynced-vote",
        description: "a node writes its term and vote to storage but does not sync them before \
                      answering a vote request; a crash forgets the vote and, after the \
                      restart, the node votes again in the same term for another candidate, \
                      so two leaders are elected in one term; exposed by crashing a voter \
                      shared by two competing candidates",
        violates: "election_safety",
    },
    BugDoc {
        name: "stale-read",
        description: "the leader answers reads at once from its own map instead of through the \
                      log, without checking that it is still leader; a leader cut off from the \
                      others by a partition goes on answering reads while a new leader in the \
                      majority accepts writes, so reads return old values (a newly elected \
                      leader, which has not yet applied what its predecessor committed, \
                      answers old values too)",
        violates: "linearizable",
    },
];

impl Bug {
    fn from_name(name: &str) -> Option<Bug> {
        match name {
            "figure8" => Some(Bug::Figure8),
            "unsynced-vote" => Some(Bug::UnsyncedVote),
            "stale-read" => Some(Bug::StaleRead),
            _ => None,
        }
    }
}

/// What raft nodes send each other.
#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// A candidate asks for a vote in `term`; its log ends at `last_index` of `last_term`.
    RequestVote {
        term: u64,
        last_index: u64,
        last_term: u64,
    },
    /// The answer to a vote request of `term` (or a newer term the voter is in).
    Vote { term: u64, granted: bool },
    /// The leader of `term` sends `entries` that follow `prev_index` (of `prev_term`), and
    /// its commit index. Several entries are shared: a leader sends the same ones to every
    /// follower that lags as far, and the network may duplicate the message.
    Append {
        term: u64,
        prev_index: u64,
        prev_term: u64,
        entries: log::Batch,
        commit: u64,
    },
    /// On success the follower holds the leader's log up to `index`; on failure, `index` is
    /// where the leader should try next from (the follower's log is shorter, or conflicts).
    Appended { term: u64, ok: bool, index: u64 },
}

/// What raft timers carry.
#[derive(Clone, Debug, Hash)]
pub enum Tick {
    /// Check whether the election timeout has passed.
    Election,
    /// Leader of that term: send AppendEntries to every follower.
    Heartbeat(u64),
}

/// A node's role in its current term.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Follower,
    Candidate,
    Leader,
}

/// One raft node. `Debug` and `Hash` (in `state.rs`) leave out caches and derived counts.
#[derive(Clone)]
pub struct Raft {
    id: NodeId,
    node_count: u32,
    election_timeout: (SimDuration, SimDuration),
    heartbeat_interval: SimDuration,
    max_entries: usize,
    bug: Option<Bug>,
    // Durable: synced before anyone else learns of them.
    term: u64,
    voted_for: Option<NodeId>,
    log: Vec<Entry>,
    // Volatile.
    role: Role,
    leader: Option<NodeId>,
    commit: u64,
    applied: u64,
    kv: BTreeMap<u32, Value>,
    /// Candidate: per node, whether it granted its vote.
    votes: Vec<bool>,
    /// Leader: per node, the next index to send and the highest index known replicated.
    next: Vec<u64>,
    matched: Vec<u64>,
    /// Leader: how many of `matched` are past the commit index, kept as they change so that
    /// an answer that cannot move the commit index is told apart without a count.
    past_commit: u32,
    /// Leader: clients waiting for the entry at an index to be applied, by increasing index
    /// (a leader only appends, and a node that stops leading answers them all).
    pending: VecDeque<(u64, RequestId)>,
    election_deadline: SimTime,
    /// Leader: the batches of more than one entry it last sent, each with the index it
    /// follows, the latest first, to send again to the next follower that needs the same ones
    /// without copying them; dropped when the log is truncated.
    sent: [Option<(u64, Arc<[Entry]>)>; SENT_BATCHES],
    /// Leader: per node, the last batch sent to it, likewise; emptied when the log is
    /// truncated.
    sent_to: Vec<Option<(u64, Arc<[Entry]>)>>,
    // Summaries for the safety checks (volatile, like the state they summarise).
    /// Term and chain hash of the last log entry, and chain hash of the last applied entry
    /// (0 when none): the checks read them after every event, and inline they cost no
    /// pointer chase. The last applied entry's hash stays when a buggy node truncates it.
    tail: (u64, u64),
    applied_last: u64,
}

impl Raft {
    pub fn term(&self) -> u64 {
        self.term
    }
    pub fn role(&self) -> Role {
        self.role
    }
    pub fn leader(&self) -> Option<NodeId> {
        self.leader
    }
    pub fn log(&self) -> &[Entry] {
        &self.log
    }
    pub fn commit_index(&self) -> u64 {
        self.commit
    }
    /// The state machine: what each key holds after the applied entries.
    pub fn kv(&self) -> &BTreeMap<u32, Value> {
        &self.kv
    }

    fn last_index(&self) -> u64 {
        self.log.len() as u64
    }
    fn term_at(&self, index: u64) -> u64 {
        match index {
            0 => 0,
            i => self.log.get(i as usize - 1).map_or(0, |e| e.term),
        }
    }
    fn chain_at(&self, index: u64) -> u64 {
        match index {
            0 => 0,
            i => self.log.get(i as usize - 1).map_or(0, |e| e.chain),
        }
    }
    /// Updates the inline copy of the last entry's term and hash after the log changed.
    fn refresh_tail(&mut self) {
        self.tail = self.log.last().map_or((0, 0), |e| (e.term, e.chain));
    }

    fn vote_count(&self) -> u32 {
        self.votes.iter().filter(|&&v| v).count() as u32
    }
    fn majority(&self) -> u32 {
        self.node_count / 2 + 1
    }

    /// Term and vote to storage; synced unless the `unsynced-vote` bug is on.
    fn persist_term_vote(&self, ctx: &mut Ctx<'_, Self>) {
        ctx.storage().put(log::TERM_KEY, self.term.to_le_bytes());
        match self.voted_for {
            Some(v) => ctx
                .storage()
                .put(log::VOTE_KEY, u64::from(v.0).to_le_bytes()),
            None => ctx.storage().delete(log::VOTE_KEY),
        }
        if self.bug != Some(Bug::UnsyncedVote) {
            ctx.storage().sync();
        }
    }

    /// Moves to `term` (newer than ours) as a follower with no vote cast.
    fn adopt_term(&mut self, ctx: &mut Ctx<'_, Self>, term: u64) {
        self.term = term;
        self.voted_for = None;
        self.leader = None;
        self.step_down(ctx);
        self.persist_term_vote(ctx);
    }

    /// Becomes a follower. Inline: a follower steps down on every append it accepts, and
    /// only a leader has more to do.
    #[inline]
    fn step_down(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.role == Role::Leader {
            self.stop_leading(ctx);
        }
        self.role = Role::Follower;
    }

    /// Clients waiting on this node as leader may or may not see their operation done, so
    /// they get an indefinite answer.
    #[inline(never)]
    fn stop_leading(&mut self, ctx: &mut Ctx<'_, Self>) {
        for (_, id) in std::mem::take(&mut self.pending) {
            ctx.reply(
                id,
                Reply::Info("leadership lost before the operation committed"),
            );
        }
        self.reset_election_deadline(ctx);
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
            self.start_election(ctx);
        }
        self.arm_election_timer(ctx);
    }

    fn start_election(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.term += 1;
        self.voted_for = Some(self.id);
        self.role = Role::Candidate;
        self.leader = None;
        self.votes = vec![false; self.node_count as usize];
        self.votes[self.id.index()] = true;
        self.persist_term_vote(ctx);
        self.reset_election_deadline(ctx);
        if self.vote_count() >= self.majority() {
            self.become_leader(ctx);
            return;
        }
        ctx.broadcast(Msg::RequestVote {
            term: self.term,
            last_index: self.last_index(),
            last_term: self.term_at(self.last_index()),
        });
    }

    fn on_request_vote(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: (u64, u64, u64)) {
        let (term, last_index, last_term) = msg;
        if term > self.term {
            self.adopt_term(ctx, term);
        }
        let ours = (self.term_at(self.last_index()), self.last_index());
        let up_to_date = (last_term, last_index) >= ours;
        let free = self.voted_for.is_none() || self.voted_for == Some(from);
        let granted = term == self.term && free && up_to_date;
        if granted {
            self.voted_for = Some(from);
            self.persist_term_vote(ctx);
            self.reset_election_deadline(ctx);
        }
        ctx.send(
            from,
            Msg::Vote {
                term: self.term,
                granted,
            },
        );
    }

    fn on_vote(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, term: u64, granted: bool) {
        if term > self.term {
            self.adopt_term(ctx, term);
            return;
        }
        if self.role != Role::Candidate || term != self.term || !granted {
            return;
        }
        if let Some(vote) = self.votes.get_mut(from.index()) {
            *vote = true;
        }
        if self.vote_count() >= self.majority() {
            self.become_leader(ctx);
        }
    }

    fn become_leader(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.role = Role::Leader;
        self.leader = Some(self.id);
        let n = self.node_count as usize;
        self.next = vec![self.last_index() + 1; n];
        self.matched = vec![0; n];
        self.sent_to = vec![None; n];
        self.matched[self.id.index()] = self.last_index();
        self.count_past_commit();
        ctx.annotate(format_args!("leader of term {}", self.term));
        self.heartbeat(ctx);
    }

    /// Sends every follower what it lacks (or an empty append), and re-arms the heartbeat.
    fn heartbeat(&mut self, ctx: &mut Ctx<'_, Self>) {
        for peer in ctx.peers() {
            self.send_append(ctx, peer);
        }
        ctx.set_timer(self.heartbeat_interval, Tick::Heartbeat(self.term));
    }
}

impl Process for Raft {
    type Message = Msg;
    type Timer = Tick;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if ctx.is_restart() {
            let (term, vote, entries) = log::recover(ctx.storage());
            self.term = term;
            self.voted_for = vote.map(NodeId);
            self.log = entries;
            self.refresh_tail();
        }
        // Room in all, not more room: a restarted node would otherwise copy what it holds.
        let room = LOG_RESERVE_ENTRIES.saturating_sub(self.log.len());
        self.log.reserve(room);
        ctx.storage().log_reserve(room, room * log::ENTRY_BYTES);
        self.reset_election_deadline(ctx);
        self.arm_election_timer(ctx);
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match msg {
            Msg::RequestVote {
                term,
                last_index,
                last_term,
            } => self.on_request_vote(ctx, from, (term, last_index, last_term)),
            Msg::Vote { term, granted } => self.on_vote(ctx, from, term, granted),
            Msg::Append {
                term,
                prev_index,
                prev_term,
                entries,
                commit,
            } => {
                let append = replicate::Append {
                    term,
                    prev_index,
                    prev_term,
                    entries,
                    commit,
                };
                self.on_append(ctx, from, append);
            }
            Msg::Appended { term, ok, index } => self.on_appended(ctx, from, (term, ok, index)),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _timer: TimerId, tag: Tick) {
        match tag {
            Tick::Election => self.on_election_timer(ctx),
            Tick::Heartbeat(term) if term == self.term && self.role == Role::Leader => {
                self.heartbeat(ctx);
            }
            // The heartbeat of a term this node no longer leads.
            Tick::Heartbeat(_) => {}
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: Request) {
        self.serve(ctx, request);
    }
}

impl Protocol for Raft {
    const NAME: &'static str = "raft";
    const SUMMARY: &'static str =
        "Raft: leader election and log replication, with a replicated key-value store";
    type Params = Params;

    const PARAM_DOCS: &'static [ParamDoc] = PARAM_DOCS;
    const BUG_DOCS: &'static [BugDoc] = BUG_DOCS;

    fn properties() -> Vec<Property<Self>> {
        props::properties()
    }

    const CHECK_DIGESTS: &'static [PropertyDigest<Self>] = props::DIGESTS;

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
        check_at_least("election_timeout", low, INTERVAL_MIN)?;
        check_at_least("election_timeout's high end", high, low)?;
        check_at_least(
            "heartbeat_interval",
            params.heartbeat_interval,
            INTERVAL_MIN,
        )?;
        check_range("max_entries", params.max_entries, 1, MAX_ENTRIES_CAP)?;
        crate::protocol::check_below_timeout(params.heartbeat_interval, low)
    }

    fn new(id: NodeId, node_count: u32, params: &Params, bug: Option<&'static str>) -> Self {
        if let Err(e) = Self::check_params(params, node_count) {
            panic!("{}: {e}", Self::NAME);
        }
        let bug = bug.map(|name| {
            Bug::from_name(name).unwrap_or_else(|| panic!("raft has no bug variant `{name}`"))
        });
        let [low, high] = params.election_timeout;
        let node_count = node_count.max(1);
        Raft {
            id,
            node_count,
            election_timeout: (low, high),
            heartbeat_interval: params.heartbeat_interval,
            max_entries: params.max_entries as usize,
            bug,
            term: 0,
            voted_for: None,
            log: Vec::new(),
            role: Role::Follower,
            leader: None,
            commit: 0,
            applied: 0,
            kv: BTreeMap::new(),
            votes: Vec::new(),
            next: Vec::new(),
            matched: Vec::new(),
            past_commit: 0,
            pending: VecDeque::new(),
            election_deadline: SimTime::ZERO,
            sent: Default::default(),
            sent_to: Vec::new(),
            tail: (0, 0),
            applied_last: 0,
        }
    }
    /// Role, term and commit index; the log's last entries labelled with their terms.
    fn summary(&self) -> crate::Summary {
        use crate::summary::{Cell, Standing};
        let role = match self.role {
            Role::Leader => ("leader", Standing::Leader),
            Role::Candidate => ("candidate", Standing::Candidate),
            Role::Follower => ("follower", Standing::Follower),
        };
        crate::Summary::new()
            .role(role.0, role.1)
            .field("term", self.term)
            .field("commit", self.commit)
            .field("log", self.log.len())
            .log(&self.log, 1, |index, entry| {
                Cell::new(entry.term, index <= self.commit)
            })
    }
}
