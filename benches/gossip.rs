//! Gossip benchmark: how many nodes fit, and what a node costs the engine.
//!
//! N nodes spread 10 rumours, each started by one of the first 10 nodes, by push gossip: a
//! node that learns a rumour passes it to 3 peers drawn with its own random stream. Latency is
//! uniform 1–5 ms, no loss; the run goes until nothing is in flight. A node's state is one
//! `u16` (the rumours it knows), so what the run holds per node is the engine's own.
//!
//! ```text
//! cargo bench --bench gossip                  # N = 1 000 and 1 000 000, each in a child process
//! cargo bench --bench gossip -- 10000000      # one size
//! cargo bench --bench gossip -- idle 1000000  # nodes that only start: the engine's cost per node
//! ```
//!
//! Each line gives events, wall time, events per second, peak memory (`VmHWM`), peak memory
//! per node, how many nodes learnt every rumour, and the trace hash.

use faultline::{
    Ctx, Latency, Limits, LinkConfig, NetworkConfig, NodeId, Process, SimBuilder, SimDuration,
    SimTime, TimerId,
};
use std::process::Command;
use std::time::Instant;

const SIZES: [u64; 2] = [1_000, 1_000_000];
const RUMOURS: u16 = 10;
const FANOUT: u32 = 3;
/// Long enough for any size here to go quiet.
const RUN_FOR: SimTime = SimTime::from_secs(600);

struct Node {
    known: u16,
    gossip: bool,
}

impl Node {
    fn learn(&mut self, ctx: &mut Ctx<'_, Self>, rumour: u8) {
        let bit = 1 << rumour;
        if self.known & bit != 0 {
            return;
        }
        self.known |= bit;
        for _ in 0..FANOUT {
            if let Some(peer) = ctx.random_peer() {
                ctx.send(peer, rumour);
            }
        }
    }
}

impl Process for Node {
    type Message = u8;
    type Timer = ();

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        let id = ctx.id().0;
        if self.gossip && id < u32::from(RUMOURS) {
            self.learn(ctx, id as u8);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, _from: NodeId, rumour: u8) {
        self.learn(ctx, rumour);
    }

    fn on_timer(&mut self, _ctx: &mut Ctx<'_, Self>, _timer: TimerId, _tag: ()) {}
}

fn peak_memory_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

fn run_one(n: u64, gossip: bool) {
    let network = NetworkConfig {
        default: LinkConfig {
            latency: Latency::Uniform(SimDuration::from_millis(1), SimDuration::from_millis(5)),
            ..LinkConfig::default()
        },
        ..NetworkConfig::default()
    };
    #[allow(clippy::disallowed_methods)] // wall time is what a benchmark measures
    let start = Instant::now();
    let mut sim = SimBuilder::new(1)
        .nodes(n)
        .network(network)
        .limits(Limits {
            max_events: u64::MAX,
            max_nodes: faultline::engine::NODES_MAX,
            max_queue: u64::MAX,
            ..Limits::default()
        })
        .build(move |_| Node { known: 0, gossip })
        .expect("build");
    sim.run_until(RUN_FOR).expect("run");
    let wall = start.elapsed().as_secs_f64();
    let s = sim.stats();
    let everything = (1u16 << RUMOURS) - 1;
    let informed = sim
        .states()
        .iter()
        .flatten()
        .filter(|p| p.known == everything)
        .count();
    let peak = peak_memory_kib();
    println!(
        "{} N={n:>9}  events={:>11}  wall={:>8.2}s  events/s={:>11.0}  peak_mem={} MiB  per_node={:.0} B  informed={informed}  hash={:016x}",
        if gossip { "gossip" } else { "idle  " },
        s.events,
        wall,
        s.events as f64 / wall,
        peak / 1024,
        peak as f64 * 1024.0 / n as f64,
        sim.trace_hash()
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let gossip = args.first().map(String::as_str) != Some("idle");
    let sizes: Vec<u64> = args.iter().filter_map(|a| a.parse().ok()).collect();
    if let [n] = sizes[..] {
        run_one(n, gossip);
        return;
    }
    let exe = std::env::current_exe().expect("own path");
    for n in if sizes.is_empty() {
        SIZES.to_vec()
    } else {
        sizes
    } {
        let mode = if gossip { "gossip" } else { "idle" };
        let status = Command::new(&exe)
            .args([mode, &n.to_string()])
            .status()
            .expect("run child");
        assert!(status.success(), "benchmark for N={n} failed");
    }
}
