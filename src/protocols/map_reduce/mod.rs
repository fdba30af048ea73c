//! `map-reduce`: a word count run as map and reduce tasks over a pool of workers, with task
//! re-execution, a shuffle between workers, idempotent commits and backup tasks.
//!
//! n1 is the coordinator; every other node is a worker. The input is `splits` splits of
//! `records_per_split` records, each record one word, a pure function of the parameters
//! ([`job::Job::word`]). A map task counts the words of one split and keeps the counts on its
//! worker, cut into one partition per reduce task. A reduce task fetches its partition of
//! every map output from the worker that ran that map (the shuffle), adds them up and commits
//! the sum to the coordinator; the job is done when every reduce task has committed.
//!
//! Workers pull work: every `heartbeat_interval` each worker reports what it runs, and the
//! coordinator answers a free slot (one for a map, one for a reduce) with a task. A worker
//! retries its report of a finished task every `retry_interval` until it is acknowledged. The
//! coordinator times out a task whose worker has not mentioned it for `task_timeout` and runs
//! it again elsewhere; a worker silent that long also loses the map outputs it holds, and so
//! does one a reducer finds without them (it restarted): those maps run again. A commit is
//! idempotent: the first commit of a reduce task wins, later ones are acknowledged and
//! dropped. With `backup_tasks`, a free slot with nothing left to start in the phase gets a
//! second copy of the oldest task still running on a single worker, and the first copy to
//! finish wins. The coordinator keeps its task table and the committed counts in durable
//! storage and reloads both when it restarts.
//!
//! A scenario's `eventually:` goal on `job_done` reports when the job was done:
//!
//! ```
//! use faultline::Registry;
//!
//! let source = "name: wc\nprotocol: map-reduce\nnodes: 4\nduration: 3s\n\
//!               eventually: { condition: job_done, within: 3s, after: 0s }\n";
//! let scenario = Registry::builtin().parse(source, "wc.yaml")?;
//! let report = faultline::scenario::run(&scenario, Default::default())?;
//! assert!(report.expectation_met);
//! let done_at_ns = report.goals[0].held_at_ns.expect("the job was done");
//! assert!(done_at_ns > 0 && done_at_ns < 3_000_000_000);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use super::{BugDoc, ParamDoc, Protocol};
use crate::check::Property;
use crate::process::{Ctx, NodeId, Process, TimerId};
use crate::protocol::check_range;
use crate::time::SimDuration;
use serde::{Deserialize, Serialize};

mod checks;
mod coordinator;
pub mod job;
mod table;
#[cfg(test)]
mod tests;
mod worker;

use coordinator::Coordinator;
use job::{Counts, Job};
use worker::Worker;

/// The coordinator is always the first node.
pub const COORDINATOR: NodeId = NodeId(0);
/// Shortest interval of a repeating timer: zero would fire it forever at one instant.
const INTERVAL_MIN: SimDuration = SimDuration::from_millis(1);
const INTERVAL_MAX: SimDuration = SimDuration::from_secs(3_600);

/// `params:` of the map-reduce protocol.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Input splits, one map task each.
    pub splits: u32,
    /// Records (words) in each split.
    pub records_per_split: u32,
    /// Reduce tasks: the words are split among them.
    pub reduce_tasks: u32,
    /// How many distinct words the input draws from.
    pub vocabulary: u32,
    /// Simulated work per record a task reads.
    pub record_time: SimDuration,
    /// Time between two reports of a worker to the coordinator.
    pub heartbeat_interval: SimDuration,
    /// How long a task may go unmentioned by its worker before it runs again elsewhere.
    pub task_timeout: SimDuration,
    /// Time between resends: reports of finished tasks, and fetches of map outputs.
    pub retry_interval: SimDuration,
    /// Run a second copy of tasks still running near the end of a phase.
    pub backup_tasks: bool,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            splits: 12,
            records_per_split: 100,
            reduce_tasks: 4,
            vocabulary: 16,
            record_time: SimDuration::from_millis(1),
            heartbeat_interval: SimDuration::from_millis(100),
            task_timeout: SimDuration::from_secs(1),
            retry_interval: SimDuration::from_millis(50),
            backup_tasks: true,
        }
    }
}

