//! Exercise 0, exactly once: clients send requests to a server over a network that loses and
//! repeats messages, and the server, which may crash, answers each request exactly once.
//!
//! Node n1 is the server; every other node is a client. Each client makes its requests one
//! after another, numbered 1, 2, 3, ..., as many as its ledger says. The server gives each
//! request it has not seen before the next number, 1, 2, 3, ..., and answers with it. A
//! request must never get two numbers, nor a number go to two requests, though messages are
//! lost and repeated and the server crashes and forgets all it did not sync to storage.
//!
//! Your work goes where the `TODO`s are. Keep the names of the types, `NAME` and `properties`
//! as they are, and `given.rs` too: the scenarios and the grader rely on them.

use super::given::{self, HoldsLedger, Ledger, SERVER};
use faultline::check::Property;
use faultline::protocol::{BugDoc, ParamDoc};
use faultline::{Ctx, NodeId, Process, Protocol, TimerId};
use serde::{Deserialize, Serialize};

/// `params:` in a scenario: the protocol has none, so a scenario that sets one is an error.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Params {}

/// What nodes send each other.
// TODO: a request, from a client to the server, that carries the request's number, and an
// answer, from the server to the client, that carries the request's number and the number
// the server gave it: `Request { req: u64 }` and `Reply { req: u64, seq: u64 }`. An enum
// without variants cannot be built, so as handed out no node can send anything.
#[derive(Clone, Debug, Hash)]
pub enum Msg {}

/// What a node's timers carry.
// TODO: a variant for the timer a client sets when it sends a request, to send it again if
// no answer has come by then: `Retry { req: u64 }`.
#[derive(Clone, Debug, Hash)]
pub enum Tick {}

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
    // TODO: what the server must remember: the last number it gave, and which number it gave
    // each request, so that a request it sees again gets the same one (`given::Table` maps
    // a client and its request number to that number).
}

#[derive(Clone, Debug, Hash)]
struct Client {
    /// The requests this client makes and the answers it got: the properties read it.
    ledger: Ledger,
    // TODO: which request is in flight.
}

impl Process for ExactlyOnce {
    type Message = Msg;
    type Timer = Tick;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        match &mut self.role {
            Role::Server(_server) => {
                // TODO: this runs when the server boots, and again after every restart
                // (`ctx.is_restart()`). A restarted node is built anew by `Protocol::new`:
                // whatever it must not forget has to come back from `ctx.storage()` (see
                // `given::get_table` and `given::get_u64`).
            }
            Role::Client(client) => {
                client.ledger.start(ctx);
                // TODO: send the first request to the server: `ctx.send(SERVER, msg)`. As it
                // is, no client asks for anything, and every scenario fails on
                // `all_answered`. A request sent once may be lost: `ctx.set_timer(delay,
                // Tick::...)` calls `on_timer` once after `delay` (a `SimDuration`, such as
                // `SimDuration::from_millis(100)`), and there the client can send it again.
            }
        }
    }

    fn on_message(&mut self, _ctx: &mut Ctx<'_, Self>, _from: NodeId, msg: Msg) {
        // TODO: the server numbers a request, or finds the number it gave it before, and
        // answers: `ctx.send(from, msg)`. A number it gives must be in its storage, synced
        // (`ctx.storage().sync()`), before the answer leaves. A client records every answer
        // in its ledger, `client.ledger.record(req, seq)`, and moves on to its next request,
        // if it has one (`client.ledger.requests()` says how many it makes), but only once
        // per request.
        match msg {}
    }

    fn on_timer(&mut self, _ctx: &mut Ctx<'_, Self>, _timer: TimerId, tag: Tick) {
        // TODO: a client sends the request again if it is still waiting for its answer
        // (`client.ledger.answer(req)` is `None`), and sets the timer again.
        match tag {}
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
        // TODO: a node as it boots, the first time and after every restart: give the server
        // and the client what you added to them, empty.
        let role = match id == SERVER {
            true => Role::Server(Server {}),
            false => Role::Client(Client {
                ledger: Ledger::default(),
            }),
        };
        ExactlyOnce { role }
    }
}
