//! States that are collections: a FIFO queue's contents, an unordered queue's multiset, a
//! set, and a multi-register's map of keys to values.
//!
//! The search keeps a model state as one `u32`, so a collection is interned: each distinct
//! content gets an id, in an id space of its own (elements and keys are ids of
//! [`super::model::Values`], the scalar values). Id 0 is the empty collection, which is every
//! such model's initial state. The search meets the same (state, call) pair many times, so
//! each step's result is memoised.
//!
//! States share their parts, so that a large collection does not cost a copy per state: a FIFO
//! queue is a persistent pair of lists known by a rolling hash of its contents
//! ([`super::queue`]); a set, a multiset and a multi-register's map are hash-consed tries
//! ([`super::trie`]) from an element to its count, or from a key to its value.

use super::fxhash::FxHashMap;
use super::model::Call;
use super::queue::Queues;
use super::trie::Tries;

/// One micro-operation of a multi-register transaction, its key and value interned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Micro {
    pub key: u32,
    /// `true` for a write, `false` for a read.
    pub write: bool,
    /// The value written or read; `None` for a read whose value is unknown.
    pub value: Option<u32>,
}

/// The collections of one partition, and the transactions its calls refer to.
pub struct Compound {
    queues: Queues,
    tries: Tries,
    steps: FxHashMap<(u32, Call), Option<u32>>,
    txns: Vec<Box<[Micro]>>,
    txn_words: usize,
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
        Compound {
            queues: Queues::new(),
            tries: Tries::new(),
            steps: FxHashMap::default(),
            txns: Vec::new(),
            txn_words: 0,
            unwritten: None,
        }
    }

    /// Memory held, in 4-byte words, for the search's budget.
    pub fn size_words(&self) -> usize {
        self.queues.size_words() + self.tries.size_words() + 8 * self.steps.len() + self.txn_words
    }

    /// The id of the set of `elements` (in any order, with any repeats).
    pub fn set_of(&mut self, elements: Vec<u32>) -> u32 {
        elements
            .into_iter()
            .fold(Tries::EMPTY, |set, e| self.tries.set(set, e, 1))
    }

    /// Stores a transaction's micro-operations; the index a [`Call::Txn`] names.
    pub fn add_txn(&mut self, micros: Vec<Micro>) -> u32 {
        let index = u32::try_from(self.txns.len()).expect("fewer than 2^32 transactions");
        self.txn_words += 3 * micros.len() + 4;
        self.txns.push(micros.into_boxed_slice());
        index
    }

    /// Applies a collection `call` to `state`; `None` if the call's output is impossible
    /// from `state`.
    pub fn step(&mut self, state: u32, call: Call) -> Option<u32> {
        if let Some(&next) = self.steps.get(&(state, call)) {
            return next;
        }
        let t = &mut self.tries;
        let next = match call {
            Call::Enqueue { value } => Some(self.queues.enqueue(state, value)),
            Call::Dequeue { out } => self.queues.dequeue(state, out),
            Call::Add { value } if t.get(state, value) != 0 => Some(state),
            Call::Add { value } => Some(t.set(state, value, 1)),
            Call::Insert { value } => {
                let count = t.get(state, value);
                Some(t.set(state, value, count + 1))
            }
            // An unordered queue's dequeue whose output is unknown (only an indeterminate one)
            // never takes effect: it could only have taken some element, and an element left
            // in the queue constrains nothing later.
            Call::Remove { out } => out.and_then(|out| match t.get(state, out) {
                0 => None,
                count => Some(t.set(state, out, count - 1)),
            }),
            Call::Txn { index } => apply_txn(t, state, &self.txns[index as usize], self.unwritten),
            // Reads compare ids, which the caller does; the rest are scalar calls.
            _ => None,
        };
        self.steps.insert((state, call), next);
        next
    }
}

/// A multi-register transaction, micro-operation by micro-operation, on a map from each
/// written key to its value's id plus one.
fn apply_txn(t: &mut Tries, mut map: u32, micros: &[Micro], unwritten: Option<u32>) -> Option<u32> {
    for micro in micros {
        let held = match t.get(map, micro.key) {
            0 => unwritten,
            stored => Some(stored - 1),
        };
        match (micro.write, micro.value) {
            (false, None) => {}
            (false, Some(v)) if held != Some(v) => return None,
            (false, Some(_)) => {}
            // Ids stay below 2^32 - 1 (there are fewer values than ops), so the sum fits.
            (true, Some(v)) => map = t.set(map, micro.key, v + 1),
            (true, None) => return None,
        }
    }
    Some(map)
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
