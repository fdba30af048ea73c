//! The malformed-scenario corpus: every file in tests/malformed/ must be rejected by
//! `faultline validate` and `faultline run` with exit code 2 and a located message, never a
//! panic. Each file's first line says what is expected: `# error: LINE:COLUMN message-start`.

use std::path::{Path, PathBuf};
use std::process::Command;

const EXIT_BAD_INPUT: i32 = 2;

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/malformed");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/malformed exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

/// `(line:column, message start)` from the file's first line.
fn expectation(path: &Path) -> (String, String) {
    let bytes = std::fs::read(path).expect("readable");
    let first = String::from_utf8_lossy(bytes.split(|&b| b == b'\n').next().unwrap_or_default())
        .into_owned();
    let rest = first.strip_prefix("# error: ").unwrap_or_else(|| {
        panic!(
            "{}: first line must be `# error: L:C message`",
            path.display()
        )
    });
    let (location, message) = rest.split_once(' ').expect("location and message");
    (location.to_string(), message.to_string())
}

fn faultline(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .output()
        .expect("run faultline");
    let code = out.status.code().expect("exit code, not a signal");
    (
        code,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn corpus_is_not_empty() {
    assert!(
        corpus().len() >= 40,
        "the malformed corpus shrank to {}",
        corpus().len()
    );
}

#[test]
fn every_malformed_file_is_rejected_with_its_location() {
    let mut failures = Vec::new();
    for path in corpus() {
        let file = path.to_str().expect("utf-8 path");
        let (location, message) = expectation(&path);
        for command in ["validate", "run"] {
            let (code, stdout, stderr) = faultline(&[command, file]);
            let prefix = format!("{file}:{location}: ");
            let ok = code == EXIT_BAD_INPUT
                && stderr.starts_with(&prefix)
                && stderr.contains(&message)
                && !stderr.contains("panicked")
                && stdout.is_empty();
            if !ok {
                failures.push(format!(
                    "{command} {file}: exit {code}, stderr {stderr:?}, wanted {prefix}…{message}"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn missing_files_and_directories_are_bad_input() {
    let (code, _, stderr) = faultline(&["run", "tests/malformed/no-such-file.yaml"]);
    assert_eq!(code, EXIT_BAD_INPUT);
    assert!(
        stderr.contains("no-such-file.yaml: cannot read the scenario"),
        "{stderr}"
    );
    let (code, _, stderr) = faultline(&["validate", "tests"]);
    assert_eq!(code, EXIT_BAD_INPUT);
    assert!(stderr.contains("is a directory"), "{stderr}");
}

#[test]
fn bad_flags_are_bad_input() {
    let (code, _, stderr) = faultline(&["run", "scenarios/echo-loss.yaml", "--seed", "minus-one"]);
    assert_eq!(code, EXIT_BAD_INPUT);
    assert!(stderr.contains("--seed"), "{stderr}");
    let (code, _, _) = faultline(&["run", "scenarios/echo-loss.yaml", "--format", "xml"]);
    assert_eq!(code, EXIT_BAD_INPUT);
    let (code, _, stderr) = faultline(&[
        "run",
        "scenarios/echo-loss.yaml",
        "--trace",
        "/no/such/dir/t.jsonl",
    ]);
    assert_eq!(code, EXIT_BAD_INPUT);
    assert!(stderr.contains("cannot create the trace file"), "{stderr}");
}
