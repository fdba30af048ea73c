//! The chain and the explanation on small hand-made traces.

use super::*;
use crate::check::OpRef;
use crate::process::NodeId;
use crate::time::SimTime;
use crate::trace::{TraceEvent, TraceKind};

/// Events in order; what a handler writes (a send, a note) shares the time of what ran it.
fn trace(kinds: &[(u32, TraceKind, Option<&str>)]) -> Vec<Captured> {
    let mut time_ns = 0;
    kinds
        .iter()
        .enumerate()
        .map(|(i, &(node, kind, detail))| Captured {
            event: TraceEvent {
                index: i as u64,
                time: SimTime({
                    let effect = matches!(kind, TraceKind::Send { .. } | TraceKind::Note);
                    if !effect || i == 0 {
                        time_ns += 1_000;
                    }
                    time_ns
                }),
                node: NodeId(node),
                kind,
            },
            detail: detail.map(str::to_string),
        })
        .collect()
}

fn names() -> Vec<String> {
    vec!["a".into(), "b".into(), "c".into()]
}

fn violation(event: Option<u64>, nodes: &[&str], ops: Vec<OpRef>) -> ViolationReport {
    ViolationReport {
        property: "safety".into(),
        time_ns: 9_000,
        time: SimTime(9_000),
        nodes: nodes.iter().map(|n| n.to_string()).collect(),
        message: "broken".into(),
        event,
        ops,
    }
}

/// b votes for a, crashes, then votes for c; c's receipt of the vote is the violation.
fn two_votes() -> Vec<Captured> {
    trace(&[
        (
            0,
            TraceKind::Send {
                to: NodeId(1),
                msg_id: 0,
            },
            Some("Ask"),
        ),
        (
            1,
            TraceKind::Deliver {
                from: NodeId(0),
                msg_id: 0,
            },
            None,
        ),
        (
            1,
            TraceKind::Send {
                to: NodeId(0),
                msg_id: 1,
            },
            Some("Vote"),
        ),
        (1, TraceKind::Crash { lost_writes: 1 }, None),
        (
            0,
            TraceKind::Deliver {
                from: NodeId(1),
                msg_id: 1,
            },
            None,
        ),
        (0, TraceKind::Note, Some("leader")),
        (1, TraceKind::Restart, None),
        (2, TraceKind::TimerFired { timer: 0 }, Some("Election")),
        (
            2,
            TraceKind::Send {
                to: NodeId(1),
                msg_id: 2,
            },
            Some("Ask"),
        ),
        (
            1,
            TraceKind::Deliver {
                from: NodeId(2),
                msg_id: 2,
            },
            None,
        ),
        (
            1,
            TraceKind::Send {
                to: NodeId(2),
                msg_id: 3,
            },
            Some("Vote"),
        ),
        (
            2,
            TraceKind::Deliver {
                from: NodeId(1),
                msg_id: 3,
            },
            None,
        ),
        (2, TraceKind::Note, Some("leader")),
        (0, TraceKind::Note, Some("after the fact")),
    ])
}

#[test]
fn the_chain_follows_messages_back_and_holds_the_crash() {
    let events = two_votes();
    let x = explain(
        &events,
        &names(),
        &violation(Some(11), &["c", "a"], Vec::new()),
    );
    for cited in [1, 3, 5, 6, 7, 9, 11, 12] {
        assert!(x.chain.contains(&cited), "#{cited} in {:?}", x.chain);
    }
    assert!(!x.chain.contains(&13), "a later event is not in the chain");
    assert!(x.chain.windows(2).all(|w| w[0] < w[1]));
    assert!(
        x.text
            .contains("b crashed, losing 1 unsynced storage writes"),
        "{}",
        x.text
    );
    assert!(x.text.contains("c received Vote from b"), "{}", x.text);
    assert!(x.text.contains("← the property broke here"), "{}", x.text);
    assert_eq!(x.omitted, 0);
}

#[test]
fn long_chains_are_cut_and_say_how_much_was_left_out() {
    let mut kinds = Vec::new();
    for k in 0..40u64 {
        kinds.push((0, TraceKind::Note, Some("step")));
        kinds.push((
            0,
            TraceKind::Send {
                to: NodeId(1),
                msg_id: k,
            },
            Some("Ping"),
        ));
        kinds.push((
            1,
            TraceKind::Deliver {
                from: NodeId(0),
                msg_id: k,
            },
            None,
        ));
        kinds.push((1, TraceKind::Crash { lost_writes: 0 }, None));
        kinds.push((1, TraceKind::Restart, None));
    }
    let events = trace(&kinds);
    let last = events.len() as u64 - 1;
    let x = explain(
        &events,
        &names(),
        &violation(Some(last), &["b", "a"], Vec::new()),
    );
    let steps = x
        .text
        .lines()
        .filter(|l| l.trim_start().starts_with(char::is_numeric));
    assert_eq!(steps.count(), MAX_STEPS);
    assert!(x.omitted > 0);
    assert!(
        x.text.contains(&format!("{} more events", x.omitted)),
        "{}",
        x.text
    );
}

#[test]
fn ops_missing_from_the_trace_do_not_stop_the_explanation() {
    let events = two_votes();
    let ops = vec![OpRef {
        op: 40,
        client: 7,
        seq: 3,
    }];
    let x = explain(&events, &names(), &violation(None, &["a"], ops));
    assert!(x.text.starts_with("safety was violated at"), "{}", x.text);
    assert!(x.text.contains("op 40 (client c7)"), "{}", x.text);
    assert!(
        explain(&[], &names(), &violation(None, &[], Vec::new()))
            .chain
            .is_empty()
    );
}
