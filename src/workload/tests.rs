//! Clients against small servers: the history they record, timeouts, redirects, determinism.

use super::*;
use crate::history::Status;
use crate::{Ctx, Fault, NodeId, Process, SimBuilder, SimTime, TimedFault, TimerId};
use std::collections::BTreeMap;

/// A register kept by n1 alone; other nodes redirect to it. With `stale`, n2 answers reads
/// from a copy it never updates.
#[derive(Default)]
struct Server {
    values: BTreeMap<u32, i64>,
    stale: bool,
}

impl Process for Server {
    type Message = ();
    type Timer = ();
    fn on_start(&mut self, _ctx: &mut Ctx<'_, Self>) {}
    fn on_message(&mut self, _ctx: &mut Ctx<'_, Self>, _from: NodeId, _msg: ()) {}
    fn on_timer(&mut self, _ctx: &mut Ctx<'_, Self>, _t: TimerId, _tag: ()) {}
    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: Request) {
        let read = |v: Option<&i64>| v.map_or(Value::Nil, |&v| Value::Int(v));
        let reply = match (ctx.id().0, request.op) {
            (1, ClientOp::Read { key }) if self.stale => Reply::Ok(read(self.values.get(&key))),
            (0, ClientOp::Read { key }) => Reply::Ok(read(self.values.get(&key))),
            (0, ClientOp::Write { key, value }) => {
                self.values.insert(key, value);
                Reply::Ok(Value::Nil)
            }
            (0, ClientOp::Cas { key, from, to }) => match self.values.get(&key) {
                Some(&v) if v == from => {
                    self.values.insert(key, to);
                    Reply::Ok(Value::Nil)
                }
                _ => Reply::Fail("cas: value differs"),
            },
            _ => Reply::Redirect(Some(NodeId(0))),
        };
        ctx.reply(request.id, reply);
    }
}

fn config(model: Model) -> WorkloadConfig {
    WorkloadConfig {
        clients: 4,
        rate_per_s: 500.0,
        keys: 2,
        timeout: crate::SimDuration::from_millis(200),
        ..WorkloadConfig::new(model)
    }
}

fn run(seed: u64, stale: bool, faults: Vec<TimedFault>) -> crate::Sim<Server> {
    run_model(Model::CasRegister, seed, stale, faults)
}

fn run_model(model: Model, seed: u64, stale: bool, faults: Vec<TimedFault>) -> crate::Sim<Server> {
    let mut sim = SimBuilder::new(seed)
        .nodes(3)
        .faults(faults)
        .workload(config(model))
        .build(move |id| Server {
            stale: stale && id.0 == 1,
            ..Server::default()
        })
        .unwrap();
    sim.run_until(SimTime::from_secs(2)).unwrap();
    sim
}

fn linearizable(sim: &crate::Sim<Server>) -> bool {
    crate::testing::history_passes(sim, Model::CasRegister)
}

#[test]
fn clients_follow_redirects_and_record_a_linearizable_history() {
    let sim = run(1, false, Vec::new());
    let counts = sim.history().counts();
    // 500 ops/s for 2 s, less the time ops take.
    let done = counts.ok + counts.fail;
    assert!(done > 600 && done < 1000, "{counts:?}");
    assert!(counts.fail > 0, "some cas ops find another value");
    assert_eq!(counts.info, 0, "nothing times out on a healthy run");
    assert!(counts.pending <= 4);
    let answered = sim
        .history()
        .times()
        .iter()
        .filter(|t| t.complete.is_some());
    assert!(answered.clone().count() > 600);
    assert!(
        answered.clone().all(|t| t.node == NodeId(0)),
        "n1 answers all"
    );
    assert!(
        answered.clone().any(|t| t.first_node != NodeId(0)),
        "some ops were redirected"
    );
    assert!(linearizable(&sim));
}

#[test]
fn stale_reads_are_not_linearizable() {
    assert!(!linearizable(&run(1, true, Vec::new())));
}

#[test]
fn a_dht_workload_writes_distinct_values_and_its_reads_return_only_those() {
    for stale in [false, true] {
        let sim = run_model(Model::Dht, 5, stale, Vec::new());
        let ops = sim.history().ops();
        let mut written = std::collections::BTreeSet::new();
        for op in ops.iter().filter(|op| op.f == "write") {
            assert!(
                written.insert(op.input.clone()),
                "{} written twice",
                op.input
            );
            assert!(matches!(op.key.as_deref(), Some("0" | "1")), "{:?}", op.key);
        }
        assert!(written.len() > 300, "{}", written.len());
        let found = ops
            .iter()
            .filter(|op| op.f == "read" && op.output != Value::Nil);
        assert!(found.count() > 100, "reads find what n1 keeps");
        // n2's stale copy answers nil: found nothing, which this check allows.
        let check =
            crate::check::check_history(Model::Dht, sim.history(), sim.node_names(), sim.now());
        assert_eq!(
            (check.name, check.status),
            ("reads_written", "pass"),
            "{:?}",
            check.explanation
        );
    }
}

#[test]
fn a_run_whose_read_returns_a_value_never_written_names_that_read() {
    let mut log = HistoryLog::new(true);
    let (n1, at) = (NodeId(0), SimTime::from_millis(1));
    let write = log.invoke(at, 0, 0, n1, &ClientOp::Write { key: 3, value: 1 });
    let read = log.invoke(at, 1, 1, n1, &ClientOp::Read { key: 3 });
    log.complete(write, at, n1, Status::Ok, Value::Nil);
    log.complete(read, at, n1, Status::Ok, Value::Int(2));
    let names = ["n1".to_string()];
    let check = crate::check::check_history(Model::Dht, &log, &names, at);
    assert_eq!(check.status, "violated");
    let violation = check.violation.expect("a violation");
    assert_eq!(violation.property, "reads_written");
    assert_eq!(violation.ops.iter().map(|o| o.op).collect::<Vec<_>>(), [1]);
    assert!(
        violation.message.starts_with(
            "read of key 3 returned 2, which no write of key 3 wrote before the read \
             returned (op 1): no write of any key wrote it\n  op 1 (client c1"
        ),
        "{}",
        violation.message
    );
}

#[test]
fn a_crashed_server_times_clients_out_and_they_move_on() {
    let crash = TimedFault {
        at: SimTime::from_secs(1),
        fault: Fault::Crash(NodeId(0)),
    };
    let sim = run(3, false, vec![crash]);
    let info = sim.history().counts().info;
    // Each client times out, moves to a live node, is redirected back to n1, and so on.
    assert!(info >= 8, "info {info}");
    let ops = sim.history().ops();
    let after: Vec<_> = ops
        .iter()
        .zip(sim.history().times())
        .filter(|(_, t)| t.invoke > SimTime::from_millis(1010))
        .collect();
    assert!(after.iter().all(|(o, _)| o.status != Status::Ok));
    assert!(
        ops.iter().any(|o| o.process >= 4),
        "new process ids after timeouts"
    );
    assert!(linearizable(&sim), "info ops may or may not have happened");
}

#[test]
fn same_seed_same_history_and_hash() {
    let (a, b) = (run(9, false, Vec::new()), run(9, false, Vec::new()));
    assert_eq!(a.trace_hash(), b.trace_hash());
    assert_eq!(a.history().ops(), b.history().ops());
    assert_ne!(a.trace_hash(), run(10, false, Vec::new()).trace_hash());
}

#[test]
fn the_jsonl_history_reads_back_as_the_same_history() {
    let sim = run(4, false, Vec::new());
    let mut out = Vec::new();
    let names = sim.node_names().to_vec();
    sim.history()
        .write_jsonl(&mut out, &names, sim.now())
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    let back = crate::history::jsonl::parse("h.jsonl", &text).unwrap();
    for (i, (a, b)) in back.ops.iter().zip(sim.history().ops()).enumerate() {
        assert_eq!(a, &b, "op {i}");
    }
    assert_eq!(back.ops.len(), sim.history().ops().len());
    assert!(text.lines().next().unwrap().contains("\"type\":\"invoke\""));
}

#[test]
fn bad_workloads_are_refused() {
    let mut c = config(Model::Register);
    c.mix = vec![(Func::Cas, 1.0)];
    assert!(c.validate().unwrap_err().contains("no function `cas`"));
    c = config(Model::Register);
    c.clients = 0;
    assert!(c.validate().is_err());
    let built = SimBuilder::new(1).workload(c).build(|_| Server::default());
    assert!(built.is_err());
}

#[test]
fn a_client_keeps_one_timeout_entry_that_moves_on_to_its_open_op() {
    use super::clients::{Alarm, Clients, Outcome};
    let ms = SimTime::from_millis;
    let mut clients = Clients::new(config(Model::CasRegister), 1, 3);
    let (first, ..) = clients.invoke(0, ms(0), false).expect("the workload runs");
    assert!(clients.arm(0, ms(200)), "the first op queues an entry");
    let done = clients.on_reply(first.id, NodeId(0), Reply::Ok(Value::Nil), ms(5));
    assert!(matches!(done, Outcome::Completed { .. }));
    let (_, _, deadline) = clients.invoke(0, ms(10), false).expect("idle again");
    assert_eq!(deadline, ms(210));
    assert!(
        !clients.arm(0, deadline),
        "the queued entry serves this op too"
    );
    // The entry comes due for the first op, which completed: it moves on, nothing expires.
    assert!(matches!(clients.on_timeout(0, ms(200)), Alarm::Moved(t) if t == ms(210)));
    assert_eq!(clients.log.len(), 2);
    assert!(matches!(clients.on_timeout(0, ms(210)), Alarm::Expired(1)));
    let (third, ..) = clients
        .invoke(0, ms(220), false)
        .expect("a new process goes on");
    assert!(clients.arm(0, ms(420)), "no entry was left queued");
    let done = clients.on_reply(third.id, NodeId(0), Reply::Ok(Value::Nil), ms(230));
    assert!(matches!(done, Outcome::Completed { .. }));
    assert!(matches!(clients.on_timeout(0, ms(420)), Alarm::Idle));
}

/// Lists kept by n1 alone, every transaction applied at once (so serially).
#[derive(Default)]
struct TxnServer {
    lists: BTreeMap<u32, Vec<i64>>,
}

impl Process for TxnServer {
    type Message = ();
    type Timer = ();
    fn on_start(&mut self, _ctx: &mut Ctx<'_, Self>) {}
    fn on_message(&mut self, _ctx: &mut Ctx<'_, Self>, _from: NodeId, _msg: ()) {}
    fn on_timer(&mut self, _ctx: &mut Ctx<'_, Self>, _t: TimerId, _tag: ()) {}
    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: Request) {
        let ClientOp::Txn(txn) = request.op else {
            return ctx.reply(request.id, Reply::Fail("transactions only"));
        };
        let mut reads = Vec::new();
        for m in txn.iter() {
            let list = self.lists.entry(m.key()).or_default();
            match m {
                MicroOp::Read { .. } => {
                    reads.push(Value::List(list.iter().map(|&v| Value::Int(v)).collect()));
                }
                MicroOp::Append { value, .. } | MicroOp::Write { value, .. } => {
                    list.push(value);
                    reads.push(Value::Nil);
                }
            }
        }
        ctx.reply(request.id, Reply::Ok(txn.completed(&reads)));
    }
}

fn run_txns(seed: u64, config: WorkloadConfig) -> crate::Sim<TxnServer> {
    let mut sim = SimBuilder::new(seed)
        .nodes(1)
        .workload(config)
        .build(|_| TxnServer::default())
        .unwrap();
    sim.run_until(SimTime::from_secs(1)).unwrap();
    sim
}

fn txn_config() -> WorkloadConfig {
    WorkloadConfig {
        rate_per_s: 300.0,
        micro_ops_min: 2,
        micro_ops_max: 5,
        mix: vec![(Func::Read, 1.0), (Func::Append, 2.0)],
        ..WorkloadConfig::new(Model::ListAppend)
    }
}

#[test]
fn a_transaction_fits_in_a_client_op_no_larger_than_before() {
    assert_eq!(std::mem::size_of::<ClientOp>(), 24);
    let mut txn = Txn::new(false, 7);
    for key in [0, 65_535, 3, 3, 9, 1] {
        txn.push_write(key).unwrap();
    }
    assert!(txn.push_read(1).unwrap_err().contains("at most 6"));
    assert!(Txn::new(true, 0).push_read(65_536).is_err());
    let op = ClientOp::Txn(txn);
    assert_eq!(ClientOp::from_words(op.to_words()), Some(op));
    assert_eq!(txn.get(5), Some(MicroOp::Write { key: 1, value: 12 }));
    // A word the encoding never writes is refused: more micro-ops than fit, a stray key.
    let [kind, head, low, high] = op.to_words();
    assert_eq!(
        ClientOp::from_words([kind, head | 7 << 32, low, high]),
        None
    );
    let mut short = Txn::new(true, 1);
    short.push_read(2).unwrap();
    let [kind, head, low, high] = ClientOp::Txn(short).to_words();
    assert!(ClientOp::from_words([kind, head, low, high]).is_some());
    assert_eq!(
        ClientOp::from_words([kind, head, low | 5 << 16, high]),
        None
    );
}

#[test]
fn clients_draw_transactions_within_bounds_with_unique_values() {
    let sim = run_txns(3, txn_config());
    let ops = sim.history().ops();
    assert!(ops.len() > 200, "{}", ops.len());
    let mut written = std::collections::BTreeSet::new();
    let (mut reads, mut appends) = (0, 0);
    for op in &ops {
        assert_eq!(op.f, "txn");
        assert_eq!(op.key, None);
        let Value::List(micro) = &op.input else {
            panic!("{:?}", op.input)
        };
        assert!((2..=5).contains(&micro.len()), "{}", op.input);
        for m in micro {
            let Value::List(parts) = m else { panic!("{m}") };
            match (&parts[0], &parts[1], &parts[2]) {
                (Value::Str(f), Value::Int(k), Value::Nil) if f == "r" => {
                    assert!((0..5).contains(k));
                    reads += 1;
                }
                (Value::Str(f), Value::Int(_), Value::Int(v)) if f == "append" => {
                    assert!(written.insert(*v), "value {v} appended twice");
                    appends += 1;
                }
                other => panic!("{other:?}"),
            }
        }
    }
    // The mix weighs appends twice as much as reads.
    assert!(
        appends > reads * 3 / 2 && appends < reads * 3,
        "{reads} {appends}"
    );
    let a = run_txns(3, txn_config());
    assert_eq!(a.history().ops(), ops, "same seed, same transactions");
}

#[test]
fn a_transaction_history_is_written_in_jepsens_form_and_reads_back() {
    let sim = run_txns(5, txn_config());
    let mut out = Vec::new();
    let names = sim.node_names().to_vec();
    sim.history()
        .write_jsonl(&mut out, &names, sim.now())
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    let first_ok = text
        .lines()
        .find(|l| l.contains("\"type\":\"ok\""))
        .unwrap();
    let line: serde_json::Value = serde_json::from_str(first_ok).unwrap();
    assert_eq!(line["f"], "txn");
    let micro = line["value"].as_array().unwrap();
    for m in micro {
        let m = m.as_array().unwrap();
        match m[0].as_str().unwrap() {
            "r" => assert!(m[2].is_array(), "an ok read carries the list: {first_ok}"),
            "append" => assert!(m[2].is_i64(), "{first_ok}"),
            other => panic!("{other}"),
        }
    }
    let invoke = text.lines().next().unwrap();
    assert!(
        invoke.contains("[\"r\",") || invoke.contains("null]"),
        "{invoke}"
    );
    let back = crate::history::jsonl::parse("h.jsonl", &text).unwrap();
    assert_eq!(back.ops, sim.history().ops());
}

#[test]
fn bad_transactional_workloads_are_refused() {
    let mut c = txn_config();
    c.micro_ops_max = 7;
    assert!(c.validate().unwrap_err().contains("micro_ops_max <= 6"));
    c.micro_ops_max = 1;
    assert!(c.validate().unwrap_err().contains("micro_ops_min (2)"));
    c = txn_config();
    c.keys = 70_000;
    assert!(c.validate().unwrap_err().contains("at most 65536"));
    c = txn_config();
    c.mix = vec![(Func::Write, 1.0)];
    assert!(c.validate().unwrap_err().contains("no function `write`"));
    let mut plain = config(Model::Register);
    plain.micro_ops_max = 3;
    assert!(plain.validate().unwrap_err().contains("only"));
    plain = config(Model::Register);
    plain.isolation = Some(Isolation::Serializable);
    assert!(plain.validate().is_err());
    let built = SimBuilder::new(1)
        .workload(plain)
        .build(|_| TxnServer::default());
    assert!(built.is_err());
}
