//! Scenario files: parsing with located errors, and turning a file into a runnable spec.
//!
//! Parsing runs in two passes. The first reads the file's shape and learns the node names,
//! the protocol and the limits; the second reads it again with that knowledge, so that a fault
//! naming an unknown node, an unknown bug variant or a bad protocol parameter is reported at
//! its own `file:line:column`.

mod context;
mod de;
mod entry;
pub mod exhaustive;
mod faults;
mod goals;
mod liveness;
mod make;
mod nemesis;
mod run;
pub mod schedule;
mod schema;
mod schema_search;
pub mod seal;
mod topology;
mod triggers;
mod workload;
mod write;

pub use de::Probability;
pub use entry::{ProtocolEntry, ProtocolParams};
use faults::to_fault;
pub use faults::{FaultAction, FaultSpec};
pub use run::{
    CheckResult, Explanation, Found, Outcome, RunError, RunOptions, RunReport, check_determinism,
    run,
};
pub use schema::{ExpectSpec, ScenarioFile};
pub use topology::TopologySpec;
pub use triggers::{TriggerAction, TriggerSpec};
pub use write::to_yaml;

use crate::check::{CheckEvery, Eventually};
use crate::engine::{Limits, NODES_MAX};
use crate::faults::TimedFault;
use crate::net::{LinkConfig, NetworkConfig};
use crate::process::NodeId;
use crate::protocol::ProtocolInfo;
use crate::time::{SimDuration, SimTime};
use context::Context;
pub(crate) use context::one_of as one_of_names;
use schema::{LinkSpec, NetworkSpec};
use serde::de::IgnoredAny;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// Largest scenario file read, so a mistaken path to a huge file fails fast.
pub const FILE_BYTES_MAX: u64 = 16 * 1024 * 1024;

/// A scenario that passed validation, ready to run.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Where it came from (for messages).
    pub file: String,
    pub name: String,
    pub description: String,
    /// The name of its protocol.
    pub protocol: String,
    /// The protocol's parameters: its [`crate::Protocol::Params`].
    pub params: ProtocolParams,
    pub bug: Option<&'static str>,
    /// The file names its bug sealed (`bug: { sealed: ... }`, see [`seal`]): reports say
    /// `sealed` instead of the name, and a written scenario keeps it sealed.
    pub bug_sealed: bool,
    pub node_names: Vec<String>,
    pub seed: u64,
    pub duration: SimDuration,
    pub network: NetworkConfig,
    /// PCT-style delivery priorities (`network.pct`), if any.
    pub pct: Option<crate::net::Pct>,
    pub faults: Vec<TimedFault>,
    /// Faults fired by events of the run (`faults:` entries with `on:`).
    pub triggers: Vec<crate::faults::TriggeredFault>,
    /// Properties to check; all of the protocol's when empty.
    pub checks: Vec<String>,
    /// How often invariants are checked while the run goes on.
    pub check_every: CheckEvery,
    /// Liveness goals.
    pub eventually: Vec<Eventually>,
    pub expect: ExpectSpec,
    pub limits: Limits,
    /// Simulated clients, whose history is checked at the end of the run.
    pub workload: Option<crate::workload::WorkloadConfig>,
    /// Random faults, drawn per seed by [`Scenario::materialize`] before the run.
    pub nemesis: Option<crate::faults::Nemesis>,
    /// Random network settings, drawn per seed by [`Scenario::materialize`] before the run.
    pub swarm: Option<crate::faults::Swarm>,
    /// What `faultline fuzz` draws for the scenario when it has no faults of its own.
    pub fuzz: crate::faults::FuzzFaults,
    /// A scripted order of events (`schedule:`), which a run replays instead of running the
    /// seed; empty for a scenario without one.
    pub schedule: Vec<crate::exhaustive::Event>,
    /// The budgets `faultline explore` uses unless its flags say otherwise (`explore:`).
    pub explore: exhaustive::BudgetsSet,
    /// Regions, the latency between them and where clients sit (`topology:`), if any.
    pub topology: Option<crate::net::Topology>,
    /// The protocol itself, as registered: what runs the scenario.
    pub(crate) entry: ProtocolEntry,
}

