//! `faultline run --html`, `faultline viz` and `--states`, driven through the real binary.

mod common;

use common::{faultline, fresh_dir};
use serde_json::Value;
use std::path::Path;

fn dir(name: &str) -> std::path::PathBuf {
    let d = fresh_dir("viz", name);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The JSON the page embeds: `{"meta": ..., "records": [...]}`.
fn embedded(html: &str) -> Value {
    let open = html
        .find(r#"<script type="application/json" id="faultline-data">"#)
        .expect("the page embeds its data");
    let body = &html[html[open..].find('>').unwrap() + open + 1..];
    let json = &body[..body.find("</script>").expect("the data element ends")];
    serde_json::from_str(json).expect("the embedded data is JSON")
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Nothing in the page reaches for the network.
fn assert_offline(html: &str) {
    for needle in [
        "http://", "https://", "<link", "@import", "url(", "<iframe", "src=",
    ] {
        assert!(!html.contains(needle), "the page contains `{needle}`");
    }
}

#[test]
fn run_html_embeds_every_trace_record_and_fetches_nothing() {
    let d = dir("run");
    let (html, trace) = (d.join("run.html"), d.join("run.jsonl"));
    let out = faultline(&[
        "run",
        "scenarios/raft-figure8-bug.yaml",
        "--html",
        html.to_str().unwrap(),
        "--trace",
        trace.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert_offline(&page);
    let data = embedded(&page);
    // The trace's records, and the nodes' summaries for the state strip.
    let records = data["records"].as_array().unwrap();
    let expected = lines(&trace);
    assert!(expected.len() > 1000);
    let (summaries, others): (Vec<&Value>, Vec<&Value>) =
        records.iter().partition(|r| r["kind"] == "summary");
    assert_eq!(
        others,
        expected.iter().collect::<Vec<_>>(),
        "the page holds exactly the trace's records"
    );
    assert!(summaries.len() > 100);
    let meta = &data["meta"];
    assert_eq!(meta["title"], "raft-figure8-bug");
    assert_eq!(meta["protocol"], "raft");
    assert_eq!(meta["outcome"], "violation");
    assert_eq!(meta["nodes"].as_array().unwrap().len(), 5);
    assert_eq!(meta["violations"][0]["property"], "leader_completeness");
}

#[test]
fn viz_draws_a_trace_file_with_its_violation_and_explanation() {
    let d = dir("viz");
    let html = d.join("explained.html");
    let out = faultline(&[
        "viz",
        "tests/viz/explained.jsonl",
        "-o",
        html.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert_offline(&page);
    let data = embedded(&page);
    let expected = lines(Path::new("tests/viz/explained.jsonl"));
    assert_eq!(data["records"].as_array().unwrap(), &expected);
    assert_eq!(data["meta"]["nodes"], serde_json::json!(["n1", "n2", "n3"]));
    let kinds: Vec<&str> = expected.iter().filter_map(|r| r["kind"].as_str()).collect();
    assert!(kinds.contains(&"violation") && kinds.contains(&"explanation"));
}

#[test]
fn malformed_traces_are_located_errors_with_exit_2() {
    let d = dir("malformed");
    let good = r#"{"i":0,"kind":"start","node":"n1","t":"0ns","t_ns":0}"#;
    let cases = [
        (
            "truncated.jsonl",
            format!("{good}\n{good}\n{{\"i\":2,\"kind\"\n"),
            ":3:",
        ),
        (
            "no-time.jsonl",
            format!("{good}\n{{\"i\":1,\"kind\":\"send\",\"node\":\"n1\"}}\n"),
            ":2: missing key `t_ns`",
        ),
        (
            "array.jsonl",
            "[]\n".to_string(),
            ":1:1: a trace line must be a JSON object",
        ),
        (
            "chain.jsonl",
            format!("{good}\n{{\"kind\":\"explanation\",\"text\":\"t\",\"chain\":[\"a\"]}}\n"),
            ":2: `chain`",
        ),
    ];
    for (name, text, located) in cases {
        let path = d.join(name);
        std::fs::write(&path, text).unwrap();
        let out = faultline(&[
            "viz",
            path.to_str().unwrap(),
            "-o",
            d.join("x.html").to_str().unwrap(),
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        let want = format!("{}{located}", path.display());
        assert!(
            stderr.contains(&want),
            "{name}: `{stderr}` does not name `{want}`"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!d.join("x.html").exists(), "no page for a malformed trace");
    }
    let out = faultline(&["viz", d.join("absent.jsonl").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("absent.jsonl: cannot read the trace"));
}

#[test]
fn a_trace_with_no_events_draws_no_page() {
    let d = dir("empty");
    let violation = r#"{"kind":"violation","property":"p","message":"m"}"#;
    for (name, text) in [
        ("empty.jsonl", String::new()),
        ("blank.jsonl", "\n\n".to_string()),
        ("records-only.jsonl", format!("{violation}\n")),
    ] {
        let path = d.join(name);
        std::fs::write(&path, text).unwrap();
        let page = d.join("x.html");
        let out = faultline(&["viz", path.to_str().unwrap(), "-o", page.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        let want = format!("{}: the trace has no events", path.display());
        assert!(stderr.contains(&want), "{name}: {stderr}");
        assert!(!page.exists(), "{name}: no page for a trace with no events");
    }
}

#[test]
fn states_are_recorded_on_handler_lines_without_changing_the_run() {
    let d = dir("states");
    let (plain, with) = (d.join("plain.jsonl"), d.join("states.jsonl"));
    let run = |trace: &Path, states: bool| {
        let mut args = vec![
            "run",
            "scenarios/broadcast-crash-restart.yaml",
            "--format",
            "json",
            "--trace",
            trace.to_str().unwrap(),
        ];
        if states {
            args.push("--states");
        }
        let out = faultline(&args);
        let report: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
        report["trace_hash"].clone()
    };
    assert_eq!(
        run(&plain, false),
        run(&with, true),
        "states do not change the run"
    );
    let (plain, with) = (lines(&plain), lines(&with));
    assert_eq!(plain.len(), with.len());
    let mut handlers = 0;
    for (p, w) in plain.iter().zip(&with) {
        let kind = w["kind"].as_str().unwrap();
        let handler = matches!(
            kind,
            "start" | "restart" | "deliver" | "timer_fired" | "request"
        );
        assert_eq!(w.get("state_before").is_some(), handler, "{w}");
        assert_eq!(w.get("state_after").is_some(), handler, "{w}");
        let mut stripped = w.clone();
        stripped.as_object_mut().unwrap().remove("state_before");
        stripped.as_object_mut().unwrap().remove("state_after");
        // Handler lines also carry the node's summary where it changed.
        if stripped
            .as_object_mut()
            .unwrap()
            .remove("summary")
            .is_some()
        {
            assert!(handler, "{w}");
        }
        assert_eq!(
            &stripped, p,
            "the same line apart from the states and summaries"
        );
        handlers += usize::from(handler);
    }
    assert!(
        with.iter().any(|w| w["kind"] == "restart"),
        "the scenario restarts a node"
    );
    assert!(handlers > 100);
    let first_deliver = with.iter().find(|w| w["kind"] == "deliver").unwrap();
    assert!(
        first_deliver["state_after"]
            .as_str()
            .unwrap()
            .starts_with("Broadcast {")
    );
}

#[test]
fn help_shows_examples_for_both_commands() {
    let viz = faultline(&["viz", "--help"]);
    let text = String::from_utf8_lossy(&viz.stdout);
    assert!(
        text.contains("faultline viz run.jsonl -o run.html"),
        "{text}"
    );
    let run = faultline(&["run", "--help"]);
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(
        text.contains("--html <FILE>") && text.contains("--states"),
        "{text}"
    );
    assert!(text.contains("--html run.html"), "{text}");
}
