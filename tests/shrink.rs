//! `faultline shrink` through the real binary: the shrunk scenario still fails with the same
//! property, is no bigger than its input, and comes out the same every time.

mod common;

use common::faultline;

use std::path::PathBuf;

const BUGGY: &str = "scenarios/broadcast-no-retransmit-bug.yaml";
const PASSING: &str = "scenarios/broadcast-partition.yaml";

fn dir(name: &str) -> PathBuf {
    let dir = common::fresh_dir("shrink", name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The buggy scenario as `faultline fuzz` would write it: expecting a pass, with one more
/// fault that the failure does not need.
fn fuzz_style_input(dir: &std::path::Path) -> PathBuf {
    let text = std::fs::read_to_string(BUGGY).unwrap();
    let text = text
        .replace(
            "expect: { violation: all_delivered }",
            "expect: { outcome: pass }",
        )
        .replace(
            "  - { at: 3s, heal: all }",
            "  - { at: 3s, heal: all }\n  - { at: 4s, heal: n1 }",
        );
    assert!(text.contains("outcome: pass") && text.contains("heal: n1"));
    let path = dir.join("failing.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

fn field<'a>(text: &'a str, key: &str) -> Vec<&'a str> {
    text.lines()
        .filter(|l| l.trim_start().starts_with(key))
        .collect()
}

#[test]
fn a_shrunk_scenario_fails_the_same_way_and_is_no_bigger() {
    let d = dir("same");
    let input = fuzz_style_input(&d);
    let input_s = input.to_str().unwrap();
    let before = faultline(&["run", input_s]);
    assert_eq!(before.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&before.stdout).contains("all_delivered violated"));

    let o = faultline(&["shrink", input_s, "--format", "json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["property"], "all_delivered");
    let out = d.join("failing.min.yaml");
    assert_eq!(json["out"], out.to_str().unwrap());
    let (b, a) = (&json["before"], &json["after"]);
    assert_eq!(b["faults"], 3);
    assert!(a["faults"].as_u64().unwrap() <= b["faults"].as_u64().unwrap());
    assert!(a["faults"].as_u64().unwrap() < 3, "the extra heal goes");
    assert!(a["duration_ns"].as_u64().unwrap() <= b["duration_ns"].as_u64().unwrap());
    assert!(a["events"].as_u64().is_some() && a["messages_sent"].as_u64().is_some());

    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.starts_with("# Shrunk by `faultline shrink` from "));
    assert!(written.contains("all_delivered still fails"));
    let after = faultline(&["run", out.to_str().unwrap()]);
    assert_eq!(after.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&after.stdout).contains("all_delivered violated"));
    assert!(field(&written, "- at:").len() < 3);
}

#[test]
fn shrinking_is_deterministic() {
    let d = dir("twice");
    let input = fuzz_style_input(&d);
    let input_s = input.to_str().unwrap();
    let out = d.join("one.yaml");
    let mut texts = Vec::new();
    for _ in 0..2 {
        let o = faultline(&["shrink", input_s, "-o", out.to_str().unwrap()]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(String::from_utf8_lossy(&o.stdout).contains("before:"));
        texts.push(std::fs::read_to_string(&out).unwrap());
    }
    assert_eq!(texts[0], texts[1]);
}

/// The steps repeat until a round changes nothing, so what comes out cannot be shrunk again.
#[test]
fn a_shrunk_scenario_shrinks_no_further() {
    let d = dir("fixpoint");
    // A failure `fuzz` finds in broadcast's forget-on-restart bug once its faults are removed:
    // one pass of the steps leaves faults that a second pass removes.
    let bare = d.join("bare.yaml");
    let text = common::without_faults("scenarios/broadcast-forget-bug.yaml");
    std::fs::write(&bare, text).unwrap();
    let out = d.join("out");
    let args = ["fuzz", bare.to_str().unwrap(), "--seeds", "0..1", "--out"];
    let o = faultline(&[&args[..], &[out.to_str().unwrap()]].concat());
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let input = out.join("all_delivered").join("seed-0.yaml");
    let (once, twice) = (d.join("once.yaml"), d.join("twice.yaml"));
    for (from, to) in [(&input, &once), (&once, &twice)] {
        let o = faultline(&["shrink", from.to_str().unwrap(), "-o", to.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{o:?}");
    }
    let body = |p: &PathBuf| -> Vec<String> {
        let text = std::fs::read_to_string(p).unwrap();
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .map(String::from)
            .collect()
    };
    assert_eq!(body(&once), body(&twice));
}

#[test]
fn a_passing_scenario_is_bad_input() {
    let d = dir("passing");
    let out = d.join("x.yaml");
    let o = faultline(&["shrink", PASSING, "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("does not fail"));
    assert!(!out.exists());
    let o = faultline(&["shrink", "no/such/file.yaml"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_liveness_phase_stays_and_bounds_the_duration() {
    let d = dir("liveness");
    let text = std::fs::read_to_string("scenarios/broadcast-nemesis.yaml")
        .unwrap()
        .replace(
            "protocol: broadcast\n",
            "protocol: broadcast\nbug: no-retransmit\n",
        );
    assert!(text.contains("bug: no-retransmit") && text.contains("liveness: { at: 7s, within: 3s"));
    let input = d.join("nemesis.yaml");
    std::fs::write(&input, text).unwrap();
    let o = faultline(&["shrink", input.to_str().unwrap(), "--format", "json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let (b, a) = (&json["before"], &json["after"]);
    assert!(a["faults"].as_u64().unwrap() < b["faults"].as_u64().unwrap());
    assert!(
        a["duration_ns"].as_u64().unwrap() >= 10_000_000_000,
        "the phase ends at 10s"
    );
    let out = d.join("nemesis.min.yaml");
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.contains("liveness:") && !written.contains("nemesis:"));
    let run = faultline(&["run", out.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(stdout.contains(&format!("{} violated", json["property"].as_str().unwrap())));
}
