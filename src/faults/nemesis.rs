//! A seeded nemesis and swarm parameters: random faults and network settings, drawn once per
//! seed into plain data (a fault list and link settings) before a run starts.
//!
//! Each kind of episode (partitions, crashes, pauses, clogs, clock skew) has its own timeline:
//! a quiet gap drawn from `every`, then an episode of a length drawn from its range, then the
//! next gap, so episodes of one kind never overlap and every one is repaired by `until`.
//! Kinds overlap each other freely, except that crashes and pauses together never take down
//! more than a minority of the nodes at once (at least one node). Each kind draws from its own
//! generator, seeded from the run's faults stream ([`crate::rng::Stream::Faults`]) in a fixed
//! order, so turning one kind on or off does not change the episodes of the others.

use super::{Fault, TimedFault};
use crate::ids::NodeId;
use crate::net::{Latency, LinkConfig};
use crate::rng::{SimRng, Stream, stream};
use crate::time::{SignedDuration, SimDuration, SimTime};
use rand::{Rng, RngExt, SeedableRng};
use serde::Deserialize;

/// Most episodes of one kind in one run.
pub const EPISODES_MAX: usize = 1_000;
/// Most faults a nemesis draws in one run.
pub const NEMESIS_FAULTS_MAX: usize = 100_000;
/// Ring and bridge partitions need a cut per missing link; beyond this many nodes they fall
/// back to majority-minority.
pub const SHAPED_NODES_MAX: u32 = 32;

/// An inclusive range `[low, high]` with `low <= high`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Span<T> {
    pub low: T,
    pub high: T,
}

impl<T: Copy> Span<T> {
    /// A range holding one value.
    pub fn fixed(v: T) -> Span<T> {
        Span { low: v, high: v }
    }
}

/// How a partition episode splits the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PartitionMode {
    /// One node cut off from all others.
    Isolate,
    /// A random minority split from the rest.
    MajorityMinority,
    /// Nodes on a random ring each reach only their two neighbours.
    Ring,
    /// Two halves that reach each other only through one bridge node.
    Bridge,
    /// One random directed link cut.
    OneWay,
}

impl PartitionMode {
    pub const ALL: [PartitionMode; 5] = [
        PartitionMode::Isolate,
        PartitionMode::MajorityMinority,
        PartitionMode::Ring,
        PartitionMode::Bridge,
        PartitionMode::OneWay,
    ];
}

/// Gaps and lengths of one kind's episodes.
#[derive(Clone, Debug, PartialEq)]
pub struct Episodes {
    /// Quiet time before each episode (after the previous one of the same kind ended).
    pub every: Span<SimDuration>,
    /// How long each episode lasts.
    pub last: Span<SimDuration>,
    /// How gaps and lengths are drawn from their ranges.
    pub spread: Spread,
}

/// How a duration is drawn from a range.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Spread {
    /// Every value equally likely.
    #[default]
    Uniform,
    /// Every octave (a doubling) equally likely, so a range of 100µs..1s draws values under
    /// 1ms as often as values over 100ms: short gaps put faults into the first milliseconds
    /// of a run, where a protocol is busiest, and long ones leave it calm.
    LogUniform,
}

/// Clock skew episodes: a skew at the start, undone (offset 0, drift 1) at the end.
#[derive(Clone, Debug, PartialEq)]
pub struct SkewEpisodes {
    pub episodes: Episodes,
    pub offset: Span<SignedDuration>,
    pub drift: Span<f64>,
}

/// What a nemesis may do, and until when.
#[derive(Clone, Debug, PartialEq)]
pub struct Nemesis {
    /// Every episode is over by this time.
    pub until: SimTime,
    pub partitions: Option<(Episodes, Vec<PartitionMode>)>,
    pub crashes: Option<Episodes>,
    pub pauses: Option<Episodes>,
    pub clogs: Option<Episodes>,
    pub skew: Option<SkewEpisodes>,
}

/// Network settings drawn once per seed, uniformly from each range.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Swarm {
    pub drop: Option<Span<f64>>,
    pub duplicate: Option<Span<f64>>,
    /// The mean of an exponential latency (no minimum) replacing the default link's latency.
    pub latency_mean: Option<Span<SimDuration>>,
}

/// The generators: one per kind, in this order, then the swarm's.
const PARTITIONS: usize = 0;
const CRASHES: usize = 1;
const PAUSES: usize = 2;
const CLOGS: usize = 3;
const SKEW: usize = 4;
const SWARM: usize = 5;
/// The generator of a swarm schedule's choices (see [`super::swarm`]).
pub(crate) const SWARM_KINDS: usize = 6;

pub(crate) fn kind_rng(seed: u64, kind: usize) -> SimRng {
    let mut base = stream(seed, Stream::Faults);
    let mut sub = 0;
    for _ in 0..=kind {
        sub = base.next_u64();
    }
    SimRng::seed_from_u64(sub)
}

fn draw_duration(rng: &mut SimRng, span: Span<SimDuration>) -> SimDuration {
    SimDuration(rng.random_range(span.low.0..=span.high.0.max(span.low.0)))
}

