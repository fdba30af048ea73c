//! The coordinator (n1): starts transactions, collects votes, logs and spreads decisions.

use super::{Bug, COORDINATOR, Msg, Outcome, Tick, Timing, TwoPhaseCommit, index_of};
use crate::process::{Ctx, NodeId};
use crate::storage::Storage;
use crate::time::SimTime;

const KEY_STARTED: &str = "started";
const KEY_DECISION_PREFIX: &str = "decision/";

/// Why the coordinator decided what it did, for violation messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum How {
    /// Every participant voted yes.
    AllYes,
    /// This participant voted no.
    VotedNo(NodeId),
    /// Not every vote arrived within `vote_timeout`.
    Timeout,
    /// Restarted, found the transaction started but no decision in its log: presumed abort.
    Presumed,
    /// Read back from its log after a restart.
    Logged,
}

/// Where one transaction stands at the coordinator.
#[derive(Clone, Debug, Hash)]
pub enum TxState {
    /// Prepares sent; `yes[i]` says whether participant `n(i + 2)` voted yes.
    Voting { yes: Vec<bool> },
    /// Decided; `acked[i]` says whether participant `n(i + 2)` acknowledged the decision.
    Decided {
        outcome: Outcome,
        how: How,
        acked: Vec<bool>,
    },
}

#[derive(Clone, Debug, Hash)]
pub struct Coordinator {
    participants: u32,
    /// How many transactions to run in all.
    transactions: u64,
    timing: Timing,
    bug: Option<Bug>,
    /// Transactions started so far (numbered 1..=started), as in the log.
    pub(super) started: u64,
    /// One entry per started transaction, index `tx - 1`.
    pub(super) txs: Vec<TxState>,
    /// When each transaction started, index `tx - 1` (time zero for those read back from
    /// the log, which are decided at once).
    started_at: Vec<SimTime>,
}

/// A participant's slot in the per-transaction tables (n2 is slot 0).
fn slot(node: NodeId) -> Option<usize> {
    (node != COORDINATOR).then(|| node.index() - 1)
}

fn participant(slot: usize) -> NodeId {
    NodeId(slot as u32 + 1)
}

fn decision_key(tx: u64) -> String {
    format!("{KEY_DECISION_PREFIX}{tx}")
}

impl Coordinator {
    pub(super) fn new(
        node_count: u32,
        transactions: u64,
        timing: Timing,
        bug: Option<Bug>,
    ) -> Self {
        Coordinator {
            participants: node_count.saturating_sub(1),
            transactions,
            timing,
            bug,
            started: 0,
            txs: Vec::new(),
            started_at: Vec::new(),
        }
    }

    /// Whether `tx` started so shortly before `now` that even a correct run may not have
    /// settled it: within its vote timeout and ten resend intervals. At-end checks leave
    /// such a transaction alone: the run ended, not the protocol.
    pub(super) fn settling(&self, tx: u64, now: SimTime) -> bool {
        let Some(&start) = index_of(tx).and_then(|i| self.started_at.get(i)) else {
            return false;
        };
        let settle_ns = self.timing.vote_timeout.0 + self.timing.retry_interval.0 * 10;
        now.0.saturating_sub(start.0) < settle_ns
    }

    /// The decision on `tx`, if any, and why it was taken.
    pub(super) fn decision(&self, tx: u64) -> Option<(Outcome, How)> {
        match self.txs.get(index_of(tx)?)? {
            TxState::Decided { outcome, how, .. } => Some((*outcome, *how)),
            TxState::Voting { .. } => None,
        }
    }

    pub(super) fn on_start(&mut self, ctx: &mut Ctx<'_, TwoPhaseCommit>) {
        if ctx.is_restart() {
            self.recover(ctx);
        }
        if self.started < self.transactions {
            ctx.set_timer(self.timing.interval, Tick::NextTx);
        }
    }

    /// Rebuilds the transaction table from the log: decided transactions resend their
    /// decision; started but undecided ones are aborted (presumed abort), logged and sent.
    fn recover(&mut self, ctx: &mut Ctx<'_, TwoPhaseCommit>) {
        let storage = ctx.storage();
        self.started = read_started(storage).min(self.transactions);
        let logged: Vec<Option<Outcome>> = (1..=self.started)
            .map(|tx| read_decision(storage, tx))
            .collect();
        for (tx, decision) in (1..).zip(logged) {
            self.txs.push(TxState::Voting {
                yes: vec![false; self.participants as usize],
            });
            self.started_at.push(SimTime::ZERO);
            match decision {
                Some(outcome) => self.enter_decided(ctx, tx, outcome, How::Logged),
                None => {
                    ctx.annotate(format_args!(
                        "tx {tx} has no decision in the log: presumed abort"
                    ));
                    self.decide(ctx, tx, Outcome::Abort, How::Presumed);
                }
            }
        }
    }

    pub(super) fn on_message(&mut self, ctx: &mut Ctx<'_, TwoPhaseCommit>, from: NodeId, msg: Msg) {
        let Some(slot) = slot(from).filter(|&s| s < self.participants as usize) else {
            return;
        };
        match msg {
            Msg::Vote { tx, yes } => self.on_vote(ctx, tx, slot, yes),
            Msg::Ack { tx } => {
                if let Some(TxState::Decided { acked, .. }) = self.tx_mut(tx) {
                    acked[slot] = true;
                }
            }
            Msg::Inquire { tx } => {
                if let Some((outcome, _)) = self.decision(tx) {
                    ctx.send(from, Msg::Decision { tx, outcome });
                }
            }
            // Prepares and decisions only flow from the coordinator.
            Msg::Prepare { .. } | Msg::Decision { .. } => {}
        }
    }

