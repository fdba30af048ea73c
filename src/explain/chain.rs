//! The causal chain of a violation: the events that happened before it, cut to the few that
//! matter, in happened-before order. "Before it" means before the violating state: the state of
//! every node involved when the violation was found, so the past of each one's latest event.
//!
//! Candidates come with a priority, and the most important [`MAX_STEPS`] are kept:
//! 0. the violating step itself (the event after which the property was found broken, and
//!    the notes its handler wrote), or the history's first named op;
//! 1. the backbone: from that step, back along the messages that caused it (the delivery,
//!    the handler that sent the message, the delivery that ran that handler, ...);
//! 2. crashes, restarts, pauses and clock faults of the nodes involved or on the backbone,
//!    the latest duplicates delivered to a node involved (with their delivery), and the
//!    latest partition, heal or clog that names a node involved;
//! 3. how each other node involved got into its state: its latest note and its own backbone,
//!    or else the latest message it took from another node involved;
//! 4. earlier partitions, heals and clogs that name a node involved, and, for a violation found at
//!    the end of the run, the latest messages dropped between nodes involved;
//! 5. the other ops a history violation names, older notes of the nodes involved, and for a
//!    violation found at the end, each involved node's last event;
//! 6. any other fault that happened before;
//! 7. other messages dropped between nodes involved.

use super::capture::Captured;
use super::causality::{Causality, EventIndex};
use super::cone::Cone;
use crate::check::OpRef;
use crate::trace::{TraceKind, client_op};
use std::collections::BTreeMap;

/// At most this many steps are shown; the rest are counted as omitted.
pub const MAX_STEPS: usize = 12;
/// Message hops followed back from the violating step.
const BACKBONE_HOPS: usize = 4;
/// Message hops followed back from another involved node's latest state change.
const SIDE_HOPS: usize = 2;
/// Duplicates that reached, and drops between, the nodes involved shown first (latest first).
const NEAR_NETWORK_FAULTS: usize = 3;
/// A handler writes at most this many records after the event that ran it (a bound on scans).
const MAX_HANDLER_RECORDS: usize = 4096;
/// Candidates of one kind (notes, faults) looked at, latest first.
const MAX_CANDIDATES_PER_KIND: usize = 64;

/// One step of the chain: an event, and for a delivery the send it received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    pub event: EventIndex,
    pub send: Option<EventIndex>,
}

/// The steps kept, in trace order (a linear extension of happened-before), and how many
/// candidates were left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chain {
    pub steps: Vec<Step>,
    pub omitted: usize,
    /// The events the violation was found at (the violating event, or the named ops' events).
    pub anchors: Vec<EventIndex>,
}

/// What a violation points at: the event after which it was found, its nodes, its ops.
pub struct Focus<'a> {
    pub event: Option<u64>,
    pub nodes: &'a [String],
    pub ops: &'a [OpRef],
}

/// What the look at the surroundings counted so far, to keep each kind's candidates bounded.
#[derive(Default)]
struct Tally {
    /// Candidates by kind: faults of nodes, cuts, notes, duplicates, drops.
    counts: [usize; 5],
    /// Duplicates shown early, and drops shown early at the end of a run.
    early_duplicates: usize,
    early_drops: usize,
    latest_cut_seen: bool,
    /// The violation was found at the end of the run, not after an event.
    at_end: bool,
}

struct Picker<'a> {
    events: &'a [Captured],
    causality: &'a Causality,
    anchors: Vec<EventIndex>,
    /// The past of the anchors, once they are all known.
    cone: Cone,
    /// The host of the violating event, whose own state the backbone explains.
    main_host: Option<usize>,
    /// Hosts of the nodes involved.
    involved: Vec<usize>,
    /// Candidate → (priority, order added).
    picked: BTreeMap<EventIndex, (u8, usize)>,
}

/// Builds the chain of the violation `focus` over a whole captured trace.
pub fn chain(events: &[Captured], causality: &Causality, focus: &Focus<'_>) -> Chain {
    let mut p = Picker {
        events,
        causality,
        anchors: Vec::new(),
        cone: Cone::default(),
        main_host: None,
        involved: focus
            .nodes
            .iter()
            .filter_map(|n| {
                causality.hosts[..causality.node_count]
                    .iter()
                    .position(|h| h == n)
            })
            .collect(),
        picked: BTreeMap::new(),
    };
    if events.is_empty() {
        return Chain {
            steps: Vec::new(),
            omitted: 0,
            anchors: Vec::new(),
        };
    }
    match (focus.event, focus.ops.is_empty()) {
        (Some(e), _) => p.violating_event(e as usize),
        (None, false) => p.history_ops(focus.ops),
        (None, true) => p.at_end(),
    }
    if p.anchors.is_empty() {
        // Ops the trace does not hold: explain it as found at the end.
        p.at_end();
    }
    p.cone = Cone::new(causality, &p.anchors);
    p.other_nodes();
    p.surroundings();
    p.finish()
}

