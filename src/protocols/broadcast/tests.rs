//! Tests of the broadcast protocol, run through the harness in the echo tests.

use super::*;
use crate::engine::{Sim, SimBuilder};
use crate::faults::{Fault, TimedFault};
use crate::net::NetworkConfig;
use crate::protocols::echo::tests::{
    Setup, assert_file_mirrors, at_ms, lossy, outcome, run, trace_hash,
};
use crate::time::{SignedDuration, SimTime};

fn n(name_index: u32) -> NodeId {
    NodeId(name_index - 1)
}

fn setup(seed: u64, network: NetworkConfig, faults: Vec<TimedFault>) -> Setup<Broadcast> {
    Setup {
        seed,
        nodes: 5,
        params: Params::default(),
        bug: None,
        network,
        faults,
        duration: SimTime::from_secs(10),
    }
}

/// n1, n2 | n3, n4, n5 from before the first value until after the last one.
fn split_then_heal() -> Vec<TimedFault> {
    vec![
        at_ms(
            200,
            Fault::Partition(vec![vec![n(1), n(2)], vec![n(3), n(4), n(5)]]),
        ),
        at_ms(3_000, Fault::Heal(None)),
    ]
}

/// n3 is cut off, originates two values nobody else hears of, crashes, restarts, rejoins.
fn isolate_crash_restart() -> Vec<TimedFault> {
    vec![
        at_ms(
            200,
            Fault::Partition(vec![vec![n(3)], vec![n(1), n(2), n(4), n(5)]]),
        ),
        at_ms(1_200, Fault::Crash(n(3))),
        at_ms(1_500, Fault::Restart(n(3))),
        at_ms(2_000, Fault::Heal(None)),
    ]
}

fn random_faults(seed: u64) -> Vec<TimedFault> {
    let crash_ms = 300 + seed * 53 % 2_000;
    let mut faults = split_then_heal();
    faults.push(at_ms(crash_ms, Fault::Crash(n(4))));
    faults.push(at_ms(crash_ms + 500, Fault::Restart(n(4))));
    faults
}

#[test]
fn correct_broadcast_passes_under_loss_partition_and_crashes() {
    for seed in 0..50 {
        let s = setup(seed, lossy(0.1, 0.05), random_faults(seed));
        let report = run(&s);
        assert!(report.is_none(), "seed {seed}: {report:?}");
    }
}

#[test]
fn same_seed_same_trace() {
    let s = setup(3, lossy(0.1, 0.05), random_faults(3));
    assert_eq!(trace_hash(&s), trace_hash(&s));
    let other = setup(4, lossy(0.1, 0.05), random_faults(3));
    assert_ne!(trace_hash(&s), trace_hash(&other));
}

#[test]
fn no_retransmit_is_caught_by_a_partition() {
    let report = (0..10)
        .find_map(|seed| {
            run(&Setup {
                bug: Some("no-retransmit"),
                ..setup(seed, lossy(0.0, 0.0), split_then_heal())
            })
        })
        .expect("caught");
    assert_eq!(report.property, "all_delivered");
    assert!(
        report.message.contains("never reached"),
        "{}",
        report.message
    );
}

#[test]
fn no_retransmit_is_caught_by_loss_alone() {
    let report = (0..10)
        .find_map(|seed| {
            run(&Setup {
                bug: Some("no-retransmit"),
                ..setup(seed, lossy(0.3, 0.0), Vec::new())
            })
        })
        .expect("caught");
    assert_eq!(report.property, "all_delivered");
}

#[test]
fn forget_on_restart_is_caught_by_isolate_crash_restart() {
    let report = (0..10)
        .find_map(|seed| {
            run(&Setup {
                bug: Some("forget-on-restart"),
                ..setup(seed, lossy(0.0, 0.0), isolate_crash_restart())
            })
        })
        .expect("caught");
    assert_eq!(report.property, "all_delivered");
    assert!(
        report
            .message
            .contains("no live node knows value 2000000, which n3 originated (n3 itself lost it)"),
        "{}",
        report.message
    );
}

#[test]
fn no_invention_names_the_node_and_the_value() {
    let params = Params::default();
    let mut sim = SimBuilder::new(1)
        .nodes(5)
        .build(move |id| Broadcast::new(id, 5, &params, None))
        .expect("valid");
    sim.run_until(SimTime::from_secs(1)).expect("within limits");
    let prop = &Broadcast::properties()[0];
    assert!(crate::check::ViolationReport::check(prop, &sim).is_none());
    // Forge what no correct node can do: know a value its origin has not made yet.
    let forged = value_of(n(3), 2);
    sim.procs[1].as_mut().expect("up").known.insert(forged);
    let report = crate::check::ViolationReport::check(prop, &sim).expect("caught");
    assert!(
        report
            .message
            .contains("n2 knows value 2000002, which would be value 2 of n3"),
        "{}",
        report.message
    );
    sim.procs[1].as_mut().expect("up").known.remove(&forged);
    sim.procs[4]
        .as_mut()
        .expect("up")
        .known
        .insert(value_of(NodeId(7), 0));
    let report = crate::check::ViolationReport::check(prop, &sim).expect("caught");
    assert!(
        report.message.contains("there are only 5 nodes"),
        "{}",
        report.message
    );
}

