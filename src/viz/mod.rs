//! The run as a self-contained HTML page: a space-time diagram of the trace that opens from
//! disk, offline, in any modern browser.
//!
//! The page is one file: the viewer's CSS and JavaScript (kept as real source files beside this
//! module and embedded at build time), the run's metadata, and every trace record as JSON.
//! [`read_trace`] loads a trace file written by `faultline run --trace`; [`Capture`] records a
//! run's trace in memory for `faultline run --html`.

mod capture;
mod fields;
mod read;
pub mod states;
pub mod summaries;
mod svg;
mod svg_model;
mod svg_strip;

pub use capture::{Capture, TeeSink};
pub use read::{TraceFile, VizError, read_trace};
pub use svg::SVG_EVENTS_MAX;

use crate::scenario::RunReport;
use serde::Serialize;
use std::io;
use std::path::Path;

const TEMPLATE: &str = include_str!("template.html");
const CSS: &str = include_str!("viewer.css");
/// The viewer's script, in four files that run in order inside one function scope.
const JS: &str = concat!(
    include_str!("model.js"),
    include_str!("draw.js"),
    include_str!("strip.js"),
    include_str!("ui.js")
);

/// What the page says about the run besides its trace.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Meta {
    /// The page's heading: the scenario's name, or the trace file's.
    pub title: String,
    pub protocol: Option<String>,
    pub bug: Option<String>,
    pub seed: Option<u64>,
    /// Node names in id order: one lane each.
    pub nodes: Vec<String>,
    /// `pass`, `violation` or `limit`, when the page was made from a run.
    pub outcome: Option<String>,
    pub expectation_met: Option<bool>,
    /// The trace hash, as `0x…`.
    pub trace_hash: Option<String>,
    /// The run's violations as its report gives them (a trace's own `violation` lines, when
    /// present, say more: the event where it happened).
    pub violations: Vec<MetaViolation>,
}

/// One violation from a run's report.
#[derive(Clone, Debug, Serialize)]
pub struct MetaViolation {
    pub property: String,
    pub t_ns: u64,
    pub nodes: Vec<String>,
    pub message: String,
}

impl Meta {
    /// Everything the report of a run says that the page shows.
    pub fn from_report(report: &RunReport) -> Meta {
        let outcome = serde_json::to_value(report.outcome)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string));
        Meta {
            title: report.name.clone(),
            protocol: Some(report.protocol.clone()),
            bug: report.bug.map(str::to_string),
            seed: Some(report.seed),
            nodes: report.node_names.clone(),
            outcome,
            expectation_met: Some(report.expectation_met),
            trace_hash: Some(format!("{:#018x}", report.trace_hash)),
            violations: report
                .violations
                .iter()
                .map(|v| MetaViolation {
                    property: v.property.clone(),
                    t_ns: v.time_ns,
                    nodes: v.nodes.clone(),
                    message: v.message.clone(),
                })
                .collect(),
        }
    }
}

/// A page: metadata and trace records, each record one JSON object as text.
#[derive(Clone, Debug)]
pub struct Page {
    pub meta: Meta,
    records: Vec<String>,
}

impl Page {
    /// `records` are JSON objects (trace lines), already validated.
    pub fn new(meta: Meta, records: Vec<String>) -> Page {
        Page { meta, records }
    }

    /// How many records the page embeds.
    pub fn record_count(&self) -> usize {
        self.records.len()
    }

    /// The size of [`Page::html`] in bytes, without building it: the template, styles and
    /// script, and the records with their separators (escaping adds a little more).
    pub fn size_estimate_bytes(&self) -> u64 {
        let records: usize = self.records.iter().map(|r| r.len() + 2).sum();
        let fixed = TEMPLATE.len() + CSS.len() + JS.len() + self.meta.title.len() + 1024;
        (records + fixed) as u64
    }

