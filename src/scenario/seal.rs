//! Sealed bug variants, for "find the bug" exercises: a scenario can name its bug as
//! `bug: { sealed: "..." }`, which runs like the named bug but keeps its name out of the file
//! and out of every report, so that a student has to name it from what the run shows.
//!
//! Sealing hides the name from a reader, not from a determined one: the text is the name
//! mixed with a stream keyed by the protocol's name, and `faultline` itself unseals it. It is
//! a blindfold for coursework, not a secret.
//!
//! ```
//! use faultline::scenario::seal::{seal, unseal};
//! let sealed = seal("my-protocol", "forgets-acks");
//! assert_eq!(unseal("my-protocol", &sealed).as_deref(), Some("forgets-acks"));
//! assert_ne!(unseal("other-protocol", &sealed).as_deref(), Some("forgets-acks"));
//! assert!(!sealed.contains("acks"));
//! ```

use crate::rng::keyed;
use rand::Rng;

/// Mixed into every sealing key: sealed names are faultline's own.
const SEAL_KEY: u64 = 0x6661_756c_746c_696e;
/// Longest name a sealed text holds.
const SEALED_NAME_BYTES_MAX: usize = 64;

/// What reports print in place of a sealed bug's name.
pub const SEALED_WORD: &str = "sealed";

/// `bug` of `protocol`, sealed: lowercase hexadecimal.
pub fn seal(protocol: &str, bug: &str) -> String {
    let stream = keystream(protocol, bug.len());
    bug.bytes()
        .zip(stream)
        .map(|(b, k)| format!("{:02x}", b ^ k))
        .collect()
}

/// The bug name `sealed` holds for `protocol`, or `None` if it is not a sealed name (wrong
/// length, not hexadecimal, or not text once unsealed).
pub fn unseal(protocol: &str, sealed: &str) -> Option<String> {
    let len = sealed.len() / 2;
    if !sealed.len().is_multiple_of(2) || len == 0 || len > SEALED_NAME_BYTES_MAX {
        return None;
    }
    let stream = keystream(protocol, len);
    let bytes: Option<Vec<u8>> = (0..len)
        .zip(stream)
        .map(|(i, k)| {
            let pair = sealed.get(2 * i..2 * i + 2)?;
            u8::from_str_radix(pair, 16).ok().map(|b| b ^ k)
        })
        .collect();
    let name = String::from_utf8(bytes?).ok()?;
    name.bytes().all(|b| b.is_ascii_graphic()).then_some(name)
}

fn keystream(protocol: &str, len: usize) -> Vec<u8> {
    // FNV-1a: a hash of the protocol's name that never changes between builds.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in protocol.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut rng = keyed(SEAL_KEY, [h]);
    let mut stream = vec![0u8; len];
    rng.fill_bytes(&mut stream);
    stream
}
