//! Seeded randomness, one independent `rand_chacha` stream per purpose.
//!
//! A run has one `u64` seed. Every consumer of randomness draws from its own ChaCha8 stream,
//! derived from that seed and a fixed stream number:
//!
//! | stream            | number            | draws                                        |
//! |-------------------|-------------------|----------------------------------------------|
//! | [`Stream::Network`]  | 1              | the key of every message's draws              |
//! | [`Stream::Faults`]   | 2              | randomly generated fault schedules            |
//! | [`Stream::Workload`] | 3              | the key of every client operation's draws     |
//! | [`Stream::Priorities`] | 4            | PCT-style delivery priorities (`network.pct`) |
//! | [`Stream::Node`]`(i)`| 2^32 + i       | the `ctx.rng()` of node `i`                   |
//!
//! Because the streams are separate, adding a node or a client does not shift the network's
//! draws, and a protocol that draws more random numbers does not change the network's
//! behaviour towards other nodes. ChaCha is specified bit for bit, so a seed gives the same
//! numbers on every machine.
//!
//! The network and the clients go further: they take one key from their stream and draw each
//! message's (or client operation's) numbers from a small generator of its own, [`keyed`] by
//! that key and the message's sender and number (the client and operation number). A fault
//! that removes a message, a crash or a timeout therefore changes only the draws of what it
//! touches: every other message keeps its loss, latency and duplication. That is what lets a
//! shrinker remove a fault, or lower a loss probability, and keep the rest of the run.

use rand::{Rng, SeedableRng};
pub use rand_chacha::ChaCha8Rng as SimRng;
pub use rand_xoshiro::SplitMix64 as KeyedRng;

/// The purpose a random stream serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Network,
    Faults,
    Workload,
    /// Delivery priorities and their change points ([`crate::net::Pct`]).
    Priorities,
    /// What the provided services leave to chance, and their calls' latency and loss.
    Services,
    /// The per-node stream behind `Ctx::rng`, by node index.
    Node(u32),
}

impl Stream {
    /// The ChaCha stream number; fixed forever, since changing one changes every run.
    pub const fn number(self) -> u64 {
        match self {
            Stream::Network => 1,
            Stream::Faults => 2,
            Stream::Workload => 3,
            Stream::Priorities => 4,
            Stream::Services => 5,
            Stream::Node(i) => (1 << 32) + i as u64,
        }
    }
}

/// The random stream for `purpose` under `seed`.
pub fn stream(seed: u64, purpose: Stream) -> SimRng {
    let mut rng = SimRng::seed_from_u64(seed);
    rng.set_stream(purpose.number());
    rng
}

/// A generator keyed by `key` and `words`: each word is mixed into the key in turn by a
/// SplitMix64 step, so keys that differ in any word give unrelated generators. Cheap (a few
/// multiplications per word), so one can be made per message.
#[inline]
pub fn keyed<const N: usize>(key: u64, words: [u64; N]) -> KeyedRng {
    let mut h = key;
    for w in words {
        h = KeyedRng::seed_from_u64(h ^ w).next_u64();
    }
    KeyedRng::seed_from_u64(h)
}

/// The key of a keyed family of draws: the first number of `purpose`'s stream under `seed`.
pub fn stream_key(seed: u64, purpose: Stream) -> u64 {
    stream(seed, purpose).next_u64()
}

/// Whether a draw of probability `p` comes out true for the 64-bit `word`: `word`, read as a
/// fraction in [0, 1) to 53 bits, is below `p`. A lower `p` turns some outcomes from true to
/// false and none the other way, so lowering a loss probability only spares messages.
#[inline]
pub fn below(word: u64, p: f64) -> bool {
    ((word >> 11) as f64) * (1.0 / (1u64 << 53) as f64) < p
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4)
            .map(|_| stream(7, Stream::Network).next_u64())
            .collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        let net = stream(7, Stream::Network).next_u64();
        let faults = stream(7, Stream::Faults).next_u64();
        let node0 = stream(7, Stream::Node(0)).next_u64();
        let node1 = stream(7, Stream::Node(1)).next_u64();
        let other_seed = stream(8, Stream::Network).next_u64();
        let all = [net, faults, node0, node1, other_seed];
        for i in 0..all.len() {
            for j in i + 1..all.len() {
                assert_ne!(all[i], all[j], "streams {i} and {j} coincide");
            }
        }
    }

    #[test]
    fn keyed_generators_differ_by_every_word_and_repeat_by_key() {
        let a = keyed(5, [1, 2]).next_u64();
        assert_eq!(a, keyed(5, [1, 2]).next_u64());
        let others = [
            keyed(6, [1, 2]).next_u64(),
            keyed(5, [2, 2]).next_u64(),
            keyed(5, [1, 3]).next_u64(),
            keyed(5, [2, 1]).next_u64(),
        ];
        assert!(others.iter().all(|&o| o != a), "{a} in {others:?}");
    }

    #[test]
    fn below_is_monotone_in_the_probability() {
        let words = [0, 1, u64::MAX / 3, u64::MAX / 2, u64::MAX - 1, u64::MAX];
        for w in words {
            assert!(!below(w, 0.0), "p = 0 is never true");
            assert!(below(w, 1.0), "p = 1 is always true");
            let outcomes: Vec<bool> = [0.1, 0.3, 0.5, 0.7, 0.9]
                .iter()
                .map(|&p| below(w, p))
                .collect();
            assert!(
                outcomes.windows(2).all(|o| o[0] <= o[1]),
                "{w}: {outcomes:?}"
            );
        }
        let hits = (0..10_000u64)
            .filter(|&i| below(keyed(1, [i]).next_u64(), 0.25))
            .count();
        assert!(
            (2_300..2_700).contains(&hits),
            "{hits} of 10,000 at p = 0.25"
        );
    }

    #[test]
    fn stream_values_are_pinned() {
        // Pinned so that an upgrade of rand_chacha or rand_xoshiro that changed outputs would
        // be noticed: it would change every recorded trace hash.
        assert_eq!(
            stream(42, Stream::Network).next_u64(),
            13_222_472_167_927_179_408
        );
        assert_eq!(keyed(42, [7]).next_u64(), 352_355_320_101_105_167);
    }
}
