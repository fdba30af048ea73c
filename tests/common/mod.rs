//! Helpers shared by the tests that drive the `faultline` binary.

use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs the binary with `args` and collects what it printed.
#[allow(dead_code)] // used by some of the test crates only
pub fn faultline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// An empty directory in the temporary directory, unique to this test process and `name`.
#[allow(dead_code)] // used by some of the test crates only
pub fn fresh_dir(prefix: &str, name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("faultline-{prefix}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The scenario file `path` with its scripted `faults:` block removed, as `faultline fuzz`
/// then draws its own. The block must be followed by `expect:`.
#[allow(dead_code)] // used by some of the test crates only
pub fn without_faults(path: &str) -> String {
    let source = std::fs::read_to_string(path).expect("the scenario file");
    let (head, rest) = source.split_once("faults:\n").expect("scripted faults");
    let tail = &rest[rest
        .find("expect:")
        .expect("an expectation after the faults")..];
    format!("{head}{tail}")
}

/// Runs `check-history FILE ARGS...`: its exit code, stdout and stderr.
#[allow(dead_code)] // used by some of the test crates only
pub fn check_history(file: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .arg("check-history")
        .arg(file)
        .args(args)
        .output()
        .expect("the binary runs");
    (
        out.status.code().expect("an exit code"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
