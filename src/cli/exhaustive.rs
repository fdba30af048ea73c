//! `faultline explore`: a scenario's configuration explored exhaustively.

use super::{EXIT_BAD_INPUT, EXIT_OK, EXIT_VIOLATION, Format};
use crate::exhaustive::{self, Budgets, Outcome, Progress, Verdict};
use crate::scenario::Scenario;
use crate::scenario::exhaustive::{BudgetsSet, ExploreOptions, explore, ignored};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use std::io::IsTerminal;
use std::path::PathBuf;

/// A search a limit stopped: nothing was found, but not everything was seen.
const EXIT_UNKNOWN: u8 = 4;

pub(super) const EXPLORE_HELP: &str = "\
From the state where every node has started, tries every event each state enables: deliver
any message in flight, fire any pending timer, let a client of the scenario's workload invoke
its next operation at any node, and within the budgets drop or duplicate a message or crash a
node (a crashed node may restart at any point). Each node's clock moves only when one of its
timers fires; timers fire in any order. The protocol's invariants and the clients' history
are checked in every state, its end-state properties where nothing is left to happen, and its
coverage properties are reported as reached or not. The scenario's network, faults and
liveness goals, and the workload's rate, timeout and latency, do not apply (the report names
the sections it sets). Budgets come from the flags, else the scenario's `explore:`, else the
defaults.

Breadth first (unless --depth-first): a violation comes with a shortest path to it, as a
scenario file whose `schedule:` `faultline run` replays event by event. Events that do not
interfere (deliveries to different nodes, say) are not tried in every order where another
order already led to the same state (sleep sets): every state is still visited and judged.

Exit codes: 0 exhausted with no violation (or the violation `expect:` names was found),
1 a violation, 2 bad input, 4 a limit stopped the search first.

Examples:
  faultline explore scenarios/paxos-agreement.yaml --timers 2
  faultline explore scenarios/paxos-one-short-quorum-bug.yaml --timers 2 --format json
  faultline explore scenarios/two-phase-commit-blocking.yaml --crashes 1 --states-max 1000000
  faultline explore scenarios/explore/register-read-any-replica-bug.yaml";

#[derive(Args)]
pub(super) struct ExploreArgs {
    /// The scenario: its protocol, parameters, bug variant, nodes and checks.
    file: PathBuf,
    /// Timer firings on one path (elections, retries, heartbeats) [default: the scenario's
    /// `explore: { timers }`, else 3].
    #[arg(long, value_name = "N")]
    timers: Option<u32>,
    /// Messages lost on one path [default: `explore: { drops }`, else 0].
    #[arg(long, value_name = "N")]
    drops: Option<u32>,
    /// Messages delivered twice on one path [default: `explore: { duplicates }`, else 0].
    #[arg(long, value_name = "N")]
    duplicates: Option<u32>,
    /// Node crashes on one path [default: `explore: { crashes }`, else 0].
    #[arg(long, value_name = "N")]
    crashes: Option<u32>,
    /// Operations each client of the scenario's `workload:` invokes on one path [default:
    /// `explore: { client_ops }`, else 1].
    #[arg(long, value_name = "N")]
    client_ops: Option<u32>,
    /// Client timeouts on one path: a client gives up on its open operation, which ends as
    /// info, and goes on with its next [default: `explore: { timeouts }`, else 0].
    #[arg(long, value_name = "N")]
    timeouts: Option<u32>,
    /// Stop after this many unique states (about 500 bytes each breadth first, 80 depth
    /// first).
    #[arg(long, value_name = "N", default_value_t = 5_000_000)]
    states_max: u64,
    /// Expand no state more than this many events from the start.
    #[arg(long, value_name = "N", default_value_t = exhaustive::DEPTH_MAX)]
    depth: u32,
    /// Expand the newest state first instead of the oldest: the states waiting are those
    /// beside the current path, not a whole level, but a violation's path may not be a
    /// shortest one.
    #[arg(long)]
    depth_first: bool,
    /// Threads expanding states, breadth first. The states visited and the verdict are the
    /// same for any number (with sleep sets, the transitions tried, and so the path, may
    /// differ from one thread's); more threads pay only where the handlers' own work
    /// dominates (see docs/explore.md).
    #[arg(long, value_name = "N", default_value_t = 1)]
    jobs: u32,
    /// Try every transition, also those whose successor another order of the same
    /// independent events reaches (by default such transitions are skipped: the same states
    /// are visited either way).
    #[arg(long)]
    no_reduction: bool,
    /// Stop after this long of wall time, e.g. 30s, 10m.
    #[arg(long, value_name = "D", value_parser = super::history::parse_duration)]
    time_budget: Option<std::time::Duration>,
    /// Where to write a violation's path, as a scenario whose `schedule:` `faultline run`
    /// replays [default: explore-out/<scenario file name>].
    #[arg(long, short, value_name = "FILE")]
    out: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// What `--format json` prints.
#[derive(Serialize)]
struct Report<'a> {
    file: String,
    protocol: &'a str,
    nodes: usize,
    verdict: Verdict,
    states: u64,
    unique_states: u64,
    depth_max: u32,
    elapsed_s: f64,
    states_per_second: f64,
    /// The scenario's sections the search did not use.
    ignored: Vec<&'static str>,
    expectation_met: bool,
    /// The scenario file written with the path to the violation.
    counterexample: Option<String>,
    #[serde(flatten)]
    outcome: &'a Outcome,
}

