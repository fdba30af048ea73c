//! The [`Protocol`] trait: what makes a [`Process`] runnable from scenario files.
//!
//! A protocol declares its name, typed parameters (a scenario's `params:`), its bug variants
//! (`bug:`), its properties and the client workloads it serves, and builds a node. Adding it to
//! a [`crate::Registry`] with [`crate::Registry::with`] is then all it takes for scenario files
//! to name it and for every subcommand of [`crate::cli::main`] to run it. The built-in
//! protocols in [`crate::protocols`] go through exactly this trait.
//!
//! ```
//! use faultline::check::{Property, Violation};
//! use faultline::protocol::{BugDoc, ParamDoc};
//! use faultline::{Ctx, NodeId, Process, Protocol, Registry, TimerId};
//! use serde::{Deserialize, Serialize};
//!
//! /// Every node counts the messages it got; node 0 greets everyone once.
//! #[derive(Clone, Debug, Hash)]
//! struct Hello {
//!     received: u64,
//!     greetings: u64,
//! }
//!
//! #[derive(Clone, Debug, Default, Deserialize, Serialize)]
//! #[serde(deny_unknown_fields, default)]
//! struct Params {
//!     greetings: u64,
//! }
//!
//! impl Process for Hello {
//!     type Message = ();
//!     type Timer = ();
//!     fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
//!         if ctx.id() == NodeId(0) {
//!             for to in 1..ctx.node_count() {
//!                 for _ in 0..self.greetings {
//!                     ctx.send(NodeId(to), ());
//!                 }
//!             }
//!         }
//!     }
//!     fn on_message(&mut self, _ctx: &mut Ctx<'_, Self>, _from: NodeId, _msg: ()) {
//!         self.received += 1;
//!     }
//!     fn on_timer(&mut self, _ctx: &mut Ctx<'_, Self>, _timer: TimerId, _tag: ()) {}
//! }
//!
//! impl Protocol for Hello {
//!     const NAME: &'static str = "hello";
//!     const SUMMARY: &'static str = "node n1 greets every other node";
//!     type Params = Params;
//!     const PARAM_DOCS: &'static [ParamDoc] =
//!         &[ParamDoc { name: "greetings", default: "0", meaning: "messages to each node" }];
//!     const BUG_DOCS: &'static [BugDoc] = &[];
//!     fn properties() -> Vec<Property<Self>> {
//!         vec![Property::always("bounded", "no node got more greetings than were sent", |sim| {
//!             let too_many = sim.states().iter().flatten().any(|s| s.received > 100);
//!             if too_many { Err(Violation::new("too many", vec![])) } else { Ok(()) }
//!         })]
//!     }
//!     fn new(_id: NodeId, _node_count: u32, params: &Params, _bug: Option<&'static str>) -> Self {
//!         Hello { received: 0, greetings: params.greetings }
//!     }
//! }
//!
//! let registry = Registry::builtin().with::<Hello>();
//! let scenario = registry
//!     .parse("name: hi\nprotocol: hello\nparams: { greetings: 3 }\nnodes: 4\nduration: 1s\n", "hi.yaml")?;
//! let report = faultline::scenario::run(&scenario, Default::default())?;
//! assert!(report.expectation_met);
//! assert_eq!(report.stats.delivered, 9);
//!
//! // Parameters are checked against the protocol's own type, with the file's location.
//! let error = registry
//!     .parse("name: hi\nprotocol: hello\nparams: { greeting: 3 }\nnodes: 4\n", "hi.yaml")
//!     .unwrap_err();
//! assert!(error.to_string().starts_with("hi.yaml:3:"), "{error}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::check::{CheckWhen, Property, PropertyDigest};
use crate::process::{NodeId, Process};
use crate::services::Service;
use crate::summary::Summary;
use crate::workload::{Isolation, Model};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt::{self, Debug};
use std::hash::Hash;

