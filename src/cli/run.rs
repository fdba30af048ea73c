//! `run`: one scenario, its report, and what it writes beside (trace, history, page).

use super::{EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_OK, EXIT_VIOLATION, Format};
use crate::Registry;
use crate::report;
use crate::scenario::{self, RunError, RunOptions};
use crate::time::SimTime;
use crate::trace::{JsonlSink, TraceSink};
use crate::viz::{Capture, TeeSink};
use std::path::PathBuf;

#[derive(clap::Args)]
pub(super) struct RunArgs {
    /// The scenario (YAML).
    file: PathBuf,
    /// Use this seed instead of the scenario's `seed:`.
    #[arg(long)]
    seed: Option<u64>,
    /// Write every trace event to FILE as JSON Lines.
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
    /// Write the clients' operation history to FILE as JSON Lines (scenarios with a
    /// `workload:`); `faultline check-history` reads it back.
    #[arg(long, value_name = "FILE")]
    history: Option<PathBuf>,
    /// Write the run as a self-contained HTML page (a space-time diagram) to FILE.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Write the run as a static SVG picture (the page's drawing, for docs) to FILE.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
    /// Draw only this stretch of simulated time in the SVG picture, as FROM..TO (for example
    /// `0ms..150ms`); a picture holds at most 20,000 events.
    #[arg(long, value_name = "FROM..TO", requires = "svg", value_parser = parse_window)]
    svg_window: Option<(SimTime, SimTime)>,
    /// Record each node's state before and after every handler in the trace and the page.
    #[arg(long)]
    states: bool,
    /// Also run the scenario twice more and compare the traces event by event.
    #[arg(long)]
    check_determinism: bool,
    /// Write the run as a ShiViz log to FILE (events with vector clocks; see docs/shiviz.md).
    #[arg(long, value_name = "FILE")]
    shiviz: Option<PathBuf>,
    /// Refuse to write a trace, page or ShiViz log above N MB (of 2^20 bytes); one above
    /// 100 MB (or half of N) is announced on standard error with its estimated size.
    #[arg(long = "max-output-mb", value_name = "N", default_value_t = 500)]
    output_mb_max: u64,
    /// Explain violations within N MB of memory (of 2^20 bytes): a run of more trace events
    /// than that allows (about 11,000 an MB) keeps its verdict and says why it is not explained.
    #[arg(long = "explain-memory-mb", value_name = "N", default_value_t = 1024,
          value_parser = clap::value_parser!(u64).range(1..=1 << 24))]
    explain_memory_mb: u64,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

pub(super) fn run(registry: &Registry, args: &RunArgs) -> u8 {
    let (seed, trace, format) = (args.seed, args.trace.as_deref(), args.format);
    let outputs = [
        ("--trace", &args.trace),
        ("--history", &args.history),
        ("--html", &args.html),
        ("--svg", &args.svg),
        ("--shiviz", &args.shiviz),
    ];
    let outputs: Vec<(&str, &std::path::Path)> = outputs
        .iter()
        .filter_map(|(flag, path)| path.as_deref().map(|p| (*flag, p)))
        .collect();
    if let Err(code) = super::paths::refuse_overwrite(&[&args.file], &outputs) {
        return code;
    }
    let scenario = match super::load(registry, &args.file) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let limit = super::size::Limit::new(args.output_mb_max);
    let progress = format == Format::Text;
    let mut options = RunOptions {
        seed,
        trace: None,
        progress,
        history: args.history.clone(),
        deadline: None,
    };
    let mut file_sink: Option<Box<dyn TraceSink>> = None;
    if let Some(path) = trace {
        match std::fs::File::create(path) {
            Ok(f) => {
                let what = format!("the trace {}", path.display());
                let f = super::size::Capped::new(f, limit, what);
                let sink = JsonlSink::new(f, scenario.node_names.clone());
                file_sink = Some(match args.states {
                    true => Box::new(sink.with_states()),
                    false => Box::new(sink),
                });
            }
            Err(e) => {
                eprintln!("{}: cannot create the trace file: {e}", path.display());
                return EXIT_BAD_INPUT;
            }
        }
    }
    let drawn = args.html.is_some() || args.svg.is_some();
    let capture = drawn.then(|| Capture::new(scenario.node_names.clone(), args.states));
    options.trace = TeeSink::join(file_sink, capture.as_ref().map(Capture::sink));
    let mut report = match scenario::run(&scenario, options) {
        Ok(r) => r,
        Err(e) => {
            if let (RunError::Trace(_), Some(path)) = (&e, trace) {
                // A trace cut short at the limit would read as a complete, shorter run.
                let _ = std::fs::remove_file(path);
            }
            return run_error(&e);
        }
    };
    let shiviz = args.shiviz.as_deref();
    let budget = crate::explain::Budget {
        memory_bytes_max: args.explain_memory_mb << 20,
    };
    let outputs = super::explain::Outputs {
        trace,
        shiviz,
        limit,
    };
    if let Err(code) = super::explain::after_run(&scenario, &mut report, budget, outputs) {
        return code;
    }
    if let Some(capture) = &capture
        && let Err(code) = write_drawings(args, capture, &report, limit)
    {
        return code;
    }
    let determinism = if args.check_determinism {
        match scenario::check_determinism(&scenario, seed) {
            Ok(d) => Some(d),
            Err(e) => return run_error(&e),
        }
    } else {
        None
    };
    let text = match format {
        Format::Text => run_text(args, &report, determinism.as_ref()),
        Format::Json => format!("{}\n", report::json(&report, determinism.as_ref())),
    };
    let deterministic = determinism.as_ref().is_none_or(|d| d.is_deterministic());
    let verdict = if report.expectation_met && deterministic {
        EXIT_OK
    } else {
        EXIT_VIOLATION
    };
    super::out::finish(&text, verdict)
}

