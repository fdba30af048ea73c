//! `paxos`: single-decree Paxos, every node a proposer, an acceptor and a learner.
//!
//! A proposer waits a random delay, then runs phase 1 with a fresh ballot `(round, node)`:
//! it asks every acceptor to promise to ignore lower ballots (`Prepare`), and each promise
//! carries the highest-ballot proposal that acceptor accepted. Once a majority promised, the
//! proposer runs phase 2 (`Accept`) with the value of the highest accepted proposal among the
//! promises, or with its own value if none was reported. An acceptor that accepts answers the
//! proposer (`Accepted`); a majority of them for one ballot means the value is chosen, and the
//! proposer learns it and tells everyone (`Decided`). A proposer that gets no majority before
//! its timeout retries with a higher round; the timeout is drawn at random so that duelling
//! proposers drift apart. A node that has learned the value answers any later `Prepare` or
//! `Accept` with `Decided`, so nodes that missed the announcement catch up by proposing.
//!
//! Acceptor state (promised ballot, accepted proposal, the proposals it ever accepted, the
//! learned value) is written and synced to storage before any reply leaves, and recovered on
//! restart. A node's own acceptor handles its proposer's Prepare in the same event that sends
//! it, so its promised round is always at least the round of any ballot it proposed: a
//! restarted proposer continues above it and never reuses a ballot.

mod bugs;
mod check;
mod clients;
mod durable;
#[cfg(test)]
mod tests;

use super::{BugDoc, ParamDoc, Protocol};
use crate::check::Property;
use crate::process::{Ctx, NodeId, Process, TimerId};
use crate::protocol::{check_at_most, check_range};
use crate::time::SimDuration;
use crate::workload::{Model, Request, RequestId};
use rand::RngExt;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;

use bugs::{BUG_DOCS, Bug};
use durable::encode;
pub use durable::{Durable, decode};

/// Shortest retry timeout: zero would retry forever without time passing.
pub const TIMEOUT_MIN: SimDuration = SimDuration::from_millis(1);
/// Longest delay any parameter may ask for (keeps sums of times far from overflow).
pub const DELAY_MAX: SimDuration = SimDuration::from_secs(3600);
/// Most proposals an acceptor remembers in its history (the lowest ballots are dropped
/// first). An acceptor accepts at most once per ballot and stops once it has learned, so a
/// run of single-decree Paxos stays far below this.
pub const HISTORY_MAX: usize = 64;
/// Most messages a node hands to itself while handling one event (a round trip with its own
/// acceptor takes four).
const LOCAL_MAX: usize = 64;
/// The storage key of an acceptor's durable state.
const STATE_KEY: &str = "paxos/acceptor";

/// `params:` of the paxos protocol.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Earliest time after its start at which a node first proposes.
    pub start_after: SimDuration,
    /// A random extra delay, up to this, before the first proposal (and after a restart).
    pub start_jitter: SimDuration,
    /// A proposal not decided within a random time between this and twice this is retried
    /// with a higher ballot.
    pub retry_timeout: SimDuration,
    /// Nodes propose only values clients write (a `register` workload), not their own.
    pub client_values: bool,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            start_after: SimDuration::from_millis(0),
            start_jitter: SimDuration::from_millis(100),
            retry_timeout: SimDuration::from_millis(200),
            client_values: false,
        }
    }
}

const PARAM_DOCS: &[ParamDoc] = &[
    ParamDoc {
        name: "start_after",
        default: "0",
        meaning: "earliest time after its start at which a node first proposes (at most 1h)",
    },
    ParamDoc {
        name: "start_jitter",
        default: "100ms",
        meaning: "a random extra delay, up to this, before a node's first proposal and \
                  before it proposes again after a restart (at most 1h)",
    },
    ParamDoc {
        name: "retry_timeout",
        default: "200ms",
        meaning: "a proposal not decided within a random time between this and twice this is \
                  retried with a higher ballot (1ms to 1h)",
    },
    ParamDoc {
        name: "client_values",
        default: "false",
        meaning: "serve a register workload: a node proposes the value of the first client \
                  write it receives instead of its own; a node with no such value only \
                  completes a value it finds accepted; reads return the learned value",
    },
];

/// A proposal number: a round, then the proposing node, so no two nodes share one.
/// Round 0 is "no ballot yet".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ballot {
    pub round: u32,
    pub node: NodeId,
}

impl fmt::Display for Ballot {
    /// `(3, n1)`, with the default node names.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}, {})", self.round, self.node)
    }
}

impl Ballot {
    /// Reads a ballot as the Paxos protocols store it: round, then node, little-endian.
    pub(crate) fn read(r: &mut crate::storage::ByteReader<'_>) -> Option<Ballot> {
        let round = r.u32()?;
        let node = NodeId(r.u32()?);
        Some(Ballot { round, node })
    }
}

