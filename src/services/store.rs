//! The three stores' semantics. Each applies an operation the instant a call reaches it; what
//! differs is which state a read or compare-and-set sees. Memory stays bounded: a store keeps,
//! per key, only the versions some future read may still return.

use super::{KvOp, KvResult, Service};
use crate::ids::NodeId;
use crate::rng::SimRng;
use crate::time::{SimDuration, SimTime};
use rand::RngExt;
use std::collections::BTreeMap;

/// How many writes behind the newest a sequentially consistent read may be. Bounded so that a
/// node that reads again and again catches up, and so that each key keeps few versions.
pub(crate) const SEQ_STALE_VERSIONS_MAX: u64 = 16;

/// How many replicas the last-write-wins store has.
pub(crate) const LWW_REPLICAS: usize = 3;

/// The longest a last-write-wins replica takes to learn of a write another replica took.
pub(crate) const LWW_SPREAD_MAX: SimDuration = SimDuration::from_millis(100);

/// Every service a run may call; each made on its first call.
#[derive(Default)]
pub(crate) struct Stores {
    lin: BTreeMap<u64, i64>,
    seq: Option<Box<SeqKv>>,
    lww: Option<Box<LwwKv>>,
}

impl Stores {
    /// Applies `op`, called by `caller`, at `now`; `rng` draws what the store leaves to chance.
    pub(crate) fn apply(
        &mut self,
        service: Service,
        caller: NodeId,
        op: KvOp,
        now: SimTime,
        rng: &mut SimRng,
    ) -> KvResult {
        match service {
            Service::LinKv => apply_lin(&mut self.lin, op),
            Service::SeqKv => self.seq.get_or_insert_default().apply(caller, op, rng),
            Service::LwwKv => self.lww.get_or_insert_default().apply(op, now, rng),
        }
    }
}

fn apply_lin(map: &mut BTreeMap<u64, i64>, op: KvOp) -> KvResult {
    match op {
        KvOp::Read { key } => KvResult::Read(map.get(&key).copied()),
        KvOp::Write { key, value } => {
            map.insert(key, value);
            KvResult::Ok
        }
        KvOp::Cas { key, from, to } => {
            let current = map.get(&key).copied();
            if current == from {
                map.insert(key, to);
                KvResult::Ok
            } else {
                KvResult::Mismatch(current)
            }
        }
    }
}

/// Sequential consistency: all writes in one order (numbered by `version`); each caller reads
/// at a version no older than any it saw before, nor than its own last write, chosen at random
/// from the recent ones. Writes and compare-and-sets act on the newest version.
#[derive(Default)]
struct SeqKv {
    version: u64,
    /// Per key, `(version, value)` in version order: the versions a read may still see.
    keys: BTreeMap<u64, Vec<(u64, i64)>>,
    /// Per caller, the newest version it has seen.
    seen: BTreeMap<NodeId, u64>,
}

impl SeqKv {
    fn apply(&mut self, caller: NodeId, op: KvOp, rng: &mut SimRng) -> KvResult {
        let floor = self.version.saturating_sub(SEQ_STALE_VERSIONS_MAX);
        let seen = self.seen.entry(caller).or_insert(floor);
        *seen = (*seen).max(floor);
        match op {
            KvOp::Read { key } => {
                let at = rng.random_range(*seen..=self.version);
                *seen = at;
                KvResult::Read(self.value_at(key, at))
            }
            KvOp::Write { key, value } => {
                self.write(caller, key, value);
                KvResult::Ok
            }
            KvOp::Cas { key, from, to } => {
                let current = self.value_at(key, self.version);
                if current == from {
                    self.write(caller, key, to);
                    KvResult::Ok
                } else {
                    // The caller saw the newest version, and must not read older ones now.
                    self.seen.insert(caller, self.version);
                    KvResult::Mismatch(current)
                }
            }
        }
    }

    fn value_at(&self, key: u64, at: u64) -> Option<i64> {
        let versions = self.keys.get(&key)?;
        let after = versions.partition_point(|&(v, _)| v <= at);
        after.checked_sub(1).map(|i| versions[i].1)
    }

    fn write(&mut self, caller: NodeId, key: u64, value: i64) {
        self.version += 1;
        self.seen.insert(caller, self.version);
        let floor = self.version.saturating_sub(SEQ_STALE_VERSIONS_MAX);
        let versions = self.keys.entry(key).or_default();
        versions.push((self.version, value));
        // Keep the newest version at or below the floor (a read at the floor sees it) and
        // every one above; older ones no read can reach.
        let at_floor = versions.partition_point(|&(v, _)| v <= floor);
        if at_floor > 1 {
            versions.drain(..at_floor - 1);
        }
    }
}

/// One write to the last-write-wins store: ordered by `stamp`, visible at each replica from
/// its time in `visible_at`.
struct LwwWrite {
    stamp: (SimTime, u64),
    value: i64,
    visible_at: [SimTime; LWW_REPLICAS],
}

/// Last write wins: a write lands at one replica and reaches the others within
/// [`LWW_SPREAD_MAX`]; each replica holds, per key, the write with the highest stamp it has.
#[derive(Default)]
struct LwwKv {
    keys: BTreeMap<u64, Vec<LwwWrite>>,
    writes: u64,
}

