//! The sequential specifications an operation history is checked against.
//!
//! Four models are a single register once a history is split by key: `register`
//! (read/write), `cas-register` (read/write/cas), `kv` (get/put/append/cas on one key's
//! string) and `mutex` (acquire/release: a register that is locked or not, each call a cas
//! that must apply). Values are interned to `u32` ids so that a model state is one word and
//! steps compare ids. The other four hold collections, interned likewise ([`super::compound`]):
//! `fifo-queue` and `unordered-queue` (enqueue/dequeue), `linearizable-set` (add, and read of
//! the whole set) and `multi-register` (transactions of reads and writes over several keys).
//!
//! A kv `cas [from to]` applies iff a read at that point would return `from`: ids are the same
//! for equal strings whether put or built by appends (see [`Values`]), so `cas ["ab" "x"]`
//! applies after `put "a"` and `append "b"`. As for reads, non-string values keep their own
//! identity (nil is not "", 12 is not "12"); only `append` treats them as text.

use super::compound::Compound;
use super::fxhash::FxHashMap;
use crate::history::Value;
use std::fmt;

/// Which sequential object the history is checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelKind {
    Register,
    CasRegister,
    Kv,
    /// Knossos's mutex: `acquire` succeeds only when unlocked, `release` only when locked.
    Mutex,
    /// Knossos's multi-register: `txn` of `[r k v]` and `[w k v]` micro-operations.
    MultiRegister,
    /// A queue: `dequeue` returns the oldest element enqueued and not yet dequeued.
    FifoQueue,
    /// A queue without order: `dequeue` returns any element enqueued and not yet dequeued.
    UnorderedQueue,
    /// A set: `add` an element, `read` the whole set, which must be exactly what was added.
    Set,
}

impl ModelKind {
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Register => "register",
            ModelKind::CasRegister => "cas-register",
            ModelKind::Kv => "kv",
            ModelKind::Mutex => "mutex",
            ModelKind::MultiRegister => "multi-register",
            ModelKind::FifoQueue => "fifo-queue",
            ModelKind::UnorderedQueue => "unordered-queue",
            ModelKind::Set => "linearizable-set",
        }
    }

    /// The initial state when `--initial` is not given.
    pub fn default_initial(self) -> Value {
        match self {
            ModelKind::Kv => Value::Str(String::new()),
            ModelKind::Mutex => LOCKED[0].clone(),
            _ => Value::Nil,
        }
    }

    /// Whether the model's state is a collection ([`super::compound`]), which starts empty.
    pub fn is_collection(self) -> bool {
        matches!(
            self,
            ModelKind::MultiRegister
                | ModelKind::FifoQueue
                | ModelKind::UnorderedQueue
                | ModelKind::Set
        )
    }

    /// Why the model refuses an initial value, if it does: the same words wherever one is
    /// given.
    pub fn initial_refused(self) -> Option<&'static str> {
        match self {
            ModelKind::Mutex => Some(MUTEX_NO_INITIAL),
            ModelKind::FifoQueue | ModelKind::UnorderedQueue => {
                Some("the queue models take no initial value: a queue starts empty")
            }
            ModelKind::Set => {
                Some("the linearizable-set model takes no initial value: a set starts empty")
            }
            _ => None,
        }
    }

    /// Whether the model splits a history by the ops' `key` (P-compositionality). The
    /// multi-register splits by the keys its transactions touch instead.
    pub fn keyed(self) -> bool {
        self != ModelKind::MultiRegister
    }

    /// Maps a function name to a call kind, if this model knows it.
    pub fn function(self, f: &str) -> Option<CallKind> {
        match (self, f) {
            (ModelKind::Mutex, "acquire") => Some(CallKind::Acquire),
            (ModelKind::Mutex, "release") => Some(CallKind::Release),
            (ModelKind::Mutex, _) => None,
            (ModelKind::MultiRegister, "txn") => Some(CallKind::Txn),
            (ModelKind::FifoQueue | ModelKind::UnorderedQueue, "enqueue") => {
                Some(CallKind::Enqueue)
            }
            (ModelKind::FifoQueue | ModelKind::UnorderedQueue, "dequeue") => {
                Some(CallKind::Dequeue)
            }
            (ModelKind::Set, "add") => Some(CallKind::Add),
            (ModelKind::Set, "read") => Some(CallKind::Read),
            (
                ModelKind::MultiRegister
                | ModelKind::FifoQueue
                | ModelKind::UnorderedQueue
                | ModelKind::Set,
                _,
            ) => None,
            (_, "read" | "get") => Some(CallKind::Read),
            (_, "write" | "put") => Some(CallKind::Write),
            (ModelKind::CasRegister | ModelKind::Kv, "cas") => Some(CallKind::Cas),
            (ModelKind::Kv, "append") => Some(CallKind::Append),
            _ => None,
        }
    }

    /// The functions accepted, for error messages.
    pub fn functions(self) -> &'static str {
        match self {
            ModelKind::Register => "read/get, write/put",
            ModelKind::CasRegister => "read/get, write/put, cas",
            ModelKind::Kv => "read/get, write/put, append, cas",
            ModelKind::Mutex => "acquire, release",
            ModelKind::MultiRegister => "txn",
            ModelKind::FifoQueue | ModelKind::UnorderedQueue => "enqueue, dequeue",
            ModelKind::Set => "add, read",
        }
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallKind {
    Read,
    Write,
    Cas,
    Append,
    /// A mutex's acquire: a cas from unlocked to locked that must apply.
    Acquire,
    /// A mutex's release: a cas from locked to unlocked that must apply.
    Release,
    Enqueue,
    Dequeue,
    /// A set's add.
    Add,
    /// A multi-register transaction.
    Txn,
}

