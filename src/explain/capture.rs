//! Trace sinks that keep a run's events for the explanation and the ShiViz export to work on
//! after the run: [`CaptureSink`] keeps every event, with its details rendered up to a byte
//! budget, and [`DetailSink`] renders the details of a few chosen events only.

use crate::trace::{TraceEvent, TraceKind, TraceSink};
use std::cell::RefCell;
use std::collections::{BTreeMap, TryReserveError};
use std::fmt;
use std::rc::Rc;

/// One trace event and its rendered detail (message contents, timer tag, fault, note).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Captured {
    pub event: TraceEvent,
    pub detail: Option<String>,
}

#[derive(Default)]
struct Captures {
    events: Vec<Captured>,
    detail_bytes: usize,
    details_bytes_max: Option<usize>,
    /// The first event whose detail went over the budget and was not kept.
    details_dropped_from: Option<u64>,
}

/// Keeps every event of a run in memory. Clones share one list, so the list can be read
/// after the simulation that owned the sink is gone.
#[derive(Clone, Default)]
pub struct CaptureSink {
    inner: Rc<RefCell<Captures>>,
}

impl CaptureSink {
    /// A sink that keeps every event and every detail.
    pub fn new() -> CaptureSink {
        CaptureSink::default()
    }

    /// A sink with room for `events` events made up front (or an error, not an abort, when
    /// the memory is not there), that keeps details only while they take at most
    /// `details_bytes_max` bytes in all. Cuts and heals keep theirs always: the explanation
    /// reads them to know whom a partition named, and a run has few.
    pub fn bounded(
        events: usize,
        details_bytes_max: usize,
    ) -> Result<CaptureSink, TryReserveError> {
        let mut list = Vec::new();
        list.try_reserve_exact(events)?;
        let inner = Captures {
            events: list,
            details_bytes_max: Some(details_bytes_max),
            ..Captures::default()
        };
        Ok(CaptureSink {
            inner: Rc::new(RefCell::new(inner)),
        })
    }

    /// The events captured so far, in trace order.
    pub fn events(&self) -> Vec<Captured> {
        self.inner.borrow().events.clone()
    }

    /// Takes the captured events out, leaving the list empty.
    pub fn take(&self) -> Vec<Captured> {
        std::mem::take(&mut self.inner.borrow_mut().events)
    }

    /// The first event whose detail was left out for the budget, if any was.
    pub fn details_dropped_from(&self) -> Option<u64> {
        self.inner.borrow().details_dropped_from
    }
}

/// Partitions, heals and clogs: their details name the nodes they cut.
pub(super) fn is_cut(kind: &TraceKind) -> bool {
    matches!(
        kind,
        TraceKind::Partition | TraceKind::Heal | TraceKind::Clog { .. }
    )
}

impl TraceSink for CaptureSink {
    fn record(&mut self, event: &TraceEvent, _hash: u64, detail: Option<&dyn fmt::Debug>) {
        let mut c = self.inner.borrow_mut();
        assert_eq!(
            c.events.len() as u64,
            event.index,
            "trace events arrive in order, each once"
        );
        let over = c.details_dropped_from.is_some() && !is_cut(&event.kind);
        let mut detail = detail.filter(|_| !over).map(|d| format!("{d:?}"));
        if let (Some(d), Some(max)) = (&detail, c.details_bytes_max)
            && !is_cut(&event.kind)
        {
            if c.detail_bytes + d.len() > max {
                c.details_dropped_from = Some(event.index);
                detail = None;
            } else {
                c.detail_bytes += d.len();
            }
        }
        c.events.push(Captured {
            event: *event,
            detail,
        });
    }
}

/// Renders the details of the events asked for, and of no other: the second look at a run
/// whose details did not all fit the budget.
#[derive(Clone, Default)]
pub struct DetailSink {
    wanted: Rc<Vec<u64>>,
    found: Rc<RefCell<BTreeMap<u64, String>>>,
}

impl DetailSink {
    /// A sink for the details of the events with these indices.
    pub fn new(mut wanted: Vec<u64>) -> DetailSink {
        wanted.sort_unstable();
        wanted.dedup();
        DetailSink {
            wanted: Rc::new(wanted),
            found: Rc::default(),
        }
    }

    /// The details found, by event index.
    pub fn take(&self) -> BTreeMap<u64, String> {
        std::mem::take(&mut *self.found.borrow_mut())
    }
}

impl TraceSink for DetailSink {
    fn record(&mut self, event: &TraceEvent, _hash: u64, detail: Option<&dyn fmt::Debug>) {
        if let Some(d) = detail
            && self.wanted.binary_search(&event.index).is_ok()
        {
            self.found
                .borrow_mut()
                .insert(event.index, format!("{d:?}"));
        }
    }
}
