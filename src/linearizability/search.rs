//! The Wing–Gong–Lowe search with Lowe's memoisation, over one partition.
//!
//! Calls and returns sit in one doubly linked list in real-time order. The search walks it:
//! at a call it tries to linearise that op next (apply it to the model, remove its call and
//! return from the list, start again from the head); at a return it has met an op whose
//! deadline passed without being linearised, so it undoes the latest choice. A configuration
//! (set of linearised ops, model state) seen before cannot lead anywhere new, so the search
//! remembers every one it enters: this is what keeps it from being exponential in practice.
//!
//! The search runs over one *piece* of a partition (see [`super::pieces`]): from each of a set
//! of start configurations in turn, sharing one memo (a configuration entered from one start
//! and left without success has no success from any), and either stops at the first complete
//! linearisation or, for a piece followed by another, records every configuration in which all
//! its definite ops are linearised.

use super::fxhash::{FxHashMap, mix64};
use super::memo::{HEAD, List, Memo, NIL, SetKey};
use super::model::{Call, Values};
/// The wall-clock budget is checked once every this many steps (a step is a few ns).
const STEPS_PER_BUDGET_CHECK: u64 = 1 << 14;
/// The memo (with the states of the collection models) holds at most this many 64-bit words
/// (1 GiB); beyond it the verdict is unknown rather than the machine running out of memory.
const MAX_CACHE_WORDS: usize = 1 << 27;

/// One key's operations, ready to search.
pub struct Partition {
    pub calls: Vec<Call>,
    /// Real-time rank of each op's call event.
    pub call_pos: Vec<usize>,
    /// Real-time rank of each op's return event; `None` if pending forever.
    pub return_pos: Vec<Option<usize>>,
    pub values: Values,
    pub initial: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Linearizable,
    /// `op` (an index into the partition) is where the search got furthest and stuck.
    NotLinearizable {
        op: usize,
    },
    /// The budget ran out (`true`: time, `false`: memory).
    Unknown {
        time: bool,
    },
}

/// A configuration a piece may start from: the model state, and which of the piece's carried
/// indefinite ops are linearised already (local indices).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Start {
    pub state: u32,
    pub linearised: Vec<u32>,
}

/// A configuration a piece may end in: every definite op linearised, the state, and the
/// indefinite ops still open (local indices).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct End {
    pub state: u32,
    pub open: Vec<u32>,
}

/// One piece of a partition, ready to search.
pub struct Piece {
    pub calls: Vec<Call>,
    /// Real-time rank of each op's call event.
    pub call_pos: Vec<usize>,
    /// Real-time rank of each op's return event; `None` for an indefinite op.
    pub return_pos: Vec<Option<usize>>,
    /// Record every end configuration (a piece followed by another) instead of stopping at the
    /// first linearisation (the last piece).
    pub enumerate: bool,
    /// Use the compact memo key however short the piece (see [`SetKey`]).
    pub force_compact: bool,
    /// Linearise indefinite ops with the same call only in invocation order (see
    /// [`predecessors`]).
    pub in_order: bool,
}

/// How a piece's search ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finish {
    Linearizable,
    /// Every configuration an enumerating search can end in (at least one).
    Ends(Vec<End>),
    /// An enumerating search found more than `max_ends` end configurations.
    TooManyEnds,
    /// `op` (local) is where the search got furthest and stuck.
    NotLinearizable {
        op: usize,
    },
    Unknown {
        time: bool,
    },
}

/// For each indefinite op, the latest-invoked indefinite op with the same call invoked before
/// it (`NIL` for none, and for definite ops): the search lets an op take effect only after
/// that one has.
///
/// Such ops are interchangeable, but for when each may take effect: one invoked earlier may
/// take effect wherever a later one may (it must follow only ops that returned before its
/// invocation, so fewer), and none ever has to take effect. So in any linearisation, and in
/// any sequence of steps the search can take from a configuration, the j-th of them to take
/// effect may be replaced by the j-th earliest-invoked of those the configuration has not
/// linearised: it may stand there (among the j used up to that point, one was invoked no
/// earlier than it, and stood no later), and every state and every definite op stay as they
/// were. Searching only such sequences therefore reaches the same sets of definite ops in the
/// same states, so the verdict, the op named on failure and the end configurations' states
/// are unchanged; but k interchangeable ops make k + 1 sets to remember instead of 2^k, which
/// is what keeps a key with dozens of timed-out writes of a few values within budget. (The
/// end configurations a piece records may keep different ops open; the proof in
/// [`super::pieces`] needs only that each one allows what the search without this rule
/// allows, which the same replacement shows.)
pub fn predecessors(p: &Piece) -> Vec<u32> {
    let mut indefinite: Vec<usize> = (0..p.calls.len())
        .filter(|&i| p.return_pos[i].is_none())
        .collect();
    indefinite.sort_by_key(|&i| p.call_pos[i]);
    let mut latest: FxHashMap<Call, u32> = FxHashMap::default();
    let mut before = vec![NIL; p.calls.len()];
    for i in indefinite {
        let op = u32::try_from(i).expect("op count bounded by MAX_OPS_PER_HISTORY");
        if let Some(prev) = latest.insert(p.calls[i], op) {
            before[i] = prev;
        }
    }
    before
}

