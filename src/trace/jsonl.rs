//! Writes the trace as JSON Lines: one object per event.
//!
//! Each line has `i` (index), `t_ns`, `t` (readable time), `node`, `kind`, the kind's own
//! fields (node ids replaced by names), and `detail` (message contents or note) when there is one.
//! With [`JsonlSink::with_states`], handler lines also carry `state_before` and `state_after`,
//! and `summary` (the protocol's [`crate::Summary`], as [`crate::Summary::to_json`] writes it)
//! where the node's summary changed.
//! Client lines also carry `op`, the op's number in the clients' history (see [`OpNumbers`]).

use super::{OpNumbers, TraceEvent, TraceKind, TraceSink};
use crate::ids::NodeId;
use serde_json::{Map, Value, json};
use std::fmt;
use std::io::{self, BufWriter, Write};

/// A [`TraceSink`] writing JSON Lines to any writer (usually a file).
pub struct JsonlSink<W: Write> {
    out: BufWriter<W>,
    names: Vec<String>,
    error: Option<io::Error>,
    states: bool,
    /// With states: the line of the handler now running, waiting for its states, and the
    /// lines the handler recorded meanwhile (already serialised).
    held: Option<(u64, Map<String, Value>)>,
    after_held: Vec<u8>,
    ops: OpNumbers,
    /// With states: each node's last summary written, by node id.
    summaries_last: Vec<Option<crate::Summary>>,
}

impl<W: Write> JsonlSink<W> {
    pub fn new(out: W, names: Vec<String>) -> Self {
        JsonlSink {
            out: BufWriter::new(out),
            names,
            error: None,
            states: false,
            held: None,
            after_held: Vec::new(),
            ops: OpNumbers::default(),
            summaries_last: Vec::new(),
        }
    }

    /// Also records each node's state before and after every handler (`state_before`,
    /// `state_after`), when the simulation renders them (a scenario run does).
    pub fn with_states(mut self) -> Self {
        self.states = true;
        self
    }

    fn name(&self, id: NodeId) -> Value {
        match self.names.get(id.index()) {
            Some(n) => Value::String(n.clone()),
            None => Value::String(id.to_string()),
        }
    }

    fn line(&self, event: &TraceEvent, detail: Option<&dyn fmt::Debug>) -> Map<String, Value> {
        let mut obj = Map::new();
        obj.insert("i".into(), json!(event.index));
        obj.insert("t_ns".into(), json!(event.time.0));
        obj.insert("t".into(), json!(event.time.to_string()));
        obj.insert("node".into(), self.name(event.node));
        if let Ok(Value::Object(fields)) = serde_json::to_value(event.kind) {
            for (k, v) in fields {
                let v = match (k.as_str(), &v) {
                    ("to" | "from", Value::Number(n)) => {
                        self.name(NodeId(n.as_u64().unwrap_or(0) as u32))
                    }
                    _ => v,
                };
                obj.insert(k, v);
            }
        }
        if let TraceKind::Note = event.kind {
            if let Some(d) = detail {
                obj.insert("note".into(), json!(format!("{d:?}")));
            }
        } else if let Some(d) = detail {
            obj.insert("detail".into(), json!(format!("{d:?}")));
        }
        obj
    }

    /// Writes the held handler line, then what came after it.
    fn release(&mut self) -> io::Result<()> {
        if let Some((_, line)) = self.held.take() {
            serde_json::to_writer(&mut self.out, &line)?;
            self.out.write_all(b"\n")?;
        }
        self.out.write_all(&self.after_held)?;
        self.after_held.clear();
        Ok(())
    }

    fn write_event(
        &mut self,
        event: &TraceEvent,
        detail: Option<&dyn fmt::Debug>,
    ) -> io::Result<()> {
        let mut line = self.line(event, detail);
        if let Some(op) = self.ops.read(&event.kind) {
            line.insert("op".into(), json!(op));
        }
        if self.states && runs_handler(&event.kind) {
            self.release()?;
            self.held = Some((event.index, line));
            return Ok(());
        }
        let out: &mut dyn Write = if self.held.is_some() {
            &mut self.after_held
        } else {
            &mut self.out
        };
        serde_json::to_writer(&mut *out, &line)?;
        out.write_all(b"\n")
    }
}

/// The kinds after which the engine runs a process handler.
fn runs_handler(kind: &TraceKind) -> bool {
    matches!(
        kind,
        TraceKind::Start
            | TraceKind::Restart
            | TraceKind::Deliver { .. }
            | TraceKind::TimerFired { .. }
            | TraceKind::Request { .. }
    )
}

impl<W: Write> TraceSink for JsonlSink<W> {
    fn record(&mut self, event: &TraceEvent, _hash: u64, detail: Option<&dyn fmt::Debug>) {
        if self.error.is_some() {
            return;
        }
        if let Err(e) = self.write_event(event, detail) {
            self.error = Some(e);
        }
    }

    fn wants_states(&self) -> bool {
        self.states
    }

    fn node_states(&mut self, index: u64, before: &str, after: &str) {
        if let Some((held, line)) = self.held.as_mut()
            && *held == index
        {
            line.insert("state_before".into(), json!(before));
            line.insert("state_after".into(), json!(after));
            // The node's summary comes next, and goes on the same line.
            return;
        }
        if self.error.is_none()
            && let Err(e) = self.release()
        {
            self.error = Some(e);
        }
    }

    fn wants_summaries(&self) -> bool {
        self.states
    }

    fn node_summary(&mut self, index: u64, node: NodeId, summary: &crate::Summary) {
        if self.summaries_last.len() <= node.index() {
            self.summaries_last.resize(node.index() + 1, None);
        }
        let last = &mut self.summaries_last[node.index()];
        if let Some((held, line)) = self.held.as_mut()
            && *held == index
            && last.as_ref() != Some(summary)
        {
            line.insert("summary".into(), Value::Object(summary.to_json()));
            *last = Some(summary.clone());
        }
        if self.error.is_none()
            && let Err(e) = self.release()
        {
            self.error = Some(e);
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.release()?;
        self.out.flush()
    }
}

impl<W: Write> Drop for JsonlSink<W> {
    /// A run that stopped early (a protocol panic) still leaves every line it recorded.
    fn drop(&mut self) {
        if self.error.is_none() {
            let _ = self.release();
        }
    }
}
