//! The coordinator's task table and committed output, and how both are kept in storage.
//!
//! Storage keys: `map/<m>` and `reduce/<r>` hold a task's state (absent: idle),
//! `count/<word>` the committed count of a word. The coordinator syncs after every change, so
//! what a worker was told (an acknowledgement above all) survives a crash.

use super::job::{Counts, Job};
use super::{Bug, Task};
use crate::process::NodeId;
use crate::storage::Storage;
use crate::time::SimTime;
use std::collections::BTreeMap;

const IDLE: u8 = 0;
const RUNNING: u8 = 1;
const DONE: u8 = 2;

/// One copy of a task running on a worker.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Attempt {
    pub worker: NodeId,
    pub started_at: SimTime,
    /// When the worker last said it runs the task (or when the coordinator recovered it).
    pub heard_at: SimTime,
}

/// Where a task stands at the coordinator.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TaskState {
    Idle,
    /// Running on one worker, or on two once a backup started.
    Running(Vec<Attempt>),
    /// A map: its output is on this worker. A reduce: committed by this worker.
    Done(NodeId),
}

/// The coordinator's table of tasks and the output committed so far.
#[derive(Clone, Debug, Hash)]
pub struct Table {
    pub maps: BTreeMap<u32, TaskState>,
    pub reduces: BTreeMap<u32, TaskState>,
    /// Committed count of each word, by word number.
    pub output: BTreeMap<u32, u64>,
}

fn key(task: Task) -> String {
    match task {
        Task::Map(m) => format!("map/{m}"),
        Task::Reduce(r) => format!("reduce/{r}"),
    }
}

fn count_key(word: u32) -> String {
    format!("count/{word}")
}

fn encode(state: &TaskState) -> Vec<u8> {
    match state {
        TaskState::Idle => vec![IDLE],
        TaskState::Running(attempts) => {
            let mut bytes = vec![RUNNING];
            for a in attempts {
                bytes.extend_from_slice(&a.worker.0.to_le_bytes());
            }
            bytes
        }
        TaskState::Done(worker) => {
            let mut bytes = vec![DONE];
            bytes.extend_from_slice(&worker.0.to_le_bytes());
            bytes
        }
    }
}

/// A stored state, with running attempts heard of `now`: the table does not keep time.
fn decode(bytes: &[u8], now: SimTime) -> Option<TaskState> {
    let (&tag, rest) = bytes.split_first()?;
    let mut workers = rest
        .chunks_exact(4)
        .filter_map(|c| <[u8; 4]>::try_from(c).ok())
        .map(|b| NodeId(u32::from_le_bytes(b)));
    match tag {
        IDLE => Some(TaskState::Idle),
        RUNNING => Some(TaskState::Running(
            workers
                .map(|worker| Attempt {
                    worker,
                    started_at: now,
                    heard_at: now,
                })
                .collect(),
        )),
        DONE => workers.next().map(TaskState::Done),
        _ => None,
    }
}

impl Table {
    /// A fresh job: every task idle, nothing committed.
    pub fn new(job: &Job) -> Table {
        Table {
            maps: (0..job.splits).map(|m| (m, TaskState::Idle)).collect(),
            reduces: (0..job.reduce_tasks)
                .map(|r| (r, TaskState::Idle))
                .collect(),
            output: BTreeMap::new(),
        }
    }

    /// The table as storage holds it. With the forget-on-restart bug, tasks stored as
    /// running are left out of the table altogether.
    pub fn recover(job: &Job, storage: &Storage, now: SimTime, bug: Option<Bug>) -> Table {
        let mut table = Table::new(job);
        let forget = bug == Some(Bug::ForgetOnRestart);
        for task in table.tasks() {
            let state = storage.get(&key(task)).and_then(|b| decode(b, now));
            let Some(state) = state else { continue };
            if forget && matches!(state, TaskState::Running(_)) {
                table.remove(task);
            } else if let Some(slot) = table.get_mut(task) {
                *slot = state;
            }
        }
        for word in 0..job.vocabulary {
            let stored = storage.get(&count_key(word));
            if let Some(bytes) = stored.and_then(|b| <[u8; 8]>::try_from(b).ok()) {
                table.output.insert(word, u64::from_le_bytes(bytes));
            }
        }
        table
    }

    /// Every task in the table, maps first.
    pub fn tasks(&self) -> Vec<Task> {
        let maps = self.maps.keys().map(|&m| Task::Map(m));
        maps.chain(self.reduces.keys().map(|&r| Task::Reduce(r)))
            .collect()
    }

    fn remove(&mut self, task: Task) {
        match task {
            Task::Map(m) => self.maps.remove(&m),
            Task::Reduce(r) => self.reduces.remove(&r),
        };
    }

    pub fn get(&self, task: Task) -> Option<&TaskState> {
        match task {
            Task::Map(m) => self.maps.get(&m),
            Task::Reduce(r) => self.reduces.get(&r),
        }
    }

    pub fn get_mut(&mut self, task: Task) -> Option<&mut TaskState> {
        match task {
            Task::Map(m) => self.maps.get_mut(&m),
            Task::Reduce(r) => self.reduces.get_mut(&r),
        }
    }

    /// Sets `task`'s state and writes it to storage (unsynced).
    pub fn set(&mut self, storage: &mut Storage, task: Task, state: TaskState) {
        storage.put(&key(task), encode(&state));
        if let Some(slot) = self.get_mut(task) {
            *slot = state;
        }
    }

    /// Writes `task`'s state as it is now to storage (unsynced).
    pub fn store(&self, storage: &mut Storage, task: Task) {
        if let Some(state) = self.get(task) {
            storage.put(&key(task), encode(state));
        }
    }

    /// Adds `counts` to the committed output (unsynced).
    pub fn add_output(&mut self, storage: &mut Storage, counts: &Counts) {
        for &(word, count) in counts {
            let total = self.output.entry(word).or_insert(0);
            *total += count;
            storage.put(&count_key(word), total.to_le_bytes());
        }
    }

    /// Whether every map in the table has its output somewhere.
    pub fn maps_done(&self) -> bool {
        self.maps.values().all(|s| matches!(s, TaskState::Done(_)))
    }

    /// How many map and how many reduce tasks are done.
    pub fn done_counts(&self) -> (usize, usize) {
        let done = |s: &&TaskState| matches!(s, TaskState::Done(_));
        (
            self.maps.values().filter(done).count(),
            self.reduces.values().filter(done).count(),
        )
    }

    /// Whether every reduce task in the table is committed: the job is done.
    pub fn job_done(&self) -> bool {
        self.reduces
            .values()
            .all(|s| matches!(s, TaskState::Done(_)))
    }

    /// Where each map's output is, for the maps in the table.
    pub fn locations(&self) -> Vec<(u32, Option<NodeId>)> {
        let location = |s: &TaskState| match s {
            TaskState::Done(worker) => Some(*worker),
            _ => None,
        };
        self.maps.iter().map(|(&m, s)| (m, location(s))).collect()
    }
}
