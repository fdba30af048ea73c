//! The counter, set, unique-ids, log and dht checkers through the real binary, on hand-written
//! histories of `tests/histories/` (the dht ones written to a temporary directory) with known
//! verdicts (valid and not, with failed and indeterminate ops).

mod common;

use serde_json::Value;

const HISTORIES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/histories");

/// Runs `check-history` on a file of `tests/histories/`; exit code, stdout, stderr.
fn run(file: &str, args: &[&str]) -> (i32, String, String) {
    common::check_history(&format!("{HISTORIES}/{file}"), args)
}

/// Runs with `--format json`; exit code and the parsed object, checking the common fields.
fn run_json(file: &str, model: &str) -> (i32, Value) {
    let (code, out, err) = run(file, &["--model", model, "--format", "json"]);
    let json: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    assert_eq!(json["model"], model, "{json}");
    assert!(json["valid"].is_boolean(), "{json}");
    assert!(json["ops"].is_u64(), "{json}");
    assert!(json["elapsed_ms"].is_number(), "{json}");
    assert_eq!(code == 0, json["valid"] == true, "{json}");
    (code, json)
}

#[test]
fn counter_within_bounds_with_info_and_failed_adds_is_valid() {
    let (code, json) = run_json("counter-ok.jsonl", "counter");
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["reads"], 3);
    assert_eq!(json["first_bad_read"], Value::Null);
}

#[test]
fn a_nil_read_counts_as_zero() {
    // The first read (nil, nothing added yet) is valid; the second comes after an ok add of 2.
    let (code, json) = run_json("counter-nil-read.jsonl", "counter");
    assert_eq!(code, 1, "{json}");
    assert_eq!(json["first_bad_read"]["event"], 4);
    assert_eq!(json["first_bad_read"]["value"], 0);
    assert_eq!(json["first_bad_read"]["lower"], 2);
}

#[test]
fn counter_read_above_every_attempted_add_is_not_valid() {
    let (code, json) = run_json("counter-too-high.jsonl", "counter");
    assert_eq!(code, 1, "{json}");
    let bad = &json["first_bad_read"];
    // 3 (ok) + 5 (info) may have been applied; the failed add of 1 may not.
    assert_eq!(bad["event"], 6);
    assert_eq!(bad["lower"], 3);
    assert_eq!(bad["upper"], 8);
    assert_eq!(bad["value"], 9);
}

#[test]
fn counter_read_below_completed_adds_is_not_valid() {
    let (code, json) = run_json("counter-too-low.jsonl", "counter");
    assert_eq!(code, 1, "{json}");
    let bad = &json["first_bad_read"];
    assert_eq!(
        (&bad["event"], &bad["lower"], &bad["value"]),
        (&6.into(), &6.into(), &2.into())
    );
    let (code, text, _) = run("counter-too-low.jsonl", &["--model", "counter"]);
    assert_eq!(code, 1);
    assert!(
        text.contains("NOT valid") && text.contains("below"),
        "{text}"
    );
}

#[test]
fn counter_negative_add_is_bad_input() {
    let (code, out, err) = run("counter-negative.jsonl", &["--model", "counter"]);
    assert_eq!(code, 2, "{out}");
    assert!(
        err.contains(":1:1:") && err.contains("non-negative"),
        "{err}"
    );
}

#[test]
fn set_with_stale_never_read_and_unconfirmed_elements_is_valid() {
    let (code, json) = run_json("set-ok.jsonl", "set");
    assert_eq!(code, 0, "{json}");
    assert_eq!(
        json["ok"],
        serde_json::json!([1, 2]),
        "the info add of 2 was read"
    );
    assert_eq!(json["stale"], serde_json::json!([5]));
    assert_eq!(json["never_read"], serde_json::json!([6]));
    assert_eq!(json["unconfirmed"], serde_json::json!([4]));
    assert_eq!(json["lost_count"], 0);
    assert_eq!(
        json["unexpected_count"], 0,
        "the failed add of 3 is never read"
    );
}

