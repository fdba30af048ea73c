//! faultline: a deterministic simulator for distributed systems.

pub mod engine;
pub mod faults;
pub mod net;
pub mod process;
pub mod rng;
pub mod storage;
pub mod time;
pub mod trace;

pub use engine::{Limits, NodeStatus, NodeView, Sim, SimBuilder, SimError, Stats};
pub use faults::{Fault, TimedFault};
pub use net::{Latency, LinkConfig, NetworkConfig};
pub use process::{Ctx, NodeId, Process, TimerId};
pub use storage::Storage;
pub use time::{SignedDuration, SimDuration, SimTime};
pub mod check;
pub mod protocols;
