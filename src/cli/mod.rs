//! Subcommands kept apart from `main.rs` so that each file stays small.

pub(crate) mod explain;
pub(crate) mod explore;
pub(crate) mod viz;