pub(super) fn explore_command(registry: &crate::Registry, args: &ExploreArgs) -> u8 {
    let scenario = match super::load(registry, &args.file) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let out = args.out.clone().unwrap_or_else(|| default_out(&args.file));
    if let Err(code) = super::paths::refuse_overwrite(&[&args.file], &[("--out", &out)]) {
        return code;
    }
    let flags = BudgetsSet {
        timers_max: args.timers,
        drops_max: args.drops,
        duplicates_max: args.duplicates,
        crashes_max: args.crashes,
        client_ops_max: args.client_ops,
        timeouts_max: args.timeouts,
    };
    let options = ExploreOptions {
        budgets: flags.over(scenario.explore.over(Budgets::default())),
        states_max: args.states_max,
        depth_max: args.depth,
        order: match args.depth_first {
            true => exhaustive::Order::DepthFirst,
            false => exhaustive::Order::BreadthFirst,
        },
        jobs: args.jobs,
        reduction: !args.no_reduction,
    };
    let bar = progress_bar(args.format == Format::Text);
    #[allow(clippy::disallowed_methods)] // wall time bounds and reports the search, never shapes it
    let started = std::time::Instant::now();
    let deadline = args.time_budget.map(|d| started + d);
    let mut progress = |p: &Progress| {
        bar.set_message(format!(
            "{} unique states, {} tried, depth {}, frontier {}",
            p.unique_states, p.states, p.depth, p.frontier
        ));
        #[allow(clippy::disallowed_methods)]
        let now = std::time::Instant::now();
        deadline.is_none_or(|d| now < d)
    };
    let outcome = match explore(&scenario, options, &mut progress) {
        Ok(outcome) => outcome,
        Err(e) => {
            bar.finish_and_clear();
            eprintln!("{}: {e}", super::program());
            return EXIT_BAD_INPUT;
        }
    };
    bar.finish_and_clear();
    let elapsed_s = started.elapsed().as_secs_f64();
    let met = expectation_met(&scenario, &outcome);
    let written = match &outcome.counterexample {
        Some(found) => match write_counterexample(&scenario, found, &out) {
            Ok(()) => Some(out.display().to_string()),
            Err(e) => {
                eprintln!("{}: cannot write {}: {e}", super::program(), out.display());
                return EXIT_BAD_INPUT;
            }
        },
        None => None,
    };
    let report = Report {
        file: args.file.display().to_string(),
        protocol: &scenario.protocol,
        nodes: scenario.node_names.len(),
        verdict: outcome.verdict,
        states: outcome.states,
        unique_states: outcome.unique_states,
        depth_max: outcome.depth_max,
        elapsed_s,
        states_per_second: outcome.unique_states as f64 / elapsed_s.max(1e-9),
        ignored: ignored(&scenario),
        expectation_met: met,
        counterexample: written,
        outcome: &outcome,
    };
    let code = match (outcome.verdict, met) {
        (Verdict::Budget, _) => EXIT_UNKNOWN,
        (_, true) => EXIT_OK,
        (_, false) => EXIT_VIOLATION,
    };
    let text = match args.format {
        Format::Text => text(&report, &scenario),
        Format::Json => {
            serde_json::to_string_pretty(&report).expect("the report serialises") + "\n"
        }
    };
    super::out::finish(&text, code)
}

/// Whether the scenario's `expect:` holds of the search: no violation for `pass`, else a
/// violation of the property it names (or of any).
fn expectation_met(scenario: &Scenario, outcome: &Outcome) -> bool {
    let found = outcome.counterexample.iter();
    scenario
        .expect
        .met_by(found.map(|c| c.violation.property.as_str()))
}

