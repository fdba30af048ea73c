//! Stable 64-bit hashes for the trace: same input, same value, on every platform and every
//! Rust version (unlike `DefaultHasher`, whose algorithm is unspecified).
//!
//! Two families live here. [`StableHasher`] / [`stable_hash`] is the general-purpose fingerprint
//! with a full avalanche. The trace itself uses cheaper folds built on the *folded multiply*
//! (the 128-bit product of two words, its halves xor-ed), which is exact integer arithmetic
//! and so gives the same bits everywhere: [`ContentHasher`] for message, timer and note
//! contents (no finaliser: its value only ever enters [`fold_event`], which mixes it), and
//! [`fold_event`], which folds one trace event into the running trace state with one multiply
//! on the dependency chain and two beside it.

use super::TraceKind;
use crate::ids::NodeId;
use crate::time::SimTime;
use std::hash::Hasher;

const MULTIPLIER: u64 = 0x9E37_79B9_7F4A_7C15;

/// Word-at-a-time multiplicative hasher with a final avalanche. Not for hash tables facing
/// untrusted keys; for fingerprinting runs.
#[derive(Clone, Copy, Debug)]
pub struct StableHasher {
    state: u64,
}

impl StableHasher {
    pub const fn new(seed: u64) -> StableHasher {
        StableHasher {
            state: seed ^ 0x243F_6A88_85A3_08D3,
        }
    }

    #[inline]
    fn mix(&mut self, word: u64) {
        self.state = (self.state.rotate_left(5) ^ word).wrapping_mul(MULTIPLIER);
    }
}

impl Default for StableHasher {
    fn default() -> Self {
        StableHasher::new(0)
    }
}

/// Feeds `bytes` to `mix` as little-endian words; the last word carries the length, so
/// `"ab"` and `"ab\0"` differ.
#[inline]
fn for_each_word(bytes: &[u8], mut mix: impl FnMut(u64)) {
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        mix(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
    }
    let rest = chunks.remainder();
    let mut last = [0u8; 8];
    last[..rest.len()].copy_from_slice(rest);
    mix(u64::from_le_bytes(last) ^ ((bytes.len() as u64) << 56));
}

/// Final avalanche (the murmur3 finaliser), so near-identical inputs differ in every bit.
#[inline]
pub const fn avalanche(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    x ^= x >> 33;
    x = x.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    x ^ (x >> 33)
}

impl Hasher for StableHasher {
    #[inline]
    fn finish(&self) -> u64 {
        avalanche(self.state)
    }