/// A search in progress over one piece; [`Search::run`] resumes it for a number of steps.
pub struct Search {
    calls: Vec<Call>,
    /// Per op: whether it completed (an indefinite op never blocks the end of a piece).
    definite: Vec<bool>,
    /// Per op: the op that must be linearised before it may be (see [`predecessors`]), or
    /// `NIL`.
    before: Vec<u32>,
    indefinite: Vec<u32>,
    enumerate: bool,
    starts: Vec<Start>,
    next_start: usize,
    /// Definite ops not linearised yet.
    left: usize,
    ends: Vec<End>,
    max_ends: usize,
    list: List,
    memo: Memo,
    key: SetKey,
    /// Whether `key` is compact (else the memo holds `linearised` itself).
    compact: bool,
    zobrist: Vec<u64>,
    linearised: Vec<u64>,
    set_hash: u64,
    state: u32,
    /// The linearised calls, in order, with the state before each.
    stack: Vec<(u32, u32)>,
    furthest_rank: u32,
    furthest_op: usize,
    entry: u32,
    /// Whether the first start configuration has been entered.
    entered: bool,
    steps: u64,
}

impl Search {
    /// A search of `p` from each of `starts` (in order); `steps` is the count it starts from,
    /// so that budgets spread over several pieces; at most `max_ends` end configurations.
    pub fn new(p: Piece, starts: Vec<Start>, steps: u64, max_ends: usize) -> Search {
        let n = p.calls.len();
        assert!(
            n < (u32::MAX as usize) / 2,
            "op count bounded by MAX_OPS_PER_HISTORY"
        );
        assert_eq!(p.call_pos.len(), n);
        assert_eq!(p.return_pos.len(), n);
        let list = List::new(&p);
        let key = SetKey::new(&p);
        let words = n.div_ceil(64).max(1);
        let definite: Vec<bool> = p.return_pos.iter().map(Option::is_some).collect();
        let indefinite = (0..n as u32).filter(|&i| !definite[i as usize]).collect();
        let before = if p.in_order {
            predecessors(&p)
        } else {
            vec![NIL; n]
        };
        Search {
            calls: p.calls,
            left: 0,
            definite,
            before,
            indefinite,
            enumerate: p.enumerate,
            starts,
            next_start: 0,
            ends: Vec::new(),
            max_ends,
            list,
            memo: Memo {
                words: key.words(),
                heads: FxHashMap::default(),
                entries: Vec::new(),
            },
            compact: !key.is_plain(),
            key,
            zobrist: (0..n as u64).map(mix64).collect(),
            linearised: vec![0u64; words],
            set_hash: 0,
            state: 0,
            stack: Vec::with_capacity(n),
            furthest_rank: 0,
            furthest_op: 0,
            entry: NIL,
            entered: false,
            steps,
        }
    }

    /// Steps taken so far (counting from the `steps` given to [`Search::new`]).
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Sets up the next start configuration not already met; false when none is left.
    fn begin_next_start(&mut self) -> bool {
        while let Some(start) = self.starts.get(self.next_start) {
            self.next_start += 1;
            self.state = start.state;
            self.left = self.definite.iter().filter(|&&d| d).count();
            for &op in &start.linearised {
                let (word, bit) = (op as usize / 64, 1u64 << (op % 64));
                self.linearised[word] |= bit;
                self.key.added(op as usize, &self.linearised);
                self.set_hash ^= self.zobrist[op as usize];
                self.list.unlink(1 + 2 * op);
                self.list.unlink(2 + 2 * op);
            }
            self.entry = self.list.next[HEAD as usize];
            let key = self.set_hash ^ mix64(u64::from(self.state) ^ 0xa5a5_0000_0000);
            let words = self.key.of(&self.linearised);
            if self.memo.insert(key, words, self.state) {
                return true;
            }
            // Reached from an earlier start: everything after it is known.
            self.end_start();
        }
        false
    }

    /// Undoes the current start's preset ops (in reverse order, as `relink` needs).
    fn end_start(&mut self) {
        let start = &self.starts[self.next_start - 1];
        for &op in start.linearised.iter().rev() {
            self.list.relink(2 + 2 * op);
            self.list.relink(1 + 2 * op);
            self.linearised[op as usize / 64] &= !(1u64 << (op % 64));
            self.key.removed(op as usize);
            self.set_hash ^= self.zobrist[op as usize];
        }
    }

