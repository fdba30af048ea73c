//! A command line of your own for a protocol of your own: every `faultline` subcommand (`run`,
//! `validate`, `fuzz`, `shrink`, `merge`, `viz`, `list`, `check-history`) for scenario files
//! that name the protocol below, with its parameters and its bug variant.
//!
//! The protocol is a leader election with terms, as in Raft: a node that hears from no leader
//! for an election timeout starts a new term, votes for itself and asks the others for votes;
//! a node grants one vote per term, remembered in durable storage; a majority makes a leader,
//! which sends heartbeats. Its invariant is that no two nodes ever lead the same term: a
//! monitor (a checker with state of its own) remembers each term's leader, so a leader that
//! crashed and forgot it led still counts. The bug
//! variant `vote-twice` grants a vote to every candidate that asks, so two candidates of one
//! term can both win.
//!
//! ```text
//! cargo run --example custom_cli -- list
//! cargo run --example custom_cli -- run examples/custom_cli/elect.yaml
//! cargo run --example custom_cli -- run examples/custom_cli/vote-twice-bug.yaml --html run.html
//! cargo run --example custom_cli -- fuzz examples/custom_cli/elect.yaml --count 200 --jobs 2
//! ```
//!
//! docs/your-protocol.md walks through it step by step.

use faultline::check::{Monitor, Property, Violation};
use faultline::engine::Touched;
use faultline::protocol::{BugDoc, ParamDoc};
use faultline::{Ctx, NodeId, Process, Protocol, Registry, Sim, SimDuration, TimerId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::process::ExitCode;

fn main() -> ExitCode {
    faultline::cli::main(Registry::builtin().with::<Election>())
}

/// `params:` in a scenario: each field may be left out, and a misspelt one is an error.
#[derive(Clone, Debug, Hash, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
struct Params {
    /// The shortest election timeout; each one is drawn between this and twice it.
    election_timeout: SimDuration,
    /// How often a leader sends heartbeats.
    heartbeat_interval: SimDuration,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            election_timeout: SimDuration::from_millis(150),
            heartbeat_interval: SimDuration::from_millis(50),
        }
    }
}

#[derive(Clone, Debug, Hash)]
enum Msg {
    RequestVote { term: u64 },
    Vote { term: u64, granted: bool },
    Heartbeat { term: u64 },
}

#[derive(Clone, Debug, Hash)]
enum Timer {
    Election,
    Heartbeat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Role {
    Follower,
    Candidate { votes: u32 },
    Leader,
}

/// One node: what `--states` and the HTML viewer show of it is its `Debug`; `Clone` and
/// `Hash` let `explore` copy its states and recognise those it has seen.
#[derive(Clone, Debug, Hash)]
struct Election {
    term: u64,
    voted_for: Option<NodeId>,
    role: Role,
    #[allow(dead_code)] // shown by `Debug` in traces, not read by the protocol
    leader: Option<NodeId>,
    vote_twice: bool,
    params: Params,
    election_timer: Option<TimerId>,
}

impl Election {
    fn reset_election_timer(&mut self, ctx: &mut Ctx<'_, Self>) {
        if let Some(timer) = self.election_timer.take() {
            ctx.cancel_timer(timer);
        }
        let low = self.params.election_timeout;
        let delay = ctx.random_duration(low..=low + low);
        self.election_timer = Some(ctx.set_timer(delay, Timer::Election));
    }

    /// A term and vote must survive a crash, or a restarted node could vote twice in a term.
    fn persist(&mut self, ctx: &mut Ctx<'_, Self>) {
        let voted = self.voted_for.map_or(0, |n| n.0 + 1);
        let mut record = self.term.to_le_bytes().to_vec();
        record.extend_from_slice(&voted.to_le_bytes());
        ctx.storage().put("vote", record);
        ctx.storage().sync();
    }

    fn observe_term(&mut self, ctx: &mut Ctx<'_, Self>, term: u64) {
        if term > self.term {
            self.term = term;
            self.voted_for = None;
            self.role = Role::Follower;
            self.persist(ctx);
        }
    }

