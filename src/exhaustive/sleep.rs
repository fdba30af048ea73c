//! Sleep sets: a partial-order reduction that tries fewer transitions and still visits every
//! state.
//!
//! Two events are independent when neither can disable the other and both orders lead to the
//! same state: deliveries to different nodes, say. When a state tries `a` and then `b`, and
//! the two are independent, the state `b` leads to need not try `a`: `a` then `b` was tried
//! already, and leads to the same state. Such a transition is *asleep* in `b`'s state, and so
//! it stays down the path while the events taken are independent of it.
//!
//! Every reachable state is still visited (the reduction skips transitions, never states), so
//! invariants, coverage and end-state properties see what they would see without it. Cached
//! states need care: a state first reached with some transitions asleep, and later by a path
//! on which fewer are asleep, has the difference tried then, and keeps only what both had
//! asleep (Godefroid's sleep sets with state caching, 1996, chapter 5).
//!
//! Independence is judged from what each event touches, conservatively:
//! - the node it runs on (a crash, a restart, a delivery, a timer, a request);
//! - the message it takes or copies (its hash: copies of one message count as one);
//! - the clients, when it invokes, resends or times out, or when its handler replied;
//! - each fault budget it spends: two events spending one budget are dependent, since the first
//!   may spend the last of it.
//!
//! Monitors (ghost state fed each event in order) turn the reduction off unless each declares
//! that the order of two independent events does not change it ([`Monitor::commutes`]).
//!
//! [`Monitor::commutes`]: crate::check::Monitor::commutes

use super::state::State;
use super::step::Choice;
use crate::linearizability::fxhash::{FxHashMap, mix64};
use crate::protocol::Protocol;
use crate::trace::content_hash;

/// At most this many transitions asleep in one state: the rest are tried (fewer asleep is
/// always sound, it only tries more).
pub(crate) const ASLEEP_MAX: usize = 16;

/// A transition as sleep sets know it: the same event in any state, and what it touches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Sleeper {
    /// The event: its kind and what it acts on, without indices into one state.
    pub(crate) key: u64,
    /// The hash of the message it takes or copies; 0 for none.
    message_hash: u64,
    /// The node it runs on; `NO_NODE` for none.
    node: u32,
    /// The shared resources it uses, as `USES_*` bits.
    uses: u8,
}

const NO_NODE: u32 = u32::MAX;
const USES_CLIENTS: u8 = 1;
const USES_TIMERS: u8 = 1 << 1;
const USES_DROPS: u8 = 1 << 2;
const USES_DUPLICATES: u8 = 1 << 3;
const USES_CRASHES: u8 = 1 << 4;
const USES_TIMEOUTS: u8 = 1 << 5;

impl Sleeper {
    /// `choice` in `state`, whose handler `replied` to a client or not.
    pub(crate) fn of<P: Protocol>(state: &State<P>, choice: Choice, replied: bool) -> Sleeper {
        let clients = if replied { USES_CLIENTS } else { 0 };
        let message = |kind: u64, i: u32, uses: u8| {
            let envelope = &state.net[i as usize];
            let node = if kind == KIND_DROP {
                NO_NODE
            } else {
                envelope.to.0
            };
            Sleeper {
                key: mix64(kind ^ envelope.hash),
                message_hash: envelope.hash | 1,
                node,
                uses,
            }
        };
        let at = |kind: u64, node: u32, detail: u64, uses: u8| Sleeper {
            key: mix64(kind ^ mix64(u64::from(node) ^ detail.rotate_left(32))),
            message_hash: 0,
            node,
            uses,
        };
        match choice {
            Choice::Deliver(i) => message(KIND_DELIVER, i, clients),
            Choice::Duplicate(i) => message(KIND_DUPLICATE, i, clients | USES_DUPLICATES),
            Choice::Drop(i) => message(KIND_DROP, i, USES_DROPS),
            Choice::Fire { node, index } => {
                let timer = &state.nodes[node.index()].timers[index as usize];
                let detail = content_hash(timer);
                at(KIND_FIRE, node.0, detail, clients | USES_TIMERS)
            }
            Choice::Crash(node) => at(KIND_CRASH, node.0, 0, USES_CRASHES),
            Choice::Restart(node) => at(KIND_RESTART, node.0, 0, clients),
            Choice::Invoke { client, node } => {
                at(KIND_INVOKE, node.0, u64::from(client), USES_CLIENTS)
            }
            Choice::Resend { client, node } => {
                at(KIND_RESEND, node.0, u64::from(client), USES_CLIENTS)
            }
            Choice::Timeout { client } => Sleeper {
                key: mix64(KIND_TIMEOUT ^ u64::from(client)),
                message_hash: 0,
                node: NO_NODE,
                uses: USES_CLIENTS | USES_TIMEOUTS,
            },
        }
    }

