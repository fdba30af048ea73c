//! The parameters and bug variants of primary-backup, with their documentation.

use super::{BugDoc, INTERVAL_MIN, ParamDoc};
use crate::protocol::check_at_least;
use crate::time::SimDuration;
use serde::{Deserialize, Serialize};

/// `params:` of the primary-backup protocol.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Time between two pings (and retransmissions) of a primary.
    pub heartbeat_interval: SimDuration,
    /// Silence after which a backup takes its primary for dead and starts the next view.
    pub suspect_after: SimDuration,
}

impl Params {
    /// What `check_params` enforces: the ranges `list` prints, and a suspicion slower than a
    /// heartbeat.
    pub(super) fn check(&self) -> Result<(), String> {
        check_at_least("heartbeat_interval", self.heartbeat_interval, INTERVAL_MIN)?;
        check_at_least("suspect_after", self.suspect_after, INTERVAL_MIN)?;
        if self.suspect_after <= self.heartbeat_interval {
            return Err(format!(
                "`suspect_after` is {}, not more than `heartbeat_interval` {}: backups would \
                 suspect a live primary between two of its pings",
                self.suspect_after, self.heartbeat_interval
            ));
        }
        Ok(())
    }
}

impl Default for Params {
    fn default() -> Self {
        Params {
            heartbeat_interval: SimDuration::from_millis(50),
            suspect_after: SimDuration::from_millis(300),
        }
    }
}

pub(super) const PARAM_DOCS: &[ParamDoc] = &[
    ParamDoc {
        name: "heartbeat_interval",
        default: "50ms",
        meaning: "time between two pings of the primary to every node, which also retransmit \
                  unacknowledged forwards and view starts (at least 1ms)",
    },
    ParamDoc {
        name: "suspect_after",
        default: "300ms",
        meaning: "how long a backup hears nothing from its primary before it starts the next \
                  view and takes over (more than heartbeat_interval; a few heartbeats, so \
                  that lost pings do not cause needless view changes)",
    },
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Bug {
    AckBeforeBackup,
    NoViewCheck,
    LeaseReads,
}

pub(super) const BUG_DOCS: &[BugDoc] = &[
    BugDoc {
        name: "ack-before-backup",
        description: "the primary answers every operation as soon as it has applied it, and \
                      ships its operations to the backup in the background, once per \
                      heartbeat; when the primary crashes, the operations of its last batch \
                      never reach the backup, which takes over without them, and reads at the \
                      new primary miss writes that clients were told had happened; exposed by \
                      crashing the primary while clients write",
        violates: "linearizable",
    },
    BugDoc {
        name: "no-view-check",
        description: "view numbers are not compared: a node that has moved to a newer view \
                      acknowledges the forwards of an older view as if they were duplicates, \
                      and a primary does not step down when it hears of a newer view; a \
                      primary that was paused or cut off long enough to be replaced goes on \
                      answering its clients from its stale copy while the new primary serves \
                      others (split brain); exposed by pausing or isolating the primary for \
                      longer than suspect_after; the clients' history is not linearizable \
                      either",
        violates: "acknowledged_ops_kept",
    },
    BugDoc {
        name: "lease-reads",
        description: "the primary answers reads from its own copy while it holds a time \
                      lease, instead of sending them through the backup: each heartbeat \
                      carries the primary's clock, the backup echoes it, and the primary reads \
                      locally until that time plus suspect_after, the silence the backup waits \
                      for before it takes over; the two waits are measured on two clocks, so a \
                      primary whose clock runs slow (or jumps back) still reads locally after \
                      the backup has started a new view and served writes, and returns old \
                      values; exposed by a drifting or jumping clock on the primary, then \
                      isolating it; with clocks that agree, the lease is safe",
        violates: "linearizable",
    },
];

impl Bug {
    pub(super) fn from_name(name: &str) -> Option<Bug> {
        match name {
            "ack-before-backup" => Some(Bug::AckBeforeBackup),
            "no-view-check" => Some(Bug::NoViewCheck),
            "lease-reads" => Some(Bug::LeaseReads),
            _ => None,
        }
    }
}
