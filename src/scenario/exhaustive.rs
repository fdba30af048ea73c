//! A scenario explored exhaustively ([`crate::exhaustive`]) instead of run on one seed.
//!
//! The scenario gives the protocol, its parameters and bug variant, the nodes, the clients'
//! workload (its operations, drawn with `seed:`) and which properties to check; the search
//! gives everything a run would draw: every delivery order, every timer order, when each
//! client invokes and which node it asks, and faults within the budgets. So the scenario's
//! `network:`, `faults:`, `nemesis:` and `duration:`, and the workload's rate, timeout and
//! latency, do not apply; [`ignored`] names the sections it sets, for the report to say so.

use super::Scenario;
use super::run::{CheckResult, Explanation, Found, Outcome as RunOutcome, RunError, RunOptions};
use super::run::{RunReport, selected};
use crate::check::{CheckWhen, Property};
use crate::exhaustive::{Budgets, ExploreError, Explorer, Outcome, Progress, Replay, ReplayError};
use crate::protocol::Protocol;

/// Budgets some of which are set (by a scenario's `explore:`, or by flags), to lay over others.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BudgetsSet {
    pub timers_max: Option<u32>,
    pub drops_max: Option<u32>,
    pub duplicates_max: Option<u32>,
    pub crashes_max: Option<u32>,
    pub client_ops_max: Option<u32>,
    pub timeouts_max: Option<u32>,
}

impl BudgetsSet {
    /// `base`, with the budgets set here instead of its own.
    pub fn over(&self, base: Budgets) -> Budgets {
        Budgets {
            timers_max: self.timers_max.unwrap_or(base.timers_max),
            drops_max: self.drops_max.unwrap_or(base.drops_max),
            duplicates_max: self.duplicates_max.unwrap_or(base.duplicates_max),
            crashes_max: self.crashes_max.unwrap_or(base.crashes_max),
            client_ops_max: self.client_ops_max.unwrap_or(base.client_ops_max),
            timeouts_max: self.timeouts_max.unwrap_or(base.timeouts_max),
        }
    }
}

/// The bounds of an exploration.
#[derive(Clone, Copy, Debug)]
pub struct ExploreOptions {
    pub budgets: Budgets,
    pub states_max: u64,
    pub depth_max: u32,
    pub order: crate::exhaustive::Order,
    /// Threads expanding states (breadth first).
    pub jobs: u32,
    /// Whether sleep sets cut transitions (see [`Explorer::reduction`]).
    pub reduction: bool,
}

/// Explores `scenario`, calling `progress` now and then (false stops the search).
pub fn explore(
    scenario: &Scenario,
    options: ExploreOptions,
    progress: &mut dyn FnMut(&Progress) -> bool,
) -> Result<Outcome, ExploreError> {
    scenario.entry.explore(scenario, options, progress)
}

pub(super) fn explore_typed<P: Protocol>(
    scenario: &Scenario,
    params: &P::Params,
    options: ExploreOptions,
    progress: &mut dyn FnMut(&Progress) -> bool,
) -> Result<Outcome, ExploreError> {
    if let Some(words) = services_unmodelled::<P>() {
        return Err(ExploreError::Build(words));
    }
    explorer::<P>(scenario, params, selected::<P>(scenario))
        .budgets(options.budgets)
        .states_max(options.states_max)
        .depth_max(options.depth_max)
        .order(options.order)
        .jobs(options.jobs)
        .reduction(options.reduction)
        .run_with(progress)
}

/// Why `P` cannot be explored, if it calls provided services: exploration does not model them.
fn services_unmodelled<P: Protocol>() -> Option<String> {
    let names: Vec<&str> = P::SERVICES.iter().map(|s| s.name()).collect();
    (!names.is_empty()).then(|| {
        format!(
            "protocol `{}` calls {}, and exhaustive exploration does not model provided \
             services; `run` and `fuzz` do",
            P::NAME,
            names.join(" and ")
        )
    })
}

/// The explorer of `scenario`'s protocol, nodes and clients, checking `properties`.
fn explorer<P: Protocol>(
    scenario: &Scenario,
    params: &P::Params,
    properties: Vec<Property<P>>,
) -> Explorer<P> {
    let (params, bug) = (params.clone(), scenario.bug);
    let n = scenario.node_names.len() as u32;
    let explorer = Explorer::new(n, move |id| P::new(id, n, &params, bug))
        .node_names(scenario.node_names.clone())
        .properties(properties);
    match &scenario.workload {
        Some(workload) => explorer
            .workload(workload.clone(), scenario.seed)
            .check_history(super::run::history_wanted(scenario)),
        None => explorer,
    }
}

/// The sections of `scenario` that an exploration does not use, as the file names them.
pub fn ignored(scenario: &Scenario) -> Vec<&'static str> {
    let mut ignored = Vec::new();
    let network = &scenario.network;
    if *network != crate::net::NetworkConfig::default() || scenario.pct.is_some() {
        ignored.push("network");
    }
    if scenario.topology.is_some() {
        ignored.push("topology");
    }
    if !scenario.faults.is_empty() || !scenario.triggers.is_empty() {
        ignored.push("faults");
    }
    if scenario.nemesis.is_some() || scenario.swarm.is_some() {
        ignored.push("nemesis");
    }
    if !scenario.eventually.is_empty() {
        ignored.push("liveness");
    }
    ignored
}

