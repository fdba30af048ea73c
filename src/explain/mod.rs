//! Causality and plain-words explanations of violations.
//!
//! A run that ends with a violation is replayed (same scenario, same seed: bit for bit the
//! same run) with a [`CaptureSink`] that keeps every trace event, so ordinary runs pay
//! nothing, and within a memory [`Budget`] ([`explain_found`]). From the captured trace come
//! the [`Causality`] of the run (which event happened on which host, which send each delivery
//! received), the causal past of the violation and, for each violation, an [`Explanation`]:
//! the property, the time, the nodes, and the few events that happened before it and matter
//! most ([`chain`]). The ShiViz log ([`shiviz::write_log`]) adds [`VectorClocks`].

mod budget;
mod capture;
mod causality;
pub mod chain;
mod clock;
mod cone;
pub mod shiviz;
mod words;

pub use crate::scenario::Explanation;
pub use budget::{Budget, EVENT_BYTES, MEMORY_BYTES_MAX_DEFAULT, Replay, RunFacts, explain_found};
pub use capture::{CaptureSink, Captured, DetailSink};
pub use causality::{Causality, EventIndex};
pub use chain::{Chain, Focus, MAX_STEPS, Step};
pub use clock::VectorClocks;
pub use words::{NAMES_LISTED_MAX, event_words, name_list};

use crate::check::ViolationReport;
use crate::scenario::{self, RunError, RunOptions, RunReport, Scenario};
use crate::trace::{TraceKind, client_name};
use serde_json::{Value, json};
use std::fmt::Write;

/// Why a run could not be explained.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    #[error("cannot replay the run to explain it: {0}")]
    Replay(#[from] RunError),
    #[error("cannot rebuild the simulation to explain the run: {0}")]
    Rebuild(String),
    #[error(
        "the replay to explain the run went differently (trace hash {replayed:016x}, not {original:016x})"
    )]
    Diverged { original: u64, replayed: u64 },
    #[error(
        "not explained: the run has {events} trace events and a budget of {memory_mb} MB \
         explains at most {events_max}; the verdict stands (`run --explain-memory-mb` raises \
         the budget, at about 11,000 events an MB)"
    )]
    OverBudget {
        events: u64,
        events_max: u64,
        memory_mb: u64,
    },
}

/// Replays the run of `report` and attaches an explanation to each of its violations,
/// within the default [`Budget`]. Does nothing for a run without violations.
pub fn attach(scenario: &Scenario, report: &mut RunReport) -> Result<(), ExplainError> {
    attach_within(scenario, report, Budget::default())
}

/// [`attach`] within `budget`.
pub fn attach_within(
    scenario: &Scenario,
    report: &mut RunReport,
    budget: Budget,
) -> Result<(), ExplainError> {
    if report.violations.iter().all(|v| v.explanation.is_some()) {
        return Ok(());
    }
    let facts = RunFacts {
        trace_events: report.trace_events,
        trace_hash: report.trace_hash,
    };
    let seed = report.seed;
    let mut replay = |sink: Box<dyn crate::trace::TraceSink>| replay_with(scenario, seed, sink);
    explain_found(
        &mut report.violations,
        &report.node_names,
        facts,
        budget,
        &mut replay,
    )
}

/// Runs `scenario` again with `seed`, every trace event going to `sink`; returns the trace hash.
fn replay_with(
    scenario: &Scenario,
    seed: u64,
    sink: Box<dyn crate::trace::TraceSink>,
) -> Result<u64, ExplainError> {
    let options = RunOptions {
        seed: Some(seed),
        trace: Some(sink),
        ..RunOptions::default()
    };
    Ok(scenario::run(scenario, options)?.trace_hash)
}

/// Replays the run of `report` and returns its whole trace with every detail, checking it is
/// the same run. Its memory grows with the run: a caller bounds the run's length first.
pub fn capture(scenario: &Scenario, report: &RunReport) -> Result<Vec<Captured>, ExplainError> {
    let sink = CaptureSink::new();
    let replayed = replay_with(scenario, report.seed, Box::new(sink.clone()))?;
    if replayed != report.trace_hash {
        return Err(ExplainError::Diverged {
            original: report.trace_hash,
            replayed,
        });
    }
    Ok(sink.take())
}

/// Explains `violation` from the whole captured trace of its run.
pub fn explain(
    events: &[Captured],
    node_names: &[String],
    violation: &ViolationReport,
) -> Explanation {
    let causality = Causality::new(events, node_names);
    let chain = chain::chain(events, &causality, &focus(violation));
    render(events, &causality, violation, &chain)
}

fn focus(violation: &ViolationReport) -> Focus<'_> {
    Focus {
        event: violation.event,
        nodes: &violation.nodes,
        ops: &violation.ops,
    }
}

