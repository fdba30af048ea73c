//! # faultline
//!
//! A deterministic simulator for distributed systems. One thread runs many simulated nodes
//! over a virtual network whose delays, drops, duplicates, reorderings and partitions all come
//! from one seed, together with crashes, pauses and clock skew. The same seed always gives the
//! same run, bit for bit, and every run has a 64-bit trace hash to prove it.
//!
//! Protocols are plain state machines ([`Process`]) that act through a [`Ctx`]: send, set
//! timers, read their own (possibly skewed) clock, draw seeded random numbers and write to
//! durable storage. There is no async runtime and no real I/O.
//!
//! ## Writing and running a protocol
//!
//! ```
//! use faultline::{Ctx, Fault, NodeId, Process, SimBuilder, SimDuration, SimTime, TimedFault, TimerId};
//!
//! /// Each node pings the next one every 10 ms and counts the pongs it gets back.
//! #[derive(Default)]
//! struct Pinger {
//!     pongs: u64,
//! }
//!
//! #[derive(Clone, Debug, Hash)]
//! enum Msg {
//!     Ping,
//!     Pong,
//! }
//!
//! impl Process for Pinger {
//!     type Message = Msg;
//!     type Timer = ();
//!
//!     fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
//!         ctx.set_timer(SimDuration::from_millis(10), ());
//!     }
//!
//!     fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
//!         match msg {
//!             Msg::Ping => ctx.send(from, Msg::Pong),
//!             Msg::Pong => self.pongs += 1,
//!         }
//!     }
//!
//!     fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _timer: TimerId, _tag: ()) {
//!         let next = NodeId((ctx.id().0 + 1) % ctx.node_count());
//!         ctx.send(next, Msg::Ping);
//!         ctx.set_timer(SimDuration::from_millis(10), ());
//!     }
//! }
//!
//! // Three nodes; n2 crashes at 1 s and never comes back.
//! let crash = TimedFault { at: SimTime::from_secs(1), fault: Fault::Crash(NodeId(1)) };
//! let run = |seed| {
//!     let mut sim = SimBuilder::new(seed).nodes(3).faults(vec![crash.clone()]).build(|_| Pinger::default())?;
//!     sim.run_until(SimTime::from_secs(2))?;
//!     sim.assert_conservation();
//!     Ok::<_, faultline::SimError>(sim)
//! };
//! let sim = run(7)?;
//! // n1 pings n2, which is down after 1 s: n1 got about 100 pongs, not 200.
//! let n1 = sim.node(NodeId(0)).state().unwrap();
//! assert!(n1.pongs > 90 && n1.pongs < 110);
//! assert!(sim.stats().dropped.node_down > 0);
//! // Same seed, same run.
//! assert_eq!(sim.trace_hash(), run(7)?.trace_hash());
//! # Ok::<(), faultline::SimError>(())
//! ```
//!
//! ## Scenario files
//!
//! A protocol that implements [`Protocol`] (a name, typed parameters, bug variants,
//! properties, how to build a node) runs from YAML scenario files once it is in a
//! [`Registry`] (see `docs/scenario-format.md`): [`Registry::load`] validates a file with
//! located errors and [`scenario::run`] runs it, checking the protocol's properties and the
//! scenario's expectation. [`Registry::builtin`] holds the reference [`protocols`], registered
//! exactly as yours is; [`cli::main`] gives any registry the whole `faultline` command line
//! (`docs/your-protocol.md` walks through it).
//!
//! ## Testing
//!
//! [`testing`] sweeps a scenario or a [`SimBuilder`] simulation over many seeds from
//! `cargo test`, with random faults per seed and a determinism check, and reports the first
//! failing seed with its faults (see `docs/testing.md`). With the `proptest` feature,
//! `faultline::proptest` gives strategies for networks and shrinkable fault schedules.
//!
//! ## Randomness
//!
//! All randomness flows from the run's seed through separate ChaCha streams (see [`rng`]), so
//! a run never depends on the machine, the wall clock or hash-map order. Each message, and
//! each client operation, draws from a small generator of its own keyed by its sender and
//! number (its client and number): a fault changes the draws of what it touches and no other.
//!
//! A node draws from its own stream: [`Ctx::random_duration`] for timeouts,
//! [`Ctx::random_bool`] for chances, [`Ctx::random_peer`], and [`Ctx::rng`] for anything else,
//! with the `rand` this crate re-exports (so a protocol needs no `rand` of its own):
//!
//! ```
//! use faultline::rand::RngExt;
//! use faultline::rng::{Stream, stream};
//!
//! // `ctx.rng()` is such a stream; here one made by hand, for node 0 under seed 7.
//! let mut rng = stream(7, Stream::Node(0));
//! let die: u8 = rng.random_range(1..=6);
//! assert!((1..=6).contains(&die));
//! assert_eq!(die, stream(7, Stream::Node(0)).random_range(1..=6));
//! ```

pub mod check;
pub mod checkers;
pub mod cli;
pub mod engine;
pub mod exhaustive;
pub mod explain;
pub mod explore;
pub mod faults;
pub mod grade;
pub mod history;
pub mod ids;
pub mod isolation;
pub mod linearizability;
pub mod net;
pub mod process;
#[cfg(feature = "proptest")]
pub mod proptest;
pub mod protocol;
pub mod protocols;
pub mod registry;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod serde_util;
pub mod services;
pub mod storage;
pub mod summary;
pub mod testing;
pub mod time;
pub mod trace;
pub mod viz;
pub mod workload;

/// The `rand` this crate draws with. [`Ctx::rng`] returns one of its generators, so a protocol
/// calls `rand`'s methods on it through this re-export (`use faultline::rand::RngExt;`) and
/// needs no `rand` dependency of its own, let alone a matching version.
pub use rand;

pub use engine::{Limits, NodeStatus, NodeView, Sim, SimBuilder, SimError, Stats};
pub use faults::{Fault, TimedFault};
pub use net::{Latency, LinkConfig, NetworkConfig, Pct};
pub use process::{Ctx, NodeId, Process, TimerId};
pub use protocol::Protocol;
pub use registry::Registry;
pub use storage::Storage;
pub use summary::Summary;
pub use time::{SignedDuration, SimDuration, SimTime};
