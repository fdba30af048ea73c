//! A node's state in a few words, for the strip the HTML viewer draws under each node's lane.
//!
//! A protocol declares its [`Summary`] with [`crate::Protocol::summary`]: the node's role, a few
//! short fields (a term, a commit index) and the last few entries of its log, each a short
//! label (the entry's term, or its value) with whether it is committed. A `--html` page records
//! a node's summary after each handler that changed it, so a summary must stay small: it holds
//! at most [`FIELDS_MAX`] fields and the last [`LOG_CELLS_MAX`] entries, and longer texts are
//! cut (with `…`) to [`TEXT_CHARS_MAX`] characters, a cell's label to [`LABEL_CHARS_MAX`].
//!
//! ```
//! use faultline::summary::{Cell, Standing, Summary};
//!
//! // A Raft-like node: leader of term 3, with five entries, the first three committed.
//! let terms = [1, 1, 2, 3, 3];
//! let commit = 3;
//! let summary = Summary::new()
//!     .role("leader", Standing::Leader)
//!     .field("term", 3)
//!     .field("commit", commit)
//!     .log(&terms, 1, |index, term| Cell::new(term, index <= commit));
//! assert_eq!(summary.role_name(), Some("leader"));
//! assert_eq!(summary.fields()[1], ("commit", "3".to_string()));
//! assert_eq!((summary.log_first(), summary.log_len()), (1, 5));
//! assert_eq!(summary.log_cells()[3], Cell::new(3, false));
//!
//! // Only the last entries are kept, numbered so that cells line up across nodes.
//! let long: Vec<u64> = (1..=20).collect();
//! let tail = Summary::new().log(&long, 1, |_, term| Cell::new(term, true));
//! assert_eq!(tail.log_cells().len(), faultline::summary::LOG_CELLS_MAX);
//! assert_eq!(tail.log_first(), 13);
//! assert_eq!(tail.log_cells()[0].label, "13");
//! ```

use std::fmt::{self, Write};

/// Most fields a summary holds; fields added past it are left out.
pub const FIELDS_MAX: usize = 4;
/// Most log entries a summary shows: the last ones.
pub const LOG_CELLS_MAX: usize = 8;
/// Most characters of a role's name or a field's value; longer ones are cut, ending in `…`.
pub const TEXT_CHARS_MAX: usize = 16;
/// Most characters of a log cell's label.
pub const LABEL_CHARS_MAX: usize = 6;

/// Where a role stands, which decides its colour in the strip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Standing {
    /// Orders or decides for the others: a leader, a primary, a coordinator.
    Leader,
    /// Trying to become one: a candidate, a proposer preparing a ballot.
    Candidate,
    /// Everyone else: a follower, a backup, a participant.
    Follower,
}

impl Standing {
    /// The word the page stores.
    pub fn name(self) -> &'static str {
        match self {
            Standing::Leader => "leader",
            Standing::Candidate => "candidate",
            Standing::Follower => "follower",
        }
    }
}

/// One log entry as the strip shows it: a short label and whether it is committed (or
/// chosen, or durable: whatever makes it final in the protocol).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Cell {
    pub label: String,
    pub committed: bool,
}

impl Cell {
    /// A cell labelled with `label` (cut to [`LABEL_CHARS_MAX`] characters).
    pub fn new(label: impl fmt::Display, committed: bool) -> Cell {
        Cell {
            label: short(label, LABEL_CHARS_MAX),
            committed,
        }
    }
}

