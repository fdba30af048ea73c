//! Triggered `faults:` entries: `{ on: { sent: Accept, nth: 2 }, message: drop }` or
//! `{ on: { note: "leader of term" }, after: 5ms, isolate: $node }`.
//!
//! Checked by [`TriggeredFault::validate`], the check [`crate::SimBuilder::build`] makes too,
//! with the same words.

use super::context::inspect;
use super::de::{NodeRef, TRIGGER_NODE_NAME};
use super::faults::{FaultAction, FaultFields, actions, to_fault};
use crate::faults::trigger::TRIGGER_NODE;
use crate::faults::{MessageAction, Response, Trigger, TriggeredFault, Watch};
use crate::process::NodeId;
use crate::time::{SimDuration, SimTime};
use serde::Deserialize;
use serde::de::{self, Deserializer};

/// `on:` of a triggered fault.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OnFields {
    note: Option<String>,
    sent: Option<String>,
    delivered: Option<String>,
    node: Option<NodeRef>,
    nth: Option<u32>,
    before: Option<SimTime>,
}

/// `message: drop`, `message: duplicate` or `message: { delay: 5ms }`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct MessageSpec(MessageAction);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DelayFields {
    delay: SimDuration,
}

impl<'de> Deserialize<'de> for MessageSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Word(String),
            Delay(DelayFields),
        }
        let expecting = "`drop`, `duplicate` or `{ delay: <duration> }`";
        match Either::deserialize(d) {
            Ok(Either::Word(w)) if w == "drop" => Ok(MessageSpec(MessageAction::Drop)),
            Ok(Either::Word(w)) if w == "duplicate" => Ok(MessageSpec(MessageAction::Duplicate)),
            Ok(Either::Delay(f)) if f.delay.0 > 0 => Ok(MessageSpec(MessageAction::Delay(f.delay))),
            Ok(Either::Delay(_)) => Err(de::Error::custom("a delay must be longer than 0s")),
            Ok(Either::Word(w)) => Err(de::Error::custom(format!(
                "`{w}` is not a message action; expected {expecting}"
            ))),
            Err(_) => Err(de::Error::custom(format!("expected {expecting}"))),
        }
    }
}

/// What a fired trigger does, nodes by name.
#[derive(Debug, Clone, PartialEq)]
pub enum TriggerAction {
    Fault {
        after: SimDuration,
        action: FaultAction,
    },
    Message(MessageAction),
}

/// One triggered fault, by node names.
#[derive(Debug, Clone, PartialEq)]
pub struct TriggerSpec {
    pub watch: Watch,
    pub node: Option<String>,
    pub nth: u32,
    pub before: Option<SimTime>,
    pub action: TriggerAction,
}

/// Reads a `faults:` entry that has `on:`.
pub(super) fn convert(mut f: FaultFields) -> Result<TriggerSpec, String> {
    if f.at_is_set() {
        return Err("a fault has `at: <time>` or `on: <trigger>`, not both".into());
    }
    let on = f.take_on().expect("called for an entry with `on:`");
    let watches = [
        on.note.map(Watch::Note),
        on.sent.map(Watch::Sent),
        on.delivered.map(Watch::Delivered),
    ];
    let mut watches = watches.into_iter().flatten();
    let (Some(watch), None) = (watches.next(), watches.next()) else {
        return Err("`on:` watches exactly one of `note`, `sent` or `delivered`".into());
    };
    let node = on.node.map(|n| n.0);
    if node.as_deref() == Some(TRIGGER_NODE_NAME) {
        return Err(format!(
            "`on.node` names a node of the scenario; `{TRIGGER_NODE_NAME}` is what the trigger finds"
        ));
    }
    let message = f.take_message();
    let after = f.take_after();
    let mut listed = actions(SimTime::ZERO, f)?;
    if let Some(FaultAction::Region(r)) =
        listed.iter().find(|a| matches!(a, FaultAction::Region(_)))
    {
        return Err(format!(
            "`{}` is a region fault, which takes `at:`; a triggered fault acts on nodes",
            r.name()
        ));
    }
    let action = match (message, listed.len()) {
        (Some(m), 0) if after.is_none() => TriggerAction::Message(m.0),
        (Some(_), 0) => return Err("`after` delays a fault; a `message:` acts at once".into()),
        (None, 1) => TriggerAction::Fault {
            after: after.unwrap_or_default(),
            action: listed.pop().expect("one action"),
        },
        _ => {
            return Err(format!(
                "a triggered fault has `on` and exactly one action ({}, or `message:`)",
                super::schema::fault_actions()
            ));
        }
    };
    let spec = TriggerSpec {
        watch,
        node,
        nth: on.nth.unwrap_or(1),
        before: on.before,
        action,
    };
    inspect(|c| spec.validate(&c.nodes)).unwrap_or(Ok(()))?;
    if let TriggerAction::Fault { after, .. } = &spec.action
        && let Some(end) = inspect(|c| c.duration_ns).filter(|&end| after.0 > end)
    {
        return Err(format!(
            "`after: {after}` is longer than the whole run (duration {})",
            SimDuration(end)
        ));
    }
    Ok(spec)
}

impl TriggerSpec {
    /// [`TriggeredFault::validate`] on the triggered fault it stands for, among `names`.
    fn validate(&self, names: &[String]) -> Result<(), String> {
        let id = |name: &str| match names.iter().position(|n| n == name) {
            Some(i) => NodeId(i as u32),
            None if name == TRIGGER_NODE_NAME => TRIGGER_NODE,
            None => NodeId(names.len() as u32),
        };
        self.to_triggered(&id).validate(names.len() as u32)
    }

    /// The triggered fault, with node names resolved by `id` (`$node` included).
    pub(super) fn to_triggered(&self, id: &dyn Fn(&str) -> NodeId) -> TriggeredFault {
        let response = match &self.action {
            TriggerAction::Message(m) => Response::Message(*m),
            TriggerAction::Fault { after, action } => Response::Fault {
                after: *after,
                fault: to_fault(action, id)
                    .expect("a region fault is refused in a triggered fault as it is read"),
            },
        };
        TriggeredFault {
            trigger: Trigger {
                watch: self.watch.clone(),
                node: self.node.as_deref().map(id),
                nth: self.nth,
                before: self.before,
            },
            response,
        }
    }
}
