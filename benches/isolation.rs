//! Transactional isolation checking speed on generated list-append histories.
//!
//! `cargo bench --bench isolation` generates, from fixed seeds, list-append histories of
//! 100,000 transactions as JSON Lines: 10 clients run transactions of one to five micro-ops
//! (appends and reads, half each) over 200 keys, a key being retired for a fresh one once its list
//! holds 32 elements, so that reads stay short as in Jepsen's workloads. A transaction takes
//! effect at its completion, so the history is strict-serializable; about 1% of transactions fail
//! and 1% end indeterminate (half of those took effect). The second history is the same with
//! about one read in 200 missing the last append to its key (a stale read), which gives
//! G-single and G-single-realtime cycles. Each history is parsed once, then checked `RUNS` times
//! on one thread; the median check time is printed, with the anomalies found and the process's
//! peak memory (VmHWM).
//!
//! `cargo bench --bench isolation -- heavy` checks instead a history where one read in 10 is
//! stale: its cycles join into large components, where the search runs into its bound of steps.

use faultline::history::{self, Format, History};
use faultline::isolation::{self, Options, Report, TxnModel};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fmt::Write;
use std::time::{Duration, Instant};

const RUNS: usize = 5;
const TXNS: usize = 100_000;
const CLIENTS: usize = 10;
const KEYS_ACTIVE: usize = 200;
const LIST_LEN_MAX: usize = 32;

/// The database: per key its list; per active slot the key it now names.
struct Db {
    lists: Vec<Vec<u64>>,
    slots: Vec<usize>,
    next_value: u64,
}

impl Db {
    fn key(&mut self, slot: usize) -> usize {
        if self.lists[self.slots[slot]].len() >= LIST_LEN_MAX {
            self.slots[slot] = self.lists.len();
            self.lists.push(Vec::new());
        }
        self.slots[slot]
    }
}

/// One transaction's micro-ops as drawn: (is an append, key, value).
type Planned = Vec<(bool, usize, u64)>;

fn plan(rng: &mut ChaCha8Rng, db: &mut Db) -> Planned {
    let n = rng.random_range(1..=5);
    (0..n)
        .map(|_| {
            let key = db.key(rng.random_range(0..KEYS_ACTIVE));
            if rng.random_bool(0.5) {
                db.next_value += 1;
                (true, key, db.next_value)
            } else {
                (false, key, 0)
            }
        })
        .collect()
}

/// Applies `txn` (if `apply`) and gives its completed micro-ops as JSON.
fn complete(db: &mut Db, txn: &Planned, apply: bool, stale: &mut dyn FnMut() -> bool) -> String {
    let mut mops = Vec::new();
    for &(append, key, value) in txn {
        if append {
            if apply {
                db.lists[key].push(value);
            }
            mops.push(format!("[\"append\",{key},{value}]"));
        } else {
            let list = &db.lists[key];
            let seen = if stale() && !list.is_empty() {
                &list[..list.len() - 1]
            } else {
                &list[..]
            };
            let items: Vec<String> = seen.iter().map(u64::to_string).collect();
            mops.push(format!("[\"r\",{key},[{}]]", items.join(",")));
        }
    }
    format!("[{}]", mops.join(","))
}

fn invocation(txn: &Planned) -> String {
    let mops: Vec<String> = txn
        .iter()
        .map(|&(append, key, value)| match append {
            true => format!("[\"append\",{key},{value}]"),
            false => format!("[\"r\",{key},null]"),
        })
        .collect();
    format!("[{}]", mops.join(","))
}

/// A history of `TXNS` transactions from `seed`; `stale` is the chance a read misses the
/// last append to its key.
fn generate(seed: u64, stale: f64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut stale_rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    let mut db = Db {
        lists: vec![Vec::new(); KEYS_ACTIVE],
        slots: (0..KEYS_ACTIVE).collect(),
        next_value: 0,
    };
    let mut open: Vec<Option<Planned>> = vec![None; CLIENTS];
    let mut process: Vec<usize> = (0..CLIENTS).collect();
    let (mut started, mut out) = (0, String::new());
    while started < TXNS || open.iter().any(Option::is_some) {
        let c = rng.random_range(0..CLIENTS);
        let p = process[c];
        match open[c].take() {
            None if started < TXNS => {
                let txn = plan(&mut rng, &mut db);
                let _ = writeln!(
                    out,
                    r#"{{"process":{p},"type":"invoke","f":"txn","value":{}}}"#,
                    invocation(&txn)
                );
                open[c] = Some(txn);
                started += 1;
            }
            None => {}
            Some(txn) => {
                let roll: f64 = rng.random();
                let (kind, apply) = match roll {
                    r if r < 0.01 => ("fail", false),
                    r if r < 0.02 => ("info", rng.random_bool(0.5)),
                    _ => ("ok", true),
                };
                let mut draw = || stale > 0.0 && stale_rng.random_bool(stale);
                let value = match kind {
                    "ok" => complete(&mut db, &txn, apply, &mut draw),
                    _ => {
                        complete(&mut db, &txn, apply, &mut || false);
                        invocation(&txn)
                    }
                };
                let _ = writeln!(
                    out,
                    r#"{{"process":{p},"type":"{kind}","f":"txn","value":{value}}}"#
                );
                if kind == "info" {
                    // An indeterminate client carries on as a new process.
                    process[c] += CLIENTS;
                }
            }
        }
    }
    out
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn time_check(name: &str, h: &History) -> (Duration, Report) {
    let options = Options::new(TxnModel::ListAppend);
    let mut last = None;
    let times = (0..RUNS)
        .map(|_| {
            #[allow(clippy::disallowed_methods)] // A benchmark measures wall time.
            let start = Instant::now();
            let report = isolation::check(name, h, &options).expect("a well-formed history");
            let elapsed = start.elapsed();
            last = Some(report);
            elapsed
        })
        .collect();
    (median(times), last.expect("at least one run"))
}

fn main() {
    let mut histories = vec![
        ("strict-serializable", 1, 0.0, true),
        ("with stale reads", 2, 0.005, false),
    ];
    if std::env::args().skip(1).any(|a| a == "heavy") {
        histories = vec![("one read in 10 stale", 3, 0.1, false)];
    }
    for (name, seed, stale, valid) in histories {
        let text = generate(seed, stale);
        #[allow(clippy::disallowed_methods)] // A benchmark measures wall time.
        let start = Instant::now();
        let h = history::parse(name, &text, Some(Format::Jsonl)).expect("parses");
        let parse = start.elapsed();
        let (check, report) = time_check(name, &h);
        assert_eq!(
            report.is_valid(),
            valid,
            "{name}: {}",
            isolation::render::text(name, &report)
        );
        let found: Vec<String> = report
            .counts
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        let edges: Vec<String> = report
            .edges
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        println!(
            "list-append, {} txns ({name}): check {:.0} ms (median of {RUNS}), parse {:.0} ms, \
             edges {}, {} MB of JSON Lines; anomalies: {}",
            h.ops.len(),
            check.as_secs_f64() * 1e3,
            parse.as_secs_f64() * 1e3,
            edges.join(", "),
            text.len() / 1_000_000,
            if found.is_empty() {
                "none".to_string()
            } else {
                found.join(", ")
            }
        );
        for note in &report.notes {
            println!("  note: {note}");
        }
        println!("  {} cycle components", report.components);
    }
    if let Some(kib) = peak_memory_kib() {
        println!("peak memory {} MB", kib / 1024);
    }
}
