//! Rendering run reports for people (text) and machines (JSON).

use crate::scenario::{ExpectSpec, Outcome, RunReport};
use crate::time::{SimDuration, SimTime};
use crate::trace::{Determinism, TraceEvent};
use serde_json::{Value, json};
use std::fmt::Write;

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn expectation_words(expect: &ExpectSpec) -> String {
    match expect {
        ExpectSpec::Pass => "pass (no property violated)".to_string(),
        ExpectSpec::Violation(None) => "a violation of some property".to_string(),
        ExpectSpec::Violation(Some(name)) => format!("a violation of {name}"),
    }
}

/// Speed figures: events per wall second and simulated seconds per wall second.
fn speed(r: &RunReport) -> (f64, f64) {
    let wall = r.wall_time_s.max(1e-9);
    (
        r.stats.events as f64 / wall,
        r.stopped_at.as_secs_f64() / wall,
    )
}

/// The human summary printed by `faultline run`.
pub fn text(r: &RunReport) -> String {
    let mut out = String::new();
    let s = &r.stats;
    let bug = r.bug.map(|b| format!(", bug: {b}")).unwrap_or_default();
    let _ = writeln!(
        out,
        "scenario   {} ({}{bug}, {} nodes)",
        r.name,
        r.protocol,
        r.node_names.len()
    );
    let _ = writeln!(out, "seed       {}", r.seed);
    let early = r.stopped_at.0 < r.duration.0;
    let stop = match r.outcome {
        Outcome::Violation if early => format!(" (stopped at {} by a violation)", r.stopped_at),
        Outcome::Limit => format!(" (stopped at {} by a limit)", r.stopped_at),
        _ => String::new(),
    };
    let _ = writeln!(out, "simulated  {}{stop}", r.duration);
    let _ = writeln!(out, "events     {}", thousands(s.events));
    let d = &s.dropped;
    let _ = writeln!(
        out,
        "messages   sent {} · delivered {} · dropped {} (loss {}, partition {}, node down {}, capacity {}{}) · duplicated {} · in flight {}",
        thousands(s.sent),
        thousands(s.delivered),
        thousands(d.total()),
        thousands(d.loss),
        thousands(d.partition),
        thousands(d.node_down),
        thousands(d.capacity),
        if d.fault > 0 {
            format!(", triggered {}", thousands(d.fault))
        } else {
            String::new()
        },
        thousands(s.duplicated),
        r.in_flight
    );
    let _ = writeln!(
        out,
        "timers     fired {} · cancelled {}",
        thousands(s.timers_fired),
        thousands(s.timers_cancelled)
    );
    let _ = writeln!(
        out,
        "faults     {} applied · {} crashes · {} restarts",
        s.faults_applied, s.crashes, s.restarts
    );
    if s.service_calls > 0 {
        let _ = writeln!(
            out,
            "services   calls {} · answered {} · lost {}",
            thousands(s.service_calls),
            thousands(s.service_answers),
            thousands(s.service_lost)
        );
    }
    triggers_text(&mut out, &r.triggers);
    if let Some(h) = &r.history {
        let o = &h.ops;
        let _ = writeln!(
            out,
            "clients    {} workload: {} ok · {} fail · {} info · {} pending (history checked in {:.1} ms)",
            h.model, o.ok, o.fail, o.info, o.pending, h.elapsed_ms
        );
        region_latency_text(&mut out, &h.latency_by_region);
    }
    let _ = writeln!(
        out,
        "trace      hash {:016x} ({} records)",
        r.trace_hash,
        thousands(r.trace_events)
    );
    let _ = writeln!(out, "checks");
    for c in &r.checks {
        let mark = match c.status {
            "pass" => "ok  ",
            "violated" => "FAIL",
            "unknown" => "??  ",
            // A `sometimes` property: coverage, never a failure.
            "reached" => "hit ",
            "not_reached" => "miss",
            _ => "--  ",
        };
        let _ = writeln!(out, "  {mark} {:<16} {}", c.name, c.description);
        if c.status == "unknown" {
            for line in r.history.iter().flat_map(|h| &h.explanation) {
                let _ = writeln!(out, "       {line}");
            }
        }
        for v in r.violations.iter().filter(|v| v.property == c.name) {
            let _ = writeln!(out, "       {}", v.headline().replace('\n', "\n       "));
            if !v.nodes.is_empty() {
                let nodes = crate::explain::name_list(&v.nodes);
                let _ = writeln!(out, "       nodes involved: {nodes}");
            }
            for line in v.explanation.iter().flat_map(|x| x.text.lines()) {
                let _ = writeln!(out, "       {line}");
            }
        }
    }
    for g in &r.goals {
        let (mark, how) = match (g.status, g.held_at_ns) {
            ("held", Some(t)) => ("ok  ", format!("held at {}", SimTime(t))),
            ("failed", _) => ("FAIL", "never held in time (see above)".to_string()),
            _ => ("--  ", "not reached: the run stopped first".to_string()),
        };
        let within = SimDuration(g.within_ns);
        let _ = writeln!(
            out,
            "  {mark} eventually {} within {within} after {}: {how}",
            g.condition, g.after
        );
    }
    if let Some(limit) = &r.limit {
        let _ = writeln!(out, "limit      {limit}");
    }
    let met = if r.expectation_met { "met" } else { "NOT met" };
    let _ = writeln!(out, "expect     {} — {met}", expectation_words(&r.expect));
    if r.expectation_met && !r.violations.is_empty() {
        // A FAIL above that the scenario asked for: say why the run still exits 0.
        let _ = writeln!(
            out,
            "           the FAIL above is what this scenario sets out to show, so the run \
             succeeds (exit code 0)"
        );
    }
    let (eps, x) = speed(r);
    let _ = writeln!(
        out,
        "wall       {:.3}s · {} events/s · {:.0}× real time",
        r.wall_time_s,
        thousands(eps as u64),
        x
    );
    out
}

