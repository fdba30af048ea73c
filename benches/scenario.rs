//! Scenario benchmark: replays one scenario file many times in this process and reports the
//! wall time of its run loop (checks included; parsing and the history check excluded), as
//! `faultline run` reports it in `wall_time_s`.
//!
//! ```text
//! cargo bench --bench scenario                                   # the Raft scenario, 201 runs
//! cargo bench --bench scenario -- scenarios/paxos-agreement.yaml 51
//! ```
//!
//! The first run is reported on its own: it is what a single `faultline run` pays, with cold
//! caches and a heap that has not grown yet. The others are the steady state, as in a fuzzing
//! sweep; every run uses the scenario's own seed, so every run is the same run, which the
//! benchmark checks by comparing trace hashes.

use faultline::scenario::{self, RunOptions};
use std::path::PathBuf;

const SCENARIO_DEFAULT: &str = "scenarios/raft-elect-and-replicate.yaml";
const RUNS_DEFAULT: usize = 201;
const RUNS_MAX: usize = 100_000;

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
    let scenario = match scenario::load(&path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let simulated_s = scenario.duration.0 as f64 / 1e9;
    let mut walls_s = Vec::with_capacity(runs);
    let mut hash_first = None;
    for _ in 0..runs {
        let report = scenario::run(&scenario, RunOptions::default()).expect("scenario runs");
        assert_eq!(
            *hash_first.get_or_insert(report.trace_hash),
            report.trace_hash
        );
        walls_s.push(report.wall_time_s);
    }
    let cold_s = walls_s[0];
    let mut warm = walls_s[1..].to_vec();
    warm.sort_by(f64::total_cmp);
    let at = |q: f64| warm[((warm.len() - 1) as f64 * q).round() as usize];
    let ms = |s: f64| s * 1e3;
    println!(
        "{}: {:.0} s simulated, {} runs",
        path.display(),
        simulated_s,
        runs
    );
    println!(
        "first run: {:.2} ms, {:.0}x real time",
        ms(cold_s),
        simulated_s / cold_s
    );
    println!(
        "later runs: median {:.2} ms ({:.2}-{:.2} for the 10th-90th percentile), {:.0}x real time (median)",
        ms(at(0.5)),
        ms(at(0.1)),
        ms(at(0.9)),
        simulated_s / at(0.5)
    );
}
