//! Node states for the page, stored as changes: a handler usually changes a few fields of a
//! state that prints as kilobytes, so each state is kept as what differs from the node's state
//! before it (the stretches that differ, and what replaces them), with the whole text every
//! [`STATE_KEYFRAME_EVERY`] states of a node so that the page rebuilds any state from a few
//! steps. A page of a long run holds megabytes of states instead of gigabytes.
//!
//! Each handler event's states become one record after the events:
//! `{"kind":"state","e":I,"node":"n1","b":D,"a":D}`, where `e` is the event's trace index and
//! each `D` is either the whole text (a string) or hunks against the node's previous text,
//! `[keep, drop, "put", keep, drop, "put", ...]`: keep `keep` characters of the previous text
//! (UTF-16 code units, as JavaScript counts), skip `drop` more, write `put`; then the rest of
//! the previous text. The node's texts run before, after, before, after... through its
//! handler events.

use super::fields::{self, Cut};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Every this many texts of a node, one is stored whole.
pub const STATE_KEYFRAME_EVERY: u32 = 32;

/// Most bytes of state text a page stores (whole or changed); past it, later states are left
/// out and the page says from which event.
pub const STATE_BYTES_MAX: u64 = 64 << 20;

/// One node's chain of texts so far.
#[derive(Default)]
struct Chain {
    last: String,
    /// Where `last`'s outer fields end.
    cuts: Vec<Cut>,
    count: u32,
}

/// Turns each handler's states into a record of changes.
#[derive(Default)]
pub struct StateDeltas {
    chains: BTreeMap<String, Chain>,
    bytes: u64,
    /// The first event whose states were left out for the cap, if any.
    pub capped_at: Option<u64>,
}

impl StateDeltas {
    /// The record of event `index`'s states at `node`, or `None` once the cap is reached.
    pub fn record(&mut self, index: u64, node: &str, before: &str, after: &str) -> Option<Value> {
        if self.capped_at.is_some() {
            return None;
        }
        let chain = self.chains.entry(node.to_string()).or_default();
        let b = step(chain, before);
        let a = step(chain, after);
        self.bytes += (text_bytes(&b) + text_bytes(&a)) as u64;
        if self.bytes > STATE_BYTES_MAX {
            self.capped_at = Some(index);
            return None;
        }
        Some(json!({ "kind": "state", "e": index, "node": node, "b": b, "a": a }))
    }

    /// The page's note about the cap, if it was reached.
    pub fn cap_record(&self) -> Option<Value> {
        self.capped_at.map(|at| {
            json!({
                "kind": "states_capped",
                "e": at,
                "bytes_max": STATE_BYTES_MAX,
            })
        })
    }
}

/// `text` as the next in `chain`: whole every [`STATE_KEYFRAME_EVERY`] texts, else the change.
fn step(chain: &mut Chain, text: &str) -> Value {
    let whole = chain.count.is_multiple_of(STATE_KEYFRAME_EVERY);
    chain.count += 1;
    if text == chain.last {
        // Most often: a handler's state before is what the node's last one left.
        return match whole {
            true => Value::String(text.to_string()),
            false => Value::Array(Vec::new()),
        };
    }
    let cuts = fields::cuts_after_change(&chain.last, &chain.cuts, text);
    let value = match whole {
        true => Value::String(text.to_string()),
        false => Value::Array(change(&chain.last, &chain.cuts, text, &cuts)),
    };
    text.clone_into(&mut chain.last);
    chain.cuts = cuts;
    value
}

fn text_bytes(v: &Value) -> usize {
    match v {
        Value::String(s) => s.len(),
        Value::Array(hunks) => hunks.iter().map(|h| h.as_str().map_or(8, str::len)).sum(),
        _ => 0,
    }
}

