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

/// `ts` (8 bytes), `node` (4 bytes), then a tag: 1 and an integer (8 bytes), 2 and a string,
/// 0 for anything else (only integers are ever written).
pub fn encode(slot: &Slot) -> Vec<u8> {
    let mut bytes = slot.version.ts.to_le_bytes().to_vec();
    bytes.extend(slot.version.node.to_le_bytes());
    match &slot.value {
        Value::Int(i) => {
            bytes.push(1);
            bytes.extend(i.to_le_bytes());
        }
        Value::Str(s) => {
            bytes.push(2);
            bytes.extend(s.as_bytes());
        }
        _ => bytes.push(0),
    }
    bytes
}

/// The inverse of [`encode`]; `None` for bytes it did not write (a corrupted record).
pub fn decode(bytes: &[u8]) -> Option<Slot> {
    let ts = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?);
    let node = u32::from_le_bytes(bytes.get(8..12)?.try_into().ok()?);
    let value = match (bytes.get(12)?, bytes.get(13..)?) {
        (1, rest) => Value::Int(i64::from_le_bytes(rest.try_into().ok()?)),
        (2, rest) => Value::Str(String::from_utf8(rest.to_vec()).ok()?),
        _ => Value::Nil,
    };
    Some(Slot {
        version: Version { ts, node },
        value,
    })
}