/// The JSON object printed by `faultline run --format json`.
/// One line per client region: the latency of the ops its clients saw end ok.
fn region_latency_text(out: &mut String, regions: &[crate::check::RegionLatency]) {
    let width = regions.iter().map(|r| r.region.len()).max().unwrap_or(0);
    for r in regions {
        let clients = format!(
            "{} client{}",
            r.clients,
            if r.clients == 1 { "" } else { "s" }
        );
        // To the microsecond: the nanoseconds of a latency are noise to a reader.
        let us = |ns: u64| SimDuration(ns.saturating_add(500) / 1000 * 1000);
        let figures = match &r.latency {
            Some(l) => format!(
                "{} ok · p50 {} · p99 {} · max {}",
                thousands(l.ops as u64),
                us(l.p50_ns),
                us(l.p99_ns),
                us(l.max_ns)
            ),
            None => "0 ok".to_string(),
        };
        let _ = writeln!(
            out,
            "           {:<width$}  {clients:<10}  {figures}",
            r.region
        );
    }
}

pub fn json(r: &RunReport, determinism: Option<&Determinism>) -> Value {
    let s = &r.stats;
    let (eps, x) = speed(r);
    let mut v = json!({
        "name": r.name,
        "protocol": r.protocol,
        "bug": r.bug,
        "seed": r.seed,
        "trace_hash": format!("{:016x}", r.trace_hash),
        "trace_events": r.trace_events,
        "events": s.events,
        "duration_ns": r.duration.0,
        "stopped_at_ns": r.stopped_at.0,
        "messages": {
            "sent": s.sent,
            "delivered": s.delivered,
            "dropped": s.dropped.total(),
            "dropped_by_reason": s.dropped,
            "duplicated": s.duplicated,
            "in_flight": r.in_flight,
        },
        "timers": { "set": s.timers_set, "fired": s.timers_fired, "cancelled": s.timers_cancelled },
        "faults": { "applied": s.faults_applied, "crashes": s.crashes, "restarts": s.restarts },
        "outcome": r.outcome,
        "limit": r.limit,
        "checks": r.checks,
        "eventually": r.goals,
        "history": r.history,
        "violations": r.violations,
        "expect": expectation_words(&r.expect),
        "expectation_met": r.expectation_met,
        "wall_time_s": r.wall_time_s,
        "events_per_s": eps,
        "x_real_time": x,
    });
    if s.service_calls > 0 {
        v["services"] = json!({
            "calls": s.service_calls,
            "answered": s.service_answers,
            "lost": s.service_lost,
        });
    }
    if let Some(d) = determinism {
        v["determinism"] = determinism_json(d, &r.node_names);
    }
    if !r.triggers.is_empty() {
        let list: Vec<Value> = r
            .triggers
            .iter()
            .map(|(what, fired)| json!({ "trigger": what, "fired": fired }))
            .collect();
        v["triggers"] = Value::Array(list);
    }
    v
}

/// How many triggered faults fired, and those that did not: a trigger that never matched
/// (a message kind the protocol does not have, a note it never writes) did nothing.
fn triggers_text(out: &mut String, triggers: &[(String, bool)]) {
    if triggers.is_empty() {
        return;
    }
    let fired = triggers.iter().filter(|(_, f)| *f).count();
    let _ = writeln!(out, "triggers   {fired} of {} fired", triggers.len());
    for (what, _) in triggers.iter().filter(|(_, f)| !*f) {
        let _ = writeln!(out, "           never fired: {what}");
    }
}

pub fn determinism_json(d: &Determinism, names: &[String]) -> Value {
    let describe = |e: &Option<TraceEvent>| e.map(|e| e.describe(names));
    json!({
        "deterministic": d.is_deterministic(),
        "first_hash": format!("{:016x}", d.first_hash),
        "second_hash": format!("{:016x}", d.second_hash),
        "divergence": d.divergence.as_ref().map(|x| json!({
            "index": x.index, "first": describe(&x.first), "second": describe(&x.second),
        })),
    })
}

/// The text printed for `--check-determinism`.
pub fn determinism_text(d: &Determinism, names: &[String]) -> String {
    match &d.divergence {
        None if d.first_hash == d.second_hash => {
            format!(
                "determinism  ok: two runs, same trace hash {:016x}\n",
                d.first_hash
            )
        }
        None => format!(
            "determinism  FAILED: hashes {:016x} and {:016x} differ, though every event matched\n",
            d.first_hash, d.second_hash
        ),
        Some(x) => {
            let describe = |e: &Option<TraceEvent>| {
                e.map_or("(the run had ended)".to_string(), |e| e.describe(names))
            };
            format!(
                "determinism  FAILED: the runs diverge at trace event #{}\n  first run:  {}\n  second run: {}\n",
                x.index,
                describe(&x.first),
                describe(&x.second)
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
