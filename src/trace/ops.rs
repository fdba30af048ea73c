//! How every output names a client operation: by its number in the clients' history.
//!
//! The history records ops in the order they are invoked, across all clients, and numbers
//! them from 0: that number is the op's name in the run report, the explanation and the
//! viewer ("op 166"). A trace names an op by its client and that client's own count (`seq`);
//! since the history records an op at the moment its `invoke` is traced, the k-th `invoke` of
//! a whole trace is op k. Clients are named `c0`, `c1`, ... after the trace's `client` field.

use super::TraceKind;

/// The name of client `client`: `c0` for the trace's `client: 0`.
pub fn client_name(client: u32) -> String {
    format!("c{client}")
}

/// The history numbers of the ops of a trace, learnt by reading it from its first event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpNumbers {
    /// Per client, per `seq`: the op's number.
    by_client: Vec<Vec<u32>>,
    invoked: u32,
}

impl OpNumbers {
    /// Reads the next event of the trace; the number of the op it concerns, if it is a
    /// client event.
    pub fn read(&mut self, kind: &TraceKind) -> Option<u32> {
        if let TraceKind::Invoke { client, seq } = *kind {
            let number = self.invoked;
            let ops = self.client_mut(client);
            // A client's seq counts up by one per invoke; a gap cannot occur in a whole trace.
            if ops.len() == seq as usize {
                ops.push(number);
            }
            self.invoked += 1;
        }
        let (client, seq) = client_op(kind)?;
        self.number(client, seq)
    }

    /// The number of client `client`'s op `seq`, if its invoke was read.
    pub fn number(&self, client: u32, seq: u32) -> Option<u32> {
        self.by_client
            .get(client as usize)?
            .get(seq as usize)
            .copied()
    }

    fn client_mut(&mut self, client: u32) -> &mut Vec<u32> {
        let c = client as usize;
        if self.by_client.len() <= c {
            self.by_client.resize_with(c + 1, Vec::new);
        }
        &mut self.by_client[c]
    }
}

/// The `(client, seq)` a client event names.
pub fn client_op(kind: &TraceKind) -> Option<(u32, u32)> {
    match *kind {
        TraceKind::Invoke { client, seq }
        | TraceKind::Request { client, seq }
        | TraceKind::RequestLost { client, seq }
        | TraceKind::Reply { client, seq }
        | TraceKind::Complete { client, seq, .. } => Some((client, seq)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_are_numbered_in_invocation_order_across_clients() {
        let mut ops = OpNumbers::default();
        let invoke = |client, seq| TraceKind::Invoke { client, seq };
        assert_eq!(ops.read(&invoke(1, 0)), Some(0));
        assert_eq!(ops.read(&invoke(0, 0)), Some(1));
        let reply = TraceKind::Reply { client: 1, seq: 0 };
        assert_eq!(ops.read(&reply), Some(0));
        assert_eq!(ops.read(&invoke(1, 1)), Some(2));
        assert_eq!(ops.read(&TraceKind::Note), None);
        assert_eq!((ops.number(0, 0), ops.number(2, 0)), (Some(1), None));
        assert_eq!(client_name(3), "c3");
    }
}
