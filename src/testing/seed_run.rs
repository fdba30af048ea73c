//! One seed of a builder sweep: how its simulation is made (with the sweep's draw, or with a
//! shrink candidate's faults and network pinned), how it ran, and the
//! explanation of its violations from a captured replay.

use crate::check::{CheckEvery, Checker, Property, Reached, ViolationReport};
use crate::engine::{Sim, SimBuilder, SimError};
use crate::explain::{self, Budget, ExplainError, RunFacts};
use crate::faults::{Draw, TimedFault};
use crate::net::LinkConfig;
use crate::process::Process;
use crate::scenario::Found;
use crate::time::SimTime;
use crate::trace::TraceSink;
use std::cell::Cell;
use std::rc::Rc;

/// What a sweep does to the faults and network of the simulation the user builds.
#[derive(Clone, Debug)]
pub(super) enum Setup {
    /// The seed's draw, applied after everything the user set.
    Draw(Box<Draw>),
    /// Exactly these faults and this default link (a shrink candidate).
    Pinned {
        faults: Vec<TimedFault>,
        link: LinkConfig,
    },
}

/// Builds seed `seed`'s simulation from a closure given a [`SimBuilder`], with `setup`
/// applied to the faults and network when it is built. A closure that builds from another
/// builder would run without the seed's draw: that is an error, not a silent pass.
pub(super) fn build_given<P: Process>(
    build: &mut impl FnMut(SimBuilder) -> Result<Sim<P>, SimError>,
    seed: u64,
    setup: &Setup,
) -> Result<Sim<P>, SimError> {
    let applied = Rc::new(Cell::new(false));
    let flag = applied.clone();
    let setup = setup.clone();
    let builder = SimBuilder::new(seed).reshape(Box::new(move |nodes, faults, network| {
        match setup {
            Setup::Draw(draw) => draw.apply(seed, nodes, faults, network),
            Setup::Pinned { faults: f, link } => {
                *faults = f;
                network.default = link;
            }
        }
        flag.set(true);
    }));
    let sim = build(builder)?;
    if !applied.get() || sim.seed() != seed {
        return Err(SimError::Invalid(format!(
            "the closure of a builder sweep must build the SimBuilder it is given (for seed \
             {seed}): one it made itself would not run the faults and network the sweep drew"
        )));
    }
    Ok(sim)
}

/// How one run of a seed went.
pub(super) struct Outcome {
    pub(super) hash: u64,
    pub(super) trace_events: u64,
    /// The faults and the default link as the run used them.
    pub(super) faults: Vec<TimedFault>,
    pub(super) link: LinkConfig,
    pub(super) node_names: Vec<String>,
    pub(super) violations: Vec<ViolationReport>,
    pub(super) reached: Vec<Reached>,
}

/// Runs `sim` to `end` as [`crate::check::run_checked`] does, every trace event going to
/// `capture` when given.
pub(super) fn run<P: Process>(
    mut sim: Sim<P>,
    properties: &[Property<P>],
    end: SimTime,
    capture: Option<Box<dyn TraceSink>>,
) -> Result<Outcome, SimError> {
    if let Some(sink) = capture {
        // A fresh simulation has recorded nothing yet, so the sink sees the whole run.
        let _ = sim.capture_trace(sink);
    }
    let mut checker = Checker::new(properties, CheckEvery::Event);
    let violations = match checker.step_until(&mut sim, end)? {
        Some(v) => vec![v],
        None => checker.finish(&sim),
    };
    Ok(Outcome {
        hash: sim.trace_hash(),
        trace_events: sim.trace_len(),
        faults: sim.faults().to_vec(),
        link: sim.network().default.clone(),
        node_names: sim.node_names().to_vec(),
        violations,
        reached: checker.reached(),
    })
}

/// The violations of `outcome`, each explained from replays of its run (`make(seed)` builds
/// the same simulation again), within the default budget. A replay that cannot be made or
/// goes differently leaves the violations unexplained: the seed fails either way, its report
/// just says less.
pub(super) fn explained<P: Process>(
    make: &mut dyn FnMut(u64) -> Result<Sim<P>, SimError>,
    seed: u64,
    properties: &[Property<P>],
    end: SimTime,
    outcome: &Outcome,
) -> Vec<Found> {
    let mut found: Vec<Found> = outcome
        .violations
        .iter()
        .cloned()
        .map(Found::from)
        .collect();
    let facts = RunFacts {
        trace_events: outcome.trace_events,
        trace_hash: outcome.hash,
    };
    let mut replay = |sink: Box<dyn TraceSink>| {
        make(seed)
            .and_then(|sim| run(sim, properties, end, Some(sink)))
            .map(|replayed| replayed.hash)
            .map_err(|e| ExplainError::Rebuild(e.to_string()))
    };
    let names = &outcome.node_names;
    if explain::explain_found(&mut found, names, facts, Budget::default(), &mut replay).is_err() {
        found = outcome
            .violations
            .iter()
            .cloned()
            .map(Found::from)
            .collect();
    }
    found
}
