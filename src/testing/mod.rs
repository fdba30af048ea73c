//! Seed sweeps for `cargo test`: run a scenario (or a simulation you build in Rust) over a
//! range of seeds, optionally under a fresh random fault schedule per seed and twice per seed
//! to check determinism, and fail on the first seed that does not meet its expectation with a
//! message that says how to reproduce it.
//!
//! ```
//! use faultline::faults::RandomFaults;
//! use faultline::testing::sweep_file;
//! use faultline::time::SimTime;
//!
//! let file = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/broadcast-partition.yaml");
//! // Random partitions, crashes and pauses, all healed by 7 s; the run goes on to let the
//! // protocol finish.
//! let faults = RandomFaults::all(SimTime::from_secs(7));
//! match sweep_file(file, 0..3, Some(&faults)) {
//!     Ok(summary) => assert_eq!(summary.seeds, 3),
//!     Err(failure) => panic!("{failure}"),
//! }
//! ```
//!
//! A failure prints the seed, each violation with its explanation, the network the run drew
//! and the faults up to the violation. If [`FAILURES_DIR_ENV`] (`FAULTLINE_FAILURES_DIR`)
//! names a directory, or [`Sweep::failures_dir`] does, the same text is written there too,
//! with, for a scenario sweep, the seed's scenario as a file `faultline run` replays.
//!
//! A simulation built in Rust sweeps with [`BuilderSweep`], which draws per seed the faults
//! and network a scenario sweep or `faultline fuzz` draws, and shrinks what fails
//! ([`shrink_builder`]).

mod builder;
mod builder_sweep;
mod coverage;
mod failure;
mod seed_run;
mod shrink;

pub use builder::{BuilderSummary, sweep_builder, sweep_builder_deterministic};
pub use builder_sweep::BuilderSweep;
pub use failure::{FAILURES_DIR_ENV, FailureKind, SweepFailure};
pub use shrink::{BuilderRun, BuilderShrink, BuilderShrinkError, shrink_builder};

use crate::faults::RandomFaults;
use crate::scenario::{self, RunOptions, RunReport, Scenario};
use coverage::Coverage;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// What a sweep saw when every seed passed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SweepSummary {
    /// How many seeds ran.
    pub seeds: u64,
    /// Each seed's trace hash, in seed order.
    pub trace_hashes: Vec<u64>,
    /// How many runs checked a client history.
    pub histories_checked: u64,
    /// Per `sometimes` property, how many seeds reached it (each at least one, or the sweep
    /// fails).
    pub sometimes_reached: BTreeMap<String, u64>,
}

/// Runs `scenario` once per seed in `seeds`, with a random fault schedule per seed when
/// `faults` is given (see [`with_random_faults`]). Stops at the first seed that does not meet
/// the scenario's expectation.
pub fn sweep_scenario(
    scenario: &Scenario,
    seeds: Range<u64>,
    faults: Option<&RandomFaults>,
) -> Result<SweepSummary, Box<SweepFailure>> {
    let mut sweep = Sweep::new(seeds);
    sweep.faults = faults.cloned();
    sweep.run(scenario)
}

/// Loads the scenario file at `path` and sweeps it as [`sweep_scenario`] does.
pub fn sweep_file(
    path: impl AsRef<Path>,
    seeds: Range<u64>,
    faults: Option<&RandomFaults>,
) -> Result<SweepSummary, Box<SweepFailure>> {
    let mut sweep = Sweep::new(seeds);
    sweep.faults = faults.cloned();
    sweep.run_file(path)
}

/// A copy of `base` whose fault schedule is drawn from `seed`: [`crate::explore::draw`].
///
/// A scenario with a liveness phase (a scripted [`crate::Fault::Stabilize`]) keeps it, and its
/// `eventually:` goals untouched: the random faults are replaced around it and all end by the
/// phase's start (or `config.until`, if earlier), so the goals still measure a quiet system.
/// Every other scripted fault is replaced.
pub fn with_random_faults(base: &Scenario, seed: u64, config: &RandomFaults) -> Scenario {
    crate::explore::draw(base, seed, Some(config))
}

