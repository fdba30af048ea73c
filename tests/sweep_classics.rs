//! Seed sweeps of the first three protocols of the course: echo, broadcast and register, each
//! under 200 random fault schedules (partitions, crashes and pauses, on top of the scenario's
//! message loss), all healed with a quiet tail left for the protocol to finish its work.

use faultline::faults::RandomFaults;
use faultline::testing::sweep_scenario;
use faultline::time::SimTime;
use std::path::Path;

const SEEDS: u64 = 200;

/// Runs `file` with a fresh random schedule, over by `faults_until`, for every seed.
fn sweep(file: &str, faults_until: SimTime) {
    let base = faultline::Registry::builtin()
        .load(Path::new(file))
        .expect("scenario loads");
    assert!(base.duration.0 > faults_until.0, "{file} has a quiet tail");
    let config = RandomFaults::all(faults_until);
    if let Err(failure) = sweep_scenario(&base, 0..SEEDS, Some(&config)) {
        panic!("{failure}");
    }
}

#[test]
fn echo_answers_every_request_exactly_once_under_random_faults() {
    // Requests stop after 20 per client; retries outlast any fault episode.
    sweep("scenarios/echo-crash-restart.yaml", SimTime::from_secs(4));
}

#[test]
fn echo_ids_stay_unique_under_random_faults() {
    sweep("scenarios/echo-unique-ids.yaml", SimTime::from_secs(4));
}

#[test]
fn broadcast_delivers_everything_under_random_faults() {
    sweep("scenarios/broadcast-partition.yaml", SimTime::from_secs(7));
}

#[test]
fn register_stays_linearizable_under_random_faults() {
    sweep(
        "scenarios/register-linearizable.yaml",
        SimTime::from_secs(8),
    );
}
