//! Engine behaviour through the public builder API: network model, faults, clocks, storage,
//! limits and determinism.

use faultline::engine::{LimitKind, NodeStatus};
use faultline::trace::compare_runs;
use faultline::{
    Ctx, Fault, Latency, Limits, LinkConfig, NetworkConfig, NodeId, Process, Sim, SimBuilder,
    SimDuration, SimError, SimTime, TimedFault, TimerId,
};
use std::sync::atomic::{AtomicU64, Ordering};

const N0: NodeId = NodeId(0);
const N1: NodeId = NodeId(1);

/// Node 0 sends `Data(k)` to node 1 every millisecond; node 1 answers each with `Ack(k)`.
#[derive(Default)]
struct Probe {
    sent: u64,
    received: Vec<u64>,
    acks: Vec<u64>,
    local_times: Vec<SimTime>,
    restarted: bool,
    recovered: Option<Vec<u8>>,
}

#[derive(Clone, Debug, Hash)]
enum Msg {
    Data(u64),
    Ack(u64),
}

const SENDS_MAX: u64 = 1_000;

impl Process for Probe {
    type Message = Msg;
    type Timer = ();

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.restarted = ctx.is_restart();
        self.recovered = ctx.storage().get("mark").map(<[u8]>::to_vec);
        if ctx.id() == N0 {
            ctx.set_timer(SimDuration::from_millis(1), ());
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Data(k) => {
                self.received.push(k);
                ctx.send(from, Msg::Ack(k));
            }
            Msg::Ack(k) => self.acks.push(k),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _timer: TimerId, _tag: ()) {
        self.local_times.push(ctx.now());
        if self.sent < SENDS_MAX {
            self.sent += 1;
            ctx.send(N1, Msg::Data(self.sent));
            ctx.set_timer(SimDuration::from_millis(1), ());
        }
    }
}

fn link(latency: Latency) -> LinkConfig {
    LinkConfig {
        latency,
        ..LinkConfig::default()
    }
}

fn ms(x: u64) -> SimDuration {
    SimDuration::from_millis(x)
}

fn at(ms: u64) -> SimTime {
    SimTime::from_millis(ms)
}

fn probe_sim(seed: u64, default: LinkConfig, faults: Vec<TimedFault>) -> Sim<Probe> {
    SimBuilder::new(seed)
        .nodes(2)
        .network(NetworkConfig {
            default,
            ..NetworkConfig::default()
        })
        .faults(faults)
        .build(|_| Probe::default())
        .expect("build")
}

fn state(sim: &Sim<Probe>, id: NodeId) -> &Probe {
    sim.node(id).state().expect("node is up")
}

fn fault(ms: u64, fault: Fault) -> TimedFault {
    TimedFault { at: at(ms), fault }
}

#[test]
fn jitter_reorders_and_fifo_links_do_not() {
    let jittery = link(Latency::Uniform(ms(1), ms(20)));
    let mut sim = probe_sim(1, jittery.clone(), vec![]);
    sim.run_until(at(2_000)).unwrap();
    let got = &state(&sim, N1).received;
    assert_eq!(got.len() as u64, SENDS_MAX);
    assert!(
        got.windows(2).any(|w| w[0] > w[1]),
        "uniform jitter never reordered anything"
    );

    let mut sim = probe_sim(
        1,
        LinkConfig {
            fifo: true,
            ..jittery
        },
        vec![],
    );
    sim.run_until(at(2_000)).unwrap();
    let got = &state(&sim, N1).received;
    assert_eq!(got.len() as u64, SENDS_MAX);
    assert!(got.windows(2).all(|w| w[0] < w[1]), "a FIFO link reordered");
    sim.assert_conservation();
}