#[test]
fn set_missing_from_the_last_read_is_lost() {
    let (code, json) = run_json("set-lost.jsonl", "set");
    assert_eq!(code, 1, "{json}");
    assert_eq!(
        json["lost"],
        serde_json::json!([2, 7]),
        "7: info, read once, then gone"
    );
    assert_eq!(json["ok"], serde_json::json!([1]));
    let (_, text, _) = run("set-lost.jsonl", &["--model", "set"]);
    assert!(
        text.contains("lost: 2 7") && text.contains("NOT valid"),
        "{text}"
    );
}

#[test]
fn set_read_of_a_failed_add_is_unexpected() {
    let (code, json) = run_json("set-unexpected.jsonl", "set");
    assert_eq!(code, 1, "{json}");
    assert_eq!(json["unexpected"], serde_json::json!([2]));
    assert_eq!(json["lost_count"], 0);
}

#[test]
fn set_full_edn_with_set_literal_reads_is_valid() {
    let (code, json) = run_json("set-full-ok.edn", "set");
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["ops"], 5, "the nemesis op is skipped");
    assert_eq!(json["ok"], serde_json::json!([3]), "read as #{{3 2 1 3}}");
    assert_eq!(
        json["stale"],
        serde_json::json!([1]),
        "the empty read #{{}} missed it"
    );
    assert_eq!(json["never_read"], serde_json::json!([2]));
    assert_eq!(
        (&json["lost_count"], &json["unexpected_count"]),
        (&0.into(), &0.into())
    );
}

#[test]
fn set_full_edn_acknowledged_add_missing_from_the_last_set_is_lost() {
    let (code, json) = run_json("set-full-lost.edn", "set");
    assert_eq!(code, 1, "{json}");
    assert_eq!(json["lost"], serde_json::json!([2]));
    assert_eq!(json["ok"], serde_json::json!([1]));
}

#[test]
fn unique_ids_distinct_is_valid() {
    let (code, json) = run_json("unique-ok.jsonl", "unique-ids");
    assert_eq!(code, 0, "{json}");
    assert_eq!(
        json["generated"], 3,
        "info and fail generates are not counted"
    );
    assert_eq!(json["duplicate"], Value::Null);
}

#[test]
fn unique_ids_duplicate_names_both_events() {
    let (code, json) = run_json("unique-dup.jsonl", "unique-ids");
    assert_eq!(code, 1, "{json}");
    let dup = &json["duplicate"];
    assert_eq!(
        (&dup["value"], &dup["first_event"], &dup["second_event"]),
        (&1.into(), &1.into(), &7.into())
    );
    let (_, text, _) = run("unique-dup.jsonl", &["--model", "unique-ids"]);
    assert!(text.contains("event 1 and again at event 7"), "{text}");
}

