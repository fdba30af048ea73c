//! Builder sweeps of a plain `Process` (registered as no protocol): they draw per seed what
//! `faultline fuzz` draws, a failure explains itself with the network and the faults up to the
//! violation, and a failing run shrinks to the faults that matter.

use faultline::check::{Property, Violation, run_checked};
use faultline::explore;
use faultline::faults::nemesis::{Episodes, PartitionMode, Span, Spread};
use faultline::faults::{Nemesis, RandomFaults, Swarm};
use faultline::protocols::Protocol;
use faultline::protocols::broadcast::{Broadcast, Params};
use faultline::scenario::Scenario;
use faultline::testing::{
    BuilderRun, BuilderShrinkError, BuilderSweep, FailureKind, shrink_builder, sweep_builder,
};
use faultline::{
    Ctx, Fault, Latency, LinkConfig, NetworkConfig, NodeId, NodeStatus, Process, Sim, SimBuilder,
    SimDuration, SimError, SimTime, TimedFault, TimerId,
};

/// Every node greets every other one every 50 ms and counts the greetings it heard.
#[derive(Clone, Debug, Default)]
struct Greeter {
    heard: u64,
}

impl Process for Greeter {
    type Message = ();
    type Timer = ();

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.set_timer(SimDuration::from_millis(50), ());
    }

    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {
        self.heard += 1;
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _: TimerId, _: ()) {
        for peer in ctx.peers() {
            ctx.send(peer, ());
        }
        ctx.set_timer(SimDuration::from_millis(50), ());
    }
}

/// The nodes down once all have started (at 0 ns, nodes not yet started are down too).
fn down(sim: &Sim<Greeter>) -> Vec<NodeId> {
    if sim.now() == SimTime::ZERO {
        return Vec::new();
    }
    sim.node_ids()
        .filter(|&id| sim.status(id) == NodeStatus::Down)
        .collect()
}

/// Fails at the first crash.
fn never_crashed() -> Property<Greeter> {
    Property::always("never_crashed", "no node is ever down", |sim| {
        match down(sim).as_slice() {
            [] => Ok(()),
            nodes => Err(Violation::new("a node is down", nodes.to_vec())),
        }
    })
}

/// Fails when two nodes are down at once.
fn one_down_at_most() -> Property<Greeter> {
    Property::always("one_down_at_most", "at most one node is down", |sim| {
        let nodes = down(sim);
        match nodes.len() {
            0 | 1 => Ok(()),
            _ => Err(Violation::new("two nodes are down at once", nodes)),
        }
    })
}

fn greeters(builder: SimBuilder) -> Result<Sim<Greeter>, SimError> {
    builder.nodes(5).build(|_| Greeter::default())
}

fn nemesis() -> Nemesis {
    let ms = SimDuration::from_millis;
    let span = |low, high| Span {
        low: ms(low),
        high: ms(high),
    };
    Nemesis {
        until: SimTime::from_secs(6),
        partitions: Some((
            Episodes {
                every: span(300, 900),
                last: span(100, 400),
                spread: Spread::Uniform,
            },
            PartitionMode::ALL.to_vec(),
        )),
        crashes: None,
        pauses: None,
        clogs: Some(Episodes {
            every: span(500, 1500),
            last: span(50, 200),
            spread: Spread::Uniform,
        }),
        skew: None,
    }
}

fn swarm() -> Swarm {
    Swarm {
        drop: Some(Span {
            low: 0.0,
            high: 0.1,
        }),
        duplicate: Some(Span {
            low: 0.0,
            high: 0.05,
        }),
        latency_mean: Some(Span {
            low: SimDuration::from_millis(1),
            high: SimDuration::from_millis(20),
        }),
    }
}

