//! Faults as data: a schedule of timed events that the engine applies exactly as listed.
//!
//! Whether written by hand in a scenario or drawn by a generator, a fault schedule is always
//! this same list, so any run can be written out, replayed and shrunk.

pub mod chase;
mod draw;
pub mod nemesis;
pub mod random;
pub mod swarm;
pub mod trigger;
pub mod trigger_draw;
mod validate;

pub use draw::Draw;
pub use nemesis::{Nemesis, Swarm};
pub use random::{FaultKind, FuzzFaults, RandomFaults, random_schedule};
pub use trigger::{MessageAction, Response, TRIGGER_NODE, Trigger, TriggeredFault, Watch};
pub(crate) use validate::node_out_of_range;
pub use validate::{DRIFT_MAX, FaultError, check_drift};

use crate::ids::NodeId;
use crate::time::{SignedDuration, SimTime};
use std::fmt;

/// One fault.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Symmetric partition: nodes in different groups cannot reach each other. Nodes listed in
    /// no group form one more group together.
    Partition(Vec<Vec<NodeId>>),
    /// Cut the directed link `from → to` only (an asymmetric partition).
    Cut {
        from: NodeId,
        to: NodeId,
    },
    /// Cut a node off from all others, both ways.
    Isolate(NodeId),
    /// Remove partitions, cuts, isolation and clogs: everywhere, or around one node.
    Heal(Option<NodeId>),
    /// Messages sent on `from → to` arrive no earlier than `until`.
    Clog {
        from: NodeId,
        to: NodeId,
        until: SimTime,
    },
    /// The node stops: volatile state and timers are gone, unsynced writes are lost.
    Crash(NodeId),
    /// A crashed node boots again from its durable storage.
    Restart(NodeId),
    /// Gray failure: the node does nothing; messages and timers wait for `Resume`.
    Pause(NodeId),
    Resume(NodeId),
    /// From now on the node's clock reads `offset` ahead (or behind) and runs at `drift` × real time.
    ClockSkew {
        node: NodeId,
        offset: SignedDuration,
        drift: f64,
    },
    /// The node's clock jumps by `by` (forwards or backwards) at once.
    ClockJump {
        node: NodeId,
        by: SignedDuration,
    },
    /// The liveness phase begins (TigerBeetle's "healthy core"): every partition, cut and
    /// clog heals; the core (every node, or a majority preferring nodes that are up) is
    /// resumed and restarted; nodes outside the core are crashed. Scenarios schedule no
    /// fault after it.
    Stabilize {
        majority: bool,
    },
}

/// A fault and when it happens.
#[derive(Clone, Debug, PartialEq)]
pub struct TimedFault {
    pub at: SimTime,
    pub fault: Fault,
}

impl TimedFault {
    /// Whether this is a liveness phase ([`Fault::Stabilize`]), which random faults, nemeses
    /// and shrinking keep in place and which writes out as `liveness:`, not as a fault.
    pub fn is_liveness_phase(&self) -> bool {
        matches!(self.fault, Fault::Stabilize { .. })
    }
}

impl Fault {
    /// Every node the fault names (see [`TimedFault::validate`] for the checks).
    pub fn nodes(&self) -> Vec<NodeId> {
        match self {
            Fault::Partition(groups) => groups.iter().flatten().copied().collect(),
            Fault::Cut { from, to } | Fault::Clog { from, to, .. } => vec![*from, *to],
            Fault::Heal(node) => node.iter().copied().collect(),
            Fault::Isolate(n)
            | Fault::Crash(n)
            | Fault::Restart(n)
            | Fault::Pause(n)
            | Fault::Resume(n) => {
                vec![*n]
            }
            Fault::ClockSkew { node, .. } | Fault::ClockJump { node, .. } => vec![*node],
            Fault::Stabilize { .. } => Vec::new(),
        }
    }

    /// The short name used in scenarios and traces.
    pub fn name(&self) -> &'static str {
        match self {
            Fault::Partition(_) => "partition",
            Fault::Cut { .. } => "cut",
            Fault::Isolate(_) => "isolate",
            Fault::Heal(_) => "heal",
            Fault::Clog { .. } => "clog",
            Fault::Crash(_) => "crash",
            Fault::Restart(_) => "restart",
            Fault::Pause(_) => "pause",
            Fault::Resume(_) => "resume",
            Fault::ClockSkew { .. } => "clock_skew",
            Fault::ClockJump { .. } => "clock_jump",
            Fault::Stabilize { .. } => "stabilize",
        }
    }

    /// Words for a trace line or report, with node names from `names`.
    pub fn describe(&self, names: &[String]) -> String {
        let name = |n: &NodeId| node_name(names, *n);
        let list = |g: &Vec<NodeId>| g.iter().map(name).collect::<Vec<_>>().join(", ");
        match self {
            Fault::Partition(groups) => {
                let parts: Vec<String> = groups.iter().map(|g| format!("[{}]", list(g))).collect();
                format!("partition {}", parts.join(" | "))
            }
            Fault::Cut { from, to } => format!("cut {} → {}", name(from), name(to)),
            Fault::Isolate(n) => format!("isolate {}", name(n)),
            Fault::Heal(None) => "heal all".to_string(),
            Fault::Heal(Some(n)) => format!("heal {}", name(n)),
            Fault::Clog { from, to, until } => {
                format!("clog {} → {} until {until}", name(from), name(to))
            }
            Fault::Crash(n) => format!("crash {}", name(n)),
            Fault::Restart(n) => format!("restart {}", name(n)),
            Fault::Pause(n) => format!("pause {}", name(n)),
            Fault::Resume(n) => format!("resume {}", name(n)),
            Fault::ClockSkew {
                node,
                offset,
                drift,
            } => {
                format!("skew {}'s clock by {offset}, drift ×{drift}", name(node))
            }
            Fault::ClockJump { node, by } => format!("jump {}'s clock by {by}", name(node)),
            Fault::Stabilize { majority } => format!(
                "liveness phase: faults stop, every link heals, {} restarted and resumed{}",
                if *majority {
                    "a majority is"
                } else {
                    "every node is"
                },
                if *majority {
                    ", the others crashed"
                } else {
                    ""
                }
            ),
        }
    }
}

/// The node's name in `names`, or its default name where `names` has none.
pub(crate) fn node_name(names: &[String], node: NodeId) -> String {
    if node == trigger::TRIGGER_NODE {
        return "$node".to_string();
    }
    names
        .get(node.index())
        .cloned()
        .unwrap_or_else(|| node.to_string())
}

impl fmt::Display for TimedFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at {}: {}", self.at, self.fault.describe(&[]))
    }
}
