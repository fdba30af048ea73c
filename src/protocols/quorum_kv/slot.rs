//! Versions, stored slots, and their encoding in durable storage.

use crate::history::Value;
use crate::process::NodeId;
use std::fmt;

/// A write's version: the coordinator's clock reading when the write began, in nanoseconds,
/// with the coordinator's id to break ties. Ordered by time first, then by node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub ts: u64,
    pub node: u32,
}

impl fmt::Display for Version {
    /// `1.203456789s@n2`: the coordinator's clock, then the coordinator.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.ts / 1_000_000_000;
        let nanos = self.ts % 1_000_000_000;
        write!(f, "{secs}.{nanos:09}s@{}", NodeId(self.node))
    }
}

/// What a replica holds for one key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Slot {
    pub version: Version,
    pub value: Value,
}

/// `ts` (8 bytes), `node` (4 bytes), then the value ([`Value::encode_scalar`]).
pub fn encode(slot: &Slot) -> Vec<u8> {
    let mut bytes = slot.version.ts.to_le_bytes().to_vec();
    bytes.extend(slot.version.node.to_le_bytes());
    slot.value.encode_scalar(&mut bytes);
    bytes
}

/// The inverse of [`encode`]; `None` for bytes it did not write (a corrupted record).
pub fn decode(bytes: &[u8]) -> Option<Slot> {
    let ts = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?);
    let node = u32::from_le_bytes(bytes.get(8..12)?.try_into().ok()?);
    let value = Value::decode_scalar(bytes.get(12..)?)?;
    Some(Slot {
        version: Version { ts, node },
        value,
    })
}
