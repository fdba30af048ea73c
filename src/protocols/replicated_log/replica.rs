//! One broker's replica of one partition: its log (durable), its high watermark, what it
//! knows of the partition's leader and in-sync replicas, and, while it leads, what it knows
//! of its followers.

use crate::process::NodeId;
use crate::storage::ByteReader as Bytes;
use crate::storage::Storage;
use crate::time::SimTime;
use crate::workload::RequestId;
use std::collections::BTreeMap;

/// One message of a log, with the leader epoch it was appended in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Entry {
    pub epoch: u64,
    pub msg: i64,
}

/// The controller's record of a partition, as every node learns it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Part {
    /// Bumped at every change of leader.
    pub leader_epoch: u64,
    /// Bumped at every change of the record.
    pub version: u64,
    /// `None` while no in-sync replica is up to lead.
    pub leader: Option<NodeId>,
    /// The in-sync replicas, in id order, the leader included.
    pub isr: Vec<NodeId>,
}

impl Part {
    /// Partition `key` before any change: every node derives it alike, so no one has to
    /// create it. Its leader is broker `key mod brokers`; every broker is in sync.
    pub fn initial(key: u32, node_count: u32) -> Part {
        let brokers = node_count.saturating_sub(1).max(1);
        Part {
            leader_epoch: 0,
            version: 0,
            leader: Some(NodeId(1 + key % brokers)),
            isr: (1..node_count.max(2)).map(NodeId).collect(),
        }
    }

    pub(super) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend(self.leader_epoch.to_le_bytes());
        out.extend(self.version.to_le_bytes());
        out.extend(self.leader.map_or(u32::MAX, |l| l.0).to_le_bytes());
        for n in &self.isr {
            out.extend(n.0.to_le_bytes());
        }
        out
    }

    pub(super) fn decode(bytes: &[u8]) -> Option<Part> {
        let mut b = Bytes::new(bytes);
        let (leader_epoch, version) = (b.u64()?, b.u64()?);
        let leader = Some(b.u32()?).filter(|&l| l != u32::MAX).map(NodeId);
        let mut isr = Vec::new();
        while !b.is_empty() {
            isr.push(NodeId(b.u32()?));
        }
        Some(Part {
            leader_epoch,
            version,
            leader,
            isr,
        })
    }
}

/// What a leader keeps about its term.
#[derive(Clone, Debug, Hash)]
pub struct Lead {
    /// The leader epoch it leads.
    pub epoch: u64,
    /// Its log's length when it took over: a follower rejoins the in-sync replicas only once
    /// it has all of that, which holds everything acknowledged before.
    pub epoch_start: u64,
    /// Each follower's log end, as its last fetch of this epoch said.
    pub fetched: BTreeMap<NodeId, u64>,
    /// When each follower last fetched from the leader's log end.
    pub caught_up_at: BTreeMap<NodeId, SimTime>,
    /// When each follower last fetched, and the leader's log end then.
    pub last_fetch: BTreeMap<NodeId, (SimTime, u64)>,
    /// A change of the in-sync replicas asked of the controller, not yet answered.
    pub isr_asked: Option<Vec<NodeId>>,
    /// Sends waiting for the in-sync replicas: offset and client.
    pub waiting: Vec<(u64, RequestId)>,
}

/// One broker's replica of one partition.
#[derive(Clone, Debug, Hash)]
pub struct Replica {
    pub log: Vec<Entry>,
    /// Offsets below it are on every in-sync replica: what consumers may read.
    pub hw: u64,
    /// The newest record of the partition this broker has heard of.
    pub part: Part,
    /// Set while this broker leads the partition.
    pub lead: Option<Lead>,
    /// The last message this broker acknowledged as leader: its epoch, its offset and it.
    pub acked: Option<(u64, u64, Entry)>,
}

impl Replica {
    pub fn new(part: Part, log: Vec<Entry>) -> Replica {
        Replica {
            log,
            hw: 0,
            part,
            lead: None,
            acked: None,
        }
    }

    /// The log's length: the offset the next message gets.
    pub fn end(&self) -> u64 {
        self.log.len() as u64
    }

    /// The epoch of the entry before `offset` (0 before the first).
    pub fn epoch_before(&self, offset: u64) -> Option<u64> {
        match offset {
            0 => Some(0),
            o => self.log.get(o as usize - 1).map(|e| e.epoch),
        }
    }

    /// The in-sync replicas a leader must wait for: those the controller recorded and those
    /// it asked to add, until the controller answers.
    pub fn isr_widest(&self) -> Vec<NodeId> {
        let mut isr = self.part.isr.clone();
        if let Some(asked) = self.lead.as_ref().and_then(|l| l.isr_asked.as_ref()) {
            isr.extend(asked.iter().copied());
            isr.sort_unstable();
            isr.dedup();
        }
        isr
    }
}

const LOG_PREFIX: &str = "log/";
const LEN_PREFIX: &str = "len/";

/// Writes `entries` from `offset` on into `key`'s log, durably.
pub(super) fn persist_append(storage: &mut Storage, key: u32, offset: u64, entries: &[Entry]) {
    for (i, entry) in entries.iter().enumerate() {
        let mut bytes = entry.epoch.to_le_bytes().to_vec();
        bytes.extend(entry.msg.to_le_bytes());
        storage.put(&format!("{LOG_PREFIX}{key}/{}", offset + i as u64), bytes);
    }
    let len = offset + entries.len() as u64;
    storage.put(&format!("{LEN_PREFIX}{key}"), len.to_le_bytes());
    storage.sync();
}

/// Cuts `key`'s log from `len` entries to `to`, durably.
pub(super) fn persist_truncate(storage: &mut Storage, key: u32, len: u64, to: u64) {
    for offset in to..len {
        storage.delete(&format!("{LOG_PREFIX}{key}/{offset}"));
    }
    storage.put(&format!("{LEN_PREFIX}{key}"), to.to_le_bytes());
    storage.sync();
}

/// Every log in `storage`, by key.
pub(super) fn recover_logs(storage: &Storage) -> BTreeMap<u32, Vec<Entry>> {
    let mut out = BTreeMap::new();
    for name in storage.keys() {
        let Some(key) = name
            .strip_prefix(LEN_PREFIX)
            .and_then(|k| k.parse::<u32>().ok())
        else {
            continue;
        };
        let len = storage
            .get(name)
            .and_then(|b| Bytes::new(b).u64())
            .unwrap_or(0);
        let mut log = Vec::new();
        for offset in 0..len {
            let Some(bytes) = storage.get(&format!("{LOG_PREFIX}{key}/{offset}")) else {
                break;
            };
            let mut b = Bytes::new(bytes);
            let (Some(epoch), Some(msg)) = (b.u64(), b.u64()) else {
                break;
            };
            log.push(Entry {
                epoch,
                msg: msg as i64,
            });
        }
        out.insert(key, log);
    }
    out
}
