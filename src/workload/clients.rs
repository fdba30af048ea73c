//! The clients' state machine: what to invoke next, and what a reply or a timeout means.
//! The engine moves requests and replies; this module decides and records.

use super::consumer::{Consumer, Want};
use super::{
    ClientOp, Func, HistoryLog, MICRO_OPS_MAX, Model, REDIRECTS_MAX, Reply, Request, RequestId,
    Txn, WorkloadConfig,
};
use crate::history::{Status, Value};
use crate::ids::NodeId;
use crate::rng::{KeyedRng, Stream, keyed, stream_key};
use crate::time::{SimDuration, SimTime};
use rand::RngExt;
use std::sync::Arc;

/// The operation a client is waiting on.
#[derive(Clone)]
struct Pending {
    op: ClientOp,
    /// Index in the history.
    index: usize,
    deadline: SimTime,
    redirects: u8,
}

#[derive(Clone)]
struct Client {
    /// The history's process id; a new one after every timeout.
    process: u64,
    /// Operations invoked so far; the next one's [`RequestId::seq`].
    seq: u32,
    /// The node each op goes to first (Jepsen binds a client to a node); the next node after
    /// a timeout.
    home: NodeId,
    /// The node the current op was last sent to (after redirects).
    target: NodeId,
    pending: Option<Pending>,
    /// When this client's timeout entry in the event queue comes due, if one is queued. One
    /// at most: it moves on to the open op's later deadline when it finds its own op done, so
    /// an op that completes in time costs the queue nothing.
    alarm_at: Option<SimTime>,
    /// The draws of the current op: its function, key and value, then the latency of every
    /// crossing of the client link until the next op.
    rng: KeyedRng,
    /// Log model: where this member of the consumer group is in the keys it consumes.
    consumer: Consumer,
}

/// What a client's timeout entry found when it came due.
pub(crate) enum Alarm {
    /// The open op's deadline passed: it ended as info (its index in the history).
    Expired(usize),
    /// The op it was queued for completed; another is open until this deadline: queue the
    /// entry again for then.
    Moved(SimTime),
    /// No op is open.
    Idle,
}

/// What a reply made the client do.
pub(crate) enum Outcome {
    /// The reply answers nothing open (its op timed out, or it is a second copy).
    Stale,
    /// The op completed with this status.
    Completed { status: Status },
    /// Redirected: send the request again, to this node.
    Resend { request: Request, to: NodeId },
}

/// Every client of a run. Empty (and idle) when the run has no workload.
///
/// Client `c`'s op number `seq` draws from a generator [`keyed`] by the run's workload key,
/// `c` and `seq`, and the wait before it from one keyed by the same and [`GAP_WORD`]: an op
/// is the same op, and waits as long, however the ops before it ended, and whatever other
/// clients did. Only the elements adds, appends and sends carry are numbered across clients,
/// in invocation order; and a log consumer's polls and commits name the offsets its earlier
/// answers gave it (see the `consumer` module).
#[derive(Clone)]
pub(crate) struct Clients {
    config: Option<WorkloadConfig>,
    key: u64,
    clients: Vec<Client>,
    pub(crate) log: HistoryLog,
    /// Next element for set adds, kv appends, log sends and dht writes, unique over the run.
    element_next: i64,
    node_count: u32,
    /// Where the clients sit, when the run's topology places them.
    regions: Option<Regions>,
}

/// The region each client sits in, and the latencies between regions.
#[derive(Clone)]
struct Regions {
    table: Arc<crate::net::RegionTable>,
    of_client: Vec<u32>,
}

/// Tells a wait's draws from the op's own.
const GAP_WORD: u64 = 1 << 32;

impl Clients {
    pub(crate) fn none() -> Clients {
        Clients {
            config: None,
            key: 0,
            clients: Vec::new(),
            log: HistoryLog::default(),
            element_next: 0,
            node_count: 1,
            regions: None,
        }
    }

    pub(crate) fn config(&self) -> Option<&WorkloadConfig> {
        self.config.as_ref()
    }

    pub(crate) fn new(config: WorkloadConfig, seed: u64, node_count: u32) -> Clients {
        let key = stream_key(seed, Stream::Workload);
        let clients = (0..config.clients)
            .map(|c| Client {
                process: u64::from(c),
                seq: 0,
                home: NodeId(c % node_count),
                target: NodeId(c % node_count),
                pending: None,
                alarm_at: None,
                rng: keyed(key, [u64::from(c), 0]),
                consumer: Consumer::default(),
            })
            .collect();
        Clients {
            log: HistoryLog::new(config.keyed()),
            config: Some(config),
            key,
            clients,
            element_next: 1,
            node_count,
            regions: None,
        }
    }

