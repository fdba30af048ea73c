//! Exercise 4, a Kafka-style log: a reference solution.
//!
//! Everything lives in lin-kv, so any node serves any key and a node that restarts has
//! nothing to recover. A send takes the next offset of its log with a compare-and-set of the
//! log's counter, then writes its message at that offset with a compare-and-set from nothing,
//! and is acknowledged only once the message is there. The entry's compare-and-set is what
//! decides who owns an offset: whoever writes it first. So a send whose counter
//! compare-and-set finds the counter at just the value it meant to set (its own, sent twice,
//! whose first answer was lost?) tries that offset anyway, and a send that finds its offset
//! taken takes another.
//!
//! A poll reads the counter and the entries from its offset on, and returns the messages up
//! to the first entry still empty: a message written there later must not be passed over.
//! An offset taken by a send that crashed, or that gave it up, stays empty: the node that
//! finds it empty below the counter notes it, and a while later fills it with a tombstone, a
//! value no message has, by a compare-and-set from nothing. A late writer then finds it taken
//! and takes another offset, and polls go on past it.
//!
//! Every call is sent again, as it was, when its answer is late; each is harmless twice.

use super::given::{
    self, POLL_BATCH_MAX, committed_key, committed_reply, entry_key, next_offset_key, offset_reply,
    poll_reply,
};
use faultline::check::Property;
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

/// What nodes send each other: nothing, lin-kv is where they meet.
#[derive(Clone, Debug, Hash)]
pub enum Msg {}

/// What a node's timers carry.
#[derive(Clone, Debug, Hash)]
pub enum Tick {
    /// Time to ask lin-kv again what it has not answered.
    Retry,
}

/// How often a node looks for calls to send again.
const TICK: SimDuration = SimDuration::from_millis(20);

/// How many ticks a node waits for lin-kv's answer before it asks again: longer than most
/// round trips in the suite's scenarios, so that a call is seldom sent twice.
const RETRY_TICKS: u64 = 4;

/// How many ticks an entry below its log's counter may stay empty before the node that
/// found it empty fills it: long enough for a live writer to write it, most of the time.
/// Filling it early costs that writer another offset, never a message.
const HOLE_TICKS: u64 = 5;

/// What an entry holds once a node filled it: messages are never negative.
const TOMBSTONE: i64 = -1;

/// A client's request in progress, and what it waits for.
#[derive(Clone, Debug, Hash)]
enum Job {
    /// A send taking an offset (`counter`: the log's counter as last known), then writing
    /// its message there (`offset`).
    Send {
        key: u32,
        msg: i64,
        counter: Option<i64>,
        offset: Option<u64>,
    },
    /// A poll from `from`: the log's counter once read, the entries read so far from
    /// `from` on (`None`: not answered yet).
    Poll {
        key: u32,
        from: u64,
        end: Option<Option<i64>>,
        entries: Vec<Option<Option<i64>>>,
    },
    /// A commit of `offset`, with the committed offset as last known.
    Commit {
        key: u32,
        offset: u64,
        known: Option<i64>,
    },
    /// A read of the committed offset.
    Committed { key: u32 },
}

/// A call awaiting lin-kv's answer.
#[derive(Clone, Debug, Hash)]
struct Pending {
    request: RequestId,
    op: KvOp,
    /// The tick it was sent in; `None` once it has been sent again under another id.
    sent: Option<u64>,
}

/// One node. Its `Debug` is what `run --html run.html --states` shows of it; `Clone` and `Hash`
/// let faultline copy a node's state and recognise one it has seen, so keep them derived.
#[derive(Clone, Debug, Hash)]
pub struct KafkaLog {
    /// Requests in progress.
    jobs: BTreeMap<RequestId, Job>,
    /// The calls awaiting an answer: for which request, and what they asked.
    calls: BTreeMap<CallId, Pending>,
    /// Ticks since the node started.
    ticks: u64,
    /// Empty entries below their log's counter: the tick each was first found empty.
    holes: BTreeMap<(u32, u64), u64>,
    /// The tombstones in flight, by call: for which entry.
    fills: BTreeMap<CallId, (u32, u64)>,
    /// Each log's counter as last known: where a send starts.
    counters: BTreeMap<u32, i64>,
}