    /// The hook for a run's analysis: adds `violation` and `explanation` records (the shapes
    /// of docs/trace-format.md) after the trace events. The viewer marks each violation at
    /// its `event` and shows each explanation's text with its `chain` of events highlighted.
    pub fn add_analysis_records(&mut self, records: impl IntoIterator<Item = serde_json::Value>) {
        self.records
            .extend(records.into_iter().map(|r| r.to_string()));
    }

    /// The whole HTML document.
    pub fn html(&self) -> String {
        let meta = serde_json::to_string(&self.meta).expect("metadata serialises");
        let mut data = String::with_capacity(
            self.records.iter().map(|r| r.len() + 2).sum::<usize>() + meta.len() + 64,
        );
        data.push_str("{\"meta\":");
        data.push_str(&meta);
        data.push_str(",\"records\":[\n");
        for (i, r) in self.records.iter().enumerate() {
            if i > 0 {
                data.push_str(",\n");
            }
            data.push_str(r);
        }
        data.push_str("\n]}");
        let title = escape_html(&self.meta.title);
        let data = escape_script(&data);
        // Each marker once, in template order, so no inserted text is ever scanned again.
        let parts = [
            ("{{TITLE}}", title.as_str()),
            ("/*{{CSS}}*/", CSS),
            ("{{DATA}}", data.as_str()),
            ("/*{{JS}}*/", JS),
        ];
        let mut out = String::with_capacity(TEMPLATE.len() + CSS.len() + JS.len() + data.len());
        let mut rest = TEMPLATE;
        for (marker, value) in parts {
            let (head, tail) = rest
                .split_once(marker)
                .expect("the template has each marker once, in order");
            out.push_str(head);
            out.push_str(value);
            rest = tail;
        }
        out.push_str(rest);
        out
    }

    /// The same run as a static SVG picture, of the whole run or of the part within
    /// `window`; `Err` says why it cannot be drawn (more than [`SVG_EVENTS_MAX`] events in
    /// it, or none).
    pub fn svg(
        &self,
        window: Option<(crate::time::SimTime, crate::time::SimTime)>,
    ) -> Result<String, String> {
        svg::svg(self, window)
    }

    /// Writes the page to `path`.
    pub fn write(&self, path: &Path) -> io::Result<()> {
        std::fs::write(path, self.html())
    }
}

/// JSON inside `<script>`: no `<` may appear, so no `</script>` or `<!--` can end or bend the
/// element. In valid JSON a `<` is only ever inside a string, where `\u003c` means the same.
fn escape_script(json: &str) -> String {
    json.replace('<', "\\u003c")
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_data_cannot_close_its_element() {
        let meta = Meta {
            title: "a </script> b".into(),
            ..Meta::default()
        };
        let line = r#"{"i":0,"kind":"note","node":"n1","note":"</script><script>alert(1)</script>","t":"0ns","t_ns":0}"#;
        let page = Page::new(meta, vec![line.to_string()]);
        let html = page.html();
        assert_eq!(
            html.matches("</script>").count(),
            html.matches("<script").count()
        );
        assert!(html.contains(r"\u003c/script>\u003cscript>alert(1)"));
        assert!(html.contains("<title>a &lt;/script&gt; b"));
        let start = html.find("id=\"faultline-data\"").unwrap();
        let body = &html[html[start..].find('>').unwrap() + start + 1..];
        let json = &body[..body.find("</script>").unwrap()];
        let parsed: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(
            parsed["records"][0]["note"],
            "</script><script>alert(1)</script>"
        );
    }

    #[test]
    fn analysis_records_follow_the_events() {
        let mut page = Page::new(Meta::default(), vec![r#"{"i":0}"#.into()]);
        page.add_analysis_records([
            serde_json::json!({"kind": "explanation", "text": "x", "chain": [0]}),
        ]);
        assert_eq!(page.record_count(), 2);
        assert!(page.html().contains(r#""kind":"explanation""#));
    }
}
