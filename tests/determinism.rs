//! Determinism: the same scenario and seed give the same trace hash, run after run; different
//! seeds give different runs.

use faultline::scenario::{self, RunOptions, Scenario};
use std::collections::BTreeSet;
use std::path::Path;

const SEEDS: u64 = 200;

fn load(name: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name);
    scenario::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn hash(scenario: &Scenario, seed: u64) -> u64 {
    let options = RunOptions {
        seed: Some(seed),
        ..RunOptions::default()
    };
    scenario::run(scenario, options).expect("run").trace_hash
}

fn sweep(name: &str) {
    let scenario = load(name);
    let mut seen = BTreeSet::new();
    for seed in 0..SEEDS {
        let first = hash(&scenario, seed);
        assert_eq!(
            first,
            hash(&scenario, seed),
            "{name}: seed {seed} is not deterministic"
        );
        seen.insert(first);
    }
    assert_eq!(
        seen.len() as u64,
        SEEDS,
        "{name}: two seeds gave the same trace"
    );
}

#[test]
fn echo_with_crashes_and_loss_is_deterministic_over_200_seeds() {
    sweep("echo-crash-restart.yaml");
}

#[test]
fn broadcast_with_partitions_is_deterministic_over_200_seeds() {
    sweep("broadcast-partition.yaml");
}

#[test]
fn broadcast_with_skewed_clocks_and_pauses_is_deterministic_over_200_seeds() {
    sweep("broadcast-clock-skew.yaml");
    sweep("broadcast-gray-failure.yaml");
}
