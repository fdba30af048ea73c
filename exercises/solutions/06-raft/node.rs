//! Exercise 6, Raft in parts: leader election, then log replication, then safety across
//! crashes.
//!
//! Reference solution. Every node is a follower, a candidate or the leader of its term. A
//! follower that hears nothing from a leader for a random election timeout becomes a
//! candidate of the next term and asks every node for its vote; a node votes at most once a
//! term, and only for a candidate whose log is at least as up to date as its own (a newer
//! last term, or the same and at least as long). A majority of votes makes a leader.
//!
//! The leader appends each client operation, reads too, to its log and sends followers the
//! entries they lack, each batch with the index and term of the entry before it: a follower
//! takes them only after a matching prefix, and drops whatever of its own conflicts. Once a
//! majority holds an entry of the leader's own term, it and every entry before it are
//! committed; an entry of an older term is never committed by counting its copies (Figure 8
//! of the paper). Every node applies committed entries in order to its registers, and the
//! leader answers each client as its entry is applied.
//!
//! Term, vote and log are synced to storage before any message that relies on them leaves:
//! a vote, an acknowledgement of entries, the leader's own copy counted towards a majority.
//! A restarted node reads them back, and applies its log again as it learns what is
//! committed.

use super::given::{self, RaftView, Store};
use faultline::check::Property;
use faultline::protocol::{BugDoc, ParamDoc};
use faultline::workload::{ClientOp, Model, Reply, Request, RequestId};
use faultline::{Ctx, NodeId, Process, Protocol, SimDuration, SimTime, TimerId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How often a leader sends every follower an append, entries or not: a few times within the
/// shortest election timeout, so that a lost message or two does not start an election.
const HEARTBEAT_INTERVAL: SimDuration = SimDuration::from_millis(50);
/// A follower's election timeout is drawn from this range anew each time it is reset: the
/// spread makes it unlikely that two candidates split the votes again and again.
const ELECTION_TIMEOUT_MIN: SimDuration = SimDuration::from_millis(300);
const ELECTION_TIMEOUT_MAX: SimDuration = SimDuration::from_millis(600);
/// Most entries one append carries: a follower far behind catches up in several.
const ENTRIES_PER_APPEND_MAX: usize = 64;

const TERM_KEY: &str = "term";
/// The vote of the current term, as the voted-for node's index plus one (0: none).
const VOTE_KEY: &str = "vote";

/// `params:` in a scenario: the protocol has none, so a scenario that sets one is an error.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Params {}

/// One log entry: a client's operation and the term of the leader that appended it.
#[derive(Clone, Copy, Debug, Hash, PartialEq)]
pub struct Entry {
    term: u64,
    op: ClientOp,
}

/// What nodes send each other.
#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// A candidate of `term` asks for a vote; its log ends at `last_index`, of `last_term`.
    RequestVote {
        term: u64,
        last_index: u64,
        last_term: u64,
    },
    /// The answer to a vote request, in the voter's term.
    Vote { term: u64, granted: bool },
    /// The leader of `term` sends the `entries` that follow index `prev_index` (of
    /// `prev_term`), and how far its log is committed.
    Append {
        term: u64,
        prev_index: u64,
        prev_term: u64,
        entries: Vec<Entry>,
        commit: u64,
    },
    /// A follower's answer: on success it holds the leader's log up to `index`, durably; on
    /// failure, `index` is where the leader should try again from.
    Appended { term: u64, ok: bool, index: u64 },
}

/// What a node's timers carry.
#[derive(Clone, Debug, Hash)]
pub enum Tick {
    /// See whether the election timeout has passed.
    Election,
    /// The leader of that term sends its appends.
    Heartbeat(u64),
}

#[derive(Clone, Copy, Debug, Hash, PartialEq)]
enum Role {
    Follower,
    Candidate,
    Leader,
}

/// One node. Its `Debug` is what `run --html run.html --states` shows of it; `Clone` and `Hash`
/// let faultline copy a node's state and recognise one it has seen, so keep them derived.
#[derive(Clone, Debug, Hash)]
pub struct RaftNode {
    id: NodeId,
    node_count: u32,
    /// Durable: the newest term this node has seen.
    term: u64,
    /// Durable: whom this node voted for in `term`.
    voted_for: Option<NodeId>,
    /// Durable: the log; index `i` (from 1) is `log[i - 1]`.
    log: Vec<Entry>,
    role: Role,
    /// The leader of `term`, once heard from.
    leader: Option<NodeId>,
    commit: u64,
    /// How many entries the registers have applied.
    applied: u64,
    store: Store,
    /// When a follower or candidate starts the next election, unless it hears from a leader.
    election_deadline: SimTime,
    /// Candidate: per node index, whether it granted its vote.
    votes: Vec<bool>,
    /// Leader: per node index, the next index to send it.
    next_index: Vec<u64>,
    /// Leader: per node index, up to which index it is known to hold the leader's log.
    match_index: Vec<u64>,
    /// Leader: the clients waiting for an answer, by the index of their entry.
    waiting: BTreeMap<u64, RequestId>,
}

