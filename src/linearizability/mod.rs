//! Linearizability checking of operation histories.
//!
//! [`check`] drops the failed ops, splits the history by key (linearizability is compositional:
//! a history is linearizable iff each key's sub-history is, which Porcupine calls
//! P-compositionality), cuts each key's history where no op is pending ([`pieces`]), and runs
//! the Wing–Gong–Lowe search ([`search`]) on each piece in turn, keys in parallel, under a
//! wall-clock budget. Results are combined in a fixed order, so the verdict
//! and the operation it names never depend on thread timing. Before the search, indeterminate
//! reads, and indeterminate writes that no read observes, are set aside ([`reduce`]): they
//! cannot change the verdict.

mod calls;
pub mod compound;
pub mod fxhash;
pub mod memo;
pub mod model;
pub mod pieces;
pub mod queue;
pub mod reduce;
pub mod render;
pub mod search;
pub mod trie;

pub use model::ModelKind;
pub use pieces::Cutting;

use crate::history::{History, Op, ParseError, Status, Value};
use model::{Call, Values};
use pieces::Chain;
use reduce::SetAside;
use search::{Outcome, Partition};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// At most this many concurrent ops are named next to a failing one.
const MAX_CONCURRENT_REPORTED: usize = 8;

/// How to check.
#[derive(Clone, Debug)]
pub struct Options {
    pub model: ModelKind,
    /// The initial value of every key; `None` is the model's default (nil, or "" for kv).
    pub initial: Option<Value>,
    pub time_budget: Duration,
    /// Most search steps on one key before the verdict is `unknown`. Unlike the time budget,
    /// it gives the same verdict on every machine and under any load, which a simulated run's
    /// report needs; `u64::MAX` sets no such bound.
    pub steps_max: u64,
    /// Worker threads over partitions; 0 uses every core.
    pub threads: usize,
}

/// Why a history is not linearizable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// Index into `History::ops` of the op the search could not get past.
    pub op: usize,
    /// Indices into `History::ops` of the ops concurrent with it (a few).
    pub concurrent: Vec<usize>,
    pub key: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Linearizable,
    NotLinearizable(Failure),
    /// The budget ran out before a verdict; the reason in words.
    Unknown(String),
}

/// What the checker found, and what it cost.
#[derive(Clone, Debug)]
pub struct Report {
    pub verdict: Verdict,
    /// Ops checked (failed ops excluded).
    pub ops: usize,
    /// Failed ops removed before checking.
    pub removed: usize,
    /// Indeterminate reads left out of the search (see [`reduce`]); they are among `ops`,
    /// since the verdict holds for them too.
    pub info_reads_set_aside: usize,
    /// Indeterminate writes no read observes, left out of the search likewise.
    pub info_writes_set_aside: usize,
    pub partitions: usize,
    pub elapsed: Duration,
}

/// One op in words: `process 3: cas [1 2] -> false`.
pub fn describe(op: &Op) -> String {
    let outcome = match op.status {
        Status::Info => " (indeterminate)".to_string(),
        Status::Fail => " (failed)".to_string(),
        Status::Ok if op.output_unknown => " -> unknown".to_string(),
        Status::Ok if matches!(op.f.as_str(), "read" | "get" | "cas" | "dequeue") => {
            format!(" -> {}", op.output)
        }
        Status::Ok => String::new(),
    };
    let key = op
        .key
        .as_ref()
        .map(|k| format!(" key {k:?}"))
        .unwrap_or_default();
    // A completed transaction is shown as it completed, its reads filled in.
    if op.f == "txn" && op.status == Status::Ok {
        return format!("process {}: txn {}", op.process, op.output);
    }
    let input = if op.input == Value::Nil {
        String::new()
    } else {
        format!(" {}", op.input)
    };
    format!("process {}: {}{key}{input}{outcome}", op.process, op.f)
}

/// A history split by key, ready to search: what [`check_split`] needs, whichever form the
/// history came in (a parsed file, or a simulation's own record of its clients).
#[derive(Default)]
pub struct Split {
    /// One per key, in order of each key's first op.
    pub parts: Vec<Partition>,
    /// For each partition, the indices of its ops in the history, ascending.
    pub members: Vec<Vec<usize>>,
    /// For each partition, its key as the history names it.
    pub keys: Vec<Option<String>>,
    /// Failed ops left out.
    pub removed: usize,
}

