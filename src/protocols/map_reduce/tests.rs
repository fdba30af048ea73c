//! Tests of map-reduce: the input and its split among reduce tasks, a whole job, recovery
//! of the coordinator's table, re-execution after a worker is lost, each bug caught, bad
//! params rejected, and determinism.

use super::checks::expected_counts;
use super::job::sum_counts;
use super::table::{Table, TaskState};
use super::*;
use crate::check::{CheckWhen, ViolationReport, run_checked};
use crate::engine::{Sim, SimBuilder};
use crate::faults::{Fault, TimedFault};
use crate::net::NetworkConfig;
use crate::protocols::echo::tests::{at_ms, lossy, outcome};
use crate::time::SimTime;

const NODES: u32 = 5;

fn n(number: u32) -> NodeId {
    NodeId(number - 1)
}

fn build(
    seed: u64,
    params: &Params,
    bug: Option<&'static str>,
    network: NetworkConfig,
    faults: Vec<TimedFault>,
) -> Sim<MapReduce> {
    let params = params.clone();
    SimBuilder::new(seed)
        .nodes(u64::from(NODES))
        .network(network)
        .faults(faults)
        .build(move |id| MapReduce::new(id, NODES, &params, bug))
        .expect("valid setup")
}

/// Runs to `end` with every property checked; the first violation, if any.
fn run(sim: &mut Sim<MapReduce>, end: SimTime) -> Option<ViolationReport> {
    let properties = MapReduce::properties();
    run_checked(sim, end, &properties)
        .expect("within limits")
        .into_iter()
        .next()
}

/// Runs to `end` checking only `exactly_once`: a run stopped midway has no finished job.
fn run_safety(sim: &mut Sim<MapReduce>, end: SimTime) -> Option<ViolationReport> {
    let mut properties = MapReduce::properties();
    properties.retain(|p| p.when == CheckWhen::Always);
    run_checked(sim, end, &properties)
        .expect("within limits")
        .into_iter()
        .next()
}

fn coordinator(sim: &Sim<MapReduce>) -> &Coordinator {
    sim.node(COORDINATOR)
        .state()
        .and_then(MapReduce::coordinator)
        .expect("the coordinator is up")
}

fn committed(c: &Coordinator) -> usize {
    let done = |s: &&TaskState| matches!(s, TaskState::Done(_));
    c.table.reduces.values().filter(done).count()
}

#[test]
fn map_outputs_add_up_to_the_input_and_each_word_has_one_reduce_task() {
    let job = Job::from_params(&Params::default());
    let mut per_reduce = vec![Vec::new(); job.reduce_tasks as usize];
    for split in 0..job.splits {
        for (reduce, part) in job.map_output(split).into_iter().enumerate() {
            for &(word, _) in &part {
                assert_eq!(job.reduce_of(word) as usize, reduce);
            }
            per_reduce[reduce].push(part);
        }
    }
    let mut total = vec![0u64; job.vocabulary as usize];
    for parts in &per_reduce {
        for (word, count) in sum_counts(parts) {
            total[word as usize] += count;
        }
    }
    assert_eq!(total, expected_counts(&job));
    let records = u64::from(job.splits) * u64::from(job.records_per_split);
    assert_eq!(total.iter().sum::<u64>(), records);
    // The words are skewed: the most frequent is well above the average.
    let most = total.iter().max().copied().unwrap_or(0);
    assert!(most > 2 * records / u64::from(job.vocabulary), "{total:?}");
}

#[test]
fn without_faults_the_job_is_done_with_every_word_counted_once() {
    let mut sim = build(1, &Params::default(), None, lossy(0.0, 0.0), vec![]);
    assert!(run(&mut sim, SimTime::from_secs(3)).is_none());
    let c = coordinator(&sim);
    assert!(c.table.job_done() && c.table.maps_done());
    assert_eq!(committed(c), 4);
    let expected = expected_counts(&c.job);
    for (word, &want) in (0..).zip(&expected) {
        assert_eq!(c.table.output.get(&word).copied().unwrap_or(0), want);
    }
}

#[test]
fn restarted_coordinator_reloads_its_table_and_output() {
    let params = Params::default();
    let mut sim = build(2, &params, None, lossy(0.0, 0.0), vec![]);
    // Run until some but not all reduce tasks are committed.
    let mut t = 10;
    assert!(run_safety(&mut sim, SimTime::from_millis(t)).is_none());
    while committed(coordinator(&sim)) == 0 {
        t += 10;
        assert!(run_safety(&mut sim, SimTime::from_millis(t)).is_none());
        assert!(t < 3_000, "no commit by 3s");
    }
    let before = coordinator(&sim).table.clone();
    assert!(!before.job_done(), "stopped too late: {before:?}");
    let storage = sim.storage(COORDINATOR).clone();
    let now = sim.now();
    let after = Table::recover(&coordinator(&sim).job, &storage, now, None);
    assert_eq!(after.output, before.output);
    for task in before.tasks() {
        let (was, is) = (before.get(task), after.get(task));
        match was {
            // Running attempts come back with the same workers, heard of now.
            Some(TaskState::Running(a)) => {
                let Some(TaskState::Running(b)) = is else {
                    panic!("{task}: {is:?}")
                };
                let workers = |v: &Vec<table::Attempt>| v.iter().map(|x| x.worker).collect();
                let (wa, wb): (Vec<NodeId>, Vec<NodeId>) = (workers(a), workers(b));
                assert_eq!(wa, wb);
            }
            _ => assert_eq!(was, is, "{task}"),
        }
    }
    // With the bug, the running ones are gone from the table.
    let forgetful = Table::recover(
        &coordinator(&sim).job,
        &storage,
        now,
        Some(Bug::ForgetOnRestart),
    );
    let running = |t: &Table| {
        let tasks = t.tasks();
        let running = |&&task: &&Task| matches!(t.get(task), Some(TaskState::Running(_)));
        tasks.iter().filter(running).count()
    };
    assert!(running(&before) > 0);
    assert_eq!(running(&forgetful), 0);
    assert_eq!(
        forgetful.tasks().len(),
        before.tasks().len() - running(&before)
    );
}

