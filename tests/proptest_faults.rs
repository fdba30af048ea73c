//! Property tests: random network parameters and fault schedules never panic the engine,
//! always conserve messages, and replay to the same trace hash.

use faultline::{
    Ctx, Fault, Latency, LinkConfig, NetworkConfig, NodeId, Process, SignedDuration, SimBuilder,
    SimDuration, SimTime, TimedFault, TimerId,
};
use proptest::prelude::*;

const NODES: u32 = 4;
const RUN_MS: u64 = 1_000;

/// Gossips a counter to random peers, answers every message, and keeps a durable tally.
#[derive(Default)]
struct Chatter {
    heard: u64,
}

impl Process for Chatter {
    type Message = u64;
    type Timer = ();

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.heard = ctx.storage().get("heard").map_or(0, |b| b.len() as u64);
        ctx.set_timer(SimDuration::from_millis(3), ());
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: u64) {
        self.heard += 1;
        if msg.is_multiple_of(2) {
            ctx.send(from, msg + 1);
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _: TimerId, _: ()) {
        if let Some(peer) = ctx.random_peer() {
            ctx.send(peer, self.heard * 2);
        }
        if self.heard.is_multiple_of(7) {
            ctx.broadcast(0);
            ctx.storage()
                .put("heard", vec![0; (self.heard % 16) as usize]);
            ctx.storage().sync();
        }
        ctx.set_timer(SimDuration::from_millis(3), ());
    }
}

fn duration_ms(max: u64) -> impl Strategy<Value = SimDuration> {
    (0..=max).prop_map(SimDuration::from_millis)
}

fn latency() -> impl Strategy<Value = Latency> {
    let leaf = prop_oneof![
        duration_ms(20).prop_map(Latency::Constant),
        (duration_ms(10), duration_ms(10)).prop_map(|(a, b)| Latency::Uniform(a.min(b), a.max(b))),
        (duration_ms(20), duration_ms(10)).prop_map(|(mean, std)| Latency::Normal { mean, std }),
        (duration_ms(20), duration_ms(5))
            .prop_map(|(mean, min)| Latency::Exponential { mean, min }),
        (1u64..5, 0.5f64..3.0).prop_map(|(s, shape)| Latency::Pareto {
            scale: SimDuration::from_millis(s),
            shape,
            max: SimDuration::from_secs(1),
        }),
    ];
    leaf.prop_recursive(2, 6, 3, |inner| {
        prop::collection::vec((0.0f64..1.0, inner), 1..3).prop_map(|parts| {
            let mut parts: Vec<_> = parts
                .into_iter()
                .map(|(weight, latency)| faultline::net::MixPart { weight, latency })
                .collect();
            parts[0].weight += 0.01;
            Latency::Mix(parts)
        })
    })
}

fn link() -> impl Strategy<Value = LinkConfig> {
    (
        latency(),
        0.0f64..0.5,
        0.0f64..0.3,
        any::<bool>(),
        prop::option::of(1u32..8),
    )
        .prop_map(|(latency, drop, duplicate, fifo, capacity)| LinkConfig {
            latency,
            drop,
            duplicate,
            fifo,
            capacity,
        })
}

fn network() -> impl Strategy<Value = NetworkConfig> {
    let node = 0..NODES;
    (
        link(),
        prop::collection::vec((node.clone(), node, link()), 0..3),
    )
        .prop_map(|(default, overrides)| {
            let links = overrides
                .into_iter()
                .map(|(a, b, l)| ((NodeId(a), NodeId(b)), l))
                .collect();
            NetworkConfig { default, links }
        })
}

fn fault() -> impl Strategy<Value = Fault> {
    let node = || (0..NODES).prop_map(NodeId);
    prop_oneof![
        prop::sample::subsequence((0..NODES).collect::<Vec<_>>(), 1..NODES as usize)
            .prop_map(|g| Fault::Partition(vec![g.into_iter().map(NodeId).collect()])),
        (node(), node()).prop_map(|(from, to)| Fault::Cut { from, to }),
        node().prop_map(Fault::Isolate),
        prop::option::of(node()).prop_map(Fault::Heal),
        // `until` holds the clog's length here; `schedule` adds the fault's time to it.
        (node(), node(), 1..RUN_MS).prop_map(|(from, to, ms)| Fault::Clog {
            from,
            to,
            until: SimTime::from_millis(ms)
        }),
        node().prop_map(Fault::Crash),
        node().prop_map(Fault::Restart),
        node().prop_map(Fault::Pause),
        node().prop_map(Fault::Resume),
        (node(), -500i64..500, 0.5f64..2.0).prop_map(|(node, off, drift)| Fault::ClockSkew {
            node,
            offset: SignedDuration(off * 1_000_000),
            drift,
        }),
        (node(), -500i64..500).prop_map(|(node, by)| Fault::ClockJump {
            node,
            by: SignedDuration(by * 1_000_000)
        }),
    ]
}

fn schedule() -> impl Strategy<Value = Vec<TimedFault>> {
    prop::collection::vec((0..RUN_MS, fault()), 0..12).prop_map(|faults| {
        faults
            .into_iter()
            .map(|(ms, mut fault)| {
                let at = SimTime::from_millis(ms);
                if let Fault::Clog { until, .. } = &mut fault {
                    *until = at + SimDuration(until.0);
                }
                TimedFault { at, fault }
            })
            .collect()
    })
}

fn run(seed: u64, network: &NetworkConfig, faults: &[TimedFault]) -> u64 {
    let mut sim = SimBuilder::new(seed)
        .nodes(u64::from(NODES))
        .network(network.clone())
        .faults(faults.to_vec())
        .build(|_| Chatter::default())
        .expect("valid simulation");
    sim.run_until(SimTime::from_millis(RUN_MS))
        .expect("within limits");
    sim.assert_conservation();
    let s = sim.stats();
    assert!(s.delivered <= s.sent + s.duplicated);
    sim.trace_hash()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn random_networks_and_faults_conserve_messages_and_replay(
        seed in any::<u64>(),
        network in network(),
        faults in schedule(),
    ) {
        let first = run(seed, &network, &faults);
        prop_assert_eq!(first, run(seed, &network, &faults));
    }
}
