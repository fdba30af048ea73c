//! After `faultline run`: explanations of the violations, the ShiViz log, and the violation
//! and explanation records appended to the trace file.

use super::{EXIT_BAD_INPUT, EXIT_INTERNAL};
use crate::explain;
use crate::scenario::{RunReport, Scenario};
use std::io::Write;
use std::path::Path;

/// Replays the run once if it has violations or a ShiViz log is asked for, then explains,
/// exports and appends. Returns the exit code on failure.
pub(super) fn after_run(
    scenario: &Scenario,
    report: &mut RunReport,
    trace: Option<&Path>,
    shiviz: Option<&Path>,
    limit: super::size::Limit,
) -> Result<(), u8> {
    if report.violations.is_empty() && shiviz.is_none() {
        return Ok(());
    }
    let events = explain::capture(scenario, report).map_err(|e| {
        eprintln!("{}: {e}", super::program());
        EXIT_INTERNAL
    })?;
    explain::annotate(&events, report);
    if let Some(path) = shiviz {
        let nodes = report.node_names.len() as u64;
        let per_event_bytes =
            super::size::SHIVIZ_EVENT_BYTES + super::size::SHIVIZ_NODE_BYTES * nodes;
        limit.check(
            "the ShiViz log",
            path,
            events.len() as u64 * per_event_bytes,
        )?;
        let written = std::fs::File::create(path)
            .and_then(|f| explain::shiviz::write_log(&events, &report.node_names, f));
        if let Err(e) = written {
            eprintln!("{}: cannot write the ShiViz log: {e}", path.display());
            return Err(EXIT_BAD_INPUT);
        }
    }
    if let Some(path) = trace.filter(|_| !report.violations.is_empty()) {
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
