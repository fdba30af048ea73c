//! Bug-finding benchmark: how many seeds `faultline fuzz` needs to find each bug variant when
//! nobody tells it where the bug is.
//!
//! Every `scenarios/*-bug.yaml` that expects a violation is fuzzed with its scripted faults
//! removed (a liveness phase is kept), so each seed runs the fuzzer's own random faults, seed
//! 0 first, exactly as `faultline fuzz FILE --count N` runs them. A bug is found at the first
//! seed that fails. A miss counts as `N` seeds in the mean.
//!
//! A bug counts as found only when the failing property is the one its scenario expects; a
//! seed that fails on another property is counted apart (`other`), as it may be a false
//! alarm. `--correct` turns the benchmark round: every scenario that expects a pass, its
//! scripted faults removed in the same way, runs every seed, and each failing seed is a
//! false alarm.
//!
//! `--classic` fuzzes with the classic schedule (`fuzz: { schedule: classic }`) instead of
//! the default swarm schedule, for every scenario.
//!
//! ```text
//! cargo bench --bench bugfind                           # every bug scenario, 1,000 seeds
//! cargo bench --bench bugfind -- --classic              # the same with classic schedules
//! cargo bench --bench bugfind -- 200                    # at most 200 seeds a scenario
//! cargo bench --bench bugfind -- 1000 scenarios/paxos-ignore-accepted-bug.yaml
//! cargo bench --bench bugfind -- --correct 10000        # false alarms of correct scenarios
//! cargo bench --bench bugfind -- --shrink 5 1000        # the first 5 failures of each, shrunk
//! cargo bench --bench bugfind -- --strategy pct         # seeds of `fuzz --strategy pct`
//! cargo bench --bench bugfind -- --strategy coverage    # coverage-guided, as `fuzz --strategy coverage`
//! cargo bench --bench bugfind -- --calm --strategy pct  # no faults: orderings alone
//! ```
//!
//! `--calm` draws no faults at all (`fuzz: { kinds: [] }`): only the seed varies, that is
//! the latencies, losses and the protocol's own random choices, and with `--strategy pct` the
//! delivery priorities; it measures what finds the bugs that hang on an order alone.
//!
//! `--shrink K` measures the shrinker instead: for every bug scenario, its scripted faults
//! removed, the first K failing seeds (on any property, as `faultline fuzz` writes them) are
//! shrunk with `faultline shrink`'s search, and the table sums what is left: faults, events,
//! duration, and the shrunk files whose network still loses or duplicates messages.
//!
//! Scenarios run on two threads, one scenario a thread at a time; the seed found does not
//! depend on that, the wall time does.

use faultline::explore::case::{SeedOutcome, Strategy, check, seed_scenario, strategy_scenario};
use faultline::explore::coverage::{BATCH, CoverageSearch, check_covered};
use faultline::scenario::{ExpectSpec, Scenario};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

const SEEDS_DEFAULT: u64 = 1_000;
const SEEDS_MAX: u64 = 1_000_000;
const THREADS: usize = 2;

#[derive(Default)]
struct Row {
    name: String,
    /// The first seed that failed on the expected property.
    found_at: Option<u64>,
    /// Seeds that failed on another property before it, by property.
    other: BTreeMap<String, u64>,
    seeds_run: u64,
    wall_s: f64,
}

fn main() {
    let correct = std::env::args().any(|a| a == "--correct");
    let classic = std::env::args().any(|a| a == "--classic");
    let calm = std::env::args().any(|a| a == "--calm");
    let value = |flag: &str| std::env::args().skip_while(|a| a != flag).nth(1);
    let shrink_count: Option<usize> =
        value("--shrink").map(|k| k.parse().expect("--shrink K: a count of failures"));
    let strategy = match value("--strategy").as_deref() {
        None | Some("random") => Search::Seeds(Strategy::Random),
        Some("pct") => Search::Seeds(Strategy::Pct),
        Some("coverage") => Search::Coverage,
        Some(other) => panic!("--strategy {other}: random, pct or coverage"),
    };
    let all: Vec<String> = std::env::args().skip(1).collect();
    let valued = |i: usize| i > 0 && ["--shrink", "--strategy"].contains(&all[i - 1].as_str());
    let args: Vec<String> = all
        .iter()
        .enumerate()
        .filter(|&(i, a)| !a.starts_with("--") && !valued(i))
        .map(|(_, a)| a.clone())
        .collect();
    let seeds = args
        .first()
        .and_then(|n| n.parse().ok())
        .unwrap_or(SEEDS_DEFAULT);
    assert!((1..=SEEDS_MAX).contains(&seeds), "seeds: 1..={SEEDS_MAX}");
    let mut files: Vec<PathBuf> = args.iter().skip(1).map(PathBuf::from).collect();
    if files.is_empty() {
        files = scenario_files(Path::new("scenarios"));
    }
    let bases: Vec<Scenario> = files
        .iter()
        .filter_map(|f| unscripted(f, correct, classic, calm))
        .collect();
    if let Some(k) = shrink_count {
        shrink_table(&bases, seeds, k);
        return;
    }
    let mut rows = on_threads(&bases, |base| hunt(base, seeds, correct, strategy));
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    if correct {
        print_false_alarms(&rows);
    } else {
        print_table(&rows, seeds);
    }
}

