//! Writes the trace as JSON Lines: one object per event.
//!
//! Each line has `i` (index), `t_ns`, `t` (readable time), `node`, `kind`, the kind's own
//! fields (node ids replaced by names), and `detail` (message contents or note) when there is one.

use super::{TraceEvent, TraceKind, TraceSink};
use crate::process::NodeId;
use serde_json::{Map, Value, json};
use std::fmt;
use std::io::{self, BufWriter, Write};

/// A [`TraceSink`] writing JSON Lines to any writer (usually a file).
pub struct JsonlSink<W: Write> {
    out: BufWriter<W>,
    names: Vec<String>,
    error: Option<io::Error>,
}

impl<W: Write> JsonlSink<W> {
    pub fn new(out: W, names: Vec<String>) -> Self {
        JsonlSink {
            out: BufWriter::new(out),
            names,
            error: None,
        }
    }

    fn name(&self, id: NodeId) -> Value {
        match self.names.get(id.index()) {
            Some(n) => Value::String(n.clone()),
            None => Value::String(id.to_string()),
        }
    }

    fn line(&self, event: &TraceEvent, detail: Option<&dyn fmt::Debug>) -> Value {
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
        Value::Object(obj)
    }
}

impl<W: Write> TraceSink for JsonlSink<W> {
    fn record(&mut self, event: &TraceEvent, _hash: u64, detail: Option<&dyn fmt::Debug>) {
        if self.error.is_some() {
            return;
        }
        let line = self.line(event, detail);
        let result = serde_json::to_writer(&mut self.out, &line)
            .map_err(io::Error::from)
            .and_then(|_| self.out.write_all(b"\n"));
        if let Err(e) = result {
            self.error = Some(e);
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()
    }
}
