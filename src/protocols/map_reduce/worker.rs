//! A worker (n2, n3, ...): one slot for a map task and one for a reduce task. It keeps the
//! outputs of the maps it ran in memory, where a crash loses them, and serves them to
//! reducers.

use super::job::{Counts, Job, sum_counts};
use super::{COORDINATOR, MapReduce, Msg, Task, Tick, Timing};
use crate::process::{Ctx, NodeId};
use crate::time::SimTime;
use std::collections::BTreeMap;

/// The map task in the map slot.
#[derive(Clone, Debug, Hash)]
struct MapRun {
    map: u32,
    run: u64,
    /// Finished, and when its report was last sent: it waits for the coordinator's
    /// acknowledgement.
    reported_at: Option<SimTime>,
}

#[derive(Clone, Debug, Hash)]
enum Stage {
    /// Waiting for map outputs.
    Fetching,
    /// Adding them up.
    Working,
    /// Its counts, last sent at that time, wait for the coordinator's acknowledgement.
    Committing(Counts, SimTime),
}

/// The reduce task in the reduce slot.
#[derive(Clone, Debug, Hash)]
struct ReduceRun {
    reduce: u32,
    run: u64,
    /// Where each map's output is to be fetched from, as last told.
    maps: BTreeMap<u32, Option<NodeId>>,
    /// The partitions fetched so far.
    got: BTreeMap<u32, Counts>,
    /// When the missing partitions were last asked for.
    fetched_at: SimTime,
    stage: Stage,
}

#[derive(Clone, Debug, Hash)]
pub struct Worker {
    pub(super) job: Job,
    timing: Timing,
    /// The outputs of the maps it ran, one list of counts per reduce task.
    outputs: BTreeMap<u32, Vec<Counts>>,
    map_run: Option<MapRun>,
    reduce_run: Option<ReduceRun>,
    /// Numbers the runs, so that the timer of an abandoned run is recognised.
    runs: u64,
}

impl Worker {
    /// How many map outputs it holds.
    pub(super) fn outputs_held(&self) -> usize {
        self.outputs.len()
    }

