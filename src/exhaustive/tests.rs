use super::*;
use crate::protocols::paxos::{Params, Paxos};

fn paxos(bug: Option<&'static str>) -> Explorer<Paxos> {
    let params = Params::default();
    Explorer::new(3, move |id| Paxos::new(id, 3, &params, bug))
}

#[test]
fn correct_paxos_is_exhausted_and_the_same_twice() {
    let budgets = Budgets {
        timers_max: 1,
        ..Budgets::default()
    };
    let a = paxos(None).budgets(budgets).run().expect("runs");
    assert_eq!(a.verdict, Verdict::Exhausted, "{a:?}");
    let b = paxos(None).budgets(budgets).run().expect("runs");
    assert_eq!((a.states, a.unique_states), (b.states, b.unique_states));
    assert!(a.unique_states > 10, "{}", a.unique_states);
    assert!(a.invariants.contains(&"agreement"));
    assert_eq!(a.end_properties, ["all_learned"]);
    assert_eq!(
        a.end_states, 0,
        "a proposer's retry timer is always pending"
    );
}

#[test]
fn more_budget_reaches_more_states() {
    let none = paxos(None)
        .budgets(Budgets {
            timers_max: 0,
            ..Budgets::default()
        })
        .run()
        .expect("runs");
    let one = paxos(None)
        .budgets(Budgets {
            timers_max: 1,
            ..Budgets::default()
        })
        .run()
        .expect("runs");
    assert_eq!(
        none.unique_states, 1,
        "no timer, no proposal: nothing happens"
    );
    assert!(one.unique_states > 10, "{}", one.unique_states);
}

#[test]
fn a_short_quorum_breaks_agreement_on_a_shortest_path() {
    let budgets = Budgets {
        timers_max: 1,
        ..Budgets::default()
    };
    let outcome = paxos(Some("one-short-quorum"))
        .budgets(budgets)
        .run()
        .expect("runs");
    assert_eq!(outcome.verdict, Verdict::Violation);
    let found = outcome.counterexample.expect("a counterexample");
    assert_eq!(found.violation.property, "agreement");
    assert!(!found.steps.is_empty(), "{:?}", found.steps);
    assert!(
        matches!(found.steps[0].event, Event::Fire { .. }),
        "{:?}",
        found.steps[0]
    );
}

#[test]
fn states_max_stops_the_search() {
    let outcome = paxos(None).states_max(100).run().expect("runs");
    assert_eq!(outcome.verdict, Verdict::Budget);
    assert_eq!(outcome.unique_states, 100);
}

#[test]
fn limits_out_of_range_are_refused() {
    let too_many = Budgets {
        drops_max: BUDGET_MAX + 1,
        ..Budgets::default()
    };
    let e = paxos(None).budgets(too_many).run().expect_err("refused");
    assert!(e.to_string().contains("drops_max"), "{e}");
    assert!(paxos(None).states_max(0).run().is_err());
}

fn register(
    bug: Option<&'static str>,
    clients: u32,
) -> Explorer<crate::protocols::register::Register> {
    use crate::protocols::register::{Params, Register};
    use crate::workload::{Func, Model, WorkloadConfig};
    let params = Params::default();
    let mut workload = WorkloadConfig::new(Model::CasRegister);
    workload.clients = clients;
    workload.mix = vec![(Func::Read, 1.0), (Func::Write, 1.0)];
    Explorer::new(3, move |id| Register::new(id, 3, &params, bug))
        .workload(workload, 0)
        .budgets(Budgets {
            timers_max: 1,
            ..Budgets::default()
        })
}

#[test]
fn clients_are_explored_and_their_history_judged_the_same_twice() {
    let a = register(None, 2).run().expect("runs");
    assert_eq!(a.verdict, Verdict::Exhausted, "{a:?}");
    assert!(a.invariants.contains(&"linearizable"), "{:?}", a.invariants);
    let b = register(None, 2).run().expect("runs");
    assert_eq!((a.states, a.unique_states), (b.states, b.unique_states));
    let unchecked = register(None, 2).check_history(false).run().expect("runs");
    assert!(!unchecked.invariants.contains(&"linearizable"));
    let found = register(Some("read-any-replica"), 2).run().expect("runs");
    let path = found.counterexample.expect("a stale read");
    assert_eq!(path.violation.property, "linearizable");
    let invoked = path
        .steps
        .iter()
        .filter(|s| matches!(s.event, Event::Invoke { .. }));
    assert_eq!(invoked.count(), 2, "{:?}", path.steps);
}

#[test]
fn a_workload_out_of_range_is_refused() {
    let too_many = register(None, CLIENTS_MAX + 1).run();
    assert!(matches!(too_many, Err(ExploreError::Limit(_))));
    let budgets = Budgets {
        client_ops_max: BUDGET_MAX + 1,
        ..Budgets::default()
    };
    let too_deep = register(None, 1).budgets(budgets).run();
    assert!(matches!(too_deep, Err(ExploreError::Limit(_))));
}

