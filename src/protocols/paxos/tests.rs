//! Tests of paxos: recovery of acceptor state, every bug caught, the correct protocol safe and
//! live under the same faults, determinism, and bad stored bytes.

use super::*;
use crate::check::{ViolationReport, run_checked};
use crate::engine::{Sim, SimBuilder};
use crate::faults::{Fault, TimedFault};
use crate::history::Value;
use crate::net::{Latency, LinkConfig, NetworkConfig};
use crate::protocols::echo::tests::{at_ms, lossy};
use crate::time::SimTime;

fn n(number: u32) -> NodeId {
    NodeId(number - 1)
}

/// Every message takes exactly 10 ms, as in the bug scenarios.
fn constant_10ms() -> NetworkConfig {
    NetworkConfig {
        default: LinkConfig {
            latency: Latency::Constant(SimDuration::from_millis(10)),
            ..LinkConfig::default()
        },
        links: BTreeMap::new(),
    }
}

/// Everyone proposes at time 0.
fn at_once() -> Params {
    Params {
        start_after: SimDuration::ZERO,
        start_jitter: SimDuration::ZERO,
        retry_timeout: SimDuration::from_millis(200),
        ..Params::default()
    }
}

struct Run {
    sim: Sim<Paxos>,
    violation: Option<ViolationReport>,
}

fn run(
    seed: u64,
    params: Params,
    bug: Option<&'static str>,
    network: NetworkConfig,
    faults: Vec<TimedFault>,
    end_ms: u64,
) -> Run {
    let mut sim = SimBuilder::new(seed)
        .nodes(5)
        .network(network)
        .faults(faults)
        .build(move |id| Paxos::new(id, 5, &params, bug))
        .expect("valid setup");
    let violations = run_checked(&mut sim, SimTime::from_millis(end_ms), &Paxos::properties())
        .expect("within limits");
    Run {
        sim,
        violation: violations.into_iter().next(),
    }
}

/// n5 wins phase 1 and 500 is accepted everywhere at 30 ms; n5 crashes before learning it.
fn proposer_crash() -> Vec<TimedFault> {
    vec![
        at_ms(35, Fault::Crash(n(5))),
        at_ms(1_000, Fault::Restart(n(5))),
    ]
}

#[test]
fn encode_then_decode_gives_the_same_state() {
    let b = |round, node| Ballot {
        round,
        node: n(node),
    };
    let state = Durable {
        promised: b(4, 2),
        accepted: Some((b(3, 1), 100)),
        history: BTreeMap::from([(b(1, 5), 500), (b(3, 1), 100)]),
        learned: Some(100),
    };
    assert_eq!(decode(&encode(&state)), Some(state));
    assert_eq!(
        decode(&encode(&Durable::default())),
        Some(Durable::default())
    );
}

#[test]
fn bad_stored_bytes_decode_to_nothing() {
    let good = encode(&Durable {
        accepted: Some((Ballot::default(), 7)),
        ..Durable::default()
    });
    for len in 0..good.len() {
        assert_eq!(decode(&good[..len]), None, "prefix of {len} bytes");
    }
    // A huge history length with no entries behind it.
    let mut lying = encode(&Durable::default());
    let at = lying.len() - 4;
    lying[at..].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(decode(&lying), None);
}

#[test]
fn a_restarted_acceptor_recovers_what_it_accepted_and_the_value_is_kept() {
    let run = run(1, at_once(), None, constant_10ms(), proposer_crash(), 3_000);
    assert_eq!(run.violation, None);
    // n5 crashed after its own acceptor had accepted 500: the restart recovered it.
    let n5 = run.sim.node(n(5)).state().expect("n5 restarted");
    let accepted = Ballot {
        round: 1,
        node: n(5),
    };
    assert_eq!(n5.durable().history.get(&accepted), Some(&500));
    assert!(n5.durable().promised >= accepted);
    // Whoever finished the decision adopted 500 from the promises: everyone learned it.
    for (id, view) in run.sim.nodes() {
        let node = view.state().expect("up");
        assert_eq!(node.learned(), Some(500), "{id}");
    }
}

#[test]
fn a_restarted_proposer_uses_a_higher_ballot_than_before() {
    // n5 crashes at 15 ms, after its Prepare (1, n5) went out; back at 20 ms, it proposes
    // again and must not reuse round 1.
    let faults = vec![
        at_ms(15, Fault::Crash(n(5))),
        at_ms(20, Fault::Restart(n(5))),
    ];
    let run = run(2, at_once(), None, constant_10ms(), faults, 30);
    let n5 = run.sim.node(n(5)).state().expect("up");
    assert!(n5.durable().promised.round >= 2, "{:?}", n5.durable());
}

