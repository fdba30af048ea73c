//! Rendering a linearizability report for people (text) and machines (JSON).

use super::{Failure, ModelKind, Report, Verdict, describe};
use crate::history::History;
use serde_json::{Value as Json, json};
use std::fmt::Write;

fn elapsed_ms(r: &Report) -> f64 {
    (r.elapsed.as_secs_f64() * 1e6).round() / 1e3
}

/// Where an op is: its line, and the `:index` Jepsen gave it if the history numbers its
/// events (Knossos's name for it).
fn place(op: &crate::history::Op) -> String {
    match op.jepsen_index {
        Some(i) => format!("line {}, :index {i}", op.invoke_line),
        None => format!("line {}", op.invoke_line),
    }
}

/// Why the search failed, in one sentence.
pub fn explanation(h: &History, f: &Failure, model: ModelKind) -> String {
    let op = &h.ops[f.op];
    format!(
        "op {} ({}, {}) cannot be linearised: no order of it, the ops before it and the {} \
         concurrent with it is a legal {model} history",
        h.number(f.op),
        place(op),
        describe(op),
        f.concurrent.len(),
    )
}

/// The human summary printed by `faultline check-history`.
pub fn text(path: &str, h: &History, r: &Report, model: ModelKind) -> String {
    let mut out = String::new();
    let verdict = match &r.verdict {
        Verdict::Linearizable => "linearizable".to_string(),
        Verdict::NotLinearizable(_) => "NOT linearizable".to_string(),
        Verdict::Unknown(why) => format!("unknown ({why})"),
    };
    let _ = writeln!(out, "history    {path} ({model} model)");
    let _ = writeln!(out, "verdict    {verdict}");
    // The multi-register splits by groups of keys that no transaction joins.
    let parts = match model {
        ModelKind::MultiRegister => "key group(s)",
        _ => "key(s)",
    };
    let _ = writeln!(
        out,
        "ops        {} checked, {} failed removed, {} {parts}",
        r.ops, r.removed, r.partitions
    );
    if r.info_reads_set_aside + r.info_writes_set_aside > 0 {
        let _ = writeln!(
            out,
            "set aside  {} indeterminate read(s), {} indeterminate write(s) no read observed",
            r.info_reads_set_aside, r.info_writes_set_aside
        );
    }
    let _ = writeln!(out, "time       {:.3} ms", elapsed_ms(r));
    if let Verdict::NotLinearizable(f) = &r.verdict {
        let _ = writeln!(out, "{}", explanation(h, f, model));
        for &c in &f.concurrent {
            let op = &h.ops[c];
            let _ = writeln!(
                out,
                "  concurrent: op {} ({}, {})",
                h.number(c),
                place(op),
                describe(op)
            );
        }
    }
    out
}

/// One JSON object: `linearizable` is true, false or "unknown".
pub fn json(h: &History, r: &Report, model: ModelKind) -> Json {
    let linearizable = match &r.verdict {
        Verdict::Linearizable => json!(true),
        Verdict::NotLinearizable(_) => json!(false),
        Verdict::Unknown(_) => json!("unknown"),
    };
    let mut out = json!({
        "linearizable": linearizable,
        "model": model.name(),
        "ops": r.ops,
        "failed_removed": r.removed,
        "info_reads_set_aside": r.info_reads_set_aside,
        "info_writes_set_aside": r.info_writes_set_aside,
        "partitions": r.partitions,
        "elapsed_ms": elapsed_ms(r),
    });
    match &r.verdict {
        Verdict::NotLinearizable(f) => {
            let op = &h.ops[f.op];
            out["first_bad_op"] = json!(h.number(f.op));
            out["first_bad_line"] = json!(op.invoke_line);
            out["first_bad_index"] = json!(op.jepsen_index);
            out["key"] = json!(f.key);
            out["explanation"] = json!(explanation(h, f, model));
            let concurrent: Vec<Json> = f
                .concurrent
                .iter()
                .map(|&c| {
                    let o = &h.ops[c];
                    json!({"op": h.number(c), "line": o.invoke_line, "index": o.jepsen_index,
                           "what": describe(o)})
                })
                .collect();
            out["concurrent"] = json!(concurrent);
        }
        Verdict::Unknown(why) => out["explanation"] = json!(why),
        Verdict::Linearizable => {}
    }
    out
}
