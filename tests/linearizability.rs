//! The linearizability checker: Porcupine's histories with their known verdicts (when the shared
//! data folder is present), hand-written histories through the real binary, and malformed input.

use faultline::history::{self, Format};
use faultline::linearizability::{self, ModelKind, Options, Verdict};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const DATA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/linearizability"
);
const HISTORIES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/histories");

fn options(model: ModelKind) -> Options {
    Options {
        model,
        initial: None,
        time_budget: Duration::from_secs(60),
        steps_max: u64::MAX,
        threads: 0,
    }
}

/// `(file, format, model, expected)` from verdicts.json, or `None` when the data is absent.
fn conformance_cases() -> Option<Vec<(PathBuf, Format, ModelKind, bool)>> {
    let dir = Path::new(DATA);
    let text = std::fs::read_to_string(dir.join("verdicts.json")).ok()?;
    let entries: serde_json::Value = serde_json::from_str(&text).expect("verdicts.json is JSON");
    let mut cases = Vec::new();
    for e in entries.as_array().expect("a list of files") {
        let file = dir.join(e["file"].as_str().expect("file"));
        let (format, model) = match e["format"].as_str().expect("format") {
            "porcupine-jepsen-etcd-log" => (Format::Etcd, ModelKind::CasRegister),
            "porcupine-kv-edn-lines" => (Format::Edn, ModelKind::Kv),
            other => panic!("unknown format {other} in verdicts.json"),
        };
        let Some(expected) = e["expected_linearizable"].as_bool() else {
            continue; // etcd_095.log is empty and has no verdict.
        };
        cases.push((file, format, model, expected));
    }
    Some(cases)
}

