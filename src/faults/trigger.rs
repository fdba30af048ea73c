//! Triggered faults: a fault fired by something the run does rather than at a time.
//!
//! A time-scheduled fault lands wherever the clock says, which is rarely the moment a bug
//! needs: the instant a node becomes leader, the third `Accept` of a round, the message
//! between a write and its sync. A [`TriggeredFault`] waits for the `nth` event that matches
//! its [`Trigger`] — a note a node writes ([`crate::Ctx::annotate`]), a message of a given
//! kind sent or delivered — and then either applies a [`Fault`] `after` a delay, or, for a
//! sent message, acts on *that* message (drops, duplicates or delays it). Each fires at most
//! once. A fault may name [`TRIGGER_NODE`] for the node the event happened at (`$node` in a
//! scenario file): the node that wrote the note, or the message's sender (sent) or receiver
//! (delivered).
//!
//! A message's kind is the name its `Debug` form starts with: `AppendEntries` for
//! `AppendEntries { term: 3, .. }`, `Vote` for `Vote(2)`.
//!
//! Like a timed schedule, triggers are plain data: a scenario lists them under `faults:`
//! with `on:` in place of `at:`, a failure file writes them back as they are, and the run
//! replays them exactly, since what fires them is as deterministic as the rest of the run.

use super::{Fault, TimedFault};
use crate::ids::NodeId;
use crate::time::{SimDuration, SimTime};

/// The node a triggered fault acts on when it names the node its trigger fired at.
pub const TRIGGER_NODE: NodeId = NodeId(u32::MAX);
/// Most triggered faults one run holds.
pub const TRIGGERS_MAX: usize = 1_000;
/// Longest note pattern or message kind a trigger matches.
pub const PATTERN_LEN_MAX: usize = 200;

/// What a trigger watches for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Watch {
    /// A note whose text contains this.
    Note(String),
    /// A message of this kind sent (whatever the network then does with it).
    Sent(String),
    /// A message of this kind delivered to its node.
    Delivered(String),
}

/// The event that fires a triggered fault: the `nth` match of `watch`, at `node` if given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trigger {
    pub watch: Watch,
    /// Only events at this node: the note's writer, the sender (sent), the receiver
    /// (delivered).
    pub node: Option<NodeId>,
    /// Fires at the `nth` matching event, counting from 1.
    pub nth: u32,
    /// Only events before this time count; later ones never fire it.
    pub before: Option<SimTime>,
}

/// What a trigger on a sent message may do to that message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageAction {
    /// The network loses it.
    Drop,
    /// It arrives twice: a second copy at the same time as the first.
    Duplicate,
    /// It arrives this much later than the network would have delivered it.
    Delay(SimDuration),
}

/// What a fired trigger does.
#[derive(Clone, Debug, PartialEq)]
pub enum Response {
    /// Applies `fault` this long after the event ([`TRIGGER_NODE`] stands for the event's
    /// node).
    Fault { after: SimDuration, fault: Fault },
    /// Acts on the message whose sending fired the trigger ([`Watch::Sent`] only).
    Message(MessageAction),
}

/// A fault fired by an event of the run.
#[derive(Clone, Debug, PartialEq)]
pub struct TriggeredFault {
    pub trigger: Trigger,
    pub response: Response,
}

impl Watch {
    /// The text it matches: a note's substring or a message kind.
    pub fn pattern(&self) -> &str {
        match self {
            Watch::Note(p) | Watch::Sent(p) | Watch::Delivered(p) => p,
        }
    }

    /// `note`, `sent` or `delivered`, as scenario files write it.
    pub fn name(&self) -> &'static str {
        match self {
            Watch::Note(_) => "note",
            Watch::Sent(_) => "sent",
            Watch::Delivered(_) => "delivered",
        }
    }
}