#[test]
fn a_builder_sweep_draws_what_a_scenario_sweep_draws_for_a_seed() {
    let random = RandomFaults::all(SimTime::from_secs(6));
    let mut base = Scenario::new::<Broadcast>("same draw", 5);
    base.nemesis = Some(nemesis());
    base.swarm = Some(swarm());
    let sweep = BuilderSweep::new(0..4, SimTime::from_secs(10))
        .random_faults(random.clone())
        .nemesis(nemesis())
        .swarm(swarm());
    let build = |b: SimBuilder| {
        b.nodes(5)
            .build(|id| Broadcast::new(id, 5, &Params::default(), None))
    };
    let mut networks = Vec::new();
    for seed in 0..4 {
        let scenario = explore::draw(&base, seed, Some(&random));
        let sim = sweep.build_for(seed, build).expect("builds");
        assert_eq!(sim.faults(), scenario.faults.as_slice(), "seed {seed}");
        assert_eq!(
            sim.network().default,
            scenario.network.default,
            "seed {seed}"
        );
        networks.push(sim.network().default.clone());
    }
    assert_ne!(networks[0], networks[1], "the swarm draws per seed");
    let summary = sweep
        .run(build, &Broadcast::properties())
        .unwrap_or_else(|failure| panic!("{failure}"));
    assert_eq!(summary.seeds, 4);
}

#[test]
fn fuzz_faults_of_a_builder_sweep_are_those_of_faultline_fuzz() {
    let mut base = Scenario::new::<Broadcast>("fuzzed", 4);
    base.duration = SimDuration::from_secs(8);
    let sweep = BuilderSweep::new(0..3, SimTime::from_secs(8)).fuzz_faults();
    for seed in 0..3 {
        let sim = sweep
            .build_for(seed, |b| b.nodes(4).build(|_| Greeter::default()))
            .expect("builds");
        let fuzzed = explore::seed_scenario(&base, seed);
        assert!(!fuzzed.faults.is_empty());
        assert_eq!(sim.faults(), fuzzed.faults.as_slice(), "seed {seed}");
    }
}