/// Why a mutex check refuses an initial value.
pub const MUTEX_NO_INITIAL: &str =
    "the mutex model takes no initial value: a mutex starts unlocked";

/// A mutex's two states as register values: unlocked, then locked.
pub const LOCKED: [Value; 2] = [Value::Bool(false), Value::Bool(true)];

/// One operation as the search sees it: values are interned ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Call {
    /// `out` is `None` when the output is unknown (pending, or timed out).
    Read {
        out: Option<u32>,
    },
    Write {
        value: u32,
    },
    /// `ok` is `None` when the outcome is unknown.
    Cas {
        from: u32,
        to: u32,
        ok: Option<bool>,
    },
    Append {
        value: u32,
    },
    /// A FIFO queue's enqueue.
    Enqueue {
        value: u32,
    },
    /// A FIFO queue's dequeue; `out` is `None` when unknown.
    Dequeue {
        out: Option<u32>,
    },
    /// An unordered queue's enqueue.
    Insert {
        value: u32,
    },
    /// An unordered queue's dequeue.
    Remove {
        out: Option<u32>,
    },
    /// A set's add.
    Add {
        value: u32,
    },
    /// A multi-register transaction: its index in the partition's [`Compound`].
    Txn {
        index: u32,
    },
}

/// Strings are hashed modulo this Mersenne prime, with two bases (see [`Values`]).
pub(super) const TEXT_MODULUS: u64 = (1 << 61) - 1;
pub(super) const TEXT_BASES: [u64; 2] = [
    0x1f3d_5b79_a3c1_e5f7 % TEXT_MODULUS,
    0x0bad_c0de_1234_5677 % TEXT_MODULUS,
];

/// A string's identity: its length and two polynomial hashes, with `base^len` for each so that
/// the key of a concatenation follows from its parts' keys in O(1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct TextKey {
    len: usize,
    hash: [u64; 2],
    power: [u64; 2],
}

pub(super) fn mul_mod(a: u64, b: u64) -> u64 {
    ((u128::from(a) * u128::from(b)) % u128::from(TEXT_MODULUS)) as u64
}