impl Split {
    /// Adds a partition for `key`, whose model state starts at `initial` (an empty
    /// collection if `None`), with room for `ops_reserved` ops; returns its index.
    pub fn add_partition(
        &mut self,
        key: Option<String>,
        initial: Option<&Value>,
        ops_reserved: usize,
    ) -> usize {
        let mut values = Values::new();
        let initial = match initial {
            Some(value) => values.intern(value),
            None => compound::Compound::EMPTY,
        };
        self.parts.push(Partition {
            calls: Vec::with_capacity(ops_reserved),
            call_pos: Vec::with_capacity(ops_reserved),
            return_pos: Vec::with_capacity(ops_reserved),
            values,
            initial,
        });
        self.members.push(Vec::with_capacity(ops_reserved));
        self.keys.push(key);
        self.parts.len() - 1
    }

    /// Adds op `index` of the history, whose call is `call`, to partition `at`.
    pub fn push(&mut self, at: usize, index: usize, call: Call, span: (usize, Option<usize>)) {
        let part = &mut self.parts[at];
        part.calls.push(call);
        part.call_pos.push(span.0);
        part.return_pos.push(span.1);
        self.members[at].push(index);
    }
}

/// Splits the history by key (for the multi-register, by groups of keys no transaction
/// joins), in order of each partition's first op.
fn partition(path: &str, history: &History, options: &Options) -> Result<Split, ParseError> {
    let model = options.model;
    if let (Some(refused), Some(_)) = (model.initial_refused(), &options.initial) {
        return Err(ParseError {
            path: path.to_string(),
            line: 1,
            column: 1,
            message: refused.to_string(),
        });
    }
    let initial = match model.is_collection() {
        true => None,
        false => Some(
            options
                .initial
                .clone()
                .unwrap_or_else(|| model.default_initial()),
        ),
    };
    let groups = match model.keyed() {
        true => Vec::new(),
        false => calls::key_groups(history),
    };
    let mut index_of: BTreeMap<(Option<&str>, Option<usize>), usize> = BTreeMap::new();
    let mut split = Split::default();
    for (i, op) in history.ops.iter().enumerate() {
        if op.status == Status::Fail {
            split.removed += 1;
            continue;
        }
        let key = match model.keyed() {
            true => op.key.as_deref(),
            false => None,
        };
        let part = (key, groups.get(i).copied().flatten());
        let at = *index_of.entry(part).or_insert_with(|| {
            let at = split.add_partition(key.map(str::to_string), initial.as_ref(), 0);
            if model == ModelKind::MultiRegister {
                // Every key holds this until a transaction writes it.
                let values = &mut split.parts[at].values;
                let unwritten = options.initial.as_ref().unwrap_or(&Value::Nil);
                values.compound.unwritten = Some(values.intern(unwritten));
            }
            at
        });
        let values = &mut split.parts[at].values;
        let call = calls::to_call(path, op, model, values, history.unknown_nil)?;
        split.push(at, i, call, (op.invoke_index, op.return_index));
    }
    Ok(split)
}

/// Below this many ops in all, one thread does the first round: for a small history, spawning
/// workers (~0.1 ms) costs more than the whole search. Later rounds only run for partitions
/// that proved hard, so they always use the workers.
const MIN_OPS_FOR_THREADS: usize = 1000;

/// Each partition's first round may take this many search steps; later rounds double it.
const FIRST_ROUND_STEPS: u64 = 1 << 14;

