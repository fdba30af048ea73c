//! Swarm schedules: each seed chooses which kinds of fault are on and how often each strikes
//! (swarm testing, after Groce et al., ISSTA 2012), so some seeds are calm, some are storms,
//! and most sit between.
//!
//! A bug that needs one kind of fault is hidden by a schedule that always mixes every kind
//! at a fixed rate: the other kinds interrupt it, or the rate is wrong for its window. Here a
//! kind is on with probability 1/2 per seed, and a kind that is on draws its own longest gap
//! `G` and longest episode `L` log-uniformly from [`RandomFaults::gap`] and
//! [`RandomFaults::length`]; its gaps and episodes are then drawn log-uniformly from
//! `G/1024..=G` and `L/1024..=L`. The first episode of a kind starts after its first gap, so
//! faults land in a run's first milliseconds as often as in its middle.
//!
//! The episodes themselves are a [`Nemesis`]'s: kinds overlap, crashes and pauses together
//! never stop more than a minority, and everything is repaired by `until`.

use super::TimedFault;
use super::nemesis::{
    Episodes, Nemesis, PartitionMode, SWARM_KINDS, SkewEpisodes, Span, Spread, draw_nemesis,
    kind_rng, log_uniform,
};
use super::random::RandomFaults;
use crate::rng::SimRng;
use crate::time::{SignedDuration, SimDuration};
use rand::RngExt;

/// Octaves between a kind's shortest and longest gap (or episode): 2^10.
const OCTAVES_SPREAD: u32 = 10;
/// Clock offsets a skew episode draws from: up to this far ahead or behind.
const SKEW_OFFSET_NS_MAX: i64 = 500_000_000;
/// Clock rates a skew episode draws from.
const SKEW_DRIFT: Span<f64> = Span {
    low: 0.5,
    high: 1.5,
};

/// Seed `seed`'s swarm schedule for `nodes` nodes, sorted by time.
pub fn schedule(seed: u64, nodes: u32, config: &RandomFaults) -> Vec<TimedFault> {
    draw_nemesis(seed, nodes, &nemesis(seed, config))
}

/// The nemesis seed `seed` chooses: which kinds are on, and their gaps and lengths.
pub fn nemesis(seed: u64, config: &RandomFaults) -> Nemesis {
    let mut rng = kind_rng(seed, SWARM_KINDS);
    // Every kind draws its coin and ranges even when it is off, so one kind's setting never
    // changes what another draws.
    let mut kind = |enabled: bool| {
        let episodes = episodes(&mut rng, config);
        let on = rng.random_bool(0.5);
        (enabled && on).then_some(episodes)
    };
    let partitions = kind(config.partitions).map(|e| (e, PartitionMode::ALL.to_vec()));
    let crashes = kind(config.crashes);
    let pauses = kind(config.pauses);
    let clogs = kind(config.clogs);
    let skew = kind(config.clocks).map(|episodes| SkewEpisodes {
        episodes,
        offset: Span {
            low: SignedDuration(-SKEW_OFFSET_NS_MAX),
            high: SignedDuration(SKEW_OFFSET_NS_MAX),
        },
        drift: SKEW_DRIFT,
    });
    Nemesis {
        until: config.until,
        partitions,
        crashes,
        pauses,
        clogs,
        skew,
    }
}

fn episodes(rng: &mut SimRng, config: &RandomFaults) -> Episodes {
    let (gap_low, gap_high) = config.gap;
    let (length_low, length_high) = config.length;
    let gap_max = log_uniform(rng, gap_low.0, gap_high.0);
    let length_max = log_uniform(rng, length_low.0, length_high.0);
    Episodes {
        every: spread_below(gap_max),
        last: spread_below(length_max),
        spread: Spread::LogUniform,
    }
}

fn spread_below(high: u64) -> Span<SimDuration> {
    Span {
        low: SimDuration((high >> OCTAVES_SPREAD).max(1)),
        high: SimDuration(high),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::Fault;
    use crate::time::SimTime;

    fn kinds_on(n: &Nemesis) -> usize {
        [
            n.partitions.is_some(),
            n.crashes.is_some(),
            n.pauses.is_some(),
            n.clogs.is_some(),
            n.skew.is_some(),
        ]
        .iter()
        .filter(|&&on| on)
        .count()
    }

    #[test]
    fn seeds_range_from_calm_to_storms() {
        let config = RandomFaults::swarm(SimTime::from_secs(7));
        let counts: Vec<usize> = (0..400)
            .map(|seed| kinds_on(&nemesis(seed, &config)))
            .collect();
        assert!(counts.contains(&0), "some seeds are calm");
        assert!(counts.contains(&5), "some seeds have every kind");
        let faults: Vec<usize> = (0..400)
            .map(|seed| schedule(seed, 5, &config).len())
            .collect();
        assert!(faults.iter().any(|&n| n > 200), "some seeds are storms");
    }

    #[test]
    fn some_seeds_strike_in_the_first_milliseconds() {
        let config = RandomFaults::swarm(SimTime::from_secs(3));
        let early = (0..200)
            .filter(|&seed| {
                schedule(seed, 5, &config)
                    .iter()
                    .any(|f| f.at < SimTime::from_millis(20))
            })
            .count();
        assert!(
            early >= 40,
            "{early} of 200 seeds have a fault in the first 20ms"
        );
    }

    #[test]
    fn a_kind_turned_off_leaves_the_others_as_they_were() {
        let all = RandomFaults::swarm(SimTime::from_secs(5));
        let no_clocks = RandomFaults {
            clocks: false,
            ..all.clone()
        };
        for seed in 0..50 {
            let (a, b) = (nemesis(seed, &all), nemesis(seed, &no_clocks));
            assert!(b.skew.is_none());
            assert_eq!(
                (a.partitions, a.crashes, a.clogs),
                (b.partitions, b.crashes, b.clogs)
            );
            let without_skew: Vec<TimedFault> = schedule(seed, 5, &all)
                .into_iter()
                .filter(|f| !matches!(f.fault, Fault::ClockSkew { .. }))
                .collect();
            assert_eq!(without_skew, schedule(seed, 5, &no_clocks));
        }
    }

    #[test]
    fn everything_is_repaired_by_until_and_a_majority_stays_up() {
        let until = SimTime::from_secs(4);
        let config = RandomFaults::swarm(until);
        for seed in 0..100 {
            let faults = schedule(seed, 5, &config);
            assert!(faults.iter().all(|f| f.at <= until), "seed {seed}");
            assert!(faults.windows(2).all(|w| w[0].at <= w[1].at));
            let mut stopped = std::collections::BTreeSet::new();
            for f in &faults {
                match f.fault {
                    Fault::Crash(n) | Fault::Pause(n) => assert!(stopped.insert(n)),
                    Fault::Restart(n) | Fault::Resume(n) => assert!(stopped.remove(&n)),
                    _ => {}
                }
                assert!(stopped.len() <= 2, "seed {seed}: a minority of 5 at most");
            }
            assert!(stopped.is_empty(), "seed {seed}: every node is back");
        }
    }

    #[test]
    fn log_uniform_stays_in_range_and_fills_every_octave() {
        let mut rng = kind_rng(1, 0);
        let mut octaves = [0u32; 11];
        for _ in 0..5_000 {
            let v = log_uniform(&mut rng, 1_000, 1_024_000);
            assert!((1_000..=1_024_000).contains(&v));
            octaves[(v / 1_000).ilog2() as usize] += 1;
        }
        assert!(octaves[..10].iter().all(|&n| n > 300), "{octaves:?}");
    }
}
