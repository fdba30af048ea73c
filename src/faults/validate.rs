//! The one validation of faults. [`crate::SimBuilder::build`] and the scenario parser both call
//! [`TimedFault::validate`], so a schedule the library accepts is one a scenario file may
//! hold, and the two say what is wrong in the same words: the parser behind the value's
//! `file:line:column`, the builder behind the fault's index and time.
//!
//! The rules are those a run needs to mean what it says: every node named exists; partition
//! groups are non-empty and disjoint (a node in two groups would leave the nodes of no group
//! reachable by all); a clock drift is a finite rate above 0 and at most [`DRIFT_MAX`] (timers
//! divide by it); a clog ends after it begins. Offsets and jumps are whole nanoseconds
//! ([`crate::SignedDuration`]), finite by construction, and the clock reads them with room to
//! spare, so any value is accepted.

use super::{Fault, TimedFault};
use crate::ids::NodeId;
use crate::time::SimTime;
use std::collections::BTreeSet;
use std::fmt;

/// Largest clock drift accepted: a clock a thousand times as fast as real time is already far
/// past any real fault, and the bound keeps timer arithmetic well inside `u64`.
pub const DRIFT_MAX: f64 = 1000.0;

/// What is wrong with a fault. [`FaultError::message`] words it; `Display` does the same with
/// the default node names.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultError {
    /// The fault names a node index at or past the node count.
    NodeOutOfRange { node: NodeId, node_count: u32 },
    /// A partition with no group at all.
    PartitionNoGroups,
    /// A partition group with no node.
    PartitionGroupEmpty,
    /// A node listed in two partition groups.
    PartitionNodeInTwoGroups(NodeId),
    /// A node listed twice in one partition group.
    PartitionNodeRepeated(NodeId),
    /// A clock drift that is not a finite rate in (0, [`DRIFT_MAX`]].
    Drift(f64),
    /// A clog whose `until` is not after its `at`.
    ClogEndsTooSoon { at: SimTime, until: SimTime },
}

impl FaultError {
    /// What is wrong, naming nodes by `names` (by index; the default name `n<i+1>` where
    /// `names` has none).
    pub fn message(&self, names: &[String]) -> String {
        let name = |n: &NodeId| super::node_name(names, *n);
        match self {
            FaultError::NodeOutOfRange { node, node_count } => {
                node_out_of_range(*node, *node_count)
            }
            FaultError::PartitionNoGroups => {
                "a partition needs at least one group, e.g. [[n1, n2], [n3]]".into()
            }
            FaultError::PartitionGroupEmpty => "a partition group is empty".into(),
            FaultError::PartitionNodeInTwoGroups(n) => format!(
                "node `{}` is in two partition groups; a node can be in only one",
                name(n)
            ),
            FaultError::PartitionNodeRepeated(n) => {
                format!("node `{}` is listed twice in one partition group", name(n))
            }
            FaultError::Drift(drift) => drift_message(*drift),
            FaultError::ClogEndsTooSoon { at, until } => {
                format!("a clog at {at} must last until after {at}, not until {until}")
            }
        }
    }
}

impl fmt::Display for FaultError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message(&[]))
    }
}

impl std::error::Error for FaultError {}

/// Why a node index does not exist in a cluster of `node_count`; shared with the network's
/// validation of per-link overrides.
pub(crate) fn node_out_of_range(node: NodeId, node_count: u32) -> String {
    format!(
        "node index {} does not exist: there are only {node_count} nodes (indexes 0 to {})",
        node.0,
        node_count.saturating_sub(1)
    )
}

/// A clock drift as accepted everywhere: a finite rate above 0 and at most [`DRIFT_MAX`]
/// (1.0 = real speed). The scenario parser checks the nemesis's drift ranges with it too.
pub fn check_drift(drift: f64) -> Result<f64, String> {
    if drift.is_finite() && drift > 0.0 && drift <= DRIFT_MAX {
        Ok(drift)
    } else {
        Err(drift_message(drift))
    }
}

fn drift_message(drift: f64) -> String {
    format!(
        "drift {drift} must be a rate above 0 and at most {DRIFT_MAX} (1.0 = runs at real \
         speed, 1.05 = 5 % fast)"
    )
}

impl TimedFault {
    /// Checks the fault against a cluster of `node_count` nodes (see the module docs for the
    /// rules). [`crate::SimBuilder::build`] calls it on every fault, and the scenario parser
    /// on every `faults:` entry.
    ///
    /// ```
    /// use faultline::{Fault, NodeId, SimTime, TimedFault};
    ///
    /// let split = |groups| TimedFault { at: SimTime::from_secs(1), fault: Fault::Partition(groups) };
    /// assert!(split(vec![vec![NodeId(0)], vec![NodeId(1), NodeId(2)]]).validate(3).is_ok());
    /// // n2 in both groups would leave n3 in neither, reachable by both sides.
    /// let overlap = split(vec![vec![NodeId(0), NodeId(1)], vec![NodeId(1)]]);
    /// assert_eq!(
    ///     overlap.validate(3).unwrap_err().to_string(),
    ///     "node `n2` is in two partition groups; a node can be in only one"
    /// );
    /// ```
    pub fn validate(&self, node_count: u32) -> Result<(), FaultError> {
        if let Some(&node) = self.fault.nodes().iter().find(|n| n.0 >= node_count) {
            return Err(FaultError::NodeOutOfRange { node, node_count });
        }
        match &self.fault {
            Fault::Partition(groups) => check_groups(groups),
            Fault::ClockSkew { drift, .. } if check_drift(*drift).is_err() => {
                Err(FaultError::Drift(*drift))
            }
            Fault::Clog { until, .. } if *until <= self.at => Err(FaultError::ClogEndsTooSoon {
                at: self.at,
                until: *until,
            }),
            _ => Ok(()),
        }
    }
}

fn check_groups(groups: &[Vec<NodeId>]) -> Result<(), FaultError> {
    if groups.is_empty() {
        return Err(FaultError::PartitionNoGroups);
    }
    let mut seen = BTreeSet::new();
    for group in groups {
        if group.is_empty() {
            return Err(FaultError::PartitionGroupEmpty);
        }
        let mut in_group = BTreeSet::new();
        for &node in group {
            if !in_group.insert(node) {
                return Err(FaultError::PartitionNodeRepeated(node));
            }
            if !seen.insert(node) {
                return Err(FaultError::PartitionNodeInTwoGroups(node));
            }
        }
    }
    Ok(())
}
