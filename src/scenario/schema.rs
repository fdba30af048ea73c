//! The YAML schema of a scenario file, field by field (see docs/scenario-format.md).
//!
//! Every type rejects unknown fields and validates its own values while being read, so that
//! every error carries the line and column of the offending value.

use super::context::{inspect, one_of};
use super::de::{BugRef, NodeRef, Probability, PropertyRef, ProtocolRef};
use crate::check::CheckEvery;
use crate::engine::NODES_MAX;
use crate::net::Latency;
use crate::serde_util::{map_then, str_then, u64_then};
use crate::time::SimDuration;
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, SeqAccess, Visitor};
use std::collections::BTreeSet;
use std::fmt;

use super::schema_search::{ExploreSpec, FuzzSpec};

/// Longest node name accepted.
const NODE_NAME_LEN_MAX: usize = 64;
/// Most faults a scenario may list.
pub const FAULTS_MAX: usize = 100_000;
/// Most per-link overrides.
const LINKS_MAX: usize = 100_000;

/// A scenario file as written, with `params:` read as `P`: the protocol's own parameter type
/// on the second pass (so that a bad parameter is reported at its own line), anything on the
/// first, which learns the protocol.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile<P> {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub protocol: ProtocolRef,
    #[serde(default = "none")]
    pub params: Option<P>,
    #[serde(default)]
    pub bug: Option<BugRef>,
    pub nodes: NodesSpec,
    #[serde(default)]
    pub seed: u64,
    #[serde(default = "default_duration")]
    pub duration: RunDuration,
    #[serde(default)]
    pub network: NetworkSpec,
    #[serde(default)]
    pub faults: FaultList,
    #[serde(default)]
    pub checks: Option<Vec<PropertyRef>>,
    #[serde(default)]
    pub check_every: Option<CheckEverySpec>,
    #[serde(default)]
    pub eventually: super::goals::GoalList,
    #[serde(default)]
    pub expect: Option<ExpectSpec>,
    #[serde(default)]
    pub limits: LimitsSpec,
    #[serde(default)]
    pub workload: Option<super::workload::WorkloadSpec>,
    #[serde(default)]
    pub liveness: Option<super::liveness::LivenessSpec>,
    #[serde(default)]
    pub nemesis: Option<super::nemesis::NemesisSpec>,
    #[serde(default)]
    pub swarm: Option<super::nemesis::SwarmSpec>,
    #[serde(default)]
    pub fuzz: Option<FuzzSpec>,
    #[serde(default)]
    pub schedule: super::schedule::ScheduleList,
    #[serde(default)]
    pub explore: Option<ExploreSpec>,
    #[serde(default)]
    pub topology: Option<super::topology::TopologySpec>,
}

fn none<P>() -> Option<P> {
    None
}

impl<P> ScenarioFile<P> {
    /// The file without its `params:`, and the `params:`.
    pub fn split(self) -> (ScenarioFile<IgnoredAny>, Option<P>) {
        let ScenarioFile {
            name,
            description,
            protocol,
            params,
            bug,
            nodes,
            seed,
            duration,
            network,
            faults,
            checks,
            check_every,
            eventually,
            expect,
            limits,
            workload,
            liveness,
            nemesis,
            swarm,
            fuzz,
            schedule,
            explore,
            topology,
        } = self;
        let rest = ScenarioFile {
            name,
            description,
            protocol,
            params: None,
            bug,
            nodes,
            seed,
            duration,
            network,
            faults,
            checks,
            check_every,
            eventually,
            expect,
            limits,
            workload,
            liveness,
            nemesis,
            swarm,
            fuzz,
            schedule,
            explore,
            topology,
        };
        (rest, params)
    }
}

fn default_duration() -> RunDuration {
    RunDuration(SimDuration::from_secs(10))
}

/// How long the run lasts in simulated time; more than zero.
#[derive(Clone, Copy, Debug)]
pub struct RunDuration(pub SimDuration);

impl<'de> Deserialize<'de> for RunDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        str_then(d, "a duration such as \"20s\"", |text| {
            let duration = crate::time::parse_duration(text).map_err(|e| e.to_string())?;
            if duration == SimDuration::ZERO {
                return Err("duration must be more than 0, e.g. \"20s\"".to_string());
            }
            Ok(RunDuration(duration))
        })
    }
}

/// `nodes: 5` or `nodes: [a, b, c]`.
#[derive(Debug, Clone)]
pub enum NodesSpec {
    Count(u64),
    Names(Vec<String>),
}

impl NodesSpec {
    pub fn names(&self) -> Vec<String> {
        match self {
            NodesSpec::Count(n) => crate::engine::default_names(*n as u32),
            NodesSpec::Names(names) => names.clone(),
        }
    }
}

impl<'de> Deserialize<'de> for NodesSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodesVisitor)
    }
}

struct NodesVisitor;

