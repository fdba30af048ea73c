//! `seal` and `guess`: "find the bug" exercises. An instructor seals a bug variant into a
//! scenario (`bug: { sealed: ... }`); a student runs it, reads the report, and names the bug
//! with `guess`, which says whether that is the one.

use super::{EXIT_BAD_INPUT, EXIT_OK, EXIT_VIOLATION, out};
use crate::Registry;
use crate::scenario::seal::seal;
use std::path::Path;

pub(super) const SEAL_HELP: &str = "\
Prints the `bug:` line of a scenario whose bug variant is sealed: the scenario runs with that
bug, and every report says `bug: sealed` instead of its name. A student finds the bug from
what the run shows, and checks the answer with `faultline guess`. Sealing hides the name from
a reader, not from someone set on decoding it: it is for coursework. See docs/grading.md.

Exit codes:
  0  the line was printed
  2  bad input: an unknown protocol, or a bug variant it does not have

Example:
  faultline seal quorum-kv no-read-repair
  # bug: { sealed: \"…\" }  (put it in place of `bug: no-read-repair`)";

pub(super) const GUESS_HELP: &str = "\
Says whether BUG is the bug variant the scenario runs with, sealed or not. `faultline list`
shows every bug variant of every protocol, with what it does.

Exit codes:
  0  right: the scenario runs with BUG
  1  wrong: it runs with another bug variant, or with none
  2  bad input: an unreadable scenario, or a bug variant its protocol does not have

Example:
  faultline guess mystery-1.yaml no-read-repair";

/// `faultline seal PROTOCOL BUG`.
pub(super) fn seal_command(registry: &Registry, protocol: &str, bug: &str) -> u8 {
    let Some(info) = registry.infos().into_iter().find(|p| p.name == protocol) else {
        let names = registry.names().join(", ");
        eprintln!(
            "{}: unknown protocol `{protocol}`; there are: {names}",
            super::program()
        );
        return EXIT_BAD_INPUT;
    };
    if !info.bugs.iter().any(|b| b.name == bug) {
        eprintln!(
            "{}: {}",
            super::program(),
            unknown_bug(protocol, bug, &info)
        );
        return EXIT_BAD_INPUT;
    }
    out::finish(
        &format!("bug: {{ sealed: \"{}\" }}\n", seal(protocol, bug)),
        EXIT_OK,
    )
}

/// `faultline guess FILE BUG`.
pub(super) fn guess_command(registry: &Registry, file: &Path, bug: &str) -> u8 {
    let scenario = match super::load(registry, file) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let Some(info) = registry
        .infos()
        .into_iter()
        .find(|p| p.name == scenario.protocol)
    else {
        return EXIT_BAD_INPUT;
    };
    if !info.bugs.iter().any(|b| b.name == bug) {
        let words = unknown_bug(&scenario.protocol, bug, &info);
        eprintln!("{}: {words}", super::program());
        return EXIT_BAD_INPUT;
    }
    if scenario.bug == Some(bug) {
        out::finish(
            &format!("{}: right, the bug is {bug}\n", file.display()),
            EXIT_OK,
        )
    } else {
        let words = format!("{}: not {bug}; look at the run again\n", file.display());
        out::finish(&words, EXIT_VIOLATION)
    }
}

fn unknown_bug(protocol: &str, bug: &str, info: &crate::protocol::ProtocolInfo) -> String {
    let names: Vec<&str> = info.bugs.iter().map(|b| b.name).collect();
    format!(
        "protocol `{protocol}` has no bug variant `{bug}`; it has: {}",
        names.join(", ")
    )
}
