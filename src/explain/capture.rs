//! A trace sink that keeps every event, with its details rendered, for the explanation and the
//! ShiViz export to work on after the run.

use crate::trace::{TraceEvent, TraceSink};
use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

/// One trace event and its rendered detail (message contents, timer tag, fault, note).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Captured {
    pub event: TraceEvent,
    pub detail: Option<String>,
}

/// Keeps every event of a run in memory. Clones share one list, so the list can be read
/// after the simulation that owned the sink is gone.
#[derive(Clone, Default)]
pub struct CaptureSink {
    events: Rc<RefCell<Vec<Captured>>>,
}

impl CaptureSink {
    pub fn new() -> CaptureSink {
        CaptureSink::default()
    }

    /// The events captured so far, in trace order.
    pub fn events(&self) -> Vec<Captured> {
        self.events.borrow().clone()
    }

    /// Takes the captured events out, leaving the list empty.
    pub fn take(&self) -> Vec<Captured> {
        std::mem::take(&mut *self.events.borrow_mut())
    }
}

impl TraceSink for CaptureSink {
    fn record(&mut self, event: &TraceEvent, _hash: u64, detail: Option<&dyn fmt::Debug>) {
        let mut events = self.events.borrow_mut();
        assert_eq!(
            events.len() as u64,
            event.index,
            "trace events arrive in order, each once"
        );
        events.push(Captured {
            event: *event,
            detail: detail.map(|d| format!("{d:?}")),
        });
    }
}
