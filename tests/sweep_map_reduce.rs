//! Seed sweep of map-reduce: the passing scenario under 200 random fault schedules
//! (partitions, crashes and pauses, on top of the scenario's message loss) never counts a
//! record twice or misses one, and with every fault over by 6 s the job is done within 4 s
//! of the last one. Each bug scenario still shows its violation, and backup tasks beat a
//! straggler. The binary lists, runs (twice more, to compare), draws and fuzzes the protocol.

mod common;

use common::{faultline, fresh_dir};
use faultline::time::SimTime;

const SEEDS: u64 = 200;
/// Every random fault is healed, restarted or resumed by then; the scenario's goal then asks
/// for the job within 4 s, and the run lasts 10 s.
const FAULTS_UNTIL: SimTime = SimTime::from_secs(6);

#[test]
fn random_faults_never_miscount_and_the_job_is_done_after_healing() {
    let file = "scenarios/map-reduce.yaml";
    assert_eq!(
        common::load_scenario(file).eventually.len(),
        1,
        "the job must be done after the faults"
    );
    common::sweep_with_random_faults(file, 0..SEEDS, FAULTS_UNTIL, 4_000_000_000);
}

#[test]
fn every_bug_scenario_meets_its_expectation() {
    common::assert_expectations_met(&[
        "scenarios/map-reduce-double-count-bug.yaml",
        "scenarios/map-reduce-forget-on-restart-bug.yaml",
        "scenarios/map-reduce-no-timeout-bug.yaml",
    ]);
}

/// When the job was done, by the scenario's goal.
fn job_done_at(file: &str) -> u64 {
    let report = common::run_scenario(file);
    assert!(report.expectation_met, "{file}: {:#?}", report.violations);
    let goal = report
        .goals
        .iter()
        .find(|g| g.condition == "job_done")
        .expect("the scenario has a job_done goal");
    goal.held_at_ns.expect("the job was done")
}

#[test]
fn backup_tasks_finish_the_job_much_sooner_behind_a_straggler() {
    let without = job_done_at("scenarios/map-reduce-straggler.yaml");
    let with = job_done_at("scenarios/map-reduce-straggler-backup.yaml");
    // The straggler stalls for 3 s; without backups the job waits for it.
    assert!(
        without >= 3_000_000_000,
        "done at {without} ns without backups"
    );
    assert!(
        with * 3 / 2 < without,
        "backups: done at {with} ns, not much sooner than {without} ns without"
    );
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_report_says_when_the_job_was_done() {
    let out = faultline(&["run", "scenarios/map-reduce-straggler-backup.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.contains("eventually job_done"))
        .unwrap_or_else(|| panic!("no goal line in {stdout}"));
    assert!(line.contains("held at 1."), "{line}");
    let out = faultline(&[
        "run",
        "scenarios/map-reduce-straggler.yaml",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    let held = json["eventually"][0]["held_at_ns"]
        .as_u64()
        .expect("held_at_ns");
    assert!(held > 3_000_000_000, "{json}");
}

#[test]
fn the_binary_lists_draws_fuzzes_and_rejects_bad_params() {
    let out = faultline(&["list"]);
    let stdout = text(&out.stdout);
    for name in [
        "map-reduce",
        "double-count",
        "forget-on-restart",
        "no-timeout",
        "exactly_once",
    ] {
        assert!(stdout.contains(name), "{name} missing from list");
    }
    let dir = fresh_dir("map-reduce", "cli");
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let page = dir.join("run.html");
    let page_arg = page.to_str().expect("a UTF-8 path");
    let out = faultline(&[
        "run",
        "scenarios/map-reduce-double-count-bug.yaml",
        "--html",
        page_arg,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let html = std::fs::read_to_string(&page).expect("the page is written");
    assert!(html.contains("Commit"), "the page draws the run's messages");
    let out = faultline(&["run", "scenarios/map-reduce.yaml", "--check-determinism"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let out_dir = dir.join("fuzz");
    let out = faultline(&[
        "fuzz",
        "scenarios/map-reduce.yaml",
        "--count",
        "3",
        "--out",
        out_dir.to_str().expect("a UTF-8 path"),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let bad = dir.join("bad.yaml");
    std::fs::write(
        &bad,
        "name: t\nprotocol: map-reduce\nparams: { splits: 0 }\nnodes: 3\n",
    )
    .expect("the file is written");
    let out = faultline(&["run", bad.to_str().expect("a UTF-8 path")]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("bad.yaml:3:") && stderr.contains("`splits` is 0"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
