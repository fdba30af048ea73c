//! Vector clocks over a trace: each host's own component counts its events from 1, and a
//! receive takes the component-wise maximum of its host's clock and the sender's, then adds 1.

use super::causality::{Causality, EventIndex};

/// The vector clock of every event of a trace, stored as one row of `hosts` counters per event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VectorClocks {
    hosts: usize,
    cells: Vec<u32>,
}

impl VectorClocks {
    pub fn new(causality: &Causality) -> VectorClocks {
        let hosts = causality.hosts.len();
        let mut cells = vec![0u32; causality.len() * hosts];
        for i in 0..causality.len() {
            let (before, row) = cells.split_at_mut(i * hosts);
            let row = &mut row[..hosts];
            if let Some(p) = causality.local_pred(i) {
                row.copy_from_slice(&before[p * hosts..(p + 1) * hosts]);
            }
            if let Some(s) = causality.remote_pred(i) {
                assert!(s < i, "an event receives only from an earlier one");
                for (mine, theirs) in row.iter_mut().zip(&before[s * hosts..(s + 1) * hosts]) {
                    *mine = (*mine).max(*theirs);
                }
            }
            let own = causality.host_of(i);
            row[own] += 1;
        }
        VectorClocks { hosts, cells }
    }

    /// The clock of event `i`, one counter per host (in [`Causality::hosts`] order).
    pub fn clock(&self, i: EventIndex) -> &[u32] {
        &self.cells[i * self.hosts..(i + 1) * self.hosts]
    }

    /// Whether `a` happened before `b` (`a ≠ b`): `b` knows of `a`'s host at least as far as `a`.
    pub fn happened_before(&self, causality: &Causality, a: EventIndex, b: EventIndex) -> bool {
        let host = causality.host_of(a);
        a != b && self.clock(a)[host] <= self.clock(b)[host]
    }

    pub fn len(&self) -> usize {
        self.cells.len() / self.hosts.max(1)
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::capture::Captured;
    use crate::history::Status;
    use crate::process::NodeId;
    use crate::time::SimTime;
    use crate::trace::{TraceEvent, TraceKind};

    fn trace(kinds: &[(u32, TraceKind)]) -> Vec<Captured> {
        kinds
            .iter()
            .enumerate()
            .map(|(i, &(node, kind))| Captured {
                event: TraceEvent {
                    index: i as u64,
                    time: SimTime(i as u64),
                    node: NodeId(node),
                    kind,
                },
                detail: None,
            })
            .collect()
    }

    fn names() -> Vec<String> {
        vec!["a".into(), "b".into(), "c".into()]
    }

    #[test]
    fn sends_duplicates_and_deliveries_merge_clocks() {
        let events = trace(&[
            (0, TraceKind::Start),
            (
                0,
                TraceKind::Send {
                    to: NodeId(1),
                    msg_id: 0,
                },
            ),
            (
                0,
                TraceKind::Duplicate {
                    to: NodeId(1),
                    msg_id: 0,
                    copy_id: 1,
                },
            ),
            (2, TraceKind::Start),
            (
                1,
                TraceKind::Deliver {
                    from: NodeId(0),
                    msg_id: 1,
                },
            ),
            (
                1,
                TraceKind::Send {
                    to: NodeId(2),
                    msg_id: 2,
                },
            ),
            (
                1,
                TraceKind::Deliver {
                    from: NodeId(0),
                    msg_id: 0,
                },
            ),
            (
                2,
                TraceKind::Deliver {
                    from: NodeId(1),
                    msg_id: 2,
                },
            ),
        ]);
        let causality = Causality::new(&events, &names());
        let clocks = VectorClocks::new(&causality);
        assert_eq!(clocks.clock(2), &[3, 0, 0]);
        // The copy is received from the duplicate event, which knows of the original send.
        assert_eq!(clocks.clock(4), &[3, 1, 0]);
        assert_eq!(clocks.clock(6), &[3, 3, 0]);
        assert_eq!(clocks.clock(7), &[3, 2, 2]);
        assert!(clocks.happened_before(&causality, 1, 7));
        assert!(!clocks.happened_before(&causality, 3, 4), "concurrent");
        assert!(!clocks.happened_before(&causality, 4, 3), "concurrent");
        assert!(
            !clocks.happened_before(&causality, 6, 7),
            "b's later event is not in c's past"
        );
    }

    #[test]
    fn clients_are_hosts_and_ops_chain_through_requests_and_replies() {
        let events = trace(&[
            (0, TraceKind::Invoke { client: 0, seq: 0 }),
            (0, TraceKind::Request { client: 0, seq: 0 }),
            (0, TraceKind::Reply { client: 0, seq: 0 }),
            (1, TraceKind::Request { client: 0, seq: 0 }),
            (1, TraceKind::Reply { client: 0, seq: 0 }),
            (
                1,
                TraceKind::Complete {
                    client: 0,
                    seq: 0,
                    status: Status::Ok,
                },
            ),
            (0, TraceKind::Crash { lost_writes: 1 }),
        ]);
        let causality = Causality::new(&events, &names());
        assert_eq!(causality.hosts, ["a", "b", "c", "c0"]);
        assert_eq!(causality.host_name(0), "c0");
        assert_eq!(causality.host_name(5), "c0");
        let clocks = VectorClocks::new(&causality);
        // A redirected request is received from the reply that redirected it.
        assert_eq!(clocks.clock(3), &[2, 1, 0, 1]);
        assert_eq!(clocks.clock(5), &[2, 2, 0, 2]);
        // The crash is a's own event, after its reply, and knows nothing of b.
        assert_eq!(clocks.clock(6), &[3, 0, 0, 1]);
        assert!(clocks.happened_before(&causality, 0, 6));
        assert!(!clocks.happened_before(&causality, 4, 6));
    }

    #[test]
    fn a_drop_on_arrival_receives_the_send_and_a_drop_at_send_does_not() {
        let events = trace(&[
            (
                0,
                TraceKind::Send {
                    to: NodeId(1),
                    msg_id: 0,
                },
            ),
            (
                0,
                TraceKind::Drop {
                    from: NodeId(0),
                    to: NodeId(1),
                    msg_id: 0,
                    reason: crate::trace::DropReason::Loss,
                },
            ),
            (
                0,
                TraceKind::Send {
                    to: NodeId(1),
                    msg_id: 1,
                },
            ),
            (
                1,
                TraceKind::Drop {
                    from: NodeId(0),
                    to: NodeId(1),
                    msg_id: 1,
                    reason: crate::trace::DropReason::NodeDown,
                },
            ),
        ]);
        let causality = Causality::new(&events, &names());
        assert_eq!(causality.remote_pred(1), None);
        assert_eq!(causality.remote_pred(3), Some(2));
        let clocks = VectorClocks::new(&causality);
        assert_eq!(clocks.clock(3), &[3, 1, 0]);
    }
}