/// A value proposed: each node proposes its own, `100 × its number` (n1 proposes 100).
pub type Val = u64;

/// The value node `id` proposes when no accepted value constrains it.
pub fn own_value(id: NodeId) -> Val {
    100 * (u64::from(id.0) + 1)
}

/// What paxos nodes send each other.
#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// Phase 1a: promise to ignore ballots below this one.
    Prepare { ballot: Ballot },
    /// Phase 1b: promised, with the highest-ballot proposal this acceptor accepted.
    Promise {
        ballot: Ballot,
        accepted: Option<(Ballot, Val)>,
    },
    /// Phase 2a: accept this value at this ballot.
    Accept { ballot: Ballot, value: Val },
    /// Phase 2b: accepted (and synced).
    Accepted { ballot: Ballot },
    /// Refused: this acceptor promised a higher ballot.
    Nack { ballot: Ballot, promised: Ballot },
    /// The value is chosen.
    Decided { value: Val },
}

/// What paxos timers carry.
#[derive(Clone, Debug, Hash)]
pub enum Tick {
    /// Time to start a new proposal (if nothing is learned yet).
    Propose,
}

/// Where a node's proposer is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Phase {
    Idle,
    Preparing {
        ballot: Ballot,
        promises: BTreeMap<NodeId, Option<(Ballot, Val)>>,
    },
    Accepting {
        ballot: Ballot,
        value: Val,
        accepted: BTreeSet<NodeId>,
    },
}

/// One paxos node.
#[derive(Clone, Debug, Hash)]
pub struct Paxos {
    id: NodeId,
    node_count: u32,
    bug: Option<Bug>,
    start_after: SimDuration,
    start_jitter: SimDuration,
    retry_timeout: SimDuration,
    durable: Durable,
    phase: Phase,
    /// What this node proposes when no accepted value constrains it: its own value, or under
    /// `client_values` the first value a client asked it to write (none before that).
    own: Option<Val>,
    client_values: bool,
    /// Client writes waiting for the decision (at most [`clients::PENDING_MAX`]).
    pending: BTreeMap<RequestId, Val>,
    /// The timer of the next proposal: one at a time.
    retry: Option<TimerId>,
    /// The highest round a refusal told this proposer about (volatile: after a restart the
    /// next refusal tells it again).
    round_seen: u32,
    /// Messages to this node itself, handled before the current event ends.
    local: VecDeque<Msg>,
}

impl Paxos {
    /// The acceptor's durable state as this node holds it in memory.
    pub fn durable(&self) -> &Durable {
        &self.durable
    }

    /// The value this node learned, if any.
    pub fn learned(&self) -> Option<Val> {
        self.durable.learned
    }

    /// How many promises, and then acceptances, a proposer waits for.
    fn quorum(&self) -> usize {
        match self.bug {
            // The bug: two such quorums need not share an acceptor.
            Some(Bug::OneShortQuorum) => (self.node_count as usize / 2).max(1),
            _ => self.node_count as usize / 2 + 1,
        }
    }

    fn persist(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.storage().put(STATE_KEY, encode(&self.durable));
        // The bug: the answer leaves while the state is only in the storage's cache.
        if self.bug != Some(Bug::UnsyncedAcceptor) {
            ctx.storage().sync();
        }
    }

    fn send(&mut self, ctx: &mut Ctx<'_, Self>, to: NodeId, msg: Msg) {
        if to == self.id {
            self.local.push_back(msg);
        } else {
            ctx.send(to, msg);
        }
    }

    /// To every node, this one included (its own acceptor answers at once).
    fn send_all(&mut self, ctx: &mut Ctx<'_, Self>, msg: Msg) {
        ctx.broadcast(msg.clone());
        self.local.push_back(msg);
    }

