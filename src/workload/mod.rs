//! Simulated clients: they issue operations to the nodes at a rate, each with a timeout, and
//! record every operation in a history (invoke, then ok, fail or info).
//!
//! Clients live outside the cluster, as Jepsen's do: client `c` starts by talking to node
//! `c mod nodes`, follows redirects, and moves to the next node after a timeout. Requests and
//! replies cross a client link with its own latency; they are lost when the node is down when
//! a request arrives (the client then times out), and wait while the node is paused. Partitions
//! are among the nodes and do not cut clients off.
//!
//! A protocol serves clients by implementing [`crate::Process::on_request`] and answering with
//! [`crate::Ctx::reply`], at once or later (after replication, say), or never.
//!
//! Each client runs one operation at a time (a closed loop): after a completion it waits an
//! exponentially distributed gap, with mean `clients / rate`, before the next one. A timeout
//! gives the op the status info (it may or may not have taken effect) and, as in Jepsen, the
//! client continues as a new process (`process + clients`), so no process ever has two open
//! operations. Everything is drawn from the run's workload stream.

pub(crate) mod clients;
mod consumer;
mod record;
mod txn;

pub(crate) use clients::Clients;
pub use record::{Counts, HistoryLog, Logged, OpTimes};
pub use txn::{Isolation, MICRO_OPS_MAX, MicroOp, TXN_KEYS_MAX, Txn};

use crate::history::Value;
use crate::ids::NodeId;
use crate::net::Latency;
use crate::time::{SimDuration, SimTime};
use std::fmt;

/// Most simulated clients in one run.
pub const CLIENTS_MAX: u32 = 10_000;
/// Most operations per second a workload may ask for.
pub const RATE_PER_S_MAX: f64 = 1e7;
/// Most redirects one operation follows before it fails.
pub const REDIRECTS_MAX: u8 = 8;
/// Micro-ops per transaction when the workload does not say: Jepsen's defaults.
pub const MICRO_OPS_MIN_DEFAULT: u32 = 1;
pub const MICRO_OPS_MAX_DEFAULT: u32 = 4;
/// Keys of a transactional workload when it does not say.
pub const TXN_KEYS_DEFAULT: u32 = 5;

/// The object the clients use, which also names the checker of their history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Model {
    /// One register per key: read, write. Checked for linearizability.
    Register,
    /// Read, write, compare-and-set. Checked for linearizability.
    CasRegister,
    /// Keys holding strings: read, write, append, cas. Checked for linearizability.
    Kv,
    /// A grow-only counter: add, read. Reads checked against the bounds the adds allow.
    Counter,
    /// A set: add, read (everything). Checked like Jepsen's set-full.
    Set,
    /// Unique id generation: generate. Checked for duplicates.
    UniqueIds,
    /// Transactions of reads and appends over lists, one per key, each appended value unique
    /// per key. Checked for isolation.
    ListAppend,
    /// Transactions of reads and writes over registers, one per key, each written value
    /// unique per key. Checked for isolation.
    RwRegister,
    /// One append-only log per key, read by one consumer group (Kafka-like): send, poll,
    /// commit, committed. Checked for lost, reordered, duplicated and skipped messages.
    Log,
    /// Keys of a distributed hash table: write (put) and read (get); every written value is
    /// unique. Checked that reads return only written values; whether a read *finds* what was
    /// written depends on which replicas survive and is judged by the protocol's own properties.
    Dht,
}

