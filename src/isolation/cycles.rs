//! The shortest cycle of each class, within strongly connected components.
//!
//! A class of cycle is a set of allowed edge kinds, a kind of edge every such cycle has (its
//! *seed*), and counts it must reach: G0 is a cycle of ww edges; G1c of ww and wr edges with at
//! least one wr; G-single has exactly one rw edge, the rest ww and wr; G2-item two or more rw
//! edges; each `-realtime` variant also allows rt edges and needs at least one. For each class,
//! the graph of its allowed kinds is split into strongly connected components, and in each
//! component the seed edges a → b are tried in a fixed order: a breadth-first search from b back
//! to a, over states (transaction, rw edges so far capped at two, rt edge seen), finds the
//! shortest cycle through the seed that meets the class's counts. Every component holding a
//! cycle of the class gives one, and more (from other transactions) while the class has fewer
//! than [`Options::anomalies_per_class_max`]; a `-realtime` variant is only looked for where
//! the component shows no cycle of its base class without one.
//!
//! The search is bounded by [`Options::search_steps_max`], every edge looked at being a step:
//! each class may take an equal share of the steps the classes before it left, so that a class
//! that finds nothing in a large component leaves the others their steps, and the search from
//! one seed edge at most a 64th of that share (or 1,000 steps), so that one seed cannot take all
//! of it. A class whose search hit
//! either bound is *incomplete*: the report says so.

use super::Options;
use super::anomaly::AnomalyKind;
use super::graph::{Components, Edge, EdgeKind, Graph};
use std::collections::VecDeque;

/// A cycle found: its class and its edges in order, the last leading back to the first's
/// source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cycle {
    pub kind: AnomalyKind,
    pub edges: Vec<Edge>,
}

/// What the search found.
pub struct Found {
    pub cycles: Vec<Cycle>,
    /// Bounds reached, in words.
    pub notes: Vec<String>,
    /// Strongly connected components (of more than one transaction) of the whole graph.
    pub components: usize,
    /// The classes whose search was cut short: more of their cycles may exist.
    pub incomplete: Vec<AnomalyKind>,
}

struct Class {
    kind: AnomalyKind,
    /// For a `-realtime` variant, the position of its base class in [`CLASSES`].
    base: Option<usize>,
    seed: EdgeKind,
    allowed: u8,
    rw_min: u8,
    rt_needed: bool,
}

const WW: u8 = 1;
const WR: u8 = 2;
const RW: u8 = 4;
const RT: u8 = 8;

const CLASSES: [Class; 8] = [
    class(AnomalyKind::G0, None, EdgeKind::Ww, WW, 0),
    class(AnomalyKind::G1c, None, EdgeKind::Wr, WW | WR, 0),
    class(AnomalyKind::GSingle, None, EdgeKind::Rw, WW | WR, 1),
    class(AnomalyKind::G2Item, None, EdgeKind::Rw, WW | WR | RW, 2),
    class(AnomalyKind::G0Realtime, Some(0), EdgeKind::Rt, WW | RT, 0),
    class(
        AnomalyKind::G1cRealtime,
        Some(1),
        EdgeKind::Wr,
        WW | WR | RT,
        0,
    ),
    class(
        AnomalyKind::GSingleRealtime,
        Some(2),
        EdgeKind::Rw,
        WW | WR | RT,
        1,
    ),
    class(
        AnomalyKind::G2ItemRealtime,
        Some(3),
        EdgeKind::Rw,
        WW | WR | RW | RT,
        2,
    ),
];

const fn class(
    kind: AnomalyKind,
    base: Option<usize>,
    seed: EdgeKind,
    allowed: u8,
    rw_min: u8,
) -> Class {
    Class {
        kind,
        base,
        seed,
        allowed,
        rw_min,
        rt_needed: base.is_some(),
    }
}

const NONE: u32 = u32::MAX;

/// A search from one seed edge looks at most at this share of its class's steps, so that one
/// large component cannot take them all from one seed.
const SEED_SHARE: u64 = 64;

