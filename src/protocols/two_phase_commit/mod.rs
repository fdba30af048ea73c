//! `two-phase-commit`: atomic commit of a sequence of transactions, with a durable coordinator
//! log and presumed abort.
//!
//! n1 is the coordinator; every other node is a participant. Every `interval` the coordinator
//! starts the next transaction: it logs that it started it (synced, so a restart knows which
//! transactions may be undecided), then asks every participant to prepare. A participant votes
//! no with probability `no_probability`, and then aborts at once (a no vote lets it decide on
//! its own); otherwise it syncs "prepared" before its yes vote leaves, because a yes is a
//! promise to commit if told to, even after a crash. The coordinator decides commit when every
//! participant voted yes, and abort on a no or when `vote_timeout` passes. The decision is
//! synced to its log before it is sent: once one participant may have acted on it, it must
//! survive a crash. It then resends the decision until every participant acknowledges it.
//!
//! A prepared participant that has not heard the decision asks the coordinator every
//! `retry_interval`, and never decides on its own: after voting yes it cannot know whether the
//! others all did too. That is why two-phase commit blocks while the coordinator is down.
//! On restart the coordinator reads its log: decided transactions have their decision resent,
//! and started but undecided ones are decided abort (presumed abort), logged, and sent.

use super::{BugDoc, ParamDoc, Protocol};
use crate::check::Property;
use crate::process::{Ctx, NodeId, Process, TimerId};
use crate::protocol::{check_at_least, check_at_most, check_range};
use crate::time::SimDuration;
use serde::{Deserialize, Serialize};

mod checks;
mod coordinator;
mod participant;
#[cfg(test)]
mod tests;

use coordinator::Coordinator;
use participant::Participant;

/// The coordinator is always the first node.
pub const COORDINATOR: NodeId = NodeId(0);
/// Most transactions one run may hold: bounds every per-transaction table.
pub const TRANSACTIONS_MAX: u64 = 1_000;
/// Shortest timer delay: zero would fire timers forever without simulated time passing.
pub const INTERVAL_MIN: SimDuration = SimDuration::from_millis(1);
/// `no_probability` is kept in parts per million so that node state stays `Hash`.
const PPM: u32 = 1_000_000;

/// `params:` of the two-phase-commit protocol.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Transactions the coordinator runs, one every `interval`.
    pub transactions: u64,
    /// Time between the starts of two transactions.
    pub interval: SimDuration,
    /// Chance that a participant votes no on a transaction.
    pub no_probability: f64,
    /// How long the coordinator waits for all votes before it decides abort.
    pub vote_timeout: SimDuration,
    /// Time between two resends: of prepares and decisions by the coordinator, of inquiries
    /// by a prepared participant.
    pub retry_interval: SimDuration,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            transactions: 20,
            interval: SimDuration::from_millis(250),
            no_probability: 0.1,
            vote_timeout: SimDuration::from_millis(150),
            retry_interval: SimDuration::from_millis(50),
        }
    }
}

const PARAM_DOCS: &[ParamDoc] = &[
    ParamDoc {
        name: "transactions",
        default: "20",
        meaning: "transactions the coordinator runs, one every `interval` (at most 1000)",
    },
    ParamDoc {
        name: "interval",
        default: "250ms",
        meaning: "time between the starts of two transactions (at least 1ms)",
    },
    ParamDoc {
        name: "no_probability",
        default: "0.1",
        meaning: "chance that a participant votes no on a transaction (0 to 1)",
    },
    ParamDoc {
        name: "vote_timeout",
        default: "150ms",
        meaning: "how long the coordinator waits for every vote before it decides abort; with \
                  the unilateral-abort bug, also how long a prepared participant waits for \
                  the decision before aborting on its own (at least 1ms)",
    },
    ParamDoc {
        name: "retry_interval",
        default: "50ms",
        meaning: "time between resends of prepares and decisions by the coordinator, and of \
                  inquiries by a prepared participant (at least 1ms)",
    },
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Bug {
    UnilateralAbort,
    UnloggedDecision,
}

const BUG_DOCS: &[BugDoc] = &[
    BugDoc {
        name: "unilateral-abort",
        description: "a participant that voted yes gives up on the decision after \
                      vote_timeout and aborts on its own; if the coordinator got every yes vote \
                      and decided commit, the others commit while it aborts; exposed by a \
                      partition between the coordinator and that participant after its vote \
                      arrived and before the decision reaches it",
        violates: "atomicity",
    },
    BugDoc {
        name: "unlogged-decision",
        description: "the coordinator writes its decision to its log but does not sync it \
                      before sending it (it reaches the disk only with the next transaction's \
                      start record); a crash of the coordinator right after a commit went out \
                      loses the decision, and the restarted coordinator presumes abort for a \
                      transaction some participants already committed",
        violates: "atomicity",
    },
];

impl Bug {
    fn from_name(name: &str) -> Option<Bug> {
        match name {
            "unilateral-abort" => Some(Bug::UnilateralAbort),
            "unlogged-decision" => Some(Bug::UnloggedDecision),
            _ => None,
        }
    }
}

/// How a transaction ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    Commit,
    Abort,
}