type Prepare<'a> = Box<dyn Fn(&mut Scenario, u64) + 'a>;

/// A configurable sweep over scenario runs; [`sweep_scenario`] is its simplest use.
pub struct Sweep<'a> {
    pub seeds: Range<u64>,
    /// Draw a random fault schedule per seed (see [`with_random_faults`]).
    pub faults: Option<RandomFaults>,
    /// Run every seed twice and compare trace hashes and history counts.
    pub determinism: bool,
    /// Where to write a failure's reproduction (besides [`FAILURES_DIR_ENV`]).
    pub failures_dir: Option<PathBuf>,
    prepare: Option<Prepare<'a>>,
}

impl<'a> Sweep<'a> {
    pub fn new(seeds: Range<u64>) -> Self {
        Sweep {
            seeds,
            faults: None,
            determinism: false,
            failures_dir: None,
            prepare: None,
        }
    }

    /// A random fault schedule per seed.
    pub fn random_faults(mut self, config: RandomFaults) -> Self {
        self.faults = Some(config);
        self
    }

    /// The random faults `faultline fuzz` draws for `base` ([`crate::explore::fuzz_faults`]):
    /// each seed then runs the faults, nemesis and network that `faultline fuzz` runs for it.
    pub fn fuzz_faults(mut self, base: &Scenario) -> Self {
        self.faults = crate::explore::fuzz_faults(&crate::explore::prepare(base));
        self
    }

    /// Runs every seed twice: a different trace hash is a failure.
    pub fn check_determinism(mut self) -> Self {
        self.determinism = true;
        self
    }

