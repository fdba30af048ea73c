//! The provided services as a protocol meets them: calls cross a lossy network, answers are
//! lost to crashes and held by pauses, runs stay deterministic, and what a run does not
//! provide cannot be called.

use faultline::check::Property;
use faultline::protocol::{BugDoc, ParamDoc};
use faultline::services::{KvOp, KvResult, Service, ServiceReply};
use faultline::trace::{TraceEvent, TraceKind, TraceSink};
use faultline::{
    Ctx, Fault, LinkConfig, NetworkConfig, NodeId, Process, Protocol, Registry, SimBuilder,
    SimDuration, SimTime, TimedFault, TimerId,
};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

/// Node n1 increments key 0 of a service by compare-and-set every 10 ms; every node counts
/// what it called and what came back.
#[derive(Clone, Debug, Default, Hash)]
struct Caller {
    service: Option<Service>,
    calls: u64,
    answers: u64,
    /// The value the last successful compare-and-set wrote.
    count: i64,
    /// When the last answer arrived.
    answered_at: Option<SimTime>,
}

impl Caller {
    fn using(service: Service) -> Caller {
        Caller {
            service: Some(service),
            ..Caller::default()
        }
    }

    fn next(&mut self, ctx: &mut Ctx<'_, Self>) {
        let service = self.service.unwrap_or(Service::LinKv);
        let (from, to) = (Some(self.count).filter(|&c| c > 0), self.count + 1);
        ctx.call(service, KvOp::Cas { key: 0, from, to });
        self.calls += 1;
    }
}

impl Process for Caller {
    type Message = ();
    type Timer = ();
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if ctx.id() == NodeId(0) {
            ctx.set_timer(SimDuration::from_millis(10), ());
        }
    }
    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _: TimerId, _: ()) {
        self.next(ctx);
        ctx.set_timer(SimDuration::from_millis(10), ());
    }
    fn on_service_reply(&mut self, ctx: &mut Ctx<'_, Self>, reply: ServiceReply) {
        self.answers += 1;
        self.answered_at = Some(ctx.now());
        if let (KvResult::Ok, KvOp::Cas { to, .. }) = (reply.result, reply.op) {
            self.count = to;
        }
    }
}

fn sim(seed: u64, drop: f64, faults: Vec<TimedFault>) -> faultline::Sim<Caller> {
    let network = NetworkConfig {
        default: LinkConfig {
            drop,
            ..LinkConfig::default()
        },
        ..NetworkConfig::default()
    };
    SimBuilder::new(seed)
        .nodes(2)
        .network(network)
        .faults(faults)
        .services(&[Service::LinKv])
        .build(|_| Caller::using(Service::LinKv))
        .expect("builds")
}

fn n1(sim: &faultline::Sim<Caller>) -> &Caller {
    sim.node(NodeId(0)).state().expect("n1 is up")
}

#[test]
fn calls_and_answers_cross_a_lossy_network_deterministically() {
    let run = |seed| {
        let mut s = sim(seed, 0.2, Vec::new());
        s.run_until(SimTime::from_secs(2)).expect("runs");
        let (n, stats) = (n1(&s), s.stats());
        assert_eq!(
            (stats.service_calls, stats.service_answers),
            (n.calls, n.answers)
        );
        let unanswered = stats.service_calls - stats.service_answers;
        // At most one call is still on its way when the run stops.
        assert!(unanswered - stats.service_lost <= 1, "{stats:?}");
        (n.calls, n.answers, n.count, s.trace_hash())
    };
    let (calls, answers, count, hash) = run(5);
    assert_eq!(calls, 200, "a call every 10 ms for 2 s");
    // Each crossing is lost with probability 0.2: about 64% of calls are answered.
    assert!(
        answers > 100 && answers < 160,
        "{answers} answers of {calls}"
    );
    assert!(count > 0 && count as u64 <= answers, "count {count}");
    assert_eq!(run(5), (calls, answers, count, hash), "same seed, same run");
    assert_ne!(run(6).3, hash, "another seed, another run");
}

#[test]
fn an_answer_to_a_node_that_crashed_since_its_call_never_arrives() {
    let at = SimTime::from_millis;
    // The call leaves at 10 ms; the default latency is 1–10 ms each way.
    let faults = vec![
        TimedFault {
            at: at(11),
            fault: Fault::Crash(NodeId(0)),
        },
        TimedFault {
            at: at(12),
            fault: Fault::Restart(NodeId(0)),
        },
    ];
    let mut s = sim(1, 0.0, faults);
    s.run_until(at(19)).expect("runs");
    let n = n1(&s);
    assert_eq!(
        (n.calls, n.answers),
        (0, 0),
        "the restarted node got no answer"
    );
}