fn draw_spread(rng: &mut SimRng, span: Span<SimDuration>, spread: Spread) -> SimDuration {
    match spread {
        Spread::Uniform => draw_duration(rng, span),
        Spread::LogUniform => SimDuration(log_uniform(rng, span.low.0, span.high.0)),
    }
}

/// A value of `[low, high]` whose octave is drawn uniformly, then the value uniformly within
/// it: integers only, so every platform draws the same. A low bound of 0 counts as 1.
pub fn log_uniform(rng: &mut SimRng, low: u64, high: u64) -> u64 {
    let low = low.max(1);
    if high <= low {
        return low;
    }
    let octave = rng.random_range(low.ilog2()..=high.ilog2());
    let first = 1u64 << octave;
    let last = first.saturating_add(first - 1);
    rng.random_range(first.max(low)..=last.min(high))
}

/// Episode intervals `(start, end)` of one kind, all ending by `until`.
fn timeline(rng: &mut SimRng, e: &Episodes, until: SimTime) -> Vec<(SimTime, SimTime)> {
    let mut out = Vec::new();
    let mut now = SimTime::ZERO;
    while out.len() < EPISODES_MAX {
        let start = now + draw_spread(rng, e.every, e.spread);
        let end = start + draw_spread(rng, e.last, e.spread).max(SimDuration(1));
        if end > until {
            break;
        }
        out.push((start, end));
        now = end;
    }
    out
}

/// Draws the nemesis's faults for `nodes` nodes under `seed`, sorted by time.
pub fn draw_nemesis(seed: u64, nodes: u32, n: &Nemesis) -> Vec<TimedFault> {
    let mut faults = Vec::new();
    if nodes == 0 {
        return faults;
    }
    if let Some((e, modes)) = &n.partitions {
        faults.extend(partitions(seed, nodes, e, modes, n.until));
    }
    let mut down = Vec::new();
    let stopping: [(&Option<Episodes>, usize, StopAndRepair); 2] = [
        (&n.crashes, CRASHES, (Fault::Crash, Fault::Restart)),
        (&n.pauses, PAUSES, (Fault::Pause, Fault::Resume)),
    ];
    for (episodes, kind, repair) in stopping {
        if let Some(e) = episodes {
            let rng = kind_rng(seed, kind);
            faults.extend(stops(rng, nodes, e, n.until, &mut down, repair));
        }
    }
    if let Some(e) = &n.clogs {
        faults.extend(clogs(seed, nodes, e, n.until));
    }
    if let Some(s) = &n.skew {
        faults.extend(skews(seed, nodes, s, n.until));
    }
    faults.sort_by_key(|f| f.at);
    faults
}

fn at(at: SimTime, fault: Fault) -> TimedFault {
    TimedFault { at, fault }
}

fn partitions(
    seed: u64,
    nodes: u32,
    e: &Episodes,
    modes: &[PartitionMode],
    until: SimTime,
) -> Vec<TimedFault> {
    let mut rng = kind_rng(seed, PARTITIONS);
    let mut out = Vec::new();
    if modes.is_empty() {
        return out;
    }
    for (start, end) in timeline(&mut rng, e, until) {
        let mode = modes[rng.random_range(0..modes.len())];
        let split = partition(&mut rng, nodes, mode);
        if out.len() + split.len() + 1 > NEMESIS_FAULTS_MAX {
            break;
        }
        out.extend(split.into_iter().map(|f| at(start, f)));
        out.push(at(end, Fault::Heal(None)));
    }
    out
}

/// The faults that begin one partition episode.
pub fn partition(rng: &mut SimRng, nodes: u32, mode: PartitionMode) -> Vec<Fault> {
    let node = NodeId(rng.random_range(0..nodes));
    let shaped_ok = nodes <= SHAPED_NODES_MAX;
    match mode {
        PartitionMode::Ring if nodes >= 4 && shaped_ok => ring(rng, nodes),
        PartitionMode::Bridge if nodes >= 3 && shaped_ok => bridge(rng, nodes),
        PartitionMode::OneWay if nodes >= 2 => {
            let other = (node.0 + rng.random_range(1..nodes)) % nodes;
            vec![Fault::Cut {
                from: node,
                to: NodeId(other),
            }]
        }
        PartitionMode::Isolate | PartitionMode::OneWay => vec![Fault::Isolate(node)],
        _ if nodes < 3 => vec![Fault::Isolate(node)],
        _ => vec![majority_minority(rng, nodes, node)],
    }
}

fn majority_minority(rng: &mut SimRng, nodes: u32, node: NodeId) -> Fault {
    let size = rng.random_range(1..=(nodes - 1) / 2) as usize;
    let mut order = shuffled(rng, nodes);
    order.retain(|&n| n != node);
    let mut minority = vec![node];
    minority.extend(order.into_iter().take(size - 1));
    minority.sort();
    let rest = (0..nodes)
        .map(NodeId)
        .filter(|n| !minority.contains(n))
        .collect();
    Fault::Partition(vec![minority, rest])
}

fn shuffled(rng: &mut SimRng, nodes: u32) -> Vec<NodeId> {
    let mut order: Vec<NodeId> = (0..nodes).map(NodeId).collect();
    for i in (1..order.len()).rev() {
        let j = rng.random_range(0..=i);
        order.swap(i, j);
    }
    order
}

