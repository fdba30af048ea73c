//! Given: what the grader reads of your nodes, the properties it checks with it, the
//! registers the log's operations run on, and how to write a log to storage. Leave this file
//! as it is.
//!
//! - [`RaftView`] is the window the checks look through: your node implements it, and the
//!   properties of [`properties`] judge every run by what it shows.
//! - [`announce_leader`] writes the note by which the scenarios find the leader to crash or
//!   cut off: call it whenever a node becomes leader.
//! - [`execute`] runs a client's operation on the registers and says what to answer.
//! - [`put_u64`] and [`get_u64`] write a number to storage and read it back; [`encode_entry`]
//!   and [`read_log`] do the same for log entries, kept in the storage's record log.
//!
//! The clients' history is checked by `linearizable`, which the `register` workload adds; the
//! grader's `ok_min` catches requests that were refused or never answered.

// `node.rs` as handed out uses only some of these.
#![allow(dead_code)]

use faultline::check::{Monitor, Property, Violation};
use faultline::engine::Touched;
use faultline::history::Value;
use faultline::storage::ByteReader;
use faultline::workload::{ClientOp, Reply};
use faultline::{Ctx, NodeId, Process, Sim, SimDuration, SimTime, Storage};
use std::collections::BTreeMap;

/// What the checks read of a node. Log indexes count from 1, as in the Raft paper: the log's
/// first entry is at index 1, and index 0 is the empty prefix before it.
pub trait RaftView {
    /// The node's current term.
    fn term(&self) -> u64;
    /// Whether the node is leader of its current term.
    fn is_leader(&self) -> bool;
    /// How many entries the node's log holds: the index of its last entry, 0 when empty.
    fn log_len(&self) -> u64;
    /// The term of the entry at `index` (from 1), or `None` past the end of the log.
    fn entry_term(&self, index: u64) -> Option<u64>;
    /// The highest index the node knows to be committed (0: none); never past its log.
    fn commit_index(&self) -> u64;
}

/// The note [`announce_leader`] writes; the scenarios' faults aimed at a leader wait for it.
pub const LEADER_NOTE: &str = "leader of term";

/// Writes the note that says this node became leader of `term`. The scenarios find the
/// leader by it (`on: { note: "leader of term" }`), to crash it or cut it off: a leader that
/// does not write it is never put to the test.
pub fn announce_leader<P: Process>(ctx: &mut Ctx<'_, P>, term: u64) {
    ctx.annotate(format!("{LEADER_NOTE} {term}"));
}

/// How long the term must have stayed the same when a run ends, for `leader_stays`.
pub const STEADY_FOR: SimDuration = SimDuration::from_secs(1);

/// The properties every run of the exercise checks; `node.rs` returns them as they are.
pub fn properties<P: Process + RaftView + 'static>() -> Vec<Property<P>> {
    vec![
        Property::monitor(
            "election_safety",
            "no two nodes are ever leaders of the same term, even one that has since stepped \
             down or crashed",
            || Box::new(LeadersByTerm::default()),
        ),
        Property::monitor(
            "state_machine_safety",
            "no two nodes ever commit entries of different terms at the same index, and no \
             node commits at an index another entry than it did before a crash",
            || Box::new(CommittedOnce::default()),
        ),
        Property::monitor(
            "leader_completeness",
            "a leader's log holds every entry committed while the committing node was in the \
             leader's term or an earlier one",
            || Box::new(LeaderCompleteness::default()),
        ),
        Property::monitor(
            "commit_own_term",
            "a leader moves its commit index only to an entry of its own term; older entries \
             are committed with the first entry of its term after them (Figure 8)",
            || Box::new(CommitOwnTerm::default()),
        ),
        Property::eventually(
            "leader_elected",
            "some node that is up leads its term, and a majority of all the nodes are up and \
             in that term",
            leader_elected::<P>,
        ),
        Property::monitor(
            "leader_stays",
            "when the run ends, a leader is elected and no node has moved to a newer term for \
             the last second: once the faults are over, the leader stays",
            || Box::new(Steady::default()),
        ),
    ]
}

/// The nodes that are up (or paused), with their ids.
fn up<P: Process>(sim: &Sim<P>) -> impl Iterator<Item = (NodeId, &P)> {
    let states = sim.states().iter().enumerate();
    states.filter_map(|(i, s)| Some((NodeId(i as u32), s.as_ref()?)))
}

