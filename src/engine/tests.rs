//! Engine-level tests: one run that exercises every feature of the engine (lossy, duplicating,
//! FIFO and bounded links, every latency kind, timers and cancellation, storage, notes and
//! every kind of fault), checked for conservation, determinism and an unchanged event stream.
//!
//! The event-stream digest is computed here from the events themselves (fields, rendered
//! details), not from the trace hash, so that the trace hash's algorithm may change while the
//! events the engine produces may not: a changed digest means changed engine semantics.

use super::{Limits, SimBuilder};
use crate::faults::{Fault, TimedFault};
use crate::net::{Latency, LinkConfig, MixPart, NetworkConfig};
use crate::process::{Ctx, NodeId, Process, TimerId};
use crate::time::{SignedDuration, SimDuration, SimTime};
use crate::trace::{HashLog, StableHasher, TraceEvent, TraceSink};
use rand::RngExt;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

#[derive(Clone, Debug, Hash)]
enum Msg {
    Ping(u64),
    Pong(u64),
    Gossip(Vec<u8>),
}

#[derive(Debug, Hash)]
enum Tick {
    Main,
    Spare(u32),
}

struct Node {
    ticks: u64,
    pongs: u64,
    spare: Option<TimerId>,
}

impl Process for Node {
    type Message = Msg;
    type Timer = Tick;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if ctx.is_restart() {
            let seen = ctx.storage().get("ticks").map_or(0, |b| b.len() as u64);
            self.ticks = seen;
            ctx.annotate(format_args!("recovered {seen}"));
        }
        let delay = ctx.rng().random_range(1_000_000..5_000_000);
        ctx.set_timer(SimDuration(delay), Tick::Main);
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Ping(x) => ctx.send(from, Msg::Pong(x)),
            Msg::Pong(_) => self.pongs += 1,
            Msg::Gossip(bytes) if bytes.len().is_multiple_of(4) => {
                ctx.storage().put("gossip", bytes);
            }
            Msg::Gossip(_) => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _timer: TimerId, tag: Tick) {
        if let Tick::Spare(n) = tag {
            ctx.annotate(format_args!("spare {n} fired"));
            return;
        }
        self.ticks += 1;
        if let Some(peer) = ctx.random_peer() {
            ctx.send(peer, Msg::Ping(self.ticks));
        }
        if self.ticks.is_multiple_of(3) {
            ctx.broadcast(Msg::Gossip(vec![
                self.ticks as u8;
                (self.ticks % 7) as usize
            ]));
        }
        if let Some(spare) = self.spare.take() {
            ctx.cancel_timer(spare);
        }
        if self.ticks.is_multiple_of(2) {
            let t = ctx.set_timer(SimDuration::from_millis(3), Tick::Spare(self.ticks as u32));
            self.spare = Some(t);
        }
        ctx.storage()
            .put("ticks", vec![0u8; self.ticks as usize % 50]);
        if self.ticks.is_multiple_of(5) {
            ctx.storage().sync();
        }
        if self.ticks.is_multiple_of(10) {
            ctx.annotate(format_args!("tick {} at {}", self.ticks, ctx.now()));
        }
        let delay = ctx.rng().random_range(1_000_000..5_000_000);
        ctx.set_timer(SimDuration(delay), Tick::Main);
    }
}

fn ms(x: u64) -> SimDuration {
    SimDuration::from_millis(x)
}

fn link(latency: Latency, fifo: bool, capacity: Option<u32>) -> LinkConfig {
    LinkConfig {
        latency,
        drop: 0.02,
        duplicate: 0.05,
        fifo,
        capacity,
    }
}