#[test]
fn ignore_accepted_chooses_a_second_value_after_the_proposer_crash() {
    let bug = Some("ignore-accepted");
    let run = run(1, at_once(), bug, constant_10ms(), proposer_crash(), 3_000);
    let v = run.violation.expect("agreement violated");
    assert_eq!(v.property, "agreement");
    assert!(
        v.message
            .contains("value 500 was chosen at ballot (1, n5) by n1, n2, n3, n4, n5"),
        "{}",
        v.message
    );
}

#[test]
fn break_promise_accepts_lower_ballots_from_concurrent_proposers() {
    let bug = Some("break-promise");
    let run = run(1, at_once(), bug, constant_10ms(), Vec::new(), 3_000);
    let v = run.violation.expect("agreement violated");
    assert_eq!(v.property, "agreement");
    assert_eq!(v.time, SimTime::from_millis(30), "{}", v.message);
    // Without the bug the same run is safe and live.
    let ok = super::tests::run(1, at_once(), None, constant_10ms(), Vec::new(), 3_000);
    assert_eq!(ok.violation, None);
}

#[test]
fn unsynced_acceptors_forget_a_chosen_value_in_a_crash() {
    let crash_majority = vec![
        at_ms(35, Fault::Crash(n(1))),
        at_ms(35, Fault::Crash(n(2))),
        at_ms(35, Fault::Crash(n(3))),
        at_ms(100, Fault::Restart(n(1))),
        at_ms(100, Fault::Restart(n(2))),
        at_ms(100, Fault::Restart(n(3))),
    ];
    let bug = Some("unsynced-acceptor");
    let run = super::tests::run(
        1,
        at_once(),
        bug,
        constant_10ms(),
        crash_majority.clone(),
        500,
    );
    let v = run.violation.expect("agreement violated");
    assert_eq!(v.time, SimTime::from_millis(40), "{}", v.message);
    assert!(
        v.message
            .starts_with("n5 learned 500, but no majority of acceptors holds it at one ballot: only n4, n5 hold it, at ballot (1, n5)"),
        "{}",
        v.message
    );
    // Synced acceptors keep it through the same crashes.
    let ok = super::tests::run(1, at_once(), None, constant_10ms(), crash_majority, 500);
    assert_eq!(ok.violation, None);
}

/// The scenario file `file` with `bug` in place of its own; without a bug it expects a pass.
fn scenario_run(file: &str, bug: Option<&'static str>) -> crate::scenario::RunReport {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(file);
    let mut s = crate::scenario::builtin::load(&path).expect("loads");
    s.bug = bug;
    if bug.is_none() {
        s.expect = crate::scenario::ExpectSpec::Pass;
    }
    crate::scenario::run(&s, crate::scenario::RunOptions::default()).expect("runs")
}

#[test]
fn one_short_quorum_chooses_two_values_from_concurrent_starts() {
    let file = "paxos-one-short-quorum-bug.yaml";
    let report = scenario_run(file, Some("one-short-quorum"));
    let v = &report.violations[0];
    assert_eq!(v.property, "agreement");
    assert!(
        v.message.starts_with(
            "two values were chosen: value 400 was chosen at ballot (1, n4) by n1, n2, n4, \
             and value 500 was chosen at ballot (1, n5) by n1, n3, n5"
        ),
        "{}",
        v.message
    );
    assert!(
        report.stopped_at < SimTime::from_millis(40),
        "{:?}",
        report.stopped_at
    );
    let again = scenario_run(file, Some("one-short-quorum"));
    assert_eq!(report.trace_hash, again.trace_hash);
    // Majorities of promises intersect: the correct protocol chooses one value.
    let ok = scenario_run(file, None);
    assert!(ok.violations.is_empty(), "{:?}", ok.violations);
    assert!(ok.expectation_met);
}

#[test]
fn learned_values_that_differ_are_named() {
    let mut run = run(1, at_once(), None, constant_10ms(), Vec::new(), 1_000);
    assert_eq!(run.violation, None);
    // Tamper with one node's memory: it claims to have learned another value.
    let sim = &mut run.sim;
    let n2 = sim.procs[n(2).index()].as_mut().expect("up");
    n2.durable.learned = Some(200);
    let err = check::agreement(sim).expect_err("a different learned value");
    assert!(
        err.message
            .contains("n1 learned 500 and n2 learned 200; value 500 was chosen"),
        "{}",
        err.message
    );
    // Every node claims the same unchosen value.
    for p in sim.procs.iter_mut().flatten() {
        p.durable.learned = Some(200);
    }
    let err = check::agreement(sim).expect_err("an unchosen learned value");
    assert!(
        err.message.contains("n1 learned 200, but no majority of acceptors holds it at one ballot: no acceptor holds it"),
        "{}",
        err.message
    );
}

