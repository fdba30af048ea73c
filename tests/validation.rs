//! One validation of faults, clocks and links: for every rule, `SimBuilder::build` and the
//! scenario parser (through the real binary, on a file of the malformed corpus) reject the same
//! setting with the same words. The parser adds `file:line:column` and exits with 2; the
//! builder returns a `SimError` naming the fault's index and time, or the link.

use faultline::{
    Ctx, Fault, Latency, LinkConfig, NetworkConfig, NodeId, Process, SignedDuration, SimBuilder,
    SimDuration, SimError, SimTime, TimedFault, TimerId,
};
use std::process::Command;

const EXIT_BAD_INPUT: i32 = 2;

struct Idle;

impl Process for Idle {
    type Message = ();
    type Timer = ();
    fn on_start(&mut self, _: &mut Ctx<'_, Self>) {}
    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
    fn on_timer(&mut self, _: &mut Ctx<'_, Self>, _: TimerId, _: ()) {}
}

fn n(i: u32) -> NodeId {
    NodeId(i)
}

/// What `faultline validate` says about `tests/malformed/<file>`: exit code 2, no panic, one
/// located line.
fn parser_says(file: &str) -> String {
    let path = format!("{}/tests/malformed/{file}", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["validate", &path])
        .output()
        .expect("run faultline");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(EXIT_BAD_INPUT), "{file}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.starts_with(&format!("{path}:")), "{stderr}");
    stderr.trim_end().to_string()
}

/// What `build` says about three nodes with this network and these faults.
fn builder_says(network: NetworkConfig, faults: Vec<TimedFault>) -> SimError {
    match SimBuilder::new(1)
        .nodes(3)
        .network(network)
        .faults(faults)
        .build(|_| Idle)
    {
        Ok(_) => panic!("the builder accepted it"),
        Err(e) => e,
    }
}

fn at_ms(ms: u64, fault: Fault) -> TimedFault {
    TimedFault {
        at: SimTime::from_millis(ms),
        fault,
    }
}

/// A crash at 500 ms, then `fault` at 1 s: the shape of the corpus files for these rules.
fn after_a_crash(fault: Fault) -> Vec<TimedFault> {
    vec![at_ms(500, Fault::Crash(n(1))), at_ms(1_000, fault)]
}

/// The builder rejects `fault` as the second fault, at 1 s, and the parser rejects
/// `file`, both with `words`.
fn same_words_for_fault(file: &str, fault: Fault, words: &str) {
    let yaml = parser_says(file);
    assert!(yaml.ends_with(&format!(": {words}")), "parser: {yaml}");
    let error = builder_says(NetworkConfig::default(), after_a_crash(fault));
    let SimError::InvalidFault { index, at, message } = &error else {
        panic!("not a fault error: {error:?}");
    };
    assert_eq!((*index, *at), (1, SimTime::from_secs(1)));
    assert_eq!(message, words);
    assert_eq!(
        error.to_string(),
        format!("invalid fault: faults[1] at 1s: {words}")
    );
}

/// The builder rejects `network` and the parser `file`, both with `words` about `field` of
/// `link` (`None` for the default link).
fn same_words_for_link(
    file: &str,
    network: NetworkConfig,
    link: Option<(NodeId, NodeId)>,
    field: &str,
    words: &str,
) {
    let yaml = parser_says(file);
    assert!(
        yaml.ends_with(&format!(".{field}: {words}")),
        "parser: {yaml}"
    );
    let error = builder_says(network, Vec::new());
    assert_eq!(
        error,
        SimError::InvalidLink {
            link,
            message: format!("{field}: {words}"),
        }
    );
}

fn default_link(link: LinkConfig) -> NetworkConfig {
    NetworkConfig {
        default: link,
        ..NetworkConfig::default()
    }
}

#[test]
fn a_partition_needs_a_group() {
    same_words_for_fault(
        "partition-no-groups.yaml",
        Fault::Partition(vec![]),
        "a partition needs at least one group, e.g. [[n1, n2], [n3]]",
    );
}

#[test]
fn a_partition_group_is_not_empty() {
    same_words_for_fault(
        "partition-group-empty.yaml",
        Fault::Partition(vec![vec![n(0)], vec![]]),
        "a partition group is empty",
    );
}

#[test]
fn a_node_is_in_one_partition_group_only() {
    let words = "node `n2` is in two partition groups; a node can be in only one";
    // The corpus file has this fault first.
    let yaml = parser_says("partition-node-twice.yaml");
    assert!(yaml.ends_with(&format!("faults[0]: {words}")), "{yaml}");
    same_words_for_fault(
        "partition-node-twice.yaml",
        Fault::Partition(vec![vec![n(0), n(1)], vec![n(1), n(2)]]),
        words,
    );
}

#[test]
fn a_node_is_listed_once_in_its_partition_group() {
    same_words_for_fault(
        "partition-node-repeated.yaml",
        Fault::Partition(vec![vec![n(0), n(0)], vec![n(1)]]),
        "node `n1` is listed twice in one partition group",
    );
}

fn skew(drift: f64) -> Fault {
    Fault::ClockSkew {
        node: n(1),
        offset: SignedDuration(0),
        drift,
    }
}

fn drift_words(drift: &str) -> String {
    format!(
        "drift {drift} must be a rate above 0 and at most 1000 (1.0 = runs at real speed, \
         1.05 = 5 % fast)"
    )
}

#[test]
fn a_drift_of_zero_is_rejected() {
    same_words_for_fault("skew-drift-zero.yaml", skew(0.0), &drift_words("0"));
}

#[test]
fn a_negative_drift_is_rejected() {
    same_words_for_fault("skew-negative-drift.yaml", skew(-1.0), &drift_words("-1"));
}

#[test]
fn a_drift_that_is_not_a_number_is_rejected() {
    same_words_for_fault("skew-drift-nan.yaml", skew(f64::NAN), &drift_words("NaN"));
}

#[test]
fn a_drift_above_the_maximum_is_rejected() {
    same_words_for_fault(
        "skew-drift-too-fast.yaml",
        skew(2000.0),
        &drift_words("2000"),
    );
    let fastest = vec![at_ms(1_000, skew(faultline::faults::DRIFT_MAX))];
    let built = SimBuilder::new(1).nodes(3).faults(fastest).build(|_| Idle);
    assert!(built.is_ok(), "the maximum itself is a valid drift");
}

#[test]
fn a_clog_ends_after_it_begins() {
    let clog = Fault::Clog {
        from: n(0),
        to: n(1),
        until: SimTime::from_secs(1),
    };
    same_words_for_fault(
        "clog-ends-at-start.yaml",
        clog,
        "a clog at 1s must last until after 1s, not until 1s",
    );
}

/// The parser names nodes, so it can only name unknown ones (`fault-unknown-node.yaml`); the
/// builder takes indexes and rejects one past the cluster.
#[test]
fn a_fault_names_existing_nodes_only() {
    let error = builder_says(
        NetworkConfig::default(),
        after_a_crash(Fault::Cut {
            from: n(0),
            to: n(3),
        }),
    );
    assert_eq!(
        error.to_string(),
        "invalid fault: faults[1] at 1s: node index 3 does not exist: there are only 3 nodes \
         (indexes 0 to 2)"
    );
    let yaml = parser_says("fault-unknown-node.yaml");
    assert!(
        yaml.contains("faults[0].crash: unknown node `n7`"),
        "{yaml}"
    );
}

#[test]
fn a_drop_probability_above_one_is_rejected() {
    let link = LinkConfig {
        drop: 1.5,
        ..LinkConfig::default()
    };
    same_words_for_link(
        "probability-above-one.yaml",
        default_link(link),
        None,
        "drop",
        "probability 1.5 is outside [0, 1]; write e.g. 0.01 for 1 %",
    );
}

#[test]
fn a_negative_drop_probability_is_rejected() {
    let link = LinkConfig {
        drop: -0.1,
        ..LinkConfig::default()
    };
    same_words_for_link(
        "probability-negative.yaml",
        default_link(link),
        None,
        "drop",
        "probability -0.1 is outside [0, 1]; write e.g. 0.01 for 1 %",
    );
}

#[test]
fn a_drop_probability_that_is_not_a_number_is_rejected() {
    let link = LinkConfig {
        drop: f64::NAN,
        ..LinkConfig::default()
    };
    same_words_for_link(
        "probability-nan.yaml",
        default_link(link),
        None,
        "drop",
        "probability NaN is outside [0, 1]; write e.g. 0.01 for 1 %",
    );
}

#[test]
fn a_duplicate_probability_of_a_link_override_is_checked() {
    let link = LinkConfig {
        duplicate: 1.01,
        ..LinkConfig::default()
    };
    let network = NetworkConfig {
        links: [((n(0), n(1)), link)].into_iter().collect(),
        ..NetworkConfig::default()
    };
    same_words_for_link(
        "link-duplicate-above-one.yaml",
        network,
        Some((n(0), n(1))),
        "duplicate",
        "probability 1.01 is outside [0, 1]; write e.g. 0.01 for 1 %",
    );
    let error = builder_says(
        NetworkConfig {
            links: [((n(0), n(1)), LinkConfig::default())]
                .into_iter()
                .collect(),
            default: LinkConfig {
                duplicate: 1.01,
                ..LinkConfig::default()
            },
        },
        Vec::new(),
    );
    assert!(
        error.to_string().starts_with(
            "invalid network: the default link: duplicate: probability 1.01 is outside"
        ),
        "{error}"
    );
}

#[test]
fn a_link_capacity_is_at_least_one() {
    let link = LinkConfig {
        capacity: Some(0),
        ..LinkConfig::default()
    };
    same_words_for_link(
        "capacity-zero.yaml",
        default_link(link),
        None,
        "capacity",
        "capacity 0 must be between 1 and 4294967295 messages in flight",
    );
}

#[test]
fn a_uniform_latency_has_its_bounds_in_order() {
    let link = LinkConfig {
        latency: Latency::Uniform(SimDuration::from_millis(10), SimDuration::from_millis(1)),
        ..LinkConfig::default()
    };
    same_words_for_link(
        "latency-bounds-reversed.yaml",
        default_link(link),
        None,
        "latency",
        "uniform latency [10ms, 1ms] has its low bound above its high bound",
    );
}

#[test]
fn a_pareto_latency_has_a_positive_shape() {
    let link = LinkConfig {
        latency: Latency::Pareto {
            scale: SimDuration::from_millis(1),
            shape: 0.0,
            max: faultline::net::PARETO_DEFAULT_MAX,
        },
        ..LinkConfig::default()
    };
    same_words_for_link(
        "latency-pareto-shape.yaml",
        default_link(link),
        None,
        "latency",
        "pareto shape must be a positive number, got 0",
    );
}

/// As for faults, the parser can only meet unknown names (`link-unknown-node.yaml`).
#[test]
fn a_link_override_joins_existing_nodes_only() {
    let network = NetworkConfig {
        links: [((n(5), n(0)), LinkConfig::default())]
            .into_iter()
            .collect(),
        ..NetworkConfig::default()
    };
    assert_eq!(
        builder_says(network, Vec::new()).to_string(),
        "invalid network: link n6 → n1: node index 5 does not exist: there are only 3 nodes \
         (indexes 0 to 2)"
    );
}

#[test]
fn builder_messages_use_the_node_names_given() {
    let overlap = Fault::Partition(vec![vec![n(0), n(1)], vec![n(1)]]);
    let error = SimBuilder::new(1)
        .node_names(vec!["alpha".into(), "beta".into(), "gamma".into()])
        .faults(vec![at_ms(2_000, overlap)])
        .build(|_| Idle)
        .err()
        .expect("rejected");
    assert_eq!(
        error.to_string(),
        "invalid fault: faults[0] at 2s: node `beta` is in two partition groups; a node can be \
         in only one"
    );
}