fn majority<P: Process>(sim: &Sim<P>) -> usize {
    sim.node_count() as usize / 2 + 1
}

fn leader_elected<P: Process + RaftView>(sim: &Sim<P>) -> Result<(), Violation> {
    let mut leaders = Vec::new();
    for (id, leader) in up(sim).filter(|(_, n)| n.is_leader()) {
        let term = leader.term();
        let in_term = up(sim).filter(|(_, n)| n.term() == term).count();
        if in_term >= majority(sim) {
            return Ok(());
        }
        leaders.push(format!(
            "{} leads term {term}, which {in_term} nodes are in",
            sim.node_name(id)
        ));
    }
    let why = match leaders.is_empty() {
        true => "no node that is up is leader".to_string(),
        false => leaders.join("; "),
    };
    Err(Violation::new(
        format!(
            "no leader with a majority of the nodes ({} of {}) in its term: {why}",
            majority(sim),
            sim.node_count()
        ),
        Vec::new(),
    ))
}

/// Election safety: each term's leader as first seen, for the whole run, so that neither a
/// crash nor a step down erases it.
#[derive(Default)]
struct LeadersByTerm {
    leader_of: BTreeMap<u64, NodeId>,
}

impl<P: Process + RaftView> Monitor<P> for LeadersByTerm {
    fn observe(&mut self, sim: &Sim<P>, touched: Touched) -> Result<(), Violation> {
        for id in touched.nodes(sim.node_count()) {
            let Some(node) = sim.states()[id.index()].as_ref() else {
                continue;
            };
            if !node.is_leader() {
                continue;
            }
            let term = node.term();
            let first = *self.leader_of.entry(term).or_insert(id);
            if first != id {
                let (a, b) = (sim.node_name(first), sim.node_name(id));
                return Err(Violation::new(
                    format!("{a} and {b} were both elected leader of term {term}"),
                    vec![first, id],
                ));
            }
        }
        Ok(())
    }
}

/// An entry some node committed: its term, the term that node was in when it was first seen
/// committing it, and which node that was.
#[derive(Clone, Copy)]
struct Committed {
    term: u64,
    seen_in_term: u64,
    by: NodeId,
}

/// Every entry committed so far, by index, as first seen, for the whole run.
#[derive(Default)]
struct CommittedLog {
    entries: Vec<Committed>,
    /// Per node, up to which index its committed entries were compared (back to 0 while it
    /// is down: a restarted node commits its log again).
    compared: Vec<u64>,
}

impl CommittedLog {
    /// Compares what node `id` has committed since it was last looked at with what was
    /// committed first at each index, and records what no node committed before.
    fn learn<P: Process + RaftView>(&mut self, sim: &Sim<P>, id: NodeId) -> Result<(), Violation> {
        self.compared.resize(sim.node_count() as usize, 0);
        let compared = &mut self.compared[id.index()];
        let Some(node) = sim.states()[id.index()].as_ref() else {
            *compared = 0;
            return Ok(());
        };
        let commit = node.commit_index();
        let from = std::mem::replace(compared, commit) + 1;
        for index in from..=commit {
            let Some(term) = node.entry_term(index) else {
                return Err(Violation::new(
                    format!(
                        "{} says index {commit} is committed, but its log ends at index {}",
                        sim.node_name(id),
                        node.log_len()
                    ),
                    vec![id],
                ));
            };
            let Some(first) = self.entries.get(index as usize - 1) else {
                let seen_in_term = node.term();
                let by = id;
                self.entries.push(Committed {
                    term,
                    seen_in_term,
                    by,
                });
                continue;
            };
            if first.term != term {
                return Err(commits_differ(sim, *first, id, index, term));
            }
        }
        Ok(())
    }
}

#[cold]
fn commits_differ<P: Process>(
    sim: &Sim<P>,
    first: Committed,
    id: NodeId,
    index: u64,
    term: u64,
) -> Violation {
    let (a, b) = (sim.node_name(first.by), sim.node_name(id));
    let who = match first.by == id {
        true => format!(
            "{a} committed an entry of term {term} there, after one of term {}",
            first.term
        ),
        false => format!(
            "{a} committed an entry of term {} there, {b} one of term {term}",
            first.term
        ),
    };
    Violation::new(
        format!("two entries committed at index {index}: {who}"),
        vec![first.by, id],
    )
}