/// Replays the `schedule:` of `scenario` ([`crate::exhaustive::Explorer::replay`]) and reports it
/// as a run: the events as the explanation of the violation, if one was found.
pub(super) fn replay_typed<P: Protocol>(
    scenario: &Scenario,
    params: &P::Params,
    options: RunOptions,
) -> Result<RunReport, RunError> {
    if let Some(words) = services_unmodelled::<P>() {
        return Err(RunError::Unsupported(words));
    }
    if options.history.is_some() && scenario.workload.is_none() {
        return Err(RunError::Unsupported(
            "the scenario has no `workload:`: there is no history to write".to_string(),
        ));
    }
    let props = selected::<P>(scenario);
    #[allow(clippy::disallowed_methods)] // reported wall time only; it never shapes the replay
    let started = std::time::Instant::now();
    let explorer = explorer::<P>(scenario, params, props.clone());
    let replayed = match options.trace {
        Some(sink) => explorer.replay_traced(&scenario.schedule, sink),
        None => explorer.replay(&scenario.schedule),
    };
    let replay = replayed.map_err(|e| match e {
        ReplayError::Trace(e) => RunError::Trace(e),
        e => RunError::Unsupported(e.to_string()),
    })?;
    if let (Some(path), Some(log)) = (&options.history, &replay.history_log) {
        super::run::write_history_log(log, &scenario.node_names, replay.end_time, path)?;
    }
    let mut checks: Vec<CheckResult> = props.iter().map(|p| replay_check(p, &replay)).collect();
    // Judged after every event, as an invariant: the violation, if any, is the replay's.
    checks.extend(replay.history.as_ref().map(|h| CheckResult {
        name: h.name,
        description: h.model.check_description(),
        when: CheckWhen::Always,
        status: h.status,
    }));
    Ok(replay_report(
        scenario,
        replay,
        checks,
        started.elapsed().as_secs_f64(),
    ))
}

fn replay_check<P: Protocol>(p: &Property<P>, replay: &Replay) -> CheckResult {
    let violated = replay
        .violation
        .as_ref()
        .is_some_and(|v| v.property == p.name);
    let reached = replay.coverage.iter().find(|(name, _)| *name == p.name);
    let status = match (reached, violated, p.when) {
        (Some((_, true)), ..) => "reached",
        (Some((_, false)), ..) => "not_reached",
        (None, true, _) => "violated",
        (None, false, CheckWhen::Always) if replay.judged.contains(&p.name) => "pass",
        (None, false, CheckWhen::AtEnd) if replay.quiescent => "pass",
        _ => "not_checked",
    };
    CheckResult {
        name: p.name,
        description: p.description,
        when: p.when,
        status,
    }
}

/// What a run's statistics count, counted along the replayed path.
fn replay_stats(replay: &Replay) -> crate::engine::Stats {
    use crate::exhaustive::Event;
    let mut stats = crate::engine::Stats {
        events: replay.steps.len() as u64,
        sent: replay.sent,
        ..Default::default()
    };
    for step in &replay.steps {
        match step.event {
            Event::Deliver { .. } => stats.delivered += 1,
            Event::Duplicate { .. } => {
                stats.delivered += 1;
                stats.duplicated += 1;
            }
            Event::Drop { .. } => stats.dropped.loss += 1,
            Event::Fire { .. } => stats.timers_fired += 1,
            Event::Crash { .. } => stats.crashes += 1,
            Event::Restart { .. } => stats.restarts += 1,
            Event::Invoke { .. } | Event::Resend { .. } | Event::Timeout { .. } => {}
        }
    }
    stats.faults_applied = stats.crashes + stats.restarts;
    stats
}

fn replay_report(
    scenario: &Scenario,
    replay: Replay,
    checks: Vec<CheckResult>,
    wall_time_s: f64,
) -> RunReport {
    use std::fmt::Write;
    let stats = replay_stats(&replay);
    let violations: Vec<Found> = replay
        .violation
        .iter()
        .map(|v| {
            let mut text = format!(
                "{} broke after event {} of the schedule:\n",
                v.property,
                replay.steps.len()
            );
            for (i, step) in replay.steps.iter().enumerate() {
                let _ = writeln!(text, "{:4}. {}", i + 1, step.event);
                for note in &step.notes {
                    let _ = writeln!(text, "        note: {note}");
                }
            }
            let explanation = Explanation {
                text,
                chain: Vec::new(),
                omitted: 0,
            };
            Found {
                violation: v.clone(),
                explanation: Some(explanation),
            }
        })
        .collect();
    let outcome = if violations.is_empty() {
        RunOutcome::Pass
    } else {
        RunOutcome::Violation
    };
    let found = violations.iter().map(|v| v.violation.property.as_str());
    let expectation_met = scenario.expect.met_by(found);
    RunReport {
        name: scenario.name.clone(),
        protocol: scenario.protocol.clone(),
        bug: scenario.bug_shown(),
        seed: scenario.seed,
        duration: scenario.duration,
        stopped_at: replay.end_time,
        stats,
        in_flight: replay.in_flight,
        trace_hash: replay.path_hash,
        trace_events: replay.trace_events,
        checks,
        goals: Vec::new(),
        history: replay.history.clone(),
        violations,
        outcome,
        limit: None,
        expect: scenario.expect.clone(),
        expectation_met,
        wall_time_s,
        node_names: scenario.node_names.clone(),
        triggers: Vec::new(),
    }
}
