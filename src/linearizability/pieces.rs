//! Checking one key's history piece by piece, cut at quiescent points.
//!
//! The search's memo holds one bitset over the key's ops per configuration, so searching a key
//! of n ops at once takes memory in n² for even a purely sequential history (100,000 writes
//! fill 1 GiB). Cutting the history where nothing is pending bounds the memo by a piece instead.
//!
//! **Cuts.** A cut before op `i` (ops in invocation order) is *quiescent* when every definite
//! op (one that completed: `ok`) invoked before `i` returned before `i` and every later op
//! was invoked. Indefinite ops (`info`, or never completed) are ignored for this: they are
//! pending forever, and are carried across cuts instead (below).
//!
//! **Soundness.** Call a *configuration* the pair (set of linearised ops, model state). In any
//! linearisation, every definite op before a cut is linearised before every op after it: the
//! former returned before the latter were invoked. So a linearisation of the whole history is
//! a linearisation of the ops before the cut that ends in some configuration C where all
//! definite ops before the cut are linearised, followed by a linearisation of the rest from C.
//! Conversely any such pair of linearisations joins into one of the whole history, since the
//! real-time order only ties ops on one side of the cut to each other or across it in that
//! direction. C is one of the *end configurations* of the piece before the cut: its state, and
//! which indefinite ops it has not linearised yet (they may still take effect later, so the
//! next piece holds them, invoked before its first op and never returning). Searching each
//! piece in turn from the set of end configurations of the previous one, and every piece but
//! the last to exhaustion, therefore decides exactly what the search of the whole key decides.
//! Two reductions keep that set small without changing what it allows:
//! - an indefinite read that is still open is dropped from the configuration: it changes no
//!   state and constrains nothing, so linearising it now or later is the same;
//! - of two end configurations with the same state, one whose open indefinite ops include the
//!   other's allows everything the other does (the extra ops may simply take effect last,
//!   which any op can do when nothing completes after it), so the other is dropped.
//!
//! When the set would hold more than `max_cut_states` configurations, or more than
//! [`MAX_CARRIED`] open indefinite ops, the cut is not made and the piece runs on to the next
//! quiescent point. A piece that takes more than `max_piece_steps` to enumerate (one with much
//! concurrency, where the first linearisation comes long before the last) stops cutting: the
//! rest of the key is searched as one piece, as without cutting.
//!
//! **The op named on failure** is the same as without cutting: the whole-key search, when it
//! fails, enters every reachable configuration and names the op whose return is the furthest
//! any of them met; configurations of a piece meet only that piece's returns (an unlinearised
//! definite op of the piece returns before the cut), later pieces' returns are further, and a
//! piece is searched only when every earlier one can end. So the furthest return is met in the
//! first piece that cannot end, which searches the same configurations.

use super::model::Call;
use super::search::{End, Finish, Outcome, Partition, Piece, Search, Start};

/// At most this many indefinite ops are carried open across a cut.
pub const MAX_CARRIED: usize = 64;

/// Whether and how a key's history is cut at quiescent points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cutting {
    pub enabled: bool,
    /// A piece runs on to the first quiescent point after this many ops.
    pub min_piece_ops: usize,
    /// Most end configurations carried across a cut.
    pub max_cut_states: usize,
    /// Most search steps spent enumerating the end configurations before one cut.
    pub max_piece_steps: u64,
    /// Memo entries in the compact form however short the piece (slower on short keys; for
    /// tests of that form).
    pub force_compact_memo: bool,
}

impl Cutting {
    /// What [`super::check`] uses.
    pub const DEFAULT: Cutting = Cutting {
        enabled: true,
        min_piece_ops: 1024,
        max_cut_states: 64,
        max_piece_steps: 1 << 16,
        force_compact_memo: false,
    };
    /// The whole key as one piece.
    pub const OFF: Cutting = Cutting {
        enabled: false,
        ..Cutting::DEFAULT
    };
}

