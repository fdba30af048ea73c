//! faultline's own history format: JSON Lines, one event an object:
//! `{"process": 0, "type": "invoke", "f": "write", "key": "x", "value": 3}`.
//!
//! `type` is `invoke`, `ok`, `fail` or `info`; `key` is optional (a string or an integer);
//! `value` is any JSON value without fractions (a cas gives `[from, to]`). Blank lines are
//! skipped.

use super::{Builder, Completion, History, Loc, ParseError, Status, Value};
use serde_json::Value as Json;

pub fn parse(path: &str, text: &str) -> Result<History, ParseError> {
    let mut b = Builder::new(path);
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        parse_line(&mut b, line, index + 1)?;
    }
    Ok(b.finish())
}

fn to_value(b: &Builder, json: &Json, loc: Loc) -> Result<Value, ParseError> {
    Ok(match json {
        Json::Null => Value::Nil,
        Json::Bool(v) => Value::Bool(*v),
        Json::Number(n) => Value::Int(n.as_i64().ok_or_else(|| {
            b.error(
                loc,
                format!("`{n}` is not a 64-bit integer (fractions are not supported)"),
            )
        })?),
        Json::String(s) => Value::Str(s.clone()),
        Json::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.push(to_value(b, item, loc)?);
            }
            Value::List(out)
        }
        Json::Object(_) => return Err(b.error(loc, "a value cannot be an object")),
    })
}

/// Where `"name"` appears on the line, so that errors point at the field.
fn field_loc(line: &str, number: usize, name: &str) -> Loc {
    let offset = line.find(&format!("\"{name}\"")).unwrap_or(0);
    Loc {
        line: number,
        column: line[..offset].chars().count() + 1,
    }
}

fn parse_line(b: &mut Builder, line: &str, number: usize) -> Result<(), ParseError> {
    let start = Loc {
        line: number,
        column: 1,
    };
    let json: Json = serde_json::from_str(line).map_err(|e| {
        let loc = Loc {
            line: number,
            column: e.column().max(1),
        };
        b.error(
            loc,
            format!(
                "invalid JSON: {}",
                e.to_string().split(" at line ").next().unwrap_or("")
            ),
        )
    })?;
    let Json::Object(map) = &json else {
        return Err(b.error(
            start,
            "expected an object {\"process\": .., \"type\": .., \"f\": ..}",
        ));
    };
    let at = |name: &str| field_loc(line, number, name);
    let process = match map.get("process") {
        Some(p) => p
            .as_u64()
            .ok_or_else(|| b.error(at("process"), "\"process\" must be a non-negative integer"))?,
        None => return Err(b.error(start, "missing \"process\"")),
    };
    let text_field = |name: &str| match map.get(name) {
        Some(Json::String(s)) => Ok(s.as_str()),
        Some(_) => Err(b.error(at(name), format!("\"{name}\" must be a string"))),
        None => Err(b.error(start, format!("missing \"{name}\""))),
    };
    let kind = text_field("type")?;
    let f = text_field("f")?.to_string();
    let key = match map.get("key") {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) => Some(s.clone()),
        Some(Json::Number(n)) => Some(n.to_string()),
        Some(_) => return Err(b.error(at("key"), "\"key\" must be a string or an integer")),
    };
    let value = match map.get("value") {
        Some(v) => to_value(b, v, at("value"))?,
        None => Value::Nil,
    };
    let status = match kind {
        "invoke" => return b.invoke(start, process, &f, key, value),
        "ok" => Status::Ok,
        "fail" => Status::Fail,
        "info" => Status::Info,
        other => {
            let message = format!("unknown \"type\" `{other}` (expected invoke, ok, fail or info)");
            return Err(b.error(at("type"), message));
        }
    };
    let done = Completion::read(&f, status, value);
    b.complete(start, process, &f, done)
}
