//! The wheel of the event queue: `WHEEL` unsorted buckets of entries, with a bitmap of the
//! ones in use.
//!
//! A bucket is a list of fixed-size chunks taken from one pool, so memory follows the number
//! of pending entries (not the wheel's size times its fullest bucket), nothing is allocated
//! once the pool has grown to the run's needs, and draining a bucket reads whole chunks
//! rather than chasing a pointer per entry.

use super::queue::Entry;
use crate::time::SimTime;

/// Buckets in the wheel (a power of two): enough that timeouts of half a second (clients',
/// elections') go straight into a bucket rather than through the far heap.
pub(crate) const WHEEL: usize = 16384;
const WORDS: usize = WHEEL / 64;
/// Entries per chunk: 16 × 24 bytes plus a header, six cache lines. Most buckets of a
/// moderately busy run fit one chunk, so the branch that starts a new chunk is rarely taken.
const CHUNK: usize = 16;
/// No chunk: the end of a list.
const NIL: u32 = u32::MAX;

/// Up to `CHUNK` entries of one bucket, and the next (older) chunk of it or of the free list.
#[derive(Clone, Copy)]
struct Chunk {
    len: u32,
    next: u32,
    entries: [Entry; CHUNK],
}

const EMPTY: Entry = Entry::placeholder(SimTime::ZERO);

pub(crate) struct Wheel {
    /// Newest chunk of each bucket.
    heads: Box<[u32; WHEEL]>,
    occupied: Box<[u64; WORDS]>,
    chunks: Vec<Chunk>,
    free: u32,
    /// Entries in all buckets.
    len: usize,
}

impl Wheel {
    pub(crate) fn new() -> Wheel {
        Wheel {
            heads: vec![NIL; WHEEL]
                .into_boxed_slice()
                .try_into()
                .expect("WHEEL heads"),
            occupied: Box::new([0; WORDS]),
            chunks: Vec::with_capacity(256),
            free: NIL,
            len: 0,
        }
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Adds `entry` to bucket `i`.
    #[inline(always)]
    pub(crate) fn push(&mut self, i: usize, entry: Entry) {
        let i = i & (WHEEL - 1);
        self.len += 1;
        let head = self.heads[i];
        if head != NIL {
            let chunk = &mut self.chunks[head as usize];
            let len = chunk.len as usize;
            if len < CHUNK {
                chunk.entries[len] = entry;
                chunk.len += 1;
                return;
            }
        }
        self.heads[i] = self.new_chunk(head, entry);
        self.occupied[i / 64] |= 1 << (i % 64);
    }

    /// A chunk holding just `entry`, in front of `next`. A sparse wheel takes this path
    /// for most entries, so the entry goes straight into the chunk it lands in.
    #[inline(always)]
    fn new_chunk(&mut self, next: u32, entry: Entry) -> u32 {
        if self.free == NIL {
            return self.grow(next, entry);
        }
        let at = self.free;
        let chunk = &mut self.chunks[at as usize];
        self.free = chunk.next;
        chunk.len = 1;
        chunk.next = next;
        chunk.entries[0] = entry;
        at
    }

    /// A new chunk at the end of the pool: only until the pool has grown to the run's needs.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, next: u32, entry: Entry) -> u32 {
        let at = u32::try_from(self.chunks.len()).expect("fewer than 2^32 chunks");
        let mut entries = [EMPTY; CHUNK];
        entries[0] = entry;
        self.chunks.push(Chunk {
            len: 1,
            next,
            entries,
        });
        at
    }

    /// Appends every entry of bucket `i` to `out`, newest first, and empties the bucket.
    pub(crate) fn drain_into(&mut self, i: usize, out: &mut Vec<Entry>) {
        let i = i & (WHEEL - 1);
        let mut at = std::mem::replace(&mut self.heads[i], NIL);
        self.occupied[i / 64] &= !(1 << (i % 64));
        while at != NIL {
            let chunk = &mut self.chunks[at as usize];
            let len = chunk.len as usize;
            // Sparse runs drain one entry per bucket: a push, not an iterator.
            if len == 1 {
                out.push(chunk.entries[0]);
            } else {
                out.extend(chunk.entries[..len].iter().rev());
            }
            self.len -= len;
            let next = std::mem::replace(&mut chunk.next, self.free);
            self.free = at;
            at = next;
        }
    }

    /// If bucket `i` holds exactly one entry and `out` has room for it, moves it to `out`,
    /// empties the bucket and returns true; else leaves the bucket as it is.
    #[inline(always)]
    pub(crate) fn take_lone_into(&mut self, i: usize, out: &mut Vec<Entry>) -> bool {
        let i = i & (WHEEL - 1);
        let at = self.heads[i];
        let chunk = &mut self.chunks[at as usize];
        // With room checked here, the push below never grows `out` (nor calls out to).
        if chunk.len != 1 || chunk.next != NIL || out.len() == out.capacity() {
            return false;
        }
        out.push(chunk.entries[0]);
        chunk.next = self.free;
        self.free = at;
        self.heads[i] = NIL;
        self.occupied[i / 64] &= !(1 << (i % 64));
        self.len -= 1;
        true
    }

    /// The entries of bucket `i`, in no particular order.
    pub(crate) fn entries(&self, i: usize) -> impl Iterator<Item = &Entry> {
        let mut at = self.heads[i];
        std::iter::from_fn(move || {
            let chunk = self.chunks.get(at as usize)?;
            at = chunk.next;
            Some(&chunk.entries[..chunk.len as usize])
        })
        .flatten()
    }

    /// The first bucket in use at or after `start`, going round the wheel once.
    #[inline]
    pub(crate) fn next_occupied(&self, start: usize) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let start = start & (WHEEL - 1);
        let (word, bit) = (start / 64, start % 64);
        let first = self.occupied[word] & (!0u64 << bit);
        if first != 0 {
            return Some(word * 64 + first.trailing_zeros() as usize);
        }
        // The last word visited is `word` again, for its bits below `start`.
        (1..=WORDS).find_map(|k| {
            let w = (word + k) % WORDS;
            let bits = self.occupied[w];
            (bits != 0).then(|| w * 64 + bits.trailing_zeros() as usize)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::queue::EntryKind;

    #[test]
    fn buckets_keep_their_entries_and_recycle_chunks() {
        let mut wheel = Wheel::new();
        for seq in 0..20u64 {
            let bucket = if seq % 2 == 0 { 5 } else { WHEEL - 1 };
            wheel.push(bucket, Entry::new(SimTime(seq), seq, EntryKind::Timer, 0));
        }
        assert_eq!(wheel.len(), 20);
        assert_eq!(wheel.next_occupied(0), Some(5));
        assert_eq!(wheel.next_occupied(6), Some(WHEEL - 1));
        assert_eq!(wheel.next_occupied(WHEEL), Some(5), "wraps round");
        assert_eq!(wheel.entries(5).count(), 10);
        let mut out = Vec::new();
        wheel.drain_into(5, &mut out);
        let seqs: Vec<u64> = out.iter().map(|e| e.time.0).collect();
        assert_eq!(
            seqs,
            vec![18, 16, 14, 12, 10, 8, 6, 4, 2, 0],
            "newest first"
        );
        assert_eq!(wheel.len(), 10);
        let chunks = wheel.chunks.len();
        for seq in 0..10 {
            wheel.push(7, Entry::new(SimTime(seq), seq, EntryKind::Timer, 0));
        }
        assert_eq!(wheel.chunks.len(), chunks, "freed chunks are reused");
        assert_eq!(wheel.next_occupied(6), Some(7));
    }
}
