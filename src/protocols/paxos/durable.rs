//! An acceptor's durable state and its encoding in storage.

use super::{Ballot, HISTORY_MAX, Val};
use crate::storage::ByteReader;
use std::collections::BTreeMap;

/// What an acceptor keeps in storage, synced before it answers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Durable {
    /// The highest ballot promised (or accepted).
    pub promised: Ballot,
    /// The proposal accepted last.
    pub accepted: Option<(Ballot, Val)>,
    /// Every proposal this acceptor ever accepted, by ballot (at most [`HISTORY_MAX`]): the
    /// evidence of which values were chosen, since `accepted` is overwritten.
    pub history: BTreeMap<Ballot, Val>,
    /// The value this node learned as chosen.
    pub learned: Option<Val>,
}

/// Little-endian: promised (round, node), then a tag and (ballot, value) for `accepted`, a
/// tag and value for `learned`, the history's length and its (ballot, value) entries.
pub(super) fn encode(state: &Durable) -> Vec<u8> {
    let mut out = Vec::with_capacity(48 + 16 * state.history.len());
    let ballot = |out: &mut Vec<u8>, b: Ballot| {
        out.extend(b.round.to_le_bytes());
        out.extend(b.node.0.to_le_bytes());
    };
    ballot(&mut out, state.promised);
    match state.accepted {
        Some((b, v)) => {
            out.push(1);
            ballot(&mut out, b);
            out.extend(v.to_le_bytes());
        }
        None => out.push(0),
    }
    match state.learned {
        Some(v) => {
            out.push(1);
            out.extend(v.to_le_bytes());
        }
        None => out.push(0),
    }
    out.extend((state.history.len() as u32).to_le_bytes());
    for (&b, &v) in &state.history {
        ballot(&mut out, b);
        out.extend(v.to_le_bytes());
    }
    out
}

/// Reads what `encode` wrote; `None` for anything else (bad input never panics).
pub fn decode(bytes: &[u8]) -> Option<Durable> {
    let mut r = ByteReader::new(bytes);
    let promised = Ballot::read(&mut r)?;
    let accepted = match r.byte()? {
        1 => Some((Ballot::read(&mut r)?, r.u64()?)),
        _ => None,
    };
    let learned = match r.byte()? {
        1 => Some(r.u64()?),
        _ => None,
    };
    let len = r.u32()? as usize;
    let mut history = BTreeMap::new();
    for _ in 0..len.min(HISTORY_MAX) {
        history.insert(Ballot::read(&mut r)?, r.u64()?);
    }
    Some(Durable {
        promised,
        accepted,
        history,
        learned,
    })
}
