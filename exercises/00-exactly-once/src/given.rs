//! Given: the ledger each client keeps of its requests and their answers, the properties that
//! judge a run by the ledgers, and the storage of the server's table. Leave this file as it is.
//!
//! - [`Ledger`] is what a client asked and what it was answered. The properties read nothing
//!   else, so a client records in it every answer it receives, a repeated one too.
//! - [`exactly_once`], [`all_answered`] and [`none_skipped`] are the properties `node.rs`
//!   names.
//! - [`put_table`] and [`get_table`] write the server's table to storage and read it back;
//!   [`put_u64`] and [`get_u64`] do the same for a number, such as a counter.

// `node.rs` as handed out uses only some of these.
#![allow(dead_code)]

use faultline::check::Violation;
use faultline::rand::RngExt;
use faultline::storage::ByteReader;
use faultline::{Ctx, NodeId, NodeView, Process, Sim, Storage};
use std::collections::BTreeMap;

/// The server: node n1. Every other node is a client.
pub const SERVER: NodeId = NodeId(0);

/// The fewest requests a client makes. Each client draws its own number, from this to
/// [`REQUESTS_MAX`], when it starts, so the server cannot know in advance who asks how much.
pub const REQUESTS_MIN: u64 = 15;
/// The most requests a client makes.
pub const REQUESTS_MAX: u64 = 30;

/// The server's table: the number it gave each request, by client and request number.
pub type Table = BTreeMap<(NodeId, u64), u64>;

/// The storage key [`put_table`] writes under.
const TABLE_KEY: &str = "table";
/// The storage key under which a client's [`Ledger`] keeps how many requests it makes.
const REQUESTS_KEY: &str = "ledger-requests";

/// A node that may be a client: its ledger, or `None` on the server.
pub trait HoldsLedger {
    fn ledger(&self) -> Option<&Ledger>;
}

/// One client's requests, numbered from 1 to [`Ledger::requests`], and the answers it got.
#[derive(Clone, Debug, Default, Hash)]
pub struct Ledger {
    /// How many requests the client makes; 0 until [`Ledger::start`].
    requests: u64,
    /// The first answer to each request: request → number.
    answers: BTreeMap<u64, u64>,
    /// The first request answered with a second, different number: (request, first, second).
    second: Option<(u64, u64, u64)>,
}

impl Ledger {
    /// Draws how many requests this client makes, and keeps the count in the client's storage
    /// (under `ledger-requests`). Call it in `on_start`; later calls change nothing.
    pub fn start<P: Process>(&mut self, ctx: &mut Ctx<'_, P>) {
        if self.requests > 0 {
            return;
        }
        // A client that crashed makes the same requests again when it restarts, so that the
        // numbers its first life was given go to requests it holds again.
        if let Some(requests) = get_u64(ctx.storage(), REQUESTS_KEY) {
            self.requests = requests;
            return;
        }
        self.requests = ctx.rng().random_range(REQUESTS_MIN..=REQUESTS_MAX);
        let storage = ctx.storage();
        put_u64(storage, REQUESTS_KEY, self.requests);
        storage.sync();
    }

    /// How many requests this client makes: its requests are numbered 1 to this.
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// Records that request `req` was answered with number `seq`. Call it for every answer
    /// that arrives, a repeated one too: the first answer to a request is the one it keeps,
    /// and a later, different one is what [`exactly_once`] reports.
    pub fn record(&mut self, req: u64, seq: u64) {
        match self.answers.get(&req) {
            None => {
                self.answers.insert(req, seq);
            }
            Some(&first) if first != seq && self.second.is_none() => {
                self.second = Some((req, first, seq));
            }
            Some(_) => {}
        }
    }

    /// The number request `req` was answered with first, if it was answered.
    pub fn answer(&self, req: u64) -> Option<u64> {
        self.answers.get(&req).copied()
    }
}

/// No request was answered with two different numbers, and no number was given to two
/// requests. Clients that are down are not looked at: their ledgers are gone.
pub fn exactly_once<P: Process + HoldsLedger>(sim: &Sim<P>) -> Result<(), Violation> {
    let mut given = Vec::new();
    for (id, view) in sim.nodes() {
        let Some(ledger) = view.state().and_then(HoldsLedger::ledger) else {
            continue;
        };
        if let Some((req, first, second)) = ledger.second {
            let message = format!(
                "{} got two different answers to its request {req}: {first} and then {second}; \
                 the server gave one request two numbers",
                sim.node_name(id)
            );
            return Err(Violation::new(message, vec![id, SERVER]));
        }
        given.extend(ledger.answers.iter().map(|(&req, &seq)| (seq, id, req)));
    }
    // Sorted by number, two requests given the same one sit side by side.
    given.sort_unstable();
    let twice = given.windows(2).find(|pair| pair[0].0 == pair[1].0);
    let Some(&[(seq, a, req_a), (_, b, req_b)]) = twice else {
        return Ok(());
    };
    let message = format!(
        "{}'s request {req_a} and {}'s request {req_b} were both given number {seq}: the server \
         gave one number to two requests",
        sim.node_name(a),
        sim.node_name(b)
    );
    let mut nodes = vec![a];
    nodes.extend([b, SERVER].into_iter().filter(|&n| n != a));
    Err(Violation::new(message, nodes))
}