/// The offset a counter value hands out next (`None`: nothing handed out yet).
fn next_of(counter: Option<i64>) -> u64 {
    counter.map_or(0, |c| c.max(0) as u64)
}

/// The calls `job` waits for the answers of: for a send or a commit, one compare-and-set,
/// which changes with every answer; for a poll, the reads not answered yet.
fn wanted(job: &Job) -> Vec<KvOp> {
    match *job {
        Job::Send {
            key,
            msg,
            counter,
            offset,
        } => vec![match offset {
            None => KvOp::Cas {
                key: next_offset_key(key),
                from: counter,
                to: next_of(counter) as i64 + 1,
            },
            Some(offset) => KvOp::Cas {
                key: entry_key(key, offset),
                from: None,
                to: msg,
            },
        }],
        Job::Poll {
            key,
            from,
            end,
            ref entries,
        } => {
            let unread = entries.iter().enumerate().filter(|(_, e)| e.is_none());
            let reads = unread.map(|(i, _)| KvOp::Read {
                key: entry_key(key, from + i as u64),
            });
            let counter = end.is_none().then_some(KvOp::Read {
                key: next_offset_key(key),
            });
            counter.into_iter().chain(reads).collect()
        }
        Job::Commit { key, offset, known } => vec![KvOp::Cas {
            key: committed_key(key),
            from: known,
            to: offset as i64,
        }],
        Job::Committed { key } => vec![KvOp::Read {
            key: committed_key(key),
        }],
    }
}

impl KafkaLog {
    fn call(&mut self, ctx: &mut Ctx<'_, Self>, request: RequestId, op: KvOp) {
        let call = ctx.call(Service::LinKv, op);
        let sent = Some(self.ticks);
        self.calls.insert(call, Pending { request, op, sent });
    }

    /// Sends every call the request still waits for.
    fn ask(&mut self, ctx: &mut Ctx<'_, Self>, request: RequestId) {
        let Some(job) = self.jobs.get(&request) else {
            return;
        };
        for op in wanted(job) {
            self.call(ctx, request, op);
        }
    }

    /// Sends again, as it was, every call unanswered for `RETRY_TICKS`. The first copy stays
    /// awaited too: whichever answer comes first is used.
    fn retry(&mut self, ctx: &mut Ctx<'_, Self>) {
        let mut late = Vec::new();
        for pending in self.calls.values_mut() {
            if pending.sent.is_some_and(|t| self.ticks - t >= RETRY_TICKS) {
                pending.sent = None;
                late.push((pending.request, pending.op));
            }
        }
        for (request, op) in late {
            self.call(ctx, request, op);
        }
    }

    fn finish(&mut self, ctx: &mut Ctx<'_, Self>, request: RequestId, reply: Reply) {
        self.jobs.remove(&request);
        self.calls.retain(|_, p| p.request != request);
        ctx.reply(request, reply);
    }

    /// A send's call got `result`.
    fn sent(&mut self, ctx: &mut Ctx<'_, Self>, request: RequestId, result: KvResult) {
        let Some(Job::Send {
            key,
            msg,
            counter,
            offset,
        }) = self.jobs.get_mut(&request)
        else {
            return;
        };
        match (*offset, result) {
            (None, KvResult::Ok) => {
                let taken = next_of(*counter);
                *offset = Some(taken);
                self.counters.insert(*key, taken as i64 + 1);
            }
            // The counter holds what this compare-and-set would have set: it may be this
            // one's own, sent twice, whose first answer was lost. Taking that offset costs
            // nothing if not: the entry's compare-and-set goes to whoever writes it first.
            (None, KvResult::Mismatch(Some(now))) if now == next_of(*counter) as i64 + 1 => {
                *offset = Some(next_of(*counter));
                self.counters.insert(*key, now);
            }
            (None, KvResult::Mismatch(now)) => {
                *counter = now;
                if let Some(now) = now {
                    self.counters.insert(*key, now);
                }
            }
            (Some(at), KvResult::Ok) => return self.finish(ctx, request, offset_reply(at)),
            // Our own write, sent twice: the first copy took effect.
            (Some(at), KvResult::Mismatch(Some(there))) if there == *msg => {
                return self.finish(ctx, request, offset_reply(at));
            }
            // Another message, or a tombstone, has the offset: take another.
            (Some(_), _) => {
                *offset = None;
                *counter = self.counters.get(key).copied();
            }
            (None, KvResult::Read(_)) => {}
        }
        self.ask(ctx, request);
    }

