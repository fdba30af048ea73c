//! States that are collections: a FIFO queue's contents, an unordered queue's multiset, a
//! set, and a multi-register's map of keys to values.
//!
//! The search keeps a model state as one `u32`, so a collection is interned: each distinct
//! content gets an id, in an id space of its own (elements and keys are ids of
//! [`super::model::Values`], the scalar values). Id 0 is the empty collection, which is every
//! such model's initial state. The search meets the same (state, call) pair many times, so
//! each step's result is memoised.
//!
//! Forms are canonical, so that equal contents get equal ids, and small, since a search holds
//! many states: a set is a bitset over its elements' ids (trailing zero words trimmed); a
//! multiset the bitset of the elements it holds, then the extra copies sorted; a
//! multi-register's map its written keys sorted, as `[key, value, key, value, ...]` (a key
//! never written holds nil, or the initial value given). FIFO queues share their elements between states instead
//! ([`super::queue`]).

use super::fxhash::FxHashMap;
use super::model::Call;
use super::queue::Queues;

/// One micro-operation of a multi-register transaction, its key and value interned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Micro {
    pub key: u32,
    /// `true` for a write, `false` for a read.
    pub write: bool,
    /// The value written or read; `None` for a read whose value is unknown.
    pub value: Option<u32>,
}

/// No id: the end of a chain of ids whose contents share a hash.
const NONE: u32 = u32::MAX;

/// Interned collections of one partition, and the transactions its calls refer to.
pub struct Compound {
    /// Hash of contents → the newest id with that hash; `chain` links the older ones.
    by_hash: FxHashMap<u64, u32>,
    chain: Vec<u32>,
    items: Vec<Box<[u32]>>,
    words: usize,
    queues: Queues,
    steps: FxHashMap<(u32, Call), Option<u32>>,
    txns: Vec<Box<[Micro]>>,
    /// The scalar id of what a multi-register key holds before it is written (nil, or the
    /// initial value given); `None` until the partition sets it.
    pub unwritten: Option<u32>,
}

impl Default for Compound {
    fn default() -> Self {
        Compound::new()
    }
}

impl Compound {
    /// The id of the empty collection.
    pub const EMPTY: u32 = 0;

    pub fn new() -> Compound {
        let mut compound = Compound {
            by_hash: FxHashMap::default(),
            chain: Vec::new(),
            items: Vec::new(),
            words: 0,
            queues: Queues::new(),
            steps: FxHashMap::default(),
            txns: Vec::new(),
            unwritten: None,
        };
        let empty = compound.intern(Vec::new());
        debug_assert_eq!(empty, Compound::EMPTY);
        compound
    }

    /// Memory held, in 4-byte words, for the search's budget.
    pub fn size_words(&self) -> usize {
        self.words + 6 * self.items.len() + 8 * self.steps.len() + self.queues.size_words()
    }

    fn intern(&mut self, items: Vec<u32>) -> u32 {
        let hash = super::fxhash::hash_words(&items);
        let mut at = self.by_hash.get(&hash).copied().unwrap_or(NONE);
        while at != NONE {
            if *self.items[at as usize] == *items {
                return at;
            }
            at = self.chain[at as usize];
        }
        let id = u32::try_from(self.items.len()).expect("fewer than 2^32 states");
        self.words += items.len();
        self.items.push(items.into_boxed_slice());
        self.chain
            .push(self.by_hash.insert(hash, id).unwrap_or(NONE));
        id
    }

    /// The id of the set of `elements` (in any order, with any repeats).
    pub fn set_of(&mut self, elements: Vec<u32>) -> u32 {
        let mut bits = Vec::new();
        for e in elements {
            set_bit(&mut bits, e);
        }
        self.intern(encode(bits, &[]))
    }

    /// Stores a transaction's micro-operations; the index a [`Call::Txn`] names.
    pub fn add_txn(&mut self, micros: Vec<Micro>) -> u32 {
        let index = u32::try_from(self.txns.len()).expect("fewer than 2^32 transactions");
        self.words += 3 * micros.len();
        self.txns.push(micros.into_boxed_slice());
        index
    }

