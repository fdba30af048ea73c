//! The small identifiers every layer shares: a node's id and a timer's. A leaf module, so that
//! the network, faults, traces and workloads can name nodes without depending on the engine.

use std::fmt;

/// A node of the simulation, by index (`0..node_count`).
///
/// Both `Display` and `Debug` print the default node name, 1-based like the trace's: `NodeId(0)`
/// prints as `n1`. A derived `Debug` of a message that carries node ids then reads like the
/// rest of the trace (`Vote { from: n2 }`); `.0` and [`NodeId::index`] still give the index.
///
/// ```
/// use faultline::NodeId;
/// assert_eq!(format!("{:?}", NodeId(0)), "n1");
/// assert_eq!(format!("{:?}", Some(NodeId(2))), "Some(n3)");
/// assert_eq!(NodeId(2).to_string(), "n3");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize)]
pub struct NodeId(pub u32);

impl NodeId {
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for NodeId {
    /// The default node name, `n1` for index 0. Scenarios may give other names; see
    /// [`crate::Sim::node_name`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", u64::from(self.0) + 1)
    }
}

impl fmt::Debug for NodeId {
    /// The same as `Display`. Debug output never feeds a hash: the trace hashes contents
    /// through `Hash`, which still sees the plain index.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A timer set by [`crate::Ctx::set_timer`]; pass it to [`crate::Ctx::cancel_timer`] to cancel it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimerId {
    pub(crate) slot: u32,
    pub(crate) generation: u32,
}
