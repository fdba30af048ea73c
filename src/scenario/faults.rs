//! `faults:` entries: `{ at: 3s, <action>: ... }` with exactly one action.
//!
//! An entry names nodes; once they are known (the second pass), it is turned into the
//! [`Fault`] it stands for and checked by [`TimedFault::validate`], the same check
//! [`crate::SimBuilder::build`] makes, with the same message.

use super::context::inspect;
use super::de::{NodeRef, TRIGGER_NODE_NAME};
use super::schema::fault_actions;
use super::topology::RegionRef;
use crate::faults::{Fault, TimedFault};
use crate::net::RegionFault;
use crate::process::NodeId;
use crate::serde_util::{map_then, str_then};
use crate::time::{SignedDuration, SimDuration, SimTime};
use serde::Deserialize;
use serde::de::Deserializer;

/// One scheduled fault, by node names.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultSpec {
    pub at: SimTime,
    pub action: FaultAction,
}

/// What a fault does; nodes by name.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultAction {
    Partition(Vec<Vec<String>>),
    /// `None` heals everything.
    Heal(Option<String>),
    Crash(String),
    Restart(String),
    Pause(String),
    Resume(String),
    Isolate(String),
    Cut {
        from: String,
        to: String,
    },
    Clog {
        from: String,
        to: String,
        until: SimTime,
    },
    ClockSkew {
        node: String,
        offset: SignedDuration,
        drift: f64,
    },
    ClockJump {
        node: String,
        by: SignedDuration,
    },
    /// A fault on every node of a region of the topology, expanded into node faults when the
    /// scenario is loaded.
    Region(RegionFault),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FaultFields {
    at: Option<SimTime>,
    on: Option<super::triggers::OnFields>,
    after: Option<SimDuration>,
    message: Option<super::triggers::MessageSpec>,
    partition: Option<Vec<Vec<NodeRef>>>,
    heal: Option<HealTarget>,
    crash: Option<NodeRef>,
    restart: Option<NodeRef>,
    pause: Option<NodeRef>,
    resume: Option<NodeRef>,
    isolate: Option<NodeRef>,
    cut: Option<LinkRef>,
    clog: Option<ClogFields>,
    clock_skew: Option<SkewFields>,
    clock_jump: Option<JumpFields>,
    partition_region: Option<RegionRef>,
    crash_region: Option<RegionRef>,
    restart_region: Option<RegionRef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkRef {
    from: NodeRef,
    to: NodeRef,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClogFields {
    from: NodeRef,
    to: NodeRef,
    until: Option<SimTime>,
    #[serde(rename = "for")]
    for_: Option<SimDuration>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SkewFields {
    node: NodeRef,
    #[serde(default)]
    offset: SignedDuration,
    #[serde(default = "one")]
    drift: f64,
}

fn one() -> f64 {
    1.0
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JumpFields {
    node: NodeRef,
    by: SignedDuration,
}

/// `heal: all` or `heal: <node>`.
struct HealTarget(Option<String>);

impl<'de> Deserialize<'de> for HealTarget {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        str_then(d, "`all` or a node name", |name| {
            if name == "all" {
                return Ok(HealTarget(None));
            }
            if name == TRIGGER_NODE_NAME {
                // As for `NodeRef`: a timed fault that names it is rejected below.
                return Ok(HealTarget(Some(name.to_string())));
            }
            let known = inspect(|c| c.nodes.iter().any(|n| n == name)).unwrap_or(true);
            if !known {
                return Err(format!(
                    "heal takes `all` or a node name; `{name}` is neither"
                ));
            }
            Ok(HealTarget(Some(name.to_string())))
        })
    }
}

/// One `faults:` entry: at a time, or on a trigger.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultEntry {
    Timed(FaultSpec),
    Triggered(super::triggers::TriggerSpec),
}

impl<'de> Deserialize<'de> for FaultEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        map_then(d, "a fault such as { at: 3s, crash: n2 }", convert)
    }
}

fn convert(f: FaultFields) -> Result<FaultEntry, String> {
    if f.on.is_some() {
        return super::triggers::convert(f).map(FaultEntry::Triggered);
    }
    if f.after.is_some() || f.message.is_some() {
        return Err("`after` and `message` belong to a triggered fault, one with `on:`".into());
    }
    let Some(at) = f.at else {
        return Err("a fault needs `at: <time>` or `on: <trigger>`".into());
    };
    let actions = actions(at, f)?;
    if actions.len() != 1 {
        return Err(format!(
            "a fault has `at` and exactly one action ({}); this one has {}",
            fault_actions(),
            actions.len()
        ));
    }
    check_time(at)?;
    let spec = FaultSpec {
        at,
        action: actions.into_iter().next().expect("one action"),
    };
    if spec.action.names(TRIGGER_NODE_NAME) {
        return Err(format!(
            "`{TRIGGER_NODE_NAME}` names the node a trigger fired at; this fault has `at`, not `on`"
        ));
    }
    inspect(|c| spec.validate(&c.nodes)).unwrap_or(Ok(()))?;
    Ok(FaultEntry::Timed(spec))
}

