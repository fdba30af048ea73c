//! Tests of the echo protocol, and a small harness the other built-in protocols share: run a
//! simulation, check `Always` properties after every event and `AtEnd` properties at the end,
//! the way a scenario run does.

use super::*;
use crate::check::{CheckEvery, Checker, Monitor, ViolationReport, run_checked};
use crate::engine::{SimBuilder, Touched};
use crate::faults::{Fault, TimedFault};
use crate::net::{Latency, LinkConfig, NetworkConfig};
use crate::time::SimTime;

/// One run, configured the way a scenario file would configure it.
pub(crate) struct Setup<P: Protocol> {
    pub seed: u64,
    pub nodes: u64,
    pub params: P::Params,
    pub bug: Option<&'static str>,
    pub network: NetworkConfig,
    pub faults: Vec<TimedFault>,
    pub duration: SimTime,
}

/// The simulation `setup` describes, before its first event.
pub(crate) fn build<P: Protocol>(setup: &Setup<P>) -> crate::engine::Sim<P> {
    let node_count = setup.nodes as u32;
    let (params, bug) = (setup.params.clone(), setup.bug);
    SimBuilder::new(setup.seed)
        .nodes(setup.nodes)
        .network(setup.network.clone())
        .faults(setup.faults.clone())
        .build(move |id| P::new(id, node_count, &params, bug))
        .expect("valid setup")
}

/// Runs `setup` to its end and returns the first violation, if any.
pub(crate) fn run<P: Protocol>(setup: &Setup<P>) -> Option<ViolationReport> {
    let mut sim = build(setup);
    let violations =
        run_checked(&mut sim, setup.duration, &P::properties()).expect("within limits");
    violations.into_iter().next()
}

/// The trace hash of a run to its end, for determinism checks.
pub(crate) fn trace_hash<P: Protocol>(setup: &Setup<P>) -> u64 {
    let mut sim = build(setup);
    sim.run_until(setup.duration).expect("within limits");
    sim.trace_hash()
}

/// Uniform 1–10 ms latency with this loss and duplication.
pub(crate) fn lossy(drop: f64, duplicate: f64) -> NetworkConfig {
    NetworkConfig {
        default: LinkConfig {
            latency: Latency::Uniform(SimDuration::from_millis(1), SimDuration::from_millis(10)),
            drop,
            duplicate,
            ..LinkConfig::default()
        },
        links: BTreeMap::new(),
    }
}

pub(crate) fn at_ms(ms: u64, fault: Fault) -> TimedFault {
    TimedFault {
        at: SimTime::from_millis(ms),
        fault,
    }
}

/// `pass`, or the name of the violated property: what `expect:` in a scenario says.
pub(crate) fn outcome(report: &Option<ViolationReport>) -> &str {
    report.as_ref().map_or("pass", |r| r.property.as_str())
}

