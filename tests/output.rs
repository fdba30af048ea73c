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