    /// What it is running: `map`, `reduce`, both, or `-`.
    pub(super) fn running(&self) -> &'static str {
        match (self.map_run.is_some(), self.reduce_run.is_some()) {
            (true, true) => "map+reduce",
            (true, false) => "map",
            (false, true) => "reduce",
            (false, false) => "-",
        }
    }

    pub(super) fn new(job: Job, timing: Timing) -> Self {
        Worker {
            job,
            timing,
            outputs: BTreeMap::new(),
            map_run: None,
            reduce_run: None,
            runs: 0,
        }
    }

    pub(super) fn on_start(&mut self, ctx: &mut Ctx<'_, MapReduce>) {
        self.heartbeat(ctx);
        ctx.set_timer(self.timing.heartbeat_interval, Tick::Heartbeat);
        ctx.set_timer(self.timing.retry_interval, Tick::Retry);
    }

    fn heartbeat(&self, ctx: &mut Ctx<'_, MapReduce>) {
        let reduce = self.reduce_run.as_ref();
        ctx.send(
            COORDINATOR,
            Msg::Heartbeat {
                map: self.map_run.as_ref().map(|r| r.map),
                reduce: reduce.map(|r| r.reduce),
                fetching: reduce.is_some_and(|r| matches!(r.stage, Stage::Fetching)),
            },
        );
    }

    pub(super) fn on_message(&mut self, ctx: &mut Ctx<'_, MapReduce>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Fetch { map, reduce } => self.serve(ctx, from, map, reduce),
            Msg::Partition {
                map,
                reduce,
                counts,
            } => self.on_partition(ctx, map, reduce, counts),
            Msg::Missing { map } => self.on_missing(ctx, from, map),
            _ if from != COORDINATOR => {}
            Msg::AssignMap { map } => self.start_map(ctx, map),
            Msg::AssignReduce { reduce, maps } => self.start_reduce(ctx, reduce, &maps),
            Msg::Locations { reduce, maps } => {
                if let Some(run) = self.fetching_mut(reduce) {
                    run.maps.extend(maps);
                }
            }
            Msg::Ack { task } | Msg::Abort { task } => self.release(ctx, task),
            _ => {}
        }
    }

    pub(super) fn on_timer(&mut self, ctx: &mut Ctx<'_, MapReduce>, tag: Tick) {
        match tag {
            Tick::Heartbeat => {
                self.heartbeat(ctx);
                ctx.set_timer(self.timing.heartbeat_interval, Tick::Heartbeat);
            }
            Tick::Retry => {
                self.resend(ctx);
                ctx.set_timer(self.timing.retry_interval, Tick::Retry);
            }
            Tick::Worked { run } => self.worked(ctx, run),
            Tick::Check => {}
        }
    }

    fn next_run(&mut self) -> u64 {
        self.runs += 1;
        self.runs
    }

    fn start_map(&mut self, ctx: &mut Ctx<'_, MapReduce>, map: u32) {
        if self.map_run.is_some() || map >= self.job.splits {
            return;
        }
        let run = self.next_run();
        self.map_run = Some(MapRun {
            map,
            run,
            reported_at: None,
        });
        ctx.set_timer(self.job.map_time(), Tick::Worked { run });
    }

    fn start_reduce(
        &mut self,
        ctx: &mut Ctx<'_, MapReduce>,
        reduce: u32,
        maps: &[(u32, Option<NodeId>)],
    ) {
        if self.reduce_run.is_some() || reduce >= self.job.reduce_tasks {
            return;
        }
        let run = self.next_run();
        self.reduce_run = Some(ReduceRun {
            reduce,
            run,
            maps: maps.iter().copied().collect(),
            got: BTreeMap::new(),
            fetched_at: ctx.now(),
            stage: Stage::Fetching,
        });
        self.fetch_missing(ctx);
    }

    fn fetching_mut(&mut self, reduce: u32) -> Option<&mut ReduceRun> {
        self.reduce_run
            .as_mut()
            .filter(|r| r.reduce == reduce && matches!(r.stage, Stage::Fetching))
    }

    /// Asks for every partition still missing, taking those it holds itself at once.
    fn fetch_missing(&mut self, ctx: &mut Ctx<'_, MapReduce>) {
        let me = ctx.id();
        let Some(run) = self.reduce_run.as_mut() else {
            return;
        };
        if !matches!(run.stage, Stage::Fetching) {
            return;
        }
        let reduce = run.reduce;
        run.fetched_at = ctx.now();
        for (&map, at) in &mut run.maps {
            if run.got.contains_key(&map) {
                continue;
            }
            match *at {
                Some(holder) if holder == me => {
                    if let Some(counts) = own_partition(&self.outputs, map, reduce) {
                        run.got.insert(map, counts);
                    } else {
                        // It ran the map before a restart, and lost the output with it.
                        *at = None;
                        ctx.send(COORDINATOR, Msg::FetchFailed { map, from: me });
                    }
                }
                Some(holder) => ctx.send(holder, Msg::Fetch { map, reduce }),
                None => {}
            }
        }
        self.start_working(ctx);
    }

    /// Once every partition is in, the reduce works for as many records as it counts.
    fn start_working(&mut self, ctx: &mut Ctx<'_, MapReduce>) {
        let Some(run) = self.reduce_run.as_mut() else {
            return;
        };
        if !matches!(run.stage, Stage::Fetching) || run.got.len() < run.maps.len() {
            return;
        }
        run.stage = Stage::Working;
        let records = run.got.values().flatten().map(|&(_, c)| c).sum();
        let tag = Tick::Worked { run: run.run };
        ctx.set_timer(self.job.reduce_time(records), tag);
    }

    fn serve(&mut self, ctx: &mut Ctx<'_, MapReduce>, from: NodeId, map: u32, reduce: u32) {
        let msg = match own_partition(&self.outputs, map, reduce) {
            Some(counts) => Msg::Partition {
                map,
                reduce,
                counts,
            },
            None => Msg::Missing { map },
        };
        ctx.send(from, msg);
    }

    fn on_partition(
        &mut self,
        ctx: &mut Ctx<'_, MapReduce>,
        map: u32,
        reduce: u32,
        counts: Counts,
    ) {
        let Some(run) = self.fetching_mut(reduce) else {
            return;
        };
        // Every copy of a map writes the same output, so any holder's answer will do.
        if run.maps.contains_key(&map) && !run.got.contains_key(&map) {
            run.got.insert(map, counts);
            self.start_working(ctx);
        }
    }

    /// `from` holds no output of `map`: the coordinator must run it again.
    fn on_missing(&mut self, ctx: &mut Ctx<'_, MapReduce>, from: NodeId, map: u32) {
        let Some(run) = self.reduce_run.as_mut() else {
            return;
        };
        let Some(at) = run.maps.get_mut(&map).filter(|at| **at == Some(from)) else {
            return;
        };
        *at = None;
        ctx.send(COORDINATOR, Msg::FetchFailed { map, from });
    }

    fn worked(&mut self, ctx: &mut Ctx<'_, MapReduce>, run: u64) {
        let now = ctx.now();
        let unreported = |m: &&mut MapRun| m.run == run && m.reported_at.is_none();
        if let Some(m) = self.map_run.as_mut().filter(unreported) {
            m.reported_at = Some(now);
            let map = m.map;
            self.outputs.insert(map, self.job.map_output(map));
            ctx.send(COORDINATOR, Msg::MapDone { map });
            return;
        }
        let Some(r) = self.reduce_run.as_mut().filter(|r| r.run == run) else {
            return;
        };
        if matches!(r.stage, Stage::Working) {
            let counts = sum_counts(r.got.values());
            ctx.send(
                COORDINATOR,
                Msg::Commit {
                    reduce: r.reduce,
                    counts: counts.clone(),
                },
            );
            r.stage = Stage::Committing(counts, now);
        }
    }

    /// The coordinator recorded `task`, or wants it stopped: the slot is free, and the
    /// worker asks for more at once.
    fn release(&mut self, ctx: &mut Ctx<'_, MapReduce>, task: Task) {
        let freed = match task {
            Task::Map(map) => self.map_run.take_if(|r| r.map == map).is_some(),
            Task::Reduce(reduce) => self.reduce_run.take_if(|r| r.reduce == reduce).is_some(),
        };
        if freed {
            self.heartbeat(ctx);
        }
    }

    /// Resends reports not acknowledged, and fetches not answered, within `retry_interval`.
    fn resend(&mut self, ctx: &mut Ctx<'_, MapReduce>) {
        let now = ctx.now();
        let due = |at: &mut SimTime| {
            let due = now.0.saturating_sub(at.0) >= self.timing.retry_interval.0;
            if due {
                *at = now;
            }
            due
        };
        if let Some(m) = self.map_run.as_mut()
            && let Some(at) = m.reported_at.as_mut()
            && due(at)
        {
            ctx.send(COORDINATOR, Msg::MapDone { map: m.map });
        }
        let Some(r) = self.reduce_run.as_mut() else {
            return;
        };
        match &mut r.stage {
            Stage::Committing(counts, at) => {
                if due(at) {
                    let msg = Msg::Commit {
                        reduce: r.reduce,
                        counts: counts.clone(),
                    };
                    ctx.send(COORDINATOR, msg);
                }
            }
            Stage::Fetching => {
                if due(&mut r.fetched_at) {
                    self.fetch_missing(ctx);
                }
            }
            Stage::Working => {}
        }
    }
}

/// Partition `reduce` of the output of `map`, if this worker holds that output.
fn own_partition(outputs: &BTreeMap<u32, Vec<Counts>>, map: u32, reduce: u32) -> Option<Counts> {
    outputs.get(&map)?.get(reduce as usize).cloned()
}