    /// Applies a collection `call` to `state`; `None` if the call's output is impossible
    /// from `state`.
    pub fn step(&mut self, state: u32, call: Call) -> Option<u32> {
        if let Some(&next) = self.steps.get(&(state, call)) {
            return next;
        }
        let next = match call {
            Call::Enqueue { value } => Some(self.queues.enqueue(state, value)),
            Call::Dequeue { out } => self.queues.dequeue(state, out),
            _ => {
                let items = &self.items[state as usize];
                let next = match call {
                    Call::Insert { value } => Some(inserted(items, value, true)),
                    Call::Remove { out } => remove(items, out),
                    Call::Add { value } => Some(inserted(items, value, false)),
                    Call::Txn { index } => {
                        apply_txn(items, &self.txns[index as usize], self.unwritten)
                    }
                    // Reads compare ids, which the caller does; the rest are scalar calls.
                    _ => None,
                };
                next.map(|items| self.intern(items))
            }
        };
        self.steps.insert((state, call), next);
        next
    }
}

/// A bitset and extra copies as one canonical list: `[]` when both are empty, else the
/// bitset's length in words, its words without trailing zeros, then the extras.
fn encode(mut bits: Vec<u32>, extras: &[u32]) -> Vec<u32> {
    while bits.last() == Some(&0) {
        bits.pop();
    }
    if bits.is_empty() && extras.is_empty() {
        return bits;
    }
    let mut items = Vec::with_capacity(1 + bits.len() + extras.len());
    items.push(u32::try_from(bits.len()).expect("fewer than 2^32 words"));
    items.extend_from_slice(&bits);
    items.extend_from_slice(extras);
    items
}

/// The bitset and the extra copies of an encoded list.
fn decode(items: &[u32]) -> (&[u32], &[u32]) {
    match items.split_first() {
        None => (&[], &[]),
        Some((&n, rest)) => rest.split_at(n as usize),
    }
}

fn has_bit(bits: &[u32], e: u32) -> bool {
    bits.get((e / 32) as usize)
        .is_some_and(|w| w & (1 << (e % 32)) != 0)
}

fn set_bit(bits: &mut Vec<u32>, e: u32) {
    let word = (e / 32) as usize;
    if bits.len() <= word {
        bits.resize(word + 1, 0);
    }
    bits[word] |= 1 << (e % 32);
}

/// A set with `value` added, or a multiset (`repeats`) with one more copy of it.
fn inserted(items: &[u32], value: u32, repeats: bool) -> Vec<u32> {
    let (bits, extras) = decode(items);
    let mut bits = bits.to_vec();
    if !has_bit(&bits, value) {
        set_bit(&mut bits, value);
        return encode(bits, extras);
    }
    if !repeats {
        return items.to_vec();
    }
    let mut extras = extras.to_vec();
    extras.insert(extras.partition_point(|&x| x < value), value);
    encode(bits, &extras)
}

/// An unordered queue's dequeue: one copy of `out` leaves the multiset. A dequeue whose
/// output is unknown (only an indeterminate one) never takes effect: it could only have taken
/// some element, and an element left in the queue constrains nothing later.
fn remove(items: &[u32], out: Option<u32>) -> Option<Vec<u32>> {
    let out = out?;
    let (bits, extras) = decode(items);
    if let Ok(at) = extras.binary_search(&out) {
        let mut extras = extras.to_vec();
        extras.remove(at);
        return Some(encode(bits.to_vec(), &extras));
    }
    if !has_bit(bits, out) {
        return None;
    }
    let mut bits = bits.to_vec();
    bits[(out / 32) as usize] &= !(1 << (out % 32));
    Some(encode(bits, extras))
}

/// A multi-register transaction, micro-operation by micro-operation, on a map kept as sorted
/// `[key, value, ...]` pairs.
fn apply_txn(items: &[u32], micros: &[Micro], unwritten: Option<u32>) -> Option<Vec<u32>> {
    let mut map = items.to_vec();
    for micro in micros {
        match (micro.write, micro.value, slot(&map, micro.key)) {
            (false, None, _) => {}
            (false, Some(v), Ok(i)) if map[2 * i + 1] != v => return None,
            (false, Some(v), Err(_)) if Some(v) != unwritten => return None,
            (false, Some(_), _) => {}
            (true, Some(v), Ok(i)) => map[2 * i + 1] = v,
            (true, Some(v), Err(i)) => {
                map.splice(2 * i..2 * i, [micro.key, v]);
            }
            (true, None, _) => return None,
        }
    }
    Some(map)
}

