//! The simulated network: per-link latency, loss, duplication, FIFO order and capacity, plus
//! partitions, one-way cuts, isolation and clogging.
//!
//! Every message is routed once, when it is sent: the network decides whether it is lost,
//! when it arrives and whether it is duplicated, from numbers of that message's own
//! (see `draws`).
//! A partition that begins while a message is in flight also drops it on arrival.

mod draws;
mod latency;
mod partition;
mod priority;
mod topology;
mod validate;

use draws::{MessageDraws, MessageRng};
pub use latency::{Latency, MixPart, PARETO_DEFAULT_MAX};
pub use partition::Partitions;
use priority::Priorities;
pub use priority::{PCT_DEPTH_MAX, PCT_NODES_MAX, Pct};
pub use topology::{REGIONS_MAX, Region, RegionFault, RegionPair, Topology};
pub(crate) use topology::{RegionTable, check_region_name, unknown_region};
pub(crate) use validate::link_words;
pub use validate::{LinkError, check_capacity, check_probability};

use crate::ids::NodeId;
use crate::time::{SimDuration, SimTime};
use crate::trace::DropReason;
use std::collections::BTreeMap;
use std::sync::Arc;

/// How one directed link behaves. [`LinkConfig::validate`] says whether the settings make
/// sense; [`crate::SimBuilder::build`] checks them.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkConfig {
    pub latency: Latency,
    /// Probability in [0, 1] that a message is lost.
    pub drop: f64,
    /// Probability in [0, 1] that a message is delivered twice.
    pub duplicate: f64,
    /// Deliver in send order on this link (jitter cannot reorder).
    pub fifo: bool,
    /// Most messages in flight on this link at once; beyond it new ones are dropped.
    pub capacity: Option<u32>,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            latency: Latency::default(),
            drop: 0.0,
            duplicate: 0.0,
            fifo: false,
            capacity: None,
        }
    }
}

/// The network of a simulation: a default for every link and per-link overrides.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NetworkConfig {
    pub default: LinkConfig,
    /// Overrides for directed links `(from, to)`.
    pub links: BTreeMap<(NodeId, NodeId), LinkConfig>,
}

/// Where a message goes when sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    Dropped(DropReason),
    /// Arrives at `at`; if `copy_at` is set, a duplicate arrives then too.
    Arrives {
        at: SimTime,
        copy_at: Option<SimTime>,
    },
}

/// Per-link bookkeeping, kept only for links that need it (FIFO or capacity).
#[derive(Clone, Copy, Debug, Default)]
struct LinkState {
    in_flight: u32,
    last_arrival: SimTime,
}

/// The network's live state.
pub(crate) struct Network {
    config: NetworkConfig,
    pub(crate) partitions: Partitions,
    clogs: BTreeMap<(NodeId, NodeId), SimTime>,
    links: BTreeMap<(NodeId, NodeId), LinkState>,
    /// Every message's random numbers.
    draws: MessageDraws,
    /// PCT-style priorities of the links into each node, when the run has them.
    priorities: Option<Box<Priorities>>,
    /// Each node's region and the latency between regions, when the run has a topology:
    /// the latency of every link without an override of its own.
    regions: Option<Arc<RegionTable>>,
    /// Every link is the default one, which keeps no per-link state (neither FIFO nor
    /// capacity-bound) and never duplicates, and there is no topology: routing takes the
    /// short path.
    plain: bool,
}

impl Network {
    /// The network of `node_count` nodes; `key` keys every message's draws
    /// ([`crate::rng::stream_key`] of the network stream); `priorities`, with the run's seed,
    /// orders deliveries PCT-style (see `priority`); `regions` gives every link without an
    /// override its regions' latency.
    pub(crate) fn new(
        config: NetworkConfig,
        node_count: u32,
        key: u64,
        priorities: Option<(Pct, u64)>,
        regions: Option<Arc<RegionTable>>,
    ) -> Network {
        let d = &config.default;
        let plain = config.links.is_empty()
            && !d.fifo
            && d.capacity.is_none()
            && d.duplicate <= 0.0
            && priorities.is_none()
            && regions.is_none();
        Network {
            draws: MessageDraws::new(key, node_count),
            priorities: priorities
                .map(|(pct, seed)| Box::new(Priorities::new(pct, seed, node_count))),
            plain,
            regions,
            config,
            partitions: Partitions::new(node_count),
            clogs: BTreeMap::new(),
            links: BTreeMap::new(),
        }
    }

    #[inline]
    pub(crate) fn config(&self) -> &NetworkConfig {
        &self.config
    }

    fn link_config(&self, from: NodeId, to: NodeId) -> &LinkConfig {
        self.link_override(from, to).unwrap_or(&self.config.default)
    }

    #[inline]
    fn link_override(&self, from: NodeId, to: NodeId) -> Option<&LinkConfig> {
        if self.config.links.is_empty() {
            return None;
        }
        self.config.links.get(&(from, to))
    }

    /// The link's settings and its latency: an override's own, else its regions', else the
    /// default link's.
    #[inline]
    fn link_and_latency(&self, from: NodeId, to: NodeId) -> (&LinkConfig, &Latency) {
        match (self.link_override(from, to), self.regions.as_deref()) {
            (Some(link), _) => (link, &link.latency),
            (None, Some(table)) => (&self.config.default, table.between_nodes(from, to)),
            (None, None) => (&self.config.default, &self.config.default.latency),
        }
    }

