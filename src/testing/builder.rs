//! Sweeps of simulations configured in Rust with [`SimBuilder`](crate::SimBuilder) rather
//! than a scenario file.

use super::coverage::Coverage;
use super::failure::{FailureKind, SweepFailure};
use crate::check::{CheckEvery, Checker, Property, Reached};
use crate::engine::{Sim, SimError};
use crate::process::Process;
use crate::time::SimTime;
use std::collections::BTreeMap;
use std::ops::Range;

/// What a builder sweep saw when every seed passed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BuilderSummary {
    pub seeds: u64,
    /// Each seed's trace hash, in seed order.
    pub trace_hashes: Vec<u64>,
    /// Per `sometimes` property, how many seeds reached it (each at least one, or the sweep
    /// fails).
    pub sometimes_reached: BTreeMap<String, u64>,
}

/// Builds a simulation per seed with `build`, runs it to `end` as
/// [`run_checked`](crate::check::run_checked) does (every `Always` property and monitor after
/// each event, every property at the end), and stops at the first seed with a violation.
/// When every seed passed, a [`Property::sometimes`] that no seed reached fails the sweep.
///
/// ```
/// use faultline::protocols::Protocol;
/// use faultline::protocols::broadcast::{Broadcast, Params};
/// use faultline::testing::sweep_builder;
/// use faultline::{SimBuilder, SimTime};
///
/// // Three nodes, the default network, no faults: a smoke test of the protocol.
/// let build = |seed| {
///     SimBuilder::new(seed)
///         .nodes(3)
///         .build(|id| Broadcast::new(id, 3, &Params::default(), None))
/// };
/// let summary = sweep_builder(0..5, build, &Broadcast::properties(), SimTime::from_secs(5))
///     .unwrap_or_else(|failure| panic!("{failure}"));
/// assert_eq!(summary.seeds, 5);
/// ```
pub fn sweep_builder<P: Process>(
    seeds: Range<u64>,
    build: impl FnMut(u64) -> Result<Sim<P>, SimError>,
    properties: &[Property<P>],
    end: SimTime,
) -> Result<BuilderSummary, Box<SweepFailure>> {
    sweep(seeds, build, properties, end, false)
}

/// As [`sweep_builder`], but builds and runs every seed twice: two different trace hashes
/// for one seed fail the sweep.
pub fn sweep_builder_deterministic<P: Process>(
    seeds: Range<u64>,
    build: impl FnMut(u64) -> Result<Sim<P>, SimError>,
    properties: &[Property<P>],
    end: SimTime,
) -> Result<BuilderSummary, Box<SweepFailure>> {
    sweep(seeds, build, properties, end, true)
}

fn sweep<P: Process>(
    seeds: Range<u64>,
    mut build: impl FnMut(u64) -> Result<Sim<P>, SimError>,
    properties: &[Property<P>],
    end: SimTime,
    twice: bool,
) -> Result<BuilderSummary, Box<SweepFailure>> {
    let mut summary = BuilderSummary::default();
    let mut coverage = Coverage::default();
    let first_seed = seeds.start;
    for seed in seeds {
        let (hash, faults, violations, reached) = run_once(&mut build, seed, properties, end)?;
        if twice {
            let (again, ..) = run_once(&mut build, seed, properties, end)?;
            if again != hash {
                let kind = FailureKind::Nondeterministic {
                    first: hash,
                    second: again,
                };
                return Err(failure(seed, kind, faults, Vec::new()));
            }
        }
        if !violations.is_empty() {
            return Err(failure(seed, FailureKind::Unmet, faults, violations));
        }
        summary.seeds += 1;
        summary.trace_hashes.push(hash);
        coverage.add_reached(&reached);
    }
    if let Some(property) = coverage.never_reached() {
        let kind = FailureKind::NeverReached {
            property: property.to_string(),
            seeds: summary.seeds,
        };
        return Err(failure(first_seed, kind, Vec::new(), Vec::new()));
    }
    summary.sometimes_reached = coverage.into_counts();
    Ok(summary)
}

type Outcome = (
    u64,
    Vec<crate::TimedFault>,
    Vec<crate::check::ViolationReport>,
    Vec<Reached>,
);

fn run_once<P: Process>(
    build: &mut impl FnMut(u64) -> Result<Sim<P>, SimError>,
    seed: u64,
    properties: &[Property<P>],
    end: SimTime,
) -> Result<Outcome, Box<SweepFailure>> {
    let error = |e: SimError| failure(seed, FailureKind::Error(e.to_string()), vec![], vec![]);
    let mut sim = build(seed).map_err(error)?;
    let mut checker = Checker::new(properties, CheckEvery::Event);
    let violations = match checker.step_until(&mut sim, end).map_err(error)? {
        Some(v) => vec![v],
        None => checker.finish(&sim),
    };
    let reached = checker.reached();
    Ok((sim.trace_hash(), sim.faults().to_vec(), violations, reached))
}

fn failure(
    seed: u64,
    kind: FailureKind,
    faults: Vec<crate::TimedFault>,
    violations: Vec<crate::check::ViolationReport>,
) -> Box<SweepFailure> {
    SweepFailure {
        source: "builder".to_string(),
        seed,
        kind,
        expected: String::new(),
        violations: violations.into_iter().map(Into::into).collect(),
        faults,
        network: None,
        node_names: Vec::new(),
        written_to: None,
        scenario_yaml: None,
    }
    .record(None)
}