#[test]
fn loss_and_duplication_are_counted_and_conserved() {
    let lossy = LinkConfig {
        drop: 0.2,
        duplicate: 0.1,
        ..link(Latency::Constant(ms(2)))
    };
    let mut sim = probe_sim(3, lossy, vec![]);
    sim.run_until(at(2_000)).unwrap();
    let s = *sim.stats();
    assert!(
        s.dropped.loss > 200 && s.dropped.loss < 600,
        "loss {}",
        s.dropped.loss
    );
    assert!(
        s.duplicated > 80 && s.duplicated < 300,
        "duplicated {}",
        s.duplicated
    );
    assert_eq!(
        s.sent + s.duplicated,
        s.delivered + s.dropped.total() + sim.in_flight()
    );
    let received = state(&sim, N1).received.len() as u64;
    assert!(received > SENDS_MAX * 7 / 10, "received {received}");
}

#[test]
fn partitions_drop_in_both_directions_until_healed() {
    let faults = vec![
        fault(100, Fault::Partition(vec![vec![N0], vec![N1]])),
        fault(300, Fault::Heal(None)),
    ];
    let mut sim = probe_sim(1, link(Latency::Constant(ms(5))), faults);
    sim.run_until(at(2_000)).unwrap();
    let got = &state(&sim, N1).received;
    // Data(k) leaves at k ms and arrives 5 ms later. Data(95..=99) are in flight when the
    // partition begins at 100 ms (faults at an instant apply before deliveries): dropped.
    assert!(
        got.contains(&94) && !got.contains(&95),
        "in-flight messages must drop"
    );
    assert!(!got.contains(&150) && got.contains(&300));
    assert!(sim.stats().dropped.partition >= 200);
    sim.assert_conservation();
}

#[test]
fn one_way_cut_blocks_only_its_direction() {
    let faults = vec![fault(0, Fault::Cut { from: N1, to: N0 })];
    let mut sim = probe_sim(1, link(Latency::Constant(ms(1))), faults);
    sim.run_until(at(500)).unwrap();
    assert!(
        state(&sim, N1).received.len() > 400,
        "n1 → n0 cut must not block n0 → n1"
    );
    assert!(
        state(&sim, N0).acks.is_empty(),
        "acks crossed a one-way cut"
    );
}

#[test]
fn crash_loses_state_and_unsynced_writes_and_restart_recovers_synced_ones() {
    struct Writer;
    impl Process for Writer {
        type Message = ();
        type Timer = u8;
        fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
            if !ctx.is_restart() {
                ctx.set_timer(ms(10), 0);
            }
        }
        fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
        fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _: TimerId, tag: u8) {
            ctx.storage().put("synced", vec![tag]);
            ctx.storage().sync();
            ctx.storage().put("unsynced", vec![tag]);
            ctx.set_timer(ms(10), tag + 1);
        }
    }
    let faults = vec![fault(55, Fault::Crash(N0)), fault(100, Fault::Restart(N0))];
    let mut sim = SimBuilder::new(1)
        .nodes(1)
        .faults(faults)
        .build(|_| Writer)
        .unwrap();
    sim.run_until(at(70)).unwrap();
    assert_eq!(sim.status(N0), NodeStatus::Down);
    assert!(sim.node(N0).state().is_none());
    assert_eq!(sim.storage(N0).get("synced"), Some(&[4u8][..]));
    // The write at 50 ms was not synced: the crash at 55 ms lost it; the one at 40 ms was
    // made durable by the sync at 50 ms.
    assert_eq!(
        sim.storage(N0).get("unsynced"),
        Some(&[3u8][..]),
        "unsynced write survived a crash"
    );
    sim.run_until(at(200)).unwrap();
    assert_eq!(sim.status(N0), NodeStatus::Up);
    assert_eq!(
        sim.stats().timers_fired,
        5,
        "a timer of the crashed epoch fired"
    );
    assert_eq!((sim.stats().crashes, sim.stats().restarts), (1, 1));
}

#[test]
fn messages_to_a_crashed_node_drop_and_a_restart_runs_on_start_again() {
    let faults = vec![fault(100, Fault::Crash(N1)), fault(200, Fault::Restart(N1))];
    let mut sim = probe_sim(1, link(Latency::Constant(ms(1))), faults);
    sim.run_until(at(400)).unwrap();
    assert!(sim.stats().dropped.node_down >= 95);
    let n1 = state(&sim, N1);
    assert!(n1.restarted && n1.received.iter().all(|&k| k >= 199));
    sim.assert_conservation();
}