/// Searches `graph` for the cycles of every class.
pub fn search(graph: &Graph, options: &Options) -> Found {
    let full = graph.components(WW | WR | RW | RT);
    let mut search = Search {
        graph,
        steps: 0,
        steps_left: options.search_steps_max,
        class_steps_max: 0,
        seed_steps_max: 0,
        exhausted: false,
        cut: false,
        stamp: Vec::new(),
        generation: 0,
        parent: Vec::new(),
        queue: VecDeque::new(),
    };
    let mut found_in = vec![vec![false; full.members.len()]; CLASSES.len()];
    let mut found = Found {
        cycles: Vec::new(),
        notes: Vec::new(),
        components: full.members.len(),
        incomplete: Vec::new(),
    };
    for (c, class) in CLASSES.iter().enumerate() {
        if full.members.is_empty() {
            break;
        }
        search.begin_class(CLASSES.len() - c);
        let sub = graph.components(class.allowed | class.seed.bit());
        let mut count = 0;
        for (s, members) in sub.members.iter().enumerate() {
            let whole = full.id[members[0] as usize] as usize;
            if class.base.is_some_and(|b| found_in[b][whole]) {
                continue;
            }
            // One cycle from every component, more while the class has fewer than the cap.
            let wanted = options.anomalies_per_class_max.saturating_sub(count).max(1);
            for edges in search.in_component(class, &sub, s as u32, wanted) {
                found_in[c][whole] = true;
                count += 1;
                found.cycles.push(Cycle {
                    kind: class.kind,
                    edges,
                });
            }
            if search.exhausted {
                break;
            }
        }
        search.note(class.kind, &mut found);
    }
    found
}

struct Search<'g> {
    graph: &'g Graph,
    /// Steps taken for the current class.
    steps: u64,
    /// Steps the classes not yet searched share.
    steps_left: u64,
    class_steps_max: u64,
    seed_steps_max: u64,
    /// The current class used all its steps.
    exhausted: bool,
    /// A search from some seed of the current class stopped at its share of the steps.
    cut: bool,
    /// Per state (transaction × rw count 0..=2 × rt seen), the search that last reached it.
    stamp: Vec<u32>,
    generation: u32,
    /// Per state, the state it was reached from and the edge (position) that led there.
    parent: Vec<(u32, u32)>,
    queue: VecDeque<u32>,
}

fn state(node: u32, rw: u8, rt: bool) -> u32 {
    node * 6 + u32::from(rw) * 2 + u32::from(rt)
}