/// What stands for an explanation that could not be made: the headline and the reason.
fn unexplained(violation: &ViolationReport, why: &ExplainError) -> Explanation {
    let mut text = headline(violation);
    let _ = write!(text, "\n({why})");
    Explanation {
        text,
        chain: Vec::new(),
        omitted: 0,
    }
}

/// The explanation's words for `chain`, from the captured trace.
fn render(
    events: &[Captured],
    causality: &Causality,
    violation: &ViolationReport,
    chain: &Chain,
) -> Explanation {
    let mut text = headline(violation);
    text.push_str(" What led there, in happened-before order:");
    for (k, step) in chain.steps.iter().enumerate() {
        let c = &events[step.event];
        let mark = if violation.event == Some(step.event as u64) {
            "  ← the property broke here"
        } else {
            ""
        };
        let _ = write!(
            text,
            "\n{:>2}. {} (#{}) {}{mark}",
            k + 1,
            c.event.time,
            step.event,
            event_words(events, causality, step.event)
        );
        let cuts = same_time_cuts(events, step.event);
        if !cuts.is_empty() {
            let _ = write!(text, "; at the same time: {}", cuts.join("; "));
        }
    }
    if chain.steps.is_empty() {
        text.push_str("\nno event of the run happened before it");
    }
    if chain.omitted > 0 {
        let _ = write!(
            text,
            "\n({} more events that happened before it are left out; `--trace FILE` writes them all)",
            chain.omitted
        );
    }
    let mut indices: Vec<u64> = chain
        .steps
        .iter()
        .flat_map(|s| std::iter::once(s.event).chain(s.send))
        .map(|i| i as u64)
        .collect();
    indices.sort_unstable();
    indices.dedup();
    Explanation {
        text,
        chain: indices,
        omitted: chain.omitted,
    }
}

/// Cuts and heals listed with the one a step shows.
const MAX_CUTS_LISTED: usize = 8;

/// The details of the other partitions (or heals) applied at the same time as event `i`: a
/// partition shows as one record per cut, and one of them stands for all in the chain.
fn same_time_cuts(events: &[Captured], i: EventIndex) -> Vec<String> {
    let e = &events[i].event;
    if !matches!(e.kind, TraceKind::Partition | TraceKind::Heal) {
        return Vec::new();
    }
    let same = |j: &usize| {
        let o = &events[*j].event;
        o.time == e.time && o.kind == e.kind
    };
    let first = (i.saturating_sub(MAX_CUTS_LISTED)..i)
        .rev()
        .take_while(|j| same(j))
        .last()
        .unwrap_or(i);
    (first..(i + MAX_CUTS_LISTED).min(events.len()))
        .filter(|&j| j != i)
        .take_while(|j| *j < i || same(j))
        .filter(|j| same(j))
        .filter_map(|j| events[j].detail.as_deref().map(words::short))
        .take(MAX_CUTS_LISTED)
        .collect()
}

/// How many of a history violation's ops the headline names.
const HEADLINE_OPS: usize = 3;

/// `election_safety was violated at 621ms, involving n4, n2. How it came about ...`
fn headline(v: &ViolationReport) -> String {
    let mut line = format!("{} was violated at {}", v.property, v.time);
    if !v.nodes.is_empty() {
        let _ = write!(line, ", involving {}", name_list(&v.nodes));
    }
    if !v.ops.is_empty() {
        let ops: Vec<String> = v
            .ops
            .iter()
            .take(HEADLINE_OPS)
            .map(|o| format!("op {} (client {})", o.op, client_name(o.client)))
            .collect();
        let more = v.ops.len().saturating_sub(HEADLINE_OPS);
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        let _ = write!(line, ", over {}{more}", ops.join(", "));
    }
    match v.event {
        Some(e) => {
            let _ = write!(line, ", found after trace event #{e}");
        }
        None if v.ops.is_empty() => line.push_str(", found at the end of the run"),
        None => line.push_str(", found in the clients' history"),
    }
    line.push('.');
    line
}

/// The lines appended to a trace file after its events: one `violation` record per violation
/// and one `explanation` record per explanation.
pub fn trace_records(report: &RunReport) -> Vec<Value> {
    let mut records = Vec::with_capacity(report.violations.len() * 2);
    for v in &report.violations {
        let mut record = json!({
            "kind": "violation",
            "property": v.property,
            "t_ns": v.time_ns,
            "t": v.time.to_string(),
            "nodes": v.nodes,
            "message": v.message,
        });
        if let Some(e) = v.event {
            record["event"] = json!(e);
        }
        if !v.ops.is_empty() {
            record["ops"] = json!(v.ops);
        }
        records.push(record);
        if let Some(x) = &v.explanation {
            records.push(json!({
                "kind": "explanation",
                "property": v.property,
                "text": x.text,
                "chain": x.chain,
            }));
        }
    }
    records
}

#[cfg(test)]
mod tests;
