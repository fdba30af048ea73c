use super::*;
use std::collections::BTreeSet;

fn ms(v: u64) -> SimDuration {
    SimDuration::from_millis(v)
}

fn span(lo: u64, hi: u64) -> Span<SimDuration> {
    Span {
        low: ms(lo),
        high: ms(hi),
    }
}

fn episodes() -> Episodes {
    Episodes {
        every: span(100, 800),
        last: span(50, 600),
        spread: Spread::Uniform,
    }
}

fn everything(until: SimTime) -> Nemesis {
    Nemesis {
        until,
        partitions: Some((episodes(), PartitionMode::ALL.to_vec())),
        crashes: Some(episodes()),
        pauses: Some(episodes()),
        clogs: Some(episodes()),
        skew: Some(SkewEpisodes {
            episodes: episodes(),
            offset: Span {
                low: SignedDuration(-200_000_000),
                high: SignedDuration(200_000_000),
            },
            drift: Span {
                low: 0.95,
                high: 1.05,
            },
        }),
    }
}

#[test]
fn same_seed_same_schedule_and_seeds_differ() {
    let n = everything(SimTime::from_secs(10));
    let a = draw_nemesis(7, 5, &n);
    assert!(a.len() > 20, "{}", a.len());
    assert_eq!(a, draw_nemesis(7, 5, &n));
    assert_ne!(a, draw_nemesis(8, 5, &n));
    assert!(a.windows(2).all(|w| w[0].at <= w[1].at));
}

#[test]
fn one_kind_does_not_shift_another() {
    let all = everything(SimTime::from_secs(10));
    let crashes_only = Nemesis {
        partitions: None,
        pauses: None,
        clogs: None,
        skew: None,
        ..all.clone()
    };
    let crash = |f: &TimedFault| matches!(f.fault, Fault::Crash(_) | Fault::Restart(_));
    let from_all: Vec<_> = draw_nemesis(3, 5, &all).into_iter().filter(crash).collect();
    assert_eq!(from_all, draw_nemesis(3, 5, &crashes_only));
}

/// Replays a schedule and checks that by `until` nothing is left broken.
fn assert_repaired(faults: &[TimedFault], until: SimTime) {
    let mut down = BTreeSet::new();
    let mut paused = BTreeSet::new();
    let mut cut = false;
    let mut skewed = BTreeSet::new();
    for f in faults {
        assert!(f.at <= until, "{f}");
        match &f.fault {
            Fault::Crash(n) => assert!(down.insert(*n) && !paused.contains(n), "{f}"),
            Fault::Restart(n) => assert!(down.remove(n), "{f}"),
            Fault::Pause(n) => assert!(paused.insert(*n) && !down.contains(n), "{f}"),
            Fault::Resume(n) => assert!(paused.remove(n), "{f}"),
            Fault::Partition(_) | Fault::Isolate(_) | Fault::Cut { .. } => cut = true,
            Fault::Heal(None) => cut = false,
            Fault::Clog { until: end, .. } => assert!(*end <= until),
            Fault::ClockSkew { node, drift, .. } if *drift == 1.0 => {
                assert!(skewed.remove(node))
            }
            Fault::ClockSkew { node, .. } => {
                skewed.insert(*node);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(
            down.len() + paused.len() <= 2,
            "a majority of 5 stopped at {f}"
        );
    }
    assert!(down.is_empty() && paused.is_empty() && !cut, "left broken");
    assert!(skewed.is_empty(), "a skew was not undone");
}

#[test]
fn every_episode_is_repaired_by_until() {
    let until = SimTime::from_secs(8);
    for seed in 0..50 {
        assert_repaired(&draw_nemesis(seed, 5, &everything(until)), until);
    }
}

fn shape(seed: u64, nodes: u32, mode: PartitionMode) -> Vec<Fault> {
    let mut rng = kind_rng(seed, PARTITIONS);
    partition(&mut rng, nodes, mode)
}

fn reaches(cuts: &[Fault], from: NodeId, to: NodeId) -> bool {
    !cuts
        .iter()
        .any(|c| matches!(c, Fault::Cut { from: a, to: b } if *a == from && *b == to))
}

#[test]
fn ring_leaves_each_node_its_two_neighbours() {
    for seed in 0..20 {
        let cuts = shape(seed, 6, PartitionMode::Ring);
        assert_eq!(cuts.len(), 6 * 3, "{cuts:?}");
        for a in 0..6 {
            let out = (0..6)
                .filter(|&b| b != a && reaches(&cuts, NodeId(a), NodeId(b)))
                .count();
            assert_eq!(out, 2, "node {a} in {cuts:?}");
        }
        for a in 0..6 {
            for b in 0..6 {
                assert_eq!(
                    reaches(&cuts, NodeId(a), NodeId(b)),
                    reaches(&cuts, NodeId(b), NodeId(a))
                );
            }
        }
    }
}

#[test]
fn bridge_joins_two_halves_through_one_node() {
    for seed in 0..20 {
        let cuts = shape(seed, 7, PartitionMode::Bridge);
        assert_eq!(cuts.len(), 2 * 3 * 3, "{cuts:?}");
        let touched: BTreeSet<NodeId> = cuts.iter().flat_map(|c| c.nodes()).collect();
        assert_eq!(touched.len(), 6, "one node, the bridge, is never cut");
        let bridge = (0..7).map(NodeId).find(|n| !touched.contains(n)).unwrap();
        for n in (0..7).map(NodeId).filter(|&n| n != bridge) {
            assert!(reaches(&cuts, n, bridge) && reaches(&cuts, bridge, n));
        }
    }
}

#[test]
fn one_way_cuts_one_link_and_small_clusters_fall_back() {
    let cuts = shape(1, 5, PartitionMode::OneWay);
    assert!(
        matches!(cuts[..], [Fault::Cut { from, to }] if from != to),
        "{cuts:?}"
    );
    assert!(matches!(
        shape(1, 3, PartitionMode::Ring)[..],
        [Fault::Partition(_)]
    ));
    assert!(matches!(
        shape(1, 2, PartitionMode::Bridge)[..],
        [Fault::Isolate(_)]
    ));
    match &shape(2, 7, PartitionMode::MajorityMinority)[..] {
        [Fault::Partition(g)] => assert!(g[0].len() <= 3 && g[1].len() >= 4, "{g:?}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn swarm_draws_within_its_ranges() {
    let swarm = Swarm {
        drop: Some(Span {
            low: 0.0,
            high: 0.3,
        }),
        duplicate: None,
        latency_mean: Some(span(1, 50)),
    };
    let mut seen = BTreeSet::new();
    for seed in 0..20 {
        let mut link = LinkConfig::default();
        apply_swarm(seed, &swarm, &mut link);
        assert!((0.0..=0.3).contains(&link.drop));
        assert_eq!(link.duplicate, 0.0);
        match link.latency {
            Latency::Exponential { mean, min } => {
                assert!(mean >= ms(1) && mean <= ms(50) && min == SimDuration::ZERO);
            }
            other => panic!("{other:?}"),
        }
        seen.insert(link.drop.to_bits());
    }
    assert!(seen.len() > 10);
}
