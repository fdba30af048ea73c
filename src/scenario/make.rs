//! Scenarios made in Rust rather than read from a file: the same runs, sweeps, fuzzing,
//! shrinking and explanations, and a file written out ([`super::to_yaml`]) that replays them.

use super::entry::{ProtocolEntry, ProtocolParams};
use super::{ExpectSpec, Scenario, ScenarioError, parse, to_yaml};
use crate::check::CheckEvery;
use crate::engine::{Limits, default_names};
use crate::net::NetworkConfig;
use crate::protocol::Protocol;
use crate::time::SimDuration;

impl Scenario {
    /// A scenario of protocol `P` on `nodes` nodes named `n1`, `n2`, ...: its default
    /// parameters, no bug, seed 0, 10 s, the default network, no faults, every property
    /// checked after every event, a pass expected. Change any field, then [`Scenario::validate`]
    /// it as the parser would have.
    ///
    /// ```
    /// use faultline::protocols::echo::{Echo, Params};
    /// use faultline::scenario::{self, ExpectSpec, ProtocolParams, Scenario};
    /// use faultline::{Fault, NodeId, SimDuration, SimTime, TimedFault};
    ///
    /// // Clients that never resend, a server that is down for a while: some never hear back.
    /// let mut s = Scenario::new::<Echo>("no retries", 3);
    /// s.bug = Some("no-retry");
    /// s.params = ProtocolParams::new(Params { requests: 5, ..Params::default() });
    /// s.duration = SimDuration::from_secs(2);
    /// s.faults = vec![
    ///     TimedFault { at: SimTime::from_millis(1), fault: Fault::Crash(NodeId(0)) },
    ///     TimedFault { at: SimTime::from_millis(500), fault: Fault::Restart(NodeId(0)) },
    /// ];
    /// s.expect = ExpectSpec::Violation(Some("all_answered".into()));
    /// s.validate()?;
    /// let report = scenario::run(&s, Default::default())?;
    /// assert!(report.expectation_met, "{:?}", report.violations);
    /// // Written out, it is a file any `faultline run` replays to the same trace.
    /// let text = scenario::to_yaml(&s);
    /// assert!(text.contains("protocol: echo") && text.contains("bug: no-retry"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new<P: Protocol>(name: &str, nodes: u32) -> Scenario {
        Scenario {
            file: format!("<{name}>"),
            name: name.to_string(),
            description: String::new(),
            protocol: P::NAME.to_string(),
            params: ProtocolParams::new(P::Params::default()),
            bug: None,
            bug_sealed: false,
            node_names: default_names(nodes),
            seed: 0,
            duration: SimDuration::from_secs(10),
            network: NetworkConfig::default(),
            pct: None,
            faults: Vec::new(),
            triggers: Vec::new(),
            checks: Vec::new(),
            check_every: CheckEvery::Event,
            eventually: Vec::new(),
            expect: ExpectSpec::Pass,
            limits: Limits::default(),
            workload: None,
            nemesis: None,
            swarm: None,
            fuzz: crate::faults::FuzzFaults::default(),
            schedule: Vec::new(),
            explore: Default::default(),
            topology: None,
            entry: ProtocolEntry::of::<P>(),
        }
    }

    /// Checks the scenario exactly as the parser checks a file (it is written out and read
    /// back): unknown nodes in faults, a bug its protocol does not have, parameters the
    /// protocol refuses, and the rest. The error locates the problem in the written file.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        parse(
            std::slice::from_ref(&self.entry),
            &to_yaml(self),
            &self.file,
        )
        .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::{Fault, TimedFault};
    use crate::process::NodeId;
    use crate::protocols::echo::Echo;
    use crate::time::SimTime;

    #[test]
    fn a_made_scenario_runs_as_its_written_file_does() {
        let mut s = Scenario::new::<Echo>("made", 3);
        s.duration = SimDuration::from_secs(2);
        s.faults = vec![TimedFault {
            at: SimTime::from_millis(200),
            fault: Fault::Crash(NodeId(2)),
        }];
        s.validate().expect("valid");
        let made = super::super::run(&s, Default::default()).expect("runs");
        let back = crate::Registry::builtin()
            .parse(&to_yaml(&s), "made.yaml")
            .expect("the written file parses");
        let replayed = super::super::run(&back, Default::default()).expect("runs");
        assert_eq!(made.trace_hash, replayed.trace_hash);
        assert_eq!(made.stats.crashes, 1);
    }

    #[test]
    fn validate_rejects_what_the_parser_rejects() {
        let mut s = Scenario::new::<Echo>("bad", 3);
        s.bug = Some("no-such-bug");
        let e = s.validate().expect_err("unknown bug");
        assert!(
            e.message.contains("unknown bug variant `no-such-bug`"),
            "{e}"
        );
        let mut s = Scenario::new::<Echo>("bad", 3);
        s.faults = vec![TimedFault {
            at: SimTime::from_millis(200),
            fault: Fault::Crash(NodeId(7)),
        }];
        assert!(
            s.validate().is_err(),
            "a fault naming a node the scenario lacks"
        );
    }
}