impl TextKey {
    fn of(text: &str) -> TextKey {
        let mut key = TextKey {
            len: text.len(),
            hash: [0; 2],
            power: [1; 2],
        };
        for b in text.bytes() {
            for (i, &base) in TEXT_BASES.iter().enumerate() {
                key.hash[i] = (mul_mod(key.hash[i], base) + u64::from(b) + 1) % TEXT_MODULUS;
                key.power[i] = mul_mod(key.power[i], base);
            }
        }
        key
    }

    fn concat(self, tail: TextKey) -> TextKey {
        let mut key = TextKey {
            len: self.len + tail.len,
            hash: [0; 2],
            power: [0; 2],
        };
        for i in 0..2 {
            key.hash[i] = (mul_mod(self.hash[i], tail.power[i]) + tail.hash[i]) % TEXT_MODULUS;
            key.power[i] = mul_mod(self.power[i], tail.power[i]);
        }
        key
    }
}

/// Interned values of one partition, with memoised concatenations for `append`.
///
/// The kv model's state is a string that grows with every append, and the search meets many
/// of them. Building each would copy O(length) bytes per new state; instead a string is known
/// by its `TextKey` (length and two independent polynomial hashes modulo 2^61 − 1), which a
/// concatenation gets from its parts. Equal strings get equal ids however they were built; two
/// different strings of equal length would be merged only if both hashes collided (for n
/// distinct strings, probability about n² / 2^122).
pub struct Values {
    /// Non-string values → id.
    ids: FxHashMap<Value, u32>,
    /// String identities → id.
    by_text: FxHashMap<TextKey, u32>,
    /// Per id: its text's key (nil is the empty text for `append`).
    text_key: Vec<TextKey>,
    appended: FxHashMap<(u32, u32), u32>,
    /// The collections of the collection models, in an id space of their own.
    pub compound: Compound,
}

impl Default for Values {
    fn default() -> Self {
        Values::new()
    }
}

impl Values {
    pub fn new() -> Values {
        Values {
            ids: FxHashMap::default(),
            by_text: FxHashMap::default(),
            text_key: Vec::new(),
            appended: FxHashMap::default(),
            compound: Compound::new(),
        }
    }

    fn next_id(&mut self, key: TextKey) -> u32 {
        let id = u32::try_from(self.text_key.len()).expect("fewer than 2^32 values");
        self.text_key.push(key);
        id
    }

    pub fn intern(&mut self, value: &Value) -> u32 {
        if let Value::Str(text) = value {
            let key = TextKey::of(text);
            if let Some(&id) = self.by_text.get(&key) {
                return id;
            }
            let id = self.next_id(key);
            self.by_text.insert(key, id);
            return id;
        }
        // A value met before costs a lookup: its text (and the digits of an integer) is only
        // written out for a new one.
        if let Some(&id) = self.ids.get(value) {
            return id;
        }
        let id = self.next_id(TextKey::of(&value.append_text()));
        self.ids.insert(value.clone(), id);
        id
    }

    fn append(&mut self, state: u32, value: u32) -> u32 {
        if let Some(&id) = self.appended.get(&(state, value)) {
            return id;
        }
        let key = self.text_key[state as usize].concat(self.text_key[value as usize]);
        let id = match self.by_text.get(&key) {
            Some(&id) => id,
            None => {
                let id = self.next_id(key);
                self.by_text.insert(key, id);
                id
            }
        };
        self.appended.insert((state, value), id);
        id
    }

