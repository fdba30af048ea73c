//! The exploration commands: `fuzz`, `shrink` and `merge`.

use super::{EXIT_BAD_INPUT, EXIT_OK, EXIT_VIOLATION, Format, parse_budget};
use crate::explore;
use std::path::{Path, PathBuf};

pub(super) const FUZZ_HELP: &str = "\
Each seed runs the scenario with `seed:` replaced and `expect: pass`: any violated property,
limit or protocol panic fails the seed. A scenario with no scripted faults gets a swarm
schedule drawn from each seed: partitions, crashes, pauses, clogs and clock skew, each kind
on or off and at its own rate, over the first 70 % of the run (and of the clients' window),
plus faults triggered by the protocol's own messages and notes, learnt from one calm run
first; about three seeds in ten instead chase one of its notes, cutting off each node that
writes it in turn, with no timed faults (`fuzz: { schedule: classic }` in the file draws the older one-at-a-time schedule).
`--strategy pct` also orders each seed's deliveries by link priorities drawn from the seed
(PCT-style, depth 1-3); the failure file keeps them as `network: { pct: ... }`.
`--strategy coverage` keeps the runs that show new protocol activity (message kinds, note
patterns, their counts) and runs some candidates as such a run with its timed faults, its
triggered faults or its seed swapped for the seed's own; candidates run in batches of 64,
so the result does not depend on --jobs, but it cannot take --shard or --resume. Its
failures are written as OUT/<property>/candidate-<N>.yaml.
Each failure is written at once as OUT/<property>/seed-<N>.yaml; `faultline run` replays it.
Each finished seed is appended to OUT/progress: after a kill, the same command with --resume
runs only the seeds not finished and reports all failures, earlier ones included.

Exit codes:
  0  no seed failed
  1  at least one seed failed
  2  bad input: an invalid scenario, a bad flag, OUT cannot be written, or no seed ran
     (nothing was fuzzed)
  3  internal error (a bug in faultline)

Examples:
  faultline fuzz scenarios/broadcast-partition.yaml
  faultline fuzz scenarios/raft-elect-and-replicate.yaml --seeds 0..10000 --jobs 8
  faultline fuzz scenarios/paxos-agreement.yaml --count 1000 --shard 0/4 --out ci-fuzz
  faultline fuzz scenarios/echo-loss.yaml --time-budget 60s --stop-after 1 --format json
  faultline fuzz scenarios/paxos-agreement.yaml --count 1000 --strategy pct
  faultline fuzz scenarios/raft-elect-and-replicate.yaml --count 2000 --strategy coverage
  faultline fuzz scenarios/paxos-agreement.yaml --count 100000 --out ci-fuzz --resume --junit fuzz.xml";

#[derive(clap::Args)]
pub(super) struct FuzzArgs {
    /// The scenario (YAML).
    file: PathBuf,
    /// Seeds to run, half-open: A..B runs A, A+1, ..., B-1.
    #[arg(long, value_name = "A..B", conflicts_with = "count")]
    seeds: Option<explore::SeedRange>,
    /// Run seeds 0..N (default 100).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=explore::seeds::SEEDS_MAX))]
    count: Option<u64>,
    /// Worker threads (default: the available cores).
    #[arg(long, value_name = "J", value_parser = clap::value_parser!(u64).range(1..=explore::fuzz::JOBS_MAX as u64))]
    jobs: Option<u64>,
    /// Run only the seeds with seed % N == K.
    #[arg(long, value_name = "K/N")]
    shard: Option<explore::Shard>,
    /// Where failing seeds are written.
    #[arg(long, value_name = "DIR", default_value = "fuzz-out")]
    out: PathBuf,
    /// Start no new seed after F failures.
    #[arg(long, value_name = "F", value_parser = clap::value_parser!(u64).range(1..))]
    stop_after: Option<u64>,
    /// Start no new seed after D of wall time, e.g. 500ms, 60s, 10m; seeds still running then
    /// are stopped and reported as timed out.
    #[arg(long, value_name = "D", value_parser = parse_budget)]
    time_budget: Option<std::time::Duration>,
    /// Stop a seed that runs longer than D of wall time (e.g. 10s) and report it as timed
    /// out: neither a pass nor a failure; `--resume` runs it again.
    #[arg(long, value_name = "D", value_parser = parse_budget)]
    seed_time_max: Option<std::time::Duration>,
    /// Skip the seeds OUT/progress records as finished by an earlier run (e.g. one that was
    /// killed) and report their failures too, read back from OUT.
    #[arg(long)]
    resume: bool,
    /// How to search: `random` runs each seed's own draws; `pct` also orders deliveries
    /// PCT-style, by link priorities drawn from the seed that change at 0-2 random points;
    /// `coverage` keeps runs that show new protocol activity and mutates them (not with
    /// --shard or --resume).
    #[arg(long, value_enum, default_value_t = StrategyArg::Random)]
    strategy: StrategyArg,
    /// Also write the result as JUnit XML to FILE: one test case per seed.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// `--strategy`: how `fuzz` searches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum StrategyArg {
    Random,
    Pct,
    Coverage,
}

pub(super) const SHRINK_HELP: &str = "\
FILE is a failing scenario: one written by `faultline fuzz`, or any scenario whose run does not
meet its `expect:`. The property that fails first (or `panic`, `limit`) is kept failing while
the scenario is made smaller, in this order: delta debugging over the fault list (a liveness
phase stays), a shorter `duration` (never before a goal's deadline), fewer workload clients, a
lower rate and an earlier `until`, lower drop and duplicate probabilities, then fewer nodes
(while no fault names the node removed); the steps repeat until a round changes nothing
(at most 4 rounds). At most 2,000 candidate runs; the result is deterministic. The smaller scenario is written to OUT (default: FILE with `.min.yaml` instead
of `.yaml`) with a comment saying what it was shrunk from.

Exit codes:
  0  a smaller (or equal) failing scenario was written
  2  bad input: an unreadable or invalid file, a scenario that does not fail, or OUT cannot be
     written
  3  internal error (a bug in faultline)

Examples:
  faultline shrink fuzz-out/all_delivered/seed-3.yaml
  faultline shrink fuzz-out/all_delivered/seed-3.yaml -o small.yaml --format json";

#[derive(clap::Args)]
pub(super) struct ShrinkArgs {
    /// The failing scenario (YAML).
    file: PathBuf,
    /// Where the shrunk scenario is written (default: FILE with `.min.yaml`).
    #[arg(short, long, value_name = "OUT")]
    out: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}
pub(super) const MERGE_HELP: &str = "\
Reads the `--format json` reports of `faultline fuzz` runs, typically the shards K/N of one
sweep, and prints one report: seeds summed, failures sorted by seed, the longest wall time,
and seeds/s summed (the throughput of the shards together).

Exit codes:
  0  no failures
  1  at least one failure
  2  bad input: an unreadable or invalid report, reports of different scenarios, or
     reports that overlap (the same shard twice, or seed sets with a seed in common)

Example:
  faultline merge shard-0.json shard-1.json shard-2.json shard-3.json --junit fuzz.xml";

pub(super) fn fuzz(registry: &crate::Registry, args: &FuzzArgs) -> u8 {
    if let Some(junit) = &args.junit
        && let Err(code) = super::paths::refuse_overwrite(&[&args.file], &[("--junit", junit)])
    {
        return code;
    }
    let scenario = match super::load(registry, &args.file) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let options = explore::FuzzOptions {
        seeds: args
            .seeds
            .unwrap_or_else(|| explore::SeedRange::first(args.count.unwrap_or(100))),
        shard: args.shard,
        jobs: args.jobs.map_or(cores, |j| j as usize),
        out: args.out.clone(),
        stop_after: args.stop_after.map(|n| n as usize),
        time_budget: args.time_budget,
        seed_time_max: args.seed_time_max,
        progress: args.format == Format::Text,
        source: args.file.display().to_string(),
        resume: args.resume,
        strategy: match args.strategy {
            StrategyArg::Random => explore::Strategy::Random,
            StrategyArg::Pct => explore::Strategy::Pct,
            StrategyArg::Coverage => explore::Strategy::Coverage,
        },
    };
    let report = match explore::fuzz(&scenario, &options) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{}: {e}", super::program());
            return EXIT_BAD_INPUT;
        }
    };
    print_fuzz_report(&report, args.junit.as_deref(), args.format)
}