    /// Places the clients in regions: client `c` sits in region `placement[c].0`, talks
    /// first to node `placement[c].1`, and each crossing of its link to a node takes the
    /// latency from its region to the node's. Called once, before the clients start.
    pub(crate) fn place(
        &mut self,
        table: Arc<crate::net::RegionTable>,
        placement: &[(u32, NodeId)],
    ) {
        for (client, &(_, home)) in self.clients.iter_mut().zip(placement) {
            client.home = home;
            client.target = home;
        }
        let of_client = placement.iter().map(|&(region, _)| region).collect();
        self.regions = Some(Regions { table, of_client });
    }

    pub(crate) fn count(&self) -> u32 {
        self.clients.len() as u32
    }

    /// When the final reads are due, if the workload has them.
    pub(crate) fn final_reads(&self) -> Option<SimTime> {
        self.config.as_ref()?.final_reads
    }

    /// The wait before client `c`'s next invocation: exponential, mean `clients / rate`.
    pub(crate) fn gap(&mut self, c: u32) -> SimDuration {
        let Some(config) = &self.config else {
            return SimDuration::ZERO;
        };
        let seq = self.clients[c as usize].seq;
        let mut rng = keyed(self.key, [u64::from(c), u64::from(seq) | GAP_WORD]);
        let mean_ns = f64::from(config.clients) / config.rate_per_s * 1e9;
        let u: f64 = rng.random_range(f64::EPSILON..1.0);
        SimDuration((-u.ln() * mean_ns).min(1e18) as u64)
    }

    /// One crossing of client `c`'s link to or from `node`, drawn from its current op's
    /// numbers (a late reply to an earlier op included): the latency from the client's
    /// region to the node's when the clients are placed, else the workload's.
    pub(crate) fn latency(&mut self, c: u32, node: NodeId) -> SimDuration {
        let rng = &mut self.clients[c as usize].rng;
        match (&self.config, &self.regions) {
            (Some(_), Some(r)) => {
                let region = r.of_client[c as usize];
                r.table.between(region, r.table.region_of(node)).sample(rng)
            }
            (Some(config), None) => config.latency.sample(rng),
            (None, _) => SimDuration::ZERO,
        }
    }

    /// Invokes client `c`'s next op, if it is idle and the workload still runs: the request,
    /// where to send it, and when it times out.
    pub(crate) fn invoke(
        &mut self,
        c: u32,
        now: SimTime,
        final_read: bool,
    ) -> Option<(Request, NodeId, SimTime)> {
        let config = self.config.as_ref()?;
        let (until, timeout, keys) = (config.until, config.timeout, config.keys);
        if (now >= until && !final_read) || self.clients[c as usize].pending.is_some() {
            return None;
        }
        let seq = self.clients[c as usize].seq;
        let mut rng = keyed(self.key, [u64::from(c), u64::from(seq)]);
        let op = if final_read {
            let key = rng.random_range(0..keys);
            if config.model.is_transactional() {
                let mut txn = Txn::new(config.model == Model::ListAppend, 0);
                // In range: a transactional workload's keys were validated.
                let _ = txn.push_read(key);
                ClientOp::Txn(txn)
            } else {
                ClientOp::Read { key }
            }
        } else {
            self.next_op(c, &mut rng)
        };
        let client = &mut self.clients[c as usize];
        client.rng = rng;
        client.target = client.home;
        let index = self.log.invoke(now, client.process, c, client.target, &op);
        let id = RequestId {
            client: c,
            seq: client.seq,
        };
        client.seq += 1;
        let deadline = now + timeout;
        client.pending = Some(Pending {
            op,
            index,
            deadline,
            redirects: 0,
        });
        Some((Request { id, op }, client.target, deadline))
    }

    /// Invokes client `c`'s next op at `node` (the explorer picks the node a client asks,
    /// where a run binds each client to one): the request, if the client was idle.
    pub(crate) fn invoke_at(&mut self, c: u32, now: SimTime, node: NodeId) -> Option<Request> {
        self.clients[c as usize].home = node;
        self.invoke(c, now, false).map(|(request, _, _)| request)
    }

    /// Client `c`'s open op, where it was last sent, and its number.
    pub(crate) fn open(&self, c: u32) -> Option<(ClientOp, NodeId, u32)> {
        let client = &self.clients[c as usize];
        let pending = client.pending.as_ref()?;
        Some((pending.op, client.target, client.seq.saturating_sub(1)))
    }

