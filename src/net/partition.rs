//! Which directed links are cut: symmetric partition groups, isolated nodes and one-way cuts.

use crate::ids::NodeId;
use std::collections::BTreeSet;

/// Group 0 means "not in any partition": such a node reaches everyone not isolated.
const UNGROUPED: u32 = 0;

/// The cut links of the network.
#[derive(Clone, Debug)]
pub struct Partitions {
    group: Vec<u32>,
    isolated: Vec<bool>,
    cuts: BTreeSet<(NodeId, NodeId)>,
    /// Fast path: false when nothing is cut at all.
    active: bool,
}

impl Partitions {
    pub fn new(node_count: u32) -> Partitions {
        Partitions {
            group: vec![UNGROUPED; node_count as usize],
            isolated: vec![false; node_count as usize],
            cuts: BTreeSet::new(),
            active: false,
        }
    }

    /// Whether a message from `from` to `to` is cut off.
    #[inline(always)]
    pub fn blocks(&self, from: NodeId, to: NodeId) -> bool {
        self.active && from != to && self.blocks_active(from, to)
    }

    /// [`Partitions::blocks`] when something is cut.
    #[inline(never)]
    fn blocks_active(&self, from: NodeId, to: NodeId) -> bool {
        let (gf, gt) = (self.group[from.index()], self.group[to.index()]);
        (gf != UNGROUPED && gt != UNGROUPED && gf != gt)
            || self.isolated[from.index()]
            || self.isolated[to.index()]
            || (!self.cuts.is_empty() && self.cuts.contains(&(from, to)))
    }

    /// Splits the nodes into groups that cannot reach each other. Nodes in no group form one
    /// more group of their own. Replaces any earlier grouping.
    pub fn partition(&mut self, groups: &[Vec<NodeId>]) {
        self.group.fill(UNGROUPED);
        let rest = groups.len() as u32 + 1;
        for (i, members) in groups.iter().enumerate() {
            for n in members {
                self.group[n.index()] = i as u32 + 1;
            }
        }
        let listed = groups.iter().map(Vec::len).sum::<usize>();
        if listed < self.group.len() {
            for g in self.group.iter_mut().filter(|g| **g == UNGROUPED) {
                *g = rest;
            }
        }
        self.refresh();
    }

    /// Cuts `node` off from every other node, both ways.
    pub fn isolate(&mut self, node: NodeId) {
        self.isolated[node.index()] = true;
        self.active = true;
    }

    /// Cuts the directed link `from → to` only.
    pub fn cut(&mut self, from: NodeId, to: NodeId) {
        self.cuts.insert((from, to));
        self.active = true;
    }

    pub fn heal_all(&mut self) {
        self.group.fill(UNGROUPED);
        self.isolated.fill(false);
        self.cuts.clear();
        self.active = false;
    }

    /// Reconnects `node`: out of its group, no longer isolated, no cuts to or from it.
    pub fn heal_node(&mut self, node: NodeId) {
        self.group[node.index()] = UNGROUPED;
        self.isolated[node.index()] = false;
        self.cuts.retain(|&(a, b)| a != node && b != node);
        self.refresh();
    }

    fn refresh(&mut self) {
        let first = self.group.iter().copied().find(|&g| g != UNGROUPED);
        let split = first.is_some_and(|f| self.group.iter().any(|&g| g != UNGROUPED && g != f));
        self.active = split || self.isolated.iter().any(|&b| b) || !self.cuts.is_empty();
    }

    /// Whether anything is cut right now.
    pub fn is_active(&self) -> bool {
        self.active
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(i: u32) -> NodeId {
        NodeId(i)
    }

    #[test]
    fn groups_block_across_but_not_within() {
        let mut p = Partitions::new(5);
        p.partition(&[vec![n(0), n(1)], vec![n(2), n(3)]]);
        assert!(!p.blocks(n(0), n(1)));
        assert!(p.blocks(n(0), n(2)) && p.blocks(n(2), n(0)));
        // n4 was in no group: it forms its own.
        assert!(p.blocks(n(4), n(0)) && p.blocks(n(3), n(4)));
        p.heal_node(n(4));
        assert!(!p.blocks(n(4), n(0)) && !p.blocks(n(2), n(4)));
        p.heal_all();
        assert!(!p.is_active() && !p.blocks(n(0), n(2)));
    }

    #[test]
    fn one_way_cuts_and_isolation() {
        let mut p = Partitions::new(3);
        p.cut(n(0), n(1));
        assert!(p.blocks(n(0), n(1)) && !p.blocks(n(1), n(0)));
        p.isolate(n(2));
        assert!(p.blocks(n(2), n(1)) && p.blocks(n(0), n(2)));
        assert!(!p.blocks(n(2), n(2)), "a node always reaches itself");
        p.heal_node(n(0));
        assert!(!p.blocks(n(0), n(1)) && p.blocks(n(1), n(2)));
    }
}
