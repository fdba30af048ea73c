//! Helpers shared by the tests that drive the `faultline` binary.

use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs the binary with `args` and collects what it printed.
pub fn faultline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// An empty directory in the temporary directory, unique to this test process and `name`.
pub fn fresh_dir(prefix: &str, name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("faultline-{prefix}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}
