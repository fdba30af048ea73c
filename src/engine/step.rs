//! The step loop: pop the earliest event, advance time, dispatch.

use super::Touched;
use super::node::NodeStatus;
use super::process::Process;
use super::queue::{Entry, EntryKind};
use super::{LimitKind, Sim, SimError};
use crate::ids::NodeId;
use crate::time::SimTime;
use crate::trace::{DropReason, TraceKind};

impl<P: Process> Sim<P> {
    /// Processes the next event. Returns its time, or `None` when no event is left.
    pub fn step(&mut self) -> Result<Option<SimTime>, SimError> {
        let Some(next) = self.core.queue.next_time() else {
            return Ok(None);
        };
        self.step_at(next)?;
        Ok(Some(next))
    }

    /// Processes the next event, at `next`, which the caller just took from
    /// [`Sim::next_event_time_mut`]: the queue is not asked again.
    #[inline(always)]
    pub fn step_next(&mut self, next: SimTime) -> Result<(), SimError> {
        debug_assert_eq!(
            Some(next),
            self.core.queue.next_time(),
            "not the next event"
        );
        self.step_at(next)
    }

    /// Processes the next event, which the queue said is at `next`. Inlined into the run
    /// loop, with the limit errors out of line: the loop then pays no call per event.
    #[inline(always)]
    fn step_at(&mut self, next: SimTime) -> Result<(), SimError> {
        if next > self.limits.max_time || self.core.stats.events >= self.limits.max_events {
            return Err(self.limit_before(next));
        }
        let entry = self.core.queue.pop().expect("peeked entry");
        self.dispatch(entry);
        if self
            .core
            .triggers
            .as_deref()
            .is_some_and(|t| !t.fired.is_empty())
        {
            self.schedule_fired();
        }
        if self.core.queue.len() as u64 > self.limits.max_queue {
            return Err(self.queue_limit());
        }
        Ok(())
    }

    /// Puts the faults triggers fired into the schedule, each noted in the trace.
    #[cold]
    #[inline(never)]
    fn schedule_fired(&mut self) {
        let fired = match self.core.triggers.as_deref_mut() {
            Some(t) => std::mem::take(&mut t.fired),
            None => return,
        };
        for f in fired {
            self.core.note_fired(f.node, f.index);
            let index = self.faults.len() as u32;
            self.faults.push(crate::faults::TimedFault {
                at: f.at,
                fault: f.fault,
            });
            self.core.queue.push(f.at, EntryKind::Fault, index);
        }
    }

    /// Processes every event up to and including `until`, then moves the clock to `until`.
    pub fn run_until(&mut self, until: SimTime) -> Result<(), SimError> {
        while let Some(next) = self.core.queue.next_time() {
            if next > until {
                break;
            }
            self.step_at(next)?;
        }
        if until > self.core.now && until <= self.limits.max_time {
            self.core.now = until;
        }
        assert!(self.conserved(), "messages not conserved");
        Ok(())
    }

    /// Processes events until none is left (or a limit stops the run).
    pub fn run(&mut self) -> Result<(), SimError> {
        while self.step()?.is_some() {}
        assert!(self.conserved(), "messages not conserved");
        Ok(())
    }

    fn conserved(&self) -> bool {
        let s = &self.core.stats;
        s.sent + s.duplicated == s.delivered + s.dropped.total() + self.core.in_flight()
    }

    /// The limit that stops the event at `next`: time first, then the count of events.
    #[cold]
    #[inline(never)]
    fn limit_before(&self, next: SimTime) -> SimError {
        if next > self.limits.max_time {
            return self.limit(
                LimitKind::Time,
                format!(
                    "the next event is at {next}, after the time limit {}",
                    self.limits.max_time
                ),
            );
        }
        debug_assert!(self.core.stats.events >= self.limits.max_events);
        self.limit(
            LimitKind::Events,
            format!(
                "{} events processed by {}",
                self.core.stats.events, self.core.now
            ),
        )
    }

    #[cold]
    #[inline(never)]
    fn queue_limit(&self) -> SimError {
        self.limit(
            LimitKind::Queue,
            format!("{} events waiting in the queue", self.core.queue.len()),
        )
    }

    fn limit(&self, kind: LimitKind, what: String) -> SimError {
        SimError::Limit {
            kind,
            what,
            at: self.core.now,
        }
    }

