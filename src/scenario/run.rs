//! Running a scenario: build the simulation, step it while checking invariants, check the
//! end-of-run properties, and compare the outcome with what the scenario expects.

use super::{ExpectSpec, Scenario};
use crate::check::{
    CheckWhen, Checker, GoalResult, HistoryCheck, Property, Reached, RegionLatency,
    ViolationReport, check_history_at,
};
use crate::engine::{Sim, SimBuilder, SimError, Stats};
use crate::protocol::Protocol;
use crate::time::{SimDuration, SimTime};
use crate::trace::{Determinism, TraceSink, compare_runs};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// How to run a scenario.
#[derive(Default)]
pub struct RunOptions {
    /// Replaces the scenario's `seed:`.
    pub seed: Option<u64>,
    /// Receives every trace event (e.g. a JSON Lines file).
    pub trace: Option<Box<dyn TraceSink>>,
    /// Shows a progress bar on standard error (hidden when it is not a terminal).
    pub progress: bool,
    /// Writes the clients' history here as JSON Lines.
    pub history: Option<std::path::PathBuf>,
    /// A wall-clock instant after which the run is stopped ([`RunError::TimedOut`]). It can
    /// only stop a run, never change what the run does up to there; it is looked at between
    /// the run's slices of simulated time (1/200 of its duration at most, narrower where a slice
    /// holds more than 65,536 events).
    pub deadline: Option<std::time::Instant>,
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every checked property held.
    Pass,
    /// A property was violated.
    Violation,
    /// A limit (events, time, queue) stopped the run first.
    Limit,
}

/// One property's result.
#[derive(Clone, Debug, Serialize)]
pub struct CheckResult {
    pub name: &'static str,
    pub description: &'static str,
    pub when: CheckWhen,
    /// `pass`, `violated` or `not_checked` (the run stopped before the end); for a
    /// `sometimes` property, `reached` or `not_reached`.
    pub status: &'static str,
}

/// A plain-words account of how a run reached a violation, with the trace indices of the
/// events it cites ([`crate::explain`] makes them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// Several lines: what broke, when and where, then the numbered steps.
    pub text: String,
    /// Trace indices (`i`) of the steps, and of the sends their deliveries received, in order.
    pub chain: Vec<u64>,
    /// Events that happened before the violation and were candidates, but are left out.
    pub omitted: usize,
}

/// A violation a run found, and its explanation once one was made. It reads as its
/// [`ViolationReport`] (`found.property`, `found.time`, ...).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Found {
    #[serde(flatten)]
    pub violation: ViolationReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Explanation>,
}

impl From<ViolationReport> for Found {
    fn from(violation: ViolationReport) -> Found {
        Found {
            violation,
            explanation: None,
        }
    }
}

impl std::ops::Deref for Found {
    type Target = ViolationReport;
    fn deref(&self) -> &ViolationReport {
        &self.violation
    }
}

/// Everything a run found.
#[derive(Clone, Debug)]
pub struct RunReport {
    pub name: String,
    pub protocol: String,
    pub bug: Option<&'static str>,
    pub seed: u64,
    pub duration: SimDuration,
    /// Simulated time when the run stopped.
    pub stopped_at: SimTime,
    pub stats: Stats,
    pub in_flight: u64,
    pub trace_hash: u64,
    pub trace_events: u64,
    pub checks: Vec<CheckResult>,
    /// Liveness goals (`eventually:`) and how they turned out.
    pub goals: Vec<GoalResult>,
    /// The check of the clients' history, when the scenario has a workload and the run
    /// reached its end.
    pub history: Option<HistoryCheck>,
    pub violations: Vec<Found>,
    pub outcome: Outcome,
    /// Which limit stopped the run, in words.
    pub limit: Option<String>,
    pub expect: ExpectSpec,
    pub expectation_met: bool,
    /// Wall-clock seconds the run took (for the report only; never shapes the run).
    pub wall_time_s: f64,
    pub node_names: Vec<String>,
    /// The triggered faults, in words, and whether each fired.
    pub triggers: Vec<(String, bool)>,
}

/// A run that could not complete.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("the protocol panicked at {time} (trace event #{event}, seed {seed}): {message}")]
    Panic {
        message: String,
        time: SimTime,
        event: u64,
        seed: u64,
    },
    #[error("cannot build the simulation: {0}")]
    Build(SimError),
    #[error("cannot write the trace: {0}")]
    Trace(std::io::Error),
    #[error("cannot write the history to {path}: {error}")]
    History { path: String, error: std::io::Error },
    #[error("the scenario's `params` are not the parameters of protocol `{protocol}`")]
    Params { protocol: &'static str },
    #[error("stopped by its wall-clock deadline at simulated time {at} (seed {seed})")]
    TimedOut { at: SimTime, seed: u64 },
    /// The scenario cannot run as asked (a schedule that does not fit, an output a replay
    /// cannot write).
    #[error("{0}")]
    Unsupported(String),
}