impl<'de> Visitor<'de> for NodesVisitor {
    type Value = NodesSpec;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a node count such as 5, or a list of node names such as [a, b, c]")
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<NodesSpec, E> {
        if n == 0 {
            return Err(E::custom("a scenario needs at least 1 node"));
        }
        if n > u64::from(NODES_MAX) {
            return Err(E::custom(format!(
                "{n} nodes is more than faultline's maximum of {NODES_MAX}"
            )));
        }
        check_node_limit(n)?;
        Ok(NodesSpec::Count(n))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<NodesSpec, E> {
        if n < 0 {
            return Err(E::custom(format!("node count {n} is negative")));
        }
        self.visit_u64(n as u64)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NodesSpec, A::Error> {
        let mut names: Vec<String> = Vec::new();
        let mut seen = BTreeSet::new();
        while let Some(name) = seq.next_element::<String>()? {
            check_node_name(&name)?;
            if !seen.insert(name.clone()) {
                return Err(de::Error::custom(format!(
                    "node name `{name}` appears twice"
                )));
            }
            if names.len() >= NODES_MAX as usize {
                return Err(de::Error::custom(format!(
                    "more than {NODES_MAX} node names"
                )));
            }
            names.push(name);
        }
        check_node_limit(names.len() as u64)?;
        if names.is_empty() {
            return Err(de::Error::custom(
                "the node list is empty; a scenario needs at least 1 node",
            ));
        }
        Ok(NodesSpec::Names(names))
    }
}

/// On the second pass, the scenario's own `limits.max_nodes` applies.
fn check_node_limit<E: de::Error>(count: u64) -> Result<(), E> {
    if let Some(max) = inspect(|c| c.max_nodes)
        && count > max
    {
        return Err(E::custom(format!(
            "{count} nodes is more than the limit of {max}; raise limits.max_nodes (at most {NODES_MAX})"
        )));
    }
    // A scenario without `params:` runs the protocol's defaults, which may not fit this many
    // nodes (three replicas per key on two nodes): said here, where the count is written.
    let verdict = inspect(|c| {
        let check = c.default_params_check?;
        let nodes = u32::try_from(count).unwrap_or(u32::MAX);
        check(nodes).err().map(|e| (c.protocol.clone(), e))
    });
    match verdict.flatten() {
        Some((protocol, e)) => Err(E::custom(format!(
            "{count} nodes do not fit the default `params:` of protocol `{protocol}`: {e}; \
             set `params:` to fit them"
        ))),
        None => Ok(()),
    }
}

fn check_node_name<E: de::Error>(name: &str) -> Result<(), E> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    if name.is_empty()
        || name.len() > NODE_NAME_LEN_MAX
        || !name.chars().all(ok_char)
        || name == "all"
    {
        return Err(E::custom(format!(
            "bad node name `{name}`: use 1 to {NODE_NAME_LEN_MAX} letters, digits, `_`, `-` or `.` (and not `all`)"
        )));
    }
    Ok(())
}

/// `network:` — defaults for every link, plus per-link overrides.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    pub latency: Option<Latency>,
    pub drop: Option<Probability>,
    pub duplicate: Option<Probability>,
    pub fifo: Option<bool>,
    pub capacity: Option<Capacity>,
    #[serde(default)]
    pub links: LinkList,
    pub pct: Option<PctSpec>,
}

/// `pct: { depth: D, over: T }`: PCT-style delivery priorities ([`crate::net::Pct`]);
/// `over` defaults to the run's duration.
#[derive(Debug, Clone, Copy)]
pub struct PctSpec(pub crate::net::Pct);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PctFields {
    depth: u32,
    over: Option<SimDuration>,
}

impl<'de> Deserialize<'de> for PctSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        map_then(d, "pct settings such as { depth: 3 }", |f: PctFields| {
            let run = inspect(|c| c.duration_ns).map(SimDuration);
            let span = f.over.or(run).unwrap_or(SimDuration::from_secs(10));
            let pct = crate::net::Pct {
                depth: f.depth,
                span,
            };
            let nodes = inspect(|c| c.nodes.len()).unwrap_or(0);
            pct.validate(u32::try_from(nodes).unwrap_or(u32::MAX))?;
            Ok(PctSpec(pct))
        })
    }
}

/// Most messages in flight on a link; at least 1.
#[derive(Debug, Clone, Copy)]
pub struct Capacity(pub u32);

impl<'de> Deserialize<'de> for Capacity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        u64_then(d, "a number of messages", |n| {
            crate::net::check_capacity(n).map(Capacity)
        })
    }
}

/// One directed link's overrides.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    pub from: NodeRef,
    pub to: NodeRef,
    pub latency: Option<Latency>,
    pub drop: Option<Probability>,
    pub duplicate: Option<Probability>,
    pub fifo: Option<bool>,
    pub capacity: Option<Capacity>,
}

/// `links:`, with no link listed twice.
#[derive(Debug, Default)]
pub struct LinkList(pub Vec<LinkSpec>);

impl<'de> Deserialize<'de> for LinkList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let links = Vec::<LinkSpec>::deserialize(d)?;
        if links.len() > LINKS_MAX {
            return Err(de::Error::custom(format!(
                "more than {LINKS_MAX} link overrides"
            )));
        }
        let mut seen = BTreeSet::new();
        for l in &links {
            if !seen.insert((&l.from.0, &l.to.0)) {
                return Err(de::Error::custom(format!(
                    "the link {} → {} is listed twice; merge the two entries",
                    l.from.0, l.to.0
                )));
            }
        }
        Ok(LinkList(links))
    }
}