/// The ops before which a quiescent cut lies, ascending (never 0).
pub fn quiescent_cuts(p: &Partition) -> Vec<usize> {
    let n = p.calls.len();
    // The earliest invocation at or after each op, should ops not be in invocation order.
    let mut first_call_from = vec![usize::MAX; n + 1];
    for i in (0..n).rev() {
        first_call_from[i] = first_call_from[i + 1].min(p.call_pos[i]);
    }
    let mut reach: Option<usize> = None;
    let mut cuts = Vec::new();
    for (i, (&first_call, ret)) in first_call_from.iter().zip(&p.return_pos).enumerate() {
        if i > 0 && reach.is_none_or(|r| r < first_call) {
            cuts.push(i);
        }
        if let Some(ret) = *ret {
            reach = Some(reach.map_or(ret, |r| r.max(ret)));
        }
    }
    cuts
}

/// A configuration at a cut, in the partition's op indices.
#[derive(Clone, Debug, PartialEq, Eq)]
struct CutState {
    state: u32,
    /// Indefinite ops invoked before the cut and not linearised, ascending.
    open: Vec<usize>,
}

/// The piece being searched.
struct Current {
    search: Search,
    /// Partition index of each of the piece's ops.
    ops: Vec<usize>,
    /// The op after the piece (the partition's length for the last piece).
    end: usize,
}

/// One key's search, piece by piece; [`Chain::run`] resumes it for a number of steps.
pub struct Chain {
    cutting: Cutting,
    /// Whether interchangeable indefinite ops are tried in invocation order only (see
    /// [`super::search::predecessors`]).
    in_order: bool,
    cuts: Vec<usize>,
    /// The first op of the piece being searched.
    at: usize,
    /// The configurations the history can be in at `at`.
    states: Vec<CutState>,
    current: Option<Current>,
    /// Steps counted when the search reached `at` (for `max_piece_steps`).
    steps_at: u64,
    steps: u64,
}

impl Chain {
    pub fn new(p: &Partition, cutting: Cutting, in_order: bool) -> Chain {
        let cuts = if cutting.enabled {
            quiescent_cuts(p)
        } else {
            Vec::new()
        };
        Chain {
            cutting,
            in_order,
            cuts,
            at: 0,
            states: vec![CutState {
                state: p.initial,
                open: Vec::new(),
            }],
            current: None,
            steps_at: 0,
            steps: 0,
        }
    }

    /// How many pieces a piece starting at `at` reaches: the first cut at least
    /// `min_piece_ops` on, and after `after`.
    fn piece_end(&self, after: usize, n: usize) -> usize {
        let from = after.max(self.at + self.cutting.min_piece_ops.max(1));
        let i = self.cuts.partition_point(|&c| c < from);
        self.cuts.get(i).copied().unwrap_or(n)
    }

    /// Builds the search of ops `at..end` from `self.states`.
    fn start_piece(&mut self, p: &Partition, end: usize) {
        let n = p.calls.len();
        let mut ops: Vec<usize> = Vec::new();
        for s in &self.states {
            ops.extend(&s.open);
        }
        ops.sort_unstable();
        ops.dedup();
        let carried = ops.len();
        ops.extend(self.at..end);
        let starts = self
            .states
            .iter()
            .map(|s| Start {
                state: s.state,
                linearised: (0..carried as u32)
                    .filter(|&l| s.open.binary_search(&ops[l as usize]).is_err())
                    .collect(),
            })
            .collect();
        let piece = Piece {
            calls: ops.iter().map(|&i| p.calls[i]).collect(),
            call_pos: ops.iter().map(|&i| p.call_pos[i]).collect(),
            return_pos: ops.iter().map(|&i| p.return_pos[i]).collect(),
            enumerate: end < n,
            force_compact: self.cutting.force_compact_memo,
            in_order: self.in_order,
        };
        let max_ends = 4 * self.cutting.max_cut_states;
        let search = Search::new(piece, starts, self.steps, max_ends);
        self.current = Some(Current { search, ops, end });
    }

