//! A scenario explored exhaustively ([`crate::exhaustive`]) instead of run on one seed.
//!
//! The scenario gives the protocol, its parameters and bug variant, the nodes and which
//! properties to check; the search gives everything a run would draw: every delivery order,
//! every timer order, and faults within the budgets. So the scenario's `network:`, `faults:`,
//! `nemesis:`, `workload:`, `duration:` and `seed:` do not apply; [`ignored`] names those it
//! sets, for the report to say so.

use super::Scenario;
use super::run::selected;
use crate::exhaustive::{Budgets, ExploreError, Explorer, Outcome, Progress};
use crate::protocol::Protocol;

/// The bounds of an exploration.
#[derive(Clone, Copy, Debug)]
pub struct ExploreOptions {
    pub budgets: Budgets,
    pub states_max: u64,
    pub depth_max: u32,
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
    let (params, bug) = (params.clone(), scenario.bug);
    let n = scenario.node_names.len() as u32;
    Explorer::new(n, move |id| P::new(id, n, &params, bug))
        .node_names(scenario.node_names.clone())
        .properties(selected::<P>(scenario))
        .budgets(options.budgets)
        .states_max(options.states_max)
        .depth_max(options.depth_max)
        .run_with(progress)
}

/// The sections of `scenario` that an exploration does not use, as the file names them.
pub fn ignored(scenario: &Scenario) -> Vec<&'static str> {
    let mut ignored = Vec::new();
    let network = &scenario.network;
    if *network != crate::net::NetworkConfig::default() || scenario.pct.is_some() {
        ignored.push("network");
    }
    if !scenario.faults.is_empty() || !scenario.triggers.is_empty() {
        ignored.push("faults");
    }
    if scenario.nemesis.is_some() || scenario.swarm.is_some() {
        ignored.push("nemesis");
    }
    if scenario.workload.is_some() {
        ignored.push("workload");
    }
    if !scenario.eventually.is_empty() {
        ignored.push("liveness");
    }
    ignored
}