impl RaftNode {
    fn majority(&self) -> usize {
        self.node_count as usize / 2 + 1
    }

    fn last_index(&self) -> u64 {
        self.log.len() as u64
    }

    /// The term of the entry at `index`; 0 for the empty prefix (and past the end).
    fn term_at(&self, index: u64) -> u64 {
        match index {
            0 => 0,
            _ => self.log.get(index as usize - 1).map_or(0, |e| e.term),
        }
    }

    /// Syncs term and vote: no vote and no message of a newer term leaves before they are
    /// durable, or a restart could vote twice in one term.
    fn persist_term_vote(&self, ctx: &mut Ctx<'_, Self>) {
        let vote = self.voted_for.map_or(0, |n| u64::from(n.0) + 1);
        let storage = ctx.storage();
        given::put_u64(storage, TERM_KEY, self.term);
        given::put_u64(storage, VOTE_KEY, vote);
        storage.sync();
    }

    fn recover(&mut self, ctx: &mut Ctx<'_, Self>) {
        let storage = ctx.storage();
        self.term = given::get_u64(storage, TERM_KEY).unwrap_or(0);
        let vote = given::get_u64(storage, VOTE_KEY).unwrap_or(0);
        self.voted_for = vote.checked_sub(1).map(|v| NodeId(v as u32));
        let log = given::read_log(storage);
        self.log = log
            .into_iter()
            .map(|(term, op)| Entry { term, op })
            .collect();
    }

    fn reset_election_deadline(&mut self, ctx: &mut Ctx<'_, Self>) {
        let timeout = ctx.random_duration(ELECTION_TIMEOUT_MIN..=ELECTION_TIMEOUT_MAX);
        self.election_deadline = ctx.now() + timeout;
    }

    /// Moves to `term`, newer than this node's, as a follower that has not voted in it.
    fn adopt_term(&mut self, ctx: &mut Ctx<'_, Self>, term: u64) {
        self.term = term;
        self.voted_for = None;
        self.leader = None;
        self.become_follower(ctx);
        self.persist_term_vote(ctx);
    }

    /// A leader that steps down cannot tell whether the entries its clients wait for will be
    /// committed by the next leader: their answer is `info`, maybe done.
    fn become_follower(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.role == Role::Leader {
            for (_, id) in std::mem::take(&mut self.waiting) {
                ctx.reply(id, Reply::Info("the leader stepped down"));
            }
            self.reset_election_deadline(ctx);
        }
        self.role = Role::Follower;
    }

    fn on_election_tick(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.role == Role::Leader {
            self.election_deadline = ctx.now() + ELECTION_TIMEOUT_MAX;
        } else if ctx.now() >= self.election_deadline {
            self.start_election(ctx);
        }
        let wait = self.election_deadline.saturating_since(ctx.now());
        ctx.set_timer(wait.max(SimDuration::from_millis(1)), Tick::Election);
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
        ctx.annotate(format!("candidate of term {}", self.term));
        let (last_index, term) = (self.last_index(), self.term);
        let last_term = self.term_at(last_index);
        ctx.broadcast(Msg::RequestVote {
            term,
            last_index,
            last_term,
        });
        self.become_leader_if_elected(ctx);
    }

    fn on_request_vote(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, ask: (u64, u64, u64)) {
        let (term, last_index, last_term) = ask;
        if term > self.term {
            self.adopt_term(ctx, term);
        }
        let ours = (self.term_at(self.last_index()), self.last_index());
        let up_to_date = (last_term, last_index) >= ours;
        let free = self.voted_for.is_none_or(|v| v == from);
        let granted = term == self.term && free && up_to_date;
        if granted {
            self.voted_for = Some(from);
            self.persist_term_vote(ctx);
            self.reset_election_deadline(ctx);
        }
        let term = self.term;
        ctx.send(from, Msg::Vote { term, granted });
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
        self.become_leader_if_elected(ctx);
    }

