//! Scenario benchmark: replays one scenario file many times in this process and reports the
//! wall time of its run loop (checks included; parsing and the history check excluded), as
//! `faultline run` reports it in `wall_time_s`, per simulated second of the run.
//!
//! ```text
//! cargo bench --bench scenario                                   # the Raft scenario, 201 runs
//! cargo bench --bench scenario -- scenarios/paxos-agreement.yaml 51
//! cargo bench --bench scenario -- benches/scenarios/echo-10k.yaml 2 end
//! cargo bench --bench scenario -- benches/scenarios/echo-10k.yaml 3 compare
//! ```
//!
//! A third argument, `event`, `end` or a number of events, overrides the file's `check_every`,
//! so that the cost of checking after every event can be compared with checking at the end
//! on the same runs. `compare` does that comparison itself: each seed runs twice in turn,
//! checked after every event and only at the end (which of the two goes first alternates, so
//! that a slow spell of a shared machine does not always fall on the same side), and the
//! ratio of their wall times is printed per seed and as a median.
//!
//! The first run, with the scenario's own seed, is reported on its own: it is what a single
//! `faultline run` pays, with cold caches and a heap that has not grown yet. The others are the
//! steady state, as in a fuzzing sweep: they cycle through `SEEDS_DISTINCT` seeds (the
//! scenario's and the ones after it), so the figure is not one run learnt by heart, and each
//! seed's runs must agree on the trace hash.

use faultline::check::CheckEvery;
use faultline::scenario::{self, RunOptions, RunReport, Scenario};
use std::path::{Path, PathBuf};

const SCENARIO_DEFAULT: &str = "scenarios/raft-elect-and-replicate.yaml";
const RUNS_DEFAULT: usize = 201;
const RUNS_MAX: usize = 100_000;
const SEEDS_DISTINCT: usize = 20;

/// Runs of at most this many are each printed on a line of their own (large scenarios).
const RUNS_LISTED_MAX: usize = 5;

/// What the third argument asks for.
enum Mode {
    /// Every run checked as the file says, or as the argument overrides it.
    Runs,
    /// Each seed run twice, checked after every event and only at the end.
    Compare,
}

fn main() {
    let (path, runs, mut scenario, mode) = arguments();
    match mode {
        Mode::Runs => bench_runs(&path, runs, &scenario),
        Mode::Compare => compare_checking(&path, runs, &mut scenario),
    }
}

/// The `run`-th run's seed: the scenario's own, then the ones after it, in a cycle.
fn seed_of(scenario: &Scenario, run: usize) -> u64 {
    scenario.seed.wrapping_add((run % SEEDS_DISTINCT) as u64)
}

/// One run of `scenario` with `seed`, and the simulated seconds it covered.
fn run_once(scenario: &Scenario, seed: u64) -> (RunReport, f64) {
    let options = RunOptions {
        seed: Some(seed),
        ..RunOptions::default()
    };
    let report = scenario::run(scenario, options).expect("scenario runs");
    let simulated_s = report.stopped_at.0 as f64 / 1e9;
    assert!(simulated_s > 0.0, "seed {seed} stopped at time zero");
    (report, simulated_s)
}

/// `runs` runs as the scenario is checked; wall time per simulated second, first run apart.
fn bench_runs(path: &Path, runs: usize, scenario: &Scenario) {
    let mut walls_s = Vec::with_capacity(runs);
    let mut simulated_s_total = 0.0;
    let mut events_total = 0;
    let mut hashes = [None; SEEDS_DISTINCT];
    for run in 0..runs {
        let seed = seed_of(scenario, run);
        let (report, simulated_s) = run_once(scenario, seed);
        let hash = *hashes[run % SEEDS_DISTINCT].get_or_insert(report.trace_hash);
        assert_eq!(hash, report.trace_hash, "seed {seed} replayed differently");
        simulated_s_total += simulated_s;
        events_total += report.stats.events;
        walls_s.push(report.wall_time_s / simulated_s);
        if runs <= RUNS_LISTED_MAX {
            println!(
                "run {run}: seed {seed}, {} events, {:.3} s wall for {simulated_s:.1} s simulated, \
                 trace hash {:016x}",
                report.stats.events, report.wall_time_s, report.trace_hash
            );
        }
    }
    let cold = walls_s[0];
    let mut warm = walls_s[1..].to_vec();
    warm.sort_by(f64::total_cmp);
    let at = |q: f64| warm[((warm.len() - 1) as f64 * q).round() as usize];
    let ms = |s: f64| s * 1e3;
    println!(
        "{} (check_every: {:?}): {} runs over {} seeds, {:.1} s simulated and {} events a run on average",
        path.display(),
        scenario.check_every,
        runs,
        runs.min(SEEDS_DISTINCT),
        simulated_s_total / runs as f64,
        events_total / runs as u64,
    );
    println!(
        "first run: {:.3} ms per simulated second, {:.0}x real time",
        ms(cold),
        1.0 / cold
    );
    println!(
        "later runs: median {:.3} ms per simulated second ({:.3}-{:.3} for the 10th-90th percentile), {:.0}x real time (median)",
        ms(at(0.5)),
        ms(at(0.1)),
        ms(at(0.9)),
        1.0 / at(0.5)
    );
}

