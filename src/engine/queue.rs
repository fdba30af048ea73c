//! The event queue: a binary min-heap of small entries ordered by (time, insertion sequence).
//!
//! The sequence number breaks ties between events at the same instant in the order they were
//! scheduled, so equal times never depend on heap internals.

use crate::time::SimTime;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// What an entry refers to; `slot` indexes the matching table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EntryKind {
    /// A message in the message slab.
    Deliver,
    /// A timer in the timer slab.
    Timer,
    /// A fault in the schedule, by index.
    Fault,
    /// The first start of a node, by node index.
    Start,
}

/// One scheduled event: 24 bytes, no payload.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    pub(crate) time: SimTime,
    seq: u64,
    pub(crate) slot: u32,
    pub(crate) kind: EntryKind,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.seq == other.seq
    }
}
impl Eq for Entry {}

impl Ord for Entry {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest entry first.
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

pub(crate) struct EventQueue {
    heap: BinaryHeap<Entry>,
    seq_next: u64,
}

impl EventQueue {
    pub(crate) fn new() -> EventQueue {
        EventQueue {
            heap: BinaryHeap::with_capacity(1024),
            seq_next: 0,
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, time: SimTime, kind: EntryKind, slot: u32) {
        let seq = self.seq_next;
        self.seq_next += 1;
        self.heap.push(Entry {
            time,
            seq,
            slot,
            kind,
        });
    }

    #[inline]
    pub(crate) fn pop(&mut self) -> Option<Entry> {
        self.heap.pop()
    }

    #[inline]
    pub(crate) fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|e| e.time)
    }

    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_by_time_then_insertion_order() {
        let mut q = EventQueue::new();
        q.push(SimTime(5), EntryKind::Timer, 1);
        q.push(SimTime(3), EntryKind::Timer, 2);
        q.push(SimTime(5), EntryKind::Timer, 3);
        q.push(SimTime(3), EntryKind::Deliver, 4);
        let order: Vec<u32> = std::iter::from_fn(|| q.pop()).map(|e| e.slot).collect();
        assert_eq!(order, vec![2, 4, 1, 3]);
    }
}