    fn become_leader_if_elected(&mut self, ctx: &mut Ctx<'_, Self>) {
        let votes = self.votes.iter().filter(|&&v| v).count();
        if self.role != Role::Candidate || votes < self.majority() {
            return;
        }
        self.role = Role::Leader;
        self.leader = Some(self.id);
        let n = self.node_count as usize;
        self.next_index = vec![self.last_index() + 1; n];
        self.match_index = vec![0; n];
        self.match_index[self.id.index()] = self.last_index();
        given::announce_leader(ctx, self.term);
        self.heartbeat(ctx);
    }

    /// Sends every follower what it lacks, or an empty append that says the leader is alive.
    fn heartbeat(&mut self, ctx: &mut Ctx<'_, Self>) {
        for peer in ctx.peers() {
            self.send_append(ctx, peer);
        }
        ctx.set_timer(HEARTBEAT_INTERVAL, Tick::Heartbeat(self.term));
    }

    fn send_append(&mut self, ctx: &mut Ctx<'_, Self>, peer: NodeId) {
        let next = self.next_index[peer.index()].clamp(1, self.last_index() + 1);
        let prev_index = next - 1;
        let end = (prev_index as usize + ENTRIES_PER_APPEND_MAX).min(self.log.len());
        let entries = self.log[prev_index as usize..end].to_vec();
        let (term, commit, prev_term) = (self.term, self.commit, self.term_at(prev_index));
        ctx.send(
            peer,
            Msg::Append {
                term,
                prev_index,
                prev_term,
                entries,
                commit,
            },
        );
    }

    fn on_append(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, append: Append) {
        if append.term < self.term {
            self.answer_append(ctx, from, false, self.last_index());
            return;
        }
        if append.term > self.term {
            self.adopt_term(ctx, append.term);
        }
        // A candidate of this term learns that another node won it.
        self.become_follower(ctx);
        self.leader = Some(from);
        self.reset_election_deadline(ctx);
        let prev = append.prev_index;
        if prev > self.last_index() || self.term_at(prev) != append.prev_term {
            self.answer_append(ctx, from, false, self.retry_index(prev));
            return;
        }
        let index = prev + append.entries.len() as u64;
        self.store_entries(ctx, prev, &append.entries);
        // Only what this append proved to match the leader's log can be taken as committed.
        let commit = append.commit.min(index);
        if commit > self.commit {
            self.commit = commit;
            self.apply_committed(ctx);
        }
        self.answer_append(ctx, from, true, index);
    }

    fn answer_append(&self, ctx: &mut Ctx<'_, Self>, leader: NodeId, ok: bool, index: u64) {
        let term = self.term;
        ctx.send(leader, Msg::Appended { term, ok, index });
    }

    /// Where the leader should try again after an append whose `prev_index` this node lacks,
    /// or holds with another term: after its last entry, or at the first entry of the
    /// conflicting term, so that a long stale suffix costs a round trip per term rather than
    /// per entry.
    fn retry_index(&self, prev_index: u64) -> u64 {
        if prev_index > self.last_index() {
            return self.last_index() + 1;
        }
        let term = self.term_at(prev_index);
        let mut first = prev_index;
        while first > 1 && self.term_at(first - 1) == term {
            first -= 1;
        }
        first
    }

    /// Keeps `entries` after `prev_index`: entries already held stay, the first conflicting
    /// one and all after it go (an append that comes late must not cut entries a newer one
    /// brought), the rest is appended; all of it synced before the follower answers.
    fn store_entries(&mut self, ctx: &mut Ctx<'_, Self>, prev_index: u64, entries: &[Entry]) {
        let held = entries
            .iter()
            .zip(prev_index + 1..)
            .take_while(|&(e, i)| i <= self.last_index() && self.term_at(i) == e.term)
            .count();
        if held == entries.len() {
            return;
        }
        let keep = prev_index as usize + held;
        let storage = ctx.storage();
        if keep < self.log.len() {
            self.log.truncate(keep);
            storage.log_truncate(keep);
        }
        for entry in &entries[held..] {
            storage.log_append(&given::encode_entry(entry.term, &entry.op));
            self.log.push(*entry);
        }
        storage.sync();
    }

    fn on_appended(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, reply: (u64, bool, u64)) {
        let (term, ok, index) = reply;
        if term > self.term {
            self.adopt_term(ctx, term);
            return;
        }
        if self.role != Role::Leader || term != self.term {
            return;
        }
        let peer = from.index();
        if ok {
            self.match_index[peer] = self.match_index[peer].max(index);
            self.next_index[peer] = self.next_index[peer].max(index + 1);
            self.advance_commit(ctx);
            if self.next_index[peer] <= self.last_index() {
                self.send_append(ctx, from);
            }
        } else if index < self.next_index[peer] {
            // A late refusal of an older append says nothing of where the follower is now.
            self.next_index[peer] = index.max(1);
            self.send_append(ctx, from);
        }
    }