impl Model {
    pub const ALL: [Model; 10] = [
        Model::Register,
        Model::CasRegister,
        Model::Kv,
        Model::Counter,
        Model::Set,
        Model::UniqueIds,
        Model::ListAppend,
        Model::RwRegister,
        Model::Log,
        Model::Dht,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Model::Register => "register",
            Model::CasRegister => "cas-register",
            Model::Kv => "kv",
            Model::Counter => "counter",
            Model::Set => "set",
            Model::UniqueIds => "unique-ids",
            Model::ListAppend => "list-append",
            Model::RwRegister => "rw-register",
            Model::Log => "log",
            Model::Dht => "dht",
        }
    }

    /// Whether clients run transactions ([`ClientOp::Txn`]) whose micro-ops are the model's
    /// functions.
    pub fn is_transactional(self) -> bool {
        matches!(self, Model::ListAppend | Model::RwRegister)
    }

    pub fn from_name(name: &str) -> Option<Model> {
        Model::ALL.into_iter().find(|m| m.name() == name)
    }

    /// The functions clients of this model may call; for a transactional model, the
    /// functions of its micro-ops.
    pub fn functions(self) -> &'static [Func] {
        match self {
            Model::Register => &[Func::Read, Func::Write],
            Model::CasRegister => &[Func::Read, Func::Write, Func::Cas],
            Model::Kv => &[Func::Read, Func::Write, Func::Append, Func::Cas],
            Model::Counter | Model::Set => &[Func::Add, Func::Read],
            Model::UniqueIds => &[Func::Generate],
            Model::ListAppend => &[Func::Read, Func::Append],
            Model::RwRegister | Model::Dht => &[Func::Read, Func::Write],
            Model::Log => &[Func::Send, Func::Poll, Func::Commit, Func::Committed],
        }
    }

    /// The name of the check that judges this model's history.
    pub fn check_name(self) -> &'static str {
        match self {
            Model::Register | Model::CasRegister | Model::Kv => "linearizable",
            Model::Counter => "counter_bounds",
            Model::Set => "set_full",
            Model::UniqueIds => "unique_ids",
            Model::ListAppend | Model::RwRegister => "isolation",
            Model::Log => "log_consistent",
            Model::Dht => "reads_written",
        }
    }

    /// What that check demands, in one sentence.
    pub fn check_description(self) -> &'static str {
        match self {
            Model::Register | Model::CasRegister | Model::Kv => {
                "the clients' history is linearizable: every operation seems to take effect at \
                 one instant between its invocation and its completion"
            }
            Model::Counter => {
                "every read lies between the sum of the acknowledged adds completed before it \
                 and the sum of all adds invoked before it returned"
            }
            Model::Set => {
                "every acknowledged add is seen by every read that starts after it completed, \
                 and no read sees an element nobody added"
            }
            Model::UniqueIds => "no two operations are given the same id",
            Model::ListAppend | Model::RwRegister => {
                "the transactions' history shows no anomaly the isolation level forbids \
                 (serializable unless the protocol or the workload names another level)"
            }
            Model::Log => {
                "no acknowledged message is lost, reordered, duplicated or given an offset \
                 another message holds, and the group's committed offset never passes a \
                 message no poll returned nor goes backwards"
            }
            Model::Dht => {
                "every read returns nothing or a value that a write of its key wrote, invoked \
                 before the read returned"
            }
        }
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A function a client calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Func {
    Read,
    Write,
    Cas,
    Append,
    Add,
    Generate,
    /// A transaction (transactional models); its micro-ops are reads and writes or appends.
    Txn,
    /// Appends a message to a key's log (log model); returns its offset.
    Send,
    /// Reads a bounded batch of a key's log from an offset on (log model).
    Poll,
    /// Raises the consumer group's committed offset of a key (log model).
    Commit,
    /// Reads the consumer group's committed offset of a key (log model).
    Committed,
}

impl Func {
    pub const ALL: [Func; 11] = [
        Func::Read,
        Func::Write,
        Func::Cas,
        Func::Append,
        Func::Add,
        Func::Generate,
        Func::Txn,
        Func::Send,
        Func::Poll,
        Func::Commit,
        Func::Committed,
    ];