#[test]
fn a_paused_node_holds_messages_and_timers_until_resumed() {
    let faults = vec![fault(100, Fault::Pause(N0)), fault(600, Fault::Resume(N0))];
    let mut sim = probe_sim(1, link(Latency::Constant(ms(1))), faults);
    sim.run_until(at(599)).unwrap();
    assert_eq!(sim.status(N0), NodeStatus::Paused);
    let sent_while_paused = state(&sim, N0).sent;
    assert!(sent_while_paused <= 100, "a paused node kept sending");
    assert!(sim.in_flight() > 0, "acks to the paused node must wait");
    sim.run_until(at(700)).unwrap();
    let n0 = state(&sim, N0);
    // The held timer fires late, at the resume: there is a 500 ms gap between two ticks.
    assert!(
        n0.local_times
            .windows(2)
            .any(|w| w[1].0 - w[0].0 >= ms(500).0)
    );
    assert!(
        n0.acks.len() as u64 >= sent_while_paused,
        "held acks were not delivered"
    );
    assert_eq!(sim.stats().dropped.total(), 0);
}

#[test]
fn clock_skew_drift_and_jumps_change_what_a_node_reads() {
    use faultline::SignedDuration;
    let faults = vec![
        fault(
            100,
            Fault::ClockSkew {
                node: N0,
                offset: SignedDuration(50_000_000),
                drift: 2.0,
            },
        ),
        fault(
            300,
            Fault::ClockJump {
                node: N0,
                by: SignedDuration(-1_000_000_000),
            },
        ),
    ];
    let mut sim = probe_sim(1, link(Latency::Constant(ms(1))), faults);
    sim.run_until(at(400)).unwrap();
    let times = &state(&sim, N0).local_times;
    // Before the skew the clock is true; after it, it reads ahead and ticks every 0.5 ms of true time.
    assert_eq!(times[0], at(1));
    assert!(
        times
            .iter()
            .any(|t| t.0 > at(200).0 && t.0 < at(300).0 + 50_000_000)
    );
    assert!(
        times.contains(&SimTime(0)) || times.windows(2).any(|w| w[1] < w[0]),
        "the jump back was not seen"
    );
    assert!(
        times.len() > 400,
        "a clock running twice as fast must fire timers twice as often"
    );
}

#[test]
fn link_capacity_drops_beyond_the_bound() {
    let narrow = LinkConfig {
        capacity: Some(3),
        ..link(Latency::Constant(ms(10)))
    };
    let mut sim = probe_sim(1, narrow, vec![]);
    sim.run_until(at(500)).unwrap();
    let s = sim.stats();
    assert!(
        s.dropped.capacity > 300,
        "capacity drops {}",
        s.dropped.capacity
    );
    sim.assert_conservation();
}

#[test]
fn per_link_overrides_apply_to_their_direction_only() {
    let mut network = NetworkConfig {
        default: link(Latency::Constant(ms(1))),
        ..NetworkConfig::default()
    };
    network.links.insert(
        (N0, N1),
        LinkConfig {
            drop: 1.0,
            ..link(Latency::Constant(ms(1)))
        },
    );
    let mut sim = SimBuilder::new(1)
        .nodes(2)
        .network(network)
        .build(|_| Probe::default())
        .unwrap();
    sim.run_until(at(100)).unwrap();
    assert!(state(&sim, N1).received.is_empty());
    assert_eq!(sim.stats().dropped.loss, sim.stats().sent);
}

