//! The coordinator (n1): hands out tasks to workers that ask, records what they report,
//! commits reduce output once per task, and runs again what silent workers held.

use super::job::{Counts, Job};
use super::table::{Attempt, Table, TaskState};
use super::{Bug, MapReduce, Msg, Task, Tick, Timing};
use crate::process::{Ctx, NodeId};
use crate::time::SimTime;

#[derive(Clone, Debug, Hash)]
pub struct Coordinator {
    pub(super) job: Job,
    timing: Timing,
    bug: Option<Bug>,
    pub(super) table: Table,
    /// When each worker was last heard from, index `worker - 1`.
    heard: Vec<SimTime>,
    /// When the last check for silence ran: a long gap means the coordinator itself stalled.
    checked_at: SimTime,
    /// The job was reported done (in the trace) already.
    announced: bool,
}

/// A worker's slot in `heard` (n2 is slot 0).
fn slot(worker: NodeId) -> usize {
    worker.index().saturating_sub(1)
}

impl Coordinator {
    pub(super) fn new(node_count: u32, job: Job, timing: Timing, bug: Option<Bug>) -> Self {
        Coordinator {
            job,
            timing,
            bug,
            table: Table::new(&job),
            heard: vec![SimTime::ZERO; node_count.saturating_sub(1) as usize],
            checked_at: SimTime::ZERO,
            announced: false,
        }
    }

    pub(super) fn on_start(&mut self, ctx: &mut Ctx<'_, MapReduce>) {
        let now = ctx.now();
        if ctx.is_restart() {
            self.table = Table::recover(&self.job, ctx.storage(), now, self.bug);
            self.announced = self.table.job_done();
            let tasks = self.table.tasks();
            let count = |f: fn(&TaskState) -> bool| {
                let table = &self.table;
                tasks
                    .iter()
                    .filter(|&&t| table.get(t).is_some_and(f))
                    .count()
            };
            let running = count(|s| matches!(s, TaskState::Running(_)));
            let done = count(|s| matches!(s, TaskState::Done(_)));
            ctx.annotate(format_args!(
                "table reloaded: {} task(s), {done} done, {running} running",
                tasks.len()
            ));
        }
        // Every worker gets a full timeout from now: the coordinator heard nothing while down.
        self.heard.fill(now);
        self.checked_at = now;
        ctx.set_timer(self.timing.heartbeat_interval, Tick::Check);
    }

    pub(super) fn on_message(&mut self, ctx: &mut Ctx<'_, MapReduce>, from: NodeId, msg: Msg) {
        let Some(heard) = self.heard.get_mut(slot(from)).filter(|_| from.0 > 0) else {
            return;
        };
        *heard = ctx.now();
        match msg {
            Msg::Heartbeat {
                map,
                reduce,
                fetching,
            } => self.on_heartbeat(ctx, from, map, reduce, fetching),
            Msg::MapDone { map } => self.on_map_done(ctx, from, map),
            Msg::Commit { reduce, counts } => self.on_commit(ctx, from, reduce, &counts),
            Msg::FetchFailed { map, from: holder } => self.on_fetch_failed(ctx, map, holder),
            _ => {}
        }
    }

    pub(super) fn on_timer(&mut self, ctx: &mut Ctx<'_, MapReduce>, tag: Tick) {
        if let Tick::Check = tag {
            self.check_silence(ctx);
            ctx.set_timer(self.timing.heartbeat_interval, Tick::Check);
        }
    }

    fn on_heartbeat(
        &mut self,
        ctx: &mut Ctx<'_, MapReduce>,
        from: NodeId,
        map: Option<u32>,
        reduce: Option<u32>,
        fetching: bool,
    ) {
        for task in [map.map(Task::Map), reduce.map(Task::Reduce)]
            .into_iter()
            .flatten()
        {
            self.heard_running(ctx, from, task);
        }
        if let Some(r) = reduce.filter(|_| fetching) {
            let running = matches!(self.table.reduces.get(&r), Some(TaskState::Running(_)));
            if running {
                let maps = self.table.locations();
                ctx.send(from, Msg::Locations { reduce: r, maps });
            }
        }
        if map.is_none()
            && self.slot_free(ctx, from, false)
            && let Some(m) = self.pick(ctx, from, false)
        {
            ctx.send(from, Msg::AssignMap { map: m });
        }
        if reduce.is_none()
            && self.slot_free(ctx, from, true)
            && let Some(r) = self.pick(ctx, from, true)
        {
            let maps = self.table.locations();
            ctx.send(from, Msg::AssignReduce { reduce: r, maps });
        }
    }

