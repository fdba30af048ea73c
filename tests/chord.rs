//! chord through the real binary: `list` documents it, each bug scenario names the broken
//! link of the ring in plain words, bad params are located errors, the HTML page is written,
//! and a short fuzz of the passing scenario finds nothing.

mod common;

use common::{faultline, fresh_dir};
use serde_json::Value;
use std::path::Path;

fn run_json(file: &str) -> (i32, Value) {
    let out = faultline(&["run", file, "--format", "json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{file}: {e}: {stdout}"));
    (out.status.code().expect("exit code"), json)
}

/// Writes `text` as a scenario and validates it: exit code and stderr.
fn validate(name: &str, text: &str) -> (i32, String) {
    let dir = fresh_dir("chord", name);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("s.yaml");
    std::fs::write(&path, text).unwrap();
    let out = faultline(&["validate", path.to_str().unwrap()]);
    let _ = std::fs::remove_dir_all(&dir);
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn scenario(nodes: u32, params: &str) -> String {
    format!("name: s\nprotocol: chord\nnodes: {nodes}\nparams: {params}\nduration: 1s\n")
}

#[test]
fn list_names_the_protocol_with_its_params_properties_and_bugs() {
    let out = faultline(&["list"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "chord",
        "id_bits",
        "stabilize_interval",
        "probe_interval",
        "successors_ordered",
        "ring_correct",
        "fingers_correct",
        "single-successor",
        "no-predecessor-check",
    ] {
        assert!(text.contains(needle), "{needle} missing: {text}");
    }
    assert!(Path::new("docs/protocols/chord.md").exists());
}

#[test]
fn each_bug_scenario_names_the_dead_successor_still_in_the_ring() {
    for bug in ["single-successor", "no-predecessor-check"] {
        let (code, v) = run_json(&format!("scenarios/chord-{bug}-bug.yaml"));
        assert_eq!(code, 0, "{bug}: the expected violation is met");
        let ring = v["violations"]
            .as_array()
            .expect("violations")
            .iter()
            .find(|x| x["property"] == "ring_correct")
            .unwrap_or_else(|| panic!("{bug}: no ring_correct violation: {v}"));
        let message = ring["message"].as_str().expect("a message");
        assert!(
            message.contains("n5 (id 25347)'s successor is n4 (id 28275)")
                && message.contains("not down is n1"),
            "{bug}: {message}"
        );
    }
}

#[test]
fn the_passing_scenario_passes_the_same_way_twice() {
    let (code, first) = run_json("scenarios/chord.yaml");
    assert_eq!(code, 0, "{first}");
    assert_eq!(first["outcome"], "pass");
    let (_, second) = run_json("scenarios/chord.yaml");
    assert_eq!(first["trace_hash"], second["trace_hash"]);
}

#[test]
fn bad_params_are_located_errors() {
    for (name, nodes, params, words) in [
        ("bits-low", 4, "{ id_bits: 2 }", "`id_bits` is 2"),
        ("no-room", 9, "{ id_bits: 3 }", "no room for 9 nodes"),
        ("no-list", 4, "{ successors: 0 }", "`successors` is 0"),
        ("copies", 4, "{ replicas: 4 }", "`replicas` is 4"),
        ("no-copy", 4, "{ replicas: 0 }", "`replicas` is 0"),
        (
            "rare",
            4,
            "{ replicate_interval: 0ms }",
            "`replicate_interval`",
        ),
        ("zero", 4, "{ probe_interval: 0ms }", "`probe_interval`"),
        ("typo", 4, "{ succesors: 3 }", "succesors"),
    ] {
        let (code, stderr) = validate(name, &scenario(nodes, params));
        assert_eq!(code, 2, "{name}: {stderr}");
        assert!(
            stderr.contains("s.yaml:4:"),
            "{name}: located at params: {stderr}"
        );
        assert!(stderr.contains(words), "{name}: {stderr}");
    }
    let (code, stderr) = validate("good", &scenario(8, "{ id_bits: 3, successors: 2 }"));
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn the_html_page_shows_the_run() {
    let dir = fresh_dir("chord", "html");
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("run.html");
    let out = faultline(&[
        "run",
        "scenarios/chord-single-successor-bug.yaml",
        "--html",
        page.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let html = std::fs::read_to_string(&page).expect("the page is written");
    assert!(html.contains("ring_correct") && html.contains("joins the ring before"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_short_fuzz_of_the_passing_scenario_finds_nothing() {
    let dir = fresh_dir("chord", "fuzz");
    let out = faultline(&[
        "fuzz",
        "scenarios/chord.yaml",
        "--count",
        "20",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("20 of 20 seeds") && stdout.contains("0 failing"),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
