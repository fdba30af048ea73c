//! The dependency graph between transactions, and its strongly connected components.
//!
//! Edges are collected in any order, then sorted once into compressed adjacency lists (one
//! array of targets, one of offsets): on a history of 100,000 transactions with a million edges
//! that is a few tens of megabytes and no allocation per node. A cycle lies within one strongly
//! connected component, so the cycle search only ever looks inside the components Tarjan's
//! algorithm finds; it runs on an explicit stack, since a recursive version would overflow on a
//! long chain of transactions.

use std::collections::BTreeMap;
use std::fmt;

/// How one transaction depends on another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EdgeKind {
    /// Write-write: the target installed the version right after the source's.
    Ww,
    /// Write-read: the target read the version the source wrote.
    Wr,
    /// Read-write (anti-dependency): the source read a version the target overwrote.
    Rw,
    /// Real time: the source completed before the target was invoked.
    Rt,
}

impl EdgeKind {
    pub const ALL: [EdgeKind; 4] = [EdgeKind::Ww, EdgeKind::Wr, EdgeKind::Rw, EdgeKind::Rt];

    /// `ww`, `wr`, `rw` or `rt`.
    pub fn name(self) -> &'static str {
        match self {
            EdgeKind::Ww => "ww",
            EdgeKind::Wr => "wr",
            EdgeKind::Rw => "rw",
            EdgeKind::Rt => "rt",
        }
    }

    /// The kind's bit in a set of kinds.
    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for EdgeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a dependency edge exists: the key and values that show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Why {
    pub key: u32,
    /// ww: the source's value; wr: the value read (the target's micro-op); rw: the value read
    /// (the source's micro-op). Indices are (transaction, micro-op).
    pub first: (u32, u32),
    /// ww: the target's micro-op that wrote the next version; wr: the source's write;
    /// rw: the target's write of the next version.
    pub then: (u32, u32),
}

/// One edge as collected; `why` indexes [`EdgeList::whys`] (`u32::MAX` for real-time edges).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edge {
    pub from: u32,
    pub to: u32,
    pub kind: EdgeKind,
    pub why: u32,
}

/// Edges as inference finds them, with their evidence.
#[derive(Clone, Debug, Default)]
pub struct EdgeList {
    pub edges: Vec<Edge>,
    pub whys: Vec<Why>,
}

impl EdgeList {
    /// Adds a dependency edge (no self-loops: a transaction does not depend on itself).
    pub fn add(&mut self, from: u32, to: u32, kind: EdgeKind, why: Why) {
        if from == to {
            return;
        }
        let index = u32::try_from(self.whys.len()).unwrap_or(u32::MAX);
        self.whys.push(why);
        self.edges.push(Edge {
            from,
            to,
            kind,
            why: index,
        });
    }

    /// Adds a real-time edge.
    pub fn add_rt(&mut self, from: u32, to: u32) {
        if from != to {
            self.edges.push(Edge {
                from,
                to,
                kind: EdgeKind::Rt,
                why: u32::MAX,
            });
        }
    }
}

/// The graph in adjacency-list form: node `n`'s out-edges are `out[start[n]..start[n + 1]]`.
pub struct Graph {
    start: Vec<u32>,
    out: Vec<Edge>,
    pub whys: Vec<Why>,
}

impl Graph {
    /// Sorts `edges` by source, target and kind, keeping the first of each triple.
    pub fn new(nodes: usize, mut edges: EdgeList) -> Graph {
        edges.edges.sort_unstable();
        edges
            .edges
            .dedup_by(|b, a| (a.from, a.to, a.kind) == (b.from, b.to, b.kind));
        let mut start = vec![0u32; nodes + 1];
        for e in &edges.edges {
            start[e.from as usize + 1] += 1;
        }
        for n in 0..nodes {
            start[n + 1] += start[n];
        }
        Graph {
            start,
            out: edges.edges,
            whys: edges.whys,
        }
    }

    pub fn nodes(&self) -> usize {
        self.start.len() - 1
    }

    /// The out-edges of `node`, by target then kind.
    pub fn out(&self, node: u32) -> &[Edge] {
        let n = node as usize;
        &self.out[self.start[n] as usize..self.start[n + 1] as usize]
    }

    /// Positions of `node`'s out-edges, for [`Graph::edge`].
    pub fn edge_range(&self, node: u32) -> std::ops::Range<u32> {
        let n = node as usize;
        self.start[n]..self.start[n + 1]
    }

    /// The edge at position `i`.
    pub fn edge(&self, i: u32) -> Edge {
        self.out[i as usize]
    }

    /// How many edges of each kind.
    pub fn counts(&self) -> BTreeMap<EdgeKind, usize> {
        let mut counts: BTreeMap<EdgeKind, usize> = EdgeKind::ALL.iter().map(|&k| (k, 0)).collect();
        for e in &self.out {
            *counts.entry(e.kind).or_insert(0) += 1;
        }
        counts
    }

