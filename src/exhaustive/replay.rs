//! Following one path exactly: the events of a `schedule:`, on the same model of the system the
//! search explores, with the properties judged after each event.

use super::judge::Judge;
use super::path::{Event, Step, describe};
use super::state::State;
use super::step::{Choice, Machine};
use super::trace::PathTrace;
use super::{BUDGET_MAX, Budgets, Explorer};
use crate::check::{HistoryCheck, ViolationReport, check_history_at};
use crate::linearizability::fxhash::mix64;
use crate::protocol::Protocol;
use crate::time::SimTime;
use crate::trace::TraceSink;
use crate::workload::HistoryLog;
use serde::Serialize;
use std::sync::Arc;

/// How a replay went.
#[derive(Clone, Debug, Serialize)]
pub struct Replay {
    /// The events followed, each with its handler's notes; the last is the one after which a
    /// property broke, if one did.
    pub steps: Vec<Step>,
    pub violation: Option<ViolationReport>,
    pub judged: Vec<&'static str>,
    pub unjudged: Vec<&'static str>,
    pub coverage: Vec<(&'static str, bool)>,
    /// The trace time of the last event: event k of the schedule is at k milliseconds.
    pub end_time: SimTime,
    /// Whether the last state had nothing left to happen (end-state properties were judged).
    pub quiescent: bool,
    /// A hash of every state along the path and of its trace: equal for equal replays.
    pub path_hash: u64,
    /// The events of the path's trace (the nodes' boots, the schedule's events, and the
    /// messages and notes of their handlers).
    pub trace_events: u64,
    /// Messages sent along the path.
    pub sent: u64,
    /// Messages in flight at the end.
    pub in_flight: u64,
    /// The check of the clients' history at the end, when there are clients.
    pub history: Option<HistoryCheck>,
    /// The clients' history, when there are clients.
    #[serde(skip)]
    pub history_log: Option<HistoryLog>,
}

/// A schedule that does not fit the system.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(
        "event {index} of the schedule ({event}) is not possible in the state the events before \
         it reach; possible there: {possible}"
    )]
    NotEnabled {
        index: usize,
        event: Event,
        possible: String,
    },
    #[error("cannot build the nodes: {0}")]
    Build(String),
    #[error("cannot write the trace: {0}")]
    Trace(std::io::Error),
}

/// Most possible events an error lists.
const POSSIBLE_SHOWN_MAX: usize = 8;

/// Follows `events` from the initial state of `names.len()` nodes made by `factory`, recording
/// the path's trace into `sink` if there is one.
pub(crate) fn replay<P: Protocol>(
    explorer: Explorer<P>,
    events: &[Event],
    sink: Option<Box<dyn TraceSink>>,
) -> Result<Replay, ReplayError> {
    let (clients, history) = (explorer.clients(), explorer.history_judge());
    let names: Arc<[String]> = explorer.names.into();
    let factory = explorer.factory;
    let mut judge = Judge::new(&names, explorer.properties, Arc::clone(&factory), history)
        .map_err(ReplayError::Build)?;
    let mut trace = PathTrace::new(sink, &factory);
    let mut machine = Machine::new(Arc::clone(&names), factory, clients);
    machine.keep_notes();
    let mut state = machine
        .initial_with(&mut |boot| trace.boot(boot))
        .map_err(|p| ReplayError::Build(p.0))?;
    let monitored = judge.start_monitors(&mut state);
    let mut path_hash = state.fingerprint();
    let mut violation = monitored.or_else(|| judge.judge(&state));
    let mut steps = Vec::new();
    for (index, event) in events.iter().enumerate() {
        if violation.is_some() {
            break;
        }
        let choice = enabled(&machine, &state, index, event, &names)?;
        let touched = super::step::touched(&state, choice);
        let delta = machine.delta(&state, choice);
        let notes = machine.take_notes();
        let replied = machine.take_replied();
        trace.event(&state, choice, delta.as_ref().ok(), &notes, &replied);
        steps.push(Step {
            event: event.clone(),
            notes: super::path::note_texts(notes),
        });
        match delta {
            Ok(delta) => state = state.with(delta),
            Err(panic) => {
                violation = Some(super::search::panic_report(panic.0));
                break;
            }
        }
        violation = judge
            .observe(&mut state, touched)
            .or_else(|| judge.judge(&state));
        path_hash = mix64(path_hash ^ state.fingerprint());
    }
    if let Some(v) = &mut violation {
        v.event = Some(trace.last_index());
    }
    let quiescent = state.quiescent();
    if violation.is_none() && quiescent {
        violation = judge.judge_end(&state);
    }
    if let Some(v) = &mut violation {
        v.time = trace.now();
        v.time_ns = trace.now().as_nanos();
    }
    trace.finish().map_err(ReplayError::Trace)?;
    let clients = state.clients.as_deref();
    let history = judge.history().zip(clients).map(|((model, isolation), c)| {
        check_history_at(model, isolation, &c.clients.log, &names, trace.now())
    });
    Ok(Replay {
        history,
        history_log: clients.map(|c| c.clients.log.clone()),
        steps,
        violation,
        judged: judge.judged(),
        unjudged: judge.unjudged.clone(),
        coverage: judge.coverage(),
        end_time: trace.now(),
        quiescent,
        path_hash: mix64(path_hash ^ trace.hash()),
        trace_events: trace.count(),
        sent: machine.sent,
        in_flight: state.net.len() as u64,
    })
}

/// The choice that event `index` of the schedule, `event`, names in `state`.
fn enabled<P: Protocol>(
    machine: &Machine<P>,
    state: &State<P>,
    index: usize,
    event: &Event,
    names: &[String],
) -> Result<Choice, ReplayError> {
    let unlimited = Budgets {
        timers_max: u32::MAX,
        drops_max: BUDGET_MAX,
        duplicates_max: BUDGET_MAX,
        crashes_max: BUDGET_MAX,
        client_ops_max: BUDGET_MAX,
        timeouts_max: BUDGET_MAX,
    };
    let mut choices = Vec::new();
    machine.choices(state, &unlimited, &mut choices);
    if let Some(choice) = find(state, event, &choices, names) {
        return Ok(choice);
    }
    let possible: Vec<String> = choices
        .iter()
        .take(POSSIBLE_SHOWN_MAX)
        .map(|&c| describe(state, c, names).to_string())
        .collect();
    let more = choices.len().saturating_sub(POSSIBLE_SHOWN_MAX);
    Err(ReplayError::NotEnabled {
        index: index + 1,
        event: event.clone(),
        possible: match more {
            0 => possible.join("; "),
            n => format!("{}; and {n} more", possible.join("; ")),
        },
    })
}

/// The choice among `choices` that `event` describes.
fn find<P: Protocol>(
    state: &State<P>,
    event: &Event,
    choices: &[Choice],
    names: &[String],
) -> Option<Choice> {
    choices
        .iter()
        .copied()
        .find(|&c| describe(state, c, names) == *event)
}
