//! Provided services: key-value stores a protocol's nodes call over the simulated network, so
//! that a protocol can lean on storage it does not have to build (a counter kept in a
//! sequentially consistent store, a lease in a linearizable one).
//!
//! Three stores, one per consistency model, as Maelstrom offers them:
//! - [`Service::LinKv`]: linearizable. Every operation takes effect at one instant between
//!   its call and its reply, in an order that respects real time.
//! - [`Service::SeqKv`]: sequentially consistent. Every caller sees one order of all writes and
//!   never goes back in it, and sees its own writes; but a read may return a value other
//!   nodes overwrote a while ago.
//! - [`Service::LwwKv`]: last write wins, eventually consistent. Three replicas take writes and
//!   pass them on after a delay; a read or compare-and-set reaches one replica at random, so
//!   two compare-and-sets from the same value can both succeed, and one update is lost.
//!
//! A protocol names the services it calls in [`crate::Protocol::SERVICES`]; its nodes call
//! them with [`crate::Ctx::call`] and get each answer in [`crate::Process::on_service_reply`].
//! A call crosses the network both ways, with the latency and loss of the scenario's default
//! link: a call or its answer can be lost, and a node that gets no answer must ask again.
//! Services never crash, pause, or fall on the far side of a partition.
//!
//! ```
//! use faultline::services::{KvOp, KvResult, Service, ServiceReply};
//! use faultline::{Ctx, NodeId, Process, SimBuilder, SimTime, TimerId};
//!
//! /// Node n1 writes 7 under key 1 and reads it back.
//! #[derive(Default)]
//! struct Writer {
//!     read_back: Option<i64>,
//! }
//!
//! impl Process for Writer {
//!     type Message = ();
//!     type Timer = ();
//!     fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
//!         if ctx.id() == NodeId(0) {
//!             ctx.call(Service::LinKv, KvOp::Write { key: 1, value: 7 });
//!         }
//!     }
//!     fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
//!     fn on_timer(&mut self, _: &mut Ctx<'_, Self>, _: TimerId, _: ()) {}
//!     fn on_service_reply(&mut self, ctx: &mut Ctx<'_, Self>, reply: ServiceReply) {
//!         match reply.result {
//!             KvResult::Ok => {
//!                 ctx.call(Service::LinKv, KvOp::Read { key: 1 });
//!             }
//!             KvResult::Read(value) => self.read_back = value,
//!             KvResult::Mismatch(_) => {}
//!         }
//!     }
//! }
//!
//! let mut sim = SimBuilder::new(1)
//!     .nodes(2)
//!     .services(&[Service::LinKv])
//!     .build(|_| Writer::default())?;
//! sim.run_until(SimTime::from_secs(1))?;
//! let n1 = sim.node(NodeId(0)).state().expect("n1 is up");
//! assert_eq!(n1.read_back, Some(7));
//! # Ok::<(), faultline::SimError>(())
//! ```

mod store;

pub(crate) use store::Stores;

use serde::Serialize;
use std::fmt;

/// A provided key-value store; see the [module](self) for what each promises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Service {
    LinKv,
    SeqKv,
    LwwKv,
}

impl Service {
    pub const ALL: [Service; 3] = [Service::LinKv, Service::SeqKv, Service::LwwKv];

    /// The name `list` and the trace use: `lin-kv`, `seq-kv`, `lww-kv`.
    pub fn name(self) -> &'static str {
        match self {
            Service::LinKv => "lin-kv",
            Service::SeqKv => "seq-kv",
            Service::LwwKv => "lww-kv",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An operation on a key-value service. Keys are numbers; a key never written holds nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KvOp {
    /// Answers [`KvResult::Read`] with the key's value, or `None` if it holds none.
    Read { key: u64 },
    /// Sets the key; answers [`KvResult::Ok`].
    Write { key: u64, value: i64 },
    /// Sets the key to `to` if it holds `from` (`None`: if it holds nothing), answering
    /// [`KvResult::Ok`]; otherwise changes nothing and answers [`KvResult::Mismatch`].
    Cas {
        key: u64,
        from: Option<i64>,
        to: i64,
    },
}

impl KvOp {
    /// The key the operation is on.
    pub fn key(&self) -> u64 {
        match *self {
            KvOp::Read { key } | KvOp::Write { key, .. } | KvOp::Cas { key, .. } => key,
        }
    }
}

impl fmt::Display for KvOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            KvOp::Read { key } => write!(f, "read key {key}"),
            KvOp::Write { key, value } => write!(f, "write key {key} = {value}"),
            KvOp::Cas { key, from, to } => {
                write!(f, "cas key {key} from {} to {to}", Shown(from))
            }
        }
    }
}

/// What a service answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KvResult {
    /// A read's answer: the value the service holds for the key, `None` if none.
    Read(Option<i64>),
    /// A write, or a compare-and-set that matched, took effect.
    Ok,
    /// A compare-and-set did not match: the key held this instead (as the service saw it).
    Mismatch(Option<i64>),
}

impl fmt::Display for KvResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            KvResult::Read(value) => write!(f, "{}", Shown(value)),
            KvResult::Ok => f.write_str("ok"),
            KvResult::Mismatch(value) => write!(f, "mismatch, it holds {}", Shown(value)),
        }
    }
}

/// A value as the trace shows it: `nothing` for a key without one.
struct Shown(Option<i64>);

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(v) => write!(f, "{v}"),
            None => f.write_str("nothing"),
        }
    }
}

/// Names one call, to match its answer with it: unique within a run, in call order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallId(pub u64);

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "call {}", self.0)
    }
}

/// A service's answer to a call, as [`crate::Process::on_service_reply`] receives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ServiceReply {
    pub call: CallId,
    pub service: Service,
    /// The operation called, as it was sent.
    pub op: KvOp,
    pub result: KvResult,
}
