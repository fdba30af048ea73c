//! Writing a [`Scenario`] back out as a scenario file that [`super::parse`] reads to the same run.
//!
//! Everything is written explicitly: node names rather than a count, the fault schedule as a
//! list, per-link overrides with every field resolved. Two constructs come back equivalent
//! rather than identical in text:
//! - `Fault::Stabilize` is written as the `liveness:` block it came from, with the goals that
//!   block produced as its explicit `conditions:`;
//! - other `eventually:` goals are written with `after:` the time their window opens, so a
//!   goal that said `after: heal` reads `after: 3s`: the same goal, described in other words.

use super::{ExpectSpec, Scenario};
use crate::check::{CheckEvery, Eventually};
use crate::engine::Limits;
use crate::faults::{Fault, MessageAction, Response, TRIGGER_NODE, TimedFault, TriggeredFault};
use crate::net::{LinkConfig, Topology};
use crate::process::NodeId;
use crate::time::{SimDuration, SimTime};
use crate::workload::WorkloadConfig;
use serde_yaml::{Mapping, Value};

/// The scenario as YAML text.
pub fn to_yaml(s: &Scenario) -> String {
    if s.nemesis.is_some() || s.swarm.is_some() {
        // Random faults and swarm settings are written as the plain data they draw for the
        // scenario's seed: the file replays without them.
        return to_yaml(&s.materialize(s.seed));
    }
    let mut m = Mapping::new();
    put(&mut m, "name", s.name.as_str());
    if !s.description.is_empty() {
        put(&mut m, "description", s.description.as_str());
    }
    put(&mut m, "protocol", s.protocol.as_str());
    put(&mut m, "params", value(&s.params));
    match s.bug {
        Some(bug) if s.bug_sealed => {
            let mut sealed = Mapping::new();
            put(&mut sealed, "sealed", super::seal::seal(&s.protocol, bug));
            put(&mut m, "bug", serde_yaml::Value::Mapping(sealed));
        }
        Some(bug) => put(&mut m, "bug", bug),
        None => {}
    }
    put(&mut m, "nodes", value(&s.node_names));
    put(&mut m, "seed", s.seed);
    put(&mut m, "duration", text(s.duration));
    put(&mut m, "network", network(s));
    let faults: Vec<Value> = s
        .faults
        .iter()
        .filter(|f| !f.is_liveness_phase())
        .map(|f| fault(f, &s.node_names))
        .chain(s.triggers.iter().map(|t| triggered(t, &s.node_names)))
        .collect();
    if !faults.is_empty() {
        put(&mut m, "faults", Value::Sequence(faults));
    }
    if !s.checks.is_empty() {
        put(&mut m, "checks", value(&s.checks));
    }
    put(&mut m, "check_every", check_every(s.check_every));
    let (phase, goals) = liveness(s);
    if !goals.is_empty() {
        put(&mut m, "eventually", Value::Sequence(goals));
    }
    put(&mut m, "expect", expect(&s.expect));
    let limits = limits(&s.limits, s.duration);
    if !limits.is_empty() {
        put(&mut m, "limits", Value::Mapping(limits));
    }
    if let Some(w) = &s.workload {
        put(&mut m, "workload", workload(w));
    }
    if let Some(t) = &s.topology {
        put(&mut m, "topology", topology(t, &s.node_names));
    }
    if let Some(phase) = phase {
        put(&mut m, "liveness", phase);
    }
    if s.fuzz.kinds.is_some() || s.fuzz.classic {
        let mut fuzz = Mapping::new();
        if let Some(kinds) = &s.fuzz.kinds {
            put(&mut fuzz, "faults", value(kinds));
        }
        if s.fuzz.classic {
            put(&mut fuzz, "schedule", "classic");
        }
        put(&mut m, "fuzz", fuzz);
    }
    let explore = explore_budgets(&s.explore);
    if !explore.is_empty() {
        put(&mut m, "explore", Value::Mapping(explore));
    }
    if !s.schedule.is_empty() {
        put(&mut m, "schedule", super::schedule::to_yaml(&s.schedule));
    }
    serde_yaml::to_string(&Value::Mapping(m)).expect("a YAML value always serialises")
}

