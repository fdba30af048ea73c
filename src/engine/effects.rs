//! A handler run outside the engine: what [`super::Ctx`] acts on when the exhaustive explorer
//! ([`crate::exhaustive`]) drives a node instead of [`super::Sim`].
//!
//! The explorer keeps each node's runtime as plain data (its clock, storage and pending
//! timers) so that a state can be copied and hashed; for one handler call it moves that data
//! in here, lets the protocol act on it, then takes it back with the messages sent. The
//! protocol cannot tell the difference: it is the same code, through the same `Ctx`.

use super::process::Process;
use crate::ids::{NodeId, TimerId};
use crate::rng::SimRng;
use crate::storage::Storage;
use crate::time::{SimDuration, SimTime};
use crate::workload::{Reply, RequestId};
use std::sync::Arc;

/// A timer pending in an explored state.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub(crate) struct ModelTimer<T> {
    pub(crate) id: u32,
    /// When it is due on its node's clock.
    pub(crate) due: SimTime,
    pub(crate) tag: T,
}

/// The node runtime one handler call sees, and what it did.
pub(crate) struct Effects<P: Process> {
    pub(crate) node_count: u32,
    pub(crate) names: Arc<[String]>,
    /// The node's clock.
    pub(crate) now: SimTime,
    pub(crate) restart: bool,
    pub(crate) storage: Option<Arc<Storage>>,
    /// The node's pending timers, in the order they were set.
    pub(crate) timers: Vec<ModelTimer<P::Timer>>,
    /// The id the node's next timer gets.
    pub(crate) timer_next: u32,
    /// What seeds the node's random stream for this call, made on first use.
    pub(crate) rng_key: u64,
    pub(crate) rng: Option<SimRng>,
    pub(crate) sends: Vec<(NodeId, P::Message)>,
    pub(crate) replies: Vec<(RequestId, Reply)>,
    /// Annotations, kept only when a replay asks for them, each with how many messages the
    /// handler had sent before it (so a trace can put them back in order).
    pub(crate) notes: Option<Vec<(u32, String)>>,
}

impl<P: Process> Effects<P> {
    pub(crate) fn new(node_count: u32, names: Arc<[String]>) -> Self {
        Effects {
            node_count,
            names,
            now: SimTime::ZERO,
            restart: false,
            storage: None,
            timers: Vec::new(),
            timer_next: 0,
            rng_key: 0,
            rng: None,
            sends: Vec::new(),
            replies: Vec::new(),
            notes: None,
        }
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn send(&mut self, to: NodeId, msg: P::Message) {
        assert!(to.0 < self.node_count, "send to {to}, not a node");
        self.sends.push((to, msg));
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn set_timer(&mut self, delay: SimDuration, tag: P::Timer) -> TimerId {
        let id = self.timer_next;
        self.timer_next += 1;
        self.timers.push(ModelTimer {
            id,
            due: self.now + delay,
            tag,
        });
        TimerId {
            slot: id,
            generation: 0,
        }
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn cancel_timer(&mut self, timer: TimerId) -> bool {
        match self.timers.iter().position(|t| t.id == timer.slot) {
            Some(at) if timer.generation == 0 => {
                self.timers.remove(at);
                true
            }
            _ => false,
        }
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn storage_mut(&mut self) -> &mut Storage {
        Arc::make_mut(self.storage.get_or_insert_with(Arc::default))
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn reply(&mut self, request: RequestId, reply: Reply) {
        self.replies.push((request, reply));
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn annotate(&mut self, note: impl std::fmt::Display) {
        if let Some(notes) = &mut self.notes {
            notes.push((self.sends.len() as u32, note.to_string()));
        }
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn rng(&mut self) -> &mut SimRng {
        let key = self.rng_key;
        self.rng.get_or_insert_with(|| {
            use rand::SeedableRng;
            SimRng::seed_from_u64(key)
        })
    }
}

impl<P: Process> super::Sim<P> {
    /// Puts node `id` of an explored state into this simulation, so that properties written
    /// against [`super::Sim`] judge the state: its process (`None`: down) and, unless `storage`
    /// is `None` (the node's storage is as loaded before), its storage.
    pub(crate) fn load_node(
        &mut self,
        id: NodeId,
        proc: Option<P>,
        storage: Option<Option<&Storage>>,
    ) {
        use super::NodeStatus;
        self.status[id.index()] = match proc {
            Some(_) => NodeStatus::Up,
            None => NodeStatus::Down,
        };
        self.procs[id.index()] = proc;
        self.rendered.remove(&id);
        if let Some(storage) = storage {
            self.nodes[id.index()].set_storage(storage.cloned());
        }
    }

    /// Sets the time properties see.
    pub(crate) fn set_now(&mut self, now: SimTime) {
        self.core.now = now;
    }
}
