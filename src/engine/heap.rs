//! A 4-ary min-heap of queue entries, ordered by (time, sequence).
//!
//! Four children per node halve the depth of a binary heap; the four children of a node sit
//! next to each other in memory (96 bytes), and the smallest of them is found without
//! data-dependent branches. Popping moves the hole down to a leaf and sifts the last entry
//! up from there, as `std`'s `BinaryHeap` does: the last entry usually belongs near the bottom.

use super::queue::Entry;

/// Children per node.
const ARITY: usize = 4;

#[derive(Default)]
pub(crate) struct QuadHeap {
    data: Vec<Entry>,
}

impl QuadHeap {
    pub(crate) fn with_capacity(capacity: usize) -> QuadHeap {
        QuadHeap {
            data: Vec::with_capacity(capacity),
        }
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.data.len()
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The smallest entry.
    #[inline]
    pub(crate) fn peek(&self) -> Option<&Entry> {
        self.data.first()
    }

    #[inline]
    pub(crate) fn push(&mut self, entry: Entry) {
        self.data.push(entry);
        self.sift_up(self.data.len() - 1, entry);
    }

    /// Removes and returns the smallest entry.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<Entry> {
        let last = self.data.pop()?;
        let Some(&top) = self.data.first() else {
            return Some(last);
        };
        let hole = self.hole_to_leaf();
        self.sift_up(hole, last);
        Some(top)
    }

    /// Moves the hole at the root down along the smallest children to a leaf; returns it.
    #[inline]
    fn hole_to_leaf(&mut self) -> usize {
        let data = &mut self.data;
        let len = data.len();
        let mut hole = 0;
        loop {
            let first = hole * ARITY + 1;
            let child = if first + ARITY <= len {
                first + min_of_four(&data[first..first + ARITY])
            } else if first < len {
                first + min_index(&data[first..len])
            } else {
                return hole;
            };
            data[hole] = data[child];
            hole = child;
        }
    }

    /// Puts `entry` at `hole` or above it, moving larger parents down.
    #[inline]
    fn sift_up(&mut self, mut hole: usize, entry: Entry) {
        let data = &mut self.data;
        let key = entry.key();
        while hole > 0 {
            let parent = (hole - 1) / ARITY;
            if data[parent].key() <= key {
                break;
            }
            data[hole] = data[parent];
            hole = parent;
        }
        data[hole] = entry;
    }
}

/// Index of the smallest of exactly four entries, with selects rather than branches.
#[inline(always)]
fn min_of_four(four: &[Entry]) -> usize {
    let [a, b, c, d] = four else {
        unreachable!("four children")
    };
    let (i, ki) = select_min(0, a.key(), 1, b.key());
    let (j, kj) = select_min(2, c.key(), 3, d.key());
    select_min(i, ki, j, kj).0
}

#[inline(always)]
fn select_min(i: usize, ki: u128, j: usize, kj: u128) -> (usize, u128) {
    if kj < ki { (j, kj) } else { (i, ki) }
}

/// Index of the smallest of one to four entries.
#[inline]
fn min_index(entries: &[Entry]) -> usize {
    let mut best = 0;
    for (i, e) in entries.iter().enumerate().skip(1) {
        if e.key() < entries[best].key() {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::queue::EntryKind;
    use crate::time::SimTime;

    fn entry(time: u64, seq: u64) -> Entry {
        Entry::new(SimTime(time), seq, EntryKind::Timer, seq as u32)
    }

    #[test]
    fn pops_in_key_order() {
        let mut state = 12345u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            state >> 54
        };
        let mut heap = QuadHeap::with_capacity(4);
        for s in 0..300 {
            heap.push(entry(next(), s));
        }
        for s in 300..600 {
            heap.push(entry(next(), s));
        }
        let mut last = 0u128;
        let mut popped = 0;
        while let Some(e) = heap.pop() {
            assert!(e.key() > last || popped == 0, "out of order at {popped}");
            last = e.key();
            popped += 1;
            if popped % 3 == 0 && popped < 500 {
                heap.push(entry((last >> 64) as u64 + next(), 1_000_000 + popped));
            }
        }
        assert_eq!(popped, 600 + 166);
        assert!(heap.is_empty());
    }
}
