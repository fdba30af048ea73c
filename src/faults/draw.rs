//! What one seed draws: random faults, a nemesis's episodes and swarm settings, turned into a
//! plain fault list and network. Every sweep draws through [`Draw::apply`] — `faultline fuzz`,
//! scenario sweeps ([`crate::explore::draw`], [`crate::scenario::Scenario::materialize`]) and
//! builder sweeps ([`crate::testing::BuilderSweep`]) — so a seed means the same run in each.

use super::TimedFault;
use super::nemesis::{Nemesis, Swarm, apply_swarm, draw_nemesis};
use super::random::{RandomFaults, random_schedule};
use crate::net::NetworkConfig;
use crate::time::{SimDuration, SimTime};

/// The random parts of a run, drawn per seed. The empty `Draw` (the default) draws nothing.
///
/// ```
/// use faultline::faults::{Draw, RandomFaults, Swarm, nemesis::Span};
/// use faultline::{NetworkConfig, SimTime};
///
/// let draw = Draw {
///     random: Some(RandomFaults::all(SimTime::from_secs(7))),
///     swarm: Some(Swarm { drop: Some(Span { low: 0.0, high: 0.1 }), ..Swarm::default() }),
///     ..Draw::default()
/// };
/// let (mut faults, mut network) = (Vec::new(), NetworkConfig::default());
/// draw.apply(4, 3, &mut faults, &mut network);
/// assert!(!faults.is_empty());
/// assert!((0.0..=0.1).contains(&network.default.drop));
/// // The same seed draws the same faults and network, wherever it is drawn.
/// let (mut again, mut network_again) = (Vec::new(), NetworkConfig::default());
/// draw.apply(4, 3, &mut again, &mut network_again);
/// assert_eq!((faults, network), (again, network_again));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Draw {
    /// A random schedule ([`random_schedule`]) that replaces every fault but a liveness
    /// phase ([`super::Fault::Stabilize`]), and ends by the phase's start.
    pub random: Option<RandomFaults>,
    /// Episodes ([`draw_nemesis`]) merged with the faults by time, before a liveness phase.
    pub nemesis: Option<Nemesis>,
    /// Settings ([`apply_swarm`]) drawn for the default link.
    pub swarm: Option<Swarm>,
}

impl Draw {
    /// Whether the draw leaves every run as it is.
    pub fn is_empty(&self) -> bool {
        self.random.is_none() && self.nemesis.is_none() && self.swarm.is_none()
    }

    /// Draws seed `seed`'s faults for `nodes` nodes into `faults` (which holds the scripted
    /// ones) and its settings into `network`'s default link: random faults first, then the
    /// nemesis, then the swarm, each from its own stream of the seed.
    pub fn apply(
        &self,
        seed: u64,
        nodes: u32,
        faults: &mut Vec<TimedFault>,
        network: &mut NetworkConfig,
    ) {
        if let Some(config) = &self.random {
            let phase: Vec<TimedFault> = faults
                .iter()
                .filter(|f| f.is_liveness_phase())
                .cloned()
                .collect();
            let mut config = config.clone();
            if let Some(first) = phase.iter().map(|f| f.at).min() {
                config.until = SimTime(config.until.0.min(first.0));
            }
            // A chase's cuts are healed node by node; a timed heal of everything would end
            // them early, so a seed that chases draws no timed faults.
            let chasing = config
                .vocabulary
                .as_ref()
                .is_some_and(|v| super::chase::chases(seed, nodes, &config, v));
            *faults = if chasing {
                Vec::new()
            } else {
                random_schedule(seed, nodes, &config)
            };
            faults.extend(phase);
        }
        if let Some(nemesis) = &self.nemesis {
            let (phase, mut merged): (Vec<TimedFault>, Vec<TimedFault>) = std::mem::take(faults)
                .into_iter()
                .partition(TimedFault::is_liveness_phase);
            merged.extend(draw_nemesis(seed, nodes, nemesis));
            // A stable sort: scripted faults stay first among faults at the same instant.
            merged.sort_by_key(|f| f.at);
            merged.extend(phase);
            *faults = merged;
        }
        if let Some(swarm) = &self.swarm {
            apply_swarm(seed, swarm, &mut network.default);
        }
    }
}

