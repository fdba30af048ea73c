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
use crate::ids::NodeId;
use crate::linearizability::fxhash::FxHashMap;
use crate::protocol::Protocol;
use crate::trace::content_hash;

/// At most this many transitions asleep in one state: the rest are tried (fewer asleep is
/// always sound, it only tries more).
pub(crate) const ASLEEP_MAX: usize = 16;

/// A transition as sleep sets know it: the same event in any state, and what it touches
/// (16 bytes: every state seen keeps its sleep set).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Sleeper {
    /// With `kind`, the event, without indices into one state: the message's hash for an
    /// event on a message, else a hash of the timer or client it acts on.
    ident: u64,
    /// The node it runs on; `NO_NODE` for none.
    node: u32,
    /// The shared resources it uses, as `USES_*` bits.
    uses: u8,
    kind: Kind,
}

// Kept per state seen: its size is part of the memory each state costs.
const _: () = assert!(std::mem::size_of::<Sleeper>() == 16);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Deliver,
    Duplicate,
    Drop,
    Fire,
    Crash,
    Restart,
    Invoke,
    Resend,
    Timeout,
}

const NO_NODE: u32 = u32::MAX;
const USES_CLIENTS: u8 = 1;
const USES_TIMERS: u8 = 1 << 1;
const USES_DROPS: u8 = 1 << 2;
const USES_DUPLICATES: u8 = 1 << 3;
const USES_CRASHES: u8 = 1 << 4;
const USES_TIMEOUTS: u8 = 1 << 5;

impl Sleeper {
    /// `choice` in `state`, as known before its handler runs: see [`Sleeper::replied`].
    pub(crate) fn of<P: Protocol>(state: &State<P>, choice: Choice) -> Sleeper {
        let message = |kind: Kind, i: u32, uses: u8| {
            let envelope = &state.net[i as usize];
            let node = match kind {
                Kind::Drop => NO_NODE,
                _ => envelope.to.0,
            };
            Sleeper {
                ident: envelope.hash,
                node,
                uses,
                kind,
            }
        };
        let at = |kind: Kind, node: NodeId, ident: u64, uses: u8| Sleeper {
            ident,
            node: node.0,
            uses,
            kind,
        };
        match choice {
            Choice::Deliver(i) => message(Kind::Deliver, i, 0),
            Choice::Duplicate(i) => message(Kind::Duplicate, i, USES_DUPLICATES),
            Choice::Drop(i) => message(Kind::Drop, i, USES_DROPS),
            Choice::Fire { node, index } => {
                let timer = &state.nodes[node.index()].timers[index as usize];
                at(Kind::Fire, node, content_hash(timer), USES_TIMERS)
            }
            Choice::Crash(node) => at(Kind::Crash, node, 0, USES_CRASHES),
            Choice::Restart(node) => at(Kind::Restart, node, 0, 0),
            Choice::Invoke { client, node } => {
                at(Kind::Invoke, node, u64::from(client), USES_CLIENTS)
            }
            Choice::Resend { client, node } => {
                at(Kind::Resend, node, u64::from(client), USES_CLIENTS)
            }
            Choice::Timeout { client } => Sleeper {
                ident: u64::from(client),
                node: NO_NODE,
                uses: USES_CLIENTS | USES_TIMEOUTS,
                kind: Kind::Timeout,
            },
        }
    }

    /// The event, whose handler replied to a client (so it touches the clients) or not.
    pub(crate) fn replied(mut self, replied: bool) -> Sleeper {
        if replied {
            self.uses |= USES_CLIENTS;
        }
        self
    }

    /// Whether the two are the same event, in whatever state.
    pub(crate) fn same(&self, other: &Sleeper) -> bool {
        self.kind == other.kind && self.ident == other.ident && self.node == other.node
    }

    /// Whether the two may be taken in either order to the same state, neither disabling
    /// the other.
    pub(crate) fn independent(&self, other: &Sleeper) -> bool {
        let same_node = self.node != NO_NODE && self.node == other.node;
        let same_message = self.on_message() && other.on_message() && self.ident == other.ident;
        !same_node && !same_message && self.uses & other.uses == 0
    }

    fn on_message(&self) -> bool {
        matches!(self.kind, Kind::Deliver | Kind::Duplicate | Kind::Drop)
    }
}

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
        self.index.get(&fingerprint).is_some_and(|&i| {
            self.asleep_at(i)
                .iter()
                .all(|z| asleep.iter().any(|a| a.same(z)))
        })
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
            if asleep.iter().any(|a| a.same(&z)) {
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
            ident: u64::from(node) << 8 | u64::from(uses),
            node,
            uses,
            kind: Kind::Fire,
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
        let delivered = Sleeper {
            ident: 7,
            kind: Kind::Deliver,
            ..at(0, 0)
        };
        let dropped = Sleeper {
            node: NO_NODE,
            kind: Kind::Drop,
            ..delivered
        };
        assert!(!delivered.independent(&dropped), "one message");
        let fired = Sleeper {
            ident: 7,
            ..at(1, 0)
        };
        assert!(delivered.independent(&fired), "a timer is no message");
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
