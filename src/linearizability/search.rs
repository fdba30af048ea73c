//! The Wing–Gong–Lowe search with Lowe's memoisation, over one partition.
//!
//! Calls and returns sit in one doubly linked list in real-time order. The search walks it:
//! at a call it tries to linearise that op next (apply it to the model, remove its call and
//! return from the list, start again from the head); at a return it has met an op whose
//! deadline passed without being linearised, so it undoes the latest choice. A configuration
//! (set of linearised ops, model state) seen before cannot lead anywhere new, so the search
//! remembers every one it enters: this is what keeps it from being exponential in practice.

use super::fxhash::{FxHashMap, mix64};
use super::model::{Call, Values};

/// The list's sentinel node; call of op `i` is node `1 + 2i`, its return `2 + 2i`.
const HEAD: u32 = 0;
const NIL: u32 = u32::MAX;
/// The wall-clock budget is checked once every this many steps (a step is a few ns).
const STEPS_PER_BUDGET_CHECK: u64 = 1 << 14;
/// The memo holds at most this many 64-bit words of bitsets (1 GiB); beyond it the verdict is
/// unknown rather than the machine running out of memory.
const MAX_CACHE_WORDS: usize = 1 << 27;

/// One key's operations, ready to search.
pub struct Partition {
    pub calls: Vec<Call>,
    /// Real-time rank of each op's call event.
    pub call_pos: Vec<usize>,
    /// Real-time rank of each op's return event; `None` if pending forever.
    pub return_pos: Vec<Option<usize>>,
    pub values: Values,
    pub initial: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Linearizable,
    /// `op` (an index into the partition) is where the search got furthest and stuck.
    NotLinearizable {
        op: usize,
    },
    /// The budget ran out (`true`: time, `false`: memory).
    Unknown {
        time: bool,
    },
}

/// Every configuration the search has entered: (linearised set, state), keyed by a hash.
///
/// Entries are stored inline, `1 + words` words each: the state and the next entry with the
/// same key packed in one word, then the bitset; one entry is usually one cache line.
struct Memo {
    words: usize,
    heads: FxHashMap<u64, u32>,
    entries: Vec<u64>,
}

impl Memo {
    fn stride(&self) -> usize {
        self.words + 1
    }

    /// Memory held by the entries, in words, for the budget.
    fn size_words(&self) -> usize {
        self.entries.len()
    }

