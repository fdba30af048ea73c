//! `topology:` — regions naming the nodes in each, the latency between regions, and where the
//! workload's clients sit (see [`crate::net::Topology`]).
//!
//! ```yaml
//! topology:
//!   regions: { us-east: [n1, n2], eu-west: [n3] }
//!   zones: { us-east-1a: [n1], us-east-1b: [n2] }         # optional
//!   latency:
//!     within_zone: { uniform: [100us, 300us] }             # with zones
//!     within: { uniform: [1ms, 3ms] }
//!     between: [ { regions: [us-east, eu-west], latency: { uniform: [35ms, 45ms] } } ]
//!   clients: { us-east: 2, eu-west: 1 }
//! ```
//!
//! Names are checked as they are read (a node or region that does not exist is reported at
//! its own line); the whole is then checked by [`crate::net::Topology::validate`], the check
//! [`crate::SimBuilder::build`] makes, in the same words.

use super::context::inspect;
use super::de::NodeRef;
use crate::net::{Latency, Region, RegionPair, Topology, check_region_name, unknown_region};
use crate::process::NodeId;
use crate::serde_util::{map_then, str_then};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use std::collections::BTreeSet;
use std::fmt;
use std::marker::PhantomData;

/// `topology:` as written, names unresolved.
#[derive(Debug, Clone)]
pub struct TopologySpec {
    pub regions: Vec<(String, Vec<String>)>,
    pub within: Option<Latency>,
    pub between: Vec<(String, String, Latency)>,
    pub default: Option<Latency>,
    pub zones: Vec<(String, Vec<String>)>,
    pub within_zone: Option<Latency>,
    pub clients: Vec<(String, u32)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TopologyFields {
    regions: Ordered<RegionName, Vec<NodeRef>>,
    #[serde(default)]
    zones: Option<Ordered<ZoneName, Vec<NodeRef>>>,
    latency: LatencyFields,
    #[serde(default)]
    clients: Option<Ordered<RegionRef, u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LatencyFields {
    within: Option<Latency>,
    within_zone: Option<Latency>,
    #[serde(default)]
    between: Vec<PairFields>,
    default: Option<Latency>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PairFields {
    regions: [RegionRef; 2],
    latency: Latency,
}

impl<'de> Deserialize<'de> for TopologySpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        map_then(
            d,
            "a topology such as { regions: { us-east: [n1, n2], eu-west: [n3] }, latency: { default: { constant: 40ms } } }",
            convert,
        )
    }
}

fn names<K: Named>(map: Ordered<K, Vec<NodeRef>>) -> Vec<(String, Vec<String>)> {
    let named = map.0.into_iter();
    named
        .map(|(k, nodes)| {
            (
                k.name().to_string(),
                nodes.into_iter().map(|n| n.0).collect(),
            )
        })
        .collect()
}

fn convert(f: TopologyFields) -> Result<TopologySpec, String> {
    let spec = TopologySpec {
        regions: names(f.regions),
        zones: f.zones.map(names).unwrap_or_default(),
        within_zone: f.latency.within_zone,
        within: f.latency.within,
        between: f
            .latency
            .between
            .into_iter()
            .map(|p| {
                let [a, b] = p.regions;
                (a.0, b.0, p.latency)
            })
            .collect(),
        default: f.latency.default,
        clients: f
            .clients
            .map(|c| c.0.into_iter().map(|(r, n)| (r.0, n)).collect())
            .unwrap_or_default(),
    };
    let verdict = inspect(|c| {
        if c.network_latency {
            return Err(
                "with a `topology:`, every link takes its regions' latency: remove \
                 `network.latency`, or give it here as `latency.default`"
                    .to_string(),
            );
        }
        if c.swarm_latency {
            return Err(
                "with a `topology:`, every link takes its regions' latency: a \
                 `swarm.latency_mean` would not change it; remove one of them"
                    .to_string(),
            );
        }
        let topology = spec.resolve(&|name| node_id(&c.nodes, name));
        topology.validate(&c.nodes)?;
        topology.check_workload(c.workload_clients)
    });
    verdict.unwrap_or(Ok(()))?;
    Ok(spec)
}

fn node_id(names: &[String], name: &str) -> NodeId {
    NodeId(names.iter().position(|n| n == name).unwrap_or(names.len()) as u32)
}

impl TopologySpec {
    /// The topology with node names resolved by `id`.
    pub fn resolve(&self, id: &dyn Fn(&str) -> NodeId) -> Topology {
        Topology {
            regions: self
                .regions
                .iter()
                .map(|(name, nodes)| Region {
                    name: name.clone(),
                    nodes: nodes.iter().map(|n| id(n)).collect(),
                })
                .collect(),
            within: self.within.clone(),
            between: self
                .between
                .iter()
                .map(|(from, to, latency)| RegionPair {
                    from: from.clone(),
                    to: to.clone(),
                    latency: latency.clone(),
                })
                .collect(),
            default: self.default.clone(),
            zones: self
                .zones
                .iter()
                .map(|(name, nodes)| Region {
                    name: name.clone(),
                    nodes: nodes.iter().map(|n| id(n)).collect(),
                })
                .collect(),
            within_zone: self.within_zone.clone(),
            clients: self.clients.clone(),
        }
    }

