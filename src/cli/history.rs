//! `check-history`: a history file checked for linearizability or by a history checker.

use super::{EXIT_BAD_INPUT, EXIT_OK, EXIT_VIOLATION, Format};
use clap::ValueEnum;
use std::path::Path;

const EXIT_UNKNOWN: u8 = 4;

pub(super) const CHECK_HISTORY_HELP: &str = "\
Formats (detected from the content, or --format-in):
  jsonl  faultline's JSON Lines: {\"process\": 0, \"type\": \"invoke\", \"f\": \"write\", \"value\": 3}
  edn    Jepsen EDN: a vector of op maps, or one map a line; :fail ops are dropped,
         :info ops stay pending forever, :nemesis ops are ignored
  etcd   Porcupine's etcd log (INFO  jepsen.util - 0 :invoke :read nil)

Models:
  register, cas-register, kv   linearizability of a register, a CAS register, a map
  counter      add/read: every ok read lies within the possible sums of adds
  set          add/read of the whole set: acknowledged elements must not be lost
  unique-ids   generate: every ok value is distinct

Exit codes:
  0  linearizable (or valid)
  1  not linearizable / not valid (the first op at fault is named)
  2  bad input: an unreadable or malformed history, one with no operations, or a bad flag
  4  unknown: the time (or memory) budget ran out before a verdict

Examples:
  faultline run scenarios/register-linearizable.yaml --history history.jsonl
  faultline check-history history.jsonl --model cas-register --initial nil
  faultline check-history etcd_002.log --model cas-register --format json
  faultline check-history c50-ok.txt --model kv --time-budget 10s
  faultline check-history counter.edn --model register --initial 0
  faultline check-history adds.jsonl --model counter --format json";

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum HistoryModel {
    Register,
    CasRegister,
    Kv,
    Counter,
    Set,
    UniqueIds,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum HistoryFormat {
    Jsonl,
    Edn,
    Etcd,
}

/// `250ms`, `10s`, `2m` → a duration.
pub(super) fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 10s"))?;
    match unit {
        "ms" => Ok(std::time::Duration::from_millis(n)),
        "s" | "" => Ok(std::time::Duration::from_secs(n)),
        "m" => Ok(std::time::Duration::from_secs(n * 60)),
        _ => Err(format!("`{text}`: the unit must be ms, s or m")),
    }
}

/// A fuzz time budget: a duration above zero, since a zero budget starts no seed.
pub(super) fn parse_budget(text: &str) -> Result<std::time::Duration, String> {
    let budget = parse_duration(text)?;
    if budget.is_zero() {
        return Err(format!(
            "a time budget of `{text}` would start no seed; give at least 1ms"
        ));
    }
    Ok(budget)
}

fn initial_value(text: &str) -> crate::history::Value {
    use crate::history::Value;
    match text {
        "nil" | "null" => Value::Nil,
        _ => text
            .parse::<i64>()
            .map(Value::Int)
            .unwrap_or_else(|_| Value::Str(text.to_string())),
    }
}

pub(super) fn check_history(
    file: &Path,
    model: HistoryModel,
    initial: Option<&str>,
    format_in: Option<HistoryFormat>,
    format: Format,
    time_budget: std::time::Duration,
) -> u8 {
    use crate::history::Format as In;
    use crate::linearizability::{self, ModelKind, Options, Verdict};
    let format_in = format_in.map(|f| match f {
        HistoryFormat::Jsonl => In::Jsonl,
        HistoryFormat::Edn => In::Edn,
        HistoryFormat::Etcd => In::Etcd,
    });
    use crate::checkers::Kind;
    let model = match model {
        HistoryModel::Register => ModelKind::Register,
        HistoryModel::CasRegister => ModelKind::CasRegister,
        HistoryModel::Kv => ModelKind::Kv,
        HistoryModel::Counter => return check_other(file, Kind::Counter, format_in, format),
        HistoryModel::Set => return check_other(file, Kind::Set, format_in, format),
        HistoryModel::UniqueIds => return check_other(file, Kind::UniqueIds, format_in, format),
    };
    let options = Options {
        model,
        initial: initial.map(initial_value),
        time_budget,
        steps_max: u64::MAX,
        threads: 0,
    };
    let name = file.display().to_string();
    let h = match load_ops(file, format_in) {
        Ok(h) => h,
        Err(code) => return code,
    };
    let r = match linearizability::check(&name, &h, &options) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_BAD_INPUT;
        }
    };
    let text = match format {
        Format::Text => linearizability::render::text(&name, &h, &r, model),
        Format::Json => format!("{}\n", linearizability::render::json(&h, &r, model)),
    };
    let verdict = match r.verdict {
        Verdict::Linearizable => EXIT_OK,
        Verdict::NotLinearizable(_) => EXIT_VIOLATION,
        Verdict::Unknown(_) => EXIT_UNKNOWN,
    };
    super::out::finish(&text, verdict)
}

/// `check-history` with a model of [`crate::checkers`]: no search, so no budget.
fn check_other(
    file: &Path,
    kind: crate::checkers::Kind,
    format_in: Option<crate::history::Format>,
    format: Format,
) -> u8 {
    use crate::checkers;
    let name = file.display().to_string();
    let h = match load_ops(file, format_in) {
        Ok(h) => h,
        Err(code) => return code,
    };
    let outcome = match checkers::check(kind, &name, &h) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_BAD_INPUT;
        }
    };
    let text = match format {
        Format::Text => checkers::text(&name, &outcome),
        Format::Json => format!("{}\n", checkers::json(&outcome)),
    };
    let verdict = if outcome.valid {
        EXIT_OK
    } else {
        EXIT_VIOLATION
    };
    super::out::finish(&text, verdict)
}

/// The history of `file`, refused when it holds no operation: every checker would call an
/// empty history valid, which says nothing about the system that should have written it.
fn load_ops(
    file: &Path,
    format_in: Option<crate::history::Format>,
) -> Result<crate::history::History, u8> {
    let h = crate::history::load(file, format_in).map_err(|e| {
        eprintln!("{e}");
        EXIT_BAD_INPUT
    })?;
    if h.ops.is_empty() {
        let read = match h.events {
            0 => String::new(),
            n => format!(" ({n} events read, none of them a client operation)"),
        };
        eprintln!("{}: the history has no operations{read}", file.display());
        return Err(EXIT_BAD_INPUT);
    }
    Ok(h)
}