    /// The name in `mix:` and in histories.
    pub fn name(self) -> &'static str {
        match self {
            Func::Read => "read",
            Func::Write => "write",
            Func::Cas => "cas",
            Func::Append => "append",
            Func::Add => "add",
            Func::Generate => "generate",
            Func::Txn => "txn",
            Func::Send => "send",
            Func::Poll => "poll",
            Func::Commit => "commit",
            Func::Committed => "committed",
        }
    }

    pub fn from_name(name: &str) -> Option<Func> {
        Func::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// An operation a client asks a node to perform. Keys are numbered `0..keys`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClientOp {
    /// Reads a key (register, kv), the counter's value, or the whole set.
    Read {
        key: u32,
    },
    Write {
        key: u32,
        value: i64,
    },
    /// Sets `key` to `to` if it holds `from`; answer [`Reply::Fail`] if it does not.
    Cas {
        key: u32,
        from: i64,
        to: i64,
    },
    /// Appends `value`'s decimal text to the key's string (kv).
    Append {
        key: u32,
        value: i64,
    },
    /// Adds `value` to the counter, or the element `value` to the set.
    Add {
        value: i64,
    },
    /// Asks for an id no other operation gets.
    Generate,
    /// Runs a transaction (list-append, rw-register): all its micro-ops or none. An ok reply
    /// carries [`Txn::completed`].
    Txn(Txn),
    /// Appends `msg` to `key`'s log. An ok reply carries the offset it got
    /// ([`Value::Int`]). Messages are unique per key.
    Send {
        key: u32,
        msg: i64,
    },
    /// Reads `key`'s log from `offset` on: an ok reply carries a bounded batch of
    /// `[offset, msg]` pairs in offset order ([`Value::List`] of two-element lists), the first
    /// at `offset` or later; an empty list when there is nothing there yet.
    Poll {
        key: u32,
        offset: u64,
    },
    /// Sets the consumer group's committed offset of `key` (the next offset it will read) to
    /// `offset`, unless it is already higher: committed offsets never go back.
    Commit {
        key: u32,
        offset: u64,
    },
    /// Reads the consumer group's committed offset of `key`: an ok reply carries it
    /// ([`Value::Int`]), or [`Value::Nil`] when nothing was committed yet.
    Committed {
        key: u32,
    },
}

impl ClientOp {
    pub fn func(&self) -> Func {
        match self {
            ClientOp::Read { .. } => Func::Read,
            ClientOp::Write { .. } => Func::Write,
            ClientOp::Cas { .. } => Func::Cas,
            ClientOp::Append { .. } => Func::Append,
            ClientOp::Add { .. } => Func::Add,
            ClientOp::Generate => Func::Generate,
            ClientOp::Txn(_) => Func::Txn,
            ClientOp::Send { .. } => Func::Send,
            ClientOp::Poll { .. } => Func::Poll,
            ClientOp::Commit { .. } => Func::Commit,
            ClientOp::Committed { .. } => Func::Committed,
        }
    }

    /// The key, for the operations that have one.
    pub fn key(&self) -> Option<u32> {
        match *self {
            ClientOp::Read { key }
            | ClientOp::Write { key, .. }
            | ClientOp::Cas { key, .. }
            | ClientOp::Append { key, .. }
            | ClientOp::Send { key, .. }
            | ClientOp::Poll { key, .. }
            | ClientOp::Commit { key, .. }
            | ClientOp::Committed { key } => Some(key),
            ClientOp::Add { .. } | ClientOp::Generate | ClientOp::Txn(_) => None,
        }
    }

    /// The value given at invocation, as a history records it.
    pub fn input(&self) -> Value {
        match *self {
            ClientOp::Read { .. } | ClientOp::Generate | ClientOp::Committed { .. } => Value::Nil,
            ClientOp::Send { msg, .. } => Value::Int(msg),
            ClientOp::Poll { offset, .. } | ClientOp::Commit { offset, .. } => {
                Value::Int(i64::try_from(offset).unwrap_or(i64::MAX))
            }
            ClientOp::Write { value, .. }
            | ClientOp::Append { value, .. }
            | ClientOp::Add { value } => Value::Int(value),
            ClientOp::Cas { from, to, .. } => Value::List(vec![Value::Int(from), Value::Int(to)]),
            ClientOp::Txn(txn) => txn.input(),
        }
    }

