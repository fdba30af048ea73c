//! The identifier circle: where each node sits, and the clockwise intervals every Chord rule
//! is written in.
//!
//! A real Chord node takes its identifier from a hash of its address, so any node can compute
//! the identifier of any node it hears of. Here the "address" is the node's index: every node
//! builds the same table at start, and messages carry only node ids.

use crate::process::NodeId;
use std::fmt;

/// Where every node sits on a circle of `2^bits` identifiers.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Ring {
    bits: u32,
    ids: Vec<u64>,
}

/// Keys are hashed as `key ^ KEY_SALT`, far from the small numbers nodes are hashed from.
const KEY_SALT: u64 = 0x6b65_7973_0000_0000;

/// A 64-bit mix of `x` (SplitMix64's finaliser): spreads consecutive node indexes over the
/// circle the way a hash of their addresses would.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Every node holds the same table: a node's state, as `--states` and the viewer show it,
/// names only the circle's size.
impl fmt::Debug for Ring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ring {{ bits: {} }}", self.bits)
    }
}

impl Ring {
    /// The identifiers of `node_count` nodes on a circle of `2^bits` (`bits` from 1 to 63,
    /// `node_count` at most `2^bits`). Two nodes whose hashes collide are told apart by moving
    /// the later one clockwise to the next free identifier, as a deployment would re-salt it.
    pub fn new(bits: u32, node_count: u32) -> Ring {
        assert!((1..64).contains(&bits), "bits out of range");
        assert!(
            u64::from(node_count) <= 1u64 << bits,
            "more nodes than identifiers"
        );
        let mask = (1u64 << bits) - 1;
        let mut ids: Vec<u64> = Vec::with_capacity(node_count as usize);
        for index in 0..u64::from(node_count) {
            let mut id = mix(index + 1) >> (64 - bits);
            while ids.contains(&id) {
                id = (id + 1) & mask;
            }
            ids.push(id);
        }
        Ring { bits, ids }
    }

    pub fn bits(&self) -> u32 {
        self.bits
    }

    /// The identifier of node `n`.
    pub fn id(&self, n: NodeId) -> u64 {
        self.ids[n.index()]
    }

    /// The identifier of client key `key`: a hash of it, salted apart from the nodes' hashes
    /// so that key `k` does not sit exactly on node `k + 1`.
    pub fn key_id(&self, key: u32) -> u64 {
        mix(u64::from(key) ^ KEY_SALT) >> (64 - self.bits)
    }

    /// `id + 2^i` on the circle: the start of finger `i`.
    pub fn finger_start(&self, id: u64, i: u32) -> u64 {
        id.wrapping_add(1u64 << i) & self.mask()
    }

    /// The identifier just after `id`.
    pub fn next_id(&self, id: u64) -> u64 {
        id.wrapping_add(1) & self.mask()
    }

    fn mask(&self) -> u64 {
        (1u64 << self.bits) - 1
    }

    /// Clockwise distance from `from` to `to`: 0 when they are equal.
    pub fn distance(&self, from: u64, to: u64) -> u64 {
        to.wrapping_sub(from) & self.mask()
    }

    /// `x` lies strictly inside the clockwise arc from `a` to `b`. When `a == b` the arc is
    /// the whole circle but `a`: a node alone on its ring is its own successor, and every
    /// other node lies between it and itself.
    pub fn between(&self, a: u64, x: u64, b: u64) -> bool {
        let d = self.distance(a, x);
        d != 0 && (a == b || d < self.distance(a, b))
    }

    /// `x` lies in the clockwise arc after `a` up to and including `b` (the whole circle when
    /// `a == b`): the identifiers a node whose predecessor is `a` is responsible for.
    pub fn between_right(&self, a: u64, x: u64, b: u64) -> bool {
        x == b || self.between(a, x, b)
    }

    /// The node responsible for identifier `target` among `nodes`: the first one at or
    /// clockwise after it. `None` when `nodes` is empty.
    pub fn owner(&self, target: u64, nodes: &[NodeId]) -> Option<NodeId> {
        nodes
            .iter()
            .copied()
            .min_by_key(|&n| self.distance(target, self.id(n)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_distinct_and_on_the_circle() {
        for bits in [1, 2, 3, 8, 16, 32, 63] {
            let count = if bits < 5 { 1u32 << bits } else { 40 };
            let ring = Ring::new(bits, count);
            let mut ids: Vec<u64> = (0..count).map(|i| ring.id(NodeId(i))).collect();
            assert!(ids.iter().all(|&id| id < 1u64 << bits), "bits {bits}");
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(
                ids.len(),
                count as usize,
                "bits {bits}: a collision was kept"
            );
        }
    }

    #[test]
    fn intervals_wrap_around_zero() {
        let ring = Ring::new(4, 2);
        assert!(ring.between(14, 15, 2));
        assert!(ring.between(14, 0, 2));
        assert!(!ring.between(14, 2, 2));
        assert!(!ring.between(14, 14, 2));
        assert!(!ring.between(2, 15, 14));
        assert!(!ring.between(2, 1, 14));
        assert!(ring.between_right(14, 2, 2));
        // An arc from a node to itself is the whole circle but that node.
        assert!(ring.between(5, 4, 5) && ring.between(5, 6, 5) && !ring.between(5, 5, 5));
        assert!(ring.between_right(5, 5, 5));
        assert_eq!(ring.finger_start(15, 0), 0);
        assert_eq!(ring.finger_start(12, 3), 4);
    }

    #[test]
    fn the_owner_is_the_first_node_at_or_after_the_target() {
        let ring = Ring::new(8, 5);
        let mut nodes: Vec<NodeId> = (0..5).map(NodeId).collect();
        nodes.sort_by_key(|&n| ring.id(n));
        for (k, &n) in nodes.iter().enumerate() {
            let id = ring.id(n);
            assert_eq!(ring.owner(id, &nodes), Some(n));
            let before = nodes[(k + 4) % 5];
            assert_eq!(ring.owner(ring.next_id(ring.id(before)), &nodes), Some(n));
        }
        assert_eq!(ring.owner(3, &[]), None);
    }
}
