//! Jepsen's conventions in `check-history`, through the real binary: in an EDN history, a read
//! that completed ok with nil is a value nobody recorded (as Knossos reads it), unless
//! `--nil-reads value` says otherwise, and the report says which reading was used; the op at
//! fault is also named by its `:index`, as Knossos names it; and Knossos's mutex model.

mod common;

use common::{faultline, fresh_dir};
use std::path::{Path, PathBuf};

/// A write of 1, then a read that returned nil: with the register starting at 0, the read is
/// impossible as a value, and fine as an unknown one.
const NIL_READ: &str = "[{:process 0, :type :invoke, :f :write, :value 1}
 {:process 0, :type :ok, :f :write, :value 1}
 {:process 1, :type :invoke, :f :read, :value nil}
 {:process 1, :type :ok, :f :read, :value nil}]";

fn write(name: &str, text: &str) -> PathBuf {
    let dir = fresh_dir("knossos", name);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn check(file: &Path, extra: &[&str]) -> (String, Option<i32>) {
    let args = [
        "check-history",
        file.to_str().unwrap(),
        "--model",
        "cas-register",
    ];
    let out = faultline(&[&args[..], &["--initial", "0"], extra].concat());
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (text, out.status.code())
}

#[test]
fn an_ok_read_of_nil_matches_any_state_unless_asked_to_be_a_value() {
    let file = write("nil.edn", NIL_READ);
    let (text, code) = check(&file, &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("verdict    linearizable"), "{text}");
    assert!(text.contains("nil reads  1 ok read of nil taken as a value nobody recorded"));
    let (text, code) = check(&file, &["--nil-reads", "value"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("op 2 (line 3, process 1: read -> nil)"),
        "{text}"
    );
    assert!(
        text.contains("read as the value nil (--nil-reads value)"),
        "{text}"
    );
}

#[test]
fn the_json_report_says_which_reading_was_used() {
    let file = write("nil.edn", NIL_READ);
    for (extra, reading, count) in [
        (&[][..], "unknown", serde_json::json!(1)),
        (
            &["--nil-reads", "value"][..],
            "value",
            serde_json::Value::Null,
        ),
    ] {
        let (text, _) = check(&file, &[extra, &["--format", "json"]].concat());
        let report: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(report["nil_reads"], reading, "{text}");
        assert_eq!(report["nil_reads_unknown"], count, "{text}");
    }
}

#[test]
fn a_read_that_returned_a_value_is_still_checked() {
    // The nil read is unknown, but the read of 2 is impossible either way.
    let bad = NIL_READ.replace(
        "]",
        "\n {:process 2, :type :invoke, :f :read, :value nil}\n \
         {:process 2, :type :ok, :f :read, :value 2}]",
    );
    let file = write("bad.edn", &bad);
    let (text, code) = check(&file, &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("process 2: read -> 2"), "{text}");
}

#[test]
fn nil_reads_of_another_format_is_a_bad_flag() {
    let jsonl = "{\"process\": 0, \"type\": \"invoke\", \"f\": \"read\", \"value\": null}\n\
                 {\"process\": 0, \"type\": \"ok\", \"f\": \"read\", \"value\": null}\n";
    let file = write("h.jsonl", jsonl);
    let (text, code) = check(&file, &["--nil-reads", "unknown"]);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("--nil-reads applies to Jepsen EDN histories"),
        "{text}"
    );
    assert!(text.contains("read as jsonl"), "{text}");
    // Read as what it is, a read that returned null: the register started at 0.
    let (text, code) = check(&file, &["--format", "json"]);
    assert_eq!(code, Some(1), "{text}");
    let report: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert!(report["nil_reads"].is_null(), "{text}");
}

#[test]
fn the_op_at_fault_is_named_by_its_index_too() {
    let numbered = "[{:process 0, :type :invoke, :f :write, :value 1, :index 0}
 {:process 0, :type :ok, :f :write, :value 1, :index 1}
 {:process 1, :type :invoke, :f :read, :value nil, :index 2}
 {:process 1, :type :ok, :f :read, :value 2, :index 3}]";
    let file = write("numbered.edn", numbered);
    let (text, code) = check(&file, &[]);
    assert_eq!(code, Some(1), "{text}");
    // faultline's own number is the invocation's position; Knossos's, the completion's index.
    assert!(
        text.contains("op 2 (line 3, :index 3, process 1: read -> 2)"),
        "{text}"
    );
    assert!(!text.contains("nil reads"), "no nil read, no line: {text}");
    let (text, _) = check(&file, &["--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(report["first_bad_op"], 2, "{text}");
    assert_eq!(report["first_bad_index"], 3, "{text}");
    // Without indexes there is no Knossos name to give.
    let file = write("plain.edn", &numbered.replace(", :index", ", :i"));
    let (text, _) = check(&file, &["--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert!(report["first_bad_index"].is_null(), "{text}");
}

#[test]
fn a_bad_index_is_a_located_error() {
    let file = write(
        "bad-index.edn",
        "[{:process 0, :type :invoke, :f :read, :value nil, :index 0}\n \
         {:process 0, :type :ok, :f :read, :value 1, :index -4}]",
    );
    let (text, code) = check(&file, &[]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains(":2:"), "not located on line 2: {text}");
    assert!(
        text.contains(":index must be a non-negative integer"),
        "{text}"
    );
    assert!(!text.contains("panicked"), "{text}");
}

fn mutex(name: &str, text: &str, extra: &[&str]) -> (String, Option<i32>) {
    let file = write(name, text);
    let args = ["check-history", file.to_str().unwrap(), "--model", "mutex"];
    let out = faultline(&[&args[..], extra].concat());
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (text, out.status.code())
}

/// Process `p` invokes `f`, or completes it with `outcome`.
fn ev(p: u32, outcome: &str, f: &str) -> String {
    format!("{{:process {p}, :type :{outcome}, :f :{f}, :value nil}}")
}

fn edn(events: &[String]) -> String {
    format!("[{}]", events.join("\n "))
}

#[test]
fn a_mutex_is_held_by_one_process_at_a_time() {
    // 1 waits for the lock while 0 takes and releases it: fine.
    let waits = edn(&[
        ev(0, "invoke", "acquire"),
        ev(1, "invoke", "acquire"),
        ev(0, "ok", "acquire"),
        ev(0, "invoke", "release"),
        ev(0, "ok", "release"),
        ev(1, "ok", "acquire"),
    ]);
    let (text, code) = mutex("waits.edn", &waits, &[]);
    assert_eq!(code, Some(0), "{text}");
    // 1 acquires after 0 acquired and before 0 released: two holders.
    let twice = |first: &str| {
        edn(&[
            ev(0, "invoke", "acquire"),
            ev(0, first, "acquire"),
            ev(1, "invoke", "acquire"),
            ev(1, "ok", "acquire"),
        ])
    };
    let (text, code) = mutex("twice.edn", &twice("ok"), &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("op 2 (line 3, process 1: acquire)"), "{text}");
    // A failed acquire did not take the lock; an indeterminate one may never have.
    for first in ["fail", "info"] {
        let (text, code) = mutex("maybe.edn", &twice(first), &[]);
        assert_eq!(code, Some(0), "{first}: {text}");
    }
}

#[test]
fn a_release_of_a_free_mutex_is_not_linearizable() {
    let jsonl = "{\"process\": 0, \"type\": \"invoke\", \"f\": \"release\", \"value\": null}\n\
                 {\"process\": 0, \"type\": \"ok\", \"f\": \"release\", \"value\": null}\n";
    let (text, code) = mutex("release.jsonl", jsonl, &["--format", "json"]);
    assert_eq!(code, Some(1), "{text}");
    let report: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(report["model"], "mutex", "{text}");
    assert_eq!(report["linearizable"], false, "{text}");
}

#[test]
fn a_mutex_takes_no_initial_value_and_no_reads() {
    let one = edn(&[ev(0, "invoke", "acquire"), ev(0, "ok", "acquire")]);
    let (text, code) = mutex("init.edn", &one, &["--initial", "0"]);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("--initial: the mutex model takes no initial value"),
        "{text}"
    );
    let (text, code) = mutex("reads.edn", NIL_READ, &[]);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("no function `write` (it knows acquire, release)"),
        "{text}"
    );
}

/// The library refuses what the command line refuses: a mutex has no initial value to give.
#[test]
fn the_library_refuses_an_initial_mutex_value_too() {
    use faultline::history::{Format, Value, parse};
    use faultline::linearizability::{ModelKind, Options, check};
    let text = edn(&[ev(0, "invoke", "acquire"), ev(0, "ok", "acquire")]);
    let h = parse("m.edn", &text, Some(Format::Edn)).expect("a history");
    let options = |initial| Options {
        model: ModelKind::Mutex,
        initial,
        time_budget: std::time::Duration::from_secs(10),
        steps_max: u64::MAX,
        threads: 1,
    };
    let e = check("m.edn", &h, &options(Some(Value::Int(0)))).unwrap_err();
    assert!(e.message.contains("takes no initial value"), "{e}");
    assert!(check("m.edn", &h, &options(None)).is_ok());
}

/// Where Knossos's `data/` folder is: `FAULTLINE_KNOSSOS_DATA`, else `../shared/data/knossos`.
fn knossos_data() -> PathBuf {
    match std::env::var_os("FAULTLINE_KNOSSOS_DATA") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/knossos"),
    }
}

/// Knossos's own example histories get Knossos's verdicts, checked as its `test-examples`
/// checks them: the cas-register starting at 0 over `cas-register/good` (linearizable) and
/// `cas-register/bad` (not), the multi-register starting from `{:x 0 :y 0}` over
/// `multi-register/good`. Every `.edn` file of those folders is checked through the binary.
#[test]
fn knossos_examples_get_knossos_verdicts() {
    let data = knossos_data();
    if !data.join("cas-register").is_dir() {
        eprintln!(
            "SKIPPED: Knossos's example histories are absent ({}; set FAULTLINE_KNOSSOS_DATA \
             to the data/ folder of a Knossos checkout)",
            data.display()
        );
        return;
    }
    let folders = [
        ("cas-register/good", "cas-register", 0),
        ("cas-register/bad", "cas-register", 1),
        ("multi-register/good", "multi-register", 0),
    ];
    let mut checked = 0;
    for (folder, model, expected) in folders {
        let Ok(entries) = std::fs::read_dir(data.join(folder)) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "edn"))
            .collect();
        files.sort();
        for file in files {
            let out = faultline(&[
                "check-history",
                file.to_str().unwrap(),
                "--model",
                model,
                "--initial",
                "0",
            ]);
            let text = String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(expected),
                "{}:\n{text}",
                file.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 0, "no history found under {}", data.display());
    eprintln!("{checked} of Knossos's example histories got Knossos's verdicts");
}