impl Draw {
    /// Seed `seed`'s triggered faults for `nodes` nodes: those a swarm schedule with a
    /// vocabulary draws: a chase ([`super::chase::draw`]) when the seed chases, else
    /// [`super::trigger_draw::draw`]'s; none otherwise.
    pub fn triggers(&self, seed: u64, nodes: u32) -> Vec<super::TriggeredFault> {
        match &self.random {
            Some(config) if config.swarm => match &config.vocabulary {
                Some(v) if super::chase::chases(seed, nodes, config, v) => {
                    super::chase::draw(seed, nodes, config, v)
                }
                Some(v) => super::trigger_draw::draw(seed, nodes, config, v),
                None => Vec::new(),
            },
            _ => Vec::new(),
        }
    }
}

impl RandomFaults {
    /// The random faults `faultline fuzz` draws for a run of `duration`: a swarm schedule
    /// ([`RandomFaults::swarm`]) of partitions, crashes, pauses, clogs and clock skew over its
    /// first 70 %, leaving a quiet tail for the protocol to finish.
    pub fn fuzz(duration: SimDuration) -> RandomFaults {
        RandomFaults::swarm(SimTime(duration.0 / 10 * 7))
    }

    /// The classic schedule ([`RandomFaults::all`]: partitions, crashes and pauses, one at a
    /// time) over the first 70 % of a run of `duration`.
    pub fn fuzz_classic(duration: SimDuration) -> RandomFaults {
        RandomFaults::all(SimTime(duration.0 / 10 * 7))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::Fault;
    use crate::process::NodeId;

    fn at(ms: u64, fault: Fault) -> TimedFault {
        TimedFault {
            at: SimTime::from_millis(ms),
            fault,
        }
    }

    #[test]
    fn random_faults_replace_scripted_ones_but_keep_the_liveness_phase_last() {
        let phase = at(5_000, Fault::Stabilize { majority: false });
        let mut faults = vec![at(100, Fault::Crash(NodeId(1))), phase.clone()];
        let draw = Draw {
            random: Some(RandomFaults::all(SimTime::from_secs(9))),
            ..Draw::default()
        };
        draw.apply(3, 3, &mut faults, &mut NetworkConfig::default());
        assert_eq!(faults.last(), Some(&phase));
        let drawn = &faults[..faults.len() - 1];
        assert!(!drawn.is_empty());
        assert!(drawn.iter().all(|f| f.at <= phase.at), "ends by the phase");
        assert!(!drawn.contains(&at(100, Fault::Crash(NodeId(1)))));
    }

    #[test]
    fn a_seed_that_chases_draws_no_timed_faults_and_no_other_triggers() {
        use crate::faults::{chase, trigger_draw::Vocabulary};
        let vocabulary = Vocabulary {
            sent: vec![("Append".into(), 400)],
            notes: vec![("leader of term".into(), 1)],
        };
        let mut config = RandomFaults::fuzz(SimDuration::from_secs(5));
        config.vocabulary = Some(vocabulary.clone());
        let draw = Draw {
            random: Some(config.clone()),
            ..Draw::default()
        };
        let mut chased = 0;
        for seed in 0..100 {
            let mut faults = Vec::new();
            draw.apply(seed, 5, &mut faults, &mut NetworkConfig::default());
            let triggers = draw.triggers(seed, 5);
            if chase::chases(seed, 5, &config, &vocabulary) {
                chased += 1;
                assert!(faults.is_empty(), "seed {seed} chases and has {faults:?}");
                assert_eq!(triggers, chase::draw(seed, 5, &config, &vocabulary));
                assert!(!triggers.is_empty());
            } else {
                assert_eq!(faults, random_schedule(seed, 5, &config));
                assert!(chase::draw(seed, 5, &config, &vocabulary).is_empty());
            }
        }
        assert!((15..=45).contains(&chased), "{chased} of 100 seeds chase");
    }

    #[test]
    fn the_empty_draw_changes_nothing() {
        let mut faults = vec![at(100, Fault::Crash(NodeId(1)))];
        let mut network = NetworkConfig::default();
        Draw::default().apply(3, 3, &mut faults, &mut network);
        assert_eq!(faults, vec![at(100, Fault::Crash(NodeId(1)))]);
        assert_eq!(network, NetworkConfig::default());
        assert!(Draw::default().is_empty());
    }
}
