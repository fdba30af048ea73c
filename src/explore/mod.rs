//! Exploring a scenario beyond its one seed: seed sweeps in parallel workers, with sharding,
//! and shrinking what they find.

pub mod case;
pub mod coverage;
pub mod fuzz;
pub mod guided;
pub mod merge;
pub mod probe;
pub(crate) mod reduce;
pub mod seeds;
pub mod shrink;
pub mod summary;

pub use case::{Finding, Strategy, draw, fuzz_faults, seed_scenario, strategy_scenario};
pub use fuzz::{Failure, FuzzError, FuzzOptions, FuzzReport, fuzz};
pub use merge::{MergeError, merge};
pub use probe::prepare;
pub use seeds::{SeedRange, SeedSet, Shard};
pub use shrink::{ShrinkError, ShrinkReport, shrink};
