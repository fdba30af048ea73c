//! Node summaries for the page's state strip ([`crate::Summary`]), recorded only where they
//! change: a node's summary after a handler becomes a record when it differs from the node's
//! summary after its last handler. Records come after the events, in the order they were made:
//!
//! `{"kind":"summary","e":I,"node":"n1","r":"leader","s":"leader","f":[["term","3"]],
//! "l0":1,"ln":5,"l":[["1",1],["3",0]]}`
//!
//! where `e` is the handler's trace index, `r` the role's name and `s` where it stands (both
//! absent without a role), `f` the fields, `l0` the index of the first cell shown, `ln` the
//! log's length, and `l` the cells: label, and 1 if committed (`l0`, `ln`, `l` absent without
//! a log). A page holds at most [`SUMMARY_BYTES_MAX`] bytes of them; past that, a
//! `{"kind":"summaries_capped","e":I,"bytes_max":B}` record says from which event on they are
//! left out.

use crate::ids::NodeId;
use crate::summary::Summary;
use serde_json::{Value, json};

/// Most bytes of summary records a page stores.
pub const SUMMARY_BYTES_MAX: u64 = 16 << 20;

/// Turns each handler's summary into a record when it changed.
#[derive(Default)]
pub struct SummaryRecords {
    /// Each node's last summary, by node id.
    last: Vec<Option<Summary>>,
    records: Vec<String>,
    bytes: u64,
    /// The first event whose summary was left out for the cap, if any.
    capped_at: Option<u64>,
}

impl SummaryRecords {
    /// Takes node `node`'s (named `name`) summary after event `index`'s handler: a record if
    /// it changed since the node's last one and the cap is not reached.
    pub fn take(&mut self, index: u64, node: NodeId, name: &str, summary: &Summary) {
        if self.capped_at.is_some() {
            return;
        }
        if self.last.len() <= node.index() {
            self.last.resize(node.index() + 1, None);
        }
        let last = &mut self.last[node.index()];
        if last.as_ref() == Some(summary) {
            return;
        }
        let record = record(index, name, summary).to_string();
        self.bytes += record.len() as u64;
        if self.bytes > SUMMARY_BYTES_MAX {
            self.capped_at = Some(index);
            return;
        }
        *last = Some(summary.clone());
        self.records.push(record);
    }

    /// The records so far, and the note about the cap if it was reached.
    pub fn records(&self) -> impl Iterator<Item = String> + '_ {
        let cap = self.capped_at.map(|at| {
            json!({ "kind": "summaries_capped", "e": at, "bytes_max": SUMMARY_BYTES_MAX })
                .to_string()
        });
        self.records.iter().cloned().chain(cap)
    }
}

/// The record of `summary` after event `index` at node `name`.
pub(super) fn record(index: u64, name: &str, summary: &Summary) -> Value {
    let mut r = summary.to_json();
    r.insert("kind".into(), "summary".into());
    r.insert("e".into(), index.into());
    r.insert("node".into(), name.into());
    Value::Object(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::{Cell, Standing};

    fn raft_like(term: u64, log: &[u64], commit: u64) -> Summary {
        Summary::new()
            .role("leader", Standing::Leader)
            .field("term", term)
            .log(log, 1, |i, t| Cell::new(t, i <= commit))
    }

    fn parsed(records: &SummaryRecords) -> Vec<Value> {
        records
            .records()
            .map(|r| serde_json::from_str(&r).unwrap())
            .collect()
    }

    #[test]
    fn only_changes_are_recorded_per_node() {
        let mut records = SummaryRecords::default();
        let a = raft_like(1, &[1], 0);
        records.take(0, NodeId(0), "n1", &a);
        records.take(1, NodeId(1), "n2", &a);
        records.take(2, NodeId(0), "n1", &a);
        records.take(3, NodeId(0), "n1", &raft_like(1, &[1], 1));
        records.take(4, NodeId(1), "n2", &a);
        records.take(5, NodeId(0), "n1", &raft_like(1, &[1], 1));
        let got = parsed(&records);
        let at: Vec<(u64, &str)> = got
            .iter()
            .map(|r| (r["e"].as_u64().unwrap(), r["node"].as_str().unwrap()))
            .collect();
        assert_eq!(at, [(0, "n1"), (1, "n2"), (3, "n1")]);
        assert_eq!(
            got[2],
            json!({"kind": "summary", "e": 3, "node": "n1", "r": "leader", "s": "leader",
                   "f": [["term", "1"]], "l0": 1, "ln": 1, "l": [["1", 1]]})
        );
    }

    #[test]
    fn no_role_and_no_log_leave_their_keys_out() {
        let mut records = SummaryRecords::default();
        records.take(7, NodeId(2), "n3", &Summary::new().field("x", 1));
        assert_eq!(
            parsed(&records)[0],
            json!({"kind": "summary", "e": 7, "node": "n3", "f": [["x", "1"]]})
        );
    }

    #[test]
    fn records_are_bounded_with_a_note() {
        let mut records = SummaryRecords::default();
        let log: Vec<u64> = (0..100).collect();
        let mut index = 0;
        while records.capped_at.is_none() {
            records.take(index, NodeId(0), "n1", &raft_like(index, &log, index));
            index += 1;
        }
        assert!(records.bytes <= SUMMARY_BYTES_MAX + 1024);
        let stored: u64 = records.records.iter().map(|r| r.len() as u64).sum();
        assert!(stored <= SUMMARY_BYTES_MAX);
        let capped_at = index - 1;
        records.take(index, NodeId(1), "n2", &raft_like(0, &[], 0));
        let all = parsed(&records);
        assert_eq!(all.len(), capped_at as usize + 1);
        assert_eq!(
            all.last().unwrap(),
            &json!({"kind": "summaries_capped", "e": capped_at, "bytes_max": SUMMARY_BYTES_MAX})
        );
    }
}
