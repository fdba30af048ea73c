//! FIFO queue states that share their elements, so that a long queue costs memory once.
//!
//! Storing each state's contents in full makes a queue that grows to n elements cost O(n²)
//! words over a search (10,000 elements took 800 MB). Here a state is a persistent
//! two-list queue (a front list to dequeue from, a back list that enqueues cons onto,
//! reversed into a new front when the front runs out), whose cons cells are shared between
//! states: an enqueue adds one cell, a dequeue usually none.
//!
//! Different orders of the same operations reach the same contents by different lists, so a
//! state is known by its contents' key: the length and two polynomial hashes modulo 2^61 − 1,
//! which an enqueue extends and a dequeue shortens in O(1). Two different queues of one length
//! would share an id only if both hashes collided (for n distinct states, probability about
//! n² / 2^122), as for the kv model's strings.

use super::fxhash::FxHashMap;
use super::model::{TEXT_BASES, TEXT_MODULUS, mul_mod};

/// No cell: the end of a list.
const NIL: u32 = u32::MAX;

/// A queue's identity: its length and its elements' polynomial hashes, oldest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct SeqKey {
    len: u32,
    hash: [u64; 2],
}

#[derive(Clone, Copy, Debug)]
struct State {
    /// Oldest first.
    front: u32,
    /// Newest first.
    back: u32,
    key: SeqKey,
}

/// The FIFO queue states of one partition; id 0 is the empty queue.
pub struct Queues {
    /// Cons cells: (element, next cell).
    cells: Vec<(u32, u32)>,
    states: Vec<State>,
    by_key: FxHashMap<SeqKey, u32>,
    /// `TEXT_BASES[i]^k` for k below the longest queue met.
    powers: Vec<[u64; 2]>,
}

impl Default for Queues {
    fn default() -> Self {
        Queues::new()
    }
}

impl Queues {
    pub fn new() -> Queues {
        let empty = SeqKey {
            len: 0,
            hash: [0; 2],
        };
        let mut by_key = FxHashMap::default();
        by_key.insert(empty, 0);
        Queues {
            cells: Vec::new(),
            states: vec![State {
                front: NIL,
                back: NIL,
                key: empty,
            }],
            by_key,
            powers: vec![[1; 2]],
        }
    }

    /// Memory held, in 4-byte words, for the search's budget.
    pub fn size_words(&self) -> usize {
        2 * self.cells.len() + 8 * self.states.len() + 10 * self.by_key.len()
    }

    fn cons(&mut self, value: u32, next: u32) -> u32 {
        let cell = u32::try_from(self.cells.len()).expect("fewer than 2^32 cells");
        self.cells.push((value, next));
        cell
    }

    /// The id of the state `key`, made from `front` and `back` if it is new.
    fn state(&mut self, key: SeqKey, lists: impl FnOnce(&mut Queues) -> (u32, u32)) -> u32 {
        if let Some(&id) = self.by_key.get(&key) {
            return id;
        }
        let (front, back) = lists(self);
        let id = u32::try_from(self.states.len()).expect("fewer than 2^32 states");
        self.states.push(State { front, back, key });
        self.by_key.insert(key, id);
        id
    }

    pub fn enqueue(&mut self, state: u32, value: u32) -> u32 {
        let s = self.states[state as usize];
        let mut key = SeqKey {
            len: s.key.len + 1,
            hash: [0; 2],
        };
        for (i, &base) in TEXT_BASES.iter().enumerate() {
            key.hash[i] = (mul_mod(s.key.hash[i], base) + u64::from(value) + 1) % TEXT_MODULUS;
        }
        self.state(key, |q| (s.front, q.cons(value, s.back)))
    }

    /// The state after removing the head, if the head is `out` (any head when `out` is
    /// `None`; an unknown dequeue of an empty queue took nothing).
    pub fn dequeue(&mut self, state: u32, out: Option<u32>) -> Option<u32> {
        let s = self.states[state as usize];
        if s.key.len == 0 {
            return out.is_none().then_some(state);
        }
        let front = match s.front {
            NIL => self.reversed(s.back),
            front => front,
        };
        let (head, rest) = self.cells[front as usize];
        if out.is_some_and(|out| out != head) {
            return None;
        }
        let len = s.key.len - 1;
        let power = self.power(len);
        let hash = [0, 1].map(|i| {
            let lead = mul_mod(u64::from(head) + 1, power[i]);
            (s.key.hash[i] + TEXT_MODULUS - lead) % TEXT_MODULUS
        });
        let key = SeqKey { len, hash };
        let back = if s.front == NIL { NIL } else { s.back };
        Some(self.state(key, |_| (rest, back)))
    }

    /// A new list holding `back`'s elements in reverse order (oldest first).
    fn reversed(&mut self, mut back: u32) -> u32 {
        let mut front = NIL;
        while back != NIL {
            let (value, next) = self.cells[back as usize];
            front = self.cons(value, front);
            back = next;
        }
        front
    }

    fn power(&mut self, k: u32) -> [u64; 2] {
        while self.powers.len() <= k as usize {
            let last = self.powers[self.powers.len() - 1];
            self.powers
                .push([0, 1].map(|i| mul_mod(last[i], TEXT_BASES[i])));
        }
        self.powers[k as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_contents_are_one_state_however_built() {
        let mut q = Queues::new();
        let a = q.enqueue(0, 1);
        let ab = q.enqueue(a, 2);
        let abc = q.enqueue(ab, 3);
        let bc = q.dequeue(abc, Some(1)).unwrap();
        // Built the other way: 2, 3 enqueued onto an empty queue.
        let b = q.enqueue(0, 2);
        assert_eq!(q.enqueue(b, 3), bc);
        assert_eq!(q.dequeue(bc, Some(3)), None, "2 is the head");
        let c = q.dequeue(bc, None).unwrap();
        assert_eq!(c, q.enqueue(0, 3));
        assert_eq!(q.dequeue(c, Some(3)), Some(0));
        assert_eq!(q.dequeue(0, Some(3)), None);
        assert_eq!(q.dequeue(0, None), Some(0));
    }

    #[test]
    fn a_long_queue_shares_its_cells() {
        let mut q = Queues::new();
        let mut state = 0;
        for v in 0..10_000 {
            state = q.enqueue(state, v);
        }
        for v in 0..10_000 {
            state = q.dequeue(state, Some(v)).unwrap();
        }
        assert_eq!(state, 0);
        // One cell per enqueue, and one per element when the front was rebuilt.
        assert_eq!(q.cells.len(), 20_000);
    }
}
