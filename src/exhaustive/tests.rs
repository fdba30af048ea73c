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
