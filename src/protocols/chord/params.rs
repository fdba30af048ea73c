//! The chord protocol's `params:`, their documentation and their checks.

use super::ParamDoc;
use crate::protocol::check_range;
use crate::time::SimDuration;
use serde::{Deserialize, Serialize};

/// Longest successor list.
pub const SUCCESSORS_MAX: u32 = 16;
/// Identifier bits: at least 3, at most 63 (a `u64` circle).
pub const ID_BITS_MIN: u32 = 3;
pub const ID_BITS_MAX: u32 = 63;
/// Shortest timer delay: zero would fire timers forever without simulated time passing.
pub const INTERVAL_MIN: SimDuration = SimDuration::from_millis(1);
/// Longest interval or timeout a parameter may set.
pub const INTERVAL_MAX: SimDuration = SimDuration::from_secs(3600);

impl Params {
    /// Copies of each key, this node's included.
    pub fn replica_count(&self) -> u32 {
        self.replicas.unwrap_or(self.successors)
    }
}

/// `params:` of the chord protocol.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// The circle has `2^id_bits` identifiers; each node has `id_bits` fingers.
    pub id_bits: u32,
    /// Length of each node's successor list.
    pub successors: u32,
    /// Copies of each key: on the node responsible for it and the `replicas - 1` nodes after.
    /// `None`: as many as the successor list holds.
    pub replicas: Option<u32>,
    /// Time between two rounds of stabilization (and of predecessor pings).
    pub stabilize_interval: SimDuration,
    /// Time between two finger lookups; each looks up the next finger in turn.
    pub fix_fingers_interval: SimDuration,
    /// Time between two probes of a random node for a closer successor.
    pub probe_interval: SimDuration,
    /// Time between two copies of a node's keys to the nodes that keep its replicas.
    pub replicate_interval: SimDuration,
    /// How long one hop of a lookup (or a put's replication) may take before it is given up.
    pub lookup_timeout: SimDuration,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            id_bits: 16,
            successors: 3,
            replicas: None,
            stabilize_interval: SimDuration::from_millis(50),
            fix_fingers_interval: SimDuration::from_millis(20),
            probe_interval: SimDuration::from_millis(250),
            replicate_interval: SimDuration::from_millis(500),
            lookup_timeout: SimDuration::from_millis(100),
        }
    }
}

pub(super) const PARAM_DOCS: &[ParamDoc] = &[
    ParamDoc {
        name: "id_bits",
        default: "16",
        meaning: "the identifier circle has 2^id_bits places and every node id_bits fingers \
                  (3 to 63, and 2^id_bits at least the node count)",
    },
    ParamDoc {
        name: "successors",
        default: "3",
        meaning: "length of each node's successor list: the ring survives that many \
                  neighbours failing at once, less one (1 to 16)",
    },
    ParamDoc {
        name: "replicas",
        default: "successors",
        meaning: "copies of each key: the node responsible for it and the replicas - 1 nodes \
                  after it on the ring (1 to successors; by default as many as successors)",
    },
    ParamDoc {
        name: "stabilize_interval",
        default: "50ms",
        meaning: "time between two rounds of stabilization and predecessor pings; four \
                  silent rounds make a neighbour taken for dead (1ms to 3600s)",
    },
    ParamDoc {
        name: "fix_fingers_interval",
        default: "20ms",
        meaning: "time between two finger lookups, each for the next finger in turn \
                  (1ms to 3600s)",
    },
    ParamDoc {
        name: "probe_interval",
        default: "250ms",
        meaning: "time between two probes of a random node for a closer successor, which \
                  join rings a partition split (1ms to 3600s)",
    },
    ParamDoc {
        name: "replicate_interval",
        default: "500ms",
        meaning: "time between two copies of the keys a node is responsible for to the \
                  nodes after it, which restore the replicas a crash took (1ms to 3600s)",
    },
    ParamDoc {
        name: "lookup_timeout",
        default: "100ms",
        meaning: "how long one hop of a lookup, or a put's copies to the replicas, may go \
                  unanswered before it is given up (1ms to 3600s)",
    },
];

/// Checks every param is in range for `node_count` nodes; the message names the param.
pub(super) fn check(params: &Params, node_count: u32) -> Result<(), String> {
    check_range("id_bits", params.id_bits, ID_BITS_MIN, ID_BITS_MAX)?;
    if u64::from(node_count) > 1u64 << params.id_bits {
        return Err(format!(
            "`id_bits` is {}: a circle of {} identifiers has no room for {node_count} nodes",
            params.id_bits,
            1u64 << params.id_bits
        ));
    }
    check_range("successors", params.successors, 1, SUCCESSORS_MAX)?;
    if let Some(replicas) = params.replicas {
        check_range("replicas", replicas, 1, SUCCESSORS_MAX)?;
        if replicas > params.successors {
            return Err(format!(
                "`replicas` is {replicas}: a key's copies go to the nodes on the successor \
                 list, which holds {} (`successors`)",
                params.successors
            ));
        }
    }
    for (name, value) in [
        ("stabilize_interval", params.stabilize_interval),
        ("fix_fingers_interval", params.fix_fingers_interval),
        ("probe_interval", params.probe_interval),
        ("replicate_interval", params.replicate_interval),
        ("lookup_timeout", params.lookup_timeout),
    ] {
        check_range(name, value, INTERVAL_MIN, INTERVAL_MAX)?;
    }
    Ok(())
}
