//! The log checker on hand-written histories: one of each finding, and clean ones.

use super::*;
use crate::history::parse;

/// A history from JSON Lines; `k` stands for `"key": 0`.
fn history(lines: &[&str]) -> History {
    let text: Vec<String> = lines
        .iter()
        .map(|l| l.replace("k,", "\"key\": 0,"))
        .collect();
    parse("h.jsonl", &text.join("\n"), None).expect("a well-formed history")
}

fn kinds(h: &History) -> Vec<&'static str> {
    let (found, _) = findings("h.jsonl", h).expect("checkable");
    found.iter().map(Finding::kind).collect()
}

fn sentences(h: &History) -> Vec<String> {
    check("h.jsonl", h).expect("checkable").explanation
}

const SEND_1_AT_0: [&str; 2] = [
    r#"{"process": 0, "type": "invoke", "f": "send", k, "value": 1}"#,
    r#"{"process": 0, "type": "ok", "f": "send", k, "value": 0}"#,
];

#[test]
fn a_clean_history_with_a_consumer_that_commits_is_valid() {
    let h = history(&[
        SEND_1_AT_0[0],
        SEND_1_AT_0[1],
        r#"{"process": 1, "type": "invoke", "f": "send", k, "value": 2}"#,
        r#"{"process": 1, "type": "ok", "f": "send", k, "value": 1}"#,
        r#"{"process": 2, "type": "invoke", "f": "committed", k, "value": null}"#,
        r#"{"process": 2, "type": "ok", "f": "committed", k, "value": null}"#,
        r#"{"process": 2, "type": "invoke", "f": "poll", k, "value": 0}"#,
        r#"{"process": 2, "type": "ok", "f": "poll", k, "value": [[0, 1], [1, 2]]}"#,
        r#"{"process": 2, "type": "invoke", "f": "commit", k, "value": 2}"#,
        r#"{"process": 2, "type": "ok", "f": "commit", k, "value": 2}"#,
        r#"{"process": 0, "type": "invoke", "f": "send", k, "value": 3}"#,
        r#"{"process": 0, "type": "info", "f": "send", k, "value": 3}"#,
        r#"{"process": 2, "type": "invoke", "f": "committed", k, "value": null}"#,
        r#"{"process": 2, "type": "ok", "f": "committed", k, "value": 2}"#,
    ]);
    let outcome = check("h.jsonl", &h).expect("checkable");
    assert!(outcome.valid, "{:?}", outcome.explanation);
    assert!(outcome.explanation[0].contains("2 send(s) acknowledged"));
}

#[test]
fn an_acknowledged_message_a_later_poll_passes_over_is_lost() {
    let h = history(&[
        SEND_1_AT_0[0],
        SEND_1_AT_0[1],
        r#"{"process": 1, "type": "invoke", "f": "send", k, "value": 2}"#,
        r#"{"process": 1, "type": "ok", "f": "send", k, "value": 1}"#,
        r#"{"process": 2, "type": "invoke", "f": "poll", k, "value": 0}"#,
        r#"{"process": 2, "type": "ok", "f": "poll", k, "value": [[0, 1], [2, 5]]}"#,
    ]);
    assert_eq!(kinds(&h), ["lost"]);
    let text = sentences(&h).join("\n");
    assert!(
        text.contains("op 2 (process 1) sent message 2 and was told it is at offset 1")
            && text.contains("op 4 (process 2), invoked after that"),
        "{text}"
    );
}

#[test]
fn a_poll_returning_another_message_at_an_acknowledged_offset_is_lost_and_inconsistent() {
    let h = history(&[
        SEND_1_AT_0[0],
        SEND_1_AT_0[1],
        r#"{"process": 2, "type": "invoke", "f": "poll", k, "value": 0}"#,
        r#"{"process": 2, "type": "ok", "f": "poll", k, "value": [[0, 7]]}"#,
    ]);
    assert_eq!(kinds(&h), ["lost", "inconsistent-offset"]);
    assert!(
        sentences(&h)
            .join("\n")
            .contains("returned message 7 there instead")
    );
}

