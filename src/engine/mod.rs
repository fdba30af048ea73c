//! The discrete-event engine: [`Sim`], built with [`SimBuilder`].
//!
//! One thread, one queue of events ordered by (time, insertion sequence). Each step pops the
//! earliest event, advances virtual time to it and dispatches it: a delivery or a timer to a
//! process handler, or a fault to the network or a node. The engine is generic over the
//! protocol and monomorphised; nothing in the step loop allocates in steady state.

mod calls;
mod clients;
mod core;
mod effects;
mod faults;
mod heap;
mod node;
mod observe;
mod process;
mod queue;
mod rngs;
mod slab;
mod states;
mod stats;
mod step;
mod summaries;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod trigger_tests;
mod triggers;
mod wheel;

pub(crate) use self::core::{Core, Note};
pub use core::Touched;
pub(crate) use effects::{Effects, ModelTimer};
pub(crate) use node::NodeRuntime;
pub use node::NodeStatus;
pub use process::{Ctx, Process};
pub use stats::{DropCounts, Stats};

use crate::faults::trigger::TRIGGERS_MAX;
use crate::faults::{TimedFault, TriggeredFault};
use crate::ids::NodeId;
use crate::net::{Network, NetworkConfig, Pct, Topology};
use crate::rng::{Stream, stream_key};
use crate::storage::Storage;
use crate::time::SimTime;
use crate::trace::{TraceSink, Tracer};
use crate::workload::{Clients, WorkloadConfig};
use queue::EntryKind;
use std::collections::BTreeMap;
use triggers::Triggers;

/// Hard ceiling on nodes, whatever the limits say: ids are `u32` and each node costs memory.
pub const NODES_MAX: u32 = 1 << 24;

/// Bounds on a run. Hitting one stops the run with [`SimError::Limit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most events processed.
    pub max_events: u64,
    /// Latest simulated time an event may have.
    pub max_time: SimTime,
    /// Most nodes.
    pub max_nodes: u32,
    /// Most events waiting in the queue at once (messages in flight plus timers).
    pub max_queue: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_events: 100_000_000,
            max_time: SimTime::from_secs(24 * 3600),
            max_nodes: 100_000,
            max_queue: 10_000_000,
        }
    }
}

/// Which limit was hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitKind {
    Events,
    Time,
    Nodes,
    Queue,
}

impl LimitKind {
    /// The scenario key that raises this limit.
    pub fn key(self) -> &'static str {
        match self {
            LimitKind::Events => "max_events",
            LimitKind::Time => "max_time",
            LimitKind::Nodes => "max_nodes",
            LimitKind::Queue => "max_queue",
        }
    }
}

/// Why a simulation could not be built or could not go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    #[error("limit reached: {what} (raise limits.{} to allow more)", .kind.key())]
    Limit {
        kind: LimitKind,
        what: String,
        at: SimTime,
    },
    #[error("invalid simulation: {0}")]
    Invalid(String),
    /// A fault of the schedule fails [`TimedFault::validate`]: `index` is its place in the list
    /// given to [`SimBuilder::faults`], `at` its time.
    #[error("invalid fault: faults[{index}] at {at}: {message}")]
    InvalidFault {
        index: usize,
        at: SimTime,
        message: String,
    },
    /// A link fails [`crate::NetworkConfig::validate`]: `link` is `None` for the default link.
    #[error("invalid network: {}: {message}", crate::net::link_words(*.link))]
    InvalidLink {
        link: Option<(NodeId, NodeId)>,
        message: String,
    },
}

/// What the outside world can see of a node.
#[derive(Debug)]
pub enum NodeView<'a, P> {
    Up(&'a P),
    Paused(&'a P),
    /// Crashed: its volatile state is gone.
    Down,
}

impl<'a, P> NodeView<'a, P> {
    /// The process state, if the node is not crashed.
    pub fn state(&self) -> Option<&'a P> {
        match *self {
            NodeView::Up(p) | NodeView::Paused(p) => Some(p),
            NodeView::Down => None,
        }
    }
}

type Factory<P> = Box<dyn FnMut(NodeId) -> P>;

/// A change to the faults and the network that waits for the node count: how a sweep draws a
/// seed's faults, or pins a shrink candidate's, into a builder its user configures.
pub(crate) type Reshape = Box<dyn FnOnce(u32, &mut Vec<TimedFault>, &mut NetworkConfig)>;

/// Configures and builds a [`Sim`].
pub struct SimBuilder {
    seed: u64,
    count: u64,
    names: Option<Vec<String>>,
    network: NetworkConfig,
    faults: Vec<TimedFault>,
    triggers: Vec<TriggeredFault>,
    limits: Limits,
    sink: Option<Box<dyn TraceSink>>,
    workload: Option<WorkloadConfig>,
    reshape: Option<Reshape>,
    pct: Option<Pct>,
    services: Vec<crate::services::Service>,
    topology: Option<Topology>,
}

