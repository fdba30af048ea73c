//! Exercise 3, grow-only counter: a reference solution.
//!
//! Each node owns one key of seq-kv, its own node index, and is the only node that writes it:
//! the counter is the sum of every node's key. A node adds by a compare-and-set of its key
//! from the total it knows is stored to that total plus the adds waiting, and acknowledges
//! those adds only once the compare-and-set took effect. Being the only writer makes a lost
//! answer harmless: if a retried compare-and-set finds the key already at the value it
//! wanted, the earlier copy took effect. A node reads each key with a compare-and-set that
//! cannot match, whose answer is judged against the newest writes, so it is never stale; a
//! plain read of seq-kv may be.

use faultline::check::Property;
use faultline::history::Value;
use faultline::protocol::{BugDoc, ParamDoc};
use faultline::services::{CallId, KvOp, KvResult, Service, ServiceReply};
use faultline::workload::{ClientOp, Model, Reply, Request, RequestId};
use faultline::{Ctx, NodeId, Process, Protocol, SimDuration, TimerId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `params:` in a scenario: the protocol has none, so a scenario that sets one is an error.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Params {}

/// What nodes send each other: nothing, seq-kv is where they meet.
#[derive(Clone, Debug, Hash)]
pub enum Msg {}

/// What a node's timers carry.
#[derive(Clone, Debug, Hash)]
pub enum Tick {
    /// Time to ask seq-kv again what it has not answered.
    Retry,
}

/// How long a node waits for seq-kv's answer before it asks again.
const RETRY_INTERVAL: SimDuration = SimDuration::from_millis(40);

/// A value no key ever holds (adds are never negative): a compare-and-set from it never
/// matches, and answers with the key's newest value.
const NEVER: i64 = -1;

/// A client's read in progress: each node's key, as seq-kv answered it.
#[derive(Clone, Debug, Hash)]
struct Read {
    request: RequestId,
    values: Vec<Option<i64>>,
}

/// One node. Its `Debug` is what `run --html run.html --states` shows of it; `Clone` and `Hash`
/// let faultline copy a node's state and recognise one it has seen, so keep them derived.
#[derive(Clone, Debug, Hash)]
pub struct Counter {
    me: u64,
    node_count: u32,
    /// What this node's key holds, as far as it knows; `None` until it has asked.
    stored: Option<i64>,
    /// Adds not yet stored, in arrival order.
    waiting: Vec<(RequestId, i64)>,
    /// The compare-and-set in flight for the first `.1` waiting adds.
    storing: Option<(KvOp, usize)>,
    /// Reads in progress, by number.
    reads: BTreeMap<u64, Read>,
    read_next: u64,
    /// Which read and which key each read call is for.
    read_calls: BTreeMap<CallId, (u64, usize)>,
}

impl Counter {
    /// Asks seq-kv for what it lacks: the stored total, the waiting adds stored, each read's
    /// missing keys.
    fn ask(&mut self, ctx: &mut Ctx<'_, Self>) {
        match self.stored {
            None => {
                self.read_key(ctx, None, self.me as usize);
            }
            Some(stored) => self.store(ctx, stored),
        }
        let missing: Vec<(u64, usize)> = self
            .reads
            .iter()
            .flat_map(|(&no, r)| {
                let keys = r.values.iter().enumerate().filter(|(_, v)| v.is_none());
                keys.map(move |(key, _)| (no, key))
            })
            .collect();
        for (no, key) in missing {
            self.read_key(ctx, Some(no), key);
        }
    }

    /// Reads `key` for read `no`, or this node's own key to recover (`None`).
    fn read_key(&mut self, ctx: &mut Ctx<'_, Self>, no: Option<u64>, key: usize) {
        let op = KvOp::Cas {
            key: key as u64,
            from: Some(NEVER),
            to: NEVER,
        };
        let call = ctx.call(Service::SeqKv, op);
        if let Some(no) = no {
            self.read_calls.insert(call, (no, key));
        }
    }

    /// Stores `stored` plus every waiting add, unless a compare-and-set for them is in flight,
    /// in which case it is sent again as it was.
    fn store(&mut self, ctx: &mut Ctx<'_, Self>, stored: i64) {
        if self.waiting.is_empty() {
            return;
        }
        let (op, _) = *self.storing.get_or_insert_with(|| {
            let to = stored + self.waiting.iter().map(|(_, d)| d).sum::<i64>();
            let from = Some(stored).filter(|&s| s > 0);
            let key = self.me;
            (KvOp::Cas { key, from, to }, self.waiting.len())
        });
        ctx.call(Service::SeqKv, op);
    }

    /// The compare-and-set in flight got `result`.
    fn stored(&mut self, ctx: &mut Ctx<'_, Self>, op: KvOp, result: KvResult) {
        let Some((sent, covered)) = self.storing else {
            return;
        };
        let KvOp::Cas { to, .. } = sent else {
            return;
        };
        if op != sent {
            return;
        }
        self.storing = None;
        let now_holds = match result {
            KvResult::Ok => Some(to),
            KvResult::Mismatch(value) | KvResult::Read(value) => value,
        };
        if now_holds == Some(to) {
            for (request, _) in self.waiting.drain(..covered) {
                ctx.reply(request, Reply::Ok(Value::Nil));
            }
        }
        let stored = now_holds.unwrap_or(0);
        self.stored = Some(stored);
        self.store(ctx, stored);
    }

    /// Read call `call` answered `value` for one key; a read with every key answered replies.
    fn read_answered(&mut self, ctx: &mut Ctx<'_, Self>, call: CallId, value: Option<i64>) {
        let Some((no, key)) = self.read_calls.remove(&call) else {
            return;
        };
        let Some(read) = self.reads.get_mut(&no) else {
            return;
        };
        read.values[key] = Some(value.unwrap_or(0));
        if read.values.iter().all(Option::is_some) {
            let sum = read.values.iter().flatten().sum();
            ctx.reply(read.request, Reply::Ok(Value::Int(sum)));
            self.reads.remove(&no);
            self.read_calls.retain(|_, (n, _)| *n != no);
        }
    }
}

impl Process for Counter {
    type Message = Msg;
    type Timer = Tick;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.ask(ctx);
        ctx.set_timer(RETRY_INTERVAL, Tick::Retry);
    }

    fn on_message(&mut self, _ctx: &mut Ctx<'_, Self>, _from: NodeId, msg: Msg) {
        match msg {}
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _timer: TimerId, tag: Tick) {
        match tag {
            Tick::Retry => {
                self.ask(ctx);
                ctx.set_timer(RETRY_INTERVAL, Tick::Retry);
            }
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: Request) {
        match request.op {
            ClientOp::Add { value } => {
                self.waiting.push((request.id, value));
                // An add that comes while a compare-and-set is in flight waits for the next.
                if let (Some(stored), None) = (self.stored, self.storing) {
                    self.store(ctx, stored);
                }
            }
            ClientOp::Read { .. } => {
                let no = self.read_next;
                self.read_next += 1;
                let values = vec![None; self.node_count as usize];
                self.reads.insert(
                    no,
                    Read {
                        request: request.id,
                        values,
                    },
                );
                for key in 0..self.node_count as usize {
                    self.read_key(ctx, Some(no), key);
                }
            }
            _ => ctx.reply(
                request.id,
                Reply::Fail("this node serves only add and read"),
            ),
        }
    }

    fn on_service_reply(&mut self, ctx: &mut Ctx<'_, Self>, reply: ServiceReply) {
        let value = match reply.result {
            KvResult::Read(value) | KvResult::Mismatch(value) => value,
            KvResult::Ok => None,
        };
        let own_key = reply.op.key() == self.me;
        if self.read_calls.contains_key(&reply.call) {
            self.read_answered(ctx, reply.call, value);
        } else if own_key && self.stored.is_none() {
            self.stored = Some(value.unwrap_or(0));
            self.ask(ctx);
        } else if own_key {
            self.stored(ctx, reply.op, reply.result);
        }
    }
}

impl Protocol for Counter {
    const NAME: &'static str = "g-counter";
    const SUMMARY: &'static str =
        "a grow-only counter every node can add to, kept in the sequentially consistent seq-kv";
    type Params = Params;
    const PARAM_DOCS: &'static [ParamDoc] = &[];
    const BUG_DOCS: &'static [BugDoc] = &[];
    const SERVICES: &'static [Service] = &[Service::SeqKv];

    fn workloads() -> &'static [Model] {
        &[Model::Counter]
    }

    fn properties() -> Vec<Property<Self>> {
        // The clients' history is checked by `counter_bounds`, which the `counter` workload adds.
        Vec::new()
    }

    fn new(id: NodeId, node_count: u32, _params: &Params, _bug: Option<&'static str>) -> Self {
        Counter {
            me: u64::from(id.0),
            node_count,
            stored: None,
            waiting: Vec::new(),
            storing: None,
            reads: BTreeMap::new(),
            read_next: 0,
            read_calls: BTreeMap::new(),
        }
    }
}
