//! `check-history`: a history file checked for linearizability or by a history checker.

use super::isolation::{ConsistencyArg, check_txns, consistency_refused};
use super::{EXIT_BAD_INPUT, EXIT_OK, EXIT_VIOLATION, Format};
use clap::ValueEnum;
use std::path::Path;

const EXIT_UNKNOWN: u8 = 4;

pub(super) const CHECK_HISTORY_HELP: &str = "\
Formats (detected from the content, or --format-in):
  jsonl  faultline's JSON Lines: {\"process\": 0, \"type\": \"invoke\", \"f\": \"write\", \"value\": 3}
  edn    Jepsen EDN: a vector of op maps, or one map a line; :fail ops are dropped
         (transactional models keep them as aborted transactions), :info ops stay
         pending forever, :nemesis ops are ignored
  etcd   Porcupine's etcd log (INFO  jepsen.util - 0 :invoke :read nil)

In an EDN history, a :read that completed :ok with :value nil is read as Knossos reads it:
a value nobody recorded, which matches any state (--nil-reads value reads it as nil). The
report says which reading was used and how many reads it touched.

Models:
  register, cas-register, kv   linearizability of a register, a CAS register, a map
  mutex        linearizability of a lock: acquire only when free, release only when held
  multi-register   linearizability of txn ops of [r k v] / [w k v] micro-ops over many keys
  fifo-queue, unordered-queue   linearizability of enqueue/dequeue, in order or in any order
  linearizable-set   linearizability of add and read (of the whole set)
  counter      add/read: every ok read lies within the possible sums of adds
  set          add/read of the whole set: acknowledged elements must not be lost
  unique-ids   generate: every ok value is distinct
  log          send/poll/commit/committed on one log per key, read by one consumer group:
               no acknowledged message lost, reordered, duplicated or sharing its offset;
               the committed offset skips no message and never goes back
  dht          read/write of keys of a distributed hash table: every ok read returns nil or
               a value a write of its key (not failed) wrote, invoked before the read
               returned; it never demands that a read finds a write
  list-append  transactions of [append k v] and [r k list] micro-ops: isolation anomalies
  rw-register  transactions of [w k v] and [r k v] micro-ops: isolation anomalies

A transactional history (list-append, rw-register) has :txn ops whose value is a list of
micro-ops, e.g. {:process 0 :type :ok :f :txn :value [[:append 1 2] [:r 2 [1 2]]]}. It is
checked, as Elle does, for the anomalies --consistency prohibits: read-committed (G0, G1a, G1b,
G1c, internal), snapshot-isolation (and G-single, lost-update), serializable (and G2-item) or
strict-serializable (and the -realtime cycles; the default). Anomalies the level allows are
listed too; a history that shows no value anyone could have written is invalid at every level.
The cycle search is bounded by steps, not time: --time-budget does not apply to them.

Exit codes:
  0  linearizable (or valid)
  1  not linearizable / not valid (the first op at fault is named; for transactions, every
     anomaly the level prohibits)
  2  bad input: an unreadable or malformed history, one with no operations, or a bad flag
  4  unknown: the time (or memory) budget ran out before a verdict (for transactions: the
     cycle search reached its bound of steps before finding a prohibited anomaly)

Examples:
  faultline run scenarios/register-linearizable.yaml --history history.jsonl
  faultline check-history history.jsonl --model cas-register --initial nil
  faultline check-history etcd_002.log --model cas-register --format json
  faultline check-history c50-ok.txt --model kv --time-budget 10s
  faultline check-history counter.edn --model register --initial 0
  faultline check-history memstress3-1.edn --model cas-register --initial 0 --nil-reads value
  faultline check-history txns.edn --model multi-register
  faultline check-history queue.edn --model fifo-queue
  faultline check-history adds.jsonl --model counter --format json
  faultline check-history log.jsonl --model log
  faultline check-history keys.jsonl --model dht
  faultline check-history txns.edn --model list-append
  faultline check-history txns.jsonl --model rw-register --consistency snapshot-isolation";

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum HistoryModel {
    Register,
    CasRegister,
    Kv,
    Mutex,
    MultiRegister,
    FifoQueue,
    UnorderedQueue,
    LinearizableSet,
    Counter,
    Set,
    UniqueIds,
    Log,
    Dht,
    ListAppend,
    RwRegister,
}