/// The budgets `explore:` sets.
fn explore_budgets(set: &super::exhaustive::BudgetsSet) -> Mapping {
    let mut m = Mapping::new();
    let budgets = [
        ("timers", set.timers_max),
        ("drops", set.drops_max),
        ("duplicates", set.duplicates_max),
        ("crashes", set.crashes_max),
        ("client_ops", set.client_ops_max),
        ("timeouts", set.timeouts_max),
    ];
    for (key, budget) in budgets {
        if let Some(n) = budget {
            put(&mut m, key, u64::from(n));
        }
    }
    m
}

fn put(m: &mut Mapping, key: &str, v: impl Into<Value>) {
    m.insert(Value::String(key.to_string()), v.into());
}

fn value<T: serde::Serialize + ?Sized>(v: &T) -> Value {
    serde_yaml::to_value(v).expect("scenario parts serialise to YAML")
}

fn text(v: impl std::fmt::Display) -> Value {
    Value::String(v.to_string())
}

fn network(s: &Scenario) -> Value {
    let mut m = link(&s.network.default);
    if s.topology.is_some() {
        // Every link takes its regions' latency: the default link's is not used.
        m.remove("latency");
    }
    let links: Vec<Value> = s
        .network
        .links
        .iter()
        .map(|(&(from, to), l)| {
            let mut one = Mapping::new();
            put(&mut one, "from", name(&s.node_names, from));
            put(&mut one, "to", name(&s.node_names, to));
            one.extend(link(l));
            Value::Mapping(one)
        })
        .collect();
    if !links.is_empty() {
        put(&mut m, "links", Value::Sequence(links));
    }
    if let Some(pct) = &s.pct {
        let mut one = Mapping::new();
        put(&mut one, "depth", u64::from(pct.depth));
        put(&mut one, "over", pct.span.to_string());
        put(&mut m, "pct", Value::Mapping(one));
    }
    Value::Mapping(m)
}

fn link(l: &LinkConfig) -> Mapping {
    let mut m = Mapping::new();
    put(&mut m, "latency", value(&l.latency));
    put(&mut m, "drop", l.drop);
    put(&mut m, "duplicate", l.duplicate);
    put(&mut m, "fifo", l.fifo);
    if let Some(c) = l.capacity {
        put(&mut m, "capacity", u64::from(c));
    }
    m
}

/// A node's name; one the scenario lacks is written as its default name, for the parser to
/// reject where it stands.
fn name(names: &[String], id: NodeId) -> String {
    if id == TRIGGER_NODE {
        return super::de::TRIGGER_NODE_NAME.to_string();
    }
    names
        .get(id.index())
        .cloned()
        .unwrap_or_else(|| id.to_string())
}

/// One fault as `{ at: .., <action>: .. }`. `Stabilize` is written as `liveness:` instead.
fn fault(f: &TimedFault, names: &[String]) -> Value {
    let mut m = Mapping::new();
    put(&mut m, "at", text(f.at));
    put(&mut m, f.fault.name(), action(&f.fault, names));
    Value::Mapping(m)
}

/// A triggered fault as `{ on: { <watch>: .., node: .., nth: .. }, after: .., <action>: .. }`.
fn triggered(t: &TriggeredFault, names: &[String]) -> Value {
    let mut on = Mapping::new();
    put(&mut on, t.trigger.watch.name(), t.trigger.watch.pattern());
    if let Some(node) = t.trigger.node {
        put(&mut on, "node", name(names, node));
    }
    if t.trigger.nth != 1 {
        put(&mut on, "nth", u64::from(t.trigger.nth));
    }
    if let Some(before) = t.trigger.before {
        put(&mut on, "before", text(before));
    }
    let mut m = Mapping::new();
    put(&mut m, "on", Value::Mapping(on));
    match &t.response {
        Response::Fault { after, fault } => {
            if after.0 > 0 {
                put(&mut m, "after", text(after));
            }
            put(&mut m, fault.name(), action(fault, names));
        }
        Response::Message(MessageAction::Drop) => put(&mut m, "message", "drop"),
        Response::Message(MessageAction::Duplicate) => put(&mut m, "message", "duplicate"),
        Response::Message(MessageAction::Delay(by)) => {
            let mut delay = Mapping::new();
            put(&mut delay, "delay", text(by));
            put(&mut m, "message", Value::Mapping(delay));
        }
    }
    Value::Mapping(m)
}

