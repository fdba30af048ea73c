//! The search's data structures: the real-time list of calls and returns, the memo of
//! configurations entered, and the compact form in which the memo holds a linearised set.

use super::fxhash::FxHashMap;
use super::search::Piece;

/// The list's sentinel node; call of op `i` is node `1 + 2i`, its return `2 + 2i`.
pub const HEAD: u32 = 0;
pub const NIL: u32 = u32::MAX;

/// Every configuration the search has entered: (linearised set, state), keyed by a hash.
///
/// Entries are stored inline, `1 + words` words each: the state and the next entry with the
/// same key packed in one word, then the bitset; one entry is usually one cache line.
pub struct Memo {
    pub words: usize,
    pub heads: FxHashMap<u64, u32>,
    pub entries: Vec<u64>,
}

impl Memo {
    fn stride(&self) -> usize {
        self.words + 1
    }

    /// Memory held by the entries, in words, for the budget.
    pub fn size_words(&self) -> usize {
        self.entries.len()
    }

    /// Records the configuration; false if it was already there.
    #[inline]
    pub fn insert(&mut self, key: u64, bits: &[u64], state: u32) -> bool {
        debug_assert_eq!(bits.len(), self.words);
        let stride = self.stride();
        let head = self.heads.get(&key).copied().unwrap_or(NIL);
        let mut at = head;
        while at != NIL {
            let entry = &self.entries[at as usize * stride..(at as usize + 1) * stride];
            if (entry[0] >> 32) as u32 == state && entry[1..].iter().zip(bits).all(|(a, b)| a == b)
            {
                return false;
            }
            at = entry[0] as u32;
        }
        let index =
            u32::try_from(self.entries.len() / stride).expect("memo bounded by MAX_CACHE_WORDS");
        self.entries
            .push((u64::from(state) << 32) | u64::from(head));
        self.entries.extend_from_slice(bits);
        self.heads.insert(key, index);
        true
    }
}

/// The real-time list of call and return nodes.
pub struct List {
    pub next: Vec<u32>,
    pub prev: Vec<u32>,
    /// Real-time rank of each node, to find how far the search got.
    pub rank: Vec<u32>,
}

impl List {
    pub fn new(p: &Piece) -> List {
        let n = p.calls.len();
        for (call, ret) in p.call_pos.iter().zip(&p.return_pos) {
            assert!(
                ret.is_none_or(|r| r > *call),
                "an op returns after its call"
            );
        }
        let order = placed_order(p).unwrap_or_else(|| sorted_order(p));
        let nodes = 2 * n + 1;
        let mut list = List {
            next: vec![NIL; nodes],
            prev: vec![NIL; nodes],
            rank: vec![0; nodes],
        };
        let mut last = HEAD;
        for (rank, &node) in order.iter().enumerate() {
            list.next[last as usize] = node;
            list.prev[node as usize] = last;
            list.rank[node as usize] = rank as u32 + 1;
            last = node;
        }
        list
    }

    #[inline]
    pub fn unlink(&mut self, x: u32) {
        let (p, n) = (self.prev[x as usize], self.next[x as usize]);
        self.next[p as usize] = n;
        if n != NIL {
            self.prev[n as usize] = p;
        }
    }

    /// Puts `x` back where it was; undo in the reverse order of `unlink`.
    #[inline]
    pub fn relink(&mut self, x: u32) {
        let (p, n) = (self.prev[x as usize], self.next[x as usize]);
        self.next[p as usize] = x;
        if n != NIL {
            self.prev[n as usize] = x;
        }
    }
}

/// Events are placed by rank rather than sorted when the ranks a piece spans are at most
/// this many times its events: one history's events have distinct ranks, and a key's events
/// are usually a fair share of the history's.
const PLACED_SPAN_MAX_PER_EVENT: usize = 8;

/// The nodes in real-time order: by the rank of their event, the returns of pending ops
/// after everything else, in invocation order.
fn sorted_order(p: &Piece) -> Vec<u32> {
    let n = p.calls.len();
    let mut order: Vec<(usize, u32)> = Vec::with_capacity(2 * n);
    for i in 0..n {
        order.push((p.call_pos[i], 1 + 2 * i as u32));
        order.push((
            p.return_pos[i].unwrap_or(usize::MAX / 2 + i),
            2 + 2 * i as u32,
        ));
    }
    order.sort_unstable();
    order.into_iter().map(|(_, node)| node).collect()
}

/// [`sorted_order`] in time linear in the ranks spanned, each node put in a slot by its
/// rank: sorting is most of what setting up a short piece costs. `None` (sort instead) when
/// the ranks are sparse, or two events share one, where only sorting orders them the same.
fn placed_order(p: &Piece) -> Option<Vec<u32>> {
    let events = || p.call_pos.iter().chain(p.return_pos.iter().flatten());
    let (low, high) = (*events().min()?, *events().max()?);
    let span = high - low + 1;
    if span > PLACED_SPAN_MAX_PER_EVENT * 2 * p.calls.len() || high >= usize::MAX / 2 {
        return None;
    }
    let mut slots = vec![NIL; span];
    let mut place = |rank: usize, node: u32| {
        let slot = &mut slots[rank - low];
        let free = *slot == NIL;
        *slot = node;
        free
    };
    for (i, (&call, &ret)) in p.call_pos.iter().zip(&p.return_pos).enumerate() {
        let node = 1 + 2 * i as u32;
        if !place(call, node) || ret.is_some_and(|r| !place(r, node + 1)) {
            return None;
        }
    }
    let mut order: Vec<u32> = slots.into_iter().filter(|&s| s != NIL).collect();
    let pending = p.return_pos.iter().enumerate().filter(|(_, r)| r.is_none());
    order.extend(pending.map(|(i, _)| 2 + 2 * i as u32));
    Some(order)
}