    /// Decides the fate of a message sent now from `from` to `to`. Always inlined into the
    /// send path: its short path is small, the rest is out of line.
    #[inline(always)]
    pub(crate) fn route(&mut self, from: NodeId, to: NodeId, now: SimTime) -> Route {
        // Drawn first, so that every message sent counts, blocked or not.
        let mut rng = self.draws.next(from);
        if self.partitions.blocks(from, to) {
            return Route::Dropped(DropReason::Partition);
        }
        if !self.plain {
            return self.route_link(from, to, now, rng);
        }
        // What `route_link` does for the default link without FIFO, capacity or duplicates.
        let link = &self.config.default;
        let (lost, _) = rng.fate(link.drop, 0.0);
        if lost {
            return Route::Dropped(DropReason::Loss);
        }
        let at = now + link.latency.sample(rng.latency());
        Route::Arrives {
            at: self.hold_for_clog(from, to, at),
            copy_at: None,
        }
    }

    /// [`Network::route`] past the partition check, for links with per-link settings or state.
    #[inline(never)]
    fn route_link(&mut self, from: NodeId, to: NodeId, now: SimTime, mut rng: MessageRng) -> Route {
        let rank = self
            .priorities
            .as_deref_mut()
            .map(|p| (p.rank(from, to, now), p.bands()));
        let (link, link_latency) = self.link_and_latency(from, to);
        let (fifo, capacity) = (link.fifo, link.capacity);
        let (lost, copied) = rng.fate(link.drop, link.duplicate);
        if let Some(cap) = capacity {
            let in_flight = self.links.get(&(from, to)).map_or(0, |s| s.in_flight);
            if in_flight >= cap {
                return Route::Dropped(DropReason::Capacity);
            }
        }
        if lost {
            return Route::Dropped(DropReason::Loss);
        }
        let mut latency = || match rank {
            None => link_latency.sample(rng.latency()),
            Some((rank, bands)) => link_latency.sample_ranked(rank, bands, rng.latency()),
        };
        let at = now + latency();
        let copy_at = copied.then(|| now + latency());
        let at = self.hold_for_clog(from, to, at);
        let copy_at = copy_at.map(|c| self.hold_for_clog(from, to, c));
        if !fifo && capacity.is_none() {
            return Route::Arrives { at, copy_at };
        }
        let state = self.links.entry((from, to)).or_default();
        let at = if fifo { at.max(state.last_arrival) } else { at };
        let copy_at = copy_at.map(|c| if fifo { c.max(at) } else { c });
        state.last_arrival = copy_at.unwrap_or(at).max(at);
        if capacity.is_some() {
            state.in_flight += 1 + u32::from(copy_at.is_some());
        }
        Route::Arrives { at, copy_at }
    }

    /// A second copy of a message already routed on `from → to` is in flight too.
    pub(crate) fn count_copy(&mut self, from: NodeId, to: NodeId) {
        if self.link_config(from, to).capacity.is_some() {
            self.links.entry((from, to)).or_default().in_flight += 1;
        }
    }

    /// A message routed on `from → to` arrives later than routed, at `at`: on a FIFO link
    /// the messages after it wait for it.
    pub(crate) fn arrives_late(&mut self, from: NodeId, to: NodeId, at: SimTime) {
        if self.link_config(from, to).fifo {
            let state = self.links.entry((from, to)).or_default();
            state.last_arrival = state.last_arrival.max(at);
        }
    }

    /// Called when a message leaves the link (delivered or dropped on arrival).
    #[inline]
    pub(crate) fn left_link(&mut self, from: NodeId, to: NodeId) {
        if self.links.is_empty() {
            return;
        }
        if let Some(state) = self.links.get_mut(&(from, to)) {
            state.in_flight = state.in_flight.saturating_sub(1);
        }
    }

    #[inline]
    fn hold_for_clog(&self, from: NodeId, to: NodeId, at: SimTime) -> SimTime {
        if self.clogs.is_empty() {
            return at;
        }
        match self.clogs.get(&(from, to)) {
            Some(&until) => at.max(until),
            None => at,
        }
    }

    /// Holds messages sent on `from → to` until `until` (they arrive no earlier).
    pub(crate) fn clog(&mut self, from: NodeId, to: NodeId, until: SimTime) {
        self.clogs.insert((from, to), until);
    }

    /// Forgets clogs that have expired, so the fast path stays fast.
    pub(crate) fn expire_clogs(&mut self, now: SimTime) {
        self.clogs.retain(|_, until| *until > now);
    }

    pub(crate) fn heal_all(&mut self) {
        self.partitions.heal_all();
        self.clogs.clear();
    }

    pub(crate) fn heal_node(&mut self, node: NodeId) {
        self.partitions.heal_node(node);
        self.clogs.retain(|&(a, b), _| a != node && b != node);
    }
}

/// The default latency as a typical LAN-ish link: uniform 1–10 ms.
pub fn default_latency() -> Latency {
    Latency::Uniform(SimDuration::from_millis(1), SimDuration::from_millis(10))
}