    /// Applies `call` to `state`: the new state, or `None` if the call's output is impossible.
    #[inline]
    pub fn step(&mut self, state: u32, call: Call) -> Option<u32> {
        match call {
            Call::Read { out } => match out {
                Some(v) if v != state => None,
                _ => Some(state),
            },
            Call::Write { value } => Some(value),
            Call::Cas { from, to, ok } => match (from == state, ok) {
                (true, Some(false)) | (false, Some(true)) => None,
                (true, _) => Some(to),
                (false, _) => Some(state),
            },
            Call::Append { value } => Some(self.append(state, value)),
            _ => self.compound.step(state, call),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Value {
        Value::Str(text.to_string())
    }

    /// Interns `[from to]` and an outcome as a cas call.
    fn cas(values: &mut Values, from: &Value, to: &Value, ok: Option<bool>) -> Call {
        Call::Cas {
            from: values.intern(from),
            to: values.intern(to),
            ok,
        }
    }

    #[test]
    fn kv_knows_cas() {
        assert_eq!(ModelKind::Kv.function("cas"), Some(CallKind::Cas));
        assert_eq!(
            ModelKind::Mutex.function("acquire"),
            Some(CallKind::Acquire)
        );
        assert_eq!(
            ModelKind::Mutex.function("release"),
            Some(CallKind::Release)
        );
        assert_eq!(ModelKind::Mutex.function("read"), None);
        assert_eq!(ModelKind::Register.function("acquire"), None);
        assert_eq!(ModelKind::Mutex.default_initial(), LOCKED[0]);
        assert_eq!(ModelKind::Kv.function("append"), Some(CallKind::Append));
        assert_eq!(ModelKind::Register.function("cas"), None);
        assert_eq!(ModelKind::CasRegister.function("append"), None);
        assert!(ModelKind::Kv.functions().contains("cas"));
    }

    #[test]
    fn kv_cas_compares_the_text_built_by_appends() {
        let mut v = Values::new();
        let a = v.intern(&s("a"));
        let b = v.intern(&s("b"));
        // As when checking: `from` is interned before the search builds "ab" by appending, and
        // the append must find that id rather than make a second one for the same text.
        let applied = cas(&mut v, &s("ab"), &s("x"), Some(true));
        let state = v.step(a, Call::Append { value: b }).unwrap();
        assert_eq!(v.step(state, applied), Some(v.intern(&s("x"))));
        let stale = cas(&mut v, &s("a"), &s("x"), Some(true));
        assert_eq!(v.step(state, stale), None, "the text is \"ab\" now");
        let refused = cas(&mut v, &s("a"), &s("x"), Some(false));
        assert_eq!(v.step(state, refused), Some(state));
        let wrongly_refused = cas(&mut v, &s("ab"), &s("x"), Some(false));
        assert_eq!(v.step(state, wrongly_refused), None);
        let unknown = cas(&mut v, &s("ab"), &s("y"), None);
        assert_eq!(v.step(state, unknown), Some(v.intern(&s("y"))));
    }

    #[test]
    fn kv_cas_from_text_interned_after_the_append() {
        let mut v = Values::new();
        let (x, y) = (v.intern(&s("x")), v.intern(&s("yz")));
        let state = v.step(x, Call::Append { value: y }).unwrap();
        let applied = cas(&mut v, &s("xyz"), &s(""), Some(true));
        let empty = v.intern(&s(""));
        assert_eq!(v.step(state, applied), Some(empty));
        // Appending to the emptied key starts from "" again.
        assert_eq!(v.step(empty, Call::Append { value: x }), Some(x));
    }

    #[test]
    fn kv_cas_keeps_non_strings_apart_like_reads() {
        let mut v = Values::new();
        let empty = v.intern(&s(""));
        let from_nil = cas(&mut v, &Value::Nil, &s("a"), Some(true));
        assert_eq!(v.step(empty, from_nil), None, "nil is not \"\"");
        let one = v.intern(&Value::Int(1));
        let from_one = cas(&mut v, &Value::Int(1), &Value::Int(2), Some(true));
        assert_eq!(v.step(one, from_one), Some(v.intern(&Value::Int(2))));
        let two = v.intern(&s("2"));
        let text = v.step(one, Call::Append { value: two }).unwrap();
        assert_eq!(text, v.intern(&s("12")), "append works on text");
        let from_int = cas(&mut v, &Value::Int(12), &s("x"), Some(true));
        assert_eq!(v.step(text, from_int), None);
    }
}
