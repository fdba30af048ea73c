//! How a node's values are kept in storage, and the text an append extends.

use crate::history::Value;

pub(super) const KEY_PREFIX: &str = "key/";

pub(super) fn storage_key(key: u32) -> String {
    format!("{KEY_PREFIX}{key}")
}

/// The text an append extends: nil is empty, an integer its decimal digits.
pub(super) fn text(value: &Value) -> String {
    match value {
        Value::Nil => String::new(),
        Value::Int(i) => i.to_string(),
        Value::Str(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A tag, then the value: 1 an integer (8 bytes), 2 a string (its bytes), anything else nil.
pub(super) fn encode(value: &Value) -> Vec<u8> {
    match value {
        Value::Int(i) => std::iter::once(1).chain(i.to_le_bytes()).collect(),
        Value::Str(s) => std::iter::once(2).chain(s.bytes()).collect(),
        // Only integers and strings are ever stored.
        _ => vec![0],
    }
}

pub(super) fn decode(bytes: &[u8]) -> Option<Value> {
    match (bytes.first()?, &bytes[1..]) {
        (1, rest) => Some(Value::Int(i64::from_le_bytes(rest.try_into().ok()?))),
        (2, rest) => String::from_utf8(rest.to_vec()).ok().map(Value::Str),
        _ => Some(Value::Nil),
    }
}
