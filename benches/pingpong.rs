//! Ping-pong benchmark: N nodes; every node sends a u64 to a random peer each 1 ms of simulated
//! time and answers every ping once; latency uniform 1–5 ms; 10 s simulated.
//!
//! `cargo bench --bench pingpong` runs N = 2, 10, 100, 10 000, each in a child process so that
//! peak memory (VmHWM) is per size. `cargo bench --bench pingpong -- 100` runs one size.
//!
//! `PINGPONG_SECS=1` simulates 1 s instead of 10 s, for profiling under callgrind, e.g.
//! `PINGPONG_SECS=1 valgrind --tool=callgrind target/release/deps/pingpong-<hash> 100`.

use faultline::{
    Ctx, Latency, Limits, LinkConfig, NetworkConfig, NodeId, Process, SimBuilder, SimDuration,
    SimTime, TimerId,
};
use std::process::Command;
use std::time::Instant;

const SIZES: [u64; 4] = [2, 10, 100, 10_000];
/// Simulated seconds unless `PINGPONG_SECS` says otherwise.
const SIMULATED_S: u64 = 10;
const TICK: SimDuration = SimDuration::from_millis(1);

#[derive(Clone, Debug, Hash)]
enum Msg {
    Ping(u64),
    Pong(u64),
}

struct Node {
    counter: u64,
}

impl Process for Node {
    type Message = Msg;
    type Timer = ();

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.set_timer(TICK, ());
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        if let Msg::Ping(x) = msg {
            ctx.send(from, Msg::Pong(x));
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _timer: TimerId, _tag: ()) {
        self.counter += 1;
        if let Some(peer) = ctx.random_peer() {
            ctx.send(peer, Msg::Ping(self.counter));
        }
        ctx.set_timer(TICK, ());
    }
}

fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn simulated_secs() -> u64 {
    std::env::var("PINGPONG_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(SIMULATED_S)
}

fn run_one(n: u64) {
    let secs = simulated_secs();
    let network = NetworkConfig {
        default: LinkConfig {
            latency: Latency::Uniform(SimDuration::from_millis(1), SimDuration::from_millis(5)),
            ..LinkConfig::default()
        },
        ..NetworkConfig::default()
    };
    let mut sim = SimBuilder::new(1)
        .nodes(n)
        .network(network)
        .limits(Limits {
            max_events: u64::MAX,
            max_nodes: 1_000_000,
            ..Limits::default()
        })
        .build(|_| Node { counter: 0 })
        .expect("build");
    #[allow(clippy::disallowed_methods)] // wall time is what a benchmark measures
    let start = Instant::now();
    sim.run_until(SimTime::from_secs(secs)).expect("run");
    let wall = start.elapsed().as_secs_f64();
    sim.assert_conservation();
    let s = sim.stats();
    println!(
        "N={n:>6}  delivered={:>11}  events={:>11}  wall={:>7.3}s  delivered/s={:>12.0}  events/s={:>12.0}  x_real_time={:>8.1}  peak_mem={} KiB  hash={:016x}",
        s.delivered,
        s.events,
        wall,
        s.delivered as f64 / wall,
        s.events as f64 / wall,
        secs as f64 / wall,
        peak_memory_kib().map_or("?".to_string(), |k| k.to_string()),
        sim.trace_hash()
    );
}

fn main() {
    let sizes: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    if let [n] = sizes[..] {
        run_one(n);
        return;
    }
    let exe = std::env::current_exe().expect("own path");
    for n in if sizes.is_empty() {
        SIZES.to_vec()
    } else {
        sizes
    } {
        let status = Command::new(&exe)
            .arg(n.to_string())
            .status()
            .expect("run child");
        assert!(status.success(), "benchmark for N={n} failed");
    }
}
