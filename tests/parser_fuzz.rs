//! Fuzzing the parsers: every input format faultline reads (scenario YAML, Jepsen EDN, etcd
//! logs, JSON Lines histories, traces) is fed mutations of the project's own files, and must
//! answer with a result or a located error, never a panic.
//!
//! `cargo test` runs a few hundred cases per format, the same ones every time. The long job
//! sets the count, and a seed to try other inputs:
//!
//! ```text
//! FAULTLINE_PARSER_FUZZ_CASES=1000000 FAULTLINE_PARSER_FUZZ_SEED=7 \
//!     cargo test --release --test parser_fuzz
//! ```

use faultline::Registry;
use faultline::history;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// Cases per format in an ordinary `cargo test`.
const CASES_DEFAULT: u32 = 300;

/// Fragments that parsers trip on: YAML's structure, anchors, tags and special scalars, EDN's
/// reader macros, numbers at and past every limit, and text that is not ASCII.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ": ",
    "- ",
    "\n  ",
    "\n- ",
    "&a ",
    "*a",
    "!!binary ",
    "!tag ",
    "~",
    "null",
    "1e999",
    "-1",
    "NaN",
    ".inf",
    "-.inf",
    "\"",
    "'",
    "\t",
    "é∂",
    "18446744073709551616",
    "-9223372036854775809",
    "0x1f",
    "%YAML 1.2\n",
    "---\n",
    "...\n",
    "#{",
    "#_",
    "\\u0000",
    ":invoke",
    ":ok",
    "nil",
    "0s",
    "1000000000000h",
    "99999999999999999ms",
    "<<: *a\n",
];

fn cases() -> u32 {
    std::env::var("FAULTLINE_PARSER_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CASES_DEFAULT)
}

/// The inputs' seed: the same inputs every run unless the long job asks for others.
fn rng() -> TestRng {
    let seed: u64 = std::env::var("FAULTLINE_PARSER_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
}

fn files(dirs: &[&str], extensions: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut texts = Vec::new();
    for dir in dirs {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .map(|e| e.expect("a directory entry").path())
            .filter(|p| {
                p.extension()
                    .is_some_and(|e| extensions.iter().any(|x| e == *x))
            })
            .collect();
        paths.sort();
        texts.extend(paths.iter().filter_map(|p| std::fs::read_to_string(p).ok()));
    }
    assert!(!texts.is_empty(), "no seed files in {dirs:?}");
    texts
}

/// One change to a text: where (a fraction of its length) and what.
#[derive(Clone, Debug)]
enum Edit {
    Insert(f64, usize),
    Delete(f64, f64),
    DuplicateLine(f64),
    Truncate(f64),
    FlipByte(f64, u8),
}

fn edit() -> impl Strategy<Value = Edit> {
    let at = 0.0..1.0f64;
    prop_oneof![
        (at.clone(), 0..TOKENS.len()).prop_map(|(a, t)| Edit::Insert(a, t)),
        (at.clone(), 0.0..0.2f64).prop_map(|(a, l)| Edit::Delete(a, l)),
        at.clone().prop_map(Edit::DuplicateLine),
        at.clone().prop_map(Edit::Truncate),
        (at, any::<u8>()).prop_map(|(a, b)| Edit::FlipByte(a, b)),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let pos = |f: f64, len: usize| ((f * len as f64) as usize).min(len);
    for e in edits {
        let len = bytes.len();
        match *e {
            Edit::Insert(a, t) => {
                let p = pos(a, len);
                bytes.splice(p..p, TOKENS[t].bytes());
            }
            Edit::Delete(a, l) => {
                let p = pos(a, len);
                let q = (p + pos(l, len)).min(len);
                bytes.drain(p..q);
            }
            Edit::DuplicateLine(a) => {
                let p = pos(a, len);
                let start = bytes[..p]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |i| i + 1);
                let end = bytes[p..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(len, |i| p + i + 1);
                let line = bytes[start..end].to_vec();
                bytes.splice(end..end, line);
            }
            Edit::Truncate(a) => bytes.truncate(pos(a, len)),
            Edit::FlipByte(a, b) => {
                if len > 0 {
                    let p = pos(a, len - 1);
                    bytes[p] = b;
                }
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Runs `check` on `CASES` mutations of the seed texts; a panic fails with the input.
fn fuzz(seeds: &[String], check: impl Fn(&str)) {
    let config = Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(config, rng());
    let strategy = (0..seeds.len(), prop::collection::vec(edit(), 1..6));
    runner
        .run(&strategy, |(seed, edits)| {
            let text = apply(&seeds[seed], &edits);
            let result = catch_unwind(AssertUnwindSafe(|| check(&text)));
            prop_assert!(result.is_ok(), "panicked on:\n{text}");
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn scenario_files_give_a_scenario_or_a_located_error() {
    let seeds = files(
        &["scenarios", "tests/malformed", "examples/custom_cli"],
        &["yaml"],
    );
    let registry = Registry::builtin();
    fuzz(&seeds, |text| {
        if let Err(e) = registry.parse(text, "fuzz.yaml") {
            let (line, column) = (e.line.expect("a line"), e.column.expect("a column"));
            assert!(line >= 1 && column >= 1, "{e}");
            assert!(e.to_string().starts_with("fuzz.yaml:"), "{e}");
        }
    });
}

#[test]
fn histories_give_a_history_or_an_error() {
    let seeds = files(&["tests/histories"], &["jsonl", "edn", "log", "txt"]);
    fuzz(&seeds, |text| {
        let _ = history::parse("fuzz", text, None);
        for format in [
            history::Format::Jsonl,
            history::Format::Edn,
            history::Format::Etcd,
        ] {
            let _ = history::parse("fuzz", text, Some(format));
        }
    });
}

#[test]
fn traces_give_a_trace_or_an_error() {
    let dir = std::env::temp_dir().join(format!("faultline-parser-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let trace = dir.join("seed.jsonl");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["run", "scenarios/echo-duplicate-bug.yaml", "--trace"])
        .arg(&trace)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs");
    assert!(trace.exists(), "{status:?}");
    // A short trace keeps each case fast: its first 200 records.
    let text = std::fs::read_to_string(&trace).expect("the trace");
    let seed: String = text.lines().take(200).map(|l| format!("{l}\n")).collect();
    let input = dir.join("case.jsonl");
    fuzz(&[seed], |text| {
        std::fs::write(&input, text).expect("written");
        let _ = faultline::viz::read_trace(&input);
    });
    let _ = std::fs::remove_dir_all(&dir);
}