    fn handle(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Prepare { ballot } => self.on_prepare(ctx, from, ballot),
            Msg::Promise { ballot, accepted } => self.on_promise(ctx, from, ballot, accepted),
            Msg::Accept { ballot, value } => self.on_accept(ctx, from, ballot, value),
            Msg::Accepted { ballot } => self.on_accepted(ctx, from, ballot),
            Msg::Nack { ballot, promised } => self.on_nack(ballot, promised),
            Msg::Decided { value } => self.learn(ctx, value, false),
        }
    }

    /// Starts phase 1 with a ballot above every round this node has seen.
    fn propose(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.durable.learned.is_some() {
            return;
        }
        let ballot = Ballot {
            round: self
                .round_seen
                .max(self.durable.promised.round)
                .saturating_add(1),
            node: self.id,
        };
        self.phase = Phase::Preparing {
            ballot,
            promises: BTreeMap::new(),
        };
        ctx.annotate(format_args!("prepare ballot {ballot}"));
        self.send_all(ctx, Msg::Prepare { ballot });
        let t = self.retry_timeout.0;
        let wait = ctx.rng().random_range(t..=t.saturating_mul(2));
        self.arm(ctx, SimDuration(wait));
    }

    /// Sets the timer of the next proposal, replacing the one pending.
    fn arm(&mut self, ctx: &mut Ctx<'_, Self>, delay: SimDuration) {
        if let Some(old) = self.retry.take() {
            ctx.cancel_timer(old);
        }
        self.retry = Some(ctx.set_timer(delay, Tick::Propose));
    }

    fn on_prepare(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, ballot: Ballot) {
        if let Some(value) = self.durable.learned {
            self.send(ctx, from, Msg::Decided { value });
        } else if ballot >= self.durable.promised {
            self.durable.promised = ballot;
            self.persist(ctx);
            let accepted = self.durable.accepted;
            self.send(ctx, from, Msg::Promise { ballot, accepted });
        } else {
            let promised = self.durable.promised;
            self.send(ctx, from, Msg::Nack { ballot, promised });
        }
    }

    fn on_promise(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        ballot: Ballot,
        accepted: Option<(Ballot, Val)>,
    ) {
        let quorum = self.quorum();
        let Phase::Preparing {
            ballot: ours,
            promises,
        } = &mut self.phase
        else {
            return;
        };
        if *ours != ballot {
            return;
        }
        promises.insert(from, accepted);
        if promises.len() < quorum {
            return;
        }
        let highest = promises.values().flatten().max().copied();
        let adopted = highest.map(|(_, value)| value);
        let value = if self.bug == Some(Bug::IgnoreAccepted) {
            // The bug: what a majority may already have chosen is ignored.
            self.own.or(adopted)
        } else {
            adopted.or(self.own)
        };
        let Some(value) = value else {
            ctx.annotate("phase 1 done, nothing to propose: no client value, none accepted");
            self.phase = Phase::Idle;
            return;
        };
        match highest {
            Some((from, adopted)) => ctx.annotate(format_args!(
                "phase 2: propose {value} at ballot {ballot} (promises report {adopted} \
                 accepted at ballot {from})"
            )),
            None => ctx.annotate(format_args!(
                "phase 2: propose {value} at ballot {ballot} (no promise reports an accepted value)"
            )),
        }
        self.phase = Phase::Accepting {
            ballot,
            value,
            accepted: BTreeSet::new(),
        };
        self.send_all(ctx, Msg::Accept { ballot, value });
    }

    fn on_accept(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, ballot: Ballot, value: Val) {
        if let Some(value) = self.durable.learned {
            self.send(ctx, from, Msg::Decided { value });
            return;
        }
        // The bug: a lower ballot than promised is accepted too.
        let allowed = ballot >= self.durable.promised || self.bug == Some(Bug::BreakPromise);
        if !allowed {
            let promised = self.durable.promised;
            self.send(ctx, from, Msg::Nack { ballot, promised });
            return;
        }
        let durable = &mut self.durable;
        durable.promised = durable.promised.max(ballot);
        durable.accepted = Some((ballot, value));
        durable.history.insert(ballot, value);
        while durable.history.len() > HISTORY_MAX {
            durable.history.pop_first();
        }
        self.persist(ctx);
        self.send(ctx, from, Msg::Accepted { ballot });
    }

    fn on_accepted(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, ballot: Ballot) {
        let quorum = self.quorum();
        let Phase::Accepting {
            ballot: ours,
            value,
            accepted,
        } = &mut self.phase
        else {
            return;
        };
        if *ours != ballot {
            return;
        }
        accepted.insert(from);
        if accepted.len() >= quorum {
            let value = *value;
            self.learn(ctx, value, true);
        }
    }

    /// A refusal ends this attempt; the retry timer starts the next one above `promised`.
    fn on_nack(&mut self, ballot: Ballot, promised: Ballot) {
        let current = match &self.phase {
            Phase::Preparing { ballot, .. } | Phase::Accepting { ballot, .. } => *ballot,
            Phase::Idle => return,
        };
        if current == ballot {
            self.phase = Phase::Idle;
        }
        // Our next round must beat the ballot that refused us.
        self.round_seen = self.round_seen.max(promised.round);
    }

    /// Learns `value`; the proposer that saw a majority accept it tells everyone.
    fn learn(&mut self, ctx: &mut Ctx<'_, Self>, value: Val, announce: bool) {
        self.phase = Phase::Idle;
        if self.durable.learned.is_some() {
            return;
        }
        self.durable.learned = Some(value);
        self.persist(ctx);
        ctx.annotate(format_args!("learned {value}"));
        self.answer_writes(ctx, value);
        if announce {
            ctx.broadcast(Msg::Decided { value });
        }
    }
}