impl Scenario {
    /// The bug variant as reports name it: its name, or `sealed` for a sealed one.
    pub fn bug_shown(&self) -> Option<&'static str> {
        match self.bug_sealed {
            true => self.bug.map(|_| seal::SEALED_WORD),
            false => self.bug,
        }
    }

    /// Its protocol's parameters, properties and bug variants.
    pub fn protocol_info(&self) -> ProtocolInfo {
        self.entry.info()
    }
}

/// A scenario error with its location in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    pub file: String,
    /// 1-based; `None` when the error is not about the file's contents (e.g. unreadable).
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{l}:{c}: {}", self.file, self.message),
            _ => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for ScenarioError {}

/// Reads and validates a scenario file naming one of `protocols`.
pub(crate) fn load(protocols: &[ProtocolEntry], path: &Path) -> Result<Scenario, ScenarioError> {
    let file = path.display().to_string();
    let fail = |message: String| ScenarioError {
        file: file.clone(),
        line: None,
        column: None,
        message,
    };
    let meta =
        std::fs::metadata(path).map_err(|e| fail(format!("cannot read the scenario: {e}")))?;
    if meta.is_dir() {
        return Err(fail("is a directory, not a scenario file".into()));
    }
    if meta.len() > FILE_BYTES_MAX {
        return Err(fail(format!(
            "is {} bytes; scenario files are at most {FILE_BYTES_MAX}",
            meta.len()
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read the scenario: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let (line, column) = line_col_of(&e.as_bytes()[..e.utf8_error().valid_up_to()]);
        ScenarioError {
            file: file.clone(),
            line: Some(line),
            column: Some(column),
            message: "the file is not valid UTF-8".into(),
        }
    })?;
    parse(protocols, &text, &file)
}

fn line_col_of(prefix: &[u8]) -> (usize, usize) {
    let line = prefix.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = prefix.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    (line, column)
}

/// Parses and validates scenario text naming one of `protocols`; `file` names it in errors.
pub(crate) fn parse(
    protocols: &[ProtocolEntry],
    text: &str,
    file: &str,
) -> Result<Scenario, ScenarioError> {
    let names: Vec<&'static str> = protocols.iter().map(ProtocolEntry::name).collect();
    context::with_protocols(names, || parse_in(protocols, text, file))
}

/// [`parse`], with the protocols' names installed for the parser.
fn parse_in(
    protocols: &[ProtocolEntry],
    text: &str,
    file: &str,
) -> Result<Scenario, ScenarioError> {
    let located = |e: serde_yaml::Error| locate(e, file);
    let first: ScenarioFile<IgnoredAny> = serde_yaml::from_str(text).map_err(located)?;
    let entry = protocols
        .iter()
        .find(|p| p.name() == first.protocol.0)
        .expect("protocol names are checked while parsing");
    let info = entry.info();
    let max_nodes = first
        .limits
        .max_nodes
        .map_or(u64::from(Limits::default().max_nodes), |m| m.0)
        .min(u64::from(NODES_MAX));
    let properties: Vec<&'static str> = info.properties.iter().map(|p| p.name).collect();
    let ctx = Context {
        nodes: first.nodes.names(),
        protocol: first.protocol.0.clone(),
        bugs: info.bugs.iter().map(|b| b.name).collect(),
        properties,
        history_check: first.workload.as_ref().map(|w| w.0.model.check_name()),
        workloads: info.workloads.to_vec(),
        liveness_at_ns: first.liveness.as_ref().map(|l| l.at.0),
        default_params_check: first.params.is_none().then(|| entry.default_params_check()),
        duration_ns: first.duration.0.0,
        last_fault_ns: first.faults.0.iter().map(|f| f.at.0).max(),
        last_heal_ns: first
            .faults
            .0
            .iter()
            .filter(|f| matches!(f.action, FaultAction::Heal(_)))
            .map(|f| f.at.0)
            .max(),
        max_nodes,
        regions: first
            .topology
            .as_ref()
            .map(TopologySpec::region_names)
            .unwrap_or_default(),
        network_latency: first.network.latency.is_some(),
        swarm_latency: first
            .swarm
            .as_ref()
            .is_some_and(|s| s.0.latency_mean.is_some()),
        workload_clients: first.workload.as_ref().map(|w| w.0.clients),
    };
    let names = ctx.nodes.clone();
    let (second, params) = context::with_context(ctx, || entry.read(text)).map_err(located)?;
    Ok(build(second, params, names, file, entry, &info))
}

/// Turns a serde_yaml error into `file:line:column: message`.
fn locate(e: serde_yaml::Error, file: &str) -> ScenarioError {
    let mut message = strip_positions(&e.to_string());
    if message == "EOF while parsing a value" {
        message =
            "the file is empty; a scenario needs at least `name`, `protocol` and `nodes`".into();
    }
    let (line, column) = match e.location() {
        Some(loc) => (loc.line(), loc.column()),
        None => (1, 1),
    };
    ScenarioError {
        file: file.to_string(),
        line: Some(line),
        column: Some(column),
        message,
    }
}

/// Removes serde_yaml's " at line N column M" fragments: the location leads the message instead.
fn strip_positions(text: &str) -> String {
    const MARK: &str = " at line ";
    let digits = |s: &str| s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(MARK) {
        out.push_str(&rest[..i]);
        let tail = &rest[i + MARK.len()..];
        let line_len = digits(tail);
        match tail[line_len..].strip_prefix(" column ") {
            Some(col) if line_len > 0 && digits(col) > 0 => rest = &col[digits(col)..],
            _ => {
                out.push_str(MARK);
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

fn build(
    f: ScenarioFile<IgnoredAny>,
    params: ProtocolParams,
    names: Vec<String>,
    file: &str,
    entry: &ProtocolEntry,
    info: &ProtocolInfo,
) -> Scenario {
    let ids: BTreeMap<&str, NodeId> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), NodeId(i as u32)))
        .collect();
    let id = |name: &str| match ids.get(name) {
        Some(&id) => id,
        None => crate::faults::TRIGGER_NODE,
    };
    let bug_sealed = f.bug.as_ref().is_some_and(|b| b.sealed);
    let bug = f.bug.map(|b| {
        info.bugs
            .iter()
            .find(|d| d.name == b.name)
            .expect("bug names are checked")
            .name
    });
    let mut limits = Limits::default();
    if let Some(m) = f.limits.max_events {
        limits.max_events = m.0;
    }
    if let Some(m) = f.limits.max_time {
        limits.max_time = SimTime(m.0);
    }
    limits.max_time = limits.max_time.max(SimTime(f.duration.0.0));
    if let Some(m) = f.limits.max_nodes {
        limits.max_nodes = m.0.min(u64::from(NODES_MAX)) as u32;
    }
    if let Some(m) = f.limits.max_queue {
        limits.max_queue = m.0;
    }
    let topology = f.topology.as_ref().map(|t| t.resolve(&id));
    let mut faults = timed_faults(&f.faults.0, &id, topology.as_ref());
    let mut eventually = f.eventually.0;
    if let Some(phase) = &f.liveness {
        faults.push(phase.fault());
        let at_end: Vec<&str> = info
            .properties
            .iter()
            .filter(|p| p.when == crate::check::CheckWhen::AtEnd)
            .map(|p| p.name)
            .collect();
        eventually.extend(phase.goals(&at_end));
    }
    Scenario {
        file: file.to_string(),
        name: f.name,
        description: f.description,
        protocol: f.protocol.0,
        params,
        bug,
        bug_sealed,
        seed: f.seed,
        duration: f.duration.0,
        network: network_config(&f.network, &id, topology.as_ref(), &names),
        pct: f.network.pct.map(|p| p.0),
        faults,
        triggers: f.faults.1.iter().map(|t| t.to_triggered(&id)).collect(),
        eventually,
        check_every: f.check_every.map_or(CheckEvery::Event, |c| c.0),
        checks: f
            .checks
            .unwrap_or_default()
            .into_iter()
            .map(|c| c.0)
            .collect(),
        expect: f.expect.unwrap_or(ExpectSpec::Pass),
        limits,
        node_names: names,
        workload: f.workload.map(|w| w.0),
        nemesis: f.nemesis.map(|n| n.0),
        swarm: f.swarm.map(|s| s.0),
        fuzz: f.fuzz.map(|f| f.settings()).unwrap_or_default(),
        schedule: f.schedule.0,
        explore: f.explore.map(|e| e.budgets()).unwrap_or_default(),
        topology,
        entry: entry.clone(),
    }
}

/// The timed faults, a region fault expanded in place into the node faults it stands for.
fn timed_faults(
    specs: &[FaultSpec],
    id: &dyn Fn(&str) -> NodeId,
    topology: Option<&crate::net::Topology>,
) -> Vec<TimedFault> {
    let mut faults = Vec::with_capacity(specs.len());
    for s in specs {
        let at = s.at;
        match (&s.action, topology) {
            (FaultAction::Region(r), Some(t)) => {
                let expanded = t.expand(r).expect("region names are checked while parsing");
                faults.extend(expanded.into_iter().map(|fault| TimedFault { at, fault }));
            }
            (action, _) => {
                faults.extend(to_fault(action, id).map(|fault| TimedFault { at, fault }))
            }
        }
    }
    faults
}

/// The network; with a topology, a link override that gives no latency takes its regions'.
fn network_config(
    spec: &NetworkSpec,
    id: &dyn Fn(&str) -> NodeId,
    topology: Option<&crate::net::Topology>,
    names: &[String],
) -> NetworkConfig {
    let table = topology.map(|t| {
        t.table(names)
            .expect("the topology is checked while parsing")
    });
    let mut default = LinkConfig::default();
    if let Some(l) = &spec.latency {
        default.latency = l.clone();
    }
    default.drop = spec.drop.map_or(0.0, |p| p.0);
    default.duplicate = spec.duplicate.map_or(0.0, |p| p.0);
    default.fifo = spec.fifo.unwrap_or(false);
    default.capacity = spec.capacity.map(|c| c.0);
    let links = spec
        .links
        .0
        .iter()
        .map(|l| {
            let (from, to) = (id(&l.from.0), id(&l.to.0));
            let mut link = link_config(l, &default);
            if let (None, Some(table)) = (&l.latency, &table) {
                link.latency = table.between_nodes(from, to).clone();
            }
            ((from, to), link)
        })
        .collect();
    NetworkConfig { default, links }
}

fn link_config(l: &LinkSpec, default: &LinkConfig) -> LinkConfig {
    LinkConfig {
        latency: l.latency.clone().unwrap_or_else(|| default.latency.clone()),
        drop: l.drop.map_or(default.drop, |p| p.0),
        duplicate: l.duplicate.map_or(default.duplicate, |p| p.0),
        fifo: l.fifo.unwrap_or(default.fifo),
        capacity: l.capacity.map(|c| c.0).or(default.capacity),
    }
}

/// `load` and `parse` with the built-in protocols, for the crate's own tests.
#[cfg(test)]
pub(crate) mod builtin {
    use super::{Scenario, ScenarioError};

    pub(crate) fn load(path: &std::path::Path) -> Result<Scenario, ScenarioError> {
        crate::Registry::builtin().load(path)
    }

    pub(crate) fn parse(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
        crate::Registry::builtin().parse(text, file)
    }
}

#[cfg(test)]
mod tests;
