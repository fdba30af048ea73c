//! Seeded random fault schedules, for sweeping a protocol over many seeds.
//!
//! Two styles. The classic schedule ([`RandomFaults::all`]) is a sequence of episodes, one
//! after another, each a single fault and its repair: a partition (a random minority split
//! off, or one node isolated) and its heal, a crash and its restart, or a pause and its
//! resume. One episode at a time keeps a majority of a cluster of three or more up and
//! connected between episodes, so a correct protocol must make progress, and every fault is
//! healed before `until`. The swarm schedule ([`RandomFaults::swarm`], what `faultline fuzz`
//! draws) lets each seed choose which kinds are on and how often each strikes, and starts
//! episodes from the first milliseconds (see [`super::swarm`]). Draws come from the run's
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
    /// Slow links (messages held back until the episode ends); swarm schedules only.
    pub clogs: bool,
    /// Clock skew and drift; swarm schedules only.
    pub clocks: bool,
    /// Quiet time before each episode, drawn uniformly from this range. In a swarm schedule,
    /// the range of each kind's longest gap instead.
    pub gap: (SimDuration, SimDuration),
    /// How long each episode lasts, drawn uniformly from this range. In a swarm schedule, the
    /// range of each kind's longest episode instead.
    pub length: (SimDuration, SimDuration),
    /// Every episode is over (healed, restarted, resumed) by this time.
    pub until: SimTime,
    /// Each seed turns each kind above on or off and draws how often it strikes; episodes of
    /// different kinds overlap (see [`super::swarm`]). Off: the classic schedule.
    pub swarm: bool,
    /// What the protocol sends and notes, for a swarm schedule to draw triggered faults from
    /// ([`super::trigger_draw`]); none without it.
    pub vocabulary: Option<super::trigger_draw::Vocabulary>,
}

impl RandomFaults {
    /// The classic schedule of partitions, crashes and pauses, one at a time: gaps of 0.2–1 s,
    /// episodes of 0.2–1.5 s, until `until`.
    pub fn all(until: SimTime) -> RandomFaults {
        RandomFaults {
            partitions: true,
            crashes: true,
            pauses: true,
            clogs: false,
            clocks: false,
            gap: (SimDuration::from_millis(200), SimDuration::from_secs(1)),
            length: (
                SimDuration::from_millis(200),
                SimDuration::from_millis(1500),
            ),
            until,
            swarm: false,
            vocabulary: None,
        }
    }

    /// A swarm schedule of every kind (partitions of every shape, crashes, pauses, clogs and
    /// clock skew) until `until`: each seed turns each kind on with probability 1/2; a kind
    /// that is on strikes after gaps of up to 10 ms to half the span, with episodes of up
    /// to 10 ms to a quarter of it, both drawn log-uniformly from the first microseconds.
    pub fn swarm(until: SimTime) -> RandomFaults {
        let span = until.0.max(40_000_000);
        RandomFaults {
            partitions: true,
            crashes: true,
            pauses: true,
            clogs: true,
            clocks: true,
            gap: (SimDuration::from_millis(10), SimDuration(span / 2)),
            length: (SimDuration::from_millis(10), SimDuration(span / 4)),
            until,
            swarm: true,
            vocabulary: None,
        }
    }
}

/// A kind of fault a random schedule may draw.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Deserialize, serde::Serialize,
)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    Partitions,
    Crashes,
    Pauses,
    Clogs,
    Clocks,
}

impl FaultKind {
    pub const ALL: [FaultKind; 5] = [
        FaultKind::Partitions,
        FaultKind::Crashes,
        FaultKind::Pauses,
        FaultKind::Clogs,
        FaultKind::Clocks,
    ];
}

impl RandomFaults {
    /// The same schedule with only `kinds` left on (a kind already off stays off).
    pub fn only(mut self, kinds: &[FaultKind]) -> RandomFaults {
        self.partitions &= kinds.contains(&FaultKind::Partitions);
        self.crashes &= kinds.contains(&FaultKind::Crashes);
        self.pauses &= kinds.contains(&FaultKind::Pauses);
        self.clogs &= kinds.contains(&FaultKind::Clogs);
        self.clocks &= kinds.contains(&FaultKind::Clocks);
        self
    }
}

/// What `faultline fuzz` draws for a scenario with no faults of its own (`fuzz:` in a
/// scenario file).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FuzzFaults {
    /// The kinds the schedule may hold; `None` for every kind.
    pub kinds: Option<Vec<FaultKind>>,
    /// The classic schedule ([`RandomFaults::fuzz_classic`]) rather than the swarm schedule
    /// ([`RandomFaults::fuzz`]).
    pub classic: bool,
    /// What one calm run of the scenario sent and noted, once [`crate::explore::prepare`]
    /// learnt it: swarm seeds then draw triggered faults from it. Not part of the file.
    pub vocabulary: Option<super::trigger_draw::Vocabulary>,
}

impl FuzzFaults {
    /// The schedule for a run of `duration` whose clients stop issuing operations at
    /// `clients_until` (`None` without clients). Faults end by 70 % of the run, and by 70 %
    /// of the clients' window when the clients stop earlier: a liveness goal such as
    /// `clients_served` is judged on what the clients saw, so their last operations must
    /// meet a calm network, or a storm that outlasts them fails a correct protocol.
    pub fn schedule(&self, duration: SimDuration, clients_until: Option<SimTime>) -> RandomFaults {
        let span = match clients_until {
            Some(until) if until.0 < duration.0 => SimDuration(until.0),
            _ => duration,
        };
        let all = if self.classic {
            RandomFaults::fuzz_classic(span)
        } else {
            RandomFaults::fuzz(span)
        };
        let mut all = match &self.kinds {
            Some(kinds) => all.only(kinds),
            None => all,
        };
        if all.swarm {
            all.vocabulary.clone_from(&self.vocabulary);
        }
        all
    }
}

/// A schedule for `nodes` nodes drawn from `seed`. Empty if no kind is enabled.
pub fn random_schedule(seed: u64, nodes: u32, config: &RandomFaults) -> Vec<TimedFault> {
    if config.swarm {
        return super::swarm::schedule(seed, nodes, config);
    }
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