/// State machine safety: no index is ever committed with two different entries.
#[derive(Default)]
struct CommittedOnce(CommittedLog);

impl<P: Process + RaftView> Monitor<P> for CommittedOnce {
    fn observe(&mut self, sim: &Sim<P>, touched: Touched) -> Result<(), Violation> {
        touched
            .nodes(sim.node_count())
            .try_for_each(|id| self.0.learn(sim, id))
    }
}

/// Leader completeness: every leader holds the committed entries it must hold.
#[derive(Default)]
struct LeaderCompleteness {
    committed: CommittedLog,
    /// Per node, the term it was last seen leading and up to which index its log was found
    /// to hold what was committed (a leader's log only grows while it leads).
    checked: Vec<(u64, u64)>,
}

impl<P: Process + RaftView> Monitor<P> for LeaderCompleteness {
    fn observe(&mut self, sim: &Sim<P>, touched: Touched) -> Result<(), Violation> {
        self.checked.resize(sim.node_count() as usize, (0, 0));
        for id in touched.nodes(sim.node_count()) {
            // Two entries committed at one index are for `state_machine_safety` to report.
            let _ = self.committed.learn(sim, id);
            // A node that restarts may lead the same term again, with a log it must still hold.
            if sim.states()[id.index()].is_none() {
                self.checked[id.index()] = (0, 0);
            }
        }
        let leaders = up(sim).filter(|(_, n)| n.is_leader());
        for (id, leader) in leaders {
            self.check_leader(sim, id, leader)?;
        }
        Ok(())
    }
}

impl LeaderCompleteness {
    /// Compares `leader`'s log with the entries committed since it was last checked. An
    /// entry first seen committed by a node in a newer term than the leader's may be missing
    /// (a leader cut off from the others goes on in its old term): the check stops there and
    /// starts again from there next time.
    fn check_leader<P: Process + RaftView>(
        &mut self,
        sim: &Sim<P>,
        id: NodeId,
        leader: &P,
    ) -> Result<(), Violation> {
        let term = leader.term();
        let (seen_term, mut held) = self.checked[id.index()];
        if seen_term != term {
            held = 0;
        }
        for entry in &self.committed.entries[held as usize..] {
            if entry.seen_in_term > term {
                break;
            }
            let index = held + 1;
            if leader.entry_term(index) != Some(entry.term) {
                return Err(leader_lacks(sim, id, leader, index, *entry));
            }
            held = index;
        }
        self.checked[id.index()] = (term, held);
        Ok(())
    }
}

#[cold]
fn leader_lacks<P: Process + RaftView>(
    sim: &Sim<P>,
    id: NodeId,
    leader: &P,
    index: u64,
    entry: Committed,
) -> Violation {
    let has = match leader.entry_term(index) {
        Some(term) => format!("holds an entry of term {term} there"),
        None => format!("its log ends at index {}", leader.log_len()),
    };
    Violation::new(
        format!(
            "{} is leader of term {} but lacks the entry of term {} that {} committed at \
             index {index} in term {}: {has}",
            sim.node_name(id),
            leader.term(),
            entry.term,
            sim.node_name(entry.by),
            entry.seen_in_term,
        ),
        vec![id, entry.by],
    )
}

/// The leader stays: the newest term any node has been in, and when a node first moved to it.
#[derive(Default)]
struct Steady {
    newest: u64,
    since: SimTime,
    by: Option<NodeId>,
}

impl<P: Process + RaftView> Monitor<P> for Steady {
    fn observe(&mut self, sim: &Sim<P>, touched: Touched) -> Result<(), Violation> {
        for id in touched.nodes(sim.node_count()) {
            let term = sim.states()[id.index()].as_ref().map_or(0, RaftView::term);
            if term > self.newest {
                (self.newest, self.since, self.by) = (term, sim.now(), Some(id));
            }
        }
        Ok(())
    }

    fn at_end(&mut self, sim: &Sim<P>) -> Result<(), Violation> {
        leader_elected(sim)?;
        let steady = sim.now().saturating_since(self.since);
        let Some(by) = self.by.filter(|_| steady < STEADY_FOR) else {
            return Ok(());
        };
        Err(Violation::new(
            format!(
                "{} moved to term {} at {}, {steady} before the end: the term still changes \
                 when nothing fails (a heartbeat slower than the election timeout, or a \
                 follower that does not reset its timer when it hears from the leader?)",
                sim.node_name(by),
                self.newest,
                self.since,
            ),
            vec![by],
        ))
    }
}