    /// A commit's compare-and-set got `result`.
    fn committed(&mut self, ctx: &mut Ctx<'_, Self>, request: RequestId, result: KvResult) {
        let Some(Job::Commit { offset, known, .. }) = self.jobs.get_mut(&request) else {
            return;
        };
        let wanted = *offset;
        match result {
            KvResult::Mismatch(now) if now.is_none_or(|n| n < wanted as i64) => *known = now,
            // Ok, or the committed offset is this one or higher already.
            _ => return self.finish(ctx, request, offset_reply(wanted)),
        }
        self.ask(ctx, request);
    }

    /// A poll's read of `op` got `value`; a poll with every read answered replies.
    fn polled(&mut self, ctx: &mut Ctx<'_, Self>, request: RequestId, op: KvOp, value: KvResult) {
        let KvResult::Read(value) = value else {
            return;
        };
        let Some(Job::Poll {
            key,
            from,
            end,
            entries,
        }) = self.jobs.get_mut(&request)
        else {
            return;
        };
        if op.key() == next_offset_key(*key) {
            *end = Some(value);
        } else if let Some(i) =
            (0..entries.len()).find(|&i| entry_key(*key, *from + i as u64) == op.key())
        {
            entries[i] = Some(value);
        }
        if end.is_some() && entries.iter().all(Option::is_some) {
            self.poll_answered(ctx, request);
        }
    }

    /// Every read of a poll is in: reply with the messages up to the first empty entry, or
    /// read further if the entries read held only tombstones.
    fn poll_answered(&mut self, ctx: &mut Ctx<'_, Self>, request: RequestId) {
        let Some(Job::Poll {
            key,
            from,
            end: Some(end),
            entries,
        }) = self.jobs.get(&request).cloned()
        else {
            return;
        };
        let end = next_of(end);
        self.note_holes(key, from, &entries, end);
        let mut batch = Vec::new();
        let mut stopped = false;
        for (i, entry) in entries.iter().enumerate() {
            match entry.flatten() {
                Some(TOMBSTONE) => {}
                Some(msg) => batch.push((from + i as u64, msg)),
                None => {
                    stopped = true;
                    break;
                }
            }
            if batch.len() == POLL_BATCH_MAX {
                stopped = true;
                break;
            }
        }
        let read_to = from + entries.len() as u64;
        if stopped || !batch.is_empty() || read_to >= end {
            return self.finish(ctx, request, poll_reply(&batch));
        }
        self.read_window(ctx, request, key, read_to, end);
    }

    /// Reads the entries of `key` from `from` on, up to `end` and at most a batch of them.
    fn read_window(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        request: RequestId,
        key: u32,
        from: u64,
        end: u64,
    ) {
        let count = end.saturating_sub(from).clamp(1, POLL_BATCH_MAX as u64) as usize;
        let end = Some(Some(end as i64));
        let entries = vec![None; count];
        let job = Job::Poll {
            key,
            from,
            end,
            entries,
        };
        self.jobs.insert(request, job);
        self.ask(ctx, request);
    }

    /// Notes the entries of `key` read from `from` on: one empty below the counter `end` was
    /// taken by a send that has not written it yet, or never will; one that holds something
    /// needs no filling.
    fn note_holes(&mut self, key: u32, from: u64, entries: &[Option<Option<i64>>], end: u64) {
        for (i, entry) in entries.iter().enumerate() {
            let offset = from + i as u64;
            match entry {
                Some(None) if offset < end => {
                    self.holes.entry((key, offset)).or_insert(self.ticks);
                }
                Some(Some(_)) => {
                    self.holes.remove(&(key, offset));
                }
                _ => {}
            }
        }
    }

    /// Fills with a tombstone every entry found empty `HOLE_TICKS` ago or more, and again
    /// every `RETRY_TICKS` until lin-kv answers that the entry holds something.
    fn fill_holes(&mut self, ctx: &mut Ctx<'_, Self>) {
        let ticks = self.ticks;
        let due = |first: u64| {
            let age = ticks - first;
            age >= HOLE_TICKS && (age - HOLE_TICKS).is_multiple_of(RETRY_TICKS)
        };
        let holes: Vec<(u32, u64)> = self
            .holes
            .iter()
            .filter(|&(_, &first)| due(first))
            .map(|(&hole, _)| hole)
            .collect();
        for (key, offset) in holes {
            let op = KvOp::Cas {
                key: entry_key(key, offset),
                from: None,
                to: TOMBSTONE,
            };
            let call = ctx.call(Service::LinKv, op);
            self.fills.insert(call, (key, offset));
        }
    }