    /// Commits up to the highest index a majority holds, if that entry is of this term.
    fn advance_commit(&mut self, ctx: &mut Ctx<'_, Self>) {
        let mut held = self.match_index.clone();
        held.sort_unstable_by(|a, b| b.cmp(a));
        let Some(&index) = held.get(self.majority() - 1) else {
            return;
        };
        if index > self.commit && self.term_at(index) == self.term {
            self.commit = index;
            self.apply_committed(ctx);
        }
    }

    /// Applies the committed entries in order; the leader answers the clients waiting on them.
    fn apply_committed(&mut self, ctx: &mut Ctx<'_, Self>) {
        while self.applied < self.commit {
            let index = self.applied + 1;
            let Some(entry) = self.log.get(index as usize - 1) else {
                return;
            };
            let reply = given::execute(&mut self.store, &entry.op);
            self.applied = index;
            if let Some(id) = self.waiting.remove(&index) {
                ctx.reply(id, reply);
            }
        }
    }

    /// The leader appends the operation, syncs it and sends it on; the client is answered
    /// when it is applied. Other nodes send the client to the leader they know.
    fn serve(&mut self, ctx: &mut Ctx<'_, Self>, request: Request) {
        if self.role != Role::Leader {
            ctx.reply(request.id, Reply::Redirect(self.leader));
            return;
        }
        let entry = Entry {
            term: self.term,
            op: request.op,
        };
        let storage = ctx.storage();
        storage.log_append(&given::encode_entry(entry.term, &entry.op));
        storage.sync();
        self.log.push(entry);
        let index = self.last_index();
        self.match_index[self.id.index()] = index;
        self.waiting.insert(index, request.id);
        self.advance_commit(ctx);
        for peer in ctx.peers() {
            // Followers still catching up get the rest when they answer.
            if self.next_index[peer.index()] == index {
                self.send_append(ctx, peer);
            }
        }
    }
}

/// An append as a follower receives it.
struct Append {
    term: u64,
    prev_index: u64,
    prev_term: u64,
    entries: Vec<Entry>,
    commit: u64,
}

impl RaftView for RaftNode {
    fn term(&self) -> u64 {
        self.term
    }

    fn is_leader(&self) -> bool {
        self.role == Role::Leader
    }

    fn log_len(&self) -> u64 {
        self.last_index()
    }

    fn entry_term(&self, index: u64) -> Option<u64> {
        let i = usize::try_from(index).ok()?.checked_sub(1)?;
        self.log.get(i).map(|e| e.term)
    }

    fn commit_index(&self) -> u64 {
        self.commit
    }
}

impl Process for RaftNode {
    type Message = Msg;
    type Timer = Tick;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if ctx.is_restart() {
            self.recover(ctx);
        }
        self.reset_election_deadline(ctx);
        let wait = self.election_deadline.saturating_since(ctx.now());
        ctx.set_timer(wait, Tick::Election);
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
                let append = Append {
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
            Tick::Election => self.on_election_tick(ctx),
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

impl Protocol for RaftNode {
    const NAME: &'static str = "raft-exercise";
    const SUMMARY: &'static str =
        "Raft written in parts: leader election, log replication, safety across crashes";
    type Params = Params;
    const PARAM_DOCS: &'static [ParamDoc] = &[];
    const BUG_DOCS: &'static [BugDoc] = &[];

    fn workloads() -> &'static [Model] {
        &[Model::Register, Model::CasRegister]
    }

    fn properties() -> Vec<Property<Self>> {
        // Election safety, the log's safety, a leader elected and staying: see `given.rs`.
        // The clients' history is checked by `linearizable`, which the workload adds.
        given::properties()
    }

    fn new(id: NodeId, node_count: u32, _params: &Params, _bug: Option<&'static str>) -> Self {
        RaftNode {
            id,
            node_count: node_count.max(1),
            term: 0,
            voted_for: None,
            log: Vec::new(),
            role: Role::Follower,
            leader: None,
            commit: 0,
            applied: 0,
            store: Store::new(),
            election_deadline: SimTime::ZERO,
            votes: Vec::new(),
            next_index: Vec::new(),
            match_index: Vec::new(),
            waiting: BTreeMap::new(),
        }
    }
}
