//! Paths through the state space in words: the events of a counterexample.
//!
//! An event names what it acts on by content, not by index, so that a path reads as what
//! happened and could be matched again against the states of a replay: a message by its
//! sender, receiver and `Debug` text, a timer by its node, `Debug` text and the time it was
//! due on its node's clock.

use super::state::State;
use super::step::Choice;
use crate::check::ViolationReport;
use crate::ids::NodeId;
use crate::protocol::Protocol;
use crate::time::SimDuration;
use crate::trace::client_name;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One event of an explored path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Event {
    /// A message in flight reaches its receiver.
    Deliver {
        from: String,
        to: String,
        message: String,
    },
    /// A message reaches its receiver and a copy stays in flight.
    Duplicate {
        from: String,
        to: String,
        message: String,
    },
    /// A message in flight is lost.
    Drop {
        from: String,
        to: String,
        message: String,
    },
    /// A pending timer fires; the node's clock moves to `due` if it is behind.
    Fire {
        node: String,
        timer: String,
        due: SimDuration,
    },
    Crash {
        node: String,
    },
    Restart {
        node: String,
    },
    /// Client `client` invokes its next operation (`op`, its `Debug` text) at `node`.
    Invoke {
        client: u32,
        node: String,
        op: String,
    },
    /// Client `client` sends its redirected operation again, to `node`.
    Resend {
        client: u32,
        node: String,
        op: String,
    },
    /// Client `client` gives up on its open operation `op`.
    Timeout {
        client: u32,
        op: String,
    },
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Deliver { from, to, message } => write!(f, "deliver {from} → {to}: {message}"),
            Event::Duplicate { from, to, message } => {
                write!(f, "deliver {from} → {to}, and again later: {message}")
            }
            Event::Drop { from, to, message } => write!(f, "drop {from} → {to}: {message}"),
            Event::Fire { node, timer, due } => write!(f, "{node} timer {timer} (due {due})"),
            Event::Crash { node } => write!(f, "crash {node}"),
            Event::Restart { node } => write!(f, "restart {node}"),
            Event::Invoke { client, node, op } => {
                write!(f, "client {} asks {node}: {op}", client_name(*client))
            }
            Event::Resend { client, node, op } => write!(
                f,
                "client {} asks {node} again, as redirected: {op}",
                client_name(*client)
            ),
            Event::Timeout { client, op } => {
                write!(f, "client {} times out: {op}", client_name(*client))
            }
        }
    }
}

/// One step of a counterexample: the event, and what the handler it ran annotated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Step {
    pub event: Event,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The text of notes kept with their position among a handler's sends.
pub(crate) fn note_texts(notes: Vec<(u32, String)>) -> Vec<String> {
    notes.into_iter().map(|(_, text)| text).collect()
}

/// A shortest path from the initial state to a state that breaks a property.
#[derive(Clone, Debug, Serialize)]
pub struct Counterexample {
    pub violation: ViolationReport,
    pub steps: Vec<Step>,
}

/// `choice` in `state`, in words.
pub(crate) fn describe<P: Protocol>(state: &State<P>, choice: Choice, names: &[String]) -> Event {
    let name = |id: NodeId| names[id.index()].clone();
    let message = |i: u32| {
        let e = &state.net[i as usize];
        (name(e.from), name(e.to), format!("{:?}", e.msg))
    };
    match choice {
        Choice::Deliver(i) => {
            let (from, to, message) = message(i);
            Event::Deliver { from, to, message }
        }
        Choice::Duplicate(i) => {
            let (from, to, message) = message(i);
            Event::Duplicate { from, to, message }
        }
        Choice::Drop(i) => {
            let (from, to, message) = message(i);
            Event::Drop { from, to, message }
        }
        Choice::Fire { node, index } => {
            let timer = &state.nodes[node.index()].timers[index as usize];
            Event::Fire {
                node: name(node),
                timer: format!("{:?}", timer.tag),
                due: SimDuration(timer.due.0),
            }
        }
        Choice::Crash(node) => Event::Crash { node: name(node) },
        Choice::Restart(node) => Event::Restart { node: name(node) },
        Choice::Invoke { client, node } | Choice::Resend { client, node } => {
            let clients = state.clients.as_deref();
            let sent = clients.and_then(|c| c.peek(client, node));
            let (node, op) = sent.map_or((String::new(), String::new()), |(to, r)| {
                (name(to), format!("{:?}", r.op))
            });
            match choice {
                Choice::Invoke { .. } => Event::Invoke { client, node, op },
                _ => Event::Resend { client, node, op },
            }
        }
        Choice::Timeout { client } => {
            let open = state.clients.as_deref().and_then(|c| c.open(client));
            let op = open.map_or_else(String::new, |(op, _, _)| format!("{op:?}"));
            Event::Timeout { client, op }
        }
    }
}
