//! The state strip's records in a page written by `faultline run --html`: each node's summary
//! where it changed, bounded, for the protocol's own summary and without changing the run.

mod common;

use common::{faultline, fresh_dir};
use serde_json::Value;
use std::collections::BTreeMap;

/// The records of the page written for `scenario`, and the run's trace hash.
fn page_records(scenario: &str, name: &str, more: &[&str]) -> (Vec<Value>, Value) {
    let d = fresh_dir("strip", name);
    std::fs::create_dir_all(&d).unwrap();
    let html = d.join("page.html");
    let mut args = vec![
        "run",
        scenario,
        "--format",
        "json",
        "--html",
        html.to_str().unwrap(),
    ];
    args.extend(more);
    let out = faultline(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    let page = std::fs::read_to_string(&html).unwrap();
    let open = page
        .find(r#"id="faultline-data">"#)
        .expect("the page embeds its data");
    let body = &page[open + r#"id="faultline-data">"#.len()..];
    let data: Value = serde_json::from_str(&body[..body.find("</script>").unwrap()]).unwrap();
    (
        data["records"].as_array().unwrap().clone(),
        report["trace_hash"].clone(),
    )
}

/// Each node's summary records, in order.
fn summaries_by_node(records: &[Value]) -> BTreeMap<String, Vec<Value>> {
    let mut by_node: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for r in records.iter().filter(|r| r["kind"] == "summary") {
        let node = r["node"].as_str().unwrap().to_string();
        by_node.entry(node).or_default().push(r.clone());
    }
    by_node
}

#[test]
fn raft_pages_hold_each_nodes_summary_where_it_changed() {
    let (records, hash) = page_records("scenarios/raft-figure8-overwrite-bug.yaml", "raft", &[]);
    let handlers: BTreeMap<u64, String> = records
        .iter()
        .filter(|r| {
            matches!(
                r["kind"].as_str(),
                Some("start" | "restart" | "deliver" | "timer_fired" | "request")
            )
        })
        .map(|r| {
            (
                r["i"].as_u64().unwrap(),
                r["node"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let by_node = summaries_by_node(&records);
    assert_eq!(by_node.len(), 5, "every node has summaries");
    for (node, list) in &by_node {
        for pair in list.windows(2) {
            let strip = |r: &Value| {
                let mut r = r.clone();
                r.as_object_mut().unwrap().remove("e");
                r
            };
            assert_ne!(
                strip(&pair[0]),
                strip(&pair[1]),
                "{node}: only changes are recorded"
            );
            assert!(pair[0]["e"].as_u64() < pair[1]["e"].as_u64());
        }
        for r in list {
            let e = r["e"].as_u64().unwrap();
            assert_eq!(
                handlers.get(&e),
                Some(node),
                "a summary follows a handler of its node"
            );
            assert!(["leader", "candidate", "follower"].contains(&r["s"].as_str().unwrap()));
            assert_eq!(r["f"][0][0], "term");
            assert!(r["f"].as_array().unwrap().len() <= 4);
            if let Some(cells) = r["l"].as_array() {
                assert!(cells.len() <= 8);
                let (first, len) = (r["l0"].as_u64().unwrap(), r["ln"].as_u64().unwrap());
                assert_eq!(
                    first + cells.len() as u64 - 1,
                    len,
                    "the cells are the log's tail"
                );
            }
        }
        assert!(list.len() > 10, "{node}: {} summaries", list.len());
    }
    // Figure 8: n3 held entry 103 of term 1, committed, and then one of term 3 in its place.
    let label_at = |r: &Value, index: u64| {
        let first = r["l0"].as_u64()?;
        let cell = r["l"].as_array()?.get(index.checked_sub(first)? as usize)?;
        Some((cell[0].as_str()?.to_string(), cell[1] == 1))
    };
    let n3: Vec<(String, bool)> = by_node["n3"]
        .iter()
        .filter_map(|r| label_at(r, 103))
        .collect();
    let first_three = n3
        .iter()
        .position(|(label, _)| label == "3")
        .expect("n3 takes term 3 at 103");
    assert!(
        n3[..first_three].contains(&("1".to_string(), true)),
        "{n3:?}"
    );
    // With node states recorded too, the same summaries.
    let (with_states, _) = page_records(
        "scenarios/raft-figure8-overwrite-bug.yaml",
        "raft-states",
        &["--states"],
    );
    assert_eq!(summaries_by_node(&with_states), by_node);
    // Recording summaries changes nothing in the run.
    let d = fresh_dir("strip", "plain");
    std::fs::create_dir_all(&d).unwrap();
    let out = faultline(&[
        "run",
        "scenarios/raft-figure8-overwrite-bug.yaml",
        "--format",
        "json",
    ]);
    let plain: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plain["trace_hash"], hash);
}

#[test]
fn a_protocol_without_a_log_records_its_role_and_fields() {
    let (records, _) = page_records("scenarios/primary-backup-failover.yaml", "pb", &[]);
    let by_node = summaries_by_node(&records);
    let roles: Vec<&str> = by_node
        .values()
        .flatten()
        .filter_map(|r| r["r"].as_str())
        .collect();
    assert!(
        roles.contains(&"primary") && roles.contains(&"backup"),
        "{roles:?}"
    );
    assert!(by_node.values().flatten().all(|r| r.get("l").is_none()));
    assert!(by_node.values().flatten().all(|r| r["f"][0][0] == "view"));
}

#[test]
fn a_replayed_schedule_records_summaries_too() {
    let d = fresh_dir("strip", "replay");
    std::fs::create_dir_all(&d).unwrap();
    let path = d.join("path.yaml");
    let out = faultline(&[
        "explore",
        "scenarios/explore/paxos-break-promise-bug.yaml",
        "-o",
        path.to_str().unwrap(),
    ]);
    assert!(path.exists(), "{}", String::from_utf8_lossy(&out.stderr));
    let (records, _) = page_records(path.to_str().unwrap(), "replay-page", &[]);
    let by_node = summaries_by_node(&records);
    assert!(!by_node.is_empty());
    for list in by_node.values() {
        assert!(
            list.iter()
                .all(|r| r["f"].as_array().is_some_and(|f| !f.is_empty()))
        );
        for pair in list.windows(2) {
            assert_ne!(pair[0]["f"], pair[1]["f"], "only changes are recorded");
        }
    }
}

#[test]
fn a_trace_file_with_states_carries_the_summaries_to_its_page() {
    let d = fresh_dir("strip", "trace");
    std::fs::create_dir_all(&d).unwrap();
    let trace = d.join("run.jsonl");
    let trace_arg = trace.to_str().unwrap();
    let (direct, _) = page_records(
        "scenarios/raft-figure8-bug.yaml",
        "trace-direct",
        &["--trace", trace_arg, "--states"],
    );
    // Only handler lines where the node's summary changed carry one.
    let text = std::fs::read_to_string(&trace).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let carrying = lines.iter().filter(|l| l.get("summary").is_some()).count();
    assert!(
        carrying > 100 && carrying * 3 < lines.len(),
        "{carrying} of {}",
        lines.len()
    );
    let html = d.join("viz.html");
    let out = faultline(&["viz", trace_arg, "-o", html.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = std::fs::read_to_string(&html).unwrap();
    let open = page.find(r#"id="faultline-data">"#).unwrap();
    let body = &page[open + r#"id="faultline-data">"#.len()..];
    let data: Value = serde_json::from_str(&body[..body.find("</script>").unwrap()]).unwrap();
    let from_trace = summaries_by_node(data["records"].as_array().unwrap());
    assert_eq!(from_trace, summaries_by_node(&direct));
    assert!(from_trace.values().all(|s| s.len() > 5));
}