fn network() -> NetworkConfig {
    let n = NodeId;
    let mut net = NetworkConfig {
        default: LinkConfig {
            drop: 0.05,
            duplicate: 0.05,
            ..LinkConfig::default()
        },
        ..NetworkConfig::default()
    };
    let links = [
        ((0, 1), link(Latency::Uniform(ms(1), ms(20)), true, Some(3))),
        ((1, 2), link(Latency::Uniform(ms(1), ms(20)), true, None)),
        ((2, 3), link(Latency::Constant(ms(2)), false, Some(2))),
        ((3, 4), link(normal(), false, None)),
        ((4, 0), link(exponential(), true, None)),
        ((0, 2), link(pareto(), false, None)),
        ((1, 3), link(mix(), false, None)),
    ];
    for ((a, b), l) in links {
        net.links.insert((n(a), n(b)), l);
    }
    net
}

fn normal() -> Latency {
    Latency::Normal {
        mean: ms(4),
        std: ms(3),
    }
}

fn exponential() -> Latency {
    Latency::Exponential {
        mean: ms(3),
        min: ms(1),
    }
}

fn pareto() -> Latency {
    Latency::Pareto {
        scale: ms(1),
        shape: 1.5,
        max: ms(50),
    }
}

fn mix() -> Latency {
    Latency::Mix(vec![
        MixPart {
            weight: 0.9,
            latency: Latency::Constant(ms(1)),
        },
        MixPart {
            weight: 0.1,
            latency: Latency::Uniform(ms(30), ms(60)),
        },
    ])
}

fn faults() -> Vec<TimedFault> {
    let n = NodeId;
    let at = |millis: u64, fault: Fault| TimedFault {
        at: SimTime::from_millis(millis),
        fault,
    };
    vec![
        at(100, Fault::Partition(vec![vec![n(0), n(1)], vec![n(2)]])),
        at(200, Fault::Heal(None)),
        at(
            250,
            Fault::Cut {
                from: n(1),
                to: n(0),
            },
        ),
        at(300, Fault::Isolate(n(3))),
        at(350, Fault::Heal(Some(n(3)))),
        at(
            400,
            Fault::Clog {
                from: n(0),
                to: n(1),
                until: SimTime::from_millis(450),
            },
        ),
        at(500, Fault::Crash(n(2))),
        at(520, Fault::Crash(n(2))),
        at(600, Fault::Restart(n(2))),
        at(650, Fault::Pause(n(3))),
        at(700, Fault::Resume(n(3))),
        at(
            750,
            Fault::ClockSkew {
                node: n(1),
                offset: SignedDuration(-2_000_000),
                drift: 1.25,
            },
        ),
        at(
            800,
            Fault::ClockJump {
                node: n(1),
                by: SignedDuration(7_000_000),
            },
        ),
        at(850, Fault::Pause(n(4))),
        at(870, Fault::Crash(n(4))),
        at(880, Fault::Resume(n(4))),
        at(900, Fault::Restart(n(4))),
        at(950, Fault::Heal(None)),
        at(960, Fault::Pause(n(0))),
        at(990, Fault::Resume(n(0))),
    ]
}

/// Folds every event, its hash-independent fields and its rendered detail into a digest.
#[derive(Default)]
struct Digest {
    hasher: Option<StableHasher>,
    events: u64,
    text: String,
    kinds: BTreeMap<&'static str, u64>,
}

struct DigestSink(Rc<RefCell<Digest>>);

impl TraceSink for DigestSink {
    fn record(&mut self, event: &TraceEvent, _hash: u64, detail: Option<&dyn fmt::Debug>) {
        use fmt::Write;
        let mut d = self.0.borrow_mut();
        let d = &mut *d;
        let h = d.hasher.get_or_insert_with(StableHasher::default);
        event.hash(h);
        d.text.clear();
        if let Some(detail) = detail {
            let _ = write!(d.text, "{detail:?}");
        }
        d.text.hash(h);
        d.events += 1;
        *d.kinds.entry(event.kind.name()).or_default() += 1;
    }
}

fn builder(seed: u64) -> SimBuilder {
    SimBuilder::new(seed)
        .nodes(5)
        .network(network())
        .faults(faults())
        .limits(Limits::default())
}

