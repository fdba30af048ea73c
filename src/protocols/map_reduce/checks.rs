//! The properties of map-reduce, with their messages in plain words.
//!
//! What the output must be is worked out here, from the job's shape, by reading every input
//! record once per run: the nodes' own counts are what is being checked, so they cannot be
//! the reference.

use super::job::Job;
use super::table::TaskState;
use super::{COORDINATOR, MapReduce};
use crate::check::{Monitor, Violation};
use crate::engine::{NodeView, Sim, Touched};
use crate::process::NodeId;
use crate::time::SimTime;

/// The count of every word in the whole input, by word number.
pub(super) fn expected_counts(job: &Job) -> Vec<u64> {
    let mut counts = vec![0u64; job.vocabulary as usize];
    for split in 0..job.splits {
        for record in 0..job.records_per_split {
            counts[job.word(split, record) as usize] += 1;
        }
    }
    counts
}

/// Ghost state of `exactly_once`: the expected counts, computed once per run.
#[derive(Clone, Default, Hash)]
struct ExactlyOnce {
    expected: Option<Vec<u64>>,
}

pub(super) fn exactly_once() -> Box<dyn Monitor<MapReduce>> {
    Box::new(ExactlyOnce::default())
}

impl Monitor<MapReduce> for ExactlyOnce {
    fn observe(&mut self, sim: &Sim<MapReduce>, touched: Touched) -> Result<(), Violation> {
        if !touched.nodes(sim.node_count()).any(|id| id == COORDINATOR) {
            return Ok(());
        }
        let Some(coordinator) = sim.node(COORDINATOR).state().and_then(|n| n.coordinator()) else {
            return Ok(());
        };
        let job = &coordinator.job;
        let expected = self.expected.get_or_insert_with(|| expected_counts(job));
        let table = &coordinator.table;
        let done = table.job_done();
        for (word, &want) in (0..).zip(expected.iter()) {
            let reduce = job.reduce_of(word);
            let committer = match table.reduces.get(&reduce) {
                Some(TaskState::Done(worker)) => Some(*worker),
                _ => None,
            };
            if committer.is_none() && !done {
                continue;
            }
            let got = table.output.get(&word).copied().unwrap_or(0);
            if got != want {
                return Err(wrong_count(sim, word, reduce, committer, got, want));
            }
        }
        Ok(())
    }

    // The ghost state is a pure function of the job, so every explored path may share it
    // and any order of events leaves it the same.
    fn fork(&self) -> Option<Box<dyn Monitor<MapReduce> + Send + Sync>> {
        Some(Box::new(self.clone()))
    }

    fn fingerprint(&self) -> u64 {
        crate::trace::content_hash(self)
    }

    fn commutes(&self) -> bool {
        true
    }
}

fn wrong_count(
    sim: &Sim<MapReduce>,
    word: u32,
    reduce: u32,
    committer: Option<NodeId>,
    got: u64,
    want: u64,
) -> Violation {
    let name = Job::word_name(word);
    let Some(by) = committer else {
        return Violation::new(
            format!(
                "the coordinator holds the job done, but reduce task {reduce} was never \
                 committed: word `{name}` has count {got} in the output, and the input holds \
                 {want} records of it"
            ),
            vec![COORDINATOR],
        );
    };
    let how = if got > want {
        format!("{} record(s) counted more than once", got - want)
    } else {
        format!("{} record(s) missing", want - got)
    };
    Violation::new(
        format!(
            "word `{name}` of reduce task {reduce} has count {got} in the committed output, \
             but the input holds {want} records of it: {how} (reduce task {reduce} was \
             first committed by {})",
            sim.node_name(by)
        ),
        vec![COORDINATOR, by],
    )
}

pub(super) fn job_done(sim: &Sim<MapReduce>) -> Result<(), Violation> {
    let name = sim.node_name(COORDINATOR);
    let view = sim.node(COORDINATOR);
    let Some(coordinator) = view.state().and_then(|n| n.coordinator()) else {
        return Err(Violation::new(
            format!("the job is not done: the coordinator {name} is down"),
            vec![COORDINATOR],
        ));
    };
    let job = &coordinator.job;
    let table = &coordinator.table;
    let mut open = Vec::new();
    let mut nodes = vec![COORDINATOR];
    for task in table.tasks() {
        match table.get(task) {
            Some(TaskState::Idle) => open.push(format!("{task} is waiting for a worker")),
            Some(TaskState::Running(attempts)) => {
                for a in attempts {
                    nodes.push(a.worker);
                    open.push(format!(
                        "{task} is running on {}, {}",
                        sim.node_name(a.worker),
                        worker_status(sim, a.worker, coordinator.heard_at(a.worker)),
                    ));
                }
            }
            _ => {}
        }
    }
    let committed = (0..job.reduce_tasks)
        .filter(|r| matches!(table.reduces.get(r), Some(TaskState::Done(_))))
        .count();
    if committed == job.reduce_tasks as usize {
        return Ok(());
    }
    if open.is_empty() {
        open.push("no task is waiting or running".into());
    }
    let shown = open.len().min(4);
    let more = match open.len() - shown {
        0 => String::new(),
        n => format!("; and {n} more"),
    };
    nodes.sort_unstable();
    nodes.dedup();
    Err(Violation::new(
        format!(
            "the job is not done: {committed} of {} reduce task(s) committed; {}{more}",
            job.reduce_tasks,
            open[..shown].join("; ")
        ),
        nodes,
    ))
}

/// How a worker is, in words: up, paused or down, and when the coordinator last heard it.
fn worker_status(sim: &Sim<MapReduce>, worker: NodeId, heard: Option<SimTime>) -> String {
    let state = match sim.node(worker) {
        NodeView::Up(_) => "up",
        NodeView::Paused(_) => "paused",
        NodeView::Down => "down",
    };
    match heard {
        Some(t) => format!("which is {state} (last heard from at {t})"),
        None => format!("which is {state}"),
    }
}