#[test]
fn a_closure_that_ignores_its_builder_is_an_error() {
    let failure = BuilderSweep::new(0..2, SimTime::from_secs(1))
        .fuzz_faults()
        .run(
            |b: SimBuilder| {
                SimBuilder::new(b.seed())
                    .nodes(3)
                    .build(|_| Greeter::default())
            },
            &[never_crashed()],
        )
        .expect_err("the drawn faults would be lost");
    match &failure.kind {
        FailureKind::Error(e) => {
            assert!(e.contains("must build the SimBuilder it is given"), "{e}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_failing_builder_sweep_explains_and_lists_faults_up_to_the_violation() {
    let failure = BuilderSweep::new(0..20, SimTime::from_secs(10))
        .random_faults(RandomFaults::all(SimTime::from_secs(7)))
        .swarm(swarm())
        .run(greeters, &[never_crashed()])
        .expect_err("random faults crash a node");
    assert_eq!(failure.kind, FailureKind::Unmet);
    let violation = &failure.violations[0];
    let explanation = violation.explanation.as_ref().expect("explained");
    assert!(
        explanation.text.contains("never_crashed was violated"),
        "{}",
        explanation.text
    );
    assert!(explanation.text.contains("crash"), "{}", explanation.text);
    let link = failure.network.as_ref().expect("the network drawn");
    assert!(link.drop <= 0.1 && matches!(link.latency, Latency::Exponential { .. }));
    assert_eq!(failure.node_names, vec!["n1", "n2", "n3", "n4", "n5"]);
    let message = failure.to_string();
    assert!(message.contains(&explanation.text.lines().collect::<Vec<_>>().join("\n    ")));
    assert!(
        message.contains(&format!("network: latency {}", link.latency.describe())),
        "{message}"
    );
    let later = failure
        .faults
        .iter()
        .filter(|f| f.at > violation.time)
        .count();
    let listed = message.lines().filter(|l| l.starts_with("  at ")).count();
    assert_eq!(listed, failure.faults.len() - later, "{message}");
    assert!(later > 0, "the faults go on after the first crash");
    assert!(
        message.contains(&format!("({later} later faults left out")),
        "{message}"
    );
}

#[test]
fn the_old_builder_sweep_explains_and_gives_the_network_too() {
    let build = |seed| {
        let crash = TimedFault {
            at: SimTime::from_millis(420),
            fault: Fault::Crash(NodeId(2)),
        };
        SimBuilder::new(seed)
            .nodes(3)
            .faults(vec![crash])
            .build(|_| Greeter::default())
    };
    let failure = sweep_builder(0..3, build, &[never_crashed()], SimTime::from_secs(1))
        .expect_err("the crash breaks the property");
    let text = &failure.violations[0]
        .explanation
        .as_ref()
        .expect("explained")
        .text;
    assert!(text.contains("n3 crashed"), "{text}");
    assert_eq!(failure.network, Some(LinkConfig::default()));
}

fn at(ms: u64, fault: Fault) -> TimedFault {
    TimedFault {
        at: SimTime::from_millis(ms),
        fault,
    }
}

/// Two crashes that overlap among faults that play no part.
fn noisy_schedule() -> Vec<TimedFault> {
    let (n1, n2, n3) = (NodeId(0), NodeId(1), NodeId(2));
    vec![
        at(100, Fault::Isolate(n1)),
        at(300, Fault::Heal(None)),
        at(400, Fault::Pause(n1)),
        at(600, Fault::Resume(n1)),
        at(1_000, Fault::Crash(n2)),
        at(1_200, Fault::Partition(vec![vec![n1], vec![n2, n3]])),
        at(1_500, Fault::Heal(None)),
        at(1_700, Fault::Pause(NodeId(3))),
        at(1_800, Fault::Resume(NodeId(3))),
        at(2_000, Fault::Crash(n3)),
        at(2_500, Fault::Restart(n2)),
        at(2_600, Fault::Restart(n3)),
        at(3_000, Fault::Isolate(NodeId(4))),
        at(3_400, Fault::Heal(None)),
    ]
}

#[test]
fn a_shrink_keeps_the_faults_that_matter_and_a_kinder_network() {
    let run = BuilderRun {
        seed: 7,
        faults: noisy_schedule(),
        network: LinkConfig {
            drop: 0.2,
            duplicate: 0.1,
            ..LinkConfig::default()
        },
    };
    let properties = [one_down_at_most()];
    let end = SimTime::from_secs(4);
    let shrunk = shrink_builder(&run, greeters, &properties, end).expect("shrinks");
    assert_eq!(shrunk.property, "one_down_at_most");
    assert_eq!(
        shrunk.after.faults,
        vec![
            at(1_000, Fault::Crash(NodeId(1))),
            at(2_000, Fault::Crash(NodeId(2)))
        ]
    );
    assert_eq!(
        (shrunk.after.network.drop, shrunk.after.network.duplicate),
        (0.0, 0.0)
    );
    assert!(matches!(shrunk.after.network.latency, Latency::Constant(_)));
    assert!(shrunk.runs > 1 && shrunk.runs <= faultline::explore::shrink::CANDIDATES_MAX);
    // The shrunk run, built by hand, still breaks the same property.
    let network = NetworkConfig {
        default: shrunk.after.network.clone(),
        ..NetworkConfig::default()
    };
    let mut sim = SimBuilder::new(shrunk.after.seed)
        .nodes(5)
        .network(network)
        .faults(shrunk.after.faults.clone())
        .build(|_| Greeter::default())
        .expect("builds");
    let found = run_checked(&mut sim, end, &properties).expect("runs");
    assert_eq!(found[0].property, "one_down_at_most");
}

#[test]
fn a_run_that_passes_has_nothing_to_shrink() {
    let run = BuilderRun {
        seed: 1,
        faults: vec![at(1_000, Fault::Crash(NodeId(1)))],
        network: LinkConfig::default(),
    };
    let err = shrink_builder(&run, greeters, &[one_down_at_most()], SimTime::from_secs(2))
        .expect_err("one crash is allowed");
    assert!(matches!(err, BuilderShrinkError::DoesNotFail { seed: 1 }));
}

#[test]
fn a_sweep_that_shrinks_prints_the_shrunk_run() {
    let failure = BuilderSweep::new(3..4, SimTime::from_secs(4))
        .shrink_failures()
        .run(
            |b: SimBuilder| greeters(b.faults(noisy_schedule())),
            &[one_down_at_most()],
        )
        .expect_err("two crashes overlap");
    let shrunk = failure.shrunk.as_ref().expect("shrunk");
    assert_eq!(shrunk.after.faults.len(), 2);
    assert_eq!(failure.builder_run().expect("a run"), shrunk.before);
    let message = failure.to_string();
    assert!(
        message.contains("still breaks one_down_at_most with 2 of the 14 faults"),
        "{message}"
    );
    assert!(message.contains("  at 2s: crash n3"), "{message}");
}