/// Where `key` is among the pairs of `map`: `Ok(pair)` if present, else where it would go.
fn slot(map: &[u32], key: u32) -> Result<usize, usize> {
    let (mut low, mut high) = (0, map.len() / 2);
    while low < high {
        let mid = (low + high) / 2;
        match map[2 * mid].cmp(&key) {
            std::cmp::Ordering::Less => low = mid + 1,
            std::cmp::Ordering::Greater => high = mid,
            std::cmp::Ordering::Equal => return Ok(mid),
        }
    }
    Err(low)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(key: u32, value: Option<u32>) -> Micro {
        Micro {
            key,
            write: false,
            value,
        }
    }

    fn write(key: u32, value: u32) -> Micro {
        Micro {
            key,
            write: true,
            value: Some(value),
        }
    }

    #[test]
    fn fifo_queue_dequeues_the_head_only() {
        let mut c = Compound::new();
        let one = c.step(Compound::EMPTY, Call::Enqueue { value: 1 });
        let two = c.step(one.unwrap(), Call::Enqueue { value: 2 }).unwrap();
        assert_eq!(c.step(two, Call::Dequeue { out: Some(2) }), None);
        let rest = c.step(two, Call::Dequeue { out: Some(1) }).unwrap();
        assert_eq!(
            Some(rest),
            c.step(Compound::EMPTY, Call::Enqueue { value: 2 })
        );
        let empty = Call::Dequeue { out: Some(2) };
        assert_eq!(c.step(Compound::EMPTY, empty), None);
        let unknown = Call::Dequeue { out: None };
        assert_eq!(c.step(Compound::EMPTY, unknown), Some(Compound::EMPTY));
        assert_eq!(c.step(two, unknown), Some(rest));
    }

    #[test]
    fn unordered_queue_takes_any_element_once() {
        let mut c = Compound::new();
        let mut state = Compound::EMPTY;
        for value in [5, 3, 5] {
            state = c.step(state, Call::Insert { value }).unwrap();
        }
        let after = c.step(state, Call::Remove { out: Some(5) }).unwrap();
        let again = c.step(after, Call::Remove { out: Some(5) }).unwrap();
        assert_eq!(c.step(again, Call::Remove { out: Some(5) }), None);
        assert_eq!(c.step(again, Call::Remove { out: Some(3) }), Some(0));
    }

    #[test]
    fn set_contents_are_canonical() {
        let mut c = Compound::new();
        let a = c.step(Compound::EMPTY, Call::Add { value: 2 }).unwrap();
        let ab = c.step(a, Call::Add { value: 1 }).unwrap();
        assert_eq!(c.step(ab, Call::Add { value: 2 }), Some(ab));
        assert_eq!(c.set_of(vec![2, 1, 1]), ab);
        assert_ne!(c.set_of(vec![1]), ab);
    }

    #[test]
    fn multi_register_transactions_read_what_was_written() {
        let mut c = Compound::new();
        c.unwritten = Some(9);
        let w = c.add_txn(vec![write(1, 10), write(0, 20), read(1, Some(10))]);
        let state = c.step(Compound::EMPTY, Call::Txn { index: w }).unwrap();
        let good = c.add_txn(vec![read(0, Some(20)), read(1, None), read(2, Some(9))]);
        assert_eq!(c.step(state, Call::Txn { index: good }), Some(state));
        let stale = c.add_txn(vec![read(0, Some(9))]);
        assert_eq!(c.step(state, Call::Txn { index: stale }), None);
        let unwritten = c.add_txn(vec![read(2, Some(10))]);
        assert_eq!(c.step(state, Call::Txn { index: unwritten }), None);
        let own = c.add_txn(vec![write(0, 30), read(0, Some(20))]);
        assert_eq!(c.step(state, Call::Txn { index: own }), None);
        let same = c.add_txn(vec![write(0, 20), write(1, 10)]);
        assert_eq!(
            c.step(Compound::EMPTY, Call::Txn { index: same }),
            Some(state)
        );
    }
}
