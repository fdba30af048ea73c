//! `faultline run --shiviz`: the exported log obeys the vector clock rules ShiViz relies on,
//! on real scenarios with duplicates, drops, crashes, restarts and clients.

mod common;

use common::{faultline, fresh_dir};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name)
}

/// Runs `file` with `--shiviz` and returns the log's (description, host, clock) triples.
fn export(file: &Path, dir: &Path) -> Vec<(String, String, Map<String, Value>)> {
    std::fs::create_dir_all(dir).expect("temp dir");
    let log = dir.join("run.log");
    let out = faultline(&[
        "run",
        file.to_str().expect("utf-8 path"),
        "--shiviz",
        log.to_str().expect("utf-8 path"),
    ]);
    let code = out.status.code().expect("exit code");
    assert!(code == 0 || code == 1, "{file:?}: exit {code}: {out:?}");
    let text = std::fs::read_to_string(&log).expect("the log is written");
    let lines: Vec<&str> = text.lines().collect();
    assert!(!lines.is_empty(), "the log has events");
    assert_eq!(lines.len() % 2, 0, "descriptions pair with clock lines");
    lines
        .chunks(2)
        .map(|pair| {
            let (host, clock) = pair[1]
                .split_once(' ')
                .unwrap_or_else(|| panic!("clock line `{}`", pair[1]));
            assert!(!host.is_empty() && !host.contains(char::is_whitespace));
            let clock: Map<String, Value> =
                serde_json::from_str(clock).unwrap_or_else(|e| panic!("`{clock}`: {e}"));
            assert!(pair[0].starts_with('#'), "description `{}`", pair[0]);
            assert!(!pair[0].starts_with(&format!("{host} {{")));
            (pair[0].to_string(), host.to_string(), clock)
        })
        .collect()
}

fn component(clock: &Map<String, Value>, host: &str) -> u64 {
    clock.get(host).map_or(0, |v| v.as_u64().expect("counts"))
}

/// `a ≥ b` component-wise.
fn dominates(a: &Map<String, Value>, b: &Map<String, Value>) -> bool {
    b.keys().all(|h| component(a, h) >= component(b, h))
}

/// The number after the last `msg ` in `text`.
fn msg_after(text: &str, marker: &str) -> Option<u64> {
    let at = text.rfind(marker)? + marker.len();
    let digits: String = text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Checks every rule and returns how many receives were checked against their sends.
fn check_rules(events: &[(String, String, Map<String, Value>)]) -> usize {
    let mut own: BTreeMap<String, u64> = BTreeMap::new();
    let mut sends: BTreeMap<u64, Map<String, Value>> = BTreeMap::new();
    let mut receives = 0;
    for (description, host, clock) in events {
        let count = own.entry(host.clone()).or_insert(0);
        *count += 1;
        assert_eq!(
            component(clock, host),
            *count,
            "{description}: {host}'s own component goes up by exactly 1"
        );
        for (h, v) in clock {
            let seen = own.get(h).copied().unwrap_or(0);
            assert!(
                v.as_u64().expect("counts") <= seen,
                "{description}: component {h} = {v} exceeds {h}'s {seen} events so far"
            );
        }
        if description.contains(" received ") && !description.contains("client") {
            let id = msg_after(description, "msg ").expect("a delivery names its message");
            let sent = sends.get(&id).expect("every delivery follows its send");
            assert!(
                dominates(clock, sent),
                "{description}: the receive's clock is below its send's"
            );
            receives += 1;
        } else if description.contains(" sent ") {
            let id = msg_after(description, "(msg ").expect("a send names its message");
            sends.insert(id, clock.clone());
        } else if description.contains(" duplicated as msg ") {
            let id = msg_after(description, "duplicated as msg ").expect("copy id");
            sends.insert(id, clock.clone());
        }
    }
    receives
}

#[test]
fn vector_clocks_obey_the_rules_on_duplicates_drops_crashes_and_clients() {
    let dir = fresh_dir("shiviz", "mixed");
    std::fs::create_dir_all(&dir).expect("temp dir");
    // The counter scenario (clients, crashes, restarts, losses), with duplication turned on.
    let text = std::fs::read_to_string(scenario("register-counter.yaml")).expect("scenario");
    assert!(text.contains("  drop: 0.05\n"));
    let text = text.replace("  drop: 0.05\n", "  drop: 0.05\n  duplicate: 0.05\n");
    let file = dir.join("register-counter-duplicates.yaml");
    std::fs::write(&file, text).expect("write the scenario");
    let events = export(&file, &dir);
    let has = |word: &str| events.iter().any(|(d, _, _)| d.contains(word));
    for word in [
        "duplicated",
        "dropped",
        "crashed",
        "restarted",
        "invoked op",
        "recorded op",
    ] {
        assert!(has(word), "the run has `{word}` events");
    }
    assert!(
        events.iter().any(|(_, h, _)| h
            .strip_prefix('c')
            .is_some_and(|n| n.parse::<u32>().is_ok())),
        "clients are hosts of their own"
    );
    let receives = check_rules(&events);
    assert!(receives > 100, "only {receives} receives were checked");
    // A client's completion knows of the node that answered it.
    let answered = events.iter().find(|(d, h, c)| {
        d.contains("recorded op") && d.ends_with("as ok") && c.keys().any(|k| k != h)
    });
    assert!(
        answered.is_some(),
        "an ok completion merges the reply's clock"
    );
}

#[test]
fn vector_clocks_obey_the_rules_on_bug_scenarios() {
    for name in [
        "echo-duplicate-bug.yaml",
        "raft-unsynced-vote-bug.yaml",
        "two-phase-commit-unilateral-abort-bug.yaml",
    ] {
        let dir = fresh_dir("shiviz", name);
        let events = export(&scenario(name), &dir);
        assert!(check_rules(&events) > 10, "{name}: receives were checked");
    }
}

#[test]
fn the_log_is_the_same_for_the_same_seed() {
    let first = export(
        &scenario("echo-duplicate-bug.yaml"),
        &fresh_dir("shiviz", "a"),
    );
    let second = export(
        &scenario("echo-duplicate-bug.yaml"),
        &fresh_dir("shiviz", "b"),
    );
    assert_eq!(first, second);
}

#[test]
fn the_event_where_a_property_broke_is_marked_and_no_other() {
    let events = export(
        &scenario("raft-unsynced-vote-bug.yaml"),
        &fresh_dir("shiviz", "mark"),
    );
    let marked: Vec<&String> = (events.iter())
        .map(|(text, _, _)| text)
        .filter(|t| t.contains("VIOLATION"))
        .collect();
    assert_eq!(marked.len(), 1, "{marked:?}");
    assert!(
        marked[0].starts_with("#206 636.831437ms VIOLATION of election_safety: n4 received Vote"),
        "{}",
        marked[0]
    );
    let passing = export(
        &scenario("raft-elect-and-replicate.yaml"),
        &fresh_dir("shiviz", "pass"),
    );
    assert!(
        passing
            .iter()
            .all(|(text, _, _)| !text.contains("VIOLATION"))
    );
}
