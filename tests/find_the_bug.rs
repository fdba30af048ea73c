//! "Find the bug": scenarios whose bug variant is sealed run with it, keep its name out of
//! every report, and `guess` says whether a name is the one.

mod common;

use common::faultline;

fn out(args: &[&str]) -> (Option<i32>, String, String) {
    let o = faultline(args);
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (o.status.code(), text(&o.stdout), text(&o.stderr))
}

/// Each mystery, its protocol's other bug variants, and the one it runs with.
const MYSTERIES: [(&str, &str, &str); 4] = [
    ("mystery-1", "unsynced-log", "non-idempotent"),
    ("mystery-2", "read-any-replica", "assume-fifo"),
    ("mystery-3", "one-short-quorum", "break-promise"),
    ("mystery-4", "unsynced-vote", "figure8"),
];

#[test]
fn every_mystery_shows_its_bug_without_naming_it_and_guess_knows_it() {
    for (name, bug, other) in MYSTERIES {
        let file = format!("exercises/find-the-bug/{name}.yaml");
        let yaml = std::fs::read_to_string(&file).unwrap();
        assert!(!yaml.contains(bug), "{file} names its bug");
        let (code, report, stderr) = out(&["run", &file, "--format", "json"]);
        assert_eq!(code, Some(0), "{file}: {stderr}");
        assert!(report.contains("\"bug\":\"sealed\""), "{report}");
        assert!(report.contains("\"expectation_met\":true"));
        assert!(!report.contains(bug), "{file}: the report names the bug");
        let (code, text, _) = out(&["guess", &file, bug]);
        assert_eq!(code, Some(0), "{text}");
        assert!(text.contains(&format!("right, the bug is {bug}")), "{text}");
        let (code, text, _) = out(&["guess", &file, other]);
        assert_eq!(code, Some(1), "{text}");
        assert!(text.contains(&format!("not {other}")), "{text}");
    }
}

#[test]
fn a_name_the_protocol_does_not_have_is_bad_input_that_lists_the_ones_it_has() {
    let file = "exercises/find-the-bug/mystery-4.yaml";
    let (code, _, stderr) = out(&["guess", file, "no-retry"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("protocol `raft` has no bug variant `no-retry`; it has: figure8"),
        "{stderr}"
    );
    let (code, _, stderr) = out(&["seal", "raft", "no-retry"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("has no bug variant `no-retry`"), "{stderr}");
    let (code, _, stderr) = out(&["seal", "rafts", "figure8"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("unknown protocol `rafts`"), "{stderr}");
}

#[test]
fn seal_prints_a_line_that_runs_and_a_bad_seal_is_located() {
    let (code, line, _) = out(&["seal", "echo", "no-retry"]);
    assert_eq!(code, Some(0));
    assert!(
        line.starts_with("bug: { sealed: \"") && !line.contains("retry"),
        "{line}"
    );
    let dir = common::fresh_dir("find-the-bug", "seal");
    std::fs::create_dir_all(&dir).unwrap();
    let scenario = std::fs::read_to_string("scenarios/echo-no-retry-bug.yaml").unwrap();
    let sealed = scenario.replace("bug: no-retry", line.trim());
    assert_ne!(sealed, scenario);
    let path = dir.join("sealed.yaml");
    std::fs::write(&path, &sealed).unwrap();
    let file = path.to_str().unwrap();
    let (code, _, stderr) = out(&["run", file]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(out(&["guess", file, "no-retry"]).0, Some(0));
    // A sealed name of another protocol, or a tampered one, is an error at its line.
    let (_, raft, _) = out(&["seal", "raft", "figure8"]);
    std::fs::write(&path, scenario.replace("bug: no-retry", raft.trim())).unwrap();
    let (code, _, stderr) = out(&["run", file]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("sealed.yaml:"), "{stderr}");
    assert!(
        stderr.contains("is not a sealed bug variant of protocol `echo`"),
        "{stderr}"
    );
    std::fs::write(
        &path,
        scenario.replace("bug: no-retry", "bug: { sealed: zz }"),
    )
    .unwrap();
    assert_eq!(out(&["run", file]).0, Some(2));
    std::fs::write(
        &path,
        scenario.replace("bug: no-retry", "bug: { seal: ab }"),
    )
    .unwrap();
    let (code, _, stderr) = out(&["run", file]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("not `seal`"), "{stderr}");
}

#[test]
fn a_failing_seed_written_by_fuzz_keeps_the_bug_sealed() {
    let dir = common::fresh_dir("find-the-bug", "fuzz");
    let out_dir = dir.join("out");
    let file = "exercises/find-the-bug/mystery-1.yaml";
    let (code, _, stderr) = out(&[
        "fuzz",
        file,
        "--count",
        "4",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(matches!(code, Some(0) | Some(1)), "{stderr}");
    let mut written = 0;
    for entry in walk(&out_dir) {
        let text = std::fs::read_to_string(&entry).unwrap();
        assert!(!text.contains("unsynced-log"), "{}", entry.display());
        assert!(
            text.contains("bug:\n  sealed:") || text.contains("bug: {"),
            "{text}"
        );
        assert_eq!(
            out(&["guess", entry.to_str().unwrap(), "unsynced-log"]).0,
            Some(0)
        );
        written += 1;
    }
    assert!(written > 0, "fuzz wrote no failing seed");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "yaml") {
            files.push(path);
        }
    }
    files
}