/// Below this many words (512 ops), a plain bitset is a cache line at most: the memory the
/// compact form saves does not pay for extracting the window at every step.
const MIN_WORDS_FOR_COMPACT: usize = 8;

/// A linearised set as the memo stores it, in words that grow with the ops that can be
/// pending together rather than with the piece's length.
///
/// Let the *frontier* be the earliest (in invocation order) definite op not linearised. Every
/// definite op before it is linearised. Every op linearised after it was linearised while the
/// frontier was not, so it was invoked before the frontier returned (the search never passes
/// an unlinearised op's return): it lies within `window_ops` of the frontier, the most ops
/// invoked during any one definite op. Indefinite ops before the frontier may be linearised or
/// not. So (frontier, the set's bits over the window, the set's bits over the indefinite ops)
/// names the set exactly, in `2 + window_ops / 64 + indefinite / 64` words or so; the plain
/// bitset would take `ops / 64`, which for a long piece makes the memo quadratic. When the
/// plain bitset is less than twice as long (a short piece, or one op pending through most of
/// it), or shorter than `MIN_WORDS_FOR_COMPACT`, it is the key, and the search pays nothing
/// for the compact form.
pub struct SetKey {
    /// The key is the plain bitset.
    plain: bool,
    definite: Vec<bool>,
    /// Per op: its index among the indefinite ops, or `u32::MAX`.
    indefinite_slot: Vec<u32>,
    indefinite_bits: Vec<u64>,
    window_words: usize,
    frontier: usize,
    buf: Vec<u64>,
}

impl SetKey {
    pub fn new(p: &Piece) -> SetKey {
        let n = p.calls.len();
        let definite: Vec<bool> = p.return_pos.iter().map(Option::is_some).collect();
        let mut indefinite = 0u32;
        let indefinite_slot = definite
            .iter()
            .map(|&d| {
                if d {
                    return u32::MAX;
                }
                indefinite += 1;
                indefinite - 1
            })
            .collect();
        let indefinite_words = (indefinite as usize).div_ceil(64);
        let window_words = window_ops(p).div_ceil(64).max(1);
        let frontier = definite.iter().position(|&d| d).unwrap_or(n);
        let compact_words = 1 + window_words + indefinite_words;
        let plain_words = n.div_ceil(64).max(1);
        let plain = !p.force_compact
            && (plain_words < MIN_WORDS_FOR_COMPACT || 2 * compact_words > plain_words);
        SetKey {
            plain,
            definite,
            indefinite_slot,
            indefinite_bits: vec![0; indefinite_words],
            window_words,
            frontier,
            buf: if plain {
                Vec::new()
            } else {
                vec![0; compact_words]
            },
        }
    }

    /// Whether the key is the plain bitset.
    pub fn is_plain(&self) -> bool {
        self.plain
    }

    /// Words per key, for the memo's stride.
    pub fn words(&self) -> usize {
        if self.plain {
            self.definite.len().div_ceil(64).max(1)
        } else {
            self.buf.len()
        }
    }

    /// `op` has just been added to `set`.
    #[inline]
    pub fn added(&mut self, op: usize, set: &[u64]) {
        if self.plain {
            return;
        }
        let slot = self.indefinite_slot[op];
        if slot != u32::MAX {
            self.indefinite_bits[slot as usize / 64] |= 1u64 << (slot % 64);
        }
        if op == self.frontier {
            let mut f = op + 1;
            while f < self.definite.len() && (!self.definite[f] || set[f / 64] >> (f % 64) & 1 == 1)
            {
                f += 1;
            }
            self.frontier = f;
        }
    }

    /// `op` has just been removed from the set.
    #[inline]
    pub fn removed(&mut self, op: usize) {
        if self.plain {
            return;
        }
        let slot = self.indefinite_slot[op];
        if slot != u32::MAX {
            self.indefinite_bits[slot as usize / 64] &= !(1u64 << (slot % 64));
        }
        if self.definite[op] && op < self.frontier {
            self.frontier = op;
        }
    }

    /// The key of `set`.
    #[inline]
    pub fn of<'a>(&'a mut self, set: &'a [u64]) -> &'a [u64] {
        if self.plain {
            return set;
        }
        let f = self.frontier;
        let (first, shift) = (f / 64, f % 64);
        let word = |i: usize| set.get(i).copied().unwrap_or(0);
        self.buf[0] = f as u64;
        for k in 0..self.window_words {
            let low = word(first + k) >> shift;
            let high = if shift == 0 {
                0
            } else {
                word(first + k + 1) << (64 - shift)
            };
            self.buf[1 + k] = low | high;
        }
        debug_assert!(
            (f + 64 * self.window_words..(f + 64 * (self.window_words + 1)).min(64 * set.len()))
                .all(|i| set[i / 64] >> (i % 64) & 1 == 0),
            "no op beyond the window is linearised"
        );
        self.buf[1 + self.window_words..].copy_from_slice(&self.indefinite_bits);
        &self.buf
    }
}

/// The most ops (itself included) invoked from a definite op's call to its return: how far
/// past the frontier a linearised op can lie. Ops are in invocation order (else the whole
/// piece is the window).
fn window_ops(p: &Piece) -> usize {
    let n = p.calls.len();
    if !p.call_pos.is_sorted() {
        return n;
    }
    (0..n)
        .filter_map(|m| {
            let ret = p.return_pos[m]?;
            Some(p.call_pos.partition_point(|&c| c < ret) - m)
        })
        .max()
        .unwrap_or(1)
}