    /// The region names, in order.
    pub fn region_names(&self) -> Vec<String> {
        self.regions.iter().map(|(r, _)| r.clone()).collect()
    }
}

/// A new region's name, as a key of `regions:`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct RegionName(String);

impl<'de> Deserialize<'de> for RegionName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        str_then(d, "a region name", |name| {
            check_region_name(name)?;
            Ok(RegionName(name.to_string()))
        })
    }
}

/// A zone's name, as a key of `zones:`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ZoneName(String);

impl<'de> Deserialize<'de> for ZoneName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        str_then(d, "a zone name", |name| {
            check_region_name(name).map_err(|e| e.replacen("region", "zone", 1))?;
            Ok(ZoneName(name.to_string()))
        })
    }
}

/// A region of the scenario's topology, by name; checked on the second pass.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RegionRef(pub String);

impl<'de> Deserialize<'de> for RegionRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        str_then(d, "a region name", |name| {
            let verdict = inspect(|c| {
                if c.regions.is_empty() {
                    return Err(format!(
                        "unknown region `{name}`: the scenario has no `topology:` with regions"
                    ));
                }
                if c.regions.iter().any(|r| r == name) {
                    return Ok(());
                }
                let known: Vec<&str> = c.regions.iter().map(String::as_str).collect();
                Err(unknown_region(name, &known))
            });
            verdict.unwrap_or(Ok(()))?;
            Ok(RegionRef(name.to_string()))
        })
    }
}

/// A mapping read in its written order, each key once.
struct Ordered<K, V>(Vec<(K, V)>);

impl<'de, K, V> Deserialize<'de> for Ordered<K, V>
where
    K: Deserialize<'de> + Ord + Clone + fmt::Debug + Named,
    V: Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(OrderedVisitor(PhantomData))
    }
}

/// How a key is named in messages: `region `us-east``.
trait Named {
    fn name(&self) -> &str;
    fn what() -> &'static str {
        "region"
    }
}

impl Named for RegionName {
    fn name(&self) -> &str {
        &self.0
    }
}

impl Named for RegionRef {
    fn name(&self) -> &str {
        &self.0
    }
}

impl Named for ZoneName {
    fn name(&self) -> &str {
        &self.0
    }
    fn what() -> &'static str {
        "zone"
    }
}

struct OrderedVisitor<K, V>(PhantomData<(K, V)>);

impl<'de, K, V> Visitor<'de> for OrderedVisitor<K, V>
where
    K: Deserialize<'de> + Ord + Clone + fmt::Debug + Named,
    V: Deserialize<'de>,
{
    type Value = Ordered<K, V>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping from names, such as { us-east: ..., eu-west: ... }")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        while let Some(key) = map.next_key::<K>()? {
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(format!(
                    "{} `{}` is listed twice",
                    K::what(),
                    key.name()
                )));
            }
            if out.len() >= crate::net::REGIONS_MAX {
                return Err(de::Error::custom(format!(
                    "more than {} {}s",
                    crate::net::REGIONS_MAX,
                    K::what()
                )));
            }
            out.push((key, map.next_value::<V>()?));
        }
        Ok(Ordered(out))
    }
}