/// Why [`drive`] stopped before the end without a verdict.
enum Stopped {
    Limit(SimError),
    Deadline,
}

impl From<SimError> for Stopped {
    fn from(e: SimError) -> Stopped {
        Stopped::Limit(e)
    }
}

/// Runs a scenario once.
pub fn run(scenario: &Scenario, options: RunOptions) -> Result<RunReport, RunError> {
    let materialized;
    let scenario = if scenario.nemesis.is_some() || scenario.swarm.is_some() {
        materialized = scenario.materialize(options.seed.unwrap_or(scenario.seed));
        &materialized
    } else {
        scenario
    };
    if !scenario.schedule.is_empty() {
        return scenario.entry.replay(scenario, options);
    }
    scenario.entry.run(scenario, options)
}

fn build<P: Protocol>(
    scenario: &Scenario,
    params: &P::Params,
    options: RunOptions,
) -> Result<Sim<P>, RunError> {
    let seed = options.seed.unwrap_or(scenario.seed);
    let states = options.trace.as_ref().is_some_and(|s| s.wants_states());
    let summaries = options.trace.as_ref().is_some_and(|s| s.wants_summaries());
    let mut builder = SimBuilder::new(seed)
        .node_names(scenario.node_names.clone())
        .network(scenario.network.clone())
        .faults(scenario.faults.clone())
        .triggers(scenario.triggers.clone())
        .limits(scenario.limits)
        .services(P::SERVICES);
    if let Some(sink) = options.trace {
        builder = builder.trace_sink(sink);
    }
    if let Some(pct) = scenario.pct {
        builder = builder.pct(pct);
    }
    if let Some(workload) = &scenario.workload {
        builder = builder.workload(workload.clone());
    }
    if let Some(topology) = &scenario.topology {
        builder = builder.topology(topology.clone());
    }
    let (params, bug, n) = (
        params.clone(),
        scenario.bug,
        scenario.node_names.len() as u32,
    );
    let mut sim = builder
        .build(move |id| P::new(id, n, &params, bug))
        .map_err(RunError::Build)?;
    if states {
        sim.record_states();
    }
    if summaries {
        sim.record_summaries();
    }
    Ok(sim)
}

pub(super) fn selected<P: Protocol>(scenario: &Scenario) -> Vec<Property<P>> {
    let mut props = P::properties();
    if !scenario.checks.is_empty() {
        let expected = match &scenario.expect {
            ExpectSpec::Violation(Some(name)) => Some(name.as_str()),
            _ => None,
        };
        let needed = |name: &str| {
            scenario.checks.iter().any(|c| c == name)
                || Some(name) == expected
                || scenario.eventually.iter().any(|g| g.condition == name)
        };
        props.retain(|p| needed(p.name));
    }
    props
}

/// Progress updates per run: the run is checked in at least this many slices of simulated time.
const PROGRESS_SLICES: u64 = 200;

/// Events a slice should hold at most: a slice that held more is followed by narrower ones, so
/// the deadline and the progress bar are looked at every few milliseconds of wall time even in
/// a dense run. Slices only decide when the run pauses to look, never what it does.
const SLICE_EVENTS_MAX: u64 = 1 << 16;

/// Checks the run in slices of simulated time, so that a progress bar can follow long runs.
/// Never inlined, so that profiles can count the run loop on its own.
#[inline(never)]
fn drive<P: Protocol>(
    sim: &mut Sim<P>,
    end: SimTime,
    checker: &mut Checker<'_, P>,
    show_progress: bool,
    deadline: Option<std::time::Instant>,
) -> Result<Vec<ViolationReport>, Stopped> {
    let mut progress = Progress::new(end, show_progress);
    let slice_ns_max = (end.0 / PROGRESS_SLICES).max(1);
    let mut slice_ns = slice_ns_max;
    let mut until = SimTime::ZERO;
    while until < end {
        until = SimTime(until.0.saturating_add(slice_ns).min(end.0));
        let events_before = sim.stats().events;
        if let Some(v) = checker.step_until(sim, until)? {
            progress.bar.finish_and_clear();
            return Ok(vec![v]);
        }
        let events = sim.stats().events;
        slice_ns = match events - events_before {
            n if n > SLICE_EVENTS_MAX => (slice_ns / 2).max(1),
            n if n < SLICE_EVENTS_MAX / 4 => slice_ns.saturating_mul(2).min(slice_ns_max),
            _ => slice_ns,
        };
        progress.update(until, events);
        #[allow(clippy::disallowed_methods)] // it can only stop a run, never shape it
        if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
            progress.bar.finish_and_clear();
            return Err(Stopped::Deadline);
        }
    }
    progress.bar.finish_and_clear();
    Ok(checker.finish(sim))
}