fn node(_: NodeId) -> Node {
    Node {
        ticks: 0,
        pongs: 0,
        spare: None,
    }
}

/// Runs the scenario; returns (event digest, trace hash, stats debug text).
fn run(seed: u64, with_sink: bool) -> (u64, u64, String) {
    let digest = Rc::new(RefCell::new(Digest::default()));
    let mut b = builder(seed);
    if with_sink {
        b = b.trace_sink(Box::new(DigestSink(digest.clone())));
    }
    let mut sim = b.build(node).expect("build");
    sim.run_until(SimTime::from_millis(1_500)).expect("run");
    sim.assert_conservation();
    let stats = format!("{:?} in_flight={}", sim.stats(), sim.in_flight());
    let d = digest.borrow();
    let value = d.hasher.map_or(0, |h| h.finish());
    assert!(!with_sink || d.events == sim.trace_len());
    (value, sim.trace_hash(), stats)
}

#[test]
fn every_feature_run_is_deterministic_and_conserves_messages() {
    let (d1, h1, s1) = run(7, true);
    let (d2, h2, s2) = run(7, true);
    let (_, h3, s3) = run(7, false);
    assert_eq!((d1, h1, &s1), (d2, h2, &s2));
    assert_eq!(h1, h3, "the trace hash must not depend on the sink");
    assert_eq!(s1, s3);
    let (d4, h4, _) = run(8, true);
    assert_ne!(d1, d4);
    assert_ne!(h1, h4);
}

/// The exact event stream of the scenario: engine changes must not move it.
#[test]
fn every_feature_run_produces_the_pinned_event_stream() {
    let (digest, _, stats) = run(7, true);
    assert_eq!(
        stats,
        "Stats { events: 11149, sent: 8014, delivered: 7122, dropped: DropCounts { loss: 286, partition: 633, node_down: 132, capacity: 148, fault: 0 }, duplicated: 345, timers_set: 3778, timers_fired: 3118, timers_cancelled: 646, faults_applied: 20, crashes: 2, restarts: 2, service_calls: 0, service_answers: 0, service_lost: 0 } in_flight=38"
    );
    assert_eq!(digest, 11327905986608852828);
}

#[test]
fn every_feature_run_covers_every_event_kind() {
    let digest = Rc::new(RefCell::new(Digest::default()));
    let mut sim = builder(7)
        .trace_sink(Box::new(DigestSink(digest.clone())))
        .build(node)
        .expect("build");
    sim.run_until(SimTime::from_millis(1_500)).expect("run");
    let kinds: Vec<&str> = digest.borrow().kinds.keys().copied().collect();
    let all = [
        "clock_jump",
        "clock_skew",
        "clog",
        "crash",
        "deliver",
        "drop",
        "duplicate",
        "heal",
        "hold",
        "note",
        "partition",
        "pause",
        "restart",
        "resume",
        "send",
        "start",
        "timer_fired",
    ];
    assert_eq!(kinds, all);
}

#[test]
fn hash_log_sees_the_running_trace_hash() {
    let log = Rc::new(RefCell::new(HashLog::default()));
    struct Shared(Rc<RefCell<HashLog>>);
    impl TraceSink for Shared {
        fn record(&mut self, event: &TraceEvent, hash: u64, detail: Option<&dyn fmt::Debug>) {
            self.0.borrow_mut().record(event, hash, detail);
        }
    }
    let mut sim = builder(3)
        .trace_sink(Box::new(Shared(log.clone())))
        .build(node)
        .expect("build");
    sim.run_until(SimTime::from_millis(300)).expect("run");
    let log = log.borrow();
    assert_eq!(log.hashes.len() as u64, sim.trace_len());
    let mut sorted = log.hashes.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        log.hashes.len(),
        "every prefix hashes differently"
    );
}