/// A node's state in a few words: role, fields and the tail of its log. See the module docs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Summary {
    role: Option<(&'static str, Standing)>,
    fields: Vec<(&'static str, String)>,
    log_first: u64,
    log_len: u64,
    log: Vec<Cell>,
}

impl Summary {
    /// The summary as the page and trace files store it: `r` and `s` (role and standing, if
    /// any), `f` (fields as `[name, value]` pairs), and with a log `l0` (first shown index),
    /// `ln` (length) and `l` (cells as `[label, committed 0 or 1]`).
    pub fn to_json(&self) -> serde_json::Map<String, serde_json::Value> {
        use serde_json::{Value, json};
        let mut r = serde_json::Map::new();
        if let (Some(role), Some(standing)) = (self.role_name(), self.standing()) {
            r.insert("r".into(), role.into());
            r.insert("s".into(), standing.name().into());
        }
        let fields = self.fields().iter().map(|(k, v)| json!([k, v]));
        r.insert("f".into(), Value::Array(fields.collect()));
        if self.log_len() > 0 || !self.log_cells().is_empty() {
            r.insert("l0".into(), self.log_first().into());
            r.insert("ln".into(), self.log_len().into());
            let cells = self.log_cells().iter();
            let cells = cells.map(|c| json!([c.label, u8::from(c.committed)]));
            r.insert("l".into(), Value::Array(cells.collect()));
        }
        r
    }

    /// An empty summary: no role, no fields, no log.
    pub fn new() -> Summary {
        Summary::default()
    }

    /// What a protocol that declares no summary shows: one field, `state`, four hex digits of
    /// the node's stable hash, so the strip marks every handler that changed the node's state.
    /// It costs one hash of the node per handler, and only while a page is being recorded.
    pub fn digest<T: std::hash::Hash + ?Sized>(node: &T) -> Summary {
        let hash = crate::trace::stable_hash(node);
        Summary::new().field("state", format_args!("{:04x}", hash >> 48))
    }

    /// Sets the node's role: its name and where it stands.
    pub fn role(mut self, name: &'static str, standing: Standing) -> Summary {
        self.role = Some((name, standing));
        self
    }

    /// Adds field `name` with `value` (cut to [`TEXT_CHARS_MAX`] characters); left out once
    /// the summary has [`FIELDS_MAX`] fields.
    pub fn field(mut self, name: &'static str, value: impl fmt::Display) -> Summary {
        if self.fields.len() < FIELDS_MAX {
            self.fields.push((name, short(value, TEXT_CHARS_MAX)));
        }
        self
    }

    /// Sets the log: `entries` numbered from `index_first` (1 for a log numbered from 1), of
    /// which the last [`LOG_CELLS_MAX`] become cells through `cell(index, entry)`.
    pub fn log<T>(
        mut self,
        entries: &[T],
        index_first: u64,
        cell: impl Fn(u64, &T) -> Cell,
    ) -> Summary {
        let skip = entries.len().saturating_sub(LOG_CELLS_MAX);
        self.log_first = index_first + skip as u64;
        self.log_len = entries.len() as u64;
        self.log = entries[skip..]
            .iter()
            .zip(self.log_first..)
            .map(|(entry, index)| cell(index, entry))
            .collect();
        self
    }

    /// Sets the log from its last cells when it is not a slice: `len` entries in all, the
    /// cells given numbered from `index_first`; only the last [`LOG_CELLS_MAX`] are kept.
    pub fn log_tail(mut self, len: u64, index_first: u64, cells: Vec<Cell>) -> Summary {
        let skip = cells.len().saturating_sub(LOG_CELLS_MAX);
        self.log_first = index_first + skip as u64;
        self.log_len = len;
        self.log = cells;
        self.log.drain(..skip);
        self
    }

    /// The role's name, if the summary has a role.
    pub fn role_name(&self) -> Option<&'static str> {
        self.role.map(|(name, _)| name)
    }

    /// Where the role stands, if the summary has a role.
    pub fn standing(&self) -> Option<Standing> {
        self.role.map(|(_, standing)| standing)
    }

    /// The fields, in the order they were added.
    pub fn fields(&self) -> &[(&'static str, String)] {
        &self.fields
    }

    /// The index of the first cell in [`Summary::log_cells`].
    pub fn log_first(&self) -> u64 {
        self.log_first
    }

    /// How many entries the whole log holds.
    pub fn log_len(&self) -> u64 {
        self.log_len
    }

    /// The last few entries of the log, numbered from [`Summary::log_first`].
    pub fn log_cells(&self) -> &[Cell] {
        &self.log
    }
}

/// `value` rendered, cut to `chars_max` characters (the last one then `…`).
fn short(value: impl fmt::Display, chars_max: usize) -> String {
    let mut text = String::new();
    let _ = write!(text, "{value}");
    if let Some((cut, _)) = text.char_indices().nth(chars_max) {
        let keep = text[..cut].char_indices().last().map_or(0, |(at, _)| at);
        text.truncate(keep);
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_cut_and_fields_bounded() {
        let mut s = Summary::new();
        for name in ["a", "b", "c", "d", "e", "f"] {
            s = s.field(name, "x".repeat(40));
        }
        assert_eq!(s.fields().len(), FIELDS_MAX);
        assert_eq!(s.fields()[0].1.chars().count(), TEXT_CHARS_MAX);
        assert!(s.fields()[0].1.ends_with('…'));
        assert_eq!(Cell::new("ééééééééé", true).label, "ééééé…");
        assert_eq!(Cell::new("abc", true).label, "abc");
    }

    #[test]
    fn log_keeps_the_last_cells_numbered() {
        let cells: Vec<Cell> = (0..11).map(|i| Cell::new(i, false)).collect();
        let s = Summary::new().log_tail(30, 20, cells);
        assert_eq!((s.log_first(), s.log_len()), (23, 30));
        assert_eq!(s.log_cells().len(), LOG_CELLS_MAX);
        assert_eq!(s.log_cells()[0].label, "3");
        let empty: [u8; 0] = [];
        let s = Summary::new().log(&empty, 1, |_, _| Cell::new("", false));
        assert_eq!((s.log_first(), s.log_len(), s.log_cells().len()), (1, 0, 0));
    }

    #[test]
    fn digest_marks_a_change() {
        let a = Summary::digest(&(1u64, "x"));
        assert_eq!(a, Summary::digest(&(1u64, "x")));
        assert_ne!(a, Summary::digest(&(2u64, "x")));
        assert_eq!(a.fields()[0].0, "state");
        assert_eq!(a.fields()[0].1.len(), 4);
    }
}
