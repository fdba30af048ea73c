//! The protocol side of the simulator: the [`Process`] trait and the [`Ctx`] a process acts
//! through, with the ids of nodes and timers.
//!
//! A process is a plain state machine (sans-IO). The engine calls its handlers one at a time; a
//! handler reacts by sending messages, setting timers, drawing random numbers or writing to
//! durable storage through the context. Nothing else is needed: no async runtime, no threads.
//! `Process` and `Ctx` live with the engine that drives them ([`crate::engine`]), the ids in a
//! leaf module every layer can use; this module gathers them for protocols.

pub use crate::engine::{Ctx, Process};
pub use crate::ids::{NodeId, TimerId};