    /// Whether the two may be taken in either order to the same state, neither disabling
    /// the other.
    pub(crate) fn independent(&self, other: &Sleeper) -> bool {
        let same_node = self.node != NO_NODE && self.node == other.node;
        let same_message = self.message_hash != 0 && self.message_hash == other.message_hash;
        !same_node && !same_message && self.uses & other.uses == 0
    }
}

const KIND_DELIVER: u64 = 0x4445_4c49_5645_5200;
const KIND_DUPLICATE: u64 = 0x4455_504c_4943_4100;
const KIND_DROP: u64 = 0x4452_4f50_0000_0000;
const KIND_FIRE: u64 = 0x4649_5245_0000_0000;
const KIND_CRASH: u64 = 0x4352_4153_4800_0000;
const KIND_RESTART: u64 = 0x5245_5354_4152_5400;
const KIND_INVOKE: u64 = 0x494e_564f_4b45_0000;
const KIND_RESEND: u64 = 0x5245_5345_4e44_0000;
const KIND_TIMEOUT: u64 = 0x5449_4d45_4f55_5400;

/// The sleep set of the state a transition leads to: of those asleep in its state and those
/// its state tried before it, the ones independent of it.
pub(crate) fn after(
    asleep: &[Sleeper],
    tried: &[Sleeper],
    taken: &Sleeper,
    out: &mut Vec<Sleeper>,
) {
    out.clear();
    let kept = asleep.iter().chain(tried).filter(|z| z.independent(taken));
    out.extend(kept.take(ASLEEP_MAX).copied());
}

/// What a revisit of a state asks for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Revisit {
    /// Nothing: every transition asleep now was asleep before, or tried.
    Nothing,
    /// The state was expanded with these transitions asleep, which are not asleep now: they
    /// are to be tried.
    Retry(Vec<Sleeper>),
}

/// Per state seen: its fingerprint's index, and the transitions asleep when it was expanded
/// (or will be).
#[derive(Default)]
pub(crate) struct Visited {
    /// Fingerprint to the state's index.
    index: FxHashMap<u64, u32>,
    /// Per state: where its sleep set starts in `asleep`, its length, whether it was expanded.
    slots: Vec<SleepSlot>,
    asleep: Vec<Sleeper>,
}

#[derive(Clone, Copy)]
struct SleepSlot {
    start: u32,
    len: u8,
    expanded: bool,
}

impl Visited {
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    pub(crate) fn contains(&self, fingerprint: u64) -> bool {
        self.index.contains_key(&fingerprint)
    }

    /// Whether a revisit of `fingerprint` with `asleep` would have nothing to do: the state
    /// was seen, and each transition it had asleep is asleep now.
    pub(crate) fn covers(&self, fingerprint: u64, asleep: &[Sleeper]) -> bool {
        self.index
            .get(&fingerprint)
            .is_some_and(|&i| self.asleep_at(i).iter().all(|z| asleep.contains(z)))
    }