/// `faults:`: those at a time, and those on a trigger.
#[derive(Debug, Default)]
pub struct FaultList(pub Vec<FaultSpec>, pub Vec<super::triggers::TriggerSpec>);

impl<'de> Deserialize<'de> for FaultList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use super::faults::FaultEntry;
        let entries = Vec::<FaultEntry>::deserialize(d)?;
        if entries.len() > FAULTS_MAX {
            return Err(de::Error::custom(format!("more than {FAULTS_MAX} faults")));
        }
        let (mut timed, mut triggered) = (Vec::new(), Vec::new());
        for e in entries {
            match e {
                FaultEntry::Timed(f) => timed.push(f),
                FaultEntry::Triggered(t) => triggered.push(t),
            }
        }
        if triggered.len() > crate::faults::trigger::TRIGGERS_MAX {
            return Err(de::Error::custom(format!(
                "more than {} triggered faults",
                crate::faults::trigger::TRIGGERS_MAX
            )));
        }
        Ok(FaultList(timed, triggered))
    }
}

pub use super::faults::FaultSpec;

/// `check_every: event`, `check_every: 100` (events) or `check_every: end`.
#[derive(Debug, Clone, Copy)]
pub struct CheckEverySpec(pub CheckEvery);

impl<'de> Deserialize<'de> for CheckEverySpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CheckEveryVisitor)
    }
}

struct CheckEveryVisitor;

impl<'de> Visitor<'de> for CheckEveryVisitor {
    type Value = CheckEverySpec;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("`event`, a number of events such as 100, or `end`")
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<CheckEverySpec, E> {
        match n {
            0 => Err(E::custom(
                "check_every must be at least 1 event, or `event` or `end`",
            )),
            1 => Ok(CheckEverySpec(CheckEvery::Event)),
            n => Ok(CheckEverySpec(CheckEvery::Events(n))),
        }
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<CheckEverySpec, E> {
        match u64::try_from(n) {
            Ok(n) => self.visit_u64(n),
            Err(_) => Err(E::custom(format!("check_every {n} is negative"))),
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<CheckEverySpec, E> {
        match v {
            "event" => Ok(CheckEverySpec(CheckEvery::Event)),
            "end" => Ok(CheckEverySpec(CheckEvery::End)),
            other => Err(E::custom(format!(
                "check_every is `event`, a number of events such as 100, or `end`; not `{other}`"
            ))),
        }
    }
}

/// What the scenario expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpectSpec {
    Pass,
    /// A violation of the named property, or of any property.
    Violation(Option<String>),
}

impl ExpectSpec {
    /// Whether a run or search that broke the properties named `violated` (and stopped for
    /// no other reason) meets this expectation.
    pub fn met_by<'a>(&self, mut violated: impl Iterator<Item = &'a str>) -> bool {
        match self {
            ExpectSpec::Pass => violated.next().is_none(),
            ExpectSpec::Violation(None) => violated.next().is_some(),
            ExpectSpec::Violation(Some(name)) => violated.any(|v| v == name),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectFields {
    outcome: Option<OutcomeWord>,
    violation: Option<PropertyRef>,
}

#[derive(Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum OutcomeWord {
    Pass,
    Violation,
}

impl<'de> Deserialize<'de> for ExpectSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        map_then(
            d,
            "{ outcome: pass } or { violation: <property> }",
            |f: ExpectFields| match (f.outcome, f.violation) {
                (None, None) => Err(
                    "expect needs `outcome: pass`, `outcome: violation` or `violation: <property>`"
                        .into(),
                ),
                (Some(OutcomeWord::Pass), Some(v)) => Err(format!(
                    "expect says both `outcome: pass` and `violation: {}`; keep one",
                    v.0
                )),
                (Some(OutcomeWord::Pass), None) => Ok(ExpectSpec::Pass),
                (_, Some(v)) => Ok(ExpectSpec::Violation(Some(v.0))),
                (Some(OutcomeWord::Violation), None) => Ok(ExpectSpec::Violation(None)),
            },
        )
    }
}

/// `limits:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSpec {
    pub max_events: Option<PositiveCount>,
    pub max_time: Option<SimDuration>,
    pub max_nodes: Option<PositiveCount>,
    pub max_queue: Option<PositiveCount>,
}

/// A count of at least 1.
#[derive(Debug, Clone, Copy)]
pub struct PositiveCount(pub u64);

impl<'de> Deserialize<'de> for PositiveCount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        u64_then(d, "a count of at least 1", |n| match n {
            0 => Err("a limit must be at least 1".to_string()),
            n => Ok(PositiveCount(n)),
        })
    }
}

/// Names the allowed fault actions, for messages.
pub(crate) fn fault_actions() -> String {
    one_of(&[
        "partition",
        "heal",
        "crash",
        "restart",
        "pause",
        "resume",
        "isolate",
        "cut",
        "clog",
        "clock_skew",
        "clock_jump",
        "partition_region",
        "crash_region",
        "restart_region",
    ])
}