/// Checks that a scenario file says what its mirror test runs: seed, nodes, bug, duration,
/// loss, duplication, fault count and expected outcome. Catches the two drifting apart.
pub(crate) fn assert_file_mirrors<P: Protocol>(file: &str, setup: &Setup<P>, expect: &str) {
    let path = format!("{}/scenarios/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).expect("valid YAML");
    let get = |key: &str| doc.get(key).cloned().unwrap_or(serde_yaml::Value::Null);
    assert_eq!(get("protocol").as_str(), Some(P::NAME), "{file}: protocol");
    assert_eq!(get("seed").as_u64(), Some(setup.seed), "{file}: seed");
    assert_eq!(get("nodes").as_u64(), Some(setup.nodes), "{file}: nodes");
    assert_eq!(get("bug").as_str(), setup.bug, "{file}: bug");
    let duration = crate::time::parse_duration(get("duration").as_str().unwrap_or(""));
    assert_eq!(
        duration.map(|d| d.0),
        Ok(setup.duration.0),
        "{file}: duration"
    );
    let network = get("network");
    let rate = |key: &str| network.get(key).and_then(serde_yaml::Value::as_f64);
    assert_eq!(
        rate("drop").unwrap_or(0.0),
        setup.network.default.drop,
        "{file}: drop"
    );
    let duplicate = rate("duplicate").unwrap_or(0.0);
    assert_eq!(
        duplicate, setup.network.default.duplicate,
        "{file}: duplicate"
    );
    let faults = get("faults").as_sequence().map_or(0, Vec::len);
    assert_eq!(faults, setup.faults.len(), "{file}: number of faults");
    let expected = get("expect");
    let said = expected
        .get("violation")
        .or_else(|| expected.get("outcome"))
        .and_then(serde_yaml::Value::as_str);
    assert_eq!(said, Some(expect), "{file}: expect");
    assert!(
        get("description").as_str().is_some_and(|d| !d.is_empty()),
        "{file}: description"
    );
}

fn setup(seed: u64, network: NetworkConfig) -> Setup<Echo> {
    Setup {
        seed,
        nodes: 4,
        params: Params::default(),
        bug: None,
        network,
        faults: Vec::new(),
        duration: SimTime::from_secs(20),
    }
}

/// Crashes and restarts the server, and one client, at times that vary with the seed.
fn crash_faults(seed: u64) -> Vec<TimedFault> {
    let server_crash_ms = 200 + seed * 37 % 900;
    vec![
        at_ms(server_crash_ms, Fault::Crash(SERVER)),
        at_ms(server_crash_ms + 800, Fault::Restart(SERVER)),
        at_ms(1_500, Fault::Crash(NodeId(2))),
        at_ms(1_700, Fault::Restart(NodeId(2))),
    ]
}

#[test]
fn correct_echo_passes_under_loss_duplication_and_crashes() {
    for seed in 0..50 {
        let mut s = setup(seed, lossy(0.2, 0.05));
        s.faults = crash_faults(seed);
        let report = run(&s);
        assert!(report.is_none(), "seed {seed}: {report:?}");
    }
}

#[test]
fn same_seed_same_trace() {
    let mut s = setup(7, lossy(0.2, 0.1));
    s.faults = crash_faults(7);
    assert_eq!(trace_hash(&s), trace_hash(&s));
    let mut other = setup(8, lossy(0.2, 0.1));
    other.faults = crash_faults(7);
    assert_ne!(trace_hash(&s), trace_hash(&other));
}

/// The first seed in `0..10` whose run violates something, and the report.
fn first_caught(make: impl Fn(u64) -> Setup<Echo>) -> Option<ViolationReport> {
    (0..10).find_map(|seed| run(&make(seed)))
}

#[test]
fn non_idempotent_server_is_caught_by_duplicates() {
    let report = first_caught(|seed| Setup {
        bug: Some("non-idempotent"),
        ..setup(seed, lossy(0.0, 0.1))
    })
    .expect("caught");
    assert_eq!(report.property, "exactly_once");
    assert!(
        report
            .message
            .contains("got two different answers for its request"),
        "{}",
        report.message
    );
}

#[test]
fn client_without_retries_is_caught_by_loss() {
    let report = first_caught(|seed| Setup {
        bug: Some("no-retry"),
        ..setup(seed, lossy(0.2, 0.0))
    })
    .expect("caught");
    assert_eq!(report.property, "all_answered");
    assert!(
        report.message.contains("never resends"),
        "{}",
        report.message
    );
}

#[test]
fn unsynced_server_is_caught_by_crash_and_restart() {
    let report = first_caught(|seed| Setup {
        bug: Some("unsynced-log"),
        faults: crash_faults(seed),
        ..setup(seed, lossy(0.2, 0.0))
    })
    .expect("caught");
    assert_eq!(report.property, "exactly_once");
    assert!(
        report
            .message
            .contains("gave the same number to two different requests"),
        "{}",
        report.message
    );
}

#[test]
fn giving_up_is_reported_when_the_server_never_returns() {
    let s = Setup {
        params: Params {
            retries_max: 3,
            ..Params::default()
        },
        faults: vec![at_ms(0, Fault::Crash(SERVER))],
        ..setup(1, lossy(0.0, 0.0))
    };
    let report = run(&s).expect("nothing can be answered");
    assert_eq!(report.property, "all_answered");
    assert!(
        report
            .message
            .contains("got answers to 0 of its 20 requests: it gave up on request 1 after 3"),
        "{}",
        report.message
    );
    assert!(report.message.contains("60 of 60 requests are unanswered"));
}

#[test]
fn params_parse_durations_and_reject_unknown_fields() {
    let p: Params = serde_yaml::from_str("{ requests: 5, retry_interval: 50ms }").unwrap();
    assert_eq!(p.requests, 5);
    assert_eq!(p.retry_interval, SimDuration::from_millis(50));
    assert_eq!(p.retries_max, Params::default().retries_max);
    assert!(serde_yaml::from_str::<Params>("{ request: 5 }").is_err());
    assert_eq!(PARAM_DOCS.len(), 3, "every param documented");
    for bug in Echo::BUG_DOCS {
        assert!(Bug::from_name(bug.name).is_some(), "{}", bug.name);
    }
}

// Each scenario file in scenarios/echo-*.yaml, mirrored through the builder API.

fn scenario_loss() -> Setup<Echo> {
    setup(42, lossy(0.2, 0.0))
}

fn scenario_crash_restart(bug: Option<&'static str>) -> Setup<Echo> {
    Setup {
        bug,
        faults: vec![
            at_ms(800, Fault::Crash(SERVER)),
            at_ms(2_500, Fault::Restart(SERVER)),
        ],
        ..setup(42, lossy(0.2, 0.0))
    }
}

#[test]
fn scenario_echo_loss_passes() {
    let s = scenario_loss();
    assert_file_mirrors("echo-loss.yaml", &s, "pass");
    assert_eq!(outcome(&run(&s)), "pass");
}

#[test]
fn scenario_echo_duplicate_bug_violates_exactly_once() {
    let s = Setup {
        bug: Some("non-idempotent"),
        ..setup(42, lossy(0.0, 0.1))
    };
    assert_file_mirrors("echo-duplicate-bug.yaml", &s, "exactly_once");
    assert_eq!(outcome(&run(&s)), "exactly_once");
    // The same network with the correct server passes.
    assert_eq!(outcome(&run(&Setup { bug: None, ..s })), "pass");
}

#[test]
fn scenario_echo_no_retry_bug_violates_all_answered() {
    let s = Setup {
        bug: Some("no-retry"),
        ..scenario_loss()
    };
    assert_file_mirrors("echo-no-retry-bug.yaml", &s, "all_answered");
    assert_eq!(outcome(&run(&s)), "all_answered");
}

#[test]
fn scenario_echo_crash_restart_passes() {
    let s = scenario_crash_restart(None);
    assert_file_mirrors("echo-crash-restart.yaml", &s, "pass");
    assert_eq!(outcome(&run(&s)), "pass");
}

#[test]
fn scenario_echo_unsynced_bug_violates_exactly_once() {
    let s = scenario_crash_restart(Some("unsynced-log"));
    assert_file_mirrors("echo-unsynced-bug.yaml", &s, "exactly_once");
    assert_eq!(outcome(&run(&s)), "exactly_once");
}

// `exactly_once` is a monitor with an index of the answers; these pin it to the whole-state
// check it replaced.

/// `exactly_once` as it was checked before it became a monitor: every visible client's latest
/// answer against every other client's answers, after every event. O(clients²) an event, so
/// kept only here, as the reference the monitor must agree with.
fn exactly_once_by_scan(sim: &Sim<Echo>) -> Result<(), Violation> {
    let clients: Vec<(NodeId, &Client)> = sim
        .nodes()
        .filter_map(|(id, view)| Some((id, view.state()?.client()?)))
        .collect();
    let reused = |seq: u64, (a, req_a): (NodeId, u64), (b, req_b): (NodeId, u64)| {
        let mut nodes = vec![a];
        if b != a {
            nodes.push(b);
        }
        nodes.push(SERVER);
        let (a, b) = (sim.node_name(a), sim.node_name(b));
        Violation::new(
            format!(
                "{a}'s request {req_a} and {b}'s request {req_b} were both answered with seq \
                 {seq}: the server gave the same number to two different requests"
            ),
            nodes,
        )
    };
    for &(id, client) in &clients {
        if let Some(c) = client.conflict {
            let message = format!(
                "{} got two different answers for its request {}: seq {} and seq {}",
                sim.node_name(id),
                c.req,
                c.first_seq,
                c.second_seq
            );
            return Err(Violation::new(message, vec![id, SERVER]));
        }
        let Some((req, seq)) = client.latest else {
            continue;
        };
        if let Some((&earlier, _)) = client.answers.iter().find(|&(&r, &s)| s == seq && r != req) {
            return Err(reused(seq, (id, earlier), (id, req)));
        }
    }
    for &(id, client) in &clients {
        let Some((req, seq)) = client.latest else {
            continue;
        };
        for &(other, theirs) in clients.iter().filter(|&&(o, _)| o != id) {
            if let Some((&other_req, _)) = theirs.answers.iter().find(|&(_, &s)| s == seq) {
                let (a, b) = match other < id {
                    true => ((other, other_req), (id, req)),
                    false => ((id, req), (other, other_req)),
                };
                return Err(reused(seq, a, b));
            }
        }
    }
    Ok(())
}

/// The first violation of `properties` in a run of `setup`, checked as a scenario checks it:
/// with the protocol's digests (debug builds also run a copy of each digested monitor that
/// sees every event, and panic if the two disagree).
fn run_digested(
    setup: &Setup<Echo>,
    properties: &[Property<Echo>],
    every: CheckEvery,
) -> Option<ViolationReport> {
    let mut sim = build(setup);
    let mut checker = Checker::new(properties, every).with_digests(Echo::CHECK_DIGESTS);
    let found = checker
        .step_until(&mut sim, setup.duration)
        .expect("within limits");
    found.or_else(|| checker.finish(&sim).into_iter().next())
}

/// Runs with as many clients as `nodes - 1`, crashing the server and some clients.
fn many_clients(seed: u64, nodes: u64, bug: Option<&'static str>) -> Setup<Echo> {
    let mut faults = crash_faults(seed);
    faults.extend([
        at_ms(600, Fault::Crash(NodeId(7))),
        at_ms(900, Fault::Pause(NodeId(9))),
        at_ms(1_400, Fault::Resume(NodeId(9))),
        at_ms(2_100, Fault::Restart(NodeId(7))),
    ]);
    Setup {
        nodes,
        bug,
        faults,
        params: Params {
            requests: 8,
            ..Params::default()
        },
        ..setup(seed, lossy(0.1, 0.05))
    }
}

#[test]
fn exactly_once_finds_what_the_whole_state_check_found_at_the_same_event() {
    let scan = [Property::always(
        "exactly_once",
        "the whole-state reference",
        exactly_once_by_scan,
    )];
    let monitor: Vec<Property<Echo>> = Echo::properties()
        .into_iter()
        .filter(|p| p.name == "exactly_once")
        .collect();
    let (mut conflicts, mut reuses) = (0, 0);
    for seed in 0..12 {
        for bug in [None, Some("non-idempotent"), Some("unsynced-log")] {
            let s = many_clients(seed, 30, bug);
            let by_monitor = run_digested(&s, &monitor, CheckEvery::Event);
            let by_scan = run_digested(&s, &scan, CheckEvery::Event);
            assert_eq!(by_monitor, by_scan, "seed {seed}, bug {bug:?}");
            let message = by_monitor.map(|r| r.message).unwrap_or_default();
            conflicts += usize::from(message.contains("two different answers"));
            reuses += usize::from(message.contains("the same number"));
        }
    }
    // Both kinds of finding occur, so the comparison covers both.
    assert!(
        conflicts >= 3 && reuses >= 3,
        "{conflicts} conflicts, {reuses} reuses"
    );
}

#[test]
fn exactly_once_catches_a_number_given_to_two_clients_among_many() {
    let report = (0..10)
        .find_map(|seed| {
            run_digested(
                &many_clients(seed, 60, Some("unsynced-log")),
                &Echo::properties(),
                CheckEvery::Event,
            )
        })
        .expect("caught");
    assert_eq!(report.property, "exactly_once");
    assert!(
        report
            .message
            .contains("gave the same number to two different requests"),
        "{}",
        report.message
    );
    assert!(report.event.is_some(), "found at the event that broke it");
}

#[test]
fn exactly_once_catches_a_duplicate_even_when_checked_only_at_the_end() {
    let s = Setup {
        bug: Some("non-idempotent"),
        ..setup(42, lossy(0.0, 0.1))
    };
    let every_event = run_digested(&s, &Echo::properties(), CheckEvery::Event).expect("caught");
    let at_end = run_digested(&s, &Echo::properties(), CheckEvery::End).expect("caught");
    assert_eq!(at_end.property, "exactly_once");
    assert!(
        at_end
            .message
            .contains("got two different answers for its request")
    );
    // The monitor saw the duplicate when it arrived, and names that time and event.
    assert_eq!(
        (at_end.time, at_end.event),
        (every_event.time, every_event.event)
    );
}

#[test]
fn exactly_once_holds_on_a_correct_run_with_many_clients() {
    for seed in 0..3 {
        let s = many_clients(seed, 120, None);
        let report = run_digested(&s, &Echo::properties(), CheckEvery::Event);
        assert!(report.is_none(), "seed {seed}: {report:?}");
    }
}

/// Client `id` of `sim` records `seq` as the answer to its request `req`, as `on_reply` would.
fn forge_answer(sim: &mut Sim<Echo>, id: NodeId, req: u64, seq: u64) {
    let node = sim.procs[id.index()].as_mut().expect("up");
    let Role::Client(client) = &mut node.role else {
        panic!("{id:?} is the server");
    };
    client.answers.insert(req, seq);
    client.latest = Some((req, seq));
}

#[test]
fn exactly_once_monitor_judges_only_the_answers_of_clients_that_are_up() {
    let mut sim = build(&Setup {
        nodes: 3,
        ..setup(1, lossy(0.0, 0.0))
    });
    // The nodes start, and no answer has arrived yet (latency is at least 1 ms).
    sim.run_until(SimTime::ZERO).expect("within limits");
    let (n2, n3) = (NodeId(1), NodeId(2));
    let mut monitor = exactly_once::ExactlyOnce::default();
    let mut step = |sim: &Sim<Echo>, touched: Touched| {
        let verdict = monitor.observe(sim, touched);
        assert_eq!(
            verdict,
            exactly_once_by_scan(sim),
            "agrees with the reference"
        );
        verdict
    };
    forge_answer(&mut sim, n2, 1, 5);
    assert!(step(&sim, Touched::Node(n2)).is_ok());
    // n2 crashes: the answer it held is gone, so n3 may be given the same number.
    sim.procs[n2.index()] = None;
    assert!(step(&sim, Touched::All).is_ok());
    forge_answer(&mut sim, n3, 1, 5);
    assert!(step(&sim, Touched::Node(n3)).is_ok());
    // n2 restarts with nothing and is given seq 5 again: now two clients that are up hold it.
    sim.procs[n2.index()] = Some(Echo::new(n2, 3, &Params::default(), None));
    assert!(step(&sim, Touched::All).is_ok());
    forge_answer(&mut sim, n2, 1, 5);
    let reused = step(&sim, Touched::Node(n2)).expect_err("caught");
    assert!(
        reused
            .message
            .starts_with("n2's request 1 and n3's request 1 were both answered with seq 5"),
        "{}",
        reused.message
    );
    assert_eq!(reused.nodes, vec![n2, n3, SERVER]);
}