/// Runs the search on every partition with up to `threads` workers, in rounds of a growing
/// number of steps, until every partition has a verdict or one is not linearizable. A round's
/// results depend only on step counts, so which partitions fail first never depends on thread
/// timing; the rest are cancelled (`None`), since one failure settles the verdict.
/// `in_order`: try interchangeable indefinite ops in invocation order only
/// ([`search::predecessors`]).
fn search_all(
    parts: &mut [Partition],
    threads: usize,
    deadline: Instant,
    cutting: Cutting,
    steps_max: u64,
    in_order: bool,
) -> (Vec<Option<Outcome>>, bool) {
    // Reading the wall clock is fine here: it only stops a search, it never shapes a simulation.
    #[allow(clippy::disallowed_methods)]
    let out_of_time = || Instant::now() >= deadline;
    let mut searches: Vec<Chain> = parts
        .iter()
        .map(|p| Chain::new(p, cutting, in_order))
        .collect();
    let mut results: Vec<Option<Outcome>> = vec![None; parts.len()];
    let mut limit = FIRST_ROUND_STEPS.min(steps_max);
    let mut out_of_steps = false;
    // Steps double each round, so 64 rounds reach any u64 step count.
    for _round in 0..64 {
        let mut pending: Vec<(usize, &mut Chain, &mut Partition)> = searches
            .iter_mut()
            .zip(parts.iter_mut())
            .enumerate()
            .filter(|(i, _)| results[*i].is_none())
            .map(|(i, (s, p))| (i, s, p))
            .collect();
        if pending.is_empty() {
            break;
        }
        for (i, outcome) in run_round(&mut pending, threads, limit, &out_of_time) {
            results[i] = outcome;
        }
        if results
            .iter()
            .any(|r| matches!(r, Some(Outcome::NotLinearizable { .. })))
        {
            break;
        }
        if limit >= steps_max {
            out_of_steps = results.iter().any(Option::is_none);
            break;
        }
        limit = limit.saturating_mul(2).min(steps_max);
    }
    (results, out_of_steps)
}

type Job<'a> = (usize, &'a mut Chain, &'a mut Partition);

/// One round: every pending search runs up to `limit` steps; results in any order.
fn run_round(
    pending: &mut [Job<'_>],
    threads: usize,
    limit: u64,
    out_of_time: &(dyn Fn() -> bool + Sync),
) -> Vec<(usize, Option<Outcome>)> {
    let ops: usize = pending.iter().map(|(_, _, p)| p.calls.len()).sum();
    let threads = if ops < MIN_OPS_FOR_THREADS && limit == FIRST_ROUND_STEPS {
        1
    } else {
        threads.clamp(1, pending.len())
    };
    if threads == 1 {
        return pending
            .iter_mut()
            .map(|(i, s, p)| (*i, s.run(p, limit, out_of_time)))
            .collect();
    }
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<&mut Job<'_>>> = pending.iter_mut().map(Mutex::new).collect();
    let mut done = Vec::with_capacity(slots.len());
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    while let Some(slot) = slots.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let mut job = slot.lock().expect("each job is taken once");
                        let (i, s, p) = &mut **job;
                        mine.push((*i, s.run(p, limit, out_of_time)));
                    }
                    mine
                })
            })
            .collect();
        for worker in workers {
            done.extend(worker.join().expect("the search does not panic"));
        }
    });
    done
}

/// The ops of partition `p` whose intervals overlap its op `bad`'s, as indices into the
/// history (`members`), the ops set aside before the search included; the first few.
fn concurrent_with(p: &Partition, members: &[usize], aside: &SetAside, bad: usize) -> Vec<usize> {
    let end = |i: usize| p.return_pos[i].unwrap_or(usize::MAX);
    let mut found: Vec<usize> = (0..members.len())
        .filter(|&i| i != bad)
        .filter(|&i| p.call_pos[i] < end(bad) && p.call_pos[bad] < end(i))
        .take(MAX_CONCURRENT_REPORTED)
        .map(|i| members[i])
        .collect();
    // A set-aside op never returns, so it overlaps every op that returns after its call.
    let overlapping = aside.members.iter().zip(&aside.call_pos);
    found.extend(
        overlapping
            .filter(|&(_, &call)| call < end(bad))
            .take(MAX_CONCURRENT_REPORTED)
            .map(|(&m, _)| m),
    );
    // Both lists ascend, so the first few of their union are among the first few of each.
    found.sort_unstable();
    found.truncate(MAX_CONCURRENT_REPORTED);
    found
}

/// Checks `history` (read from `path`, named in errors) against `options.model`, each key cut
/// at its quiescent points ([`Cutting::DEFAULT`]).
pub fn check(path: &str, history: &History, options: &Options) -> Result<Report, ParseError> {
    check_cutting(path, history, options, Cutting::DEFAULT)
}

/// [`check`] with the given cutting; the verdict is the same for any (see [`pieces`]), only
/// the memory and time it takes differ.
pub fn check_cutting(
    path: &str,
    history: &History,
    options: &Options,
    cutting: Cutting,
) -> Result<Report, ParseError> {
    check_reducing(path, history, options, cutting, true)
}

