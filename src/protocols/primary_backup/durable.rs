//! How a node's values are kept in storage, and the text an append extends.

use crate::history::Value;

pub(super) const KEY_PREFIX: &str = "key/";

pub(super) fn storage_key(key: u32) -> String {
    format!("{KEY_PREFIX}{key}")
}

/// The text an append extends (see [`Value::append_text`]).
pub(super) fn text(value: &Value) -> String {
    value.append_text().into_owned()
}

pub(super) fn encode(value: &Value) -> Vec<u8> {
    let mut bytes = Vec::new();
    value.encode_scalar(&mut bytes);
    bytes
}

pub(super) fn decode(bytes: &[u8]) -> Option<Value> {
    Value::decode_scalar(bytes)
}