#[test]
fn depth_first_sees_the_same_states_and_finds_a_path_that_replays() {
    let budgets = Budgets {
        timers_max: 1,
        drops_max: 1,
        ..Budgets::default()
    };
    let breadth = paxos(None).budgets(budgets).run().expect("runs");
    let depth = paxos(None)
        .budgets(budgets)
        .order(Order::DepthFirst)
        .run()
        .expect("runs");
    assert_eq!(depth.verdict, Verdict::Exhausted);
    assert_eq!(depth.order, Order::DepthFirst);
    assert_eq!(breadth.unique_states, depth.unique_states);
    let budgets = Budgets {
        timers_max: 2,
        ..Budgets::default()
    };
    let bug = || paxos(Some("ignore-accepted")).budgets(budgets);
    let shortest = bug().run().expect("runs").counterexample.expect("found");
    let found = bug().order(Order::DepthFirst).run().expect("runs");
    let path = found.counterexample.expect("found depth first too");
    assert!(path.steps.len() >= shortest.steps.len());
    let events: Vec<Event> = path.steps.iter().map(|s| s.event.clone()).collect();
    let replay = bug().replay(&events).expect("the path fits");
    let broken = replay.violation.expect("and breaks the property again");
    assert_eq!(broken.property, path.violation.property);
}

#[test]
fn several_threads_see_the_same_states_and_find_the_same_path() {
    let budgets = Budgets {
        timers_max: 1,
        drops_max: 1,
        ..Budgets::default()
    };
    let one = paxos(None).budgets(budgets).run().expect("runs");
    let three = paxos(None).budgets(budgets).jobs(3).run().expect("runs");
    assert_eq!(three.verdict, Verdict::Exhausted);
    assert_eq!(
        (one.unique_states, one.depth_max),
        (three.unique_states, three.depth_max)
    );
    // Without sleep sets, the same transitions too.
    let plain = |jobs| {
        let explorer = paxos(None).budgets(budgets).reduction(false).jobs(jobs);
        explorer.run().expect("runs")
    };
    let (one, three) = (plain(1), plain(3));
    assert_eq!(
        (one.states, one.unique_states, one.depth_max),
        (three.states, three.unique_states, three.depth_max)
    );
    // With them, whatever the number of threads (which cuts the levels into batches).
    let reduced = |jobs| paxos(None).budgets(budgets).jobs(jobs).run().expect("runs");
    assert_eq!(reduced(2).states, reduced(3).states);
    let budgets = Budgets {
        timers_max: 2,
        ..Budgets::default()
    };
    let bug = |jobs| {
        paxos(Some("ignore-accepted"))
            .budgets(budgets)
            .jobs(jobs)
            .run()
            .expect("runs")
    };
    let (one, two) = (bug(1), bug(2));
    let path = |o: &Outcome| {
        let steps = &o.counterexample.as_ref().expect("found").steps;
        steps.iter().map(|s| s.event.clone()).collect::<Vec<_>>()
    };
    assert_eq!(path(&one), path(&two));
    assert_eq!(
        (one.states, one.unique_states),
        (two.states, two.unique_states)
    );
    let clients = register(Some("read-any-replica"), 2)
        .jobs(2)
        .run()
        .expect("runs");
    assert_eq!(clients.verdict, Verdict::Violation);
}

#[test]
fn jobs_out_of_range_or_depth_first_are_refused() {
    for jobs in [0, JOBS_MAX + 1] {
        let refused = paxos(None).jobs(jobs).run();
        assert!(matches!(refused, Err(ExploreError::Limit(_))), "{jobs}");
    }
    let refused = paxos(None).jobs(2).order(Order::DepthFirst).run();
    assert!(matches!(refused, Err(ExploreError::Limit(_))));
}

#[test]
fn a_timed_out_operation_is_indeterminate_and_the_client_goes_on() {
    let budgets = Budgets {
        timers_max: 1,
        client_ops_max: 2,
        timeouts_max: 1,
        ..Budgets::default()
    };
    let outcome = register(None, 1).budgets(budgets).run().expect("runs");
    assert_eq!(
        outcome.verdict,
        Verdict::Exhausted,
        "{:?}",
        outcome.counterexample
    );
    let plain = register(None, 1)
        .budgets(Budgets {
            timeouts_max: 0,
            ..budgets
        })
        .run()
        .expect("runs");
    assert!(
        outcome.unique_states > plain.unique_states,
        "timing out lets more happen: {} against {}",
        outcome.unique_states,
        plain.unique_states
    );
}

/// The same search with and without sleep sets.
fn both_ways<P: Protocol>(explorer: impl Fn() -> Explorer<P>) -> (Outcome, Outcome) {
    let reduced = explorer().run().expect("runs");
    let plain = explorer().reduction(false).run().expect("runs");
    assert!(reduced.reduction && !plain.reduction);
    (reduced, plain)
}

