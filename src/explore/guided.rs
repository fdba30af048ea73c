//! `faultline fuzz --strategy coverage`: the coverage-guided search ([`super::coverage`]) as a
//! sweep.
//!
//! Candidates run in batches of [`BATCH`]: a batch is drawn from the corpus as it stood when
//! the batch began, run on the worker threads, and its runs observed in candidate order (the
//! corpus grows, failures are written, `stop_after` counts). What the sweep finds therefore
//! depends on the seed range alone, not on `jobs`. A candidate depends on the runs before it,
//! so the sweep can be neither sharded nor resumed, and it keeps no progress file. Only
//! `time_budget` and `seed_time_max` look at the outside world, as in [`mod@super::fuzz`].

use super::case::{Finding, SeedOutcome, write_candidate};
use super::coverage::{BATCH, CoverageSearch, check_covered};
use super::fuzz::{Failure, FuzzError, FuzzOptions, FuzzReport, progress_bar, seed_deadline};
use super::seeds::{SeedSet, selected};
use crate::scenario::Scenario;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// What a guided sweep has found so far.
#[derive(Default)]
struct Tally {
    failures: Vec<Failure>,
    timeouts: Vec<u64>,
    finished: Vec<u64>,
    stop_reason: Option<String>,
}

/// Runs the coverage-guided sweep over `opts.seeds` (candidate `i` for each seed `i`).
pub fn fuzz_coverage(base: &Scenario, opts: &FuzzOptions) -> Result<FuzzReport, FuzzError> {
    let refuse = |flag: &str| {
        Err(FuzzError::Strategy(format!(
            "`--strategy coverage` cannot take {flag}: each candidate depends on the runs \
             before it"
        )))
    };
    if opts.shard.is_some() {
        return refuse("--shard");
    }
    if opts.resume {
        return refuse("--resume");
    }
    let planned: Vec<u64> = selected(opts.seeds, None).collect();
    if planned.is_empty() {
        return Err(FuzzError::NoSeeds);
    }
    std::fs::create_dir_all(&opts.out).map_err(|error| FuzzError::Write {
        seed: planned[0],
        dir: opts.out.display().to_string(),
        error,
    })?;
    let mut search = CoverageSearch::new(super::prepare(base));
    let bar = progress_bar(planned.len() as u64, opts.progress);
    #[allow(clippy::disallowed_methods)] // wall time only decides which candidates start
    let started = Instant::now();
    let mut tally = Tally::default();
    for ids in planned.chunks(BATCH) {
        if over_budget(opts, started) {
            tally.stop_reason = Some(budget_ran_out(opts));
            break;
        }
        let candidates = search.batch(ids);
        let runs = run_batch(&candidates, opts, started);
        for ((&i, candidate), run) in ids.iter().zip(candidates).zip(runs) {
            let Some((outcome, features)) = run else {
                tally.stop_reason = Some(budget_ran_out(opts));
                break;
            };
            match outcome {
                SeedOutcome::TimedOut => {
                    tally.timeouts.push(i);
                    continue;
                }
                SeedOutcome::Failed(finding) => record(opts, &mut tally, i, &candidate, finding)?,
                SeedOutcome::Passed => {}
            }
            tally.finished.push(i);
            bar.inc(1);
            search.observe(candidate, &features);
            if opts.stop_after.is_some_and(|n| tally.failures.len() >= n) {
                tally.stop_reason = Some("the failure limit (--stop-after) was reached".into());
                break;
            }
        }
        bar.set_message(format!("{} failures", tally.failures.len()));
        if tally.stop_reason.is_some() {
            break;
        }
    }
    bar.finish_and_clear();
    report(base, opts, planned.len(), tally, started)
}

fn over_budget(opts: &FuzzOptions, started: Instant) -> bool {
    opts.time_budget
        .is_some_and(|budget| started.elapsed() >= budget)
}

fn budget_ran_out(opts: &FuzzOptions) -> String {
    let budget = opts.time_budget.unwrap_or_default();
    format!("the time budget of {budget:?} ran out")
}

/// What one candidate's run did; `None` when the time budget ran out before it started.
type Run = Option<(SeedOutcome, BTreeSet<u64>)>;

/// Runs one batch on up to `opts.jobs` threads; the results in candidate order.
fn run_batch(candidates: &[Scenario], opts: &FuzzOptions, started: Instant) -> Vec<Run> {
    let next = AtomicUsize::new(0);
    let jobs = opts
        .jobs
        .clamp(1, super::fuzz::JOBS_MAX)
        .min(candidates.len());
    let work = || {
        let mut mine = Vec::new();
        loop {
            let k = next.fetch_add(1, Ordering::SeqCst);
            let Some(c) = candidates.get(k) else {
                return mine;
            };
            let run = (!over_budget(opts, started))
                .then(|| check_covered(c, seed_deadline(opts, started)));
            mine.push((k, run));
        }
    };
    let mut runs: Vec<(usize, Run)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..jobs).map(|_| scope.spawn(work)).collect();
        workers
            .into_iter()
            // A protocol's panic is caught by its run; a worker has nothing else to panic on.
            .flat_map(|w| w.join().expect("a worker does not panic"))
            .collect()
    });
    runs.sort_by_key(|(k, _)| *k);
    runs.into_iter().map(|(_, r)| r).collect()
}

fn record(
    opts: &FuzzOptions,
    tally: &mut Tally,
    index: u64,
    s: &Scenario,
    finding: Finding,
) -> Result<(), FuzzError> {
    let path = write_candidate(&opts.out, s, &finding, &opts.source, index).map_err(|error| {
        FuzzError::Write {
            seed: index,
            dir: opts.out.display().to_string(),
            error,
        }
    })?;
    tally.failures.push(Failure {
        seed: index,
        property: finding.property,
        message: finding.message,
        file: path.display().to_string(),
    });
    Ok(())
}

fn report(
    base: &Scenario,
    opts: &FuzzOptions,
    planned: usize,
    tally: Tally,
    started: Instant,
) -> Result<FuzzReport, FuzzError> {
    if tally.finished.is_empty() {
        let why = tally.stop_reason.unwrap_or_else(|| {
            format!(
                "every candidate that started ({}) was stopped by the wall-time limit",
                tally.timeouts.len()
            )
        });
        return Err(FuzzError::NothingFuzzed(format!(
            "{why} before the first of {planned} candidates finished"
        )));
    }
    let wall_time_s = started.elapsed().as_secs_f64();
    Ok(FuzzReport {
        scenario: base.name.clone(),
        seeds_planned: planned as u64,
        seeds_run: tally.finished.len() as u64,
        seeds_resumed: 0,
        failures: tally.failures,
        wall_time_s,
        seeds_per_second: tally.finished.len() as f64 / wall_time_s.max(1e-9),
        stopped_early: tally.stop_reason,
        seed_sets: vec![SeedSet {
            seeds: opts.seeds,
            shard: None,
        }],
        timeouts: tally.timeouts,
        seeds: tally.finished,
    })
}
