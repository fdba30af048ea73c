//! Standard output that cannot be written, through the real binary: a full disk is reported
//! with exit code 2, a reader that went away ends the command quietly; neither panics.

use std::process::{Command, Stdio};

fn faultline() -> Command {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
}

const COMMANDS: [&[&str]; 5] = [
    &["list"],
    &["list", "--format", "json"],
    &["run", "scenarios/echo-loss.yaml"],
    &["run", "scenarios/echo-loss.yaml", "--format", "json"],
    &["validate", "scenarios/echo-loss.yaml"],
];

#[cfg(target_os = "linux")]
#[test]
fn a_full_standard_output_is_reported_with_exit_2() {
    for args in COMMANDS {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = faultline().args(args).stdout(full).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("faultline: cannot write to standard output: "),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("internal error"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_closed_pipe_ends_the_command_quietly_with_its_verdict() {
    let cases: [(&[&str], i32); 4] = [
        (COMMANDS[0], 0),
        (COMMANDS[2], 0),
        (
            &[
                "check-history",
                "tests/histories/counter-too-high.jsonl",
                "--model",
                "counter",
            ],
            1,
        ),
        (COMMANDS[4], 0),
    ];
    for (args, verdict) in cases {
        let mut child = faultline()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before the first write, like `| head -0`.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(verdict), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("standard output"), "{args:?}: {stderr}");
    }
}

/// `run` of a scenario of 0.8 MB of trace, 1.04 MB of page (1.0 MB estimated before it is
/// written; the nodes' summaries for the state strip are 0.15 MB of it) and 1.1 MB of ShiViz
/// log (about 1.2 MB estimated), in `dir`.
fn run_big(dir: &std::path::Path, extra: &[&str]) -> std::process::Output {
    std::fs::create_dir_all(dir).unwrap();
    let mut args = vec!["run", "scenarios/primary-backup-ack-before-backup-bug.yaml"];
    args.extend_from_slice(extra);
    faultline()
        .args(&args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

#[test]
fn outputs_above_max_output_mb_are_refused_and_large_ones_announced() {
    let d = std::env::temp_dir().join(format!("faultline-output-{}-max", std::process::id()));
    let (trace, html, log) = (d.join("t.jsonl"), d.join("p.html"), d.join("s.log"));
    let (t, h, s) = (
        trace.to_str().unwrap(),
        html.to_str().unwrap(),
        log.to_str().unwrap(),
    );
    // Each below its maximum and above half of it, so announced and written.
    let out = run_big(&d, &["--trace", t, "--max-output-mb", "1"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!("warning: the trace {t} has passed 0.5 MB")),
        "{stderr}"
    );
    let out = run_big(&d, &["--html", h, "--max-output-mb", "2"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!("warning: the page {h} will be about 1.0 MB")),
        "{stderr}"
    );
    assert!(trace.exists() && html.exists());
    let _ = std::fs::remove_dir_all(&d);
    for (flag, path, what, mb) in [
        ("--html", h, "the page", "1.0"),
        ("--shiviz", s, "the ShiViz log", "1.2"),
    ] {
        let out = run_big(&d, &[flag, path, "--max-output-mb", "0"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(&format!("{what} {path} would be about {mb} MB")),
            "{stderr}"
        );
        assert!(stderr.contains("MB, above --max-output-mb 0"), "{stderr}");
        assert!(!std::path::Path::new(path).exists(), "{what} not written");
    }
    let out = run_big(&d, &["--trace", t, "--max-output-mb", "0"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("would pass --max-output-mb 0"), "{stderr}");
    assert!(!trace.exists(), "no trace cut short is left");
    // `viz` checks the page it would draw the same way.
    let out = run_big(&d, &["--trace", t]);
    assert_eq!(out.status.code(), Some(0));
    let out = faultline()
        .args(["viz", t, "-o", h, "--max-output-mb", "0"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("above --max-output-mb 0"), "{stderr}");
    assert!(!html.exists());
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_run_too_long_for_the_explanation_budget_keeps_its_verdict_and_says_so() {
    let file = "scenarios/register-reorder-assume-fifo-bug.yaml";
    let out = faultline()
        .args(["run", file, "--explain-memory-mb", "1", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "the expected violation was found"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = report["violations"][0]["explanation"]["text"]
        .as_str()
        .unwrap();
    assert!(
        text.contains("not explained: the run has 10748 trace events and a budget of 1 MB"),
        "{text}"
    );
    let out = faultline().args(["run", file]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("What led there"), "{stdout}");
    for bad in ["0", "-1", "lots"] {
        let out = faultline()
            .args(["run", file, "--explain-memory-mb", bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
    }
}
