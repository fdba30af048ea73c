//! `workload:` — simulated clients: how many, how fast, which operations, over which keys.
//!
//! ```yaml
//! workload: { model: cas-register, clients: 3, rate: 200/s,
//!             mix: { read: 0.5, write: 0.3, cas: 0.2 }, keys: 5, timeout: 1s }
//! workload: { model: list-append, keys: 8, micro_ops_min: 1, micro_ops_max: 4,
//!             mix: { read: 0.5, append: 0.5 }, isolation: serializable }
//! ```

use super::context::{inspect, one_of};
use crate::net::Latency;
use crate::serde_util::{map_then, str_then};
use crate::time::{SimDuration, SimTime};
use crate::workload::{Func, Isolation, Model, RATE_PER_S_MAX, WorkloadConfig};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use std::fmt;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkloadFields {
    model: ModelRef,
    clients: Option<u32>,
    rate: Option<Rate>,
    mix: Option<Mix>,
    keys: Option<u32>,
    values: Option<u32>,
    timeout: Option<SimDuration>,
    until: Option<SimDuration>,
    final_reads: Option<SimDuration>,
    latency: Option<Latency>,
    micro_ops_min: Option<u32>,
    micro_ops_max: Option<u32>,
    isolation: Option<IsolationRef>,
}

/// `workload:` as validated.
#[derive(Debug, Clone)]
pub struct WorkloadSpec(pub WorkloadConfig);

impl<'de> Deserialize<'de> for WorkloadSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        map_then(
            d,
            "a workload such as { model: register, clients: 3, rate: 100/s }",
            build,
        )
    }
}

fn build(f: WorkloadFields) -> Result<WorkloadSpec, String> {
    let mut c = WorkloadConfig::new(f.model.0);
    if let Some(mix) = f.mix {
        if let Some((func, _)) = mix
            .0
            .iter()
            .find(|(func, _)| !c.model.functions().contains(func))
        {
            return Err(format!(
                "the mix names `{}`, which the {} model does not have; it has {}",
                func.name(),
                c.model,
                functions(c.model)
            ));
        }
        c.mix = mix.0;
    }
    c.clients = f.clients.unwrap_or(c.clients);
    c.rate_per_s = f.rate.map_or(c.rate_per_s, |r| r.0);
    c.keys = f.keys.unwrap_or(c.keys);
    c.values = f.values.unwrap_or(c.values);
    c.timeout = f.timeout.unwrap_or(c.timeout);
    c.final_reads = f.final_reads.map(|t| SimTime(t.0));
    c.until = match (f.until, c.final_reads) {
        (Some(u), _) => SimTime(u.0),
        // Final reads end the workload: nothing else is invoked from then on.
        (None, Some(at)) => at,
        (None, None) => SimTime::MAX,
    };
    if let Some(end) = super::context::inspect(|c| c.duration_ns)
        && c.final_reads.is_some_and(|at| at.0 >= end)
    {
        return Err(format!(
            "final_reads must come before the run ends (duration {})",
            SimDuration(end)
        ));
    }
    c.latency = f.latency.unwrap_or(c.latency);
    c.micro_ops_min = f.micro_ops_min.unwrap_or(c.micro_ops_min);
    c.micro_ops_max = f.micro_ops_max.unwrap_or(c.micro_ops_max);
    c.isolation = f.isolation.map(|i| i.0);
    c.validate()?;
    Ok(WorkloadSpec(c))
}

fn functions(model: Model) -> String {
    let names: Vec<&str> = model.functions().iter().map(|f| f.name()).collect();
    one_of(&names)
}

/// A model the scenario's protocol serves (checked on the second pass).
struct ModelRef(Model);

