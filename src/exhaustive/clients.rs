//! The clients of an explored state: the scenario's workload, with every choice of when a
//! client invokes its next operation and which node it asks.
//!
//! The operations are the workload's own (client `c`'s op number `seq` is drawn as in a run),
//! and so are the history and its checker. What the search abstracts: a request reaches its
//! node when it is invoked and a reply its client when it is sent, since a latency on the
//! client link only widens an operation's interval, and a wider interval never makes a
//! history less linearizable; client links never lose anything, and clients never time out,
//! so an operation whose request died with its node stays open (indeterminate) to the end.
//! The history's clock counts events, as a replay's trace does: event k of a path is at k ms.
//! Its times are not part of the state, only the order of invocations and completions (the
//! history's real-time order) is, so paths that differ only in unrelated events merge.

use crate::history::Status;
use crate::ids::NodeId;
use crate::time::SimTime;
use crate::workload::{Clients, Reply, Request, RequestId, WorkloadConfig};

/// The clients of one explored state, and the history they recorded on its path.
#[derive(Clone)]
pub(crate) struct ModelClients {
    pub(crate) clients: Clients,
    /// Per client: a redirected request waiting to be sent again, and to which node.
    resend: Vec<Option<(NodeId, Request)>>,
    /// Of all of the above.
    pub(crate) hash: u64,
}

impl ModelClients {
    pub(crate) fn new(config: WorkloadConfig, seed: u64, node_count: u32) -> Self {
        let count = config.clients as usize;
        let mut clients = ModelClients {
            clients: Clients::new(config, seed, node_count),
            resend: vec![None; count],
            hash: 0,
        };
        clients.rehash();
        clients
    }

    pub(crate) fn count(&self) -> u32 {
        self.resend.len() as u32
    }

    /// Whether client `c` may invoke its next op: it is idle and has invoked fewer than
    /// `ops_max`.
    pub(crate) fn can_invoke(&self, c: u32, ops_max: u32) -> bool {
        let (idle, invoked) = self.clients.idle(c);
        idle && invoked < ops_max
    }

    /// The node client `c`'s redirected request waits to be sent to, if one does.
    pub(crate) fn resend_to(&self, c: u32) -> Option<NodeId> {
        self.resend[c as usize].as_ref().map(|(to, _)| *to)
    }

    /// Client `c` invokes its next op at `node` at `now`: the request, which arrives at once.
    pub(crate) fn invoke(&mut self, c: u32, node: NodeId, now: SimTime) -> Option<Request> {
        self.clients.invoke_at(c, now, node)
    }

    /// The request client `c` would send now: its redirected one, or else its next op at
    /// `node`; where to, and the request. Nothing changes.
    pub(crate) fn peek(&self, c: u32, node: NodeId) -> Option<(NodeId, Request)> {
        if let Some(resend) = &self.resend[c as usize] {
            return Some(resend.clone());
        }
        // The op is drawn when it is invoked: invoked on a copy, to be told.
        let request = self.clone().invoke(c, node, SimTime::ZERO)?;
        Some((node, request))
    }

    /// Client `c`'s redirected request, sent again now: where to, and the request.
    pub(crate) fn take_resend(&mut self, c: u32) -> Option<(NodeId, Request)> {
        self.resend[c as usize].take()
    }

    /// Client `c`'s open op, the node it was last sent to, and its number.
    pub(crate) fn open(&self, c: u32) -> Option<(crate::workload::ClientOp, NodeId, u32)> {
        self.clients.open(c)
    }

    /// Client `c` times out on its open op at `now`: it ends as info (maybe done, maybe not),
    /// a redirect it waited to follow is forgotten, and the client may invoke its next op.
    pub(crate) fn time_out(&mut self, c: u32, now: SimTime) {
        self.resend[c as usize] = None;
        self.clients.give_up(c, now);
        self.rehash();
    }

    /// Node `from` answered request `id` at `now`: the status the op completed with, if it
    /// did.
    pub(crate) fn replied(
        &mut self,
        from: NodeId,
        id: RequestId,
        reply: Reply,
        now: SimTime,
    ) -> Option<Status> {
        use crate::workload::clients::Outcome;
        match self.clients.on_reply(id, from, reply, now) {
            Outcome::Stale => None,
            Outcome::Completed { status } => Some(status),
            Outcome::Resend { request, to } => {
                self.resend[id.client as usize] = Some((to, request));
                None
            }
        }
    }

    /// Recomputes [`ModelClients::hash`] after a change.
    pub(crate) fn rehash(&mut self) {
        let resend = crate::trace::content_hash(&self.resend);
        self.hash = crate::linearizability::fxhash::mix64(
            self.clients.fingerprint() ^ resend.rotate_left(29),
        );
    }
}
