//! Shrinking a failing run of a builder sweep: a simulation of any [`Process`], registered as
//! a protocol or not, built by the same closure the sweep ran. The faults go by delta
//! debugging and the default link gets kinder (no loss, no duplicates, a constant latency)
//! while the same property still fails, with the reductions and budgets of
//! [`crate::explore::shrink`].

use super::seed_run::{self, Setup};
use crate::check::Property;
use crate::engine::{Sim, SimBuilder, SimError};
use crate::explore::reduce::{ddmin, lower_probability};
use crate::explore::shrink::CANDIDATES_MAX;
use crate::faults::TimedFault;
use crate::net::{Latency, LinkConfig};
use crate::process::Process;
use crate::time::{SimDuration, SimTime};

/// A run of a builder sweep: the seed, and the faults and default link it ran with (what the
/// sweep drew, as [`SweepFailure::builder_run`](super::SweepFailure::builder_run) gives them).
#[derive(Clone, Debug, PartialEq)]
pub struct BuilderRun {
    pub seed: u64,
    pub faults: Vec<TimedFault>,
    pub network: LinkConfig,
}

/// What a shrink of a builder run found.
#[derive(Clone, Debug, PartialEq)]
pub struct BuilderShrink {
    /// The property that failed in the original run and still fails in `after`.
    pub property: String,
    pub before: BuilderRun,
    /// The smallest run found that still fails: fewer faults, a kinder network.
    pub after: BuilderRun,
    /// Candidate runs, the original one included (at most [`CANDIDATES_MAX`]).
    pub runs: usize,
}

/// Why a builder run could not be shrunk.
#[derive(Debug, thiserror::Error)]
pub enum BuilderShrinkError {
    #[error("seed {seed} breaks no property with these faults and this network: nothing to shrink")]
    DoesNotFail { seed: u64 },
    #[error("seed {seed}: cannot build or run the simulation: {error}")]
    Run { seed: u64, error: SimError },
}

/// Shrinks `run`, a failing run of `build` (the closure a
/// [`BuilderSweep`](super::BuilderSweep) ran) checked against `properties` up to `end`: the
/// fewest faults and the kindest default link found with which the first property it broke
/// still fails. The seed stays; the faults and link replace whatever `build` sets. Every
/// candidate is a run, at most [`CANDIDATES_MAX`] of them; the same input always shrinks to
/// the same output.
pub fn shrink_builder<P: Process>(
    run: &BuilderRun,
    mut build: impl FnMut(SimBuilder) -> Result<Sim<P>, SimError>,
    properties: &[Property<P>],
    end: SimTime,
) -> Result<BuilderShrink, BuilderShrinkError> {
    shrink_with(&mut build, run, properties, end)
}

/// [`shrink_builder`] with a borrowed closure, for a sweep that goes on using it.
pub(super) fn shrink_with<P: Process, B>(
    build: &mut B,
    run: &BuilderRun,
    properties: &[Property<P>],
    end: SimTime,
) -> Result<BuilderShrink, BuilderShrinkError>
where
    B: FnMut(SimBuilder) -> Result<Sim<P>, SimError>,
{
    let mut s = Shrinker {
        build,
        properties,
        end,
        property: String::new(),
        runs: 1,
        current: run.clone(),
    };
    let seed = run.seed;
    let first = s
        .violated(run)
        .map_err(|error| BuilderShrinkError::Run { seed, error })?;
    s.property = first
        .into_iter()
        .next()
        .ok_or(BuilderShrinkError::DoesNotFail { seed })?;
    s.faults();
    s.network();
    Ok(BuilderShrink {
        property: s.property,
        before: run.clone(),
        after: s.current,
        runs: s.runs,
    })
}

struct Shrinker<'a, P: Process, B> {
    build: &'a mut B,
    properties: &'a [Property<P>],
    end: SimTime,
    property: String,
    runs: usize,
    current: BuilderRun,
}