/// Every client that is up at the end got an answer to each of its requests.
pub fn all_answered<P: Process + HoldsLedger>(sim: &Sim<P>) -> Result<(), Violation> {
    let mut short = Vec::new();
    let (mut unanswered, mut requests) = (0, 0);
    let mut first = None;
    for (id, view) in sim.nodes() {
        // A paused client could not have finished, any more than a crashed one.
        let NodeView::Up(node) = view else { continue };
        if id == SERVER {
            continue;
        }
        let Some(ledger) = node.ledger().filter(|l| l.requests > 0) else {
            short.push(id);
            first.get_or_insert_with(|| {
                format!(
                    "{} never started its ledger: a client calls `self.ledger.start(ctx)` in \
                     `on_start`, and `HoldsLedger::ledger` returns it",
                    sim.node_name(id)
                )
            });
            continue;
        };
        requests += ledger.requests;
        let missing = (1..=ledger.requests).filter(|r| !ledger.answers.contains_key(r));
        let (count, lowest) = missing.fold((0, None), |(n, low), r| (n + 1, low.or(Some(r))));
        let Some(lowest) = lowest else { continue };
        short.push(id);
        unanswered += count;
        first.get_or_insert_with(|| {
            format!(
                "{} got answers to {} of its {} requests, none to request {lowest}",
                sim.node_name(id),
                ledger.requests - count,
                ledger.requests
            )
        });
    }
    let Some(first) = first else { return Ok(()) };
    let message = format!(
        "{first}; {unanswered} of the clients' {requests} requests are unanswered, on {} \
         client(s)",
        short.len()
    );
    Err(Violation::new(message, short))
}

/// The numbers the clients hold are 1, 2, 3, ... with none skipped. Judged only when every
/// client is up and holds an answer to each of its requests; [`all_answered`] reports the
/// rest.
pub fn none_skipped<P: Process + HoldsLedger>(sim: &Sim<P>) -> Result<(), Violation> {
    let mut held = Vec::new();
    for (_, view) in sim.nodes().filter(|&(id, _)| id != SERVER) {
        let NodeView::Up(node) = view else {
            return Ok(());
        };
        let Some(ledger) = node.ledger() else {
            return Ok(());
        };
        let complete = (1..=ledger.requests).all(|r| ledger.answers.contains_key(&r));
        if ledger.requests == 0 || !complete {
            return Ok(());
        }
        held.extend(ledger.answers.values().copied());
    }
    held.sort_unstable();
    held.dedup();
    let Some(highest) = held.last().copied() else {
        return Ok(());
    };
    // `held` is sorted without repeats, so the first place where it differs from 1, 2, 3, ...
    // is the lowest number that is missing, or a 0 in front.
    let skipped = (1..).zip(&held).find(|&(want, &seq)| want != seq);
    let Some((want, &seq)) = skipped else {
        return Ok(());
    };
    let message = match seq {
        0 => "a request was given number 0; the numbers start at 1".to_string(),
        _ => format!(
            "no client holds number {want}, though some hold numbers up to {highest}: the \
             server numbers requests 1, 2, 3, ... as it first gets them, so {want} went to a \
             request applied twice (a retry, perhaps, whose first answer was lost), or was \
             skipped"
        ),
    };
    Err(Violation::new(message, vec![SERVER]))
}

/// Writes `table` to `storage`, replacing the copy written before. Like every write, it
/// survives a crash only once `storage.sync()` has run. It writes the whole table each time,
/// which is fine for the few hundred requests of a run.
pub fn put_table(storage: &mut Storage, table: &Table) {
    let mut bytes = Vec::with_capacity(table.len() * 20);
    for (&(client, req), &seq) in table {
        bytes.extend(client.0.to_le_bytes());
        bytes.extend(req.to_le_bytes());
        bytes.extend(seq.to_le_bytes());
    }
    storage.put(TABLE_KEY, bytes);
}

/// The table [`put_table`] wrote last; empty if it wrote none (or what is there is damaged).
pub fn get_table(storage: &Storage) -> Table {
    let mut table = Table::new();
    let Some(bytes) = storage.get(TABLE_KEY) else {
        return table;
    };
    let mut reader = ByteReader::new(bytes);
    while !reader.is_empty() {
        match (reader.u32(), reader.u64(), reader.u64()) {
            (Some(client), Some(req), Some(seq)) => table.insert((NodeId(client), req), seq),
            _ => return Table::new(),
        };
    }
    table
}

/// Writes `value` under `key` in `storage` (durable after `storage.sync()`).
pub fn put_u64(storage: &mut Storage, key: &str, value: u64) {
    storage.put(key, value.to_le_bytes());
}

/// What [`put_u64`] wrote under `key`, if anything.
pub fn get_u64(storage: &Storage, key: &str) -> Option<u64> {
    ByteReader::new(storage.get(key)?).u64()
}
