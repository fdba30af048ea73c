//! `faultline fuzz`: one scenario over many seeds in parallel worker threads.
//!
//! Workers take the next seed from a shared counter, run it (see [`seed_scenario`]) and write
//! each failure to its file at once. What a seed does depends only on the scenario and the
//! seed, so the set of failures does not depend on the number of workers; it is sorted by
//! seed before it is reported. Only `stop_after` and `time_budget` look at the outside world,
//! and they only decide which seeds start.

use super::case::{Finding, check, seed_scenario, write_finding};
use super::seeds::{SeedRange, Shard, selected};
use crate::scenario::Scenario;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// Most worker threads.
pub const JOBS_MAX: usize = 1024;

/// What to sweep and how.
#[derive(Clone, Debug)]
pub struct FuzzOptions {
    pub seeds: SeedRange,
    pub shard: Option<Shard>,
    /// Worker threads, at least 1.
    pub jobs: usize,
    /// Failures are written under this directory.
    pub out: PathBuf,
    /// Start no new seed once this many have failed.
    pub stop_after: Option<usize>,
    /// Start no new seed once this much wall time has passed.
    pub time_budget: Option<Duration>,
    /// Show a progress bar on standard error when it is a terminal.
    pub progress: bool,
    /// The fuzzed file as given on the command line, for the headers of written files.
    pub source: String,
}

/// One failing seed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub seed: u64,
    pub property: String,
    pub message: String,
    /// The written scenario, which replays the failure.
    pub file: String,
}

/// What a sweep found.
#[derive(Clone, Debug, Serialize)]
pub struct FuzzReport {
    pub scenario: String,
    pub seeds_planned: u64,
    pub seeds_run: u64,
    /// Sorted by seed.
    pub failures: Vec<Failure>,
    pub wall_time_s: f64,
    pub seeds_per_second: f64,
    /// Why the sweep stopped before every planned seed ran, if it did.
    pub stopped_early: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum FuzzError {
    #[error("cannot write the failure of seed {seed} under {dir}: {error}")]
    Write {
        seed: u64,
        dir: String,
        error: std::io::Error,
    },
    #[error("the seed selection is empty")]
    NoSeeds,
}

struct Shared {
    seeds: Vec<u64>,
    next: AtomicUsize,
    done: AtomicUsize,
    stop: AtomicBool,
    failures: Mutex<Vec<Failure>>,
    error: Mutex<Option<FuzzError>>,
    stop_reason: Mutex<Option<String>>,
}

/// Runs the sweep.
pub fn fuzz(base: &Scenario, opts: &FuzzOptions) -> Result<FuzzReport, FuzzError> {
    let seeds: Vec<u64> = selected(opts.seeds, opts.shard).collect();
    if seeds.is_empty() {
        return Err(FuzzError::NoSeeds);
    }
    let shared = Shared {
        seeds,
        next: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        failures: Mutex::new(Vec::new()),
        error: Mutex::new(None),
        stop_reason: Mutex::new(None),
    };
    let bar = progress_bar(shared.seeds.len() as u64, opts.progress);
    #[allow(clippy::disallowed_methods)] // wall time only decides which seeds start
    let started = std::time::Instant::now();
    let jobs = opts.jobs.clamp(1, JOBS_MAX).min(shared.seeds.len());
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| worker(base, opts, &shared, &bar, started));
        }
    });
    bar.finish_and_clear();
    if let Some(e) = shared
        .error
        .into_inner()
        .expect("no worker panics holding it")
    {
        return Err(e);
    }
    let wall_time_s = started.elapsed().as_secs_f64();
    let mut failures = shared
        .failures
        .into_inner()
        .expect("no worker panics holding it");
    failures.sort_by_key(|f| f.seed);
    let seeds_run = shared.done.load(Ordering::SeqCst) as u64;
    Ok(FuzzReport {
        scenario: base.name.clone(),
        seeds_planned: shared.seeds.len() as u64,
        seeds_run,
        failures,
        wall_time_s,
        seeds_per_second: seeds_run as f64 / wall_time_s.max(1e-9),
        stopped_early: shared
            .stop_reason
            .into_inner()
            .expect("no worker panics holding it"),
    })
}

fn worker(
    base: &Scenario,
    opts: &FuzzOptions,
    shared: &Shared,
    bar: &ProgressBar,
    started: std::time::Instant,
) {
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        if let Some(budget) = opts.time_budget
            && started.elapsed() >= budget
        {
            stop(shared, format!("the time budget of {budget:?} ran out"));
            return;
        }
        let i = shared.next.fetch_add(1, Ordering::SeqCst);
        let Some(&seed) = shared.seeds.get(i) else {
            return;
        };
        let scenario = seed_scenario(base, seed);
        if let Some(finding) = check(&scenario) {
            record(opts, shared, &scenario, finding, bar);
        }
        shared.done.fetch_add(1, Ordering::SeqCst);
        bar.inc(1);
    }
}

fn record(opts: &FuzzOptions, shared: &Shared, s: &Scenario, finding: Finding, bar: &ProgressBar) {
    let file = match write_finding(&opts.out, s, &finding, &opts.source) {
        Ok(path) => path.display().to_string(),
        Err(error) => {
            let mut slot = shared.error.lock().expect("not poisoned");
            slot.get_or_insert(FuzzError::Write {
                seed: s.seed,
                dir: opts.out.display().to_string(),
                error,
            });
            shared.stop.store(true, Ordering::SeqCst);
            return;
        }
    };
    let mut failures = shared.failures.lock().expect("not poisoned");
    failures.push(Failure {
        seed: s.seed,
        property: finding.property,
        message: finding.message,
        file,
    });
    bar.set_message(format!("{} failures", failures.len()));
    if opts.stop_after.is_some_and(|n| failures.len() >= n) {
        drop(failures);
        stop(
            shared,
            "the failure limit (--stop-after) was reached".into(),
        );
    }
}

fn stop(shared: &Shared, reason: String) {
    shared.stop.store(true, Ordering::SeqCst);
    shared
        .stop_reason
        .lock()
        .expect("not poisoned")
        .get_or_insert(reason);
}

fn progress_bar(len: u64, wanted: bool) -> ProgressBar {
    if !wanted || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} seeds {pos}/{len} [{bar:30}] {per_sec} ETA {eta} {msg}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message("0 failures");
    bar
}

/// The report in words.
pub fn text(r: &FuzzReport) -> String {
    let mut out = format!(
        "fuzzed {}: {} of {} seeds in {:.1} s ({:.1} seeds/s), {} failing\n",
        r.scenario,
        r.seeds_run,
        r.seeds_planned,
        r.wall_time_s,
        r.seeds_per_second,
        r.failures.len()
    );
    if let Some(why) = &r.stopped_early {
        out.push_str(&format!("stopped early: {why}\n"));
    }
    for f in &r.failures {
        out.push_str(&format!(
            "  seed {:<8} {:<20} {}\n",
            f.seed, f.property, f.file
        ));
    }
    out
}
