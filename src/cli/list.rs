//! `validate` and `list`: what scenario files and protocols there are, without running.

use super::{EXIT_BAD_INPUT, EXIT_OK, Format, out};
use crate::Registry;
use std::fmt::Write;
use std::path::PathBuf;

pub(super) fn validate(registry: &Registry, files: &[PathBuf]) -> u8 {
    let mut worst = EXIT_OK;
    for file in files {
        match registry.load(file) {
            Ok(s) => {
                let line = format!(
                    "{}: ok — {} ({}{}, {} nodes, {} faults{}, {})",
                    file.display(),
                    s.name,
                    s.protocol,
                    s.bug_shown()
                        .map(|b| format!(", bug: {b}"))
                        .unwrap_or_default(),
                    s.node_names.len(),
                    s.faults.len(),
                    s.workload
                        .as_ref()
                        .map(|w| format!(", {} {} clients", w.clients, w.model))
                        .unwrap_or_default(),
                    s.duration
                );
                if let Err(closed) = out::line(&line) {
                    return closed.exit_code(worst);
                }
            }
            Err(e) => {
                eprintln!("{e}");
                worst = EXIT_BAD_INPUT;
            }
        }
    }
    worst
}

pub(super) fn list(registry: &Registry, format: Format) -> u8 {
    let protocols = registry.infos();
    if format == Format::Json {
        let json = serde_json::to_string_pretty(&protocols).expect("protocol docs serialise");
        return out::finish(&format!("{json}\n"), EXIT_OK);
    }
    let mut text = String::new();
    for p in &protocols {
        // Writing to a String cannot fail.
        let _ = writeln!(text, "{} — {}", p.name, p.summary);
        text.push_str("  params:\n");
        for d in p.params {
            let _ = writeln!(
                text,
                "    {:<20} default {:<8} {}",
                d.name, d.default, d.meaning
            );
        }
        text.push_str("  properties:\n");
        for prop in &p.properties {
            let when = match prop.when {
                _ if prop.monitor => "monitor",
                crate::check::CheckWhen::Always => "always",
                crate::check::CheckWhen::AtEnd => "at end",
                crate::check::CheckWhen::Eventually => "eventually",
                crate::check::CheckWhen::Sometimes => "sometimes",
            };
            let _ = writeln!(
                text,
                "    {:<20} {:<10} {}",
                prop.name, when, prop.description
            );
        }
        if !p.workloads.is_empty() {
            let names: Vec<&str> = p.workloads.iter().map(|m| m.name()).collect();
            let _ = writeln!(text, "  client workloads: {}", names.join(", "));
            if let Some(level) = p.isolation {
                let _ = writeln!(text, "  transactions checked at: {level}");
            }
        }
        if !p.services.is_empty() {
            let names: Vec<&str> = p.services.iter().map(|s| s.name()).collect();
            let _ = writeln!(text, "  calls services: {}", names.join(", "));
        }
        text.push_str("  bug variants:\n");
        for b in p.bugs {
            let _ = writeln!(
                text,
                "    {:<20} violates {}: {}",
                b.name, b.violates, b.description
            );
        }
        text.push('\n');
    }
    out::finish(&text, EXIT_OK)
}
