//! Finds stateright's `examples/paxos.rs` in the cargo registry source
//! directory ($CARGO_HOME, or ~/.cargo, then registry/src/*/stateright-<version>/)
//! for the stateright version locked in Cargo.lock, and writes it to OUT_DIR
//! for `src/main.rs` to `include!` (its leading `//!` docs made plain comments).
use std::env;
use std::fs;
use std::path::{Path, PathBuf};

fn locked_version(manifest_dir: &Path) -> String {
    let lock = manifest_dir.join("Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let text =
        fs::read_to_string(&lock).expect("Cargo.lock is missing: run `cargo generate-lockfile`");
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"stateright\"" {
            let v = lines.next().expect("version line after name");
            let v = v
                .trim()
                .strip_prefix("version = \"")
                .and_then(|s| s.strip_suffix('"'));
            return v.expect("version = \"...\"").to_string();
        }
    }
    panic!("stateright not found in Cargo.lock");
}

fn cargo_home() -> PathBuf {
    if let Some(h) = env::var_os("CARGO_HOME") {
        return PathBuf::from(h);
    }
    let home = env::var_os("HOME").expect("neither CARGO_HOME nor HOME is set");
    PathBuf::from(home).join(".cargo")
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CARGO_HOME");
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let version = locked_version(&manifest_dir);
    let src_root = cargo_home().join("registry").join("src");
    let mut found = None;
    let mut registries: Vec<_> = fs::read_dir(&src_root)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", src_root.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    registries.sort();
    for reg in registries {
        let candidate = reg
            .join(format!("stateright-{version}"))
            .join("examples")
            .join("paxos.rs");
        if candidate.is_file() {
            found = Some(candidate);
            break;
        }
    }
    let example = found.unwrap_or_else(|| {
        panic!(
            "stateright-{version}/examples/paxos.rs not found under {}/*/ (run `cargo fetch`)",
            src_root.display()
        )
    });
    println!("cargo:rerun-if-changed={}", example.display());
    // `include!` cannot take inner doc comments (error E0753), and the example
    // opens with its `//!` module docs: turn those into plain `//` comments.
    // The code itself is left as it is.
    let text: String = fs::read_to_string(&example)
        .unwrap()
        .lines()
        .map(|l| match l.strip_prefix("//!") {
            Some(rest) => format!("//{rest}\n"),
            None => format!("{l}\n"),
        })
        .collect();
    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("paxos.rs");
    fs::write(&out, text).unwrap();
}