    /// Client `c` gives up on its open op at `now` (its timeout, in a run): the op ends as
    /// info, and the client goes on as a new process at the next node. The op's index in the
    /// history, if one was open.
    pub(crate) fn give_up(&mut self, c: u32, now: SimTime) -> Option<usize> {
        let client = &self.clients[c as usize];
        client.pending.as_ref()?;
        let target = client.target;
        let op = self.finish(c, now, target, Status::Info, Value::Nil);
        self.new_process(c);
        // The node may be down or cut off: try the next one.
        let client = &mut self.clients[c as usize];
        client.home = NodeId((client.home.0 + 1) % self.node_count);
        Some(op)
    }

    /// Whether client `c` has no op open, and how many it invoked.
    pub(crate) fn idle(&self, c: u32) -> (bool, u32) {
        let client = &self.clients[c as usize];
        (client.pending.is_none(), client.seq)
    }

    /// A hash of what shapes the clients' future and their history: each client's process,
    /// count and open op, and the history, but no times (the order of the history's events
    /// stands for them). Not the random streams, which follow from the counts.
    pub(crate) fn fingerprint(&self) -> u64 {
        let pending = |p: &Pending| (p.op, p.index, p.redirects);
        let clients = self.clients.iter().map(|c| {
            let open = c.pending.as_ref().map(pending);
            (c.process, c.seq, c.target, open, &c.consumer)
        });
        let clients: Vec<_> = clients.collect();
        crate::trace::content_hash(&(clients, self.log.fingerprint(), self.element_next))
    }

    /// The number of client `c`'s latest op.
    pub(crate) fn seq_of(&self, c: u32) -> u32 {
        self.clients[c as usize].seq.saturating_sub(1)
    }

    /// The index in the history of the op `id` names, if it is still open.
    pub(crate) fn open_op(&self, id: RequestId) -> Option<usize> {
        let client = self.clients.get(id.client as usize)?;
        let pending = client.pending.as_ref()?;
        (client.seq == id.seq + 1).then_some(pending.index)
    }

    /// A reply from `from` arrived at its client.
    pub(crate) fn on_reply(
        &mut self,
        id: RequestId,
        from: NodeId,
        reply: Reply,
        now: SimTime,
    ) -> Outcome {
        if self.open_op(id).is_none() {
            return Outcome::Stale;
        }
        let n = self.node_count;
        let client = &mut self.clients[id.client as usize];
        let (status, value) = match reply {
            Reply::Ok(v) => (Status::Ok, v),
            Reply::Fail(_) => (Status::Fail, Value::Nil),
            Reply::Info(_) => (Status::Info, Value::Nil),
            Reply::Redirect(hint) => {
                let pending = client.pending.as_mut().expect("open op");
                if pending.redirects < REDIRECTS_MAX {
                    pending.redirects += 1;
                    client.target = hint.filter(|h| h.0 < n).unwrap_or(NodeId((from.0 + 1) % n));
                    self.log.retarget(pending.index, client.target);
                    let request = Request { id, op: pending.op };
                    return Outcome::Resend {
                        request,
                        to: client.target,
                    };
                }
                (Status::Fail, Value::Nil)
            }
        };
        if status == Status::Ok {
            let client = &mut self.clients[id.client as usize];
            if let Some(pending) = &client.pending {
                client.consumer.on_ok(&pending.op, &value);
            }
        }
        self.finish(id.client, now, from, status, value);
        if status == Status::Info {
            self.new_process(id.client);
        }
        Outcome::Completed { status }
    }

    /// Whether an op of client `c` with `deadline` needs a timeout entry queued: not when
    /// one is queued already, for an earlier deadline (it moves on to this one).
    pub(crate) fn arm(&mut self, c: u32, deadline: SimTime) -> bool {
        let client = &mut self.clients[c as usize];
        match client.alarm_at {
            Some(at) => {
                debug_assert!(at <= deadline, "deadlines of one client only grow");
                false
            }
            None => {
                client.alarm_at = Some(deadline);
                true
            }
        }
    }

    /// Client `c`'s timeout entry came due at `now`.
    pub(crate) fn on_timeout(&mut self, c: u32, now: SimTime) -> Alarm {
        let client = &mut self.clients[c as usize];
        debug_assert_eq!(client.alarm_at, Some(now), "one timeout entry per client");
        client.alarm_at = None;
        let Some(deadline) = client.pending.as_ref().map(|p| p.deadline) else {
            return Alarm::Idle;
        };
        if deadline > now {
            client.alarm_at = Some(deadline);
            return Alarm::Moved(deadline);
        }
        assert_eq!(
            deadline, now,
            "a timeout entry came after its op's deadline"
        );
        match self.give_up(c, now) {
            Some(op) => Alarm::Expired(op),
            None => Alarm::Idle,
        }
    }