/// What follows a fault's action name.
fn action(fault: &Fault, names: &[String]) -> Value {
    let n = |id: &NodeId| Value::String(name(names, *id));
    let pair = |from: &NodeId, to: &NodeId| {
        let mut m = Mapping::new();
        put(&mut m, "from", n(from));
        put(&mut m, "to", n(to));
        m
    };
    match fault {
        Fault::Partition(groups) => Value::Sequence(
            groups
                .iter()
                .map(|g| Value::Sequence(g.iter().map(n).collect()))
                .collect(),
        ),
        Fault::Heal(None) => text("all"),
        Fault::Heal(Some(id)) => n(id),
        Fault::Crash(id)
        | Fault::Restart(id)
        | Fault::Pause(id)
        | Fault::Resume(id)
        | Fault::Isolate(id) => n(id),
        Fault::Cut { from, to } => Value::Mapping(pair(from, to)),
        Fault::Clog { from, to, until } => {
            let mut m = pair(from, to);
            put(&mut m, "until", text(until));
            Value::Mapping(m)
        }
        Fault::ClockSkew {
            node,
            offset,
            drift,
        } => {
            let mut m = Mapping::new();
            put(&mut m, "node", n(node));
            put(&mut m, "offset", text(offset));
            put(&mut m, "drift", *drift);
            Value::Mapping(m)
        }
        Fault::ClockJump { node, by } => {
            let mut m = Mapping::new();
            put(&mut m, "node", n(node));
            put(&mut m, "by", text(by));
            Value::Mapping(m)
        }
        Fault::Stabilize { .. } => unreachable!("written as `liveness:`"),
    }
}

/// The `liveness:` block (if the schedule has a `Stabilize`) and the other goals.
fn liveness(s: &Scenario) -> (Option<Value>, Vec<Value>) {
    let phase = s.faults.iter().find_map(|f| match f.fault {
        Fault::Stabilize { majority } => Some((f.at, majority)),
        _ => None,
    });
    let of_phase = |g: &Eventually| {
        phase.is_some_and(|(at, _)| g.from == at && g.after.starts_with("the liveness phase"))
    };
    let goals = s
        .eventually
        .iter()
        .filter(|g| !of_phase(g))
        .map(goal)
        .collect();
    let block = phase.map(|(at, majority)| {
        let mine: Vec<&Eventually> = s.eventually.iter().filter(|g| of_phase(g)).collect();
        // With no goal the phase has nothing to bound; any `within` inside the run will do.
        let within = mine
            .first()
            .map_or(SimDuration((s.duration.0 - at.0).max(1)), |g| g.within);
        let mut m = Mapping::new();
        put(&mut m, "at", text(at));
        put(&mut m, "within", text(within));
        put(&mut m, "core", if majority { "majority" } else { "all" });
        let conditions: Vec<Value> = mine.iter().map(|g| text(&g.condition)).collect();
        if !conditions.is_empty() {
            put(&mut m, "conditions", Value::Sequence(conditions));
        }
        Value::Mapping(m)
    });
    (block, goals)
}

fn goal(g: &Eventually) -> Value {
    let mut m = Mapping::new();
    put(&mut m, "condition", g.condition.as_str());
    put(&mut m, "within", text(g.within));
    put(&mut m, "after", text(g.from));
    Value::Mapping(m)
}

fn check_every(c: CheckEvery) -> Value {
    match c {
        CheckEvery::Event => text("event"),
        CheckEvery::Events(n) => Value::from(n),
        CheckEvery::End => text("end"),
    }
}

