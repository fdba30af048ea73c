//! `faultline fuzz --resume`, `--junit` and `faultline merge` through the real binary.

mod common;

use common::faultline;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// Fails on some seeds and passes on others.
const MIXED: &str = "scenarios/two-phase-commit-unlogged-decision-bug.yaml";

fn out_dir(name: &str) -> PathBuf {
    common::fresh_dir("ci", name)
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)))
}

/// (seed, property) of each failure in a JSON report.
fn failures(report: &serde_json::Value) -> Vec<(u64, String)> {
    report["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["seed"].as_u64().unwrap(),
                f["property"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Every file under `dir/<property>/`: (property, file name).
fn files_under(dir: &Path) -> Vec<(String, String)> {
    let mut all = Vec::new();
    for d in std::fs::read_dir(dir).unwrap().flatten() {
        if !d.path().is_dir() {
            continue;
        }
        for f in std::fs::read_dir(d.path()).unwrap().flatten() {
            all.push((
                d.file_name().to_string_lossy().into_owned(),
                f.file_name().to_string_lossy().into_owned(),
            ));
        }
    }
    all.sort();
    all
}

#[test]
fn a_killed_sweep_resumes_to_the_same_failures() {
    let count = "600";
    let full_dir = out_dir("full");
    let full = faultline(&[
        "fuzz",
        MIXED,
        "--count",
        count,
        "--jobs",
        "2",
        "--out",
        full_dir.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let full = json(&full);
    let expected = failures(&full);
    assert!(!expected.is_empty());

    let dir = out_dir("killed");
    let dir_s = dir.to_str().unwrap();
    let args = [
        "fuzz", MIXED, "--count", count, "--jobs", "2", "--out", dir_s, "--format", "json",
    ];
    let mut child = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once some seeds are recorded as finished, well before the end.
    let progress = dir.join("progress");
    for _ in 0..12_000 {
        let lines = std::fs::read_to_string(&progress)
            .map(|t| t.lines().count())
            .unwrap_or(0);
        if lines >= 60 {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    let _ = child.wait();
    let done = std::fs::read_to_string(&progress).unwrap().lines().count();
    assert!(
        done < 600,
        "the sweep finished before it was killed ({done} seeds)"
    );

    // What the killed sweep left: only complete failure files, each a valid scenario, and
    // complete traces (a trace is renamed into place before its scenario).
    for (property, name) in files_under(&dir) {
        if name.ends_with(".trace.jsonl") {
            let trace = std::fs::read_to_string(dir.join(&property).join(&name)).unwrap();
            assert!(
                trace
                    .lines()
                    .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
            );
            continue;
        }
        if !name.ends_with(".yaml") {
            assert!(name.ends_with(".tmp"), "{property}/{name}");
            continue;
        }
        let file = dir.join(&property).join(&name);
        let v = faultline(&["validate", file.to_str().unwrap()]);
        assert_eq!(
            v.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&v.stderr)
        );
    }

    let before: BTreeSet<(String, String)> = files_under(&dir)
        .into_iter()
        .filter(|(_, n)| n.ends_with(".yaml"))
        .collect();
    let all: BTreeSet<(String, String)> = expected
        .iter()
        .map(|(seed, p)| (p.clone(), format!("seed-{seed}.yaml")))
        .collect();
    assert!(
        before.is_subset(&all) && before.len() < all.len(),
        "{before:?}"
    );

    let mut resume_args = args.to_vec();
    resume_args.push("--resume");
    let resumed = faultline(&resume_args);
    assert_eq!(resumed.status.code(), Some(1));
    let resumed = json(&resumed);
    assert_eq!(failures(&resumed), expected);
    assert_eq!(resumed["seeds_run"].as_u64(), Some(600));
    let earlier = resumed["seeds_resumed"].as_u64().unwrap();
    assert!(earlier > 0 && earlier < 600, "{earlier}");
    // The failure files are those of the uninterrupted sweep.
    let yaml = |d: &Path| -> BTreeSet<(String, String)> {
        files_under(d)
            .into_iter()
            .filter(|(_, n)| n.ends_with(".yaml"))
            .collect()
    };
    assert_eq!(yaml(&dir), yaml(&full_dir));

    // Resuming a finished sweep runs nothing and reports the same.
    let again = json(&faultline(&resume_args));
    assert_eq!(again["seeds_resumed"].as_u64(), Some(600));
    assert_eq!(failures(&again), expected);
    // Without --resume the sweep starts over.
    let fresh = json(&faultline(&args));
    assert_eq!(fresh["seeds_resumed"].as_u64(), Some(0));
    assert_eq!(failures(&fresh), expected);
    for d in [dir, full_dir] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn junit_has_a_case_per_seed_and_escapes_messages() {
    let dir = out_dir("junit");
    let xml_path = dir.join("report.xml");
    std::fs::create_dir_all(&dir).unwrap();
    let o = faultline(&[
        "fuzz",
        MIXED,
        "--count",
        "20",
        "--out",
        dir.to_str().unwrap(),
        "--format",
        "json",
        "--junit",
        xml_path.to_str().unwrap(),
    ]);
    let report = json(&o);
    let failed = failures(&report);
    let xml = std::fs::read_to_string(&xml_path).unwrap();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites "));
    assert!(
        xml.contains(&format!("tests=\"20\" failures=\"{}\"", failed.len())),
        "{xml}"
    );
    assert_eq!(xml.matches("<testcase ").count(), 20);
    assert_eq!(xml.matches("<failure ").count(), failed.len());
    assert_eq!(xml.matches("</failure>").count(), failed.len());
    for (seed, property) in &failed {
        let file = dir.join(property).join(format!("seed-{seed}.yaml"));
        assert!(
            xml.contains(&format!(
                "Replay: faultline run {}</failure>",
                file.display()
            )),
            "{xml}"
        );
    }
    // Nothing but markup uses < > & ": every one in text or attributes is escaped.
    let text_only: String = xml
        .split('<')
        .skip(1)
        .map(|part| part.split_once('>').map_or("", |(_, text)| text))
        .collect();
    assert!(!text_only.contains('>') && !text_only.contains('"'));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn junit_escaping() {
    // A scenario name with every special character reaches the XML escaped.
    let dir = out_dir("escape");
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(MIXED).unwrap();
    let name_line = text.lines().find(|l| l.starts_with("name:")).unwrap();
    let odd = text.replace(name_line, "name: 'a <b> & \"c\"'");
    let scenario = dir.join("odd.yaml");
    std::fs::write(&scenario, odd).unwrap();
    let xml_path = dir.join("r.xml");
    faultline(&[
        "fuzz",
        scenario.to_str().unwrap(),
        "--count",
        "3",
        "--out",
        dir.join("out").to_str().unwrap(),
        "--junit",
        xml_path.to_str().unwrap(),
    ]);
    let xml = std::fs::read_to_string(&xml_path).unwrap();
    assert!(
        xml.contains("<testsuite name=\"a &lt;b&gt; &amp; &quot;c&quot;\""),
        "{xml}"
    );
    assert_eq!(xml.matches("<testcase ").count(), 3);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn merged_shards_are_the_unsharded_sweep() {
    let dir = out_dir("merge");
    std::fs::create_dir_all(&dir).unwrap();
    let run = |extra: &[&str], name: &str| -> PathBuf {
        let out = dir.join(name);
        let mut args = vec![
            "fuzz",
            MIXED,
            "--count",
            "30",
            "--format",
            "json",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let o = faultline(&args);
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, &o.stdout).unwrap();
        path
    };
    let whole = run(&[], "whole");
    let s0 = run(&["--shard", "0/2"], "s0");
    let s1 = run(&["--shard", "1/2"], "s1");
    let whole: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(whole).unwrap()).unwrap();
    let merged = faultline(&[
        "merge",
        s1.to_str().unwrap(),
        s0.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(merged.status.code(), Some(1));
    let merged = json(&merged);
    assert_eq!(failures(&merged), failures(&whole));
    for key in ["scenario", "seeds_planned", "seeds_run"] {
        assert_eq!(merged[key], whole[key], "{key}");
    }
    let text = faultline(&["merge", s0.to_str().unwrap(), s1.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(text.contains("30 of 30 seeds"), "{text}");
    let xml_path = dir.join("merged.xml");
    faultline(&[
        "merge",
        s0.to_str().unwrap(),
        s1.to_str().unwrap(),
        "--junit",
        xml_path.to_str().unwrap(),
    ]);
    let xml = std::fs::read_to_string(&xml_path).unwrap();
    let n = failures(&whole).len();
    assert!(
        xml.contains(&format!("tests=\"{}\" failures=\"{n}\"", n + 1)),
        "{xml}"
    );
    // Bad input exits 2.
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "not json").unwrap();
    assert_eq!(
        faultline(&["merge", bad.to_str().unwrap()]).status.code(),
        Some(2)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn overlapping_reports_are_refused_naming_both_files() {
    let dir = out_dir("overlap");
    std::fs::create_dir_all(&dir).unwrap();
    let run = |extra: &[&str], name: &str| -> String {
        let out = dir.join(name);
        let mut args = vec!["fuzz", MIXED, "--format", "json", "--out"];
        args.push(out.to_str().unwrap());
        args.extend_from_slice(extra);
        let o = faultline(&args);
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, &o.stdout).unwrap();
        path.to_str().unwrap().to_string()
    };
    let s0 = run(&["--seeds", "0..20", "--shard", "0/2"], "s0");
    let s1 = run(&["--seeds", "0..20", "--shard", "1/2"], "s1");
    let t1 = run(&["--seeds", "0..20", "--shard", "1/4"], "t1");
    let late = run(&["--seeds", "15..30"], "late");
    let cases = [
        (
            vec![&s0, &s0],
            "both hold seed 0 (seeds 0..20 shard 0/2 and seeds 0..20 shard 0/2)",
        ),
        (
            vec![&s0, &s1, &t1],
            "both hold seed 1 (seeds 0..20 shard 1/2 and seeds 0..20 shard 1/4)",
        ),
        (
            vec![&s0, &late],
            "both hold seed 16 (seeds 0..20 shard 0/2 and seeds 15..30)",
        ),
    ];
    for (files, why) in cases {
        let mut args = vec!["merge"];
        args.extend(files.iter().map(|f| f.as_str()));
        let o = faultline(&args);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{files:?}: {stderr}");
        let (a, b) = (files[files.len() - 2], files[files.len() - 1]);
        let (a, b) = if files.len() == 3 { (&s1, &t1) } else { (a, b) };
        assert!(
            stderr.contains(&format!("{a} and {b} overlap: {why}")),
            "{stderr}"
        );
        assert!(o.stdout.is_empty(), "no merged report");
    }
    // Reports without seed sets (older versions) still overlap when a seed failed in both.
    let text = std::fs::read_to_string(&s0).unwrap();
    let mut old: serde_json::Value = serde_json::from_str(&text).unwrap();
    old.as_object_mut().unwrap().remove("seed_sets");
    assert!(
        !old["failures"].as_array().unwrap().is_empty(),
        "s0 has failures"
    );
    let old_path = dir.join("old.json");
    std::fs::write(&old_path, old.to_string()).unwrap();
    let o = faultline(&["merge", old_path.to_str().unwrap(), &s0]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("overlap: both hold seed"));
    let _ = std::fs::remove_dir_all(&dir);
}