#[test]
fn limits_stop_runaway_runs_with_clear_errors() {
    let limits = Limits {
        max_events: 50,
        ..Limits::default()
    };
    let mut sim = SimBuilder::new(1)
        .nodes(2)
        .limits(limits)
        .build(|_| Probe::default())
        .unwrap();
    match sim.run_until(at(10_000)) {
        Err(SimError::Limit {
            kind: LimitKind::Events,
            what,
            ..
        }) => assert!(what.contains("50 events")),
        other => panic!("expected the event limit, got {other:?}"),
    }
    let err = SimBuilder::new(1)
        .nodes(5_000_000)
        .build(|_| Probe::default())
        .err()
        .expect("too many nodes");
    assert!(err.to_string().contains("max_nodes"), "{err}");
    let limits = Limits {
        max_time: at(50),
        ..Limits::default()
    };
    let mut sim = SimBuilder::new(1)
        .nodes(2)
        .limits(limits)
        .build(|_| Probe::default())
        .unwrap();
    assert!(matches!(
        sim.run(),
        Err(SimError::Limit {
            kind: LimitKind::Time,
            ..
        })
    ));
}

#[test]
fn cancelled_timers_never_fire() {
    struct Canceller {
        fired: u32,
    }
    impl Process for Canceller {
        type Message = ();
        type Timer = u8;
        fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
            let t = ctx.set_timer(ms(5), 1);
            ctx.set_timer(ms(10), 2);
            assert!(ctx.cancel_timer(t));
            assert!(!ctx.cancel_timer(t), "a timer cancelled twice");
        }
        fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
        fn on_timer(&mut self, _: &mut Ctx<'_, Self>, _: TimerId, tag: u8) {
            assert_eq!(tag, 2);
            self.fired += 1;
        }
    }
    let mut sim = SimBuilder::new(1)
        .nodes(1)
        .build(|_| Canceller { fired: 0 })
        .unwrap();
    sim.run().unwrap();
    assert_eq!(sim.node(N0).state().unwrap().fired, 1);
    assert_eq!(sim.stats().timers_cancelled, 1);
}

fn run_probe(seed: u64, sink: Option<Box<dyn faultline::trace::TraceSink>>) -> u64 {
    let lossy = LinkConfig {
        drop: 0.1,
        duplicate: 0.05,
        ..link(Latency::Uniform(ms(1), ms(9)))
    };
    let mut b = SimBuilder::new(seed).nodes(2).network(NetworkConfig {
        default: lossy,
        ..Default::default()
    });
    if let Some(sink) = sink {
        b = b.trace_sink(sink);
    }
    let mut sim = b.build(|_| Probe::default()).unwrap();
    sim.run_until(at(1_000)).unwrap();
    sim.trace_hash()
}

#[test]
fn same_seed_same_hash_with_or_without_a_sink_and_other_seeds_differ() {
    let a = run_probe(9, None);
    assert_eq!(a, run_probe(9, None));
    assert_eq!(
        a,
        run_probe(9, Some(Box::new(faultline::trace::HashLog::default())))
    );
    assert_ne!(a, run_probe(10, None));
}

static GLOBAL_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A protocol with a determinism bug: it reads global state that survives between runs.
struct Leaky;
impl Process for Leaky {
    type Message = u64;
    type Timer = ();
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.set_timer(ms(1), ());
    }
    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: u64) {}
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _: TimerId, _: ()) {
        let n = GLOBAL_COUNTER.fetch_add(1, Ordering::Relaxed);
        if ctx.id() == N0 && n > 40 {
            ctx.send(N1, n);
        } else {
            ctx.set_timer(ms(1), ());
        }
    }
}

#[test]
fn compare_runs_names_the_first_diverging_event() {
    let verdict = compare_runs(|sink| -> Result<u64, SimError> {
        let mut sim = SimBuilder::new(1)
            .nodes(2)
            .trace_sink(sink)
            .build(|_| Leaky)?;
        sim.run_until(at(100))?;
        Ok(sim.trace_hash())
    })
    .unwrap();
    assert!(!verdict.is_deterministic());
    let d = verdict.divergence.expect("a divergence");
    assert!(d.first.is_some() || d.second.is_some());

    let clean = compare_runs(|sink| -> Result<u64, SimError> {
        let mut sim = SimBuilder::new(1)
            .nodes(2)
            .trace_sink(sink)
            .build(|_| Probe::default())?;
        sim.run_until(at(100))?;
        Ok(sim.trace_hash())
    })
    .unwrap();
    assert!(clean.is_deterministic() && clean.divergence.is_none());
}
