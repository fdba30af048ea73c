use super::super::builtin::{load, parse};
use super::super::{RunOptions, Scenario, run};
use super::to_yaml;
use crate::faults::Fault;
use crate::net::Latency;
use crate::process::NodeId;
use crate::time::{SignedDuration, SimDuration, SimTime};

const BASE: &str = "name: t\nprotocol: echo\nnodes: [a, b, c]\nduration: 5s\n";

fn again(s: &Scenario) -> Scenario {
    let text = to_yaml(s);
    parse(&text, "written.yaml").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

#[test]
fn every_fault_kind_round_trips() {
    let faults = "faults:
  - { at: 100ms, partition: [[a], [b, c]] }
  - { at: 200ms, heal: all }
  - { at: 210ms, heal: b }
  - { at: 300ms, crash: a }
  - { at: 400ms, restart: a }
  - { at: 500ms, pause: b }
  - { at: 600ms, resume: b }
  - { at: 700ms, isolate: c }
  - { at: 800ms, cut: { from: a, to: b } }
  - { at: 900ms, clog: { from: b, to: c, for: 250ms } }
  - { at: 1s, clock_skew: { node: c, offset: -20ms, drift: 1.05 } }
  - { at: 1.1s, clock_jump: { node: a, by: 1.5s } }
liveness: { at: 2s, within: 1s, core: majority }
";
    let s = parse(&format!("{BASE}{faults}"), "f.yaml").unwrap();
    let back = again(&s);
    assert_eq!(back.faults, s.faults);
    assert_eq!(back.eventually.len(), s.eventually.len());
    assert!(
        back.faults
            .iter()
            .any(|f| f.fault == Fault::Stabilize { majority: true })
    );
    assert!(matches!(
        back.faults[11].fault,
        Fault::ClockJump {
            node: NodeId(0),
            by: SignedDuration(1_500_000_000)
        }
    ));
    assert_eq!(
        back.faults[9].fault,
        Fault::Clog {
            from: NodeId(1),
            to: NodeId(2),
            until: SimTime::from_millis(1150)
        }
    );
}

/// Every fault a trigger can fire, naming the node it fired at, as `faultline fuzz` writes
/// them into a failure file.
#[test]
fn every_triggered_fault_naming_its_node_round_trips() {
    let actions = [
        "partition: [[$node], [a, b, c]]",
        "heal: $node",
        "heal: all",
        "crash: $node",
        "restart: $node",
        "pause: $node",
        "resume: $node",
        "isolate: $node",
        "cut: { from: $node, to: a }",
        "clock_skew: { node: $node, offset: 5ms, drift: 1.5 }",
        "clock_jump: { node: $node, by: -1s }",
    ];
    let faults: String = actions
        .iter()
        .map(|a| format!("  - {{ on: {{ sent: Ping }}, after: 1ms, {a} }}\n"))
        .collect();
    let s = parse(&format!("{BASE}faults:\n{faults}"), "f.yaml").unwrap();
    assert_eq!(s.triggers.len(), actions.len());
    assert_eq!(again(&s).triggers, s.triggers);
    // Only a triggered fault may name it.
    let timed = format!("{BASE}faults:\n  - {{ at: 1s, heal: $node }}\n");
    let e = parse(&timed, "f.yaml").expect_err("a timed fault naming $node");
    assert!(
        e.to_string().contains("this fault has `at`, not `on`"),
        "{e}"
    );
}

#[test]
fn pct_priorities_round_trip_and_default_to_the_run() {
    let s = parse(
        &format!("{BASE}network: {{ pct: {{ depth: 3 }} }}\n"),
        "p.yaml",
    )
    .unwrap();
    let pct = s.pct.expect("pct settings");
    assert_eq!((pct.depth, pct.span), (3, SimDuration::from_secs(5)));
    assert_eq!(again(&s).pct, s.pct);
    let over = parse(
        &format!("{BASE}network: {{ pct: {{ depth: 2, over: 1s }} }}\n"),
        "p.yaml",
    )
    .unwrap();
    assert_eq!(over.pct.map(|p| p.span), Some(SimDuration::from_secs(1)));
    assert_eq!(again(&over).pct, over.pct);
}

#[test]
fn latencies_and_links_round_trip() {
    let net = "network:
  latency: { mix: [{ weight: 0.99, latency: { normal: { mean: 3ms, std: 1ms } } },
                   { weight: 0.01, latency: { pareto: { scale: 1ms, shape: 1.5 } } }] }
  drop: 0.125
  capacity: 7
  links:
    - { from: a, to: b, latency: { exponential: { mean: 2ms, min: 500us } }, fifo: true }
    - { from: c, to: a, latency: { constant: 3ms }, duplicate: 0.5 }
";
    let s = parse(&format!("{BASE}{net}"), "n.yaml").unwrap();
    let back = again(&s);
    assert_eq!(back.network, s.network);
    assert_eq!(
        back.network.links[&(NodeId(2), NodeId(0))].latency,
        Latency::Constant(SimDuration::from_millis(3))
    );
}

#[test]
fn every_scenario_file_runs_the_same_after_a_round_trip() {
    let mut paths: Vec<_> = std::fs::read_dir("scenarios")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    assert!(paths.len() > 10);
    for path in paths {
        let s = load(&path).unwrap();
        let back = again(&s);
        // A nemesis is written as the faults it draws for the file's seed.
        let plain = s.materialize(s.seed);
        assert_eq!(back.faults, plain.faults, "{}", path.display());
        let a = run(&s, RunOptions::default()).unwrap();
        let b = run(&back, RunOptions::default()).unwrap();
        assert_eq!(
            (a.trace_hash, a.expectation_met, a.outcome),
            (b.trace_hash, b.expectation_met, b.outcome),
            "{}",
            path.display()
        );
    }
}