fn expect(e: &ExpectSpec) -> Value {
    let mut m = Mapping::new();
    match e {
        ExpectSpec::Pass => put(&mut m, "outcome", "pass"),
        ExpectSpec::Violation(None) => put(&mut m, "outcome", "violation"),
        ExpectSpec::Violation(Some(p)) => put(&mut m, "violation", p.as_str()),
    }
    Value::Mapping(m)
}

/// Only the limits that differ from the defaults. `max_time` below the duration is raised to
/// it while parsing, so it is written only when it differs from that result.
fn limits(l: &Limits, duration: SimDuration) -> Mapping {
    let d = Limits::default();
    let mut m = Mapping::new();
    if l.max_events != d.max_events {
        put(&mut m, "max_events", l.max_events);
    }
    if l.max_time != d.max_time.max(SimTime(duration.0)) {
        put(&mut m, "max_time", text(SimDuration(l.max_time.0)));
    }
    if l.max_nodes != d.max_nodes {
        put(&mut m, "max_nodes", u64::from(l.max_nodes));
    }
    if l.max_queue != d.max_queue {
        put(&mut m, "max_queue", l.max_queue);
    }
    m
}

fn topology(t: &Topology, names: &[String]) -> Value {
    let mut regions = Mapping::new();
    for r in &t.regions {
        let nodes: Vec<Value> = r.nodes.iter().map(|&n| name(names, n).into()).collect();
        put(&mut regions, &r.name, Value::Sequence(nodes));
    }
    let mut latency = Mapping::new();
    if let Some(l) = &t.within_zone {
        put(&mut latency, "within_zone", value(l));
    }
    if let Some(l) = &t.within {
        put(&mut latency, "within", value(l));
    }
    let between: Vec<Value> = t
        .between
        .iter()
        .map(|p| {
            let mut one = Mapping::new();
            put(&mut one, "regions", value(&[&p.from, &p.to]));
            put(&mut one, "latency", value(&p.latency));
            Value::Mapping(one)
        })
        .collect();
    if !between.is_empty() {
        put(&mut latency, "between", Value::Sequence(between));
    }
    if let Some(l) = &t.default {
        put(&mut latency, "default", value(l));
    }
    let mut m = Mapping::new();
    put(&mut m, "regions", regions);
    if !t.zones.is_empty() {
        let mut zones = Mapping::new();
        for z in &t.zones {
            let nodes: Vec<Value> = z.nodes.iter().map(|&n| name(names, n).into()).collect();
            put(&mut zones, &z.name, Value::Sequence(nodes));
        }
        put(&mut m, "zones", zones);
    }
    put(&mut m, "latency", latency);
    if !t.clients.is_empty() {
        let mut clients = Mapping::new();
        for (region, n) in &t.clients {
            put(&mut clients, region, u64::from(*n));
        }
        put(&mut m, "clients", clients);
    }
    Value::Mapping(m)
}

fn workload(w: &WorkloadConfig) -> Value {
    let mut m = Mapping::new();
    put(&mut m, "model", w.model.name());
    put(&mut m, "clients", u64::from(w.clients));
    put(&mut m, "rate", w.rate_per_s);
    let mut mix = Mapping::new();
    for (func, weight) in &w.mix {
        put(&mut mix, func.name(), *weight);
    }
    put(&mut m, "mix", Value::Mapping(mix));
    put(&mut m, "keys", u64::from(w.keys));
    put(&mut m, "values", u64::from(w.values));
    put(&mut m, "timeout", text(w.timeout));
    if w.until != SimTime::MAX {
        put(&mut m, "until", text(w.until));
    }
    if let Some(at) = w.final_reads {
        put(&mut m, "final_reads", text(at));
    }
    put(&mut m, "latency", value(&w.latency));
    if w.model.is_transactional() {
        put(&mut m, "micro_ops_min", u64::from(w.micro_ops_min));
        put(&mut m, "micro_ops_max", u64::from(w.micro_ops_max));
    }
    if let Some(level) = w.isolation {
        put(&mut m, "isolation", level.name());
    }
    Value::Mapping(m)
}

#[cfg(test)]
mod tests;
