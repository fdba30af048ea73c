//! The key-value state machine that the replicated-log protocols (Raft, multi-Paxos) apply
//! client operations to, once an operation's log position is committed.

use crate::history::Value;
use crate::workload::{ClientOp, Reply};
use std::collections::BTreeMap;

/// The key a counter workload's adds go to.
pub const COUNTER_KEY: u32 = 0;

/// What `key` holds (`Nil` when never written).
pub fn value_of(kv: &BTreeMap<u32, Value>, key: u32) -> Value {
    kv.get(&key).cloned().unwrap_or(Value::Nil)
}

/// Runs one operation on the map; returns what the client that asked for it gets.
pub fn apply(kv: &mut BTreeMap<u32, Value>, op: &ClientOp) -> Reply {
    match update(kv, op) {
        Err(why) => Reply::Fail(why),
        // A read changes nothing: the map after it holds what the read saw.
        Ok(()) => match *op {
            ClientOp::Read { key } => Reply::Ok(value_of(kv, key)),
            _ => Reply::Ok(Value::Nil),
        },
    }
}

/// Runs one operation on the map for a node that answers nobody (a follower, or an entry no
/// client waits on here): the same change as [`apply`], without building the answer; `Err`
/// carries why a client would be refused.
pub fn update(kv: &mut BTreeMap<u32, Value>, op: &ClientOp) -> Result<(), &'static str> {
    match *op {
        ClientOp::Read { .. } => {}
        ClientOp::Write { key, value } => match kv.get_mut(&key) {
            // An integer over an integer: nothing to drop.
            Some(Value::Int(held)) => *held = value,
            _ => {
                kv.insert(key, Value::Int(value));
            }
        },
        ClientOp::Append { key, value } => match kv.get_mut(&key) {
            // In place: the string grows by the digits, as `format!("{text}{value}")` would.
            Some(Value::Str(text)) => {
                use std::fmt::Write as _;
                write!(text, "{value}").expect("writing to a String cannot fail");
            }
            current => {
                let text = current.map_or("".into(), |v| v.append_text());
                let joined = Value::Str(format!("{text}{value}"));
                kv.insert(key, joined);
            }
        },
        ClientOp::Cas { key, from, to } => match kv.get_mut(&key) {
            Some(Value::Int(held)) if *held == from => *held = to,
            _ => return Err("cas: the key holds another value"),
        },
        ClientOp::Add { value } => match kv.get_mut(&COUNTER_KEY) {
            None | Some(Value::Nil) => {
                kv.insert(COUNTER_KEY, Value::Int(value));
            }
            Some(Value::Int(sum)) => *sum = sum.saturating_add(value),
            Some(_) => return Err("add: key 0 holds no number"),
        },
        ClientOp::Generate
        | ClientOp::Txn(_)
        | ClientOp::Send { .. }
        | ClientOp::Poll { .. }
        | ClientOp::Commit { .. }
        | ClientOp::Committed { .. } => {
            return Err("this protocol serves no such operation");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_cas_appends_and_adds_change_the_map() {
        let mut kv = BTreeMap::new();
        assert_eq!(
            apply(&mut kv, &ClientOp::Read { key: 1 }),
            Reply::Ok(Value::Nil)
        );
        apply(&mut kv, &ClientOp::Write { key: 1, value: 4 });
        let cas = |from, to| ClientOp::Cas { key: 1, from, to };
        assert!(matches!(apply(&mut kv, &cas(3, 5)), Reply::Fail(_)));
        assert_eq!(apply(&mut kv, &cas(4, 5)), Reply::Ok(Value::Nil));
        apply(&mut kv, &ClientOp::Append { key: 1, value: 6 });
        assert_eq!(value_of(&kv, 1), Value::Str("56".into()));
        assert_eq!(
            update(&mut kv, &ClientOp::Append { key: 1, value: -7 }),
            Ok(())
        );
        assert_eq!(value_of(&kv, 1), Value::Str("56-7".into()));
        assert!(update(&mut kv, &cas(5, 6)).is_err());
        apply(&mut kv, &ClientOp::Add { value: 2 });
        apply(&mut kv, &ClientOp::Add { value: 3 });
        assert_eq!(value_of(&kv, COUNTER_KEY), Value::Int(5));
    }
}
