//! The `testing` helpers themselves: a failing sweep names its seed, its violations and its
//! faults and writes them where asked; the liveness phase survives random faults; builder
//! sweeps check properties and determinism.

use faultline::faults::RandomFaults;
use faultline::protocols::Protocol;
use faultline::protocols::broadcast::{Broadcast, Params};
use faultline::scenario::{ExpectSpec, Scenario};
use faultline::testing::{
    FailureKind, Sweep, sweep_builder_deterministic, sweep_file, sweep_scenario, with_random_faults,
};
use faultline::{Fault, SimBuilder, SimTime};
use std::path::{Path, PathBuf};

fn load(name: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name);
    faultline::Registry::builtin()
        .load(&path)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A bug scenario told to expect a pass: every seed fails.
fn failing() -> Scenario {
    let mut s = load("paxos-ignore-accepted-bug.yaml");
    s.expect = ExpectSpec::Pass;
    s
}

#[test]
fn a_failing_seed_reports_its_violations_and_how_to_reproduce() {
    let failure = sweep_scenario(&failing(), 5..8, None).expect_err("the bug is caught");
    assert_eq!(failure.seed, 5);
    assert_eq!(failure.kind, FailureKind::Unmet);
    assert!(!failure.violations.is_empty());
    let message = failure.to_string();
    assert!(message.contains("seed 5"), "{message}");
    assert!(message.contains("violation:"), "{message}");
    assert!(message.contains("to reproduce"), "{message}");
}

#[test]
fn a_failure_is_written_to_the_failures_directory() {
    let dir: PathBuf = std::env::temp_dir().join(format!("faultline-sweep-{}", std::process::id()));
    // A correct protocol told to expect a violation fails on its first seed.
    let mut s = load("two-phase-commit-ok.yaml");
    s.expect = ExpectSpec::Violation(None);
    let failure = Sweep::new(3..6)
        .random_faults(RandomFaults::all(SimTime::from_secs(4)))
        .failures_dir(&dir)
        .run(&s)
        .expect_err("the expectation is not met");
    let path = failure.written_to.clone().expect("written");
    let text = std::fs::read_to_string(&path).expect("readable");
    assert!(text.contains(&format!("seed {}", failure.seed)), "{text}");
    // The random faults of the failing seed are listed, in the scenario's node names.
    assert!(!failure.faults.is_empty());
    assert!(text.contains("at "), "{text}");
    std::fs::remove_dir_all(&dir).expect("cleaned up");
}

#[test]
fn a_missing_file_is_an_error_not_a_panic() {
    let failure = sweep_file("scenarios/no-such-file.yaml", 0..2, None).expect_err("no file");
    assert!(matches!(failure.kind, FailureKind::Error(_)), "{failure}");
}

#[test]
fn random_faults_end_before_the_liveness_phase_and_keep_its_goals() {
    let base = load("raft-elect-and-replicate.yaml");
    let phase = base
        .faults
        .iter()
        .find(|f| matches!(f.fault, Fault::Stabilize { .. }))
        .expect("a liveness phase")
        .clone();
    let config = RandomFaults::all(SimTime(u64::MAX / 2));
    for seed in 0..20 {
        let s = with_random_faults(&base, seed, &config);
        let (last, rest) = s.faults.split_last().expect("faults");
        assert_eq!(last, &phase);
        assert!(rest.iter().all(|f| f.at <= phase.at), "seed {seed}");
        assert_eq!(s.eventually, base.eventually);
    }
}

#[test]
fn a_scenario_sweep_can_check_determinism() {
    let base = load("broadcast-partition.yaml");
    let summary = Sweep::new(0..4)
        .check_determinism()
        .run(&base)
        .unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(summary.seeds, 4);
    assert_eq!(summary.trace_hashes.len(), 4);
}

#[test]
fn a_builder_sweep_runs_each_seed_twice_and_checks_properties() {
    let build = |seed| {
        SimBuilder::new(seed)
            .nodes(4)
            .build(|id| Broadcast::new(id, 4, &Params::default(), None))
    };
    let properties = Broadcast::properties();
    let summary = sweep_builder_deterministic(0..4, build, &properties, SimTime::from_secs(4))
        .unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(summary.seeds, 4);
}

