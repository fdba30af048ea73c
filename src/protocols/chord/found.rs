//! `keys_found`: a get finds a key whose put was acknowledged, as long as some node still
//! holds it. A monitor, with its own record of who held what, apart from the nodes.
//!
//! Chord keeps nothing on disk: a key is gone once every node holding it has crashed, and
//! then "nothing there" is the right answer. It is out of reach, too, while every node
//! holding it is paused: nothing tells the ring a silent node from a dead one. The monitor
//! follows each node's store (at every change of its version) and records when a crash or a
//! pause left a key with no running node holding it. Nor does
//! Chord promise anything while its ring is split: a get on one side cannot reach a key
//! stored on the other, and after the heal keys put on each side sit where the joined ring
//! does not look for them until they are handed over. The monitor records each split, from
//! the first cut link until the ring is whole again after the heal.
//!
//! At the end of the run, a get that found nothing is a violation when a put of its key was
//! acknowledged before the get began and, between that put's invocation and the get's
//! answer, the key always had a running node holding it and the ring was never split.

use super::Chord;
use super::checks::check_ring;
use crate::check::{Monitor, Violation};
use crate::engine::{NodeStatus, Sim, Touched};
use crate::history::{Status, Value};
use crate::process::NodeId;
use crate::time::{SimDuration, SimTime};
use crate::workload::ClientOp;
use std::collections::{BTreeMap, BTreeSet};

/// While the ring heals from a split, how often the monitor checks whether it is whole:
/// a check reads every node, so not after every event.
const HEAL_CHECK_INTERVAL: SimDuration = SimDuration::from_millis(10);

/// What one node held when the monitor last looked.
#[derive(Clone, Debug, Default)]
struct Held {
    /// Running: neither down nor paused.
    up: bool,
    version: u64,
    keys: BTreeSet<u32>,
}

#[derive(Default)]
pub(super) struct KeysFound {
    nodes: Vec<Held>,
    /// When each key was left with no running node holding it, each time it was.
    lost: BTreeMap<u32, Vec<SimTime>>,
    /// From the first cut link to the ring whole again (`None`: not yet).
    splits: Vec<(SimTime, Option<SimTime>)>,
    healing_checked: Option<SimTime>,
}

pub(super) fn monitor() -> Box<dyn Monitor<Chord>> {
    Box::new(KeysFound::default())
}

impl KeysFound {
    fn look_at(&mut self, sim: &Sim<Chord>, id: NodeId) {
        let now = sim.now();
        let held = &mut self.nodes[id.index()];
        let running = sim.status(id) == NodeStatus::Up;
        match sim.node(id).state().filter(|_| running) {
            Some(node) if !held.up || held.version != node.store_version() => {
                *held = Held {
                    up: true,
                    version: node.store_version(),
                    keys: node.store().keys().copied().collect(),
                };
            }
            Some(_) => {}
            None if held.up => {
                let gone = std::mem::take(held);
                for key in gone.keys {
                    if !self.nodes.iter().any(|h| h.up && h.keys.contains(&key)) {
                        self.lost.entry(key).or_default().push(now);
                    }
                }
            }
            None => {}
        }
    }

    fn follow_splits(&mut self, sim: &Sim<Chord>, touched: Touched) {
        let now = sim.now();
        let open = matches!(self.splits.last(), Some((_, None)));
        if touched == Touched::All && sim.partitioned() {
            if !open {
                self.splits.push((now, None));
            }
            self.healing_checked = None;
            return;
        }
        if !open || sim.partitioned() {
            return;
        }
        let due = self
            .healing_checked
            .is_none_or(|at| now >= at + HEAL_CHECK_INTERVAL);
        if due {
            self.healing_checked = Some(now);
            if check_ring(sim).is_ok()
                && let Some(split) = self.splits.last_mut()
            {
                split.1 = Some(now);
            }
        }
    }

