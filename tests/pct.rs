//! PCT-style delivery priorities: messages sent to a node at about the same time arrive in the
//! order of their links' priorities, the setting replays from a scenario file, and `fuzz
//! --strategy pct` writes failures that replay with the same trace hash.

mod common;

use faultline::{Ctx, NodeId, Pct, Process, SimBuilder, SimDuration, SimError, SimTime, TimerId};
use std::collections::BTreeMap;

/// Every node but n1 sends 20 messages to n1 at the start; n1 records who arrived when.
#[derive(Default)]
struct Race {
    arrivals: Vec<(NodeId, u64)>,
}

impl Process for Race {
    type Message = u32;
    type Timer = ();

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if ctx.id() != NodeId(0) {
            for k in 0..20 {
                ctx.send(NodeId(0), k);
            }
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, _k: u32) {
        self.arrivals.push((from, ctx.now().0));
    }

    fn on_timer(&mut self, _ctx: &mut Ctx<'_, Self>, _t: TimerId, _tag: ()) {}
}

fn race(seed: u64, pct: Option<Pct>) -> Vec<(NodeId, u64)> {
    let mut b = SimBuilder::new(seed).nodes(5);
    if let Some(pct) = pct {
        b = b.pct(pct);
    }
    let mut sim = b.build(|_| Race::default()).expect("valid");
    sim.run_until(SimTime::from_secs(1)).expect("runs");
    let (_, view) = sim.nodes().next().expect("n1");
    view.state().expect("n1 is up").arrivals.clone()
}

/// Each sender's arrivals as `(first, last)`, in the order of the first.
fn spans(arrivals: &[(NodeId, u64)]) -> Vec<(u64, u64)> {
    let mut by: BTreeMap<NodeId, (u64, u64)> = BTreeMap::new();
    for &(from, t) in arrivals {
        let e = by.entry(from).or_insert((t, t));
        *e = (e.0.min(t), e.1.max(t));
    }
    let mut spans: Vec<(u64, u64)> = by.into_values().collect();
    spans.sort_unstable();
    spans
}

#[test]
fn simultaneous_messages_arrive_in_the_order_of_their_senders_priorities() {
    let one = Pct {
        depth: 1,
        span: SimDuration::from_secs(1),
    };
    for seed in 0..5 {
        let arrivals = race(seed, Some(one));
        assert_eq!(arrivals.len(), 80);
        let spans = spans(&arrivals);
        assert!(
            spans.windows(2).all(|w| w[0].1 <= w[1].0),
            "seed {seed}: each link's messages within its own band: {spans:?}"
        );
        // Within the link's latency range, 1-10 ms.
        assert!(
            arrivals
                .iter()
                .all(|&(_, t)| (1_000_000..=10_000_000).contains(&t))
        );
        assert_eq!(arrivals, race(seed, Some(one)), "deterministic");
    }
    // Without priorities the senders' messages interleave.
    let spans = spans(&race(0, None));
    assert!(spans.windows(2).any(|w| w[0].1 > w[1].0), "{spans:?}");
}

#[test]
fn the_builder_refuses_what_the_parser_refuses() {
    for depth in [0, faultline::net::PCT_DEPTH_MAX + 1] {
        let pct = Pct {
            depth,
            span: SimDuration::from_secs(1),
        };
        let err = SimBuilder::new(1)
            .pct(pct)
            .build(|_| Race::default())
            .err()
            .expect("refused");
        assert!(
            matches!(&err, SimError::Invalid(m) if m.contains("out of range 1..=16")),
            "{err:?}"
        );
    }
    let many = faultline::net::PCT_NODES_MAX + 1;
    let err = SimBuilder::new(1)
        .nodes(u64::from(many))
        .pct(Pct {
            depth: 2,
            span: SimDuration::from_secs(1),
        })
        .build(|_| Race::default())
        .err()
        .expect("refused");
    assert!(
        matches!(&err, SimError::Invalid(m) if m.contains("pct orders at most 1024 nodes")),
        "{err:?}"
    );
}

fn run(args: &[&str]) -> (String, Option<i32>) {
    let out = common::faultline(args);
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (text, out.status.code())
}

fn trace_hash(text: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix("trace      hash "))
        .and_then(|l| l.split_whitespace().next())
        .expect("a trace hash line")
        .to_string()
}

#[test]
fn fuzz_with_pct_writes_failures_that_replay_with_their_priorities() {
    let dir = common::fresh_dir("pct", "fuzz");
    let out = dir.join("out");
    let (text, code) = run(&[
        "fuzz",
        "scenarios/paxos-one-short-quorum-bug.yaml",
        "--count",
        "20",
        "--strategy",
        "pct",
        "--out",
        out.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code, Some(1), "{text}");
    let report: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let failure = &report["failures"][0];
    let file = failure["file"].as_str().expect("a failure file");
    let written = std::fs::read_to_string(file).unwrap();
    assert!(written.contains("pct:"), "{written}");
    // The same seed again gives the same trace; the file replays it.
    let seed = failure["seed"].as_u64().unwrap();
    let again = dir.join("again");
    let (_, code) = run(&[
        "fuzz",
        "scenarios/paxos-one-short-quorum-bug.yaml",
        "--seeds",
        &format!("{seed}..{}", seed + 1),
        "--strategy",
        "pct",
        "--out",
        again.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1));
    let (first, _) = run(&["run", file]);
    let copy = again.join("agreement").join(format!("seed-{seed}.yaml"));
    let (second, _) = run(&["run", copy.to_str().unwrap()]);
    assert!(first.contains("FAIL agreement"), "{first}");
    assert_eq!(trace_hash(&first), trace_hash(&second));
    // Without its priorities the same seed runs another way.
    let lines: Vec<&str> = written.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == "  pct:")
        .expect("a pct block");
    let plain: Vec<&str> = [&lines[..at], &lines[at + 3..]].concat();
    let path = dir.join("plain.yaml");
    std::fs::write(&path, plain.join("\n")).unwrap();
    let (other, code) = run(&["run", path.to_str().unwrap()]);
    assert!(code.is_some_and(|c| c < 2), "{other}");
    assert_ne!(trace_hash(&other), trace_hash(&first));
}
