//! States that are collections: a FIFO queue's contents, an unordered queue's multiset, a
//! set, and a multi-register's map of keys to values.
//!
//! The search keeps a model state as one `u32`, so a collection is interned: each distinct
//! content gets an id, in an id space of its own (elements and keys are ids of
//! [`super::model::Values`], the scalar values). Id 0 is the empty collection, which is every
//! such model's initial state. A step builds the successor's content and interns it once; the
//! search meets the same (state, call) pair many times, so each step's result is memoised.
//!
//! Canonical forms make equal contents equal ids: a set is its elements sorted without
//! repeats, a multiset sorted with repeats, a queue in order, and a multi-register's map its
//! written keys sorted, as `[key, value, key, value, ...]` (a key never written holds nil).

use super::fxhash::FxHashMap;
use super::model::Call;

/// One micro-operation of a multi-register transaction, its key and value interned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Micro {
    pub key: u32,
    /// `true` for a write, `false` for a read.
    pub write: bool,
    /// The value written or read; `None` for a read whose value is unknown.
    pub value: Option<u32>,
}

/// Interned collections of one partition, and the transactions its calls refer to.
pub struct Compound {
    ids: FxHashMap<Box<[u32]>, u32>,
    items: Vec<Box<[u32]>>,
    steps: FxHashMap<(u32, Call), Option<u32>>,
    txns: Vec<Box<[Micro]>>,
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
            ids: FxHashMap::default(),
            items: Vec::new(),
            steps: FxHashMap::default(),
            txns: Vec::new(),
        };
        let empty = compound.intern(Vec::new());
        debug_assert_eq!(empty, Compound::EMPTY);
        compound
    }

    fn intern(&mut self, items: Vec<u32>) -> u32 {
        if let Some(&id) = self.ids.get(items.as_slice()) {
            return id;
        }
        let id = u32::try_from(self.items.len()).expect("fewer than 2^32 states");
        let items = items.into_boxed_slice();
        self.items.push(items.clone());
        self.ids.insert(items, id);
        id
    }

    /// The id of the set of `elements` (in any order, with any repeats).
    pub fn set_of(&mut self, mut elements: Vec<u32>) -> u32 {
        elements.sort_unstable();
        elements.dedup();
        self.intern(elements)
    }

    /// Stores a transaction's micro-operations; the index a [`Call::Txn`] names.
    pub fn add_txn(&mut self, micros: Vec<Micro>) -> u32 {
        let index = u32::try_from(self.txns.len()).expect("fewer than 2^32 transactions");
        self.txns.push(micros.into_boxed_slice());
        index
    }

    /// Applies a collection `call` to `state`; `nil` is the scalar id of nil, if interned
    /// (what a multi-register key never written holds). `None` if the call's output is
    /// impossible from `state`.
    pub fn step(&mut self, state: u32, call: Call, nil: Option<u32>) -> Option<u32> {
        if let Some(&next) = self.steps.get(&(state, call)) {
            return next;
        }
        let items = &self.items[state as usize];
        let next = match call {
            Call::Enqueue { value } => Some([items, &[value][..]].concat()),
            Call::Dequeue { out } => dequeue(items, out),
            Call::Insert { value } => Some(inserted(items, value, true)),
            Call::Remove { out } => remove(items, out),
            Call::Add { value } => Some(inserted(items, value, false)),
            Call::Txn { index } => apply_txn(items, &self.txns[index as usize], nil),
            // Reads compare ids, which the caller does; the rest are scalar calls.
            _ => None,
        };
        let next = next.map(|items| self.intern(items));
        self.steps.insert((state, call), next);
        next
    }
}

/// A FIFO queue's dequeue: the head must be `out` (any head when `out` is unknown, and an
/// unknown dequeue of an empty queue took nothing).
fn dequeue(items: &[u32], out: Option<u32>) -> Option<Vec<u32>> {
    match (items.split_first(), out) {
        (None, None) => Some(Vec::new()),
        (None, Some(_)) => None,
        (Some((&head, _)), Some(out)) if head != out => None,
        (Some((_, rest)), _) => Some(rest.to_vec()),
    }
}

/// `items` (sorted) with `value` inserted in order; if `!repeats`, unchanged when present.
fn inserted(items: &[u32], value: u32, repeats: bool) -> Vec<u32> {
    let at = items.partition_point(|&x| x < value);
    if !repeats && items.get(at) == Some(&value) {
        return items.to_vec();
    }
    let mut next = Vec::with_capacity(items.len() + 1);
    next.extend_from_slice(&items[..at]);
    next.push(value);
    next.extend_from_slice(&items[at..]);
    next
}

