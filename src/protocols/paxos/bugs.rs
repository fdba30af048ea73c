//! The bug variants of paxos: each a classic mistake that a scenario turns on by name.

use super::BugDoc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Bug {
    IgnoreAccepted,
    BreakPromise,
    UnsyncedAcceptor,
    OneShortQuorum,
}

pub(super) const BUG_DOCS: &[BugDoc] = &[
    BugDoc {
        name: "ignore-accepted",
        description: "after phase 1 a proposer proposes its own value instead of the value of \
                      the highest-ballot proposal reported in the promises; when a value was \
                      accepted by a majority but its proposer crashed or was cut off before \
                      announcing it, a later proposer overwrites it and a second value is \
                      chosen; exposed by a crash or partition of a proposer right after \
                      phase 2",
        violates: "agreement",
    },
    BugDoc {
        name: "break-promise",
        description: "an acceptor accepts a proposal even when its ballot is lower than the one \
                      it promised; a slow Accept of an old ballot then lands on an acceptor \
                      that already promised a newer proposer, whose phase 1 could not see it, \
                      and both values gather a majority; exposed by concurrent proposers with \
                      slow links",
        violates: "agreement",
    },
    BugDoc {
        name: "unsynced-acceptor",
        description: "an acceptor writes its promise and its acceptance to storage but answers \
                      before syncing them; a crash loses them, and the restarted acceptor \
                      promises and accepts as if it never had; when the acceptors that made a \
                      value chosen crash before syncing, the value is forgotten and another \
                      one is chosen; exposed by crashing a majority of acceptors right after \
                      they accepted",
        violates: "agreement",
    },
    BugDoc {
        name: "one-short-quorum",
        description: "a proposer takes half the acceptors, rounded down and itself included, \
                      for a quorum of promises and of acceptances: one short of a majority \
                      (one of three, two of five); two such quorums need not share an \
                      acceptor, so proposers that start together each learn their own value, \
                      and a proposer learns a value fewer than a majority accepted; exposed \
                      in the first milliseconds by concurrent proposers, no fault needed",
        violates: "agreement",
    },
];

impl Bug {
    pub(super) fn from_name(name: &str) -> Option<Bug> {
        match name {
            "ignore-accepted" => Some(Bug::IgnoreAccepted),
            "break-promise" => Some(Bug::BreakPromise),
            "unsynced-acceptor" => Some(Bug::UnsyncedAcceptor),
            "one-short-quorum" => Some(Bug::OneShortQuorum),
            _ => None,
        }
    }
}