/// A seed means one run: a `Sweep` asked for the faults `faultline fuzz` draws gives each seed
/// the faults, nemesis and network the fuzzer gives it, and so the same trace.
#[test]
fn a_sweep_and_fuzz_draw_the_same_run_for_a_seed() {
    use faultline::explore::seed_scenario;
    use faultline::scenario::{RunOptions, run};
    for file in ["broadcast-nemesis.yaml", "echo-loss.yaml"] {
        let base = load(file);
        let sweep = Sweep::new(0..4).fuzz_faults(&base);
        for seed in 0..4 {
            let swept = sweep.scenario_for(&base, seed);
            let fuzzed = seed_scenario(&faultline::explore::prepare(&base), seed);
            assert_eq!(swept.faults, fuzzed.faults, "{file} seed {seed}");
            assert!(!swept.faults.is_empty(), "{file} seed {seed} draws faults");
            assert_eq!(swept.network.default, fuzzed.network.default);
            let hash = |s: &Scenario| run(s, RunOptions::default()).expect("runs").trace_hash;
            assert_eq!(hash(&swept), hash(&fuzzed), "{file} seed {seed}");
        }
    }
}

/// A failing seed says what the run drew and how it broke, and leaves a scenario file that
/// replays it.
#[test]
fn a_failure_explains_itself_and_writes_a_replayable_scenario() {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("faultline-sweep-replay-{}", std::process::id()));
    let mut base = load("broadcast-forget-bug.yaml");
    base.expect = ExpectSpec::Pass;
    let failure = Sweep::new(0..3)
        .failures_dir(&dir)
        .run(&base)
        .expect_err("the bug is caught");
    let message = failure.to_string();
    assert!(message.contains("What led there"), "{message}");
    assert!(message.contains("network: latency"), "{message}");
    let violated_at = failure.violations[0].time;
    let listed = message.lines().filter(|l| l.starts_with("  at ")).count();
    let before = failure
        .faults
        .iter()
        .filter(|f| f.at <= violated_at)
        .count();
    assert_eq!(listed, before, "only faults up to the violation: {message}");
    if before < failure.faults.len() {
        assert!(message.contains("later faults left out"), "{message}");
    }
    let text_path = failure.written_to.clone().expect("written");
    let yaml = text_path.with_extension("yaml");
    assert!(
        message.contains(&format!("faultline run {}", yaml.display())),
        "{message}"
    );
    let replay = faultline::Registry::builtin()
        .load(&yaml)
        .expect("a valid scenario");
    let report = faultline::scenario::run(&replay, Default::default()).expect("runs");
    assert_eq!(
        report.violations[0].property,
        failure.violations[0].property
    );
    assert_eq!(report.violations[0].time, violated_at);
    std::fs::remove_dir_all(&dir).expect("cleaned up");
}

/// A scenario made in Rust shrinks like a file does, to a file that replays the failure.
#[test]
fn a_scenario_made_in_rust_shrinks_to_a_minimal_file() {
    use faultline::explore::shrink;
    use faultline::protocols::echo::{self, Echo};
    use faultline::scenario::ProtocolParams;
    use faultline::{NodeId, SimDuration, TimedFault};
    let at = |ms, fault| TimedFault {
        at: SimTime::from_millis(ms),
        fault,
    };
    let mut s = Scenario::new::<Echo>("made in Rust", 3);
    s.bug = Some("no-retry");
    s.params = ProtocolParams::new(echo::Params {
        requests: 5,
        ..echo::Params::default()
    });
    s.duration = SimDuration::from_secs(2);
    s.faults = vec![
        at(1, Fault::Crash(NodeId(0))),
        at(100, Fault::Pause(NodeId(2))),
        at(200, Fault::Resume(NodeId(2))),
        at(500, Fault::Restart(NodeId(0))),
        at(900, Fault::Isolate(NodeId(1))),
        at(1000, Fault::Heal(None)),
    ];
    s.validate().unwrap_or_else(|e| panic!("{e}"));
    let dir = std::env::temp_dir().join(format!("faultline-made-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let out = dir.join("made.min.yaml");
    let report = shrink(&s, "made in Rust", &out).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.property, "all_answered");
    assert!(report.after.faults < report.before.faults, "{report:?}");
    let shrunk = faultline::Registry::builtin()
        .load(&out)
        .expect("the file loads");
    let replay = faultline::scenario::run(&shrunk, Default::default()).expect("runs");
    assert!(!replay.expectation_met);
    assert_eq!(replay.violations[0].property, "all_answered");
    std::fs::remove_dir_all(&dir).expect("cleaned up");
}
