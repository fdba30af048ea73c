//! The geography of a network: regions naming the nodes in each, a one-way latency for every
//! ordered pair of regions, and where the workload's clients sit.
//!
//! A run keeps a region index per node and an R × R table of latencies ([`RegionTable`]), so
//! routing a message costs two array reads whatever the node count, and a topology of a
//! thousand nodes in three regions holds nine latencies, not a million link rules. Explicit
//! per-link overrides ([`super::NetworkConfig::links`]) still win on their own links: an
//! override's latency replaces its regions' latency there.
//!
//! A latency between two regions `a` and `b` comes from, in this order: a pair listed as
//! `a → b`; a pair listed as `b → a` (pairs are symmetric unless both ways are listed); for
//! `a` itself, `within`; then `default`. A pair with none of these is an error, as is a node
//! in no region or in two (see [`Topology::validate`], which the builder and the scenario
//! parser both call). Zones, optional, group nodes inside a region: two nodes of one zone take
//! `within_zone` instead.
//!
//! Region-wide faults ([`RegionFault`]) are expanded into the plain faults they stand for
//! ([`Topology::expand`]) before a run, so the fault schedule stays a list of node faults that
//! replays, shrinks and is written out like any other.
//!
//! ```
//! use faultline::net::{Region, RegionPair, Topology};
//! use faultline::{Latency, NodeId, SimDuration};
//!
//! let ms = SimDuration::from_millis;
//! let topology = Topology {
//!     regions: vec![
//!         Region { name: "us-east".into(), nodes: vec![NodeId(0), NodeId(1)] },
//!         Region { name: "eu-west".into(), nodes: vec![NodeId(2)] },
//!     ],
//!     within: Some(Latency::Uniform(ms(1), ms(2))),
//!     between: vec![RegionPair {
//!         from: "us-east".into(),
//!         to: "eu-west".into(),
//!         latency: Latency::Uniform(ms(35), ms(45)),
//!     }],
//!     clients: vec![("eu-west".into(), 2)],
//!     ..Topology::default()
//! };
//! let names: Vec<String> = ["n1", "n2", "n3"].map(String::from).to_vec();
//! assert!(topology.validate(&names).is_ok());
//! assert_eq!(topology.client_count(), 2);
//! // Without n3 in a region, the topology is refused.
//! let mut short = topology.clone();
//! short.regions.pop();
//! short.between.clear();
//! assert_eq!(
//!     short.validate(&names).unwrap_err(),
//!     "node `n3` is in no region; list it under one of `us-east`"
//! );
//! ```

use super::Latency;
use crate::faults::Fault;
use crate::ids::NodeId;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

/// Most regions in one topology (the table holds the square of it), and most zones.
pub const REGIONS_MAX: usize = 256;
/// Longest region name accepted.
const REGION_NAME_LEN_MAX: usize = 64;

/// A named region and the nodes in it.
#[derive(Clone, Debug, PartialEq)]
pub struct Region {
    pub name: String,
    pub nodes: Vec<NodeId>,
}

/// The one-way latency from region `from` to region `to`; also from `to` to `from` unless
/// that direction is listed too.
#[derive(Clone, Debug, PartialEq)]
pub struct RegionPair {
    pub from: String,
    pub to: String,
    pub latency: Latency,
}

/// Regions, the latencies between them, and where clients sit. See the module docs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Topology {
    pub regions: Vec<Region>,
    /// The latency inside each region that no pair `[r, r]` gives its own.
    pub within: Option<Latency>,
    pub between: Vec<RegionPair>,
    /// The latency of any pair of regions not otherwise given.
    pub default: Option<Latency>,
    /// Zones inside regions: each names nodes of one region, a node is in one zone at most,
    /// and nodes in no zone are allowed.
    pub zones: Vec<Region>,
    /// The latency between two nodes of one zone; given exactly when there are zones.
    pub within_zone: Option<Latency>,
    /// How many of the workload's clients sit in each region, in client order: the first
    /// entry's clients are numbered first. Empty: clients sit nowhere in particular and use
    /// the workload's own client-link latency.
    pub clients: Vec<(String, u32)>,
}

/// A fault on a whole region, by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegionFault {
    /// Cut the region off from every other node, both ways (a partition into the region and
    /// the rest; it replaces an earlier partition).
    Partition(String),
    /// Crash every node of the region.
    Crash(String),
    /// Restart every node of the region.
    Restart(String),
}

impl RegionFault {
    /// The region it names.
    pub fn region(&self) -> &str {
        match self {
            RegionFault::Partition(r) | RegionFault::Crash(r) | RegionFault::Restart(r) => r,
        }
    }

