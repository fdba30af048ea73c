//! The parameters and bug variants of replicated-log, with their documentation.

use super::{BugDoc, INTERVAL_MIN, ParamDoc};
use crate::protocol::{check_at_least, check_range};
use crate::time::SimDuration;
use serde::{Deserialize, Serialize};

/// When a leader answers a send.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Acks {
    /// Once it has the message itself: a failover may lose it (Kafka's `acks=1`).
    Leader,
    /// Once every in-sync replica has it, and the in-sync replicas are at least
    /// `min_insync` (Kafka's `acks=all`).
    #[default]
    All,
}

/// Most messages one poll returns, at most.
pub const POLL_MAX_MAX: u32 = 1_000;

/// `params:` of the replicated-log protocol.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    pub acks: Acks,
    /// Fewest in-sync replicas (the leader included) a send needs under `acks: all`.
    pub min_insync: u32,
    /// Time between two fetches of a follower from its leader.
    pub fetch_interval: SimDuration,
    /// Time between two heartbeats of a broker to the controller.
    pub heartbeat_interval: SimDuration,
    /// Silence after which the controller takes a broker for dead.
    pub session_timeout: SimDuration,
    /// How long a follower may go without catching up with its leader before the leader
    /// drops it from the in-sync replicas.
    pub replica_lag_max: SimDuration,
    /// Most messages one poll returns.
    pub poll_max: u32,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            acks: Acks::All,
            min_insync: 2,
            fetch_interval: SimDuration::from_millis(20),
            heartbeat_interval: SimDuration::from_millis(50),
            session_timeout: SimDuration::from_millis(300),
            replica_lag_max: SimDuration::from_millis(200),
            poll_max: 10,
        }
    }
}

impl Params {
    /// What `check_params` enforces on `node_count` nodes (the controller and the brokers).
    pub(super) fn check(&self, node_count: u32) -> Result<(), String> {
        if node_count < 2 {
            return Err(format!(
                "replicated-log needs at least 2 nodes (the controller n1 and a broker), not \
                 {node_count}"
            ));
        }
        check_range("min_insync", self.min_insync, 1, node_count - 1)?;
        check_at_least("fetch_interval", self.fetch_interval, INTERVAL_MIN)?;
        check_at_least("heartbeat_interval", self.heartbeat_interval, INTERVAL_MIN)?;
        check_range("poll_max", self.poll_max, 1, POLL_MAX_MAX)?;
        if self.session_timeout <= self.heartbeat_interval {
            return Err(format!(
                "`session_timeout` is {}, not more than `heartbeat_interval` {}: the \
                 controller would take live brokers for dead between two heartbeats",
                self.session_timeout, self.heartbeat_interval
            ));
        }
        if self.replica_lag_max <= self.fetch_interval {
            return Err(format!(
                "`replica_lag_max` is {}, not more than `fetch_interval` {}: leaders would \
                 drop healthy followers between two fetches",
                self.replica_lag_max, self.fetch_interval
            ));
        }
        Ok(())
    }
}

pub(super) const PARAM_DOCS: &[ParamDoc] = &[
    ParamDoc {
        name: "acks",
        default: "all",
        meaning: "when a leader answers a send: `all` once every in-sync replica has the \
                  message (and they are at least min_insync), `leader` as soon as it has it \
                  itself, which a failover may lose",
    },
    ParamDoc {
        name: "min_insync",
        default: "2",
        meaning: "fewest in-sync replicas, the leader included, a send needs under acks: all \
                  (1 to the number of brokers); with fewer, sends are refused",
    },
    ParamDoc {
        name: "fetch_interval",
        default: "20ms",
        meaning: "time between two fetches of a follower from its leader (at least 1ms)",
    },
    ParamDoc {
        name: "heartbeat_interval",
        default: "50ms",
        meaning: "time between two heartbeats of a broker to the controller, which answers \
                  with its table of leaders and in-sync replicas (at least 1ms)",
    },
    ParamDoc {
        name: "session_timeout",
        default: "300ms",
        meaning: "silence after which the controller takes a broker for dead and moves the \
                  leadership of its partitions to another in-sync replica (more than \
                  heartbeat_interval)",
    },
    ParamDoc {
        name: "replica_lag_max",
        default: "200ms",
        meaning: "how long a follower may go without catching up with its leader's log \
                  before the leader asks the controller to drop it from the in-sync replicas \
                  (more than fetch_interval)",
    },
    ParamDoc {
        name: "poll_max",
        default: "10",
        meaning: "most messages one poll returns (1 to 1000)",
    },
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Bug {
    AckBeforeIsr,
    UncleanElection,
    CommitOnPoll,
}

pub(super) const BUG_DOCS: &[BugDoc] = &[
    BugDoc {
        name: "ack-before-isr",
        description: "the leader answers a send as soon as it has appended the message to \
                      its own log, whatever acks says, before its followers have fetched it; \
                      when the leader crashes, the controller makes a follower the leader, \
                      which never had the last messages, and gives their offsets to new \
                      messages: acknowledged messages are lost (as with acks: leader); \
                      exposed by crashing a leader while clients send",
        violates: "log_consistent",
    },
    BugDoc {
        name: "unclean-election",
        description: "when no in-sync replica of a partition is up, the controller makes any \
                      live broker its leader, even one that fell out of sync; that broker \
                      lacks what the old leader acknowledged meanwhile, hands its offsets to \
                      new messages, and the old leader, back, truncates its log to follow it; \
                      exposed by cutting the followers off (the leader, with min_insync 1, \
                      goes on alone), then healing and crashing the leader",
        violates: "log_consistent",
    },
    BugDoc {
        name: "commit-on-poll",
        description: "the leader commits the consumer group's offset itself when it serves a \
                      poll, past the messages it returns, instead of waiting for the consumer \
                      to commit after processing them; when the answer to a poll is lost (the \
                      consumer timed out), the consumer rejoins at the committed offset and \
                      never sees those messages; exposed by slow client links",
        violates: "log_consistent",
    },
];

impl Bug {
    pub(super) fn from_name(name: &str) -> Option<Bug> {
        match name {
            "ack-before-isr" => Some(Bug::AckBeforeIsr),
            "unclean-election" => Some(Bug::UncleanElection),
            "commit-on-poll" => Some(Bug::CommitOnPoll),
            _ => None,
        }
    }
}
