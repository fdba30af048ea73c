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
    let mut sim = SimBuilder::new(seed)
        .nodes(3)
        .faults(faults)
        .workload(config(Model::CasRegister))
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