    fn majority(ctx: &Ctx<'_, Self>) -> u32 {
        ctx.node_count() / 2 + 1
    }
}

impl Process for Election {
    type Message = Msg;
    type Timer = Timer;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if let Some(record) = ctx.storage().get("vote") {
            let (term, voted) = record.split_at(8);
            self.term = u64::from_le_bytes(term.try_into().unwrap_or_default());
            let voted = u32::from_le_bytes(voted.try_into().unwrap_or_default());
            self.voted_for = voted.checked_sub(1).map(NodeId);
        }
        self.reset_election_timer(ctx);
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match msg {
            Msg::RequestVote { term } => {
                self.observe_term(ctx, term);
                let free = self.voted_for.is_none_or(|v| v == from) || self.vote_twice;
                let granted = term == self.term && free;
                if granted {
                    self.voted_for = Some(from);
                    self.persist(ctx);
                    self.reset_election_timer(ctx);
                }
                ctx.send(
                    from,
                    Msg::Vote {
                        term: self.term,
                        granted,
                    },
                );
            }
            Msg::Vote { term, granted } => {
                self.observe_term(ctx, term);
                if let Role::Candidate { votes } = &mut self.role
                    && term == self.term
                    && granted
                {
                    *votes += 1;
                    if *votes >= Self::majority(ctx) {
                        self.role = Role::Leader;
                        self.leader = Some(ctx.id());
                        ctx.annotate(format_args!("leads term {}", self.term));
                        ctx.broadcast(Msg::Heartbeat { term: self.term });
                        ctx.set_timer(self.params.heartbeat_interval, Timer::Heartbeat);
                    }
                }
            }
            Msg::Heartbeat { term } => {
                self.observe_term(ctx, term);
                if term == self.term {
                    self.role = Role::Follower;
                    self.leader = Some(from);
                    self.reset_election_timer(ctx);
                }
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _timer: TimerId, tag: Timer) {
        match tag {
            Timer::Election if self.role != Role::Leader => {
                self.term += 1;
                self.voted_for = Some(ctx.id());
                self.role = Role::Candidate { votes: 1 };
                self.leader = None;
                self.persist(ctx);
                ctx.broadcast(Msg::RequestVote { term: self.term });
                self.election_timer = None;
                self.reset_election_timer(ctx);
            }
            Timer::Election => self.election_timer = None,
            Timer::Heartbeat if self.role == Role::Leader => {
                ctx.broadcast(Msg::Heartbeat { term: self.term });
                ctx.set_timer(self.params.heartbeat_interval, Timer::Heartbeat);
            }
            Timer::Heartbeat => {}
        }
    }
}

/// Every term's leader, as first seen: ghost state of the checker, kept apart from the nodes,
/// so a leader that has since crashed (and forgotten it led) still counts. `Clone` and `Hash`
/// let `explore` carry it in every state it visits.
#[derive(Clone, Default, Hash)]
struct OneLeaderPerTerm {
    leaders: BTreeMap<u64, NodeId>,
}

impl Monitor<Election> for OneLeaderPerTerm {
    fn fork(&self) -> Option<Box<dyn Monitor<Election> + Send + Sync>> {
        Some(Box::new(self.clone()))
    }

    fn fingerprint(&self) -> u64 {
        faultline::trace::content_hash(self)
    }

    fn observe(&mut self, sim: &Sim<Election>, touched: Touched) -> Result<(), Violation> {
        for id in touched.nodes(sim.node_count()) {
            let Some(node) = sim.node(id).state().filter(|n| n.role == Role::Leader) else {
                continue;
            };
            let first = *self.leaders.entry(node.term).or_insert(id);
            if first != id {
                let (a, b) = (sim.node_name(first), sim.node_name(id));
                let message = format!("{a} and {b} both lead term {}", node.term);
                return Err(Violation::new(message, vec![first, id]));
            }
        }
        Ok(())
    }
}

/// At the end of the run, some live node leads.
fn leader_elected(sim: &Sim<Election>) -> Result<(), Violation> {
    let leads = |s: &Option<Election>| s.as_ref().is_some_and(|s| s.role == Role::Leader);
    if sim.states().iter().any(leads) {
        Ok(())
    } else {
        Err(Violation::new("no node leads", Vec::new()))
    }
}

impl Protocol for Election {
    const NAME: &'static str = "election";
    const SUMMARY: &'static str = "leader election with terms and one durable vote per term";
    type Params = Params;
    const PARAM_DOCS: &'static [ParamDoc] = &[
        ParamDoc {
            name: "election_timeout",
            default: "150ms",
            meaning: "shortest election timeout; each is drawn up to twice it",
        },
        ParamDoc {
            name: "heartbeat_interval",
            default: "50ms",
            meaning: "how often a leader sends heartbeats",
        },
    ];
    const BUG_DOCS: &'static [BugDoc] = &[BugDoc {
        name: "vote-twice",
        description: "a node grants its vote to every candidate of a term, not just the first",
        violates: "one_leader_per_term",
    }];

    fn properties() -> Vec<Property<Self>> {
        vec![
            Property::monitor(
                "one_leader_per_term",
                "no two nodes ever lead the same term, counting leaders that crashed since",
                || Box::new(OneLeaderPerTerm::default()),
            ),
            Property::at_end(
                "leader_elected",
                "some live node leads at the end of the run",
                leader_elected,
            ),
        ]
    }

    fn check_params(params: &Params, _node_count: u32) -> Result<(), String> {
        if params.election_timeout < SimDuration::from_millis(1) {
            return Err("election_timeout must be at least 1ms".into());
        }
        if params.heartbeat_interval >= params.election_timeout {
            return Err(format!(
                "heartbeat_interval {} must be shorter than election_timeout {}, or \
                 followers time out between heartbeats",
                params.heartbeat_interval, params.election_timeout
            ));
        }
        Ok(())
    }

    fn new(_id: NodeId, _node_count: u32, params: &Params, bug: Option<&'static str>) -> Self {
        Election {
            term: 0,
            voted_for: None,
            role: Role::Follower,
            leader: None,
            vote_twice: bug == Some("vote-twice"),
            params: params.clone(),
            election_timer: None,
        }
    }
}