    /// The key it has in a scenario's `faults:`.
    pub fn name(&self) -> &'static str {
        match self {
            RegionFault::Partition(_) => "partition_region",
            RegionFault::Crash(_) => "crash_region",
            RegionFault::Restart(_) => "restart_region",
        }
    }
}

/// A run's view of a topology: each node's region and the latency of every ordered pair.
#[derive(Clone, Debug)]
pub(crate) struct RegionTable {
    region_of: Vec<u32>,
    count: usize,
    /// Row `from`, column `to`.
    latency: Vec<Latency>,
    /// Each node's zone ([`NO_ZONE`] for none), and the latency inside a zone, when the
    /// topology has zones.
    zones: Option<(Vec<u32>, Latency)>,
}

/// The zone of a node that is in none.
const NO_ZONE: u32 = u32::MAX;

impl RegionTable {
    /// The latency of a message from node `from` to node `to`.
    #[inline]
    pub(crate) fn between_nodes(&self, from: NodeId, to: NodeId) -> &Latency {
        if let Some((zone_of, within_zone)) = &self.zones {
            let zone = zone_of[from.index()];
            if zone != NO_ZONE && zone == zone_of[to.index()] {
                return within_zone;
            }
        }
        let (a, b) = (self.region_of[from.index()], self.region_of[to.index()]);
        self.between(a, b)
    }

    /// The latency from region index `a` to region index `b`.
    #[inline]
    pub(crate) fn between(&self, a: u32, b: u32) -> &Latency {
        &self.latency[a as usize * self.count + b as usize]
    }

    #[inline]
    pub(crate) fn region_of(&self, node: NodeId) -> u32 {
        self.region_of[node.index()]
    }
}

/// Why a name is not a region of the topology; the parser says it in the same words.
pub(crate) fn unknown_region(name: &str, known: &[&str]) -> String {
    format!(
        "unknown region `{name}`; expected {}",
        crate::scenario::one_of_names(known)
    )
}

/// Whether `name` may name a region: as a node name may.
pub(crate) fn check_region_name(name: &str) -> Result<(), String> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    if name.is_empty() || name.len() > REGION_NAME_LEN_MAX || !name.chars().all(ok_char) {
        return Err(format!(
            "bad region name `{name}`: use 1 to {REGION_NAME_LEN_MAX} letters, digits, `_`, `-` or `.`"
        ));
    }
    Ok(())
}

impl Topology {
    /// Checks the topology against the nodes `names` (by index): at least one region and at
    /// most [`REGIONS_MAX`], valid and distinct region names, every region with a node, every
    /// node in exactly one region, pairs naming known regions and listed once each way, a
    /// latency for every ordered pair of regions, every latency valid, clients in known
    /// regions, each listed once, with at least one client each and at most
    /// [`crate::workload::CLIENTS_MAX`] in all; zones (at most [`REGIONS_MAX`]) named as
    /// regions are, each with nodes of one region only, a node in one zone at most, and a
    /// `within_zone` latency exactly when there are zones.
    pub fn validate(&self, names: &[String]) -> Result<(), String> {
        self.table(names).map(|_| ())
    }

    /// The region index of every region name.
    fn indexes(&self) -> Result<BTreeMap<&str, u32>, String> {
        if self.regions.is_empty() {
            return Err("a topology needs at least one region".into());
        }
        if self.regions.len() > REGIONS_MAX {
            return Err(format!("more than {REGIONS_MAX} regions"));
        }
        let mut index = BTreeMap::new();
        for (i, r) in self.regions.iter().enumerate() {
            check_region_name(&r.name)?;
            if index.insert(r.name.as_str(), i as u32).is_some() {
                return Err(format!("region `{}` is listed twice", r.name));
            }
            if r.nodes.is_empty() {
                return Err(format!("region `{}` has no node", r.name));
            }
        }
        Ok(index)
    }

    /// Each node's region index, checking every node is in exactly one.
    fn region_of(&self, names: &[String]) -> Result<Vec<u32>, String> {
        const NONE: u32 = u32::MAX;
        let count = names.len() as u32;
        let name = |n: NodeId| crate::faults::node_name(names, n);
        let mut region_of = vec![NONE; names.len()];
        for (i, r) in self.regions.iter().enumerate() {
            for &node in &r.nodes {
                if node.0 >= count {
                    return Err(crate::faults::node_out_of_range(node, count));
                }
                match region_of[node.index()] {
                    NONE => region_of[node.index()] = i as u32,
                    j => {
                        return Err(format!(
                            "node `{}` is in two regions, `{}` and `{}`; a node sits in one region",
                            name(node),
                            self.regions[j as usize].name,
                            r.name
                        ));
                    }
                }
            }
        }
        if let Some(i) = region_of.iter().position(|&r| r == NONE) {
            return Err(format!(
                "node `{}` is in no region; list it under one of {}",
                name(NodeId(i as u32)),
                self.region_list()
            ));
        }
        Ok(region_of)
    }

