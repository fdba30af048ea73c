//! Seeded random fault schedules, for sweeping a protocol over many seeds in tests.
//!
//! The schedule is a sequence of episodes, one after another, each a single fault and its
//! repair: a partition (a random minority split off, or one node isolated) and its heal, a
//! crash and its restart, or a pause and its resume. One episode at a time keeps a majority
//! of a cluster of three or more up and connected between episodes, so a correct protocol
//! must make progress, and every fault is healed before `until`. Draws come from the run's
//! faults stream ([`crate::rng::Stream::Faults`]); the result is plain data, like a scripted
//! schedule.

use super::{Fault, TimedFault};
use crate::ids::NodeId;
use crate::rng::{Stream, stream};
use crate::time::{SimDuration, SimTime};
use rand::RngExt;

/// Most episodes one schedule holds.
pub const EPISODES_MAX: usize = 10_000;

/// What a random schedule may contain, and when.
#[derive(Clone, Debug, PartialEq)]
pub struct RandomFaults {
    pub partitions: bool,
    pub crashes: bool,
    pub pauses: bool,
    /// Quiet time before each episode, drawn uniformly from this range.
    pub gap: (SimDuration, SimDuration),
    /// How long each episode lasts, drawn uniformly from this range.
    pub length: (SimDuration, SimDuration),
    /// Every episode is over (healed, restarted, resumed) by this time.
    pub until: SimTime,
}

impl RandomFaults {
    /// Partitions, crashes and pauses: gaps of 0.2–1 s, episodes of 0.2–1.5 s, until `until`.
    pub fn all(until: SimTime) -> RandomFaults {
        RandomFaults {
            partitions: true,
            crashes: true,
            pauses: true,
            gap: (SimDuration::from_millis(200), SimDuration::from_secs(1)),
            length: (
                SimDuration::from_millis(200),
                SimDuration::from_millis(1500),
            ),
            until,
        }
    }
}

/// A schedule for `nodes` nodes drawn from `seed`. Empty if no kind is enabled.
pub fn random_schedule(seed: u64, nodes: u32, config: &RandomFaults) -> Vec<TimedFault> {
    let mut rng = stream(seed, Stream::Faults);
    let kinds: Vec<u8> = [
        (config.partitions, 0),
        (config.crashes, 1),
        (config.pauses, 2),
    ]
    .into_iter()
    .filter(|&(on, _)| on)
    .map(|(_, k)| k)
    .collect();
    let mut faults = Vec::new();
    let mut now = SimTime::ZERO;
    if kinds.is_empty() || nodes == 0 {
        return faults;
    }
    let span = |rng: &mut crate::rng::SimRng, (lo, hi): (SimDuration, SimDuration)| {
        SimDuration(rng.random_range(lo.0..=hi.0.max(lo.0)))
    };
    for _ in 0..EPISODES_MAX {
        let start = now + span(&mut rng, config.gap);
        let end = start + span(&mut rng, config.length).max(SimDuration(1));
        if end > config.until {
            break;
        }
        let kind = kinds[rng.random_range(0..kinds.len())];
        let node = NodeId(rng.random_range(0..nodes));
        let (begin, repair) = match kind {
            0 => (partition(&mut rng, nodes, node), Fault::Heal(None)),
            1 => (Fault::Crash(node), Fault::Restart(node)),
            _ => (Fault::Pause(node), Fault::Resume(node)),
        };
        faults.push(TimedFault {
            at: start,
            fault: begin,
        });
        faults.push(TimedFault {
            at: end,
            fault: repair,
        });
        now = end;
    }
    faults
}

/// Half the time `node` alone is isolated; otherwise a random minority including it is split
/// from the rest.
fn partition(rng: &mut crate::rng::SimRng, nodes: u32, node: NodeId) -> Fault {
    if nodes < 3 || rng.random_bool(0.5) {
        return Fault::Isolate(node);
    }
    let minority_max = (nodes - 1) / 2;
    let size = rng.random_range(1..=minority_max);
    let mut minority = vec![node];
    while (minority.len() as u32) < size {
        let other = NodeId(rng.random_range(0..nodes));
        if !minority.contains(&other) {
            minority.push(other);
        }
    }
    minority.sort();
    let rest = (0..nodes)
        .map(NodeId)
        .filter(|n| !minority.contains(n))
        .collect();
    Fault::Partition(vec![minority, rest])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn episodes_do_not_overlap_and_end_in_time() {
        let config = RandomFaults::all(SimTime::from_secs(20));
        let faults = random_schedule(7, 5, &config);
        assert!(faults.len() >= 10, "{}", faults.len());
        for pair in faults.chunks(2) {
            assert!(pair[0].at < pair[1].at);
            let repaired = match (&pair[0].fault, &pair[1].fault) {
                (Fault::Crash(a), Fault::Restart(b)) | (Fault::Pause(a), Fault::Resume(b)) => {
                    a == b
                }
                (Fault::Partition(_) | Fault::Isolate(_), Fault::Heal(None)) => true,
                _ => false,
            };
            assert!(repaired, "{pair:?}");
        }
        assert!(faults.windows(2).all(|w| w[0].at <= w[1].at));
        assert!(faults.last().unwrap().at <= config.until);
    }

    #[test]
    fn partitions_split_off_a_minority() {
        let config = RandomFaults {
            crashes: false,
            pauses: false,
            ..RandomFaults::all(SimTime::from_secs(60))
        };
        for f in random_schedule(3, 5, &config) {
            if let Fault::Partition(groups) = f.fault {
                assert!(groups[0].len() <= 2 && groups[1].len() >= 3, "{groups:?}");
            }
        }
    }

    #[test]
    fn same_seed_same_schedule() {
        let config = RandomFaults::all(SimTime::from_secs(10));
        assert_eq!(
            random_schedule(1, 3, &config),
            random_schedule(1, 3, &config)
        );
        assert_ne!(
            random_schedule(1, 3, &config),
            random_schedule(2, 3, &config)
        );
    }
}