    /// Whether `worker`, which says its map (or reduce) slot is free, may be given a task.
    /// Not if the table has it running one that was handed to it so recently that the
    /// task may still be on its way. If it was handed over longer ago, the worker lost it
    /// (a restart, a lost message): its attempt is dropped and the slot is free.
    fn slot_free(&mut self, ctx: &mut Ctx<'_, MapReduce>, worker: NodeId, reduce: bool) -> bool {
        let now = ctx.now();
        let grace = 2 * self.timing.heartbeat_interval.0;
        let tasks = if reduce {
            &mut self.table.reduces
        } else {
            &mut self.table.maps
        };
        let held = tasks.iter_mut().find_map(|(&n, s)| match s {
            TaskState::Running(a) => {
                let i = a.iter().position(|a| a.worker == worker)?;
                Some((n, a, i))
            }
            _ => None,
        });
        let Some((number, attempts, index)) = held else {
            return true;
        };
        if now.0.saturating_sub(attempts[index].started_at.0) < grace {
            return false;
        }
        attempts.remove(index);
        let task = task_of(number, reduce);
        if attempts.is_empty() {
            self.table.set(ctx.storage(), task, TaskState::Idle);
        } else {
            self.table.store(ctx.storage(), task);
        }
        ctx.storage().sync();
        true
    }

    /// `from` says it runs `task`: keep its attempt alive, take it back if the task had
    /// been given up on, or tell it to stop if the task is finished (or unknown).
    fn heard_running(&mut self, ctx: &mut Ctx<'_, MapReduce>, from: NodeId, task: Task) {
        let now = ctx.now();
        let fresh = Attempt {
            worker: from,
            started_at: now,
            heard_at: now,
        };
        match self.table.get_mut(task) {
            Some(TaskState::Running(attempts)) => {
                match attempts.iter_mut().find(|a| a.worker == from) {
                    Some(a) => a.heard_at = now,
                    None => {
                        attempts.push(fresh);
                        self.table.store(ctx.storage(), task);
                        ctx.storage().sync();
                    }
                }
            }
            Some(TaskState::Idle) => {
                self.table
                    .set(ctx.storage(), task, TaskState::Running(vec![fresh]));
                ctx.storage().sync();
            }
            Some(TaskState::Done(_)) | None => ctx.send(from, Msg::Abort { task }),
        }
    }

    /// The task to give `worker`'s free map or reduce slot, recorded as running there: an
    /// idle one, or else, with backup tasks, a second copy of the oldest one running alone.
    fn pick(&mut self, ctx: &mut Ctx<'_, MapReduce>, worker: NodeId, reduce: bool) -> Option<u32> {
        if reduce && !self.table.maps_done() {
            return None;
        }
        let now = ctx.now();
        let tasks = if reduce {
            &self.table.reduces
        } else {
            &self.table.maps
        };
        let fresh = Attempt {
            worker,
            started_at: now,
            heard_at: now,
        };
        let idle = tasks.iter().find(|(_, s)| **s == TaskState::Idle);
        let number = if let Some((&n, _)) = idle {
            n
        } else if self.timing.backup_tasks {
            let lone = tasks.iter().filter_map(|(&n, s)| match s {
                TaskState::Running(a) if a.len() == 1 && a[0].worker != worker => {
                    Some((a[0].started_at, n))
                }
                _ => None,
            });
            let (_, n) = lone.min()?;
            let name = ctx.node_name(worker).to_string();
            ctx.annotate(format_args!(
                "backup copy of {} on {name}",
                task_of(n, reduce)
            ));
            n
        } else {
            return None;
        };
        let task = task_of(number, reduce);
        let state = match self.table.get(task) {
            Some(TaskState::Running(a)) => {
                TaskState::Running(a.iter().cloned().chain([fresh]).collect())
            }
            _ => TaskState::Running(vec![fresh]),
        };
        self.table.set(ctx.storage(), task, state);
        ctx.storage().sync();
        Some(number)
    }

    fn on_map_done(&mut self, ctx: &mut Ctx<'_, MapReduce>, from: NodeId, map: u32) {
        let task = Task::Map(map);
        let finished = matches!(self.table.get(task), Some(TaskState::Done(_)) | None);
        if !finished {
            // The first copy to finish wins; the output of any copy is the same.
            self.table.set(ctx.storage(), task, TaskState::Done(from));
            ctx.storage().sync();
        }
        ctx.send(from, Msg::Ack { task });
    }