    /// The operation as four words, its kind and then its fields (zero when absent): a
    /// fixed-size form for protocols to store in logs and fold into hashes.
    pub fn to_words(&self) -> [u64; 4] {
        match *self {
            ClientOp::Read { key } => [1, u64::from(key), 0, 0],
            ClientOp::Write { key, value } => [2, u64::from(key), value as u64, 0],
            ClientOp::Cas { key, from, to } => [3, u64::from(key), from as u64, to as u64],
            ClientOp::Append { key, value } => [4, u64::from(key), value as u64, 0],
            ClientOp::Add { value } => [5, 0, value as u64, 0],
            ClientOp::Generate => [6, 0, 0, 0],
            ClientOp::Txn(txn) => {
                let [head, low, high] = txn.to_words();
                [7, head, low, high]
            }
            ClientOp::Send { key, msg } => [8, u64::from(key), msg as u64, 0],
            ClientOp::Poll { key, offset } => [9, u64::from(key), offset, 0],
            ClientOp::Commit { key, offset } => [10, u64::from(key), offset, 0],
            ClientOp::Committed { key } => [11, u64::from(key), 0, 0],
        }
    }

    /// Reads what [`ClientOp::to_words`] wrote; `None` for words it never writes.
    pub fn from_words([kind, key, a, b]: [u64; 4]) -> Option<ClientOp> {
        if kind == 7 {
            return Txn::from_words([key, a, b]).map(ClientOp::Txn);
        }
        let key = u32::try_from(key).ok()?;
        let (a, b) = (a as i64, b as i64);
        Some(match kind {
            1 => ClientOp::Read { key },
            2 => ClientOp::Write { key, value: a },
            3 => ClientOp::Cas {
                key,
                from: a,
                to: b,
            },
            4 => ClientOp::Append { key, value: a },
            5 => ClientOp::Add { value: a },
            6 => ClientOp::Generate,
            8 => ClientOp::Send { key, msg: a },
            9 => ClientOp::Poll {
                key,
                offset: a as u64,
            },
            10 => ClientOp::Commit {
                key,
                offset: a as u64,
            },
            11 => ClientOp::Committed { key },
            _ => return None,
        })
    }
}

/// Which request a reply answers: the client and its operation's number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId {
    pub client: u32,
    /// Counts the client's operations from 0.
    pub seq: u32,
}

/// A client's request as a node receives it. Keep it (it is small) to reply later, or pass
/// it on to another node inside a message.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Request {
    pub id: RequestId,
    pub op: ClientOp,
}

/// A node's answer to a request.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Reply {
    /// Done. Carry what a read returned, the id generated, or [`Value::Nil`] for writes.
    Ok(Value),
    /// Definitely not done (a cas whose expected value did not match, a refused request).
    Fail(&'static str),
    /// Maybe done, maybe not (an indefinite error). As after a timeout, the client goes on
    /// as a new process.
    Info(&'static str),
    /// Not done here: ask `leader` if known, else the next node. Followed at most
    /// [`REDIRECTS_MAX`] times per operation.
    Redirect(Option<NodeId>),
}

/// What clients do, as a scenario's `workload:` gives it.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkloadConfig {
    pub model: Model,
    pub clients: u32,
    /// Operations per second over all clients, when the service keeps up.
    pub rate_per_s: f64,
    /// Weights of the functions drawn, each one of [`Model::functions`].
    pub mix: Vec<(Func, f64)>,
    /// Keys `0..keys` (registers and kv); 1 for a single register.
    pub keys: u32,
    /// Values written and compared are drawn from `0..values`, so that cas ops can match (dht
    /// writes take values unique in the run instead).
    pub values: u32,
    pub timeout: SimDuration,
    /// No operation is invoked at or after this time (but the final reads).
    pub until: SimTime,
    /// When every idle client invokes one last read, after `until`: Jepsen's final reads,
    /// which judge what the system kept once it has had time to settle.
    pub final_reads: Option<SimTime>,
    /// Latency of each request and each reply between a client and a node.
    pub latency: Latency,
    /// Fewest and most micro-ops in one transaction (transactional models), each count
    /// equally likely; at most [`MICRO_OPS_MAX`].
    pub micro_ops_min: u32,
    pub micro_ops_max: u32,
    /// The level a transactional history is checked at; `None`: the protocol's
    /// [`crate::Protocol::ISOLATION`].
    pub isolation: Option<Isolation>,
}

