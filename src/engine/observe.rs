//! What the outside sees of a run: the clock, the nodes and their states, the network,
//! the clients' history and the trace, for checks, reports and tests.

use super::{NodeStatus, NodeView, Process, Sim, Stats, Touched};
use crate::faults::TimedFault;
use crate::ids::NodeId;
use crate::net::NetworkConfig;
use crate::storage::Storage;
use crate::time::SimTime;
use crate::trace::TraceSink;
use crate::workload::{HistoryLog, WorkloadConfig};

impl<P: Process> Sim<P> {
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Current simulated (true) time.
    pub fn now(&self) -> SimTime {
        self.core.now
    }

    pub fn stats(&self) -> &Stats {
        &self.core.stats
    }

    /// When the liveness phase began (a `Fault::Stabilize` applied), if it has: conditions
    /// such as [`crate::check::clients_served`] judge what happened since.
    pub fn stabilized_at(&self) -> Option<SimTime> {
        self.stabilized_at
    }

    /// The run's triggered faults, in words, and whether each has fired so far.
    pub fn triggers_fired(&self) -> Vec<(String, bool)> {
        let Some(t) = self.core.triggers.as_deref() else {
            return Vec::new();
        };
        t.all()
            .map(|(spec, fired)| (spec.describe(&self.core.names), fired))
            .collect()
    }

    /// The hash of the trace so far: equal for equal runs.
    pub fn trace_hash(&self) -> u64 {
        self.core.tracer.hash()
    }

    /// Trace events recorded so far.
    pub fn trace_len(&self) -> u64 {
        self.core.tracer.count()
    }

    pub fn node_count(&self) -> u32 {
        self.core.node_count()
    }

    pub fn node_ids(&self) -> impl Iterator<Item = NodeId> + use<P> {
        (0..self.core.node_count()).map(NodeId)
    }

    pub fn node_names(&self) -> &[String] {
        &self.core.names
    }

    pub fn node_name(&self, id: NodeId) -> &str {
        self.core.node_name(id)
    }

    /// The node with this name, if any.
    pub fn node_by_name(&self, name: &str) -> Option<NodeId> {
        self.core
            .names
            .iter()
            .position(|n| n == name)
            .map(|i| NodeId(i as u32))
    }

    /// A node's state as the outside sees it.
    pub fn node(&self, id: NodeId) -> NodeView<'_, P> {
        match (self.status[id.index()], &self.procs[id.index()]) {
            (NodeStatus::Up, Some(p)) => NodeView::Up(p),
            (NodeStatus::Paused, Some(p)) => NodeView::Paused(p),
            _ => NodeView::Down,
        }
    }

    /// Every node's state by id, `None` for a node that is down: what
    /// [`NodeView::state`] gives for each, as one slice for checks that read every node.
    pub fn states(&self) -> &[Option<P>] {
        debug_assert!(
            self.status
                .iter()
                .zip(&self.procs)
                .all(|(s, p)| (*s == NodeStatus::Down) == p.is_none())
        );
        &self.procs
    }

    /// Every node's view, in id order.
    pub fn nodes(&self) -> impl Iterator<Item = (NodeId, NodeView<'_, P>)> {
        self.node_ids().map(move |id| (id, self.node(id)))
    }

    pub fn status(&self, id: NodeId) -> NodeStatus {
        self.status[id.index()]
    }

    /// A node's durable storage (what a restart would recover, plus unsynced writes).
    pub fn storage(&self, id: NodeId) -> &Storage {
        self.nodes[id.index()]
            .storage()
            .unwrap_or(&self.empty_storage)
    }

    /// The fault schedule as built, sorted by time; faults that triggers fire are not in
    /// it (the triggers are, as given to [`super::SimBuilder::triggers`]).
    pub fn faults(&self) -> &[TimedFault] {
        &self.faults[..self.faults_scheduled]
    }

    /// The network as configured: the default link and the per-link overrides (with what a
    /// sweep drew for the seed).
    pub fn network(&self) -> &NetworkConfig {
        self.core.net.config()
    }

    /// Sends every trace event from now on to `sink`: for a replay that captures a run built
    /// by someone else's closure. `false` (and no sink) once the run has begun.
    pub(crate) fn capture_trace(&mut self, sink: Box<dyn TraceSink>) -> bool {
        if self.trace_len() > 0 {
            return false;
        }
        self.core.tracer.set_sink(sink);
        true
    }

    /// Messages still in the network (queued, or held at a paused node).
    pub fn in_flight(&self) -> u64 {
        self.core.in_flight()
    }

    /// Whether some link is cut now (a partition, an isolated node or a one-way cut).
    pub fn partitioned(&self) -> bool {
        self.core.net.partitions.is_active()
    }

    /// The operations the clients ran so far (empty without a workload).
    pub fn history(&self) -> &HistoryLog {
        &self.core.clients.log
    }

    /// The run's simulated clients, if it has any.
    pub fn workload(&self) -> Option<&WorkloadConfig> {
        self.core.clients.config()
    }

    /// Whether the last event ran a process handler or applied a fault: only those change
    /// node states. Client-side events (invocations, replies reaching clients, timeouts),
    /// messages dropped or held on arrival, and cancelled timers do not.
    pub fn last_event_touched_nodes(&self) -> bool {
        self.core.touched != Touched::Nothing
    }

    /// Which nodes the last event may have changed (see [`Sim::last_event_touched_nodes`]).
    pub fn last_event_touched(&self) -> Touched {
        self.core.touched
    }

    /// Time of the next event, if any.
    pub fn next_event_time(&self) -> Option<SimTime> {
        self.core.queue.peek_time()
    }

    /// Time of the next event, like [`Sim::next_event_time`], but cheaper when the caller
    /// steps to it next: the queue brings the next event to its front now instead of
    /// searching for it twice. It changes nothing a run can observe.
    pub fn next_event_time_mut(&mut self) -> Option<SimTime> {
        self.core.queue.next_time()
    }

    /// Removes the trace sink (flushing it first), e.g. to read what it collected.
    pub fn finish_trace(&mut self) -> Option<Result<Box<dyn TraceSink>, std::io::Error>> {
        let mut sink = self.core.tracer.take_sink()?;
        Some(sink.finish().map(|_| sink))
    }

    /// Asserts that every message is accounted for:
    /// sent + duplicated = delivered + dropped + in flight.
    pub fn assert_conservation(&self) {
        let s = &self.core.stats;
        let created = s.sent + s.duplicated;
        let accounted = s.delivered + s.dropped.total() + self.core.in_flight();
        assert_eq!(
            created,
            accounted,
            "messages not conserved: sent {} + duplicated {} != delivered {} + dropped {} + in flight {}",
            s.sent,
            s.duplicated,
            s.delivered,
            s.dropped.total(),
            self.core.in_flight()
        );
    }
}