#[test]
fn a_poll_that_began_before_the_acknowledgement_proves_nothing_lost() {
    let h = history(&[
        SEND_1_AT_0[0],
        r#"{"process": 2, "type": "invoke", "f": "poll", k, "value": 0}"#,
        SEND_1_AT_0[1],
        r#"{"process": 2, "type": "ok", "f": "poll", k, "value": []}"#,
    ]);
    assert!(kinds(&h).is_empty());
}

#[test]
fn a_later_send_at_a_smaller_offset_is_reordered() {
    let h = history(&[
        r#"{"process": 0, "type": "invoke", "f": "send", k, "value": 1}"#,
        r#"{"process": 0, "type": "ok", "f": "send", k, "value": 5}"#,
        r#"{"process": 1, "type": "invoke", "f": "send", k, "value": 2}"#,
        r#"{"process": 1, "type": "ok", "f": "send", k, "value": 3}"#,
    ]);
    assert_eq!(kinds(&h), ["reordered"]);
    assert!(sentences(&h).join("\n").contains("the smaller offset 3"));
}

#[test]
fn concurrent_sends_may_land_in_either_order() {
    let h = history(&[
        r#"{"process": 0, "type": "invoke", "f": "send", k, "value": 1}"#,
        r#"{"process": 1, "type": "invoke", "f": "send", k, "value": 2}"#,
        r#"{"process": 0, "type": "ok", "f": "send", k, "value": 5}"#,
        r#"{"process": 1, "type": "ok", "f": "send", k, "value": 3}"#,
    ]);
    assert!(kinds(&h).is_empty());
}

#[test]
fn two_messages_at_one_offset_are_inconsistent() {
    let h = history(&[
        r#"{"process": 0, "type": "invoke", "f": "send", k, "value": 1}"#,
        r#"{"process": 1, "type": "invoke", "f": "send", k, "value": 2}"#,
        r#"{"process": 0, "type": "ok", "f": "send", k, "value": 4}"#,
        r#"{"process": 1, "type": "ok", "f": "send", k, "value": 4}"#,
    ]);
    assert_eq!(kinds(&h), ["inconsistent-offset"]);
    let text = sentences(&h).join("\n");
    assert!(
        text.contains("offset 4 holds message 1 according to op 0"),
        "{text}"
    );
}

#[test]
fn one_message_at_two_offsets_is_a_duplicate() {
    let h = history(&[
        SEND_1_AT_0[0],
        SEND_1_AT_0[1],
        r#"{"process": 2, "type": "invoke", "f": "poll", k, "value": 0}"#,
        r#"{"process": 2, "type": "ok", "f": "poll", k, "value": [[0, 1], [1, 1]]}"#,
    ]);
    assert_eq!(kinds(&h), ["duplicate"]);
    assert!(
        sentences(&h)
            .join("\n")
            .contains("message 1 is at offset 0")
    );
}

#[test]
fn a_committed_offset_past_a_message_no_poll_returned_skips_it() {
    let h = history(&[
        SEND_1_AT_0[0],
        SEND_1_AT_0[1],
        r#"{"process": 2, "type": "invoke", "f": "poll", k, "value": 0}"#,
        r#"{"process": 2, "type": "info", "f": "poll", k, "value": 0}"#,
        r#"{"process": 5, "type": "invoke", "f": "committed", k, "value": null}"#,
        r#"{"process": 5, "type": "ok", "f": "committed", k, "value": 1}"#,
    ]);
    assert_eq!(kinds(&h), ["skipped"]);
    let text = sentences(&h).join("\n");
    assert!(
        text.contains("op 4 (process 5) saw the group's committed offset at 1, past offset 0"),
        "{text}"
    );
}

#[test]
fn a_committed_read_below_an_earlier_commit_goes_backwards() {
    let h = history(&[
        r#"{"process": 2, "type": "invoke", "f": "commit", k, "value": 3}"#,
        r#"{"process": 2, "type": "ok", "f": "commit", k, "value": 3}"#,
        r#"{"process": 3, "type": "invoke", "f": "committed", k, "value": null}"#,
        r#"{"process": 3, "type": "ok", "f": "committed", k, "value": 1}"#,
        r#"{"process": 3, "type": "invoke", "f": "committed", k, "value": null}"#,
        r#"{"process": 3, "type": "ok", "f": "committed", k, "value": null}"#,
    ]);
    assert_eq!(kinds(&h), ["committed-backwards", "committed-backwards"]);
    let text = sentences(&h).join("\n");
    assert!(text.contains("which read it as nil"), "{text}");
}