/// One documented parameter of a protocol.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct ParamDoc {
    pub name: &'static str,
    pub default: &'static str,
    pub meaning: &'static str,
}

/// One bug variant of a protocol.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct BugDoc {
    pub name: &'static str,
    /// What the bug is, and which fault exposes it.
    pub description: &'static str,
    /// The property a scenario with this bug is expected to violate.
    pub violates: &'static str,
}

/// A protocol that scenario files can name once it is in a [`crate::Registry`].
///
/// The node type itself implements it, beside [`Process`]. `Debug` is how a node's state is
/// shown (`--states` traces, the HTML viewer), so keep it to the protocol's state. `Clone` and
/// `Hash` (on the node, and `Clone` on its timers' tags) let `faultline explore` copy a
/// state and recognise one it has seen: derive them. `Send + Sync` (on the node, its messages
/// and its timers' tags, as plain data always is) let it explore on several threads.
pub trait Protocol:
    Process<Timer: Clone + Send + Sync, Message: Send + Sync>
    + Clone
    + Hash
    + Debug
    + Send
    + Sync
    + 'static
{
    /// The name scenario files use in `protocol:`; unique within a registry.
    const NAME: &'static str;
    /// One line for `list`.
    const SUMMARY: &'static str;
    /// `params:` in a scenario. Unknown fields should be rejected
    /// (`#[serde(deny_unknown_fields)]`) and missing ones defaulted (`#[serde(default)]`), so a
    /// typo in a scenario is an error at its line rather than a silently ignored setting.
    type Params: DeserializeOwned + Serialize + Default + Clone + Debug + Send + Sync + 'static;

    /// `params:`, documented for `list`.
    const PARAM_DOCS: &'static [ParamDoc];
    /// The bug variants a scenario can turn on with `bug:`.
    const BUG_DOCS: &'static [BugDoc];
    /// The properties a scenario checks (all of them unless it lists some in `checks:`).
    fn properties() -> Vec<Property<Self>>;
    /// Per invariant or monitor, a hash of every field of a node that it reads, so that it is
    /// re-checked (a monitor: handed the event) only when that changes (see
    /// [`crate::check::Checker::with_digests`]). An invariant or monitor not named here is
    /// re-checked (called) after every event that ran a handler.
    const CHECK_DIGESTS: &'static [PropertyDigest<Self>] = &[];
    /// The client workloads this protocol serves through [`Process::on_request`].
    fn workloads() -> &'static [Model] {
        &[]
    }
    /// The provided services its nodes call with [`crate::Ctx::call`] (see
    /// [`crate::services`]); every run of the protocol provides them.
    const SERVICES: &'static [Service] = &[];
    /// The isolation level this protocol promises its transactions (list-append and
    /// rw-register workloads): their history is checked at it unless the scenario's workload
    /// names a level. `None`: serializable.
    const ISOLATION: Option<Isolation> = None;
    /// Rejects parameters that make no sense, or none on `node_count` nodes (a quorum larger
    /// than the cluster, a heartbeat slower than the timeout it must beat). A scenario whose
    /// `params:` fail this is bad input, reported at its `params:`; nothing is clamped.
    fn check_params(params: &Self::Params, node_count: u32) -> Result<(), String> {
        let _ = (params, node_count);
        Ok(())
    }
    /// A fresh node; `bug` is the name of one of [`Protocol::BUG_DOCS`], or `None` for the
    /// correct protocol. Scenario files can only name bugs listed there.
    fn new(id: NodeId, node_count: u32, params: &Self::Params, bug: Option<&'static str>) -> Self;
    /// This node's state in a few words, for the strip under its lane in the HTML viewer:
    /// role, a few fields, the last entries of its log (see [`Summary`]). Called after every
    /// handler while a page is recorded, and never otherwise. By default
    /// ([`Summary::digest`]): a 4-digit digest of the node's `Hash`, so the strip shows only
    /// where the state changed.
    fn summary(&self) -> Summary {
        Summary::digest(self)
    }
}