/// `work` on every scenario, on [`THREADS`] threads, one scenario a thread at a time; the
/// results in the order they finished.
fn on_threads<R: Send>(bases: &[Scenario], work: impl Fn(&Scenario) -> R + Sync) -> Vec<R> {
    let rows = Mutex::new(Vec::new());
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                while let Some(base) = bases.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let row = work(base);
                    rows.lock().expect("no worker panics").push(row);
                }
            });
        }
    });
    rows.into_inner().expect("no worker panics")
}

/// The scenario files under `dir`, sorted.
fn scenario_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("run from the repository root")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

/// The scenario in `file` with its scripted faults and nemesis removed, if it expects a
/// violation (a pass, with `correct`); fuzzed with classic schedules with `classic`, with no
/// faults at all with `calm`.
fn unscripted(file: &Path, correct: bool, classic: bool, calm: bool) -> Option<Scenario> {
    let mut s = match faultline::Registry::builtin().load(file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    if matches!(s.expect, ExpectSpec::Violation(_)) == correct {
        return None;
    }
    s.faults.retain(|f| f.is_liveness_phase());
    s.nemesis = None;
    s.fuzz.classic |= classic;
    if calm {
        s.fuzz.kinds = Some(Vec::new());
    }
    Some(faultline::explore::prepare(&s))
}

/// Runs seeds from 0 until the expected property fails (all of them, with `correct`).
fn hunt(base: &Scenario, seeds: u64, correct: bool, search: Search) -> Row {
    #[allow(clippy::disallowed_methods)] // wall time is what a benchmark measures
    let started = Instant::now();
    let expected = match &base.expect {
        ExpectSpec::Violation(p) => p.clone(),
        _ => None,
    };
    let mut row = Row {
        name: base.name.clone(),
        ..Row::default()
    };
    let mut corpus = CoverageSearch::new(base.clone());
    let mut batch = Vec::new();
    for seed in 0..seeds {
        row.seeds_run += 1;
        let found = match search {
            Search::Seeds(strategy) => check(&strategy_scenario(base, seed, strategy)),
            Search::Coverage => {
                // In batches, as `faultline fuzz --strategy coverage` draws them.
                let at = (seed % BATCH as u64) as usize;
                if at == 0 {
                    let ids: Vec<u64> = (seed..seeds.min(seed + BATCH as u64)).collect();
                    batch = corpus.batch(&ids);
                }
                let candidate = batch[at].clone();
                let (outcome, features) = check_covered(&candidate, None);
                corpus.observe(candidate, &features);
                match outcome {
                    SeedOutcome::Failed(finding) => Some(finding),
                    SeedOutcome::Passed | SeedOutcome::TimedOut => None,
                }
            }
        };
        let Some(finding) = found else {
            continue;
        };
        if !correct && expected.as_ref().is_none_or(|p| *p == finding.property) {
            row.found_at = Some(seed);
            break;
        }
        *row.other.entry(finding.property).or_default() += 1;
    }
    row.wall_s = started.elapsed().as_secs_f64();
    row
}

fn others(r: &Row) -> String {
    let parts: Vec<String> = r.other.iter().map(|(p, n)| format!("{p} ×{n}")).collect();
    parts.join(", ")
}

fn print_table(rows: &[Row], seeds: u64) {
    println!("| bug scenario | found at seed | other failures first | wall (s) |");
    println!("|---|---:|---|---:|");
    let mut total = 0;
    for r in rows {
        let found = r
            .found_at
            .map_or("not found".to_string(), |s| s.to_string());
        total += r.found_at.map_or(seeds, |s| s + 1);
        println!("| {} | {found} | {} | {:.2} |", r.name, others(r), r.wall_s);
    }
    let found = rows.iter().filter(|r| r.found_at.is_some()).count();
    println!(
        "\nfound {found} of {}; mean seeds to find (a miss counts {seeds}): {:.1}",
        rows.len(),
        total as f64 / rows.len().max(1) as f64
    );
}

fn print_false_alarms(rows: &[Row]) {
    println!("| correct scenario | seeds | false alarms | wall (s) |");
    println!("|---|---:|---|---:|");
    for r in rows {
        let alarms = if r.other.is_empty() {
            "0".to_string()
        } else {
            others(r)
        };
        println!(
            "| {} | {} | {alarms} | {:.2} |",
            r.name, r.seeds_run, r.wall_s
        );
    }
    let seeds: u64 = rows.iter().map(|r| r.seeds_run).sum();
    let alarms: u64 = rows.iter().flat_map(|r| r.other.values()).sum();
    println!(
        "\n{alarms} false alarms in {seeds} seeds of {} scenarios",
        rows.len()
    );
}

/// How each scenario is searched: seed by seed, or coverage-guided
/// ([`faultline::explore::coverage`]), where each candidate depends on the runs before it.
#[derive(Clone, Copy)]
enum Search {
    Seeds(Strategy),
    Coverage,
}

/// What shrinking left of one scenario's failures, summed over them.
#[derive(Default)]
struct Shrunk {
    name: String,
    failures: usize,
    faults_before: usize,
    faults_after: usize,
    events_after: u64,
    duration_after_ns: u64,
    /// Shrunk files whose default link still loses or duplicates messages.
    network_left: usize,
}

/// Shrinks the first `k` failing seeds of every scenario, two scenarios at a time.
fn shrink_table(bases: &[Scenario], seeds: u64, k: usize) {
    let dir = std::env::temp_dir().join(format!("faultline-bugfind-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let mut rows = on_threads(bases, |base| shrink_failures(base, seeds, k, &dir));
    let _ = std::fs::remove_dir_all(&dir);
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    println!(
        "| bug scenario | failures | faults before → after | events after | duration after (s) | lossy after |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    let mut total = Shrunk::default();
    for r in &rows {
        println!(
            "| {} | {} | {} → {} | {} | {:.3} | {} |",
            r.name,
            r.failures,
            r.faults_before,
            r.faults_after,
            r.events_after,
            r.duration_after_ns as f64 / 1e9,
            r.network_left
        );
        total.failures += r.failures;
        total.faults_before += r.faults_before;
        total.faults_after += r.faults_after;
        total.events_after += r.events_after;
        total.duration_after_ns += r.duration_after_ns;
        total.network_left += r.network_left;
    }
    println!(
        "\n{} failures shrunk: faults {} → {}, {} events and {:.1} s left, {} still lossy",
        total.failures,
        total.faults_before,
        total.faults_after,
        total.events_after,
        total.duration_after_ns as f64 / 1e9,
        total.network_left
    );
}

/// Shrinks the first `k` of seeds `0..seeds` of `base` that fail.
fn shrink_failures(base: &Scenario, seeds: u64, k: usize, dir: &Path) -> Shrunk {
    let mut row = Shrunk {
        name: base.name.clone(),
        ..Shrunk::default()
    };
    for seed in 0..seeds {
        if row.failures == k {
            break;
        }
        let s = seed_scenario(base, seed);
        if check(&s).is_none() {
            continue;
        }
        let out = dir.join(format!("{}-{seed}.min.yaml", base.name));
        let label = format!("{} seed {seed}", base.name);
        let report = match faultline::explore::shrink(&s, &label, &out) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{label}: {e}");
                continue;
            }
        };
        row.failures += 1;
        row.faults_before += report.before.faults;
        row.faults_after += report.after.faults;
        row.events_after += report.after.events.unwrap_or(0);
        row.duration_after_ns += report.after.duration_ns;
        let shrunk = faultline::Registry::builtin()
            .load(&out)
            .expect("the shrunk file reads back");
        let link = &shrunk.network.default;
        row.network_left += usize::from(link.drop > 0.0 || link.duplicate > 0.0);
    }
    row
}
