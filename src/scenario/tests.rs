use super::*;
use crate::net::Latency;
use crate::time::SignedDuration;

const FULL: &str = r#"
name: full
description: every field once
protocol: echo
params: { requests: 5, retry_interval: 50ms }
bug: no-retry
nodes: [srv, a, b]
seed: 9
duration: 3s
network:
  latency: { constant: 2ms }
  drop: 0.1
  duplicate: 0.05
  fifo: true
  capacity: 10
  links:
    - { from: a, to: srv, drop: 0.5 }
faults:
  - { at: 1s, partition: [[srv], [a]] }
  - { at: 1.5s, heal: a }
  - { at: 2s, clog: { from: srv, to: b, for: 250ms } }
  - { at: 2s, clock_skew: { node: b, offset: -20ms } }
checks: [all_answered]
expect: { violation: all_answered }
limits: { max_events: 1000, max_time: 1s }
"#;

#[test]
fn a_full_file_becomes_the_spec_it_says() {
    let s = parse(FULL, "full.yaml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (s.name.as_str(), s.protocol.as_str(), s.bug),
        ("full", "echo", Some("no-retry"))
    );
    assert_eq!(s.node_names, vec!["srv", "a", "b"]);
    assert_eq!((s.seed, s.duration), (9, SimDuration::from_secs(3)));
    let d = &s.network.default;
    assert_eq!(d.latency, Latency::Constant(SimDuration::from_millis(2)));
    assert_eq!(
        (d.drop, d.duplicate, d.fifo, d.capacity),
        (0.1, 0.05, true, Some(10))
    );
    let link = &s.network.links[&(NodeId(1), NodeId(0))];
    assert_eq!(link.drop, 0.5);
    assert_eq!(
        (link.latency.clone(), link.fifo, link.capacity),
        (d.latency.clone(), true, Some(10))
    );
    let faults: Vec<&Fault> = s.faults.iter().map(|f| &f.fault).collect();
    assert_eq!(
        faults[0],
        &Fault::Partition(vec![vec![NodeId(0)], vec![NodeId(1)]])
    );
    assert_eq!(faults[1], &Fault::Heal(Some(NodeId(1))));
    assert_eq!(
        faults[2],
        &Fault::Clog {
            from: NodeId(0),
            to: NodeId(2),
            until: SimTime::from_millis(2_250)
        }
    );
    assert_eq!(
        faults[3],
        &Fault::ClockSkew {
            node: NodeId(2),
            offset: SignedDuration(-20_000_000),
            drift: 1.0
        }
    );
    assert_eq!(s.checks, vec!["all_answered"]);
    assert_eq!(s.expect, ExpectSpec::Violation(Some("all_answered".into())));
    assert_eq!(s.limits.max_events, 1000);
    assert_eq!(
        s.limits.max_time,
        SimTime::from_secs(3),
        "max_time is never below the duration"
    );
    match s.params {
        ProtocolParams::Echo(p) => assert_eq!(
            (p.requests, p.retry_interval),
            (5, SimDuration::from_millis(50))
        ),
        other => panic!("wrong params {other:?}"),
    }
}

#[test]
fn defaults_fill_what_a_minimal_file_leaves_out() {
    let s = parse("name: m\nprotocol: broadcast\nnodes: 2\n", "m.yaml").unwrap();
    assert_eq!(s.node_names, vec!["n1", "n2"]);
    assert_eq!((s.seed, s.duration), (0, SimDuration::from_secs(10)));
    assert_eq!(s.network, NetworkConfig::default());
    assert!(s.faults.is_empty() && s.checks.is_empty() && s.bug.is_none());
    assert_eq!(s.expect, ExpectSpec::Pass);
    assert_eq!(s.limits, Limits::default());
}

#[test]
fn errors_carry_file_line_and_column() {
    let text = "name: x\nprotocol: echo\nnodes: 2\nfaults:\n  - { at: 1s, crash: n3 }\n";
    let e = parse(text, "x.yaml").unwrap_err();
    assert_eq!((e.line, e.column), (Some(5), Some(22)));
    assert_eq!(
        e.to_string(),
        "x.yaml:5:22: faults[0].crash: unknown node `n3`; expected `n1` or `n2`"
    );
}

#[test]
fn position_fragments_are_removed_from_messages() {
    assert_eq!(
        strip_positions("bad at line 3 column 7, while x at line 2 column 1"),
        "bad, while x"
    );
    assert_eq!(strip_positions("seen at line noon"), "seen at line noon");
}

#[test]
fn check_every_takes_event_a_count_or_end() {
    let base = "name: c\nprotocol: echo\nnodes: 2\n";
    let every =
        |v: &str| parse(&format!("{base}check_every: {v}\n"), "c.yaml").map(|s| s.check_every);
    assert_eq!(every("event").unwrap(), CheckEvery::Event);
    assert_eq!(every("1").unwrap(), CheckEvery::Event);
    assert_eq!(every("250").unwrap(), CheckEvery::Events(250));
    assert_eq!(every("end").unwrap(), CheckEvery::End);
    let e = every("0").unwrap_err();
    assert_eq!((e.line, e.column), (Some(4), Some(14)));
    assert!(
        every("sometimes")
            .unwrap_err()
            .message
            .contains("not `sometimes`")
    );
    assert_eq!(
        parse(base, "c.yaml").unwrap().check_every,
        CheckEvery::Event
    );
}

#[test]
fn invariants_checked_only_at_the_end_still_catch_the_bug_later() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/echo-duplicate-bug.yaml"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let every_event = parse(&text, path).unwrap();
    let at_end = parse(&format!("{text}\ncheck_every: end\n"), path).unwrap();
    let sparse = parse(&format!("{text}\ncheck_every: 1000\n"), path).unwrap();
    let first = run(&every_event, RunOptions::default()).unwrap();
    let last = run(&at_end, RunOptions::default()).unwrap();
    let some = run(&sparse, RunOptions::default()).unwrap();
    for r in [&first, &last, &some] {
        assert!(r.expectation_met, "{}", r.name);
        assert_eq!(r.violations[0].property, "exactly_once");
    }
    assert!(first.stopped_at < SimTime(every_event.duration.0));
    assert_eq!(
        last.stopped_at,
        SimTime(at_end.duration.0),
        "found only at the end"
    );
    assert!(some.stopped_at >= first.stopped_at);
}
