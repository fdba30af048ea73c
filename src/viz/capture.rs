//! Capturing a run's trace in memory for the page, beside (or instead of) a trace file.

use super::{Meta, Page};
use crate::scenario::RunReport;
use crate::trace::{JsonlSink, TraceEvent, TraceSink};
use std::cell::RefCell;
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

/// Records a run's trace as JSON Lines in memory.
pub struct Capture {
    buf: SharedBuf,
    names: Vec<String>,
    states: bool,
}

impl Capture {
    /// A capture for a run with these node names; `states` also records node states.
    pub fn new(names: Vec<String>, states: bool) -> Capture {
        Capture {
            buf: SharedBuf::default(),
            names,
            states,
        }
    }

    /// The sink to give the run. Its lines land in this capture.
    pub fn sink(&self) -> Box<dyn TraceSink> {
        let sink = JsonlSink::new(self.buf.clone(), self.names.clone());
        if self.states {
            Box::new(sink.with_states())
        } else {
            Box::new(sink)
        }
    }

    /// The page for the finished run: its report's metadata and every captured line.
    pub fn page(&self, report: &RunReport) -> Page {
        let bytes = self.buf.0.borrow();
        let text = String::from_utf8_lossy(&bytes);
        let records = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect();
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
    fn finish(&mut self) -> io::Result<()> {
        let first = self.0.finish();
        self.1.finish()?;
        first
    }
}