    /// Runs until a verdict or until `limit` steps in all (`None`: not finished yet).
    pub fn run(
        &mut self,
        p: &mut Partition,
        limit: u64,
        out_of_time: &dyn Fn() -> bool,
    ) -> Option<Outcome> {
        let n = p.calls.len();
        loop {
            if self.current.is_none() {
                let end = self.piece_end(self.at + 1, n);
                self.start_piece(p, end);
            }
            let current = self.current.as_mut()?;
            let enumerating = current.end < n;
            let cap = if enumerating {
                limit.min(self.steps_at.saturating_add(self.cutting.max_piece_steps))
            } else {
                limit
            };
            let finish = current.search.run(&mut p.values, cap, out_of_time);
            self.steps = current.search.steps();
            let (end, ops) = (current.end, std::mem::take(&mut current.ops));
            match finish {
                None if self.steps < limit => {
                    // Enumerating this piece costs too much: the rest is one piece.
                    self.cuts.clear();
                    self.start_piece(p, n);
                }
                None => {
                    self.current.as_mut()?.ops = ops;
                    return None;
                }
                Some(Finish::Linearizable) => return Some(Outcome::Linearizable),
                Some(Finish::NotLinearizable { op }) => {
                    return Some(Outcome::NotLinearizable { op: ops[op] });
                }
                Some(Finish::Unknown { time }) => return Some(Outcome::Unknown { time }),
                Some(Finish::TooManyEnds) => self.start_piece(p, self.piece_end(end + 1, n)),
                Some(Finish::Ends(ends)) => match self.cut_states(p, &ops, ends) {
                    Some(states) => {
                        (self.states, self.at, self.steps_at) = (states, end, self.steps);
                        self.current = None;
                    }
                    None => self.start_piece(p, self.piece_end(end + 1, n)),
                },
            }
        }
    }

    /// The configurations at the cut after a piece, reduced; `None` if there are too many.
    fn cut_states(&self, p: &Partition, ops: &[usize], ends: Vec<End>) -> Option<Vec<CutState>> {
        let mut states: Vec<CutState> = ends
            .into_iter()
            .map(|e| CutState {
                state: e.state,
                open: e
                    .open
                    .iter()
                    .map(|&l| ops[l as usize])
                    .filter(|&i| !matches!(p.calls[i], Call::Read { .. }))
                    .collect(),
            })
            .collect();
        // Larger open sets first, so that a dominated configuration meets its dominator first.
        states.sort_by(|a, b| {
            (a.state, b.open.len(), &a.open).cmp(&(b.state, a.open.len(), &b.open))
        });
        let mut kept: Vec<CutState> = Vec::new();
        for s in states {
            let dominated = kept.iter().any(|k| {
                k.state == s.state && s.open.iter().all(|i| k.open.binary_search(i).is_ok())
            });
            if !dominated {
                kept.push(s);
            }
        }
        let mut carried: Vec<usize> = kept.iter().flat_map(|s| s.open.iter().copied()).collect();
        carried.sort_unstable();
        carried.dedup();
        let fits = kept.len() <= self.cutting.max_cut_states && carried.len() <= MAX_CARRIED;
        fits.then_some(kept)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Options, Verdict, check, check_cutting};
    use super::*;
    use crate::history::{History, Op, Status, Value};
    use std::time::Duration;

    /// An op of `f` on one key, invoked at event `at` and returning at `ret` (`None`: info).
    fn op(f: &str, input: i64, output: Option<i64>, at: usize, ret: Option<usize>) -> Op {
        Op {
            process: at as u64,
            f: f.to_string(),
            key: None,
            input: if f == "write" {
                Value::Int(input)
            } else {
                Value::Nil
            },
            output: output.map_or(Value::Nil, Value::Int),
            output_unknown: false,
            status: if ret.is_some() {
                Status::Ok
            } else {
                Status::Info
            },
            invoke_index: at,
            invoke_line: at + 1,
            invoke_column: 1,
            return_index: ret,
            jepsen_index: None,
        }
    }

