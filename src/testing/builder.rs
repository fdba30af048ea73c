//! Sweeps of simulations configured in Rust with [`SimBuilder`](crate::SimBuilder) rather
//! than a scenario file: the seed loop that [`sweep_builder`] and
//! [`BuilderSweep`](super::BuilderSweep) share.

use super::coverage::Coverage;
use super::failure::{FailureKind, SweepFailure};
use super::seed_run::{self, Outcome};
use crate::check::Property;
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
/// The faults and network are what `build` sets; to draw them per seed as `faultline fuzz`
/// does (random faults, a nemesis, swarm settings), use [`BuilderSweep`](super::BuilderSweep).
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
    mut build: impl FnMut(u64) -> Result<Sim<P>, SimError>,
    properties: &[Property<P>],
    end: SimTime,
) -> Result<BuilderSummary, Box<SweepFailure>> {
    let plan = Plan {
        seeds,
        end,
        twice: false,
    };
    sweep(&plan, &mut build, properties).map_err(|f| f.record(None))
}

/// As [`sweep_builder`], but builds and runs every seed twice: two different trace hashes
/// for one seed fail the sweep.
pub fn sweep_builder_deterministic<P: Process>(
    seeds: Range<u64>,
    mut build: impl FnMut(u64) -> Result<Sim<P>, SimError>,
    properties: &[Property<P>],
    end: SimTime,
) -> Result<BuilderSummary, Box<SweepFailure>> {
    let plan = Plan {
        seeds,
        end,
        twice: true,
    };
    sweep(&plan, &mut build, properties).map_err(|f| f.record(None))
}

/// The seeds of a builder sweep and how each runs.
pub(super) struct Plan {
    pub(super) seeds: Range<u64>,
    pub(super) end: SimTime,
    /// Run every seed twice and compare trace hashes.
    pub(super) twice: bool,
}

/// Runs every seed of `plan`, each simulation made by `make`; the first failing seed ends the
/// sweep with a failure that is not yet written out (the caller may add to it first).
pub(super) fn sweep<P: Process>(
    plan: &Plan,
    make: &mut impl FnMut(u64) -> Result<Sim<P>, SimError>,
    properties: &[Property<P>],
) -> Result<BuilderSummary, Box<SweepFailure>> {
    let mut summary = BuilderSummary::default();
    let mut coverage = Coverage::default();
    for seed in plan.seeds.clone() {
        let once = |make: &mut dyn FnMut(u64) -> Result<Sim<P>, SimError>| {
            make(seed)
                .and_then(|sim| seed_run::run(sim, properties, plan.end, None))
                .map_err(|e| failure(seed, FailureKind::Error(e.to_string()), None))
        };
        let outcome = once(&mut *make)?;
        if plan.twice {
            let again = once(&mut *make)?;
            if again.hash != outcome.hash {
                let kind = FailureKind::Nondeterministic {
                    first: outcome.hash,
                    second: again.hash,
                };
                return Err(failure(seed, kind, Some(&outcome)));
            }
        }
        if !outcome.violations.is_empty() {
            let mut f = failure(seed, FailureKind::Unmet, Some(&outcome));
            f.violations = seed_run::explained(make, seed, properties, plan.end, &outcome);
            return Err(f);
        }
        summary.seeds += 1;
        summary.trace_hashes.push(outcome.hash);
        coverage.add_reached(&outcome.reached);
    }
    if let Some(property) = coverage.never_reached() {
        let kind = FailureKind::NeverReached {
            property: property.to_string(),
            seeds: summary.seeds,
        };
        return Err(failure(plan.seeds.start, kind, None));
    }
    summary.sometimes_reached = coverage.into_counts();
    Ok(summary)
}

/// A failure of `seed`, with the faults, network and node names of its run when it had one.
fn failure(seed: u64, kind: FailureKind, run: Option<&Outcome>) -> Box<SweepFailure> {
    Box::new(SweepFailure {
        source: "builder".to_string(),
        seed,
        kind,
        expected: String::new(),
        violations: Vec::new(),
        faults: run.map_or_else(Vec::new, |r| r.faults.clone()),
        network: run.map(|r| r.link.clone()),
        node_names: run.map_or_else(Vec::new, |r| r.node_names.clone()),
        written_to: None,
        scenario_yaml: None,
        shrunk: None,
    })
}