    /// Commits the counts of `reduce` once: a retried, re-executed or backup copy's commit
    /// is acknowledged and dropped (except with the double-count bug).
    fn on_commit(
        &mut self,
        ctx: &mut Ctx<'_, MapReduce>,
        from: NodeId,
        reduce: u32,
        counts: &Counts,
    ) {
        let task = Task::Reduce(reduce);
        let Some(state) = self.table.get(task) else {
            ctx.send(from, Msg::Ack { task });
            return;
        };
        let first = !matches!(state, TaskState::Done(_));
        if first || self.bug == Some(Bug::DoubleCount) {
            self.table.add_output(ctx.storage(), counts);
            let name = ctx.node_name(from).to_string();
            ctx.annotate(format_args!("{task} committed by {name}"));
        }
        if first {
            self.table.set(ctx.storage(), task, TaskState::Done(from));
        }
        ctx.storage().sync();
        ctx.send(from, Msg::Ack { task });
        if !self.announced && self.table.job_done() {
            self.announced = true;
            ctx.annotate("job done: every reduce task is committed");
        }
    }

    /// A reducer found `holder` without the output of `map`: unless it is already known to
    /// be elsewhere, the map runs again.
    fn on_fetch_failed(&mut self, ctx: &mut Ctx<'_, MapReduce>, map: u32, holder: NodeId) {
        let task = Task::Map(map);
        if self.table.get(task) == Some(&TaskState::Done(holder)) {
            let name = ctx.node_name(holder).to_string();
            ctx.annotate(format_args!(
                "{task}: its output on {name} is lost; it runs again"
            ));
            self.table.set(ctx.storage(), task, TaskState::Idle);
            ctx.storage().sync();
        }
    }

    /// Gives up on attempts their worker has not mentioned for `task_timeout`, and on the
    /// map outputs of workers silent that long.
    fn check_silence(&mut self, ctx: &mut Ctx<'_, MapReduce>) {
        let now = ctx.now();
        let gap = now.0.saturating_sub(self.checked_at.0);
        self.checked_at = now;
        if gap > 2 * self.timing.heartbeat_interval.0 {
            // The coordinator itself was paused: the silence was its own, not the workers'.
            self.forgive(now);
            return;
        }
        if self.bug == Some(Bug::NoTimeout) || self.table.job_done() {
            return;
        }
        let timeout = self.timing.task_timeout.0;
        let silent = |t: SimTime| now.0.saturating_sub(t.0) >= timeout;
        let mut changed = false;
        for task in self.table.tasks() {
            let Some(TaskState::Running(attempts)) = self.table.get_mut(task) else {
                continue;
            };
            let before = attempts.len();
            attempts.retain(|a| !silent(a.heard_at));
            if attempts.len() == before {
                continue;
            }
            if attempts.is_empty() {
                self.table.set(ctx.storage(), task, TaskState::Idle);
                ctx.annotate(format_args!("{task} timed out; it runs again"));
            } else {
                self.table.store(ctx.storage(), task);
            }
            changed = true;
        }
        let silent_workers: Vec<NodeId> = (1..)
            .zip(&self.heard)
            .filter(|&(_, &heard)| silent(heard))
            .map(|(id, _)| NodeId(id))
            .collect();
        for worker in silent_workers {
            changed |= self.lose_outputs(ctx, worker);
        }
        if changed {
            ctx.storage().sync();
        }
    }

    /// The maps whose output is on silent `worker` run again; whether there were any.
    fn lose_outputs(&mut self, ctx: &mut Ctx<'_, MapReduce>, worker: NodeId) -> bool {
        let lost: Vec<u32> = (self.table.maps.iter())
            .filter(|(_, s)| **s == TaskState::Done(worker))
            .map(|(&m, _)| m)
            .collect();
        for &m in &lost {
            self.table.set(ctx.storage(), Task::Map(m), TaskState::Idle);
        }
        if !lost.is_empty() {
            let name = ctx.node_name(worker).to_string();
            ctx.annotate(format_args!(
                "{name} is silent: the {} map output(s) it held run again",
                lost.len()
            ));
        }
        !lost.is_empty()
    }

    /// Restarts every clock of silence at `now`.
    fn forgive(&mut self, now: SimTime) {
        self.heard.fill(now);
        for task in self.table.tasks() {
            if let Some(TaskState::Running(attempts)) = self.table.get_mut(task) {
                for a in attempts {
                    a.heard_at = now;
                }
            }
        }
    }

    /// When `worker` was last heard from.
    pub(super) fn heard_at(&self, worker: NodeId) -> Option<SimTime> {
        self.heard.get(slot(worker)).copied()
    }
}

fn task_of(number: u32, reduce: bool) -> Task {
    if reduce {
        Task::Reduce(number)
    } else {
        Task::Map(number)
    }
}
