//! Broadcast under proptest's networks and fault schedules: whatever the loss, duplication,
//! latency and episodes of isolation, crashes and pauses in the first 3 s, nothing is
//! invented and every value reaches every node by 8 s. A failure shrinks to the smallest
//! schedule that still breaks it.

use faultline::check::run_checked;
use faultline::proptest::{fault_schedule, network_config};
use faultline::protocols::Protocol;
use faultline::protocols::broadcast::{Broadcast, Params};
use faultline::{NetworkConfig, SimBuilder, SimDuration, SimTime, TimedFault};
use proptest::prelude::*;

const NODES: u32 = 3;

fn violations(
    seed: u64,
    network: NetworkConfig,
    faults: Vec<TimedFault>,
    bug: Option<&'static str>,
) -> Vec<String> {
    let mut sim = SimBuilder::new(seed)
        .nodes(u64::from(NODES))
        .network(network)
        .faults(faults)
        .build(move |id| Broadcast::new(id, NODES, &Params::default(), bug))
        .expect("a valid simulation");
    let properties = Broadcast::properties();
    run_checked(&mut sim, SimTime::from_secs(8), &properties)
        .expect("within limits")
        .iter()
        .map(|v| v.headline())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn broadcast_delivers_everything_after_random_faults(
        seed in any::<u64>(),
        network in network_config(0.2, 0.1),
        faults in fault_schedule(NODES, SimDuration::from_secs(3), 6),
    ) {
        let found = violations(seed, network, faults, None);
        prop_assert!(found.is_empty(), "{:?}", found);
    }
}

/// Without retransmission a lost message is lost for good: proptest finds a failing case and
/// shrinks it, schedule included, to a small one.
#[test]
fn the_no_retransmit_bug_is_found_and_shrunk() {
    use proptest::test_runner::{Config, RngAlgorithm, TestError, TestRng, TestRunner};
    let strategy = (
        any::<u64>(),
        network_config(0.2, 0.1),
        fault_schedule(NODES, SimDuration::from_secs(3), 6),
    );
    // A fixed seed for proptest itself, so that the case found and its shrinking are the
    // same on every run.
    let config = Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = TestRng::deterministic_rng(RngAlgorithm::ChaCha);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let result = runner.run(&strategy, |(seed, network, faults)| {
        let found = violations(seed, network, faults, Some("no-retransmit"));
        prop_assert!(found.is_empty(), "{:?}", found);
        Ok(())
    });
    match result {
        Err(TestError::Fail(_, (_, network, faults))) => {
            // One episode (a fault and its repair), or two, is all it takes.
            assert!(faults.len() <= 4, "{faults:?}");
            eprintln!(
                "minimal case: drop {}, faults {faults:?}",
                network.default.drop
            );
        }
        other => panic!("the bug went unnoticed: {other:?}"),
    }
}
