//! Outputs too large to open: announced on standard error before they are written, and
//! refused above `--max-output-mb`. A page or log of gigabytes fills a disk and hangs the
//! browser or viewer meant to show it, so its size should never come as a surprise.

use super::EXIT_BAD_INPUT;
use std::io::{self, Write};
use std::path::Path;

/// Bytes in one MB as `--max-output-mb` counts it.
pub(super) const MB_BYTES: u64 = 1 << 20;
/// Above this (or above half the maximum, if lower) an output is announced.
const WARN_MB: u64 = 100;
/// A ShiViz log line pair per event: the event in words (about 100 bytes) and a vector clock
/// (about 25 bytes per node), measured on the built-in scenarios and rounded up.
pub(super) const SHIVIZ_EVENT_BYTES: u64 = 100;
pub(super) const SHIVIZ_NODE_BYTES: u64 = 25;

/// Bytes as MB with one decimal: `0.5`, `1.2`, `730.0`.
fn mb_text(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / MB_BYTES as f64)
}

/// `--max-output-mb` in bytes, and the size above which an output is announced.
#[derive(Clone, Copy)]
pub(super) struct Limit {
    pub max_bytes: u64,
    pub warn_bytes: u64,
}

impl Limit {
    pub(super) fn new(output_mb_max: u64) -> Limit {
        let max_bytes = output_mb_max.saturating_mul(MB_BYTES);
        Limit {
            max_bytes,
            warn_bytes: (WARN_MB * MB_BYTES).min(max_bytes / 2),
        }
    }

    /// Checks an output of about `estimate_bytes` before it is written: refused (exit 2)
    /// above the maximum, announced above the warning size.
    pub(super) fn check(&self, what: &str, path: &Path, estimate_bytes: u64) -> Result<(), u8> {
        let mb = mb_text(estimate_bytes);
        if estimate_bytes > self.max_bytes {
            eprintln!(
                "{}: {what} {} would be about {mb} MB, above --max-output-mb {}; raise \
                 --max-output-mb to write it, or shorten the run",
                super::program(),
                path.display(),
                self.max_bytes / MB_BYTES
            );
            return Err(EXIT_BAD_INPUT);
        }
        if estimate_bytes > self.warn_bytes {
            eprintln!(
                "{}: warning: {what} {} will be about {mb} MB",
                super::program(),
                path.display()
            );
        }
        Ok(())
    }
}

/// A file written while the run goes, so its size is known only as it grows: it announces
/// itself once past the warning size and fails its writes past the maximum.
pub(super) struct Capped<W: Write> {
    inner: W,
    written_bytes: u64,
    limit: Limit,
    what: String,
    warned: bool,
}

impl<W: Write> Capped<W> {
    pub(super) fn new(inner: W, limit: Limit, what: String) -> Capped<W> {
        Capped {
            inner,
            written_bytes: 0,
            limit,
            what,
            warned: false,
        }
    }
}

impl<W: Write> Write for Capped<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let after = self.written_bytes.saturating_add(buf.len() as u64);
        if after > self.limit.max_bytes {
            return Err(io::Error::other(format!(
                "{} would pass --max-output-mb {}; raise --max-output-mb to write it, or \
                 shorten the run",
                self.what,
                self.limit.max_bytes / MB_BYTES
            )));
        }
        if after > self.limit.warn_bytes && !self.warned {
            self.warned = true;
            eprintln!(
                "{}: warning: {} has passed {} MB and is still growing",
                super::program(),
                self.what,
                mb_text(self.limit.warn_bytes)
            );
        }
        let n = self.inner.write(buf)?;
        self.written_bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
