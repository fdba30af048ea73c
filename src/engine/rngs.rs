//! Every node's random stream ([`crate::rng::Stream::Node`]), held so that a large cluster
//! does not pay a whole generator (about 300 bytes) per node.
//!
//! A cluster of at most [`SLOTS_MAX`] nodes keeps every node's generator. A larger one keeps
//! [`SLOTS_MAX`], each in the slot of its node's index modulo that count. A node whose slot
//! holds another node's generator parks that one as its position in its stream (8 bytes) and
//! rebuilds its own at the position it parked: ChaCha can seek, so the numbers drawn are
//! exactly those of one generator per node.

use crate::rng::{SimRng, Stream, stream};

/// Generators kept at once: enough for every node of all but the largest clusters.
pub const SLOTS_MAX: usize = 4096;

pub(crate) struct NodeRngs {
    seed: u64,
    /// One generator per node, or for a cluster of more than [`SLOTS_MAX`] nodes one per slot,
    /// slot `node % SLOTS_MAX` (a power of two) serving `owners[slot]`.
    gens: Vec<SimRng>,
    /// Empty when every node has its own generator.
    owners: Vec<u32>,
    /// Where each node's stream stands while its generator is parked, in 32-bit words; empty
    /// when every node has its own generator.
    parked_words: Vec<u64>,
}

impl NodeRngs {
    pub(crate) fn new(seed: u64, node_count: u32) -> NodeRngs {
        NodeRngs::with_slots_max(seed, node_count, SLOTS_MAX)
    }

    /// As [`NodeRngs::new`] with at most `slots_max` generators (a power of two).
    pub(crate) fn with_slots_max(seed: u64, node_count: u32, slots_max: usize) -> NodeRngs {
        assert!(slots_max.is_power_of_two());
        let shared = node_count as usize > slots_max;
        let gens_count = if shared {
            slots_max
        } else {
            node_count as usize
        };
        let gens = (0..gens_count as u32)
            .map(|i| stream(seed, Stream::Node(i)))
            .collect();
        let (owners, parked_words) = if shared {
            (
                (0..slots_max as u32).collect(),
                vec![0; node_count as usize],
            )
        } else {
            (Vec::new(), Vec::new())
        };
        NodeRngs {
            seed,
            gens,
            owners,
            parked_words,
        }
    }

    /// Node `node`'s generator, where its stream stands.
    #[inline(always)]
    pub(crate) fn get(&mut self, node: u32) -> &mut SimRng {
        if self.owners.is_empty() {
            return &mut self.gens[node as usize];
        }
        let k = node as usize & (self.owners.len() - 1);
        if self.owners[k] != node {
            self.swap_in(k, node);
        }
        &mut self.gens[k]
    }

    /// Parks the generator of slot `k` and brings `node`'s back where it stood.
    #[cold]
    #[inline(never)]
    fn swap_in(&mut self, k: usize, node: u32) {
        let words = self.gens[k].get_word_pos();
        let words = u64::try_from(words).expect("2^64 words are never drawn");
        self.parked_words[self.owners[k] as usize] = words;
        let mut rng = stream(self.seed, Stream::Node(node));
        let words = self.parked_words[node as usize];
        if words > 0 {
            rng.set_word_pos(u128::from(words));
        }
        self.gens[k] = rng;
        self.owners[k] = node;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, RngExt};

    #[test]
    fn shared_slots_draw_what_one_generator_per_node_draws() {
        let nodes = 37;
        let mut own: Vec<SimRng> = (0..nodes).map(|i| stream(9, Stream::Node(i))).collect();
        let mut shared = NodeRngs::with_slots_max(9, nodes, 4);
        assert_eq!(shared.gens.len(), 4);
        let mut pick = stream(1, Stream::Workload);
        for _ in 0..20_000 {
            let node = pick.random_range(0..nodes);
            // Mixed widths, so parking happens between words of a block and mid-u64.
            let (a, b) = match pick.random_range(0..3) {
                0 => (
                    u64::from(own[node as usize].next_u32()),
                    u64::from(shared.get(node).next_u32()),
                ),
                1 => (own[node as usize].next_u64(), shared.get(node).next_u64()),
                _ => (
                    own[node as usize].random_range(0..1000),
                    shared.get(node).random_range(0..1000),
                ),
            };
            assert_eq!(a, b, "node {node}");
        }
    }

    #[test]
    fn small_clusters_keep_every_generator() {
        let mut rngs = NodeRngs::new(3, 100);
        assert_eq!(rngs.gens.len(), 100);
        assert!(rngs.owners.is_empty() && rngs.parked_words.is_empty());
        let first = rngs.get(99).next_u64();
        assert_eq!(first, stream(3, Stream::Node(99)).next_u64());
    }
}
