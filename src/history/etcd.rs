//! Porcupine's etcd log (Jepsen etcd runs): one event a line,
//! `INFO  jepsen.util - <process> :<type> :<f> <value>`, fields split by any whitespace.
//!
//! Unlike Jepsen EDN, `:fail` is part of this history where it is a definite answer: a failed
//! cas returned false, and a failed (timed-out) read returned with an output that constrains
//! nothing. `:info` lines leave the op pending forever.

use super::edn::{Reader, to_value};
use super::{Builder, Completion, History, Loc, ParseError, Status, Value};

/// The fixed prefix before the process id.
const PREFIX: [&str; 3] = ["INFO", "jepsen.util", "-"];

/// Splits `line` at whitespace, keeping each field's byte offset.
fn fields(line: &str) -> impl Iterator<Item = (usize, &str)> {
    line.split_ascii_whitespace()
        .map(move |f| (f.as_ptr() as usize - line.as_ptr() as usize, f))
}

fn column(line: &str, offset: usize) -> usize {
    line[..offset].chars().count() + 1
}

pub fn parse(path: &str, text: &str) -> Result<History, ParseError> {
    let mut b = Builder::new(path);
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        parse_line(&mut b, path, line, index + 1)?;
    }
    Ok(b.finish())
}

fn parse_line(b: &mut Builder, path: &str, line: &str, number: usize) -> Result<(), ParseError> {
    let at = |offset: usize| Loc {
        line: number,
        column: column(line, offset),
    };
    let mut it = fields(line);
    for expected in PREFIX {
        match it.next() {
            Some((_, f)) if f == expected => {}
            Some((o, f)) => {
                return Err(b.error(at(o), format!("expected `{expected}`, found `{f}`")));
            }
            None => return Err(b.error(at(line.len()), format!("expected `{expected}`"))),
        }
    }
    let mut next = |what: &str| {
        it.next()
            .ok_or_else(|| b.error(at(line.len()), format!("missing the {what}")))
    };
    let (p_off, p) = next("process id")?;
    let (t_off, kind) = next(":type")?;
    let (f_off, f) = next(":f")?;
    let (v_off, _) = next("value")?;
    let process: u64 = p
        .parse()
        .map_err(|_| b.error(at(p_off), format!("`{p}` is not a process id")))?;
    let kind = kind
        .strip_prefix(':')
        .ok_or_else(|| b.error(at(t_off), "the type must be a keyword such as :invoke"))?;
    let f = f
        .strip_prefix(':')
        .ok_or_else(|| b.error(at(f_off), "the function must be a keyword such as :read"))?;
    let loc = at(v_off);
    let mut reader = Reader::new(path, &line[v_off..], number, loc.column);
    let value = to_value(&reader.read()?);
    if !reader.at_end() {
        return Err(b.error(reader.loc(), "unexpected text after the value"));
    }
    let op_loc = at(p_off);
    match (kind, f) {
        ("invoke", _) => {
            let input = if f == "read" { Value::Nil } else { value };
            return b.invoke(op_loc, process, f, None, input);
        }
        (_, "read" | "write" | "cas") => {}
        _ => return Err(b.error(at(f_off), format!("unknown function :{f}"))),
    }
    let done = match (kind, f) {
        ("ok", "cas") => completion(Status::Ok, Value::Bool(true), false),
        ("ok", _) => completion(Status::Ok, value, false),
        ("fail", "cas") => completion(Status::Ok, Value::Bool(false), false),
        ("fail", "read") => completion(Status::Ok, Value::Nil, true),
        ("fail", _) => completion(Status::Fail, value, false),
        ("info", _) => completion(Status::Info, value, false),
        _ => return Err(b.error(at(t_off), format!("unknown type :{kind}"))),
    };
    b.complete(op_loc, process, f, done)
}

fn completion(status: Status, output: Value, output_unknown: bool) -> Completion {
    Completion {
        status,
        output,
        output_unknown,
    }
}
