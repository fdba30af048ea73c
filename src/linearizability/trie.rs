//! Persistent maps from `u32` keys to nonzero `u32` values, hash-consed so that equal maps are
//! one id: the sets, multisets and multi-register maps of the collection models.
//!
//! A map is a binary trie over the 32 bits of its keys, highest bit first. A node is a pair of
//! children; at the last level the children are the values themselves (0 for a key absent).
//! Nodes are interned, and a node whose children are both empty is the empty map, so a map's
//! shape depends only on its contents: equal maps get equal ids however they were built, and
//! comparing two maps is comparing two ids. Setting a key copies the 32 nodes on its path and
//! shares the rest, so a set that grows to n elements costs O(n) nodes over a search rather
//! than a copy of its contents per state.

use super::fxhash::FxHashMap;

/// Levels of nodes on a path: one per key bit.
const LEVELS: u32 = 32;

/// The hash-consed nodes of one partition's maps; id 0 is the empty map.
pub struct Tries {
    nodes: Vec<(u32, u32)>,
    ids: FxHashMap<(u32, u32), u32>,
}

impl Default for Tries {
    fn default() -> Self {
        Tries::new()
    }
}

impl Tries {
    /// The empty map (and the empty subtree at every level).
    pub const EMPTY: u32 = 0;

    pub fn new() -> Tries {
        Tries {
            nodes: vec![(0, 0)],
            ids: FxHashMap::default(),
        }
    }

    /// Memory held, in 4-byte words, for the search's budget.
    pub fn size_words(&self) -> usize {
        2 * self.nodes.len() + 5 * self.ids.len()
    }

    fn node(&mut self, left: u32, right: u32) -> u32 {
        if left == 0 && right == 0 {
            return Tries::EMPTY;
        }
        if let Some(&id) = self.ids.get(&(left, right)) {
            return id;
        }
        let id = u32::try_from(self.nodes.len()).expect("fewer than 2^32 nodes");
        self.nodes.push((left, right));
        self.ids.insert((left, right), id);
        id
    }

    /// The value of `key` in `map`; 0 if absent.
    pub fn get(&self, map: u32, key: u32) -> u32 {
        let mut at = map;
        for level in 0..LEVELS {
            let (left, right) = self.nodes[at as usize];
            at = if key >> (LEVELS - 1 - level) & 1 == 0 {
                left
            } else {
                right
            };
        }
        at
    }

    /// `map` with `key` set to `value` (0 removes it).
    pub fn set(&mut self, map: u32, key: u32, value: u32) -> u32 {
        let mut path = [0u32; LEVELS as usize];
        let mut at = map;
        for (level, slot) in path.iter_mut().enumerate() {
            *slot = at;
            let (left, right) = self.nodes[at as usize];
            at = if key >> (LEVELS - 1 - level as u32) & 1 == 0 {
                left
            } else {
                right
            };
        }
        let mut child = value;
        for level in (0..LEVELS).rev() {
            let (left, right) = self.nodes[path[level as usize] as usize];
            child = if key >> (LEVELS - 1 - level) & 1 == 0 {
                self.node(child, right)
            } else {
                self.node(left, child)
            };
        }
        child
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
        assert_eq!(t.set(ab, 7, 0), b, "removing a key undoes its setting");
        assert_eq!(t.set(b, u32::MAX, 0), Tries::EMPTY);
        assert_eq!(t.set(ab, 7, 1), ab);
    }

    #[test]
    fn a_large_set_shares_its_nodes() {
        let mut t = Tries::new();
        let mut map = Tries::EMPTY;
        for key in 0..100_000 {
            map = t.set(map, key, 1);
        }
        assert!((0..100_000).all(|k| t.get(map, k) == 1));
        // Each insertion adds at most one node per level, and far fewer once the top levels
        // are built; a copy per state would be 5 billion words.
        assert!(t.nodes.len() < 3_200_000, "{} nodes", t.nodes.len());
    }
}
