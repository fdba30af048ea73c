//! `faultline fuzz`: one scenario over many seeds in parallel worker threads.
//!
//! Workers take the next seed from a shared counter, run it (see [`strategy_scenario`]) and write
//! each failure to its file at once. What a seed does depends only on the scenario and the
//! seed, so the set of failures does not depend on the number of workers; it is sorted by
//! seed before it is reported. Only `stop_after`, `time_budget` and `seed_time_max` look at the
//! outside world: they decide which seeds start, and stop a seed that runs too long, which is
//! then reported as timed out, never judged.

use super::case::{Finding, SeedOutcome, Strategy, check_by, strategy_scenario, write_finding};
use super::seeds::{SeedRange, SeedSet, Shard, selected};
pub use super::summary::{TEXT_SEEDS_PER_PROPERTY_MAX, junit, text, xml_escape};
use crate::scenario::Scenario;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
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
    /// Start no new seed once this much wall time has passed, and stop the seeds still
    /// running then (they are reported as timed out, not as failures).
    pub time_budget: Option<Duration>,
    /// Stop a seed that runs longer than this (wall time): reported as timed out.
    pub seed_time_max: Option<Duration>,
    /// Show a progress bar on standard error when it is a terminal.
    pub progress: bool,
    /// The fuzzed file as given on the command line, for the headers of written files.
    pub source: String,
    /// Skip the seeds that `out/progress` records as finished, and report their failures from
    /// the files under `out`.
    pub resume: bool,
    /// What each seed runs beyond its own draws.
    pub strategy: Strategy,
}

/// The file under `out` that lists finished seeds, one a line.
pub const PROGRESS_FILE: &str = "progress";

/// One failing seed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub seed: u64,
    pub property: String,
    pub message: String,
    /// The written scenario, which replays the failure.
    pub file: String,
}

/// What a sweep found.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FuzzReport {
    pub scenario: String,
    pub seeds_planned: u64,
    /// Seeds finished, including those a `--resume` found finished by an earlier run.
    pub seeds_run: u64,
    /// Of `seeds_run`, those finished by an earlier run (`--resume`).
    #[serde(default)]
    pub seeds_resumed: u64,
    /// Sorted by seed.
    pub failures: Vec<Failure>,
    pub wall_time_s: f64,
    pub seeds_per_second: f64,
    /// Why the sweep stopped before every planned seed ran, if it did.
    pub stopped_early: Option<String>,
    /// The seeds planned: one set for a sweep, one per report for a merge. `merge` refuses
    /// reports whose sets overlap. Absent from reports of older versions.
    #[serde(default)]
    pub seed_sets: Vec<SeedSet>,
    /// Seeds stopped by `seed_time_max` or `time_budget` before a verdict, sorted: neither
    /// passed nor failed, and not recorded as finished, so `--resume` runs them again.
    #[serde(default)]
    pub timeouts: Vec<u64>,
    /// The finished seeds, sorted (for `--junit`; not in the JSON report).
    #[serde(skip)]
    pub seeds: Vec<u64>,
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
    /// Not one seed finished, so the sweep says nothing about the scenario.
    #[error("nothing was fuzzed: {0}")]
    NothingFuzzed(String),
    /// A strategy that cannot run the sweep as asked.
    #[error("{0}")]
    Strategy(String),
    #[error("cannot record progress in {file}: {error}")]
    Progress { file: String, error: std::io::Error },
}

struct Shared {
    seeds: Vec<u64>,
    next: AtomicUsize,
    done: AtomicUsize,
    stop: AtomicBool,
    failures: Mutex<Vec<Failure>>,
    timeouts: Mutex<Vec<u64>>,
    error: Mutex<Option<FuzzError>>,
    stop_reason: Mutex<Option<String>>,
    /// `out/progress`, opened for appending: one finished seed a line.
    progress: Mutex<std::fs::File>,
}

