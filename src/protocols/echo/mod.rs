//! `echo`: request and response over a lossy network, with timeouts, retries, and a server that
//! applies every request exactly once, even across its own crashes.
//!
//! n1 (index 0) is the server; every other node is a client. A client issues its requests one
//! after another, numbered from 1, and resends the current one every `retry_interval` until it
//! is answered. The server gives each new (client, request) pair the next sequence number,
//! remembers it in a dedupe table, and answers retries and network duplicates from that table.
//! Counter and table are synced to storage before the reply leaves, so a restarted server
//! never forgets an answer it gave.

use super::{BugDoc, ParamDoc, Protocol};
use crate::check::{Property, PropertyDigest, Violation};
use crate::engine::{NodeView, Sim};
use crate::process::{Ctx, NodeId, Process, TimerId};
use crate::protocol::{check_at_least, check_at_most};
use crate::storage::Storage;
use crate::time::SimDuration;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

mod clients;
mod exactly_once;
#[cfg(test)]
pub(crate) mod tests;

/// The server is always the first node.
pub const SERVER: NodeId = NodeId(0);
/// Most requests one client may issue: bounds the server's dedupe table at
/// `REQUESTS_MAX` × clients entries.
pub const REQUESTS_MAX: u64 = 100_000;
/// Most resends of one request, whatever `retries_max` asks for.
pub const RETRIES_MAX_LIMIT: u32 = 1_000_000;
/// Shortest retry interval: zero would resend forever without simulated time passing.
pub const RETRY_INTERVAL_MIN: SimDuration = SimDuration::from_millis(1);

const KEY_COUNTER: &str = "counter";
const KEY_REPLY_PREFIX: &str = "reply/";

/// `params:` of the echo protocol.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Requests each client issues, one after another.
    pub requests: u64,
    /// How long a client waits for an answer before resending, on its own clock.
    pub retry_interval: SimDuration,
    /// Resends of one request before the client gives up on it and moves to the next.
    pub retries_max: u32,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            requests: 20,
            retry_interval: SimDuration::from_millis(100),
            retries_max: 50,
        }
    }
}

const PARAM_DOCS: &[ParamDoc] = &[
    ParamDoc {
        name: "requests",
        default: "20",
        meaning: "requests each client issues, one after another (at most 100000)",
    },
    ParamDoc {
        name: "retry_interval",
        default: "100ms",
        meaning: "how long a client waits for an answer before resending the request (at least 1ms)",
    },
    ParamDoc {
        name: "retries_max",
        default: "50",
        meaning: "resends of one request before the client gives up on it and moves on \
                  (at most 1000000)",
    },
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Bug {
    NonIdempotent,
    NoRetry,
    UnsyncedLog,
}

const BUG_DOCS: &[BugDoc] = &[
    BugDoc {
        name: "non-idempotent",
        description: "the server keeps no dedupe table and applies every request it receives, \
                      so a duplicated request, or a retry whose answer was lost, gets a second \
                      sequence number; exposed by `duplicate:`, which delivers one request twice",
        violates: "exactly_once",
    },
    BugDoc {
        name: "no-retry",
        description: "clients send each request once and never resend it, so a lost request \
                      or a lost answer leaves the client waiting forever; exposed by `drop:`",
        violates: "all_answered",
    },
    BugDoc {
        name: "unsynced-log",
        description: "the server writes its counter and dedupe table to storage but never \
                      syncs, so a crash loses them and the restarted server hands out sequence \
                      numbers again; exposed by crashing and restarting n1 (with a unique-ids \
                      workload, clients are given the same id twice: unique_ids)",
        violates: "exactly_once",
    },
];

impl Bug {
    fn from_name(name: &str) -> Option<Bug> {
        match name {
            "non-idempotent" => Some(Bug::NonIdempotent),
            "no-retry" => Some(Bug::NoRetry),
            "unsynced-log" => Some(Bug::UnsyncedLog),
            _ => None,
        }
    }
}

/// What echo nodes send each other.
#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// Client → server: apply request `req` (numbered per client, from 1).
    Request { req: u64 },
    /// Server → client: request `req` was applied as number `seq`.
    Reply { req: u64, seq: u64 },
}

