//! Causality and plain-words explanations of violations.
//!
//! A run that ends with a violation is replayed (same scenario, same seed: bit for bit the
//! same run) with a [`CaptureSink`] that keeps every trace event, so ordinary runs pay
//! nothing. From the captured trace come the [`Causality`] of the run (which event happened
//! on which host, which send each delivery received), its [`VectorClocks`], a ShiViz log
//! ([`shiviz::write_log`]) and, for each violation, an [`Explanation`]: the property, the time,
//! the nodes, and the few events that happened before it and matter most ([`chain`]).

mod capture;
mod causality;
pub mod chain;
mod clock;
pub mod shiviz;
mod words;

pub use crate::scenario::Explanation;
pub use capture::{CaptureSink, Captured};
pub use causality::{Causality, EventIndex};
pub use chain::{Chain, Focus, MAX_STEPS, Step};
pub use clock::VectorClocks;
pub use words::event_words;

use crate::check::ViolationReport;
use crate::scenario::{self, RunError, RunOptions, RunReport, Scenario};
use crate::trace::TraceKind;
use serde_json::{Value, json};
use std::fmt::Write;

/// Why a run could not be explained.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    #[error("cannot replay the run to explain it: {0}")]
    Replay(#[from] RunError),
    #[error(
        "the replay to explain the run went differently (trace hash {replayed:016x}, not {original:016x})"
    )]
    Diverged { original: u64, replayed: u64 },
}

/// Replays the run of `report` with every event captured and attaches an explanation to each
/// of its violations. Does nothing for a run without violations.
pub fn attach(scenario: &Scenario, report: &mut RunReport) -> Result<(), ExplainError> {
    if report.violations.is_empty() {
        return Ok(());
    }
    let events = capture(scenario, report)?;
    annotate(&events, report);
    Ok(())
}

/// Attaches an explanation to each violation of `report`, from its run's captured trace.
pub fn annotate(events: &[Captured], report: &mut RunReport) {
    for v in &mut report.violations {
        v.explanation = Some(explain(events, &report.node_names, v));
    }
}

/// Replays the run of `report` and returns its whole trace, checking it is the same run.
pub fn capture(scenario: &Scenario, report: &RunReport) -> Result<Vec<Captured>, ExplainError> {
    let sink = CaptureSink::new();
    let replay = scenario::run(
        scenario,
        RunOptions {
            seed: Some(report.seed),
            trace: Some(Box::new(sink.clone())),
            progress: false,
            history: None,
            deadline: None,
        },
    )?;
    if replay.trace_hash != report.trace_hash {
        return Err(ExplainError::Diverged {
            original: report.trace_hash,
            replayed: replay.trace_hash,
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
    let clocks = VectorClocks::new(&causality);
    let focus = Focus {
        event: violation.event,
        nodes: &violation.nodes,
        ops: &violation.ops,
    };
    let chain = chain::chain(events, &causality, &clocks, &focus);
    let mut text = headline(violation);
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
            event_words(events, &causality, step.event)
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
        let _ = write!(line, ", involving {}", v.nodes.join(", "));
    }
    if !v.ops.is_empty() {
        let ops: Vec<String> = v
            .ops
            .iter()
            .take(HEADLINE_OPS)
            .map(|o| format!("client {} op {}", o.client, o.seq))
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
    line.push_str(". What led there, in happened-before order:");
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