impl TriggeredFault {
    /// Checks it against a cluster of `node_count` nodes: the trigger's node exists, its
    /// pattern is not empty and at most [`PATTERN_LEN_MAX`] bytes, `nth` is at least 1, a
    /// message action answers a sent message, and the fault passes
    /// [`TimedFault::validate`] with the event's node standing for [`TRIGGER_NODE`]. The
    /// scenario parser and [`crate::SimBuilder::build`] both call it.
    pub fn validate(&self, node_count: u32) -> Result<(), String> {
        let t = &self.trigger;
        if let Some(node) = t.node.filter(|n| n.0 >= node_count) {
            return Err(super::node_out_of_range(node, node_count));
        }
        let pattern = t.watch.pattern();
        if pattern.is_empty() || pattern.len() > PATTERN_LEN_MAX {
            return Err(format!(
                "a trigger's `{}` takes 1 to {PATTERN_LEN_MAX} bytes of text",
                t.watch.name()
            ));
        }
        if t.nth == 0 {
            return Err("a trigger's `nth` counts from 1".into());
        }
        match &self.response {
            Response::Message(_) if !matches!(t.watch, Watch::Sent(_)) => Err(
                "`message:` acts on the message a `sent:` trigger caught; this trigger has none"
                    .into(),
            ),
            Response::Message(_) => Ok(()),
            Response::Fault { fault, .. } => {
                let stand_in = t.node.unwrap_or(NodeId(0));
                let timed = TimedFault {
                    at: SimTime::ZERO,
                    fault: fault.for_node(stand_in),
                };
                if let Fault::Clog { .. } | Fault::Stabilize { .. } = fault {
                    return Err(format!(
                        "a trigger cannot fire a {}; use a timed fault",
                        fault.name()
                    ));
                }
                timed.validate(node_count).map_err(|e| e.to_string())
            }
        }
    }

    /// Whether it names `node`, in its trigger or its fault.
    pub fn names(&self, node: NodeId) -> bool {
        let in_fault = match &self.response {
            Response::Fault { fault, .. } => fault.nodes().contains(&node),
            Response::Message(_) => false,
        };
        self.trigger.node == Some(node) || in_fault
    }

    /// In words, for traces and reports.
    pub fn describe(&self, names: &[String]) -> String {
        let t = &self.trigger;
        let mut at = t
            .node
            .map(|n| format!(" at {}", super::node_name(names, n)))
            .unwrap_or_default();
        if let Some(before) = t.before {
            at.push_str(&format!(" before {before}"));
        }
        let event = match &t.watch {
            Watch::Note(p) => format!("{} note containing \"{p}\"{at}", ordinal(t.nth)),
            Watch::Sent(k) => format!("{} {k} sent{at}", ordinal(t.nth)),
            Watch::Delivered(k) => format!("{} {k} delivered{at}", ordinal(t.nth)),
        };
        let then = match &self.response {
            Response::Fault { after, fault } if after.0 == 0 => fault.describe(names),
            Response::Fault { after, fault } => format!("{} {after} later", fault.describe(names)),
            Response::Message(MessageAction::Drop) => "drop it".into(),
            Response::Message(MessageAction::Duplicate) => "duplicate it".into(),
            Response::Message(MessageAction::Delay(d)) => format!("delay it by {d}"),
        };
        format!("on the {event}: {then}")
    }
}

fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

impl Fault {
    /// The fault with [`TRIGGER_NODE`] replaced by `node`.
    pub fn for_node(&self, node: NodeId) -> Fault {
        let at = |n: NodeId| if n == TRIGGER_NODE { node } else { n };
        match self.clone() {
            Fault::Partition(groups) => {
                // Named both by name and as `TRIGGER_NODE`, the node stays where it is
                // named first; a group left empty goes.
                let mut placed = false;
                let groups = groups
                    .into_iter()
                    .map(|g| {
                        g.into_iter()
                            .map(at)
                            .filter(|&n| {
                                let keep = n != node || !placed;
                                placed |= n == node;
                                keep
                            })
                            .collect::<Vec<_>>()
                    })
                    .filter(|g| !g.is_empty())
                    .collect();
                Fault::Partition(groups)
            }
            Fault::Cut { from, to } => Fault::Cut {
                from: at(from),
                to: at(to),
            },
            Fault::Isolate(n) => Fault::Isolate(at(n)),
            Fault::Heal(n) => Fault::Heal(n.map(at)),
            Fault::Clog { from, to, until } => Fault::Clog {
                from: at(from),
                to: at(to),
                until,
            },
            Fault::Crash(n) => Fault::Crash(at(n)),
            Fault::Restart(n) => Fault::Restart(at(n)),
            Fault::Pause(n) => Fault::Pause(at(n)),
            Fault::Resume(n) => Fault::Resume(at(n)),
            Fault::ClockSkew {
                node: n,
                offset,
                drift,
            } => Fault::ClockSkew {
                node: at(n),
                offset,
                drift,
            },
            Fault::ClockJump { node: n, by } => Fault::ClockJump { node: at(n), by },
            f @ Fault::Stabilize { .. } => f,
        }
    }
}

