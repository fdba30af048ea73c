use super::builtin::parse;
use super::*;
use crate::faults::Fault;
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
    let p = s.params.get::<crate::protocols::echo::Params>();
    let p = p.unwrap_or_else(|| panic!("wrong params {:?}", s.params));
    assert_eq!(
        (p.requests, p.retry_interval),
        (5, SimDuration::from_millis(50))
    );
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

#[test]
fn goals_resolve_their_starting_point_from_the_faults() {
    let base = "name: g\nprotocol: broadcast\nnodes: 3\nduration: 10s\nfaults:\n  - { at: 1s, isolate: n1 }\n  - { at: 4s, heal: all }\n  - { at: 6s, crash: n2 }\n";
    let goals =
        |g: &str| parse(&format!("{base}eventually: {g}\n"), "g.yaml").map(|s| s.eventually);
    let heal = goals("{ condition: all_delivered, within: 2s, after: heal }").unwrap();
    assert_eq!(heal[0].from, SimTime::from_secs(4));
    assert_eq!(heal[0].deadline(), SimTime::from_secs(6));
    assert_eq!(heal[0].after, "the last heal (at 4s)");
    let last = goals("[ { condition: all_delivered, within: 1s, after: last_fault } ]").unwrap();
    assert_eq!(last[0].from, SimTime::from_secs(6));
    let at = goals("{ condition: no_invention, within: 1s, after: 2.5s }").unwrap();
    assert_eq!(at[0].from, SimTime::from_millis(2_500));
    for (bad, why) in [
        (
            "{ condition: all_delivered, within: 5s, after: last_fault }",
            "after the run ends",
        ),
        (
            "{ condition: converged, within: 1s, after: heal }",
            "unknown property `converged`",
        ),
        (
            "{ condition: all_delivered, within: 1s, after: lunch }",
            "not `lunch`",
        ),
        (
            "{ condition: all_delivered, within: 0s, after: heal }",
            "more than 0",
        ),
    ] {
        let e = goals(bad).unwrap_err();
        assert_eq!(e.line, Some(9), "{bad}");
        assert!(e.message.contains(why), "{bad}: {}", e.message);
    }
    let no_heal = parse(
        "name: g\nprotocol: broadcast\nnodes: 3\neventually: { condition: all_delivered, within: 1s, after: heal }\n",
        "g.yaml",
    );
    assert!(
        no_heal
            .unwrap_err()
            .message
            .contains("needs a `heal` fault")
    );
}

#[test]
fn a_goal_that_never_holds_fails_at_its_deadline_and_says_what_is_missing() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/broadcast-partition.yaml"
    );
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains("eventually: { condition: all_delivered, within: 2s, after: heal }"));
    let good = run(&parse(&text, path).unwrap(), RunOptions::default()).unwrap();
    assert!(good.expectation_met);
    assert_eq!(good.goals[0].status, "held");
    assert!(good.goals[0].held_at_ns.unwrap() >= SimTime::from_secs(3).0);
    let buggy_text = format!(
        "{}\nbug: no-retransmit\n",
        text.replace("expect: { outcome: pass }", "")
    );
    let bad = run(&parse(&buggy_text, path).unwrap(), RunOptions::default()).unwrap();
    assert_eq!(bad.outcome, Outcome::Violation);
    assert_eq!(bad.goals[0].status, "failed");
    assert_eq!(
        bad.stopped_at,
        SimTime::from_secs(5),
        "stops at the deadline"
    );
    let v = &bad.violations[0];
    assert_eq!(
        (v.property.as_str(), v.time),
        ("all_delivered", SimTime::from_secs(5))
    );
    assert!(
        v.message
            .contains("still not true 2s after the last heal (at 3s)"),
        "{}",
        v.message
    );
    assert!(v.message.contains("never reached"), "{}", v.message);
}

