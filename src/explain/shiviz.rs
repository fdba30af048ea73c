//! The run as a ShiViz log: for each event, a line describing it, then a line with its host
//! and its vector clock as JSON (`n1 {"n1":3,"n2":1}`). ShiViz's default parser,
//! `(?<event>.*)\n(?<host>\S*) (?<clock>{.*})`, reads it as it is.

use super::capture::Captured;
use super::causality::Causality;
use super::clock::VectorClocks;
use super::words::event_words;
use serde_json::{Map, Value};
use std::io::{self, Write};

/// Writes `events` (a whole trace) as a ShiViz log. `violations` marks, by trace index, the
/// events where a property broke (with its name): their description starts with
/// `VIOLATION of <property>:`, which ShiViz's search finds.
pub fn write_log(
    events: &[Captured],
    node_names: &[String],
    violations: &[(u64, String)],
    out: impl Write,
) -> io::Result<()> {
    let causality = Causality::new(events, node_names);
    let clocks = VectorClocks::new(&causality);
    // ShiViz reads the host as the text before the first space, so a host name has none.
    let hosts: Vec<String> = causality
        .hosts
        .iter()
        .map(|h| h.replace(char::is_whitespace, "_"))
        .collect();
    let mut out = io::BufWriter::new(out);
    for (i, c) in events.iter().enumerate() {
        let words = event_words(events, &causality, i);
        let marked = violations.iter().filter(|(at, _)| *at == i as u64);
        let marks: String = marked.map(|(_, p)| format!("VIOLATION of {p}: ")).collect();
        writeln!(out, "#{i} {} {marks}{words}", c.event.time)?;
        let mut clock = Map::new();
        for (host, &count) in hosts.iter().zip(clocks.clock(i)) {
            if count > 0 {
                clock.insert(host.clone(), Value::from(count));
            }
        }
        writeln!(out, "{} {}", causality.host_name(i), Value::Object(clock))?;
    }
    out.flush()
}