    /// `ops` sequential ops: a write of `i % 5`, then a read of it, and so on.
    fn sequential(ops: usize) -> History {
        let ops: Vec<Op> = (0..ops)
            .map(|i| {
                let v = (i / 2 % 5) as i64;
                let f = if i % 2 == 0 { "write" } else { "read" };
                let out = (f == "read").then_some(v);
                op(f, v, out, 2 * i, Some(2 * i + 1))
            })
            .collect();
        let events = 2 * ops.len();
        History {
            ops,
            numbering: Default::default(),
            events,
            unknown_nil: false,
        }
    }

    fn options() -> Options {
        Options {
            model: crate::linearizability::ModelKind::Register,
            initial: Some(Value::Int(0)),
            time_budget: Duration::from_secs(600),
            steps_max: u64::MAX,
            threads: 1,
        }
    }

    fn partition_of(h: &History) -> Partition {
        let mut split = super::super::partition("h", h, &options()).expect("valid");
        split.parts.remove(0)
    }

    #[test]
    fn linearizability_cuts_where_nothing_definite_is_pending() {
        // 0: [0,3] overlaps 1: [1,2]; 2 starts after both; 3 is info; 4 starts after 2 returned.
        let h = History {
            ops: vec![
                op("write", 1, None, 0, Some(3)),
                op("read", 0, Some(1), 1, Some(2)),
                op("write", 2, None, 4, Some(5)),
                op("write", 3, None, 6, None),
                op("read", 0, Some(3), 7, Some(8)),
            ],
            numbering: Default::default(),
            events: 9,
            unknown_nil: false,
        };
        assert_eq!(quiescent_cuts(&partition_of(&h)), vec![2, 3, 4]);
    }

    #[test]
    fn linearizability_compact_memo_tells_apart_an_open_indefinite_op() {
        // The write of 5 never returns; it must take effect after the read of 1, for the read
        // of 5. Linearising it first and linearising only `write 1` end at the same frontier
        // and state: only its bit in the key (besides the hash) tells the two apart.
        let h = History {
            ops: vec![
                op("write", 5, None, 0, None),
                op("write", 1, None, 1, Some(2)),
                op("read", 0, Some(1), 3, Some(4)),
                op("read", 0, Some(5), 5, Some(6)),
            ],
            numbering: Default::default(),
            events: 7,
            unknown_nil: false,
        };
        let compact = Cutting {
            force_compact_memo: true,
            ..Cutting::DEFAULT
        };
        let report = check_cutting("h", &h, &options(), compact).expect("valid");
        assert_eq!(report.verdict, Verdict::Linearizable);
    }

    #[test]
    fn linearizability_of_a_million_sequential_ops_fits_in_memory() {
        let h = sequential(1_000_000);
        let report = check("h", &h, &options()).expect("valid");
        assert_eq!(report.verdict, Verdict::Linearizable);
    }

    #[test]
    fn linearizability_failure_deep_in_a_long_history_is_named() {
        let mut h = sequential(200_000);
        // A stale read: op 150,001 reads what op 149,998 wrote, not what op 150,000 did.
        h.ops[150_001].output = Value::Int((149_998 / 2 % 5) as i64);
        // An info write early on, open forever, which could explain nothing later.
        h.ops[10].status = Status::Info;
        h.ops[10].return_index = None;
        let cut = check("h", &h, &options()).expect("valid");
        let Verdict::NotLinearizable(failure) = &cut.verdict else {
            panic!("{:?}", cut.verdict);
        };
        assert_eq!(failure.op, 150_001);
        let whole = check_cutting("h", &h, &options(), Cutting::OFF).expect("valid");
        assert_eq!(whole.verdict, cut.verdict);
    }
}