impl WorkloadConfig {
    /// A workload of `model` with an even mix of its functions and Jepsen-like defaults:
    /// 3 clients, 100 ops/s, 1 key, values 0..5, 1 s timeout, 1 ms client links; for the
    /// transactional models, 5 keys and 1 to 4 micro-ops per transaction.
    pub fn new(model: Model) -> WorkloadConfig {
        WorkloadConfig {
            model,
            clients: 3,
            rate_per_s: 100.0,
            mix: model.functions().iter().map(|&f| (f, 1.0)).collect(),
            keys: if model.is_transactional() {
                TXN_KEYS_DEFAULT
            } else {
                1
            },
            values: 5,
            timeout: SimDuration::from_secs(1),
            until: SimTime::MAX,
            final_reads: None,
            latency: Latency::Constant(SimDuration::from_millis(1)),
            micro_ops_min: MICRO_OPS_MIN_DEFAULT,
            micro_ops_max: MICRO_OPS_MAX_DEFAULT,
            isolation: None,
        }
    }

    /// Whether histories name keys: always for kv, logs and dht, and for registers with more
    /// than one key.
    pub fn keyed(&self) -> bool {
        match self.model {
            Model::Kv | Model::Log | Model::Dht => true,
            Model::Register | Model::CasRegister => self.keys > 1,
            // A transaction's keys are in its micro-ops.
            Model::Counter | Model::Set | Model::UniqueIds => false,
            Model::ListAppend | Model::RwRegister => false,
        }
    }

    /// Checks the numbers are in range; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.clients == 0 || self.clients > CLIENTS_MAX {
            return Err(format!("clients must be 1 to {CLIENTS_MAX}"));
        }
        if !(self.rate_per_s.is_finite()
            && self.rate_per_s > 0.0
            && self.rate_per_s <= RATE_PER_S_MAX)
        {
            return Err(format!(
                "rate must be above 0 and at most {RATE_PER_S_MAX}/s"
            ));
        }
        if self.keys == 0 || self.values == 0 {
            return Err("keys and values must be at least 1".into());
        }
        if self.timeout == SimDuration::ZERO {
            return Err("timeout must be more than 0".into());
        }
        if let Some(at) = self.final_reads {
            if at <= self.until && self.until != SimTime::MAX {
                return Err(format!(
                    "final_reads ({at}) must come after until ({})",
                    self.until
                ));
            }
            if !self.model.functions().contains(&Func::Read) {
                return Err(format!("the {} model has no reads", self.model));
            }
        }
        self.validate_txn()?;
        let total: f64 = self.mix.iter().map(|(_, w)| w).sum();
        if !(total.is_finite() && total > 0.0) {
            return Err("the mix needs at least one function with a weight above 0".into());
        }
        if let Some((f, _)) = self
            .mix
            .iter()
            .find(|(f, _)| !self.model.functions().contains(f))
        {
            return Err(format!(
                "the {} model has no function `{}`",
                self.model,
                f.name()
            ));
        }
        Ok(())
    }

    /// The transaction fields: in range for a transactional model, left alone for another.
    fn validate_txn(&self) -> Result<(), String> {
        let (min, max) = (self.micro_ops_min, self.micro_ops_max);
        if !self.model.is_transactional() {
            let defaults = (MICRO_OPS_MIN_DEFAULT, MICRO_OPS_MAX_DEFAULT);
            if (min, max) != defaults || self.isolation.is_some() {
                return Err(format!(
                    "micro_ops_min, micro_ops_max and isolation apply to the list-append and \
                     rw-register models only, not to {}",
                    self.model
                ));
            }
            return Ok(());
        }
        let most = MICRO_OPS_MAX as u32;
        if !(1..=most).contains(&min) || !(min..=most).contains(&max) {
            return Err(format!(
                "micro_ops_min ({min}) and micro_ops_max ({max}) must satisfy 1 <= \
                 micro_ops_min <= micro_ops_max <= {most}"
            ));
        }
        if self.keys > TXN_KEYS_MAX {
            return Err(format!(
                "keys is {}; a transactional workload has at most {TXN_KEYS_MAX}",
                self.keys
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
