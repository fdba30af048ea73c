//! Reading a JSON Lines trace (docs/trace-format.md) for the page, with located errors.

use serde_json::{Map, Value};
use std::path::Path;

/// Most lines a trace may have for the page; a browser could not hold more.
pub const TRACE_LINES_MAX: usize = 20_000_000;

/// A trace file's records, checked line by line.
#[derive(Clone, Debug, Default)]
pub struct TraceFile {
    /// Each record as its JSON text, in file order.
    pub records: Vec<String>,
    /// Node names in order of first appearance (the `start` lines come first, in id order).
    pub nodes: Vec<String>,
    /// How many records are trace events (not `violation` or `explanation` lines).
    pub events: usize,
}

/// Why a trace file cannot be drawn.
#[derive(Debug, thiserror::Error)]
pub enum VizError {
    #[error("{path}: cannot read the trace: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("{path}:{line}{}: {message}", column.map(|c| format!(":{c}")).unwrap_or_default())]
    Malformed {
        path: String,
        line: usize,
        column: Option<usize>,
        message: String,
    },
}

/// Reads and checks a trace file written by `faultline run --trace`, with any `violation`
/// and `explanation` lines after the events. Blank lines are skipped.
pub fn read_trace(path: &Path) -> Result<TraceFile, VizError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|error| VizError::Io {
        path: name.clone(),
        error,
    })?;
    let mut file = TraceFile::default();
    let mut deltas = super::states::StateDeltas::default();
    let mut states = Vec::new();
    let mut summaries = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let malformed = |column, message: String| VizError::Malformed {
            path: name.clone(),
            line: n + 1,
            column,
            message,
        };
        if n >= TRACE_LINES_MAX {
            return Err(malformed(
                None,
                format!("more than {TRACE_LINES_MAX} lines"),
            ));
        }
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(line)
            .map_err(|e| malformed(Some(e.column()), format!("not JSON: {e}")))?;
        let Value::Object(mut obj) = value else {
            return Err(malformed(
                Some(1),
                "a trace line must be a JSON object".into(),
            ));
        };
        let is_event = check_record(&obj).map_err(|m| malformed(None, m))?;
        if is_event {
            file.events += 1;
            for key in ["node", "from", "to"] {
                if let Some(Value::String(node)) = obj.get(key)
                    && !file.nodes.contains(node)
                {
                    file.nodes.push(node.clone());
                }
            }
        }
        let had_summary = obj.contains_key("summary");
        if let Some(Value::Object(mut summary)) = obj.remove("summary") {
            // A trace file carries a node's summary on the handler line where it changed; the
            // page keeps summaries as records of their own.
            summary.insert("kind".into(), "summary".into());
            summary.insert("e".into(), obj.get("i").cloned().unwrap_or(Value::Null));
            summary.insert(
                "node".into(),
                obj.get("node").cloned().unwrap_or(Value::Null),
            );
            summaries.push(Value::Object(summary).to_string());
        }
        match take_states(&mut obj) {
            // The states go to the page as changes; the line without them.
            Some((before, after)) => {
                let index = obj.get("i").and_then(Value::as_u64).unwrap_or(0);
                let node = obj.get("node").and_then(Value::as_str).unwrap_or("?");
                states.extend(deltas.record(index, node, &before, &after));
                file.records.push(Value::Object(obj).to_string());
            }
            None if had_summary => file.records.push(Value::Object(obj).to_string()),
            None => file.records.push(line.to_string()),
        }
    }
    file.records.extend(summaries);
    file.records.extend(
        states
            .iter()
            .chain(&deltas.cap_record())
            .map(Value::to_string),
    );
    Ok(file)
}

/// A handler line's `state_before` and `state_after`, taken out of it, if it has them.
fn take_states(obj: &mut Map<String, Value>) -> Option<(String, String)> {
    let text = |v: Option<Value>| match v {
        Some(Value::String(s)) => s,
        _ => String::new(),
    };
    if !obj.contains_key("state_before") && !obj.contains_key("state_after") {
        return None;
    }
    Some((
        text(obj.remove("state_before")),
        text(obj.remove("state_after")),
    ))
}

/// Checks the keys the viewer relies on; says whether the record is a trace event.
fn check_record(obj: &Map<String, Value>) -> Result<bool, String> {
    let kind = match obj.get("kind") {
        Some(Value::String(k)) => k.as_str(),
        Some(_) => return Err("`kind` must be a string".into()),
        None => return Err("missing key `kind`".into()),
    };
    let want = |key: &str, ok: fn(&Value) -> bool, what: &str| match obj.get(key) {
        Some(v) if ok(v) => Ok(()),
        Some(_) => Err(format!("`{key}` must be {what} (in a `{kind}` line)")),
        None => Err(format!("missing key `{key}` (in a `{kind}` line)")),
    };
    match kind {
        "violation" => {
            want("property", Value::is_string, "a string")?;
            if obj.contains_key("event") {
                want("event", Value::is_u64, "an event index")?;
            }
            Ok(false)
        }
        "explanation" => {
            want("text", Value::is_string, "a string")?;
            if let Some(chain) = obj.get("chain") {
                let ok = chain
                    .as_array()
                    .is_some_and(|c| c.iter().all(Value::is_u64));
                if !ok {
                    return Err("`chain` must be a list of event indices".into());
                }
            }
            Ok(false)
        }
        _ => {
            want("i", Value::is_u64, "an event index")?;
            want("t_ns", Value::is_u64, "a time in nanoseconds")?;
            want("node", Value::is_string, "a node name")?;
            Ok(true)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<TraceFile, VizError> {
        let dir = std::env::temp_dir().join(format!("faultline-viz-read-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("t{}.jsonl", text.len()));
        std::fs::write(&path, text).unwrap();
        let out = read_trace(&path);
        let _ = std::fs::remove_file(&path);
        out
    }

    #[test]
    fn errors_name_the_line_and_column() {
        let good = r#"{"i":0,"kind":"start","node":"n1","t":"0ns","t_ns":0}"#;
        let err = read(&format!("{good}\n\n{{\"i\":1,\"kind\":\n")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(".jsonl:3:"), "{text}");
        let err = read(&format!(
            "{good}\n{{\"i\":1,\"kind\":\"send\",\"node\":\"n1\"}}\n"
        ))
        .unwrap_err();
        assert!(
            err.to_string().contains(".jsonl:2: missing key `t_ns`"),
            "{err}"
        );
        let err = read("[1,2]\n").unwrap_err();
        assert!(
            err.to_string()
                .contains(":1:1: a trace line must be a JSON object"),
            "{err}"
        );
    }

    #[test]
    fn analysis_lines_are_records_but_not_events() {
        let text = concat!(
            r#"{"i":0,"kind":"start","node":"n2","t":"0ns","t_ns":0}"#,
            "\n",
            r#"{"i":1,"kind":"send","node":"n2","to":"n1","msg_id":0,"t":"0ns","t_ns":0}"#,
            "\n",
            r#"{"kind":"violation","property":"p","event":1,"t_ns":0,"nodes":["n2"],"message":"m"}"#,
            "\n",
            r#"{"kind":"explanation","property":"p","text":"why","chain":[0,1]}"#,
            "\n"
        );
        let file = read(text).unwrap();
        assert_eq!((file.records.len(), file.events), (4, 2));
        assert_eq!(file.nodes, ["n2", "n1"]);
        let bad = text.replace("[0,1]", "[\"x\"]");
        assert!(read(&bad).unwrap_err().to_string().contains(":4: `chain`"));
    }
}