/// Runs the sweep.
pub fn fuzz(base: &Scenario, opts: &FuzzOptions) -> Result<FuzzReport, FuzzError> {
    if opts.strategy == Strategy::Coverage {
        return super::guided::fuzz_coverage(base, opts);
    }
    let planned: Vec<u64> = selected(opts.seeds, opts.shard).collect();
    if planned.is_empty() {
        return Err(FuzzError::NoSeeds);
    }
    let base = &super::prepare(base);
    let progress_path = opts.out.join(PROGRESS_FILE);
    let progress_error = |error| FuzzError::Progress {
        file: progress_path.display().to_string(),
        error,
    };
    let finished: BTreeSet<u64> = if opts.resume {
        let wanted: BTreeSet<u64> = planned.iter().copied().collect();
        read_progress(&progress_path)
            .map_err(progress_error)?
            .intersection(&wanted)
            .copied()
            .collect()
    } else {
        BTreeSet::new()
    };
    let earlier = earlier_failures(&opts.out, &finished);
    std::fs::create_dir_all(&opts.out).map_err(progress_error)?;
    let mut open = std::fs::OpenOptions::new();
    if opts.resume {
        open.create(true).append(true);
    } else {
        open.create(true).write(true).truncate(true);
    }
    let progress = open.open(&progress_path).map_err(progress_error)?;
    let seeds: Vec<u64> = planned
        .iter()
        .copied()
        .filter(|s| !finished.contains(s))
        .collect();
    let shared = Shared {
        seeds,
        next: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        failures: Mutex::new(earlier),
        timeouts: Mutex::new(Vec::new()),
        error: Mutex::new(None),
        stop_reason: Mutex::new(None),
        progress: Mutex::new(progress),
    };
    if let Some(n) = opts.stop_after
        && shared.failures.lock().expect("not poisoned").len() >= n
    {
        stop(
            &shared,
            "the failure limit (--stop-after) was reached".into(),
        );
    }
    let bar = progress_bar(shared.seeds.len() as u64, opts.progress);
    #[allow(clippy::disallowed_methods)] // wall time only decides which seeds start
    let started = std::time::Instant::now();
    let jobs = opts.jobs.clamp(1, JOBS_MAX).min(shared.seeds.len().max(1));
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
    let ran_now = shared.done.load(Ordering::SeqCst);
    let mut timeouts = shared
        .timeouts
        .into_inner()
        .expect("no worker panics holding it");
    timeouts.sort_unstable();
    // Every seed taken from the counter ran to the end or timed out: the first `taken`.
    let taken = shared.next.load(Ordering::SeqCst).min(shared.seeds.len());
    let mut all: Vec<u64> = finished.iter().copied().collect();
    all.extend(
        shared.seeds[..taken]
            .iter()
            .filter(|s| timeouts.binary_search(s).is_err()),
    );
    all.sort_unstable();
    let stop_reason = shared
        .stop_reason
        .into_inner()
        .expect("no worker panics holding it");
    if all.is_empty() {
        let why = if timeouts.is_empty() {
            stop_reason.unwrap_or_else(|| "no seed started".to_string())
        } else {
            format!(
                "every seed that started ({}) was stopped by the wall-time limit",
                timeouts.len()
            )
        };
        return Err(FuzzError::NothingFuzzed(format!(
            "{why} before the first of {} seeds finished",
            planned.len()
        )));
    }
    Ok(FuzzReport {
        scenario: base.name.clone(),
        seeds_planned: planned.len() as u64,
        seeds_run: (ran_now + finished.len()) as u64,
        seeds_resumed: finished.len() as u64,
        failures,
        wall_time_s,
        seeds_per_second: ran_now as f64 / wall_time_s.max(1e-9),
        stopped_early: stop_reason,
        timeouts,
        seed_sets: vec![SeedSet {
            seeds: opts.seeds,
            shard: opts.shard,
        }],
        seeds: all,
    })
}

/// The seeds `path` lists; none when it does not exist. A line cut short by a kill (no
/// newline, or not a number) is ignored: that seed runs again.
fn read_progress(path: &Path) -> std::io::Result<BTreeSet<u64>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeSet::new()),
        Err(e) => return Err(e),
    };
    let complete = match text.rfind('\n') {
        Some(i) => &text[..=i],
        None => "",
    };
    Ok(complete
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect())
}