#[test]
fn no_invention_node_check_looks_only_at_the_origins_a_node_knows_of() {
    let params = Params::default();
    let mut sim = SimBuilder::new(1)
        .nodes(5)
        .build(move |id| Broadcast::new(id, 5, &params, None))
        .expect("valid");
    sim.run_until(SimTime::from_secs(1)).expect("within limits");
    let known_of = |sim: &Sim<Broadcast>, id: NodeId| {
        let node = sim.node(id).state().expect("up");
        highest_per_origin(node, 5)
            .map(|(o, _)| o)
            .collect::<Vec<_>>()
    };
    assert_eq!(known_of(&sim, n(1)), (0..5).map(NodeId).collect::<Vec<_>>());
    // Forge two inventions: n4 knows a value n5 never made, n5 one that n2 never made.
    let forge = |sim: &mut Sim<Broadcast>, at: NodeId, value: u64| {
        sim.procs[at.index()]
            .as_mut()
            .expect("up")
            .known
            .insert(value);
    };
    forge(&mut sim, n(4), value_of(n(5), 7));
    forge(&mut sim, n(5), value_of(n(2), 9));
    let whole = check_no_invention(&sim).expect_err("caught");
    assert!(
        whole
            .message
            .starts_with("n5 knows value 1000009, which would be value 9 of n2")
    );
    let n4 = check_no_invention_of(&sim, n(4)).expect_err("caught");
    assert!(
        n4.message
            .starts_with("n4 knows value 4000007, which would be value 7 of n5")
    );
    assert_eq!(n4.nodes, vec![n(4), n(5)]);
    assert!(
        check_no_invention_of(&sim, n(1)).is_ok(),
        "n1 knows nothing forged"
    );
}

#[test]
fn digests_take_turns_when_a_node_knows_more_than_one_message_holds() {
    let mut node = Broadcast::new(NodeId(0), 2, &Params::default(), None);
    let total = GOSSIP_VALUES_MAX as u64 * 2 + 10;
    node.known.extend(0..total);
    let mut seen = BTreeSet::new();
    for _ in 0..3 {
        let digest = node.digest();
        assert_eq!(digest.len(), GOSSIP_VALUES_MAX);
        seen.extend(digest);
    }
    assert_eq!(seen.len() as u64, total, "three digests cover every value");
}

#[test]
fn params_parse_durations_and_reject_unknown_fields() {
    let p: Params = serde_yaml::from_str("{ values_per_node: 5, gossip_interval: 50ms }").unwrap();
    assert_eq!(p.values_per_node, 5);
    assert_eq!(p.gossip_interval, SimDuration::from_millis(50));
    assert_eq!(p.broadcast_interval, Params::default().broadcast_interval);
    assert!(serde_yaml::from_str::<Params>("{ values: 5 }").is_err());
    assert_eq!(PARAM_DOCS.len(), 3, "every param documented");
    for bug in Broadcast::BUG_DOCS {
        assert!(Bug::from_name(bug.name).is_some(), "{}", bug.name);
    }
}

// Each scenario file in scenarios/broadcast-*.yaml, mirrored through the builder API.

fn scenario_partition(bug: Option<&'static str>) -> Setup<Broadcast> {
    Setup {
        bug,
        ..setup(42, lossy(0.05, 0.0), split_then_heal())
    }
}

fn scenario_forget(bug: Option<&'static str>) -> Setup<Broadcast> {
    Setup {
        bug,
        ..setup(42, lossy(0.05, 0.0), isolate_crash_restart())
    }
}

#[test]
fn scenario_broadcast_partition_passes() {
    let s = scenario_partition(None);
    assert_file_mirrors("broadcast-partition.yaml", &s, "pass");
    assert_eq!(outcome(&run(&s)), "pass");
}

#[test]
fn scenario_broadcast_no_retransmit_bug_violates_all_delivered() {
    let s = scenario_partition(Some("no-retransmit"));
    assert_file_mirrors("broadcast-no-retransmit-bug.yaml", &s, "all_delivered");
    assert_eq!(outcome(&run(&s)), "all_delivered");
}

#[test]
fn scenario_broadcast_crash_restart_passes() {
    let s = scenario_forget(None);
    assert_file_mirrors("broadcast-crash-restart.yaml", &s, "pass");
    assert_eq!(outcome(&run(&s)), "pass");
}

#[test]
fn scenario_broadcast_forget_bug_violates_all_delivered() {
    let s = scenario_forget(Some("forget-on-restart"));
    assert_file_mirrors("broadcast-forget-bug.yaml", &s, "all_delivered");
    assert_eq!(outcome(&run(&s)), "all_delivered");
}

#[test]
fn scenario_broadcast_clock_skew_passes() {
    let skew = |node, offset_ms: i64, drift| Fault::ClockSkew {
        node,
        offset: SignedDuration(offset_ms * 1_000_000),
        drift,
    };
    let jump = |node, by_ms: i64| Fault::ClockJump {
        node,
        by: SignedDuration(by_ms * 1_000_000),
    };
    let s = setup(
        42,
        lossy(0.1, 0.0),
        vec![
            at_ms(100, skew(n(2), 200, 1.05)),
            at_ms(100, skew(n(4), -300, 0.8)),
            at_ms(1_000, jump(n(2), -1_000)),
            at_ms(1_200, jump(n(4), 2_000)),
        ],
    );
    assert_file_mirrors("broadcast-clock-skew.yaml", &s, "pass");
    assert_eq!(outcome(&run(&s)), "pass");
}

#[test]
fn scenario_broadcast_gray_failure_passes() {
    let s = setup(
        42,
        lossy(0.1, 0.0),
        vec![
            at_ms(700, Fault::Pause(n(3))),
            at_ms(5_000, Fault::Resume(n(3))),
        ],
    );
    assert_file_mirrors("broadcast-gray-failure.yaml", &s, "pass");
    assert_eq!(outcome(&run(&s)), "pass");
}