const PARAM_DOCS: &[ParamDoc] = &[
    ParamDoc {
        name: "splits",
        default: "12",
        meaning: "input splits, one map task each (1 to 256)",
    },
    ParamDoc {
        name: "records_per_split",
        default: "100",
        meaning: "records (one word each) in every split (1 to 10000)",
    },
    ParamDoc {
        name: "reduce_tasks",
        default: "4",
        meaning: "reduce tasks; word number i is counted by reduce task i mod reduce_tasks \
                  (1 to 32)",
    },
    ParamDoc {
        name: "vocabulary",
        default: "16",
        meaning: "distinct words the input draws from (1 to 32)",
    },
    ParamDoc {
        name: "record_time",
        default: "1ms",
        meaning: "simulated work per record a task reads: a map reads its split, a reduce \
                  the records its partition counts (0 to 1s)",
    },
    ParamDoc {
        name: "heartbeat_interval",
        default: "100ms",
        meaning: "time between two reports of a worker to the coordinator; a report with a \
                  free slot asks for a task (1ms to 3600s, below task_timeout)",
    },
    ParamDoc {
        name: "task_timeout",
        default: "1s",
        meaning: "how long a task may go unmentioned by its worker before it runs again \
                  elsewhere; a worker silent that long also loses its map outputs (1ms to \
                  3600s)",
    },
    ParamDoc {
        name: "retry_interval",
        default: "50ms",
        meaning: "time between resends of a finished task's report and of fetches of map \
                  outputs (1ms to 3600s)",
    },
    ParamDoc {
        name: "backup_tasks",
        default: "true",
        meaning: "give a free slot a second copy of a task still running when the phase has \
                  nothing left to start; the first copy to finish wins",
    },
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Bug {
    DoubleCount,
    ForgetOnRestart,
    NoTimeout,
}

const BUG_DOCS: &[BugDoc] = &[
    BugDoc {
        name: "double-count",
        description: "the coordinator adds every commit of a reduce task to the output, not \
                      only the first; a reduce task that ran twice (re-executed after a \
                      timeout, or as a backup) or whose commit was retried is counted twice; \
                      exposed by cutting a reducer off from the coordinator while it works",
        violates: "exactly_once",
    },
    BugDoc {
        name: "forget-on-restart",
        description: "a restarted coordinator reloads the idle and finished tasks of its \
                      table but forgets those in progress, and so never runs them again: a \
                      forgotten map's records are missing from every count, a forgotten \
                      reduce task's words from the output; exposed by a coordinator crash \
                      while tasks run",
        violates: "exactly_once",
    },
    BugDoc {
        name: "no-timeout",
        description: "the coordinator never times out a silent worker: a task on a worker \
                      that crashed, or is paused or cut off for good, waits for it forever, \
                      and so does the job; exposed by a worker crash while it runs a task \
                      (with backup_tasks off, which would otherwise rescue it)",
        violates: "job_done",
    },
];

impl Bug {
    fn from_name(name: &str) -> Option<Bug> {
        match name {
            "double-count" => Some(Bug::DoubleCount),
            "forget-on-restart" => Some(Bug::ForgetOnRestart),
            "no-timeout" => Some(Bug::NoTimeout),
            _ => None,
        }
    }
}

/// A task of the job: a map task per split, a reduce task per partition, numbered from 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Task {
    Map(u32),
    Reduce(u32),
}

impl std::fmt::Display for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Task::Map(m) => write!(f, "map task {m}"),
            Task::Reduce(r) => write!(f, "reduce task {r}"),
        }
    }
}

/// What map-reduce nodes send each other.
#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// Worker → coordinator, every `heartbeat_interval`: the tasks it runs; a free slot asks
    /// for work. `fetching`: its reduce task still misses map outputs.
    Heartbeat {
        map: Option<u32>,
        reduce: Option<u32>,
        fetching: bool,
    },
    /// Coordinator → worker: run map task `map`.
    AssignMap { map: u32 },
    /// Coordinator → worker: run reduce task `reduce` over the output of each map in `maps`,
    /// with where that output is, if it is anywhere yet.
    AssignReduce {
        reduce: u32,
        maps: Vec<(u32, Option<NodeId>)>,
    },
    /// Coordinator → a worker fetching for `reduce`: where each map's output is now.
    Locations {
        reduce: u32,
        maps: Vec<(u32, Option<NodeId>)>,
    },
    /// Worker → coordinator: map task `map` is done; its output is here.
    MapDone { map: u32 },
    /// Worker → coordinator: the counts of reduce task `reduce`.
    Commit { reduce: u32, counts: Counts },
    /// Coordinator → worker: the report of `task` is recorded.
    Ack { task: Task },
    /// Coordinator → worker: stop running `task`, which is done elsewhere or not expected.
    Abort { task: Task },
    /// Reducer → mapper: your output of `map`, partition `reduce`.
    Fetch { map: u32, reduce: u32 },
    /// Mapper → reducer: its output of `map` for `reduce`.
    Partition {
        map: u32,
        reduce: u32,
        counts: Counts,
    },
    /// Mapper → reducer: it holds no output of `map` (it restarted since it ran it).
    Missing { map: u32 },
    /// Reducer → coordinator: `from` does not hold the output of `map`.
    FetchFailed { map: u32, from: NodeId },
}

/// What map-reduce timers carry.
#[derive(Clone, Debug, Hash)]
pub enum Tick {
    /// Worker: report to the coordinator.
    Heartbeat,
    /// Worker: resend what is unanswered.
    Retry,
    /// Worker: the work of run `run` is finished.
    Worked { run: u64 },
    /// Coordinator: look for tasks and workers that went silent.
    Check,
}