/// The actions an entry lists (one, if it is well formed).
pub(super) fn actions(at: SimTime, f: FaultFields) -> Result<Vec<FaultAction>, String> {
    let mut actions: Vec<FaultAction> = Vec::new();
    if let Some(groups) = f.partition {
        let names = groups
            .into_iter()
            .map(|g| g.into_iter().map(|n| n.0).collect())
            .collect();
        actions.push(FaultAction::Partition(names));
    }
    if let Some(h) = f.heal {
        actions.push(FaultAction::Heal(h.0));
    }
    let singles = [
        (f.crash, FaultAction::Crash as fn(String) -> FaultAction),
        (f.restart, FaultAction::Restart),
        (f.pause, FaultAction::Pause),
        (f.resume, FaultAction::Resume),
        (f.isolate, FaultAction::Isolate),
    ];
    for (node, make) in singles {
        if let Some(n) = node {
            actions.push(make(n.0));
        }
    }
    if let Some(c) = f.cut {
        actions.push(FaultAction::Cut {
            from: c.from.0,
            to: c.to.0,
        });
    }
    if let Some(c) = f.clog {
        actions.push(clog(at, c)?);
    }
    if let Some(s) = f.clock_skew {
        actions.push(FaultAction::ClockSkew {
            node: s.node.0,
            offset: s.offset,
            drift: s.drift,
        });
    }
    if let Some(j) = f.clock_jump {
        actions.push(FaultAction::ClockJump {
            node: j.node.0,
            by: j.by,
        });
    }
    let regional = [
        (
            f.partition_region,
            RegionFault::Partition as fn(String) -> RegionFault,
        ),
        (f.crash_region, RegionFault::Crash),
        (f.restart_region, RegionFault::Restart),
    ];
    for (region, make) in regional {
        if let Some(r) = region {
            actions.push(FaultAction::Region(make(r.0)));
        }
    }
    Ok(actions)
}

impl FaultFields {
    pub(super) fn at_is_set(&self) -> bool {
        self.at.is_some()
    }

    pub(super) fn take_on(&mut self) -> Option<super::triggers::OnFields> {
        self.on.take()
    }

    pub(super) fn take_message(&mut self) -> Option<super::triggers::MessageSpec> {
        self.message.take()
    }

    pub(super) fn take_after(&mut self) -> Option<SimDuration> {
        self.after.take()
    }
}

impl FaultAction {
    /// Whether the action names node `name` (a region fault names regions only).
    pub(super) fn names(&self, name: &str) -> bool {
        let id = |n: &str| NodeId(u32::from(n == name));
        to_fault(self, &id).is_some_and(|f| f.nodes().contains(&NodeId(1)))
    }
}

/// A fault comes no later than the run's end, and before its liveness phase.
pub(super) fn check_time(at: SimTime) -> Result<(), String> {
    if let Some(end) = inspect(|c| c.duration_ns).filter(|&end| at.0 > end) {
        return Err(format!(
            "this fault is at {at}, after the run ends (duration {})",
            SimDuration(end)
        ));
    }
    if let Some(phase) = inspect(|c| c.liveness_at_ns)
        .flatten()
        .filter(|&t| at.0 >= t)
    {
        return Err(format!(
            "this fault is at {at}, but faults stop when the liveness phase begins at {}",
            SimTime(phase)
        ));
    }
    Ok(())
}

impl FaultSpec {
    /// [`TimedFault::validate`] on the fault this entry stands for, among nodes `names`.
    fn validate(&self, names: &[String]) -> Result<(), String> {
        // Names are checked as they are read; one not found would be out of range here too.
        let id =
            |name: &str| NodeId(names.iter().position(|n| n == name).unwrap_or(names.len()) as u32);
        // A region fault's region is checked as it is read, and it expands into faults that
        // always pass: a partition of one non-empty group, crashes and restarts.
        let Some(fault) = to_fault(&self.action, &id) else {
            return Ok(());
        };
        let fault = TimedFault { at: self.at, fault };
        fault
            .validate(names.len() as u32)
            .map_err(|e| e.message(names))
    }
}

fn clog(at: SimTime, c: ClogFields) -> Result<FaultAction, String> {
    let until = match (c.until, c.for_) {
        (Some(until), None) => until,
        (None, Some(span)) => at + span,
        _ => return Err("a clog takes exactly one of `until: <time>` or `for: <duration>`".into()),
    };
    Ok(FaultAction::Clog {
        from: c.from.0,
        to: c.to.0,
        until,
    })
}

/// The fault an entry stands for, with node names resolved by `id`; `None` for a region
/// fault, which stands for several ([`crate::net::Topology::expand`]).
pub(super) fn to_fault(action: &FaultAction, id: &dyn Fn(&str) -> NodeId) -> Option<Fault> {
    Some(match action {
        FaultAction::Partition(groups) => Fault::Partition(
            groups
                .iter()
                .map(|g| g.iter().map(|n| id(n)).collect())
                .collect(),
        ),
        FaultAction::Heal(node) => Fault::Heal(node.as_deref().map(id)),
        FaultAction::Crash(n) => Fault::Crash(id(n)),
        FaultAction::Restart(n) => Fault::Restart(id(n)),
        FaultAction::Pause(n) => Fault::Pause(id(n)),
        FaultAction::Resume(n) => Fault::Resume(id(n)),
        FaultAction::Isolate(n) => Fault::Isolate(id(n)),
        FaultAction::Cut { from, to } => Fault::Cut {
            from: id(from),
            to: id(to),
        },
        FaultAction::Clog { from, to, until } => Fault::Clog {
            from: id(from),
            to: id(to),
            until: *until,
        },
        FaultAction::ClockSkew {
            node,
            offset,
            drift,
        } => Fault::ClockSkew {
            node: id(node),
            offset: *offset,
            drift: *drift,
        },
        FaultAction::ClockJump { node, by } => Fault::ClockJump {
            node: id(node),
            by: *by,
        },
        FaultAction::Region(_) => return None,
    })
}
