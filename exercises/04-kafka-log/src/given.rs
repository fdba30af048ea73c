//! Given: where a log lives in lin-kv, and how a poll's answer is spelt, kept out of `node.rs`
//! so that your work there is the protocol alone. Leave this file as it is.
//!
//! lin-kv keys and values are numbers. Each log (one per client key) uses three kinds of
//! lin-kv key, which never collide, for any client key and any offset:
//!
//! - [`next_offset_key`]: how many offsets of the log have been handed out (nothing, for
//!   none): the next send gets that number as its offset;
//! - [`entry_key`]: what the log holds at one offset;
//! - [`committed_key`]: the consumer group's committed offset of the log.
//!
//! The clients' history is checked by `log_consistent`, which the `log` workload adds: no
//! acknowledged message lost, reordered, duplicated or skipped. A log whose polls never
//! return anything would pass it, so [`properties`] adds `messages_consumed`: every message
//! acknowledged long enough before the clients stop is returned by some poll. The grader's
//! `ok_min` catches requests that were refused or never answered.

// `node.rs` as handed out uses only some of these.
#![allow(dead_code)]

use faultline::check::{Property, Violation};
use faultline::history::{Status, Value};
use faultline::workload::{ClientOp, Reply};
use faultline::{NodeId, Process, Sim, SimDuration, SimTime};
use std::collections::BTreeSet;

/// The most messages one poll should return: a poll is a batch, not the whole log.
pub const POLL_BATCH_MAX: usize = 8;

/// The lin-kv key counting the offsets handed out in `key`'s log.
pub fn next_offset_key(key: u32) -> u64 {
    tagged(1, key, 0)
}

/// The lin-kv key of the consumer group's committed offset of `key`'s log.
pub fn committed_key(key: u32) -> u64 {
    tagged(2, key, 0)
}

/// The lin-kv key of offset `offset` of `key`'s log. Offsets are below 2^46, far beyond
/// what any run reaches.
pub fn entry_key(key: u32, offset: u64) -> u64 {
    tagged(3, key, offset)
}

/// Two bits of kind, 16 of client key (a run has at most 65,536 keys), 46 of offset.
fn tagged(kind: u64, key: u32, offset: u64) -> u64 {
    (kind << 62) | (u64::from(key & 0xffff) << 46) | (offset & ((1 << 46) - 1))
}

/// The answer to a poll that found `messages`, as `(offset, message)` pairs in offset order.
pub fn poll_reply(messages: &[(u64, i64)]) -> Reply {
    let pairs = messages
        .iter()
        .map(|&(offset, msg)| Value::List(vec![Value::Int(offset as i64), Value::Int(msg)]));
    Reply::Ok(Value::List(pairs.collect()))
}

/// The answer to a send whose message is at `offset`, and to a commit of `offset`.
pub fn offset_reply(offset: u64) -> Reply {
    Reply::Ok(Value::Int(offset as i64))
}

/// The answer to `committed`: the group's committed offset, or nil if none was committed.
pub fn committed_reply(offset: Option<i64>) -> Reply {
    Reply::Ok(offset.map_or(Value::Nil, Value::Int))
}

/// How long before the clients stop (the workload's `until`) a message must have been
/// acknowledged for `messages_consumed` to expect a poll to have returned it: time for its
/// consumer to poll up to it, through crashes, lost calls and offsets left empty by senders
/// that crashed.
pub const CONSUME_WITHIN: SimDuration = SimDuration::from_millis(2000);

/// The properties the exercise checks beyond the clients' history: `messages_consumed`.
pub fn properties<P: Process>() -> Vec<Property<P>> {
    vec![Property::at_end(
        "messages_consumed",
        "every message acknowledged at least 2 s before the clients stopped was returned \
         by some ok poll",
        messages_consumed,
    )]
}

/// The check behind `messages_consumed`, on the history the clients recorded.
fn messages_consumed<P: Process>(sim: &Sim<P>) -> Result<(), Violation> {
    let Some(until) = sim.workload().map(|w| w.until) else {
        return Ok(());
    };
    let history = sim.history();
    let ok = history
        .logged()
        .zip(history.times())
        .filter(|(op, _)| op.status == Status::Ok);
    let mut polled: BTreeSet<(u32, i64)> = BTreeSet::new();
    let mut acked: Vec<(u32, i64, &Value, SimTime, NodeId)> = Vec::new();
    for (op, times) in ok {
        match (op.op, op.value) {
            (ClientOp::Poll { key, .. }, Value::List(pairs)) => {
                polled.extend(pairs.iter().filter_map(|pair| match pair {
                    Value::List(parts) => match parts.as_slice() {
                        [_, Value::Int(msg)] => Some((key, *msg)),
                        _ => None,
                    },
                    _ => None,
                }));
            }
            (ClientOp::Send { key, msg }, offset) => {
                if let Some(at) = times.complete {
                    acked.push((key, msg, offset, at, times.node));
                }
            }
            _ => {}
        }
    }
    let unseen = acked.iter().filter(|(key, msg, _, at, _)| {
        *at + CONSUME_WITHIN <= until && !polled.contains(&(*key, *msg))
    });
    let Some(&(key, msg, offset, at, node)) = unseen.clone().next() else {
        return Ok(());
    };
    Err(Violation::new(
        format!(
            "not consumed: message {msg} of key {key}, acknowledged at offset {offset} at \
             {at}, was never returned by a poll, though the clients went on until {until} \
             ({} such message(s) in all)",
            unseen.count()
        ),
        vec![node],
    ))
}