/// A run's progress bar on standard error: simulated time, events per second and the ETA,
/// drawn only on a terminal and only once the run has taken a second, so that short runs print
/// nothing but their report. It reads the wall clock for display only.
struct Progress {
    bar: ProgressBar,
    started: std::time::Instant,
    /// Standard error is a terminal and progress was asked for.
    wanted: bool,
    visible: bool,
}

/// How long a run goes before its progress bar appears.
const PROGRESS_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

impl Progress {
    fn new(end: SimTime, show: bool) -> Progress {
        use std::io::IsTerminal;
        let bar =
            ProgressBar::with_draw_target(Some(end.0 / 1_000_000), ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} simulated {pos}/{len} ms [{bar:30}] {msg}, {elapsed} elapsed, ETA {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        #[allow(clippy::disallowed_methods)] // display only
        let started = std::time::Instant::now();
        Progress {
            bar,
            started,
            wanted: show && std::io::stderr().is_terminal(),
            visible: false,
        }
    }

    fn update(&mut self, now: SimTime, events: u64) {
        if !self.wanted {
            return;
        }
        let elapsed = self.started.elapsed();
        if !self.visible && elapsed >= PROGRESS_AFTER {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.visible = true;
        }
        if self.visible {
            let per_s = events as f64 / elapsed.as_secs_f64().max(1e-9);
            self.bar.set_message(format!("{per_s:.0} events/s"));
            self.bar.set_position(now.0 / 1_000_000);
        }
    }
}

/// Runs `scenario` as a run of protocol `P` with `params`.
pub(crate) fn run_typed<P: Protocol>(
    scenario: &Scenario,
    params: &P::Params,
    options: RunOptions,
) -> Result<RunReport, RunError> {
    let (show_progress, deadline) = (options.progress, options.deadline);
    let history_path = options.history.clone();
    let mut sim = build::<P>(scenario, params, options)?;
    let props = selected::<P>(scenario);
    let end = SimTime(scenario.duration.0);
    #[allow(clippy::disallowed_methods)] // reported wall time only; it never shapes the run
    let started = std::time::Instant::now();
    let mut checker = Checker::new(&props, scenario.check_every).with_digests(P::CHECK_DIGESTS);
    for goal in &scenario.eventually {
        checker = checker
            .eventually(goal.clone())
            .expect("conditions are checked while parsing");
    }
    let driven = catch_unwind(AssertUnwindSafe(|| {
        drive(&mut sim, end, &mut checker, show_progress, deadline)
    }));
    let goals = checker.goals();
    let reached = checker.reached();
    let wall_time_s = started.elapsed().as_secs_f64();
    let driven = driven.map_err(|payload| RunError::Panic {
        message: crate::engine::panic_message(payload.as_ref()),
        time: sim.now(),
        event: sim.trace_len(),
        seed: sim.seed(),
    })?;
    let (mut violations, limit) = match driven {
        Ok(v) => (v, None),
        Err(Stopped::Limit(e)) => (Vec::new(), Some(e.to_string())),
        Err(Stopped::Deadline) => {
            let (at, seed) = (sim.now(), sim.seed());
            return Err(RunError::TimedOut { at, seed });
        }
    };
    let finished = limit.is_none() && sim.now() >= end;
    let mut checks: Vec<CheckResult> = props
        .iter()
        .map(|p| check_result(p, &violations, finished, &reached))
        .collect();
    if let Some(result) = sim.finish_trace() {
        result.map_err(RunError::Trace)?;
    }
    if let Some(path) = &history_path {
        write_history(&sim, path)?;
    }
    let history = history_check(scenario, &sim);
    if let Some(h) = &history {
        checks.push(CheckResult {
            name: h.name,
            description: h.model.check_description(),
            when: CheckWhen::AtEnd,
            status: h.status,
        });
        violations.extend(h.violation.clone());
    }
    let mut report = report(scenario, &sim, checks, violations, limit, wall_time_s);
    report.goals = goals;
    report.history = history;
    Ok(report)
}

/// Checks the clients' history if the scenario has a workload and checks it. A run stopped
/// early is checked too: what it recorded is a history, with the open ops indefinite.
fn history_check<P: Protocol>(scenario: &Scenario, sim: &Sim<P>) -> Option<HistoryCheck> {
    if !history_wanted(scenario) {
        return None;
    }
    let model = scenario.workload.as_ref()?.model;
    let isolation = scenario.workload.as_ref()?.isolation.or(P::ISOLATION);
    let mut check = check_history_at(model, isolation, sim.history(), sim.node_names(), sim.now());
    if let Some(t) = &scenario.topology {
        check.latency_by_region = RegionLatency::of(sim.history(), &t.client_regions());
    }
    Some(check)
}

/// Whether `scenario` has clients whose history it checks: its `checks:` list names the
/// workload's check, or is empty, or `expect:` names it.
pub(super) fn history_wanted(scenario: &Scenario) -> bool {
    let Some(model) = scenario.workload.as_ref().map(|w| w.model) else {
        return false;
    };
    let name = model.check_name();
    scenario.checks.is_empty()
        || scenario.checks.iter().any(|c| c == name)
        || scenario.expect == ExpectSpec::Violation(Some(name.to_string()))
}

fn write_history<P: Protocol>(sim: &Sim<P>, path: &std::path::Path) -> Result<(), RunError> {
    write_history_log(sim.history(), sim.node_names(), sim.now(), path)
}

/// Writes the clients' history `log`, which ended at `end`, to `path` as JSON Lines.
pub(super) fn write_history_log(
    log: &crate::workload::HistoryLog,
    names: &[String],
    end: SimTime,
    path: &std::path::Path,
) -> Result<(), RunError> {
    let error = |error| RunError::History {
        path: path.display().to_string(),
        error,
    };
    let file = std::fs::File::create(path).map_err(error)?;
    log.write_jsonl(file, names, end).map_err(error)
}

fn check_result<P: Protocol>(
    p: &Property<P>,
    violations: &[ViolationReport],
    finished: bool,
    reached: &[Reached],
) -> CheckResult {
    let violated = violations.iter().any(|v| v.property == p.name);
    // A `sometimes` property never fails a run: it was reached or not.
    let coverage = reached
        .iter()
        .find(|r| r.name == p.name && r.when == CheckWhen::Sometimes);
    let status = if let Some(r) = coverage {
        r.status()
    } else if violated {
        "violated"
    } else if finished || p.when == CheckWhen::Always {
        "pass"
    } else {
        "not_checked"
    };
    CheckResult {
        name: p.name,
        description: p.description,
        when: p.when,
        status,
    }
}

fn report<P: Protocol>(
    scenario: &Scenario,
    sim: &Sim<P>,
    checks: Vec<CheckResult>,
    violations: Vec<ViolationReport>,
    limit: Option<String>,
    wall_time_s: f64,
) -> RunReport {
    let outcome = match (&limit, violations.is_empty()) {
        (Some(_), _) => Outcome::Limit,
        (None, false) => Outcome::Violation,
        (None, true) => Outcome::Pass,
    };
    let unknown = checks.iter().any(|c| c.status == "unknown");
    let expectation_met = match &scenario.expect {
        ExpectSpec::Pass => outcome == Outcome::Pass && !unknown,
        ExpectSpec::Violation(None) => outcome == Outcome::Violation,
        named => named.met_by(violations.iter().map(|v| v.property.as_str())),
    };
    RunReport {
        name: scenario.name.clone(),
        protocol: scenario.protocol.clone(),
        bug: scenario.bug_shown(),
        seed: sim.seed(),
        duration: scenario.duration,
        stopped_at: sim.now(),
        stats: *sim.stats(),
        in_flight: sim.in_flight(),
        trace_hash: sim.trace_hash(),
        trace_events: sim.trace_len(),
        checks,
        goals: Vec::new(),
        history: None,
        violations: violations.into_iter().map(Found::from).collect(),
        outcome,
        limit,
        expect: scenario.expect.clone(),
        expectation_met,
        wall_time_s,
        node_names: scenario.node_names.clone(),
        triggers: sim.triggers_fired(),
    }
}

/// Runs the scenario twice with the same seed and compares the traces event by event.
pub fn check_determinism(scenario: &Scenario, seed: Option<u64>) -> Result<Determinism, RunError> {
    compare_runs(|sink| {
        run(
            scenario,
            RunOptions {
                seed,
                trace: Some(sink),
                progress: false,
                history: None,
                deadline: None,
            },
        )
        .map(|r| r.trace_hash)
    })
}
