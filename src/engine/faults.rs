//! Applying scheduled faults to the network and the nodes.

use super::Sim;
use super::Touched;
use super::node::NodeStatus;
use super::process::Process;
use super::queue::EntryKind;
use crate::faults::Fault;
use crate::ids::NodeId;
use crate::trace::{DropReason, TraceKind, content_hash};

/// What applying a fault did, for the trace.
enum Effect {
    /// Record this kind, with the fault's description as detail.
    Record(TraceKind),
    /// The fault recorded its own events.
    Recorded,
    /// The node was not in a state the fault applies to.
    None,
}

impl<P: Process> Sim<P> {
    pub(crate) fn apply_fault(&mut self, index: usize) {
        if index >= self.faults_scheduled && self.stabilized_at.is_some() {
            // Fired by a trigger before the liveness phase and due after it began: faults
            // stop when it begins.
            return;
        }
        self.core.touched = Touched::All;
        let fault = self.faults[index].fault.clone();
        self.core.stats.faults_applied += 1;
        let text = fault.describe(&self.core.names);
        let (node, kind) = match fault {
            Fault::Partition(ref groups) => {
                self.core.net.partitions.partition(groups);
                (NodeId(0), Effect::Record(TraceKind::Partition))
            }
            Fault::Cut { from, to } => {
                self.core.net.partitions.cut(from, to);
                (from, Effect::Record(TraceKind::Partition))
            }
            Fault::Isolate(n) => {
                self.core.net.partitions.isolate(n);
                (n, Effect::Record(TraceKind::Partition))
            }
            Fault::Heal(None) => {
                self.core.net.heal_all();
                (NodeId(0), Effect::Record(TraceKind::Heal))
            }
            Fault::Heal(Some(n)) => {
                self.core.net.heal_node(n);
                (n, Effect::Record(TraceKind::Heal))
            }
            Fault::Clog { from, to, until } => {
                self.core.net.expire_clogs(self.core.now);
                self.core.net.clog(from, to, until);
                (from, Effect::Record(TraceKind::Clog { to, until }))
            }
            Fault::Crash(n) => (n, self.crash(n)),
            Fault::Restart(n) => (n, self.restart(n)),
            Fault::Pause(n) => (n, self.pause(n)),
            Fault::Resume(n) => (n, self.resume(n)),
            Fault::ClockSkew {
                node,
                offset,
                drift,
            } => {
                self.nodes[node.index()]
                    .clock_mut()
                    .skew(self.core.now, offset, drift);
                let drift_ppm = ((drift - 1.0) * 1e6).round() as i64;
                (
                    node,
                    Effect::Record(TraceKind::ClockSkew { offset, drift_ppm }),
                )
            }
            Fault::ClockJump { node, by } => {
                self.nodes[node.index()].clock_mut().jump(self.core.now, by);
                (node, Effect::Record(TraceKind::ClockJump { by }))
            }
            Fault::Stabilize { majority } => {
                self.stabilize(majority, &text);
                (NodeId(0), Effect::Recorded)
            }
        };
        match kind {
            Effect::Recorded => {}
            Effect::Record(kind) => {
                let note = crate::engine::core::Note(&text);
                let now = self.core.now;
                self.core
                    .tracer
                    .record(now, node, kind, content_hash(&text), Some(&note));
            }
            Effect::None => {
                let note = format!(
                    "{text}: no effect, {} is {}",
                    self.core.names[node.index()],
                    status_word(self.status[node.index()])
                );
                self.core.record_note(node, &note);
            }
        }
    }

