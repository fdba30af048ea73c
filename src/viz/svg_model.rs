//! What the SVG picture draws, read from a page's records (the trace lines, then the
//! violation records): arrows, drops, down and paused spans, partitions, marks, client
//! operations and violations, kept to a window of time.

use super::Page;
use crate::time::SimTime;
use serde_json::Value;
use std::collections::BTreeMap;

/// The stretch of the run the picture shows.
#[derive(Clone, Copy, Debug)]
pub(super) struct Window {
    pub(super) from: SimTime,
    pub(super) to: SimTime,
}

impl Window {
    fn holds(&self, t: SimTime) -> bool {
        t >= self.from && t <= self.to
    }

    /// Whether a span from `a` to `b` shows in the window.
    fn meets(&self, a: SimTime, b: SimTime) -> bool {
        a <= self.to && b >= self.from
    }
}

pub(super) struct Arrow {
    pub(super) from: usize,
    pub(super) to: usize,
    pub(super) sent: SimTime,
    pub(super) at: SimTime,
    pub(super) duplicate: bool,
    /// The message's type, its `Debug` text up to the first brace or bracket.
    pub(super) name: String,
    pub(super) detail: String,
}

pub(super) struct Drop {
    pub(super) from: usize,
    pub(super) to: usize,
    pub(super) sent: SimTime,
    pub(super) at: SimTime,
    /// Lost on the way (recorded at the sender) rather than on arrival.
    pub(super) at_send: bool,
    pub(super) reason: String,
    pub(super) detail: String,
}

pub(super) struct Span {
    pub(super) lane: usize,
    pub(super) from: SimTime,
    pub(super) to: SimTime,
    pub(super) paused: bool,
}

pub(super) struct Partition {
    pub(super) from: SimTime,
    pub(super) to: SimTime,
    pub(super) detail: String,
}

pub(super) struct Mark {
    pub(super) lane: usize,
    pub(super) at: SimTime,
    pub(super) kind: &'static str,
    pub(super) detail: String,
}

pub(super) struct Op {
    pub(super) number: u64,
    pub(super) client: u32,
    pub(super) invoked: SimTime,
    pub(super) completed: Option<SimTime>,
    pub(super) status: &'static str,
    pub(super) detail: String,
    /// Its place among the operations a violation names (0: the one the checker blames).
    pub(super) named: Option<usize>,
}

pub(super) struct ViolationMark {
    pub(super) property: String,
    /// When it was found, which may lie outside the window.
    pub(super) at: SimTime,
    /// Where it is drawn: `at`, kept to the window's edges.
    pub(super) drawn_at: SimTime,
    pub(super) message: String,
}

/// Everything the picture draws.
pub(super) struct Model {
    pub(super) title: String,
    pub(super) nodes: Vec<String>,
    pub(super) window: Window,
    pub(super) events_in_window: usize,
    pub(super) clients: u32,
    pub(super) arrows: Vec<Arrow>,
    pub(super) drops: Vec<Drop>,
    pub(super) downtimes: Vec<Span>,
    pub(super) partitions: Vec<Partition>,
    pub(super) marks: Vec<Mark>,
    pub(super) ops: Vec<Op>,
    pub(super) violations: Vec<ViolationMark>,
}

/// A send (or duplicate) waiting for its delivery or drop.
struct Sent {
    lane: usize,
    at: SimTime,
    duplicate: bool,
    detail: String,
}

/// What reading the records keeps between them.
#[derive(Default)]
struct Reading {
    sent: BTreeMap<u64, Sent>,
    down_since: BTreeMap<usize, SimTime>,
    paused_since: BTreeMap<usize, SimTime>,
    open_partitions: Vec<usize>,
    /// Client operations by (client, seq), as places in `ops`.
    open_ops: BTreeMap<(u32, u32), usize>,
    invocations: u64,
}