/// `new` as hunks against `old`: for each, how much of `old` is kept, how much of it is
/// dropped after that (both in UTF-16 units, as JavaScript counts), and the text put in its
/// place; the rest of `old` is kept. The texts are diffed by their outer fields (a `Debug`
/// struct's fields, a list's items), and a field that changed by what differs between its
/// common ends: a handler's few changes to a long state, a counter here and an entry
/// appended there, make a few short hunks.
fn change(old: &str, old_cuts: &[Cut], new: &str, new_cuts: &[Cut]) -> Vec<Value> {
    let (a, b) = (fields::pieces(old, old_cuts), fields::pieces(new, new_cuts));
    let mut hunks = Hunks::default();
    for op in similar::capture_diff_slices(similar::Algorithm::Myers, &a, &b) {
        let (tag, old_range, new_range) = op.as_tag_tuple();
        let (olds, news) = (&a[old_range], &b[new_range]);
        if tag == similar::DiffTag::Equal {
            olds.iter().for_each(|t| hunks.keep(t));
        } else if olds.len() == news.len() {
            // Fields changed in place: each against its own former self.
            olds.iter()
                .zip(news)
                .for_each(|(o, n)| field(&mut hunks, o, n));
        } else {
            field(&mut hunks, &olds.concat(), &news.concat());
        }
    }
    hunks.finish()
}

/// Adds the hunks of field `new` against its former self `old`: their common ends kept, and
/// what lies between diffed finely when it is long.
fn field(hunks: &mut Hunks, old: &str, new: &str) {
    let (prefix, suffix) = common_ends(old, new);
    hunks.keep(&old[..prefix]);
    let (o_mid, n_mid) = (
        &old[prefix..old.len() - suffix],
        &new[prefix..new.len() - suffix],
    );
    if o_mid.len().min(n_mid.len()) > FINE_BYTES_MIN {
        fine(hunks, o_mid, n_mid);
    } else {
        hunks.replace(o_mid, n_mid);
    }
    hunks.keep(&old[old.len() - suffix..]);
}

/// A changed field whose differing stretch is longer than this is diffed again, finely.
const FINE_BYTES_MIN: usize = 256;

/// Adds the hunks of `new` against `old`, token by token (words, numbers, single marks).
fn fine(hunks: &mut Hunks, old: &str, new: &str) {
    let (a, b) = (tokens(old), tokens(new));
    for op in similar::capture_diff_slices(similar::Algorithm::Myers, &a, &b) {
        let (tag, old_range, new_range) = op.as_tag_tuple();
        if tag == similar::DiffTag::Equal {
            a[old_range].iter().for_each(|t| hunks.keep(t));
        } else {
            hunks.replace(&a[old_range].concat(), &b[new_range].concat());
        }
    }
}

