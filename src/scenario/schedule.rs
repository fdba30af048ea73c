//! `schedule:`: a scripted order of events, as `faultline explore` writes a counterexample.
//!
//! A scenario with a schedule is not run on its seed: `faultline run` replays its events one by
//! one on the explorer's model of the system ([`crate::exhaustive::Explorer::replay`]), judging the
//! properties after each, so the path is followed exactly on any machine. Each event names the
//! nodes it acts on; a name the scenario does not have is an error at the name.

use super::de::EventNodeRef;
use crate::exhaustive::Event;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

/// Most events in a schedule: a path found by a search is far shorter.
pub const SCHEDULE_MAX: usize = 100_000;

/// `schedule:` as read.
#[derive(Debug, Default)]
pub struct ScheduleList(pub Vec<Event>);

impl<'de> Deserialize<'de> for ScheduleList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let events: Vec<Checked> = Vec::deserialize(d)?;
        if events.len() > SCHEDULE_MAX {
            return Err(D::Error::custom(format!(
                "the schedule has {} events; at most {SCHEDULE_MAX} are allowed",
                events.len()
            )));
        }
        Ok(ScheduleList(events.into_iter().map(|c| c.0).collect()))
    }
}

/// One event, read where the parser still knows its position.
struct Checked(Event);

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let event = EventMap::deserialize(d)?.event();
        event.map(Checked).map_err(D::Error::custom)
    }
}

/// An event as the file writes it: a map with one key, the kind of event.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventMap {
    deliver: Option<MessageFields>,
    duplicate: Option<MessageFields>,
    drop: Option<MessageFields>,
    fire: Option<TimerFields>,
    crash: Option<NodeFields>,
    restart: Option<NodeFields>,
    invoke: Option<ClientFields>,
    resend: Option<ClientFields>,
    timeout: Option<TimeoutFields>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TimeoutFields {
    client: u32,
    op: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientFields {
    client: u32,
    node: EventNodeRef,
    op: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageFields {
    from: EventNodeRef,
    to: EventNodeRef,
    message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TimerFields {
    node: EventNodeRef,
    timer: String,
    due: crate::time::SimDuration,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeFields {
    node: EventNodeRef,
}

impl EventMap {
    fn event(self) -> Result<Event, String> {
        let message = |m: MessageFields| (m.from.0, m.to.0, m.message);
        let mut events = Vec::new();
        if let Some((from, to, message)) = self.deliver.map(message) {
            events.push(Event::Deliver { from, to, message });
        }
        if let Some((from, to, message)) = self.duplicate.map(message) {
            events.push(Event::Duplicate { from, to, message });
        }
        if let Some((from, to, message)) = self.drop.map(message) {
            events.push(Event::Drop { from, to, message });
        }
        if let Some(t) = self.fire {
            events.push(Event::Fire {
                node: t.node.0,
                timer: t.timer,
                due: t.due,
            });
        }
        if let Some(n) = self.crash {
            events.push(Event::Crash { node: n.node.0 });
        }
        if let Some(n) = self.restart {
            events.push(Event::Restart { node: n.node.0 });
        }
        if let Some(c) = self.invoke {
            let (client, node, op) = (c.client, c.node.0, c.op);
            events.push(Event::Invoke { client, node, op });
        }
        if let Some(t) = self.timeout {
            let (client, op) = (t.client, t.op);
            events.push(Event::Timeout { client, op });
        }
        if let Some(c) = self.resend {
            let (client, node, op) = (c.client, c.node.0, c.op);
            events.push(Event::Resend { client, node, op });
        }
        match events.len() {
            1 => Ok(events.remove(0)),
            _ => Err(
                "a scheduled event is a map with one key: `deliver`, `duplicate`, `drop`, \
                      `fire`, `crash`, `restart`, `invoke`, `resend` or `timeout`"
                    .to_string(),
            ),
        }
    }
}

/// The schedule as YAML: one line per event, each a one-key map (`- deliver: {...}`).
pub fn to_yaml(events: &[Event]) -> serde_yaml::Value {
    let json = serde_json::to_value(events).expect("events serialise");
    serde_yaml::to_value(json).expect("JSON values are YAML values")
}
