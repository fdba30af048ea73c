//! A protocol from outside faultline, through a command line of its own: the binary of
//! `examples/custom_cli.rs`, which is `faultline::cli::main` with the built-in protocols and a
//! leader election. Every subcommand works on scenario files that name it.
//!
//! `cargo test` builds the examples before running the tests; after `cargo test --test
//! custom_cli` alone, build it first with `cargo build --example custom_cli`.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps");
    let path = dir
        .join("examples")
        .join(format!("custom_cli{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo build --example custom_cli`",
        path.display()
    );
    path
}

fn custom(args: &[&str]) -> (i32, String, String) {
    run_example(binary(), args)
}

/// Runs the example binary at `path` from the repository root.
fn run_example(path: PathBuf, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(path)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the example runs");
    (
        out.status.code().expect("an exit code, not a signal"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("faultline-custom-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

const ELECT: &str = "examples/custom_cli/elect.yaml";
const BUG: &str = "examples/custom_cli/vote-twice-bug.yaml";

#[test]
fn list_shows_the_new_protocol_after_the_built_in_ones() {
    let (code, stdout, _) = custom(&["list", "--format", "json"]);
    assert_eq!(code, 0);
    let list: Value = serde_json::from_str(&stdout).expect("JSON");
    let names: Vec<&str> = (list.as_array().expect("an array").iter())
        .map(|p| p["name"].as_str().expect("a name"))
        .collect();
    assert_eq!(names.first(), Some(&"echo"));
    assert_eq!(names.last(), Some(&"election"));
    let election = &list[names.len() - 1];
    assert_eq!(election["bugs"][0]["name"], "vote-twice");
    assert_eq!(election["params"][0]["name"], "election_timeout");
    assert_eq!(election["properties"][0]["name"], "one_leader_per_term");
    assert_eq!(election["properties"][0]["monitor"], true);
    assert_eq!(election["properties"][1]["when"], "at_end");
    let (_, text, _) = custom(&["list"]);
    assert!(text.contains("one_leader_per_term  monitor"), "{text}");
}

#[test]
fn help_and_messages_name_the_binary_as_invoked() {
    let (code, stdout, _) = custom(&["--help"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("Usage: custom_cli <COMMAND>"), "{stdout}");
    // A scenario that meets its expectation has nothing to shrink.
    let out = scratch("nothing").join("out.yaml");
    let (code, _, stderr) = custom(&["shrink", BUG, "-o", out.to_str().expect("UTF-8")]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.starts_with("custom_cli: "), "{stderr}");
    assert!(stderr.contains("nothing to shrink"), "{stderr}");
}

#[test]
fn validate_and_run_the_correct_protocol() {
    let (code, stdout, stderr) = custom(&["validate", ELECT, BUG]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("(election, bug: vote-twice, 5 nodes"),
        "{stdout}"
    );
    let (code, stdout, stderr) = custom(&["run", ELECT, "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(report["protocol"], "election");
    assert_eq!(report["outcome"], "pass");
    // Same file, same seed, same run.
    let (_, again, _) = custom(&["run", ELECT, "--format", "json"]);
    let again: Value = serde_json::from_str(&again).expect("JSON");
    assert_eq!(report["trace_hash"], again["trace_hash"]);
}

#[test]
fn the_bug_variant_is_caught_explained_and_drawn() {
    let dir = scratch("bug");
    let page = dir.join("run.html");
    let page_arg = page.to_str().expect("a UTF-8 path");
    let (code, stdout, stderr) = custom(&["run", BUG, "--html", page_arg]);
    assert_eq!(code, 0, "the scenario expects the violation: {stderr}");
    assert!(stdout.contains("FAIL one_leader_per_term"), "{stdout}");
    assert!(stdout.contains("both lead term"), "{stdout}");
    assert!(stdout.contains("What led there"), "{stdout}");
    let html = std::fs::read_to_string(&page).expect("the page was written");
    assert!(html.contains("one_leader_per_term"));
    // A protocol that declares no summary gets the default: a digest of its state.
    assert!(html.contains(r#""kind":"summary""#));
    assert!(html.contains(r#""f":[["state","#));
}

#[test]
fn fuzz_in_shards_and_shrink_a_failure() {
    let dir = scratch("fuzz");
    let out = dir.join("out");
    let out_arg = out.to_str().expect("a UTF-8 path");
    let mut failing = Vec::new();
    for shard in ["0/2", "1/2"] {
        let args = [
            "fuzz", BUG, "--count", "10", "--jobs", "2", "--shard", shard,
        ];
        let (code, stdout, stderr) =
            custom(&[&args[..], &["--out", out_arg, "--format", "json"]].concat());
        assert_eq!(code, 1, "every seed of the bug fails: {stderr}");
        let report: Value = serde_json::from_str(&stdout).expect("JSON");
        for f in report["failures"].as_array().expect("failures") {
            failing.push(f["file"].as_str().expect("a file").to_string());
        }
    }
    // Seeds are split between the shards, and the bug shows on most of them.
    failing.sort();
    failing.dedup();
    assert!(failing.len() >= 8, "{failing:?}");
    let shrunk = dir.join("shrunk.yaml");
    let shrunk_arg = shrunk.to_str().expect("a UTF-8 path");
    let (code, _, stderr) = custom(&["shrink", &failing[0], "-o", shrunk_arg]);
    assert_eq!(code, 0, "{stderr}");
    let text = std::fs::read_to_string(&shrunk).expect("the shrunk file");
    assert!(
        text.contains("protocol: election") && text.contains("bug: vote-twice"),
        "{text}"
    );
    let (code, stdout, _) = custom(&["run", shrunk_arg]);
    assert_eq!(code, 1, "the shrunk file still fails: {stdout}");
    assert!(stdout.contains("FAIL one_leader_per_term"), "{stdout}");
}

#[test]
fn the_correct_protocol_survives_a_fuzz_campaign() {
    let dir = scratch("clean");
    let out = dir.join("out");
    let out_arg = out.to_str().expect("a UTF-8 path");
    let (code, stdout, stderr) = custom(&[
        "fuzz", ELECT, "--count", "100", "--jobs", "2", "--out", out_arg,
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("100 of 100 seeds"), "{stdout}");
}

#[test]
fn bad_params_and_names_are_located_errors() {
    let dir = scratch("bad");
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("written");
        path.to_str().expect("a UTF-8 path").to_string()
    };
    let base = "name: b\nprotocol: election\nnodes: 3\n";
    let cases = [
        (
            write(
                "typo.yaml",
                &format!("{base}params: {{ heartbeat: 10ms }}\n"),
            ),
            ":4:",
            "unknown field `heartbeat`",
        ),
        (
            write(
                "slow.yaml",
                &format!("{base}params:\n  heartbeat_interval: 200ms\n"),
            ),
            ":5:",
            "heartbeat_interval 200ms must be shorter than election_timeout 150ms",
        ),
        (
            write("bug.yaml", &format!("{base}bug: vote-thrice\n")),
            ":4:6:",
            "unknown bug variant `vote-thrice` of protocol `election`; expected `vote-twice`",
        ),
        (
            write("name.yaml", "name: b\nprotocol: electoin\nnodes: 3\n"),
            ":2:11:",
            "`election`",
        ),
    ];
    for (file, at, message) in &cases {
        let (code, _, stderr) = custom(&["validate", file]);
        assert_eq!(code, 2, "{file}: {stderr}");
        assert!(stderr.contains(&format!("{file}{at}")), "{file}: {stderr}");
        assert!(stderr.contains(message), "{file}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn explore_checks_the_new_protocol_with_its_monitor() {
    let (code, out, err) = custom(&[
        "explore",
        "examples/custom_cli/explore-election.yaml",
        "--timers",
        "2",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let report: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(report["verdict"], "exhausted");
    let invariants = report["invariants"].as_array().expect("a list");
    assert!(
        invariants.contains(&Value::from("one_leader_per_term")),
        "{report}"
    );
    let path = scratch("explore").join("path.yaml");
    let file = path.to_str().expect("utf-8");
    let (code, out, err) = custom(&[
        "explore",
        "examples/custom_cli/explore-vote-twice-bug.yaml",
        "--out",
        file,
    ]);
    assert_eq!(code, 0, "the scenario expects the violation: {out}{err}");
    assert!(out.contains("one_leader_per_term violated after"), "{out}");
    let (code, out, _) = custom(&["run", file]);
    assert_eq!(code, 0, "the path replays to the violation: {out}");
    assert!(out.contains("both lead term"), "{out}");
}

/// The binary of `examples/endless_loop.rs`, whose timer handler never returns.
fn endless(args: &[&str]) -> (i32, String, String) {
    let path = binary().with_file_name(format!("endless_loop{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo build --example endless_loop`",
        path.display()
    );
    run_example(path, args)
}

#[test]
fn grade_stops_at_a_seed_whose_handler_never_returns_and_names_it() {
    let suite = "examples/endless_loop/grade.yaml";
    let (code, stdout, stderr) = endless(&["grade", suite, "--seed-time-max", "300ms"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains("part `handlers return`, seed 0: still running after 300ms"),
        "{stderr}"
    );
    assert!(stderr.contains("a handler that never returns"), "{stderr}");
    assert!(!stdout.contains("Score:"), "no grade is given: {stdout}");
}
