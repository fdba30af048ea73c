//! A protocol written outside faultline, against its public API only: a token ring.
//!
//! Node i passes a token to node i+1. The invariant is that at most one node holds the token.
//! The buggy variant re-sends the token when no acknowledgement comes back in time; under
//! message delay the old token and its copy then both circulate, and the invariant breaks.
//!
//! ```text
//! cargo run --example token_ring
//! ```

use faultline::check::{Property, Violation, run_checked};
use faultline::{
    Ctx, Latency, LinkConfig, NetworkConfig, NodeId, Process, Sim, SimBuilder, SimDuration,
    SimTime, TimerId,
};

#[derive(Clone, Debug, Hash)]
enum Msg {
    Token,
    Ack,
}

struct Ring {
    holding: bool,
    awaiting_ack: bool,
    resend_on_timeout: bool,
}

const HOLD: SimDuration = SimDuration::from_millis(5);
const ACK_TIMEOUT: SimDuration = SimDuration::from_millis(20);

#[derive(Debug, Hash)]
enum Timer {
    Pass,
    AckTimeout,
}

impl Ring {
    fn next(ctx: &Ctx<'_, Self>) -> NodeId {
        NodeId((ctx.id().0 + 1) % ctx.node_count())
    }
}

impl Process for Ring {
    type Message = Msg;
    type Timer = Timer;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if ctx.id() == NodeId(0) {
            self.holding = true;
            ctx.set_timer(HOLD, Timer::Pass);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Token => {
                self.holding = true;
                ctx.send(from, Msg::Ack);
                ctx.set_timer(HOLD, Timer::Pass);
            }
            Msg::Ack => self.awaiting_ack = false,
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _: TimerId, timer: Timer) {
        match timer {
            Timer::Pass if self.holding => {
                self.holding = false;
                self.awaiting_ack = true;
                ctx.send(Self::next(ctx), Msg::Token);
                ctx.set_timer(ACK_TIMEOUT, Timer::AckTimeout);
            }
            Timer::AckTimeout if self.awaiting_ack && self.resend_on_timeout => {
                ctx.annotate("no ack: sending the token again");
                ctx.send(Self::next(ctx), Msg::Token);
                ctx.set_timer(ACK_TIMEOUT, Timer::AckTimeout);
            }
            _ => {}
        }
    }
}

fn one_token(sim: &Sim<Ring>) -> Result<(), Violation> {
    let holders: Vec<NodeId> = sim
        .nodes()
        .filter(|(_, view)| view.state().is_some_and(|r| r.holding))
        .map(|(id, _)| id)
        .collect();
    if holders.len() > 1 {
        let names: Vec<&str> = holders.iter().map(|&id| sim.node_name(id)).collect();
        return Err(Violation::new(
            format!("{} hold the token at the same time", names.join(" and ")),
            holders,
        ));
    }
    Ok(())
}

fn run(seed: u64, resend_on_timeout: bool) -> Result<(), String> {
    // Mostly fast links with a rare slow message: exactly what the buggy timeout mistakes for loss.
    let latency = Latency::Mix(vec![
        faultline::net::MixPart {
            weight: 0.95,
            latency: Latency::Constant(SimDuration::from_millis(2)),
        },
        faultline::net::MixPart {
            weight: 0.05,
            latency: Latency::Constant(SimDuration::from_millis(50)),
        },
    ]);
    let network = NetworkConfig {
        default: LinkConfig {
            latency,
            ..LinkConfig::default()
        },
        ..Default::default()
    };
    let mut sim = SimBuilder::new(seed)
        .nodes(5)
        .network(network)
        .build(move |_| Ring {
            holding: false,
            awaiting_ack: false,
            resend_on_timeout,
        })
        .map_err(|e| e.to_string())?;
    let properties = [Property::always(
        "one_token",
        "at most one node holds the token",
        one_token,
    )];
    let violations =
        run_checked(&mut sim, SimTime::from_secs(10), &properties).map_err(|e| e.to_string())?;
    match violations.first() {
        Some(v) => Err(format!("seed {seed}: {}", v.headline())),
        None => Ok(()),
    }
}

fn main() {
    for seed in 0..20 {
        run(seed, false).expect("the correct ring keeps one token");
    }
    println!("correct ring: one token on seeds 0..20");
    let found = (0..20).find_map(|seed| run(seed, true).err());
    match found {
        Some(report) => println!("buggy ring:   {report}"),
        None => println!("buggy ring:   no violation found on seeds 0..20"),
    }
}

#[cfg(test)]
mod tests {
    use super::run;

    #[test]
    fn the_correct_ring_passes_and_the_buggy_one_is_caught() {
        assert!((0..20).all(|seed| run(seed, false).is_ok()));
        let report = (0..20)
            .find_map(|seed| run(seed, true).err())
            .expect("the bug is found");
        assert!(report.contains("one_token violated"), "{report}");
    }
}
