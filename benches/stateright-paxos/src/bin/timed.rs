// Times stateright's own Paxos model (the same `examples/paxos.rs` that
// src/main.rs builds) with a wall clock of millisecond precision.
//
// Why: the example's `check-bfs` polls its checker once a second and prints
// whole seconds (`sec=1`) with no states/second, so on small runs its figure
// is mostly its own sleep. This driver builds the very same model
// (`PaxosModelCfg::into_model`, 3 servers, unordered non-duplicating network)
// and runs `spawn_bfs().join()` with an explicit thread count.
//
// USAGE: timed [CLIENT_COUNT=2] [THREADS=1] [bfs|dfs]

#[allow(dead_code, unused_imports)]
mod paxos {
    include!(concat!(env!("OUT_DIR"), "/paxos.rs"));

    // A child module may use the example's private items.
    pub mod timed {
        use stateright::actor::Network;
        use stateright::{Checker, Model};
        use std::time::Instant;

        pub fn run(client_count: usize, threads: usize, dfs: bool) {
            let cfg = super::PaxosModelCfg {
                client_count,
                server_count: 3,
                network: Network::new_unordered_nonduplicating([]),
            };
            let start = Instant::now();
            let builder = cfg.into_model().checker().threads(threads);
            let (unique, total, depth, mut found) = if dfs {
                let c = builder.spawn_dfs().join();
                let d: Vec<_> = c.discoveries().into_keys().collect();
                (c.unique_state_count(), c.state_count(), c.max_depth(), d)
            } else {
                let c = builder.spawn_bfs().join();
                let d: Vec<_> = c.discoveries().into_keys().collect();
                (c.unique_state_count(), c.state_count(), c.max_depth(), d)
            };
            let secs = start.elapsed().as_secs_f64();
            found.sort();
            println!(
                "mode={} clients={client_count} servers=3 threads={threads} \
                 unique={unique} states={total} depth={depth} sec={secs:.3} \
                 unique_per_sec={:.0} states_per_sec={:.0} discoveries={found:?}",
                if dfs { "dfs" } else { "bfs" },
                unique as f64 / secs,
                total as f64 / secs,
            );
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let clients = args.next().map_or(2, |a| a.parse().expect("CLIENT_COUNT"));
    let threads = args.next().map_or(1, |a| a.parse().expect("THREADS"));
    let dfs = match args.next().as_deref() {
        None | Some("bfs") => false,
        Some("dfs") => true,
        Some(other) => panic!("expected bfs or dfs, got {other}"),
    };
    paxos::timed::run(clients, threads, dfs);
}