/// The commit rule of Figure 8: per node, what it was when last seen (term, leading, commit
/// index), to tell a leader's own advance of its commit index from anything else.
#[derive(Default)]
struct CommitOwnTerm {
    seen: Vec<Option<(u64, bool, u64)>>,
}

impl<P: Process + RaftView> Monitor<P> for CommitOwnTerm {
    fn observe(&mut self, sim: &Sim<P>, touched: Touched) -> Result<(), Violation> {
        self.seen.resize(sim.node_count() as usize, None);
        for id in touched.nodes(sim.node_count()) {
            let now = sim.states()[id.index()]
                .as_ref()
                .map(|n| (n.term(), n.is_leader(), n.commit_index()));
            let before = std::mem::replace(&mut self.seen[id.index()], now);
            let (Some((term, true, commit)), Some((was_term, true, was_commit))) = (now, before)
            else {
                continue;
            };
            let node = sim.states()[id.index()].as_ref().expect("seen up just now");
            let entry_term = node.entry_term(commit);
            if term == was_term && commit > was_commit && entry_term != Some(term) {
                return Err(Violation::new(
                    format!(
                        "{} (leader of term {term}) moved its commit index from {was_commit} \
                         to {commit}, an entry of term {}: a majority holding an entry of an \
                         older term does not make it committed, as a later leader may still \
                         overwrite it (Figure 8); count copies only of entries of your own term",
                        sim.node_name(id),
                        entry_term.map_or("none".to_string(), |t| t.to_string()),
                    ),
                    vec![id],
                ));
            }
        }
        Ok(())
    }
}

/// The registers: each key's value. A key never written is absent, and reads as nil.
pub type Store = BTreeMap<u32, i64>;

/// Runs `op` on `store` and returns the answer its client should get: a read's value, `ok`
/// for a write and for a cas that matched, `fail` for a cas that did not (which changes
/// nothing). Only `read`, `write` and `cas` are served.
pub fn execute(store: &mut Store, op: &ClientOp) -> Reply {
    match *op {
        ClientOp::Read { key } => Reply::Ok(store.get(&key).map_or(Value::Nil, |&v| Value::Int(v))),
        ClientOp::Write { key, value } => {
            store.insert(key, value);
            Reply::Ok(Value::Nil)
        }
        ClientOp::Cas { key, from, to } if store.get(&key) == Some(&from) => {
            store.insert(key, to);
            Reply::Ok(Value::Nil)
        }
        ClientOp::Cas { .. } => Reply::Fail("cas: the key holds another value"),
        _ => Reply::Fail("this register serves only read, write and cas"),
    }
}

/// Writes `value` under `key` in `storage` (durable after `storage.sync()`).
pub fn put_u64(storage: &mut Storage, key: &str, value: u64) {
    storage.put(key, value.to_le_bytes());
}

/// What [`put_u64`] wrote under `key`, if anything.
pub fn get_u64(storage: &Storage, key: &str) -> Option<u64> {
    ByteReader::new(storage.get(key)?).u64()
}

/// One log entry as a record of the storage's log: its term, then the operation. Append it
/// with `storage.log_append(&encode_entry(term, &op))`; `storage.log_truncate(len)` keeps
/// the first `len` records. Like every write, both survive a crash only once
/// `storage.sync()` has run.
pub fn encode_entry(term: u64, op: &ClientOp) -> Vec<u8> {
    let words = std::iter::once(term).chain(op.to_words());
    words.flat_map(u64::to_le_bytes).collect()
}

/// The entries of the storage's log, as (term, operation), from the first record up to the
/// first that [`encode_entry`] did not write.
pub fn read_log(storage: &Storage) -> Vec<(u64, ClientOp)> {
    let mut log = Vec::with_capacity(storage.log_len());
    while let Some(entry) = storage.log_get(log.len()).and_then(decode_entry) {
        log.push(entry);
    }
    log
}

fn decode_entry(record: &[u8]) -> Option<(u64, ClientOp)> {
    let mut reader = ByteReader::new(record);
    let term = reader.u64()?;
    let words = [reader.u64()?, reader.u64()?, reader.u64()?, reader.u64()?];
    Some((term, ClientOp::from_words(words)?))
}
