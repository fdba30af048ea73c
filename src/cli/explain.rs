//! After `faultline run`: explanations of the violations, the ShiViz log, and the violation
//! and explanation records appended to the trace file.

use super::{EXIT_BAD_INPUT, EXIT_INTERNAL};
use crate::explain;
use crate::scenario::{RunReport, Scenario};
use std::io::Write;
use std::path::Path;

/// What `run` writes after the run besides its report.
pub(super) struct Outputs<'a> {
    pub(super) trace: Option<&'a Path>,
    pub(super) shiviz: Option<&'a Path>,
    pub(super) limit: super::size::Limit,
}

/// Explains the violations within `budget`, writes the ShiViz log if asked for, and appends
/// the violations to the trace file. Returns the exit code on failure.
pub(super) fn after_run(
    scenario: &Scenario,
    report: &mut RunReport,
    budget: explain::Budget,
    outputs: Outputs<'_>,
) -> Result<(), u8> {
    let internal = |e: explain::ExplainError| {
        eprintln!("{}: {e}", super::program());
        EXIT_INTERNAL
    };
    explain::attach_within(scenario, report, budget).map_err(internal)?;
    if let Some(path) = outputs.shiviz {
        let nodes = report.node_names.len() as u64;
        let per_event_bytes =
            super::size::SHIVIZ_EVENT_BYTES + super::size::SHIVIZ_NODE_BYTES * nodes;
        // Checked before the replay: the log's vector clocks take memory as it would.
        let size_bytes = report.trace_events.saturating_mul(per_event_bytes);
        outputs.limit.check("the ShiViz log", path, size_bytes)?;
        let events = explain::capture(scenario, report).map_err(internal)?;
        // A violation found at an event marks it; one found in the history marks the last
        // event of its explanation's chain.
        let marks: Vec<(u64, String)> = (report.violations.iter())
            .filter_map(|v| {
                let chain_end = v.explanation.as_ref().and_then(|x| x.chain.last().copied());
                Some((v.event.or(chain_end)?, v.property.clone()))
            })
            .collect();
        let written = std::fs::File::create(path)
            .and_then(|f| explain::shiviz::write_log(&events, &report.node_names, &marks, f));
        if let Err(e) = written {
            eprintln!("{}: cannot write the ShiViz log: {e}", path.display());
            return Err(EXIT_BAD_INPUT);
        }
    }
    if let Some(path) = outputs.trace.filter(|_| !report.violations.is_empty()) {
        append_records(path, report).map_err(|e| {
            eprintln!(
                "{}: cannot append the violations to the trace: {e}",
                path.display()
            );
            EXIT_BAD_INPUT
        })?;
    }
    Ok(())
}

/// Appends one line per violation and per explanation after the trace's events.
fn append_records(path: &Path, report: &RunReport) -> std::io::Result<()> {
    let file = std::fs::OpenOptions::new().append(true).open(path)?;
    let mut out = std::io::BufWriter::new(file);
    for record in explain::trace_records(report) {
        serde_json::to_writer(&mut out, &record)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}