/// Each of `runs` seeds checked after every event and only at the end, in turn: the two wall
/// times and their ratio. Checking never changes the run, so both must give the same trace.
fn compare_checking(path: &Path, runs: usize, scenario: &mut Scenario) {
    let mut ratios = Vec::with_capacity(runs);
    let (mut every_s_total, mut end_s_total) = (0.0, 0.0);
    for run in 0..runs {
        let seed = seed_of(scenario, run);
        let order = match run % 2 {
            0 => [CheckEvery::Event, CheckEvery::End],
            _ => [CheckEvery::End, CheckEvery::Event],
        };
        let mut walls_s = [0.0; 2];
        let mut hashes = [0; 2];
        for every in order {
            scenario.check_every = every;
            let (report, _) = run_once(scenario, seed);
            let side = usize::from(every == CheckEvery::End);
            walls_s[side] = report.wall_time_s;
            hashes[side] = report.trace_hash;
            if every == CheckEvery::Event {
                print!("run {run}: seed {seed}, {} events; ", report.stats.events);
            }
        }
        assert_eq!(
            hashes[0], hashes[1],
            "seed {seed}: checking changed the run"
        );
        let [every_s, end_s] = walls_s;
        println!(
            "every event {every_s:.2} s, at the end {end_s:.2} s: {:.2}x, trace hash {:016x}",
            every_s / end_s,
            hashes[0]
        );
        ratios.push(every_s / end_s);
        every_s_total += every_s;
        end_s_total += end_s;
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "{}: {runs} seeds, checked after every event {:.2} s and at the end {:.2} s a run on \
         average; every event / end: median {:.2}x ({:.2}-{:.2})",
        path.display(),
        every_s_total / runs as f64,
        end_s_total / runs as f64,
        ratios[ratios.len() / 2],
        ratios[0],
        ratios[ratios.len() - 1],
    );
}

/// The scenario file, how many runs, the scenario loaded (with `check_every` as the third
/// argument says, if it names one), and what to measure.
fn arguments() -> (PathBuf, usize, Scenario, Mode) {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let path = PathBuf::from(args.first().map_or(SCENARIO_DEFAULT, String::as_str));
    let runs = args
        .get(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(RUNS_DEFAULT)
        .clamp(2, RUNS_MAX);
    let mut scenario = match faultline::Registry::builtin().load(&path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let mode = match args.get(2).map(String::as_str) {
        None => Mode::Runs,
        Some("compare") => Mode::Compare,
        Some(every) => {
            scenario.check_every = check_every(every).unwrap_or_else(|| {
                eprintln!(
                    "the third argument must be `event`, `end`, a number of events or \
                     `compare`, not `{every}`"
                );
                std::process::exit(2);
            });
            Mode::Runs
        }
    };
    (path, runs, scenario, mode)
}

/// `event`, `end` or a positive number of events, as a scenario's `check_every:` says it.
fn check_every(text: &str) -> Option<CheckEvery> {
    match text {
        "event" => Some(CheckEvery::Event),
        "end" => Some(CheckEvery::End),
        n => n
            .parse::<u64>()
            .ok()
            .filter(|&n| n >= 1)
            .map(CheckEvery::Events),
    }
}
