//! Triggered faults drawn per seed, from what the protocol itself sends and notes.
//!
//! A timed schedule hits the moments that matter only by chance; a trigger waits for them.
//! [`Vocabulary`] is what one calm run of a scenario showed: the kinds of message its nodes
//! sent and the notes they wrote (with digits cut off, so "leader of term 3" becomes
//! "leader of term"), each with how often it happened. A seed whose swarm turns triggers on
//! draws a few triggered faults from it ([`draw`]): on the nth message of a kind sent, or the
//! nth note of a pattern, crash, pause or isolate the node it happened at and repair it a
//! little later, or drop, duplicate or delay that message. Every trigger counts only events
//! before `until` minus the longest repair delay, so each fault is repaired by `until`, as
//! every other fault of a random schedule is.

use super::Fault;
use super::nemesis::{SWARM_KINDS, kind_rng, log_uniform};
use super::random::RandomFaults;
use super::trigger::{MessageAction, Response, TRIGGER_NODE, Trigger, TriggeredFault, Watch};
use crate::rng::SimRng;
use crate::time::{SimDuration, SimTime};
use rand::RngExt;

/// Most message kinds, and most note patterns, a vocabulary keeps.
pub const WORDS_MAX: usize = 64;
/// Most triggered episodes a seed draws.
pub const EPISODES_MAX: u32 = 4;
/// The shortest repair delay; the longest is a sixteenth of the schedule's span, at least
/// [`REPAIR_NS_MAX_LOW`]. Delays are drawn log-uniformly between.
const REPAIR_NS_MIN: u64 = 1_000_000;
const REPAIR_NS_MAX_LOW: u64 = 200_000_000;

/// What a calm run of a scenario sent and noted, each with how often; sorted by text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Vocabulary {
    pub sent: Vec<(String, u32)>,
    pub notes: Vec<(String, u32)>,
}

impl Vocabulary {
    pub fn is_empty(&self) -> bool {
        self.sent.is_empty() && self.notes.is_empty()
    }
}

/// A note's text as a pattern: up to its first digit, trimmed; `None` when nothing is left.
pub fn note_pattern(text: &str) -> Option<&str> {
    let head = text
        .split(|c: char| c.is_ascii_digit())
        .next()
        .unwrap_or("");
    let head = head.trim_end_matches(|c: char| !c.is_alphanumeric()).trim();
    (!head.is_empty()).then_some(head)
}

/// Seed `seed`'s triggered faults for `nodes` nodes under `config`, from `vocabulary`: none
/// when the seed's coin leaves triggers off or the vocabulary is empty.
pub fn draw(
    seed: u64,
    nodes: u32,
    config: &RandomFaults,
    vocabulary: &Vocabulary,
) -> Vec<TriggeredFault> {
    let mut rng = kind_rng(seed, SWARM_KINDS + 1);
    let on = rng.random_bool(0.5);
    let episodes = rng.random_range(1..=EPISODES_MAX);
    let repair_ns_max = (config.until.0 / 16).max(REPAIR_NS_MAX_LOW);
    let before = SimTime(config.until.0.saturating_sub(repair_ns_max));
    if !on || vocabulary.is_empty() || nodes == 0 || before == SimTime::ZERO {
        return Vec::new();
    }
    let mut out = Vec::new();
    for _ in 0..episodes {
        let (watch, count) = pick_watch(&mut rng, vocabulary);
        let trigger = Trigger {
            watch,
            node: None,
            nth: log_uniform(&mut rng, 1, reach(count)).min(u64::from(u32::MAX)) as u32,
            before: Some(before),
        };
        let delay = SimDuration(log_uniform(&mut rng, REPAIR_NS_MIN, repair_ns_max));
        out.extend(episode(&mut rng, trigger, delay, nodes, config));
    }
    out
}

/// How far a trigger counts an event that a calm run showed `count` times: faults make a
/// protocol do more (elect again, resend), so the calm count undercounts what a faulty run
/// reaches.
pub(super) fn reach(count: u32) -> u64 {
    u64::from(count).saturating_mul(2).max(4)
}

fn pick_watch(rng: &mut SimRng, v: &Vocabulary) -> (Watch, u32) {
    let use_notes = v.sent.is_empty() || (!v.notes.is_empty() && rng.random_bool(0.5));
    let list = if use_notes { &v.notes } else { &v.sent };
    let (text, count) = &list[rng.random_range(0..list.len())];
    let watch = if use_notes {
        Watch::Note(text.clone())
    } else {
        Watch::Sent(text.clone())
    };
    (watch, *count)
}