/// The kind of a message: the identifier its `Debug` form starts with, read without
/// formatting the rest of it.
pub fn message_kind<M: std::fmt::Debug>(msg: &M, buf: &mut String) {
    use std::fmt::Write;
    struct Head<'a>(&'a mut String);
    impl Write for Head<'_> {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            for c in s.chars() {
                if !(c.is_alphanumeric() || c == '_') {
                    return Err(std::fmt::Error);
                }
                if self.0.len() >= PATTERN_LEN_MAX {
                    return Err(std::fmt::Error);
                }
                self.0.push(c);
            }
            Ok(())
        }
    }
    buf.clear();
    // The error is how the writer stops at the first character past the name.
    let _ = write!(Head(buf), "{msg:?}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    #[allow(dead_code)] // read through Debug only
    enum Msg {
        AppendEntries { term: u64 },
        Vote(u32),
        Ping,
    }

    #[test]
    fn a_message_kind_is_the_name_its_debug_form_starts_with() {
        let mut buf = String::new();
        message_kind(&Msg::AppendEntries { term: 3 }, &mut buf);
        assert_eq!(buf, "AppendEntries");
        message_kind(&Msg::Vote(2), &mut buf);
        assert_eq!(buf, "Vote");
        message_kind(&Msg::Ping, &mut buf);
        assert_eq!(buf, "Ping");
        message_kind(&(), &mut buf);
        assert_eq!(buf, "");
    }

    fn crash_on(watch: Watch) -> TriggeredFault {
        TriggeredFault {
            trigger: Trigger {
                watch,
                node: None,
                nth: 1,
                before: None,
            },
            response: Response::Fault {
                after: SimDuration::ZERO,
                fault: Fault::Crash(TRIGGER_NODE),
            },
        }
    }

    #[test]
    fn validation_names_what_is_wrong() {
        assert!(crash_on(Watch::Note("leader".into())).validate(3).is_ok());
        let empty = crash_on(Watch::Sent(String::new()));
        assert!(empty.validate(3).unwrap_err().contains("1 to 200 bytes"));
        let mut zeroth = crash_on(Watch::Note("x".into()));
        zeroth.trigger.nth = 0;
        assert!(zeroth.validate(3).unwrap_err().contains("counts from 1"));
        let mut far = crash_on(Watch::Note("x".into()));
        far.trigger.node = Some(NodeId(5));
        assert!(far.validate(3).unwrap_err().contains("node index 5"));
        let mut dropped_note = crash_on(Watch::Note("x".into()));
        dropped_note.response = Response::Message(MessageAction::Drop);
        assert!(dropped_note.validate(3).unwrap_err().contains("`sent:`"));
        let mut split = crash_on(Watch::Note("x".into()));
        split.response = Response::Fault {
            after: SimDuration::ZERO,
            fault: Fault::Partition(vec![vec![NodeId(1)], vec![NodeId(1), NodeId(2)]]),
        };
        let message = split.validate(3).unwrap_err();
        assert!(message.contains("two partition groups"), "{message}");
        let placed = Fault::Partition(vec![vec![TRIGGER_NODE, NodeId(1)], vec![NodeId(2)]]);
        assert_eq!(
            placed.for_node(NodeId(1)),
            Fault::Partition(vec![vec![NodeId(1)], vec![NodeId(2)]])
        );
        assert_eq!(
            placed.for_node(NodeId(2)),
            Fault::Partition(vec![vec![NodeId(2), NodeId(1)]])
        );
    }

    #[test]
    fn descriptions_say_when_and_what() {
        let names: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let mut t = crash_on(Watch::Sent("Accept".into()));
        t.trigger.nth = 3;
        t.trigger.node = Some(NodeId(1));
        assert_eq!(
            t.describe(&names),
            "on the 3rd Accept sent at b: crash $node"
        );
        t.response = Response::Message(MessageAction::Delay(SimDuration::from_millis(5)));
        assert_eq!(
            t.describe(&names),
            "on the 3rd Accept sent at b: delay it by 5ms"
        );
    }
}