/// `Err` naming parameter `name` unless `low <= value <= high` (a NaN is never in range): the
/// building block of [`Protocol::check_params`], worded as the scenario author reads it.
///
/// ```
/// use faultline::SimDuration;
/// use faultline::protocol::check_range;
/// let ms = SimDuration::from_millis;
/// assert!(check_range("retry_interval", ms(50), ms(1), ms(3_600_000)).is_ok());
/// let e = check_range("retry_interval", ms(0), ms(1), ms(3_600_000)).unwrap_err();
/// assert_eq!(e, "`retry_interval` is 0ns; it must be from 1ms to 3600s");
/// assert!(check_range("no_probability", f64::NAN, 0.0, 1.0).is_err());
/// ```
pub fn check_range<T: PartialOrd + fmt::Display>(
    name: &str,
    value: T,
    low: T,
    high: T,
) -> Result<(), String> {
    if value >= low && value <= high {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is {value}; it must be from {low} to {high}"
        ))
    }
}

/// `Err` naming parameter `name` unless `value >= low`; see [`check_range`].
pub fn check_at_least<T: PartialOrd + fmt::Display>(
    name: &str,
    value: T,
    low: T,
) -> Result<(), String> {
    if value >= low {
        Ok(())
    } else {
        Err(format!("`{name}` is {value}; it must be at least {low}"))
    }
}

/// `Err` naming parameter `name` unless `value <= high`; see [`check_range`].
pub fn check_at_most<T: PartialOrd + fmt::Display>(
    name: &str,
    value: T,
    high: T,
) -> Result<(), String> {
    if value <= high {
        Ok(())
    } else {
        Err(format!("`{name}` is {value}; it must be at most {high}"))
    }
}

/// `Err` unless a heartbeat comes more often than the shortest election timeout it must beat:
/// otherwise followers time out between two heartbeats of a healthy leader.
pub fn check_below_timeout(
    heartbeat_interval: crate::SimDuration,
    election_timeout_low: crate::SimDuration,
) -> Result<(), String> {
    if heartbeat_interval < election_timeout_low {
        Ok(())
    } else {
        Err(format!(
            "`heartbeat_interval` is {heartbeat_interval}, not below the shortest election \
             timeout {election_timeout_low}: followers would start elections between two \
             heartbeats of a healthy leader"
        ))
    }
}

/// What `list` shows of a protocol.
#[derive(Clone, Debug, Serialize)]
pub struct ProtocolInfo {
    pub name: &'static str,
    pub summary: &'static str,
    pub params: &'static [ParamDoc],
    pub bugs: &'static [BugDoc],
    pub properties: Vec<PropertyInfo>,
    /// Client workload models it serves.
    pub workloads: &'static [Model],
    /// The isolation level its transactions promise, if it serves transactions.
    pub isolation: Option<Isolation>,
    /// The provided services its nodes call.
    pub services: &'static [Service],
}

/// What `list` shows of one property.
#[derive(Clone, Debug, Serialize)]
pub struct PropertyInfo {
    pub name: &'static str,
    pub description: &'static str,
    pub when: CheckWhen,
    /// A monitor: it keeps state of its own across the run ([`Property::monitor`]).
    pub monitor: bool,
}

impl ProtocolInfo {
    /// The documentation of protocol `P`.
    pub fn of<P: Protocol>() -> ProtocolInfo {
        ProtocolInfo {
            name: P::NAME,
            summary: P::SUMMARY,
            params: P::PARAM_DOCS,
            bugs: P::BUG_DOCS,
            properties: P::properties()
                .iter()
                .map(|p| PropertyInfo {
                    name: p.name,
                    description: p.description,
                    when: p.when,
                    monitor: p.is_monitor(),
                })
                .collect(),
            workloads: P::workloads(),
            isolation: P::ISOLATION,
            services: P::SERVICES,
        }
    }
}