impl Process for Paxos {
    type Message = Msg;
    type Timer = Tick;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        let mut first = self.start_after.0;
        if ctx.is_restart() {
            if let Some(state) = ctx.storage().get(STATE_KEY).and_then(decode) {
                self.durable = state;
            }
            first = 0;
        }
        if self.durable.learned.is_none() {
            let jitter = ctx.rng().random_range(0..=self.start_jitter.0);
            self.arm(ctx, SimDuration(first + jitter));
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        self.handle(ctx, from, msg);
        self.drain(ctx);
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: TimerId, tag: Tick) {
        match tag {
            Tick::Propose => {
                if self.retry == Some(timer) {
                    self.retry = None;
                }
                self.propose(ctx);
                self.drain(ctx);
            }
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: Request) {
        self.serve(ctx, request);
        self.drain(ctx);
    }
}

impl Paxos {
    /// Handles the messages this node sent itself, a bounded number of them.
    fn drain(&mut self, ctx: &mut Ctx<'_, Self>) {
        for _ in 0..LOCAL_MAX {
            let Some(msg) = self.local.pop_front() else {
                return;
            };
            let me = self.id;
            self.handle(ctx, me, msg);
        }
        // Unreachable: one exchange with the own acceptor takes four messages. Dropped rather
        // than looping if it ever were reached.
        self.local.clear();
    }
}

impl Protocol for Paxos {
    const NAME: &'static str = "paxos";
    const SUMMARY: &'static str =
        "single-decree Paxos: every node proposes its own value, one value is chosen";
    type Params = Params;

    const PARAM_DOCS: &'static [ParamDoc] = PARAM_DOCS;
    const BUG_DOCS: &'static [BugDoc] = BUG_DOCS;

    fn properties() -> Vec<Property<Self>> {
        vec![
            Property::always(
                "agreement",
                "at most one value is chosen (accepted by a majority of acceptors \
                              at one ballot), and every value a node learned is that value",
                check::agreement,
            ),
            Property::at_end(
                "all_learned",
                "every node that is up at the end has learned the chosen value",
                check::all_learned,
            ),
        ]
    }

    fn workloads() -> &'static [Model] {
        &[Model::Register]
    }

    fn check_params(params: &Params, _node_count: u32) -> Result<(), String> {
        check_at_most("start_after", params.start_after, DELAY_MAX)?;
        check_at_most("start_jitter", params.start_jitter, DELAY_MAX)?;
        check_range(
            "retry_timeout",
            params.retry_timeout,
            TIMEOUT_MIN,
            DELAY_MAX,
        )
    }

    fn new(id: NodeId, node_count: u32, params: &Params, bug: Option<&'static str>) -> Self {
        if let Err(e) = Self::check_params(params, node_count) {
            panic!("{}: {e}", Self::NAME);
        }
        let bug = bug.map(|name| {
            Bug::from_name(name).unwrap_or_else(|| panic!("paxos has no bug variant `{name}`"))
        });
        Paxos {
            id,
            node_count: node_count.max(1),
            bug,
            start_after: params.start_after,
            start_jitter: params.start_jitter,
            retry_timeout: params.retry_timeout,
            durable: Durable::default(),
            phase: Phase::Idle,
            own: (!params.client_values).then(|| own_value(id)),
            client_values: params.client_values,
            pending: BTreeMap::new(),
            retry: None,
            round_seen: 0,
            local: VecDeque::new(),
        }
    }
    /// The proposer's phase; promised and accepted ballots, and the value learned.
    fn summary(&self) -> crate::Summary {
        use crate::summary::Standing;
        let (role, standing, ballot) = match &self.phase {
            Phase::Idle => ("acceptor", Standing::Follower, None),
            Phase::Preparing { ballot, .. } => ("preparing", Standing::Candidate, Some(ballot)),
            Phase::Accepting { ballot, .. } => ("accepting", Standing::Leader, Some(ballot)),
        };
        let d = &self.durable;
        let mut s = crate::Summary::new().role(role, standing);
        if let Some(b) = ballot {
            s = s.field("ballot", b);
        }
        s = s.field("promised", d.promised);
        if let Some((b, v)) = &d.accepted {
            s = s.field("accepted", format_args!("{v} at {}", b.round));
        }
        match d.learned {
            Some(v) => s.field("learned", v),
            None => s,
        }
    }
}
