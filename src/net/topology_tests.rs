use super::*;
use crate::net::{Network, NetworkConfig, Route};
use crate::time::{SimDuration, SimTime};

fn ms(n: u64) -> SimDuration {
    SimDuration::from_millis(n)
}

fn names(n: u32) -> Vec<String> {
    crate::engine::default_names(n)
}

fn region(name: &str, nodes: &[u32]) -> Region {
    Region {
        name: name.into(),
        nodes: nodes.iter().map(|&i| NodeId(i)).collect(),
    }
}

fn pair(from: &str, to: &str, latency: Latency) -> RegionPair {
    RegionPair {
        from: from.into(),
        to: to.into(),
        latency,
    }
}

/// us: n1, n2; eu: n3; ap: n4. Within 1 ms, us–eu 40 ms both ways, the rest 100 ms.
fn three() -> Topology {
    Topology {
        regions: vec![
            region("us", &[0, 1]),
            region("eu", &[2]),
            region("ap", &[3]),
        ],
        within: Some(Latency::Constant(ms(1))),
        between: vec![pair("us", "eu", Latency::Constant(ms(40)))],
        default: Some(Latency::Constant(ms(100))),
        ..Topology::default()
    }
}

#[test]
fn each_pair_takes_its_listed_then_reverse_then_within_then_default_latency() {
    let t = three().table(&names(4)).expect("valid");
    let at = |a, b| t.between_nodes(NodeId(a), NodeId(b)).clone();
    assert_eq!(at(0, 1), Latency::Constant(ms(1)), "within us");
    assert_eq!(at(0, 2), Latency::Constant(ms(40)), "us → eu, listed");
    assert_eq!(at(2, 1), Latency::Constant(ms(40)), "eu → us, the reverse");
    assert_eq!(at(3, 0), Latency::Constant(ms(100)), "ap → us, the default");
    assert_eq!(at(3, 3), Latency::Constant(ms(1)), "within ap");
}

#[test]
fn a_pair_listed_both_ways_is_one_way_each_and_a_region_with_itself_overrides_within() {
    let mut t = three();
    t.between.push(pair("eu", "us", Latency::Constant(ms(60))));
    t.between.push(pair("ap", "ap", Latency::Constant(ms(7))));
    let table = t.table(&names(4)).expect("valid");
    let at = |a, b| table.between_nodes(NodeId(a), NodeId(b)).clone();
    assert_eq!(at(0, 2), Latency::Constant(ms(40)));
    assert_eq!(at(2, 0), Latency::Constant(ms(60)));
    assert_eq!(at(3, 3), Latency::Constant(ms(7)));
    assert_eq!(at(1, 1), Latency::Constant(ms(1)));
}

#[test]
fn validate_names_what_is_wrong() {
    let names = names(4);
    let fails = |t: Topology| t.validate(&names).expect_err("invalid");
    let mut t = three();
    t.regions[1].nodes.push(NodeId(0));
    assert_eq!(
        fails(t),
        "node `n1` is in two regions, `us` and `eu`; a node sits in one region"
    );
    let mut t = three();
    t.regions[2].nodes.clear();
    assert_eq!(fails(t), "region `ap` has no node");
    let mut t = three();
    t.regions.pop();
    assert_eq!(
        fails(t),
        "node `n4` is in no region; list it under one of `us` or `eu`"
    );
    let mut t = three();
    t.default = None;
    assert_eq!(
        fails(t),
        "no latency between regions `us` and `ap`: list the pair or give a `default`"
    );
    let mut t = three();
    t.between.push(pair("us", "mars", Latency::Constant(ms(1))));
    assert_eq!(
        fails(t),
        "unknown region `mars`; expected `us`, `eu` or `ap`"
    );
    let mut t = three();
    t.between.push(pair("us", "eu", Latency::Constant(ms(2))));
    assert_eq!(fails(t), "the latency from `us` to `eu` is given twice");
    let mut t = three();
    t.regions[2].name = "eu".into();
    assert_eq!(fails(t), "region `eu` is listed twice");
    let mut t = three();
    t.within = Some(Latency::Uniform(ms(3), ms(1)));
    assert!(fails(t).starts_with("within: uniform latency"));
    let mut t = three();
    t.regions[2].nodes.push(NodeId(9));
    assert!(fails(t).starts_with("node index 9 does not exist"));
    let mut t = three();
    t.clients = vec![("eu".into(), 0)];
    assert_eq!(
        fails(t),
        "clients: region `eu` has 0 clients; leave it out instead"
    );
    assert_eq!(
        Topology::default().validate(&names).expect_err("empty"),
        "a topology needs at least one region"
    );
}

#[test]
fn clients_must_match_the_workload() {
    let mut t = three();
    assert!(t.check_workload(None).is_ok(), "no clients placed");
    t.clients = vec![("eu".into(), 2), ("us".into(), 1)];
    assert!(t.check_workload(Some(3)).is_ok());
    assert!(t.check_workload(Some(4)).is_err());
    assert!(t.check_workload(None).is_err());
}