    /// Writes a failure's reproduction to `dir`.
    pub fn failures_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.failures_dir = Some(dir.into());
        self
    }

    /// Changes each seed's scenario after its faults are drawn, e.g. to vary parameters
    /// with the seed.
    pub fn prepare(mut self, f: impl Fn(&mut Scenario, u64) + 'a) -> Self {
        self.prepare = Some(Box::new(f));
        self
    }

    /// The scenario exactly as seed `seed` runs it.
    pub fn scenario_for(&self, base: &Scenario, seed: u64) -> Scenario {
        let mut s = crate::explore::draw(base, seed, self.faults.as_ref());
        if let Some(prepare) = &self.prepare {
            prepare(&mut s, seed);
        }
        s
    }

    /// Loads `path`, which names a built-in protocol, and sweeps it.
    pub fn run_file(&self, path: impl AsRef<Path>) -> Result<SweepSummary, Box<SweepFailure>> {
        self.run_file_in(&crate::Registry::builtin(), path)
    }

    /// Loads `path`, which names a protocol of `registry`, and sweeps it.
    pub fn run_file_in(
        &self,
        registry: &crate::Registry,
        path: impl AsRef<Path>,
    ) -> Result<SweepSummary, Box<SweepFailure>> {
        let path = path.as_ref();
        registry
            .load(path)
            .map_err(|e| {
                let (source, error) = (path.display().to_string(), e.to_string());
                self.fail(source, self.seeds.start, FailureKind::Error(error), None)
            })
            .and_then(|s| self.run(&s))
    }

    /// Sweeps `base` over every seed; the first failing seed ends the sweep. When every
    /// seed passed, a `sometimes` property that no seed reached fails the sweep.
    pub fn run(&self, base: &Scenario) -> Result<SweepSummary, Box<SweepFailure>> {
        let mut summary = SweepSummary::default();
        let mut coverage = Coverage::default();
        for seed in self.seeds.clone() {
            let s = self.scenario_for(base, seed);
            let report = self.run_seed(&s, seed)?;
            summary.seeds += 1;
            summary.trace_hashes.push(report.trace_hash);
            summary.histories_checked += u64::from(report.history.is_some());
            coverage.add_statuses(report.checks.iter().map(|c| (c.name, c.status)));
        }
        if let Some(property) = coverage.never_reached() {
            let kind = FailureKind::NeverReached {
                property: property.to_string(),
                seeds: summary.seeds,
            };
            return Err(self.fail(source_of(base), self.seeds.start, kind, None));
        }
        summary.sometimes_reached = coverage.into_counts();
        Ok(summary)
    }

    /// One seed: run (twice if asked), then check the expectation.
    fn run_seed(&self, s: &Scenario, seed: u64) -> Result<RunReport, Box<SweepFailure>> {
        let source = source_of(s);
        let once = || {
            let options = RunOptions {
                seed: Some(seed),
                ..RunOptions::default()
            };
            scenario::run(s, options).map_err(|e| {
                self.fail(
                    source.clone(),
                    seed,
                    FailureKind::Error(e.to_string()),
                    Some(s),
                )
            })
        };
        let report = once()?;
        if self.determinism {
            let again = once()?;
            let ops = |r: &RunReport| r.history.as_ref().map(|h| h.ops);
            if report.trace_hash != again.trace_hash || ops(&report) != ops(&again) {
                let kind = FailureKind::Nondeterministic {
                    first: report.trace_hash,
                    second: again.trace_hash,
                };
                return Err(self.fail(source, seed, kind, Some(s)));
            }
        }
        if !report.expectation_met {
            let mut failure = self.fail(source, seed, FailureKind::Unmet, Some(s));
            let mut report = report;
            // A replay that cannot be explained still fails the seed; it just says less.
            let _ = crate::explain::attach(s, &mut report);
            failure.violations = report.violations;
            return Err(failure.record(self.failures_dir.as_deref()));
        }
        Ok(report)
    }

    /// A failure of `seed`; only failures with a run behind them are written out (by the
    /// caller, once the violations are in).
    fn fail(
        &self,
        source: String,
        seed: u64,
        kind: FailureKind,
        s: Option<&Scenario>,
    ) -> Box<SweepFailure> {
        let failure = SweepFailure {
            source,
            seed,
            expected: s.map_or_else(String::new, |s| expected(&s.expect)),
            violations: Vec::new(),
            faults: s.map_or_else(Vec::new, |s| s.faults.clone()),
            network: s.map(|s| s.network.default.clone()),
            node_names: s.map_or_else(Vec::new, |s| s.node_names.clone()),
            written_to: None,
            scenario_yaml: s.map(scenario::to_yaml),
            shrunk: None,
            kind,
        };
        match failure.kind {
            FailureKind::Unmet => Box::new(failure),
            _ => Box::new(failure).record(self.failures_dir.as_deref()),
        }
    }
}

fn source_of(s: &Scenario) -> String {
    if s.file.is_empty() {
        s.name.clone()
    } else {
        s.file.clone()
    }
}

fn expected(spec: &scenario::ExpectSpec) -> String {
    match spec {
        scenario::ExpectSpec::Pass => "a pass".to_string(),
        scenario::ExpectSpec::Violation(None) => "a violation".to_string(),
        scenario::ExpectSpec::Violation(Some(p)) => format!("a violation of `{p}`"),
    }
}

// The guide's examples run as doc tests, so that they keep compiling.
#[cfg(doctest)]
#[doc = include_str!("../../docs/testing.md")]
pub struct Guide;

/// Whether the clients' history of `sim` passes the check of `model` (linearizability for
/// registers and kv, the Jepsen-style checkers for the others), as a scenario run would judge
/// it. Panics if the check gives no verdict (its time budget ran out), so a test never passes
/// on an unknown.
pub fn history_passes<P: crate::Process>(
    sim: &crate::Sim<P>,
    model: crate::workload::Model,
) -> bool {
    let check = crate::check::check_history(model, sim.history(), sim.node_names(), sim.now());
    assert_ne!(check.status, "unknown", "the history check gave no verdict");
    check.status == "pass"
}
