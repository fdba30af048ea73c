//! Built-in protocols, runnable from scenario files by name.
//!
//! Each built-in is a [`Process`] that also implements [`BuiltinProtocol`]: a name, typed
//! parameters (the scenario's `params:`), its properties and its bug variants (`bug:`).

pub mod broadcast;
pub mod echo;
pub mod kv_machine;
pub mod multi_paxos;
pub mod paxos;
pub mod primary_backup;
pub mod quorum_kv;
pub mod raft;
pub mod register;
pub mod two_phase_commit;

use crate::check::{Property, PropertyDigest};
use crate::process::{NodeId, Process};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt::Debug;

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

/// A protocol that scenario files can name.
pub trait BuiltinProtocol: Process + Debug + 'static {
    const NAME: &'static str;
    /// One line for `faultline list`.
    const SUMMARY: &'static str;
    /// `params:` in a scenario; unknown fields must be rejected (`deny_unknown_fields`).
    type Params: DeserializeOwned + Serialize + Default + Clone + Debug;

    /// `params:`, documented for `faultline list`.
    const PARAM_DOCS: &'static [ParamDoc];
    /// The bug variants a scenario can turn on with `bug:`.
    const BUG_DOCS: &'static [BugDoc];
    fn properties() -> Vec<Property<Self>>;
    /// Per invariant, a hash of every field of a node that it reads, so that it is re-checked
    /// only when that changes (see [`crate::check::Checker::with_digests`]). An invariant not
    /// named here is re-checked after every event that ran a handler.
    const CHECK_DIGESTS: &'static [PropertyDigest<Self>] = &[];
    /// The client workloads this protocol serves through [`Process::on_request`].
    fn workloads() -> &'static [crate::workload::Model] {
        &[]
    }
    /// A fresh node; `bug` is one of [`BuiltinProtocol::bugs`] or `None` for the correct protocol.
    fn new(id: NodeId, node_count: u32, params: &Self::Params, bug: Option<&'static str>) -> Self;
}

/// What `faultline list` shows of a protocol.
#[derive(Clone, Debug, Serialize)]
pub struct ProtocolInfo {
    pub name: &'static str,
    pub summary: &'static str,
    pub params: &'static [ParamDoc],
    pub bugs: &'static [BugDoc],
    pub properties: Vec<PropertyInfo>,
    /// Client workload models it serves.
    pub workloads: &'static [crate::workload::Model],
}

#[derive(Clone, Debug, Serialize)]
pub struct PropertyInfo {
    pub name: &'static str,
    pub description: &'static str,
    pub when: crate::check::CheckWhen,
}

/// The parameters of any built-in protocol.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum ProtocolParams {
    Echo(<echo::Echo as BuiltinProtocol>::Params),
    Broadcast(<broadcast::Broadcast as BuiltinProtocol>::Params),
    Register(<register::Register as BuiltinProtocol>::Params),
    TwoPhaseCommit(<two_phase_commit::TwoPhaseCommit as BuiltinProtocol>::Params),
    QuorumKv(<quorum_kv::QuorumKv as BuiltinProtocol>::Params),
    Paxos(<paxos::Paxos as BuiltinProtocol>::Params),
    PrimaryBackup(<primary_backup::PrimaryBackup as BuiltinProtocol>::Params),
    Raft(<raft::Raft as BuiltinProtocol>::Params),
    MultiPaxos(<multi_paxos::MultiPaxos as BuiltinProtocol>::Params),
}

/// Names of all built-in protocols.
/// In the order of the course in docs/protocols/README.md.
pub const NAMES: &[&str] = &[
    echo::Echo::NAME,
    broadcast::Broadcast::NAME,
    register::Register::NAME,
    primary_backup::PrimaryBackup::NAME,
    two_phase_commit::TwoPhaseCommit::NAME,
    paxos::Paxos::NAME,
    multi_paxos::MultiPaxos::NAME,
    raft::Raft::NAME,
    quorum_kv::QuorumKv::NAME,
];

pub fn info_of<P: BuiltinProtocol>() -> ProtocolInfo {
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
            })
            .collect(),
        workloads: P::workloads(),
    }
}

/// Every built-in protocol's documentation.
pub fn all() -> Vec<ProtocolInfo> {
    vec![
        info_of::<echo::Echo>(),
        info_of::<broadcast::Broadcast>(),
        info_of::<register::Register>(),
        info_of::<primary_backup::PrimaryBackup>(),
        info_of::<two_phase_commit::TwoPhaseCommit>(),
        info_of::<paxos::Paxos>(),
        info_of::<multi_paxos::MultiPaxos>(),
        info_of::<raft::Raft>(),
        info_of::<quorum_kv::QuorumKv>(),
    ]
}

/// The documentation of one protocol by name.
pub fn find(name: &str) -> Option<ProtocolInfo> {
    all().into_iter().find(|p| p.name == name)
}

/// Deserializes `params:` for the protocol named `protocol` (already known to exist).
pub fn deserialize_params<'de, D: serde::Deserializer<'de>>(
    protocol: &str,
    d: D,
) -> Result<ProtocolParams, D::Error> {
    use serde::Deserialize;
    match protocol {
        "echo" => Deserialize::deserialize(d).map(ProtocolParams::Echo),
        "broadcast" => Deserialize::deserialize(d).map(ProtocolParams::Broadcast),
        "register" => Deserialize::deserialize(d).map(ProtocolParams::Register),
        "two-phase-commit" => Deserialize::deserialize(d).map(ProtocolParams::TwoPhaseCommit),
        "quorum-kv" => Deserialize::deserialize(d).map(ProtocolParams::QuorumKv),
        "paxos" => Deserialize::deserialize(d).map(ProtocolParams::Paxos),
        "primary-backup" => Deserialize::deserialize(d).map(ProtocolParams::PrimaryBackup),
        "raft" => Deserialize::deserialize(d).map(ProtocolParams::Raft),
        "multi-paxos" => Deserialize::deserialize(d).map(ProtocolParams::MultiPaxos),
        other => Err(serde::de::Error::custom(format!(
            "unknown protocol `{other}`"
        ))),
    }
}

/// Default parameters of the protocol named `protocol`.
pub fn default_params(protocol: &str) -> Option<ProtocolParams> {
    match protocol {
        "echo" => Some(ProtocolParams::Echo(Default::default())),
        "broadcast" => Some(ProtocolParams::Broadcast(Default::default())),
        "register" => Some(ProtocolParams::Register(Default::default())),
        "two-phase-commit" => Some(ProtocolParams::TwoPhaseCommit(Default::default())),
        "quorum-kv" => Some(ProtocolParams::QuorumKv(Default::default())),
        "paxos" => Some(ProtocolParams::Paxos(Default::default())),
        "primary-backup" => Some(ProtocolParams::PrimaryBackup(Default::default())),
        "raft" => Some(ProtocolParams::Raft(Default::default())),
        "multi-paxos" => Some(ProtocolParams::MultiPaxos(Default::default())),
        _ => None,
    }
}