/// Timer delays and switches, shared by both roles.
#[derive(Clone, Copy, Debug, Hash)]
struct Timing {
    heartbeat_interval: SimDuration,
    task_timeout: SimDuration,
    retry_interval: SimDuration,
    backup_tasks: bool,
}

/// One map-reduce node: the coordinator (n1) or a worker.
#[derive(Clone, Debug, Hash)]
pub struct MapReduce {
    role: Role,
}

#[derive(Clone, Debug, Hash)]
enum Role {
    Coordinator(Coordinator),
    Worker(Worker),
}

impl MapReduce {
    fn coordinator(&self) -> Option<&Coordinator> {
        match &self.role {
            Role::Coordinator(c) => Some(c),
            Role::Worker(_) => None,
        }
    }
}

impl Process for MapReduce {
    type Message = Msg;
    type Timer = Tick;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        match &mut self.role {
            Role::Coordinator(c) => c.on_start(ctx),
            Role::Worker(w) => w.on_start(ctx),
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match &mut self.role {
            Role::Coordinator(c) => c.on_message(ctx, from, msg),
            Role::Worker(w) => w.on_message(ctx, from, msg),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _timer: TimerId, tag: Tick) {
        match &mut self.role {
            Role::Coordinator(c) => c.on_timer(ctx, tag),
            Role::Worker(w) => w.on_timer(ctx, tag),
        }
    }
}

impl Protocol for MapReduce {
    const NAME: &'static str = "map-reduce";
    const SUMMARY: &'static str = "a word count as map and reduce tasks pulled by workers, with \
                                   a shuffle, re-execution after timeouts, idempotent commits \
                                   and backup tasks; the coordinator's task table is durable";
    type Params = Params;

    const PARAM_DOCS: &'static [ParamDoc] = PARAM_DOCS;
    const BUG_DOCS: &'static [BugDoc] = BUG_DOCS;

    fn properties() -> Vec<Property<Self>> {
        vec![
            Property::monitor(
                "exactly_once",
                "every input record is counted exactly once in the committed output: each \
                 word of a committed reduce task has the count the input gives it, and once \
                 the coordinator holds the job done, every word does",
                checks::exactly_once,
            ),
            Property::at_end(
                "job_done",
                "the coordinator is up and holds a commit of every reduce task",
                checks::job_done,
            ),
        ]
    }

    fn check_params(params: &Params, node_count: u32) -> Result<(), String> {
        if node_count < 2 {
            return Err("map-reduce needs at least 2 nodes: the coordinator and a worker".into());
        }
        check_range("splits", params.splits, 1, 256)?;
        check_range("records_per_split", params.records_per_split, 1, 10_000)?;
        check_range("reduce_tasks", params.reduce_tasks, 1, 32)?;
        check_range("vocabulary", params.vocabulary, 1, job::WORDS.len() as u32)?;
        check_range(
            "record_time",
            params.record_time,
            SimDuration::ZERO,
            SimDuration::from_secs(1),
        )?;
        let intervals = [
            ("heartbeat_interval", params.heartbeat_interval),
            ("task_timeout", params.task_timeout),
            ("retry_interval", params.retry_interval),
        ];
        for (name, value) in intervals {
            check_range(name, value, INTERVAL_MIN, INTERVAL_MAX)?;
        }
        if params.heartbeat_interval >= params.task_timeout {
            return Err(format!(
                "`heartbeat_interval` is {}, not below `task_timeout` {}: a healthy worker \
                 would time out between two heartbeats",
                params.heartbeat_interval, params.task_timeout
            ));
        }
        Ok(())
    }

    fn new(id: NodeId, node_count: u32, params: &Params, bug: Option<&'static str>) -> Self {
        if let Err(e) = Self::check_params(params, node_count) {
            panic!("{}: {e}", Self::NAME);
        }
        let bug = bug.map(|name| {
            Bug::from_name(name).unwrap_or_else(|| panic!("map-reduce has no bug variant `{name}`"))
        });
        let job = Job::from_params(params);
        let timing = Timing {
            heartbeat_interval: params.heartbeat_interval,
            task_timeout: params.task_timeout,
            retry_interval: params.retry_interval,
            backup_tasks: params.backup_tasks,
        };
        let role = if id == COORDINATOR {
            Role::Coordinator(Coordinator::new(node_count, job, timing, bug))
        } else {
            Role::Worker(Worker::new(job, timing))
        };
        MapReduce { role }
    }
    /// The coordinator's progress (map and reduce tasks done); a worker's map outputs held
    /// and what it is running.
    fn summary(&self) -> crate::Summary {
        use crate::summary::Standing;
        match &self.role {
            Role::Coordinator(c) => {
                let (maps, reduces) = c.table.done_counts();
                crate::Summary::new()
                    .role("coordinator", Standing::Leader)
                    .field("maps done", maps)
                    .field("reduces done", reduces)
            }
            Role::Worker(w) => crate::Summary::new()
                .role("worker", Standing::Follower)
                .field("outputs", w.outputs_held())
                .field("running", w.running()),
        }
    }
}