/// The faults of one episode: a fault on the event's node and its repair, or an action on
/// the message; of the kinds `config` allows (messages dropped count as partitions, delayed
/// or duplicated ones as clogs).
fn episode(
    rng: &mut SimRng,
    trigger: Trigger,
    delay: SimDuration,
    nodes: u32,
    config: &RandomFaults,
) -> Vec<TriggeredFault> {
    let on_message = matches!(trigger.watch, Watch::Sent(_));
    let choice = rng.random_range(0..7u32);
    let minority = minority_with_event_node(rng, nodes);
    let node = TRIGGER_NODE;
    let pair = |start: Fault, repair: Fault| {
        vec![
            fault(trigger.clone(), SimDuration::ZERO, start),
            fault(trigger.clone(), delay, repair),
        ]
    };
    let message = |action| {
        vec![TriggeredFault {
            trigger: trigger.clone(),
            response: Response::Message(action),
        }]
    };
    match choice {
        0 if config.crashes => pair(Fault::Crash(node), Fault::Restart(node)),
        1 if config.pauses => pair(Fault::Pause(node), Fault::Resume(node)),
        2 if config.partitions => pair(Fault::Isolate(node), Fault::Heal(Some(node))),
        3 if on_message && config.partitions => message(MessageAction::Drop),
        4 if on_message && config.clogs => message(MessageAction::Delay(delay)),
        5 if on_message && config.clogs => message(MessageAction::Duplicate),
        6 if config.partitions => pair(Fault::Partition(vec![minority]), Fault::Heal(None)),
        _ => Vec::new(),
    }
}

/// The event's node and up to `(nodes - 1) / 2 - 1` others drawn now: a minority to cut off
/// together (the rest form the other side). A drawn node that turns out to be the event's
/// node is merged into it when the fault fires ([`Fault::for_node`]).
pub(super) fn minority_with_event_node(rng: &mut SimRng, nodes: u32) -> Vec<super::NodeId> {
    let size = rng.random_range(1..=((nodes.saturating_sub(1)) / 2).max(1));
    let mut group = vec![TRIGGER_NODE];
    for _ in 1..size {
        let other = super::NodeId(rng.random_range(0..nodes));
        if !group.contains(&other) {
            group.push(other);
        }
    }
    group
}

fn fault(trigger: Trigger, after: SimDuration, fault: Fault) -> TriggeredFault {
    TriggeredFault {
        trigger,
        response: Response::Fault { after, fault },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocabulary() -> Vocabulary {
        Vocabulary {
            sent: vec![("Append".into(), 400), ("Vote".into(), 6)],
            notes: vec![("leader of term".into(), 2)],
        }
    }

    #[test]
    fn notes_become_patterns_without_their_numbers() {
        assert_eq!(note_pattern("leader of term 3"), Some("leader of term"));
        assert_eq!(note_pattern("tx 4: decided commit"), Some("tx"));
        assert_eq!(note_pattern("view 2 begins"), Some("view"));
        assert_eq!(note_pattern("42"), None);
    }

    #[test]
    fn seeds_draw_triggers_on_what_the_protocol_does_and_repair_by_until() {
        let config = RandomFaults::swarm(SimTime::from_secs(3));
        let v = vocabulary();
        let drawn: Vec<Vec<TriggeredFault>> = (0..200).map(|s| draw(s, 5, &config, &v)).collect();
        let with = drawn.iter().filter(|d| !d.is_empty()).count();
        assert!(
            (60..=140).contains(&with),
            "{with} of 200 seeds have triggers"
        );
        for t in drawn.iter().flatten() {
            t.validate(5).expect("valid");
            let before = t.trigger.before.expect("a deadline");
            if let Response::Fault { after, .. } = t.response {
                assert!(before + after <= config.until);
            }
            let known = ["Append", "Vote", "leader of term"];
            assert!(known.contains(&t.trigger.watch.pattern()));
        }
        assert_eq!(draw(7, 5, &config, &v), draw(7, 5, &config, &v));
    }

    #[test]
    fn kinds_turned_off_are_never_drawn() {
        let config = RandomFaults {
            crashes: false,
            pauses: false,
            ..RandomFaults::swarm(SimTime::from_secs(3))
        };
        for seed in 0..200 {
            for t in draw(seed, 5, &config, &vocabulary()) {
                if let Response::Fault { fault, .. } = t.response {
                    let cut = matches!(
                        fault,
                        Fault::Isolate(_) | Fault::Partition(_) | Fault::Heal(_)
                    );
                    assert!(cut, "{fault:?}");
                }
            }
        }
        assert!(draw(1, 5, &config, &Vocabulary::default()).is_empty());
    }
}