impl SimBuilder {
    /// A builder for a run with this seed: 3 nodes, default network, no faults.
    pub fn new(seed: u64) -> SimBuilder {
        SimBuilder {
            seed,
            count: 3,
            names: None,
            network: NetworkConfig::default(),
            faults: Vec::new(),
            triggers: Vec::new(),
            limits: Limits::default(),
            sink: None,
            workload: None,
            reshape: None,
            pct: None,
            services: Vec::new(),
            topology: None,
        }
    }

    /// The seed of the run this builder makes.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Applies `reshape` to the faults and the network when the simulation is built, after
    /// everything the user set.
    pub(crate) fn reshape(mut self, reshape: Reshape) -> Self {
        self.reshape = Some(reshape);
        self
    }

    /// `count` nodes named `n1` … `n<count>`.
    pub fn nodes(mut self, count: u64) -> Self {
        self.count = count;
        self.names = None;
        self
    }

    /// Nodes with these names, in id order.
    pub fn node_names(mut self, names: Vec<String>) -> Self {
        self.count = names.len() as u64;
        self.names = Some(names);
        self
    }

    pub fn network(mut self, network: NetworkConfig) -> Self {
        self.network = network;
        self
    }

    /// Orders deliveries PCT-style: each receiver ranks its incoming links by an order drawn
    /// from the seed, a message's latency falls in its link's slice of the latency range,
    /// and at `depth - 1` random points each receiver's highest link drops to the lowest
    /// (see [`Pct`]).
    pub fn pct(mut self, pct: Pct) -> Self {
        self.pct = Some(pct);
        self
    }

    /// The fault schedule; applied in time order (ties in list order).
    pub fn faults(mut self, faults: Vec<TimedFault>) -> Self {
        self.faults = faults;
        self
    }