impl<P: Process, B> Shrinker<'_, P, B>
where
    B: FnMut(SimBuilder) -> Result<Sim<P>, SimError>,
{
    /// The properties `run` breaks, in the order found.
    fn violated(&mut self, run: &BuilderRun) -> Result<Vec<String>, SimError> {
        let setup = Setup::Pinned {
            faults: run.faults.clone(),
            link: run.network.clone(),
        };
        let sim = seed_run::build_given(self.build, run.seed, &setup)?;
        let outcome = seed_run::run(sim, self.properties, self.end, None)?;
        Ok(outcome.violations.into_iter().map(|v| v.property).collect())
    }

    /// Runs a candidate: when it still breaks the property, it becomes the current run.
    fn attempt(&mut self, candidate: BuilderRun) -> bool {
        if self.runs >= CANDIDATES_MAX {
            return false;
        }
        self.runs += 1;
        let fails = self
            .violated(&candidate)
            .is_ok_and(|found| found.contains(&self.property));
        if fails {
            self.current = candidate;
        }
        fails
    }

    /// Delta debugging over the faults; a liveness phase stays, as in a scenario's shrink.
    fn faults(&mut self) {
        let (phase, items): (Vec<TimedFault>, Vec<TimedFault>) = self
            .current
            .faults
            .iter()
            .cloned()
            .partition(|f| f.is_liveness_phase());
        ddmin(
            self,
            items,
            |s| s.runs,
            |s, keep| {
                let mut candidate = s.current.clone();
                candidate.faults = keep.to_vec();
                candidate.faults.extend(phase.iter().cloned());
                s.attempt(candidate)
            },
        );
    }

    /// No loss, no duplicates (else less of them), and a constant latency.
    fn network(&mut self) {
        let drop = self.current.network.drop;
        lower_probability(self, drop, |s, p| {
            let mut candidate = s.current.clone();
            candidate.network.drop = p;
            s.attempt(candidate)
        });
        let duplicate = self.current.network.duplicate;
        lower_probability(self, duplicate, |s, p| {
            let mut candidate = s.current.clone();
            candidate.network.duplicate = p;
            s.attempt(candidate)
        });
        if let Some(typical) = typical(&self.current.network.latency) {
            let mut candidate = self.current.clone();
            candidate.network.latency = Latency::Constant(typical);
            self.attempt(candidate);
        }
    }
}

/// A latency the distribution typically gives, to try as a constant in its place; `None`
/// for a constant latency, which is as simple as it gets.
fn typical(latency: &Latency) -> Option<SimDuration> {
    match latency {
        Latency::Constant(_) => None,
        Latency::Uniform(low, high) => Some(SimDuration(low.0 + (high.0 - low.0) / 2)),
        Latency::Normal { mean, .. } => Some(*mean),
        Latency::Exponential { mean, min } => Some(SimDuration(min.0.saturating_add(mean.0))),
        Latency::Pareto { scale, .. } => Some(*scale),
        Latency::Mix(parts) => {
            let heaviest = parts.iter().max_by(|a, b| a.weight.total_cmp(&b.weight))?;
            typical(&heaviest.latency).or(match heaviest.latency {
                Latency::Constant(d) => Some(d),
                _ => None,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typical_latency_stands_for_each_distribution() {
        let ms = SimDuration::from_millis;
        assert_eq!(typical(&Latency::Constant(ms(3))), None);
        assert_eq!(typical(&Latency::Uniform(ms(2), ms(10))), Some(ms(6)));
        let exp = Latency::Exponential {
            mean: ms(5),
            min: ms(1),
        };
        assert_eq!(typical(&exp), Some(ms(6)));
        let mix = Latency::Mix(vec![
            crate::net::MixPart {
                weight: 0.9,
                latency: Latency::Constant(ms(1)),
            },
            crate::net::MixPart {
                weight: 0.1,
                latency: Latency::Constant(ms(500)),
            },
        ]);
        assert_eq!(typical(&mix), Some(ms(1)));
    }
}
