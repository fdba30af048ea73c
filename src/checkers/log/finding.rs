//! What the log checker finds, and how each finding reads in plain words.

use super::KINDS;
use crate::history::Value;

/// One thing wrong with a log history. Ops are indices in [`crate::history::History::ops`]; keys as the
/// history names them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    Lost {
        key: Option<String>,
        send: usize,
        offset: i64,
        msg: Value,
        poll: usize,
        /// What that poll returned at `offset`, if anything.
        found: Option<Value>,
    },
    Reordered {
        key: Option<String>,
        earlier: (usize, i64),
        later: (usize, i64),
    },
    InconsistentOffset {
        key: Option<String>,
        offset: i64,
        first: (usize, Value),
        second: (usize, Value),
    },
    Duplicate {
        key: Option<String>,
        msg: Value,
        first: (usize, i64),
        second: (usize, i64),
    },
    Skipped {
        key: Option<String>,
        offset: i64,
        msg: Value,
        send: usize,
        /// The op that saw the committed offset past it, and the offset it saw.
        commit: (usize, i64),
    },
    CommittedBackwards {
        key: Option<String>,
        earlier: (usize, i64),
        later: (usize, Option<i64>),
    },
}

impl Finding {
    /// One of [`KINDS`].
    pub fn kind(&self) -> &'static str {
        match self {
            Finding::Lost { .. } => KINDS[0],
            Finding::Reordered { .. } => KINDS[1],
            Finding::InconsistentOffset { .. } => KINDS[2],
            Finding::Duplicate { .. } => KINDS[3],
            Finding::Skipped { .. } => KINDS[4],
            Finding::CommittedBackwards { .. } => KINDS[5],
        }
    }

    /// The ops it names, in the order its sentence names them.
    pub fn ops(&self) -> Vec<usize> {
        match self {
            Finding::Lost { send, poll, .. } => vec![*send, *poll],
            Finding::Reordered { earlier, later, .. } => vec![earlier.0, later.0],
            Finding::InconsistentOffset { first, second, .. } => vec![first.0, second.0],
            Finding::Duplicate { first, second, .. } => vec![first.0, second.0],
            Finding::Skipped { send, commit, .. } => vec![*send, commit.0],
            Finding::CommittedBackwards { earlier, later, .. } => vec![earlier.0, later.0],
        }
    }

    pub(super) fn key(&self) -> &Option<String> {
        match self {
            Finding::Lost { key, .. }
            | Finding::Reordered { key, .. }
            | Finding::InconsistentOffset { key, .. }
            | Finding::Duplicate { key, .. }
            | Finding::Skipped { key, .. }
            | Finding::CommittedBackwards { key, .. } => key,
        }
    }

    /// The finding in plain words; `name` names an op (`op 12 (client c1)`).
    pub fn sentence(&self, name: &dyn Fn(usize) -> String) -> String {
        let log = match self.key() {
            Some(k) => format!("the log of key {k}"),
            None => "the log".to_string(),
        };
        match self {
            Finding::Lost {
                send,
                offset,
                msg,
                poll,
                found,
                ..
            } => {
                let what = match found {
                    Some(other) => format!("returned message {other} there instead"),
                    None => format!("returned offsets around {offset} but not {offset}"),
                };
                format!(
                    "lost: in {log}, {} sent message {msg} and was told it is at offset \
                     {offset}, but {}, invoked after that, {what}",
                    name(*send),
                    name(*poll)
                )
            }
            Finding::Reordered { earlier, later, .. } => format!(
                "reordered: in {log}, {} got offset {} and completed before {} was invoked, \
                 yet that later send got the smaller offset {}",
                name(earlier.0),
                earlier.1,
                name(later.0),
                later.1
            ),
            Finding::InconsistentOffset {
                offset,
                first,
                second,
                ..
            } => format!(
                "inconsistent offset: in {log}, offset {offset} holds message {} according to \
                 {} but message {} according to {}",
                first.1,
                name(first.0),
                second.1,
                name(second.0)
            ),
            _ => self.group_sentence(&log, name),
        }
    }

    /// The sentence of a finding about one message or about the group's committed offset.
    fn group_sentence(&self, log: &str, name: &dyn Fn(usize) -> String) -> String {
        match self {
            Finding::Duplicate {
                msg, first, second, ..
            } => format!(
                "duplicate: in {log}, message {msg} is at offset {} according to {} and at \
                 offset {} according to {}",
                first.1,
                name(first.0),
                second.1,
                name(second.0)
            ),
            Finding::Skipped {
                offset,
                msg,
                send,
                commit,
                ..
            } => format!(
                "skipped: in {log}, {} saw the group's committed offset at {}, past offset \
                 {offset}, where {} had been told its message {msg} is, but no ok poll ever \
                 returned that message: the group will never process it",
                name(commit.0),
                commit.1,
                name(*send)
            ),
            Finding::CommittedBackwards { earlier, later, .. } => {
                let got = later.1.map_or("nil".to_string(), |o| o.to_string());
                format!(
                    "committed offset went backwards: in {log}, {} saw it at {} and completed \
                     before {} was invoked, which read it as {got}",
                    name(earlier.0),
                    earlier.1,
                    name(later.0)
                )
            }
            // Worded by `sentence` itself, which never comes here for them.
            Finding::Lost { .. }
            | Finding::Reordered { .. }
            | Finding::InconsistentOffset { .. } => self.sentence(name),
        }
    }
}