impl Model {
    /// The model of `page`'s records within `window` (the whole run if `None`).
    pub(super) fn read(page: &Page, window: Option<(SimTime, SimTime)>) -> Result<Model, String> {
        let records: Vec<Value> = page
            .records
            .iter()
            .filter_map(|r| serde_json::from_str(r).ok())
            .collect();
        let end = records
            .iter()
            .filter_map(time)
            .max()
            .unwrap_or(SimTime::ZERO);
        let (from, to) = window.unwrap_or((SimTime::ZERO, end));
        if from >= to {
            return Err(format!("the window {from}..{to} is empty"));
        }
        let mut model = Model::empty(page, Window { from, to });
        let mut reading = Reading::default();
        for r in &records {
            model.read_record(r, &mut reading);
        }
        model.close(&reading);
        model.name_ops(&records);
        if model.events_in_window == 0 {
            return Err(format!("the run has no event between {from} and {to}"));
        }
        Ok(model)
    }

    fn empty(page: &Page, window: Window) -> Model {
        let meta = &page.meta;
        let mut title = meta.title.clone();
        if let Some(p) = &meta.protocol {
            title.push_str(&format!(" · {p}"));
        }
        if let Some(b) = &meta.bug {
            title.push_str(&format!(" (bug {b})"));
        }
        if let Some(s) = meta.seed {
            title.push_str(&format!(" · seed {s}"));
        }
        Model {
            title,
            nodes: meta.nodes.clone(),
            window,
            events_in_window: 0,
            clients: 0,
            arrows: Vec::new(),
            drops: Vec::new(),
            downtimes: Vec::new(),
            partitions: Vec::new(),
            marks: Vec::new(),
            ops: Vec::new(),
            violations: Vec::new(),
        }
    }

    fn lane(&mut self, name: Option<&str>) -> usize {
        let name = name.unwrap_or("?");
        match self.nodes.iter().position(|n| n == name) {
            Some(lane) => lane,
            None => {
                self.nodes.push(name.to_string());
                self.nodes.len() - 1
            }
        }
    }

    fn read_record(&mut self, r: &Value, reading: &mut Reading) {
        let kind = r["kind"].as_str().unwrap_or("");
        if kind == "violation" {
            self.violation(r);
            return;
        }
        let Some(at) = time(r) else {
            return;
        };
        if r["i"].is_u64() && self.window.holds(at) {
            self.events_in_window += 1;
        }
        let lane = self.lane(r["node"].as_str());
        let detail = text(r, "detail");
        match kind {
            "send" | "duplicate" => {
                let id = if kind == "send" { "msg_id" } else { "copy_id" };
                let duplicate = kind == "duplicate";
                let detail = match duplicate {
                    true => reading.sent.get(&r["msg_id"].as_u64().unwrap_or(0)),
                    false => None,
                }
                .map_or(detail, |s| s.detail.clone());
                let sent = Sent {
                    lane,
                    at,
                    duplicate,
                    detail,
                };
                reading.sent.insert(r[id].as_u64().unwrap_or(0), sent);
            }
            "deliver" | "drop" => self.arrival(r, kind, lane, at, reading),
            _ => self.other(r, kind, lane, at, reading),
        }
    }

    fn arrival(&mut self, r: &Value, kind: &str, lane: usize, at: SimTime, reading: &mut Reading) {
        let Some(sent) = reading.sent.remove(&r["msg_id"].as_u64().unwrap_or(0)) else {
            return;
        };
        if !self.window.meets(sent.at, at) {
            return;
        }
        if kind == "deliver" {
            self.arrows.push(Arrow {
                from: sent.lane,
                to: lane,
                sent: sent.at,
                at,
                duplicate: sent.duplicate,
                name: message_name(&sent.detail),
                detail: sent.detail,
            });
            return;
        }
        let to = self.lane(r["to"].as_str());
        self.drops.push(Drop {
            from: sent.lane,
            to,
            sent: sent.at,
            at,
            at_send: lane == sent.lane && at == sent.at,
            reason: text(r, "reason"),
            detail: sent.detail,
        });
    }

