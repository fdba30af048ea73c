//! Transactional isolation checking through the real binary: one minimal hand-written history
//! per anomaly in `tests/histories/isolation/` (list-append `la-*`, rw-register `rw-*`), valid
//! histories, weaker levels that allow what they find, both input formats, and bad input.

mod common;

use serde_json::Value;
use std::process::Command;

const HISTORIES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/histories/isolation");

/// Runs `check-history` on a file of `tests/histories/isolation/`; exit code, stdout, stderr.
fn run(file: &str, args: &[&str]) -> (i32, String, String) {
    common::check_history(&format!("{HISTORIES}/{file}"), args)
}

fn model_of(file: &str) -> &'static str {
    if file.starts_with("la-") {
        "list-append"
    } else {
        "rw-register"
    }
}

/// Runs with `--format json` (and `extra` flags); exit code and the parsed report, checking
/// the fields every report has.
fn run_json(file: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["--model", model_of(file), "--format", "json"];
    args.extend_from_slice(extra);
    let (code, out, err) = run(file, &args);
    let json: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    assert_eq!(json["model"], model_of(file), "{json}");
    assert!(json["consistency"].is_string(), "{json}");
    assert!(json["counts"].is_object(), "{json}");
    assert!(json["elapsed_ms"].is_number(), "{json}");
    assert_eq!(code == 0, json["valid"] == true, "{json}");
    (code, json)
}

/// The anomaly types a report lists.
fn types(json: &Value) -> Vec<String> {
    let mut out: Vec<String> = json["anomalies"]
        .as_array()
        .expect("anomalies")
        .iter()
        .map(|a| a["type"].as_str().expect("a type").to_string())
        .collect();
    out.dedup();
    out
}

#[test]
fn each_anomaly_is_named_and_exits_1() {
    let cases = [
        ("la-g0.edn", "G0"),
        ("la-g1a.edn", "G1a"),
        ("la-g1b.edn", "G1b"),
        ("la-g1c.edn", "G1c"),
        ("la-g1c.jsonl", "G1c"),
        ("la-g-single.edn", "G-single"),
        ("la-g2-item.edn", "G2-item"),
        ("la-g-single-realtime.edn", "G-single-realtime"),
        ("la-internal.edn", "internal"),
        ("la-lost-update.edn", "lost-update"),
        ("la-incompatible-order.edn", "incompatible-order"),
        ("la-garbage-read.edn", "garbage-read"),
        ("la-duplicate-elements.edn", "duplicate-elements"),
        ("rw-g0.edn", "G0"),
        ("rw-g1a.edn", "G1a"),
        ("rw-g1b.edn", "G1b"),
        ("rw-g1c.edn", "G1c"),
        ("rw-g-single.edn", "G-single"),
        ("rw-g2-item.edn", "G2-item"),
        ("rw-g-single-realtime.edn", "G-single-realtime"),
        ("rw-internal.edn", "internal"),
        ("rw-lost-update.edn", "lost-update"),
        ("rw-garbage-read.edn", "garbage-read"),
    ];
    for (file, anomaly) in cases {
        let (code, json) = run_json(file, &[]);
        assert_eq!(code, 1, "{file}: {json}");
        assert_eq!(
            json["consistency"], "strict-serializable",
            "the default level"
        );
        assert!(
            types(&json).contains(&anomaly.to_string()),
            "{file}: {json}"
        );
        assert!(
            json["prohibited"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p == anomaly),
            "{file}"
        );
        assert_eq!(json["counts"][anomaly].as_u64(), Some(1), "{file}: {json}");
        let (code, text, _) = run(file, &["--model", model_of(file)]);
        assert_eq!(code, 1, "{file}");
        assert!(text.contains("verdict      NOT valid"), "{file}: {text}");
        assert!(
            text.contains(&format!("\n{anomaly} (prohibited")),
            "{file}: {text}"
        );
    }
}

#[test]
fn valid_histories_exit_0() {
    for file in ["la-valid.edn", "la-valid.jsonl", "rw-valid.edn"] {
        let (code, json) = run_json(file, &[]);
        assert_eq!(code, 0, "{file}: {json}");
        assert_eq!(json["anomalies"], serde_json::json!([]), "{file}");
        assert!(json["edges"]["wr"].as_u64().unwrap() > 0, "{file}: {json}");
        let (code, text, _) = run(file, &["--model", model_of(file)]);
        assert_eq!(code, 0);
        assert!(
            text.contains("verdict      valid (strict-serializable holds)"),
            "{text}"
        );
        assert!(text.contains("anomalies    none"), "{text}");
    }
    // The valid files hold failed and indeterminate transactions.
    let (_, json) = run_json("la-valid.edn", &[]);
    assert_eq!(
        (json["failed"].as_u64(), json["info"].as_u64()),
        (Some(1), Some(1))
    );
}

