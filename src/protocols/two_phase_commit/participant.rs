//! A participant (n2, n3, ...): votes, stays prepared until told the decision, records it.

use super::{
    Bug, COORDINATOR, Msg, Outcome, PPM, TRANSACTIONS_MAX, Tick, Timing, TwoPhaseCommit, index_of,
};
use crate::process::Ctx;
use crate::storage::Storage;
use rand::RngExt;

/// Storage keys are `vote/<tx>` and `outcome/<tx>`.
const KEY_VOTE: &str = "vote";
const KEY_OUTCOME: &str = "outcome";

/// Why a participant holds the outcome it holds, for violation messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// The coordinator's decision reached it.
    Told,
    /// It voted no, and aborted at once.
    VotedNo,
    /// It voted yes, then gave up waiting and aborted on its own (unilateral-abort bug).
    OnItsOwn,
}

impl Source {
    fn byte(self) -> u8 {
        match self {
            Source::Told => 0,
            Source::VotedNo => 1,
            Source::OnItsOwn => 2,
        }
    }

    fn from_byte(byte: u8) -> Source {
        match byte {
            1 => Source::VotedNo,
            2 => Source::OnItsOwn,
            _ => Source::Told,
        }
    }
}

#[derive(Clone, Debug, Hash)]
pub struct Participant {
    timing: Timing,
    bug: Option<Bug>,
    /// Its vote on each transaction, index `tx - 1`: `Some(true)` is yes.
    pub(super) votes: Vec<Option<bool>>,
    /// The outcome it recorded for each transaction, index `tx - 1`.
    pub(super) outcomes: Vec<Option<(Outcome, Source)>>,
}

fn vote_key(tx: u64) -> String {
    format!("{KEY_VOTE}/{tx}")
}

fn outcome_key(tx: u64) -> String {
    format!("{KEY_OUTCOME}/{tx}")
}

impl Participant {
    pub(super) fn new(timing: Timing, bug: Option<Bug>) -> Self {
        Participant {
            timing,
            bug,
            votes: Vec::new(),
            outcomes: Vec::new(),
        }
    }

    pub(super) fn vote(&self, tx: u64) -> Option<bool> {
        *self.votes.get(index_of(tx)?)?
    }

    pub(super) fn outcome(&self, tx: u64) -> Option<(Outcome, Source)> {
        *self.outcomes.get(index_of(tx)?)?
    }

    /// How long a participant with the unilateral-abort bug waits before aborting.
    pub(super) fn give_up_after(&self) -> crate::time::SimDuration {
        self.timing.vote_timeout
    }

    /// Prepared: voted yes and no outcome yet.
    pub(super) fn prepared(&self, tx: u64) -> bool {
        self.vote(tx) == Some(true) && self.outcome(tx).is_none()
    }

    /// Grows both tables to hold `tx`; false if `tx` is out of range.
    fn make_room(&mut self, tx: u64) -> bool {
        let Some(index) = index_of(tx) else {
            return false;
        };
        if self.votes.len() <= index {
            self.votes.resize(index + 1, None);
            self.outcomes.resize(index + 1, None);
        }
        true
    }

    pub(super) fn on_start(&mut self, ctx: &mut Ctx<'_, TwoPhaseCommit>) {
        if !ctx.is_restart() {
            return;
        }
        self.recover(ctx.storage());
        // Prepared transactions survive the crash: keep asking about them.
        for tx in 1..=self.votes.len() as u64 {
            if self.prepared(tx) {
                self.wait_for_decision(ctx, tx);
            }
        }
    }

    fn recover(&mut self, storage: &Storage) {
        for key in storage.keys() {
            let Some((prefix, rest)) = key.split_once('/') else {
                continue;
            };
            let Some(tx) = rest.parse::<u64>().ok().filter(|&t| t <= TRANSACTIONS_MAX) else {
                continue;
            };
            let Some(&[byte]) = storage.get(key) else {
                continue;
            };
            if !self.make_room(tx) {
                continue;
            }
            let index = (tx - 1) as usize;
            match prefix {
                KEY_VOTE => self.votes[index] = Some(byte == 1),
                KEY_OUTCOME => {
                    self.outcomes[index] =
                        Outcome::from_byte(byte & 1).map(|o| (o, Source::from_byte(byte >> 1)));
                }
                _ => {}
            }
        }
    }