    fn other(&mut self, r: &Value, kind: &str, lane: usize, at: SimTime, reading: &mut Reading) {
        match kind {
            "crash" => {
                reading.down_since.insert(lane, at);
                self.mark(lane, at, "crash", "crash".to_string());
            }
            "restart" => {
                if let Some(from) = reading.down_since.remove(&lane) {
                    self.span(lane, from, at, false);
                }
                self.mark(lane, at, "restart", "restart".to_string());
            }
            "pause" => {
                reading.paused_since.insert(lane, at);
            }
            "resume" => {
                if let Some(from) = reading.paused_since.remove(&lane) {
                    self.span(lane, from, at, true);
                }
            }
            "partition" => {
                reading.open_partitions.push(self.partitions.len());
                let detail = Some(text(r, "detail")).filter(|d| !d.is_empty());
                let detail = detail.unwrap_or_else(|| "partition".to_string());
                let to = self.window.to;
                self.partitions.push(Partition {
                    from: at,
                    to,
                    detail,
                });
            }
            "heal" => {
                for p in reading.open_partitions.drain(..) {
                    self.partitions[p].to = at;
                }
            }
            "note" => {
                let note = Some(text(r, "note")).filter(|n| !n.is_empty());
                self.mark(lane, at, "note", note.unwrap_or_else(|| text(r, "detail")));
            }
            "invoke" | "complete" => self.client_event(r, kind, at, reading),
            _ => {}
        }
    }

    fn mark(&mut self, lane: usize, at: SimTime, kind: &'static str, detail: String) {
        if self.window.holds(at) {
            self.marks.push(Mark {
                lane,
                at,
                kind,
                detail,
            });
        }
    }

    fn span(&mut self, lane: usize, from: SimTime, to: SimTime, paused: bool) {
        if self.window.meets(from, to) {
            self.downtimes.push(Span {
                lane,
                from,
                to,
                paused,
            });
        }
    }

    fn client_event(&mut self, r: &Value, kind: &str, at: SimTime, reading: &mut Reading) {
        let client = r["client"].as_u64().unwrap_or(0) as u32;
        let seq = r["seq"].as_u64().unwrap_or(0) as u32;
        self.clients = self.clients.max(client + 1);
        if kind == "invoke" {
            // The history numbers operations in the order they were invoked.
            let number = r["op"].as_u64().unwrap_or(reading.invocations);
            reading.invocations += 1;
            reading.open_ops.insert((client, seq), self.ops.len());
            self.ops.push(Op {
                number,
                client,
                invoked: at,
                completed: None,
                status: "open",
                detail: text(r, "detail"),
                named: None,
            });
            return;
        }
        if let Some(place) = reading.open_ops.remove(&(client, seq)) {
            let op = &mut self.ops[place];
            op.completed = Some(at);
            op.status = match r["status"].as_str() {
                Some("ok") => "ok",
                Some("fail") => "fail",
                _ => "info",
            };
        }
    }

    fn violation(&mut self, r: &Value) {
        let at = SimTime(r["t_ns"].as_u64().unwrap_or(0));
        self.violations.push(ViolationMark {
            property: text(r, "property"),
            at,
            drawn_at: at.min(self.window.to).max(self.window.from),
            message: text(r, "message"),
        });
    }

    /// Ends what is still open at the window's end, and keeps only what shows in it.
    fn close(&mut self, reading: &Reading) {
        let end = self.window.to;
        for (&lane, &from) in &reading.down_since {
            self.span(lane, from, end, false);
        }
        for (&lane, &from) in &reading.paused_since {
            self.span(lane, from, end, true);
        }
        let window = self.window;
        self.partitions.retain(|p| window.meets(p.from, p.to));
        self.ops
            .retain(|o| window.meets(o.invoked, o.completed.unwrap_or(end)));
    }

    /// Marks the operations the violation records name, in the order they name them.
    fn name_ops(&mut self, records: &[Value]) {
        let named: Vec<u64> = records
            .iter()
            .filter(|r| r["kind"] == "violation")
            .flat_map(|r| r["ops"].as_array().cloned().unwrap_or_default())
            .filter_map(|o| o["op"].as_u64())
            .collect();
        for op in &mut self.ops {
            op.named = named.iter().position(|&n| n == op.number);
        }
    }
}

fn time(r: &Value) -> Option<SimTime> {
    r["t_ns"].as_u64().map(SimTime)
}

fn text(r: &Value, key: &str) -> String {
    r[key].as_str().unwrap_or("").to_string()
}

/// A message's type: its `Debug` text up to the first space, brace or parenthesis.
fn message_name(detail: &str) -> String {
    let end = detail
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(detail.len());
    match &detail[..end] {
        "" => "message".to_string(),
        name => name.to_string(),
    }
}
