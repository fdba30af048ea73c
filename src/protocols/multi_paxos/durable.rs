//! What an acceptor and a learner keep in storage, and how it is encoded.
//!
//! One key per slot, so that accepting a value writes a few dozen bytes however long the log
//! grows: `mp/promised` holds the promised ballot, `mp/acc/<slot>` the (ballot, command) the
//! acceptor accepted in that slot, `mp/chosen/<slot>` a command the learner knows is chosen.

use super::{Ballot, Command, SLOTS_MAX};
use crate::storage::ByteReader;
use crate::storage::Storage;
use crate::workload::{ClientOp, RequestId};
use std::collections::BTreeMap;

/// Storage key of the promised ballot.
pub const PROMISED_KEY: &str = "mp/promised";
const ACCEPTED_PREFIX: &str = "mp/acc/";
const CHOSEN_PREFIX: &str = "mp/chosen/";

/// The storage key of what the acceptor accepted in `slot`.
pub fn accepted_key(slot: u64) -> String {
    format!("{ACCEPTED_PREFIX}{slot:x}")
}

/// The storage key of the chosen command of `slot`.
pub fn chosen_key(slot: u64) -> String {
    format!("{CHOSEN_PREFIX}{slot:x}")
}

pub fn encode_ballot(out: &mut Vec<u8>, b: Ballot) {
    out.extend(b.round.to_le_bytes());
    out.extend(b.node.0.to_le_bytes());
}

/// A ballot, then the command: a tag (0 no-op, 1 a client's operation), then the client,
/// the operation's number and the operation as four words.
pub fn encode_entry(ballot: Ballot, command: &Command) -> Vec<u8> {
    let mut out = Vec::with_capacity(49);
    encode_ballot(&mut out, ballot);
    match command {
        Command::Noop => out.push(0),
        Command::Op { id, op } => {
            out.push(1);
            out.extend(id.client.to_le_bytes());
            out.extend(id.seq.to_le_bytes());
            for w in op.to_words() {
                out.extend(w.to_le_bytes());
            }
        }
    }
    out
}

/// Reads what [`encode_entry`] wrote; `None` for anything else (bad bytes never panic).
pub fn decode_entry(bytes: &[u8]) -> Option<(Ballot, Command)> {
    let mut r = ByteReader::new(bytes);
    let ballot = Ballot::read(&mut r)?;
    let command = match r.byte()? {
        0 => Command::Noop,
        1 => {
            let id = RequestId {
                client: r.u32()?,
                seq: r.u32()?,
            };
            let op = ClientOp::from_words([r.u64()?, r.u64()?, r.u64()?, r.u64()?])?;
            Command::Op { id, op }
        }
        _ => return None,
    };
    r.is_empty().then_some((ballot, command))
}

pub fn decode_ballot(bytes: &[u8]) -> Option<Ballot> {
    let mut r = ByteReader::new(bytes);
    let b = Ballot::read(&mut r)?;
    r.is_empty().then_some(b)
}

/// What a restarted node finds in storage.
#[derive(Debug, Default, PartialEq)]
pub struct Recovered {
    pub promised: Ballot,
    pub accepted: BTreeMap<u64, (Ballot, Command)>,
    /// The chosen commands of slots 1, 2, ... up to the first one missing.
    pub chosen: Vec<(Ballot, Command)>,
}

/// Reads the acceptor's promise and accepted slots, and the learner's chosen prefix.
/// Unreadable entries are skipped, as if never written.
pub fn recover(storage: &Storage) -> Recovered {
    let promised = storage
        .get(PROMISED_KEY)
        .and_then(decode_ballot)
        .unwrap_or_default();
    let mut accepted = BTreeMap::new();
    for key in storage.keys() {
        let Some(hex) = key.strip_prefix(ACCEPTED_PREFIX) else {
            continue;
        };
        let slot = u64::from_str_radix(hex, 16)
            .ok()
            .filter(|s| (1..=SLOTS_MAX).contains(s));
        if let Some(slot) = slot
            && let Some(entry) = storage.get(key).and_then(decode_entry)
        {
            accepted.insert(slot, entry);
        }
    }
    let mut chosen = Vec::new();
    for slot in 1..=SLOTS_MAX {
        match storage.get(&chosen_key(slot)).and_then(decode_entry) {
            Some(entry) => chosen.push(entry),
            None => break,
        }
    }
    Recovered {
        promised,
        accepted,
        chosen,
    }
}
