//! Per-node runtime state the engine keeps beside each process: epoch, starts, clock and
//! storage, 24 bytes for a node whose clock is true and which never wrote. (Each node's
//! [`NodeStatus`] is kept in a dense array of its own, in [`super::Sim`]; its random stream in
//! [`super::rngs::NodeRngs`]; what waits for a paused node in [`super::Sim`]'s `held`.)

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

/// What the engine keeps per node, alive or not. Storage and a skewed clock are boxed and made
/// on first use: a cluster of millions of nodes pays for them only where they are used.
#[derive(Default)]
pub(crate) struct NodeRuntime {
    /// Bumped by every crash; timers of an older epoch never fire.
    pub(crate) epoch: u32,
    /// How many times the node has started (1 after boot).
    pub(crate) starts: u32,
    storage: Option<Box<Storage>>,
    /// `None` while the node's clock reads true time.
    clock: Option<Box<Clock>>,
}

impl NodeRuntime {
    /// The node's storage, made empty on first use.
    pub(crate) fn storage_mut(&mut self) -> &mut Storage {
        self.storage.get_or_insert_with(Box::default)
    }

    /// Loses the unsynced writes of a crash and returns how many; a node that never used its
    /// storage has none, and gets no storage for it.
    pub(crate) fn crash_storage(&mut self) -> usize {
        self.storage.as_mut().map_or(0, |s| s.crash())
    }

    /// Replaces the node's storage (with an explored state's).
    pub(crate) fn set_storage(&mut self, storage: Option<Storage>) {
        self.storage = storage.map(Box::new);
    }

    /// The node's storage, if it was ever used.
    pub(crate) fn storage(&self) -> Option<&Storage> {
        self.storage.as_deref()
    }

    /// The node's clock, to skew or jump.
    pub(crate) fn clock_mut(&mut self) -> &mut Clock {
        self.clock.get_or_insert_with(Box::default)
    }

    /// The node's reading at true time `now`.
    #[inline]
    pub(crate) fn local_time(&self, now: SimTime) -> SimTime {
        match &self.clock {
            None => now,
            Some(clock) => clock.local(now),
        }
    }

    /// The true span that `delay` on the node's clock takes.
    #[inline]
    pub(crate) fn true_delay(&self, delay: SimDuration) -> SimDuration {
        match &self.clock {
            None => delay,
            Some(clock) => clock.true_delay(delay),
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
