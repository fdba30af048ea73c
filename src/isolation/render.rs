//! Rendering an isolation report for people (text) and machines (JSON).

use super::{Anomaly, AnomalyKind, Report, Verdict};
use serde_json::{Value as Json, json};
use std::fmt::Write;

fn elapsed_ms(r: &Report) -> f64 {
    (r.elapsed.as_secs_f64() * 1e6).round() / 1e3
}

fn verdict_line(r: &Report) -> String {
    let prohibited = r.prohibited();
    let names: Vec<&str> = prohibited.iter().map(|k| k.name()).collect();
    match &r.verdict {
        Verdict::Valid => format!("valid ({} holds)", r.consistency),
        Verdict::Invalid => format!(
            "NOT valid: {} {} prohibited by {}",
            names.join(", "),
            if names.len() == 1 { "is" } else { "are" },
            r.consistency
        ),
        Verdict::Unknown(why) => format!("unknown ({why})"),
    }
}

/// `G1c 1, G-single 2; allowed: G2-item 1`, or `none`.
fn counts_line(r: &Report) -> String {
    let part = |prohibited: bool| {
        r.counts
            .iter()
            .filter(|(k, _)| r.consistency.prohibits(**k) == prohibited)
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (bad, allowed) = (part(true), part(false));
    match (bad.is_empty(), allowed.is_empty()) {
        (true, true) => "none".to_string(),
        (false, true) => bad,
        (true, false) => format!("allowed by {}: {allowed}", r.consistency),
        (false, false) => format!("{bad}; allowed by {}: {allowed}", r.consistency),
    }
}

/// Whether the level prohibits it, in words.
fn judged(r: &Report, kind: AnomalyKind) -> String {
    let weakest = kind.weakest_prohibiting();
    if r.consistency.prohibits(kind) {
        format!("prohibited: {weakest} and stronger levels rule it out")
    } else {
        format!("allowed by {}; {weakest} would rule it out", r.consistency)
    }
}

/// The human summary printed by `faultline check-history`.
pub fn text(path: &str, r: &Report) -> String {
    let mut out = String::new();
    let t = &r.txns;
    let _ = writeln!(out, "history      {path} ({} model)", r.model);
    let _ = writeln!(out, "consistency  {}", r.consistency);
    let _ = writeln!(out, "verdict      {}", verdict_line(r));
    let _ = writeln!(
        out,
        "txns         {} ({} ok, {} info, {} failed), {} key(s)",
        t.ok + t.info + t.fail,
        t.ok,
        t.info,
        t.fail,
        t.keys
    );
    let edges: Vec<String> = r.edges.iter().map(|(k, n)| format!("{n} {k}")).collect();
    let _ = writeln!(
        out,
        "edges        {}; {} cycle component(s)",
        edges.join(", "),
        r.components
    );
    let _ = writeln!(out, "anomalies    {}", counts_line(r));
    let _ = writeln!(out, "time         {:.3} ms", elapsed_ms(r));
    for note in &r.notes {
        let _ = writeln!(out, "note         {note}");
    }
    for a in &r.anomalies {
        let _ = writeln!(out, "\n{} ({})", a.kind, judged(r, a.kind));
        let _ = writeln!(out, "  {}", a.explanation);
        for t in &a.txns {
            let _ = writeln!(
                out,
                "  T{} ({}, {}): {}",
                t.number,
                place(t),
                t.status,
                t.micro_ops
            );
        }
        for e in &a.cycle {
            let _ = writeln!(out, "  {}", e.words);
        }
    }
    out
}

/// `line 4` or `line 4, :index 3`.
fn place(t: &super::TxnRef) -> String {
    match t.jepsen_index {
        Some(i) => format!("line {}, :index {i}", t.line),
        None => format!("line {}", t.line),
    }
}

fn anomaly_json(r: &Report, a: &Anomaly) -> Json {
    let txns: Vec<Json> = a
        .txns
        .iter()
        .map(|t| {
            json!({"op": t.number, "line": t.line, "index": t.jepsen_index, "status": t.status,
                   "micro_ops": t.micro_ops})
        })
        .collect();
    let edges: Vec<Json> = a
        .cycle
        .iter()
        .map(|e| json!({"from": e.from, "to": e.to, "type": e.kind.name(), "words": e.words}))
        .collect();
    json!({
        "type": a.kind.name(),
        "prohibited": r.consistency.prohibits(a.kind),
        "explanation": a.explanation,
        "transactions": txns,
        "edges": edges,
    })
}

/// One JSON object: `valid` is true, false or "unknown".
pub fn json(r: &Report) -> Json {
    let valid = match &r.verdict {
        Verdict::Valid => json!(true),
        Verdict::Invalid => json!(false),
        Verdict::Unknown(_) => json!("unknown"),
    };
    let names = |prohibited: bool| -> Vec<&str> {
        r.counts
            .keys()
            .filter(|k| r.consistency.prohibits(**k) == prohibited)
            .map(|k| k.name())
            .collect()
    };
    let counts: serde_json::Map<String, Json> = r
        .counts
        .iter()
        .map(|(k, n)| (k.name().to_string(), json!(n)))
        .collect();
    let edges: serde_json::Map<String, Json> = r
        .edges
        .iter()
        .map(|(k, n)| (k.name().to_string(), json!(n)))
        .collect();
    json!({
        "valid": valid,
        "verdict": verdict_line(r),
        "model": r.model.name(),
        "consistency": r.consistency.name(),
        "txns": r.txns.ok + r.txns.info + r.txns.fail,
        "ok": r.txns.ok,
        "info": r.txns.info,
        "failed": r.txns.fail,
        "keys": r.txns.keys,
        "edges": edges,
        "components": r.components,
        "counts": counts,
        "prohibited": names(true),
        "allowed": names(false),
        "anomalies": r.anomalies.iter().map(|a| anomaly_json(r, a)).collect::<Vec<_>>(),
        "notes": r.notes,
        "elapsed_ms": elapsed_ms(r),
    })
}