impl Outcome {
    fn byte(self) -> u8 {
        match self {
            Outcome::Commit => 1,
            Outcome::Abort => 0,
        }
    }

    fn from_byte(byte: u8) -> Option<Outcome> {
        match byte {
            1 => Some(Outcome::Commit),
            0 => Some(Outcome::Abort),
            _ => None,
        }
    }

    fn word(self) -> &'static str {
        match self {
            Outcome::Commit => "commit",
            Outcome::Abort => "abort",
        }
    }
}

/// What two-phase-commit nodes send each other. Transactions are numbered from 1.
#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// Coordinator → participant: vote on `tx`.
    Prepare { tx: u64 },
    /// Participant → coordinator: its vote on `tx`.
    Vote { tx: u64, yes: bool },
    /// Coordinator → participant: the decision on `tx`.
    Decision { tx: u64, outcome: Outcome },
    /// Participant → coordinator: the decision on `tx` is recorded.
    Ack { tx: u64 },
    /// Prepared participant → coordinator: what was decided on `tx`?
    Inquire { tx: u64 },
}

/// What two-phase-commit timers carry.
#[derive(Clone, Debug, Hash)]
pub enum Tick {
    /// Coordinator: start the next transaction.
    NextTx,
    /// Coordinator: `tx` has waited `vote_timeout` for its votes.
    VoteTimeout { tx: u64 },
    /// Coordinator: resend what `tx` still waits for: votes, or acknowledgements once
    /// `decided`.
    Resend { tx: u64, decided: bool },
    /// Participant: still prepared for `tx`; ask the coordinator again.
    Inquire { tx: u64 },
    /// Participant with the unilateral-abort bug: stop waiting for the decision on `tx`.
    GiveUp { tx: u64 },
}

/// Timer delays and the vote draw, shared by both roles.
#[derive(Clone, Copy, Debug, Hash)]
struct Timing {
    interval: SimDuration,
    vote_timeout: SimDuration,
    retry_interval: SimDuration,
    /// Chance of a no vote, in parts per million.
    no_ppm: u32,
}

impl Timing {
    fn from_params(params: &Params) -> Timing {
        Timing {
            interval: params.interval,
            vote_timeout: params.vote_timeout,
            retry_interval: params.retry_interval,
            no_ppm: (params.no_probability * f64::from(PPM)).round() as u32,
        }
    }
}

/// One two-phase-commit node: the coordinator (n1) or a participant.
#[derive(Clone, Debug, Hash)]
pub struct TwoPhaseCommit {
    role: Role,
}

#[derive(Clone, Debug, Hash)]
enum Role {
    Coordinator(Coordinator),
    Participant(Participant),
}

impl TwoPhaseCommit {
    fn coordinator(&self) -> Option<&Coordinator> {
        match &self.role {
            Role::Coordinator(c) => Some(c),
            Role::Participant(_) => None,
        }
    }

    fn participant(&self) -> Option<&Participant> {
        match &self.role {
            Role::Participant(p) => Some(p),
            Role::Coordinator(_) => None,
        }
    }
}

/// A transaction number as a table index, if it is in range.
fn index_of(tx: u64) -> Option<usize> {
    (1..=TRANSACTIONS_MAX)
        .contains(&tx)
        .then(|| (tx - 1) as usize)
}

