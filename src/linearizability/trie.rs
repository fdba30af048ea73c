//! Persistent maps from `u32` keys to nonzero `u32` values, hash-consed so that equal maps are
//! one id: the sets, multisets and multi-register maps of the collection models.
//!
//! A map is a binary trie over the low bits of its keys, highest bit first, only as tall as its
//! largest key needs: a map of height h holds keys below 2^h, and h is the least height that
//! holds them all. A node is a pair of children; at the lowest level the children are the values
//! themselves (0 for a key absent). Nodes are interned, a node whose children are both empty is
//! the empty subtree, and a map is the interned pair (height, root), so a map's shape depends
//! only on its contents: equal maps get equal ids however they were built, and comparing two
//! maps is comparing two ids. Setting a key copies the nodes on its path (17 for keys below
//! 131,072) and shares the rest, so a set that grows to n elements costs O(n log n) words over a
//! search rather than a copy of its contents per state.

use super::fxhash::FxHashMap;

/// The tallest map: one level per bit of a `u32` key.
const HEIGHT_MAX: u32 = 32;

/// The hash-consed nodes and maps of one partition; map 0 is the empty map.
pub struct Tries {
    nodes: Vec<(u32, u32)>,
    node_ids: FxHashMap<(u32, u32), u32>,
    /// Per map: its height and root node.
    maps: Vec<(u32, u32)>,
    map_ids: FxHashMap<(u32, u32), u32>,
}

impl Default for Tries {
    fn default() -> Self {
        Tries::new()
    }
}

/// Whether `key` lies in the right half of a subtree of height `height`.
fn goes_right(key: u32, height: u32) -> bool {
    (key >> (height - 1)) & 1 == 1
}

/// The least height whose maps hold `key`.
fn height_of(key: u32) -> u32 {
    (HEIGHT_MAX - key.leading_zeros()).max(1)
}

impl Tries {
    /// The empty map (and, as a node, the empty subtree at every level).
    pub const EMPTY: u32 = 0;

    pub fn new() -> Tries {
        Tries {
            nodes: vec![(0, 0)],
            node_ids: FxHashMap::default(),
            maps: vec![(1, Tries::EMPTY)],
            map_ids: FxHashMap::default(),
        }
    }

    /// Memory held, in 4-byte words, for the search's budget.
    pub fn size_words(&self) -> usize {
        2 * (self.nodes.len() + self.maps.len()) + 5 * (self.node_ids.len() + self.map_ids.len())
    }

    fn node(&mut self, left: u32, right: u32) -> u32 {
        if left == 0 && right == 0 {
            return Tries::EMPTY;
        }
        if let Some(&id) = self.node_ids.get(&(left, right)) {
            return id;
        }
        let id = u32::try_from(self.nodes.len()).expect("fewer than 2^32 nodes");
        self.nodes.push((left, right));
        self.node_ids.insert((left, right), id);
        id
    }

    /// The map of `root` at `height`, made as short as its keys allow.
    fn map(&mut self, mut height: u32, mut root: u32) -> u32 {
        while height > 1 && self.nodes[root as usize].1 == Tries::EMPTY {
            root = self.nodes[root as usize].0;
            height -= 1;
        }
        if root == Tries::EMPTY {
            return Tries::EMPTY;
        }
        if let Some(&id) = self.map_ids.get(&(height, root)) {
            return id;
        }
        let id = u32::try_from(self.maps.len()).expect("fewer than 2^32 maps");
        self.maps.push((height, root));
        self.map_ids.insert((height, root), id);
        id
    }

    /// The value of `key` in `map`; 0 if absent.
    pub fn get(&self, map: u32, key: u32) -> u32 {
        let (height, mut at) = self.maps[map as usize];
        if height < HEIGHT_MAX && key >> height != 0 {
            return 0;
        }
        for level in (1..=height).rev() {
            let (left, right) = self.nodes[at as usize];
            at = if goes_right(key, level) { right } else { left };
        }
        at
    }

    /// `map` with `key` set to `value` (0 removes it).
    pub fn set(&mut self, map: u32, key: u32, value: u32) -> u32 {
        let (mut height, mut root) = self.maps[map as usize];
        // A taller map whose left half is the old one.
        while height < height_of(key) {
            root = self.node(root, Tries::EMPTY);
            height += 1;
        }
        let mut path = [0u32; HEIGHT_MAX as usize];
        let mut at = root;
        for level in (1..=height).rev() {
            path[level as usize - 1] = at;
            let (left, right) = self.nodes[at as usize];
            at = if goes_right(key, level) { right } else { left };
        }
        let mut child = value;
        for level in 1..=height {
            let (left, right) = self.nodes[path[level as usize - 1] as usize];
            child = if goes_right(key, level) {
                self.node(left, child)
            } else {
                self.node(child, right)
            };
        }
        self.map(height, child)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_maps_are_one_id_however_built() {
        let mut t = Tries::new();
        let a = t.set(Tries::EMPTY, 7, 1);
        let ab = t.set(a, u32::MAX, 2);
        let b = t.set(Tries::EMPTY, u32::MAX, 2);
        assert_eq!(t.set(b, 7, 1), ab);
        assert_eq!((t.get(ab, 7), t.get(ab, u32::MAX), t.get(ab, 8)), (1, 2, 0));
        assert_eq!(
            t.set(ab, u32::MAX, 0),
            a,
            "the map shrinks back to its height"
        );
        assert_eq!(t.get(a, u32::MAX), 0);
        assert_eq!(t.set(ab, 7, 0), b, "removing a key undoes its setting");
        assert_eq!(t.set(b, u32::MAX, 0), Tries::EMPTY);
        assert_eq!(t.set(ab, 7, 1), ab);
        let zero = t.set(Tries::EMPTY, 0, 5);
        assert_eq!((t.get(zero, 0), t.get(zero, 1)), (5, 0));
        let two = t.set(zero, 1, 6);
        assert_eq!(t.set(two, 1, 0), zero);
    }

    #[test]
    fn maps_agree_with_a_sorted_map() {
        let mut t = Tries::new();
        let mut reference = std::collections::BTreeMap::new();
        let mut map = Tries::EMPTY;
        let mut x: u64 = 7;
        for _ in 0..5_000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let key = ((x >> 33) % 300) as u32 * ((x >> 20) % 3 + 1) as u32;
            let value = ((x >> 11) % 3) as u32;
            map = t.set(map, key, value);
            if value == 0 {
                reference.remove(&key);
            } else {
                reference.insert(key, value);
            }
            assert!((0..1000).all(|k| t.get(map, k) == *reference.get(&k).unwrap_or(&0)));
        }
        let mut rebuilt = Tries::EMPTY;
        for (&k, &v) in reference.iter().rev() {
            rebuilt = t.set(rebuilt, k, v);
        }
        assert_eq!(
            rebuilt, map,
            "the same contents built in another order are one id"
        );
    }

    #[test]
    fn a_large_set_shares_its_nodes() {
        let mut t = Tries::new();
        let mut map = Tries::EMPTY;
        for key in 0..100_000 {
            map = t.set(map, key, 1);
        }
        assert!((0..100_000).all(|k| t.get(map, k) == 1));
        // At most one new node per level of a 17-level path per insertion; a copy per state
        // would be 5 billion words.
        assert!(t.nodes.len() < 1_700_000, "{} nodes", t.nodes.len());
    }
}
