//! `check-history --model list-append|rw-register`: a transactional history checked for the
//! anomalies an isolation level prohibits ([`crate::isolation`]).

use super::history::{HistoryFormat, HistoryModel, NilReads, load_ops};
use super::{EXIT_BAD_INPUT, EXIT_OK, EXIT_VIOLATION, Format};
use crate::isolation::{self, Consistency, Options, TxnModel, Verdict};
use clap::ValueEnum;
use std::path::Path;

const EXIT_UNKNOWN: u8 = 4;

/// `--consistency`: the isolation level a transactional history must meet.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum ConsistencyArg {
    ReadCommitted,
    SnapshotIsolation,
    Serializable,
    StrictSerializable,
}

impl ConsistencyArg {
    fn level(self) -> Consistency {
        match self {
            ConsistencyArg::ReadCommitted => Consistency::ReadCommitted,
            ConsistencyArg::SnapshotIsolation => Consistency::SnapshotIsolation,
            ConsistencyArg::Serializable => Consistency::Serializable,
            ConsistencyArg::StrictSerializable => Consistency::StrictSerializable,
        }
    }
}

/// The exit code for `--consistency` given with a model that is not transactional.
pub(super) fn consistency_refused(
    consistency: Option<ConsistencyArg>,
    model: HistoryModel,
) -> Option<u8> {
    consistency?;
    if matches!(model, HistoryModel::ListAppend | HistoryModel::RwRegister) {
        return None;
    }
    let name = model.to_possible_value().map(|v| v.get_name().to_string());
    eprintln!(
        "--consistency applies to the transactional models (list-append, rw-register), not to \
         --model {}",
        name.unwrap_or_default()
    );
    Some(EXIT_BAD_INPUT)
}

/// The flags a transactional check refuses, said before the file is read.
fn refused_flag(
    model: TxnModel,
    initial: Option<&str>,
    nil_reads: Option<NilReads>,
) -> Option<String> {
    if initial.is_some() {
        return Some(format!(
            "--initial does not apply to --model {model}: every key starts empty (nil)"
        ));
    }
    nil_reads.map(|_| {
        format!("--nil-reads does not apply to --model {model}: a transaction's read of nil is the initial version")
    })
}

/// Checks `file` as a `model` history against `consistency` (strict-serializable when absent).
pub(super) fn check_txns(
    file: &Path,
    model: TxnModel,
    (initial, consistency): (Option<&str>, Option<ConsistencyArg>),
    (format_in, nil_reads): (Option<HistoryFormat>, Option<NilReads>),
    format: Format,
) -> u8 {
    if let Some(message) = refused_flag(model, initial, nil_reads) {
        eprintln!("{message}");
        return EXIT_BAD_INPUT;
    }
    let h = match load_ops(file, format_in, None) {
        Ok((h, _)) => h,
        Err(code) => return code,
    };
    let options = Options {
        consistency: consistency.map_or(Consistency::StrictSerializable, ConsistencyArg::level),
        ..Options::new(model)
    };
    let name = file.display().to_string();
    let report = match isolation::check(&name, &h, &options) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_BAD_INPUT;
        }
    };
    let text = match format {
        Format::Text => isolation::render::text(&name, &report),
        Format::Json => format!("{}\n", isolation::render::json(&report)),
    };
    let verdict = match report.verdict {
        Verdict::Valid => EXIT_OK,
        Verdict::Invalid => EXIT_VIOLATION,
        Verdict::Unknown(_) => EXIT_UNKNOWN,
    };
    super::out::finish(&text, verdict)
}
