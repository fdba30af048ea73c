//! Each message and each client operation draws its numbers from a generator of its own, so
//! a fault changes the draws of what it touches and of nothing else: the property that lets
//! `faultline shrink` remove a fault, or lower a loss probability, and keep the rest of a run.

use faultline::history::Op;
use faultline::workload::{Func, Model, WorkloadConfig};
use faultline::{
    Ctx, Fault, LinkConfig, NetworkConfig, NodeId, Process, SimBuilder, SimDuration, SimTime,
    TimedFault, TimerId,
};
use std::collections::BTreeSet;

/// Node `2k` sends a numbered ping to node `2k + 1` every 5 ms, and the other way round; a
/// node records what arrives and when. Nothing a node sends depends on what it received.
#[derive(Default)]
struct Pairs {
    sent: u64,
    /// (number, arrival time in ns) of every ping received.
    received: Vec<(u64, u64)>,
}

impl Process for Pairs {
    type Message = u64;
    type Timer = ();

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.set_timer(SimDuration::from_millis(5), ());
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, _from: NodeId, k: u64) {
        self.received.push((k, ctx.now().0));
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _timer: TimerId, _tag: ()) {
        self.sent += 1;
        ctx.send(NodeId(ctx.id().0 ^ 1), self.sent);
        ctx.set_timer(SimDuration::from_millis(5), ());
    }
}

fn pings(drop: f64, faults: Vec<TimedFault>) -> Vec<Vec<(u64, u64)>> {
    let network = NetworkConfig {
        default: LinkConfig {
            drop,
            duplicate: 0.1,
            ..LinkConfig::default()
        },
        ..NetworkConfig::default()
    };
    let mut sim = SimBuilder::new(3)
        .nodes(4)
        .network(network)
        .faults(faults)
        .build(|_| Pairs::default())
        .expect("a valid simulation");
    sim.run_until(SimTime::from_secs(2)).expect("runs");
    sim.nodes()
        .map(|(_, view)| view.state().map_or(Vec::new(), |s| s.received.clone()))
        .collect()
}

#[test]
fn a_crash_elsewhere_leaves_every_other_message_as_it_was() {
    let crash = TimedFault {
        at: SimTime::from_millis(500),
        fault: Fault::Crash(NodeId(2)),
    };
    let calm = pings(0.2, Vec::new());
    let crashed = pings(0.2, vec![crash]);
    // n1 and n2 exchange the same pings, lost, duplicated and delayed alike.
    assert!(calm[0].len() > 300, "{}", calm[0].len());
    assert_eq!(calm[0], crashed[0]);
    assert_eq!(calm[1], crashed[1]);
    // n4 hears from n3 only until the crash.
    assert!(crashed[3].len() < calm[3].len() / 2);
    assert_eq!(crashed[3], calm[3][..crashed[3].len()]);
}

#[test]
fn a_lower_loss_probability_only_spares_messages() {
    let lossy = pings(0.3, Vec::new());
    let less = pings(0.1, Vec::new());
    let none = pings(0.0, Vec::new());
    for node in 0..4 {
        let set = |r: &[(u64, u64)]| r.iter().copied().collect::<BTreeSet<_>>();
        let (lossy, less, none) = (set(&lossy[node]), set(&less[node]), set(&none[node]));
        // Same arrival times for the pings that arrive at both loss rates.
        assert!(lossy.is_subset(&less), "node {node}");
        assert!(less.is_subset(&none), "node {node}");
        assert!(
            lossy.len() < less.len() && less.len() < none.len(),
            "node {node}"
        );
    }
}

fn ops(faults: Vec<TimedFault>) -> Vec<Vec<(String, Option<String>, String)>> {
    let workload = WorkloadConfig {
        clients: 3,
        rate_per_s: 300.0,
        keys: 3,
        mix: vec![(Func::Read, 0.4), (Func::Write, 0.4), (Func::Cas, 0.2)],
        timeout: SimDuration::from_millis(50),
        ..WorkloadConfig::new(Model::CasRegister)
    };
    let mut sim = SimBuilder::new(5)
        .nodes(4)
        .faults(faults)
        .workload(workload)
        .build(|_| Pairs::default())
        .expect("a valid simulation");
    sim.run_until(SimTime::from_secs(1)).expect("runs");
    let history = sim.history();
    let mut by_client = vec![Vec::new(); 3];
    for (op, times) in history.ops().iter().zip(history.times()) {
        let Op { f, key, input, .. } = op;
        by_client[times.client as usize].push((f.clone(), key.clone(), format!("{input:?}")));
    }
    by_client
}

#[test]
fn a_clients_ops_are_the_same_ops_whatever_happened_to_the_others() {
    // `Pairs` answers no request, so every op times out; a crash makes them time out at once
    // at n1 instead: the ops then start at other times, but each client invokes the same ops.
    let calm = ops(Vec::new());
    let crash = TimedFault {
        at: SimTime::from_millis(200),
        fault: Fault::Crash(NodeId(0)),
    };
    let crashed = ops(vec![crash]);
    for (c, (calm, crashed)) in calm.iter().zip(&crashed).enumerate() {
        let n = calm.len().min(crashed.len());
        assert!(n > 10, "client {c}: {n} ops");
        assert_eq!(calm[..n], crashed[..n], "client {c}");
    }
}
