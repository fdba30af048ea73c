//! [`proptest`](https://docs.rs/proptest) strategies for networks and fault schedules, behind
//! the `proptest` feature.
//!
//! A schedule is drawn as a list of episodes (a fault and its repair), so when a property
//! fails proptest shrinks the schedule itself: it drops episodes, moves them earlier and
//! shortens them, down to the few faults that matter.
//!
//! ```
//! use faultline::proptest::{fault_schedule, network_config};
//! use faultline::time::SimDuration;
//! use proptest::strategy::{Strategy, ValueTree};
//! use proptest::test_runner::TestRunner;
//!
//! let mut runner = TestRunner::deterministic();
//! let network = network_config(0.2, 0.1).new_tree(&mut runner).unwrap().current();
//! assert!(network.default.drop <= 0.2);
//! let faults = fault_schedule(3, SimDuration::from_secs(2), 6)
//!     .new_tree(&mut runner)
//!     .unwrap()
//!     .current();
//! // Every fault comes with its repair, in time order, within the window.
//! assert!(faults.len() % 2 == 0);
//! assert!(faults.windows(2).all(|w| w[0].at <= w[1].at));
//! ```

use crate::faults::{Fault, TimedFault};
use crate::net::{Latency, LinkConfig, NetworkConfig};
use crate::process::NodeId;
use crate::time::{SimDuration, SimTime};
use proptest::prelude::*;

/// Latencies up to `max_ms` milliseconds: constant, uniform, normal or exponential.
pub fn latency(max_ms: u64) -> impl Strategy<Value = Latency> {
    let ms = move || (0..=max_ms).prop_map(SimDuration::from_millis);
    prop_oneof![
        ms().prop_map(Latency::Constant),
        (ms(), ms()).prop_map(|(a, b)| Latency::Uniform(a.min(b), a.max(b))),
        (ms(), ms()).prop_map(|(mean, std)| Latency::Normal { mean, std }),
        (ms(), ms()).prop_map(|(mean, min)| Latency::Exponential { mean, min }),
    ]
}

/// One network for every link: loss up to `max_drop`, duplication up to `max_duplicate`,
/// latency up to 50 ms. Shrinks towards a lossless, duplicate-free, instant network.
pub fn network_config(max_drop: f64, max_duplicate: f64) -> impl Strategy<Value = NetworkConfig> {
    (latency(50), 0.0..=max_drop, 0.0..=max_duplicate).prop_map(|(latency, drop, duplicate)| {
        NetworkConfig {
            default: LinkConfig {
                latency,
                drop,
                duplicate,
                ..LinkConfig::default()
            },
            links: Default::default(),
        }
    })
}

/// Up to `max_episodes` fault episodes over `nodes` nodes, each starting and repaired within
/// `duration`: a node isolated then healed, crashed then restarted, or paused then resumed.
/// Episodes may overlap; the result is sorted by time.
pub fn fault_schedule(
    nodes: u32,
    duration: SimDuration,
    max_episodes: usize,
) -> impl Strategy<Value = Vec<TimedFault>> {
    let span = duration.0.max(1);
    let episode = (0..span, 0..span, 0..3u8, 0..nodes.max(1));
    prop::collection::vec(episode, 0..=max_episodes).prop_map(move |episodes| {
        let mut faults = Vec::with_capacity(episodes.len() * 2);
        for (start, length, kind, node) in episodes {
            let node = NodeId(node);
            let (begin, repair) = match kind {
                0 => (Fault::Isolate(node), Fault::Heal(Some(node))),
                1 => (Fault::Crash(node), Fault::Restart(node)),
                _ => (Fault::Pause(node), Fault::Resume(node)),
            };
            let end = start.saturating_add(length).min(span);
            faults.push(TimedFault {
                at: SimTime(start),
                fault: begin,
            });
            faults.push(TimedFault {
                at: SimTime(end),
                fault: repair,
            });
        }
        // A stable sort keeps each repair after its fault when both fall on the same instant.
        faults.sort_by_key(|f| f.at);
        faults
    })
}