    /// Undoes the latest choice; false when the current start has none left.
    #[inline]
    fn backtrack(&mut self) -> bool {
        let Some((call, before)) = self.stack.pop() else {
            return false;
        };
        let undone = ((call - 1) / 2) as usize;
        self.linearised[undone / 64] &= !(1u64 << (undone % 64));
        if self.compact {
            self.key.removed(undone);
        }
        self.set_hash ^= self.zobrist[undone];
        self.left += usize::from(self.definite[undone]);
        self.state = before;
        self.list.relink(call + 1);
        self.list.relink(call);
        self.entry = self.list.next[call as usize];
        true
    }

    /// The current start is exhausted: the next one, or the piece's result.
    fn start_exhausted(&mut self) -> Option<Finish> {
        self.end_start();
        self.enter_start()
    }

    /// Enters the next start configuration; `Some` when the piece is finished.
    fn enter_start(&mut self) -> Option<Finish> {
        loop {
            if !self.begin_next_start() {
                if self.enumerate && !self.ends.is_empty() {
                    return Some(Finish::Ends(std::mem::take(&mut self.ends)));
                }
                return Some(Finish::NotLinearizable {
                    op: self.furthest_op,
                });
            }
            if self.left > 0 {
                return None;
            }
            // A start with no definite op left to linearise is an end already.
            if !self.enumerate {
                return Some(Finish::Linearizable);
            }
            if !self.record_end() {
                return Some(Finish::TooManyEnds);
            }
            self.end_start();
        }
    }

    /// Records the current configuration as an end; false when there are too many.
    fn record_end(&mut self) -> bool {
        let open = self
            .indefinite
            .iter()
            .copied()
            .filter(|&op| self.linearised[op as usize / 64] & (1u64 << (op % 64)) == 0)
            .collect();
        self.ends.push(End {
            state: self.state,
            open,
        });
        self.ends.len() <= self.max_ends
    }

    /// Every definite op is linearised: records the configuration (an enumerating search)
    /// and backtracks; `Some` when the piece is finished.
    fn piece_end(&mut self) -> Option<Finish> {
        if !self.enumerate {
            return Some(Finish::Linearizable);
        }
        if !self.record_end() {
            return Some(Finish::TooManyEnds);
        }
        if self.backtrack() {
            return None;
        }
        self.start_exhausted()
    }

    /// Runs until a verdict or until `steps` is reached (`None`: not finished yet).
    pub fn run(
        &mut self,
        values: &mut Values,
        steps: u64,
        out_of_time: &dyn Fn() -> bool,
    ) -> Option<Finish> {
        if !self.entered {
            self.entered = true;
            if let Some(finish) = self.enter_start() {
                return Some(finish);
            }
        }
        loop {
            self.steps += 1;
            if self.steps.is_multiple_of(STEPS_PER_BUDGET_CHECK) {
                if out_of_time() {
                    return Some(Finish::Unknown { time: true });
                }
                // The collection models' states count too: a long queue or a large set
                // costs memory per state that the memo does not see.
                let compound_words = values.compound.size_words() / 2;
                if self.memo.size_words() + compound_words > MAX_CACHE_WORDS {
                    return Some(Finish::Unknown { time: false });
                }
            }
            if self.steps > steps {
                self.steps -= 1;
                return None;
            }
            let entry = self.entry;
            assert!(entry != NIL, "the list always ends with a return");
            let op = ((entry - 1) / 2) as usize;
            if entry % 2 == 1 {
                let before = self.before[op] as usize;
                let ready = before == NIL as usize
                    || self.linearised[before / 64] & (1u64 << (before % 64)) != 0;
                if ready && let Some(next_state) = values.step(self.state, self.calls[op]) {
                    let (word, bit) = (op / 64, 1u64 << (op % 64));
                    self.linearised[word] |= bit;
                    if self.compact {
                        self.key.added(op, &self.linearised);
                    }
                    let set_hash = self.set_hash ^ self.zobrist[op];
                    let key = set_hash ^ mix64(u64::from(next_state) ^ 0xa5a5_0000_0000);
                    let words = if self.compact {
                        self.key.of(&self.linearised)
                    } else {
                        &self.linearised
                    };
                    if self.memo.insert(key, words, next_state) {
                        self.set_hash = set_hash;
                        self.stack.push((entry, self.state));
                        self.state = next_state;
                        self.left -= usize::from(self.definite[op]);
                        self.list.unlink(entry);
                        self.list.unlink(entry + 1);
                        self.entry = self.list.next[HEAD as usize];
                        if self.left == 0
                            && let Some(finish) = self.piece_end()
                        {
                            return Some(finish);
                        }
                        continue;
                    }
                    self.linearised[word] &= !bit;
                    if self.compact {
                        self.key.removed(op);
                    }
                }
                self.entry = self.list.next[entry as usize];
            } else {
                // `op`'s return, and it is not linearised: undo the latest choice.
                let rank = self.list.rank[entry as usize];
                if rank > self.furthest_rank {
                    (self.furthest_rank, self.furthest_op) = (rank, op);
                }
                if !self.backtrack()
                    && let Some(finish) = self.start_exhausted()
                {
                    return Some(finish);
                }
            }
        }
    }
}