    fn write(&mut self, bytes: &[u8]) {
        for_each_word(bytes, |word| self.mix(word));
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.mix(u64::from(i));
    }
    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.mix(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.mix(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.mix(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        // Widened so that 32- and 64-bit machines agree.
        self.mix(i as u64);
    }
    #[inline]
    fn write_isize(&mut self, i: isize) {
        self.mix(i as i64 as u64);
    }
}

/// The stable hash of one value.
pub fn stable_hash<T: std::hash::Hash + ?Sized>(value: &T) -> u64 {
    let mut h = StableHasher::default();
    value.hash(&mut h);
    h.finish()
}

/// Constants that key the folds below: the hex digits of pi, each made odd.
const K: [u64; 6] = [
    0x243F_6A88_85A3_08D3,
    0x1319_8A2E_0370_7345,
    0xA409_3822_299F_31D1,
    0x082E_FA98_EC4E_6C89,
    0x4528_21E6_38D0_1377,
    0xBE54_66CF_34E9_0C6D,
];

/// The folded multiply: the 128-bit product of `a` and `b`, high half xor low half.
#[inline(always)]
pub const fn folded_multiply(a: u64, b: u64) -> u64 {
    let full = (a as u128) * (b as u128);
    (full as u64) ^ ((full >> 64) as u64)
}

/// The content hasher of the trace: one folded multiply per word written, no finaliser.
///
/// Its values are stable like [`StableHasher`]'s, and cheaper; they are meant to be folded into
/// the trace by [`fold_event`] (which mixes them), not used bare where an avalanche matters.
#[derive(Clone, Copy, Debug)]
pub struct ContentHasher {
    state: u64,
}

impl ContentHasher {
    pub const fn new() -> ContentHasher {
        ContentHasher { state: K[5] }
    }

    #[inline(always)]
    fn mix(&mut self, word: u64) {
        self.state = folded_multiply(self.state ^ word, K[0]);
    }
}

impl Default for ContentHasher {
    fn default() -> Self {
        ContentHasher::new()
    }
}

impl Hasher for ContentHasher {
    #[inline(always)]
    fn finish(&self) -> u64 {
        self.state
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for_each_word(bytes, |word| self.mix(word));
    }

    #[inline(always)]
    fn write_u8(&mut self, i: u8) {
        self.mix(u64::from(i));
    }
    #[inline(always)]
    fn write_u16(&mut self, i: u16) {
        self.mix(u64::from(i));
    }
    #[inline(always)]
    fn write_u32(&mut self, i: u32) {
        self.mix(u64::from(i));
    }
    #[inline(always)]
    fn write_u64(&mut self, i: u64) {
        self.mix(i);
    }
    #[inline(always)]
    fn write_usize(&mut self, i: usize) {
        // Widened so that 32- and 64-bit machines agree.
        self.mix(i as u64);
    }
    #[inline(always)]
    fn write_isize(&mut self, i: isize) {
        self.mix(i as i64 as u64);
    }
}

/// The content hash of one value: what the trace folds in for a message, timer tag or note.
#[inline(always)]
pub fn content_hash<T: std::hash::Hash + ?Sized>(value: &T) -> u64 {
    let mut h = ContentHasher::new();
    value.hash(&mut h);
    h.finish()
}

/// The words that stand for a trace event's kind and fields:
/// `[tag | reason << 8 | peer << 32, first field, second field]`.
///
/// Tags are fixed forever (changing one changes every trace hash); every field of every kind
/// is covered.
#[inline(always)]
fn kind_words(kind: &TraceKind) -> [u64; 3] {
    let w = |tag: u64, peer: NodeId| tag | (u64::from(peer.0) << 32);
    match *kind {
        TraceKind::Start => [1, 0, 0],
        TraceKind::Send { to, msg_id } => [w(2, to), msg_id, 0],
        TraceKind::Deliver { from, msg_id } => [w(3, from), msg_id, 0],
        TraceKind::Drop {
            from,
            to,
            msg_id,
            reason,
        } => [
            w(4, to) | ((reason as u64 + 1) << 8),
            msg_id,
            u64::from(from.0),
        ],
        TraceKind::Duplicate {
            to,
            msg_id,
            copy_id,
        } => [w(5, to), msg_id, copy_id],
        TraceKind::Hold { from, msg_id } => [w(6, from), msg_id, 0],
        TraceKind::TimerFired { timer } => [7, u64::from(timer), 0],
        TraceKind::Crash { lost_writes } => [8, u64::from(lost_writes), 0],
        TraceKind::Restart => [9, 0, 0],
        TraceKind::Pause => [10, 0, 0],
        TraceKind::Resume => [11, 0, 0],
        TraceKind::Partition => [12, 0, 0],
        TraceKind::Heal => [13, 0, 0],
        TraceKind::Clog { to, until } => [w(14, to), until.0, 0],
        TraceKind::ClockSkew { offset, drift_ppm } => [15, offset.0 as u64, drift_ppm as u64],
        TraceKind::ClockJump { by } => [16, by.0 as u64, 0],
        TraceKind::Note => [17, 0, 0],
        TraceKind::Invoke { client, seq } => [18, u64::from(client), u64::from(seq)],
        TraceKind::Request { client, seq } => [19, u64::from(client), u64::from(seq)],
        TraceKind::RequestLost { client, seq } => [20, u64::from(client), u64::from(seq)],
        TraceKind::Reply { client, seq } => [21, u64::from(client), u64::from(seq)],
        TraceKind::Complete {
            client,
            seq,
            status,
        } => [
            22 | ((status as u64 + 1) << 8),
            u64::from(client),
            u64::from(seq),
        ],
    }
}

/// Folds one event (time, node, kind with all its fields, content hash) into the running
/// trace state. Only the first multiply depends on `state`; the other two run beside it.
#[inline(always)]
pub fn fold_event(state: u64, time: SimTime, node: NodeId, kind: &TraceKind, content: u64) -> u64 {
    let [tag, a, b] = kind_words(kind);
    let x = folded_multiply(state ^ time.0, tag ^ K[0]);
    let y = folded_multiply(u64::from(node.0) ^ K[1], a ^ K[2]);
    let z = folded_multiply(b ^ K[3], content ^ K[4]);
    x ^ y ^ z
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_separate_values() {
        assert_eq!(stable_hash(&0u64), stable_hash(&0u64));
        assert_ne!(stable_hash(&1u64), stable_hash(&2u64));
        assert_ne!(stable_hash("ab"), stable_hash("ba"));
        assert_ne!(stable_hash(&(1u32, 2u32)), stable_hash(&(2u32, 1u32)));
        assert_eq!(stable_hash(&5usize), stable_hash(&5u64));
    }

    #[test]
    fn content_hashes_separate_values() {
        assert_eq!(content_hash(&7u64), content_hash(&7u64));
        assert_ne!(content_hash(&1u64), content_hash(&2u64));
        assert_ne!(content_hash("ab"), content_hash("ba"));
        assert_ne!(content_hash(""), content_hash(&()));
        assert_ne!(content_hash(&(1u32, 2u32)), content_hash(&(2u32, 1u32)));
        assert_eq!(content_hash(&5usize), content_hash(&5u64));
        assert_eq!(
            folded_multiply(u64::MAX, u64::MAX),
            0xFFFF_FFFF_FFFF_FFFE ^ 1
        );
    }

    #[test]
    fn every_field_of_an_event_moves_the_fold() {
        use crate::time::{SignedDuration, SimTime};
        use crate::trace::DropReason;
        let (n, t) = (NodeId, SimTime);
        let drop = |from, to, msg_id, reason| TraceKind::Drop {
            from: n(from),
            to: n(to),
            msg_id,
            reason,
        };
        let base = fold_event(1, t(5), n(2), &drop(2, 3, 9, DropReason::Loss), 4);
        let variants = [
            fold_event(2, t(5), n(2), &drop(2, 3, 9, DropReason::Loss), 4),
            fold_event(1, t(6), n(2), &drop(2, 3, 9, DropReason::Loss), 4),
            fold_event(1, t(5), n(3), &drop(2, 3, 9, DropReason::Loss), 4),
            fold_event(1, t(5), n(2), &drop(4, 3, 9, DropReason::Loss), 4),
            fold_event(1, t(5), n(2), &drop(2, 4, 9, DropReason::Loss), 4),
            fold_event(1, t(5), n(2), &drop(2, 3, 8, DropReason::Loss), 4),
            fold_event(1, t(5), n(2), &drop(2, 3, 9, DropReason::Capacity), 4),
            fold_event(1, t(5), n(2), &drop(2, 3, 9, DropReason::Loss), 5),
            fold_event(
                1,
                t(5),
                n(2),
                &TraceKind::Deliver {
                    from: n(3),
                    msg_id: 9,
                },
                4,
            ),
        ];
        for (i, v) in variants.iter().enumerate() {
            assert_ne!(*v, base, "variant {i} hashes like the base event");
        }
        let skew = |offset, drift_ppm| TraceKind::ClockSkew {
            offset: SignedDuration(offset),
            drift_ppm,
        };
        let a = fold_event(1, t(5), n(2), &skew(3, 4), 0);
        assert_ne!(a, fold_event(1, t(5), n(2), &skew(4, 4), 0));
        assert_ne!(a, fold_event(1, t(5), n(2), &skew(3, 5), 0));
    }
}