    /// Records a new state with `asleep`: its index, or `None` if it was seen before.
    pub(crate) fn insert(&mut self, fingerprint: u64, asleep: &[Sleeper]) -> Option<u32> {
        use std::collections::hash_map::Entry;
        let Entry::Vacant(vacant) = self.index.entry(fingerprint) else {
            return None;
        };
        let index = self.slots.len() as u32;
        vacant.insert(index);
        self.slots.push(SleepSlot {
            start: self.asleep.len() as u32,
            len: asleep.len() as u8,
            expanded: false,
        });
        self.asleep.extend_from_slice(asleep);
        Some(index)
    }

    /// The state at `index` is being expanded: the transitions asleep in it.
    pub(crate) fn expand(&mut self, index: u32, out: &mut Vec<Sleeper>) {
        let slot = &mut self.slots[index as usize];
        slot.expanded = true;
        out.clear();
        out.extend_from_slice(self.asleep_at(index));
    }

    /// Seen again, at `fingerprint`, with `asleep`: keeps asleep only what is asleep both
    /// times, and says what an expanded state must try now.
    pub(crate) fn revisit(&mut self, fingerprint: u64, asleep: &[Sleeper]) -> (u32, Revisit) {
        let index = self.index[&fingerprint];
        let slot = self.slots[index as usize];
        let (start, end) = (slot.start as usize, slot.start as usize + slot.len as usize);
        let mut kept = start;
        let mut woken = Vec::new();
        for at in start..end {
            let z = self.asleep[at];
            if asleep.contains(&z) {
                self.asleep[kept] = z;
                kept += 1;
            } else if slot.expanded {
                woken.push(z);
            }
        }
        self.slots[index as usize].len = (kept - start) as u8;
        match woken.is_empty() {
            true => (index, Revisit::Nothing),
            false => (index, Revisit::Retry(woken)),
        }
    }

    fn asleep_at(&self, index: u32) -> &[Sleeper] {
        let slot = self.slots[index as usize];
        &self.asleep[slot.start as usize..slot.start as usize + slot.len as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(node: u32, uses: u8) -> Sleeper {
        Sleeper {
            key: mix64(u64::from(node) << 8 | u64::from(uses)),
            message_hash: 0,
            node,
            uses,
        }
    }

    #[test]
    fn events_on_one_node_one_message_or_one_budget_are_dependent() {
        let (a, b) = (at(0, 0), at(1, 0));
        assert!(a.independent(&b) && b.independent(&a));
        assert!(!a.independent(&at(0, 0)), "one node");
        assert!(
            !at(0, USES_TIMERS).independent(&at(1, USES_TIMERS)),
            "one budget"
        );
        assert!(at(0, USES_TIMERS).independent(&at(1, USES_DROPS)));
        assert!(
            !at(0, USES_CLIENTS).independent(&at(1, USES_CLIENTS)),
            "the clients"
        );
        let message = |node| Sleeper {
            message_hash: 7,
            ..at(node, 0)
        };
        assert!(!message(0).independent(&Sleeper {
            node: NO_NODE,
            ..message(1)
        }));
    }

    #[test]
    fn a_revisit_keeps_what_both_had_asleep_and_wakes_the_rest_once_expanded() {
        let (a, b, c) = (at(0, 0), at(1, 0), at(2, 0));
        let mut visited = Visited::default();
        assert_eq!(visited.insert(1, &[a, b, c]), Some(0));
        assert_eq!(visited.insert(1, &[]), None);
        assert!(visited.covers(1, &[c, b, a]) && !visited.covers(1, &[a]));
        // Not expanded yet: the state is expanded later with what both had asleep.
        assert_eq!(visited.revisit(1, &[a, b]), (0, Revisit::Nothing));
        let mut asleep = Vec::new();
        visited.expand(0, &mut asleep);
        assert_eq!(asleep, [a, b]);
        // Expanded: what woke up is to be tried now, and stays awake.
        assert_eq!(visited.revisit(1, &[b]), (0, Revisit::Retry(vec![a])));
        assert!(visited.covers(1, &[b]));
        assert_eq!(visited.revisit(1, &[a, b, c]), (0, Revisit::Nothing));
    }
}