    /// The liveness phase: heal every link, bring the core up, crash everyone else.
    fn stabilize(&mut self, majority: bool, text: &str) {
        self.stabilized_at = Some(self.core.now);
        if let Some(t) = self.core.triggers.as_deref_mut() {
            t.disarm();
        }
        self.core.net.heal_all();
        let core = self.healthy_core(majority);
        let names: Vec<&str> = core.iter().map(|&n| self.core.node_name(n)).collect();
        let note = format!("{text}; core: {}", names.join(", "));
        let note_ref = crate::engine::core::Note(&note);
        let content = content_hash(&note);
        let now = self.core.now;
        self.core
            .tracer
            .record(now, NodeId(0), TraceKind::Heal, content, Some(&note_ref));
        for id in (0..self.core.node_count()).map(NodeId) {
            let in_core = core.contains(&id);
            match self.status[id.index()] {
                NodeStatus::Paused if in_core => drop(self.resume_recorded(id)),
                NodeStatus::Down if in_core => drop(self.restart(id)),
                NodeStatus::Up | NodeStatus::Paused if !in_core => drop(self.crash(id)),
                _ => {}
            }
        }
    }

    /// Every node, or the smallest majority: up nodes first, then paused, then down, each by id.
    fn healthy_core(&self, majority: bool) -> Vec<NodeId> {
        let n = self.core.node_count();
        let mut ids: Vec<NodeId> = (0..n).map(NodeId).collect();
        if majority {
            let rank = |s: NodeStatus| match s {
                NodeStatus::Up => 0,
                NodeStatus::Paused => 1,
                NodeStatus::Down => 2,
            };
            ids.sort_by_key(|id| (rank(self.status[id.index()]), id.0));
            ids.truncate(n as usize / 2 + 1);
            ids.sort();
        }
        ids
    }

    /// Resumes a paused node and records it.
    fn resume_recorded(&mut self, id: NodeId) -> Effect {
        if let Effect::Record(kind) = self.resume(id) {
            self.core.tracer.record(self.core.now, id, kind, 0, None);
        }
        Effect::Recorded
    }

    fn crash(&mut self, id: NodeId) -> Effect {
        if self.status[id.index()] == NodeStatus::Down {
            return Effect::None;
        }
        self.status[id.index()] = NodeStatus::Down;
        let node = &mut self.nodes[id.index()];
        node.epoch += 1;
        let lost = node.crash_storage();
        let held = self.held.remove(&id).unwrap_or_default();
        self.procs[id.index()] = None;
        self.rendered.remove(&id);
        self.core.stats.crashes += 1;
        let kind = TraceKind::Crash {
            lost_writes: lost as u32,
        };
        self.core.tracer.record(self.core.now, id, kind, 0, None);
        for entry in held {
            match entry.kind {
                EntryKind::Deliver => self.core.drop_arrived(entry.slot, DropReason::NodeDown),
                EntryKind::Timer => drop(self.core.timers.remove(entry.slot)),
                EntryKind::Request => self.core.lose_request(entry.slot),
                EntryKind::ServiceReturn => self.core.lose_answer(entry.slot),
                EntryKind::Fault
                | EntryKind::Start
                | EntryKind::ClientTick
                | EntryKind::ClientTimeout
                | EntryKind::Reply
                | EntryKind::ServiceCall => {
                    unreachable!("only deliveries, timers and requests are held")
                }
            }
        }
        // The crash record comes before the drops it causes.
        Effect::Recorded
    }

    fn restart(&mut self, id: NodeId) -> Effect {
        if self.status[id.index()] != NodeStatus::Down {
            return Effect::None;
        }
        self.core.stats.restarts += 1;
        self.start_node(id, TraceKind::Restart);
        Effect::Recorded
    }

    fn pause(&mut self, id: NodeId) -> Effect {
        let status = &mut self.status[id.index()];
        if *status != NodeStatus::Up {
            return Effect::None;
        }
        *status = NodeStatus::Paused;
        Effect::Record(TraceKind::Pause)
    }

    fn resume(&mut self, id: NodeId) -> Effect {
        let status = &mut self.status[id.index()];
        if *status != NodeStatus::Paused {
            return Effect::None;
        }
        *status = NodeStatus::Up;
        // Held events run now, in the order they arrived.
        for entry in self.held.remove(&id).unwrap_or_default() {
            self.core.queue.push(self.core.now, entry.kind, entry.slot);
        }
        Effect::Record(TraceKind::Resume)
    }
}

fn status_word(status: NodeStatus) -> &'static str {
    match status {
        NodeStatus::Up => "up",
        NodeStatus::Paused => "paused",
        NodeStatus::Down => "down",
    }
}
