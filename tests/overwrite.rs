//! An output that names an input is refused before anything is written, through the real
//! binary: the input is left as it was.

mod common;

use common::{faultline, fresh_dir};
use std::path::{Path, PathBuf};

const SCENARIO: &str = "scenarios/echo-loss.yaml";

fn copy_in(dir: &Path, from: &str, name: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(name);
    std::fs::copy(from, &path).unwrap();
    path
}

/// Runs `args`, expects exit 2 with a message naming `flag`, and `input` unchanged.
fn assert_refused(args: &[&str], flag: &str, input: &Path) {
    let before = std::fs::read(input).unwrap();
    let out = faultline(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(
        stderr.contains(flag) && stderr.contains("would overwrite"),
        "{args:?}: {stderr}"
    );
    assert!(out.stdout.is_empty(), "{args:?}: nothing ran");
    assert_eq!(
        std::fs::read(input).unwrap(),
        before,
        "{args:?}: input kept"
    );
}

#[test]
fn run_outputs_equal_to_the_scenario_are_refused() {
    let d = fresh_dir("overwrite", "run");
    let file = copy_in(&d, SCENARIO, "s.yaml");
    let f = file.to_str().unwrap();
    // The same file spelled another way is the same file.
    let dotted = d.join(".").join("s.yaml");
    let dotted = dotted.to_str().unwrap();
    for flag in ["--trace", "--history", "--html", "--shiviz"] {
        assert_refused(&["run", f, flag, f], flag, &file);
        assert_refused(&["run", f, flag, dotted], flag, &file);
    }
    let other = d.join("out.txt");
    let o = other.to_str().unwrap();
    let out = faultline(&["run", f, "--trace", o, "--html", o]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--trace and --html both name"));
    assert!(!other.exists(), "nothing written");
}

#[test]
fn shrink_and_viz_outputs_equal_to_their_input_are_refused() {
    let d = fresh_dir("overwrite", "shrink-viz");
    let file = copy_in(&d, "scenarios/echo-duplicate-bug.yaml", "bug.yaml");
    let f = file.to_str().unwrap();
    assert_refused(&["shrink", f, "-o", f], "the output", &file);
    let trace = d.join("run.jsonl");
    let t = trace.to_str().unwrap();
    let out = faultline(&["run", SCENARIO, "--trace", t]);
    assert_eq!(out.status.code(), Some(0));
    assert_refused(&["viz", t, "-o", t], "the page", &trace);
    // The default page name is the trace's with `.html`: a trace named so is its own page.
    let html = d.join("run.html");
    std::fs::copy(&trace, &html).unwrap();
    assert_refused(&["viz", html.to_str().unwrap()], "the page", &html);
}

#[test]
fn junit_reports_equal_to_an_input_are_refused() {
    let d = fresh_dir("overwrite", "junit");
    let file = copy_in(&d, SCENARIO, "s.yaml");
    let f = file.to_str().unwrap();
    let out_dir = d.join("out");
    let o = out_dir.to_str().unwrap();
    assert_refused(
        &["fuzz", f, "--count", "2", "--out", o, "--junit", f],
        "--junit",
        &file,
    );
    let report = d.join("r.json");
    let out = faultline(&["fuzz", f, "--count", "2", "--out", o, "--format", "json"]);
    std::fs::write(&report, &out.stdout).unwrap();
    let r = report.to_str().unwrap();
    assert_refused(&["merge", r, "--junit", r], "--junit", &report);
}
