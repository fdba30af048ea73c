//! `faultline viz`: a trace file drawn as a self-contained HTML page.

use super::{EXIT_BAD_INPUT, EXIT_OK};
use crate::viz::{self, Meta, Page};
use std::path::PathBuf;

pub(super) const VIZ_HELP: &str = "\
The page is one HTML file with its styles, script and data inside: it opens from disk in
any modern browser, offline. It shows a lane per node and time left to right: an arrow per
delivered message, dropped messages ending in a cross that names the reason, duplicates,
timers, crashes and restarts, pauses, partitions, clock skew, client operations and the
violation. Arrow keys (or j/k) step event by event; the details panel shows every field of
the selected event, and the node's state before and after it when the trace has states
(`faultline run --trace FILE --states`). See docs/viewer.md.

Exit codes:
  0  the page was written
  2  bad input: an unreadable or malformed trace (named as file:line:column), a trace
     with no events, or OUT cannot be written

Examples:
  faultline run scenarios/raft-figure8-bug.yaml --trace run.jsonl --states
  faultline viz run.jsonl -o run.html
  faultline run scenarios/broadcast-partition.yaml --html run.html";

#[derive(clap::Args)]
pub(super) struct VizArgs {
    /// A trace written by `faultline run --trace` (JSON Lines).
    trace: PathBuf,
    /// The page to write (default: the trace's name with `.html`).
    #[arg(short, long, value_name = "OUT")]
    output: Option<PathBuf>,
    /// The page's heading (default: the trace's file name).
    #[arg(long)]
    title: Option<String>,
    /// Refuse to write a page above N MB (of 2^20 bytes); one above 100 MB (or half of N)
    /// is announced on standard error with its estimated size.
    #[arg(long = "max-output-mb", value_name = "N", default_value_t = 500)]
    output_mb_max: u64,
}

pub(super) fn viz(args: &VizArgs) -> u8 {
    let out = args
        .output
        .clone()
        .unwrap_or_else(|| args.trace.with_extension("html"));
    if let Err(code) = super::paths::refuse_overwrite(&[&args.trace], &[("the page", &out)]) {
        return code;
    }
    let trace = match viz::read_trace(&args.trace) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_BAD_INPUT;
        }
    };
    if trace.events == 0 {
        // A page of no events looks like a run where nothing happened, which no run is.
        eprintln!("{}: the trace has no events", args.trace.display());
        return EXIT_BAD_INPUT;
    }
    let title = args.title.clone().unwrap_or_else(|| {
        args.trace
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| args.trace.display().to_string())
    });
    let meta = Meta {
        title,
        nodes: trace.nodes,
        ..Meta::default()
    };
    let events = trace.events;
    let page = Page::new(meta, trace.records);
    let limit = super::size::Limit::new(args.output_mb_max);
    if let Err(code) = limit.check("the page", &out, page.size_estimate_bytes()) {
        return code;
    }
    if let Err(e) = page.write(&out) {
        eprintln!("{}: cannot write the page: {e}", out.display());
        return EXIT_BAD_INPUT;
    }
    let done = format!("{}: {events} events drawn\n", out.display());
    super::out::finish(&done, EXIT_OK)
}