/// `--nil-reads`: how an EDN history's ok reads of nil are read.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum NilReads {
    /// A value nobody recorded: any state matches (Knossos's reading).
    Unknown,
    /// The value nil.
    Value,
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
    (initial, consistency): (Option<&str>, Option<ConsistencyArg>),
    (format_in, nil_reads): (Option<HistoryFormat>, Option<NilReads>),
    format: Format,
    time_budget: std::time::Duration,
) -> u8 {
    use crate::checkers::Kind;
    use crate::isolation::TxnModel;
    use crate::linearizability::{self, ModelKind, Options, Verdict};
    let input = (format_in, nil_reads);
    let txns = |txn| check_txns(file, txn, (initial, consistency), input, format);
    if let Some(code) = consistency_refused(consistency, model) {
        return code;
    }
    // A linearizability model, another checker, or a transactional one.
    let model = match model {
        HistoryModel::ListAppend => return txns(TxnModel::ListAppend),
        HistoryModel::RwRegister => return txns(TxnModel::RwRegister),
        HistoryModel::Register => Ok(ModelKind::Register),
        HistoryModel::CasRegister => Ok(ModelKind::CasRegister),
        HistoryModel::Kv => Ok(ModelKind::Kv),
        HistoryModel::Mutex => Ok(ModelKind::Mutex),
        HistoryModel::MultiRegister => Ok(ModelKind::MultiRegister),
        HistoryModel::FifoQueue => Ok(ModelKind::FifoQueue),
        HistoryModel::UnorderedQueue => Ok(ModelKind::UnorderedQueue),
        HistoryModel::LinearizableSet => Ok(ModelKind::Set),
        HistoryModel::Counter => Err(Kind::Counter),
        HistoryModel::Set => Err(Kind::Set),
        HistoryModel::UniqueIds => Err(Kind::UniqueIds),
        HistoryModel::Log => Err(Kind::Log),
        HistoryModel::Dht => Err(Kind::Dht),
    };
    if let (Ok(model), Some(_)) = (model, initial)
        && let Some(refused) = model.initial_refused()
    {
        // The check refuses it too; said here, before the file is read, of the flag.
        eprintln!("--initial: {refused}");
        return EXIT_BAD_INPUT;
    }
    let (h, reading) = match load_ops(file, format_in, nil_reads) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let model = match model {
        Ok(model) => model,
        Err(kind) => return check_other(file, kind, &h, reading, format),
    };
    let options = Options {
        model,
        initial: initial.map(initial_value),
        time_budget,
        steps_max: u64::MAX,
        threads: 0,
    };
    let name = file.display().to_string();
    let r = match linearizability::check(&name, &h, &options) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_BAD_INPUT;
        }
    };
    let text = match format {
        Format::Text => linearizability::render::text(&name, &h, &r, model) + &reading.text(),
        Format::Json => reading.json(linearizability::render::json(&h, &r, model)),
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
    h: &crate::history::History,
    reading: Reading,
    format: Format,
) -> u8 {
    use crate::checkers;
    let name = file.display().to_string();
    let outcome = match checkers::check(kind, &name, h) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_BAD_INPUT;
        }
    };
    let text = match format {
        Format::Text => checkers::text(&name, &outcome) + &reading.text(),
        Format::Json => reading.json(checkers::json(&outcome)),
    };
    let verdict = if outcome.valid {
        EXIT_OK
    } else {
        EXIT_VIOLATION
    };
    super::out::finish(&text, verdict)
}

/// How the ok reads of nil of an EDN history were read, for the report.
#[derive(Clone, Copy)]
pub(super) enum Reading {
    /// Not an EDN history.
    NotEdn,
    /// As unknown values; how many there were.
    Unknown(usize),
    /// As the value nil.
    Value,
}

impl Reading {
    fn text(self) -> String {
        match self {
            // Nothing was read either way: no line.
            Reading::NotEdn | Reading::Unknown(0) => String::new(),
            Reading::Unknown(1) => "nil reads  1 ok read of nil taken as a value nobody \
                                    recorded, which matches any state, as Knossos reads it \
                                    (--nil-reads value reads it as nil)\n"
                .to_string(),
            Reading::Unknown(n) => format!(
                "nil reads  {n} ok reads of nil taken as values nobody recorded, which match \
                 any state, as Knossos reads them (--nil-reads value reads them as nil)\n"
            ),
            Reading::Value => "nil reads  ok reads of nil read as the value nil (--nil-reads \
                               value)\n"
                .to_string(),
        }
    }

    fn json(self, mut report: serde_json::Value) -> String {
        let (reading, count) = match self {
            Reading::NotEdn => (serde_json::Value::Null, serde_json::Value::Null),
            Reading::Unknown(n) => ("unknown".into(), n.into()),
            Reading::Value => ("value".into(), serde_json::Value::Null),
        };
        if let Some(map) = report.as_object_mut() {
            map.insert("nil_reads".into(), reading);
            map.insert("nil_reads_unknown".into(), count);
        }
        format!("{report}\n")
    }
}

/// The history of `file`, its ok reads of nil read as `nil_reads` says if it is EDN, refused
/// when it holds no operation: every checker would call an empty history valid, which says
/// nothing about the system that should have written it.
pub(super) fn load_ops(
    file: &Path,
    format_in: Option<HistoryFormat>,
    nil_reads: Option<NilReads>,
) -> Result<(crate::history::History, Reading), u8> {
    use crate::history::Format as In;
    let format_in = format_in.map(|f| match f {
        HistoryFormat::Jsonl => In::Jsonl,
        HistoryFormat::Edn => In::Edn,
        HistoryFormat::Etcd => In::Etcd,
    });
    let (mut h, read_as) = crate::history::load_as(file, format_in).map_err(|e| {
        eprintln!("{e}");
        EXIT_BAD_INPUT
    })?;
    let reading = match (read_as, nil_reads) {
        (In::Edn, None | Some(NilReads::Unknown)) => Reading::Unknown(h.nil_reads_unknown()),
        (In::Edn, Some(NilReads::Value)) => Reading::Value,
        (_, None) => Reading::NotEdn,
        (other, Some(_)) => {
            eprintln!(
                "{}: --nil-reads applies to Jepsen EDN histories; this one is read as {}",
                file.display(),
                format!("{other:?}").to_lowercase()
            );
            return Err(EXIT_BAD_INPUT);
        }
    };
    if h.ops.is_empty() {
        let read = match h.events {
            0 => String::new(),
            n => format!(" ({n} events read, none of them a client operation)"),
        };
        eprintln!("{}: the history has no operations{read}", file.display());
        return Err(EXIT_BAD_INPUT);
    }
    Ok((h, reading))
}
