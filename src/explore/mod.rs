//! Exploring a scenario beyond its one seed: seed sweeps in parallel workers, with sharding.

pub mod case;
pub mod fuzz;
pub mod seeds;

pub use case::{Finding, seed_scenario};
pub use fuzz::{Failure, FuzzError, FuzzOptions, FuzzReport, MergeError, fuzz, merge};
pub use seeds::{SeedRange, Shard};