impl LwwKv {
    fn apply(&mut self, op: KvOp, now: SimTime, rng: &mut SimRng) -> KvResult {
        let replica = rng.random_range(0..LWW_REPLICAS);
        let current = self.visible(op.key(), replica, now);
        match op {
            KvOp::Read { .. } => KvResult::Read(current),
            KvOp::Write { key, value } => {
                self.write(key, value, replica, now, rng);
                KvResult::Ok
            }
            KvOp::Cas { key, from, to } if current == from => {
                self.write(key, to, replica, now, rng);
                KvResult::Ok
            }
            KvOp::Cas { .. } => KvResult::Mismatch(current),
        }
    }

    fn visible(&self, key: u64, replica: usize, now: SimTime) -> Option<i64> {
        let writes = self.keys.get(&key)?;
        writes
            .iter()
            .filter(|w| w.visible_at[replica] <= now)
            .max_by_key(|w| w.stamp)
            .map(|w| w.value)
    }

    fn write(&mut self, key: u64, value: i64, replica: usize, now: SimTime, rng: &mut SimRng) {
        self.writes += 1;
        let mut visible_at = [now; LWW_REPLICAS];
        for (r, at) in visible_at.iter_mut().enumerate() {
            if r != replica {
                *at = now + SimDuration(rng.random_range(0..=LWW_SPREAD_MAX.0));
            }
        }
        let writes = self.keys.entry(key).or_default();
        writes.push(LwwWrite {
            stamp: (now, self.writes),
            value,
            visible_at,
        });
        // A write older than one every replica already holds can never be read again.
        let everywhere = |w: &LwwWrite| w.visible_at.iter().all(|&at| at <= now);
        if let Some(newest) = writes
            .iter()
            .filter(|w| everywhere(w))
            .map(|w| w.stamp)
            .max()
        {
            writes.retain(|w| w.stamp >= newest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, stream};

    fn rng() -> SimRng {
        stream(7, Stream::Services)
    }

    #[test]
    fn lin_kv_reads_the_last_write_and_cas_matches_exactly() {
        let (mut s, mut r, now) = (Stores::default(), rng(), SimTime::ZERO);
        let mut apply = |op| s.apply(Service::LinKv, NodeId(0), op, now, &mut r);
        assert_eq!(apply(KvOp::Read { key: 1 }), KvResult::Read(None));
        let cas = KvOp::Cas {
            key: 1,
            from: None,
            to: 5,
        };
        assert_eq!(apply(cas), KvResult::Ok);
        assert_eq!(apply(cas), KvResult::Mismatch(Some(5)));
        assert_eq!(apply(KvOp::Write { key: 1, value: 6 }), KvResult::Ok);
        assert_eq!(apply(KvOp::Read { key: 1 }), KvResult::Read(Some(6)));
    }

    #[test]
    fn seq_kv_reads_go_stale_but_never_back_and_see_the_callers_own_writes() {
        let (mut s, mut r, now) = (Stores::default(), rng(), SimTime::ZERO);
        let (writer, reader) = (NodeId(0), NodeId(1));
        for value in 1..=10 {
            let op = KvOp::Write { key: 3, value };
            assert_eq!(
                s.apply(Service::SeqKv, writer, op, now, &mut r),
                KvResult::Ok
            );
        }
        let (mut last, mut stale) = (0, 0);
        for _ in 0..200 {
            let KvResult::Read(v) =
                s.apply(Service::SeqKv, reader, KvOp::Read { key: 3 }, now, &mut r)
            else {
                panic!("a read answers a value");
            };
            let v = v.unwrap_or(0);
            assert!(v >= last, "went back from {last} to {v}");
            stale += u32::from(v < 10);
            last = v;
        }
        assert!(stale > 0, "some read was stale");
        assert_eq!(last, 10, "repeated reads catch up");
        let op = KvOp::Write { key: 3, value: 11 };
        s.apply(Service::SeqKv, reader, op, now, &mut r);
        let read = s.apply(Service::SeqKv, reader, KvOp::Read { key: 3 }, now, &mut r);
        assert_eq!(
            read,
            KvResult::Read(Some(11)),
            "a caller sees its own write"
        );
    }

    #[test]
    fn seq_kv_keeps_few_versions_per_key() {
        let mut seq = SeqKv::default();
        for value in 0..1000 {
            seq.write(NodeId(0), 1, value);
        }
        let kept = seq.keys[&1].len() as u64;
        assert!(kept <= SEQ_STALE_VERSIONS_MAX + 1, "{kept} versions kept");
    }

    #[test]
    fn lww_kv_can_lose_one_of_two_concurrent_updates_and_converges() {
        let mut r = rng();
        let mut lost = 0;
        for round in 0..100_i64 {
            let mut s = LwwKv::default();
            let t0 = SimTime::from_secs(1);
            s.write(1, 0, 0, t0, &mut r);
            let t1 = t0 + LWW_SPREAD_MAX;
            let cas = KvOp::Cas {
                key: 1,
                from: Some(0),
                to: round + 1,
            };
            let both = s.apply(cas, t1, &mut r) == KvResult::Ok
                && s.apply(cas, t1 + SimDuration(1), &mut r) == KvResult::Ok;
            lost += u32::from(both);
            let later = t1 + LWW_SPREAD_MAX + SimDuration(2);
            let values: Vec<_> = (0..LWW_REPLICAS)
                .map(|rep| s.visible(1, rep, later))
                .collect();
            assert!(
                values.iter().all(|v| *v == values[0]),
                "converged: {values:?}"
            );
        }
        assert!(
            lost > 0,
            "two compare-and-sets from one value both succeeded at times"
        );
    }
}
