//! Monitors with digests: after a handler, a monitor with a digest is called only when the
//! digest of the node that ran it changed; one without a digest sees every event.

use super::*;
use std::cell::RefCell;

/// An event a monitor was shown, with every node's digest then (`None`: down).
type Shown = (Touched, Vec<Option<u64>>);

thread_local! {
    /// Per recording monitor made on this thread, in the order made: each event it was shown.
    static SHOWN: RefCell<Vec<Vec<Shown>>> = const { RefCell::new(Vec::new()) };
}

/// Records what it is shown, and finds nothing.
struct Recording {
    made: usize,
}

fn recording() -> Box<dyn Monitor<TermServer>> {
    let made = SHOWN.with(|shown| {
        let mut shown = shown.borrow_mut();
        shown.push(Vec::new());
        shown.len() - 1
    });
    Box::new(Recording { made })
}

fn leading_digest(node: &TermServer) -> u64 {
    node.leading.map_or(0, |term| term + 1)
}

fn digests_now(sim: &Sim<TermServer>) -> Vec<Option<u64>> {
    sim.states()
        .iter()
        .map(|s| s.as_ref().map(leading_digest))
        .collect()
}

impl Monitor<TermServer> for Recording {
    fn observe(&mut self, sim: &Sim<TermServer>, touched: Touched) -> Result<(), Violation> {
        let now = digests_now(sim);
        SHOWN.with(|shown| shown.borrow_mut()[self.made].push((touched, now)));
        Ok(())
    }
}

fn leading_digests(property: &'static str) -> [PropertyDigest<TermServer>; 1] {
    [PropertyDigest {
        property,
        digest: leading_digest,
        check_node: None,
    }]
}

/// Every event of the run up to `end` that ran a handler or applied a fault, stepped by hand.
fn touched_events(mut sim: Sim<TermServer>, end: SimTime) -> Vec<Touched> {
    let mut touched = Vec::new();
    while let Some(next) = sim.next_event_time_mut().filter(|&t| t <= end) {
        sim.step_next(next).expect("within limits");
        if sim.last_event_touched() != Touched::Nothing {
            touched.push(sim.last_event_touched());
        }
    }
    touched
}

/// Of every event, those a monitor with the leader digest must be shown: every fault, and a
/// handler's event when its node's digest differs from what the monitor last saw of it.
fn due_by_digest(every: &[Shown]) -> Vec<Shown> {
    // Per node, its digest as the digested monitor last saw it (`None`: never seen).
    let mut last: Vec<Option<Option<u64>>> = vec![None; 3];
    let mut due = Vec::new();
    for (touched, now) in every {
        let shown = match *touched {
            Touched::Node(id) => last[id.index()] != Some(now[id.index()]),
            _ => true,
        };
        for id in touched.nodes(3) {
            last[id.index()] = Some(now[id.index()]);
        }
        if shown {
            due.push((*touched, now.clone()));
        }
    }
    due
}

#[test]
fn a_monitor_with_a_digest_is_called_only_when_it_changed_and_one_without_on_every_event() {
    SHOWN.with(|shown| shown.borrow_mut().clear());
    let end = SimTime::from_millis(400);
    let props = [
        Property::monitor("digested", "", recording),
        Property::monitor("every", "", recording),
    ];
    let mut sim = term_server(1, false).expect("builds");
    let mut checker =
        Checker::new(&props, CheckEvery::Event).with_digests(&leading_digests("digested"));
    let stopped = checker.step_until(&mut sim, end).expect("within limits");
    assert!(stopped.is_none(), "{stopped:?}");

    let shown = SHOWN.with(|shown| shown.borrow().clone());
    // Made in order: the run's two monitors, then (debug builds) the digested one's copy
    // that sees every event.
    assert_eq!(shown.len(), if cfg!(debug_assertions) { 3 } else { 2 });
    let (digested, every) = (&shown[0], &shown[1]);
    let touched: Vec<Touched> = every.iter().map(|(t, _)| *t).collect();
    assert_eq!(
        touched,
        touched_events(term_server(1, false).expect("builds"), end)
    );
    assert_eq!(*digested, due_by_digest(every));
    // The requests, the grants' bookkeeping on the term server, and the timers that only
    // ask change no node's leader: skipped. Grants and step-downs change it: shown.
    let handlers = |events: &[(Touched, _)]| {
        events
            .iter()
            .filter(|(t, _)| matches!(t, Touched::Node(_)))
            .count()
    };
    assert!(handlers(digested) > 3, "{digested:?}");
    assert!(handlers(digested) < handlers(every), "{digested:?}");
    assert_eq!(
        digested.iter().filter(|(t, _)| *t == Touched::All).count(),
        2,
        "the crash and the restart"
    );
    if cfg!(debug_assertions) {
        assert_eq!(shown[2], *every);
    }
}

#[test]
fn a_monitor_with_a_digest_that_covers_what_it_reads_finds_what_it_finds_without() {
    let end = SimTime::from_millis(400);
    let props = [one_leader_per_term()];
    let run = |digests: &[PropertyDigest<TermServer>]| {
        let mut sim = term_server(1, true).expect("builds");
        let mut checker = Checker::new(&props, CheckEvery::Event).with_digests(digests);
        let found = checker.step_until(&mut sim, end).expect("within limits");
        found.expect("node 2 leads the term node 1 led")
    };
    assert_eq!(run(&leading_digests("one_leader_per_term")), run(&[]));
}

/// A digest blind to the leader: the event where node 2 leads node 1's term is skipped, and
/// the copy that sees every event catches it.
#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "its digest misses something the monitor reads")]
fn debug_builds_catch_a_monitor_digest_that_misses_what_it_reads() {
    let props = [one_leader_per_term()];
    let blind = [PropertyDigest {
        property: "one_leader_per_term",
        digest: |_: &TermServer| 0,
        check_node: None,
    }];
    let mut sim = term_server(1, true).expect("builds");
    let mut checker = Checker::new(&props, CheckEvery::Event).with_digests(&blind);
    let _ = checker.step_until(&mut sim, SimTime::from_millis(400));
}
