//! The dht checker on hand-written histories: reads that found a written value or nothing, and
//! each way a read can return a value no write explains.

use super::*;
use crate::history::parse;

/// A history from events written `process type f key value` (`value` is `nil` or an integer),
/// one per line of JSON Lines, in order.
fn history(events: &[&str]) -> History {
    let lines: Vec<String> = events
        .iter()
        .map(|e| {
            let [p, ty, f, key, value] = e.split(' ').collect::<Vec<_>>()[..] else {
                panic!("five fields in `{e}`");
            };
            let value = if value == "nil" { "null" } else { value };
            format!(
                r#"{{"process": {p}, "type": "{ty}", "f": "{f}", "key": {key}, "value": {value}}}"#
            )
        })
        .collect();
    parse("h.jsonl", &lines.join("\n"), None).expect("a well-formed history")
}

fn outcome(events: &[&str]) -> Outcome {
    check("h.jsonl", &history(events)).expect("checkable")
}

/// [`fault`] of `write` (an invocation and its completion), then a read of 17 from key 3.
fn read_17_after(write: [&str; 2]) -> (String, Option<u64>) {
    fault(&[write[0], write[1], "0 invoke read 3 nil", "0 ok read 3 17"])
}

/// The sentence naming the first read at fault in `events`, which must not be valid, and the
/// write of its value that it names (its op number).
fn fault(events: &[&str]) -> (String, Option<u64>) {
    let o = outcome(events);
    assert!(!o.valid, "{:?}", o.explanation);
    let write = o.details["first_bad_read"]["write_op"].as_u64();
    (o.explanation[0].clone(), write)
}

#[test]
fn reads_of_written_values_and_of_nothing_are_valid() {
    let o = outcome(&[
        "0 invoke read 3 nil",
        "0 ok read 3 nil",
        "1 invoke write 3 17",
        "1 ok write 3 17",
        "0 invoke read 3 nil",
        "0 ok read 3 17",
        "2 invoke write 4 18",
        "2 ok write 4 18",
        "0 invoke read 4 nil",
        "0 ok read 4 nil",
    ]);
    assert!(o.valid, "{:?}", o.explanation);
    assert_eq!(
        o.explanation,
        ["all 3 ok read(s) returned nothing or a written value (1 found one, 2 found nothing)"]
    );
    let count = |field: &str| o.details[field].as_u64();
    assert_eq!(count("reads"), Some(3));
    assert_eq!(count("reads_found"), Some(1));
    assert_eq!(
        count("reads_nil"),
        Some(2),
        "a lost key is not this check's concern"
    );
    assert_eq!(count("writes"), Some(2));
    assert!(o.details["first_bad_read"].is_null());
}

#[test]
fn a_read_concurrent_with_its_write_may_return_its_value() {
    let o = outcome(&[
        "1 invoke write 3 17",
        "0 invoke read 3 nil",
        "0 ok read 3 17",
        "1 ok write 3 17",
    ]);
    assert!(o.valid, "{:?}", o.explanation);
}

#[test]
fn a_value_never_written_is_not_valid() {
    let o = outcome(&[
        "1 invoke write 3 17",
        "1 ok write 3 17",
        "0 invoke read 3 nil",
        "0 ok read 3 99",
    ]);
    assert!(!o.valid);
    assert_eq!(
        o.explanation,
        [
            "read of key 3 returned 99, which no write of key 3 wrote before the read returned \
          (op 2): no write of any key wrote it"
        ]
    );
    let bad = &o.details["first_bad_read"];
    assert_eq!(
        (bad["op"].as_u64(), bad["value"].as_i64()),
        (Some(2), Some(99))
    );
    assert!(bad["write_op"].is_null());
}

#[test]
fn a_value_written_to_another_key_is_not_valid() {
    let (why, write) = read_17_after(["1 invoke write 4 17", "1 ok write 4 17"]);
    assert!(why.ends_with("(op 2): op 0 wrote it under key 4"), "{why}");
    assert_eq!(write, Some(0));
}

#[test]
fn a_value_whose_write_began_after_the_read_returned_is_not_valid() {
    let (why, write) = fault(&[
        "0 invoke read 3 nil",
        "0 ok read 3 17",
        "1 invoke write 3 17",
        "1 ok write 3 17",
    ]);
    let wanted = "(op 0): op 2 wrote it, invoked only after the read returned";
    assert!(why.ends_with(wanted), "{why}");
    assert_eq!(write, Some(2));
}

#[test]
fn a_failed_write_s_value_read_is_not_valid() {
    let (why, _) = read_17_after(["1 invoke write 3 17", "1 fail write 3 17"]);
    assert!(why.ends_with("(op 2): op 0 wrote it, but failed"), "{why}");
}

#[test]
fn an_indeterminate_write_s_value_may_be_read() {
    let o = outcome(&[
        "1 invoke write 3 17",
        "1 info write 3 17",
        "0 invoke read 3 nil",
        "0 ok read 3 17",
    ]);
    assert!(o.valid, "{:?}", o.explanation);
    assert_eq!(o.details["reads_found"].as_u64(), Some(1));
}

#[test]
fn every_bad_read_is_counted_and_the_first_named() {
    let o = outcome(&[
        "0 invoke read 3 nil",
        "0 ok read 3 5",
        "0 invoke read 3 nil",
        "0 ok read 3 6",
    ]);
    assert_eq!(o.details["unwritten_reads"].as_u64(), Some(2));
    assert!(
        o.explanation[0].contains("returned 5"),
        "{:?}",
        o.explanation
    );
    assert_eq!(
        o.explanation[1],
        "1 more ok read(s) returned a value no write of their key had written before they \
         returned"
    );
}

#[test]
fn another_function_or_a_list_read_is_bad_input() {
    let h = history(&["0 invoke add 3 1", "0 ok add 3 1"]);
    let e = check("h.jsonl", &h).expect_err("add is not a dht function");
    assert_eq!((e.line, e.column), (1, 1));
    assert!(
        e.message
            .contains("the dht checker does not know the function :add"),
        "{e}"
    );
    let text = r#"{"process": 0, "type": "invoke", "f": "read", "key": 3, "value": null}
{"process": 0, "type": "ok", "f": "read", "key": 3, "value": [1, 2]}"#;
    let h = parse("h.jsonl", text, None).expect("a well-formed history");
    let e = check("h.jsonl", &h).expect_err("a read returns one value");
    assert!(e.message.contains("read returned [1 2]"), "{e}");
}