/// Writes the page (`--html`) and the picture (`--svg`) of a finished run.
fn write_drawings(
    args: &RunArgs,
    capture: &Capture,
    report: &scenario::RunReport,
    limit: super::size::Limit,
) -> Result<(), u8> {
    let mut page = capture.page(report);
    page.add_analysis_records(crate::explain::trace_records(report));
    if let Some(path) = &args.html {
        limit.check("the page", path, page.size_estimate_bytes())?;
        if let Err(e) = page.write(path) {
            eprintln!("{}: cannot write the page: {e}", path.display());
            return Err(EXIT_BAD_INPUT);
        }
    }
    if let Some(path) = &args.svg {
        let svg = page.svg(args.svg_window).map_err(|e| {
            eprintln!("{}: cannot draw the picture: {e}", path.display());
            EXIT_BAD_INPUT
        })?;
        limit.check("the picture", path, svg.len() as u64)?;
        if let Err(e) = std::fs::write(path, svg) {
            eprintln!("{}: cannot write the picture: {e}", path.display());
            return Err(EXIT_BAD_INPUT);
        }
    }
    Ok(())
}

/// `--svg-window`: `FROM..TO`, two durations, the first before the second.
fn parse_window(text: &str) -> Result<(SimTime, SimTime), String> {
    let (from, to) = text
        .split_once("..")
        .ok_or_else(|| format!("`{text}` is not a window: write FROM..TO, such as 0ms..150ms"))?;
    let parse = |t: &str| crate::time::parse_duration(t.trim()).map_err(|e| e.to_string());
    let (from, to) = (parse(from)?, parse(to)?);
    if from >= to {
        return Err(format!(
            "the window {from}..{to} is empty: FROM must come before TO"
        ));
    }
    Ok((SimTime(from.0), SimTime(to.0)))
}

/// The report in words, with the files the run wrote.
fn run_text(
    args: &RunArgs,
    report: &scenario::RunReport,
    determinism: Option<&crate::trace::Determinism>,
) -> String {
    let mut text = report::text(report);
    if let Some(d) = determinism {
        text.push_str(&report::determinism_text(d, &report.node_names));
    }
    let files = [
        ("trace file", &args.trace),
        ("history   ", &args.history),
        ("shiviz    ", &args.shiviz),
        ("page      ", &args.html),
        ("picture   ", &args.svg),
    ];
    for (label, path) in files {
        if let Some(path) = path {
            text.push_str(&format!("{label} {}\n", path.display()));
        }
    }
    text
}

fn run_error(e: &RunError) -> u8 {
    eprintln!("{}: {e}", super::program());
    match e {
        RunError::Trace(_) | RunError::History { .. } => EXIT_BAD_INPUT,
        RunError::Build(_) | RunError::Params { .. } => EXIT_BAD_INPUT,
        RunError::Unsupported(_) => EXIT_BAD_INPUT,
        RunError::Panic { .. } => EXIT_INTERNAL,
        // No verdict, as a history check out of budget: `run` sets no deadline today.
        RunError::TimedOut { .. } => 4,
    }
}
