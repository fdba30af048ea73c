//! Linearizability checking speed on Porcupine's histories (`../shared/data/linearizability`).
//!
//! `cargo bench --bench linearizability` parses each file once, then checks it `RUNS` times
//! single-threaded and `RUNS` times with every core, and prints the median checking time of
//! each (parsing excluded), the etcd total, and the process's peak memory (VmHWM).
//! `cargo bench --bench linearizability -- c50` runs only the files whose name contains `c50`.
//!
//! First it checks histories of faultline's own runs: the register protocol with twenty clients
//! over ten keys, about 10,000 operations (`-- own` runs only those).
//!
//! `-- long` checks long histories on one key instead: 1,000,000 sequential ops (one client
//! writing and another reading back), and a fault-free register run with 200 clients at up to
//! 20,000 ops/s for 10 s; it prints each check's time, the pieces' effect and the peak memory.
//!
//! `-- collections` checks the collection models on generated histories: 100,000 elements
//! enqueued two at a time, then dequeued (FIFO and unordered), 100,000 adds to a set read in
//! full every 10,000 adds, and 20,000 multi-register transactions over 100 keys.

use faultline::history::{self, Format};
use faultline::linearizability::{self, ModelKind, Options, Verdict};
use std::path::Path;
use std::time::{Duration, Instant};

