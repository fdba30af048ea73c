//! The `faultline` command line: parse, call the library, render.

use clap::{Parser, Subcommand, ValueEnum};
use faultline::report;
use faultline::scenario::{self, RunError, RunOptions};
use faultline::trace::{JsonlSink, TraceSink};
use faultline::viz::{Capture, TeeSink};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod cli;

use cli::explore::{FUZZ_HELP, FuzzArgs, MERGE_HELP, SHRINK_HELP, ShrinkArgs, fuzz, merge, shrink};
use cli::viz::{VIZ_HELP, VizArgs, viz};

const EXIT_OK: u8 = 0;
const EXIT_VIOLATION: u8 = 1;
const EXIT_BAD_INPUT: u8 = 2;
const EXIT_INTERNAL: u8 = 3;

const AFTER_HELP: &str = "\
Exit codes:
  0  the run met its expectations (`expect:` in the scenario)
  1  a property was violated, or `expect:` was not met
  2  bad input: an unreadable or invalid scenario file, or a bad flag
  3  internal error (a bug in faultline or in a built-in protocol)
  4  check-history only: no verdict within the time or memory budget

Examples:
  faultline run scenarios/echo-loss.yaml
  faultline run scenarios/broadcast-partition.yaml --seed 7 --trace run.jsonl
  faultline run scenarios/echo-duplicate-bug.yaml --format json
  faultline run scenarios/echo-loss.yaml --check-determinism
  faultline run scenarios/register-stale-read-bug.yaml --history h.jsonl
  faultline run scenarios/raft-figure8-bug.yaml --html run.html --states
  faultline viz run.jsonl -o run.html
  faultline validate scenarios/*.yaml
  faultline list
  faultline check-history history.jsonl --model cas-register";

/// A deterministic simulator for distributed systems: seeded network faults, crashes, pauses
/// and clock skew, replayed bit for bit from a scenario file.
#[derive(Parser)]
#[command(name = "faultline", version, after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(clap::Args)]
struct RunArgs {
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
    /// Record each node's state before and after every handler in the trace and the page.
    #[arg(long)]
    states: bool,
    /// Also run the scenario twice more and compare the traces event by event.
    #[arg(long)]
    check_determinism: bool,
    /// Write the run as a ShiViz log to FILE (events with vector clocks; see docs/shiviz.md).
    #[arg(long, value_name = "FILE")]
    shiviz: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario file and check its properties and expectation.
    #[command(after_help = AFTER_HELP)]
    Run(RunArgs),
    /// Check scenario files without running them.
    #[command(after_help = "Example:\n  faultline validate scenarios/*.yaml")]
    Validate {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Check an operation history (JSON Lines, Jepsen EDN or etcd log): linearizability, or a
    /// counter, set or unique-ids checker.
    #[command(after_help = CHECK_HISTORY_HELP)]
    CheckHistory {
        /// The history file.
        file: PathBuf,
        #[arg(long, value_enum)]
        model: HistoryModel,
        /// The initial value of the register (or of every key): an integer, `nil`, or a string.
        #[arg(long, value_name = "V")]
        initial: Option<String>,
        /// The input format; detected from the content when absent.
        #[arg(long, value_enum)]
        format_in: Option<HistoryFormat>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Give up with verdict `unknown` after this long, e.g. 500ms, 10s, 2m.
        #[arg(long, value_name = "D", default_value = "60s", value_parser = parse_duration)]
        time_budget: std::time::Duration,
    },
    /// Run a scenario over many seeds in parallel and write every failing seed as a scenario
    /// file that replays it.
    #[command(after_help = FUZZ_HELP)]
    Fuzz(FuzzArgs),
    /// Shrink a failing scenario to a smaller one that fails with the same property.
    #[command(after_help = SHRINK_HELP)]
    Shrink(ShrinkArgs),
    /// Combine the JSON reports of `faultline fuzz` shards into one report.
    #[command(after_help = MERGE_HELP)]
    Merge {
        /// Reports written by `faultline fuzz --format json`.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Also write the merged failures as JUnit XML to FILE.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Draw a trace file as a self-contained HTML page: a space-time diagram to step through.
    #[command(after_help = VIZ_HELP)]
    Viz(VizArgs),
    /// List the built-in protocols with their parameters, properties and bug variants.
    List {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = std::panic::catch_unwind(|| match cli.command {
        Command::Run(args) => run(&args),
        Command::Validate { files } => validate(&files),
        Command::Fuzz(args) => fuzz(&args),
        Command::Shrink(args) => shrink(&args),
        Command::Merge {
            files,
            junit,
            format,
        } => merge(&files, junit.as_deref(), format),
        Command::Viz(args) => viz(&args),
        Command::List { format } => list(format),
        Command::CheckHistory {
            file,
            model,
            initial,
            format_in,
            format,
            time_budget,
        } => check_history(
            &file,
            model,
            initial.as_deref(),
            format_in,
            format,
            time_budget,
        ),
    });
    ExitCode::from(outcome.unwrap_or_else(|_| {
        eprintln!("faultline: internal error (a bug in faultline); please report it with the scenario file");
        EXIT_INTERNAL
    }))
}

fn run(args: &RunArgs) -> u8 {
    let (seed, trace, format) = (args.seed, args.trace.as_deref(), args.format);
    let scenario = match scenario::load(&args.file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_BAD_INPUT;
        }
    };
    let progress = format == Format::Text;
    let mut options = RunOptions {
        seed,
        trace: None,
        progress,
        history: args.history.clone(),
    };
    let mut file_sink: Option<Box<dyn TraceSink>> = None;
    if let Some(path) = trace {
        match std::fs::File::create(path) {
            Ok(f) => {
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
    let capture =
        (args.html.as_ref()).map(|_| Capture::new(scenario.node_names.clone(), args.states));
    options.trace = TeeSink::join(file_sink, capture.as_ref().map(Capture::sink));
    let mut report = match scenario::run(&scenario, options) {
        Ok(r) => r,
        Err(e) => return run_error(&e),
    };
    if let Err(code) =
        cli::explain::after_run(&scenario, &mut report, trace, args.shiviz.as_deref())
    {
        return code;
    }
    if let (Some(path), Some(capture)) = (&args.html, &capture) {
        let mut page = capture.page(&report);
        page.add_analysis_records(faultline::explain::trace_records(&report));
        if let Err(e) = page.write(path) {
            eprintln!("{}: cannot write the page: {e}", path.display());
            return EXIT_BAD_INPUT;
        }
    }
    let determinism = if args.check_determinism {
        match scenario::check_determinism(&scenario, seed) {
            Ok(d) => Some(d),
            Err(e) => return run_error(&e),
        }
    } else {
        None
    };
    match format {
        Format::Text => {
            print!("{}", report::text(&report));
            if let Some(d) = &determinism {
                print!("{}", report::determinism_text(d, &report.node_names));
            }
            if let Some(path) = trace {
                println!("trace file {}", path.display());
            }
            if let Some(path) = &args.history {
                println!("history    {}", path.display());
            }
            if let Some(path) = &args.shiviz {
                println!("shiviz     {}", path.display());
            }
            if let Some(path) = &args.html {
                println!("page       {}", path.display());
            }
        }
        Format::Json => println!("{}", report::json(&report, determinism.as_ref())),
    }
    let deterministic = determinism.as_ref().is_none_or(|d| d.is_deterministic());
    if report.expectation_met && deterministic {
        EXIT_OK
    } else {
        EXIT_VIOLATION
    }
}

fn run_error(e: &RunError) -> u8 {
    eprintln!("faultline: {e}");
    match e {
        RunError::Trace(_) | RunError::History { .. } => EXIT_BAD_INPUT,
        RunError::Build(_) => EXIT_BAD_INPUT,
        RunError::Panic { .. } => EXIT_INTERNAL,
    }
}

fn validate(files: &[PathBuf]) -> u8 {
    let mut worst = EXIT_OK;
    for file in files {
        match scenario::load(file) {
            Ok(s) => println!(
                "{}: ok — {} ({}{}, {} nodes, {} faults{}, {})",
                file.display(),
                s.name,
                s.protocol,
                s.bug.map(|b| format!(", bug: {b}")).unwrap_or_default(),
                s.node_names.len(),
                s.faults.len(),
                s.workload
                    .as_ref()
                    .map(|w| format!(", {} {} clients", w.clients, w.model))
                    .unwrap_or_default(),
                s.duration
            ),
            Err(e) => {
                eprintln!("{e}");
                worst = EXIT_BAD_INPUT;
            }
        }
    }
    worst
}

fn list(format: Format) -> u8 {
    let protocols = faultline::protocols::all();
    if format == Format::Json {
        println!(
            "{}",
            serde_json::to_string_pretty(&protocols).expect("protocol docs serialise")
        );
        return EXIT_OK;
    }
    for p in &protocols {
        println!("{} — {}", p.name, p.summary);
        println!("  params:");
        for d in p.params {
            println!("    {:<20} default {:<8} {}", d.name, d.default, d.meaning);
        }
        println!("  properties:");
        for prop in &p.properties {
            let when = match prop.when {
                faultline::check::CheckWhen::Always => "always",
                faultline::check::CheckWhen::AtEnd => "at end",
                faultline::check::CheckWhen::Eventually => "eventually",
                faultline::check::CheckWhen::Sometimes => "sometimes",
            };
            println!("    {:<20} {:<8} {}", prop.name, when, prop.description);
        }
        if !p.workloads.is_empty() {
            let names: Vec<&str> = p.workloads.iter().map(|m| m.name()).collect();
            println!("  client workloads: {}", names.join(", "));
        }
        println!("  bug variants:");
        for b in p.bugs {
            println!(
                "    {:<20} violates {}: {}",
                b.name, b.violates, b.description
            );
        }
        println!();
    }
    EXIT_OK
}

const EXIT_UNKNOWN: u8 = 4;

const CHECK_HISTORY_HELP: &str = "\
Formats (detected from the content, or --format-in):
  jsonl  faultline's JSON Lines: {\"process\": 0, \"type\": \"invoke\", \"f\": \"write\", \"value\": 3}
  edn    Jepsen EDN: a vector of op maps, or one map a line; :fail ops are dropped,
         :info ops stay pending forever, :nemesis ops are ignored
  etcd   Porcupine's etcd log (INFO  jepsen.util - 0 :invoke :read nil)

Models:
  register, cas-register, kv   linearizability of a register, a CAS register, a map
  counter      add/read: every ok read lies within the possible sums of adds
  set          add/read of the whole set: acknowledged elements must not be lost
  unique-ids   generate: every ok value is distinct

Exit codes:
  0  linearizable (or valid)
  1  not linearizable / not valid (the first op at fault is named)
  2  bad input: an unreadable or malformed history, or a bad flag
  4  unknown: the time (or memory) budget ran out before a verdict

Examples:
  faultline run scenarios/register-linearizable.yaml --history history.jsonl
  faultline check-history history.jsonl --model cas-register --initial nil
  faultline check-history etcd_002.log --model cas-register --format json
  faultline check-history c50-ok.txt --model kv --time-budget 10s
  faultline check-history counter.edn --model register --initial 0
  faultline check-history adds.jsonl --model counter --format json";

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum HistoryModel {
    Register,
    CasRegister,
    Kv,
    Counter,
    Set,
    UniqueIds,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum HistoryFormat {
    Jsonl,
    Edn,
    Etcd,
}

/// `250ms`, `10s`, `2m` → a duration.
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 10s"))?;
    match unit {
        "ms" => Ok(std::time::Duration::from_millis(n)),
        "s" | "" => Ok(std::time::Duration::from_secs(n)),
        "m" => Ok(std::time::Duration::from_secs(n * 60)),
        _ => Err(format!("`{text}`: the unit must be ms, s or m")),
    }
}

fn initial_value(text: &str) -> faultline::history::Value {
    use faultline::history::Value;
    match text {
        "nil" | "null" => Value::Nil,
        _ => text
            .parse::<i64>()
            .map(Value::Int)
            .unwrap_or_else(|_| Value::Str(text.to_string())),
    }
}

fn check_history(
    file: &Path,
    model: HistoryModel,
    initial: Option<&str>,
    format_in: Option<HistoryFormat>,
    format: Format,
    time_budget: std::time::Duration,
) -> u8 {
    use faultline::history::{self, Format as In};
    use faultline::linearizability::{self, ModelKind, Options, Verdict};
    let format_in = format_in.map(|f| match f {
        HistoryFormat::Jsonl => In::Jsonl,
        HistoryFormat::Edn => In::Edn,
        HistoryFormat::Etcd => In::Etcd,
    });
    use faultline::checkers::Kind;
    let model = match model {
        HistoryModel::Register => ModelKind::Register,
        HistoryModel::CasRegister => ModelKind::CasRegister,
        HistoryModel::Kv => ModelKind::Kv,
        HistoryModel::Counter => return check_other(file, Kind::Counter, format_in, format),
        HistoryModel::Set => return check_other(file, Kind::Set, format_in, format),
        HistoryModel::UniqueIds => return check_other(file, Kind::UniqueIds, format_in, format),
    };
    let options = Options {
        model,
        initial: initial.map(initial_value),
        time_budget,
        threads: 0,
    };
    let name = file.display().to_string();
    let checked = history::load(file, format_in)
        .and_then(|h| linearizability::check(&name, &h, &options).map(|r| (h, r)));
    let (h, r) = match checked {
        Ok(x) => x,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_BAD_INPUT;
        }
    };
    match format {
        Format::Text => print!("{}", linearizability::render::text(&name, &h, &r, model)),
        Format::Json => println!("{}", linearizability::render::json(&h, &r, model)),
    }
    match r.verdict {
        Verdict::Linearizable => EXIT_OK,
        Verdict::NotLinearizable(_) => EXIT_VIOLATION,
        Verdict::Unknown(_) => EXIT_UNKNOWN,
    }
}

/// `check-history` with a model of [`faultline::checkers`]: no search, so no budget.
fn check_other(
    file: &Path,
    kind: faultline::checkers::Kind,
    format_in: Option<faultline::history::Format>,
    format: Format,
) -> u8 {
    use faultline::{checkers, history};
    let name = file.display().to_string();
    let checked = history::load(file, format_in).and_then(|h| checkers::check(kind, &name, &h));
    let outcome = match checked {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_BAD_INPUT;
        }
    };
    match format {
        Format::Text => print!("{}", checkers::text(&name, &outcome)),
        Format::Json => println!("{}", checkers::json(&outcome)),
    }
    if outcome.valid {
        EXIT_OK
    } else {
        EXIT_VIOLATION
    }
}
