//! Chases: the node that writes a note is hit, then the next node to write it, and the next.
//!
//! Some bugs need a fault at each of several turns of one event. Raft's Figure 8 needs a
//! leader cut off with one follower while it appends, the next leader cut off alone while it
//! appends, and the leader after that cut off just after it commits; each fault is aimed at
//! whoever leads at that moment, which no timed schedule knows. Jepsen's nemeses partition
//! "the leader" for this reason, but a generic tool does not know what a leader is. A chase
//! knows only what the protocol notes: it picks one note pattern of the calm run's
//! [`Vocabulary`] ("leader of term" for Raft) and, on each of a few successive notes of it,
//! cuts off or stops the node that wrote it, a little after the note, for a while. Episodes
//! overlap as leaders come and go: the earlier leader may come back while the later one is
//! still away, which is the shape of Figure 8.
//!
//! Every fault is repaired by `until`, as every fault of a random schedule is: each episode
//! counts only notes early enough for its repair to land by then.

use super::Fault;
use super::nemesis::{SWARM_KINDS, kind_rng, log_uniform};
use super::random::RandomFaults;
use super::trigger::{Response, TRIGGER_NODE, Trigger, TriggeredFault, Watch};
use super::trigger_draw::{Vocabulary, minority_with_event_node, reach};
use crate::rng::SimRng;
use crate::time::{SimDuration, SimTime};
use rand::RngExt;

/// The chance that a seed chases, when it can.
pub const CHASE_CHANCE: f64 = 0.3;
/// The chance that a chase starts at the pattern's first note rather than a later one: the
/// first turns of a run (the first leaders) are where most chases find something.
const FIRST_NOTE_CHANCE: f64 = 0.75;
/// Fewest and most successive notes a chase hits.
pub const EPISODES_MIN: u32 = 3;
pub const EPISODES_MAX: u32 = 6;
/// An episode starts at its note or up to a sixteenth of the schedule after it, and lasts an
/// eighth to a third of the schedule: long enough for the rest of the cluster to move on
/// (elect again, time out) while the node is away, short enough for several to overlap.
const START_SHARE_MAX: u64 = 16;
const LENGTH_SHARE_MIN: u64 = 8;
const LENGTH_SHARE_MAX: u64 = 3;

/// Whether seed `seed` chases: its coin says so, the calm run wrote a note, and `config` is a
/// swarm schedule that allows a kind a chase uses (partitions, crashes, pauses). A seed that
/// chases draws no timed faults and no other triggered ones ([`super::Draw`]).
pub fn chases(seed: u64, nodes: u32, config: &RandomFaults, vocabulary: &Vocabulary) -> bool {
    coin(seed, nodes, config, vocabulary).1
}

fn coin(seed: u64, nodes: u32, config: &RandomFaults, vocabulary: &Vocabulary) -> (SimRng, bool) {
    let mut rng = kind_rng(seed, SWARM_KINDS + 2);
    let heads = rng.random_bool(CHASE_CHANCE);
    let can = config.swarm && (config.partitions || config.crashes || config.pauses);
    (
        rng,
        heads && can && !vocabulary.notes.is_empty() && nodes >= 2,
    )
}

/// Seed `seed`'s chase for `nodes` nodes under `config`, from `vocabulary`'s notes: none when
/// it does not chase ([`chases`]).
pub fn draw(
    seed: u64,
    nodes: u32,
    config: &RandomFaults,
    vocabulary: &Vocabulary,
) -> Vec<TriggeredFault> {
    let (mut rng, on) = coin(seed, nodes, config, vocabulary);
    if !on {
        return Vec::new();
    }
    let (pattern, count) = &vocabulary.notes[rng.random_range(0..vocabulary.notes.len())];
    let first = if rng.random_bool(FIRST_NOTE_CHANCE) {
        1
    } else {
        log_uniform(&mut rng, 1, reach(*count))
    };
    let episodes = rng.random_range(EPISODES_MIN..=EPISODES_MAX);
    let span = config.until.0;
    let mut out = Vec::new();
    for turn in 0..u64::from(episodes) {
        let start = if rng.random_bool(0.5) {
            0
        } else {
            log_uniform(&mut rng, 1_000_000, span / START_SHARE_MAX)
        };
        let length = log_uniform(&mut rng, span / LENGTH_SHARE_MIN, span / LENGTH_SHARE_MAX);
        let Some(before) = span.checked_sub(start + length).filter(|&b| b > 0) else {
            continue;
        };
        let trigger = Trigger {
            watch: Watch::Note(pattern.clone()),
            node: None,
            nth: (first + turn).min(u64::from(u32::MAX)) as u32,
            before: Some(SimTime(before)),
        };
        let (hit, repairs) = hit(&mut rng, nodes, config);
        let fault = |after: u64, fault: Fault| TriggeredFault {
            trigger: trigger.clone(),
            response: Response::Fault {
                after: SimDuration(after),
                fault,
            },
        };
        out.push(fault(start, hit));
        out.extend(repairs.into_iter().map(|r| fault(start + length, r)));
    }
    out
}