#[test]
fn same_seed_same_trace() {
    let hash = |seed| {
        let faults = vec![
            at_ms(
                300,
                Fault::Partition(vec![vec![n(1), n(2)], vec![n(3), n(4), n(5)]]),
            ),
            at_ms(600, Fault::Crash(n(3))),
            at_ms(900, Fault::Heal(None)),
            at_ms(1_000, Fault::Restart(n(3))),
        ];
        let params = Params {
            start_after: SimDuration::from_millis(250),
            ..Params::default()
        };
        let run = run(seed, params, None, lossy(0.05, 0.01), faults, 3_000);
        assert_eq!(run.violation, None, "seed {seed}");
        run.sim.trace_hash()
    };
    for seed in 0..5 {
        assert_eq!(hash(seed), hash(seed), "seed {seed}");
    }
    assert_ne!(hash(1), hash(2));
}

#[test]
fn out_of_range_params_are_rejected_not_clamped() {
    let params = Params {
        retry_timeout: SimDuration::ZERO,
        ..Params::default()
    };
    let e = Paxos::check_params(&params, 3).expect_err("a zero retry timeout");
    assert_eq!(e, "`retry_timeout` is 0ns; it must be from 1ms to 3600s");
    let late = Params {
        start_after: SimDuration(u64::MAX),
        ..Params::default()
    };
    assert!(Paxos::check_params(&late, 3).is_err());
    let built = std::panic::catch_unwind(|| Paxos::new(n(1), 3, &params, None));
    assert!(
        built.is_err(),
        "the builder refuses what a scenario file cannot say"
    );
    assert!(Paxos::check_params(&Params::default(), 3).is_ok());
}

/// Clients write and read key 0 while n1 and n2 are cut off for a while.
fn register_run(seed: u64, client_values: bool) -> Run {
    let params = Params {
        client_values,
        ..Params::default()
    };
    let workload = crate::workload::WorkloadConfig {
        clients: 5,
        rate_per_s: 100.0,
        timeout: SimDuration::from_millis(500),
        until: SimTime::from_millis(1_500),
        ..crate::workload::WorkloadConfig::new(Model::Register)
    };
    let faults = vec![
        at_ms(10, Fault::Partition(vec![vec![n(1), n(2)]])),
        at_ms(500, Fault::Heal(None)),
    ];
    let mut sim = SimBuilder::new(seed)
        .nodes(5)
        .network(lossy(0.05, 0.0))
        .faults(faults)
        .workload(workload)
        .build(move |id| Paxos::new(id, 5, &params, None))
        .expect("valid setup");
    let violations =
        run_checked(&mut sim, SimTime::from_secs(2), &Paxos::properties()).expect("within limits");
    Run {
        sim,
        violation: violations.into_iter().next(),
    }
}

#[test]
fn as_a_register_every_ok_op_sees_the_one_chosen_value() {
    use crate::history::Status;
    for seed in 0..10 {
        let run = register_run(seed, true);
        assert_eq!(run.violation, None, "seed {seed}");
        let chosen = run.sim.node(n(1)).state().and_then(Paxos::learned);
        let chosen = Value::Int(chosen.expect("n1 learned") as i64);
        let ops = run.sim.history().history().ops;
        let ok: Vec<_> = ops.iter().filter(|op| op.status == Status::Ok).collect();
        assert!(
            ok.iter().any(|op| op.f == "write"),
            "seed {seed}: a write won"
        );
        for op in ok {
            let seen = if op.f == "write" {
                &op.input
            } else {
                &op.output
            };
            assert_eq!(seen, &chosen, "seed {seed}: {op:?}");
        }
        // Writes of other values fail, definitely; so do reads before a value is known.
        assert!(
            ops.iter().any(|op| op.status == Status::Fail),
            "seed {seed}"
        );
    }
}

#[test]
fn without_client_values_clients_are_refused() {
    let run = register_run(1, false);
    assert_eq!(run.violation, None);
    let ops = run.sim.history().history().ops;
    assert!(!ops.is_empty());
    assert!(
        ops.iter()
            .all(|op| op.status == crate::history::Status::Fail)
    );
}