#[test]
fn a_coordinator_crash_and_a_lost_worker_still_count_every_record_once() {
    let faults = vec![
        at_ms(300, Fault::Crash(n(3))),
        at_ms(900, Fault::Crash(n(1))),
        at_ms(1_200, Fault::Restart(n(1))),
        at_ms(1_300, Fault::Restart(n(3))),
    ];
    let mut sim = build(3, &Params::default(), None, lossy(0.05, 0.02), faults);
    assert!(run(&mut sim, SimTime::from_secs(6)).is_none());
    assert!(coordinator(&sim).table.job_done());
}

#[test]
fn a_restarted_mapper_has_lost_its_output_and_the_map_runs_again() {
    let params = Params {
        backup_tasks: false,
        ..Params::default()
    };
    // n2 restarts within the timeout, once the map phase is over: only a reducer's fetch can
    // tell that its outputs are gone.
    let faults = vec![
        at_ms(500, Fault::Crash(n(2))),
        at_ms(520, Fault::Restart(n(2))),
    ];
    let mut sim = build(4, &params, None, lossy(0.0, 0.0), faults);
    assert!(run_safety(&mut sim, SimTime::from_millis(480)).is_none());
    let held_by_n2 = |c: &Coordinator| {
        c.table
            .maps
            .values()
            .filter(|s| **s == TaskState::Done(n(2)))
            .count()
    };
    assert!(held_by_n2(coordinator(&sim)) > 0);
    let report = run(&mut sim, SimTime::from_secs(4));
    assert!(report.is_none(), "{report:?}");
    let c = coordinator(&sim);
    assert!(c.table.job_done());
    // Every map n2 held ran again on a worker that still holds it, or on n2 itself after
    // its restart.
    assert!(
        c.table
            .maps
            .values()
            .all(|s| matches!(s, TaskState::Done(_)))
    );
}

#[test]
fn each_bug_is_caught() {
    let no_backups = Params {
        backup_tasks: false,
        ..Params::default()
    };
    // A reducer cut off from the coordinator for 1.5s, then healed: its retried commit
    // arrives after the re-executed copy's.
    let cut = |from, to| Fault::Cut { from, to };
    let double = vec![
        at_ms(400, cut(n(3), n(1))),
        at_ms(400, cut(n(1), n(3))),
        at_ms(1_900, Fault::Heal(None)),
    ];
    let forget = vec![
        at_ms(250, Fault::Crash(n(1))),
        at_ms(600, Fault::Restart(n(1))),
    ];
    let gone = vec![at_ms(250, Fault::Crash(n(3)))];
    let cases: [(&'static str, Vec<TimedFault>, &str); 3] = [
        ("double-count", double, "exactly_once"),
        ("forget-on-restart", forget, "exactly_once"),
        ("no-timeout", gone, "job_done"),
    ];
    for (bug, faults, property) in cases {
        let mut sim = build(1, &no_backups, Some(bug), lossy(0.0, 0.0), faults.clone());
        let report = run(&mut sim, SimTime::from_secs(6));
        assert_eq!(outcome(&report), property, "{bug}: {report:?}");
        // The correct protocol passes the same run.
        let mut sim = build(1, &no_backups, None, lossy(0.0, 0.0), faults);
        let report = run(&mut sim, SimTime::from_secs(6));
        assert_eq!(outcome(&report), "pass", "{bug} fixed: {report:?}");
    }
}

#[test]
fn bad_params_are_rejected_with_the_name_of_the_param() {
    let ok = Params::default();
    assert!(MapReduce::check_params(&ok, 2).is_ok());
    let e = MapReduce::check_params(&ok, 1).unwrap_err();
    assert!(e.contains("at least 2 nodes"), "{e}");
    let cases: [(Params, &str); 6] = [
        (
            Params {
                splits: 0,
                ..ok.clone()
            },
            "splits",
        ),
        (
            Params {
                reduce_tasks: 33,
                ..ok.clone()
            },
            "reduce_tasks",
        ),
        (
            Params {
                vocabulary: 33,
                ..ok.clone()
            },
            "vocabulary",
        ),
        (
            Params {
                records_per_split: 10_001,
                ..ok.clone()
            },
            "records_per_split",
        ),
        (
            Params {
                retry_interval: SimDuration::ZERO,
                ..ok.clone()
            },
            "retry_interval",
        ),
        (
            Params {
                heartbeat_interval: SimDuration::from_secs(1),
                ..ok.clone()
            },
            "task_timeout",
        ),
    ];
    for (params, name) in cases {
        let e = MapReduce::check_params(&params, NODES).unwrap_err();
        assert!(e.contains(&format!("`{name}`")), "{name}: {e}");
    }
}

#[test]
fn same_seed_same_run() {
    let faults = || {
        vec![
            at_ms(400, Fault::Crash(n(2))),
            at_ms(900, Fault::Restart(n(2))),
        ]
    };
    let hash = |seed| {
        let mut sim = build(seed, &Params::default(), None, lossy(0.1, 0.05), faults());
        assert!(run(&mut sim, SimTime::from_secs(5)).is_none());
        sim.trace_hash()
    };
    assert_eq!(hash(7), hash(7));
    assert_ne!(hash(7), hash(8));
}
