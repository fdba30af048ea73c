//! [`BuilderSweep`]: a sweep of simulations built in Rust that draws, per seed, the faults and
//! network `faultline fuzz` draws, explains a failure and can shrink it.

use super::builder::{BuilderSummary, Plan, sweep};
use super::failure::{FailureKind, SweepFailure};
use super::seed_run::{Setup, build_given};
use super::shrink::shrink_with;
use crate::check::Property;
use crate::engine::{Sim, SimBuilder, SimError};
use crate::faults::{Draw, Nemesis, RandomFaults, Swarm};
use crate::process::Process;
use crate::time::{SimDuration, SimTime};
use std::ops::Range;
use std::path::PathBuf;

/// A configurable sweep over simulations you build in Rust, for a [`Process`] whether or not
/// it is registered as a protocol.
///
/// The closure you give [`BuilderSweep::run`] receives the seed's [`SimBuilder`] (its seed
/// is [`SimBuilder::seed`]), configures it — nodes, network, scripted faults, workload — and
/// builds it. When the simulation is built, the sweep's [`Draw`] is applied to what you set,
/// exactly as [`crate::explore::draw`] applies it to a scenario: random faults replace your
/// faults (a liveness phase stays), a nemesis adds its episodes, a swarm redraws the default
/// link. So a seed, a node count and a configuration give the same faults and network here,
/// in a [`Sweep`](super::Sweep) and in `faultline fuzz`.
///
/// A failing seed is replayed to explain each violation; the failure gives the network the
/// run drew and its faults up to the violation, and, with [`BuilderSweep::shrink_failures`],
/// the fewest faults and the kindest network that still fail ([`super::shrink_builder`]).
///
/// ```
/// use faultline::protocols::Protocol;
/// use faultline::protocols::broadcast::{Broadcast, Params};
/// use faultline::faults::{RandomFaults, Swarm, nemesis::Span};
/// use faultline::testing::BuilderSweep;
/// use faultline::SimTime;
///
/// let sweep = BuilderSweep::new(0..5, SimTime::from_secs(10))
///     // Partitions, crashes and pauses, all over by 7 s, as `faultline fuzz` draws them.
///     .random_faults(RandomFaults::all(SimTime::from_secs(7)))
///     // Up to 5 % of messages lost on the default link, drawn per seed.
///     .swarm(Swarm { drop: Some(Span { low: 0.0, high: 0.05 }), ..Swarm::default() })
///     .shrink_failures();
/// let build = |builder: faultline::SimBuilder| {
///     builder.nodes(3).build(|id| Broadcast::new(id, 3, &Params::default(), None))
/// };
/// let summary = sweep
///     .run(build, &Broadcast::properties())
///     .unwrap_or_else(|failure| panic!("{failure}"));
/// assert_eq!(summary.seeds, 5);
/// // What seed 2 runs, to look at before (or instead of) running it.
/// let sim = sweep.build_for(2, build).expect("builds");
/// assert!(!sim.faults().is_empty() && sim.network().default.drop <= 0.05);
/// ```
#[derive(Clone, Debug)]
pub struct BuilderSweep {
    pub seeds: Range<u64>,
    /// Each run goes to this simulated time.
    pub end: SimTime,
    /// What each seed draws (nothing by default).
    pub draw: Draw,
    /// Run every seed twice and compare trace hashes.
    pub determinism: bool,
    /// Shrink a failing seed's faults and network before reporting it.
    pub shrink: bool,
    /// Where to write a failure's message (besides [`super::FAILURES_DIR_ENV`]).
    pub failures_dir: Option<PathBuf>,
}

impl BuilderSweep {
    /// Every seed in `seeds`, each run to `end`, drawing nothing.
    pub fn new(seeds: Range<u64>, end: SimTime) -> Self {
        BuilderSweep {
            seeds,
            end,
            draw: Draw::default(),
            determinism: false,
            shrink: false,
            failures_dir: None,
        }
    }

    /// A random fault schedule per seed, replacing the faults the closure sets.
    pub fn random_faults(mut self, config: RandomFaults) -> Self {
        self.draw.random = Some(config);
        self
    }

    /// The random faults `faultline fuzz` draws for a scenario that runs until `end`
    /// ([`RandomFaults::fuzz`]).
    pub fn fuzz_faults(self) -> Self {
        let faults = RandomFaults::fuzz(SimDuration(self.end.0));
        self.random_faults(faults)
    }

    /// A nemesis's episodes per seed, merged with the faults.
    pub fn nemesis(mut self, nemesis: Nemesis) -> Self {
        self.draw.nemesis = Some(nemesis);
        self
    }

    /// Swarm settings per seed for the default link.
    pub fn swarm(mut self, swarm: Swarm) -> Self {
        self.draw.swarm = Some(swarm);
        self
    }

    /// Runs every seed twice: a different trace hash is a failure.
    pub fn check_determinism(mut self) -> Self {
        self.determinism = true;
        self
    }

    /// Shrinks a failing seed and puts the result in the failure
    /// ([`SweepFailure::shrunk`]) and its message.
    pub fn shrink_failures(mut self) -> Self {
        self.shrink = true;
        self
    }

    /// Writes a failure's message to `dir`.
    pub fn failures_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.failures_dir = Some(dir.into());
        self
    }

    /// The simulation exactly as seed `seed` runs it, built but not yet run.
    pub fn build_for<P: Process>(
        &self,
        seed: u64,
        mut build: impl FnMut(SimBuilder) -> Result<Sim<P>, SimError>,
    ) -> Result<Sim<P>, SimError> {
        build_given(&mut build, seed, &Setup::Draw(Box::new(self.draw.clone())))
    }

    /// Builds each seed's simulation with `build` (given the seed's [`SimBuilder`]), runs it
    /// as [`crate::check::run_checked`] does against `properties`, and stops at the first
    /// seed that breaks one. When every seed passed, a [`Property::sometimes`] that no seed
    /// reached fails the sweep.
    pub fn run<P: Process>(
        &self,
        mut build: impl FnMut(SimBuilder) -> Result<Sim<P>, SimError>,
        properties: &[Property<P>],
    ) -> Result<BuilderSummary, Box<SweepFailure>> {
        let plan = Plan {
            seeds: self.seeds.clone(),
            end: self.end,
            twice: self.determinism,
        };
        let setup = Setup::Draw(Box::new(self.draw.clone()));
        let result = sweep(
            &plan,
            &mut |seed| build_given(&mut build, seed, &setup),
            properties,
        );
        let mut failure = match result {
            Ok(summary) => return Ok(summary),
            Err(failure) => failure,
        };
        if self.shrink
            && failure.kind == FailureKind::Unmet
            && let Some(run) = failure.builder_run()
        {
            // A shrink that cannot run leaves the failure as the sweep found it.
            failure.shrunk = shrink_with(&mut build, &run, properties, self.end).ok();
        }
        Err(failure.record(self.failures_dir.as_deref()))
    }
}
