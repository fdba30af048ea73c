//! Unit tests of the shard layout and the parameters.

use super::{Params, ScatterGather, copies_of, shard_of};
use crate::process::NodeId;
use crate::protocol::Protocol;
use crate::time::SimDuration;

#[test]
fn each_shard_has_two_distinct_copies() {
    for nodes in 2..6 {
        for shard in 0..nodes {
            let [primary, replica] = copies_of(shard, nodes);
            assert_eq!(primary, NodeId(shard));
            assert_ne!(primary, replica);
        }
    }
    assert_eq!(shard_of(7, 5), 2);
    assert_eq!(shard_of(-1, 5), 4);
}

#[test]
fn out_of_range_params_are_refused_not_clamped() {
    let ok = Params::default();
    assert!(ScatterGather::check_params(&ok, 4).is_ok());
    assert!(ScatterGather::check_params(&ok, 1).is_err());
    let chance = Params {
        slow_chance: 1.5,
        ..Params::default()
    };
    let e = ScatterGather::check_params(&chance, 4).unwrap_err();
    assert!(e.contains("slow_chance"), "{e}");
    let budget = Params {
        hedge_budget_pct: 101,
        ..Params::default()
    };
    assert!(ScatterGather::check_params(&budget, 4).is_err());
    let hedge = Params {
        hedge_after: Some(SimDuration::ZERO),
        ..Params::default()
    };
    assert!(ScatterGather::check_params(&hedge, 4).is_err());
}