    #[inline]
    fn dispatch(&mut self, entry: Entry) {
        assert!(
            entry.time >= self.core.now,
            "time went backwards: {} < {}",
            entry.time,
            self.core.now
        );
        self.core.now = entry.time;
        self.core.stats.events += 1;
        self.core.touched = Touched::Nothing;
        match entry.kind {
            EntryKind::Deliver => self.deliver(entry),
            EntryKind::Timer => self.fire_timer(entry),
            EntryKind::Fault => self.apply_fault(entry.slot as usize),
            EntryKind::Start => self.boot(NodeId(entry.slot)),
            EntryKind::ClientTick => self.core.client_tick(entry.slot),
            EntryKind::ClientTimeout => self.core.client_timeout(entry.slot),
            EntryKind::Request => self.deliver_request(entry),
            EntryKind::Reply => self.core.client_reply(entry.slot),
            EntryKind::ServiceCall => self.core.service_call_arrives(entry.slot),
            EntryKind::ServiceReturn => self.service_return(entry),
        }
    }

    #[inline]
    fn deliver(&mut self, entry: Entry) {
        let m = self.core.msgs.get(entry.slot);
        let (from, to) = (m.from, m.to);
        if self.core.net.partitions.blocks(from, to) {
            self.core.drop_arrived(entry.slot, DropReason::Partition);
            return;
        }
        match self.status[to.index()] {
            NodeStatus::Down => self.core.drop_arrived(entry.slot, DropReason::NodeDown),
            NodeStatus::Paused => {
                self.held.entry(to).or_default().push(entry);
                let (msg_id, content) = (m.id, m.content);
                self.core.tracer.record(
                    entry.time,
                    to,
                    TraceKind::Hold { from, msg_id },
                    content,
                    None,
                );
            }
            NodeStatus::Up => {
                self.core.touched = Touched::Node(to);
                let kind = TraceKind::Deliver { from, msg_id: m.id };
                let content = m.content;
                self.core.net.left_link(from, to);
                self.core.stats.delivered += 1;
                self.core.tracer.record(entry.time, to, kind, content, None);
                // Taken out of its slot last, right before the handler: the message is moved
                // once instead of through copies around the bookkeeping.
                let msg = self.core.msgs.remove(entry.slot).msg;
                if let Some(t) = self.core.triggers.as_deref_mut()
                    && t.watches_deliveries()
                {
                    t.on_delivered(to, &msg, entry.time);
                }
                self.handle(to, move |proc, ctx| proc.on_message(ctx, from, msg));
            }
        }
    }

    #[inline]
    fn fire_timer(&mut self, entry: Entry) {
        let t = self.core.timers.get(entry.slot);
        let id = t.node;
        if t.cancelled || t.epoch != self.nodes[id.index()].epoch {
            self.core.timers.remove(entry.slot);
            return;
        }
        let status = self.status[id.index()];
        debug_assert!(
            status != NodeStatus::Down,
            "a timer of the current epoch on a down node"
        );
        if status == NodeStatus::Paused {
            self.held.entry(id).or_default().push(entry);
            return;
        }
        self.core.touched = Touched::Node(id);
        let generation = self.core.timers.generation(entry.slot);
        let timer = self.core.timers.remove(entry.slot);
        self.core.stats.timers_fired += 1;
        let kind = TraceKind::TimerFired { timer: entry.slot };
        let content = crate::trace::content_hash(&timer.tag);
        self.core
            .tracer
            .record(entry.time, id, kind, content, Some(&timer.tag));
        let timer_id = crate::ids::TimerId {
            slot: entry.slot,
            generation,
        };
        let tag = timer.tag;
        self.handle(id, move |proc, ctx| proc.on_timer(ctx, timer_id, tag));
    }

    /// Brings a node up with a fresh process and runs `on_start`.
    pub(crate) fn start_node(&mut self, id: NodeId, kind: TraceKind) {
        self.core.touched = self.core.touched.and(id);
        let proc = self.make_process(id);
        self.status[id.index()] = NodeStatus::Up;
        self.nodes[id.index()].starts += 1;
        self.core.tracer.record(self.core.now, id, kind, 0, None);
        // In place before `on_start` runs: nothing a handler reaches looks at `procs`.
        self.procs[id.index()] = Some(proc);
        self.rendered.remove(&id);
        self.handle(id, |proc, ctx| proc.on_start(ctx));
    }

    fn boot(&mut self, id: NodeId) {
        self.start_node(id, TraceKind::Start);
    }
}