    fn start(&mut self, ctx: &mut Ctx<'_, Self>, request: RequestId, op: ClientOp) {
        let job = match op {
            ClientOp::Send { key, msg } => Job::Send {
                key,
                msg,
                counter: self.counters.get(&key).copied(),
                offset: None,
            },
            ClientOp::Poll { key, offset } => Job::Poll {
                key,
                from: offset,
                end: None,
                entries: vec![None; POLL_BATCH_MAX],
            },
            ClientOp::Commit { key, offset } => Job::Commit {
                key,
                offset,
                known: None,
            },
            ClientOp::Committed { key } => Job::Committed { key },
            _ => {
                let refusal = "this node serves only send, poll, commit and committed";
                return ctx.reply(request, Reply::Fail(refusal));
            }
        };
        self.jobs.insert(request, job);
        self.ask(ctx, request);
    }
}

impl Process for KafkaLog {
    type Message = Msg;
    type Timer = Tick;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.set_timer(TICK, Tick::Retry);
    }

    fn on_message(&mut self, _ctx: &mut Ctx<'_, Self>, _from: NodeId, msg: Msg) {
        match msg {}
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _timer: TimerId, tag: Tick) {
        match tag {
            Tick::Retry => {
                self.ticks += 1;
                self.retry(ctx);
                self.fill_holes(ctx);
                ctx.set_timer(TICK, Tick::Retry);
            }
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: Request) {
        self.start(ctx, request.id, request.op);
    }

    fn on_service_reply(&mut self, ctx: &mut Ctx<'_, Self>, reply: ServiceReply) {
        if let Some(hole) = self.fills.remove(&reply.call) {
            // Filled, by this tombstone or by the message that was late.
            if reply.result != KvResult::Mismatch(None) {
                self.holes.remove(&hole);
            }
            return;
        }
        let Some(Pending { request, op, .. }) = self.calls.remove(&reply.call) else {
            return;
        };
        let Some(job) = self.jobs.get(&request) else {
            return;
        };
        // A send's or a commit's answer counts only if the job still waits for it: a copy
        // sent before an earlier answer moved the job on says nothing about where it is now.
        if matches!(job, Job::Send { .. } | Job::Commit { .. }) && !wanted(job).contains(&op) {
            return;
        }
        match self.jobs.get(&request) {
            Some(Job::Send { .. }) => self.sent(ctx, request, reply.result),
            Some(Job::Commit { .. }) => self.committed(ctx, request, reply.result),
            Some(Job::Poll { .. }) => self.polled(ctx, request, op, reply.result),
            Some(Job::Committed { .. }) => {
                let value = match reply.result {
                    KvResult::Read(value) => value,
                    _ => None,
                };
                self.finish(ctx, request, committed_reply(value));
            }
            None => {}
        }
    }
}

impl Protocol for KafkaLog {
    const NAME: &'static str = "kafka-log";
    const SUMMARY: &'static str =
        "one append-only log per key, consumed by one group, kept in the linearizable lin-kv";
    type Params = Params;
    const PARAM_DOCS: &'static [ParamDoc] = &[];
    const BUG_DOCS: &'static [BugDoc] = &[];
    const SERVICES: &'static [Service] = &[Service::LinKv];

    fn workloads() -> &'static [Model] {
        &[Model::Log]
    }

    fn properties() -> Vec<Property<Self>> {
        // Every acknowledged message consumed in time: see `given.rs`. The clients' history
        // is checked by `log_consistent`, which the `log` workload adds.
        given::properties()
    }

    fn new(_id: NodeId, _node_count: u32, _params: &Params, _bug: Option<&'static str>) -> Self {
        KafkaLog {
            jobs: BTreeMap::new(),
            calls: BTreeMap::new(),
            ticks: 0,
            holes: BTreeMap::new(),
            fills: BTreeMap::new(),
            counters: BTreeMap::new(),
        }
    }
}