/// An unordered queue's dequeue: one copy of `out` leaves the multiset. A dequeue whose
/// output is unknown (only an indeterminate one) never takes effect: it could only have taken
/// some element, and an element left in the queue constrains nothing later.
fn remove(items: &[u32], out: Option<u32>) -> Option<Vec<u32>> {
    let out = out?;
    let at = items.binary_search(&out).ok()?;
    let mut next = items.to_vec();
    next.remove(at);
    Some(next)
}

/// A multi-register transaction, micro-operation by micro-operation, on a map kept as sorted
/// `[key, value, ...]` pairs.
fn apply_txn(items: &[u32], micros: &[Micro], nil: Option<u32>) -> Option<Vec<u32>> {
    let mut map = items.to_vec();
    for micro in micros {
        match (micro.write, micro.value, slot(&map, micro.key)) {
            (false, None, _) => {}
            (false, Some(v), Ok(i)) if map[2 * i + 1] != v => return None,
            (false, Some(v), Err(_)) if Some(v) != nil => return None,
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
        let one = c.step(Compound::EMPTY, Call::Enqueue { value: 1 }, None);
        let two = c
            .step(one.unwrap(), Call::Enqueue { value: 2 }, None)
            .unwrap();
        assert_eq!(c.step(two, Call::Dequeue { out: Some(2) }, None), None);
        let rest = c.step(two, Call::Dequeue { out: Some(1) }, None).unwrap();
        assert_eq!(
            Some(rest),
            c.step(Compound::EMPTY, Call::Enqueue { value: 2 }, None)
        );
        let empty = Call::Dequeue { out: Some(2) };
        assert_eq!(c.step(Compound::EMPTY, empty, None), None);
        let unknown = Call::Dequeue { out: None };
        assert_eq!(
            c.step(Compound::EMPTY, unknown, None),
            Some(Compound::EMPTY)
        );
        assert_eq!(c.step(two, unknown, None), Some(rest));
    }

    #[test]
    fn unordered_queue_takes_any_element_once() {
        let mut c = Compound::new();
        let mut state = Compound::EMPTY;
        for value in [5, 3, 5] {
            state = c.step(state, Call::Insert { value }, None).unwrap();
        }
        let after = c.step(state, Call::Remove { out: Some(5) }, None).unwrap();
        let again = c.step(after, Call::Remove { out: Some(5) }, None).unwrap();
        assert_eq!(c.step(again, Call::Remove { out: Some(5) }, None), None);
        assert_eq!(c.step(again, Call::Remove { out: Some(3) }, None), Some(0));
    }

    #[test]
    fn set_contents_are_canonical() {
        let mut c = Compound::new();
        let a = c
            .step(Compound::EMPTY, Call::Add { value: 2 }, None)
            .unwrap();
        let ab = c.step(a, Call::Add { value: 1 }, None).unwrap();
        assert_eq!(c.step(ab, Call::Add { value: 2 }, None), Some(ab));
        assert_eq!(c.set_of(vec![2, 1, 1]), ab);
        assert_ne!(c.set_of(vec![1]), ab);
    }

    #[test]
    fn multi_register_transactions_read_what_was_written() {
        let mut c = Compound::new();
        let nil = Some(9);
        let w = c.add_txn(vec![write(1, 10), write(0, 20), read(1, Some(10))]);
        let state = c
            .step(Compound::EMPTY, Call::Txn { index: w }, nil)
            .unwrap();
        let good = c.add_txn(vec![read(0, Some(20)), read(1, None), read(2, Some(9))]);
        assert_eq!(c.step(state, Call::Txn { index: good }, nil), Some(state));
        let stale = c.add_txn(vec![read(0, Some(9))]);
        assert_eq!(c.step(state, Call::Txn { index: stale }, nil), None);
        let unwritten = c.add_txn(vec![read(2, Some(10))]);
        assert_eq!(c.step(state, Call::Txn { index: unwritten }, nil), None);
        let own = c.add_txn(vec![write(0, 30), read(0, Some(20))]);
        assert_eq!(c.step(state, Call::Txn { index: own }, nil), None);
        let same = c.add_txn(vec![write(0, 20), write(1, 10)]);
        assert_eq!(
            c.step(Compound::EMPTY, Call::Txn { index: same }, nil),
            Some(state)
        );
    }
}