    /// The strongly connected components of more than one node of the subgraph of the edge
    /// kinds in `mask` (bits of [`EdgeKind::bit`]): Tarjan's algorithm on an explicit stack.
    pub fn components(&self, mask: u8) -> Components {
        const UNSEEN: u32 = u32::MAX;
        let n = self.nodes();
        let mut index = vec![UNSEEN; n];
        let mut low = vec![0u32; n];
        let mut on_stack = vec![false; n];
        let mut stack: Vec<u32> = Vec::new();
        // (node, position of the next out-edge to look at)
        let mut calls: Vec<(u32, u32)> = Vec::new();
        let mut next_index = 0u32;
        let mut found = Vec::new();
        for root in 0..n as u32 {
            if index[root as usize] != UNSEEN {
                continue;
            }
            calls.push((root, self.start[root as usize]));
            while let Some(&mut (v, ref mut pos)) = calls.last_mut() {
                let vi = v as usize;
                if *pos == self.start[vi] && index[vi] == UNSEEN {
                    index[vi] = next_index;
                    low[vi] = next_index;
                    next_index += 1;
                    stack.push(v);
                    on_stack[vi] = true;
                }
                if *pos < self.start[vi + 1] {
                    let edge = self.out[*pos as usize];
                    *pos += 1;
                    let wi = edge.to as usize;
                    if edge.kind.bit() & mask == 0 {
                        continue;
                    }
                    if index[wi] == UNSEEN {
                        calls.push((edge.to, self.start[wi]));
                    } else if on_stack[wi] {
                        low[vi] = low[vi].min(index[wi]);
                    }
                    continue;
                }
                calls.pop();
                if let Some(&(parent, _)) = calls.last() {
                    let p = parent as usize;
                    low[p] = low[p].min(low[vi]);
                }
                if low[vi] == index[vi] {
                    let mut component = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w as usize] = false;
                        component.push(w);
                        if w == v {
                            break;
                        }
                    }
                    if component.len() > 1 {
                        component.sort_unstable();
                        found.push(component);
                    }
                }
            }
        }
        Components::new(n, found)
    }
}

/// Strongly connected components of more than one node.
pub struct Components {
    /// The components, each sorted, ordered by their smallest node.
    pub members: Vec<Vec<u32>>,
    /// Per node, its component's position in `members` ([`Components::NONE`] if alone).
    pub id: Vec<u32>,
}

impl Components {
    pub const NONE: u32 = u32::MAX;

    fn new(nodes: usize, mut members: Vec<Vec<u32>>) -> Components {
        members.sort_unstable_by_key(|c| c[0]);
        let mut id = vec![Components::NONE; nodes];
        for (i, c) in members.iter().enumerate() {
            for &n in c {
                id[n as usize] = u32::try_from(i).unwrap_or(Components::NONE);
            }
        }
        Components { members, id }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: u8 = 0b1111;

    fn graph(nodes: usize, edges: &[(u32, u32)]) -> Graph {
        let mut list = EdgeList::default();
        for &(a, b) in edges {
            list.add_rt(a, b);
        }
        Graph::new(nodes, list)
    }

    #[test]
    fn components_of_a_small_graph() {
        // 0 → 1 → 2 → 0 is a cycle; 3 ⇄ 4; 5 alone; 2 → 3 joins nothing.
        let g = graph(6, &[(0, 1), (1, 2), (2, 0), (2, 3), (3, 4), (4, 3), (5, 0)]);
        let c = g.components(ALL);
        assert_eq!(c.members, vec![vec![0, 1, 2], vec![3, 4]]);
        assert_eq!(c.id, [0, 0, 0, 1, 1, Components::NONE]);
        assert!(
            graph(3, &[(0, 1), (1, 2)])
                .components(ALL)
                .members
                .is_empty()
        );
        // Without the kind of the edges, no component.
        assert!(g.components(EdgeKind::Ww.bit()).members.is_empty());
    }

    #[test]
    fn a_long_chain_does_not_overflow_the_stack() {
        let n = 200_000u32;
        let mut edges: Vec<(u32, u32)> = (0..n - 1).map(|i| (i, i + 1)).collect();
        edges.push((n - 1, 0));
        let components = graph(n as usize, &edges).components(ALL).members;
        assert_eq!(components.len(), 1);
        assert_eq!(components[0].len(), n as usize);
    }

    #[test]
    fn duplicate_edges_are_merged_and_counted_by_kind() {
        let mut list = EdgeList::default();
        let why = Why {
            key: 0,
            first: (0, 0),
            then: (1, 0),
        };
        list.add(0, 1, EdgeKind::Ww, why.clone());
        list.add(0, 1, EdgeKind::Ww, why.clone());
        list.add(0, 1, EdgeKind::Wr, why.clone());
        list.add(1, 1, EdgeKind::Rw, why);
        list.add_rt(0, 1);
        let g = Graph::new(2, list);
        assert_eq!(g.out(0).len(), 3);
        assert!(g.out(1).is_empty(), "no self-loop");
        let counts = g.counts();
        assert_eq!(counts[&EdgeKind::Ww], 1);
        assert_eq!(counts[&EdgeKind::Rw], 0);
        assert_eq!(counts[&EdgeKind::Rt], 1);
    }
}