    pub(super) fn on_message(&mut self, ctx: &mut Ctx<'_, TwoPhaseCommit>, msg: Msg) {
        match msg {
            Msg::Prepare { tx } => self.on_prepare(ctx, tx),
            Msg::Decision { tx, outcome } => self.on_decision(ctx, tx, outcome),
            // Votes, acks and inquiries only flow to the coordinator.
            Msg::Vote { .. } | Msg::Ack { .. } | Msg::Inquire { .. } => {}
        }
    }

    pub(super) fn on_timer(&mut self, ctx: &mut Ctx<'_, TwoPhaseCommit>, tag: Tick) {
        match tag {
            Tick::Inquire { tx } if self.prepared(tx) => {
                ctx.send(COORDINATOR, Msg::Inquire { tx });
                ctx.set_timer(self.timing.retry_interval, Tick::Inquire { tx });
            }
            Tick::GiveUp { tx } if self.prepared(tx) => {
                ctx.annotate(format_args!(
                    "tx {tx}: no decision after {}, aborting on my own",
                    self.timing.vote_timeout
                ));
                self.record(ctx, tx, Outcome::Abort, Source::OnItsOwn);
            }
            _ => {}
        }
    }

    /// Votes once per transaction and repeats the same vote to resent prepares. A yes is
    /// synced before it leaves: after a crash the participant must still honour it.
    fn on_prepare(&mut self, ctx: &mut Ctx<'_, TwoPhaseCommit>, tx: u64) {
        if !self.make_room(tx) {
            return;
        }
        if let Some(yes) = self.vote(tx) {
            ctx.send(COORDINATOR, Msg::Vote { tx, yes });
            return;
        }
        if self.outcome(tx).is_some() {
            // The decision (an abort) overtook the prepare: nothing left to vote on.
            return;
        }
        let no = ctx.rng().random_range(0..PPM) < self.timing.no_ppm;
        let index = (tx - 1) as usize;
        self.votes[index] = Some(!no);
        ctx.storage().put(&vote_key(tx), [u8::from(!no)]);
        if no {
            // A no vote dooms the transaction, so the participant may abort right away.
            self.record(ctx, tx, Outcome::Abort, Source::VotedNo);
        } else {
            ctx.storage().sync();
            self.wait_for_decision(ctx, tx);
        }
        ctx.send(COORDINATOR, Msg::Vote { tx, yes: !no });
    }

    fn wait_for_decision(&mut self, ctx: &mut Ctx<'_, TwoPhaseCommit>, tx: u64) {
        ctx.set_timer(self.timing.retry_interval, Tick::Inquire { tx });
        if self.bug == Some(Bug::UnilateralAbort) {
            ctx.set_timer(self.timing.vote_timeout, Tick::GiveUp { tx });
        }
    }

    /// Records the coordinator's decision (the first outcome recorded is final) and acks.
    fn on_decision(&mut self, ctx: &mut Ctx<'_, TwoPhaseCommit>, tx: u64, outcome: Outcome) {
        if !self.make_room(tx) {
            return;
        }
        if self.outcome(tx).is_none() {
            self.record(ctx, tx, outcome, Source::Told);
        }
        ctx.send(COORDINATOR, Msg::Ack { tx });
    }

    /// Makes an outcome durable before anything is said about it.
    fn record(
        &mut self,
        ctx: &mut Ctx<'_, TwoPhaseCommit>,
        tx: u64,
        outcome: Outcome,
        source: Source,
    ) {
        let Some(index) = index_of(tx).filter(|_| self.make_room(tx)) else {
            return;
        };
        self.outcomes[index] = Some((outcome, source));
        let storage = ctx.storage();
        storage.put(&outcome_key(tx), [outcome.byte() | source.byte() << 1]);
        storage.sync();
    }
}
