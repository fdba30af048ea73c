//! Triggered faults in the engine: what a trigger does to the message it caught, that it
//! fires once at the nth event only, before its deadline, and that a fault it fires lands on
//! the node the event happened at.

use super::*;
use crate::SimBuilder;
use crate::faults::{Fault, MessageAction, Response, TRIGGER_NODE, Trigger, TriggeredFault, Watch};
use crate::ids::TimerId;
use crate::net::{Latency, LinkConfig, NetworkConfig};
use crate::time::SimDuration;

#[derive(Clone, Debug, Hash)]
enum Msg {
    Ping(u32),
}

/// n1 sends n2 `Ping(i)` every 10ms, ten times; n2 notes and keeps every arrival.
#[derive(Default)]
struct Pinger {
    sent: u32,
    got: Vec<(u32, SimTime)>,
}

impl Process for Pinger {
    type Message = Msg;
    type Timer = ();

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if ctx.id() == NodeId(0) {
            ctx.set_timer(SimDuration::from_millis(10), ());
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, _: NodeId, msg: Msg) {
        let Msg::Ping(i) = msg;
        ctx.annotate(format_args!("got ping {i}"));
        self.got.push((i, ctx.now()));
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _: TimerId, _: ()) {
        self.sent += 1;
        ctx.send(NodeId(1), Msg::Ping(self.sent));
        if self.sent < 10 {
            ctx.set_timer(SimDuration::from_millis(10), ());
        }
    }
}

fn network(fifo: bool, capacity: Option<u32>) -> NetworkConfig {
    NetworkConfig {
        default: LinkConfig {
            latency: Latency::Constant(SimDuration::from_millis(1)),
            fifo,
            capacity,
            ..LinkConfig::default()
        },
        ..NetworkConfig::default()
    }
}

fn on_ping(nth: u32, response: Response) -> TriggeredFault {
    TriggeredFault {
        trigger: Trigger {
            watch: Watch::Sent("Ping".into()),
            node: None,
            nth,
            before: None,
        },
        response,
    }
}

fn run(network: NetworkConfig, triggers: Vec<TriggeredFault>) -> Sim<Pinger> {
    let mut sim = SimBuilder::new(1)
        .nodes(2)
        .network(network)
        .triggers(triggers)
        .build(|_| Pinger::default())
        .expect("valid");
    sim.run_until(SimTime::from_millis(500)).expect("no limit");
    sim.assert_conservation();
    sim
}

fn arrivals(sim: &Sim<Pinger>) -> Vec<(u32, SimTime)> {
    sim.states()[1].as_ref().expect("n2 up").got.clone()
}

#[test]
fn a_trigger_drops_duplicates_or_delays_only_the_message_it_caught() {
    let drop = run(
        network(false, None),
        vec![on_ping(3, Response::Message(MessageAction::Drop))],
    );
    let got: Vec<u32> = arrivals(&drop).iter().map(|&(i, _)| i).collect();
    assert_eq!(got, [1, 2, 4, 5, 6, 7, 8, 9, 10]);
    assert_eq!(drop.stats().dropped.fault, 1);

    let dup = run(
        network(false, Some(4)),
        vec![on_ping(2, Response::Message(MessageAction::Duplicate))],
    );
    let got: Vec<u32> = arrivals(&dup).iter().map(|&(i, _)| i).collect();
    assert_eq!(got, [1, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert_eq!(dup.stats().duplicated, 1);

    let by = SimDuration::from_millis(25);
    let late = run(
        network(false, None),
        vec![on_ping(1, Response::Message(MessageAction::Delay(by)))],
    );
    let got: Vec<u32> = arrivals(&late).iter().map(|&(i, _)| i).collect();
    assert_eq!(
        got,
        [2, 3, 1, 4, 5, 6, 7, 8, 9, 10],
        "ping 1 overtaken by 2 and 3"
    );
    assert_eq!(arrivals(&late)[2].1, SimTime::from_millis(10 + 1 + 25));
}

#[test]
fn on_a_fifo_link_a_delayed_message_holds_back_those_after_it() {
    let by = SimDuration::from_millis(25);
    let sim = run(
        network(true, None),
        vec![on_ping(1, Response::Message(MessageAction::Delay(by)))],
    );
    let got: Vec<u32> = arrivals(&sim).iter().map(|&(i, _)| i).collect();
    assert_eq!(got, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert!(arrivals(&sim)[1].1 >= SimTime::from_millis(36));
}

#[test]
fn a_fired_fault_lands_on_the_node_the_event_happened_at_once_and_in_time() {
    let crash_receiver = TriggeredFault {
        trigger: Trigger {
            watch: Watch::Note("got ping".into()),
            node: None,
            nth: 4,
            before: None,
        },
        response: Response::Fault {
            after: SimDuration::from_millis(5),
            fault: Fault::Crash(TRIGGER_NODE),
        },
    };
    let sim = run(network(false, None), vec![crash_receiver.clone()]);
    assert_eq!(sim.stats().crashes, 1);
    assert_eq!(sim.status(NodeId(1)), NodeStatus::Down);
    assert!(sim.triggers_fired()[0].1);
    // Ping 4 arrives at 41ms; the crash is 5ms later, so ping 5 (51ms) finds n2 down.
    assert_eq!(sim.stats().dropped.node_down, 6);

    let mut too_late = crash_receiver;
    too_late.trigger.before = Some(SimTime::from_millis(30));
    let sim = run(network(false, None), vec![too_late]);
    assert_eq!(sim.stats().crashes, 0);
    assert!(!sim.triggers_fired()[0].1);
}

#[test]
fn the_builder_rejects_a_bad_trigger_in_the_parser_s_words() {
    let mut zeroth = on_ping(1, Response::Message(MessageAction::Drop));
    zeroth.trigger.nth = 0;
    let error = SimBuilder::new(1)
        .nodes(2)
        .triggers(vec![
            on_ping(1, Response::Message(MessageAction::Drop)),
            zeroth,
        ])
        .build(|_| Pinger::default())
        .err()
        .expect("rejected");
    let text = error.to_string();
    assert!(
        text.contains("triggers[1]: a trigger's `nth` counts from 1"),
        "{text}"
    );
}
