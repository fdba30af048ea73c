//! Real-time edges: T1 → T2 when T1 completed before T2 was invoked.
//!
//! All such pairs would be quadratic in the history's length. Only the transitive reduction is
//! needed for cycles (a path of real-time edges says the same as one edge), so events are read in
//! history order while keeping the *frontier*: the completed transactions that no other
//! completed transaction follows in real time. An invocation gets an edge from each frontier
//! member; a completion removes from the frontier the members its transaction got edges from
//! (they now precede it) and joins it. The frontier's members all overlap in time, so it is
//! never larger than the history's concurrency, and the edges number at most that many per
//! transaction.
//!
//! Failed transactions did not happen and take no part; indeterminate ones get edges in (they
//! were invoked) but none out (they never completed).

use super::graph::EdgeList;
use super::txn::Txns;
use crate::history::{History, Status};

/// Adds the real-time edges between the transactions of `txns` to `edges`.
pub fn add_edges(history: &History, txns: &Txns, edges: &mut EdgeList) {
    // (event position, is a completion, transaction)
    let mut events: Vec<(usize, bool, u32)> = Vec::with_capacity(2 * txns.txns.len());
    for (t, txn) in txns.txns.iter().enumerate() {
        if txn.status == Status::Fail {
            continue;
        }
        let op = &history.ops[txn.op];
        let t = u32::try_from(t).unwrap_or(u32::MAX);
        events.push((op.invoke_index, false, t));
        if let (Status::Ok, Some(done)) = (txn.status, op.return_index) {
            events.push((done, true, t));
        }
    }
    events.sort_unstable();
    let mut frontier: Vec<u32> = Vec::new();
    // Per transaction, the frontier it saw when invoked: its real-time predecessors.
    let mut preds: Vec<Vec<u32>> = vec![Vec::new(); txns.txns.len()];
    for (_, completion, t) in events {
        if completion {
            let before = std::mem::take(&mut preds[t as usize]);
            frontier.retain(|f| !before.contains(f));
            frontier.push(t);
        } else {
            for &f in &frontier {
                edges.add_rt(f, t);
            }
            preds[t as usize].clone_from(&frontier);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{self, Format};
    use crate::isolation::{TxnModel, txn};

    fn rt_edges(text: &str) -> Vec<(u32, u32)> {
        let h = history::parse("t.edn", text, Some(Format::Edn)).unwrap();
        let txns = txn::read("t.edn", &h, TxnModel::ListAppend).unwrap();
        let mut edges = EdgeList::default();
        add_edges(&h, &txns, &mut edges);
        let mut out: Vec<(u32, u32)> = edges.edges.iter().map(|e| (e.from, e.to)).collect();
        out.sort_unstable();
        out
    }

    fn inv(p: u32) -> String {
        format!("{{:process {p} :type :invoke :f :txn :value [[:append 1 {p}]]}}\n")
    }

    fn ok(p: u32) -> String {
        format!("{{:process {p} :type :ok :f :txn :value [[:append 1 {p}]]}}\n")
    }

    #[test]
    fn a_sequence_gives_a_chain_not_all_pairs() {
        let text: String = (0..4).map(|p| inv(p) + &ok(p)).collect();
        assert_eq!(rt_edges(&text), [(0, 1), (1, 2), (2, 3)]);
    }

    #[test]
    fn concurrent_transactions_get_no_edge_between_them() {
        // 0 and 1 overlap; both precede 2, which precedes 3.
        let text = [inv(0), inv(1), ok(0), ok(1), inv(2), ok(2), inv(3)].concat();
        assert_eq!(rt_edges(&text), [(0, 2), (1, 2), (2, 3)]);
        // Transactions are numbered by invocation: process 2's is T1, process 1's is T2.
        // T0 completes, T2 is invoked (T0 → T2); T1 was invoked before T0 completed and gets
        // no edge; T1 completes: T0 is not before it, so both stay in the frontier until T2
        // completes and replaces T0. T3 follows T1 and T2 (and T0 through T2).
        let text = [inv(0), inv(2), ok(0), inv(1), ok(2), ok(1), inv(3)].concat();
        assert_eq!(rt_edges(&text), [(0, 2), (1, 3), (2, 3)]);
    }

    #[test]
    fn failed_and_indeterminate_transactions() {
        let text = format!(
            "{}{{:process 0 :type :fail :f :txn :value [[:append 1 0]]}}\n{}{}{}",
            inv(0),
            inv(1),
            "{:process 1 :type :info :f :txn :value [[:append 1 1]]}\n",
            inv(2) + &ok(2)
        );
        // 0 failed: no edges; 1 is indeterminate: no edge out of it.
        assert_eq!(rt_edges(&text), []);
    }
}
