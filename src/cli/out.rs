//! Standard output that reports its errors. `print!` panics when a write fails, so a full disk
//! would end as an internal error and a closed pipe (`| head -1`) with a panic message; every
//! command writes through here instead.

use super::EXIT_BAD_INPUT;
use std::io::{ErrorKind, Write};

/// Why standard output took no more.
pub(super) enum Closed {
    /// The reader went away (`| head -1`): it wanted no more, which is not an error.
    Pipe,
    /// Any other write error, such as a full disk.
    Failed(std::io::Error),
}

impl Closed {
    /// The exit code after the failed write. A closed pipe ends the command quietly with its
    /// own `verdict`, since what it found stands whether or not anyone read it to the end;
    /// any other error is reported and is bad input (2), since the output asked for was not
    /// written.
    pub(super) fn exit_code(self, verdict: u8) -> u8 {
        match self {
            Closed::Pipe => verdict,
            Closed::Failed(e) => {
                eprintln!("{}: cannot write to standard output: {e}", super::program());
                EXIT_BAD_INPUT
            }
        }
    }
}

/// Writes `text` to standard output and flushes it, so that an error shows here.
pub(super) fn write(text: &str) -> Result<(), Closed> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| match e.kind() {
            ErrorKind::BrokenPipe => Closed::Pipe,
            _ => Closed::Failed(e),
        })
}

/// Writes `text` and a newline.
pub(super) fn line(text: &str) -> Result<(), Closed> {
    write(&format!("{text}\n"))
}

/// Writes `text`, then returns `verdict`, or the exit code of a failed write.
pub(super) fn finish(text: &str, verdict: u8) -> u8 {
    match write(text) {
        Ok(()) => verdict,
        Err(closed) => closed.exit_code(verdict),
    }
}
