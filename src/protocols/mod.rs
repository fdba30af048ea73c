//! The built-in reference protocols, each with its properties and bug variants.
//!
//! Each is a [`Process`](crate::Process) that implements [`Protocol`] exactly as a user's
//! protocol does, and [`Registry::builtin`] registers them: adding a protocol to faultline is
//! one line there.

pub mod broadcast;
pub mod chord;
pub mod echo;
pub mod kv_machine;
pub mod map_reduce;
pub mod multi_paxos;
pub mod paxos;
pub mod primary_backup;
pub mod quorum_kv;
pub mod raft;
pub mod register;
pub mod replicated_log;
pub mod scatter_gather;
pub mod sharded_kv;
pub mod two_phase_commit;

pub use crate::protocol::{BugDoc, ParamDoc, PropertyInfo, Protocol, ProtocolInfo};

use crate::registry::Registry;

impl Registry {
    /// The built-in protocols, in the order of the course in docs/protocols/README.md.
    pub fn builtin() -> Registry {
        Registry::empty()
            .with::<echo::Echo>()
            .with::<broadcast::Broadcast>()
            .with::<map_reduce::MapReduce>()
            .with::<register::Register>()
            .with::<primary_backup::PrimaryBackup>()
            .with::<two_phase_commit::TwoPhaseCommit>()
            .with::<paxos::Paxos>()
            .with::<multi_paxos::MultiPaxos>()
            .with::<raft::Raft>()
            .with::<replicated_log::ReplicatedLog>()
            .with::<quorum_kv::QuorumKv>()
            .with::<sharded_kv::ShardedKv>()
            .with::<scatter_gather::ScatterGather>()
            .with::<chord::Chord>()
    }
}
