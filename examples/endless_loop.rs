//! A protocol whose handler never returns once a node's timer fires at 100 ms: what a
//! student's endless loop looks like to `faultline grade`, which stops at the seed
//! (`--seed-time-max`) rather than hang. Used by the grader's tests.
//!
//! ```sh
//! cargo run --example endless_loop -- grade examples/endless_loop/grade.yaml --seed-time-max 1s
//! ```

use faultline::check::Property;
use faultline::protocol::{BugDoc, ParamDoc};
use faultline::{Ctx, NodeId, Process, Protocol, Registry, SimDuration, TimerId};
use serde::{Deserialize, Serialize};
use std::process::ExitCode;

fn main() -> ExitCode {
    faultline::cli::main(Registry::builtin().with::<Endless>())
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Params {}

#[derive(Clone, Debug, Hash)]
struct Endless {
    spins: u64,
}

impl Process for Endless {
    type Message = ();
    type Timer = ();

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.set_timer(SimDuration::from_millis(100), ());
    }

    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}

    fn on_timer(&mut self, _: &mut Ctx<'_, Self>, _: TimerId, _: ()) {
        // The mistake: a loop whose way out never comes.
        loop {
            self.spins = std::hint::black_box(self.spins.wrapping_add(1));
        }
    }
}

impl Protocol for Endless {
    const NAME: &'static str = "endless";
    const SUMMARY: &'static str = "a node whose timer handler never returns";
    type Params = Params;
    const PARAM_DOCS: &'static [ParamDoc] = &[];
    const BUG_DOCS: &'static [BugDoc] = &[];

    fn properties() -> Vec<Property<Self>> {
        Vec::new()
    }

    fn new(_: NodeId, _: u32, _: &Params, _: Option<&'static str>) -> Self {
        Endless { spins: 0 }
    }
}