    pub(super) fn on_timer(&mut self, ctx: &mut Ctx<'_, TwoPhaseCommit>, tag: Tick) {
        match tag {
            Tick::NextTx => self.start_next(ctx),
            Tick::VoteTimeout { tx } => {
                if matches!(self.tx_mut(tx), Some(TxState::Voting { .. })) {
                    self.decide(ctx, tx, Outcome::Abort, How::Timeout);
                }
            }
            Tick::Resend { tx, decided } => self.resend(ctx, tx, decided),
            Tick::Inquire { .. } | Tick::GiveUp { .. } => {}
        }
    }

    fn tx_mut(&mut self, tx: u64) -> Option<&mut TxState> {
        self.txs.get_mut(index_of(tx)?)
    }

    /// Logs the start (so a restart knows the transaction may be undecided), then prepares.
    fn start_next(&mut self, ctx: &mut Ctx<'_, TwoPhaseCommit>) {
        if self.started >= self.transactions {
            return;
        }
        self.started += 1;
        let tx = self.started;
        let storage = ctx.storage();
        storage.put(KEY_STARTED, tx.to_le_bytes());
        storage.sync();
        self.txs.push(TxState::Voting {
            yes: vec![false; self.participants as usize],
        });
        self.started_at.push(ctx.now());
        ctx.broadcast(Msg::Prepare { tx });
        ctx.set_timer(self.timing.vote_timeout, Tick::VoteTimeout { tx });
        ctx.set_timer(
            self.timing.retry_interval,
            Tick::Resend { tx, decided: false },
        );
        if self.started < self.transactions {
            ctx.set_timer(self.timing.interval, Tick::NextTx);
        }
        if self.participants == 0 {
            self.decide(ctx, tx, Outcome::Commit, How::AllYes);
        }
    }

    fn on_vote(&mut self, ctx: &mut Ctx<'_, TwoPhaseCommit>, tx: u64, slot: usize, yes: bool) {
        let Some(TxState::Voting { yes: votes }) = self.tx_mut(tx) else {
            return;
        };
        if !yes {
            self.decide(ctx, tx, Outcome::Abort, How::VotedNo(participant(slot)));
            return;
        }
        votes[slot] = true;
        if votes.iter().all(|&v| v) {
            self.decide(ctx, tx, Outcome::Commit, How::AllYes);
        }
    }

    /// Logs the decision, durably before anyone hears it (except with the unlogged-decision
    /// bug), then sends it to every participant.
    fn decide(&mut self, ctx: &mut Ctx<'_, TwoPhaseCommit>, tx: u64, outcome: Outcome, how: How) {
        let storage = ctx.storage();
        storage.put(&decision_key(tx), [outcome.byte()]);
        if self.bug != Some(Bug::UnloggedDecision) {
            storage.sync();
        }
        ctx.annotate(format_args!("tx {tx}: decided {}", outcome.word()));
        self.enter_decided(ctx, tx, outcome, how);
    }

    fn enter_decided(
        &mut self,
        ctx: &mut Ctx<'_, TwoPhaseCommit>,
        tx: u64,
        outcome: Outcome,
        how: How,
    ) {
        let participants = self.participants as usize;
        let Some(state) = self.tx_mut(tx) else { return };
        *state = TxState::Decided {
            outcome,
            how,
            acked: vec![false; participants],
        };
        ctx.broadcast(Msg::Decision { tx, outcome });
        ctx.set_timer(
            self.timing.retry_interval,
            Tick::Resend { tx, decided: true },
        );
    }

    /// Resends prepares to participants that have not voted, or the decision to those that
    /// have not acknowledged it; stops once nothing is missing. Each phase has its own chain
    /// of timers (`decided`), so the voting chain ends when the decision starts its own.
    fn resend(&mut self, ctx: &mut Ctx<'_, TwoPhaseCommit>, tx: u64, decided: bool) {
        let Some(state) = self.tx_mut(tx) else { return };
        let (missing, msg) = match state {
            TxState::Voting { yes } if !decided => (yes, Msg::Prepare { tx }),
            TxState::Decided { outcome, acked, .. } if decided => (
                acked,
                Msg::Decision {
                    tx,
                    outcome: *outcome,
                },
            ),
            _ => return,
        };
        let targets: Vec<NodeId> = (0..missing.len())
            .filter(|&s| !missing[s])
            .map(participant)
            .collect();
        if targets.is_empty() {
            return;
        }
        for to in targets {
            ctx.send(to, msg.clone());
        }
        ctx.set_timer(self.timing.retry_interval, Tick::Resend { tx, decided });
    }
}

/// The number of transactions the log says were started (0 for an empty log).
pub(super) fn read_started(storage: &Storage) -> u64 {
    storage
        .get(KEY_STARTED)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map_or(0, u64::from_le_bytes)
}

fn read_decision(storage: &Storage, tx: u64) -> Option<Outcome> {
    match storage.get(&decision_key(tx))? {
        [byte] => Outcome::from_byte(*byte),
        _ => None,
    }
}