impl Process for TwoPhaseCommit {
    type Message = Msg;
    type Timer = Tick;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        match &mut self.role {
            Role::Coordinator(c) => c.on_start(ctx),
            Role::Participant(p) => p.on_start(ctx),
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match &mut self.role {
            Role::Coordinator(c) => c.on_message(ctx, from, msg),
            // Only the coordinator's messages mean anything to a participant.
            Role::Participant(p) if from == COORDINATOR => p.on_message(ctx, msg),
            Role::Participant(_) => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _timer: TimerId, tag: Tick) {
        match &mut self.role {
            Role::Coordinator(c) => c.on_timer(ctx, tag),
            Role::Participant(p) => p.on_timer(ctx, tag),
        }
    }
}

impl Protocol for TwoPhaseCommit {
    const NAME: &'static str = "two-phase-commit";
    const SUMMARY: &'static str = "atomic commit of a sequence of transactions with a durable \
                                   coordinator log and presumed abort; blocks while the \
                                   coordinator is down";
    type Params = Params;

    const PARAM_DOCS: &'static [ParamDoc] = PARAM_DOCS;
    const BUG_DOCS: &'static [BugDoc] = BUG_DOCS;

    fn properties() -> Vec<Property<Self>> {
        vec![
            Property::always(
                "atomicity",
                "no transaction is committed by one node and aborted by another \
                              (the coordinator's decision and every participant's recorded \
                              outcome; undecided participants do not count)",
                checks::check_atomicity,
            ),
            Property::always(
                "vote_respected",
                "no participant commits a transaction it voted no on",
                checks::check_vote_respected,
            ),
            Property::at_end(
                "all_decided",
                "every transaction the coordinator started has an outcome at every \
                 participant that is up at the end (but one started within vote_timeout and \
                 ten retry intervals of the end, which may still be under way)",
                checks::check_all_decided,
            ),
        ]
    }

    fn check_params(params: &Params, _node_count: u32) -> Result<(), String> {
        check_at_most("transactions", params.transactions, TRANSACTIONS_MAX)?;
        check_at_least("interval", params.interval, INTERVAL_MIN)?;
        check_range("no_probability", params.no_probability, 0.0, 1.0)?;
        check_at_least("vote_timeout", params.vote_timeout, INTERVAL_MIN)?;
        check_at_least("retry_interval", params.retry_interval, INTERVAL_MIN)
    }

    fn new(id: NodeId, node_count: u32, params: &Params, bug: Option<&'static str>) -> Self {
        if let Err(e) = Self::check_params(params, node_count) {
            panic!("{}: {e}", Self::NAME);
        }
        let bug = bug.map(|name| {
            Bug::from_name(name)
                .unwrap_or_else(|| panic!("two-phase-commit has no bug variant `{name}`"))
        });
        let timing = Timing::from_params(params);
        let role = if id == COORDINATOR {
            let transactions = params.transactions;
            Role::Coordinator(Coordinator::new(node_count, transactions, timing, bug))
        } else {
            Role::Participant(Participant::new(timing, bug))
        };
        TwoPhaseCommit { role }
    }
    /// Coordinator or participant; the last transactions as cells: `C` committed, `A`
    /// aborted, empty while undecided (filled when decided, not an overwrite).
    fn summary(&self) -> crate::Summary {
        use crate::summary::{Cell, Standing};
        let letter = |o: Outcome| if o == Outcome::Commit { "C" } else { "A" };
        match &self.role {
            Role::Coordinator(c) => crate::Summary::new()
                .role("coordinator", Standing::Leader)
                .field("started", c.started)
                .log(&c.txs, 1, |_, tx| match tx {
                    coordinator::TxState::Decided { outcome, .. } => {
                        Cell::new(letter(*outcome), true)
                    }
                    coordinator::TxState::Voting { .. } => Cell::new("", false),
                }),
            Role::Participant(p) => crate::Summary::new()
                .role("participant", Standing::Follower)
                .field("voted", p.votes.iter().flatten().count())
                .log(&p.outcomes, 1, |_, o| match o {
                    Some((outcome, _)) => Cell::new(letter(*outcome), true),
                    None => Cell::new("", false),
                }),
        }
    }
}