#[test]
fn an_answer_to_a_paused_node_waits_until_it_resumes() {
    let at = SimTime::from_millis;
    let faults = vec![
        TimedFault {
            at: at(11),
            fault: Fault::Pause(NodeId(0)),
        },
        TimedFault {
            at: at(500),
            fault: Fault::Resume(NodeId(0)),
        },
    ];
    // The first call left at 10 ms, just before the pause.
    let mut s = sim(1, 0.0, faults);
    s.run_until(at(499)).expect("runs");
    assert_eq!(n1(&s).answers, 0, "nothing is handled while paused");
    s.run_until(at(501)).expect("runs");
    assert_eq!(n1(&s).answers, 1);
    assert_eq!(n1(&s).answered_at, Some(at(500)));
}

#[test]
#[should_panic(expected = "n1 called seq-kv, which the run does not provide")]
fn calling_a_service_the_run_does_not_provide_is_a_mistake_named_in_the_panic() {
    let mut s = SimBuilder::new(1)
        .nodes(1)
        .services(&[Service::LinKv])
        .build(|_| Caller::using(Service::SeqKv))
        .expect("builds");
    let _ = s.run_until(SimTime::from_secs(1));
}

/// Keeps the notes of a run.
#[derive(Clone, Default)]
struct Notes(Rc<RefCell<Vec<String>>>);

impl TraceSink for Notes {
    fn record(&mut self, event: &TraceEvent, _: u64, detail: Option<&dyn fmt::Debug>) {
        if let (TraceKind::Note, Some(detail)) = (&event.kind, detail) {
            self.0.borrow_mut().push(format!("{detail:?}"));
        }
    }
}

#[test]
fn the_trace_shows_each_call_and_answer_on_the_caller() {
    let notes = Notes::default();
    let mut s = SimBuilder::new(2)
        .nodes(1)
        .services(&[Service::LinKv])
        .trace_sink(Box::new(notes.clone()))
        .build(|_| Caller::using(Service::LinKv))
        .expect("builds");
    // The first call leaves at 10 ms and is back within 20 ms; the second leaves at 20 ms.
    s.run_until(SimTime::from_millis(30)).expect("runs");
    let notes = notes.0.borrow();
    assert_eq!(notes[0], "call 0 to lin-kv: cas key 0 from nothing to 1");
    let answer = "lin-kv answered call 0: cas key 0 from nothing to 1 is ok";
    assert!(notes.iter().any(|n| n == answer), "{notes:?}");
}

/// [`Caller`] as a protocol calling seq-kv, for the scenario side.
impl Protocol for Caller {
    const NAME: &'static str = "caller";
    const SUMMARY: &'static str = "n1 counts up in seq-kv";
    type Params = Params;
    const PARAM_DOCS: &'static [ParamDoc] = &[];
    const BUG_DOCS: &'static [BugDoc] = &[];
    const SERVICES: &'static [Service] = &[Service::SeqKv];
    fn properties() -> Vec<Property<Self>> {
        Vec::new()
    }
    fn new(_: NodeId, _: u32, _: &Params, _: Option<&'static str>) -> Self {
        Caller::using(Service::SeqKv)
    }
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Params {}

#[test]
fn a_scenario_provides_what_its_protocol_declares_and_explore_says_it_cannot_model_it() {
    let registry = Registry::builtin().with::<Caller>();
    let info = registry.infos().into_iter().find(|i| i.name == "caller");
    assert_eq!(info.map(|i| i.services), Some(&[Service::SeqKv][..]));
    let yaml = "name: count\nprotocol: caller\nnodes: 2\nduration: 1s\n";
    let scenario = registry.parse(yaml, "count.yaml").expect("parses");
    let report = faultline::scenario::run(&scenario, Default::default()).expect("runs");
    assert!(report.expectation_met);
    let options = faultline::scenario::exhaustive::ExploreOptions {
        budgets: faultline::exhaustive::Budgets::default(),
        states_max: 1000,
        depth_max: 10,
        order: faultline::exhaustive::Order::BreadthFirst,
        jobs: 1,
        reduction: true,
    };
    let error = faultline::scenario::exhaustive::explore(&scenario, options, &mut |_| true)
        .expect_err("not explored");
    assert!(
        error
            .to_string()
            .contains("protocol `caller` calls seq-kv, and exhaustive exploration does not model"),
        "{error}"
    );
}