    /// Faults fired by events of the run rather than at a time (see
    /// [`crate::faults::trigger`]); at most [`crate::faults::trigger::TRIGGERS_MAX`].
    pub fn triggers(mut self, triggers: Vec<TriggeredFault>) -> Self {
        self.triggers = triggers;
        self
    }

    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Simulated clients that issue operations and record their history (see
    /// [`crate::workload`]); the protocol serves them in [`Process::on_request`].
    pub fn workload(mut self, workload: WorkloadConfig) -> Self {
        self.workload = Some(workload);
        self
    }

    /// The provided services the nodes may call with [`Ctx::call`] (see
    /// [`crate::services`]); calling one not named here is a mistake that panics.
    pub fn services(mut self, services: &[crate::services::Service]) -> Self {
        self.services = services.to_vec();
        self
    }

    /// Places the nodes (and the workload's clients) in regions: every link without an
    /// override of its own in [`SimBuilder::network`] takes the latency between its regions,
    /// and clients sit in their regions (see [`crate::net::Topology`]). Checked by
    /// [`Topology::validate`] and [`Topology::check_workload`] when the simulation is built.
    pub fn topology(mut self, topology: Topology) -> Self {
        self.topology = Some(topology);
        self
    }

    /// Sends every trace event to `sink` (the trace hash is computed either way).
    pub fn trace_sink(mut self, sink: Box<dyn TraceSink>) -> Self {
        self.sink = Some(sink);
        self
    }

    /// Builds the simulation; `factory` makes a fresh process for a node at boot and restart.
    pub fn build<P: Process>(
        mut self,
        factory: impl FnMut(NodeId) -> P + 'static,
    ) -> Result<Sim<P>, SimError> {
        let count = self.count as usize;
        if count == 0 {
            return Err(SimError::Invalid(
                "a simulation needs at least one node".into(),
            ));
        }
        let max = self.limits.max_nodes.min(NODES_MAX);
        if self.count > u64::from(max) {
            return Err(SimError::Limit {
                kind: LimitKind::Nodes,
                what: format!("{} nodes, more than the limit of {max}", self.count),
                at: SimTime::ZERO,
            });
        }
        let names = self
            .names
            .take()
            .unwrap_or_else(|| default_names(count as u32));
        if let Some(reshape) = self.reshape.take() {
            reshape(count as u32, &mut self.faults, &mut self.network);
        }
        self.validate(&names)?;
        let regions = match &self.topology {
            Some(t) => Some(std::sync::Arc::new(
                t.table(&names).map_err(topology_error)?,
            )),
            None => None,
        };
        let mut tracer = Tracer::new(self.seed);
        if let Some(sink) = self.sink {
            tracer.set_sink(sink);
        }
        let net_key = stream_key(self.seed, Stream::Network);
        let priorities = self.pct.map(|pct| (pct, self.seed));
        let calls = (!self.services.is_empty()).then(|| {
            Box::new(calls::Calls::new(
                self.seed,
                &self.services,
                &self.network.default,
            ))
        });
        let net = Network::new(
            self.network,
            count as u32,
            net_key,
            priorities,
            regions.clone(),
        );
        let rngs = rngs::NodeRngs::new(self.seed, count as u32);
        let mut core = Core::new(net, rngs, tracer, names);
        for i in 0..count as u32 {
            core.queue.push(SimTime::ZERO, EntryKind::Start, i);
        }
        core.triggers = Triggers::new(self.triggers);
        core.calls = calls;
        let mut faults = self.faults;
        faults.sort_by_key(|f| f.at);
        for (i, f) in faults.iter().enumerate() {
            core.queue.push(f.at, EntryKind::Fault, i as u32);
        }
        let faults_scheduled = faults.len();
        if let Some(workload) = self.workload {
            workload.validate().map_err(SimError::Invalid)?;
            core.clients = Clients::new(workload, self.seed, count as u32);
            if let (Some(table), Some(t)) = (regions, &self.topology)
                && !t.clients.is_empty()
            {
                core.clients.place(table, &t.placement());
            }
            core.start_clients();
        }
        let nodes = (0..count).map(|_| NodeRuntime::default()).collect();
        Ok(Sim {
            seed: self.seed,
            core,
            procs: (0..count).map(|_| None).collect(),
            status: vec![NodeStatus::Down; count],
            nodes,
            held: BTreeMap::new(),
            empty_storage: Storage::default(),
            faults,
            factory: Box::new(factory),
            limits: self.limits,
            render_state: None,
            summarize: None,
            rendered: BTreeMap::new(),
            stabilized_at: None,
            faults_scheduled,
        })
    }

    /// The checks the scenario parser makes too, with the same words: every fault
    /// ([`TimedFault::validate`]) and every link ([`crate::NetworkConfig::validate`]).
    fn validate(&self, names: &[String]) -> Result<(), SimError> {
        let count = names.len() as u32;
        for (index, f) in self.faults.iter().enumerate() {
            f.validate(count).map_err(|e| SimError::InvalidFault {
                index,
                at: f.at,
                message: e.message(names),
            })?;
        }
        if self.triggers.len() > TRIGGERS_MAX {
            return Err(SimError::Invalid(format!(
                "{} triggered faults, more than {TRIGGERS_MAX}",
                self.triggers.len()
            )));
        }
        for (index, t) in self.triggers.iter().enumerate() {
            t.validate(count).map_err(|message| {
                SimError::Invalid(format!(
                    "invalid triggered fault: triggers[{index}]: {message}"
                ))
            })?;
        }
        if let Some(pct) = &self.pct {
            pct.validate(count).map_err(SimError::Invalid)?;
        }
        if let Some(t) = &self.topology {
            // `build` checks the rest of the topology as it makes the table.
            let clients = self.workload.as_ref().map(|w| w.clients);
            t.check_workload(clients).map_err(topology_error)?;
        }
        self.network
            .validate(count)
            .map_err(|e| SimError::InvalidLink {
                link: e.link,
                message: e.message,
            })
    }
}

fn topology_error(message: String) -> SimError {
    SimError::Invalid(format!("topology: {message}"))
}

/// `n1` … `n<count>`.
pub fn default_names(count: u32) -> Vec<String> {
    (1..=count).map(|i| format!("n{i}")).collect()
}

/// A running simulation of protocol `P`.
pub struct Sim<P: Process> {
    seed: u64,
    pub(crate) core: Core<P>,
    pub(crate) procs: Vec<Option<P>>,
    /// Each node's status, apart from [`NodeRuntime`] so that the check on every delivery
    /// reads a dense array rather than a large per-node record.
    pub(crate) status: Vec<NodeStatus>,
    pub(crate) nodes: Vec<NodeRuntime>,
    /// Deliveries, timers and requests that arrived at a paused node, in arrival order.
    pub(crate) held: BTreeMap<NodeId, Vec<queue::Entry>>,
    /// What [`Sim::storage`] shows for a node that never used its storage.
    empty_storage: Storage,
    pub(crate) faults: Vec<TimedFault>,
    factory: Factory<P>,
    pub(crate) limits: Limits,
    /// Set by [`Sim::record_states`].
    render_state: Option<states::RenderState<P>>,
    /// Set by [`Sim::record_summaries`].
    summarize: Option<summaries::Summarize<P>>,
    /// While recording states: each node's state as its last handler left it, rendered.
    pub(crate) rendered: BTreeMap<NodeId, String>,
    /// When the liveness phase (`Fault::Stabilize`) began, if it has.
    pub(crate) stabilized_at: Option<SimTime>,
    /// How many of `faults` were scheduled at the start; those after them were fired by
    /// triggers.
    pub(crate) faults_scheduled: usize,
}

impl<P: Process> Sim<P> {
    fn make_process(&mut self, id: NodeId) -> P {
        (self.factory)(id)
    }
}

/// The text a panic carried, for reports that name a protocol's panic.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a panic without a message)".to_string()
    }
}
