//! Exhaustive exploration speed: unique states per second on one core.
//!
//! `cargo bench --bench explore` explores single-decree Paxos on 3 nodes with at most 2 timer
//! firings (so at most two proposals), on one thread (with and without sleep sets) and on
//! two, and two-phase commit with 3 nodes (a coordinator, 2
//! participants) and one transaction with 2 timer firings and one crash, and Raft's leader
//! election on 3 nodes with 2 timer firings (its election-safety monitor carried in every
//! state), each to exhaustion, and Raft's `stale-read` bug with a client to the violation, and
//! prints the
//! states tried, the unique states, the wall time, unique states per second, and the
//! process's peak memory (VmHWM). `cargo bench --bench explore -- NAME` runs the cases whose
//! name contains NAME; `profile` is the first 200,000 states of the Paxos case, small enough
//! for `valgrind --tool=callgrind`.

use faultline::Protocol;
use faultline::exhaustive::{Budgets, Explorer, Outcome};
use faultline::protocols::paxos::{self, Paxos};
use faultline::protocols::raft::{self, Raft};
use faultline::protocols::two_phase_commit::{self, TwoPhaseCommit};
use faultline::workload::{Func, Model, WorkloadConfig};
use std::time::Instant;

fn paxos(timers_max: u32, states_max: u64, jobs: u32, reduction: bool) -> Outcome {
    let params = paxos::Params::default();
    Explorer::new(3, move |id| Paxos::new(id, 3, &params, None))
        .budgets(Budgets {
            timers_max,
            ..Budgets::default()
        })
        .states_max(states_max)
        .jobs(jobs)
        .reduction(reduction)
        .run()
        .expect("explores")
}

/// Raft's `stale-read` bug with one client that writes and then reads (seed 5 draws them).
fn raft_stale_read() -> Outcome {
    let params = raft::Params::default();
    let mut workload = WorkloadConfig::new(Model::Register);
    workload.clients = 1;
    workload.mix = vec![(Func::Read, 1.0), (Func::Write, 1.0)];
    Explorer::new(3, move |id| Raft::new(id, 3, &params, Some("stale-read")))
        .workload(workload, 5)
        .budgets(Budgets {
            timers_max: 2,
            client_ops_max: 2,
            ..Budgets::default()
        })
        .run()
        .expect("explores")
}

fn two_phase_commit(timers_max: u32, crashes_max: u32) -> Outcome {
    let params = two_phase_commit::Params {
        transactions: 1,
        ..two_phase_commit::Params::default()
    };
    Explorer::new(3, move |id| TwoPhaseCommit::new(id, 3, &params, None))
        .budgets(Budgets {
            timers_max,
            crashes_max,
            ..Budgets::default()
        })
        .run()
        .expect("explores")
}

fn raft(timers_max: u32) -> Outcome {
    let params = raft::Params::default();
    Explorer::new(3, move |id| Raft::new(id, 3, &params, None))
        .budgets(Budgets {
            timers_max,
            ..Budgets::default()
        })
        .run()
        .expect("explores")
}

fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

fn main() {
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    type Case = (&'static str, fn() -> Outcome);
    let cases: [Case; 7] = [
        ("paxos-3-timers-2", || paxos(2, 100_000_000, 1, true)),
        // Every transition tried, without sleep sets.
        ("paxos-3-timers-2-unreduced", || {
            paxos(2, 100_000_000, 1, false)
        }),
        ("paxos-3-timers-2-jobs-2", || paxos(2, 100_000_000, 2, true)),
        // The first 200,000 states of the above: small enough for a profiler.
        ("profile-paxos-200k", || paxos(2, 200_000, 1, true)),
        ("2pc-3-timers-2-crashes-1", || two_phase_commit(2, 1)),
        ("raft-3-timers-2", || raft(2)),
        ("raft-stale-read-client", raft_stale_read),
    ];
    for (name, case) in cases {
        if filter.as_ref().is_some_and(|f| !name.contains(f.as_str())) {
            continue;
        }
        #[allow(clippy::disallowed_methods)] // A benchmark measures wall time.
        let started = Instant::now();
        let outcome = case();
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{name:18} {:?} states {:>10} unique {:>9} depth {:>3} {:>7.2} s {:>9.0} unique/s peak {:.0} MiB",
            outcome.verdict,
            outcome.states,
            outcome.unique_states,
            outcome.depth_max,
            secs,
            outcome.unique_states as f64 / secs,
            peak_mib(),
        );
    }
}
