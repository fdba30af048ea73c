//! Capturing a run's trace in memory for the page, beside (or instead of) a trace file.

use super::states::StateDeltas;
use super::summaries::SummaryRecords;
use super::{Meta, Page};
use crate::ids::NodeId;
use crate::scenario::RunReport;
use crate::trace::{JsonlSink, TraceEvent, TraceSink};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Write};
use std::rc::Rc;

/// A byte buffer the sink writes into and the caller reads after the run.
#[derive(Clone, Default)]
struct SharedBuf(Rc<RefCell<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Records a run's trace as JSON Lines in memory, with each node's summary where it changed
/// ([`super::summaries`]); with states, each handler's states as changes ([`super::states`]).
pub struct Capture {
    buf: SharedBuf,
    names: Vec<String>,
    states: Option<Rc<RefCell<StateRecords>>>,
    summaries: Rc<RefCell<SummaryRecords>>,
}

/// The state records of a run so far.
#[derive(Default)]
struct StateRecords {
    deltas: StateDeltas,
    records: Vec<String>,
    /// The node of each event recorded since the last handler's states, by trace index.
    nodes: BTreeMap<u64, NodeId>,
}

/// The sink that turns each handler's states into a record of changes.
struct StateSink {
    shared: Rc<RefCell<StateRecords>>,
    names: Vec<String>,
}

impl TraceSink for StateSink {
    fn record(&mut self, event: &TraceEvent, _hash: u64, _detail: Option<&dyn fmt::Debug>) {
        self.shared
            .borrow_mut()
            .nodes
            .insert(event.index, event.node);
    }
    fn wants_states(&self) -> bool {
        true
    }
    fn node_states(&mut self, index: u64, before: &str, after: &str) {
        let mut shared = self.shared.borrow_mut();
        let node = shared.nodes.get(&index).copied();
        // Events up to the handler's own are done with.
        shared.nodes.retain(|&i, _| i > index);
        let Some(name) = node.and_then(|n| self.names.get(n.index())) else {
            return;
        };
        if let Some(r) = shared.deltas.record(index, name, before, after) {
            shared.records.push(r.to_string());
        }
    }
}

/// The sink that keeps each node's summary where it changed.
struct SummarySink {
    shared: Rc<RefCell<SummaryRecords>>,
    names: Vec<String>,
}

impl TraceSink for SummarySink {
    fn record(&mut self, _event: &TraceEvent, _hash: u64, _detail: Option<&dyn fmt::Debug>) {}
    fn wants_summaries(&self) -> bool {
        true
    }
    fn node_summary(&mut self, index: u64, node: NodeId, summary: &crate::Summary) {
        if let Some(name) = self.names.get(node.index()) {
            self.shared.borrow_mut().take(index, node, name, summary);
        }
    }
}

impl Capture {
    /// A capture for a run with these node names; `states` also records node states.
    pub fn new(names: Vec<String>, states: bool) -> Capture {
        Capture {
            buf: SharedBuf::default(),
            names,
            states: states.then(Rc::default),
            summaries: Rc::default(),
        }
    }

    /// The sink to give the run. Its lines land in this capture.
    pub fn sink(&self) -> Box<dyn TraceSink> {
        let lines = Box::new(JsonlSink::new(self.buf.clone(), self.names.clone()));
        let summaries = Box::new(SummarySink {
            shared: self.summaries.clone(),
            names: self.names.clone(),
        });
        let sink: Box<dyn TraceSink> = Box::new(TeeSink(lines, summaries));
        match &self.states {
            Some(shared) => Box::new(TeeSink(
                sink,
                Box::new(StateSink {
                    shared: shared.clone(),
                    names: self.names.clone(),
                }),
            )),
            None => sink,
        }
    }

    /// The page for the finished run: its report's metadata and every captured line.
    pub fn page(&self, report: &RunReport) -> Page {
        let bytes = self.buf.0.borrow();
        let text = String::from_utf8_lossy(&bytes);
        let mut records: Vec<String> = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect();
        if let Some(shared) = &self.states {
            let shared = shared.borrow();
            records.extend(shared.records.iter().cloned());
            records.extend(shared.deltas.cap_record().map(|r| r.to_string()));
        }
        records.extend(self.summaries.borrow().records());
        Page::new(Meta::from_report(report), records)
    }
}

/// Hands every event to two sinks (a trace file and a [`Capture`]).
pub struct TeeSink(pub Box<dyn TraceSink>, pub Box<dyn TraceSink>);

impl TeeSink {
    /// One sink from up to two.
    pub fn join(
        a: Option<Box<dyn TraceSink>>,
        b: Option<Box<dyn TraceSink>>,
    ) -> Option<Box<dyn TraceSink>> {
        match (a, b) {
            (Some(a), Some(b)) => Some(Box::new(TeeSink(a, b))),
            (a, b) => a.or(b),
        }
    }
}

impl TraceSink for TeeSink {
    fn record(&mut self, event: &TraceEvent, hash: u64, detail: Option<&dyn fmt::Debug>) {
        self.0.record(event, hash, detail);
        self.1.record(event, hash, detail);
    }
    fn wants_states(&self) -> bool {
        self.0.wants_states() || self.1.wants_states()
    }
    fn node_states(&mut self, index: u64, before: &str, after: &str) {
        self.0.node_states(index, before, after);
        self.1.node_states(index, before, after);
    }
    fn wants_summaries(&self) -> bool {
        self.0.wants_summaries() || self.1.wants_summaries()
    }
    fn node_summary(&mut self, index: u64, node: NodeId, summary: &crate::Summary) {
        self.0.node_summary(index, node, summary);
        self.1.node_summary(index, node, summary);
    }
    fn finish(&mut self) -> io::Result<()> {
        let first = self.0.finish();
        self.1.finish()?;
        first
    }
}
