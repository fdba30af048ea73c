//! Explaining a run within a memory budget.
//!
//! The run is replayed once with every event captured: an event costs [`EVENT_BYTES`] (the
//! event, its dependencies, its bit in the causal cone) and its rendered detail. Details are
//! kept while they fit a quarter of the budget; past that, the chain is worked out without
//! them and a second replay renders the details of the dozen events it shows. A run too long
//! for the budget is not replayed at all: its violations say why they are not explained, and
//! the run's verdict stands.

use super::capture::{CaptureSink, Captured, DetailSink};
use super::causality::{Causality, EVENTS_MAX};
use super::{ExplainError, chain, render, words};
use crate::scenario::Found;
use crate::trace::TraceSink;

/// The memory an explanation may take unless told otherwise: 1 GiB.
pub const MEMORY_BYTES_MAX_DEFAULT: u64 = 1 << 30;

/// What an event costs to explain, its detail aside: the captured event, its three
/// dependencies (`u32` each) and its bit in the cone, rounded up.
pub const EVENT_BYTES: u64 = std::mem::size_of::<Captured>() as u64 + 12 + 1;

/// How much memory explaining a run may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    pub memory_bytes_max: u64,
}

impl Default for Budget {
    fn default() -> Budget {
        Budget {
            memory_bytes_max: MEMORY_BYTES_MAX_DEFAULT,
        }
    }
}

impl Budget {
    /// The part of the budget rendered details may take.
    pub fn details_bytes_max(self) -> u64 {
        self.memory_bytes_max / 4
    }

    /// The longest run, in trace events, this budget explains.
    pub fn events_max(self) -> u64 {
        let rest = self.memory_bytes_max - self.details_bytes_max();
        (rest / EVENT_BYTES).min(EVENTS_MAX as u64)
    }
}

/// What the first run found out about itself: how long its trace is and its hash, which
/// every replay must match.
#[derive(Clone, Copy, Debug)]
pub struct RunFacts {
    pub trace_events: u64,
    pub trace_hash: u64,
}

/// Runs the run again, every trace event going to the sink given, and returns the replay's
/// trace hash.
pub type Replay<'a> = dyn FnMut(Box<dyn TraceSink>) -> Result<u64, ExplainError> + 'a;

/// Explains each of `found` within `budget`, replaying the run with `replay` once, or twice
/// when the details did not all fit. A run longer than the budget allows gets, for each
/// violation, an explanation that says so; an error means a replay failed or went
/// differently.
pub fn explain_found(
    found: &mut [Found],
    node_names: &[String],
    facts: RunFacts,
    budget: Budget,
    replay: &mut Replay<'_>,
) -> Result<(), ExplainError> {
    if found.is_empty() {
        return Ok(());
    }
    let over = ExplainError::OverBudget {
        events: facts.trace_events,
        events_max: budget.events_max(),
        memory_mb: budget.memory_bytes_max >> 20,
    };
    let sink = usize::try_from(facts.trace_events)
        .ok()
        .filter(|_| facts.trace_events <= budget.events_max())
        .and_then(|n| {
            let details = usize::try_from(budget.details_bytes_max()).ok()?;
            CaptureSink::bounded(n, details).ok()
        });
    let Some(sink) = sink else {
        for f in found.iter_mut() {
            f.explanation = Some(super::unexplained(&f.violation, &over));
        }
        return Ok(());
    };
    same_run(facts, replay(Box::new(sink.clone()))?)?;
    let mut events = sink.take();
    let causality = Causality::new(&events, node_names);
    let chains: Vec<chain::Chain> = found
        .iter()
        .map(|f| chain::chain(&events, &causality, &super::focus(&f.violation)))
        .collect();
    if let Some(from) = sink.details_dropped_from() {
        let wanted: Vec<u64> = chains
            .iter()
            .flat_map(|c| &c.steps)
            .flat_map(|s| words::detail_sources(&events, &causality, s.event))
            .map(|i| i as u64)
            .filter(|&i| i >= from)
            .collect();
        if !wanted.is_empty() {
            let details = DetailSink::new(wanted);
            same_run(facts, replay(Box::new(details.clone()))?)?;
            for (i, d) in details.take() {
                events[i as usize].detail = Some(d);
            }
        }
    }
    for (f, chain) in found.iter_mut().zip(&chains) {
        f.explanation = Some(render(&events, &causality, &f.violation, chain));
    }
    Ok(())
}

fn same_run(facts: RunFacts, replayed: u64) -> Result<(), ExplainError> {
    if replayed == facts.trace_hash {
        Ok(())
    } else {
        Err(ExplainError::Diverged {
            original: facts.trace_hash,
            replayed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{RunOptions, Scenario};

    fn load(name: &str) -> Scenario {
        let path = format!("{}/scenarios/{name}.yaml", env!("CARGO_MANIFEST_DIR"));
        crate::Registry::builtin()
            .load(std::path::Path::new(&path))
            .unwrap()
    }

    /// The run's report and its violations explained within `budget`, with the number of
    /// replays it took.
    fn explained(s: &Scenario, budget: Budget) -> (Vec<Found>, usize) {
        let mut report = crate::scenario::run(s, RunOptions::default()).unwrap();
        assert!(!report.violations.is_empty(), "{} finds its bug", s.name);
        let facts = RunFacts {
            trace_events: report.trace_events,
            trace_hash: report.trace_hash,
        };
        let mut replays = 0;
        let mut replay = |sink: Box<dyn TraceSink>| {
            replays += 1;
            let options = RunOptions {
                trace: Some(sink),
                ..RunOptions::default()
            };
            Ok(crate::scenario::run(s, options)?.trace_hash)
        };
        let names = report.node_names.clone();
        explain_found(&mut report.violations, &names, facts, budget, &mut replay).unwrap();
        (report.violations, replays)
    }

    #[test]
    fn details_over_the_budget_are_fetched_by_a_second_replay_and_read_the_same() {
        for name in [
            "raft-figure8-bug",
            "quorum-kv-weak-stale-read",
            "register-stale-read-bug",
        ] {
            let s = load(name);
            let (full, replays) = explained(&s, Budget::default());
            assert_eq!(replays, 1, "{name}: the details fit 1 GiB");
            // Room for every event, and for about 30 bytes of detail an event: too little.
            let events = crate::scenario::run(&s, RunOptions::default())
                .unwrap()
                .trace_events;
            let tight = Budget {
                memory_bytes_max: 120 * events,
            };
            assert!(tight.events_max() >= events);
            let (lean, replays) = explained(&s, tight);
            // Details run out part way: a chain all before that point needs no second look.
            let second_look = name == "raft-figure8-bug";
            assert_eq!(replays, 1 + usize::from(second_look), "{name}");
            assert_eq!(
                full, lean,
                "{name}: the explanation does not depend on the budget"
            );
        }
    }

    #[test]
    fn a_run_longer_than_the_budget_keeps_its_violations_and_says_why() {
        let s = load("raft-figure8-bug");
        let budget = Budget {
            memory_bytes_max: 1 << 16,
        };
        let (found, replays) = explained(&s, budget);
        assert_eq!(replays, 0, "nothing is replayed that cannot be explained");
        let text = &found[0].explanation.as_ref().unwrap().text;
        assert!(text.starts_with(&format!("{} was violated at", found[0].property)));
        assert!(
            text.contains("not explained: the run has 5712 trace events and a budget of 0 MB"),
            "{text}"
        );
        assert!(found[0].explanation.as_ref().unwrap().chain.is_empty());
    }
}
