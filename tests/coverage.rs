//! `faultline fuzz --strategy coverage` through the real binary: the same failures whatever
//! the number of threads, failure files that replay, `--stop-after` cut in candidate order,
//! and the flags it cannot honour refused.

mod common;

use common::{faultline, fresh_dir};
use std::path::PathBuf;

fn names(failures: &[(u64, String, PathBuf)]) -> Vec<(u64, String, String)> {
    let name = |f: &PathBuf| f.file_name().unwrap().to_string_lossy().into_owned();
    failures
        .iter()
        .map(|(i, p, f)| (*i, p.clone(), name(f)))
        .collect()
}

const BUG: &str = "scenarios/paxos-one-short-quorum-bug.yaml";

fn run(args: &[&str]) -> (String, Option<i32>) {
    let out = faultline(args);
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (text, out.status.code())
}

/// The failures of a coverage sweep of `BUG` as (candidate, property, file).
fn sweep(name: &str, extra: &[&str]) -> Vec<(u64, String, PathBuf)> {
    let out = fresh_dir("coverage", name).join("out");
    let args = ["fuzz", BUG, "--count", "150", "--strategy", "coverage"];
    let tail = ["--out", out.to_str().unwrap(), "--format", "json"];
    let (text, code) = run(&[&args[..], extra, &tail[..]].concat());
    assert_eq!(code, Some(1), "{text}");
    let report: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let failures = report["failures"].as_array().expect("failures");
    failures
        .iter()
        .map(|f| {
            let file = PathBuf::from(f["file"].as_str().unwrap());
            let property = f["property"].as_str().unwrap().to_string();
            (f["seed"].as_u64().unwrap(), property, file)
        })
        .collect()
}

#[test]
fn coverage_finds_the_same_whatever_the_jobs_and_its_files_replay() {
    let one = sweep("one", &["--jobs", "1"]);
    let two = sweep("two", &["--jobs", "2"]);
    assert!(!one.is_empty());
    assert_eq!(
        names(&one),
        names(&two),
        "the candidates and their verdicts depend on no thread"
    );
    for (i, _, name) in names(&one) {
        assert_eq!(name, format!("candidate-{i}.yaml"));
    }
    let (i, property, file) = &one[0];
    let written = std::fs::read_to_string(file).expect("the failure file");
    let header = format!("--strategy coverage` as candidate {i} (seed ");
    assert!(
        written.lines().next().unwrap().contains(&header),
        "{written}"
    );
    let (replay, code) = run(&["run", file.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{replay}");
    assert!(replay.contains(&format!("FAIL {property}")), "{replay}");
}

#[test]
fn stop_after_cuts_the_sweep_in_candidate_order() {
    let all = sweep("all", &[]);
    assert!(all.len() >= 2, "{all:?}");
    let first = sweep("first", &["--stop-after", "2"]);
    assert_eq!(names(&first), names(&all[..2]));
}

#[test]
fn flags_that_need_independent_seeds_are_refused() {
    for flag in [&["--shard", "0/2"][..], &["--resume"][..]] {
        let out = fresh_dir("coverage", "refused").join("out");
        let args = [
            "fuzz",
            BUG,
            "--strategy",
            "coverage",
            "--out",
            out.to_str().unwrap(),
        ];
        let (text, code) = run(&[&args[..], flag].concat());
        assert_eq!(code, Some(2), "{text}");
        let wanted = format!("cannot take {}", flag[0]);
        assert!(text.contains(&wanted), "{text}");
        assert!(text.contains("depends on the runs before it"), "{text}");
        assert!(!out.exists(), "nothing is written");
    }
}