impl Search<'_> {
    /// Starts the search for a class, `classes` (this one included) being left to search.
    fn begin_class(&mut self, classes: usize) {
        self.steps_left -= self.steps.min(self.steps_left);
        self.class_steps_max = (self.steps_left / classes as u64).max(1);
        self.seed_steps_max = (self.class_steps_max / SEED_SHARE).max(1_000);
        self.steps = 0;
        self.exhausted = false;
        self.cut = false;
    }

    /// Says in `found` whether the search for `kind` was cut short, and how.
    fn note(&self, kind: AnomalyKind, found: &mut Found) {
        if self.exhausted {
            found.notes.push(format!(
                "cycle search for {kind} stopped at its share of the bound ({} steps): more \
                 {kind} cycles may exist",
                self.class_steps_max
            ));
        } else if self.cut {
            found.notes.push(format!(
                "cycle search for {kind} gave up on some edges after {} steps each: more \
                 {kind} cycles may exist",
                self.seed_steps_max
            ));
        } else {
            return;
        }
        found.incomplete.push(kind);
    }

    /// Up to `wanted` cycles of `class` through seed edges of component `comp` of `sub`, no
    /// two from the same transaction.
    fn in_component(
        &mut self,
        class: &Class,
        sub: &Components,
        comp: u32,
        wanted: usize,
    ) -> Vec<Vec<Edge>> {
        let mut cycles: Vec<Vec<Edge>> = Vec::new();
        for &a in &sub.members[comp as usize] {
            if cycles.iter().flatten().any(|e| e.from == a) {
                continue;
            }
            for i in self.graph.edge_range(a) {
                let e = self.graph.edge(i);
                if e.kind != class.seed || sub.id[e.to as usize] != comp {
                    continue;
                }
                if let Some(cycle) = self.shortest(class, i, &sub.id, comp) {
                    cycles.push(cycle);
                    break;
                }
                if self.exhausted {
                    return cycles;
                }
            }
            if cycles.len() >= wanted {
                break;
            }
        }
        cycles
    }

    /// The shortest cycle of `class` through the seed edge at position `seed`, within `comp`;
    /// only a simple one (no transaction twice) is returned.
    fn shortest(&mut self, class: &Class, seed: u32, ids: &[u32], comp: u32) -> Option<Vec<Edge>> {
        if self.stamp.is_empty() {
            self.stamp = vec![0; self.graph.nodes() * 6];
            self.parent = vec![(NONE, NONE); self.graph.nodes() * 6];
        }
        self.generation += 1;
        let seed_steps_end = self.steps + self.seed_steps_max;
        let first = self.graph.edge(seed);
        let start = state(
            first.to,
            u8::from(first.kind == EdgeKind::Rw),
            first.kind == EdgeKind::Rt,
        );
        self.mark(start, (NONE, seed));
        self.queue.clear();
        self.queue.push_back(start);
        while let Some(s) = self.queue.pop_front() {
            let (node, rw, rt) = (s / 6, (s % 6 / 2) as u8, s % 2 == 1);
            if node == first.from {
                if rw >= class.rw_min && (rt || !class.rt_needed) {
                    return self.path(s);
                }
                continue;
            }
            for i in self.graph.edge_range(node) {
                self.steps += 1;
                if self.steps > self.class_steps_max {
                    self.exhausted = true;
                    return None;
                }
                if self.steps > seed_steps_end {
                    self.cut = true;
                    return None;
                }
                let e = self.graph.edge(i);
                if e.kind.bit() & class.allowed == 0 || ids[e.to as usize] != comp {
                    continue;
                }
                let next = state(
                    e.to,
                    (rw + u8::from(e.kind == EdgeKind::Rw)).min(2),
                    rt || e.kind == EdgeKind::Rt,
                );
                if self.stamp[next as usize] != self.generation {
                    self.mark(next, (s, i));
                    self.queue.push_back(next);
                }
            }
        }
        None
    }

    fn mark(&mut self, s: u32, parent: (u32, u32)) {
        self.stamp[s as usize] = self.generation;
        self.parent[s as usize] = parent;
    }

    /// The edges that led to state `end`, seed first; `None` if a transaction repeats.
    fn path(&self, end: u32) -> Option<Vec<Edge>> {
        let mut edges = Vec::new();
        let mut s = end;
        while s != NONE {
            let (prev, edge) = self.parent[s as usize];
            edges.push(self.graph.edge(edge));
            s = prev;
        }
        edges.reverse();
        let mut nodes: Vec<u32> = edges.iter().map(|e| e.from).collect();
        nodes.sort_unstable();
        let simple = nodes.windows(2).all(|w| w[0] != w[1]);
        simple.then_some(edges)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isolation::TxnModel;
    use crate::isolation::graph::{EdgeList, Why};

    fn graph(nodes: usize, edges: &[(u32, u32, EdgeKind)]) -> Graph {
        let mut list = EdgeList::default();
        for &(a, b, kind) in edges {
            let why = Why {
                key: 0,
                first: (a, 0),
                then: (b, 0),
            };
            match kind {
                EdgeKind::Rt => list.add_rt(a, b),
                _ => list.add(a, b, kind, why),
            }
        }
        Graph::new(nodes, list)
    }

    fn kinds(g: &Graph, steps_max: u64) -> Vec<(AnomalyKind, usize)> {
        let options = Options {
            search_steps_max: steps_max,
            ..Options::new(TxnModel::ListAppend)
        };
        let found = search(g, &options);
        found
            .cycles
            .iter()
            .map(|c| (c.kind, c.edges.len()))
            .collect()
    }

    use EdgeKind::{Rt, Rw, Wr, Ww};

    #[test]
    fn each_class_is_found_by_its_edges() {
        assert_eq!(
            kinds(&graph(2, &[(0, 1, Ww), (1, 0, Ww)]), 1000),
            [(AnomalyKind::G0, 2)]
        );
        assert_eq!(
            kinds(&graph(2, &[(0, 1, Ww), (1, 0, Wr)]), 1000),
            [(AnomalyKind::G1c, 2)]
        );
        assert_eq!(
            kinds(&graph(3, &[(0, 1, Rw), (1, 2, Wr), (2, 0, Ww)]), 1000),
            [(AnomalyKind::GSingle, 3)]
        );
        assert_eq!(
            kinds(&graph(2, &[(0, 1, Rw), (1, 0, Rw)]), 1000),
            [(AnomalyKind::G2Item, 2)]
        );
        assert_eq!(
            kinds(&graph(2, &[(0, 1, Rw), (1, 0, Rt)]), 1000),
            [(AnomalyKind::GSingleRealtime, 2)]
        );
        assert_eq!(
            kinds(&graph(3, &[(0, 1, Ww), (1, 2, Ww), (2, 0, Rt)]), 1000),
            [(AnomalyKind::G0Realtime, 3)]
        );
    }

    #[test]
    fn the_shortest_cycle_is_reported_and_realtime_only_when_needed() {
        // 0 -rw-> 1 -wr-> 2 -wr-> 3 -ww-> 0, and a shortcut 1 -ww-> 3; also 3 -rt-> 0.
        let g = graph(
            4,
            &[
                (0, 1, Rw),
                (1, 2, Wr),
                (2, 3, Wr),
                (3, 0, Ww),
                (1, 3, Ww),
                (3, 0, Rt),
            ],
        );
        let found = kinds(&g, 1000);
        assert!(found.contains(&(AnomalyKind::GSingle, 3)), "{found:?}");
        assert!(
            !found
                .iter()
                .any(|(k, _)| *k == AnomalyKind::GSingleRealtime),
            "a G-single without rt exists: {found:?}"
        );
        // G1c: 1 -wr-> 2 -wr-> 3 -> ... -> 1 needs the rw edge: none.
        assert!(
            !found.iter().any(|(k, _)| *k == AnomalyKind::G1c),
            "{found:?}"
        );
    }

    #[test]
    fn a_component_gives_several_cycles_up_to_the_cap() {
        // Two read skews joined into one component by ww edges.
        let edges = [
            (0, 1, Rw),
            (1, 0, Wr),
            (2, 3, Rw),
            (3, 2, Wr),
            (1, 2, Ww),
            (3, 0, Ww),
        ];
        let g = graph(4, &edges);
        let singles = |cap| {
            let options = Options {
                anomalies_per_class_max: cap,
                ..Options::new(TxnModel::ListAppend)
            };
            let found = search(&g, &options);
            assert_eq!(found.components, 1);
            let firsts: Vec<u32> = found
                .cycles
                .iter()
                .filter(|c| c.kind == AnomalyKind::GSingle)
                .map(|c| c.edges[0].from)
                .collect();
            firsts
        };
        assert_eq!(singles(8), [0, 2]);
        assert_eq!(
            singles(1),
            [0],
            "one per component at least, no more past the cap"
        );
    }

    #[test]
    fn the_step_bound_stops_the_search_and_says_so() {
        let g = graph(3, &[(0, 1, Rw), (1, 2, Rw), (2, 0, Rw)]);
        assert_eq!(kinds(&g, 1000), [(AnomalyKind::G2Item, 3)]);
        let options = Options {
            search_steps_max: 2,
            ..Options::new(TxnModel::ListAppend)
        };
        let found = search(&g, &options);
        assert!(found.cycles.is_empty());
        assert!(
            found.incomplete.contains(&AnomalyKind::G2Item),
            "{:?}",
            found.incomplete
        );
        assert!(
            found.notes.iter().any(|n| n.starts_with(
                "cycle search for G2-item stopped at its share of the bound (1 steps)"
            )),
            "{:?}",
            found.notes
        );
    }
}