/// What echo timers carry.
#[derive(Clone, Debug, Hash)]
pub enum Tick {
    /// No answer to request `req` yet: resend it (or give up).
    Retry { req: u64 },
}

/// One echo node: the server (n1) or a client.
#[derive(Clone, Debug, Hash)]
pub struct Echo {
    role: Role,
}

#[derive(Clone, Debug, Hash)]
enum Role {
    Server(Server),
    Client(Client),
}

#[derive(Clone, Debug, Hash)]
struct Server {
    /// The last sequence number handed out.
    counter: u64,
    /// The dedupe table: the sequence number each (client, request) was applied as.
    replies: BTreeMap<(NodeId, u64), u64>,
    bug: Option<Bug>,
}

/// The first time a client saw two answers to one request. Only the first answer to a request
/// is recorded, so this is how a second, different one stays visible to `exactly_once`.
#[derive(Clone, Copy, Debug, Hash)]
struct Conflict {
    req: u64,
    first_seq: u64,
    second_seq: u64,
}

#[derive(Clone, Debug, Hash)]
struct Client {
    requests: u64,
    retry_interval: SimDuration,
    retries_max: u32,
    resend: bool,
    /// The request in flight; 0 before the first, `requests + 1` once all were issued.
    current: u64,
    /// How many times the current request was sent.
    sends: u32,
    retry_timer: Option<TimerId>,
    /// The first answer to each request: request → sequence number.
    answers: BTreeMap<u64, u64>,
    /// The answer recorded last: (request, sequence number). Requests are not always answered
    /// in order (a late answer to one given up on), so this names the new one.
    latest: Option<(u64, u64)>,
    /// Requests abandoned after `retries_max` resends.
    gave_up: BTreeSet<u64>,
    conflict: Option<Conflict>,
}

impl Server {
    /// Reloads counter and dedupe table from whatever the last incarnation synced.
    fn recover(&mut self, storage: &Storage) {
        self.counter = read_u64(storage, KEY_COUNTER).unwrap_or(0);
        for key in storage.keys() {
            let Some(rest) = key.strip_prefix(KEY_REPLY_PREFIX) else {
                continue;
            };
            let parsed = rest.split_once('/').and_then(|(client, req)| {
                Some((client.parse::<u32>().ok()?, req.parse::<u64>().ok()?))
            });
            if let (Some((client, req)), Some(seq)) = (parsed, read_u64(storage, key)) {
                self.replies.insert((NodeId(client), req), seq);
            }
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Echo>, client: NodeId, req: u64) {
        if client == SERVER || req == 0 || req > REQUESTS_MAX {
            return;
        }
        let dedupe = self.bug != Some(Bug::NonIdempotent);
        if dedupe && let Some(&seq) = self.replies.get(&(client, req)) {
            ctx.send(client, Msg::Reply { req, seq });
            return;
        }
        self.counter += 1;
        let seq = self.counter;
        let storage = ctx.storage();
        storage.put(KEY_COUNTER, seq.to_le_bytes());
        if dedupe {
            self.replies.insert((client, req), seq);
            storage.put(&reply_key(client, req), seq.to_le_bytes());
        }
        // A reply is a promise; it may only leave once the state behind it survives a crash.
        if self.bug != Some(Bug::UnsyncedLog) {
            storage.sync();
        }
        ctx.send(client, Msg::Reply { req, seq });
    }
}

impl Client {
    fn issue_next(&mut self, ctx: &mut Ctx<'_, Echo>) {
        if let Some(timer) = self.retry_timer.take() {
            ctx.cancel_timer(timer);
        }
        if self.current > self.requests {
            return;
        }
        self.current += 1;
        self.sends = 0;
        if self.current <= self.requests {
            self.send_current(ctx);
        }
    }

