//! Given: the register itself and its storage, kept out of `node.rs` so that your work there
//! is the replication alone. Leave this file as it is.
//!
//! - [`execute`] runs a client's operation on a copy of the registers and says what to answer.
//! - [`put_store`] and [`get_store`] write a copy to storage and read it back; [`put_u64`]
//!   and [`get_u64`] do the same for a number, such as a view or a count of operations.
//!
//! The clients' history is checked by `linearizable`, which the `cas-register` workload adds:
//! every operation must seem to take effect at one instant between its request and its
//! answer. The grader's `ok_min` catches requests that were refused or never answered.

// `node.rs` as handed out uses only some of these.
#![allow(dead_code)]

use faultline::Storage;
use faultline::history::Value;
use faultline::storage::ByteReader;
use faultline::workload::{ClientOp, Reply};
use std::collections::BTreeMap;

/// The registers: each key's value. A key never written is absent, and reads as nil.
pub type Store = BTreeMap<u32, i64>;

/// The storage key [`put_store`] writes under.
const STORE_KEY: &str = "store";

/// Runs `op` on `store` and returns the answer its client should get: a read's value, `ok`
/// for a write and for a cas that matched, `fail` for a cas that did not (which changes
/// nothing). Only `read`, `write` and `cas` are served.
pub fn execute(store: &mut Store, op: &ClientOp) -> Reply {
    match *op {
        ClientOp::Read { key } => Reply::Ok(store.get(&key).map_or(Value::Nil, |&v| Value::Int(v))),
        ClientOp::Write { key, value } => {
            store.insert(key, value);
            Reply::Ok(Value::Nil)
        }
        ClientOp::Cas { key, from, to } if store.get(&key) == Some(&from) => {
            store.insert(key, to);
            Reply::Ok(Value::Nil)
        }
        ClientOp::Cas { .. } => Reply::Fail("cas: the key holds another value"),
        _ => Reply::Fail("this register serves only read, write and cas"),
    }
}

/// Writes `store` to `storage`, replacing the copy written before. Like every write, it
/// survives a crash only once `storage.sync()` has run.
pub fn put_store(storage: &mut Storage, store: &Store) {
    let mut bytes = Vec::with_capacity(store.len() * 12);
    for (&key, &value) in store {
        bytes.extend(key.to_le_bytes());
        bytes.extend(value.to_le_bytes());
    }
    storage.put(STORE_KEY, bytes);
}

/// The copy [`put_store`] wrote last; empty if it wrote none (or what is there is damaged).
pub fn get_store(storage: &Storage) -> Store {
    let mut store = Store::new();
    let Some(bytes) = storage.get(STORE_KEY) else {
        return store;
    };
    let mut reader = ByteReader::new(bytes);
    while !reader.is_empty() {
        match (reader.u32(), reader.u64()) {
            (Some(key), Some(value)) => store.insert(key, value as i64),
            _ => return Store::new(),
        };
    }
    store
}

/// Writes `value` under `key` in `storage` (durable after `storage.sync()`).
pub fn put_u64(storage: &mut Storage, key: &str, value: u64) {
    storage.put(key, value.to_le_bytes());
}

/// What [`put_u64`] wrote under `key`, if anything.
pub fn get_u64(storage: &Storage, key: &str) -> Option<u64> {
    ByteReader::new(storage.get(key)?).u64()
}