    /// Records the configuration; false if it was already there.
    #[inline]
    fn insert(&mut self, key: u64, bits: &[u64], state: u32) -> bool {
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
struct List {
    next: Vec<u32>,
    prev: Vec<u32>,
    /// Real-time rank of each node, to find how far the search got.
    rank: Vec<u32>,
}

impl List {
    fn new(p: &Partition) -> List {
        let n = p.calls.len();
        let mut order: Vec<(usize, u32)> = Vec::with_capacity(2 * n);
        for i in 0..n {
            order.push((p.call_pos[i], 1 + 2 * i as u32));
            // Pending ops return after everything else, in invocation order.
            let ret = p.return_pos[i].unwrap_or(usize::MAX / 2 + i);
            assert!(ret > p.call_pos[i], "an op returns after its call");
            order.push((ret, 2 + 2 * i as u32));
        }
        order.sort_unstable();
        let nodes = 2 * n + 1;
        let mut list = List {
            next: vec![NIL; nodes],
            prev: vec![NIL; nodes],
            rank: vec![0; nodes],
        };
        let mut last = HEAD;
        for (rank, &(_, node)) in order.iter().enumerate() {
            list.next[last as usize] = node;
            list.prev[node as usize] = last;
            list.rank[node as usize] = rank as u32 + 1;
            last = node;
        }
        list
    }

    #[inline]
    fn unlink(&mut self, x: u32) {
        let (p, n) = (self.prev[x as usize], self.next[x as usize]);
        self.next[p as usize] = n;
        if n != NIL {
            self.prev[n as usize] = p;
        }
    }

    /// Puts `x` back where it was; undo in the reverse order of `unlink`.
    #[inline]
    fn relink(&mut self, x: u32) {
        let (p, n) = (self.prev[x as usize], self.next[x as usize]);
        self.next[p as usize] = x;
        if n != NIL {
            self.prev[n as usize] = x;
        }
    }
}

/// A search in progress over one partition; [`Search::run`] resumes it for a number of steps.
pub struct Search {
    list: List,
    memo: Memo,
    zobrist: Vec<u64>,
    linearised: Vec<u64>,
    set_hash: u64,
    state: u32,
    /// The linearised calls, in order, with the state before each.
    stack: Vec<(u32, u32)>,
    furthest_rank: u32,
    furthest_op: usize,
    entry: u32,
    steps: u64,
}

impl Search {
    pub fn new(p: &Partition) -> Search {
        let n = p.calls.len();
        assert!(
            n < (u32::MAX as usize) / 2,
            "op count bounded by MAX_OPS_PER_HISTORY"
        );
        assert_eq!(p.call_pos.len(), n);
        assert_eq!(p.return_pos.len(), n);
        let list = List::new(p);
        let words = n.div_ceil(64).max(1);
        let entry = list.next[HEAD as usize];
        Search {
            list,
            memo: Memo {
                words,
                heads: FxHashMap::default(),
                entries: Vec::new(),
            },
            zobrist: (0..n as u64).map(mix64).collect(),
            linearised: vec![0u64; words],
            set_hash: 0,
            state: p.initial,
            stack: Vec::with_capacity(n),
            furthest_rank: 0,
            furthest_op: 0,
            entry,
            steps: 0,
        }
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Runs until a verdict or until `steps` is reached (`None`: not finished yet).
    pub fn run(
        &mut self,
        p: &mut Partition,
        steps: u64,
        out_of_time: &dyn Fn() -> bool,
    ) -> Option<Outcome> {
        let n = p.calls.len();
        let list = &mut self.list;
        while list.next[HEAD as usize] != NIL {
            self.steps += 1;
            if self.steps.is_multiple_of(STEPS_PER_BUDGET_CHECK) {
                if out_of_time() {
                    return Some(Outcome::Unknown { time: true });
                }
                if self.memo.size_words() > MAX_CACHE_WORDS {
                    return Some(Outcome::Unknown { time: false });
                }
            }
            if self.steps > steps {
                self.steps -= 1;
                return None;
            }
            let entry = self.entry;
            assert!(entry != NIL, "the list always ends with a return");
            let op = ((entry - 1) / 2) as usize;
            if entry % 2 == 1 {
                if let Some(next_state) = p.values.step(self.state, p.calls[op]) {
                    let (word, bit) = (op / 64, 1u64 << (op % 64));
                    self.linearised[word] |= bit;
                    let set_hash = self.set_hash ^ self.zobrist[op];
                    let key = set_hash ^ mix64(u64::from(next_state) ^ 0xa5a5_0000_0000);
                    if self.memo.insert(key, &self.linearised, next_state) {
                        self.set_hash = set_hash;
                        self.stack.push((entry, self.state));
                        self.state = next_state;
                        list.unlink(entry);
                        list.unlink(entry + 1);
                        self.entry = list.next[HEAD as usize];
                        continue;
                    }
                    self.linearised[word] &= !bit;
                }
                self.entry = list.next[entry as usize];
            } else {
                // `op`'s return, and it is not linearised: undo the latest choice.
                let rank = list.rank[entry as usize];
                if rank > self.furthest_rank {
                    (self.furthest_rank, self.furthest_op) = (rank, op);
                }
                let Some((call, before)) = self.stack.pop() else {
                    return Some(Outcome::NotLinearizable {
                        op: self.furthest_op,
                    });
                };
                let undone = ((call - 1) / 2) as usize;
                self.linearised[undone / 64] &= !(1u64 << (undone % 64));
                self.set_hash ^= self.zobrist[undone];
                self.state = before;
                list.relink(call + 1);
                list.relink(call);
                self.entry = list.next[call as usize];
            }
        }
        assert_eq!(self.stack.len(), n, "every op linearised");
        Some(Outcome::Linearizable)
    }
}

/// Searches to the end (or the budget); `out_of_time` is asked now and then.
pub fn search(p: &mut Partition, out_of_time: &dyn Fn() -> bool) -> Outcome {
    let mut s = Search::new(p);
    s.run(p, u64::MAX, out_of_time)
        .expect("an unbounded run finishes")
}
