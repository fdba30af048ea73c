//! Delivery priorities in the style of PCT (Burckhardt et al., "A randomized scheduler with
//! probabilistic guarantees of finding bugs", ASPLOS 2010), for messages instead of threads.
//!
//! PCT runs the highest-priority thread that can run, gives the threads random priorities,
//! and at `depth - 1` random points of the run drops the running thread to the lowest
//! priority; a bug that needs `depth` events in one order then shows with a probability that
//! does not shrink with the run's length as fast as under uniform choices. Here each link has
//! a priority among the links into its receiver, and the spread of a link's latency is cut
//! into one band per node: a message on the link of rank `k` (0 the highest) draws its
//! latency within band `k`. Messages sent to one node at about the same time therefore arrive
//! in the order of their links' priorities, and each receiver has an order of its own, so two
//! nodes can see the same race end both ways, every time, until a change point demotes each
//! receiver's highest link to the lowest. (One order for all receivers, by sender, was tried
//! first: every node then saw the same winner, and races that need two nodes to disagree
//! showed less often than under independent latencies.) The latency stays within the link's
//! own range; only a uniform latency has bands, and under any other latency the rank adds that
//! many nanoseconds, which orders simultaneous deliveries alone.
//!
//! The priorities and change points come from the run's priority stream
//! ([`crate::rng::Stream::Priorities`]): the seed and the depth give the same order.

use crate::ids::NodeId;
use crate::rng::{SimRng, Stream, stream};
use crate::time::{SimDuration, SimTime};
use rand::RngExt;

/// The deepest ordering a run may ask for: change points beyond a handful only shuffle.
pub const PCT_DEPTH_MAX: u32 = 16;
/// The most nodes a run with priorities may have: each receiver keeps a rank per sender.
pub const PCT_NODES_MAX: u32 = 1024;

/// PCT-style priorities for a run: `depth - 1` change points drawn over `span`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pct {
    pub depth: u32,
    /// The change points fall in `[0, span)`: the part of the run whose races matter.
    pub span: SimDuration,
}

impl Pct {
    /// Checked by the scenario parser and by [`crate::SimBuilder::build`] alike, for a run of
    /// `nodes` nodes.
    pub fn validate(&self, nodes: u32) -> Result<(), String> {
        if nodes > PCT_NODES_MAX {
            return Err(format!(
                "pct orders at most {PCT_NODES_MAX} nodes; this run has {nodes}"
            ));
        }
        if !(1..=PCT_DEPTH_MAX).contains(&self.depth) {
            return Err(format!(
                "pct depth {} is out of range 1..={PCT_DEPTH_MAX}",
                self.depth
            ));
        }
        if self.span == SimDuration::ZERO {
            return Err("pct `over` must be above zero".to_string());
        }
        Ok(())
    }
}

/// The live priorities: for each receiver, the rank of each sender on the link between them
/// (0 the highest), and the change points still to come. A change point rotates every
/// receiver's order by one: its highest sender drops to the lowest and the others move up.
pub(crate) struct Priorities {
    nodes: u32,
    /// `base[to * nodes + from]`: the rank of `from → to` before any change point.
    base: Vec<u16>,
    /// Change points passed so far.
    shift: u32,
    /// Ascending; `next` is the first not yet applied.
    changes: Vec<SimTime>,
    next: usize,
}

impl Priorities {
    pub(crate) fn new(pct: Pct, seed: u64, node_count: u32) -> Priorities {
        let mut rng: SimRng = stream(seed, Stream::Priorities);
        debug_assert!(node_count <= PCT_NODES_MAX, "checked by Pct::validate");
        let n = node_count;
        let mut base = Vec::with_capacity((n * n) as usize);
        let mut order: Vec<u16> = (0..n as u16).collect();
        for _ in 0..n {
            for i in (1..order.len()).rev() {
                order.swap(i, rng.random_range(0..=i));
            }
            base.extend_from_slice(&order);
        }
        let mut changes: Vec<SimTime> = (1..pct.depth)
            .map(|_| SimTime(rng.random_range(0..pct.span.0)))
            .collect();
        changes.sort_unstable();
        Priorities {
            nodes: n,
            base,
            shift: 0,
            changes,
            next: 0,
        }
    }

    /// The rank of the link `from → to` at `now`, after every change point up to `now`.
    #[inline]
    pub(crate) fn rank(&mut self, from: NodeId, to: NodeId, now: SimTime) -> u32 {
        while self.changes.get(self.next).is_some_and(|&t| t <= now) {
            self.next += 1;
            self.shift += 1;
        }
        let n = self.nodes;
        let base = self.base[(to.0 * n + from.0) as usize];
        (u32::from(base) + n - self.shift % n) % n
    }

    pub(crate) fn bands(&self) -> u32 {
        self.nodes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pct(depth: u32) -> Pct {
        Pct {
            depth,
            span: SimDuration::from_secs(1),
        }
    }

    #[test]
    fn each_receiver_ranks_its_senders_and_a_change_point_demotes_the_highest() {
        let mut p = Priorities::new(pct(2), 7, 5);
        let at = |p: &mut Priorities, to: u32, t: SimTime| -> Vec<u32> {
            (0..5)
                .map(|from| p.rank(NodeId(from), NodeId(to), t))
                .collect()
        };
        let mut ranks = at(&mut p, 0, SimTime::ZERO);
        let top = ranks
            .iter()
            .position(|&r| r == 0)
            .expect("a highest sender");
        ranks.sort_unstable();
        assert_eq!(ranks, vec![0, 1, 2, 3, 4]);
        let orders: Vec<Vec<u32>> = (0..5).map(|to| at(&mut p, to, SimTime::ZERO)).collect();
        assert!(orders.windows(2).any(|w| w[0] != w[1]), "receivers differ");
        let after = p.changes[0];
        assert_eq!(
            p.rank(NodeId(top as u32), NodeId(0), after),
            4,
            "demoted to the lowest"
        );
        assert_eq!(
            Priorities::new(pct(2), 7, 5).base,
            Priorities::new(pct(2), 7, 5).base
        );
    }

    #[test]
    fn depth_one_never_changes_and_bad_settings_are_refused() {
        let p = Priorities::new(pct(1), 3, 4);
        assert!(p.changes.is_empty());
        assert!(pct(0).validate(5).is_err());
        assert!(pct(PCT_DEPTH_MAX + 1).validate(5).is_err());
        assert!(pct(PCT_DEPTH_MAX).validate(PCT_NODES_MAX).is_ok());
        assert!(pct(2).validate(PCT_NODES_MAX + 1).is_err());
        let zero = Pct {
            depth: 2,
            span: SimDuration::ZERO,
        };
        assert!(zero.validate(5).is_err());
    }
}