impl Picker<'_> {
    fn add(&mut self, i: EventIndex, priority: u8) {
        let order = self.picked.len();
        let entry = self.picked.entry(i).or_insert((priority, order));
        entry.0 = entry.0.min(priority);
    }

    /// Whether `i` is an anchor or happened before one.
    fn in_past(&self, i: EventIndex) -> bool {
        self.cone.contains(i)
    }

    fn kind(&self, i: EventIndex) -> TraceKind {
        self.events[i].event.kind
    }

    /// Whether event `i` was written by a handler that an earlier event of its host ran.
    fn is_effect(&self, i: EventIndex) -> bool {
        match self.kind(i) {
            TraceKind::Send { .. }
            | TraceKind::Duplicate { .. }
            | TraceKind::Note
            | TraceKind::Reply { .. } => true,
            TraceKind::Drop { from, .. } => from == self.events[i].event.node,
            _ => false,
        }
    }

    /// The event that ran the handler which wrote `i` (`i` itself if it ran one).
    fn trigger(&self, i: EventIndex) -> EventIndex {
        let mut cur = i;
        for _ in 0..MAX_HANDLER_RECORDS {
            if !self.is_effect(cur) {
                return cur;
            }
            match self.causality.local_pred(cur) {
                Some(p) if self.events[p].event.time == self.events[cur].event.time => cur = p,
                _ => return cur,
            }
        }
        cur
    }

    /// Follows messages back from `from`: each handler's trigger, and the send it received.
    fn backbone(&mut self, from: EventIndex, hops: usize, priority: u8) {
        let mut cur = from;
        for _ in 0..hops {
            let t = self.trigger(cur);
            self.add(t, priority);
            match self.causality.remote_pred(t) {
                Some(s) => cur = s,
                None => return,
            }
        }
    }

    fn violating_event(&mut self, e: EventIndex) {
        let e = e.min(self.events.len() - 1);
        self.anchors.push(e);
        self.add(e, 0);
        // The notes the violating handler wrote say what state it reached.
        let host = self.causality.host_of(e);
        let end = (e + MAX_HANDLER_RECORDS).min(self.events.len());
        for j in e + 1..end {
            if self.causality.host_of(j) != host || !self.is_effect(j) {
                break;
            }
            if self.kind(j) == TraceKind::Note {
                self.anchors.push(j);
                self.add(j, 0);
            }
        }
        // The violating state is every involved node's state then, not only the last one's.
        for &host in &self.involved.clone() {
            let latest = self.causality.latest_on_host(host, e);
            self.anchors.extend(latest);
        }
        self.backbone(e, BACKBONE_HOPS, 1);
        self.main_host = Some(self.causality.host_of(e));
    }

    /// The events of `host` at or before `at`, latest first.
    fn host_events(&self, host: usize, at: EventIndex) -> impl Iterator<Item = EventIndex> + '_ {
        std::iter::successors(self.causality.latest_on_host(host, at), |&i| {
            self.causality.local_pred(i)
        })
    }

    /// For each involved node but the violating event's: its latest note and what led to it.
    fn other_nodes(&mut self) {
        let others: Vec<usize> = self
            .involved
            .iter()
            .copied()
            .filter(|&h| Some(h) != self.main_host)
            .collect();
        let last = *self.anchors.iter().max().expect("anchors are set first");
        for host in others {
            let latest_note = self
                .host_events(host, last)
                .find(|&i| self.kind(i) == TraceKind::Note && self.in_past(i));
            if let Some(n) = latest_note {
                self.add(n, 3);
                self.backbone(n, SIDE_HOPS, 3);
                continue;
            }
            // No note: the latest message it took from another node involved.
            let latest_receive = self.host_events(host, last).find(|&i| {
                matches!(self.kind(i), TraceKind::Deliver { .. })
                    && self.causality.remote_pred(i).is_some_and(|s| {
                        let from = self.causality.host_of(s);
                        from != host && self.involved.contains(&from)
                    })
                    && self.in_past(i)
            });
            if let Some(r) = latest_receive {
                self.add(r, 3);
            }
        }
    }

    fn history_ops(&mut self, ops: &[OpRef]) {
        let mut by_op: BTreeMap<(u32, u32), Vec<EventIndex>> = BTreeMap::new();
        for (i, c) in self.events.iter().enumerate() {
            if let Some(key) = client_op(&c.event.kind)
                && ops.iter().any(|o| (o.client, o.seq) == key)
            {
                by_op.entry(key).or_default().push(i);
            }
        }
        for (rank, op) in ops.iter().enumerate() {
            let Some(found) = by_op.get(&(op.client, op.seq)) else {
                continue;
            };
            if rank < 2 {
                self.anchors.extend(found.iter().copied());
            }
            for &i in found {
                // The node that served the op is involved too.
                let host = self.causality.host_of(i);
                if host < self.causality.node_count && rank < 2 && !self.involved.contains(&host) {
                    self.involved.push(host);
                }
            }
            let (priority, hops) = match rank {
                0 => (0, BACKBONE_HOPS),
                1 => (1, SIDE_HOPS),
                _ => (5, 0),
            };
            for &i in found {
                let show = rank < 2 || !matches!(self.kind(i), TraceKind::Request { .. });
                if show {
                    self.add(i, priority);
                }
            }
            let reply = found
                .iter()
                .rev()
                .find(|&&i| matches!(self.kind(i), TraceKind::Reply { .. }));
            if let Some(&r) = reply {
                self.backbone(r, hops, priority.max(1));
            }
        }
    }

    /// A violation found at the end of the run: the involved nodes' latest states.
    fn at_end(&mut self) {
        let hosts: Vec<usize> = if self.involved.is_empty() {
            (0..self.causality.node_count).collect()
        } else {
            self.involved.clone()
        };
        let end = self.events.len() - 1;
        for host in hosts {
            let last = self.causality.latest_on_host(host, end);
            self.anchors.extend(last);
        }
        if self.anchors.is_empty() {
            self.anchors.push(self.events.len() - 1);
        }
        for &a in &self.anchors.clone() {
            self.add(a, 5);
        }
    }

    /// Faults and notes around the chain, by priority.
    fn surroundings(&mut self) {
        let last = *self.anchors.iter().max().expect("anchors are set");
        let mut hosts = self.involved.clone();
        hosts.extend(self.picked.keys().map(|&i| self.causality.host_of(i)));
        let deliveries = self.copies_delivered(last);
        let mut tally = Tally {
            at_end: self.picked.values().all(|&(p, _)| p > 0),
            ..Tally::default()
        };
        let past: Vec<EventIndex> = self.past(last).collect();
        for i in past {
            let near = hosts.contains(&(self.causality.host_of(i)));
            let Some((slot, priority)) = self.classify(i, near, &deliveries, &mut tally) else {
                continue;
            };
            if tally.counts[slot] < MAX_CANDIDATES_PER_KIND {
                tally.counts[slot] += 1;
                self.add(i, priority);
            }
        }
    }

    /// The events up to `last` that the violating state could have felt, latest first.
    fn past(&self, last: EventIndex) -> impl Iterator<Item = EventIndex> + '_ {
        (0..=last)
            .rev()
            .filter(|&i| self.felt_without_messages(i) || self.in_past(i))
    }

    /// Where the copies of the latest duplicates sent to nodes involved were delivered, by
    /// copy id: only those few are looked up, so the map stays small however long the run.
    fn copies_delivered(&self, last: EventIndex) -> BTreeMap<u64, EventIndex> {
        let copies: Vec<u64> = self
            .past(last)
            .filter_map(|i| match self.kind(i) {
                TraceKind::Duplicate { to, copy_id, .. } if self.involved.contains(&to.index()) => {
                    Some(copy_id)
                }
                _ => None,
            })
            .take(MAX_CANDIDATES_PER_KIND)
            .collect();
        if copies.is_empty() {
            return BTreeMap::new();
        }
        self.past(last)
            .filter_map(|j| match self.kind(j) {
                TraceKind::Deliver { msg_id, .. } if copies.contains(&msg_id) => Some((msg_id, j)),
                _ => None,
            })
            .collect()
    }

    /// Cuts and heals act on the network, not on one node, and a crash or pause of a node
    /// involved is felt by the others as silence: earlier in time is enough for them.
    fn felt_without_messages(&self, i: EventIndex) -> bool {
        match self.kind(i) {
            TraceKind::Partition | TraceKind::Heal | TraceKind::Clog { .. } => true,
            TraceKind::Crash { .. } | TraceKind::Restart | TraceKind::Pause | TraceKind::Resume => {
                self.involved.contains(&(self.causality.host_of(i)))
            }
            _ => false,
        }
    }

    /// The candidate kind (a slot of [`Tally::counts`]) and priority of past event `i`.
    fn classify(
        &mut self,
        i: EventIndex,
        near: bool,
        deliveries: &BTreeMap<u64, EventIndex>,
        tally: &mut Tally,
    ) -> Option<(usize, u8)> {
        let host = self.causality.host_of(i);
        match self.kind(i) {
            TraceKind::Duplicate { to, copy_id, .. } => {
                if !self.involved.contains(&to.index())
                    || tally.early_duplicates >= NEAR_NETWORK_FAULTS
                {
                    return None;
                }
                let &copy = deliveries.get(&copy_id)?;
                tally.early_duplicates += 1;
                self.add(copy, 2);
                Some((3, 2))
            }
            TraceKind::Drop { from, to, .. } => {
                self.drop_priority([from.index(), to.index()], tally)
            }
            TraceKind::Crash { .. }
            | TraceKind::Restart
            | TraceKind::Pause
            | TraceKind::Resume
            | TraceKind::ClockSkew { .. }
            | TraceKind::ClockJump { .. } => Some((0, if near { 2 } else { 6 })),
            TraceKind::Partition | TraceKind::Heal | TraceKind::Clog { .. } => {
                // The latest cut of a node involved is the network's state at the end.
                match (self.names_involved(i), tally.latest_cut_seen) {
                    (true, false) => {
                        tally.latest_cut_seen = true;
                        Some((1, 2))
                    }
                    (true, true) => Some((1, 4)),
                    (false, _) => Some((1, 6)),
                }
            }
            TraceKind::Note if self.involved.contains(&host) => Some((2, 5)),
            _ => None,
        }
    }

    /// A drop between nodes involved; at the end of a run (where a value never arrived), a
    /// drop to or from one, and the latest few of them early.
    fn drop_priority(&self, ends: [usize; 2], tally: &mut Tally) -> Option<(usize, u8)> {
        let involved = |h: &usize| self.involved.contains(h);
        let relevant = if tally.at_end {
            ends.iter().any(involved)
        } else {
            ends.iter().all(involved)
        };
        if !relevant {
            return None;
        }
        if tally.at_end && tally.early_drops < NEAR_NETWORK_FAULTS {
            tally.early_drops += 1;
            Some((4, 4))
        } else {
            Some((4, 7))
        }
    }

    /// Whether a partition, heal or clog happened at, or names, a node involved.
    fn names_involved(&self, i: EventIndex) -> bool {
        let host = self.causality.host_of(i);
        if self.involved.contains(&host) {
            return true;
        }
        let detail = self.events[i].detail.as_deref().unwrap_or("");
        detail
            .split(|c: char| !c.is_alphanumeric() && c != '_' && c != '-')
            .any(|word| {
                self.involved
                    .iter()
                    .any(|&h| self.causality.hosts[h] == word)
            })
    }

    fn finish(self) -> Chain {
        let mut ranked: Vec<(u8, usize, EventIndex)> = self
            .picked
            .iter()
            .map(|(&i, &(priority, order))| (priority, order, i))
            .collect();
        ranked.sort_unstable();
        let omitted = ranked.len().saturating_sub(MAX_STEPS);
        let mut kept: Vec<EventIndex> = ranked.iter().take(MAX_STEPS).map(|r| r.2).collect();
        kept.sort_unstable();
        let steps = kept
            .into_iter()
            .map(|i| Step {
                event: i,
                send: match self.kind(i) {
                    TraceKind::Deliver { .. } | TraceKind::Hold { .. } | TraceKind::Drop { .. } => {
                        self.causality.remote_pred(i)
                    }
                    _ => None,
                },
            })
            .collect();
        let mut anchors = self.anchors;
        anchors.sort_unstable();
        anchors.dedup();
        Chain {
            steps,
            omitted,
            anchors,
        }
    }
}
