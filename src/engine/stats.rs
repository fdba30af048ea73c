//! Counters of a run.

use crate::trace::DropReason;
use serde::Serialize;

/// Messages dropped, by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DropCounts {
    pub loss: u64,
    pub partition: u64,
    pub node_down: u64,
    pub capacity: u64,
    /// Dropped by a triggered fault; left out of the JSON report when none was.
    #[serde(skip_serializing_if = "is_zero")]
    pub fault: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl DropCounts {
    pub fn total(&self) -> u64 {
        self.loss + self.partition + self.node_down + self.capacity + self.fault
    }

    #[inline]
    pub(crate) fn add(&mut self, reason: DropReason) {
        match reason {
            DropReason::Loss => self.loss += 1,
            DropReason::Partition => self.partition += 1,
            DropReason::NodeDown => self.node_down += 1,
            DropReason::Capacity => self.capacity += 1,
            DropReason::Fault => self.fault += 1,
        }
    }
}

/// What happened in a run, counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Events taken off the queue and processed.
    pub events: u64,
    pub sent: u64,
    pub delivered: u64,
    pub dropped: DropCounts,
    /// Extra copies made by the network.
    pub duplicated: u64,
    pub timers_set: u64,
    pub timers_fired: u64,
    pub timers_cancelled: u64,
    pub faults_applied: u64,
    pub crashes: u64,
    pub restarts: u64,
    /// Calls to provided services ([`crate::services`]), answers that reached their caller,
    /// and calls or answers lost on the way (or to a crash).
    pub service_calls: u64,
    pub service_answers: u64,
    pub service_lost: u64,
}