    /// As in Jepsen, a client whose op is indeterminate goes on as a new process, so that no
    /// process has an op after one that may still take effect.
    fn new_process(&mut self, c: u32) {
        let count = u64::from(self.count());
        let client = &mut self.clients[c as usize];
        client.process += count;
        client.consumer.rejoin();
    }

    fn finish(&mut self, c: u32, now: SimTime, node: NodeId, status: Status, v: Value) -> usize {
        let pending = self.clients[c as usize]
            .pending
            .take()
            .expect("an open op to finish");
        self.log.complete(pending.index, now, node, status, v);
        pending.index
    }

    /// Draws the next op from the mix, from that op's numbers.
    fn next_op(&mut self, c: u32, rng: &mut KeyedRng) -> ClientOp {
        let config = self.config.as_ref().expect("a workload");
        let (model, keys, values) = (config.model, config.keys, i64::from(config.values));
        let clients = config.clients;
        if model.is_transactional() {
            return ClientOp::Txn(self.next_txn(rng));
        }
        let func = pick_func(&config.mix, rng);
        let key = rng.random_range(0..keys);
        match func {
            Func::Read => ClientOp::Read { key },
            // Unique values, so that a read names the one write it could have come from.
            Func::Write if model == Model::Dht => ClientOp::Write {
                key,
                value: self.fresh(),
            },
            Func::Write => ClientOp::Write {
                key,
                value: rng.random_range(0..values),
            },
            Func::Cas => ClientOp::Cas {
                key,
                from: rng.random_range(0..values),
                to: rng.random_range(0..values),
            },
            Func::Append => ClientOp::Append {
                key,
                value: self.fresh(),
            },
            Func::Add if model == Model::Set => ClientOp::Add {
                value: self.fresh(),
            },
            Func::Add => ClientOp::Add {
                value: 1 + rng.random_range(0..values),
            },
            Func::Generate => ClientOp::Generate,
            Func::Send => ClientOp::Send {
                key,
                msg: self.fresh(),
            },
            Func::Poll | Func::Commit | Func::Committed => {
                let want = match func {
                    Func::Poll => Want::Poll,
                    Func::Commit => Want::Commit,
                    _ => Want::Committed,
                };
                let consumer = &self.clients[c as usize].consumer;
                match consumer.op(want, key, (c, clients, keys)) {
                    Some(op) => op,
                    None => ClientOp::Send {
                        key,
                        msg: self.fresh(),
                    },
                }
            }
            Func::Txn => unreachable!("no model's mix has txn: validation keeps it out"),
        }
    }

    /// Draws a transaction: its length (each from `micro_ops_min` to `micro_ops_max` equally
    /// likely), then each micro-op's function from the mix and its key. Its writes take a
    /// block of fresh values, so every value written in the run is unique.
    fn next_txn(&mut self, rng: &mut KeyedRng) -> Txn {
        let config = self.config.as_ref().expect("a workload");
        let (min, max) = (config.micro_ops_min, config.micro_ops_max);
        let len = rng.random_range(min..=max);
        let mut draws = [(0u32, false); MICRO_OPS_MAX];
        for draw in draws.iter_mut().take(len as usize) {
            let write = pick_func(&config.mix, rng) != Func::Read;
            *draw = (rng.random_range(0..config.keys), write);
        }
        let append = config.model == Model::ListAppend;
        // A run records far fewer than 2^32 values (its events are bounded well below), so
        // the base fits; were it not to, values would repeat rather than the run fail.
        let base = u32::try_from(self.element_next).unwrap_or(u32::MAX);
        self.element_next += i64::from(len);
        let mut txn = Txn::new(append, base);
        for &(key, write) in draws.iter().take(len as usize) {
            // In range: the length and the keys were validated.
            let _ = if write {
                txn.push_write(key)
            } else {
                txn.push_read(key)
            };
        }
        txn
    }

    /// A value no earlier add, append, send, dht write or transaction used. Numbered in invocation order,
    /// so that a checker can tell an invented element by its number alone (see the broadcast
    /// set service).
    fn fresh(&mut self) -> i64 {
        let v = self.element_next;
        self.element_next += 1;
        v
    }
}

/// A function drawn from the mix's weights.
fn pick_func(mix: &[(Func, f64)], rng: &mut KeyedRng) -> Func {
    let total: f64 = mix.iter().map(|(_, w)| w).sum();
    let mut pick = rng.random_range(0.0..total);
    let mut func = mix[0].0;
    for &(f, w) in mix {
        func = f;
        if pick < w {
            break;
        }
        pick -= w;
    }
    func
}
