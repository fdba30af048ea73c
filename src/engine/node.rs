//! Per-node runtime state the engine keeps beside each process: clock, rng, storage. (Each
//! node's [`NodeStatus`] is kept in a dense array of its own, in [`super::Sim`].)

use super::queue::Entry;
use crate::rng::SimRng;
use crate::storage::Storage;
use crate::time::{SignedDuration, SimDuration, SimTime};

/// Whether a node is running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeStatus {
    Up,
    /// Gray failure: alive but doing nothing; events wait.
    Paused,
    /// Crashed; its volatile state is gone until a restart.
    Down,
}

/// A node's clock: `local = base_local + rate × (true − base_true)`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    base_true: u64,
    base_local: i128,
    rate: f64,
    exact: bool,
}

impl Default for Clock {
    fn default() -> Self {
        Clock {
            base_true: 0,
            base_local: 0,
            rate: 1.0,
            exact: true,
        }
    }
}

impl Clock {
    /// The local reading at true time `now`, never below zero.
    #[inline]
    pub(crate) fn local(&self, now: SimTime) -> SimTime {
        if self.exact {
            return now;
        }
        let elapsed = (now.0 - self.base_true) as f64 * self.rate;
        let local = self.base_local + elapsed.round() as i128;
        SimTime(local.clamp(0, u64::MAX as i128) as u64)
    }

    /// The true span that `delay` on this clock takes.
    #[inline]
    pub(crate) fn true_delay(&self, delay: SimDuration) -> SimDuration {
        if self.rate == 1.0 {
            return delay;
        }
        SimDuration((delay.0 as f64 / self.rate).ceil() as u64)
    }

    /// From `now` on, read `offset` away from true time and run at `rate`.
    pub(crate) fn skew(&mut self, now: SimTime, offset: SignedDuration, rate: f64) {
        self.base_true = now.0;
        self.base_local = i128::from(now.0) + i128::from(offset.0);
        self.rate = rate;
        self.exact = offset.0 == 0 && rate == 1.0;
    }

    /// Jumps the reading by `by` at `now`, keeping the rate.
    pub(crate) fn jump(&mut self, now: SimTime, by: SignedDuration) {
        let current = i128::from(self.local(now).0);
        self.base_true = now.0;
        self.base_local = current + i128::from(by.0);
        self.exact = self.base_local == i128::from(now.0) && self.rate == 1.0;
    }
}

/// What the engine keeps per node, alive or not.
pub(crate) struct NodeRuntime {
    /// Bumped by every crash; timers of an older epoch never fire.
    pub(crate) epoch: u32,
    /// How many times the node has started (1 after boot).
    pub(crate) starts: u32,
    pub(crate) rng: SimRng,
    pub(crate) storage: Storage,
    pub(crate) clock: Clock,
    /// Deliveries and timers that arrived while paused, in arrival order.
    pub(crate) held: Vec<Entry>,
}

impl NodeRuntime {
    pub(crate) fn new(rng: SimRng) -> NodeRuntime {
        NodeRuntime {
            epoch: 0,
            starts: 0,
            rng,
            storage: Storage::default(),
            clock: Clock::default(),
            held: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skew_and_drift() {
        let mut c = Clock::default();
        assert_eq!(c.local(SimTime(100)), SimTime(100));
        c.skew(SimTime::from_secs(1), SignedDuration(200_000_000), 1.5);
        assert_eq!(c.local(SimTime::from_secs(1)), SimTime(1_200_000_000));
        assert_eq!(c.local(SimTime::from_secs(3)), SimTime(4_200_000_000));
        assert_eq!(c.true_delay(SimDuration(300)), SimDuration(200));
    }

    #[test]
    fn jumps_move_the_reading_and_never_below_zero() {
        let mut c = Clock::default();
        c.jump(SimTime(1_000), SignedDuration(-5_000));
        assert_eq!(c.local(SimTime(1_000)), SimTime(0));
        assert_eq!(c.local(SimTime(10_000)), SimTime(5_000));
        c.jump(SimTime(10_000), SignedDuration(5_000));
        assert_eq!(c.local(SimTime(10_000)), SimTime(10_000));
        assert!(c.exact, "a clock back in step takes the exact path");
    }
}
