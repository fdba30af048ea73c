//! Each message's random numbers, from a generator of its own.
//!
//! Sender `i` has a SplitMix64 stream keyed by the run's network key and `i`; its `n`-th
//! number seeds the generator of the `n`-th message `i` sends, whatever becomes of that
//! message (a partition or a full link counts it too). The message's numbers are drawn in a
//! fixed order whatever the link's settings: the loss word, the duplication word, the
//! latency, then the copy's latency. So a message's fate depends only on its sender, its
//! number among the sender's messages and its link's settings: removing a crash or a
//! partition changes the draws of the messages it changes and of no other, and a lower loss
//! or duplication probability only spares messages (see [`crate::rng::below`]).

use crate::ids::NodeId;
use crate::rng::{KeyedRng, below, keyed};
use rand::{Rng, SeedableRng};

/// Every sender's stream of message seeds: 8 bytes per node.
pub(crate) struct MessageDraws {
    senders: Vec<KeyedRng>,
}

impl MessageDraws {
    pub(crate) fn new(key: u64, node_count: u32) -> MessageDraws {
        let senders = (0..node_count)
            .map(|i| keyed(key, [u64::from(i)]))
            .collect();
        MessageDraws { senders }
    }

    /// The draws of the next message `from` sends.
    #[inline(always)]
    pub(crate) fn next(&mut self, from: NodeId) -> MessageRng {
        let seed = self.senders[from.index()].next_u64();
        MessageRng(KeyedRng::seed_from_u64(seed))
    }
}

/// One message's generator.
pub(crate) struct MessageRng(KeyedRng);

impl MessageRng {
    /// Whether the message is lost and whether it is duplicated, for a link with these
    /// probabilities: always two words, so the latency after them does not depend on them.
    #[inline(always)]
    pub(crate) fn fate(&mut self, drop: f64, duplicate: f64) -> (bool, bool) {
        let lost = below(self.0.next_u64(), drop);
        let copied = below(self.0.next_u64(), duplicate);
        (lost, copied)
    }

    /// The generator latencies are sampled from, after [`MessageRng::fate`].
    #[inline(always)]
    pub(crate) fn latency(&mut self) -> &mut KeyedRng {
        &mut self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_draws_the_same_whatever_its_sender_sent_elsewhere() {
        let mut a = MessageDraws::new(9, 3);
        let mut b = MessageDraws::new(9, 3);
        // Node 1 sends in between on one side only; node 0's messages keep their numbers.
        let first = (
            a.next(NodeId(0)).0.next_u64(),
            b.next(NodeId(0)).0.next_u64(),
        );
        a.next(NodeId(1));
        a.next(NodeId(1));
        let second = (
            a.next(NodeId(0)).0.next_u64(),
            b.next(NodeId(0)).0.next_u64(),
        );
        assert_eq!(first.0, first.1);
        assert_eq!(second.0, second.1);
        assert_ne!(first.0, second.0, "each message has its own numbers");
        assert_ne!(
            MessageDraws::new(9, 3).next(NodeId(2)).0.next_u64(),
            MessageDraws::new(10, 3).next(NodeId(2)).0.next_u64(),
            "the key changes every draw"
        );
    }

    #[test]
    fn fate_draws_two_words_whatever_the_probabilities() {
        let latency_after = |drop, duplicate| {
            let mut rng = MessageDraws::new(4, 1).next(NodeId(0));
            rng.fate(drop, duplicate);
            rng.latency().next_u64()
        };
        let base = latency_after(0.0, 0.0);
        assert_eq!(base, latency_after(0.5, 0.0));
        assert_eq!(base, latency_after(1.0, 1.0));
    }
}
