//! A liveness condition for any protocol that serves clients: requests complete again.

use super::{Property, Violation};
use crate::engine::Sim;
use crate::process::Process;
use crate::time::SimTime;

/// `clients_served`, for a protocol's property list: since the liveness phase began (or
/// since the start of the run, without one), some client operation invoked then completed
/// ok. With nothing to judge it holds: a run without a workload, or whose clients stopped
/// issuing operations before the liveness phase began.
pub fn clients_served_property<P: Process>() -> Property<P> {
    Property::at_end(
        "clients_served",
        "a client operation invoked after the liveness phase began (or during the \
                      run, without one) completed ok",
        clients_served,
    )
}

/// The check behind [`clients_served_property`]; O(1): the history keeps the latest
/// invocation time of an ok op.
pub fn clients_served<P: Process>(sim: &Sim<P>) -> Result<(), Violation> {
    let history = sim.history();
    let since = sim.stabilized_at().unwrap_or(SimTime::ZERO);
    let issuing = sim.workload().is_some_and(|w| w.until > since);
    if !issuing {
        return Ok(());
    }
    if history.latest_ok_invoke().is_some_and(|t| t >= since) {
        return Ok(());
    }
    let when = match sim.stabilized_at() {
        Some(t) => format!("since the liveness phase began at {t}"),
        None => "during the run".to_string(),
    };
    Err(Violation::new(
        format!(
            "no client operation invoked {when} completed ok ({} invoked in all)",
            history.len()
        ),
        Vec::new(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SimBuilder;
    use crate::faults::{Fault, TimedFault};
    use crate::protocols::Protocol;
    use crate::protocols::raft::{Params, Raft};
    use crate::workload::{Model, WorkloadConfig};

    /// Raft under clients that stop at `until_ms`, with the liveness phase at `stabilize_ms`.
    fn raft(until_ms: u64, stabilize_ms: u64) -> crate::engine::Sim<Raft> {
        let workload = WorkloadConfig {
            clients: 2,
            until: SimTime::from_millis(until_ms),
            ..WorkloadConfig::new(Model::Kv)
        };
        let stabilize = TimedFault {
            at: SimTime::from_millis(stabilize_ms),
            fault: Fault::Stabilize { majority: true },
        };
        let mut sim = SimBuilder::new(3)
            .nodes(3)
            .faults(vec![stabilize])
            .workload(workload)
            .build(|id| Raft::new(id, 3, &Params::default(), None))
            .expect("valid setup");
        sim.run_until(SimTime::from_secs(2)).expect("within limits");
        sim
    }

    #[test]
    fn holds_once_an_op_invoked_after_the_phase_began_completes() {
        let sim = raft(2_000, 1_000);
        assert_eq!(sim.stabilized_at(), Some(SimTime::from_secs(1)));
        assert!(clients_served(&sim).is_ok());
    }

    #[test]
    fn fails_when_clients_issue_after_the_phase_began_and_none_is_served() {
        // Clients issue until 2s, but the phase begins at 1.99s: whatever they invoked since
        // could not complete ok in 10ms of a cluster still electing.
        let sim = raft(2_000, 1_990);
        let v = clients_served(&sim).expect_err("nothing served since 1.99s");
        assert!(
            v.message
                .contains("since the liveness phase began at 1.99s"),
            "{}",
            v.message
        );
        assert!(
            Raft::properties()
                .iter()
                .any(|p| p.name == "clients_served")
        );
    }

    #[test]
    fn holds_with_nothing_to_judge() {
        // Clients that stopped before the phase began issue nothing it could judge.
        let sim = raft(900, 1_000);
        assert!(sim.history().latest_ok_invoke().is_some(), "served before");
        assert!(clients_served(&sim).is_ok());
        // No workload at all, with a liveness phase.
        let stabilize = TimedFault {
            at: SimTime::from_millis(500),
            fault: Fault::Stabilize { majority: true },
        };
        let mut sim = SimBuilder::new(3)
            .nodes(3)
            .faults(vec![stabilize])
            .build(|id| Raft::new(id, 3, &Params::default(), None))
            .expect("valid setup");
        sim.run_until(SimTime::from_secs(2)).expect("within limits");
        assert!(clients_served(&sim).is_ok());
    }
}
