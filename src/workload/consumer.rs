//! How the clients of the log model consume, as members of one consumer group.
//!
//! Key `k` is assigned to client `k mod clients`, as a group assigns each partition to one
//! member: only that client polls and commits it (every client sends). A member starts from
//! the group's committed offset (it asks with `committed` before its first poll), polls from
//! its position, moves past what an ok poll returned, and commits its position. A member
//! whose op was indeterminate goes on as a new process, which, like a consumer that crashed
//! and rejoined, forgets its positions and starts again from the committed offset: so what it
//! commits is always what some ok poll of the group returned, and a service that commits more
//! than that is caught.

use super::ClientOp;
use crate::history::Value;
use std::collections::BTreeMap;

/// One client's positions in the keys it consumes.
#[derive(Clone, Debug, Default, Hash)]
pub(super) struct Consumer {
    /// Key → the next offset this member polls from, once it knows the committed offset.
    positions: BTreeMap<u32, u64>,
}

/// What a drawn consumer function becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Want {
    Poll,
    Commit,
    Committed,
}

impl Consumer {
    /// The op for `want` on the key drawn as `drawn`, for client `c` of `clients` over `keys`
    /// keys; `None` when the client is assigned no key (it only sends).
    pub(super) fn op(
        &self,
        want: Want,
        drawn: u32,
        (c, clients, keys): (u32, u32, u32),
    ) -> Option<ClientOp> {
        let owned = keys.saturating_sub(c).div_ceil(clients);
        if owned == 0 {
            return None;
        }
        let key = c + clients * (drawn % owned);
        let position = self.positions.get(&key).copied();
        Some(match (want, position) {
            (Want::Committed, _) | (_, None) => ClientOp::Committed { key },
            (Want::Poll, Some(offset)) => ClientOp::Poll { key, offset },
            (Want::Commit, Some(offset)) => ClientOp::Commit { key, offset },
        })
    }

    /// Notes what an ok reply to `op` carried.
    pub(super) fn on_ok(&mut self, op: &ClientOp, value: &Value) {
        match (*op, value) {
            (ClientOp::Committed { key }, Value::Int(offset)) => {
                let offset = u64::try_from(*offset).unwrap_or(0);
                self.positions.entry(key).or_insert(offset);
            }
            (ClientOp::Committed { key }, _) => {
                self.positions.entry(key).or_insert(0);
            }
            (ClientOp::Poll { key, offset }, Value::List(batch)) => {
                let last = batch.iter().filter_map(offset_of).max();
                if let Some(last) = last {
                    let next = offset.max(last.saturating_add(1));
                    self.positions.insert(key, next);
                }
            }
            _ => {}
        }
    }

    /// Forgets every position: the member rejoins the group.
    pub(super) fn rejoin(&mut self) {
        self.positions.clear();
    }
}

/// The offset of one `[offset, msg]` pair of a poll's batch.
fn offset_of(pair: &Value) -> Option<u64> {
    match pair {
        Value::List(parts) => match parts.first() {
            Some(Value::Int(o)) => u64::try_from(*o).ok(),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(pairs: &[(i64, i64)]) -> Value {
        let pairs = pairs
            .iter()
            .map(|&(o, m)| Value::List(vec![Value::Int(o), Value::Int(m)]));
        Value::List(pairs.collect())
    }

    #[test]
    fn a_member_asks_the_committed_offset_then_polls_past_what_it_got() {
        let mut c = Consumer::default();
        let me = (1, 3, 7); // client 1 of 3 owns keys 1 and 4
        assert_eq!(
            c.op(Want::Poll, 0, me),
            Some(ClientOp::Committed { key: 1 })
        );
        assert_eq!(
            c.op(Want::Poll, 1, me),
            Some(ClientOp::Committed { key: 4 })
        );
        c.on_ok(&ClientOp::Committed { key: 4 }, &Value::Int(2));
        assert_eq!(
            c.op(Want::Poll, 3, me),
            Some(ClientOp::Poll { key: 4, offset: 2 })
        );
        let poll = ClientOp::Poll { key: 4, offset: 2 };
        c.on_ok(&poll, &batch(&[(2, 10), (3, 11), (5, 12)]));
        assert_eq!(
            c.op(Want::Commit, 1, me),
            Some(ClientOp::Commit { key: 4, offset: 6 })
        );
        c.on_ok(&ClientOp::Poll { key: 4, offset: 6 }, &batch(&[]));
        assert_eq!(
            c.op(Want::Poll, 1, me),
            Some(ClientOp::Poll { key: 4, offset: 6 })
        );
        c.rejoin();
        assert_eq!(
            c.op(Want::Commit, 1, me),
            Some(ClientOp::Committed { key: 4 })
        );
    }

    #[test]
    fn a_member_with_no_key_assigned_only_sends() {
        let c = Consumer::default();
        assert_eq!(c.op(Want::Poll, 0, (2, 3, 2)), None);
        assert_eq!(
            c.op(Want::Poll, 5, (1, 3, 2)),
            Some(ClientOp::Committed { key: 1 })
        );
        c.op(Want::Committed, 0, (0, 1, 1))
            .expect("one client owns every key");
    }
}
