//! The event queue: small entries popped in (time, insertion sequence) order.
//!
//! The sequence number breaks ties between events at the same instant in the order they were
//! scheduled, so equal times never depend on the queue's internals.
//!
//! It is a calendar queue in three tiers, each tier strictly later than the one before:
//! - the current time bucket (and anything earlier): `front`, the bucket's entries sorted
//!   when time reached it, and `late`, a 4-ary heap of entries scheduled into the current
//!   bucket after that (zero delays, resumed events); a pop takes the smaller of their heads;
//! - the [`Wheel`]: unsorted buckets of `2^BUCKET_SHIFT` ns each, for the next `WHEEL` buckets;
//! - `far`: a 4-ary heap of entries beyond the wheel, moved into the wheel as it turns.
//!
//! Pushing into the wheel is an append to a bucket; popping is, most of the time, taking the last
//! entry of a sorted vector. Sorting happens once per bucket, over a handful of entries at
//! typical message rates, and is linear when they arrive in order (timers that all fire at
//! once). Patterns that defeat the buckets (everything far ahead, or everything scheduled into
//! the current bucket) degrade to a 4-ary heap.

use super::heap::QuadHeap;
use super::wheel::{WHEEL, Wheel};
use crate::time::SimTime;
use std::cmp::Reverse;

/// Width of a wheel bucket: 2^15 ns = 32.8 µs; the wheel spans 16 384 × 32.8 µs = 537 ms.
/// (Narrower buckets mean smaller sorts but more buckets to turn; at the ping-pong benchmark's
/// densities 2^14 and 2^15 are within a few per cent of each other, 2^15 with fewer
/// mispredicted branches and a horizon that holds 100 ms timers.)
const BUCKET_SHIFT: u32 = 15;

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
    /// A client's next invocation is due, by client index.
    ClientTick,
    /// A client's timeout, by client index (stale when its op already completed).
    ClientTimeout,
    /// A client request reaches its node; in the request slab.
    Request,
    /// A node's reply reaches its client; in the reply slab.
    Reply,
    /// A call reaches its provided service; in the calls' slab.
    ServiceCall,
    /// A service's answer reaches its caller; in the calls' slab.
    ServiceReturn,
}

/// One scheduled event: 24 bytes, no payload.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    pub(crate) time: SimTime,
    seq: u64,
    pub(crate) slot: u32,
    pub(crate) kind: EntryKind,
}

impl Entry {
    /// A filler for unused storage; never scheduled.
    pub(crate) const fn placeholder(time: SimTime) -> Entry {
        Entry {
            time,
            seq: 0,
            slot: 0,
            kind: EntryKind::Start,
        }
    }

    pub(crate) fn new(time: SimTime, seq: u64, kind: EntryKind, slot: u32) -> Entry {
        Entry {
            time,
            seq,
            slot,
            kind,
        }
    }

    /// The order of entries: time, then sequence; unique per entry.
    #[inline(always)]
    pub(crate) fn key(&self) -> u128 {
        (u128::from(self.time.0) << 64) | u128::from(self.seq)
    }
}

#[inline(always)]
fn bucket_of(time: SimTime) -> u64 {
    time.0 >> BUCKET_SHIFT
}

pub(crate) struct EventQueue {
    /// The current bucket: every entry of it or of an earlier one is in `front` or `late`.
    current: u64,
    /// Sorted by descending key: the next entry is the last.
    front: Vec<Entry>,
    late: QuadHeap,
    /// Scratch space for sorting a bucket.
    stragglers: Vec<Entry>,
    /// Bucket `b` (with `current < b < current + WHEEL`) at `b % WHEEL`.
    wheel: Wheel,
    far: QuadHeap,
    /// The first `current` bucket at which the wheel spans `far`'s earliest entry
    /// (`u64::MAX` while `far` is empty): kept so the check before each turn is one compare.
    far_due_from: u64,
    seq_next: u64,
}