/// `text` cut into runs of letters (with `_`), runs of digits, and single other characters.
fn tokens(text: &str) -> Vec<&str> {
    let class = |c: char| match c {
        _ if c.is_ascii_digit() => 1,
        _ if c.is_alphanumeric() || c == '_' => 2,
        _ => 0,
    };
    let mut out = Vec::new();
    let (mut start, mut last) = (0, None);
    for (i, c) in text.char_indices() {
        let k = class(c);
        // A new token where the class changes, and at every other character.
        if i > start && (k == 0 || Some(k) != last) {
            out.push(&text[start..i]);
            start = i;
        }
        last = Some(k);
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// Hunks as they are built: text kept, then text replaced.
#[derive(Default)]
struct Hunks {
    out: Vec<Value>,
    keep: usize,
    drop: usize,
    put: String,
}

impl Hunks {
    fn keep(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        if self.drop > 0 || !self.put.is_empty() {
            self.flush();
        }
        self.keep += utf16_units(text);
    }

    fn replace(&mut self, old: &str, new: &str) {
        self.drop += utf16_units(old);
        self.put.push_str(new);
    }

    fn flush(&mut self) {
        let put = std::mem::take(&mut self.put);
        self.out
            .extend([json!(self.keep), json!(self.drop), json!(put)]);
        (self.keep, self.drop) = (0, 0);
    }

    fn finish(mut self) -> Vec<Value> {
        if self.drop > 0 || !self.put.is_empty() {
            self.flush();
        }
        self.out
    }
}

/// How many bytes `a` and `b` share at their start and, apart from that, at their end, both
/// cut at character boundaries.
fn common_ends(a: &str, b: &str) -> (usize, usize) {
    let mut prefix = fields::common_prefix(a.as_bytes(), b.as_bytes());
    while !a.is_char_boundary(prefix) {
        prefix -= 1;
    }
    let room = a.len().min(b.len()) - prefix;
    let mut suffix = fields::common_suffix(a.as_bytes(), b.as_bytes()).min(room);
    while !a.is_char_boundary(a.len() - suffix) || !b.is_char_boundary(b.len() - suffix) {
        suffix -= 1;
    }
    (prefix, suffix)
}

/// The length of `text` in UTF-16 units, as JavaScript counts it: its bytes if it is ASCII.
fn utf16_units(text: &str) -> usize {
    if text.is_ascii() {
        text.len()
    } else {
        text.encode_utf16().count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(old: &str, new: &str) -> Vec<Value> {
        super::change(old, &fields::cuts(old), new, &fields::cuts(new))
    }

    /// Rebuilds `new` from `old` and its hunks, counting as JavaScript does.
    fn apply(old: &str, hunks: &[Value]) -> String {
        let units: Vec<u16> = old.encode_utf16().collect();
        let (mut at, mut out) = (0, Vec::new());
        for h in hunks.chunks(3) {
            let (keep, drop) = (
                h[0].as_u64().unwrap() as usize,
                h[1].as_u64().unwrap() as usize,
            );
            out.extend_from_slice(&units[at..at + keep]);
            out.extend(h[2].as_str().unwrap().encode_utf16());
            at += keep + drop;
        }
        out.extend_from_slice(&units[at..]);
        String::from_utf16(&out).unwrap()
    }

    #[test]
    fn a_change_rebuilds_the_new_text_from_the_old() {
        let cases = [
            (
                "Node { term: 3, log: [a, b] }",
                "Node { term: 4, log: [a, b, c] }",
            ),
            ("same", "same"),
            ("", "grown"),
            ("shrunk", ""),
            ("aaaa", "aa"),
            ("é→x", "é→y"),
            ("x→é", "y→é"),
            ("𝄞 a 𝄞", "𝄞 b 𝄞"),
        ];
        for (old, new) in cases {
            let c = change(old, new);
            assert_eq!(apply(old, &c), new, "{old:?} → {new:?}: {c:?}");
        }
        // Two changes far apart make two short hunks, not one long middle.
        let old = format!("Node {{ term: 3, {} commit: 7 }}", "x, ".repeat(1000));
        let new = format!("Node {{ term: 4, {} commit: 8 }}", "x, ".repeat(1000));
        let c = change(&old, &new);
        assert_eq!(apply(&old, &c), new);
        assert_eq!(c.len(), 6, "{c:?}");
        assert!(
            c.iter().filter_map(Value::as_str).all(|put| put.len() < 20),
            "{c:?}"
        );
    }

    #[test]
    fn states_are_whole_every_keyframe_and_changes_between() {
        let mut d = StateDeltas::default();
        let big = "x".repeat(10_000);
        let mut sizes = Vec::new();
        for i in 0..40 {
            let (before, after) = (format!("{big}{i}"), format!("{big}{}", i + 1));
            let r = d.record(i, "n1", &before, &after).unwrap();
            sizes.push(r.to_string().len());
            assert_eq!(r["e"], i);
        }
        // Texts 0, 32 and 64 are whole (events 0, 16 and 32), the others a few bytes.
        assert!([0, 16, 32].iter().all(|&i| sizes[i] > 10_000), "{sizes:?}");
        assert_eq!(sizes.iter().filter(|&&s| s < 200).count(), 37, "{sizes:?}");
    }

    #[test]
    fn past_the_cap_states_are_left_out_and_the_page_says_from_where() {
        let mut d = StateDeltas::default();
        let huge = "y".repeat((STATE_BYTES_MAX / 2) as usize);
        assert!(d.record(0, "n1", &huge, "").is_some());
        assert!(d.record(1, "n2", &huge, "").is_none());
        assert!(d.record(2, "n2", "a", "b").is_none());
        assert_eq!(d.capped_at, Some(1));
        assert_eq!(d.cap_record().unwrap()["e"], 1);
    }
}
