//! Outputs that would overwrite an input: refused before anything is written, since the
//! input would be lost (a scenario replaced by its own trace) and the output read half-written.

use super::EXIT_BAD_INPUT;
use std::path::Path;

/// Whether `a` and `b` name the same file: the same canonical path when both exist (through
/// links and `./`), the same text otherwise.
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// Refuses (exit 2, with a message) any output, given as `(flag, path)`, that is one of the
/// `inputs` or another output.
pub(super) fn refuse_overwrite(inputs: &[&Path], outputs: &[(&str, &Path)]) -> Result<(), u8> {
    for (i, &(flag, out)) in outputs.iter().enumerate() {
        if let Some(input) = inputs.iter().find(|input| same_file(input, out)) {
            eprintln!(
                "{}: {flag} {} is the input file {}: writing it would overwrite the input; \
                 choose another output",
                super::program(),
                out.display(),
                input.display()
            );
            return Err(EXIT_BAD_INPUT);
        }
        if let Some((other, _)) = outputs[..i].iter().find(|(_, o)| same_file(o, out)) {
            eprintln!(
                "{}: {other} and {flag} both name {}: one would overwrite the other",
                super::program(),
                out.display()
            );
            return Err(EXIT_BAD_INPUT);
        }
    }
    Ok(())
}