    /// A monitor that has seen these splits and losses (`(key, when)`).
    #[cfg(test)]
    pub(super) fn for_test(
        splits: Vec<(SimTime, Option<SimTime>)>,
        lost: Vec<(u32, SimTime)>,
    ) -> KeysFound {
        let mut monitor = KeysFound {
            splits,
            ..KeysFound::default()
        };
        for (key, at) in lost {
            monitor.lost.entry(key).or_default().push(at);
        }
        monitor
    }

    /// Whether `key` was left with no running node holding it, or the ring was split,
    /// between `from` and `to`.
    pub(super) fn excused(&self, key: u32, from: SimTime, to: SimTime) -> bool {
        let lost = self
            .lost
            .get(&key)
            .is_some_and(|times| times.iter().any(|&t| from <= t && t <= to));
        let split = self
            .splits
            .iter()
            .any(|&(start, end)| start <= to && end.is_none_or(|end| end >= from));
        lost || split
    }
}

impl Monitor<Chord> for KeysFound {
    fn observe(&mut self, sim: &Sim<Chord>, touched: Touched) -> Result<(), Violation> {
        if self.nodes.is_empty() {
            self.nodes = vec![Held::default(); sim.node_count() as usize];
        }
        for id in touched.nodes(sim.node_count()) {
            self.look_at(sim, id);
        }
        self.follow_splits(sim, touched);
        Ok(())
    }

    fn at_end(&mut self, sim: &Sim<Chord>) -> Result<(), Violation> {
        let log = sim.history();
        let times = log.times();
        // Per key, its acknowledged puts as (acknowledged, invoked, op), in order.
        let mut puts: BTreeMap<u32, Vec<(SimTime, SimTime, usize)>> = BTreeMap::new();
        let mut empty_gets: Vec<(usize, u32)> = Vec::new();
        for (i, op) in log.logged().enumerate() {
            let (Status::Ok, Some(done)) = (op.status, times[i].complete) else {
                continue;
            };
            match op.op {
                ClientOp::Write { key, .. } => {
                    puts.entry(key)
                        .or_default()
                        .push((done, times[i].invoke, i));
                }
                ClientOp::Read { key } if *op.value == Value::Nil => empty_gets.push((i, key)),
                _ => {}
            }
        }
        for list in puts.values_mut() {
            list.sort_unstable();
        }
        for (i, key) in empty_gets {
            let (invoke, done) = (times[i].invoke, times[i].complete.unwrap_or(SimTime::MAX));
            let Some(list) = puts.get(&key) else {
                continue;
            };
            // The latest put acknowledged before the get began: an earlier one is excused
            // whenever it is.
            let before = list.partition_point(|&(acked, ..)| acked < invoke);
            let Some(&(acked, put_invoke, put)) = before.checked_sub(1).map(|k| &list[k]) else {
                continue;
            };
            if !self.excused(key, put_invoke, done) {
                return Err(self.violation(sim, (i, key, done), (put, acked)));
            }
        }
        Ok(())
    }
}

impl KeysFound {
    /// Get `get` of `key`, answered at `done`, found nothing after put `put`'s
    /// acknowledgement at `acked`.
    fn violation(
        &self,
        sim: &Sim<Chord>,
        (get, key, done): (usize, u32, SimTime),
        (put, acked): (usize, SimTime),
    ) -> Violation {
        let answered_by = sim.history().times()[get].node;
        let holders: Vec<NodeId> = sim
            .node_ids()
            .filter(|&id| self.nodes[id.index()].keys.contains(&key))
            .collect();
        let names: Vec<&str> = holders.iter().map(|&n| sim.node_name(n)).collect();
        let now = match names.len() {
            0 => String::new(),
            _ => format!("; {} hold it now", names.join(", ")),
        };
        let message = format!(
            "get of key {key} (op {get}, sent to {}) found nothing at {done}, though put of \
             key {key} (op {put}) was acknowledged at {acked}; since then a running node has \
             held the key all along and the ring was never split{now}",
            sim.node_name(answered_by)
        );
        let mut nodes = vec![answered_by];
        nodes.extend(holders.into_iter().filter(|&n| n != answered_by));
        Violation::new(message, nodes)
    }
}