/// [`check_cutting`] with or without (`reduce`) the two reductions of indeterminate ops: those
/// [`reduce`] names set aside, and interchangeable ones tried in invocation order only
/// ([`search::predecessors`]). The verdict is the same either way, which tests compare.
pub(crate) fn check_reducing(
    path: &str,
    history: &History,
    options: &Options,
    cutting: Cutting,
    reduce: bool,
) -> Result<Report, ParseError> {
    #[allow(clippy::disallowed_methods)] // Measures the check and bounds it; never shapes a run.
    let start = Instant::now();
    let split = partition(path, history, options)?;
    Ok(search_split(split, options, cutting, start, reduce))
}

/// Checks a history already split by key (see [`Split`]) against `options.model`; `start` is
/// when the check began, for its budget and its reported time.
pub fn check_split(split: Split, options: &Options, cutting: Cutting, start: Instant) -> Report {
    search_split(split, options, cutting, start, true)
}

/// [`check_split`], with the reductions of indeterminate ops if `reduce` (see
/// [`check_reducing`]).
fn search_split(
    split: Split,
    options: &Options,
    cutting: Cutting,
    start: Instant,
    reduce: bool,
) -> Report {
    let Split {
        mut parts,
        mut members,
        keys,
        removed,
    } = split;
    let aside: Vec<SetAside> = if reduce {
        let all = parts.iter_mut().zip(members.iter_mut());
        all.map(|(p, m)| reduce::set_aside_indeterminate(p, m))
            .collect()
    } else {
        vec![SetAside::default(); parts.len()]
    };
    let set_aside = aside.iter().map(|a| a.members.len()).sum::<usize>();
    let info_reads_set_aside = aside.iter().map(|a| a.reads).sum::<usize>();
    let ops = set_aside + parts.iter().map(|p| p.calls.len()).sum::<usize>();
    let threads = match options.threads {
        0 => cores(),
        n => n,
    };
    let deadline = start + options.time_budget;
    let (outcomes, out_of_steps) = search_all(
        &mut parts,
        threads,
        deadline,
        cutting,
        options.steps_max,
        reduce,
    );
    let mut verdict = combine(&outcomes, &parts, |at, bad| Failure {
        op: members[at][bad],
        concurrent: concurrent_with(&parts[at], &members[at], &aside[at], bad),
        key: keys[at].clone(),
    });
    if out_of_steps && verdict == Verdict::Linearizable {
        verdict = Verdict::Unknown(format!(
            "the step budget ({} search steps on a key) ran out before a verdict",
            options.steps_max
        ));
    }
    #[allow(clippy::disallowed_methods)] // As above: measurement only.
    let elapsed = start.elapsed();
    Report {
        verdict,
        ops,
        removed,
        info_reads_set_aside,
        info_writes_set_aside: set_aside - info_reads_set_aside,
        partitions: parts.len(),
        elapsed,
    }
}

/// The verdict of the partitions' outcomes: the failing op invoked first, described by
/// `failure(partition, op within it)`, else unknown if any ran out of budget.
fn combine(
    outcomes: &[Option<Outcome>],
    parts: &[Partition],
    failure: impl Fn(usize, usize) -> Failure,
) -> Verdict {
    let mut verdict = Verdict::Linearizable;
    // The failing op invoked first, as (partition, op within it).
    let mut first_bad: Option<(usize, usize)> = None;
    for (at, outcome) in outcomes.iter().enumerate() {
        match outcome {
            Some(Outcome::NotLinearizable { op }) => {
                let invoked = |(p, o): (usize, usize)| parts[p].call_pos[o];
                if first_bad.is_none_or(|f| invoked(f) > invoked((at, *op))) {
                    first_bad = Some((at, *op));
                }
            }
            Some(Outcome::Unknown { time }) if verdict == Verdict::Linearizable => {
                let what = if *time {
                    "the time budget"
                } else {
                    "the memory budget (1 GiB of search states)"
                };
                verdict = Verdict::Unknown(format!("{what} ran out before a verdict"));
            }
            _ => {}
        }
    }
    match first_bad {
        Some((at, bad)) => Verdict::NotLinearizable(failure(at, bad)),
        None => verdict,
    }
}

/// The cores the search may use, asked of the system once: the answer reads files under
/// `/proc` and `/sys`, which a sweep that checks thousands of short histories should not
/// pay for each time.
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}
