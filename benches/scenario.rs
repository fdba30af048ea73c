//! Scenario benchmark: replays one scenario file many times in this process and reports the
//! wall time of its run loop (checks included; parsing and the history check excluded), as
//! `faultline run` reports it in `wall_time_s`, per simulated second of the run.
//!
//! ```text
//! cargo bench --bench scenario                                   # the Raft scenario, 201 runs
//! cargo bench --bench scenario -- scenarios/paxos-agreement.yaml 51
//! ```
//!
//! The first run, with the scenario's own seed, is reported on its own: it is what a single
//! `faultline run` pays, with cold caches and a heap that has not grown yet. The others are the
//! steady state, as in a fuzzing sweep: they cycle through `SEEDS_DISTINCT` seeds (the
//! scenario's and the ones after it), so the figure is not one run learnt by heart, and each
//! seed's runs must agree on the trace hash.

use faultline::scenario::{self, RunOptions};
use std::path::PathBuf;

const SCENARIO_DEFAULT: &str = "scenarios/raft-elect-and-replicate.yaml";
const RUNS_DEFAULT: usize = 201;
const RUNS_MAX: usize = 100_000;
const SEEDS_DISTINCT: usize = 20;

fn main() {
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
    let scenario = match faultline::Registry::builtin().load(&path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let mut walls_s = Vec::with_capacity(runs);
    let mut simulated_s_total = 0.0;
    let mut events_total = 0;
    let mut hashes = [None; SEEDS_DISTINCT];
    for run in 0..runs {
        let slot = run % SEEDS_DISTINCT;
        let seed = scenario.seed.wrapping_add(slot as u64);
        let options = RunOptions {
            seed: Some(seed),
            ..RunOptions::default()
        };
        let report = scenario::run(&scenario, options).expect("scenario runs");
        let hash = *hashes[slot].get_or_insert(report.trace_hash);
        assert_eq!(hash, report.trace_hash, "seed {seed} replayed differently");
        let simulated_s = report.stopped_at.0 as f64 / 1e9;
        assert!(simulated_s > 0.0, "seed {seed} stopped at time zero");
        simulated_s_total += simulated_s;
        events_total += report.stats.events;
        walls_s.push(report.wall_time_s / simulated_s);
    }
    // Wall seconds per simulated second, first run apart.
    let cold = walls_s[0];
    let mut warm = walls_s[1..].to_vec();
    warm.sort_by(f64::total_cmp);
    let at = |q: f64| warm[((warm.len() - 1) as f64 * q).round() as usize];
    let ms = |s: f64| s * 1e3;
    println!(
        "{}: {} runs over {} seeds, {:.1} s simulated and {} events a run on average",
        path.display(),
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