const DATA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/linearizability"
);
/// Runs per file and mode; the median is reported (this guest's wall clock is noisy).
const RUNS: usize = 11;

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Median checking time of `h` with `threads` workers; panics on a wrong verdict.
fn time_check(
    name: &str,
    h: &history::History,
    model: ModelKind,
    threads: usize,
    expected: bool,
) -> Duration {
    let options = Options {
        model,
        // Porcupine's histories start from the model's default; faultline's own from nil.
        initial: name
            .starts_with("own")
            .then_some(faultline::history::Value::Nil),
        time_budget: Duration::from_secs(600),
        steps_max: u64::MAX,
        threads,
    };
    let times = (0..RUNS)
        .map(|_| {
            #[allow(clippy::disallowed_methods)] // A benchmark measures wall time.
            let start = Instant::now();
            let report = linearizability::check(name, h, &options).expect("valid history");
            let elapsed = start.elapsed();
            let got = matches!(report.verdict, Verdict::Linearizable);
            assert!(
                !matches!(report.verdict, Verdict::Unknown(_)),
                "{name}: unknown"
            );
            assert_eq!(got, expected, "{name}: wrong verdict");
            elapsed
        })
        .collect();
    median(times)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// About 10,000 ops over 10 keys from the register protocol, under loss and a crash.
fn own_history(model: faultline::workload::Model) -> history::History {
    use faultline::protocols::Protocol;
    use faultline::protocols::register::{Params, Register};
    use faultline::workload::WorkloadConfig;
    use faultline::{Fault, NodeId, SimBuilder, SimDuration, SimTime, TimedFault};
    let workload = WorkloadConfig {
        clients: 20,
        rate_per_s: 2_000.0,
        keys: 10,
        timeout: SimDuration::from_millis(500),
        until: SimTime::from_secs(10),
        ..WorkloadConfig::new(model)
    };
    let mut network = faultline::NetworkConfig::default();
    network.default.drop = 0.02;
    let crash = |at_ms, fault| TimedFault {
        at: SimTime::from_millis(at_ms),
        fault,
    };
    let faults = vec![
        crash(3_000, Fault::Crash(NodeId(1))),
        crash(4_000, Fault::Restart(NodeId(1))),
    ];
    let mut sim = SimBuilder::new(1)
        .nodes(3)
        .network(network)
        .faults(faults)
        .workload(workload)
        .build(|id| Register::new(id, 3, &Params::default(), None))
        .expect("builds");
    sim.run_until(SimTime::from_secs(11)).expect("runs");
    sim.history().history()
}

fn check_own_runs() {
    use faultline::workload::Model;
    for (model, kind) in [
        (Model::CasRegister, ModelKind::CasRegister),
        (Model::Kv, ModelKind::Kv),
    ] {
        let h = own_history(model);
        let name = format!("own run, {model}, 10 keys");
        let one = time_check(&name, &h, kind, 1, true);
        let par = time_check(&name, &h, kind, 0, true);
        println!(
            "{:<28} {:>6} {:>14.3} {:>14.3}",
            name,
            h.ops.len(),
            ms(one),
            ms(par)
        );
    }
}

/// `ops` sequential ops on one key, every one completed before the next is invoked: writes of
/// `i % 7`, each followed by a read that returns it.
fn sequential_history(ops: usize) -> history::History {
    use faultline::history::{Op, Status, Value};
    let op = |i: usize| {
        let value = Value::Int((i / 2 % 7) as i64);
        let write = i.is_multiple_of(2);
        Op {
            process: (i % 2) as u64,
            f: if write { "write" } else { "read" }.to_string(),
            key: None,
            input: if write { value.clone() } else { Value::Nil },
            output: if write { Value::Nil } else { value },
            output_unknown: false,
            status: Status::Ok,
            invoke_index: 2 * i,
            invoke_line: 2 * i + 1,
            invoke_column: 1,
            return_index: Some(2 * i + 1),
            jepsen_index: None,
        }
    };
    history::History {
        ops: (0..ops).map(op).collect(),
        numbering: history::Numbering::Events,
        events: 2 * ops,
        unknown_nil: false,
    }
}

/// A fault-free 10-second run of the register protocol: 200 clients over 10 keys at up to
/// 20,000 ops/s, 0.1–1 ms latency.
fn fast_run_history() -> history::History {
    use faultline::protocols::Protocol;
    use faultline::protocols::register::{Params, Register};
    use faultline::workload::{Model, WorkloadConfig};
    use faultline::{SimBuilder, SimDuration, SimTime};
    let workload = WorkloadConfig {
        clients: 200,
        rate_per_s: 20_000.0,
        keys: 10,
        timeout: SimDuration::from_secs(1),
        until: SimTime::from_secs(10),
        ..WorkloadConfig::new(Model::CasRegister)
    };
    let mut network = faultline::NetworkConfig::default();
    network.default.latency =
        faultline::Latency::Uniform(SimDuration::from_micros(100), SimDuration::from_millis(1));
    let mut sim = SimBuilder::new(7)
        .nodes(3)
        .network(network)
        .workload(workload)
        .build(|id| Register::new(id, 3, &Params::default(), None))
        .expect("builds");
    sim.run_until(SimTime::from_secs(11)).expect("runs");
    sim.history().history()
}

/// Checks each long history three times with every core (median), with and without cutting.
fn check_long_histories() {
    let cases = [
        (
            "sequential, 1,000,000 ops",
            sequential_history(1_000_000),
            ModelKind::Register,
        ),
        (
            "register run, 20k ops/s",
            fast_run_history(),
            ModelKind::CasRegister,
        ),
    ];
    for (name, h, model) in &cases {
        let options = Options {
            model: *model,
            initial: Some(faultline::history::Value::Nil),
            time_budget: Duration::from_secs(600),
            steps_max: u64::MAX,
            threads: 0,
        };
        for cutting in [
            linearizability::Cutting::DEFAULT,
            linearizability::Cutting::OFF,
        ] {
            let times: Vec<Duration> = (0..3)
                .map(|_| {
                    #[allow(clippy::disallowed_methods)] // A benchmark measures wall time.
                    let start = Instant::now();
                    let report = linearizability::check_cutting(name, h, &options, cutting)
                        .expect("valid history");
                    assert_eq!(report.verdict, Verdict::Linearizable, "{name}");
                    start.elapsed()
                })
                .collect();
            let how = if cutting.enabled { "cut" } else { "whole keys" };
            println!(
                "{name:<28} {:>8} ops  {how:<10} {:>10.1} ms",
                h.ops.len(),
                ms(median(times))
            );
        }
    }
    if let Some(kib) = peak_memory_kib() {
        println!("peak memory (VmHWM): {:.1} MiB", kib as f64 / 1024.0);
    }
}

fn main() {
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    if filter.as_deref() == Some("long") {
        check_long_histories();
        return;
    }
    if filter.as_deref() == Some("collections") {
        check_collections();
        return;
    }
    if filter.as_deref().is_none_or(|f| f == "own") {
        check_own_runs();
    }
    if filter.as_deref() == Some("own") {
        return;
    }
    let Ok(text) = std::fs::read_to_string(Path::new(DATA).join("verdicts.json")) else {
        println!("SKIPPED: {DATA} is absent");
        return;
    };
    let entries: serde_json::Value = serde_json::from_str(&text).expect("verdicts.json");
    let (mut etcd_one, mut etcd_par, mut etcd_files) = (Duration::ZERO, Duration::ZERO, 0);
    let mut slowest_etcd = (Duration::ZERO, String::new());
    println!(
        "{:<28} {:>6} {:>14} {:>14}",
        "file", "ops", "1 thread ms", "parallel ms"
    );
    for e in entries.as_array().expect("a list") {
        let file = e["file"].as_str().expect("file");
        let Some(expected) = e["expected_linearizable"].as_bool() else {
            continue;
        };
        if filter.as_ref().is_some_and(|f| !file.contains(f.as_str())) {
            continue;
        }
        let (format, model) = if file.contains("/kv/") {
            (Format::Edn, ModelKind::Kv)
        } else {
            (Format::Etcd, ModelKind::CasRegister)
        };
        let h = history::load(&Path::new(DATA).join(file), Some(format)).expect("parses");
        let one = time_check(file, &h, model, 1, expected);
        let par = time_check(file, &h, model, 0, expected);
        if model == ModelKind::CasRegister {
            etcd_one += one;
            etcd_par += par;
            etcd_files += 1;
            if one > slowest_etcd.0 {
                slowest_etcd = (one, file.to_string());
            }
        }
        if model == ModelKind::Kv || one > Duration::from_millis(5) {
            println!(
                "{:<28} {:>6} {:>14.3} {:>14.3}",
                file,
                h.ops.len(),
                ms(one),
                ms(par)
            );
        }
    }
    if etcd_files > 0 {
        println!(
            "etcd: {etcd_files} files, total {:.1} ms (1 thread) / {:.1} ms (parallel); slowest {} {:.1} ms",
            ms(etcd_one),
            ms(etcd_par),
            slowest_etcd.1,
            ms(slowest_etcd.0)
        );
    }
    if let Some(kib) = peak_memory_kib() {
        println!("peak memory (VmHWM): {:.1} MiB", kib as f64 / 1024.0);
    }
}

/// `n` elements enqueued two at a time by two processes, then dequeued two at a time, each
/// pair in the opposite order (fine for a FIFO queue: the two were concurrent).
fn queue_history(n: usize) -> String {
    let mut text = String::new();
    let mut line = |p: usize, kind: &str, f: &str, v: Option<usize>| {
        let value = v.map_or("null".to_string(), |v| v.to_string());
        text += &format!(
            "{{\"process\": {p}, \"type\": \"{kind}\", \"f\": \"{f}\", \"value\": {value}}}\n"
        );
    };
    for i in (0..n).step_by(2) {
        line(0, "invoke", "enqueue", Some(i));
        line(1, "invoke", "enqueue", Some(i + 1));
        line(0, "ok", "enqueue", Some(i));
        line(1, "ok", "enqueue", Some(i + 1));
    }
    for i in (0..n).step_by(2) {
        line(0, "invoke", "dequeue", None);
        line(1, "invoke", "dequeue", None);
        line(0, "ok", "dequeue", Some(i + 1));
        line(1, "ok", "dequeue", Some(i));
    }
    text
}

/// `n` adds by four processes, one at a time, and a read of the whole set every 10,000.
fn set_history(n: usize) -> String {
    let mut text = String::new();
    for i in 0..n {
        for kind in ["invoke", "ok"] {
            text += &format!(
                "{{\"process\": {}, \"type\": \"{kind}\", \"f\": \"add\", \"value\": {i}}}\n",
                i % 4
            );
        }
        if i % 10_000 == 9_999 {
            let all: Vec<String> = (0..=i).map(|e| e.to_string()).collect();
            text += "{\"process\": 9, \"type\": \"invoke\", \"f\": \"read\"}\n";
            text += &format!(
                "{{\"process\": 9, \"type\": \"ok\", \"f\": \"read\", \"value\": [{}]}}\n",
                all.join(", ")
            );
        }
    }
    text
}

/// `n` transactions by two concurrent processes over 100 keys: each writes its number to
/// two keys, then reads them back, in one transaction.
fn txn_history(n: usize) -> String {
    let mut text = String::new();
    for pair in (0..n).step_by(2) {
        let txns: Vec<String> = (pair..pair + 2)
            .map(|t| {
                let (a, b) = (t * 7 % 100, (t * 13 + 1) % 100);
                format!("[[\"w\", {a}, {t}], [\"w\", {b}, {t}], [\"r\", {a}, {t}]]")
            })
            .collect();
        for (p, txn) in txns.iter().enumerate() {
            text += &format!(
                "{{\"process\": {p}, \"type\": \"invoke\", \"f\": \"txn\", \"value\": {txn}}}\n"
            );
        }
        for (p, txn) in txns.iter().enumerate() {
            text += &format!(
                "{{\"process\": {p}, \"type\": \"ok\", \"f\": \"txn\", \"value\": {txn}}}\n"
            );
        }
    }
    text
}

/// Checks each generated collection history three times with every core (median).
fn check_collections() {
    let cases = [
        (
            "fifo-queue, 100,000 pending",
            queue_history(100_000),
            ModelKind::FifoQueue,
        ),
        (
            "unordered-queue, 100,000 pending",
            queue_history(100_000),
            ModelKind::UnorderedQueue,
        ),
        (
            "linearizable-set, 100,000 adds",
            set_history(100_000),
            ModelKind::Set,
        ),
        (
            "multi-register, 20,000 txns",
            txn_history(20_000),
            ModelKind::MultiRegister,
        ),
    ];
    for (name, text, model) in &cases {
        let h = history::parse(name, text, Some(Format::Jsonl)).expect("generated history");
        let options = Options {
            model: *model,
            initial: None,
            time_budget: Duration::from_secs(600),
            steps_max: u64::MAX,
            threads: 0,
        };
        let times: Vec<Duration> = (0..3)
            .map(|_| {
                #[allow(clippy::disallowed_methods)] // A benchmark measures wall time.
                let start = Instant::now();
                let report = linearizability::check(name, &h, &options).expect("valid history");
                assert_eq!(report.verdict, Verdict::Linearizable, "{name}");
                start.elapsed()
            })
            .collect();
        println!(
            "{name:<34} {:>8} ops {:>10.1} ms",
            h.ops.len(),
            ms(median(times))
        );
    }
    if let Some(kib) = peak_memory_kib() {
        println!("peak memory (VmHWM): {:.1} MiB", kib as f64 / 1024.0);
    }
}