    fn region_list(&self) -> String {
        let known: Vec<&str> = self.regions.iter().map(|r| r.name.as_str()).collect();
        crate::scenario::one_of_names(&known)
    }

    /// The table a run routes with, or what is wrong (see [`Topology::validate`]).
    pub(crate) fn table(&self, names: &[String]) -> Result<RegionTable, String> {
        let index = self.indexes()?;
        let region_of = self.region_of(names)?;
        let known: Vec<&str> = self.regions.iter().map(|r| r.name.as_str()).collect();
        let find = |name: &str| {
            index
                .get(name)
                .copied()
                .ok_or_else(|| unknown_region(name, &known))
        };
        let mut listed: BTreeMap<(u32, u32), &Latency> = BTreeMap::new();
        for p in &self.between {
            let (a, b) = (find(&p.from)?, find(&p.to)?);
            p.latency
                .validate()
                .map_err(|e| format!("latency from `{}` to `{}`: {e}", p.from, p.to))?;
            if listed.insert((a, b), &p.latency).is_some() {
                return Err(format!(
                    "the latency from `{}` to `{}` is given twice",
                    p.from, p.to
                ));
            }
        }
        let words = [
            ("within", &self.within),
            ("default", &self.default),
            ("within_zone", &self.within_zone),
        ];
        for (word, l) in words {
            if let Some(l) = l {
                l.validate().map_err(|e| format!("{word}: {e}"))?;
            }
        }
        let count = self.regions.len();
        let mut latency = Vec::with_capacity(count * count);
        for a in 0..count as u32 {
            for b in 0..count as u32 {
                latency.push(self.pick(&listed, a, b)?.clone());
            }
        }
        self.check_clients(&index, &known)?;
        let zones = self.zone_of(&region_of, names)?;
        Ok(RegionTable {
            region_of,
            count,
            latency,
            zones,
        })
    }

    /// Each node's zone and the latency inside a zone, checking that a zone has nodes of one
    /// region only and a node is in one zone at most; `None` without zones.
    fn zone_of(
        &self,
        region_of: &[u32],
        names: &[String],
    ) -> Result<Option<(Vec<u32>, Latency)>, String> {
        let within_zone = match (&self.within_zone, self.zones.is_empty()) {
            (None, true) => return Ok(None),
            (Some(l), false) => l,
            (None, false) => return Err("zones need a `within_zone` latency".into()),
            (Some(_), true) => return Err("`within_zone` needs `zones`".into()),
        };
        if self.zones.len() > REGIONS_MAX {
            return Err(format!("more than {REGIONS_MAX} zones"));
        }
        let name = |n: NodeId| crate::faults::node_name(names, n);
        let mut zone_of = vec![NO_ZONE; names.len()];
        let mut seen = BTreeSet::new();
        for (i, zone) in self.zones.iter().enumerate() {
            check_region_name(&zone.name).map_err(|e| e.replacen("region", "zone", 1))?;
            if !seen.insert(zone.name.as_str()) {
                return Err(format!("zone `{}` is listed twice", zone.name));
            }
            let Some(&first) = zone.nodes.first() else {
                return Err(format!("zone `{}` has no node", zone.name));
            };
            for &node in &zone.nodes {
                let count = names.len() as u32;
                if node.0 >= count {
                    return Err(crate::faults::node_out_of_range(node, count));
                }
                let (r, r_first) = (region_of[node.index()], region_of[first.index()]);
                if r != r_first {
                    return Err(format!(
                        "zone `{}` spans two regions: `{}` is in `{}`, `{}` in `{}`; a zone lies \
                         inside one region",
                        zone.name,
                        name(first),
                        self.regions[r_first as usize].name,
                        name(node),
                        self.regions[r as usize].name
                    ));
                }
                if zone_of[node.index()] != NO_ZONE {
                    return Err(format!("node `{}` is in two zones", name(node)));
                }
                zone_of[node.index()] = i as u32;
            }
        }
        Ok(Some((zone_of, within_zone.clone())))
    }