impl<'de> Deserialize<'de> for ModelRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        str_then(d, "a workload model such as cas-register", |name| {
            let names: Vec<&str> = Model::ALL.iter().map(|m| m.name()).collect();
            let model = Model::from_name(name)
                .ok_or_else(|| format!("unknown model `{name}`; expected {}", one_of(&names)))?;
            let served = inspect(|c| c.workloads.clone()).unwrap_or_else(|| vec![model]);
            if !served.contains(&model) {
                let protocol = inspect(|c| c.protocol.clone()).unwrap_or_default();
                let served: Vec<&str> = served.iter().map(|m| m.name()).collect();
                return Err(format!(
                    "protocol `{protocol}` does not serve the {model} workload; it serves {}",
                    if served.is_empty() {
                        "no client workload".to_string()
                    } else {
                        one_of(&served)
                    }
                ));
            }
            Ok(ModelRef(model))
        })
    }
}

/// `isolation: serializable`: a level the isolation checker knows.
struct IsolationRef(Isolation);

impl<'de> Deserialize<'de> for IsolationRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        str_then(d, "an isolation level such as serializable", |name| {
            let names: Vec<&str> = Isolation::ALL.iter().map(|i| i.name()).collect();
            Isolation::from_name(name).map(IsolationRef).ok_or_else(|| {
                format!(
                    "unknown isolation level `{name}`; expected {}",
                    one_of(&names)
                )
            })
        })
    }
}

/// `rate: 200/s`, `rate: 200` (per second) or `rate: 5/ms`.
struct Rate(f64);

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RateVisitor)
    }
}

struct RateVisitor;

impl RateVisitor {
    fn check<E: de::Error>(per_s: f64) -> Result<Rate, E> {
        if per_s.is_finite() && per_s > 0.0 && per_s <= RATE_PER_S_MAX {
            Ok(Rate(per_s))
        } else {
            Err(E::custom(format!(
                "rate {per_s}/s must be above 0 and at most {RATE_PER_S_MAX}/s"
            )))
        }
    }
}

impl<'de> Visitor<'de> for RateVisitor {
    type Value = Rate;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a rate such as 200/s (operations per second over all clients)")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Rate, E> {
        Self::check(v as f64)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Rate, E> {
        Self::check(v as f64)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Rate, E> {
        Self::check(v)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Rate, E> {
        let bad = || E::custom(format!("bad rate `{v}`; write e.g. 200/s, 12.5/s or 3/ms"));
        let (count, unit) = v.split_once('/').ok_or_else(bad)?;
        let count: f64 = count.trim().parse().map_err(|_| bad())?;
        let per = crate::time::parse_duration(&format!("1{}", unit.trim())).map_err(|_| bad())?;
        Self::check(count * 1e9 / per.0 as f64)
    }
}

/// `mix: { read: 0.5, write: 0.3, cas: 0.2 }`: relative weights, at least one above 0.
struct Mix(Vec<(Func, f64)>);

impl<'de> Deserialize<'de> for Mix {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(MixVisitor)
    }
}

struct MixVisitor;

impl<'de> Visitor<'de> for MixVisitor {
    type Value = Mix;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mix of functions and weights such as { read: 0.5, write: 0.5 }")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Mix, A::Error> {
        let mut mix: Vec<(Func, f64)> = Vec::new();
        while let Some(name) = map.next_key::<String>()? {
            let names: Vec<&str> = Func::ALL.iter().map(|f| f.name()).collect();
            let func = Func::from_name(&name).ok_or_else(|| {
                de::Error::custom(format!(
                    "unknown function `{name}`; expected {}",
                    one_of(&names)
                ))
            })?;
            if mix.iter().any(|(f, _)| *f == func) {
                return Err(de::Error::custom(format!(
                    "`{name}` appears twice in the mix"
                )));
            }
            let weight: f64 = map.next_value()?;
            if !(weight.is_finite() && weight >= 0.0) {
                return Err(de::Error::custom(format!(
                    "weight {weight} of `{name}` must be a number of at least 0"
                )));
            }
            mix.push((func, weight));
        }
        if !mix.iter().any(|(_, w)| *w > 0.0) {
            return Err(de::Error::custom(
                "the mix needs at least one function with a weight above 0",
            ));
        }
        Ok(Mix(mix))
    }
}