fn print_fuzz_report(report: &explore::FuzzReport, junit: Option<&Path>, format: Format) -> u8 {
    if let Some(path) = junit
        && let Err(e) = std::fs::write(path, explore::fuzz::junit(report))
    {
        eprintln!("{}: cannot write the JUnit report: {e}", path.display());
        return EXIT_BAD_INPUT;
    }
    let text = match format {
        Format::Text => explore::fuzz::text(report),
        Format::Json => serde_json::to_string_pretty(report).expect("the report serialises") + "\n",
    };
    let verdict = if report.failures.is_empty() {
        EXIT_OK
    } else {
        EXIT_VIOLATION
    };
    super::out::finish(&text, verdict)
}

pub(super) fn shrink(registry: &crate::Registry, args: &ShrinkArgs) -> u8 {
    let scenario = match super::load(registry, &args.file) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| explore::shrink::default_out(&args.file));
    if let Err(code) = super::paths::refuse_overwrite(&[&args.file], &[("the output", &out)]) {
        return code;
    }
    let report = match explore::shrink(&scenario, &args.file.display().to_string(), &out) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{}: {e}", super::program());
            return EXIT_BAD_INPUT;
        }
    };
    let text = match args.format {
        Format::Text => explore::shrink::text(&report),
        Format::Json => {
            serde_json::to_string_pretty(&report).expect("the report serialises") + "\n"
        }
    };
    super::out::finish(&text, EXIT_OK)
}

pub(super) fn merge(files: &[PathBuf], junit: Option<&Path>, format: Format) -> u8 {
    if let Some(junit) = junit {
        let inputs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
        if let Err(code) = super::paths::refuse_overwrite(&inputs, &[("--junit", junit)]) {
            return code;
        }
    }
    let mut reports = Vec::new();
    for file in files {
        let parsed = std::fs::read_to_string(file)
            .map_err(|e| e.to_string())
            .and_then(|t| {
                serde_json::from_str::<explore::FuzzReport>(&t).map_err(|e| e.to_string())
            });
        match parsed {
            Ok(r) => reports.push(r),
            Err(e) => {
                eprintln!(
                    "{}: not a `faultline fuzz --format json` report: {e}",
                    file.display()
                );
                return EXIT_BAD_INPUT;
            }
        }
    }
    match explore::merge(&reports) {
        Ok(r) => print_fuzz_report(&r, junit, format),
        Err(explore::MergeError::Overlap {
            first,
            second,
            seed,
            how,
        }) => {
            eprintln!(
                "{}: {} and {} overlap: both hold seed {seed}{how}; merge each shard once, \
                 from shards K/N of one seed range",
                super::program(),
                files[first].display(),
                files[second].display()
            );
            EXIT_BAD_INPUT
        }
        Err(e) => {
            eprintln!("{}: {e}", super::program());
            EXIT_BAD_INPUT
        }
    }
}