#[test]
fn porcupine_verdicts_all_match() {
    let Some(cases) = conformance_cases() else {
        eprintln!(
            "SKIPPED: the conformance suite needs {DATA} (Porcupine's histories), absent here"
        );
        return;
    };
    assert_eq!(
        cases.len(),
        108,
        "every file of verdicts.json with a verdict"
    );
    let mut mismatches = Vec::new();
    for (file, format, model, expected) in &cases {
        let h = history::load(file, Some(*format)).unwrap_or_else(|e| panic!("{e}"));
        let report = linearizability::check(&file.display().to_string(), &h, &options(*model))
            .unwrap_or_else(|e| panic!("{e}"));
        let got = match report.verdict {
            Verdict::Linearizable => Some(true),
            Verdict::NotLinearizable(_) => Some(false),
            Verdict::Unknown(_) => None,
        };
        if got != Some(*expected) {
            mismatches.push(format!(
                "{}: expected {expected}, got {got:?}",
                file.display()
            ));
        }
    }
    eprintln!(
        "conformance: {} of {} verdicts match",
        cases.len() - mismatches.len(),
        cases.len()
    );
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

#[test]
fn format_detection() {
    assert_eq!(
        history::detect("INFO  jepsen.util - 0\t:invoke\t:read\tnil\n"),
        Format::Etcd
    );
    assert_eq!(
        history::detect("{:process 0, :type :invoke}\n"),
        Format::Edn
    );
    assert_eq!(history::detect("[{:process 0}]"), Format::Edn);
    assert_eq!(history::detect("{\"process\": 0}\n"), Format::Jsonl);
}

/// Runs the binary on a file of tests/histories; returns (exit code, stdout, stderr).
fn run(file: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .arg("check-history")
        .arg(Path::new(HISTORIES).join(file))
        .args(args)
        .output()
        .expect("the binary runs");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (
        out.status.code().expect("an exit code"),
        text(&out.stdout),
        text(&out.stderr),
    )
}

fn run_json(file: &str, model: &str) -> (i32, serde_json::Value) {
    let (code, stdout, stderr) = run(file, &["--model", model, "--format", "json"]);
    let json =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{file}: {e}: {stdout} {stderr}"));
    (code, json)
}

#[test]
fn hand_written_verdicts() {
    // (file, model, linearizable, first bad op: 0-based event index of its invocation)
    let cases: [(&str, &str, bool, Option<u64>); 12] = [
        ("register-ok.jsonl", "register", true, None),
        ("stale-read.jsonl", "register", false, Some(6)),
        ("info-write.jsonl", "register", true, None),
        ("failed-write.jsonl", "register", false, Some(4)),
        ("cas-ok.edn", "cas-register", true, None),
        ("cas-bad.edn", "cas-register", false, Some(4)),
        ("kv-ok.edn", "kv", true, None),
        ("kv-bad.jsonl", "kv", false, Some(6)),
        // cas on text built by put and append; a cas on the text before the append.
        ("kv-cas-ok.jsonl", "kv", true, None),
        ("kv-cas-bad.jsonl", "kv", false, Some(4)),
        ("etcd-small.log", "cas-register", true, None),
        ("etcd-fail-cas.log", "cas-register", false, Some(4)),
    ];
    for (file, model, linearizable, bad) in cases {
        let (code, json) = run_json(file, model);
        assert_eq!(
            json["linearizable"],
            serde_json::json!(linearizable),
            "{file}: {json}"
        );
        assert_eq!(code, if linearizable { 0 } else { 1 }, "{file}");
        assert!(
            json["ops"].as_u64().is_some() && json["elapsed_ms"].as_f64().is_some(),
            "{file}"
        );
        assert_eq!(json["first_bad_op"].as_u64(), bad, "{file}: {json}");
        if bad.is_some() {
            assert!(
                json["explanation"]
                    .as_str()
                    .is_some_and(|e| e.contains("cannot be linearised"))
            );
        }
    }
}

#[test]
fn failed_ops_are_removed_and_counted() {
    let (_, json) = run_json("cas-ok.edn", "cas-register");
    assert_eq!(json["failed_removed"], 1);
    assert_eq!(
        json["ops"], 5,
        "the nemesis op and the failed cas are not checked"
    );
}

#[test]
fn kv_cas_failed_attempt_is_removed() {
    let (_, json) = run_json("kv-cas-ok.jsonl", "kv");
    assert_eq!(json["failed_removed"], 1, "{json}");
    assert_eq!((&json["ops"], &json["partitions"]), (&7.into(), &2.into()));
    let (code, _, err) = run("kv-cas-ok.jsonl", &["--model", "cas-register"]);
    assert_eq!(code, 2);
    assert!(err.contains("(it knows read/get, write/put, cas)"), "{err}");
}

#[test]
fn concurrent_ops_are_named() {
    let (code, stdout, _) = run("stale-read.jsonl", &["--model", "register"]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("NOT linearizable") && stdout.contains("op 6 (line 7"),
        "{stdout}"
    );
}

#[test]
fn initial_value_flag() {
    // A read of 0 before any write is legal only if the register starts at 0.
    let dir = std::env::temp_dir().join(format!("faultline-lin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("initial.jsonl");
    std::fs::write(
        &file,
        "{\"process\": 0, \"type\": \"invoke\", \"f\": \"read\"}\n{\"process\": 0, \"type\": \"ok\", \"f\": \"read\", \"value\": 0}\n",
    )
    .unwrap();
    let code = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_faultline"))
            .args([
                "check-history",
                file.to_str().unwrap(),
                "--model",
                "register",
            ])
            .args(extra)
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(code(&[]), Some(1));
    assert_eq!(code(&["--initial", "0"]), Some(0));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn malformed_histories_are_located() {
    let cases = [
        (
            "bad-json.jsonl",
            "register",
            "bad-json.jsonl:2:43: invalid JSON",
        ),
        (
            "bad-unclosed.edn",
            "register",
            "bad-unclosed.edn:2:48: unexpected `}`",
        ),
        (
            "bad-etcd.log",
            "cas-register",
            "bad-etcd.log:2:21: `x` is not a process id",
        ),
        (
            "bad-unmatched.jsonl",
            "register",
            "bad-unmatched.jsonl:2:1: process 3 completes",
        ),
        (
            "cas-ok.edn",
            "register",
            "cas-ok.edn:5:2: the register model has no function `cas`",
        ),
    ];
    for (file, model, message) in cases {
        let (code, stdout, stderr) = run(file, &["--model", model]);
        assert_eq!(code, 2, "{file}: {stdout}");
        assert!(stderr.contains(message), "{file}: {stderr}");
    }
}

#[test]
fn a_tiny_time_budget_gives_unknown_or_a_verdict() {
    // Porcupine's etcd_002 takes tens of ms: 0 ms of budget must stop it at its first check.
    let file = Path::new(DATA).join("porcupine/jepsen/etcd_002.log");
    if !file.exists() {
        eprintln!("SKIPPED: {} is absent", file.display());
        return;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args([
            "check-history",
            file.to_str().unwrap(),
            "--model",
            "cas-register",
        ])
        .args(["--time-budget", "0ms", "--format", "json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["linearizable"], "unknown");
    assert_eq!(out.status.code(), Some(4));
}

/// A bound in search steps gives the same verdict on every run and with any number of
/// threads, which a simulated run's report needs; a bound in time could not.
#[test]
fn a_step_budget_gives_the_same_verdict_whatever_the_threads() {
    let file = Path::new(DATA).join("porcupine/jepsen/etcd_002.log");
    if !file.exists() {
        eprintln!("SKIPPED: {} is absent", file.display());
        return;
    }
    let h = history::load(&file, Some(Format::Etcd)).expect("loads");
    let verdict = |steps_max: u64, threads: usize| {
        let options = Options {
            steps_max,
            threads,
            ..options(ModelKind::CasRegister)
        };
        let name = file.display().to_string();
        linearizability::check(&name, &h, &options)
            .expect("checks")
            .verdict
    };
    let small = verdict(1_000, 1);
    match &small {
        Verdict::Unknown(why) => assert!(why.contains("step budget (1000 search steps"), "{why}"),
        other => panic!("1,000 steps cannot settle etcd_002: {other:?}"),
    }
    for threads in [1, 2, 4] {
        assert_eq!(verdict(1_000, threads), small, "{threads} threads");
        assert_eq!(verdict(u64::MAX, threads), Verdict::Linearizable);
    }
}

/// A tiny deterministic generator (xorshift) for the cross-check below.
struct Gen(u64);

impl Gen {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// A random cas-register history of `ops` operations by 3 processes, as JSON Lines.
fn random_history(g: &mut Gen, ops: usize) -> String {
    let mut open: [Option<&str>; 3] = [None; 3];
    let (mut started, mut out) = (0, String::new());
    let value = |g: &mut Gen| match g.below(3) {
        0 => "null".to_string(),
        v => v.to_string(),
    };
    while started < ops || open.iter().any(Option::is_some) {
        let p = g.below(3) as usize;
        match open[p] {
            None if started < ops => {
                let (f, v) = match g.below(3) {
                    0 => ("read", "null".to_string()),
                    1 => ("write", (1 + g.below(2)).to_string()),
                    _ => ("cas", format!("[{}, {}]", 1 + g.below(2), 1 + g.below(2))),
                };
                out += &format!(
                    "{{\"process\": {p}, \"type\": \"invoke\", \"f\": \"{f}\", \"value\": {v}}}\n"
                );
                open[p] = Some(f);
                started += 1;
            }
            None => {}
            Some(f) => {
                let kind = ["ok", "ok", "ok", "fail", "info"][g.below(5) as usize];
                let v = if f == "read" {
                    value(g)
                } else {
                    "null".to_string()
                };
                out += &format!(
                    "{{\"process\": {p}, \"type\": \"{kind}\", \"f\": \"{f}\", \"value\": {v}}}\n"
                );
                open[p] = None;
            }
        }
    }
    out
}

/// Linearizability by brute force: every order that respects real time, pending ops optional.
fn brute_force(ops: &[&history::Op], done: &mut Vec<bool>, state: &history::Value) -> bool {
    use history::{Status, Value};
    if ops
        .iter()
        .zip(done.iter())
        .all(|(o, d)| *d || o.status == Status::Info)
    {
        return true;
    }
    for i in 0..ops.len() {
        let o = ops[i];
        // Every op that returned before `o` was invoked must already be linearised.
        let minimal = ops
            .iter()
            .zip(done.iter())
            .all(|(p, d)| *d || p.return_index.is_none_or(|r| r > o.invoke_index));
        if done[i] || !minimal {
            continue;
        }
        let next = match (o.f.as_str(), &o.input) {
            ("read", _) if o.status == Status::Ok && o.output != *state => continue,
            ("read", _) => state.clone(),
            ("write", v) => v.clone(),
            ("cas", Value::List(pair)) => match (pair[0] == *state, o.status) {
                (true, _) => pair[1].clone(),
                (false, Status::Info) => state.clone(),
                (false, _) => continue,
            },
            _ => unreachable!(),
        };
        done[i] = true;
        let found = brute_force(ops, done, &next);
        done[i] = false;
        if found {
            return true;
        }
    }
    false
}

#[test]
fn random_histories_agree_with_brute_force() {
    let mut g = Gen(0x9e37_79b9_7f4a_7c15);
    let (mut linearizable, mut cases) = (0, 2000);
    while cases > 0 {
        cases -= 1;
        let ops = 1 + g.below(7) as usize;
        let text = random_history(&mut g, ops);
        let h = history::parse("random", &text, None).expect("generated histories parse");
        let kept: Vec<&history::Op> = h
            .ops
            .iter()
            .filter(|o| o.status != history::Status::Fail)
            .collect();
        let expected = brute_force(&kept, &mut vec![false; kept.len()], &history::Value::Nil);
        let report =
            linearizability::check("random", &h, &options(ModelKind::CasRegister)).unwrap();
        let got = matches!(report.verdict, Verdict::Linearizable);
        assert_eq!(got, expected, "{text}");
        linearizable += usize::from(got);
    }
    // Both verdicts occur, so the comparison means something.
    assert!(
        linearizable > 200 && linearizable < 1800,
        "{linearizable} of 2000 linearizable"
    );
}

/// One step of a generated history: `(process, key, function, value, outcome)`. A process with
/// no open op invokes `function` on `key`; one with an open op completes it with `outcome`
/// (0–2 ok, 3 fail, 4 info, 5 ok with the read's value) and, for a read, `value`.
type Step = (u8, u8, u8, u8, u8);

/// A cas-register history over several keys as JSON Lines; ops left open stay pending.
fn stepped_history(steps: &[Step]) -> String {
    let mut open: [Option<(u8, u8)>; 4] = [None; 4];
    let mut out = String::new();
    let value = |v: u8| match v {
        0 => "null".to_string(),
        v => v.to_string(),
    };
    for &(p, key, f, v, outcome) in steps {
        let slot = &mut open[usize::from(p)];
        let line = match *slot {
            None => {
                *slot = Some((key, f));
                let (f, v) = match f {
                    0 => ("read", "null".to_string()),
                    1 => ("write", v.max(1).to_string()),
                    _ => ("cas", format!("[{}, {}]", value(v), 1 + outcome % 2)),
                };
                format!("\"type\": \"invoke\", \"key\": {key}, \"f\": \"{f}\", \"value\": {v}")
            }
            Some((key, f)) => {
                *slot = None;
                let kind = ["ok", "ok", "ok", "fail", "info", "ok"][usize::from(outcome)];
                let (f, v) = match f {
                    0 => ("read", value(v)),
                    1 => ("write", "null".to_string()),
                    _ => ("cas", "null".to_string()),
                };
                format!("\"type\": \"{kind}\", \"key\": {key}, \"f\": \"{f}\", \"value\": {v}")
            }
        };
        out += &format!("{{\"process\": {p}, {line}}}\n");
    }
    out
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

    /// Cutting at quiescent points, however fine and with whatever bounds, and the compact
    /// memo entries change nothing: not the verdict, not the op named, not the concurrent ops
    /// listed.
    #[test]
    fn linearizability_cutting_keeps_the_verdict(
        steps in proptest::collection::vec((0..4u8, 0..2u8, 0..3u8, 0..3u8, 0..6u8), 1..48),
        min_piece_ops in 1..4usize,
        max_cut_states in 1..4usize,
        max_piece_steps in proptest::sample::select(vec![8u64, 64, 1 << 16]),
        force_compact_memo: bool,
    ) {
        let text = stepped_history(&steps);
        let h = history::parse("random", &text, None).expect("generated histories parse");
        let mut options = options(ModelKind::CasRegister);
        options.threads = 1;
        let whole = linearizability::check_cutting("random", &h, &options, linearizability::Cutting::OFF)
            .expect("checks");
        let cutting = linearizability::Cutting {
            enabled: true,
            min_piece_ops,
            max_cut_states,
            max_piece_steps,
            force_compact_memo,
        };
        let cut = linearizability::check_cutting("random", &h, &options, cutting).expect("checks");
        proptest::prop_assert_eq!(&whole.verdict, &cut.verdict, "{}", text);
    }
}