#[test]
fn keys_are_separate_logs() {
    let h = history(&[
        r#"{"process": 0, "type": "invoke", "f": "send", "key": 0, "value": 1}"#,
        r#"{"process": 0, "type": "ok", "f": "send", "key": 0, "value": 0}"#,
        r#"{"process": 1, "type": "invoke", "f": "send", "key": 1, "value": 1}"#,
        r#"{"process": 1, "type": "ok", "f": "send", "key": 1, "value": 0}"#,
    ]);
    assert!(kinds(&h).is_empty());
}

#[test]
fn malformed_ops_are_located_errors() {
    let bad = [
        r#"{"process": 0, "type": "invoke", "f": "read", k, "value": null}"#,
        r#"{"process": 0, "type": "ok", "f": "read", k, "value": 1}"#,
    ];
    let e = findings("h.jsonl", &history(&bad)).unwrap_err();
    assert!(
        e.to_string().starts_with("h.jsonl:1:1: the log checker"),
        "{e}"
    );
    let bad = [
        r#"{"process": 0, "type": "invoke", "f": "poll", k, "value": 0}"#,
        r#"{"process": 0, "type": "ok", "f": "poll", k, "value": [1, 2]}"#,
    ];
    let e = findings("h.jsonl", &history(&bad)).unwrap_err();
    assert!(e.message.contains("[offset, msg] pairs"), "{e}");
}

#[test]
fn a_poll_with_a_wide_hole_still_shows_a_lost_message() {
    // Offsets 0 and 4,000,000,000 in one batch span far more offsets than the history has
    // ops: the check tries every poll instead of indexing the offsets each one spans.
    let h = history(&[
        SEND_1_AT_0[0],
        SEND_1_AT_0[1],
        r#"{"process": 1, "type": "invoke", "f": "send", k, "value": 2}"#,
        r#"{"process": 1, "type": "ok", "f": "send", k, "value": 1}"#,
        r#"{"process": 2, "type": "invoke", "f": "poll", k, "value": 0}"#,
        r#"{"process": 2, "type": "ok", "f": "poll", k, "value": [[0, 1], [4000000000, 5]]}"#,
    ]);
    let spans = spans(&read_logs("h.jsonl", &h).expect("checkable")[&Some("0".into())]);
    assert_eq!(spans, [Some((0, 4_000_000_000))]);
    assert!(kinds(&h).contains(&"lost"));
}

#[test]
fn many_polls_and_sends_are_checked_against_the_polls_that_span_each_offset() {
    // 2,000 sends at offsets 0..2000, then one poll per 10 offsets returning them all but
    // offset 1234: only that one is lost.
    let mut lines: Vec<String> = Vec::new();
    for i in 0..2000 {
        lines.push(format!(
            r#"{{"process": 0, "type": "invoke", "f": "send", k, "value": {}}}"#,
            i + 1
        ));
        lines.push(format!(
            r#"{{"process": 0, "type": "ok", "f": "send", k, "value": {i}}}"#
        ));
    }
    for start in (0..2000).step_by(10) {
        let batch: Vec<String> = (start..start + 10)
            .filter(|&o| o != 1234)
            .map(|o| format!("[{o}, {}]", o + 1))
            .collect();
        lines.push(format!(
            r#"{{"process": 1, "type": "invoke", "f": "poll", k, "value": {start}}}"#
        ));
        lines.push(format!(
            r#"{{"process": 1, "type": "ok", "f": "poll", k, "value": [{}]}}"#,
            batch.join(", ")
        ));
    }
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let h = history(&refs);
    let (found, totals) = findings("h.jsonl", &h).expect("checkable");
    assert_eq!(totals.sends_acked, 2000);
    let lost: Vec<&Finding> = found.iter().filter(|f| f.kind() == "lost").collect();
    assert_eq!(lost.len(), 1, "{lost:?}");
    assert!(
        matches!(lost[0], Finding::Lost { offset: 1234, .. }),
        "{lost:?}"
    );
}
