//! One numbering of client operations: the op a checker's report names is found under the same
//! number in the explanation, the trace, the history and the viewer's page, with its client
//! named the same way (`c0`, `c1`, ...). Through the real binary on failing scenarios.

mod common;

use common::{faultline, fresh_dir};
use serde_json::Value;
use std::path::Path;

/// What one run wrote: the JSON report, the trace's lines, the history's lines, the page's data.
struct Run {
    report: Value,
    trace: Vec<Value>,
    history: Vec<Value>,
    page: Value,
}

fn json_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .expect("written")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

/// The JSON the page embeds: `{"meta": ..., "records": [...]}`.
fn page_data(html: &str) -> Value {
    let start = html
        .find("id=\"faultline-data\"")
        .expect("the data element");
    let body = &html[start..];
    let body = &body[body.find('>').expect("its tag ends") + 1..];
    let json = &body[..body.find("</script>").expect("it closes")];
    serde_json::from_str(&json.replace("\\u003c", "<")).expect("the data is JSON")
}

fn run(name: &str) -> Run {
    let dir = fresh_dir("op-numbers", name);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = |f: &str| dir.join(f).to_str().expect("utf-8").to_string();
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name);
    let out = faultline(&[
        "run",
        file.to_str().expect("utf-8"),
        "--trace",
        &path("run.jsonl"),
        "--history",
        &path("history.jsonl"),
        "--html",
        &path("run.html"),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{name}: {out:?}");
    let html = std::fs::read_to_string(dir.join("run.html")).expect("page written");
    Run {
        report: serde_json::from_slice(&out.stdout).expect("JSON report"),
        trace: json_lines(&dir.join("run.jsonl")),
        history: json_lines(&dir.join("history.jsonl")),
        page: page_data(&html),
    }
}

/// Checks that every op the violation of `property` names has one number and one client name
/// everywhere; returns the first op's `op N (client cK)`.
fn consistent(name: &str, property: &str) -> String {
    let r = run(name);
    let v = r.report["violations"]
        .as_array()
        .expect("violations")
        .iter()
        .find(|v| v["property"] == property)
        .unwrap_or_else(|| panic!("{name}: no {property} violation"));
    let message = v["message"].as_str().expect("message");
    let explanation = v["explanation"]["text"].as_str().expect("explained");
    let ops = v["ops"].as_array().expect("the violation names ops");
    assert!(!ops.is_empty(), "{name}: {message}");
    let invokes: Vec<&Value> = r.trace.iter().filter(|l| l["kind"] == "invoke").collect();
    let history: Vec<&Value> = r.history.iter().filter(|l| l["type"] == "invoke").collect();
    let records = r.page["records"].as_array().expect("records");
    for (i, o) in ops.iter().enumerate() {
        let n = o["op"].as_u64().expect("an op number") as usize;
        let client = o["client"].as_u64().expect("a client");
        let named = format!("op {n} (client c{client}");
        assert!(message.contains(&named), "{name}: `{named}` in {message}");
        // The explanation's headline names it so (its first three ops; the rest are counted).
        if i < 3 {
            assert!(explanation.contains(&format!("{named})")), "{explanation}");
        }
        // The trace: the n-th invoke is the op, and every line of it carries its number.
        let invoke = invokes[n];
        assert_eq!(
            (&invoke["client"], &invoke["seq"]),
            (&o["client"], &o["seq"])
        );
        let lines_of_op = r
            .trace
            .iter()
            .filter(|l| l["client"] == o["client"] && l["seq"] == o["seq"]);
        assert!(
            lines_of_op.clone().count() >= 2,
            "{name}: op {n} in the trace"
        );
        assert!(lines_of_op.clone().all(|l| l["op"] == n), "{name}: op {n}");
        // The history written with `--history`: its n-th invocation, by the same client.
        assert_eq!(history[n]["client"], o["client"], "{name}: history op {n}");
        // The page: the viewer numbers its client bars from the same records.
        let on_page = records
            .iter()
            .filter(|l| l["kind"] == "invoke" && l["op"] == n)
            .collect::<Vec<_>>();
        assert_eq!(on_page.len(), 1, "{name}: op {n} on the page");
        assert_eq!(on_page[0]["client"], o["client"]);
        // And the page shows the report's and the explanation's words as they are.
        let page_text = |kind: &str, key: &str| {
            records
                .iter()
                .filter(|l| l["kind"] == kind && l["property"] == property)
                .any(|l| l[key].as_str().is_some_and(|t| t.contains(&named)))
        };
        assert!(
            page_text("violation", "message"),
            "{name}: op {n} on the page"
        );
        assert!(i >= 3 || page_text("explanation", "text"), "{name}: op {n}");
    }
    format!(
        "op {} (client c{})",
        ops[0]["op"].as_u64().expect("op"),
        ops[0]["client"].as_u64().expect("client")
    )
}

#[test]
fn a_stale_read_has_one_number_in_the_report_the_explanation_and_the_page() {
    let first = consistent("quorum-kv-weak-stale-read.yaml", "linearizable");
    // The checker's sentence starts with the op; the explanation's steps name it the same way.
    assert_eq!(first, "op 1 (client c0)");
    let r = run("quorum-kv-weak-stale-read.yaml");
    let text = r.report["violations"][0]["explanation"]["text"]
        .as_str()
        .expect("text");
    assert!(text.contains("client c0 invoked op 1, Read"), "{text}");
    assert!(text.contains("client c0 recorded op 1 as ok"), "{text}");
    assert!(text.contains("client c1 invoked op 0, Write"), "{text}");
}

#[test]
fn counter_unique_ids_and_isolation_violations_number_ops_the_same_way() {
    consistent("register-counter-ack-bug.yaml", "counter_bounds");
    consistent("echo-unique-ids-unsynced-bug.yaml", "unique_ids");
    consistent("sharded-kv-lost-update-bug.yaml", "isolation");
}

#[test]
fn the_run_report_names_the_counter_read_by_its_op_number() {
    let r = run("register-counter-ack-bug.yaml");
    let v = &r.report["violations"][0];
    let message = v["message"].as_str().expect("message");
    let n = &v["ops"][0]["op"];
    assert!(
        message.starts_with(&format!("the read op {n} returned ")),
        "{message}"
    );
    assert!(!message.contains("event "), "{message}");
}
