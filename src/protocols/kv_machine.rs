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
    let (key, value) = match *op {
        ClientOp::Read { key } => return Reply::Ok(value_of(kv, key)),
        ClientOp::Write { key, value } => (key, Value::Int(value)),
        ClientOp::Append { key, value } => {
            let text = value_of(kv, key).append_text().into_owned();
            (key, Value::Str(format!("{text}{value}")))
        }
        ClientOp::Cas { key, from, to } => {
            if value_of(kv, key) != Value::Int(from) {
                return Reply::Fail("cas: the key holds another value");
            }
            (key, Value::Int(to))
        }
        ClientOp::Add { value } => match value_of(kv, COUNTER_KEY) {
            Value::Nil => (COUNTER_KEY, Value::Int(value)),
            Value::Int(sum) => (COUNTER_KEY, Value::Int(sum.saturating_add(value))),
            _ => return Reply::Fail("add: key 0 holds no number"),
        },
        ClientOp::Generate => return Reply::Fail("this protocol serves no such operation"),
    };
    kv.insert(key, value);
    Reply::Ok(Value::Nil)
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
        apply(&mut kv, &ClientOp::Add { value: 2 });
        apply(&mut kv, &ClientOp::Add { value: 3 });
        assert_eq!(value_of(&kv, COUNTER_KEY), Value::Int(5));
    }
}
