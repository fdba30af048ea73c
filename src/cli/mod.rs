//! The command line as a library: every subcommand of `faultline` (`run`, `validate`, `fuzz`,
//! `shrink`, `merge`, `viz`, `list`, `check-history`) for the protocols of any [`Registry`].
//!
//! The `faultline` binary is [`main`] with [`Registry::builtin`]. A binary of your own, for
//! scenario files that name your protocol, is the same call with your registry:
//!
//! ```no_run
//! # use faultline::{Registry, protocols::echo::Echo as MyProtocol};
//! fn main() -> std::process::ExitCode {
//!     faultline::cli::main(Registry::empty().with::<MyProtocol>())
//! }
//! ```
//!
//! Parsing, calling the library and rendering are all this module does; exit codes are those
//! of docs: 0 expectations met, 1 violation, 2 bad input, 3 internal error, 4 no verdict.

use crate::Registry;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

mod exhaustive;
mod explain;
mod explore;
mod grade;
mod history;
mod isolation;
mod list;
mod mystery;
mod out;
mod paths;
mod run;
mod size;
mod viz;

use explore::{FUZZ_HELP, FuzzArgs, MERGE_HELP, SHRINK_HELP, ShrinkArgs, fuzz, merge, shrink};
use history::{
    CHECK_HISTORY_HELP, HistoryFormat, HistoryModel, NilReads, check_history, parse_budget,
    parse_duration,
};
use list::{list, validate};
use run::{RunArgs, run};
use viz::{VIZ_HELP, VizArgs, viz};

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
    /// Check an operation history (JSON Lines, Jepsen EDN or etcd log): linearizability, a
    /// counter, set, unique-ids, log or dht checker, or transactional isolation (list-append,
    /// rw-register).
    #[command(after_help = CHECK_HISTORY_HELP)]
    CheckHistory {
        /// The history file.
        file: PathBuf,
        #[arg(long, value_enum)]
        model: HistoryModel,
        /// The initial value of the register (or of every key): an integer, `nil`, or a string.
        /// Not for the mutex (free), the queues and the set (empty).
        #[arg(long, value_name = "V")]
        initial: Option<String>,
        /// The isolation level a transactional history (list-append, rw-register) must meet;
        /// strict-serializable when absent.
        #[arg(long, value_enum, value_name = "LEVEL")]
        consistency: Option<isolation::ConsistencyArg>,
        /// The input format; detected from the content when absent.
        #[arg(long, value_enum)]
        format_in: Option<HistoryFormat>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Give up with verdict `unknown` after this long, e.g. 500ms, 10s, 2m.
        #[arg(long, value_name = "D", default_value = "60s", value_parser = parse_duration)]
        time_budget: std::time::Duration,
        /// How a Jepsen EDN history's reads that completed ok with nil are read: `unknown`
        /// (the default, as Knossos reads them: the value was not recorded, any state matches)
        /// or `value` (the register held nil). EDN histories only.
        #[arg(long, value_enum, value_name = "READING")]
        nil_reads: Option<NilReads>,
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
    /// Print a scenario's `bug:` line with a bug variant sealed, for "find the bug"
    /// exercises: it runs with that bug, and reports say `sealed` instead of its name.
    #[command(after_help = mystery::SEAL_HELP)]
    Seal {
        /// The protocol, as `faultline list` names it.
        protocol: String,
        /// One of its bug variants.
        bug: String,
    },
    /// Say whether BUG is the bug variant a scenario runs with, sealed or not.
    #[command(after_help = mystery::GUESS_HELP)]
    Guess {
        /// The scenario.
        file: PathBuf,
        /// A bug variant of its protocol.
        bug: String,
    },
    /// Draw a trace file as a self-contained HTML page: a space-time diagram to step through.
    #[command(after_help = VIZ_HELP)]
    Viz(VizArgs),
    /// Explore every state a scenario's nodes can reach (model checking), within budgets of
    /// timer firings and faults, and give a shortest path to any violation.
    #[command(after_help = exhaustive::EXPLORE_HELP)]
    Explore(exhaustive::ExploreArgs),
    /// Grade a protocol on a suite of scenarios: points per part, and for each part lost the
    /// failing seed, the property and its explanation.
    #[command(after_help = grade::GRADE_HELP)]
    Grade(grade::GradeArgs),
    /// List the protocols scenario files can name, with their parameters, properties and bug
    /// variants.
    List {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

thread_local! {
    /// The binary's name as invoked, which messages start with.
    static PROGRAM: std::cell::RefCell<String> = std::cell::RefCell::new("faultline".to_string());
}

/// The binary's name as invoked (`faultline`, or the name of a binary of your own).
fn program() -> String {
    PROGRAM.with(|p| p.borrow().clone())
}

/// Loads the scenario at `path`, or says why not (located) and gives the exit code.
fn load(registry: &Registry, path: &std::path::Path) -> Result<crate::scenario::Scenario, u8> {
    registry.load(path).map_err(|e| {
        eprintln!("{e}");
        EXIT_BAD_INPUT
    })
}

/// Runs the command line of this process for the protocols of `registry`: what a binary's
/// `main` returns. Help and messages name the binary as it was invoked.
pub fn main(registry: Registry) -> ExitCode {
    run_args(registry, std::env::args_os())
}

/// Runs the command line `args` (the first is the binary's name) for the protocols of
/// `registry`.
pub fn run_args(registry: Registry, args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let mut args = args.into_iter().peekable();
    let name = args
        .peek()
        .and_then(|a| {
            PathBuf::from(a)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "faultline".to_string());
    PROGRAM.with(|p| p.borrow_mut().clone_from(&name));
    let matches = Cli::command()
        .name(name.clone())
        .bin_name(name)
        .get_matches_from(args);
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match cli.command {
        Command::Run(args) => run(&registry, &args),
        Command::Validate { files } => validate(&registry, &files),
        Command::Fuzz(args) => fuzz(&registry, &args),
        Command::Shrink(args) => shrink(&registry, &args),
        Command::Merge {
            files,
            junit,
            format,
        } => merge(&files, junit.as_deref(), format),
        Command::Viz(args) => viz(&args),
        Command::Seal { protocol, bug } => mystery::seal_command(&registry, &protocol, &bug),
        Command::Guess { file, bug } => mystery::guess_command(&registry, &file, &bug),
        Command::List { format } => list(&registry, format),
        Command::Explore(args) => exhaustive::explore_command(&registry, &args),
        Command::Grade(args) => grade::grade_command(&registry, &args),
        Command::CheckHistory {
            file,
            model,
            initial,
            consistency,
            format_in,
            format,
            time_budget,
            nil_reads,
        } => check_history(
            &file,
            model,
            (initial.as_deref(), consistency),
            (format_in, nil_reads),
            format,
            time_budget,
        ),
    }));
    ExitCode::from(outcome.unwrap_or_else(|_| {
        eprintln!(
            "{}: internal error (a bug in faultline); please report it with the scenario file",
            program()
        );
        EXIT_INTERNAL
    }))
}