#[test]
fn sleep_sets_visit_every_state_and_try_fewer_transitions() {
    let faults = Budgets {
        timers_max: 1,
        drops_max: 1,
        duplicates_max: 1,
        crashes_max: 1,
        ..Budgets::default()
    };
    let losses = Budgets {
        duplicates_max: 0,
        ..faults
    };
    let (reduced, plain) = both_ways(|| paxos(None).budgets(losses));
    assert_eq!(reduced.unique_states, plain.unique_states);
    assert!(
        reduced.states < plain.states,
        "{} against {}",
        reduced.states,
        plain.states
    );
    assert_eq!(reduced.coverage, plain.coverage);
    assert_eq!(reduced.end_states, plain.end_states);

    use crate::protocols::two_phase_commit::{Params as TpcParams, TwoPhaseCommit};
    let commit = || {
        let params = TpcParams::default();
        Explorer::new(3, move |id| TwoPhaseCommit::new(id, 3, &params, None)).budgets(faults)
    };
    let (reduced, plain) = both_ways(commit);
    assert_eq!(reduced.verdict, plain.verdict);
    assert_eq!(
        (reduced.unique_states, reduced.end_states),
        (plain.unique_states, plain.end_states)
    );
    assert!(reduced.states < plain.states);

    // Clients: their events, and replies, are ordered; their history is judged either way.
    let budgets = Budgets {
        timers_max: 1,
        timeouts_max: 1,
        ..Budgets::default()
    };
    let (reduced, plain) = both_ways(|| register(None, 2).budgets(budgets));
    assert_eq!(reduced.verdict, Verdict::Exhausted);
    assert_eq!(reduced.unique_states, plain.unique_states);
    assert!(reduced.states < plain.states);
}

#[test]
fn sleep_sets_find_the_same_violations_on_paths_as_short() {
    let budgets = Budgets {
        timers_max: 2,
        ..Budgets::default()
    };
    for bug in ["ignore-accepted", "break-promise"] {
        let (reduced, plain) = both_ways(|| paxos(Some(bug)).budgets(budgets));
        let steps = |o: &Outcome| o.counterexample.as_ref().expect("found").steps.len();
        assert_eq!(steps(&reduced), steps(&plain), "{bug}");
        let events: Vec<Event> = (reduced.counterexample.as_ref().expect("found").steps)
            .iter()
            .map(|s| s.event.clone())
            .collect();
        let replay = paxos(Some(bug))
            .budgets(budgets)
            .replay(&events)
            .expect("fits");
        assert!(
            replay.violation.is_some(),
            "{bug}: the path breaks agreement again"
        );
    }
    let (reduced, plain) = both_ways(|| register(Some("read-any-replica"), 2));
    assert_eq!(reduced.verdict, Verdict::Violation);
    let steps = |o: &Outcome| o.counterexample.as_ref().expect("found").steps.len();
    assert_eq!(steps(&reduced), steps(&plain));
}

#[test]
fn monitors_that_commute_keep_the_reduction_and_others_turn_it_off() {
    use crate::protocols::raft::{Params as RaftParams, Raft};
    let raft = || {
        let params = RaftParams::default();
        Explorer::new(3, move |id| Raft::new(id, 3, &params, None)).budgets(Budgets {
            timers_max: 2,
            ..Budgets::default()
        })
    };
    let (reduced, plain) = both_ways(raft);
    assert!(
        reduced.invariants.contains(&"election_safety"),
        "{:?}",
        reduced.invariants
    );
    assert_eq!(reduced.unique_states, plain.unique_states);
    assert!(reduced.states < plain.states);

    /// A monitor that remembers the order it saw nodes in: it does not commute.
    #[derive(Clone, Hash, Default)]
    struct Order(Vec<u32>);
    impl crate::check::Monitor<Paxos> for Order {
        fn observe(
            &mut self,
            _: &crate::engine::Sim<Paxos>,
            touched: crate::engine::Touched,
        ) -> Result<(), crate::check::Violation> {
            if let crate::engine::Touched::Node(id) = touched {
                self.0.push(id.0);
            }
            Ok(())
        }
        fn fork(&self) -> Option<Box<dyn crate::check::Monitor<Paxos> + Send + Sync>> {
            Some(Box::new(self.clone()))
        }
        fn fingerprint(&self) -> u64 {
            crate::trace::content_hash(self)
        }
    }
    let ordered = crate::check::Property::monitor("order", "the order nodes ran in", || {
        Box::new(Order::default())
    });
    let outcome = paxos(None)
        .properties(vec![ordered])
        .budgets(Budgets {
            timers_max: 1,
            ..Budgets::default()
        })
        .run()
        .expect("runs");
    assert!(
        !outcome.reduction,
        "a monitor that does not commute turns it off"
    );
}