#[test]
fn a_weaker_level_lists_what_it_allows_and_exits_0() {
    for (file, level, anomaly) in [
        ("la-g2-item.edn", "snapshot-isolation", "G2-item"),
        ("rw-g2-item.edn", "snapshot-isolation", "G2-item"),
        ("la-g-single.edn", "read-committed", "G-single"),
        ("la-lost-update.edn", "read-committed", "lost-update"),
        (
            "la-g-single-realtime.edn",
            "serializable",
            "G-single-realtime",
        ),
        (
            "rw-g-single-realtime.edn",
            "serializable",
            "G-single-realtime",
        ),
    ] {
        let (code, json) = run_json(file, &["--consistency", level]);
        assert_eq!(code, 0, "{file} at {level}: {json}");
        assert_eq!(json["consistency"], level);
        assert!(
            json["allowed"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a == anomaly),
            "{json}"
        );
        let listed = &json["anomalies"].as_array().unwrap()[0];
        assert_eq!(listed["prohibited"], false, "{json}");
        let (code, text, _) = run(file, &["--model", model_of(file), "--consistency", level]);
        assert_eq!(code, 0);
        assert!(text.contains(&format!("allowed by {level}: ")), "{text}");
        assert!(text.contains(&format!("{anomaly} 1")), "{text}");
    }
    // The next level up prohibits it.
    let (code, _) = run_json("la-g2-item.edn", &["--consistency", "serializable"]);
    assert_eq!(code, 1);
    let (code, _) = run_json(
        "la-g-single-realtime.edn",
        &["--consistency", "strict-serializable"],
    );
    assert_eq!(code, 1);
}

#[test]
fn a_cycle_is_told_in_words_with_lines_and_jepsen_indexes() {
    let (code, text, _) = run("la-g-single-indexed.edn", &["--model", "list-append"]);
    assert_eq!(code, 1, "{text}");
    // As Knossos does, an op is named by its completion's :index.
    assert!(
        text.contains("T1 (line 2, :index 3, ok): [r \"x\" []] [r \"y\" [1]]"),
        "{text}"
    );
    assert!(
        text.contains("T0 (line 1, :index 2, ok): [append \"x\" 1] [append \"y\" 1]"),
        "{text}"
    );
    assert!(
        text.contains("T1 read key \"x\" = [] before T0 appended 1 (rw)"),
        "{text}"
    );
    assert!(
        text.contains("T1 read key \"y\" = [1], the version T0 wrote (wr)"),
        "{text}"
    );
    let (_, json) = run_json("la-g-single-indexed.edn", &[]);
    let anomaly = &json["anomalies"][0];
    assert_eq!(anomaly["type"], "G-single");
    assert_eq!(anomaly["transactions"][0]["index"], 3);
    assert_eq!(anomaly["transactions"][0]["line"], 2);
    let edges: Vec<&str> = anomaly["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(edges, ["rw", "wr"]);
    assert_eq!(anomaly["edges"][0]["from"], 1);
    assert_eq!(anomaly["edges"][0]["to"], 0);
    // Realtime: the edge that needs the order of completion and invocation.
    let (_, text, _) = run("la-g-single-realtime.edn", &["--model", "list-append"]);
    assert!(
        text.contains("T0 completed before T2 was invoked (rt)"),
        "{text}"
    );
    let (_, text, _) = run("la-g0.edn", &["--model", "list-append"]);
    assert!(
        text.contains("appended 2 to key \"x\" right after T0's 1 (ww)"),
        "{text}"
    );
}

#[test]
fn malformed_micro_ops_exit_2_located() {
    let (code, out, err) = run("bad-micro-op.edn", &["--model", "list-append"]);
    assert_eq!(code, 2, "{out}");
    assert!(err.contains("bad-micro-op.edn:2:3: micro-op 2"), "{err}");
    assert!(err.contains("no micro-op `read`"), "{err}");
    let (code, _, err) = run("bad-micro-op.jsonl", &["--model", "list-append"]);
    assert_eq!(code, 2);
    assert!(err.contains("bad-micro-op.jsonl:3:1: micro-op 1"), "{err}");
    assert!(
        err.contains("a read of a list returns a list, not 7"),
        "{err}"
    );
    let (code, _, err) = run("rw-duplicate-write.edn", &["--model", "rw-register"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("rw-duplicate-write.edn:3:1: 1 is written to key \"x\" twice"),
        "{err}"
    );
    // A single-object history is not a transactional one.
    let other = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/histories/counter-ok.jsonl"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["check-history", other, "--model", "rw-register"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("reads only :txn operations"));
}

#[test]
fn flags_that_do_not_apply_exit_2() {
    let (code, _, err) = run(
        "la-g0.edn",
        &["--model", "register", "--consistency", "serializable"],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("--consistency applies to the transactional models"),
        "{err}"
    );
    let (code, _, err) = run("la-g0.edn", &["--model", "list-append", "--initial", "0"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--initial does not apply to --model list-append"),
        "{err}"
    );
    let (code, _, err) = run(
        "la-g0.edn",
        &["--model", "list-append", "--nil-reads", "value"],
    );
    assert_eq!(code, 2);
    assert!(err.contains("--nil-reads does not apply"), "{err}");
    let (code, _, err) = run(
        "la-g0.edn",
        &["--model", "list-append", "--consistency", "acid"],
    );
    assert_eq!(code, 2, "clap refuses an unknown level");
    assert!(err.contains("read-committed"), "{err}");
}
