//! What a node's `Debug` and `Hash` show: the protocol's state, not the caches a leader keeps
//! to send batches without copying them, nor counts kept only to answer a question quickly.
//! Two nodes that would behave the same way from now on then print and hash the same (as a
//! model checker's visited set needs), and `--states` traces stay readable.

use super::Raft;
use std::fmt;
use std::hash::{Hash, Hasher};

impl fmt::Debug for Raft {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Raft")
            .field("id", &self.id)
            .field("bug", &self.bug)
            .field("term", &self.term)
            .field("voted_for", &self.voted_for)
            .field("role", &self.role)
            .field("leader", &self.leader)
            .field("commit", &self.commit)
            .field("applied", &self.applied)
            .field("election_deadline", &self.election_deadline)
            .field("votes", &self.votes)
            .field("next", &self.next)
            .field("matched", &self.matched)
            .field("pending", &self.pending)
            .field("kv", &self.kv)
            .field("log", &self.log)
            .finish_non_exhaustive()
    }
}

impl Hash for Raft {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // The configuration (timeouts, cluster size, batch size) never changes in a run. What
        // the safety checks read (the chain hash of the last applied entry) is hashed: a buggy
        // node may have truncated entries it applied.
        self.id.hash(state);
        self.bug.hash(state);
        self.term.hash(state);
        self.voted_for.hash(state);
        self.role.hash(state);
        self.leader.hash(state);
        self.commit.hash(state);
        self.applied.hash(state);
        self.election_deadline.hash(state);
        self.votes.hash(state);
        self.next.hash(state);
        self.matched.hash(state);
        self.pending.hash(state);
        self.kv.hash(state);
        self.log.hash(state);
        self.applied_last.hash(state);
    }
}