    /// The latency from region `a` to region `b` (see the module docs for the order).
    fn pick<'a>(
        &'a self,
        listed: &BTreeMap<(u32, u32), &'a Latency>,
        a: u32,
        b: u32,
    ) -> Result<&'a Latency, String> {
        let found = listed.get(&(a, b)).or_else(|| listed.get(&(b, a))).copied();
        let found = found.or(if a == b { self.within.as_ref() } else { None });
        match found.or(self.default.as_ref()) {
            Some(l) => Ok(l),
            None if a == b => Err(format!(
                "no latency within region `{}`: give `within` or a `default`",
                self.regions[a as usize].name
            )),
            None => Err(format!(
                "no latency between regions `{}` and `{}`: list the pair or give a `default`",
                self.regions[a as usize].name, self.regions[b as usize].name
            )),
        }
    }

    fn check_clients(&self, index: &BTreeMap<&str, u32>, known: &[&str]) -> Result<(), String> {
        let mut seen = BTreeSet::new();
        let mut total: u64 = 0;
        for (region, n) in &self.clients {
            if !index.contains_key(region.as_str()) {
                return Err(format!("clients: {}", unknown_region(region, known)));
            }
            if !seen.insert(region.as_str()) {
                return Err(format!("clients: region `{region}` is listed twice"));
            }
            if *n == 0 {
                return Err(format!(
                    "clients: region `{region}` has 0 clients; leave it out instead"
                ));
            }
            total += u64::from(*n);
        }
        let most = crate::workload::CLIENTS_MAX;
        if total > u64::from(most) {
            return Err(format!("clients: {total} clients in all, more than {most}"));
        }
        Ok(())
    }

    /// How many clients `clients` places in all.
    pub fn client_count(&self) -> u32 {
        self.clients.iter().map(|(_, n)| *n).sum()
    }

    /// Checks the clients against the run's workload: placed clients need a workload with
    /// exactly that many clients. The builder and the parser both call it.
    pub fn check_workload(&self, workload_clients: Option<u32>) -> Result<(), String> {
        if self.clients.is_empty() {
            return Ok(());
        }
        let placed = self.client_count();
        match workload_clients {
            None => Err(format!(
                "clients: the topology places {placed} clients but the run has no workload"
            )),
            Some(n) if n != placed => Err(format!(
                "clients: the topology places {placed} clients but the workload has {n} \
                 (`workload.clients`, 3 when not given); make them agree"
            )),
            Some(_) => Ok(()),
        }
    }

    /// Each client region with the numbers of its clients, in client order.
    pub fn client_regions(&self) -> Vec<(String, Range<u32>)> {
        let mut first = 0;
        let mut out = Vec::with_capacity(self.clients.len());
        for (region, n) in &self.clients {
            out.push((region.clone(), first..first + n));
            first += n;
        }
        out
    }

    /// The nodes of region `name`, if it is one.
    pub fn region_nodes(&self, name: &str) -> Option<&[NodeId]> {
        let region = self.regions.iter().find(|r| r.name == name)?;
        Some(&region.nodes)
    }

    /// The plain faults a region fault stands for, in the order they apply: one partition of
    /// the region against the rest, or a crash or a restart of each of its nodes in region
    /// order.
    pub fn expand(&self, fault: &RegionFault) -> Result<Vec<Fault>, String> {
        let nodes = self.region_nodes(fault.region()).ok_or_else(|| {
            let known: Vec<&str> = self.regions.iter().map(|r| r.name.as_str()).collect();
            unknown_region(fault.region(), &known)
        })?;
        Ok(match fault {
            RegionFault::Partition(_) => vec![Fault::Partition(vec![nodes.to_vec()])],
            RegionFault::Crash(_) => nodes.iter().map(|&n| Fault::Crash(n)).collect(),
            RegionFault::Restart(_) => nodes.iter().map(|&n| Fault::Restart(n)).collect(),
        })
    }

    /// Keeps only the first `count` clients of `clients` (in client order), dropping the
    /// regions left with none: how a shrinker halves a placed workload.
    pub fn keep_clients(&mut self, count: u32) {
        let mut left = count;
        for (_, n) in &mut self.clients {
            *n = (*n).min(left);
            left -= *n;
        }
        self.clients.retain(|(_, n)| *n > 0);
    }

    /// Takes `node` out of its region, unless that would leave the region empty: whether it
    /// did. How a shrinker removes a node.
    pub fn remove_node(&mut self, node: NodeId) -> bool {
        let Some(region) = self.regions.iter_mut().find(|r| r.nodes.contains(&node)) else {
            return false;
        };
        if region.nodes.len() < 2 {
            return false;
        }
        region.nodes.retain(|&n| n != node);
        true
    }

    /// Where each client sits: its region index and the node it talks to first, the
    /// clients of a region spread over the region's nodes in turn.
    pub(crate) fn placement(&self) -> Vec<(u32, NodeId)> {
        let mut out = Vec::with_capacity(self.client_count() as usize);
        for (region, n) in &self.clients {
            let Some(i) = self.regions.iter().position(|r| &r.name == region) else {
                continue;
            };
            let nodes = &self.regions[i].nodes;
            out.extend((0..*n as usize).map(|k| (i as u32, nodes[k % nodes.len()])));
        }
        out
    }
}

#[cfg(test)]
#[path = "topology_tests.rs"]
mod tests;