/// `explore-out/` and the scenario's file name.
fn default_out(file: &std::path::Path) -> PathBuf {
    let name = file.file_name().map_or_else(
        || "counterexample.yaml".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    PathBuf::from("explore-out").join(name)
}

/// Writes `scenario` with the path of `found` as its `schedule:`.
fn write_counterexample(
    scenario: &Scenario,
    found: &exhaustive::Counterexample,
    out: &std::path::Path,
) -> std::io::Result<()> {
    let mut replay = scenario.clone();
    replay.schedule = found.steps.iter().map(|s| s.event.clone()).collect();
    let header = format!(
        "# `faultline explore` found this shortest path to a violation of {} in {}.\n\
         # `faultline run` replays the schedule event by event on the explorer's model;\n\
         # the network, faults and seed below do not apply to it.\n",
        found.violation.property, scenario.file
    );
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let text = format!("{header}{}", crate::scenario::to_yaml(&replay));
    crate::explore::shrink::write_atomically(out, &text)
}

fn progress_bar(wanted: bool) -> ProgressBar {
    if !wanted || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed} {msg}").expect("valid template"),
    );
    bar
}

/// The report in words.
fn text(report: &Report<'_>, scenario: &Scenario) -> String {
    use crate::report::thousands;
    use std::fmt::Write;
    let o = report.outcome;
    let b = &o.budgets;
    let mut t = format!(
        "explore {}: {} on {} nodes{}\n",
        report.file,
        report.protocol,
        report.nodes,
        scenario
            .bug_shown()
            .map(|b| format!(", bug {b}"))
            .unwrap_or_default()
    );
    let clients = scenario.workload.as_ref().map_or(String::new(), |w| {
        let s = |n: u32| if n == 1 { "" } else { "s" };
        format!(
            ", {} client{} with {} op{} each, {} timeout{}",
            w.clients,
            s(w.clients),
            b.client_ops_max,
            s(b.client_ops_max),
            b.timeouts_max,
            s(b.timeouts_max)
        )
    });
    let _ = writeln!(
        t,
        "budgets per path: {} timer firings, {} drops, {} duplicates, {} crashes{clients}",
        b.timers_max, b.drops_max, b.duplicates_max, b.crashes_max
    );
    let verdict = match o.verdict {
        Verdict::Exhausted if o.depth_cut => "exhausted to the depth limit",
        Verdict::Exhausted => "exhausted",
        Verdict::Violation if o.order == exhaustive::Order::DepthFirst => {
            "violation (depth first: the path may not be a shortest one)"
        }
        Verdict::Violation => "violation",
        Verdict::Budget => "stopped by a limit before the end",
    };
    let _ = writeln!(
        t,
        "{verdict}: {} unique states ({} transitions), depth {}, {:.2} s, {} states/s",
        thousands(o.unique_states),
        thousands(o.states),
        o.depth_max,
        report.elapsed_s,
        thousands(report.states_per_second as u64)
    );
    let _ = writeln!(t, "checked in every state: {}", list(&o.invariants));
    if !o.end_properties.is_empty() {
        let _ = writeln!(
            t,
            "checked where nothing is left to happen ({} such states): {}",
            thousands(o.end_states),
            list(&o.end_properties)
        );
    }
    if !o.unjudged.is_empty() {
        let _ = writeln!(
            t,
            "not checked (monitors and eventually): {}",
            list(&o.unjudged)
        );
    }
    for (name, reached) in &o.coverage {
        let word = if *reached { "reached" } else { "not reached" };
        let _ = writeln!(t, "coverage {name}: {word}");
    }
    if !report.ignored.is_empty() {
        let _ = writeln!(t, "not used by explore: {}", list(&report.ignored));
    }
    if let Some(c) = &o.counterexample {
        let _ = writeln!(
            t,
            "\n{} violated after {} events: {}",
            c.violation.property,
            c.steps.len(),
            c.violation.message
        );
        // The history numbers ops in the order the path invokes them.
        let mut invoked = 0;
        for (i, step) in c.steps.iter().enumerate() {
            let number = match step.event {
                crate::exhaustive::Event::Invoke { .. } => {
                    invoked += 1;
                    format!(" (op {})", invoked - 1)
                }
                _ => String::new(),
            };
            let _ = writeln!(t, "{:4}. {}{number}", i + 1, step.event);
            for note in &step.notes {
                let _ = writeln!(t, "        note: {note}");
            }
        }
    }
    if let Some(file) = &report.counterexample {
        let _ = writeln!(t, "\nwrote {file}: `faultline run {file}` replays it");
    }
    if o.counterexample.is_some() && report.expectation_met {
        let _ = writeln!(
            t,
            "\nthe scenario expects this violation (expect:), so this exits 0"
        );
    }
    t
}

fn list(names: &[&str]) -> String {
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}
