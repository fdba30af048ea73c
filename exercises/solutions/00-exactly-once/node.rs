//! Exercise 0, exactly once: clients send requests to a server over a network that loses and
//! repeats messages, and the server, which may crash, answers each request exactly once.
//!
//! Reference solution. A client sends its requests one at a time and sends the one in flight
//! again every `RETRY_INTERVAL` until an answer comes; it moves on only on the first answer to
//! that request, so a repeated or late answer changes nothing. The server gives a request it
//! has not seen the next number and notes it in its table, keyed by client and request, and
//! answers a request it has seen from the table, with the number it gave before. Counter and
//! table are synced before the answer leaves, so a restarted server reloads them and goes on
//! where the last answer left it.

use super::given::{self, HoldsLedger, Ledger, SERVER, Table};
use faultline::check::Property;
use faultline::protocol::{BugDoc, ParamDoc};
use faultline::{Ctx, NodeId, Process, Protocol, SimDuration, TimerId};
use serde::{Deserialize, Serialize};

/// How long a client waits for an answer before sending its request again: longer than a
/// round trip (at most 80 ms in these scenarios), so that an answer on its way is not sent
/// for again. A retry too early costs only a message, since the server answers it from its
/// table.
const RETRY_INTERVAL: SimDuration = SimDuration::from_millis(100);

/// Where the server keeps the last number it gave.
const KEY_COUNTER: &str = "counter";

/// `params:` in a scenario: the protocol has none, so a scenario that sets one is an error.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Params {}

/// What nodes send each other.
#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// Client → server: request `req` of the sender (numbered from 1 for each client).
    Request { req: u64 },
    /// Server → client: your request `req` was given number `seq`.
    Reply { req: u64, seq: u64 },
}

/// What a node's timers carry.
#[derive(Clone, Debug, Hash)]
pub enum Tick {
    /// Request `req` may not have got through: send it again if it is still unanswered.
    Retry { req: u64 },
}

/// One node: the server (n1) or a client. Its `Debug` is what `run --html run.html --states`
/// shows of it; `Clone` and `Hash` let faultline copy a node's state and recognise one it has
/// seen, so keep them derived.
#[derive(Clone, Debug, Hash)]
pub struct ExactlyOnce {
    role: Role,
}

#[derive(Clone, Debug, Hash)]
enum Role {
    Server(Server),
    Client(Client),
}

#[derive(Clone, Debug, Hash)]
struct Server {
    /// The last number given; 0 before the first.
    counter: u64,
    /// The number each request was given, so that a request seen again gets the same one.
    table: Table,
}

#[derive(Clone, Debug, Hash)]
struct Client {
    /// The requests this client makes and the answers it got: the properties read it.
    ledger: Ledger,
    /// The request in flight; 0 before the first, and the last once all are answered.
    current: u64,
}

impl Server {
    fn on_request(&mut self, ctx: &mut Ctx<'_, ExactlyOnce>, client: NodeId, req: u64) {
        let seq = match self.table.get(&(client, req)) {
            // A retry, or a copy the network made: the request was applied already.
            Some(&seq) => seq,
            None => self.apply(ctx, client, req),
        };
        ctx.send(client, Msg::Reply { req, seq });
    }

    /// Gives request `req` of `client` the next number, durable before it is returned.
    fn apply(&mut self, ctx: &mut Ctx<'_, ExactlyOnce>, client: NodeId, req: u64) -> u64 {
        self.counter += 1;
        self.table.insert((client, req), self.counter);
        let storage = ctx.storage();
        given::put_u64(storage, KEY_COUNTER, self.counter);
        given::put_table(storage, &self.table);
        // An answer is a promise: once it leaves, a crash must not take the counter back
        // below it nor lose the request it numbered, and only synced writes survive a crash.
        storage.sync();
        self.counter
    }
}

impl Client {
    /// Sends the next request that has no answer yet, if any is left, and sets the timer
    /// that sends it again.
    fn send_next(&mut self, ctx: &mut Ctx<'_, ExactlyOnce>) {
        while self.current < self.ledger.requests() {
            self.current += 1;
            // A client that restarted after a crash may get answers to the requests of its
            // life before, ahead of the one in flight: those it need not send again.
            if self.ledger.answer(self.current).is_none() {
                self.send_current(ctx);
                return;
            }
        }
    }

    fn send_current(&mut self, ctx: &mut Ctx<'_, ExactlyOnce>) {
        let req = self.current;
        ctx.send(SERVER, Msg::Request { req });
        ctx.set_timer(RETRY_INTERVAL, Tick::Retry { req });
    }

    fn on_reply(&mut self, ctx: &mut Ctx<'_, ExactlyOnce>, req: u64, seq: u64) {
        let first = self.ledger.answer(req).is_none();
        self.ledger.record(req, seq);
        // Only the first answer to the request in flight moves the client on: a repeated or
        // late one would otherwise skip a request that was never sent.
        if first && req == self.current {
            self.send_next(ctx);
        }
    }

    fn on_retry(&mut self, ctx: &mut Ctx<'_, ExactlyOnce>, req: u64) {
        if req == self.current && self.ledger.answer(req).is_none() {
            self.send_current(ctx);
        }
    }
}

impl Process for ExactlyOnce {
    type Message = Msg;
    type Timer = Tick;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        match &mut self.role {
            // A first start finds the storage empty, and a restart what was synced.
            Role::Server(server) => {
                server.counter = given::get_u64(ctx.storage(), KEY_COUNTER).unwrap_or(0);
                server.table = given::get_table(ctx.storage());
            }
            Role::Client(client) => {
                client.ledger.start(ctx);
                client.send_next(ctx);
            }
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match (&mut self.role, msg) {
            (Role::Server(server), Msg::Request { req }) => server.on_request(ctx, from, req),
            (Role::Client(client), Msg::Reply { req, seq }) => client.on_reply(ctx, req, seq),
            // Only a confused peer sends a request to a client or an answer to the server.
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _timer: TimerId, tag: Tick) {
        let Tick::Retry { req } = tag;
        if let Role::Client(client) = &mut self.role {
            client.on_retry(ctx, req);
        }
    }
}

impl HoldsLedger for ExactlyOnce {
    fn ledger(&self) -> Option<&Ledger> {
        match &self.role {
            Role::Client(client) => Some(&client.ledger),
            Role::Server(_) => None,
        }
    }
}

impl Protocol for ExactlyOnce {
    const NAME: &'static str = "exactly-once";
    const SUMMARY: &'static str =
        "a server that answers each client request exactly once, through loss, repeats and crashes";
    type Params = Params;
    const PARAM_DOCS: &'static [ParamDoc] = &[];
    const BUG_DOCS: &'static [BugDoc] = &[];

    fn properties() -> Vec<Property<Self>> {
        vec![
            Property::always(
                "exactly_once",
                "no request was answered with two different numbers, and no number was given \
                 to two requests",
                given::exactly_once,
            ),
            Property::at_end(
                "all_answered",
                "every client that is up at the end got an answer to each of its requests",
                given::all_answered,
            ),
            Property::at_end(
                "none_skipped",
                "the numbers the clients hold run 1, 2, 3, ... with none skipped",
                given::none_skipped,
            ),
        ]
    }

    fn new(id: NodeId, _node_count: u32, _params: &Params, _bug: Option<&'static str>) -> Self {
        let role = match id == SERVER {
            true => Role::Server(Server {
                counter: 0,
                table: Table::new(),
            }),
            false => Role::Client(Client {
                ledger: Ledger::default(),
                current: 0,
            }),
        };
        ExactlyOnce { role }
    }
}