/// The failures of `seeds` already written under `out` as `<property>/seed-<N>.yaml`, with
/// the message read back from the file's first line. Temporary files (`.seed-N.yaml.tmp`) are
/// not failures.
fn earlier_failures(out: &Path, seeds: &BTreeSet<u64>) -> Vec<Failure> {
    let mut found = Vec::new();
    if seeds.is_empty() {
        return found;
    }
    let Ok(dirs) = std::fs::read_dir(out) else {
        return found;
    };
    for dir in dirs.flatten() {
        let property = dir.file_name().to_string_lossy().into_owned();
        let Ok(files) = std::fs::read_dir(dir.path()) else {
            continue;
        };
        for file in files.flatten() {
            let name = file.file_name().to_string_lossy().into_owned();
            let Some(seed) = name
                .strip_prefix("seed-")
                .and_then(|n| n.strip_suffix(".yaml"))
                .and_then(|n| n.parse::<u64>().ok())
            else {
                continue;
            };
            if !seeds.contains(&seed) {
                continue;
            }
            let path = file.path();
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let message = text
                .lines()
                .next()
                .and_then(|l| l.split_once(&format!(" with seed {seed}: ")))
                .map(|(_, m)| m.to_string())
                .unwrap_or_default();
            found.push(Failure {
                seed,
                property: property.clone(),
                message,
                file: path.display().to_string(),
            });
        }
    }
    found.sort_by(|a, b| (a.seed, &a.property).cmp(&(b.seed, &b.property)));
    found.dedup_by_key(|f| f.seed);
    found
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
        let scenario = strategy_scenario(base, seed, opts.strategy);
        match check_by(&scenario, seed_deadline(opts, started)) {
            SeedOutcome::Passed => {}
            SeedOutcome::Failed(finding) => record(opts, shared, &scenario, finding, bar),
            SeedOutcome::TimedOut => {
                shared.timeouts.lock().expect("not poisoned").push(seed);
                continue;
            }
        }
        if shared.stop.load(Ordering::SeqCst)
            && shared.error.lock().expect("not poisoned").is_some()
        {
            return;
        }
        // The failure file (if any) is in place before the seed is recorded as finished.
        let line = format!("{seed}\n");
        if let Err(error) = shared
            .progress
            .lock()
            .expect("not poisoned")
            .write_all(line.as_bytes())
        {
            let mut slot = shared.error.lock().expect("not poisoned");
            slot.get_or_insert(FuzzError::Progress {
                file: opts.out.join(PROGRESS_FILE).display().to_string(),
                error,
            });
            shared.stop.store(true, Ordering::SeqCst);
            return;
        }
        shared.done.fetch_add(1, Ordering::SeqCst);
        bar.inc(1);
    }
}

/// When a seed starting now must stop: its own limit, or the end of the sweep's budget.
pub(super) fn seed_deadline(
    opts: &FuzzOptions,
    started: std::time::Instant,
) -> Option<std::time::Instant> {
    #[allow(clippy::disallowed_methods)] // wall time only stops a seed, never shapes its run
    let own = opts.seed_time_max.map(|d| std::time::Instant::now() + d);
    let budget = opts.time_budget.map(|d| started + d);
    match (own, budget) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
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

pub(super) fn progress_bar(len: u64, wanted: bool) -> ProgressBar {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_progress_line_cut_short_is_ignored() {
        let dir = std::env::temp_dir().join(format!("faultline-progress-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(PROGRESS_FILE);
        assert!(read_progress(&path).unwrap().is_empty());
        std::fs::write(&path, "3\n10\n7\n12").unwrap();
        assert_eq!(read_progress(&path).unwrap(), BTreeSet::from([3, 7, 10]));
        std::fs::write(&path, "4").unwrap();
        assert!(read_progress(&path).unwrap().is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