#[test]
fn nemesis_and_swarm_read_ranges_three_ways_and_default_until() {
    let text = "name: n\nprotocol: broadcast\nnodes: 5\nduration: 10s\n\
        nemesis:\n  crashes: { every: 1s..2s, restart_after: [100ms, 200ms] }\n  \
        skew: { every: 3s, drift: 0.9..1.1 }\n\
        swarm: { drop: [0, 0.3], latency_mean: 5ms }\n";
    let s = parse(text, "n.yaml").unwrap_or_else(|e| panic!("{e}"));
    let n = s.nemesis.as_ref().expect("a nemesis");
    assert_eq!(n.until, SimTime::from_secs(7));
    let crashes = n.crashes.as_ref().expect("crashes");
    assert_eq!(crashes.every.high, SimDuration::from_secs(2));
    assert_eq!(crashes.last.low, SimDuration::from_millis(100));
    let skew = n.skew.as_ref().expect("skew");
    assert_eq!(skew.episodes.last, skew.episodes.every);
    assert_eq!((skew.drift.low, skew.drift.high), (0.9, 1.1));
    let swarm = s.swarm.as_ref().expect("a swarm");
    assert_eq!(swarm.drop.map(|d| d.high), Some(0.3));
    assert_eq!(
        swarm.latency_mean.map(|m| m.low),
        Some(SimDuration::from_millis(5))
    );
    let with_phase = format!("{text}liveness: {{ at: 5s, within: 2s }}\n");
    let s = parse(&with_phase, "n.yaml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        s.nemesis.expect("a nemesis").until,
        SimTime::from_millis(4999)
    );
}

#[test]
fn fuzz_names_the_kinds_and_the_schedule_and_writes_back() {
    use crate::explore::fuzz_faults;
    use crate::faults::FaultKind;
    let text = "name: f\nprotocol: echo\nnodes: 3\nduration: 10s\n\
        fuzz: { faults: [crashes, clocks], schedule: classic }\n";
    let s = parse(text, "f.yaml").unwrap_or_else(|e| panic!("{e}"));
    assert!(s.fuzz.classic);
    assert_eq!(
        s.fuzz.kinds,
        Some(vec![FaultKind::Crashes, FaultKind::Clocks])
    );
    let drawn = fuzz_faults(&s).expect("no faults of its own");
    assert!(!drawn.swarm && drawn.crashes);
    assert!(!(drawn.partitions || drawn.pauses || drawn.clogs || drawn.clocks));
    let back = parse(&to_yaml(&s), "back.yaml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back.fuzz, s.fuzz);
    let plain = parse("name: p\nprotocol: echo\nnodes: 3\n", "p.yaml").expect("plain");
    let swarm = fuzz_faults(&plain).expect("no faults of its own");
    assert!(swarm.swarm && swarm.clocks && swarm.crashes && swarm.clogs);
    assert!(!to_yaml(&plain).contains("fuzz"));
}

#[test]
fn fuzz_faults_end_by_seventy_percent_of_the_run_and_of_the_clients_window() {
    use crate::explore::fuzz_faults;
    let head = "name: w\nprotocol: echo\nnodes: 3\nduration: 10s\n";
    let early = format!("{head}workload: {{ model: unique-ids, clients: 1, until: 4s }}\n");
    let s = parse(&early, "w.yaml").unwrap_or_else(|e| panic!("{e}"));
    let drawn = fuzz_faults(&s).expect("no faults of its own");
    assert_eq!(drawn.until, SimTime::from_millis(2_800));
    let late = format!("{head}workload: {{ model: unique-ids, clients: 1 }}\n");
    let s = parse(&late, "w.yaml").unwrap_or_else(|e| panic!("{e}"));
    let drawn = fuzz_faults(&s).expect("no faults of its own");
    assert_eq!(drawn.until, SimTime::from_secs(7));
}

#[test]
fn fuzz_refuses_a_kind_twice_or_unknown_at_its_line() {
    for (bad, wanted) in [
        ("fuzz: { faults: [crashes, crashes] }\n", "twice"),
        ("fuzz: { faults: [floods] }\n", "floods"),
        ("fuzz: { schedule: storm }\n", "storm"),
    ] {
        let text = format!("name: f\nprotocol: echo\nnodes: 3\n{bad}");
        let e = parse(&text, "f.yaml").expect_err(bad);
        assert_eq!(e.line, Some(4), "{e}");
        assert!(e.message.contains(wanted), "{e}");
    }
}

#[test]
fn explore_budgets_are_read_laid_over_defaults_and_written_back() {
    use crate::exhaustive::Budgets;
    let text = "name: e\nprotocol: paxos\nnodes: 3\nexplore: { timers: 2, crashes: 1 }\n";
    let s = parse(text, "e.yaml").unwrap_or_else(|e| panic!("{e}"));
    let budgets = s.explore.over(Budgets::default());
    assert_eq!((budgets.timers_max, budgets.crashes_max), (2, 1));
    assert_eq!(budgets.drops_max, Budgets::default().drops_max);
    let back = parse(&to_yaml(&s), "back.yaml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back.explore, s.explore);
    let plain = parse("name: p\nprotocol: paxos\nnodes: 3\n", "p.yaml").expect("plain");
    assert!(!to_yaml(&plain).contains("explore"));
}
