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
            if let Some(p) = causality.local_pred[i] {
                row.copy_from_slice(&before[p * hosts..(p + 1) * hosts]);
            }
            if let Some(s) = causality.remote_pred[i] {
                assert!(s < i, "an event receives only from an earlier one");
                for (mine, theirs) in row.iter_mut().zip(&before[s * hosts..(s + 1) * hosts]) {
                    *mine = (*mine).max(*theirs);
                }
            }
            let own = causality.host_of[i] as usize;
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
        let host = causality.host_of[a] as usize;
        a != b && self.clock(a)[host] <= self.clock(b)[host]
    }

    pub fn len(&self) -> usize {
        self.cells.len() / self.hosts.max(1)
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }
}
