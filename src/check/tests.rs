//! Tests of the property kinds: a monitor that outlives a crash, conditions to reach, and
//! the order in which violations found by one event are reported.

use super::*;
use crate::engine::SimBuilder;
use crate::faults::{Fault, TimedFault};
use crate::process::Ctx;
use crate::testing::{FailureKind, sweep_builder};
use crate::time::SimDuration;
use std::collections::BTreeMap;

/// A toy election: node 0 hands out terms, one per request, and every other node asks once
/// (node i at i × 100 ms), leads the term it is given for 50 ms, then steps down. The term
/// server keeps its counter in storage; with `forgets`, it never reads it back after a
/// restart and hands out term 1 again.
#[derive(Clone, Debug)]
struct TermServer {
    forgets: bool,
    next_term: u64,
    leading: Option<u64>,
}

#[derive(Clone, Debug, Hash)]
enum Msg {
    Ask,
    Grant(u64),
}

#[derive(Debug, Hash)]
enum Tick {
    Ask,
    StepDown,
}

const COUNTER_KEY: &str = "next_term";

impl Process for TermServer {
    type Message = Msg;
    type Timer = Tick;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        let stored = ctx
            .storage()
            .get(COUNTER_KEY)
            .and_then(|b| b.try_into().ok());
        self.next_term = match (ctx.is_restart() && !self.forgets, stored) {
            (true, Some(bytes)) => u64::from_le_bytes(bytes),
            _ => 1,
        };
        if ctx.id() != NodeId(0) && !ctx.is_restart() {
            let wait = SimDuration::from_millis(100 * u64::from(ctx.id().0));
            ctx.set_timer(wait, Tick::Ask);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Ask => {
                let term = self.next_term;
                self.next_term += 1;
                ctx.storage().put(COUNTER_KEY, self.next_term.to_le_bytes());
                ctx.storage().sync();
                ctx.send(from, Msg::Grant(term));
            }
            Msg::Grant(term) => {
                self.leading = Some(term);
                ctx.set_timer(SimDuration::from_millis(50), Tick::StepDown);
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _timer: crate::TimerId, tag: Tick) {
        match tag {
            Tick::Ask => ctx.send(NodeId(0), Msg::Ask),
            Tick::StepDown => self.leading = None,
        }
    }
}

/// The worked example: "at most one leader per term, ever" in a few lines of ghost state.
#[derive(Default)]
struct OneLeaderPerTerm {
    leader_of: BTreeMap<u64, NodeId>,
}

impl Monitor<TermServer> for OneLeaderPerTerm {
    fn observe(&mut self, sim: &Sim<TermServer>, touched: Touched) -> Result<(), Violation> {
        for id in touched.nodes(sim.node_count()) {
            let Some(term) = sim.node(id).state().and_then(|n| n.leading) else {
                continue;
            };
            let first = *self.leader_of.entry(term).or_insert(id);
            if first != id {
                let message = format!("{id} and {first} both led term {term}");
                return Err(Violation::new(message, vec![id, first]));
            }
        }
        Ok(())
    }
}

fn one_leader_per_term() -> Property<TermServer> {
    Property::monitor(
        "one_leader_per_term",
        "no two nodes ever lead the same term",
        || Box::new(OneLeaderPerTerm::default()),
    )
}

/// The same claim judged on live states only: two nodes leading one term at once.
fn no_two_live_leaders(sim: &Sim<TermServer>) -> Result<(), Violation> {
    let terms: Vec<u64> = sim
        .states()
        .iter()
        .flatten()
        .filter_map(|n| n.leading)
        .collect();
    match (1..terms.len()).any(|i| terms[..i].contains(&terms[i])) {
        true => Err(Violation::new("two live leaders of one term", Vec::new())),
        false => Ok(()),
    }
}

/// Three nodes; the term server crashes at 120 ms and restarts at 130 ms, between node 1's
/// term (asked at 100 ms, over by about 160 ms) and node 2's (asked at 200 ms).
fn term_server(seed: u64, forgets: bool) -> Result<Sim<TermServer>, SimError> {
    let at = |ms, fault| TimedFault {
        at: SimTime::from_millis(ms),
        fault,
    };
    SimBuilder::new(seed)
        .nodes(3)
        .faults(vec![
            at(120, Fault::Crash(NodeId(0))),
            at(130, Fault::Restart(NodeId(0))),
        ])
        .build(move |_| TermServer {
            forgets,
            next_term: 1,
            leading: None,
        })
}

#[test]
fn a_monitor_remembers_a_leader_across_the_crash_that_made_its_term_reused() {
    let end = SimTime::from_millis(400);
    let live = [Property::always(
        "live",
        "no two live leaders",
        no_two_live_leaders,
    )];
    let mut sim = term_server(1, true).expect("builds");
    let found = run_checked(&mut sim, end, &live).expect("within limits");
    assert!(
        found.is_empty(),
        "no state shows two leaders at once: {found:?}"
    );

    let mut sim = term_server(1, true).expect("builds");
    let found = run_checked(&mut sim, end, &[one_leader_per_term()]).expect("within limits");
    let [v] = &found[..] else {
        panic!("one violation expected: {found:?}");
    };
    assert_eq!(v.property, "one_leader_per_term");
    // Default names count from n1: node 2 (n3) led the term node 1 (n2) had led.
    assert_eq!(v.nodes, ["n3", "n2"]);
    assert!(
        v.time > SimTime::from_millis(200) && v.event.is_some(),
        "{v:?}"
    );

    let mut sim = term_server(1, false).expect("builds");
    let found = run_checked(&mut sim, end, &[one_leader_per_term()]).expect("within limits");
    assert!(
        found.is_empty(),
        "a server that remembers hands out term 2: {found:?}"
    );
}

#[test]
fn each_run_of_a_sweep_gets_a_fresh_monitor() {
    // Were the ghost state shared, the second seed would find node 1's term 1 recorded.
    let build = |seed| term_server(seed, false);
    let summary = sweep_builder(0..3, build, &[one_leader_per_term()], SimTime::from_secs(1))
        .unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(summary.seeds, 3);
}

fn someone_leads_term(sim: &Sim<TermServer>, term: u64) -> Result<(), Violation> {
    match sim
        .states()
        .iter()
        .flatten()
        .any(|n| n.leading == Some(term))
    {
        true => Ok(()),
        false => Err(Violation::new(
            format!("no node leads term {term}"),
            Vec::new(),
        )),
    }
}

#[test]
fn a_sometimes_property_fails_a_sweep_only_when_no_seed_reached_it() {
    let reached = Property::sometimes("term_2", "a node leads term 2", |sim| {
        someone_leads_term(sim, 2)
    });
    let build = |seed| term_server(seed, false);
    let end = SimTime::from_secs(1);
    let summary = sweep_builder(0..2, build, std::slice::from_ref(&reached), end)
        .unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(summary.sometimes_reached.get("term_2"), Some(&2));

    let never = Property::sometimes("term_3", "a node leads term 3", |sim| {
        someone_leads_term(sim, 3)
    });
    let failure = sweep_builder(0..2, build, &[reached, never], end).expect_err("never reached");
    let kind = FailureKind::NeverReached {
        property: "term_3".to_string(),
        seeds: 2,
    };
    assert_eq!(failure.kind, kind);
    let message = failure.to_string();
    assert!(
        message.contains("`sometimes` property term_3 was never reached in 2 seeds"),
        "{message}"
    );
}

#[test]
fn an_eventually_property_holds_once_reached_though_not_at_the_end() {
    let led = Property::eventually("term_1", "a node led term 1", |sim| {
        someone_leads_term(sim, 1)
    });
    let at_end = Property::at_end("term_1_at_end", "a node leads term 1 at the end", |sim| {
        someone_leads_term(sim, 1)
    });
    let never = Property::eventually("term_9", "a node led term 9", |sim| {
        someone_leads_term(sim, 9)
    });
    let mut sim = term_server(1, false).expect("builds");
    let props = [led, at_end, never];
    let found = run_checked(&mut sim, SimTime::from_secs(1), &props).expect("within limits");
    let names: Vec<&str> = found.iter().map(|v| v.property.as_str()).collect();
    assert_eq!(names, ["term_1_at_end", "term_9"]);
    assert!(
        found[1].message.starts_with("never held during the run"),
        "{found:?}"
    );
}

/// A monitor that counts what it is shown, and fails at its `fail_at`-th event.
struct Counting {
    events: u64,
    fail_at: u64,
}

impl Monitor<TermServer> for Counting {
    fn observe(&mut self, _sim: &Sim<TermServer>, touched: Touched) -> Result<(), Violation> {
        assert_ne!(
            touched,
            Touched::Nothing,
            "only events that may change a node"
        );
        self.events += 1;
        match self.events == self.fail_at {
            true => Err(Violation::new("counted", Vec::new())),
            false => Ok(()),
        }
    }
}

#[test]
fn monitors_see_every_touched_event_even_when_invariants_are_checked_rarely() {
    let fails_at_three = Property::monitor("third", "fails on the third event", || {
        Box::new(Counting {
            events: 0,
            fail_at: 3,
        })
    });
    let props = [fails_at_three];
    let mut sim = term_server(1, false).expect("builds");
    let mut checker = Checker::new(&props, CheckEvery::End);
    let stopped = checker
        .step_until(&mut sim, SimTime::from_secs(1))
        .expect("within limits");
    assert!(
        stopped.is_none(),
        "with `End`, the run goes on: {stopped:?}"
    );
    let found = checker.finish(&sim);
    // Three nodes start, one event each: the third start is the third event, and the
    // report names it though it comes at the end.
    let [v] = &found[..] else {
        panic!("one violation expected: {found:?}");
    };
    assert_eq!((v.property.as_str(), v.time), ("third", SimTime::ZERO));
    assert_eq!(v.event, Some(2));
}

#[test]
fn of_an_invariant_and_a_monitor_broken_by_one_event_the_one_declared_first_is_reported() {
    let first_event = || -> Box<dyn Monitor<TermServer>> {
        Box::new(Counting {
            events: 0,
            fail_at: 1,
        })
    };
    let never = |_: &Sim<TermServer>| Err(Violation::new("never holds", Vec::new()));
    let orders = [
        (
            Property::monitor("m", "", first_event),
            Property::always("a", "", never),
        ),
        (
            Property::always("a", "", never),
            Property::monitor("m", "", first_event),
        ),
    ];
    for (first, second) in orders {
        let expected = first.name;
        let props = [first, second];
        let mut sim = term_server(1, false).expect("builds");
        let found = run_checked(&mut sim, SimTime::from_secs(1), &props).expect("within limits");
        assert_eq!(found[0].property, expected);
    }
}

#[test]
fn a_monitor_cannot_be_a_liveness_condition() {
    let props = [one_leader_per_term()];
    let goal = Eventually {
        condition: "one_leader_per_term".to_string(),
        from: SimTime::ZERO,
        within: SimDuration::from_secs(1),
        after: "the start".to_string(),
    };
    let error = Checker::new(&props, CheckEvery::Event)
        .eventually(goal)
        .err()
        .expect("refused");
    assert!(error.contains("is a monitor"), "{error}");
}

/// An `AtEnd` property that a liveness goal names is judged by the goal in its window, not
/// again at the end, where it may no longer hold though the goal saw it hold.
#[test]
fn an_at_end_property_named_by_a_goal_is_judged_by_the_goal_alone() {
    // Node 1 leads term 1 from about 100 ms to 150 ms; at the end (1 s) nobody leads.
    let leads = Property::at_end("term_1", "a node leads term 1", |sim| {
        someone_leads_term(sim, 1)
    });
    let props = [leads];
    let goal = Eventually {
        condition: "term_1".into(),
        from: SimTime::ZERO,
        within: SimDuration::from_millis(500),
        after: "the start".into(),
    };
    let mut sim = term_server(1, false).expect("builds");
    let mut checker = Checker::new(&props, CheckEvery::Event)
        .eventually(goal.clone())
        .expect("a state condition");
    assert!(
        checker
            .step_until(&mut sim, SimTime::from_secs(1))
            .expect("runs")
            .is_none()
    );
    assert!(
        checker.finish(&sim).is_empty(),
        "the goal held; the end does not judge again"
    );
    assert_eq!(checker.goals()[0].status, "held");
    // Without the goal, the same property fails at the end.
    let mut sim = term_server(1, false).expect("builds");
    let found = run_checked(&mut sim, SimTime::from_secs(1), &props).expect("within limits");
    assert_eq!(found.len(), 1, "{found:?}");
    // A goal that never held still fails, once, as the goal.
    let never = Eventually {
        condition: "term_1".into(),
        from: SimTime::from_millis(300),
        within: SimDuration::from_millis(500),
        after: "300ms".into(),
    };
    let mut sim = term_server(1, false).expect("builds");
    let mut checker = Checker::new(&props, CheckEvery::Event)
        .eventually(never)
        .expect("a state condition");
    let broken = checker
        .step_until(&mut sim, SimTime::from_secs(1))
        .expect("runs");
    assert!(broken.is_some_and(|v| v.property == "term_1"));
}

mod digests;