/// What happens to the node that wrote the note, and what repairs it: cut off alone or with a
/// minority, when partitions are allowed, else crashed or paused.
fn hit(rng: &mut SimRng, nodes: u32, config: &RandomFaults) -> (Fault, Vec<Fault>) {
    let node = TRIGGER_NODE;
    if config.partitions {
        if rng.random_bool(0.5) {
            return (Fault::Isolate(node), vec![Fault::Heal(Some(node))]);
        }
        let group = minority_with_event_node(rng, nodes);
        // Each member is healed alone, so an episode still running elsewhere (the
        // previous node chased, still isolated) goes on.
        let repairs = group.iter().map(|&n| Fault::Heal(Some(n))).collect();
        return (Fault::Partition(vec![group]), repairs);
    }
    let crash = config.crashes && (!config.pauses || rng.random_bool(0.5));
    if crash {
        (Fault::Crash(node), vec![Fault::Restart(node)])
    } else {
        (Fault::Pause(node), vec![Fault::Resume(node)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocabulary() -> Vocabulary {
        Vocabulary {
            sent: vec![("Append".into(), 400)],
            notes: vec![("leader of term".into(), 1)],
        }
    }

    fn chases(config: &RandomFaults) -> Vec<Vec<TriggeredFault>> {
        (0..300)
            .map(|s| draw(s, 5, config, &vocabulary()))
            .collect()
    }

    #[test]
    fn a_chase_hits_successive_notes_and_repairs_by_until() {
        let config = RandomFaults::swarm(SimTime::from_secs(2));
        let drawn = chases(&config);
        let on = drawn.iter().filter(|d| !d.is_empty()).count();
        assert!((60..=120).contains(&on), "{on} of 300 seeds chase");
        for chase in drawn.iter().filter(|d| !d.is_empty()) {
            let mut turns: Vec<u32> = chase.iter().map(|t| t.trigger.nth).collect();
            turns.dedup();
            assert!(turns.windows(2).all(|w| w[1] == w[0] + 1), "{turns:?}");
            for t in chase {
                t.validate(5).expect("valid");
                assert_eq!(t.trigger.watch, Watch::Note("leader of term".into()));
                let Response::Fault { after, .. } = t.response else {
                    panic!("a chase acts on nodes: {t:?}");
                };
                let before = t.trigger.before.expect("a deadline");
                assert!(before + after <= config.until);
            }
            let hits = chase.iter().filter(|t| !is_repair(t)).count();
            assert!((1..=EPISODES_MAX as usize).contains(&hits));
        }
        assert_eq!(drawn[7], draw(7, 5, &config, &vocabulary()));
    }

    fn is_repair(t: &TriggeredFault) -> bool {
        matches!(
            t.response,
            Response::Fault {
                fault: Fault::Heal(_) | Fault::Restart(_) | Fault::Resume(_),
                ..
            }
        )
    }

    #[test]
    fn a_chase_uses_only_the_kinds_allowed() {
        let no_cuts = RandomFaults {
            partitions: false,
            pauses: false,
            ..RandomFaults::swarm(SimTime::from_secs(2))
        };
        let faults: Vec<Fault> = chases(&no_cuts)
            .into_iter()
            .flatten()
            .map(|t| match t.response {
                Response::Fault { fault, .. } => fault,
                Response::Message(_) => panic!("a chase acts on nodes"),
            })
            .collect();
        assert!(!faults.is_empty());
        let crashes = |f: &Fault| matches!(f, Fault::Crash(_) | Fault::Restart(_));
        assert!(faults.iter().all(crashes), "{faults:?}");
        let none = RandomFaults {
            crashes: false,
            ..no_cuts
        };
        assert!(chases(&none).iter().all(Vec::is_empty));
        let silent = Vocabulary {
            notes: Vec::new(),
            ..vocabulary()
        };
        let config = RandomFaults::swarm(SimTime::from_secs(2));
        assert!((0..100).all(|s| draw(s, 5, &config, &silent).is_empty()));
    }
}