#[test]
fn wrong_function_for_the_model_is_bad_input() {
    let (code, _, err) = run("unique-ok.jsonl", &["--model", "counter"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("does not know the function :generate"),
        "{err}"
    );
    let (code, _, err) = run("register-ok.jsonl", &["--model", "set"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn a_history_with_no_operations_is_bad_input_for_every_model() {
    for model in [
        "register",
        "cas-register",
        "kv",
        "counter",
        "set",
        "unique-ids",
        "dht",
    ] {
        let (code, out, err) = run("empty.jsonl", &["--model", model]);
        assert_eq!(code, 2, "{model}: {out}{err}");
        assert!(
            err.contains("empty.jsonl: the history has no operations"),
            "{err}"
        );
        assert!(out.is_empty(), "{model}: no verdict is printed: {out}");
    }
    let (code, _, err) = run("nemesis-only.edn", &["--model", "counter"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no operations (2 events read, none of them a client operation)"),
        "{err}"
    );
}

#[test]
fn a_log_read_in_full_and_committed_with_info_and_failed_sends_is_valid() {
    let (code, json) = run_json("log-ok.jsonl", "log");
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["lost_count"], 0);
    assert_eq!(json["findings"], Value::Array(Vec::new()));
}

#[test]
fn a_log_whose_poll_shows_another_message_at_an_acknowledged_offset_lost_it() {
    let (code, json) = run_json("log-lost.jsonl", "log");
    assert_eq!(code, 1, "{json}");
    assert_eq!(json["lost_count"], 1);
    assert_eq!(json["inconsistent_offset_count"], 1);
    let first = &json["findings"][0];
    assert_eq!(first["kind"], "lost");
    assert_eq!(first["ops"], serde_json::json!([2, 6]));
    let text = first["text"].as_str().expect("a sentence");
    assert!(
        text.contains("op 2 (process 1) sent message 2 and was told it is at offset 1"),
        "{text}"
    );
    let (_, out, _) = run("log-lost.jsonl", &["--model", "log"]);
    assert!(out.contains("verdict    NOT valid"), "{out}");
    assert!(
        out.contains("1 lost, 0 reordered, 1 inconsistent-offset"),
        "{out}"
    );
}

#[test]
fn a_log_committed_past_unpolled_messages_skips_them_and_must_not_go_back() {
    let (code, json) = run_json("log-skipped.jsonl", "log");
    assert_eq!(code, 1, "{json}");
    assert_eq!(json["skipped_count"], 2);
    assert_eq!(json["committed_backwards_count"], 1);
}

#[test]
fn a_log_history_with_another_function_is_bad_input() {
    let (code, _, err) = run("set-ok.jsonl", &["--model", "log"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(":1:1: the log checker does not know the function"),
        "{err}"
    );
}

/// Process 1's op `f` of `key`: its invocation with `input` and its ok completion with `output`
/// (JSON values), as JSON Lines.
fn op_of_1(f: &str, key: u32, input: &str, output: &str) -> [String; 2] {
    [("invoke", input), ("ok", output)].map(|(kind, value)| {
        format!(r#"{{"process": 1, "type": "{kind}", "f": "{f}", "key": {key}, "value": {value}}}"#)
    })
}

/// Runs `check-history --model dht ARGS` on a history of a put of 17 to key 3 and then the op
/// `then`, written as `name` in a fresh temporary directory: the exit code, stdout, stderr and
/// the file's path.
fn dht_after_put(name: &str, then: [String; 2], args: &[&str]) -> (i32, String, String, String) {
    let dir = common::fresh_dir("checkers", name);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let path = dir.join(name).display().to_string();
    let put = [
        r#"{"process": 0, "type": "invoke", "f": "write", "key": 3, "value": 17}"#,
        r#"{"process": 0, "type": "ok", "f": "write", "key": 3, "value": 17}"#,
    ];
    let lines = [put[0], put[1], &then[0], &then[1]];
    std::fs::write(&path, lines.join("\n")).expect("the history written");
    let (code, out, err) = common::check_history(&path, &[&["--model", "dht"], args].concat());
    (code, out, err, path)
}

#[test]
fn a_dht_whose_reads_find_written_values_or_nothing_is_valid() {
    let read = op_of_1("read", 3, "null", "17");
    let (code, out, err, _) = dht_after_put("dht-ok.jsonl", read, &["--format", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    let json: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(json["model"], "dht");
    let counts = ["reads", "reads_found", "reads_nil", "writes"].map(|k| json[k].as_u64());
    assert_eq!(counts, [Some(1), Some(1), Some(0), Some(1)], "{json}");
    let nil = op_of_1("read", 4, "null", "null");
    let (code, out, err, _) = dht_after_put("dht-nil.jsonl", nil, &[]);
    assert_eq!(code, 0, "a read may find nothing: {out}{err}");
    assert!(out.contains("(0 found one, 1 found nothing)"), "{out}");
}

#[test]
fn a_dht_read_of_a_value_no_write_of_its_key_wrote_is_not_valid() {
    let read = op_of_1("read", 4, "null", "17");
    let (code, out, err, _) = dht_after_put("dht-bad.jsonl", read, &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("verdict    NOT valid"), "{out}");
    assert!(
        out.contains(
            "read of key 4 returned 17, which no write of key 4 wrote before the read returned \
             (op 2): op 0 wrote it under key 3"
        ),
        "{out}"
    );
}

#[test]
fn a_dht_history_with_another_function_is_bad_input_located_in_the_file() {
    let cas = op_of_1("cas", 3, "[17, 18]", "[17, 18]");
    let (code, out, err, path) = dht_after_put("dht-cas.jsonl", cas, &[]);
    assert_eq!(code, 2, "{out}{err}");
    let wanted = format!("{path}:3:1: the dht checker does not know the function :cas");
    assert!(err.contains(&wanted), "{err}");
}