    fn send_current(&mut self, ctx: &mut Ctx<'_, Echo>) {
        let req = self.current;
        self.sends += 1;
        ctx.send(SERVER, Msg::Request { req });
        if self.resend {
            self.retry_timer = Some(ctx.set_timer(self.retry_interval, Tick::Retry { req }));
        }
    }

    fn on_retry(&mut self, ctx: &mut Ctx<'_, Echo>, req: u64) {
        if req != self.current || self.answers.contains_key(&req) {
            return;
        }
        self.retry_timer = None;
        // `sends` counts the first send too, so this allows exactly `retries_max` resends.
        if self.sends > self.retries_max {
            self.gave_up.insert(req);
            ctx.annotate(format_args!(
                "gave up on request {req} after {} retries",
                self.retries_max
            ));
            self.issue_next(ctx);
            return;
        }
        self.send_current(ctx);
    }

    fn on_reply(&mut self, ctx: &mut Ctx<'_, Echo>, req: u64, seq: u64) {
        // Answers to requests this incarnation has not issued yet come from before a crash.
        if req == 0 || req > self.current {
            return;
        }
        match self.answers.get(&req) {
            Some(&first_seq) if first_seq != seq && self.conflict.is_none() => {
                self.conflict = Some(Conflict {
                    req,
                    first_seq,
                    second_seq: seq,
                });
            }
            Some(_) => {}
            None => {
                self.answers.insert(req, seq);
                self.latest = Some((req, seq));
                if req == self.current {
                    self.issue_next(ctx);
                }
            }
        }
    }
}

fn reply_key(client: NodeId, req: u64) -> String {
    format!("{KEY_REPLY_PREFIX}{}/{req}", client.0)
}

fn read_u64(storage: &Storage, key: &str) -> Option<u64> {
    let bytes: [u8; 8] = storage.get(key)?.try_into().ok()?;
    Some(u64::from_le_bytes(bytes))
}

impl Process for Echo {
    type Message = Msg;
    type Timer = Tick;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        match &mut self.role {
            Role::Server(server) => {
                if ctx.is_restart() {
                    server.recover(ctx.storage());
                }
            }
            // Clients keep nothing durable: a restarted client issues its requests again from
            // 1, and a correct server answers them from its dedupe table.
            Role::Client(client) => client.issue_next(ctx),
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match (&mut self.role, msg) {
            (Role::Server(server), Msg::Request { req }) => server.on_request(ctx, from, req),
            (Role::Client(client), Msg::Reply { req, seq }) if from == SERVER => {
                client.on_reply(ctx, req, seq);
            }
            // Only a confused peer sends a request to a client or a reply to the server.
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _timer: TimerId, tag: Tick) {
        let Tick::Retry { req } = tag;
        if let Role::Client(client) = &mut self.role {
            client.on_retry(ctx, req);
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: crate::workload::Request) {
        self.serve(ctx, request);
    }
}

impl Protocol for Echo {
    const NAME: &'static str = "echo";
    const SUMMARY: &'static str =
        "client/server requests with retries; the server applies each exactly once, across crashes";
    type Params = Params;

    const PARAM_DOCS: &'static [ParamDoc] = PARAM_DOCS;
    const BUG_DOCS: &'static [BugDoc] = BUG_DOCS;

    fn workloads() -> &'static [crate::workload::Model] {
        &[crate::workload::Model::UniqueIds]
    }

    const CHECK_DIGESTS: &'static [PropertyDigest<Self>] = exactly_once::DIGESTS;

    fn properties() -> Vec<Property<Self>> {
        vec![
            Property::monitor(
                "exactly_once",
                "no request is answered with two different sequence numbers, and \
                              no sequence number is given to two different requests",
                || Box::new(exactly_once::ExactlyOnce::default()),
            ),
            Property::at_end(
                "all_answered",
                "every client that is up at the end got an answer to each of its \
                              requests",
                check_all_answered,
            ),
        ]
    }

    fn check_params(params: &Params, _node_count: u32) -> Result<(), String> {
        check_at_most("requests", params.requests, REQUESTS_MAX)?;
        check_at_least("retry_interval", params.retry_interval, RETRY_INTERVAL_MIN)?;
        check_at_most("retries_max", params.retries_max, RETRIES_MAX_LIMIT)
    }

    fn new(id: NodeId, node_count: u32, params: &Params, bug: Option<&'static str>) -> Self {
        if let Err(e) = Self::check_params(params, node_count) {
            panic!("{}: {e}", Self::NAME);
        }
        let bug = bug.map(|name| {
            Bug::from_name(name).unwrap_or_else(|| panic!("echo has no bug variant `{name}`"))
        });
        let role = if id == SERVER {
            Role::Server(Server {
                counter: 0,
                replies: BTreeMap::new(),
                bug,
            })
        } else {
            Role::Client(Client {
                requests: params.requests,
                retry_interval: params.retry_interval,
                retries_max: params.retries_max,
                resend: bug != Some(Bug::NoRetry),
                current: 0,
                sends: 0,
                retry_timer: None,
                answers: BTreeMap::new(),
                latest: None,
                gave_up: BTreeSet::new(),
                conflict: None,
            })
        };
        Echo { role }
    }
    /// The server's counter and dedupe table; a client's request in flight and its answers.
    fn summary(&self) -> crate::Summary {
        use crate::summary::Standing;
        match &self.role {
            Role::Server(s) => crate::Summary::new()
                .role("server", Standing::Leader)
                .field("counter", s.counter)
                .field("applied", s.replies.len()),
            Role::Client(c) => crate::Summary::new()
                .role("client", Standing::Follower)
                .field("request", c.current)
                .field("sends", c.sends)
                .field("answers", c.answers.len()),
        }
    }
}

impl Echo {
    fn client(&self) -> Option<&Client> {
        match &self.role {
            Role::Client(client) => Some(client),
            Role::Server(_) => None,
        }
    }
}

fn check_all_answered(sim: &Sim<Echo>) -> Result<(), Violation> {
    let mut short = Vec::new();
    let (mut unanswered_total, mut requests_total) = (0, 0);
    let mut first: Option<String> = None;
    // Paused clients are judged like crashed ones: they could not have finished.
    for (id, view) in sim.nodes() {
        let NodeView::Up(echo) = view else { continue };
        let Some(client) = echo.client() else {
            continue;
        };
        let answered = client.answers.len() as u64;
        requests_total += client.requests;
        if answered >= client.requests {
            continue;
        }
        short.push(id);
        unanswered_total += client.requests - answered;
        if first.is_none() {
            first = Some(describe_shortfall(sim.node_name(id), client));
        }
    }
    let Some(first) = first else { return Ok(()) };
    Err(Violation::new(
        format!(
            "{first}; {unanswered_total} of {requests_total} requests are unanswered, on {} \
             client(s)",
            short.len()
        ),
        short,
    ))
}

/// Why one client is short of answers, in words.
fn describe_shortfall(name: &str, client: &Client) -> String {
    let answered = client.answers.len();
    let of = client.requests;
    let missing = (1..=client.requests).find(|r| !client.answers.contains_key(r));
    let Some(req) = missing else {
        return format!("{name} got answers to {answered} of its {of} requests");
    };
    let why = if client.gave_up.contains(&req) {
        format!(
            "it gave up on request {req} after {} retries",
            client.retries_max
        )
    } else if req == client.current && !client.resend {
        format!("it sent request {req} once and is still waiting, since it never resends")
    } else if req == client.current {
        format!(
            "it is still waiting for request {req}, sent {} time(s)",
            client.sends
        )
    } else {
        format!("it never issued request {req}")
    };
    format!("{name} got answers to {answered} of its {of} requests: {why}")
}
