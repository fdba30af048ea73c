//! Helpers shared by the tests that drive the `faultline` binary.

use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs the binary with `args` and collects what it printed.
#[allow(dead_code)] // used by some of the test crates only
pub fn faultline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// An empty directory in the temporary directory, unique to this test process and `name`.
#[allow(dead_code)] // used by some of the test crates only
pub fn fresh_dir(prefix: &str, name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("faultline-{prefix}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The scenario file `path` with its scripted `faults:` block removed, as `faultline fuzz`
/// then draws its own. The block must be followed by `expect:`.
#[allow(dead_code)] // used by some of the test crates only
pub fn without_faults(path: &str) -> String {
    let source = std::fs::read_to_string(path).expect("the scenario file");
    let (head, rest) = source.split_once("faults:\n").expect("scripted faults");
    let tail = &rest[rest
        .find("expect:")
        .expect("an expectation after the faults")..];
    format!("{head}{tail}")
}

/// Runs `check-history FILE ARGS...`: its exit code, stdout and stderr.
#[allow(dead_code)] // used by some of the test crates only
pub fn check_history(file: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .arg("check-history")
        .arg(file)
        .args(args)
        .output()
        .expect("the binary runs");
    (
        out.status.code().expect("an exit code"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The scenario file at `file`, read with the built-in protocols.
#[allow(dead_code)] // used by some of the test crates only
pub fn load_scenario(file: &str) -> faultline::scenario::Scenario {
    faultline::Registry::builtin()
        .load(std::path::Path::new(file))
        .unwrap_or_else(|e| panic!("{file} loads: {e}"))
}

/// The report of one run of the scenario file at `file`.
#[allow(dead_code)] // used by some of the test crates only
pub fn run_scenario(file: &str) -> faultline::scenario::RunReport {
    let scenario = load_scenario(file);
    faultline::scenario::run(&scenario, faultline::scenario::RunOptions::default())
        .unwrap_or_else(|e| panic!("{file} runs: {e}"))
}

/// Runs each scenario file once: each must meet its `expect:` (a bug scenario its violation).
#[allow(dead_code)] // used by some of the test crates only
pub fn assert_expectations_met(files: &[&str]) {
    for file in files {
        let report = run_scenario(file);
        assert!(
            report.expectation_met,
            "{file}: expected {:?}, got {:#?}",
            report.expect, report.violations
        );
    }
}

/// Sweeps the scenario file at `file` over `seeds`, its faults replaced by random partitions,
/// crashes and pauses that all end by `faults_until`; the scenario must run on for at least
/// `quiet_ns` after them, so that its goals measure a quiet system.
#[allow(dead_code)] // used by some of the test crates only
pub fn sweep_with_random_faults(
    file: &str,
    seeds: std::ops::Range<u64>,
    faults_until: faultline::time::SimTime,
    quiet_ns: u64,
) {
    let base = load_scenario(file);
    assert!(
        base.duration.as_nanos() >= faults_until.as_nanos() + quiet_ns,
        "{file} leaves a quiet tail after the faults"
    );
    let config = faultline::faults::RandomFaults::all(faults_until);
    let count = seeds.end - seeds.start;
    match faultline::testing::sweep_scenario(&base, seeds, Some(&config)) {
        Ok(summary) => assert_eq!(summary.seeds, count),
        Err(failure) => panic!("{failure}"),
    }
}
