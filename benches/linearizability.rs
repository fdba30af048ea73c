//! Linearizability checking speed on Porcupine's histories (`../shared/data/linearizability`).
//!
//! `cargo bench --bench linearizability` parses each file once, then checks it `RUNS` times
//! single-threaded and `RUNS` times with every core, and prints the median checking time of
//! each (parsing excluded), the etcd total, and the process's peak memory (VmHWM).
//! `cargo bench --bench linearizability -- c50` runs only the files whose name contains `c50`.

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
        initial: None,
        time_budget: Duration::from_secs(600),
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

fn main() {
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
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