/// Cuts both ways between every pair of nodes that are not neighbours on a random ring.
fn ring(rng: &mut SimRng, nodes: u32) -> Vec<Fault> {
    let order = shuffled(rng, nodes);
    let n = order.len();
    let mut cuts = Vec::new();
    for i in 0..n {
        for j in 0..n {
            let gap = (i + n - j) % n;
            if gap != 0 && gap != 1 && gap != n - 1 {
                cuts.push(Fault::Cut {
                    from: order[i],
                    to: order[j],
                });
            }
        }
    }
    cuts
}

/// Two halves, each with the bridge node, cut from each other both ways.
fn bridge(rng: &mut SimRng, nodes: u32) -> Vec<Fault> {
    let order = shuffled(rng, nodes);
    let (_bridge, rest) = order.split_first().expect("at least 3 nodes");
    let (left, right) = rest.split_at(rest.len() / 2);
    let mut cuts = Vec::new();
    for &a in left {
        for &b in right {
            cuts.push(Fault::Cut { from: a, to: b });
            cuts.push(Fault::Cut { from: b, to: a });
        }
    }
    cuts
}

/// The fault that stops a node and the one that repairs it.
type StopAndRepair = (fn(NodeId) -> Fault, fn(NodeId) -> Fault);

/// Crashes or pauses, each of a node not already down or paused, with at most a minority
/// (at least one node) down or paused at once; `down` collects the intervals across kinds.
fn stops(
    mut rng: SimRng,
    nodes: u32,
    e: &Episodes,
    until: SimTime,
    down: &mut Vec<(NodeId, SimTime, SimTime)>,
    (stop, start_again): StopAndRepair,
) -> Vec<TimedFault> {
    let cap = ((nodes as usize - 1) / 2).max(1);
    let mut out = Vec::new();
    for (start, end) in timeline(&mut rng, e, until) {
        let pick = rng.random_range(0..nodes);
        let overlapping: Vec<NodeId> = down
            .iter()
            .filter(|&&(_, s, t)| s <= end && start <= t)
            .map(|&(n, _, _)| n)
            .collect();
        if overlapping.len() >= cap {
            continue;
        }
        let free: Vec<NodeId> = (0..nodes)
            .map(NodeId)
            .filter(|n| !overlapping.contains(n))
            .collect();
        let node = free[pick as usize % free.len()];
        down.push((node, start, end));
        out.push(at(start, stop(node)));
        out.push(at(end, start_again(node)));
    }
    out
}

fn clogs(seed: u64, nodes: u32, e: &Episodes, until: SimTime) -> Vec<TimedFault> {
    let mut rng = kind_rng(seed, CLOGS);
    let mut out = Vec::new();
    if nodes < 2 {
        return out;
    }
    for (start, end) in timeline(&mut rng, e, until) {
        let from = rng.random_range(0..nodes);
        let to = (from + rng.random_range(1..nodes)) % nodes;
        out.push(at(
            start,
            Fault::Clog {
                from: NodeId(from),
                to: NodeId(to),
                until: end,
            },
        ));
    }
    out
}

fn skews(seed: u64, nodes: u32, s: &SkewEpisodes, until: SimTime) -> Vec<TimedFault> {
    let mut rng = kind_rng(seed, SKEW);
    let mut out = Vec::new();
    for (start, end) in timeline(&mut rng, &s.episodes, until) {
        let node = NodeId(rng.random_range(0..nodes));
        let offset = SignedDuration(rng.random_range(s.offset.low.0..=s.offset.high.0));
        let drift = draw_f64(&mut rng, s.drift);
        out.push(at(
            start,
            Fault::ClockSkew {
                node,
                offset,
                drift,
            },
        ));
        out.push(at(
            end,
            Fault::ClockSkew {
                node,
                offset: SignedDuration(0),
                drift: 1.0,
            },
        ));
    }
    out
}

fn draw_f64(rng: &mut SimRng, span: Span<f64>) -> f64 {
    if span.low < span.high {
        rng.random_range(span.low..=span.high)
    } else {
        span.low
    }
}

/// Applies the swarm's draws under `seed` to a link's settings.
pub fn apply_swarm(seed: u64, swarm: &Swarm, link: &mut LinkConfig) {
    let mut rng = kind_rng(seed, SWARM);
    let drop = draw_f64(&mut rng, swarm.drop.unwrap_or(Span::fixed(link.drop)));
    let duplicate = draw_f64(
        &mut rng,
        swarm.duplicate.unwrap_or(Span::fixed(link.duplicate)),
    );
    let mean = draw_duration(
        &mut rng,
        swarm.latency_mean.unwrap_or(Span::fixed(SimDuration::ZERO)),
    );
    link.drop = drop;
    link.duplicate = duplicate;
    if swarm.latency_mean.is_some() {
        link.latency = Latency::Exponential {
            mean,
            min: SimDuration::ZERO,
        };
    }
}

#[cfg(test)]
#[path = "nemesis_tests.rs"]
mod tests;