impl EventQueue {
    pub(crate) fn new() -> EventQueue {
        EventQueue {
            current: 0,
            front: Vec::with_capacity(64),
            late: QuadHeap::with_capacity(64),
            stragglers: Vec::with_capacity(64),
            wheel: Wheel::new(),
            far: QuadHeap::with_capacity(64),
            far_due_from: u64::MAX,
            seq_next: 0,
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, time: SimTime, kind: EntryKind, slot: u32) {
        let entry = Entry::new(time, self.seq_next, kind, slot);
        self.seq_next += 1;
        self.place(entry);
    }

    /// Puts an entry in the tier its bucket belongs to.
    #[inline(always)]
    fn place(&mut self, entry: Entry) {
        let bucket = bucket_of(entry.time);
        if bucket <= self.current {
            self.late.push(entry);
        } else if bucket - self.current < WHEEL as u64 {
            self.wheel.push(bucket as usize & (WHEEL - 1), entry);
        } else {
            self.far.push(entry);
            self.refresh_far_due();
        }
    }

    /// Recomputes `far_due_from` after `far` changed.
    #[cold]
    fn refresh_far_due(&mut self) {
        self.far_due_from = self.far.peek().map_or(u64::MAX, |e| {
            bucket_of(e.time).saturating_sub(WHEEL as u64 - 1)
        });
    }

    #[inline]
    pub(crate) fn pop(&mut self) -> Option<Entry> {
        if self.late.is_empty()
            && let Some(entry) = self.front.pop()
        {
            return Some(entry);
        }
        self.pop_slow()
    }

    /// A pop when entries arrived late into the current bucket, or the bucket is used up.
    #[cold]
    fn pop_slow(&mut self) -> Option<Entry> {
        if self.front.is_empty() && self.late.is_empty() && !self.advance() {
            return None;
        }
        match (self.front.last(), self.late.peek()) {
            (Some(f), Some(l)) if l.key() < f.key() => self.late.pop(),
            (Some(_), _) => self.front.pop(),
            (None, _) => self.late.pop(),
        }
    }

    /// The time of the next entry, turning the wheel to it if needed.
    #[inline(always)]
    pub(crate) fn next_time(&mut self) -> Option<SimTime> {
        if self.front.is_empty() && self.late.is_empty() && !self.advance() {
            return None;
        }
        self.current_min().map(|e| e.time)
    }

    /// The smaller of the heads of `front` and `late`.
    #[inline(always)]
    fn current_min(&self) -> Option<&Entry> {
        match (self.front.last(), self.late.peek()) {
            (Some(f), Some(l)) => Some(if l.key() < f.key() { l } else { f }),
            (f, l) => f.or(l),
        }
    }

    /// The time of the next entry, without turning the wheel.
    pub(crate) fn peek_time(&self) -> Option<SimTime> {
        if let Some(e) = self.current_min() {
            return Some(e.time);
        }
        // The far heap may hold entries that the wheel has come to span but not yet pulled in
        // (that happens when it next turns), so both are looked at.
        let in_wheel = self
            .wheel
            .next_occupied(self.current as usize)
            .and_then(|i| self.wheel.entries(i).min_by_key(|e| e.key()));
        match (in_wheel, self.far.peek()) {
            (Some(w), Some(f)) => Some(w.time.min(f.time)),
            (w, f) => w.or(f).map(|e| e.time),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.front.len() + self.late.len() + self.wheel.len() + self.far.len()
    }

    /// Makes the next non-empty bucket the front; false if the queue is empty.
    ///
    /// Sparse runs hold about one entry per bucket: when the next bucket holds just one and
    /// nothing waits in `far`, that entry becomes the front without a drain or a sort.
    /// Every call it makes is its last act, so the common path saves no registers.
    #[inline(never)]
    fn advance(&mut self) -> bool {
        debug_assert!(self.front.is_empty() && self.late.is_empty());
        if self.far_due() {
            return self.advance_slow();
        }
        let Some(i) = self.wheel.next_occupied(self.current as usize) else {
            return self.advance_slow();
        };
        self.turn_to(i);
        if self.wheel.take_lone_into(i, &mut self.front) {
            return true;
        }
        self.drain_bucket(i)
    }

    /// Whether `far` holds an entry the wheel now spans.
    #[inline(always)]
    fn far_due(&self) -> bool {
        debug_assert_eq!(
            self.current >= self.far_due_from,
            self.far
                .peek()
                .is_some_and(|e| bucket_of(e.time).saturating_sub(self.current) < WHEEL as u64)
        );
        self.current >= self.far_due_from
    }

    /// Makes bucket `i` of the wheel the current one.
    #[inline(always)]
    fn turn_to(&mut self, i: usize) {
        let ahead = i.wrapping_sub(self.current as usize) & (WHEEL - 1);
        self.current += ahead as u64;
    }

    /// Moves bucket `i` into the front, sorted; true, as the front now holds an entry.
    #[inline(never)]
    fn drain_bucket(&mut self, i: usize) -> bool {
        self.wheel.drain_into(i, &mut self.front);
        if self.front.len() > 1 {
            sort_descending(&mut self.front, &mut self.stragglers);
        }
        true
    }

    /// [`EventQueue::advance`] when far entries are due or the wheel is empty.
    #[cold]
    #[inline(never)]
    fn advance_slow(&mut self) -> bool {
        loop {
            self.pull_far();
            if !self.late.is_empty() {
                return true;
            }
            if let Some(i) = self.wheel.next_occupied(self.current as usize) {
                self.turn_to(i);
                return self.drain_bucket(i);
            }
            match self.far.peek() {
                Some(e) => self.current = bucket_of(e.time),
                None => return false,
            }
        }
    }

    /// Moves far entries that the wheel now spans into it (or into the current bucket).
    fn pull_far(&mut self) {
        while self.far_due() {
            let entry = self.far.pop().expect("peeked entry");
            self.refresh_far_due();
            self.place(entry);
        }
    }
}

/// Sorts a bucket by descending key, using `stragglers` as scratch space.
///
/// Small buckets are insertion-sorted. Lists come out newest first, so larger buckets of
/// entries scheduled in order (timers that all fire at once) are already descending but for
/// a few messages: one pass keeps the descending run in place and sets the others aside; if
/// they are few, they are sorted on their own and merged back in, in linear time. A bucket
/// with more disorder than that is sorted outright.
fn sort_descending(entries: &mut Vec<Entry>, stragglers: &mut Vec<Entry>) {
    let len = entries.len();
    if len <= SMALL_BUCKET {
        insertion_sort_descending(entries);
        return;
    }
    let limit = 16 + len / 16;
    stragglers.clear();
    let mut kept = 0;
    for read in 0..len {
        let entry = entries[read];
        if kept == 0 || entry.key() < entries[kept - 1].key() {
            entries[kept] = entry;
            kept += 1;
            continue;
        }
        stragglers.push(entry);
        if stragglers.len() > limit {
            entries.copy_within(read + 1..len, kept);
            entries.truncate(kept + len - read - 1);
            entries.extend_from_slice(stragglers);
            entries.sort_unstable_by_key(|e| Reverse(e.key()));
            return;
        }
    }
    if stragglers.is_empty() {
        return;
    }
    stragglers.sort_unstable_by_key(|e| Reverse(e.key()));
    merge_descending(entries, kept, stragglers);
}

/// Buckets up to this size are insertion-sorted.
const SMALL_BUCKET: usize = 16;

fn insertion_sort_descending(entries: &mut [Entry]) {
    for i in 1..entries.len() {
        let entry = entries[i];
        let mut at = i;
        while at > 0 && entries[at - 1].key() < entry.key() {
            entries[at] = entries[at - 1];
            at -= 1;
        }
        entries[at] = entry;
    }
}

/// Merges the descending `stragglers` into the descending `entries[..kept]` (whose length
/// plus theirs is `entries.len()`), from the back.
fn merge_descending(entries: &mut [Entry], kept: usize, stragglers: &[Entry]) {
    let (mut i, mut j) = (kept, stragglers.len());
    debug_assert_eq!(i + j, entries.len());
    while j > 0 {
        let k = i + j - 1;
        if i > 0 && entries[i - 1].key() < stragglers[j - 1].key() {
            entries[k] = entries[i - 1];
            i -= 1;
        } else {
            entries[k] = stragglers[j - 1];
            j -= 1;
        }
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

    #[test]
    fn buckets_sort_descending_whatever_their_disorder() {
        let keys = |v: &[Entry]| v.iter().map(|e| e.key()).collect::<Vec<_>>();
        for stragglers in [0u64, 1, 5, 8, 9, 22, 23, 40, 300] {
            let mut v: Vec<Entry> = (0..100u64)
                .rev()
                .map(|s| Entry::new(SimTime(1_000), s, EntryKind::Timer, s as u32))
                .collect();
            for k in 0..stragglers {
                let at = (k as usize * 37) % v.len();
                v.insert(
                    at,
                    Entry::new(SimTime(900 + k * 7 % 200), 1000 + k, EntryKind::Deliver, 0),
                );
            }
            let mut expected = keys(&v);
            expected.sort_unstable_by(|a, b| b.cmp(a));
            sort_descending(&mut v, &mut Vec::new());
            assert_eq!(keys(&v), expected, "{stragglers} stragglers");
        }
        let mut state = 7u64;
        for len in [0, 1, 2, 3, 17, 100, 600] {
            let mut v: Vec<Entry> = (0..len)
                .map(|s| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                    Entry::new(SimTime(state >> 60), s, EntryKind::Deliver, 0)
                })
                .collect();
            let mut expected = keys(&v);
            expected.sort_unstable_by(|a, b| b.cmp(a));
            sort_descending(&mut v, &mut Vec::new());
            assert_eq!(keys(&v), expected, "{len} random entries");
        }
    }

    #[test]
    fn peeks_see_far_entries_the_wheel_has_come_to_span() {
        let width = 1u64 << BUCKET_SHIFT;
        let mut q = EventQueue::new();
        let far = SimTime((WHEEL as u64 + 104) * width);
        q.push(far, EntryKind::Timer, 1);
        q.push(SimTime(1_000 * width), EntryKind::Timer, 2);
        assert_eq!(q.pop().map(|e| e.slot), Some(2));
        q.push(SimTime((WHEEL as u64 + 404) * width), EntryKind::Timer, 3);
        assert_eq!(q.peek_time(), Some(far));
        assert_eq!(q.next_time(), Some(far));
        let order: Vec<u32> = std::iter::from_fn(|| q.pop()).map(|e| e.slot).collect();
        assert_eq!(order, vec![1, 3]);
    }

    /// Against a plain sorted reference, with delays from zero to far beyond the wheel.
    #[test]
    fn matches_a_sorted_reference_across_all_tiers() {
        let mut state = 99u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            state >> 33
        };
        let mut q = EventQueue::new();
        let mut reference = std::collections::BTreeSet::new();
        let mut now = 0u64;
        for slot in 0..20_000u32 {
            let delay = match next() % 8 {
                0 => 0,
                1 => next() % 1_000,
                2..=5 => next() % 5_000_000,
                6 => next() % 200_000_000,
                _ => next() % 20_000_000_000,
            };
            q.push(SimTime(now + delay), EntryKind::Timer, slot);
            reference.insert((now + delay, slot));
            assert_eq!(q.len(), reference.len());
            if next() % 2 == 0 {
                assert_eq!(q.peek_time(), q.next_time());
                let e = q.pop().expect("non-empty");
                now = e.time.0;
                assert_eq!(Some((e.time.0, e.slot)), reference.pop_first());
            }
        }
        while let Some(e) = q.pop() {
            assert_eq!(Some((e.time.0, e.slot)), reference.pop_first());
        }
        assert!(reference.is_empty());
        assert_eq!(q.len(), 0);
        assert_eq!(q.peek_time(), None);
    }
}