#[test]
fn clients_are_numbered_in_listed_order_and_spread_over_their_region() {
    let mut t = three();
    t.clients = vec![("eu".into(), 2), ("us".into(), 3)];
    assert_eq!(
        t.client_regions(),
        vec![("eu".to_string(), 0..2), ("us".to_string(), 2..5)]
    );
    let homes: Vec<(u32, NodeId)> = t.placement();
    assert_eq!(
        homes,
        vec![
            (1, NodeId(2)),
            (1, NodeId(2)),
            (0, NodeId(0)),
            (0, NodeId(1)),
            (0, NodeId(0))
        ]
    );
}

#[test]
fn region_faults_expand_into_node_faults() {
    let t = three();
    assert_eq!(
        t.expand(&RegionFault::Crash("us".into())),
        Ok(vec![Fault::Crash(NodeId(0)), Fault::Crash(NodeId(1))])
    );
    assert_eq!(
        t.expand(&RegionFault::Restart("eu".into())),
        Ok(vec![Fault::Restart(NodeId(2))])
    );
    assert_eq!(
        t.expand(&RegionFault::Partition("us".into())),
        Ok(vec![Fault::Partition(vec![vec![NodeId(0), NodeId(1)]])])
    );
    assert!(t.expand(&RegionFault::Crash("mars".into())).is_err());
}

#[test]
fn routed_messages_take_their_regions_latency_unless_a_link_overrides_it() {
    let table = std::sync::Arc::new(three().table(&names(4)).expect("valid"));
    let mut config = NetworkConfig::default();
    let slow = crate::net::LinkConfig {
        latency: Latency::Constant(ms(500)),
        ..Default::default()
    };
    config.links.insert((NodeId(0), NodeId(2)), slow);
    let mut net = Network::new(config, 4, 7, None, Some(table));
    let now = SimTime::from_secs(1);
    let mut delay = |a, b| match net.route(NodeId(a), NodeId(b), now) {
        Route::Arrives { at, .. } => at - now,
        Route::Dropped(r) => panic!("dropped: {r:?}"),
    };
    assert_eq!(delay(0, 1), ms(1));
    assert_eq!(delay(2, 0), ms(40), "the reverse link has no override");
    assert_eq!(delay(0, 2), ms(500), "the override wins");
    assert_eq!(delay(3, 2), ms(100));
}

#[test]
fn a_shrinker_keeps_the_first_clients_and_never_empties_a_region() {
    let mut t = three();
    t.clients = vec![("eu".into(), 2), ("us".into(), 3)];
    t.keep_clients(3);
    assert_eq!(
        t.clients,
        vec![("eu".to_string(), 2), ("us".to_string(), 1)]
    );
    t.keep_clients(1);
    assert_eq!(t.clients, vec![("eu".to_string(), 1)]);
    assert!(t.remove_node(NodeId(1)), "us keeps n1");
    assert_eq!(t.regions[0].nodes, vec![NodeId(0)]);
    assert!(!t.remove_node(NodeId(0)), "us would be empty");
    assert!(!t.remove_node(NodeId(9)), "in no region");
    assert!(t.validate(&names(4)).is_err(), "n2 is now in no region");
    assert!(
        t.validate(&names(1)).is_err(),
        "eu and ap name nodes past the end"
    );
}

#[test]
fn two_nodes_of_one_zone_take_the_zone_latency_and_the_others_their_regions() {
    let mut t = three();
    t.regions[0].nodes.push(NodeId(4));
    t.zones = vec![region("us-a", &[0, 1]), region("us-b", &[4])];
    t.within_zone = Some(Latency::Constant(SimDuration::from_micros(200)));
    let table = t.table(&names(5)).expect("valid");
    let at = |a, b| table.between_nodes(NodeId(a), NodeId(b)).clone();
    assert_eq!(at(0, 1), Latency::Constant(SimDuration::from_micros(200)));
    assert_eq!(at(1, 4), Latency::Constant(ms(1)), "two zones of us");
    assert_eq!(at(4, 2), Latency::Constant(ms(40)), "us-b to eu");
    assert_eq!(at(3, 3), Latency::Constant(ms(1)), "ap has no zone");
    let fails = |t: &Topology| t.validate(&names(5)).expect_err("invalid");
    let mut bad = t.clone();
    bad.zones[1].nodes.push(NodeId(2));
    assert_eq!(
        fails(&bad),
        "zone `us-b` spans two regions: `n5` is in `us`, `n3` in `eu`; a zone lies inside one region"
    );
    let mut bad = t.clone();
    bad.zones[1].nodes.push(NodeId(0));
    assert_eq!(fails(&bad), "node `n1` is in two zones");
    let mut bad = t.clone();
    bad.within_zone = None;
    assert_eq!(fails(&bad), "zones need a `within_zone` latency");
    let mut bad = t.clone();
    bad.zones.clear();
    assert_eq!(fails(&bad), "`within_zone` needs `zones`");
}
